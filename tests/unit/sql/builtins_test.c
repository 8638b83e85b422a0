/*
 * builtins_test.c -- sql/builtins: results of the scalar functions and overload
 * resolution (exact, implicit casts, unknown literals, errors). Expected values and
 * messages were checked against PostgreSQL 15 (psql -Atc "select ...").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sql/builtins.h"
#include "tests/unit/test.h"

static arena_t arena;
static char res[600];

/* Calls name(args) the way the executor would: args given as text of the given types
 * (NULL text = SQL NULL; TYPE_UNKNOWN = a quoted literal), resolved, cast, evaluated
 * with strict-null handling. Returns the result's text, "NULL", or "ERR state msg". */
static const char *callv(const char *name, int nargs, const type_oid_t *types, const char **texts)
{
    if (!arena.budget_bytes) arena_init(&arena, 64 << 20);
    builtin_ctx_t ctx = {.stmt_ts = 1000000, .txn_ts = 2000000, .user = "alice", .database = "db1",
                         .arena = &arena, .backend_pid = 42};
    datum_t args[16];
    bool nulls[16];
    type_oid_t cast_to[16];
    sql_error_t err = {0};
    const builtin_t *b = builtin_resolve(name, nargs, types, cast_to, &err);
    if (!b) goto fail;
    bool any_null = false;
    for (int i = 0; i < nargs; i++) {
        nulls[i] = texts[i] == NULL;
        any_null |= nulls[i];
        if (nulls[i]) { args[i].i64 = 0; continue; }
        datum_t raw;
        if (type_in_text(types[i], -1, texts[i], strlen(texts[i]), &arena, &raw, &err) < 0) goto fail;
        if (type_cast(types[i], cast_to[i], -1, CAST_IMPLICIT, raw, &arena, &args[i], &err) < 0) goto fail;
    }
    if (b->strict && any_null) return "NULL";
    datum_t out = {0};
    bool isnull = false;
    if (b->fn(&ctx, nargs, args, nulls, cast_to, &out, &isnull, &err) < 0) goto fail;
    if (isnull) return "NULL";
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(b->rettype, -1, out, &sb);
    snprintf(res, sizeof res, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return res;
fail:
    snprintf(res, sizeof res, "ERR %s %s", err.sqlstate, err.message);
    return res;
}

#define U TYPE_UNKNOWN
/* call("f", {types}, {texts}) with explicit arrays. */
static const char *call(const char *name, int n, type_oid_t t0, const char *s0, type_oid_t t1,
                        const char *s1, type_oid_t t2, const char *s2)
{
    type_oid_t t[3] = {t0, t1, t2};
    const char *s[3] = {s0, s1, s2};
    return callv(name, n, t, s);
}
#define C0(name) call(name, 0, 0, NULL, 0, NULL, 0, NULL)
#define C1(name, t0, s0) call(name, 1, t0, s0, 0, NULL, 0, NULL)
#define C2(name, t0, s0, t1, s1) call(name, 2, t0, s0, t1, s1, 0, NULL)
#define C3(name, t0, s0, t1, s1, t2, s2) call(name, 3, t0, s0, t1, s1, t2, s2)

#define EQ(got, want) do { const char *g_ = (got); if (strcmp(g_, (want))) { \
    fprintf(stderr, "  got [%s] want [%s]\n", g_, (want)); TEST_CHECK(!"mismatch"); } } while (0)

