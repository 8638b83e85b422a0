/*
 * store_test.c -- the shard store against its contract (shards/store.h): MVCC reads,
 * intents and locks, group commit and durability through a simulated disk, iterators,
 * table_clear, gc, recovery, torn tails, corruption, and I/O errors. Also CRC32C.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

static sim_t sim;
static char dir[256];
static uint64_t ended[64];
static int ended_count;

static void hook(void *arg, uint64_t txn_id)
{
    (void)arg;
    if (ended_count < 64)
        ended[ended_count++] = txn_id;
}

static void fresh_dir(const char *name)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/store_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
}

static store_t *open_store(size_t segment_bytes, int *rc_out)
{
    store_opts_t o = {.dir = dir, .shard_id = 3, .io = &sim.io, .segment_bytes = segment_bytes,
                      .txn_end_hook = hook};
    store_t *st = NULL;
    int rc = store_open(&o, &st);
    if (rc_out)
        *rc_out = rc;
    return rc ? NULL : st;
}

static store_t *setup(const char *name, bool immediate)
{
    sim_init(&sim, 42);
    sim.immediate = immediate;
    ended_count = 0;
    fresh_dir(name);
    return open_store(0, NULL);
}

typedef struct done_rec { int calls, rc; } done_rec_t;
static void on_done(void *arg, int rc)
{
    done_rec_t *d = arg;
    d->calls++;
    d->rc = rc;
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

static int put(store_t *st, store_txn_t *t, uint32_t table, const char *k, const char *v)
{
    uint64_t b = 0;
    return store_write(st, t, STORE_W_PUT, table, K(k), (const uint8_t *)v, (uint32_t)strlen(v), &b);
}

/* One transaction writing k=v, committed at ts and made durable. */
static void commit_one(store_t *st, uint64_t txn, uint64_t ts, uint32_t table, const char *k,
                       const char *v)
{
    store_txn_t *t = store_txn_begin(st, txn);
    TEST_CHECK(put(st, t, table, k, v) == STORE_OK);
    done_rec_t d = {0, 99};
    TEST_CHECK(store_txn_commit(st, t, ts, on_done, &d) == 0);
    store_sync(st);
    sim_run(&sim);
    TEST_CHECK(d.calls == 1 && d.rc == STORE_OK);
}

static bool val_is(store_t *st, store_txn_t *t, uint64_t snap, uint32_t table, const char *k,
                   const char *want)
{
    store_val_t v;
    int rc = store_get(st, t, snap, table, K(k), &v);
    if (!want)
        return rc == STORE_NOTFOUND;
    return rc == STORE_OK && v.len == strlen(want) && memcmp(v.ptr, want, v.len) == 0;
}

TEST(crc32c_vectors)
{
    TEST_CHECK(crc32c(0, "123456789", 9) == 0xE3069283u);
    TEST_CHECK(crc32c_sw(0, "123456789", 9) == 0xE3069283u);
    TEST_CHECK(crc32c(0, "", 0) == 0);
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    for (size_t n = 0; n <= 1000; n += 37) {
        uint32_t a = crc32c(0, buf, n), b = crc32c_sw(0, buf, n);
        TEST_CHECK(a == b);
        /* Extending in two pieces equals one pass. */
        TEST_CHECK(crc32c(crc32c(0, buf, n / 3), buf + n / 3, n - n / 3) == a);
    }
    /* 32 zero bytes, from RFC 3720 B.4. */
    memset(buf, 0, 32);
    TEST_CHECK(crc32c(0, buf, 32) == 0x8A9136AAu);
    memset(buf, 0xff, 32);
    TEST_CHECK(crc32c(0, buf, 32) == 0x62A8AB43u);
}

