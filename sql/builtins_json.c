/*
 * builtins_json.c -- json / jsonb functions and the functions behind their
 * operators (->, ->>, #>, #>>, @>, <@, ?, ?|, ?&, ||, -, #-), PostgreSQL 15's
 * semantics and messages.
 *
 * Every function parses its jsonb arguments (canonical text, types_json.h) into a
 * tree in the result arena, works on the tree and prints the result back. json
 * arguments keep their source text: -> on json returns the member's text as
 * written.
 *
 * Operators map to functions by builtins_json_operator (the binder calls it when an
 * operand is json or jsonb), as pgvector's do.
 */
#include "sql/builtins_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "sql/builtins_int.h"
#include "sql/types_json.h"
#include "sql/types_uuid.h"

#define JB TYPE_JSONB
#define JS TYPE_JSON
#define T TYPE_TEXT
#define I4 TYPE_INT4
#define TA TYPE_TEXTARRAY
#define BO TYPE_BOOL
#define ANY TYPE_INVALID
#define VAR BUILTIN_VARIADIC

/* memcpy that accepts an empty (possibly NULL) source: empty containers have no
 * child arrays. */
static void copy_n(void *dst, const void *src, size_t n)
{
    if (n) memcpy(dst, src, n);
}

static jv_t *arg(const builtin_ctx_t *ctx, const datum_t *args, const type_oid_t *argtypes, int i, sql_error_t *err)
{
    return jv_of_datum(argtypes[i] == JS ? JS : JB, args[i], ctx->arena, err);
}

static int ret_jsonb(const builtin_ctx_t *ctx, const jv_t *v, datum_t *out, sql_error_t *err)
{
    return jv_to_datum(v, ctx->arena, out, err);
}

static int ret_sb(const builtin_ctx_t *ctx, strbuf_t *sb, datum_t *out, sql_error_t *err)
{
    int rc = sb->oom ? builtins__oom(err) : builtins__ret_str(ctx, sb->data ? sb->data : "", sb->len, out, err);
    strbuf_free(sb);
    return rc;
}

/* Decodes a json-mode (raw) string node to its text. */
static int raw_decode(const builtin_ctx_t *ctx, const jv_t *v, const char **s, size_t *n, sql_error_t *err)
{
    if (!v->raw) { *s = v->str; *n = v->n; return 0; }
    jv_t *d;
    if (jv_parse(v->str - 1, v->n + 2, true, ctx->arena, &d, err) < 0) return -1;
    *s = d->str;
    *n = d->n;
    return 0;
}

/* Result of -> / #>: json keeps the member's source text, jsonb prints it. */
static int ret_node(const builtin_ctx_t *ctx, type_oid_t t, const jv_t *v, datum_t *out, sql_error_t *err)
{
    if (t == JS) return builtins__ret_str(ctx, v->src, v->srclen, out, err);
    return ret_jsonb(ctx, v, out, err);
}

/* Result of ->> / #>>: a string's text, NULL for json null, else the value's text. */
static int ret_node_text(const builtin_ctx_t *ctx, type_oid_t t, const jv_t *v, datum_t *out, bool *isnull,
                         sql_error_t *err)
{
    if (v->kind == JV_NULL) { *isnull = true; return 0; }
    if (v->kind == JV_STRING) {
        const char *s;
        size_t n;
        if (raw_decode(ctx, v, &s, &n, err) < 0) return -1;
        return builtins__ret_str(ctx, s, n, out, err);
    }
    return ret_node(ctx, t, v, out, err);
}

/* Member of a json (raw) object: the last pair with the key, as json_object_field. */
static jv_t *member(const builtin_ctx_t *ctx, const jv_t *o, const char *k, size_t kn, sql_error_t *err)
{
    if (o->kind != JV_OBJECT) return NULL;
    jv_t *found = NULL;
    for (uint32_t i = 0; i < o->n; i++) {
        const jv_pair_t *p = &o->pairs[i];
        jv_t tmp = {.kind = JV_STRING, .raw = true, .str = p->key, .n = p->klen};
        const char *s;
        size_t n;
        if (memchr(p->key, '\\', p->klen)) {
            if (raw_decode(ctx, &tmp, &s, &n, err) < 0) return NULL;
        } else { s = p->key; n = p->klen; }
        if (n == kn && !memcmp(s, k, kn)) found = p->val;
    }
    return found;
}

static jv_t *get_field(const builtin_ctx_t *ctx, type_oid_t t, const jv_t *o, const char *k, size_t kn, sql_error_t *err)
{
    return t == JS ? member(ctx, o, k, kn, err) : jv_object_get(o, k, kn);
}

static jv_t *get_elem(const jv_t *a, int64_t i)
{
    if (a->kind != JV_ARRAY) return NULL;
    if (i < 0) i += a->n;
    return i >= 0 && i < (int64_t)a->n ? a->items[i] : NULL;
}

/* A jsonb raw scalar is a one-element array to element access (PostgreSQL stores
 * it so); a json scalar is not. */
static jv_t *get_elem_top(type_oid_t t, jv_t *v, int64_t i)
{
    if (t == JB && v->kind != JV_ARRAY && v->kind != JV_OBJECT)
        return i == 0 || i == -1 ? v : NULL;
    return get_elem(v, i);
}

