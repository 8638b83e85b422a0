/*
 * store.c -- transactions, intents (row locks), reads, iterators, group commit and
 * garbage collection over the memtable (memtable.c), the sorted tables (sst.c, kept
 * by flush.c) and the WAL (wal.c). The contract is shards/store.h; the design is
 * shards/README.md.
 *
 * Conventions beyond the header:
 *   - store_txn_commit and store_table_clear return 0 and call done exactly once
 *     (possibly before returning: no writes, read-only store, ENOMEM while encoding).
 *   - store_close also works with a write in flight (a crash in tests): it frees
 *     everything without calling any done; the io must then never call back.
 *   - txn_id 0 is reserved (it marks committed versions).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "core/log.h"
#include "core/rt.h"
#include "shards/cache.h"
#include "shards/store_int.h"

static uint64_t store__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void store__note_ts(store_t *st, uint64_t ts)
{
    if (ts > st->max_commit_ts)
        st->max_commit_ts = ts;
}

/* ---- open / close ---- */

static char *store__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rt_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

int store_open(const store_opts_t *opts, store_t **out)
{
    ASSERT(opts && opts->dir && opts->io && opts->io->write);
    int rc = STORE_ENOMEM;
    store_t *st = rt_calloc(1, sizeof *st);
    if (!st)
        return STORE_ENOMEM;
    st->seg_fd = st->wal_dirfd = st->dirfd = st->sst_dirfd = st->man_fd = -1;
    st->mt_budget = opts->memtable_budget_bytes ? opts->memtable_budget_bytes
                                                : LIMIT_MEMTABLE_BUDGET_BYTES;
    st->flush_slice = opts->flush_slice_bytes ? opts->flush_slice_bytes : LIMIT_FLUSH_SLICE_BYTES;
    st->manifest_limit = opts->manifest_bytes ? opts->manifest_bytes : LIMIT_MANIFEST_BYTES;
    st->compact_fanin = opts->compact_fanin ? opts->compact_fanin : LIMIT_COMPACT_FANIN_DEFAULT;
    if (st->compact_fanin != UINT32_MAX && st->compact_fanin < LIMIT_COMPACT_FANIN_MIN)
        st->compact_fanin = LIMIT_COMPACT_FANIN_MIN;
    if (st->compact_fanin != UINT32_MAX && st->compact_fanin > LIMIT_COMPACT_FANIN_MAX)
        st->compact_fanin = LIMIT_COMPACT_FANIN_MAX;
    st->compact_slice = opts->compact_slice_bytes ? opts->compact_slice_bytes
                                                  : LIMIT_COMPACT_SLICE_BYTES;
    st->shard_id = opts->shard_id;
    st->io = *opts->io;
    st->segment_bytes = opts->segment_bytes ? opts->segment_bytes : LIMIT_WAL_SEGMENT_BYTES;
    st->txn_end_hook = opts->txn_end_hook;
    st->hook_arg = opts->hook_arg;
    st->wal_batch_hook = opts->wal_batch_hook;
    st->wal_lazy_us = opts->wal_lazy_us;
    st->dir = store__strdup(opts->dir);
    st->wal_dir = rt_malloc(strlen(opts->dir) + 5);
    st->sst_dir = rt_malloc(strlen(opts->dir) + 5);
    st->txns_buckets = 64;
    st->txns = rt_calloc(st->txns_buckets, sizeof *st->txns);
    if (!st->dir || !st->wal_dir || !st->sst_dir || !st->txns || memtable_init(&st->mt) != 0)
        goto fail;
    if (opts->cache_bytes != SIZE_MAX &&
        !(st->cache = cache_new(opts->cache_bytes ? opts->cache_bytes : LIMIT_BLOCK_CACHE_BYTES)))
        goto fail;
    strcpy(st->wal_dir, opts->dir);
    strcat(st->wal_dir, "/wal");
    strcpy(st->sst_dir, opts->dir);
    strcat(st->sst_dir, "/sst");
    st->spill_bytes = opts->spill_bytes ? opts->spill_bytes
                      : st->mt_budget == SIZE_MAX ? SIZE_MAX
                      : st->mt_budget > LIMIT_SPILL_MIN_BYTES / 2 ? 2 * st->mt_budget
                                                                  : LIMIT_SPILL_MIN_BYTES;
    rc = flush_recover(st);
    if (rc)
        goto fail;
    rc = spill_open(st);
    if (rc)
        goto fail;
    rc = wal_recover(st);
    if (rc)
        goto fail;
    for (size_t b = 0; b < st->txns_buckets; b++)
        for (store_txn_t *t = st->txns[b]; t; t = t->hnext)
            if (t->runs_missing) {
                log_error("store: prepared transaction %llu in %s names spilled runs that "
                          "are gone", (unsigned long long)t->txn_id, st->dir);
                rc = STORE_ECORRUPT;
                goto fail;
            }
    /* Only now, with the manifest and the whole WAL checked, is anything deleted. */
    rc = flush_remove_orphans(st);
    if (rc)
        goto fail;
    st->stats.memtable_bytes = st->mt.bytes;
    log_info("store: opened %s (next lsn %llu, %llu memtable keys, %u sorted tables, "
             "max commit ts %llu)", st->dir, (unsigned long long)st->next_lsn,
             (unsigned long long)st->mt.keys, st->sst_count,
             (unsigned long long)st->max_commit_ts);
    *out = st;
    return 0;
fail:
    store_close(st);
    return rc;
}

/* Frees the values copied out of sorted tables for earlier callers, and the blocks
 * iterators have left (rows they returned point into those). */
static void store__handouts_free(store_t *st)
{
    sst_retire_release(&st->retired);
    for (uint32_t i = 0; i < st->handouts_count; i++)
        rt_free(st->handouts[i]);
    st->handouts_count = 0;
}

static void store__txn_free(store_t *st, store_txn_t *t)
{
    spill_release(st, t);
    for (uint32_t i = 0; i < t->undo_count; i++)
        if (t->undo[i].prev)
            memtable_ver_free(&st->mt, t->undo[i].prev);
    rt_free(t->undo);
    while (t->superseded) {
        mt_ver_t *v = t->superseded;
        t->superseded = v->next;
        memtable_ver_free(&st->mt, v);
    }
    rt_free(t->writes);
    rt_free(t);
}

void store_close(store_t *st)
{
    if (!st)
        return;
    if (!store_idle(st))
        log_warn("store: closing %s with WAL writes pending; they are dropped", st->dir);
    for (size_t i = 0; st->txns && i < st->txns_buckets; i++) {
        store_txn_t *t = st->txns[i];
        while (t) {
            store_txn_t *next = t->hnext;
            store__txn_free(st, t);
            t = next;
        }
    }
    spill_close(st);
    memtable_free(&st->mt);
    wal_close(st);
    flush_close(st);
    sst_retire_free(&st->retired);
    cache_free(st->cache);    /* after every file and block that uses it */
    store__handouts_free(st);
    rt_free(st->handouts);
    rt_free(st->sst_dir);
    rt_free(st->txns);
    rt_free(st->pend);
    rt_free(st->q.ptr);
    rt_free(st->f.ptr);
    rt_free(st->q_ents);
    rt_free(st->f_ents);
    rt_free(st->pins);
    store_decisions_drop(st);
    rt_free(st->dir);
    rt_free(st->wal_dir);
    rt_free(st);
}

bool store_idle(const store_t *st)
{
    return !st->in_flight && st->q_count == 0 && flush_idle(st) && compact_idle(st) &&
           spill_idle(st);
}
uint64_t store_max_commit_ts(const store_t *st) { return st->max_commit_ts; }
bool store_readonly(const store_t *st) { return st->readonly; }
bool store_flushing(const store_t *st) { return st->fl != NULL; }
bool store_compacting(const store_t *st) { return st->cp != NULL; }
void store_compact_full(store_t *st) { st->compact_full = true; }

void store_set_horizon(store_t *st, uint64_t horizon_ts)
{
    if (horizon_ts > st->horizon_ts) {
        st->horizon_ts = horizon_ts;
        st->compact_idle_gen = 0;    /* the pick depends on it (files wholly below it) */
    }
}

void store_get_stats(const store_t *st, store_stats_t *out)
{
    *out = st->stats;
    out->memtable_bytes = st->mt.bytes;
    out->keys = st->mt.keys;
    out->sst_files = st->sst_count;
    out->sst_live_bytes = 0;
    for (uint32_t i = 0; i < st->sst_count; i++)
        out->sst_live_bytes += sst_file_bytes(st->ssts[i]);
    out->compact_running = st->cp != NULL;
    compact_backlog(st, &out->compact_backlog_bytes, &out->compact_backlog_files);
    cache_stats_t cs;
    cache_get_stats(st->cache, &cs);
    out->cache_hits = cs.hits;
    out->cache_misses = cs.misses;
    out->cache_evictions = cs.evictions;
    out->cache_bytes = cs.bytes;
    out->cache_capacity_bytes = cs.capacity_bytes;
    out->cache_decoded_bytes = cs.put_bytes;
    out->versions = st->mt.vers;
    for (uint32_t i = 0; i < st->sst_count; i++)
        out->versions += sst_entries(st->ssts[i]);
    out->horizon = st->horizon_ts;
    out->lookup_tables = st->lookup.tables;
    out->lookup_bloom_negatives = st->lookup.bloom_negatives;
    out->lookup_bloom_false_positives = st->lookup.bloom_false_positives;
    out->lookup_blocks = st->lookup.blocks;
}

/* ---- transactions ---- */

static size_t store__txn_slot(const store_t *st, uint64_t txn_id)
{
    uint64_t h = txn_id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (st->txns_buckets - 1);
}

