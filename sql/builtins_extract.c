/*
 * builtins_extract.c -- extract(field FROM date / time / timestamp / timestamptz /
 * interval) returning numeric, as PostgreSQL 14+ does (date_part keeps returning
 * double precision, builtins_num.c / builtins_time.c).
 *
 * The fields and their errors come from the date_part implementations; here the
 * result becomes numeric with PostgreSQL's scales: microseconds 0, milliseconds 3,
 * second 6 (from the exact microsecond count), epoch 6 (of date: 0; computed from
 * the exact int64 microseconds, PostgreSQL's int64_div_fast_to_numeric), julian of a
 * timestamp the day number plus the numeric quotient of the microseconds of the day
 * by a day's, and every other field an integer. Infinite inputs give +-Infinity for
 * the fields that grow with time and NULL for the others, as date_part decides.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "sql/builtins_int.h"
#include "sql/numeric.h"
#include "sql/types_time.h"

#define USECS_PER_DAY INT64_C(86400000000)

enum xf { XF_OTHER, XF_US, XF_MS, XF_SEC, XF_EPOCH, XF_JULIAN };

static enum xf field_of(const vstr_t *v)
{
    char low[32];
    if (v->len >= sizeof low)
        return XF_OTHER;
    for (uint32_t i = 0; i < v->len; i++)
        low[i] = (char)tolower((unsigned char)v->data[i]);
    low[v->len] = 0;
    static const struct { const char *n; enum xf f; } t[] = {
        {"microseconds", XF_US}, {"microsecond", XF_US}, {"us", XF_US}, {"usec", XF_US}, {"usecs", XF_US},
        {"milliseconds", XF_MS}, {"millisecond", XF_MS}, {"ms", XF_MS}, {"msec", XF_MS}, {"msecs", XF_MS},
        {"second", XF_SEC}, {"seconds", XF_SEC}, {"s", XF_SEC}, {"sec", XF_SEC}, {"secs", XF_SEC},
        {"epoch", XF_EPOCH}, {"julian", XF_JULIAN},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(low, t[i].n))
            return t[i].f;
    return XF_OTHER;
}

/* v / 10^scale as numeric with that display scale. */
static int scaled(const builtin_ctx_t *ctx, __int128 v, int scale, datum_t *out, sql_error_t *err)
{
    uint8_t digits[48];
    num_t x = {.kind = NUM_FINITE, .neg = v < 0, .scale = scale, .d = digits};
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    while (u) {
        digits[x.n++] = (uint8_t)(u % 10);
        u /= 10;
    }
    if (x.n == 0)
        x.neg = false;
    return numeric_pack(&x, ctx->arena, out, err);
}

static int special(const builtin_ctx_t *ctx, double f, datum_t *out, sql_error_t *err)
{
    const char *s = f > 0 ? "Infinity" : "-Infinity";
    return numeric_in(s, strlen(s), ctx->arena, out, err);
}

/* The date_part value f (already computed, finite or infinite) as numeric. */
static int from_part(const builtin_ctx_t *ctx, double f, datum_t *out, sql_error_t *err)
{
    if (isinf(f))
        return special(ctx, f, out, err);
    return scaled(ctx, (__int128)f, 0, out, err);
}

typedef int (*part_fn)(const builtin_ctx_t *, int, const datum_t *, const bool *, const type_oid_t *, datum_t *,
                       bool *, sql_error_t *);

/* date_part's answer for `unit` over args[1]. */
static int part(part_fn fn, const builtin_ctx_t *ctx, const char *unit, const datum_t *args, const bool *nulls,
                const type_oid_t *argtypes, double *f, bool *isnull, sql_error_t *err)
{
    uint8_t buf[sizeof(vstr_t) + 16] __attribute__((aligned(8)));
    vstr_t *v = (vstr_t *)(void *)buf;
    v->len = (uint32_t)strlen(unit);
    memcpy(v->data, unit, v->len);
    datum_t a[2] = {{.s = v}, args[1]};
    datum_t o;
    if (fn(ctx, 2, a, nulls, argtypes, &o, isnull, err) < 0)
        return -1;
    *f = o.f64;
    return 0;
}

/* Microseconds within the minute (seconds field * 10^6 + fraction), exact. */
static int usec_field(part_fn fn, const builtin_ctx_t *ctx, const datum_t *args, const bool *nulls,
                      const type_oid_t *argtypes, double *f, bool *isnull, sql_error_t *err)
{
    return part(fn, ctx, "microseconds", args, nulls, argtypes, f, isnull, err);
}

