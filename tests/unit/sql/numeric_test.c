/*
 * numeric_test.c -- sql/numeric: text forms, scales of + - * / %, rounding, typmods,
 * carries and borrows across base-10000 digit boundaries, specials, binary form,
 * comparison and hashing, the sum accumulator, and a random cross-check of + - * /
 * against exact 128-bit integer arithmetic on scaled values. The fixed expectations
 * were checked against a PostgreSQL 15 server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/numeric.h"
#include "sql/types.h"
#include "tests/unit/test.h"

static arena_t arena;
static char buf[4][8192];
static int bufi;

static void setup(void)
{
    if (!arena.budget_bytes) arena_init(&arena, 256 << 20);
}

static datum_t num(const char *s)
{
    setup();
    datum_t d;
    sql_error_t err = {0};
    if (numeric_in(s, strlen(s), &arena, &d, &err) < 0) {
        fprintf(stderr, "bad literal %s: %s\n", s, err.message);
        abort();
    }
    return d;
}

static const char *str(datum_t d)
{
    strbuf_t sb;
    strbuf_init(&sb);
    numeric_out(d, &sb);
    char *b = buf[bufi++ & 3];
    snprintf(b, sizeof buf[0], "%.*s", (int)sb.len, sb.data ? sb.data : "");
    strbuf_free(&sb);
    return b;
}

/* a op b as text, or "ERR <sqlstate>" */
static const char *op(int o, const char *a, const char *b)
{
    datum_t out;
    sql_error_t err = {0};
    if (numeric_arith(o, num(a), num(b), &arena, &out, &err) < 0) {
        char *r = buf[bufi++ & 3];
        snprintf(r, sizeof buf[0], "ERR %s", err.sqlstate);
        return r;
    }
    return str(out);
}

static const char *in_out(const char *s)
{
    setup();
    datum_t d;
    sql_error_t err = {0};
    if (numeric_in(s, strlen(s), &arena, &d, &err) < 0) {
        char *r = buf[bufi++ & 3];
        snprintf(r, sizeof buf[0], "ERR %s %s", err.sqlstate, err.message);
        return r;
    }
    return str(d);
}

TEST(numeric_text)
{
    TEST_CHECK(!strcmp(in_out("1.50"), "1.50"));
    TEST_CHECK(!strcmp(in_out("  -0.000 "), "0.000"));
    TEST_CHECK(!strcmp(in_out("1.2300e2"), "123.00"));
    TEST_CHECK(!strcmp(in_out("1.5e-3"), "0.0015"));
    TEST_CHECK(!strcmp(in_out("1e3"), "1000"));
    TEST_CHECK(!strcmp(in_out(".5"), "0.5"));
    TEST_CHECK(!strcmp(in_out("5."), "5"));
    TEST_CHECK(!strcmp(in_out("000123.4560"), "123.4560"));
    TEST_CHECK(!strcmp(in_out("nan"), "NaN"));
    TEST_CHECK(!strcmp(in_out("-Infinity"), "-Infinity"));
    TEST_CHECK(!strcmp(in_out("+inf"), "Infinity"));
    TEST_CHECK(!strcmp(in_out("0.00010000"), "0.00010000"));
    TEST_CHECK(!strcmp(in_out("123456789012345678901234567890.123456789"), "123456789012345678901234567890.123456789"));
    TEST_CHECK(!strcmp(in_out("x"), "ERR 22P02 invalid input syntax for type numeric: \"x\""));
    TEST_CHECK(!strcmp(in_out("1e"), "ERR 22P02 invalid input syntax for type numeric: \"1e\""));
    TEST_CHECK(!strcmp(in_out("-NaN"), "ERR 22P02 invalid input syntax for type numeric: \"-NaN\""));
    TEST_CHECK(!strcmp(in_out("1 2"), "ERR 22P02 invalid input syntax for type numeric: \"1 2\""));
    TEST_CHECK(!strcmp(in_out(""), "ERR 22P02 invalid input syntax for type numeric: \"\""));
    TEST_CHECK(!strcmp(in_out("1e5000"), "ERR 22003 value overflows numeric format"));
}

