/*
 * builtins_str.c -- string functions (lower, substr, lpad, concat, md5, ...), with
 * PostgreSQL 15's semantics: positions and lengths count characters (UTF-8), bpchar
 * arguments have already been cast to text by resolution (dropping the padding),
 * errors worded as PostgreSQL's.
 *
 * Limit: case mapping covers ASCII, Latin-1, Latin Extended-A, basic Greek and
 * Cyrillic (what C.UTF-8 maps in practice for common text); other scripts pass
 * through unchanged.
 */
#include "sql/builtins_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/types_int.h"

int builtins__oom(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
}

int builtins__ret_str(const builtin_ctx_t *ctx, const char *p, size_t n, datum_t *out, sql_error_t *err)
{
    if (n > LIMIT_TEXT_VALUE_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "requested length too large");
    vstr_t *v = vstr_new(ctx->arena, p, n);
    if (!v) return builtins__oom(err);
    out->s = v;
    return 0;
}

/* Result of a strbuf, freeing it. */
static int ret_sb(const builtin_ctx_t *ctx, strbuf_t *sb, datum_t *out, sql_error_t *err)
{
    int rc = sb->oom ? builtins__oom(err) : builtins__ret_str(ctx, sb->data ? sb->data : "", sb->len, out, err);
    strbuf_free(sb);
    return rc;
}

/* ---- UTF-8 ---- */

static size_t u8len(uint8_t c)
{
    return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
}

static uint32_t u8dec(const char *s, size_t n, size_t *used)
{
    uint8_t c = (uint8_t)s[0];
    size_t k = u8len(c);
    if (k > n) k = 1;
    *used = k;
    if (k == 1) return c;
    uint32_t cp = c & (0x7F >> k);
    for (size_t i = 1; i < k; i++) cp = cp << 6 | ((uint8_t)s[i] & 0x3F);
    return cp;
}

static void u8put(strbuf_t *sb, uint32_t cp)
{
    if (cp < 0x80) { strbuf_putc(sb, (char)cp); return; }
    if (cp < 0x800) { strbuf_putc(sb, (char)(0xC0 | cp >> 6)); }
    else if (cp < 0x10000) { strbuf_putc(sb, (char)(0xE0 | cp >> 12)); strbuf_putc(sb, (char)(0x80 | (cp >> 6 & 0x3F))); }
    else {
        strbuf_putc(sb, (char)(0xF0 | cp >> 18));
        strbuf_putc(sb, (char)(0x80 | (cp >> 12 & 0x3F)));
        strbuf_putc(sb, (char)(0x80 | (cp >> 6 & 0x3F)));
    }
    strbuf_putc(sb, (char)(0x80 | (cp & 0x3F)));
}

/* Byte offset of character number `chars` (0-based), clamped to n. */
static size_t char_off(const char *s, size_t n, int64_t chars)
{
    size_t i = 0;
    while (chars-- > 0 && i < n) i += u8len((uint8_t)s[i]);
    return i < n ? i : n;
}

static bool cp_is_upper(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
           (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x400 && c <= 0x42F) ||
           (c >= 0x100 && c <= 0x17F && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F &&
            ((c >= 0x139 && c <= 0x148) || (c >= 0x179) ? (c & 1) : !(c & 1)));
}

static bool cp_is_lower(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7) ||
           (c >= 0x3B1 && c <= 0x3C9) || (c >= 0x430 && c <= 0x45F) ||
           (c >= 0x100 && c <= 0x17F && !cp_is_upper(c));
}

/* Greek letters with tonos sit outside the contiguous alphabet. */
static const uint16_t greek_tonos[][2] = {
    {0x386, 0x3AC}, {0x388, 0x3AD}, {0x389, 0x3AE}, {0x38A, 0x3AF}, {0x38C, 0x3CC}, {0x38E, 0x3CD},
    {0x38F, 0x3CE},
};

static uint32_t cp_lower(uint32_t c)
{
    for (size_t i = 0; i < sizeof greek_tonos / sizeof greek_tonos[0]; i++)
        if (c == greek_tonos[i][0]) return greek_tonos[i][1];
    if (!cp_is_upper(c)) return c;
    if (c < 0x80 || c < 0x100 || (c >= 0x391 && c <= 0x3A9) || (c >= 0x410 && c <= 0x42F)) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c == 0x130 ? 'i' : c == 0x178 ? 0xFF : c + 1;
}

