/*
 * httpreq.c -- HTTP/1.1 request-head parser; see httpreq.h.
 */
#include "net/httpreq.h"

#include <string.h>
#include <strings.h>

#include "core/assert.h"
#include "core/limits.h"

/* tchar per RFC 9110 section 5.6.2. */
static bool httpreq_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Finds the end of the head: the index just past the empty line, or 0. */
static size_t httpreq_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* True if the comma-separated header value contains token (case-insensitive). */
static bool httpreq_has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return true;
    }
    return false;
}

static bool httpreq_name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Parses one header line [p, e) into out. 0 or -400. */
static int httpreq_header(const char *p, const char *e, httpreq_t *out, bool *close_seen,
                          bool *keep_seen)
{
    const char *colon = memchr(p, ':', (size_t)(e - p));
    if (!colon || colon == p)
        return -400;
    for (const char *q = p; q < colon; q++)
        if (!httpreq_tchar((unsigned char)*q))
            return -400;          /* includes whitespace before the colon */
    const char *v = colon + 1;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    const char *ve = e;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    for (const char *q = v; q < ve; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
            return -400;
    size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
    if (httpreq_name_is(p, nl, "content-length")) {
        if (vl == 0 || vl > 18)
            return -400;
        int64_t n = 0;
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -400;
            n = n * 10 + (v[i] - '0');
        }
        if (out->content_length >= 0 && out->content_length != n)
            return -400;
        out->content_length = n;
    } else if (httpreq_name_is(p, nl, "transfer-encoding")) {
        out->chunked = true;
    } else if (httpreq_name_is(p, nl, "connection")) {
        if (httpreq_has_token(v, vl, "close"))
            *close_seen = true;
        if (httpreq_has_token(v, vl, "keep-alive"))
            *keep_seen = true;
    } else if (httpreq_name_is(p, nl, "expect")) {
        if (vl == 12 && strncasecmp(v, "100-continue", 12) == 0)
            out->expect_continue = true;
    }
    return 0;
}

int httpreq_parse(const char *buf, size_t len, httpreq_t *out)
{
    memset(out, 0, sizeof *out);
    out->content_length = -1;
    size_t scan = len < LIMIT_HTTP_HEADER_BYTES ? len : LIMIT_HTTP_HEADER_BYTES;
    size_t head = httpreq_head_end(buf, scan);
    if (!head)
        return len >= LIMIT_HTTP_HEADER_BYTES ? -431 : 0;
    /* Request line: METHOD SP TARGET SP HTTP/1.x */
    const char *p = buf, *end = buf + head;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    ASSERT(eol);
    const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    const char *sp1 = memchr(p, ' ', (size_t)(le - p));
    if (!sp1 || sp1 == p)
        return -400;
    for (const char *q = p; q < sp1; q++)
        if (!httpreq_tchar((unsigned char)*q))
            return -400;
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(le - t));
    if (!sp2 || sp2 == t)
        return -400;
    for (const char *q = t; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return -400;
    const char *ver = sp2 + 1;
    if (le - ver != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[6] != '.' ||
        ver[5] < '0' || ver[5] > '9' || ver[7] < '0' || ver[7] > '9')
        return -400;
    if (ver[5] != '1' || (ver[7] != '0' && ver[7] != '1'))
        return -505;
    out->method = p;
    out->method_len = (size_t)(sp1 - p);
    out->target = t;
    out->target_len = (size_t)(sp2 - t);
    const char *qm = memchr(t, '?', out->target_len);
    out->path_len = qm ? (size_t)(qm - t) : out->target_len;
    out->version_minor = ver[7] - '0';
    /* Header lines. */
    bool close_seen = false, keep_seen = false;
    int lines = 0;
    p = eol + 1;
    for (;;) {
        eol = memchr(p, '\n', (size_t)(end - p));
        ASSERT(eol);
        le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        if (le == p)
            break;                        /* the empty line */
        if (++lines > LIMIT_HTTP_HEADERS)
            return -431;
        if (*p == ' ' || *p == '\t')
            return -400;                  /* obsolete line folding */
        int rc = httpreq_header(p, le, out, &close_seen, &keep_seen);
        if (rc < 0)
            return rc;
        p = eol + 1;
    }
    out->keep_alive = out->version_minor == 1 ? !close_seen : keep_seen && !close_seen;
    return (int)head;
}

bool httpreq_method_is(const httpreq_t *r, const char *method)
{
    return strlen(method) == r->method_len && memcmp(r->method, method, r->method_len) == 0;
}

bool httpreq_path_is(const httpreq_t *r, const char *path)
{
    return strlen(path) == r->path_len && memcmp(r->target, path, r->path_len) == 0;
}

const char *httpreq_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
