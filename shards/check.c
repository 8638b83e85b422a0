/*
 * check.c -- `nextdb check` and `nextdb dump-table` (contract: shards/check.h; formats:
 * shards/README.md). An independent reader: it re-implements the parsing of sorted
 * tables, manifests and WAL segments from the documented formats instead of calling
 * sst.c / flush.c / wal.c, and checks more than the server's readers need (layout,
 * order, index figures against block contents, bloom membership of every key).
 *
 * Every number read from a file is a claim to verify before use: offsets and lengths
 * are compared with the file size (in an overflow-free order) before anything is
 * allocated or read, counts are compared with the bytes that must hold them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/crc32c.h"
#include "core/limits.h"
#include "core/rt.h"
#include "shards/check.h"
#include "shards/sst.h"
#include "shards/store_int.h"

/* A data directory path may be CHK_DIR_BYTES - 32 long (checked at entry), so every
 * file path below it fits CHK_PATH_BYTES with a 255-byte file name. */
#define CHK_DIR_BYTES 1024
#define CHK_PATH_BYTES 4096
#define CHK_INDEX_ENT_BYTES 48
#define CHK_COLSTAT_BYTES 24
#define CHK_COLDIR_BYTES 12
#define CHK_MAX_COLS 256        /* STORE_LAYOUT_MAX_COLS */
#define CHK_MAN_HDR_BYTES 32
#define CHK_MAN_MAGIC "NXDBMAN\0"

typedef struct chk {
    FILE *out;
    check_stats_t *st;
} chk_t;

static uint32_t chk_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t chk_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* One finding: a PROBLEM (damage) or a warning (repaired by recovery by design). */
__attribute__((format(printf, 4, 5)))
static void chk_report(chk_t *c, bool problem, const char *path, const char *fmt, ...)
{
    va_list ap;
    fprintf(c->out, "%s %s: ", problem ? "PROBLEM" : "warning", path);
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->out);
    if (problem)
        c->st->problems++;
    else
        c->st->warnings++;
}

/* Prints (table, key): printable keys quoted, others in hex; at most
 * LIMIT_CHECK_PRINT_BYTES bytes. */
static void chk_print_bytes(FILE *f, const uint8_t *p, uint32_t n)
{
    uint32_t shown = n < LIMIT_CHECK_PRINT_BYTES ? n : LIMIT_CHECK_PRINT_BYTES;
    bool printable = n > 0;
    for (uint32_t i = 0; i < shown; i++)
        if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
            printable = false;
    if (printable) {
        fprintf(f, "\"%.*s\"", (int)shown, (const char *)p);
    } else {
        fputs("0x", f);
        for (uint32_t i = 0; i < shown; i++)
            fprintf(f, "%02x", p[i]);
    }
    if (shown < n)
        fprintf(f, "...(%u bytes)", n);
}

static void chk_print_key(FILE *f, uint32_t table_id, const uint8_t *key, uint32_t klen)
{
    fprintf(f, "(table %u, ", table_id);
    chk_print_bytes(f, key, klen);
    fputc(')', f);
}

