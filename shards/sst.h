/*
 * sst.h -- sorted tables: the store's immutable on-disk files of MVCC versions.
 *
 * Why: the memtable is flushed to these when it outgrows its budget, so a shard holds
 * more data than memory, and the WAL can be trimmed. The format (PAX blocks of column
 * chunks, zstd, block index, bloom filter, CRC32C on every part, versioned footer) is
 * documented in shards/README.md, "Sorted table format".
 *
 * Model:
 *   - A file holds versions sorted by (table_id, key) ascending, then commit_ts
 *     descending. A version is a value or a tombstone. All versions of one key sit in
 *     one block (a block is cut only between keys), so a point lookup decodes exactly
 *     one block.
 *   - Writer: fed versions in that order (sst_writer_add); finished blocks accumulate
 *     in an output buffer the caller drains (sst_writer_take) and writes wherever it
 *     likes, so the store can write a file in slices through store_io. sst_build()
 *     writes a whole file synchronously from a sorted iterator (tests, tools).
 *   - Reader: sst_open reads and checks footer, block index and bloom filter; blocks
 *     are read with pread and checked on every read. A checksum or decode failure is
 *     STORE_ECORRUPT, logged and kept in sst_error() naming the file and block.
 *   - Lifetimes: an sst_t is reference counted (the store's set, each iterator over
 *     it, a compaction reading it); sst_close drops one reference. A file replaced by
 *     compaction is marked obsolete and unlinked when its last reference goes, and
 *     its blocks leave the block cache then. Decoded blocks are reference counted
 *     too (readers and the block cache, shards/cache.h); sst_block_free drops one.
 *   - Decoded values are 8-byte aligned (values are padded to 8 inside the value
 *     chunk and chunks are decoded into 8-aligned memory), as store.h promises.
 *
 * Interface:
 *   sst_writer_new/add/take/finish/free   build a file in memory, block by block
 *   sst_build(path, next, arg, ...)       write a whole file from a sorted iterator
 *   sst_open/close                        open a file: footer, index, bloom checked;
 *                                         close drops a reference
 *   sst_ref/sst_set_obsolete              take a reference / unlink at the last close
 *   sst_set_cache                         read blocks through a shard's block cache
 *   sst_get(s, table, key, snap, ...)     newest version with commit_ts <= snap
 *   sst_iter_new/seek/next_key/free       per-key range cursor with MVCC selection
 *   sst_iter_next_version                 every version in file order (compaction)
 *   sst_error(s)                          text of the last error (file and block)
 *   sst_last_error()                      the same for this thread's last failing file
 *
 * Limits: block target LIMIT_SST_BLOCK_BYTES (raw), index and bloom held in memory.
 * Thread: a writer or reader belongs to one thread (the shard's).
 */
#ifndef NEXTDB_SST_H
#define NEXTDB_SST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shards/store.h"

#define SST_FORMAT_VERSION 3       /* written; versions 1 and 2 are still read */
#define SST_FORMAT_VERSION_MIN 1
#define SST_MAGIC "NXDBSST\0"
#define SST_FOOTER_BYTES 64
#define SST_BLOCK_HDR_BYTES 56
#define SST_BFLAG_ONE_PER_KEY 1u   /* version 3 index: every key of the block has one version */

typedef struct sst sst_t;
typedef struct sst_writer sst_writer_t;
typedef struct sst_iter sst_iter_t;
typedef struct sst_block sst_block_t;
typedef struct cache cache_t;

/* One version as stored (pointers into a decoded block or the caller's memory). */
typedef struct sst_entry {
    uint32_t table_id, klen, vlen;
    bool tomb;
    uint64_t commit_ts;
    const uint8_t *key, *val;
} sst_entry_t;

/* ---- writer ---- */
sst_writer_t *sst_writer_new(void);    /* NULL on ENOMEM */
/* Appends one version; must follow the file order. 0 or STORE_ENOMEM / STORE_EINVAL
 * (out of order). */
int sst_writer_add(sst_writer_t *w, const sst_entry_t *e);
/* Bytes ready for the file (finished blocks, or after finish the tail); the caller
 * writes them at the file offset it tracks, then calls sst_writer_consume(w). */