TEST(strings)
{
    EQ(C1("upper", U, "héllo"), "HÉLLO");
    EQ(C1("lower", U, "ÀÉ"), "àé");
    EQ(C1("initcap", U, "hello wORLD-foo bar_baz 1a"), "Hello World-Foo Bar_Baz 1a");
    EQ(C1("initcap", U, "élan"), "Élan");
    EQ(C2("repeat", U, "ab", TYPE_INT4, "3"), "ababab");
    EQ(C3("replace", U, "abcabc", U, "b", U, "XY"), "aXYcaXYc");
    EQ(C2("starts_with", U, "abc", U, "ab"), "t");
    EQ(C3("substr", U, "abcdef", TYPE_INT4, "-1", TYPE_INT4, "3"), "a");
    EQ(C2("substr", U, "abcdef", TYPE_INT4, "2"), "bcdef");
    EQ(C2("substring", U, "abcdef", TYPE_INT4, "0"), "abcdef");
    EQ(C3("substr", U, "héllo", TYPE_INT4, "2", TYPE_INT4, "2"), "él");
    EQ(C3("substr", U, "abc", TYPE_INT4, "1", TYPE_INT4, "-1"), "ERR 22011 negative substring length not allowed");
    EQ(C2("strpos", U, "abc", U, ""), "1");
    EQ(C2("position", U, "abc", U, "c"), "3");
    EQ(C2("strpos", U, "héllo", U, "l"), "3");
    EQ(C2("btrim", U, "xxaxx", U, "x"), "a");
    EQ(C1("ltrim", U, "  a  "), "a  ");
    EQ(C1("rtrim", U, "  a  "), "  a");
    EQ(C1("md5", U, "abc"), "900150983cd24fb0d6963f7d28e17f72");
    EQ(C1("reverse", U, "héllo"), "olléh");
    EQ(C1("length", TYPE_BPCHAR, "ab  "), "2");
    EQ(C1("length", U, "héllo"), "5");
    EQ(C1("octet_length", U, "héllo"), "6");
    EQ(C1("ascii", U, "é"), "233");
    EQ(C1("chr", TYPE_INT4, "233"), "é");
    EQ(C1("chr", TYPE_INT4, "0"), "ERR 54000 null character not permitted");
    EQ(C1("chr", TYPE_INT4, "-1"), "ERR 22023 character number must be positive");
    EQ(C1("chr", TYPE_INT4, "1114112"), "ERR 54000 requested character too large for encoding: 1114112");
    EQ(C1("chr", TYPE_INT4, "55296"), "ERR 54000 requested character not valid for encoding: 55296");
    EQ(C1("to_hex", TYPE_INT4, "-1"), "ffffffff");
    EQ(C1("to_hex", TYPE_INT8, "-1"), "ffffffffffffffff");
    EQ(C1("to_hex", TYPE_INT4, "255"), "ff");
    EQ(C3("split_part", U, "a,b,c", U, ",", TYPE_INT4, "-1"), "c");
    EQ(C3("split_part", U, "a,b,c", U, ",", TYPE_INT4, "2"), "b");
    EQ(C3("split_part", U, "a,b,c", U, ",", TYPE_INT4, "4"), "");
    EQ(C3("split_part", U, "abc", U, "", TYPE_INT4, "1"), "abc");
    EQ(C3("split_part", U, "abc", U, "", TYPE_INT4, "2"), "");
    EQ(C3("split_part", U, "a,b", U, ",", TYPE_INT4, "0"), "ERR 22023 field position must not be zero");
    EQ(C2("lpad", U, "hello", TYPE_INT4, "3"), "hel");
    EQ(C3("lpad", U, "hi", TYPE_INT4, "5", U, "xy"), "xyxhi");
    EQ(C3("rpad", U, "hi", TYPE_INT4, "5", U, "xy"), "hixyx");
    EQ(C2("left", U, "abcde", TYPE_INT4, "-2"), "abc");
    EQ(C2("right", U, "abcde", TYPE_INT4, "-2"), "cde");
    EQ(C2("left", U, "abcde", TYPE_INT4, "2"), "ab");
    EQ(C2("right", U, "abcde", TYPE_INT4, "2"), "de");
    EQ(C3("translate", U, "12345", U, "143", U, "ax"), "a2x5");
    EQ(C1("quote_literal", U, "O'Reilly"), "'O''Reilly'");
    EQ(C1("upper", U, NULL), "NULL");
}