/* jsonb -> text, json -> text, ->> variants (fn->name tells text-ness by the table). */
static int field_common(const builtin_ctx_t *ctx, const datum_t *args, const type_oid_t *argtypes, bool as_text,
                        datum_t *out, bool *isnull, sql_error_t *err)
{
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    jv_t *m;
    if (argtypes[1] == I4) m = get_elem_top(argtypes[0], v, args[1].i64);
    else {
        sql_error_t e2 = {0};
        m = get_field(ctx, argtypes[0], v, args[1].s->data, args[1].s->len, &e2);
        if (sql_error_is_set(&e2)) { *err = e2; return -1; }
    }
    if (!m) { *isnull = true; return 0; }
    return as_text ? ret_node_text(ctx, argtypes[0], m, out, isnull, err) : ret_node(ctx, argtypes[0], m, out, err);
}

static BUILTIN_FN(bi_json_field) { (void)nargs; (void)nulls; return field_common(ctx, args, argtypes, false, out, isnull, err); }
static BUILTIN_FN(bi_json_field_text) { (void)nargs; (void)nulls; return field_common(ctx, args, argtypes, true, out, isnull, err); }

/* #> / #>> / jsonb_extract_path(_text): the path is a text[] (operators) or the
 * variadic text arguments. */
static int path_common(const builtin_ctx_t *ctx, int nargs, const datum_t *args, const bool *nulls,
                       const type_oid_t *argtypes, bool as_text, datum_t *out, bool *isnull, sql_error_t *err)
{
    if (nulls[0]) { *isnull = true; return 0; }
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    const jv_t *cur = v;
    int steps = 0;
    bool arr = nargs == 2 && argtypes[1] == TA;
    type_array_iter_t it;
    if (arr) {
        if (nulls[1]) { *isnull = true; return 0; }
        type_array_iter(&it, args[1]);
    }
    for (int i = 1;; i++) {
        datum_t e;
        bool en;
        if (arr) { if (!type_array_next(&it, &e, &en)) break; }
        else { if (i >= nargs) break; e = args[i]; en = nulls[i]; }
        if (en) { *isnull = true; return 0; }
        steps++;
        if (cur->kind == JV_OBJECT) {
            cur = get_field(ctx, argtypes[0], cur, e.s->data, e.s->len, err);
            if (sql_error_is_set(err)) return -1;
        } else if (cur->kind == JV_ARRAY) {
            char buf[32];
            if (e.s->len == 0 || e.s->len >= sizeof buf) { *isnull = true; return 0; }
            memcpy(buf, e.s->data, e.s->len);
            buf[e.s->len] = 0;
            char *end;
            errno = 0;
            long long idx = strtoll(buf, &end, 10);
            if (*end || errno) { *isnull = true; return 0; }
            cur = get_elem(cur, idx);
        } else if (steps == 1 && argtypes[0] == JB) {
            char buf[32];
            if (e.s->len == 0 || e.s->len >= sizeof buf) { *isnull = true; return 0; }
            memcpy(buf, e.s->data, e.s->len);
            buf[e.s->len] = 0;
            char *end;
            errno = 0;
            long long idx = strtoll(buf, &end, 10);
            if (*end || errno) { *isnull = true; return 0; }
            cur = get_elem_top(JB, (jv_t *)cur, idx);
        } else {
            cur = NULL;
        }
        if (!cur) { *isnull = true; return 0; }
    }
    return as_text ? ret_node_text(ctx, argtypes[0], cur, out, isnull, err) : ret_node(ctx, argtypes[0], cur, out, err);
}

static BUILTIN_FN(bi_json_path) { return path_common(ctx, nargs, args, nulls, argtypes, false, out, isnull, err); }
static BUILTIN_FN(bi_json_path_text) { return path_common(ctx, nargs, args, nulls, argtypes, true, out, isnull, err); }

static BUILTIN_FN(bi_jsonb_contains)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *a = arg(ctx, args, argtypes, 0, err), *b = a ? arg(ctx, args, argtypes, 1, err) : NULL;
    if (!b) return -1;
    out->i64 = jv_contains(a, b);
    return 0;
}

static BUILTIN_FN(bi_jsonb_contained)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *a = arg(ctx, args, argtypes, 0, err), *b = a ? arg(ctx, args, argtypes, 1, err) : NULL;
    if (!b) return -1;
    out->i64 = jv_contains(b, a);
    return 0;
}

/* ? : a top-level key, or a string element of a top-level array (or raw scalar). */
static bool exists(const jv_t *v, const char *k, size_t kn)
{
    if (v->kind == JV_OBJECT) return jv_object_get(v, k, kn) != NULL;
    if (v->kind == JV_ARRAY) {
        for (uint32_t i = 0; i < v->n; i++)
            if (v->items[i]->kind == JV_STRING && v->items[i]->n == kn && !memcmp(v->items[i]->str, k, kn))
                return true;
        return false;
    }
    return v->kind == JV_STRING && v->n == kn && !memcmp(v->str, k, kn);
}

static BUILTIN_FN(bi_jsonb_exists)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    out->i64 = exists(v, args[1].s->data, args[1].s->len);
    return 0;
}

static int exists_set(const builtin_ctx_t *ctx, const datum_t *args, const type_oid_t *argtypes, bool all,
                      datum_t *out, sql_error_t *err)
{
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    type_array_iter_t it;
    type_array_iter(&it, args[1]);
    datum_t e;
    bool en, res = all;
    while (type_array_next(&it, &e, &en)) {
        if (en) continue;                       /* NULL elements are ignored */
        bool x = exists(v, e.s->data, e.s->len);
        if (all && !x) { res = false; break; }
        if (!all && x) { res = true; break; }
    }
    out->i64 = res;
    return 0;
}

