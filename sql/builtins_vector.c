/*
 * builtins_vector.c -- pgvector's vector functions and operators (see
 * builtins_vector.h): distances, norms, element-wise arithmetic, and the sum/avg
 * aggregate states. Each function follows the corresponding pgvector C function
 * (src/vector.c) in what it computes, in which precision, and how it fails.
 */
#include "sql/builtins_vector.h"

#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/builtins_int.h"
#include "sql/types_vector.h"

#define V TYPE_VECTOR
#define F8 TYPE_FLOAT8
#define I4 TYPE_INT4

static int check_dims(datum_t a, datum_t b, sql_error_t *err)
{
    if (type_vector_dim(a) != type_vector_dim(b))
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "different vector dimensions %u and %u",
                         type_vector_dim(a), type_vector_dim(b));
    return 0;
}

/* pgvector's float loops are the scalar reference kernels (one accumulator, element
 * order), so the SQL results match pgvector bit for bit. */
static float scalar(distance_kernel_t k, datum_t a, datum_t b)
{
    distance_fn fn = distance_kernel(k, DISTANCE_SIMD_SCALAR);
    return fn(type_vector_data(a), type_vector_data(b), type_vector_dim(a));
}

static BUILTIN_FN(bi_l2_distance)
{
    if (check_dims(args[0], args[1], err) < 0) return -1;
    out->f64 = sqrt((double)scalar(DISTANCE_KERNEL_L2SQ, args[0], args[1]));
    return 0;
}

static BUILTIN_FN(bi_l2_squared_distance)
{
    if (check_dims(args[0], args[1], err) < 0) return -1;
    out->f64 = (double)scalar(DISTANCE_KERNEL_L2SQ, args[0], args[1]);
    return 0;
}

static BUILTIN_FN(bi_inner_product)
{
    if (check_dims(args[0], args[1], err) < 0) return -1;
    out->f64 = (double)scalar(DISTANCE_KERNEL_DOT, args[0], args[1]);
    return 0;
}

static BUILTIN_FN(bi_negative_inner_product)
{
    if (check_dims(args[0], args[1], err) < 0) return -1;
    out->f64 = (double)-scalar(DISTANCE_KERNEL_DOT, args[0], args[1]);
    return 0;
}

static BUILTIN_FN(bi_cosine_distance)
{
    if (check_dims(args[0], args[1], err) < 0) return -1;
    /* three float sums, then the quotient in double: sqrt(a * b), not sqrt(a) * sqrt(b) */
    float sim = scalar(DISTANCE_KERNEL_DOT, args[0], args[1]);
    float na = scalar(DISTANCE_KERNEL_DOT, args[0], args[0]);
    float nb = scalar(DISTANCE_KERNEL_DOT, args[1], args[1]);
    double s = (double)sim / sqrt((double)na * (double)nb);
    if (isnan(s)) {
        out->f64 = NAN;
        return 0;
    }
    if (s > 1) s = 1.0;
    else if (s < -1) s = -1.0;
    out->f64 = 1.0 - s;
    return 0;
}

static BUILTIN_FN(bi_l1_distance)
{
    if (check_dims(args[0], args[1], err) < 0) return -1;
    out->f64 = (double)scalar(DISTANCE_KERNEL_L1, args[0], args[1]);
    return 0;
}

static BUILTIN_FN(bi_vector_dims)
{
    out->i64 = type_vector_dim(args[0]);
    return 0;
}

static double norm_double(datum_t a)
{
    const float *x = type_vector_data(a);
    double n = 0.0;
    for (uint32_t i = 0; i < type_vector_dim(a); i++)
        n += (double)x[i] * (double)x[i];
    return sqrt(n);
}

static BUILTIN_FN(bi_vector_norm)
{
    out->f64 = norm_double(args[0]);
    return 0;
}

static int overflow(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: overflow");
}

static BUILTIN_FN(bi_l2_normalize)
{
    uint32_t dim = type_vector_dim(args[0]);
    const float *x = type_vector_data(args[0]);
    vstr_t *r = type_vector_new(ctx->arena, dim);
    if (!r) return builtins__oom(err);
    float *y = type_vector_mut(r);
    double n = norm_double(args[0]);
    for (uint32_t i = 0; i < dim; i++) {
        /* a zero vector normalises to itself, as in pgvector */
        y[i] = n > 0 ? (float)(x[i] / n) : x[i];
        if (isinf(y[i])) return overflow(err);
    }
    out->s = r;
    return 0;
}

enum { VEC_ADD, VEC_SUB, VEC_MUL };

static int elementwise(const builtin_ctx_t *ctx, int op, datum_t a, datum_t b, datum_t *out, sql_error_t *err)
{
    if (check_dims(a, b, err) < 0) return -1;
    uint32_t dim = type_vector_dim(a);
    const float *x = type_vector_data(a), *y = type_vector_data(b);
    vstr_t *r = type_vector_new(ctx->arena, dim);
    if (!r) return builtins__oom(err);
    float *z = type_vector_mut(r);
    for (uint32_t i = 0; i < dim; i++) {
        z[i] = op == VEC_ADD ? x[i] + y[i] : op == VEC_SUB ? x[i] - y[i] : x[i] * y[i];
        if (isinf(z[i])) return overflow(err);
        if (op == VEC_MUL && z[i] == 0 && !(x[i] == 0 || y[i] == 0))
            return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: underflow");
    }
    out->s = r;
    return 0;
}

