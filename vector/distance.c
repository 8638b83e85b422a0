/*
 * distance.c -- the distance kernels at three SIMD levels and their run-time dispatch.
 *
 * The SIMD loops keep four independent vector accumulators: an FMA has a latency of
 * four cycles and a throughput of two per cycle, so a single accumulator would leave
 * the core idle most of the time. After the 4-wide unrolled loop, one vector at a time
 * is consumed, and the last dim % width floats are loaded with a mask (AVX-512 k-mask,
 * AVX2 vmaskmov), which never touches memory past the end of the arrays.
 */
#include "vector/distance.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Turns the three sums of a cosine kernel into the distance, as pgvector does:
 * NaN for a zero norm, similarity clamped to [-1, 1] against rounding. */
static float distance__cosine_finish(double dot, double na, double nb)
{
    double denom = sqrt(na * nb);
    if (denom == 0.0)
        return NAN;
    double sim = dot / denom;
    if (sim > 1.0) sim = 1.0;
    if (sim < -1.0) sim = -1.0;
    return (float)(1.0 - sim);
}

/* ---- scalar reference: the plain definition, one float accumulator ---- */

static float distance__l2sq_scalar(const float *a, const float *b, size_t dim)
{
    float sum = 0.0f;
    for (size_t i = 0; i < dim; i++) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

static float distance__dot_scalar(const float *a, const float *b, size_t dim)
{
    float sum = 0.0f;
    for (size_t i = 0; i < dim; i++)
        sum += a[i] * b[i];
    return sum;
}

static float distance__cosine_scalar(const float *a, const float *b, size_t dim)
{
    float dot = 0.0f, na = 0.0f, nb = 0.0f;
    for (size_t i = 0; i < dim; i++) {
        dot += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return distance__cosine_finish(dot, na, nb);
}

static float distance__l1_scalar(const float *a, const float *b, size_t dim)
{
    float sum = 0.0f;
    for (size_t i = 0; i < dim; i++)
        sum += fabsf(a[i] - b[i]);
    return sum;
}

/* ---- AVX2 + FMA ---- */

#define DISTANCE__AVX2 __attribute__((target("avx2,fma")))

/* Mask selecting the first n (0..7) lanes for vmaskmovps. */
DISTANCE__AVX2 static inline __m256i distance__avx2_tail_mask(size_t n)
{
    static const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(lanes + 8 - n));
}

DISTANCE__AVX2 static inline float distance__avx2_hsum(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

DISTANCE__AVX2 static float distance__l2sq_avx2(const float *a, const float *b, size_t dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (i < dim) {
        __m256i m = distance__avx2_tail_mask(dim - i);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return distance__avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

DISTANCE__AVX2 static float distance__dot_avx2(const float *a, const float *b, size_t dim)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= dim; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < dim) {
        __m256i m = distance__avx2_tail_mask(dim - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return distance__avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* Cosine needs three sums; two accumulator sets of three keep 6 chains in flight. */
DISTANCE__AVX2 static float distance__cosine_avx2(const float *a, const float *b, size_t dim)
{
    __m256 d0 = _mm256_setzero_ps(), d1 = d0, a0 = d0, a1 = d0, b0 = d0, b1 = d0;
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m256 x0 = _mm256_loadu_ps(a + i), y0 = _mm256_loadu_ps(b + i);
        __m256 x1 = _mm256_loadu_ps(a + i + 8), y1 = _mm256_loadu_ps(b + i + 8);
        d0 = _mm256_fmadd_ps(x0, y0, d0);
        d1 = _mm256_fmadd_ps(x1, y1, d1);
        a0 = _mm256_fmadd_ps(x0, x0, a0);
        a1 = _mm256_fmadd_ps(x1, x1, a1);
        b0 = _mm256_fmadd_ps(y0, y0, b0);
        b1 = _mm256_fmadd_ps(y1, y1, b1);
    }
    for (; i < dim; i += 8) {
        __m256 x, y;
        if (i + 8 <= dim) {
            x = _mm256_loadu_ps(a + i);
            y = _mm256_loadu_ps(b + i);
        } else {
            __m256i m = distance__avx2_tail_mask(dim - i);
            x = _mm256_maskload_ps(a + i, m);
            y = _mm256_maskload_ps(b + i, m);
        }
        d0 = _mm256_fmadd_ps(x, y, d0);
        a0 = _mm256_fmadd_ps(x, x, a0);
        b0 = _mm256_fmadd_ps(y, y, b0);
    }
    return distance__cosine_finish(distance__avx2_hsum(_mm256_add_ps(d0, d1)),
                                   distance__avx2_hsum(_mm256_add_ps(a0, a1)),
                                   distance__avx2_hsum(_mm256_add_ps(b0, b1)));
}

DISTANCE__AVX2 static float distance__l1_avx2(const float *a, const float *b, size_t dim)
{
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_add_ps(s0, _mm256_and_ps(d0, abs_mask));
        s1 = _mm256_add_ps(s1, _mm256_and_ps(d1, abs_mask));
        s2 = _mm256_add_ps(s2, _mm256_and_ps(d2, abs_mask));
        s3 = _mm256_add_ps(s3, _mm256_and_ps(d3, abs_mask));
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_add_ps(s0, _mm256_and_ps(d, abs_mask));
    }
    if (i < dim) {
        __m256i m = distance__avx2_tail_mask(dim - i);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s1 = _mm256_add_ps(s1, _mm256_and_ps(d, abs_mask));
    }
    return distance__avx2_hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* ---- AVX-512F ---- */

#define DISTANCE__AVX512 __attribute__((target("avx512f")))

DISTANCE__AVX512 static inline __mmask16 distance__avx512_tail_mask(size_t n)
{
    return (__mmask16)((1u << n) - 1u);
}

DISTANCE__AVX512 static float distance__l2sq_avx512(const float *a, const float *b, size_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
        s2 = _mm512_fmadd_ps(d2, d2, s2);
        s3 = _mm512_fmadd_ps(d3, d3, s3);
    }
    for (; i + 16 <= dim; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < dim) {
        __mmask16 m = distance__avx512_tail_mask(dim - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

DISTANCE__AVX512 static float distance__dot_avx512(const float *a, const float *b, size_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= dim; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < dim) {
        __mmask16 m = distance__avx512_tail_mask(dim - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

DISTANCE__AVX512 static float distance__cosine_avx512(const float *a, const float *b, size_t dim)
{
    __m512 d0 = _mm512_setzero_ps(), d1 = d0, a0 = d0, a1 = d0, b0 = d0, b1 = d0;
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m512 x0 = _mm512_loadu_ps(a + i), y0 = _mm512_loadu_ps(b + i);
        __m512 x1 = _mm512_loadu_ps(a + i + 16), y1 = _mm512_loadu_ps(b + i + 16);
        d0 = _mm512_fmadd_ps(x0, y0, d0);
        d1 = _mm512_fmadd_ps(x1, y1, d1);
        a0 = _mm512_fmadd_ps(x0, x0, a0);
        a1 = _mm512_fmadd_ps(x1, x1, a1);
        b0 = _mm512_fmadd_ps(y0, y0, b0);
        b1 = _mm512_fmadd_ps(y1, y1, b1);
    }
    for (; i < dim; i += 16) {
        __mmask16 m = dim - i >= 16 ? (__mmask16)0xffff : distance__avx512_tail_mask(dim - i);
        __m512 x = _mm512_maskz_loadu_ps(m, a + i), y = _mm512_maskz_loadu_ps(m, b + i);
        d0 = _mm512_fmadd_ps(x, y, d0);
        a0 = _mm512_fmadd_ps(x, x, a0);
        b0 = _mm512_fmadd_ps(y, y, b0);
    }
    return distance__cosine_finish(_mm512_reduce_add_ps(_mm512_add_ps(d0, d1)),
                                   _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)),
                                   _mm512_reduce_add_ps(_mm512_add_ps(b0, b1)));
}

DISTANCE__AVX512 static float distance__l1_avx512(const float *a, const float *b, size_t dim)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
        s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16))));
        s2 = _mm512_add_ps(s2, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32))));
        s3 = _mm512_add_ps(s3, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48))));
    }
    for (; i + 16 <= dim; i += 16)
        s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
    if (i < dim) {
        __mmask16 m = distance__avx512_tail_mask(dim - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_add_ps(s1, _mm512_abs_ps(d));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* ---- negative inner product, the ordering distance of vector_ip_ops ---- */

static float distance__negdot_scalar(const float *a, const float *b, size_t dim)
{
    return -distance__dot_scalar(a, b, dim);
}
static float distance__negdot_avx2(const float *a, const float *b, size_t dim)
{
    return -distance__dot_avx2(a, b, dim);
}
static float distance__negdot_avx512(const float *a, const float *b, size_t dim)
{
    return -distance__dot_avx512(a, b, dim);
}

/* ---- dispatch ---- */

static const distance_fn distance__table[DISTANCE_SIMD_COUNT][DISTANCE_KERNEL_COUNT] = {
    [DISTANCE_SIMD_SCALAR] = {distance__l2sq_scalar, distance__dot_scalar,
                              distance__cosine_scalar, distance__l1_scalar},
    [DISTANCE_SIMD_AVX2] = {distance__l2sq_avx2, distance__dot_avx2,
                            distance__cosine_avx2, distance__l1_avx2},
    [DISTANCE_SIMD_AVX512] = {distance__l2sq_avx512, distance__dot_avx512,
                              distance__cosine_avx512, distance__l1_avx512},
};

static const distance_fn distance__negdot[DISTANCE_SIMD_COUNT] = {
    distance__negdot_scalar, distance__negdot_avx2, distance__negdot_avx512};

static const char *const distance__simd_names[DISTANCE_SIMD_COUNT] = {"scalar", "avx2", "avx512"};

/* -1 until the first call chooses; then the chosen level. */
static int distance__level = -1;

bool distance_simd_supported(distance_simd_t level)
{
    __builtin_cpu_init();
    switch (level) {
    case DISTANCE_SIMD_SCALAR: return true;
    case DISTANCE_SIMD_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case DISTANCE_SIMD_AVX512: return __builtin_cpu_supports("avx512f");
    default: return false;
    }
}

const char *distance_simd_name(distance_simd_t level)
{
    return (unsigned)level < DISTANCE_SIMD_COUNT ? distance__simd_names[level] : "?";
}

/* Chooses the level: the best the CPU has, unless NEXTDB_SIMD names one it can run. */
static distance_simd_t distance__choose(void)
{
    distance_simd_t best = DISTANCE_SIMD_SCALAR;
    for (int l = DISTANCE_SIMD_COUNT - 1; l > 0; l--)
        if (distance_simd_supported((distance_simd_t)l)) {
            best = (distance_simd_t)l;
            break;
        }
    const char *env = getenv("NEXTDB_SIMD");
    if (env == NULL || env[0] == '\0')
        return best;
    for (int l = 0; l < DISTANCE_SIMD_COUNT; l++)
        if (strcmp(env, distance__simd_names[l]) == 0) {
            if (distance_simd_supported((distance_simd_t)l))
                return (distance_simd_t)l;
            fprintf(stderr, "NEXTDB_SIMD=%s: not supported by this CPU, using %s\n", env,
                    distance__simd_names[best]);
            return best;
        }
    fprintf(stderr, "NEXTDB_SIMD=%s: unknown (scalar|avx2|avx512), using %s\n", env,
            distance__simd_names[best]);
    return best;
}

distance_simd_t distance_simd_active(void)
{
    int level = __atomic_load_n(&distance__level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = (int)distance__choose();
        __atomic_store_n(&distance__level, level, __ATOMIC_RELAXED);
    }
    return (distance_simd_t)level;
}

distance_fn distance_kernel(distance_kernel_t kernel, distance_simd_t level)
{
    if ((unsigned)kernel >= DISTANCE_KERNEL_COUNT || (unsigned)level >= DISTANCE_SIMD_COUNT)
        return NULL;
    if (!distance_simd_supported(level))
        return NULL;
    return distance__table[level][kernel];
}

distance_fn distance_metric_fn(distance_metric_t metric)
{
    distance_simd_t level = distance_simd_active();
    switch (metric) {
    case DISTANCE_METRIC_L2: return distance__table[level][DISTANCE_KERNEL_L2SQ];
    case DISTANCE_METRIC_IP: return distance__negdot[level];
    case DISTANCE_METRIC_COSINE: return distance__table[level][DISTANCE_KERNEL_COSINE];
    case DISTANCE_METRIC_L1: return distance__table[level][DISTANCE_KERNEL_L1];
    default: return NULL;
    }
}

const char *distance_metric_name(distance_metric_t metric)
{
    static const char *const names[DISTANCE_METRIC_COUNT] = {"l2", "ip", "cosine", "l1"};
    return (unsigned)metric < DISTANCE_METRIC_COUNT ? names[metric] : "?";
}

float distance_l2sq(const float *a, const float *b, size_t dim)
{
    return distance__table[distance_simd_active()][DISTANCE_KERNEL_L2SQ](a, b, dim);
}

float distance_dot(const float *a, const float *b, size_t dim)
{
    return distance__table[distance_simd_active()][DISTANCE_KERNEL_DOT](a, b, dim);
}

float distance_cosine(const float *a, const float *b, size_t dim)
{
    return distance__table[distance_simd_active()][DISTANCE_KERNEL_COSINE](a, b, dim);
}

float distance_l1(const float *a, const float *b, size_t dim)
{
    return distance__table[distance_simd_active()][DISTANCE_KERNEL_L1](a, b, dim);
}

float distance_norm(const float *a, size_t dim)
{
    return sqrtf(distance_dot(a, a, dim));
}
