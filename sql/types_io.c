/*
 * types_io.c -- text and binary forms of values, as PostgreSQL 15 prints and parses
 * them (see types.h). Every message and SQLSTATE here was checked against a real
 * PostgreSQL 15 server.
 */
#include "sql/types_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/types_time.h"
#include "sql/types_json.h"
#include "sql/types_uuid.h"
#include "sql/types_vector.h"
#include "sql/numeric.h"

#define TYPES_NUM_TEXT_MAX 64   /* longest numeric literal we copy to parse */

vstr_t *vstr_new(arena_t *a, const char *p, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    vstr_t *v = arena_alloc(a, sizeof(vstr_t) + len);
    if (!v)
        return NULL;
    v->len = (uint32_t)len;
    if (len && p)                 /* p == NULL: caller fills the bytes */
        memcpy(v->data, p, len);
    return v;
}

static int err_syntax(sql_error_t *err, const char *tname, const char *s, size_t len)
{
    return sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type %s: \"%.*s\"",
                     tname, (int)(len > 256 ? 256 : len), s);
}

static int err_oom(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims ASCII whitespace from both ends of [*s, *s+*len). */
static void trim(const char **s, size_t *len)
{
    while (*len && is_space(**s)) { (*s)++; (*len)--; }
    while (*len && is_space((*s)[*len - 1])) (*len)--;
}

/* ---- integers ---- */

/* Parses an integer as pg_strtoint* does: optional spaces, sign, at least one digit,
 * optional trailing spaces. Range [min, max]. */
static int int_in(const char *s, size_t len, int64_t min, int64_t max, const char *tname,
                  int64_t *out, sql_error_t *err)
{
    const char *p = s, *e = s + len;
    while (p < e && is_space(*p)) p++;
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-')) neg = *p++ == '-';
    if (p == e || !isdigit((unsigned char)*p))
        return err_syntax(err, tname, s, len);
    uint64_t v = 0, lim = neg ? (uint64_t)0 - (uint64_t)min : (uint64_t)max;
    bool over = false;
    for (; p < e && isdigit((unsigned char)*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (lim - d) / 10) over = true;
        else v = v * 10 + d;
    }
    while (p < e && is_space(*p)) p++;
    if (p != e)
        return err_syntax(err, tname, s, len);
    if (over)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE,
                         "value \"%.*s\" is out of range for type %s", (int)len, s, tname);
    *out = neg ? (int64_t)((uint64_t)0 - v) : (int64_t)v;
    return 0;
}

/* ---- booleans: PostgreSQL's parse_bool_with_len ---- */

static bool prefix_of(const char *s, size_t len, const char *word, size_t min_len)
{
    return len >= min_len && len <= strlen(word) && strncasecmp(s, word, len) == 0;
}

static int bool_in(const char *s, size_t len, int64_t *out, sql_error_t *err)
{
    const char *p = s;
    size_t n = len;
    trim(&p, &n);
    if (prefix_of(p, n, "true", 1) || prefix_of(p, n, "yes", 1) || prefix_of(p, n, "on", 2) ||
        (n == 1 && *p == '1')) {
        *out = 1;
        return 0;
    }
    if (prefix_of(p, n, "false", 1) || prefix_of(p, n, "no", 1) || prefix_of(p, n, "off", 2) ||
        (n == 1 && *p == '0')) {
        *out = 0;
        return 0;
    }
    return err_syntax(err, "boolean", s, len);
}

/* ---- floats ---- */

static int float_in(const char *s, size_t len, bool is4, double *out, sql_error_t *err)
{
    const char *tname = is4 ? "real" : "double precision";
    char buf[TYPES_NUM_TEXT_MAX + 1];
    const char *p = s;
    size_t n = len;
    trim(&p, &n);
    if (n == 0 || n > TYPES_NUM_TEXT_MAX)
        return err_syntax(err, tname, s, len);
    memcpy(buf, p, n);
    buf[n] = 0;
    /* strtod also takes "nan(...)" and hex floats; PostgreSQL uses strtod too. */
    char *end;
    errno = 0;
    double v;
    if (is4) v = strtof(buf, &end);
    else v = strtod(buf, &end);
    if (end == buf || *end != 0)
        return err_syntax(err, tname, s, len);
    if (errno == ERANGE && (v == 0.0 || isinf(v)))
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE,
                         "\"%.*s\" is out of range for type %s", (int)n, p, tname);
    *out = v;
    return 0;
}

/* Whether decimal text reads back as v. Like PostgreSQL's Ryu, a decimal lying exactly
 * halfway between v and a neighbour does not count, even when round-half-even would
 * pick v; long double (64-bit mantissa on x86-64) holds those midpoints exactly. */
