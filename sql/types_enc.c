/*
 * types_enc.c -- the two storage encodings of values (see types.h).
 *
 * Keys (memcomparable): memcmp order of encodings == type_cmp order.
 *   int2/int4/int8/oid/date/timestamp[tz]: 8 bytes, big-endian, sign bit flipped; all
 *     integer widths share the form, so equal values of different widths encode equal.
 *   float4/float8: the float8 bits big-endian; positive values get the sign bit set,
 *     negative values are inverted; -0 becomes 0 and every NaN the one canonical NaN,
 *     which sorts above +Infinity, as in PostgreSQL.
 *   bool, "char": 1 byte.
 *   text types and bytea: bytes with 0x00 written as 0x00 0xFF, then 0x00 0x00; bpchar
 *     drops trailing spaces first (they do not count in comparisons).
 *
 * Rows: [varint ncols][null bitmap, 1 bit per column][values of non-null columns].
 *   Fixed-width values are little-endian at their natural width, unaligned. Variable
 *   values are padded with zero bytes to a 4-byte boundary (from the row's start), then
 *   a uint32 length and the bytes: that is a vstr_t in place, so decoding hands out
 *   pointers into the row without copying. Hence row_decode needs a 4-byte-aligned
 *   buffer (malloc'd and arena memory always is).
 */
#include "sql/types_int.h"

#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/types_json.h"
#include "sql/types_uuid.h"
#include "shards/store.h"

static bool key_is_int(type_oid_t t)
{
    switch (t) {
    case TYPE_INT2: case TYPE_INT4: case TYPE_INT8: case TYPE_OID: case TYPE_REGCLASS:
    case TYPE_REGTYPE: case TYPE_REGPROC: case TYPE_REGNAMESPACE: case TYPE_DATE: case TYPE_TIMESTAMP:
    case TYPE_TIMESTAMPTZ: case TYPE_TIME:
        return true;
    default:
        return false;
    }
}

/* Variable-length values: strings, bytea and arrays (a row stores an array's blob as
 * is; arrays never appear in keys, DDL refuses them there). */
static bool is_varlen(type_oid_t t)
{
    return types__is_string(t) || t == TYPE_BYTEA || type_is_array(t) || t == TYPE_VECTOR ||
           t == TYPE_JSON || t == TYPE_JSONB || t == TYPE_UUID || t == TYPE_NUMERIC || t == TYPE_INTERVAL;
}

/* numeric (sql/numeric.h wire form, normalized): a class byte (-Infinity, negative,
 * zero, positive, +Infinity, NaN: PostgreSQL's order, NaN above all), then for a
 * nonzero value v = +-0.d1 d2 ... * 10^E the exponent E (biased, big-endian 32 bits)
 * and the decimal digits without trailing zeros as bytes 1 + d, ended by 0x00;
 * negative values store both complemented (exponent inverted, digit bytes 10 - d,
 * ended by 0xFF), so bytes compare as the values do, and the display scale is not
 * in the key (1.0 and 1.00 are one key, as in PostgreSQL's btree). */
static void numeric_key_encode(const vstr_t *v, strbuf_t *out)
{
    const uint8_t *p = (const uint8_t *)v->data;
    if (v->len < 8) {
        strbuf_put_u8(out, 0x03);
        return;
    }
    int nd = p[0] << 8 | p[1];
    int weight = (int16_t)(p[2] << 8 | p[3]);
    int sign = p[4] << 8 | p[5];
    if (sign == 0xC000 || sign == 0xD000 || sign == 0xF000) {
        strbuf_put_u8(out, sign == 0xF000 ? 0x01 : sign == 0xD000 ? 0x05 : 0x06);
        return;
    }
    if (nd == 0 || (size_t)8 + 2 * (size_t)nd > v->len) {
        strbuf_put_u8(out, 0x03);
        return;
    }
    bool neg = sign == 0x4000;
    strbuf_put_u8(out, neg ? 0x02 : 0x04);
    int first = p[8] << 8 | p[9];
    int lead = first >= 1000 ? 4 : first >= 100 ? 3 : first >= 10 ? 2 : 1;
    uint32_t e = (uint32_t)((int64_t)weight * 4 + lead) + (UINT32_C(1) << 31);
    strbuf_put_be32(out, neg ? ~e : e);
    /* the decimal digits, trailing zeros dropped */
    int last = nd - 1;
    int lastd = p[8 + 2 * last] << 8 | p[9 + 2 * last];
    int drop = 0;
    while (lastd % 10 == 0 && drop < 4) {
        lastd /= 10;
        drop++;
    }
    for (int i = 0; i < nd; i++) {
        int g = p[8 + 2 * i] << 8 | p[9 + 2 * i];
        int digs = i == 0 ? lead : 4, stop = i == last ? drop : 0;
        static const int pow10[4] = {1, 10, 100, 1000};
        for (int k = digs - 1; k >= stop; k--) {
            int dgt = g / pow10[k] % 10;
            strbuf_put_u8(out, (uint8_t)(neg ? 10 - dgt : 1 + dgt));
        }
    }
    strbuf_put_u8(out, neg ? 0xFF : 0x00);
}

