/*
 * exec_colscan.c -- whole sorted-table blocks of a scan, as column vectors, into
 * batches (store_iter_next_cols, shards/store.h "column scans"; used by the pushed-down
 * aggregation of exec_shard.c).
 *
 * A whole block is a run of rows that are each visible exactly once, so its columns go
 * straight into batch columns: fixed-width values are converted by one loop per
 * column, variable ones copied into the arena as vstr_t; columns the plan never reads
 * stay null (exec_colscan_need). A block written with a layout other than the table's
 * current one (a schema change since) is decoded row by row by the caller instead.
 * The WHERE clause's simple comparisons of a column with a constant become block
 * predicates (exec_colscan_preds), so blocks whose min/max rule every row out are
 * skipped without being read into a batch.
 */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "sql/colagg.h"
#include "sql/exec_int.h"

static void need_walk(const bexpr_t *e, bool *need, int ncols)
{
    if (!e)
        return;
    if (e->kind == BX_COL && e->index >= 0 && e->index < ncols)
        need[e->index] = true;
    for (int i = 0; i < e->nargs; i++)
        need_walk(e->args[i], need, ncols);
}

void exec_colscan_need(const plan_t *p, bool *need)
{
    int n = p->scan.table->ncols;
    memset(need, 0, (size_t)n);
    need_walk(p->scan.filter, need, n);
    for (int g = 0; g < p->scan.ngroup; g++)
        need_walk(p->scan.group[g], need, n);
    for (int a = 0; a < p->scan.naggs; a++) {
        need_walk(p->scan.aggs[a].arg, need, n);
        need_walk(p->scan.aggs[a].arg2, need, n);
    }
}

int exec_colscan_set_need(store_iter_t *it, const plan_t *p, const bool *need)
{
    int n = p->scan.table->ncols;
    if (n > STORE_LAYOUT_MAX_COLS)
        return 0;    /* no layout has that many columns: every block comes as rows */
    uint8_t bits[STORE_LAYOUT_MAX_COLS / 8] = {0};
    for (int c = 0; c < n; c++)
        if (need[c])
            bits[c / 8] |= (uint8_t)(1u << (c % 8));
    return store_iter_set_colneed(it, bits, (uint32_t)n);
}

/* The min/max kind and the statistics form of a constant of column type t. */
static bool pred_value(type_oid_t t, datum_t d, uint8_t *kind, uint64_t *v)
{
    switch (t) {
    case TYPE_INT2: case TYPE_INT4: case TYPE_INT8: case TYPE_DATE: case TYPE_TIMESTAMP:
    case TYPE_TIMESTAMPTZ:
        *kind = STORE_COL_INT;
        *v = (uint64_t)d.i64;
        return true;
    case TYPE_FLOAT8:
        if (isnan(d.f64))
            return false;
        *kind = STORE_COL_FLOAT;
        memcpy(v, &d.f64, 8);
        return true;
    default:
        return false;
    }
}

static void preds_walk(const bexpr_t *e, const plan_t *p, store_colpred_t *out, uint32_t *n, uint32_t cap)
{
    if (!e || *n >= cap)
        return;
    if (e->kind == BX_AND) {
        for (int i = 0; i < e->nargs; i++)
            preds_walk(e->args[i], p, out, n, cap);
        return;
    }
    if (e->kind != BX_CMP || e->nargs != 2)
        return;
    const bexpr_t *col = e->args[0], *cst = e->args[1];
    int op = e->op;
    if (col->kind == BX_CONST && cst->kind == BX_COL) {
        const bexpr_t *t = col;
        col = cst;
        cst = t;
        op = op == BX_OP_LT ? BX_OP_GT : op == BX_OP_GT ? BX_OP_LT
           : op == BX_OP_LE ? BX_OP_GE : op == BX_OP_GE ? BX_OP_LE : op;
    }
    if (col->kind != BX_COL || cst->kind != BX_CONST || cst->isnull || col->index < 0 ||
        col->index >= p->scan.table->ncols)
        return;
    type_oid_t t = p->scan.coltypes[col->index];
    if (col->type != t || cst->type != t || e->optype != t)
        return;
    store_colpred_t pr = {.col = (uint32_t)col->index};
    uint64_t v;
    if (!pred_value(t, cst->val, &pr.kind, &v))
        return;
    switch (op) {
    case BX_OP_EQ: pr.has_lo = pr.has_hi = true; pr.lo = pr.hi = v; break;
    case BX_OP_GE: case BX_OP_GT: pr.has_lo = true; pr.lo = v; break;
    case BX_OP_LE: case BX_OP_LT: pr.has_hi = true; pr.hi = v; break;
    default: return;
    }
    out[(*n)++] = pr;
}

