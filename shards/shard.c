/*
 * shard.c -- the runtime glue for one shard's store (contract: shards/shard.h).
 *
 * Each shard thread keeps its state in a thread-local shard_local_t: the store, a small
 * hash of txn_id -> wait queue for fibers waiting on a row lock (fed by the store's
 * txn_end_hook), and the statistics last pushed to /metrics. WAL writes go through
 * rt_write_async (write + linked fdatasync on the shard's ring); group commit is
 * store_sync from the loop's turn_end hook. Blocking helpers park the calling fiber
 * until the store's done callback runs, which may happen before the store call even
 * returns (transactions without writes, read-only store). Garbage collection runs
 * from turn_end too (shard__gc: publish this shard's oldest snapshot, take the
 * process-wide horizon of core/snapreg.h, store_gc a slice; shards/README.md).
 */
#include <errno.h>
#include <stdatomic.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/snapreg.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "shards/shard_metrics.h"
#include "shards/sst.h"

typedef struct shard_waiter {
    uint64_t txn_id;
    rt_waitq_t q;
    int waiters;
    bool ended;                 /* unhooked from the hash; last waiter frees it */
    struct shard_waiter *next;
} shard_waiter_t;

typedef struct shard_local {
    store_t *st;
    shard_waiter_t *waiters[LIMIT_SHARD_WAIT_BUCKETS];
    store_stats_t reported;
    uint64_t reported_us;       /* when reported was pushed to the metrics */
    bool hold_trim;             /* until every shard resolved its in-doubt transactions */
    uint64_t gc_us;             /* when the last gc slice ran */
    uint64_t gc_horizon;        /* the horizon that slice used */
} shard_local_t;

static __thread shard_local_t *shard__self;
/* Start-up resolution of in-doubt two-phase commits: every shard publishes its store
 * once recovered, waits for every other shard's, applies store_outcome to each of its
 * in-doubt transactions (recovered decisions and votes are never changed after
 * store_open, so reading them from another thread is safe), logs the outcome, then
 * counts itself resolved. WAL trimming
 * stays held until every shard has resolved. */
static store_t *_Atomic shard__stores[LIMIT_SHARDS_MAX];
static atomic_int shard__resolved, shard__open_failed;
static void shard__report(shard_local_t *sl);
static void shard__gc_ticker(void *arg);
static size_t shard__memtable_budget;    /* written before the shards start */
static size_t shard__cache_budget;

void shard_set_memtable_budget(size_t bytes) { shard__memtable_budget = bytes; }
size_t shard_memtable_budget(void) { return shard__memtable_budget; }
void shard_set_cache_budget(size_t bytes) { shard__cache_budget = bytes; }

/* The split of one shard's memory budget (shards/README.md, "Block cache"): 1/8 is the
 * memtable's flush threshold (it may reach about twice that while a flush runs, as
 * writes continue), capped at LIMIT_MEMTABLE_BUDGET_BYTES so WAL replay stays short;
 * 1/2 is the block cache (reads of data that no longer fits the memtable live on it,
 * as PostgreSQL's on shared_buffers); the last quarter or more is for statements,
 * connections and vector indexes. */
void shard_set_memory_budget(uint64_t shard_bytes)
{
    uint64_t mt = shard_bytes / 8, cache = shard_bytes / 2;
    if (mt > LIMIT_MEMTABLE_BUDGET_BYTES)
        mt = LIMIT_MEMTABLE_BUDGET_BYTES;
    if (mt < LIMIT_MEMTABLE_MIN_BYTES)
        mt = LIMIT_MEMTABLE_MIN_BYTES;
    if (cache < LIMIT_BLOCK_CACHE_MIN_BYTES)
        cache = LIMIT_BLOCK_CACHE_MIN_BYTES;
    shard__memtable_budget = (size_t)mt;
    shard__cache_budget = (size_t)cache;
    log_info("shard: memory budget %llu MiB per shard: memtable flush at %llu MiB, block "
             "cache %llu MiB", (unsigned long long)(shard_bytes >> 20),
             (unsigned long long)(mt >> 20), (unsigned long long)(cache >> 20));
}

/* Metric ids; -1 until shard_register_metrics (written before the shards start). */
static int shard__m_wal_bytes = -1, shard__m_fsyncs = -1, shard__m_fsync_seconds = -1,
           shard__m_commits = -1, shard__m_memtable = -1, shard__m_flushes = -1,
           shard__m_sst_files = -1, shard__m_batch_records = -1, shard__m_queue_wait = -1;

