/*
 * storage_amp.c -- write and space amplification of the shard store under an
 * update-heavy workload, run directly against the store API (no SQL, no network).
 *
 * Why: compaction trades write amplification (bytes rewritten) for space and read
 * amplification (files and obsolete versions kept); shards/README.md quotes the
 * figures this prints, with the command that produced them.
 *
 * Workload: --keys keys are loaded once, then --updates puts of uniformly random keys
 * (values of --value-bytes, half random letters so zstd does not squash them), one row
 * per transaction, a group commit (store_sync) every --batch commits. No snapshot is
 * held, so the horizon follows the newest commit. I/O is synchronous pwrite +
 * fdatasync behind store_io, counted byte by byte.
 *
 * Printed: user bytes (key + value of every put), bytes written through store_io
 * split into WAL / flush / compaction / manifest, write amplification (all, and
 * without the WAL), sorted-table bytes at the end and at their peak, the same set
 * after a full compaction (= one version per key: the live data in the on-disk
 * encoding), and space amplification = on-disk bytes / that. Also the logical live
 * data (keys * (key + value)) for reference. Then --lookups random point lookups
 * (rate and block-cache hit ratio), a full scan, and the same lookups again: with a
 * scan-resistant cache the hit ratio after the scan stays.
 *
 * Usage: storage_amp [--dir D] [--keys N] [--updates N] [--value-bytes N]
 *                    [--memtable-bytes N] [--fanin T] [--batch N] [--cache-bytes N]
 *                    [--lookups N]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "shards/store.h"

typedef struct amp_io {
    uint64_t bytes, writes;
} amp_io_t;

static int amp_write(void *ctx, int fd, const void *buf, size_t len, uint64_t off, bool sync,
                     void (*done)(void *arg, int res), void *arg)
{
    amp_io_t *io = ctx;
    size_t at = 0;
    while (at < len) {
        ssize_t r = pwrite(fd, (const char *)buf + at, len - at, (off_t)(off + at));
        if (r <= 0) {
            done(arg, -errno);
            return 0;
        }
        at += (size_t)r;
    }
    io->bytes += len;
    io->writes++;
    done(arg, sync && fdatasync(fd) != 0 ? -errno : 0);
    return 0;
}

static int amp_fsync(void *ctx, int fd, void (*done)(void *arg, int res), void *arg)
{
    (void)ctx;
    done(arg, fdatasync(fd) != 0 ? -errno : 0);
    return 0;
}

static void amp_done(void *arg, int rc)
{
    if (rc != STORE_OK)
        *(int *)arg = rc;
}

static uint64_t amp_rng = 0x2545F4914F6CDD1Dull;
static uint64_t amp_rand(void)
{
    amp_rng ^= amp_rng << 13;
    amp_rng ^= amp_rng >> 7;
    amp_rng ^= amp_rng << 17;
    return amp_rng;
}

static uint64_t amp_arg(int argc, char **argv, const char *name, uint64_t def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtoull(argv[i + 1], NULL, 10);
    return def;
}

static const char *amp_sarg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

/* n random point lookups: *rate per second and the block cache's hit ratio. */
static void amp_lookups(store_t *st, uint64_t keys, uint64_t n, double *rate, double *hit)
{
    store_stats_t a, b;
    store_get_stats(st, &a);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char key[32];
    for (uint64_t i = 0; i < n; i++) {
        int klen = snprintf(key, sizeof key, "user%010" PRIu64, amp_rand() % keys);
        store_val_t v;
        if (store_get(st, NULL, UINT64_MAX, 1, (const uint8_t *)key, (uint32_t)klen, &v) !=
            STORE_OK) {
            fprintf(stderr, "storage_amp: key %s missing\n", key);
            exit(1);
        }
        if (i % 64 == 63)
            store_sync(st);    /* frees the values handed out */
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    store_get_stats(st, &b);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint64_t h = b.cache_hits - a.cache_hits, m = b.cache_misses - a.cache_misses;
    *rate = secs > 0 ? (double)n / secs : 0;
    *hit = h + m ? (double)h / (double)(h + m) : 0;
}

/* Runs store_sync until nothing is queued and no flush or compaction runs. */
static void amp_settle(store_t *st)
{
    store_stats_t s;
    do {
        store_sync(st);
        store_get_stats(st, &s);
    } while (!store_idle(st) || store_flushing(st) || store_compacting(st) ||
             s.compact_backlog_files > 0);
}

int main(int argc, char **argv)
{
    const char *dir = amp_sarg(argc, argv, "--dir", "/tmp/storage_amp");
    uint64_t keys = amp_arg(argc, argv, "--keys", 20000);
    uint64_t updates = amp_arg(argc, argv, "--updates", 200000);
    uint64_t vbytes = amp_arg(argc, argv, "--value-bytes", 200);
    uint64_t mt_bytes = amp_arg(argc, argv, "--memtable-bytes", 1u << 20);
    uint64_t fanin = amp_arg(argc, argv, "--fanin", 0);
    uint64_t batch = amp_arg(argc, argv, "--batch", 16);
    uint64_t cache_bytes = amp_arg(argc, argv, "--cache-bytes", 0);
    uint64_t lookups = amp_arg(argc, argv, "--lookups", 100000);
    if (keys == 0 || vbytes == 0 || vbytes > 4096 || batch == 0) {
        fprintf(stderr, "storage_amp: bad arguments\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return 1;
    amp_io_t io = {0};
    store_io_t sio = {.ctx = &io, .write = amp_write, .fsync = amp_fsync};
    store_opts_t o = {.dir = dir, .io = &sio, .memtable_budget_bytes = mt_bytes,
                      .compact_fanin = (uint32_t)fanin, .cache_bytes = (size_t)cache_bytes};
    store_t *st;
    if (store_open(&o, &st) != 0) {
        fprintf(stderr, "storage_amp: cannot open %s\n", dir);
        return 1;
    }
    char val[4096], key[32];
    uint64_t user_bytes = 0, ts = 0, txn = 0, peak_sst = 0;
    int rc = STORE_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t i = 0; i < keys + updates && rc == STORE_OK; i++) {
        uint64_t k = i < keys ? i : amp_rand() % keys;
        int klen = snprintf(key, sizeof key, "user%010" PRIu64, k);
        for (uint64_t j = 0; j < vbytes; j++)
            val[j] = j % 2 ? (char)('a' + amp_rand() % 26) : (char)('0' + j % 10);
        store_txn_t *t = store_txn_begin(st, ++txn);
        uint64_t blocker;
        rc = store_write(st, t, STORE_W_PUT, 1, (const uint8_t *)key, (uint32_t)klen,
                         (const uint8_t *)val, (uint32_t)vbytes, &blocker);
        if (rc == STORE_LOCKED) {    /* the key's last commit is queued: make it durable */
            store_sync(st);
            rc = store_write(st, t, STORE_W_PUT, 1, (const uint8_t *)key, (uint32_t)klen,
                             (const uint8_t *)val, (uint32_t)vbytes, &blocker);
        }
        if (rc != STORE_OK)
            break;
        store_txn_commit(st, t, ++ts, amp_done, &rc);
        user_bytes += (uint64_t)klen + vbytes;
        if (i % batch == batch - 1) {
            store_sync(st);
            store_set_horizon(st, ts);    /* no snapshot is held */
        }
        if (i % 1000 == 0) {
            store_stats_t s;
            store_get_stats(st, &s);
            if (s.sst_live_bytes > peak_sst)
                peak_sst = s.sst_live_bytes;
        }
    }
    amp_settle(st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != STORE_OK) {
        fprintf(stderr, "storage_amp: store error %d\n", rc);
        return 1;
    }
    store_stats_t s;
    store_get_stats(st, &s);
    uint64_t end_sst = s.sst_live_bytes, end_files = s.sst_files;
    if (end_sst > peak_sst)
        peak_sst = end_sst;
    uint64_t written = io.bytes, wal = s.wal_bytes, flush = s.sst_bytes;
    uint64_t compact = s.compact_bytes_written;
    uint64_t manifest = written - wal - flush - compact;
    double lk_rate[2], lk_hit[2];
    uint64_t scanned = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {    /* a full scan between the two passes */
            store_iter_t *it = store_iter_open(st, NULL, UINT64_MAX, 1, NULL, 0, NULL, 0);
            store_val_t k, v;
            while (it && store_iter_next(it, &k, &v) == 1)
                scanned++;
            store_iter_close(it);
        }
        amp_lookups(st, keys, lookups, &lk_rate[pass], &lk_hit[pass]);
    }
    /* The live data in the on-disk encoding: everything merged at the horizon. */
    store_set_horizon(st, ts);
    store_compact_full(st);
    amp_settle(st);
    store_stats_t f;
    store_get_stats(st, &f);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("storage_amp: keys %" PRIu64 ", updates %" PRIu64 ", value %" PRIu64
           " B, memtable %" PRIu64 " B, fan-in %s, batch %" PRIu64 " (%.1f s)\n",
           keys, updates, vbytes, mt_bytes, fanin ? amp_sarg(argc, argv, "--fanin", "") : "4",
           batch, secs);
    printf("  user bytes            %12" PRIu64 "\n", user_bytes);
    printf("  written: WAL          %12" PRIu64 "\n", wal);
    printf("           flush        %12" PRIu64 "  (%" PRIu64 " flushes)\n", flush, s.flushes);
    printf("           compaction   %12" PRIu64 "  (%" PRIu64 " compactions, %" PRIu64
           " bytes read)\n", compact, s.compactions, s.compact_bytes_read);
    printf("           manifest     %12" PRIu64 "\n", manifest);
    printf("  write amplification   %12.2f  (without WAL %.2f)\n",
           (double)written / (double)user_bytes, (double)(flush + compact) / (double)user_bytes);
    printf("  sorted tables at end  %12" PRIu64 "  (%" PRIu64 " files), peak %" PRIu64 "\n",
           end_sst, end_files, peak_sst);
    printf("  live data (1 version) %12" PRIu64 "  on disk after a full merge; logical %" PRIu64
           "\n", f.sst_live_bytes, keys * (14 + vbytes));
    printf("  space amplification   %12.2f  at end, %.2f at peak (sorted tables / live)\n",
           (double)end_sst / (double)f.sst_live_bytes, (double)peak_sst / (double)f.sst_live_bytes);
    printf("  point lookups         %12.0f /s, block cache hit ratio %.3f (capacity %" PRIu64
           " B)\n", lk_rate[0], lk_hit[0], s.cache_capacity_bytes);
    printf("  after a full scan     %12.0f /s, hit ratio %.3f (%" PRIu64 " rows scanned)\n",
           lk_rate[1], lk_hit[1], scanned);
    store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