static void store__txns_grow(store_t *st)
{
    size_t nb = st->txns_buckets * 2;
    store_txn_t **nt = rt_calloc(nb, sizeof *nt);
    if (!nt)
        return;    /* longer chains, still correct */
    store_txn_t **old = st->txns;
    size_t ob = st->txns_buckets;
    st->txns = nt;
    st->txns_buckets = nb;
    for (size_t i = 0; i < ob; i++) {
        store_txn_t *t = old[i];
        while (t) {
            store_txn_t *next = t->hnext;
            size_t s = store__txn_slot(st, t->txn_id);
            t->hnext = nt[s];
            nt[s] = t;
            t = next;
        }
    }
    rt_free(old);
}

store_txn_t *store_txn_find(store_t *st, uint64_t txn_id)
{
    for (store_txn_t *t = st->txns[store__txn_slot(st, txn_id)]; t; t = t->hnext)
        if (t->txn_id == txn_id)
            return t;
    return NULL;
}

/* ---- pending heap: commits whose versions are not stamped yet, by commit_ts ---- */

static bool store__pend_less(const store_t *st, size_t a, size_t b)
{
    return st->pend[a]->commit_ts < st->pend[b]->commit_ts;
}

static void store__pend_swap(store_t *st, size_t a, size_t b)
{
    store_txn_t *x = st->pend[a];
    st->pend[a] = st->pend[b];
    st->pend[b] = x;
    st->pend[a]->pend_pos = (uint32_t)a + 1;
    st->pend[b]->pend_pos = (uint32_t)b + 1;
}

static void store__pend_fix(store_t *st, size_t i)
{
    while (i > 0 && store__pend_less(st, i, (i - 1) / 2)) {
        store__pend_swap(st, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < st->pend_count && store__pend_less(st, l, m))
            m = l;
        if (r < st->pend_count && store__pend_less(st, r, m))
            m = r;
        if (m == i)
            return;
        store__pend_swap(st, i, m);
        i = m;
    }
}

void store__pend_sync(store_t *st, store_txn_t *t)
{
    bool want = t->state != TXN_ACTIVE && t->commit_ts != 0;
    if (want && !t->pend_pos) {
        ASSERT(st->pend_count < st->pend_cap);    /* room made at store_txn_begin */
        st->pend[st->pend_count] = t;
        t->pend_pos = (uint32_t)++st->pend_count;
        store__pend_fix(st, st->pend_count - 1);
    } else if (want) {
        store__pend_fix(st, t->pend_pos - 1);
    } else if (t->pend_pos) {
        size_t i = t->pend_pos - 1, last = --st->pend_count;
        t->pend_pos = 0;
        if (i != last) {
            st->pend[i] = st->pend[last];
            st->pend[i]->pend_pos = (uint32_t)i + 1;
            store__pend_fix(st, i);
        }
    }
}

store_txn_t *store_txn_begin(store_t *st, uint64_t txn_id)
{
    ASSERT(txn_id != 0);
    ASSERT(!store_txn_find(st, txn_id));
    if (st->txns_count >= UINT32_MAX - 1)
        return NULL;
    if (st->pend_cap <= st->txns_count) {
        size_t cap = st->pend_cap ? st->pend_cap * 2 : 64;
        store_txn_t **np = rt_realloc(st->pend, cap * sizeof *np);
        if (!np)
            return NULL;
        st->pend = np;
        st->pend_cap = cap;
    }
    store_txn_t *t = rt_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->txn_id = txn_id;
    if (st->txns_count >= 2 * st->txns_buckets)
        store__txns_grow(st);
    size_t s = store__txn_slot(st, txn_id);
    t->hnext = st->txns[s];
    st->txns[s] = t;
    st->txns_count++;
    return t;
}

bool store_txn_has_writes(const store_txn_t *t)
{
    if (t->runs_count)
        return true;
    for (uint32_t i = 0; i < t->writes_count; i++)
        if (t->writes[i]->vers->kind != MT_LOCK)
            return true;
    return false;
}

size_t store_txn_writers(const store_t *st, uint32_t table_id, uint64_t *ids, size_t cap)
{
    size_t n = 0;
    for (size_t b = 0; b < st->txns_buckets; b++) {
        for (const store_txn_t *t = st->txns[b]; t; t = t->hnext) {
            bool w = false;
            for (uint32_t i = 0; i < t->writes_count && !w; i++)
                w = t->writes[i]->table_id == table_id && t->writes[i]->vers->kind != MT_LOCK;
            if (w && n < cap)
                ids[n] = t->txn_id;
            n += w;
        }
    }
    return n;
}

/* Unhooks t from the hash, tells the hook, frees t. */
static void store__txn_end(store_t *st, store_txn_t *t)
{
    uint64_t id = t->txn_id;
    store_txn_t **pp = &st->txns[store__txn_slot(st, id)];
    while (*pp != t)
        pp = &(*pp)->hnext;
    *pp = t->hnext;
    st->txns_count--;
    t->state = TXN_ACTIVE;
    store__pend_sync(st, t);
    st->gc_events++;
    if (t->pin_reserved) {
        st->pins_reserved--;
        t->pin_reserved = false;
    }
    store__txn_free(st, t);
    if (st->txn_end_hook)
        st->txn_end_hook(st->hook_arg, id);
}

static int store__enqueue(store_t *st, store_pending_t *p);

/* Removes t's intent from n (abort, or a lock-only intent at commit). */
static void store__drop_intent(store_t *st, mt_node_t *n, uint64_t txn_id)
{
    mt_ver_t *v = n->vers;
    ASSERT(v && v->txn_id == txn_id);
    n->vers = v->next;
    memtable_ver_free(&st->mt, v);
}

void store__txn_forget(store_t *st, store_txn_t *t)
{
    spill_discard(st, t);
    for (uint32_t i = 0; i < t->writes_count; i++)
        store__drop_intent(st, t->writes[i], t->txn_id);
    t->writes_count = 0;
    store__txn_end(st, t);
}

static void store__noop_done(void *arg, int rc)
{
    (void)arg;
    (void)rc;
}

void store_txn_abort(store_t *st, store_txn_t *t)
{
    ASSERT(t->state == TXN_ACTIVE || t->state == TXN_PREPARED);
    if (t->state == TXN_PREPARED && !st->readonly) {
        /* Logged so recovery need not ask the coordinator again; nobody waits for it:
         * without the record recovery finds no decision and aborts all the same. */
        store_pending_t p = {.type = WAL_REC_ABORT_PREPARED, .ts = t->txn_id,
                             .done = store__noop_done};
        store__enqueue(st, &p);
    }
    store__txn_forget(st, t);
}

void store_txn_set_level(store_txn_t *t, uint32_t level)
{
    t->sp_level = level;
}

int store_txn_rollback_to(store_t *st, store_txn_t *t, uint32_t level)
{
    ASSERT(level > 0);
    if (t->state != TXN_ACTIVE)
        return STORE_EINVAL;
    bool released = false;
    while (t->undo_count > 0 && t->undo[t->undo_count - 1].level >= level) {
        store_undo_t *u = &t->undo[--t->undo_count];
        mt_node_t *n = u->node;
        mt_ver_t *cur = n->vers;
        ASSERT(cur && cur->txn_id == t->txn_id);
        if (u->prev) {
            u->prev->next = cur->next;
            n->vers = u->prev;
        } else {
            /* the transaction's first intent here: the row lock goes too */
            ASSERT(t->writes_count > 0 && t->writes[t->writes_count - 1] == n);
            n->vers = cur->next;
            t->writes_count--;
            released = true;
        }
        /* values the transaction's fiber read from cur stay valid until it ends */
        cur->next = t->superseded;
        t->superseded = cur;
    }
    if (released && st->txn_end_hook)
        st->txn_end_hook(st->hook_arg, t->txn_id);    /* waiters retry; some may go on */
    return STORE_OK;
}

/* The record of t is durable: stamp its versions, release its locks. */
static void store__txn_apply(store_t *st, store_txn_t *t, uint64_t lsn)
{
    for (uint32_t i = 0; i < t->writes_count; i++) {
        mt_node_t *n = t->writes[i];
        mt_ver_t *v = n->vers;
        ASSERT(v && v->txn_id == t->txn_id);
        if (v->kind == MT_LOCK) {
            store__drop_intent(st, n, t->txn_id);
            continue;
        }
        n->vers = v->next;
        v->txn_id = 0;
        v->commit_ts = t->commit_ts;
        v->lsn = lsn;
        memtable_link_committed(n, v);
    }
    store__note_ts(st, t->commit_ts);
    st->stats.commits++;
}

/* ---- reads ---- */

int store__sst_lookup(store_t *st, uint32_t table_id, const uint8_t *key, uint32_t klen,
                      uint64_t snap_ts, sst_entry_t *e, sst_block_t **blk)
{
    *blk = NULL;
    int found = 0;
    sst_lookup_stats_t *ls = &st->lookup;
    st->stats.lookups++;
    /* Newest file first: once a version is found, an older file whose newest version
     * is not above it cannot hold a better one (a tie goes to the newer file, found
     * already), so it is not consulted at all. */
    for (uint32_t i = st->sst_count; i-- > 0;) {
        sst_t *s = st->ssts[i];
        if (found && sst_max_commit_ts(s) <= e->commit_ts) {
            st->stats.lookup_tables_skipped++;
            continue;
        }
        if (flush_masked(st, table_id, sst_file_no(s)))
            continue;
        sst_entry_t c;
        sst_block_t *b;
        int rc = sst_get_counted(s, table_id, key, klen, snap_ts, &c, &b, ls);
        if (rc < 0) {
            sst_block_free(*blk);
            *blk = NULL;
            return rc;
        }
        if (rc == 0)
            continue;
        if (!found || c.commit_ts > e->commit_ts) {    /* a tie goes to the newer file */
            sst_block_free(*blk);
            *blk = b;
            *e = c;
            found = 1;
        } else {
            sst_block_free(b);
        }
    }
    return found;
}

