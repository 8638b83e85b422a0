/*
 * check_test.c -- `nextdb check` / `nextdb dump-table` (shards/check.h) on data
 * directories written by the real store: a clean directory is clean (and the checker's
 * bloom hash agrees with the writer's); a flipped byte in a block is reported with file
 * and block; every single-byte flip and every truncation of a sorted table is reported;
 * garbage and crafted files (valid CRCs around absurd sizes) are reported without
 * crashing; manifest damage (CURRENT, missing manifest, missing listed table, torn
 * tail vs corrupt middle record), orphans as warnings; WAL torn tail (warning) vs
 * mid-file corruption and a missing segment (problems); the data-directory lock; and
 * 150 power-loss states of the real store: no problems, and none left to warn about
 * once recovery has opened them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/log.h"
#include "shards/check.h"
#include "shards/sst.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

static sim_t sim;
static char root[256];
static uint64_t next_txn = 1, next_ts = 10;

static void on_done(void *arg, int rc) { *(int *)arg = rc; }

static void sh(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        abort();
    }
}

/* Writes keys of one shard through the real store: rounds of puts and deletes, with a
 * tiny memtable budget (many flushes, manifest switches) unless budget is SIZE_MAX. */
static void write_shard(const char *dir, int shard_id, size_t budget, int rounds)
{
    sim_init(&sim, 11);
    sim.immediate = true;
    store_opts_t o = {.dir = dir, .shard_id = shard_id, .io = &sim.io, .segment_bytes = 4096,
                      .memtable_budget_bytes = budget, .flush_slice_bytes = 2000,
                      .manifest_bytes = 600};
    store_t *st = NULL;
    if (store_open(&o, &st) != 0)
        abort();
    for (int r = 0; r < rounds; r++) {
        for (int i = r % 2; i < 300; i += 1 + r % 3) {
            char key[32], val[96];
            snprintf(key, sizeof key, "key%05d", i);
            snprintf(val, sizeof val, "round %d value %d %0*d", r, i, (i * 5 + r) % 40, 0);
            store_txn_t *t = store_txn_begin(st, next_txn++);
            uint64_t b;
            int mode = (i + r) % 13 == 0 ? STORE_W_DELETE : STORE_W_PUT;
            if (store_write(st, t, mode, 1 + (uint32_t)(i % 2), (const uint8_t *)key,
                            (uint32_t)strlen(key), (const uint8_t *)val, (uint32_t)strlen(val),
                            &b) != STORE_OK)
                abort();
            int res = 1;
            store_txn_commit(st, t, ++next_ts, on_done, &res);
            store_sync(st);
            if (res != STORE_OK)
                abort();
        }
    }
    for (int i = 0; i < 100000 && (!store_idle(st) || store_flushing(st)); i++)
        store_sync(st);
    store_close(st);
}

/* A fresh data directory NAME with two shards. */
static const char *make_dir(const char *name, size_t budget)
{
    static char dir[300];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    sh("rm -rf %s && mkdir -p %s", dir, dir);
    char sd[400];
    for (int s = 0; s < 2; s++) {
        snprintf(sd, sizeof sd, "%s/shard-%03d", dir, s);
        write_shard(sd, s, budget, 6);
    }
    return dir;
}

/* Runs the check; *text gets its output (caller frees). */
static int run_check(const char *dir, check_stats_t *st, char **text)
{
    size_t len;
    FILE *f = open_memstream(text, &len);
    int rc = check_data_dir(dir, f, st);
    fclose(f);
    return rc;
}

static int run_dump(const char *path, bool rows, check_stats_t *st, char **text)
{
    size_t len;
    FILE *f = open_memstream(text, &len);
    int rc = check_dump_table(path, rows, f, st);
    fclose(f);
    return rc;
}

