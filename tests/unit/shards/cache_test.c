/*
 * cache_test.c -- the per-shard block cache (shards/cache.h) under real sorted tables:
 * misses then hits, the byte bound under eviction, scan resistance (a full scan does
 * not flush a hot set that point lookups promoted; the same reads as point lookups
 * would), a block a reader holds outliving its eviction, and invalidation when a file
 * is dropped or deleted (obsolete, last reference gone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "shards/cache.h"
#include "shards/sst.h"
#include "shards/store.h"
#include "tests/unit/test.h"

#define CT_KEYS 20000

static char path[256];

typedef struct gen { int i; char key[32]; char val[128]; } gen_t;

/* One version per key "key%06d", 100-byte values that compress poorly. */
static int gen_next(void *arg, sst_entry_t *e)
{
    gen_t *g = arg;
    if (g->i == CT_KEYS)
        return 0;
    snprintf(g->key, sizeof g->key, "key%06d", g->i);
    uint64_t x = (uint64_t)g->i * 0x9E3779B97F4A7C15ull + 1;
    for (int j = 0; j < 100; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        g->val[j] = (char)('a' + x % 26);
    }
    char head[16];
    snprintf(head, sizeof head, "v%06d-", g->i);
    memcpy(g->val, head, 8);
    *e = (sst_entry_t){.table_id = 1, .key = (const uint8_t *)g->key,
                       .klen = (uint32_t)strlen(g->key), .commit_ts = 5,
                       .val = (const uint8_t *)g->val, .vlen = 100};
    g->i++;
    return 1;
}

static sst_t *build(int n, uint64_t file_no)
{
    snprintf(path, sizeof path, "/tmp/cache_test.%d.%d.sst", (int)getpid(), n);
    gen_t g = {0};
    sst_t *s = NULL;
    if (sst_build(path, gen_next, &g) != 0 || sst_open(path, file_no, &s) != 0)
        abort();
    return s;
}

/* sst_get of key i through the file's cache; true when the value is right. */
static bool get(sst_t *s, int i)
{
    char key[32], want[16];
    snprintf(key, sizeof key, "key%06d", i);
    snprintf(want, sizeof want, "v%06d-", i);
    sst_entry_t e;
    sst_block_t *b;
    bool ok = sst_get(s, 1, (const uint8_t *)key, (uint32_t)strlen(key), UINT64_MAX, &e, &b) == 1 &&
              e.vlen == 100 && memcmp(e.val, want, 8) == 0;
    sst_block_free(b);
    return ok;
}

static cache_stats_t stats(const cache_t *c)
{
    cache_stats_t s;
    cache_get_stats(c, &s);
    return s;
}

/* Keys per block (all blocks hold about the same number). */
static int keys_per_block(const sst_t *s) { return CT_KEYS / (int)sst_blocks(s); }

TEST(misses_then_hits)
{
    sst_t *s = build(0, 1);
    TEST_REQUIRE(sst_blocks(s) >= 40);
    cache_t *c = cache_new(4u << 20);
    sst_set_cache(s, c);
    TEST_CHECK(get(s, 100));
    cache_stats_t a = stats(c);
    TEST_CHECK(a.misses == 1 && a.hits == 0 && a.entries == 1 && a.bytes > 0);
    TEST_CHECK(get(s, 100) && get(s, 101));    /* same block */
    cache_stats_t b = stats(c);
    TEST_CHECK(b.misses == 1 && b.hits == 2 && b.entries == 1);
    sst_close(s);    /* drops the file's blocks */
    TEST_CHECK(stats(c).bytes == 0 && stats(c).entries == 0);
    cache_free(c);
    unlink(path);
}

TEST(eviction_keeps_the_byte_bound)
{
    sst_t *s = build(1, 2);
    size_t cap = 6 * 40 * 1024;    /* about six decoded blocks */
    cache_t *c = cache_new(cap);
    sst_set_cache(s, c);
    int bad = 0, over = 0;
    for (int i = 0; i < CT_KEYS; i += 37) {
        bad += !get(s, i);
        over += stats(c).bytes > cap;
    }
    cache_stats_t st = stats(c);
    TEST_CHECK(bad == 0 && over == 0);
    /* blocks are cut at >= 32 KiB raw, so at most cap / 32 KiB of them fit */
    TEST_CHECK(st.evictions > 0 && st.entries >= 2 && st.entries <= cap / (32 * 1024) &&
               st.bytes <= cap);
    TEST_CHECK(st.inserts == st.entries + st.evictions);
    sst_close(s);
    cache_free(c);
    unlink(path);
}

