/*
 * explain_analyze.c -- EXPLAIN ANALYZE: the executor's per-node counters and the
 * text they end up in (see explain.h for the model, sql/README.md "EXPLAIN").
 *
 * Why: issue 4 asks for the distributed plan with per-shard rows and time. The
 * statement really runs (its writes belong to the transaction, as in PostgreSQL);
 * its rows are counted and dropped, then the plan is printed with the figures.
 *
 * What is measured, and how:
 *   - Coordinator nodes: exec_build wraps every operator's next() (explain_attach).
 *     Each call is timed with CLOCK_MONOTONIC (only when TIMING is on) and the rows
 *     of the batch it returns are counted, so a node's time includes its children's,
 *     as in PostgreSQL. One operator's life (built, pulled, closed) is one loop; a
 *     plan rebuilt per outer row (LATERAL, a recursive term per step) adds loops.
 *     The first figure is the time up to the end of the first next() call (the first
 *     batch), PostgreSQL's startup time at batch rather than row granularity.
 *   - Shards: the scan's fragment call runs on the shard as explain_frag_scan_next,
 *     which times frag_scan_next there (per call: one batch) and counts its rows;
 *     the figures travel back in the frag_scan_t request object and are summed per
 *     shard when the scan closes. UPDATE / DELETE / INSERT fragments are timed the
 *     same way around frag_modify / frag_insert (one call per shard and flush).
 * Without EXPLAIN ANALYZE, ctx->instr is NULL and nothing here runs.
 *
 * Thread: the coordinator, except the explain_frag_* wrappers (on the shard).
 */
#include <stdio.h>
#include <string.h>

#include "core/rt.h"
#include "sql/explain.h"
#include "sql/explain_analyze.h"

/* One operator's run: counters for its current loop. */
typedef struct explain_opfig {
    explain_node_t *node;
    int (*next)(exec_op_t *op, batch_t **out, sql_error_t *err);
    void (*close)(exec_op_t *op);
    bool timing, ran;
    uint64_t ns, first_ns;
    int64_t rows;
} explain_opfig_t;

static int fig_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    explain_opfig_t *f = op->fig;
    uint64_t t0 = f->timing ? explain_now_ns() : 0;
    int rc = f->next(op, out, err);
    if (f->timing)
        f->ns += explain_now_ns() - t0;
    if (!f->ran) {
        f->ran = true;
        f->first_ns = f->ns;
    }
    if (rc > 0 && *out)
        f->rows += (*out)->nrows;
    return rc;
}

static void fig_close(exec_op_t *op)
{
    explain_opfig_t *f = op->fig;
    if (f->close)
        f->close(op);
    if (f->ran) {               /* PostgreSQL counts a loop only when the node ran */
        f->node->loops++;
        f->node->rows += f->rows;
        f->node->first_ns += f->first_ns;
        f->node->total_ns += f->ns;
        f->ran = false;
    }
}

int explain_attach(exec_op_t *op, sql_error_t *err)
{
    explain_instr_t *in = op->ctx->instr;
    explain_opfig_t *f = arena_alloc(op->ctx->arena, sizeof *f);
    explain_node_t *nd = explain_node(in, op->plan);
    if (!f || !nd)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(f, 0, sizeof *f);
    f->node = nd;
    f->next = op->next;
    f->close = op->close;
    f->timing = (in->opts & AST_EXPLAIN_TIMING) != 0;
    op->fig = f;
    op->next = fig_next;
    op->close = fig_close;
    return 0;
}

int explain_frag_scan_next(void *arg)
{
    frag_scan_t *f = arg;
    uint64_t t0 = explain_now_ns();
    int rc = frag_scan_next(arg);
    f->an_ns += explain_now_ns() - t0;
    if (!f->an_ran) {
        f->an_ran = true;
        f->an_first_ns = f->an_ns;
    }
    if (rc >= 0 && f->out)
        f->an_rows += f->out->nrows;
    return rc;
}

int explain_frag_modify(void *arg)
{
    frag_write_t *f = arg;
    uint64_t t0 = explain_now_ns();
    int rc = frag_modify(arg);
    f->an_ns = explain_now_ns() - t0;
    return rc;
}

int explain_frag_insert(void *arg)
{
    frag_write_t *f = arg;
    uint64_t t0 = explain_now_ns();
    int rc = frag_insert(arg);
    f->an_ns = explain_now_ns() - t0;
    return rc;
}

/* The node's per-shard figures, allocated on first use (NULL on exhaustion). */
static explain_shard_t *node_shard(explain_instr_t *in, const void *key, int shard)
{
    explain_node_t *nd = explain_node(in, key);
    int n = rt_shards_count();
    if (!nd || shard < 0 || shard >= n)
        return NULL;
    if (!nd->shards) {
        if (!(nd->shards = arena_alloc(in->arena, (size_t)n * sizeof *nd->shards)))
            return NULL;
        memset(nd->shards, 0, (size_t)n * sizeof *nd->shards);
        nd->nshards = n;
    }
    return &nd->shards[shard];
}

void explain_note_scan(exec_ctx_t *ctx, const plan_t *p, int n, const int *shards, const frag_scan_t *fs,
                       const bool *pending)
{
    for (int i = 0; i < n; i++) {
        explain_shard_t *sh = fs[i].an_ran ? node_shard(ctx->instr, p, shards[i]) : NULL;
        if (!sh)
            continue;
        sh->loops++;
        /* rows handed to the consumer: the shard lines add up to the node's rows */
        sh->rows += fs[i].an_rows - (pending[i] && fs[i].out ? fs[i].out->nrows : 0);
        sh->first_ns += fs[i].an_first_ns;
        sh->total_ns += fs[i].an_ns;
    }
}

