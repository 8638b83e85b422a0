/*
 * memtable.c -- the store's in-memory ordered map: a skip list (Pugh 1990, p = 1/4) of
 * nodes keyed by (table_id, key bytes), each holding an MVCC version chain newest
 * first. See store_int.h for the invariants.
 *
 * Deviation from a textbook skip list: unlinking never frees a node while an iterator
 * is open, because an iterator keeps a pointer to its current node across fiber
 * suspensions. Such nodes wait on mt->dead until the last iterator closes; their
 * next[0] pointers are never changed after unlinking, so an iterator standing on one
 * walks forward (in key order) until it is back on a linked node.
 */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/rt.h"
#include "shards/store_int.h"

int memtable_init(memtable_t *mt)
{
    memset(mt, 0, sizeof *mt);
    size_t sz = sizeof(mt_node_t) + LIMIT_MEMTABLE_HEIGHT * sizeof(mt_node_t *);
    mt->head = rt_calloc(1, sz);
    if (!mt->head)
        return STORE_ENOMEM;
    mt->head->height = LIMIT_MEMTABLE_HEIGHT;
    mt->height = 1;
    mt->rng = 0x9E3779B97F4A7C15ull;
    mt->bytes = sz;
    return 0;
}

static void memtable_node_free(memtable_t *mt, mt_node_t *n)
{
    mt_ver_t *v = n->vers;
    while (v) {
        mt_ver_t *next = v->next;
        memtable_ver_free(mt, v);
        v = next;
    }
    mt->bytes -= sizeof(mt_node_t) + n->height * sizeof(mt_node_t *) + n->klen;
    rt_free(n);
}

void memtable_free(memtable_t *mt)
{
    if (!mt->head)
        return;
    mt_node_t *n = mt->head->next[0];
    while (n) {
        mt_node_t *next = n->next[0];
        memtable_node_free(mt, n);
        n = next;
    }
    mt->iters_open = 0;
    memtable_reap(mt);
    rt_free(mt->head);
    mt->head = NULL;
}

int memtable_cmp(uint32_t ta, const uint8_t *ka, uint32_t la, uint32_t tb, const uint8_t *kb,
                 uint32_t lb)
{
    if (ta != tb)
        return ta < tb ? -1 : 1;
    uint32_t m = la < lb ? la : lb;
    int c = m ? memcmp(ka, kb, m) : 0;
    if (c)
        return c;
    return la == lb ? 0 : (la < lb ? -1 : 1);
}

static int memtable_node_cmp(const mt_node_t *n, uint32_t t, const uint8_t *k, uint32_t l)
{
    return memtable_cmp(n->table_id, mt_key(n), n->klen, t, k, l);
}

/* Fills preds[i] with the last node < key on every level; returns the first node >= key. */
static mt_node_t *memtable_search(memtable_t *mt, uint32_t t, const uint8_t *k, uint32_t l,
                                  mt_node_t **preds)
{
    mt_node_t *x = mt->head;
    for (int i = LIMIT_MEMTABLE_HEIGHT - 1; i >= 0; i--) {
        while (x->next[i] && memtable_node_cmp(x->next[i], t, k, l) < 0)
            x = x->next[i];
        if (preds)
            preds[i] = x;
    }
    return x->next[0];
}

mt_node_t *memtable_seek(memtable_t *mt, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    return memtable_search(mt, table_id, key, klen, NULL);
}

mt_node_t *memtable_find(memtable_t *mt, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    mt_node_t *n = memtable_search(mt, table_id, key, klen, NULL);
    return n && memtable_node_cmp(n, table_id, key, klen) == 0 ? n : NULL;
}

static int memtable_random_height(memtable_t *mt)
{
    /* xorshift64; two bits per level gives p = 1/4. */
    uint64_t x = mt->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    mt->rng = x;
    int h = 1;
    while (h < LIMIT_MEMTABLE_HEIGHT && (x & 3) == 0) {
        h++;
        x >>= 2;
    }
    return h;
}

mt_node_t *memtable_upsert(memtable_t *mt, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    mt_node_t *preds[LIMIT_MEMTABLE_HEIGHT];
    mt_node_t *n = memtable_search(mt, table_id, key, klen, preds);
    if (n && memtable_node_cmp(n, table_id, key, klen) == 0)
        return n;
    int h = memtable_random_height(mt);
    size_t sz = sizeof(mt_node_t) + (size_t)h * sizeof(mt_node_t *) + klen;
    n = rt_malloc(sz);
    if (!n)
        return NULL;
    memset(n, 0, sizeof(mt_node_t));
    n->table_id = table_id;
    n->klen = klen;
    n->height = (uint8_t)h;
    if (klen)
        memcpy((uint8_t *)mt_key(n), key, klen);
    for (int i = 0; i < h; i++) {
        n->next[i] = preds[i]->next[i];
        preds[i]->next[i] = n;
    }
    if (h > mt->height)
        mt->height = h;
    mt->bytes += sz;
    mt->keys++;
    return n;
}

