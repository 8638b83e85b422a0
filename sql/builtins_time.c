/*
 * builtins_time.c -- date/time operators and functions as PostgreSQL 15 computes
 * them; see builtins_time.h. Calendar rules: month arithmetic clamps to the end of
 * the month, day arithmetic on timestamptz runs in the session's local time (so
 * '1 day' across a DST change keeps the wall clock), time arithmetic is absolute.
 */
#include "sql/builtins_time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/assert.h"
#include "sql/builtins_int.h"
#include "sql/types_int.h"
#include "sql/types_time.h"

#define USPD TYPES_USECS_PER_DAY
#define UNIX_EPOCH_DAYS INT64_C(10957)     /* 1970-01-01 .. 2000-01-01 */

static const types_tz_t *ctz(const builtin_ctx_t *ctx) { return ctx->tz ? ctx->tz : types_tz_utc(); }
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }
static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int mdays(int64_t y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d[m - 1] + (m == 2 && is_leap(y));
}
static bool ts_inf(int64_t v) { return v == TYPES_TS_NOBEGIN || v == TYPES_TS_NOEND; }
static bool date_inf(int64_t v) { return v == TYPES_DATE_NOBEGIN || v == TYPES_DATE_NOEND; }

static int ts_range(int64_t v, sql_error_t *err)
{
    if (v < TYPES_TS_MIN || v >= TYPES_TS_END)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range");
    return 0;
}

static int iv_range(sql_error_t *err) { return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "interval out of range"); }

static int ret_iv(const builtin_ctx_t *ctx, int64_t time, int64_t day, int64_t month, datum_t *out, sql_error_t *err)
{
    if (day > INT32_MAX || day < INT32_MIN || month > INT32_MAX || month < INT32_MIN)
        return iv_range(err);
    types_interval_t iv = {.time = time, .day = (int32_t)day, .month = (int32_t)month};
    return types_interval_make(ctx->arena, &iv, out, err);
}

static void ivget(datum_t d, types_interval_t *iv) { types_interval_get(d, iv); }

/* ---- broken-down times ---- */

typedef struct dt_tm {
    int64_t y, days, tod;      /* astronomical year (0 = 1 BC), days since 2000, us of day */
    int m, d;
} dt_tm_t;

static void split(int64_t ts, dt_tm_t *t)
{
    t->days = floor_div(ts, USPD);
    t->tod = ts - t->days * USPD;
    types__civil_from_days(t->days, &t->y, &t->m, &t->d);
}

/* Adds months to a local timestamp, clamping the day to the month's end. */
static int add_months(int64_t ts, int64_t months, int64_t *out, sql_error_t *err)
{
    dt_tm_t t;
    split(ts, &t);
    int64_t mi = t.y * 12 + (t.m - 1) + months;
    int64_t y = floor_div(mi, 12);
    int m = (int)(mi - y * 12) + 1;
    if (y < -4713 || y > 294277)
        return ts_range(TYPES_TS_END, err);
    int d = t.d > mdays(y, m) ? mdays(y, m) : t.d;
    *out = types__days_from_civil(y, m, d) * USPD + t.tod;
    return ts_range(*out, err);
}

/* ts + iv; tz non-NULL: ts is a timestamptz and months/days apply in local time. */
static int ts_add_iv(int64_t ts, const types_interval_t *iv, const types_tz_t *tz, int64_t *out, sql_error_t *err)
{
    if (ts_inf(ts)) { *out = ts; return 0; }
    if (iv->month || iv->day) {
        int64_t local = tz ? types_tstz_to_ts(tz, ts) : ts;
        if (iv->month && add_months(local, iv->month, &local, err) < 0)
            return -1;
        if (iv->day) {
            if (__builtin_add_overflow(local, (int64_t)iv->day * USPD, &local) || ts_range(local, err) < 0)
                return ts_range(TYPES_TS_END, err);
        }
        if (tz) {
            if (types_ts_to_tstz(tz, local, &ts, err) < 0)
                return -1;
        } else {
            ts = local;
        }
    }
    if (__builtin_add_overflow(ts, iv->time, &ts))
        return ts_range(TYPES_TS_END, err);
    if (ts_range(ts, err) < 0)
        return -1;
    *out = ts;
    return 0;
}

int builtins_time_ts_add(int64_t ts, const types_interval_t *iv, const types_tz_t *tz, int64_t *out,
                         sql_error_t *err)
{
    return ts_add_iv(ts, iv, tz, out, err);
}

static void neg_iv(types_interval_t *iv) { iv->time = -iv->time; iv->day = -iv->day; iv->month = -iv->month; }

static bool neg_iv_ok(const types_interval_t *iv)
{
    return iv->time != INT64_MIN && iv->day != INT32_MIN && iv->month != INT32_MIN;
}

/* justify_hours: whole days out of time, signs made consistent. */
static void justify_hours(int64_t *time, int64_t *day)
{
    int64_t whole = *time / USPD;
    *time -= whole * USPD;
    *day += whole;
    if (*day > 0 && *time < 0) { *time += USPD; (*day)--; }
    else if (*day < 0 && *time > 0) { *time -= USPD; (*day)++; }
}

/* ---- operators ---- */

BUILTIN_FN(bi_date_pli)
{
    int64_t d = args[0].i64, n = args[1].i64;
    if (argtypes[0] != TYPE_DATE) { d = args[1].i64; n = args[0].i64; }
    if (date_inf(d)) { out->i64 = d; return 0; }
    int64_t r = d + n;
    if (r < TYPES_DATE_MIN || r >= TYPES_DATE_END)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date out of range");
    out->i64 = r;
    return 0;
}

BUILTIN_FN(bi_date_mii)
{
    if (date_inf(args[0].i64)) { out->i64 = args[0].i64; return 0; }
    int64_t r = args[0].i64 - args[1].i64;
    if (r < TYPES_DATE_MIN || r >= TYPES_DATE_END)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date out of range");
    out->i64 = r;
    return 0;
}

BUILTIN_FN(bi_date_mi)
{
    if (date_inf(args[0].i64) || date_inf(args[1].i64))
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "cannot subtract infinite dates");
    out->i64 = args[0].i64 - args[1].i64;
    return 0;
}

BUILTIN_FN(bi_datetime_pl)
{
    int64_t d = argtypes[0] == TYPE_DATE ? args[0].i64 : args[1].i64;
    int64_t t = argtypes[0] == TYPE_DATE ? args[1].i64 : args[0].i64;
    if (date_inf(d)) { out->i64 = d == TYPES_DATE_NOEND ? TYPES_TS_NOEND : TYPES_TS_NOBEGIN; return 0; }
    if (d >= TYPES_TS_END / USPD)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date out of range for timestamp");
    out->i64 = d * USPD + t;
    return ts_range(out->i64, err);
}

static int date_to_ts(int64_t d, int64_t *ts, sql_error_t *err)
{
    datum_t in = {.i64 = d}, o;
    if (types_time_cast(TYPE_DATE, TYPE_TIMESTAMP, in, NULL, &o, err) < 0) return -1;
    *ts = o.i64;
    return 0;
}

/* date/timestamp/timestamptz +- interval (either order for +); op name decides sign. */
static int ts_pm(const builtin_ctx_t *ctx, const datum_t *args, const type_oid_t *argtypes, bool minus,
                 datum_t *out, sql_error_t *err)
{
    int ti = argtypes[0] == TYPE_INTERVAL ? 1 : 0;
    types_interval_t iv;
    ivget(args[1 - ti], &iv);
    if (minus) {
        if (!neg_iv_ok(&iv)) return iv_range(err);
        neg_iv(&iv);
    }
    int64_t ts = args[ti].i64;
    if (argtypes[ti] == TYPE_DATE && date_to_ts(ts, &ts, err) < 0) return -1;
    return ts_add_iv(ts, &iv, argtypes[ti] == TYPE_TIMESTAMPTZ ? ctz(ctx) : NULL, &out->i64, err);
}

BUILTIN_FN(bi_ts_pl_interval) { return ts_pm(ctx, args, argtypes, false, out, err); }
BUILTIN_FN(bi_ts_mi_interval) { return ts_pm(ctx, args, argtypes, true, out, err); }

BUILTIN_FN(bi_timestamp_mi)
{
    int64_t a = args[0].i64, b = args[1].i64;
    if (ts_inf(a) || ts_inf(b))
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "cannot subtract infinite timestamps");
    int64_t t = a - b, day = 0;
    justify_hours(&t, &day);
    return ret_iv(ctx, t, day, 0, out, err);
}