TEST(snapshot_visibility)
{
    store_t *st = setup("vis", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 7, "a", "v1");
    commit_one(st, 2, 200, 7, "a", "v2");
    TEST_CHECK(val_is(st, NULL, 50, 7, "a", NULL));
    TEST_CHECK(val_is(st, NULL, 100, 7, "a", "v1"));
    TEST_CHECK(val_is(st, NULL, 199, 7, "a", "v1"));
    TEST_CHECK(val_is(st, NULL, 200, 7, "a", "v2"));
    TEST_CHECK(val_is(st, NULL, 1000, 8, "a", NULL));    /* other table */
    /* delete = tombstone */
    store_txn_t *t = store_txn_begin(st, 3);
    uint64_t b;
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 7, K("a"), NULL, 0, &b) == STORE_OK);
    done_rec_t d = {0};
    store_txn_commit(st, t, 300, on_done, &d);
    store_sync(st);
    TEST_CHECK(d.calls == 1 && d.rc == 0);
    TEST_CHECK(val_is(st, NULL, 250, 7, "a", "v2"));
    TEST_CHECK(val_is(st, NULL, 300, 7, "a", NULL));
    TEST_CHECK(store_max_commit_ts(st) == 300);
    /* commit timestamps that arrive out of order still read right */
    commit_one(st, 4, 500, 7, "b", "late");
    commit_one(st, 5, 400, 7, "b", "early");
    TEST_CHECK(val_is(st, NULL, 450, 7, "b", "early"));
    TEST_CHECK(val_is(st, NULL, 600, 7, "b", "late"));
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.commits == 5 && s.keys == 2 && s.wal_syncs == 5 && s.memtable_bytes > 0);
    store_close(st);
}

TEST(own_writes_and_intents)
{
    store_t *st = setup("own", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 1, "k", "old");
    ended_count = 0;
    store_stats_t s0, s1;
    store_get_stats(st, &s0);
    store_txn_t *t = store_txn_begin(st, 10);
    TEST_CHECK(!store_txn_has_writes(t));
    TEST_CHECK(put(st, t, 1, "k", "mine") == STORE_OK);
    TEST_CHECK(put(st, t, 1, "k", "mine2") == STORE_OK);    /* rewrite own intent */
    TEST_CHECK(store_txn_has_writes(t));
    TEST_CHECK(store_txn_find(st, 10) == t);
    TEST_CHECK(val_is(st, t, 100, 1, "k", "mine2"));
    TEST_CHECK(val_is(st, NULL, 100, 1, "k", "old"));     /* others see committed */
    store_txn_t *u = store_txn_begin(st, 11);
    TEST_CHECK(val_is(st, u, 1000, 1, "k", "old"));
    uint64_t blocker = 0;
    TEST_CHECK(store_write(st, u, STORE_W_PUT, 1, K("k"), K("x"), &blocker) == STORE_LOCKED);
    TEST_CHECK(blocker == 10);
    blocker = 0;
    store_val_t v;
    uint64_t cts;
    TEST_CHECK(store_lock_latest(st, u, 1, K("k"), &v, &cts, &blocker) == STORE_LOCKED);
    TEST_CHECK(blocker == 10);
    /* abort releases the lock and the intent, and tells the hook */
    store_txn_abort(st, t);
    TEST_CHECK(store_txn_find(st, 10) == NULL);
    TEST_CHECK(ended_count == 1 && ended[0] == 10);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k", "old"));
    store_get_stats(st, &s1);
    TEST_CHECK(s1.memtable_bytes == s0.memtable_bytes);    /* the intents' memory is back */
    TEST_CHECK(put(st, u, 1, "k", "u") == STORE_OK);
    done_rec_t d = {0};
    store_txn_commit(st, u, 200, on_done, &d);
    store_sync(st);
    TEST_CHECK(d.calls == 1 && val_is(st, NULL, 200, 1, "k", "u"));
    TEST_CHECK(ended_count == 2 && ended[1] == 11);
    store_close(st);
}

TEST(insert_exists)
{
    store_t *st = setup("ins", true);
    TEST_REQUIRE(st);
    uint64_t b;
    commit_one(st, 1, 100, 1, "k", "v");
    store_txn_t *t = store_txn_begin(st, 2);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("k"), K("w"), &b) == STORE_EXISTS);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("n"), K("w"), &b) == STORE_OK);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("n"), K("w"), &b) == STORE_EXISTS);
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 1, K("k"), NULL, 0, &b) == STORE_OK);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("k"), K("again"), &b) == STORE_OK);
    TEST_CHECK(val_is(st, t, 0, 1, "k", "again"));
    done_rec_t d = {0};
    store_txn_commit(st, t, 200, on_done, &d);
    store_sync(st);
    TEST_CHECK(d.rc == 0 && val_is(st, NULL, 200, 1, "k", "again") && val_is(st, NULL, 200, 1, "n", "w"));
    /* a committed delete makes the key insertable */
    t = store_txn_begin(st, 3);
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 1, K("n"), NULL, 0, &b) == STORE_OK);
    store_txn_commit(st, t, 300, on_done, &d);
    store_sync(st);
    t = store_txn_begin(st, 4);
    TEST_CHECK(store_write(st, t, STORE_W_INSERT, 1, K("n"), K("z"), &b) == STORE_OK);
    store_txn_abort(st, t);
    store_close(st);
}

