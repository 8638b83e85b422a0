/*
 * pgwire.c -- a PostgreSQL protocol v3 connection; see pgwire.h.
 *
 * The connection is a straight-line fiber: read a message, act on it through
 * sql/session.h, append replies to the output buffer, repeat. Wire formats come from
 * net/pgproto.c; this file owns buffering, the auth exchange, the protocol state
 * (skip-till-Sync) and the result sink.
 */
#include "net/pgwire.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/rt.h"
#include "net/hba.h"
#include "net/net_int.h"
#include "net/pgproto.h"
#include "net/scram.h"

STATIC_ASSERT(LIMIT_PG_MESSAGE_BYTES <= INT32_MAX, "message length must fit the int32 field");
STATIC_ASSERT(LIMIT_PG_STARTUP_BYTES <= LIMIT_PG_READ_BUFFER_BYTES, "startup fits the buffer");

typedef struct pgwire_conn {
    net_conn_t nc;
    /* input: bytes [in_start, in_end) of in (in_cap bytes) are unread */
    uint8_t *in;
    size_t in_cap, in_start, in_end;
    strbuf_t out;
    bool closed;                 /* peer gone or FATAL sent: the fiber winds down */
    bool skip_till_sync;         /* an extended-protocol message failed */
    bool extended;               /* the running statement came from Execute */
    /* the message being handled: its body length, and whether COPY already consumed
     * it from the input buffer (to read the CopyData behind it) */
    size_t cur_len;
    bool cur_consumed;
    /* COPY FROM STDIN: CopyInResponse sent; the stream ended; a CopyData message
     * handed to the engine but not consumed yet (5 + body bytes) */
    bool copy_started, copy_done;
    size_t copy_pending;
    arena_t msg_arena;           /* arrays of the message being handled */
    /* shape of the rows the sink formats: one entry per column */
    int ncols, cols_cap;
    type_oid_t *col_types;
    int32_t *col_typmods;
    int16_t *col_formats;
    /* startup */
    uint8_t *startup;            /* copy of the startup packet; strings point into it */
    pgproto_startup_t st;
    const char *user, *database;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char peer_text[INET6_ADDRSTRLEN];
} pgwire_conn_t;

static uint32_t pgwire_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- output ---- */

/* Sends everything buffered. 0, or -1 when the peer is gone (conn marked closed). */
static int pgwire_flush(pgwire_conn_t *c)
{
    if (c->closed)
        return -1;
    if (c->out.oom) {
        log_warn("pgwire: out of memory building replies for pid %d", c->nc.pid);
        c->closed = true;
        return -1;
    }
    if (c->out.len == 0)
        return 0;
    ssize_t n = rt_send_all(c->nc.fd, c->out.data, c->out.len);
    strbuf_reset(&c->out);
    if (n < 0) {
        c->closed = true;
        return -1;
    }
    return 0;
}

static int pgwire_maybe_flush(pgwire_conn_t *c)
{
    return c->out.len > LIMIT_PG_OUTPUT_FLUSH_BYTES ? pgwire_flush(c) : 0;
}

/* Sends an ERROR (or the engine's FATAL, which also ends the connection). */
static void pgwire_send_error(pgwire_conn_t *c, const sql_error_t *e)
{
    pgproto_put_error(&c->out, 'E', e);
    if (!strcmp(e->severity, "FATAL")) {
        pgwire_flush(c);
        c->closed = true;
    }
}