void type_key_encode(type_oid_t t, datum_t d, strbuf_t *out)
{
    if (t == TYPE_NUMERIC) {
        numeric_key_encode(d.s, out);
    } else if (key_is_int(t)) {
        strbuf_put_be64(out, (uint64_t)d.i64 ^ (UINT64_C(1) << 63));
    } else if (t == TYPE_FLOAT4 || t == TYPE_FLOAT8) {
        double v = d.f64;
        if (v == 0) v = 0;
        if (isnan(v)) v = NAN;
        uint64_t u;
        memcpy(&u, &v, 8);
        u = (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
        strbuf_put_be64(out, u);
    } else if (t == TYPE_BOOL || t == TYPE_CHAR) {
        strbuf_put_u8(out, (uint8_t)d.i64);
    } else {
        ASSERT(is_varlen(t));
        size_t n = t == TYPE_BPCHAR ? types__trim_bpchar(d.s->data, d.s->len) : d.s->len;
        const char *p = d.s->data;
        for (size_t i = 0; i < n; i++) {
            strbuf_putc(out, p[i]);
            if (p[i] == 0) strbuf_put_u8(out, 0xFF);
        }
        strbuf_put_be16(out, 0);
    }
}

int type_key_decode(type_oid_t t, const uint8_t **pp, const uint8_t *end, arena_t *a, datum_t *out)
{
    const uint8_t *p = *pp;
    if (t == TYPE_NUMERIC)
        return -1;          /* the key drops the display scale: rows carry the value */
    if (key_is_int(t) || t == TYPE_FLOAT4 || t == TYPE_FLOAT8) {
        if (end - p < 8) return -1;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | p[i];
        if (key_is_int(t)) {
            out->i64 = (int64_t)(u ^ (UINT64_C(1) << 63));
        } else {
            u = (u >> 63) ? u & ~(UINT64_C(1) << 63) : ~u;
            memcpy(&out->f64, &u, 8);
        }
        *pp = p + 8;
        return 0;
    }
    if (t == TYPE_BOOL || t == TYPE_CHAR) {
        if (p >= end) return -1;
        out->i64 = *p;
        *pp = p + 1;
        return 0;
    }
    if (!is_varlen(t)) return -1;
    /* First pass: find the terminator and the decoded length. */
    size_t n = 0;
    const uint8_t *q = p;
    for (;;) {
        if (q >= end) return -1;
        if (*q != 0) { q++; n++; continue; }
        if (q + 1 >= end) return -1;
        if (q[1] == 0) break;
        if (q[1] != 0xFF) return -1;
        q += 2;
        n++;
    }
    vstr_t *v = vstr_new(a, NULL, n);
    if (!v) return -1;
    size_t k = 0;
    for (const uint8_t *r = p; r < q; r++) {
        v->data[k++] = (char)*r;
        if (*r == 0) r++;
    }
    out->s = v;
    *pp = q + 2;
    return 0;
}

/* ---- rows ---- */

static int fixed_width(type_oid_t t)
{
    switch (t) {
    case TYPE_BOOL: case TYPE_CHAR: return 1;
    case TYPE_INT2: return 2;
    case TYPE_INT4: case TYPE_OID: case TYPE_REGCLASS: case TYPE_REGTYPE: case TYPE_REGPROC:
    case TYPE_REGNAMESPACE: case TYPE_FLOAT4: case TYPE_DATE: return 4;
    case TYPE_INT8: case TYPE_FLOAT8: case TYPE_TIMESTAMP: case TYPE_TIMESTAMPTZ: case TYPE_TIME: return 8;
    case TYPE_VOID: return 0;
    default: return -1;
    }
}

static void put_varint(strbuf_t *out, uint64_t v)
{
    while (v >= 0x80) { strbuf_put_u8(out, (uint8_t)(v | 0x80)); v >>= 7; }
    strbuf_put_u8(out, (uint8_t)v);
}

static int get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pp >= end) return -1;
        uint8_t b = *(*pp)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