static int chk_pread(int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Reads a whole file of at most LIMIT_CHECK_FILE_BYTES. 0, or a finding is reported
 * and -1 returned. */
static int chk_read_file(chk_t *c, const char *path, uint8_t **buf, size_t *size)
{
    struct stat sb;
    *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        chk_report(c, true, path, "cannot read: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((uint64_t)sb.st_size > LIMIT_CHECK_FILE_BYTES) {
        chk_report(c, true, path, "%lld bytes, larger than any valid file of its kind",
                   (long long)sb.st_size);
        close(fd);
        return -1;
    }
    *size = (size_t)sb.st_size;
    *buf = rt_malloc(*size ? *size : 1);
    int rc = *buf ? chk_pread(fd, *buf, *size, 0) : -ENOMEM;
    close(fd);
    if (rc) {
        chk_report(c, true, path, "cannot read: %s", strerror(-rc));
        rt_free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

/* ---- sorted tables ---- */

/* The bloom hash of shards/README.md ("Bloom filter"): 64-bit FNV-1a of the table id
 * (premixed) and key, then a murmur3 finalizer. Must match sst.c bit for bit; the unit
 * test checks clean files, where any difference shows as keys missing from the bloom. */
static uint64_t chk_bloom_hash(uint32_t table_id, const uint8_t *key, uint32_t klen)
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

typedef struct chk_bidx {
    uint64_t off, min_ts, max_ts;
    uint32_t len, n, first_table, first_klen, last_table, last_klen;
    const uint8_t *first_key, *last_key;
    uint32_t ncols;              /* format 2: column statistics (0 = opaque block) */
    const uint8_t *stats;        /* ncols entries of CHK_COLSTAT_BYTES */
    uint32_t bflags, tombs;      /* format 3: block flags, tombstone count */
} chk_bidx_t;

typedef struct chk_sst {
    chk_t *c;
    const char *path;
    int fd;
    bool dump, rows;
    uint64_t size, index_off, bloom_off, entries, max_ts;
    uint32_t index_len, bloom_len, blocks, version;
    uint8_t *index, *bloom;     /* bloom NULL when it failed its checks */
    uint64_t bloom_bits;
    uint32_t bloom_probes;
    chk_bidx_t *idx;
    /* The last key seen, for order checks across blocks. */
    bool has_prev;
    uint32_t prev_table, prev_klen;
    uint64_t prev_ts;
    uint8_t prev_key[LIMIT_KEY_BYTES];
    uint64_t seen_versions, seen_max_ts;
} chk_sst_t;

static bool chk_bloom_has(const chk_sst_t *s, uint32_t table_id, const uint8_t *key,
                          uint32_t klen)
{
    uint64_t h1 = chk_bloom_hash(table_id, key, klen), h2 = (h1 >> 33) | 1;
    const uint8_t *bits = s->bloom + 16;
    for (uint32_t k = 0; k < s->bloom_probes; k++) {
        uint64_t bit = (h1 + (uint64_t)k * h2) % s->bloom_bits;
        if (!(bits[bit / 8] & (1u << (bit % 8))))
            return false;
    }
    return true;
}

/* Footer: magic, CRC, version, and a layout of blocks | bloom | index | footer. */
static int chk_sst_footer(chk_sst_t *s)
{
    uint8_t f[SST_FOOTER_BYTES];
    if (s->size < SST_FOOTER_BYTES) {
        chk_report(s->c, true, s->path, "%" PRIu64 " bytes: too short to hold a footer", s->size);
        return -1;
    }
    int rc = chk_pread(s->fd, f, sizeof f, s->size - SST_FOOTER_BYTES);
    if (rc) {
        chk_report(s->c, true, s->path, "cannot read the footer: %s", strerror(-rc));
        return -1;
    }
    if (memcmp(f + 56, SST_MAGIC, 8) != 0) {
        chk_report(s->c, true, s->path, "footer (offset %" PRIu64 "): bad magic, not a sorted "
                   "table or cut short", s->size - SST_FOOTER_BYTES);
        return -1;
    }
    if (chk_get32(f + 48) != crc32c(0, f, 48) || chk_get32(f + 52) != 0) {
        chk_report(s->c, true, s->path, "footer (offset %" PRIu64 "): checksum mismatch",
                   s->size - SST_FOOTER_BYTES);
        return -1;
    }
    s->version = chk_get32(f + 44);
    if (s->version < 1 || s->version > 3) {
        chk_report(s->c, true, s->path, "unknown format version %u", s->version);
        return -1;
    }
    s->index_off = chk_get64(f);
    s->index_len = chk_get32(f + 8);
    s->bloom_len = chk_get32(f + 12);
    s->bloom_off = chk_get64(f + 16);
    s->entries = chk_get64(f + 24);
    s->max_ts = chk_get64(f + 32);
    s->blocks = chk_get32(f + 40);
    uint64_t body = s->size - SST_FOOTER_BYTES;
    if (s->index_len < 8 || s->bloom_len < 16 || s->index_off > body ||
        s->index_len != body - s->index_off || s->bloom_off > s->index_off ||
        s->bloom_len != s->index_off - s->bloom_off) {
        chk_report(s->c, true, s->path, "footer offsets do not describe the file (bloom %u "
                   "bytes at %" PRIu64 ", index %u bytes at %" PRIu64 ", file %" PRIu64 " bytes)",
                   s->bloom_len, s->bloom_off, s->index_len, s->index_off, s->size);
        return -1;
    }
    return 0;
}

/* Block index: CRC, count, entries within bounds, blocks contiguous from offset 0 up
 * to the bloom filter, keys ordered within and across entries. */
static int chk_sst_index(chk_sst_t *s)
{
    s->index = rt_malloc(s->index_len);
    if (!s->index || chk_pread(s->fd, s->index, s->index_len, s->index_off) != 0) {
        chk_report(s->c, true, s->path, "cannot read the block index");
        return -1;
    }
    if (chk_get32(s->index) != crc32c(0, s->index + 4, s->index_len - 4)) {
        chk_report(s->c, true, s->path, "block index (offset %" PRIu64 ", %u bytes): checksum "
                   "mismatch", s->index_off, s->index_len);
        return -1;
    }
    uint32_t count = chk_get32(s->index + 4);
    if (count != s->blocks || count > (s->index_len - 8) / CHK_INDEX_ENT_BYTES) {
        chk_report(s->c, true, s->path, "block index holds %u entries, the footer says %u "
                   "blocks", count, s->blocks);
        return -1;
    }
    s->idx = rt_calloc(count ? count : 1, sizeof *s->idx);
    if (!s->idx)
        return -1;
    const uint8_t *p = s->index + 8, *end = s->index + s->index_len;
    uint64_t expect_off = 0;
    for (uint32_t i = 0; i < count; i++) {
        chk_bidx_t *b = &s->idx[i];
        if (end - p < CHK_INDEX_ENT_BYTES)
            goto malformed;
        b->off = chk_get64(p);
        b->len = chk_get32(p + 8);
        b->n = chk_get32(p + 12);
        b->min_ts = chk_get64(p + 16);
        b->max_ts = chk_get64(p + 24);
        b->first_table = chk_get32(p + 32);
        b->first_klen = chk_get32(p + 36);
        b->last_table = chk_get32(p + 40);
        b->last_klen = chk_get32(p + 44);
        p += CHK_INDEX_ENT_BYTES;
        if (b->first_klen > LIMIT_KEY_BYTES || b->last_klen > LIMIT_KEY_BYTES ||
            (size_t)(end - p) < (size_t)b->first_klen + b->last_klen)
            goto malformed;
        b->first_key = p;
        b->last_key = p + b->first_klen;
        p += b->first_klen + b->last_klen;
        if (s->version >= 3) {
            if (end - p < 8)
                goto malformed;
            b->bflags = chk_get32(p);
            b->tombs = chk_get32(p + 4);
            p += 8;
            if (b->bflags & ~(uint32_t)SST_BFLAG_ONE_PER_KEY)
                chk_report(s->c, true, s->path, "block index entry %u: unknown block flags 0x%x",
                           i, b->bflags);
        }
        if (s->version >= 2) {
            if (end - p < 4)
                goto malformed;
            b->ncols = chk_get32(p);
            p += 4;
            if (b->ncols > CHK_MAX_COLS || (size_t)(end - p) / CHK_COLSTAT_BYTES < b->ncols)
                goto malformed;
            b->stats = p;
            p += (size_t)b->ncols * CHK_COLSTAT_BYTES;
        }
        if (b->off != expect_off || b->len < SST_BLOCK_HDR_BYTES ||
            b->len > s->bloom_off - b->off) {
            chk_report(s->c, true, s->path, "block index entry %u: block at offset %" PRIu64
                       " length %u, expected to start at %" PRIu64 " and end by %" PRIu64,
                       i, b->off, b->len, expect_off, s->bloom_off);
            return -1;
        }
        expect_off = b->off + b->len;
        if (b->n == 0 || b->min_ts > b->max_ts ||
            memtable_cmp(b->first_table, b->first_key, b->first_klen, b->last_table,
                         b->last_key, b->last_klen) > 0 ||
            (i > 0 && memtable_cmp(s->idx[i - 1].last_table, s->idx[i - 1].last_key,
                                   s->idx[i - 1].last_klen, b->first_table, b->first_key,
                                   b->first_klen) >= 0))
            chk_report(s->c, true, s->path, "block index entry %u: keys or timestamps out of "
                       "order", i);
    }
    if (p != end)
        goto malformed;
    if (expect_off != s->bloom_off) {
        chk_report(s->c, true, s->path, "blocks end at offset %" PRIu64 " but the bloom filter "
                   "starts at %" PRIu64, expect_off, s->bloom_off);
        return -1;
    }
    return 0;
malformed:
    chk_report(s->c, true, s->path, "block index (offset %" PRIu64 "): malformed entries",
               s->index_off);
    return -1;
}

/* Bloom filter: CRC and header. A bad bloom is reported; blocks are still checked. */
static void chk_sst_bloom(chk_sst_t *s)
{
    uint8_t *b = rt_malloc(s->bloom_len);
    if (!b || chk_pread(s->fd, b, s->bloom_len, s->bloom_off) != 0) {
        chk_report(s->c, true, s->path, "cannot read the bloom filter");
        rt_free(b);
        return;
    }
    uint32_t probes = chk_get32(b + 4);
    uint64_t bits = chk_get64(b + 8);
    if (chk_get32(b) != crc32c(0, b + 4, s->bloom_len - 4)) {
        chk_report(s->c, true, s->path, "bloom filter (offset %" PRIu64 ", %u bytes): checksum "
                   "mismatch", s->bloom_off, s->bloom_len);
        rt_free(b);
        return;
    }
    if (bits == 0 || bits / 8 != s->bloom_len - 16u || bits % 8 || probes == 0 || probes > 64) {
        chk_report(s->c, true, s->path, "bloom filter header: %" PRIu64 " bits, %u probes in %u "
                   "bytes", bits, probes, s->bloom_len);
        rt_free(b);
        return;
    }
    s->bloom = b;
    s->bloom_bits = bits;
    s->bloom_probes = probes;
}

/* A decoded block: the three raw chunks, read through memcpy (no alignment needed). */
typedef struct chk_col {
    uint8_t width, kind;
    uint32_t raw;
    uint8_t *data;               /* bitmap (padded to 8), then values or ends + bytes */
} chk_col_t;

/* Format 2 columnar blocks: chunk 2 is the column directory, the columns follow. */
typedef struct chk_block {
    uint32_t n, raw[3], tombs;  /* tombs: the header's tombstone count */
    uint8_t *chunk[3];
    uint32_t ncols;             /* 0 = opaque value chunk */
    chk_col_t *cols;
} chk_block_t;

static void chk_block_free(chk_block_t *b)
{
    for (int i = 0; i < 3; i++)
        rt_free(b->chunk[i]);
    for (uint32_t c = 0; b->cols && c < b->ncols; c++)
        rt_free(b->cols[c].data);
    rt_free(b->cols);
}

static uint64_t chk_bitmap_bytes(uint32_t n) { return (((uint64_t)n + 7) / 8 + 7) & ~7ull; }

static bool chk_col_null(const chk_col_t *k, uint32_t j) { return k->data[j / 8] >> (j % 8) & 1; }

/* Cell j of column k (not null): its bytes. Bounds were checked at load. */
static const uint8_t *chk_col_cell(const chk_col_t *k, uint32_t n, uint32_t j, uint32_t *len)
{
    uint64_t bm = chk_bitmap_bytes(n);
    if (k->width) {
        *len = k->width;
        return k->data + bm + (size_t)k->width * j;
    }
    const uint8_t *ends = k->data + bm;
    uint32_t start = j ? chk_get32(ends + 4 * (size_t)(j - 1)) : 0;
    *len = chk_get32(ends + 4 * (size_t)j) - start;
    return ends + 4 * (size_t)n + start;
}

/* Directory and column chunks of a columnar block after its three chunks (src points
 * at the first column chunk, left = its bytes). 0, or -1 after reporting. */
static int chk_block_columns(chk_sst_t *s, uint32_t i, chk_block_t *b, const uint8_t *src,
                             uint64_t left)
{
    const chk_bidx_t *bi = &s->idx[i];
    const uint8_t *dir = b->chunk[2];
    if (chk_get32(dir + 4) != b->ncols) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): column directory holds "
                   "%u columns, the header says %u", i, bi->off, chk_get32(dir + 4), b->ncols);
        return -1;
    }
    b->cols = rt_calloc(b->ncols, sizeof *b->cols);
    if (!b->cols)
        return -1;
    uint64_t bm = chk_bitmap_bytes(b->n);
    for (uint32_t c = 0; c < b->ncols; c++) {
        const uint8_t *d = dir + 8 + CHK_COLDIR_BYTES * (size_t)c;
        chk_col_t *k = &b->cols[c];
        k->width = d[0];
        k->kind = d[1];
        k->raw = chk_get32(d + 4);
        uint32_t comp = chk_get32(d + 8);
        bool wok = k->width == 0 || k->width == 1 || k->width == 2 || k->width == 4 || k->width == 8;
        if (!wok || k->kind > 3 || d[2] || d[3] || (k->width == 0 && k->kind != 0) ||
            (k->kind == 3 && k->width != 4 && k->width != 8)) {
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): column %u has width "
                       "%u kind %u", i, bi->off, c, k->width, k->kind);
            return -1;
        }
        if (comp > left || k->raw > LIMIT_CHECK_BLOCK_BYTES) {
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): column chunk %u "
                       "(%u bytes) does not fit the block", i, bi->off, c, comp);
            return -1;
        }
        k->data = rt_malloc(k->raw ? k->raw : 1);
        if (!k->data)
            return -1;
        size_t r = ZSTD_decompress(k->data, k->raw, src, comp);
        if (ZSTD_isError(r) || r != k->raw) {
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): column chunk %u does "
                       "not decode (%s)", i, bi->off, c,
                       ZSTD_isError(r) ? ZSTD_getErrorName(r) : "wrong size");
            return -1;
        }
        src += comp;
        left -= comp;
        bool ok;
        if (k->width) {
            ok = k->raw == bm + (uint64_t)k->width * b->n;
        } else {
            ok = k->raw >= bm + 4ull * b->n;
            uint64_t bytes = ok ? k->raw - bm - 4ull * b->n : 0;
            uint32_t prev = 0;
            for (uint32_t j = 0; ok && j < b->n; j++) {
                uint32_t e = chk_get32(k->data + bm + 4 * (size_t)j);
                ok = e >= prev && e <= bytes && (!chk_col_null(k, j) || e == prev);
                prev = e;
            }
            ok = ok && prev == bytes;
        }
        /* bits past n in the bitmap are zero */
        for (uint64_t j = b->n; ok && j < 8 * bm; j++)
            ok = !(k->data[j / 8] >> (j % 8) & 1);
        if (!ok) {
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): column chunk %u "
                       "(%u bytes) does not fit %u versions", i, bi->off, c, k->raw, b->n);
            return -1;
        }
    }
    if (left) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): %" PRIu64 " bytes after "
                   "the last column chunk", i, bi->off, left);
        return -1;
    }
    return 0;
}

