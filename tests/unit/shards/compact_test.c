/*
 * compact_test.c -- compaction of the store's sorted tables: versions at or below the
 * horizon dropped (but the newest one kept), tombstones dropped when nothing older is
 * left and kept when a file outside the merge still holds an older version, snapshots
 * at and above the horizon still served, iterators open across a compaction (no row
 * lost or repeated; replaced files stay until the iterator lets go), table-clear masks
 * applied physically, recovery after compactions, corruption reported (in the output,
 * and in an input, which stops compaction without a wrong answer), the block cache
 * through the store (hits, invalidation when compaction deletes files), and metrics.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/log.h"
#include "shards/sst.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define CT_KEYS 300

static sim_t sim;
static char dir[256];
static uint64_t next_txn = 1, next_ts = 10;

static void on_done(void *arg, int rc)
{
    if (arg)
        *(int *)arg = rc;
}

static store_t *open_opts(const char *name, bool fresh, size_t budget, uint32_t fanin,
                          size_t cache_bytes)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/compact_test.%d/%s", (int)getpid(), name);
    if (fresh) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
        if (system(cmd) != 0)
            abort();
        sim_init(&sim, 11);
        sim.immediate = true;
    }
    store_opts_t o = {.dir = dir, .shard_id = 2, .io = &sim.io, .segment_bytes = 8192,
                      .memtable_budget_bytes = budget, .flush_slice_bytes = 3000,
                      .manifest_bytes = 700, .compact_fanin = fanin,
                      .compact_slice_bytes = 1500, .cache_bytes = cache_bytes};
    store_t *st = NULL;
    int rc = store_open(&o, &st);
    if (rc) {
        fprintf(stderr, "store_open(%s) = %d\n", dir, rc);
        abort();
    }
    return st;
}

static store_t *open_at(const char *name, bool fresh, size_t budget, uint32_t fanin)
{
    return open_opts(name, fresh, budget, fanin, 0);
}

/* True when a compaction is due (the next turn starts it). */
static bool backlog(store_t *st)
{
    store_stats_t s;
    store_get_stats(st, &s);
    return s.compact_backlog_files > 0;
}

/* Runs turns until nothing is queued and no flush or compaction is in progress (at
 * least one turn: that is where a due compaction starts). */
static void settle(store_t *st)
{
    int i = 0;
    do
        store_sync(st);
    while (++i < 200000 && (!store_idle(st) || store_flushing(st) || store_compacting(st) ||
                            backlog(st)));
}

#define K(s) (const uint8_t *)(s), (uint32_t)strlen(s)

static void commit_kv(store_t *st, uint32_t table, int i, const char *val)
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
    store_txn_commit(st, t, ++next_ts, on_done, &res);
    store_sync(st);
    if (res != STORE_OK)
        abort();
}

typedef char model_t[CT_KEYS][64];
static model_t model, model_mid, model_late;
static uint64_t snap_mid, snap_late;

/* rounds of updates to every key (some deleted); model_mid after round rounds/2,
 * model_late after round rounds-2. */
static void fill(store_t *st, int rounds)
{
    memset(model, 0, sizeof model);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < CT_KEYS; i++) {
            if ((i + r) % 7 == 0) {
                commit_kv(st, 1, i, NULL);
                model[i][0] = 0;
            } else {
                snprintf(model[i], sizeof model[i], "r%d-%d-%0*d", r, i, (i * 3 + r) % 20, 0);
                commit_kv(st, 1, i, model[i]);
            }
        }
        if (r == rounds / 2) {
            memcpy(model_mid, model, sizeof model);
            snap_mid = next_ts;
        }
        if (r == rounds - 2) {
            memcpy(model_late, model, sizeof model);
            snap_late = next_ts;
        }
    }
    settle(st);
}

