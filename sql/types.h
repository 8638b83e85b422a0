/*
 * types.h -- SQL data types: values in memory, their text and binary wire forms,
 * comparison, hashing, casts, checked arithmetic, and the two storage encodings
 * (memcomparable keys and compact rows).
 *
 * Why: every layer (executor, wire protocol, HTTP JSON, storage) must agree on what a
 * value is and must produce exactly PostgreSQL's text forms and errors.
 *
 * Model:
 *   - A type is identified by its PostgreSQL OID (so RowDescription and pg_type need
 *     no mapping) plus a typmod (varchar(n)/char(n) length + 4, as PostgreSQL stores
 *     it; -1 = none).
 *   - A value is a datum_t (8 bytes) plus a separate null flag (nulls never live in a
 *     datum). bool/int2/int4/int8/oid/regclass: i64. float4/float8: f64 (a float4 is
 *     always a double exactly representable as float). timestamp/timestamptz: i64
 *     microseconds since 2000-01-01 00:00:00 (UTC for timestamptz), like PostgreSQL.
 *     date: i64 days since 2000-01-01. text/varchar/bpchar/name/bytea/unknown: `s`
 *     pointing at a vstr_t {len, bytes} (no NUL needed; not NUL-terminated) living in
 *     an arena or other owner memory.
 *   - arrays (text[], name[], int2[], int4[], oid[], "char"[], ... and int2vector /
 *     oidvector, which share the form): `s` pointing at a vstr_t whose bytes are
 *     u32 element type, u32 count, then per element u32 length (TYPE_ARRAY_NULL_LEN
 *     for NULL) + payload padded to 4 bytes; by-value payloads are the datum's 8
 *     bytes, string payloads the bytes, so a string element is a vstr_t inside the
 *     blob. One dimension, lower bound 1. Read them with type_array_iter/next, make
 *     them with type_array_build; text form {a,b,"c d",NULL}, vectors "1 2".
 *   - float output follows PostgreSQL 12+ (extra_float_digits = 1): the shortest text
 *     that reads back to the same value, "Infinity", "-Infinity", "NaN"; exponent
 *     form like PostgreSQL (1e+20, 1.5e-07).
 *   - timestamp text in/out uses ISO DateStyle ("2024-01-02 03:04:05.123456");
 *     timestamptz prints in the session's TimeZone ("+02", "-04:56:02"); time and
 *     interval values and time zones: sql/types_time.h.
 *   - Key encoding (memcomparable): the byte order of encoded keys equals type_cmp
 *     order, so storage compares keys with memcmp. Row encoding: compact, with a null
 *     bitmap; decoding yields datums whose strings point into the encoded bytes.
 *
 * Errors: functions that can fail return -1 and fill sql_error_t with PostgreSQL's
 * SQLSTATE and wording, e.g. 22P02 `invalid input syntax for type integer: "x"`,
 * 22003 `integer out of range`, 22012 `division by zero`,
 * 22001 `value too long for type character varying(3)`.
 *
 * Thread: any; no global mutable state.
 */
#ifndef NEXTDB_TYPES_H
#define NEXTDB_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/strbuf.h"
#include "sql/error.h"

typedef uint32_t type_oid_t;
enum {
    TYPE_INVALID = 0,
    TYPE_BOOL = 16, TYPE_BYTEA = 17, TYPE_CHAR = 18, TYPE_NAME = 19, TYPE_INT8 = 20,
    TYPE_INT2 = 21, TYPE_INT2VECTOR = 22, TYPE_INT4 = 23, TYPE_REGPROC = 24, TYPE_TEXT = 25,
    TYPE_OID = 26, TYPE_OIDVECTOR = 30, TYPE_FLOAT4 = 700, TYPE_FLOAT8 = 701,
    TYPE_UNKNOWN = 705, TYPE_BPCHAR = 1042, TYPE_VARCHAR = 1043, TYPE_DATE = 1082,
    TYPE_TIMESTAMP = 1114, TYPE_TIMESTAMPTZ = 1184,
    TYPE_TIME = 1083, TYPE_INTERVAL = 1186,   /* sql/types_time.h */ TYPE_NUMERIC = 1700,
    TYPE_REGCLASS = 2205, TYPE_REGTYPE = 2206, TYPE_VOID = 2278, TYPE_REGNAMESPACE = 4089,
    TYPE_TEXTARRAY = 1009, TYPE_INT4ARRAY = 1007, TYPE_INT2ARRAY = 1005, TYPE_OIDARRAY = 1028,
    TYPE_NAMEARRAY = 1003, TYPE_CHARARRAY = 1002,
    /* pgvector's vector (sql/types_vector.h): a stable OID of ours, in the range PostgreSQL
     * leaves unused for built-in objects (pgvector's own OID depends on the database) */
    TYPE_VECTOR = 8100,
};

