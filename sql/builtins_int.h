/*
 * builtins_int.h -- internals shared by the files of the builtins module.
 *
 * Why: the module is split by family: builtins.c (the table and overload
 * resolution), builtins_str.c (string functions), builtins_num.c (math, date/time
 * and session functions). The table in builtins.c names functions defined in the
 * other two files; they are declared here.
 *
 * Interface:
 *   BUILTIN_FN(name)        declares/defines one row-at-a-time implementation
 *   builtins__ret_str       copies bytes into the result arena as a text datum
 *   builtins__oom           reports 53200
 *   (builtins_array.c: array functions, the array argument declared "any")
 *
 * Thread: any; no state except random()'s per-thread generator.
 */
#ifndef NEXTDB_BUILTINS_INT_H
#define NEXTDB_BUILTINS_INT_H
#include "sql/builtins.h"

#define BUILTIN_FN(fname)                                                                  \
    int fname(const builtin_ctx_t *ctx, int nargs, const datum_t *args, const bool *nulls, \
              const type_oid_t *argtypes, datum_t *out, bool *isnull, sql_error_t *err)

int builtins__oom(sql_error_t *err);
int builtins__ret_str(const builtin_ctx_t *ctx, const char *p, size_t n, datum_t *out, sql_error_t *err);

/* builtins_time.c: date_part / extract of time, interval, date (double precision) */
BUILTIN_FN(bi_part_time); BUILTIN_FN(bi_part_interval); BUILTIN_FN(bi_extract_date);
/* builtins_time.c: interval_pl, interval_div (sum / avg of interval, exec_agg_ext.c) */
BUILTIN_FN(bi_interval_pl); BUILTIN_FN(bi_interval_div);
/* builtins_width.c */
BUILTIN_FN(bi_width_bucket_f8); BUILTIN_FN(bi_width_bucket_num);
/* builtins_extract.c: extract as numeric (PostgreSQL 14+) */
BUILTIN_FN(bi_extract_num_date); BUILTIN_FN(bi_extract_num_time); BUILTIN_FN(bi_extract_num_ts);
BUILTIN_FN(bi_extract_num_tz); BUILTIN_FN(bi_extract_num_interval);

/* builtins_similar.c */
BUILTIN_FN(bi_similar_to_escape);

/* builtins_str.c */
BUILTIN_FN(bi_lower); BUILTIN_FN(bi_upper); BUILTIN_FN(bi_initcap);
BUILTIN_FN(bi_length); BUILTIN_FN(bi_length_bpchar); BUILTIN_FN(bi_octet_length);
BUILTIN_FN(bi_substr); BUILTIN_FN(bi_substr_bytea); BUILTIN_FN(bi_strpos); BUILTIN_FN(bi_replace);
BUILTIN_FN(bi_btrim); BUILTIN_FN(bi_ltrim); BUILTIN_FN(bi_rtrim);
BUILTIN_FN(bi_lpad); BUILTIN_FN(bi_rpad); BUILTIN_FN(bi_left); BUILTIN_FN(bi_right);
BUILTIN_FN(bi_repeat); BUILTIN_FN(bi_reverse); BUILTIN_FN(bi_concat); BUILTIN_FN(bi_concat_ws);
BUILTIN_FN(bi_split_part); BUILTIN_FN(bi_starts_with); BUILTIN_FN(bi_md5);
BUILTIN_FN(bi_to_hex32); BUILTIN_FN(bi_to_hex64); BUILTIN_FN(bi_chr); BUILTIN_FN(bi_ascii);
BUILTIN_FN(bi_translate); BUILTIN_FN(bi_quote_literal);

/* builtins_num.c */
BUILTIN_FN(bi_abs_int); BUILTIN_FN(bi_abs_float); BUILTIN_FN(bi_round); BUILTIN_FN(bi_ceil);
BUILTIN_FN(bi_floor); BUILTIN_FN(bi_trunc); BUILTIN_FN(bi_sqrt); BUILTIN_FN(bi_cbrt);
BUILTIN_FN(bi_power); BUILTIN_FN(bi_exp); BUILTIN_FN(bi_ln); BUILTIN_FN(bi_log10);
BUILTIN_FN(bi_mod); BUILTIN_FN(bi_sign); BUILTIN_FN(bi_random); BUILTIN_FN(bi_pi);
BUILTIN_FN(bi_degrees); BUILTIN_FN(bi_radians);
BUILTIN_FN(bi_now); BUILTIN_FN(bi_statement_timestamp); BUILTIN_FN(bi_clock_timestamp);
BUILTIN_FN(bi_version); BUILTIN_FN(bi_current_database); BUILTIN_FN(bi_current_user);
BUILTIN_FN(bi_date_trunc); BUILTIN_FN(bi_date_part);
/* builtins_array.c */
BUILTIN_FN(bi_array_to_string); BUILTIN_FN(bi_array_length); BUILTIN_FN(bi_array_upper);
BUILTIN_FN(bi_array_lower); BUILTIN_FN(bi_cardinality); BUILTIN_FN(bi_array_position);
BUILTIN_FN(bi_current_schemas); BUILTIN_FN(bi_array_cat);
#endif
