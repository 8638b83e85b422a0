/*
 * exec_upsert.c -- INSERT ... ON CONFLICT on the primary key or a unique index
 * (sql/secindex.h, ups_row_index): DO NOTHING and DO UPDATE SET ... [WHERE ...] with
 * EXCLUDED, RETURNING.
 *
 * Coordinator (exec_upsert): rows come from the INSERT's source as for a plain INSERT;
 * each is checked for NOT NULL, its key encoded and remembered in a per-statement key
 * set, and it is routed to the owning shard. A key proposed twice in one statement is
 * 21000 for DO UPDATE (PostgreSQL's "cannot affect row a second time") and skipped for
 * DO NOTHING (the second row conflicts with the first, as in PostgreSQL).
 *
 * Shard (frag_upsert): STORE_W_INSERT of the proposed row; the store reports a
 * conflict as STORE_EXISTS (a committed live row, or our own transaction's), and an
 * uncommitted insert of another transaction as a lock wait inside txn_write, so two
 * concurrent upserts of one key serialise: the second waits, then sees the first's
 * row and takes the update path. The update path locks the row (txn_lock_latest),
 * re-reads its newest version (our own write first), evaluates WHERE and SET over
 * (existing row ++ EXCLUDED) and writes the result; a row deleted meanwhile makes the
 * insert try again. Under REPEATABLE READ a conflicting row committed after the
 * snapshot is 40001, as in PostgreSQL.
 */
#include <string.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/constraints.h"
#include "sql/exec_int.h"
#include "sql/exec_upsert.h"
#include "sql/secindex.h"

#define UPSERT_FLUSH_BYTES (1u << 20)   /* per-shard buffer sent once it reaches this */
#define UPSERT_RETRIES_MAX 1000         /* insert/lock rounds for one row (deleted meanwhile) */

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the shard side ---- */

/* Decodes an encoded row into column slots [off, off + ncols) of row 0 of b, copying
 * strings into a (the store may move on when the fiber waits). */
static int ups_decode(arena_t *a, batch_t *b, int off, const cat_table_t *tab, const type_oid_t *types,
                      const uint8_t *p, uint32_t len, sql_error_t *err)
{
    int ncols = tab->ncols;
    const uint8_t *copy = arena_memdup(a, p, len ? len : 1);
    datum_t *dv = arena_alloc(a, (size_t)ncols * sizeof(datum_t) + 8);
    bool *dn = arena_alloc(a, (size_t)ncols + 8);
    if (!copy || !dv || !dn)
        return oom(err);
    if (row_decode(copy, len, ncols, types, dv, dn) < 0)
        return sql_error(err, SQLSTATE_DATA_CORRUPTED, "invalid row in table \"%s\"", tab->name);
    exec_fill_missing(tab, copy, len, ncols, dv, dn);
    for (int c = 0; c < ncols; c++) {
        b->vals[off + c][0] = dv[c];
        b->nulls[off + c][0] = dn[c];
        if (!dn[c] && exec_copy_datum(a, types[c], &b->vals[off + c][0]) < 0)
            return oom(err);
    }
    b->nrows = 1;
    return 0;
}

static int ups_returning(frag_write_t *f, const batch_t *row, arena_t *a)
{
    const bound_stmt_t *bs = f->bs;
    if (!bs->nreturning)
        return 0;
    batch_t *rb = batch_new(a, bs->nreturning, 1);
    if (!rb)
        return oom(&f->err);
    f->ex.arena = a;
    for (int i = 0; i < bs->nreturning; i++)
        if (expr_eval(&f->ex, bs->returning[i], row, NULL, 0, &rb->vals[i][0], &rb->nulls[i][0], &f->err) < 0)
            return -1;
    rb->nrows = 1;
    return rowstore_add(f->returning, rb, NULL, 0, &f->err);
}

/* DO UPDATE of the existing row with key (key, kl), EXCLUDED = the proposed row.
 * 1 updated, 0 skipped by WHERE, 2 the row is gone (insert again), -1 error. */
