/*
 * sql_ann.c -- NextDB's vector search through SQL over the wire: the row set of
 * tools/bench/vector/run.sh that the direct (ann.c) and library (ann_libs.py) rows
 * are compared with. A libpq client that
 *   1. creates t (id int primary key, v vector(DIM)) and loads the base vectors in
 *      multi-row INSERTs,
 *   2. runs CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = M,
 *      ef_construction = EFC) (the build time row),
 *   3. for each ef_search: SET hnsw.ef_search, then every query as the prepared
 *      statement SELECT id FROM t ORDER BY v <-> $1 LIMIT 10 (extended protocol, the
 *      vector as a binary parameter in pgvector's wire form, as pgvector's client
 *      libraries send it; SA_FORMAT=text sends the '[...]' text instead), SA_PASSES
 *      passes (default 2), the fastest reported.
 * With SA_REUSE=1 an existing ann_t of BASE_N rows with its index is used as it is
 * (no load, no CREATE INDEX; build_s and bytes/vec are then printed as 0): the A/B
 * script (sql_ab.sh) loads each server once and queries it several times.
 * The server should run with --shards 1 pinned to one core (run.sh does this), so
 * the figures are one shard's index, comparable with the one-core library rows.
 *
 * Times: the machine is shared, so "per core" is CPU time: the server's (utime +
 * stime of SERVER_PID from /proc, all its threads) plus this client's own, summed
 * over the pass; QPS = queries / that CPU time. p50/p99 are per-query round-trip
 * wall times (they include waiting for a core on a busy machine: read them as upper
 * bounds). Build time = the server's CPU time during CREATE INDEX.
 * Recall: a returned id is a hit when its exact distance to the query is <= the true
 * 10th distance (ties count), scored against ann.c's ground truth file.
 *
 * Usage: sql_ann CONNINFO SERVER_PID DATASET_DIR BASE_N QUERY_N M EFC EF_LIST GT_FILE
 * Output: '#' lines, then rows "nextdb-sql ef recall qps p50_us p99_us build_s bytes/vec"
 * (bytes/vec is the server's resident-set growth over the load + build, divided by
 * BASE_N: it includes the table's memtable and the index).
 */
#include <libpq-fe.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SA_K 10
#define SA_PASSES 2 /* default; SA_PASSES overrides */
#define SA_BATCH 200 /* rows per INSERT */
#define SA_EF_MAX 32

