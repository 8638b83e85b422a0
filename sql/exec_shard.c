/*
 * exec_shard.c -- the parts of a statement that run on the shard owning the rows:
 * scans (with filter and partial aggregation), point gets, inserts, and the
 * UPDATE/DELETE read-lock-recheck-write loop; see exec_int.h.
 *
 * Every function here is an rt_call target: it runs in a fiber on its shard, touches
 * only that shard's store, and reports errors in its request object.
 *
 * UPDATE/DELETE under READ COMMITTED follow PostgreSQL's EvalPlanQual: candidate
 * rows come from the statement snapshot; each is then locked with
 * store_lock_latest, which returns the newest committed version (waiting while
 * another transaction holds the row), and the WHERE clause is evaluated again on
 * that version before the write. Under REPEATABLE READ a row changed after the
 * snapshot raises 40001 instead, as PostgreSQL does.
 */
#include <string.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/constraints.h"
#include "sql/exec_int.h"
#include "sql/secindex.h"

/* ---- keys and rows ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}


/* row_decode wants its buffer 4-byte aligned, and its strings are vstr_t views into
 * it. A store value is only valid until the next store_iter_next / store_get or the
 * fiber's next suspension (shards/store.h), and a batch holds many rows (an SST
 * block buffer is reused as the iterator moves on), so the row is copied into the
 * arena (16-byte aligned) first and decoded from the copy. */
enum { DECODE_OOM = -2 };

void exec_fill_missing(const cat_table_t *t, const uint8_t *row, uint32_t len, int ncols, datum_t *vals,
                       bool *nulls)
{
    int stored = row_stored_columns(row, len);
    for (int i = stored < 0 ? ncols : stored; i < ncols && i < t->ncols; i++)
        if (t->cols[i].has_missing && !t->cols[i].dropped) {
            vals[i] = t->cols[i].missing;
            nulls[i] = false;
        }
}

static int decode_row(arena_t *a, const cat_table_t *t, const uint8_t *p, uint32_t len, int ncols,
                      const type_oid_t *types, datum_t *vals, bool *nulls)
{
    const uint8_t *copy = arena_memdup(a, p, len ? len : 1);
    if (!copy)
        return DECODE_OOM;
    ASSERT(((uintptr_t)copy & 3) == 0);
    if (row_decode(copy, len, ncols, types, vals, nulls) < 0)
        return -1;
    if (t)    /* NULL: not a stored table row (UPDATE ... FROM's joined source columns) */
        exec_fill_missing(t, copy, len, ncols, vals, nulls);
    return 0;
}

/* The error for a failed decode_row: out of memory, or a row that does not decode. */
static int decode_error(int rc, const cat_table_t *t, sql_error_t *err)
{
    if (rc == DECODE_OOM)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return sql_error(err, SQLSTATE_DATA_CORRUPTED, "invalid row in table \"%s\"", t->name);
}

static int col_index(const cat_table_t *t, int16_t attnum)
{
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].attnum == attnum)
            return c;
    return -1;
}

int exec_encode_key(const cat_table_t *t, const datum_t *vals, const bool *nulls, strbuf_t *out,
                    sql_error_t *err)
{
    strbuf_reset(out);
    if (t->npk == 0) {
        /* hidden row id: HLC of the coordinating shard + its id (unique across shards
         * and restarts: the HLC is raised past every recovered commit) */
        uint64_t id = hlc_now();
        strbuf_put_be64(out, id);
        strbuf_put_u8(out, (uint8_t)rt_shard_id());
    } else {
        for (int k = 0; k < t->npk; k++) {
            int c = col_index(t, t->pk_attnums[k]);
            ASSERT(c >= 0);
            if (nulls[c]) {
                sql_error(err, SQLSTATE_NOT_NULL_VIOLATION,
                          "null value in column \"%s\" of relation \"%s\" violates not-null constraint",
                          t->cols[c].name, t->name);
                return -1;
            }
            type_key_encode(t->cols[c].type, vals[c], out);
        }
    }
    if (out->oom)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (out->len > LIMIT_KEY_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "index row size %zu exceeds maximum %d for index \"%s\"",
                         out->len, LIMIT_KEY_BYTES, t->pk_name ? t->pk_name : t->name);
    return 0;
}

static void row_text(const cat_table_t *t, const datum_t *vals, const bool *nulls, int n, const int *cols,
                     strbuf_t *sb)
{
    for (int i = 0; i < n; i++) {
        int c = cols ? cols[i] : i;
        if (t->cols[c].dropped)
            continue;
        if (sb->len && sb->data[sb->len - 1] != '(')
            strbuf_puts(sb, ", ");
        if (nulls[c])
            strbuf_puts(sb, "null");
        else
            type_out_text(t->cols[c].type, t->cols[c].typmod, vals[c], sb);
    }
}

int exec_check_not_null(const cat_table_t *t, const datum_t *vals, const bool *nulls, sql_error_t *err)
{
    for (int c = 0; c < t->ncols; c++) {
        if (!t->cols[c].not_null || !nulls[c] || t->cols[c].dropped)
            continue;
        sql_error(err, SQLSTATE_NOT_NULL_VIOLATION,
                  "null value in column \"%s\" of relation \"%s\" violates not-null constraint",
                  t->cols[c].name, t->name);
        strbuf_t sb;
        strbuf_init(&sb);
        strbuf_puts(&sb, "(");
        row_text(t, vals, nulls, t->ncols, NULL, &sb);
        strbuf_puts(&sb, ")");
        sql_error_detail(err, "Failing row contains %s.", sb.data ? sb.data : "()");
        strbuf_free(&sb);
        return -1;
    }
    return 0;
}