static int ups_update(frag_write_t *f, store_txn_t *t, const uint8_t *key, uint32_t kl, const uint8_t *val,
                      uint32_t vl, arena_t *a, strbuf_t *sb, uint64_t snap)
{
    const bound_stmt_t *bs = f->bs;
    const cat_table_t *tab = bs->table;
    store_t *st = shard_store();
    store_val_t v;
    uint64_t cts;
    int rc = txn_lock_latest(f->txn, t, tab->oid, key, kl, &v, &cts, &f->err);
    if (rc < 0)
        return -1;
    if (f->txn->iso == TXN_ISO_REPEATABLE_READ && rc == STORE_OK && cts > snap)
        return sql_error(&f->err, SQLSTATE_SERIALIZATION_FAILURE, "could not serialize access due to concurrent update");
    if (store_txn_has_writes(t))
        rc = store_get(st, t, UINT64_MAX, tab->oid, key, kl, &v);    /* our own write wins */
    if (rc < 0)
        return txn_store_error(rc, &f->err);
    if (rc == STORE_NOTFOUND)
        return 2;
    int ncols = tab->ncols;
    batch_t *b = batch_new(a, 2 * ncols, 1);
    if (!b || ups_decode(a, b, 0, tab, bs->coltypes, v.ptr, v.len, &f->err) < 0 ||
        ups_decode(a, b, ncols, tab, bs->coltypes, val, vl, &f->err) < 0)
        return b ? -1 : oom(&f->err);
    f->ex.arena = a;
    if (bs->where) {
        datum_t ok;
        bool okn;
        if (expr_eval(&f->ex, bs->where, b, NULL, 0, &ok, &okn, &f->err) < 0)
            return -1;
        if (okn || !ok.i64)
            return 0;
    }
    batch_t *nb = batch_new(a, ncols, 1);
    datum_t *nv = arena_alloc(a, (size_t)ncols * sizeof(datum_t) + 8);
    bool *nn = arena_alloc(a, (size_t)ncols + 8);
    if (!nb || !nv || !nn)
        return oom(&f->err);
    for (int c = 0; c < ncols; c++) {
        nb->vals[c][0] = b->vals[c][0];
        nb->nulls[c][0] = b->nulls[c][0];
    }
    nb->nrows = 1;
    for (int i = 0; i < bs->nset; i++) {
        int c = bs->set_idx[i];
        if (expr_eval(&f->ex, bs->set_exprs[i], b, NULL, 0, &nb->vals[c][0], &nb->nulls[c][0], &f->err) < 0)
            return -1;
    }
    for (int c = 0; c < ncols; c++) {
        nv[c] = nb->vals[c][0];
        nn[c] = nb->nulls[c][0];
    }
    if (exec_check_not_null(tab, nv, nn, &f->err) < 0 || check_constraints_eval(&f->ex, bs, nb, &f->err) < 0)
        return -1;
    strbuf_reset(sb);
    row_encode(ncols, bs->coltypes, nv, nn, sb);
    if (sb->oom)
        return oom(&f->err);
    if (txn_write(f->txn, t, STORE_W_PUT, tab->oid, key, kl, (const uint8_t *)sb->data, (uint32_t)sb->len,
                  &f->err) < 0)
        return -1;
    return ups_returning(f, nb, a) < 0 ? -1 : 1;
}

/* DO UPDATE of a row on another shard (a unique index arbiter found it there). */
typedef struct ups_remote {
    frag_write_t *f;
    const uint8_t *key, *val;
    uint32_t kl, vl;
    uint64_t snap;
    int result;
} ups_remote_t;

static int ups_update_remote(void *arg)
{
    ups_remote_t *r = arg;
    store_txn_t *t = txn_shard_get(r->f->txn, true);
    if (!t)
        return oom(&r->f->err);
    secidx_touch(r->f->txn, rt_shard_id());
    arena_t a;
    arena_init(&a, LIMIT_SQL_STMT_ARENA_BYTES);
    strbuf_t sb;
    strbuf_init(&sb);
    r->result = ups_update(r->f, t, r->key, r->kl, r->val, r->vl, &a, &sb, r->snap);
    strbuf_free(&sb);
    arena_destroy(&a);
    return r->result < 0 ? -1 : 0;
}

/* The proposed row inserted, RETURNING included: 1, or -1. */
static int ups_inserted(frag_write_t *f, const uint8_t *val, uint32_t vl, arena_t *a)
{
    const bound_stmt_t *bs = f->bs;
    if (!bs->nreturning)
        return 1;
    batch_t *b = batch_new(a, bs->table->ncols, 1);
    if (!b)
        return oom(&f->err);
    if (ups_decode(a, b, 0, bs->table, bs->coltypes, val, vl, &f->err) < 0)
        return -1;
    return ups_returning(f, b, a) < 0 ? -1 : 1;
}

/* One proposed row with a unique index as arbiter: the index entry decides the
 * conflict (sql/secindex.h); a primary-key conflict is then a plain 23505. */