uint32_t exec_colscan_preds(const plan_t *p, store_colpred_t *out, uint32_t cap)
{
    uint32_t n = 0;
    preds_walk(p->scan.filter, p, out, &n, cap);
    return n;
}

/* The block's layout (widths and kinds) is the one the table's types give now. */
static bool block_layout_current(const store_colblock_t *cb, const plan_t *p)
{
    int nc = p->scan.table->ncols;
    store_layout_t l;
    if (cb->ncols != (uint32_t)nc || !row_store_layout(nc, p->scan.coltypes, &l) ||
        l.version != cb->layout_version)
        return false;
    for (int c = 0; c < nc; c++)
        if (cb->cols[c].width != l.width[c] || cb->cols[c].kind != l.kind[c])
            return false;
    return true;
}

static int int_width(type_oid_t t)
{
    return t == TYPE_INT2 ? 2 : t == TYPE_INT4 ? 4 : t == TYPE_INT8 ? 8 : 0;
}

/* The integer column an aggregate's argument reads, through at most one widening
 * integer cast (sum(int4) sums int4 values cast to bigint: exact); -1 when it is not
 * that. */
static int direct_col(const plan_t *p, const plan_agg_t *pa)
{
    const bexpr_t *e = pa->arg;
    if (!e || e->type != pa->argtype || !int_width(e->type))
        return -1;
    if (e->kind == BX_CAST && e->nargs == 1 && int_width(e->args[0]->type) &&
        int_width(e->args[0]->type) <= int_width(e->type))
        e = e->args[0];
    if (e->kind != BX_COL || e->index < 0 || e->index >= p->scan.table->ncols ||
        e->type != p->scan.coltypes[e->index])
        return -1;
    return e->index;
}

bool exec_colscan_direct_ok(const plan_t *p, const agg_table_t *ag)
{
    if (p->scan.filter || p->scan.ngroup || !agg_direct_ok(ag))
        return false;
    for (int a = 0; a < p->scan.naggs; a++) {
        const plan_agg_t *pa = &p->scan.aggs[a];
        if (pa->fn == AGG_COUNT_STAR)
            continue;
        if (direct_col(p, pa) < 0)
            return false;
        if (pa->fn != AGG_COUNT && pa->fn != AGG_SUM && pa->fn != AGG_AVG && pa->fn != AGG_MIN &&
            pa->fn != AGG_MAX)
            return false;
    }
    return true;
}

/* One integer value of a column, sign-extended. */
static int64_t col_int(const store_col_t *k, uint32_t i)
{
    switch (k->width) {
    case 2: { int16_t x; memcpy(&x, k->data + 2 * (size_t)i, 2); return x; }
    case 4: { int32_t x; memcpy(&x, k->data + 4 * (size_t)i, 4); return x; }
    default: { int64_t x; memcpy(&x, k->data + 8 * (size_t)i, 8); return x; }
    }
}

