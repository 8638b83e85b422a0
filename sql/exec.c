/*
 * exec.c -- the coordinator's operators: gathering fragment results from shards,
 * virtual tables, generate_series, VALUES, filter, projection, aggregation, sort,
 * limit, distinct and joins; see exec_int.h for the batch contract.
 */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/rt.h"
#include "sql/activity.h"
#include "sql/exec_int.h"
#include "sql/secindex.h"
#include "sql/builtins_time.h"
#include "sql/types_time.h"

/* Microseconds a statement may run on its shard before it yields to the loop once, so
 * other connections of the shard, cross-shard requests and a CancelRequest for this
 * very statement get their turn (fibers are cooperative). */
#define EXEC_YIELD_INTERVAL_US 2000
static __thread uint64_t exec__last_yield_us;

int exec_check_cancel(exec_ctx_t *ctx, sql_error_t *err)
{
    uint64_t now_us = rt_now_us();
    if (now_us - exec__last_yield_us > EXEC_YIELD_INTERVAL_US) {
        if (exec__last_yield_us && rt_self())
            rt_yield();
        exec__last_yield_us = rt_now_us();
    }
    if (ctx->cancel && *ctx->cancel)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to user request");
    if (ctx->txn && ctx->txn->deadline_us && rt_now_us() > ctx->txn->deadline_us)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to statement timeout");
    return 0;
}

expr_ctx_t exec_expr_ctx(exec_op_t *op)
{
    expr_ctx_t x = op->ctx->ex;
    x.arena = &op->scratch;
    x.depth = 0;
    return x;
}

static void *op_alloc(exec_op_t *op, size_t n, sql_error_t *err)
{
    void *p = arena_alloc(op->ctx->arena, n ? n : 1);
    if (!p)
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    else
        memset(p, 0, n ? n : 1);
    return p;
}

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

/* ---- gather: table scans over shards ---- */

typedef struct scan_st {
    int n;                 /* shards involved */
    int cur;
    bool started;
    int *shards;
    frag_scan_t *fs;
    bool *pending;         /* a prefetched batch waits in fs[i].out */
} scan_st_t;

static int scan_fetch_one(void *arg)
{
    return ((frag_scan_t *)arg)->an_on ? explain_frag_scan_next(arg) : frag_scan_next(arg);
}

static int scan_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    scan_st_t *s = op->st;
    if (!s->started) {
        /* first batches from every shard in parallel */
        s->started = true;
        if (s->n == 1) {
            if (rt_call(s->shards[0], scan_fetch_one, &s->fs[0]) < 0) {
                *err = s->fs[0].err;
                return -1;
            }
            s->pending[0] = true;
        } else if (s->n > 1) {
            void **args = op_alloc(op, (size_t)s->n * sizeof(void *), err);
            int *rets = op_alloc(op, (size_t)s->n * sizeof(int), err);
            if (!args || !rets)
                return -1;
            for (int i = 0; i < s->n; i++)
                args[i] = &s->fs[i];
            rt_call_many(s->n, s->shards, scan_fetch_one, args, rets);
            for (int i = 0; i < s->n; i++) {
                if (rets[i] < 0) {
                    *err = s->fs[i].err;
                    return -1;
                }
                s->pending[i] = true;
            }
        }
    }
    while (s->cur < s->n) {
        frag_scan_t *f = &s->fs[s->cur];
        if (!s->pending[s->cur]) {
            if (exec_check_cancel(op->ctx, err) < 0)
                return -1;
            if (rt_call(s->shards[s->cur], scan_fetch_one, f) < 0) {
                *err = f->err;
                return -1;
            }
        }
        s->pending[s->cur] = false;
        if (f->out && f->out->nrows > 0) {
            *out = f->out;
            return 1;
        }
        s->cur++;
    }
    return 0;
}

static int scan_close_one(void *arg) { return frag_scan_close(arg); }

static void scan_close(exec_op_t *op)
{
    scan_st_t *s = op->st;
    if (!s)
        return;
    if (op->ctx->instr)
        explain_note_scan(op->ctx, op->plan, s->n, s->shards, s->fs, s->pending);
    for (int i = 0; i < s->n; i++) {
        if (!s->fs[i].opened)
            continue;
        /* only an open store iterator must be closed on its shard; arenas may be
         * freed from here (rt_free works across shards) */
        if (s->fs[i].it)
            rt_call(s->shards[i], scan_close_one, &s->fs[i]);
        else
            frag_scan_close(&s->fs[i]);
    }
}

/* Index Scan: evaluates the index columns' values (or the range's bounds), reads the
 * index's entries and leaves the row keys per row shard in *bufs (statement arena,
 * so the fragments can read them until the scan closes). Returns 1, 0 when nothing
 * can match (a NULL value, no entry), 2 when the index matched too many rows to be
 * worth it (the caller scans the table; the filter holds the whole WHERE), -1 + err. */
