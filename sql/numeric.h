/*
 * numeric.h -- PostgreSQL's exact decimal type `numeric` (`decimal`): representation,
 * text and binary forms, arithmetic with PostgreSQL 15's result scales, rounding,
 * comparison and hashing.
 *
 * Why: PostgreSQL clients expect exact decimals (sum/avg results, money columns,
 * decimal literals) printed exactly as PostgreSQL prints them; float8 cannot do it.
 *
 * Model:
 *   - The datum (datum_t.s) is a vstr_t whose bytes are PostgreSQL's binary wire form:
 *     big-endian u16 ndigits, i16 weight, u16 sign, u16 dscale, then ndigits i16
 *     base-10000 digits (most significant first); value = sum digit[k] *
 *     10000^(weight - k). Values are normalized: no leading or trailing zero digits,
 *     zero has ndigits 0 and weight 0, and specials (NaN, +/-Infinity) carry no digits.
 *     So equal values differ at most in dscale, which hashing ignores (1.0 = 1.00),
 *     and send is a copy of the bytes.
 *   - Arithmetic unpacks into num_t, a sign + little-endian array of decimal digits
 *     + scale (value = sum d[i] * 10^(i - scale)). The scale is the dscale, so the
 *     scale rules are PostgreSQL's: + and - max(s1, s2), * s1 + s2, / select_div_scale
 *     (at least 16 significant digits, at least either input's scale, at most 1000),
 *     % max(s1, s2). Rounding is half away from zero.
 *   - Limits (ours, smaller than PostgreSQL's 131072 digits before and 16383 after
 *     the point): NUMERIC_MAX_INT_DIGITS before and NUMERIC_MAX_SCALE after; a value
 *     beyond is 22003 "value overflows numeric format", as PostgreSQL says beyond its
 *     own bounds.
 *
 * Interface (every function returning int is 0 or -1 with err filled):
 *   numeric_in / numeric_out            text forms (22P02 on bad input)
 *   numeric_recv                        binary form, validated and normalized
 *   numeric_typmod / numeric_apply_typmod  numeric(p,s) modifiers and their rounding
 *   numeric_cmp / numeric_hash          order (NaN above +Infinity) and hashing
 *   numeric_arith                       + - * / % and unary minus
 *   numeric_from_i64/_i128/_f64, numeric_to_i64/_f64   casts
 *   numeric_round / numeric_trunc / numeric_ceil / numeric_floor, numeric_func
 *   numeric_acc_*                       sum accumulator for aggregates
 *
 * Thread: any; no global state. All results are allocated in the arena given.
 */
#ifndef NEXTDB_NUMERIC_H
#define NEXTDB_NUMERIC_H
#include "sql/types.h"

#define NUMERIC_MAX_INT_DIGITS     4096   /* decimal digits before the point */
#define NUMERIC_MAX_SCALE          4096   /* decimal digits after the point */
#define NUMERIC_MAX_PRECISION      1000   /* numeric(p,s): 1 <= p <= 1000 */
#define NUMERIC_MIN_TYPMOD_SCALE   (-1000)
#define NUMERIC_MAX_TYPMOD_SCALE   1000
#define NUMERIC_MAX_DISPLAY_SCALE  1000   /* division / function result scale cap */
#define NUMERIC_MIN_SIG_DIGITS     16     /* significant digits of a quotient */

enum { NUM_FINITE = 0, NUM_NAN = 1, NUM_PINF = 2, NUM_NINF = 3 };

/* Unpacked working form. */
typedef struct num {
    int kind;          /* NUM_* */
    bool neg;          /* finite values only; zero is never negative */
    int n;             /* digits in d, no leading (high) zeros: 0 for zero */
    int scale;         /* >= 0: digits after the point, the dscale */
    uint8_t *d;        /* d[0] is the lowest digit */
} num_t;

int numeric_in(const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void numeric_out(datum_t d, strbuf_t *out);
int numeric_recv(const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void numeric_send(datum_t d, strbuf_t *out);

/* numeric(p[,s]) modifiers -> typmod ((p << 16 | (s & 0x7ff)) + 4, PostgreSQL 15). */
int numeric_typmod(int nmods, const int *mods, int32_t *typmod, sql_error_t *err);
void numeric_typmod_format(int32_t typmod, strbuf_t *out);
/* Rounds to the typmod's scale and checks the precision (22003 with PG's DETAIL). */
int numeric_apply_typmod(datum_t in, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err);

int numeric_cmp(datum_t a, datum_t b);
uint64_t numeric_hash(datum_t d);

int numeric_arith(int op, datum_t a, datum_t b, arena_t *a_, datum_t *out, sql_error_t *err);

int numeric_from_i64(int64_t v, arena_t *a, datum_t *out, sql_error_t *err);
int numeric_from_i128(__int128 v, arena_t *a, datum_t *out, sql_error_t *err);
/* float8 (15 significant digits) / float4 (6), as PostgreSQL's float8_numeric. */
int numeric_from_f64(double v, bool is_float4, arena_t *a, datum_t *out, sql_error_t *err);
/* Rounds half away from zero, then range-checks for int2/int4/int8 (22003). */
int numeric_to_int(datum_t d, type_oid_t t, int64_t *out, sql_error_t *err);
int numeric_to_i128(datum_t d, __int128 *out);      /* integral finite values only */
double numeric_to_f64(datum_t d);

/* Functions of one numeric (and an int scale where PG has one). */
enum numeric_fn {
    NUMFN_ABS, NUMFN_SIGN, NUMFN_ROUND, NUMFN_TRUNC, NUMFN_CEIL, NUMFN_FLOOR,
    NUMFN_SCALE, NUMFN_MIN_SCALE, NUMFN_TRIM_SCALE, NUMFN_SQRT, NUMFN_DIV, NUMFN_POWER,
};
/* fn's result; NUMFN_SCALE / NUMFN_MIN_SCALE return an int4 in out->i64; NUMFN_DIV and
 * NUMFN_POWER take a second numeric b; ROUND / TRUNC take the int scale s. */
int numeric_func(int fn, datum_t x, datum_t b, int s, arena_t *a, datum_t *out, sql_error_t *err);

/* The square root of a finite d >= 0 rounded (half away from zero) to rs digits after
 * the point: PostgreSQL's sqrt_var at a given rscale (stddev of numeric). */
int numeric_sqrt_at(datum_t d, int rs, arena_t *a, datum_t *out, sql_error_t *err);

/* Working-form helpers (exposed for the unit test). */
int numeric_unpack(datum_t d, arena_t *a, num_t *out);
int numeric_pack(const num_t *x, arena_t *a, datum_t *out, sql_error_t *err);

/* Sum accumulator: signed digit columns added in place, normalized at the end. */
typedef struct numeric_acc {
    int32_t *d;
    int cap, n, scale;
    int64_t adds;      /* additions since the last carry pass */
    bool nan, pinf, ninf;
} numeric_acc_t;
int numeric_acc_add(numeric_acc_t *acc, datum_t v, arena_t *a, sql_error_t *err);
int numeric_acc_result(numeric_acc_t *acc, arena_t *a, datum_t *out, sql_error_t *err);
/* sum / count with the division's scale (avg). */
int numeric_div_count(datum_t sum, int64_t count, arena_t *a, datum_t *out, sql_error_t *err);
#endif