static BUILTIN_FN(bi_jsonb_exists_any) { (void)nargs; (void)nulls; (void)isnull; return exists_set(ctx, args, argtypes, false, out, err); }
static BUILTIN_FN(bi_jsonb_exists_all) { (void)nargs; (void)nulls; (void)isnull; return exists_set(ctx, args, argtypes, true, out, err); }

/* Elements of v as an array: a raw scalar is an array of itself. */
static void as_elems(jv_t *v, jv_t ***items, uint32_t *n, jv_t **one)
{
    if (v->kind == JV_ARRAY) { *items = v->items; *n = v->n; }
    else { *one = v; *items = one; *n = 1; }
}

static BUILTIN_FN(bi_jsonb_concat)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *a = arg(ctx, args, argtypes, 0, err), *b = a ? arg(ctx, args, argtypes, 1, err) : NULL;
    if (!b) return -1;
    jv_t *r;
    if (a->kind == JV_OBJECT && b->kind == JV_OBJECT) {
        if (!(r = jv_new(ctx->arena, JV_OBJECT))) return builtins__oom(err);
        r->pairs = arena_alloc(ctx->arena, ((size_t)a->n + b->n + 1) * sizeof *r->pairs);
        if (!r->pairs) return builtins__oom(err);
        copy_n(r->pairs, a->pairs, a->n * sizeof *r->pairs);
        copy_n(r->pairs + a->n, b->pairs, b->n * sizeof *r->pairs);
        r->n = a->n + b->n;
        if (jv_object_canon(r, ctx->arena, err) < 0) return -1;
    } else {
        jv_t **ia, **ib, *oa, *ob;
        uint32_t na, nb;
        as_elems(a, &ia, &na, &oa);
        as_elems(b, &ib, &nb, &ob);
        if (!(r = jv_new(ctx->arena, JV_ARRAY))) return builtins__oom(err);
        r->items = arena_alloc(ctx->arena, ((size_t)na + nb + 1) * sizeof *r->items);
        if (!r->items) return builtins__oom(err);
        copy_n(r->items, ia, na * sizeof *r->items);
        copy_n(r->items + na, ib, nb * sizeof *r->items);
        r->n = na + nb;
    }
    return ret_jsonb(ctx, r, out, err);
}

static int scalar_error(const char *what, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_INVALID_PARAMETER, "%s", what);
}

static bool key_in(const jv_pair_t *p, const char *k, size_t kn) { return p->klen == kn && !memcmp(p->key, k, kn); }

static bool str_is(const jv_t *v, const char *k, size_t kn) { return v->kind == JV_STRING && v->n == kn && !memcmp(v->str, k, kn); }

/* Removes keys / string elements equal to any of the n strings. */
static void delete_keys(jv_t *v, const datum_t *keys, const bool *kn, int n)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        bool drop = false;
        for (int k = 0; k < n && !drop; k++) {
            if (kn && kn[k]) continue;
            drop = v->kind == JV_OBJECT ? key_in(&v->pairs[i], keys[k].s->data, keys[k].s->len)
                                        : str_is(v->items[i], keys[k].s->data, keys[k].s->len);
        }
        if (drop) continue;
        if (v->kind == JV_OBJECT) v->pairs[w++] = v->pairs[i];
        else v->items[w++] = v->items[i];
    }
    v->n = w;
}

static BUILTIN_FN(bi_jsonb_delete)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    if (v->kind != JV_ARRAY && v->kind != JV_OBJECT) return scalar_error("cannot delete from scalar", err);
    if (argtypes[1] == I4) {
        if (v->kind == JV_OBJECT) return scalar_error("cannot delete from object using integer index", err);
        int64_t i = args[1].i64;
        if (i < 0) i += v->n;
        if (i >= 0 && i < (int64_t)v->n) {
            memmove(v->items + i, v->items + i + 1, (v->n - (uint32_t)i - 1) * sizeof *v->items);
            v->n--;
        }
    } else if (argtypes[1] == TA) {
        int cnt = type_array_count(args[1]);
        datum_t *keys = arena_alloc(ctx->arena, ((size_t)cnt + 1) * sizeof *keys);
        bool *kn = arena_alloc(ctx->arena, (size_t)cnt + 1);
        if (!keys || !kn) return builtins__oom(err);
        type_array_iter_t it;
        type_array_iter(&it, args[1]);
        int k = 0;
        while (k < cnt && type_array_next(&it, &keys[k], &kn[k])) k++;
        delete_keys(v, keys, kn, k);
    } else {
        delete_keys(v, &args[1], NULL, 1);
    }
    return ret_jsonb(ctx, v, out, err);
}

/* ---- path modification: #-, jsonb_set, jsonb_insert ---- */

enum { PATH_DELETE, PATH_SET, PATH_INSERT };

typedef struct path {
    int n;
    datum_t *el;
} path_t;

static int path_load(const builtin_ctx_t *ctx, datum_t arr, path_t *p, sql_error_t *err)
{
    int cnt = type_array_count(arr);
    p->el = arena_alloc(ctx->arena, ((size_t)cnt + 1) * sizeof *p->el);
    if (!p->el) return builtins__oom(err);
    type_array_iter_t it;
    type_array_iter(&it, arr);
    bool en;
    p->n = 0;
    while (p->n < cnt && type_array_next(&it, &p->el[p->n], &en)) {
        if (en)
            return sql_error(err, "22004", "path element at position %d is null", p->n + 1);
        p->n++;
    }
    return 0;
}