static int extract_with(part_fn fn, int kind, const builtin_ctx_t *ctx, const datum_t *args, const bool *nulls,
                        const type_oid_t *argtypes, datum_t *out, bool *isnull, sql_error_t *err)
{
    double f;
    datum_t o;
    /* date_part validates the unit for the type and decides infinite inputs */
    if (fn(ctx, 2, args, nulls, argtypes, &o, isnull, err) < 0) {
        if (kind == 'd' && !strcmp(err->sqlstate, SQLSTATE_INVALID_PARAMETER)) {
            /* date_part of a date reads it as a timestamp; extract names the date */
            char low[64];
            const vstr_t *u = args[0].s;
            size_t n = u->len < sizeof low - 1 ? u->len : sizeof low - 1;
            for (size_t i = 0; i < n; i++)
                low[i] = (char)tolower((unsigned char)u->data[i]);
            low[n] = 0;
            memset(err, 0, sizeof *err);
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unit \"%s\" not recognized for type date", low);
        }
        return -1;
    }
    if (*isnull)
        return 0;
    f = o.f64;
    if (isinf(f))
        return special(ctx, f, out, err);
    enum xf x = field_of(args[0].s);
    switch (x) {
    case XF_US:
    case XF_MS:
    case XF_SEC: {
        double us;
        if (usec_field(fn, ctx, args, nulls, argtypes, &us, isnull, err) < 0)
            return -1;
        return scaled(ctx, (__int128)us, x == XF_US ? 0 : x == XF_MS ? 3 : 6, out, err);
    }
    case XF_EPOCH:
        if (kind == 'd')
            return from_part(ctx, f, out, err);
        if (kind == 't')                          /* time: microseconds since midnight */
            return scaled(ctx, args[1].i64, 6, out, err);
        if (kind == 'i') {
            types_interval_t iv;
            types_interval_get(args[1], &iv);
            __int128 secs = (__int128)31557600 * (iv.month / 12) + (__int128)2592000 * (iv.month % 12) +
                            (__int128)86400 * iv.day;
            return scaled(ctx, secs * 1000000 + iv.time, 6, out, err);
        }
        /* timestamp / timestamptz: microseconds since 1970 */
        return scaled(ctx, (__int128)args[1].i64 + INT64_C(946684800000000), 6, out, err);
    case XF_JULIAN: {
        if (kind == 'd')
            return from_part(ctx, f, out, err);
        int64_t ts = args[1].i64;
        if (kind == 'z') {
            double off;
            if (part(fn, ctx, "timezone", args, nulls, argtypes, &off, isnull, err) < 0)
                return -1;
            ts += (int64_t)off * 1000000;
        }
        int64_t days = ts / USECS_PER_DAY, tod = ts % USECS_PER_DAY;
        if (tod < 0) {
            tod += USECS_PER_DAY;
            days--;
        }
        datum_t d, n, q, den;
        if (scaled(ctx, (__int128)days + 2451545, 0, &d, err) < 0 || scaled(ctx, tod, 0, &n, err) < 0 ||
            scaled(ctx, USECS_PER_DAY, 0, &den, err) < 0 ||
            numeric_arith(ARITH_DIV, n, den, ctx->arena, &q, err) < 0)
            return -1;
        return numeric_arith(ARITH_ADD, d, q, ctx->arena, out, err);
    }
    default:
        return from_part(ctx, f, out, err);
    }
}

BUILTIN_FN(bi_extract_num_date) { return extract_with(bi_extract_date, 'd', ctx, args, nulls, argtypes, out, isnull, err); }
BUILTIN_FN(bi_extract_num_time) { return extract_with(bi_part_time, 't', ctx, args, nulls, argtypes, out, isnull, err); }
BUILTIN_FN(bi_extract_num_ts) { return extract_with(bi_date_part, 's', ctx, args, nulls, argtypes, out, isnull, err); }
BUILTIN_FN(bi_extract_num_tz) { return extract_with(bi_date_part, 'z', ctx, args, nulls, argtypes, out, isnull, err); }
BUILTIN_FN(bi_extract_num_interval)
{
    return extract_with(bi_part_interval, 'i', ctx, args, nulls, argtypes, out, isnull, err);
}
