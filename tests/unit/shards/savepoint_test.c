/*
 * savepoint_test.c -- store_txn_rollback_to against its contract (shards/store.h,
 * "savepoints"): writes and row locks placed at or above a level are undone, each key
 * gets back the transaction's earlier intent, rows locked before the savepoint stay
 * locked, released locks wake waiters (txn_end_hook), and what survives commits and
 * recovers from the WAL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

static sim_t sim;
static char dir[256];
static int hook_calls;

static void hook(void *arg, uint64_t txn_id)
{
    (void)arg;
    (void)txn_id;
    hook_calls++;
}

static store_t *open_store(void)
{
    store_opts_t o = {.dir = dir, .shard_id = 1, .io = &sim.io, .txn_end_hook = hook};
    store_t *st = NULL;
    return store_open(&o, &st) ? NULL : st;
}

static store_t *setup(const char *name)
{
    char cmd[600];
    sim_init(&sim, 7);
    sim.immediate = true;
    hook_calls = 0;
    snprintf(dir, sizeof dir, "/tmp/savepoint_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    return open_store();
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

static uint64_t last_blocker;

static int put(store_t *st, store_txn_t *t, const char *k, const char *v)
{
    last_blocker = 0;
    return store_write(st, t, STORE_W_PUT, 1, K(k), (const uint8_t *)v, (uint32_t)strlen(v), &last_blocker);
}

static int del(store_t *st, store_txn_t *t, const char *k)
{
    uint64_t b = 0;
    return store_write(st, t, STORE_W_DELETE, 1, K(k), NULL, 0, &b);
}

static bool val_is(store_t *st, store_txn_t *t, const char *k, const char *want)
{
    store_val_t v;
    int rc = store_get(st, t, 1000000, 1, K(k), &v);
    if (!want)
        return rc == STORE_NOTFOUND;
    return rc == STORE_OK && v.len == strlen(want) && memcmp(v.ptr, want, v.len) == 0;
}

typedef struct done_rec { int calls, rc; } done_rec_t;
static void on_done(void *arg, int rc)
{
    done_rec_t *d = arg;
    d->calls++;
    d->rc = rc;
}

static void commit(store_t *st, store_txn_t *t, uint64_t ts)
{
    done_rec_t d = {0, 99};
    TEST_CHECK(store_txn_commit(st, t, ts, on_done, &d) == 0);
    store_sync(st);
    sim_run(&sim);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK);
}

TEST(nested_levels)
{
    store_t *st = setup("nested");
    TEST_REQUIRE(st);
    store_txn_t *t = store_txn_begin(st, 10);
    TEST_CHECK(put(st, t, "a", "a0") == STORE_OK);        /* level 0: no undo kept */
    store_txn_set_level(t, 1);
    TEST_CHECK(put(st, t, "a", "a1") == STORE_OK);
    TEST_CHECK(put(st, t, "b", "b1") == STORE_OK);
    store_txn_set_level(t, 2);
    TEST_CHECK(put(st, t, "a", "a2") == STORE_OK);
    TEST_CHECK(del(st, t, "b") == STORE_OK);
    TEST_CHECK(put(st, t, "c", "c2") == STORE_OK);
    TEST_CHECK(val_is(st, t, "a", "a2") && val_is(st, t, "b", NULL) && val_is(st, t, "c", "c2"));
    /* back to level 2: the level-1 state */
    TEST_CHECK(store_txn_rollback_to(st, t, 2) == STORE_OK);
    TEST_CHECK(val_is(st, t, "a", "a1") && val_is(st, t, "b", "b1") && val_is(st, t, "c", NULL));
    TEST_CHECK(hook_calls == 1);                          /* c's lock went */
    /* the savepoint stays: more writes at level 2, undone again */
    TEST_CHECK(put(st, t, "c", "c3") == STORE_OK);
    TEST_CHECK(store_txn_rollback_to(st, t, 2) == STORE_OK);
    TEST_CHECK(val_is(st, t, "c", NULL));
    /* to level 1: only the level-0 write is left */
    TEST_CHECK(store_txn_rollback_to(st, t, 1) == STORE_OK);
    TEST_CHECK(val_is(st, t, "a", "a0") && val_is(st, t, "b", NULL));
    TEST_CHECK(store_txn_has_writes(t));
    /* nothing at or above 1 is left: a no-op */
    int calls = hook_calls;
    TEST_CHECK(store_txn_rollback_to(st, t, 1) == STORE_OK && hook_calls == calls);
    store_txn_set_level(t, 0);
    commit(st, t, 100);
    TEST_CHECK(val_is(st, NULL, "a", "a0") && val_is(st, NULL, "b", NULL) && val_is(st, NULL, "c", NULL));
    store_close(st);
    /* the WAL holds only what survived */
    st = open_store();
    TEST_REQUIRE(st);
    TEST_CHECK(val_is(st, NULL, "a", "a0") && val_is(st, NULL, "b", NULL) && val_is(st, NULL, "c", NULL));
    store_close(st);
}