void exec_dup_key_detail(const cat_table_t *t, const datum_t *vals, const bool *nulls, sql_error_t *err)
{
    strbuf_t names, sb;
    strbuf_init(&names);
    strbuf_init(&sb);
    int cols[32];
    int n = t->npk < 32 ? t->npk : 32;
    for (int k = 0; k < n; k++) {
        cols[k] = col_index(t, t->pk_attnums[k]);
        strbuf_printf(&names, "%s%s", k ? ", " : "", t->cols[cols[k]].name);
    }
    strbuf_puts(&sb, "(");
    row_text(t, vals, nulls, n, cols, &sb);
    sql_error_detail(err, "Key (%s)=%s) already exists.", names.data ? names.data : "",
                     sb.data ? sb.data : "(");
    strbuf_free(&names);
    strbuf_free(&sb);
}

static int dup_key_error(const cat_table_t *t, const type_oid_t *types, const uint8_t *val, uint32_t vlen,
                         arena_t *a, sql_error_t *err)
{
    sql_error(err, SQLSTATE_UNIQUE_VIOLATION, "duplicate key value violates unique constraint \"%s\"",
              t->pk_name ? t->pk_name : "pkey");
    datum_t *vals = arena_alloc(a, (size_t)(t->ncols + 1) * sizeof(datum_t));
    bool *nulls = arena_alloc(a, (size_t)(t->ncols + 1));
    /* val sits in the insert message, not in the store: copy it to aligned memory */
    const uint8_t *copy = arena_memdup(a, val, vlen ? vlen : 1);
    if (vals && nulls && copy && decode_row(a, t, copy, vlen, t->ncols, types, vals, nulls) == 0)
        exec_dup_key_detail(t, vals, nulls, err);
    return -1;
}

/* ---- scans ---- */

static int check_cancel_at(const volatile bool *cancel, const txn_ctx_t *tc, sql_error_t *err)
{
    if (cancel && *cancel)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to user request");
    if (tc && tc->deadline_us && rt_now_us() > tc->deadline_us)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to statement timeout");
    return 0;
}

