/*
 * sst.c -- sorted-table writer and reader (contract: shards/sst.h; format:
 * shards/README.md, "Sorted table format").
 *
 * Writer: versions are gathered column by column for the current block (table ids,
 * key end offsets and key bytes; commit timestamps and flags; value offsets, lengths
 * and 8-padded value bytes). A block is cut between keys once its raw size reaches
 * LIMIT_SST_BLOCK_BYTES; each of its three chunks is compressed with zstd on its own,
 * the block header carries the sizes, min/max commit_ts and a CRC32C of everything
 * after the CRC. One key hash per distinct key feeds the bloom filter built at finish.
 * Reader: footer, index and bloom are read and checked at open; each block is read,
 * checked and decoded into one 8-aligned allocation on demand.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/assert.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/rt.h"
#include "shards/cache.h"
#include "shards/sst.h"
#include "shards/store_int.h"

#define SST_BLOOM_PROBES 7
#define SST_INDEX_ENT_BYTES 48
#define SST_COLSTAT_BYTES 24

static void sst_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void sst_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t sst_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t sst_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static size_t sst_align8(size_t n) { return (n + 7) & ~(size_t)7; }

static bool sst_append(store_buf_t *b, const void *p, size_t n)
{
    if (!store__buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    return true;
}

static uint64_t sst_hash(uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)table_id * 0x9E3779B97F4A7C15ull);
    for (uint32_t i = 0; i < klen; i++) {
        h ^= key[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* ---- writer ---- */

enum { SST_C_TAB, SST_C_KEND, SST_C_KEY, SST_C_TS, SST_C_FLAGS, SST_C_VOFF, SST_C_VLEN,
       SST_C_VAL, SST_C_COUNT };

/* One column of the block being written (format 2). */
typedef struct sst_wcol {
    store_buf_t nulls;          /* one byte per version (1 = null), packed at the cut */
    store_buf_t data;           /* fixed: width bytes per version; var: the bytes */
    store_buf_t offs;           /* var: u32 end offset per version */
    uint32_t null_count;
    bool has_minmax, no_minmax; /* no_minmax: a NaN was seen */
    uint64_t min, max;          /* as int64 / uint64 / double bits, by kind */
} sst_wcol_t;

struct sst_writer {
    ZSTD_CCtx *zc;              /* reused for every chunk: a fresh context per call costs
                                 * more than compressing a 32 KiB chunk at level 1 */
    store_buf_t out;            /* bytes ready for the file */
    uint64_t file_off;          /* file offset of out.ptr[0] + out.len */
    store_buf_t col[SST_C_COUNT];   /* the current block, column by column */
    store_buf_t scratch, zbuf;
    uint32_t n, tombs;
    uint64_t min_ts, max_ts;
    bool has_last;
    uint32_t last_table;
    uint64_t last_ts;
    store_buf_t last_key, first_key;
    uint32_t first_table;
    store_buf_t index;          /* encoded index entries */
    uint32_t blocks;
    uint64_t *hashes;
    size_t hashes_count, hashes_cap;
    uint64_t entries, max_commit_ts;
    bool finished;
    /* Format 2: the current block column by column, while every value of it splits
     * by its table's layout and joins back to the same bytes (else it is opaque). */
    bool lay_ok;
    store_layout_t lay;
    const store_row_codec_t *codec;
    sst_wcol_t *wc;             /* lay.ncols columns */
    uint32_t wc_cap;
    store_cell_t *cells;
    store_buf_t join;
    uint32_t version;           /* format written (SST_FORMAT_VERSION, tests: 1 or 2) */
    bool multi;                 /* the current block holds a key with several versions */
};

static uint32_t sst_write_version = SST_FORMAT_VERSION;

void sst_set_write_version(uint32_t version)
{
    ASSERT(version >= SST_FORMAT_VERSION_MIN && version <= SST_FORMAT_VERSION);
    sst_write_version = version;
}

sst_writer_t *sst_writer_new(void)
{
    sst_writer_t *w = rt_calloc(1, sizeof *w);
    if (w && !(w->zc = ZSTD_createCCtx())) {
        rt_free(w);
        return NULL;
    }
    if (w) {
        w->version = sst_write_version;
        const store_row_codec_t *codec = store_row_codec();
        w->codec = codec && codec->split && codec->join ? codec : NULL;
    }
    return w;
}

void sst_writer_free(sst_writer_t *w)
{
    if (!w)
        return;
    ZSTD_freeCCtx(w->zc);
    rt_free(w->out.ptr);
    for (int i = 0; i < SST_C_COUNT; i++)
        rt_free(w->col[i].ptr);
    rt_free(w->scratch.ptr);
    rt_free(w->zbuf.ptr);
    rt_free(w->last_key.ptr);
    rt_free(w->first_key.ptr);
    rt_free(w->index.ptr);
    rt_free(w->hashes);
    for (uint32_t c = 0; c < w->wc_cap; c++) {
        rt_free(w->wc[c].nulls.ptr);
        rt_free(w->wc[c].data.ptr);
        rt_free(w->wc[c].offs.ptr);
    }
    rt_free(w->wc);
    rt_free(w->cells);
    rt_free(w->join.ptr);
    rt_free(w);
}

/* Compresses scratch onto the end of dst; *clen gets the compressed size. */
static bool sst_compress_to(sst_writer_t *w, store_buf_t *dst, uint32_t *clen)
{
    size_t bound = ZSTD_compressBound(w->scratch.len);
    if (!store__buf_reserve(dst, bound))
        return false;
    size_t r = ZSTD_compressCCtx(w->zc, dst->ptr + dst->len, bound, w->scratch.ptr,
                                 w->scratch.len, LIMIT_SST_ZSTD_LEVEL);
    if (ZSTD_isError(r))
        return false;
    dst->len += r;
    *clen = (uint32_t)r;
    return true;
}

static bool sst_compress(sst_writer_t *w, uint32_t *clen) { return sst_compress_to(w, &w->out, clen); }

/* ---- format 2: column chunks ---- */

/* A fixed-width cell as the 8-byte min/max form of its kind (int64, uint64 or double
 * bits); *nan set for a NaN. The file is little-endian, as is every supported host. */
static uint64_t sst_cell_u64(const uint8_t *p, uint8_t width, uint8_t kind, bool *nan)
{
    uint64_t u = 0;
    memcpy(&u, p, width);
    if (kind == STORE_COL_INT && width < 8) {
        unsigned shift = 64 - 8u * width;
        u = (uint64_t)((int64_t)(u << shift) >> shift);
    } else if (kind == STORE_COL_FLOAT) {
        double d;
        if (width == 4) {
            float f;
            memcpy(&f, p, 4);
            d = f;
        } else {
            memcpy(&d, p, 8);
        }
        if (d != d)
            *nan = true;
        memcpy(&u, &d, 8);
    }
    return u;
}

bool sst_stat_less(uint8_t kind, uint64_t a, uint64_t b)
{
    if (kind == STORE_COL_INT)
        return (int64_t)a < (int64_t)b;
    if (kind == STORE_COL_FLOAT) {
        double x, y;
        memcpy(&x, &a, 8);
        memcpy(&y, &b, 8);
        return x < y;
    }
    return a < b;
}

/* Starts the column state of a new block for table_id: lay_ok when it has a layout. */
static int sst_layout_begin(sst_writer_t *w, uint32_t table_id)
{
    w->lay_ok = false;
    if (w->version < 2 || !w->codec || !store_layout_get(table_id, &w->lay))
        return 0;
    uint32_t nc = w->lay.ncols;
    if (nc > w->wc_cap) {
        sst_wcol_t *wc = rt_realloc(w->wc, nc * sizeof *wc);
        if (!wc)
            return STORE_ENOMEM;
        memset(wc + w->wc_cap, 0, (nc - w->wc_cap) * sizeof *wc);
        w->wc = wc;
        store_cell_t *cells = rt_realloc(w->cells, nc * sizeof *cells);
        if (!cells)
            return STORE_ENOMEM;
        w->cells = cells;
        w->wc_cap = nc;
    }
    for (uint32_t c = 0; c < nc; c++) {
        sst_wcol_t *k = &w->wc[c];
        k->nulls.len = k->data.len = k->offs.len = 0;
        k->null_count = 0;
        k->has_minmax = k->no_minmax = false;
    }
    w->lay_ok = true;
    return 0;
}

static bool sst_has_layout(const sst_writer_t *w, uint32_t table_id)
{
    store_layout_t l;
    return w->codec && store_layout_get(table_id, &l);
}

/* Adds version e to the block's columns, or gives the columns up (the block is then
 * written opaque) when its value does not split and join back to the same bytes. */
static int sst_layout_add(sst_writer_t *w, const sst_entry_t *e)
{
    if (!w->lay_ok)
        return 0;
    uint32_t nc = w->lay.ncols;
    store_cell_t *cells = w->cells;
    if (e->tomb) {
        for (uint32_t c = 0; c < nc; c++)
            cells[c] = (store_cell_t){NULL, 0, true};
    } else {
        if (w->codec->split(e->val, e->vlen, nc, w->lay.width, cells) != 0)
            goto give_up;
        for (uint32_t c = 0; c < nc; c++)
            if (!cells[c].null && w->lay.width[c] && cells[c].len != w->lay.width[c])
                goto give_up;
        if (w->codec->join(nc, w->lay.width, cells, NULL, 0) != (int64_t)e->vlen)
            goto give_up;
        w->join.len = 0;
        if (!store__buf_reserve(&w->join, e->vlen ? e->vlen : 1))
            return STORE_ENOMEM;
        if (w->codec->join(nc, w->lay.width, cells, w->join.ptr, e->vlen) != (int64_t)e->vlen ||
            (e->vlen && memcmp(w->join.ptr, e->val, e->vlen) != 0))
            goto give_up;
    }
    static const uint8_t zero[8];
    for (uint32_t c = 0; c < nc; c++) {
        sst_wcol_t *k = &w->wc[c];
        uint8_t wd = w->lay.width[c], isnull = cells[c].null ? 1 : 0;
        if (!sst_append(&k->nulls, &isnull, 1))
            return STORE_ENOMEM;
        k->null_count += isnull;
        if (wd) {
            if (!sst_append(&k->data, isnull ? zero : cells[c].ptr, wd))
                return STORE_ENOMEM;
            if (isnull || w->lay.kind[c] == STORE_COL_BYTES)
                continue;
            bool nan = false;
            uint64_t v = sst_cell_u64(cells[c].ptr, wd, w->lay.kind[c], &nan);
            if (nan)
                k->no_minmax = true;
            if (!k->has_minmax) {
                k->min = k->max = v;
                k->has_minmax = true;
            } else {
                if (sst_stat_less(w->lay.kind[c], v, k->min))
                    k->min = v;
                if (sst_stat_less(w->lay.kind[c], k->max, v))
                    k->max = v;
            }
        } else {
            if (!isnull && !sst_append(&k->data, cells[c].ptr, cells[c].len))
                return STORE_ENOMEM;
            uint32_t end = (uint32_t)k->data.len;
            if (!sst_append(&k->offs, &end, 4))
                return STORE_ENOMEM;
        }
    }
    return 0;
give_up:
    w->lay_ok = false;
    return 0;
}

