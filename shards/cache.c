/*
 * cache.c -- segmented-LRU block cache (contract and model: shards/cache.h; design:
 * shards/README.md, "Block cache").
 *
 * Entries sit in a chained hash table keyed by (file number, block number) and on one
 * of two doubly linked lists, each ordered hot (head) to cold (tail): probation and
 * protected. Byte accounting counts the decoded block allocation plus the entry; the
 * cache never holds more than capacity_bytes after a call returns.
 */
#include <string.h>

#include "core/assert.h"
#include "core/rt.h"
#include "shards/cache.h"

enum { CACHE_PROBATION = 0, CACHE_PROTECTED = 1 };

typedef struct cache_ent {
    uint64_t file_no;
    uint32_t block_no;
    uint8_t seg;                 /* CACHE_PROBATION / CACHE_PROTECTED */
    size_t bytes;
    sst_block_t *blk;
    struct cache_ent *hnext;     /* hash chain */
    struct cache_ent *prev, *next;   /* list, hot -> cold */
} cache_ent_t;

typedef struct cache_list {
    cache_ent_t *head, *tail;
    size_t bytes;
} cache_list_t;

struct cache {
    size_t cap, bytes;
    cache_ent_t **buckets;
    size_t buckets_count, entries;
    cache_list_t seg[2];
    uint64_t hits, misses, evictions, inserts, put_bytes;
};

cache_t *cache_new(size_t capacity_bytes)
{
    cache_t *c = rt_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = capacity_bytes;
    c->buckets_count = 256;
    c->buckets = rt_calloc(c->buckets_count, sizeof *c->buckets);
    if (!c->buckets) {
        rt_free(c);
        return NULL;
    }
    return c;
}

static size_t cache__slot(const cache_t *c, uint64_t file_no, uint32_t block_no)
{
    uint64_t h = (file_no * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)block_no * 0xC2B2AE3D27D4EB4Full);
    h ^= h >> 29;
    return (size_t)h & (c->buckets_count - 1);
}

static void cache__unlink(cache_t *c, cache_ent_t *e)
{
    cache_list_t *l = &c->seg[e->seg];
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
    l->bytes -= e->bytes;
}

static void cache__link_head(cache_t *c, cache_ent_t *e, int seg)
{
    cache_list_t *l = &c->seg[seg];
    e->seg = (uint8_t)seg;
    e->prev = NULL;
    e->next = l->head;
    if (l->head)
        l->head->prev = e;
    else
        l->tail = e;
    l->head = e;
    l->bytes += e->bytes;
}

static void cache__link_tail(cache_t *c, cache_ent_t *e, int seg)
{
    cache_list_t *l = &c->seg[seg];
    e->seg = (uint8_t)seg;
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->bytes += e->bytes;
}

static cache_ent_t **cache__find(cache_t *c, uint64_t file_no, uint32_t block_no)
{
    cache_ent_t **pp = &c->buckets[cache__slot(c, file_no, block_no)];
    while (*pp && ((*pp)->file_no != file_no || (*pp)->block_no != block_no))
        pp = &(*pp)->hnext;
    return pp;
}

/* Unhooks and frees the entry at *pp (its hash link), dropping the cache's reference. */
static void cache__remove(cache_t *c, cache_ent_t **pp)
{
    cache_ent_t *e = *pp;
    *pp = e->hnext;
    cache__unlink(c, e);
    c->bytes -= e->bytes;
    c->entries--;
    sst_block_free(e->blk);
    rt_free(e);
}

/* Evicts from probation's cold end, then protected's, until bytes <= cap. */
static void cache__shrink(cache_t *c)
{
    while (c->bytes > c->cap) {
        cache_ent_t *v = c->seg[CACHE_PROBATION].tail ? c->seg[CACHE_PROBATION].tail
                                                       : c->seg[CACHE_PROTECTED].tail;
        ASSERT(v);
        cache__remove(c, cache__find(c, v->file_no, v->block_no));
        c->evictions++;
    }
}

/* Protected is capped at 3/4 of the capacity: its cold end goes back to probation. */
static void cache__balance(cache_t *c)
{
    size_t cap = c->cap / 4 * 3;
    while (c->seg[CACHE_PROTECTED].bytes > cap && c->seg[CACHE_PROTECTED].tail) {
        cache_ent_t *e = c->seg[CACHE_PROTECTED].tail;
        cache__unlink(c, e);
        cache__link_head(c, e, CACHE_PROBATION);
    }
}