static int exec_index_lookup(exec_op_t *op, strbuf_t **bufs_out, sql_error_t *err)
{
    const plan_t *p = op->plan;
    const cat_index_t *ix = p->scan.index;
    exec_ctx_t *ctx = op->ctx;
    expr_ctx_t x = exec_expr_ctx(op);
    datum_t vals[LIMIT_SQL_INDEX_COLUMNS];
    bool nulls[LIMIT_SQL_INDEX_COLUMNS];
    type_oid_t types[LIMIT_SQL_INDEX_COLUMNS];
    int nvals = p->scan.ixkey ? ix->ncols : 2;
    for (int i = 0; i < nvals; i++) {
        bexpr_t *e = p->scan.ixkey ? p->scan.ixkey[i] : i == 0 ? p->scan.ixlo : p->scan.ixhi;
        nulls[i] = false;
        if (!e)
            continue;           /* an unbounded end of the range */
        if (expr_eval_const(&x, e, &vals[i], &nulls[i], err) < 0)
            return -1;
        if (nulls[i])
            return 0;           /* col = NULL, col < NULL: nothing matches */
        types[i] = e->type;
    }
    int n = rt_shards_count();
    strbuf_t lo, hi;
    strbuf_init(&lo);
    strbuf_init(&hi);
    strbuf_t *bufs = op_alloc(op, (size_t)n * sizeof(strbuf_t), err);
    int rc = -1;
    if (bufs && p->scan.ixkey)
        rc = secidx_encode_ik(ix->ncols, types, vals, nulls, &lo, err);
    else if (bufs)
        rc = secidx_encode_range(p->scan.ixlo ? types[0] : types[1], p->scan.ixlo ? &vals[0] : NULL,
                                 p->scan.ixlo_incl, p->scan.ixhi ? &vals[1] : NULL, p->scan.ixhi_incl, &lo, &hi, err);
    for (int i = 0; bufs && i < n; i++)
        strbuf_init(&bufs[i]);
    int64_t found = rc < 0 ? -1
                           : secidx_lookup(ctx, ix, (const uint8_t *)lo.data, (uint32_t)lo.len,
                                           (const uint8_t *)hi.data, (uint32_t)hi.len, p->scan.ixkey != NULL, bufs, err);
    strbuf_free(&lo);
    strbuf_free(&hi);
    /* move the keys into the statement arena: strbuf memory has no owner to free it */
    for (int i = 0; bufs && i < n; i++) {
        strbuf_t *sb = &bufs[i];
        uint8_t *copy = found > 0 && sb->len ? arena_memdup(ctx->arena, sb->data, sb->len) : NULL;
        size_t len = copy ? sb->len : 0;
        if (found > 0 && sb->len && !copy)
            found = oom(err);
        strbuf_free(sb);
        sb->data = (char *)copy;
        sb->len = len;
    }
    if (found == SECIDX_LOOKUP_TOO_MANY)
        return 2;
    if (found <= 0)
        return (int)found;
    *bufs_out = bufs;
    return 1;
}

static int scan_open(exec_op_t *op, sql_error_t *err)
{
    const plan_t *p = op->plan;
    exec_ctx_t *ctx = op->ctx;
    scan_st_t *s = op_alloc(op, sizeof *s, err);
    if (!s)
        return -1;
    int nshards = rt_shards_count();
    uint8_t *key = NULL;
    uint32_t klen = 0;
    int only = -1;
    if (p->scan.nkey) {
        /* point get: evaluate the key values and route */
        expr_ctx_t x = exec_expr_ctx(op);
        strbuf_t sb;
        strbuf_init(&sb);
        bool empty = false;
        for (int k = 0; k < p->scan.nkey; k++) {
            datum_t v;
            bool isnull;
            if (expr_eval_const(&x, p->scan.key[k], &v, &isnull, err) < 0) {
                strbuf_free(&sb);
                return -1;
            }
            if (isnull)
                empty = true;    /* pk = NULL matches nothing */
            else
                type_key_encode(p->scan.key[k]->type, v, &sb);
        }
        if (sb.oom) {
            strbuf_free(&sb);
            return oom(err);
        }
        if (!empty) {
            key = arena_memdup(ctx->arena, sb.data, sb.len);
            klen = (uint32_t)sb.len;
            only = sql_route_key(key, klen, nshards);
        }
        strbuf_free(&sb);
        if (empty) {
            op->st = s;   /* n = 0: no rows */
            return 0;
        }
        if (!key)
            return oom(err);
    }
    strbuf_t *ixbufs = NULL;
    if (p->scan.index && !p->scan.nkey) {
        int r = exec_index_lookup(op, &ixbufs, err);   /* 2: scan the table after all */
        if (r <= 0) {
            if (r == 0)
                op->st = s;     /* n = 0: no rows */
            return r;
        }
    }
    s->n = only >= 0 ? 1 : nshards;
    if (ixbufs) {
        s->n = 0;
        for (int i = 0; i < nshards; i++)
            s->n += ixbufs[i].len > 0;
    }
    s->shards = op_alloc(op, (size_t)s->n * sizeof(int), err);
    s->fs = op_alloc(op, (size_t)s->n * sizeof(frag_scan_t), err);
    s->pending = op_alloc(op, (size_t)s->n, err);
    if (!s->shards || !s->fs || !s->pending)
        return -1;
    for (int i = 0, next = 0; i < s->n; i++) {
        s->shards[i] = only >= 0 ? only : i;
        if (ixbufs) {
            while (!ixbufs[next].len)
                next++;
            s->shards[i] = next++;
        }
        if (p->scan.lock_rows)
            txn_touch(ctx->txn, s->shards[i]);     /* the row locks end with the transaction */
        frag_scan_t *f = &s->fs[i];
        f->plan = p;
        f->txn = ctx->txn;
        f->ex = ctx->ex;
        f->ex.subq_run = NULL;      /* fragments run on other shards */
        f->ex.guc_get = NULL;
        f->ex.guc_set = NULL;
        f->key = key;
        f->klen = klen;
        if (ixbufs) {
            f->mkeys = (const uint8_t *)ixbufs[s->shards[i]].data;
            f->mkeys_len = ixbufs[s->shards[i]].len;
        }
        f->cancel = ctx->cancel;
        f->ef_search = exec_topk_ef_search(ctx);
        f->an_on = ctx->instr != NULL;
    }
    op->st = s;
    return 0;
}

/* ---- virtual tables ---- */

typedef struct mat_st { rowstore_t rs; int64_t pos; bool filled; } mat_st_t;

