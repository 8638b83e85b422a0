/*
 * flush_test.c -- the store with sorted tables: memtable flush, merged reads (get,
 * iterators, snapshots, own intents), INSERT existence and lock_latest against flushed
 * rows, iterators that live across a flush, table clear over sorted tables, gc keeping
 * tombstones that shadow flushed rows, recovery from MANIFEST + WAL with trimming, and
 * a flipped byte in a sorted table reported as corruption (never a wrong answer).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define FT_KEYS 400

static sim_t sim;
static char dir[256];
static uint64_t next_txn = 1, next_ts = 10;

static void on_done(void *arg, int rc)
{
    if (arg)
        *(int *)arg = rc;
}

static store_t *open_at(const char *name, bool fresh, size_t budget)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/flush_test.%d/%s", (int)getpid(), name);
    if (fresh) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
        if (system(cmd) != 0)
            abort();
        sim_init(&sim, 7);
        sim.immediate = true;
    }
    store_opts_t o = {.dir = dir, .shard_id = 1, .io = &sim.io, .segment_bytes = 4096,
                      .memtable_budget_bytes = budget, .flush_slice_bytes = 2000,
                      .manifest_bytes = 600,
                      /* one file per flush: compaction is compact_test's subject */
                      .compact_fanin = UINT32_MAX};
    store_t *st = NULL;
    int rc = store_open(&o, &st);
    if (rc) {
        fprintf(stderr, "store_open(%s) = %d\n", dir, rc);
        abort();
    }
    return st;
}

/* Runs turns until nothing is queued and no flush is in progress. */
static void settle(store_t *st)
{
    for (int i = 0; i < 100000 && (!store_idle(st) || store_flushing(st)); i++)
        store_sync(st);
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

/* Commits one write (put when val, else delete) of key i; returns its commit ts. */
static uint64_t commit_kv(store_t *st, uint32_t table, int i, const char *val)
{
    char key[32];
    snprintf(key, sizeof key, "key%05d", i);
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    int rc = store_write(st, t, val ? STORE_W_PUT : STORE_W_DELETE, table, K(key),
                         (const uint8_t *)(val ? val : ""), val ? (uint32_t)strlen(val) : 0, &b);
    if (rc != STORE_OK)
        abort();
    int res = 1;
    uint64_t ts = ++next_ts;
    store_txn_commit(st, t, ts, on_done, &res);
    store_sync(st);
    if (res != STORE_OK)
        abort();
    return ts;
}

static int get_val(store_t *st, store_txn_t *t, uint64_t snap, uint32_t table, int i, char *out)
{
    char key[32];
    snprintf(key, sizeof key, "key%05d", i);
    store_val_t v;
    int rc = store_get(st, t, snap, table, K(key), &v);
    out[0] = 0;
    if (rc == STORE_OK) {
        if ((uintptr_t)v.ptr & 7)
            return -100;    /* store.h promises 8-aligned values */
        memcpy(out, v.ptr, v.len);
        out[v.len] = 0;
    }
    return rc;
}

/* model[i]: current value of key i ("" = absent); round r writes "r<r>-<i>-<pad>". */
static char model[FT_KEYS][64];
static char model_old[FT_KEYS][64];
static uint64_t snap_old;

static void fill(store_t *st, int rounds)
{
    memset(model, 0, sizeof model);
    for (int r = 0; r < rounds; r++) {
        for (int i = r % 3; i < FT_KEYS; i += 1 + r % 2) {
            if ((i + r) % 11 == 0) {
                commit_kv(st, 1, i, NULL);
                model[i][0] = 0;
            } else {
                snprintf(model[i], sizeof model[i], "r%d-%d-%0*d", r, i, (i * 7 + r) % 30, 0);
                commit_kv(st, 1, i, model[i]);
            }
        }
        if (r == rounds / 2) {
            memcpy(model_old, model, sizeof model);
            snap_old = next_ts;
        }
    }
    settle(st);
}

static int check_model(store_t *st, uint64_t snap, char (*m)[64])
{
    int bad = 0;
    char got[128];
    for (int i = 0; i < FT_KEYS; i++) {
        int rc = get_val(st, NULL, snap, 1, i, got);
        if (m[i][0] ? (rc != STORE_OK || strcmp(got, m[i]) != 0) : rc != STORE_NOTFOUND) {
            if (bad++ < 5)
                fprintf(stderr, "  key %d: rc %d got '%s' want '%s'\n", i, rc, got, m[i]);
        }
    }
    /* the scan agrees */
    store_iter_t *it = store_iter_open(st, NULL, snap, 1, NULL, 0, NULL, 0);
    store_val_t k, v;
    int i = 0;
    while (store_iter_next(it, &k, &v) == 1) {
        while (i < FT_KEYS && !m[i][0])
            i++;
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        if (i == FT_KEYS || k.len != strlen(key) || memcmp(k.ptr, key, k.len) != 0 ||
            v.len != strlen(m[i]) || memcmp(v.ptr, m[i], v.len) != 0 || ((uintptr_t)v.ptr & 7))
            bad++;
        i++;
    }
    while (i < FT_KEYS && !m[i][0])
        i++;
    if (i != FT_KEYS || store_iter_error(it))
        bad++;
    store_iter_close(it);
    return bad;
}

static int count_files(const char *sub, const char *suffix)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, suffix) != NULL;
    if (d)
        closedir(d);
    return n;
}

