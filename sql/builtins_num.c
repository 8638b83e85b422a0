/*
 * builtins_num.c -- math functions (abs, round, sqrt, power, ...), date/time functions
 * (now, date_trunc, date_part) and session functions (version, current_user), with
 * PostgreSQL 15's results and error wording.
 */
#include "sql/builtins_int.h"
#include "sql/types_time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "sql/types_int.h"

#define BUILTINS_UNIT_NAME_MAX 10     /* PostgreSQL compares units on TOKMAXLEN chars */

static int fret(double v, datum_t *out)
{
    out->f64 = v;
    return 0;
}

BUILTIN_FN(bi_abs_int)
{
    if (args[0].i64 >= 0) { out->i64 = args[0].i64; return 0; }
    return type_arith(ARITH_NEG, argtypes[0], args[0], args[0], out, err);
}

BUILTIN_FN(bi_abs_float) { return fret(fabs(args[0].f64), out); }
BUILTIN_FN(bi_round) { return fret(rint(args[0].f64), out); }     /* half to even, as PostgreSQL */
BUILTIN_FN(bi_ceil) { return fret(ceil(args[0].f64), out); }
BUILTIN_FN(bi_floor) { return fret(floor(args[0].f64), out); }
BUILTIN_FN(bi_trunc) { return fret(trunc(args[0].f64), out); }
BUILTIN_FN(bi_cbrt) { return fret(cbrt(args[0].f64), out); }
BUILTIN_FN(bi_pi) { return fret(M_PI, out); }
BUILTIN_FN(bi_degrees) { return fret(args[0].f64 * (180.0 / M_PI), out); }
BUILTIN_FN(bi_radians) { return fret(args[0].f64 * (M_PI / 180.0), out); }

BUILTIN_FN(bi_sign)
{
    double v = args[0].f64;
    return fret(v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0, out);
}

BUILTIN_FN(bi_sqrt)
{
    if (args[0].f64 < 0)
        return sql_error(err, "2201F", "cannot take square root of a negative number");
    return fret(sqrt(args[0].f64), out);
}

static int check_result(double r, bool inputs_finite, bool may_be_zero, datum_t *out, sql_error_t *err)
{
    if (isinf(r) && inputs_finite)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: overflow");
    if (r == 0.0 && inputs_finite && !may_be_zero)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: underflow");
    return fret(r, out);
}

BUILTIN_FN(bi_power)
{
    double x = args[0].f64, y = args[1].f64;
    if (isnan(x)) return fret(y == 0 ? 1.0 : x, out);
    if (isnan(y)) return fret(x == 1 ? 1.0 : y, out);
    if (x == 0 && y < 0)
        return sql_error(err, "2201F", "zero raised to a negative power is undefined");
    if (x < 0 && floor(y) != y)
        return sql_error(err, "2201F", "a negative number raised to a non-integer power yields a complex result");
    double r = pow(x, y);
    return check_result(r, !isinf(x) && !isinf(y), x == 0, out, err);
}

BUILTIN_FN(bi_exp)
{
    double x = args[0].f64;
    return check_result(exp(x), !isinf(x) && !isnan(x), false, out, err);
}

static int log_check(double x, sql_error_t *err)
{
    if (x == 0) return sql_error(err, "2201E", "cannot take logarithm of zero");
    if (x < 0) return sql_error(err, "2201E", "cannot take logarithm of a negative number");
    return 0;
}

BUILTIN_FN(bi_ln) { return log_check(args[0].f64, err) < 0 ? -1 : fret(log(args[0].f64), out); }
BUILTIN_FN(bi_log10) { return log_check(args[0].f64, err) < 0 ? -1 : fret(log10(args[0].f64), out); }

BUILTIN_FN(bi_mod) { return type_arith(ARITH_MOD, argtypes[0], args[0], args[1], out, err); }

/* random(): xoshiro-style per-thread generator, seeded from the clock and the thread's
 * own address so shards do not share a sequence. */
static __thread uint64_t random_state;

BUILTIN_FN(bi_random)
{
    if (!random_state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        random_state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&random_state;
        if (!random_state) random_state = 1;
    }
    random_state += UINT64_C(0x9e3779b97f4a7c15);       /* splitmix64 step */
    uint64_t z = types__hash_u64(random_state);
    return fret((double)(z >> 11) * (1.0 / 9007199254740992.0), out);
}

/* ---- time and session ---- */