/* Point lookups and a scan at snap must both give m. Returns mismatches. */
static int check_model(store_t *st, uint64_t snap, model_t m)
{
    int bad = 0;
    for (int i = 0; i < CT_KEYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        store_val_t v;
        int rc = store_get(st, NULL, snap, 1, K(key), &v);
        bool ok = m[i][0] ? rc == STORE_OK && v.len == strlen(m[i]) && !memcmp(v.ptr, m[i], v.len)
                          : rc == STORE_NOTFOUND;
        if (!ok && bad++ < 5)
            fprintf(stderr, "  key %d at %llu: rc %d, want '%s'\n", i, (unsigned long long)snap,
                    rc, m[i]);
    }
    store_iter_t *it = store_iter_open(st, NULL, snap, 1, NULL, 0, NULL, 0);
    store_val_t k, v;
    int i = 0;
    while (store_iter_next(it, &k, &v) == 1) {
        while (i < CT_KEYS && !m[i][0])
            i++;
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        if (i == CT_KEYS || k.len != strlen(key) || memcmp(k.ptr, key, k.len) != 0 ||
            v.len != strlen(m[i]) || memcmp(v.ptr, m[i], v.len) != 0)
            bad++;
        i++;
    }
    while (i < CT_KEYS && !m[i][0])
        i++;
    if (i != CT_KEYS || store_iter_error(it))
        bad++;
    store_iter_close(it);
    return bad;
}

static int live_keys(model_t m)
{
    int n = 0;
    for (int i = 0; i < CT_KEYS; i++)
        n += m[i][0] != 0;
    return n;
}

/* Sorted-table files in dir/sst and the versions they hold. */
static int sst_files_on_disk(uint64_t *versions)
{
    char p[600];
    snprintf(p, sizeof p, "%s/sst", dir);
    DIR *d = opendir(p);
    int n = 0;
    *versions = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".sst"))
            continue;
        char f[900];
        snprintf(f, sizeof f, "%s/%s", p, e->d_name);
        sst_t *s;
        if (sst_open(f, 0, &s) == 0) {
            *versions += sst_entries(s);
            sst_close(s);
        }
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

static store_stats_t stats(store_t *st)
{
    store_stats_t s;
    store_get_stats(st, &s);
    return s;
}

TEST(versions_dropped_at_the_horizon_snapshots_still_served)
{
    log_set_level(LOG_WARN);
    store_t *st = open_at("versions", true, 6000, UINT32_MAX);
    fill(st, 8);
    uint64_t v0, v1, v2;
    int files0 = sst_files_on_disk(&v0);
    TEST_CHECK(files0 >= 4 && (int)stats(st).sst_files == files0);
    /* horizon at the middle snapshot: it and everything newer must still read right */
    store_set_horizon(st, snap_mid);
    store_compact_full(st);
    settle(st);
    store_stats_t s = stats(st);
    TEST_CHECK(s.compactions >= 1 && s.sst_files == 1 && s.compact_versions_dropped > 0);
    TEST_CHECK(sst_files_on_disk(&v1) == 1);
    TEST_CHECK(v1 < v0 && v0 - v1 == s.compact_versions_dropped);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(check_model(st, snap_mid, model_mid) == 0);
    TEST_CHECK(check_model(st, snap_late, model_late) == 0);
    /* horizon at the newest commit: one version per live key is left, tombstones go */
    store_set_horizon(st, next_ts);
    store_compact_full(st);
    settle(st);
    TEST_CHECK(sst_files_on_disk(&v2) == 1);
    TEST_CHECK(v2 == (uint64_t)live_keys(model));
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    s = stats(st);
    TEST_CHECK(s.compact_bytes_read > 0 && s.compact_bytes_written > 0 &&
               s.compact_running == 0 && s.compact_backlog_files == 0);
    store_close(st);
}

/* Reopens name with a tiny budget so that the rows replayed from the WAL are flushed
 * at the first turn: one new sorted table. */
static void flush_now(const char *name)
{
    store_t *st = open_at(name, false, 1, UINT32_MAX);
    settle(st);
    store_close(st);
}

