/*
 * ring.h -- bounded lock-free single-producer single-consumer ring of pointers.
 *
 * Why: shards talk only through messages (DESIGN.md section 1); rt keeps one ring per
 * ordered pair of shards, so every ring has exactly one producer thread and one
 * consumer thread and needs neither locks nor read-modify-write atomics.
 *
 * Model: LIMIT_RING_SLOTS pointer slots indexed by two free-running 64-bit counters,
 * head (next slot the consumer reads) and tail (one past the last slot the producer
 * published). They live on separate cache lines, each next to the other side's
 * private cached copy, so in the steady state neither side touches the other's line.
 * The producer writes slots first and publishes them by storing tail with release
 * order (ring_publish, at most once per rt loop turn or when LIMIT_RING_BATCH
 * unpublished slots accumulate); the consumer loads tail with acquire order, reads a
 * batch of slots and frees them by storing head with release order. Waking a
 * sleeping consumer (the `sleeping` flag and the doorbell eventfd) is rt's job; the
 * ordering argument is in rt.c at rt__flush_outbound / rt__prepare_sleep.
 *
 * Interface:
 *   ring_new / ring_free          allocate / free a ring (any thread, not concurrently)
 *   ring_push                     producer: append one pointer (unpublished); false = full
 *   ring_publish                  producer: make pushed pointers visible
 *   ring_unpublished              producer: pointers pushed but not yet published
 *   ring_pop_batch                consumer: take up to max published pointers
 *   ring_has_data                 consumer: is anything published and unread?
 *
 * Limits: LIMIT_RING_SLOTS slots (power of two); NULL may not be pushed.
 * Thread: push/publish/unpublished on the producer thread only; pop/has_data on the
 * consumer thread only.
 */
#ifndef NEXTDB_RING_H
#define NEXTDB_RING_H
#include <stdbool.h>
#include <stddef.h>

typedef struct ring ring_t;

ring_t *ring_new(void);
void ring_free(ring_t *r);
/* Stores p in the next free slot; publishes automatically when LIMIT_RING_BATCH
 * pointers are pending. Returns false when the ring is full (nothing stored). */
bool ring_push(ring_t *r, void *p);
/* Publishes every pushed pointer. Returns true when something was published. */
bool ring_publish(ring_t *r);
size_t ring_unpublished(const ring_t *r);
/* Moves up to max published pointers into out, in push order; returns the count. */
size_t ring_pop_batch(ring_t *r, void **out, size_t max);
bool ring_has_data(ring_t *r);
#endif
