/*
 * explain_analyze.h -- EXPLAIN ANALYZE's run: counters on, the statement executed,
 * its plan printed with what was measured (sql/explain_analyze.c).
 *
 * Use (sql/session.c): explain_begin, then explain_run_query for a query or the
 * session's own DML path followed by explain_note_modify, then explain_finish, whose
 * operator hands out the text lines as the statement's rows ("QUERY PLAN").
 *
 * Thread: the coordinator.
 */
#ifndef NEXTDB_EXPLAIN_ANALYZE_H
#define NEXTDB_EXPLAIN_ANALYZE_H
#include "sql/exec_int.h"
#include "sql/explain.h"

/* Turns the counters on for everything ctx builds from now on (AST_EXPLAIN_* opts). */
explain_instr_t *explain_begin(exec_ctx_t *ctx, unsigned opts);
/* Builds, drains and closes p: 0 or -1 + err. */
int explain_run_query(exec_ctx_t *ctx, const plan_t *p, sql_error_t *err);
/* After an INSERT / UPDATE / DELETE ran: its ModifyTable node's figures. */
void explain_note_modify(exec_ctx_t *ctx, const bound_stmt_t *bs, int64_t count, uint64_t ns);
/* Turns the counters off; an operator emitting bs's plan text (bs->explain_inner
 * with the figures, then Planning / Execution Time when SUMMARY), or NULL + err. */
exec_op_t *explain_finish(exec_ctx_t *ctx, const bound_stmt_t *bs, uint64_t exec_ns, sql_error_t *err);
#endif