static bool float_reads_back(const char *buf, double v, bool is4)
{
    if (is4 ? strtof(buf, NULL) != (float)v : strtod(buf, NULL) != v)
        return false;
    long double d = strtold(buf, NULL);
    if (d == (long double)v)
        return true;
    long double nb = is4 ? (long double)nextafterf((float)v, d > v ? INFINITY : -INFINITY)
                         : (long double)nextafter(v, d > v ? INFINITY : -INFINITY);
    return d != ((long double)v + nb) / 2;
}

void types__float_out(double v, bool is4, strbuf_t *out)
{
    if (isnan(v)) { strbuf_puts(out, "NaN"); return; }
    if (isinf(v)) { strbuf_puts(out, v > 0 ? "Infinity" : "-Infinity"); return; }
    if (v == 0) { strbuf_puts(out, signbit(v) ? "-0" : "0"); return; }
    /* Shortest %e form that reads back to the same value. */
    char buf[40];
    int max_prec = is4 ? 9 : 17;
    for (int prec = 1; prec <= max_prec; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (float_reads_back(buf, v, is4))
            break;
    }
    /* buf = [-]d[.ddd]e[+-]xx: collect the digits and the decimal exponent. */
    char digits[24];
    int nd = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (neg) strbuf_putc(out, '-');
    /* PostgreSQL (Ryu) prints fixed notation for -4 <= exp < 15 (float4: < 6). */
    if (exp >= -4 && exp < (is4 ? 6 : 15)) {
        if (exp < 0) {
            strbuf_puts(out, "0.");
            for (int i = 0; i < -exp - 1; i++) strbuf_putc(out, '0');
            strbuf_append(out, digits, (size_t)nd);
        } else {
            for (int i = 0; i <= exp; i++) strbuf_putc(out, i < nd ? digits[i] : '0');
            if (nd > exp + 1) {
                strbuf_putc(out, '.');
                strbuf_append(out, digits + exp + 1, (size_t)(nd - exp - 1));
            }
        }
        return;
    }
    strbuf_putc(out, digits[0]);
    if (nd > 1) {
        strbuf_putc(out, '.');
        strbuf_append(out, digits + 1, (size_t)(nd - 1));
    }
    strbuf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* ---- dates and timestamps ---- */

int64_t types__days_from_civil(int64_t y, int m, int d)
{
    /* Shift the year to start in March so the leap day is the last day of a year;
     * 400-year eras have 146097 days. Result relative to 1970-01-01, then 2000. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 - 10957;
}

void types__civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 10957 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void ymd_out(int64_t y, int m, int d, strbuf_t *out)
{
    strbuf_printf(out, "%04lld-%02d-%02d", (long long)(y > 0 ? y : 1 - y), m, d);
}

void types__date_out(int64_t days, strbuf_t *out)
{
    if (days == TYPES_DATE_NOBEGIN) { strbuf_puts(out, "-infinity"); return; }
    if (days == TYPES_DATE_NOEND) { strbuf_puts(out, "infinity"); return; }
    int64_t y;
    int m, d;
    types__civil_from_days(days, &y, &m, &d);
    ymd_out(y, m, d, out);
    if (y <= 0) strbuf_puts(out, " BC");
}

void types__timestamp_out(int64_t ts, bool with_tz, strbuf_t *out)
{
    if (ts == TYPES_TS_NOBEGIN) { strbuf_puts(out, "-infinity"); return; }
    if (ts == TYPES_TS_NOEND) { strbuf_puts(out, "infinity"); return; }
    int64_t days = ts / TYPES_USECS_PER_DAY, tod = ts % TYPES_USECS_PER_DAY;
    if (tod < 0) { tod += TYPES_USECS_PER_DAY; days--; }
    int64_t y;
    int m, d;
    types__civil_from_days(days, &y, &m, &d);
    ymd_out(y, m, d, out);
    int64_t secs = tod / 1000000, us = tod % 1000000;
    strbuf_printf(out, " %02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (us) {
        char frac[8];
        snprintf(frac, sizeof frac, "%06d", (int)us);
        int n = 6;
        while (frac[n - 1] == '0') n--;
        strbuf_putc(out, '.');
        strbuf_append(out, frac, (size_t)n);
    }
    if (with_tz) strbuf_puts(out, "+00");
    if (y <= 0) strbuf_puts(out, " BC");
}

/* A parsed ISO date/time: what ts_parse found. */
typedef struct ts_parts {
    int64_t year;
    int month, day, hour, minute, second;
    int64_t usec;
    bool has_tz;
    int tz_secs;          /* offset east of UTC */
    const types_tz_t *zone;   /* a zone named in the text ("... Europe/Berlin") */
    int special;          /* 0 none, -1 -infinity, +1 infinity, 2 now, 3 today, 4 tomorrow, 5 yesterday */
} ts_parts_t;

/* Reads 1..max digits; returns count read (0 = none). */
static int read_num(const char **p, const char *e, int max, int64_t *v)
{
    int n = 0;
    *v = 0;
    while (*p < e && n < max && isdigit((unsigned char)**p)) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n;
}

static bool word_at(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - p) >= n && strncasecmp(p, w, n) == 0;
}

/* Parses a time zone offset: Z, UTC, GMT, +HH, +HHMM, +HH:MM[:SS]. */
static int tz_parse(const char **pp, const char *e, int *secs)
{
    const char *p = *pp;
    if (p < e && (*p == 'Z' || *p == 'z')) { *secs = 0; *pp = p + 1; return 0; }
    if (word_at(p, e, "UTC") || word_at(p, e, "GMT")) { *secs = 0; *pp = p + 3; return 0; }
    if (p >= e || (*p != '+' && *p != '-')) return -1;
    int sign = *p++ == '-' ? -1 : 1;
    int64_t h, m = 0, s = 0;
    int n = read_num(&p, e, 4, &h);
    if (n == 0) return -1;
    if (n == 4) { m = h % 100; h /= 100; }
    else if (n == 3) return -1;
    else if (p < e && *p == ':') {
        p++;
        if (read_num(&p, e, 2, &m) != 2) return -1;
        if (p < e && *p == ':') {
            p++;
            if (read_num(&p, e, 2, &s) != 2) return -1;
        }
    }
    if (h > 15 || m > 59 || s > 59) return -1;
    *secs = sign * (int)(h * 3600 + m * 60 + s);
    *pp = p;
    return 0;
}

/* Parses the ISO forms PostgreSQL accepts for dates and timestamps. Returns 0, -1 for
 * bad syntax, -2 for a field out of range, -3 for a month out of range. */
static int ts_parse(const char *s, size_t len, ts_parts_t *tp)
{
    memset(tp, 0, sizeof *tp);
    const char *p = s, *e = s + len;
    trim(&p, &len);
    e = p + len;
    if (len == 8 && !strncasecmp(p, "infinity", 8)) { tp->special = 1; return 0; }
    if (len == 9 && !strncasecmp(p, "+infinity", 9)) { tp->special = 1; return 0; }
    if (len == 9 && !strncasecmp(p, "-infinity", 9)) { tp->special = -1; return 0; }
    if (len == 5 && !strncasecmp(p, "epoch", 5)) { tp->year = 1970; tp->month = tp->day = 1; tp->has_tz = true; return 0; }
    static const char *const relative[] = {"now", "today", "tomorrow", "yesterday"};
    for (int i = 0; i < 4; i++)
        if (len == strlen(relative[i]) && !strncasecmp(p, relative[i], len)) { tp->special = 2 + i; return 0; }
    int64_t y, mo, d;
    if (read_num(&p, e, 7, &y) == 0 || p >= e || *p++ != '-') return -1;
    if (read_num(&p, e, 2, &mo) == 0 || p >= e || *p++ != '-') return -1;
    if (read_num(&p, e, 2, &d) == 0) return -1;
    tp->year = y; tp->month = (int)mo; tp->day = (int)d;
    const char *q = p;
    while (q < e && is_space(*q)) q++;
    if (q < e && (*q == 'T' || *q == 't')) q++;
    if (q < e && isdigit((unsigned char)*q)) {
        int64_t h, mi, sec = 0;
        p = q;
        if (read_num(&p, e, 2, &h) == 0 || p >= e || *p++ != ':') return -1;
        if (read_num(&p, e, 2, &mi) != 2) return -1;
        if (p < e && *p == ':') {
            p++;
            if (read_num(&p, e, 2, &sec) != 2) return -1;
            if (p < e && *p == '.') {
                p++;
                int64_t us = 0, scale = 100000;
                int nd = 0;
                for (; p < e && isdigit((unsigned char)*p); p++, nd++) {
                    if (nd < 6) { us += (*p - '0') * scale; scale /= 10; }
                    else if (nd == 6 && *p >= '5') us++;
                }
                tp->usec = us;
            }
        }
        tp->hour = (int)h; tp->minute = (int)mi; tp->second = (int)sec;
    }
    while (p < e && is_space(*p)) p++;
    if (p < e && (*p == '+' || *p == '-' || *p == 'Z' || *p == 'z' || word_at(p, e, "UTC") ||
                  word_at(p, e, "GMT"))) {
        if (tz_parse(&p, e, &tp->tz_secs) < 0) return -1;
        tp->has_tz = true;
        while (p < e && is_space(*p)) p++;
    }
    if (p < e && isalpha((unsigned char)*p) && !word_at(p, e, "BC") && !word_at(p, e, "AD")) {
        /* a zone name: "2024-03-10 12:00 America/New_York" */
        char name[128];
        size_t k = 0;
        while (p < e && !is_space(*p) && k + 1 < sizeof name) name[k++] = *p++;
        name[k] = 0;
        char canon[128];
        sql_error_t tmp = {0};
        if (!(tp->zone = types_tz_load(name, canon, sizeof canon, &tmp)))
            return -4;
        tp->has_tz = true;
        while (p < e && is_space(*p)) p++;
    }
    if (word_at(p, e, "BC")) { tp->year = 1 - tp->year; p += 2; }
    else if (word_at(p, e, "AD")) p += 2;
    while (p < e && is_space(*p)) p++;
    if (p != e) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (tp->month < 1 || tp->month > 12)
        return -3;
    if (y == 0 || tp->day < 1 || tp->day > mdays[tp->month - 1])
        return -2;
    bool leap = (tp->year % 4 == 0 && tp->year % 100 != 0) || tp->year % 400 == 0;
    if (tp->month == 2 && tp->day == 29 && !leap) return -2;
    if (tp->hour > 24 || tp->minute > 59 || tp->second > 60 ||
        (tp->hour == 24 && (tp->minute || tp->second || tp->usec)))
        return -2;
    return 0;
}

static int datetime_in(type_oid_t t, const char *s, size_t len, int64_t *out, sql_error_t *err)
{
    const char *tname = t == TYPE_DATE ? "date"
                        : t == TYPE_TIMESTAMP ? "timestamp" : "timestamp with time zone";
    ts_parts_t tp;
    int rc = ts_parse(s, len, &tp);
    if (rc == -4)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "time zone \"%.*s\" not recognized",
                         (int)(len > 256 ? 256 : len), s);
    if (rc == -1)
        return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid input syntax for type %s: \"%.*s\"",
                         tname, (int)(len > 256 ? 256 : len), s);
    if (rc == -2 || rc == -3) {
        sql_error(err, SQLSTATE_DATETIME_OVERFLOW,
                  "date/time field value out of range: \"%.*s\"", (int)(len > 256 ? 256 : len), s);
        if (rc == -3)
            sql_error_hint(err, "Perhaps you need a different \"datestyle\" setting.");
        return -1;
    }
    if (tp.special >= 2) {
        /* now / today / tomorrow / yesterday: in the session's zone */
        int64_t now = time_now_ts(), local = types_tstz_to_ts(types_tz_current(), now);
        int64_t day = local / TYPES_USECS_PER_DAY - (local % TYPES_USECS_PER_DAY < 0) + (tp.special == 4) - (tp.special == 5);
        if (t == TYPE_DATE) *out = day;
        else if (tp.special == 2) *out = t == TYPE_TIMESTAMP ? local : now;
        else if (t == TYPE_TIMESTAMP) *out = day * TYPES_USECS_PER_DAY;
        else return types_ts_to_tstz(types_tz_current(), day * TYPES_USECS_PER_DAY, out, err);
        return 0;
    }
    if (tp.special) {
        if (t == TYPE_DATE) *out = tp.special > 0 ? TYPES_DATE_NOEND : TYPES_DATE_NOBEGIN;
        else *out = tp.special > 0 ? TYPES_TS_NOEND : TYPES_TS_NOBEGIN;
        return 0;
    }
    if (tp.year < -4800 || tp.year > 5874898)
        goto range;
    int64_t days = types__days_from_civil(tp.year, tp.month, tp.day);
    if (t == TYPE_DATE) {
        if (days < TYPES_DATE_MIN || days >= TYPES_DATE_END)
            goto range;
        *out = days;
        return 0;
    }
    if (tp.year > 294277)
        goto range;
    int64_t ts = days * TYPES_USECS_PER_DAY +
                 ((int64_t)tp.hour * 3600 + tp.minute * 60 + tp.second) * 1000000 + tp.usec;
    if (t == TYPE_TIMESTAMPTZ && tp.zone) {
        int64_t secs = ts / 1000000 - (ts % 1000000 < 0) + 946684800;
        ts -= (int64_t)types_tz_local_to_utc(tp.zone, secs) * 1000000;
    } else if (t == TYPE_TIMESTAMPTZ && tp.has_tz) {
        ts -= (int64_t)tp.tz_secs * 1000000;
    } else if (t == TYPE_TIMESTAMPTZ) {
        if (ts < TYPES_TS_MIN - TYPES_USECS_PER_DAY || ts >= TYPES_TS_END + TYPES_USECS_PER_DAY)
            goto range;
        sql_error_t tmp = {0};
        if (types_ts_to_tstz(types_tz_current(), ts, &ts, &tmp) < 0)
            goto range;
    }
    if (ts < TYPES_TS_MIN || ts >= TYPES_TS_END)
        goto range;
    *out = ts;
    return 0;