TEST(lock_latest)
{
    store_t *st = setup("lock", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 1, "k", "v1");
    commit_one(st, 2, 300, 1, "k", "v3");
    store_txn_t *t = store_txn_begin(st, 5);
    store_val_t v;
    uint64_t cts = 0, b = 0;
    /* its snapshot (say 150) would see v1; the re-check sees the newest */
    TEST_CHECK(val_is(st, t, 150, 1, "k", "v1"));
    TEST_CHECK(store_lock_latest(st, t, 1, K("k"), &v, &cts, &b) == STORE_OK);
    TEST_CHECK(cts == 300 && v.len == 2 && memcmp(v.ptr, "v3", 2) == 0);
    TEST_CHECK(val_is(st, t, 150, 1, "k", "v1"));   /* a lock is not a write */
    TEST_CHECK(!store_txn_has_writes(t));
    TEST_CHECK(store_lock_latest(st, t, 1, K("k"), &v, &cts, &b) == STORE_OK);  /* again: fine */
    TEST_CHECK(store_lock_latest(st, t, 1, K("none"), &v, &cts, &b) == STORE_NOTFOUND);
    store_txn_t *u = store_txn_begin(st, 6);
    TEST_CHECK(store_write(st, u, STORE_W_PUT, 1, K("none"), K("x"), &b) == STORE_LOCKED && b == 5);
    TEST_CHECK(store_write(st, u, STORE_W_PUT, 1, K("k"), K("x"), &b) == STORE_LOCKED && b == 5);
    /* a lock-only transaction commits at once, logging nothing */
    store_stats_t s0, s1;
    store_get_stats(st, &s0);
    done_rec_t d = {0, 99};
    TEST_CHECK(store_txn_commit(st, t, 400, on_done, &d) == 0);
    TEST_CHECK(d.calls == 1 && d.rc == 0);
    TEST_CHECK(store_idle(st));
    store_get_stats(st, &s1);
    TEST_CHECK(s1.wal_bytes == s0.wal_bytes);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k", "v3"));
    TEST_CHECK(store_write(st, u, STORE_W_PUT, 1, K("k"), K("x"), &b) == STORE_OK);
    /* lock then write: the write is logged */
    TEST_CHECK(store_lock_latest(st, u, 1, K("k"), &v, &cts, &b) == STORE_OK);
    TEST_CHECK(v.len == 2 && memcmp(v.ptr, "v3", 2) == 0);
    TEST_CHECK(store_txn_commit(st, u, 500, on_done, &d) == 0);
    store_sync(st);
    TEST_CHECK(d.calls == 2 && val_is(st, NULL, 500, 1, "k", "x"));
    store_close(st);
}

TEST(durable_before_visible_and_group_commit)
{
    store_t *st = setup("dur", false);
    TEST_REQUIRE(st);
    done_rec_t d[5] = {{0}};
    store_txn_t *t;
    for (int i = 0; i < 3; i++) {
        t = store_txn_begin(st, 10 + (uint64_t)i);
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        TEST_CHECK(put(st, t, 1, k, "v") == STORE_OK);
        store_txn_commit(st, t, 100 + (uint64_t)i, on_done, &d[i]);
    }
    TEST_CHECK(!store_idle(st));
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k0", NULL));   /* queued: not visible */
    TEST_CHECK(store_sync(st) == 3);                     /* one write for all three */
    TEST_CHECK(sim.ops_count == 1);
    TEST_CHECK(store_sync(st) == 0);                     /* nothing more while in flight */
    /* a commit queued while the write is in flight goes into the next write */
    t = store_txn_begin(st, 20);
    TEST_CHECK(put(st, t, 1, "k0", "newer") == STORE_LOCKED);    /* k0 still locked */
    TEST_CHECK(put(st, t, 1, "z", "v") == STORE_OK);
    store_txn_commit(st, t, 150, on_done, &d[3]);
    TEST_CHECK(store_sync(st) == 0);
    TEST_CHECK(d[0].calls == 0 && val_is(st, NULL, 1000, 1, "k0", NULL));
    TEST_CHECK(ended_count == 0);
    /* the disk completes the first write: three commits visible, locks released */
    TEST_CHECK(sim_run(&sim) == 1);
    TEST_CHECK(d[0].calls == 1 && d[1].calls == 1 && d[2].calls == 1 && d[3].calls == 0);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k0", "v") && val_is(st, NULL, 1000, 1, "z", NULL));
    TEST_CHECK(ended_count == 3);
    TEST_CHECK(store_sync(st) == 1);
    TEST_CHECK(!store_idle(st));
    sim_run(&sim);
    TEST_CHECK(d[3].calls == 1 && val_is(st, NULL, 1000, 1, "z", "v"));
    TEST_CHECK(store_idle(st));
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.wal_syncs == 2 && s.commits == 4);
    store_close(st);
}

