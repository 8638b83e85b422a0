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

extern const builtin_t builtins_time[];
extern const int builtins_time_count;
#endif
