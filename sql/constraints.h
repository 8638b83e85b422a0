/*
 * constraints.h -- FOREIGN KEY constraints: definition at CREATE TABLE, checks of the
 * referencing (child) rows a statement inserts, and of the referenced (parent) rows a
 * statement deletes or re-keys, with NO ACTION / RESTRICT / CASCADE / SET NULL.
 *
 * Model: a foreign key references the parent's primary key, so the parent row of a
 * child row is one point lookup on the shard owning that key. Child side: INSERT /
 * COPY collect the referenced keys of the rows they write (fk_pending_*) and, after
 * the rows are written and before the statement ends, look every key up on its
 * shard, locking the parent row for the rest of the transaction (txn_lock_latest:
 * an exclusive row lock stands in for PostgreSQL's FOR KEY SHARE), so a concurrent
 * DELETE of the parent waits for this transaction, and one that deleted first makes
 * the lookup fail (23503). Checking at statement end lets a statement insert a parent
 * and its children (or a self-referencing row) together, as PostgreSQL's statement
 * triggers do. Parent side (fk_after_statement): after a DELETE, or an UPDATE of
 * primary-key columns, every referencing table is searched for rows whose key has no
 * parent any more (one anti-join query per foreign key, at a fresh snapshot so that
 * children committed while the statement waited for its row locks are seen); NO
 * ACTION / RESTRICT raise 23503, CASCADE deletes those rows, SET NULL nulls their key
 * columns, each through an ordinary DELETE / UPDATE (which checks its own children
 * in turn, at most FK_CASCADE_DEPTH_MAX levels).
 *
 * Interface:
 *   fk_define                 CREATE TABLE: AST foreign keys -> cat_fk_t (PG's checks)
 *   fk_pending_new/add/check  child rows of one INSERT / COPY
 *   fk_after_statement        parent rows of one DELETE / key UPDATE; child UPDATEs
 *   fk_needs_statement_check  whether a statement needs either (no commit fast path)
 *   fk_referencing            the first other table referencing a table (DROP / TRUNCATE)
 *   fk_ref_index              the unique index a foreign key references (NULL: the PK)
 *   check_define / check_constraints_eval   CHECK constraints
 *
 * Limits / deviations: the referenced columns are the parent's primary key or a
 * unique index's columns (probed through its entries, sql/secindex.h); ON UPDATE actions other than NO ACTION / RESTRICT, SET
 * DEFAULT, DEFERRABLE and NOT VALID are 0A000;
 * an UPDATE of a
 * child's key columns is checked against the whole table at statement end without
 * locking the parents (a concurrent parent DELETE can slip through); the parent-side check costs one scan of each referencing table and of the parent
 * per statement (there are no secondary indexes yet).
 *
 * Thread: the coordinator's shard, inside fibers.
 */
#ifndef NEXTDB_CONSTRAINTS_H
#define NEXTDB_CONSTRAINTS_H
#include "sql/ast.h"
#include "sql/catalog.h"
#include "sql/error.h"

#define FK_CASCADE_DEPTH_MAX 16

struct exec_ctx;
struct bound_stmt;
typedef struct fk_pending fk_pending_t;

/* Fills def->nfks / def->fks from the CREATE TABLE's foreign keys (arena a). A key
 * referencing the table being created gets ref_table 0 (the catalog fills in the
 * new OID). */
int fk_define(arena_t *a, const catalog_t *c, const ast_t *create, cat_table_t *def, sql_error_t *err);
/* NULL when t has no foreign keys (or out of memory: then err is set). */
fk_pending_t *fk_pending_new(struct exec_ctx *ctx, const cat_table_t *t, sql_error_t *err);
int fk_pending_add(fk_pending_t *p, const datum_t *vals, const bool *nulls, sql_error_t *err);
/* Looks the collected keys up (locking the parent rows); 23503 for the first missing. */
int fk_pending_check(fk_pending_t *p, sql_error_t *err);
/* After a DELETE / UPDATE bs (inside its transaction): the parent-side checks and
 * actions, and for an UPDATE of a child's key columns the child-side check. */
int fk_after_statement(struct exec_ctx *ctx, const struct bound_stmt *bs, sql_error_t *err);
bool fk_needs_statement_check(const catalog_t *c, const struct bound_stmt *bs);
const cat_table_t *fk_referencing(const catalog_t *c, const cat_table_t *t, const cat_fk_t **fk);
/* The unique index of parent whose columns are f's referenced columns (as a set) when
 * f does not reference the primary key; NULL for a primary-key reference. */
const cat_index_t *fk_ref_index(const cat_table_t *parent, const cat_fk_t *f);

/* CHECK constraints: check_define fills def->checks from the CREATE TABLE (binding
 * each expression over def, PostgreSQL's default names "<table>_<col>_check" /
 * "<table>_check"); check_constraints_eval evaluates bs->checks over the rows of b
 * (table layout) and raises 23514 with PostgreSQL's "Failing row contains (...)". */
struct expr_ctx;
struct batch;
int check_define(arena_t *a, const catalog_t *c, const ast_t *create, cat_table_t *def, sql_error_t *err);
int check_constraints_eval(struct expr_ctx *x, const struct bound_stmt *bs, const struct batch *b, sql_error_t *err);
#endif
