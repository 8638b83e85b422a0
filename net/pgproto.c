/*
 * pgproto.c -- protocol v3 message parsing and building; see pgproto.h.
 *
 * Error wording follows PostgreSQL's backend (pqformat.c, postgres.c,
 * postmaster.c) so clients and tests see the same texts.
 */
#include "net/pgproto.h"

#include <stdio.h>
#include <string.h>

#include "core/assert.h"

#define PGPROTO_ERR_SHORT "insufficient data left in message"
#define PGPROTO_ERR_STRING "invalid string in message"
#define PGPROTO_ERR_FORMAT "invalid message format"

void pgproto_reader_init(pgproto_reader_t *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->error = NULL;
}

static bool pgproto_have(pgproto_reader_t *r, size_t n)
{
    if (r->error)
        return false;
    if (n > r->len - r->pos) {
        r->error = PGPROTO_ERR_SHORT;
        return false;
    }
    return true;
}

uint8_t pgproto_u8(pgproto_reader_t *r)
{
    if (!pgproto_have(r, 1))
        return 0;
    return r->p[r->pos++];
}

int16_t pgproto_i16(pgproto_reader_t *r)
{
    if (!pgproto_have(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
    r->pos += 2;
    return (int16_t)v;
}

int32_t pgproto_i32(pgproto_reader_t *r)
{
    if (!pgproto_have(r, 4))
        return 0;
    const uint8_t *p = r->p + r->pos;
    uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    r->pos += 4;
    return (int32_t)v;
}

const char *pgproto_str(pgproto_reader_t *r)
{
    if (r->error)
        return "";
    const uint8_t *s = r->p + r->pos;
    const uint8_t *nul = memchr(s, 0, r->len - r->pos);
    if (!nul) {
        r->error = PGPROTO_ERR_STRING;
        return "";
    }
    r->pos += (size_t)(nul - s) + 1;
    return (const char *)s;
}

const uint8_t *pgproto_bytes(pgproto_reader_t *r, int32_t n)
{
    if (r->error)
        return NULL;
    if (n < 0) {
        r->error = PGPROTO_ERR_SHORT;
        return NULL;
    }
    if (!pgproto_have(r, (size_t)n))
        return NULL;
    const uint8_t *p = r->p + r->pos;
    r->pos += (size_t)n;
    return p;
}

int pgproto_end(pgproto_reader_t *r)
{
    if (!r->error && r->pos != r->len)
        r->error = PGPROTO_ERR_FORMAT;
    return r->error ? -1 : 0;
}

/* Converts a reader failure into the 08P01 error; returns -1. */
static int pgproto_fail(pgproto_reader_t *r, sql_error_t *err)
{
    ASSERT(r->error);
    return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "%s", r->error);
}

/* ---- startup ---- */

int pgproto_parse_startup(const uint8_t *body, size_t len, pgproto_startup_t *out,
                          sql_error_t *err)
{
    pgproto_reader_t r;
    memset(out, 0, sizeof *out);
    pgproto_reader_init(&r, body, len);
    uint32_t code = (uint32_t)pgproto_i32(&r);
    if (r.error)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "invalid length of startup packet");
    if (code == PGPROTO_CODE_SSL || code == PGPROTO_CODE_GSSENC) {
        out->kind = code == PGPROTO_CODE_SSL ? PGPROTO_SSL : PGPROTO_GSSENC;
        return 0;
    }
    if (code == PGPROTO_CODE_CANCEL) {
        out->kind = PGPROTO_CANCEL;
        out->cancel_pid = pgproto_i32(&r);
        out->cancel_secret = pgproto_i32(&r);
        if (pgproto_end(&r) < 0)
            return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "invalid length of cancel request packet");
        return 0;
    }
    out->kind = PGPROTO_STARTUP;
    out->version = code;
    if (code >> 16 != 3)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0",
                         code >> 16, code & 0xffff);
    /* name\0value\0 ... \0 */
    for (;;) {
        const char *name = pgproto_str(&r);
        if (r.error || !name[0])
            break;
        const char *value = pgproto_str(&r);
        if (r.error)
            break;
        if (out->nparams == LIMIT_PG_STARTUP_PARAMS)
            return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION,
                             "too many parameters in startup packet (more than %d)",
                             LIMIT_PG_STARTUP_PARAMS);
        out->params[out->nparams++] = (sql_startup_param_t){name, value};
        if (!strcmp(name, "user"))
            out->user = value;
        else if (!strcmp(name, "database"))
            out->database = value;
    }
    if (r.error || r.pos != r.len)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION,
                         "invalid startup packet layout: expected terminator as last byte");
    return 0;
}

