/*
 * types_array.c -- one-dimensional arrays (text[], name[], int2[], int4[], oid[],
 * "char"[] and the other array types of the type table) and the int2vector /
 * oidvector types, which share the representation; see types.h for the datum form.
 *
 * An array datum is a vstr_t whose bytes are
 *     u32 element type, u32 element count, then per element:
 *     u32 length (TYPE_ARRAY_NULL_LEN = NULL), payload, zero padding to 4 bytes.
 * Payloads: by-value types hold their datum's 8 bytes (native order, i64 / f64
 * bits); string types hold the bytes. Every element header is 4-byte aligned
 * relative to the blob, so a string element *is* a vstr_t inside the blob and is
 * handed out without copying (the blob itself is 4-aligned like every vstr_t).
 * Copying the blob (exec_copy_datum) therefore copies the whole array.
 *
 * Text form is PostgreSQL's: {a,b,"c d",NULL}; elements are double-quoted when
 * empty, equal to NULL (any case), or containing braces, quotes, backslashes,
 * commas or white space, and " and \ are backslash-escaped inside quotes.
 * int2vector / oidvector print space-separated ("1 2"). Binary form is array_send's:
 * ndim, has-null flag, element oid, then (dim, lower bound) and the elements with
 * their lengths; int2vector/oidvector send the same (as PostgreSQL does).
 *
 * Limits: one dimension, lower bound 1 (multi-dimensional input is 0A000);
 * LIMIT_SQL_ARRAY_ELEMS elements.
 */
#include "sql/types_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/assert.h"
#include "core/limits.h"

#define ARR_HDR 8u

bool type_is_array(type_oid_t t)
{
    const type_info_t *ti = type_lookup(t);
    return ti && ti->category == 'A' && ti->elem_oid != 0;
}

type_oid_t type_array_elem(type_oid_t t)
{
    const type_info_t *ti = type_lookup(t);
    return ti && ti->category == 'A' ? ti->elem_oid : TYPE_INVALID;
}

type_oid_t type_array_of(type_oid_t elem)
{
    const type_info_t *ti = type_lookup(elem);
    if (!ti || !ti->array_oid || !type_lookup(ti->array_oid))
        return TYPE_INVALID;
    return ti->array_oid;
}

static uint32_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* Which element datums are vstr_t: strings and bytea (arrays do not nest). */
static bool elem_is_vstr(type_oid_t t)
{
    return types__is_string(t) || t == TYPE_BYTEA || t == 114 || t == 3802 || t == 2950;   /* json, jsonb, uuid */
}

/* Payload size of a non-null element. */
static size_t elem_size(type_oid_t elem, datum_t d)
{
    return elem_is_vstr(elem) ? d.s->len : 8;
}


const vstr_t *type_array_build(arena_t *a, type_oid_t elem, int n, const datum_t *vals, const bool *nulls)
{
    size_t total = ARR_HDR;
    for (int i = 0; i < n; i++)
        total += 4 + (nulls && nulls[i] ? 0 : pad4(elem_size(elem, vals[i])));
    if (total > UINT32_MAX)
        return NULL;
    vstr_t *v = arena_alloc(a, sizeof(vstr_t) + total);
    if (!v)
        return NULL;
    v->len = (uint32_t)total;
    char *p = v->data;
    uint32_t u = elem;
    memcpy(p, &u, 4);
    u = (uint32_t)n;
    memcpy(p + 4, &u, 4);
    p += ARR_HDR;
    for (int i = 0; i < n; i++) {
        if (nulls && nulls[i]) {
            u = TYPE_ARRAY_NULL_LEN;
            memcpy(p, &u, 4);
            p += 4;
            continue;
        }
        size_t sz = elem_size(elem, vals[i]);
        u = (uint32_t)sz;
        memcpy(p, &u, 4);
        if (elem_is_vstr(elem))
            memcpy(p + 4, vals[i].s->data, sz);
        else
            memcpy(p + 4, &vals[i].i64, 8);
        memset(p + 4 + sz, 0, pad4(sz) - sz);
        p += 4 + pad4(sz);
    }
    ASSERT((size_t)(p - v->data) == total);
    return v;
}

int type_array_count(datum_t d) { return (int)rd32(d.s->data + 4); }
type_oid_t type_array_elem_of(datum_t d) { return rd32(d.s->data); }