/* Decodes one stored row into row r of b (strings point into the store). */
static int decode_into(arena_t *a, batch_t *b, int r, const plan_t *p, const store_val_t *v, sql_error_t *err)
{
    int n = p->scan.table->ncols;
    datum_t vals[64];
    bool nulls[64];
    datum_t *vp = vals;
    bool *np = nulls;
    if (n > 64) {
        /* wide tables: decode into arrays from the scratch arena */
        vp = arena_alloc(a, (size_t)n * sizeof(datum_t));
        np = arena_alloc(a, (size_t)n);
        if (!vp || !np)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    int rc = decode_row(a, p->scan.table, v->ptr, v->len, n, p->scan.coltypes, vp, np);
    if (rc < 0)
        return decode_error(rc, p->scan.table, err);
    for (int c = 0; c < n; c++) {
        b->vals[c][r] = vp[c];
        b->nulls[c][r] = np[c];
    }
    return 0;
}

int frag_scan_decode(frag_scan_t *f, batch_t *b, int r, const store_val_t *v)
{
    return decode_into(&f->scratch, b, r, f->plan, v, &f->err);
}

/* Reads up to max raw rows into a fresh batch in f->scratch. Returns rows or -1. */
static int read_raw(frag_scan_t *f, batch_t **out, int max)
{
    const plan_t *p = f->plan;
    batch_t *b = batch_new(&f->scratch, p->scan.table->ncols, max);
    if (!b)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (p->scan.lock_rows) {
        f->keys = arena_alloc(&f->scratch, (size_t)max * sizeof(uint8_t *));
        f->klens = arena_alloc(&f->scratch, (size_t)max * sizeof(uint32_t));
        if (!f->keys || !f->klens)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    store_val_t k, v;
    while (b->nrows < max && store_iter_next(f->it, &k, &v) == 1) {
        /* The batch keeps rows across store_iter_next calls, but a row read from a
         * sorted table points into its cursor's block, which the next call may free
         * (store.h: valid until the next call). Decode from a copy with the batch's
         * lifetime (16-aligned, so it still decodes in place). */
        store_val_t row = {arena_memdup(&f->scratch, v.ptr, v.len ? v.len : 1), v.len};
        if (!row.ptr)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        if (decode_into(&f->scratch, b, b->nrows, p, &row, &f->err) < 0)
            return -1;
        if (p->scan.lock_rows) {
            if (!(f->keys[b->nrows] = arena_memdup(&f->scratch, k.ptr, k.len ? k.len : 1)))
                return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            f->klens[b->nrows] = k.len;
        }
        b->nrows++;
    }
    /* A damaged sorted table ends the iterator early: an error, never a short answer. */
    int ierr = store_iter_error(f->it);
    if (ierr)
        return txn_store_error(ierr, &f->err);
    *out = b;
    return b->nrows;
}

/* read_raw for the pushed-down aggregation: rows, and whole sorted-table blocks as
 * columns (exec_colscan.c). A batch holds up to max rows plus at most one block. */
static int read_mixed(frag_scan_t *f, batch_t **out, int max)
{
    const plan_t *p = f->plan;
    int nc = p->scan.table->ncols;
    batch_t *b = batch_new(&f->scratch, nc, max);
    if (!b)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    store_val_t k, v;
    store_colblock_t cb;
    int rc, ierr;
    int64_t direct = 0;   /* rows aggregated straight from blocks in this call */
    f->colmore = false;
    while (b->nrows < max && (rc = store_iter_next_cols(f->it, &cb, &k, &v)) > 0) {
        if (rc == 2 && f->coldirect) {
            int r = exec_colscan_direct(f->agg, &cb, p, &f->err);
            if (r < 0)
                return -1;
            if (r == 1) {
                /* bounded work per call: the caller checks for cancel and yields */
                if ((direct += cb.nsel) >= 16 * LIMIT_BATCH_ROWS) {
                    f->colmore = true;
                    break;
                }
                continue;
            }
        }
        if (rc == 1) {
            store_val_t row = {arena_memdup(&f->scratch, v.ptr, v.len ? v.len : 1), v.len};
            if (!row.ptr)
                return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            if (decode_into(&f->scratch, b, b->nrows, p, &row, &f->err) < 0)
                return -1;
            b->nrows++;
            continue;
        }
        batch_t *nb = batch_new(&f->scratch, nc, b->nrows + (int)cb.nsel + 1);
        if (!nb)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int i = 0; i < b->nrows; i++)
            batch_copy_row(nb, b, i);
        int r = exec_colblock_append(&f->scratch, &cb, p, f->colneed, nb);
        if (r < 0)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        if (r == 1 && (ierr = store_colblock_rows(&cb)) != 0)
            return txn_store_error(ierr, &f->err);
        for (uint32_t s = 0; r == 1 && s < cb.nsel; s++) {
            /* written with another layout: its rows, as store_iter_next would give them */
            uint32_t i = cb.sel[s];
            store_val_t row = {arena_memdup(&f->scratch, cb.vals + cb.voff[i], cb.vlen[i] ? cb.vlen[i] : 1),
                               cb.vlen[i]};
            if (!row.ptr)
                return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            if (decode_into(&f->scratch, nb, nb->nrows, p, &row, &f->err) < 0)
                return -1;
            nb->nrows++;
        }
        b = nb;
        break;
    }
    ierr = store_iter_error(f->it);
    if (ierr)
        return txn_store_error(ierr, &f->err);
    *out = b;
    return b->nrows;
}

static int copy_selected(frag_scan_t *f, batch_t *dst, const batch_t *src, const int *sel, int n);

/* SELECT FOR UPDATE: locks each candidate row (waiting for other holders), re-reads
 * its newest version and re-checks the filter, as PostgreSQL's EvalPlanQual does;
 * surviving newest versions go to dst. */
static int lock_selected(frag_scan_t *f, batch_t *dst, const int *sel, int n)
{
    const plan_t *p = f->plan;
    const cat_table_t *tab = p->scan.table;
    store_txn_t *t = txn_shard_get(f->txn, true);
    if (!t)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    /* The snapshot the REPEATABLE READ check below compares with: decided first, like
     * every read's (a writer prepared below it must be resolved, not skipped). */
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int r = sel ? sel[i] : i;
        store_val_t v;
        uint64_t cts;
        int rc = txn_lock_latest(f->txn, t, tab->oid, f->keys[r], f->klens[r], &v, &cts, &f->err);
        if (rc < 0)
            return -1;
        bool own = false;
        if (rc == STORE_NOTFOUND && store_txn_has_writes(t)) {
            /* no committed version: a row this transaction inserted is still ours */
            rc = store_get(shard_store(), t, UINT64_MAX, tab->oid, f->keys[r], f->klens[r], &v);
            if (rc < 0)
                return txn_store_error(rc, &f->err);
            own = rc == STORE_OK;
        }
        if (!own && f->txn->iso == TXN_ISO_REPEATABLE_READ && (rc == STORE_NOTFOUND || cts > snap))
            return sql_error(&f->err, SQLSTATE_SERIALIZATION_FAILURE, "could not serialize access due to concurrent %s",
                             rc == STORE_NOTFOUND ? "delete" : "update");
        if (!own && rc == STORE_OK && store_txn_has_writes(t))
            rc = store_get(shard_store(), t, UINT64_MAX, tab->oid, f->keys[r], f->klens[r], &v);
        if (rc < 0)
            return txn_store_error(rc, &f->err);
        if (rc == STORE_NOTFOUND)
            continue;
        batch_t *one = batch_new(&f->scratch, tab->ncols, 1);
        if (!one)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        if (decode_into(&f->scratch, one, 0, p, &v, &f->err) < 0)
            return -1;
        one->nrows = 1;
        int keep = 1, s0;
        if (p->scan.filter) {
            f->ex.arena = &f->scratch;
            if ((keep = expr_filter(&f->ex, p->scan.filter, one, &s0, &f->err)) < 0)
                return -1;
        }
        if (keep && copy_selected(f, dst, one, NULL, 1) < 0)
            return -1;
    }
    return 0;
}

/* Keeps the rows of b passing the filter; returns the selection count. */
static int apply_filter(frag_scan_t *f, batch_t *b, int **sel)
{
    *sel = NULL;
    if (!f->plan->scan.filter)
        return b->nrows;
    int *s = arena_alloc(&f->scratch, (size_t)(b->nrows + 1) * sizeof(int));
    if (!s)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    f->ex.arena = &f->scratch;
    int n = expr_filter(&f->ex, f->plan->scan.filter, b, s, &f->err);
    *sel = s;
    return n;
}

int frag_scan_read(frag_scan_t *f, batch_t **out, int max) { return read_raw(f, out, max); }
int frag_scan_filter(frag_scan_t *f, batch_t *b, int **sel) { return apply_filter(f, b, sel); }