static int mat_emit(exec_op_t *op, mat_st_t *m, batch_t **out, sql_error_t *err)
{
    if (m->pos >= m->rs.nrows)
        return 0;
    int chunk = (int)(m->pos / LIMIT_BATCH_ROWS);
    *out = m->rs.chunks[chunk];
    m->pos += m->rs.chunks[chunk]->nrows;
    return 1;
}

typedef struct vtab_emit_arg { mat_st_t *m; batch_t *one; sql_error_t *err; } vtab_emit_arg_t;

static int vtab_emit(void *arg, const datum_t *vals, const bool *nulls)
{
    vtab_emit_arg_t *a = arg;
    a->one->nrows = 0;
    batch_append(a->one, vals, nulls);
    return rowstore_add(&a->m->rs, a->one, NULL, 0, a->err) < 0 ? -1 : 0;
}

static int vtab_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    mat_st_t *m = op->st;
    if (!m->filled) {
        exec_ctx_t *ctx = op->ctx;
        const pgcat_vtab_t *vt = op->plan->vtab.vt;
        pgcat_ctx_t pc = {ctx->catalog, ctx->user, ctx->database, ctx->nsettings, ctx->setting_names,
                          ctx->setting_values, activity_gather};
        batch_t *one = batch_new(ctx->arena, vt->ncols, 1);
        if (!one)
            return oom(err);
        vtab_emit_arg_t a = {m, one, err};
        if (pgcat_scan(vt, &pc, ctx->arena, vtab_emit, &a, err) != 0)
            return -1;
        m->filled = true;
    }
    return mat_emit(op, m, out, err);
}

/* ---- generate_series ---- */

typedef struct series_st {
    int64_t cur, stop, step;
    bool ts_mode;                /* timestamp[tz] series: step is an interval */
    types_interval_t iv;
    const types_tz_t *tz;        /* timestamptz: the zone days and months are added in */
    bool init, done;
    type_array_iter_t it;        /* unnest: over a copy of the array in the op's arena */
    type_array_iter_t it2;       /* series.unnest2, in step with it */
    int64_t ord;                 /* WITH ORDINALITY: rows produced so far */
} series_st_t;

/* WITH ORDINALITY: numbers b's rows in its last column, continuing from s->ord. */
static void series_number(const plan_t *p, series_st_t *s, batch_t *b)
{
    if (!p->series.ordinality)
        return;
    for (int r = 0; r < b->nrows; r++) {
        b->vals[p->ncols - 1][r].i64 = ++s->ord;
        b->nulls[p->ncols - 1][r] = false;
    }
}

/* Evaluates an unnest argument once and starts an iterator over a copy of it;
 * *none when the array is NULL. */
static int unnest_start(exec_op_t *op, const bexpr_t *e, type_array_iter_t *it, bool *none, sql_error_t *err)
{
    expr_ctx_t x = exec_expr_ctx(op);
    datum_t a;
    if (expr_eval_const(&x, e, &a, none, err) < 0)
        return -1;
    if (*none)
        return 0;
    vstr_t *c = op_alloc(op, sizeof(vstr_t) + a.s->len, err);
    if (!c)
        return -1;
    memcpy(c, a.s, sizeof(vstr_t) + a.s->len);
    a.s = c;
    type_array_iter(it, a);
    return 0;
}

/* unnest(array): the elements, LIMIT_BATCH_ROWS at a time; a NULL array gives no rows. */
static int unnest_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    series_st_t *s = op->st;
    const plan_t *p = op->plan;
    if (!s->init) {
        bool an = false, bn = false;
        if (unnest_start(op, p->series.unnest, &s->it, &an, err) < 0 ||
            (p->series.unnest2 && unnest_start(op, p->series.unnest2, &s->it2, &bn, err) < 0))
            return -1;
        s->init = true;
        s->done = an || bn;
    }
    if (s->done)
        return 0;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, p->ncols, LIMIT_BATCH_ROWS);
    if (!b)
        return oom(err);
    while (b->nrows < b->cap && type_array_next(&s->it, &b->vals[0][b->nrows], &b->nulls[0][b->nrows]) &&
           (!p->series.unnest2 || type_array_next(&s->it2, &b->vals[1][b->nrows], &b->nulls[1][b->nrows])))
        b->nrows++;
    if (b->nrows < b->cap)
        s->done = true;
    if (b->nrows == 0)
        return 0;
    series_number(p, s, b);
    *out = b;
    return 1;
}

static int series_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    series_st_t *s = op->st;
    const plan_t *p = op->plan;
    if (p->series.unnest)
        return unnest_next(op, out, err);
    if (!s->init) {
        expr_ctx_t x = exec_expr_ctx(op);
        datum_t a, b, c = {.i64 = 1};
        bool an, bn, cn = false;
        if (expr_eval_const(&x, p->series.start, &a, &an, err) < 0 ||
            expr_eval_const(&x, p->series.stop, &b, &bn, err) < 0 ||
            (p->series.step && expr_eval_const(&x, p->series.step, &c, &cn, err) < 0))
            return -1;
        s->init = true;
        s->ts_mode = p->types[0] == TYPE_TIMESTAMP || p->types[0] == TYPE_TIMESTAMPTZ;
        if (an || bn || cn) {
            s->done = true;
        } else if (s->ts_mode) {
            types_interval_get(c, &s->iv);
            __int128 span = (__int128)s->iv.time + ((__int128)s->iv.day + (__int128)s->iv.month * 30) * INT64_C(86400000000);
            if (span == 0)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "step size cannot equal zero");
            s->step = span > 0 ? 1 : -1;
            s->cur = a.i64;
            s->stop = b.i64;
            s->tz = p->types[0] == TYPE_TIMESTAMPTZ ? (x.bctx && x.bctx->tz ? x.bctx->tz : types_tz_utc()) : NULL;
        } else {
            if (c.i64 == 0)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "step size cannot equal zero");
            s->cur = a.i64;
            s->stop = b.i64;
            s->step = c.i64;
        }
    }
    if (s->done)
        return 0;
    if (exec_check_cancel(op->ctx, err) < 0)
        return -1;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, p->ncols, LIMIT_BATCH_ROWS);
    if (!b)
        return oom(err);
    while (b->nrows < b->cap) {
        if ((s->step > 0 && s->cur > s->stop) || (s->step < 0 && s->cur < s->stop)) {
            s->done = true;
            break;
        }
        b->vals[0][b->nrows].i64 = s->cur;
        b->nulls[0][b->nrows++] = false;
        if (s->ts_mode) {
            if (s->tz) types_tz_use(s->tz);
            sql_error_t tmp = {0};
            if (builtins_time_ts_add(s->cur, &s->iv, s->tz, &s->cur, &tmp) < 0) {
                s->done = true;
                break;
            }
            continue;
        }
        if (__builtin_add_overflow(s->cur, s->step, &s->cur)) {
            s->done = true;
            break;
        }
    }
    if (b->nrows == 0)
        return 0;
    series_number(p, s, b);
    *out = b;
    return 1;
}