/* Reads block i, checks CRC, header against the index and the zstd chunks. 0 with *b
 * decoded, or -1 after reporting. */
static int chk_block_load(chk_sst_t *s, uint32_t i, chk_block_t *b)
{
    const chk_bidx_t *bi = &s->idx[i];
    memset(b, 0, sizeof *b);
    if (bi->len > LIMIT_CHECK_BLOCK_BYTES) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): %u bytes, above the "
                   "checker's limit", i, bi->off, bi->len);
        return -1;
    }
    uint8_t *disk = rt_malloc(bi->len);
    int rc = disk ? chk_pread(s->fd, disk, bi->len, bi->off) : -ENOMEM;
    if (rc) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): cannot read: %s", i,
                   bi->off, strerror(-rc));
        goto fail;
    }
    if (chk_get32(disk) != crc32c(0, disk + 4, bi->len - 4)) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 ", %u bytes): checksum "
                   "mismatch", i, bi->off, bi->len);
        goto fail;
    }
    uint32_t comp[3];
    uint64_t comp_total = 0, raw_total = 0;
    for (int k = 0; k < 3; k++) {
        b->raw[k] = chk_get32(disk + 8 + 4 * k);
        comp[k] = chk_get32(disk + 20 + 4 * k);
        comp_total += comp[k];
        raw_total += b->raw[k];
    }
    b->n = chk_get32(disk + 4);
    b->tombs = chk_get32(disk + 48);
    b->ncols = chk_get32(disk + 52);
    if (b->n != bi->n || b->ncols != bi->ncols ||
        (b->ncols ? comp_total + SST_BLOCK_HDR_BYTES > bi->len
                  : comp_total + SST_BLOCK_HDR_BYTES != bi->len) ||
        chk_get64(disk + 32) != bi->min_ts || chk_get64(disk + 40) != bi->max_ts) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): header does not match "
                   "the block index", i, bi->off);
        goto fail;
    }
    if (raw_total > LIMIT_CHECK_BLOCK_BYTES || b->raw[0] < 8ull * b->n ||
        b->raw[1] != 9ull * b->n ||
        (b->ncols ? b->raw[2] != 8 + (uint64_t)CHK_COLDIR_BYTES * b->ncols
                  : b->raw[2] < 8ull * b->n)) {
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): chunk sizes %u/%u/%u do "
                   "not fit %u versions", i, bi->off, b->raw[0], b->raw[1], b->raw[2], b->n);
        goto fail;
    }
    const uint8_t *src = disk + SST_BLOCK_HDR_BYTES;
    for (int k = 0; k < 3; k++) {
        b->chunk[k] = rt_malloc(b->raw[k] ? b->raw[k] : 1);
        if (!b->chunk[k])
            goto fail;
        size_t r = ZSTD_decompress(b->chunk[k], b->raw[k], src, comp[k]);
        if (ZSTD_isError(r) || r != b->raw[k]) {
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): chunk %d does not "
                       "decode (%s)", i, bi->off, k,
                       ZSTD_isError(r) ? ZSTD_getErrorName(r) : "wrong size");
            goto fail;
        }
        src += comp[k];
    }
    if (b->ncols && chk_block_columns(s, i, b, src, bi->len - SST_BLOCK_HDR_BYTES - comp_total) != 0)
        goto fail;
    rt_free(disk);
    return 0;
fail:
    rt_free(disk);
    chk_block_free(b);
    return -1;
}

