/*
 * hlc_test.c -- the hybrid logical clock: strictly increasing, close to wall time,
 * merging observed timestamps, and per-thread state.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "core/hlc.h"
#include "tests/unit/test.h"

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

TEST(monotonic)
{
    uint64_t prev = hlc_now();
    for (int i = 0; i < 200000; i++) {
        uint64_t t = hlc_now();
        TEST_REQUIRE(t > prev);
        prev = t;
    }
    TEST_CHECK(hlc_peek() == prev);
    /* The physical part tracks the wall clock (within a second either way). */
    uint64_t phys = hlc_now() >> 12, w = wall_us();
    TEST_CHECK(phys + 1000000 > w && phys < w + 1000000);
}

TEST(observe_merges)
{
    uint64_t now = hlc_now();
    uint64_t future = now + ((uint64_t)5000000 << 12);   /* a clock 5 s ahead */
    hlc_observe(future);
    TEST_CHECK(hlc_peek() == future);
    uint64_t t = hlc_now();
    TEST_CHECK(t > future);
    TEST_CHECK(t == future + 1);     /* wall time is behind: the logical part moves */
    /* Observing the past changes nothing. */
    hlc_observe(now);
    TEST_CHECK(hlc_peek() == t);
    TEST_CHECK(hlc_now() == t + 1);
    /* The logical counter carries into the physical part instead of wrapping. */
    uint64_t edge = (future | 4095u) + ((uint64_t)1 << 12);
    hlc_floor(edge);
    TEST_CHECK(hlc_now() == edge + 1 && ((edge + 1) & 4095u) == 0);
}

static void *other_thread(void *arg)
{
    uint64_t *out = arg;
    *out = hlc_peek();
    return NULL;
}

TEST(thread_local_state)
{
    hlc_observe(hlc_now() + ((uint64_t)1000 << 12));
    uint64_t seen = 1;
    pthread_t t;
    TEST_REQUIRE(pthread_create(&t, NULL, other_thread, &seen) == 0);
    pthread_join(t, NULL);
    TEST_CHECK(seen == 0);           /* a fresh thread has its own, unset clock */
}

TEST_MAIN()
