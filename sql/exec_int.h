/*
 * exec_int.h -- internals shared by the executor's files: exec.c (coordinator
 * operators), exec_agg.c (hash aggregation and row stores), exec_shard.c (fragments
 * that run on the shard owning the data), exec_dml.c (INSERT/UPDATE/DELETE and DDL
 * driven from the coordinator), txn.c (transactions) and session.c.
 *
 * Model:
 *   - Operators are pull-based: next() returns 1 with a batch, 0 at the end, -1 on
 *     error. A returned batch stays valid until the next next() call on the same
 *     operator; consumers that keep rows (sort, aggregation, joins) copy them into a
 *     row store (strings included).
 *   - Each operator owns a scratch arena reset at the start of every next() call;
 *     long-lived state (hash tables, row stores) lives in the statement arena.
 *   - Fragments run via rt_call on their shard with a frag_* request object owned by
 *     the coordinator; everything they allocate comes from an arena in that object,
 *     allocated on the shard and destroyed (possibly from the coordinator, rt_free
 *     allows it) when the operator closes. Store iterators are closed on their shard.
 *
 * Thread: coordinator code on the session's shard; fragment code on target shards.
 */
#ifndef NEXTDB_EXEC_INT_H
#define NEXTDB_EXEC_INT_H
#include <stdbool.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/limits.h"
#include "core/strbuf.h"
#include "shards/store.h"
#include "sql/expr.h"
#include "sql/plan.h"

/* ---- transactions (txn.c) ---- */

enum { TXN_ISO_READ_COMMITTED = 0, TXN_ISO_REPEATABLE_READ = 1 };

typedef struct txn_ctx {
    uint64_t txn_id;
    uint64_t snap_ts;            /* 0: the (single) shard takes hlc_now() itself */
    int iso;
    uint64_t lock_timeout_ms;    /* 0 = wait until the blocker ends (or a deadlock / timeout) */
    uint64_t deadlock_timeout_ms; /* lock wait before a deadlock check; 0 = LIMIT_DEADLOCK_TIMEOUT_MS */
    bool self_commit;            /* single-shard autocommit: the fragment commits */
    uint64_t deadline_us;        /* statement_timeout (rt_now_us clock), 0 = none */
    uint32_t sp_level;           /* newest live savepoint's number, 0 = none (txn_savepoint.c) */
    const volatile bool *cancel; /* the session's query-cancel flag (lock and snapshot waits), or NULL */
    uint64_t touched[(LIMIT_SHARDS_MAX + 63) / 64];   /* shards holding a store txn */
} txn_ctx_t;

static inline void txn_touch(txn_ctx_t *t, int shard) { t->touched[shard / 64] |= UINT64_C(1) << (shard % 64); }
static inline bool txn_touched(const txn_ctx_t *t, int shard) { return (t->touched[shard / 64] >> (shard % 64)) & 1; }

uint64_t txn_new_id(void);
/* Shard side: this transaction's store txn, created when create is set. */
store_txn_t *txn_shard_get(const txn_ctx_t *t, bool create);
/* Shard side: commits (when self_commit) the txn on this shard; returns a store rc. */
int txn_shard_commit_local(uint64_t txn_id, uint64_t commit_ts);
/* Shard side: the statement's snapshot for reading this shard (the fiber may suspend:
 * no store values held). It first waits for every other transaction whose commit here
 * is queued, in flight or in doubt at a timestamp the snapshot covers (its outcome
 * decides what the snapshot sees), until statement_timeout or query cancel; then it
 * notes the snapshot so later commits here are stamped above it (shards/store.h).
 * 0 with *snap, or -1 + err (57014). */
int txn_read_snap_wait(const txn_ctx_t *t, uint64_t *snap, sql_error_t *err);
/* Coordinator: commits / aborts every touched shard. */
int txn_commit_all(txn_ctx_t *t, sql_error_t *err);
void txn_abort_all(txn_ctx_t *t);
/* Coordinator: undoes every write and row lock placed at savepoint level >= level
 * on every touched shard (txn_savepoint.c). 0, or -1 + err. */
int txn_rollback_to_all(txn_ctx_t *t, uint32_t level, sql_error_t *err);
/* Registers the lock-wait / deadlock counters (before the shards start). */
void txn_register_metrics(void);
/* Shard side: locks with waiting; returns store rc (OK/NOTFOUND) or -1 + err. */
int txn_lock_latest(const txn_ctx_t *tc, store_txn_t *t, uint32_t table_id, const uint8_t *key,
                    uint32_t klen, store_val_t *val, uint64_t *commit_ts, sql_error_t *err);
