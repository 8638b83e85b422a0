/*
 * types_json.c -- json and jsonb values (see types_json.h): the parser, the
 * canonical form, output, ordering, hashing, containment and the scalar casts.
 *
 * The parser is a recursive descent over a lexer that reports PostgreSQL's token
 * spans, so error details name the same token PostgreSQL's does. Depth is bounded
 * by LIMIT_SQL_JSON_DEPTH (54001, PostgreSQL's check_stack_depth error).
 */
#include "sql/types_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "sql/types_int.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

/* ---- numbers ---- */

/* Splits a validated JSON number: sign, integer digits, fraction digits, exponent. */
typedef struct jnum {
    bool neg;
    const char *ip, *fp;
    size_t in, fn;
    long exp;
    bool exp_big;
} jnum_t;

static void jnum_split(const char *s, size_t n, jnum_t *j)
{
    size_t i = 0;
    memset(j, 0, sizeof *j);
    if (i < n && s[i] == '-') { j->neg = true; i++; }
    j->ip = s + i;
    while (i < n && s[i] >= '0' && s[i] <= '9') { i++; j->in++; }
    if (i < n && s[i] == '.') {
        i++;
        j->fp = s + i;
        while (i < n && s[i] >= '0' && s[i] <= '9') { i++; j->fn++; }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        long e = 0;
        for (; i < n; i++) {
            if (e > 100000000L) j->exp_big = true;
            else e = e * 10 + (s[i] - '0');
        }
        j->exp = eneg ? -e : e;
    }
}

static int numeric_overflow(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value overflows numeric format");
}

int jv_number_canon(const char *s, size_t n, strbuf_t *out, sql_error_t *err)
{
    jnum_t j;
    jnum_split(s, n, &j);
    if (j.exp_big) return numeric_overflow(err);
    long dscale = (long)j.fn - j.exp;
    if (dscale < 0) dscale = 0;
    /* all digits D = int ++ frac; the point sits after `point` digits of D */
    long point = (long)j.in + j.exp;
    size_t total = j.in + j.fn;
    size_t lead = 0;      /* leading zeros of D */
    while (lead < total && (lead < j.in ? j.ip[lead] : j.fp[lead - j.in]) == '0') lead++;
    if (dscale > 16383) return numeric_overflow(err);
    if (lead == total) {  /* zero: no sign, dscale zeros */
        strbuf_putc(out, '0');
        if (dscale) {
            strbuf_putc(out, '.');
            for (long k = 0; k < dscale; k++) strbuf_putc(out, '0');
        }
        return 0;
    }
    long intdigits = point - (long)lead;
    if (intdigits > 131072) return numeric_overflow(err);
#define DIG(k) ((size_t)(k) < j.in ? j.ip[(k)] : j.fp[(k) - j.in])
    if (j.neg) strbuf_putc(out, '-');
    if (intdigits <= 0) strbuf_putc(out, '0');
    else
        for (long k = (long)lead; k < point; k++)
            strbuf_putc(out, k < (long)total ? DIG(k) : '0');
    if (dscale) {
        strbuf_putc(out, '.');
        for (long k = 0; k < dscale; k++) {
            long pos = point + k;
            strbuf_putc(out, pos >= 0 && pos < (long)total ? DIG(pos) : '0');
        }
    }
#undef DIG
    return 0;
}

/* Canonical numbers: an optional '-', an integer part without leading zeros ("0"
 * below one), an optional fraction; zero never has a sign. */
int jv_number_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    bool na = an && a[0] == '-', nb = bn && b[0] == '-';
    if (na != nb) return na ? -1 : 1;
    int sign = na ? -1 : 1;
    a += na; an -= na;
    b += nb; bn -= nb;
    const char *da = memchr(a, '.', an), *db = memchr(b, '.', bn);
    size_t ia = da ? (size_t)(da - a) : an, ib = db ? (size_t)(db - b) : bn;
    size_t la = ia == 1 && a[0] == '0' ? 0 : ia, lb = ib == 1 && b[0] == '0' ? 0 : ib;
    if (la != lb) return (la < lb ? -1 : 1) * sign;
    int c = memcmp(a, b, ia < ib ? ia : ib);
    if (c) return (c < 0 ? -1 : 1) * sign;
    const char *fa = da ? da + 1 : a + an, *fb = db ? db + 1 : b + bn;
    size_t nfa = (size_t)(a + an - fa), nfb = (size_t)(b + bn - fb);
    for (size_t k = 0; k < nfa || k < nfb; k++) {
        char x = k < nfa ? fa[k] : '0', y = k < nfb ? fb[k] : '0';
        if (x != y) return (x < y ? -1 : 1) * sign;
    }
    return 0;
}