void type_array_iter(type_array_iter_t *it, datum_t d)
{
    ASSERT(d.s->len >= ARR_HDR);
    it->elem = rd32(d.s->data);
    it->p = d.s->data + ARR_HDR;
    it->end = d.s->data + d.s->len;
}

bool type_array_next(type_array_iter_t *it, datum_t *out, bool *isnull)
{
    if (it->p + 4 > it->end)
        return false;
    uint32_t len = rd32(it->p);
    if (len == TYPE_ARRAY_NULL_LEN) {
        *isnull = true;
        out->i64 = 0;
        it->p += 4;
        return true;
    }
    *isnull = false;
    if (elem_is_vstr(it->elem))
        out->s = (const vstr_t *)(const void *)it->p;
    else
        memcpy(&out->i64, it->p + 4, 8);
    it->p += 4 + pad4(len);
    return true;
}

/* ---- text ---- */

static bool needs_quotes(const char *s, size_t n)
{
    if (n == 0 || (n == 4 && !strncasecmp(s, "null", 4)))
        return true;
    for (size_t i = 0; i < n; i++)
        if (strchr("{}\",\\", s[i]) || isspace((unsigned char)s[i]))
            return true;
    return false;
}

void type_array_out(type_oid_t t, datum_t d, strbuf_t *out)
{
    bool vector = t == TYPE_INT2VECTOR || t == TYPE_OIDVECTOR;
    type_array_iter_t it;
    type_array_iter(&it, d);
    datum_t e;
    bool isnull;
    bool first = true;
    strbuf_t tmp;
    strbuf_init(&tmp);
    if (!vector)
        strbuf_putc(out, '{');
    while (type_array_next(&it, &e, &isnull)) {
        if (!first)
            strbuf_putc(out, vector ? ' ' : ',');
        first = false;
        if (isnull) {
            strbuf_puts(out, "NULL");
            continue;
        }
        strbuf_reset(&tmp);
        type_out_text(it.elem, -1, e, &tmp);
        const char *s = tmp.data ? tmp.data : "";
        size_t n = tmp.len;
        if (vector || !needs_quotes(s, n)) {
            strbuf_append(out, s, n);
            continue;
        }
        strbuf_putc(out, '"');
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\')
                strbuf_putc(out, '\\');
            strbuf_putc(out, s[i]);
        }
        strbuf_putc(out, '"');
    }
    if (!vector)
        strbuf_putc(out, '}');
    strbuf_free(&tmp);
}

static int array_syntax(sql_error_t *err, const char *s, size_t len, const char *detail)
{
    sql_error(err, SQLSTATE_INVALID_TEXT_REP, "malformed array literal: \"%.*s\"", (int)(len > 200 ? 200 : len), s);
    sql_error_detail(err, "%s", detail);
    return -1;
}

/* Reads one element of "{...}" starting at *pp into buf; *quoted says whether any
 * part was quoted (a quoted "NULL" is a string). */
static int read_elem(const char **pp, const char *e, strbuf_t *buf, bool *quoted)
{
    const char *p = *pp;
    bool inq = false;
    *quoted = false;
    strbuf_reset(buf);
    size_t keep = 0;       /* length up to the last non-space or quoted char */
    while (p < e) {
        char c = *p;
        if (inq) {
            if (c == '\\' && p + 1 < e) {
                strbuf_putc(buf, p[1]);
                p += 2;
            } else if (c == '"') {
                inq = false;
                p++;
            } else {
                strbuf_putc(buf, c);
                p++;
            }
            keep = buf->len;
            continue;
        }
        if (c == ',' || c == '}')
            break;
        if (c == '{')
            return -1;
        if (c == '"') {
            inq = true;
            *quoted = true;
            p++;
            continue;
        }
        if (c == '\\' && p + 1 < e) {
            strbuf_putc(buf, p[1]);
            p += 2;
            keep = buf->len;
            continue;
        }
        if (isspace((unsigned char)c) && buf->len == 0) {
            p++;
            continue;
        }
        strbuf_putc(buf, c);
        if (!isspace((unsigned char)c))
            keep = buf->len;
        p++;
    }
    if (inq)
        return -1;
    buf->len = keep;
    *pp = p;
    return 0;
}

