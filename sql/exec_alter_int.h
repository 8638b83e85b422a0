/*
 * exec_alter_int.h -- what the ALTER TABLE files share (exec_alter.c applies the
 * subcommands; exec_alter_type.c rewrites the table for ALTER COLUMN TYPE;
 * exec_alter_cons.c adds and drops CHECK / FOREIGN KEY / UNIQUE constraints).
 *
 * Interface:
 *   exec_alter_type_check  may column c of def become type / typmod (42804, 0A000)
 *   exec_alter_rewrite     copy every row into def (new storage id) and switch
 *
 * Thread: shard threads, inside the session's fiber.
 */
#ifndef NEXTDB_EXEC_ALTER_INT_H
#define NEXTDB_EXEC_ALTER_INT_H
#include "sql/exec_int.h"

/* Before def->cols[c] takes the new type: the view, cast (without USING), index,
 * primary-key and foreign-key rules of PostgreSQL's ALTER COLUMN TYPE. 0 or -1 + err. */
int exec_alter_type_check(exec_ctx_t *ctx, const cat_table_t *old, const cat_table_t *def, int c,
                          type_oid_t type, int32_t typmod, bool has_using, sql_error_t *err);
/* Rewrites old into def (same slots; changed[c] columns take their new type from
 * using_sql[c] or the column, by assignment cast) and switches the catalog to it.
 * Nothing changes on failure. def->oid and its index OIDs are assigned here. */
int exec_alter_rewrite(exec_ctx_t *ctx, const cat_table_t *old, cat_table_t *def, const char *const *using_sql,
                       const bool *changed, sql_error_t *err);
#endif