/* One version of a decoded block; false when its offsets do not fit the chunks. */
static bool chk_block_entry(const chk_block_t *b, uint32_t j, uint32_t *kstart, sst_entry_t *e)
{
    uint32_t n = b->n;
    uint32_t kbytes = b->raw[0] - 8 * n, vbytes = b->raw[2] - 8 * n;
    uint32_t kend = chk_get32(b->chunk[0] + 4 * (size_t)n + 4 * (size_t)j);
    if (kend < *kstart || kend > kbytes || kend - *kstart > LIMIT_KEY_BYTES)
        return false;
    uint8_t flags = b->chunk[1][8 * (size_t)n + j];
    if (b->ncols) {
        /* columnar: the value is in the column chunks (chk_block_columns_verify) */
        if (flags & ~1u)
            return false;
        e->table_id = chk_get32(b->chunk[0] + 4 * (size_t)j);
        e->key = b->chunk[0] + 8 * (size_t)n + *kstart;
        e->klen = kend - *kstart;
        e->commit_ts = chk_get64(b->chunk[1] + 8 * (size_t)j);
        e->tomb = flags & 1;
        e->val = NULL;
        e->vlen = 0;
        *kstart = kend;
        return true;
    }
    uint32_t voff = chk_get32(b->chunk[2] + 4 * (size_t)j);
    uint32_t vlen = chk_get32(b->chunk[2] + 4 * (size_t)n + 4 * (size_t)j);
    if (voff % 8 || voff > vbytes || vlen > vbytes - voff || (flags & ~1u) ||
        ((flags & 1) && vlen != 0))
        return false;
    e->table_id = chk_get32(b->chunk[0] + 4 * (size_t)j);
    e->key = b->chunk[0] + 8 * (size_t)n + *kstart;
    e->klen = kend - *kstart;
    e->commit_ts = chk_get64(b->chunk[1] + 8 * (size_t)j);
    e->tomb = flags & 1;
    e->val = b->chunk[2] + 8 * (size_t)n + voff;
    e->vlen = vlen;
    *kstart = kend;
    return true;
}

static void chk_print_version(chk_sst_t *s, const chk_block_t *b, uint32_t j, const sst_entry_t *e)
{
    FILE *f = s->c->out;
    fputs("    ", f);
    chk_print_key(f, e->table_id, e->key, e->klen);
    fprintf(f, " ts %" PRIu64, e->commit_ts);
    if (e->tomb) {
        fputs(" tombstone\n", f);
        return;
    }
    if (b->ncols) {
        fprintf(f, " columns %u:", b->ncols);
        for (uint32_t c = 0; c < b->ncols; c++) {
            fputc(' ', f);
            if (chk_col_null(&b->cols[c], j)) {
                fputs("null", f);
                continue;
            }
            uint32_t len;
            const uint8_t *p = chk_col_cell(&b->cols[c], b->n, j, &len);
            chk_print_bytes(f, p, len);
        }
        fputc('\n', f);
        return;
    }
    fprintf(f, " value %u bytes ", e->vlen);
    chk_print_bytes(f, e->val, e->vlen);
    fputc('\n', f);
}

/* A fixed-width cell as the 8-byte statistics form of its kind (README: int64, uint64
 * or double bits); *nan for a NaN. */
static uint64_t chk_stat_value(const uint8_t *p, uint8_t width, uint8_t kind, bool *nan)
{
    uint64_t u = 0;
    for (int k = width - 1; k >= 0; k--)
        u = u << 8 | p[k];
    if (kind == 1 && width < 8 && (u >> (8 * width - 1) & 1))
        u |= ~0ull << (8 * width);
    if (kind == 3) {
        double d;
        if (width == 4) {
            uint32_t u4 = (uint32_t)u;
            float fl;
            memcpy(&fl, &u4, 4);
            d = fl;
        } else {
            memcpy(&d, &u, 8);
        }
        *nan |= d != d;
        memcpy(&u, &d, 8);
    }
    return u;
}

static int chk_stat_cmp(uint8_t kind, uint64_t a, uint64_t b)
{
    if (kind == 1)
        return (int64_t)a < (int64_t)b ? -1 : (int64_t)a > (int64_t)b;
    if (kind == 3) {
        double x, y;
        memcpy(&x, &a, 8);
        memcpy(&y, &b, 8);
        return x < y ? -1 : x > y;
    }
    return a < b ? -1 : a > b;
}

/* Columnar block: tombstones have no cells, and every column's null count and min/max
 * equal the block index's statistics. */
static void chk_block_columns_verify(chk_sst_t *s, uint32_t i, const chk_block_t *b)
{
    const chk_bidx_t *bi = &s->idx[i];
    for (uint32_t j = 0; j < b->n; j++) {
        if (!(b->chunk[1][8 * (size_t)b->n + j] & 1))
            continue;
        for (uint32_t c = 0; c < b->ncols; c++)
            if (!chk_col_null(&b->cols[c], j)) {
                chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): tombstone %u has "
                           "a value in column %u", i, bi->off, j, c);
                return;
            }
    }
    for (uint32_t c = 0; c < b->ncols; c++) {
        const chk_col_t *k = &b->cols[c];
        const uint8_t *st = bi->stats + CHK_COLSTAT_BYTES * (size_t)c;
        uint32_t nulls = 0;
        bool has = false, nan = false;
        uint64_t mn = 0, mx = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            if (chk_col_null(k, j)) {
                nulls++;
                continue;
            }
            if (!k->width || k->kind == 0)
                continue;
            uint32_t len;
            uint64_t v = chk_stat_value(chk_col_cell(k, b->n, j, &len), k->width, k->kind, &nan);
            if (!has || chk_stat_cmp(k->kind, v, mn) < 0)
                mn = v;
            if (!has || chk_stat_cmp(k->kind, v, mx) > 0)
                mx = v;
            has = true;
        }
        bool valid = has && !nan;
        if (st[0] != k->kind || (st[1] & ~1u) || st[2] || st[3] || chk_get32(st + 4) != nulls ||
            (st[1] & 1) != valid ||
            (valid && (chk_stat_cmp(k->kind, chk_get64(st + 8), mn) != 0 ||
                       chk_stat_cmp(k->kind, chk_get64(st + 16), mx) != 0)) ||
            (!valid && (chk_get64(st + 8) || chk_get64(st + 16))))
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): column %u statistics "
                       "in the block index do not match its chunk", i, bi->off, c);
    }
}

