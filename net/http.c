/*
 * http.c -- the HTTP/1.1 endpoint; see http.h. Request heads are parsed by
 * net/httpreq.c, JSON by net/json.c; this file owns the connection loop, routing,
 * and turning query results into JSON.
 */
#include "net/http.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "net/httpreq.h"
#include "net/json.h"
#include "net/net_int.h"
#include "shards/shard.h"

#define HTTP_SESSION_USER "http"
#define HTTP_SESSION_DATABASE "nextdb"

typedef struct http_conn {
    net_conn_t nc;
    char *in;
    size_t in_cap, in_len;
    strbuf_t out;
    bool closed;
} http_conn_t;

/* ---- output ---- */

static int http_flush(http_conn_t *c)
{
    if (c->closed)
        return -1;
    if (c->out.oom) {
        c->closed = true;
        return -1;
    }
    ssize_t n = c->out.len ? rt_send_all(c->nc.fd, c->out.data, c->out.len) : 0;
    strbuf_reset(&c->out);
    if (n < 0)
        c->closed = true;
    return n < 0 ? -1 : 0;
}

/* Sends one complete response. extra: more header lines ("Allow: POST\r\n") or NULL. */
static void http_respond(http_conn_t *c, int status, const char *ctype, const char *body,
                         size_t len, bool keep_alive, const char *extra)
{
    strbuf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                           "Connection: %s\r\n\r\n",
                  status, httpreq_reason(status), ctype, len, extra ? extra : "",
                  keep_alive ? "keep-alive" : "close");
    strbuf_append(&c->out, body, len);
    http_flush(c);
}

/* Appends {"error":{"sqlstate":...,"message":...,"detail":...,"hint":...,"position":n}}. */
static void http_error_body(strbuf_t *b, const sql_error_t *e)
{
    strbuf_puts(b, "{\"error\":{\"sqlstate\":");
    json_write_string(b, e->sqlstate[0] ? e->sqlstate : SQLSTATE_INTERNAL_ERROR, 5);
    strbuf_puts(b, ",\"message\":");
    json_write_string(b, e->message, strlen(e->message));
    strbuf_puts(b, ",\"detail\":");
    if (e->detail[0])
        json_write_string(b, e->detail, strlen(e->detail));
    else
        strbuf_puts(b, "null");
    if (e->hint[0]) {
        strbuf_puts(b, ",\"hint\":");
        json_write_string(b, e->hint, strlen(e->hint));
    }
    if (e->position > 0)
        strbuf_printf(b, ",\"position\":%d", e->position);
    strbuf_puts(b, "}}");
}

static void http_error(http_conn_t *c, int status, bool keep_alive, const char *extra,
                       const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void http_error(http_conn_t *c, int status, bool keep_alive, const char *extra,
                       const char *sqlstate, const char *fmt, ...)
{
    sql_error_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.sqlstate, sizeof e.sqlstate, "%s", sqlstate);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    strbuf_t b;
    strbuf_init(&b);
    http_error_body(&b, &e);
    http_respond(c, status, "application/json", b.data, b.len, keep_alive, extra);
    strbuf_free(&b);
}

/* ---- /query result sink ---- */

typedef struct http_result {
    strbuf_t cols, rows, scratch;
    int ncols;
    type_oid_t *types;
    int32_t *typmods;
    int nrows;
    char tag[128];
    bool have_tag;
    bool too_big;
} http_result_t;

static int http_sink_describe(void *ctx, int ncols, const sql_coldesc_t *cols)
{
    http_result_t *r = ctx;
    rt_free(r->types);
    rt_free(r->typmods);
    r->types = rt_malloc(sizeof *r->types * (size_t)(ncols ? ncols : 1));
    r->typmods = rt_malloc(sizeof *r->typmods * (size_t)(ncols ? ncols : 1));
    if (!r->types || !r->typmods)
        return 1;
    r->ncols = ncols;
    strbuf_reset(&r->cols);
    for (int i = 0; i < ncols; i++) {
        r->types[i] = cols[i].type;
        r->typmods[i] = cols[i].typmod;
        const char *name = cols[i].name ? cols[i].name : "?column?";
        strbuf_puts(&r->cols, i ? ",{\"name\":" : "{\"name\":");
        json_write_string(&r->cols, name, strlen(name));
        strbuf_puts(&r->cols, ",\"type\":");
        const type_info_t *ti = type_lookup(cols[i].type);
        if (ti)
            json_write_string(&r->cols, ti->name, strlen(ti->name));
        else
            strbuf_printf(&r->cols, "\"%u\"", cols[i].type);
        strbuf_putc(&r->cols, '}');
    }
    return 0;
}