static void flip(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    uint8_t c;
    if (fd < 0 || pread(fd, &c, 1, off) != 1)
        abort();
    c ^= 0x10;
    if (pwrite(fd, &c, 1, off) != 1)
        abort();
    close(fd);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Path of the highest-numbered sorted table of shard 0 (the biggest flush). */
static void last_sst(const char *dir, char *out, size_t cap)
{
    out[0] = 0;
    for (int n = 1; n < 4096; n++) {
        char p[600];
        snprintf(p, sizeof p, "%s/shard-000/sst/%016x.sst", dir, n);
        if (access(p, F_OK) == 0)
            snprintf(out, cap, "%s", p);
    }
}

TEST(setup)
{
    log_set_level(LOG_ERROR + 1);
    snprintf(root, sizeof root, "/tmp/check_test.%d", (int)getpid());
    sh("rm -rf %s && mkdir -p %s", root, root);
}

TEST(clean_directory_is_clean)
{
    const char *dir = make_dir("clean", 4096);
    check_stats_t st;
    char *text = NULL;
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK);
    if (st.problems || st.warnings)
        fprintf(stderr, "%s", text);
    TEST_CHECK(st.problems == 0 && st.warnings == 0);
    TEST_CHECK(st.shards == 2 && st.manifests == 2);
    TEST_CHECK(st.tables >= 4 && st.blocks >= st.tables && st.versions > 0);
    TEST_CHECK(st.segments >= 2 && st.records > 0);
    TEST_CHECK(strstr(text, "0 problems, 0 warnings") != NULL);
    free(text);
    /* A WAL-only directory (never flushed: no CURRENT) is clean too. */
    dir = make_dir("walonly", SIZE_MAX);
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK);
    TEST_CHECK(st.problems == 0 && st.warnings == 0 && st.tables == 0 && st.segments > 4);
    free(text);
}

TEST(flipped_block_byte_names_file_and_block)
{
    const char *dir = make_dir("flip", 4096);
    char path[600], *text = NULL;
    last_sst(dir, path, sizeof path);
    TEST_REQUIRE(path[0]);
    check_stats_t st;
    TEST_REQUIRE(run_dump(path, false, &st, &text) == CHECK_OK && st.problems == 0);
    /* The dump lists every block; corrupt the middle of the last one. */
    unsigned last = 0;
    unsigned long off = 0, len = 0;
    for (char *l = text; (l = strstr(l, "\nblock ")); l++) {
        unsigned b;
        unsigned long o, n;
        if (sscanf(l + 1, "block %u: offset %lu length %lu", &b, &o, &n) == 3) {
            last = b;
            off = o;
            len = n;
        }
    }
    free(text);
    TEST_REQUIRE(len > 0);
    flip(path, (long)(off + len / 2));
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK);
    TEST_CHECK(st.problems == 1);
    char want[700];
    snprintf(want, sizeof want, "PROBLEM %s: block %u (offset %lu, %lu bytes): checksum mismatch",
             path, last, off, len);
    TEST_CHECK(strstr(text, want) != NULL);
    if (!strstr(text, want))
        fprintf(stderr, "want %s\ngot %s", want, text);
    free(text);
    /* dump-table on the damaged file still lists the blocks and reports the problem */
    TEST_CHECK(run_dump(path, true, &st, &text) == CHECK_OK && st.problems == 1);
    TEST_CHECK(strstr(text, "checksum mismatch") && strstr(text, "versions"));
    free(text);
}

/* A small table built with sst_build: keys k0000..k0199 (values ~300 bytes, so more
 * than one block), every 9th newest version a tombstone. */
typedef struct small_gen { int i, v; char key[16], val[320]; } small_gen_t;

static int small_next(void *arg, sst_entry_t *e)
{
    small_gen_t *g = arg;
    if (g->i == 200)
        return 0;
    snprintf(g->key, sizeof g->key, "k%04d", g->i);
    snprintf(g->val, sizeof g->val, "%d-%d-%0290d", g->i, g->v, g->i * 31 + g->v);
    *e = (sst_entry_t){.table_id = 5, .key = (const uint8_t *)g->key, .klen = 5,
                       .commit_ts = 100 - (uint64_t)g->v, .tomb = g->v == 0 && g->i % 9 == 0,
                       .val = (const uint8_t *)g->val, .vlen = (uint32_t)strlen(g->val)};
    if (++g->v == 2) {
        g->v = 0;
        g->i++;
    }
    return 1;
}

static void build_small(const char *path)
{
    small_gen_t g = {0};
    if (sst_build(path, small_next, &g) != 0)
        abort();
}

static uint64_t dump_problems(const char *path)
{
    check_stats_t st;
    char *text = NULL;
    int rc = run_dump(path, true, &st, &text);
    free(text);
    return rc == CHECK_OK ? st.problems : 1000000;
}

