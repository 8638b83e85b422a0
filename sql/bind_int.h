/*
 * bind_int.h -- the binder's internals shared with its satellite files:
 * bind_window.c (window functions, WINDOW clauses, the WindowAgg plan) and
 * bind_cte.c (WITH RECURSIVE). bind.c keeps its structures private; these wrappers
 * are the narrow hook through which the satellites bind expressions and subqueries
 * and build plan nodes.
 *
 * Thread: the binding session's, like bind.c.
 */
#ifndef NEXTDB_BIND_INT_H
#define NEXTDB_BIND_INT_H
#include "sql/plan.h"

#define BX_AGGREF 100     /* as in bind.c: an aggregate call before rewriting */
#define BX_WINREF 101     /* binder-internal: a window function call before planning */

typedef struct binder binder_t;
typedef struct scope scope_t;
typedef struct bind_win bind_win_t;     /* one query level's window state (bind_window.c) */
typedef struct bind_rec bind_rec_t;     /* an active WITH RECURSIVE (bind_cte.c) */

/* ---- bind.c, for the satellites ---- */
void *bind__alloc(binder_t *b, size_t n);
sql_error_t *bind__err(binder_t *b);
void bind__pos(binder_t *b, int location);
const char *bind__typename(binder_t *b, type_oid_t t);
bexpr_t *bind__expr(binder_t *b, const ast_t *n, const scope_t *sc);
bexpr_t *bind__coerce(binder_t *b, bexpr_t *e, type_oid_t to, int32_t typmod, int location);
bexpr_t *bind__resolve_unknown(binder_t *b, bexpr_t *e);
bexpr_t *bind__col(binder_t *b, int index, type_oid_t type, int32_t typmod, const char *name);
bool bind__equal(const bexpr_t *x, const bexpr_t *y);
plan_t *bind__plan(binder_t *b, plan_kind_t kind, int ncols);
/* Rewrites e over (groups ++ aggregates) of an aggregating query (42803 for a bare
 * column). */
bexpr_t *bind__agg_rewrite(binder_t *b, bexpr_t *e, bexpr_t **groups, int ngroup);
/* The aggregate function number of name (AGG_*), or -1. */
int bind__aggfn(const char *name);
/* Binds aggregate call n as a window aggregate: its arguments are at the query's
 * level (they may contain ordinary aggregates); the aggregate itself goes to *out,
 * not to the query's aggregate list. */
int bind__win_agg(binder_t *b, const ast_t *n, const scope_t *sc, int fn, plan_agg_t *out);
/* Whether aggregates are allowed where the binder is; *context names the clause
 * that refuses them (NULL inside an aggregate's arguments). */
bool bind__agg_allowed(binder_t *b, const char **context);
bind_win_t **bind__win_slot(binder_t *b);
bind_rec_t **bind__rec_slot(binder_t *b);
/* The enclosing query's scope while a subquery expression is bound (identity only). */
const void *bind__outer(binder_t *b);
/* Binds a subquery as b_select does; *nvisible visible columns named *names. */
plan_t *bind__select(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                     sql_coldesc_t **descs);
/* Adds a FROM source of the given columns to sc (aliases applied). */
int bind__add_source(binder_t *b, scope_t *sc, const char *alias, int ncols, const char *const *names,
                     const type_oid_t *types, const int32_t *typmods, const ast_list_t *colaliases);
/* p's first n columns as types (unknown literals typed, else implicit casts). */
plan_t *bind__conform(binder_t *b, plan_t *p, int n, const type_oid_t *types);

/* ---- bind_srf.c ---- */
/* A select whose select list calls a set-returning function, rewritten with the call
 * moved into a LATERAL FROM item (*out; NULL when there is none). -1 on error. */
int bind_srf_rewrite(binder_t *b, const ast_select_t *q, const ast_select_t **out);

/* ---- bind_window.c ---- */
/* Starts a query level: the WINDOW clause's definitions; saves the outer level's
 * state into *saved (restore with bind_win_end). */
int bind_win_begin(binder_t *b, const ast_select_t *q, bind_win_t **saved);
void bind_win_end(binder_t *b, bind_win_t *saved);
/* Whether window functions are refused from here on (HAVING etc.): ctx names the
 * clause; NULL allows them again. */
void bind_win_refuse(binder_t *b, const char *ctx);
/* A function call with OVER, or a window-only function (42809 without OVER). */
bool bind_win_is_window_call(const ast_t *n);
bexpr_t *bind_win_call(binder_t *b, const ast_t *n, const scope_t *sc);
/* After aggregation: a WindowAgg over cur computing this level's window functions,
 * with the target list's BX_WINREFs rewritten to its output columns. Returns cur
 * unchanged when the level has none. */
plan_t *bind_win_plan(binder_t *b, plan_t *cur, bexpr_t **exprs, int nexprs, bexpr_t **groups, int ngroup,
                      bool aggregating);

/* ---- bind_cte.c ---- */
/* A WITH RECURSIVE query (q->cte_name set): Recursive Union of its two terms. */
plan_t *bind_cte_recursive(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                           sql_coldesc_t **descs);
/* A FROM reference to a recursive WITH query (AST_CTEREF). */
plan_t *bind_cte_ref(binder_t *b, const ast_t *n, scope_t *sc);

/* ---- bind_dml_corr.c ---- */
/* UPDATE / DELETE running a correlated subquery in WHERE, SET or RETURNING: plans the
 * rows on the coordinator (bs->corr, from_plan; sql/plan.h). 0 when there is none.
 * where is the statement's WHERE AST (or NULL), sc the scope it was bound in. */
int bind_dml_corr(binder_t *b, bound_stmt_t *bs, const cat_table_t *t, const ast_t *where, const scope_t *sc);
/* The sublink bound into subquery slot `slot`. */
const ast_t *bind__subq_ast(binder_t *b, int slot);
/* Binds n over sc; inside shift_node, references to sc's columns from a subquery
 * read the enclosing row's column index + shift. */
bexpr_t *bind__shifted_expr(binder_t *b, const ast_t *n, const scope_t *sc, const ast_t *shift_node, int shift);
#endif
