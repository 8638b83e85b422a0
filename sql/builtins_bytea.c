/*
 * builtins_bytea.c -- bytea functions: get_byte / set_byte, encode / decode (hex,
 * base64, escape), sha224/256/384/512, bytea || bytea (byteacat). octet_length,
 * length, substr/substring, position and md5 on bytea live with their text
 * twins in builtins_str.c.
 *
 * Formats and messages are PostgreSQL 15's (encode.c): base64 lines of 76
 * characters joined by "\n"; escape output writes NUL, backslash and bytes >= 0x80
 * as \ooo (backslash as \\).
 */
#include <openssl/evp.h>
#include <string.h>

#include "core/limits.h"
#include "sql/builtins_int.h"

#define BY TYPE_BYTEA
#define T TYPE_TEXT
#define I4 TYPE_INT4

static int ret_bytes(const builtin_ctx_t *ctx, const char *p, size_t n, datum_t *out, sql_error_t *err)
{
    return builtins__ret_str(ctx, p, n, out, err);
}

static int range_error(int64_t i, uint32_t len, sql_error_t *err)
{
    return sql_error(err, "2202E", "index %lld out of valid range, 0..%lld", (long long)i, (long long)len - 1);
}

static BUILTIN_FN(bi_get_byte)
{
    (void)ctx; (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    const vstr_t *s = args[0].s;
    if (args[1].i64 < 0 || args[1].i64 >= s->len) return range_error(args[1].i64, s->len, err);
    out->i64 = (uint8_t)s->data[args[1].i64];
    return 0;
}

static BUILTIN_FN(bi_set_byte)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    const vstr_t *s = args[0].s;
    if (args[1].i64 < 0 || args[1].i64 >= s->len) return range_error(args[1].i64, s->len, err);
    vstr_t *v = vstr_new(ctx->arena, s->data, s->len);
    if (!v) return builtins__oom(err);
    v->data[args[1].i64] = (char)(uint8_t)args[2].i64;
    out->s = v;
    return 0;
}

static BUILTIN_FN(bi_byteacat)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    size_t n = (size_t)args[0].s->len + args[1].s->len;
    if (n > LIMIT_TEXT_VALUE_BYTES) return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "requested length too large");
    vstr_t *v = vstr_new(ctx->arena, NULL, n);
    if (!v) return builtins__oom(err);
    memcpy(v->data, args[0].s->data, args[0].s->len);
    memcpy(v->data + args[0].s->len, args[1].s->data, args[1].s->len);
    out->s = v;
    return 0;
}

static bool fmt_is(const vstr_t *f, const char *name)
{
    size_t n = strlen(name);
    if (f->len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = f->data[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return false;
    }
    return true;
}

static int bad_format(const vstr_t *f, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unrecognized encoding: \"%.*s\"",
                     (int)(f->len > 64 ? 64 : f->len), f->data);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void enc_base64(const uint8_t *p, size_t n, strbuf_t *sb)
{
    size_t line = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        if (line >= 76) { strbuf_putc(sb, '\n'); line = 0; }
        strbuf_putc(sb, b64[v >> 18 & 63]);
        strbuf_putc(sb, b64[v >> 12 & 63]);
        strbuf_putc(sb, i + 1 < n ? b64[v >> 6 & 63] : '=');
        strbuf_putc(sb, i + 2 < n ? b64[v & 63] : '=');
        line += 4;
    }
}

static BUILTIN_FN(bi_encode)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    const uint8_t *p = (const uint8_t *)args[0].s->data;
    size_t n = args[0].s->len;
    strbuf_t sb;
    strbuf_init(&sb);
    if (fmt_is(args[1].s, "hex")) {
        static const char hx[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) { strbuf_putc(&sb, hx[p[i] >> 4]); strbuf_putc(&sb, hx[p[i] & 15]); }
    } else if (fmt_is(args[1].s, "base64")) {
        enc_base64(p, n, &sb);
    } else if (fmt_is(args[1].s, "escape")) {
        for (size_t i = 0; i < n; i++) {
            if (p[i] == 0 || p[i] >= 0x80) strbuf_printf(&sb, "\\%03o", p[i]);
            else if (p[i] == '\\') strbuf_puts(&sb, "\\\\");
            else strbuf_putc(&sb, (char)p[i]);
        }
    } else {
        strbuf_free(&sb);
        return bad_format(args[1].s, err);
    }
    int rc = sb.oom ? builtins__oom(err) : builtins__ret_str(ctx, sb.data ? sb.data : "", sb.len, out, err);
    strbuf_free(&sb);
    return rc;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int dec_hex(const char *s, size_t n, char *o, size_t *on, sql_error_t *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (is_ws(s[i])) { i++; continue; }
        int hi = hexv(s[i]);
        if (hi < 0) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid hexadecimal digit: \"%c\"", s[i]);
        if (i + 1 >= n) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid hexadecimal data: odd number of digits");
        int lo = hexv(s[i + 1]);
        if (lo < 0) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid hexadecimal digit: \"%c\"", s[i + 1]);
        o[k++] = (char)(hi << 4 | lo);
        i += 2;
    }
    *on = k;
    return 0;
}

