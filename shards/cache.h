/*
 * cache.h -- the per-shard block cache: decoded sorted-table blocks kept in memory,
 * keyed by (file number, block number), bounded in bytes.
 *
 * Why: without it every block read is a pread + CRC + zstd decode on the shard
 * thread. Point lookups on a hot set re-read the same blocks over and over; the
 * cache turns those into a hash lookup. It lives inside the shard's memory budget
 * (shards/README.md, "Block cache": how --memory is split between memtable and cache).
 *
 * Model: segmented LRU (Karedla, Love, Wherry 1994), two lists:
 *   - probation: new blocks enter at its hot end; eviction takes its cold end first;
 *   - protected: a block hit again by a point lookup (CACHE_HOT) moves here; it is
 *     capped at 3/4 of the capacity, its overflow goes back to probation's hot end.
 * Scan resistance: a full scan (CACHE_SCAN) uses blocks that are cached without
 * moving them, and inserts the blocks it read at probation's *cold* end, so they are
 * the next to go: a scan larger than the cache evicts its own blocks (and free
 * space), never the protected hot set. Compaction reads with CACHE_BYPASS (look up,
 * never insert). Blocks are reference counted (sst.h): the cache holds one reference,
 * each reader one; evicting an entry a reader still holds only drops the cache's
 * reference. File numbers are never reused, so an entry can never be stale; entries
 * of a deleted file are dropped at once (cache_drop_file) to give the memory back.
 *
 * Interface:
 *   cache_new(capacity_bytes) / cache_free
 *   cache_get(c, file, block, mode)    a referenced block, or NULL (counts hit / miss)
 *   cache_put(c, file, block, b, mode) insert (takes its own reference)
 *   cache_drop_file(c, file)           forget every block of a file
 *   cache_resize(c, file, block, b)    a cached block's decoded size changed
 *   cache_get_stats(c, out)            hits, misses, evictions, bytes, entries
 * Limits: capacity in bytes (LIMIT_BLOCK_CACHE_BYTES default); a block larger than half
 * the capacity is not cached. Thread: the owning shard thread only.
 */
#ifndef NEXTDB_CACHE_H
#define NEXTDB_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "shards/sst.h"

enum cache_mode {
    CACHE_HOT = 0,      /* point lookup: insert at probation's hot end, a hit promotes */
    CACHE_SCAN = 1,     /* range scan: a hit does not move, a miss inserts cold */
    CACHE_BYPASS = 2,   /* compaction: a hit is used, a miss is not inserted */
};

typedef struct cache_stats {
    uint64_t hits, misses, evictions, inserts;
    uint64_t put_bytes;    /* decoded bytes of every block offered to cache_put */
    uint64_t bytes, entries, capacity_bytes;
} cache_stats_t;

cache_t *cache_new(size_t capacity_bytes);    /* NULL on ENOMEM */
void cache_free(cache_t *c);
sst_block_t *cache_get(cache_t *c, uint64_t file_no, uint32_t block_no, int mode);
void cache_put(cache_t *c, uint64_t file_no, uint32_t block_no, sst_block_t *b, int mode);
void cache_drop_file(cache_t *c, uint64_t file_no);
/* b (file, block) grew or shrank after it was inserted (columns decoded on demand,
 * rows joined): its entry's bytes follow, evicting as needed (b itself too, when it
 * no longer fits). Nothing when b is not the cached block. */
void cache_resize(cache_t *c, uint64_t file_no, uint32_t block_no, const sst_block_t *b);
void cache_get_stats(const cache_t *c, cache_stats_t *out);
#endif
