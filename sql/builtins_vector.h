/*
 * builtins_vector.h -- pgvector's functions, operators and aggregates over vector.
 *
 * Why: pgvector applications call l2_distance(), use <-> / <#> / <=> / <+> in ORDER
 * BY and avg(embedding) in reports; results must be pgvector's to the last bit, so
 * the SQL-visible values are computed exactly as pgvector computes them: float32
 * accumulation in element order (the scalar kernels of vector/distance.h, which
 * are that loop), double only where pgvector uses double (vector_norm,
 * l2_normalize, the cosine quotient, avg's state). The SIMD kernels serve the index
 * and the per-shard top-k, where only the order matters.
 *
 * Interface:
 *   builtins_vector[] / builtins_vector_count   the function table (merged by builtins.c)
 *   builtins_vector_operator(op)     function implementing a vector operator, or NULL:
 *                                    "<->" l2_distance, "<#>" vector_negative_inner_product,
 *                                    "<=>" cosine_distance, "<+>" l1_distance,
 *                                    "+" vector_add, "-" vector_sub, "*" vector_mul
 *   builtins_vector_metric(fn, &m)   whether fn orders like an index metric (the
 *                                    planner's "ORDER BY col <op> q" recognizer)
 *   builtins_vector_agg_add/_final   sum(vector) and avg(vector) states (exec_agg.c)
 *
 * Thread: any; no state.
 */
#ifndef NEXTDB_BUILTINS_VECTOR_H
#define NEXTDB_BUILTINS_VECTOR_H
#include <stdbool.h>
#include "sql/builtins.h"
#include "vector/distance.h"

extern const builtin_t builtins_vector[];
extern const int builtins_vector_count;

const char *builtins_vector_operator(const char *op);
bool builtins_vector_metric(const builtin_t *fn, distance_metric_t *metric);

/* Aggregate states: *state is NULL (empty) or a vstr_t of 1 + dim doubles (count
 * first) in arena a. avg uses double sums as pgvector's vector_accum; sum adds in
 * float as vector_add. 22000 on mixed dimensions, 22003 on overflow. */
int builtins_vector_agg_add(arena_t *a, bool is_avg, const vstr_t **state, datum_t v, sql_error_t *err);
int builtins_vector_agg_final(arena_t *a, bool is_avg, const vstr_t *state, datum_t *out, bool *isnull,
                              sql_error_t *err);
#endif