/* Compaction and block-cache metrics: one store_stats_t field each. */
typedef struct shard_stat_metric {
    const char *name, *help;
    int kind;                   /* METRIC_COUNTER (delta added) or METRIC_GAUGE (set) */
    size_t off;                 /* offsetof(store_stats_t, field) */
    int id;
} shard_stat_metric_t;

#define SHARD_STAT(name, help, kind, field) {name, help, kind, offsetof(store_stats_t, field), -1}
static shard_stat_metric_t shard__stat_metrics[] = {
    SHARD_STAT("nextdb_compactions_total", "Sorted-table compactions installed.",
               METRIC_COUNTER, compactions),
    SHARD_STAT("nextdb_compaction_read_bytes_total", "Bytes of sorted tables merged by compaction.",
               METRIC_COUNTER, compact_bytes_read),
    SHARD_STAT("nextdb_compaction_written_bytes_total", "Bytes of sorted tables written by compaction.",
               METRIC_COUNTER, compact_bytes_written),
    SHARD_STAT("nextdb_compaction_dropped_versions_total",
               "Row versions dropped by compaction (shadowed, tombstones, cleared tables).",
               METRIC_COUNTER, compact_versions_dropped),
    SHARD_STAT("nextdb_compaction_running", "1 while a compaction is in progress.", METRIC_GAUGE,
               compact_running),
    SHARD_STAT("nextdb_compaction_backlog_bytes",
               "Bytes the running or next due compaction merges (0 = nothing due).", METRIC_GAUGE,
               compact_backlog_bytes),
    SHARD_STAT("nextdb_compaction_backlog_files",
               "Sorted tables the running or next due compaction merges.", METRIC_GAUGE,
               compact_backlog_files),
    SHARD_STAT("nextdb_sorted_table_bytes", "Bytes of the shard's sorted tables on disk.",
               METRIC_GAUGE, sst_live_bytes),
    SHARD_STAT("nextdb_block_cache_hits_total", "Block cache lookups that found the block.",
               METRIC_COUNTER, cache_hits),
    SHARD_STAT("nextdb_block_cache_misses_total", "Block cache lookups that read the file.",
               METRIC_COUNTER, cache_misses),
    SHARD_STAT("nextdb_block_cache_evictions_total", "Blocks evicted from the block cache.",
               METRIC_COUNTER, cache_evictions),
    SHARD_STAT("nextdb_block_cache_bytes", "Bytes held by the block cache.", METRIC_GAUGE,
               cache_bytes),
    SHARD_STAT("nextdb_block_cache_decoded_bytes_total",
               "Bytes of sorted-table blocks decoded on block cache misses (lookups and scans).",
               METRIC_COUNTER, cache_decoded_bytes),
    SHARD_STAT("nextdb_block_cache_capacity_bytes", "Capacity of the block cache.", METRIC_GAUGE,
               cache_capacity_bytes),
    SHARD_STAT("nextdb_store_versions",
               "Row versions held: memtable versions and intents plus every sorted table's.",
               METRIC_GAUGE, versions),
    SHARD_STAT("nextdb_gc_dropped_versions_total",
               "Row versions no snapshot at or above the horizon can see, dropped from the "
               "memtable, left out of flushes or dropped by compaction.",
               METRIC_COUNTER, gc_versions_dropped),
    SHARD_STAT("nextdb_gc_horizon", "The shard's MVCC horizon (HLC timestamp; 0 = keep all).",
               METRIC_GAUGE, horizon),
    SHARD_STAT("nextdb_scan_blocks_whole_total",
               "Sorted-table blocks column scans consumed whole (no per-row merge).",
               METRIC_COUNTER, scan_blocks_whole),
    SHARD_STAT("nextdb_scan_blocks_skipped_total",
               "Sorted-table blocks column scans skipped by their min/max statistics.",
               METRIC_COUNTER, scan_blocks_skipped),
    SHARD_STAT("nextdb_point_lookups_total",
               "Point lookups merged over the sorted tables (reads, locks, INSERT checks).",
               METRIC_COUNTER, lookups),
    SHARD_STAT("nextdb_point_lookup_tables_total",
               "Sorted tables point lookups consulted (bloom filter checked).",
               METRIC_COUNTER, lookup_tables),
    SHARD_STAT("nextdb_point_lookup_tables_skipped_total",
               "Older sorted tables point lookups skipped: nothing newer than the version found.",
               METRIC_COUNTER, lookup_tables_skipped),
    SHARD_STAT("nextdb_point_lookup_bloom_negatives_total",
               "Sorted tables the bloom filter ruled out for a point lookup.", METRIC_COUNTER,
               lookup_bloom_negatives),
    SHARD_STAT("nextdb_point_lookup_bloom_false_positives_total",
               "Point lookups the bloom filter let through to a table without the key.",
               METRIC_COUNTER, lookup_bloom_false_positives),
    SHARD_STAT("nextdb_point_lookup_blocks_total",
               "Sorted-table blocks point lookups read (block cache hits and misses).",
               METRIC_COUNTER, lookup_blocks),
    SHARD_STAT("nextdb_spill_runs_total",
               "Runs large transactions spilled their uncommitted writes to.", METRIC_COUNTER,
               spill_runs),
    SHARD_STAT("nextdb_spill_bytes_total", "Bytes of the runs large transactions spilled.",
               METRIC_COUNTER, spill_bytes),
    SHARD_STAT("nextdb_wal_records_total",
               "WAL records made durable (per fsync: divide by nextdb_wal_fsyncs_total).",
               METRIC_COUNTER, wal_records),
    SHARD_STAT("nextdb_wal_lazy_records_total",
               "Two-phase commit phase-two records among them (written lazily, with the next "
               "group-commit write).",
               METRIC_COUNTER, wal_lazy_records),
    SHARD_STAT("nextdb_wal_lazy_writes_total",
               "Group-commit writes started for lazy phase-two records alone.",
               METRIC_COUNTER, wal_lazy_writes),
};
#define SHARD_STAT_METRICS (sizeof shard__stat_metrics / sizeof shard__stat_metrics[0])