/* ---- VALUES ---- */

typedef struct values_st { int row; } values_st_t;

static int values_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    values_st_t *s = op->st;
    const plan_t *p = op->plan;
    if (s->row >= p->values.nrows)
        return 0;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, p->ncols, LIMIT_BATCH_ROWS);
    if (!b)
        return oom(err);
    expr_ctx_t x = exec_expr_ctx(op);
    while (s->row < p->values.nrows && b->nrows < b->cap) {
        int r = b->nrows++;
        for (int c = 0; c < p->ncols; c++)
            if (expr_eval_const(&x, p->values.rows[s->row][c], &b->vals[c][r], &b->nulls[c][r], err) < 0)
                return -1;
        s->row++;
    }
    *out = b;
    return 1;
}

/* ---- filter / project ---- */

static int filter_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    for (;;) {
        batch_t *in;
        int rc = op->child->next(op->child, &in, err);
        if (rc <= 0)
            return rc;
        arena_reset(&op->scratch);
        expr_ctx_t x = exec_expr_ctx(op);
        int *sel = arena_alloc(&op->scratch, (size_t)(in->nrows + 1) * sizeof(int));
        if (!sel)
            return oom(err);
        int n = expr_filter(&x, op->plan->filter.pred, in, sel, err);
        if (n < 0)
            return -1;
        if (n == 0)
            continue;
        if (n == in->nrows) {
            *out = in;
            return 1;
        }
        batch_t *b = batch_new(&op->scratch, in->ncols, n);
        if (!b)
            return oom(err);
        for (int i = 0; i < n; i++)
            batch_copy_row(b, in, sel[i]);
        *out = b;
        return 1;
    }
}

static int project_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    batch_t *in;
    int rc = op->child->next(op->child, &in, err);
    if (rc <= 0)
        return rc;
    const plan_t *p = op->plan;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, p->ncols, in->nrows ? in->nrows : 1);
    if (!b)
        return oom(err);
    expr_ctx_t x = exec_expr_ctx(op);
    for (int c = 0; c < p->ncols; c++) {
        const bexpr_t *e = p->project.exprs[c];
        if (e->kind == BX_COL) {
            memcpy(b->vals[c], in->vals[e->index], (size_t)in->nrows * sizeof(datum_t));
            memcpy(b->nulls[c], in->nulls[e->index], (size_t)in->nrows);
        } else if (expr_eval(&x, e, in, NULL, 0, b->vals[c], b->nulls[c], err) < 0) {
            return -1;
        }
    }
    b->nrows = in->nrows;
    *out = b;
    return 1;
}

/* ---- aggregation and DISTINCT ---- */

typedef struct agg_st { agg_table_t *ag; bexpr_t **group; int64_t pos; bool filled; int nout; } agg_st_t;

static int agg_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    agg_st_t *s = op->st;
    if (!s->filled) {
        for (;;) {
            batch_t *in;
            int rc = op->child->next(op->child, &in, err);
            if (rc < 0)
                return -1;
            if (rc == 0)
                break;
            arena_reset(&op->scratch);
            expr_ctx_t x = exec_expr_ctx(op);
            if (agg_add(s->ag, &x, in, s->group, err) < 0)
                return -1;
            if (exec_check_cancel(op->ctx, err) < 0)
                return -1;
        }
        s->filled = true;
    }
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, s->nout, LIMIT_BATCH_ROWS);
    if (!b)
        return oom(err);
    int n = agg_emit(s->ag, b, &s->pos, err);
    if (n <= 0)
        return n;
    *out = b;
    return 1;
}

static int agg_open(exec_op_t *op, sql_error_t *err)
{
    const plan_t *p = op->plan;
    agg_st_t *s = op_alloc(op, sizeof *s, err);
    if (!s)
        return -1;
    if (p->kind == PL_DISTINCT) {
        int n = p->ncols;
        s->group = op_alloc(op, (size_t)(n + 1) * sizeof(bexpr_t *), err);
        if (!s->group)
            return -1;
        for (int c = 0; c < n; c++) {
            bexpr_t *e = op_alloc(op, sizeof *e, err);
            if (!e)
                return -1;
            e->kind = BX_COL;
            e->type = p->types[c];
            e->typmod = -1;
            e->index = c;
            s->group[c] = e;
        }
        s->ag = agg_new(op->ctx->arena, n, p->types, 0, NULL, PLAN_AGG_COMPLETE);
    } else {
        type_oid_t *gt = op_alloc(op, (size_t)(p->agg.ngroup + 1) * sizeof(type_oid_t), err);
        if (!gt)
            return -1;
        for (int g = 0; g < p->agg.ngroup; g++)
            gt[g] = p->agg.group[g]->type;
        s->group = p->agg.group;
        s->ag = agg_new(op->ctx->arena, p->agg.ngroup, gt, p->agg.naggs, p->agg.aggs, p->agg.mode);
    }
    if (!s->ag)
        return oom(err);
    s->nout = agg_out_ncols(s->ag);
    op->st = s;
    return 0;
}