/* Checks every version of block i: column consistency, order, index figures, bloom. */
static void chk_block_verify(chk_sst_t *s, uint32_t i, const chk_block_t *b)
{
    const chk_bidx_t *bi = &s->idx[i];
    uint32_t kstart = 0, tombs = 0;
    uint64_t min_ts = UINT64_MAX, max_ts = 0;
    bool order_ok = true, bloom_ok = true, one_per_key = true;
    sst_entry_t e, first = {0};
    if (b->n == 0)
        return;    /* reported with the index entry */
    for (uint32_t j = 0; j < b->n; j++) {
        if (!chk_block_entry(b, j, &kstart, &e)) {
            chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): version %u has "
                       "offsets outside its column chunks", i, bi->off, j);
            return;
        }
        if (j == 0)
            first = e;
        int cmp = s->has_prev ? memtable_cmp(s->prev_table, s->prev_key, s->prev_klen,
                                             e.table_id, e.key, e.klen)
                              : -1;
        if (cmp > 0 || (cmp == 0 && e.commit_ts > s->prev_ts))
            order_ok = false;
        if (cmp == 0 && j == 0)
            order_ok = false;    /* a key's versions never span two blocks */
        if (cmp == 0)
            one_per_key = false;
        if (cmp != 0 && s->bloom && !chk_bloom_has(s, e.table_id, e.key, e.klen))
            bloom_ok = false;
        if (s->rows)
            chk_print_version(s, b, j, &e);
        s->has_prev = true;
        s->prev_table = e.table_id;
        s->prev_klen = e.klen;
        memcpy(s->prev_key, e.key, e.klen);
        s->prev_ts = e.commit_ts;
        tombs += e.tomb;
        min_ts = e.commit_ts < min_ts ? e.commit_ts : min_ts;
        max_ts = e.commit_ts > max_ts ? e.commit_ts : max_ts;
    }
    if (kstart != b->raw[0] - 8 * b->n)
        chk_report(s->c, true, s->path, "block %u: key bytes do not add up", i);
    if (b->ncols)
        chk_block_columns_verify(s, i, b);
    if (tombs != b->tombs)
        chk_report(s->c, true, s->path, "block %u: %u tombstones, the header says %u", i, tombs,
                   b->tombs);
    if (s->version >= 3 && (tombs != bi->tombs ||
                            !(bi->bflags & SST_BFLAG_ONE_PER_KEY) != !one_per_key))
        chk_report(s->c, true, s->path, "block %u: %u tombstones, %s version per key; the "
                   "index says %u, %s", i, tombs, one_per_key ? "one" : "not one", bi->tombs,
                   bi->bflags & SST_BFLAG_ONE_PER_KEY ? "one" : "not one");
    if (!order_ok)
        chk_report(s->c, true, s->path, "block %u (offset %" PRIu64 "): versions out of order",
                   i, bi->off);
    if (!bloom_ok)
        chk_report(s->c, true, s->path, "block %u: a key is missing from the bloom filter "
                   "(lookups of it would answer \"not found\")", i);
    if (min_ts != bi->min_ts || max_ts != bi->max_ts)
        chk_report(s->c, true, s->path, "block %u: timestamps %" PRIu64 "..%" PRIu64 ", the "
                   "index says %" PRIu64 "..%" PRIu64, i, min_ts, max_ts, bi->min_ts, bi->max_ts);
    if (memtable_cmp(first.table_id, first.key, first.klen, bi->first_table, bi->first_key,
                     bi->first_klen) != 0 ||
        memtable_cmp(s->prev_table, s->prev_key, s->prev_klen, bi->last_table, bi->last_key,
                     bi->last_klen) != 0)
        chk_report(s->c, true, s->path, "block %u: first or last key differs from the block "
                   "index", i);
    s->seen_versions += b->n;
    if (max_ts > s->seen_max_ts)
        s->seen_max_ts = max_ts;
}

static void chk_print_block(chk_sst_t *s, uint32_t i, uint32_t tombs)
{
    const chk_bidx_t *bi = &s->idx[i];
    FILE *f = s->c->out;
    fprintf(f, "block %u: offset %" PRIu64 " length %u versions %u", i, bi->off, bi->len, bi->n);
    if (tombs != UINT32_MAX)
        fprintf(f, " tombstones %u", tombs);
    if (bi->ncols)
        fprintf(f, " columns %u", bi->ncols);
    if (s->version >= 3 && (bi->bflags & SST_BFLAG_ONE_PER_KEY))
        fputs(" one-per-key", f);
    fprintf(f, " ts %" PRIu64 "..%" PRIu64 " first ", bi->min_ts, bi->max_ts);
    chk_print_key(f, bi->first_table, bi->first_key, bi->first_klen);
    fputs(" last ", f);
    chk_print_key(f, bi->last_table, bi->last_key, bi->last_klen);
    fputc('\n', f);
}

static void chk_sst_header(chk_sst_t *s)
{
    FILE *f = s->c->out;
    fprintf(f, "sorted table %s\n", s->path);
    fprintf(f, "  size %" PRIu64 " bytes, format version %u\n", s->size, s->version);
    fprintf(f, "  versions %" PRIu64 ", blocks %u, max commit ts %" PRIu64 "\n", s->entries,
            s->blocks, s->max_ts);
    fprintf(f, "  bloom filter %u bytes at offset %" PRIu64, s->bloom_len, s->bloom_off);
    if (s->bloom)
        fprintf(f, ": %" PRIu64 " bits, %u probes", s->bloom_bits, s->bloom_probes);
    fprintf(f, "\n  block index %u bytes at offset %" PRIu64 "\n", s->index_len, s->index_off);
}

/* Verifies (and with s->dump prints) one sorted table. Findings go to the report. */
static void chk_sst_run(chk_sst_t *s)
{
    struct stat sb;
    s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0 || fstat(s->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        chk_report(s->c, true, s->path, "cannot read: %s",
                   s->fd < 0 ? strerror(errno) : "not a regular file");
        return;
    }
    s->size = (uint64_t)sb.st_size;
    uint64_t problems_before = s->c->st->problems;
    if (chk_sst_footer(s) || chk_sst_index(s))
        return;
    chk_sst_bloom(s);
    if (s->dump)
        chk_sst_header(s);
    s->c->st->tables++;
    for (uint32_t i = 0; i < s->blocks; i++) {
        chk_block_t b;
        if (chk_block_load(s, i, &b) != 0) {
            s->has_prev = false;    /* order is checked again from the next good block */
            if (s->dump)
                chk_print_block(s, i, UINT32_MAX);
            continue;
        }
        uint32_t tombs = 0;
        for (uint32_t j = 0; j < b.n; j++)
            tombs += b.chunk[1][8 * (size_t)b.n + j] & 1;
        if (s->dump)
            chk_print_block(s, i, tombs);
        chk_block_verify(s, i, &b);
        chk_block_free(&b);
        s->c->st->blocks++;
    }
    s->c->st->versions += s->seen_versions;
    /* Footer totals are only comparable when every block was read and decoded. */
    if (s->c->st->problems == problems_before && (s->seen_versions != s->entries || s->seen_max_ts != s->max_ts))
        chk_report(s->c, true, s->path, "blocks hold %" PRIu64 " versions up to ts %" PRIu64
                   ", the footer says %" PRIu64 " up to ts %" PRIu64, s->seen_versions,
                   s->seen_max_ts, s->entries, s->max_ts);
}

static void chk_sst_close(chk_sst_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    rt_free(s->index);
    rt_free(s->bloom);
    rt_free(s->idx);
}

static void chk_table(chk_t *c, const char *path, bool dump, bool rows)
{
    chk_sst_t *s = rt_calloc(1, sizeof *s);    /* holds a key buffer: not on the stack */
    if (!s) {
        chk_report(c, true, path, "out of memory");
        return;
    }
    s->c = c;
    s->path = path;
    s->fd = -1;
    s->dump = dump;
    s->rows = rows;
    chk_sst_run(s);
    chk_sst_close(s);
    rt_free(s);
}

int check_dump_table(const char *path, bool rows, FILE *out, check_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    chk_t c = {out, stats};
    if (access(path, R_OK) != 0) {
        fprintf(out, "nextdb dump-table: cannot read %s: %s\n", path, strerror(errno));
        return CHECK_ENODIR;
    }
    chk_table(&c, path, true, rows);
    fprintf(out, "%" PRIu64 " problem%s\n", stats->problems, stats->problems == 1 ? "" : "s");
    return CHECK_OK;
}

/* ---- manifest ---- */

typedef struct chk_shard {
    chk_t *c;
    char dir[CHK_DIR_BYTES];
    int shard_id;
    bool has_manifest, no_current;
    uint64_t man_no, flushed_lsn, next_file_no;
    uint64_t *files;            /* sorted tables the manifest lists */
    uint32_t files_count, files_cap;
} chk_shard_t;