TEST(flush_and_merged_reads)
{
    log_set_level(LOG_WARN);
    store_t *st = open_at("merged", true, 8192);
    fill(st, 8);
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.flushes >= 3 && s.sst_files == s.flushes);
    TEST_CHECK(s.memtable_bytes < 8192 + 4096);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(check_model(st, snap_old, model_old) == 0);
    /* a range inside the table */
    store_iter_t *it = store_iter_open(st, NULL, UINT64_MAX, 1, K("key00100"), K("key00110"));
    store_val_t k, v;
    int n = 0, want = 0;
    while (store_iter_next(it, &k, &v) == 1)
        n++;
    for (int i = 100; i < 110; i++)
        want += model[i][0] != 0;
    TEST_CHECK(n == want);
    store_iter_close(it);
    store_close(st);
}

TEST(own_intents_insert_and_lock_latest_over_sorted_tables)
{
    store_t *st = open_at("intents", true, 4096);
    fill(st, 4);
    int live = -1, dead = -1;
    for (int i = 0; i < FT_KEYS && (live < 0 || dead < 0); i++) {
        if (model[i][0] && live < 0)
            live = i;
        if (!model[i][0] && dead < 0 && i > 0)
            dead = i;
    }
    TEST_REQUIRE(live >= 0 && dead >= 0);
    char key[32], got[128];
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    snprintf(key, sizeof key, "key%05d", live);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K(key), K("x"), &b) == STORE_EXISTS);
    store_val_t v;
    uint64_t cts = 0;
    TEST_CHECK(store_lock_latest(st, t, 1, K(key), &v, &cts, &b) == STORE_OK);
    TEST_CHECK(v.len == strlen(model[live]) && memcmp(v.ptr, model[live], v.len) == 0);
    TEST_CHECK(cts > 0 && ((uintptr_t)v.ptr & 7) == 0);
    /* own intent wins over the flushed row; others still see the flushed row */
    TEST_CHECK(store_write(st, t, STORE_W_PUT, 1, K(key), K("mine"), &b) == STORE_OK);
    TEST_CHECK(get_val(st, t, UINT64_MAX, 1, live, got) == STORE_OK && strcmp(got, "mine") == 0);
    TEST_CHECK(get_val(st, NULL, UINT64_MAX, 1, live, got) == STORE_OK &&
               strcmp(got, model[live]) == 0);
    snprintf(key, sizeof key, "key%05d", dead);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K(key), K("new"), &b) == STORE_OK);
    int res = 1;
    store_txn_commit(st, t, ++next_ts, on_done, &res);
    settle(st);
    TEST_CHECK(res == STORE_OK);
    TEST_CHECK(get_val(st, NULL, UINT64_MAX, 1, dead, got) == STORE_OK && strcmp(got, "new") == 0);
    store_close(st);
}

TEST(iterator_lives_across_a_flush)
{
    store_t *st = open_at("iter", true, SIZE_MAX);
    fill(st, 3);    /* all in the memtable */
    uint64_t snap = next_ts;
    int n = 0, want = 0;
    for (int i = 0; i < FT_KEYS; i++)
        want += model[i][0] != 0;
    store_close(st);
    /* reopen with a small budget: an iterator open while more writes start and finish a
     * flush (which moves its rows out of the memtable) still sees its snapshot */
    st = open_at("iter", false, 2048);
    store_iter_t *it = store_iter_open(st, NULL, snap, 1, NULL, 0, NULL, 0);
    store_val_t k, v;
    for (; n < want / 2 && store_iter_next(it, &k, &v) == 1; n++)
        ;
    for (int i = 0; i < 50; i++)
        commit_kv(st, 1, i * 3, "later");
    settle(st);
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.flushes >= 1);
    while (store_iter_next(it, &k, &v) == 1) {
        if (v.len == 5 && memcmp(v.ptr, "later", 5) == 0)
            n = -100000;    /* a row newer than the snapshot */
        n++;
    }
    TEST_CHECK(n == want);
    TEST_CHECK(store_iter_error(it) == 0);
    store_iter_close(it);
    store_close(st);
}

