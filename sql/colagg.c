/*
 * colagg.c -- aggregate kernels over dense integer columns (contract: sql/colagg.h).
 *
 * Sums of int2/int4 widen every value to 64 bits (exact for any n < 2^32). An int8
 * sum is kept exactly without 128-bit lanes by splitting each value into its low 32
 * bits (unsigned) and its high 32 bits (signed): both partial sums fit 64-bit lanes
 * for n < 2^31, and the total is high * 2^32 + low. The scalar level is the plain
 * reference the SIMD levels are tested against (tests/unit/sql/colagg_test.c).
 */
#include <immintrin.h>
#include <string.h>

#include "sql/colagg.h"

#define COLAGG__AVX2 __attribute__((target("avx2")))
#define COLAGG__AVX512 __attribute__((target("avx512f,avx512bw")))

/* ---- scalar reference ---- */

static int64_t colagg__sum_i16_scalar(const int16_t *x, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

static int64_t colagg__sum_i32_scalar(const int32_t *x, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

static __int128 colagg__sum_i64_scalar(const int64_t *x, size_t n)
{
    __int128 s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

#define COLAGG__MINMAX_SCALAR(name, T)                                              \
    static void name(const T *x, size_t n, int64_t *mn, int64_t *mx)               \
    {                                                                               \
        T lo = x[0], hi = x[0];                                                     \
        for (size_t i = 1; i < n; i++) {                                            \
            lo = x[i] < lo ? x[i] : lo;                                             \
            hi = x[i] > hi ? x[i] : hi;                                             \
        }                                                                           \
        *mn = lo;                                                                   \
        *mx = hi;                                                                   \
    }
COLAGG__MINMAX_SCALAR(colagg__minmax_i16_scalar, int16_t)
COLAGG__MINMAX_SCALAR(colagg__minmax_i32_scalar, int32_t)
COLAGG__MINMAX_SCALAR(colagg__minmax_i64_scalar, int64_t)

/* ---- AVX2 ---- */

COLAGG__AVX2 static int64_t colagg__hsum_avx2(__m256i v)
{
    int64_t l[4];
    _mm256_storeu_si256((__m256i *)(void *)l, v);
    return l[0] + l[1] + l[2] + l[3];
}

COLAGG__AVX2 static int64_t colagg__sum_i16_avx2(const int16_t *x, size_t n)
{
    __m256i acc = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        __m256i pairs = _mm256_madd_epi16(v, ones);    /* 8 x int32, |.| <= 65536 */
        acc = _mm256_add_epi64(acc, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(pairs)));
        acc = _mm256_add_epi64(acc, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(pairs, 1)));
    }
    return colagg__hsum_avx2(acc) + colagg__sum_i16_scalar(x + i, n - i);
}

COLAGG__AVX2 static int64_t colagg__sum_i32_avx2(const int32_t *x, size_t n)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        a0 = _mm256_add_epi64(a0, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)));
        a1 = _mm256_add_epi64(a1, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
    }
    return colagg__hsum_avx2(_mm256_add_epi64(a0, a1)) + colagg__sum_i32_scalar(x + i, n - i);
}

/* low halves unsigned, high halves as unsigned minus 2^32 per negative value */
COLAGG__AVX2 static __int128 colagg__sum_i64_avx2(const int64_t *x, size_t n)
{
    __m256i lo = _mm256_setzero_si256(), uh = _mm256_setzero_si256(), neg = _mm256_setzero_si256();
    const __m256i mask = _mm256_set1_epi64x(0xffffffffll), zero = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        lo = _mm256_add_epi64(lo, _mm256_and_si256(v, mask));
        uh = _mm256_add_epi64(uh, _mm256_srli_epi64(v, 32));
        neg = _mm256_sub_epi64(neg, _mm256_cmpgt_epi64(zero, v));
    }
    uint64_t l[4], h[4], g[4];
    _mm256_storeu_si256((__m256i *)(void *)l, lo);
    _mm256_storeu_si256((__m256i *)(void *)h, uh);
    _mm256_storeu_si256((__m256i *)(void *)g, neg);
    __int128 low = (__int128)l[0] + l[1] + l[2] + l[3];
    __int128 high = (__int128)h[0] + h[1] + h[2] + h[3] - ((__int128)(g[0] + g[1] + g[2] + g[3]) << 32);
    return high * ((__int128)1 << 32) + low + colagg__sum_i64_scalar(x + i, n - i);
}