TEST(tombstone_kept_while_an_older_file_outside_holds_the_key)
{
    /* file 1: big, every key; files 2 and 3: small, deletes of keys 0..49 / table 2 */
    store_t *st = open_at("tomb", true, SIZE_MAX, UINT32_MAX);
    uint64_t x = 12345;
    for (int i = 0; i < CT_KEYS; i++) {
        char big[128];
        for (int j = 0; j < 100; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            big[j] = (char)('a' + (x >> 59));
        }
        big[100] = 0;
        commit_kv(st, 1, i, big);
    }
    store_close(st);
    flush_now("tomb");
    st = open_at("tomb", false, SIZE_MAX, UINT32_MAX);
    for (int i = 0; i < 50; i++)
        commit_kv(st, 1, i, NULL);
    store_close(st);
    flush_now("tomb");
    st = open_at("tomb", false, SIZE_MAX, UINT32_MAX);
    for (int i = 0; i < 50; i++)
        commit_kv(st, 2, i, "x");
    store_close(st);
    flush_now("tomb");
    uint64_t v;
    TEST_REQUIRE(sst_files_on_disk(&v) == 3);
    /* fan-in 2: the two small, similar files merge, the big one is outside */
    st = open_at("tomb", false, SIZE_MAX, 2);
    store_set_horizon(st, next_ts);
    settle(st);
    store_stats_t s = stats(st);
    TEST_CHECK(s.compactions == 1 && s.sst_files == 2);
    int bad = 0;
    for (int i = 0; i < CT_KEYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        store_val_t val;
        int rc = store_get(st, NULL, UINT64_MAX, 1, K(key), &val);
        bad += i < 50 ? rc != STORE_NOTFOUND : rc != STORE_OK;
    }
    TEST_CHECK(bad == 0);
    /* a full merge may now drop the tombstones together with what they shadow */
    store_compact_full(st);
    settle(st);
    TEST_CHECK(sst_files_on_disk(&v) == 1);
    TEST_CHECK(v == (uint64_t)(CT_KEYS - 50) + 50);    /* table 1's live keys, table 2 */
    store_val_t val;
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("key00010"), &val) == STORE_NOTFOUND);
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("key00060"), &val) == STORE_OK);
    store_close(st);
}

TEST(tombstone_kept_while_the_memtable_holds_an_older_version)
{
    /* commit ts order is not durability order: a delete at ts 2000 is flushed, then a
     * put of the same key at ts 1900 commits into the memtable. Readers see the
     * delete; dropping the tombstone would resurrect the put. */
    store_t *st = open_at("tomb_mt", true, SIZE_MAX, UINT32_MAX);
    store_txn_t *t = store_txn_begin(st, next_txn++);
    uint64_t b;
    int res = 1;
    TEST_REQUIRE(store_write(st, t, STORE_W_DELETE, 1, K("a"), NULL, 0, &b) == STORE_OK);
    store_txn_commit(st, t, 2000, on_done, &res);
    settle(st);
    store_close(st);
    flush_now("tomb_mt");
    st = open_at("tomb_mt", false, SIZE_MAX, UINT32_MAX);
    t = store_txn_begin(st, next_txn++);
    TEST_REQUIRE(store_write(st, t, STORE_W_PUT, 1, K("a"), K("old"), &b) == STORE_OK);
    store_txn_commit(st, t, 1900, on_done, &res);
    settle(st);
    if (next_ts < 2000)
        next_ts = 2000;
    store_val_t v;
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("a"), &v) == STORE_NOTFOUND);
    store_set_horizon(st, 2000);
    store_compact_full(st);
    settle(st);
    TEST_CHECK(stats(st).compactions == 1);
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("a"), &v) == STORE_NOTFOUND);
    store_close(st);
    /* once the put is in a file of the same merge, both go */
    flush_now("tomb_mt");
    st = open_at("tomb_mt", false, SIZE_MAX, UINT32_MAX);
    store_set_horizon(st, next_ts);
    store_compact_full(st);
    settle(st);
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 1, K("a"), &v) == STORE_NOTFOUND);
    uint64_t versions;
    TEST_CHECK(sst_files_on_disk(&versions) == 0);    /* nothing left: no output file */
    TEST_CHECK(stats(st).sst_files == 0);
    store_close(st);
}