static uint64_t shard__stat(const store_stats_t *s, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)s + off, sizeof v);
    return v;
}

void shard_register_metrics(void)
{
    for (size_t i = 0; i < SHARD_STAT_METRICS; i++) {
        shard_stat_metric_t *m = &shard__stat_metrics[i];
        m->id = metrics_register(m->name, m->help, m->kind, NULL, 0);
    }
    static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    shard__m_wal_bytes = metrics_register("nextdb_wal_bytes_total",
                                          "Bytes written to the shard WAL.", METRIC_COUNTER,
                                          NULL, 0);
    shard__m_fsyncs = metrics_register("nextdb_wal_fsyncs_total",
                                       "Group-commit WAL writes completed with fdatasync.",
                                       METRIC_COUNTER, NULL, 0);
    shard__m_fsync_seconds = metrics_register(
        "nextdb_wal_fsync_seconds", "Latency of one group-commit WAL write + fdatasync.",
        METRIC_HISTOGRAM, bounds, (int)(sizeof bounds / sizeof bounds[0]));
    static const double rec_bounds[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256};
    shard__m_batch_records = metrics_register(
        "nextdb_wal_records_per_fsync", "WAL records one group-commit write + fdatasync takes.",
        METRIC_HISTOGRAM, rec_bounds, (int)(sizeof rec_bounds / sizeof rec_bounds[0]));
    shard__m_queue_wait = metrics_register(
        "nextdb_wal_queue_wait_seconds",
        "Per group-commit write: the mean time its records waited in the queue for it.",
        METRIC_HISTOGRAM, bounds, (int)(sizeof bounds / sizeof bounds[0]));
    shard__m_commits = metrics_register("nextdb_commits_total",
                                        "Transactions with writes made durable.",
                                        METRIC_COUNTER, NULL, 0);
    shard__m_memtable = metrics_register("nextdb_memtable_bytes",
                                         "Bytes held by the shard's memtable.", METRIC_GAUGE,
                                         NULL, 0);
    shard__m_flushes = metrics_register("nextdb_memtable_flushes_total",
                                        "Memtable flushes to sorted tables completed.",
                                        METRIC_COUNTER, NULL, 0);
    shard__m_sst_files = metrics_register("nextdb_sorted_tables",
                                          "Sorted-table files in the shard's set.",
                                          METRIC_GAUGE, NULL, 0);
}

/* ---- I/O ---- */

typedef struct shard_io_op {
    void (*done)(void *arg, int res);
    void *arg;
    uint64_t start_us;
    bool observe;               /* a write + fdatasync: counts in the fsync histogram */
} shard_io_op_t;