BUILTIN_FN(bi_time_mi_time) { return ret_iv(ctx, args[0].i64 - args[1].i64, 0, 0, out, err); }

BUILTIN_FN(bi_time_pl_interval)
{
    int ti = argtypes[0] == TYPE_INTERVAL ? 1 : 0;
    types_interval_t iv;
    ivget(args[1 - ti], &iv);
    int64_t t = args[ti].i64 + iv.time % USPD;
    t %= USPD;
    if (t < 0) t += USPD;
    out->i64 = t;
    return 0;
}

BUILTIN_FN(bi_time_mi_interval)
{
    types_interval_t iv;
    ivget(args[1], &iv);
    int64_t t = (args[0].i64 - iv.time % USPD) % USPD;
    if (t < 0) t += USPD;
    out->i64 = t;
    return 0;
}

static int iv_pm(const builtin_ctx_t *ctx, const datum_t *args, bool minus, datum_t *out, sql_error_t *err)
{
    types_interval_t a, b;
    ivget(args[0], &a);
    ivget(args[1], &b);
    int64_t t;
    int32_t d, m;
    bool o = minus ? __builtin_sub_overflow(a.time, b.time, &t) | __builtin_sub_overflow(a.day, b.day, &d) |
                         __builtin_sub_overflow(a.month, b.month, &m)
                   : __builtin_add_overflow(a.time, b.time, &t) | __builtin_add_overflow(a.day, b.day, &d) |
                         __builtin_add_overflow(a.month, b.month, &m);
    if (o) return iv_range(err);
    return ret_iv(ctx, t, d, m, out, err);
}

BUILTIN_FN(bi_interval_pl) { return iv_pm(ctx, args, false, out, err); }
BUILTIN_FN(bi_interval_mi) { return iv_pm(ctx, args, true, out, err); }

BUILTIN_FN(bi_interval_um)
{
    types_interval_t a;
    ivget(args[0], &a);
    if (!neg_iv_ok(&a)) return iv_range(err);
    neg_iv(&a);
    return ret_iv(ctx, a.time, a.day, a.month, out, err);
}

static double tsround(double v) { return rint(v * 1000000.0) / 1000000.0; }

/* PostgreSQL's interval_mul / interval_div: fractions of months cascade into days
 * (30 per month) and of days into seconds. */
static int iv_scale(const builtin_ctx_t *ctx, const types_interval_t *s, double f, bool div, datum_t *out,
                    sql_error_t *err)
{
    if (div && f == 0) return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
    double rm = div ? s->month / f : s->month * f;
    if (isnan(rm) || rm >= 2147483648.0 || rm < -2147483648.0) return iv_range(err);
    int32_t month = (int32_t)rm;
    double rd = div ? s->day / f : s->day * f;
    if (isnan(rd) || rd >= 2147483648.0 || rd < -2147483648.0) return iv_range(err);
    int32_t day = (int32_t)rd;
    double mrd = tsround((rm - month) * 30);
    double sec = tsround((rd - day + mrd - (int)mrd) * 86400);
    int64_t dd = day;
    if (fabs(sec) >= 86400) { dd += (int)(sec / 86400); sec -= (int)(sec / 86400) * 86400.0; }
    dd += (int32_t)mrd;
    double rt = rint((div ? (double)s->time / f : (double)s->time * f) + sec * 1000000.0);
    if (isnan(rt) || rt >= 9223372036854775808.0 || rt < -9223372036854775808.0) return iv_range(err);
    return ret_iv(ctx, (int64_t)rt, dd, month, out, err);
}

BUILTIN_FN(bi_interval_mul)
{
    int ii = argtypes[0] == TYPE_INTERVAL ? 0 : 1;
    types_interval_t s;
    ivget(args[ii], &s);
    return iv_scale(ctx, &s, args[1 - ii].f64, false, out, err);
}

BUILTIN_FN(bi_interval_div)
{
    types_interval_t s;
    ivget(args[0], &s);
    return iv_scale(ctx, &s, args[1].f64, true, out, err);
}

/* ---- operator resolution ---- */

#define D TYPE_DATE
#define TM TYPE_TIME
#define TS TYPE_TIMESTAMP
#define TZ TYPE_TIMESTAMPTZ
#define IV TYPE_INTERVAL
#define I4 TYPE_INT4
#define F8 TYPE_FLOAT8

static const struct { const char *op; type_oid_t l, r; const char *fn; } time_ops[] = {
    {"+", D, I4, "date_pli"}, {"+", I4, D, "integer_pl_date"}, {"-", D, I4, "date_mii"},
    {"-", D, D, "date_mi"}, {"+", D, TM, "datetime_pl"}, {"+", TM, D, "timedate_pl"},
    {"+", D, IV, "date_pl_interval"}, {"+", IV, D, "interval_pl_date"}, {"-", D, IV, "date_mi_interval"},
    {"+", TS, IV, "timestamp_pl_interval"}, {"+", IV, TS, "interval_pl_timestamp"},
    {"-", TS, IV, "timestamp_mi_interval"}, {"+", TZ, IV, "timestamptz_pl_interval"},
    {"+", IV, TZ, "interval_pl_timestamptz"}, {"-", TZ, IV, "timestamptz_mi_interval"},
    {"-", TS, TS, "timestamp_mi"}, {"-", TZ, TZ, "timestamptz_mi"}, {"-", TM, TM, "time_mi_time"},
    {"+", TM, IV, "time_pl_interval"}, {"+", IV, TM, "interval_pl_time"}, {"-", TM, IV, "time_mi_interval"},
    {"+", IV, IV, "interval_pl"}, {"-", IV, IV, "interval_mi"}, {"*", IV, F8, "interval_mul"},
    {"*", F8, IV, "mul_d_interval"}, {"/", IV, F8, "interval_div"},
    {"-", TYPE_INVALID, IV, "interval_um"}, {"+", TYPE_INVALID, IV, "interval_pl_unary"},
};
#define TIME_OPS_N ((int)(sizeof time_ops / sizeof time_ops[0]))

bool builtins_time_type(type_oid_t t) { return t == D || t == TM || t == TS || t == TZ || t == IV; }

static bool reach(type_oid_t from, type_oid_t to)
{
    return from == to || from == TYPE_UNKNOWN || type_can_cast(from, to, CAST_IMPLICIT);
}

const char *builtins_time_operator(const char *op, type_oid_t l, type_oid_t r, bool *ambiguous)
{
    *ambiguous = false;
    /* exact, then an unknown side taken as the other side's type */
    type_oid_t l2 = l == TYPE_UNKNOWN ? r : l, r2 = r == TYPE_UNKNOWN ? l : r;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < TIME_OPS_N; i++)
            if (!strcmp(time_ops[i].op, op) && time_ops[i].l == (pass ? l2 : l) && time_ops[i].r == (pass ? r2 : r))
                return time_ops[i].fn;
    /* candidates by implicit casts; most exact known matches win, then preferred types */
    int best = -1, nbest = 0, found = -1;
    for (int i = 0; i < TIME_OPS_N; i++) {
        if (strcmp(time_ops[i].op, op) || (time_ops[i].l == TYPE_INVALID) != (l == TYPE_INVALID)) continue;
        if ((l != TYPE_INVALID && !reach(l, time_ops[i].l)) || !reach(r, time_ops[i].r)) continue;
        int score = (l != TYPE_UNKNOWN && time_ops[i].l == l) * 4 + (r != TYPE_UNKNOWN && time_ops[i].r == r) * 4;
        const type_info_t *a = type_lookup(time_ops[i].l), *b = type_lookup(time_ops[i].r);
        /* preferred types count only where a known operand needs a conversion */
        score += (a && a->preferred && l != TYPE_UNKNOWN && l != time_ops[i].l) +
                 (b && b->preferred && r != TYPE_UNKNOWN && r != time_ops[i].r);
        if (score > best) { best = score; nbest = 1; found = i; }
        else if (score == best) nbest++;
    }
    if (found < 0) return NULL;
    if (nbest > 1) { *ambiguous = true; return NULL; }
    return time_ops[found].fn;
}

BUILTIN_FN(bi_interval_pl_unary) { *out = args[0]; return 0; }

/* ---- current date/time ---- */

BUILTIN_FN(bi_current_date)
{
    out->i64 = floor_div(types_tstz_to_ts(ctz(ctx), ctx->txn_ts), USPD);
    return 0;
}

