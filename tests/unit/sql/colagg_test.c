/*
 * colagg_test.c -- sql/colagg's kernels: every SIMD level the CPU has gives exactly the
 * scalar reference's sums, minima and maxima, over random data, every length from 0
 * to 300 (all tail sizes of every vector width), unaligned starts, and the extremes
 * (int8 sums far past the int64 range, which sum(int8) turns into numeric; int4 sums
 * past the int32 range, which sum(int4) returns as bigint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/colagg.h"
#include "tests/unit/test.h"

#define N 4096

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct res {
    int64_t s16, s32, mn16, mx16, mn32, mx32, mn64, mx64;
    __int128 s64;
} res_t;

static res_t run(const int16_t *a, const int32_t *b, const int64_t *c, size_t n)
{
    res_t r = {0};
    r.s16 = colagg_sum_i16(a, n);
    r.s32 = colagg_sum_i32(b, n);
    r.s64 = colagg_sum_i64(c, n);
    if (n) {
        colagg_minmax_i16(a, n, &r.mn16, &r.mx16);
        colagg_minmax_i32(b, n, &r.mn32, &r.mx32);
        colagg_minmax_i64(c, n, &r.mn64, &r.mx64);
    }
    return r;
}

static bool same(const res_t *x, const res_t *y)
{
    return x->s16 == y->s16 && x->s32 == y->s32 && x->s64 == y->s64 && x->mn16 == y->mn16 &&
           x->mx16 == y->mx16 && x->mn32 == y->mn32 && x->mx32 == y->mx32 &&
           x->mn64 == y->mn64 && x->mx64 == y->mx64;
}

/* Checks every level against scalar over the arrays at offset off, lengths 0..maxn. */
static int compare_levels(const int16_t *a, const int32_t *b, const int64_t *c, size_t maxn)
{
    int bad = 0;
    for (size_t n = 0; n <= maxn; n += n < 300 ? 1 : 997) {
        if (!colagg_set_level(COLAGG_SCALAR))
            return 1;
        res_t ref = run(a, b, c, n);
        for (int l = COLAGG_AVX2; l < COLAGG_LEVELS; l++) {
            if (!colagg_set_level((colagg_level_t)l))
                continue;
            res_t got = run(a, b, c, n);
            if (!same(&ref, &got)) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s differs from scalar at n=%zu\n",
                            colagg_level_name((colagg_level_t)l), n);
            }
        }
    }
    return bad;
}

static int16_t a16[N + 8];
static int32_t a32[N + 8];
static int64_t a64[N + 8];

TEST(random_values_every_length_and_offset)
{
    for (int i = 0; i < N + 8; i++) {
        uint64_t r = next();
        a16[i] = (int16_t)r;
        a32[i] = (int32_t)(r >> 16);
        a64[i] = (int64_t)next();
    }
    for (int off = 0; off < 3; off++)
        TEST_CHECK(compare_levels(a16 + off, a32 + off, a64 + off, N) == 0);
}

TEST(extremes_sum_past_the_narrow_ranges)
{
    for (int i = 0; i < N; i++) {
        a16[i] = i % 3 ? INT16_MAX : INT16_MIN;
        a32[i] = INT32_MAX;
        a64[i] = i % 5 ? INT64_MAX : INT64_MIN;
    }
    TEST_CHECK(compare_levels(a16, a32, a64, N) == 0);
    TEST_REQUIRE(colagg_set_level(COLAGG_SCALAR));
    /* the scalar reference itself, against arithmetic done by hand */
    TEST_CHECK(colagg_sum_i32(a32, N) == (int64_t)INT32_MAX * N);
    __int128 want = 0;
    for (int i = 0; i < N; i++)
        want += a64[i];
    TEST_CHECK(colagg_sum_i64(a64, N) == want);
    TEST_CHECK(want > (__int128)INT64_MAX);    /* past int64: numeric territory */
    for (int i = 0; i < N; i++)
        a64[i] = INT64_MIN;
    TEST_CHECK(compare_levels(a16, a32, a64, N) == 0);
    TEST_REQUIRE(colagg_set_level(COLAGG_SCALAR));
    TEST_CHECK(colagg_sum_i64(a64, N) == (__int128)INT64_MIN * N);
    int64_t mn, mx;
    a64[17] = -5;
    a64[N - 1] = 7;
    for (int l = 0; l < COLAGG_LEVELS; l++) {
        if (!colagg_set_level((colagg_level_t)l))
            continue;
        colagg_minmax_i64(a64, N, &mn, &mx);
        TEST_CHECK(mn == INT64_MIN && mx == 7);
        colagg_minmax_i64(a64 + 17, 1, &mn, &mx);
        TEST_CHECK(mn == -5 && mx == -5);
    }
}

TEST(popcount_of_bitmaps)
{
    uint8_t bm[64];
    for (int i = 0; i < 64; i++)
        bm[i] = (uint8_t)next();
    for (size_t n = 0; n <= 512; n++) {
        uint64_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += bm[i / 8] >> (i % 8) & 1;
        TEST_CHECK(colagg_popcount(bm, n) == want);
    }
}

TEST(levels_report_what_the_cpu_has)
{
    TEST_CHECK(colagg_set_level(COLAGG_SCALAR));
    TEST_CHECK(!colagg_set_level(COLAGG_LEVELS));
    TEST_CHECK(strcmp(colagg_level_name(COLAGG_AVX2), "avx2") == 0);
    int have = 0;
    for (int l = 0; l < COLAGG_LEVELS; l++)
        have += colagg_set_level((colagg_level_t)l);
    fprintf(stderr, "  levels available: %d of %d\n", have, (int)COLAGG_LEVELS);
    TEST_CHECK(have >= 1);
}

TEST_MAIN()