TEST(concat)
{
    type_oid_t t[4] = {TYPE_INT4, TYPE_INT4, TYPE_BOOL, U};
    const char *s[4] = {"1", NULL, "true", "x"};
    EQ(callv("concat", 4, t, s), "1tx");
    type_oid_t t2[4] = {U, TYPE_INT4, TYPE_INT4, TYPE_INT4};
    const char *s2[4] = {",", "1", NULL, "2"};
    EQ(callv("concat_ws", 4, t2, s2), "1,2");
    const char *s3[4] = {NULL, "1", NULL, "2"};
    EQ(callv("concat_ws", 4, t2, s3), "NULL");
    type_oid_t t4[1] = {TYPE_INT4};
    const char *s4[1] = {NULL};
    EQ(callv("concat", 1, t4, s4), "");
    EQ(C0("concat"), "ERR 42883 function concat() does not exist");
}

TEST(math)
{
    EQ(C1("round", TYPE_FLOAT8, "2.5"), "2");
    EQ(C1("round", TYPE_FLOAT8, "-0.5"), "-0");
    EQ(C1("trunc", TYPE_FLOAT8, "-1.7"), "-1");
    EQ(C1("ceil", TYPE_FLOAT8, "-0.5"), "-0");
    EQ(C1("floor", TYPE_FLOAT8, "-0.5"), "-1");
    EQ(C1("sign", TYPE_FLOAT8, "-3"), "-1");
    EQ(C1("abs", TYPE_INT4, "-2147483648"), "ERR 22003 integer out of range");
    EQ(C1("abs", TYPE_INT2, "-5"), "5");
    EQ(C1("abs", TYPE_FLOAT4, "-1.5"), "1.5");
    EQ(C1("sqrt", TYPE_FLOAT8, "-1"), "ERR 2201F cannot take square root of a negative number");
    EQ(C1("sqrt", TYPE_INT4, "16"), "4");
    EQ(C1("ln", TYPE_FLOAT8, "0"), "ERR 2201E cannot take logarithm of zero");
    EQ(C1("ln", TYPE_FLOAT8, "-1"), "ERR 2201E cannot take logarithm of a negative number");
    EQ(C1("log", TYPE_FLOAT8, "-1"), "ERR 2201E cannot take logarithm of a negative number");
    EQ(C1("log", TYPE_FLOAT8, "1000"), "3");
    EQ(C2("power", TYPE_FLOAT8, "0", TYPE_FLOAT8, "-1"), "ERR 2201F zero raised to a negative power is undefined");
    EQ(C2("power", TYPE_FLOAT8, "-2", TYPE_FLOAT8, "0.5"),
       "ERR 2201F a negative number raised to a non-integer power yields a complex result");
    EQ(C2("power", TYPE_FLOAT8, "10", TYPE_FLOAT8, "400"), "ERR 22003 value out of range: overflow");
    EQ(C2("pow", TYPE_INT4, "2", TYPE_INT4, "10"), "1024");
    EQ(C1("exp", TYPE_FLOAT8, "1000"), "ERR 22003 value out of range: overflow");
    EQ(C1("exp", TYPE_FLOAT8, "-1000"), "ERR 22003 value out of range: underflow");
    EQ(C1("exp", TYPE_FLOAT8, "0"), "1");
    EQ(C2("mod", TYPE_INT4, "-7", TYPE_INT4, "2"), "-1");
    EQ(C2("mod", TYPE_INT4, "7", TYPE_INT8, "0"), "ERR 22012 division by zero");
    EQ(C0("pi"), "3.141592653589793");
    for (int i = 0; i < 100; i++) {
        double r = atof(C0("random"));
        TEST_CHECK(r >= 0 && r < 1);
    }
}

