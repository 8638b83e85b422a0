/*
 * recovery_test.c -- store_open on damaged or half-switched shard directories: a lost
 * CURRENT with sorted tables present is refused (nothing deleted) unless the WAL was
 * never trimmed and covers every table; a fresh directory opens; a crash during the
 * first manifest switch recovers every row from the WAL; a corrupt record in the
 * middle of the manifest is refused (nothing deleted), while a torn last record is cut
 * and the shard opens.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define RT_KEYS 300
#define RT_SEGMENT_SMALL 4096              /* rolls often: flushes trim the WAL */
#define RT_SEGMENT_LARGE (64 * 1024 * 1024) /* one segment: the WAL is never trimmed */
#define RT_MANIFEST_LARGE (1024 * 1024)     /* every edit appends to MANIFEST-1 */

static sim_t sim;
static char dir[256];
static uint64_t next_txn = 1, next_ts = 10;
static char model[RT_KEYS][64];

static void on_done(void *arg, int rc)
{
    if (arg)
        *(int *)arg = rc;
}

static void fresh_dir(const char *name)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/recovery_test.%d/%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    sim_init(&sim, 11);
    sim.immediate = true;
}

/* Opens dir; returns store_open's rc (*out NULL on error). */
static int try_open(store_t **out, size_t budget, size_t segment_bytes)
{
    store_opts_t o = {.dir = dir, .shard_id = 1, .io = &sim.io, .segment_bytes = segment_bytes,
                      .memtable_budget_bytes = budget, .flush_slice_bytes = 2000,
                      .manifest_bytes = RT_MANIFEST_LARGE, .compact_fanin = UINT32_MAX};
    *out = NULL;
    return store_open(&o, out);
}

static void settle(store_t *st)
{
    for (int i = 0; i < 100000 && (!store_idle(st) || store_flushing(st)); i++)
        store_sync(st);
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

static void commit_kv(store_t *st, int i, const char *val)
{
    char key[32];
    snprintf(key, sizeof key, "key%05d", i);
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    if (store_write(st, t, STORE_W_PUT, 1, K(key), K(val), &b) != STORE_OK)
        abort();
    int res = 1;
    store_txn_commit(st, t, ++next_ts, on_done, &res);
    store_sync(st);
    if (res != STORE_OK)
        abort();
}

/* Writes rounds x RT_KEYS rows (padded so a 4 KiB budget flushes several times). */
static void fill(store_t *st, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < RT_KEYS; i++) {
            snprintf(model[i], sizeof model[i], "r%d-%d-%0*d", r, i, 20 + i % 20, 0);
            commit_kv(st, i, model[i]);
        }
    }
    settle(st);
}

static int check_model(store_t *st)
{
    int bad = 0;
    for (int i = 0; i < RT_KEYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        store_val_t v;
        int rc = store_get(st, NULL, UINT64_MAX, 1, K(key), &v);
        if (rc != STORE_OK || v.len != strlen(model[i]) || memcmp(v.ptr, model[i], v.len) != 0)
            bad++;
    }
    return bad;
}

static int count_files(const char *sub, const char *part)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