/* Sends a FATAL error and marks the connection for closing. */
static void pgwire_fatal(pgwire_conn_t *c, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pgwire_fatal(pgwire_conn_t *c, const char *sqlstate, const char *fmt, ...)
{
    sql_error_t e;
    memset(&e, 0, sizeof e);
    strcpy(e.severity, "FATAL");
    snprintf(e.sqlstate, sizeof e.sqlstate, "%s", sqlstate);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    pgwire_send_error(c, &e);
}

/* Same for an error already in an sql_error_t. */
static void pgwire_fatal_err(pgwire_conn_t *c, sql_error_t *e)
{
    strcpy(e->severity, "FATAL");
    pgwire_send_error(c, e);
}

/* ---- input ---- */

/* Makes n bytes available at in + in_start, reading (and flushing replies first, so
 * the client is never waiting on us while we wait on it). 0, or -1 on EOF, socket
 * error or memory exhaustion (conn marked closed). */
static int pgwire_fill(pgwire_conn_t *c, size_t n)
{
    while (c->in_end - c->in_start < n) {
        if (c->in_cap - c->in_start < n) {
            memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
            c->in_end -= c->in_start;
            c->in_start = 0;
            if (c->in_cap < n) {
                uint8_t *p = rt_realloc(c->in, n);
                if (!p) {
                    log_warn("pgwire: no memory for a %zu-byte message", n);
                    c->closed = true;
                    return -1;
                }
                c->in = p;
                c->in_cap = n;
            }
        }
        if (pgwire_flush(c) < 0)
            return -1;
        ssize_t r = rt_recv(c->nc.fd, c->in + c->in_end, c->in_cap - c->in_end);
        if (r <= 0) {
            c->closed = true;
            return -1;
        }
        c->in_end += (size_t)r;
    }
    return 0;
}

/* Drops n consumed bytes; an emptied oversized buffer shrinks back to its normal size. */
static void pgwire_consume(pgwire_conn_t *c, size_t n)
{
    ASSERT(n <= c->in_end - c->in_start);
    c->in_start += n;
    if (c->in_start == c->in_end) {
        c->in_start = c->in_end = 0;
        if (c->in_cap > LIMIT_PG_READ_BUFFER_BYTES) {
            uint8_t *p = rt_realloc(c->in, LIMIT_PG_READ_BUFFER_BYTES);
            if (p) {
                c->in = p;
                c->in_cap = LIMIT_PG_READ_BUFFER_BYTES;
            }
        }
    }
}

/* Reads one typed message of at most max_body bytes. On success *type, *body, *len
 * describe it and the caller must pgwire_consume(c, 5 + *len) when done. -1 when the
 * connection ends (EOF: silently; bad length: FATAL sent). */
static int pgwire_next(pgwire_conn_t *c, size_t max_body, char *type, const uint8_t **body,
                       size_t *len)
{
    if (pgwire_fill(c, 5) < 0)
        return -1;
    const uint8_t *h = c->in + c->in_start;
    uint32_t l = pgwire_be32(h + 1);
    if (l < 4 || l - 4 > max_body) {
        pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid message length");
        return -1;
    }
    if (pgwire_fill(c, 1 + (size_t)l) < 0)
        return -1;
    *type = (char)c->in[c->in_start];
    *body = c->in + c->in_start + 5;
    *len = l - 4;
    return 0;
}

/* ---- result sink ---- */

/* Records the shape of the rows to come; formats NULL = all text. 0 or -1 (memory). */
static int pgwire_set_shape(pgwire_conn_t *c, int ncols, const sql_coldesc_t *cols,
                            const int16_t *formats)
{
    ASSERT(ncols >= 0 && ncols <= 0xffff);
    if (ncols > c->cols_cap) {
        type_oid_t *t = rt_realloc(c->col_types, sizeof *t * (size_t)ncols);
        if (t) c->col_types = t;
        int32_t *m = rt_realloc(c->col_typmods, sizeof *m * (size_t)ncols);
        if (m) c->col_typmods = m;
        int16_t *f = rt_realloc(c->col_formats, sizeof *f * (size_t)ncols);
        if (f) c->col_formats = f;
        if (!t || !m || !f)
            return -1;
        c->cols_cap = ncols;
    }
    for (int i = 0; i < ncols; i++) {
        c->col_types[i] = cols[i].type;
        c->col_typmods[i] = cols[i].typmod;
        c->col_formats[i] = formats ? formats[i] : 0;
    }
    c->ncols = ncols;
    return 0;
}

static int pgwire_sink_describe(void *ctx, int ncols, const sql_coldesc_t *cols)
{
    pgwire_conn_t *c = ctx;
    if (c->extended)            /* Describe already told the client; Execute sends none */
        return 0;
    if (pgwire_set_shape(c, ncols, cols, NULL) < 0)
        return 1;
    pgproto_put_rowdesc(&c->out, ncols, cols, NULL);
    return pgwire_maybe_flush(c) < 0;
}

static int pgwire_sink_row(void *ctx, int ncols, const datum_t *vals, const bool *nulls)
{
    pgwire_conn_t *c = ctx;
    if (c->closed)
        return 1;
    if (ncols != c->ncols) {
        log_error("pgwire: row has %d columns, description had %d", ncols, c->ncols);
        return 1;
    }
    strbuf_t *o = &c->out;
    size_t m = pgproto_begin(o, 'D');
    strbuf_put_be16(o, (uint16_t)ncols);
    for (int i = 0; i < ncols; i++) {
        if (nulls[i]) {
            strbuf_put_be32(o, 0xffffffffu);
            continue;
        }
        size_t at = o->len;
        strbuf_put_be32(o, 0);
        if (c->col_formats[i] == 1)
            type_send_binary(c->col_types[i], c->col_typmods[i], vals[i], o);
        else
            type_out_text(c->col_types[i], c->col_typmods[i], vals[i], o);
        if (!o->oom)
            strbuf_patch_be32(o, at, (uint32_t)(o->len - at - 4));
    }
    pgproto_finish(o, m);
    return pgwire_maybe_flush(c) < 0;
}

static int pgwire_sink_complete(void *ctx, const char *tag)
{
    pgwire_conn_t *c = ctx;
    pgproto_put_complete(&c->out, tag);
    return 0;
}

static int pgwire_sink_empty(void *ctx)
{
    pgwire_conn_t *c = ctx;
    pgproto_put_empty(&c->out, 'I');
    return 0;
}

static int pgwire_sink_notice(void *ctx, const sql_error_t *e)
{
    pgwire_conn_t *c = ctx;
    pgproto_put_error(&c->out, 'N', e);
    return 0;
}

static int pgwire_sink_param(void *ctx, const char *name, const char *value)
{
    pgwire_conn_t *c = ctx;
    pgproto_put_param_status(&c->out, name, value);
    return 0;
}

/* sql_sink_t.copy_out: CopyOutResponse (all columns text), CopyData, CopyDone. */
static int pgwire_sink_copy_out(void *ctx, char kind, int ncols, const uint8_t *data, size_t len)
{
    pgwire_conn_t *c = ctx;
    if (c->closed)
        return 1;
    size_t m = pgproto_begin(&c->out, kind);
    if (kind == 'H') {
        strbuf_put_u8(&c->out, 0);
        strbuf_put_be16(&c->out, (uint16_t)ncols);
        for (int i = 0; i < ncols; i++)
            strbuf_put_be16(&c->out, 0);
    } else if (kind == 'd') {
        strbuf_append(&c->out, data, len);
    }
    pgproto_finish(&c->out, m);
    return pgwire_maybe_flush(c) < 0;
}

static sql_sink_t pgwire_sink(pgwire_conn_t *c)
{
    return (sql_sink_t){.ctx = c, .describe = pgwire_sink_describe, .row = pgwire_sink_row,
                        .complete = pgwire_sink_complete, .empty = pgwire_sink_empty,
                        .notice = pgwire_sink_notice, .param_status = pgwire_sink_param,
                        .copy_out = pgwire_sink_copy_out};
}

/* ---- startup and authentication ---- */

static void pgwire_peer(pgwire_conn_t *c)
{
    c->peer_len = sizeof c->peer;
    if (getpeername(c->nc.fd, (struct sockaddr *)&c->peer, &c->peer_len) < 0) {
        c->peer_len = 0;
        c->peer.ss_family = AF_UNSPEC;
    }
    const void *a = NULL;
    if (c->peer.ss_family == AF_INET)
        a = &((struct sockaddr_in *)&c->peer)->sin_addr;
    else if (c->peer.ss_family == AF_INET6)
        a = &((struct sockaddr_in6 *)&c->peer)->sin6_addr;
    if (!a || !inet_ntop(c->peer.ss_family, a, c->peer_text, sizeof c->peer_text))
        strcpy(c->peer_text, "unknown");
}

/* Reads packets until a real startup packet arrives (answering SSL/GSS requests,
 * routing a CancelRequest). 0 = startup parsed into c->st; -1 = close. */
static int pgwire_read_startup(pgwire_conn_t *c)
{
    bool ssl_done = false, gss_done = false;
    for (;;) {
        if (pgwire_fill(c, 4) < 0)
            return -1;
        uint32_t len = pgwire_be32(c->in + c->in_start);
        if (len < 8 || len > LIMIT_PG_STARTUP_BYTES) {
            pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid length of startup packet");
            return -1;
        }
        if (pgwire_fill(c, len) < 0)
            return -1;
        rt_free(c->startup);
        c->startup = rt_malloc(len);
        if (!c->startup) {
            pgwire_fatal(c, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return -1;
        }
        memcpy(c->startup, c->in + c->in_start + 4, len - 4);
        pgwire_consume(c, len);
        sql_error_t err;
        memset(&err, 0, sizeof err);
        if (pgproto_parse_startup(c->startup, len - 4, &c->st, &err) < 0) {
            pgwire_fatal_err(c, &err);
            return -1;
        }
        switch (c->st.kind) {
        case PGPROTO_SSL:
        case PGPROTO_GSSENC: {
            bool *done = c->st.kind == PGPROTO_SSL ? &ssl_done : &gss_done;
            if (*done) {
                pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "duplicate %s request",
                             c->st.kind == PGPROTO_SSL ? "SSL" : "GSSAPI encryption");
                return -1;
            }
            *done = true;
            strbuf_putc(&c->out, 'N');
            if (pgwire_flush(c) < 0)
                return -1;
            continue;
        }
        case PGPROTO_CANCEL:
            net__cancel(c->st.cancel_pid, c->st.cancel_secret);
            return -1;
        default:
            return 0;
        }
    }
}

/* Sends NegotiateProtocolVersion when the client asked for a newer minor version or
 * for protocol options (_pq_.*) we do not know. */
static void pgwire_negotiate(pgwire_conn_t *c)
{
    const char *opts[LIMIT_PG_STARTUP_PARAMS];
    int n = 0;
    for (int i = 0; i < c->st.nparams; i++)
        if (!strncmp(c->st.params[i].name, "_pq_.", 5))
            opts[n++] = c->st.params[i].name;
    if ((c->st.version & 0xffff) > 0 || n > 0)
        pgproto_put_negotiate(&c->out, 0, n, opts);
}

/* Reads a SASL response message ('p') during auth. 0 or -1 (closed / FATAL sent). */
static int pgwire_read_sasl(pgwire_conn_t *c, const uint8_t **body, size_t *len)
{
    char type;
    if (pgwire_next(c, LIMIT_PG_AUTH_MESSAGE_BYTES, &type, body, len) < 0)
        return -1;
    if (type != 'p') {
        pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "expected SASL response, got message type %d",
                     type);
        return -1;
    }
    return 0;
}