TEST(numeric_arith_scales)
{
    TEST_CHECK(!strcmp(op(ARITH_ADD, "0.1", "0.2"), "0.3"));
    TEST_CHECK(!strcmp(op(ARITH_MUL, "1.50", "2.0"), "3.000"));
    TEST_CHECK(!strcmp(op(ARITH_SUB, "10", "0.001"), "9.999"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "1", "3"), "0.33333333333333333333"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "100", "3.0"), "33.3333333333333333"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "1.0", "3000000"), "0.000000333333333333333333"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "5.0", "2"), "2.5000000000000000"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "2", "3"), "0.66666666666666666667"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "7", "0"), "ERR 22012"));
    TEST_CHECK(!strcmp(op(ARITH_MOD, "10", "3.5"), "3.0"));
    TEST_CHECK(!strcmp(op(ARITH_MOD, "-10", "3.5"), "-3.0"));
    TEST_CHECK(!strcmp(op(ARITH_MOD, "10.5", "-3"), "1.5"));
    TEST_CHECK(!strcmp(op(ARITH_MOD, "1", "0"), "ERR 22012"));
    /* carries and borrows across digit groups */
    TEST_CHECK(!strcmp(op(ARITH_ADD, "9999.9999", "0.0001"), "10000.0000"));
    TEST_CHECK(!strcmp(op(ARITH_SUB, "10000", "0.0001"), "9999.9999"));
    TEST_CHECK(!strcmp(op(ARITH_ADD, "99999999999999999999", "1"), "100000000000000000000"));
    TEST_CHECK(!strcmp(op(ARITH_SUB, "1", "1.00"), "0.00"));
    TEST_CHECK(!strcmp(op(ARITH_SUB, "0.5", "1"), "-0.5"));
    TEST_CHECK(!strcmp(op(ARITH_MUL, "99999999", "99999999"), "9999999800000001"));
    TEST_CHECK(!strcmp(op(ARITH_MUL, "-0.5", "0"), "0.0"));
    /* specials */
    TEST_CHECK(!strcmp(op(ARITH_ADD, "inf", "-inf"), "NaN"));
    TEST_CHECK(!strcmp(op(ARITH_MUL, "inf", "0"), "NaN"));
    TEST_CHECK(!strcmp(op(ARITH_MUL, "-inf", "-2"), "Infinity"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "1", "inf"), "0"));
    TEST_CHECK(!strcmp(op(ARITH_DIV, "inf", "0"), "ERR 22012"));
    TEST_CHECK(!strcmp(op(ARITH_MOD, "5", "inf"), "5"));
    TEST_CHECK(!strcmp(op(ARITH_ADD, "NaN", "1"), "NaN"));
}

static const char *typmod(const char *v, int p, int s)
{
    int mods[2] = {p, s};
    int32_t tm;
    sql_error_t err = {0};
    datum_t out;
    if (numeric_typmod(2, mods, &tm, &err) < 0 || numeric_apply_typmod(num(v), tm, &arena, &out, &err) < 0) {
        char *r = buf[bufi++ & 3];
        snprintf(r, sizeof buf[0], "ERR %s %s / %s", err.sqlstate, err.message, err.detail);
        return r;
    }
    return str(out);
}

TEST(numeric_typmod_rounding)
{
    TEST_CHECK(!strcmp(typmod("123.455", 5, 2), "123.46"));
    TEST_CHECK(!strcmp(typmod("-123.455", 5, 2), "-123.46"));
    TEST_CHECK(!strcmp(typmod("0.5", 1, 0), "1"));
    TEST_CHECK(!strcmp(typmod("12345", 3, -2), "12300"));
    TEST_CHECK(!strcmp(typmod("1.5", 5, 3), "1.500"));
    TEST_CHECK(!strcmp(typmod("999.995", 5, 2),
                       "ERR 22003 numeric field overflow / A field with precision 5, scale 2 must round to an "
                       "absolute value less than 10^3."));
    TEST_CHECK(!strcmp(typmod("1", 3, 3),
                       "ERR 22003 numeric field overflow / A field with precision 3, scale 3 must round to an "
                       "absolute value less than 1."));
    TEST_CHECK(!strcmp(typmod("inf", 5, 2),
                       "ERR 22003 numeric field overflow / A field with precision 5, scale 2 cannot hold an "
                       "infinite value."));
    TEST_CHECK(!strcmp(typmod("NaN", 3, 1), "NaN"));
    TEST_CHECK(!strncmp(typmod("1", 0, 0), "ERR 22023 NUMERIC precision 0 must be between 1 and 1000", 56));
}