TEST(submission_queue_full_retries)
{
    store_t *st = setup("again", false);
    TEST_REQUIRE(st);
    done_rec_t d = {0};
    for (int i = 0; i < SIM_OPS_MAX; i++) {    /* fill the simulated submission queue */
        sim.ops[i] = (sim_op_t){.fd = -1};
    }
    sim.ops_count = SIM_OPS_MAX;
    store_txn_t *t = store_txn_begin(st, 1);
    TEST_CHECK(put(st, t, 1, "a", "1") == STORE_OK);
    store_txn_commit(st, t, 100, on_done, &d);
    TEST_CHECK(store_sync(st) == 0);          /* -EAGAIN: stays queued */
    TEST_CHECK(!store_idle(st) && !store_readonly(st) && d.calls == 0);
    sim.ops_count = 0;
    TEST_CHECK(store_sync(st) == 1);
    sim_run(&sim);
    TEST_CHECK(d.calls == 1 && d.rc == 0 && val_is(st, NULL, 100, 1, "a", "1"));
    store_close(st);
    st = open_store(0, NULL);    /* the segment header went out with the retried write */
    TEST_REQUIRE(st);
    TEST_CHECK(val_is(st, NULL, 100, 1, "a", "1"));
    store_close(st);
}

TEST(iterators)
{
    store_t *st = setup("iter", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 1, "b", "1");
    commit_one(st, 2, 100, 1, "d", "1");
    commit_one(st, 3, 100, 1, "f", "1");
    commit_one(st, 4, 100, 2, "a", "other table");
    commit_one(st, 5, 100, 0, "z", "other table");
    store_iter_t *it = store_iter_open(st, NULL, 150, 1, NULL, 0, NULL, 0);
    TEST_REQUIRE(it);
    store_val_t k, v;
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.len == 1 && k.ptr[0] == 'b');
    /* concurrent inserts (as if another fiber ran while this one was suspended) */
    commit_one(st, 6, 120, 1, "c", "new-visible");
    commit_one(st, 7, 200, 1, "e", "new-too-late");
    commit_one(st, 8, 120, 1, "a", "behind");
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.ptr[0] == 'c');
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.ptr[0] == 'd');
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.ptr[0] == 'f');
    TEST_CHECK(store_iter_next(it, &k, &v) == 0);
    TEST_CHECK(store_iter_next(it, &k, &v) == 0);
    store_iter_close(it);
    /* bounds [b, e) and own intents */
    store_txn_t *t = store_txn_begin(st, 9);
    TEST_CHECK(put(st, t, 1, "bb", "mine") == STORE_OK);
    uint64_t b;
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 1, K("c"), NULL, 0, &b) == STORE_OK);
    it = store_iter_open(st, t, 1000, 1, K("b"), K("e"));
    const char *want[] = {"b", "bb", "d"};
    for (int i = 0; i < 3; i++)
        TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.len == strlen(want[i]) &&
                   memcmp(k.ptr, want[i], k.len) == 0);
    TEST_CHECK(store_iter_next(it, &k, &v) == 0);
    store_iter_close(it);
    store_txn_abort(st, t);
    /* key order: shorter first on a common prefix; bytes compare unsigned */
    commit_one(st, 10, 100, 3, "\xff", "1");
    commit_one(st, 11, 100, 3, "ab", "1");
    commit_one(st, 12, 100, 3, "a", "1");
    it = store_iter_open(st, NULL, 1000, 3, NULL, 0, NULL, 0);
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.len == 1 && k.ptr[0] == 'a');
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.len == 2);
    TEST_CHECK(store_iter_next(it, &k, &v) == 1 && k.ptr[0] == 0xff);
    TEST_CHECK(store_iter_next(it, &k, &v) == 0);
    store_iter_close(it);
    store_close(st);
}