/* The SCRAM-SHA-256 exchange. 0 = authenticated; -1 = close (FATAL sent unless the
 * client just went away, as psql does when it first probes for a password). */
static int pgwire_scram(pgwire_conn_t *c)
{
    scram_server_t st;
    scram_verifier_t ver;
    const char *stored = hba_user_verifier(net__hba, c->user);
    bool known = stored && scram_parse_verifier(stored, &ver) == 0;
    if (!known && scram_mock_verifier(c->user, net__mock_key, sizeof net__mock_key, &ver) < 0) {
        pgwire_fatal(c, SQLSTATE_INTERNAL_ERROR, "could not generate random data");
        return -1;
    }
    scram_server_init(&st, &ver, !known);
    strbuf_t msg, nonce;
    strbuf_init(&msg);
    strbuf_init(&nonce);
    int rc = -1;
    const char *why = NULL;
    const uint8_t *body, *data;
    size_t len;
    int32_t data_len;
    const char *mech;
    sql_error_t err;
    memset(&err, 0, sizeof err);

    pgproto_put_auth(&c->out, 10, "SCRAM-SHA-256\0", 15);   /* list ends with "" */
    if (pgwire_read_sasl(c, &body, &len) < 0)
        goto done;
    if (pgproto_parse_sasl_initial(body, len, &mech, &data, &data_len, &err) < 0) {
        pgwire_fatal_err(c, &err);
        goto done;
    }
    if (strcmp(mech, "SCRAM-SHA-256") != 0) {
        pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION,
                     "client selected an invalid SASL authentication mechanism");
        goto done;
    }
    if (!data || scram_new_nonce(&nonce) < 0 ||
        scram_server_first(&st, (const char *)data, (size_t)data_len, nonce.data, &msg, &why) < 0) {
        pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "malformed SCRAM message%s%s",
                     why ? ": " : "", why ? why : "");
        goto done;
    }
    pgwire_consume(c, 5 + len);
    pgproto_put_auth(&c->out, 11, msg.data, msg.len);
    strbuf_reset(&msg);
    if (pgwire_read_sasl(c, &body, &len) < 0)
        goto done;
    int ok = scram_server_final(&st, (const char *)body, len, &msg, &why);
    pgwire_consume(c, 5 + len);
    if (ok < 0) {
        pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "malformed SCRAM message: %s", why);
        goto done;
    }
    if (ok == 0 || msg.oom) {
        pgwire_fatal(c, SQLSTATE_INVALID_PASSWORD, "password authentication failed for user \"%s\"",
                     c->user);
        goto done;
    }
    pgproto_put_auth(&c->out, 12, msg.data, msg.len);
    rc = 0;
