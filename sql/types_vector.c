/*
 * types_vector.c -- pgvector's vector type: text and binary forms, dimension checks,
 * comparison and hashing (see types_vector.h). The parser follows pgvector's
 * vector_in step by step (strtof per element, so a literal rounds once, as
 * float4in does), so the same literal is accepted or refused with the same message.
 */
#include "sql/types_vector.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/types_int.h"

#define TYPES_VECTOR_ELEM_TEXT_MAX 128   /* one element's text copied for strtof / messages */
#define TYPES_VECTOR_FLOAT4ARRAY 1021    /* real[] */
#define TYPES_VECTOR_FLOAT8ARRAY 1022    /* double precision[] */

vstr_t *type_vector_new(arena_t *a, uint32_t dim)
{
    ASSERT(dim <= LIMIT_VECTOR_DIMS);
    return vstr_new(a, NULL, (size_t)dim * 4);
}

static bool vec_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int vec_syntax(sql_error_t *err, const char *s, size_t len, const char *detail)
{
    sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type vector: \"%.*s\"",
              (int)(len > 300 ? 300 : len), s);
    if (detail)
        sql_error_detail(err, "%s", detail);
    return -1;
}

int type_vector_check_element(float v, sql_error_t *err)
{
    if (isnan(v))
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "NaN not allowed in vector");
    if (isinf(v))
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "infinite value not allowed in vector");
    return 0;
}

static int check_dim(int64_t dim, sql_error_t *err)
{
    if (dim < 1)
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "vector must have at least 1 dimension");
    if (dim > LIMIT_VECTOR_DIMS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "vector cannot have more than %d dimensions",
                         LIMIT_VECTOR_DIMS);
    return 0;
}

int type_vector_check_typmod(datum_t d, int32_t typmod, sql_error_t *err)
{
    if (typmod >= 0 && (uint32_t)typmod != type_vector_dim(d))
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "expected %d dimensions, not %u", typmod,
                         type_vector_dim(d));
    return 0;
}

int type_vector_typmod_in(int ntypmods, const int32_t *typmods, int32_t *out, sql_error_t *err)
{
    if (ntypmods != 1)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid type modifier");
    if (typmods[0] < 1)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "dimensions for type vector must be at least 1");
    if (typmods[0] > LIMIT_VECTOR_DIMS)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "dimensions for type vector cannot exceed %d",
                         LIMIT_VECTOR_DIMS);
    *out = typmods[0];
    return 0;
}

/* Parses one element at s[*pos..len) like strtof; advances *pos. */
static int parse_elem(const char *s, size_t len, size_t *pos, float *out, sql_error_t *err)
{
    char buf[TYPES_VECTOR_ELEM_TEXT_MAX + 1];
    size_t start = *pos, n = 0;
    /* copy the longest run that can belong to a number, then let strtof decide */
    while (start + n < len && n < TYPES_VECTOR_ELEM_TEXT_MAX && s[start + n] != ',' && s[start + n] != ']' &&
           !vec_space(s[start + n]) && s[start + n] != 0)
        n++;
    memcpy(buf, s + start, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    float v = strtof(buf, &end);
    if (end == buf)
        return vec_syntax(err, s, len, NULL);
    if (errno == ERANGE && isinf(v))
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "\"%.*s\" is out of range for type vector",
                         (int)(end - buf), buf);
    if (type_vector_check_element(v, err) < 0)
        return -1;
    *pos = start + (size_t)(end - buf);
    *out = v;
    return 0;
}

int type_vector_in(const char *s, size_t len, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err)
{
    size_t i = 0;
    while (i < len && vec_space(s[i]))
        i++;
    if (i >= len || s[i] != '[')
        return vec_syntax(err, s, len, "Vector contents must start with \"[\".");
    i++;
    while (i < len && vec_space(s[i]))
        i++;
    if (i < len && s[i] == ']')
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "vector must have at least 1 dimension");
    /* elements: count the commas for an upper bound, so one allocation suffices */
    size_t cap = 1;
    for (size_t k = i; k < len; k++)
        cap += s[k] == ',';
    if (cap > LIMIT_VECTOR_DIMS)
        cap = LIMIT_VECTOR_DIMS;
    vstr_t *v = type_vector_new(a, (uint32_t)cap);
    if (!v)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    float *x = type_vector_mut(v);
    uint32_t dim = 0;
    for (;;) {
        if (dim == LIMIT_VECTOR_DIMS)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "vector cannot have more than %d dimensions",
                             LIMIT_VECTOR_DIMS);
        while (i < len && vec_space(s[i]))
            i++;
        if (i >= len)
            return vec_syntax(err, s, len, NULL);
        if (parse_elem(s, len, &i, &x[dim], err) < 0)
            return -1;
        dim++;
        while (i < len && vec_space(s[i]))
            i++;
        if (i < len && s[i] == ',') {
            i++;
        } else if (i < len && s[i] == ']') {
            i++;
            break;
        } else {
            return vec_syntax(err, s, len, NULL);
        }
    }
    while (i < len && vec_space(s[i]))
        i++;
    if (i != len)
        return vec_syntax(err, s, len, "Junk after closing right brace.");
    ASSERT(dim <= cap);
    v->len = dim * 4;
    out->s = v;
    return type_vector_check_typmod(*out, typmod, err);
}