BUILTIN_FN(bi_now) { out->i64 = ctx->txn_ts; return 0; }
BUILTIN_FN(bi_statement_timestamp) { out->i64 = ctx->stmt_ts; return 0; }
BUILTIN_FN(bi_clock_timestamp) { out->i64 = time_now_ts(); return 0; }

BUILTIN_FN(bi_version)
{
    static const char v[] = "PostgreSQL 15.8 on x86_64-pc-linux-gnu, compiled by NextDB, 64-bit";
    return builtins__ret_str(ctx, v, sizeof v - 1, out, err);
}

static int ret_name(const builtin_ctx_t *ctx, const char *s, datum_t *out, bool *isnull, sql_error_t *err)
{
    if (!s) { *isnull = true; return 0; }
    return builtins__ret_str(ctx, s, strlen(s), out, err);
}

BUILTIN_FN(bi_current_database) { return ret_name(ctx, ctx->database, out, isnull, err); }
BUILTIN_FN(bi_current_user) { return ret_name(ctx, ctx->user, out, isnull, err); }

enum unit {
    U_BAD, U_US, U_MS, U_SECOND, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH, U_QUARTER, U_YEAR,
    U_DECADE, U_CENTURY, U_MILLENNIUM, U_DOW, U_ISODOW, U_DOY, U_EPOCH, U_ISOYEAR, U_JULIAN,
    U_TZ, U_TZ_HOUR, U_TZ_MINUTE,
};

/* Unit spellings from PostgreSQL's datetime token tables. */
static const struct { const char *name; enum unit u; } unit_names[] = {
    {"microsecon", U_US}, {"us", U_US}, {"usec", U_US}, {"usecs", U_US},
    {"millisecon", U_MS}, {"ms", U_MS}, {"msec", U_MS}, {"msecs", U_MS},
    {"second", U_SECOND}, {"seconds", U_SECOND}, {"s", U_SECOND}, {"sec", U_SECOND}, {"secs", U_SECOND},
    {"minute", U_MINUTE}, {"minutes", U_MINUTE}, {"m", U_MINUTE}, {"min", U_MINUTE}, {"mins", U_MINUTE},
    {"hour", U_HOUR}, {"hours", U_HOUR}, {"h", U_HOUR}, {"hr", U_HOUR}, {"hrs", U_HOUR},
    {"day", U_DAY}, {"days", U_DAY}, {"d", U_DAY}, {"week", U_WEEK}, {"weeks", U_WEEK}, {"w", U_WEEK},
    {"month", U_MONTH}, {"months", U_MONTH}, {"mon", U_MONTH}, {"mons", U_MONTH},
    {"quarter", U_QUARTER}, {"qtr", U_QUARTER}, {"year", U_YEAR}, {"years", U_YEAR}, {"y", U_YEAR},
    {"yr", U_YEAR}, {"yrs", U_YEAR}, {"decade", U_DECADE}, {"decades", U_DECADE}, {"dec", U_DECADE},
    {"decs", U_DECADE}, {"century", U_CENTURY}, {"centuries", U_CENTURY}, {"c", U_CENTURY},
    {"cent", U_CENTURY}, {"millennium", U_MILLENNIUM}, {"millennia", U_MILLENNIUM},
    {"mil", U_MILLENNIUM}, {"mils", U_MILLENNIUM}, {"dow", U_DOW}, {"isodow", U_ISODOW},
    {"doy", U_DOY}, {"epoch", U_EPOCH}, {"isoyear", U_ISOYEAR}, {"julian", U_JULIAN},
    {"j", U_JULIAN}, {"jd", U_JULIAN}, {"timezone", U_TZ}, {"timezone_h", U_TZ_HOUR},
    {"timezone_m", U_TZ_MINUTE},
};

/* Lower-cases the unit into low (for messages too) and looks it up. */
static enum unit unit_parse(const vstr_t *v, char *low, size_t low_size)
{
    size_t n = v->len < low_size - 1 ? v->len : low_size - 1;
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)v->data[i]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof unit_names / sizeof unit_names[0]; i++)
        if (!strncmp(low, unit_names[i].name, BUILTINS_UNIT_NAME_MAX))
            return unit_names[i].u;
    return U_BAD;
}

/* Broken-down timestamp: y (0 = 1 BC), month, day, time of day, day number. */
typedef struct tm_parts {
    int64_t y, days, tod;
    int m, d;
} tm_parts_t;