done:
    strbuf_free(&msg);
    strbuf_free(&nonce);
    scram_server_free(&st);
    return rc;
}

static void pgwire_report_param(void *ctx, const char *name, const char *value)
{
    pgwire_conn_t *c = ctx;
    pgproto_put_param_status(&c->out, name, value);
}

/* Startup through the first ReadyForQuery. 0 = ready for queries; -1 = close. */
static int pgwire_startup(pgwire_conn_t *c, bool over_limit)
{
    if (pgwire_read_startup(c) < 0)
        return -1;
    if (over_limit) {
        pgwire_fatal(c, SQLSTATE_TOO_MANY_CONNECTIONS, "sorry, too many clients already");
        return -1;
    }
    if (!c->st.user || !c->st.user[0]) {
        pgwire_fatal(c, SQLSTATE_INVALID_AUTH, "no PostgreSQL user name specified in startup packet");
        return -1;
    }
    c->user = c->st.user;
    c->database = c->st.database && c->st.database[0] ? c->st.database : c->user;
    pgwire_negotiate(c);
    pgwire_peer(c);
    int method = c->peer_len ? hba_match(net__hba, c->database, c->user,
                                         (struct sockaddr *)&c->peer, c->peer_len)
                             : HBA_NO_MATCH;
    if (method == HBA_NO_MATCH || method == HBA_REJECT) {
        pgwire_fatal(c, SQLSTATE_INVALID_AUTH,
                     method == HBA_REJECT
                         ? "pg_hba.conf rejects connection for host \"%s\", user \"%s\", database \"%s\", no encryption"
                         : "no pg_hba.conf entry for host \"%s\", user \"%s\", database \"%s\", no encryption",
                     c->peer_text, c->user, c->database);
        return -1;
    }
    if (method == HBA_SCRAM && pgwire_scram(c) < 0)
        return -1;
    pgproto_put_auth(&c->out, 0, NULL, 0);

    /* The session gets every parameter except the ones the protocol itself uses. */
    sql_startup_param_t params[LIMIT_PG_STARTUP_PARAMS];
    int n = 0;
    for (int i = 0; i < c->st.nparams; i++) {
        const char *name = c->st.params[i].name;
        if (strcmp(name, "user") && strcmp(name, "database") && strncmp(name, "_pq_.", 5))
            params[n++] = c->st.params[i];
    }
    sql_error_t err;
    memset(&err, 0, sizeof err);
    c->nc.session = sql_session_new(c->user, c->database, n, params, &err);
    if (!c->nc.session) {
        if (!sql_error_is_set(&err))
            sql_error(&err, SQLSTATE_INTERNAL_ERROR, "could not create session");
        pgwire_fatal_err(c, &err);
        return -1;
    }
    int port = c->peer.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&c->peer)->sin_port)
               : c->peer.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&c->peer)->sin6_port) : -1;
    sql_session_set_client(c->nc.session, c->nc.pid, port >= 0 ? c->peer_text : NULL, port, false);
    sql_session_report_params(c->nc.session, pgwire_report_param, c);
    pgproto_put_backend_key(&c->out, c->nc.pid, c->nc.secret);
    pgproto_put_ready(&c->out, sql_txn_status(c->nc.session));
    return pgwire_flush(c);
}

