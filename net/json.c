/*
 * json.c -- strict JSON parser and escaping writer; see json.h.
 *
 * The parser is recursive descent with an explicit depth counter; arrays and objects
 * collect their elements in a growing arena array (doubling, so at most twice the
 * final size is spent).
 */
#include "net/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"

typedef struct json_parser {
    const char *p, *start, *end;
    arena_t *arena;
    json_error_t *err;
    int depth;
} json_parser_t;

static int json_fail(json_parser_t *jp, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int json_fail(json_parser_t *jp, int kind, const char *fmt, ...)
{
    if (jp->err->kind)
        return -1;
    jp->err->kind = kind;
    jp->err->offset = (size_t)(jp->p - jp->start);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(jp->err->message, sizeof jp->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void json_skip_ws(json_parser_t *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

/* Decodes one UTF-8 sequence at p strictly (no overlongs, no surrogates, <= U+10FFFF).
 * Returns its length, or -1. */
static int json_utf8_len(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80) { *cp = c; return 1; }
    if ((c & 0xe0) == 0xc0) { n = 2; c &= 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { n = 3; c &= 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { n = 4; c &= 0x07; min = 0x10000; }
    else return -1;
    if (end - p < n)
        return -1;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *cp = c;
    return n;
}

static void json_put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static int json_hex4(json_parser_t *jp, unsigned *out)
{
    if (jp->end - jp->p < 4)
        return json_fail(jp, JSON_ERR_SYNTAX, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = jp->p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return json_fail(jp, JSON_ERR_SYNTAX, "invalid \\u escape");
        v = v * 16 + (unsigned)d;
    }
    jp->p += 4;
    *out = v;
    return 0;
}

/* Parses a string at jp->p (on the opening quote). The decoded text is never longer
 * than the source, so one allocation of the source length suffices. */
static int json_string(json_parser_t *jp, const char **out, size_t *out_len)
{
    ASSERT(*jp->p == '"');
    jp->p++;
    const char *q = jp->p;
    while (q < jp->end && *q != '"') {
        if (*q == '\\' && q + 1 < jp->end)
            q++;
        q++;
    }
    if (q >= jp->end)
        return json_fail(jp, JSON_ERR_SYNTAX, "unterminated string");
    char *buf = arena_alloc(jp->arena, (size_t)(q - jp->p) + 1);
    if (!buf)
        return json_fail(jp, JSON_ERR_MEMORY, "out of memory");
    size_t n = 0;
    while (*jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20)
            return json_fail(jp, JSON_ERR_SYNTAX, "control character in string");
        if (c != '\\') {
            unsigned cp;
            int l = json_utf8_len((const unsigned char *)jp->p, (const unsigned char *)jp->end, &cp);
            if (l < 0)
                return json_fail(jp, JSON_ERR_SYNTAX, "invalid UTF-8 in string");
            memcpy(buf + n, jp->p, (size_t)l);
            n += (size_t)l;
            jp->p += l;
            continue;
        }
        jp->p++;
        char e = *jp->p++;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (json_hex4(jp, &cp) < 0)
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return json_fail(jp, JSON_ERR_SYNTAX, "unpaired low surrogate in \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u')
                    return json_fail(jp, JSON_ERR_SYNTAX, "unpaired high surrogate in \\u escape");
                jp->p += 2;
                if (json_hex4(jp, &lo) < 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return json_fail(jp, JSON_ERR_SYNTAX, "unpaired high surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            /* \uXXXX is 6 source bytes and at most 3 UTF-8 bytes; a pair is 12 -> 4. */
            json_put_utf8(buf, &n, cp);
            break;
        }
        default:
            jp->p--;
            return json_fail(jp, JSON_ERR_SYNTAX, "invalid escape in string");
        }
    }
    jp->p++;           /* closing quote */
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return 0;
}

static bool json_digit(json_parser_t *jp) { return jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9'; }

static int json_number(json_parser_t *jp, json_value_t *v)
{
    const char *s = jp->p;
    if (*jp->p == '-')
        jp->p++;
    if (!json_digit(jp))
        return json_fail(jp, JSON_ERR_SYNTAX, "invalid number");
    if (*jp->p == '0') {
        jp->p++;
    } else {
        while (json_digit(jp)) jp->p++;
    }
    if (jp->p < jp->end && *jp->p == '.') {
        jp->p++;
        if (!json_digit(jp))
            return json_fail(jp, JSON_ERR_SYNTAX, "invalid number");
        while (json_digit(jp)) jp->p++;
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
            jp->p++;
        if (!json_digit(jp))
            return json_fail(jp, JSON_ERR_SYNTAX, "invalid number");
        while (json_digit(jp)) jp->p++;
    }
    char *text = arena_strndup(jp->arena, s, (size_t)(jp->p - s));
    if (!text)
        return json_fail(jp, JSON_ERR_MEMORY, "out of memory");
    v->type = JSON_NUMBER;
    v->str = text;
    v->len = (size_t)(jp->p - s);
    v->num = strtod(text, NULL);
    return 0;
}

static int json_literal(json_parser_t *jp, const char *word, int type, json_value_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return json_fail(jp, JSON_ERR_SYNTAX, "invalid literal");
    jp->p += n;
    v->type = type;
    return 0;
}

/* Grows an arena array of elem_size elements from *cap to twice that. */
static void *json_grow(json_parser_t *jp, void *old, int count, int *cap, size_t elem_size)
{
    int ncap = *cap ? *cap * 2 : 4;
    void *p = arena_alloc(jp->arena, (size_t)ncap * elem_size);
    if (!p) {
        json_fail(jp, JSON_ERR_MEMORY, "out of memory");
        return NULL;
    }
    if (count)
        memcpy(p, old, (size_t)count * elem_size);
    *cap = ncap;
    return p;
}

static int json_value(json_parser_t *jp, json_value_t *v);

static int json_array(json_parser_t *jp, json_value_t *v)
{
    int cap = 0;
    v->type = JSON_ARRAY;
    jp->p++;
    json_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        return 0;
    }
    for (;;) {
        if (v->count == cap && !(v->items = json_grow(jp, v->items, v->count, &cap,
                                                      sizeof *v->items)))
            return -1;
        json_value_t *item = &v->items[v->count];
        memset(item, 0, sizeof *item);
        if (json_value(jp, item) < 0)
            return -1;
        v->count++;
        json_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == ']') {
            jp->p++;
            return 0;
        }
        return json_fail(jp, JSON_ERR_SYNTAX, "expected ',' or ']' in array");
    }
}

static int json_object(json_parser_t *jp, json_value_t *v)
{
    int cap = 0;
    v->type = JSON_OBJECT;
    jp->p++;
    json_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        return 0;
    }
    for (;;) {
        json_skip_ws(jp);
        if (jp->p >= jp->end || *jp->p != '"')
            return json_fail(jp, JSON_ERR_SYNTAX, "expected string key in object");
        if (v->count == cap && !(v->members = json_grow(jp, v->members, v->count, &cap,
                                                        sizeof *v->members)))
            return -1;
        json_member_t *m = &v->members[v->count];
        memset(m, 0, sizeof *m);
        if (json_string(jp, &m->key, &m->key_len) < 0)
            return -1;
        json_skip_ws(jp);
        if (jp->p >= jp->end || *jp->p != ':')
            return json_fail(jp, JSON_ERR_SYNTAX, "expected ':' in object");
        jp->p++;
        if (json_value(jp, &m->value) < 0)
            return -1;
        v->count++;
        json_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == '}') {
            jp->p++;
            return 0;
        }
        return json_fail(jp, JSON_ERR_SYNTAX, "expected ',' or '}' in object");
    }
}

static int json_value(json_parser_t *jp, json_value_t *v)
{
    json_skip_ws(jp);
    if (jp->p >= jp->end)
        return json_fail(jp, JSON_ERR_SYNTAX, "unexpected end of input");
    switch (*jp->p) {
    case '{':
    case '[': {
        if (jp->depth >= LIMIT_JSON_DEPTH)
            return json_fail(jp, JSON_ERR_DEPTH, "nesting deeper than %d levels", LIMIT_JSON_DEPTH);
        jp->depth++;
        int rc = *jp->p == '{' ? json_object(jp, v) : json_array(jp, v);
        jp->depth--;
        return rc;
    }
    case '"':
        v->type = JSON_STRING;
        return json_string(jp, &v->str, &v->len);
    case 't': return json_literal(jp, "true", JSON_TRUE, v);
    case 'f': return json_literal(jp, "false", JSON_FALSE, v);
    case 'n': return json_literal(jp, "null", JSON_NULL, v);
    default:
        if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
            return json_number(jp, v);
        return json_fail(jp, JSON_ERR_SYNTAX, "unexpected character");
    }
}

int json_parse(const char *text, size_t len, arena_t *a, json_value_t **out,
               json_error_t *err)
{
    memset(err, 0, sizeof *err);
    json_parser_t jp = {.p = text, .start = text, .end = text + len, .arena = a, .err = err};
    json_value_t *v = arena_alloc(a, sizeof *v);
    if (!v)
        return json_fail(&jp, JSON_ERR_MEMORY, "out of memory");
    memset(v, 0, sizeof *v);
    if (json_value(&jp, v) < 0)
        return -1;
    json_skip_ws(&jp);
    if (jp.p != jp.end)
        return json_fail(&jp, JSON_ERR_SYNTAX, "trailing characters after JSON value");
    ASSERT(jp.depth == 0);
    *out = v;
    return 0;
}

const json_value_t *json_object_get(const json_value_t *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (int i = v->count - 1; i >= 0; i--)
        if (v->members[i].key_len == n && memcmp(v->members[i].key, key, n) == 0)
            return &v->members[i].value;
    return NULL;
}

void json_write_string(strbuf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    strbuf_putc(out, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        strbuf_append(out, run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            strbuf_putc(out, '\\');
            strbuf_putc(out, (char)c);
            p++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': strbuf_puts(out, "\\n"); break;
            case '\r': strbuf_puts(out, "\\r"); break;
            case '\t': strbuf_puts(out, "\\t"); break;
            case '\b': strbuf_puts(out, "\\b"); break;
            case '\f': strbuf_puts(out, "\\f"); break;
            default:
                strbuf_puts(out, "\\u00");
                strbuf_putc(out, hex[c >> 4]);
                strbuf_putc(out, hex[c & 15]);
            }
            p++;
        } else {
            unsigned cp;
            int l = json_utf8_len(p, end, &cp);
            if (l < 0) {
                strbuf_puts(out, "\\ufffd");
                p++;
            } else {
                strbuf_append(out, p, (size_t)l);
                p += l;
            }
        }
    }
    strbuf_putc(out, '"');
}