static long file_size(const char *name)
{
    char p[400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static int move_file(const char *from, const char *to)
{
    char a[400], b[400];
    snprintf(a, sizeof a, "%s/%s", dir, from);
    snprintf(b, sizeof b, "%s/%s", dir, to);
    return rename(a, b);
}

typedef struct rt_files { int ssts, manifests, wals; } rt_files_t;

static rt_files_t files_now(void)
{
    return (rt_files_t){count_files("sst", ".sst"), count_files("", "MANIFEST-"),
                        count_files("wal", ".wal")};
}

static bool files_same(rt_files_t a, rt_files_t b)
{
    return a.ssts == b.ssts && a.manifests == b.manifests && a.wals == b.wals;
}

/* Builds a shard with several flushes; returns how many. */
static uint64_t build(const char *name, size_t segment_bytes)
{
    fresh_dir(name);
    store_t *st;
    if (try_open(&st, 4096, segment_bytes) != 0)
        abort();
    fill(st, 3);
    store_stats_t s;
    store_get_stats(st, &s);
    store_close(st);
    return s.flushes;
}

TEST(missing_current_with_trimmed_wal_is_refused)
{
    log_set_level(LOG_ERROR + 1);
    uint64_t flushes = build("lost", RT_SEGMENT_SMALL);
    TEST_REQUIRE(flushes >= 3);
    TEST_REQUIRE(move_file("CURRENT", "CURRENT.saved") == 0);
    rt_files_t before = files_now();
    TEST_CHECK(before.ssts > 0 && before.manifests == 1);
    store_t *st;
    TEST_CHECK(try_open(&st, SIZE_MAX, RT_SEGMENT_SMALL) == STORE_ECORRUPT && st == NULL);
    TEST_CHECK(files_same(files_now(), before));
    /* a lost CURRENT.tmp beside it changes nothing */
    TEST_REQUIRE(move_file("CURRENT.saved", "CURRENT.tmp") == 0);
    TEST_CHECK(try_open(&st, SIZE_MAX, RT_SEGMENT_SMALL) == STORE_ECORRUPT && st == NULL);
    TEST_CHECK(files_same(files_now(), before) && file_size("CURRENT.tmp") > 0);
    /* with only the tables (the manifest gone too) it is still refused */
    TEST_REQUIRE(move_file("CURRENT.tmp", "CURRENT.saved") == 0);
    char man[64];
    snprintf(man, sizeof man, "MANIFEST-%016x", 1);
    TEST_REQUIRE(move_file(man, "saved.man") == 0);
    TEST_CHECK(try_open(&st, SIZE_MAX, RT_SEGMENT_SMALL) == STORE_ECORRUPT && st == NULL);
    TEST_CHECK(count_files("sst", ".sst") == before.ssts);
    /* restoring CURRENT (and the manifest) brings every row back */
    TEST_REQUIRE(move_file("saved.man", man) == 0);
    TEST_REQUIRE(move_file("CURRENT.saved", "CURRENT") == 0);
    TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_SMALL) == 0);
    TEST_CHECK(check_model(st) == 0);
    store_close(st);
    log_set_level(LOG_WARN);
}

TEST(missing_current_with_empty_wal_is_refused)
{
    log_set_level(LOG_ERROR + 1);
    build("nowal", RT_SEGMENT_SMALL);
    TEST_REQUIRE(move_file("CURRENT", "CURRENT.saved") == 0);
    TEST_REQUIRE(move_file("wal", "wal.saved") == 0);
    rt_files_t before = files_now();
    store_t *st;
    TEST_CHECK(try_open(&st, SIZE_MAX, RT_SEGMENT_SMALL) == STORE_ECORRUPT && st == NULL);
    TEST_CHECK(before.ssts > 0 && files_same(files_now(), before));
    log_set_level(LOG_WARN);
}

/* CURRENT lost, and the WAL (never trimmed) lost its newest records: the tables hold
 * rows the WAL does not, so they are kept and the open refused. */
TEST(missing_current_with_short_wal_is_refused)
{
    log_set_level(LOG_ERROR + 1);
    build("shortwal", RT_SEGMENT_LARGE);
    TEST_REQUIRE(count_files("wal", ".wal") == 1);
    TEST_REQUIRE(move_file("CURRENT", "CURRENT.saved") == 0);
    char seg[400];
    snprintf(seg, sizeof seg, "%s/wal/%016x.wal", dir, 1);
    struct stat sb;
    TEST_REQUIRE(stat(seg, &sb) == 0);
    TEST_REQUIRE(truncate(seg, sb.st_size / 2) == 0);
    rt_files_t before = files_now();
    store_t *st;
    TEST_CHECK(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == STORE_ECORRUPT && st == NULL);
    TEST_CHECK(before.ssts > 0 && files_same(files_now(), before));
    /* with CURRENT back it opens on its tables (only the unflushed WAL tail is gone) */
    TEST_REQUIRE(move_file("CURRENT.saved", "CURRENT") == 0);
    TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
    store_stats_t s;
    store_get_stats(st, &s);
    TEST_CHECK(s.sst_files == (uint64_t)before.ssts && store_max_commit_ts(st) > 0);
    TEST_CHECK(check_model(st) < RT_KEYS);
    store_close(st);
    log_set_level(LOG_WARN);
}

