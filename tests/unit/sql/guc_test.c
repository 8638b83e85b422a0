/*
 * guc_test.c -- sql/guc.c: the settings table stays in the order its binary-search
 * lookup needs, every setting is found by its name in any letter case, unknown names
 * fail with 42704, time settings parse with PostgreSQL's units, and SETs after a
 * savepoint are undone by guc_rollback_to.
 */
#include <ctype.h>
#include <string.h>

#include "sql/guc.h"
#include "tests/unit/test.h"

TEST(table_is_sorted_for_binary_search)
{
    TEST_CHECK(guc_table_sorted());
}

TEST(every_setting_found_in_any_case)
{
    guc_set_t *g = guc_new("alice");
    TEST_REQUIRE(g);
    for (int i = 0; i < guc_count(); i++) {
        const char *name, *value, *desc;
        bool report;
        guc_at(g, i, &name, &value, &desc, &report);
        char upper[128];
        size_t n = strlen(name);
        TEST_REQUIRE(n < sizeof upper);
        for (size_t k = 0; k <= n; k++)
            upper[k] = (char)toupper((unsigned char)name[k]);
        const char *v1 = NULL, *v2 = NULL, *canon = NULL;
        sql_error_t err = {0};
        TEST_CHECK(guc_get(g, name, false, &v1, &canon, &err) == 0);
        TEST_CHECK(guc_get(g, upper, false, &v2, NULL, &err) == 0);
        TEST_CHECK(v1 == v2 && canon && strcmp(canon, name) == 0);
    }
    guc_free(g);
}

TEST(unknown_setting_is_42704)
{
    guc_set_t *g = guc_new("alice");
    TEST_REQUIRE(g);
    const char *v = "x";
    sql_error_t err = {0};
    TEST_CHECK(guc_get(g, "no_such_setting", false, &v, NULL, &err) < 0);
    TEST_CHECK(strcmp(err.sqlstate, "42704") == 0);
    sql_error_t err2 = {0};
    TEST_CHECK(guc_get(g, "aaa_before_everything", true, &v, NULL, &err2) == 0 && v == NULL);
    TEST_CHECK(guc_get(g, "zzz_after_everything", true, &v, NULL, &err2) == 0 && v == NULL);
    guc_free(g);
}

TEST(time_settings)
{
    guc_set_t *g = guc_new("alice");
    TEST_REQUIRE(g);
    TEST_CHECK(guc_timeout_ms(g, "deadlock_timeout") == 1000);
    TEST_CHECK(guc_timeout_ms(g, "lock_timeout") == 0);
    TEST_CHECK(guc_timeout_ms(g, "statement_timeout") == 0);
    guc_free(g);
}

static const char *val(guc_set_t *g, const char *name)
{
    const char *v = NULL;
    sql_error_t e = {0};
    guc_get(g, name, false, &v, NULL, &e);
    return v ? v : "(null)";
}

static void set(guc_set_t *g, const char *name, const char *v, bool is_local)
{
    bool report;
    sql_error_t e = {0};
    guc_txn_begin(g);
    TEST_CHECK(guc_set(g, name, v, is_local, &report, NULL, &e) == 0);
}

/* SETs after a savepoint are undone by guc_rollback_to; what COMMIT keeps follows. */
TEST(savepoint_levels)
{
    guc_set_t *g = guc_new("alice");
    TEST_REQUIRE(g);
    set(g, "lock_timeout", "1s", false);           /* level 0 */
    guc_set_level(g, 1);
    set(g, "lock_timeout", "2s", false);
    set(g, "statement_timeout", "5s", false);
    guc_set_level(g, 2);
    set(g, "lock_timeout", "3s", true);            /* SET LOCAL */
    TEST_CHECK(strcmp(val(g, "lock_timeout"), "3s") == 0);
    guc_rollback_to(g, 2);
    TEST_CHECK(strcmp(val(g, "lock_timeout"), "2s") == 0);
    guc_rollback_to(g, 1);
    TEST_CHECK(strcmp(val(g, "lock_timeout"), "1s") == 0);
    TEST_CHECK(strcmp(val(g, "statement_timeout"), "0") == 0);
    set(g, "statement_timeout", "7s", false);      /* still level 1 */
    guc_txn_end(g, true);
    TEST_CHECK(strcmp(val(g, "lock_timeout"), "1s") == 0);       /* the plain SET before it */
    TEST_CHECK(strcmp(val(g, "statement_timeout"), "7s") == 0);
    /* ROLLBACK undoes everything, savepoints or not */
    set(g, "lock_timeout", "9s", false);
    guc_set_level(g, 1);
    set(g, "lock_timeout", "10s", false);
    guc_txn_end(g, false);
    TEST_CHECK(strcmp(val(g, "lock_timeout"), "1s") == 0);
    guc_free(g);
}

TEST_MAIN()
