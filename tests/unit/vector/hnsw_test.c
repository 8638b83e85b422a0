/*
 * hnsw_test.c -- the HNSW index against brute force: parameter bounds, exact results
 * when ef >= n (every metric), recall@10 >= 0.95 at the default ef_search on the first
 * 20,000 Fashion-MNIST vectors (200 test-set queries, ground truth computed here),
 * filtered searches at 1%, 10% and 50% selectivity filling k, deletes + repair equal
 * to brute force on the survivors, and save/load giving identical results (plus
 * corrupt and truncated files rejected).
 *
 * Fashion-MNIST comes from the Debian package dataset-fashion-mnist (gzip'd IDX
 * files); the test decompresses with `gzip -dc` through popen and skips the
 * dataset tests with a message when the package is absent.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "vector/hnsw.h"

#define HT_FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define HT_FASHION_BASE 20000
#define HT_FASHION_QUERIES 200
#define HT_K 10

static uint64_t ht_rng = 0x853C49E6748FEA9Bull;

static double ht_rand01(void)
{
    ht_rng ^= ht_rng << 13;
    ht_rng ^= ht_rng >> 7;
    ht_rng ^= ht_rng << 17;
    return (double)(ht_rng >> 11) / (double)(1ull << 53);
}

static double ht_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* n clustered vectors: 20 Gaussian-ish blobs, so the graph has structure to find. */
static float *ht_clustered(uint32_t n, uint32_t dim)
{
    enum { CENTERS = 20 };
    float *centers = malloc(sizeof(float) * CENTERS * dim);
    float *v = malloc(sizeof(float) * n * dim);
    for (uint32_t i = 0; i < CENTERS * dim; i++)
        centers[i] = (float)(ht_rand01() * 10.0);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)(ht_rand01() * CENTERS) % CENTERS;
        for (uint32_t j = 0; j < dim; j++)
            v[(size_t)i * dim + j] = centers[c * dim + j] +
                                    (float)((ht_rand01() + ht_rand01() + ht_rand01() - 1.5) * 1.5);
    }
    free(centers);
    return v;
}

/* Reads an IDX file (gzip'd) of unsigned bytes into floats: images -> count x dim. */
static float *ht_read_idx(const char *path, uint32_t max_count, uint32_t *count, uint32_t *dim)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    unsigned char hdr[16];
    float *out = NULL;
    if (fread(hdr, 1, 16, p) != 16 || hdr[2] != 0x08 || hdr[3] != 3)
        goto done;
    uint32_t n = (uint32_t)hdr[4] << 24 | hdr[5] << 16 | hdr[6] << 8 | hdr[7];
    uint32_t rows = (uint32_t)hdr[8] << 24 | hdr[9] << 16 | hdr[10] << 8 | hdr[11];
    uint32_t cols = (uint32_t)hdr[12] << 24 | hdr[13] << 16 | hdr[14] << 8 | hdr[15];
    if (n > max_count)
        n = max_count;
    size_t d = (size_t)rows * cols, total = (size_t)n * d;
    unsigned char *raw = malloc(total);
    if (fread(raw, 1, total, p) == total) {
        out = malloc(total * sizeof(float));
        for (size_t i = 0; i < total; i++)
            out[i] = raw[i];
        *count = n;
        *dim = (uint32_t)d;
    }
    free(raw);
done:
    /* Stop reading early: gzip may then die of SIGPIPE, which is fine. */
    pclose(p);
    return out;
}

static hnsw_t *ht_build(const float *v, uint32_t n, uint32_t dim, distance_metric_t metric,
                        uint32_t m, uint32_t efc)
{
    hnsw_t *idx = NULL;
    if (hnsw_create(dim, metric, m, efc, &idx) != HNSW_OK)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        if (hnsw_insert(idx, i, v + (size_t)i * dim) != HNSW_OK) {
            hnsw_destroy(idx);
            return NULL;
        }
    return idx;
}

/* Same distances in the same order (ids may differ only between exact ties). */
static bool ht_same(const hnsw_result_t *a, uint32_t na, const hnsw_result_t *b, uint32_t nb)
{
    if (na != nb)
        return false;
    for (uint32_t i = 0; i < na; i++)
        if (a[i].id != b[i].id && a[i].distance != b[i].distance)
            return false;
    return true;
}

