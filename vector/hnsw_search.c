/*
 * hnsw_search.c -- searching: greedy descent through the upper layers, the
 * ef-bounded beam search of one layer (Algorithm 2) with tombstone/filter handling,
 * the public top-k search and the exact brute-force search.
 */
#include <string.h>

#include "vector/hnsw_int.h"

/* Starts a new visited set: bumping the epoch invalidates every tag at once; only
 * when the 32-bit epoch wraps is the array cleared. */
void hnsw__visited_reset(hnsw_t *idx)
{
    idx->hn_epoch++;
    if (idx->hn_epoch == 0) {
        memset(idx->hn_visited, 0, (size_t)idx->hn_capacity * sizeof(uint32_t));
        idx->hn_epoch = 1;
    }
}

/* Greedy walk from the entry point down layers top..stop+1: on each layer move to the
 * closest neighbour until none is closer. Tombstones route like live nodes. Returns
 * the slot reached (the seed for layer stop). */
uint32_t hnsw__descend(hnsw_t *idx, const float *q, int top, int stop)
{
    uint32_t cur = idx->hn_entry;
    float cur_dist = idx->hn_dist(q, hnsw__vec(idx, cur), idx->hn_dim);
    for (int layer = top; layer > stop; layer--) {
        bool moved = true;
        while (moved) {
            moved = false;
            const uint32_t *list = hnsw__links(idx, cur, layer);
            for (uint32_t i = 1; i <= list[0]; i++) {
                float d = idx->hn_dist(q, hnsw__vec(idx, list[i]), idx->hn_dim);
                if (d < cur_dist) {
                    cur_dist = d;
                    cur = list[i];
                    moved = true;
                }
            }
        }
    }
    return cur;
}

static inline bool hnsw__accept(const hnsw_t *idx, uint32_t slot, bool tombstones,
                                hnsw_filter_fn filter, void *arg)
{
    return (tombstones || !idx->hn_deleted[slot]) && (filter == NULL || filter(idx->hn_ids[slot], arg));
}

/* Beam search of one layer from the seeds. The result heap holds only accepted nodes
 * (live -- or any, when tombstones is true, as construction wants -- and passing the
 * filter), at most ef; every visited node may route. A
 * neighbour is queued while the result heap is not full or it is closer than the
 * worst result, and the search stops when the nearest queued node is farther than a
 * full heap's worst. So with few accepted nodes it keeps exploring best-first until
 * ef are found or the reachable graph is exhausted. Writes the results nearest-first
 * to hn_sorted and returns their count (<= ef). */
uint32_t hnsw__search_layer(hnsw_t *idx, const float *q, const uint32_t *seeds,
                            uint32_t n_seeds, uint32_t ef, int layer, bool tombstones,
                            hnsw_filter_fn filter, void *arg)
{
    ASSERT(ef >= 1 && ef <= HNSW__SORTED_MAX);
    hnsw__heap_t *cand = &idx->hn_cand, *res = &idx->hn_res;
    cand->hh_size = 0;
    res->hh_size = 0;
    hnsw__visited_reset(idx);
    for (uint32_t i = 0; i < n_seeds; i++) {
        uint32_t s = seeds[i];
        if (!hnsw__visit(idx, s))
            continue;
        float d = idx->hn_dist(q, hnsw__vec(idx, s), idx->hn_dim);
        hnsw__heap_push(cand, -d, s);
        if (hnsw__accept(idx, s, tombstones, filter, arg)) {
            hnsw__heap_push(res, d, s);
            if (res->hh_size > ef)
                hnsw__heap_pop(res);
        }
    }
    const uint32_t dim = idx->hn_dim;
    while (cand->hh_size > 0) {
        hnsw__pair_t c = hnsw__heap_pop(cand);
        if (res->hh_size >= ef && -c.hp_dist > res->hh_items[0].hp_dist)
            break;
        const uint32_t *list = hnsw__links(idx, c.hp_slot, layer);
        uint32_t n = list[0];
        for (uint32_t i = 1; i <= n; i++)
            __builtin_prefetch(&idx->hn_visited[list[i]]);
        for (uint32_t i = 1; i <= n; i++) {
            uint32_t s = list[i];
            if (i < n)
                __builtin_prefetch(hnsw__vec(idx, list[i + 1]));
            if (!hnsw__visit(idx, s))
                continue;
            float d = idx->hn_dist(q, hnsw__vec(idx, s), dim);
            if (res->hh_size < ef || d < res->hh_items[0].hp_dist) {
                hnsw__heap_push(cand, -d, s);
                if (hnsw__accept(idx, s, tombstones, filter, arg)) {
                    hnsw__heap_push(res, d, s);
                    if (res->hh_size > ef)
                        hnsw__heap_pop(res);
                }
            }
        }
    }
    uint32_t count = res->hh_size;
    for (uint32_t i = count; i > 0; i--)
        idx->hn_sorted[i - 1] = hnsw__heap_pop(res);
    return count;
}