static bool chk_listed(const chk_shard_t *sh, uint64_t no)
{
    for (uint32_t i = 0; i < sh->files_count; i++)
        if (sh->files[i] == no)
            return true;
    return false;
}

static int chk_add_file(chk_shard_t *sh, uint64_t no)
{
    if (sh->files_count == sh->files_cap) {
        uint32_t cap = sh->files_cap ? sh->files_cap * 2 : 64;
        if (cap > 2 * LIMIT_SST_FILES)
            return -1;
        uint64_t *f = rt_realloc(sh->files, cap * sizeof *f);
        if (!f)
            return -1;
        sh->files = f;
        sh->files_cap = cap;
    }
    sh->files[sh->files_count++] = no;
    return 0;
}

/* True when a record with a valid length and CRC starts at off. */
static bool chk_man_rec_ok(const uint8_t *buf, size_t size, size_t off, uint32_t version)
{
    if (size - off < 8)
        return false;
    uint32_t plen = chk_get32(buf + off);
    return plen >= (version == 1 ? 24u : 32u) && plen <= size - off - 8 &&
           crc32c(0, buf + off + 8, plen) == chk_get32(buf + off + 4);
}

/* Applies one record's payload (CRC already checked); -1 after reporting. */
static int chk_man_apply(chk_shard_t *sh, const char *path, const uint8_t *p, uint32_t plen,
                         size_t off, bool first, uint32_t version)
{
    uint64_t flushed = chk_get64(p), next_no = chk_get64(p + 8);
    uint32_t adds = chk_get32(p + 16), masks = chk_get32(p + 20);
    /* format 2 adds "removes u32, zero u32" and the removed file numbers at the end */
    uint32_t fixed = version == 1 ? 24 : 32, removes = version == 1 ? 0 : chk_get32(p + 24);
    /* format 3 uses the zero u32 as "stamps" ((file u64, commit ts u64) after removes) */
    uint32_t stamps = version >= 3 ? chk_get32(p + 28) : 0;
    if (fixed + 8ull * adds + 12ull * masks + 8ull * removes + 16ull * stamps != plen) {
        chk_report(sh->c, true, path, "record at offset %zu: %u files, %u masks, %u removes "
                   "and %u stamps do not fill its %u bytes", off, adds, masks, removes, stamps,
                   plen);
        return -1;
    }
    const uint8_t *sp = p + fixed + 8ull * adds + 12ull * masks + 8ull * removes;
    for (uint32_t i = 0; i < stamps; i++, sp += 16)
        if (chk_get64(sp) == 0 || chk_get64(sp) >= next_no || chk_get64(sp + 8) == 0)
            chk_report(sh->c, true, path, "record at offset %zu: stamp %u names file %" PRIu64
                       " at ts %" PRIu64 " (zero, or not below next file number %" PRIu64 ")",
                       off, i, chk_get64(sp), chk_get64(sp + 8), next_no);
    if (first && removes) {
        chk_report(sh->c, true, path, "record at offset %zu: the snapshot record removes files",
                   off);
        return -1;
    }
    if (!first && flushed < sh->flushed_lsn)
        chk_report(sh->c, true, path, "record at offset %zu: flushed lsn goes back from %" PRIu64
                   " to %" PRIu64, off, sh->flushed_lsn, flushed);
    sh->flushed_lsn = flushed;
    sh->next_file_no = next_no;
    if (first)
        sh->files_count = 0;    /* the first record is a snapshot of the whole set */
    /* a compaction edit's removes: every one must be in the set */
    const uint8_t *rm = p + fixed + 8ull * adds + 12ull * masks;
    for (uint32_t i = 0; i < removes; i++, rm += 8) {
        uint64_t no = chk_get64(rm);
        uint32_t k = 0;
        while (k < sh->files_count && sh->files[k] != no)
            k++;
        if (k == sh->files_count) {
            chk_report(sh->c, true, path, "record at offset %zu: removes file %" PRIu64
                       ", which is not in the set", off, no);
            return -1;
        }
        sh->files[k] = sh->files[--sh->files_count];
    }
    p += fixed;
    for (uint32_t i = 0; i < adds; i++, p += 8) {
        uint64_t no = chk_get64(p);
        if (no == 0 || no >= next_no || chk_listed(sh, no)) {
            chk_report(sh->c, true, path, "record at offset %zu: file number %" PRIu64 " is "
                       "zero, listed twice, or not below next file number %" PRIu64, off, no,
                       next_no);
            return -1;
        }
        if (chk_add_file(sh, no) != 0) {
            chk_report(sh->c, true, path, "more than %d sorted tables listed", LIMIT_SST_FILES);
            return -1;
        }
    }
    for (uint32_t i = 0; i < masks; i++, p += 12)
        if (chk_get64(p + 4) >= next_no)
            chk_report(sh->c, true, path, "record at offset %zu: table %u masked up to file %"
                       PRIu64 ", beyond next file number %" PRIu64, off, chk_get32(p),
                       chk_get64(p + 4), next_no);
    return 0;
}

/* Checks the manifest's header and records; fills the file list. */
static void chk_manifest_file(chk_shard_t *sh, const char *path)
{
    uint8_t *buf;
    size_t size;
    if (chk_read_file(sh->c, path, &buf, &size) != 0)
        return;
    sh->c->st->manifests++;
    uint8_t h[CHK_MAN_HDR_BYTES] = {0};
    memcpy(h, CHK_MAN_MAGIC, 8);
    /* formats 1 and 2 share the header; the version is bytes 8..11 */
    uint32_t version = size >= 12 ? chk_get32(buf + 8) : 0, shard = (uint32_t)sh->shard_id;
    if (version != 1 && version != 2 && version != 3)
        version = 3;             /* then the comparison below reports the header */
    memcpy(h + 8, &version, 4);
    memcpy(h + 12, &shard, 4);
    memcpy(h + 16, &sh->man_no, 8);
    uint32_t crc = crc32c(0, h, 24);
    memcpy(h + 24, &crc, 4);
    if (size < CHK_MAN_HDR_BYTES || memcmp(buf, h, CHK_MAN_HDR_BYTES) != 0) {
        chk_report(sh->c, true, path, "bad header (expected manifest %" PRIu64 " of shard %d, "
                   "format 1 to 3)", sh->man_no, sh->shard_id);
        goto done;
    }
    size_t off = CHK_MAN_HDR_BYTES;
    uint32_t records = 0;
    while (off < size) {
        if (!chk_man_rec_ok(buf, size, off, version)) {
            bool follows = false;
            for (size_t q = off + 1; q + 8 <= size && !follows; q++)
                follows = chk_man_rec_ok(buf, size, q, version);
            if (follows)
                chk_report(sh->c, true, path, "corrupt record at offset %zu, followed by valid "
                           "records", off);
            else
                chk_report(sh->c, false, path, "torn tail at offset %zu (%zu bytes); recovery "
                           "truncates it", off, size - off);
            break;
        }
        uint32_t plen = chk_get32(buf + off);
        if (chk_man_apply(sh, path, buf + off + 8, plen, off, records == 0, version) != 0)
            goto done;
        records++;
        off += 8 + (size_t)plen;
    }
    if (records == 0)
        chk_report(sh->c, true, path, "holds no complete record, but CURRENT names it");
    else
        sh->has_manifest = true;
done:
    rt_free(buf);
}