TEST(parameter_bounds)
{
    hnsw_t *idx = NULL;
    TEST_CHECK(hnsw_create(8, DISTANCE_METRIC_L2, HNSW_M_MIN - 1, 64, &idx) == HNSW_E_ARG);
    TEST_CHECK(hnsw_create(8, DISTANCE_METRIC_L2, HNSW_M_MAX + 1, 1000, &idx) == HNSW_E_ARG);
    TEST_CHECK(hnsw_create(8, DISTANCE_METRIC_L2, 16, HNSW_EF_CONSTRUCTION_MIN - 1, &idx) == HNSW_E_ARG);
    TEST_CHECK(hnsw_create(8, DISTANCE_METRIC_L2, 16, HNSW_EF_CONSTRUCTION_MAX + 1, &idx) == HNSW_E_ARG);
    TEST_CHECK(hnsw_create(8, DISTANCE_METRIC_L2, 16, 31, &idx) == HNSW_E_ARG); /* < 2m */
    TEST_CHECK(hnsw_create(0, DISTANCE_METRIC_L2, 16, 64, &idx) == HNSW_E_ARG);
    TEST_CHECK(hnsw_create(LIMIT_VECTOR_DIMS + 1, DISTANCE_METRIC_L2, 16, 64, &idx) == HNSW_E_ARG);
    TEST_CHECK(idx == NULL);
    TEST_REQUIRE(hnsw_create(3, DISTANCE_METRIC_L2, HNSW_M_DEFAULT, HNSW_EF_CONSTRUCTION_DEFAULT, &idx) == HNSW_OK);
    float v[3] = {1, 2, 3};
    hnsw_result_t r[4];
    uint32_t n = 99;
    TEST_CHECK(hnsw_search(idx, v, 4, HNSW_EF_SEARCH_DEFAULT, NULL, NULL, r, &n) == HNSW_OK && n == 0);
    TEST_CHECK(hnsw_insert(idx, 7, v) == HNSW_OK);
    TEST_CHECK(hnsw_insert(idx, 7, v) == HNSW_E_EXISTS);
    TEST_CHECK(hnsw_search(idx, v, 4, 0, NULL, NULL, r, &n) == HNSW_E_ARG);
    TEST_CHECK(hnsw_search(idx, v, 4, HNSW_EF_SEARCH_MAX + 1, NULL, NULL, r, &n) == HNSW_E_ARG);
    TEST_CHECK(hnsw_search(idx, v, 0, 40, NULL, NULL, r, &n) == HNSW_E_ARG);
    TEST_CHECK(hnsw_search(idx, v, 4, 40, NULL, NULL, r, &n) == HNSW_OK && n == 1 && r[0].id == 7 && r[0].distance == 0);
    TEST_CHECK(hnsw_delete(idx, 8) == HNSW_E_NOTFOUND);
    TEST_CHECK(hnsw_delete(idx, 7) == HNSW_OK);
    TEST_CHECK(hnsw_delete(idx, 7) == HNSW_E_NOTFOUND);
    TEST_CHECK(hnsw_search(idx, v, 4, 40, NULL, NULL, r, &n) == HNSW_OK && n == 0);
    float w[3] = {3, 2, 1};
    TEST_CHECK(hnsw_insert(idx, 7, w) == HNSW_OK); /* UPDATE = delete + insert */
    TEST_CHECK(hnsw_count(idx) == 1 && hnsw_tombstones(idx) == 1);
    TEST_CHECK(hnsw_search(idx, v, 4, 40, NULL, NULL, r, &n) == HNSW_OK && n == 1 && r[0].distance == 8.0f);
    TEST_CHECK(hnsw_repair(idx, NULL) == HNSW_OK && hnsw_tombstones(idx) == 0 && hnsw_count(idx) == 1);
    TEST_CHECK(hnsw_search(idx, v, 4, 40, NULL, NULL, r, &n) == HNSW_OK && n == 1 && r[0].id == 7);
    hnsw_destroy(idx);

    TEST_REQUIRE(hnsw_create(3, DISTANCE_METRIC_COSINE, 16, 64, &idx) == HNSW_OK);
    float z[3] = {0, 0, 0}, bad[3] = {1, NAN, 2};
    TEST_CHECK(hnsw_insert(idx, 1, bad) == HNSW_E_ARG);
    TEST_CHECK(hnsw_insert(idx, 1, z) == HNSW_E_ZERO_NORM);
    TEST_CHECK(hnsw_insert(idx, 1, v) == HNSW_OK);
    TEST_CHECK(hnsw_search(idx, z, 1, 40, NULL, NULL, r, &n) == HNSW_E_ZERO_NORM);
    TEST_CHECK(hnsw_search(idx, w, 1, 40, NULL, NULL, r, &n) == HNSW_OK && n == 1 &&
               fabsf(r[0].distance - distance_cosine(v, w, 3)) < 1e-6f);
    hnsw_destroy(idx);
}

