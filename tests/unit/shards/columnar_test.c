/*
 * columnar_test.c -- sorted table format 2 (shards/README.md): rows of a table with a
 * registered layout stored column by column (the SQL layer's real row codec,
 * sql/types_enc.c) and joined back byte for byte for lookups and cursors; values that
 * do not split fall back to opaque blocks; version-1 files still read and check;
 * nextdb check / dump-table read columnar blocks and name a damaged column chunk with
 * its block; and the store's column scan (store_iter_next_cols) over version-1 and
 * version-2 files, the memtable, own and foreign intents and a full compaction gives
 * exactly the rows of the ordinary iterator, skipping blocks by min/max.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "shards/check.h"
#include "shards/sst.h"
#include "shards/store.h"
#include "shards/store_int.h"
#include "sql/types.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define CT_TABLE 42      /* has a layout */
#define CT_OTHER 7       /* has none: opaque values */
#define CT_NCOLS 7
#define CT_KEYS 3000

static const type_oid_t ct_types[CT_NCOLS] = {TYPE_INT4, TYPE_INT8, TYPE_FLOAT8, TYPE_TEXT,
                                               TYPE_BOOL, TYPE_INT2, TYPE_DATE};
static char path[256];

static void register_layout(void)
{
    store_set_row_codec(row_store_codec());
    store_layout_t l;
    if (!row_store_layout(CT_NCOLS, ct_types, &l) || store_layout_register(CT_TABLE, &l) != 0)
        abort();
}

/* Row of key i at version v, encoded as the SQL layer does, into sb. */
static void make_row(int i, int v, strbuf_t *sb)
{
    static _Alignas(8) uint8_t tbuf[64];
    vstr_t *t = (vstr_t *)(void *)tbuf;
    t->len = (uint32_t)snprintf(t->data, 40, "row-%d-v%d%.*s", i, v, i % 11, "xxxxxxxxxxx");
    datum_t vals[CT_NCOLS];
    bool nulls[CT_NCOLS] = {0};
    vals[0].i64 = i;
    vals[1].i64 = (int64_t)i * 1000003 - 5 * v;
    vals[2].f64 = i / 3.0 + v;
    nulls[2] = i % 9 == 0;
    vals[3].s = t;
    nulls[3] = i % 4 == 0;
    vals[4].i64 = (i + v) % 2;
    vals[5].i64 = i % 500 - 250;
    vals[6].i64 = 7000 + i % 300 - v;
    strbuf_reset(sb);
    row_encode(CT_NCOLS, ct_types, vals, nulls, sb);
}

static void make_key(int i, uint8_t k[8])
{
    for (int b = 0; b < 8; b++)
        k[b] = (uint8_t)((uint64_t)i >> (56 - 8 * b));
}

/* Versions of key i: 1, or 2 for every third key (ts 100*i+2 then +1); the newest of
 * every tenth key is a tombstone. Table CT_OTHER holds 50 opaque keys first. */
typedef struct gen {
    int table_pass, i, v;
    bool garbage;         /* every 5th key's values are bytes that are no row */
    uint8_t key[8];
    strbuf_t sb;
} gen_t;

static int versions_of(int i) { return i % 3 == 0 ? 2 : 1; }

static int gen_next(void *arg, sst_entry_t *e)
{
    gen_t *g = arg;
    if (g->table_pass == 0 && g->i == 50) {
        g->table_pass = 1;
        g->i = g->v = 0;
    }
    if (g->table_pass == 1 && g->i == CT_KEYS)
        return 0;
    int nv = versions_of(g->i);
    make_key(g->i, g->key);
    uint64_t ts = 100ull * (uint64_t)g->i + (uint64_t)(nv - g->v) + 1;
    bool tomb = g->v == 0 && g->i % 10 == 0;
    if (g->table_pass == 0 || (g->garbage && g->i % 5 == 0)) {
        strbuf_reset(&g->sb);
        strbuf_printf(&g->sb, "opaque-%d-%d", g->i, g->v);
    } else {
        make_row(g->i, nv - 1 - g->v, &g->sb);
    }
    *e = (sst_entry_t){.table_id = g->table_pass ? CT_TABLE : CT_OTHER, .key = g->key, .klen = 8,
                       .commit_ts = ts, .tomb = tomb, .val = (const uint8_t *)g->sb.data,
                       .vlen = tomb ? 0 : (uint32_t)g->sb.len};
    if (++g->v == nv) {
        g->v = 0;
        g->i++;
    }
    return 1;
}

