/*
 * snapreg.c -- registry of live snapshots and the process-wide horizon; see
 * snapreg.h for the model.
 *
 * Each shard thread keeps its live holds on a doubly linked list (thread-local, no
 * lock) and publishes its minimum in snapreg__slots[shard]. The minimum is computed by
 * walking the list: it holds one entry per open statement, cursor or repeatable-read
 * transaction of this shard's sessions, and the walk happens once per loop turn at
 * most, so a heap would buy nothing.
 */
#include "core/snapreg.h"

#include <stdatomic.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/rt.h"

static _Atomic uint64_t snapreg__slots[LIMIT_SHARDS_MAX];

static __thread snapreg_hold_t *snapreg__list;
static __thread uint32_t snapreg__count;

void snapreg_hold(snapreg_hold_t *h, uint64_t ts)
{
    ASSERT(!h->live);
    h->ts = ts;
    h->shard = rt_shard_id();
    h->prev = NULL;
    h->next = snapreg__list;
    if (snapreg__list)
        snapreg__list->prev = h;
    snapreg__list = h;
    h->live = true;
    snapreg__count++;
}

void snapreg_release(snapreg_hold_t *h)
{
    if (!h->live)
        return;
    ASSERT(h->shard == rt_shard_id());    /* the list is the registering thread's */
    if (h->prev)
        h->prev->next = h->next;
    else
        snapreg__list = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->prev = h->next = NULL;
    h->live = false;
    ASSERT(snapreg__count > 0);
    snapreg__count--;
}

uint64_t snapreg_publish(void)
{
    /* hlc_now, not hlc_peek: an idle shard's clock would otherwise stay where it was
     * and hold the horizon back; every later timestamp here is above this one. */
    uint64_t lo = hlc_now();
    for (const snapreg_hold_t *h = snapreg__list; h; h = h->next)
        if (h->ts < lo)
            lo = h->ts;
    int shard = rt_shard_id() < 0 ? 0 : rt_shard_id();    /* tests run off shard threads */
    ASSERT(shard < LIMIT_SHARDS_MAX);
    atomic_store_explicit(&snapreg__slots[shard], lo, memory_order_release);
    return lo;
}

uint64_t snapreg_horizon(void)
{
    int n = rt_shards_count() > 0 ? rt_shards_count() : 1;    /* 1 off shard threads (tests) */
    uint64_t lo = UINT64_MAX;
    for (int i = 0; i < n && i < LIMIT_SHARDS_MAX; i++) {
        uint64_t v = atomic_load_explicit(&snapreg__slots[i], memory_order_acquire);
        if (v < lo)
            lo = v;
    }
    return lo;
}

uint32_t snapreg_live_count(void)
{
    return snapreg__count;
}
