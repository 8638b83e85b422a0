/*
 * exec_copy.c -- the PL_COPY leaf: rows of a COPY FROM STDIN data stream in
 * PostgreSQL's text format, for the INSERT that COPY is bound as (bind.c b_insert).
 *
 * Why: clients bulk-load with COPY (psql's \copy, pgbench -i's client-side
 * generation); the stream arrives as CopyData chunks that the front end hands over
 * through exec_ctx_t.copy_in (sql_sink_t.copy_in), cut anywhere, not at line ends.
 *
 * Model: a line is one row; fields are separated by the delimiter; a field whose raw
 * text equals the NULL string is NULL, otherwise backslash escapes are decoded (\b \f
 * \n \r \t \v, \ooo octal, \xhh hex, \c = c) and the text goes through the column
 * type's input function. A line "\." ends the data (what remains up to CopyDone is
 * read and dropped). The first line decides between LF and CRLF line ends; a raw
 * CR anywhere else is an error, as in PostgreSQL. Errors as in
 * PostgreSQL: 22P04 for a wrong field count, the type's own error for bad input.
 *
 * Limits: a line is at most LIMIT_ROW_BYTES; a batch holds LIMIT_BATCH_ROWS rows.
 *
 * Thread: the coordinator (the connection's shard), inside the statement's fiber.
 */
#include <stdio.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/strbuf.h"
#include "sql/exec_int.h"

typedef struct copy_st {
    strbuf_t line;               /* the line being assembled across chunks */
    strbuf_t field;              /* one decoded field */
    const uint8_t *chunk;        /* current chunk, valid until the next copy_in call */
    size_t chunk_len, chunk_pos;
    bool stream_done;            /* copy_in returned 0 (CopyDone) */
    bool data_done;              /* "\." seen or stream done: no more rows */
    int64_t lineno;
    bool crlf;                   /* lines end with CR LF (decided by the first line) */
} copy_st_t;

static int copy_oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static int copy_pull(exec_op_t *op, copy_st_t *st, sql_error_t *err)
{
    exec_ctx_t *ctx = op->ctx;
    const uint8_t *data;
    size_t len;
    int r = ctx->copy_in(ctx->copy_arg, op->plan->ncols, &data, &len, err);
    if (r < 0)
        return -1;
    if (r == 0) {
        st->stream_done = true;
        st->chunk = NULL;
        st->chunk_len = st->chunk_pos = 0;
        return 0;
    }
    st->chunk = data;
    st->chunk_len = len;
    st->chunk_pos = 0;
    return 1;
}

/* Assembles the next line in st->line (without its newline). 1 = a line, 0 = no more
 * data, -1 + err. */
static int copy_next_line(exec_op_t *op, copy_st_t *st, sql_error_t *err)
{
    strbuf_reset(&st->line);
    bool terminated = true;
    for (;;) {
        if (st->chunk_pos < st->chunk_len) {
            const uint8_t *p = st->chunk + st->chunk_pos;
            size_t avail = st->chunk_len - st->chunk_pos;
            const uint8_t *nl = memchr(p, '\n', avail);
            size_t take = nl ? (size_t)(nl - p) : avail;
            strbuf_append(&st->line, p, take);
            st->chunk_pos += take + (nl ? 1 : 0);
            if (st->line.oom)
                return copy_oom(err);
            if (st->line.len > LIMIT_ROW_BYTES)
                return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "COPY line is too long (at most %d bytes)",
                                 LIMIT_ROW_BYTES);
            if (nl)
                break;
            continue;
        }
        if (st->stream_done) {
            if (st->line.len == 0)
                return 0;
            terminated = false;   /* a last line without newline */
            break;
        }
        if (copy_pull(op, st, err) < 0)
            return -1;
    }
    st->lineno++;
    /* the first line fixes the line end, LF or CRLF; any other raw CR is an error */
    bool cr = st->line.len && st->line.data[st->line.len - 1] == '\r';
    if (st->lineno == 1)
        st->crlf = cr;
    if (cr != st->crlf && (cr || terminated))
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, cr ? "literal carriage return found in data"
                                                           : "literal newline found in data");
    if (cr)
        st->line.len--;
    if (st->line.len && memchr(st->line.data, '\r', st->line.len))
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "literal carriage return found in data");
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the raw field [p, end) into st->field. */
static void copy_unescape(copy_st_t *st, const char *p, const char *end)
{
    strbuf_reset(&st->field);
    while (p < end) {
        char ch = *p++;
        if (ch != '\\' || p == end) {
            strbuf_putc(&st->field, ch);
            continue;
        }
        ch = *p++;
        if (ch >= '0' && ch <= '7') {
            int v = ch - '0';
            for (int k = 0; k < 2 && p < end && *p >= '0' && *p <= '7'; k++)
                v = v * 8 + (*p++ - '0');
            strbuf_putc(&st->field, (char)(v & 0xff));
            continue;
        }
        if (ch == 'x' && p < end && hexval((unsigned char)*p) >= 0) {
            int v = hexval((unsigned char)*p++);
            if (p < end && hexval((unsigned char)*p) >= 0)
                v = v * 16 + hexval((unsigned char)*p++);
            strbuf_putc(&st->field, (char)v);
            continue;
        }
        switch (ch) {
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'v': ch = '\v'; break;
        default: break;
        }
        strbuf_putc(&st->field, ch);
    }
}