/* ---- queries ---- */

/* ReadyForQuery ends a reply the client waits for, so it goes out at once. */
static void pgwire_ready(pgwire_conn_t *c)
{
    pgproto_put_ready(&c->out, sql_txn_status(c->nc.session));
    pgwire_flush(c);
}

/* sql_sink_t.copy_in: CopyInResponse on the first call, then one CopyData per call
 * (see session.h). Flush and Sync are ignored during COPY, as PostgreSQL does. */
static int pgwire_copy_in(void *ctx, int ncols, const uint8_t **data, size_t *len, sql_error_t *err)
{
    pgwire_conn_t *c = ctx;
    if (c->copy_pending) {
        pgwire_consume(c, c->copy_pending);
        c->copy_pending = 0;
    }
    if (c->copy_done)
        return 0;
    if (!c->copy_started) {
        c->copy_started = true;
        if (!c->cur_consumed) {
            pgwire_consume(c, 5 + c->cur_len);   /* the Query; its text was copied */
            c->cur_consumed = true;
        }
        size_t m = pgproto_begin(&c->out, 'G');
        strbuf_put_u8(&c->out, 0);               /* text */
        strbuf_put_be16(&c->out, (uint16_t)ncols);
        for (int i = 0; i < ncols; i++)
            strbuf_put_be16(&c->out, 0);
        pgproto_finish(&c->out, m);
        if (pgwire_flush(c) < 0)
            return sql_error(err, SQLSTATE_CONNECTION_FAILURE, "connection lost during COPY");
    }
    for (;;) {
        char type;
        const uint8_t *body;
        size_t blen;
        if (pgwire_next(c, LIMIT_PG_MESSAGE_BYTES, &type, &body, &blen) < 0)
            return sql_error(err, SQLSTATE_CONNECTION_FAILURE, "connection lost during COPY");
        if (type == 'd') {
            *data = body;
            *len = blen;
            c->copy_pending = 5 + blen;
            return 1;
        }
        if (type == 'H' || type == 'S') {
            pgwire_consume(c, 5 + blen);
            continue;
        }
        c->copy_done = true;
        if (type == 'c') {
            pgwire_consume(c, 5 + blen);
            return 0;
        }
        if (type == 'f') {
            const char *msg = blen && memchr(body, 0, blen) ? (const char *)body : "";
            sql_error(err, SQLSTATE_QUERY_CANCELED, "COPY from stdin failed: %s", msg);
            pgwire_consume(c, 5 + blen);
            return -1;
        }
        pgwire_consume(c, 5 + blen);
        sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "unexpected message type 0x%02X during COPY from stdin",
                  (unsigned)(uint8_t)type);
        strcpy(err->severity, "FATAL");
        return -1;
    }
}

