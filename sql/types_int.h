/*
 * types_int.h -- internals shared by the files of the types module.
 *
 * Why: the module is split by concern (types.c: the type table, comparison, hashing,
 * casts, arithmetic; types_io.c: text and binary forms; types_enc.c: key and row
 * encodings). These helpers cross those files and are not part of the contract in
 * types.h.
 *
 * Interface:
 *   types__is_string       text-like types whose datum is a vstr_t
 *   types__sql_name        format_type() name of a type oid ("integer")
 *   types__char_count      number of UTF-8 characters in a byte string
 *   types__float_out       PostgreSQL 12+ shortest float text
 *   types__timestamp_out   ISO text of a timestamp (optionally with "+00")
 *   types__date_out        ISO text of a date
 *   types__apply_typmod    varchar/bpchar length rules (check, truncate, pad)
 *   types__trim_bpchar     length of a bpchar without its trailing spaces
 *   types__in_text         text input, optionally truncating (explicit casts)
 *   types__hash_bytes/u64  the stable hash behind type_hash
 *
 * Thread: any; no state.
 */
#ifndef NEXTDB_TYPES_INT_H
#define NEXTDB_TYPES_INT_H
#include "sql/types.h"

/* Microseconds per day and the PostgreSQL datetime range (Julian day 0 = 4714-11-24
 * BC up to 294277-01-01 for timestamps; up to 5874898-01-01 for dates). */
#define TYPES_USECS_PER_DAY      INT64_C(86400000000)
#define TYPES_TS_MIN             INT64_C(-211813488000000000)
#define TYPES_TS_END             INT64_C(9223371331200000000)
#define TYPES_TS_NOBEGIN         INT64_MIN
#define TYPES_TS_NOEND           INT64_MAX
#define TYPES_DATE_MIN           INT64_C(-2451545)
#define TYPES_DATE_END           INT64_C(2145031949)
#define TYPES_DATE_NOBEGIN       INT64_C(-2147483648)
#define TYPES_DATE_NOEND         INT64_C(2147483647)

bool types__is_string(type_oid_t t);
/* Casts to or from numeric (types_numeric.c): 0 done, -1 error, 1 not handled here. */
int types__numeric_cast(type_oid_t from, type_oid_t to, int32_t to_typmod, datum_t in, arena_t *a,
                        datum_t *out, sql_error_t *err);
const char *types__sql_name(type_oid_t t);
size_t types__char_count(const char *s, size_t len);
void types__float_out(double v, bool is_float4, strbuf_t *out);
void types__timestamp_out(int64_t ts, bool with_tz, strbuf_t *out);
void types__date_out(int64_t days, strbuf_t *out);
size_t types__trim_bpchar(const char *s, size_t len);
/* Applies a varchar/bpchar typmod to s[0..len): out_len and pad receive the bytes to
 * keep and the spaces to append (bpchar). `truncate` (explicit casts) cuts silently;
 * otherwise excess characters that are not all spaces raise 22001. */
int types__apply_typmod(type_oid_t t, int32_t typmod, const char *s, size_t len,
                        bool truncate, size_t *out_len, size_t *pad, sql_error_t *err);
/* type_in_text with the explicit-cast option of cutting over-long varchar/bpchar. */
int types__in_text(type_oid_t t, int32_t typmod, const char *s, size_t len, bool truncate,
                   arena_t *a, datum_t *out, sql_error_t *err);
/* 64-bit hash of bytes (stable across versions: shard placement depends on it). */
uint64_t types__hash_bytes(const void *p, size_t len, uint64_t seed);
uint64_t types__hash_u64(uint64_t v);
/* Civil date <-> days since 2000-01-01 (proleptic Gregorian; year 0 = 1 BC). */
int64_t types__days_from_civil(int64_t y, int m, int d);
void types__civil_from_days(int64_t days, int64_t *y, int *m, int *d);
#endif