range:
    return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "%s out of range: \"%.*s\"",
                     t == TYPE_DATE ? "date" : "timestamp", (int)(len > 256 ? 256 : len), s);
}

/* ---- bytea ---- */

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int bytea_in(const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    vstr_t *v = vstr_new(a, NULL, len);   /* decoded form is never longer */
    if (!v) return err_oom(err);
    uint32_t n = 0;
    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        for (size_t i = 2; i < len;) {
            if (is_space(s[i])) { i++; continue; }
            int hi = hex_val(s[i]);
            if (hi < 0)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid hexadecimal digit: \"%c\"", s[i]);
            if (i + 1 >= len)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER,
                                 "invalid hexadecimal data: odd number of digits");
            int lo = hex_val(s[i + 1]);
            if (lo < 0)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid hexadecimal digit: \"%c\"", s[i + 1]);
            v->data[n++] = (char)(hi << 4 | lo);
            i += 2;
        }
    } else {
        for (size_t i = 0; i < len;) {
            if (s[i] != '\\') { v->data[n++] = s[i++]; continue; }
            if (i + 1 < len && s[i + 1] == '\\') { v->data[n++] = '\\'; i += 2; continue; }
            if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                v->data[n++] = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
                i += 4;
                continue;
            }
            return sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type bytea");
        }
    }
    v->len = n;
    out->s = v;
    return 0;
}