static sst_t *build(const char *name, bool garbage)
{
    snprintf(path, sizeof path, "/tmp/columnar_test.%d.%s.sst", (int)getpid(), name);
    gen_t g = {.garbage = garbage};
    strbuf_init(&g.sb);
    sst_t *s = NULL;
    if (sst_build(path, gen_next, &g) != 0 || sst_open(path, 3, &s) != 0)
        abort();
    strbuf_free(&g.sb);
    return s;
}

static int run_dump(const char *p, bool rows, check_stats_t *st, char **text)
{
    size_t len;
    FILE *f = open_memstream(text, &len);
    int rc = check_dump_table(p, rows, f, st);
    fclose(f);
    return rc;
}

/* Every version of every key reads back byte for byte, by lookup and by cursor. */
static int verify_file(sst_t *s, bool garbage)
{
    int bad = 0;
    strbuf_t sb;
    strbuf_init(&sb);
    for (int i = 0; i < CT_KEYS; i++) {
        uint8_t k[8];
        make_key(i, k);
        int nv = versions_of(i);
        for (int v = 0; v < nv; v++) {
            /* version v (0 = oldest) has ts 100*i + v + 2 */
            uint64_t ts = 100ull * (uint64_t)i + (uint64_t)v + 2;
            sst_entry_t e;
            sst_block_t *b;
            int rc = sst_get(s, CT_TABLE, k, 8, ts, &e, &b);
            bool tomb = v == nv - 1 && i % 10 == 0;
            if (rc != 1 || e.tomb != tomb || e.commit_ts != ts) {
                bad++;
            } else if (!tomb) {
                if (garbage && i % 5 == 0) {
                    strbuf_reset(&sb);
                    strbuf_printf(&sb, "opaque-%d-%d", i, nv - 1 - v);
                } else {
                    make_row(i, v, &sb);
                }
                if (e.vlen != sb.len || memcmp(e.val, sb.data, sb.len) != 0 || ((uintptr_t)e.val & 7))
                    bad++;
            }
            sst_block_free(b);
        }
    }
    sst_iter_t *it = sst_iter_new(s, UINT64_MAX);
    sst_entry_t e;
    uint64_t n = 0;
    while (sst_iter_next_version(it, &e) == 1)
        n++;
    sst_iter_free(it);
    if (n != sst_entries(s))
        bad++;
    strbuf_free(&sb);
    return bad;
}

TEST(v2_blocks_are_columnar_and_join_back_exactly)
{
    register_layout();
    sst_t *s = build("v2", false);
    TEST_CHECK(verify_file(s, false) == 0);
    /* the table's blocks are columnar: a cursor at a block start hands out 7 columns */
    sst_iter_t *it = sst_iter_new(s, UINT64_MAX);
    uint8_t k[8];
    make_key(1000, k);
    TEST_REQUIRE(sst_iter_seek(it, CT_TABLE, k, 0) == 0);
    sst_entry_t e;
    TEST_REQUIRE(sst_iter_next_key(it, &e) == 1 && e.table_id == CT_TABLE);
    uint32_t bi;
    sst_block_t *b;
    TEST_REQUIRE(sst_iter_block_start(it, &bi, &b) == 1 && b != NULL);
    store_colblock_t cb;
    TEST_REQUIRE(sst_block_columns(s, b, NULL, &cb) == 0);
    TEST_CHECK(cb.ncols == CT_NCOLS && cb.n > 10 && cb.nsel > 0 && cb.nsel < cb.n);
    TEST_CHECK(cb.cols[0].width == 4 && cb.cols[3].width == 0 && cb.cols[2].kind == STORE_COL_FLOAT);
    sst_iter_free(it);
    sst_close(s);
    check_stats_t st;
    char *text = NULL;
    TEST_CHECK(run_dump(path, true, &st, &text) == CHECK_OK && st.problems == 0);
    TEST_CHECK(strstr(text, "format version 3") != NULL);
    TEST_CHECK(strstr(text, " columns 7: ") != NULL);
    TEST_CHECK(strstr(text, "value 12 bytes \"opaque-0-0\"") != NULL ||
               strstr(text, "\"opaque-") != NULL);
    free(text);
    unlink(path);
}