/* Hands out a sorted-table value: copied into 8-aligned memory the store frees at the
 * next store_sync or store_gc (both run when no fiber holds store_val_t pointers). */
static int store__handout(store_t *st, const sst_entry_t *e, store_val_t *val)
{
    if (st->handouts_count == st->handouts_cap) {
        uint32_t cap = st->handouts_cap ? st->handouts_cap * 2 : 64;
        uint8_t **h = rt_realloc(st->handouts, cap * sizeof *h);
        if (!h)
            return STORE_ENOMEM;
        st->handouts = h;
        st->handouts_cap = cap;
    }
    uint8_t *p = rt_malloc(e->vlen ? e->vlen : 1);    /* malloc alignment >= 16 */
    if (!p)
        return STORE_ENOMEM;
    DASSERT(((uintptr_t)p & 7) == 0);
    if (e->vlen)
        memcpy(p, e->val, e->vlen);
    st->handouts[st->handouts_count++] = p;
    val->ptr = p;
    val->len = e->vlen;
    return STORE_OK;
}

/* The version a reader (txn_id, snap) sees, merged over memtable and sorted tables:
 * returns 1 with *mv (memtable), 2 with *e and *blk (sorted table; free *blk), 0 when
 * no version is visible, or a negative rc. The result may be a tombstone. */
static int store__resolve(store_t *st, mt_node_t *n, uint64_t txn_id, uint64_t snap_ts,
                          uint32_t table_id, const uint8_t *key, uint32_t klen, mt_ver_t **mv,
                          sst_entry_t *e, sst_block_t **blk)
{
    *blk = NULL;
    mt_ver_t *v = n ? memtable_visible(n, txn_id, snap_ts) : NULL;
    *mv = v;
    if (v && v->txn_id)
        return 1;    /* own intent */
    if (txn_id && st->spillers_count) {
        const store_txn_t *t = store_txn_find(st, txn_id);
        if (t && t->runs_count) {
            int rc = spill_own(st, t, table_id, key, klen, e, blk);
            if (rc)
                return rc < 0 ? rc : 2;    /* own spilled write */
        }
    }
    int rc = store__sst_lookup(st, table_id, key, klen, snap_ts, e, blk);
    if (rc < 0)
        return rc;
    /* Commit order on disk is not timestamp order: the newest timestamp wins. */
    if (rc == 1 && (!v || e->commit_ts > v->commit_ts))
        return 2;
    sst_block_free(*blk);
    *blk = NULL;
    return v ? 1 : 0;
}

int store_get(store_t *st, store_txn_t *t, uint64_t snap_ts, uint32_t table_id,
              const uint8_t *key, uint32_t klen, store_val_t *val)
{
    mt_node_t *n = memtable_find(&st->mt, table_id, key, klen);
    mt_ver_t *v;
    sst_entry_t e;
    sst_block_t *b;
    int rc = store__resolve(st, n, t ? t->txn_id : 0, snap_ts, table_id, key, klen, &v, &e, &b);
    if (rc < 0)
        return rc;
    if (rc == 1 && v->kind == MT_VALUE) {
        val->ptr = v->val;
        val->len = v->vlen;
        return STORE_OK;
    }
    if (rc == 2 && !e.tomb) {
        rc = store__handout(st, &e, val);
        sst_block_free(b);
        return rc;
    }
    sst_block_free(b);
    return STORE_NOTFOUND;
}

