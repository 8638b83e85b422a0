/*
 * exec_dml_corr.c -- the coordinator side of UPDATE / DELETE with correlated
 * subqueries (bs->corr, planned by bind_dml_corr.c).
 *
 * 1. bs->from_plan runs to the end at the statement's snapshot: the rows passing the
 *    WHERE clause (its subqueries run per row here), each with the values of the
 *    subqueries SET and RETURNING use. The first row per target key wins (UPDATE ...
 *    FROM's rule).
 * 2. Every shard locks its rows (frag_modify with corr_check, no writes) and reports
 *    those whose newest version is not the one the snapshot saw.
 * 3. For each such row the coordinator does what PostgreSQL's EvalPlanQual does:
 *    the WHERE clause, subqueries included (EXISTS / NOT EXISTS as PostgreSQL's semi
 *    and anti joins re-check them, bind_dml_corr.c), is evaluated again over the newest
 *    version (the subqueries still read the statement's snapshot: nothing is written
 *    yet), and the row is dropped when it no longer passes (or is gone); otherwise its
 *    subquery values are computed again (an UPDATE's RETURNING ones over the row
 *    SET makes of it). REPEATABLE READ raised 40001 in step 2.
 * 4. The rows go to the shards as UPDATE ... FROM's [u32 klen][key][u32 vlen][extra
 *    columns] buffers; the rows are locked, so the versions cannot change any more.
 */
#include <string.h>

#include "core/limits.h"
#include "core/rt.h"
#include "sql/exec_int.h"
#include "sql/types.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_rec(strbuf_t *b, const void *k, uint32_t kl, const void *v, uint32_t vl)
{
    strbuf_put_be32(b, kl);
    strbuf_append(b, k, kl);
    strbuf_put_be32(b, vl);
    strbuf_append(b, v, vl);
}

/* Step 1: chk[s] gets [key][snapshot row], ext[s] [key][extra columns], same order. */
static int decide(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *chk, strbuf_t *ext, sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    const plan_t *p = bs->from_plan;
    int ncols = t->ncols, nextra = bs->from_ncols - ncols, nshards = rt_shards_count();
    exec_op_t *op = exec_build(ctx, p, err);
    if (!op)
        return -1;
    exec_keyset_t seen;
    exec_keyset_init(&seen, ctx->arena, bs->kind == ST_DELETE ? "DELETE" : "UPDATE");
    strbuf_t kb, vb, ib;
    strbuf_init(&kb);
    strbuf_init(&vb);
    strbuf_init(&ib);
    datum_t *vals = arena_alloc(ctx->arena, (size_t)(bs->from_ncols + 1) * sizeof(datum_t));
    bool *nulls = arena_alloc(ctx->arena, (size_t)bs->from_ncols + 1);
    int rc = vals && nulls ? 0 : oom(err);
    while (rc == 0) {
        batch_t *b;
        int r = op->next(op, &b, err);
        if (r < 0)
            rc = -1;
        if (r <= 0)
            break;
        for (int i = 0; i < b->nrows && rc == 0; i++) {
            for (int c = 0; c < bs->from_ncols; c++) {
                vals[c] = b->vals[c][i];
                nulls[c] = b->nulls[c][i];
            }
            if ((rc = exec_encode_key(t, vals, nulls, &kb, err)) < 0)
                break;
            int dup = exec_keyset_add(&seen, (const uint8_t *)kb.data, (uint32_t)kb.len, err);
            if (dup < 0) {
                rc = -1;
                break;
            }
            if (dup)
                continue;
            strbuf_reset(&ib);
            row_encode(ncols, bs->coltypes, vals, nulls, &ib);
            strbuf_reset(&vb);
            row_encode(nextra, p->types + ncols, vals + ncols, nulls + ncols, &vb);
            if (ib.oom || vb.oom) {
                rc = oom(err);
                break;
            }
            int s = sql_route_key((const uint8_t *)kb.data, kb.len, nshards);
            put_rec(&chk[s], kb.data, (uint32_t)kb.len, ib.data, (uint32_t)ib.len);
            put_rec(&ext[s], kb.data, (uint32_t)kb.len, vb.data, (uint32_t)vb.len);
            if (chk[s].oom || ext[s].oom)
                rc = oom(err);
        }
        if (rc == 0)
            rc = exec_check_cancel(ctx, err);
    }
    exec_close(op);
    exec_keyset_free(&seen);
    strbuf_free(&kb);
    strbuf_free(&vb);
    strbuf_free(&ib);
    return rc;
}