/* ---- lexer ---- */

enum jtok { JT_END, JT_LBRACE, JT_RBRACE, JT_LBRACKET, JT_RBRACKET, JT_COMMA, JT_COLON,
            JT_STRING, JT_NUMBER, JT_TRUE, JT_FALSE, JT_NULL, JT_ERROR };

typedef struct jlex {
    const char *s, *p, *end;
    const char *tok, *tok_end;   /* current token span */
    int type;
    bool canon;
    arena_t *a;
    sql_error_t *err;
    strbuf_t sb;                 /* decoded string of the current token (canon) */
    int depth;
} jlex_t;

static bool jalnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

static int lex_fail(jlex_t *l, const char *state, const char *msg, const char *detail_fmt, const char *x, size_t xn)
{
    sql_error(l->err, state, "%s", msg);
    if (detail_fmt) sql_error_detail(l->err, detail_fmt, (int)(xn > 200 ? 200 : xn), x);
    l->type = JT_ERROR;
    return -1;
}

static int lex_syntax(jlex_t *l, const char *detail_fmt, const char *x, size_t xn)
{
    return lex_fail(l, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type json", detail_fmt, x, xn);
}

static int invalid_token(jlex_t *l, const char *start, const char *stop)
{
    return lex_syntax(l, "Token \"%.*s\" is invalid.", start, (size_t)(stop - start));
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(strbuf_t *sb, uint32_t c)
{
    if (c < 0x80) strbuf_putc(sb, (char)c);
    else if (c < 0x800) { strbuf_putc(sb, (char)(0xC0 | c >> 6)); strbuf_putc(sb, (char)(0x80 | (c & 63))); }
    else if (c < 0x10000) {
        strbuf_putc(sb, (char)(0xE0 | c >> 12)); strbuf_putc(sb, (char)(0x80 | ((c >> 6) & 63)));
        strbuf_putc(sb, (char)(0x80 | (c & 63)));
    } else {
        strbuf_putc(sb, (char)(0xF0 | c >> 18)); strbuf_putc(sb, (char)(0x80 | ((c >> 12) & 63)));
        strbuf_putc(sb, (char)(0x80 | ((c >> 6) & 63))); strbuf_putc(sb, (char)(0x80 | (c & 63)));
    }
}

static int lex_string(jlex_t *l)
{
    const char *p = l->p + 1;
    int hi = -1;
    strbuf_reset(&l->sb);
    for (;;) {
        if (p >= l->end) return invalid_token(l, l->tok, p);
        char c = *p;
        if (c == '"') break;
        if ((unsigned char)c < 0x20) {
            char x[8];
            snprintf(x, sizeof x, "%02x", (unsigned char)c);
            return lex_syntax(l, "Character with value 0x%.*s must be escaped.", x, 2);
        }
        if (c != '\\') {
            if (l->canon && hi != -1)
                return lex_syntax(l, "%.*sUnicode low surrogate must follow a high surrogate.", "", 0);
            strbuf_putc(&l->sb, c);
            p++;
            continue;
        }
        p++;
        if (p >= l->end) return invalid_token(l, l->tok, p);
        c = *p;
        if (c == 'u') {
            uint32_t v = 0;
            for (int k = 1; k <= 4; k++) {
                int h = p + k < l->end ? hexv(p[k]) : -1;
                if (h < 0)
                    return lex_syntax(l, "%.*s\"\\u\" must be followed by four hexadecimal digits.", "", 0);
                v = v << 4 | (uint32_t)h;
            }
            p += 5;
            if (!l->canon) continue;
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (hi != -1)
                    return lex_syntax(l, "%.*sUnicode high surrogate must not follow a high surrogate.", "", 0);
                hi = (int)v;
                continue;
            }
            if (v >= 0xDC00 && v <= 0xDFFF) {
                if (hi == -1)
                    return lex_syntax(l, "%.*sUnicode low surrogate must follow a high surrogate.", "", 0);
                v = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + (v - 0xDC00);
                hi = -1;
            } else if (hi != -1) {
                return lex_syntax(l, "%.*sUnicode low surrogate must follow a high surrogate.", "", 0);
            }
            if (v == 0)
                return lex_fail(l, "22P05", "unsupported Unicode escape sequence",
                                "%.*s\\u0000 cannot be converted to text.", "", 0);
            put_utf8(&l->sb, v);
            continue;
        }
        if (l->canon && hi != -1)
            return lex_syntax(l, "%.*sUnicode low surrogate must follow a high surrogate.", "", 0);
        char d;
        switch (c) {
        case '"': d = '"'; break;
        case '\\': d = '\\'; break;
        case '/': d = '/'; break;
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        default: {
            size_t cl = 1;     /* the escaped character, whole if multibyte */
            unsigned char u = (unsigned char)c;
            if (u >= 0xC0) cl = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : 2;
            if (p + cl > l->end) cl = (size_t)(l->end - p);
            return lex_syntax(l, "Escape sequence \"\\%.*s\" is invalid.", p, cl);
        }
        }
        strbuf_putc(&l->sb, d);
        p++;
    }
    if (l->canon && hi != -1)
        return lex_syntax(l, "%.*sUnicode low surrogate must follow a high surrogate.", "", 0);
    if (l->sb.oom) return sql_error(l->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    l->p = p + 1;
    l->tok_end = l->p;
    l->type = JT_STRING;
    return 0;
}

static int lex_number(jlex_t *l)
{
    const char *p = l->p, *e = l->end;
    bool bad = false;
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0') p++;
    else if (p < e && *p >= '1' && *p <= '9') { while (p < e && *p >= '0' && *p <= '9') p++; }
    else bad = true;
    if (!bad && p < e && *p == '.') {
        p++;
        if (!(p < e && *p >= '0' && *p <= '9')) bad = true;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (!bad && p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p < e && *p >= '0' && *p <= '9')) bad = true;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (bad || (p < e && jalnum(*p))) {
        while (p < e && jalnum(*p)) p++;
        return invalid_token(l, l->tok, p);
    }
    l->p = l->tok_end = p;
    l->type = JT_NUMBER;
    return 0;
}

/* Lexes the next token into l->type / l->tok..l->tok_end. */
static int lex_next(jlex_t *l)
{
    while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r')) l->p++;
    l->tok = l->p;
    if (l->p >= l->end) { l->tok_end = l->p; l->type = JT_END; return 0; }
    char c = *l->p;
    int single = c == '{' ? JT_LBRACE : c == '}' ? JT_RBRACE : c == '[' ? JT_LBRACKET : c == ']' ? JT_RBRACKET
               : c == ',' ? JT_COMMA : c == ':' ? JT_COLON : -1;
    if (single >= 0) { l->p++; l->tok_end = l->p; l->type = single; return 0; }
    if (c == '"') return lex_string(l);
    if (c == '-' || (c >= '0' && c <= '9')) return lex_number(l);
    const char *p = l->p;
    while (p < l->end && jalnum(*p)) p++;
    if (p == l->p) {
        size_t cl = 1;
        return invalid_token(l, l->p, l->p + cl);
    }
    size_t n = (size_t)(p - l->p);
    l->tok_end = p;
    if (n == 4 && !memcmp(l->p, "true", 4)) l->type = JT_TRUE;
    else if (n == 5 && !memcmp(l->p, "false", 5)) l->type = JT_FALSE;
    else if (n == 4 && !memcmp(l->p, "null", 4)) l->type = JT_NULL;
    else return invalid_token(l, l->p, p);
    l->p = p;
    return 0;
}

/* A parse error about the current token ("found ...") or the end of input. */
static int parse_fail(jlex_t *l, const char *expected)
{
    if (l->type == JT_END)
        return lex_syntax(l, "%.*sThe input string ended unexpectedly.", "", 0);
    char fmt[96];
    snprintf(fmt, sizeof fmt, "Expected %s, but found \"%%.*s\".", expected);
    return lex_syntax(l, fmt, l->tok, (size_t)(l->tok_end - l->tok));
}

jv_t *jv_new(arena_t *a, int kind)
{
    jv_t *v = arena_alloc(a, sizeof *v);
    if (v) { memset(v, 0, sizeof *v); v->kind = (uint8_t)kind; }
    return v;
}

jv_t *jv_new_string(arena_t *a, const char *s, size_t n)
{
    jv_t *v = jv_new(a, JV_STRING);
    if (!v) return NULL;
    char *c = arena_alloc(a, n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    v->str = c;
    v->n = (uint32_t)n;
    return v;
}

static int key_cmp(const jv_pair_t *x, const jv_pair_t *y)
{
    if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
    return memcmp(x->key, y->key, x->klen);
}

/* Stable merge sort of pairs (so "last wins" can keep the last duplicate). */
static void pairs_sort(jv_pair_t *p, jv_pair_t *tmp, uint32_t n)
{
    if (n < 2) return;
    uint32_t h = n / 2;
    pairs_sort(p, tmp, h);
    pairs_sort(p + h, tmp, n - h);
    uint32_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = key_cmp(&p[j], &p[i]) < 0 ? p[j++] : p[i++];
    while (i < h) tmp[k++] = p[i++];
    while (j < n) tmp[k++] = p[j++];
    memcpy(p, tmp, n * sizeof *p);
}

static void object_canon_with(jv_t *o, jv_pair_t *tmp)
{
    pairs_sort(o->pairs, tmp, o->n);
    uint32_t k = 0;
    for (uint32_t i = 0; i < o->n; i++) {
        if (k && key_cmp(&o->pairs[k - 1], &o->pairs[i]) == 0) o->pairs[k - 1] = o->pairs[i];
        else o->pairs[k++] = o->pairs[i];
    }
    o->n = k;
}

int jv_object_canon(jv_t *o, arena_t *a, sql_error_t *err)
{
    if (o->n < 2) return 0;
    jv_pair_t *tmp = arena_alloc(a, o->n * sizeof *tmp);
    if (!tmp) return oom(err);
    object_canon_with(o, tmp);
    return 0;
}

static int parse_value(jlex_t *l, jv_t **out);

static int depth_error(jlex_t *l)
{
    sql_error(l->err, "54001", "stack depth limit exceeded");
    sql_error_hint(l->err, "Increase the configuration parameter \"max_stack_depth\" (currently 2048kB), "
                           "after ensuring the platform's stack depth limit is adequate.");
    return -1;
}

/* Growable child list in the arena: doubling copies, O(n) total. */
static void *grow(arena_t *a, void *old, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap) return old;
    uint32_t nc = *cap ? *cap * 2 : 4;
    void *p = arena_alloc(a, nc * elem);
    if (p && n) memcpy(p, old, n * elem);
    *cap = nc;
    return p;
}

static int parse_array(jlex_t *l, jv_t *v)
{
    uint32_t cap = 0;
    if (lex_next(l) < 0) return -1;
    if (l->type == JT_RBRACKET) return lex_next(l);
    for (;;) {
        jv_t *e;
        if (parse_value(l, &e) < 0) return -1;
        if (!(v->items = grow(l->a, v->items, v->n, &cap, sizeof *v->items))) return oom(l->err);
        v->items[v->n++] = e;
        if (l->type == JT_COMMA) { if (lex_next(l) < 0) return -1; continue; }
        if (l->type == JT_RBRACKET) return lex_next(l);
        return parse_fail(l, "\",\" or \"]\"");
    }
}

static int parse_object(jlex_t *l, jv_t *v)
{
    uint32_t cap = 0;
    if (lex_next(l) < 0) return -1;
    if (l->type == JT_RBRACE) return lex_next(l);
    if (l->type != JT_STRING) return parse_fail(l, "string or \"}\"");
    for (;;) {
        if (l->type != JT_STRING) return parse_fail(l, "string");
        jv_pair_t pr;
        if (l->canon) {
            char *k = arena_memdup(l->a, l->sb.data ? l->sb.data : "", l->sb.len);
            if (!k && l->sb.len) return oom(l->err);
            pr.key = k;
            pr.klen = (uint32_t)l->sb.len;
        } else {
            pr.key = l->tok + 1;
            pr.klen = (uint32_t)(l->tok_end - l->tok - 2);
        }
        if (lex_next(l) < 0) return -1;
        if (l->type != JT_COLON) return parse_fail(l, "\":\"");
        if (lex_next(l) < 0) return -1;
        if (parse_value(l, &pr.val) < 0) return -1;
        if (!(v->pairs = grow(l->a, v->pairs, v->n, &cap, sizeof *v->pairs))) return oom(l->err);
        v->pairs[v->n++] = pr;
        if (l->type == JT_COMMA) { if (lex_next(l) < 0) return -1; continue; }
        if (l->type == JT_RBRACE) break;
        return parse_fail(l, "\",\" or \"}\"");
    }
    if (l->canon && v->n > 1) {
        jv_pair_t *tmp = arena_alloc(l->a, v->n * sizeof *tmp);
        if (!tmp) return oom(l->err);
        object_canon_with(v, tmp);
    }
    return lex_next(l);
}

/* Parses the value starting at the current token; leaves the next token current. */
static int parse_value(jlex_t *l, jv_t **out)
{
    const char *start = l->tok;
    jv_t *v = NULL;
    switch (l->type) {
    case JT_LBRACE:
    case JT_LBRACKET:
        if (++l->depth > LIMIT_SQL_JSON_DEPTH) return depth_error(l);
        if (!(v = jv_new(l->a, l->type == JT_LBRACE ? JV_OBJECT : JV_ARRAY))) return oom(l->err);
        {
            const char *endp;
            int rc = v->kind == JV_OBJECT ? parse_object(l, v) : parse_array(l, v);
            if (rc < 0) return -1;
            endp = l->tok;
            /* the span ends at the closing bracket: trim the whitespace before tok */
            const char *q = endp;
            while (q > start && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n' || q[-1] == '\r')) q--;
            v->src = start;
            v->srclen = (uint32_t)(q - start);
        }
        l->depth--;
        *out = v;
        return 0;
    case JT_STRING:
        if (l->canon) v = jv_new_string(l->a, l->sb.data ? l->sb.data : "", l->sb.len);
        else if ((v = jv_new(l->a, JV_STRING))) {
            v->raw = true;
            v->str = l->tok + 1;
            v->n = (uint32_t)(l->tok_end - l->tok - 2);
        }
        break;
    case JT_NUMBER:
        if (!(v = jv_new(l->a, JV_NUMBER))) return oom(l->err);
        if (l->canon) {
            strbuf_t sb;
            strbuf_init(&sb);
            if (jv_number_canon(l->tok, (size_t)(l->tok_end - l->tok), &sb, l->err) < 0) {
                strbuf_free(&sb);
                return -1;
            }
            v->str = sb.len ? arena_memdup(l->a, sb.data, sb.len) : NULL;
            v->n = (uint32_t)sb.len;
            bool bad = sb.oom || !v->str;
            strbuf_free(&sb);
            if (bad) return oom(l->err);
        } else {
            v->str = l->tok;
            v->n = (uint32_t)(l->tok_end - l->tok);
        }
        break;
    case JT_TRUE: case JT_FALSE:
        if ((v = jv_new(l->a, JV_BOOL))) v->bval = l->type == JT_TRUE;
        break;
    case JT_NULL:
        v = jv_new(l->a, JV_NULL);
        break;
    default:
        return parse_fail(l, "JSON value");
    }
    if (!v) return oom(l->err);
    v->src = l->tok;
    v->srclen = (uint32_t)(l->tok_end - l->tok);
    *out = v;
    return lex_next(l);
}

int jv_parse(const char *s, size_t len, bool canon, arena_t *a, jv_t **out, sql_error_t *err)
{
    jlex_t l = {.s = s, .p = s, .end = s + len, .canon = canon, .a = a, .err = err};
    strbuf_init(&l.sb);
    int rc = lex_next(&l);
    if (rc == 0) rc = parse_value(&l, out);
    if (rc == 0 && l.type != JT_END)
        rc = lex_syntax(&l, "Expected end of input, but found \"%.*s\".", l.tok, (size_t)(l.tok_end - l.tok));
    strbuf_free(&l.sb);
    return rc;
}

/* ---- output ---- */

void jv_escape(const char *s, size_t n, strbuf_t *out)
{
    strbuf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\b': strbuf_puts(out, "\\b"); break;
        case '\f': strbuf_puts(out, "\\f"); break;
        case '\n': strbuf_puts(out, "\\n"); break;
        case '\r': strbuf_puts(out, "\\r"); break;
        case '\t': strbuf_puts(out, "\\t"); break;
        case '"': strbuf_puts(out, "\\\""); break;
        case '\\': strbuf_puts(out, "\\\\"); break;
        default:
            if (c < ' ') strbuf_printf(out, "\\u%04x", c);
            else strbuf_putc(out, (char)c);
        }
    }
    strbuf_putc(out, '"');
}

static void out_scalar(const jv_t *v, strbuf_t *out)
{
    switch (v->kind) {
    case JV_NULL: strbuf_puts(out, "null"); break;
    case JV_BOOL: strbuf_puts(out, v->bval ? "true" : "false"); break;
    case JV_NUMBER: strbuf_append(out, v->str, v->n); break;
    case JV_STRING:
        if (v->raw) { strbuf_putc(out, '"'); strbuf_append(out, v->str, v->n); strbuf_putc(out, '"'); }
        else jv_escape(v->str, v->n, out);
        break;
    default: ASSERT(!"out_scalar: container");
    }
}

void jv_out(const jv_t *v, strbuf_t *out)
{
    if (v->kind == JV_ARRAY) {
        strbuf_putc(out, '[');
        for (uint32_t i = 0; i < v->n; i++) {
            if (i) strbuf_puts(out, ", ");
            jv_out(v->items[i], out);
        }
        strbuf_putc(out, ']');
    } else if (v->kind == JV_OBJECT) {
        strbuf_putc(out, '{');
        for (uint32_t i = 0; i < v->n; i++) {
            if (i) strbuf_puts(out, ", ");
            jv_escape(v->pairs[i].key, v->pairs[i].klen, out);
            strbuf_puts(out, ": ");
            jv_out(v->pairs[i].val, out);
        }
        strbuf_putc(out, '}');
    } else {
        out_scalar(v, out);
    }
}

static void pretty_indent(int level, strbuf_t *out)
{
    strbuf_putc(out, '\n');
    for (int i = 0; i < level; i++) strbuf_puts(out, "    ");
}

void jv_out_pretty(const jv_t *v, int level, strbuf_t *out)
{
    if (v->kind == JV_ARRAY || v->kind == JV_OBJECT) {
        bool obj = v->kind == JV_OBJECT;
        strbuf_putc(out, obj ? '{' : '[');
        for (uint32_t i = 0; i < v->n; i++) {
            if (i) strbuf_putc(out, ',');
            pretty_indent(level + 1, out);
            if (obj) {
                jv_escape(v->pairs[i].key, v->pairs[i].klen, out);
                strbuf_puts(out, ": ");
            }
            jv_out_pretty(obj ? v->pairs[i].val : v->items[i], level + 1, out);
        }
        pretty_indent(level, out);        /* empty containers too: "[\n]" */
        strbuf_putc(out, obj ? '}' : ']');
    } else {
        out_scalar(v, out);
    }
}

jv_t *jv_of_datum(type_oid_t t, datum_t d, arena_t *a, sql_error_t *err)
{
    jv_t *v = NULL;
    if (jv_parse(d.s->data, d.s->len, t == TYPE_JSONB, a, &v, err) < 0) return NULL;
    return v;
}

int jv_to_datum(const jv_t *v, arena_t *a, datum_t *out, sql_error_t *err)
{
    strbuf_t sb;
    strbuf_init(&sb);
    jv_out(v, &sb);
    vstr_t *s = sb.oom ? NULL : vstr_new(a, sb.data ? sb.data : "", sb.len);
    strbuf_free(&sb);
    if (!s) return oom(err);
    out->s = s;
    return 0;
}

/* ---- ordering, hashing, containment ---- */

static int scalar_cmp(const jv_t *a, const jv_t *b)
{
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case JV_NULL: return 0;
    case JV_BOOL: return a->bval == b->bval ? 0 : a->bval ? 1 : -1;
    case JV_NUMBER: return jv_number_cmp(a->str, a->n, b->str, b->n);
    default: {
        int c = memcmp(a->str, b->str, a->n < b->n ? a->n : b->n);
        if (c) return c < 0 ? -1 : 1;
        return a->n < b->n ? -1 : a->n > b->n;
    }
    }
}

