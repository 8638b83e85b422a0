/*
 * builtins_json.h -- json / jsonb functions and operators (sql/builtins_json.c),
 * plus gen_random_uuid.
 *
 * Interface:
 *   builtins_json[]            table rows, merged into builtin_resolve's candidates
 *   builtins_json_operator     the function behind a json/jsonb operator, or NULL
 *   builtins_json_value        to_json(b)'s text of one SQL value (also the
 *                              json aggregates' element form)
 *
 * Thread: any.
 */
#ifndef NEXTDB_BUILTINS_JSON_H
#define NEXTDB_BUILTINS_JSON_H
#include "sql/builtins.h"

/* op with a json/jsonb left operand l and right operand type r (after literals are
 * typed: an int4 right side picks the array-element form). */
const char *builtins_json_operator(const char *op, type_oid_t l, type_oid_t r);
/* Appends v's JSON text: json = to_json's form (numbers and json as written),
 * else to_jsonb's (canonical numbers). -1 + err (22003 for unrepresentable numbers). */
int builtins_json_value(type_oid_t t, datum_t v, bool isnull, bool json, strbuf_t *out, sql_error_t *err);
#endif