BUILTIN_FN(bi_localtimestamp)
{
    out->i64 = types_tstz_to_ts(ctz(ctx), ctx->txn_ts);
    if (nargs == 1) out->i64 = types_round_usec(out->i64, (int32_t)args[0].i64);
    return 0;
}

BUILTIN_FN(bi_localtime)
{
    int64_t l = types_tstz_to_ts(ctz(ctx), ctx->txn_ts);
    out->i64 = l - floor_div(l, USPD) * USPD;
    if (nargs == 1) out->i64 = types_round_usec(out->i64, (int32_t)args[0].i64) % USPD;
    return 0;
}

BUILTIN_FN(bi_now_prec)
{
    out->i64 = types_round_usec(ctx->txn_ts, (int32_t)args[0].i64);
    return 0;
}

/* ---- AT TIME ZONE ---- */

static const types_tz_t *zone_arg(const vstr_t *z, sql_error_t *err)
{
    char name[128], canon[128];
    size_t n = z->len < sizeof name - 1 ? z->len : sizeof name - 1;
    memcpy(name, z->data, n);
    name[n] = 0;
    sql_error_t tmp = {0};
    const types_tz_t *tz = z->len < sizeof name - 1 ? types_tz_load(name, canon, sizeof canon, &tmp) : NULL;
    if (!tz)
        sql_error(err, SQLSTATE_INVALID_PARAMETER, "time zone \"%.*s\" not recognized", (int)n, name);
    return tz;
}

BUILTIN_FN(bi_timezone)
{
    int64_t v = args[1].i64;
    if (ts_inf(v)) { out->i64 = v; return 0; }
    if (argtypes[0] == TYPE_INTERVAL) {
        types_interval_t iv;
        ivget(args[0], &iv);
        if (iv.month || iv.day) {
            strbuf_t sb;
            strbuf_init(&sb);
            types_interval_out(args[0], &sb);
            sql_error(err, SQLSTATE_INVALID_PARAMETER, "interval time zone \"%s\" must not include months or days",
                      sb.data ? sb.data : "");
            strbuf_free(&sb);
            return -1;
        }
        out->i64 = argtypes[1] == TYPE_TIMESTAMPTZ ? v + iv.time : v - iv.time;
        return ts_range(out->i64, err);
    }
    const types_tz_t *tz = zone_arg(args[0].s, err);
    if (!tz) return -1;
    if (argtypes[1] == TYPE_TIMESTAMPTZ) {
        out->i64 = types_tstz_to_ts(tz, v);
        return ts_range(out->i64, err);
    }
    return types_ts_to_tstz(tz, v, &out->i64, err);
}

/* ---- age, justify, isfinite ---- */

static void tm_of(int64_t ts, int64_t f[7])     /* year, mon, mday, hour, min, sec, us */
{
    dt_tm_t t;
    split(ts, &t);
    f[0] = t.y; f[1] = t.m; f[2] = t.d;
    f[3] = t.tod / TYPES_USECS_PER_HOUR; f[4] = t.tod / TYPES_USECS_PER_MINUTE % 60;
    f[5] = t.tod / TYPES_USECS_PER_SEC % 60; f[6] = t.tod % TYPES_USECS_PER_SEC;
}

static int age_of(const builtin_ctx_t *ctx, int64_t a, int64_t b, datum_t *out, sql_error_t *err)
{
    if (ts_inf(a) || ts_inf(b))
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range");
    int64_t f1[7], f2[7], r[7];
    tm_of(a, f1);
    tm_of(b, f2);
    for (int i = 0; i < 7; i++) r[i] = f1[i] - f2[i];
    bool flip = a < b;
    if (flip) for (int i = 0; i < 7; i++) r[i] = -r[i];
    while (r[6] < 0) { r[6] += 1000000; r[5]--; }
    while (r[5] < 0) { r[5] += 60; r[4]--; }
    while (r[4] < 0) { r[4] += 60; r[3]--; }
    while (r[3] < 0) { r[3] += 24; r[2]--; }
    while (r[2] < 0) {
        if (flip) r[2] += mdays(f1[0], (int)f1[1]);
        else r[2] += mdays(f2[0], (int)f2[1]);
        r[1]--;
    }
    while (r[1] < 0) { r[1] += 12; r[0]--; }
    if (flip) for (int i = 0; i < 7; i++) r[i] = -r[i];
    int64_t time = ((r[3] * 60 + r[4]) * 60 + r[5]) * TYPES_USECS_PER_SEC + r[6];
    return ret_iv(ctx, time, r[2], r[0] * 12 + r[1], out, err);
}

BUILTIN_FN(bi_age)
{
    bool tz = argtypes[0] == TYPE_TIMESTAMPTZ;
    int64_t a, b;
    if (nargs == 2) { a = args[0].i64; b = args[1].i64; }
    else {
        int64_t today = floor_div(types_tstz_to_ts(ctz(ctx), ctx->txn_ts), USPD) * USPD;
        b = args[0].i64;
        a = today;
        if (tz && types_ts_to_tstz(ctz(ctx), today, &a, err) < 0) return -1;
    }
    if (tz) {
        if (!ts_inf(a)) a = types_tstz_to_ts(ctz(ctx), a);
        if (!ts_inf(b)) b = types_tstz_to_ts(ctz(ctx), b);
    }
    return age_of(ctx, a, b, out, err);
}

BUILTIN_FN(bi_justify_hours)
{
    types_interval_t s;
    ivget(args[0], &s);
    int64_t t = s.time, d = s.day;
    justify_hours(&t, &d);
    return ret_iv(ctx, t, d, s.month, out, err);
}

BUILTIN_FN(bi_justify_days)
{
    types_interval_t s;
    ivget(args[0], &s);
    int64_t d = s.day, m = s.month;
    int64_t whole = d / 30;
    d -= whole * 30;
    m += whole;
    if (m > 0 && d < 0) { d += 30; m--; }
    else if (m < 0 && d > 0) { d -= 30; m++; }
    return ret_iv(ctx, s.time, d, m, out, err);
}

BUILTIN_FN(bi_justify_interval)
{
    types_interval_t s;
    ivget(args[0], &s);
    int64_t m = s.month, d = s.day, t = s.time, w;
    if ((d > 0 && t > 0) || (d < 0 && t < 0)) { w = d / 30; d -= w * 30; m += w; }
    w = t / USPD; t -= w * USPD; d += w;
    w = d / 30; d -= w * 30; m += w;
    if (m > 0 && (d < 0 || (d == 0 && t < 0))) { d += 30; m--; }
    else if (m < 0 && (d > 0 || (d == 0 && t > 0))) { d -= 30; m++; }
    if (d > 0 && t < 0) { t += USPD; d--; }
    else if (d < 0 && t > 0) { t -= USPD; d++; }
    return ret_iv(ctx, t, d, m, out, err);
}

BUILTIN_FN(bi_isfinite)
{
    if (argtypes[0] == TYPE_INTERVAL) out->i64 = 1;
    else if (argtypes[0] == TYPE_DATE) out->i64 = !date_inf(args[0].i64);
    else out->i64 = !ts_inf(args[0].i64);
    return 0;
}

/* ---- make_* ---- */

static int make_date_days(int64_t y, int64_t m, int64_t d, int64_t *days, sql_error_t *err)
{
    int64_t ay = y < 0 ? y + 1 : y;
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > mdays(ay, (int)m) || ay < -4713 || ay > 5874897)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date field value out of range: %lld-%02lld-%02lld",
                         (long long)y, (long long)m, (long long)d);
    *days = types__days_from_civil(ay, (int)m, (int)d);
    return 0;
}

BUILTIN_FN(bi_make_date) { return make_date_days(args[0].i64, args[1].i64, args[2].i64, &out->i64, err); }

static int make_tod(int64_t h, int64_t mi, double sec, int64_t *tod, sql_error_t *err)
{
    if (h < 0 || mi < 0 || mi > 59 || !(sec >= 0) || sec > 60 || h > 24 ||
        (h == 24 && (mi > 0 || sec > 0)))
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "time field value out of range: %lld:%02lld:%02g",
                         (long long)h, (long long)mi, sec);
    *tod = (h * 3600 + mi * 60) * TYPES_USECS_PER_SEC + (int64_t)rint(sec * 1000000.0);
    return 0;
}

BUILTIN_FN(bi_make_time) { return make_tod(args[0].i64, args[1].i64, args[2].f64, &out->i64, err); }

BUILTIN_FN(bi_make_timestamp)
{
    int64_t days, tod;
    if (make_date_days(args[0].i64, args[1].i64, args[2].i64, &days, err) < 0 ||
        make_tod(args[3].i64, args[4].i64, args[5].f64, &tod, err) < 0)
        return -1;
    int64_t ts = days * USPD + tod;
    if (ts_range(ts, err) < 0) return -1;
    out->i64 = ts;
    return 0;
}