/* ---- sort ---- */

typedef struct sort_st {
    rowstore_t rs;
    int64_t *order;
    int64_t pos;
    bool filled;
} sort_st_t;

/* The row store being sorted: qsort_r's argument carries the plan; a sort never
 * suspends, so one slot per thread suffices. */
static __thread const rowstore_t *sort_rs;

static int sort_cmp(const void *a, const void *b, void *arg)
{
    const plan_t *p = arg;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    for (int k = 0; k < p->sort.nkeys; k++) {
        const plan_sortkey_t *key = &p->sort.keys[k];
        int c = key->expr->index;
        int r = expr_cmp_nulls(p->types[c], rs_val(sort_rs, x, c), rs_null(sort_rs, x, c),
                               rs_val(sort_rs, y, c), rs_null(sort_rs, y, c),
                               key->desc ? !key->nulls_first : key->nulls_first);
        if (r)
            return key->desc ? -r : r;
    }
    return x < y ? -1 : x > y;    /* stable */
}

static int sort_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    sort_st_t *s = op->st;
    const plan_t *p = op->plan;
    if (!s->filled) {
        rowstore_init(&s->rs, op->ctx->arena, p->ncols, p->types);
        for (;;) {
            batch_t *in;
            int rc = op->child->next(op->child, &in, err);
            if (rc < 0)
                return -1;
            if (rc == 0)
                break;
            if (rowstore_add(&s->rs, in, NULL, 0, err) < 0)
                return -1;
            if (exec_check_cancel(op->ctx, err) < 0)
                return -1;
        }
        s->order = arena_alloc(op->ctx->arena, (size_t)(s->rs.nrows + 1) * sizeof(int64_t));
        if (!s->order)
            return oom(err);
        for (int64_t i = 0; i < s->rs.nrows; i++)
            s->order[i] = i;
        sort_rs = &s->rs;
        qsort_r(s->order, (size_t)s->rs.nrows, sizeof(int64_t), sort_cmp, (void *)p);
        s->filled = true;
    }
    if (s->pos >= s->rs.nrows)
        return 0;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, p->ncols, LIMIT_BATCH_ROWS);
    if (!b)
        return oom(err);
    while (b->nrows < b->cap && s->pos < s->rs.nrows) {
        int64_t r = s->order[s->pos++];
        int d = b->nrows++;
        for (int c = 0; c < p->ncols; c++) {
            b->vals[c][d] = rs_val(&s->rs, r, c);
            b->nulls[c][d] = rs_null(&s->rs, r, c);
        }
    }
    *out = b;
    return 1;
}

/* ---- limit ---- */

typedef struct limit_st { int64_t limit, offset, seen, sent; bool init; } limit_st_t;

static int limit_value(exec_op_t *op, const bexpr_t *e, int64_t dflt, const char *what, const char *state,
                       int64_t *out, sql_error_t *err)
{
    *out = dflt;
    if (!e)
        return 0;
    expr_ctx_t x = exec_expr_ctx(op);
    datum_t v;
    bool isnull;
    if (expr_eval_const(&x, e, &v, &isnull, err) < 0)
        return -1;
    if (isnull)
        return 0;
    if (v.i64 < 0)
        return sql_error(err, state, "%s must not be negative", what);
    *out = v.i64;
    return 0;
}

/* FETCH FIRST n ROWS WITH TIES: after the n-th row, the rows whose sort keys equal
 * its keys (kept in tie_vals, copied, since batches do not outlive next()). */
typedef struct ties_st {
    limit_st_t l;
    datum_t *tie_vals;
    bool *tie_nulls;
    bool have, done;
} ties_st_t;

static bool ties_equal(const plan_t *p, const ties_st_t *s, const batch_t *in, int r)
{
    for (int k = 0; k < p->limit.nties; k++) {
        int c = p->limit.ties[k].expr->index;
        if (in->nulls[c][r] != s->tie_nulls[k])
            return false;
        if (!in->nulls[c][r] && type_cmp(p->types[c], in->vals[c][r], s->tie_vals[k]) != 0)
            return false;
    }
    return true;
}

static int ties_remember(exec_op_t *op, ties_st_t *s, const batch_t *in, int r, sql_error_t *err)
{
    const plan_t *p = op->plan;
    for (int k = 0; k < p->limit.nties; k++) {
        int c = p->limit.ties[k].expr->index;
        s->tie_nulls[k] = in->nulls[c][r];
        s->tie_vals[k] = in->vals[c][r];
        if (!s->tie_nulls[k] && exec_copy_datum(op->ctx->arena, p->types[c], &s->tie_vals[k]) < 0)
            return oom(err);
    }
    s->have = true;
    return 0;
}

static int limit_value(exec_op_t *op, const bexpr_t *e, int64_t dflt, const char *what, const char *state,
                       int64_t *out, sql_error_t *err);