typedef struct vstr { uint32_t len; char data[]; } vstr_t;
typedef union datum { int64_t i64; double f64; const vstr_t *s; } datum_t;

typedef struct type_info {
    type_oid_t oid;
    const char *name;          /* pg_type.typname: "int4", "varchar", "timestamp" */
    const char *sql_name;      /* format_type() form: "integer", "character varying" */
    int16_t typlen;            /* pg_type.typlen: 4, 8, -1 (varlena), ... */
    bool byval;
    char category;             /* pg_type.typcategory: 'N', 'S', 'B', 'D', 'U', ... */
    char align;                /* pg_type.typalign */
    type_oid_t array_oid;      /* pg_type.typarray, 0 if none */
    type_oid_t elem_oid;       /* for array types */
    bool preferred;            /* pg_type.typispreferred */
} type_info_t;

const type_info_t *type_lookup(type_oid_t oid);              /* NULL if unknown */
/* Resolves a SQL type name as the PostgreSQL grammar delivers it (lower-case; e.g.
 * "int4", "integer", "int", "bigint", "float8", "double precision", "real", "text",
 * "varchar", "character varying", "bpchar", "character", "bool", "boolean",
 * "timestamp", "timestamp without time zone", "timestamptz", "smallint", "name",
 * "oid", "regclass", "numeric", "date"). NULL if unknown. */
const type_info_t *type_lookup_name(const char *name);
int type_info_count(void);                                   /* for pg_type */
const type_info_t *type_info_at(int i);
/* format_type(): "character varying(10)", "integer", "timestamp without time zone". */
void type_format(type_oid_t oid, int32_t typmod, strbuf_t *out);

/* vstr helpers: allocate in arena; NULL on arena exhaustion. */
vstr_t *vstr_new(arena_t *a, const char *p, size_t len);

/* ---- text and binary forms ---- */
/* Parses the text form (not NUL-terminated: len bytes) applying typmod (varchar
 * length check 22001, bpchar padding). Strings are allocated in a. */
int type_in_text(type_oid_t t, int32_t typmod, const char *s, size_t len, arena_t *a,
                 datum_t *out, sql_error_t *err);
/* Appends the text form. */
void type_out_text(type_oid_t t, int32_t typmod, datum_t d, strbuf_t *out);
/* Binary wire format (PostgreSQL's send/recv): big-endian ints, IEEE floats,
 * int64 microseconds for timestamps, raw bytes for text types. */
int type_recv_binary(type_oid_t t, int32_t typmod, const uint8_t *p, size_t len, arena_t *a,
                     datum_t *out, sql_error_t *err);
void type_send_binary(type_oid_t t, int32_t typmod, datum_t d, strbuf_t *out);
bool type_has_binary(type_oid_t t);

/* ---- comparison and hashing (non-null values of the same type) ---- */
/* <0, 0, >0. floats: NaN sorts above everything, like PostgreSQL; bpchar ignores
 * trailing spaces; text uses byte order (C collation). */
int type_cmp(type_oid_t t, datum_t a, datum_t b);
uint64_t type_hash(type_oid_t t, datum_t d);     /* equal values hash equal */

/* ---- casts ---- */
enum type_cast_ctx { CAST_IMPLICIT = 0, CAST_ASSIGNMENT = 1, CAST_EXPLICIT = 2 };
/* Whether a cast from -> to exists in the given context (PostgreSQL's pg_cast rules
 * for the supported types; unknown -> anything always). */
bool type_can_cast(type_oid_t from, type_oid_t to, int ctx);
/* Performs it: numeric range checks (22003), text parsing (22P02), varchar/bpchar
 * length: explicit casts truncate, assignment casts raise 22001 (except trailing
 * spaces), as PostgreSQL does. */
int type_cast(type_oid_t from, type_oid_t to, int32_t to_typmod, int ctx, datum_t in,
              arena_t *a, datum_t *out, sql_error_t *err);
/* Common type for UNION/CASE/IN/comparison resolution of two operand types
 * (PostgreSQL's category + preferred-type rules), or TYPE_INVALID if none. */
type_oid_t type_common(type_oid_t a, type_oid_t b);