static int ups_row_index(frag_write_t *f, store_txn_t *t, const uint8_t *key, uint32_t kl, const uint8_t *val,
                         uint32_t vl, arena_t *a, strbuf_t *sb, uint64_t snap)
{
    const bound_stmt_t *bs = f->bs;
    const cat_table_t *tab = bs->table;
    batch_t *b = batch_new(a, tab->ncols, 1);
    datum_t *dv = arena_alloc(a, (size_t)tab->ncols * sizeof(datum_t) + 8);
    bool *dn = arena_alloc(a, (size_t)tab->ncols + 8);
    if (!b || !dv || !dn || ups_decode(a, b, 0, tab, bs->coltypes, val, vl, &f->err) < 0)
        return b && dv && dn ? -1 : oom(&f->err);
    for (int c = 0; c < tab->ncols; c++) {
        dv[c] = b->vals[c][0];
        dn[c] = b->nulls[c][0];
    }
    for (int round = 0; round < UPSERT_RETRIES_MAX; round++) {
        uint8_t *pk;
        uint32_t pklen;
        int p = secidx_arbiter_probe(f->txn, tab, bs->upsert_index, dv, dn, a, &pk, &pklen, &f->err);
        if (p < 0)
            return -1;
        if (p == 0) {
            int w = txn_write(f->txn, t, STORE_W_INSERT, tab->oid, key, kl, val, vl, &f->err);
            if (w < 0)
                return -1;
            if (w == STORE_EXISTS) {
                sql_error(&f->err, SQLSTATE_UNIQUE_VIOLATION, "duplicate key value violates unique constraint \"%s\"",
                          tab->pk_name ? tab->pk_name : "pkey");
                exec_dup_key_detail(tab, dv, dn, &f->err);
                return -1;
            }
            return ups_inserted(f, val, vl, a);
        }
        if (bs->upsert == 1)
            return 0;
        int dest = sql_route_key(pk, pklen, f->shards_count);
        int u;
        if (dest == rt_shard_id()) {
            u = ups_update(f, t, pk, pklen, val, vl, a, sb, snap);
        } else {
            ups_remote_t r = {f, pk, val, pklen, vl, snap, 0};
            if (f->txn->self_commit)
                return sql_error(&f->err, SQLSTATE_INTERNAL_ERROR, "ON CONFLICT update in a single-shard commit");
            u = rt_call(dest, ups_update_remote, &r) < 0 ? -1 : r.result;
        }
        if (u != 2)
            return u;
    }
    return sql_error(&f->err, SQLSTATE_SERIALIZATION_FAILURE, "could not complete ON CONFLICT: the row kept changing");
}

/* ON CONFLICT DO NOTHING without a target on a table with unique indexes: a conflict
 * on any of them or on the primary key skips the row. Every unique entry key stays
 * locked by the probes, so nothing can take it before the insert writes it. */
static int ups_row_any(frag_write_t *f, store_txn_t *t, const uint8_t *key, uint32_t kl, const uint8_t *val,
                       uint32_t vl, arena_t *a)
{
    const bound_stmt_t *bs = f->bs;
    const cat_table_t *tab = bs->table;
    batch_t *b = batch_new(a, tab->ncols, 1);
    datum_t *dv = arena_alloc(a, (size_t)tab->ncols * sizeof(datum_t) + 8);
    bool *dn = arena_alloc(a, (size_t)tab->ncols + 8);
    if (!b || !dv || !dn || ups_decode(a, b, 0, tab, bs->coltypes, val, vl, &f->err) < 0)
        return b && dv && dn ? -1 : oom(&f->err);
    for (int c = 0; c < tab->ncols; c++) {
        dv[c] = b->vals[c][0];
        dn[c] = b->nulls[c][0];
    }
    for (int k = 0; k < tab->nindexes; k++) {
        if (!tab->indexes[k].unique)
            continue;
        uint8_t *pk;
        uint32_t pklen;
        int p = secidx_arbiter_probe(f->txn, tab, &tab->indexes[k], dv, dn, a, &pk, &pklen, &f->err);
        if (p != 0)
            return p < 0 ? -1 : 0;
    }
    int w = txn_write(f->txn, t, STORE_W_INSERT, tab->oid, key, kl, val, vl, &f->err);
    if (w < 0)
        return -1;
    return w == STORE_EXISTS ? 0 : ups_inserted(f, val, vl, a);
}