/* Shard side: store_write with lock waits; OK / EXISTS or -1 + err. A table with
 * secondary indexes also gets its index entries written (secindex.c). */
int txn_write(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
              uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err);
/* txn_write without index maintenance: the row alone (index entries themselves). */
int txn_write_raw(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
                  uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err);
int txn_store_error(int rc, sql_error_t *err);

/* ---- row stores and aggregation (exec_agg.c) ---- */

typedef struct rowstore {
    arena_t *arena;
    int ncols;
    const type_oid_t *types;
    int nchunks, chunkcap;
    batch_t **chunks;
    int64_t nrows;
} rowstore_t;

void rowstore_init(rowstore_t *rs, arena_t *a, int ncols, const type_oid_t *types);
/* Appends rows sel[0..n) of b (all rows if sel NULL), copying strings. */
int rowstore_add(rowstore_t *rs, const batch_t *b, const int *sel, int n, sql_error_t *err);
static inline datum_t rs_val(const rowstore_t *rs, int64_t row, int col)
{ return rs->chunks[row / LIMIT_BATCH_ROWS]->vals[col][row % LIMIT_BATCH_ROWS]; }
static inline bool rs_null(const rowstore_t *rs, int64_t row, int col)
{ return rs->chunks[row / LIMIT_BATCH_ROWS]->nulls[col][row % LIMIT_BATCH_ROWS]; }
/* Copies a datum's string into a (no-op for by-value types). */
int exec_copy_datum(arena_t *a, type_oid_t t, datum_t *d);

typedef struct agg_table agg_table_t;
/* mode: PLAN_AGG_COMPLETE (raw rows in, final out), PLAN_AGG_PARTIAL (raw in,
 * partial states out), PLAN_AGG_FINAL (partial states in, final out). */
agg_table_t *agg_new(arena_t *a, int ngroup, const type_oid_t *group_types, int naggs,
                     const plan_agg_t *aggs, int mode);
/* Feeds one input batch: raw mode evaluates group and argument expressions over it;
 * final mode reads the partial columns. */
int agg_add(agg_table_t *ag, expr_ctx_t *x, const batch_t *in, bexpr_t *const *group, sql_error_t *err);
/* The column scan's direct aggregation (exec_colscan.c): true when ag has no GROUP BY
 * and only aggregates agg_add runs as plain loops; then agg_direct_add adds to
 * aggregate i what those loops would have over some rows: count of non-null inputs
 * (rows for count(*)), their integer sum, min and max (read when count > 0). */
bool agg_direct_ok(const agg_table_t *ag);
int agg_direct_add(agg_table_t *ag, int i, int64_t count, __int128 isum, int64_t mn, int64_t mx,
                   sql_error_t *err);
/* Output column count and types for the table's mode. */
int agg_out_ncols(const agg_table_t *ag);
void agg_out_types(const agg_table_t *ag, type_oid_t *types);
/* Emits up to out->cap groups from *pos on; returns rows emitted (0 = done). */
int agg_emit(agg_table_t *ag, batch_t *out, int64_t *pos, sql_error_t *err);

/* ---- coordinator operators (exec.c) ---- */

typedef struct exec_ctx {
    arena_t *arena;              /* statement arena */
    expr_ctx_t ex;               /* params, subquery values, session facts */
    txn_ctx_t *txn;
    const catalog_t *catalog;
    const volatile bool *cancel;
    const char *user, *database;
    int nsettings;
    const char *const *setting_names, *const *setting_values;
    /* COPY FROM STDIN: the data stream (sql_sink_t.copy_in of the running statement) */
    int (*copy_in)(void *arg, int ncols, const uint8_t **data, size_t *len, sql_error_t *err);
    void *copy_arg;
    /* WITH RECURSIVE: the working tables of the Recursive Unions running (exec_cte.c) */
    struct exec_worktable *worktables;
    /* EXPLAIN ANALYZE: per-node figures (sql/explain_analyze.c); NULL = not counted */
    struct explain_instr *instr;
} exec_ctx_t;

typedef struct exec_op exec_op_t;
struct exec_op {
    const plan_t *plan;
    exec_ctx_t *ctx;
    arena_t scratch;
    exec_op_t *child, *right;
    int (*next)(exec_op_t *op, batch_t **out, sql_error_t *err);
    void (*close)(exec_op_t *op);
    void *st;
    struct explain_opfig *fig;  /* EXPLAIN ANALYZE: this run's counters, or NULL */
};