/* Appends one value as JSON: numbers for integer and finite float types, booleans,
 * strings (PostgreSQL text form) for everything else. */
static void http_value(http_result_t *r, type_oid_t t, int32_t typmod, datum_t d)
{
    switch (t) {
    case TYPE_BOOL:
        strbuf_puts(&r->rows, d.i64 ? "true" : "false");
        return;
    case TYPE_INT2:
    case TYPE_INT4:
    case TYPE_INT8:
    case TYPE_OID:
        type_out_text(t, typmod, d, &r->rows);
        return;
    case TYPE_FLOAT4:
    case TYPE_FLOAT8:
        if (isfinite(d.f64)) {
            type_out_text(t, typmod, d, &r->rows);
            return;
        }
        break;
    default:
        break;
    }
    strbuf_reset(&r->scratch);
    type_out_text(t, typmod, d, &r->scratch);
    json_write_string(&r->rows, r->scratch.data ? r->scratch.data : "", r->scratch.len);
}

static int http_sink_row(void *ctx, int ncols, const datum_t *vals, const bool *nulls)
{
    http_result_t *r = ctx;
    if (ncols != r->ncols) {
        log_error("http: row has %d columns, description had %d", ncols, r->ncols);
        return 1;
    }
    strbuf_puts(&r->rows, r->nrows ? ",[" : "[");
    for (int i = 0; i < ncols; i++) {
        if (i)
            strbuf_putc(&r->rows, ',');
        if (nulls[i])
            strbuf_puts(&r->rows, "null");
        else
            http_value(r, r->types[i], r->typmods[i], vals[i]);
    }
    strbuf_putc(&r->rows, ']');
    r->nrows++;
    if (r->rows.len + r->cols.len > LIMIT_HTTP_RESPONSE_BYTES || r->rows.oom) {
        r->too_big = true;
        return 1;
    }
    return 0;
}

static int http_sink_complete(void *ctx, const char *tag)
{
    http_result_t *r = ctx;
    snprintf(r->tag, sizeof r->tag, "%s", tag);
    r->have_tag = true;
    return 0;
}

static int http_sink_empty(void *ctx) { (void)ctx; return 0; }
static int http_sink_notice(void *ctx, const sql_error_t *e) { (void)ctx; (void)e; return 0; }
static int http_sink_param(void *ctx, const char *name, const char *value)
{
    (void)ctx; (void)name; (void)value;
    return 0;
}

/* ---- /query ---- */

/* Collects the parameters as text: NULL for null, the source text of numbers,
 * "true"/"false", strings as decoded. 0, or -1 with err. */
static int http_params(const json_value_t *p, arena_t *a, int *n, const char ***values,
                       sql_error_t *err)
{
    *n = 0;
    *values = NULL;
    if (!p || p->type == JSON_NULL)
        return 0;
    if (p->type != JSON_ARRAY)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "\"params\" must be a JSON array");
    if (p->count > LIMIT_PG_PARAMS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many parameters (more than %d)",
                         LIMIT_PG_PARAMS);
    const char **v = arena_alloc(a, sizeof *v * (size_t)(p->count ? p->count : 1));
    if (!v)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < p->count; i++) {
        const json_value_t *x = &p->items[i];
        switch (x->type) {
        case JSON_NULL: v[i] = NULL; break;
        case JSON_TRUE: v[i] = "true"; break;
        case JSON_FALSE: v[i] = "false"; break;
        case JSON_NUMBER: v[i] = x->str; break;
        case JSON_STRING:
            if (strlen(x->str) != x->len)
                return sql_error(err, "22P05", "unsupported Unicode escape sequence");
            v[i] = x->str;
            break;
        default:
            return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION,
                             "parameter $%d must be a JSON scalar, not an array or object", i + 1);
        }
    }
    *n = p->count;
    *values = v;
    return 0;
}

/* Parses the body into sql text and parameters. 0, or -1 with err. */
static int http_query_request(const char *body, size_t len, arena_t *a, const json_value_t **sql,
                              int *nparams, const char ***params, sql_error_t *err)
{
    json_value_t *root;
    json_error_t je;
    if (json_parse(body, len, a, &root, &je) < 0) {
        if (je.kind == JSON_ERR_MEMORY)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory parsing the request body");
        sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type json");
        sql_error_detail(err, "%s at byte %zu of the request body.", je.message, je.offset);
        return -1;
    }
    *sql = json_object_get(root, "sql");
    if (!*sql || (*sql)->type != JSON_STRING)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION,
                         "request body must be a JSON object with a string member \"sql\"");
    if (strlen((*sql)->str) != (*sql)->len)
        return sql_error(err, "22P05", "unsupported Unicode escape sequence");
    return http_params(json_object_get(root, "params"), a, nparams, params, err);
}

