/*
 * exec_agg.c -- row stores and hash aggregation (GROUP BY, DISTINCT, partial and
 * final phases of distributed aggregation); see exec_int.h.
 *
 * The group table is open addressing with linear probing over group indexes; a group
 * keeps its key values (strings copied into the table's arena) and one state per
 * aggregate. count/sum of integers accumulate in 128 bits, so only the final result
 * can overflow (22003), as with PostgreSQL's wider accumulators.
 */
#include <string.h>

#include "core/assert.h"
#include "sql/builtins_vector.h"
#include "sql/exec_agg_ext.h"
#include "sql/numeric.h"
#include "sql/exec_int.h"

/* ---- row stores ---- */

void rowstore_init(rowstore_t *rs, arena_t *a, int ncols, const type_oid_t *types)
{
    memset(rs, 0, sizeof *rs);
    rs->arena = a;
    rs->ncols = ncols;
    rs->types = types;
}

int exec_copy_datum(arena_t *a, type_oid_t t, datum_t *d)
{
    if (!expr_type_is_string(t))
        return 0;
    const vstr_t *v = d->s;
    vstr_t *c = vstr_new(a, v->data, v->len);
    if (!c)
        return -1;
    d->s = c;
    return 0;
}

int rowstore_add(rowstore_t *rs, const batch_t *b, const int *sel, int n, sql_error_t *err)
{
    if (!sel)
        n = b->nrows;
    for (int i = 0; i < n; i++) {
        int r = sel ? sel[i] : i;
        int chunk = (int)(rs->nrows / LIMIT_BATCH_ROWS);
        if ((uint64_t)rs->nrows >= LIMIT_SQL_SORT_ROWS)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many rows to hold in memory (at most %u)",
                             (unsigned)LIMIT_SQL_SORT_ROWS);
        if (chunk >= rs->nchunks) {
            if (rs->nchunks == rs->chunkcap) {
                int cap = rs->chunkcap ? rs->chunkcap * 2 : 8;
                batch_t **nc = arena_alloc(rs->arena, (size_t)cap * sizeof(batch_t *));
                if (!nc)
                    goto oom;
                if (rs->nchunks)
                    memcpy(nc, rs->chunks, (size_t)rs->nchunks * sizeof(batch_t *));
                rs->chunks = nc;
                rs->chunkcap = cap;
            }
            if (!(rs->chunks[rs->nchunks] = batch_new(rs->arena, rs->ncols, LIMIT_BATCH_ROWS)))
                goto oom;
            rs->nchunks++;
        }
        batch_t *dst = rs->chunks[chunk];
        int dr = dst->nrows++;
        for (int c = 0; c < rs->ncols; c++) {
            datum_t d = b->vals[c][r];
            bool isnull = b->nulls[c][r];
            if (!isnull && exec_copy_datum(rs->arena, rs->types[c], &d) < 0)
                goto oom;
            dst->vals[c][dr] = d;
            dst->nulls[c][dr] = isnull;
        }
        rs->nrows++;
    }
    return 0;
oom:
    return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
}

/* ---- aggregation ---- */

typedef struct agg_state {
    __int128 isum;
    numeric_acc_t *nacc;      /* sum of numeric inputs (NULL until the first) */
    double fsum;
    int64_t count;
    datum_t val;
    bool has;
    void *ext;                 /* exec_agg_ext.c's state for its aggregates */
} agg_state_t;

typedef struct agg_group {
    uint64_t hash;
    datum_t *keys;
    bool *knulls;
    agg_state_t *states;
} agg_group_t;

struct agg_table {
    arena_t *a;
    int ngroup, naggs, mode;
    const type_oid_t *gtypes;
    const plan_agg_t *aggs;
    agg_group_t **groups;       /* in insertion order */
    int64_t ngroups, groupcap;
    int64_t *slots;             /* hash slots -> group index + 1 */
    int64_t nslots;
    /* DISTINCT aggregate inputs: (group, agg, value) seen */
    struct dseen { uint64_t hash; int64_t group; int agg; datum_t v; } *dseen;
    int64_t ndseen, dcap;
};

