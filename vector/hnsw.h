/*
 * hnsw.h -- one shard's approximate nearest-neighbour index: a hierarchical navigable
 * small-world graph (Malkov & Yashunin, 2016/2018) over (uint64 id -> float[dim]).
 *
 * Why: ORDER BY emb <-> $1 LIMIT k must not read every row. Each shard keeps one
 * index over its own rows; the coordinator merges the per-shard top-k. This module is
 * the index as a library; the SQL type, operators and CREATE INDEX sit on top of it.
 *
 * Model: nodes live in slots 0..n-1 (slot = insertion order). Vectors are one
 * contiguous float array (slot * dim), layer-0 neighbour lists one contiguous uint32
 * array of 1 + 2M entries per slot, upper layers (about 1 node in M) a small block per
 * node. Insert = greedy descent through the upper layers, ef_construction beam search
 * per layer, neighbour-selection heuristic, back-links with heuristic shrinking.
 * Delete marks a tombstone: searches walk through it but never return it; repair
 * relinks the tombstones' neighbours and compacts them away. Search with a filter
 * callback keeps exploring the graph best-first until it holds max(k, ef) accepted
 * results or the reachable graph is exhausted (vector/README.md, "Filtered search").
 * For COSINE the index stores unit vectors and orders by 1 - dot.
 *
 * Interface:
 *   hnsw_create(dim, metric, m, ef_construction, &idx)  empty index; bounds below
 *   hnsw_destroy(idx)                     frees everything
 *   hnsw_reserve(idx, count)              pre-sizes for count slots (bulk build)
 *   hnsw_insert(idx, id, vec)             adds a live node (id must not be live)
 *   hnsw_delete(idx, id)                  tombstones the live node with this id
 *   hnsw_repair(idx, &stats)              relinks around tombstones and removes them
 *   hnsw_search(idx, q, k, ef, filter, arg, out, &n)   approximate top-k, filtered
 *   hnsw_search_exact(idx, q, k, filter, arg, out, &n) brute force over live nodes
 *   hnsw_save(idx, path) / hnsw_load(path, &idx)       file with version and CRC-32C
 *   hnsw_count / hnsw_tombstones / hnsw_dim / hnsw_metric / hnsw_m / ...  accessors
 *   hnsw_memory_bytes(idx)                bytes the index holds (all its allocations)
 *   hnsw_strerror(code)                   text of a HNSW_E_* code
 *
 * Limits: dim 1..LIMIT_VECTOR_DIMS; m, ef_construction, ef_search within the
 * HNSW_*_MIN..MAX triplets below (pgvector's); ef_construction >= 2 * m (pgvector's
 * rule); nodes (live + tombstones) <= LIMIT_HNSW_NODES; k <= LIMIT_HNSW_K_MAX;
 * LIMIT_HNSW_LEVELS layers. Files are native-endian (x86-64 little-endian).
 * Thread: single-threaded -- one shard's thread owns an index; even search writes
 * the index's scratch space (visited array, heaps). Save/load use blocking stdio: call
 * them where blocking is allowed (startup, recovery, a background checkpoint thread).
 */
#ifndef NEXTDB_HNSW_H
#define NEXTDB_HNSW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "vector/distance.h"

/* Tunables as pgvector's MIN / DEFAULT / MAX triplets (bounds live in limits.h). */
#define HNSW_M_MIN                  LIMIT_HNSW_M_MIN
#define HNSW_M_DEFAULT              16
#define HNSW_M_MAX                  LIMIT_HNSW_M_MAX
#define HNSW_EF_CONSTRUCTION_MIN    LIMIT_HNSW_EF_CONSTRUCTION_MIN
#define HNSW_EF_CONSTRUCTION_DEFAULT 64
#define HNSW_EF_CONSTRUCTION_MAX    LIMIT_HNSW_EF_CONSTRUCTION_MAX
#define HNSW_EF_SEARCH_MIN          LIMIT_HNSW_EF_SEARCH_MIN
#define HNSW_EF_SEARCH_DEFAULT      40
#define HNSW_EF_SEARCH_MAX          LIMIT_HNSW_EF_SEARCH_MAX

/* Error codes (0 is success). */
enum hnsw_error {
    HNSW_OK = 0,
    HNSW_E_ARG = -1,       /* a parameter outside its bounds */
    HNSW_E_NOMEM = -2,     /* allocation failed; the index is unchanged */
    HNSW_E_EXISTS = -3,    /* insert: the id is already live */
    HNSW_E_NOTFOUND = -4,  /* delete: no live node has the id */
    HNSW_E_FULL = -5,      /* LIMIT_HNSW_NODES reached (repair frees tombstones) */
    HNSW_E_ZERO_NORM = -6, /* cosine index: a zero vector has no direction */
    HNSW_E_IO = -7,        /* save/load: the file system failed (errno is set) */
    HNSW_E_CORRUPT = -8,   /* load: bad magic, truncated, checksum or bounds */
    HNSW_E_VERSION = -9,   /* load: a file format this build does not read */
};

typedef struct hnsw hnsw_t;

/* Filter callback: true when the row with this id qualifies. Must not touch idx. */
typedef bool (*hnsw_filter_fn)(uint64_t id, void *arg);

