/*
 * types_time.h -- PostgreSQL's date/time types beyond the basic date/timestamp forms
 * of types_io.c: time, interval, time zones (the TimeZone setting, IANA zones read
 * from the system's TZif files, fixed offsets and POSIX TZ rules), timestamptz in
 * the session zone, calendar arithmetic shared by the operators and functions of
 * builtins_time.c.
 *
 * Why: timestamptz text forms, casts between date / timestamp / timestamptz, and
 * date_trunc / extract / to_char on timestamptz depend on the session's zone, with
 * daylight-saving rules; interval arithmetic has PostgreSQL's month/day/time model.
 *
 * Model:
 *   - time: datum i64 microseconds since midnight (0 .. 86400000000 inclusive).
 *   - interval: datum s -> vstr_t of 16 bytes holding a types_interval_t {time us,
 *     day, month} in native byte order (rows store it as a variable-length value).
 *     Comparison and hashing use PostgreSQL's normalised span (month = 30 days,
 *     day = 24 hours) in 128 bits, so '1 mon' = '30 days'.
 *   - A zone (types_tz_t) is immutable once loaded and lives for the whole process
 *     (a bounded process-wide cache, LIMIT_TZ_CACHED), so any thread may read it.
 *     The zone that text I/O and casts use is a per-thread "current zone" that the
 *     session sets when a statement starts and the evaluator re-sets from
 *     builtin_ctx_t.tz before evaluating each expression node (statements run in
 *     fibers that may suspend; every user sets it before using it).
 *
 * Interface:
 *   types_tz_load        validate + load a zone by TimeZone value, canonical name
 *   types_tz_utc         the UTC zone
 *   types_tz_use / types_tz_current   the calling thread's current zone
 *   types_tz_offset      offset (seconds east) at a UTC instant, with dst / abbrev
 *   types_tz_local_to_utc PostgreSQL's DetermineTimeZoneOffset for a local time
 *   types_interval_*     make / read interval datums, text in/out
 *   types_time_*         text in/out of time, typmod rounding
 *
 * Thread: any (the zone cache takes a mutex).
 */
#ifndef NEXTDB_TYPES_TIME_H
#define NEXTDB_TYPES_TIME_H
#include <stdbool.h>
#include <stdint.h>
#include "sql/types.h"

typedef struct types_interval { int64_t time; int32_t day; int32_t month; } types_interval_t;
typedef struct types_tz types_tz_t;

#define TYPES_USECS_PER_HOUR   INT64_C(3600000000)
#define TYPES_USECS_PER_MINUTE INT64_C(60000000)
#define TYPES_USECS_PER_SEC    INT64_C(1000000)

/* Resolves a TimeZone setting value ("UTC", "Europe/Berlin", "-7", "+05:30",
 * "EST5EDT", "UTC+3", ...) to a loaded zone; writes PostgreSQL's canonical spelling
 * of the setting into canon (cap bytes). NULL + 22023 if unknown. */
const types_tz_t *types_tz_load(const char *value, char *canon, size_t cap, sql_error_t *err);
const types_tz_t *types_tz_utc(void);
void types_tz_use(const types_tz_t *tz);
const types_tz_t *types_tz_current(void);
/* Offset east of UTC in seconds at UTC instant t (seconds since 1970); *dst / *abbr
 * may be NULL. */
int32_t types_tz_offset(const types_tz_t *tz, int64_t t, bool *dst, const char **abbr);
/* Offset east of UTC for local time t (seconds since 1970, read as local). */
int32_t types_tz_local_to_utc(const types_tz_t *tz, int64_t t);
/* timestamp (local) <-> timestamptz (UTC) in zone tz; infinities pass through. */
int types_ts_to_tstz(const types_tz_t *tz, int64_t ts, int64_t *out, sql_error_t *err);
int64_t types_tstz_to_ts(const types_tz_t *tz, int64_t tstz);
/* Text in/out of timestamptz in the current zone (ISO). */
void types_tstz_out(int64_t ts, strbuf_t *out);

/* Interval datums. */
int types_interval_make(arena_t *a, const types_interval_t *iv, datum_t *out, sql_error_t *err);
void types_interval_get(datum_t d, types_interval_t *iv);
int types_interval_in(const char *s, size_t len, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err);
void types_interval_out(datum_t d, strbuf_t *out);
int types_interval_cmp(datum_t a, datum_t b);
uint64_t types_interval_hash(datum_t d);
int types_interval_recv(const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void types_interval_send(datum_t d, strbuf_t *out);

/* time of day */
int types_time_in(const char *s, size_t len, int32_t typmod, int64_t *out, sql_error_t *err);
void types_time_out(int64_t t, strbuf_t *out);
/* Rounds microseconds to typmod fractional digits (typmod < 0 or >= 6: as is). */
int64_t types_round_usec(int64_t us, int32_t typmod);
/* Applies a timestamp / timestamptz / time typmod (22008 if rounding overflows). */
int types_datetime_typmod(type_oid_t t, int32_t typmod, int64_t *v, sql_error_t *err);
/* Casts among date, time, timestamp, timestamptz and interval (value casts, not
 * text); -1 + error when not one of those. */
int types_time_cast(type_oid_t from, type_oid_t to, datum_t in, arena_t *a, datum_t *out, sql_error_t *err);
bool types_time_castable(type_oid_t from, type_oid_t to);
#endif