/* Gathers column c of the block into scratch: the null bitmap padded to 8 bytes, then
 * the dense values (fixed width) or the end offsets and the bytes (variable). */
static bool sst_gather_col(sst_writer_t *w, uint32_t c)
{
    const sst_wcol_t *k = &w->wc[c];
    size_t bm = sst_align8((w->n + 7) / 8);
    w->scratch.len = 0;
    if (!store__buf_reserve(&w->scratch, bm))
        return false;
    memset(w->scratch.ptr, 0, bm);
    for (uint32_t i = 0; i < w->n; i++)
        if (k->nulls.ptr[i])
            w->scratch.ptr[i / 8] |= (uint8_t)(1u << (i % 8));
    w->scratch.len = bm;
    if (!w->lay.width[c] && !sst_append(&w->scratch, k->offs.ptr, k->offs.len))
        return false;
    return sst_append(&w->scratch, k->data.ptr, k->data.len);
}

/* Writes chunk 2 as the column directory followed by the column chunks; *dir_raw and
 * *dir_comp get the directory's sizes. */
static bool sst_cut_columns(sst_writer_t *w, uint32_t *dir_raw, uint32_t *dir_comp)
{
    uint32_t nc = w->lay.ncols;
    size_t dlen = 8 + 12 * (size_t)nc;
    w->zbuf.len = 0;
    uint8_t *dir = rt_malloc(dlen);
    if (!dir)
        return false;
    sst_put32(dir, w->lay.version);
    sst_put32(dir + 4, nc);
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t comp;
        if (!sst_gather_col(w, c) || !sst_compress_to(w, &w->zbuf, &comp)) {
            rt_free(dir);
            return false;
        }
        uint8_t *d = dir + 8 + 12 * (size_t)c;
        d[0] = w->lay.width[c];
        d[1] = w->lay.kind[c];
        d[2] = d[3] = 0;
        sst_put32(d + 4, (uint32_t)w->scratch.len);
        sst_put32(d + 8, comp);
    }
    w->scratch.len = 0;
    bool ok = sst_append(&w->scratch, dir, dlen) && sst_compress(w, dir_comp) &&
              sst_append(&w->out, w->zbuf.ptr, w->zbuf.len);
    rt_free(dir);
    *dir_raw = (uint32_t)dlen;
    return ok;
}

/* The per-column statistics of the block's index entry: count, then per column kind,
 * flags (bit 0: min/max valid), zero u16, null count, min, max. */
static bool sst_index_stats(sst_writer_t *w, bool columnar)
{
    uint32_t nc = columnar ? w->lay.ncols : 0;
    if (w->version < 2)
        return true;
    if (w->version >= 3) {
        /* version 3: block flags (bit 0: one version per key) and tombstone count */
        uint32_t v3[2] = {w->multi ? 0u : SST_BFLAG_ONE_PER_KEY, w->tombs};
        if (!sst_append(&w->index, v3, 8))
            return false;
    }
    if (!sst_append(&w->index, &nc, 4))
        return false;
    for (uint32_t c = 0; c < nc; c++) {
        const sst_wcol_t *k = &w->wc[c];
        uint8_t e[SST_COLSTAT_BYTES] = {0};
        e[0] = w->lay.kind[c];
        e[1] = k->has_minmax && !k->no_minmax ? 1 : 0;
        sst_put32(e + 4, k->null_count);
        sst_put64(e + 8, e[1] ? k->min : 0);
        sst_put64(e + 16, e[1] ? k->max : 0);
        if (!sst_append(&w->index, e, sizeof e))
            return false;
    }
    return true;
}

/* Gathers the columns of chunk c (0 keys, 1 meta, 2 values) into scratch. */
static bool sst_gather(sst_writer_t *w, int c)
{
    static const int cols[3][4] = {{SST_C_TAB, SST_C_KEND, SST_C_KEY, -1},
                                   {SST_C_TS, SST_C_FLAGS, -1, -1},
                                   {SST_C_VOFF, SST_C_VLEN, SST_C_VAL, -1}};
    w->scratch.len = 0;
    for (int i = 0; i < 4 && cols[c][i] >= 0; i++) {
        const store_buf_t *b = &w->col[cols[c][i]];
        if (!sst_append(&w->scratch, b->ptr, b->len))
            return false;
    }
    return true;
}

static int sst_cut_block(sst_writer_t *w)
{
    if (w->n == 0)
        return 0;
    size_t hdr_at = w->out.len;
    if (!store__buf_reserve(&w->out, SST_BLOCK_HDR_BYTES))
        return STORE_ENOMEM;
    w->out.len += SST_BLOCK_HDR_BYTES;
    bool columnar = w->lay_ok;
    uint32_t raw[3], comp[3];
    for (int c = 0; c < 3; c++) {
        if (c == 2 && columnar) {
            if (!sst_cut_columns(w, &raw[2], &comp[2]))
                return STORE_ENOMEM;
            continue;
        }
        if (!sst_gather(w, c) || !sst_compress(w, &comp[c]))
            return STORE_ENOMEM;
        raw[c] = (uint32_t)w->scratch.len;
    }
    uint8_t *h = w->out.ptr + hdr_at;
    uint32_t blen = (uint32_t)(w->out.len - hdr_at);
    sst_put32(h + 4, w->n);
    for (int c = 0; c < 3; c++) {
        sst_put32(h + 8 + 4 * c, raw[c]);
        sst_put32(h + 20 + 4 * c, comp[c]);
    }
    sst_put64(h + 32, w->min_ts);
    sst_put64(h + 40, w->max_ts);
    sst_put32(h + 48, w->tombs);
    sst_put32(h + 52, columnar ? w->lay.ncols : 0);
    sst_put32(h, crc32c(0, h + 4, blen - 4));
    /* Index entry: where, how many, ts range, first and last key, column stats. */
    uint8_t e[SST_INDEX_ENT_BYTES];
    sst_put64(e, w->file_off + hdr_at);
    sst_put32(e + 8, blen);
    sst_put32(e + 12, w->n);
    sst_put64(e + 16, w->min_ts);
    sst_put64(e + 24, w->max_ts);
    sst_put32(e + 32, w->first_table);
    sst_put32(e + 36, (uint32_t)w->first_key.len);
    sst_put32(e + 40, w->last_table);
    sst_put32(e + 44, (uint32_t)w->last_key.len);
    if (!sst_append(&w->index, e, sizeof e) ||
        !sst_append(&w->index, w->first_key.ptr, w->first_key.len) ||
        !sst_append(&w->index, w->last_key.ptr, w->last_key.len) ||
        !sst_index_stats(w, columnar))
        return STORE_ENOMEM;
    w->blocks++;
    for (int i = 0; i < SST_C_COUNT; i++)
        w->col[i].len = 0;
    w->n = w->tombs = 0;
    w->lay_ok = false;
    w->multi = false;
    return 0;
}

static size_t sst_block_raw(const sst_writer_t *w)
{
    size_t n = 0;
    for (int i = 0; i < SST_C_COUNT; i++)
        n += w->col[i].len;
    return n;
}