TEST(iterator_open_across_a_compaction)
{
    store_t *st = open_at("iter", true, 5000, UINT32_MAX);
    fill(st, 6);
    uint64_t snap = next_ts, v;
    store_set_horizon(st, snap);
    int want = live_keys(model), n = 0, files = sst_files_on_disk(&v);
    TEST_REQUIRE(files >= 3);
    store_iter_t *it = store_iter_open(st, NULL, snap, 1, NULL, 0, NULL, 0);
    store_val_t k, val;
    char last[32] = "";
    int order = 0, wrong = 0;
    for (; n < want / 2 && store_iter_next(it, &k, &val) == 1; n++) {
        char key[32] = {0};
        memcpy(key, k.ptr, k.len);
        order += strcmp(key, last) <= 0;
        snprintf(last, sizeof last, "%s", key);
    }
    /* newer writes, a flush and a full compaction while the iterator is open */
    for (int i = 0; i < 40; i++)
        commit_kv(st, 1, i * 5, "later");
    for (int round = 0; round < 2; round++) {    /* again if a flush landed meanwhile */
        store_compact_full(st);
        settle(st);
    }
    store_stats_t s = stats(st);
    TEST_CHECK(s.compactions >= 1 && s.sst_files == 1);
    /* the replaced files are still on disk: the iterator holds them */
    TEST_CHECK(sst_files_on_disk(&v) > 1);
    while (store_iter_next(it, &k, &val) == 1) {
        char key[32] = {0};
        memcpy(key, k.ptr, k.len);
        order += strcmp(key, last) <= 0;
        snprintf(last, sizeof last, "%s", key);
        int i = atoi(key + 3);
        wrong += i < 0 || i >= CT_KEYS || val.len != strlen(model[i]) ||
                 memcmp(val.ptr, model[i], val.len) != 0;
        n++;
    }
    TEST_CHECK(n == want && order == 0 && wrong == 0);
    TEST_CHECK(store_iter_error(it) == 0);
    store_iter_close(it);
    TEST_CHECK(sst_files_on_disk(&v) == 1);    /* let go: replaced files removed */
    store_close(st);
}

TEST(table_clear_masks_are_applied_by_compaction)
{
    store_t *st = open_at("clear", true, 4000, UINT32_MAX);
    fill(st, 3);
    for (int i = 0; i < 20; i++)
        commit_kv(st, 2, i, "two");
    settle(st);
    int res = 1;
    store_table_clear(st, 1, ++next_ts, on_done, &res);
    settle(st);
    TEST_REQUIRE(res == STORE_OK);
    for (int i = 0; i < 30; i++)
        commit_kv(st, 1, i, "after");
    store_close(st);
    flush_now("clear");
    st = open_at("clear", false, SIZE_MAX, UINT32_MAX);
    store_compact_full(st);
    settle(st);
    /* the cleared table's versions are gone from disk; the rest all stay (horizon 0) */
    uint64_t v;
    TEST_CHECK(sst_files_on_disk(&v) == 1);
    TEST_CHECK(v == 30 + 20);
    model_t after;
    memset(after, 0, sizeof after);
    for (int i = 0; i < 30; i++)
        snprintf(after[i], sizeof after[i], "after");
    TEST_CHECK(check_model(st, UINT64_MAX, after) == 0);
    store_close(st);
    st = open_at("clear", false, SIZE_MAX, UINT32_MAX);
    TEST_CHECK(check_model(st, UINT64_MAX, after) == 0);
    store_val_t val;
    TEST_CHECK(store_get(st, NULL, UINT64_MAX, 2, K("key00007"), &val) == STORE_OK);
    store_close(st);
}