static uint32_t cp_upper(uint32_t c)
{
    for (size_t i = 0; i < sizeof greek_tonos / sizeof greek_tonos[0]; i++)
        if (c == greek_tonos[i][1]) return greek_tonos[i][0];
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    if (c == 0x3C2) return 0x3A3;          /* final sigma */
    if (!cp_is_lower(c) || c == 0xDF || c == 0x138 || c == 0x149)
        return c;
    if (c == 0xFF) return 0x178;
    if (c < 0x100 || (c >= 0x3B1 && c <= 0x3C9) || (c >= 0x430 && c <= 0x44F)) return c - 0x20;
    if (c >= 0x450 && c <= 0x45F) return c - 0x50;
    return c - 1;
}

static bool cp_is_alnum(uint32_t c)
{
    /* Every letter outside ASCII counts, so initcap treats it as part of a word. */
    return (c >= '0' && c <= '9') || cp_is_upper(c) || cp_is_lower(c) || (c >= 0x80 && c != 0xD7 && c != 0xF7 && c > 0xBF);
}

static int map_case(const builtin_ctx_t *ctx, const vstr_t *v, int mode, datum_t *out, sql_error_t *err)
{
    strbuf_t sb;
    strbuf_init(&sb);
    bool word_start = true;
    for (size_t i = 0, used; i < v->len; i += used) {
        uint32_t c = u8dec(v->data + i, v->len - i, &used);
        uint32_t m = mode == 0 ? cp_lower(c) : mode == 1 ? cp_upper(c) : word_start ? cp_upper(c) : cp_lower(c);
        if (mode == 2) word_start = !cp_is_alnum(c);
        u8put(&sb, m);
    }
    return ret_sb(ctx, &sb, out, err);
}

BUILTIN_FN(bi_lower) { return map_case(ctx, args[0].s, 0, out, err); }
BUILTIN_FN(bi_upper) { return map_case(ctx, args[0].s, 1, out, err); }
BUILTIN_FN(bi_initcap) { return map_case(ctx, args[0].s, 2, out, err); }

BUILTIN_FN(bi_length)
{
    out->i64 = argtypes[0] == TYPE_BYTEA ? (int64_t)args[0].s->len
                                         : (int64_t)types__char_count(args[0].s->data, args[0].s->len);
    return 0;
}

BUILTIN_FN(bi_length_bpchar)
{
    out->i64 = (int64_t)types__char_count(args[0].s->data, types__trim_bpchar(args[0].s->data, args[0].s->len));
    return 0;
}

BUILTIN_FN(bi_octet_length)
{
    out->i64 = args[0].s->len;
    return 0;
}

/* substr(s, start [, count]) on characters (text) or bytes (bytea): characters
 * start .. start+count-1, 1-based, clipped to the string. */
static int substr_common(const builtin_ctx_t *ctx, int nargs, const datum_t *args, bool bytes,
                         datum_t *out, sql_error_t *err)
{
    const vstr_t *v = args[0].s;
    int64_t start = args[1].i64, end = INT64_MAX;
    if (nargs == 3) {
        if (args[2].i64 < 0)
            return sql_error(err, "22011", "negative substring length not allowed");
        end = start + args[2].i64;     /* int4 + int4 cannot overflow int64 */
    }
    int64_t from = start < 1 ? 1 : start;
    if (end <= from) return builtins__ret_str(ctx, "", 0, out, err);
    size_t b0, b1;
    if (bytes) {
        b0 = from - 1 < (int64_t)v->len ? (size_t)(from - 1) : v->len;
        b1 = end - 1 < (int64_t)v->len ? (size_t)(end - 1) : v->len;
    } else {
        b0 = char_off(v->data, v->len, from - 1);
        b1 = end == INT64_MAX ? v->len : b0 + char_off(v->data + b0, v->len - b0, end - from);
    }
    return builtins__ret_str(ctx, v->data + b0, b1 - b0, out, err);
}