sst_block_t *cache_get(cache_t *c, uint64_t file_no, uint32_t block_no, int mode)
{
    cache_ent_t *e = *cache__find(c, file_no, block_no);
    if (!e) {
        c->misses++;
        return NULL;
    }
    c->hits++;
    if (mode == CACHE_HOT) {
        cache__unlink(c, e);
        cache__link_head(c, e, CACHE_PROTECTED);
        cache__balance(c);
    }
    sst_block_ref(e->blk);
    return e->blk;
}

static void cache__grow(cache_t *c)
{
    size_t nb = c->buckets_count * 2;
    cache_ent_t **nt = rt_calloc(nb, sizeof *nt);
    if (!nt)
        return;    /* longer chains, still correct */
    cache_ent_t **old = c->buckets;
    size_t ob = c->buckets_count;
    c->buckets = nt;
    c->buckets_count = nb;
    for (size_t i = 0; i < ob; i++) {
        cache_ent_t *e = old[i];
        while (e) {
            cache_ent_t *next = e->hnext;
            size_t s = cache__slot(c, e->file_no, e->block_no);
            e->hnext = nt[s];
            nt[s] = e;
            e = next;
        }
    }
    rt_free(old);
}

void cache_put(cache_t *c, uint64_t file_no, uint32_t block_no, sst_block_t *b, int mode)
{
    ASSERT(mode != CACHE_BYPASS);
    c->put_bytes += sst_block_bytes(b);
    size_t bytes = sst_block_bytes(b) + sizeof(cache_ent_t);
    if (bytes > c->cap / 2)
        return;    /* one block would take too much of the cache */
    cache_ent_t **pp = cache__find(c, file_no, block_no);
    if (*pp)
        return;    /* already there (read twice before the first insert) */
    cache_ent_t *e = rt_calloc(1, sizeof *e);
    if (!e)
        return;    /* not caching is always correct */
    e->file_no = file_no;
    e->block_no = block_no;
    e->bytes = bytes;
    e->blk = b;
    sst_block_ref(b);
    e->hnext = *pp;
    *pp = e;
    if (mode == CACHE_SCAN)
        cache__link_tail(c, e, CACHE_PROBATION);
    else
        cache__link_head(c, e, CACHE_PROBATION);
    c->bytes += bytes;
    c->entries++;
    c->inserts++;
    cache__shrink(c);
    if (c->entries > 2 * c->buckets_count)
        cache__grow(c);
}

void cache_resize(cache_t *c, uint64_t file_no, uint32_t block_no, const sst_block_t *b)
{
    cache_ent_t **pp = cache__find(c, file_no, block_no);
    cache_ent_t *e = *pp;
    if (!e || e->blk != b)
        return;
    size_t bytes = sst_block_bytes(b) + sizeof(cache_ent_t);
    if (bytes > c->cap / 2) {
        cache__remove(c, pp);    /* the caller still holds its own reference */
        c->evictions++;
        return;
    }
    c->seg[e->seg].bytes = c->seg[e->seg].bytes - e->bytes + bytes;
    c->bytes = c->bytes - e->bytes + bytes;
    e->bytes = bytes;
    cache__shrink(c);
}

void cache_drop_file(cache_t *c, uint64_t file_no)
{
    for (size_t i = 0; i < c->buckets_count; i++) {
        cache_ent_t **pp = &c->buckets[i];
        while (*pp) {
            if ((*pp)->file_no == file_no)
                cache__remove(c, pp);
            else
                pp = &(*pp)->hnext;
        }
    }
}

void cache_free(cache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->buckets_count; i++)
        while (c->buckets[i])
            cache__remove(c, &c->buckets[i]);
    ASSERT(c->bytes == 0 && c->entries == 0);
    rt_free(c->buckets);
    rt_free(c);
}

void cache_get_stats(const cache_t *c, cache_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    out->inserts = c->inserts;
    out->put_bytes = c->put_bytes;
    out->bytes = c->bytes;
    out->entries = c->entries;
    out->capacity_bytes = c->cap;
}
