/*
 * log.c -- line-at-a-time logging to stderr; see log.h.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/rt.h"

static int log_level_min = LOG_INFO;
static const char *const log_level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(int level) { log_level_min = level; }

void log_write(int level, const char *file, int line, const char *fmt, ...)
{
    if (level < log_level_min)
        return;
    char buf[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int shard = rt_shard_id();
    char who[16];
    if (shard >= 0)
        snprintf(who, sizeof who, "s%d", shard);
    else
        snprintf(who, sizeof who, "main");
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, log_level_names[level & 3], who);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 64, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + ((size_t)m < sizeof buf - (size_t)n - 64 ? (size_t)m
                                                                     : sizeof buf - (size_t)n - 65);
#ifdef NEXTDB_DEBUG
    len += (size_t)snprintf(buf + len, 64, " (%s:%d)", file, line);
#else
    (void)file;
    (void)line;
#endif
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
}

void assert_fail(const char *expr, const char *file, int line)
{
    log_write(LOG_ERROR, file, line, "assertion failed: %s at %s:%d", expr, file, line);
    abort();
}