/* One proposed row: 1 inserted or updated, 0 nothing done, -1 error. */
static int ups_row(frag_write_t *f, store_txn_t *t, const uint8_t *key, uint32_t kl, const uint8_t *val,
                   uint32_t vl, arena_t *a, strbuf_t *sb, uint64_t snap)
{
    const bound_stmt_t *bs = f->bs;
    const cat_table_t *tab = bs->table;
    if (bs->upsert_index)
        return ups_row_index(f, t, key, kl, val, vl, a, sb, snap);
    if (bs->upsert == 1 && bs->upsert_any)
        return ups_row_any(f, t, key, kl, val, vl, a);
    for (int round = 0; round < UPSERT_RETRIES_MAX; round++) {
        int w = txn_write(f->txn, t, STORE_W_INSERT, tab->oid, key, kl, val, vl, &f->err);
        if (w < 0)
            return -1;
        if (w == STORE_OK) {
            if (!bs->nreturning)
                return 1;
            batch_t *b = batch_new(a, tab->ncols, 1);
            if (!b)
                return oom(&f->err);
            if (ups_decode(a, b, 0, tab, bs->coltypes, val, vl, &f->err) < 0)
                return -1;
            return ups_returning(f, b, a) < 0 ? -1 : 1;
        }
        ASSERT(w == STORE_EXISTS);
        if (bs->upsert == 1)
            return 0;
        int u = ups_update(f, t, key, kl, val, vl, a, sb, snap);
        if (u != 2)
            return u;
    }
    return sql_error(&f->err, SQLSTATE_SERIALIZATION_FAILURE, "could not complete ON CONFLICT: the row kept changing");
}

