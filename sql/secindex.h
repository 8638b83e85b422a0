/*
 * secindex.h -- secondary indexes (CREATE [UNIQUE] INDEX ... USING btree|hash, UNIQUE
 * constraints): their storage, maintenance on every row write, unique enforcement,
 * the build over existing rows and the lookups the planner uses.
 *
 * Why: a UNIQUE constraint must hold under concurrency, and an equality on indexed
 * columns must not read the whole table. The old design (a grouping query after each
 * statement) was O(table) and let two concurrent transactions insert the same key.
 *
 * Model (sql/README.md "Secondary indexes"): each index is its own store table, with
 * the index OID as table id, partitioned globally by a hash of the encoded index
 * columns (IK), so one equality lookup reads one shard and a unique check is one
 * keyed write. Entries:
 *   unique index, no NULL in the columns:  key = IK          value = 'u' ++ row key
 *   otherwise (non-unique, or a NULL):     key = IK ++ row key  value = 'n' ++ be32 len(row key)
 * IK = per column 0x01 ++ memcomparable encoding (types_enc.c; numeric without its
 * display scale, interval as its span), or 0x02 for NULL, so entries sort like the
 * columns (NULLS LAST) and an equality is a key prefix. Entries are written through
 * txn_write in the writing transaction (MVCC, WAL, 2PC and recovery cover them): the
 * row's shard sends each entry write to the entry's shard (rt_call) and marks that
 * shard touched in the transaction. A unique entry is a STORE_W_INSERT: a live entry
 * is 23505, another transaction's uncommitted entry is a lock wait and a re-check,
 * exactly as PostgreSQL waits on a conflicting in-progress insert.
 *
 * Interface:
 *   secidx_column_type_ok  may a column of this type be indexed (0A000 otherwise)
 *   secidx_write           txn_write for a table with indexes: the row, then entries
 *   secidx_build           CREATE INDEX over existing rows, in bounded transactions
 *   secidx_lookup          row keys of the entries equal to IK, per row shard
 *   secidx_encode_ik       IK of constant values (the planner's lookup key)
 *   secidx_arbiter_probe   ON CONFLICT on a unique index: lock the entry key, name its row
 *   secidx_row_ik          a row's IK for one index (arbiter key sets, foreign-key probes)
 *   secidx_touch           mark a shard touched by a transaction from any shard
 *
 * Limits: SECIDX_BUILD_BATCH_ROWS rows per build transaction; an entry key is at most
 * LIMIT_KEY_BYTES (54000 beyond, as PostgreSQL's index row size limit).
 *
 * Thread: secidx_write and the lookup fragment on shard threads (fibers); the build
 * and secidx_lookup on the coordinator.
 */
#ifndef NEXTDB_SECINDEX_H
#define NEXTDB_SECINDEX_H
#include <stdbool.h>
#include <stdint.h>

#include "sql/exec_int.h"

#define SECIDX_BUILD_BATCH_ROWS 512     /* rows per build transaction: bounds its write set */
#define SECIDX_LOOKUP_ROWS_MAX  65536   /* row keys an index scan fetches; beyond, a table
                                         * scan is cheaper than that many point reads */

/* 0 when a column of type t can be in an index, else -1 + err (0A000 / 42704). */
int secidx_column_type_ok(type_oid_t t, sql_error_t *err);
/* Whether keys of type t sort like the type (range lookups): not numeric. */
bool secidx_type_ordered(type_oid_t t);
/* Whether table_id is a table with secondary indexes (cheap; txn_write's test). */
bool secidx_table_indexed(uint32_t table_id);
/* txn_write of a row of an indexed table: reads the old row (the caller holds the row
 * lock for PUT / DELETE), writes the row, then deletes the entries of the old row and
 * inserts those of the new one on their shards, skipping unchanged entries. Returns
 * OK / EXISTS (the row) or -1 + err (23505 for a unique entry). */
int secidx_write(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
                 uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err);