/* Copies the first k results of hn_sorted to out, translating slots to ids and
 * ordering distances back to the metric's definition (cosine: 1 - dot). */
static uint32_t hnsw__emit(const hnsw_t *idx, uint32_t n, uint32_t k, hnsw_result_t *out)
{
    if (n > k)
        n = k;
    for (uint32_t i = 0; i < n; i++) {
        float d = idx->hn_sorted[i].hp_dist;
        if (idx->hn_metric == DISTANCE_METRIC_COSINE)
            d = 1.0f + d;
        out[i] = (hnsw_result_t){idx->hn_ids[idx->hn_sorted[i].hp_slot], d};
    }
    return n;
}

int hnsw_search(hnsw_t *idx, const float *q, uint32_t k, uint32_t ef, hnsw_filter_fn filter,
                void *arg, hnsw_result_t *out, uint32_t *n_out)
{
    *n_out = 0;
    if (k < 1 || k > LIMIT_HNSW_K_MAX || ef < HNSW_EF_SEARCH_MIN || ef > HNSW_EF_SEARCH_MAX)
        return HNSW_E_ARG;
    const float *qp;
    int rc = hnsw__prepare_query(idx, q, &qp);
    if (rc != HNSW_OK)
        return rc;
    if (idx->hn_entry == HNSW__NONE || hnsw_count(idx) == 0)
        return HNSW_OK;
    uint32_t beam = ef > k ? ef : k;
    if (beam >= hnsw_count(idx)) {
        /* A beam that can hold every live node would visit them all anyway: the exact
         * scan is cheaper and is exact even where the graph is not fully navigable
         * (inner product). */
        return hnsw_search_exact(idx, q, k, filter, arg, out, n_out);
    }
    /* Seed layer 0 with the descent's end and the entry point: the entry point costs
     * one distance, and with it an exhaustive search (few accepted nodes) covers
     * everything reachable from the entry point, which repair guarantees is all. */
    uint32_t seeds[2] = {hnsw__descend(idx, qp, idx->hn_max_level, 0), idx->hn_entry};
    uint32_t n = hnsw__search_layer(idx, qp, seeds, 2, beam, 0, false, filter, arg);
    *n_out = hnsw__emit(idx, n, k, out);
    return HNSW_OK;
}

int hnsw_search_exact(hnsw_t *idx, const float *q, uint32_t k, hnsw_filter_fn filter,
                      void *arg, hnsw_result_t *out, uint32_t *n_out)
{
    *n_out = 0;
    if (k < 1 || k > LIMIT_HNSW_K_MAX)
        return HNSW_E_ARG;
    const float *qp;
    int rc = hnsw__prepare_query(idx, q, &qp);
    if (rc != HNSW_OK)
        return rc;
    hnsw__heap_t *res = &idx->hn_res;
    res->hh_size = 0;
    for (uint32_t s = 0; s < idx->hn_count; s++) {
        if (!hnsw__accept(idx, s, false, filter, arg))
            continue;
        float d = idx->hn_dist(qp, hnsw__vec(idx, s), idx->hn_dim);
        if (res->hh_size < k) {
            hnsw__heap_push(res, d, s);
        } else if (d < res->hh_items[0].hp_dist) {
            hnsw__heap_pop(res);
            hnsw__heap_push(res, d, s);
        }
    }
    uint32_t count = res->hh_size;
    for (uint32_t i = count; i > 0; i--)
        idx->hn_sorted[i - 1] = hnsw__heap_pop(res);
    *n_out = hnsw__emit(idx, count, k, out);
    return HNSW_OK;
}
