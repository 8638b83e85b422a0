/*
 * distance.h -- distance kernels over float32 vectors: L2 squared, inner product,
 * cosine distance and L1, with a scalar reference and AVX2+FMA / AVX-512F versions.
 *
 * Why: every vector operator (<->, <#>, <=>, <+>), every exact scan and every step of
 * an HNSW search spends its time here. The kernels are memory-bound for large scans
 * and latency-bound inside HNSW, so the SIMD versions keep several independent
 * accumulators (to hide FMA latency) and finish the tail with masked loads instead of
 * a scalar loop.
 *
 * Model: one function per (kernel, SIMD level). The active level is chosen once, the
 * first time any dispatching function runs, from cpuid (__builtin_cpu_supports); the
 * environment variable NEXTDB_SIMD=scalar|avx2|avx512 forces a level (a forced level
 * the CPU lacks falls back to the best available one, with a warning on stderr). The
 * SIMD functions carry __attribute__((target(...))) so the rest of the build stays
 * generic x86-64. Results of different levels differ only by float rounding (the
 * summation order differs); tests compare them with a relative tolerance.
 *
 * Interface:
 *   distance_l2sq(a, b, dim)       sum (a_i - b_i)^2            (pgvector <-> squared)
 *   distance_dot(a, b, dim)        sum a_i * b_i                (pgvector <#> is -dot)
 *   distance_cosine(a, b, dim)     1 - dot / (|a| |b|), clamped to [0, 2]; NaN when a
 *                                  norm is zero (as pgvector's cosine_distance)
 *   distance_l1(a, b, dim)         sum |a_i - b_i|
 *   distance_norm(a, dim)          sqrt(sum a_i^2)
 *   distance_kernel(kernel, level) the function of one kernel at one level (tests,
 *                                  benchmarks); NULL when the CPU lacks the level
 *   distance_simd_active()         the level the dispatching functions use
 *   distance_simd_supported(level) whether this CPU can run the level
 *   distance_simd_name(level)      "scalar", "avx2", "avx512"
 *   distance_metric_fn(metric)     the ordering distance of a metric at the active
 *                                  level: l2sq, -dot, cosine or l1 (smaller = closer)
 *
 * Limits: dim is a size_t; callers bound it with LIMIT_VECTOR_DIMS. Vectors need no
 * alignment. NaN/Inf inputs give NaN/Inf results, never a crash.
 * Thread: any; the one-time level choice is a benign race resolving to one value.
 */
#ifndef NEXTDB_DISTANCE_H
#define NEXTDB_DISTANCE_H
#include <stdbool.h>
#include <stddef.h>

typedef float (*distance_fn)(const float *a, const float *b, size_t dim);

/* Raw kernels; each exists at every SIMD level. */
typedef enum distance_kernel {
    DISTANCE_KERNEL_L2SQ = 0,
    DISTANCE_KERNEL_DOT,
    DISTANCE_KERNEL_COSINE,
    DISTANCE_KERNEL_L1,
    DISTANCE_KERNEL_COUNT
} distance_kernel_t;

/* The metrics an index or an ORDER BY orders by (pgvector's operator classes). */
typedef enum distance_metric {
    DISTANCE_METRIC_L2 = 0, /* vector_l2_ops: orders by l2sq (monotone in <->) */
    DISTANCE_METRIC_IP,     /* vector_ip_ops: orders by -dot (<#>) */
    DISTANCE_METRIC_COSINE, /* vector_cosine_ops: orders by 1 - cos (<=>) */
    DISTANCE_METRIC_L1,     /* vector_l1_ops: orders by sum |a-b| (<+>) */
    DISTANCE_METRIC_COUNT
} distance_metric_t;

typedef enum distance_simd {
    DISTANCE_SIMD_SCALAR = 0,
    DISTANCE_SIMD_AVX2,   /* AVX2 + FMA */
    DISTANCE_SIMD_AVX512, /* AVX-512F */
    DISTANCE_SIMD_COUNT
} distance_simd_t;

float distance_l2sq(const float *a, const float *b, size_t dim);
float distance_dot(const float *a, const float *b, size_t dim);
float distance_cosine(const float *a, const float *b, size_t dim);
float distance_l1(const float *a, const float *b, size_t dim);
float distance_norm(const float *a, size_t dim);

distance_fn distance_kernel(distance_kernel_t kernel, distance_simd_t level);
distance_simd_t distance_simd_active(void);
bool distance_simd_supported(distance_simd_t level);
const char *distance_simd_name(distance_simd_t level);
distance_fn distance_metric_fn(distance_metric_t metric);
const char *distance_metric_name(distance_metric_t metric);

#endif