int sst_writer_add(sst_writer_t *w, const sst_entry_t *e)
{
    ASSERT(!w->finished);
    int c = w->has_last ? memtable_cmp(w->last_table, w->last_key.ptr, (uint32_t)w->last_key.len,
                                       e->table_id, e->key, e->klen)
                        : -1;
    /* Equal timestamps on one key keep the caller's order (the memtable's: newest
     * applied first), and readers take the first. */
    if (c > 0 || (c == 0 && e->commit_ts > w->last_ts) || e->klen > LIMIT_KEY_BYTES)
        return STORE_EINVAL;
    if (c == 0)
        w->multi = true;    /* a key's versions are never cut apart: this block's */
    if (c != 0) {
        /* Format 2 blocks hold one table when it has a layout (its columns). */
        bool table_cut = w->n && e->table_id != w->last_table &&
                         (w->lay_ok || sst_has_layout(w, w->last_table) ||
                          sst_has_layout(w, e->table_id));
        if (w->n && (sst_block_raw(w) >= LIMIT_SST_BLOCK_BYTES || table_cut)) {
            int rc = sst_cut_block(w);
            if (rc)
                return rc;
        }
        if (w->hashes_count == w->hashes_cap) {
            size_t cap = w->hashes_cap ? w->hashes_cap * 2 : 1024;
            uint64_t *nh = rt_realloc(w->hashes, cap * sizeof *nh);
            if (!nh)
                return STORE_ENOMEM;
            w->hashes = nh;
            w->hashes_cap = cap;
        }
        w->hashes[w->hashes_count++] = sst_hash(e->table_id, e->key, e->klen);
        w->last_key.len = 0;
        if (!sst_append(&w->last_key, e->key, e->klen))
            return STORE_ENOMEM;
        w->last_table = e->table_id;
        w->has_last = true;
    }
    if (w->n == 0) {
        w->first_key.len = 0;
        if (!sst_append(&w->first_key, e->key, e->klen))
            return STORE_ENOMEM;
        w->first_table = e->table_id;
        w->min_ts = w->max_ts = e->commit_ts;
        int rc = sst_layout_begin(w, e->table_id);
        if (rc)
            return rc;
    }
    int lrc = sst_layout_add(w, e);
    if (lrc)
        return lrc;
    w->last_ts = e->commit_ts;
    uint32_t kend = (uint32_t)(w->col[SST_C_KEY].len + e->klen);
    uint32_t voff = (uint32_t)w->col[SST_C_VAL].len, vlen = e->tomb ? 0 : e->vlen;
    uint8_t flags = e->tomb ? 1 : 0;
    static const uint8_t zero[8];
    if (!sst_append(&w->col[SST_C_TAB], &e->table_id, 4) ||
        !sst_append(&w->col[SST_C_KEND], &kend, 4) ||
        !sst_append(&w->col[SST_C_KEY], e->key, e->klen) ||
        !sst_append(&w->col[SST_C_TS], &e->commit_ts, 8) ||
        !sst_append(&w->col[SST_C_FLAGS], &flags, 1) ||
        !sst_append(&w->col[SST_C_VOFF], &voff, 4) ||
        !sst_append(&w->col[SST_C_VLEN], &vlen, 4) ||
        !sst_append(&w->col[SST_C_VAL], e->val, vlen) ||
        !sst_append(&w->col[SST_C_VAL], zero, sst_align8(vlen) - vlen))
        return STORE_ENOMEM;
    if (e->commit_ts < w->min_ts)
        w->min_ts = e->commit_ts;
    if (e->commit_ts > w->max_ts)
        w->max_ts = e->commit_ts;
    if (e->commit_ts > w->max_commit_ts)
        w->max_commit_ts = e->commit_ts;
    w->tombs += flags;
    w->n++;
    w->entries++;
    return 0;
}

void sst_writer_take(const sst_writer_t *w, const uint8_t **buf, size_t *len)
{
    *buf = w->out.ptr;
    *len = w->out.len;
}

void sst_writer_consume(sst_writer_t *w)
{
    w->file_off += w->out.len;
    w->out.len = 0;
}

uint64_t sst_writer_entries(const sst_writer_t *w) { return w->entries; }

void sst_writer_set_version(sst_writer_t *w, uint32_t version)
{
    ASSERT(version >= SST_FORMAT_VERSION_MIN && version <= SST_FORMAT_VERSION);
    w->version = version;
}

int sst_writer_finish(sst_writer_t *w)
{
    int rc = sst_cut_block(w);
    if (rc)
        return rc;
    /* Bloom filter: crc, probes, bit count, zero, bits. */
    uint64_t nbits = (uint64_t)w->hashes_count * LIMIT_SST_BLOOM_BITS_PER_KEY;
    nbits = nbits < 64 ? 64 : (nbits + 63) & ~63ull;
    uint64_t bloom_off = w->file_off + w->out.len;
    size_t bloom_len = 16 + nbits / 8;
    if (!store__buf_reserve(&w->out, bloom_len))
        return STORE_ENOMEM;
    uint8_t *b = w->out.ptr + w->out.len;
    memset(b, 0, bloom_len);
    sst_put32(b + 4, SST_BLOOM_PROBES);
    sst_put64(b + 8, nbits);
    for (size_t i = 0; i < w->hashes_count; i++) {
        uint64_t h1 = w->hashes[i], h2 = (h1 >> 33) | 1;
        for (int k = 0; k < SST_BLOOM_PROBES; k++) {
            uint64_t bit = (h1 + (uint64_t)k * h2) % nbits;
            b[16 + bit / 8] |= (uint8_t)(1u << (bit % 8));
        }
    }
    sst_put32(b, crc32c(0, b + 4, bloom_len - 4));
    w->out.len += bloom_len;
    /* Index: crc, count, entries. */
    uint64_t index_off = w->file_off + w->out.len;
    size_t index_len = 8 + w->index.len;
    if (!store__buf_reserve(&w->out, index_len + SST_FOOTER_BYTES))
        return STORE_ENOMEM;
    uint8_t *x = w->out.ptr + w->out.len;
    sst_put32(x + 4, w->blocks);
    if (w->index.len)
        memcpy(x + 8, w->index.ptr, w->index.len);
    sst_put32(x, crc32c(0, x + 4, index_len - 4));
    w->out.len += index_len;
    uint8_t *f = w->out.ptr + w->out.len;
    memset(f, 0, SST_FOOTER_BYTES);
    sst_put64(f, index_off);
    sst_put32(f + 8, (uint32_t)index_len);
    sst_put32(f + 12, (uint32_t)bloom_len);
    sst_put64(f + 16, bloom_off);
    sst_put64(f + 24, w->entries);
    sst_put64(f + 32, w->max_commit_ts);
    sst_put32(f + 40, w->blocks);
    sst_put32(f + 44, w->version);
    sst_put32(f + 48, crc32c(0, f, 48));
    memcpy(f + 56, SST_MAGIC, 8);
    w->out.len += SST_FOOTER_BYTES;
    w->finished = true;
    return 0;
}

static int sst_pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t r = pwrite(fd, p, n, (off_t)off);
        if (r <= 0)
            return STORE_EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int sst_build(const char *path, int (*next)(void *arg, sst_entry_t *e), void *arg)
{
    int rc = STORE_ENOMEM, fd = -1;
    sst_writer_t *w = sst_writer_new();
    if (!w)
        return STORE_ENOMEM;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = STORE_EIO;
        goto fail;
    }
    sst_entry_t e;
    const uint8_t *buf;
    size_t len;
    while ((rc = next(arg, &e)) == 1) {
        if ((rc = sst_writer_add(w, &e)) != 0)
            goto fail;
        sst_writer_take(w, &buf, &len);
        if (len >= LIMIT_FLUSH_SLICE_BYTES) {
            if ((rc = sst_pwrite_all(fd, buf, len, w->file_off)) != 0)
                goto fail;
            sst_writer_consume(w);
        }
    }
    if (rc < 0 || (rc = sst_writer_finish(w)) != 0)
        goto fail;
    sst_writer_take(w, &buf, &len);
    if ((rc = sst_pwrite_all(fd, buf, len, w->file_off)) != 0)
        goto fail;
    rc = fsync(fd) == 0 ? 0 : STORE_EIO;
fail:
    if (fd >= 0)
        close(fd);
    sst_writer_free(w);
    return rc;
}

/* ---- reader ---- */

typedef struct sst_bidx {
    uint64_t off, min_ts, max_ts;
    uint32_t len, n, first_table, first_klen, last_table, last_klen;
    const uint8_t *first_key, *last_key;
    uint32_t ncols;             /* format 2: columns with stats (0 = opaque block) */
    const uint8_t *stats;       /* ncols entries of SST_COLSTAT_BYTES */
    uint32_t bflags, tombs;     /* format 3 (bflags 0 before: nothing known) */
} sst_bidx_t;

struct sst {
    int fd;
    int refs;                   /* the store's set, iterators, a compaction */
    bool obsolete;              /* replaced by a durable edit: unlink at the last close */
    cache_t *cache;             /* the shard's block cache, or NULL */
    uint64_t file_no, entries, max_commit_ts, file_bytes;
    uint64_t stamp_ts;          /* committed spilled run: every version reads at this ts */
    uint32_t blocks, version;
    uint8_t *index_raw, *bloom;
    sst_bidx_t *idx;
    uint64_t bloom_bits;
    uint32_t bloom_probes;
    char path[512];
    char err[640];
};

/* A column chunk of a columnar block: where it lies in the block as read, and its
 * decoded form once a reader asked for it. */
typedef struct sst_ccol {
    uint32_t src, comp, raw;
    uint8_t *mem;               /* decoded chunk (own allocation), or NULL */
} sst_ccol_t;

struct sst_block {
    int refs;                   /* holders: readers and the block cache */
    uint32_t n;
    size_t bytes;               /* size of this allocation (cache accounting) */
    const uint32_t *tab, *kend, *voff, *vlen;
    const uint64_t *ts;
    const uint8_t *key, *flags, *vals;
    /* format 2 columnar blocks: the columns (inside mem), and what makes the block
     * consumable whole (sst_block_whole) */
    uint32_t ncols, layout_version, tombs;
    bool one_per_key;
    uint64_t max_ts;
    store_col_t *cols;
    uint32_t *sel, nsel;        /* columnar: each key's newest version unless a tombstone */
    uint8_t *rows;              /* columnar: the joined values (sst_block_join), or NULL */
    uint8_t *one;               /* columnar: the one value sst_get joined last */
    size_t one_cap;
    /* columnar: the column chunks stay compressed in disk (the block as read) until a
     * reader needs them (sst_block_need); disk is freed once all are decoded */
    uint8_t *disk;
    size_t disk_bytes;
    sst_ccol_t *cc;
    uint32_t ncols_decoded;
    bool keyed;                 /* keys and metadata decoded (else see sst_block_keys) */
    uint32_t raw01[2], comp01[2];    /* chunks 0 and 1 of a columnar block, for that */
    cache_t *cache;             /* where the block may be cached: growth is reported */
    uint64_t file_no;
    uint32_t block_no;
    _Alignas(16) uint8_t mem[];
};

/* The text of this thread's most recent sorted-table failure (store_last_error). */
static __thread char sst__last_err[640];

const char *sst_last_error(void) { return sst__last_err; }

static int sst_fail(sst_t *s, int rc, const char *what, long block)
{
    if (block >= 0)
        snprintf(s->err, sizeof s->err, "sorted table %s: %s in block %ld", s->path, what, block);
    else
        snprintf(s->err, sizeof s->err, "sorted table %s: %s", s->path, what);
    memcpy(sst__last_err, s->err, sizeof sst__last_err);
    log_error("sst: %s", s->err);
    return rc;
}

