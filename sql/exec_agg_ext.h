/*
 * exec_agg_ext.h -- aggregates beyond count/sum/avg/min/max/string_agg:
 * bool_and / bool_or / every, stddev[_samp|_pop] / variance / var_samp / var_pop,
 * array_agg, jsonb_agg / json_agg, jsonb_object_agg / json_object_agg.
 *
 * Why a file of its own: exec_agg.c owns grouping and the partial/final split;
 * these aggregates keep a richer state (agg_ext_t, allocated in the aggregation's
 * arena and hung off the group's state) and always run complete on the coordinator
 * (the binder never splits a query using one into per-shard partial states).
 *
 * Semantics are PostgreSQL 15's: the variance family accumulates float8 with the
 * Youngs-Cramer update of float8_accum for float4 / float8 inputs (so results match
 * bit for bit), and for int2 / int4 / int8 / numeric inputs returns numeric computed
 * as numeric_stddev_internal does (exact sums, the division's scale); the
 * json aggregates and array_agg keep NULL inputs (as null / NULL elements); every
 * aggregate over no rows is NULL.
 *
 * Thread: the thread running the aggregation.
 */
#ifndef NEXTDB_EXEC_AGG_EXT_H
#define NEXTDB_EXEC_AGG_EXT_H
#include "sql/plan.h"

bool agg_ext_is(plan_aggfn_t fn);
/* Whether NULL inputs reach agg_ext_add (array_agg and the json aggregates). */
bool agg_ext_takes_nulls(plan_aggfn_t fn);
/* Folds one input (v, v2 = second argument of the object aggregates) into *state
 * (NULL at first). -1 + err on bad input (a NULL object key) or memory. */
int agg_ext_add(arena_t *a, const plan_agg_t *pa, void **state, datum_t v, bool vnull, datum_t v2, bool v2null,
                sql_error_t *err);
int agg_ext_final(arena_t *a, const plan_agg_t *pa, const void *state, datum_t *out, bool *isnull, sql_error_t *err);

/* sql/exec_agg_ordset.c: percentile_cont / percentile_disc / mode, reached through
 * agg_ext_add / agg_ext_final (frac: the direct argument). */
bool agg_ordset_is(plan_aggfn_t fn);
int agg_ordset_add(arena_t *a, const plan_agg_t *pa, void **state, datum_t v, datum_t frac, bool frac_null,
                   sql_error_t *err);
int agg_ordset_final(arena_t *a, const plan_agg_t *pa, const void *state, datum_t *out, bool *isnull,
                     sql_error_t *err);
#endif
