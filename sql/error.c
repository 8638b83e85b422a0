/*
 * error.c -- SQL error values; see error.h.
 */
#include "sql/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sql_error_at(sql_error_t *e, const char *file, int line, const char *sqlstate,
                 const char *fmt, ...)
{
    if (!e || e->sqlstate[0])
        return -1;
    memcpy(e->sqlstate, sqlstate, 5);
    e->sqlstate[5] = 0;
    if (!e->severity[0])
        strcpy(e->severity, "ERROR");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->file = file;
    e->line = line;
    return -1;
}

void sql_error_detail(sql_error_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

void sql_error_hint(sql_error_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, fmt, ap);
    va_end(ap);
}

void sql_error_context(sql_error_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->context, sizeof e->context, fmt, ap);
    va_end(ap);
}

void sql_error_clear(sql_error_t *e) { memset(e, 0, sizeof *e); }