COLAGG__AVX2 static void colagg__minmax_i16_avx2(const int16_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    if (n < 16) {
        colagg__minmax_i16_scalar(x, n, mn, mx);
        return;
    }
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)x), hi = lo;
    size_t i = 16;
    for (; i + 16 <= n; i += 16) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        lo = _mm256_min_epi16(lo, v);
        hi = _mm256_max_epi16(hi, v);
    }
    int16_t a[16], b[16];
    _mm256_storeu_si256((__m256i *)(void *)a, lo);
    _mm256_storeu_si256((__m256i *)(void *)b, hi);
    int64_t m0, m1, t0, t1;
    colagg__minmax_i16_scalar(a, 16, &m0, &t0);
    colagg__minmax_i16_scalar(b, 16, &t1, &m1);
    if (i < n) {
        int64_t r0, r1;
        colagg__minmax_i16_scalar(x + i, n - i, &r0, &r1);
        m0 = r0 < m0 ? r0 : m0;
        m1 = r1 > m1 ? r1 : m1;
    }
    *mn = m0;
    *mx = m1;
}

COLAGG__AVX2 static void colagg__minmax_i32_avx2(const int32_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    if (n < 8) {
        colagg__minmax_i32_scalar(x, n, mn, mx);
        return;
    }
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)x), hi = lo;
    size_t i = 8;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        lo = _mm256_min_epi32(lo, v);
        hi = _mm256_max_epi32(hi, v);
    }
    int32_t a[8], b[8];
    _mm256_storeu_si256((__m256i *)(void *)a, lo);
    _mm256_storeu_si256((__m256i *)(void *)b, hi);
    int64_t m0, m1, t0, t1;
    colagg__minmax_i32_scalar(a, 8, &m0, &t0);
    colagg__minmax_i32_scalar(b, 8, &t1, &m1);
    if (i < n) {
        int64_t r0, r1;
        colagg__minmax_i32_scalar(x + i, n - i, &r0, &r1);
        m0 = r0 < m0 ? r0 : m0;
        m1 = r1 > m1 ? r1 : m1;
    }
    *mn = m0;
    *mx = m1;
}

COLAGG__AVX2 static void colagg__minmax_i64_avx2(const int64_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    if (n < 4) {
        colagg__minmax_i64_scalar(x, n, mn, mx);
        return;
    }
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)x), hi = lo;
    size_t i = 4;
    for (; i + 4 <= n; i += 4) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        lo = _mm256_blendv_epi8(lo, v, _mm256_cmpgt_epi64(lo, v));
        hi = _mm256_blendv_epi8(hi, v, _mm256_cmpgt_epi64(v, hi));
    }
    int64_t a[4], b[4];
    _mm256_storeu_si256((__m256i *)(void *)a, lo);
    _mm256_storeu_si256((__m256i *)(void *)b, hi);
    int64_t m0, m1, t0, t1;
    colagg__minmax_i64_scalar(a, 4, &m0, &t0);
    colagg__minmax_i64_scalar(b, 4, &t1, &m1);
    if (i < n) {
        int64_t r0, r1;
        colagg__minmax_i64_scalar(x + i, n - i, &r0, &r1);
        m0 = r0 < m0 ? r0 : m0;
        m1 = r1 > m1 ? r1 : m1;
    }
    *mn = m0;
    *mx = m1;
}

/* ---- AVX-512 (F + BW) ---- */

COLAGG__AVX512 static int64_t colagg__sum_i16_avx512(const int16_t *x, size_t n)
{
    __m512i acc = _mm512_setzero_si512(), ones = _mm512_set1_epi16(1);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        __m512i pairs = _mm512_madd_epi16(v, ones);    /* 16 x int32 */
        acc = _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(pairs)));
        acc = _mm512_add_epi64(acc, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(pairs, 1)));
    }
    return _mm512_reduce_add_epi64(acc) + colagg__sum_i16_scalar(x + i, n - i);
}

