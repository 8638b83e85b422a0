/*
 * exec_upsert.h -- INSERT ... ON CONFLICT (bound_stmt_t.upsert) on the primary key:
 * the coordinator loop and the shard fragment. See exec_upsert.c for the model.
 *
 *   exec_upsert   coordinator: drains op (the INSERT's source rows), routes them,
 *                 collects counts and RETURNING rows
 *   frag_upsert   shard: insert, or on conflict nothing / update, per row
 *
 * Thread: shard threads, inside fibers.
 */
#ifndef NEXTDB_EXEC_UPSERT_H
#define NEXTDB_EXEC_UPSERT_H
#include "sql/exec_int.h"

int exec_upsert(exec_ctx_t *ctx, const bound_stmt_t *bs, exec_op_t *op, rowstore_t *ret, int64_t *count,
                sql_error_t *err);
int frag_upsert(void *arg);
#endif