/* ef >= n makes the beam hold every node, so the search must be exact; at a small
 * ef the graph alone must still find nearly all true neighbours, for every metric. */
TEST(exact_when_ef_covers_all)
{
    const uint32_t n = 800, dim = 24, queries = 50;
    float *v = ht_clustered(n + queries, dim);
    for (int metric = 0; metric < DISTANCE_METRIC_COUNT; metric++) {
        hnsw_t *idx = ht_build(v, n, dim, (distance_metric_t)metric, 8, 32);
        TEST_REQUIRE(idx != NULL);
        int mismatches = 0, hits = 0;
        for (uint32_t q = 0; q < queries; q++) {
            const float *qv = v + (size_t)(n + q) * dim;
            hnsw_result_t a[HT_K], b[HT_K];
            uint32_t na, nb;
            TEST_CHECK(hnsw_search(idx, qv, HT_K, n, NULL, NULL, a, &na) == HNSW_OK);
            TEST_CHECK(hnsw_search_exact(idx, qv, HT_K, NULL, NULL, b, &nb) == HNSW_OK);
            mismatches += !ht_same(a, na, b, nb);
            TEST_CHECK(hnsw_search(idx, qv, HT_K, 40, NULL, NULL, a, &na) == HNSW_OK && na == HT_K);
            for (uint32_t i = 0; i < na; i++)
                hits += a[i].distance <= b[nb - 1].distance;
        }
        double recall = (double)hits / (queries * HT_K);
        fprintf(stderr, "  %s: %d/%u mismatches at ef=n, recall@10 %.3f at ef 40\n",
                distance_metric_name((distance_metric_t)metric), mismatches, queries, recall);
        TEST_CHECK(mismatches == 0);
        TEST_CHECK(recall >= 0.9);
        hnsw_destroy(idx);
    }
    free(v);
}

typedef struct ht_mod {
    uint64_t hm_mod;
    uint64_t hm_rem;
} ht_mod_t;

static bool ht_filter_mod(uint64_t id, void *arg)
{
    const ht_mod_t *f = arg;
    return id % f->hm_mod == f->hm_rem;
}

static float *ht_fashion_base, *ht_fashion_queries;
static uint32_t ht_fashion_n, ht_fashion_nq, ht_fashion_dim;
static hnsw_t *ht_fashion_idx;