static bool is_container(const jv_t *v) { return v->kind == JV_ARRAY || v->kind == JV_OBJECT; }

/* A top-level scalar compares as a one-element raw-scalar array. */
int jv_cmp(const jv_t *a, const jv_t *b, bool top)
{
    if (top && (!is_container(a) || !is_container(b))) {
        bool ra = !is_container(a), rb = !is_container(b);
        if (ra && rb) return scalar_cmp(a, b);
        const jv_t *arr = ra ? b : a;
        if (arr->kind == JV_OBJECT) return ra ? -1 : 1;
        /* raw scalar vs array: element counts first, then the raw flag */
        /* PostgreSQL checks the raw flag, then lets differing element counts decide */
        int c = arr->n == 1 ? -1 : arr->n > 1 ? -1 : 1;      /* from the scalar's side */
        return ra ? c : -c;
    }
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    if (!is_container(a)) return scalar_cmp(a, b);
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (uint32_t i = 0; i < a->n; i++) {
        int c;
        if (a->kind == JV_ARRAY) c = jv_cmp(a->items[i], b->items[i], false);
        else {
            const jv_pair_t *x = &a->pairs[i], *y = &b->pairs[i];
            c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
            if (c) c = c < 0 ? -1 : 1;
            else if (x->klen != y->klen) c = x->klen < y->klen ? -1 : 1;
            if (!c) c = jv_cmp(x->val, y->val, false);
        }
        if (c) return c;
    }
    return 0;
}

