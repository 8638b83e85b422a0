/*
 * types_json.h -- the json and jsonb types: an RFC 8259 parser, jsonb's canonical
 * form, PostgreSQL's text output, jsonb's ordering, hashing and containment.
 *
 * Why: applications store documents in jsonb columns and read them back through
 * drivers that compare text (psql, ORMs' tests) or decode it (psycopg's jsonb ->
 * dict), so the output must be byte for byte PostgreSQL's, and every operator
 * (->, @>, ?, ||, ...) must answer as jsonb_ops does.
 *
 * Model:
 *   - json (OID 114) is text that parsed: the datum is the input bytes unchanged.
 *   - jsonb (OID 3802) is stored as its canonical text: the exact text PostgreSQL's
 *     jsonb_out prints (keys of each object sorted by length, then bytewise; a
 *     duplicate key keeps its last value; `, ` and `: ` separators; strings
 *     re-escaped by escape_json; numbers as numeric_out prints the literal, so
 *     1e2 -> 100, 1.50 -> 1.50, -0 -> 0). Output and send are copies; operators
 *     parse the canonical text into a jv_t tree (flat arrays of children in an
 *     arena, no search tree: objects are sorted, lookups bisect) and print the
 *     result back. Parsing a canonical text yields the same text again.
 *   - A top-level scalar is a "raw scalar" (PostgreSQL stores it as a one-element
 *     array), which matters for ordering, containment and || only.
 *   - Ordering (jsonb_cmp): Object > Array > Boolean > Number > String > Null; among
 *     containers first by element/pair count, then element by element (objects: key,
 *     value, key, ...); a raw scalar sorts below an array of one element; numbers
 *     compare as decimals, strings bytewise (the C collation).
 *
 * Errors: 22P02 invalid input syntax for type json + PostgreSQL's DETAIL (Token "x"
 *   is invalid., Expected ":", but found "1"., The input string ended unexpectedly.,
 *   ...); 22P05 unsupported Unicode escape sequence (\u0000 in jsonb); 54001 stack
 *   depth limit exceeded beyond LIMIT_SQL_JSON_DEPTH nesting; 22003 value overflows
 *   numeric format (a jsonb number numeric cannot hold).
 *
 * Thread: any; no global state.
 */
#ifndef NEXTDB_TYPES_JSON_H
#define NEXTDB_TYPES_JSON_H
#include "sql/types.h"

#define TYPE_JSON 114
#define TYPE_JSONB 3802
#define TYPE_JSONBARRAY 3807
#define TYPE_JSONARRAY 199

/* Nesting bound of json/jsonb documents. PostgreSQL's bound is its 2 MB stack
 * (thousands of levels); ours keeps the recursive parser and tree walkers within a
 * 256 KiB fiber stack (core/limits.h) on top of the executor's own frames. */
#define LIMIT_SQL_JSON_DEPTH 256

/* Scalar kinds keep PostgreSQL's jbvType order; containers sort above them. */
typedef enum jv_kind { JV_NULL = 0, JV_STRING = 1, JV_NUMBER = 2, JV_BOOL = 3, JV_ARRAY = 0x10, JV_OBJECT = 0x11 } jv_kind_t;

typedef struct jv jv_t;
typedef struct jv_pair { const char *key; uint32_t klen; jv_t *val; } jv_pair_t;
struct jv {
    uint8_t kind;
    bool bval;                 /* JV_BOOL */
    bool raw;                  /* json mode: str is the escaped text between the quotes */
    uint32_t n;                /* string/number bytes, array elements, object pairs */
    const char *str;           /* JV_STRING (decoded unless raw), JV_NUMBER (text) */
    jv_t **items;              /* JV_ARRAY */
    jv_pair_t *pairs;          /* JV_OBJECT: sorted, unique keys in jsonb mode */
    const char *src;           /* json mode: the value's own text in the input */
    uint32_t srclen;
};

/* Parses len bytes. canon (jsonb): strings decoded, numbers canonical, objects
 * sorted with duplicates removed; else (json) only validated, strings kept raw and
 * every node's source span recorded. Tree in a; 0 or -1 + err. */
int jv_parse(const char *s, size_t len, bool canon, arena_t *a, jv_t **out, sql_error_t *err);
/* jsonb text of a canonical tree (jsonb_out); jsonb_pretty's form. */
void jv_out(const jv_t *v, strbuf_t *out);
void jv_out_pretty(const jv_t *v, int indent, strbuf_t *out);
/* A datum of type jsonb or json parsed (jsonb: canonical) in a; NULL + err. */
jv_t *jv_of_datum(type_oid_t t, datum_t d, arena_t *a, sql_error_t *err);
/* A jsonb datum holding the canonical text of v; -1 + err on arena exhaustion. */
int jv_to_datum(const jv_t *v, arena_t *a, datum_t *out, sql_error_t *err);
/* jsonb_cmp of two canonical trees; top: both are whole documents. */
int jv_cmp(const jv_t *a, const jv_t *b, bool top);
/* JsonbDeepContains: whether a contains b (whole documents). */
bool jv_contains(const jv_t *a, const jv_t *b);
/* Object member lookup (canonical tree); NULL if absent. */
jv_t *jv_object_get(const jv_t *o, const char *key, size_t klen);
/* Sorts pairs and drops duplicates (last wins): an object built by functions. */
int jv_object_canon(jv_t *o, arena_t *a, sql_error_t *err);
/* escape_json: appends s as a quoted JSON string. */
void jv_escape(const char *s, size_t n, strbuf_t *out);
/* numeric_in + numeric_out of a JSON number literal; -1 + err (22003). */
int jv_number_canon(const char *s, size_t n, strbuf_t *out, sql_error_t *err);
/* Decimal comparison of two canonical numbers. */
int jv_number_cmp(const char *a, size_t an, const char *b, size_t bn);
/* Node constructors in a (NULL on exhaustion). */
jv_t *jv_new(arena_t *a, int kind);
jv_t *jv_new_string(arena_t *a, const char *s, size_t n);

/* Type hooks used by types*.c. */
int type_json_in(type_oid_t t, const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
int type_json_recv(type_oid_t t, const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void type_json_send(type_oid_t t, datum_t d, strbuf_t *out);
int type_jsonb_cmp(datum_t a, datum_t b);
uint64_t type_jsonb_hash(datum_t d);
/* jsonb -> bool/int2/int4/int8/float4/float8 (PostgreSQL 15's jsonb_int4 etc.). */
int type_jsonb_cast_scalar(type_oid_t to, datum_t in, arena_t *a, datum_t *out, sql_error_t *err);
#endif