void sst_writer_take(const sst_writer_t *w, const uint8_t **buf, size_t *len);
void sst_writer_consume(sst_writer_t *w);
/* Cuts the last block and appends bloom filter, index and footer to the output. */
int sst_writer_finish(sst_writer_t *w);
uint64_t sst_writer_entries(const sst_writer_t *w);
void sst_writer_free(sst_writer_t *w);
/* Writes a complete file at path (created/truncated, fsynced) from next(), which
 * returns 1 with *e filled, 0 at the end, negative on error. 0 or a negative rc. */
int sst_build(const char *path, int (*next)(void *arg, sst_entry_t *e), void *arg);

/* ---- reader ---- */
int sst_open(const char *path, uint64_t file_no, sst_t **out);   /* 0 or negative rc; 1 ref */
void sst_close(sst_t *s);               /* drops a reference; the last one frees */
/* Frees this thread's decompression context (at the shard thread's end). */
void sst_thread_release(void);
void sst_ref(sst_t *s);
/* The file was replaced by a durable manifest edit: unlink it at the last close. */
void sst_set_obsolete(sst_t *s);
/* Reads blocks through c (NULL = none); c must outlive s. */
void sst_set_cache(sst_t *s, cache_t *c);
uint64_t sst_file_bytes(const sst_t *s);
uint64_t sst_file_no(const sst_t *s);
uint64_t sst_entries(const sst_t *s);
uint64_t sst_keys_estimate(const sst_t *s);    /* distinct keys (bloom size), >= the truth */
uint32_t sst_blocks(const sst_t *s);
uint64_t sst_max_commit_ts(const sst_t *s);
/* A committed spilled run (shards/README.md, "Large transactions"): every version of
 * the file reads with commit_ts = ts (ts > 0). Set before any block is read. */
void sst_set_stamp(sst_t *s, uint64_t ts);
uint64_t sst_stamp(const sst_t *s);    /* 0 = none */
const char *sst_error(const sst_t *s);
/* The text of the calling thread's most recent sst failure on any file ("" if none):
 * a store has one thread, so this is what store_last_error reports. */
const char *sst_last_error(void);
/* False when (table, key) is outside the file's first..last key (two compares). */
bool sst_key_in_range(const sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen);
/* False when the bloom filter rules (table, key) out. */
bool sst_may_contain(const sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen);
/* Finds the newest version of (table, key) with commit_ts <= snap_ts. Returns 1 with
 * *e (pointing into *blk, which the caller frees with sst_block_free), 0 when the file
 * has none, or STORE_ECORRUPT / STORE_EIO / STORE_ENOMEM. */
int sst_get(sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen, uint64_t snap_ts,
            sst_entry_t *e, sst_block_t **blk);
/* What point lookups cost, summed by the store (store_stats_t "lookup_*", /metrics):
 * tables consulted, ruled out by the bloom filter, bloom false positives (the filter
 * passed, the key is not in the file), blocks read (cache hit or miss). */
typedef struct sst_lookup_stats {
    uint64_t tables, bloom_negatives, bloom_false_positives, blocks;
} sst_lookup_stats_t;
/* sst_get, adding its costs to *ls (NULL: not counted). */
int sst_get_counted(sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen,
                    uint64_t snap_ts, sst_entry_t *e, sst_block_t **blk, sst_lookup_stats_t *ls);
void sst_block_free(sst_block_t *b);   /* drops a reference; NULL is fine */
void sst_block_ref(sst_block_t *b);
size_t sst_block_bytes(const sst_block_t *b);   /* the decoded allocation */

/* Blocks cursors have left, kept alive for the entries handed out from them (the
 * store releases them once per loop turn, see store.h). */
typedef struct sst_retire {
    sst_block_t **blocks;
    uint32_t count, cap;
} sst_retire_t;
void sst_retire_release(sst_retire_t *r);   /* drops every block; the list stays usable */
void sst_retire_free(sst_retire_t *r);

/* Per-key cursor: each sst_iter_next_key yields the next key (in order) that has a
 * version with commit_ts <= snap_ts, with that newest such version. *e stays valid
 * until the next call on the cursor (with a retire list: until that is released). */