/* ---- frontend messages ---- */

/* Reads an int16 count that the protocol sends as unsigned, and checks that at
 * least count * min_bytes bytes remain, so a bogus count cannot size an allocation. */
static int pgproto_count(pgproto_reader_t *r, size_t min_bytes)
{
    int n = (uint16_t)pgproto_i16(r);
    if (!r->error && (size_t)n * min_bytes > r->len - r->pos)
        r->error = PGPROTO_ERR_SHORT;
    return r->error ? 0 : n;
}

static void *pgproto_alloc(arena_t *a, size_t n, sql_error_t *err)
{
    void *p = arena_alloc(a, n ? n : 1);
    if (!p)
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return p;
}

int pgproto_parse_parse(const uint8_t *body, size_t len, arena_t *a, pgproto_parse_t *out,
                        sql_error_t *err)
{
    pgproto_reader_t r;
    memset(out, 0, sizeof *out);
    pgproto_reader_init(&r, body, len);
    out->name = pgproto_str(&r);
    out->query = pgproto_str(&r);
    out->query_len = strlen(out->query);
    out->nparams = pgproto_count(&r, 4);
    if (r.error)
        return pgproto_fail(&r, err);
    out->param_types = pgproto_alloc(a, sizeof(type_oid_t) * (size_t)out->nparams, err);
    if (!out->param_types)
        return -1;
    for (int i = 0; i < out->nparams; i++)
        out->param_types[i] = (type_oid_t)pgproto_i32(&r);
    if (pgproto_end(&r) < 0)
        return pgproto_fail(&r, err);
    return 0;
}

/* Reads count format codes (each 0 or 1) into an arena array. */
static int pgproto_formats(pgproto_reader_t *r, arena_t *a, int *count, int16_t **codes,
                           sql_error_t *err)
{
    *count = pgproto_count(r, 2);
    if (r->error)
        return pgproto_fail(r, err);
    *codes = pgproto_alloc(a, sizeof(int16_t) * (size_t)*count, err);
    if (!*codes)
        return -1;
    for (int i = 0; i < *count; i++) {
        (*codes)[i] = pgproto_i16(r);
        if (!r->error && (*codes)[i] != 0 && (*codes)[i] != 1)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unsupported format code: %d",
                             (*codes)[i]);
    }
    return r->error ? pgproto_fail(r, err) : 0;
}

int pgproto_parse_bind(const uint8_t *body, size_t len, arena_t *a, pgproto_bind_t *out,
                       sql_error_t *err)
{
    pgproto_reader_t r;
    memset(out, 0, sizeof *out);
    pgproto_reader_init(&r, body, len);
    out->portal = pgproto_str(&r);
    out->stmt = pgproto_str(&r);
    if (pgproto_formats(&r, a, &out->nformats, &out->formats, err) < 0)
        return -1;
    out->nvalues = pgproto_count(&r, 4);
    if (r.error)
        return pgproto_fail(&r, err);
    if (out->nformats > 1 && out->nformats != out->nvalues)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION,
                         "bind message has %d parameter formats but %d parameters",
                         out->nformats, out->nvalues);
    out->values = pgproto_alloc(a, sizeof(uint8_t *) * (size_t)out->nvalues, err);
    out->lengths = pgproto_alloc(a, sizeof(int32_t) * (size_t)out->nvalues, err);
    if (!out->values || !out->lengths)
        return -1;
    for (int i = 0; i < out->nvalues; i++) {
        int32_t l = pgproto_i32(&r);
        out->lengths[i] = l;
        out->values[i] = l == -1 ? NULL : pgproto_bytes(&r, l);
        if (r.error)
            return pgproto_fail(&r, err);
    }
    if (pgproto_formats(&r, a, &out->nresult_formats, &out->result_formats, err) < 0)
        return -1;
    if (pgproto_end(&r) < 0)
        return pgproto_fail(&r, err);
    return 0;
}