static int path_index(const path_t *p, int level, int64_t *idx, sql_error_t *err)
{
    const vstr_t *s = p->el[level].s;
    char buf[32];
    char *end = buf;
    bool ok = s->len > 0 && s->len < sizeof buf;
    if (ok) {
        memcpy(buf, s->data, s->len);
        buf[s->len] = 0;
        errno = 0;
        long v = strtol(buf, &end, 10);
        ok = !*end && !errno && v >= INT32_MIN && v <= INT32_MAX;
        *idx = v;
    }
    if (!ok)
        return sql_error(err, SQLSTATE_INVALID_TEXT_REP, "path element at position %d is not an integer: \"%.*s\"",
                         level + 1, (int)(s->len > 200 ? 200 : s->len), s->data);
    return 0;
}

/* Applies op at path[level..] below v (a container); nv is the new value. */
static int path_apply(const builtin_ctx_t *ctx, jv_t *v, const path_t *p, int level, int op, jv_t *nv,
                      bool flag, sql_error_t *err)
{
    bool last = level == p->n - 1;
    if (v->kind == JV_OBJECT) {
        const vstr_t *k = p->el[level].s;
        for (uint32_t i = 0; i < v->n; i++) {
            if (!key_in(&v->pairs[i], k->data, k->len)) continue;
            if (!last) {
                jv_t *c = v->pairs[i].val;
                return c->kind == JV_OBJECT || c->kind == JV_ARRAY ? path_apply(ctx, c, p, level + 1, op, nv, flag, err) : 0;
            }
            if (op == PATH_DELETE) {
                memmove(v->pairs + i, v->pairs + i + 1, (v->n - i - 1) * sizeof *v->pairs);
                v->n--;
            } else if (op == PATH_SET) {
                v->pairs[i].val = nv;
            } else {
                sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot replace existing key");
                sql_error_hint(err, "Try using the function jsonb_set to replace key value.");
                return -1;
            }
            return 0;
        }
        if (!last || op == PATH_DELETE || (op == PATH_SET && !flag)) return 0;
        jv_pair_t *np = arena_alloc(ctx->arena, ((size_t)v->n + 1) * sizeof *np);
        if (!np) return builtins__oom(err);
        copy_n(np, v->pairs, v->n * sizeof *np);
        np[v->n].key = k->data;
        np[v->n].klen = k->len;
        np[v->n].val = nv;
        v->pairs = np;
        v->n++;
        return jv_object_canon(v, ctx->arena, err);
    }
    int64_t idx = 0;
    if (path_index(p, level, &idx, err) < 0) return -1;
    int64_t n = v->n;
    bool before_all = false;
    if (idx < 0) {
        if (-idx > n) before_all = true;
        else idx += n;
    }
    bool in = !before_all && idx < n;
    if (!last) {
        if (!in) return 0;
        jv_t *c = v->items[idx];
        return c->kind == JV_OBJECT || c->kind == JV_ARRAY ? path_apply(ctx, c, p, level + 1, op, nv, flag, err) : 0;
    }
    if (op == PATH_DELETE) {
        if (in) {
            memmove(v->items + idx, v->items + idx + 1, (size_t)(n - idx - 1) * sizeof *v->items);
            v->n--;
        }
        return 0;
    }
    if (op == PATH_SET && in) { v->items[idx] = nv; return 0; }
    if (op == PATH_SET && !flag) return 0;
    int64_t at;
    if (before_all) at = 0;
    else if (!in) at = n;
    else at = op == PATH_INSERT && flag ? idx + 1 : idx;
    jv_t **ni = arena_alloc(ctx->arena, ((size_t)n + 1) * sizeof *ni);
    if (!ni) return builtins__oom(err);
    copy_n(ni, v->items, (size_t)at * sizeof *ni);
    ni[at] = nv;
    if (n > at) memcpy(ni + at + 1, v->items + at, (size_t)(n - at) * sizeof *ni);
    v->items = ni;
    v->n++;
    return 0;
}

static int path_modify(const builtin_ctx_t *ctx, int nargs, const datum_t *args, const type_oid_t *argtypes, int op,
                       datum_t *out, sql_error_t *err)
{
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    jv_t *nv = NULL;
    if (op != PATH_DELETE && !(nv = arg(ctx, args, argtypes, 2, err))) return -1;
    bool flag = op == PATH_SET ? (nargs < 4 || args[3].i64) : (op == PATH_INSERT && nargs >= 4 && args[3].i64);
    if (v->kind != JV_OBJECT && v->kind != JV_ARRAY)
        return scalar_error(op == PATH_DELETE ? "cannot delete path in scalar" : "cannot set path in scalar", err);
    path_t p;
    if (path_load(ctx, args[1], &p, err) < 0) return -1;
    if (p.n && path_apply(ctx, v, &p, 0, op, nv, flag, err) < 0) return -1;
    return ret_jsonb(ctx, v, out, err);
}

static BUILTIN_FN(bi_jsonb_delete_path) { (void)nulls; (void)isnull; return path_modify(ctx, nargs, args, argtypes, PATH_DELETE, out, err); }
static BUILTIN_FN(bi_jsonb_set) { (void)nulls; (void)isnull; return path_modify(ctx, nargs, args, argtypes, PATH_SET, out, err); }
static BUILTIN_FN(bi_jsonb_insert) { (void)nulls; (void)isnull; return path_modify(ctx, nargs, args, argtypes, PATH_INSERT, out, err); }

/* ---- inspection ---- */