TEST(numeric_functions)
{
    datum_t out;
    sql_error_t err = {0};
    datum_t z = {0};
    TEST_CHECK(numeric_func(NUMFN_ROUND, num("2.5"), z, 0, &arena, &out, &err) == 0 && !strcmp(str(out), "3"));
    TEST_CHECK(numeric_func(NUMFN_ROUND, num("-2.5"), z, 0, &arena, &out, &err) == 0 && !strcmp(str(out), "-3"));
    TEST_CHECK(numeric_func(NUMFN_ROUND, num("9.995"), z, 2, &arena, &out, &err) == 0 && !strcmp(str(out), "10.00"));
    TEST_CHECK(numeric_func(NUMFN_ROUND, num("1234.5"), z, -2, &arena, &out, &err) == 0 && !strcmp(str(out), "1200"));
    TEST_CHECK(numeric_func(NUMFN_TRUNC, num("-2.789"), z, 2, &arena, &out, &err) == 0 && !strcmp(str(out), "-2.78"));
    TEST_CHECK(numeric_func(NUMFN_CEIL, num("-1.2"), z, 0, &arena, &out, &err) == 0 && !strcmp(str(out), "-1"));
    TEST_CHECK(numeric_func(NUMFN_FLOOR, num("-1.2"), z, 0, &arena, &out, &err) == 0 && !strcmp(str(out), "-2"));
    TEST_CHECK(numeric_func(NUMFN_SQRT, num("2"), z, 0, &arena, &out, &err) == 0 &&
               !strcmp(str(out), "1.414213562373095"));
    TEST_CHECK(numeric_func(NUMFN_SQRT, num("16.00"), z, 0, &arena, &out, &err) == 0 &&
               !strcmp(str(out), "4.000000000000000"));
    TEST_CHECK(numeric_func(NUMFN_POWER, num("2.0"), num("10"), 0, &arena, &out, &err) == 0 &&
               !strcmp(str(out), "1024.0000000000000000"));
    TEST_CHECK(numeric_func(NUMFN_TRIM_SCALE, num("100.000"), z, 0, &arena, &out, &err) == 0 &&
               !strcmp(str(out), "100"));
    TEST_CHECK(numeric_func(NUMFN_MIN_SCALE, num("1.500"), z, 0, &arena, &out, &err) == 0 && out.i64 == 1);
}

TEST(numeric_cmp_hash_binary)
{
    TEST_CHECK(numeric_cmp(num("1.0"), num("1.00")) == 0);
    TEST_CHECK(numeric_hash(num("1.0")) == numeric_hash(num("1.00")));
    TEST_CHECK(numeric_hash(num("0")) == numeric_hash(num("-0.000")));
    TEST_CHECK(numeric_cmp(num("-1"), num("0.5")) < 0);
    TEST_CHECK(numeric_cmp(num("-2"), num("-1.5")) < 0);
    TEST_CHECK(numeric_cmp(num("10000"), num("9999.9999")) > 0);
    TEST_CHECK(numeric_cmp(num("1.00001"), num("1.0000")) > 0);
    TEST_CHECK(numeric_cmp(num("NaN"), num("inf")) > 0);
    TEST_CHECK(numeric_cmp(num("NaN"), num("NaN")) == 0);
    TEST_CHECK(numeric_cmp(num("-inf"), num("-1e1000")) < 0);
    /* PostgreSQL's wire form of 123.4500: ndigits 2, weight 0, sign 0, dscale 4, 123 4500 */
    datum_t d = num("123.4500");
    static const uint8_t want[] = {0, 2, 0, 0, 0, 0, 0, 4, 0, 123, 0x11, 0x94};
    TEST_CHECK(d.s->len == sizeof want && !memcmp(d.s->data, want, sizeof want));
    datum_t back;
    sql_error_t err = {0};
    TEST_CHECK(numeric_recv(want, sizeof want, &arena, &back, &err) == 0 && !strcmp(str(back), "123.4500"));
    /* digits hidden by dscale are truncated, as numeric_recv does */
    static const uint8_t hidden[] = {0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88};   /* 1.5000, dscale 1 */
    TEST_CHECK(numeric_recv(hidden, sizeof hidden, &arena, &back, &err) == 0 && !strcmp(str(back), "1.5"));
    static const uint8_t bad[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10};               /* digit 10000 */
    TEST_CHECK(numeric_recv(bad, sizeof bad, &arena, &back, &err) < 0);
    TEST_CHECK(numeric_recv(bad, 5, &arena, &back, &err) < 0);
}