static void bytea_out(const vstr_t *v, strbuf_t *out)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_puts(out, "\\x");
    if (!strbuf_reserve(out, (size_t)v->len * 2)) return;
    for (uint32_t i = 0; i < v->len; i++) {
        uint8_t b = (uint8_t)v->data[i];
        strbuf_putc(out, hex[b >> 4]);
        strbuf_putc(out, hex[b & 15]);
    }
}

/* ---- strings ---- */

/* Validates UTF-8 (PostgreSQL rejects bad sequences and NUL with 22021). */
static int utf8_check(const char *s, size_t len, sql_error_t *err)
{
    const uint8_t *p = (const uint8_t *)s, *e = p + len;
    while (p < e) {
        uint8_t c = *p;
        int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = n > 0 && c != 0 && (e - p) >= n && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
        for (int i = 1; ok && i < n; i++) ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 3) ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
        if (ok && n == 4) ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
        if (!ok)
            return sql_error(err, "22021", "invalid byte sequence for encoding \"UTF8\": 0x%02x", c);
        p += n;
    }
    return 0;
}

size_t types__char_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((uint8_t)s[i] & 0xC0) != 0x80;
    return n;
}

/* Byte length of the first `chars` characters of s. */
static size_t char_prefix_bytes(const char *s, size_t len, size_t chars)
{
    size_t i = 0;
    for (size_t c = 0; i < len; i++) {
        if (((uint8_t)s[i] & 0xC0) != 0x80) {
            if (c == chars) break;
            c++;
        }
    }
    return i;
}