/* Step 2: locks the rows; changed[s] gets the shard's report. */
static int lock_rows(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *chk, strbuf_t *changed, sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    frag_write_t *fw = arena_alloc(ctx->arena, (size_t)n * sizeof *fw);
    if (!fw)
        return oom(err);
    int k = 0;
    for (int s = 0; s < n; s++) {
        if (!chk[s].len)
            continue;
        frag_write_t *f = &fw[k];
        memset(f, 0, sizeof *f);
        f->rows = (const uint8_t *)chk[s].data;
        f->rows_len = chk[s].len;
        f->bs = bs;
        f->txn = ctx->txn;
        f->ex = ctx->ex;
        f->ex.subq_run = NULL;      /* fragments run on other shards */
        f->ex.guc_get = NULL;
        f->ex.guc_set = NULL;
        f->shards_count = n;
        f->cancel = ctx->cancel;
        f->corr_check = true;
        args[k] = f;
        shards[k++] = s;
    }
    if (k == 0)
        return 0;
    if (k == 1)
        rets[0] = rt_call(shards[0], frag_modify, args[0]);
    else
        rt_call_many(k, shards, frag_modify, args, rets);
    int rc = 0;
    for (int i = 0; i < k; i++) {
        txn_touch(ctx->txn, shards[i]);      /* the row locks live until commit / abort */
        if (rets[i] < 0 && rc == 0) {
            *err = fw[i].err;
            rc = -1;
        }
        if (rc == 0 && fw[i].moved.len) {
            strbuf_append(&changed[shards[i]], fw[i].moved.data, fw[i].moved.len);
            if (changed[shards[i]].oom)
                rc = oom(err);
        }
    }
    for (int i = 0; i < k; i++)
        frag_write_free(&fw[i]);
    return rc;
}

/* Step 3 for one row: *keep, and the new extra columns in out. */
static int recheck(exec_ctx_t *ctx, const bound_stmt_t *bs, const uint8_t *row, uint32_t rlen,
                   const uint8_t *old, uint32_t olen, const uint8_t *extra, uint32_t elen, bool *keep,
                   strbuf_t *out, sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    const plan_t *p = bs->from_plan;
    int ncols = t->ncols, nextra = bs->from_ncols - ncols, width = bs->from_ncols - bs->ncorr;
    /* the row: newest version ++ extra columns [++ decided version ++ source columns] */
    int nb_cols = bs->from_ncols + (bs->corr_old ? width : 0);
    arena_t tmp;
    arena_init(&tmp, LIMIT_SQL_STMT_ARENA_BYTES);
    int rc = 0;
    batch_t *b = batch_new(&tmp, nb_cols, 1);
    datum_t *v = arena_alloc(&tmp, (size_t)(nb_cols + 1) * sizeof(datum_t));
    bool *nl = arena_alloc(&tmp, (size_t)nb_cols + 1);
    /* row_decode wants 4-byte aligned rows: the buffers hold them at any offset */
    row = arena_memdup(&tmp, row, rlen);
    old = bs->corr_old ? arena_memdup(&tmp, old, olen) : NULL;
    extra = nextra ? arena_memdup(&tmp, extra, elen) : NULL;
    if (!b || !v || !nl || !row || (bs->corr_old && !old) || (nextra && !extra)) {
        rc = oom(err);
        goto done;
    }
    if (row_decode(row, rlen, ncols, bs->coltypes, v, nl) < 0 ||
        (nextra && row_decode(extra, elen, nextra, p->types + ncols, v + ncols, nl + ncols) < 0) ||
        (bs->corr_old && row_decode(old, olen, ncols, bs->coltypes, v + bs->from_ncols, nl + bs->from_ncols) < 0)) {
        rc = sql_error(err, SQLSTATE_INTERNAL_ERROR, "corrupt row in %s", t->name);
        goto done;
    }
    for (int c = ncols; bs->corr_old && c < width; c++) {
        v[bs->from_ncols + c] = v[c];
        nl[bs->from_ncols + c] = nl[c];
    }
    for (int c = 0; c < nb_cols; c++) {
        b->vals[c][0] = v[c];
        b->nulls[c][0] = nl[c];
    }
    b->nrows = 1;
    expr_ctx_t x = ctx->ex;
    x.arena = &tmp;
    *keep = true;
    if (bs->corr_where) {
        datum_t ok;
        bool okn;
        if (expr_eval(&x, bs->corr_where, b, NULL, 0, &ok, &okn, err) < 0) {
            rc = -1;
            goto done;
        }
        *keep = !okn && ok.i64;
    }
    if (!*keep)
        goto done;
    for (int j = 0; j < bs->ncorr_set; j++) {
        if (expr_eval(&x, bs->corr_vals[j], b, NULL, 0, &v[width + j], &nl[width + j], err) < 0) {
            rc = -1;
            goto done;
        }
        b->vals[width + j][0] = v[width + j];
        b->nulls[width + j][0] = nl[width + j];
    }
    const batch_t *rb = b;
    if (bs->ncorr > bs->ncorr_set && bs->kind == ST_UPDATE) {
        /* an UPDATE's RETURNING subqueries see the updated row */
        batch_t *nb = batch_new(&tmp, bs->from_ncols, 1);
        if (!nb) {
            rc = oom(err);
            goto done;
        }
        for (int c = 0; c < bs->from_ncols; c++) {
            nb->vals[c][0] = b->vals[c][0];
            nb->nulls[c][0] = b->nulls[c][0];
        }
        nb->nrows = 1;
        for (int i = 0; i < bs->nset; i++)
            if (expr_eval(&x, bs->set_exprs[i], b, NULL, 0, &nb->vals[bs->set_idx[i]][0],
                          &nb->nulls[bs->set_idx[i]][0], err) < 0) {
                rc = -1;
                goto done;
            }
        rb = nb;
    }
    for (int j = bs->ncorr_set; j < bs->ncorr; j++)
        if (expr_eval(&x, bs->corr_vals[j], rb, NULL, 0, &v[width + j], &nl[width + j], err) < 0) {
            rc = -1;
            goto done;
        }
    strbuf_reset(out);
    row_encode(nextra, p->types + ncols, v + ncols, nl + ncols, out);
    if (out->oom)
        rc = oom(err);
done:
    arena_destroy(&tmp);
    return rc;
}