static int ties_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    ties_st_t *s = op->st;
    const plan_t *p = op->plan;
    if (!s->l.init) {
        if (limit_value(op, p->limit.limit, INT64_MAX, "LIMIT", "2201W", &s->l.limit, err) < 0 ||
            limit_value(op, p->limit.offset, 0, "OFFSET", "2201X", &s->l.offset, err) < 0)
            return -1;
        s->tie_vals = arena_alloc(op->ctx->arena, (size_t)(p->limit.nties + 1) * sizeof(datum_t));
        s->tie_nulls = arena_alloc(op->ctx->arena, (size_t)p->limit.nties + 1);
        if (!s->tie_vals || !s->tie_nulls)
            return oom(err);
        s->l.init = true;
    }
    while (!s->done) {
        batch_t *in;
        int rc = op->child->next(op->child, &in, err);
        if (rc <= 0)
            return rc;
        arena_reset(&op->scratch);
        batch_t *b = batch_new(&op->scratch, in->ncols, in->nrows);
        if (!b)
            return oom(err);
        for (int r = 0; r < in->nrows && !s->done; r++) {
            if (s->l.seen++ < s->l.offset)
                continue;
            if (s->l.sent < s->l.limit) {
                batch_copy_row(b, in, r);
                if (++s->l.sent == s->l.limit && ties_remember(op, s, in, r, err) < 0)
                    return -1;
            } else if (s->have && ties_equal(p, s, in, r)) {
                batch_copy_row(b, in, r);
            } else {
                s->done = true;
            }
        }
        if (s->l.limit == 0)
            s->done = true;
        if (b->nrows) {
            *out = b;
            return 1;
        }
    }
    return 0;
}

static int limit_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    limit_st_t *s = op->st;
    if (!s->init) {
        if (limit_value(op, op->plan->limit.limit, INT64_MAX, "LIMIT", "2201W", &s->limit, err) < 0 ||
            limit_value(op, op->plan->limit.offset, 0, "OFFSET", "2201X", &s->offset, err) < 0)
            return -1;
        s->init = true;
    }
    while (s->sent < s->limit) {
        batch_t *in;
        int rc = op->child->next(op->child, &in, err);
        if (rc <= 0)
            return rc;
        int64_t start = 0;
        if (s->seen < s->offset) {
            int64_t skip = s->offset - s->seen;
            start = skip < in->nrows ? skip : in->nrows;
        }
        s->seen += in->nrows;
        int64_t avail = in->nrows - start;
        if (avail <= 0)
            continue;
        if (avail > s->limit - s->sent)
            avail = s->limit - s->sent;
        s->sent += avail;
        if (start == 0 && avail == in->nrows) {
            *out = in;
            return 1;
        }
        arena_reset(&op->scratch);
        batch_t *b = batch_new(&op->scratch, in->ncols, (int)avail);
        if (!b)
            return oom(err);
        for (int64_t i = 0; i < avail; i++)
            batch_copy_row(b, in, (int)(start + i));
        *out = b;
        return 1;
    }
    return 0;
}

/* ---- joins ---- */

typedef struct join_st {
    rowstore_t right;
    rowstore_t rkeys;          /* hash join: key values per right row */
    uint64_t *rhash;
    int64_t *chain, *slots;
    int64_t nslots;
    bool built;
    batch_t *left;             /* current left batch (owned by the left child) */
    datum_t **lk;              /* left key values for the current batch */
    bool **lkn;
    int lrow;
    int64_t rpos;              /* next right candidate for lrow (-1: start) */
    bool *matched;
    bool left_done;
    bool *rmatched;            /* FULL JOIN: right rows that found a partner */
    int64_t remit;             /* FULL JOIN: next right row to consider after the left side */
} join_st_t;

static uint64_t join_hash(const plan_t *p, datum_t *const *v, bool *const *vn, int r, bool *hasnull)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < p->join.nkeys; k++) {
        if (vn[k][r]) {
            *hasnull = true;
            return 0;
        }
        h ^= type_hash(p->join.keytypes[k], v[k][r]) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    *hasnull = false;
    return h;
}