/* A DML statement's fragments: one loop per shard for the whole statement (INSERT
 * may flush several times); the first figure is the whole time, since the rows reach
 * the coordinator when the fragment replies. */
void explain_note_write(exec_ctx_t *ctx, const bound_stmt_t *bs, int shard, const frag_write_t *f)
{
    const void *key = bs->kind == ST_INSERT || bs->from_plan ? EXPLAIN_KEY_MODIFY(bs) : EXPLAIN_KEY_TARGET(bs);
    explain_shard_t *sh = node_shard(ctx->instr, key, shard);
    if (!sh)
        return;
    sh->loops = 1;
    sh->rows += f->count;
    sh->total_ns += f->an_ns;
    sh->first_ns = sh->total_ns;
}

explain_instr_t *explain_begin(exec_ctx_t *ctx, unsigned opts)
{
    explain_instr_t *in = arena_alloc(ctx->arena, sizeof *in);
    if (!in)
        return NULL;
    memset(in, 0, sizeof *in);
    in->arena = ctx->arena;
    in->opts = opts;
    ctx->instr = in;
    return in;
}

int explain_run_query(exec_ctx_t *ctx, const plan_t *p, sql_error_t *err)
{
    exec_op_t *op = exec_build(ctx, p, err);
    if (!op)
        return -1;
    batch_t *b;
    int rc;
    while ((rc = op->next(op, &b, err)) > 0)
        ;
    exec_close(op);
    return rc;
}

void explain_note_modify(exec_ctx_t *ctx, const bound_stmt_t *bs, int64_t count, uint64_t ns)
{
    explain_node_t *nd = explain_node(ctx->instr, EXPLAIN_KEY_MODIFY(bs));
    if (nd) {
        nd->loops = 1;
        nd->rows = bs->nreturning ? count : 0;    /* PostgreSQL: ModifyTable returns its RETURNING rows */
        nd->first_ns = nd->total_ns = ns;
    }
    if (bs->kind == ST_INSERT || bs->from_plan)
        return;
    /* UPDATE / DELETE: the fragments' scan; a shard's rows reach the coordinator
     * when its fragment replies, and they run in parallel: the slowest is the wall time */
    explain_node_t *tg = explain_node(ctx->instr, EXPLAIN_KEY_TARGET(bs));
    if (!tg)
        return;
    tg->loops = 1;
    tg->rows = count;
    for (int i = 0; i < tg->nshards; i++)
        if (tg->shards[i].total_ns > tg->total_ns)
            tg->total_ns = tg->shards[i].total_ns;
    tg->first_ns = tg->total_ns;
}

/* ---- the result: the plan text as rows of one text column ---- */

typedef struct text_st { const char **lines; int n, pos; } text_st_t;

static int text_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    text_st_t *s = op->st;
    if (s->pos >= s->n)
        return 0;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, 1, LIMIT_BATCH_ROWS);
    if (!b)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    while (s->pos < s->n && b->nrows < b->cap) {
        const char *t = s->lines[s->pos++];
        vstr_t *v = vstr_new(&op->scratch, t, strlen(t));
        if (!v)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        b->vals[0][b->nrows].s = v;
        b->nulls[0][b->nrows++] = false;
    }
    *out = b;
    return 1;
}

static int add_line(arena_t *a, const char ***lines, int *n, const char *fmt, double ms)
{
    char buf[96];
    snprintf(buf, sizeof buf, fmt, ms);
    const char **nl = arena_alloc(a, (size_t)(*n + 1) * sizeof *nl);
    if (!nl || !(nl[*n] = arena_strdup(a, buf)))
        return -1;
    if (*n)
        memcpy(nl, *lines, (size_t)*n * sizeof *nl);
    *lines = nl;
    ++*n;
    return 0;
}

exec_op_t *explain_finish(exec_ctx_t *ctx, const bound_stmt_t *bs, uint64_t exec_ns, sql_error_t *err)
{
    const explain_instr_t *in = ctx->instr;
    const char **lines;
    int n;
    ctx->instr = NULL;
    exec_op_t *op = arena_alloc(ctx->arena, sizeof *op);
    text_st_t *s = arena_alloc(ctx->arena, sizeof *s);
    if (!op || !s || explain_text(bs->explain_inner, in, exec_topk_ef_search(ctx), ctx->arena, &lines, &n) < 0)
        goto oom;
    if ((bs->explain_opts & AST_EXPLAIN_SUMMARY) &&
        (add_line(ctx->arena, &lines, &n, "Planning Time: %.3f ms", (double)bs->explain_plan_ns / 1e6) < 0 ||
         add_line(ctx->arena, &lines, &n, "Execution Time: %.3f ms", (double)exec_ns / 1e6) < 0))
        goto oom;
    memset(op, 0, sizeof *op);
    *s = (text_st_t){.lines = lines, .n = n};
    op->plan = bs->explain_inner->plan;
    op->ctx = ctx;
    op->st = s;
    op->next = text_next;
    arena_init(&op->scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    return op;
oom:
    sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return NULL;
}