agg_table_t *agg_new(arena_t *a, int ngroup, const type_oid_t *group_types, int naggs,
                     const plan_agg_t *aggs, int mode)
{
    agg_table_t *ag = arena_alloc(a, sizeof *ag);
    if (!ag)
        return NULL;
    memset(ag, 0, sizeof *ag);
    ag->a = a;
    ag->ngroup = ngroup;
    ag->naggs = naggs;
    ag->mode = mode;
    ag->gtypes = group_types;
    ag->aggs = aggs;
    return ag;
}

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t key_hash(const agg_table_t *ag, const datum_t *k, const bool *kn)
{
    uint64_t h = 0x12345678;
    for (int g = 0; g < ag->ngroup; g++)
        h = hash_mix(h, kn[g] ? 0x5bd1e995 : type_hash(ag->gtypes[g], k[g]));
    return h;
}

static bool key_equal(const agg_table_t *ag, const agg_group_t *grp, const datum_t *k, const bool *kn)
{
    for (int g = 0; g < ag->ngroup; g++) {
        if (grp->knulls[g] != kn[g])
            return false;
        if (!kn[g] && type_cmp(ag->gtypes[g], grp->keys[g], k[g]) != 0)
            return false;
    }
    return true;
}

static int agg_grow(agg_table_t *ag)
{
    int64_t ns = ag->nslots ? ag->nslots * 2 : 64;
    int64_t *slots = arena_alloc(ag->a, (size_t)ns * sizeof(int64_t));
    if (!slots)
        return -1;
    memset(slots, 0, (size_t)ns * sizeof(int64_t));
    for (int64_t i = 0; i < ag->ngroups; i++) {
        int64_t s = (int64_t)(ag->groups[i]->hash & (uint64_t)(ns - 1));
        while (slots[s])
            s = (s + 1) & (ns - 1);
        slots[s] = i + 1;
    }
    ag->slots = slots;
    ag->nslots = ns;
    return 0;
}

/* Finds or creates the group for key k; NULL on OOM. */
static agg_group_t *agg_group(agg_table_t *ag, const datum_t *k, const bool *kn, int64_t *index)
{
    if ((ag->ngroups + 1) * 2 > ag->nslots && agg_grow(ag) < 0)
        return NULL;
    uint64_t h = key_hash(ag, k, kn);
    int64_t s = (int64_t)(h & (uint64_t)(ag->nslots - 1));
    while (ag->slots[s]) {
        agg_group_t *g = ag->groups[ag->slots[s] - 1];
        if (g->hash == h && key_equal(ag, g, k, kn)) {
            *index = ag->slots[s] - 1;
            return g;
        }
        s = (s + 1) & (ag->nslots - 1);
    }
    if (ag->ngroups == ag->groupcap) {
        int64_t cap = ag->groupcap ? ag->groupcap * 2 : 64;
        agg_group_t **ng = arena_alloc(ag->a, (size_t)cap * sizeof(agg_group_t *));
        if (!ng)
            return NULL;
        if (ag->ngroups)
            memcpy(ng, ag->groups, (size_t)ag->ngroups * sizeof(agg_group_t *));
        ag->groups = ng;
        ag->groupcap = cap;
    }
    agg_group_t *g = arena_alloc(ag->a, sizeof *g);
    if (!g)
        return NULL;
    g->hash = h;
    g->keys = arena_alloc(ag->a, (size_t)(ag->ngroup + 1) * sizeof(datum_t));
    g->knulls = arena_alloc(ag->a, (size_t)(ag->ngroup + 1));
    g->states = arena_alloc(ag->a, (size_t)(ag->naggs + 1) * sizeof(agg_state_t));
    if (!g->keys || !g->knulls || !g->states)
        return NULL;
    memset(g->states, 0, (size_t)(ag->naggs + 1) * sizeof(agg_state_t));
    for (int i = 0; i < ag->ngroup; i++) {
        g->keys[i] = k[i];
        g->knulls[i] = kn[i];
        if (!kn[i] && exec_copy_datum(ag->a, ag->gtypes[i], &g->keys[i]) < 0)
            return NULL;
    }
    ag->slots[s] = ag->ngroups + 1;
    *index = ag->ngroups;
    ag->groups[ag->ngroups++] = g;
    return g;
}

