/*
 * exec_topk.c -- per-shard top-k for ORDER BY ... LIMIT k over one table
 * (plan->scan.topk; see exec_int.h and plan.h).
 *
 * Why: a kNN query (ORDER BY emb <-> $1 LIMIT 10) must not ship every row of every
 * shard to the coordinator. Each shard keeps only its k = limit + offset best rows;
 * the coordinator's SORT + LIMIT merge the N * k survivors. The result is the same
 * as sorting everything, because a row outside its shard's top k has k better rows
 * on that shard alone.
 *
 * Exact path: the scan's rows pass the scan filter, their sort keys are evaluated,
 * and a bounded selection keeps the best: candidates accumulate up to 2k, then are
 * sorted and cut to k, and the k-th becomes a threshold that later rows must beat
 * before they are copied (so a scan copies O(k log(n/k)) rows, not n). Indexed path
 * (plan->scan.topk->index): sql/vindex.c picks the rows from the shard's HNSW
 * graph; their keys are evaluated here the same way.
 *
 * Ties and NULLs follow the SORT above (expr_cmp_nulls with the same desc /
 * nulls_first), so the shard keeps what the coordinator would keep.
 */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/rt.h"
#include "sql/exec_int.h"
#include "sql/vindex.h"
#include "vector/hnsw.h"

typedef struct topk_row {
    datum_t *vals;     /* table columns, copied into the fragment arena */
    bool *nulls;
    datum_t *keys;     /* sort key values */
    bool *knulls;
} topk_row_t;

struct exec_topk {
    int64_t k;
    int n, cap;
    topk_row_t *rows;
    bool have_thresh;
    topk_row_t thresh;  /* the k-th best row after the last cut */
    int emitted;
    batch_t *direct;    /* indexed path: vindex's rows as they are (in f->scratch) */
};

uint32_t exec_topk_ef_search(const exec_ctx_t *ctx)
{
    for (int i = 0; i < ctx->nsettings; i++) {
        if (strcmp(ctx->setting_names[i], "hnsw.ef_search") != 0)
            continue;
        long v = strtol(ctx->setting_values[i], NULL, 10);
        if (v >= HNSW_EF_SEARCH_MIN && v <= HNSW_EF_SEARCH_MAX)
            return (uint32_t)v;
    }
    return HNSW_EF_SEARCH_DEFAULT;
}

static int row_cmp(const plan_topk_t *tk, const topk_row_t *a, const topk_row_t *b)
{
    for (int i = 0; i < tk->nkeys; i++) {
        const plan_sortkey_t *k = &tk->keys[i];
        int c = expr_cmp_nulls(k->expr->type, a->keys[i], a->knulls[i], b->keys[i], b->knulls[i], k->nulls_first);
        if (c)
            return k->desc ? -c : c;
    }
    return 0;
}

static int row_cmp_qsort(const void *x, const void *y, void *arg)
{
    return row_cmp(arg, x, y);
}

static void sort_rows(const plan_topk_t *tk, struct exec_topk *t)
{
    qsort_r(t->rows, (size_t)t->n, sizeof(topk_row_t), row_cmp_qsort, (void *)tk);
}

/* Evaluates k = limit + offset; false when the limit is not a usable bound. */
static int eval_k(frag_scan_t *f, const plan_topk_t *tk, int64_t *k)
{
    datum_t v;
    bool isnull;
    f->ex.arena = &f->scratch;
    if (expr_eval_const(&f->ex, tk->limit, &v, &isnull, &f->err) < 0)
        return -1;
    if (isnull || v.i64 < 0 || v.i64 > LIMIT_SQL_TOPK_ROWS)
        return 0;   /* LIMIT NULL / ALL, or negative (the coordinator reports it) */
    int64_t off = 0;
    if (tk->offset) {
        datum_t o;
        if (expr_eval_const(&f->ex, tk->offset, &o, &isnull, &f->err) < 0)
            return -1;
        if (isnull || o.i64 < 0 || o.i64 > LIMIT_SQL_TOPK_ROWS)
            return 0;
        off = o.i64;
    }
    if (v.i64 + off > LIMIT_SQL_TOPK_ROWS)
        return 0;
    *k = v.i64 + off;
    return 1;
}