int row_stored_columns(const uint8_t *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t stored;
    if (get_varint(&p, buf + len, &stored) < 0 || stored > INT32_MAX)
        return -1;
    return (int)stored;
}

void row_encode(int ncols, const type_oid_t *types, const datum_t *vals, const bool *nulls,
                strbuf_t *out)
{
    ASSERT(ncols >= 0 && ncols <= LIMIT_SQL_COLUMNS);
    size_t start = out->len;
    put_varint(out, (uint64_t)ncols);
    for (int i = 0; i < ncols; i += 8) {
        uint8_t bits = 0;
        for (int j = 0; j < 8 && i + j < ncols; j++)
            if (nulls[i + j]) bits |= (uint8_t)(1u << j);
        strbuf_put_u8(out, bits);
    }
    for (int i = 0; i < ncols; i++) {
        if (nulls[i]) continue;
        int w = fixed_width(types[i]);
        if (w >= 0) {
            uint64_t u;
            if (types[i] == TYPE_FLOAT4) { float f = (float)vals[i].f64; uint32_t u4; memcpy(&u4, &f, 4); u = u4; }
            else if (types[i] == TYPE_FLOAT8) memcpy(&u, &vals[i].f64, 8);
            else u = (uint64_t)vals[i].i64;
            for (int k = 0; k < w; k++) strbuf_put_u8(out, (uint8_t)(u >> (8 * k)));
            continue;
        }
        ASSERT(is_varlen(types[i]));
        while ((out->len - start) % 4) strbuf_put_u8(out, 0);
        uint32_t n = vals[i].s->len;
        strbuf_append(out, &n, 4);
        strbuf_append(out, vals[i].s->data, n);
    }
}

int row_decode(const uint8_t *buf, size_t len, int ncols, const type_oid_t *types,
               datum_t *vals, bool *nulls)
{
    if (((uintptr_t)buf & 3) != 0 || ncols < 0)
        return -1;
    const uint8_t *p = buf, *end = buf + len;
    uint64_t stored;
    if (get_varint(&p, end, &stored) < 0 || stored > (uint64_t)ncols)
        return -1;
    size_t nbytes = (size_t)(stored + 7) / 8;
    if ((size_t)(end - p) < nbytes) return -1;
    const uint8_t *bitmap = p;
    p += nbytes;
    for (int i = 0; i < ncols; i++) {
        nulls[i] = (uint64_t)i >= stored || (bitmap[i / 8] >> (i % 8) & 1);
        vals[i].i64 = 0;
        if (nulls[i]) continue;
        int w = fixed_width(types[i]);
        if (w >= 0) {
            if (end - p < w) return -1;
            uint64_t u = 0;
            for (int k = w - 1; k >= 0; k--) u = u << 8 | p[k];
            p += w;
            if (types[i] == TYPE_FLOAT4) { uint32_t u4 = (uint32_t)u; float f; memcpy(&f, &u4, 4); vals[i].f64 = f; }
            else if (types[i] == TYPE_FLOAT8) memcpy(&vals[i].f64, &u, 8);
            else if (w == 2) vals[i].i64 = (int16_t)u;
            else if (w == 4 && types[i] != TYPE_INT4 && types[i] != TYPE_DATE) vals[i].i64 = (uint32_t)u;
            else if (w == 4) vals[i].i64 = (int32_t)u;
            else vals[i].i64 = (int64_t)u;
            continue;
        }
        if (!is_varlen(types[i])) return -1;
        while ((size_t)(p - buf) % 4) {
            if (p >= end || *p != 0) return -1;
            p++;
        }
        if (end - p < 4) return -1;
        const vstr_t *v = (const vstr_t *)(const void *)p;
        if ((size_t)(end - p - 4) < v->len) return -1;
        vals[i].s = v;
        p += 4 + v->len;
    }
    return p == end ? 0 : -1;
}

/* ---- the row codec of sorted table format 2 (shards/store.h, "column layouts") ----
 * A row splits into one cell per column: fixed-width values are their little-endian
 * bytes in the row, variable values their bytes without the alignment padding and
 * the length word. Only rows of exactly ncols stored columns split (a row written
 * before ADD COLUMN has fewer and stays in an opaque block); joining re-creates the
 * row byte for byte, padding included. */