static double sa_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double sa_cpu_self(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of pid in seconds (fields 14 and 15 of /proc/pid/stat). */
static double sa_cpu_of(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NAN;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return NAN;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return NAN;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Resident set of pid in bytes (/proc/pid/statm, second field). */
static double sa_rss_of(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/statm", pid);
    FILE *f = fopen(path, "r");
    unsigned long long size = 0, res = 0;
    if (f == NULL)
        return NAN;
    int ok = fscanf(f, "%llu %llu", &size, &res) == 2;
    fclose(f);
    return ok ? (double)res * (double)sysconf(_SC_PAGESIZE) : NAN;
}

static float *sa_read_idx(const char *path, uint32_t max_count, uint32_t *count, uint32_t *dim)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return NULL;
    unsigned char hdr[16];
    float *out = NULL;
    if (fread(hdr, 1, 16, p) == 16 && hdr[2] == 0x08 && hdr[3] == 3) {
        uint32_t n = (uint32_t)hdr[4] << 24 | hdr[5] << 16 | hdr[6] << 8 | hdr[7];
        uint32_t d = ((uint32_t)hdr[8] << 24 | hdr[9] << 16 | hdr[10] << 8 | hdr[11]) *
                     ((uint32_t)hdr[12] << 24 | hdr[13] << 16 | hdr[14] << 8 | hdr[15]);
        n = n < max_count ? n : max_count;
        size_t total = (size_t)n * d;
        unsigned char *raw = malloc(total);
        if (raw != NULL && fread(raw, 1, total, p) == total) {
            out = malloc(total * sizeof(float));
            for (size_t i = 0; out != NULL && i < total; i++)
                out[i] = raw[i];
            *count = n;
            *dim = d;
        }
        free(raw);
    }
    pclose(p);
    return out;
}

/* Appends '[a,b,...]' (integral pixel values) to buf; returns the new end. */
static char *sa_vec_text(char *buf, const float *v, uint32_t dim)
{
    *buf++ = '[';
    for (uint32_t j = 0; j < dim; j++)
        buf += sprintf(buf, j ? ",%d" : "%d", (int)v[j]);
    *buf++ = ']';
    *buf = 0;
    return buf;
}

/* pgvector's binary form: int16 dim, int16 0, dim float4, all big-endian. */
static void sa_vec_binary(unsigned char *buf, const float *v, uint32_t dim)
{
    buf[0] = (unsigned char)(dim >> 8);
    buf[1] = (unsigned char)dim;
    buf[2] = buf[3] = 0;
    for (uint32_t j = 0; j < dim; j++) {
        uint32_t w;
        memcpy(&w, &v[j], 4);
        buf[4 + 4 * j] = (unsigned char)(w >> 24);
        buf[5 + 4 * j] = (unsigned char)(w >> 16);
        buf[6 + 4 * j] = (unsigned char)(w >> 8);
        buf[7 + 4 * j] = (unsigned char)w;
    }
}

/* The single value of a one-row, one-column query, as a long (-1 on error). */
static long sa_scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

static void sa_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "sql_ann: %.80s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

static int sa_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float sa_l2sq(const float *a, const float *b, uint32_t dim)
{
    float s = 0;
    for (uint32_t i = 0; i < dim; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: sql_ann CONNINFO SERVER_PID DATASET_DIR BASE_N QUERY_N M EFC EF_LIST GT_FILE\n");
        return 2;
    }
    int spid = atoi(argv[2]);
    char path[900];
    uint32_t n = 0, nq = 0, dim = 0, qdim = 0;
    snprintf(path, sizeof(path), "%s/train-images-idx3-ubyte.gz", argv[3]);
    float *base = sa_read_idx(path, (uint32_t)atoi(argv[4]), &n, &dim);
    snprintf(path, sizeof(path), "%s/t10k-images-idx3-ubyte.gz", argv[3]);
    float *queries = sa_read_idx(path, (uint32_t)atoi(argv[5]), &nq, &qdim);
    if (base == NULL || queries == NULL || dim != qdim) {
        fprintf(stderr, "sql_ann: cannot read the IDX files under %s\n", argv[3]);
        return 1;
    }
    int m = atoi(argv[6]), efc = atoi(argv[7]);
    uint32_t efs[SA_EF_MAX], n_ef = 0;
    for (char *tok = strtok(argv[8], ","); tok != NULL && n_ef < SA_EF_MAX; tok = strtok(NULL, ","))
        efs[n_ef++] = (uint32_t)atoi(tok);
    float *gt_dist = malloc(sizeof(float) * nq * SA_K);
    FILE *g = fopen(argv[9], "rb");
    if (g == NULL || fseek(g, (long)(sizeof(uint32_t) * nq * SA_K), SEEK_SET) != 0 ||
        fread(gt_dist, sizeof(float), (size_t)nq * SA_K, g) != (size_t)nq * SA_K) {
        fprintf(stderr, "sql_ann: cannot read ground truth %s\n", argv[9]);
        return 1;
    }
    fclose(g);

    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "sql_ann: connect: %s", PQerrorMessage(c));
        return 1;
    }
    const char *reuse_env = getenv("SA_REUSE"), *fmt_env = getenv("SA_FORMAT"), *passes_env = getenv("SA_PASSES");
    int binary = !(fmt_env && !strcmp(fmt_env, "text"));
    int passes = passes_env ? atoi(passes_env) : SA_PASSES;
    if (passes < 1 || passes > 100)
        passes = SA_PASSES;
    sa_exec(c, "SET client_min_messages = warning");
    int reuse = 0;
    if (reuse_env && !strcmp(reuse_env, "1")) {
        if (sa_scalar(c, "SELECT count(*) FROM pg_class WHERE relname = 'ann_t_v'") == 1 &&
            sa_scalar(c, "SELECT count(*) FROM ann_t") == (long)n)
            reuse = 1;
    }
    double build_s = 0, bpv = 0;
    if (!reuse) {
        sa_exec(c, "DROP TABLE IF EXISTS ann_t");
        char ddl[128];
        snprintf(ddl, sizeof(ddl), "CREATE TABLE ann_t (id int PRIMARY KEY, v vector(%u))", dim);
        sa_exec(c, ddl);
        double rss0 = sa_rss_of(spid);
        char *sql = malloc((size_t)SA_BATCH * (dim * 4 + 32) + 64);
        double t0 = sa_now();
        for (uint32_t i = 0; i < n; i += SA_BATCH) {
            char *p = sql + sprintf(sql, "INSERT INTO ann_t VALUES ");
            for (uint32_t j = i; j < n && j < i + SA_BATCH; j++) {
                p += sprintf(p, j > i ? ",(%u,'" : "(%u,'", j);
                p = sa_vec_text(p, base + (size_t)j * dim, dim);
                p += sprintf(p, "')");
            }
            sa_exec(c, sql);
        }
        free(sql);
        double load_s = sa_now() - t0;
        char idx[160];
        snprintf(idx, sizeof(idx), "CREATE INDEX ann_t_v ON ann_t USING hnsw (v vector_l2_ops) WITH (m = %d, "
                 "ef_construction = %d)", m, efc);
        double sc0 = sa_cpu_of(spid);
        t0 = sa_now();
        sa_exec(c, idx);
        double build_wall = sa_now() - t0;
        build_s = sa_cpu_of(spid) - sc0;
        bpv = (sa_rss_of(spid) - rss0) / n;
        double la[1] = {0};
        getloadavg(la, 1);
        printf("# nextdb-sql: %u rows x %u dim loaded in %.1f s wall; CREATE INDEX %.2f s server CPU (%.2f s wall); "
               "load average %.2f\n", n, dim, load_s, build_s, build_wall, la[0]);
    } else {
        printf("# nextdb-sql: reusing ann_t (%u rows x %u dim) and its index\n", n, dim);
    }
    printf("# nextdb-sql: query vector sent as a %s parameter, %d passes per ef\n", binary ? "binary" : "text",
           passes);

    PGresult *r = PQprepare(c, "knn", "SELECT id FROM ann_t ORDER BY v <-> $1 LIMIT 10", 1, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "sql_ann: prepare: %s", PQerrorMessage(c));
        return 1;
    }
    PQclear(r);
    /* the query texts, made once (not timed) */
    char **qtext = malloc(sizeof(char *) * nq);
    int qlen = binary ? (int)(4 + 4 * dim) : 0;
    for (uint32_t q = 0; q < nq; q++) {
        qtext[q] = malloc((size_t)dim * 4 + 8);
        if (binary)
            sa_vec_binary((unsigned char *)qtext[q], queries + (size_t)q * dim, dim);
        else
            sa_vec_text(qtext[q], queries + (size_t)q * dim, dim);
    }
    const int qfmt = binary;
    double *lat = malloc(sizeof(double) * nq), *best_lat = malloc(sizeof(double) * nq);
    for (uint32_t e = 0; e < n_ef; e++) {
        char set[64];
        snprintf(set, sizeof(set), "SET hnsw.ef_search = %u", efs[e]);
        sa_exec(c, set);
        double best = INFINITY;
        uint64_t hits = 0;
        for (int pass = 0; pass < passes; pass++) {
            hits = 0;
            double s0 = sa_cpu_of(spid), c0 = sa_cpu_self();
            for (uint32_t q = 0; q < nq; q++) {
                const char *vals[1] = {qtext[q]};
                double w0 = sa_now();
                r = PQexecPrepared(c, "knn", 1, vals, &qlen, &qfmt, 0);
                lat[q] = sa_now() - w0;
                if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                    fprintf(stderr, "sql_ann: query: %s", PQerrorMessage(c));
                    return 1;
                }
                float limit = gt_dist[(size_t)q * SA_K + SA_K - 1] * (1.0f + 1e-5f);
                for (int i = 0; i < PQntuples(r); i++) {
                    long id = strtol(PQgetvalue(r, i, 0), NULL, 10);
                    if (id >= 0 && (uint32_t)id < n &&
                        sa_l2sq(queries + (size_t)q * dim, base + (size_t)id * dim, dim) <= limit)
                        hits++;
                }
                PQclear(r);
            }
            double total = (sa_cpu_of(spid) - s0) + (sa_cpu_self() - c0);
            if (total < best) {
                best = total;
                memcpy(best_lat, lat, sizeof(double) * nq);
            }
        }
        qsort(best_lat, nq, sizeof(double), sa_cmp_double);
        printf("nextdb-sql\t%u\t%.4f\t%.0f\t%.1f\t%.1f\t%.2f\t%.0f\n", efs[e], (double)hits / ((double)nq * SA_K),
               nq / best, best_lat[nq / 2] * 1e6, best_lat[(size_t)(nq * 0.99)] * 1e6, build_s, bpv);
        fflush(stdout);
    }
    if (!reuse_env || strcmp(reuse_env, "1"))
        sa_exec(c, "DROP TABLE ann_t");
    PQfinish(c);
    return 0;
}