COLAGG__AVX512 static int64_t colagg__sum_i32_avx512(const int32_t *x, size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        a0 = _mm512_add_epi64(a0, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)));
        a1 = _mm512_add_epi64(a1, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
    }
    return _mm512_reduce_add_epi64(_mm512_add_epi64(a0, a1)) + colagg__sum_i32_scalar(x + i, n - i);
}

COLAGG__AVX512 static __int128 colagg__sum_i64_avx512(const int64_t *x, size_t n)
{
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    const __m512i mask = _mm512_set1_epi64(0xffffffffll);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        lo = _mm512_add_epi64(lo, _mm512_and_si512(v, mask));
        hi = _mm512_add_epi64(hi, _mm512_srai_epi64(v, 32));
    }
    uint64_t l[8];
    int64_t h[8];
    _mm512_storeu_si512((void *)l, lo);
    _mm512_storeu_si512((void *)h, hi);
    __int128 low = 0, high = 0;
    for (int k = 0; k < 8; k++) {
        low += l[k];
        high += h[k];
    }
    return high * ((__int128)1 << 32) + low + colagg__sum_i64_scalar(x + i, n - i);
}

COLAGG__AVX512 static void colagg__minmax_i16_avx512(const int16_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    if (n < 32) {
        colagg__minmax_i16_scalar(x, n, mn, mx);
        return;
    }
    __m512i lo = _mm512_loadu_si512((const void *)x), hi = lo;
    size_t i = 32;
    for (; i + 32 <= n; i += 32) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        lo = _mm512_min_epi16(lo, v);
        hi = _mm512_max_epi16(hi, v);
    }
    int16_t a[32], b[32];
    _mm512_storeu_si512((void *)a, lo);
    _mm512_storeu_si512((void *)b, hi);
    int64_t m0, m1, t0, t1;
    colagg__minmax_i16_scalar(a, 32, &m0, &t0);
    colagg__minmax_i16_scalar(b, 32, &t1, &m1);
    if (i < n) {
        int64_t r0, r1;
        colagg__minmax_i16_scalar(x + i, n - i, &r0, &r1);
        m0 = r0 < m0 ? r0 : m0;
        m1 = r1 > m1 ? r1 : m1;
    }
    *mn = m0;
    *mx = m1;
}

COLAGG__AVX512 static void colagg__minmax_i32_avx512(const int32_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    if (n < 16) {
        colagg__minmax_i32_scalar(x, n, mn, mx);
        return;
    }
    __m512i lo = _mm512_loadu_si512((const void *)x), hi = lo;
    size_t i = 16;
    for (; i + 16 <= n; i += 16) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        lo = _mm512_min_epi32(lo, v);
        hi = _mm512_max_epi32(hi, v);
    }
    int64_t m0 = _mm512_reduce_min_epi32(lo), m1 = _mm512_reduce_max_epi32(hi);
    if (i < n) {
        int64_t r0, r1;
        colagg__minmax_i32_scalar(x + i, n - i, &r0, &r1);
        m0 = r0 < m0 ? r0 : m0;
        m1 = r1 > m1 ? r1 : m1;
    }
    *mn = m0;
    *mx = m1;
}

COLAGG__AVX512 static void colagg__minmax_i64_avx512(const int64_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    if (n < 8) {
        colagg__minmax_i64_scalar(x, n, mn, mx);
        return;
    }
    __m512i lo = _mm512_loadu_si512((const void *)x), hi = lo;
    size_t i = 8;
    for (; i + 8 <= n; i += 8) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        lo = _mm512_min_epi64(lo, v);
        hi = _mm512_max_epi64(hi, v);
    }
    int64_t m0 = _mm512_reduce_min_epi64(lo), m1 = _mm512_reduce_max_epi64(hi);
    if (i < n) {
        int64_t r0, r1;
        colagg__minmax_i64_scalar(x + i, n - i, &r0, &r1);
        m0 = r0 < m0 ? r0 : m0;
        m1 = r1 > m1 ? r1 : m1;
    }
    *mn = m0;
    *mx = m1;
}