/* Splits st->line into the batch's row `row`, converting each field. */
static int copy_row(exec_op_t *op, copy_st_t *st, batch_t *b, int row, sql_error_t *err)
{
    const plan_t *p = op->plan;
    const char delim = p->copy.delimiter;
    const char *nulls = p->copy.null_string;
    size_t nulls_len = strlen(nulls);
    const char *s = st->line.data ? st->line.data : "", *end = s + st->line.len;
    for (int c = 0; c < p->ncols; c++) {
        if (s > end)
            return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "missing data for column \"%s\"",
                             p->copy.colnames[c]);
        const char *f = s;
        while (s < end && *s != delim)
            s += (*s == '\\' && s + 1 < end) ? 2 : 1;
        size_t raw = (size_t)(s - f);
        s++;   /* past the delimiter (or one past the end: no more fields) */
        if (raw == nulls_len && memcmp(f, nulls, raw) == 0) {
            b->nulls[c][row] = true;
            continue;
        }
        copy_unescape(st, f, f + raw);
        if (st->field.oom)
            return copy_oom(err);
        b->nulls[c][row] = false;
        if (type_in_text(p->types[c], p->typmods[c], st->field.data ? st->field.data : "", st->field.len,
                         &op->scratch, &b->vals[c][row], err) < 0)
            return -1;
    }
    if (s <= end)
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "extra data after last expected column");
    return 0;
}

static int copy_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    copy_st_t *st = op->st;
    if (st->data_done)
        return 0;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, op->plan->ncols, LIMIT_BATCH_ROWS);
    if (!b)
        return copy_oom(err);
    while (b->nrows < LIMIT_BATCH_ROWS) {
        int r = copy_next_line(op, st, err);
        if (r < 0)
            goto fail;
        if (r == 0) {
            st->data_done = true;
            break;
        }
        if (st->line.len == 2 && st->line.data[0] == '\\' && st->line.data[1] == '.') {
            /* end-of-data marker: drop whatever follows up to the end of the stream */
            st->data_done = true;
            st->chunk_pos = st->chunk_len;
            while (!st->stream_done)
                if (copy_pull(op, st, err) < 0)
                    goto fail;
            break;
        }
        if (copy_row(op, st, b, b->nrows, err) < 0)
            goto fail;
        b->nrows++;
    }
    if (b->nrows == 0)
        return 0;
    *out = b;
    return 1;
fail:
    if (sql_error_is_set(err) && st->lineno > 0 && !err->detail[0])
        sql_error_detail(err, "COPY line %lld", (long long)st->lineno);
    return -1;
}

static void copy_close(exec_op_t *op)
{
    copy_st_t *st = op->st;
    if (!st)
        return;
    strbuf_free(&st->line);
    strbuf_free(&st->field);
}

int exec_copy_open(exec_op_t *op, sql_error_t *err)
{
    ASSERT(op->plan->kind == PL_COPY);
    if (!op->ctx->copy_in)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "COPY FROM STDIN is supported in the simple query protocol only");
    copy_st_t *st = arena_alloc(op->ctx->arena, sizeof *st);
    if (!st)
        return copy_oom(err);
    memset(st, 0, sizeof *st);
    strbuf_init(&st->line);
    strbuf_init(&st->field);
    op->st = st;
    op->next = copy_next;
    op->close = copy_close;
    return 0;
}