sst_iter_t *sst_iter_new(sst_t *s, uint64_t snap_ts);
/* Positions before the first key >= (table, key). 0 or negative rc. */
int sst_iter_seek(sst_iter_t *it, uint32_t table_id, const uint8_t *key, uint32_t klen);
int sst_iter_next_key(sst_iter_t *it, sst_entry_t *e);   /* 1, 0 = end, negative rc */
/* Every version, in file order, ignoring the snapshot (compaction's input). */
int sst_iter_next_version(sst_iter_t *it, sst_entry_t *e);
/* How the cursor's block reads use the cache (enum cache_mode; CACHE_SCAN default). */
void sst_iter_set_cache_mode(sst_iter_t *it, int mode);
/* Blocks the cursor leaves (moving on, seeking, being freed) go to r instead of being
 * released, so entries it returned stay valid until the owner releases r. */
void sst_iter_set_retire(sst_iter_t *it, sst_retire_t *r);
void sst_iter_free(sst_iter_t *it);
/* ---- format 2: whole columnar blocks (store_iter_next_cols) ---- */
/* When the version the cursor returned last is the first of its block, 1 with that
 * block in *out (not referenced; valid while the cursor stands on it) and its index;
 * else 0; or a negative rc (reading a lazily entered block failed). */
int sst_iter_block_start(sst_iter_t *it, uint32_t *block_index, sst_block_t **out);
/* Moves the cursor past the rest of its current block. */
void sst_iter_skip_block(sst_iter_t *it);
/* Column scans: with lazy on, a per-key cursor enters a block that the version-3
 * index shows whole at its snapshot (every version a visible row) without reading it,
 * and returns the index's first key for it: an unresolved entry (vlen SST_VLEN_LAZY,
 * commit_ts only an upper bound). The caller either takes the block whole
 * (sst_iter_block_start, sst_iter_skip_block; its keys are never decoded) or calls
 * sst_iter_resolve(it, e) before using the entry's version, which reads the block's
 * keys and makes *e the real entry (same key). */
void sst_iter_set_lazy(sst_iter_t *it, bool on);
bool sst_iter_unresolved(const sst_iter_t *it);
int sst_iter_resolve(sst_iter_t *it, sst_entry_t *e);
/* Block i's last key, from the index (the same bytes as in the block). */
void sst_index_last_key(const sst_t *s, uint32_t i, const uint8_t **key, uint32_t *klen);
/* The block is columnar and all its versions are <= snap, so each key's visible
 * version is its newest in the block (the block's selection, sst_block_columns). */
bool sst_block_whole(const sst_block_t *b, uint64_t snap_ts);
/* Fills cb from b, decoding the columns whose bit is set in need (bit c of byte c/8;
 * NULL = all) first; the others have nulls and data NULL. 0 or STORE_ECORRUPT /
 * STORE_ENOMEM (reported against s). */
int sst_block_columns(sst_t *s, sst_block_t *b, const uint8_t *need, store_colblock_t *cb);
/* Decodes the column chunks need selects (as above) of columnar block b, once each:
 * a columnar block keeps its chunks compressed until a reader needs them. */
int sst_block_need(sst_t *s, sst_block_t *b, const uint8_t *need);
/* Format 2 blocks are decoded as columns; their rows are joined on first need (lookups,
 * every-version cursors, and sst_iter_materialize). A per-key cursor over a block not
 * joined yet returns values as val NULL, vlen SST_VLEN_LAZY: sst_iter_materialize
 * fills in the version it returned last (e must be that entry). */
#define SST_VLEN_LAZY UINT32_MAX
int sst_block_join(sst_t *s, sst_block_t *b);
int sst_iter_materialize(sst_iter_t *it, sst_entry_t *e);
/* False when block i's index statistics show no value of pred's column in range. */
bool sst_block_may_match(const sst_t *s, uint32_t i, const store_colpred_t *pred);
/* The format version (1 or 2) w writes, and the one new writers get (process-wide,
 * default SST_FORMAT_VERSION): tests make version-1 files with them. */
void sst_writer_set_version(sst_writer_t *w, uint32_t version);
void sst_set_write_version(uint32_t version);
/* kind's order of two statistics values (int64 / uint64 / double bits). */
bool sst_stat_less(uint8_t kind, uint64_t a, uint64_t b);

#endif