TEST(recovery_after_compactions)
{
    store_t *st = open_at("recover", true, 3000, 3);
    fill(st, 10);
    store_stats_t s = stats(st);
    TEST_CHECK(s.compactions >= 2 && s.sst_files < s.flushes);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(check_model(st, snap_mid, model_mid) == 0);    /* horizon 0: all kept */
    uint64_t files = s.sst_files, v;
    store_close(st);
    st = open_at("recover", false, SIZE_MAX, UINT32_MAX);
    TEST_CHECK(stats(st).sst_files == files);
    TEST_CHECK(sst_files_on_disk(&v) == (int)files);    /* no leftovers */
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(check_model(st, snap_mid, model_mid) == 0);
    TEST_CHECK(check_model(st, snap_late, model_late) == 0);
    store_close(st);
    /* a leftover input (crash between the edit and the unlink) is an orphan at open */
    char p[300], q[1200];
    snprintf(p, sizeof p, "%s/sst/%016x.sst", dir, 1);
    snprintf(q, sizeof q, "cp %s/sst/$(ls %s/sst | head -1) %s", dir, dir, p);
    if (access(p, F_OK) != 0)
        TEST_CHECK(system(q) == 0);
    st = open_at("recover", false, SIZE_MAX, UINT32_MAX);
    TEST_CHECK(access(p, F_OK) != 0);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    store_close(st);
}

/* Flips one byte at off of the sorted table numbered file_no. */
static void flip(uint64_t file_no, off_t off)
{
    char p[600];
    snprintf(p, sizeof p, "%s/sst/%016llx.sst", dir, (unsigned long long)file_no);
    int fd = open(p, O_RDWR);
    if (fd < 0)
        abort();
    uint8_t c;
    if (pread(fd, &c, 1, off) != 1)
        abort();
    c ^= 0x10;
    if (pwrite(fd, &c, 1, off) != 1)
        abort();
    close(fd);
}

/* Newest file number in dir/sst. */
static uint64_t newest_file(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/sst", dir);
    DIR *d = opendir(p);
    uint64_t best = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".sst") && strtoull(e->d_name, NULL, 16) > best)
            best = strtoull(e->d_name, NULL, 16);
    if (d)
        closedir(d);
    return best;
}

static void count_answers(store_t *st, int *corrupt, int *wrong)
{
    *corrupt = *wrong = 0;
    for (int i = 0; i < CT_KEYS; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        store_val_t v;
        int rc = store_get(st, NULL, UINT64_MAX, 1, K(key), &v);
        if (rc == STORE_ECORRUPT)
            (*corrupt)++;
        else if (model[i][0] ? rc != STORE_OK || v.len != strlen(model[i]) ||
                                   memcmp(v.ptr, model[i], v.len)
                             : rc != STORE_NOTFOUND)
            (*wrong)++;
    }
}

/* True when a lookup of some key at some snapshot reports STORE_ECORRUPT. Lookups
 * visit the files newest first and skip an older file that cannot hold a newer
 * version than the one found (shards/README.md, "Point lookups"), so at the newest
 * snapshot a damaged block of an old input whose keys were all rewritten later is
 * never read; at older snapshots it is the one that answers. */
static bool corrupt_at_some_snapshot(store_t *st)
{
    for (uint64_t snap = 1; snap <= next_ts; snap += next_ts / 64 + 1) {
        for (int i = 0; i < CT_KEYS; i++) {
            char key[32];
            snprintf(key, sizeof key, "key%05d", i);
            store_val_t v;
            if (store_get(st, NULL, snap, 1, K(key), &v) == STORE_ECORRUPT)
                return true;
        }
    }
    return false;
}

