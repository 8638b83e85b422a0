/*
 * json_test.c -- the strict JSON parser (values, escapes, surrogates, errors, depth
 * limit) and the escaping writer.
 */
#include <string.h>

#include "core/limits.h"
#include "net/json.h"
#include "tests/unit/test.h"

static json_value_t *parse(arena_t *a, const char *s, json_error_t *err)
{
    json_value_t *v = NULL;
    if (json_parse(s, strlen(s), a, &v, err) < 0)
        return NULL;
    return v;
}

TEST(parse_query_body)
{
    arena_t a;
    arena_init(&a, 0);
    json_error_t err;
    json_value_t *v = parse(&a, " {\"sql\": \"select $1, $2\", \"params\": [1.50, \"x\", null, true, false, -0, 2e10]} ", &err);
    TEST_REQUIRE(v && v->type == JSON_OBJECT && v->count == 2);
    const json_value_t *sql = json_object_get(v, "sql");
    TEST_REQUIRE(sql && sql->type == JSON_STRING);
    TEST_CHECK(strcmp(sql->str, "select $1, $2") == 0 && sql->len == 13);
    const json_value_t *p = json_object_get(v, "params");
    TEST_REQUIRE(p && p->type == JSON_ARRAY && p->count == 7);
    TEST_CHECK(p->items[0].type == JSON_NUMBER && strcmp(p->items[0].str, "1.50") == 0 &&
               p->items[0].num == 1.5);
    TEST_CHECK(p->items[1].type == JSON_STRING && strcmp(p->items[1].str, "x") == 0);
    TEST_CHECK(p->items[2].type == JSON_NULL);
    TEST_CHECK(p->items[3].type == JSON_TRUE && p->items[4].type == JSON_FALSE);
    TEST_CHECK(strcmp(p->items[5].str, "-0") == 0);
    TEST_CHECK(p->items[6].num == 2e10);
    TEST_CHECK(json_object_get(v, "nope") == NULL);
    TEST_CHECK(json_object_get(sql, "sql") == NULL);
    v = parse(&a, "[]", &err);
    TEST_CHECK(v && v->type == JSON_ARRAY && v->count == 0);
    v = parse(&a, "{}", &err);
    TEST_CHECK(v && v->type == JSON_OBJECT && v->count == 0);
    /* many elements force the array to grow */
    v = parse(&a, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]", &err);
    TEST_CHECK(v && v->count == 17 && v->items[16].num == 17);
    arena_destroy(&a);
}

TEST(escapes_and_surrogates)
{
    arena_t a;
    arena_init(&a, 0);
    json_error_t err;
    json_value_t *v = parse(&a, "\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u00e9\\u20AC\\ud83d\\ude00\"", &err);
    TEST_REQUIRE(v && v->type == JSON_STRING);
    const char want[] = "a\"b\\c/d\n\t\r\b\f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    TEST_CHECK(v->len == sizeof want - 1 && memcmp(v->str, want, v->len) == 0);
    v = parse(&a, "\"x\\u0000y\"", &err);
    TEST_CHECK(v && v->len == 3 && v->str[1] == 0);
    v = parse(&a, "\"h\xc3\xa9llo\"", &err);
    TEST_CHECK(v && v->len == 6);
    arena_destroy(&a);
}

TEST(errors)
{
    arena_t a;
    arena_init(&a, 0);
    json_error_t err;
    const char *bad[] = {
        "", " ", "{", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{1:2}", "01", "1.", ".5",
        "-", "1e", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"",
        "\"\\ud800\\u0041\"", "\"\\udc00\"", "\"a\tb\"", "\"\xff\"", "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"", "1 2", "[1]]", "NaN", "'a'",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_value_t *v = parse(&a, bad[i], &err);
        TEST_CHECK(v == NULL);
        TEST_CHECK(err.kind == JSON_ERR_SYNTAX);
        if (v) fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    json_value_t *v = parse(&a, "[1, x]", &err);
    TEST_CHECK(!v && err.offset == 4 && err.message[0]);
    arena_destroy(&a);
}

TEST(depth_limit)
{
    arena_t a;
    arena_init(&a, 0);
    json_error_t err;
    char buf[2 * LIMIT_JSON_DEPTH + 8];
    int n = 0;
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++) buf[n++] = '[';
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++) buf[n++] = ']';
    buf[n] = 0;
    TEST_CHECK(parse(&a, buf, &err) != NULL);
    n = 0;
    for (int i = 0; i < LIMIT_JSON_DEPTH + 1; i++) buf[n++] = '[';
    for (int i = 0; i < LIMIT_JSON_DEPTH + 1; i++) buf[n++] = ']';
    buf[n] = 0;
    TEST_CHECK(parse(&a, buf, &err) == NULL && err.kind == JSON_ERR_DEPTH);
    arena_destroy(&a);
}

TEST(arena_budget)
{
    arena_t a;
    arena_init(&a, 256);
    json_error_t err;
    char big[4096];
    memset(big, 'a', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = 0;
    TEST_CHECK(parse(&a, big, &err) == NULL && err.kind == JSON_ERR_MEMORY);
    arena_destroy(&a);
}

TEST(write_string)
{
    strbuf_t sb;
    strbuf_init(&sb);
    json_write_string(&sb, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
    TEST_CHECK(strcmp(sb.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\"") == 0);
    strbuf_reset(&sb);
    json_write_string(&sb, "", 0);
    TEST_CHECK(strcmp(sb.data, "\"\"") == 0);
    /* round trip through the parser */
    strbuf_reset(&sb);
    json_write_string(&sb, "x\x1fy\"z", 5);
    arena_t a;
    arena_init(&a, 0);
    json_error_t err;
    json_value_t *v = parse(&a, sb.data, &err);
    TEST_CHECK(v && v->len == 5 && memcmp(v->str, "x\x1fy\"z", 5) == 0);
    arena_destroy(&a);
    strbuf_free(&sb);
}

TEST_MAIN()