/* ---- checked arithmetic on numeric types (same type both sides) ---- */
enum type_arith_op { ARITH_ADD, ARITH_SUB, ARITH_MUL, ARITH_DIV, ARITH_MOD, ARITH_NEG };
/* int2/int4/int8 with overflow 22003 ("smallint out of range" / "integer out of
 * range" / "bigint out of range"), division by zero 22012; float4/float8 with
 * PostgreSQL's overflow/underflow errors. Integer division truncates toward zero. */
int type_arith(int op, type_oid_t t, datum_t a, datum_t b, datum_t *out, sql_error_t *err);

/* ---- storage encodings ---- */
/* Appends the memcomparable encoding of a non-null value (keys never hold nulls). */
void type_key_encode(type_oid_t t, datum_t d, strbuf_t *out);
/* Decodes one key component at *p (advancing it); strings allocated in a. */
int type_key_decode(type_oid_t t, const uint8_t **p, const uint8_t *end, arena_t *a, datum_t *out);
/* Row encoding of ncols values with the given types. */
void row_encode(int ncols, const type_oid_t *types, const datum_t *vals, const bool *nulls,
                strbuf_t *out);
/* Decodes a row; strings point into the encoded bytes (no copy), so the datums live
 * as long as buf. Rows with fewer stored columns than ncols (ALTER TABLE ADD COLUMN)
 * decode the missing tail as NULL. Returns 0 or -1 on malformed bytes. */
int row_decode(const uint8_t *buf, size_t len, int ncols, const type_oid_t *types,
               datum_t *vals, bool *nulls);
/* Sorted table format 2 (shards/store.h, "column layouts"): the store's row codec for
 * the encoding above (split a row into its column cells, join cells into the same
 * bytes), and a table's physical layout (widths and min/max kinds per column). false
 * when the table cannot have one (more than STORE_LAYOUT_MAX_COLS columns, or a type
 * of width 0). */
struct store_row_codec;
struct store_layout;
const struct store_row_codec *row_store_codec(void);
bool row_store_layout(int ncols, const type_oid_t *types, struct store_layout *out);
/* Bytes a value of t takes in a row when fixed-width (0 for void), else -1. */
int row_fixed_width(type_oid_t t);
/* How many columns an encoded row stores (the leading varint), -1 if malformed. The
 * columns after them did not exist when the row was written: they read as NULL, or as
 * the column's missing value (cat_column_t.has_missing, exec_fill_missing). */
int row_stored_columns(const uint8_t *buf, size_t len);

/* ---- arrays (types_array.c; representation above) ---- */
#define TYPE_ARRAY_NULL_LEN UINT32_MAX
typedef struct type_array_iter { type_oid_t elem; const char *p, *end; } type_array_iter_t;
bool type_is_array(type_oid_t t);                  /* array types and int2vector/oidvector */
type_oid_t type_array_elem(type_oid_t array_type); /* TYPE_INVALID if not an array type */
type_oid_t type_array_of(type_oid_t elem);         /* the array type, TYPE_INVALID if none */
/* Builds an array value of n elements (nulls may be NULL = none); NULL on arena
 * exhaustion. String elements are copied into the value. */
const vstr_t *type_array_build(arena_t *a, type_oid_t elem, int n, const datum_t *vals, const bool *nulls);
int type_array_count(datum_t d);
type_oid_t type_array_elem_of(datum_t d);
void type_array_iter(type_array_iter_t *it, datum_t d);
/* Next element; false at the end. String elements point into the array value. */
bool type_array_next(type_array_iter_t *it, datum_t *out, bool *isnull);
/* Text and binary forms and element-wise comparison / hashing / casts; type_in_text,
 * type_out_text, type_send_binary, type_recv_binary, type_cmp, type_hash and
 * type_cast dispatch here for array types. */
int type_array_in(type_oid_t t, const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void type_array_out(type_oid_t t, datum_t d, strbuf_t *out);
int type_array_recv(type_oid_t t, const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err);
void type_array_send(type_oid_t t, datum_t d, strbuf_t *out);
int type_array_cmp(datum_t a, datum_t b);
uint64_t type_array_hash(datum_t d);
int type_array_cast(type_oid_t from, type_oid_t to, int ctx, datum_t in, arena_t *a, datum_t *out,
                    sql_error_t *err);

/* ---- time ---- */
int64_t time_now_ts(void);     /* current timestamp (us since 2000-01-01 UTC) */
#endif
