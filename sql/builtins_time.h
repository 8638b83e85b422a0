/*
 * builtins_time.h -- date/time operators and functions (builtins_time.c).
 *
 * Model: the operators on date, time, timestamp, timestamptz and interval are
 * functions under PostgreSQL's pg_proc names (date_pli, timestamp_mi_interval, ...);
 * builtins_time_operator maps an operator and its operand types to that function
 * name, following PostgreSQL's operator resolution in small (exact match, an unknown
 * operand taken as the other operand's type, a unique candidate, implicit casts).
 * The functions (age, make_*, justify_*, to_char, date_bin, AT TIME ZONE, extract on
 * time and interval, ...) sit in builtins_time[], which builtins.c appends to its
 * table.
 *
 * Thread: any; tables immutable.
 */
#ifndef NEXTDB_BUILTINS_TIME_H
#define NEXTDB_BUILTINS_TIME_H
#include "sql/builtins.h"

/* True when t is one of the date/time types (operators on them go through here). */
bool builtins_time_type(type_oid_t t);
/* The function implementing `l op r` (l TYPE_INVALID: prefix operator), or NULL when
 * none; *ambiguous is set when several fit equally (42725). */
const char *builtins_time_operator(const char *op, type_oid_t l, type_oid_t r, bool *ambiguous);

/* ts + iv (tz non-NULL: ts is a timestamptz, days and months apply in that zone's
 * local time); 22008 when out of range. generate_series over timestamps uses it. */
struct types_interval;
struct types_tz;
int builtins_time_ts_add(int64_t ts, const struct types_interval *iv, const struct types_tz *tz, int64_t *out,
                         sql_error_t *err);

extern const builtin_t builtins_time[];
extern const int builtins_time_count;
#endif