static void http_query(http_conn_t *c, const char *body, size_t len, bool keep_alive)
{
    arena_t a;
    arena_init(&a, LIMIT_HTTP_JSON_ARENA_BYTES);
    sql_error_t err;
    memset(&err, 0, sizeof err);
    http_result_t r;
    memset(&r, 0, sizeof r);
    strbuf_init(&r.cols);
    strbuf_init(&r.rows);
    strbuf_init(&r.scratch);
    strbuf_t out;
    strbuf_init(&out);
    const json_value_t *sql = NULL;
    int nparams = 0;
    const char **params = NULL;
    int status = 400;
    if (http_query_request(body, len, &a, &sql, &nparams, &params, &err) < 0)
        goto error;
    if (!c->nc.session) {
        c->nc.session = sql_session_new(HTTP_SESSION_USER, HTTP_SESSION_DATABASE, 0, NULL, &err);
        if (!c->nc.session) {
            if (!sql_error_is_set(&err))
                sql_error(&err, SQLSTATE_INTERNAL_ERROR, "could not create session");
            status = 500;
            goto error;
        }
        sql_session_set_client(c->nc.session, c->nc.pid, NULL, -1, true);
    }
    sql_sink_t sink = {.ctx = &r, .describe = http_sink_describe, .row = http_sink_row,
                       .complete = http_sink_complete, .empty = http_sink_empty,
                       .notice = http_sink_notice, .param_status = http_sink_param};
    uint64_t t0 = rt_now_us();
    int rc = sql_exec_params(c->nc.session, sql->str, sql->len, nparams, params, &sink, &err);
    net__query_done(t0);
    if (r.too_big) {
        sql_error_clear(&err);
        sql_error(&err, SQLSTATE_PROGRAM_LIMIT,
                  "query result exceeds the HTTP response limit of %d bytes",
                  LIMIT_HTTP_RESPONSE_BYTES);
        goto error;
    }
    if (rc < 0)
        goto error;
    strbuf_puts(&out, "{\"columns\":[");
    strbuf_append(&out, r.cols.data, r.cols.len);
    strbuf_puts(&out, "],\"rows\":[");
    strbuf_append(&out, r.rows.data, r.rows.len);
    strbuf_puts(&out, "],\"command\":");
    if (r.have_tag)
        json_write_string(&out, r.tag, strlen(r.tag));
    else
        strbuf_puts(&out, "null");
    strbuf_putc(&out, '}');
    if (out.oom) {
        sql_error(&err, SQLSTATE_OUT_OF_MEMORY, "out of memory building the response");
        status = 500;
        goto error;
    }
    http_respond(c, 200, "application/json", out.data, out.len, keep_alive, NULL);
    goto done;
error:
    strbuf_reset(&out);
    http_error_body(&out, &err);
    http_respond(c, status, "application/json", out.data, out.len, keep_alive, NULL);
done:
    strbuf_free(&out);
    strbuf_free(&r.cols);
    strbuf_free(&r.rows);
    strbuf_free(&r.scratch);
    rt_free(r.types);
    rt_free(r.typmods);
    arena_destroy(&a);
}

/* ---- routing ---- */

static void http_route(http_conn_t *c, const httpreq_t *req, const char *body, size_t len)
{
    bool ka = req->keep_alive;
    if (httpreq_path_is(req, "/query")) {
        if (!httpreq_method_is(req, "POST"))
            http_error(c, 405, ka, "Allow: POST\r\n", "0A000", "use POST for /query");
        else
            http_query(c, body, len, ka);
    } else if (httpreq_path_is(req, "/metrics")) {
        if (!httpreq_method_is(req, "GET")) {
            http_error(c, 405, ka, "Allow: GET\r\n", "0A000", "use GET for /metrics");
            return;
        }
        /* fresh store figures from every shard first (shards push them lazily) */
        int n = rt_shards_count(), shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
        void *args[LIMIT_SHARDS_MAX];
        for (int i = 0; i < n; i++) {
            shards[i] = i;
            args[i] = NULL;
        }
        rt_call_many(n, shards, shard_report_now, args, rets);
        strbuf_t m;
        strbuf_init(&m);
        metrics_render(&m);
        http_respond(c, 200, "text/plain; version=0.0.4", m.data ? m.data : "", m.len, ka, NULL);
        strbuf_free(&m);
    } else if (httpreq_path_is(req, "/health")) {
        if (!httpreq_method_is(req, "GET")) {
            http_error(c, 405, ka, "Allow: GET\r\n", "0A000", "use GET for /health");
            return;
        }
        char b[64];
        int n = snprintf(b, sizeof b, "{\"status\":\"ok\",\"shards\":%d}", rt_shards_count());
        http_respond(c, 200, "application/json", b, (size_t)n, ka, NULL);
    } else {
        http_error(c, 404, ka, NULL, "42704", "no such endpoint: %.*s", (int)req->path_len,
                   req->target);
    }
}