TEST(fresh_directory_opens)
{
    fresh_dir("fresh");
    store_t *st;
    TEST_REQUIRE(try_open(&st, 4096, RT_SEGMENT_SMALL) == 0);
    store_close(st);
    /* reopened with its empty sst/ and wal/ (and a stray CURRENT.tmp) it is still fresh */
    char p[400];
    snprintf(p, sizeof p, "%s/CURRENT.tmp", dir);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    TEST_REQUIRE(fd >= 0);
    close(fd);
    TEST_REQUIRE(try_open(&st, 4096, RT_SEGMENT_SMALL) == 0);
    TEST_CHECK(file_size("CURRENT.tmp") < 0);
    fill(st, 1);
    TEST_CHECK(check_model(st) == 0);
    store_close(st);
}

/* Writes rows until the first flush is installed; returns the rows written. */
static int build_one_flush(const char *name)
{
    fresh_dir(name);
    store_t *st;
    if (try_open(&st, 4096, RT_SEGMENT_LARGE) != 0)
        abort();
    store_stats_t s = {0};
    int i = 0;
    for (; i < RT_KEYS && s.flushes == 0; i++) {
        snprintf(model[i], sizeof model[i], "one-%d-%0*d", i, 20 + i % 20, 0);
        commit_kv(st, i, model[i]);
        store_get_stats(st, &s);
    }
    settle(st);
    store_get_stats(st, &s);
    store_close(st);
    return s.flushes == 1 ? i : -1;
}

/* The disk after a crash in the first switch: MANIFEST-1 and the table are durable,
 * CURRENT.tmp written (or not yet), the rename never happened. Also the same state
 * with many flushes behind it (CURRENT lost, the WAL never trimmed). */
TEST(crash_in_first_manifest_switch_recovers_from_the_wal)
{
    log_set_level(LOG_ERROR + 1);
    for (int with_tmp = 0; with_tmp < 2; with_tmp++) {
        int rows = build_one_flush(with_tmp ? "one_tmp" : "one");
        TEST_REQUIRE(rows > 0);
        TEST_REQUIRE(count_files("sst", ".sst") == 1 && count_files("wal", ".wal") == 1);
        TEST_REQUIRE(move_file("CURRENT", with_tmp ? "CURRENT.tmp" : "CURRENT.gone") == 0);
        store_t *st;
        TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
        int bad = 0;
        for (int i = 0; i < rows; i++) {
            char key[32];
            snprintf(key, sizeof key, "key%05d", i);
            store_val_t v;
            bad += store_get(st, NULL, UINT64_MAX, 1, K(key), &v) != STORE_OK ||
                   v.len != strlen(model[i]) || memcmp(v.ptr, model[i], v.len) != 0;
        }
        TEST_CHECK(bad == 0);
        TEST_CHECK(count_files("sst", ".sst") == 0 && count_files("", "MANIFEST-") == 0);
        TEST_CHECK(file_size("CURRENT.tmp") < 0);
        store_close(st);
    }
    for (int with_tmp = 0; with_tmp < 2; with_tmp++) {
        uint64_t flushes = build(with_tmp ? "first_tmp" : "first", RT_SEGMENT_LARGE);
        TEST_REQUIRE(flushes >= 1);
        TEST_REQUIRE(count_files("wal", ".wal") == 1);
        if (with_tmp)
            TEST_REQUIRE(move_file("CURRENT", "CURRENT.tmp") == 0);
        else
            TEST_REQUIRE(move_file("CURRENT", "CURRENT.gone") == 0);
        store_t *st;
        TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
        TEST_CHECK(check_model(st) == 0);
        /* the leftovers were removed only after the WAL replayed */
        TEST_CHECK(count_files("sst", ".sst") == 0 && count_files("", "MANIFEST-") == 0);
        TEST_CHECK(file_size("CURRENT.tmp") < 0);
        store_close(st);
        /* flushing again installs a new manifest and the rows stay */
        TEST_REQUIRE(try_open(&st, 4096, RT_SEGMENT_LARGE) == 0);
        fill(st, 1);
        store_close(st);
        TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
        TEST_CHECK(check_model(st) == 0);
        TEST_CHECK(file_size("CURRENT") == 26 && count_files("sst", ".sst") > 0);
        store_close(st);
    }
    log_set_level(LOG_WARN);
}