/* Loads Fashion-MNIST and builds the default index once for the tests that use it. */
static bool ht_fashion(void)
{
    if (ht_fashion_idx != NULL)
        return true;
    struct stat sb;
    if (stat(HT_FASHION_DIR "/train-images-idx3-ubyte.gz", &sb) != 0) {
        fprintf(stderr, "  SKIP: " HT_FASHION_DIR " missing (apt-get install dataset-fashion-mnist)\n");
        return false;
    }
    uint32_t qdim = 0;
    ht_fashion_base = ht_read_idx(HT_FASHION_DIR "/train-images-idx3-ubyte.gz", HT_FASHION_BASE,
                                  &ht_fashion_n, &ht_fashion_dim);
    ht_fashion_queries = ht_read_idx(HT_FASHION_DIR "/t10k-images-idx3-ubyte.gz", HT_FASHION_QUERIES,
                                     &ht_fashion_nq, &qdim);
    if (ht_fashion_base == NULL || ht_fashion_queries == NULL || qdim != ht_fashion_dim) {
        fprintf(stderr, "  could not read the Fashion-MNIST IDX files\n");
        return false;
    }
    double t0 = ht_now();
    ht_fashion_idx = ht_build(ht_fashion_base, ht_fashion_n, ht_fashion_dim, DISTANCE_METRIC_L2,
                              HNSW_M_DEFAULT, HNSW_EF_CONSTRUCTION_DEFAULT);
    fprintf(stderr, "  built %u x %u in %.2f s, %.0f bytes/vector\n", ht_fashion_n, ht_fashion_dim,
            ht_now() - t0, (double)hnsw_memory_bytes(ht_fashion_idx) / ht_fashion_n);
    return ht_fashion_idx != NULL;
}

TEST(fashion_recall_at_default_ef)
{
    if (!ht_fashion()) {
        TEST_CHECK(access(HT_FASHION_DIR, F_OK) != 0); /* only a missing package may skip */
        return;
    }
    uint32_t hits = 0;
    double t_ann = 0, t_exact = 0;
    for (uint32_t q = 0; q < ht_fashion_nq; q++) {
        const float *qv = ht_fashion_queries + (size_t)q * ht_fashion_dim;
        hnsw_result_t a[HT_K], b[HT_K];
        uint32_t na, nb;
        double t0 = ht_now();
        TEST_CHECK(hnsw_search(ht_fashion_idx, qv, HT_K, HNSW_EF_SEARCH_DEFAULT, NULL, NULL, a, &na) == HNSW_OK);
        double t1 = ht_now();
        TEST_CHECK(hnsw_search_exact(ht_fashion_idx, qv, HT_K, NULL, NULL, b, &nb) == HNSW_OK);
        t_ann += t1 - t0;
        t_exact += ht_now() - t1;
        TEST_CHECK(na == HT_K && nb == HT_K);
        /* A hit is a returned vector within the true 10th distance (ties count). */
        for (uint32_t i = 0; i < na; i++)
            hits += a[i].distance <= b[nb - 1].distance;
    }
    double recall = (double)hits / (ht_fashion_nq * HT_K);
    fprintf(stderr, "  recall@10 = %.4f at ef_search %d (ann %.2f ms/query, exact %.2f ms/query)\n", recall,
            HNSW_EF_SEARCH_DEFAULT, t_ann * 1e3 / ht_fashion_nq, t_exact * 1e3 / ht_fashion_nq);
    TEST_CHECK(recall >= 0.95);
}

TEST(fashion_filtered_fills_k)
{
    if (!ht_fashion()) {
        TEST_CHECK(access(HT_FASHION_DIR, F_OK) != 0);
        return;
    }
    static const uint64_t mods[3] = {100, 10, 2}; /* 1%, 10%, 50% selectivity */
    for (int f = 0; f < 3; f++) {
        ht_mod_t filt = {mods[f], 1};
        uint32_t hits = 0, short_results = 0, bad_rows = 0;
        double t_graph = 0, t_exact = 0;
        for (uint32_t q = 0; q < 50; q++) {
            const float *qv = ht_fashion_queries + (size_t)q * ht_fashion_dim;
            hnsw_result_t a[HT_K], b[HT_K];
            uint32_t na, nb;
            double t0 = ht_now();
            TEST_CHECK(hnsw_search(ht_fashion_idx, qv, HT_K, HNSW_EF_SEARCH_DEFAULT, ht_filter_mod, &filt, a, &na) == HNSW_OK);
            double t1 = ht_now();
            TEST_CHECK(hnsw_search_exact(ht_fashion_idx, qv, HT_K, ht_filter_mod, &filt, b, &nb) == HNSW_OK);
            t_graph += t1 - t0;
            t_exact += ht_now() - t1;
            short_results += na < HT_K;
            for (uint32_t i = 0; i < na; i++) {
                bad_rows += !ht_filter_mod(a[i].id, &filt);
                hits += a[i].distance <= b[nb - 1].distance;
            }
        }
        fprintf(stderr, "  selectivity 1/%lu: %u short results, filtered recall@10 %.3f, graph %.3f ms, "
                "exact %.3f ms per query\n", (unsigned long)mods[f], short_results, hits / 500.0,
                t_graph * 1e3 / 50, t_exact * 1e3 / 50);
        TEST_CHECK(short_results == 0);
        TEST_CHECK(bad_rows == 0);
        TEST_CHECK(hits / 500.0 >= 0.9);
    }
    /* A filter nothing passes exhausts the graph and returns nothing. */
    ht_mod_t none = {1ull << 40, 1ull << 39}; /* ids are < 2^39 */
    hnsw_result_t a[HT_K];
    uint32_t na = 99;
    TEST_CHECK(hnsw_search(ht_fashion_idx, ht_fashion_queries, HT_K, 40, ht_filter_mod, &none, a, &na) == HNSW_OK && na == 0);
}