TEST(corruption_in_a_compacted_file_is_reported)
{
    log_set_level(LOG_ERROR + 1);
    store_t *st = open_at("corrupt_out", true, 4000, UINT32_MAX);
    fill(st, 3);
    store_compact_full(st);
    settle(st);
    store_close(st);
    flip(newest_file(), 100);
    st = open_at("corrupt_out", false, SIZE_MAX, UINT32_MAX);
    int corrupt, wrong;
    count_answers(st, &corrupt, &wrong);
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

TEST(corruption_in_an_input_stops_compaction_without_a_wrong_answer)
{
    log_set_level(LOG_ERROR + 1);
    store_t *st = open_at("corrupt_in", true, 4000, UINT32_MAX);
    fill(st, 3);
    store_close(st);
    uint64_t v;
    int files = sst_files_on_disk(&v);
    flip(1, 100);
    st = open_at("corrupt_in", false, SIZE_MAX, UINT32_MAX);
    store_compact_full(st);
    settle(st);
    store_stats_t s = stats(st);
    TEST_CHECK(s.compactions == 0 && (int)s.sst_files == files && !store_readonly(st));
    TEST_CHECK(sst_files_on_disk(&v) == files);    /* the abandoned output is gone */
    int corrupt, wrong;
    count_answers(st, &corrupt, &wrong);
    TEST_CHECK(wrong == 0);
    TEST_CHECK(corrupt > 0 || corrupt_at_some_snapshot(st));
    commit_kv(st, 1, 1, "still-writable");
    store_close(st);
    log_set_level(LOG_WARN);
}

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* The path of the manifest CURRENT names. */
static void current_manifest(char *out, size_t cap)
{
    char p[600], name[64] = {0};
    snprintf(p, sizeof p, "%s/CURRENT", dir);
    FILE *f = fopen(p, "r");
    if (!f || !fgets(name, sizeof name, f))
        abort();
    fclose(f);
    name[strcspn(name, "\n")] = 0;
    snprintf(out, cap, "%s/%s", dir, name);
}

TEST(version_1_manifest_is_read_then_switched)
{
    /* a store written by the previous format: rewrite its manifest as version 1 (no
     * removes field) with the same set, flushed LSN and next file number */
    store_t *st = open_at("manv1", true, 4000, UINT32_MAX);
    fill(st, 3);
    store_close(st);
    char man[700];
    current_manifest(man, sizeof man);
    static uint8_t buf[1 << 16];
    FILE *f = fopen(man, "rb");
    TEST_REQUIRE(f);
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    TEST_REQUIRE(size > 32 && get32(buf + 8) == 3);
    uint64_t flushed = 0, next_no = 0;
    for (size_t off = 32; off + 8 <= size;) {
        uint32_t plen = get32(buf + off);
        if (off + 8 + plen > size || crc32c(0, buf + off + 8, plen) != get32(buf + off + 4))
            break;
        flushed = get64(buf + off + 8);
        next_no = get64(buf + off + 16);
        off += 8 + plen;
    }
    uint64_t files[64], v;
    int n = 0;
    for (uint64_t no = 1; no < next_no && n < 64; no++) {
        char p[700];
        snprintf(p, sizeof p, "%s/sst/%016llx.sst", dir, (unsigned long long)no);
        if (access(p, F_OK) == 0)
            files[n++] = no;
    }
    TEST_REQUIRE(n >= 2 && n == sst_files_on_disk(&v));
    uint8_t out[32 + 8 + 24 + 8 * 64];
    memcpy(out, buf, 32);    /* magic, shard, manifest number as before ... */
    put32(out + 8, 1);       /* ... but version 1 */
    put32(out + 24, crc32c(0, out, 24));
    uint8_t *r = out + 32, *p = r + 8;
    put64(p, flushed);
    put64(p + 8, next_no);
    put32(p + 16, (uint32_t)n);
    put32(p + 20, 0);
    for (int i = 0; i < n; i++)
        put64(p + 24 + 8 * i, files[i]);
    uint32_t plen = 24 + 8 * (uint32_t)n;
    put32(r, plen);
    put32(r + 4, crc32c(0, p, plen));
    f = fopen(man, "wb");
    TEST_REQUIRE(f && fwrite(out, 1, 32 + 8 + plen, f) == 32 + 8 + plen);
    fclose(f);
    st = open_at("manv1", false, 4000, 2);    /* compaction edits a version-1 store */
    TEST_CHECK(stats(st).sst_files == (uint64_t)n);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    settle(st);
    TEST_CHECK(stats(st).compactions >= 1 && stats(st).manifest_switches == 1);
    store_close(st);
    current_manifest(man, sizeof man);
    f = fopen(man, "rb");
    TEST_REQUIRE(f);
    size = fread(buf, 1, 32, f);
    fclose(f);
    TEST_CHECK(size == 32 && get32(buf + 8) == 3);
    st = open_at("manv1", false, SIZE_MAX, UINT32_MAX);
    TEST_CHECK(check_model(st, UINT64_MAX, model) == 0);
    TEST_CHECK(check_model(st, snap_mid, model_mid) == 0);
    store_close(st);
}

TEST(iterator_rows_stay_valid_until_the_turn_ends)
{
    /* rows over several blocks and files, all held (as the SQL layer holds a batch it
     * decodes in place) until after the loop and the iterator's close */
    enum { N = 3000 };
    store_t *st = open_opts("hold", true, SIZE_MAX, UINT32_MAX, 64 * 1024);
    char val[160];
    for (int i = 0; i < N; i++) {
        snprintf(val, sizeof val, "held-%05d-%0100d", i, i);
        commit_kv(st, 1, i, val);
        if (i == N / 2) {
            store_close(st);
            flush_now("hold");
            st = open_opts("hold", false, SIZE_MAX, UINT32_MAX, 64 * 1024);
        }
    }
    store_close(st);
    flush_now("hold");
    st = open_opts("hold", false, SIZE_MAX, UINT32_MAX, 64 * 1024);
    uint64_t v;
    TEST_REQUIRE(sst_files_on_disk(&v) == 2 && v == N);
    static store_val_t keys[N], vals[N];
    store_iter_t *it = store_iter_open(st, NULL, UINT64_MAX, 1, NULL, 0, NULL, 0);
    int n = 0;
    while (n < N && store_iter_next(it, &keys[n], &vals[n]) == 1)
        n++;
    TEST_CHECK(n == N && store_iter_error(it) == 0);
    store_iter_close(it);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "key%05d", i);
        snprintf(val, sizeof val, "held-%05d-%0100d", i, i);
        bad += keys[i].len != strlen(key) || memcmp(keys[i].ptr, key, keys[i].len) != 0 ||
               vals[i].len != strlen(val) || memcmp(vals[i].ptr, val, vals[i].len) != 0;
    }
    TEST_CHECK(bad == 0);
    store_sync(st);    /* the turn ends: the blocks go */
    store_close(st);
}