BUILTIN_FN(bi_make_timestamptz)
{
    int64_t ts;
    datum_t local;
    if (bi_make_timestamp(ctx, 6, args, nulls, argtypes, &local, isnull, err) < 0) return -1;
    ts = local.i64;
    const types_tz_t *tz = ctz(ctx);
    if (nargs == 7 && !(tz = zone_arg(args[6].s, err))) return -1;
    return types_ts_to_tstz(tz, ts, &out->i64, err);
}

BUILTIN_FN(bi_make_interval)
{
    int64_t v[6] = {0, 0, 0, 0, 0, 0};
    double secs = 0;
    for (int i = 0; i < nargs && i < 6; i++) v[i] = args[i].i64;
    if (nargs == 7) secs = args[6].f64;
    if (isinf(secs) || isnan(secs)) return iv_range(err);
    __int128 month = (__int128)v[0] * 12 + v[1], day = (__int128)v[2] * 7 + v[3];
    double t = (double)v[4] * 3600e6 + (double)v[5] * 60e6 + rint(secs * 1e6);
    if (month > INT32_MAX || month < INT32_MIN || day > INT32_MAX || day < INT32_MIN ||
        t >= 9223372036854775808.0 || t < -9223372036854775808.0)
        return iv_range(err);
    return ret_iv(ctx, (int64_t)t, (int64_t)day, (int64_t)month, out, err);
}

BUILTIN_FN(bi_to_timestamp_f8)
{
    double v = args[0].f64;
    if (isnan(v)) return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp cannot be NaN");
    if (isinf(v)) { out->i64 = v > 0 ? TYPES_TS_NOEND : TYPES_TS_NOBEGIN; return 0; }
    double us = rint((v - 946684800.0) * 1000000.0);
    if (!(us >= (double)TYPES_TS_MIN && us < (double)TYPES_TS_END))
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range: \"%g\"", v);
    out->i64 = (int64_t)us;
    return 0;
}

BUILTIN_FN(bi_date_bin)
{
    types_interval_t s;
    ivget(args[0], &s);
    int64_t ts = args[1].i64, origin = args[2].i64;
    if (ts_inf(ts)) { out->i64 = ts; return 0; }
    if (ts_inf(origin)) return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "origin out of range");
    if (s.month)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "timestamps cannot be binned into intervals containing months or years");
    int64_t stride, diff;
    if (__builtin_mul_overflow((int64_t)s.day, USPD, &stride) || __builtin_add_overflow(stride, s.time, &stride))
        return iv_range(err);
    if (stride <= 0) return sql_error(err, SQLSTATE_INVALID_PARAMETER, "stride must be greater than zero");
    if (__builtin_sub_overflow(ts, origin, &diff)) return iv_range(err);
    int64_t mod = diff % stride;
    int64_t r = origin + (diff - mod);
    if (mod < 0) r -= stride;
    out->i64 = r;
    return ts_range(r, err);
}

/* ---- extract / date_part on time and interval, date_trunc on interval ---- */

enum tunit { T_BAD, T_US, T_MS, T_SEC, T_MIN, T_HOUR, T_DAY, T_WEEK, T_MON, T_QTR, T_YEAR, T_DEC, T_CENT,
             T_MILL, T_EPOCH, T_OTHER };

static enum tunit tunit(const vstr_t *v, char *low, size_t cap)
{
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)v->data[i]);
    low[n] = 0;
    static const struct { const char *n; enum tunit u; } t[] = {
        {"microseconds", T_US}, {"microsecond", T_US}, {"us", T_US}, {"usec", T_US}, {"usecs", T_US},
        {"milliseconds", T_MS}, {"millisecond", T_MS}, {"ms", T_MS}, {"msec", T_MS}, {"msecs", T_MS},
        {"second", T_SEC}, {"seconds", T_SEC}, {"s", T_SEC}, {"sec", T_SEC}, {"secs", T_SEC},
        {"minute", T_MIN}, {"minutes", T_MIN}, {"m", T_MIN}, {"min", T_MIN}, {"mins", T_MIN},
        {"hour", T_HOUR}, {"hours", T_HOUR}, {"h", T_HOUR}, {"hr", T_HOUR}, {"hrs", T_HOUR},
        {"day", T_DAY}, {"days", T_DAY}, {"d", T_DAY}, {"week", T_WEEK}, {"weeks", T_WEEK}, {"w", T_WEEK},
        {"month", T_MON}, {"months", T_MON}, {"mon", T_MON}, {"mons", T_MON}, {"quarter", T_QTR},
        {"qtr", T_QTR}, {"year", T_YEAR}, {"years", T_YEAR}, {"y", T_YEAR}, {"yr", T_YEAR}, {"yrs", T_YEAR},
        {"decade", T_DEC}, {"decades", T_DEC}, {"dec", T_DEC}, {"decs", T_DEC}, {"century", T_CENT},
        {"centuries", T_CENT}, {"c", T_CENT}, {"cent", T_CENT}, {"millennium", T_MILL},
        {"millennia", T_MILL}, {"mil", T_MILL}, {"mils", T_MILL}, {"epoch", T_EPOCH}, {"dow", T_OTHER},
        {"isodow", T_OTHER}, {"doy", T_OTHER}, {"isoyear", T_OTHER}, {"julian", T_OTHER},
        {"timezone", T_OTHER}, {"timezone_h", T_OTHER}, {"timezone_m", T_OTHER},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(low, t[i].n)) return t[i].u;
    return T_BAD;
}

static int unit_err(const char *low, const char *tname, bool known, sql_error_t *err)
{
    if (known)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "unit \"%s\" not supported for type %s", low, tname);
    return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unit \"%s\" not recognized for type %s", low, tname);
}

static int fret(double v, datum_t *out) { out->f64 = v; return 0; }

BUILTIN_FN(bi_part_time)
{
    char low[64];
    enum tunit u = tunit(args[0].s, low, sizeof low);
    int64_t t = args[1].i64;
    switch (u) {
    case T_US: return fret((double)(t % 60000000), out);
    case T_MS: return fret((double)(t % 60000000) / 1000.0, out);
    case T_SEC: return fret((double)(t % 60000000) / 1000000.0, out);
    case T_MIN: return fret((double)(t / 60000000 % 60), out);
    case T_HOUR: return fret((double)(t / TYPES_USECS_PER_HOUR), out);
    case T_EPOCH: return fret((double)t / 1000000.0, out);
    default: return unit_err(low, "time without time zone", u != T_BAD, err);
    }
}

BUILTIN_FN(bi_part_interval)
{
    char low[64];
    enum tunit u = tunit(args[0].s, low, sizeof low);
    types_interval_t s;
    ivget(args[1], &s);
    int64_t y = s.month / 12, t = s.time;
    switch (u) {
    case T_US: return fret((double)(t % 60000000), out);
    case T_MS: return fret((double)(t % 60000000) / 1000.0, out);
    case T_SEC: return fret((double)(t % 60000000) / 1000000.0, out);
    case T_MIN: return fret((double)(t / 60000000 % 60), out);
    case T_HOUR: return fret((double)(t / TYPES_USECS_PER_HOUR), out);
    case T_DAY: return fret(s.day, out);
    case T_MON: return fret(s.month % 12, out);
    case T_QTR: return fret((double)((s.month % 12) / 3 + 1), out);
    case T_YEAR: return fret((double)y, out);
    case T_DEC: return fret((double)(y / 10), out);
    case T_CENT: return fret((double)(y / 100), out);
    case T_MILL: return fret((double)(y / 1000), out);
    case T_EPOCH:
        return fret((double)t / 1000000.0 +
                        (365.25 * (double)(s.month / 12) + 30.0 * (double)(s.month % 12) + (double)s.day) * 86400.0,
                    out);
    default: return unit_err(low, "interval", u != T_BAD, err);
    }
}