/* ---- dispatch ---- */

typedef struct colagg_fns {
    int64_t (*sum_i16)(const int16_t *, size_t);
    int64_t (*sum_i32)(const int32_t *, size_t);
    __int128 (*sum_i64)(const int64_t *, size_t);
    void (*minmax_i16)(const int16_t *, size_t, int64_t *, int64_t *);
    void (*minmax_i32)(const int32_t *, size_t, int64_t *, int64_t *);
    void (*minmax_i64)(const int64_t *, size_t, int64_t *, int64_t *);
} colagg_fns_t;

static const colagg_fns_t colagg__fns[COLAGG_LEVELS] = {
    [COLAGG_SCALAR] = {colagg__sum_i16_scalar, colagg__sum_i32_scalar, colagg__sum_i64_scalar,
                       colagg__minmax_i16_scalar, colagg__minmax_i32_scalar, colagg__minmax_i64_scalar},
    [COLAGG_AVX2] = {colagg__sum_i16_avx2, colagg__sum_i32_avx2, colagg__sum_i64_avx2,
                     colagg__minmax_i16_avx2, colagg__minmax_i32_avx2, colagg__minmax_i64_avx2},
    [COLAGG_AVX512] = {colagg__sum_i16_avx512, colagg__sum_i32_avx512, colagg__sum_i64_avx512,
                       colagg__minmax_i16_avx512, colagg__minmax_i32_avx512, colagg__minmax_i64_avx512},
};

static const char *const colagg__names[COLAGG_LEVELS] = {"scalar", "avx2", "avx512"};

static int colagg__level = -1;    /* chosen on first use */

static bool colagg__supported(colagg_level_t level)
{
    __builtin_cpu_init();
    switch (level) {
    case COLAGG_SCALAR: return true;
    case COLAGG_AVX2: return __builtin_cpu_supports("avx2");
    case COLAGG_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    default: return false;
    }
}

colagg_level_t colagg_level(void)
{
    if (colagg__level < 0) {
        int l = COLAGG_SCALAR;
        if (colagg__supported(COLAGG_AVX512))
            l = COLAGG_AVX512;
        else if (colagg__supported(COLAGG_AVX2))
            l = COLAGG_AVX2;
        colagg__level = l;
    }
    return (colagg_level_t)colagg__level;
}

bool colagg_set_level(colagg_level_t level)
{
    if ((int)level < 0 || level >= COLAGG_LEVELS || !colagg__supported(level))
        return false;
    colagg__level = (int)level;
    return true;
}

const char *colagg_level_name(colagg_level_t level)
{
    return (int)level >= 0 && level < COLAGG_LEVELS ? colagg__names[level] : "?";
}

int64_t colagg_sum_i16(const int16_t *x, size_t n) { return colagg__fns[colagg_level()].sum_i16(x, n); }
int64_t colagg_sum_i32(const int32_t *x, size_t n) { return colagg__fns[colagg_level()].sum_i32(x, n); }
__int128 colagg_sum_i64(const int64_t *x, size_t n) { return colagg__fns[colagg_level()].sum_i64(x, n); }

void colagg_minmax_i16(const int16_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    colagg__fns[colagg_level()].minmax_i16(x, n, mn, mx);
}

void colagg_minmax_i32(const int32_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    colagg__fns[colagg_level()].minmax_i32(x, n, mn, mx);
}

void colagg_minmax_i64(const int64_t *x, size_t n, int64_t *mn, int64_t *mx)
{
    colagg__fns[colagg_level()].minmax_i64(x, n, mn, mx);
}

uint64_t colagg_popcount(const uint8_t *bm, size_t n)
{
    uint64_t c = 0;
    size_t i = 0, words = n / 64;
    for (size_t w = 0; w < words; w++, i += 64) {
        uint64_t v;
        memcpy(&v, bm + w * 8, 8);
        c += (uint64_t)__builtin_popcountll(v);
    }
    for (; i < n; i++)
        c += bm[i / 8] >> (i % 8) & 1;
    return c;
}