TEST(time_and_session)
{
    EQ(C0("now"), "2000-01-01 00:00:02+00");
    EQ(C0("transaction_timestamp"), "2000-01-01 00:00:02+00");
    EQ(C0("statement_timestamp"), "2000-01-01 00:00:01+00");
    TEST_CHECK(strncmp(C0("clock_timestamp"), "20", 2) == 0 && strcmp(res, "2024") > 0);
    TEST_CHECK(strncmp(C0("version"), "PostgreSQL 15.8 on x86_64-pc-linux-gnu, compiled by NextDB", 58) == 0);
    EQ(C0("current_user"), "alice");
    EQ(C0("session_user"), "alice");
    EQ(C0("current_database"), "db1");
    EQ(C2("date_trunc", U, "week", TYPE_TIMESTAMP, "2024-01-03 10:11:12.5"), "2024-01-01 00:00:00");
    EQ(C2("date_trunc", U, "quarter", TYPE_TIMESTAMP, "2024-05-03"), "2024-04-01 00:00:00");
    EQ(C2("date_trunc", U, "decade", TYPE_TIMESTAMP, "2024-05-03"), "2020-01-01 00:00:00");
    EQ(C2("date_trunc", U, "century", TYPE_TIMESTAMP, "2024-05-03"), "2001-01-01 00:00:00");
    EQ(C2("date_trunc", U, "millennium", TYPE_TIMESTAMP, "2024-05-03"), "2001-01-01 00:00:00");
    EQ(C2("date_trunc", U, "milliseconds", TYPE_TIMESTAMP, "2024-05-03 01:02:03.456789"), "2024-05-03 01:02:03.456");
    EQ(C2("date_trunc", U, "HOUR", TYPE_TIMESTAMPTZ, "2024-05-03 01:02:03"), "2024-05-03 01:00:00+00");
    EQ(C2("date_trunc", U, "day", TYPE_TIMESTAMP, "1960-05-03 01:02:03"), "1960-05-03 00:00:00");
    EQ(C2("date_trunc", U, "xyz", TYPE_TIMESTAMP, "2024-05-03"),
       "ERR 22023 unit \"xyz\" not recognized for type timestamp without time zone");
    EQ(C2("date_trunc", U, "xyz", TYPE_TIMESTAMPTZ, "2024-05-03"),
       "ERR 22023 unit \"xyz\" not recognized for type timestamp with time zone");
    struct { const char *unit, *ts, *want; } dp[] = {
        {"second", "2024-05-03 01:02:03.456789", "3.456789"}, {"epoch", "2024-05-03 01:02:03.5", "1714698123.5"},
        {"dow", "2024-05-05", "0"}, {"isodow", "2024-05-05", "7"}, {"doy", "2024-05-05", "126"},
        {"week", "2024-01-01", "1"}, {"isoyear", "2021-01-01", "2020"}, {"century", "2000-05-05", "20"},
        {"millennium", "2001-05-05", "3"}, {"decade", "1999-05-05", "199"}, {"quarter", "2024-05-05", "2"},
        {"milliseconds", "2024-05-03 01:02:03.456789", "3456.7889999999998"},
        {"microseconds", "2024-05-03 01:02:03.456789", "3456789"}, {"year", "infinity", "Infinity"},
        {"day", "infinity", "NULL"}, {"julian", "2024-01-01", "2460311"}, {"year", "0044-03-15 BC", "-44"},
        {"hour", "2024-05-03 13:02:03", "13"}, {"minute", "2024-05-03 13:02:03", "2"},
    };
    for (size_t i = 0; i < sizeof dp / sizeof dp[0]; i++)
        EQ(C2("date_part", U, dp[i].unit, TYPE_TIMESTAMP, dp[i].ts), dp[i].want);
    EQ(C2("date_part", U, "timezone", TYPE_TIMESTAMPTZ, "2024-01-01"), "0");
    EQ(C2("date_part", U, "year", TYPE_DATE, "2024-01-01"), "2024");
    EQ(C2("date_part", U, "xyz", TYPE_TIMESTAMPTZ, "2024-01-01"),
       "ERR 22023 unit \"xyz\" not recognized for type timestamp with time zone");
}