/* Small filtered case independent of the dataset: 1% of 3000 = 30 qualify. */
TEST(filtered_synthetic)
{
    const uint32_t n = 3000, dim = 16;
    float *v = ht_clustered(n + 20, dim);
    hnsw_t *idx = ht_build(v, n, dim, DISTANCE_METRIC_L2, 16, 64);
    TEST_REQUIRE(idx != NULL);
    ht_mod_t filt = {100, 7};
    for (uint32_t q = 0; q < 20; q++) {
        hnsw_result_t a[HT_K], b[HT_K];
        uint32_t na, nb;
        TEST_CHECK(hnsw_search(idx, v + (size_t)(n + q) * dim, HT_K, 40, ht_filter_mod, &filt, a, &na) == HNSW_OK);
        TEST_CHECK(hnsw_search_exact(idx, v + (size_t)(n + q) * dim, HT_K, ht_filter_mod, &filt, b, &nb) == HNSW_OK);
        TEST_CHECK(na == HT_K && ht_same(a, na, b, nb)); /* 30 qualify, ef 40: all seen */
    }
    hnsw_destroy(idx);
    free(v);
}

TEST(delete_and_repair)
{
    /* 2700 survivors > ef 1000: the graph, not the exact-scan shortcut, answers. */
    const uint32_t n = 3000, dim = 16, queries = 50;
    float *v = ht_clustered(n + queries, dim);
    hnsw_t *idx = ht_build(v, n, dim, DISTANCE_METRIC_L2, 8, 32);
    TEST_REQUIRE(idx != NULL);
    /* Delete 10%, the entry point among them. */
    for (uint32_t i = 0; i < n; i += 10)
        TEST_CHECK(hnsw_delete(idx, i) == HNSW_OK);
    TEST_CHECK(hnsw_count(idx) == 2700 && hnsw_tombstones(idx) == 300);
    for (uint32_t q = 0; q < queries; q++) {
        hnsw_result_t a[HT_K];
        uint32_t na;
        TEST_CHECK(hnsw_search(idx, v + (size_t)(n + q) * dim, HT_K, 40, NULL, NULL, a, &na) == HNSW_OK);
        TEST_CHECK(na == HT_K);
        for (uint32_t i = 0; i < na; i++)
            TEST_CHECK(a[i].id % 10 != 0);
    }
    size_t before = hnsw_memory_bytes(idx);
    hnsw_repair_stats_t st;
    TEST_CHECK(hnsw_repair(idx, &st) == HNSW_OK);
    fprintf(stderr, "  repair: removed %u, relinked %u, unreachable %u; %zu -> %zu bytes\n", st.removed_count,
            st.relinked_count, st.unreachable_count, before, hnsw_memory_bytes(idx));
    TEST_CHECK(st.removed_count == 300 && st.unreachable_count == 0);
    TEST_CHECK(hnsw_count(idx) == 2700 && hnsw_tombstones(idx) == 0);
    TEST_CHECK(!hnsw_contains(idx, 10) && hnsw_contains(idx, 11));
    int mismatches = 0;
    for (uint32_t q = 0; q < queries; q++) {
        const float *qv = v + (size_t)(n + q) * dim;
        hnsw_result_t a[HT_K], b[HT_K];
        uint32_t na, nb;
        TEST_CHECK(hnsw_search(idx, qv, HT_K, 1000, NULL, NULL, a, &na) == HNSW_OK);
        TEST_CHECK(hnsw_search_exact(idx, qv, HT_K, NULL, NULL, b, &nb) == HNSW_OK);
        mismatches += !ht_same(a, na, b, nb);
    }
    TEST_CHECK(mismatches == 0);
    /* The repaired graph keeps working: new inserts, deletes, another repair. */
    for (uint32_t i = 0; i < n; i += 10)
        TEST_CHECK(hnsw_insert(idx, i, v + (size_t)i * dim) == HNSW_OK);
    for (uint32_t i = 1; i < n; i += 3)
        TEST_CHECK(hnsw_delete(idx, i) == HNSW_OK);
    TEST_CHECK(hnsw_repair(idx, &st) == HNSW_OK && st.unreachable_count == 0);
    mismatches = 0;
    for (uint32_t q = 0; q < queries; q++) {
        const float *qv = v + (size_t)(n + q) * dim;
        hnsw_result_t a[HT_K], b[HT_K];
        uint32_t na, nb;
        TEST_CHECK(hnsw_search(idx, qv, HT_K, 1000, NULL, NULL, a, &na) == HNSW_OK);
        TEST_CHECK(hnsw_search_exact(idx, qv, HT_K, NULL, NULL, b, &nb) == HNSW_OK);
        mismatches += !ht_same(a, na, b, nb);
    }
    TEST_CHECK(mismatches == 0);
    /* Deleting everything leaves an empty, usable index. */
    for (uint32_t i = 0; i < n; i++)
        if (hnsw_contains(idx, i))
            TEST_CHECK(hnsw_delete(idx, i) == HNSW_OK);
    TEST_CHECK(hnsw_repair(idx, NULL) == HNSW_OK && hnsw_count(idx) == 0);
    hnsw_result_t a[HT_K];
    uint32_t na = 99;
    TEST_CHECK(hnsw_search(idx, v, HT_K, 40, NULL, NULL, a, &na) == HNSW_OK && na == 0);
    TEST_CHECK(hnsw_insert(idx, 5, v) == HNSW_OK);
    TEST_CHECK(hnsw_search(idx, v, HT_K, 40, NULL, NULL, a, &na) == HNSW_OK && na == 1 && a[0].id == 5);
    hnsw_destroy(idx);
    free(v);
}

