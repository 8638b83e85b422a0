/*
 * secindex_test.c -- sql/secindex: the index-key (IK) encoding. Equal SQL values must
 * encode to equal bytes (numeric display scales, interval spans), the order of the
 * bytes must be the order of the values for the ordered types, and NULL must sort
 * after every value with each column self-delimiting, so an equality is a prefix.
 */
#include <string.h>

#include "sql/secindex.h"
#include "sql/types.h"
#include "sql/types_json.h"
#include "tests/unit/test.h"

#define EXPECT_INT(a, b) TEST_CHECK((a) == (b))
#define EXPECT_STR(a, b) TEST_CHECK(strcmp((a), (b)) == 0)

static arena_t arena;

static datum_t in(type_oid_t t, const char *s)
{
    if (!arena.budget_bytes)
        arena_init(&arena, 16 << 20);
    datum_t d;
    sql_error_t err = {{0}};
    TEST_CHECK(type_in_text(t, -1, s, strlen(s), &arena, &d, &err) == 0);
    return d;
}

/* memcmp-style comparison of the IKs of one value each (NULL when s is NULL). */
static int cmp_ik(type_oid_t t, const char *a, const char *b)
{
    strbuf_t x, y;
    strbuf_init(&x);
    strbuf_init(&y);
    datum_t da = a ? in(t, a) : (datum_t){0}, db = b ? in(t, b) : (datum_t){0};
    bool na = !a, nb = !b;
    sql_error_t err = {{0}};
    TEST_CHECK(secidx_encode_ik(1, &t, &da, &na, &x, &err) == 0);
    TEST_CHECK(secidx_encode_ik(1, &t, &db, &nb, &y, &err) == 0);
    size_t n = x.len < y.len ? x.len : y.len;
    int c = memcmp(x.data, y.data, n);
    if (c == 0)
        c = x.len < y.len ? -1 : x.len > y.len ? 1 : 0;
    strbuf_free(&x);
    strbuf_free(&y);
    return c < 0 ? -1 : c > 0;
}

TEST(equal_values_encode_equal)
{
    EXPECT_INT(cmp_ik(TYPE_NUMERIC, "1.0", "1.00"), 0);
    EXPECT_INT(cmp_ik(TYPE_NUMERIC, "-2.50", "-2.5"), 0);
    TEST_CHECK(cmp_ik(TYPE_NUMERIC, "1", "1.01") != 0);
    EXPECT_INT(cmp_ik(TYPE_INTERVAL, "1 mon", "30 days"), 0);
    EXPECT_INT(cmp_ik(TYPE_INTERVAL, "1 day", "24 hours"), 0);
    TEST_CHECK(cmp_ik(TYPE_INTERVAL, "1 day", "25 hours") != 0);
    EXPECT_INT(cmp_ik(TYPE_FLOAT8, "0", "-0"), 0);
    EXPECT_INT(cmp_ik(TYPE_BPCHAR, "ab", "ab  "), 0);
}

TEST(order_follows_values)
{
    EXPECT_INT(cmp_ik(TYPE_INT4, "-5", "3"), -1);
    EXPECT_INT(cmp_ik(TYPE_INT8, "9000000000", "-1"), 1);
    EXPECT_INT(cmp_ik(TYPE_FLOAT8, "-Infinity", "-1.5"), -1);
    EXPECT_INT(cmp_ik(TYPE_FLOAT8, "NaN", "Infinity"), 1);
    EXPECT_INT(cmp_ik(TYPE_TEXT, "ab", "abc"), -1);
    EXPECT_INT(cmp_ik(TYPE_TEXT, "abc", "abd"), -1);
    EXPECT_INT(cmp_ik(TYPE_INTERVAL, "-1 day", "1 hour"), -1);
    EXPECT_INT(cmp_ik(TYPE_INTERVAL, "2 mons", "59 days"), 1);
    EXPECT_INT(cmp_ik(TYPE_DATE, "2024-01-02", "2023-12-31"), 1);
    TEST_CHECK(!secidx_type_ordered(TYPE_NUMERIC));
    TEST_CHECK(secidx_type_ordered(TYPE_TEXT));
}

TEST(null_sorts_last_and_columns_delimit)
{
    EXPECT_INT(cmp_ik(TYPE_INT4, NULL, "2147483647"), 1);
    EXPECT_INT(cmp_ik(TYPE_TEXT, NULL, "zzzz"), 1);
    EXPECT_INT(cmp_ik(TYPE_TEXT, NULL, NULL), 0);
    /* ("a", 2) and ("ab", 1): the first column decides, text does not run into the next */
    type_oid_t ts[2] = {TYPE_TEXT, TYPE_INT4};
    datum_t v1[2] = {in(TYPE_TEXT, "a"), in(TYPE_INT4, "2")}, v2[2] = {in(TYPE_TEXT, "ab"), in(TYPE_INT4, "1")};
    bool nn[2] = {false, false};
    strbuf_t x, y;
    strbuf_init(&x);
    strbuf_init(&y);
    sql_error_t err = {{0}};
    TEST_CHECK(secidx_encode_ik(2, ts, v1, nn, &x, &err) == 0);
    TEST_CHECK(secidx_encode_ik(2, ts, v2, nn, &y, &err) == 0);
    TEST_CHECK(memcmp(x.data, y.data, x.len < y.len ? x.len : y.len) < 0);
    /* the one-column IK of "a" is a prefix of the two-column one */
    strbuf_t p;
    strbuf_init(&p);
    TEST_CHECK(secidx_encode_ik(1, ts, v1, nn, &p, &err) == 0);
    TEST_CHECK(p.len < x.len && !memcmp(p.data, x.data, p.len));
    strbuf_free(&x);
    strbuf_free(&y);
    strbuf_free(&p);
}

TEST(column_types)
{
    sql_error_t err = {{0}};
    TEST_CHECK(secidx_column_type_ok(TYPE_INT4, &err) == 0);
    TEST_CHECK(secidx_column_type_ok(TYPE_JSON, &err) < 0);
    EXPECT_STR(err.sqlstate, "42704");
    sql_error_t e2 = {{0}};
    TEST_CHECK(secidx_column_type_ok(TYPE_JSONB, &e2) < 0);
    EXPECT_STR(e2.sqlstate, "0A000");
}

TEST_MAIN()
