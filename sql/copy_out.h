/*
 * copy_out.h -- formatting rows for COPY ... TO STDOUT (text and csv formats, byte
 * for byte as PostgreSQL writes them; see copy_out.c).
 */
#ifndef NEXTDB_SQL_COPY_OUT_H
#define NEXTDB_SQL_COPY_OUT_H

#include <stdbool.h>

#include "core/strbuf.h"
#include "sql/expr.h"

typedef struct copy_out_fmt {
    bool csv;
    char delimiter, quote, escape;     /* quote / escape: csv only */
    const char *null_string;
    const bool *force_quote;           /* per column (csv), or NULL */
} copy_out_fmt_t;

/* The HEADER line: the column names, escaped or quoted like values, then LF. */
void copy_out_header(const copy_out_fmt_t *f, int ncols, const char *const *names, strbuf_t *out);
/* Row r of b (its first ncols columns) as one line, LF-terminated, appended to out;
 * tmp is scratch for each value's output text. */
void copy_out_row(const copy_out_fmt_t *f, int ncols, const type_oid_t *types, const int32_t *typmods,
                  const batch_t *b, int r, strbuf_t *out, strbuf_t *tmp);

#endif