TEST(values_that_do_not_split_make_opaque_blocks)
{
    register_layout();
    sst_t *s = build("garbage", true);
    TEST_CHECK(verify_file(s, true) == 0);
    sst_close(s);
    check_stats_t st;
    char *text = NULL;
    TEST_CHECK(run_dump(path, false, &st, &text) == CHECK_OK && st.problems == 0);
    free(text);
    unlink(path);
}

TEST(version1_files_still_read_and_check)
{
    register_layout();
    sst_set_write_version(1);
    sst_t *s = build("v1", false);
    sst_set_write_version(SST_FORMAT_VERSION);
    TEST_CHECK(verify_file(s, false) == 0);
    sst_close(s);
    check_stats_t st;
    char *text = NULL;
    TEST_CHECK(run_dump(path, true, &st, &text) == CHECK_OK && st.problems == 0);
    TEST_CHECK(strstr(text, "format version 1") != NULL);
    TEST_CHECK(strstr(text, " columns 7: ") == NULL);
    free(text);
    unlink(path);
}

TEST(damaged_column_chunk_is_reported_with_file_and_block)
{
    register_layout();
    sst_t *s = build("damage", false);
    sst_close(s);
    check_stats_t st;
    char *text = NULL;
    TEST_REQUIRE(run_dump(path, false, &st, &text) == CHECK_OK);
    /* block 1 holds table CT_TABLE (block 0 is the opaque table) */
    const char *line = strstr(text, "block 1: offset ");
    TEST_REQUIRE(line != NULL);
    unsigned long off, len;
    TEST_REQUIRE(sscanf(line, "block 1: offset %lu length %lu", &off, &len) == 2);
    free(text);
    int fd = open(path, O_RDWR);
    TEST_REQUIRE(fd >= 0);
    uint8_t *blk = malloc(len);
    TEST_REQUIRE(pread(fd, blk, len, (off_t)off) == (ssize_t)len);
    uint32_t comp[3], ncc;
    memcpy(comp, blk + 20, 12);
    memcpy(&ncc, blk + 52, 4);
    TEST_REQUIRE(ncc == CT_NCOLS);
    /* the first column chunk's zstd magic, with a block checksum that still matches */
    size_t at = SST_BLOCK_HDR_BYTES + (size_t)comp[0] + comp[1] + comp[2] + 1;
    TEST_REQUIRE(at < len);
    blk[at] ^= 0x55;
    uint32_t crc = crc32c(0, blk + 4, len - 4);
    memcpy(blk, &crc, 4);
    TEST_REQUIRE(pwrite(fd, blk, len, (off_t)off) == (ssize_t)len);
    close(fd);
    free(blk);
    TEST_CHECK(run_dump(path, false, &st, &text) == CHECK_OK && st.problems >= 1);
    TEST_CHECK(strstr(text, "block 1 (offset") != NULL && strstr(text, "column chunk 0") != NULL);
    free(text);
    /* the store's reader: STORE_ECORRUPT naming file and block, no wrong answer */
    TEST_REQUIRE(sst_open(path, 3, &s) == 0);
    uint8_t k[8];
    make_key(1, k);
    sst_entry_t e;
    sst_block_t *b = NULL;
    TEST_CHECK(sst_get(s, CT_TABLE, k, 8, UINT64_MAX, &e, &b) == STORE_ECORRUPT);
    TEST_CHECK(strstr(sst_error(s), "column chunk 0") != NULL && strstr(sst_error(s), "in block 1") != NULL &&
               strstr(sst_error(s), path) != NULL);
    sst_close(s);
    unlink(path);
}

/* ---- the store: column scans against the row iterator ---- */

static sim_t sim;
static char dir[256];
static uint64_t next_txn = 1, next_ts = 10;

static void on_done(void *arg, int rc)
{
    if (arg)
        *(int *)arg = rc;
}

static store_t *open_store(void)
{
    char cmd[600];
    snprintf(dir, sizeof dir, "/tmp/columnar_test.%d.store", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(cmd) != 0)
        abort();
    sim_init(&sim, 11);
    sim.immediate = true;
    store_opts_t o = {.dir = dir, .shard_id = 1, .io = &sim.io, .memtable_budget_bytes = SIZE_MAX,
                      .compact_fanin = UINT32_MAX};
    store_t *st = NULL;
    if (store_open(&o, &st) != 0)
        abort();
    return st;
}

