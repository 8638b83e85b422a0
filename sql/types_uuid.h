/*
 * types_uuid.h -- the uuid type (OID 2950).
 *
 * Model: a uuid datum is `s` pointing at a vstr_t of exactly 16 bytes, so rows and
 * keys store it like other variable-length values; the key encoding (bytes) sorts
 * as uuid_cmp does (memcmp of the 16 bytes), so uuid primary keys work.
 *   text in:  PostgreSQL's uuid_in forms: 32 hex digits, either case, a hyphen
 *             allowed after any group of four digits, optionally in braces;
 *             22P02 invalid input syntax for type uuid: "..." otherwise
 *   text out: lower-case 8-4-4-4-12
 *   binary:   the 16 bytes
 *
 * Thread: any.
 */
#ifndef NEXTDB_TYPES_UUID_H
#define NEXTDB_TYPES_UUID_H
#include "sql/types.h"

#define TYPE_UUID 2950
#define TYPE_UUID_BYTES 16

int type_uuid_in(const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void type_uuid_out(datum_t d, strbuf_t *out);
int type_uuid_recv(const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
/* A new version 4 (random) uuid from getrandom(2); -1 + err if the kernel fails. */
int type_uuid_random(arena_t *a, datum_t *out, sql_error_t *err);
#endif