int pgproto_parse_target(const uint8_t *body, size_t len, const char *what, char *kind,
                         const char **name, sql_error_t *err)
{
    pgproto_reader_t r;
    pgproto_reader_init(&r, body, len);
    *kind = (char)pgproto_u8(&r);
    *name = pgproto_str(&r);
    if (pgproto_end(&r) < 0)
        return pgproto_fail(&r, err);
    if (*kind != 'S' && *kind != 'P')
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "invalid %s message subtype %d",
                         what, *kind);
    return 0;
}

int pgproto_parse_execute(const uint8_t *body, size_t len, const char **portal,
                          int32_t *max_rows, sql_error_t *err)
{
    pgproto_reader_t r;
    pgproto_reader_init(&r, body, len);
    *portal = pgproto_str(&r);
    *max_rows = pgproto_i32(&r);
    if (pgproto_end(&r) < 0)
        return pgproto_fail(&r, err);
    return 0;
}

int pgproto_parse_query(const uint8_t *body, size_t len, const char **sql, size_t *sql_len,
                        sql_error_t *err)
{
    pgproto_reader_t r;
    pgproto_reader_init(&r, body, len);
    *sql = pgproto_str(&r);
    *sql_len = strlen(*sql);
    if (pgproto_end(&r) < 0)
        return pgproto_fail(&r, err);
    return 0;
}

int pgproto_parse_sasl_initial(const uint8_t *body, size_t len, const char **mechanism,
                               const uint8_t **data, int32_t *data_len, sql_error_t *err)
{
    pgproto_reader_t r;
    pgproto_reader_init(&r, body, len);
    *mechanism = pgproto_str(&r);
    *data_len = pgproto_i32(&r);
    *data = *data_len == -1 ? NULL : pgproto_bytes(&r, *data_len);
    if (pgproto_end(&r) < 0)
        return pgproto_fail(&r, err);
    return 0;
}

int pgproto_parse_empty(const uint8_t *body, size_t len, sql_error_t *err)
{
    (void)body;
    if (len != 0)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, PGPROTO_ERR_FORMAT);
    return 0;
}

/* ---- backend messages ---- */

size_t pgproto_begin(strbuf_t *sb, char type)
{
    strbuf_putc(sb, type);
    size_t start = sb->len;
    strbuf_put_be32(sb, 0);
    return start;
}

void pgproto_finish(strbuf_t *sb, size_t start)
{
    if (sb->oom)
        return;
    ASSERT(start + 4 <= sb->len);
    strbuf_patch_be32(sb, start, (uint32_t)(sb->len - start));
}

static void pgproto_cstr(strbuf_t *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s) + 1);
}

static void pgproto_field(strbuf_t *sb, char code, const char *value)
{
    strbuf_putc(sb, code);
    pgproto_cstr(sb, value);
}