exec_op_t *exec_build(exec_ctx_t *ctx, const plan_t *p, sql_error_t *err);
/* PL_COPY (exec_copy.c): sets op's next/close over ctx->copy_in's data stream. */
int exec_copy_open(exec_op_t *op, sql_error_t *err);
/* PL_DISTINCT with keys (DISTINCT ON, exec_distinct_on.c): sets op's next and state. */
int exec_distinct_on_open(exec_op_t *op, sql_error_t *err);
/* PL_REPEAT (exec_setop.c): sets op's next and state. */
int exec_repeat_open(exec_op_t *op, sql_error_t *err);
/* PL_LATERAL (exec_lateral.c): builds the right tree itself, per left row. */
int exec_lateral_open(exec_op_t *op, sql_error_t *err);
void exec_close(exec_op_t *op);
/* PL_WINDOW (exec_window.c): sets op's next over the child's rows. */
int exec_window_open(exec_op_t *op, sql_error_t *err);
/* PL_RECURSIVE / PL_WORKTABLE (exec_cte.c). */
int exec_cte_open(exec_op_t *op, sql_error_t *err);
int exec_check_cancel(exec_ctx_t *ctx, sql_error_t *err);
/* A fresh expression context for op's scratch arena. */
expr_ctx_t exec_expr_ctx(exec_op_t *op);

/* ---- fragments (exec_shard.c) ---- */

typedef struct frag_scan {
    /* request (coordinator-owned, read-only on the shard) */
    const plan_t *plan;          /* PL_SCAN */
    const txn_ctx_t *txn;
    expr_ctx_t ex;               /* params / subquery values; arena set on the shard */
    const uint8_t *key;          /* point get: encoded PK */
    uint32_t klen;
    const uint8_t *mkeys;        /* Index Scan: this shard's row keys, [u32 len][key]... */
    size_t mkeys_len;
    const volatile bool *cancel;
    /* state (shard-owned) */
    size_t mkeys_pos;
    arena_t arena;               /* blocks from the shard's heap */
    arena_t scratch;
    store_iter_t *it;
    const uint8_t **keys;        /* FOR UPDATE: keys of the current raw batch */
    uint32_t *klens;
    agg_table_t *agg;
    int64_t agg_pos;
    bool opened, done;
    batch_t *out;
    sql_error_t err;
    /* per-shard top-k (plan->scan.topk; exec_topk.c) */
    uint32_t ef_search;          /* hnsw.ef_search of the session */
    struct exec_topk *topk;      /* collected rows; NULL until the first call */
    bool topk_off;               /* LIMIT NULL / too large: scan as usual */
    bool *colneed;               /* pushed-down aggregation: columns read (exec_colscan.c) */
    /* EXPLAIN ANALYZE (explain_analyze.c): measured on the shard around frag_scan_next */
    bool an_on, an_ran;
    uint64_t an_ns, an_first_ns;
    int64_t an_rows;
    bool coldirect;              /* ... and whole blocks aggregate without batches */
    bool colmore;                /* read_mixed returned no rows but is not at the end */
} frag_scan_t;

/* Whole sorted-table blocks into batches (exec_colscan.c): the columns the scan's plan
 * reads; its WHERE comparisons as block predicates (count, at most cap); appending a
 * block's rows to b (0, 1 = the block's layout is not the table's: decode its rows,
 * -1 out of memory). */
void exec_colscan_need(const plan_t *p, bool *need);
uint32_t exec_colscan_preds(const plan_t *p, store_colpred_t *out, uint32_t cap);
/* Tells the iterator to decode only the columns need marks (0 or a store rc). */
int exec_colscan_set_need(store_iter_t *it, const plan_t *p, const bool *need);
int exec_colblock_append(arena_t *a, const store_colblock_t *cb, const plan_t *p, const bool *need,
                         batch_t *b);
/* Whole blocks straight into the aggregation (no filter, no GROUP BY, count(*) and
 * count/sum/avg/min/max of int2/int4/int8 columns): whether p and ag allow it, and
 * one block (1 = aggregated, 0 = not possible for this block: use the batch path,
 * -1 = error in *err). */
bool exec_colscan_direct_ok(const plan_t *p, const agg_table_t *ag);
int exec_colscan_direct(agg_table_t *ag, const store_colblock_t *cb, const plan_t *p, sql_error_t *err);