BUILTIN_FN(bi_trunc_interval)
{
    char low[64];
    enum tunit u = tunit(args[0].s, low, sizeof low);
    types_interval_t s;
    ivget(args[1], &s);
    int64_t m = s.month, d = s.day, t = s.time;
    switch (u) {
    case T_MILL: m = m / 12000 * 12000; d = 0; t = 0; break;
    case T_CENT: m = m / 1200 * 1200; d = 0; t = 0; break;
    case T_DEC: m = m / 120 * 120; d = 0; t = 0; break;
    case T_YEAR: m = m / 12 * 12; d = 0; t = 0; break;
    case T_QTR: m = m / 12 * 12 + (m % 12) / 3 * 3; d = 0; t = 0; break;
    case T_MON: d = 0; t = 0; break;
    case T_DAY: t = 0; break;
    case T_HOUR: t = t / TYPES_USECS_PER_HOUR * TYPES_USECS_PER_HOUR; break;
    case T_MIN: t = t / TYPES_USECS_PER_MINUTE * TYPES_USECS_PER_MINUTE; break;
    case T_SEC: t = t / TYPES_USECS_PER_SEC * TYPES_USECS_PER_SEC; break;
    case T_MS: t = t / 1000 * 1000; break;
    case T_US: break;
    case T_WEEK:
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "interval units \"%s\" not supported because months usually have fractional weeks", low);
    default:
        if (u == T_BAD)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "interval units \"%s\" not recognized", low);
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "interval units \"%s\" not supported", low);
    }
    return ret_iv(ctx, t, d, m, out, err);
}

/* extract(field from date): PostgreSQL 14+ refuses the time-of-day fields. */
BUILTIN_FN(bi_extract_date)
{
    char low[64];
    enum tunit u = tunit(args[0].s, low, sizeof low);
    if (u == T_US || u == T_MS || u == T_SEC || u == T_MIN || u == T_HOUR || (u == T_OTHER && !strncmp(low, "timezone", 8)))
        return unit_err(low, "date", true, err);
    datum_t a[2] = {args[0], args[1]};
    type_oid_t t[2] = {TYPE_TEXT, TYPE_DATE};
    return bi_date_part(ctx, 2, a, nulls, t, out, isnull, err);
}

/* ---- to_char ---- */

static const char *const month_names[] = {"January", "February", "March", "April", "May", "June", "July",
                                          "August", "September", "October", "November", "December"};
static const char *const day_names[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const roman[] = {"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"};

typedef struct fmt_tm {
    int64_t year, mon, mday, hour, min, sec, us, doy, days;
    int dow;                  /* 0 = Sunday */
    bool interval, has_tz;
    int32_t gmtoff;
    const char *abbr;
} fmt_tm_t;

/* Appends a name in the case style of the pattern (ALL CAPS, Capitalized, lower),
 * padded to width unless fm. */
static void put_name(strbuf_t *o, const char *name, int style, int abbrev, bool fm, int width)
{
    char buf[16];
    size_t n = strlen(name);
    if (abbrev && n > (size_t)abbrev) n = (size_t)abbrev;
    for (size_t i = 0; i < n; i++)
        buf[i] = style == 2 ? (char)toupper((unsigned char)name[i]) : style == 0 ? (char)tolower((unsigned char)name[i])
                                                                               : name[i];
    buf[n] = 0;
    if (fm || abbrev) strbuf_puts(o, buf);
    else strbuf_printf(o, "%-*s", width, buf);
}

static int case_style(const char *p)   /* 2 upper, 1 capitalized, 0 lower */
{
    if (isupper((unsigned char)p[0]) && isupper((unsigned char)p[1])) return 2;
    return isupper((unsigned char)p[0]) ? 1 : 0;
}

static void put_num(strbuf_t *o, int64_t v, int width, bool fm)
{
    if (fm) strbuf_printf(o, "%lld", (long long)v);
    else if (v < 0) strbuf_printf(o, "-%0*lld", width, (long long)-v);
    else strbuf_printf(o, "%0*lld", width, (long long)v);
}

static const char *ordinal(int64_t v)
{
    int64_t a = v < 0 ? -v : v;
    if (a % 100 >= 11 && a % 100 <= 13) return "th";
    switch (a % 10) { case 1: return "st"; case 2: return "nd"; case 3: return "rd"; default: return "th"; }
}

static void iso_week(int64_t days, int64_t *iyear, int64_t *iweek, int64_t *idoy)
{
    int isodow = (int)(((days + 6) % 7 + 7) % 7);   /* 0 = Sunday */
    isodow = isodow == 0 ? 7 : isodow;
    int64_t thursday = days - (isodow - 1) + 3, y;
    int m, d;
    types__civil_from_days(thursday, &y, &m, &d);
    *iyear = y;
    int64_t jan4 = types__days_from_civil(y, 1, 4);
    int j4dow = (int)(((jan4 + 6) % 7 + 7) % 7);
    j4dow = j4dow == 0 ? 7 : j4dow;
    int64_t week1 = jan4 - (j4dow - 1);
    *iweek = (days - week1) / 7 + 1;
    *idoy = days - week1 + 1;
}

static bool kw(const char **pp, const char *k)
{
    size_t n = strlen(k);
    if (strncasecmp(*pp, k, n)) return false;
    *pp += n;
    return true;
}

static void to_char_fmt(const fmt_tm_t *t, const char *f, size_t flen, strbuf_t *o)
{
    char fb[1024];
    size_t n = flen < sizeof fb - 1 ? flen : sizeof fb - 1;
    memcpy(fb, f, n);
    fb[n] = 0;
    const char *p = fb;
    int64_t ay = t->interval ? t->year : (t->year <= 0 ? 1 - t->year : t->year);
    while (*p) {
        bool fm = false;
        while (!strncasecmp(p, "FM", 2) || !strncasecmp(p, "FX", 2) || !strncasecmp(p, "TM", 2)) {
            if (toupper((unsigned char)p[1]) == 'M' && toupper((unsigned char)p[0]) == 'F') fm = true;
            p += 2;
        }
        if (!*p) break;
        const char *start = p;
        int64_t num = 0;
        int width = -1;
        bool numeric = true;
        size_t before = o->len;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                strbuf_putc(o, *p++);
            }
            if (*p) p++;
            continue;
        }
        if (*p == '\\' && p[1]) { strbuf_putc(o, p[1]); p += 2; continue; }
        if (kw(&p, "HH24")) { num = t->hour; width = 2; }
        else if (kw(&p, "HH12") || kw(&p, "HH")) {
            num = t->hour % 12 == 0 ? 12 : t->hour % 12; width = 2;
        } else if (kw(&p, "MI")) { num = t->min; width = 2; }
        else if (kw(&p, "SSSSS") || kw(&p, "SSSS")) { num = (t->hour * 60 + t->min) * 60 + t->sec; width = 0; }
        else if (kw(&p, "SS")) { num = t->sec; width = 2; }
        else if (kw(&p, "MS")) { num = t->us / 1000; width = 3; }
        else if (kw(&p, "US")) { num = t->us; width = 6; }
        else if (!strncmp(p, "A.M.", 4) || !strncmp(p, "P.M.", 4) || !strncmp(p, "a.m.", 4) || !strncmp(p, "p.m.", 4)) {
            bool up = isupper((unsigned char)*p);
            strbuf_puts(o, t->hour % 24 >= 12 ? (up ? "P.M." : "p.m.") : (up ? "A.M." : "a.m."));
            p += 4;
            numeric = false;
        } else if (!strncmp(p, "AM", 2) || !strncmp(p, "PM", 2) || !strncmp(p, "am", 2) || !strncmp(p, "pm", 2)) {
            bool up = isupper((unsigned char)*p);
            strbuf_puts(o, t->hour % 24 >= 12 ? (up ? "PM" : "pm") : (up ? "AM" : "am"));
            p += 2;
            numeric = false;
        } else if (!strncmp(p, "B.C.", 4) || !strncmp(p, "A.D.", 4) || !strncmp(p, "b.c.", 4) || !strncmp(p, "a.d.", 4)) {
            bool up = isupper((unsigned char)*p);
            strbuf_puts(o, t->year <= 0 ? (up ? "B.C." : "b.c.") : (up ? "A.D." : "a.d."));
            p += 4;
            numeric = false;
        } else if (!strncmp(p, "BC", 2) || !strncmp(p, "AD", 2) || !strncmp(p, "bc", 2) || !strncmp(p, "ad", 2)) {
            bool up = isupper((unsigned char)*p);
            strbuf_puts(o, t->year <= 0 ? (up ? "BC" : "bc") : (up ? "AD" : "ad"));
            p += 2;
            numeric = false;
        } else if (!strncasecmp(p, "MONTH", 5)) {
            if (t->mon >= 1 && t->mon <= 12) put_name(o, month_names[t->mon - 1], case_style(p), 0, fm, 9);
            p += 5;
            numeric = false;
        } else if (!strncasecmp(p, "MON", 3)) {
            if (t->mon >= 1 && t->mon <= 12) put_name(o, month_names[t->mon - 1], case_style(p), 3, fm, 3);
            p += 3;
            numeric = false;
        } else if (kw(&p, "MM")) { num = t->mon; width = 2; }
        else if (!strncasecmp(p, "DAY", 3)) {
            if (!t->interval) put_name(o, day_names[t->dow], case_style(p), 0, fm, 9);
            p += 3;
            numeric = false;
        } else if (!strncasecmp(p, "DY", 2)) {
            if (!t->interval) put_name(o, day_names[t->dow], case_style(p), 3, fm, 3);
            p += 2;
            numeric = false;
        } else if (kw(&p, "DDD")) { num = t->doy; width = 3; }
        else if (kw(&p, "DD")) { num = t->mday; width = 2; }
        else if (kw(&p, "D")) { num = t->dow + 1; width = 1; }
        else if (kw(&p, "Y,YYY")) {
            strbuf_printf(o, "%lld,%03lld", (long long)(ay / 1000), (long long)(ay % 1000));
            numeric = false;
        } else if (kw(&p, "YYYY")) { num = ay; width = ay >= 0 ? 4 : 5; }
        else if (kw(&p, "YYY")) { num = ay % 1000; width = 3; }
        else if (kw(&p, "YY")) { num = ay % 100; width = 2; }
        else if (kw(&p, "Y")) { num = ay % 10; width = 1; }
        else if (!strncasecmp(p, "IYYY", 4) || !strncasecmp(p, "IYY", 3) || !strncasecmp(p, "IY", 2) ||
                 !strncasecmp(p, "IDDD", 4) || !strncasecmp(p, "ID", 2) || !strncasecmp(p, "IW", 2) ||
                 !strncasecmp(p, "I", 1)) {
            int64_t iy, iw, idoy;
            iso_week(t->days, &iy, &iw, &idoy);
            int64_t aiy = iy <= 0 ? 1 - iy : iy;
            int isodow = t->dow == 0 ? 7 : t->dow;
            if (kw(&p, "IYYY")) { num = aiy; width = 4; }
            else if (kw(&p, "IYY")) { num = aiy % 1000; width = 3; }
            else if (kw(&p, "IDDD")) { num = idoy; width = 3; }
            else if (kw(&p, "IY")) { num = aiy % 100; width = 2; }
            else if (kw(&p, "ID")) { num = isodow; width = 1; }
            else if (kw(&p, "IW")) { num = iw; width = 2; }
            else { p++; num = aiy % 10; width = 1; }
        } else if (kw(&p, "WW")) { num = (t->doy - 1) / 7 + 1; width = 2; }
        else if (kw(&p, "W")) { num = (t->mday - 1) / 7 + 1; width = 1; }
        else if (kw(&p, "CC")) {
            num = t->interval ? t->year / 100 : t->year > 0 ? (t->year + 99) / 100 : -((99 - (t->year - 1)) / 100);
            width = 2;
        } else if (kw(&p, "Q")) { num = (t->mon - 1) / 3 + 1; width = 1; if (t->mon < 1) { numeric = false; } }
        else if (kw(&p, "J")) { num = t->days + 2451545; width = 1; }
        else if (!strncasecmp(p, "RM", 2)) {
            if (t->mon >= 1 && t->mon <= 12) {
                char r[8];
                snprintf(r, sizeof r, "%s", roman[t->mon - 1]);
                if (islower((unsigned char)p[0])) for (char *q = r; *q; q++) *q = (char)tolower((unsigned char)*q);
                if (fm) strbuf_puts(o, r); else strbuf_printf(o, "%-4s", r);
            }
            p += 2;
            numeric = false;
        } else if (!strncmp(p, "TZ", 2) || !strncmp(p, "tz", 2)) {
            if (t->has_tz && t->abbr) {
                for (const char *q = t->abbr; *q; q++)
                    strbuf_putc(o, p[0] == 't' ? (char)tolower((unsigned char)*q) : (char)toupper((unsigned char)*q));
            }
            p += 2;
            numeric = false;
        } else if (kw(&p, "OF")) {
            if (t->has_tz) {
                int32_t a = t->gmtoff < 0 ? -t->gmtoff : t->gmtoff;
                strbuf_printf(o, "%c%02d", t->gmtoff < 0 ? '-' : '+', a / 3600);
                if (a % 3600) strbuf_printf(o, ":%02d", a % 3600 / 60);
            }
            numeric = false;
        } else {
            strbuf_putc(o, *p++);
            continue;
        }
        if (numeric && width >= 0) put_num(o, num, width, fm);
        (void)before;
        (void)start;
        if (numeric && (!strncmp(p, "TH", 2) || !strncmp(p, "th", 2))) {
            const char *sfx = ordinal(num);
            if (p[0] == 'T') strbuf_printf(o, "%c%c", toupper((unsigned char)sfx[0]), toupper((unsigned char)sfx[1]));
            else strbuf_puts(o, sfx);
            p += 2;
        }
    }
}