TEST(dump_table_rows_and_clean_small_table)
{
    char path[300], *text = NULL;
    snprintf(path, sizeof path, "%s/small.sst", root);
    build_small(path);
    check_stats_t st;
    TEST_REQUIRE(run_dump(path, true, &st, &text) == CHECK_OK);
    TEST_CHECK(st.problems == 0 && st.tables == 1 && st.blocks >= 2 && st.versions == 400);
    TEST_CHECK(strstr(text, "versions 400, blocks ") != NULL);
    TEST_CHECK(strstr(text, "format version 3") != NULL);
    TEST_CHECK(strstr(text, "block 0: offset 0 length ") != NULL);
    TEST_CHECK(strstr(text, " one-per-key ") == NULL);    /* two versions per key */
    TEST_CHECK(strstr(text, "first (table 5, \"k0000\")") != NULL);
    TEST_CHECK(strstr(text, "(table 5, \"k0009\") ts 100 tombstone") != NULL);
    TEST_CHECK(strstr(text, "(table 5, \"k0009\") ts 99 value ") != NULL);
    TEST_CHECK(strstr(text, "...(") != NULL);    /* long values are cut */
    free(text);
    TEST_CHECK(run_dump("/nonexistent/x.sst", false, &st, &text) == CHECK_ENODIR);
    free(text);
}

TEST(every_byte_flip_and_truncation_is_reported)
{
    char path[300], copy[320];
    snprintf(path, sizeof path, "%s/small.sst", root);
    snprintf(copy, sizeof copy, "%s/small-copy.sst", root);
    build_small(path);
    long size = file_size(path);
    TEST_REQUIRE(size > 1000);
    uint8_t *img = malloc((size_t)size);
    int fd = open(path, O_RDONLY);
    TEST_REQUIRE(img && fd >= 0 && pread(fd, img, (size_t)size, 0) == size);
    close(fd);
    int missed = 0;
    for (long i = 0; i < size; i++) {
        img[i] ^= 0x04;
        fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, img, (size_t)size) != size)
            abort();
        close(fd);
        img[i] ^= 0x04;
        if (dump_problems(copy) == 0) {
            if (missed++ < 5)
                fprintf(stderr, "  flip at %ld not reported\n", i);
        }
    }
    TEST_CHECK(missed == 0);
    missed = 0;
    for (long n = 0; n < size; n += 1 + n / 50) {
        fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, img, (size_t)n) != n)
            abort();
        close(fd);
        if (dump_problems(copy) == 0)
            missed++;
    }
    TEST_CHECK(missed == 0);
    free(img);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A file of body bytes + a footer with a valid CRC claiming the given layout. */
static void write_crafted(const char *path, const uint8_t *body, size_t body_len,
                          uint64_t index_off, uint32_t index_len, uint64_t bloom_off,
                          uint32_t bloom_len, uint32_t blocks)
{
    uint8_t f[SST_FOOTER_BYTES] = {0};
    put64(f, index_off);
    put32(f + 8, index_len);
    put32(f + 12, bloom_len);
    put64(f + 16, bloom_off);
    put64(f + 24, 1000);
    put64(f + 32, 5);
    put32(f + 40, blocks);
    put32(f + 44, SST_FORMAT_VERSION);
    put32(f + 48, crc32c(0, f, 48));
    memcpy(f + 56, SST_MAGIC, 8);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, body, body_len) != (ssize_t)body_len || write(fd, f, sizeof f) != 64)
        abort();
    close(fd);
}

TEST(garbage_and_crafted_files_are_reported)
{
    char path[300];
    snprintf(path, sizeof path, "%s/garbage.sst", root);
    static uint8_t junk[200000];
    uint64_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        junk[i] = (uint8_t)(x >> 56);
    }
    static const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 4096, 200000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, junk, sizes[k]) != (ssize_t)sizes[k])
            abort();
        close(fd);
        TEST_CHECK(dump_problems(path) > 0);
    }
    /* Valid footer CRC, offsets beyond the file. */
    write_crafted(path, junk, 100, 1ull << 62, 0xffffffffu, 0, 0xffffffffu, 0xffffffffu);
    TEST_CHECK(dump_problems(path) > 0);
    write_crafted(path, junk, 100, UINT64_MAX - 10, 20, UINT64_MAX - 40, 30, 1);
    TEST_CHECK(dump_problems(path) > 0);
    /* Valid footer and index CRC, the index claims 2^32-1 blocks. */
    uint8_t body[100] = {0};
    uint8_t *bloom = body, *index = body + 24;
    put32(bloom + 4, 7);
    put64(bloom + 8, 64);
    put32(bloom, crc32c(0, bloom + 4, 20));
    put32(index + 4, 0xffffffffu);
    put32(index, crc32c(0, index + 4, 76 - 4));
    write_crafted(path, body, 100, 24, 76, 0, 24, 0xffffffffu);
    TEST_CHECK(dump_problems(path) > 0);
    /* ... and one block of 2^32-1 bytes with huge versions counts. */
    memset(index + 4, 0, 72);
    put32(index + 4, 1);
    put64(index + 8, 0);
    put32(index + 16, 0xffffffffu);
    put32(index + 20, 0xffffffffu);
    put32(index + 8 + 36, 0);
    put32(index + 8 + 44, 0);
    put32(index, crc32c(0, index + 4, 56 - 4));
    write_crafted(path, body, 80, 24, 56, 0, 24, 1);
    TEST_CHECK(dump_problems(path) > 0);
}