static void settle(store_t *st)
{
    for (int i = 0; i < 100000 && (!store_idle(st) || store_flushing(st) || store_compacting(st)); i++)
        store_sync(st);
}

/* Writes keys [lo, hi) (step) as version v, or deletes them, in one transaction. */
static void write_range(store_t *st, int lo, int hi, int step, int v, bool del)
{
    store_txn_t *t = store_txn_begin(st, next_txn++);
    strbuf_t sb;
    strbuf_init(&sb);
    for (int i = lo; i < hi; i += step) {
        uint8_t k[8];
        make_key(i, k);
        make_row(i, v, &sb);
        uint64_t b;
        if (store_write(st, t, del ? STORE_W_DELETE : STORE_W_PUT, CT_TABLE, k, 8,
                        (const uint8_t *)sb.data, (uint32_t)sb.len, &b) != STORE_OK)
            abort();
    }
    strbuf_free(&sb);
    int res = 1;
    store_txn_commit(st, t, ++next_ts, on_done, &res);
    settle(st);
    if (res != 0)
        abort();
}

/* Flushes the memtable now (a budget of 1 byte for one flush). */
static void flush_now(store_t *st)
{
    st->mt_budget = 1;
    for (int i = 0; i < 1000 && !store_flushing(st); i++)
        store_sync(st);
    st->mt_budget = SIZE_MAX;
    settle(st);
}

typedef struct rows { char *data; size_t len, count; } rows_t;

static void rows_add(rows_t *r, const uint8_t *p, uint32_t n)
{
    r->data = realloc(r->data, r->len + n + 4);
    memcpy(r->data + r->len, &n, 4);
    memcpy(r->data + r->len + 4, p, n);
    r->len += n + 4;
    r->count++;
}

/* Column 0 (aid, int4) of an encoded row: row_decode. */
static int64_t row_aid(const uint8_t *p, uint32_t n)
{
    uint8_t *copy = malloc(n + 8);
    memcpy(copy, p, n);
    datum_t vals[CT_NCOLS];
    bool nulls[CT_NCOLS];
    int64_t aid = row_decode(copy, n, CT_NCOLS, ct_types, vals, nulls) == 0 ? vals[0].i64 : -999;
    free(copy);
    return aid;
}

/* Every row of the scan (rows and whole blocks), optionally only aids in [lo, hi]. */
static int scan(store_t *st, store_txn_t *t, bool cols, const store_colpred_t *pred, int64_t lo,
                int64_t hi, rows_t *out, uint64_t *whole, uint64_t *skipped)
{
    store_iter_t *it = store_iter_open(st, t, UINT64_MAX, CT_TABLE, NULL, 0, NULL, 0);
    if (!it)
        return -1;
    if (cols && store_iter_set_colscan(it, pred, pred ? 1 : 0) != 0)
        return -1;
    store_val_t k, v;
    store_colblock_t cb;
    int rc;
    while ((rc = store_iter_next_cols(it, &cb, &k, &v)) > 0) {
        if (rc == 1) {
            int64_t a = row_aid(v.ptr, v.len);
            if (a >= lo && a <= hi)
                rows_add(out, v.ptr, v.len);
            continue;
        }
        if (store_colblock_rows(&cb) != 0)
            return -3;
        for (uint32_t s = 0; s < cb.nsel; s++) {
            uint32_t i = cb.sel[s];
            /* the column vector and the joined row agree */
            int32_t aid;
            memcpy(&aid, cb.cols[0].data + 4 * (size_t)i, 4);
            if (row_aid(cb.vals + cb.voff[i], cb.vlen[i]) != aid)
                return -2;
            if (aid >= lo && aid <= hi)
                rows_add(out, cb.vals + cb.voff[i], cb.vlen[i]);
        }
    }
    rc = store_iter_error(it);
    store_iter_colstats(it, whole, skipped);
    store_iter_close(it);
    return rc;
}

