/*
 * hnsw_build.c -- creating an index and inserting into it (Malkov & Yashunin,
 * Algorithms 1 and 4), plus the storage helpers every phase uses: heaps, the id map,
 * growth, neighbour selection and back-links.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "core/rt.h"
#include "vector/hnsw_int.h"

/* ---- heaps ---- */

void hnsw__heap_push(hnsw__heap_t *h, float dist, uint32_t slot)
{
    hnsw__pair_t *a = h->hh_items;
    uint32_t i = h->hh_size++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (a[parent].hp_dist >= dist)
            break;
        a[i] = a[parent];
        i = parent;
    }
    a[i] = (hnsw__pair_t){dist, slot};
}

hnsw__pair_t hnsw__heap_pop(hnsw__heap_t *h)
{
    DASSERT(h->hh_size > 0);
    hnsw__pair_t *a = h->hh_items;
    hnsw__pair_t top = a[0];
    hnsw__pair_t last = a[--h->hh_size];
    uint32_t n = h->hh_size, i = 0;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1].hp_dist > a[child].hp_dist)
            child++;
        if (a[child].hp_dist <= last.hp_dist)
            break;
        a[i] = a[child];
        i = child;
    }
    if (n > 0)
        a[i] = last;
    return top;
}

/* ---- id map ---- */

static inline uint32_t hnsw__map_home(const hnsw__map_t *map, uint64_t id)
{
    return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & map->hm_mask;
}

/* Makes room for entries keys at load <= 1/2, rehashing. HNSW_OK or HNSW_E_NOMEM
 * (the map is then unchanged). */
int hnsw__map_reserve(hnsw__map_t *map, uint32_t entries)
{
    uint32_t want = HNSW__CAPACITY_MIN;
    while (want < 2 * (uint64_t)entries)
        want *= 2;
    if (map->hm_keys != NULL && want <= map->hm_mask + 1)
        return HNSW_OK;
    uint64_t *keys = rt_malloc((size_t)want * sizeof(*keys));
    uint32_t *slots = rt_malloc((size_t)want * sizeof(*slots));
    if (keys == NULL || slots == NULL) {
        rt_free(keys);
        rt_free(slots);
        return HNSW_E_NOMEM;
    }
    memset(slots, 0xff, (size_t)want * sizeof(*slots));
    hnsw__map_t next = {keys, slots, want - 1, 0};
    for (uint32_t i = 0; map->hm_keys != NULL && i <= map->hm_mask; i++)
        if (map->hm_slots[i] != HNSW__NONE)
            hnsw__map_put(&next, map->hm_keys[i], map->hm_slots[i]);
    rt_free(map->hm_keys);
    rt_free(map->hm_slots);
    *map = next;
    return HNSW_OK;
}

/* Sets id -> slot (replacing an existing entry). Grows first; HNSW_E_NOMEM leaves the
 * map unchanged. */
int hnsw__map_put(hnsw__map_t *map, uint64_t id, uint32_t slot)
{
    if (hnsw__map_reserve(map, map->hm_size + 1) != HNSW_OK)
        return HNSW_E_NOMEM;
    uint32_t i = hnsw__map_home(map, id);
    while (map->hm_slots[i] != HNSW__NONE && map->hm_keys[i] != id)
        i = (i + 1) & map->hm_mask;
    if (map->hm_slots[i] == HNSW__NONE)
        map->hm_size++;
    map->hm_keys[i] = id;
    map->hm_slots[i] = slot;
    return HNSW_OK;
}

uint32_t hnsw__map_get(const hnsw__map_t *map, uint64_t id)
{
    if (map->hm_keys == NULL)
        return HNSW__NONE;
    uint32_t i = hnsw__map_home(map, id);
    while (map->hm_slots[i] != HNSW__NONE) {
        if (map->hm_keys[i] == id)
            return map->hm_slots[i];
        i = (i + 1) & map->hm_mask;
    }
    return HNSW__NONE;
}

