/*
 * lookup_test.c -- point lookups over several sorted tables: the newest-first order
 * and its early stop (an older file whose newest version is not above the version
 * found is skipped) keep the merged answer exact when commit order on disk is not
 * timestamp order and on timestamp ties; the lookup counters (tables consulted,
 * skipped, bloom negatives and false positives, blocks; the cache's decoded bytes) add up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

static sim_t sim;
static char dir[256];
static uint64_t next_txn = 1;

static void on_done(void *arg, int rc)
{
    if (arg)
        *(int *)arg = rc;
}

/* A fresh store whose memtable flushes after every commit (budget 1 byte) and that
 * never compacts, so each commit_at below becomes one sorted table. */
static store_t *open_fresh(const char *name, size_t cache_bytes)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/lookup_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    sim_init(&sim, 11);
    sim.immediate = true;
    store_opts_t o = {.dir = dir, .shard_id = 1, .io = &sim.io, .segment_bytes = 1 << 16,
                      .memtable_budget_bytes = 1, .flush_slice_bytes = 1 << 16,
                      .manifest_bytes = 1 << 16, .compact_fanin = UINT32_MAX,
                      .cache_bytes = cache_bytes};
    store_t *st = NULL;
    if (store_open(&o, &st) != 0)
        abort();
    return st;
}

/* Turns until the commit is durable and the flush it made due has been installed (a
 * flush starts on the turn after the commit completes, so a few turns always run). */