/* True when (group, agg, v) was already seen (DISTINCT aggregates); records it. */
static int agg_seen(agg_table_t *ag, int64_t group, int agg, type_oid_t t, datum_t v, bool *seen)
{
    uint64_t h = hash_mix(hash_mix(type_hash(t, v), (uint64_t)group), (uint64_t)agg);
    if ((ag->ndseen + 1) * 2 > ag->dcap) {
        int64_t cap = ag->dcap ? ag->dcap * 2 : 256;
        struct dseen *nd = arena_alloc(ag->a, (size_t)cap * sizeof *nd);
        if (!nd)
            return -1;
        memset(nd, 0, (size_t)cap * sizeof *nd);
        for (int64_t i = 0; i < ag->dcap; i++) {
            if (!ag->dseen[i].hash)
                continue;
            int64_t s = (int64_t)(ag->dseen[i].hash & (uint64_t)(cap - 1));
            while (nd[s].hash)
                s = (s + 1) & (cap - 1);
            nd[s] = ag->dseen[i];
        }
        ag->dseen = nd;
        ag->dcap = cap;
    }
    if (!h)
        h = 1;
    int64_t s = (int64_t)(h & (uint64_t)(ag->dcap - 1));
    while (ag->dseen[s].hash) {
        struct dseen *d = &ag->dseen[s];
        if (d->hash == h && d->group == group && d->agg == agg && type_cmp(t, d->v, v) == 0) {
            *seen = true;
            return 0;
        }
        s = (s + 1) & (ag->dcap - 1);
    }
    datum_t c = v;
    if (exec_copy_datum(ag->a, t, &c) < 0)
        return -1;
    ag->dseen[s] = (struct dseen){h, group, agg, c};
    ag->ndseen++;
    *seen = false;
    return 0;
}

static bool is_int_arg(type_oid_t t) { return t == TYPE_INT8 || t == TYPE_INT4 || t == TYPE_INT2; }

/* Type of a sum/avg partial state's sum column: numeric where the result is numeric
 * (an int8 column could overflow before the final sum does). */
static type_oid_t partial_sum_type(const plan_agg_t *pa)
{
    return pa->rettype == TYPE_NUMERIC ? TYPE_NUMERIC : pa->argtype;
}

static int nacc_add(agg_table_t *ag, agg_state_t *s, datum_t v, sql_error_t *err)
{
    if (!s->nacc) {
        s->nacc = arena_alloc(ag->a, sizeof *s->nacc);
        if (!s->nacc)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        memset(s->nacc, 0, sizeof *s->nacc);
    }
    return numeric_acc_add(s->nacc, v, ag->a, err);
}

/* The numeric sum of a state whose result is numeric. */
static int state_numeric_sum(arena_t *a, const plan_agg_t *pa, const agg_state_t *s, datum_t *out, sql_error_t *err)
{
    if (is_int_arg(pa->argtype))
        return numeric_from_i128(s->isum, a, out, err);
    numeric_acc_t zero = {0};
    return numeric_acc_result(s->nacc ? s->nacc : &zero, a, out, err);
}

/* string_agg: appends [sep] v to the state's text, kept in a buffer whose capacity
 * (s->count bytes) doubles, so a group of n values costs O(total length). A NULL
 * separator counts as empty, as in PostgreSQL. */
static int string_agg_add(agg_table_t *ag, agg_state_t *s, datum_t v, datum_t sep, bool sepnull)
{
    size_t seplen = s->has && !sepnull ? sep.s->len : 0;
    size_t len = s->has ? s->val.s->len : 0, need = len + seplen + v.s->len;
    if (need > LIMIT_TEXT_VALUE_BYTES)
        return -1;
    if (!s->has || need > (size_t)s->count) {
        size_t cap = need < 64 ? 64 : need * 2;
        vstr_t *nb = arena_alloc(ag->a, sizeof(vstr_t) + cap);
        if (!nb)
            return -1;
        if (len)
            memcpy(nb->data, s->val.s->data, len);
        nb->len = (uint32_t)len;
        s->val.s = nb;
        s->count = (int64_t)cap;
    }
    vstr_t *b = (vstr_t *)s->val.s;
    memcpy(b->data + len, sep.s ? sep.s->data : "", seplen);
    memcpy(b->data + len + seplen, v.s->data, v.s->len);
    b->len = (uint32_t)need;
    s->has = true;
    return 0;
}