static BUILTIN_FN(bi_json_typeof)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    static const char *const names[] = {"null", "string", "number", "boolean"};
    const char *s = v->kind == JV_ARRAY ? "array" : v->kind == JV_OBJECT ? "object" : names[v->kind];
    return builtins__ret_str(ctx, s, strlen(s), out, err);
}

static BUILTIN_FN(bi_json_array_length)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    if (v->kind != JV_ARRAY)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot get array length of a %s",
                         v->kind == JV_OBJECT ? "non-array" : "scalar");
    out->i64 = v->n;
    return 0;
}

static void strip_nulls(jv_t *v)
{
    if (v->kind == JV_ARRAY) {
        for (uint32_t i = 0; i < v->n; i++) strip_nulls(v->items[i]);
    } else if (v->kind == JV_OBJECT) {
        uint32_t w = 0;
        for (uint32_t i = 0; i < v->n; i++) {
            if (v->pairs[i].val->kind == JV_NULL) continue;
            strip_nulls(v->pairs[i].val);
            v->pairs[w++] = v->pairs[i];
        }
        v->n = w;
    }
}

static BUILTIN_FN(bi_jsonb_strip_nulls)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    strip_nulls(v);
    return ret_jsonb(ctx, v, out, err);
}

static BUILTIN_FN(bi_jsonb_pretty)
{
    (void)nargs; (void)nulls; (void)isnull;
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v) return -1;
    strbuf_t sb;
    strbuf_init(&sb);
    jv_out_pretty(v, 0, &sb);
    return ret_sb(ctx, &sb, out, err);
}

/* ---- to_jsonb / to_json / build functions ---- */

/* Appends the JSON text of one SQL value (to_json's datum_to_json for the types we
 * have); json = true keeps json inputs and number texts as they are. */
int builtins_json_value(type_oid_t t, datum_t d, bool isnull, bool json, strbuf_t *out, sql_error_t *err)
{
    if (isnull) { strbuf_puts(out, "null"); return 0; }
    strbuf_t tmp;
    int rc = 0;
    switch (t) {
    case TYPE_BOOL: strbuf_puts(out, d.i64 ? "true" : "false"); return 0;
    case TYPE_INT2: case TYPE_INT4: case TYPE_INT8: case TYPE_OID:
    case TYPE_FLOAT4: case TYPE_FLOAT8:
        strbuf_init(&tmp);
        type_out_text(t, -1, d, &tmp);
        {
            /* a float's text is a JSON number unless it is NaN / Infinity */
            const char *s = tmp.data ? tmp.data : "";
            bool num = tmp.len && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && strcmp(s, "-Infinity");
            if (!num) jv_escape(s, tmp.len, out);
            else if (json) strbuf_append(out, s, tmp.len);
            else rc = jv_number_canon(s, tmp.len, out, err);
        }
        strbuf_free(&tmp);
        return rc;
    case TYPE_JSON:
    case TYPE_JSONB:
        if (!json && t == TYPE_JSON) {
            arena_t ar;
            arena_init(&ar, (size_t)1 << 30);
            jv_t *v;
            rc = jv_parse(d.s->data, d.s->len, true, &ar, &v, err);
            if (rc == 0) jv_out(v, out);
            arena_destroy(&ar);
            return rc;
        }
        strbuf_append(out, d.s->data, d.s->len);
        return 0;
    case TYPE_TIMESTAMP: case TYPE_TIMESTAMPTZ:
        strbuf_init(&tmp);
        type_out_text(t, -1, d, &tmp);
        if (tmp.len > 10 && tmp.data[10] == ' ') tmp.data[10] = 'T';
        if (t == TYPE_TIMESTAMPTZ && tmp.len > 3 && tmp.data[tmp.len - 3] == '+') strbuf_puts(&tmp, ":00");
        jv_escape(tmp.data ? tmp.data : "", tmp.len, out);
        strbuf_free(&tmp);
        return 0;
    default:
        if (type_is_array(t)) {
            type_array_iter_t it;
            type_array_iter(&it, d);
            datum_t e;
            bool en;
            int k = 0;
            strbuf_putc(out, '[');
            while (type_array_next(&it, &e, &en)) {
                if (k++) strbuf_puts(out, json ? "," : ", ");
                if (builtins_json_value(it.elem, e, en, json, out, err) < 0) return -1;
            }
            strbuf_putc(out, ']');
            return 0;
        }
        strbuf_init(&tmp);
        type_out_text(t, -1, d, &tmp);
        jv_escape(tmp.data ? tmp.data : "", tmp.len, out);
        strbuf_free(&tmp);
        return 0;
    }
}

/* The result of building json text: jsonb results are re-read into canonical form. */
static int ret_built(const builtin_ctx_t *ctx, bool json, strbuf_t *sb, datum_t *out, sql_error_t *err)
{
    if (sb->oom) { strbuf_free(sb); return builtins__oom(err); }
    int rc = json ? builtins__ret_str(ctx, sb->data ? sb->data : "", sb->len, out, err)
                  : type_json_in(TYPE_JSONB, sb->data ? sb->data : "", sb->len, ctx->arena, out, err);
    strbuf_free(sb);
    return rc;
}

static BUILTIN_FN(bi_to_jsonb)
{
    (void)nargs;
    strbuf_t sb;
    strbuf_init(&sb);
    if (builtins_json_value(argtypes[0], args[0], nulls[0], false, &sb, err) < 0) { strbuf_free(&sb); return -1; }
    (void)isnull;
    return ret_built(ctx, false, &sb, out, err);
}