/* Flips one byte at off of MANIFEST-1. */
static int flip_manifest_byte(long off)
{
    char p[400];
    snprintf(p, sizeof p, "%s/MANIFEST-%016x", dir, 1);
    int fd = open(p, O_RDWR);
    uint8_t c;
    int rc = -1;
    if (fd >= 0 && pread(fd, &c, 1, off) == 1) {
        c ^= 0x40;
        rc = pwrite(fd, &c, 1, off) == 1 ? 0 : -1;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

TEST(flipped_byte_in_middle_manifest_record_is_corruption)
{
    log_set_level(LOG_ERROR + 1);
    for (int segment_small = 0; segment_small < 2; segment_small++) {
        size_t seg = segment_small ? RT_SEGMENT_SMALL : RT_SEGMENT_LARGE;
        uint64_t flushes = build(segment_small ? "midman_trim" : "midman", seg);
        TEST_REQUIRE(flushes >= 3);
        char man[64];
        snprintf(man, sizeof man, "MANIFEST-%016x", 1);
        long size = file_size(man);
        TEST_REQUIRE(size > 32 + 3 * 48);
        /* the first record (the snapshot made by the first flush: 8 + 32 + 8 bytes)
         * ends at 32 + 48; flip a byte of the second one's flushed_lsn, with at least
         * one valid edit after it */
        TEST_REQUIRE(flip_manifest_byte(32 + 8 + 48 + 4) == 0);
        rt_files_t before = files_now();
        store_t *st;
        TEST_CHECK(try_open(&st, SIZE_MAX, seg) == STORE_ECORRUPT && st == NULL);
        TEST_CHECK(files_same(files_now(), before) && file_size(man) == size);
        /* undone, the shard opens with every row */
        TEST_REQUIRE(flip_manifest_byte(32 + 8 + 48 + 4) == 0);
        TEST_REQUIRE(try_open(&st, SIZE_MAX, seg) == 0);
        TEST_CHECK(check_model(st) == 0);
        store_close(st);
    }
    log_set_level(LOG_WARN);
}

TEST(torn_last_manifest_record_is_cut)
{
    log_set_level(LOG_ERROR + 1);
    uint64_t flushes = build("torn", RT_SEGMENT_LARGE);
    TEST_REQUIRE(flushes >= 2);
    char man[64], p[400];
    snprintf(man, sizeof man, "MANIFEST-%016x", 1);
    long size = file_size(man);
    /* a torn append: a record header promising 48 bytes, then only part of them */
    snprintf(p, sizeof p, "%s/%s", dir, man);
    int fd = open(p, O_WRONLY | O_APPEND);
    TEST_REQUIRE(fd >= 0);
    uint8_t torn[8 + 20] = {48, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 9, 9, 9};
    TEST_REQUIRE(write(fd, torn, sizeof torn) == (ssize_t)sizeof torn);
    close(fd);
    store_t *st;
    TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
    TEST_CHECK(file_size(man) == size);
    TEST_CHECK(check_model(st) == 0);
    store_close(st);
    /* the last real edit cut in half: its table becomes an orphan, the WAL has its rows */
    TEST_REQUIRE(truncate(p, size - 5) == 0);
    int ssts = count_files("sst", ".sst");
    TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
    TEST_CHECK(file_size(man) < size - 5 && count_files("sst", ".sst") == ssts - 1);
    TEST_CHECK(check_model(st) == 0);
    store_close(st);
    TEST_REQUIRE(try_open(&st, SIZE_MAX, RT_SEGMENT_LARGE) == 0);
    TEST_CHECK(check_model(st) == 0);
    store_close(st);
    log_set_level(LOG_WARN);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/recovery_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