/* Scaled-integer text: v * 10^-s. */
static const char *scaled(__int128 v, int s)
{
    char digits[64];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do { digits[n++] = (char)('0' + (int)(u % 10)); u /= 10; } while (u);
    while (n <= s) digits[n++] = '0';
    char *r = buf[bufi++ & 3];
    int k = 0;
    bool zero = true;
    for (int i = 0; i < n; i++) if (digits[i] != '0') zero = false;
    if (neg && !zero) r[k++] = '-';
    for (int i = n - 1; i >= 0; i--) {
        r[k++] = digits[i];
        if (i == s && s > 0) r[k++] = '.';
    }
    r[k] = 0;
    return r;
}

static int64_t rnd(int64_t range) { return (int64_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % (uint64_t)(2 * range + 1)) - range; }

static __int128 p10(int k) { __int128 r = 1; while (k-- > 0) r *= 10; return r; }

TEST(numeric_random_cross_check)
{
    srand(12345);
    for (int it = 0; it < 20000; it++) {
        int64_t range = it % 3 == 0 ? 1000 : it % 3 == 1 ? 100000000 : INT64_C(100000000000);
        int64_t a = rnd(range), b = rnd(range);
        int sa = rand() % 6, sb = rand() % 6;
        char as[64], bs[64];
        snprintf(as, sizeof as, "%s", scaled(a, sa));
        snprintf(bs, sizeof bs, "%s", scaled(b, sb));
        int S = sa > sb ? sa : sb;
        __int128 A = (__int128)a * p10(S - sa), B = (__int128)b * p10(S - sb);
        TEST_CHECK(!strcmp(op(ARITH_ADD, as, bs), scaled(A + B, S)));
        TEST_CHECK(!strcmp(op(ARITH_SUB, as, bs), scaled(A - B, S)));
        TEST_CHECK(!strcmp(op(ARITH_MUL, as, bs), scaled((__int128)a * b, sa + sb)));
        TEST_CHECK((numeric_cmp(num(as), num(bs)) > 0) == (A > B));
        if (b != 0) {
            /* the quotient at the scale numeric chose, rounded half away from zero */
            const char *q = op(ARITH_DIV, as, bs);
            const char *dot = strchr(q, '.');
            int rs = dot ? (int)strlen(dot + 1) : 0;
            if (rs <= 20) {
                /* q = round(a * 10^(rs - sa + sb) / b) */
                int e = rs - sa + sb;
                __int128 N = (__int128)a * p10(e > 0 ? e : 0), D = (__int128)b * p10(e < 0 ? -e : 0);
                if (N / p10(e > 0 ? e : 0) == a) {     /* no overflow in 128 bits */
                    __int128 qq = N / D, rem = N % D;
                    if (rem < 0) rem = -rem;
                    __int128 ad = D < 0 ? -D : D;
                    if (2 * rem >= ad) qq += (N < 0) != (D < 0) ? -1 : 1;
                    TEST_CHECK(!strcmp(q, scaled(qq, rs)));
                }
            }
            __int128 M = A % B;                       /* C's % truncates like numeric's */
            TEST_CHECK(!strcmp(op(ARITH_MOD, as, bs), scaled(M, S)));
        }
    }
}