static int sst_pread_all(int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0)
            return STORE_EIO;
        if (r == 0)
            return STORE_ECORRUPT;    /* shorter than the footer says */
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Parses the index block into s->idx. */
static int sst_parse_index(sst_t *s, size_t len)
{
    const uint8_t *p = s->index_raw + 8, *end = s->index_raw + len;
    if (sst_get32(s->index_raw + 4) != s->blocks)
        return STORE_ECORRUPT;
    s->idx = rt_calloc(s->blocks ? s->blocks : 1, sizeof *s->idx);
    if (!s->idx)
        return STORE_ENOMEM;
    for (uint32_t i = 0; i < s->blocks; i++) {
        if (end - p < SST_INDEX_ENT_BYTES)
            return STORE_ECORRUPT;
        sst_bidx_t *b = &s->idx[i];
        b->off = sst_get64(p);
        b->len = sst_get32(p + 8);
        b->n = sst_get32(p + 12);
        b->min_ts = sst_get64(p + 16);
        b->max_ts = sst_get64(p + 24);
        b->first_table = sst_get32(p + 32);
        b->first_klen = sst_get32(p + 36);
        b->last_table = sst_get32(p + 40);
        b->last_klen = sst_get32(p + 44);
        p += SST_INDEX_ENT_BYTES;
        if ((size_t)(end - p) < (size_t)b->first_klen + b->last_klen ||
            b->len < SST_BLOCK_HDR_BYTES)
            return STORE_ECORRUPT;
        b->first_key = p;
        b->last_key = p + b->first_klen;
        p += b->first_klen + b->last_klen;
        if (s->version >= 3) {
            if (end - p < 8)
                return STORE_ECORRUPT;
            b->bflags = sst_get32(p);
            b->tombs = sst_get32(p + 4);
            p += 8;
            if ((b->bflags & ~(uint32_t)SST_BFLAG_ONE_PER_KEY) || b->tombs > b->n)
                return STORE_ECORRUPT;
        }
        if (s->version >= 2) {
            if (end - p < 4)
                return STORE_ECORRUPT;
            b->ncols = sst_get32(p);
            p += 4;
            if (b->ncols > STORE_LAYOUT_MAX_COLS ||
                (size_t)(end - p) < (size_t)b->ncols * SST_COLSTAT_BYTES)
                return STORE_ECORRUPT;
            b->stats = p;
            p += (size_t)b->ncols * SST_COLSTAT_BYTES;
        }
    }
    return p == end ? 0 : STORE_ECORRUPT;
}

int sst_open(const char *path, uint64_t file_no, sst_t **out)
{
    sst_t *s = rt_calloc(1, sizeof *s);
    if (!s)
        return STORE_ENOMEM;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->file_no = file_no;
    int rc = STORE_EIO;
    struct stat sb;
    uint8_t f[SST_FOOTER_BYTES];
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &sb) != 0) {
        rc = sst_fail(s, STORE_EIO, strerror(errno), -1);
        goto fail;
    }
    uint64_t size = (uint64_t)sb.st_size;
    s->file_bytes = size;
    s->refs = 1;
    if (size < SST_FOOTER_BYTES || sst_pread_all(s->fd, f, sizeof f, size - sizeof f) != 0 ||
        memcmp(f + 56, SST_MAGIC, 8) != 0 || sst_get32(f + 48) != crc32c(0, f, 48)) {
        rc = sst_fail(s, STORE_ECORRUPT, "bad footer", -1);
        goto fail;
    }
    s->version = sst_get32(f + 44);
    if (s->version < SST_FORMAT_VERSION_MIN || s->version > SST_FORMAT_VERSION) {
        rc = sst_fail(s, STORE_ECORRUPT, "unknown format version", -1);
        goto fail;
    }
    uint64_t index_off = sst_get64(f), bloom_off = sst_get64(f + 16);
    uint32_t index_len = sst_get32(f + 8), bloom_len = sst_get32(f + 12);
    s->entries = sst_get64(f + 24);
    s->max_commit_ts = sst_get64(f + 32);
    s->blocks = sst_get32(f + 40);
    if (index_len < 8 || bloom_len < 16 || index_off + index_len > size - SST_FOOTER_BYTES ||
        bloom_off + bloom_len > index_off) {
        rc = sst_fail(s, STORE_ECORRUPT, "footer offsets out of range", -1);
        goto fail;
    }
    s->index_raw = rt_malloc(index_len);
    s->bloom = rt_malloc(bloom_len);
    if (!s->index_raw || !s->bloom) {
        rc = STORE_ENOMEM;
        goto fail;
    }
    if (sst_pread_all(s->fd, s->index_raw, index_len, index_off) != 0 ||
        sst_get32(s->index_raw) != crc32c(0, s->index_raw + 4, index_len - 4)) {
        rc = sst_fail(s, STORE_ECORRUPT, "bad checksum in the block index", -1);
        goto fail;
    }
    if (sst_pread_all(s->fd, s->bloom, bloom_len, bloom_off) != 0 ||
        sst_get32(s->bloom) != crc32c(0, s->bloom + 4, bloom_len - 4)) {
        rc = sst_fail(s, STORE_ECORRUPT, "bad checksum in the bloom filter", -1);
        goto fail;
    }
    s->bloom_probes = sst_get32(s->bloom + 4);
    s->bloom_bits = sst_get64(s->bloom + 8);
    if (s->bloom_bits == 0 || s->bloom_bits / 8 != bloom_len - 16u || s->bloom_probes > 64) {
        rc = sst_fail(s, STORE_ECORRUPT, "bad bloom filter header", -1);
        goto fail;
    }
    rc = sst_parse_index(s, index_len);
    if (rc) {
        rc = sst_fail(s, rc, "malformed block index", -1);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    sst_close(s);
    return rc;
}

void sst_ref(sst_t *s)
{
    ASSERT(s->refs > 0);
    s->refs++;
}

void sst_set_obsolete(sst_t *s) { s->obsolete = true; }
void sst_set_cache(sst_t *s, cache_t *c) { s->cache = c; }
uint64_t sst_file_bytes(const sst_t *s) { return s->file_bytes; }

void sst_close(sst_t *s)
{
    if (!s)
        return;
    ASSERT(s->refs >= 0);
    if (s->refs > 1) {
        s->refs--;
        return;
    }
    if (s->cache)
        cache_drop_file(s->cache, s->file_no);    /* its numbers are never reused */
    if (s->obsolete) {
        if (unlink(s->path) != 0)
            log_warn("sst: cannot remove replaced sorted table %s: %s (removed at the "
                     "next open)", s->path, strerror(errno));
        else
            log_debug("sst: removed replaced sorted table %s", s->path);
    }
    if (s->fd >= 0)
        close(s->fd);
    rt_free(s->index_raw);
    rt_free(s->bloom);
    rt_free(s->idx);
    rt_free(s);
}

uint64_t sst_file_no(const sst_t *s) { return s->file_no; }
uint64_t sst_entries(const sst_t *s) { return s->entries; }
/* Distinct keys, from the bloom filter's size (rounded up to 64 bits, so at most
 * 63 / LIMIT_SST_BLOOM_BITS_PER_KEY above the truth). */
uint64_t sst_keys_estimate(const sst_t *s) { return s->bloom_bits / LIMIT_SST_BLOOM_BITS_PER_KEY; }
uint32_t sst_blocks(const sst_t *s) { return s->blocks; }
const char *sst_error(const sst_t *s) { return s->err; }
void sst_block_ref(sst_block_t *b) { b->refs++; }
size_t sst_block_bytes(const sst_block_t *b) { return b->bytes; }

void sst_block_free(sst_block_t *b)
{
    if (b && --b->refs == 0) {
        rt_free(b->rows);
        rt_free(b->one);
        for (uint32_t c = 0; b->cc && c < b->ncols; c++)
            rt_free(b->cc[c].mem);
        rt_free(b->disk);
        rt_free(b);
    }
}

/* The block's decoded size changed by delta: its cache entry (if any) follows. */
static void sst_block_grew(sst_block_t *b, size_t plus, size_t minus)
{
    b->bytes = b->bytes + plus - minus;
    if (b->cache)
        cache_resize(b->cache, b->file_no, b->block_no, b);
}

static int sst_block_keys(sst_t *s, sst_block_t *b);

/* Joins every value of a columnar block back into a value chunk like format 1's
 * (offsets, lengths, 8-padded bytes) in a separate allocation, once: the rows a
 * format-1 reader would have seen, byte for byte. Not counted in the block's cache
 * bytes (shards/README.md, known limits). 0 or STORE_ENOMEM / STORE_ECORRUPT. */
static void sst_block_cells(const sst_block_t *b, uint32_t j, store_cell_t *cells)
{
    for (uint32_t c = 0; c < b->ncols; c++) {
        const store_col_t *k = &b->cols[c];
        store_cell_t *cell = &cells[c];
        cell->null = k->nulls[j / 8] >> (j % 8) & 1;
        if (cell->null) {
            cell->ptr = NULL;
            cell->len = 0;
        } else if (k->width) {
            cell->ptr = k->data + (size_t)k->width * j;
            cell->len = k->width;
        } else {
            uint32_t start = j ? k->ends[j - 1] : 0;
            cell->ptr = k->data + start;
            cell->len = k->ends[j] - start;
        }
    }
}

/* Joins version j's value alone into b->one (point lookups: a lookup needs one row,
 * not the block's). The value stays valid until the next sst_get on this block: the
 * store copies it out before another lookup can run (store__handout). */