static void memtable_unlink(memtable_t *mt, mt_node_t *n)
{
    mt_node_t *preds[LIMIT_MEMTABLE_HEIGHT];
    mt_node_t *x = memtable_search(mt, n->table_id, mt_key(n), n->klen, preds);
    ASSERT(x == n);
    for (int i = 0; i < n->height; i++) {
        ASSERT(preds[i]->next[i] == n);
        preds[i]->next[i] = n->next[i];
    }
    mt->keys--;
}

void memtable_remove(memtable_t *mt, mt_node_t *n)
{
    memtable_unlink(mt, n);
    if (mt->iters_open > 0) {
        n->dead_next = mt->dead;
        mt->dead = n;
    } else {
        memtable_node_free(mt, n);
    }
}

void memtable_reap_unreferenced(memtable_t *mt)
{
    while (mt->dead) {
        mt_node_t *n = mt->dead;
        mt->dead = n->dead_next;
        memtable_node_free(mt, n);
    }
}

void memtable_reap(memtable_t *mt)
{
    ASSERT(mt->iters_open == 0);
    while (mt->dead) {
        mt_node_t *n = mt->dead;
        mt->dead = n->dead_next;
        memtable_node_free(mt, n);
    }
}

mt_ver_t *memtable_ver_new(memtable_t *mt, int kind, uint64_t txn_id, uint64_t commit_ts,
                           const uint8_t *val, uint32_t vlen)
{
    if (kind != MT_VALUE)
        vlen = 0;
    mt_ver_t *v = rt_malloc(sizeof(mt_ver_t) + vlen);
    if (!v)
        return NULL;
    v->next = NULL;
    v->commit_ts = commit_ts;
    v->txn_id = txn_id;
    v->vlen = vlen;
    v->kind = (uint8_t)kind;
    if (vlen)
        memcpy(v->val, val, vlen);
    mt->bytes += sizeof(mt_ver_t) + vlen;
    mt->vers++;
    mt->news++;
    return v;
}

void memtable_ver_free(memtable_t *mt, mt_ver_t *v)
{
    mt->bytes -= sizeof(mt_ver_t) + v->vlen;
    mt->vers--;
    rt_free(v);
}

void memtable_link_committed(mt_node_t *n, mt_ver_t *v)
{
    DASSERT(v->txn_id == 0);
    mt_ver_t **pp = &n->vers;
    while (*pp && ((*pp)->txn_id != 0 || (*pp)->commit_ts > v->commit_ts))
        pp = &(*pp)->next;
    v->next = *pp;
    *pp = v;
}

bool store_debug_dirty_reads;

mt_ver_t *memtable_visible(const mt_node_t *n, uint64_t txn_id, uint64_t snap_ts)
{
    for (mt_ver_t *v = n->vers; v; v = v->next) {
        if (v->txn_id) {
            if ((v->txn_id == txn_id || store_debug_dirty_reads) && v->kind != MT_LOCK)
                return v;
            continue;
        }
        if (v->commit_ts <= snap_ts)
            return v;
    }
    return NULL;
}

mt_ver_t *memtable_newest_committed(const mt_node_t *n)
{
    mt_ver_t *v = n->vers;
    while (v && v->txn_id)
        v = v->next;
    return v;
}

/* Frees every committed version of n (an intent at the head stays). */
static void memtable_drop_committed(memtable_t *mt, mt_node_t *n)
{
    mt_ver_t **pp = n->vers && n->vers->txn_id ? &n->vers->next : &n->vers;
    mt_ver_t *v = *pp;
    *pp = NULL;
    while (v) {
        mt_ver_t *vn = v->next;
        memtable_ver_free(mt, v);
        v = vn;
    }
}

void memtable_clear_table(memtable_t *mt, uint32_t table_id)
{
    mt_node_t *n = memtable_seek(mt, table_id, NULL, 0);
    while (n && n->table_id == table_id) {
        mt_node_t *next = n->next[0];
        /* The versions go now, so a reader (even an iterator standing on an unlinked
         * node) sees the table as cleared; a live transaction's intent survives. */
        memtable_drop_committed(mt, n);
        if (!n->vers)
            memtable_remove(mt, n);
        n = next;
    }
}
