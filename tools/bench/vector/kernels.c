/*
 * kernels.c -- micro-benchmark of the distance kernels: GB/s per kernel, SIMD level
 * and dimension, next to this machine's single-core memory read bandwidth.
 *
 * Two figures per kernel:
 *   hot   both vectors stay in L1 (the same pair again and again): compute-bound,
 *         bytes counted = 2 * dim * 4 per call
 *   scan  one query against a 256 MiB array of vectors (an exact scan):
 *         memory-bound, bytes counted = dim * 4 per call (the query stays cached)
 * The bandwidth line is a plain streaming read of the same 256 MiB buffer (AVX2
 * loads, four accumulators), best of three passes: the ceiling "scan" can reach.
 *
 * Usage: build/release/tools/kernels [seconds_per_hot_case]   (default 0.1)
 * Pin it for stable numbers: numactl --physcpubind=1 build/release/tools/kernels
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vector/distance.h"

#define KB_SCAN_BYTES (256u << 20)

static double kb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile float kb_sink;
static volatile uint64_t kb_sink64;

__attribute__((target("avx2"))) static uint64_t kb_stream_read(const void *buf, size_t bytes)
{
    const __m256i *p = buf;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < bytes / 32; i += 4) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256(p + i));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256(p + i + 1));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256(p + i + 2));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256(p + i + 3));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)out, s);
    return out[0] + out[1] + out[2] + out[3];
}

static double kb_bandwidth(const float *buf)
{
    double best = 0;
    for (int pass = 0; pass < 3; pass++) {
        double t0 = kb_now();
        kb_sink64 = kb_stream_read(buf, KB_SCAN_BYTES);
        double gbs = KB_SCAN_BYTES / (kb_now() - t0) / 1e9;
        if (gbs > best)
            best = gbs;
    }
    return best;
}

static double kb_hot(distance_fn fn, const float *a, const float *b, size_t dim, double seconds)
{
    uint64_t calls = 0;
    double t0 = kb_now(), t;
    float acc = 0;
    do {
        for (int i = 0; i < 1000; i++)
            acc += fn(a, b, dim);
        calls += 1000;
        t = kb_now();
    } while (t - t0 < seconds);
    kb_sink = acc;
    return (double)calls * 2 * dim * sizeof(float) / (t - t0) / 1e9;
}

static double kb_scan(distance_fn fn, const float *q, const float *base, size_t dim)
{
    size_t n = KB_SCAN_BYTES / (dim * sizeof(float));
    float acc = 0;
    double t0 = kb_now();
    for (size_t i = 0; i < n; i++)
        acc += fn(q, base + i * dim, dim);
    double t = kb_now() - t0;
    kb_sink = acc;
    return (double)n * dim * sizeof(float) / t / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.1;
    static const size_t dims[] = {16, 100, 128, 384, 784, 1536};
    static const char *const kernel_names[DISTANCE_KERNEL_COUNT] = {"l2sq", "dot", "cosine", "l1"};
    float *base = aligned_alloc(64, KB_SCAN_BYTES);
    float *a = aligned_alloc(64, 4096 * sizeof(float)), *b = aligned_alloc(64, 4096 * sizeof(float));
    if (base == NULL || a == NULL || b == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < KB_SCAN_BYTES / sizeof(float); i++)
        base[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < 4096; i++) {
        a[i] = (float)(i % 17) / 17.0f;
        b[i] = (float)(i % 13) / 13.0f;
    }
    double bw = kb_bandwidth(base);
    printf("active level: %s; single-core streaming read bandwidth: %.1f GB/s\n",
           distance_simd_name(distance_simd_active()), bw);
    printf("%-6s %-7s", "dim", "kernel");
    for (int l = 0; l < DISTANCE_SIMD_COUNT; l++)
        printf(" %7s-hot", distance_simd_name((distance_simd_t)l));
    for (int l = 0; l < DISTANCE_SIMD_COUNT; l++)
        printf(" %6s-scan", distance_simd_name((distance_simd_t)l));
    printf("   (GB/s)\n");
    for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
        for (int k = 0; k < DISTANCE_KERNEL_COUNT; k++) {
            printf("%-6zu %-7s", dims[d], kernel_names[k]);
            for (int l = 0; l < DISTANCE_SIMD_COUNT; l++) {
                distance_fn fn = distance_kernel((distance_kernel_t)k, (distance_simd_t)l);
                if (fn == NULL) printf(" %11s", "-");
                else printf(" %11.1f", kb_hot(fn, a, b, dims[d], seconds));
            }
            for (int l = 0; l < DISTANCE_SIMD_COUNT; l++) {
                distance_fn fn = distance_kernel((distance_kernel_t)k, (distance_simd_t)l);
                if (fn == NULL) printf(" %11s", "-");
                else printf(" %11.1f", kb_scan(fn, a, base, dims[d]));
            }
            printf("\n");
            fflush(stdout);
        }
    printf("memory bandwidth (streaming read, 256 MiB): %.1f GB/s\n", bw);
    free(base);
    free(a);
    free(b);
    return 0;
}