TEST(held_block_outlives_its_eviction)
{
    sst_t *s = build(2, 3);
    cache_t *c = cache_new(3 * 40 * 1024);
    sst_set_cache(s, c);
    sst_entry_t e;
    sst_block_t *held;
    TEST_REQUIRE(sst_get(s, 1, (const uint8_t *)"key000005", 9, UINT64_MAX, &e, &held) == 1);
    for (int i = 0; i < CT_KEYS; i += 101)
        get(s, i);    /* evicts key000005's block many times over */
    TEST_CHECK(stats(c).evictions > 3);
    TEST_CHECK(memcmp(e.val, "v000005-", 8) == 0);    /* still ours (ASan checks the rest) */
    sst_block_free(held);
    sst_close(s);
    cache_free(c);
    unlink(path);
}

/* Promotes a hot set of hot_blocks blocks (each read twice by point lookups), then
 * reads every block once, by a scan cursor (scan) or by point lookups; returns how
 * many hot-set reads miss afterwards. */
static uint64_t hot_misses_after_full_read(bool scan)
{
    sst_t *s = build(3, 4);
    int kpb = keys_per_block(s), hot_blocks = 4;
    cache_t *c = cache_new((size_t)10 * 40 * 1024);    /* ~10 blocks; the file has 40+ */
    sst_set_cache(s, c);
    for (int rep = 0; rep < 2; rep++)
        for (int b = 0; b < hot_blocks; b++)
            get(s, b * kpb + kpb / 2);
    if (scan) {
        sst_iter_t *it = sst_iter_new(s, UINT64_MAX);
        sst_entry_t e;
        int n = 0;
        sst_iter_seek(it, 1, (const uint8_t *)"", 0);
        while (sst_iter_next_key(it, &e) == 1)
            n++;
        sst_iter_free(it);
        if (n != CT_KEYS)
            abort();
    } else {
        for (int i = 0; i < CT_KEYS; i += kpb / 2)
            get(s, i);
    }
    uint64_t before = stats(c).misses;
    for (int b = 0; b < hot_blocks; b++)
        get(s, b * kpb + kpb / 2);
    uint64_t misses = stats(c).misses - before;
    sst_close(s);
    cache_free(c);
    unlink(path);
    return misses;
}

TEST(full_scan_does_not_flush_the_hot_set)
{
    TEST_CHECK(hot_misses_after_full_read(true) == 0);
    /* control: the same reads as point lookups do push the hot set out */
    TEST_CHECK(hot_misses_after_full_read(false) > 0);
}

TEST(invalidation_when_a_file_is_dropped_or_deleted)
{
    sst_t *a = build(4, 10);
    char path_a[256];
    snprintf(path_a, sizeof path_a, "%s", path);
    sst_t *b = build(5, 11);
    cache_t *c = cache_new(8u << 20);
    sst_set_cache(a, c);
    sst_set_cache(b, c);
    for (int i = 0; i < CT_KEYS; i += 2000) {
        get(a, i);
        get(b, i);
    }
    uint64_t both = stats(c).entries;
    TEST_CHECK(both >= 10);
    cache_drop_file(c, 10);
    TEST_CHECK(stats(c).entries == both / 2);
    for (int i = 0; i < CT_KEYS; i += 2000)
        get(a, i);
    TEST_CHECK(stats(c).entries == both);
    /* a file replaced by compaction: a reader's reference keeps it (and its blocks
     * usable); the last close removes file and blocks */
    sst_ref(a);
    sst_set_obsolete(a);
    sst_close(a);
    TEST_CHECK(access(path_a, F_OK) == 0 && stats(c).entries == both);
    TEST_CHECK(get(a, 4000));
    sst_close(a);
    TEST_CHECK(access(path_a, F_OK) != 0 && stats(c).entries == both / 2);
    sst_close(b);
    TEST_CHECK(stats(c).entries == 0 && stats(c).bytes == 0);
    cache_free(c);
    unlink(path);
}

TEST_MAIN()