static void settle(store_t *st)
{
    for (int i = 0; i < 100000 && (i < 8 || !store_idle(st) || store_flushing(st)); i++)
        store_sync(st);
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

/* Commits key = val (delete when val is NULL) at timestamp ts, then lets the flush run. */
static void commit_at(store_t *st, const char *key, const char *val, uint64_t ts)
{
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    int rc = store_write(st, t, val ? STORE_W_PUT : STORE_W_DELETE, 1, K(key),
                         (const uint8_t *)(val ? val : ""), val ? (uint32_t)strlen(val) : 0, &b);
    if (rc != STORE_OK)
        abort();
    int res = 1;
    store_txn_commit(st, t, ts, on_done, &res);
    settle(st);
    if (res != STORE_OK)
        abort();
}

/* 1 when key at snap reads want (NULL: not found). */
static int reads(store_t *st, const char *key, uint64_t snap, const char *want)
{
    store_val_t v;
    int rc = store_get(st, NULL, snap, 1, K(key), &v);
    if (!want)
        return rc == STORE_NOTFOUND;
    if (rc != STORE_OK || v.len != strlen(want) || memcmp(v.ptr, want, v.len) != 0) {
        fprintf(stderr, "  %s at %llu: rc %d, want '%s'\n", key, (unsigned long long)snap, rc, want);
        return 0;
    }
    return 1;
}

TEST(newest_first_is_exact_when_disk_order_is_not_timestamp_order)
{
    log_set_level(LOG_WARN);
    store_t *st = open_fresh("order", 0);    /* default cache: the first reads decode */
    commit_at(st, "a", "a@500", 500);   /* file 1: the newest timestamp, oldest file */
    commit_at(st, "a", "a@300", 300);   /* file 2 */
    commit_at(st, "b", "b@100", 100);   /* file 3: another key only */
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_REQUIRE(s.sst_files == 3);
    /* file 2 is found first (newest holding a); file 1's newest ts 500 > 300, so it
     * must still be consulted, and it wins */
    TEST_CHECK(reads(st, "a", UINT64_MAX, "a@500"));
    TEST_CHECK(reads(st, "a", 400, "a@300"));
    TEST_CHECK(reads(st, "a", 299, NULL));
    TEST_CHECK(reads(st, "b", UINT64_MAX, "b@100"));
    TEST_CHECK(reads(st, "b", 99, NULL));
    TEST_CHECK(reads(st, "c", UINT64_MAX, NULL));
    store_stats_t s2;
    store_get_stats(st, &s2);
    TEST_CHECK(s2.lookups - s.lookups == 6);
    /* no file may be skipped here: every version found is below file 1's newest */
    TEST_CHECK(s2.lookup_tables_skipped == s.lookup_tables_skipped);
    TEST_CHECK(s2.lookup_tables - s.lookup_tables == 18);
    TEST_CHECK(s2.cache_decoded_bytes > s.cache_decoded_bytes);
    TEST_CHECK(s2.cache_misses > s.cache_misses);
    TEST_CHECK(s2.lookup_blocks - s.lookup_blocks ==
               s2.lookup_tables - s.lookup_tables - (s2.lookup_bloom_negatives - s.lookup_bloom_negatives) -
                   (s2.lookup_bloom_false_positives - s.lookup_bloom_false_positives));
    store_close(st);
}

TEST(older_files_are_skipped_once_a_newer_version_is_found)
{
    store_t *st = open_fresh("skip", 0);
    commit_at(st, "k1", "k1@10", 10);   /* file 1: newest ts 20 */
    commit_at(st, "k2", "k2@20", 20);   /* file 2 */
    commit_at(st, "k1", "k1@30", 30);   /* file 3 */
    commit_at(st, "k2", NULL, 40);      /* file 4: k2 deleted */
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_REQUIRE(s.sst_files == 4);
    TEST_CHECK(reads(st, "k1", UINT64_MAX, "k1@30"));   /* file 3, then 2 (ts 20 <= 30: */
    store_stats_t s2;                                    /* skipped) and 1 (skipped) */
    store_get_stats(st, &s2);
    TEST_CHECK(s2.lookup_tables_skipped - s.lookup_tables_skipped == 2);
    TEST_CHECK(s2.lookup_tables - s.lookup_tables == 2);   /* file 4 (bloom), file 3 */
    TEST_CHECK(reads(st, "k2", UINT64_MAX, NULL));       /* the tombstone in file 4 */
    TEST_CHECK(reads(st, "k2", 39, "k2@20"));            /* file 2, below the snapshot */
    TEST_CHECK(reads(st, "k1", 29, "k1@10"));
    TEST_CHECK(reads(st, "k1", 9, NULL));
    store_close(st);
}

/* Queues a commit of key = val at ts without running a turn. */
static void queue_at(store_t *st, const char *key, const char *val, uint64_t ts, int *res)
{
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    if (store_write(st, t, STORE_W_PUT, 1, K(key), (const uint8_t *)val, (uint32_t)strlen(val), &b) !=
        STORE_OK)
        abort();
    store_txn_commit(st, t, ts, on_done, res);
}

TEST(a_timestamp_tie_goes_to_the_newer_file)
{
    store_t *st = open_fresh("tie", 0);
    /* file 1: t at 70 and, in the same flush, z at 90 (so file 1's newest is above 70
     * and the lookup of t must consult it after finding t at 70 in file 2) */
    int r1 = 1, r2 = 1;
    queue_at(st, "t", "older-file", 70, &r1);
    queue_at(st, "z", "z", 90, &r2);
    settle(st);
    TEST_REQUIRE(r1 == STORE_OK && r2 == STORE_OK);
    commit_at(st, "t", "newer-file", 70);
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_REQUIRE(s.sst_files == 2);
    TEST_CHECK(reads(st, "t", UINT64_MAX, "newer-file"));
    TEST_CHECK(reads(st, "t", 70, "newer-file"));
    TEST_CHECK(reads(st, "t", 69, NULL));
    TEST_CHECK(reads(st, "z", UINT64_MAX, "z"));
    store_stats_t s2;
    store_get_stats(st, &s2);
    TEST_CHECK(s2.lookup_tables_skipped == s.lookup_tables_skipped);
    store_close(st);
}

TEST(bloom_counters_over_many_files)
{
    store_t *st = open_fresh("bloom", SIZE_MAX);
    char key[32], val[32];
    for (int f = 0; f < 8; f++) {
        /* one file per commit: each holds one key */
        snprintf(key, sizeof key, "key%03d", f);
        snprintf(val, sizeof val, "v%d", f);
        commit_at(st, key, val, 100 + (uint64_t)f);
    }
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_REQUIRE(s.sst_files == 8);
    for (int f = 0; f < 8; f++) {
        snprintf(key, sizeof key, "key%03d", f);
        snprintf(val, sizeof val, "v%d", f);
        TEST_CHECK(reads(st, key, UINT64_MAX, val));
    }
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "absent%04d", i);
        TEST_CHECK(reads(st, key, UINT64_MAX, NULL));
    }
    store_stats_t s2;
    store_get_stats(st, &s2);
    uint64_t tables = s2.lookup_tables - s.lookup_tables, neg = s2.lookup_bloom_negatives - s.lookup_bloom_negatives,
             fp = s2.lookup_bloom_false_positives - s.lookup_bloom_false_positives,
             blocks = s2.lookup_blocks - s.lookup_blocks;
    /* every file is consulted for the absent keys; the present ones stop early (the
     * files below the one holding key f have older timestamps) */
    TEST_CHECK(s2.lookups - s.lookups == 208);
    TEST_CHECK(tables >= 200 * 8 && tables <= 200 * 8 + 8 * 8);
    TEST_CHECK(s2.lookup_tables_skipped - s.lookup_tables_skipped == 0 + 1 + 2 + 3 + 4 + 5 + 6 + 7);
    TEST_CHECK(blocks >= 8 && blocks == tables - neg - fp);
    TEST_CHECK(fp < tables / 10);    /* 10 bits per key: ~1% */
    TEST_CHECK(neg > tables * 8 / 10);
    store_close(st);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/lookup_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