int exec_colscan_direct(agg_table_t *ag, const store_colblock_t *cb, const plan_t *p, sql_error_t *err)
{
    if (!block_layout_current(cb, p))
        return 0;
    uint32_t n = cb->n, nsel = cb->nsel;
    bool all = nsel == n;   /* every version is a row: the vectors are dense */
    for (int a = 0; a < p->scan.naggs; a++) {
        const plan_agg_t *pa = &p->scan.aggs[a];
        int64_t count = 0, mn = 0, mx = 0;
        __int128 sum = 0;
        if (pa->fn == AGG_COUNT_STAR) {
            count = nsel;
        } else {
            int c = direct_col(p, pa);
            const store_col_t *k = &cb->cols[c];
            if (!k->nulls || k->kind != STORE_COL_INT || k->width != int_width(p->scan.coltypes[c]))
                return 0;
            bool want_sum = pa->fn == AGG_SUM || pa->fn == AGG_AVG;
            bool want_mm = pa->fn == AGG_MIN || pa->fn == AGG_MAX;
            if (all) {
                uint64_t nulls = colagg_popcount(k->nulls, n);
                count = (int64_t)(n - nulls);
                if (want_sum) {
                    /* null cells are zeros (checked when the chunk was decoded) */
                    if (k->width == 2)
                        sum = colagg_sum_i16((const int16_t *)(const void *)k->data, n);
                    else if (k->width == 4)
                        sum = colagg_sum_i32((const int32_t *)(const void *)k->data, n);
                    else
                        sum = colagg_sum_i64((const int64_t *)(const void *)k->data, n);
                }
                if (want_mm && count && nulls == 0) {
                    if (k->width == 2)
                        colagg_minmax_i16((const int16_t *)(const void *)k->data, n, &mn, &mx);
                    else if (k->width == 4)
                        colagg_minmax_i32((const int32_t *)(const void *)k->data, n, &mn, &mx);
                    else
                        colagg_minmax_i64((const int64_t *)(const void *)k->data, n, &mn, &mx);
                    want_mm = false;
                }
            }
            if (!all || (want_mm && count)) {
                /* a selection (older versions, tombstones) or nulls among min/max */
                count = 0;
                sum = 0;
                for (uint32_t s = 0; s < nsel; s++) {
                    uint32_t i = all ? s : cb->sel[s];
                    if (k->nulls[i / 8] >> (i % 8) & 1)
                        continue;
                    int64_t v = col_int(k, i);
                    if (!count)
                        mn = mx = v;
                    mn = v < mn ? v : mn;
                    mx = v > mx ? v : mx;
                    sum += v;
                    count++;
                }
            }
        }
        if (agg_direct_add(ag, a, count, sum, mn, mx, err) < 0)
            return -1;
    }
    return 1;
}

int exec_colblock_append(arena_t *a, const store_colblock_t *cb, const plan_t *p, const bool *need,
                         batch_t *b)
{
    int nc = p->scan.table->ncols;
    const type_oid_t *types = p->scan.coltypes;
    if (!block_layout_current(cb, p))
        return 1;
    int base = b->nrows;
    uint32_t n = cb->nsel;
    const uint32_t *sel = cb->sel;
    ASSERT(base + (int)n <= b->cap);
    for (int c = 0; c < nc; c++) {
        datum_t *out = b->vals[c] + base;
        bool *nulls = b->nulls[c] + base;
        const store_col_t *k = &cb->cols[c];
        if (!need[c]) {
            for (uint32_t i = 0; i < n; i++) {
                out[i].i64 = 0;
                nulls[i] = true;
            }
            continue;
        }
        for (uint32_t i = 0; i < n; i++)
            nulls[i] = k->nulls[sel[i] / 8] >> (sel[i] % 8) & 1;
        const uint8_t *d = k->data;
        switch (k->width) {
        case 0:
            for (uint32_t i = 0; i < n; i++) {
                out[i].i64 = 0;
                if (nulls[i])
                    continue;
                uint32_t j = sel[i], start = j ? k->ends[j - 1] : 0;
                vstr_t *v = vstr_new(a, (const char *)d + start, k->ends[j] - start);
                if (!v)
                    return -1;
                out[i].s = v;
            }
            break;
        case 1:
            for (uint32_t i = 0; i < n; i++)
                out[i].i64 = d[sel[i]];
            break;
        case 2:
            for (uint32_t i = 0; i < n; i++) {
                int16_t x;
                memcpy(&x, d + 2 * (size_t)sel[i], 2);
                out[i].i64 = x;
            }
            break;
        case 4:
            if (types[c] == TYPE_FLOAT4) {
                for (uint32_t i = 0; i < n; i++) {
                    float x;
                    memcpy(&x, d + 4 * (size_t)sel[i], 4);
                    out[i].f64 = x;
                }
            } else if (types[c] == TYPE_INT4 || types[c] == TYPE_DATE) {
                for (uint32_t i = 0; i < n; i++) {
                    int32_t x;
                    memcpy(&x, d + 4 * (size_t)sel[i], 4);
                    out[i].i64 = x;
                }
            } else {
                for (uint32_t i = 0; i < n; i++) {
                    uint32_t x;
                    memcpy(&x, d + 4 * (size_t)sel[i], 4);
                    out[i].i64 = x;
                }
            }
            break;
        default:   /* 8: int8, float8, timestamps, time: the datum's bits */
            for (uint32_t i = 0; i < n; i++)
                memcpy(&out[i], d + 8 * (size_t)sel[i], 8);
            break;
        }
        /* nulls read as 0, as row_decode leaves them */
        if (k->width)
            for (uint32_t i = 0; i < n; i++)
                if (nulls[i])
                    out[i].i64 = 0;
    }
    b->nrows = base + (int)n;
    return 0;
}
