/*
 * spill_test.c -- transactions larger than memory (shards/README.md, "Large
 * transactions"): a transaction's intents spill to runs once they pass spill_bytes;
 * its own reads (store_get, iterators, INSERT's check) see runs and memtable merged,
 * other writers find its spilled rows locked, other readers see nothing; commit
 * stamps the runs into the set by a manifest edit (survives reopen), abort and a
 * crash before commit leave nothing; a prepared transaction's runs survive a crash and
 * commit at the resolution.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

static sim_t sim;
static char dir[256];

static store_t *open_store(void)
{
    store_opts_t o = {.dir = dir, .shard_id = 1, .io = &sim.io, .spill_bytes = 16 * 1024,
                      .memtable_budget_bytes = 64 * 1024};
    store_t *st = NULL;
    return store_open(&o, &st) ? NULL : st;
}

static store_t *setup(const char *name)
{
    char cmd[600];
    sim_init(&sim, 11);
    sim.immediate = true;
    snprintf(dir, sizeof dir, "/tmp/spill_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    return open_store();
}

static void settle(store_t *st)
{
    for (int i = 0; i < 200; i++) {
        store_sync(st);
        sim_run(&sim);
    }
}

static void key_of(char *k, int i) { snprintf(k, 16, "k%06d", i); }

static void val_of(char *v, int i, int gen) { snprintf(v, 64, "value-%06d-gen%d-padding-padding", i, gen); }

static int put(store_t *st, store_txn_t *t, int mode, int i, int gen, uint64_t *blocker)
{
    char k[16], v[64];
    key_of(k, i);
    val_of(v, i, gen);
    return store_write(st, t, mode, 1, (const uint8_t *)k, (uint32_t)strlen(k), (const uint8_t *)v,
                       (uint32_t)strlen(v), blocker);
}

/* 1 when key i reads as generation gen for (t, snap); 0 when absent; -1 otherwise. */
static int read_gen(store_t *st, store_txn_t *t, uint64_t snap, int i, int gen)
{
    char k[16], v[64];
    key_of(k, i);
    val_of(v, i, gen);
    store_val_t got;
    int rc = store_get(st, t, snap, 1, (const uint8_t *)k, (uint32_t)strlen(k), &got);
    if (rc == STORE_NOTFOUND)
        return 0;
    return rc == STORE_OK && got.len == strlen(v) && memcmp(got.ptr, v, got.len) == 0 ? 1 : -1;
}

/* Rows an iterator over table 1 returns for (t, snap), checking key order. */
static long count_rows(store_t *st, store_txn_t *t, uint64_t snap)
{
    store_iter_t *it = store_iter_open(st, t, snap, 1, NULL, 0, NULL, 0);
    if (!it)
        return -1;
    store_val_t k, v;
    long n = 0;
    char last[64] = "";
    while (store_iter_next(it, &k, &v) == 1) {
        char cur[64];
        snprintf(cur, sizeof cur, "%.*s", (int)k.len, (const char *)k.ptr);
        if (n && strcmp(cur, last) <= 0)
            n = -1000000;
        snprintf(last, sizeof last, "%s", cur);
        n++;
    }
    if (store_iter_error(it))
        n = -1;
    store_iter_close(it);
    return n;
}

static int files_in(const char *sub)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

typedef struct done_rec { int calls, rc; } done_rec_t;
static void on_done(void *arg, int rc)
{
    done_rec_t *d = arg;
    d->calls++;
    d->rc = rc;
}

static store_stats_t stats(const store_t *st)
{
    store_stats_t s;
    store_get_stats(st, &s);
    return s;
}

#define N 3000

