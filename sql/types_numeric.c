/*
 * types_numeric.c -- the numeric type's casts (types.h's type_cast dispatches here):
 * to and from the integer and float types with PostgreSQL's rounding and range
 * errors, numeric -> numeric(p,s) typmod coercion. Text casts go through the text
 * forms (types_io.c) like every other type.
 */
#include "sql/numeric.h"
#include "sql/types_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Whether a numeric value is finite (not NaN or an infinity). */
static bool rd_is_finite(datum_t d)
{
    uint8_t hi = (uint8_t)d.s->data[4];
    return hi != 0xC0 && hi != 0xD0 && hi != 0xF0;
}

static bool is_int(type_oid_t t) { return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8; }
static bool is_float(type_oid_t t) { return t == TYPE_FLOAT4 || t == TYPE_FLOAT8; }

/* numeric_float8 / numeric_float4: through the text form and strtod, so overflow and
 * underflow are PostgreSQL's float input errors: a result that is 0 or infinite; a
 * denormal (strtod's ERANGE too) is kept, as float4in / float8in keep it. */
static int numeric_to_float(datum_t in, type_oid_t to, datum_t *out, sql_error_t *err)
{
    strbuf_t sb;
    strbuf_init(&sb);
    numeric_out(in, &sb);
    strbuf_putc(&sb, '\0');
    if (sb.oom) {
        strbuf_free(&sb);
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    errno = 0;
    int rc = 0;
    if (to == TYPE_FLOAT4) {
        float f = strtof(sb.data, NULL);
        if (errno == ERANGE && (f == 0.0f || isinf(f)) && rd_is_finite(in))
            rc = sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "\"%.200s\" is out of range for type real", sb.data);
        out->f64 = f;
    } else {
        double v = strtod(sb.data, NULL);
        if (errno == ERANGE && (v == 0.0 || isinf(v)) && rd_is_finite(in))
            rc = sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE,
                           "\"%.200s\" is out of range for type double precision", sb.data);
        out->f64 = v;
    }
    strbuf_free(&sb);
    return rc;
}

int types__numeric_cast(type_oid_t from, type_oid_t to, int32_t to_typmod, datum_t in, arena_t *a,
                        datum_t *out, sql_error_t *err)
{
    if (from == TYPE_NUMERIC && to == TYPE_NUMERIC)
        return numeric_apply_typmod(in, to_typmod, a, out, err);
    if (to == TYPE_NUMERIC && (is_int(from) || is_float(from))) {
        int rc = is_int(from) ? numeric_from_i64(in.i64, a, out, err)
                              : numeric_from_f64(in.f64, from == TYPE_FLOAT4, a, out, err);
        return rc < 0 ? -1 : numeric_apply_typmod(*out, to_typmod, a, out, err);
    }
    if (from == TYPE_NUMERIC && is_int(to))
        return numeric_to_int(in, to, &out->i64, err);
    if (from == TYPE_NUMERIC && is_float(to))
        return numeric_to_float(in, to, out, err);
    return 1;
}