/* Folds one raw input value into a state (sep: string_agg's separator). */
static int state_add(agg_table_t *ag, const plan_agg_t *pa, agg_state_t *s, datum_t v, datum_t sep, bool sepnull,
                     sql_error_t *err)
{
    switch (pa->fn) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        s->count++;
        break;
    case AGG_SUM:
    case AGG_AVG:
        if (pa->argtype == TYPE_VECTOR)      /* complete mode only: never split */
            return builtins_vector_agg_add(ag->a, pa->fn == AGG_AVG, &s->val.s, v, err);
        if (is_int_arg(pa->argtype))
            s->isum += v.i64;
        else if (pa->argtype == TYPE_NUMERIC) {
            if (nacc_add(ag, s, v, err) < 0)
                return -1;
        } else
            s->fsum += v.f64;
        s->count++;
        break;
    case AGG_STRING_AGG:
        return string_agg_add(ag, s, v, sep, sepnull);
    case AGG_MIN:
    case AGG_MAX:
        if (!s->has || (pa->fn == AGG_MIN ? expr_cmp_nulls(pa->argtype, v, false, s->val, false, false) < 0
                                          : expr_cmp_nulls(pa->argtype, v, false, s->val, false, false) > 0)) {
            s->val = v;
            if (exec_copy_datum(ag->a, pa->argtype, &s->val) < 0)
                return -1;
        }
        break;
    default:
        return -1;                   /* exec_agg_ext.c's aggregates (agg_add calls them) */
    }
    s->has = true;
    return 0;
}

int agg_out_ncols(const agg_table_t *ag)
{
    int n = ag->ngroup;
    for (int i = 0; i < ag->naggs; i++)
        n += ag->mode == PLAN_AGG_PARTIAL && ag->aggs[i].fn == AGG_AVG ? 2 : 1;
    return n;
}

void agg_out_types(const agg_table_t *ag, type_oid_t *types)
{
    int c = 0;
    for (int g = 0; g < ag->ngroup; g++)
        types[c++] = ag->gtypes[g];
    for (int i = 0; i < ag->naggs; i++) {
        const plan_agg_t *pa = &ag->aggs[i];
        if (ag->mode != PLAN_AGG_PARTIAL) {
            types[c++] = pa->rettype;
            continue;
        }
        switch (pa->fn) {
        case AGG_COUNT_STAR: case AGG_COUNT: types[c++] = TYPE_INT8; break;
        case AGG_SUM: types[c++] = partial_sum_type(pa); break;
        case AGG_AVG: types[c++] = partial_sum_type(pa); types[c++] = TYPE_INT8; break;
        default: types[c++] = pa->argtype; break;
        }
    }
}

/* Folds one partial row (columns starting at *col) into a state. */
static int state_merge(agg_table_t *ag, const plan_agg_t *pa, agg_state_t *s, const batch_t *in, int r, int *col,
                       sql_error_t *err)
{
    int c = *col;
    switch (pa->fn) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        s->count += in->vals[c][r].i64;
        s->has = true;
        *col = c + 1;
        return 0;
    case AGG_SUM:
    case AGG_AVG:
        if (!in->nulls[c][r]) {
            __int128 part;
            if (is_int_arg(pa->argtype) && partial_sum_type(pa) == TYPE_NUMERIC) {
                if (numeric_to_i128(in->vals[c][r], &part) < 0)
                    return sql_error(err, SQLSTATE_INTERNAL_ERROR, "bad partial sum");
                s->isum += part;
            } else if (pa->argtype == TYPE_NUMERIC) {
                if (nacc_add(ag, s, in->vals[c][r], err) < 0)
                    return -1;
            } else if (is_int_arg(pa->argtype))
                s->isum += in->vals[c][r].i64;
            else
                s->fsum += in->vals[c][r].f64;
            s->has = true;
        }
        if (pa->fn == AGG_AVG) {
            s->count += in->vals[c + 1][r].i64;
            *col = c + 2;
        } else {
            *col = c + 1;
        }
        return 0;
    default:
        *col = c + 1;
        if (in->nulls[c][r])
            return 0;
        ASSERT(pa->fn != AGG_STRING_AGG);     /* never split into partial states */
        return state_add(ag, pa, s, in->vals[c][r], (datum_t){0}, true, err);
    }
}

/* Aggregates flat_add handles: count, and sum/avg/min/max of integer types (min/max
 * also of dates and timestamps) and sum/avg of floats, without DISTINCT. */
static bool flat_type_int(type_oid_t t)
{
    return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8;
}

