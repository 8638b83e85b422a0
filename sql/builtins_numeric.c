/*
 * builtins_numeric.c -- PostgreSQL 15's functions on numeric: abs, sign, round,
 * trunc, ceil/ceiling, floor, mod, div, sqrt, power/pow (integer exponents, exact),
 * scale, min_scale, trim_scale. The arithmetic lives in numeric.c; these wrappers
 * only pick the operation. exp, ln and log on numeric are not provided: such calls
 * resolve to the float8 versions through the implicit numeric -> float8 cast.
 */
#include "sql/builtins_int.h"
#include "sql/numeric.h"

static int numfn(const builtin_ctx_t *ctx, int fn, const datum_t *args, int s, datum_t *out, sql_error_t *err)
{
    return numeric_func(fn, args[0], args[1], s, ctx->arena, out, err);
}

#define NUMFN1(name, code) \
    static BUILTIN_FN(name) { (void)nargs; (void)nulls; (void)argtypes; (void)isnull; \
                              datum_t two[2] = {args[0], args[0]}; return numfn(ctx, code, two, 0, out, err); }
#define NUMFN2(name, code) \
    static BUILTIN_FN(name) { (void)nargs; (void)nulls; (void)argtypes; (void)isnull; \
                              return numfn(ctx, code, args, 0, out, err); }

NUMFN1(bn_abs, NUMFN_ABS)
NUMFN1(bn_sign, NUMFN_SIGN)
NUMFN1(bn_ceil, NUMFN_CEIL)
NUMFN1(bn_floor, NUMFN_FLOOR)
NUMFN1(bn_scale, NUMFN_SCALE)
NUMFN1(bn_min_scale, NUMFN_MIN_SCALE)
NUMFN1(bn_trim_scale, NUMFN_TRIM_SCALE)
NUMFN1(bn_sqrt, NUMFN_SQRT)
NUMFN2(bn_div, NUMFN_DIV)
NUMFN2(bn_power, NUMFN_POWER)

static BUILTIN_FN(bn_round)
{
    (void)nulls; (void)argtypes; (void)isnull;
    datum_t two[2] = {args[0], args[0]};
    return numfn(ctx, NUMFN_ROUND, two, nargs > 1 ? (int)args[1].i64 : 0, out, err);
}

static BUILTIN_FN(bn_trunc)
{
    (void)nulls; (void)argtypes; (void)isnull;
    datum_t two[2] = {args[0], args[0]};
    return numfn(ctx, NUMFN_TRUNC, two, nargs > 1 ? (int)args[1].i64 : 0, out, err);
}

static BUILTIN_FN(bn_mod)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    return numeric_arith(ARITH_MOD, args[0], args[1], ctx->arena, out, err);
}

#define N TYPE_NUMERIC
#define I4 TYPE_INT4
const builtin_t builtins_numeric[] = {
    /* name, pg_proc oid, nargs, argtypes, result, strict, volatility, fn */
    {"abs", 1705, 1, {N}, N, true, 'i', bn_abs},
    {"sign", 1706, 1, {N}, N, true, 'i', bn_sign},
    {"round", 1708, 1, {N}, N, true, 'i', bn_round},
    {"round", 1707, 2, {N, I4}, N, true, 'i', bn_round},
    {"trunc", 1710, 1, {N}, N, true, 'i', bn_trunc},
    {"trunc", 1709, 2, {N, I4}, N, true, 'i', bn_trunc},
    {"ceil", 1711, 1, {N}, N, true, 'i', bn_ceil},
    {"ceiling", 2167, 1, {N}, N, true, 'i', bn_ceil},
    {"floor", 1712, 1, {N}, N, true, 'i', bn_floor},
    {"mod", 1728, 2, {N, N}, N, true, 'i', bn_mod},
    {"div", 1973, 2, {N, N}, N, true, 'i', bn_div},
    {"sqrt", 1730, 1, {N}, N, true, 'i', bn_sqrt},
    {"power", 2169, 2, {N, N}, N, true, 'i', bn_power},
    {"pow", 1738, 2, {N, N}, N, true, 'i', bn_power},
    {"scale", 3281, 1, {N}, I4, true, 'i', bn_scale},
    {"min_scale", 5042, 1, {N}, I4, true, 'i', bn_min_scale},
    {"trim_scale", 5043, 1, {N}, N, true, 'i', bn_trim_scale},
    /* sql/builtins_width.c */
    {"width_bucket", 2170, 4, {N, N, N, I4}, I4, true, 'i', bi_width_bucket_num},
    {"width_bucket", 320, 4, {TYPE_FLOAT8, TYPE_FLOAT8, TYPE_FLOAT8, I4}, I4, true, 'i', bi_width_bucket_f8},
};
const int builtins_numeric_count = (int)(sizeof builtins_numeric / sizeof builtins_numeric[0]);