TEST(block_cache_through_the_store)
{
    store_t *st = open_opts("cache", true, 4000, UINT32_MAX, 256 * 1024);
    fill(st, 3);
    store_close(st);
    st = open_opts("cache", false, SIZE_MAX, UINT32_MAX, 256 * 1024);
    model_t m;
    memcpy(m, model, sizeof m);
    TEST_CHECK(check_model(st, UINT64_MAX, m) == 0);
    store_stats_t s1 = stats(st);
    TEST_CHECK(s1.cache_misses > 0 && s1.cache_bytes > 0 &&
               s1.cache_bytes <= s1.cache_capacity_bytes);
    TEST_CHECK(check_model(st, UINT64_MAX, m) == 0);
    store_stats_t s2 = stats(st);
    TEST_CHECK(s2.cache_hits > s1.cache_hits && s2.cache_misses == s1.cache_misses);
    /* compaction deletes the files: their blocks leave the cache */
    store_compact_full(st);
    settle(st);
    store_stats_t s3 = stats(st);
    TEST_CHECK(s3.sst_files == 1 && s3.cache_bytes == 0);
    TEST_CHECK(check_model(st, UINT64_MAX, m) == 0);
    TEST_CHECK(stats(st).cache_bytes > 0);
    store_close(st);
}

TEST(cleanup)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/compact_test.%d", (int)getpid());
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