size_t types__trim_bpchar(const char *s, size_t len)
{
    while (len && s[len - 1] == ' ') len--;
    return len;
}

int types__apply_typmod(type_oid_t t, int32_t typmod, const char *s, size_t len, bool truncate,
                        size_t *out_len, size_t *pad, sql_error_t *err)
{
    *out_len = len;
    *pad = 0;
    if (typmod < 4 || (t != TYPE_VARCHAR && t != TYPE_BPCHAR))
        return 0;
    size_t max = (size_t)(typmod - 4);
    size_t chars = types__char_count(s, len);
    if (chars > max) {
        size_t keep = char_prefix_bytes(s, len, max);
        if (!truncate) {
            for (size_t i = keep; i < len; i++)
                if (s[i] != ' ')
                    return sql_error(err, SQLSTATE_STRING_TOO_LONG, "value too long for type %s(%d)",
                                     t == TYPE_VARCHAR ? "character varying" : "character", (int)max);
        }
        *out_len = keep;
        chars = max;
    }
    if (t == TYPE_BPCHAR)
        *pad = max - chars;
    return 0;
}

static int string_in(type_oid_t t, int32_t typmod, const char *s, size_t len, bool truncate,
                     arena_t *a, datum_t *out, sql_error_t *err)
{
    if (utf8_check(s, len, err) < 0)
        return -1;
    size_t keep, pad;
    if (types__apply_typmod(t, typmod, s, len, truncate, &keep, &pad, err) < 0)
        return -1;
    if (t == TYPE_NAME && keep > LIMIT_SQL_IDENT_BYTES) {
        keep = LIMIT_SQL_IDENT_BYTES;       /* cut at a character boundary */
        while (keep > 0 && ((uint8_t)s[keep] & 0xC0) == 0x80) keep--;
    }
    vstr_t *v = vstr_new(a, NULL, keep + pad);
    if (!v) return err_oom(err);
    memcpy(v->data, s, keep);
    memset(v->data + keep, ' ', pad);
    out->s = v;
    return 0;
}

/* ---- "char" ---- */

static int char_in(const char *s, size_t len, int64_t *out)
{
    if (len == 4 && s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
        s[3] >= '0' && s[3] <= '7')
        *out = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
    else
        *out = len ? (uint8_t)s[0] : 0;
    return 0;
}

static void char_out(int64_t v, strbuf_t *out)
{
    uint8_t c = (uint8_t)v;
    if (c & 0x80) strbuf_printf(out, "\\%03o", c);
    else if (c) strbuf_putc(out, (char)c);
}

/* ---- dispatch ---- */