static BUILTIN_FN(bi_to_json)
{
    (void)nargs;
    strbuf_t sb;
    strbuf_init(&sb);
    if (builtins_json_value(argtypes[0], args[0], nulls[0], true, &sb, err) < 0) { strbuf_free(&sb); return -1; }
    (void)isnull;
    return ret_built(ctx, true, &sb, out, err);
}

static int build_array(const builtin_ctx_t *ctx, int nargs, const datum_t *args, const bool *nulls,
                       const type_oid_t *argtypes, bool json, datum_t *out, sql_error_t *err)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_putc(&sb, '[');
    for (int i = 0; i < nargs; i++) {
        if (i) strbuf_puts(&sb, ", ");
        if (builtins_json_value(argtypes[i], args[i], nulls[i], json, &sb, err) < 0) { strbuf_free(&sb); return -1; }
    }
    strbuf_putc(&sb, ']');
    return ret_built(ctx, json, &sb, out, err);
}

static int build_object(const builtin_ctx_t *ctx, int nargs, const datum_t *args, const bool *nulls,
                        const type_oid_t *argtypes, bool json, datum_t *out, sql_error_t *err)
{
    if (nargs % 2) {
        sql_error(err, SQLSTATE_INVALID_PARAMETER, "argument list must have even number of elements");
        sql_error_hint(err, "The arguments of %s must consist of alternating keys and values.",
                       json ? "json_build_object()" : "jsonb_build_object()");
        return -1;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_putc(&sb, '{');
    for (int i = 0; i < nargs; i += 2) {
        if (nulls[i]) {
            strbuf_free(&sb);
            if (json) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "argument %d cannot be null", i + 1),
                             sql_error_hint(err, "Object keys should be text."), -1;
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "argument %d: key must not be null", i + 1);
        }
        if (type_is_array(argtypes[i]) || argtypes[i] == TYPE_JSON || argtypes[i] == TYPE_JSONB) {
            strbuf_free(&sb);
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "key value must be scalar, not array, composite, or json");
        }
        if (i) strbuf_puts(&sb, ", ");
        strbuf_t key;
        strbuf_init(&key);
        type_out_text(argtypes[i], -1, args[i], &key);
        if (argtypes[i] == TYPE_BOOL) { strbuf_reset(&key); strbuf_puts(&key, args[i].i64 ? "true" : "false"); }
        jv_escape(key.data ? key.data : "", key.len, &sb);
        strbuf_free(&key);
        strbuf_puts(&sb, json ? " : " : ": ");
        if (builtins_json_value(argtypes[i + 1], args[i + 1], nulls[i + 1], json, &sb, err) < 0) {
            strbuf_free(&sb);
            return -1;
        }
    }
    strbuf_putc(&sb, '}');
    return ret_built(ctx, json, &sb, out, err);
}

static BUILTIN_FN(bi_jsonb_build_array) { (void)isnull; return build_array(ctx, nargs, args, nulls, argtypes, false, out, err); }
static BUILTIN_FN(bi_json_build_array) { (void)isnull; return build_array(ctx, nargs, args, nulls, argtypes, true, out, err); }
static BUILTIN_FN(bi_jsonb_build_object) { (void)isnull; return build_object(ctx, nargs, args, nulls, argtypes, false, out, err); }
static BUILTIN_FN(bi_json_build_object) { (void)isnull; return build_object(ctx, nargs, args, nulls, argtypes, true, out, err); }

/* ---- set-returning functions in FROM ----
 * jsonb_each & co. run as unnest over arrays these functions return (bind.c zips
 * the key and value arrays): "<name>:keys" / "<name>:values", names no SQL call
 * reaches unquoted. */

enum { SRF_EACH, SRF_EACH_TEXT, SRF_ELEMS, SRF_ELEMS_TEXT, SRF_KEYS };

static int srf_check(const jv_t *v, type_oid_t t, int kind, sql_error_t *err)
{
    const char *fn = kind == SRF_EACH ? "each" : kind == SRF_EACH_TEXT ? "each_text" : kind == SRF_ELEMS ? "array_elements"
                   : kind == SRF_ELEMS_TEXT ? "array_elements_text" : "object_keys";
    const char *pfx = t == JS ? "json" : "jsonb";
    bool scalar = v->kind != JV_ARRAY && v->kind != JV_OBJECT;
    if (kind == SRF_ELEMS || kind == SRF_ELEMS_TEXT) {
        if (v->kind == JV_ARRAY) return 0;
        if (t == JB)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot extract elements from %s",
                             scalar ? "a scalar" : "an object");
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot call %s_%s on %s", pfx, fn,
                         scalar ? "a scalar" : "a non-array");
    }
    if (v->kind == JV_OBJECT) return 0;
    if (kind == SRF_KEYS)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot call %s_%s on %s", pfx, fn,
                         scalar ? "a scalar" : "an array");
    if (t == JB) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot call %s_%s on a non-object", pfx, fn);
    return sql_error(err, SQLSTATE_INVALID_PARAMETER, scalar ? "cannot deconstruct a scalar"
                                                             : "cannot deconstruct an array as an object");
}

/* Text of a node for the _text forms (NULL for json null) or the json/jsonb value. */
static int srf_value(const builtin_ctx_t *ctx, type_oid_t t, bool as_text, const jv_t *v, datum_t *d, bool *dn,
                     sql_error_t *err)
{
    *dn = false;
    if (as_text) return ret_node_text(ctx, t, v, d, dn, err);
    return ret_node(ctx, t, v, d, err);
}

