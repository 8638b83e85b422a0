/*
 * exec_agg_ext.c -- the aggregates of exec_agg_ext.h: their states, transition
 * and final functions.
 */
#include "sql/exec_agg_ext.h"

#include <math.h>
#include <string.h>

#include "core/limits.h"
#include "sql/builtins_json.h"
#include "sql/builtins_int.h"
#include "sql/exec_int.h"
#include "sql/numeric.h"
#include "sql/types_json.h"

typedef struct agg_ext {
    int64_t n;                  /* inputs seen (non-null for the variance family) */
    double sx, sxx;             /* float8_accum's N, Sx, Sxx (with n) */
    __int128 isx, isxx;         /* the variance family of int2 / int4: exact sums */
    numeric_acc_t *nsx, *nsxx;  /* ... of int8 / numeric: numeric sums of X and X * X */
    datum_t ivsum;              /* sum / avg of interval: the sum so far (n inputs) */
    bool bval;                  /* bool_and / bool_or */
    datum_t *vals;              /* array_agg */
    bool *nulls;
    int64_t cap;
    char *buf;                  /* json aggregates: the text so far */
    size_t len, bufcap;
} agg_ext_t;

bool agg_ext_is(plan_aggfn_t fn) { return fn >= AGG_BOOL_AND && fn <= AGG_MODE; }

bool agg_ext_takes_nulls(plan_aggfn_t fn) { return fn >= AGG_ARRAY_AGG && fn <= AGG_JSON_OBJECT_AGG; }

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static int buf_add(arena_t *a, agg_ext_t *e, const char *p, size_t n, sql_error_t *err)
{
    if (e->len + n > LIMIT_TEXT_VALUE_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "aggregate result exceeds %d bytes", LIMIT_TEXT_VALUE_BYTES);
    if (e->len + n > e->bufcap) {
        size_t cap = (e->len + n) * 2 < 256 ? 256 : (e->len + n) * 2;
        char *nb = arena_alloc(a, cap);
        if (!nb) return oom(err);
        if (e->len) memcpy(nb, e->buf, e->len);
        e->buf = nb;
        e->bufcap = cap;
    }
    memcpy(e->buf + e->len, p, n);
    e->len += n;
    return 0;
}

/* float8_accum (PostgreSQL 12+): Youngs-Cramer, with its Inf/NaN rules. */
static int accum(agg_ext_t *e, double x, sql_error_t *err)
{
    double n0 = (double)e->n, n = n0 + 1.0;
    double sx = e->sx + x, sxx = e->sxx;
    if (n0 > 0.0) {
        double tmp = x * n - sx;
        sxx += tmp * tmp / (n * n0);
        if (isinf(sx) || isinf(sxx)) {
            if (!isinf(e->sx) && !isinf(x))
                return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: overflow");
            sxx = NAN;
        }
    } else if (isnan(x) || isinf(x)) {
        sxx = NAN;
    }
    e->n++;
    e->sx = sx;
    e->sxx = sxx;
    return 0;
}

/* PostgreSQL's int2/int4 (int128) and int8/numeric (numeric) accumulation: N, the
 * exact sum of X and of X * X (whose scale is twice X's). */
static int num_accum(arena_t *a, agg_ext_t *e, type_oid_t t, datum_t v, sql_error_t *err)
{
    e->n++;
    if (t == TYPE_INT2 || t == TYPE_INT4) {
        e->isx += v.i64;
        e->isxx += (__int128)v.i64 * v.i64;
        return 0;
    }
    if (!e->nsx) {
        e->nsx = arena_alloc(a, sizeof *e->nsx);
        e->nsxx = arena_alloc(a, sizeof *e->nsxx);
        if (!e->nsx || !e->nsxx)
            return oom(err);
        memset(e->nsx, 0, sizeof *e->nsx);
        memset(e->nsxx, 0, sizeof *e->nsxx);
    }
    datum_t x = v, xx;
    if (t != TYPE_NUMERIC && numeric_from_i64(v.i64, a, &x, err) < 0)
        return -1;
    if (numeric_arith(ARITH_MUL, x, x, a, &xx, err) < 0 || numeric_acc_add(e->nsx, x, a, err) < 0 ||
        numeric_acc_add(e->nsxx, xx, a, err) < 0)
        return -1;
    return 0;
}

/* numeric_stddev_internal: (N * Sxx - Sx * Sx) / (N * (N - 1)) (population: N * N) in
 * numeric with the division's scale, its square root at that scale for stddev; 0
 * when the numerator is not positive; NaN when any input was NaN or infinite. */