TEST(numeric_accumulator)
{
    srand(777);
    numeric_acc_t acc = {0};
    sql_error_t err = {0};
    __int128 want = 0;
    for (int i = 0; i < 5000; i++) {
        int64_t v = rnd(INT64_C(1000000000000));
        int s = rand() % 4;
        want += (__int128)v * p10(3 - s);
        TEST_CHECK(numeric_acc_add(&acc, num(scaled(v, s)), &arena, &err) == 0);
    }
    datum_t out;
    TEST_CHECK(numeric_acc_result(&acc, &arena, &out, &err) == 0);
    TEST_CHECK(!strcmp(str(out), scaled(want, 3)));
    /* a negative running total, then back through zero */
    numeric_acc_t acc2 = {0};
    TEST_CHECK(numeric_acc_add(&acc2, num("-10000.5"), &arena, &err) == 0);
    TEST_CHECK(numeric_acc_result(&acc2, &arena, &out, &err) == 0 && !strcmp(str(out), "-10000.5"));
    TEST_CHECK(numeric_acc_add(&acc2, num("10000.50"), &arena, &err) == 0);
    TEST_CHECK(numeric_acc_result(&acc2, &arena, &out, &err) == 0 && !strcmp(str(out), "0.00"));
    numeric_acc_t acc3 = {0};
    TEST_CHECK(numeric_acc_add(&acc3, num("inf"), &arena, &err) == 0 && numeric_acc_add(&acc3, num("-inf"), &arena, &err) == 0);
    TEST_CHECK(numeric_acc_result(&acc3, &arena, &out, &err) == 0 && !strcmp(str(out), "NaN"));
}

/* The primary-key encoding (sql/types_enc.c): bytes compare as numeric_cmp does, equal
 * values in any display scale are one key, and a key is never a prefix of another. */
static int key_cmp(datum_t x, datum_t y, bool *prefix)
{
    strbuf_t a, b;
    strbuf_init(&a);
    strbuf_init(&b);
    type_key_encode(TYPE_NUMERIC, x, &a);
    type_key_encode(TYPE_NUMERIC, y, &b);
    size_t n = a.len < b.len ? a.len : b.len;
    int c = memcmp(a.data, b.data, n);
    *prefix = c == 0 && a.len != b.len;
    if (!c) c = a.len < b.len ? -1 : a.len > b.len;
    strbuf_free(&a);
    strbuf_free(&b);
    return c < 0 ? -1 : c > 0;
}

TEST(numeric_key_encoding)
{
    static const char *vals[] = {
        "-Infinity", "-1e30", "-10000", "-9999.9999", "-10", "-9.99", "-1.5", "-1.25", "-1", "-0.999",
        "-0.001", "-1e-20", "0", "0.00", "1e-20", "0.00100", "0.001001", "0.01", "0.999", "1", "1.0", "1.00",
        "1.000000001", "1.25", "1.5", "9.99", "10", "10.000", "100.1", "9999", "10000", "10000.0001",
        "123456789012345678901234567890.5", "1e30", "Infinity", "NaN",
    };
    int n = (int)(sizeof vals / sizeof vals[0]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            datum_t x = num(vals[i]), y = num(vals[j]);
            bool prefix;
            int kc = key_cmp(x, y, &prefix), c = numeric_cmp(x, y);
            c = c < 0 ? -1 : c > 0;
            if (kc != c)
                fprintf(stderr, "key order of %s vs %s: %d, numeric_cmp %d\n", vals[i], vals[j], kc, c);
            TEST_CHECK(kc == c);
            TEST_CHECK(!prefix);
        }
    /* a random cross-check over scaled integers */
    srand(7);
    for (int i = 0; i < 2000; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%s%d.%0*d", rand() % 2 ? "-" : "", rand() % 100000, 1 + rand() % 5, rand() % 1000);
        snprintf(b, sizeof b, "%s%d.%0*d", rand() % 2 ? "-" : "", rand() % 100000, 1 + rand() % 5, rand() % 1000);
        bool prefix;
        int kc = key_cmp(num(a), num(b), &prefix), c = numeric_cmp(num(a), num(b));
        TEST_CHECK(kc == (c < 0 ? -1 : c > 0));
    }
}

TEST(numeric_sqrt_at)
{
    datum_t out;
    sql_error_t err = {0};
    TEST_CHECK(numeric_sqrt_at(num("2"), 20, &arena, &out, &err) == 0 && !strcmp(str(out), "1.41421356237309504880"));
    TEST_CHECK(numeric_sqrt_at(num("2.25"), 3, &arena, &out, &err) == 0 && !strcmp(str(out), "1.500"));
    TEST_CHECK(numeric_sqrt_at(num("0"), 2, &arena, &out, &err) == 0 && !strcmp(str(out), "0.00"));
    TEST_CHECK(numeric_sqrt_at(num("0.0000000002"), 12, &arena, &out, &err) == 0 && !strcmp(str(out), "0.000014142136"));
}

TEST_MAIN()