static int problems_of(const char *dir, char **text)
{
    check_stats_t st;
    if (run_check(dir, &st, text) != CHECK_OK)
        return -1;
    return (int)st.problems;
}

TEST(manifest_damage)
{
    const char *dir = make_dir("man", 4096);
    char p[600], q[600], *text = NULL;
    check_stats_t st;
    /* orphan table and stale files: warnings only */
    last_sst(dir, p, sizeof p);
    snprintf(q, sizeof q, "%s/shard-000/sst/00000000000000ff.sst", dir);
    sh("cp %s %s", p, q);
    snprintf(q, sizeof q, "%s/shard-000/CURRENT.tmp", dir);
    sh("touch %s%s", q, "");
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK && st.problems == 0 && st.warnings == 2);
    TEST_CHECK(strstr(text, "00000000000000ff.sst: orphan sorted table") != NULL);
    free(text);
    sh("rm %s%s", q, "");
    snprintf(q, sizeof q, "%s/shard-000/sst/00000000000000ff.sst", dir);
    sh("rm %s%s", q, "");
    /* a listed table missing */
    sh("mv %s %s.away", p, p);
    TEST_CHECK(problems_of(dir, &text) == 1 && strstr(text, "but missing"));
    free(text);
    sh("mv %s.away %s", p, p);
    /* a torn manifest tail is a warning; a bad record followed by a good one is not */
    snprintf(p, sizeof p, "%s/shard-001/CURRENT", dir);
    FILE *f = fopen(p, "r");
    char name[64] = {0};
    TEST_REQUIRE(f && fgets(name, sizeof name, f));
    fclose(f);
    name[strcspn(name, "\n")] = 0;
    snprintf(q, sizeof q, "%s/shard-001/%s", dir, name);
    long msize = file_size(q);
    sh("cp %s %s.orig", q, q);
    sh("printf 'torn-bytes' >> %s%s", q, "");
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK && st.problems == 0 && st.warnings == 1);
    TEST_CHECK(strstr(text, "torn tail") != NULL);
    free(text);
    sh("cp %s.orig %s", q, q);
    /* append a copy of the manifest's first record after garbage: corrupt middle */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "printf 'XXXXXXXXXXXX' >> %s && tail -c +33 %s.orig >> %s", q, q, q);
    TEST_REQUIRE(system(cmd) == 0 && file_size(q) > msize);
    TEST_CHECK(problems_of(dir, &text) >= 1 && strstr(text, "followed by valid records"));
    free(text);
    sh("cp %s.orig %s", q, q);
    /* a flipped byte in the header */
    flip(q, 20);
    TEST_CHECK(problems_of(dir, &text) >= 1 && strstr(text, "bad header"));
    free(text);
    sh("cp %s.orig %s", q, q);
    /* CURRENT garbled, then naming a manifest that does not exist */
    sh("cp %s %s.orig", p, p);
    sh("printf 'MANIFEST-xyz\\n' > %s%s", p, "");
    TEST_CHECK(problems_of(dir, &text) >= 1 && strstr(text, "CURRENT: does not hold"));
    free(text);
    sh("printf 'MANIFEST-00000000000000aa\\n' > %s%s", p, "");
    TEST_CHECK(problems_of(dir, &text) >= 1 && strstr(text, "cannot read"));
    free(text);
    /* CURRENT lost after several flushes: the tables are not orphans */
    sh("rm %s%s", p, "");
    TEST_CHECK(problems_of(dir, &text) >= 2 && strstr(text, "no CURRENT"));
    free(text);
    sh("cp %s.orig %s", p, p);
    TEST_CHECK(problems_of(dir, &text) == 0);
    free(text);
}

