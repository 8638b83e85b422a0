/*
 * hnsw_restart.c -- restart cost of one shard's HNSW index on a synthetic clustered set:
 * build time (what a rebuild at recovery costs), save time, file size, load time
 * (what a persisted index costs at restart), memory per vector, and recall@10 at
 * ef_search 40 on held-out queries against an exact scan, so the speed is not bought
 * with a broken graph.
 *
 * Data: a Gaussian mixture -- 1,000 centres uniform in [0,1)^dim, each point a centre
 * plus N(0, 0.05^2) noise per coordinate (Box-Muller) -- not uniform random, whose
 * neighbourhoods are meaningless at this dimension.
 *
 * Usage: hnsw_restart N DIM M EF_CONSTRUCTION FILE   e.g. hnsw_restart 1000000 128 16 200 /tmp/r.hnsw
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vector/hnsw.h"

#define RS_CENTERS 1000
#define RS_QUERIES 1000
#define RS_K 10

static uint64_t rs_state = 0x9E3779B97F4A7C15ull;

static double rs_uniform(void)
{
    rs_state ^= rs_state << 13;
    rs_state ^= rs_state >> 7;
    rs_state ^= rs_state << 17;
    return ((double)(rs_state >> 11) + 0.5) / 9007199254740992.0;
}

static double rs_gauss(void)
{
    return sqrt(-2.0 * log(rs_uniform())) * cos(6.283185307179586 * rs_uniform());
}

static double rs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this process: on a shared machine wall time also counts other jobs. */
static double rs_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: hnsw_restart N DIM M EF_CONSTRUCTION FILE\n");
        return 2;
    }
    uint32_t n = (uint32_t)atol(argv[1]), dim = (uint32_t)atoi(argv[2]);
    uint32_t m = (uint32_t)atoi(argv[3]), efc = (uint32_t)atoi(argv[4]);
    const char *file = argv[5];
    size_t total = (size_t)(n + RS_QUERIES) * dim;
    float *centers = malloc(sizeof(float) * RS_CENTERS * dim);
    float *v = malloc(sizeof(float) * total);
    if (centers == NULL || v == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < (size_t)RS_CENTERS * dim; i++)
        centers[i] = (float)rs_uniform();
    for (size_t i = 0; i < n + (size_t)RS_QUERIES; i++) {
        const float *c = centers + (size_t)(rs_uniform() * RS_CENTERS) % RS_CENTERS * dim;
        for (uint32_t j = 0; j < dim; j++)
            v[i * dim + j] = c[j] + (float)(0.05 * rs_gauss());
    }
    hnsw_t *idx = NULL;
    int rc = hnsw_create(dim, DISTANCE_METRIC_L2, m, efc, &idx);
    if (rc == HNSW_OK)
        rc = hnsw_reserve(idx, n);
    double t0 = rs_now(), c0 = rs_cpu();
    for (uint32_t i = 0; i < n && rc == HNSW_OK; i++) {
        rc = hnsw_insert(idx, i, v + (size_t)i * dim);
        if ((i + 1) % 100000 == 0) {
            fprintf(stderr, "  %u inserted, %.1f s\n", i + 1, rs_now() - t0);
        }
    }
    double build_s = rs_now() - t0, build_cpu = rs_cpu() - c0;
    if (rc != HNSW_OK) {
        fprintf(stderr, "build: %s\n", hnsw_strerror(rc));
        return 1;
    }
    t0 = rs_now();
    c0 = rs_cpu();
    rc = hnsw_save(idx, file);
    double save_s = rs_now() - t0, save_cpu = rs_cpu() - c0;
    struct stat sb;
    if (rc != HNSW_OK || stat(file, &sb) != 0) {
        fprintf(stderr, "save: %s\n", hnsw_strerror(rc));
        return 1;
    }
    hnsw_t *loaded = NULL;
    t0 = rs_now();
    c0 = rs_cpu();
    rc = hnsw_load(file, &loaded);
    double load_s = rs_now() - t0, load_cpu = rs_cpu() - c0;
    unlink(file);
    if (rc != HNSW_OK) {
        fprintf(stderr, "load: %s\n", hnsw_strerror(rc));
        return 1;
    }
    uint64_t hits = 0;
    double t_ann = 0;
    for (uint32_t q = 0; q < RS_QUERIES; q++) {
        const float *qv = v + (size_t)(n + q) * dim;
        hnsw_result_t a[RS_K], b[RS_K];
        uint32_t na = 0, nb = 0;
        double q0 = rs_now();
        hnsw_search(loaded, qv, RS_K, 40, NULL, NULL, a, &na);
        t_ann += rs_now() - q0;
        hnsw_search_exact(loaded, qv, RS_K, NULL, NULL, b, &nb);
        for (uint32_t i = 0; i < na && nb == RS_K; i++)
            hits += a[i].distance <= b[RS_K - 1].distance;
    }
    printf("n=%u dim=%u M=%u ef_construction=%u kernels=%s\n", n, dim, m, efc,
           distance_simd_name(distance_simd_active()));
    printf("build (= rebuild at recovery)  %8.2f s wall %8.2f s CPU  (%.0f inserts/CPU-s)\n", build_s, build_cpu,
           n / build_cpu);
    printf("save                           %8.2f s wall %8.2f s CPU  file %.1f MB\n", save_s, save_cpu,
           sb.st_size / 1e6);
    printf("load (= restart, persisted)    %8.2f s wall %8.2f s CPU  (%.0fx less CPU than rebuild)\n", load_s,
           load_cpu, build_cpu / (load_cpu > 1e-6 ? load_cpu : 1e-6));
    printf("memory                         %8.0f bytes/vector (%u of them the vector)\n",
           (double)hnsw_memory_bytes(loaded) / n, dim * 4);
    printf("recall@10 at ef_search 40      %8.4f  (%.3f ms/query)\n", (double)hits / (RS_QUERIES * RS_K),
           t_ann * 1e3 / RS_QUERIES);
    hnsw_destroy(idx);
    hnsw_destroy(loaded);
    free(v);
    free(centers);
    return 0;
}