int frag_upsert(void *arg)
{
    frag_write_t *f = arg;
    const bound_stmt_t *bs = f->bs;
    arena_init(&f->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    strbuf_init(&f->moved);
    store_txn_t *t = txn_shard_get(f->txn, true);
    if (!t)
        return oom(&f->err);
    f->wrote = true;
    if (bs->nreturning) {
        f->returning = arena_alloc(&f->arena, sizeof *f->returning);
        type_oid_t *rt = arena_alloc(&f->arena, (size_t)bs->nreturning * sizeof(type_oid_t));
        if (!f->returning || !rt)
            return oom(&f->err);
        for (int i = 0; i < bs->nreturning; i++)
            rt[i] = bs->returning[i]->type;
        rowstore_init(f->returning, &f->arena, bs->nreturning, rt);
    }
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    arena_t scratch;
    arena_init(&scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    strbuf_t sb;
    strbuf_init(&sb);
    const uint8_t *p = f->rows, *end = f->rows + f->rows_len;
    int rc = 0;
    while (p < end && rc == 0) {
        uint32_t kl = rd32(p);
        const uint8_t *key = p + 4;
        uint32_t vl = rd32(key + kl);
        const uint8_t *val = key + kl + 4;
        p = val + vl;
        arena_reset(&scratch);
        int r = ups_row(f, t, key, kl, val, vl, &scratch, &sb, snap);
        if (r < 0)
            rc = -1;
        else
            f->count += r;
    }
    strbuf_free(&sb);
    arena_destroy(&scratch);
    return rc < 0 || sql_error_is_set(&f->err) ? -1 : 0;
}

/* ---- the coordinator side ---- */


static int ups_flush(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, rowstore_t *ret, int64_t *count,
                     sql_error_t *err)
{
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    frag_write_t *fw;
    int k = exec_write_frags(ctx, bs, bufs, &fw, shards, args, err);
    if (k <= 0)
        return k;
    ctx->txn->self_commit = false;
    if (k == 1)
        rets[0] = rt_call(shards[0], frag_upsert, args[0]);
    else
        rt_call_many(k, shards, frag_upsert, args, rets);
    int rc = 0;
    for (int i = 0; i < k; i++) {
        txn_touch(ctx->txn, shards[i]);
        if (rets[i] < 0 && rc == 0) {
            *err = fw[i].err;
            rc = -1;
        }
        *count += fw[i].count;
        if (rc == 0 && fw[i].returning && ret)
            for (int c = 0; c < fw[i].returning->nchunks && rc == 0; c++)
                rc = rowstore_add(ret, fw[i].returning->chunks[c], NULL, 0, err);
        frag_write_free(&fw[i]);
        strbuf_reset(&bufs[shards[i]]);
    }
    return rc;
}

int exec_upsert(exec_ctx_t *ctx, const bound_stmt_t *bs, exec_op_t *op, rowstore_t *ret, int64_t *count,
                sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    int n = rt_shards_count();
    strbuf_t *bufs = arena_alloc(ctx->arena, (size_t)n * sizeof(strbuf_t));
    datum_t *vals = arena_alloc(ctx->arena, (size_t)(t->ncols + 1) * sizeof(datum_t));
    bool *nulls = arena_alloc(ctx->arena, (size_t)(t->ncols + 1));
    if (!bufs || !vals || !nulls)
        return oom(err);
    for (int s = 0; s < n; s++)
        strbuf_init(&bufs[s]);
    fk_pending_t *fkp = fk_pending_new(ctx, t, err);   /* proposed rows' foreign keys */
    if (!fkp && sql_error_is_set(err))
        return -1;
    exec_keyset_t ks;    /* the keys proposed so far in this statement */
    exec_keyset_init(&ks, ctx->arena, "INSERT ... ON CONFLICT");
    strbuf_t kb, vb, ikb;
    strbuf_init(&kb);
    strbuf_init(&vb);
    strbuf_init(&ikb);
    int rc = 0;
    while (rc == 0) {
        batch_t *b;
        int r = op->next(op, &b, err);
        if (r < 0)
            rc = -1;
        if (r <= 0)
            break;
        if (check_constraints_eval(&ctx->ex, bs, b, err) < 0) {    /* the proposed rows */
            rc = -1;
            break;
        }
        for (int i = 0; i < b->nrows && rc == 0; i++) {
            for (int c = 0; c < t->ncols; c++) {
                vals[c] = b->vals[c][i];
                nulls[c] = b->nulls[c][i];
            }
            if (exec_check_not_null(t, vals, nulls, err) < 0 || exec_encode_key(t, vals, nulls, &kb, err) < 0) {
                rc = -1;
                break;
            }
            int dup;
            if (bs->upsert_index) {
                /* proposed twice = the arbiter's key twice (NULLs never conflict) */
                int irc;
                bool keyed = secidx_row_ik(t, bs->upsert_index, vals, nulls, &ikb, &irc, err);
                dup = irc < 0 ? -1 : keyed ? exec_keyset_add(&ks, (const uint8_t *)ikb.data, (uint32_t)ikb.len, err) : 0;
            } else {
                dup = exec_keyset_add(&ks, (const uint8_t *)kb.data, (uint32_t)kb.len, err);
            }
            if (dup < 0) {
                rc = -1;
                break;
            }
            if (dup && bs->upsert == 2) {
                sql_error(err, "21000", "ON CONFLICT DO UPDATE command cannot affect row a second time");
                sql_error_hint(err, "Ensure that no rows proposed for insertion within the same command have "
                               "duplicate constrained values.");
                rc = -1;
                break;
            }
            if (dup)
                continue;             /* DO NOTHING: conflicts with the row proposed before */
            if (fkp && fk_pending_add(fkp, vals, nulls, err) < 0) {
                rc = -1;
                break;
            }
            strbuf_reset(&vb);
            row_encode(t->ncols, bs->coltypes, vals, nulls, &vb);
            if (vb.oom) {
                rc = oom(err);
                break;
            }
            if (vb.len > LIMIT_ROW_BYTES) {
                rc = sql_error(err, SQLSTATE_PROGRAM_LIMIT, "row is too big: size %zu, maximum size %d", vb.len,
                               LIMIT_ROW_BYTES);
                break;
            }
            int s = sql_route_key((const uint8_t *)kb.data, kb.len, n);
            strbuf_put_be32(&bufs[s], (uint32_t)kb.len);
            strbuf_append(&bufs[s], kb.data, kb.len);
            strbuf_put_be32(&bufs[s], (uint32_t)vb.len);
            strbuf_append(&bufs[s], vb.data, vb.len);
            if (bufs[s].oom)
                rc = oom(err);
            else if (bufs[s].len >= UPSERT_FLUSH_BYTES)
                rc = ups_flush(ctx, bs, bufs, ret, count, err);
        }
        if (rc == 0)
            rc = exec_check_cancel(ctx, err);
    }
    if (rc == 0)
        rc = ups_flush(ctx, bs, bufs, ret, count, err);
    if (rc == 0 && fkp)
        rc = fk_pending_check(fkp, err);
    for (int s = 0; s < n; s++)
        strbuf_free(&bufs[s]);
    exec_keyset_free(&ks);
    strbuf_free(&kb);
    strbuf_free(&vb);
    strbuf_free(&ikb);
    return rc;
}