/* CURRENT -> MANIFEST-<n>; no CURRENT means nothing was ever flushed. */
static void chk_manifest(chk_shard_t *sh)
{
    char path[CHK_PATH_BYTES], name[64] = {0};
    snprintf(path, sizeof path, "%s/CURRENT", sh->dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            chk_report(sh->c, true, path, "cannot read: %s", strerror(errno));
        sh->no_current = errno == ENOENT;
        return;
    }
    ssize_t n = pread(fd, name, sizeof name - 1, 0);
    close(fd);
    char *end = NULL;
    if (n == 26 && !memcmp(name, "MANIFEST-", 9) && name[25] == '\n' &&
        strspn(name + 9, "0123456789abcdef") == 16)
        sh->man_no = strtoull(name + 9, &end, 16);
    if (!end || end != name + 25) {
        chk_report(sh->c, true, path, "does not hold \"MANIFEST-<16 hex digits>\\n\"");
        return;
    }
    snprintf(path, sizeof path, "%s/MANIFEST-%016" PRIx64, sh->dir, sh->man_no);
    chk_manifest_file(sh, path);
}

/* Files in the shard directory besides CURRENT and its manifest. */
static void chk_shard_files(chk_shard_t *sh)
{
    char path[CHK_PATH_BYTES];
    DIR *d = opendir(sh->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *s = e->d_name;
        snprintf(path, sizeof path, "%s/%s", sh->dir, s);
        if (!strcmp(s, "CURRENT.tmp"))
            chk_report(sh->c, false, path, "left by an interrupted manifest switch; removed at "
                       "the next open");
        else if (!strncmp(s, "MANIFEST-", 9) &&
                 (!sh->has_manifest || strtoull(s + 9, NULL, 16) != sh->man_no))
            chk_report(sh->c, false, path, "stale manifest (CURRENT names another); removed at "
                       "the next open");
    }
    if (d)
        closedir(d);
}

/* Sorted tables: every listed one verified; missing ones and orphans reported. */
static void chk_sst_dir(chk_shard_t *sh)
{
    char dir[CHK_DIR_BYTES + 8], path[CHK_PATH_BYTES];
    snprintf(dir, sizeof dir, "%s/sst", sh->dir);
    for (uint32_t i = 0; i < sh->files_count; i++) {
        snprintf(path, sizeof path, "%s/%016" PRIx64 ".sst", dir, sh->files[i]);
        if (access(path, F_OK) != 0)
            chk_report(sh->c, true, path, "listed in MANIFEST-%016" PRIx64 " but missing",
                       sh->man_no);
        else
            chk_table(sh->c, path, false, false);
    }
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *s = e->d_name;
        if (s[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, s);
        bool named = strlen(s) == 20 && !strcmp(s + 16, ".sst") &&
                     strspn(s, "0123456789abcdef") == 16;
        uint64_t no = named ? strtoull(s, NULL, 16) : 0;
        if (!named)
            chk_report(sh->c, false, path, "not a sorted table name; ignored by the server");
        else if (sh->no_current && no > 1)
            /* Only the very first flush can be interrupted before CURRENT exists. */
            chk_report(sh->c, true, path, "sorted table but no CURRENT: the manifest pointer "
                       "is lost; the server refuses to start unless the WAL still holds every "
                       "record (restore CURRENT)");
        else if (!chk_listed(sh, no))
            chk_report(sh->c, false, path, "orphan sorted table (not in the manifest: a flush "
                       "interrupted by a crash); removed at the next open");
    }
    if (d)
        closedir(d);
}

/* ---- WAL ---- */

/* A well-formed record header + CRC with LSN lsn at off (as recovery's test). */
static bool chk_wal_rec_ok(const uint8_t *buf, size_t size, size_t off, uint64_t lsn,
                           uint32_t *rec_bytes)
{
    if (size - off < WAL_REC_HDR_BYTES)
        return false;
    const uint8_t *r = buf + off;
    uint32_t plen = chk_get32(r), type = chk_get32(r + 8);
    if (type < WAL_REC_COMMIT || type > WAL_REC_TYPE_MAX || chk_get64(r + 12) != lsn ||
        chk_get32(r + 20) != 0 || plen > LIMIT_WAL_RECORD_BYTES ||
        plen > size - off - WAL_REC_HDR_BYTES ||
        crc32c(0, r + 8, WAL_REC_HDR_BYTES - 8 + (size_t)plen) != chk_get32(r + 4))
        return false;
    *rec_bytes = WAL_REC_HDR_BYTES + plen;
    return true;
}

/* True when a valid record with an LSN >= lsn starts after off: the bad bytes at off
 * are then corruption, not a torn tail (recovery's rule). */
static bool chk_wal_follows(const uint8_t *buf, size_t size, size_t off, uint64_t lsn)
{
    for (size_t p = off + 1; p + WAL_REC_HDR_BYTES <= size; p++) {
        uint64_t l = chk_get64(buf + p + 12);
        uint32_t n;
        if (l >= lsn && l - lsn < (1ull << 32) && chk_wal_rec_ok(buf, size, p, l, &n))
            return true;
    }
    return false;
}

/* The payload decodes as recovery would apply it. */
static bool chk_wal_payload_ok(const uint8_t *rec)
{
    uint32_t plen = chk_get32(rec), type = chk_get32(rec + 8);
    const uint8_t *p = rec + WAL_REC_HDR_BYTES, *end = p + plen;
    if (type == WAL_REC_CLEAR)
        return plen == 12;
    if (type == WAL_REC_ABORT_PREPARED)
        return plen == 8;
    uint32_t hdr = type == WAL_REC_COMMIT ? 20 : 24;    /* two-phase records carry aux */
    if (plen < hdr)
        return false;
    if (type == WAL_REC_STAGED) {    /* aux = how many participant shard ids follow it */
        uint32_t nparts = chk_get32(p + 20);
        if (nparts > LIMIT_SHARDS_MAX || plen < hdr + 4 * nparts)
            return false;
        hdr += 4 * nparts;
    }
    uint32_t count = chk_get32(p + 16);
    p += hdr;
    for (uint32_t i = 0; i < count; i++) {
        if (end - p < 13)
            return false;
        uint32_t klen = chk_get32(p + 5), vlen = chk_get32(p + 9);
        if ((p[4] != WAL_OP_PUT && p[4] != WAL_OP_DELETE && p[4] != WAL_OP_RUN) ||
            klen > LIMIT_KEY_BYTES ||
            (p[4] == WAL_OP_RUN && (type == WAL_REC_COMMIT || klen != 8 || vlen != 0)))
            return false;    /* a run (spilled writes in sst/) only in two-phase records */
        p += 13;
        if ((size_t)(end - p) < (size_t)klen + vlen)
            return false;
        p += klen + vlen;
    }
    return p == end;
}

typedef struct chk_wal {
    chk_shard_t *sh;
    uint64_t next_lsn;
    bool lsn_known, first;
} chk_wal_t;

