/*
 * types_test.c -- sql/types: text forms, errors, casts, arithmetic, hashing and the
 * storage encodings. Every expected string and error below was checked against a
 * PostgreSQL 15 server (psql -Atc "select ...").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sql/types.h"
#include "tests/unit/test.h"

static arena_t arena;
static char out_buf[600];

static void setup(void)
{
    if (!arena.budget_bytes) arena_init(&arena, 64 << 20);
}

/* Parses text as type t and prints it back; on error returns "ERR <state> <message>". */
static const char *rt(type_oid_t t, int32_t typmod, const char *in)
{
    setup();
    datum_t d;
    sql_error_t err = {0};
    if (type_in_text(t, typmod, in, strlen(in), &arena, &d, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s", err.sqlstate, err.message);
        return out_buf;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(t, typmod, d, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

static datum_t in(type_oid_t t, const char *s)
{
    setup();
    datum_t d = {0};
    sql_error_t err = {0};
    if (type_in_text(t, -1, s, strlen(s), &arena, &d, &err) < 0)
        fprintf(stderr, "  unexpected error for %s: %s\n", s, err.message);
    return d;
}

static const char *show(type_oid_t t, datum_t d)
{
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(t, -1, d, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

static datum_t f8(double v) { datum_t d; d.f64 = v; return d; }
static datum_t i8(int64_t v) { datum_t d; d.i64 = v; return d; }

#define EQ(got, want) do { const char *g_ = (got); if (strcmp(g_, (want))) { \
    fprintf(stderr, "  got [%s] want [%s]\n", g_, (want)); TEST_CHECK(!"mismatch"); } } while (0)

TEST(integers)
{
    EQ(rt(TYPE_INT4, -1, "  12  "), "12");
    EQ(rt(TYPE_INT2, -1, "+5"), "5");
    EQ(rt(TYPE_INT8, -1, "-9223372036854775808"), "-9223372036854775808");
    EQ(rt(TYPE_INT8, -1, "9223372036854775808"),
       "ERR 22003 value \"9223372036854775808\" is out of range for type bigint");
    EQ(rt(TYPE_INT4, -1, "99999999999"), "ERR 22003 value \"99999999999\" is out of range for type integer");
    EQ(rt(TYPE_INT4, -1, "abc"), "ERR 22P02 invalid input syntax for type integer: \"abc\"");
    EQ(rt(TYPE_INT2, -1, ""), "ERR 22P02 invalid input syntax for type smallint: \"\"");
    EQ(rt(TYPE_INT2, -1, "40000"), "ERR 22003 value \"40000\" is out of range for type smallint");
    EQ(rt(TYPE_INT4, -1, "-2147483648"), "-2147483648");
    EQ(rt(TYPE_INT4, -1, "1 2"), "ERR 22P02 invalid input syntax for type integer: \"1 2\"");
    EQ(rt(TYPE_OID, -1, "-1"), "4294967295");
    EQ(rt(TYPE_OID, -1, "x"), "ERR 22P02 invalid input syntax for type oid: \"x\"");
    EQ(rt(TYPE_OID, -1, "4294967296"), "ERR 22003 value \"4294967296\" is out of range for type oid");
    EQ(rt(TYPE_REGCLASS, -1, "1259"), "1259");
}

TEST(booleans)
{
    EQ(rt(TYPE_BOOL, -1, "yes"), "t");
    EQ(rt(TYPE_BOOL, -1, " of "), "f");
    EQ(rt(TYPE_BOOL, -1, "0"), "f");
    EQ(rt(TYPE_BOOL, -1, "TRU"), "t");
    EQ(rt(TYPE_BOOL, -1, "  t "), "t");
    EQ(rt(TYPE_BOOL, -1, "on"), "t");
    EQ(rt(TYPE_BOOL, -1, "x"), "ERR 22P02 invalid input syntax for type boolean: \"x\"");
    EQ(rt(TYPE_BOOL, -1, "o"), "ERR 22P02 invalid input syntax for type boolean: \"o\"");
}

TEST(floats)
{
    struct { type_oid_t t; const char *in, *out; } c[] = {
        {TYPE_FLOAT8, "1e15", "1e+15"}, {TYPE_FLOAT8, "123456789012345", "123456789012345"},
        {TYPE_FLOAT8, "1e14", "100000000000000"}, {TYPE_FLOAT8, "0.0001", "0.0001"},
        {TYPE_FLOAT8, "0.00001", "1e-05"}, {TYPE_FLOAT8, "1e-310", "1e-310"},
        {TYPE_FLOAT4, "1000000", "1e+06"}, {TYPE_FLOAT4, "100000", "100000"},
        {TYPE_FLOAT4, "0.1", "0.1"}, {TYPE_FLOAT8, "0.3333333333333333", "0.3333333333333333"},
        {TYPE_FLOAT4, "0.333333333333", "0.33333334"}, {TYPE_FLOAT8, "1e100", "1e+100"},
        {TYPE_FLOAT8, "5e-324", "5e-324"}, {TYPE_FLOAT8, "1.7976931348623157e308", "1.7976931348623157e+308"},
        {TYPE_FLOAT4, "3.4028235e38", "3.4028235e+38"}, {TYPE_FLOAT8, "-1.5e-7", "-1.5e-07"},
        {TYPE_FLOAT4, "12345678", "1.2345678e+07"}, {TYPE_FLOAT4, "123456", "123456"},
        {TYPE_FLOAT8, "1e20", "1e+20"}, {TYPE_FLOAT8, "-0", "-0"}, {TYPE_FLOAT8, "NaN", "NaN"},
        {TYPE_FLOAT4, "-inf", "-Infinity"}, {TYPE_FLOAT8, "infinity", "Infinity"},
        {TYPE_FLOAT4, "nan", "NaN"}, {TYPE_FLOAT8, " 1.5 ", "1.5"}, {TYPE_FLOAT8, "0x10", "16"},
        {TYPE_FLOAT4, "1e-5", "1e-05"}, {TYPE_FLOAT4, "1.5e-45", "1e-45"},
        {TYPE_FLOAT8, "1e400", "ERR 22003 \"1e400\" is out of range for type double precision"},
        {TYPE_FLOAT4, "1e40", "ERR 22003 \"1e40\" is out of range for type real"},
        {TYPE_FLOAT8, "abc", "ERR 22P02 invalid input syntax for type double precision: \"abc\""},
        {TYPE_FLOAT8, "", "ERR 22P02 invalid input syntax for type double precision: \"\""},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        EQ(rt(c[i].t, -1, c[i].in), c[i].out);
    datum_t sum;
    sql_error_t err = {0};
    TEST_CHECK(type_arith(ARITH_ADD, TYPE_FLOAT8, f8(0.1), f8(0.2), &sum, &err) == 0);
    EQ(show(TYPE_FLOAT8, sum), "0.30000000000000004");
}

TEST(timestamps)
{
    EQ(rt(TYPE_TIMESTAMP, -1, "2024-01-02T03:04:05.120"), "2024-01-02 03:04:05.12");
    EQ(rt(TYPE_TIMESTAMPTZ, -1, "2024-01-02 03:04:05+02"), "2024-01-02 01:04:05+00");
    EQ(rt(TYPE_TIMESTAMPTZ, -1, "2024-01-02 03:04:05+05:30"), "2024-01-01 21:34:05+00");
    EQ(rt(TYPE_TIMESTAMPTZ, -1, "2024-01-02 03:04:05Z"), "2024-01-02 03:04:05+00");
    EQ(rt(TYPE_TIMESTAMP, -1, "2024-01-02"), "2024-01-02 00:00:00");
    EQ(rt(TYPE_TIMESTAMP, -1, "-infinity"), "-infinity");
    EQ(rt(TYPE_TIMESTAMPTZ, -1, "infinity"), "infinity");
    EQ(rt(TYPE_TIMESTAMP, -1, "0001-01-01 BC"), "0001-01-01 00:00:00 BC");
    EQ(rt(TYPE_DATE, -1, "2024-02-29"), "2024-02-29");
    EQ(rt(TYPE_DATE, -1, "infinity"), "infinity");
    EQ(rt(TYPE_TIMESTAMP, -1, "10000-01-01"), "10000-01-01 00:00:00");
    EQ(rt(TYPE_TIMESTAMP, -1, "2024-01-02 03:04"), "2024-01-02 03:04:00");
    EQ(rt(TYPE_TIMESTAMP, -1, "epoch"), "1970-01-01 00:00:00");
    EQ(rt(TYPE_TIMESTAMP, -1, "2000-01-01 24:00:00"), "2000-01-02 00:00:00");
    EQ(rt(TYPE_TIMESTAMP, -1, "1999-12-31 23:59:59.9999995"), "2000-01-01 00:00:00");
    EQ(rt(TYPE_TIMESTAMP, -1, "1969-07-20 20:17:40.000001"), "1969-07-20 20:17:40.000001");
    EQ(rt(TYPE_TIMESTAMP, -1, "2024-13-01"), "ERR 22008 date/time field value out of range: \"2024-13-01\"");
    EQ(rt(TYPE_DATE, -1, "2024-02-30"), "ERR 22008 date/time field value out of range: \"2024-02-30\"");
    EQ(rt(TYPE_TIMESTAMP, -1, "xyz"), "ERR 22007 invalid input syntax for type timestamp: \"xyz\"");
    EQ(rt(TYPE_TIMESTAMPTZ, -1, "xyz"),
       "ERR 22007 invalid input syntax for type timestamp with time zone: \"xyz\"");
    EQ(rt(TYPE_DATE, -1, "xyz"), "ERR 22007 invalid input syntax for type date: \"xyz\"");
    /* The epoch of the representation is 2000-01-01. */
    TEST_CHECK(in(TYPE_TIMESTAMP, "2000-01-01").i64 == 0);
    TEST_CHECK(in(TYPE_DATE, "2000-01-02").i64 == 1);
    int64_t now = time_now_ts();
    int64_t today = in(TYPE_DATE, "today").i64;
    TEST_CHECK(in(TYPE_DATE, "tomorrow").i64 == today + 1 && in(TYPE_DATE, "Yesterday").i64 == today - 1);
    TEST_CHECK(in(TYPE_TIMESTAMP, "today").i64 == today * INT64_C(86400000000));
    TEST_CHECK(in(TYPE_TIMESTAMPTZ, "now").i64 >= now);
    TEST_CHECK(now > in(TYPE_TIMESTAMPTZ, "2024-01-01").i64);
    TEST_CHECK(now < in(TYPE_TIMESTAMPTZ, "2200-01-01").i64);
}

TEST(strings_bytea_char)
{
    EQ(rt(TYPE_BYTEA, -1, "\\x00ff"), "\\x00ff");
    EQ(rt(TYPE_BYTEA, -1, "a\\000b\\\\c"), "\\x6100625c63");
    EQ(rt(TYPE_BYTEA, -1, "\\x 01 02"), "\\x0102");
    EQ(rt(TYPE_BYTEA, -1, "abc"), "\\x616263");
    EQ(rt(TYPE_BYTEA, -1, "\\xzz"), "ERR 22023 invalid hexadecimal digit: \"z\"");
    EQ(rt(TYPE_BYTEA, -1, "\\x1"), "ERR 22023 invalid hexadecimal data: odd number of digits");
    EQ(rt(TYPE_BYTEA, -1, "a\\b"), "ERR 22P02 invalid input syntax for type bytea");
    EQ(rt(TYPE_CHAR, -1, "abc"), "a");
    EQ(rt(TYPE_CHAR, -1, ""), "");
    EQ(rt(TYPE_VARCHAR, 3 + 4, "abc  "), "abc");
    EQ(rt(TYPE_VARCHAR, 3 + 4, "abcd"), "ERR 22001 value too long for type character varying(3)");
    EQ(rt(TYPE_BPCHAR, 5 + 4, "ab"), "ab   ");
    EQ(rt(TYPE_BPCHAR, 2 + 4, "abc"), "ERR 22001 value too long for type character(2)");
    EQ(rt(TYPE_VARCHAR, 2 + 4, "éé"), "éé");
    EQ(rt(TYPE_NAME, -1, "aé"), "aé");
    EQ(rt(TYPE_TEXT, -1, "\xff"), "ERR 22021 invalid byte sequence for encoding \"UTF8\": 0xff");
    char longname[100];
    memset(longname, 'x', 99);
    longname[99] = 0;
    TEST_CHECK(strlen(rt(TYPE_NAME, -1, longname)) == 63);
}

static const char *cast(type_oid_t from, type_oid_t to, int32_t typmod, int ctx, datum_t v)
{
    datum_t o;
    sql_error_t err = {0};
    if (type_cast(from, to, typmod, ctx, v, &arena, &o, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s", err.sqlstate, err.message);
        return out_buf;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(to, typmod, o, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

TEST(casts)
{
    setup();
    TEST_CHECK(type_can_cast(TYPE_INT2, TYPE_INT4, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_INT4, TYPE_INT8, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_INT8, TYPE_FLOAT4, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_FLOAT4, TYPE_FLOAT8, CAST_IMPLICIT));
    TEST_CHECK(!type_can_cast(TYPE_INT8, TYPE_INT4, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_INT8, TYPE_INT4, CAST_ASSIGNMENT));
    TEST_CHECK(!type_can_cast(TYPE_BOOL, TYPE_INT4, CAST_ASSIGNMENT));
    TEST_CHECK(type_can_cast(TYPE_BOOL, TYPE_INT4, CAST_EXPLICIT));
    TEST_CHECK(type_can_cast(TYPE_INT4, TYPE_TEXT, CAST_ASSIGNMENT));
    TEST_CHECK(!type_can_cast(TYPE_INT4, TYPE_TEXT, CAST_IMPLICIT));
    TEST_CHECK(!type_can_cast(TYPE_TEXT, TYPE_INT4, CAST_ASSIGNMENT));
    TEST_CHECK(type_can_cast(TYPE_TEXT, TYPE_INT4, CAST_EXPLICIT));
    TEST_CHECK(type_can_cast(TYPE_UNKNOWN, TYPE_TIMESTAMPTZ, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_DATE, TYPE_TIMESTAMPTZ, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_TIMESTAMP, TYPE_TIMESTAMPTZ, CAST_IMPLICIT));
    TEST_CHECK(!type_can_cast(TYPE_TIMESTAMPTZ, TYPE_TIMESTAMP, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_TIMESTAMPTZ, TYPE_DATE, CAST_ASSIGNMENT));
    TEST_CHECK(type_can_cast(TYPE_VARCHAR, TYPE_TEXT, CAST_IMPLICIT));
    TEST_CHECK(!type_can_cast(TYPE_BOOL, TYPE_TIMESTAMP, CAST_EXPLICIT));

    EQ(cast(TYPE_FLOAT8, TYPE_INT4, -1, CAST_ASSIGNMENT, f8(1.5)), "2");
    EQ(cast(TYPE_FLOAT8, TYPE_INT4, -1, CAST_ASSIGNMENT, f8(2.5)), "2");
    EQ(cast(TYPE_FLOAT8, TYPE_INT4, -1, CAST_ASSIGNMENT, f8(-2.5)), "-2");
    EQ(cast(TYPE_FLOAT4, TYPE_INT2, -1, CAST_ASSIGNMENT, f8(3.5)), "4");
    EQ(cast(TYPE_FLOAT8, TYPE_INT4, -1, CAST_ASSIGNMENT, f8(-0.5)), "0");
    EQ(cast(TYPE_FLOAT8, TYPE_INT4, -1, CAST_ASSIGNMENT, f8(1e10)), "ERR 22003 integer out of range");
    EQ(cast(TYPE_FLOAT8, TYPE_INT8, -1, CAST_ASSIGNMENT, f8(NAN)), "ERR 22003 bigint out of range");
    EQ(cast(TYPE_INT4, TYPE_OID, -1, CAST_IMPLICIT, i8(-1)), "4294967295");
    EQ(cast(TYPE_INT8, TYPE_OID, -1, CAST_IMPLICIT, i8(4294967295)), "4294967295");
    EQ(cast(TYPE_OID, TYPE_INT4, -1, CAST_ASSIGNMENT, i8(4294967295)), "-1");
    EQ(cast(TYPE_INT4, TYPE_BOOL, -1, CAST_EXPLICIT, i8(7)), "t");
    EQ(cast(TYPE_BOOL, TYPE_INT4, -1, CAST_EXPLICIT, i8(1)), "1");
    EQ(cast(TYPE_BOOL, TYPE_TEXT, -1, CAST_ASSIGNMENT, i8(1)), "true");
    EQ(cast(TYPE_CHAR, TYPE_INT4, -1, CAST_EXPLICIT, i8('y')), "121");
    EQ(cast(TYPE_INT4, TYPE_CHAR, -1, CAST_EXPLICIT, i8(200)), "ERR 22003 \"char\" out of range");
    EQ(cast(TYPE_INT8, TYPE_INT2, -1, CAST_ASSIGNMENT, i8(40000)), "ERR 22003 smallint out of range");
    EQ(cast(TYPE_FLOAT4, TYPE_TEXT, -1, CAST_ASSIGNMENT, f8(1.5)), "1.5");
    EQ(cast(TYPE_FLOAT8, TYPE_FLOAT4, -1, CAST_ASSIGNMENT, f8(1e300)), "ERR 22003 value out of range: overflow");
    datum_t s = in(TYPE_TEXT, "abcd");
    EQ(cast(TYPE_TEXT, TYPE_VARCHAR, 3 + 4, CAST_EXPLICIT, s), "abc");
    EQ(cast(TYPE_TEXT, TYPE_VARCHAR, 3 + 4, CAST_ASSIGNMENT, s),
       "ERR 22001 value too long for type character varying(3)");
    EQ(cast(TYPE_TEXT, TYPE_INT4, -1, CAST_EXPLICIT, s), "ERR 22P02 invalid input syntax for type integer: \"abcd\"");
    datum_t bp = in(TYPE_BPCHAR, "ab  ");
    EQ(cast(TYPE_BPCHAR, TYPE_TEXT, -1, CAST_IMPLICIT, bp), "ab");
    EQ(cast(TYPE_BOOL, TYPE_NAME, -1, CAST_ASSIGNMENT, i8(1)), "t");
    EQ(cast(TYPE_BPCHAR, TYPE_INT4, -1, CAST_EXPLICIT, bp), "ERR 22P02 invalid input syntax for type integer: \"ab  \"");
    EQ(cast(TYPE_BPCHAR, TYPE_BYTEA, -1, CAST_EXPLICIT, bp), "\\x61622020");
    EQ(cast(TYPE_FLOAT8, TYPE_INT8, -1, CAST_ASSIGNMENT, f8(9.3e18)), "ERR 22003 bigint out of range");
    EQ(cast(TYPE_FLOAT8, TYPE_INT2, -1, CAST_ASSIGNMENT, f8(32767.5)), "ERR 22003 smallint out of range");
    EQ(cast(TYPE_INT8, TYPE_OID, -1, CAST_IMPLICIT, i8(4294967296)), "ERR 22003 OID out of range");
    EQ(cast(TYPE_FLOAT8, TYPE_FLOAT4, -1, CAST_ASSIGNMENT, f8(1e-300)), "ERR 22003 value out of range: underflow");
    datum_t ts = in(TYPE_TIMESTAMP, "2024-01-02 23:59:59.9");
    EQ(cast(TYPE_TIMESTAMP, TYPE_DATE, -1, CAST_ASSIGNMENT, ts), "2024-01-02");
    EQ(cast(TYPE_DATE, TYPE_TIMESTAMPTZ, -1, CAST_IMPLICIT, in(TYPE_DATE, "2024-01-02")), "2024-01-02 00:00:00+00");
    EQ(cast(TYPE_TIMESTAMP, TYPE_DATE, -1, CAST_ASSIGNMENT, in(TYPE_TIMESTAMP, "1960-01-02 10:00")), "1960-01-02");
    EQ(cast(TYPE_UNKNOWN, TYPE_INT4, -1, CAST_IMPLICIT, in(TYPE_UNKNOWN, "42")), "42");

    TEST_CHECK(type_common(TYPE_INT4, TYPE_INT8) == TYPE_INT8);
    TEST_CHECK(type_common(TYPE_INT8, TYPE_INT4) == TYPE_INT8);
    TEST_CHECK(type_common(TYPE_INT4, TYPE_FLOAT8) == TYPE_FLOAT8);
    TEST_CHECK(type_common(TYPE_UNKNOWN, TYPE_INT4) == TYPE_INT4);
    TEST_CHECK(type_common(TYPE_UNKNOWN, TYPE_UNKNOWN) == TYPE_TEXT);
    TEST_CHECK(type_common(TYPE_TEXT, TYPE_VARCHAR) == TYPE_TEXT);
    TEST_CHECK(type_common(TYPE_VARCHAR, TYPE_TEXT) == TYPE_VARCHAR);   /* as PostgreSQL's UNION */
    TEST_CHECK(type_common(TYPE_INT4, TYPE_OID) == TYPE_OID);
    TEST_CHECK(type_common(TYPE_TIMESTAMP, TYPE_TIMESTAMPTZ) == TYPE_TIMESTAMPTZ);
    TEST_CHECK(type_common(TYPE_DATE, TYPE_TIMESTAMP) == TYPE_TIMESTAMP);
    TEST_CHECK(type_common(TYPE_INT4, TYPE_TEXT) == TYPE_INVALID);
    TEST_CHECK(type_common(TYPE_BOOL, TYPE_INT4) == TYPE_INVALID);
}

static const char *ar(int op, type_oid_t t, datum_t a, datum_t b)
{
    datum_t o;
    sql_error_t err = {0};
    if (type_arith(op, t, a, b, &o, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s", err.sqlstate, err.message);
        return out_buf;
    }
    return show(t, o);
}

TEST(arithmetic)
{
    EQ(ar(ARITH_ADD, TYPE_INT4, i8(2147483647), i8(1)), "ERR 22003 integer out of range");
    EQ(ar(ARITH_DIV, TYPE_INT4, i8(INT32_MIN), i8(-1)), "ERR 22003 integer out of range");
    EQ(ar(ARITH_MOD, TYPE_INT4, i8(INT32_MIN), i8(-1)), "0");
    EQ(ar(ARITH_MOD, TYPE_INT8, i8(INT64_MIN), i8(-1)), "0");
    EQ(ar(ARITH_DIV, TYPE_INT4, i8(1), i8(0)), "ERR 22012 division by zero");
    EQ(ar(ARITH_MOD, TYPE_INT2, i8(1), i8(0)), "ERR 22012 division by zero");
    EQ(ar(ARITH_ADD, TYPE_INT2, i8(32767), i8(1)), "ERR 22003 smallint out of range");
    EQ(ar(ARITH_MUL, TYPE_INT8, i8(INT64_MAX), i8(2)), "ERR 22003 bigint out of range");
    EQ(ar(ARITH_NEG, TYPE_INT8, i8(INT64_MIN), i8(0)), "ERR 22003 bigint out of range");
    EQ(ar(ARITH_DIV, TYPE_INT4, i8(-7), i8(2)), "-3");
    EQ(ar(ARITH_MOD, TYPE_INT4, i8(-7), i8(2)), "-1");
    EQ(ar(ARITH_DIV, TYPE_FLOAT8, f8(1), f8(0)), "ERR 22012 division by zero");
    EQ(ar(ARITH_MUL, TYPE_FLOAT8, f8(1e308), f8(10)), "ERR 22003 value out of range: overflow");
    EQ(ar(ARITH_MUL, TYPE_FLOAT8, f8(1e-308), f8(1e-308)), "ERR 22003 value out of range: underflow");
    EQ(ar(ARITH_ADD, TYPE_FLOAT8, f8(INFINITY), f8(1)), "Infinity");
    EQ(ar(ARITH_MUL, TYPE_FLOAT4, f8(3e38), f8(10)), "ERR 22003 value out of range: overflow");
}

TEST(compare_and_hash)
{
    TEST_CHECK(type_cmp(TYPE_FLOAT8, f8(NAN), f8(INFINITY)) > 0);
    TEST_CHECK(type_cmp(TYPE_FLOAT8, f8(NAN), f8(NAN)) == 0);
    TEST_CHECK(type_cmp(TYPE_FLOAT8, f8(-0.0), f8(0.0)) == 0);
    TEST_CHECK(type_hash(TYPE_FLOAT8, f8(-0.0)) == type_hash(TYPE_FLOAT8, f8(0.0)));
    TEST_CHECK(type_hash(TYPE_INT2, i8(5)) == type_hash(TYPE_INT8, i8(5)));
    TEST_CHECK(type_hash(TYPE_INT4, i8(5)) != type_hash(TYPE_INT4, i8(6)));
    datum_t a = in(TYPE_BPCHAR, "ab  "), b = in(TYPE_BPCHAR, "ab");
    TEST_CHECK(type_cmp(TYPE_BPCHAR, a, b) == 0);
    TEST_CHECK(type_hash(TYPE_BPCHAR, a) == type_hash(TYPE_BPCHAR, b));
    TEST_CHECK(type_cmp(TYPE_TEXT, in(TYPE_TEXT, "ab "), in(TYPE_TEXT, "ab")) > 0);
    TEST_CHECK(type_cmp(TYPE_TEXT, in(TYPE_TEXT, "B"), in(TYPE_TEXT, "a")) < 0);
    TEST_CHECK(type_hash(TYPE_TEXT, in(TYPE_TEXT, "hello")) == type_hash(TYPE_TEXT, in(TYPE_TEXT, "hello")));
}

static void key_of(type_oid_t t, datum_t d, strbuf_t *sb)
{
    strbuf_reset(sb);
    type_key_encode(t, d, sb);
}

static int key_cmp(type_oid_t t, datum_t x, datum_t y)
{
    strbuf_t a, b;
    strbuf_init(&a);
    strbuf_init(&b);
    key_of(t, x, &a);
    key_of(t, y, &b);
    int c = memcmp(a.data, b.data, a.len < b.len ? a.len : b.len);
    if (!c) c = a.len < b.len ? -1 : a.len > b.len;
    strbuf_free(&a);
    strbuf_free(&b);
    return c < 0 ? -1 : c > 0;
}

TEST(key_encoding_order)
{
    setup();
    int64_t ints[] = {INT64_MIN, -70000, -1, 0, 1, 255, 256, 70000, INT64_MAX};
    for (size_t i = 0; i < 9; i++)
        for (size_t j = 0; j < 9; j++)
            TEST_CHECK(key_cmp(TYPE_INT8, i8(ints[i]), i8(ints[j])) == type_cmp(TYPE_INT8, i8(ints[i]), i8(ints[j])));
    double fl[] = {-INFINITY, -1e300, -1.5, -1e-310, -0.0, 0.0, 1e-310, 2.5, 1e300, INFINITY, NAN};
    for (size_t i = 0; i < 11; i++)
        for (size_t j = 0; j < 11; j++)
            TEST_CHECK(key_cmp(TYPE_FLOAT8, f8(fl[i]), f8(fl[j])) == type_cmp(TYPE_FLOAT8, f8(fl[i]), f8(fl[j])));
    const char *strs[] = {"", "a", "a\0", "a\0b", "a\x01", "ab", "b", "\xff"};
    size_t lens[] = {0, 1, 2, 3, 2, 2, 1, 1};
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 8; j++) {
            datum_t x = {.s = vstr_new(&arena, strs[i], lens[i])}, y = {.s = vstr_new(&arena, strs[j], lens[j])};
            TEST_CHECK(key_cmp(TYPE_BYTEA, x, y) == type_cmp(TYPE_BYTEA, x, y));
        }
    /* Equal values of different integer widths encode identically. */
    strbuf_t a, b;
    strbuf_init(&a);
    strbuf_init(&b);
    key_of(TYPE_INT2, i8(-5), &a);
    key_of(TYPE_INT8, i8(-5), &b);
    TEST_CHECK(a.len == 8 && b.len == 8 && !memcmp(a.data, b.data, 8));
    /* Round trips, several components in a row. */
    strbuf_reset(&a);
    datum_t txt = {.s = vstr_new(&arena, "x\0y", 3)};
    type_key_encode(TYPE_INT4, i8(-42), &a);
    type_key_encode(TYPE_TEXT, txt, &a);
    type_key_encode(TYPE_FLOAT8, f8(-2.5), &a);
    type_key_encode(TYPE_BOOL, i8(1), &a);
    const uint8_t *p = (const uint8_t *)a.data, *end = p + a.len;
    datum_t o;
    TEST_REQUIRE(type_key_decode(TYPE_INT4, &p, end, &arena, &o) == 0 && o.i64 == -42);
    TEST_REQUIRE(type_key_decode(TYPE_TEXT, &p, end, &arena, &o) == 0 && o.s->len == 3 && !memcmp(o.s->data, "x\0y", 3));
    TEST_REQUIRE(type_key_decode(TYPE_FLOAT8, &p, end, &arena, &o) == 0 && o.f64 == -2.5);
    TEST_REQUIRE(type_key_decode(TYPE_BOOL, &p, end, &arena, &o) == 0 && o.i64 == 1);
    TEST_CHECK(p == end);
    TEST_CHECK(type_key_decode(TYPE_INT4, &p, end, &arena, &o) == -1);
    const uint8_t bad[] = {'a', 0x00, 0x01};
    p = bad;
    TEST_CHECK(type_key_decode(TYPE_TEXT, &p, bad + 3, &arena, &o) == -1);
    strbuf_free(&a);
    strbuf_free(&b);
}

TEST(row_encoding)
{
    setup();
    type_oid_t types[] = {TYPE_INT4, TYPE_TEXT, TYPE_FLOAT4, TYPE_BOOL, TYPE_VARCHAR, TYPE_INT8,
                          TYPE_TIMESTAMPTZ, TYPE_FLOAT8, TYPE_INT2, TYPE_OID};
    datum_t v[10];
    bool n[10] = {false, false, false, false, true, false, false, false, false, false};
    v[0].i64 = -7; v[1].s = vstr_new(&arena, "hello", 5); v[2].f64 = 1.5; v[3].i64 = 1;
    v[5].i64 = INT64_MIN; v[6].i64 = 123456789; v[7].f64 = -0.1; v[8].i64 = -300;
    v[9].i64 = 4294967295;
    strbuf_t sb;
    strbuf_init(&sb);
    row_encode(10, types, v, n, &sb);
    datum_t o[11];
    bool on[11];
    type_oid_t types11[11];
    memcpy(types11, types, sizeof types);
    types11[10] = TYPE_TEXT;
    TEST_REQUIRE(row_decode((const uint8_t *)sb.data, sb.len, 11, types11, o, on) == 0);
    TEST_CHECK(!on[0] && o[0].i64 == -7);
    TEST_CHECK(!on[1] && o[1].s->len == 5 && !memcmp(o[1].s->data, "hello", 5));
    TEST_CHECK((const char *)o[1].s >= sb.data && (const char *)o[1].s < sb.data + sb.len);
    TEST_CHECK(o[2].f64 == 1.5 && o[3].i64 == 1 && on[4] && o[5].i64 == INT64_MIN);
    TEST_CHECK(o[6].i64 == 123456789 && o[7].f64 == -0.1 && o[8].i64 == -300 && o[9].i64 == 4294967295);
    TEST_CHECK(on[10]);   /* column added after the row was written */
    /* Every truncation and a few corruptions are rejected, never read out of bounds. */
    uint8_t *copy = malloc(sb.len + 8);
    for (size_t cut = 0; cut < sb.len; cut++) {
        memcpy(copy, sb.data, cut);
        TEST_CHECK(row_decode(copy, cut, 10, types, o, on) == -1);
    }
    memcpy(copy, sb.data, sb.len);
    copy[sb.len] = 0;
    TEST_CHECK(row_decode(copy, sb.len + 1, 10, types, o, on) == -1);   /* trailing junk */
    TEST_CHECK(row_decode(copy, sb.len, 9, types, o, on) == -1);        /* more stored than asked */
    for (size_t i = 0; i < sb.len; i++) {      /* flip every byte: no crash (ASan checks) */
        memcpy(copy, sb.data, sb.len);
        copy[i] ^= 0xA5;
        (void)row_decode(copy, sb.len, 10, types, o, on);
    }
    free(copy);
    strbuf_free(&sb);
}

TEST(binary)
{
    setup();
    strbuf_t sb;
    strbuf_init(&sb);
    type_send_binary(TYPE_INT4, -1, i8(-2), &sb);
    TEST_CHECK(sb.len == 4 && (uint8_t)sb.data[0] == 0xff && (uint8_t)sb.data[3] == 0xfe);
    datum_t o;
    sql_error_t err = {0};
    TEST_CHECK(type_recv_binary(TYPE_INT4, -1, (const uint8_t *)sb.data, 4, &arena, &o, &err) == 0 && o.i64 == -2);
    TEST_CHECK(type_recv_binary(TYPE_INT4, -1, (const uint8_t *)sb.data, 3, &arena, &o, &err) == -1);
    strbuf_reset(&sb);
    type_send_binary(TYPE_FLOAT8, -1, f8(1.5), &sb);
    TEST_CHECK(sb.len == 8 && (uint8_t)sb.data[0] == 0x3f && (uint8_t)sb.data[1] == 0xf8);
    TEST_CHECK(type_recv_binary(TYPE_FLOAT8, -1, (const uint8_t *)sb.data, 8, &arena, &o, &err) == 0 && o.f64 == 1.5);
    strbuf_reset(&sb);
    type_send_binary(TYPE_FLOAT4, -1, f8(0.5), &sb);
    TEST_CHECK(type_recv_binary(TYPE_FLOAT4, -1, (const uint8_t *)sb.data, 4, &arena, &o, &err) == 0 && o.f64 == 0.5);
    strbuf_reset(&sb);
    type_send_binary(TYPE_DATE, -1, i8(-1), &sb);
    TEST_CHECK(type_recv_binary(TYPE_DATE, -1, (const uint8_t *)sb.data, 4, &arena, &o, &err) == 0 && o.i64 == -1);
    strbuf_reset(&sb);
    type_send_binary(TYPE_TIMESTAMPTZ, -1, i8(-5), &sb);
    TEST_CHECK(type_recv_binary(TYPE_TIMESTAMPTZ, -1, (const uint8_t *)sb.data, 8, &arena, &o, &err) == 0 && o.i64 == -5);
    strbuf_reset(&sb);
    type_send_binary(TYPE_TEXT, -1, in(TYPE_TEXT, "héllo"), &sb);
    TEST_CHECK(sb.len == 6);
    sql_error_clear(&err);
    TEST_CHECK(type_recv_binary(TYPE_VARCHAR, 2 + 4, (const uint8_t *)"abc", 3, &arena, &o, &err) == -1 &&
               !strcmp(err.sqlstate, "22001"));
    TEST_CHECK(type_has_binary(TYPE_BYTEA) && type_has_binary(TYPE_NUMERIC) && !type_has_binary(TYPE_INVALID));
    strbuf_free(&sb);
}

TEST(type_table)
{
    const type_info_t *t = type_lookup(TYPE_FLOAT8);
    TEST_REQUIRE(t);
    TEST_CHECK(t->preferred && t->typlen == 8 && t->array_oid == 1022 && t->category == 'N');
    TEST_CHECK(type_lookup(TYPE_TEXT)->preferred && !type_lookup(TYPE_INT4)->preferred);
    TEST_CHECK(type_lookup_name("integer")->oid == TYPE_INT4);
    TEST_CHECK(type_lookup_name("double precision")->oid == TYPE_FLOAT8);
    TEST_CHECK(type_lookup_name("character varying")->oid == TYPE_VARCHAR);
    TEST_CHECK(type_lookup_name("timestamptz")->oid == TYPE_TIMESTAMPTZ);
    TEST_CHECK(type_lookup_name("char")->oid == TYPE_CHAR);
    TEST_CHECK(type_lookup_name("nosuch") == NULL);
    TEST_CHECK(type_lookup(TYPE_TEXTARRAY)->elem_oid == TYPE_TEXT);
    TEST_CHECK(type_info_count() >= 30);
    strbuf_t sb;
    strbuf_init(&sb);
    type_format(TYPE_VARCHAR, 14, &sb);
    EQ(sb.data, "character varying(10)");
    strbuf_reset(&sb);
    type_format(TYPE_TIMESTAMP, -1, &sb);
    EQ(sb.data, "timestamp without time zone");
    strbuf_reset(&sb);
    type_format(TYPE_CHAR, -1, &sb);
    EQ(sb.data, "\"char\"");
    strbuf_reset(&sb);
    type_format(TYPE_BPCHAR, 14, &sb);
    EQ(sb.data, "character(10)");
    strbuf_free(&sb);
}

TEST_MAIN()