static int join_build(exec_op_t *op, join_st_t *s, sql_error_t *err)
{
    const plan_t *p = op->plan;
    const plan_t *rp = p->right;
    rowstore_init(&s->right, op->ctx->arena, rp->ncols, rp->types);
    type_oid_t *kt = p->join.keytypes;
    if (p->join.nkeys)
        rowstore_init(&s->rkeys, op->ctx->arena, p->join.nkeys, kt);
    for (;;) {
        batch_t *in;
        int rc = op->right->next(op->right, &in, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        if (rowstore_add(&s->right, in, NULL, 0, err) < 0)
            return -1;
        if (p->join.nkeys) {
            arena_reset(&op->scratch);
            expr_ctx_t x = exec_expr_ctx(op);
            batch_t *kb = batch_new(&op->scratch, p->join.nkeys, in->nrows);
            if (!kb)
                return oom(err);
            for (int k = 0; k < p->join.nkeys; k++)
                if (expr_eval(&x, p->join.rkeys[k], in, NULL, 0, kb->vals[k], kb->nulls[k], err) < 0)
                    return -1;
            kb->nrows = in->nrows;
            if (rowstore_add(&s->rkeys, kb, NULL, 0, err) < 0)
                return -1;
        }
    }
    if (p->join.nkeys) {
        int64_t n = s->right.nrows;
        s->nslots = 16;
        while (s->nslots < 2 * n)
            s->nslots *= 2;
        s->slots = arena_alloc(op->ctx->arena, (size_t)s->nslots * sizeof(int64_t));
        s->chain = arena_alloc(op->ctx->arena, (size_t)(n + 1) * sizeof(int64_t));
        s->rhash = arena_alloc(op->ctx->arena, (size_t)(n + 1) * sizeof(uint64_t));
        if (!s->slots || !s->chain || !s->rhash)
            return oom(err);
        for (int64_t i = 0; i < s->nslots; i++)
            s->slots[i] = -1;
        datum_t *v[64];
        bool *vn[64];
        for (int64_t r = 0; r < n; r++) {
            int chunk = (int)(r / LIMIT_BATCH_ROWS), row = (int)(r % LIMIT_BATCH_ROWS);
            for (int k = 0; k < p->join.nkeys && k < 64; k++) {
                v[k] = s->rkeys.chunks[chunk]->vals[k];
                vn[k] = s->rkeys.chunks[chunk]->nulls[k];
            }
            bool hasnull;
            uint64_t h = join_hash(p, v, vn, row, &hasnull);
            s->rhash[r] = h;
            s->chain[r] = -1;
            if (hasnull)
                continue;
            int64_t slot = (int64_t)(h & (uint64_t)(s->nslots - 1));
            s->chain[r] = s->slots[slot];
            s->slots[slot] = r;
        }
    }
    if (p->join.full) {
        s->rmatched = arena_alloc(op->ctx->arena, (size_t)s->right.nrows + 1);
        if (!s->rmatched)
            return oom(err);
        memset(s->rmatched, 0, (size_t)s->right.nrows + 1);
    }
    s->built = true;
    return 0;
}

/* FULL JOIN, once the left side is done: the right rows nobody matched, with NULLs
 * on the left. */
static int join_emit_unmatched_right(exec_op_t *op, join_st_t *s, batch_t *res, batch_t **out)
{
    int lcols = op->plan->child->ncols, rcols = op->plan->right->ncols;
    res->nrows = 0;
    while (s->remit < s->right.nrows && res->nrows < LIMIT_BATCH_ROWS) {
        int64_t r = s->remit++;
        if (s->rmatched[r])
            continue;
        int d = res->nrows++;
        for (int c = 0; c < lcols; c++)
            res->nulls[c][d] = true;
        for (int c = 0; c < rcols; c++) {
            res->vals[lcols + c][d] = rs_val(&s->right, r, c);
            res->nulls[lcols + c][d] = rs_null(&s->right, r, c);
        }
    }
    if (!res->nrows)
        return 0;
    *out = res;
    return 1;
}

/* Next right row matching left row lrow after *pos (hash or all rows); -1 when none. */
static int64_t join_next_cand(exec_op_t *op, join_st_t *s, int64_t pos, uint64_t lh, bool lnull)
{
    const plan_t *p = op->plan;
    if (!p->join.nkeys)
        return pos + 1 < s->right.nrows ? pos + 1 : -1;
    if (lnull)
        return -1;
    int64_t r = pos < 0 ? s->slots[lh & (uint64_t)(s->nslots - 1)] : s->chain[pos];
    for (; r >= 0; r = s->chain[r]) {
        if (s->rhash[r] != lh)
            continue;
        bool eq = true;
        for (int k = 0; k < p->join.nkeys && eq; k++)
            eq = type_cmp(p->join.keytypes[k], rs_val(&s->rkeys, r, k), s->lk[k][s->lrow]) == 0;
        if (eq)
            return r;
    }
    return -1;
}

static int join_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    join_st_t *s = op->st;
    const plan_t *p = op->plan;
    int lcols = p->child->ncols, rcols = p->right->ncols;
    if (!s->built && join_build(op, s, err) < 0)
        return -1;
    arena_reset(&op->scratch);
    int cap = LIMIT_BATCH_ROWS / 2;
    batch_t *cand = batch_new(&op->scratch, lcols + rcols, cap);
    int *cand_l = arena_alloc(&op->scratch, (size_t)cap * sizeof(int));
    int64_t *cand_r = arena_alloc(&op->scratch, (size_t)cap * sizeof(int64_t));
    int *done_l = arena_alloc(&op->scratch, (size_t)cap * sizeof(int));
    batch_t *res = batch_new(&op->scratch, lcols + rcols, LIMIT_BATCH_ROWS);
    if (!cand || !cand_l || !cand_r || !done_l || !res)
        return oom(err);
    for (;;) {
        int ndone = 0;
        cand->nrows = 0;
        while (cand->nrows < cap && ndone < cap) {
            if (!s->left || s->lrow >= s->left->nrows) {
                /* finish this chunk before moving to the next left batch: done_l and
                 * matched refer to the current one */
                if (s->left_done || cand->nrows > 0 || ndone > 0)
                    break;
                batch_t *in;
                int rc = op->child->next(op->child, &in, err);
                if (rc < 0)
                    return -1;
                if (rc == 0) {
                    s->left_done = true;
                    s->left = NULL;
                    break;
                }
                s->left = in;
                s->lrow = 0;
                s->rpos = -1;
                s->matched = arena_alloc(op->ctx->arena, (size_t)in->nrows + 1);
                if (!s->matched)
                    return oom(err);
                memset(s->matched, 0, (size_t)in->nrows + 1);
                if (p->join.nkeys) {
                    expr_ctx_t x = op->ctx->ex;
                    x.arena = op->ctx->arena;
                    s->lk = arena_alloc(op->ctx->arena, (size_t)p->join.nkeys * sizeof(datum_t *));
                    s->lkn = arena_alloc(op->ctx->arena, (size_t)p->join.nkeys * sizeof(bool *));
                    if (!s->lk || !s->lkn)
                        return oom(err);
                    for (int k = 0; k < p->join.nkeys; k++) {
                        s->lk[k] = arena_alloc(op->ctx->arena, (size_t)in->nrows * sizeof(datum_t) + 8);
                        s->lkn[k] = arena_alloc(op->ctx->arena, (size_t)in->nrows + 8);
                        if (!s->lk[k] || !s->lkn[k])
                            return oom(err);
                        if (expr_eval(&x, p->join.lkeys[k], in, NULL, 0, s->lk[k], s->lkn[k], err) < 0)
                            return -1;
                    }
                }
            }
            bool lnull = false;
            uint64_t lh = p->join.nkeys ? join_hash(p, s->lk, s->lkn, s->lrow, &lnull) : 0;
            int64_t r = join_next_cand(op, s, s->rpos, lh, lnull);
            if (r < 0) {
                done_l[ndone++] = s->lrow;
                s->lrow++;
                s->rpos = -1;
                continue;
            }
            s->rpos = r;
            int d = cand->nrows++;
            cand_l[d] = s->lrow;
            cand_r[d] = r;
            for (int c = 0; c < lcols; c++) {
                cand->vals[c][d] = s->left->vals[c][s->lrow];
                cand->nulls[c][d] = s->left->nulls[c][s->lrow];
            }
            for (int c = 0; c < rcols; c++) {
                cand->vals[lcols + c][d] = rs_val(&s->right, r, c);
                cand->nulls[lcols + c][d] = rs_null(&s->right, r, c);
            }
        }
        if (cand->nrows == 0 && ndone == 0)
            return p->join.full ? join_emit_unmatched_right(op, s, res, out) : 0;
        res->nrows = 0;
        int *sel = arena_alloc(&op->scratch, (size_t)(cand->nrows + 1) * sizeof(int));
        if (!sel)
            return oom(err);
        int n = cand->nrows;
        if (p->join.quals && n) {
            expr_ctx_t x = exec_expr_ctx(op);
            if ((n = expr_filter(&x, p->join.quals, cand, sel, err)) < 0)
                return -1;
        } else {
            for (int i = 0; i < n; i++)
                sel[i] = i;
        }
        for (int i = 0; i < n; i++) {
            s->matched[cand_l[sel[i]]] = true;
            if (s->rmatched)
                s->rmatched[cand_r[sel[i]]] = true;
            batch_copy_row(res, cand, sel[i]);
        }
        if (p->join.left && s->left) {
            for (int i = 0; i < ndone; i++) {
                int l = done_l[i];
                if (s->matched[l])
                    continue;
                int d = res->nrows++;
                for (int c = 0; c < lcols; c++) {
                    res->vals[c][d] = s->left->vals[c][l];
                    res->nulls[c][d] = s->left->nulls[c][l];
                }
                for (int c = 0; c < rcols; c++)
                    res->nulls[lcols + c][d] = true;
            }
        }
        if (res->nrows) {
            *out = res;
            return 1;
        }
        if (exec_check_cancel(op->ctx, err) < 0)
            return -1;
    }
}

