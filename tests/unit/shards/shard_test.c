/*
 * shard_test.c -- shards/shard.c on the real runtime (one shard): commit waits through
 * io_uring (or epoll) group commit, a fiber blocked on a row lock woken by the other's
 * commit, a lock wait timing out, table clear, memtable flushes to sorted tables through
 * the real I/O backend (small budget), metrics, and the data readable again after the
 * runtime stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hlc.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "shards/shard_metrics.h"
#include "tests/unit/test.h"

static char dir[256];
static rt_t *rt;
static int fails;
static bool b_done;
static int b_wait_rc = -1, b_write_rc = -1, b_commit_rc = -1;
static uint64_t b_blocker;

#define CHECK(c) do { if (!(c)) { fails++; fprintf(stderr, "  failed: %s (line %d)\n", #c, __LINE__); } } while (0)
#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)
#define SHARD_TEST_ROWS 300

static void fiber_b(void *arg)
{
    store_t *st = shard_store();
    store_txn_t *t = store_txn_begin(st, 3);
    int rc = store_write(st, t, STORE_W_PUT, 1, K("k"), K("from-b"), &b_blocker);
    if (rc == STORE_LOCKED) {
        b_wait_rc = shard_wait_txn(b_blocker, 0);
        rc = store_write(st, t, STORE_W_PUT, 1, K("k"), K("from-b"), &b_blocker);
    }
    b_write_rc = rc;
    b_commit_rc = shard_commit_wait(t, hlc_now());
    b_done = true;
}

static void fiber_main(void *arg)
{
    store_t *st = shard_store();
    uint64_t b;
    store_val_t v;
    CHECK(st != NULL);
    /* a plain commit */
    store_txn_t *t = store_txn_begin(st, 1);
    CHECK(store_write(st, t, STORE_W_PUT, 1, K("k"), K("v1"), &b) == STORE_OK);
    uint64_t ts1 = hlc_now();
    CHECK(shard_commit_wait(t, ts1) == 0);
    CHECK(store_get(st, NULL, hlc_now(), 1, K("k"), &v) == STORE_OK && v.len == 2);
    /* B blocks on A's lock and resumes when A's commit is durable */
    t = store_txn_begin(st, 2);
    CHECK(store_write(st, t, STORE_W_PUT, 1, K("k"), K("from-a"), &b) == STORE_OK);
    CHECK(rt_spawn(fiber_b, NULL) == 0);
    rt_sleep_ms(20);
    CHECK(!b_done && b_blocker == 2);
    CHECK(shard_commit_wait(t, hlc_now()) == 0);
    for (int i = 0; i < 1000 && !b_done; i++)
        rt_sleep_ms(1);
    CHECK(b_done && b_wait_rc == 0 && b_write_rc == STORE_OK && b_commit_rc == 0);
    CHECK(store_get(st, NULL, hlc_now(), 1, K("k"), &v) == STORE_OK && v.len == 6 &&
          memcmp(v.ptr, "from-b", 6) == 0);
    /* a lock wait that times out */
    t = store_txn_begin(st, 4);
    CHECK(store_write(st, t, STORE_W_PUT, 1, K("x"), K("x"), &b) == STORE_OK);
    CHECK(shard_wait_txn(4, 10) == -ETIMEDOUT);
    store_txn_abort(st, t);
    CHECK(shard_wait_txn(4, 10) == 0);    /* ended */
    /* table clear */
    t = store_txn_begin(st, 5);
    CHECK(store_write(st, t, STORE_W_PUT, 2, K("gone"), K("x"), &b) == STORE_OK);
    CHECK(shard_commit_wait(t, hlc_now()) == 0);
    CHECK(shard_table_clear_wait(2, hlc_now()) == 0);
    CHECK(store_get(st, NULL, hlc_now(), 2, K("gone"), &v) == STORE_NOTFOUND);
    CHECK(store_max_commit_ts(st) >= ts1);
    /* enough rows to flush a few times under the 16 KiB budget */
    for (int i = 0; i < SHARD_TEST_ROWS; i++) {
        char key[32], val[64];
        snprintf(key, sizeof key, "row%04d", i);
        snprintf(val, sizeof val, "value-%d-padding-padding-padding", i);
        t = store_txn_begin(st, 100 + (uint64_t)i);
        CHECK(store_write(st, t, STORE_W_PUT, 3, K(key), K(val), &b) == STORE_OK);
        CHECK(shard_commit_wait(t, hlc_now()) == 0);
    }
    for (int i = 0; i < 2000 && store_flushing(st); i++)
        rt_sleep_ms(1);
    store_stats_t s;
    store_get_stats(st, &s);
    CHECK(s.flushes >= 2 && s.sst_files == s.flushes && !store_readonly(st));
    int found = 0;
    for (int i = 0; i < SHARD_TEST_ROWS; i++) {
        char key[32];
        snprintf(key, sizeof key, "row%04d", i);
        found += store_get(st, NULL, hlc_now(), 3, K(key), &v) == STORE_OK;
    }
    CHECK(found == SHARD_TEST_ROWS);
    rt_request_stop(rt);
}