/* The schemas every NextDB database has (sql/pgcatalog.c's pg_namespace rows);
 * regnamespace prints and reads them by name, other OIDs as numbers. */
static const struct { uint32_t oid; const char *name; } regnamespace_names[] = {
    {11, "pg_catalog"}, {99, "pg_toast"}, {2200, "public"}, {13000, "information_schema"},
};
#define REGNAMESPACE_COUNT (sizeof regnamespace_names / sizeof regnamespace_names[0])

static int regnamespace_in(const char *s, size_t len, datum_t *out, sql_error_t *err)
{
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    for (size_t i = 0; i < REGNAMESPACE_COUNT; i++)
        if (strlen(regnamespace_names[i].name) == len && !memcmp(regnamespace_names[i].name, s, len)) {
            out->i64 = regnamespace_names[i].oid;
            return 0;
        }
    return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%.*s\" does not exist", (int)(len > 256 ? 256 : len), s);
}

static void regnamespace_out(int64_t v, strbuf_t *out)
{
    for (size_t i = 0; i < REGNAMESPACE_COUNT; i++)
        if (regnamespace_names[i].oid == (uint32_t)v) {
            strbuf_puts(out, regnamespace_names[i].name);
            return;
        }
    strbuf_printf(out, "%u", (unsigned)(uint32_t)v);
}

static const char *int_name(type_oid_t t)
{
    return t == TYPE_INT2 ? "smallint" : t == TYPE_INT4 ? "integer" : "bigint";
}

int types__in_text(type_oid_t t, int32_t typmod, const char *s, size_t len, bool truncate,
                   arena_t *a, datum_t *out, sql_error_t *err)
{
    int64_t v;
    switch (t) {
    case TYPE_BOOL:
        return bool_in(s, len, &out->i64, err);
    case TYPE_INT2:
        return int_in(s, len, INT16_MIN, INT16_MAX, int_name(t), &out->i64, err);
    case TYPE_INT4:
        return int_in(s, len, INT32_MIN, INT32_MAX, int_name(t), &out->i64, err);
    case TYPE_INT8:
        return int_in(s, len, INT64_MIN, INT64_MAX, int_name(t), &out->i64, err);
    case TYPE_OID:
    case TYPE_REGCLASS:
    case TYPE_REGTYPE:
    case TYPE_REGPROC:
    case TYPE_REGNAMESPACE: {
        const char *tn = t == TYPE_OID ? "oid" : types__sql_name(t);
        const char *p = s;
        size_t n = len;
        trim(&p, &n);
        if (t == TYPE_REGNAMESPACE && n > 0 && !isdigit((unsigned char)*p))
            return regnamespace_in(p, n, out, err);
        if (t == TYPE_REGTYPE && n > 0 && n < 64 && !isdigit((unsigned char)*p)) {
            /* regtypein by name (the type table is static, so no catalog is needed) */
            char name[64];
            for (size_t k = 0; k < n; k++)
                name[k] = (char)tolower((unsigned char)p[k]);
            name[n] = 0;
            const type_info_t *ti = type_lookup_name(name);
            if (ti) {
                out->i64 = ti->oid;
                return 0;
            }
        }
        if (t != TYPE_OID && (n == 0 || !(isdigit((unsigned char)*p))))
            return sql_error(err, t == TYPE_REGCLASS ? SQLSTATE_UNDEFINED_TABLE : SQLSTATE_UNDEFINED_OBJECT,
                             "%s \"%.*s\" does not exist",
                             t == TYPE_REGCLASS ? "relation" : t == TYPE_REGTYPE ? "type" : "function",
                             (int)(n > 256 ? 256 : n), p);
        sql_error_t tmp = {0};
        if (int_in(s, len, INT32_MIN, UINT32_MAX, tn, &v, &tmp) < 0) {
            if (!strcmp(tmp.sqlstate, SQLSTATE_NUMERIC_OUT_OF_RANGE))
                return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE,
                                 "value \"%.*s\" is out of range for type %s", (int)len, s, tn);
            return err_syntax(err, tn, s, len);
        }
        out->i64 = (int64_t)(uint32_t)v;
        return 0;
    }
    case TYPE_FLOAT4:
    case TYPE_FLOAT8:
        return float_in(s, len, t == TYPE_FLOAT4, &out->f64, err);
    case TYPE_CHAR:
        return char_in(s, len, &out->i64);
    case TYPE_DATE:
    case TYPE_TIMESTAMP:
    case TYPE_TIMESTAMPTZ:
        if (datetime_in(t, s, len, &out->i64, err) < 0)
            return -1;
        return t == TYPE_DATE ? 0 : types_datetime_typmod(t, typmod, &out->i64, err);
    case TYPE_TIME:
        return types_time_in(s, len, typmod, &out->i64, err);
    case TYPE_INTERVAL:
        return types_interval_in(s, len, typmod, a, out, err);
    case TYPE_BYTEA:
        return bytea_in(s, len, a, out, err);
    case TYPE_TEXT:
    case TYPE_VARCHAR:
    case TYPE_BPCHAR:
    case TYPE_NAME:
    case TYPE_UNKNOWN:
        return string_in(t, typmod, s, len, truncate, a, out, err);
    case TYPE_VOID:
        out->i64 = 0;
        return 0;
    case TYPE_VECTOR:
        return type_vector_in(s, len, typmod, a, out, err);
    case TYPE_JSON:
    case TYPE_JSONB:
        return type_json_in(t, s, len, a, out, err);
    case TYPE_UUID:
        return type_uuid_in(s, len, a, out, err);
    case TYPE_NUMERIC:
        if (numeric_in(s, len, a, out, err) < 0)
            return -1;
        return numeric_apply_typmod(*out, typmod, a, out, err);
    default:
        if (type_is_array(t))
            return type_array_in(t, s, len, a, out, err);
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "type %s is not supported",
                         types__sql_name(t));
    }
}

