/*
 * hnsw_delete.c -- deletes as tombstones, and the repair pass that removes them.
 *
 * Repair has three steps (vector/README.md, "Deletes and repair"):
 *   1. relink: every live node whose list (on any layer) names a tombstone gets a new
 *      list chosen by the heuristic from its live neighbours plus the live neighbours
 *      of those tombstones (the nodes the tombstone used to connect it to); when that
 *      leaves fewer than the layer's maximum, an ef_construction search for the node
 *      adds more candidates.
 *   2. compact: live slots move down over the tombstones; neighbour numbers, the id
 *      map and the entry point are rewritten.
 *   3. reach: a breadth-first walk of layer 0 from the entry point finds live nodes no
 *      path reaches; each is linked from its nearest reachable nodes. Repeated up to
 *      LIMIT_HNSW_REPAIR_ROUNDS times.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rt.h"
#include "vector/hnsw_int.h"

int hnsw_delete(hnsw_t *idx, uint64_t id)
{
    uint32_t slot = hnsw__map_get(&idx->hn_map, id);
    if (slot == HNSW__NONE)
        return HNSW_E_NOTFOUND;
    ASSERT(slot < idx->hn_count && !idx->hn_deleted[slot]);
    idx->hn_deleted[slot] = 1;
    idx->hn_deleted_count++;
    hnsw__map_del(&idx->hn_map, id);
    return HNSW_OK;
}

static int hnsw__pair_cmp(const void *a, const void *b)
{
    const hnsw__pair_t *x = a, *y = b;
    if (x->hp_dist != y->hp_dist)
        return x->hp_dist < y->hp_dist ? -1 : 1;
    return x->hp_slot < y->hp_slot ? -1 : x->hp_slot > y->hp_slot;
}

/* Appends slot to the candidate array unless already there (linear check: the array
 * is a few hundred entries at most per list). */
static void hnsw__cand_add(hnsw_t *idx, uint32_t base, uint32_t slot, hnsw__pair_t *cands,
                           uint32_t *n)
{
    if (slot == base || idx->hn_deleted[slot])
        return;
    for (uint32_t i = 0; i < *n; i++)
        if (cands[i].hp_slot == slot)
            return;
    cands[(*n)++] = (hnsw__pair_t){hnsw__dist_slots(idx, base, slot), slot};
}

/* Step 1 for one list: u at layer. cands has room for (1+M0)^2 + ef_construction. */
static bool hnsw__relink(hnsw_t *idx, uint32_t u, int layer, hnsw__pair_t *cands)
{
    uint32_t *list = hnsw__links(idx, u, layer);
    bool touched = false;
    for (uint32_t i = 1; i <= list[0]; i++)
        if (idx->hn_deleted[list[i]])
            touched = true;
    if (!touched)
        return false;
    uint32_t n = 0, max = hnsw__max_links(idx, layer);
    for (uint32_t i = 1; i <= list[0]; i++) {
        uint32_t v = list[i];
        if (!idx->hn_deleted[v]) {
            hnsw__cand_add(idx, u, v, cands, &n);
            continue;
        }
        const uint32_t *vl = hnsw__links(idx, v, layer);
        for (uint32_t j = 1; j <= vl[0]; j++)
            hnsw__cand_add(idx, u, vl[j], cands, &n);
    }
    if (n < max) {
        /* Too few nearby survivors: search for u's neighbourhood on this layer. */
        const float *q = hnsw__vec(idx, u);
        uint32_t seed = hnsw__descend(idx, q, idx->hn_max_level, layer);
        uint32_t found = hnsw__search_layer(idx, q, &seed, 1, idx->hn_ef_construction, layer,
                                            false, NULL, NULL);
        for (uint32_t i = 0; i < found; i++)
            hnsw__cand_add(idx, u, idx->hn_sorted[i].hp_slot, cands, &n);
    }
    qsort(cands, n, sizeof(cands[0]), hnsw__pair_cmp);
    list[0] = hnsw__select(idx, u, cands, n, max, list + 1);
    return true;
}