/* Copies of damaged files live outside the data directory (the checker would report
 * a stray file in wal/ as a warning). */
static void backup(const char *path) { sh("cp %s %s/bak", path, root); }
static void restore(const char *path) { sh("cp %s/bak %s", root, path); }

TEST(wal_torn_tail_vs_corruption)
{
    const char *dir = make_dir("wal", SIZE_MAX);
    char seg[8][600], *text = NULL;
    int n = 0;
    for (uint64_t lsn = 1; lsn < 100000 && n < 8; lsn++) {
        char p[600];
        snprintf(p, sizeof p, "%s/shard-000/wal/%016lx.wal", dir, (unsigned long)lsn);
        if (access(p, F_OK) == 0)
            snprintf(seg[n++], sizeof seg[0], "%s", p);
    }
    TEST_REQUIRE(n >= 3);
    char last[600] = "";
    for (uint64_t lsn = 1; lsn < 100000; lsn++) {
        char p[600];
        snprintf(p, sizeof p, "%s/shard-000/wal/%016lx.wal", dir, (unsigned long)lsn);
        if (access(p, F_OK) == 0)
            snprintf(last, sizeof last, "%s", p);
    }
    TEST_REQUIRE(last[0] && file_size(last) > 400);
    check_stats_t st;
    /* torn tail of the newest segment: a warning, exit clean */
    backup(last);
    sh("printf 'torn' >> %s%s", last, "");
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK && st.problems == 0 && st.warnings == 1);
    TEST_CHECK(strstr(text, "torn tail at offset") != NULL);
    free(text);
    /* a flipped byte inside the newest segment's first record: valid records follow */
    restore(last);
    flip(last, 32 + 30);
    TEST_CHECK(problems_of(dir, &text) == 1 && strstr(text, "corrupt record at offset 32"));
    free(text);
    restore(last);
    /* a flipped byte in an older segment's last bytes: corruption, not a tail */
    backup(seg[1]);
    flip(seg[1], file_size(seg[1]) - 2);
    TEST_CHECK(problems_of(dir, &text) == 1 && strstr(text, seg[1]) && strstr(text, "corrupt record"));
    free(text);
    restore(seg[1]);
    /* a missing middle segment: the LSN sequence breaks */
    backup(seg[1]);
    sh("rm %s%s", seg[1], "");
    TEST_CHECK(problems_of(dir, &text) == 1 && strstr(text, "expected"));
    free(text);
    restore(seg[1]);
    TEST_CHECK(problems_of(dir, &text) == 0);
    free(text);
}