/* Steps 3 and 4 for one shard: ext (all rows, in order) and changed (a subsequence)
 * into the shard's final buffer. */
static int finish_shard(exec_ctx_t *ctx, const bound_stmt_t *bs, const strbuf_t *chk, const strbuf_t *ext,
                        const strbuf_t *changed, strbuf_t *out, sql_error_t *err)
{
    const uint8_t *o = (const uint8_t *)chk->data;
    const uint8_t *e = (const uint8_t *)ext->data, *eend = e + ext->len;
    const uint8_t *c = (const uint8_t *)changed->data, *cend = c + changed->len;
    strbuf_t nb;
    strbuf_init(&nb);
    int rc = 0;
    for (int64_t i = 0; e < eend && rc == 0; i++) {
        uint32_t kl = rd32(e), el = rd32(e + 4 + kl);
        const uint8_t *key = e + 4, *extra = e + 8 + kl;
        e += 8 + (size_t)kl + el;
        uint32_t ol = rd32(o + 4 + kl);
        const uint8_t *old = o + 8 + kl;
        o += 8 + (size_t)kl + ol;
        if (c < cend && rd32(c) == kl && memcmp(c + 4, key, kl) == 0) {
            uint32_t rl = rd32(c + 4 + kl);
            const uint8_t *row = c + 8 + kl;
            c += 8 + (size_t)kl + (rl == UINT32_MAX ? 0 : rl);
            if (rl == UINT32_MAX)
                continue;                     /* deleted meanwhile: PostgreSQL skips it */
            bool keep = false;
            if (recheck(ctx, bs, row, rl, old, ol, extra, el, &keep, &nb, err) < 0) {
                rc = -1;
                break;
            }
            if (keep)
                put_rec(out, key, kl, nb.data, (uint32_t)nb.len);
        } else {
            put_rec(out, key, kl, extra, el);
        }
        if (out->oom)
            rc = oom(err);
        if (rc == 0 && (i & 1023) == 1023)
            rc = exec_check_cancel(ctx, err);
    }
    strbuf_free(&nb);
    return rc;
}

int exec_corr_collect(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, sql_error_t *err)
{
    int n = rt_shards_count();
    strbuf_t *chk = arena_alloc(ctx->arena, (size_t)n * 3 * sizeof(strbuf_t));
    if (!chk)
        return oom(err);
    strbuf_t *ext = chk + n, *changed = chk + 2 * n;
    for (int s = 0; s < 3 * n; s++)
        strbuf_init(&chk[s]);
    int rc = decide(ctx, bs, chk, ext, err);
    if (rc == 0)
        rc = lock_rows(ctx, bs, chk, changed, err);
    for (int s = 0; s < n && rc == 0; s++)
        rc = finish_shard(ctx, bs, &chk[s], &ext[s], &changed[s], &bufs[s], err);
    for (int s = 0; s < 3 * n; s++)
        strbuf_free(&chk[s]);
    return rc;
}