TEST(table_clear)
{
    store_t *st = setup("clear", true);
    TEST_REQUIRE(st);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%03d", i);
        commit_one(st, 100 + (uint64_t)i, 100, 1, key, "v");
    }
    commit_one(st, 1, 100, 2, "keep", "v");
    store_txn_t *t = store_txn_begin(st, 2);
    TEST_CHECK(put(st, t, 1, "k010", "intent") == STORE_OK);
    store_iter_t *it = store_iter_open(st, NULL, 1000, 1, NULL, 0, NULL, 0);
    store_val_t k, v;
    TEST_CHECK(store_iter_next(it, &k, &v) == 1);
    store_stats_t s0, s1, s2;
    store_get_stats(st, &s0);
    done_rec_t d = {0, 99};
    store_table_clear(st, 1, 500, on_done, &d);
    TEST_CHECK(d.calls == 0);
    store_sync(st);
    TEST_CHECK(d.calls == 1 && d.rc == 0);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k000", NULL));
    TEST_CHECK(val_is(st, NULL, 1000, 2, "keep", "v"));
    TEST_CHECK(store_max_commit_ts(st) == 500);
    /* The open iterator stands on an unlinked node: it walks on safely and, like
     * store_get, sees the table cleared (the intent on k010 is not its own). */
    TEST_CHECK(store_iter_next(it, &k, &v) == 0);
    store_iter_t *it2 = store_iter_open(st, t, 1000, 1, NULL, 0, NULL, 0);
    TEST_CHECK(store_iter_next(it2, &k, &v) == 1 && k.len == 4 && memcmp(k.ptr, "k010", 4) == 0);
    TEST_CHECK(store_iter_next(it2, &k, &v) == 0);
    store_iter_close(it2);
    store_get_stats(st, &s1);
    TEST_CHECK(s1.keys == 2);     /* "keep" and the node with the live intent */
    store_iter_close(it);
    store_get_stats(st, &s2);
    TEST_CHECK(s2.memtable_bytes < s1.memtable_bytes && s1.memtable_bytes <= s0.memtable_bytes);
    /* the surviving intent commits after the clear */
    store_txn_commit(st, t, 600, on_done, &d);
    store_sync(st);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k010", "intent"));
    store_close(st);
    /* replay reproduces it */
    st = open_store(0, NULL);
    TEST_REQUIRE(st);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k000", NULL));
    TEST_CHECK(val_is(st, NULL, 1000, 1, "k010", "intent"));
    TEST_CHECK(val_is(st, NULL, 1000, 2, "keep", "v"));
    store_close(st);
}

TEST(gc)
{
    store_t *st = setup("gc", true);
    TEST_REQUIRE(st);
    for (int i = 1; i <= 5; i++)
        commit_one(st, (uint64_t)i, 100 * (uint64_t)i, 1, "a", i == 5 ? "v5" : "old");
    store_txn_t *t = store_txn_begin(st, 10);
    uint64_t b;
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 1, K("b"), NULL, 0, &b) == STORE_OK);
    TEST_CHECK(put(st, t, 1, "c", "c") == STORE_OK);
    done_rec_t d = {0};
    store_txn_commit(st, t, 50, on_done, &d);
    store_sync(st);
    commit_one(st, 11, 60, 1, "b", "gone");   /* then deleted below */
    t = store_txn_begin(st, 12);
    TEST_CHECK(store_write(st, t, STORE_W_DELETE, 1, K("b"), NULL, 0, &b) == STORE_OK);
    store_txn_commit(st, t, 70, on_done, &d);
    store_sync(st);
    store_stats_t s0, s1;
    store_get_stats(st, &s0);
    /* horizon 300: versions at 100, 200 of "a" are shadowed by 300; "b" is a tombstone
     * with an older version: both go, and the key too. */
    size_t freed = 0;
    for (int i = 0; i < 10; i++)
        freed += store_gc(st, 300, 1);    /* one key per slice */
    TEST_CHECK(freed == 2 + 3);
    store_get_stats(st, &s1);
    TEST_CHECK(s1.keys == 2 && s1.memtable_bytes < s0.memtable_bytes);
    TEST_CHECK(val_is(st, NULL, 300, 1, "a", "old") && val_is(st, NULL, 500, 1, "a", "v5"));
    TEST_CHECK(val_is(st, NULL, 300, 1, "b", NULL) && val_is(st, NULL, 300, 1, "c", "c"));
    /* gc resumes where the last slice stopped and wraps at the end */
    freed = 0;
    for (int i = 0; i < 3; i++)
        freed += store_gc(st, 1000, 1);
    TEST_CHECK(freed == 2);   /* 300 and 400 shadowed by 500 */
    TEST_CHECK(val_is(st, NULL, 1000, 1, "a", "v5"));
    store_close(st);
}