static int srf(const builtin_ctx_t *ctx, const datum_t *args, const type_oid_t *argtypes, int kind, bool keys,
               datum_t *out, sql_error_t *err)
{
    type_oid_t t = argtypes[0];
    jv_t *v = arg(ctx, args, argtypes, 0, err);
    if (!v || srf_check(v, t, kind, err) < 0) return -1;
    uint32_t n = v->n;
    datum_t *vals = arena_alloc(ctx->arena, ((size_t)n + 1) * sizeof *vals);
    bool *nl = arena_alloc(ctx->arena, (size_t)n + 1);
    if (!vals || !nl) return builtins__oom(err);
    bool as_text = kind == SRF_EACH_TEXT || kind == SRF_ELEMS_TEXT;
    for (uint32_t i = 0; i < n; i++) {
        nl[i] = false;
        if (v->kind == JV_ARRAY) {
            if (srf_value(ctx, t, as_text, v->items[i], &vals[i], &nl[i], err) < 0) return -1;
        } else if (keys) {
            const jv_pair_t *p = &v->pairs[i];
            const char *s = p->key;
            size_t kn = p->klen;
            if (t == JS) {
                jv_t tmp = {.kind = JV_STRING, .raw = true, .str = p->key, .n = p->klen};
                if (raw_decode(ctx, &tmp, &s, &kn, err) < 0) return -1;
            }
            if (builtins__ret_str(ctx, s, kn, &vals[i], err) < 0) return -1;
        } else if (srf_value(ctx, t, as_text, v->pairs[i].val, &vals[i], &nl[i], err) < 0) {
            return -1;
        }
    }
    type_oid_t elem = keys || as_text ? T : t;
    const vstr_t *a = type_array_build(ctx->arena, elem, (int)n, vals, nl);
    if (!a) return builtins__oom(err);
    out->s = a;
    return 0;
}

#define SRF_FN(fname, kind, keys) \
    static BUILTIN_FN(fname) { (void)nargs; (void)nulls; (void)isnull; return srf(ctx, args, argtypes, kind, keys, out, err); }
SRF_FN(bi_srf_each_keys, SRF_EACH, true)
SRF_FN(bi_srf_each_values, SRF_EACH, false)
SRF_FN(bi_srf_each_text_values, SRF_EACH_TEXT, false)
SRF_FN(bi_srf_elems, SRF_ELEMS, false)
SRF_FN(bi_srf_elems_text, SRF_ELEMS_TEXT, false)
SRF_FN(bi_srf_keys, SRF_KEYS, true)

static BUILTIN_FN(bi_gen_random_uuid)
{
    (void)nargs; (void)args; (void)nulls; (void)argtypes; (void)isnull;
    return type_uuid_random(ctx->arena, out, err);
}

