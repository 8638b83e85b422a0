/*
 * store_active_test.c -- store_active_txns (shards/store_active.c): it lists exactly
 * the live transactions that hold intents (writes or row locks), honours its
 * capacity while still counting every one, and forgets a transaction once it ends.
 * ALTER TABLE's rewrite relies on this to wait for the writers already under way.
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

static store_t *setup(const char *name)
{
    sim_init(&sim, 7);
    sim.immediate = true;
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/store_active_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    store_opts_t o = {.dir = dir, .shard_id = 0, .io = &sim.io};
    store_t *st = NULL;
    return store_open(&o, &st) ? NULL : st;
}

static int put(store_t *st, store_txn_t *t, const char *k, const char *v)
{
    uint64_t blocker = 0;
    return store_write(st, t, STORE_W_PUT, 20000, (const uint8_t *)k, (uint32_t)strlen(k), (const uint8_t *)v,
                       (uint32_t)strlen(v), &blocker);
}

static bool listed(const uint64_t *ids, int n, uint64_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void on_done(void *arg, int rc)
{
    *(int *)arg = rc + 1;
}

TEST(lists_only_transactions_with_intents)
{
    store_t *st = setup("list");
    TEST_REQUIRE(st);
    uint64_t ids[8];
    TEST_CHECK(store_active_txns(st, ids, 8) == 0);
    store_txn_t *a = store_txn_begin(st, 101);
    store_txn_t *b = store_txn_begin(st, 102);
    store_txn_t *c = store_txn_begin(st, 103);     /* reads only: no intents */
    TEST_REQUIRE(a && b && c);
    TEST_CHECK(put(st, a, "k1", "v") == STORE_OK);
    store_val_t v;
    uint64_t cts, blocker = 0;
    TEST_CHECK(store_lock_latest(st, b, 20000, (const uint8_t *)"k2", 2, &v, &cts, &blocker) == STORE_NOTFOUND);
    int n = store_active_txns(st, ids, 8);
    TEST_CHECK(n == 2);
    TEST_CHECK(listed(ids, n, 101) && listed(ids, n, 102) && !listed(ids, n, 103));
    /* capacity: still counts every one */
    TEST_CHECK(store_active_txns(st, ids, 1) == 2);
    TEST_CHECK(ids[0] == 101 || ids[0] == 102);
    store_txn_abort(st, b);
    n = store_active_txns(st, ids, 8);
    TEST_CHECK(n == 1 && ids[0] == 101);
    int done = 0;
    TEST_CHECK(store_txn_commit(st, a, 500, on_done, &done) == STORE_OK);
    store_sync(st);
    TEST_CHECK(done == 1);
    TEST_CHECK(store_txn_find(st, 101) == NULL);
    TEST_CHECK(store_active_txns(st, ids, 8) == 0);
    store_txn_abort(st, c);
    store_close(st);
}

TEST_MAIN()