static int sst_block_join_one(sst_t *s, sst_block_t *b, uint32_t j, sst_entry_t *e)
{
    const store_row_codec_t *codec = store_row_codec();
    if (!codec || !codec->join)
        return sst_fail(s, STORE_ECORRUPT, "column chunks do not join into rows", b->block_no);
    int rc = sst_block_need(s, b, NULL);
    if (rc)
        return rc;
    store_cell_t cells[STORE_LAYOUT_MAX_COLS];
    uint8_t widths[STORE_LAYOUT_MAX_COLS];
    for (uint32_t c = 0; c < b->ncols; c++)
        widths[c] = b->cols[c].width;
    sst_block_cells(b, j, cells);
    int64_t len = codec->join(b->ncols, widths, cells, NULL, 0);
    if (len < 0 || len > UINT32_MAX)
        return sst_fail(s, STORE_ECORRUPT, "column chunks do not join into rows", b->block_no);
    if ((size_t)len > b->one_cap) {
        uint8_t *p = rt_realloc(b->one, (size_t)len);
        if (!p)
            return STORE_ENOMEM;
        b->one = p;
        b->one_cap = (size_t)len;
    }
    if (codec->join(b->ncols, widths, cells, b->one, (size_t)len) != len)
        return sst_fail(s, STORE_ECORRUPT, "column chunks do not join into rows", b->block_no);
    e->val = b->one;
    e->vlen = (uint32_t)len;
    return 0;
}

static int sst_block_join_rows(sst_t *s, sst_block_t *b)
{
    const store_row_codec_t *codec = store_row_codec();
    uint32_t n = b->n, ncc = b->ncols;
    if (!codec || !codec->join)
        return sst_fail(s, STORE_ECORRUPT, "column chunks do not join into rows", b->block_no);
    int rc = sst_block_keys(s, b);    /* the flags say which versions are tombstones */
    if (rc)
        return rc;
    rc = sst_block_need(s, b, NULL);
    if (rc)
        return rc;
    store_cell_t cells[STORE_LAYOUT_MAX_COLS];
    uint8_t widths[STORE_LAYOUT_MAX_COLS];
    for (uint32_t c = 0; c < ncc; c++)
        widths[c] = b->cols[c].width;
    uint64_t vtotal = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *voff = NULL, *vlen = NULL;
        uint8_t *vals = NULL;
        if (pass == 1) {
            if (vtotal > UINT32_MAX)
                return sst_fail(s, STORE_ECORRUPT, "column chunks do not join into rows", b->block_no);
            b->rows = rt_malloc(8 * (size_t)n + vtotal + 8);
            if (!b->rows)
                return STORE_ENOMEM;
            voff = (uint32_t *)(void *)b->rows;
            vlen = voff + n;
            vals = b->rows + 8 * (size_t)n;
        }
        uint64_t pos = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (pass == 1) {
                voff[j] = (uint32_t)pos;
                vlen[j] = 0;
            }
            if (b->flags[j] & 1)
                continue;
            for (uint32_t c = 0; c < ncc; c++) {
                const store_col_t *k = &b->cols[c];
                store_cell_t *cell = &cells[c];
                cell->null = k->nulls[j / 8] >> (j % 8) & 1;
                if (cell->null) {
                    cell->ptr = NULL;
                    cell->len = 0;
                } else if (k->width) {
                    cell->ptr = k->data + (size_t)k->width * j;
                    cell->len = k->width;
                } else {
                    uint32_t start = j ? k->ends[j - 1] : 0;
                    cell->ptr = k->data + start;
                    cell->len = k->ends[j] - start;
                }
            }
            size_t room = pass == 1 ? (size_t)(vtotal - pos) : 0;
            int64_t len = codec->join(ncc, widths, cells, pass == 1 ? vals + pos : NULL, room);
            if (len < 0 || len > UINT32_MAX || (pass == 1 && (uint64_t)len > room)) {
                rt_free(b->rows);
                b->rows = NULL;
                return sst_fail(s, STORE_ECORRUPT, "column chunks do not join into rows", b->block_no);
            }
            size_t padded = sst_align8((size_t)len);
            if (pass == 1) {
                vlen[j] = (uint32_t)len;
                memset(vals + pos + len, 0, padded - (size_t)len);
            }
            pos += padded;
        }
        if (pass == 0)
            vtotal = pos;
        else {
            b->voff = voff;
            b->vlen = vlen;
            b->vals = vals;
        }
    }
    /* the joined rows count in the block's size (and its cache entry) */
    sst_block_grew(b, 8 * (size_t)n + vtotal + 8, 0);
    return 0;
}

int sst_block_join(sst_t *s, sst_block_t *b)
{
    if (b->vals || !b->ncols)
        return 0;
    return sst_block_join_rows(s, b);
}

uint64_t sst_max_commit_ts(const sst_t *s) { return s->max_commit_ts; }

void sst_set_stamp(sst_t *s, uint64_t ts)
{
    s->stamp_ts = ts;
    s->max_commit_ts = ts;
}

uint64_t sst_stamp(const sst_t *s) { return s->stamp_ts; }

bool sst_may_contain(const sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    uint64_t h1 = sst_hash(table_id, key, klen), h2 = (h1 >> 33) | 1;
    const uint8_t *bits = s->bloom + 16;
    for (uint32_t k = 0; k < s->bloom_probes; k++) {
        uint64_t bit = (h1 + (uint64_t)k * h2) % s->bloom_bits;
        if (!(bits[bit / 8] & (1u << (bit % 8))))
            return false;
    }
    return true;
}

/* Tombstones, versions per key and newest ts of a decoded block (sst_block_whole). */
static void sst_block_summarize(sst_block_t *b)
{
    b->tombs = 0;
    b->max_ts = 0;
    b->one_per_key = true;
    b->nsel = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        b->tombs += b->flags[i] & 1;
        if (b->ts[i] > b->max_ts)
            b->max_ts = b->ts[i];
        bool same_key = false;
        if (i) {
            uint32_t s0 = i > 1 ? b->kend[i - 2] : 0, s1 = b->kend[i - 1];
            same_key = b->tab[i - 1] == b->tab[i] && s1 - s0 == b->kend[i] - s1 &&
                       memcmp(b->key + s0, b->key + s1, s1 - s0) == 0;
        }
        if (same_key)
            b->one_per_key = false;
        else if (b->sel && !(b->flags[i] & 1))
            b->sel[b->nsel++] = i;
    }
}

/* Checks the decoded column chunks of b against each other. */
static bool sst_block_valid(const sst_block_t *b, const uint32_t raw[3])
{
    uint32_t n = b->n;
    if (raw[0] < 8ull * n || raw[1] != 9ull * n || (b->vals && raw[2] < 8ull * n))
        return false;
    uint32_t prev = 0, klen_total = raw[0] - 8 * n, vtotal = raw[2] - 8 * n;
    for (uint32_t i = 0; i < n; i++) {
        if (b->kend[i] < prev || b->kend[i] > klen_total || b->kend[i] - prev > LIMIT_KEY_BYTES)
            return false;
        prev = b->kend[i];
        if (b->vals && (b->voff[i] % 8 || (uint64_t)b->voff[i] + b->vlen[i] > vtotal))
            return false;
    }
    return true;
}

/* One decompression context per thread (the shard's), made on first use and kept for
 * the thread's life: ZSTD_decompress would build and free one per chunk, which costs
 * about as much as decoding the chunk. */
static __thread ZSTD_DCtx *sst_dctx;

void sst_thread_release(void)
{
    ZSTD_freeDCtx(sst_dctx);
    sst_dctx = NULL;
}

/* Decompresses one chunk; false when it does not decode to exactly raw bytes. */
static bool sst_unzstd(uint8_t *dst, uint32_t raw, const uint8_t *src, uint32_t comp)
{
    size_t r = ZSTD_decompressDCtx(sst_dctx, dst, raw, src, comp);
    return !ZSTD_isError(r) && r == raw;
}

/* Once every chunk is decoded the block as read goes; the bytes freed. */
static size_t sst_block_drop_disk(sst_block_t *b)
{
    if (!b->disk || !b->keyed || b->ncols_decoded < b->ncols)
        return 0;
    size_t freed = b->disk_bytes;
    rt_free(b->disk);
    b->disk = NULL;
    b->disk_bytes = 0;
    return freed;
}

/* Decodes the keys and metadata of a columnar block read without them (the column
 * scan's blocks that the index shows whole) and checks them against what the index
 * promised. 0 or STORE_ECORRUPT / STORE_ENOMEM. */
static int sst_block_keys(sst_t *s, sst_block_t *b)
{
    if (b->keyed)
        return 0;
    if (!sst_dctx && !(sst_dctx = ZSTD_createDCtx()))
        return STORE_ENOMEM;
    size_t a0 = sst_align8(b->raw01[0]);
    const uint8_t *src = b->disk + SST_BLOCK_HDR_BYTES;
    if (!sst_unzstd(b->mem, b->raw01[0], src, b->comp01[0]) ||
        !sst_unzstd(b->mem + a0, b->raw01[1], src + b->comp01[0], b->comp01[1]))
        return sst_fail(s, STORE_ECORRUPT, "zstd chunk does not decode", b->block_no);
    uint32_t raw[3] = {b->raw01[0], b->raw01[1], 0};
    if (!sst_block_valid(b, raw))
        return sst_fail(s, STORE_ECORRUPT, "column chunks inconsistent", b->block_no);
    uint32_t nsel = b->nsel, tombs = b->tombs;
    uint64_t max_ts = b->max_ts;
    sst_block_summarize(b);
    if (!b->one_per_key || b->nsel != nsel || b->tombs != tombs || b->max_ts != max_ts)
        return sst_fail(s, STORE_ECORRUPT, "block does not match its index entry", b->block_no);
    b->keyed = true;
    size_t freed = sst_block_drop_disk(b);
    if (freed)
        sst_block_grew(b, 0, freed);
    return 0;
}

/* Decodes column c of columnar block b (from its compressed chunk in b->disk) and
 * checks it: sizes, end offsets, and that tombstones have no cell. 0 or
 * STORE_ECORRUPT / STORE_ENOMEM (reported against s, naming the block). */
