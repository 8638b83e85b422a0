/*
 * explain.h -- EXPLAIN: a bound statement's plan as PostgreSQL-style text lines,
 * with EXPLAIN ANALYZE's measured figures when they are given.
 *
 * Why: users check that `ORDER BY emb <-> $1 LIMIT 10` uses their HNSW index; the
 * plan says which scans answer from an index, which keep an exact per-shard top-k,
 * and what the coordinator merges. Costs and row estimates are not printed (the
 * planner has no statistics yet). EXPLAIN ANALYZE runs the statement with the
 * executor's per-node counters on (sql/explain_analyze.c) and prints each node's
 * `(actual time=S..T rows=N loops=L)` and, under the nodes that fan out to shards,
 * one `Shard n:` line per shard with what that shard produced.
 *
 * Model: explain_text walks the plan tree; each node is a line ("Limit",
 * "->  Sort", ...) indented like PostgreSQL's text format, with detail lines under
 * it. A line starting with EXPLAIN_GUC_MARK is a prefix to which the binder appends
 * the session's current hnsw.ef_search at execution time (a plan may be cached
 * across SETs); with figures the value the run used is printed instead.
 * Figures are kept per plan node (explain_node_t, keyed by the plan_t, or by the
 * bound statement for the nodes of INSERT / UPDATE / DELETE that have no plan_t):
 * sums over the node's loops, printed as per-loop averages as PostgreSQL does.
 *
 * Thread: the coordinator; explain_text is pure.
 */
#ifndef NEXTDB_EXPLAIN_H
#define NEXTDB_EXPLAIN_H
#include "sql/plan.h"

#define EXPLAIN_GUC_MARK '\001'

/* Keys of the figures of a DML statement's nodes: the "Update on t" node and the
 * scan its fragments run on every shard. */
#define EXPLAIN_KEY_MODIFY(bs) ((const void *)(bs))
#define EXPLAIN_KEY_TARGET(bs) ((const void *)&(bs)->table)

typedef struct explain_shard {
    int64_t loops, rows;
    uint64_t first_ns, total_ns;   /* sums over loops, measured on the shard's thread */
} explain_shard_t;

typedef struct explain_node {
    const void *key;
    int64_t loops, rows;           /* loops: runs that called next() at least once */
    uint64_t first_ns, total_ns;   /* sums over loops: to the first batch, to the end */
    int nshards;                   /* size of shards (the shard count), 0 = none seen */
    explain_shard_t *shards;
} explain_node_t;

typedef struct explain_instr {
    arena_t *arena;                /* nodes live here (the statement's arena) */
    unsigned opts;                 /* AST_EXPLAIN_* */
    int n, cap;
    explain_node_t **nodes;
} explain_instr_t;

/* The figures of key, created empty when missing (NULL on arena exhaustion). */
explain_node_t *explain_node(explain_instr_t *in, const void *key);
const explain_node_t *explain_find(const explain_instr_t *in, const void *key);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t explain_now_ns(void);

/* The plan text of inner (a query or INSERT / UPDATE / DELETE). With in (EXPLAIN
 * ANALYZE) every node carries its figures and ef_search is the one the run used.
 * Fills *lines (arena strings) and *n. Returns 0 or -1 on arena exhaustion. */
int explain_text(const bound_stmt_t *inner, const explain_instr_t *in, uint32_t ef_search, arena_t *a,
                 const char ***lines, int *n);
/* A query plan's text without figures (EXPLAIN of a SELECT). */
int explain_lines(const plan_t *p, arena_t *a, const char ***lines, int *n);
#endif
