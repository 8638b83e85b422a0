/*
 * explain.h -- EXPLAIN: a bound query plan as PostgreSQL-style text lines.
 *
 * Why: users check that `ORDER BY emb <-> $1 LIMIT 10` uses their HNSW index; the
 * plan says which scans answer from an index, which keep an exact per-shard top-k,
 * and what the coordinator merges. Costs and row estimates are not printed (the
 * planner has no statistics yet); EXPLAIN ANALYZE is refused.
 *
 * Model: explain_lines walks the plan tree; each node is a line ("Limit",
 * "->  Sort", ...) indented like PostgreSQL's text format, with detail lines under
 * it. A line starting with EXPLAIN_GUC_MARK is a prefix to which the binder appends
 * the session's current hnsw.ef_search at execution time (a plan may be cached
 * across SETs).
 *
 * Thread: any; pure.
 */
#ifndef NEXTDB_EXPLAIN_H
#define NEXTDB_EXPLAIN_H
#include "sql/plan.h"

#define EXPLAIN_GUC_MARK '\001'

/* Fills *lines (arena strings) and *n. Returns 0 or -1 on arena exhaustion. */
int explain_lines(const plan_t *p, arena_t *a, const char ***lines, int *n);
#endif