BUILTIN_FN(bi_substr) { return substr_common(ctx, nargs, args, false, out, err); }
BUILTIN_FN(bi_substr_bytea) { return substr_common(ctx, nargs, args, true, out, err); }

static const char *find(const char *h, size_t hn, const char *n, size_t nn)
{
    return nn == 0 ? h : memmem(h, hn, n, nn);
}

BUILTIN_FN(bi_strpos)
{
    const vstr_t *h = args[0].s, *n = args[1].s;
    const char *p = find(h->data, h->len, n->data, n->len);
    out->i64 = !p ? 0 : argtypes[0] == TYPE_BYTEA ? (int64_t)(p - h->data) + 1
                    : (int64_t)types__char_count(h->data, (size_t)(p - h->data)) + 1;
    return 0;
}

BUILTIN_FN(bi_replace)
{
    const vstr_t *s = args[0].s, *from = args[1].s, *to = args[2].s;
    if (from->len == 0) return builtins__ret_str(ctx, s->data, s->len, out, err);
    strbuf_t sb;
    strbuf_init(&sb);
    const char *p = s->data, *e = s->data + s->len, *q;
    while ((q = memmem(p, (size_t)(e - p), from->data, from->len))) {
        strbuf_append(&sb, p, (size_t)(q - p));
        strbuf_append(&sb, to->data, to->len);
        p = q + from->len;
        if (sb.len > LIMIT_TEXT_VALUE_BYTES) break;
    }
    strbuf_append(&sb, p, (size_t)(e - p));
    return ret_sb(ctx, &sb, out, err);
}

/* Whether the character at s (used bytes) is one of the characters of set. */
static bool in_set(const char *s, size_t used, const char *set, size_t set_len)
{
    for (size_t i = 0, k; i < set_len; i += k) {
        k = u8len((uint8_t)set[i]);
        if (k == used && i + k <= set_len && !memcmp(set + i, s, k)) return true;
    }
    return false;
}

static int trim_common(const builtin_ctx_t *ctx, int nargs, const datum_t *args, bool left, bool right,
                       datum_t *out, sql_error_t *err)
{
    const vstr_t *s = args[0].s;
    const char *set = nargs > 1 ? args[1].s->data : " ";
    size_t set_len = nargs > 1 ? args[1].s->len : 1;
    size_t b = 0, e = s->len;
    if (left)
        while (b < e && in_set(s->data + b, u8len((uint8_t)s->data[b]), set, set_len)) b += u8len((uint8_t)s->data[b]);
    if (right) {
        while (e > b) {
            size_t k = e - 1;
            while (k > b && ((uint8_t)s->data[k] & 0xC0) == 0x80) k--;
            if (!in_set(s->data + k, e - k, set, set_len)) break;
            e = k;
        }
    }
    return builtins__ret_str(ctx, s->data + b, e - b, out, err);
}

BUILTIN_FN(bi_btrim) { return trim_common(ctx, nargs, args, true, true, out, err); }
BUILTIN_FN(bi_ltrim) { return trim_common(ctx, nargs, args, true, false, out, err); }
BUILTIN_FN(bi_rtrim) { return trim_common(ctx, nargs, args, false, true, out, err); }

static int pad_common(const builtin_ctx_t *ctx, int nargs, const datum_t *args, bool left,
                      datum_t *out, sql_error_t *err)
{
    const vstr_t *s = args[0].s;
    int64_t want = args[1].i64;
    const char *fill = nargs > 2 ? args[2].s->data : " ";
    size_t fill_len = nargs > 2 ? args[2].s->len : 1;
    if (want <= 0) return builtins__ret_str(ctx, "", 0, out, err);
    size_t have = types__char_count(s->data, s->len);
    if ((size_t)want <= have || fill_len == 0)
        return builtins__ret_str(ctx, s->data, char_off(s->data, s->len, want), out, err);
    if ((uint64_t)want * 4 > LIMIT_TEXT_VALUE_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "requested length too large");
    strbuf_t sb;
    strbuf_init(&sb);
    if (!left) strbuf_append(&sb, s->data, s->len);
    for (size_t n = (size_t)want - have, i = 0; n > 0; n--) {
        size_t k = u8len((uint8_t)fill[i]);
        strbuf_append(&sb, fill + i, k);
        i += k;
        if (i >= fill_len) i = 0;
    }
    if (left) strbuf_append(&sb, s->data, s->len);
    return ret_sb(ctx, &sb, out, err);
}