/* Removes id; later entries of its probe run shift back so lookups need no graves. */
void hnsw__map_del(hnsw__map_t *map, uint64_t id)
{
    if (map->hm_keys == NULL)
        return;
    uint32_t i = hnsw__map_home(map, id);
    while (map->hm_slots[i] != HNSW__NONE && map->hm_keys[i] != id)
        i = (i + 1) & map->hm_mask;
    if (map->hm_slots[i] == HNSW__NONE)
        return;
    map->hm_size--;
    for (;;) {
        map->hm_slots[i] = HNSW__NONE;
        uint32_t j = i;
        for (;;) {
            j = (j + 1) & map->hm_mask;
            if (map->hm_slots[j] == HNSW__NONE)
                return;
            uint32_t home = hnsw__map_home(map, map->hm_keys[j]);
            /* j may move to i when home is not cyclically within (i, j]. */
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        map->hm_keys[i] = map->hm_keys[j];
        map->hm_slots[i] = map->hm_slots[j];
        i = j;
    }
}

/* ---- storage ---- */

/* Arrays a search reads at random (vectors, layer-0 lists) from this size up are
 * asked for transparent huge pages: a search touches a few hundred vectors spread
 * over the whole array, and with 4 KiB pages nearly each one is a TLB miss (a page
 * walk, costlier still under virtualization). */
#define HNSW__HUGE_MIN ((size_t)4 << 20)
#define HNSW__HUGE_PAGE ((size_t)2 << 20)

static void hnsw__advise_huge(void *p, size_t bytes)
{
    uintptr_t lo = ((uintptr_t)p + HNSW__HUGE_PAGE - 1) & ~(uintptr_t)(HNSW__HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HNSW__HUGE_PAGE - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);   /* a hint: failure is harmless */
}

/* Like rt_realloc, but a large array gets fresh memory that is advised for huge
 * pages before the old contents are copied in (copying faults the pages in, so the
 * advice has to come first). */
static void *hnsw__realloc_big(void *old, size_t old_bytes, size_t bytes)
{
    if (bytes < HNSW__HUGE_MIN)
        return rt_realloc(old, bytes);
    void *p = rt_malloc(bytes);
    if (p == NULL)
        return NULL;
    hnsw__advise_huge(p, bytes);
    if (old_bytes)
        memcpy(p, old, old_bytes < bytes ? old_bytes : bytes);
    rt_free(old);
    return p;
}

/* Grows every per-slot array (and the scratch sized by them) to capacity slots.
 * HNSW_OK or HNSW_E_NOMEM; on failure the arrays already grown stay grown, which
 * is harmless because hn_capacity only changes when all succeeded. */
int hnsw__grow(hnsw_t *idx, uint32_t capacity)
{
    if (capacity <= idx->hn_capacity)
        return HNSW_OK;
    if (capacity > LIMIT_HNSW_NODES)
        capacity = LIMIT_HNSW_NODES;
    size_t n = capacity;
    void *p;
#define HNSW__GROW(field, elems)                                                    \
    do {                                                                            \
        p = rt_realloc(idx->field, (elems) * sizeof(*idx->field));                  \
        if (p == NULL)                                                              \
            return HNSW_E_NOMEM;                                                    \
        idx->field = p;                                                             \
    } while (0)
#define HNSW__GROW_BIG(field, elems)                                                \
    do {                                                                            \
        p = hnsw__realloc_big(idx->field, (size_t)idx->hn_capacity * ((elems) / n) * sizeof(*idx->field), \
                              (elems) * sizeof(*idx->field));                        \
        if (p == NULL)                                                              \
            return HNSW_E_NOMEM;                                                    \
        idx->field = p;                                                             \
    } while (0)
    HNSW__GROW_BIG(hn_vectors, n * idx->hn_dim);
    HNSW__GROW(hn_ids, n);
    HNSW__GROW(hn_levels, n);
    HNSW__GROW(hn_deleted, n);
    HNSW__GROW_BIG(hn_links0, n * (1 + idx->hn_m0));
    HNSW__GROW(hn_upper, n);
    HNSW__GROW(hn_visited, n);
    HNSW__GROW(hn_cand.hh_items, n);
    HNSW__GROW(hn_res.hh_items, n);
#undef HNSW__GROW
#undef HNSW__GROW_BIG
    /* New visited tags must differ from the current epoch. */
    memset(idx->hn_visited + idx->hn_capacity, 0, (n - idx->hn_capacity) * sizeof(uint32_t));
    idx->hn_capacity = capacity;
    return HNSW_OK;
}

int hnsw__alloc(uint32_t dim, distance_metric_t metric, uint32_t m, uint32_t ef_construction,
                hnsw_t **out)
{
    if (dim < 1 || dim > LIMIT_VECTOR_DIMS || (unsigned)metric >= DISTANCE_METRIC_COUNT ||
        m < HNSW_M_MIN || m > HNSW_M_MAX || ef_construction < HNSW_EF_CONSTRUCTION_MIN ||
        ef_construction > HNSW_EF_CONSTRUCTION_MAX || ef_construction < 2 * m)
        return HNSW_E_ARG;
    hnsw_t *idx = rt_calloc(1, sizeof(*idx));
    if (idx == NULL)
        return HNSW_E_NOMEM;
    idx->hn_dim = dim;
    idx->hn_m = m;
    idx->hn_m0 = 2 * m;
    idx->hn_ef_construction = ef_construction;
    idx->hn_metric = metric;
    /* Cosine stores unit vectors, so -dot orders exactly like 1 - cos and is cheaper. */
    idx->hn_dist = distance_metric_fn(metric == DISTANCE_METRIC_COSINE ? DISTANCE_METRIC_IP : metric);
    idx->hn_level_mult = 1.0 / log((double)m);
    idx->hn_rng = 0x2545F4914F6CDD1Dull;
    idx->hn_entry = HNSW__NONE;
    idx->hn_max_level = -1;
    idx->hn_epoch = 1;
    idx->hn_sorted = rt_malloc((HNSW__SORTED_MAX + 1) * sizeof(hnsw__pair_t));
    idx->hn_query = rt_malloc((size_t)dim * sizeof(float));
    if (idx->hn_sorted == NULL || idx->hn_query == NULL || hnsw__map_reserve(&idx->hn_map, 0) != HNSW_OK ||
        hnsw__grow(idx, HNSW__CAPACITY_MIN) != HNSW_OK)
        goto fail;
    *out = idx;
    return HNSW_OK;
fail:
    hnsw_destroy(idx);
    return HNSW_E_NOMEM;
}

int hnsw_create(uint32_t dim, distance_metric_t metric, uint32_t m, uint32_t ef_construction,
                hnsw_t **out)
{
    return hnsw__alloc(dim, metric, m, ef_construction, out);
}

void hnsw_destroy(hnsw_t *idx)
{
    if (idx == NULL)
        return;
    for (uint32_t s = 0; idx->hn_upper != NULL && s < idx->hn_count; s++)
        rt_free(idx->hn_upper[s]);
    rt_free(idx->hn_vectors);
    rt_free(idx->hn_ids);
    rt_free(idx->hn_levels);
    rt_free(idx->hn_deleted);
    rt_free(idx->hn_links0);
    rt_free(idx->hn_upper);
    rt_free(idx->hn_visited);
    rt_free(idx->hn_cand.hh_items);
    rt_free(idx->hn_res.hh_items);
    rt_free(idx->hn_sorted);
    rt_free(idx->hn_query);
    rt_free(idx->hn_map.hm_keys);
    rt_free(idx->hn_map.hm_slots);
    rt_free(idx);
}

int hnsw_reserve(hnsw_t *idx, size_t count)
{
    if (count > LIMIT_HNSW_NODES)
        return HNSW_E_ARG;
    if (hnsw__map_reserve(&idx->hn_map, (uint32_t)count) != HNSW_OK)
        return HNSW_E_NOMEM;
    return hnsw__grow(idx, (uint32_t)count);
}

/* ---- neighbour selection (Algorithm 4, the heuristic) ---- */

/* From cands (sorted nearest-first by distance to base), keeps a candidate only when
 * it is closer to base than to every candidate already kept: this spreads the links
 * over directions, which keeps clustered data navigable. Writes at most max slots
 * to out; returns how many. base may be HNSW__NONE when only distances are known. */
uint32_t hnsw__select(hnsw_t *idx, uint32_t base, hnsw__pair_t *cands, uint32_t n,
                      uint32_t max, uint32_t *out)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n && kept < max; i++) {
        uint32_t c = cands[i].hp_slot;
        if (c == base)
            continue;
        bool good = true;
        for (uint32_t j = 0; j < kept; j++)
            if (hnsw__dist_slots(idx, c, out[j]) < cands[i].hp_dist) {
                good = false;
                break;
            }
        if (good)
            out[kept++] = c;
    }
    return kept;
}

