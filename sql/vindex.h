/*
 * vindex.h -- HNSW vector indexes in SQL: CREATE INDEX ... USING hnsw, their
 * per-shard graphs, maintenance on writes, and the indexed per-shard top-k.
 *
 * Why: ORDER BY emb <-> $1 LIMIT k over a large table must not compute a distance
 * per row. DESIGN.md section 6: one HNSW graph (vector/hnsw.h) per shard over that
 * shard's rows; each shard answers its top k; the coordinator merges.
 *
 * Model (details and the reasoning in sql/README.md, "Vector indexes"):
 *   - The catalog keeps the definition with its table (cat_vindex_t). Each shard
 *     keeps, per index, a graph whose node ids number *entries*: (row key, hash of
 *     the indexed vector, writing transaction). Every INSERT/UPDATE that writes a
 *     non-null vector adds an entry (unless the key's newest entry already holds the
 *     same vector); nothing is removed at write time, since the write may abort and
 *     older snapshots still see the old row.
 *   - A search accepts an entry only if the row visible to the statement's snapshot
 *     has exactly that vector, passes the WHERE clause, and was not accepted already;
 *     so results are always visible rows with their current vectors. Entries whose
 *     writer has ended and whose vector is no longer the row's newest committed one
 *     (deleted, updated, aborted) are garbage: searches tombstone them, and a repair
 *     pass removes tombstones once they are a quarter of the graph.
 *   - Graphs live in memory, with a snapshot file per (index, shard) written after
 *     CREATE INDEX, when changes reach the graph's size, and at a clean stop. After
 *     a restart the first statement that touches the index loads the snapshot and
 *     reconciles it with the table (rows added, outdated entries tombstoned), or
 *     rebuilds the graph from the table when the snapshot is missing or fails its
 *     checks. CREATE INDEX builds in slices, yielding to the shard's other fibers.
 *   - With a WHERE clause the shard estimates the filter's selectivity on a sample of
 *     entries and uses an exact filtered scan when the graph would have to visit too
 *     many rejected nodes; otherwise the graph search keeps going until it holds k
 *     accepted rows (vector/README.md, "Filtered search"), so LIMIT is filled
 *     whenever k rows qualify and are reachable.
 *
 * Interface:
 *   vindex_create / vindex_drop     coordinator: CREATE INDEX / DROP INDEX (vindex_ddl.c)
 *   vindex_on_write                 shard: a row was written (txn_write hook)
 *   vindex_topk                     shard: the best k rows from the graph (exec_topk.c)
 *   vindex_build_on_shard           shard: build a graph now / free dropped ones (DDL)
 *   vindex_shard_fini               shard: free every graph at shutdown
 *
 * Limits: LIMIT_VINDEX_HNSW_DIMS dimensions (pgvector's 2000 for hnsw); k up to
 * LIMIT_HNSW_K_MAX from the graph (larger k use the exact path).
 * Thread: shard functions on the shard owning the rows, inside fibers.
 */
#ifndef NEXTDB_VINDEX_H
#define NEXTDB_VINDEX_H
#include <stdint.h>
#include "sql/exec_int.h"

int vindex_create(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);
int vindex_drop(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err);

/* A not yet committed write of (key -> val) in table_id by transaction txn_id
 * (is_delete: a tombstone, val unused). Adds the new vector's entry; remembers the
 * key so that, once txn_id has ended, its outdated entries are tombstoned at the
 * next search. Errors (memory) drop the shard's graph: it is rebuilt at next use. */
void vindex_on_write(uint64_t txn_id, uint32_t table_id, const uint8_t *key, uint32_t klen, const uint8_t *val,
                     uint32_t vlen, bool is_delete);
/* Shard side of an indexed top-k: up to k rows (table columns, in f->scratch) that
 * the statement's snapshot sees and the scan filter accepts, nearest first.
 * Returns 0 with *rows, 1 when the exact path must answer instead (NULL query,
 * zero cosine query, k above LIMIT_HNSW_K_MAX, selective filter), or -1 + f->err. */
int vindex_topk(frag_scan_t *f, uint32_t k, batch_t **rows);
/* Builds (if needed) this shard's graph of index oid, after freeing the graphs of
 * indexes the catalog no longer has (rt_call target; arg is a vindex_build_req_t;
 * an index_oid the catalog no longer has: DROP INDEX, its snapshot files are
 * removed). 0 or -1 + req->err. */
typedef struct vindex_build_req {
    uint32_t table_oid, index_oid;
    uint64_t deadline_us;           /* statement_timeout (rt_now_us clock), 0 = none */
    const volatile bool *cancel;    /* the session's cancel flag, or NULL */
    sql_error_t err;
} vindex_build_req_t;
int vindex_build_on_shard(void *arg);
/* Saves the graphs that changed since their snapshot file, then frees them. */
void vindex_shard_fini(void);
/* The data directory whose shard-NNN/ folders hold the graphs' snapshot files
 * (main thread, before the shards start; unset = graphs are never saved). */
void vindex_set_data_dir(const char *dir);
#endif