BUILTIN_FN(bi_lpad) { return pad_common(ctx, nargs, args, true, out, err); }
BUILTIN_FN(bi_rpad) { return pad_common(ctx, nargs, args, false, out, err); }

BUILTIN_FN(bi_left)
{
    const vstr_t *s = args[0].s;
    int64_t n = args[1].i64, chars = (int64_t)types__char_count(s->data, s->len);
    int64_t keep = n >= 0 ? n : chars + n;
    return builtins__ret_str(ctx, s->data, keep <= 0 ? 0 : char_off(s->data, s->len, keep), out, err);
}

BUILTIN_FN(bi_right)
{
    const vstr_t *s = args[0].s;
    int64_t n = args[1].i64, chars = (int64_t)types__char_count(s->data, s->len);
    int64_t skip = n >= 0 ? chars - n : -n;
    size_t b = skip <= 0 ? 0 : char_off(s->data, s->len, skip);
    return builtins__ret_str(ctx, s->data + b, s->len - b, out, err);
}

BUILTIN_FN(bi_repeat)
{
    const vstr_t *s = args[0].s;
    int64_t n = args[1].i64;
    if (n <= 0 || s->len == 0) return builtins__ret_str(ctx, "", 0, out, err);
    if ((uint64_t)n * s->len > LIMIT_TEXT_VALUE_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "requested length too large");
    vstr_t *v = vstr_new(ctx->arena, NULL, (size_t)n * s->len);
    if (!v) return builtins__oom(err);
    for (int64_t i = 0; i < n; i++) memcpy(v->data + (size_t)i * s->len, s->data, s->len);
    out->s = v;
    return 0;
}

BUILTIN_FN(bi_reverse)
{
    const vstr_t *s = args[0].s;
    vstr_t *v = vstr_new(ctx->arena, NULL, s->len);
    if (!v) return builtins__oom(err);
    for (size_t i = 0, k; i < s->len; i += k) {
        k = u8len((uint8_t)s->data[i]);
        if (i + k > s->len) k = s->len - i;
        memcpy(v->data + s->len - i - k, s->data + i, k);
    }
    out->s = v;
    return 0;
}

/* concat/concat_ws: each non-null argument in its text output form. */
static int concat_common(const builtin_ctx_t *ctx, int first, const vstr_t *sep, int nargs,
                         const datum_t *args, const bool *nulls, const type_oid_t *argtypes,
                         datum_t *out, sql_error_t *err)
{
    strbuf_t sb;
    strbuf_init(&sb);
    bool any = false;
    for (int i = first; i < nargs; i++) {
        if (nulls[i]) continue;
        if (any && sep) strbuf_append(&sb, sep->data, sep->len);
        any = true;
        type_out_text(argtypes[i], -1, args[i], &sb);
        if (sb.len > LIMIT_TEXT_VALUE_BYTES) break;
    }
    return ret_sb(ctx, &sb, out, err);
}

BUILTIN_FN(bi_concat) { return concat_common(ctx, 0, NULL, nargs, args, nulls, argtypes, out, err); }

BUILTIN_FN(bi_concat_ws)
{
    if (nulls[0]) { *isnull = true; return 0; }
    return concat_common(ctx, 1, args[0].s, nargs, args, nulls, argtypes, out, err);
}