int frag_scan_next(void *arg);
int frag_scan_close(void *arg);
/* Shared by exec_shard.c and exec_topk.c: the next raw rows of the scan into a batch
 * in f->scratch (rows or -1), and the rows of b passing the scan's filter. */
int frag_scan_read(frag_scan_t *f, batch_t **out, int max);
int frag_scan_filter(frag_scan_t *f, batch_t *b, int **sel);
/* Decodes a stored row into row r of b (strings point into the store value). */
int frag_scan_decode(frag_scan_t *f, batch_t *b, int r, const store_val_t *v);

/* ---- per-shard top-k (exec_topk.c) ---- */

/* Fragment side of plan->scan.topk: on the first call collects this shard's best
 * k rows (exact: scan + filter + bounded selection; indexed: sql/vindex.c), then
 * hands them out in batches in f->out. Returns 0, 1 when the plan's limit turned
 * out not to be pushable (f->topk_off: the caller scans as usual) or -1 + f->err. */
int exec_topk_next(frag_scan_t *f);
/* The session's hnsw.ef_search (pgvector's default 40 when unset). */
uint32_t exec_topk_ef_search(const struct exec_ctx *ctx);

typedef struct frag_write {
    /* request */
    const bound_stmt_t *bs;      /* INSERT: rows in `rows`; UPDATE/DELETE: where/set */
    const txn_ctx_t *txn;
    expr_ctx_t ex;
    const uint8_t *key;          /* point UPDATE/DELETE */
    uint32_t klen;
    const uint8_t *mkeys;        /* UPDATE/DELETE candidates from an index: [u32 len][key]... */
    size_t mkeys_len;
    const uint8_t *rows;         /* INSERT: [u32 klen][key][u32 vlen][val]... */
    size_t rows_len;
    int shards_count;
    const volatile bool *cancel;
    bool corr_check;             /* exec_dml_corr.c: lock the rows of `rows` (whose value
                                  * is the row as the statement's snapshot saw it) and
                                  * list in `moved` the ones whose newest version differs:
                                  * [u32 klen][key][u32 vlen or UINT32_MAX: gone][row] */
    /* result */
    int64_t count;
    arena_t arena;
    rowstore_t *returning;       /* RETURNING rows (UPDATE/DELETE) */
    strbuf_t moved;              /* UPDATE moving rows to other shards: same layout as rows */
    bool wrote;
    sql_error_t err;
    uint64_t an_ns;              /* EXPLAIN ANALYZE: time in the fragment, on its shard */
} frag_write_t;
/* exec_dml.c: one write fragment per non-empty per-shard row buffer; the count or -1. */
int exec_write_frags(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, frag_write_t **fw_out,
                     int *shards, void **args, sql_error_t *err);

/* exec_update_from.c: runs bs->from_plan (UPDATE ... FROM / DELETE ... USING) and
 * appends each target row once to its shard's buffer as [u32 klen][key][u32 vlen]
 * [source columns, row-encoded], the layout frag_modify reads from f->rows. */
int exec_from_collect(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, sql_error_t *err);
/* exec_dml_corr.c: the same buffers for an UPDATE / DELETE with correlated subqueries
 * (bs->corr): decides the rows at the snapshot, locks them, re-evaluates the ones a
 * concurrent transaction changed (EvalPlanQual). Marks the shards it locked on. */
int exec_corr_collect(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, sql_error_t *err);

int frag_insert(void *arg);
int frag_modify(void *arg);
int frag_write_free(void *arg);

/* ---- EXPLAIN ANALYZE's counters (explain_analyze.c) ---- */

/* exec_build: counts op's rows and times its next() calls into ctx->instr. */
int explain_attach(exec_op_t *op, sql_error_t *err);
/* Shard side: frag_scan_next / frag_modify / frag_insert, timed into the request. */
int explain_frag_scan_next(void *arg);
int explain_frag_modify(void *arg);
int explain_frag_insert(void *arg);
/* Coordinator: a closing scan's fragment figures (shard ids in shards[i]; pending[i]:
 * fs[i].out was fetched ahead and never handed to the consumer, so it is not counted). */
void explain_note_scan(exec_ctx_t *ctx, const plan_t *p, int n, const int *shards, const frag_scan_t *fs,
                       const bool *pending);
/* Coordinator: a write fragment's rows and time for shard `shard` of bs. */
void explain_note_write(exec_ctx_t *ctx, const bound_stmt_t *bs, int shard, const frag_write_t *f);

