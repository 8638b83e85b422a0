/*
 * exec_agg_ordset.c -- the ordered-set aggregates percentile_cont, percentile_disc
 * and mode (`percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`), as PostgreSQL 15
 * computes them: the group's non-NULL values are kept (in the aggregation's arena,
 * like array_agg's), sorted once at the end in the WITHIN GROUP order, and
 *   percentile_cont(f): float8 interpolation between the values at 0-based
 *     positions floor(f * (n - 1)) and ceil(f * (n - 1));
 *   percentile_disc(f): the first value whose position reaches f of the group
 *     (1-based ceil(f * n), the first for f = 0);
 *   mode(): the most frequent value, the first in sort order among equals.
 * The fraction is the direct argument, read from the group's first non-NULL input;
 * outside [0, 1] is 22003 at the final step, as in PostgreSQL; NULL gives NULL.
 * They run complete on the coordinator like the other exec_agg_ext.c aggregates,
 * which dispatch here (agg_ordset_add / agg_ordset_final).
 *
 * Thread: the thread running the aggregation.
 */
#include "sql/exec_agg_ext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "sql/exec_int.h"

typedef struct ordset {
    int64_t n, cap;
    datum_t *vals;
    datum_t frac;
    bool frac_null, frac_seen;
} ordset_t;

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

bool agg_ordset_is(plan_aggfn_t fn) { return fn >= AGG_PERCENTILE_CONT && fn <= AGG_MODE; }

int agg_ordset_add(arena_t *a, const plan_agg_t *pa, void **state, datum_t v, datum_t frac, bool frac_null,
                   sql_error_t *err)
{
    ordset_t *o = *state;
    if (!o) {
        if (!(o = arena_alloc(a, sizeof *o)))
            return oom(err);
        memset(o, 0, sizeof *o);
        *state = o;
    }
    if (!o->frac_seen && pa->fn != AGG_MODE) {
        o->frac_seen = true;
        o->frac = frac;
        o->frac_null = frac_null;
    }
    if (o->n == o->cap) {
        int64_t cap = o->cap ? o->cap * 2 : 64;
        if (cap > (int64_t)LIMIT_TEXT_VALUE_BYTES)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many rows in one group for %s",
                             pa->fn == AGG_MODE ? "mode" : pa->fn == AGG_PERCENTILE_CONT ? "percentile_cont"
                                                                                          : "percentile_disc");
        datum_t *nv = arena_alloc(a, (size_t)cap * sizeof *nv);
        if (!nv)
            return oom(err);
        if (o->n)
            memcpy(nv, o->vals, (size_t)o->n * sizeof *nv);
        o->vals = nv;
        o->cap = cap;
    }
    o->vals[o->n] = v;
    if (exec_copy_datum(a, pa->argtype, &o->vals[o->n]) < 0)
        return oom(err);
    o->n++;
    return 0;
}

static int cmp_type(const void *x, const void *y, void *ctx)
{
    return type_cmp(*(const type_oid_t *)ctx, *(const datum_t *)x, *(const datum_t *)y);
}

int agg_ordset_final(arena_t *a, const plan_agg_t *pa, const void *state, datum_t *out, bool *isnull,
                     sql_error_t *err)
{
    (void)a;
    const ordset_t *o = state;
    *isnull = true;
    if (!o || o->n == 0 || (pa->fn != AGG_MODE && o->frac_null))
        return 0;
    double f = o->frac.f64;
    if (pa->fn != AGG_MODE && (isnan(f) || f < 0.0 || f > 1.0))
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "percentile value %g is not between 0 and 1", f);
    type_oid_t t = pa->argtype;
    qsort_r(o->vals, (size_t)o->n, sizeof *o->vals, cmp_type, &t);
    int64_t n = o->n;
    /* position i in the WITHIN GROUP order */
#define AT(i) (o->vals[pa->desc ? n - 1 - (i) : (i)])
    *isnull = false;
    if (pa->fn == AGG_PERCENTILE_CONT) {
        double pos = f * (double)(n - 1);
        int64_t lo = (int64_t)floor(pos), hi = (int64_t)ceil(pos);
        double x = AT(lo).f64, y = AT(hi).f64;
        out->f64 = lo == hi ? x : x + (pos - (double)lo) * (y - x);
        return 0;
    }
    if (pa->fn == AGG_PERCENTILE_DISC) {
        int64_t row = (int64_t)ceil(f * (double)n);
        *out = AT(row > 0 ? row - 1 : 0);
        return 0;
    }
    int64_t best = 0, best_count = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i + 1;
        while (j < n && type_cmp(t, AT(i), AT(j)) == 0)
            j++;
        if (j - i > best_count) {
            best_count = j - i;
            best = i;
        }
        i = j;
    }
    *out = AT(best);
#undef AT
    return 0;
}
