/*
 * gc_test.c -- garbage collection driven by the snapshot registry (core/snapreg.h):
 * a version a registered snapshot needs survives memtable gc, flushes and a full
 * compaction, and is dropped (with tombstones nothing older is left under) once the
 * snapshot is released; the horizon stays below a commit still pending in the store;
 * a flush leaves shadowed versions out of its file; a sorted table wholly below the
 * horizon with several versions per key is rewritten; the version and gc counters of
 * store_get_stats agree with what is on disk. Timestamps come from the real HLC, as in
 * the server, so the registry's floor (hlc_now at publication) is comparable.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hlc.h"
#include "core/log.h"
#include "core/snapreg.h"
#include "shards/sst.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define GT_KEYS 200
#define GT_ROUNDS 6

static sim_t sim;
static char dir[256];
static uint64_t next_txn = 1;

static void on_done(void *arg, int rc)
{
    if (arg)
        *(int *)arg = rc;
}

static store_t *reopen(size_t budget)
{
    store_opts_t o = {.dir = dir, .shard_id = 0, .io = &sim.io, .segment_bytes = 16384,
                      .memtable_budget_bytes = budget, .flush_slice_bytes = 3000,
                      .manifest_bytes = 4096, .compact_fanin = UINT32_MAX,
                      .compact_slice_bytes = 2000};
    store_t *st = NULL;
    if (store_open(&o, &st) != 0)
        abort();
    return st;
}

static void close_clean(store_t *st)
{
    sim_settle(&sim);
    store_close(st);
}

static store_t *open_fresh(const char *name, size_t budget)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/gc_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    sim_init(&sim, 7);
    sim.immediate = true;
    return reopen(budget);
}

static store_stats_t stats(store_t *st)
{
    store_stats_t s;
    store_get_stats(st, &s);
    return s;
}

static void settle(store_t *st)
{
    int i = 0;
    do
        store_sync(st);
    while (++i < 200000 && (!store_idle(st) || store_flushing(st) || store_compacting(st)));
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

static void key_of(int i, char *key, size_t n) { snprintf(key, n, "key%05d", i); }

/* Commits val (NULL = delete) to key i at a fresh HLC timestamp. */
static void commit_kv(store_t *st, int i, const char *val)
{
    char key[32];
    key_of(i, key, sizeof key);
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    if (store_write(st, t, val ? STORE_W_PUT : STORE_W_DELETE, 1, K(key), (const uint8_t *)(val ? val : ""),
                    val ? (uint32_t)strlen(val) : 0, &b) != STORE_OK)
        abort();
    int res = 1;
    store_txn_commit(st, t, hlc_now(), on_done, &res);
    store_sync(st);
    if (res != STORE_OK)
        abort();
}

/* What the shard glue does each gc slice (shards/shard.c, shard__gc). */
static uint64_t gc_round(store_t *st)
{
    snapreg_publish();
    uint64_t h = snapreg_horizon();
    uint64_t pending = store_pending_min(st);
    if (pending && pending - 1 < h)
        h = pending - 1;
    for (int i = 0; i < 10; i++)
        store_gc(st, h, 1u << 20);
    return h;
}

/* Every key at snap must read want(i) (NULL = absent). Returns mismatches. */
static int check_at(store_t *st, uint64_t snap, const char *(*want)(int, char *, size_t))
{
    int bad = 0;
    for (int i = 0; i < GT_KEYS; i++) {
        char key[32], buf[64];
        key_of(i, key, sizeof key);
        const char *w = want(i, buf, sizeof buf);
        store_val_t v;
        int rc = store_get(st, NULL, snap, 1, K(key), &v);
        if (w ? rc != STORE_OK || v.len != strlen(w) || memcmp(v.ptr, w, v.len) : rc != STORE_NOTFOUND)
            bad++;
    }
    return bad;
}

static const char *want_first(int i, char *buf, size_t n)
{
    snprintf(buf, n, "v0-%d", i);
    return buf;
}

static const char *want_last(int i, char *buf, size_t n)
{
    if (i % 2)
        return NULL;    /* odd keys deleted in the last round */
    snprintf(buf, n, "v%d-%d", GT_ROUNDS, i);
    return buf;
}

static uint64_t sst_versions_on_disk(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/sst", dir);
    DIR *d = opendir(p);
    uint64_t versions = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".sst"))
            continue;
        char f[900];
        snprintf(f, sizeof f, "%s/%s", p, e->d_name);
        sst_t *s;
        if (sst_open(f, 0, &s) == 0) {
            versions += sst_entries(s);
            sst_close(s);
        }
    }
    if (d)
        closedir(d);
    return versions;
}