static int hnsw__pair_cmp(const void *a, const void *b)
{
    const hnsw__pair_t *x = a, *y = b;
    if (x->hp_dist != y->hp_dist)
        return x->hp_dist < y->hp_dist ? -1 : 1;
    return x->hp_slot < y->hp_slot ? -1 : x->hp_slot > y->hp_slot;
}

/* Adds the link from -> to at layer; when the list is full, the heuristic picks the
 * best max_links among the old neighbours and to (to may lose). */
void hnsw__add_link(hnsw_t *idx, uint32_t from, uint32_t to, int layer)
{
    uint32_t *list = hnsw__links(idx, from, layer);
    uint32_t max = hnsw__max_links(idx, layer);
    for (uint32_t i = 1; i <= list[0]; i++)
        if (list[i] == to)
            return;
    if (list[0] < max) {
        list[++list[0]] = to;
        return;
    }
    /* A (1+2*M_MAX)-entry array on the stack: bounded by limits.h. */
    hnsw__pair_t cands[2 * LIMIT_HNSW_M_MAX + 1];
    uint32_t n = 0;
    for (uint32_t i = 1; i <= list[0]; i++)
        cands[n++] = (hnsw__pair_t){hnsw__dist_slots(idx, from, list[i]), list[i]};
    cands[n++] = (hnsw__pair_t){hnsw__dist_slots(idx, from, to), to};
    qsort(cands, n, sizeof(cands[0]), hnsw__pair_cmp);
    list[0] = hnsw__select(idx, from, cands, n, max, list + 1);
}