int type_array_in(type_oid_t t, const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    type_oid_t elem = type_array_elem(t);
    ASSERT(elem != TYPE_INVALID);
    const char *p = s, *e = s + len;
    datum_t *vals = NULL;
    bool *nulls = NULL;
    int n = 0, cap = 0;
    strbuf_t buf;
    strbuf_init(&buf);
    int rc = -1;
    if (t == TYPE_INT2VECTOR || t == TYPE_OIDVECTOR) {
        /* space-separated integers */
        while (p < e) {
            while (p < e && isspace((unsigned char)*p))
                p++;
            const char *q = p;
            while (q < e && !isspace((unsigned char)*q))
                q++;
            if (q == p)
                break;
            if (n == cap) {
                int nc = cap ? cap * 2 : 8;
                datum_t *nv = arena_alloc(a, (size_t)nc * sizeof *nv);
                if (!nv)
                    goto oom;
                if (n)
                    memcpy(nv, vals, (size_t)n * sizeof *nv);
                vals = nv;
                cap = nc;
            }
            if (type_in_text(elem, -1, p, (size_t)(q - p), a, &vals[n++], err) < 0)
                goto done;
            p = q;
        }
        goto build;
    }
    while (p < e && isspace((unsigned char)*p))
        p++;
    if (p >= e || *p != '{') {
        array_syntax(err, s, len, "Array value must start with \"{\" or dimension information.");
        goto done;
    }
    p++;
    while (p < e && isspace((unsigned char)*p))
        p++;
    if (p < e && *p == '{') {
        sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "multidimensional arrays are not supported");
        goto done;
    }
    if (p < e && *p == '}') {
        p++;
    } else {
        for (;;) {
            bool quoted;
            if (read_elem(&p, e, &buf, &quoted) < 0 || p >= e) {
                array_syntax(err, s, len, "Unexpected end of input.");
                goto done;
            }
            if (n >= LIMIT_SQL_ARRAY_ELEMS) {
                sql_error(err, SQLSTATE_PROGRAM_LIMIT, "array size exceeds the maximum allowed (%d)",
                          LIMIT_SQL_ARRAY_ELEMS);
                goto done;
            }
            if (n == cap) {
                int nc = cap ? cap * 2 : 8;
                datum_t *nv = arena_alloc(a, (size_t)nc * sizeof *nv);
                bool *nn = arena_alloc(a, (size_t)nc);
                if (!nv || !nn)
                    goto oom;
                if (n) {
                    memcpy(nv, vals, (size_t)n * sizeof *nv);
                    memcpy(nn, nulls, (size_t)n);
                }
                vals = nv;
                nulls = nn;
                cap = nc;
            }
            if (!quoted && buf.len == 0) {
                array_syntax(err, s, len, "Unexpected \",\" character.");
                goto done;
            }
            nulls[n] = !quoted && buf.len == 4 && !strncasecmp(buf.data, "null", 4);
            vals[n].i64 = 0;
            if (!nulls[n] && type_in_text(elem, -1, buf.data ? buf.data : "", buf.len, a, &vals[n], err) < 0)
                goto done;
            n++;
            char c = *p++;
            if (c == '}')
                break;
        }
    }
    while (p < e && isspace((unsigned char)*p))
        p++;
    if (p != e) {
        array_syntax(err, s, len, "Junk after closing right brace.");
        goto done;
    }
build:
    if (!(out->s = type_array_build(a, elem, n, vals, nulls)))
        goto oom;
    rc = 0;
    goto done;
oom:
    sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
done:
    strbuf_free(&buf);
    return rc;
}

/* ---- binary ---- */