static void fill_tm(int64_t ts, fmt_tm_t *t)
{
    dt_tm_t d;
    split(ts, &d);
    t->year = d.y; t->mon = d.m; t->mday = d.d; t->days = d.days;
    t->hour = d.tod / TYPES_USECS_PER_HOUR; t->min = d.tod / TYPES_USECS_PER_MINUTE % 60;
    t->sec = d.tod / TYPES_USECS_PER_SEC % 60; t->us = d.tod % TYPES_USECS_PER_SEC;
    t->doy = d.days - types__days_from_civil(d.y, 1, 1) + 1;
    t->dow = (int)(((d.days + 6) % 7 + 7) % 7);
}

BUILTIN_FN(bi_to_char_ts)
{
    int64_t ts = args[0].i64;
    if (ts_inf(ts)) { *isnull = true; return 0; }
    fmt_tm_t t = {0};
    if (argtypes[0] == TYPE_TIMESTAMPTZ) {
        const types_tz_t *tz = ctz(ctx);
        int64_t secs = floor_div(ts, TYPES_USECS_PER_SEC) + UNIX_EPOCH_DAYS * 86400;
        t.gmtoff = types_tz_offset(tz, secs, NULL, &t.abbr);
        t.has_tz = true;
        ts += (int64_t)t.gmtoff * TYPES_USECS_PER_SEC;
    }
    fill_tm(ts, &t);
    if (args[1].s->len == 0) { *isnull = true; return 0; }
    strbuf_t sb;
    strbuf_init(&sb);
    to_char_fmt(&t, args[1].s->data, args[1].s->len, &sb);
    int rc = sb.oom ? builtins__oom(err) : builtins__ret_str(ctx, sb.data ? sb.data : "", sb.len, out, err);
    strbuf_free(&sb);
    return rc;
}

BUILTIN_FN(bi_to_char_iv)
{
    types_interval_t s;
    ivget(args[0], &s);
    fmt_tm_t t = {.interval = true};
    t.year = s.month / 12; t.mon = s.month % 12; t.mday = s.day; t.doy = s.day;
    t.hour = s.time / TYPES_USECS_PER_HOUR; t.min = s.time / TYPES_USECS_PER_MINUTE % 60;
    t.sec = s.time / TYPES_USECS_PER_SEC % 60; t.us = s.time % TYPES_USECS_PER_SEC;
    if (args[1].s->len == 0) { *isnull = true; return 0; }
    strbuf_t sb;
    strbuf_init(&sb);
    to_char_fmt(&t, args[1].s->data, args[1].s->len, &sb);
    int rc = sb.oom ? builtins__oom(err) : builtins__ret_str(ctx, sb.data ? sb.data : "", sb.len, out, err);
    strbuf_free(&sb);
    return rc;
}

/* ---- to_timestamp(text, text) / to_date ---- */

typedef struct parse_tm { int64_t year, mon, mday, hour, min, sec, us; bool pm, has_ampm, hh12, bc, has_year; } parse_tm_t;

static int pf_err_int(const char *field, const char *p, sql_error_t *err)
{
    int n = 0;
    while (p[n] && !isspace((unsigned char)p[n]) && n < 32) n++;
    sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid value \"%.*s\" for \"%s\"", n, p, field);
    sql_error_detail(err, "Value must be an integer.");
    return -1;
}