/* Step 2. Returns nothing: compaction only moves memory down. */
static void hnsw__compact(hnsw_t *idx)
{
    uint32_t *remap = idx->hn_visited; /* reused as old slot -> new slot */
    uint32_t next = 0, best = HNSW__NONE;
    bool entry_live = idx->hn_entry != HNSW__NONE && !idx->hn_deleted[idx->hn_entry];
    for (uint32_t s = 0; s < idx->hn_count; s++) {
        if (idx->hn_deleted[s]) {
            remap[s] = HNSW__NONE;
            if (idx->hn_upper[s] != NULL) {
                idx->hn_upper_bytes -= (size_t)idx->hn_levels[s] * (1 + idx->hn_m) * sizeof(uint32_t);
                rt_free(idx->hn_upper[s]);
                idx->hn_upper[s] = NULL;
            }
            continue;
        }
        remap[s] = next;
        if (next != s) {
            memcpy(hnsw__vec(idx, next), hnsw__vec(idx, s), (size_t)idx->hn_dim * sizeof(float));
            memcpy(idx->hn_links0 + (size_t)next * (1 + idx->hn_m0),
                   idx->hn_links0 + (size_t)s * (1 + idx->hn_m0), (1 + (size_t)idx->hn_m0) * sizeof(uint32_t));
            idx->hn_ids[next] = idx->hn_ids[s];
            idx->hn_levels[next] = idx->hn_levels[s];
            idx->hn_upper[next] = idx->hn_upper[s];
            idx->hn_deleted[next] = 0;
        }
        if (best == HNSW__NONE || idx->hn_levels[next] > idx->hn_levels[best])
            best = next;
        next++;
    }
    /* Keep the old entry point when it survives, else the highest survivor. */
    uint32_t entry = entry_live ? remap[idx->hn_entry] : best;
    int max_level = entry == HNSW__NONE ? -1 : idx->hn_levels[entry];
    idx->hn_count = next;
    idx->hn_deleted_count = 0;
    idx->hn_entry = entry;
    idx->hn_max_level = max_level;
    for (uint32_t s = 0; s < next; s++)
        for (int layer = 0; layer <= idx->hn_levels[s]; layer++) {
            uint32_t *list = hnsw__links(idx, s, layer), kept = 0;
            for (uint32_t i = 1; i <= list[0]; i++)
                if (remap[list[i]] != HNSW__NONE) /* step 1 left none; defensive */
                    list[++kept] = remap[list[i]];
            list[0] = kept;
        }
    /* Visited tags were overwritten: start a clean epoch. */
    memset(idx->hn_visited, 0, (size_t)idx->hn_capacity * sizeof(uint32_t));
    idx->hn_epoch = 1;
    idx->hn_map.hm_size = 0;
    memset(idx->hn_map.hm_slots, 0xff, ((size_t)idx->hn_map.hm_mask + 1) * sizeof(uint32_t));
    for (uint32_t s = 0; s < next; s++)
        (void)hnsw__map_put(&idx->hn_map, idx->hn_ids[s], s); /* capacity suffices */
}

/* Marks every slot reachable on layer 0 from the entry point with the current epoch
 * (queue: a caller array of hn_count entries). Returns how many live slots it missed. */
static uint32_t hnsw__reach(hnsw_t *idx, uint32_t *queue)
{
    hnsw__visited_reset(idx);
    if (idx->hn_entry == HNSW__NONE)
        return 0;
    uint32_t head = 0, tail = 0;
    hnsw__visit(idx, idx->hn_entry);
    queue[tail++] = idx->hn_entry;
    while (head < tail) {
        const uint32_t *list = hnsw__links(idx, queue[head++], 0);
        for (uint32_t i = 1; i <= list[0]; i++)
            if (hnsw__visit(idx, list[i]))
                queue[tail++] = list[i];
    }
    return idx->hn_count - tail;
}

