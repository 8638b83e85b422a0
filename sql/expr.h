/*
 * expr.h -- bound (typed) expressions, column batches, and vectorized evaluation.
 *
 * Why: the binder turns AST expressions into bexpr_t trees whose every node has a
 * resolved type and whose column references are positions in the input batch; the
 * executor evaluates them a batch at a time, on the coordinator or inside fragments
 * on other shards (a bound tree is immutable after binding, so any shard may read it
 * while the statement runs).
 *
 * Model:
 *   - batch_t: up to `cap` rows as column vectors (datum_t array + null flags per
 *     column), all in one arena. Batches handed between operators are compact (no
 *     selection vector); a filter copies the surviving rows' datums (8 bytes each).
 *   - expr_eval computes an expression for the rows listed in `sel` (NULL = rows
 *     0..nrows-1), writing results at the same row positions. CASE, COALESCE, AND and
 *     OR narrow the selection for their later arms, so an arm is evaluated only on the
 *     rows that reach it (CASE WHEN x = 0 THEN 0 ELSE 1 / x END never divides by 0).
 *
 * Interface:
 *   batch_new / batch_copy_row / batch_compact     column batches
 *   expr_eval                                     vectorized evaluation
 *   expr_eval_const                               one value of a row-free expression
 *   expr_like                                     LIKE/ILIKE matcher
 *
 * Thread: evaluation touches only its arguments; any shard thread.
 */
#ifndef NEXTDB_EXPR_H
#define NEXTDB_EXPR_H
#include <stdbool.h>
#include <stdint.h>
#include "core/arena.h"
#include "sql/builtins.h"
#include "sql/error.h"
#include "sql/types.h"

typedef struct batch {
    int ncols;
    int nrows;
    int cap;
    datum_t **vals;    /* [ncols][cap] */
    bool **nulls;      /* [ncols][cap] */
} batch_t;

typedef enum bx_kind {
    BX_CONST = 1, BX_COL, BX_PARAM,
    BX_CMP,          /* op: BX_OP_EQ..; args[0], args[1] of type `optype` */
    BX_ARITH,        /* op: ARITH_*; operands and result of `type` */
    BX_CONCAT,       /* text || text */
    BX_AND, BX_OR, BX_NOT,
    BX_FUNC,         /* builtin */
    BX_CAST,         /* args[0] from args[0]->type to type/typmod, ctx in op */
    BX_NULLTEST,     /* op 1 = IS NOT NULL */
    BX_BOOLTEST,     /* op: 1 true, 2 false, 3 unknown; flag = negate */
    BX_CASE,         /* args: when0, then0, when1, then1, ..., [else]; flag = has else */
    BX_COALESCE,
    BX_MINMAX,       /* flag = greatest */
    BX_NULLIF,       /* args[0], args[1] compared as optype */
    BX_DISTINCT,     /* IS [NOT] DISTINCT FROM; flag = NOT */
    BX_IN,           /* args[0] IN (args[1..]); flag = NOT; compared as optype */
    BX_LIKE,         /* args: value, pattern, [escape]; op bit0 = NOT, bit1 = ILIKE */
    BX_SUBQ,         /* subquery value: slot `index`; flag = correlated (run per row) */
    BX_OUTER,        /* column `index` of the enclosing query's current row */
    BX_INSUBQ,       /* args[0] IN (uncorrelated subquery `index`), compared as optype */
    BX_REGCLASS_NAME,/* oid -> relation name text (regclass output) */
    BX_REGEX,        /* POSIX regex match: args value, pattern; op bit0 = NOT, bit1 = ICASE */
    BX_GUC,          /* op 0: current_setting(name[, missing_ok]); op 1: set_config(n, v, local) */
    BX_ARRAY,        /* ARRAY[args...] of element type optype */
    BX_ANYARR,       /* args[0] op ANY (flag: ALL) (args[1] array); compared as optype */
    BX_SUBSCRIPT,    /* args[0][args[1]]: element (1-based), NULL when out of range */
} bx_kind_t;