TEST(resolution)
{
    type_oid_t cast_to[4];
    sql_error_t err = {0};
    /* Exact and implicit casts. */
    const builtin_t *b = builtin_resolve("lower", 1, (type_oid_t[]){TYPE_TEXT}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 870);
    b = builtin_resolve("lower", 1, (type_oid_t[]){TYPE_VARCHAR}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 870 && cast_to[0] == TYPE_TEXT);
    b = builtin_resolve("abs", 1, (type_oid_t[]){TYPE_INT4}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 1397 && b->rettype == TYPE_INT4);
    b = builtin_resolve("mod", 2, (type_oid_t[]){TYPE_INT4, TYPE_INT8}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 947 && cast_to[0] == TYPE_INT8);
    b = builtin_resolve("power", 2, (type_oid_t[]){TYPE_INT4, TYPE_INT2}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 1368 && cast_to[1] == TYPE_FLOAT8);
    /* Unknown literals: the string category wins, then preferred types. */
    b = builtin_resolve("length", 1, (type_oid_t[]){TYPE_UNKNOWN}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 1317 && cast_to[0] == TYPE_TEXT);
    b = builtin_resolve("length", 1, (type_oid_t[]){TYPE_BPCHAR}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 1318);
    b = builtin_resolve("abs", 1, (type_oid_t[]){TYPE_UNKNOWN}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 1395);
    b = builtin_resolve("mod", 2, (type_oid_t[]){TYPE_INT2, TYPE_INT4}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 941);
    b = builtin_resolve("mod", 2, (type_oid_t[]){TYPE_UNKNOWN, TYPE_INT4}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 941);
    b = builtin_resolve("left", 2, (type_oid_t[]){TYPE_UNKNOWN, TYPE_UNKNOWN}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 3060 && cast_to[1] == TYPE_INT4);
    b = builtin_resolve("date_part", 2, (type_oid_t[]){TYPE_UNKNOWN, TYPE_TIMESTAMP}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 2021);
    b = builtin_resolve("date_part", 2, (type_oid_t[]){TYPE_TEXT, TYPE_DATE}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 1384);
    b = builtin_resolve("substr", 3, (type_oid_t[]){TYPE_UNKNOWN, TYPE_INT2, TYPE_INT4}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 877);
    b = builtin_resolve("concat", 2, (type_oid_t[]){TYPE_UNKNOWN, TYPE_INT4}, cast_to, &err);
    TEST_REQUIRE(b && b->proc_oid == 3058 && cast_to[0] == TYPE_TEXT && cast_to[1] == TYPE_INT4);
    /* Errors as PostgreSQL words them. */
    TEST_CHECK(!builtin_resolve("lower", 1, (type_oid_t[]){TYPE_INT4}, cast_to, &err));
    EQ(err.sqlstate, "42883");
    EQ(err.message, "function lower(integer) does not exist");
    EQ(err.hint, "No function matches the given name and argument types. You might need to add explicit type casts.");
    sql_error_clear(&err);
    TEST_CHECK(!builtin_resolve("nosuch", 2, (type_oid_t[]){TYPE_TEXT, TYPE_TIMESTAMPTZ}, cast_to, &err));
    EQ(err.message, "function nosuch(text, timestamp with time zone) does not exist");
    sql_error_clear(&err);
    TEST_CHECK(!builtin_resolve("substr", 2, (type_oid_t[]){TYPE_INT4, TYPE_INT4}, cast_to, &err));
    EQ(err.message, "function substr(integer, integer) does not exist");
    sql_error_clear(&err);
    TEST_CHECK(!builtin_resolve("lpad", 2, (type_oid_t[]){TYPE_UNKNOWN, TYPE_INT8}, cast_to, &err));
    EQ(err.message, "function lpad(unknown, bigint) does not exist");
    sql_error_clear(&err);
    TEST_CHECK(!builtin_resolve("concat_ws", 2, (type_oid_t[]){TYPE_INT4, TYPE_INT4}, cast_to, &err));
    EQ(err.message, "function concat_ws(integer, integer) does not exist");
    sql_error_clear(&err);
    TEST_CHECK(!builtin_resolve("to_hex", 1, (type_oid_t[]){TYPE_UNKNOWN}, cast_to, &err));
    EQ(err.sqlstate, "42725");
    EQ(err.message, "function to_hex(unknown) is not unique");
    EQ(err.hint, "Could not choose a best candidate function. You might need to add explicit type casts.");
    sql_error_clear(&err);
    /* The table is visible for pg_proc. */
    TEST_CHECK(builtin_count() > 80);
    bool seen = false;
    for (int i = 0; i < builtin_count(); i++) seen |= builtin_at(i)->proc_oid == 89;
    TEST_CHECK(seen);
}

TEST_MAIN()
