/*
 * hnsw_int.h -- the index structure and the helpers the hnsw_*.c phase files share.
 *
 * Slot layout (n = hn_count slots in use, cap = hn_capacity):
 *   hn_vectors  float[cap * dim]       the vectors, contiguous (unit length for cosine)
 *   hn_ids      uint64[cap]            row id of each slot
 *   hn_levels   uint8[cap]             top layer of each slot (0 = layer 0 only)
 *   hn_deleted  uint8[cap]             1 = tombstone
 *   hn_links0   uint32[cap * (1+M0)]   layer 0: [count, neighbour slots...], M0 = 2M
 *   hn_upper    uint32*[cap]           NULL, or level blocks of [count, M slots...]
 *                                      for layers 1..level
 * Scratch sized by capacity so a search never allocates: hn_visited (epoch tags),
 * hn_cand and hn_res (binary heaps), hn_sorted (extracted results), hn_query.
 *
 * Invariants: every neighbour number < hn_count; a list at layer l names only slots
 * whose level >= l; no list names its own slot; lists hold no duplicates; the entry
 * point has level hn_max_level; hn_map maps exactly the live ids to their slots.
 */
#ifndef NEXTDB_HNSW_INT_H
#define NEXTDB_HNSW_INT_H
#include <stdbool.h>
#include <stdint.h>

#include "core/assert.h"
#include "vector/hnsw.h"

#define HNSW__NONE UINT32_MAX
#define HNSW__CAPACITY_MIN 16u
#define HNSW__SORTED_MAX (LIMIT_HNSW_K_MAX > LIMIT_HNSW_EF_CONSTRUCTION_MAX ? LIMIT_HNSW_K_MAX : LIMIT_HNSW_EF_CONSTRUCTION_MAX)
STATIC_ASSERT(LIMIT_HNSW_LEVELS <= 255, "levels fit a uint8");
STATIC_ASSERT(LIMIT_HNSW_NODES < UINT32_MAX / 2, "slot numbers and map sizes fit uint32");

/* A (distance, slot) pair: heap element and sorted-result element. */
typedef struct hnsw__pair {
    float hp_dist;
    uint32_t hp_slot;
} hnsw__pair_t;

/* Binary max-heap on hp_dist; a min-heap stores negated distances. Capacity is fixed
 * by the caller (the index keeps it >= hn_capacity), so a push never allocates. */
typedef struct hnsw__heap {
    hnsw__pair_t *hh_items;
    uint32_t hh_size;
} hnsw__heap_t;

/* id -> slot, open addressing with linear probing and backward-shift deletion. */
typedef struct hnsw__map {
    uint64_t *hm_keys;
    uint32_t *hm_slots; /* HNSW__NONE = empty */
    uint32_t hm_mask;   /* capacity - 1, capacity a power of two, load <= 1/2 */
    uint32_t hm_size;
} hnsw__map_t;

struct hnsw {
    uint32_t hn_dim;
    uint32_t hn_m;  /* max links per node on layers >= 1 */
    uint32_t hn_m0; /* max links per node on layer 0 (2M, as the paper advises) */
    uint32_t hn_ef_construction;
    distance_metric_t hn_metric;
    distance_fn hn_dist;    /* ordering distance between stored/normalized vectors */
    double hn_level_mult;   /* 1 / ln(M) */
    uint64_t hn_rng;        /* xorshift64* state, for the level draw */

    uint32_t hn_count;      /* slots in use (live + tombstones) */
    uint32_t hn_capacity;
    uint32_t hn_deleted_count;
    uint32_t hn_entry;      /* HNSW__NONE when empty */
    int hn_max_level;       /* -1 when empty */

    float *hn_vectors;
    uint64_t *hn_ids;
    uint8_t *hn_levels;
    uint8_t *hn_deleted;
    uint32_t *hn_links0;
    uint32_t **hn_upper;
    size_t hn_upper_bytes;

    hnsw__map_t hn_map;

    uint32_t *hn_visited;
    uint32_t hn_epoch;
    hnsw__heap_t hn_cand;
    hnsw__heap_t hn_res;
    hnsw__pair_t *hn_sorted; /* HNSW__SORTED_MAX + 1 entries */
    float *hn_query;         /* dim floats: the normalized query (cosine) */
};

static inline float *hnsw__vec(const hnsw_t *idx, uint32_t slot)
{
    return idx->hn_vectors + (size_t)slot * idx->hn_dim;
}

/* The [count, neighbours...] list of slot at layer (layer <= level of slot). */
static inline uint32_t *hnsw__links(const hnsw_t *idx, uint32_t slot, int layer)
{
    DASSERT(slot < idx->hn_count && layer <= idx->hn_levels[slot]);
    if (layer == 0)
        return idx->hn_links0 + (size_t)slot * (1 + idx->hn_m0);
    return idx->hn_upper[slot] + (size_t)(layer - 1) * (1 + idx->hn_m);
}

static inline uint32_t hnsw__max_links(const hnsw_t *idx, int layer)
{
    return layer == 0 ? idx->hn_m0 : idx->hn_m;
}

static inline float hnsw__dist_slots(const hnsw_t *idx, uint32_t a, uint32_t b)
{
    return idx->hn_dist(hnsw__vec(idx, a), hnsw__vec(idx, b), idx->hn_dim);
}

/* hnsw_build.c */
void hnsw__heap_push(hnsw__heap_t *h, float dist, uint32_t slot);
hnsw__pair_t hnsw__heap_pop(hnsw__heap_t *h);
int hnsw__map_put(hnsw__map_t *map, uint64_t id, uint32_t slot);
uint32_t hnsw__map_get(const hnsw__map_t *map, uint64_t id);
void hnsw__map_del(hnsw__map_t *map, uint64_t id);
int hnsw__map_reserve(hnsw__map_t *map, uint32_t entries);
int hnsw__grow(hnsw_t *idx, uint32_t capacity);
int hnsw__alloc(uint32_t dim, distance_metric_t metric, uint32_t m, uint32_t ef_construction,
                hnsw_t **out);
uint32_t hnsw__select(hnsw_t *idx, uint32_t base, hnsw__pair_t *cands, uint32_t n,
                      uint32_t max, uint32_t *out);
void hnsw__add_link(hnsw_t *idx, uint32_t from, uint32_t to, int layer);
int hnsw__prepare_query(hnsw_t *idx, const float *q, const float **qp);

/* hnsw_search.c */
uint32_t hnsw__descend(hnsw_t *idx, const float *q, int top, int stop);
uint32_t hnsw__search_layer(hnsw_t *idx, const float *q, const uint32_t *seeds,
                            uint32_t n_seeds, uint32_t ef, int layer, bool tombstones,
                            hnsw_filter_fn filter, void *arg);
void hnsw__visited_reset(hnsw_t *idx);
static inline bool hnsw__visit(hnsw_t *idx, uint32_t slot)
{
    if (idx->hn_visited[slot] == idx->hn_epoch)
        return false;
    idx->hn_visited[slot] = idx->hn_epoch;
    return true;
}

#endif