static void split_ts(int64_t ts, tm_parts_t *t)
{
    t->days = ts / TYPES_USECS_PER_DAY;
    t->tod = ts % TYPES_USECS_PER_DAY;
    if (t->tod < 0) { t->tod += TYPES_USECS_PER_DAY; t->days--; }
    types__civil_from_days(t->days, &t->y, &t->m, &t->d);
}

static int isodow_of(int64_t days)
{
    int dow = (int)(((days % 7) + 7 + 6) % 7);      /* 2000-01-01 was a Saturday */
    return dow == 0 ? 7 : dow;
}

static int unit_error(const char *low, type_oid_t t, bool recognized, sql_error_t *err)
{
    if (recognized)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "unit \"%s\" not supported for type %s", low,
                         t == TYPE_TIMESTAMPTZ ? "timestamp with time zone" : "timestamp without time zone");
    return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unit \"%s\" not recognized for type %s", low,
                     t == TYPE_TIMESTAMPTZ ? "timestamp with time zone" : "timestamp without time zone");
}

BUILTIN_FN(bi_date_trunc)
{
    char low[64];
    enum unit u = unit_parse(args[0].s, low, sizeof low);
    type_oid_t t = argtypes[1];
    int64_t ts = args[1].i64;
    if (ts == TYPES_TS_NOBEGIN || ts == TYPES_TS_NOEND) { out->i64 = ts; return 0; }
    /* dow, doy, epoch, ... are not truncation units at all; timezone is "not supported". */
    if (u == U_BAD || u > U_MILLENNIUM) return unit_error(low, t, u >= U_TZ, err);
    if (t == TYPE_TIMESTAMPTZ) {
        /* truncate in local time (the session's zone or the third argument); units of a
         * day and more find the offset again, smaller ones keep the original offset */
        const types_tz_t *tz = ctx->tz ? ctx->tz : types_tz_utc();
        if (nargs == 3) {
            char zn[128], canon[128];
            size_t zl = args[2].s->len < sizeof zn - 1 ? args[2].s->len : sizeof zn - 1;
            memcpy(zn, args[2].s->data, zl);
            zn[zl] = 0;
            sql_error_t tmp = {0};
            if (!(tz = types_tz_load(zn, canon, sizeof canon, &tmp)))
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "time zone \"%s\" not recognized", zn);
        }
        int64_t local = types_tstz_to_ts(tz, ts), off = local - ts, tr;
        datum_t a2[2] = {args[0], {.i64 = local}};
        type_oid_t t2[2] = {TYPE_TEXT, TYPE_TIMESTAMP};
        datum_t r;
        if (bi_date_trunc(ctx, 2, a2, nulls, t2, &r, isnull, err) < 0) return -1;
        tr = r.i64;
        if (u >= U_DAY) return types_ts_to_tstz(tz, tr, &out->i64, err);
        out->i64 = tr - off;
        return 0;
    }
    tm_parts_t p;
    split_ts(ts, &p);
    int64_t day_us = p.days * TYPES_USECS_PER_DAY, y = p.y;
    int m = p.m;
    switch (u) {
    case U_US: out->i64 = ts; return 0;
    case U_MS: out->i64 = day_us + p.tod - p.tod % 1000; return 0;
    case U_SECOND: out->i64 = day_us + p.tod - p.tod % 1000000; return 0;
    case U_MINUTE: out->i64 = day_us + p.tod - p.tod % 60000000; return 0;
    case U_HOUR: out->i64 = day_us + p.tod - p.tod % INT64_C(3600000000); return 0;
    case U_DAY: out->i64 = day_us; return 0;
    case U_WEEK: out->i64 = (p.days - (isodow_of(p.days) - 1)) * TYPES_USECS_PER_DAY; return 0;
    case U_MONTH: break;
    case U_QUARTER: m = (m - 1) / 3 * 3 + 1; break;
    case U_YEAR: m = 1; break;
    case U_DECADE: m = 1; y = y > 0 ? y / 10 * 10 : -((8 - (y - 1)) / 10) * 10; break;
    case U_CENTURY: m = 1; y = y > 0 ? (y + 99) / 100 * 100 - 99 : -((99 - (y - 1)) / 100) * 100 + 1; break;
    case U_MILLENNIUM: m = 1; y = y > 0 ? (y + 999) / 1000 * 1000 - 999 : -((999 - (y - 1)) / 1000) * 1000 + 1; break;
    default: ASSERT(!"date_trunc: unit");
    }
    out->i64 = types__days_from_civil(y, m, 1) * TYPES_USECS_PER_DAY;
    return 0;
}