static uint8_t *store__dup_bytes(const uint8_t *p, uint32_t n)
{
    uint8_t *d = rt_malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static void store__iter_drop_srcs(store_iter_t *it)
{
    for (uint32_t i = 0; i < it->src_count; i++) {
        sst_iter_free(it->src[i].cur);
        if (it->src[i].sst)
            sst_close(it->src[i].sst);    /* the iterator's reference */
    }
    rt_free(it->src);
    rt_free(it->heap);
    rt_free(it->refill);
    it->src = NULL;
    it->heap = it->refill = NULL;
    it->src_count = it->heap_count = it->refill_count = 0;
    it->heap_built = false;
}

/* (Re)builds one cursor per sorted table of the current set, positioned at lo or, once
 * rows were returned, at the last returned key (store__iter_fill skips keys <= it). */
static int store__iter_srcs(store_iter_t *it)
{
    store_t *st = it->st;
    store__iter_drop_srcs(it);
    it->sst_gen = st->sst_gen;
    /* The transaction's own spilled runs come after the set, oldest first. */
    const store_txn_t *t = it->txn_id && st->spillers_count ? store_txn_find(st, it->txn_id) : NULL;
    uint32_t runs = t ? t->runs_count : 0, total = st->sst_count + runs;
    if (total == 0)
        return 0;
    it->src = rt_calloc(total, sizeof *it->src);
    it->heap = rt_calloc(total, sizeof *it->heap);
    it->refill = rt_calloc(total, sizeof *it->refill);
    if (!it->src || !it->heap || !it->refill)
        return STORE_ENOMEM;
    it->src_count = total;
    it->clears_gen = st->clears_gen;
    for (uint32_t i = 0; i < it->src_count; i++) {
        store_iter_src_t *s = &it->src[i];
        s->own = i >= st->sst_count;
        s->sst = s->own ? t->runs[i - st->sst_count].sst : st->ssts[i];
        sst_ref(s->sst);
        s->consumed = true;
        s->masked = !s->own && flush_masked(st, it->table_id, sst_file_no(s->sst));
        s->cur = sst_iter_new(s->sst, s->own ? UINT64_MAX : it->snap_ts);
        if (!s->cur)
            return STORE_ENOMEM;
        sst_iter_set_retire(s->cur, &st->retired);
        sst_iter_set_lazy(s->cur, it->colscan);
        int rc = it->has_last ? sst_iter_seek(s->cur, it->table_id, it->last.ptr,
                                              (uint32_t)it->last.len)
                              : sst_iter_seek(s->cur, it->table_id, it->lo, it->lolen);
        if (rc)
            return rc;
    }
    return 0;
}

store_iter_t *store_iter_open(store_t *st, store_txn_t *t, uint64_t snap_ts, uint32_t table_id,
                              const uint8_t *lo, uint32_t lolen, const uint8_t *hi, uint32_t hilen)
{
    store_iter_t *it = rt_calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->st = st;
    it->txn_id = t ? t->txn_id : 0;
    it->snap_ts = snap_ts;
    it->table_id = table_id;
    it->lolen = lo ? lolen : 0;
    it->lo = store__dup_bytes(lo, it->lolen);
    it->has_hi = hi != NULL;
    it->hilen = hi ? hilen : 0;
    it->hi = store__dup_bytes(hi, it->hilen);
    if (!it->lo || !it->hi) {
        rt_free(it->lo);
        rt_free(it->hi);
        rt_free(it);
        return NULL;
    }
    st->mt.iters_open++;
    it->inext = st->iters;
    if (st->iters)
        st->iters->iprev = it;
    st->iters = it;
    it->err = store__iter_srcs(it);
    return it;
}

/* True when (table, key) is past the iterator's range. */
static bool store__iter_beyond(const store_iter_t *it, uint32_t table_id, const uint8_t *key,
                               uint32_t klen)
{
    return table_id != it->table_id ||
           (it->has_hi &&
            memtable_cmp(table_id, key, klen, it->table_id, it->hi, it->hilen) >= 0);
}

/* Gives a sorted-table source its next key after the last returned one, if any. */
static int store__iter_fill(store_iter_t *it, store_iter_src_t *s)
{
    if (!s->ended && s->masked)
        s->ended = true;    /* the table was cleared meanwhile */
    while (!s->ended && s->consumed) {
        int rc = sst_iter_next_key(s->cur, &s->head);
        if (rc < 0)
            return rc;
        if (rc == 0 || store__iter_beyond(it, s->head.table_id, s->head.key, s->head.klen)) {
            s->ended = true;
            break;
        }
        s->consumed = it->has_last && memtable_cmp(s->head.table_id, s->head.key, s->head.klen,
                                                   it->table_id, it->last.ptr,
                                                   (uint32_t)it->last.len) <= 0;
    }
    s->has = !s->ended;
    return 0;
}

/* Head-key order of two sources (all heads are in the iterator's table). */
static int store__src_cmp(const store_iter_t *it, uint32_t a, uint32_t b)
{
    const sst_entry_t *x = &it->src[a].head, *y = &it->src[b].head;
    return memtable_cmp(it->table_id, x->key, x->klen, it->table_id, y->key, y->klen);
}

static void store__heap_down(store_iter_t *it, uint32_t i)
{
    uint32_t *h = it->heap, n = it->heap_count;
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < n && store__src_cmp(it, h[l], h[m]) < 0)
            m = l;
        if (l + 1 < n && store__src_cmp(it, h[l + 1], h[m]) < 0)
            m = l + 1;
        if (m == i)
            return;
        uint32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void store__heap_push(store_iter_t *it, uint32_t src)
{
    uint32_t *h = it->heap, i = it->heap_count++;
    h[i] = src;
    while (i > 0) {
        uint32_t up = (i - 1) / 2;
        if (store__src_cmp(it, h[i], h[up]) >= 0)
            break;
        uint32_t t = h[i];
        h[i] = h[up];
        h[up] = t;
        i = up;
    }
}

static void store__heap_pop(store_iter_t *it)
{
    ASSERT(it->heap_count > 0);
    it->heap[0] = it->heap[--it->heap_count];
    if (it->heap_count)
        store__heap_down(it, 0);
}

/* Moves the sources that held the last returned key (or, after the set of sorted
 * tables changed, every source) to their next candidate key and keeps the heap of
 * pending heads; 0 or a negative rc. A source whose head is still pending stays in
 * the heap untouched, so a step costs O(log sources) comparisons, not O(sources). */
static int store__iter_advance(store_iter_t *it)
{
    memtable_t *mt = &it->st->mt;
    if (!it->started) {
        it->node = memtable_seek(mt, it->table_id, it->lo, it->lolen);
        it->started = true;
    } else if (it->node_consumed && it->node) {
        it->node = it->node->next[0];
    }
    it->node_consumed = false;
    if (it->node && store__iter_beyond(it, it->node->table_id, mt_key(it->node), it->node->klen))
        it->node = NULL;
    if (it->sst_gen != it->st->sst_gen) {
        int rc = store__iter_srcs(it);
        if (rc)
            return rc;
    }
    if (it->clears_gen != it->st->clears_gen) {
        /* A table was cleared meanwhile: its files' pending heads must not be returned. */
        it->clears_gen = it->st->clears_gen;
        for (uint32_t i = 0; i < it->src_count; i++) {
            store_iter_src_t *s = &it->src[i];
            if (!s->own && !s->masked && flush_masked(it->st, it->table_id, sst_file_no(s->sst))) {
                s->masked = true;
                s->ended = true;
                s->has = false;
            }
        }
        it->heap_built = false;
    }
    if (!it->heap_built) {
        it->heap_count = it->refill_count = 0;
        for (uint32_t i = 0; i < it->src_count; i++) {
            int rc = store__iter_fill(it, &it->src[i]);
            if (rc)
                return rc;
            if (it->src[i].has)
                it->heap[it->heap_count++] = i;
        }
        for (uint32_t i = it->heap_count / 2; i-- > 0;)
            store__heap_down(it, i);
        it->heap_built = true;
        return 0;
    }
    for (uint32_t k = 0; k < it->refill_count; k++) {
        store_iter_src_t *s = &it->src[it->refill[k]];
        int rc = store__iter_fill(it, s);
        if (rc)
            return rc;
        if (s->has)
            store__heap_push(it, it->refill[k]);
    }
    it->refill_count = 0;
    return 0;
}

int store_iter_set_colscan(store_iter_t *it, const store_colpred_t *preds, uint32_t npreds)
{
    if (npreds > sizeof it->preds / sizeof it->preds[0])
        return STORE_EINVAL;
    it->colscan = true;
    for (uint32_t i = 0; i < it->src_count; i++)
        sst_iter_set_lazy(it->src[i].cur, true);
    it->npreds = npreds;
    if (npreds)
        memcpy(it->preds, preds, npreds * sizeof *preds);
    return 0;
}

int store_iter_set_colneed(store_iter_t *it, const uint8_t *need, uint32_t ncols)
{
    if (ncols > STORE_LAYOUT_MAX_COLS)
        return STORE_EINVAL;
    memset(it->need, 0, sizeof it->need);
    memcpy(it->need, need, (ncols + 7) / 8);
    it->has_need = true;
    return 0;
}

int store_colblock_rows(store_colblock_t *cb)
{
    sst_block_t *b = cb->blk;
    int rc = sst_block_join(cb->sst, b);
    if (rc)
        return rc;
    return sst_block_columns(cb->sst, b, NULL, cb);
}

void store_iter_colstats(const store_iter_t *it, uint64_t *blocks_whole, uint64_t *blocks_skipped)
{
    *blocks_whole = it->blocks_whole;
    *blocks_skipped = it->blocks_skipped;
}

/* After store__iter_advance: when the smallest pending key is the first of a sorted
 * table block that holds exactly one visible row per version (sst_block_whole) and
 * no other source has a key up to the block's last key, takes the whole block: the
 * source moves past it and the iterator's position to its last key. 2 with *cb
 * filled, 1 when the block was skipped by the predicates, 0 when the block path does
 * not apply here, or a negative rc. */
static int store__iter_block(store_iter_t *it, store_colblock_t *cb)
{
    if (!it->heap_count)
        return 0;
    uint32_t si = it->heap[0], bidx;
    store_iter_src_t *s = &it->src[si];
    sst_block_t *b;
    int brc = sst_iter_block_start(s->cur, &bidx, &b);
    if (brc < 0)
        return brc;
    if (!b || !sst_block_whole(b, it->snap_ts))
        return 0;
    const uint8_t *lk;
    uint32_t lkl;
    sst_index_last_key(s->sst, bidx, &lk, &lkl);
    if (store__iter_beyond(it, it->table_id, lk, lkl) ||
        memtable_cmp(it->table_id, s->head.key, s->head.klen, it->table_id, lk, lkl) > 0)
        return 0;
    /* the other heads are at least the heap's children; the memtable's candidate */
    for (uint32_t c = 1; c <= 2 && c < it->heap_count; c++) {
        const sst_entry_t *h = &it->src[it->heap[c]].head;
        if (memtable_cmp(it->table_id, h->key, h->klen, it->table_id, lk, lkl) <= 0)
            return 0;
    }
    if (it->node && memtable_cmp(it->table_id, mt_key(it->node), it->node->klen, it->table_id,
                                 lk, lkl) <= 0)
        return 0;
    it->last.len = 0;
    if (!store__buf_reserve(&it->last, lkl ? lkl : 1))
        return STORE_ENOMEM;
    memcpy(it->last.ptr, lk, lkl);
    it->last.len = lkl;
    it->has_last = true;
    bool match = true;
    for (uint32_t p = 0; p < it->npreds && match; p++)
        match = sst_block_may_match(s->sst, bidx, &it->preds[p]);
    if (match) {
        /* before the cursor may leave it; only the columns the scan reads */
        int rc = sst_block_columns(s->sst, b, it->has_need ? it->need : NULL, cb);
        if (rc)
            return rc;
    }
    store__heap_pop(it);
    s->consumed = true;
    it->refill[it->refill_count++] = si;
    sst_iter_skip_block(s->cur);
    if (!match) {
        it->blocks_skipped++;
        it->st->stats.scan_blocks_skipped++;
        return 1;
    }
    it->blocks_whole++;
    it->st->stats.scan_blocks_whole++;
    return 2;
}

static int store__iter_step(store_iter_t *it, store_colblock_t *cb, store_val_t *key,
                            store_val_t *val)
{
    while (!it->err) {
        it->err = store__iter_advance(it);
        if (it->err)
            break;
        if (cb) {
            int rc = store__iter_block(it, cb);
            if (rc < 0) {
                it->err = rc;
                break;
            }
            if (rc == 2)
                return 2;
            if (rc == 1)
                continue;
        }
        /* The smallest pending key: the heap's top or the memtable's candidate. */
        const uint8_t *mk = NULL;
        uint32_t mkl = 0;
        bool any = false;
        if (it->node) {
            mk = mt_key(it->node);
            mkl = it->node->klen;
            any = true;
        }
        if (it->heap_count) {
            const sst_entry_t *h = &it->src[it->heap[0]].head;
            if (!any || memtable_cmp(it->table_id, h->key, h->klen, it->table_id, mk, mkl) < 0) {
                mk = h->key;
                mkl = h->klen;
                any = true;
            }
        }
        if (!any)
            return 0;
        /* Its visible version: own intent, else the newest commit_ts <= snap. */
        mt_ver_t *v = NULL;
        if (it->node && memtable_cmp(it->table_id, mt_key(it->node), it->node->klen,
                                     it->table_id, mk, mkl) == 0) {
            v = memtable_visible(it->node, it->txn_id, it->snap_ts);
            it->node_consumed = true;
        }
        /* Copy the key first: mk may point into a source's block, which stays valid
         * (the sources are only advanced on the next call), but not across refills. */
        it->last.len = 0;
        if (!store__buf_reserve(&it->last, mkl ? mkl : 1)) {
            it->err = STORE_ENOMEM;
            break;
        }
        memcpy(it->last.ptr, mk, mkl);
        it->last.len = mkl;
        it->has_last = true;
        mk = it->last.ptr;
        /* Take every source whose head is this key off the heap; of their versions the
         * newest commit_ts wins, a tie going to the newer file (higher index). */
        const sst_entry_t *best = NULL;
        uint32_t best_src = 0;
        bool best_own = false;    /* the transaction's spilled write beats any commit */
        while (it->heap_count) {
            uint32_t i = it->heap[0];
            store_iter_src_t *s = &it->src[i];
            if (memtable_cmp(it->table_id, s->head.key, s->head.klen, it->table_id, mk, mkl) != 0)
                break;
            store__heap_pop(it);
            s->consumed = true;
            it->refill[it->refill_count++] = i;
            if (sst_iter_unresolved(s->cur)) {
                /* entered lazily (column scan) and not taken whole: its real version */
                int rc = sst_iter_resolve(s->cur, &s->head);
                if (rc) {
                    it->err = rc;
                    return 0;
                }
            }
            if (!best || (s->own && !best_own) ||
                (s->own == best_own && (s->head.commit_ts > best->commit_ts ||
                                        (s->head.commit_ts == best->commit_ts && i > best_src)))) {
                best = &s->head;
                best_src = i;
                best_own = s->own;
            }
        }
        if (v && (v->txn_id || !best || (!best_own && v->commit_ts >= best->commit_ts))) {
            if (v->kind != MT_VALUE)
                continue;
            key->ptr = mt_key(it->node);
            key->len = it->node->klen;
            val->ptr = v->val;
            val->len = v->vlen;
            return 1;
        }
        if (best && !best->tomb) {
            if (best->vlen == SST_VLEN_LAZY) {
                int rc = sst_iter_materialize(it->src[best_src].cur, &it->src[best_src].head);
                if (rc) {
                    it->err = rc;
                    break;
                }
            }
            key->ptr = best->key;
            key->len = best->klen;
            val->ptr = best->val;
            val->len = best->vlen;
            return 1;
        }
    }
    return 0;
}

int store_iter_next(store_iter_t *it, store_val_t *key, store_val_t *val)
{
    return store__iter_step(it, NULL, key, val);
}

int store_iter_next_cols(store_iter_t *it, store_colblock_t *cb, store_val_t *key, store_val_t *val)
{
    return store__iter_step(it, it->colscan ? cb : NULL, key, val);
}

int store_iter_error(const store_iter_t *it) { return it->err; }

const char *store_last_error(const store_t *st)
{
    (void)st;    /* one store per thread: the thread's last sorted-table failure */
    return sst_last_error();
}

void store_iter_close(store_iter_t *it)
{
    if (!it)
        return;
    memtable_t *mt = &it->st->mt;
    ASSERT(mt->iters_open > 0);
    if (it->iprev)
        it->iprev->inext = it->inext;
    else
        it->st->iters = it->inext;
    if (it->inext)
        it->inext->iprev = it->iprev;
    if (--mt->iters_open == 0)
        memtable_reap(mt);
    store__iter_drop_srcs(it);
    rt_free(it->last.ptr);
    rt_free(it->lo);
    rt_free(it->hi);
    rt_free(it);
}

/* ---- writes ---- */

/* Finds or creates the node and checks nobody else holds it. */
static int store__lock_node(store_t *st, store_txn_t *t, uint32_t table_id, const uint8_t *key,
                            uint32_t klen, mt_node_t **out, uint64_t *blocker)
{
    if (t->state != TXN_ACTIVE || klen > LIMIT_KEY_BYTES)
        return STORE_EINVAL;
    mt_node_t *n = memtable_upsert(&st->mt, table_id, key, klen);
    if (!n)
        return STORE_ENOMEM;
    mt_ver_t *h = n->vers;
    if (h && h->txn_id && h->txn_id != t->txn_id) {
        if (blocker)
            *blocker = h->txn_id;
        return STORE_LOCKED;
    }
    if (st->spillers_count && !(h && h->txn_id == t->txn_id)) {
        int rc = spill_conflict(st, t, table_id, key, klen, blocker);
        if (rc)
            return rc;    /* another transaction's spilled write holds the row */
    }
    *out = n;
    return STORE_OK;
}

int store__txn_add_write(store_txn_t *t, mt_node_t *n)
{
    if (t->writes_count == t->writes_cap) {
        if (t->writes_cap >= LIMIT_TXN_WRITES)
            return STORE_ENOMEM;
        uint32_t cap = t->writes_cap ? t->writes_cap * 2 : 8;
        mt_node_t **w = rt_realloc(t->writes, cap * sizeof *w);
        if (!w)
            return STORE_ENOMEM;
        t->writes = w;
        t->writes_cap = cap;
    }
    t->writes[t->writes_count++] = n;
    return STORE_OK;
}

/* Notes (n, prev) on t's undo log: STORE_OK or STORE_ENOMEM. */
static int store__undo_add(store_txn_t *t, mt_node_t *n, mt_ver_t *prev)
{
    if (t->undo_count == t->undo_cap) {
        if (t->undo_cap >= LIMIT_TXN_WRITES)
            return STORE_ENOMEM;
        uint32_t cap = t->undo_cap ? t->undo_cap * 2 : 8;
        store_undo_t *u = rt_realloc(t->undo, cap * sizeof *u);
        if (!u)
            return STORE_ENOMEM;
        t->undo = u;
        t->undo_cap = cap;
    }
    t->undo[t->undo_count++] = (store_undo_t){n, prev, t->sp_level};
    return STORE_OK;
}

/* Puts nv as t's intent on n, replacing t's previous intent if any. While a savepoint
 * is live the replaced intent goes to the undo log (store_txn_rollback_to puts it
 * back), else to superseded. */
static int store__place_intent(store_t *st, store_txn_t *t, mt_node_t *n, mt_ver_t *nv)
{
    mt_ver_t *own = n->vers && n->vers->txn_id == t->txn_id ? n->vers : NULL;
    int rc = t->sp_level ? store__undo_add(t, n, own) : STORE_OK;
    bool undo_added = t->sp_level && rc == STORE_OK;
    if (rc == STORE_OK && !own)
        rc = store__txn_add_write(t, n);
    if (rc) {
        if (undo_added)
            t->undo_count--;    /* the write did not happen: forget its undo entry */
        memtable_ver_free(&st->mt, nv);
        return rc;
    }
    t->intent_bytes += sizeof *nv + nv->vlen + (own ? 0 : sizeof *n + n->klen + 8 * (size_t)n->height);
    if (own) {
        nv->next = own->next;
        n->vers = nv;
        if (!t->sp_level) {
            own->next = t->superseded;
            t->superseded = own;
        }
        return STORE_OK;
    }
    nv->next = n->vers;
    n->vers = nv;
    return STORE_OK;
}

int store_write(store_t *st, store_txn_t *t, int mode, uint32_t table_id,
                const uint8_t *key, uint32_t klen, const uint8_t *val, uint32_t vlen,
                uint64_t *blocker)
{
    if (st->readonly)
        return STORE_EREADONLY;
    if (vlen > LIMIT_ROW_BYTES || mode < STORE_W_INSERT || mode > STORE_W_DELETE)
        return STORE_EINVAL;
    mt_node_t *n;
    int rc = store__lock_node(st, t, table_id, key, klen, &n, blocker);
    if (rc)
        return rc;
    mt_ver_t *own = n->vers && n->vers->txn_id == t->txn_id ? n->vers : NULL;
    if (mode == STORE_W_INSERT) {
        if (own && own->kind == MT_VALUE)
            return STORE_EXISTS;
        int spilled = 0;
        if ((!own || own->kind == MT_LOCK) && t->runs_count) {
            sst_entry_t e;
            sst_block_t *b;
            spilled = spill_own(st, t, table_id, key, klen, &e, &b);
            bool live = spilled == 1 && !e.tomb;
            sst_block_free(b);
            if (spilled < 0)
                return spilled;
            if (live)
                return STORE_EXISTS;    /* this transaction's spilled write */
        }
        if ((!own || own->kind == MT_LOCK) && !spilled) {
            mt_ver_t *c;
            sst_entry_t e;
            sst_block_t *b;
            rc = store__resolve(st, n, 0, UINT64_MAX, table_id, key, klen, &c, &e, &b);
            sst_block_free(b);
            if (rc < 0)
                return rc;
            if ((rc == 1 && c->kind == MT_VALUE) || (rc == 2 && !e.tomb))
                return STORE_EXISTS;
        }
    }
    mt_ver_t *nv = memtable_ver_new(&st->mt, mode == STORE_W_DELETE ? MT_TOMB : MT_VALUE,
                                    t->txn_id, 0, val, vlen);
    if (!nv)
        return STORE_ENOMEM;
    rc = store__place_intent(st, t, n, nv);
    return rc ? rc : spill_after_write(st, t);
}

int store_lock_latest(store_t *st, store_txn_t *t, uint32_t table_id,
                      const uint8_t *key, uint32_t klen, store_val_t *val,
                      uint64_t *commit_ts, uint64_t *blocker)
{
    mt_node_t *n;
    int rc = store__lock_node(st, t, table_id, key, klen, &n, blocker);
    if (rc)
        return rc;
    if (!(n->vers && n->vers->txn_id == t->txn_id)) {
        mt_ver_t *lk = memtable_ver_new(&st->mt, MT_LOCK, t->txn_id, 0, NULL, 0);
        if (!lk)
            return STORE_ENOMEM;
        rc = store__place_intent(st, t, n, lk);
        if (rc)
            return rc;
    }
    mt_ver_t *c;
    sst_entry_t e;
    sst_block_t *b;
    rc = store__resolve(st, n, 0, UINT64_MAX, table_id, key, klen, &c, &e, &b);
    if (rc < 0)
        return rc;
    if (commit_ts)
        *commit_ts = rc == 1 ? c->commit_ts : rc == 2 ? e.commit_ts : 0;
    if (rc == 1 && c->kind == MT_VALUE) {
        if (val) {
            val->ptr = c->val;
            val->len = c->vlen;
        }
        return STORE_OK;
    }
    if (rc == 2 && !e.tomb) {
        rc = val ? store__handout(st, &e, val) : STORE_OK;
        sst_block_free(b);
        return rc;
    }
    sst_block_free(b);
    return STORE_NOTFOUND;
}

/* ---- commit queue ---- */

static int store__queue(store_t *st, const store_pending_t *p)
{
    if (st->q_count == st->q_cap) {
        size_t cap = st->q_cap ? st->q_cap * 2 : 64;
        store_pending_t *e = rt_realloc(st->q_ents, cap * sizeof *e);
        if (!e)
            return STORE_ENOMEM;
        st->q_ents = e;
        st->q_cap = cap;
    }
    st->q_ents[st->q_count] = *p;
    st->q_ents[st->q_count].lsn = st->next_lsn;
    st->q_ents[st->q_count].queued_us = store__now_us();
    if (!st->q_ents[st->q_count++].lazy)
        st->q_eager++;
    st->next_lsn++;
    return STORE_OK;
}

/* Queues the encoded record for p; on failure p is not queued and q is unchanged. */
static int store__enqueue(store_t *st, store_pending_t *p)
{
    size_t len0 = st->q.len;
    uint32_t n;
    if (p->type == WAL_REC_COMMIT)
        n = wal_encode_commit(&st->q, st->next_lsn, p->txn);
    else if (p->type == WAL_REC_CLEAR)
        n = wal_encode_clear(&st->q, st->next_lsn, p->table_id, p->ts);
    else if (p->type == WAL_REC_ABORT_PREPARED)
        n = wal_encode_abort_prepared(&st->q, st->next_lsn, p->ts);
    else
        n = wal_encode_txn(&st->q, st->next_lsn, p->txn, (uint32_t)p->type);
    if (!n)
        return STORE_ENOMEM;
    p->rec_bytes = n;
    int rc = store__queue(st, p);
    if (rc)
        st->q.len = len0;
    return rc;
}

int store_txn_commit(store_t *st, store_txn_t *t, uint64_t commit_ts,
                     void (*done)(void *arg, int rc), void *arg)
{
    ASSERT(t->state == TXN_ACTIVE);
    if (!store_txn_has_writes(t)) {
        for (uint32_t i = 0; i < t->writes_count; i++)
            store__drop_intent(st, t->writes[i], t->txn_id);    /* lock-only intents */
        t->writes_count = 0;
        store__txn_end(st, t);
        done(arg, STORE_OK);
        return 0;
    }
    if (st->readonly) {
        store_txn_abort(st, t);
        done(arg, STORE_EREADONLY);
        return 0;
    }
    if (t->runs_count)
        return spill_commit(st, t, commit_ts, done, arg);    /* the manifest edit commits */
    t->commit_ts = commit_ts;
    store_pending_t p = {.type = WAL_REC_COMMIT, .txn = t, .ts = commit_ts, .done = done,
                         .arg = arg};
    int rc = store__enqueue(st, &p);
    if (rc) {
        store_txn_abort(st, t);
        done(arg, rc);
        return 0;
    }
    t->state = TXN_COMMITTING;
    store__pend_sync(st, t);
    return 0;
}

/* Queues a record of t (PREPARE / COMMIT_2PC / COMMIT_PREPARED); on failure calls
 * done(rc) (fail_keeps: t stays prepared, else it is aborted). */
static int store__queue_txn(store_t *st, store_txn_t *t, int type, int next_state,
                            bool fail_keeps, void (*done)(void *arg, int rc), void *arg)
{
    int rc = STORE_EREADONLY;
    if (!st->readonly) {
        rc = STORE_ENOMEM;
        if (type == WAL_REC_COMMIT_2PC && st->pins_count + st->pins_reserved >= st->pins_cap) {
            /* The pin is taken when the record is durable; its room is made now. */
            uint32_t cap = st->pins_cap ? st->pins_cap * 2 : 16;
            struct store_pin *np = rt_realloc(st->pins, cap * sizeof *np);
            if (!np)
                goto fail;
            st->pins = np;
            st->pins_cap = cap;
        }
        store_pending_t p = {.type = type, .txn = t, .ts = t->commit_ts, .done = done, .arg = arg};
        rc = store__enqueue(st, &p);
        if (rc == 0) {
            if (type == WAL_REC_COMMIT_2PC)
                st->pins_reserved++;
            t->state = next_state;
            store__pend_sync(st, t);
            return 0;
        }
    }
fail:
    if (!fail_keeps)
        store_txn_abort(st, t);
    done(arg, rc);
    return 0;
}

int store_txn_prepare(store_t *st, store_txn_t *t, uint32_t coord_shard, uint64_t commit_ts,
                      void (*done)(void *arg, int rc), void *arg)
{
    ASSERT(t->state == TXN_ACTIVE && store_txn_has_writes(t));
    t->coord = coord_shard;
    t->commit_ts = commit_ts;
    int rc = t->runs_count && !st->readonly ? spill_prepare(st, t) : 0;
    if (rc) {
        store_txn_abort(st, t);
        done(arg, rc);
        return 0;
    }
    return store__queue_txn(st, t, WAL_REC_PREPARE, TXN_PREPARING, false, done, arg);
}

/* Makes room for the pin a one-round commit takes in phase two (store_txn_commit_decided),
 * so that step cannot fail for want of memory. */
static int store__reserve_pin(store_t *st, store_txn_t *t)
{
    if (st->pins_count + st->pins_reserved >= st->pins_cap) {
        uint32_t cap = st->pins_cap ? st->pins_cap * 2 : 16;
        struct store_pin *np = rt_realloc(st->pins, cap * sizeof *np);
        if (!np)
            return STORE_ENOMEM;
        st->pins = np;
        st->pins_cap = cap;
    }
    st->pins_reserved++;
    t->pin_reserved = true;
    return 0;
}

int store_txn_stage(store_t *st, store_txn_t *t, uint32_t coord_shard, const uint32_t *parts,
                    uint32_t nparts, uint64_t commit_ts, void (*done)(void *arg, int rc), void *arg)
{
    ASSERT(t->state == TXN_ACTIVE);
    t->commit_ts = commit_ts;
    int rc = st->readonly ? STORE_EREADONLY : store__reserve_pin(st, t);
    if (rc) {
        store_txn_abort(st, t);
        done(arg, rc);
        return 0;
    }
    t->coord = coord_shard;
    t->parts = parts;
    t->nparts = parts ? nparts : 0;
    if (t->runs_count && (rc = spill_prepare(st, t)) != 0) {
        store_txn_abort(st, t);
        done(arg, rc);
        return 0;
    }
    return store__queue_txn(st, t, parts ? WAL_REC_STAGED : WAL_REC_PREPARE, TXN_PREPARING, false,
                            done, arg);
}

int store_txn_commit_decided(store_t *st, store_txn_t *t, uint64_t commit_ts,
                             void (*done)(void *arg, int rc), void *arg)
{
    ASSERT(t->state == TXN_PREPARED);
    t->commit_ts = commit_ts;
    store__pend_sync(st, t);
    if (!t->pin_reserved)    /* recovered in doubt: the start-up resolution */
        return store_txn_commit_prepared(st, t, commit_ts, done, arg);
    /* The phase-one record stays until store_decision_release (every shard's phase-two
     * record is durable), so recovery can apply the one-round rule until then. */
    t->pin_reserved = false;
    st->pins_reserved--;
    st->pins[st->pins_count++] = (struct store_pin){t->txn_id, t->prepare_lsn};
    if (st->readonly)
        return store_txn_commit_prepared(st, t, commit_ts, done, arg);    /* fails: in doubt */
    int type = (uint32_t)st->shard_id == t->coord ? WAL_REC_COMMIT_2PC : WAL_REC_COMMIT_PREPARED;
    if (t->runs_count)    /* the runs' manifest edit first, then the record */
        return spill_commit_prepared(st, t, commit_ts, type, true, done, arg);
    /* Lazy: the outcome is durable already (the one-round rule), so this record need
     * not start a write (and an fsync) of its own; it goes out with the next one. */
    store_pending_t p = {.type = type, .txn = t, .ts = commit_ts, .early = true, .lazy = true,
                         .done = done, .arg = arg};
    if (store__enqueue(st, &p) != 0)    /* no memory for the record now: the ordinary way */
        return store_txn_commit_prepared(st, t, commit_ts, done, arg);
    st->q_ents[st->q_count - 1].txn = NULL;    /* encoded; t ends below */
    /* Visible and unlocked now: the outcome is decided. The versions carry this
     * record's LSN, so no flush takes them before it is durable. */
    store__txn_apply(st, t, st->next_lsn - 1);
    store__txn_end(st, t);
    return 0;
}

int store_txn_commit_2pc(store_t *st, store_txn_t *t, uint64_t commit_ts,
                         void (*done)(void *arg, int rc), void *arg)
{
    ASSERT(t->state == TXN_ACTIVE);    /* without writes: a decision-only record */
    t->commit_ts = commit_ts;
    return store__queue_txn(st, t, WAL_REC_COMMIT_2PC, TXN_COMMITTING, false, done, arg);
}

int store_txn_commit_prepared(store_t *st, store_txn_t *t, uint64_t commit_ts,
                              void (*done)(void *arg, int rc), void *arg)
{
    ASSERT(t->state == TXN_PREPARED);
    t->commit_ts = commit_ts;
    if (t->runs_count && !st->readonly)
        return spill_commit_prepared(st, t, commit_ts, WAL_REC_COMMIT_PREPARED, false, done, arg);
    store__pend_sync(st, t);    /* stays pending (in doubt) if the record fails */
    return store__queue_txn(st, t, WAL_REC_COMMIT_PREPARED, TXN_COMMITTING_PREPARED, true, done,
                            arg);
}

bool store_txn_prepared(const store_txn_t *t)
{
    return t->state == TXN_PREPARED;
}

uint64_t store_txn_commit_ts(const store_txn_t *t)
{
    return t->commit_ts;
}

void store_decision_release(store_t *st, uint64_t txn_id)
{
    for (uint32_t i = 0; i < st->pins_count; i++)
        if (st->pins[i].txn_id == txn_id) {
            st->pins[i] = st->pins[--st->pins_count];
            return;
        }
}

uint64_t store_pending_at(const store_t *st, uint64_t snap_ts)
{
    return store_pending_other(st, snap_ts, 0);
}

uint64_t store_pending_other(const store_t *st, uint64_t snap_ts, uint64_t self_id)
{
    /* The heap's top is the lowest; when it is self, the next lowest is a child of it. */
    if (st->pend_count == 0 || st->pend[0]->commit_ts > snap_ts)
        return 0;
    if (st->pend[0]->txn_id != self_id)
        return st->pend[0]->txn_id;
    for (size_t i = 1; i < 3 && i < st->pend_count; i++)
        if (st->pend[i]->commit_ts <= snap_ts)
            return st->pend[i]->txn_id;
    return 0;
}

uint64_t store_pending_min(const store_t *st)
{
    return st->pend_count ? st->pend[0]->commit_ts : 0;
}

void store_note_read(store_t *st, uint64_t snap_ts)
{
    if (snap_ts > st->read_max && snap_ts != UINT64_MAX)
        st->read_max = snap_ts;
}

uint64_t store_commit_floor(const store_t *st)
{
    return st->read_max + 1;
}

void store_hold_trim(store_t *st, bool hold)
{
    st->trim_hold = hold;
}

uint64_t store__pinned_lsn(const store_t *st)
{
    uint64_t lo = st->trim_hold ? 0 : UINT64_MAX;
    for (uint32_t i = 0; i < st->pins_count; i++)
        if (st->pins[i].lsn < lo)
            lo = st->pins[i].lsn;
    for (size_t b = 0; b < st->txns_buckets; b++)
        for (const store_txn_t *t = st->txns[b]; t; t = t->hnext)
            if ((t->state == TXN_PREPARED || t->state == TXN_COMMITTING_PREPARED) &&
                t->prepare_lsn && t->prepare_lsn < lo)
                lo = t->prepare_lsn;
    return lo;
}

int store__note_decision(store_t *st, uint64_t txn_id, uint64_t ts)
{
    if (st->decisions_count == st->decisions_cap) {
        uint32_t cap = st->decisions_cap ? st->decisions_cap * 2 : 64;
        struct store_pin *d = rt_realloc(st->decisions, cap * sizeof *d);
        if (!d)
            return STORE_ENOMEM;
        st->decisions = d;
        st->decisions_cap = cap;
    }
    st->decisions[st->decisions_count++] = (struct store_pin){txn_id, ts};
    return 0;
}

int store__note_vote(store_t *st, uint32_t kind, uint64_t txn_id, uint64_t ts,
                     const uint8_t *parts, uint32_t nparts)
{
    if (st->votes_count == st->votes_cap) {
        uint32_t cap = st->votes_cap ? st->votes_cap * 2 : 64;
        struct store_vote *v = rt_realloc(st->votes, cap * sizeof *v);
        if (!v)
            return STORE_ENOMEM;
        st->votes = v;
        st->votes_cap = cap;
    }
    struct store_vote v = {txn_id, ts, kind, nparts, NULL};
    if (nparts) {
        v.parts = rt_calloc(nparts, sizeof *v.parts);
        if (!v.parts)
            return STORE_ENOMEM;
        memcpy(v.parts, parts, (size_t)nparts * 4);    /* little-endian, as the WAL */
    }
    st->votes[st->votes_count++] = v;
    return 0;
}

/* This store's recovered record of kind for txn_id, or NULL. */
static const struct store_vote *store__vote(const store_t *st, uint32_t kind, uint64_t txn_id)
{
    for (uint32_t i = 0; i < st->votes_count; i++)
        if (st->votes[i].txn_id == txn_id && st->votes[i].kind == kind)
            return &st->votes[i];
    return NULL;
}

bool store_outcome(store_t *const *stores, int nstores, uint32_t coord, uint64_t txn_id,
                   uint64_t *commit_ts)
{
    if (coord >= (uint32_t)nstores)
        return false;
    if (store_decided(stores[coord], txn_id, commit_ts))
        return true;    /* the coordinator logged the decision (or its phase-two record) */
    const struct store_vote *v;
    for (int s = 0; s < nstores; s++) {
        if ((v = store__vote(stores[s], WAL_REC_COMMIT_PREPARED, txn_id))) {
            *commit_ts = v->ts;    /* written only once the outcome was commit */
            return true;
        }
        if (store__vote(stores[s], WAL_REC_ABORT_PREPARED, txn_id))
            return false;          /* written only once the outcome was abort */
    }
    const struct store_vote *sv = store__vote(stores[coord], WAL_REC_STAGED, txn_id);
    if (!sv)
        return false;              /* two-round commit without its decision, or never staged */
    uint64_t ts = sv->ts;
    for (uint32_t i = 0; i < sv->nparts; i++) {
        uint32_t ps = sv->parts[i];
        if (ps >= (uint32_t)nstores || !(v = store__vote(stores[ps], WAL_REC_PREPARE, txn_id)))
            return false;          /* a participant's prepare never became durable */
        if (v->ts > ts)
            ts = v->ts;
    }
    *commit_ts = ts;
    return true;
}

bool store_decided(const store_t *st, uint64_t txn_id, uint64_t *commit_ts)
{
    for (uint32_t i = 0; i < st->decisions_count; i++)
        if (st->decisions[i].txn_id == txn_id) {
            *commit_ts = st->decisions[i].lsn;
            return true;
        }
    return false;
}

void store_decisions_drop(store_t *st)
{
    rt_free(st->decisions);
    st->decisions = NULL;
    st->decisions_count = st->decisions_cap = 0;
    for (uint32_t i = 0; i < st->votes_count; i++)
        rt_free(st->votes[i].parts);
    rt_free(st->votes);
    st->votes = NULL;
    st->votes_count = st->votes_cap = 0;
}

int store_indoubt(const store_t *st, uint64_t *txn_ids, uint32_t *coords, int cap)
{
    int n = 0;
    for (size_t b = 0; b < st->txns_buckets; b++)
        for (const store_txn_t *t = st->txns[b]; t; t = t->hnext)
            if (t->state == TXN_PREPARED) {
                if (n < cap) {
                    txn_ids[n] = t->txn_id;
                    coords[n] = t->coord;
                }
                n++;
            }
    return n;
}

store_txn_t *store__txn_recovered(store_t *st, uint64_t txn_id)
{
    return store_txn_begin(st, txn_id);
}

int store_table_clear(store_t *st, uint32_t table_id, uint64_t ts,
                      void (*done)(void *arg, int rc), void *arg)
{
    if (st->readonly) {
        done(arg, STORE_EREADONLY);
        return 0;
    }
    store_pending_t p = {.type = WAL_REC_CLEAR, .table_id = table_id, .ts = ts, .done = done,
                         .arg = arg};
    int rc = store__enqueue(st, &p);
    if (rc)
        done(arg, rc);
    return 0;
}

/* Completes (ok) or fails one pending record. */
static void store__finish(store_t *st, store_pending_t *p, bool ok)
{
    if (ok) {
        st->applied_lsn = p->lsn;
        if (p->type != WAL_REC_PREPARE && p->type != WAL_REC_STAGED &&
            p->type != WAL_REC_ABORT_PREPARED && !p->no_versions)
            st->committed_lsn = p->lsn;    /* a flush is due only for memtable versions */
    }
    if (p->early) {
        /* Applied when queued; the transaction is committed by the one-round rule
         * whatever happens to this record (a failure leaves it for recovery). */
    } else if (p->type == WAL_REC_PREPARE || p->type == WAL_REC_STAGED) {
        store_txn_t *t = p->txn;
        if (ok) {
            t->state = TXN_PREPARED;
            t->prepare_lsn = p->lsn;
        } else {
            t->state = TXN_ACTIVE;
            store__pend_sync(st, t);
            store__txn_forget(st, t);
        }
    } else if (p->type == WAL_REC_COMMIT_PREPARED && !ok) {
        p->txn->state = TXN_PREPARED;    /* decided but not logged here: in doubt until restart */
    } else if (p->type == WAL_REC_ABORT_PREPARED) {
        /* nothing waits for it */
    } else if (p->type != WAL_REC_CLEAR) {
        store_txn_t *t = p->txn;
        if (ok) {
            if (p->type == WAL_REC_COMMIT_2PC) {
                ASSERT(st->pins_count < st->pins_cap);
                st->pins_reserved--;
                st->pins[st->pins_count++] = (struct store_pin){t->txn_id, p->lsn};
            }
            store__txn_apply(st, t, p->lsn);
        } else {
            if (p->type == WAL_REC_COMMIT_2PC)
                st->pins_reserved--;
            t->state = TXN_ACTIVE;
            store__pend_sync(st, t);
            for (uint32_t i = 0; i < t->writes_count; i++)
                store__drop_intent(st, t->writes[i], t->txn_id);
            t->writes_count = 0;
        }
        store__txn_end(st, t);
    } else if (ok) {
        memtable_clear_table(&st->mt, p->table_id);
        if (flush_note_clear(st, p->table_id) != 0 && !st->readonly) {
            log_error("store: no memory to record a table clear in %s; read-only", st->dir);
            st->readonly = true;
        }
        store__note_ts(st, p->ts);
    }
    p->done(p->arg, ok ? STORE_OK : STORE_EREADONLY);
}

static void store__write_done(void *arg, int res)
{
    store_t *st = arg;
    ASSERT(st->in_flight);
    st->stats.wal_sync_us_total += store__now_us() - st->flight_start_us;
    if (res == 0) {
        st->stats.wal_syncs++;
        st->stats.wal_bytes += st->f.len;
        st->stats.wal_records += st->f_count;
        for (size_t i = 0; i < st->f_count; i++)
            st->stats.wal_lazy_records += st->f_ents[i].lazy;
    } else if (!st->readonly) {
        log_error("store: WAL write to %s failed (%s); shard is read-only from now on",
                  st->wal_dir, strerror(-res));
        st->readonly = true;
    }
    /* in_flight stays set while callbacks run, so a nested store_sync waits. */
    for (size_t i = 0; i < st->f_count; i++)
        store__finish(st, &st->f_ents[i], res == 0);
    st->f_count = 0;
    st->f.len = 0;
    if (st->readonly) {
        /* Nothing queued can ever become durable. The queue is detached first because
         * callbacks may queue more (which then fail at once). */
        st->q_eager = 0;
        while (st->q_count) {
            store_pending_t p = st->q_ents[0];
            memmove(st->q_ents, st->q_ents + 1, (st->q_count - 1) * sizeof *st->q_ents);
            st->q_count--;
            store__finish(st, &p, false);
        }
        st->q.len = 0;
    }
    st->in_flight = false;
}

/* Puts a write that io.write refused to submit (without calling done) back at the
 * head of the queue, as if store_sync had not run. */
static void store__unsubmit(store_t *st, size_t hlen, uint64_t off)
{
    size_t bytes = st->f.len - hlen, n = st->f_count;
    /* The queue only shrank since the submission, so its capacity suffices. */
    ASSERT(st->q.cap >= st->q.len + bytes && st->q_cap >= st->q_count + n);
    memmove(st->q.ptr + bytes, st->q.ptr, st->q.len);
    memcpy(st->q.ptr, st->f.ptr + hlen, bytes);
    st->q.len += bytes;
    memmove(st->q_ents + n, st->q_ents, st->q_count * sizeof *st->q_ents);
    memcpy(st->q_ents, st->f_ents, n * sizeof *st->q_ents);
    st->q_count += n;
    for (size_t i = 0; i < n; i++)
        st->q_eager += !st->f_ents[i].lazy;
    st->f_count = 0;
    st->f.len = 0;
    st->seg_new = hlen > 0;
    st->seg_off = off;
    st->in_flight = false;
}

/* spill.c: queues a phase-two record of a transaction that already ended (its runs
 * are in the set and their manifest edit is durable), applied early. */
int store__queue_early(store_t *st, uint64_t txn_id, uint64_t ts, uint32_t coord, int type,
                       void (*done)(void *arg, int rc), void *arg)
{
    if (st->readonly)
        return STORE_EREADONLY;
    store_txn_t tmp = {.txn_id = txn_id, .commit_ts = ts, .coord = coord};
    store_pending_t p = {.type = type, .txn = &tmp, .ts = ts, .early = true,
                         .no_versions = true, .done = done, .arg = arg};
    int rc = store__enqueue(st, &p);
    if (rc == 0)
        st->q_ents[st->q_count - 1].txn = NULL;    /* encoded; nothing to apply */
    return rc;
}

int store_sync(store_t *st)
{
    store__handouts_free(st);
    flush_step(st);
    compact_step(st);
    spill_step(st);
    if (st->in_flight || st->q_count == 0)
        return 0;
    uint64_t now = store__now_us();
    bool lazy_alone = st->q_eager == 0;
    if (lazy_alone && !st->wal_kick && st->wal_lazy_us &&
        now - st->q_ents[0].queued_us < st->wal_lazy_us)
        return 0;    /* only lazy phase-two records: they wait for company */
    /* Take the longest prefix of the queue within one batch (at least one record). */
    size_t n = 0, bytes = 0, eager = 0;
    while (n < st->q_count &&
           (n == 0 || bytes + st->q_ents[n].rec_bytes <= LIMIT_WAL_BATCH_BYTES)) {
        eager += !st->q_ents[n].lazy;
        bytes += st->q_ents[n++].rec_bytes;
    }
    uint8_t hdr[WAL_SEG_HDR_BYTES];
    uint64_t first_lsn = st->next_lsn - st->q_count;
    int rc = wal_prepare_segment(st, bytes, first_lsn, hdr);
    if (rc < 0) {
        log_error("store: cannot start a WAL segment in %s", st->wal_dir);
        st->in_flight = true;
        st->flight_start_us = store__now_us();
        store__write_done(st, -EIO);
        return 0;
    }
    size_t hlen = st->seg_new ? WAL_SEG_HDR_BYTES : 0;
    st->f.len = 0;
    if (!store__buf_reserve(&st->f, hlen + bytes))
        return 0;    /* retried next turn */
    if (st->f_cap < n) {
        store_pending_t *e = rt_realloc(st->f_ents, n * sizeof *e);
        if (!e)
            return 0;
        st->f_ents = e;
        st->f_cap = n;
    }
    memcpy(st->f.ptr, hdr, hlen);
    memcpy(st->f.ptr + hlen, st->q.ptr, bytes);
    st->f.len = hlen + bytes;
    memmove(st->q.ptr, st->q.ptr + bytes, st->q.len - bytes);
    st->q.len -= bytes;
    memcpy(st->f_ents, st->q_ents, n * sizeof *st->f_ents);
    memmove(st->q_ents, st->q_ents + n, (st->q_count - n) * sizeof *st->q_ents);
    st->q_count -= n;
    st->q_eager -= eager;
    st->f_count = n;
    uint64_t waited = 0;
    for (size_t i = 0; i < n; i++)
        waited += now - st->f_ents[i].queued_us;
    st->seg_new = false;
    st->in_flight = true;
    st->flight_start_us = store__now_us();
    uint64_t off = st->seg_off;
    st->seg_off += st->f.len;
    rc = st->io.write(st->io.ctx, st->seg_fd, st->f.ptr, st->f.len, off, true,
                      store__write_done, st);
    if (rc == -EAGAIN || rc == -ENOMEM || rc == -EBUSY) {
        store__unsubmit(st, hlen, off);    /* submission queue full: next turn */
        return 0;
    }
    st->wal_kick = false;
    st->stats.wal_queue_us_total += waited;
    st->stats.wal_lazy_writes += lazy_alone;
    if (st->wal_batch_hook)
        st->wal_batch_hook(st->hook_arg, (uint32_t)n, waited);
    if (rc < 0)
        store__write_done(st, rc);
    return (int)n;
}

void store_wal_kick(store_t *st)
{
    st->wal_kick = true;
}

/* ---- garbage collection ---- */

static bool store__sst_may_have(const store_t *st, const mt_node_t *n)
{
    if (st->fl)
        return true;    /* the file being flushed may hold an older version already */
    for (uint32_t i = 0; i < st->sst_count; i++)
        if (!flush_masked(st, n->table_id, sst_file_no(st->ssts[i])) &&
            sst_may_contain(st->ssts[i], n->table_id, mt_key(n), n->klen))
            return true;
    return false;
}

/* Frees the shadowed part of n's chain; returns versions freed. */
static size_t store__gc_node(store_t *st, mt_node_t *n, uint64_t horizon_ts)
{
    mt_ver_t **pp = &n->vers;
    while (*pp && ((*pp)->txn_id || (*pp)->commit_ts > horizon_ts))
        pp = &(*pp)->next;
    if (!*pp)
        return 0;
    /* *pp is the version every snapshot >= horizon sees; everything older is dead. */
    size_t freed = 0;
    mt_ver_t *v = (*pp)->next;
    (*pp)->next = NULL;
    while (v) {
        mt_ver_t *next = v->next;
        memtable_ver_free(&st->mt, v);
        freed++;
        v = next;
    }
    /* A tombstone goes only when no sorted table may hold an older version under it. */
    if ((*pp)->kind == MT_TOMB && !store__sst_may_have(st, n)) {
        v = *pp;
        *pp = NULL;
        memtable_ver_free(&st->mt, v);
        freed++;
    }
    return freed;
}

size_t store_gc(store_t *st, uint64_t horizon_ts, size_t max_keys)
{
    memtable_t *mt = &st->mt;
    store__handouts_free(st);
    store_set_horizon(st, horizon_ts);
    if (mt->iters_open == 0)
        memtable_reap(mt);
    uint64_t mark = mt->news + st->gc_events;
    if (st->gc_idle && mark == st->gc_pass_mark)
        return 0;               /* a clean pass, nothing new since: nothing to collect */
    st->gc_idle = false;
    if (!st->gc_has_cursor) {
        st->gc_pass_mark = mark;
        st->gc_pass_dirty = false;
    }
    mt_node_t *n = st->gc_has_cursor ? memtable_seek(mt, st->gc_table, st->gc_key, st->gc_klen)
                                     : mt->head->next[0];
    if (n && st->gc_has_cursor &&
        memtable_cmp(n->table_id, mt_key(n), n->klen, st->gc_table, st->gc_key, st->gc_klen) == 0)
        n = n->next[0];
    size_t freed = 0;
    for (size_t i = 0; n && i < max_keys; i++) {
        mt_node_t *next = n->next[0];
        size_t f = store__gc_node(st, n, horizon_ts);
        freed += f;
        const mt_ver_t *v = n->vers;
        if (f || !v || v->next || v->txn_id || v->commit_ts > horizon_ts || v->kind != MT_VALUE)
            st->gc_pass_dirty = true;
        st->gc_has_cursor = true;
        st->gc_table = n->table_id;
        st->gc_klen = n->klen;
        memcpy(st->gc_key, mt_key(n), n->klen);
        if (!n->vers && mt->iters_open == 0)
            memtable_remove(mt, n);
        n = next;
    }
    if (!n) {
        st->gc_has_cursor = false;    /* next call starts over */
        st->gc_idle = !st->gc_pass_dirty && mt->news + st->gc_events == st->gc_pass_mark;
    }
    st->stats.gc_versions_dropped += freed;
    return freed;
}