int type_in_text(type_oid_t t, int32_t typmod, const char *s, size_t len, arena_t *a,
                 datum_t *out, sql_error_t *err)
{
    return types__in_text(t, typmod, s, len, false, a, out, err);
}

void type_out_text(type_oid_t t, int32_t typmod, datum_t d, strbuf_t *out)
{
    switch (t) {
    case TYPE_BOOL: strbuf_putc(out, d.i64 ? 't' : 'f'); break;
    case TYPE_INT2:
    case TYPE_INT4:
    case TYPE_INT8: strbuf_printf(out, "%lld", (long long)d.i64); break;
    case TYPE_REGTYPE:
        /* regtypeout: format_type's name for known types, the number otherwise */
        if (type_lookup((type_oid_t)d.i64)) type_format((type_oid_t)d.i64, -1, out);
        else strbuf_printf(out, "%u", (unsigned)(uint32_t)d.i64);
        break;
    case TYPE_OID:
    case TYPE_REGCLASS:
    case TYPE_REGPROC: strbuf_printf(out, "%u", (unsigned)(uint32_t)d.i64); break;
    case TYPE_REGNAMESPACE: regnamespace_out(d.i64, out); break;
    case TYPE_FLOAT4: types__float_out(d.f64, true, out); break;
    case TYPE_FLOAT8: types__float_out(d.f64, false, out); break;
    case TYPE_CHAR: char_out(d.i64, out); break;
    case TYPE_DATE: types__date_out(d.i64, out); break;
    case TYPE_TIMESTAMP: types__timestamp_out(d.i64, false, out); break;
    case TYPE_TIMESTAMPTZ: types_tstz_out(d.i64, out); break;
    case TYPE_TIME: types_time_out(d.i64, out); break;
    case TYPE_INTERVAL: types_interval_out(d, out); break;
    case TYPE_BYTEA: bytea_out(d.s, out); break;
    case TYPE_TEXT:
    case TYPE_VARCHAR:
    case TYPE_BPCHAR:
    case TYPE_NAME:
    case TYPE_UNKNOWN: strbuf_append(out, d.s->data, d.s->len); break;
    case TYPE_VOID: break;
    case TYPE_VECTOR: type_vector_out(d, out); break;
    case TYPE_JSON: case TYPE_JSONB: strbuf_append(out, d.s->data, d.s->len); break;
    case TYPE_UUID: type_uuid_out(d, out); break;
    case TYPE_NUMERIC: numeric_out(d, out); break;
    default:
        ASSERT(type_is_array(t));
        type_array_out(t, d, out);
    }
}

/* ---- binary ---- */

bool type_has_binary(type_oid_t t)
{
    switch (t) {
    case TYPE_BOOL: case TYPE_INT2: case TYPE_INT4: case TYPE_INT8: case TYPE_OID:
    case TYPE_REGCLASS: case TYPE_REGTYPE: case TYPE_REGPROC: case TYPE_REGNAMESPACE:
    case TYPE_FLOAT4: case TYPE_FLOAT8: case TYPE_CHAR: case TYPE_DATE: case TYPE_TIMESTAMP:
    case TYPE_TIMESTAMPTZ: case TYPE_BYTEA: case TYPE_TEXT: case TYPE_VARCHAR: case TYPE_BPCHAR:
    case TYPE_NAME: case TYPE_UNKNOWN: case TYPE_VOID: case TYPE_VECTOR: case TYPE_JSON: case TYPE_JSONB:
    case TYPE_UUID: case TYPE_NUMERIC: case TYPE_TIME: case TYPE_INTERVAL:
        return true;
    default:
        return type_is_array(t) && type_has_binary(type_array_elem(t));
    }
}