static int num_final(arena_t *a, const agg_ext_t *e, bool samp, bool stddev, datum_t *out, sql_error_t *err)
{
    datum_t sx, sxx, n, sq, nxx, num, den, q;
    if (e->nsx) {
        /* the accumulators themselves: a window keeps adding after a result */
        numeric_acc_t *ax = e->nsx, *axx = e->nsxx;
        if (ax->nan || ax->pinf || ax->ninf || axx->nan || axx->pinf || axx->ninf) {
            const char *s = "NaN";
            return numeric_in(s, strlen(s), a, out, err);
        }
        if (numeric_acc_result(ax, a, &sx, err) < 0 || numeric_acc_result(axx, a, &sxx, err) < 0)
            return -1;
    } else if (numeric_from_i128(e->isx, a, &sx, err) < 0 || numeric_from_i128(e->isxx, a, &sxx, err) < 0) {
        return -1;
    }
    __int128 nn = (__int128)e->n * (samp ? e->n - 1 : e->n);
    if (numeric_from_i64(e->n, a, &n, err) < 0 || numeric_arith(ARITH_MUL, sx, sx, a, &sq, err) < 0 ||
        numeric_arith(ARITH_MUL, n, sxx, a, &nxx, err) < 0 || numeric_arith(ARITH_SUB, nxx, sq, a, &num, err) < 0 ||
        numeric_from_i128(nn, a, &den, err) < 0 || numeric_from_i64(0, a, &q, err) < 0)
        return -1;
    if (numeric_cmp(num, q) <= 0) {
        *out = q;
        return 0;
    }
    if (numeric_arith(ARITH_DIV, num, den, a, &q, err) < 0)
        return -1;
    if (!stddev) {
        *out = q;
        return 0;
    }
    num_t uq;
    if (numeric_unpack(q, a, &uq) < 0)
        return oom(err);
    return numeric_sqrt_at(q, uq.scale, a, out, err);
}

static int json_elem(arena_t *a, agg_ext_t *e, const plan_agg_t *pa, bool obj, datum_t v, bool vnull, datum_t v2,
                     bool v2null, sql_error_t *err)
{
    bool json = pa->fn == AGG_JSON_AGG || pa->fn == AGG_JSON_OBJECT_AGG;
    const char *open = obj ? (json ? "{ " : "{") : "[";
    const char *sep = ", ";
    int rc = e->n ? buf_add(a, e, sep, strlen(sep), err) : buf_add(a, e, open, strlen(open), err);
    if (rc < 0) return -1;
    strbuf_t sb;
    strbuf_init(&sb);
    if (obj) {
        if (vnull) {
            strbuf_free(&sb);
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "field name must not be null");
        }
        strbuf_t key;
        strbuf_init(&key);
        if (pa->argtype == TYPE_BOOL) strbuf_puts(&key, v.i64 ? "true" : "false");
        else type_out_text(pa->argtype, -1, v, &key);
        jv_escape(key.data ? key.data : "", key.len, &sb);
        strbuf_free(&key);
        strbuf_puts(&sb, json ? " : " : ": ");
        rc = builtins_json_value(pa->arg2->type, v2, v2null, json, &sb, err);
    } else {
        rc = builtins_json_value(pa->argtype, v, vnull, json, &sb, err);
    }
    if (rc == 0) rc = sb.oom ? oom(err) : buf_add(a, e, sb.data ? sb.data : "", sb.len, err);
    strbuf_free(&sb);
    if (rc == 0) e->n++;
    return rc;
}