static int dec_base64(const char *s, size_t n, char *o, size_t *on, sql_error_t *err)
{
    uint32_t acc = 0;
    int pos = 0, pad = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_ws(c)) continue;
        int v;
        if (c == '=') {
            if (pos < 2) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unexpected \"=\" while decoding base64 sequence");
            pad++;
            v = 0;
        } else {
            const char *q = strchr(b64, c);
            if (!q || !c)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid symbol \"%c\" found while decoding base64 sequence", c);
            if (pad) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unexpected \"=\" while decoding base64 sequence");
            v = (int)(q - b64);
        }
        acc = acc << 6 | (uint32_t)v;
        if (++pos == 4) {
            o[k++] = (char)(acc >> 16);
            if (pad < 2) o[k++] = (char)(acc >> 8);
            if (pad < 1) o[k++] = (char)acc;
            acc = 0;
            pos = 0;
            if (pad) { pad = -100; }
        }
    }
    if (pos != 0) {
        sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid base64 end sequence");
        sql_error_hint(err, "Input data is missing padding, is truncated, or is otherwise corrupted.");
        return -1;
    }
    *on = k;
    return 0;
}

static int dec_escape(const char *s, size_t n, char *o, size_t *on, sql_error_t *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') { o[k++] = s[i++]; continue; }
        if (i + 1 < n && s[i + 1] == '\\') { o[k++] = '\\'; i += 2; continue; }
        if (i + 3 < n + 0 && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
            s[i + 3] >= '0' && s[i + 3] <= '7') {
            o[k++] = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
            i += 4;
            continue;
        }
        return sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type bytea");
    }
    *on = k;
    return 0;
}

static BUILTIN_FN(bi_decode)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    const char *s = args[0].s->data;
    size_t n = args[0].s->len, on = 0;
    vstr_t *v = vstr_new(ctx->arena, NULL, n);      /* every decoding shrinks */
    if (!v) return builtins__oom(err);
    int rc;
    if (fmt_is(args[1].s, "hex")) rc = dec_hex(s, n, v->data, &on, err);
    else if (fmt_is(args[1].s, "base64")) rc = dec_base64(s, n, v->data, &on, err);
    else if (fmt_is(args[1].s, "escape")) rc = dec_escape(s, n, v->data, &on, err);
    else return bad_format(args[1].s, err);
    if (rc < 0) return -1;
    v->len = (uint32_t)on;
    out->s = v;
    return 0;
}

static int sha(const builtin_ctx_t *ctx, const EVP_MD *md, const datum_t *args, datum_t *out, sql_error_t *err)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(args[0].s->data, args[0].s->len, h, &n, md, NULL))
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not compute %s hash", EVP_MD_get0_name(md));
    return ret_bytes(ctx, (const char *)h, n, out, err);
}

static BUILTIN_FN(bi_sha224) { (void)nargs; (void)nulls; (void)argtypes; (void)isnull; return sha(ctx, EVP_sha224(), args, out, err); }
static BUILTIN_FN(bi_sha256) { (void)nargs; (void)nulls; (void)argtypes; (void)isnull; return sha(ctx, EVP_sha256(), args, out, err); }
static BUILTIN_FN(bi_sha384) { (void)nargs; (void)nulls; (void)argtypes; (void)isnull; return sha(ctx, EVP_sha384(), args, out, err); }
static BUILTIN_FN(bi_sha512) { (void)nargs; (void)nulls; (void)argtypes; (void)isnull; return sha(ctx, EVP_sha512(), args, out, err); }

const builtin_t builtins_bytea[] = {
    /* name, pg_proc oid, nargs, argtypes, result, strict, volatility, fn */
    {"get_byte", 721, 2, {BY, I4}, I4, true, 'i', bi_get_byte},
    {"set_byte", 722, 3, {BY, I4, I4}, BY, true, 'i', bi_set_byte},
    {"byteacat", 2011, 2, {BY, BY}, BY, true, 'i', bi_byteacat},
    {"encode", 1946, 2, {BY, T}, T, true, 'i', bi_encode},
    {"decode", 1947, 2, {T, T}, BY, true, 'i', bi_decode},
    {"sha224", 3419, 1, {BY}, BY, true, 'i', bi_sha224},
    {"sha256", 3420, 1, {BY}, BY, true, 'i', bi_sha256},
    {"sha384", 3421, 1, {BY}, BY, true, 'i', bi_sha384},
    {"sha512", 3422, 1, {BY}, BY, true, 'i', bi_sha512},
};
const int builtins_bytea_count = (int)(sizeof builtins_bytea / sizeof builtins_bytea[0]);