TEST(locks_after_savepoint_are_released)
{
    store_t *st = setup("locks");
    TEST_REQUIRE(st);
    store_txn_t *w = store_txn_begin(st, 1);
    TEST_CHECK(put(st, w, "x", "0") == STORE_OK && put(st, w, "y", "0") == STORE_OK);
    commit(st, w, 50);
    hook_calls = 0;
    store_txn_t *t = store_txn_begin(st, 20), *o = store_txn_begin(st, 21);
    uint64_t b = 0;
    store_val_t v;
    TEST_CHECK(store_lock_latest(st, t, 1, K("x"), &v, NULL, &b) == STORE_OK);   /* before */
    store_txn_set_level(t, 1);
    TEST_CHECK(store_lock_latest(st, t, 1, K("y"), &v, NULL, &b) == STORE_OK);   /* after */
    TEST_CHECK(put(st, o, "y", "o") == STORE_LOCKED && last_blocker == 20);
    TEST_CHECK(store_txn_rollback_to(st, t, 1) == STORE_OK);
    TEST_CHECK(hook_calls == 1);
    TEST_CHECK(put(st, o, "y", "o") == STORE_OK);          /* y's lock went with the savepoint */
    TEST_CHECK(put(st, o, "x", "o") == STORE_LOCKED && last_blocker == 20);   /* x stays locked */
    TEST_CHECK(!store_txn_has_writes(t));
    store_txn_abort(st, t);
    TEST_CHECK(put(st, o, "x", "o") == STORE_OK);
    commit(st, o, 60);
    TEST_CHECK(val_is(st, NULL, "x", "o") && val_is(st, NULL, "y", "o"));
    store_close(st);
}

TEST(insert_rolled_back_then_again)
{
    store_t *st = setup("insert");
    TEST_REQUIRE(st);
    store_txn_t *t = store_txn_begin(st, 30);
    uint64_t b = 0;
    store_txn_set_level(t, 1);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("k"), (const uint8_t *)"1", 1, &b) == STORE_OK);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("k"), (const uint8_t *)"2", 1, &b) == STORE_EXISTS);
    TEST_CHECK(store_txn_rollback_to(st, t, 1) == STORE_OK);
    TEST_CHECK(val_is(st, t, "k", NULL));
    store_txn_set_level(t, 3);   /* a later savepoint (levels are never reused) */
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("k"), (const uint8_t *)"3", 1, &b) == STORE_OK);
    store_txn_set_level(t, 1);   /* savepoint 3 released: its writes now belong to 1 */
    TEST_CHECK(put(st, t, "m", "4") == STORE_OK);
    TEST_CHECK(store_txn_rollback_to(st, t, 1) == STORE_OK);
    TEST_CHECK(val_is(st, t, "k", NULL) && val_is(st, t, "m", NULL) && !store_txn_has_writes(t));
    TEST_CHECK(put(st, t, "k", "5") == STORE_OK);
    commit(st, t, 70);
    TEST_CHECK(val_is(st, NULL, "k", "5") && val_is(st, NULL, "m", NULL));
    store_close(st);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/savepoint_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
