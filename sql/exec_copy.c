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
 * CR anywhere else is an error, as in PostgreSQL. FORMAT csv follows PostgreSQL's
 * csv rules instead: lines end at an LF outside quotes, fields may be quoted with
 * the escape character before a quote or escape inside quotes, and NULL is only an
 * unquoted field equal to the NULL string (FORCE_NOT_NULL / FORCE_NULL adjust that
 * per column). HEADER skips the first line; HEADER MATCH checks the names. Errors as
 * in PostgreSQL: 22P04 for a wrong field count, the type's own error for bad input,
 * with PostgreSQL's CONTEXT line.
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
    bool q_in, q_esc;            /* csv: inside a quoted field / after its escape char */
    int nfields, fcap;           /* the line's fields: offsets into `field` (each ends in a NUL) */
    size_t *foff, *flen;
    bool *fnull;
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
/* csv: the first LF outside quotes in p[0..n), following PostgreSQL's quote and
 * escape tracking (an escape equal to the quote is only the quote); NULL if none. */
static const uint8_t *csv_find_nl(copy_st_t *st, const plan_t *pl, const uint8_t *p, size_t n)
{
    char quote = pl->copy.opts->quote, esc = pl->copy.opts->escape;
    if (esc == quote)
        esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)p[i];
        if (st->q_in && c == esc)
            st->q_esc = !st->q_esc;
        if (c == quote && !st->q_esc)
            st->q_in = !st->q_in;
        if (c != esc)
            st->q_esc = false;
        if (c == '\n' && !st->q_in)
            return p + i;
    }
    return NULL;
}

static int copy_next_line(exec_op_t *op, copy_st_t *st, sql_error_t *err)
{
    strbuf_reset(&st->line);
    bool terminated = true;
    bool csv = op->plan->copy.opts && op->plan->copy.opts->csv;
    st->q_in = st->q_esc = false;
    for (;;) {
        if (st->chunk_pos < st->chunk_len) {
            const uint8_t *p = st->chunk + st->chunk_pos;
            size_t avail = st->chunk_len - st->chunk_pos;
            const uint8_t *nl = csv ? csv_find_nl(st, op->plan, p, avail) : memchr(p, '\n', avail);
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
    if (cr != st->crlf && (cr || terminated)) {
        if (csv) {
            sql_error(err, SQLSTATE_BAD_COPY_FORMAT, cr ? "unquoted carriage return found in data"
                                                        : "unquoted newline found in data");
            sql_error_hint(err, cr ? "Use quoted CSV field to represent carriage return."
                                   : "Use quoted CSV field to represent newline.");
            return -1;
        }
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, cr ? "literal carriage return found in data"
                                                           : "literal newline found in data");
    }
    if (cr)
        st->line.len--;
    /* csv: a CR inside quotes is data, one outside them an error (copy_split_csv) */
    if (!csv && st->line.len && memchr(st->line.data, '\r', st->line.len))
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

/* Appends the decoded raw text-format field [p, end) to st->field. */
static void copy_unescape(copy_st_t *st, const char *p, const char *end)
{
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

/* Records field st->nfields (NULL, or the text appended to st->field since start). */
static void copy_end_field(copy_st_t *st, size_t start, bool isnull)
{
    int k = st->nfields++;
    if (k >= st->fcap) {
        st->field.len = start;         /* only counted (a header line's extra fields) */
        return;
    }
    st->fnull[k] = isnull;
    st->foff[k] = start;
    st->flen[k] = st->field.len - start;
    strbuf_putc(&st->field, 0);
}

/* Splits st->line into at most maxf + 1 fields (one more means "extra data"). */
static int copy_split_text(copy_st_t *st, const plan_t *p, int maxf)
{
    const char delim = p->copy.delimiter;
    const char *nulls = p->copy.null_string;
    size_t nulls_len = strlen(nulls);
    const char *s = st->line.data ? st->line.data : "", *end = s + st->line.len;
    for (;;) {
        const char *f = s;
        while (s < end && *s != delim)
            s += (*s == '\\' && s + 1 < end) ? 2 : 1;
        size_t raw = (size_t)(s - f), start = st->field.len;
        bool isnull = raw == nulls_len && memcmp(f, nulls, raw) == 0;
        if (!isnull)
            copy_unescape(st, f, f + raw);
        copy_end_field(st, start, isnull);
        if (s >= end || st->nfields > maxf)
            return 0;
        s++;   /* past the delimiter */
    }
}

/* PostgreSQL's CSV field rules: quotes anywhere in a field, the escape character
 * before a quote or an escape inside quotes, NULL only for an unquoted field equal to
 * the NULL string. */
static int copy_split_csv(copy_st_t *st, const plan_t *p, int maxf, sql_error_t *err)
{
    const char delim = p->copy.delimiter, quote = p->copy.opts->quote, esc = p->copy.opts->escape;
    const char *nulls = p->copy.null_string;
    size_t nulls_len = strlen(nulls);
    const char *s = st->line.data ? st->line.data : "", *end = s + st->line.len;
    for (;;) {
        const char *f = s, *fend = s;
        size_t start = st->field.len;
        bool saw_quote = false, found_delim = false;
        for (;;) {
            /* outside quotes */
            for (;;) {
                fend = s;
                if (s >= end)
                    goto endfield;
                char c = *s++;
                if (c == delim) {
                    found_delim = true;
                    goto endfield;
                }
                if (c == quote) {
                    saw_quote = true;
                    break;
                }
                if (c == '\r') {
                    sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "unquoted carriage return found in data");
                    sql_error_hint(err, "Use quoted CSV field to represent carriage return.");
                    return -1;
                }
                strbuf_putc(&st->field, c);
            }
            /* inside quotes */
            for (;;) {
                fend = s;
                if (s >= end)
                    return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "unterminated CSV quoted field");
                char c = *s++;
                if (c == esc && s < end && (*s == esc || *s == quote)) {
                    strbuf_putc(&st->field, *s++);
                    continue;
                }
                if (c == quote)
                    break;
                strbuf_putc(&st->field, c);
            }
        }
endfield:;
        size_t raw = (size_t)(fend - f);
        bool isnull = !saw_quote && raw == nulls_len && memcmp(f, nulls, raw) == 0;
        if (isnull)
            st->field.len = start;
        copy_end_field(st, start, isnull);
        if (!found_delim || st->nfields > maxf)
            return 0;
    }
}

static int copy_split(copy_st_t *st, const plan_t *p, int maxf, sql_error_t *err)
{
    strbuf_reset(&st->field);
    st->nfields = 0;
    int rc = p->copy.opts && p->copy.opts->csv ? copy_split_csv(st, p, maxf, err) : copy_split_text(st, p, maxf);
    if (rc == 0 && st->field.oom)
        return copy_oom(err);
    return rc;
}

/* PostgreSQL's CONTEXT for a COPY error: the line, or the column and its value, each
 * cut to 100 bytes (at a UTF-8 character boundary) with "..." after. */
static void copy_context(sql_error_t *err, const plan_t *p, int64_t lineno, const char *col, const char *text,
                         size_t len)
{
    if (err->context[0])
        return;
    bool cut = len > 100;
    if (cut) {
        len = 100;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    if (col)
        sql_error_context(err, "COPY %s, line %lld, column %s: \"%.*s%s\"", p->copy.relname, (long long)lineno, col,
                          (int)len, text, cut ? "..." : "");
    else
        sql_error_context(err, "COPY %s, line %lld: \"%.*s%s\"", p->copy.relname, (long long)lineno, (int)len, text,
                          cut ? "..." : "");
}

/* Converts st->line into the batch's row `row`. */
static int copy_row(exec_op_t *op, copy_st_t *st, batch_t *b, int row, sql_error_t *err)
{
    const plan_t *p = op->plan;
    if (copy_split(st, p, p->ncols, err) < 0)
        return -1;
    if (st->nfields > p->ncols)
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "extra data after last expected column");
    if (st->nfields < p->ncols)
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "missing data for column \"%s\"",
                         p->copy.colnames[st->nfields]);
    for (int c = 0; c < p->ncols; c++) {
        bool isnull = st->fnull[c];
        const char *text = st->field.data + st->foff[c];
        size_t len = st->flen[c];
        if (isnull && p->copy.force_not_null && p->copy.force_not_null[c]) {
            isnull = false;            /* FORCE_NOT_NULL: the NULL string is a value */
            text = p->copy.null_string;
            len = strlen(text);
        } else if (!isnull && p->copy.force_null && p->copy.force_null[c] &&
                   len == strlen(p->copy.null_string) && memcmp(text, p->copy.null_string, len) == 0) {
            isnull = true;             /* FORCE_NULL: even a quoted NULL string is NULL */
        }
        b->nulls[c][row] = isnull;
        if (isnull)
            continue;
        if (type_in_text(p->types[c], p->typmods[c], text, len, &op->scratch, &b->vals[c][row], err) < 0) {
            copy_context(err, p, st->lineno, p->copy.colnames[c], text, len);
            return -1;
        }
    }
    return 0;
}

