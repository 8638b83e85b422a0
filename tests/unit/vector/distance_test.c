/*
 * distance_test.c -- every SIMD kernel equals the scalar reference within a relative
 * float tolerance, for dims 1..300, random data and odd alignments; the dispatching
 * functions and NEXTDB_SIMD agree with the chosen level.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "vector/distance.h"

#define DT_DIM_MAX 300

static uint64_t dt_rng = 0x9E3779B97F4A7C15ull;

static float dt_rand(void)
{
    dt_rng ^= dt_rng << 13;
    dt_rng ^= dt_rng >> 7;
    dt_rng ^= dt_rng << 17;
    return (float)((double)(dt_rng >> 11) / (double)(1ull << 53)) * 2.0f - 1.0f;
}

/* Tolerance scaled by the sum of absolute terms, so cancellation in a dot product
 * does not make a correct kernel fail a purely relative check. */
static double dt_scale(distance_kernel_t k, const float *a, const float *b, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++) {
        if (k == DISTANCE_KERNEL_DOT) s += fabs((double)a[i] * b[i]);
        else s += fabs((double)a[i] - b[i]) * (k == DISTANCE_KERNEL_L2SQ ? fabs((double)a[i] - b[i]) : 1.0);
    }
    return s;
}

TEST(kernels_match_scalar)
{
    /* One spare float at each end lets the arrays start at every offset mod 4..16 bytes. */
    static float abuf[DT_DIM_MAX + 32], bbuf[DT_DIM_MAX + 32];
    int compared = 0;
    for (int level = 1; level < DISTANCE_SIMD_COUNT; level++) {
        if (!distance_simd_supported((distance_simd_t)level)) {
            fprintf(stderr, "  %s not supported here, skipped\n", distance_simd_name((distance_simd_t)level));
            continue;
        }
        for (int k = 0; k < DISTANCE_KERNEL_COUNT; k++) {
            distance_fn ref = distance_kernel((distance_kernel_t)k, DISTANCE_SIMD_SCALAR);
            distance_fn fn = distance_kernel((distance_kernel_t)k, (distance_simd_t)level);
            TEST_REQUIRE(ref != NULL && fn != NULL);
            for (size_t dim = 1; dim <= DT_DIM_MAX; dim++) {
                size_t off_a = dim % 7, off_b = (dim * 3) % 5;
                float *a = abuf + off_a, *b = bbuf + off_b;
                for (size_t i = 0; i < dim; i++) {
                    a[i] = dt_rand();
                    b[i] = dt_rand();
                }
                double r = ref(a, b, dim), v = fn(a, b, dim);
                double tol = k == DISTANCE_KERNEL_COSINE ? 1e-5 : 1e-5 * dt_scale((distance_kernel_t)k, a, b, dim) + 1e-6;
                if (!(fabs(r - v) <= tol)) {
                    fprintf(stderr, "  %s kernel %d dim %zu: scalar %.9g simd %.9g\n",
                            distance_simd_name((distance_simd_t)level), k, dim, r, v);
                    TEST_CHECK(fabs(r - v) <= tol);
                }
                compared++;
            }
        }
    }
    fprintf(stderr, "  %d comparisons\n", compared);
}

TEST(known_values)
{
    float a[3] = {1, 2, 3}, b[3] = {4, 5, 6}, z[3] = {0, 0, 0};
    for (int level = 0; level < DISTANCE_SIMD_COUNT; level++) {
        if (!distance_simd_supported((distance_simd_t)level)) continue;
        distance_simd_t l = (distance_simd_t)level;
        TEST_CHECK(distance_kernel(DISTANCE_KERNEL_L2SQ, l)(a, b, 3) == 27.0f);
        TEST_CHECK(distance_kernel(DISTANCE_KERNEL_DOT, l)(a, b, 3) == 32.0f);
        TEST_CHECK(distance_kernel(DISTANCE_KERNEL_L1, l)(a, b, 3) == 9.0f);
        TEST_CHECK(fabsf(distance_kernel(DISTANCE_KERNEL_COSINE, l)(a, b, 3) - 0.025368153f) < 1e-6f);
        TEST_CHECK(isnan(distance_kernel(DISTANCE_KERNEL_COSINE, l)(a, z, 3)));
        TEST_CHECK(distance_kernel(DISTANCE_KERNEL_COSINE, l)(a, a, 3) >= 0.0f);
    }
    TEST_CHECK(distance_l2sq(a, b, 3) == 27.0f);
    TEST_CHECK(distance_metric_fn(DISTANCE_METRIC_IP)(a, b, 3) == -32.0f);
    TEST_CHECK(fabsf(distance_norm(a, 3) - sqrtf(14.0f)) < 1e-6f);
}

TEST(env_forces_level)
{
    const char *env = getenv("NEXTDB_SIMD");
    distance_simd_t active = distance_simd_active();
    fprintf(stderr, "  active level: %s (NEXTDB_SIMD=%s)\n", distance_simd_name(active), env ? env : "");
    if (env != NULL && distance_simd_supported(DISTANCE_SIMD_AVX512) && env[0])
        TEST_CHECK(strcmp(distance_simd_name(active), env) == 0);
    if (env == NULL) {
        distance_simd_t best = distance_simd_supported(DISTANCE_SIMD_AVX512) ? DISTANCE_SIMD_AVX512
                             : distance_simd_supported(DISTANCE_SIMD_AVX2) ? DISTANCE_SIMD_AVX2
                                                                         : DISTANCE_SIMD_SCALAR;
        TEST_CHECK(active == best);
    }
}

TEST_MAIN()