/* Key encoding (exec_shard.c): the PK of a table row, or a fresh hidden row id. */
int exec_encode_key(const cat_table_t *t, const datum_t *vals, const bool *nulls, strbuf_t *out,
                    sql_error_t *err);
/* 23502 for a row violating NOT NULL. */
int exec_check_not_null(const cat_table_t *t, const datum_t *vals, const bool *nulls, sql_error_t *err);
/* Formats "Key (a, b)=(1, 2) already exists." into err's detail. */
void exec_dup_key_detail(const cat_table_t *t, const datum_t *vals, const bool *nulls, sql_error_t *err);

/* ---- coordinator-driven DML and DDL (exec_dml.c) ---- */

/* INSERT / UPDATE / DELETE. autocommit: the statement is its own transaction, so a
 * single-shard statement may commit inside its fragment; otherwise touched shards
 * are recorded in ctx->txn for the caller to commit. RETURNING rows are appended to
 * ret (initialised by the caller) when the statement has them. */
int exec_dml(exec_ctx_t *ctx, const bound_stmt_t *bs, bool autocommit, rowstore_t *ret, int64_t *count,
             sql_error_t *err);
typedef void (*exec_notice_fn)(void *arg, const char *message);
int exec_create_table(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
int exec_drop_tables(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
int exec_truncate(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err);
/* CREATE [UNIQUE] INDEX (a UNIQUE one first checks the rows: 23505 on a duplicate) and
 * DROP INDEX [IF EXISTS]. */
int exec_create_index(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
int exec_drop_indexes(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
/* Builds the published index `name` of table table_oid over its rows (secindex.c); on
 * failure (23505 "could not create unique index") drops it again. */
int exec_index_fill(uint32_t table_oid, const char *name, sql_error_t *err);
int exec_alter_pk(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err);
/* A column type name -> type OID and typmod (42704 unknown, typmod errors as CREATE TABLE). */
int exec_col_type(const ast_typename_t *tn, type_oid_t *oid, int32_t *typmod, sql_error_t *err);
/* After row_decode of a stored row of t: the columns the row predates (ALTER TABLE
 * ADD COLUMN) take their missing values (exec_shard.c). */
void exec_fill_missing(const cat_table_t *t, const uint8_t *row, uint32_t len, int ncols, datum_t *vals,
                       bool *nulls);
/* exec_alter.c: ALTER TABLE's column subcommands, RENAME COLUMN, RENAME TO. */
int exec_alter_table(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
/* Whether ALTER TABLE a rewrites the table (ALTER COLUMN TYPE, ADD COLUMN ... SERIAL):
 * it waits for open writers, so a block that wrote must not run it. */
bool exec_alter_rewrites(const ast_t *a);
/* ALTER TABLE's rewrite (exec_alter_type.c): INSERT op's rows into t (a storage id not
 * yet in the catalog, bs->checks evaluated), and clear one storage id everywhere. */
int exec_insert_rows(exec_ctx_t *ctx, const bound_stmt_t *bs, const cat_table_t *t, const type_oid_t *types,
                     exec_op_t *op, int64_t *count, sql_error_t *err);
int exec_storage_clear(uint32_t oid, sql_error_t *err);
/* exec_view.c: CREATE [OR REPLACE] VIEW, DROP VIEW [IF EXISTS], and the 2BP01 check
 * for dropping relation t ("table" or "view") that views not in dropping[] read. */
int exec_create_view(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err);
int exec_drop_views(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
int exec_view_dependents(exec_ctx_t *ctx, const cat_table_t *t, const char *kind, const cat_table_t *const *dropping,
                         int ndropping, sql_error_t *err);
/* A set of byte-string keys for one statement on the coordinator (keyset.c); slots
 * live in arena a, keys in buf (exec_keyset_free). stmt names the statement in the
 * "too many rows in one ..." error (54000). */
typedef struct exec_keyset {
    strbuf_t buf;
    uint32_t *slots;             /* offset + 1 into buf, 0 = empty */
    uint32_t cap, n;
    arena_t *a;
    const char *stmt;
} exec_keyset_t;
void exec_keyset_init(exec_keyset_t *s, arena_t *a, const char *stmt);
void exec_keyset_free(exec_keyset_t *s);
/* 1 if k was already in the set, 0 added, -1 error (err set). */
int exec_keyset_add(exec_keyset_t *s, const uint8_t *k, uint32_t kl, sql_error_t *err);

#endif