static int sst_col_decode(sst_t *s, sst_block_t *b, uint32_t c)
{
    sst_ccol_t *cc = &b->cc[c];
    store_col_t *k = &b->cols[c];
    uint32_t n = b->n, craw = cc->raw;
    uint64_t bm = sst_align8((n + 7) / 8);
    char what[64];
    if (cc->mem)
        return 0;
    if (b->tombs && !b->keyed) {
        int rc = sst_block_keys(s, b);
        if (rc)
            return rc;
    }
    if (!sst_dctx && !(sst_dctx = ZSTD_createDCtx()))
        return STORE_ENOMEM;
    size_t bytes = sst_align8(craw) + 8;
    uint8_t *mem = rt_malloc(bytes);
    if (!mem)
        return STORE_ENOMEM;
    if (!sst_unzstd(mem, craw, b->disk + cc->src, cc->comp)) {
        rt_free(mem);
        snprintf(what, sizeof what, "zstd column chunk %u does not decode", c);
        return sst_fail(s, STORE_ECORRUPT, what, b->block_no);
    }
    bool ok;
    const uint8_t *data, *ends = NULL;
    if (k->width) {
        ok = craw == bm + (uint64_t)k->width * n;
        data = mem + bm;
    } else {
        ok = craw >= bm + 4ull * n;
        ends = mem + bm;
        data = ends + 4 * (size_t)n;
        uint32_t total = ok ? craw - (uint32_t)bm - 4 * n : 0, prev = 0;
        for (uint32_t j = 0; ok && j < n; j++) {
            uint32_t e = sst_get32(ends + 4 * (size_t)j);
            ok = e >= prev && e <= total;
            prev = e;
        }
        ok = ok && prev == total;
    }
    /* tombstones are null in every column; a null fixed-width cell is zeros (the
     * column scan's sums rely on it) */
    for (uint32_t j = 0; ok && b->tombs && j < n; j++)
        if ((b->flags[j] & 1) && !(mem[j / 8] >> (j % 8) & 1))
            ok = false;
    static const uint8_t zero8[8];
    for (uint32_t by = 0; ok && k->width && by < (n + 7) / 8; by++) {
        for (unsigned bits = mem[by]; ok && bits; bits &= bits - 1) {
            uint32_t j = by * 8 + (uint32_t)__builtin_ctz(bits);
            ok = j < n && memcmp(data + (size_t)k->width * j, zero8, k->width) == 0;
        }
    }
    if (!ok) {
        rt_free(mem);
        snprintf(what, sizeof what, "column chunk %u inconsistent", c);
        return sst_fail(s, STORE_ECORRUPT, what, b->block_no);
    }
    cc->mem = mem;
    k->nulls = mem;
    k->data = data;
    k->ends = (const uint32_t *)(const void *)ends;   /* 8-aligned: bm is */
    b->ncols_decoded++;
    sst_block_grew(b, bytes, sst_block_drop_disk(b));
    return 0;
}

int sst_block_need(sst_t *s, sst_block_t *b, const uint8_t *need)
{
    for (uint32_t c = 0; c < b->ncols && b->ncols_decoded < b->ncols; c++) {
        if (need && !(need[c / 8] >> (c % 8) & 1))
            continue;
        int rc = sst_col_decode(s, b, c);
        if (rc)
            return rc;
    }
    return 0;
}

/* A spilled run committed by a manifest stamp (shards/README.md, "Large
 * transactions"): it was written before its commit timestamp existed, so every
 * version reads at the stamp. Applied at decode, before the block enters the cache. */
static void sst_apply_stamp(const sst_t *s, sst_block_t *b)
{
    if (!s->stamp_ts)
        return;
    uint64_t *ts = (uint64_t *)(uintptr_t)b->ts;
    for (uint32_t k = 0; k < b->n; k++)
        ts[k] = s->stamp_ts;
}

/* Decodes a format-2 columnar block (header checked by the caller; ncc columns): keys
 * and metadata as in format 1 and the column directory; the column chunks stay
 * compressed in the block as read (disk, which b takes over) until a reader needs
 * them (sst_block_need): a column scan decodes only the columns it reads. A stamped
 * run (sst_apply_stamp) is never entered lazily: its index holds no commit times. */
static int sst_decode_columnar(sst_t *s, uint32_t i, uint8_t *disk, const uint32_t raw[3],
                               const uint32_t comp[3], uint32_t ncc, bool keys, sst_block_t **out)
{
    const sst_bidx_t *bi = &s->idx[i];
    const store_row_codec_t *codec = store_row_codec();
    uint32_t n = bi->n;
    size_t a0 = sst_align8(raw[0]), a1 = sst_align8(raw[1]);
    uint8_t *dir = NULL;
    sst_block_t *b = NULL;
    int rc = STORE_ENOMEM;
    if (!codec || !codec->join)
        return sst_fail(s, STORE_ECORRUPT, "columnar block but no row codec registered", i);
    if (raw[2] != 8 + 12ull * ncc || raw[0] < 8ull * n || raw[1] != 9ull * n)
        return sst_fail(s, STORE_ECORRUPT, "column chunks inconsistent", i);
    size_t a_cols = sst_align8(ncc * sizeof(store_col_t));
    size_t a_cc = sst_align8(ncc * sizeof(sst_ccol_t));
    size_t bytes = sizeof *b + a0 + a1 + a_cols + a_cc + sst_align8(4 * (size_t)n) + 8;
    dir = rt_malloc(raw[2]);
    b = rt_malloc(bytes);
    if (!dir || !b)
        goto fail;
    memset(b, 0, sizeof *b);
    b->refs = 1;
    const uint8_t *src = disk + SST_BLOCK_HDR_BYTES;
    /* Without keys only when the index shows every version a visible row (version 3:
     * one version per key, no tombstone): keys and metadata are then needed only if
     * the block is not consumed whole (sst_block_keys). */
    bool lazy = !keys && s->version >= 3 && (bi->bflags & SST_BFLAG_ONE_PER_KEY) && bi->tombs == 0 &&
                !s->stamp_ts;
    if ((!lazy && (!sst_unzstd(b->mem, raw[0], src, comp[0]) ||
                   !sst_unzstd(b->mem + a0, raw[1], src + comp[0], comp[1]))) ||
        !sst_unzstd(dir, raw[2], src + comp[0] + comp[1], comp[2])) {
        rc = sst_fail(s, STORE_ECORRUPT, "zstd chunk does not decode", i);
        goto fail;
    }
    size_t at = SST_BLOCK_HDR_BYTES + (size_t)comp[0] + comp[1] + comp[2];
    if (sst_get32(dir + 4) != ncc) {
        rc = sst_fail(s, STORE_ECORRUPT, "column directory inconsistent", i);
        goto fail;
    }
    uint8_t *colmem = b->mem + a0 + a1;
    store_col_t *sc = (store_col_t *)(void *)colmem;
    sst_ccol_t *cc = (sst_ccol_t *)(void *)(colmem + a_cols);
    /* Sizes of the column chunks: their compressed sizes must fill the block. */
    uint64_t comp_left = bi->len - at, col_bytes = 0;
    for (uint32_t c = 0; c < ncc; c++) {
        const uint8_t *d = dir + 8 + 12 * (size_t)c;
        uint32_t craw = sst_get32(d + 4), ccomp = sst_get32(d + 8);
        if (ccomp > comp_left || (d[0] != 0 && d[0] != 1 && d[0] != 2 && d[0] != 4 && d[0] != 8)) {
            rc = sst_fail(s, STORE_ECORRUPT, "column directory inconsistent", i);
            goto fail;
        }
        sc[c] = (store_col_t){.width = d[0], .kind = d[1]};
        cc[c] = (sst_ccol_t){.src = (uint32_t)(bi->len - comp_left), .comp = ccomp, .raw = craw};
        comp_left -= ccomp;
        col_bytes += sst_align8(craw);
    }
    if (comp_left != 0 || col_bytes > LIMIT_CHECK_BLOCK_BYTES) {
        rc = sst_fail(s, STORE_ECORRUPT, "block header does not match the index", i);
        goto fail;
    }
    b->cols = sc;
    b->cc = cc;
    b->ncols = ncc;
    b->sel = (uint32_t *)(void *)(colmem + a_cols + a_cc);
    b->layout_version = sst_get32(dir);
    b->n = n;
    b->tab = (const uint32_t *)(void *)b->mem;
    b->kend = b->tab + n;
    b->key = b->mem + 8 * (size_t)n;
    b->ts = (const uint64_t *)(void *)(b->mem + a0);
    b->flags = b->mem + a0 + 8 * (size_t)n;
    b->disk = disk;
    b->disk_bytes = bi->len;
    b->bytes = bytes + bi->len;
    b->cache = s->cache;
    b->file_no = s->file_no;
    b->block_no = i;
    b->raw01[0] = raw[0];
    b->raw01[1] = raw[1];
    b->comp01[0] = comp[0];
    b->comp01[1] = comp[1];
    if (lazy) {
        /* what sst_block_summarize would find (sst_block_keys checks it) */
        b->keyed = false;
        b->one_per_key = true;
        b->tombs = 0;
        b->max_ts = bi->max_ts;
        for (uint32_t j = 0; j < n; j++)
            b->sel[j] = j;
        b->nsel = n;
    } else {
        if (!sst_block_valid(b, raw)) {
            b->disk = NULL;
            rc = sst_fail(s, STORE_ECORRUPT, "column chunks inconsistent", i);
            goto fail;
        }
        sst_apply_stamp(s, b);
        sst_block_summarize(b);
        b->keyed = true;
        if (s->version >= 3 && (!!(bi->bflags & SST_BFLAG_ONE_PER_KEY) != b->one_per_key ||
                                bi->tombs != b->tombs)) {
            b->disk = NULL;
            rc = sst_fail(s, STORE_ECORRUPT, "block does not match its index entry", i);
            goto fail;
        }
    }
    rt_free(dir);
    *out = b;
    return 0;
fail:
    rt_free(dir);
    rt_free(b);
    rt_free(disk);
    return rc;
}