/* ---- insert (Algorithm 1) ---- */

static int hnsw__random_level(hnsw_t *idx)
{
    idx->hn_rng ^= idx->hn_rng >> 12;
    idx->hn_rng ^= idx->hn_rng << 25;
    idx->hn_rng ^= idx->hn_rng >> 27;
    uint64_t r = idx->hn_rng * 0x2545F4914F6CDD1Dull;
    double u = ((double)(r >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
    double level = -log(u) * idx->hn_level_mult;
    return level >= LIMIT_HNSW_LEVELS - 1 ? LIMIT_HNSW_LEVELS - 1 : (int)level;
}

/* For cosine, normalizes q into the query scratch; otherwise returns q unchanged.
 * HNSW_OK or HNSW_E_ZERO_NORM. */
int hnsw__prepare_query(hnsw_t *idx, const float *q, const float **qp)
{
    *qp = q;
    if (idx->hn_metric != DISTANCE_METRIC_COSINE)
        return HNSW_OK;
    float norm = distance_norm(q, idx->hn_dim);
    if (!(norm > 0.0f) || !isfinite(norm))
        return HNSW_E_ZERO_NORM;
    for (uint32_t i = 0; i < idx->hn_dim; i++)
        idx->hn_query[i] = q[i] / norm;
    *qp = idx->hn_query;
    return HNSW_OK;
}

/* Links the new slot into layers min(level, max_level)..0, starting the descent at
 * the entry point. Tombstones are valid neighbours here (as in hnswlib): excluding
 * them could leave a node inserted among tombstones with no links at all; repair
 * replaces them later. */
static void hnsw__link_new(hnsw_t *idx, uint32_t slot, int level)
{
    const float *v = hnsw__vec(idx, slot);
    uint32_t cur = hnsw__descend(idx, v, idx->hn_max_level, level);
    int top = level < idx->hn_max_level ? level : idx->hn_max_level;
    for (int layer = top; layer >= 0; layer--) {
        uint32_t n = hnsw__search_layer(idx, v, &cur, 1, idx->hn_ef_construction, layer, true, NULL, NULL);
        uint32_t *list = hnsw__links(idx, slot, layer);
        ASSERT(n > 0); /* tombstones count: the seed itself is a result */
        /* The new node picks M neighbours on every layer (hnswlib's choice); existing
         * nodes hold up to M0 on layer 0. */
        list[0] = hnsw__select(idx, slot, idx->hn_sorted, n, idx->hn_m, list + 1);
        cur = idx->hn_sorted[0].hp_slot;
        for (uint32_t i = 1; i <= list[0]; i++)
            hnsw__add_link(idx, list[i], slot, layer);
    }
}

int hnsw_insert(hnsw_t *idx, uint64_t id, const float *vec)
{
    if (hnsw__map_get(&idx->hn_map, id) != HNSW__NONE)
        return HNSW_E_EXISTS;
    if (idx->hn_count >= LIMIT_HNSW_NODES)
        return HNSW_E_FULL;
    /* NaN or Inf would break the distance order every search relies on; pgvector's
     * type input rejects them too ("NaN not allowed in vector"). */
    for (uint32_t i = 0; i < idx->hn_dim; i++)
        if (!isfinite(vec[i]))
            return HNSW_E_ARG;
    const float *v;
    int rc = hnsw__prepare_query(idx, vec, &v);
    if (rc != HNSW_OK)
        return rc;
    if (idx->hn_count == idx->hn_capacity) {
        uint64_t want = (uint64_t)idx->hn_capacity * 2;
        if (hnsw__grow(idx, want > LIMIT_HNSW_NODES ? LIMIT_HNSW_NODES : (uint32_t)want) != HNSW_OK)
            return HNSW_E_NOMEM;
    }
    uint32_t slot = idx->hn_count;
    int level = hnsw__random_level(idx);
    uint32_t *upper = NULL;
    if (level > 0) {
        size_t bytes = (size_t)level * (1 + idx->hn_m) * sizeof(uint32_t);
        upper = rt_malloc(bytes);
        if (upper == NULL)
            return HNSW_E_NOMEM;
        for (int l = 0; l < level; l++)
            upper[(size_t)l * (1 + idx->hn_m)] = 0;
        idx->hn_upper_bytes += bytes;
    }
    if (hnsw__map_put(&idx->hn_map, id, slot) != HNSW_OK) {
        if (upper != NULL)
            idx->hn_upper_bytes -= (size_t)level * (1 + idx->hn_m) * sizeof(uint32_t);
        rt_free(upper);
        return HNSW_E_NOMEM;
    }
    memcpy(hnsw__vec(idx, slot), v, (size_t)idx->hn_dim * sizeof(float));
    idx->hn_ids[slot] = id;
    idx->hn_levels[slot] = (uint8_t)level;
    idx->hn_deleted[slot] = 0;
    idx->hn_upper[slot] = upper;
    idx->hn_links0[(size_t)slot * (1 + idx->hn_m0)] = 0;
    idx->hn_count++;
    if (idx->hn_entry == HNSW__NONE) {
        idx->hn_entry = slot;
        idx->hn_max_level = level;
        return HNSW_OK;
    }
    hnsw__link_new(idx, slot, level);
    if (level > idx->hn_max_level) {
        idx->hn_entry = slot;
        idx->hn_max_level = level;
    }
    return HNSW_OK;
}

/* ---- accessors ---- */

size_t hnsw_count(const hnsw_t *idx) { return idx->hn_count - idx->hn_deleted_count; }
size_t hnsw_tombstones(const hnsw_t *idx) { return idx->hn_deleted_count; }
uint32_t hnsw_dim(const hnsw_t *idx) { return idx->hn_dim; }
distance_metric_t hnsw_metric(const hnsw_t *idx) { return idx->hn_metric; }
uint32_t hnsw_m(const hnsw_t *idx) { return idx->hn_m; }
uint32_t hnsw_ef_construction(const hnsw_t *idx) { return idx->hn_ef_construction; }

bool hnsw_contains(const hnsw_t *idx, uint64_t id)
{
    return hnsw__map_get(&idx->hn_map, id) != HNSW__NONE;
}

size_t hnsw_memory_bytes(const hnsw_t *idx)
{
    size_t cap = idx->hn_capacity;
    size_t per_slot = (size_t)idx->hn_dim * sizeof(float) + sizeof(uint64_t) + 2 +
                      (1 + (size_t)idx->hn_m0) * sizeof(uint32_t) + sizeof(uint32_t *) +
                      sizeof(uint32_t) + 2 * sizeof(hnsw__pair_t);
    size_t map = ((size_t)idx->hn_map.hm_mask + 1) * (sizeof(uint64_t) + sizeof(uint32_t));
    return sizeof(*idx) + cap * per_slot + idx->hn_upper_bytes + map +
           (HNSW__SORTED_MAX + 1) * sizeof(hnsw__pair_t) + (size_t)idx->hn_dim * sizeof(float);
}

const char *hnsw_strerror(int code)
{
    switch (code) {
    case HNSW_OK: return "ok";
    case HNSW_E_ARG: return "parameter out of bounds";
    case HNSW_E_NOMEM: return "out of memory";
    case HNSW_E_EXISTS: return "id already in the index";
    case HNSW_E_NOTFOUND: return "id not in the index";
    case HNSW_E_FULL: return "index is full";
    case HNSW_E_ZERO_NORM: return "zero vector has no direction for cosine distance";
    case HNSW_E_IO: return "I/O error";
    case HNSW_E_CORRUPT: return "index file is corrupt";
    case HNSW_E_VERSION: return "index file version not supported";
    default: return "unknown error";
    }
}