void pgproto_put_error(strbuf_t *sb, char type, const sql_error_t *e)
{
    ASSERT(type == 'E' || type == 'N');
    const char *sev = e->severity[0] ? e->severity : "ERROR";
    size_t m = pgproto_begin(sb, type);
    pgproto_field(sb, 'S', sev);
    pgproto_field(sb, 'V', sev);
    pgproto_field(sb, 'C', e->sqlstate[0] ? e->sqlstate : SQLSTATE_INTERNAL_ERROR);
    pgproto_field(sb, 'M', e->message);
    if (e->detail[0])
        pgproto_field(sb, 'D', e->detail);
    if (e->hint[0])
        pgproto_field(sb, 'H', e->hint);
    if (e->position > 0) {
        char pos[16];
        snprintf(pos, sizeof pos, "%d", e->position);
        pgproto_field(sb, 'P', pos);
    }
    if (e->context[0])
        pgproto_field(sb, 'W', e->context);
    strbuf_putc(sb, 0);
    pgproto_finish(sb, m);
}

void pgproto_put_rowdesc(strbuf_t *sb, int ncols, const sql_coldesc_t *cols,
                         const int16_t *formats)
{
    ASSERT(ncols >= 0 && ncols <= 0xffff);
    size_t m = pgproto_begin(sb, 'T');
    strbuf_put_be16(sb, (uint16_t)ncols);
    for (int i = 0; i < ncols; i++) {
        pgproto_cstr(sb, cols[i].name ? cols[i].name : "?column?");
        strbuf_put_be32(sb, cols[i].table_oid);
        strbuf_put_be16(sb, (uint16_t)cols[i].attnum);
        strbuf_put_be32(sb, cols[i].type);
        strbuf_put_be16(sb, (uint16_t)cols[i].typlen);
        strbuf_put_be32(sb, (uint32_t)cols[i].typmod);
        strbuf_put_be16(sb, (uint16_t)(formats ? formats[i] : 0));
    }
    pgproto_finish(sb, m);
}

void pgproto_put_paramdesc(strbuf_t *sb, int nparams, const type_oid_t *types)
{
    ASSERT(nparams >= 0 && nparams <= 0xffff);
    size_t m = pgproto_begin(sb, 't');
    strbuf_put_be16(sb, (uint16_t)nparams);
    for (int i = 0; i < nparams; i++)
        strbuf_put_be32(sb, types[i]);
    pgproto_finish(sb, m);
}

void pgproto_put_auth(strbuf_t *sb, int32_t code, const void *data, size_t len)
{
    size_t m = pgproto_begin(sb, 'R');
    strbuf_put_be32(sb, (uint32_t)code);
    strbuf_append(sb, data, len);
    pgproto_finish(sb, m);
}

void pgproto_put_param_status(strbuf_t *sb, const char *name, const char *value)
{
    size_t m = pgproto_begin(sb, 'S');
    pgproto_cstr(sb, name);
    pgproto_cstr(sb, value);
    pgproto_finish(sb, m);
}

void pgproto_put_backend_key(strbuf_t *sb, int32_t pid, int32_t secret)
{
    size_t m = pgproto_begin(sb, 'K');
    strbuf_put_be32(sb, (uint32_t)pid);
    strbuf_put_be32(sb, (uint32_t)secret);
    pgproto_finish(sb, m);
}

void pgproto_put_ready(strbuf_t *sb, char txn_status)
{
    ASSERT(txn_status == 'I' || txn_status == 'T' || txn_status == 'E');
    size_t m = pgproto_begin(sb, 'Z');
    strbuf_putc(sb, txn_status);
    pgproto_finish(sb, m);
}

void pgproto_put_complete(strbuf_t *sb, const char *tag)
{
    size_t m = pgproto_begin(sb, 'C');
    pgproto_cstr(sb, tag);
    pgproto_finish(sb, m);
}

void pgproto_put_empty(strbuf_t *sb, char type)
{
    size_t m = pgproto_begin(sb, type);
    pgproto_finish(sb, m);
}

void pgproto_put_negotiate(strbuf_t *sb, uint32_t minor, int nopts, const char *const *opts)
{
    size_t m = pgproto_begin(sb, 'v');
    strbuf_put_be32(sb, minor);
    strbuf_put_be32(sb, (uint32_t)nopts);
    for (int i = 0; i < nopts; i++)
        pgproto_cstr(sb, opts[i]);
    pgproto_finish(sb, m);
}
