/*
 * exec_update_from.c -- the coordinator side of UPDATE ... FROM and DELETE ... USING.
 *
 * The binder planned bs->from_plan: the target table joined with the other FROM /
 * USING items under the WHERE clause, the target's columns first in every row. Here
 * that plan runs to the end (before any write, so the statement never sees its own
 * changes); each joined row's target key is encoded from its first columns, and the
 * first row seen for a key wins (PostgreSQL updates or deletes a target row once,
 * with an arbitrary one of its joined source rows). Per shard the result is a buffer
 * of [u32 klen][key][u32 vlen][the source columns, row-encoded], which frag_modify
 * (exec_shard.c) walks instead of scanning: it locks each row, re-reads its newest
 * version, re-checks WHERE over (newest target row ++ source row), as PostgreSQL's
 * EvalPlanQual does with the same source rows, then writes it.
 */
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/rt.h"
#include "sql/exec_int.h"
#include "sql/types.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

int exec_from_collect(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    const plan_t *p = bs->from_plan;
    int ncols = t->ncols, nextra = bs->from_ncols - ncols, nshards = rt_shards_count();
    ASSERT(p && nextra >= 0);
    exec_op_t *op = exec_build(ctx, p, err);
    if (!op)
        return -1;
    exec_keyset_t seen;
    exec_keyset_init(&seen, ctx->arena, "UPDATE ... FROM");
    strbuf_t kb, vb;
    strbuf_init(&kb);
    strbuf_init(&vb);
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
            strbuf_reset(&vb);
            row_encode(nextra, p->types + ncols, vals + ncols, nulls + ncols, &vb);
            if (vb.oom) {
                rc = oom(err);
                break;
            }
            int s = sql_route_key((const uint8_t *)kb.data, kb.len, nshards);
            strbuf_put_be32(&bufs[s], (uint32_t)kb.len);
            strbuf_append(&bufs[s], kb.data, kb.len);
            strbuf_put_be32(&bufs[s], (uint32_t)vb.len);
            strbuf_append(&bufs[s], vb.data, vb.len);
            if (bufs[s].oom)
                rc = oom(err);
        }
        if (rc == 0)
            rc = exec_check_cancel(ctx, err);
    }
    exec_close(op);
    exec_keyset_free(&seen);
    strbuf_free(&kb);
    strbuf_free(&vb);
    return rc;
}