TEST(recovery_and_segments)
{
    store_t *st = setup("rec", true);
    TEST_REQUIRE(st);
    store_close(st);
    st = open_store(512, NULL);    /* tiny segments: many rolls */
    TEST_REQUIRE(st);
    char key[16], val[64];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%03d", i % 40);
        snprintf(val, sizeof val, "value-%d-%0*d", i, i % 30, 0);
        commit_one(st, (uint64_t)i + 1, 1000 + (uint64_t)i, 1 + (uint32_t)(i % 3), key, val);
    }
    store_stats_t s0;
    store_get_stats(st, &s0);
    store_close(st);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls %s/wal | wc -l) -gt 10", dir);
    TEST_CHECK(system(cmd) == 0);
    st = open_store(512, NULL);
    TEST_REQUIRE(st);
    store_stats_t s1;
    store_get_stats(st, &s1);
    TEST_CHECK(s1.keys == s0.keys && s1.memtable_bytes == s0.memtable_bytes);
    TEST_CHECK(store_max_commit_ts(st) == 1099);
    for (int i = 60; i < 100; i++) {
        snprintf(key, sizeof key, "k%03d", i % 40);
        snprintf(val, sizeof val, "value-%d-%0*d", i, i % 30, 0);
        TEST_CHECK(val_is(st, NULL, 5000, 1 + (uint32_t)(i % 3), key, val));
    }
    commit_one(st, 500, 2000, 1, "after", "reopen");
    store_close(st);
    st = open_store(0, NULL);
    TEST_REQUIRE(st);
    TEST_CHECK(val_is(st, NULL, 5000, 1, "after", "reopen"));
    store_close(st);
}

static char *last_segment(void)
{
    static char path[512];
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/wal | sort | tail -1", dir);
    FILE *f = popen(cmd, "r");
    char name[64] = "";
    if (!f || !fgets(name, sizeof name, f))
        abort();
    pclose(f);
    name[strcspn(name, "\n")] = 0;
    snprintf(path, sizeof path, "%s/wal/%s", dir, name);
    return path;
}

static off_t file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? sb.st_size : -1;
}

TEST(torn_tail_is_cut)
{
    store_t *st = setup("torn", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 1, "a", "1");
    commit_one(st, 2, 200, 1, "b", "2");
    store_close(st);
    const char *seg = last_segment();
    off_t good = file_size(seg);
    /* a partial third record: 10 bytes of its header */
    int fd = open(seg, O_WRONLY | O_APPEND);
    TEST_REQUIRE(fd >= 0);
    TEST_CHECK(write(fd, "\x30\0\0\0\x11\x22\x33\x44\x01\0", 10) == 10);
    close(fd);
    st = open_store(0, NULL);
    TEST_REQUIRE(st);
    TEST_CHECK(file_size(seg) == good);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "a", "1") && val_is(st, NULL, 1000, 1, "b", "2"));
    commit_one(st, 3, 300, 1, "c", "3");
    store_close(st);
    /* zeros at the end (preallocated or never written blocks) */
    fd = open(seg, O_WRONLY | O_APPEND);
    char zeros[100] = {0};
    TEST_CHECK(write(fd, zeros, sizeof zeros) == (ssize_t)sizeof zeros);
    close(fd);
    st = open_store(0, NULL);
    TEST_REQUIRE(st);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "c", "3"));
    /* the whole last record torn: cut, and the data before it survives */
    off_t before = file_size(seg);
    commit_one(st, 4, 400, 1, "d", "4");
    store_close(st);
    TEST_CHECK(truncate(seg, file_size(seg) - 3) == 0);
    st = open_store(0, NULL);
    TEST_REQUIRE(st);
    TEST_CHECK(file_size(seg) == before);
    TEST_CHECK(val_is(st, NULL, 1000, 1, "d", NULL) && val_is(st, NULL, 1000, 1, "c", "3"));
    store_close(st);
}