void type_vector_out(datum_t d, strbuf_t *out)
{
    uint32_t dim = type_vector_dim(d);
    const float *x = type_vector_data(d);
    strbuf_putc(out, '[');
    for (uint32_t i = 0; i < dim; i++) {
        if (i)
            strbuf_putc(out, ',');
        types__float_out(x[i], true, out);
    }
    strbuf_putc(out, ']');
}

int type_vector_recv(const uint8_t *p, size_t len, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (len < 4)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "insufficient data left in message");
    int16_t dim = (int16_t)((uint16_t)p[0] << 8 | p[1]);
    int16_t unused = (int16_t)((uint16_t)p[2] << 8 | p[3]);
    if (check_dim(dim, err) < 0)
        return -1;
    if (typmod >= 0 && typmod != dim)
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "expected %d dimensions, not %d", typmod, dim);
    if (unused != 0)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "expected unused to be 0, not %d", unused);
    if (len < 4 + (size_t)dim * 4)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "insufficient data left in message");
    if (len > 4 + (size_t)dim * 4)
        return sql_error(err, "22P03", "incorrect binary data format");
    vstr_t *v = type_vector_new(a, (uint32_t)dim);
    if (!v)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    float *x = type_vector_mut(v);
    for (int i = 0; i < dim; i++) {
        const uint8_t *q = p + 4 + 4 * i;
        uint32_t u = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
        memcpy(&x[i], &u, 4);
        if (type_vector_check_element(x[i], err) < 0)
            return -1;
    }
    out->s = v;
    return 0;
}

void type_vector_send(datum_t d, strbuf_t *out)
{
    uint32_t dim = type_vector_dim(d);
    const float *x = type_vector_data(d);
    strbuf_put_be16(out, (uint16_t)dim);
    strbuf_put_be16(out, 0);
    for (uint32_t i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        strbuf_put_be32(out, u);
    }
}

bool type_vector_array_cast(type_oid_t from, type_oid_t to, int *ctx_needed)
{
    if (to == TYPE_VECTOR && (from == TYPE_INT4ARRAY || from == TYPES_VECTOR_FLOAT4ARRAY ||
                              from == TYPES_VECTOR_FLOAT8ARRAY)) {
        *ctx_needed = CAST_ASSIGNMENT;
        return true;
    }
    if (from == TYPE_VECTOR && to == TYPES_VECTOR_FLOAT4ARRAY) {
        *ctx_needed = CAST_IMPLICIT;
        return true;
    }
    return false;
}

int type_vector_from_array(datum_t in, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err)
{
    int n = type_array_count(in);
    if (check_dim(n, err) < 0)
        return -1;
    vstr_t *v = type_vector_new(a, (uint32_t)n);
    if (!v)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    float *x = type_vector_mut(v);
    type_array_iter_t it;
    type_array_iter(&it, in);
    datum_t e;
    bool isnull;
    for (int i = 0; type_array_next(&it, &e, &isnull); i++) {
        if (isnull)
            return sql_error(err, "22004", "array must not contain nulls");
        x[i] = it.elem == TYPE_INT4 ? (float)e.i64 : (float)e.f64;
        if (type_vector_check_element(x[i], err) < 0)
            return -1;
    }
    out->s = v;
    return type_vector_check_typmod(*out, typmod, err);
}

int type_vector_to_array(datum_t in, arena_t *a, datum_t *out, sql_error_t *err)
{
    uint32_t dim = type_vector_dim(in);
    datum_t *vals = arena_alloc(a, (size_t)(dim + 1) * sizeof(datum_t));
    if (!vals)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (uint32_t i = 0; i < dim; i++)
        vals[i].f64 = type_vector_data(in)[i];
    if (!(out->s = type_array_build(a, TYPE_FLOAT4, (int)dim, vals, NULL)))
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return 0;
}

int type_vector_cmp(datum_t a, datum_t b)
{
    uint32_t na = type_vector_dim(a), nb = type_vector_dim(b);
    const float *x = type_vector_data(a), *y = type_vector_data(b);
    for (uint32_t i = 0; i < na && i < nb; i++) {
        if (x[i] < y[i])
            return -1;
        if (x[i] > y[i])
            return 1;
    }
    return na < nb ? -1 : na > nb;
}

uint64_t type_vector_hash(datum_t d)
{
    /* equal vectors must hash equal: -0 and 0 compare equal, so hash them alike */
    uint32_t dim = type_vector_dim(d);
    const float *x = type_vector_data(d);
    uint64_t h = types__hash_u64(dim);
    for (uint32_t i = 0; i < dim; i++) {
        float f = x[i] == 0 ? 0.0f : x[i];
        uint32_t u;
        memcpy(&u, &f, 4);
        h = types__hash_u64(h ^ u);
    }
    return h;
}