TEST(commit_own_reads_conflicts_reopen)
{
    store_t *st = setup("commit");
    TEST_REQUIRE(st);
    /* a committed row the big transaction will overwrite */
    store_txn_t *t0 = store_txn_begin(st, 5);
    TEST_CHECK(put(st, t0, STORE_W_PUT, 0, 0, NULL) == STORE_OK);
    done_rec_t d0 = {0, 99};
    store_txn_commit(st, t0, 50, on_done, &d0);
    settle(st);
    TEST_CHECK(d0.calls == 1 && d0.rc == STORE_OK);

    store_txn_t *t = store_txn_begin(st, 10);
    for (int i = 0; i < N; i++)
        TEST_CHECK(put(st, t, i == 0 ? STORE_W_PUT : STORE_W_INSERT, i, 1, NULL) == STORE_OK);
    TEST_CHECK(stats(st).spill_runs >= 4);
    store_sync(st);    /* frees the spilled intents */
    TEST_CHECK(stats(st).memtable_bytes < 64 * 1024);    /* most of it is on disk */
    TEST_CHECK(files_in("spill") == (int)stats(st).spill_runs);
    /* own reads: spilled and in-memory parts */
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += read_gen(st, t, 100, i, 1) != 1;
    TEST_CHECK(bad == 0);
    TEST_CHECK(count_rows(st, t, 100) == N);
    /* overwrite and delete spilled rows; a unique violation against one */
    TEST_CHECK(put(st, t, STORE_W_PUT, 1, 2, NULL) == STORE_OK);
    char k[16];
    key_of(k, 2);
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 1, (const uint8_t *)k, (uint32_t)strlen(k), NULL,
                           0, NULL) == STORE_OK);
    TEST_CHECK(put(st, t, STORE_W_INSERT, 3, 9, NULL) == STORE_EXISTS);
    TEST_CHECK(put(st, t, STORE_W_INSERT, 2, 3, NULL) == STORE_OK);    /* deleted by t: free */
    TEST_CHECK(read_gen(st, t, 100, 1, 2) == 1 && read_gen(st, t, 100, 2, 3) == 1);
    TEST_CHECK(count_rows(st, t, 100) == N);
    /* others: nothing visible, spilled rows are locked */
    store_txn_t *u = store_txn_begin(st, 20);
    uint64_t blocker = 0;
    TEST_CHECK(read_gen(st, u, 100, 5, 1) == 0 && read_gen(st, u, 100, 0, 0) == 1);
    TEST_CHECK(count_rows(st, u, 100) == 1);
    TEST_CHECK(put(st, u, STORE_W_PUT, 5, 7, &blocker) == STORE_LOCKED && blocker == 10);
    TEST_CHECK(put(st, u, STORE_W_INSERT, N + 5, 7, NULL) == STORE_OK);
    done_rec_t du = {0, 99};
    store_txn_commit(st, u, 60, on_done, &du);
    settle(st);
    TEST_CHECK(du.calls == 1 && du.rc == STORE_OK);
    /* commit: visible at 200, not below */
    done_rec_t d = {0, 99};
    TEST_CHECK(store_txn_commit(st, t, 200, on_done, &d) == 0);
    settle(st);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK);
    TEST_CHECK(files_in("spill") == 0);
    TEST_CHECK(count_rows(st, NULL, 199) == 2 && count_rows(st, NULL, 200) == N + 1);
    TEST_CHECK(read_gen(st, NULL, 199, 0, 0) == 1 && read_gen(st, NULL, 200, 0, 1) == 1);
    TEST_CHECK(read_gen(st, NULL, 300, 1, 2) == 1 && read_gen(st, NULL, 300, 2, 3) == 1);
    /* the rows are free again */
    store_txn_t *w = store_txn_begin(st, 30);
    TEST_CHECK(put(st, w, STORE_W_PUT, 5, 8, NULL) == STORE_OK);
    store_txn_abort(st, w);
    store_close(st);
    st = open_store();
    TEST_REQUIRE(st);
    TEST_CHECK(count_rows(st, NULL, 199) == 2 && count_rows(st, NULL, 200) == N + 1);
    bad = 0;
    for (int i = 3; i < N; i++)
        bad += read_gen(st, NULL, 300, i, 1) != 1;
    TEST_CHECK(bad == 0);
    TEST_CHECK(read_gen(st, NULL, 300, 1, 2) == 1 && read_gen(st, NULL, 199, 1, 1) == 0);
    TEST_CHECK(store_max_commit_ts(st) >= 200);
    store_compact_full(st);
    settle(st);
    TEST_CHECK(count_rows(st, NULL, 199) == 2 && count_rows(st, NULL, 200) == N + 1);
    store_close(st);
}

/* INSERT ... SELECT from another table: an iterator stays open while the loop never
 * turns (no store_sync), and memory stays bounded all the same. */
TEST(memory_bounded_under_an_open_iterator)
{
    store_t *st = setup("iter");
    TEST_REQUIRE(st);
    store_txn_t *t0 = store_txn_begin(st, 5);
    TEST_CHECK(store_write(st, t0, STORE_W_PUT, 2, (const uint8_t *)"a", 1, (const uint8_t *)"x",
                           1, NULL) == STORE_OK);
    TEST_CHECK(store_write(st, t0, STORE_W_PUT, 2, (const uint8_t *)"b", 1, (const uint8_t *)"y",
                           1, NULL) == STORE_OK);
    done_rec_t d0 = {0, 99};
    store_txn_commit(st, t0, 50, on_done, &d0);
    settle(st);
    store_txn_t *t = store_txn_begin(st, 10);
    store_iter_t *it = store_iter_open(st, t, 100, 2, NULL, 0, NULL, 0);
    TEST_REQUIRE(it);
    store_val_t k, v;
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.len == 1 && k.ptr[0] == 'a');
    size_t peak = 0;
    for (int i = 0; i < 4 * N; i++) {
        TEST_CHECK(put(st, t, STORE_W_INSERT, i, 1, NULL) == STORE_OK);
        if (stats(st).memtable_bytes > peak)
            peak = stats(st).memtable_bytes;
    }
    TEST_CHECK(stats(st).spill_runs >= 16);
    TEST_CHECK(peak < 160 * 1024);    /* about 3 x spill_bytes of intents and nodes */
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.len == 1 && k.ptr[0] == 'b');
    TEST_CHECK(store_iter_next(it, &k, &v) == 0);
    store_iter_close(it);
    TEST_CHECK(count_rows(st, t, 100) == 4 * N);
    store_txn_abort(st, t);
    store_close(st);
}