/* HEADER: the first line is skipped; HEADER MATCH checks it names the columns. */
static int copy_header(exec_op_t *op, copy_st_t *st, sql_error_t *err)
{
    const plan_t *p = op->plan;
    int r = copy_next_line(op, st, err);
    if (r <= 0)
        return r;
    if (p->copy.opts->header != 2)
        return 1;
    if (copy_split(st, p, INT32_MAX - 1, err) < 0)
        return -1;
    if (st->nfields != p->ncols)
        return sql_error(err, SQLSTATE_BAD_COPY_FORMAT, "wrong number of fields in header line: got %d, expected %d",
                         st->nfields, p->ncols);
    for (int c = 0; c < p->ncols; c++) {
        if (st->fnull[c])
            return sql_error(err, SQLSTATE_BAD_COPY_FORMAT,
                             "column name mismatch in header line field %d: got null value (\"%s\"), expected \"%s\"",
                             c + 1, p->copy.null_string, p->copy.colnames[c]);
        const char *got = st->field.data + st->foff[c];
        if (strcmp(got, p->copy.colnames[c]) != 0)
            return sql_error(err, SQLSTATE_BAD_COPY_FORMAT,
                             "column name mismatch in header line field %d: got \"%s\", expected \"%s\"", c + 1, got,
                             p->copy.colnames[c]);
    }
    return 1;
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
    if (st->lineno == 0 && op->plan->copy.opts && op->plan->copy.opts->header) {
        int r = copy_header(op, st, err);
        if (r < 0)
            goto fail;
        if (r == 0) {
            st->data_done = true;
            return 0;
        }
    }
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
    if (sql_error_is_set(err) && st->lineno > 0)
        copy_context(err, op->plan, st->lineno, NULL, st->line.data ? st->line.data : "", st->line.len);
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
    int maxf = op->plan->ncols + 2;
    st->fcap = maxf;
    st->foff = arena_alloc(op->ctx->arena, (size_t)maxf * sizeof(size_t));
    st->flen = arena_alloc(op->ctx->arena, (size_t)maxf * sizeof(size_t));
    st->fnull = arena_alloc(op->ctx->arena, (size_t)maxf);
    if (!st->foff || !st->flen || !st->fnull)
        return copy_oom(err);
    op->st = st;
    op->next = copy_next;
    op->close = copy_close;
    return 0;
}