jv_t *jv_object_get(const jv_t *o, const char *key, size_t klen)
{
    if (o->kind != JV_OBJECT) return NULL;
    jv_pair_t probe = {.key = key, .klen = (uint32_t)klen};
    uint32_t lo = 0, hi = o->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(&o->pairs[mid], &probe);
        if (c == 0) return o->pairs[mid].val;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static bool deep_contains(const jv_t *a, const jv_t *b)
{
    if (a->kind != b->kind) return false;
    if (!is_container(a)) return scalar_cmp(a, b) == 0;
    if (a->kind == JV_OBJECT) {
        if (b->n > a->n) return false;
        for (uint32_t i = 0; i < b->n; i++) {
            const jv_t *x = jv_object_get(a, b->pairs[i].key, b->pairs[i].klen);
            if (!x || !deep_contains(x, b->pairs[i].val)) return false;
        }
        return true;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const jv_t *y = b->items[i];
        bool found = false;
        for (uint32_t k = 0; k < a->n && !found; k++) {
            const jv_t *x = a->items[k];
            found = is_container(y) ? (x->kind == y->kind && deep_contains(x, y)) : (!is_container(x) && scalar_cmp(x, y) == 0);
        }
        if (!found) return false;
    }
    return true;
}

bool jv_contains(const jv_t *a, const jv_t *b)
{
    bool ra = !is_container(a), rb = !is_container(b);
    if ((a->kind == JV_OBJECT) != (b->kind == JV_OBJECT)) return false;
    if (ra && rb) return scalar_cmp(a, b) == 0;
    if (ra && !rb) return false;           /* a raw scalar never contains an array */
    if (!ra && rb) {                       /* an array may contain a raw scalar */
        for (uint32_t k = 0; k < a->n; k++)
            if (!is_container(a->items[k]) && scalar_cmp(a->items[k], b) == 0) return true;
        return false;
    }
    return deep_contains(a, b);
}

/* Hash input: the canonical text with each number reduced to its value's shortest
 * form (1.50 and 1.5 are equal jsonb values). */
static uint64_t hash_node(const jv_t *v, uint64_t h)
{
    h = types__hash_u64(h ^ v->kind);
    switch (v->kind) {
    case JV_BOOL: return types__hash_u64(h ^ (uint64_t)v->bval);
    case JV_NULL: return h;
    case JV_STRING: return types__hash_bytes(v->str, v->n, h);
    case JV_NUMBER: {
        size_t n = v->n;
        if (memchr(v->str, '.', n)) {
            while (n && v->str[n - 1] == '0') n--;
            if (n && v->str[n - 1] == '.') n--;
        }
        return types__hash_bytes(v->str, n, h);
    }
    case JV_ARRAY:
        for (uint32_t i = 0; i < v->n; i++) h = hash_node(v->items[i], h + i);
        return types__hash_u64(h ^ v->n);
    default:
        for (uint32_t i = 0; i < v->n; i++) {
            h = types__hash_bytes(v->pairs[i].key, v->pairs[i].klen, h);
            h = hash_node(v->pairs[i].val, h);
        }
        return types__hash_u64(h ^ v->n ^ 0x55);
    }
}

/* type_cmp / type_hash have no arena: a scratch one per call. Stored values are
 * canonical, so parsing cannot fail; a failure (arena budget) orders by bytes. */
#define JSON_SCRATCH_BYTES ((size_t)1 << 30)

int type_jsonb_cmp(datum_t a, datum_t b)
{
    arena_t ar;
    arena_init(&ar, JSON_SCRATCH_BYTES);
    sql_error_t err = {0};
    jv_t *x = jv_of_datum(TYPE_JSONB, a, &ar, &err), *y = x ? jv_of_datum(TYPE_JSONB, b, &ar, &err) : NULL;
    int c;
    if (x && y) c = jv_cmp(x, y, true);
    else {
        c = memcmp(a.s->data, b.s->data, a.s->len < b.s->len ? a.s->len : b.s->len);
        if (!c) c = a.s->len < b.s->len ? -1 : a.s->len > b.s->len;
    }
    arena_destroy(&ar);
    return c < 0 ? -1 : c > 0;
}

uint64_t type_jsonb_hash(datum_t d)
{
    arena_t ar;
    arena_init(&ar, JSON_SCRATCH_BYTES);
    sql_error_t err = {0};
    jv_t *x = jv_of_datum(TYPE_JSONB, d, &ar, &err);
    uint64_t h = x ? hash_node(x, 0x6a736f6e) : types__hash_bytes(d.s->data, d.s->len, 0);
    arena_destroy(&ar);
    return h;
}

/* ---- type hooks ---- */

int type_json_in(type_oid_t t, const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    arena_t ar;
    arena_init(&ar, JSON_SCRATCH_BYTES);
    jv_t *v = NULL;
    int rc = jv_parse(s, len, t == TYPE_JSONB, &ar, &v, err);
    if (rc == 0) {
        if (t == TYPE_JSONB) rc = jv_to_datum(v, a, out, err);
        else if (!(out->s = vstr_new(a, s, len))) rc = oom(err);
    }
    arena_destroy(&ar);
    return rc;
}

int type_json_recv(type_oid_t t, const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (t == TYPE_JSONB) {
        if (len < 1 || p[0] != 1)
            return sql_error(err, SQLSTATE_INTERNAL_ERROR, "unsupported jsonb version number %d", len ? p[0] : 0);
        p++;
        len--;
    }
    return type_json_in(t, (const char *)p, len, a, out, err);
}

void type_json_send(type_oid_t t, datum_t d, strbuf_t *out)
{
    if (t == TYPE_JSONB) strbuf_put_u8(out, 1);
    strbuf_append(out, d.s->data, d.s->len);
}

static const char *jv_kind_name(const jv_t *v)
{
    switch (v->kind) {
    case JV_NULL: return "null";
    case JV_STRING: return "string";
    case JV_NUMBER: return "numeric";
    case JV_BOOL: return "boolean";
    case JV_ARRAY: return "array";
    default: return "object";
    }
}

/* numeric -> int rounding: half away from zero, as numeric_int4 does. */
static int number_to_int(const jv_t *v, type_oid_t to, datum_t *out, sql_error_t *err)
{
    const char *s = v->str;
    size_t n = v->n, i = 0;
    bool neg = n && s[0] == '-';
    i = neg;
    __int128 acc = 0;
    bool big = false;
    for (; i < n && s[i] != '.'; i++) {
        acc = acc * 10 + (s[i] - '0');
        if (acc > (__int128)INT64_MAX + 1) { big = true; break; }
    }
    if (!big && i < n && s[i] == '.' && i + 1 < n && s[i + 1] >= '5') acc++;
    if (neg) acc = -acc;
    const char *tn = to == TYPE_INT2 ? "smallint" : to == TYPE_INT4 ? "integer" : "bigint";
    __int128 lo = to == TYPE_INT2 ? INT16_MIN : to == TYPE_INT4 ? INT32_MIN : INT64_MIN;
    __int128 hi = to == TYPE_INT2 ? INT16_MAX : to == TYPE_INT4 ? INT32_MAX : INT64_MAX;
    if (big || acc < lo || acc > hi) return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "%s out of range", tn);
    out->i64 = (int64_t)acc;
    return 0;
}

int type_jsonb_cast_scalar(type_oid_t to, datum_t in, arena_t *a, datum_t *out, sql_error_t *err)
{
    arena_t ar;
    arena_init(&ar, JSON_SCRATCH_BYTES);
    jv_t *v = jv_of_datum(TYPE_JSONB, in, &ar, err);
    int rc = -1;
    if (!v) goto done;
    int want = to == TYPE_BOOL ? JV_BOOL : JV_NUMBER;
    if (v->kind != want) {
        rc = sql_error(err, SQLSTATE_INVALID_PARAMETER, "cannot cast jsonb %s to type %s", jv_kind_name(v),
                       types__sql_name(to));
        goto done;
    }
    if (to == TYPE_BOOL) { out->i64 = v->bval; rc = 0; goto done; }
    if (to == TYPE_FLOAT8 || to == TYPE_FLOAT4 || to == TYPE_NUMERIC) {
        /* a jsonb number is a numeric: its text form reads back exactly */
        rc = type_in_text(to, -1, v->str, v->n, a, out, err);
        goto done;
    }
    rc = number_to_int(v, to, out, err);
done:
    arena_destroy(&ar);
    return rc;
}
