/*
 * builtins_width.c -- width_bucket(operand, low, high, count) over double precision
 * and numeric, as PostgreSQL 15: the bucket number (1 .. count) of operand in count
 * equal-width buckets between low and high (low > high counts downwards), 0 below the
 * range and count + 1 above it; 2201G for count <= 0, NaN inputs, infinite bounds
 * and equal bounds, 22003 when count + 1 overflows. The numeric version is exact
 * (the quotient truncated), the float8 one computes count * (x - low) / (high - low) + 1
 * in that order, as PostgreSQL 15 does.
 */
#include <math.h>
#include <string.h>

#include "sql/builtins_int.h"
#include "sql/numeric.h"

#define SQLSTATE_WIDTH_BUCKET "2201G"

static int count_error(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_WIDTH_BUCKET, "count must be greater than zero");
}

static int over_error(sql_error_t *err) { return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "integer out of range"); }

BUILTIN_FN(bi_width_bucket_f8)
{
    double x = args[0].f64, lo = args[1].f64, hi = args[2].f64;
    int64_t count = args[3].i64, r;
    if (count <= 0)
        return count_error(err);
    if (isnan(x) || isnan(lo) || isnan(hi))
        return sql_error(err, SQLSTATE_WIDTH_BUCKET, "operand, lower bound, and upper bound cannot be NaN");
    if (!isfinite(lo) || !isfinite(hi))
        return sql_error(err, SQLSTATE_WIDTH_BUCKET, "lower and upper bounds must be finite");
    if (lo == hi)
        return sql_error(err, SQLSTATE_WIDTH_BUCKET, "lower bound cannot equal upper bound");
    bool up = lo < hi;
    if (up ? x < lo : x > lo) {
        r = 0;
    } else if (up ? x >= hi : x <= hi) {
        if (count == INT32_MAX)
            return over_error(err);
        r = count + 1;
    } else {
        /* PostgreSQL 15: (int32) (count * (x - lo) / (hi - lo) + 1), no clamp; the
         * conversion of NaN or an out-of-range value gives INT32_MIN as on x86 */
        double v = up ? (double)count * (x - lo) / (hi - lo) + 1 : (double)count * (lo - x) / (lo - hi) + 1;
        r = v >= -2147483648.0 && v < 2147483648.0 ? (int32_t)v : INT32_MIN;
    }
    out->i64 = r;
    return 0;
}

static bool is_kind(datum_t d, int kind, arena_t *a)
{
    num_t x;
    return numeric_unpack(d, a, &x) == 0 && x.kind == kind;
}

BUILTIN_FN(bi_width_bucket_num)
{
    arena_t *a = ctx->arena;
    datum_t x = args[0], lo = args[1], hi = args[2];
    int64_t count = args[3].i64;
    if (count <= 0)
        return count_error(err);
    if (is_kind(x, NUM_NAN, a) || is_kind(lo, NUM_NAN, a) || is_kind(hi, NUM_NAN, a))
        return sql_error(err, SQLSTATE_WIDTH_BUCKET, "operand, lower bound, and upper bound cannot be NaN");
    if (is_kind(lo, NUM_PINF, a) || is_kind(lo, NUM_NINF, a) || is_kind(hi, NUM_PINF, a) || is_kind(hi, NUM_NINF, a))
        return sql_error(err, SQLSTATE_WIDTH_BUCKET, "lower and upper bounds must be finite");
    int c = numeric_cmp(lo, hi);
    if (c == 0)
        return sql_error(err, SQLSTATE_WIDTH_BUCKET, "lower bound cannot equal upper bound");
    bool up = c < 0;
    if (up ? numeric_cmp(x, lo) < 0 : numeric_cmp(x, lo) > 0) {
        out->i64 = 0;
        return 0;
    }
    if (up ? numeric_cmp(x, hi) >= 0 : numeric_cmp(x, hi) <= 0) {
        if (count == INT32_MAX)
            return over_error(err);
        out->i64 = count + 1;
        return 0;
    }
    /* trunc((x - lo) * count / (hi - lo)) + 1, exactly */
    datum_t n, d, cnt, prod, q;
    int64_t r;
    if (numeric_arith(ARITH_SUB, up ? x : lo, up ? lo : x, a, &n, err) < 0 ||
        numeric_arith(ARITH_SUB, up ? hi : lo, up ? lo : hi, a, &d, err) < 0 ||
        numeric_from_i64(count, a, &cnt, err) < 0 || numeric_arith(ARITH_MUL, n, cnt, a, &prod, err) < 0 ||
        numeric_func(NUMFN_DIV, prod, d, 0, a, &q, err) < 0 || numeric_to_int(q, TYPE_INT8, &r, err) < 0)
        return -1;
    out->i64 = r + 1;
    return 0;
}