enum { BX_OP_EQ, BX_OP_NE, BX_OP_LT, BX_OP_LE, BX_OP_GT, BX_OP_GE };

/* The sorted, de-duplicated non-null values of an IN (subquery) set. */
typedef struct expr_set { int64_t n; datum_t *vals; bool has_null; } expr_set_t;

typedef struct bexpr bexpr_t;
struct bexpr {
    bx_kind_t kind;
    type_oid_t type;
    int32_t typmod;
    int op;
    bool flag;
    type_oid_t optype;       /* operand type for comparisons */
    int index;               /* BX_COL column, BX_PARAM 0-based number, BX_SUBQ slot */
    datum_t val;             /* BX_CONST */
    bool isnull;             /* BX_CONST */
    int nargs;
    bexpr_t **args;
    const builtin_t *fn;     /* BX_FUNC */
    const char *colname;     /* BX_COL: for messages and output names */
};

/* Per-evaluation context: parameter values, subquery results, session facts for
 * builtins, and the arena results are allocated in. */
typedef struct expr_ctx {
    arena_t *arena;
    const datum_t *params;
    const bool *param_nulls;
    int nparams;
    const datum_t *subq_vals;    /* results of BX_SUBQ slots */
    const bool *subq_nulls;
    const expr_set_t *subq_sets;  /* IN (subquery) sets by slot */
    const builtin_ctx_t *bctx;
    int depth;
    /* correlated subqueries (coordinator only): the enclosing row, and a runner */
    const datum_t *outer_vals;
    const bool *outer_nulls;
    void *subq_arg;
    int (*subq_run)(void *arg, int slot, const batch_t *in, int row, arena_t *dst, datum_t *out,
                    bool *isnull, sql_error_t *err);
    /* settings access for current_setting / set_config (coordinator only) */
    void *guc_arg;
    int (*guc_get)(void *arg, const char *name, bool missing_ok, const char **value,
                   sql_error_t *err);
    int (*guc_set)(void *arg, const char *name, const char *value, bool is_local,
                   sql_error_t *err);
} expr_ctx_t;

batch_t *batch_new(arena_t *a, int ncols, int cap);
/* Appends row `row` of src to dst (datums are copied, strings shared). */
void batch_copy_row(batch_t *dst, const batch_t *src, int row);
/* Appends a row given as arrays. */
void batch_append(batch_t *dst, const datum_t *vals, const bool *nulls);

/* Evaluates e over batch rows sel[0..nsel) (sel NULL: all rows 0..in->nrows-1),
 * writing out[row]/outnull[row]. Returns 0 or -1 + err. */
int expr_eval(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *sel, int nsel,
              datum_t *out, bool *outnull, sql_error_t *err);
/* Evaluates an expression that references no columns (constants, params, now()). */
int expr_eval_const(expr_ctx_t *x, const bexpr_t *e, datum_t *out, bool *isnull, sql_error_t *err);
/* Evaluates a boolean filter and returns in sel_out the rows where it is true.
 * Returns the number of such rows, or -1 + err. */
int expr_filter(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, int *sel_out, sql_error_t *err);
/* LIKE matching with PostgreSQL semantics (% _ and an escape character, default
 * backslash; esc < 0 = no escape). ILIKE folds ASCII case. 22025 on a bad escape. */
int expr_like(const char *s, size_t slen, const char *p, size_t plen, int esc, bool ilike,
              bool *match, sql_error_t *err);
/* Whether a datum of type t points to a vstr_t. */
bool expr_type_is_string(type_oid_t t);
/* Compares with SQL NULL ordering for sorts: nulls_first says where NULLs go. */
int expr_cmp_nulls(type_oid_t t, datum_t a, bool an, datum_t b, bool bn, bool nulls_first);
#endif