static int oom(frag_scan_t *f) { return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

/* Adds row r of b (keys already in kv/kn at row r) as a candidate. */
static int add_row(frag_scan_t *f, struct exec_topk *t, const batch_t *b, int r, datum_t **kv, bool **kn)
{
    const plan_topk_t *tk = f->plan->scan.topk;
    const type_oid_t *types = f->plan->scan.coltypes;
    int nc = b->ncols;
    topk_row_t row;
    row.keys = arena_alloc(&f->arena, (size_t)tk->nkeys * sizeof(datum_t));
    row.knulls = arena_alloc(&f->arena, (size_t)tk->nkeys);
    if (!row.keys || !row.knulls)
        return oom(f);
    for (int i = 0; i < tk->nkeys; i++) {
        row.keys[i] = kv[i][r];
        row.knulls[i] = kn[i][r];
    }
    if (t->have_thresh && row_cmp(tk, &row, &t->thresh) >= 0)
        return 0;                          /* cannot enter the top k */
    for (int i = 0; i < tk->nkeys; i++)
        if (!row.knulls[i] && exec_copy_datum(&f->arena, tk->keys[i].expr->type, &row.keys[i]) < 0)
            return oom(f);
    row.vals = arena_alloc(&f->arena, (size_t)nc * sizeof(datum_t));
    row.nulls = arena_alloc(&f->arena, (size_t)nc);
    if (!row.vals || !row.nulls)
        return oom(f);
    for (int c = 0; c < nc; c++) {
        row.vals[c] = b->vals[c][r];
        row.nulls[c] = b->nulls[c][r];
        if (!row.nulls[c] && exec_copy_datum(&f->arena, types[c], &row.vals[c]) < 0)
            return oom(f);
    }
    ASSERT(t->n < t->cap);
    t->rows[t->n++] = row;
    if (t->n == t->cap) {
        sort_rows(tk, t);
        t->n = (int)t->k;
        t->thresh = t->rows[t->k - 1];
        t->have_thresh = true;
    }
    return 0;
}

/* Evaluates the sort keys over rows sel[0..m) of b and offers each row. */
static int offer_batch(frag_scan_t *f, struct exec_topk *t, const batch_t *b, const int *sel, int m)
{
    const plan_topk_t *tk = f->plan->scan.topk;
    datum_t *kv[LIMIT_SQL_TOPK_KEYS];
    bool *kn[LIMIT_SQL_TOPK_KEYS];
    f->ex.arena = &f->scratch;
    for (int i = 0; i < tk->nkeys; i++) {
        kv[i] = arena_alloc(&f->scratch, (size_t)(b->nrows + 1) * sizeof(datum_t));
        kn[i] = arena_alloc(&f->scratch, (size_t)(b->nrows + 1));
        if (!kv[i] || !kn[i])
            return oom(f);
        if (expr_eval(&f->ex, tk->keys[i].expr, b, sel, m, kv[i], kn[i], &f->err) < 0)
            return -1;
    }
    for (int i = 0; i < m; i++)
        if (add_row(f, t, b, sel ? sel[i] : i, kv, kn) < 0)
            return -1;
    return 0;
}

static int collect_exact(frag_scan_t *f, struct exec_topk *t)
{
    for (;;) {
        if (f->cancel && *f->cancel)
            return sql_error(&f->err, SQLSTATE_QUERY_CANCELED, "canceling statement due to user request");
        arena_reset(&f->scratch);
        batch_t *raw;
        int n = frag_scan_read(f, &raw, LIMIT_BATCH_ROWS);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        int *sel;
        int m = frag_scan_filter(f, raw, &sel);
        if (m < 0 || offer_batch(f, t, raw, sel, m) < 0)
            return -1;
        rt_yield();
    }
}

/* Indexed path: vindex picks at most k rows (visible, filtered), all of which are
 * this shard's top k, so they are emitted as they are: their sort keys would only
 * order them, and the coordinator's SORT evaluates and orders them anyway (no copy,
 * no distance computed twice on the shard). When vindex declines (selective filter,
 * NULL query, large k) the exact path answers. */
static int collect_index(frag_scan_t *f, struct exec_topk *t)
{
    batch_t *rows = NULL;
    arena_reset(&f->scratch);
    int rc = vindex_topk(f, (uint32_t)t->k, &rows);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return collect_exact(f, t);
    ASSERT(rows->nrows <= t->k);
    if (rows->nrows <= LIMIT_BATCH_ROWS) {
        t->direct = rows;       /* f->scratch is not reset before exec_topk_next emits it */
        return 0;
    }
    return offer_batch(f, t, rows, NULL, rows->nrows);
}

static int topk_collect(frag_scan_t *f)
{
    const plan_topk_t *tk = f->plan->scan.topk;
    if (tk->nkeys > LIMIT_SQL_TOPK_KEYS) {
        f->topk_off = true;
        return 1;
    }
    int64_t k;
    int rc = eval_k(f, tk, &k);
    if (rc <= 0) {
        f->topk_off = rc == 0;
        return rc < 0 ? -1 : 1;
    }
    struct exec_topk *t = arena_alloc(&f->arena, sizeof *t);
    if (!t)
        return oom(f);
    memset(t, 0, sizeof *t);
    f->topk = t;
    t->k = k;
    if (k == 0) {
        f->done = true;
        return 0;
    }
    t->cap = (int)(2 * k);
    if (!(t->rows = arena_alloc(&f->arena, (size_t)t->cap * sizeof(topk_row_t))))
        return oom(f);
    rc = tk->index ? collect_index(f, t) : collect_exact(f, t);
    if (f->it) {
        store_iter_close(f->it);
        f->it = NULL;
    }
    if (rc < 0)
        return -1;
    sort_rows(tk, t);
    if (t->n > k)
        t->n = (int)k;
    return 0;
}

int exec_topk_next(frag_scan_t *f)
{
    f->out = NULL;
    if (!f->topk) {
        int rc = topk_collect(f);
        if (rc != 0)
            return rc;
        if (!f->topk)
            return 0;
    }
    struct exec_topk *t = f->topk;
    if (t->direct) {
        f->out = t->direct;     /* in f->scratch, valid until the next call resets it */
        t->direct = NULL;
        return 0;
    }
    arena_reset(&f->scratch);
    int left = t->n - t->emitted;
    if (left <= 0) {
        f->done = true;
        return 0;
    }
    int nc = f->plan->scan.table->ncols;
    batch_t *out = batch_new(&f->scratch, nc, left < LIMIT_BATCH_ROWS ? left : LIMIT_BATCH_ROWS);
    if (!out)
        return oom(f);
    while (out->nrows < out->cap) {
        const topk_row_t *row = &t->rows[t->emitted++];
        batch_append(out, row->vals, row->nulls);
    }
    f->out = out;
    return 0;
}
