/*
 * test.h -- the unit-test registry and checks shared by every tests/unit binary.
 *
 * A test file defines test functions with TEST(name) and ends with TEST_MAIN(); the
 * binary runs them all (or those named on the command line) and prints
 * "N passed, N failed" as its last line; it exits 1 if any check failed.
 * TEST_CHECK records a failure with file:line and carries on; TEST_REQUIRE also
 * returns from the test.
 */
#ifndef NEXTDB_TEST_H
#define NEXTDB_TEST_H
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
typedef struct test_case { const char *name; test_fn fn; } test_case_t;

#define TEST_MAX 512
extern test_case_t test__cases[TEST_MAX];
extern int test__count;
extern int test__failed_checks;

#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    __attribute__((constructor)) static void test_register_##name(void)         \
    {                                                                           \
        if (test__count < TEST_MAX)                                             \
            test__cases[test__count++] = (test_case_t){#name, test_##name};     \
    }                                                                           \
    static void test_##name(void)

#define TEST_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            test__failed_checks++;                                              \
            fprintf(stderr, "  check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
        }                                                                       \
    } while (0)

#define TEST_REQUIRE(cond)                                                      \
    do {                                                                        \
        if (!(cond)) {                                                          \
            test__failed_checks++;                                              \
            fprintf(stderr, "  required check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            return;                                                             \
        }                                                                       \
    } while (0)

int test_run_all(int argc, char **argv);

#define TEST_MAIN()                                                             \
    test_case_t test__cases[TEST_MAX];                                          \
    int test__count;                                                            \
    int test__failed_checks;                                                    \
    int main(int argc, char **argv) { return test_run_all(argc, argv); }        \
    int test_run_all(int argc, char **argv)                                     \
    {                                                                           \
        int passed = 0, failed = 0;                                             \
        for (int i = 0; i < test__count; i++) {                                 \
            if (argc > 1) {                                                     \
                int want = 0;                                                   \
                for (int j = 1; j < argc; j++)                                  \
                    if (!strcmp(argv[j], test__cases[i].name)) want = 1;        \
                if (!want) continue;                                            \
            }                                                                   \
            int before = test__failed_checks;                                   \
            fprintf(stderr, "test %s\n", test__cases[i].name);                  \
            test__cases[i].fn();                                                \
            if (test__failed_checks == before) passed++; else {                 \
                failed++;                                                       \
                fprintf(stderr, "FAIL %s\n", test__cases[i].name);              \
            }                                                                   \
        }                                                                       \
        printf("%d passed, %d failed\n", passed, failed);                       \
        return failed ? 1 : 0;                                                  \
    }
#endif
