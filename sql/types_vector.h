/*
 * types_vector.h -- pgvector's `vector(n)` type: float32 vectors as SQL values.
 *
 * Why: pgvector applications (psycopg/pgvector-python, LangChain, ...) send vectors as
 * '[1,2,3]' text or in pgvector's binary form and expect pgvector's exact output and
 * errors. This module is that type; the operators and functions on it live in
 * sql/builtins_vector.c, the index in sql/vindex.c.
 *
 * Model: a vector datum is `s` pointing at a vstr_t whose bytes are dim native
 * float32s (len = 4 * dim), so the row encoding stores it like any variable-length
 * value and rows decode in place (the row format pads variable values to 4 bytes,
 * so the floats are aligned). The typmod is the dimension (pgvector stores it
 * as is, not + 4 like varchar); -1 = any dimension.
 *   text:   '[1,2.5,-3e-07]' in; out with each element printed like float4 (the
 *           shortest text that reads back, as pgvector's float_to_shortest_decimal)
 *   binary: int16 dim, int16 unused (= 0), dim x float4, all big-endian
 *   order:  element by element, then by dimension (pgvector's vector_cmp)
 *
 * Errors (pgvector 0.7 wording and SQLSTATE):
 *   22P02 invalid input syntax for type vector: "..."      (+ detail where pgvector has one)
 *   22000 vector must have at least 1 dimension / NaN not allowed in vector /
 *         infinite value not allowed in vector / expected 3 dimensions, not 2
 *   54000 vector cannot have more than 16000 dimensions
 *   22003 "1e99" is out of range for type vector
 *   22023 dimensions for type vector must be at least 1 / cannot exceed 16000;
 *         expected unused to be 0, not 5 (binary)
 *
 * Interface: type_vector_in/out/recv/send, _check_typmod (assignment and casts to
 * vector(n)), _typmod_in (the (n) of a type name), _cmp, _hash, _dim, _data, _new.
 * Limits: dimensions 1..LIMIT_VECTOR_DIMS.
 * Thread: any; no state.
 */
#ifndef NEXTDB_TYPES_VECTOR_H
#define NEXTDB_TYPES_VECTOR_H
#include "sql/types.h"

#define TYPES_VECTOR_SQLSTATE_DATA "22000"   /* ERRCODE_DATA_EXCEPTION */

static inline uint32_t type_vector_dim(datum_t d) { return d.s->len / 4; }
static inline const float *type_vector_data(datum_t d) { return (const float *)(const void *)d.s->data; }
/* A vector of dim elements, uninitialised; NULL on arena exhaustion. */
vstr_t *type_vector_new(arena_t *a, uint32_t dim);
static inline float *type_vector_mut(vstr_t *v) { return (float *)(void *)v->data; }

int type_vector_in(const char *s, size_t len, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err);
void type_vector_out(datum_t d, strbuf_t *out);
int type_vector_recv(const uint8_t *p, size_t len, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err);
void type_vector_send(datum_t d, strbuf_t *out);
/* 22000 "expected %d dimensions, not %d" when typmod >= 0 and the dims differ. */
int type_vector_check_typmod(datum_t d, int32_t typmod, sql_error_t *err);
/* Checks one element (NaN, infinity: 22000) as pgvector's CheckElement. */
int type_vector_check_element(float v, sql_error_t *err);
/* The typmod of vector(n): n in 1..LIMIT_VECTOR_DIMS (22023 otherwise). */
int type_vector_typmod_in(int ntypmods, const int32_t *typmods, int32_t *out, sql_error_t *err);
/* pgvector's array casts: integer[] / real[] / double precision[] -> vector
 * (assignment; 22000 "array must be 1-D" does not arise here, 22004 "array must not
 * contain nulls", element and dimension checks), vector -> real[] (implicit). */
bool type_vector_array_cast(type_oid_t from, type_oid_t to, int *ctx_needed);
int type_vector_from_array(datum_t in, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err);
int type_vector_to_array(datum_t in, arena_t *a, datum_t *out, sql_error_t *err);
int type_vector_cmp(datum_t a, datum_t b);
uint64_t type_vector_hash(datum_t d);
#endif