TEST(registered_snapshot_survives_compaction_then_dropped)
{
    log_set_level(LOG_WARN);
    store_t *st = open_fresh("hold", 8000);
    char val[64];
    for (int i = 0; i < GT_KEYS; i++) {
        snprintf(val, sizeof val, "v0-%d", i);
        commit_kv(st, i, val);
    }
    snapreg_hold_t h = {0};
    uint64_t snap = hlc_now();
    snapreg_hold(&h, snap);
    TEST_CHECK(snapreg_live_count() == 1);
    for (int r = 1; r <= GT_ROUNDS; r++) {
        for (int i = 0; i < GT_KEYS; i++) {
            snprintf(val, sizeof val, "v%d-%d", r, i);
            commit_kv(st, i, r == GT_ROUNDS && i % 2 ? NULL : val);
        }
        gc_round(st);    /* memtable gc and flushes run while the snapshot is held */
        settle(st);
    }
    uint64_t horizon = gc_round(st);
    TEST_CHECK(horizon > 0 && horizon <= snap);
    TEST_CHECK(stats(st).flushes >= 2);
    store_compact_full(st);
    settle(st);
    gc_round(st);
    store_stats_t s1 = stats(st);
    TEST_CHECK(s1.compactions >= 1 && s1.sst_files == 1);
    /* every version the snapshot reads survived: v0 of every key */
    TEST_CHECK(check_at(st, snap, want_first) == 0);
    TEST_CHECK(check_at(st, UINT64_MAX, want_last) == 0);
    TEST_CHECK(s1.versions >= 2 * GT_KEYS);
    /* released: the next round's horizon passes every commit; after the memtable's rest
     * is flushed (a reopen with a tiny budget) and a full merge, one version per live
     * key is left: the odd keys' tombstones went too */
    snapreg_release(&h);
    TEST_CHECK(snapreg_live_count() == 0);
    horizon = gc_round(st);
    TEST_CHECK(horizon > snap);
    close_clean(st);
    st = reopen(1);
    gc_round(st);
    settle(st);
    store_compact_full(st);
    settle(st);
    gc_round(st);
    store_stats_t s2 = stats(st);
    TEST_CHECK(check_at(st, UINT64_MAX, want_last) == 0);
    TEST_CHECK(s2.sst_files == 1 && s2.versions == GT_KEYS / 2);
    TEST_CHECK(sst_versions_on_disk() == GT_KEYS / 2);
    TEST_CHECK(s2.gc_versions_dropped > 0 && s2.versions < s1.versions);
    close_clean(st);
}

TEST(horizon_stays_below_a_pending_commit)
{
    store_t *st = open_fresh("pending", SIZE_MAX);
    commit_kv(st, 0, "old");
    sim.immediate = false;    /* the next commit stays queued / in flight */
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    TEST_REQUIRE(store_write(st, t, STORE_W_PUT, 1, K("key00000"), K("new"), &b) == STORE_OK);
    uint64_t cts = hlc_now();
    int res = 1;
    store_txn_commit(st, t, cts, on_done, &res);
    TEST_CHECK(store_pending_min(st) == cts);
    uint64_t h = gc_round(st);
    TEST_CHECK(h < cts);
    store_sync(st);    /* in flight now */
    TEST_CHECK(res == 1 && store_pending_min(st) == cts);
    h = gc_round(st);
    TEST_CHECK(h < cts);
    sim_run(&sim);
    sim.immediate = true;
    settle(st);
    TEST_CHECK(res == STORE_OK);
    TEST_CHECK(store_pending_min(st) == 0);
    h = gc_round(st);
    TEST_CHECK(h > cts);
    store_val_t v;
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("key00000"), &v) == STORE_OK && v.len == 3 &&
               !memcmp(v.ptr, "new", 3));
    TEST_CHECK(stats(st).versions == 1);    /* "old" was freed from the memtable */
    close_clean(st);
}

TEST(flush_leaves_shadowed_versions_out)
{
    store_t *st = open_fresh("flush", SIZE_MAX);
    char val[64];
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < GT_KEYS; i++) {
            snprintf(val, sizeof val, "v%d-%d", r, i);
            commit_kv(st, i, val);
        }
    TEST_CHECK(stats(st).versions == 4 * GT_KEYS);
    /* the horizon passes every commit, but no memtable gc runs: the flush must drop */
    close_clean(st);
    st = reopen(1);    /* replay: 4 versions per key in memory, flushed at once */
    store_set_horizon(st, hlc_now());
    settle(st);
    store_stats_t s = stats(st);
    TEST_CHECK(s.flushes == 1);
    TEST_CHECK(sst_versions_on_disk() == GT_KEYS);
    TEST_CHECK(s.gc_versions_dropped == 3 * GT_KEYS);
    TEST_CHECK(s.versions == GT_KEYS);
    close_clean(st);
}