/* frag_insert's rows ([u32 klen][key][u32 vlen][val]...) of an indexed table: each row
 * inserted here, then its entries written on their shards in one call per shard (in
 * order per shard), so a bulk INSERT / COPY costs one round trip per shard, not per
 * row. *count += rows written. A row key that exists: *pk_dup, *dup_at = the record's
 * offset, -1 (the caller reports it). A unique entry that exists: 23505 naming the
 * first such row. Else 0 or -1 + err. */
int secidx_insert_rows(const txn_ctx_t *tc, store_txn_t *t, const cat_table_t *tab, const uint8_t *rows,
                       size_t rows_len, int64_t *count, bool *pk_dup, size_t *dup_at, sql_error_t *err);
/* Fills index ix of t (already in the published catalog) from t's committed rows.
 * A unique index with a duplicate: 23505 "could not create unique index". */
int secidx_build(exec_ctx_t *ctx, const cat_table_t *t, const cat_index_t *ix, sql_error_t *err);
/* IK of n leading index columns with values vals (types types); 0 or -1 + err. */
int secidx_encode_ik(int n, const type_oid_t *types, const datum_t *vals, const bool *nulls, strbuf_t *out,
                     sql_error_t *err);
/* The row keys of index ix's entries visible to ctx's statement, appended to per
 * row shard buffers bufs[shard] as [u32 len][key]...: with prefix, the entries whose
 * key starts with lo (an equality, on one shard); else those in [lo, hi) (hi NULL =
 * unbounded) on every shard. Returns the number of keys, SECIDX_LOOKUP_TOO_MANY
 * beyond SECIDX_LOOKUP_ROWS_MAX (the caller scans the table instead), or -1 + err. */
#define SECIDX_LOOKUP_TOO_MANY (-2)
int64_t secidx_lookup(exec_ctx_t *ctx, const cat_index_t *ix, const uint8_t *lo, uint32_t lolen, const uint8_t *hi,
                      uint32_t hilen, bool prefix, strbuf_t *bufs, sql_error_t *err);
/* UPDATE / DELETE candidates: evaluates ixkey (index ix's equality values) and looks
 * the entries up; *bufs (n per row shard, statement arena) get the row keys. 1, 0 =
 * no candidate, 2 = too many (scan the table), -1 + err. */
int secidx_dml_keys(exec_ctx_t *ctx, const cat_index_t *ix, bexpr_t *const *ixkey, strbuf_t **bufs, sql_error_t *err);
/* The [lo, hi) entry-key range of a range on an index's leading column of type t
 * (lo / hi NULL = unbounded; NULL entries are outside every range). */
int secidx_encode_range(type_oid_t t, const datum_t *lo, bool lo_incl, const datum_t *hi, bool hi_incl,
                        strbuf_t *lok, strbuf_t *hik, sql_error_t *err);
/* INSERT ... ON CONFLICT with unique index ix as arbiter, for the proposed row
 * (vals, nulls) of t: locks the row's would-be entry key on its shard in tc's
 * transaction (waiting for another transaction's entry, as the insert would) and
 * reports the row that holds it. 1 with *pk / *pklen (in a) = a conflicting row, 0 =
 * none (the key stays locked until the insert writes it), -1 + err. */
int secidx_arbiter_probe(const txn_ctx_t *tc, const cat_table_t *t, const cat_index_t *ix, const datum_t *vals,
                         const bool *nulls, arena_t *a, uint8_t **pk, uint32_t *pklen, sql_error_t *err);
/* The arbiter's IK of the row into out (the statement's proposed-key set); false when
 * a column is NULL (such a row conflicts with nothing). 0 / -1 + err in *rc. */
bool secidx_row_ik(const cat_table_t *t, const cat_index_t *ix, const datum_t *vals, const bool *nulls,
                   strbuf_t *out, int *rc, sql_error_t *err);
/* Marks shard s touched by tc's transaction from any shard (see secindex.c). */
void secidx_touch(const txn_ctx_t *tc, int s);
#endif
