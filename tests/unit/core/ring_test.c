/*
 * ring_test.c -- the SPSC ring: capacity and publication rules on one thread, then
 * one producer thread and one consumer thread hammering a ring while the consumer
 * checks that every pointer arrives exactly once and in order. Run under
 * -fsanitize=thread as well (the tsan build).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/ring.h"
#include "tests/unit/test.h"

#define P(i) ((void *)(uintptr_t)(i))

TEST(capacity_and_publish)
{
    ring_t *r = ring_new();
    TEST_REQUIRE(r != NULL);
    void *out[8];
    TEST_CHECK(!ring_has_data(r));
    TEST_CHECK(ring_push(r, P(1)));
    TEST_CHECK(ring_unpublished(r) == 1);
    /* Pushed but not published: invisible to the consumer. */
    TEST_CHECK(!ring_has_data(r));
    TEST_CHECK(ring_pop_batch(r, out, 8) == 0);
    TEST_CHECK(ring_publish(r));
    TEST_CHECK(!ring_publish(r));
    TEST_CHECK(ring_has_data(r));
    TEST_CHECK(ring_pop_batch(r, out, 8) == 1 && out[0] == P(1));

    /* A full batch publishes by itself. */
    for (int i = 0; i < LIMIT_RING_BATCH; i++)
        TEST_CHECK(ring_push(r, P(100 + i)));
    TEST_CHECK(ring_unpublished(r) == 0);
    size_t got = 0;
    void *big[LIMIT_RING_BATCH];
    while (got < LIMIT_RING_BATCH) {
        size_t k = ring_pop_batch(r, big + got, LIMIT_RING_BATCH - got);
        TEST_REQUIRE(k > 0);
        got += k;
    }
    for (int i = 0; i < LIMIT_RING_BATCH; i++)
        TEST_CHECK(big[i] == P(100 + i));

    /* Exactly LIMIT_RING_SLOTS fit; one more is refused until the consumer pops. */
    for (int i = 0; i < LIMIT_RING_SLOTS; i++)
        TEST_REQUIRE(ring_push(r, P(i + 1)));
    TEST_CHECK(!ring_push(r, P(999999)));
    ring_publish(r);
    TEST_CHECK(ring_pop_batch(r, out, 1) == 1 && out[0] == P(1));
    TEST_CHECK(ring_push(r, P(LIMIT_RING_SLOTS + 1)));
    ring_publish(r);
    uintptr_t expect = 2;
    size_t k;
    while ((k = ring_pop_batch(r, out, 8)) > 0)
        for (size_t i = 0; i < k; i++)
            TEST_CHECK(out[i] == P(expect++));
    TEST_CHECK(expect == LIMIT_RING_SLOTS + 2);
    ring_free(r);
}

#ifdef NEXTDB_TSAN
#define HAMMER_COUNT 300000u
#else
#define HAMMER_COUNT 5000000u
#endif

static void *producer(void *arg)
{
    ring_t *r = arg;
    for (uintptr_t i = 1; i <= HAMMER_COUNT; i++) {
        while (!ring_push(r, P(i))) {
            ring_publish(r);
            sched_yield();
        }
        /* Publish at irregular points, like loop turns of varying length. */
        if ((i * 2654435761u) % 97 == 0)
            ring_publish(r);
    }
    ring_publish(r);
    return NULL;
}

typedef struct consumer_result { uintptr_t count; int out_of_order; } consumer_result_t;

static void *consumer(void *arg)
{
    ring_t *r = arg;
    static consumer_result_t res;
    void *batch[LIMIT_RING_DRAIN_BATCH];
    uintptr_t next = 1;
    while (next <= HAMMER_COUNT) {
        size_t k = ring_pop_batch(r, batch, LIMIT_RING_DRAIN_BATCH);
        if (k == 0) {
            sched_yield();
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            if (batch[i] != P(next))
                res.out_of_order++;
            next++;
        }
    }
    res.count = next - 1;
    return &res;
}

TEST(two_threads_order_and_count)
{
    ring_t *r = ring_new();
    TEST_REQUIRE(r != NULL);
    pthread_t p, c;
    TEST_REQUIRE(pthread_create(&c, NULL, consumer, r) == 0);
    TEST_REQUIRE(pthread_create(&p, NULL, producer, r) == 0);
    void *ret = NULL;
    pthread_join(p, NULL);
    pthread_join(c, &ret);
    consumer_result_t *res = ret;
    TEST_CHECK(res->count == HAMMER_COUNT);
    TEST_CHECK(res->out_of_order == 0);
    TEST_CHECK(!ring_has_data(r));
    ring_free(r);
}

TEST_MAIN()