static BUILTIN_FN(bi_vector_add) { return elementwise(ctx, VEC_ADD, args[0], args[1], out, err); }
static BUILTIN_FN(bi_vector_sub) { return elementwise(ctx, VEC_SUB, args[0], args[1], out, err); }
static BUILTIN_FN(bi_vector_mul) { return elementwise(ctx, VEC_MUL, args[0], args[1], out, err); }

/* pg_proc OIDs: pgvector's differ per database; 0 lets pg_proc assign none. */
const builtin_t builtins_vector[] = {
    {"l2_distance", 0, 2, {V, V}, F8, true, 'i', bi_l2_distance},
    {"vector_l2_squared_distance", 0, 2, {V, V}, F8, true, 'i', bi_l2_squared_distance},
    {"inner_product", 0, 2, {V, V}, F8, true, 'i', bi_inner_product},
    {"vector_negative_inner_product", 0, 2, {V, V}, F8, true, 'i', bi_negative_inner_product},
    {"cosine_distance", 0, 2, {V, V}, F8, true, 'i', bi_cosine_distance},
    {"l1_distance", 0, 2, {V, V}, F8, true, 'i', bi_l1_distance},
    {"vector_dims", 0, 1, {V}, I4, true, 'i', bi_vector_dims},
    {"vector_norm", 0, 1, {V}, F8, true, 'i', bi_vector_norm},
    {"l2_normalize", 0, 1, {V}, V, true, 'i', bi_l2_normalize},
    {"vector_add", 0, 2, {V, V}, V, true, 'i', bi_vector_add},
    {"vector_sub", 0, 2, {V, V}, V, true, 'i', bi_vector_sub},
    {"vector_mul", 0, 2, {V, V}, V, true, 'i', bi_vector_mul},
};
const int builtins_vector_count = (int)(sizeof builtins_vector / sizeof builtins_vector[0]);

const char *builtins_vector_operator(const char *op)
{
    static const struct { const char *op, *fn; } ops[] = {
        {"<->", "l2_distance"}, {"<#>", "vector_negative_inner_product"}, {"<=>", "cosine_distance"},
        {"<+>", "l1_distance"}, {"+", "vector_add"}, {"-", "vector_sub"}, {"*", "vector_mul"},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].op, op))
            return ops[i].fn;
    return NULL;
}

bool builtins_vector_metric(const builtin_t *fn, distance_metric_t *metric)
{
    if (!fn) return false;
    if (fn->fn == bi_l2_distance || fn->fn == bi_l2_squared_distance) *metric = DISTANCE_METRIC_L2;
    else if (fn->fn == bi_negative_inner_product) *metric = DISTANCE_METRIC_IP;
    else if (fn->fn == bi_cosine_distance) *metric = DISTANCE_METRIC_COSINE;
    else if (fn->fn == bi_l1_distance) *metric = DISTANCE_METRIC_L1;
    else return false;
    return true;
}

/* ---- sum(vector) / avg(vector) ---- */

/* State slots are read and written with memcpy: a vstr_t's bytes start 4 bytes in,
 * so doubles there are not 8-byte aligned. */
static double st_get(const vstr_t *s, uint32_t i)
{
    double d;
    memcpy(&d, s->data + (size_t)i * sizeof d, sizeof d);
    return d;
}

static void st_set(vstr_t *s, uint32_t i, double d) { memcpy(s->data + (size_t)i * sizeof d, &d, sizeof d); }

int builtins_vector_agg_add(arena_t *a, bool is_avg, const vstr_t **state, datum_t v, sql_error_t *err)
{
    uint32_t dim = type_vector_dim(v);
    const float *x = type_vector_data(v);
    if (!*state) {
        vstr_t *s = vstr_new(a, NULL, (size_t)(dim + 1) * sizeof(double));
        if (!s) return builtins__oom(err);
        memset(s->data, 0, s->len);
        *state = s;
    }
    vstr_t *st = (vstr_t *)*state;     /* the state is ours: allocated above in a */
    uint32_t sdim = (*state)->len / sizeof(double) - 1;
    if (sdim != dim) {
        if (is_avg)
            return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "expected %u dimensions, not %u", sdim, dim);
        return sql_error(err, TYPES_VECTOR_SQLSTATE_DATA, "different vector dimensions %u and %u", sdim, dim);
    }
    st_set(st, 0, st_get(st, 0) + 1);
    for (uint32_t i = 0; i < dim; i++) {
        /* avg: double sums (vector_accum); sum: float additions (vector_add) */
        double old = st_get(st, i + 1);
        double nv = is_avg ? old + (double)x[i] : (double)((float)old + x[i]);
        if (isinf(nv)) return overflow(err);
        st_set(st, i + 1, nv);
    }
    return 0;
}

int builtins_vector_agg_final(arena_t *a, bool is_avg, const vstr_t *state, datum_t *out, bool *isnull,
                              sql_error_t *err)
{
    *isnull = !state;
    if (!state) return 0;
    uint32_t dim = state->len / sizeof(double) - 1;
    vstr_t *r = type_vector_new(a, dim);
    if (!r) return builtins__oom(err);
    float *y = type_vector_mut(r);
    for (uint32_t i = 0; i < dim; i++) {
        y[i] = is_avg ? (float)(st_get(state, i + 1) / st_get(state, 0)) : (float)st_get(state, i + 1);
        if (type_vector_check_element(y[i], err) < 0) return -1;
    }
    out->s = r;
    return 0;
}