TEST(abort_and_crash_leave_nothing)
{
    store_t *st = setup("abort");
    TEST_REQUIRE(st);
    store_txn_t *t = store_txn_begin(st, 10);
    for (int i = 0; i < N; i++)
        TEST_CHECK(put(st, t, STORE_W_INSERT, i, 1, NULL) == STORE_OK);
    TEST_CHECK(stats(st).spill_runs >= 4 && files_in("spill") > 0);
    store_txn_abort(st, t);
    settle(st);
    TEST_CHECK(files_in("spill") == 0 && count_rows(st, NULL, 1000) == 0);
    store_txn_t *u = store_txn_begin(st, 20);
    TEST_CHECK(put(st, u, STORE_W_INSERT, 7, 2, NULL) == STORE_OK);    /* not locked */
    store_txn_abort(st, u);
    /* a crash with a spilled transaction open */
    t = store_txn_begin(st, 30);
    for (int i = 0; i < N; i++)
        TEST_CHECK(put(st, t, STORE_W_INSERT, i, 1, NULL) == STORE_OK);
    store_close(st);
    st = open_store();
    TEST_REQUIRE(st);
    TEST_CHECK(files_in("spill") == 0 && count_rows(st, NULL, 1000) == 0);
    TEST_CHECK(files_in("sst") == 0);
    store_close(st);
}

TEST(prepared_runs_survive_a_crash)
{
    store_t *st = setup("prepared");
    TEST_REQUIRE(st);
    store_txn_t *t = store_txn_begin(st, 10);
    for (int i = 0; i < N; i++)
        TEST_CHECK(put(st, t, STORE_W_INSERT, i, 1, NULL) == STORE_OK);
    done_rec_t d = {0, 99};
    store_txn_prepare(st, t, 0, 300, on_done, &d);
    settle(st);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK && store_txn_prepared(t));
    TEST_CHECK(files_in("spill") == 0 && count_rows(st, NULL, 1000) == 0);
    store_close(st);    /* crash between prepare and commit */
    st = open_store();
    TEST_REQUIRE(st);
    uint64_t ids[4];
    uint32_t coords[4];
    TEST_CHECK(store_indoubt(st, ids, coords, 4) == 1 && ids[0] == 10);
    TEST_CHECK(count_rows(st, NULL, 1000) == 0);
    uint64_t blocker = 0;
    store_txn_t *u = store_txn_begin(st, 20);
    TEST_CHECK(put(st, u, STORE_W_PUT, 9, 2, &blocker) == STORE_LOCKED && blocker == 10);
    store_txn_abort(st, u);
    t = store_txn_find(st, 10);
    TEST_REQUIRE(t);
    d = (done_rec_t){0, 99};
    store_txn_commit_prepared(st, t, 300, on_done, &d);
    settle(st);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK);
    TEST_CHECK(count_rows(st, NULL, 299) == 0 && count_rows(st, NULL, 300) == N);
    store_close(st);
    st = open_store();
    TEST_REQUIRE(st);
    TEST_CHECK(store_indoubt(st, ids, coords, 4) == 0);
    TEST_CHECK(count_rows(st, NULL, 300) == N);
    store_close(st);
}

TEST(decided_commit_is_visible_at_once)
{
    store_t *st = setup("decided");
    TEST_REQUIRE(st);
    store_txn_t *t = store_txn_begin(st, 10);
    for (int i = 0; i < N; i++)
        TEST_CHECK(put(st, t, STORE_W_INSERT, i, 1, NULL) == STORE_OK);
    static const uint32_t parts[1] = {2};
    done_rec_t d = {0, 99};
    store_txn_stage(st, t, 1, parts, 1, 400, on_done, &d);
    settle(st);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK && store_txn_prepared(t));
    d = (done_rec_t){0, 99};
    store_txn_commit_decided(st, t, 410, on_done, &d);
    TEST_CHECK(count_rows(st, NULL, 410) == N && count_rows(st, NULL, 409) == 0);
    settle(st);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK);
    store_decision_release(st, 10);
    store_close(st);
    st = open_store();
    TEST_REQUIRE(st);
    TEST_CHECK(count_rows(st, NULL, 410) == N && count_rows(st, NULL, 409) == 0);
    store_close(st);
}

TEST_MAIN()