/* Reads, checks and decodes block i from the file. */
static int sst_read_block(sst_t *s, uint32_t i, bool keys, sst_block_t **out)
{
    const sst_bidx_t *bi = &s->idx[i];
    uint8_t *disk = rt_malloc(bi->len);
    sst_block_t *b = NULL;
    int rc = STORE_ENOMEM;
    if (!disk)
        return STORE_ENOMEM;
    rc = sst_pread_all(s->fd, disk, bi->len, bi->off);
    if (rc) {
        rc = sst_fail(s, rc, rc == STORE_EIO ? "read error" : "block cut short", i);
        goto fail;
    }
    uint32_t raw[3], comp[3];
    for (int c = 0; c < 3; c++) {
        raw[c] = sst_get32(disk + 8 + 4 * c);
        comp[c] = sst_get32(disk + 20 + 4 * c);
    }
    if (sst_get32(disk) != crc32c(0, disk + 4, bi->len - 4)) {
        rc = sst_fail(s, STORE_ECORRUPT, "checksum mismatch", i);
        goto fail;
    }
    /* The sizes are covered by the CRC just checked, so they are what the writer put.
     * Format 2: the header's last field counts the column chunks after chunk 2. */
    uint32_t ncc = sst_get32(disk + 52);
    uint64_t comp3 = (uint64_t)comp[0] + comp[1] + comp[2] + SST_BLOCK_HDR_BYTES;
    if (sst_get32(disk + 4) != bi->n || ncc != bi->ncols ||
        (ncc == 0 ? comp3 != bi->len : comp3 > bi->len)) {
        rc = sst_fail(s, STORE_ECORRUPT, "block header does not match the index", i);
        goto fail;
    }
    if (!sst_dctx && !(sst_dctx = ZSTD_createDCtx())) {
        rc = STORE_ENOMEM;
        goto fail;
    }
    if (s->version >= 3 && sst_get32(disk + 48) != bi->tombs) {
        rc = sst_fail(s, STORE_ECORRUPT, "block header does not match the index", i);
        goto fail;
    }
    if (ncc)
        return sst_decode_columnar(s, i, disk, raw, comp, ncc, keys, out);   /* takes disk */
    size_t at[3] = {0, sst_align8(raw[0]), sst_align8(raw[0]) + sst_align8(raw[1])};
    size_t bytes = sizeof *b + at[2] + raw[2] + 8;
    b = rt_malloc(bytes);
    if (!b) {
        rc = STORE_ENOMEM;
        goto fail;
    }
    memset(b, 0, sizeof *b);
    b->refs = 1;
    b->bytes = bytes;
    const uint8_t *src = disk + SST_BLOCK_HDR_BYTES;
    for (int c = 0; c < 3; c++) {
        if (!sst_unzstd(b->mem + at[c], raw[c], src, comp[c])) {
            rc = sst_fail(s, STORE_ECORRUPT, "zstd chunk does not decode", i);
            goto fail;
        }
        src += comp[c];
    }
    uint32_t n = bi->n;
    b->n = n;
    b->tab = (const uint32_t *)(void *)b->mem;
    b->kend = b->tab + n;
    b->key = b->mem + 8 * (size_t)n;
    b->ts = (const uint64_t *)(void *)(b->mem + at[1]);
    b->flags = b->mem + at[1] + 8 * (size_t)n;
    b->voff = (const uint32_t *)(void *)(b->mem + at[2]);
    b->vlen = b->voff + n;
    b->vals = b->mem + at[2] + 8 * (size_t)n;
    if (!sst_block_valid(b, raw)) {
        rc = sst_fail(s, STORE_ECORRUPT, "column chunks inconsistent", i);
        goto fail;
    }
    b->ncols = 0;
    b->cols = NULL;
    b->sel = NULL;
    b->rows = NULL;
    b->one = NULL;
    b->one_cap = 0;
    b->layout_version = 0;
    sst_apply_stamp(s, b);
    sst_block_summarize(b);
    b->keyed = true;
    if (s->version >= 3 && (!!(bi->bflags & SST_BFLAG_ONE_PER_KEY) != b->one_per_key ||
                            bi->tombs != b->tombs)) {
        rc = sst_fail(s, STORE_ECORRUPT, "block does not match its index entry", i);
        goto fail;
    }
    rt_free(disk);
    *out = b;
    return 0;
fail:
    rt_free(disk);
    rt_free(b);
    return rc;
}

/* Block i through the block cache (when the file has one): a hit hands out the cached
 * block; a miss reads it and, unless mode is CACHE_BYPASS, inserts it (hot or cold
 * end, see cache.h). *out is released with sst_block_free. */
static int sst_load_keys(sst_t *s, uint32_t i, sst_block_t **out, int mode, bool keys)
{
    if (s->cache && (*out = cache_get(s->cache, s->file_no, i, mode)) != NULL) {
        int rc = keys ? sst_block_keys(s, *out) : 0;
        if (rc) {
            sst_block_free(*out);
            *out = NULL;
        }
        return rc;
    }
    int rc = sst_read_block(s, i, keys, out);
    if (rc == 0 && s->cache && mode != CACHE_BYPASS)
        cache_put(s->cache, s->file_no, i, *out, mode);
    return rc;
}

static int sst_load_mode(sst_t *s, uint32_t i, sst_block_t **out, int mode)
{
    return sst_load_keys(s, i, out, mode, true);
}

static int sst_load(sst_t *s, uint32_t i, sst_block_t **out)
{
    return sst_load_mode(s, i, out, CACHE_HOT);
}

static void sst_entry_at(const sst_block_t *b, uint32_t i, sst_entry_t *e)
{
    uint32_t start = i ? b->kend[i - 1] : 0;
    e->table_id = b->tab[i];
    e->key = b->key + start;
    e->klen = b->kend[i] - start;
    e->commit_ts = b->ts[i];
    e->tomb = b->flags[i] & 1;
    if (b->vals) {
        e->val = b->vals + b->voff[i];
        e->vlen = b->vlen[i];
    } else {
        /* a columnar block not joined yet: sst_iter_materialize */
        e->val = NULL;
        e->vlen = e->tomb ? 0 : SST_VLEN_LAZY;
    }
}

static int sst_entry_cmp(const sst_block_t *b, uint32_t i, uint32_t t, const uint8_t *k,
                         uint32_t l)
{
    uint32_t start = i ? b->kend[i - 1] : 0;
    return memtable_cmp(b->tab[i], b->key + start, b->kend[i] - start, t, k, l);
}