/* Fields that grow with time report +-Infinity for infinite inputs; others NULL. */
static bool unit_monotonic(enum unit u)
{
    return u == U_YEAR || u == U_DECADE || u == U_CENTURY || u == U_MILLENNIUM || u == U_JULIAN ||
           u == U_ISOYEAR || u == U_EPOCH;
}

static double year_field(enum unit u, int64_t y)
{
    switch (u) {
    case U_YEAR: return (double)(y > 0 ? y : y - 1);
    case U_DECADE: return (double)(y >= 0 ? y / 10 : -((8 - (y - 1)) / 10));
    case U_CENTURY: return (double)(y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100));
    default: return (double)(y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000));
    }
}

BUILTIN_FN(bi_date_part)
{
    char low[64];
    enum unit u = unit_parse(args[0].s, low, sizeof low);
    type_oid_t t = argtypes[1] == TYPE_TIMESTAMPTZ ? TYPE_TIMESTAMPTZ : TYPE_TIMESTAMP;
    if (u == U_BAD) return unit_error(low, t, false, err);
    int64_t ts = args[1].i64;
    if (argtypes[1] == TYPE_DATE) {
        if (ts == TYPES_DATE_NOBEGIN) ts = TYPES_TS_NOBEGIN;
        else if (ts == TYPES_DATE_NOEND) ts = TYPES_TS_NOEND;
        else ts *= TYPES_USECS_PER_DAY;
    }
    if (ts == TYPES_TS_NOBEGIN || ts == TYPES_TS_NOEND) {
        if (!unit_monotonic(u)) { *isnull = true; return 0; }
        return fret(ts == TYPES_TS_NOEND ? INFINITY : -INFINITY, out);
    }
    if (u >= U_TZ && t != TYPE_TIMESTAMPTZ) return unit_error(low, t, true, err);
    int32_t gmtoff = 0;
    if (t == TYPE_TIMESTAMPTZ) {      /* fields of the local time in the session's zone */
        const types_tz_t *tz = ctx->tz ? ctx->tz : types_tz_utc();
        int64_t secs = ts / 1000000 - (ts % 1000000 < 0) + INT64_C(946684800);
        gmtoff = types_tz_offset(tz, secs, NULL, NULL);
        if (u == U_EPOCH) return fret((double)(ts + INT64_C(946684800000000)) / 1000000.0, out);
        ts += (int64_t)gmtoff * 1000000;
    }
    tm_parts_t p;
    split_ts(ts, &p);
    int64_t sec = p.tod / 1000000 % 60, us = p.tod % 1000000;
    int isodow = isodow_of(p.days);
    switch (u) {
    case U_US: return fret((double)(sec * 1000000 + us), out);
    case U_MS: return fret((double)sec * 1000.0 + (double)us / 1000.0, out);
    case U_SECOND: return fret((double)sec + (double)us / 1000000.0, out);
    case U_MINUTE: return fret((double)(p.tod / 60000000 % 60), out);
    case U_HOUR: return fret((double)(p.tod / INT64_C(3600000000)), out);
    case U_DAY: return fret(p.d, out);
    case U_MONTH: return fret(p.m, out);
    case U_QUARTER: return fret((p.m - 1) / 3 + 1, out);
    case U_YEAR: case U_DECADE: case U_CENTURY: case U_MILLENNIUM: return fret(year_field(u, p.y), out);
    case U_DOW: return fret(isodow % 7, out);
    case U_ISODOW: return fret(isodow, out);
    case U_DOY: return fret((double)(p.days - types__days_from_civil(p.y, 1, 1) + 1), out);
    case U_EPOCH: return fret((double)(ts + INT64_C(946684800000000)) / 1000000.0, out);
    case U_JULIAN:
        return fret((double)(p.days + 2451545) + ((double)(p.tod / 1000000) + (double)us / 1000000.0) / 86400.0, out);
    case U_WEEK:
    case U_ISOYEAR: {
        int64_t thursday = p.days - (isodow - 1) + 3, iy;
        int im, id;
        types__civil_from_days(thursday, &iy, &im, &id);
        if (u == U_ISOYEAR) return fret((double)(iy > 0 ? iy : iy - 1), out);
        return fret((double)((thursday - types__days_from_civil(iy, 1, 1)) / 7 + 1), out);
    }
    case U_TZ: return fret(gmtoff, out);
    case U_TZ_HOUR: return fret(gmtoff / 3600, out);
    case U_TZ_MINUTE: return fret(gmtoff / 60 % 60, out);
    default: ASSERT(!"date_part: unit"); return -1;
    }
}