typedef struct hnsw_result {
    uint64_t id;
    float distance; /* the metric's ordering distance: l2sq, -dot, 1-cos, l1 */
} hnsw_result_t;

typedef struct hnsw_repair_stats {
    uint32_t removed_count;     /* tombstones compacted away */
    uint32_t relinked_count;    /* live nodes whose lists lost a tombstone */
    uint32_t unreachable_count; /* live nodes still unreachable at layer 0 after repair */
} hnsw_repair_stats_t;

/* Creates an empty index. Returns HNSW_OK and *out, or HNSW_E_ARG (bounds, or
 * ef_construction < 2 * m) / HNSW_E_NOMEM with *out untouched. */
int hnsw_create(uint32_t dim, distance_metric_t metric, uint32_t m, uint32_t ef_construction,
                hnsw_t **out);
void hnsw_destroy(hnsw_t *idx);

/* Pre-sizes the slot arrays and the id map for count nodes, so a bulk build neither
 * reallocates nor over-allocates. HNSW_OK, HNSW_E_ARG (count > LIMIT_HNSW_NODES) or
 * HNSW_E_NOMEM. Never shrinks. */
int hnsw_reserve(hnsw_t *idx, size_t count);

/* Adds vec (dim floats, copied) under id. Returns HNSW_OK, HNSW_E_EXISTS when id is
 * live, HNSW_E_ARG (a NaN or infinite element), HNSW_E_ZERO_NORM (cosine),
 * HNSW_E_FULL or HNSW_E_NOMEM; on error nothing
 * changed. An id whose node was deleted may be inserted again (UPDATE = delete +
 * insert); the old tombstone stays until repair. */
int hnsw_insert(hnsw_t *idx, uint64_t id, const float *vec);

/* Tombstones the live node with id: searches stop returning it at once; it keeps
 * routing searches until hnsw_repair. Returns HNSW_OK or HNSW_E_NOTFOUND. */
int hnsw_delete(hnsw_t *idx, uint64_t id);

/* Removes every tombstone: each live node that links to one gets new neighbours
 * chosen by the heuristic from its live neighbours and the tombstone's live
 * neighbours; then slots are compacted, and live nodes found unreachable from the
 * entry point at layer 0 are relinked (up to LIMIT_HNSW_REPAIR_ROUNDS rounds).
 * Returns HNSW_OK or HNSW_E_NOMEM (the index is then still valid, tombstones kept or
 * not). stats may be NULL. Costs about one ef_construction search per relinked node
 * in the worst case, like pgvector's vacuum. */
int hnsw_repair(hnsw_t *idx, hnsw_repair_stats_t *stats);

/* Approximate k nearest live nodes to q for which filter(id, arg) is true (filter
 * NULL: all), nearest first, into out[0..*n_out). Uses ef' = max(ef, k) as the beam;
 * with a filter or tombstones the layer-0 search continues until ef' accepted nodes
 * are held or every node reachable from the entry point was visited, so *n_out < k
 * only when fewer than k accepted nodes are reachable. Returns HNSW_OK or
 * HNSW_E_ARG (k 1..LIMIT_HNSW_K_MAX, ef 1..HNSW_EF_SEARCH_MAX), HNSW_E_ZERO_NORM,
 * HNSW_E_NOMEM. */
int hnsw_search(hnsw_t *idx, const float *q, uint32_t k, uint32_t ef, hnsw_filter_fn filter,
                void *arg, hnsw_result_t *out, uint32_t *n_out);

/* Exact k nearest live nodes (brute force over all slots), same contract as
 * hnsw_search without ef. The planner's "exact scan" and the tests' ground truth. */
int hnsw_search_exact(hnsw_t *idx, const float *q, uint32_t k, hnsw_filter_fn filter,
                      void *arg, hnsw_result_t *out, uint32_t *n_out);

/* Writes the index to path (via path.tmp, fsync, rename: the old file survives a
 * crash mid-write). Returns HNSW_OK or HNSW_E_IO / HNSW_E_NOMEM. */
int hnsw_save(const hnsw_t *idx, const char *path);

/* Reads an index written by hnsw_save. Verifies magic, version, CRC-32C and every
 * bound (slots, levels, neighbour numbers) before returning it. Returns HNSW_OK and
 * *out, or HNSW_E_IO / HNSW_E_CORRUPT / HNSW_E_VERSION / HNSW_E_NOMEM. */
int hnsw_load(const char *path, hnsw_t **out);

size_t hnsw_count(const hnsw_t *idx);      /* live nodes */
size_t hnsw_tombstones(const hnsw_t *idx); /* deleted, not yet repaired */
uint32_t hnsw_dim(const hnsw_t *idx);
distance_metric_t hnsw_metric(const hnsw_t *idx);
uint32_t hnsw_m(const hnsw_t *idx);
uint32_t hnsw_ef_construction(const hnsw_t *idx);
bool hnsw_contains(const hnsw_t *idx, uint64_t id); /* live node with id */
size_t hnsw_memory_bytes(const hnsw_t *idx);
const char *hnsw_strerror(int code);

#endif