TEST(mid_log_corruption_detected)
{
    store_t *st = setup("corrupt", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 1, "a", "first-record");
    off_t first_end = file_size(last_segment());
    commit_one(st, 2, 200, 1, "b", "second-record");
    commit_one(st, 3, 300, 1, "c", "third-record");
    store_close(st);
    const char *seg = last_segment();
    /* flip one payload byte of the second record */
    int fd = open(seg, O_RDWR);
    uint8_t byte;
    TEST_CHECK(pread(fd, &byte, 1, first_end + 30) == 1);
    byte ^= 0x40;
    TEST_CHECK(pwrite(fd, &byte, 1, first_end + 30) == 1);
    close(fd);
    off_t size = file_size(seg);
    int rc = 0;
    st = open_store(0, &rc);
    TEST_CHECK(st == NULL && rc == STORE_ECORRUPT);
    TEST_CHECK(file_size(seg) == size);    /* nothing cut */
    /* corruption in a segment that is not the last one is also fatal */
    st = setup("corrupt2", true);
    TEST_REQUIRE(st);
    store_close(st);
    st = open_store(200, NULL);
    for (int i = 0; i < 10; i++)
        commit_one(st, (uint64_t)i + 1, 100 + (uint64_t)i, 1, i % 2 ? "x" : "y", "some value bytes");
    store_close(st);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "f=$(ls %s/wal/*.wal | sort | head -1); truncate -s -5 $f", dir);
    TEST_CHECK(system(cmd) == 0);
    st = open_store(200, &rc);
    TEST_CHECK(st == NULL && rc == STORE_ECORRUPT);
}

TEST(write_error_makes_read_only)
{
    store_t *st = setup("eio", false);
    TEST_REQUIRE(st);
    done_rec_t d1 = {0}, d2 = {0}, d3 = {0};
    store_txn_t *t1 = store_txn_begin(st, 1);
    TEST_CHECK(put(st, t1, 1, "a", "1") == STORE_OK);
    store_txn_commit(st, t1, 100, on_done, &d1);
    store_sync(st);
    store_txn_t *t2 = store_txn_begin(st, 2);
    TEST_CHECK(put(st, t2, 1, "b", "2") == STORE_OK);
    store_txn_commit(st, t2, 200, on_done, &d2);    /* queued behind the failing write */
    sim.fail_write_in = 1;
    sim_run(&sim);
    TEST_CHECK(d1.calls == 1 && d1.rc == STORE_EREADONLY);
    TEST_CHECK(d2.calls == 1 && d2.rc == STORE_EREADONLY);
    TEST_CHECK(store_readonly(st) && store_idle(st));
    TEST_CHECK(val_is(st, NULL, 1000, 1, "a", NULL) && val_is(st, NULL, 1000, 1, "b", NULL));
    TEST_CHECK(ended_count == 2);
    store_txn_t *t3 = store_txn_begin(st, 3);
    TEST_CHECK(put(st, t3, 1, "a", "3") == STORE_EREADONLY);
    store_txn_abort(st, t3);
    t3 = store_txn_begin(st, 4);
    store_txn_commit(st, t3, 300, on_done, &d3);     /* no writes: fine */
    TEST_CHECK(d3.calls == 1 && d3.rc == 0);
    store_table_clear(st, 1, 400, on_done, &d3);
    TEST_CHECK(d3.calls == 2 && d3.rc == STORE_EREADONLY);
    store_close(st);
    /* an fsync failure: the bytes may be there, but the commit is not acknowledged */
    st = setup("efsync", true);
    TEST_REQUIRE(st);
    commit_one(st, 1, 100, 1, "a", "1");
    sim.fail_fsync_in = 1;
    t1 = store_txn_begin(st, 2);
    TEST_CHECK(put(st, t1, 1, "a", "2") == STORE_OK);
    d1.calls = 0;
    store_txn_commit(st, t1, 200, on_done, &d1);
    store_sync(st);
    TEST_CHECK(d1.calls == 1 && d1.rc == STORE_EREADONLY && store_readonly(st));
    TEST_CHECK(val_is(st, NULL, 1000, 1, "a", "1"));
    store_close(st);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/store_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