/* Step 3 for one unreachable slot u: links it from the nearest reachable nodes;
 * when the heuristic would drop it everywhere, it replaces the farthest link of the
 * nearest one. */
static void hnsw__attach(hnsw_t *idx, uint32_t u)
{
    const float *q = hnsw__vec(idx, u);
    uint32_t seed = hnsw__descend(idx, q, idx->hn_max_level, 0);
    uint32_t found = hnsw__search_layer(idx, q, &seed, 1, idx->hn_ef_construction, 0, false, NULL, NULL);
    uint32_t linked = 0, nearest = HNSW__NONE;
    uint32_t targets[2 * LIMIT_HNSW_M_MAX];
    uint32_t n_targets = 0;
    for (uint32_t i = 0; i < found && n_targets < idx->hn_m; i++)
        if (idx->hn_sorted[i].hp_slot != u)
            targets[n_targets++] = idx->hn_sorted[i].hp_slot;
    for (uint32_t i = 0; i < n_targets; i++) {
        if (nearest == HNSW__NONE)
            nearest = targets[i];
        hnsw__add_link(idx, targets[i], u, 0);
        const uint32_t *list = hnsw__links(idx, targets[i], 0);
        for (uint32_t j = 1; j <= list[0]; j++)
            linked += list[j] == u;
    }
    if (linked == 0 && nearest != HNSW__NONE) {
        uint32_t *list = hnsw__links(idx, nearest, 0);
        uint32_t worst = 1;
        float worst_dist = -1.0f;
        for (uint32_t j = 1; j <= list[0]; j++) {
            float d = hnsw__dist_slots(idx, nearest, list[j]);
            if (d > worst_dist) {
                worst_dist = d;
                worst = j;
            }
        }
        if (list[0] == 0)
            list[0] = 1;
        list[worst] = u;
    }
}

int hnsw_repair(hnsw_t *idx, hnsw_repair_stats_t *stats)
{
    hnsw_repair_stats_t st = {0, 0, 0};
    size_t cand_cap = (size_t)(1 + idx->hn_m0) * (1 + idx->hn_m0) + idx->hn_ef_construction;
    hnsw__pair_t *cands = rt_malloc(cand_cap * sizeof(*cands));
    uint32_t *queue = rt_malloc(((size_t)idx->hn_count + 1) * sizeof(*queue));
    uint32_t *missing = rt_malloc(((size_t)idx->hn_count + 1) * sizeof(*missing));
    int rc = HNSW_E_NOMEM;
    if (cands == NULL || queue == NULL || missing == NULL)
        goto done;
    if (idx->hn_deleted_count > 0) {
        for (uint32_t u = 0; u < idx->hn_count; u++) {
            if (idx->hn_deleted[u])
                continue;
            bool relinked = false;
            for (int layer = idx->hn_levels[u]; layer >= 0; layer--)
                relinked |= hnsw__relink(idx, u, layer, cands);
            st.relinked_count += relinked;
        }
        st.removed_count = idx->hn_deleted_count;
        hnsw__compact(idx);
    }
    for (int round = 0; round < LIMIT_HNSW_REPAIR_ROUNDS; round++) {
        uint32_t lost = hnsw__reach(idx, queue);
        st.unreachable_count = lost;
        if (lost == 0)
            break;
        uint32_t n_missing = 0;
        for (uint32_t s = 0; s < idx->hn_count; s++)
            if (idx->hn_visited[s] != idx->hn_epoch)
                missing[n_missing++] = s;
        for (uint32_t i = 0; i < n_missing; i++)
            hnsw__attach(idx, missing[i]);
        st.unreachable_count = hnsw__reach(idx, queue);
    }
    rc = HNSW_OK;
done:
    rt_free(cands);
    rt_free(queue);
    rt_free(missing);
    if (stats != NULL)
        *stats = st;
    return rc;
}