static int on_init(int shard_id, void *arg)
{
    int rc = shard_open_local(dir);
    if (rc)
        return rc;
    return rt_spawn(fiber_main, NULL);
}

static void on_fini(int shard_id, void *arg) { shard_close_local(); }
static void on_turn_end(int shard_id, void *arg) { shard_turn_end(); }

static int sync_write(void *ctx, int fd, const void *buf, size_t len, uint64_t off, bool sync,
                      void (*done)(void *arg, int res), void *arg)
{
    int res = pwrite(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
    if (!res && sync && fdatasync(fd) != 0)
        res = -EIO;
    done(arg, res);
    return 0;
}

TEST(shard_glue_on_the_runtime)
{
    snprintf(dir, sizeof dir, "/tmp/shard_test.%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    TEST_REQUIRE(system(cmd) == 0);
    shard_register_metrics();
    metrics_init_shards(1);
    shard_set_memory_budget(128u << 20);    /* 1/2: a 64 MiB cache ... */
    shard_set_memtable_budget(16 * 1024);   /* ... and a tiny memtable instead of 16 MiB */
    /* SHARD_TEST_EPOLL=1 runs the same on the epoll fallback. */
    rt_config_t cfg = {.shards_count = 1, .shard_init = on_init, .shard_fini = on_fini,
                       .turn_end = on_turn_end,
                       .io_backend = getenv("SHARD_TEST_EPOLL") ? RT_IO_EPOLL : RT_IO_AUTO};
    TEST_REQUIRE(rt_start(&cfg, &rt) == 0);
    rt_join(rt);
    TEST_CHECK(fails == 0);
    strbuf_t sb;
    strbuf_init(&sb);
    metrics_render(&sb);
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_commits_total{shard=\"0\"} 304"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_memtable_flushes_total{shard=\"0\"}"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_wal_fsync_seconds_bucket"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_memtable_bytes"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_block_cache_capacity_bytes{shard=\"0\"} 67108864"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_compactions_total{shard=\"0\"}"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_compaction_backlog_bytes{shard=\"0\"}"));
    TEST_CHECK(sb.data && strstr(sb.data, "nextdb_block_cache_hits_total{shard=\"0\"}"));
    if (sb.data && !strstr(sb.data, "nextdb_commits_total{shard=\"0\"} 304"))
        fprintf(stderr, "%s\n", sb.data);
    strbuf_free(&sb);
    /* what the runtime wrote reads back */
    snprintf(cmd, sizeof cmd, "%s/shard-000", dir);
    store_io_t io = {.write = sync_write};
    store_opts_t o = {.dir = cmd, .shard_id = 0, .io = &io};
    store_t *st = NULL;
    TEST_REQUIRE(store_open(&o, &st) == 0);
    store_val_t v;
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("k"), &v) == STORE_OK && v.len == 6);
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 2, K("gone"), &v) == STORE_NOTFOUND);
    int found = 0;
    for (int i = 0; i < SHARD_TEST_ROWS; i++) {
        char key[32];
        snprintf(key, sizeof key, "row%04d", i);
        found += store_get(st, NULL, UINT64_MAX, 3, K(key), &v) == STORE_OK;
    }
    TEST_CHECK(found == SHARD_TEST_ROWS);
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.sst_files >= 2);
    store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