static void shard__io_done(void *arg, int res)
{
    shard_io_op_t *op = arg;
    if (shard__m_fsync_seconds >= 0 && op->observe)
        metrics_observe(shard__m_fsync_seconds, (double)(rt_now_us() - op->start_us) / 1e6);
    void (*done)(void *, int) = op->done;
    void *done_arg = op->arg;
    rt_free(op);
    done(done_arg, res);
}

static int shard__io_write(void *ctx, int fd, const void *buf, size_t len, uint64_t off,
                           bool sync, void (*done)(void *arg, int res), void *arg)
{
    shard_io_op_t *op = rt_malloc(sizeof *op);
    if (!op)
        return -ENOMEM;    /* the store retries next turn */
    op->done = done;
    op->arg = arg;
    op->start_us = rt_now_us();
    op->observe = sync && len > 0;
    int rc = rt_write_async(fd, buf, len, off, sync, shard__io_done, op);
    if (rc < 0)
        rt_free(op);
    return rc;
}

/* fdatasync only (sorted tables): a zero-length write linked to the fdatasync. */
static int shard__io_fsync(void *ctx, int fd, void (*done)(void *arg, int res), void *arg)
{
    return shard__io_write(ctx, fd, "", 0, 0, true, done, arg);
}

/* ---- lock waits ---- */

static shard_waiter_t **shard__bucket(shard_local_t *sl, uint64_t txn_id)
{
    return &sl->waiters[(txn_id * 0x9E3779B97F4A7C15ull >> 40) % LIMIT_SHARD_WAIT_BUCKETS];
}

static void shard__unlink_waiter(shard_local_t *sl, shard_waiter_t *w)
{
    shard_waiter_t **pp = shard__bucket(sl, w->txn_id);
    while (*pp != w)
        pp = &(*pp)->next;
    *pp = w->next;
}

/* store_opts_t.wal_batch_hook: a group-commit write was submitted. */
static void shard__wal_batch(void *arg, uint32_t records, uint64_t queue_us_sum)
{
    (void)arg;
    if (shard__m_batch_records >= 0)
        metrics_observe(shard__m_batch_records, (double)records);
    if (shard__m_queue_wait >= 0 && records)
        metrics_observe(shard__m_queue_wait, (double)queue_us_sum / records / 1e6);
}

static void shard__txn_ended(void *arg, uint64_t txn_id)
{
    shard_local_t *sl = arg;
    for (shard_waiter_t *w = *shard__bucket(sl, txn_id); w; w = w->next) {
        if (w->txn_id != txn_id)
            continue;
        shard__unlink_waiter(sl, w);
        w->ended = true;
        rt_waitq_wake_all(&w->q);
        if (w->waiters == 0)
            rt_free(w);
        return;
    }
}

int shard_wait_txn(uint64_t txn_id, uint64_t timeout_ms)
{
    shard_local_t *sl = shard__self;
    ASSERT(sl && rt_self());
    if (!store_txn_find(sl->st, txn_id))
        return 0;    /* already ended (or never ran here) */
    shard_waiter_t *w = *shard__bucket(sl, txn_id);
    while (w && w->txn_id != txn_id)
        w = w->next;
    if (!w) {
        w = rt_calloc(1, sizeof *w);
        if (!w) {
            rt_sleep_ms(1);    /* no memory for a queue: the caller re-checks and retries */
            return 0;
        }
        w->txn_id = txn_id;
        shard_waiter_t **b = shard__bucket(sl, txn_id);
        w->next = *b;
        *b = w;
    }
    w->waiters++;
    int rc = 0;
    if (timeout_ms)
        rc = rt_waitq_wait_timeout(&w->q, timeout_ms);
    else
        rt_waitq_wait(&w->q);
    w->waiters--;
    bool ended = w->ended;
    if (w->waiters == 0) {
        if (!ended)
            shard__unlink_waiter(shard__self, w);
        rt_free(w);
    }
    return ended || rc == 0 ? 0 : -ETIMEDOUT;
}

/* ---- commit waits ---- */

typedef struct shard_wait {
    rt_fiber_t *fiber;
    int rc;
    bool done, parked;
} shard_wait_t;

static void shard__wait_done(void *arg, int rc)
{
    shard_wait_t *w = arg;
    w->rc = rc;
    w->done = true;
    if (w->parked)
        rt_resume(w->fiber);
}