TEST(table_clear_and_gc_over_sorted_tables)
{
    store_t *st = open_at("clear", true, 4096);
    fill(st, 3);
    commit_kv(st, 2, 1, "other-table");
    settle(st);
    /* gc must keep a tombstone that shadows a flushed row */
    int live = 0;
    while (!model[live][0])
        live++;
    commit_kv(st, 1, live, NULL);
    model[live][0] = 0;
    store_gc(st, UINT64_MAX, 100000);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    /* clear table 1: flushed rows vanish too, table 2 stays */
    int res = 1;
    store_table_clear(st, 1, ++next_ts, on_done, &res);
    settle(st);
    TEST_CHECK(res == STORE_OK);
    char empty[FT_KEYS][64];
    memset(empty, 0, sizeof empty);
    TEST_CHECK(check_model(st, UINT64_MAX, empty) == 0);
    char got[128];
    TEST_CHECK(get_val(st, NULL, UINT64_MAX, 2, 1, got) == STORE_OK);
    /* new rows after the clear, flushed again, and a restart */
    for (int i = 0; i < 60; i++)
        commit_kv(st, 1, i, "after");
    settle(st);
    store_close(st);
    st = open_at("clear", false, 4096);
    for (int i = 0; i < FT_KEYS; i++)
        snprintf(empty[i], sizeof empty[i], "%s", i < 60 ? "after" : "");
    TEST_CHECK(check_model(st, UINT64_MAX, empty) == 0);
    TEST_CHECK(get_val(st, NULL, UINT64_MAX, 2, 1, got) == STORE_OK &&
               strcmp(got, "other-table") == 0);
    store_close(st);
}

TEST(recovery_from_manifest_and_wal_trim)
{
    store_t *st = open_at("recover", true, 4096);
    fill(st, 10);
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.wal_segments_trimmed > 0 && s.manifest_switches > 0);
    int segs = count_files("wal", ".wal"), ssts = count_files("sst", ".sst");
    TEST_CHECK(ssts == (int)s.sst_files);
    uint64_t max_ts = store_max_commit_ts(st);
    store_close(st);
    /* a few writes only in the WAL after the last flush survive too */
    st = open_at("recover", false, SIZE_MAX);
    TEST_CHECK(store_max_commit_ts(st) == max_ts);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(check_model(st, snap_old, model_old) == 0);
    commit_kv(st, 1, 3, "wal-only");
    snprintf(model[3], sizeof model[3], "wal-only");
    store_close(st);
    st = open_at("recover", false, SIZE_MAX);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(count_files("wal", ".wal") <= segs + 1);
    TEST_CHECK(count_files("", "MANIFEST-") == 1);
    store_close(st);
}

TEST(flipped_byte_in_sorted_table_is_corruption)
{
    log_set_level(LOG_ERROR + 1);
    store_t *st = open_at("corrupt", true, 4096);
    fill(st, 2);
    store_close(st);
    /* flip a byte in the middle of the first sorted table's first block */
    char p[400];
    snprintf(p, sizeof p, "%s/sst/%016x.sst", dir, 1);
    int fd = open(p, O_RDWR);
    TEST_REQUIRE(fd >= 0);
    uint8_t c;
    TEST_REQUIRE(pread(fd, &c, 1, 100) == 1);
    c ^= 0x01;
    TEST_REQUIRE(pwrite(fd, &c, 1, 100) == 1);
    close(fd);
    st = open_at("corrupt", false, SIZE_MAX);
    int corrupt = 0, wrong = 0;
    char got[128];
    for (int i = 0; i < FT_KEYS; i++) {
        int rc = get_val(st, NULL, UINT64_MAX, 1, i, got);
        if (rc == STORE_ECORRUPT)
            corrupt++;
        else if (model[i][0] ? (rc != STORE_OK || strcmp(got, model[i])) : rc != STORE_NOTFOUND)
            wrong++;
    }
    TEST_CHECK(corrupt > 0 && wrong == 0);
    store_iter_t *it = store_iter_open(st, NULL, UINT64_MAX, 1, NULL, 0, NULL, 0);
    store_val_t k, v;
    while (store_iter_next(it, &k, &v) == 1)
        ;
    TEST_CHECK(store_iter_error(it) == STORE_ECORRUPT);
    store_iter_close(it);
    store_close(st);
    log_set_level(LOG_WARN);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/flush_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