void type_array_send(type_oid_t t, datum_t d, strbuf_t *out)
{
    type_array_iter_t it;
    type_array_iter(&it, d);
    int n = type_array_count(d);
    bool has_null = false;
    datum_t e;
    bool isnull;
    while (type_array_next(&it, &e, &isnull))
        has_null |= isnull;
    strbuf_put_be32(out, n ? 1 : 0);
    strbuf_put_be32(out, has_null ? 1 : 0);
    strbuf_put_be32(out, type_array_elem(t));
    if (n) {
        strbuf_put_be32(out, (uint32_t)n);
        strbuf_put_be32(out, t == TYPE_INT2VECTOR || t == TYPE_OIDVECTOR ? 0 : 1);
    }
    strbuf_t tmp;
    strbuf_init(&tmp);
    type_array_iter(&it, d);
    while (type_array_next(&it, &e, &isnull)) {
        if (isnull) {
            strbuf_put_be32(out, UINT32_MAX);
            continue;
        }
        strbuf_reset(&tmp);
        type_send_binary(it.elem, -1, e, &tmp);
        strbuf_put_be32(out, (uint32_t)tmp.len);
        strbuf_append(out, tmp.data ? tmp.data : "", tmp.len);
    }
    strbuf_free(&tmp);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

int type_array_recv(type_oid_t t, const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    type_oid_t elem = type_array_elem(t);
    const uint8_t *e = p + len;
    if (len < 12)
        return sql_error(err, "22P03", "insufficient data left in message");
    uint32_t ndim = be32(p), eoid = be32(p + 8);
    p += 12;
    if (ndim > 1)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "multidimensional arrays are not supported");
    if (eoid != elem)
        return sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "binary data has array element type %u instead of expected %u",
                         eoid, elem);
    uint32_t n = 0;
    if (ndim == 1) {
        if (e - p < 8)
            return sql_error(err, "22P03", "insufficient data left in message");
        n = be32(p);
        p += 8;
    }
    if (n > LIMIT_SQL_ARRAY_ELEMS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "array size exceeds the maximum allowed (%d)",
                         LIMIT_SQL_ARRAY_ELEMS);
    datum_t *vals = arena_alloc(a, (size_t)(n + 1) * sizeof *vals);
    bool *nulls = arena_alloc(a, (size_t)n + 1);
    if (!vals || !nulls)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (e - p < 4)
            return sql_error(err, "22P03", "insufficient data left in message");
        uint32_t l = be32(p);
        p += 4;
        nulls[i] = l == UINT32_MAX;
        vals[i].i64 = 0;
        if (nulls[i])
            continue;
        if ((size_t)(e - p) < l)
            return sql_error(err, "22P03", "insufficient data left in message");
        if (type_recv_binary(elem, -1, p, l, a, &vals[i], err) < 0)
            return -1;
        p += l;
    }
    if (p != e)
        return sql_error(err, "22P03", "incorrect binary data format");
    if (!(out->s = type_array_build(a, elem, (int)n, vals, nulls)))
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return 0;
}

/* ---- comparison, hashing, casts ---- */

int type_array_cmp(datum_t a, datum_t b)
{
    type_array_iter_t ia, ib;
    type_array_iter(&ia, a);
    type_array_iter(&ib, b);
    for (;;) {
        datum_t x, y;
        bool xn, yn;
        bool hx = type_array_next(&ia, &x, &xn), hy = type_array_next(&ib, &y, &yn);
        if (!hx || !hy)
            return hx ? 1 : hy ? -1 : 0;
        if (xn || yn) {
            if (xn != yn)
                return xn ? 1 : -1;      /* NULL elements sort last, as in PostgreSQL */
            continue;
        }
        int c = type_cmp(ia.elem, x, y);
        if (c)
            return c;
    }
}

uint64_t type_array_hash(datum_t d)
{
    type_array_iter_t it;
    type_array_iter(&it, d);
    uint64_t h = 0x9e3779b97f4a7c15u;
    datum_t e;
    bool isnull;
    while (type_array_next(&it, &e, &isnull))
        h = types__hash_u64(h ^ (isnull ? 0x5bd1e995u : type_hash(it.elem, e)));
    return h;
}

int type_array_cast(type_oid_t from, type_oid_t to, int ctx, datum_t in, arena_t *a, datum_t *out,
                    sql_error_t *err)
{
    type_oid_t fe = type_array_elem(from), te = type_array_elem(to);
    int n = type_array_count(in);
    datum_t *vals = arena_alloc(a, (size_t)(n + 1) * sizeof *vals);
    bool *nulls = arena_alloc(a, (size_t)n + 1);
    if (!vals || !nulls)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    type_array_iter_t it;
    type_array_iter(&it, in);
    for (int i = 0; type_array_next(&it, &vals[i], &nulls[i]); i++)
        if (!nulls[i] && fe != te && type_cast(fe, te, -1, ctx, vals[i], a, &vals[i], err) < 0)
            return -1;
    if (!(out->s = type_array_build(a, te, n, vals, nulls)))
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return 0;
}