static void pgwire_query(pgwire_conn_t *c, const uint8_t *body, size_t len)
{
    sql_error_t err;
    memset(&err, 0, sizeof err);
    const char *sql;
    size_t sql_len;
    uint64_t t0 = rt_now_us();
    c->extended = false;
    c->ncols = 0;
    char *text = NULL;
    if (pgproto_parse_query(body, len, &sql, &sql_len, &err) < 0) {
        pgwire_send_error(c, &err);
    } else if (!(text = arena_alloc(&c->msg_arena, sql_len + 1))) {
        sql_error(&err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        pgwire_send_error(c, &err);
    } else {
        /* a COPY reads the messages behind this one from the input buffer, which may
         * move: the statement text must not point into it */
        memcpy(text, sql, sql_len);
        text[sql_len] = 0;
        sql = text;
        sql_sink_t sink = pgwire_sink(c);
        sink.copy_in = pgwire_copy_in;
        c->copy_started = c->copy_done = false;
        if (sql_exec_simple(c->nc.session, sql, sql_len, &sink, &err) < 0)
            pgwire_send_error(c, &err);
        net__query_done(t0);
    }
    if (!c->closed)
        pgwire_ready(c);
}

/* Extended-protocol messages; each returns 0 or -1 with err filled. */

static int pgwire_parse(pgwire_conn_t *c, const uint8_t *body, size_t len, sql_error_t *err)
{
    pgproto_parse_t p;
    if (pgproto_parse_parse(body, len, &c->msg_arena, &p, err) < 0 ||
        sql_prepare(c->nc.session, p.name, p.query, p.query_len, p.nparams, p.param_types, err) < 0)
        return -1;
    pgproto_put_empty(&c->out, '1');
    return 0;
}

static int pgwire_bind(pgwire_conn_t *c, const uint8_t *body, size_t len, sql_error_t *err)
{
    pgproto_bind_t b;
    if (pgproto_parse_bind(body, len, &c->msg_arena, &b, err) < 0 ||
        sql_bind(c->nc.session, b.portal, b.stmt, b.nformats, b.formats, b.nvalues,
                 (const uint8_t *const *)b.values, b.lengths, b.nresult_formats,
                 b.result_formats, err) < 0)
        return -1;
    pgproto_put_empty(&c->out, '2');
    return 0;
}

static int pgwire_describe(pgwire_conn_t *c, const uint8_t *body, size_t len, sql_error_t *err)
{
    char kind;
    const char *name;
    int nparams, ncols;
    const type_oid_t *types;
    const sql_coldesc_t *cols;
    const int16_t *formats;
    if (pgproto_parse_target(body, len, "DESCRIBE", &kind, &name, err) < 0)
        return -1;
    if (kind == 'S') {
        if (sql_describe_statement(c->nc.session, name, &nparams, &types, &ncols, &cols, err) < 0)
            return -1;
        pgproto_put_paramdesc(&c->out, nparams, types);
        formats = NULL;
    } else if (sql_describe_portal(c->nc.session, name, &ncols, &cols, &formats, err) < 0) {
        return -1;
    }
    if (ncols < 0)
        pgproto_put_empty(&c->out, 'n');
    else
        pgproto_put_rowdesc(&c->out, ncols, cols, formats);
    return 0;
}

static int pgwire_execute(pgwire_conn_t *c, const uint8_t *body, size_t len, sql_error_t *err)
{
    const char *portal;
    int32_t max_rows;
    int ncols;
    const sql_coldesc_t *cols;
    const int16_t *formats;
    if (pgproto_parse_execute(body, len, &portal, &max_rows, err) < 0)
        return -1;
    /* The rows must come out in the formats Bind asked for, so learn them first. */
    if (sql_describe_portal(c->nc.session, portal, &ncols, &cols, &formats, err) < 0)
        return -1;
    if (pgwire_set_shape(c, ncols < 0 ? 0 : ncols, cols, formats) < 0)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    uint64_t t0 = rt_now_us();
    c->extended = true;
    sql_sink_t sink = pgwire_sink(c);
    int rc = sql_execute(c->nc.session, portal, max_rows > 0 ? max_rows : 0, &sink, err);
    c->extended = false;
    net__query_done(t0);
    if (rc < 0)
        return -1;
    if (rc == 1)
        pgproto_put_empty(&c->out, 's');
    return 0;
}

static int pgwire_close(pgwire_conn_t *c, const uint8_t *body, size_t len, sql_error_t *err)
{
    char kind;
    const char *name;
    if (pgproto_parse_target(body, len, "CLOSE", &kind, &name, err) < 0)
        return -1;
    if (kind == 'S')
        sql_close_statement(c->nc.session, name);
    else
        sql_close_portal(c->nc.session, name);
    pgproto_put_empty(&c->out, '3');
    return 0;
}

static void pgwire_sync(pgwire_conn_t *c, const uint8_t *body, size_t len)
{
    sql_error_t err;
    memset(&err, 0, sizeof err);
    c->skip_till_sync = false;
    if (pgproto_parse_empty(body, len, &err) < 0 || sql_sync(c->nc.session, &err) < 0)
        pgwire_send_error(c, &err);
    if (!c->closed)
        pgwire_ready(c);
}

/* Handles one message after startup. Returns -1 to end the connection. */
static int pgwire_dispatch(pgwire_conn_t *c, char type, const uint8_t *body, size_t len)
{
    sql_error_t err;
    memset(&err, 0, sizeof err);
    int rc = 0;
    if (type == 'X')
        return -1;
    /* After an error in an extended message everything up to Sync is skipped,
     * simple queries included, as PostgreSQL does. */
    if (c->skip_till_sync && type != 'S')
        return 0;
    switch (type) {
    case 'Q': pgwire_query(c, body, len); return 0;
    case 'S': pgwire_sync(c, body, len); return 0;
    case 'P': rc = pgwire_parse(c, body, len, &err); break;
    case 'B': rc = pgwire_bind(c, body, len, &err); break;
    case 'D': rc = pgwire_describe(c, body, len, &err); break;
    case 'E': rc = pgwire_execute(c, body, len, &err); break;
    case 'C': rc = pgwire_close(c, body, len, &err); break;
    case 'H':
        if (pgproto_parse_empty(body, len, &err) < 0) {
            rc = -1;
            break;
        }
        pgwire_flush(c);
        return 0;
    case 'd': case 'c': case 'f':
        /* COPY data outside COPY: ignored, as PostgreSQL does (a COPY that failed
         * leaves the client still sending). */
        return 0;
    case 'F':
        sql_error(&err, SQLSTATE_FEATURE_NOT_SUPPORTED, "fastpath function calls are not supported");
        pgwire_send_error(c, &err);
        pgwire_ready(c);
        return 0;
    default:
        pgwire_fatal(c, SQLSTATE_PROTOCOL_VIOLATION, "invalid frontend message type %d", type);
        return -1;
    }
    if (rc < 0) {
        pgwire_send_error(c, &err);
        c->skip_till_sync = true;
    }
    return 0;
}

static void pgwire_loop(pgwire_conn_t *c)
{
    while (!c->closed) {
        char type;
        const uint8_t *body;
        size_t len;
        if (pgwire_next(c, LIMIT_PG_MESSAGE_BYTES, &type, &body, &len) < 0)
            break;
        c->cur_len = len;
        c->cur_consumed = false;
        int rc = pgwire_dispatch(c, type, body, len);
        if (c->copy_pending) {
            pgwire_consume(c, c->copy_pending);   /* a COPY failed while holding data */
            c->copy_pending = 0;
        }
        if (!c->cur_consumed)
            pgwire_consume(c, 5 + len);
        arena_reset(&c->msg_arena);
        if (rc < 0)
            break;
        if (pgwire_maybe_flush(c) < 0)
            break;
    }
}

void pgwire_serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    pgwire_conn_t *c = rt_calloc(1, sizeof *c);
    if (!c) {
        rt_close(fd);
        return;
    }
    bool over_limit = net__conn_open(&c->nc, fd, false) < 0;
    strbuf_init(&c->out);
    /* Per-message arrays are bounded by the protocol's int16 counts. */
    arena_init(&c->msg_arena, 0);
    c->in_cap = LIMIT_PG_READ_BUFFER_BYTES;
    c->in = rt_malloc(c->in_cap);
    if (c->in && pgwire_startup(c, over_limit) == 0)
        pgwire_loop(c);
    if (!c->closed)
        pgwire_flush(c);
    if (c->nc.session) {
        sql_session_free(c->nc.session);
        c->nc.session = NULL;
    }
    net__conn_close(&c->nc);
    arena_destroy(&c->msg_arena);
    strbuf_free(&c->out);
    rt_free(c->in);
    rt_free(c->startup);
    rt_free(c->col_types);
    rt_free(c->col_typmods);
    rt_free(c->col_formats);
    rt_free(c);
}