/* First entry of b >= (t, k). */
static uint32_t sst_lower_bound(const sst_block_t *b, uint32_t t, const uint8_t *k, uint32_t l)
{
    uint32_t lo = 0, hi = b->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sst_entry_cmp(b, mid, t, k, l) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The block that would hold (t, k): the last whose first key <= it; -1 when before all. */
static long sst_find_block(const sst_t *s, uint32_t t, const uint8_t *k, uint32_t l)
{
    uint32_t lo = 0, hi = s->blocks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const sst_bidx_t *b = &s->idx[mid];
        if (memtable_cmp(b->first_table, b->first_key, b->first_klen, t, k, l) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

/* Newest version of the key starting at entry i with ts <= snap; *end gets the index
 * after the key's versions. */
static bool sst_pick(const sst_block_t *b, uint32_t i, uint64_t snap, sst_entry_t *e,
                     uint32_t *end, uint32_t *picked)
{
    sst_entry_at(b, i, e);
    sst_entry_t first = *e;
    bool found = false;
    uint32_t j = i;
    for (; j < b->n && sst_entry_cmp(b, j, first.table_id, first.key, first.klen) == 0; j++) {
        if (!found && b->ts[j] <= snap) {
            sst_entry_at(b, j, e);
            *picked = j;
            found = true;
        }
    }
    *end = j;
    return found;
}

bool sst_key_in_range(const sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    if (s->blocks == 0)
        return false;
    const sst_bidx_t *lo = &s->idx[0], *hi = &s->idx[s->blocks - 1];
    return memtable_cmp(lo->first_table, lo->first_key, lo->first_klen, table_id, key, klen) <= 0 &&
           memtable_cmp(hi->last_table, hi->last_key, hi->last_klen, table_id, key, klen) >= 0;
}

int sst_get_counted(sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen,
                    uint64_t snap_ts, sst_entry_t *e, sst_block_t **blk, sst_lookup_stats_t *ls)
{
    sst_lookup_stats_t none;
    if (!ls)
        ls = &none;
    ls->tables++;
    *blk = NULL;
    if (!sst_may_contain(s, table_id, key, klen)) {
        ls->bloom_negatives++;
        return 0;
    }
    ls->bloom_false_positives++;    /* taken back below when the key is in the block */
    long bi = sst_find_block(s, table_id, key, klen);
    if (bi < 0)
        return 0;
    const sst_bidx_t *ix = &s->idx[bi];
    if (memtable_cmp(ix->last_table, ix->last_key, ix->last_klen, table_id, key, klen) < 0)
        return 0;
    ls->blocks++;
    sst_block_t *b;
    int rc = sst_load(s, (uint32_t)bi, &b);
    if (rc) {
        ls->bloom_false_positives--;
        return rc;
    }
    uint32_t i = sst_lower_bound(b, table_id, key, klen), end, picked = 0;
    if (i < b->n && sst_entry_cmp(b, i, table_id, key, klen) == 0)
        ls->bloom_false_positives--;
    if (i < b->n && sst_entry_cmp(b, i, table_id, key, klen) == 0 &&
        sst_pick(b, i, snap_ts, e, &end, &picked)) {
        if (!b->vals && b->ncols && !e->tomb) {
            rc = sst_block_join_one(s, b, picked, e);
            if (rc) {
                sst_block_free(b);
                return rc;
            }
        }
        *blk = b;
        return 1;
    }
    sst_block_free(b);
    return 0;
}

int sst_get(sst_t *s, uint32_t table_id, const uint8_t *key, uint32_t klen, uint64_t snap_ts,
            sst_entry_t *e, sst_block_t **blk)
{
    return sst_get_counted(s, table_id, key, klen, snap_ts, e, blk, NULL);
}

/* ---- range cursor ---- */

struct sst_iter {
    sst_t *s;
    uint64_t snap;
    int mode;                   /* cache mode of its block reads */
    sst_retire_t *retire;       /* left blocks go here instead of being released */
    uint32_t next_block;        /* block to load when the current one is used up */
    sst_block_t *blk;
    uint32_t pos;
    uint32_t head_pos;          /* entry index of the key sst_iter_next_key returned last */
    uint32_t pick_idx;          /* entry index of the version it returned */
    /* column scans (sst_iter_set_lazy): a block the index shows whole is entered
     * without reading it; the key returned is the index's first key (lazy) until the
     * block is consumed whole or resolved (sst_iter_resolve) */
    bool lazy_ok, lazy;
    uint32_t lazy_block;
};

sst_iter_t *sst_iter_new(sst_t *s, uint64_t snap_ts)
{
    sst_iter_t *it = rt_calloc(1, sizeof *it);
    if (it) {
        it->s = s;
        it->snap = snap_ts;
        it->mode = CACHE_SCAN;
    }
    return it;
}

void sst_iter_set_cache_mode(sst_iter_t *it, int mode) { it->mode = mode; }
void sst_iter_set_retire(sst_iter_t *it, sst_retire_t *r) { it->retire = r; }

void sst_retire_release(sst_retire_t *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        sst_block_free(r->blocks[i]);
    r->count = 0;
}

void sst_retire_free(sst_retire_t *r)
{
    sst_retire_release(r);
    rt_free(r->blocks);
    r->blocks = NULL;
    r->cap = 0;
}

/* The cursor leaves its block: released, or kept on the retire list so that entries
 * handed out from it stay valid. STORE_ENOMEM when the list cannot grow (the block
 * is then kept by the cursor, so nothing handed out is freed). */
static int sst_iter_drop_block(sst_iter_t *it)
{
    if (!it->blk)
        return 0;
    if (it->retire) {
        sst_retire_t *r = it->retire;
        if (r->count == r->cap) {
            uint32_t cap = r->cap ? r->cap * 2 : 16;
            sst_block_t **nb = rt_realloc(r->blocks, cap * sizeof *nb);
            if (!nb)
                return STORE_ENOMEM;
            r->blocks = nb;
            r->cap = cap;
        }
        r->blocks[r->count++] = it->blk;
    } else {
        sst_block_free(it->blk);
    }
    it->blk = NULL;
    return 0;
}

void sst_iter_free(sst_iter_t *it)
{
    if (!it)
        return;
    if (sst_iter_drop_block(it) != 0)
        sst_block_free(it->blk);    /* no memory to defer: the caller's rows go too */
    rt_free(it);
}

void sst_iter_set_lazy(sst_iter_t *it, bool on) { it->lazy_ok = on; }

bool sst_iter_unresolved(const sst_iter_t *it) { return it->lazy; }

/* Version 3 index: every version of block i is a visible row at snap (columnar, one
 * version per key, no tombstone, all at or below snap). */
static bool sst_index_whole(const sst_t *s, uint32_t i, uint64_t snap)
{
    const sst_bidx_t *bi = &s->idx[i];
    return s->version >= 3 && bi->ncols && bi->n && (bi->bflags & SST_BFLAG_ONE_PER_KEY) &&
           bi->tombs == 0 && bi->max_ts <= snap;
}

int sst_iter_resolve(sst_iter_t *it, sst_entry_t *e)
{
    if (!it->lazy)
        return 0;
    int rc = it->blk ? sst_block_keys(it->s, it->blk)
                     : sst_load_keys(it->s, it->lazy_block, &it->blk, it->mode, true);
    if (rc)
        return rc;
    it->lazy = false;
    uint32_t end;
    bool found = sst_pick(it->blk, 0, it->snap, e, &end, &it->pick_idx);
    it->head_pos = 0;
    it->pos = end;
    if (!found)
        return sst_fail(it->s, STORE_ECORRUPT, "block does not match its index entry", it->lazy_block);
    return 0;
}

int sst_iter_seek(sst_iter_t *it, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    int rc = sst_iter_drop_block(it);
    if (rc)
        return rc;
    it->lazy = false;
    it->pos = 0;
    long bi = sst_find_block(it->s, table_id, key, klen);
    it->next_block = bi < 0 ? 0 : (uint32_t)bi;
    if (bi < 0 || it->s->blocks == 0)
        return 0;
    rc = sst_load_mode(it->s, (uint32_t)bi, &it->blk, it->mode);
    if (rc)
        return rc;
    it->next_block = (uint32_t)bi + 1;
    it->pos = sst_lower_bound(it->blk, table_id, key, klen);
    return 0;
}

/* Makes sure the cursor stands on an entry: 1, 0 at the end, or a negative rc. */
static int sst_iter_fill(sst_iter_t *it)
{
    while (!it->blk || it->pos >= it->blk->n) {
        int rc = sst_iter_drop_block(it);
        if (rc)
            return rc;
        if (it->next_block >= it->s->blocks)
            return 0;
        rc = sst_load_mode(it->s, it->next_block, &it->blk, it->mode);
        if (rc)
            return rc;
        it->next_block++;
        it->pos = 0;
    }
    return 1;
}

int sst_iter_next_version(sst_iter_t *it, sst_entry_t *e)
{
    int rc = sst_iter_fill(it);
    if (rc <= 0)
        return rc;
    if (!it->blk->vals && it->blk->ncols && (rc = sst_block_join(it->s, it->blk)) != 0)
        return rc;
    sst_entry_at(it->blk, it->pos++, e);
    return 1;
}

int sst_iter_materialize(sst_iter_t *it, sst_entry_t *e)
{
    if (e->vlen != SST_VLEN_LAZY)
        return 0;
    int rc = sst_block_join(it->s, it->blk);
    if (rc)
        return rc;
    sst_entry_at(it->blk, it->pick_idx, e);
    return 0;
}

int sst_iter_next_key(sst_iter_t *it, sst_entry_t *e)
{
    if (it->lazy) {
        /* the lazy key was passed over (another source had it): past its versions */
        sst_entry_t skip;
        int rc = sst_iter_resolve(it, &skip);
        if (rc)
            return rc;
    }
    for (;;) {
        if (it->lazy_ok && !it->s->stamp_ts && (!it->blk || it->pos >= it->blk->n) && it->next_block < it->s->blocks &&
            sst_index_whole(it->s, it->next_block, it->snap)) {
            int rc = sst_iter_drop_block(it);
            if (rc)
                return rc;
            uint32_t bi = it->next_block++;
            const sst_bidx_t *x = &it->s->idx[bi];
            e->table_id = x->first_table;
            e->key = x->first_key;
            e->klen = x->first_klen;
            e->commit_ts = x->max_ts;      /* an upper bound until resolved */
            e->tomb = false;
            e->val = NULL;
            e->vlen = SST_VLEN_LAZY;
            it->lazy = true;
            it->lazy_block = bi;
            it->pos = it->head_pos = 0;
            return 1;
        }
        int rc = sst_iter_fill(it);
        if (rc <= 0)
            return rc;
        uint32_t end;
        bool found = sst_pick(it->blk, it->pos, it->snap, e, &end, &it->pick_idx);
        it->head_pos = it->pos;
        it->pos = end;
        if (found)
            return 1;
    }
}

/* ---- whole columnar blocks ---- */

int sst_iter_block_start(sst_iter_t *it, uint32_t *block_index, sst_block_t **out)
{
    *out = NULL;
    if (it->lazy) {
        if (!it->blk) {
            /* the block as read, its keys left compressed */
            int rc = sst_load_keys(it->s, it->lazy_block, &it->blk, it->mode, false);
            if (rc)
                return rc;
        }
        *block_index = it->lazy_block;
        *out = it->blk;
        return 1;
    }
    if (!it->blk || it->head_pos != 0 || it->next_block == 0)
        return 0;
    *block_index = it->next_block - 1;
    *out = it->blk;
    return 1;
}

void sst_iter_skip_block(sst_iter_t *it)
{
    if (it->blk)
        it->pos = it->blk->n;
    it->lazy = false;
}

void sst_index_last_key(const sst_t *s, uint32_t i, const uint8_t **key, uint32_t *klen)
{
    *key = s->idx[i].last_key;
    *klen = s->idx[i].last_klen;
}

bool sst_block_whole(const sst_block_t *b, uint64_t snap_ts)
{
    return b->ncols && b->n && b->max_ts <= snap_ts;
}


int sst_block_columns(sst_t *s, sst_block_t *b, const uint8_t *need, store_colblock_t *cb)
{
    int rc = sst_block_need(s, b, need);
    if (rc)
        return rc;
    cb->n = b->n;
    cb->ncols = b->ncols;
    cb->layout_version = b->layout_version;
    cb->cols = b->cols;
    cb->vals = b->vals;         /* NULL until joined: store_colblock_rows */
    cb->voff = b->voff;
    cb->vlen = b->vlen;
    cb->blk = (void *)b;
    cb->sst = s;
    cb->sel = b->sel;
    cb->nsel = b->nsel;
    return 0;
}

bool sst_block_may_match(const sst_t *s, uint32_t i, const store_colpred_t *pred)
{
    const sst_bidx_t *bi = &s->idx[i];
    if (pred->col >= bi->ncols)
        return true;
    const uint8_t *st = bi->stats + SST_COLSTAT_BYTES * (size_t)pred->col;
    if (sst_get32(st + 4) == bi->n)
        return false;                 /* all null: no value matches */
    if (st[0] != pred->kind || !(st[1] & 1))
        return true;
    uint64_t mn = sst_get64(st + 8), mx = sst_get64(st + 16);
    if (pred->has_lo && sst_stat_less(pred->kind, mx, pred->lo))
        return false;
    if (pred->has_hi && sst_stat_less(pred->kind, pred->hi, mn))
        return false;
    return true;
}
