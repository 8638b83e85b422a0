/*
 * ring.c -- SPSC pointer ring; see ring.h for the model.
 */
#include "core/ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"

#define RING_MASK ((uint64_t)LIMIT_RING_SLOTS - 1)
STATIC_ASSERT((LIMIT_RING_SLOTS & (LIMIT_RING_SLOTS - 1)) == 0, "ring slots: power of two");
STATIC_ASSERT(LIMIT_RING_BATCH >= 1 && LIMIT_RING_BATCH <= LIMIT_RING_SLOTS,
              "a producer batch fits in the ring");

struct ring {
    /* Consumer's cache line: head is written by the consumer, read by the producer. */
    alignas(64) _Atomic uint64_t ring_head;
    uint64_t ring_tail_seen;      /* consumer's last acquire-load of ring_tail */
    /* Producer's cache line: tail is written by the producer, read by the consumer. */
    alignas(64) _Atomic uint64_t ring_tail;
    uint64_t ring_tail_next;      /* producer: one past the last pushed (maybe unpublished) */
    uint64_t ring_head_seen;      /* producer's last acquire-load of ring_head */
    /* Slots: each written by the producer before publication, read by the consumer
     * after it; the release/acquire pair on tail (and on head, for reuse) orders them.
     * Relaxed atomics so that TSan sees no plain-memory race on slot reuse. */
    alignas(64) _Atomic(void *) ring_slots[LIMIT_RING_SLOTS];
};

ring_t *ring_new(void)
{
    /* Cache-line alignment is what keeps head and tail apart, so the ring does not
     * come from rt_malloc (16-byte aligned) but from posix_memalign. Rings are made
     * and freed once per rt_start / rt_join on the main thread. */
    void *mem = NULL;
    if (posix_memalign(&mem, 64, sizeof(ring_t)) != 0)
        return NULL;
    ring_t *r = mem;
    memset(r, 0, sizeof *r);
    atomic_init(&r->ring_head, 0);
    atomic_init(&r->ring_tail, 0);
    return r;
}

void ring_free(ring_t *r) { free(r); }

bool ring_push(ring_t *r, void *p)
{
    ASSERT(p != NULL);
    uint64_t t = r->ring_tail_next;
    if (t - r->ring_head_seen >= LIMIT_RING_SLOTS) {
        /* Acquire: the consumer finished reading the slots it released. */
        r->ring_head_seen = atomic_load_explicit(&r->ring_head, memory_order_acquire);
        if (t - r->ring_head_seen >= LIMIT_RING_SLOTS)
            return false;
    }
    atomic_store_explicit(&r->ring_slots[t & RING_MASK], p, memory_order_relaxed);
    r->ring_tail_next = t + 1;
    if (t + 1 - atomic_load_explicit(&r->ring_tail, memory_order_relaxed) >= LIMIT_RING_BATCH)
        ring_publish(r);
    return true;
}

bool ring_publish(ring_t *r)
{
    uint64_t published = atomic_load_explicit(&r->ring_tail, memory_order_relaxed);
    if (published == r->ring_tail_next)
        return false;
    /* Release: the slot stores above become visible before the new tail. */
    atomic_store_explicit(&r->ring_tail, r->ring_tail_next, memory_order_release);
    return true;
}

size_t ring_unpublished(const ring_t *r)
{
    return (size_t)(r->ring_tail_next -
                    atomic_load_explicit(&((ring_t *)r)->ring_tail, memory_order_relaxed));
}

size_t ring_pop_batch(ring_t *r, void **out, size_t max)
{
    uint64_t h = atomic_load_explicit(&r->ring_head, memory_order_relaxed);
    if (h == r->ring_tail_seen)
        r->ring_tail_seen = atomic_load_explicit(&r->ring_tail, memory_order_acquire);
    uint64_t avail = r->ring_tail_seen - h;
    DASSERT(avail <= LIMIT_RING_SLOTS);
    size_t n = avail < max ? (size_t)avail : max;
    for (size_t i = 0; i < n; i++)
        out[i] = atomic_load_explicit(&r->ring_slots[(h + i) & RING_MASK], memory_order_relaxed);
    if (n)
        /* Release: our slot reads complete before the producer may overwrite them. */
        atomic_store_explicit(&r->ring_head, h + n, memory_order_release);
    return n;
}

bool ring_has_data(ring_t *r)
{
    uint64_t h = atomic_load_explicit(&r->ring_head, memory_order_relaxed);
    if (h != r->ring_tail_seen)
        return true;
    r->ring_tail_seen = atomic_load_explicit(&r->ring_tail, memory_order_acquire);
    return h != r->ring_tail_seen;
}