/* ---- append (UNION ALL) ---- */

static int append_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    bool *right_side = op->st;
    if (!*right_side) {
        int rc = op->child->next(op->child, out, err);
        if (rc != 0)
            return rc;
        *right_side = true;
    }
    return op->right->next(op->right, out, err);
}

/* ---- building ---- */

exec_op_t *exec_build(exec_ctx_t *ctx, const plan_t *p, sql_error_t *err)
{
    exec_op_t *op = arena_alloc(ctx->arena, sizeof *op);
    if (!op) {
        oom(err);
        return NULL;
    }
    memset(op, 0, sizeof *op);
    op->plan = p;
    op->ctx = ctx;
    arena_init(&op->scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    if (p->child && !(op->child = exec_build(ctx, p->child, err)))
        goto fail;
    if (p->right && p->kind != PL_LATERAL && !(op->right = exec_build(ctx, p->right, err)))
        goto fail;
    switch (p->kind) {
    case PL_SCAN:
        op->next = scan_next;
        op->close = scan_close;
        if (scan_open(op, err) < 0)
            goto fail;
        break;
    case PL_VTAB:
        op->next = vtab_next;
        if (!(op->st = op_alloc(op, sizeof(mat_st_t), err)))
            goto fail;
        rowstore_init(&((mat_st_t *)op->st)->rs, ctx->arena, p->ncols, p->types);
        break;
    case PL_SERIES:
        op->next = series_next;
        if (!(op->st = op_alloc(op, sizeof(series_st_t), err)))
            goto fail;
        break;
    case PL_VALUES:
        op->next = values_next;
        if (!(op->st = op_alloc(op, sizeof(values_st_t), err)))
            goto fail;
        break;
    case PL_FILTER: op->next = filter_next; break;
    case PL_PROJECT: op->next = project_next; break;
    case PL_DISTINCT:
        if (p->distinct.nkeys) {
            if (exec_distinct_on_open(op, err) < 0)
                goto fail;
            break;
        }
        /* fall through */
    case PL_AGG:
        op->next = agg_next;
        if (agg_open(op, err) < 0)
            goto fail;
        break;
    case PL_SORT:
        op->next = sort_next;
        if (!(op->st = op_alloc(op, sizeof(sort_st_t), err)))
            goto fail;
        break;
    case PL_LIMIT:
        op->next = p->limit.nties ? ties_next : limit_next;
        if (!(op->st = op_alloc(op, p->limit.nties ? sizeof(ties_st_t) : sizeof(limit_st_t), err)))
            goto fail;
        break;
    case PL_COPY:
        if (exec_copy_open(op, err) < 0)
            goto fail;
        break;
    case PL_WINDOW:
        if (exec_window_open(op, err) < 0)
            goto fail;
        break;
    case PL_RECURSIVE:
    case PL_WORKTABLE:
        if (exec_cte_open(op, err) < 0)
            goto fail;
        break;
    case PL_REPEAT:
        if (exec_repeat_open(op, err) < 0)
            goto fail;
        break;
    case PL_LATERAL:
        if (exec_lateral_open(op, err) < 0)
            goto fail;
        break;
    case PL_APPEND:
        op->next = append_next;
        if (!(op->st = op_alloc(op, sizeof(bool), err)))
            goto fail;
        break;
    case PL_JOIN:
        op->next = join_next;
        if (!(op->st = op_alloc(op, sizeof(join_st_t), err)))
            goto fail;
        break;
    }
    if (ctx->instr && explain_attach(op, err) < 0)
        goto fail;
    return op;
fail:
    exec_close(op);
    return NULL;
}

void exec_close(exec_op_t *op)
{
    if (!op)
        return;
    exec_close(op->child);
    exec_close(op->right);
    if (op->close)
        op->close(op);
    op->close = NULL;
    arena_destroy(&op->scratch);
    op->child = op->right = NULL;
}
