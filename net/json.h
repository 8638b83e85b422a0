/*
 * json.h -- a small strict JSON (RFC 8259) parser and a writer with correct escaping,
 * for the HTTP endpoint.
 *
 * Why: POST /query carries {"sql": ..., "params": [...]} and answers in JSON; a
 * parser that accepts only valid JSON and bounds everything keeps bad bodies from
 * turning into odd SQL or deep recursion.
 *
 * Model: json_parse builds a tree in a caller-owned arena (freed with the arena).
 * Strings are decoded (escapes resolved, \u surrogate pairs joined, UTF-8 validated)
 * and NUL-terminated; a string may contain U+0000, so its length is explicit. Numbers
 * keep their source text (so "1.50" reaches SQL as 1.50) and a double.
 * The writer appends to a strbuf; strings are escaped per RFC 8259 and invalid UTF-8
 * is replaced by U+FFFD so the output is always valid JSON.
 *
 * Interface:
 *   json_parse        text -> tree, or -1 with an error message and byte offset
 *   json_object_get   member by key (last one wins on duplicates, like most parsers)
 *   json_write_string escaped string literal
 *
 * Limits: nesting depth <= LIMIT_JSON_DEPTH; input size bounded by the caller
 * (LIMIT_HTTP_BODY_BYTES); memory bounded by the arena's budget.
 *
 * Thread: any; no global state.
 */
#ifndef NEXTDB_JSON_H
#define NEXTDB_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include "core/arena.h"
#include "core/strbuf.h"

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
                 JSON_OBJECT };

typedef struct json_value json_value_t;
typedef struct json_member json_member_t;

struct json_value {
    int type;                 /* enum json_type */
    const char *str;          /* JSON_STRING: decoded text; JSON_NUMBER: source text */
    size_t len;               /* length of str */
    double num;               /* JSON_NUMBER */
    int count;                /* JSON_ARRAY items / JSON_OBJECT members */
    json_value_t *items;      /* JSON_ARRAY */
    json_member_t *members;   /* JSON_OBJECT */
};

struct json_member {
    const char *key;
    size_t key_len;
    json_value_t value;
};

enum json_errkind { JSON_ERR_SYNTAX = 1, JSON_ERR_DEPTH = 2, JSON_ERR_MEMORY = 3 };

typedef struct json_error {
    int kind;                 /* enum json_errkind */
    size_t offset;            /* byte offset of the problem */
    char message[128];
} json_error_t;

/* Parses exactly one JSON value (surrounding whitespace allowed) from len bytes.
 * Returns 0 and *out, or -1 with err filled (nothing to free beyond the arena). */
int json_parse(const char *text, size_t len, arena_t *a, json_value_t **out,
               json_error_t *err);
/* The member named key of an object, NULL if absent or v is not an object. */
const json_value_t *json_object_get(const json_value_t *v, const char *key);
/* Appends "..." with escaping (", \, control characters; invalid UTF-8 -> \ufffd). */
void json_write_string(strbuf_t *out, const char *s, size_t len);
#endif