static bool flat_ok(const agg_table_t *ag)
{
    for (int i = 0; i < ag->naggs; i++) {
        const plan_agg_t *pa = &ag->aggs[i];
        if (pa->distinct || pa->arg2 || agg_ext_is(pa->fn))
            return false;
        switch (pa->fn) {
        case AGG_COUNT_STAR:
        case AGG_COUNT:
            break;
        case AGG_SUM:
        case AGG_AVG:
            if (!flat_type_int(pa->argtype) && pa->argtype != TYPE_FLOAT8 && pa->argtype != TYPE_FLOAT4)
                return false;
            break;
        case AGG_MIN:
        case AGG_MAX:
            if (!flat_type_int(pa->argtype) && pa->argtype != TYPE_DATE &&
                pa->argtype != TYPE_TIMESTAMP && pa->argtype != TYPE_TIMESTAMPTZ)
                return false;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* state_add over n rows of one aggregate (v/vn: its evaluated argument), in row order,
 * so float sums add in the same order as row by row. */
static void flat_add(const plan_agg_t *pa, agg_state_t *s, int n, const datum_t *v, const bool *vn)
{
    int64_t cnt = 0;
    if (pa->fn == AGG_COUNT_STAR) {
        cnt = n;
    } else if (pa->fn == AGG_COUNT) {
        for (int r = 0; r < n; r++)
            cnt += !vn[r];
    } else if ((pa->fn == AGG_SUM || pa->fn == AGG_AVG) && flat_type_int(pa->argtype)) {
        __int128 sum = 0;
        if (pa->argtype == TYPE_INT8) {
            for (int r = 0; r < n; r++)
                if (!vn[r]) {
                    sum += v[r].i64;
                    cnt++;
                }
        } else {
            /* int2/int4 values: an int64 sum of at most INT_MAX of them cannot overflow */
            int64_t s64 = 0;
            for (int r = 0; r < n; r++) {
                int64_t keep = vn[r] ? 0 : 1;
                s64 += v[r].i64 * keep;
                cnt += keep;
            }
            sum = s64;
        }
        s->isum += sum;
    } else if (pa->fn == AGG_SUM || pa->fn == AGG_AVG) {
        double f = s->fsum;
        for (int r = 0; r < n; r++)
            if (!vn[r]) {
                f += v[r].f64;
                cnt++;
            }
        s->fsum = f;
    } else {
        bool has = s->has;
        int64_t best = s->val.i64;
        bool is_min = pa->fn == AGG_MIN;
        for (int r = 0; r < n; r++) {
            if (vn[r])
                continue;
            int64_t x = v[r].i64;
            if (!has || (is_min ? x < best : x > best))
                best = x;
            has = true;
            cnt++;
        }
        if (has)
            s->val.i64 = best;
        if (cnt)
            s->has = true;
        return;
    }
    s->count += cnt;
    if (cnt)
        s->has = true;
}

bool agg_direct_ok(const agg_table_t *ag)
{
    return ag->ngroup == 0 && ag->mode != PLAN_AGG_FINAL && flat_ok(ag);
}

int agg_direct_add(agg_table_t *ag, int i, int64_t count, __int128 isum, int64_t mn, int64_t mx,
                   sql_error_t *err)
{
    datum_t key = {0};
    bool kn = false;
    int64_t gi;
    agg_group_t *grp = agg_group(ag, &key, &kn, &gi);
    if (!grp)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    const plan_agg_t *pa = &ag->aggs[i];
    agg_state_t *s = &grp->states[i];
    if (pa->fn == AGG_MIN || pa->fn == AGG_MAX) {
        if (count) {
            int64_t v = pa->fn == AGG_MIN ? mn : mx;
            if (!s->has || (pa->fn == AGG_MIN ? v < s->val.i64 : v > s->val.i64))
                s->val.i64 = v;
            s->has = true;
        }
        return 0;
    }
    if (pa->fn == AGG_SUM || pa->fn == AGG_AVG)
        s->isum += isum;
    s->count += count;
    if (count)
        s->has = true;
    return 0;
}

int agg_add(agg_table_t *ag, expr_ctx_t *x, const batch_t *in, bexpr_t *const *group, sql_error_t *err)
{
    int n = in->nrows;
    if (n == 0)
        return 0;
    datum_t *gv[64];
    bool *gn[64];
    if (ag->ngroup > 64)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many GROUP BY items (at most 64)");
    for (int g = 0; g < ag->ngroup; g++) {
        gv[g] = arena_alloc(x->arena, (size_t)n * sizeof(datum_t));
        gn[g] = arena_alloc(x->arena, (size_t)n);
        if (!gv[g] || !gn[g])
            goto oom;
        if (ag->mode == PLAN_AGG_FINAL) {
            memcpy(gv[g], in->vals[g], (size_t)n * sizeof(datum_t));
            memcpy(gn[g], in->nulls[g], (size_t)n);
        } else if (expr_eval(x, group[g], in, NULL, 0, gv[g], gn[g], err) < 0) {
            return -1;
        }
    }
    datum_t **av = arena_alloc(x->arena, (size_t)(ag->naggs + 1) * sizeof(datum_t *));
    bool **an = arena_alloc(x->arena, (size_t)(ag->naggs + 1) * sizeof(bool *));
    datum_t **sv = arena_alloc(x->arena, (size_t)(ag->naggs + 1) * sizeof(datum_t *));
    bool **sn = arena_alloc(x->arena, (size_t)(ag->naggs + 1) * sizeof(bool *));
    if (!av || !an || !sv || !sn)
        goto oom;
    if (ag->mode != PLAN_AGG_FINAL) {
        for (int i = 0; i < ag->naggs; i++) {
            av[i] = NULL;
            if (!ag->aggs[i].arg)
                continue;
            av[i] = arena_alloc(x->arena, (size_t)n * sizeof(datum_t));
            an[i] = arena_alloc(x->arena, (size_t)n);
            if (!av[i] || !an[i])
                goto oom;
            if (expr_eval(x, ag->aggs[i].arg, in, NULL, 0, av[i], an[i], err) < 0)
                return -1;
            sv[i] = NULL;
            if (!ag->aggs[i].arg2)
                continue;
            sv[i] = arena_alloc(x->arena, (size_t)n * sizeof(datum_t));
            sn[i] = arena_alloc(x->arena, (size_t)n);
            if (!sv[i] || !sn[i])
                goto oom;
            if (expr_eval(x, ag->aggs[i].arg2, in, NULL, 0, sv[i], sn[i], err) < 0)
                return -1;
        }
    }
    datum_t key[64];
    bool kn[64];
    if (ag->ngroup == 0 && ag->mode != PLAN_AGG_FINAL && flat_ok(ag)) {
        /* no GROUP BY: one group, and the common aggregates as loops over columns */
        int64_t gi;
        key[0].i64 = 0;
        kn[0] = false;
        agg_group_t *grp = agg_group(ag, key, kn, &gi);
        if (!grp)
            goto oom;
        for (int i = 0; i < ag->naggs; i++)
            flat_add(&ag->aggs[i], &grp->states[i], n, av[i], an[i]);
        return 0;
    }
    for (int r = 0; r < n; r++) {
        for (int g = 0; g < ag->ngroup; g++) {
            key[g] = gv[g][r];
            kn[g] = gn[g][r];
        }
        int64_t gi;
        agg_group_t *grp = agg_group(ag, key, kn, &gi);
        if (!grp)
            goto oom;
        if (ag->mode == PLAN_AGG_FINAL) {
            int col = ag->ngroup;
            for (int i = 0; i < ag->naggs; i++)
                if (state_merge(ag, &ag->aggs[i], &grp->states[i], in, r, &col, err) < 0)
                    return -1;
            continue;
        }
        for (int i = 0; i < ag->naggs; i++) {
            const plan_agg_t *pa = &ag->aggs[i];
            datum_t v = {0};
            if (agg_ext_is(pa->fn)) {
                bool vn = an[i][r];
                if (vn && !agg_ext_takes_nulls(pa->fn))
                    continue;
                if (pa->distinct && !vn) {
                    bool seen;
                    if (agg_seen(ag, gi, i, pa->argtype, av[i][r], &seen) < 0)
                        goto oom;
                    if (seen)
                        continue;
                }
                if (agg_ext_add(ag->a, pa, &grp->states[i].ext, av[i][r], vn, pa->arg2 ? sv[i][r] : (datum_t){0},
                                pa->arg2 ? sn[i][r] : true, err) < 0)
                    return -1;
                continue;
            }
            if (pa->arg) {
                if (an[i][r])
                    continue;
                v = av[i][r];
                if (pa->distinct) {
                    bool seen;
                    if (agg_seen(ag, gi, i, pa->argtype, v, &seen) < 0)
                        goto oom;
                    if (seen)
                        continue;
                }
            }
            if (state_add(ag, pa, &grp->states[i], v, pa->arg2 ? sv[i][r] : (datum_t){0},
                          pa->arg2 ? sn[i][r] : true, err) < 0) {
                if (err->sqlstate[0])
                    return -1;
                goto oom;
            }
        }
    }
    return 0;
oom:
    return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
}

static int final_value(arena_t *a, const plan_agg_t *pa, const agg_state_t *s, datum_t *out, bool *isnull,
                       sql_error_t *err)
{
    *isnull = false;
    if (agg_ext_is(pa->fn))
        return agg_ext_final(a, pa, s->ext, out, isnull, err);
    switch (pa->fn) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        out->i64 = s->count;
        return 0;
    case AGG_SUM:
        if (pa->argtype == TYPE_VECTOR)
            return builtins_vector_agg_final(a, false, s->val.s, out, isnull, err);
        if (!s->has) {
            *isnull = true;
            return 0;
        }
        if (pa->rettype == TYPE_NUMERIC)
            return state_numeric_sum(a, pa, s, out, err);
        if (pa->rettype == TYPE_INT8) {
            if (s->isum > INT64_MAX || s->isum < INT64_MIN)
                return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "bigint out of range");
            out->i64 = (int64_t)s->isum;
        } else {
            out->f64 = is_int_arg(pa->argtype) ? (double)s->isum : s->fsum;
        }
        return 0;
    case AGG_AVG:
        if (pa->argtype == TYPE_VECTOR)
            return builtins_vector_agg_final(a, true, s->val.s, out, isnull, err);
        if (!s->has || s->count == 0) {
            *isnull = true;
            return 0;
        }
        if (pa->rettype == TYPE_NUMERIC) {
            datum_t sum;
            if (state_numeric_sum(a, pa, s, &sum, err) < 0)
                return -1;
            return numeric_div_count(sum, s->count, a, out, err);
        }
        out->f64 = (is_int_arg(pa->argtype) ? (double)s->isum : s->fsum) / (double)s->count;
        return 0;
    default:
        *isnull = !s->has;
        *out = s->val;
        return 0;
    }
}

int agg_emit(agg_table_t *ag, batch_t *out, int64_t *pos, sql_error_t *err)
{
    /* No GROUP BY: exactly one row even for empty input. */
    if (ag->ngroup == 0 && ag->ngroups == 0 && *pos == 0) {
        datum_t k[1] = {{0}};
        bool kn[1] = {false};
        int64_t gi;
        if (!agg_group(ag, k, kn, &gi))
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    out->nrows = 0;
    while (*pos < ag->ngroups && out->nrows < out->cap) {
        agg_group_t *g = ag->groups[*pos];
        int r = out->nrows++;
        int c = 0;
        for (int k = 0; k < ag->ngroup; k++, c++) {
            out->vals[c][r] = g->keys[k];
            out->nulls[c][r] = g->knulls[k];
        }
        for (int i = 0; i < ag->naggs; i++) {
            const plan_agg_t *pa = &ag->aggs[i];
            const agg_state_t *s = &g->states[i];
            if (ag->mode != PLAN_AGG_PARTIAL) {
                if (final_value(ag->a, pa, s, &out->vals[c][r], &out->nulls[c][r], err) < 0)
                    return -1;
                c++;
                continue;
            }
            switch (pa->fn) {
            case AGG_COUNT_STAR:
            case AGG_COUNT:
                out->vals[c][r].i64 = s->count;
                out->nulls[c++][r] = false;
                break;
            case AGG_SUM:
            case AGG_AVG:
                out->nulls[c][r] = !s->has;
                if (partial_sum_type(pa) == TYPE_NUMERIC) {
                    if (s->has && state_numeric_sum(ag->a, pa, s, &out->vals[c][r], err) < 0)
                        return -1;
                } else if (is_int_arg(pa->argtype)) {
                    if (s->isum > INT64_MAX || s->isum < INT64_MIN)
                        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "bigint out of range");
                    out->vals[c][r].i64 = (int64_t)s->isum;
                } else {
                    out->vals[c][r].f64 = s->fsum;
                }
                c++;
                if (pa->fn == AGG_AVG) {
                    out->vals[c][r].i64 = s->count;
                    out->nulls[c++][r] = false;
                }
                break;
            default:
                out->vals[c][r] = s->val;
                out->nulls[c++][r] = !s->has;
                break;
            }
        }
        (*pos)++;
    }
    return out->nrows;
}