static int row_split(const uint8_t *v, uint32_t vlen, uint32_t ncols, const uint8_t *width,
                     store_cell_t *cells)
{
    const uint8_t *p = v, *end = v + vlen;
    uint64_t stored;
    if (get_varint(&p, end, &stored) < 0 || stored != ncols)
        return -1;
    size_t nbytes = (ncols + 7) / 8;
    if ((size_t)(end - p) < nbytes)
        return -1;
    const uint8_t *bitmap = p;
    p += nbytes;
    for (uint32_t i = 0; i < ncols; i++) {
        cells[i] = (store_cell_t){NULL, 0, (bitmap[i / 8] >> (i % 8) & 1) != 0};
        if (cells[i].null)
            continue;
        if (width[i]) {
            if ((size_t)(end - p) < width[i])
                return -1;
            cells[i].ptr = p;
            cells[i].len = width[i];
            p += width[i];
            continue;
        }
        while ((size_t)(p - v) % 4) {
            if (p >= end || *p != 0)
                return -1;
            p++;
        }
        if (end - p < 4)
            return -1;
        uint32_t n;
        memcpy(&n, p, 4);
        if ((size_t)(end - p - 4) < n)
            return -1;
        cells[i].ptr = p + 4;
        cells[i].len = n;
        p += 4 + n;
    }
    /* trailing bits of the bitmap must be clear, as row_encode leaves them */
    if (ncols % 8 && bitmap[nbytes - 1] >> (ncols % 8))
        return -1;
    return p == end ? 0 : -1;
}

static int64_t row_join(uint32_t ncols, const uint8_t *width, const store_cell_t *cells, uint8_t *out,
                        size_t cap)
{
    /* the length first, then the bytes when they fit */
    uint64_t len = 0;
    for (uint64_t v = ncols; ; v >>= 7) {
        len++;
        if (v < 0x80)
            break;
    }
    len += (ncols + 7) / 8;
    for (uint32_t i = 0; i < ncols; i++) {
        if (cells[i].null)
            continue;
        if (width[i]) {
            if (cells[i].len != width[i])
                return -1;
            len += width[i];
        } else {
            len = (len + 3) & ~(uint64_t)3;
            len += 4 + (uint64_t)cells[i].len;
        }
    }
    if (len > UINT32_MAX)
        return -1;
    if (cap < len)
        return (int64_t)len;
    uint8_t *p = out;
    uint64_t v = ncols;
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    size_t nbytes = (ncols + 7) / 8;
    memset(p, 0, nbytes);
    for (uint32_t i = 0; i < ncols; i++)
        if (cells[i].null)
            p[i / 8] |= (uint8_t)(1u << (i % 8));
    p += nbytes;
    for (uint32_t i = 0; i < ncols; i++) {
        if (cells[i].null)
            continue;
        if (width[i]) {
            memcpy(p, cells[i].ptr, width[i]);
            p += width[i];
            continue;
        }
        while ((size_t)(p - out) % 4)
            *p++ = 0;
        uint32_t n = cells[i].len;
        memcpy(p, &n, 4);
        if (n)
            memcpy(p + 4, cells[i].ptr, n);
        p += 4 + n;
    }
    return (int64_t)len;
}

static const store_row_codec_t row_codec = {row_split, row_join};

const store_row_codec_t *row_store_codec(void) { return &row_codec; }

int row_fixed_width(type_oid_t t) { return fixed_width(t); }

bool row_store_layout(int ncols, const type_oid_t *types, store_layout_t *out)
{
    if (ncols <= 0 || ncols > STORE_LAYOUT_MAX_COLS)
        return false;
    uint64_t h = 0xcbf29ce484222325ull;
    out->ncols = (uint32_t)ncols;
    for (int i = 0; i < ncols; i++) {
        int w = fixed_width(types[i]);
        if (w == 0 || (w < 0 && !is_varlen(types[i])))
            return false;
        uint8_t kind = STORE_COL_BYTES;
        if (w > 0) {
            switch (types[i]) {
            case TYPE_FLOAT4: case TYPE_FLOAT8: kind = STORE_COL_FLOAT; break;
            case TYPE_INT2: case TYPE_INT4: case TYPE_INT8: case TYPE_DATE: case TYPE_TIMESTAMP:
            case TYPE_TIMESTAMPTZ: case TYPE_TIME: kind = STORE_COL_INT; break;
            default: kind = STORE_COL_UINT; break;
            }
        }
        out->width[i] = w > 0 ? (uint8_t)w : 0;
        out->kind[i] = kind;
        h = (h ^ out->width[i]) * 0x100000001b3ull;
        h = (h ^ kind) * 0x100000001b3ull;
    }
    /* the version identifies the physical description (stable across restarts) */
    out->version = (uint32_t)(h ^ (h >> 32));
    return true;
}