TEST(file_wholly_below_the_horizon_is_rewritten)
{
    /* tiered compaction on (fan-in 4): the flushes made while the snapshot is held
     * merge into files with several versions per key; once it is released and the
     * horizon passes them, each such file is rewritten alone with one version per key */
    store_t *st = open_fresh("garbage", SIZE_MAX);
    close_clean(st);
    store_opts_t o = {.dir = dir, .shard_id = 0, .io = &sim.io, .segment_bytes = 16384,
                      .memtable_budget_bytes = 6000, .flush_slice_bytes = 3000,
                      .manifest_bytes = 4096, .compact_fanin = 4, .compact_slice_bytes = 2000};
    TEST_REQUIRE(store_open(&o, &st) == 0);
    char val[64];
    snapreg_hold_t h = {0};
    snapreg_hold(&h, hlc_now());
    for (int r = 0; r < 48; r++) {
        for (int i = 0; i < 20; i++) {    /* 20 keys: each flush holds several rounds */
            snprintf(val, sizeof val, "v%d-%d", r, i);
            commit_kv(st, i, val);
        }
        gc_round(st);
        settle(st);
    }
    store_stats_t s1 = stats(st);
    TEST_CHECK(s1.compactions >= 1);
    TEST_CHECK(s1.versions >= 48 * 20);    /* all kept: every one is above the snapshot */
    snapreg_release(&h);
    for (int i = 0; i < 40; i++) {
        gc_round(st);
        settle(st);
    }
    store_stats_t s2 = stats(st);
    TEST_CHECK(s2.compactions > s1.compactions);
    /* one version per key per file at most, and few files */
    TEST_CHECK(s2.versions <= (s2.sst_files + 1) * 20);
    TEST_CHECK(s2.versions < s1.versions / 2);
    for (int i = 0; i < 20; i++) {
        char key[32];
        key_of(i, key, sizeof key);
        snprintf(val, sizeof val, "v47-%d", i);
        store_val_t v;
        TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K(key), &v) == STORE_OK && v.len == strlen(val) &&
                   !memcmp(v.ptr, val, v.len));
    }
    close_clean(st);
}

TEST(idle_memtable_skips_the_walk_until_something_changes)
{
    /* a clean pass with nothing new since makes store_gc return at once; a commit
     * (new version) or a transaction's end wakes it, and the versions it shadows
     * are collected as before */
    store_t *st = open_fresh("idle", SIZE_MAX);
    char val[64];
    for (int i = 0; i < GT_KEYS; i++) {
        snprintf(val, sizeof val, "a-%d", i);
        commit_kv(st, i, val);
    }
    gc_round(st);
    TEST_CHECK(stats(st).versions == GT_KEYS);
    store_gc(st, hlc_now(), 1u << 20);          /* settled: this pass is clean */
    store_gc(st, hlc_now(), 1u << 20);
    store_gc(st, hlc_now(), 1u << 20);
    commit_kv(st, 7, "b-7");                    /* shadows a-7 */
    TEST_CHECK(stats(st).versions == GT_KEYS + 1);
    uint64_t h = hlc_now();
    size_t freed = 0;
    for (int i = 0; i < 4; i++)
        freed += store_gc(st, h, 16);           /* resumes with small slices */
    freed += store_gc(st, h, 1u << 20);
    TEST_CHECK(freed == 1);
    TEST_CHECK(stats(st).versions == GT_KEYS);
    /* an aborted insert leaves an empty node; the abort wakes gc, which removes it */
    for (int i = 0; i < 3; i++)
        store_gc(st, hlc_now(), 1u << 20);
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    TEST_REQUIRE(store_write(st, t, STORE_W_PUT, 1, K("zz-aborted"), (const uint8_t *)"x", 1, &b) == STORE_OK);
    uint64_t keys0 = stats(st).keys;
    store_gc(st, hlc_now(), 1u << 20);          /* a pass that meets the intent */
    store_txn_abort(st, t);
    store_gc(st, hlc_now(), 1u << 20);
    store_gc(st, hlc_now(), 1u << 20);
    TEST_CHECK(stats(st).keys == keys0 - 1);
    store_val_t v;
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("key00007"), &v) == STORE_OK && v.len == 3 &&
               !memcmp(v.ptr, "b-7", 3));
    close_clean(st);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/gc_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