static uint64_t be_read(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static int64_t sext(uint64_t v, size_t n)
{
    int shift = 64 - (int)n * 8;
    return shift ? (int64_t)(v << shift) >> shift : (int64_t)v;
}

static int fixed_len(type_oid_t t)
{
    switch (t) {
    case TYPE_BOOL: case TYPE_CHAR: return 1;
    case TYPE_INT2: return 2;
    case TYPE_INT4: case TYPE_OID: case TYPE_REGCLASS: case TYPE_REGTYPE: case TYPE_REGPROC:
    case TYPE_REGNAMESPACE: case TYPE_FLOAT4: case TYPE_DATE: return 4;
    case TYPE_INT8: case TYPE_FLOAT8: case TYPE_TIMESTAMP: case TYPE_TIMESTAMPTZ: case TYPE_TIME: return 8;
    case TYPE_VOID: return 0;
    default: return -1;
    }
}

int type_recv_binary(type_oid_t t, int32_t typmod, const uint8_t *p, size_t len, arena_t *a,
                     datum_t *out, sql_error_t *err)
{
    int fl = fixed_len(t);
    if (fl >= 0) {
        if (len != (size_t)fl)
            return sql_error(err, "22P03", "incorrect binary data format");
        uint64_t v = be_read(p, len);
        switch (t) {
        case TYPE_BOOL: out->i64 = v != 0; break;
        case TYPE_CHAR: out->i64 = (int64_t)v; break;
        case TYPE_OID: case TYPE_REGCLASS: case TYPE_REGTYPE: case TYPE_REGPROC: case TYPE_REGNAMESPACE:
            out->i64 = (int64_t)v; break;
        case TYPE_FLOAT4: { uint32_t u = (uint32_t)v; float f; memcpy(&f, &u, 4); out->f64 = f; break; }
        case TYPE_FLOAT8: memcpy(&out->f64, &v, 8); break;
        case TYPE_DATE: {
            int64_t dv = sext(v, 4);
            out->i64 = dv;
            break;
        }
        default: out->i64 = sext(v, (size_t)fl); break;
        }
        return 0;
    }
    if (t == TYPE_BYTEA) {
        vstr_t *v = vstr_new(a, (const char *)p, len);
        if (!v) return err_oom(err);
        out->s = v;
        return 0;
    }
    if (types__is_string(t))
        return string_in(t, typmod, (const char *)p, len, false, a, out, err);
    if (type_is_array(t))
        return type_array_recv(t, p, len, a, out, err);
    if (t == TYPE_VECTOR)
        return type_vector_recv(p, len, typmod, a, out, err);
    if (t == TYPE_INTERVAL)
        return types_interval_recv(p, len, a, out, err);
    if (t == TYPE_JSON || t == TYPE_JSONB)
        return type_json_recv(t, p, len, a, out, err);
    if (t == TYPE_UUID)
        return type_uuid_recv(p, len, a, out, err);
    if (t == TYPE_NUMERIC)
        return numeric_recv(p, len, a, out, err) < 0 ? -1 : numeric_apply_typmod(*out, typmod, a, out, err);
    return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "no binary input function available for type %s",
                     types__sql_name(t));
}

void type_send_binary(type_oid_t t, int32_t typmod, datum_t d, strbuf_t *out)
{
    switch (t) {
    case TYPE_BOOL: strbuf_put_u8(out, d.i64 != 0); break;
    case TYPE_CHAR: strbuf_put_u8(out, (uint8_t)d.i64); break;
    case TYPE_INT2: strbuf_put_be16(out, (uint16_t)d.i64); break;
    case TYPE_INT4: case TYPE_OID: case TYPE_REGCLASS: case TYPE_REGTYPE: case TYPE_REGPROC:
    case TYPE_REGNAMESPACE: case TYPE_DATE: strbuf_put_be32(out, (uint32_t)d.i64); break;
    case TYPE_INT8: case TYPE_TIMESTAMP: case TYPE_TIMESTAMPTZ: case TYPE_TIME:
        strbuf_put_be64(out, (uint64_t)d.i64); break;
    case TYPE_INTERVAL: types_interval_send(d, out); break;
    case TYPE_FLOAT4: { float f = (float)d.f64; uint32_t u; memcpy(&u, &f, 4); strbuf_put_be32(out, u); break; }
    case TYPE_FLOAT8: { uint64_t u; memcpy(&u, &d.f64, 8); strbuf_put_be64(out, u); break; }
    case TYPE_BYTEA: case TYPE_TEXT: case TYPE_VARCHAR: case TYPE_BPCHAR: case TYPE_NAME:
    case TYPE_UNKNOWN: strbuf_append(out, d.s->data, d.s->len); break;
    case TYPE_VOID: break;
    case TYPE_VECTOR: type_vector_send(d, out); break;
    case TYPE_JSON: case TYPE_JSONB: type_json_send(t, d, out); break;
    case TYPE_UUID: strbuf_append(out, d.s->data, d.s->len); break;
    case TYPE_NUMERIC: numeric_send(d, out); break;
    default:
        ASSERT(type_is_array(t));
        type_array_send(t, d, out);
    }
}

int64_t time_now_ts(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - INT64_C(946684800)) * 1000000 + ts.tv_nsec / 1000;
}