TEST(persist_roundtrip)
{
    const uint32_t n = 5000, dim = 32, queries = 100;
    float *v = ht_clustered(n + queries, dim);
    double t0 = ht_now();
    hnsw_t *idx = ht_build(v, n, dim, DISTANCE_METRIC_COSINE, 16, 64);
    double t_build = ht_now() - t0;
    TEST_REQUIRE(idx != NULL);
    for (uint32_t i = 0; i < n; i += 7)
        TEST_CHECK(hnsw_delete(idx, i) == HNSW_OK); /* tombstones persist too */
    char path[64];
    snprintf(path, sizeof(path), "/tmp/hnsw_test_%d.idx", (int)getpid());
    TEST_REQUIRE(hnsw_save(idx, path) == HNSW_OK);
    hnsw_t *back = NULL;
    t0 = ht_now();
    TEST_REQUIRE(hnsw_load(path, &back) == HNSW_OK);
    double t_load = ht_now() - t0;
    fprintf(stderr, "  %u x %u: build %.3f s, load %.3f s\n", n, dim, t_build, t_load);
    TEST_CHECK(hnsw_count(back) == hnsw_count(idx) && hnsw_tombstones(back) == hnsw_tombstones(idx));
    TEST_CHECK(hnsw_dim(back) == dim && hnsw_metric(back) == DISTANCE_METRIC_COSINE && hnsw_m(back) == 16);
    int differ = 0;
    for (uint32_t q = 0; q < queries; q++) {
        const float *qv = v + (size_t)(n + q) * dim;
        hnsw_result_t a[HT_K], b[HT_K];
        uint32_t na, nb;
        TEST_CHECK(hnsw_search(idx, qv, HT_K, 40, NULL, NULL, a, &na) == HNSW_OK);
        TEST_CHECK(hnsw_search(back, qv, HT_K, 40, NULL, NULL, b, &nb) == HNSW_OK);
        differ += na != nb;
        for (uint32_t i = 0; i < na && i < nb; i++)
            differ += a[i].id != b[i].id || a[i].distance != b[i].distance;
    }
    TEST_CHECK(differ == 0);
    /* Inserting after a load continues the same way in both copies. */
    TEST_CHECK(hnsw_insert(idx, n + 1, v + (size_t)n * dim) == HNSW_OK);
    TEST_CHECK(hnsw_insert(back, n + 1, v + (size_t)n * dim) == HNSW_OK);
    hnsw_destroy(back);
    back = NULL;

    /* A flipped byte fails the checksum; a truncated file is corrupt too. */
    FILE *f = fopen(path, "r+b");
    TEST_REQUIRE(f != NULL);
    fseek(f, 5000, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 5000, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    TEST_CHECK(hnsw_load(path, &back) == HNSW_E_CORRUPT && back == NULL);
    TEST_CHECK(hnsw_save(idx, path) == HNSW_OK);
    struct stat sb;
    TEST_CHECK(stat(path, &sb) == 0 && truncate(path, sb.st_size - 9) == 0);
    TEST_CHECK(hnsw_load(path, &back) == HNSW_E_CORRUPT && back == NULL);
    f = fopen(path, "r+b");
    TEST_REQUIRE(f != NULL);
    fseek(f, 8, SEEK_SET);
    fputc(2, f); /* version 2 */
    fclose(f);
    TEST_CHECK(hnsw_load(path, &back) == HNSW_E_VERSION);
    TEST_CHECK(hnsw_load("/nonexistent/x.idx", &back) == HNSW_E_IO);
    /* An empty index round-trips and stays usable. */
    hnsw_t *empty = NULL;
    TEST_REQUIRE(hnsw_create(dim, DISTANCE_METRIC_L2, 4, 8, &empty) == HNSW_OK);
    TEST_CHECK(hnsw_save(empty, path) == HNSW_OK);
    hnsw_destroy(empty);
    empty = NULL;
    TEST_REQUIRE(hnsw_load(path, &empty) == HNSW_OK);
    TEST_CHECK(hnsw_count(empty) == 0 && hnsw_m(empty) == 4 && hnsw_ef_construction(empty) == 8);
    TEST_CHECK(hnsw_insert(empty, 1, v) == HNSW_OK && hnsw_count(empty) == 1);
    hnsw_destroy(empty);
    unlink(path);
    hnsw_destroy(idx);
    free(v);
}

TEST(memory_accounting)
{
    const uint32_t n = 2000, dim = 64;
    float *v = ht_clustered(n, dim);
    hnsw_t *idx = NULL;
    TEST_REQUIRE(hnsw_create(dim, DISTANCE_METRIC_L2, 16, 64, &idx) == HNSW_OK);
    TEST_CHECK(hnsw_reserve(idx, n) == HNSW_OK);
    size_t empty = hnsw_memory_bytes(idx);
    for (uint32_t i = 0; i < n; i++)
        TEST_CHECK(hnsw_insert(idx, (uint64_t)i * 1000003u, v + (size_t)i * dim) == HNSW_OK);
    double per = (double)hnsw_memory_bytes(idx) / n;
    fprintf(stderr, "  %.1f bytes/vector (dim %u, M 16; vector alone %u)\n", per, dim, dim * 4);
    TEST_CHECK(hnsw_memory_bytes(idx) >= empty);
    TEST_CHECK(per >= dim * 4 + 33 * 4 && per < dim * 4 + 33 * 4 + 200);
    hnsw_destroy(idx);
    free(v);
}

TEST(fashion_cleanup)
{
    hnsw_destroy(ht_fashion_idx);
    ht_fashion_idx = NULL;
    free(ht_fashion_base);
    free(ht_fashion_queries);
}

TEST_MAIN()