/* Parks the fiber until done ran (it may have run already). */
static int shard__wait(shard_wait_t *w)
{
    while (!w->done) {
        w->parked = true;
        rt_suspend();
        w->parked = false;
    }
    return w->rc;
}

int shard_commit_wait(store_txn_t *t, uint64_t commit_ts)
{
    shard_wait_t w = {.fiber = rt_self()};
    ASSERT(shard__self && w.fiber);
    int rc = store_txn_commit(shard__self->st, t, commit_ts, shard__wait_done, &w);
    if (rc < 0 && !w.done)
        return rc;
    return shard__wait(&w);
}

int shard_table_clear_wait(uint32_t table_id, uint64_t ts)
{
    shard_wait_t w = {.fiber = rt_self()};
    ASSERT(shard__self && w.fiber);
    int rc = store_table_clear(shard__self->st, table_id, ts, shard__wait_done, &w);
    if (rc < 0 && !w.done)
        return rc;
    return shard__wait(&w);
}

/* ---- lifecycle ---- */

int shard_prepare_wait(store_txn_t *t, uint32_t coord_shard, uint64_t commit_ts)
{
    shard_wait_t w = {.fiber = rt_self()};
    ASSERT(shard__self && w.fiber);
    store_txn_prepare(shard__self->st, t, coord_shard, commit_ts, shard__wait_done, &w);
    return shard__wait(&w);
}

int shard_stage_wait(store_txn_t *t, uint32_t coord_shard, const uint32_t *parts, uint32_t nparts,
                     uint64_t commit_ts)
{
    shard_wait_t w = {.fiber = rt_self()};
    ASSERT(shard__self && w.fiber);
    store_txn_stage(shard__self->st, t, coord_shard, parts, nparts, commit_ts, shard__wait_done, &w);
    return shard__wait(&w);
}

shard_wait_t *shard_commit_decided_start(store_txn_t *t, uint64_t commit_ts, int *rc)
{
    ASSERT(shard__self);
    shard_wait_t *w = rt_calloc(1, sizeof *w);
    if (!w) {    /* no memory for the handle: wait here instead */
        shard_wait_t inl = {.fiber = rt_self()};
        store_txn_commit_decided(shard__self->st, t, commit_ts, shard__wait_done, &inl);
        *rc = shard__wait(&inl);
        return NULL;
    }
    *rc = 0;
    store_txn_commit_decided(shard__self->st, t, commit_ts, shard__wait_done, w);
    return w;
}

int shard_commit_decided_finish(shard_wait_t *w)
{
    if (!w)
        return 0;
    w->fiber = rt_self();
    ASSERT(w->fiber);
    int rc = shard__wait(w);
    rt_free(w);
    return rc;
}

int shard_commit_2pc_wait(store_txn_t *t, uint64_t commit_ts)
{
    shard_wait_t w = {.fiber = rt_self()};
    ASSERT(shard__self && w.fiber);
    store_txn_commit_2pc(shard__self->st, t, commit_ts, shard__wait_done, &w);
    return shard__wait(&w);
}

int shard_commit_prepared_wait(store_txn_t *t, uint64_t commit_ts)
{
    shard_wait_t w = {.fiber = rt_self()};
    ASSERT(shard__self && w.fiber);
    store_txn_commit_prepared(shard__self->st, t, commit_ts, shard__wait_done, &w);
    return shard__wait(&w);
}

/* Resolves every in-doubt transaction of this shard (see shard__stores). */
static int shard__resolve_indoubt(shard_local_t *sl)
{
    int n = store_indoubt(sl->st, NULL, NULL, 0), rc = 0;
    if (n == 0)
        return 0;
    uint64_t *ids = rt_calloc((size_t)n, sizeof *ids);
    uint32_t *coords = rt_calloc((size_t)n, sizeof *coords);
    if (!ids || !coords) {
        rc = STORE_ENOMEM;
        goto done;
    }
    store_indoubt(sl->st, ids, coords, n);
    /* The one-round rule reads every shard's recovered records: wait for all to open. */
    store_t *all[LIMIT_SHARDS_MAX];
    for (int s = 0; s < rt_shards_count(); s++)
        while (!(all[s] = atomic_load(&shard__stores[s]))) {
            if (atomic_load(&shard__open_failed))
                goto done;
            rt_sleep_ms(1);
        }
    int committed = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (coords[i] >= (uint32_t)rt_shards_count()) {
            log_error("shard %d: in-doubt transaction %llu names coordinator shard %u, but "
                      "there are %d shards", rt_shard_id(), (unsigned long long)ids[i],
                      coords[i], rt_shards_count());
            rc = STORE_ECORRUPT;
            break;
        }
        uint64_t ts;
        store_txn_t *t = store_txn_find(sl->st, ids[i]);
        if (!t)
            continue;
        if (store_outcome(all, rt_shards_count(), coords[i], ids[i], &ts)) {
            committed++;
            rc = shard_commit_prepared_wait(t, ts);
        } else {
            store_txn_abort(sl->st, t);
        }
    }
    log_info("shard %d: resolved %d in-doubt transactions (%d committed, %d aborted)",
             rt_shard_id(), n, committed, n - committed);