TEST(directory_lock_and_layout)
{
    const char *dir = make_dir("lock", 4096);
    char p[600], q[600], *text = NULL;
    check_stats_t st;
    snprintf(p, sizeof p, "%s/nextdb.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT, 0600);
    TEST_REQUIRE(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
    TEST_CHECK(write(fd, "4242\n", 5) == 5);
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_EBUSY);
    TEST_CHECK(strstr(text, "in use by a running nextdb server (pid 4242)") != NULL);
    free(text);
    close(fd);
    TEST_CHECK(run_check(dir, &st, &text) == CHECK_OK && st.problems == 0);
    free(text);
    /* shard-001 missing while shard-002 exists */
    snprintf(p, sizeof p, "%s/shard-001", dir);
    snprintf(q, sizeof q, "%s/shard-002", dir);
    sh("mv %s %s", p, q);
    TEST_CHECK(problems_of(dir, &text) >= 1 && strstr(text, "shard-001: missing"));
    free(text);
    TEST_CHECK(run_check("/nonexistent/dir", &st, &text) == CHECK_ENODIR);
    free(text);
}

/* Power-loss states: rounds of random transactions through the simulated disk with a
 * tiny memtable budget, manifest limit and segment size (flushes, switches and trims
 * all the time), injected write/fsync failures, then a power loss at a random point
 * (in-flight writes dropped or torn, unsynced cache partly lost). Every state a crash
 * leaves must check without problems (warnings allowed: torn tails, orphans, stale
 * manifests); recovery must then open it, and once it has, nothing is left to warn
 * about. This ties the checker's rules to recovery's. CHECK_CRASH_SEED repeats a run. */
static uint64_t crash_rng;

static uint64_t crash_rnd(void)
{
    crash_rng ^= crash_rng << 13;
    crash_rng ^= crash_rng >> 7;
    crash_rng ^= crash_rng << 17;
    return crash_rng;
}

static store_t *crash_open(const char *sdir)
{
    store_opts_t o = {.dir = sdir, .shard_id = 0, .io = &sim.io,
                      .segment_bytes = crash_rnd() % 2 ? 700 : 2048,
                      .memtable_budget_bytes = 1000 + crash_rnd() % 3000,
                      .flush_slice_bytes = 500 + crash_rnd() % 3000,
                      .manifest_bytes = 100 + crash_rnd() % 400};
    store_t *st = NULL;
    return store_open(&o, &st) == 0 ? st : NULL;
}

static void crash_txn(store_t *st)
{
    if (store_readonly(st))
        return;
    store_txn_t *t = store_txn_begin(st, next_txn++);
    if (!t)
        return;
    char key[16], val[80];
    for (int w = 0, n = 1 + (int)(crash_rnd() % 3); w < n; w++) {
        snprintf(key, sizeof key, "k%02d", (int)(crash_rnd() % 24));
        int len = snprintf(val, sizeof val, "v%llu-%0*d", (unsigned long long)next_txn,
                           (int)(crash_rnd() % 60), 0);
        uint64_t b;
        int mode = crash_rnd() % 5 == 0 ? STORE_W_DELETE : STORE_W_PUT;
        if (store_write(st, t, mode, 1, (const uint8_t *)key, 3, (const uint8_t *)val,
                        (uint32_t)len, &b) != STORE_OK) {
            store_txn_abort(st, t);
            return;
        }
    }
    static int ignored;
    store_txn_commit(st, t, ++next_ts, on_done, &ignored);
}

TEST(every_power_loss_state_checks_clean_and_recovery_agrees)
{
    const char *e = getenv("CHECK_CRASH_SEED");
    crash_rng = e ? strtoull(e, NULL, 10) : 20261203;
    char dir[300], sdir[340], *text = NULL;
    snprintf(dir, sizeof dir, "%s/crash", root);
    snprintf(sdir, sizeof sdir, "%s/shard-000", dir);
    sh("rm -rf %s && mkdir -p %s", dir, dir);
    sim_init(&sim, crash_rng);
    int bad_crash = 0, bad_after = 0, failed_open = 0;
    uint64_t warned = 0, tables = 0;
    for (int r = 0; r < 150; r++) {
        store_t *st = crash_open(sdir);
        if (!st) {
            failed_open++;
            break;
        }
        int steps = 1 + (int)(crash_rnd() % 40);
        for (int i = 0; i < steps; i++) {
            uint64_t x = crash_rnd() % 100;
            if (x < 55)
                crash_txn(st);
            else if (x < 78)
                store_sync(st);
            else if (x < 98)
                sim_run(&sim);
            else if (crash_rnd() % 2)
                sim.fail_write_in = 1 + (int)(crash_rnd() % 3);
            else
                sim.fail_fsync_in = 1 + (int)(crash_rnd() % 3);
        }
        sim.fail_write_in = sim.fail_fsync_in = 0;
        for (int c = 0, n = (int)(crash_rnd() % 30); c < n; c++) {
            store_sync(st);
            if (crash_rnd() % 4)
                sim_run(&sim);
        }
        sim_crash(&sim);
        store_close(st);
        check_stats_t cs;
        if (run_check(dir, &cs, &text) != CHECK_OK || cs.problems) {
            if (bad_crash++ < 3)
                fprintf(stderr, "  round %d, after the power loss:\n%s", r, text);
        }
        warned += cs.warnings;
        tables += cs.tables;
        free(text);
        /* recovery repairs what the warnings name */
        st = crash_open(sdir);
        if (!st) {
            failed_open++;
            break;
        }
        store_close(st);
        if (run_check(dir, &cs, &text) != CHECK_OK || cs.problems || cs.warnings) {
            if (bad_after++ < 3)
                fprintf(stderr, "  round %d, after recovery:\n%s", r, text);
        }
        free(text);
    }
    fprintf(stderr, "  150 power losses: %llu warnings, %llu sorted tables checked\n",
            (unsigned long long)warned, (unsigned long long)tables);
    TEST_CHECK(failed_open == 0);
    TEST_CHECK(bad_crash == 0);
    TEST_CHECK(bad_after == 0);
    TEST_CHECK(warned > 0 && tables > 0);    /* the states were worth checking */
}

TEST(cleanup)
{
    sh("rm -rf %s%s", root, "");
    log_set_level(LOG_WARN);
}

TEST_MAIN()