const builtin_t builtins_json[] = {
    /* name, pg_proc oid, nargs, argtypes, result, strict, volatility, fn */
    {"jsonb_object_field", 3478, 2, {JB, T}, JB, true, 'i', bi_json_field},
    {"jsonb_object_field_text", 3214, 2, {JB, T}, T, true, 'i', bi_json_field_text},
    {"jsonb_array_element", 3215, 2, {JB, I4}, JB, true, 'i', bi_json_field},
    {"jsonb_array_element_text", 3216, 2, {JB, I4}, T, true, 'i', bi_json_field_text},
    {"json_object_field", 3947, 2, {JS, T}, JS, true, 'i', bi_json_field},
    {"json_object_field_text", 3948, 2, {JS, T}, T, true, 'i', bi_json_field_text},
    {"json_array_element", 3949, 2, {JS, I4}, JS, true, 'i', bi_json_field},
    {"json_array_element_text", 3950, 2, {JS, I4}, T, true, 'i', bi_json_field_text},
    {"jsonb_extract_path", 3217, VAR, {JB, ANY}, JB, false, 'i', bi_json_path},
    {"jsonb_extract_path_text", 3940, VAR, {JB, ANY}, T, false, 'i', bi_json_path_text},
    {"json_extract_path", 3951, VAR, {JS, ANY}, JS, false, 'i', bi_json_path},
    {"json_extract_path_text", 3953, VAR, {JS, ANY}, T, false, 'i', bi_json_path_text},
    {"jsonb_contains", 4046, 2, {JB, JB}, BO, true, 'i', bi_jsonb_contains},
    {"jsonb_contained", 4050, 2, {JB, JB}, BO, true, 'i', bi_jsonb_contained},
    {"jsonb_exists", 4047, 2, {JB, T}, BO, true, 'i', bi_jsonb_exists},
    {"jsonb_exists_any", 4048, 2, {JB, TA}, BO, true, 'i', bi_jsonb_exists_any},
    {"jsonb_exists_all", 4049, 2, {JB, TA}, BO, true, 'i', bi_jsonb_exists_all},
    {"jsonb_concat", 3301, 2, {JB, JB}, JB, true, 'i', bi_jsonb_concat},
    {"jsonb_delete", 3302, 2, {JB, T}, JB, true, 'i', bi_jsonb_delete},
    {"jsonb_delete", 3303, 2, {JB, I4}, JB, true, 'i', bi_jsonb_delete},
    {"jsonb_delete", 3343, 2, {JB, TA}, JB, true, 'i', bi_jsonb_delete},
    {"jsonb_delete_path", 3304, 2, {JB, TA}, JB, true, 'i', bi_jsonb_delete_path},
    {"jsonb_set", 3305, 4, {JB, TA, JB, BO}, JB, true, 'i', bi_jsonb_set},
    {"jsonb_set", 0, 3, {JB, TA, JB}, JB, true, 'i', bi_jsonb_set},
    {"jsonb_insert", 3579, 4, {JB, TA, JB, BO}, JB, true, 'i', bi_jsonb_insert},
    {"jsonb_insert", 0, 3, {JB, TA, JB}, JB, true, 'i', bi_jsonb_insert},
    {"jsonb_typeof", 3210, 1, {JB}, T, true, 'i', bi_json_typeof},
    {"json_typeof", 3968, 1, {JS}, T, true, 'i', bi_json_typeof},
    {"jsonb_array_length", 3207, 1, {JB}, I4, true, 'i', bi_json_array_length},
    {"json_array_length", 3956, 1, {JS}, I4, true, 'i', bi_json_array_length},
    {"jsonb_strip_nulls", 3262, 1, {JB}, JB, true, 'i', bi_jsonb_strip_nulls},
    {"jsonb_pretty", 3306, 1, {JB}, T, true, 'i', bi_jsonb_pretty},
    {"to_jsonb", 3787, 1, {ANY}, JB, true, 's', bi_to_jsonb},
    {"to_json", 3176, 1, {ANY}, JS, true, 's', bi_to_json},
    {"jsonb_build_array", 3271, VAR, {ANY}, JB, false, 's', bi_jsonb_build_array},
    {"jsonb_build_array", 3272, 0, {0}, JB, false, 's', bi_jsonb_build_array},
    {"json_build_array", 3198, VAR, {ANY}, JS, false, 's', bi_json_build_array},
    {"json_build_array", 3199, 0, {0}, JS, false, 's', bi_json_build_array},
    {"jsonb_build_object", 3273, VAR, {ANY}, JB, false, 's', bi_jsonb_build_object},
    {"jsonb_build_object", 3274, 0, {0}, JB, false, 's', bi_jsonb_build_object},
    {"json_build_object", 3200, VAR, {ANY}, JS, false, 's', bi_json_build_object},
    {"json_build_object", 3201, 0, {0}, JS, false, 's', bi_json_build_object},
    {"gen_random_uuid", 3432, 0, {0}, TYPE_UUID, true, 'v', bi_gen_random_uuid},
    /* the arrays behind jsonb_each & co. in FROM (no pg_proc rows) */
    {"jsonb_each:keys", 0, 1, {JB}, TA, true, 'i', bi_srf_each_keys},
    {"jsonb_each:values", 0, 1, {JB}, TYPE_JSONBARRAY, true, 'i', bi_srf_each_values},
    {"jsonb_each_text:keys", 0, 1, {JB}, TA, true, 'i', bi_srf_each_keys},
    {"jsonb_each_text:values", 0, 1, {JB}, TA, true, 'i', bi_srf_each_text_values},
    {"jsonb_array_elements:values", 0, 1, {JB}, TYPE_JSONBARRAY, true, 'i', bi_srf_elems},
    {"jsonb_array_elements_text:values", 0, 1, {JB}, TA, true, 'i', bi_srf_elems_text},
    {"jsonb_object_keys:keys", 0, 1, {JB}, TA, true, 'i', bi_srf_keys},
    {"json_each:keys", 0, 1, {JS}, TA, true, 'i', bi_srf_each_keys},
    {"json_each:values", 0, 1, {JS}, TYPE_JSONARRAY, true, 'i', bi_srf_each_values},
    {"json_each_text:keys", 0, 1, {JS}, TA, true, 'i', bi_srf_each_keys},
    {"json_each_text:values", 0, 1, {JS}, TA, true, 'i', bi_srf_each_text_values},
    {"json_array_elements:values", 0, 1, {JS}, TYPE_JSONARRAY, true, 'i', bi_srf_elems},
    {"json_array_elements_text:values", 0, 1, {JS}, TA, true, 'i', bi_srf_elems_text},
    {"json_object_keys:keys", 0, 1, {JS}, TA, true, 'i', bi_srf_keys},
};
const int builtins_json_count = (int)(sizeof builtins_json / sizeof builtins_json[0]);

const char *builtins_json_operator(const char *op, type_oid_t l, type_oid_t r)
{
    bool js = l == JS;
    if (!strcmp(op, "->")) return r == I4 ? (js ? "json_array_element" : "jsonb_array_element") : (js ? "json_object_field" : "jsonb_object_field");
    if (!strcmp(op, "->>")) return r == I4 ? (js ? "json_array_element_text" : "jsonb_array_element_text") : (js ? "json_object_field_text" : "jsonb_object_field_text");
    if (!strcmp(op, "#>")) return js ? "json_extract_path" : "jsonb_extract_path";
    if (!strcmp(op, "#>>")) return js ? "json_extract_path_text" : "jsonb_extract_path_text";
    if (js) return NULL;
    if (!strcmp(op, "@>")) return "jsonb_contains";
    if (!strcmp(op, "<@")) return "jsonb_contained";
    if (!strcmp(op, "?")) return "jsonb_exists";
    if (!strcmp(op, "?|")) return "jsonb_exists_any";
    if (!strcmp(op, "?&")) return "jsonb_exists_all";
    if (!strcmp(op, "||")) return "jsonb_concat";
    if (!strcmp(op, "-")) return "jsonb_delete";
    if (!strcmp(op, "#-")) return "jsonb_delete_path";
    return NULL;
}