done:
    rt_free(ids);
    rt_free(coords);
    return rc;
}

int shard_open_local(const char *data_dir)
{
    ASSERT(!shard__self);
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/shard-%03d", data_dir, rt_shard_id());
    if (n < 0 || (size_t)n >= sizeof path) {
        log_error("shard: data directory path too long: %s", data_dir);
        return STORE_EINVAL;
    }
    shard_local_t *sl = rt_calloc(1, sizeof *sl);
    if (!sl)
        return STORE_ENOMEM;
    store_io_t io = {.ctx = sl, .write = shard__io_write, .fsync = shard__io_fsync};
    store_opts_t o = {.dir = path, .shard_id = rt_shard_id(), .io = &io,
                      .txn_end_hook = shard__txn_ended, .wal_batch_hook = shard__wal_batch,
                      .hook_arg = sl,
                      .memtable_budget_bytes = shard__memtable_budget,
                      .cache_bytes = shard__cache_budget, .wal_lazy_us = LIMIT_WAL_LAZY_US};
    int rc = store_open(&o, &sl->st);
    if (rc) {
        log_error("shard: cannot open %s: store error %d", path, rc);
        atomic_store(&shard__open_failed, 1);
        rt_free(sl);
        return rc;
    }
    store_hold_trim(sl->st, true);
    sl->hold_trim = true;
    hlc_floor(store_max_commit_ts(sl->st));
    store_get_stats(sl->st, &sl->reported);
    if (shard__m_memtable >= 0)
        metrics_set(shard__m_memtable, (int64_t)sl->reported.memtable_bytes);
    if (shard__m_sst_files >= 0)
        metrics_set(shard__m_sst_files, (int64_t)sl->reported.sst_files);
    for (size_t i = 0; i < SHARD_STAT_METRICS; i++) {
        const shard_stat_metric_t *m = &shard__stat_metrics[i];
        if (m->id >= 0 && m->kind == METRIC_GAUGE)
            metrics_set(m->id, (int64_t)shard__stat(&sl->reported, m->off));
    }
    shard__self = sl;
    atomic_store(&shard__stores[rt_shard_id()], sl->st);
    rc = shard__resolve_indoubt(sl);
    if (rc) {
        log_error("shard %d: cannot resolve in-doubt transactions (store error %d)",
                  rt_shard_id(), rc);
        atomic_store(&shard__open_failed, 1);
        return rc;
    }
    atomic_fetch_add(&shard__resolved, 1);
    if (rt_spawn(shard__gc_ticker, NULL) != 0)
        log_warn("shard %d: no gc ticker fiber; the horizon advances only while this shard works",
                 rt_shard_id());
    return 0;
}

void shard_close_local(void)
{
    shard_local_t *sl = shard__self;
    if (!sl)
        return;
    while (!store_idle(sl->st)) {
        store_wal_kick(sl->st);    /* lazy phase-two records too, at once */
        rt_sleep_ms(1);    /* turn_end keeps submitting; completions drain the queue */
    }
    shard__report(sl);     /* the last figures, whatever the report interval */
    /* Nobody will end those transactions now: release their waiters. */
    for (int i = 0; i < LIMIT_SHARD_WAIT_BUCKETS; i++) {
        while (sl->waiters[i]) {
            shard_waiter_t *w = sl->waiters[i];
            sl->waiters[i] = w->next;
            w->ended = true;
            rt_waitq_wake_all(&w->q);
            if (w->waiters == 0)
                rt_free(w);
        }
    }
    atomic_store(&shard__stores[rt_shard_id()], NULL);
    atomic_fetch_sub(&shard__resolved, 1);
    store_close(sl->st);
    sst_thread_release();
    shard__self = NULL;
    rt_free(sl);
}