/* Checks one segment; last: the newest (a bad tail there may be a torn write). */
static void chk_wal_segment(chk_wal_t *w, const char *path, const char *name, bool last)
{
    chk_t *c = w->sh->c;
    uint8_t *buf;
    size_t size;
    if (chk_read_file(c, path, &buf, &size) != 0) {
        w->lsn_known = false;
        return;
    }
    c->st->segments++;
    if (size < WAL_SEG_HDR_BYTES || chk_get32(buf + 24) != crc32c(0, buf, 24)) {
        if (last && !chk_wal_follows(buf, size, 0, w->lsn_known ? w->next_lsn : 1))
            chk_report(c, false, path, "torn new segment (%zu bytes, header incomplete); "
                       "recovery removes it", size);
        else
            chk_report(c, true, path, "corrupt segment header at offset 0");
        w->lsn_known = false;
        goto done;
    }
    uint64_t first_lsn = chk_get64(buf + 16);
    if (memcmp(buf, WAL_MAGIC, 8) != 0 || chk_get32(buf + 8) != WAL_FORMAT_VERSION ||
        chk_get32(buf + 12) != (uint32_t)w->sh->shard_id || chk_get32(buf + 28) != 0 ||
        strtoull(name, NULL, 16) != first_lsn) {
        chk_report(c, true, path, "segment header does not match (version %u, shard %u, first "
                   "lsn %" PRIu64 ")", chk_get32(buf + 8), chk_get32(buf + 12), first_lsn);
        w->lsn_known = false;
        goto done;
    }
    if (w->first && first_lsn > w->sh->flushed_lsn + 1)
        chk_report(c, true, path, "starts at lsn %" PRIu64 " but the sorted tables end at lsn %"
                   PRIu64 ": records are missing", first_lsn, w->sh->flushed_lsn);
    if (!w->first && w->lsn_known && first_lsn != w->next_lsn)
        chk_report(c, true, path, "starts at lsn %" PRIu64 ", expected %" PRIu64 " (a segment "
                   "is missing or was cut)", first_lsn, w->next_lsn);
    w->next_lsn = first_lsn;
    w->lsn_known = true;
    size_t off = WAL_SEG_HDR_BYTES;
    while (off < size) {
        uint32_t n;
        if (!chk_wal_rec_ok(buf, size, off, w->next_lsn, &n)) {
            if (!last || chk_wal_follows(buf, size, off, w->next_lsn)) {
                chk_report(c, true, path, "corrupt record at offset %zu (lsn %" PRIu64 ")%s", off,
                           w->next_lsn, last ? ", followed by valid records" : "");
                w->lsn_known = false;
            } else {
                chk_report(c, false, path, "torn tail at offset %zu (%zu bytes); recovery cuts it",
                           off, size - off);
            }
            break;
        }
        if (!chk_wal_payload_ok(buf + off)) {
            chk_report(c, true, path, "record at offset %zu (lsn %" PRIu64 ") has a valid "
                       "checksum but malformed contents", off, w->next_lsn);
            w->lsn_known = false;
            break;
        }
        c->st->records++;
        off += n;
        w->next_lsn++;
    }
done:
    w->first = false;
    rt_free(buf);
}

static int chk_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void chk_wal_dir(chk_shard_t *sh)
{
    char dir[CHK_DIR_BYTES + 8], path[CHK_PATH_BYTES];
    snprintf(dir, sizeof dir, "%s/wal", sh->dir);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT)
            chk_report(sh->c, true, dir, "cannot list: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        if (s[0] == '.')
            continue;
        if (strlen(s) != 20 || strcmp(s + 16, ".wal") != 0 ||
            strspn(s, "0123456789abcdef") != 16) {
            snprintf(path, sizeof path, "%s/%s", dir, s);
            chk_report(sh->c, false, path, "not a WAL segment name; ignored by the server");
            continue;
        }
        if (n == cap) {
            if (cap >= LIMIT_WAL_SEGMENTS) {
                chk_report(sh->c, true, dir, "more than %d segments", LIMIT_WAL_SEGMENTS);
                break;
            }
            cap = cap ? cap * 2 : 16;
            char **nn = rt_realloc(names, cap * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = rt_malloc(21)))
            break;
        memcpy(names[n++], s, 21);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, chk_name_cmp);
    chk_wal_t w = {.sh = sh, .next_lsn = 1, .lsn_known = true, .first = true};
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        chk_wal_segment(&w, path, names[i], i + 1 == n);
    }
    for (size_t i = 0; i < n; i++)
        rt_free(names[i]);
    rt_free(names);
}

/* ---- data directory ---- */

static void chk_shard(chk_t *c, const char *dir, int shard_id)
{
    chk_shard_t *sh = rt_calloc(1, sizeof *sh);
    if (!sh) {
        chk_report(c, true, dir, "out of memory");
        return;
    }
    sh->c = c;
    sh->shard_id = shard_id;
    snprintf(sh->dir, sizeof sh->dir, "%s", dir);
    c->st->shards++;
    chk_manifest(sh);
    chk_shard_files(sh);
    chk_sst_dir(sh);
    chk_wal_dir(sh);
    rt_free(sh->files);
    rt_free(sh);
}

/* Takes DIR/nextdb.lock shared for the life of the check; -1 when a server has it
 * (message printed). The fd is returned so the caller keeps the lock until done. */
static int chk_lock(const char *dir, FILE *out)
{
    char path[CHK_PATH_BYTES];
    snprintf(path, sizeof path, "%s/nextdb.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(out, "nextdb check: cannot open lock file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t r = pread(fd, pid, sizeof pid - 1, 0);
        pid[r > 0 ? r : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        fprintf(out, "nextdb check: data directory %s is in use by a running nextdb server "
                "(pid %s); stop the server first: check reads files the server is changing\n",
                dir, pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    return fd;
}

static void chk_summary(chk_t *c)
{
    const check_stats_t *s = c->st;
    fprintf(c->out, "checked %u shard%s: %u manifest%s, %u sorted table%s (%" PRIu64 " blocks, %"
            PRIu64 " versions), %u WAL segment%s (%" PRIu64 " records): %" PRIu64 " problem%s, %"
            PRIu64 " warning%s\n", s->shards, s->shards == 1 ? "" : "s", s->manifests,
            s->manifests == 1 ? "" : "s", s->tables, s->tables == 1 ? "" : "s", s->blocks,
            s->versions, s->segments, s->segments == 1 ? "" : "s", s->records, s->problems,
            s->problems == 1 ? "" : "s", s->warnings, s->warnings == 1 ? "" : "s");
}

int check_data_dir(const char *dir, FILE *out, check_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    chk_t c = {out, stats};
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        fprintf(out, "nextdb check: cannot open data directory %s: %s\n", dir, strerror(errno));
        return CHECK_ENODIR;
    }
    if (!S_ISDIR(sb.st_mode) || strlen(dir) > CHK_DIR_BYTES - 32) {
        fprintf(out, "nextdb check: %s is not a directory or its path is too long\n", dir);
        return CHECK_ENODIR;
    }
    int lock_fd = chk_lock(dir, out);
    if (lock_fd < 0)
        return CHECK_EBUSY;
    /* Shard directories shard-000 .. shard-NNN must be contiguous from 0. */
    bool present[LIMIT_SHARDS_MAX] = {false};
    int highest = -1;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *s = e->d_name;
        if (strncmp(s, "shard-", 6) != 0)
            continue;
        long id = strlen(s) == 9 && strspn(s + 6, "0123456789") == 3 ? strtol(s + 6, NULL, 10) : -1;
        if (id < 0 || id >= LIMIT_SHARDS_MAX) {
            char path[CHK_PATH_BYTES];
            snprintf(path, sizeof path, "%s/%s", dir, s);
            chk_report(&c, false, path, "not a shard directory name; ignored by the server");
            continue;
        }
        present[id] = true;
        highest = id > highest ? (int)id : highest;
    }
    if (d)
        closedir(d);
    if (highest < 0)
        chk_report(&c, false, dir, "holds no shard directories (never started?)");
    for (int i = 0; i <= highest; i++) {
        char path[CHK_DIR_BYTES];
        snprintf(path, sizeof path, "%s/shard-%03d", dir, i);
        if (!present[i])
            chk_report(&c, true, path, "missing, but shard-%03d exists", highest);
        else
            chk_shard(&c, path, i);
    }
    chk_summary(&c);
    close(lock_fd);
    return CHECK_OK;
}