static bool same_rows(const rows_t *a, const rows_t *b)
{
    return a->count == b->count && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Row scan == column scan; with an aid range predicate too (blocks skipped). */
static int compare_scans(store_t *st, store_txn_t *t, uint64_t *whole_total, uint64_t *skipped_total)
{
    rows_t a = {0}, b = {0}, c = {0}, d = {0};
    uint64_t w, sk;
    int bad = 0;
    if (scan(st, t, false, NULL, INT64_MIN, INT64_MAX, &a, &w, &sk) != 0 ||
        scan(st, t, true, NULL, INT64_MIN, INT64_MAX, &b, &w, &sk) != 0)
        return 100;
    *whole_total += w;
    bad += !same_rows(&a, &b);
    store_colpred_t p = {.col = 0, .kind = STORE_COL_INT, .has_lo = true, .has_hi = true,
                         .lo = 1200, .hi = 1299};
    if (scan(st, t, false, NULL, 1200, 1299, &c, &w, &sk) != 0 ||
        scan(st, t, true, &p, 1200, 1299, &d, &w, &sk) != 0)
        return 100;
    *whole_total += w;
    *skipped_total += sk;
    bad += !same_rows(&c, &d);
    bad += c.count == 0;
    free(a.data);
    free(b.data);
    free(c.data);
    free(d.data);
    return bad;
}

TEST(column_scan_equals_row_scan_over_v1_v2_v3_memtable_and_intents)
{
    register_layout();
    store_t *st = open_store();
    uint64_t whole = 0, skipped = 0;
    /* version-1 files: the first load, flushed */
    sst_set_write_version(1);
    write_range(st, 0, 2000, 1, 0, false);
    flush_now(st);
    /* a version-2 file (no index flags: every block read with its keys) */
    sst_set_write_version(2);
    write_range(st, 2000, 3000, 1, 0, false);
    flush_now(st);
    sst_set_write_version(SST_FORMAT_VERSION);
    /* a version-3 file: new keys only (disjoint from the first files); its blocks are
     * entered lazily by the index and taken whole without decoding keys */
    write_range(st, 4000, 6000, 1, 0, false);
    flush_now(st);
    TEST_CHECK(compare_scans(st, NULL, &whole, &skipped) == 0);
    TEST_CHECK(whole > 0 && skipped > 0);
    /* updates and deletes over both, flushed; then more in the memtable */
    write_range(st, 500, 600, 1, 1, false);
    write_range(st, 700, 710, 1, 0, true);
    write_range(st, 4500, 5500, 7, 2, false);
    write_range(st, 5000, 5100, 3, 0, true);
    flush_now(st);
    write_range(st, 6000, 6100, 1, 0, false);
    write_range(st, 1250, 1260, 1, 3, false);
    write_range(st, 4800, 4810, 1, 0, true);
    TEST_CHECK(compare_scans(st, NULL, &whole, &skipped) == 0);
    /* own intents are visible to t, another transaction's are not */
    store_txn_t *mine = store_txn_begin(st, next_txn++);
    store_txn_t *other = store_txn_begin(st, next_txn++);
    strbuf_t sb;
    strbuf_init(&sb);
    uint64_t blk;
    for (int i = 1270; i < 1290; i++) {
        uint8_t k[8];
        make_key(i, k);
        make_row(i, 9, &sb);
        TEST_REQUIRE(store_write(st, i % 2 ? mine : other, i % 3 ? STORE_W_PUT : STORE_W_DELETE, CT_TABLE,
                                 k, 8, (const uint8_t *)sb.data, (uint32_t)sb.len, &blk) == STORE_OK);
    }
    TEST_CHECK(compare_scans(st, mine, &whole, &skipped) == 0);
    TEST_CHECK(compare_scans(st, NULL, &whole, &skipped) == 0);
    store_txn_abort(st, mine);
    store_txn_abort(st, other);
    /* a full merge: one file with several versions per key, memtable flushed too */
    uint64_t whole_before = whole;
    flush_now(st);
    store_compact_full(st);
    for (int i = 0; i < 100000 && st->sst_count > 1; i++)
        store_sync(st);
    settle(st);
    TEST_CHECK(st->sst_count == 1);
    TEST_CHECK(compare_scans(st, NULL, &whole, &skipped) == 0);
    TEST_CHECK(whole > whole_before);
    strbuf_free(&sb);
    settle(st);
    store_close(st);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