/* ---- connection ---- */

/* Reads until want bytes are buffered (growing the buffer to want). 0 or -1. */
static int http_fill(http_conn_t *c, size_t want)
{
    if (want > c->in_cap) {
        char *p = rt_realloc(c->in, want);
        if (!p)
            return -1;
        c->in = p;
        c->in_cap = want;
    }
    while (c->in_len < want) {
        ssize_t n = rt_recv(c->nc.fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n <= 0) {
            c->closed = true;
            return -1;
        }
        c->in_len += (size_t)n;
    }
    return 0;
}

/* Reads whatever arrives next (at least one byte). 0 or -1 on EOF/error. */
static int http_read_more(http_conn_t *c)
{
    if (c->in_len == c->in_cap)
        return -1;          /* cannot happen: httpreq_parse reports 431 first */
    return http_fill(c, c->in_len + 1);
}

/* Serves one request; returns false when the connection must end. */
static bool http_one(http_conn_t *c)
{
    httpreq_t req;
    int head;
    while ((head = httpreq_parse(c->in, c->in_len, &req)) == 0)
        if (http_read_more(c) < 0)
            return false;
    metrics_add(net__m_http_requests_total, 1);
    if (head < 0) {
        http_error(c, -head, false, NULL, "08P01", "%s", httpreq_reason(-head));
        return false;
    }
    if (req.chunked) {
        http_error(c, 501, false, NULL, "0A000",
                   "chunked request bodies are not supported; send Content-Length");
        return false;
    }
    size_t body = req.content_length < 0 ? 0 : (size_t)req.content_length;
    if (req.content_length > LIMIT_HTTP_BODY_BYTES) {
        http_error(c, 413, false, NULL, "54000", "request body exceeds %d bytes",
                   LIMIT_HTTP_BODY_BYTES);
        return false;
    }
    size_t total = (size_t)head + body;
    if (req.expect_continue && c->in_len < total) {
        strbuf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        if (http_flush(c) < 0)
            return false;
    }
    if (http_fill(c, total) < 0)
        return false;
    http_route(c, &req, c->in + head, body);
    memmove(c->in, c->in + total, c->in_len - total);
    c->in_len -= total;
    if (c->in_cap > LIMIT_HTTP_HEADER_BYTES && c->in_len <= LIMIT_HTTP_HEADER_BYTES) {
        char *p = rt_realloc(c->in, LIMIT_HTTP_HEADER_BYTES);
        if (p) {
            c->in = p;
            c->in_cap = LIMIT_HTTP_HEADER_BYTES;
        }
    }
    return req.keep_alive && !c->closed;
}

/* Closing a socket that still holds unread input makes the kernel send a reset,
 * which can destroy the response still in flight (a 413 or 431 answer, typically).
 * So half-close, then read and drop what the client still sends, up to
 * LIMIT_HTTP_LINGER_BYTES or its own close, as web servers do ("lingering close"). */
static void http_linger(http_conn_t *c)
{
    shutdown(c->nc.fd, SHUT_WR);
    size_t drained = 0;
    while (drained < LIMIT_HTTP_LINGER_BYTES) {
        ssize_t n = rt_recv(c->nc.fd, c->in, c->in_cap);
        if (n <= 0)
            break;
        drained += (size_t)n;
    }
}

void http_serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    http_conn_t *c = rt_calloc(1, sizeof *c);
    if (!c) {
        rt_close(fd);
        return;
    }
    bool over_limit = net__conn_open(&c->nc, fd, true) < 0;
    strbuf_init(&c->out);
    c->in_cap = LIMIT_HTTP_HEADER_BYTES;
    c->in = rt_malloc(c->in_cap);
    if (over_limit)
        http_error(c, 503, false, NULL, SQLSTATE_TOO_MANY_CONNECTIONS, "too many connections");
    else if (c->in)
        while (http_one(c)) {}
    if (!c->closed && c->in)
        http_linger(c);
    if (c->nc.session)
        sql_session_free(c->nc.session);
    c->nc.session = NULL;
    net__conn_close(&c->nc);
    strbuf_free(&c->out);
    rt_free(c->in);
    rt_free(c);
}