static int copy_selected(frag_scan_t *f, batch_t *dst, const batch_t *src, const int *sel, int n)
{
    const type_oid_t *types = f->plan->scan.coltypes;
    for (int i = 0; i < n; i++) {
        int r = sel ? sel[i] : i;
        int d = dst->nrows++;
        for (int c = 0; c < dst->ncols; c++) {
            datum_t v = src->vals[c][r];
            bool isnull = src->nulls[c][r];
            if (!isnull && exec_copy_datum(&f->scratch, types[c], &v) < 0)
                return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            dst->vals[c][d] = v;
            dst->nulls[c][d] = isnull;
        }
    }
    return 0;
}

static int scan_open(frag_scan_t *f)
{
    const plan_t *p = f->plan;
    arena_init(&f->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    arena_init(&f->scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    f->opened = true;
    if (p->scan.agg_pushed) {
        type_oid_t *gt = arena_alloc(&f->arena, (size_t)(p->scan.ngroup + 1) * sizeof(type_oid_t));
        if (!gt)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int g = 0; g < p->scan.ngroup; g++)
            gt[g] = p->scan.group[g]->type;
        f->agg = agg_new(&f->arena, p->scan.ngroup, gt, p->scan.naggs, p->scan.aggs, PLAN_AGG_PARTIAL);
        if (!f->agg)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    if (f->key || f->mkeys)
        return 0;
    store_txn_t *t = txn_shard_get(f->txn, false);
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    f->it = store_iter_open(shard_store(), t, snap, p->scan.table->oid, NULL, 0, NULL, 0);
    if (!f->it)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (f->agg && !p->scan.lock_rows) {
        /* whole blocks as columns, skipped by the WHERE clause's min/max ranges */
        f->colneed = arena_alloc(&f->arena, (size_t)p->scan.table->ncols + 1);
        if (!f->colneed)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        exec_colscan_need(p, f->colneed);
        f->coldirect = exec_colscan_direct_ok(p, f->agg);
        store_colpred_t preds[16];
        uint32_t np = exec_colscan_preds(p, preds, 16);
        if (store_iter_set_colscan(f->it, preds, np) != 0 ||
            exec_colscan_set_need(f->it, p, f->colneed) != 0)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    return 0;
}

/* Point get: at most one row. */
static int scan_point(frag_scan_t *f, batch_t **raw)
{
    const plan_t *p = f->plan;
    batch_t *b = batch_new(&f->scratch, p->scan.table->ncols, 1);
    if (!b)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (p->scan.lock_rows) {
        f->keys = arena_alloc(&f->scratch, sizeof(uint8_t *));
        f->klens = arena_alloc(&f->scratch, sizeof(uint32_t));
        if (!f->keys || !f->klens)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        f->keys[0] = f->key;
        f->klens[0] = f->klen;
    }
    store_txn_t *t = txn_shard_get(f->txn, false);
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    store_val_t v;
    int rc = store_get(shard_store(), t, snap, p->scan.table->oid, f->key, f->klen, &v);
    if (rc == STORE_OK) {
        if (decode_into(&f->scratch, b, 0, p, &v, &f->err) < 0)
            return -1;
        b->nrows = 1;
    } else if (rc != STORE_NOTFOUND) {
        return txn_store_error(rc, &f->err);
    }
    *raw = b;
    f->done = true;
    return b->nrows;
}

/* Index Scan: the rows of up to max of this shard's row keys from the index lookup,
 * read at the statement's snapshot (keys whose row is gone are skipped; the filter
 * re-checks the rest). */
static int scan_multi(frag_scan_t *f, batch_t **raw, int max)
{
    const plan_t *p = f->plan;
    batch_t *b = batch_new(&f->scratch, p->scan.table->ncols, max);
    if (!b)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (p->scan.lock_rows) {
        f->keys = arena_alloc(&f->scratch, (size_t)max * sizeof(uint8_t *));
        f->klens = arena_alloc(&f->scratch, (size_t)max * sizeof(uint32_t));
        if (!f->keys || !f->klens)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    store_txn_t *t = txn_shard_get(f->txn, false);
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    while (b->nrows < max && f->mkeys_pos + 4 <= f->mkeys_len) {
        const uint8_t *kp = f->mkeys + f->mkeys_pos;
        uint32_t kl = rd32(kp);
        ASSERT(f->mkeys_pos + 4 + kl <= f->mkeys_len);
        f->mkeys_pos += 4 + (size_t)kl;
        store_val_t v;
        int rc = store_get(shard_store(), t, snap, p->scan.table->oid, kp + 4, kl, &v);
        if (rc == STORE_NOTFOUND)
            continue;
        if (rc != STORE_OK)
            return txn_store_error(rc, &f->err);
        if (decode_into(&f->scratch, b, b->nrows, p, &v, &f->err) < 0)
            return -1;
        if (p->scan.lock_rows) {
            f->keys[b->nrows] = kp + 4;
            f->klens[b->nrows] = kl;
        }
        b->nrows++;
    }
    if (f->mkeys_pos + 4 > f->mkeys_len)
        f->done = true;
    *raw = b;
    return b->nrows;
}

/* The next raw rows of the scan: point get, index-scan keys or the iterator. */
static int scan_rows(frag_scan_t *f, batch_t **raw, int max)
{
    if (f->key)
        return scan_point(f, raw);
    if (f->mkeys)
        return scan_multi(f, raw, max);
    if (f->colneed)
        return read_mixed(f, raw, max);
    return read_raw(f, raw, max);
}

int frag_scan_next(void *arg)
{
    frag_scan_t *f = arg;
    const plan_t *p = f->plan;
    f->out = NULL;
    if (!f->opened && scan_open(f) < 0)
        return -1;
    arena_reset(&f->scratch);
    if (f->agg) {
        /* Consume the whole shard, then emit the partial groups in batches. */
        while (!f->done) {
            if (check_cancel_at(f->cancel, f->txn, &f->err) < 0)
                return -1;
            batch_t *raw;
            int n = scan_rows(f, &raw, LIMIT_BATCH_ROWS);
            if (n < 0)
                return -1;
            if (n == 0 && f->colmore) {
                /* blocks went straight into the aggregation; not the end */
                arena_reset(&f->scratch);
                rt_yield();
                continue;
            }
            if (n == 0) {
                f->done = true;
                if (f->it) {
                    store_iter_close(f->it);
                    f->it = NULL;
                }
                break;
            }
            int *sel;
            int m = apply_filter(f, raw, &sel);
            if (m < 0)
                return -1;
            if (sel) {
                batch_t *kept = batch_new(&f->scratch, raw->ncols, m ? m : 1);
                if (!kept)
                    return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
                for (int i = 0; i < m; i++)
                    batch_copy_row(kept, raw, sel[i]);
                raw = kept;
            }
            f->ex.arena = &f->scratch;
            if (agg_add(f->agg, &f->ex, raw, p->scan.group, &f->err) < 0)
                return -1;
            arena_reset(&f->scratch);
            rt_yield();
        }
        int nc = agg_out_ncols(f->agg);
        batch_t *out = batch_new(&f->scratch, nc, LIMIT_BATCH_ROWS);
        if (!out)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        if (agg_emit(f->agg, out, &f->agg_pos, &f->err) < 0)
            return -1;
        f->out = out;
        return 0;
    }
    if (p->scan.topk && !f->key && !f->topk_off) {
        int rc = exec_topk_next(f);
        if (rc <= 0)
            return rc;
    }
    if (f->done) {
        f->out = NULL;
        return 0;
    }
    if (check_cancel_at(f->cancel, f->txn, &f->err) < 0)
        return -1;
    batch_t *out = batch_new(&f->scratch, p->scan.table->ncols, LIMIT_BATCH_ROWS);
    if (!out)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    while (out->nrows < out->cap && !f->done) {
        batch_t *raw;
        int n = scan_rows(f, &raw, out->cap - out->nrows);
        if (n < 0)
            return -1;
        if (n == 0) {
            f->done = true;
            break;
        }
        int *sel;
        int m = apply_filter(f, raw, &sel);
        if (m < 0)
            return -1;
        if (p->scan.lock_rows) {
            if (lock_selected(f, out, sel, m) < 0)
                return -1;
        } else if (copy_selected(f, out, raw, sel, m) < 0) {
            return -1;
        }
    }
    if (f->done && f->it) {
        /* close at the end, here on the owning shard, so the coordinator needs no
         * extra round trip to do it */
        store_iter_close(f->it);
        f->it = NULL;
    }
    f->out = out;
    return 0;
}

int frag_scan_close(void *arg)
{
    frag_scan_t *f = arg;
    if (f->it)
        store_iter_close(f->it);
    f->it = NULL;
    if (f->opened) {
        arena_destroy(&f->scratch);
        arena_destroy(&f->arena);
    }
    f->opened = false;
    return 0;
}

/* ---- inserts ---- */

static void finish_local(frag_write_t *f, store_txn_t *t, bool ok)
{
    if (!f->txn->self_commit || !t)
        return;
    if (!ok) {
        store_txn_abort(shard_store(), t);
        return;
    }
    int rc = shard_commit_wait(t, hlc_now());
    if (rc != STORE_OK)
        txn_store_error(rc, &f->err);
}

int frag_insert(void *arg)
{
    frag_write_t *f = arg;
    const cat_table_t *tab = f->bs->table;
    arena_init(&f->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    store_txn_t *t = txn_shard_get(f->txn, true);
    if (!t)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    f->wrote = true;
    const uint8_t *p = f->rows, *end = f->rows + f->rows_len;
    int rc = 0;
    if (secidx_table_indexed(tab->oid)) {
        /* rows here, their index entries batched per entry shard (sql/secindex.h) */
        bool pk_dup = false;
        size_t at = 0;
        rc = secidx_insert_rows(f->txn, t, tab, f->rows, f->rows_len, &f->count, &pk_dup, &at, &f->err);
        if (pk_dup) {
            const uint8_t *rec = f->rows + at;
            uint32_t kl = rd32(rec);
            dup_key_error(tab, f->bs->coltypes, rec + 8 + kl, rd32(rec + 4 + kl), &f->arena, &f->err);
        }
        p = end;
    }
    while (p < end) {
        uint32_t kl = rd32(p);
        const uint8_t *key = p + 4;
        uint32_t vl = rd32(key + kl);
        const uint8_t *val = key + kl + 4;
        p = val + vl;
        int w = txn_write(f->txn, t, STORE_W_INSERT, tab->oid, key, kl, val, vl, &f->err);
        if (w == STORE_EXISTS) {
            dup_key_error(tab, f->bs->coltypes, val, vl, &f->arena, &f->err);
            rc = -1;
            break;
        }
        if (w < 0) {
            rc = -1;
            break;
        }
        f->count++;
    }
    finish_local(f, t, rc == 0);
    return sql_error_is_set(&f->err) ? -1 : 0;
}

/* ---- UPDATE / DELETE ---- */

typedef struct cand {
    const uint8_t *key; uint32_t klen;
    const uint8_t *extra; uint32_t elen;     /* UPDATE ... FROM: the joined source columns */
} cand_t;

/* UPDATE ... FROM / DELETE ... USING: the candidates the coordinator sent in f->rows. */
static int from_cands(frag_write_t *f, cand_t **out, int64_t *n)
{
    int64_t cnt = 0;
    for (size_t off = 0; off + 8 <= f->rows_len; cnt++) {
        uint32_t kl = rd32(f->rows + off);
        uint32_t vl = rd32(f->rows + off + 4 + kl);
        off += 8 + (size_t)kl + vl;
    }
    cand_t *c = arena_alloc(&f->arena, (size_t)(cnt + 1) * sizeof *c);
    if (!c)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    size_t off = 0;
    for (int64_t i = 0; i < cnt; i++) {
        uint32_t kl = rd32(f->rows + off);
        c[i].key = f->rows + off + 4;
        c[i].klen = kl;
        c[i].elen = rd32(f->rows + off + 4 + kl);
        c[i].extra = f->rows + off + 8 + kl;
        off += 8 + (size_t)kl + c[i].elen;
    }
    *out = c;
    *n = cnt;
    return 0;
}

/* Candidates from an index lookup: every listed key (modify_row locks each row and
 * evaluates WHERE on its newest version, so stale entries cost only a lookup). */
static int collect_keys(frag_write_t *f, cand_t **out, int64_t *n)
{
    int64_t cnt = 0;
    for (size_t pos = 0; pos + 4 <= f->mkeys_len; pos += 4 + rd32(f->mkeys + pos))
        cnt++;
    cand_t *c = arena_alloc(&f->arena, (size_t)(cnt + 1) * sizeof *c);
    if (!c)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    int64_t i = 0;
    for (size_t pos = 0; pos + 4 <= f->mkeys_len; pos += 4 + rd32(f->mkeys + pos))
        c[i++] = (cand_t){f->mkeys + pos + 4, rd32(f->mkeys + pos)};
    *out = c;
    *n = cnt;
    return 0;
}

/* Collects candidate keys: the point key, or every row passing WHERE in the snapshot. */
static int collect(frag_write_t *f, store_txn_t *t, cand_t **out, int64_t *n)
{
    const bound_stmt_t *bs = f->bs;
    if (f->key) {
        cand_t *c = arena_alloc(&f->arena, sizeof *c);
        if (!c)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        c->key = f->key;
        c->klen = f->klen;
        *out = c;
        *n = 1;
        return 0;
    }
    if (f->mkeys)
        return collect_keys(f, out, n);
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    store_iter_t *it = store_iter_open(shard_store(), t, snap, bs->table->oid, NULL, 0, NULL, 0);
    if (!it)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    int64_t cap = 64, cnt = 0;
    cand_t *c = arena_alloc(&f->arena, (size_t)cap * sizeof *c);
    arena_t scratch;
    arena_init(&scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    int ncols = bs->table->ncols;
    int rc = 0;
    store_val_t k, v;
    while (c && rc == 0) {
        arena_reset(&scratch);
        batch_t *b = batch_new(&scratch, ncols, LIMIT_BATCH_ROWS);
        const uint8_t **keys = arena_alloc(&scratch, LIMIT_BATCH_ROWS * sizeof(uint8_t *));
        uint32_t *klens = arena_alloc(&scratch, LIMIT_BATCH_ROWS * sizeof(uint32_t));
        if (!b || !keys || !klens) {
            rc = sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            break;
        }
        while (b->nrows < b->cap && store_iter_next(it, &k, &v) == 1) {
            /* Copies: key and row may point into a sorted-table block that the next
             * store_iter_next frees (see read_raw). */
            const uint8_t *kc = arena_memdup(&scratch, k.ptr, k.len ? k.len : 1);
            const uint8_t *vc = arena_memdup(&scratch, v.ptr, v.len ? v.len : 1);
            datum_t *dv = arena_alloc(&scratch, (size_t)ncols * sizeof(datum_t) + 8);
            bool *dn = arena_alloc(&scratch, (size_t)ncols + 8);
            if (!kc || !vc || !dv || !dn) {
                rc = sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
                break;
            }
            int drc = decode_row(&scratch, bs->table, vc, v.len, ncols, bs->coltypes, dv, dn);
            if (drc < 0) {
                rc = decode_error(drc, bs->table, &f->err);
                break;
            }
            for (int col = 0; col < ncols; col++) {
                b->vals[col][b->nrows] = dv[col];
                b->nulls[col][b->nrows] = dn[col];
            }
            keys[b->nrows] = kc;
            klens[b->nrows] = k.len;
            b->nrows++;
        }
        if (rc == 0 && store_iter_error(it))
            rc = txn_store_error(store_iter_error(it), &f->err);
        if (rc || b->nrows == 0)
            break;
        int *sel = arena_alloc(&scratch, (size_t)b->nrows * sizeof(int));
        int m = b->nrows;
        if (!sel) {
            rc = sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            break;
        }
        if (bs->where) {
            f->ex.arena = &scratch;
            if ((m = expr_filter(&f->ex, bs->where, b, sel, &f->err)) < 0) {
                rc = -1;
                break;
            }
        } else {
            for (int i = 0; i < m; i++)
                sel[i] = i;
        }
        for (int i = 0; i < m; i++) {
            if (cnt == cap) {
                cap *= 2;
                cand_t *nc = arena_alloc(&f->arena, (size_t)cap * sizeof *nc);
                if (!nc) {
                    c = NULL;
                    break;
                }
                memcpy(nc, c, (size_t)cnt * sizeof *nc);
                c = nc;
            }
            uint8_t *kc = arena_memdup(&f->arena, keys[sel[i]], klens[sel[i]]);
            if (!kc) {
                c = NULL;
                break;
            }
            c[cnt++] = (cand_t){kc, klens[sel[i]]};
        }
        if (check_cancel_at(f->cancel, f->txn, &f->err) < 0)
            rc = -1;
    }
    store_iter_close(it);
    arena_destroy(&scratch);
    if (!c && rc == 0)
        rc = sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    *out = c;
    *n = cnt;
    return rc;
}

/* corr_check: row c changed after the snapshot (sb: its newest version, NULL: gone). */
static int corr_changed(frag_write_t *f, const cand_t *c, const strbuf_t *sb)
{
    strbuf_put_be32(&f->moved, c->klen);
    strbuf_append(&f->moved, c->key, c->klen);
    strbuf_put_be32(&f->moved, sb ? (uint32_t)sb->len : UINT32_MAX);
    if (sb)
        strbuf_append(&f->moved, sb->data, sb->len);
    if (f->moved.oom)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return 0;
}

/* Applies the statement to one locked row. Returns 1 if written, 0 skipped, -1 error. */
static int modify_row(frag_write_t *f, store_txn_t *t, const cand_t *c, arena_t *scratch, strbuf_t *sb,
                      strbuf_t *kb, uint64_t snap)
{
    const bound_stmt_t *bs = f->bs;
    const cat_table_t *tab = bs->table;
    store_t *st = shard_store();
    store_val_t v;
    uint64_t cts;
    int rc = txn_lock_latest(f->txn, t, tab->oid, c->key, c->klen, &v, &cts, &f->err);
    if (rc < 0)
        return -1;
    if (f->txn->iso == TXN_ISO_REPEATABLE_READ) {
        store_val_t old;
        int orc = rc == STORE_NOTFOUND && (f->key || f->corr_check)
                      ? store_get(st, t, snap, tab->oid, c->key, c->klen, &old) : STORE_OK;
        if (orc < 0)
            return txn_store_error(orc, &f->err);
        if (rc == STORE_NOTFOUND && orc == STORE_OK)
            return sql_error(&f->err, SQLSTATE_SERIALIZATION_FAILURE,
                             "could not serialize access due to concurrent delete");
        if (rc == STORE_OK && cts > snap)
            return sql_error(&f->err, SQLSTATE_SERIALIZATION_FAILURE,
                             "could not serialize access due to concurrent update");
    }
    if (store_txn_has_writes(t)) {
        /* our own earlier write of this row wins over the newest committed one */
        rc = store_get(st, t, UINT64_MAX, tab->oid, c->key, c->klen, &v);
    }
    if (rc < 0)
        return txn_store_error(rc, &f->err);
    if (rc == STORE_NOTFOUND && f->corr_check)
        return corr_changed(f, c, NULL);
    if (rc == STORE_NOTFOUND)
        return 0;
    int ncols = tab->ncols;
    int width = bs->from_plan ? bs->from_ncols : ncols;    /* ++ the joined source row */
    batch_t *b = batch_new(scratch, width, 1);
    if (!b)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    datum_t *dv = arena_alloc(scratch, (size_t)ncols * sizeof(datum_t) + 8);
    bool *dn = arena_alloc(scratch, (size_t)ncols + 8);
    if (!dv || !dn)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    int drc = decode_row(scratch, tab, v.ptr, v.len, ncols, bs->coltypes, dv, dn);
    if (drc < 0)
        return decode_error(drc, tab, &f->err);
    for (int col = 0; col < ncols; col++) {
        /* copy strings: the store may move on while we wait below */
        b->vals[col][0] = dv[col];
        b->nulls[col][0] = dn[col];
        if (!dn[col] && exec_copy_datum(scratch, bs->coltypes[col], &b->vals[col][0]) < 0)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    if (f->corr_check) {
        /* the newest version, re-encoded, against the one the coordinator decided on */
        strbuf_reset(sb);
        row_encode(ncols, bs->coltypes, dv, dn, sb);
        if (sb->oom)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        if (sb->len == c->elen && memcmp(sb->data, c->extra, c->elen) == 0)
            return 0;
        return corr_changed(f, c, sb);
    }
    if (width > ncols) {
        int nx = width - ncols;
        datum_t *xv = arena_alloc(scratch, (size_t)nx * sizeof(datum_t) + 8);
        bool *xn = arena_alloc(scratch, (size_t)nx + 8);
        if (!xv || !xn)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        int xrc = decode_row(scratch, NULL, c->extra, c->elen, nx, bs->from_plan->types + ncols, xv, xn);
        if (xrc < 0)
            return decode_error(xrc, tab, &f->err);
        for (int i = 0; i < nx; i++) {
            b->vals[ncols + i][0] = xv[i];
            b->nulls[ncols + i][0] = xn[i];
        }
    }
    b->nrows = 1;
    f->ex.arena = scratch;
    if (bs->where) {
        datum_t ok;
        bool okn;
        if (expr_eval(&f->ex, bs->where, b, NULL, 0, &ok, &okn, &f->err) < 0)
            return -1;
        if (okn || !ok.i64)
            return 0;
    }
    batch_t *ret_from = b;
    f->wrote = true;
    if (bs->kind == ST_DELETE) {
        if (txn_write(f->txn, t, STORE_W_DELETE, tab->oid, c->key, c->klen, NULL, 0, &f->err) < 0)
            return -1;
    } else {
        batch_t *nb = batch_new(scratch, width, 1);
        if (!nb)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int col = 0; col < width; col++) {
            nb->vals[col][0] = b->vals[col][0];
            nb->nulls[col][0] = b->nulls[col][0];
        }
        nb->nrows = 1;
        for (int i = 0; i < bs->nset; i++) {
            int col = bs->set_idx[i];
            if (expr_eval(&f->ex, bs->set_exprs[i], b, NULL, 0, &nb->vals[col][0], &nb->nulls[col][0], &f->err) < 0)
                return -1;
        }
        datum_t *nv = arena_alloc(scratch, (size_t)ncols * sizeof(datum_t) + 8);
        bool *nn = arena_alloc(scratch, (size_t)ncols + 8);
        if (!nv || !nn)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int col = 0; col < ncols; col++) {
            nv[col] = nb->vals[col][0];
            nn[col] = nb->nulls[col][0];
        }
        if (exec_check_not_null(tab, nv, nn, &f->err) < 0 || check_constraints_eval(&f->ex, bs, nb, &f->err) < 0)
            return -1;
        strbuf_reset(sb);
        row_encode(ncols, bs->coltypes, nv, nn, sb);
        if (sb->oom)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        bool moved = false;
        if (bs->set_changes_pk) {
            if (exec_encode_key(tab, nv, nn, kb, &f->err) < 0)
                return -1;
            moved = kb->len != c->klen || memcmp(kb->data, c->key, c->klen) != 0;
        }
        if (!moved) {
            if (txn_write(f->txn, t, STORE_W_PUT, tab->oid, c->key, c->klen, (const uint8_t *)sb->data,
                          (uint32_t)sb->len, &f->err) < 0)
                return -1;
        } else {
            if (txn_write(f->txn, t, STORE_W_DELETE, tab->oid, c->key, c->klen, NULL, 0, &f->err) < 0)
                return -1;
            int dest = sql_route_key((const uint8_t *)kb->data, kb->len, f->shards_count);
            if (dest == rt_shard_id()) {
                int w = txn_write(f->txn, t, STORE_W_INSERT, tab->oid, (const uint8_t *)kb->data,
                                  (uint32_t)kb->len, (const uint8_t *)sb->data, (uint32_t)sb->len, &f->err);
                if (w == STORE_EXISTS) {
                    sql_error(&f->err, SQLSTATE_UNIQUE_VIOLATION,
                              "duplicate key value violates unique constraint \"%s\"", tab->pk_name);
                    exec_dup_key_detail(tab, nv, nn, &f->err);
                    return -1;
                }
                if (w < 0)
                    return -1;
            } else {
                strbuf_put_be32(&f->moved, (uint32_t)kb->len);
                strbuf_append(&f->moved, kb->data, kb->len);
                strbuf_put_be32(&f->moved, (uint32_t)sb->len);
                strbuf_append(&f->moved, sb->data, sb->len);
                if (f->moved.oom)
                    return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            }
        }
        ret_from = nb;
    }
    if (bs->nreturning) {
        batch_t *rb = batch_new(scratch, bs->nreturning, 1);
        if (!rb)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int i = 0; i < bs->nreturning; i++)
            if (expr_eval(&f->ex, bs->returning[i], ret_from, NULL, 0, &rb->vals[i][0], &rb->nulls[i][0], &f->err) < 0)
                return -1;
        rb->nrows = 1;
        if (rowstore_add(f->returning, rb, NULL, 0, &f->err) < 0)
            return -1;
    }
    return 1;
}

int frag_modify(void *arg)
{
    frag_write_t *f = arg;
    const bound_stmt_t *bs = f->bs;
    arena_init(&f->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    strbuf_init(&f->moved);
    store_txn_t *t = txn_shard_get(f->txn, true);
    if (!t)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (bs->nreturning) {
        f->returning = arena_alloc(&f->arena, sizeof *f->returning);
        type_oid_t *rt = arena_alloc(&f->arena, (size_t)bs->nreturning * sizeof(type_oid_t));
        if (!f->returning || !rt)
            return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int i = 0; i < bs->nreturning; i++)
            rt[i] = bs->returning[i]->type;
        rowstore_init(f->returning, &f->arena, bs->nreturning, rt);
    }
    uint64_t snap;
    if (txn_read_snap_wait(f->txn, &snap, &f->err) < 0)
        return -1;
    cand_t *cands = NULL;
    int64_t n = 0;
    int rc = bs->from_plan ? from_cands(f, &cands, &n) : collect(f, t, &cands, &n);
    arena_t scratch;
    arena_init(&scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    strbuf_t sb, kb;
    strbuf_init(&sb);
    strbuf_init(&kb);
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        arena_reset(&scratch);
        int w = modify_row(f, t, &cands[i], &scratch, &sb, &kb, snap);
        if (w < 0)
            rc = -1;
        else
            f->count += w;
        if ((i & 1023) == 1023 && check_cancel_at(f->cancel, f->txn, &f->err) < 0)
            rc = -1;
    }
    strbuf_free(&sb);
    strbuf_free(&kb);
    arena_destroy(&scratch);
    finish_local(f, t, rc == 0);
    return sql_error_is_set(&f->err) ? -1 : 0;
}

int frag_write_free(void *arg)
{
    frag_write_t *f = arg;
    strbuf_free(&f->moved);
    arena_destroy(&f->arena);
    return 0;
}
