/*
 * copy_out.c -- rows of COPY ... TO STDOUT as PostgreSQL writes them, in the text
 * and csv formats (see copy_out.h).
 *
 * Text: each value's output text with backslash escapes: \b \f \n \r \t \v for those
 * control characters, a backslash before a backslash or the delimiter; other bytes as
 * they are. NULL is the NULL string. Fields are joined by the delimiter; a row ends
 * with LF.
 *
 * CSV: a value is quoted when FORCE_QUOTE names its column, when it equals the NULL
 * string, when it contains the delimiter, the quote character, CR or LF, or when it
 * is the only column and reads "\." (the end-of-data marker); inside quotes the quote
 * and escape characters get the escape character before them. NULL is the NULL
 * string, unquoted. HEADER writes the column names the same way first.
 */
#include <string.h>

#include "sql/copy_out.h"
#include "sql/types.h"

static void put_text(const copy_out_fmt_t *f, const char *s, size_t n, strbuf_t *out)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc = 0;
        if (ch < 0x20) {
            switch (ch) {
            case '\b': esc = 'b'; break;
            case '\f': esc = 'f'; break;
            case '\n': esc = 'n'; break;
            case '\r': esc = 'r'; break;
            case '\t': esc = 't'; break;
            case '\v': esc = 'v'; break;
            default:
                if (ch == (unsigned char)f->delimiter)
                    esc = (char)ch;
                break;
            }
        } else if (ch == '\\' || ch == (unsigned char)f->delimiter) {
            esc = (char)ch;
        }
        if (!esc)
            continue;
        strbuf_append(out, s + start, i - start);
        strbuf_putc(out, '\\');
        strbuf_putc(out, esc);
        start = i + 1;
    }
    strbuf_append(out, s + start, n - start);
}

static void put_csv(const copy_out_fmt_t *f, const char *s, size_t n, bool quote, bool single, strbuf_t *out)
{
    size_t nl = strlen(f->null_string);
    if (!quote && n == nl && memcmp(s, f->null_string, n) == 0)
        quote = true;
    if (!quote) {
        if (single && n == 2 && s[0] == '\\' && s[1] == '.') {
            quote = true;
        } else {
            for (size_t i = 0; i < n && !quote; i++)
                quote = s[i] == f->delimiter || s[i] == f->quote || s[i] == '\n' || s[i] == '\r';
        }
    }
    if (!quote) {
        strbuf_append(out, s, n);
        return;
    }
    strbuf_putc(out, f->quote);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != f->quote && s[i] != f->escape)
            continue;
        strbuf_append(out, s + start, i - start);
        strbuf_putc(out, f->escape);
        start = i;      /* the character itself goes out with the next stretch */
    }
    strbuf_append(out, s + start, n - start);
    strbuf_putc(out, f->quote);
}

static void put_value(const copy_out_fmt_t *f, int col, int ncols, const char *s, size_t n, strbuf_t *out)
{
    if (f->csv)
        put_csv(f, s, n, f->force_quote && f->force_quote[col], ncols == 1, out);
    else
        put_text(f, s, n, out);
}

void copy_out_header(const copy_out_fmt_t *f, int ncols, const char *const *names, strbuf_t *out)
{
    for (int c = 0; c < ncols; c++) {
        if (c)
            strbuf_putc(out, f->delimiter);
        const char *nm = names[c] ? names[c] : "?column?";
        if (f->csv)
            put_csv(f, nm, strlen(nm), false, ncols == 1, out);
        else
            put_text(f, nm, strlen(nm), out);
    }
    strbuf_putc(out, '\n');
}

void copy_out_row(const copy_out_fmt_t *f, int ncols, const type_oid_t *types, const int32_t *typmods,
                  const batch_t *b, int r, strbuf_t *out, strbuf_t *tmp)
{
    for (int c = 0; c < ncols; c++) {
        if (c)
            strbuf_putc(out, f->delimiter);
        if (b->nulls[c][r]) {
            strbuf_puts(out, f->null_string);
            continue;
        }
        strbuf_reset(tmp);
        type_out_text(types[c], typmods[c], b->vals[c][r], tmp);
        put_value(f, c, ncols, tmp->data ? tmp->data : "", tmp->len, out);
    }
    strbuf_putc(out, '\n');
}