/* Reads up to max digits (more when greedy) after optional spaces and a sign. */
static int pf_num(const char **pp, int max, bool greedy, const char *field, int64_t *v, sql_error_t *err)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    bool neg = false;
    if (*p == '-' && isdigit((unsigned char)p[1]) && !strcmp(field, "YYYY")) { neg = true; p++; }
    if (!isdigit((unsigned char)*p)) return pf_err_int(field, p, err);
    int64_t x = 0;
    int n = 0;
    while (isdigit((unsigned char)*p) && (n < max || (greedy && n < 9))) { x = x * 10 + (*p++ - '0'); n++; }
    *v = neg ? -x : x;
    *pp = p;
    return 0;
}

static int pf_name(const char **pp, const char *const *names, int count, bool abbrev, int64_t *idx)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    for (int i = 0; i < count; i++) {
        size_t n = abbrev ? 3 : strlen(names[i]);
        if (!strncasecmp(p, names[i], n)) { *idx = i; *pp = p + n; return 0; }
    }
    return -1;
}

static int to_ts_parse(const vstr_t *in, const vstr_t *fmt, parse_tm_t *t, sql_error_t *err)
{
    char ib[512], fb[512];
    if (in->len >= sizeof ib || fmt->len >= sizeof fb)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "to_timestamp input is too long");
    memcpy(ib, in->data, in->len); ib[in->len] = 0;
    memcpy(fb, fmt->data, fmt->len); fb[fmt->len] = 0;
    const char *p = ib, *f = fb;
    memset(t, 0, sizeof *t);
    t->year = 1; t->mon = 1; t->mday = 1;
    while (*f) {
        while (!strncasecmp(f, "FM", 2) || !strncasecmp(f, "FX", 2)) f += 2;
        if (!*f) break;
        int64_t v;
        const char *save = p;
        (void)save;
        if (*f == '"') {
            f++;
            while (*f && *f != '"') { if (*p) p++; f++; }
            if (*f) f++;
            continue;
        }
        if (kw(&f, "YYYY")) {
            if (pf_num(&p, 4, !isdigit((unsigned char)*f) && !isalpha((unsigned char)*f), "YYYY", &t->year, err) < 0) return -1;
            t->has_year = true;
        } else if (kw(&f, "YY")) {
            if (pf_num(&p, 2, false, "YY", &v, err) < 0) return -1;
            t->year = v < 70 ? 2000 + v : 1900 + v;
            t->has_year = true;
        } else if (kw(&f, "HH24")) { if (pf_num(&p, 2, false, "HH24", &t->hour, err) < 0) return -1; }
        else if (kw(&f, "HH12") || kw(&f, "HH")) {
            if (pf_num(&p, 2, false, "HH12", &t->hour, err) < 0) return -1;
            t->hh12 = true;
        } else if (kw(&f, "MI")) { if (pf_num(&p, 2, false, "MI", &t->min, err) < 0) return -1; }
        else if (kw(&f, "SS")) { if (pf_num(&p, 2, false, "SS", &t->sec, err) < 0) return -1; }
        else if (kw(&f, "MS")) {
            const char *q = p;
            if (pf_num(&p, 3, false, "MS", &v, err) < 0) return -1;
            while (*q == ' ') q++;
            for (long n = p - q; n < 3; n++) v *= 10;
            t->us += v * 1000;
        } else if (kw(&f, "US")) {
            const char *q = p;
            if (pf_num(&p, 6, false, "US", &v, err) < 0) return -1;
            while (*q == ' ') q++;
            for (long n = p - q; n < 6; n++) v *= 10;
            t->us += v;
        } else if (!strncasecmp(f, "AM", 2) || !strncasecmp(f, "PM", 2)) {
            while (*p == ' ') p++;
            if (strncasecmp(p, "AM", 2) && strncasecmp(p, "PM", 2))
                return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid value \"%.2s\" for \"%.2s\"", p, f);
            t->pm = toupper((unsigned char)*p) == 'P';
            t->has_ampm = true;
            p += 2; f += 2;
        } else if (!strncasecmp(f, "MONTH", 5) || !strncasecmp(f, "MON", 3)) {
            bool full = !strncasecmp(f, "MONTH", 5);
            if (pf_name(&p, month_names, 12, !full, &v) < 0)
                return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid value \"%.*s\" for \"%.*s\"",
                                 full ? 9 : 3, p, full ? 5 : 3, f);
            t->mon = v + 1;
            f += full ? 5 : 3;
        } else if (kw(&f, "MM")) { if (pf_num(&p, 2, false, "MM", &t->mon, err) < 0) return -1; }
        else if (!strncasecmp(f, "DAY", 3) || !strncasecmp(f, "DY", 2)) {
            bool full = !strncasecmp(f, "DAY", 3);
            if (pf_name(&p, day_names, 7, !full, &v) < 0)
                return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid value \"%.*s\" for \"%.*s\"",
                                 full ? 9 : 3, p, full ? 3 : 2, f);
            f += full ? 3 : 2;
        } else if (kw(&f, "DD")) { if (pf_num(&p, 2, false, "DD", &t->mday, err) < 0) return -1; }
        else if (!strncmp(f, "BC", 2) || !strncmp(f, "AD", 2) || !strncmp(f, "bc", 2) || !strncmp(f, "ad", 2)) {
            while (*p == ' ') p++;
            if (!strncasecmp(p, "BC", 2)) t->bc = true;
            else if (strncasecmp(p, "AD", 2))
                return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid value \"%.2s\" for \"%.2s\"", p, f);
            p += 2; f += 2;
        } else if (isalpha((unsigned char)*f) && (!strncasecmp(f, "TZ", 2) || !strncasecmp(f, "OF", 2) ||
                   !strncasecmp(f, "IW", 2) || !strncasecmp(f, "IYYY", 4) || !strncasecmp(f, "DDD", 3) ||
                   !strncasecmp(f, "WW", 2) || !strncasecmp(f, "Q", 1) || !strncasecmp(f, "J", 1) ||
                   !strncasecmp(f, "CC", 2) || !strncasecmp(f, "SSSS", 4) || !strncasecmp(f, "RM", 2))) {
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "to_timestamp / to_date pattern \"%.4s\" is not supported", f);
        } else if (*f == ' ') {
            while (*p == ' ') p++;
            f++;
        } else {
            /* a separator in the template matches one separator in the input, or none */
            if (*p && !isalnum((unsigned char)*p)) p++;
            f++;
        }
    }
    while (*p == ' ') p++;
    if (*p)
        return sql_error(err, SQLSTATE_INVALID_DATETIME, "trailing characters remain in input string after datetime format");
    if (t->hh12 || t->has_ampm) {
        if (t->hour < 1 || t->hour > 12) {
            sql_error(err, SQLSTATE_INVALID_DATETIME, "hour \"%lld\" is invalid for the 12-hour clock", (long long)t->hour);
            sql_error_hint(err, "Use the 24-hour clock, or give an hour between 1 and 12.");
            return -1;
        }
        if (t->pm && t->hour < 12) t->hour += 12;
        else if (!t->pm && t->hour == 12) t->hour = 0;
    }
    if (t->bc) t->year = 1 - t->year;
    else if (t->year < 0) t->year = t->year + 1;
    return 0;
}

static int to_ts_days(const parse_tm_t *t, const vstr_t *in, int64_t *days, sql_error_t *err)
{
    if (t->mon < 1 || t->mon > 12 || t->mday < 1 || t->mday > mdays(t->year, (int)t->mon) ||
        t->year < -4712 || t->year > 294276)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date/time field value out of range: \"%.*s\"",
                         (int)(in->len > 256 ? 256 : in->len), in->data);
    *days = types__days_from_civil(t->year, (int)t->mon, (int)t->mday);
    return 0;
}

BUILTIN_FN(bi_to_date)
{
    parse_tm_t t;
    if (to_ts_parse(args[0].s, args[1].s, &t, err) < 0 || to_ts_days(&t, args[0].s, &out->i64, err) < 0)
        return -1;
    return 0;
}

BUILTIN_FN(bi_to_timestamp_text)
{
    parse_tm_t t;
    int64_t days = 0;
    if (to_ts_parse(args[0].s, args[1].s, &t, err) < 0 || to_ts_days(&t, args[0].s, &days, err) < 0)
        return -1;
    if (t.hour > 24 || t.min > 59 || t.sec > 60)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date/time field value out of range: \"%.*s\"",
                         (int)(args[0].s->len > 256 ? 256 : args[0].s->len), args[0].s->data);
    int64_t ts = days * USPD + ((t.hour * 60 + t.min) * 60 + t.sec) * TYPES_USECS_PER_SEC + t.us;
    if (ts_range(ts, err) < 0) return -1;
    return types_ts_to_tstz(ctz(ctx), ts, &out->i64, err);
}

/* ---- the table ---- */