BUILTIN_FN(bi_split_part)
{
    const vstr_t *s = args[0].s, *d = args[1].s;
    int64_t n = args[2].i64;
    if (n == 0) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "field position must not be zero");
    if (d->len == 0)
        return n == 1 || n == -1 ? builtins__ret_str(ctx, s->data, s->len, out, err)
                                 : builtins__ret_str(ctx, "", 0, out, err);
    /* Count the fields, then pick field n (from the end when negative). */
    int64_t fields = 1;
    for (const char *p = s->data, *e = s->data + s->len, *q; (q = memmem(p, (size_t)(e - p), d->data, d->len));
         p = q + d->len)
        fields++;
    if (n < 0) n = fields + n + 1;
    if (n < 1 || n > fields) return builtins__ret_str(ctx, "", 0, out, err);
    const char *p = s->data, *e = s->data + s->len;
    for (int64_t i = 1; i < n; i++) p = (const char *)memmem(p, (size_t)(e - p), d->data, d->len) + d->len;
    const char *q = memmem(p, (size_t)(e - p), d->data, d->len);
    return builtins__ret_str(ctx, p, (size_t)((q ? q : e) - p), out, err);
}

BUILTIN_FN(bi_starts_with)
{
    const vstr_t *s = args[0].s, *p = args[1].s;
    out->i64 = p->len <= s->len && !memcmp(s->data, p->data, p->len);
    return 0;
}

BUILTIN_FN(bi_md5)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(args[0].s->data, args[0].s->len, md, &n, EVP_md5(), NULL))
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not compute MD5 hash");
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned int i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return builtins__ret_str(ctx, hex, 2 * n, out, err);
}

BUILTIN_FN(bi_to_hex32)
{
    char buf[20];
    int n = snprintf(buf, sizeof buf, "%x", (uint32_t)args[0].i64);
    return builtins__ret_str(ctx, buf, (size_t)n, out, err);
}

BUILTIN_FN(bi_to_hex64)
{
    char buf[20];
    int n = snprintf(buf, sizeof buf, "%llx", (unsigned long long)args[0].i64);
    return builtins__ret_str(ctx, buf, (size_t)n, out, err);
}

BUILTIN_FN(bi_chr)
{
    int64_t c = args[0].i64;
    if (c == 0) return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "null character not permitted");
    if (c < 0) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "character number must be positive");
    if (c > 0x10FFFF)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "requested character too large for encoding: %lld", (long long)c);
    if (c >= 0xD800 && c <= 0xDFFF)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "requested character not valid for encoding: %lld", (long long)c);
    strbuf_t sb;
    strbuf_init(&sb);
    u8put(&sb, (uint32_t)c);
    return ret_sb(ctx, &sb, out, err);
}

BUILTIN_FN(bi_ascii)
{
    size_t used;
    out->i64 = args[0].s->len ? u8dec(args[0].s->data, args[0].s->len, &used) : 0;
    return 0;
}

BUILTIN_FN(bi_translate)
{
    const vstr_t *s = args[0].s, *from = args[1].s, *to = args[2].s;
    strbuf_t sb;
    strbuf_init(&sb);
    for (size_t i = 0, k; i < s->len; i += k) {
        k = u8len((uint8_t)s->data[i]);
        if (i + k > s->len) k = s->len - i;
        /* Position (in characters) of this character in `from`. */
        int64_t pos = -1, ci = 0;
        for (size_t j = 0, fk; j < from->len; j += fk, ci++) {
            fk = u8len((uint8_t)from->data[j]);
            if (fk == k && j + fk <= from->len && !memcmp(from->data + j, s->data + i, k)) { pos = ci; break; }
        }
        if (pos < 0) { strbuf_append(&sb, s->data + i, k); continue; }
        size_t t0 = char_off(to->data, to->len, pos);
        if (t0 < to->len) strbuf_append(&sb, to->data + t0, u8len((uint8_t)to->data[t0]));
    }
    return ret_sb(ctx, &sb, out, err);
}

BUILTIN_FN(bi_quote_literal)
{
    const vstr_t *s = args[0].s;
    strbuf_t sb;
    strbuf_init(&sb);
    if (memchr(s->data, '\\', s->len)) strbuf_putc(&sb, 'E');
    strbuf_putc(&sb, '\'');
    for (size_t i = 0; i < s->len; i++) {
        if (s->data[i] == '\'' || s->data[i] == '\\') strbuf_putc(&sb, s->data[i]);
        strbuf_putc(&sb, s->data[i]);
    }
    strbuf_putc(&sb, '\'');
    return ret_sb(ctx, &sb, out, err);
}