int agg_ext_add(arena_t *a, const plan_agg_t *pa, void **state, datum_t v, bool vnull, datum_t v2, bool v2null,
                sql_error_t *err)
{
    if (agg_ordset_is(pa->fn))
        return agg_ordset_add(a, pa, state, v, v2, v2null, err);
    agg_ext_t *e = *state;
    if (!e) {
        if (!(e = arena_alloc(a, sizeof *e))) return oom(err);
        memset(e, 0, sizeof *e);
        e->bval = pa->fn == AGG_BOOL_AND;
        *state = e;
    }
    switch (pa->fn) {
    case AGG_BOOL_AND:
        e->bval = e->bval && v.i64;
        e->n++;
        return 0;
    case AGG_BOOL_OR:
        e->bval = e->bval || v.i64;
        e->n++;
        return 0;
    case AGG_STDDEV_SAMP: case AGG_STDDEV_POP: case AGG_VAR_SAMP: case AGG_VAR_POP:
        if (pa->rettype == TYPE_NUMERIC)
            return num_accum(a, e, pa->argtype, v, err);
        return accum(e, v.f64, err);
    case AGG_SUM_INTERVAL: case AGG_AVG_INTERVAL: {
        /* interval_accum: interval_pl's sum ("interval out of range" on overflow) */
        if (e->n == 0) {
            e->ivsum = v;
            if (exec_copy_datum(a, TYPE_INTERVAL, &e->ivsum) < 0) return oom(err);
        } else {
            builtin_ctx_t bc = {.arena = a};
            datum_t args[2] = {e->ivsum, v}, r;
            bool nl[2] = {false, false}, rn = false;
            type_oid_t at[2] = {TYPE_INTERVAL, TYPE_INTERVAL};
            if (bi_interval_pl(&bc, 2, args, nl, at, &r, &rn, err) < 0) return -1;
            e->ivsum = r;
        }
        e->n++;
        return 0;
    }
    case AGG_ARRAY_AGG:
        if (e->n == e->cap) {
            int64_t cap = e->cap ? e->cap * 2 : 16;
            datum_t *nv = arena_alloc(a, (size_t)cap * sizeof *nv);
            bool *nn = arena_alloc(a, (size_t)cap);
            if (!nv || !nn) return oom(err);
            if (e->n) {
                memcpy(nv, e->vals, (size_t)e->n * sizeof *nv);
                memcpy(nn, e->nulls, (size_t)e->n);
            }
            e->vals = nv;
            e->nulls = nn;
            e->cap = cap;
        }
        e->vals[e->n] = v;
        e->nulls[e->n] = vnull;
        if (!vnull && exec_copy_datum(a, pa->argtype, &e->vals[e->n]) < 0) return oom(err);
        e->n++;
        return 0;
    case AGG_JSONB_AGG: case AGG_JSON_AGG:
        return json_elem(a, e, pa, false, v, vnull, v2, v2null, err);
    case AGG_JSONB_OBJECT_AGG: case AGG_JSON_OBJECT_AGG:
        return json_elem(a, e, pa, true, v, vnull, v2, v2null, err);
    default:
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "unexpected aggregate %d", (int)pa->fn);
    }
}

int agg_ext_final(arena_t *a, const plan_agg_t *pa, const void *state, datum_t *out, bool *isnull, sql_error_t *err)
{
    if (agg_ordset_is(pa->fn))
        return agg_ordset_final(a, pa, state, out, isnull, err);
    const agg_ext_t *e = state;
    *isnull = false;
    if (!e || e->n == 0) {
        *isnull = true;
        return 0;
    }
    switch (pa->fn) {
    case AGG_BOOL_AND: case AGG_BOOL_OR:
        out->i64 = e->bval;
        return 0;
    case AGG_VAR_POP: case AGG_STDDEV_POP:
    case AGG_VAR_SAMP: case AGG_STDDEV_SAMP: {
        bool samp = pa->fn == AGG_VAR_SAMP || pa->fn == AGG_STDDEV_SAMP;
        double n = (double)e->n;
        if (samp && n <= 1.0) { *isnull = true; return 0; }
        if (pa->rettype == TYPE_NUMERIC)
            return num_final(a, e, samp, pa->fn == AGG_STDDEV_POP || pa->fn == AGG_STDDEV_SAMP, out, err);
        double var = e->sxx / (samp ? n - 1.0 : n);
        out->f64 = pa->fn == AGG_STDDEV_POP || pa->fn == AGG_STDDEV_SAMP ? sqrt(var) : var;
        return 0;
    }
    case AGG_SUM_INTERVAL:
        *out = e->ivsum;
        return 0;
    case AGG_AVG_INTERVAL: {
        /* interval_avg: interval_div(sum, N) */
        builtin_ctx_t bc = {.arena = a};
        datum_t args[2] = {e->ivsum, {.f64 = (double)e->n}};
        bool nl[2] = {false, false};
        type_oid_t at[2] = {TYPE_INTERVAL, TYPE_FLOAT8};
        return bi_interval_div(&bc, 2, args, nl, at, out, isnull, err);
    }
    case AGG_ARRAY_AGG: {
        if (e->n > INT32_MAX) return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "array size exceeds the maximum allowed");
        const vstr_t *arr = type_array_build(a, pa->argtype, (int)e->n, e->vals, e->nulls);
        if (!arr) return oom(err);
        out->s = arr;
        return 0;
    }
    default: {
        bool obj = pa->fn == AGG_JSONB_OBJECT_AGG || pa->fn == AGG_JSON_OBJECT_AGG;
        bool json = pa->fn == AGG_JSON_AGG || pa->fn == AGG_JSON_OBJECT_AGG;
        strbuf_t sb;
        strbuf_init(&sb);
        strbuf_append(&sb, e->buf, e->len);
        strbuf_puts(&sb, obj ? (json ? " }" : "}") : "]");
        int rc;
        if (sb.oom) rc = oom(err);
        else if (json) rc = (out->s = vstr_new(a, sb.data, sb.len)) ? 0 : oom(err);
        else rc = type_json_in(TYPE_JSONB, sb.data, sb.len, a, out, err);
        strbuf_free(&sb);
        return rc;
    }
    }
}