store_t *shard_store(void)
{
    return shard__self ? shard__self->st : NULL;
}

static void shard__report(shard_local_t *sl)
{
    store_stats_t s;
    store_get_stats(sl->st, &s);
    if (shard__m_wal_bytes >= 0 && s.wal_bytes != sl->reported.wal_bytes)
        metrics_add(shard__m_wal_bytes, s.wal_bytes - sl->reported.wal_bytes);
    if (shard__m_fsyncs >= 0 && s.wal_syncs != sl->reported.wal_syncs)
        metrics_add(shard__m_fsyncs, s.wal_syncs - sl->reported.wal_syncs);
    if (shard__m_commits >= 0 && s.commits != sl->reported.commits)
        metrics_add(shard__m_commits, s.commits - sl->reported.commits);
    if (shard__m_memtable >= 0 && s.memtable_bytes != sl->reported.memtable_bytes)
        metrics_set(shard__m_memtable, (int64_t)s.memtable_bytes);
    if (shard__m_flushes >= 0 && s.flushes != sl->reported.flushes)
        metrics_add(shard__m_flushes, s.flushes - sl->reported.flushes);
    if (shard__m_sst_files >= 0 && s.sst_files != sl->reported.sst_files)
        metrics_set(shard__m_sst_files, (int64_t)s.sst_files);
    for (size_t i = 0; i < SHARD_STAT_METRICS; i++) {
        const shard_stat_metric_t *m = &shard__stat_metrics[i];
        uint64_t now = shard__stat(&s, m->off), was = shard__stat(&sl->reported, m->off);
        if (m->id < 0 || now == was)
            continue;
        if (m->kind == METRIC_COUNTER)
            metrics_add(m->id, now - was);
        else
            metrics_set(m->id, (int64_t)now);
    }
    sl->reported = s;
}

int shard_report_now(void *unused)
{
    (void)unused;
    shard_local_t *sl = shard__self;
    if (sl)
        shard__report(sl);
    return 0;
}

/* One gc slice (from turn_end, where no fiber holds store values): publish this
 * shard's oldest snapshot (core/snapreg.h), take the process-wide horizon, keep it
 * below every commit still pending here, hand it to the store (compaction uses it) and
 * free shadowed memtable versions of the next LIMIT_GC_KEYS_PER_STEP keys. Nothing
 * until every shard resolved its in-doubt transactions at start-up. */
static void shard__gc(shard_local_t *sl)
{
    snapreg_publish();
    if (atomic_load(&shard__resolved) < rt_shards_count())
        return;
    uint64_t h = snapreg_horizon();
    uint64_t pending = store_pending_min(sl->st);
    if (pending && pending - 1 < h)
        h = pending - 1;
    if (h < sl->gc_horizon)
        h = sl->gc_horizon;    /* cannot happen (see snapreg.h); never go back */
    sl->gc_horizon = h;
    if (h)
        store_gc(sl->st, h, LIMIT_GC_KEYS_PER_STEP);
}

/* Wakes an idle shard every LIMIT_GC_TICK_MS so its turn_end publishes a fresh floor:
 * a sleeping shard's stale floor would hold every shard's horizon back. */
static void shard__gc_ticker(void *arg)
{
    (void)arg;
    while (!rt_stopping())
        rt_sleep_ms(LIMIT_GC_TICK_MS);
}

void shard_turn_end(void)
{
    shard_local_t *sl = shard__self;
    if (!sl)
        return;
    if (sl->hold_trim && atomic_load(&shard__resolved) >= rt_shards_count()) {
        sl->hold_trim = false;
        store_hold_trim(sl->st, false);
        store_decisions_drop(sl->st);    /* every shard has resolved: nobody reads them now */
    }
    store_sync(sl->st);
    /* Stats go to /metrics at most every LIMIT_SHARD_REPORT_US, not every loop turn
     * (a busy shard turns hundreds of thousands of times a second). */
    struct timespec ts;    /* the coarse clock: a few ns, ms resolution is plenty here */
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (now - sl->gc_us >= LIMIT_GC_INTERVAL_US) {
        sl->gc_us = now;
        shard__gc(sl);
    }
    if (now - sl->reported_us >= LIMIT_SHARD_REPORT_US) {
        sl->reported_us = now;
        shard__report(sl);
    }
}