#define T TYPE_TEXT
#define B TYPE_BOOL
const builtin_t builtins_time[] = {
    /* operators under their pg_proc names */
    {"date_pli", 1086, 2, {D, I4}, D, true, 'i', bi_date_pli},
    {"integer_pl_date", 2555, 2, {I4, D}, D, true, 'i', bi_date_pli},
    {"date_mii", 1090, 2, {D, I4}, D, true, 'i', bi_date_mii},
    {"date_mi", 1140, 2, {D, D}, I4, true, 'i', bi_date_mi},
    {"datetime_pl", 1272, 2, {D, TM}, TS, true, 'i', bi_datetime_pl},
    {"timedate_pl", 2563, 2, {TM, D}, TS, true, 'i', bi_datetime_pl},
    {"date_pl_interval", 2071, 2, {D, IV}, TS, true, 'i', bi_ts_pl_interval},
    {"interval_pl_date", 2546, 2, {IV, D}, TS, true, 'i', bi_ts_pl_interval},
    {"date_mi_interval", 2072, 2, {D, IV}, TS, true, 'i', bi_ts_mi_interval},
    {"timestamp_pl_interval", 2032, 2, {TS, IV}, TS, true, 'i', bi_ts_pl_interval},
    {"interval_pl_timestamp", 2553, 2, {IV, TS}, TS, true, 'i', bi_ts_pl_interval},
    {"timestamp_mi_interval", 2033, 2, {TS, IV}, TS, true, 'i', bi_ts_mi_interval},
    {"timestamptz_pl_interval", 1189, 2, {TZ, IV}, TZ, true, 's', bi_ts_pl_interval},
    {"interval_pl_timestamptz", 2548, 2, {IV, TZ}, TZ, true, 's', bi_ts_pl_interval},
    {"timestamptz_mi_interval", 1190, 2, {TZ, IV}, TZ, true, 's', bi_ts_mi_interval},
    {"timestamp_mi", 2031, 2, {TS, TS}, IV, true, 'i', bi_timestamp_mi},
    {"timestamptz_mi", 1188, 2, {TZ, TZ}, IV, true, 'i', bi_timestamp_mi},
    {"time_mi_time", 1690, 2, {TM, TM}, IV, true, 'i', bi_time_mi_time},
    {"time_pl_interval", 1747, 2, {TM, IV}, TM, true, 'i', bi_time_pl_interval},
    {"interval_pl_time", 2552, 2, {IV, TM}, TM, true, 'i', bi_time_pl_interval},
    {"time_mi_interval", 1748, 2, {TM, IV}, TM, true, 'i', bi_time_mi_interval},
    {"interval_pl", 1169, 2, {IV, IV}, IV, true, 'i', bi_interval_pl},
    {"interval_mi", 1170, 2, {IV, IV}, IV, true, 'i', bi_interval_mi},
    {"interval_um", 1168, 1, {IV}, IV, true, 'i', bi_interval_um},
    {"interval_pl_unary", 0, 1, {IV}, IV, true, 'i', bi_interval_pl_unary},
    {"interval_mul", 1618, 2, {IV, F8}, IV, true, 'i', bi_interval_mul},
    {"mul_d_interval", 1624, 2, {F8, IV}, IV, true, 'i', bi_interval_mul},
    {"interval_div", 1326, 2, {IV, F8}, IV, true, 'i', bi_interval_div},

    /* current values (CURRENT_DATE, LOCALTIMESTAMP, LOCALTIME: no pg_proc entries) */
    {"current_date", 0, 0, {0}, D, true, 's', bi_current_date},
    {"localtimestamp", 0, 0, {0}, TS, true, 's', bi_localtimestamp},
    {"localtimestamp", 0, 1, {I4}, TS, true, 's', bi_localtimestamp},
    {"localtime", 0, 0, {0}, TM, true, 's', bi_localtime},
    {"localtime", 0, 1, {I4}, TM, true, 's', bi_localtime},
    {"now_precision", 0, 1, {I4}, TZ, true, 's', bi_now_prec},

    {"timezone", 2070, 2, {T, TS}, TZ, true, 'i', bi_timezone},
    {"timezone", 1159, 2, {T, TZ}, TS, true, 'i', bi_timezone},
    {"timezone", 2069, 2, {IV, TS}, TZ, true, 'i', bi_timezone},
    {"timezone", 1026, 2, {IV, TZ}, TS, true, 'i', bi_timezone},

    {"age", 2058, 2, {TS, TS}, IV, true, 'i', bi_age},
    {"age", 1199, 2, {TZ, TZ}, IV, true, 's', bi_age},
    {"age", 2059, 1, {TS}, IV, true, 's', bi_age},
    {"age", 1290, 1, {TZ}, IV, true, 's', bi_age},
    {"justify_days", 1295, 1, {IV}, IV, true, 'i', bi_justify_days},
    {"justify_hours", 1175, 1, {IV}, IV, true, 'i', bi_justify_hours},
    {"justify_interval", 2711, 1, {IV}, IV, true, 'i', bi_justify_interval},
    {"isfinite", 1373, 1, {D}, B, true, 'i', bi_isfinite},
    {"isfinite", 2048, 1, {TS}, B, true, 'i', bi_isfinite},
    {"isfinite", 1389, 1, {TZ}, B, true, 'i', bi_isfinite},
    {"isfinite", 1390, 1, {IV}, B, true, 'i', bi_isfinite},

    {"make_date", 3846, 3, {I4, I4, I4}, D, true, 'i', bi_make_date},
    {"make_time", 3847, 3, {I4, I4, F8}, TM, true, 'i', bi_make_time},
    {"make_timestamp", 3461, 6, {I4, I4, I4, I4, I4, F8}, TS, true, 'i', bi_make_timestamp},
    {"make_timestamptz", 3462, 6, {I4, I4, I4, I4, I4, F8}, TZ, true, 's', bi_make_timestamptz},
    {"make_timestamptz", 3463, 7, {I4, I4, I4, I4, I4, F8, T}, TZ, true, 's', bi_make_timestamptz},
    {"make_interval", 3464, 7, {I4, I4, I4, I4, I4, I4, F8}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 6, {I4, I4, I4, I4, I4, I4}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 5, {I4, I4, I4, I4, I4}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 4, {I4, I4, I4, I4}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 3, {I4, I4, I4}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 2, {I4, I4}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 1, {I4}, IV, true, 'i', bi_make_interval},
    {"make_interval", 3464, 0, {0}, IV, true, 'i', bi_make_interval},
    {"to_timestamp", 1158, 1, {F8}, TZ, true, 'i', bi_to_timestamp_f8},
    {"to_timestamp", 1778, 2, {T, T}, TZ, true, 's', bi_to_timestamp_text},
    {"to_date", 1780, 2, {T, T}, D, true, 's', bi_to_date},
    {"date_bin", 6177, 3, {IV, TS, TS}, TS, true, 'i', bi_date_bin},
    {"date_bin", 6178, 3, {IV, TZ, TZ}, TZ, true, 'i', bi_date_bin},

    {"date_part", 1385, 2, {T, TM}, F8, true, 'i', bi_part_time},
    {"date_part", 1172, 2, {T, IV}, F8, true, 'i', bi_part_interval},
    {"date_trunc", 1218, 2, {T, IV}, IV, true, 'i', bi_trunc_interval},
    {"date_trunc", 1284, 3, {T, TZ, T}, TZ, true, 's', bi_date_trunc},
    /* extract returns numeric (PostgreSQL 14+; sql/builtins_extract.c) */
    {"extract", 6199, 2, {T, D}, TYPE_NUMERIC, true, 'i', bi_extract_num_date},
    {"extract", 6200, 2, {T, TM}, TYPE_NUMERIC, true, 'i', bi_extract_num_time},
    {"extract", 6202, 2, {T, TS}, TYPE_NUMERIC, true, 'i', bi_extract_num_ts},
    {"extract", 6203, 2, {T, TZ}, TYPE_NUMERIC, true, 's', bi_extract_num_tz},
    {"extract", 6204, 2, {T, IV}, TYPE_NUMERIC, true, 'i', bi_extract_num_interval},

    {"to_char", 2049, 2, {TS, T}, T, true, 's', bi_to_char_ts},
    {"to_char", 1770, 2, {TZ, T}, T, true, 's', bi_to_char_ts},
    {"to_char", 1768, 2, {IV, T}, T, true, 's', bi_to_char_iv},
};
const int builtins_time_count = (int)(sizeof builtins_time / sizeof builtins_time[0]);
