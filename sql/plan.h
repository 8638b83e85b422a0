/*
 * plan.h -- bound statements and their plans: the output of the binder (bind.c),
 * shaped into a distributed plan, executed by exec*.c.
 *
 * Why: binding resolves names and types against one catalog snapshot; planning
 * decides what runs where. A plan is immutable once built, so a prepared statement
 * keeps it (plan cache) and re-executes it with new parameter values; all per-run
 * state lives in the executor.
 *
 * Model:
 *   - A query plan is a tree of plan_t. Leaves: PL_SCAN (a table: one fragment per
 *     shard, or exactly one shard when the WHERE fixes every primary-key column with
 *     equality: a point get), PL_VTAB (pg_catalog view, on the coordinator),
 *     PL_SERIES (generate_series), PL_VALUES (literal rows; one empty row for SELECT
 *     without FROM). Inner nodes run on the coordinator: FILTER, PROJECT, AGG (final
 *     or complete), SORT, LIMIT, DISTINCT, JOIN (hash join on equality keys, else
 *     nested loop; inner or left).
 *   - A PL_SCAN fragment carries its filter and, when the query aggregates a single
 *     table without DISTINCT aggregates, the GROUP BY keys and partial aggregates:
 *     each shard then returns one row per group (count, sum, sum+count for avg, min,
 *     max) and the coordinator's AGG merges them (mode PLAN_AGG_FINAL).
 *   - Column references in a node's expressions index its input row: the child's
 *     output, or for a JOIN the left columns followed by the right ones. A PL_SCAN's
 *     expressions index the table's columns (cat_table_t.cols order).
 *   - DML statements (INSERT/UPDATE/DELETE) keep the target table and per-row
 *     expressions; UPDATE/DELETE run their scan, re-check and write inside each
 *     shard's fragment (exec_shard.c).
 *
 * Thread: built on the coordinator; read-only afterwards (fragments read it from
 * other shards while the statement runs).
 */
#ifndef NEXTDB_PLAN_H
#define NEXTDB_PLAN_H
#include "sql/ast.h"
#include "sql/catalog.h"
#include "sql/expr.h"
#include "sql/pgcatalog.h"
#include "sql/session.h"

typedef enum plan_kind {
    PL_SCAN = 1, PL_VTAB, PL_SERIES, PL_VALUES, PL_FILTER, PL_PROJECT, PL_AGG, PL_SORT,
    PL_LIMIT, PL_DISTINCT, PL_JOIN,
    PL_APPEND,          /* child's rows, then right's (UNION ALL) */
    PL_COPY,            /* rows of a COPY FROM STDIN data stream (exec.c), typed as ncols/types */
    PL_WINDOW,          /* WindowAgg (exec_window.c): child's columns ++ one per window function */
    PL_RECURSIVE,       /* Recursive Union (exec_cte.c): child = non-recursive term, right = recursive */
    PL_WORKTABLE,       /* WorkTable Scan: the rows of the enclosing Recursive Union's last step */
    PL_REPEAT,          /* INTERSECT/EXCEPT ALL: child's first ncols columns, each row repeated
                         * by its last two (count) columns (exec_setop.c) */
    PL_LATERAL,         /* nested loop re-running `right` per left row, the row as its outer
                         * row (exec_lateral.c); uses `join` (left, quals) */
} plan_kind_t;


typedef enum plan_aggfn {
    AGG_COUNT_STAR, AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX,
    AGG_STRING_AGG,          /* string_agg(text, sep): never split into partial states */
    /* sql/exec_agg_ext.c, complete mode only (never split); keep the range contiguous */
    AGG_BOOL_AND, AGG_BOOL_OR, AGG_STDDEV_SAMP, AGG_STDDEV_POP, AGG_VAR_SAMP, AGG_VAR_POP,
    AGG_SUM_INTERVAL, AGG_AVG_INTERVAL,   /* sum / avg of interval */
    AGG_ARRAY_AGG, AGG_JSONB_AGG, AGG_JSON_AGG, AGG_JSONB_OBJECT_AGG, AGG_JSON_OBJECT_AGG,
    /* ordered-set aggregates (sql/exec_agg_ordset.c), inside the range above */
    AGG_PERCENTILE_CONT, AGG_PERCENTILE_DISC, AGG_MODE,
} plan_aggfn_t;
enum { PLAN_AGG_COMPLETE = 0, PLAN_AGG_PARTIAL = 1, PLAN_AGG_FINAL = 2 };

typedef struct plan_agg {
    plan_aggfn_t fn;
    bexpr_t *arg;            /* NULL for count(*) */
    bexpr_t *arg2;           /* string_agg's separator */
    bool distinct;
    bool desc;               /* ordered-set aggregates: WITHIN GROUP (ORDER BY x DESC) */
    type_oid_t argtype;
    type_oid_t rettype;
} plan_agg_t;

typedef struct plan_sortkey { bexpr_t *expr; bool desc; bool nulls_first; } plan_sortkey_t;

/* Window functions (PL_WINDOW). */
typedef enum plan_winfn {
    WF_ROW_NUMBER, WF_RANK, WF_DENSE_RANK, WF_PERCENT_RANK, WF_CUME_DIST, WF_NTILE,
    WF_LAG, WF_LEAD, WF_FIRST_VALUE, WF_LAST_VALUE, WF_NTH_VALUE,
    WF_AGG,             /* an aggregate over the frame: plan_winfunc_t.agg */
} plan_winfn_t;

/* One window: partition and order keys are columns of the WindowAgg's input. */
typedef struct plan_window {
    const char *name;            /* WINDOW name, or NULL */
    int npart;
    int *part_cols;
    int norder;
    plan_sortkey_t *order;       /* expr is a BX_COL of the input */
    int frame_options;           /* AST_FRAME_* bits */
    bexpr_t *start_offset, *end_offset;   /* row-free, typed for the frame mode */
} plan_window_t;

typedef struct plan_winfunc {
    plan_winfn_t fn;
    int win;                     /* index into window.wins */
    int nargs;
    int argcols[3];              /* input columns of the arguments */
    plan_agg_t agg;              /* WF_AGG: fn, argtype, rettype (arg/arg2 unused: argcols) */
    type_oid_t rettype;
} plan_winfunc_t;

/* ORDER BY keys LIMIT k pushed into a scan fragment: each shard keeps only its k
 * best rows (k = limit + offset, evaluated at run time) and the coordinator's
 * SORT + LIMIT above merge them. With `index`, key 0 is `col <op> query` ordered
 * like the index's metric and the shard answers from its HNSW graph. */
typedef struct plan_topk {
    int nkeys;
    plan_sortkey_t *keys;        /* over table columns */
    bexpr_t *limit, *offset;     /* row-free; offset NULL = 0 */
    const cat_vindex_t *index;   /* NULL: exact top-k over the scan */
    int vcol;                    /* the indexed column (table column index) */
    bexpr_t *query;              /* row-free query vector */
} plan_topk_t;

typedef struct plan plan_t;
struct plan {
    plan_kind_t kind;
    int ncols;
    type_oid_t *types;
    int32_t *typmods;
    plan_t *child;
    plan_t *right;
    union {
        struct {
            const cat_table_t *table;
            type_oid_t *coltypes;      /* per table column */
            bexpr_t *filter;           /* over table columns, or NULL */
            int nkey;                  /* npk when this is a point get, else 0 */
            bexpr_t **key;             /* PK values in key order (no column refs) */
            int ngroup;                /* partial aggregation pushed down when naggs > 0 || ngroup > 0 */
            bexpr_t **group;
            int naggs;
            plan_agg_t *aggs;
            bool agg_pushed;
            bool lock_rows;            /* SELECT ... FOR UPDATE: lock and return newest versions */
            plan_topk_t *topk;         /* per-shard ORDER BY ... LIMIT, or NULL */
            const cat_index_t *index;  /* Index Scan (secindex.c): equality on every column, */
            bexpr_t **ixkey;           /* these values (no column refs); or with ixkey NULL */
            bexpr_t *ixlo, *ixhi;      /* a range on the leading column (either may be NULL) */
            bool ixlo_incl, ixhi_incl;
        } scan;
        struct { const pgcat_vtab_t *vt; } vtab;
        struct {
            bexpr_t *start, *stop, *step;
            bexpr_t *unnest;     /* unnest(array) instead */
            bexpr_t *unnest2;    /* a second array zipped with it (jsonb_each: keys, values) */
            bool ordinality;     /* WITH ORDINALITY: a last int8 column numbering the rows */
        } series;
        struct { int nrows; bexpr_t ***rows; } values;
        struct { bexpr_t *pred; } filter;
        struct { bexpr_t **exprs; } project;
        struct { int ngroup; bexpr_t **group; int naggs; plan_agg_t *aggs; int mode; } agg;
        struct { int nkeys; plan_sortkey_t *keys; } sort;
        struct { bexpr_t *limit, *offset; int nties; plan_sortkey_t *ties; /* WITH TIES: ORDER BY keys */ } limit;
        /* PL_DISTINCT: nkeys 0 = whole rows (hash); else DISTINCT ON: the first row per
         * keycols group of input sorted with those columns leading (exec_distinct_on.c) */
        struct { int nkeys; int *keycols; } distinct;
        struct { bool except; } repeat;    /* min(l, r) times, or l - r times */
        struct { char delimiter; const char *null_string; const char **colnames; const char *relname;
                 const ast_copy_opts_t *opts;             /* csv, header, quote, escape */
                 bool *force_not_null, *force_null;       /* per field (csv), or NULL */
        } copy;
        struct { int nwins; plan_window_t *wins; int nfuncs; plan_winfunc_t *funcs; } window;
        /* PL_RECURSIVE: name for EXPLAIN and errors; PL_WORKTABLE: rec is its union */
        struct { const char *name; bool all; const struct plan *rec; } recursive;
        struct {
            bool left;                 /* LEFT JOIN: keep unmatched left rows */
            bool full;                 /* FULL JOIN: also keep unmatched right rows */
            bexpr_t *quals;            /* over left ++ right columns, or NULL */
            int nkeys;                 /* hash keys: lkeys over left, rkeys over right */
            bexpr_t **lkeys, **rkeys;
            type_oid_t *keytypes;
        } join;
    };
};

typedef enum stmt_kind {
    ST_QUERY = 1, ST_INSERT, ST_UPDATE, ST_DELETE, ST_CREATE, ST_DROP, ST_TRUNCATE, ST_TXN,
    ST_SET, ST_SHOW, ST_NOOP, ST_ALTER_PK,
} stmt_kind_t;

enum { SUBQ_SCALAR = 0, SUBQ_EXISTS = 1, SUBQ_IN = 2, SUBQ_ARRAY = 3 /* ARRAY(subquery) */ };
/* subq_kind values may carry SUBQ_CORRELATED: run per outer row, not up front */
#define SUBQ_CORRELATED 0x10

typedef struct bound_stmt {
    stmt_kind_t kind;
    const ast_t *ast;            /* utility statements execute from their AST */
    const char *noop_tag;        /* ST_NOOP: command tag ("VACUUM", "DISCARD ALL") */
    uint64_t catalog_version;    /* snapshot this was bound against */
    plan_t *plan;                /* ST_QUERY, INSERT source */
    int nvisible;                /* result columns sent to the client (plan may carry more) */
    int ncols;                   /* result description: -1 = no rows (NoData) */
    sql_coldesc_t *cols;
    int nparams;
    type_oid_t *param_types;
    int nsubq;                   /* uncorrelated subqueries, evaluated before the plan */
    plan_t **subq;
    int *subq_kind;
    /* DML */
    const cat_table_t *table;
    type_oid_t *coltypes;
    bexpr_t *where;              /* over table columns */
    int nkey;                    /* point DML: PK values in key order */
    bexpr_t **key;
    const cat_index_t *dml_index; /* UPDATE / DELETE candidates from this index's equality, */
    bexpr_t **dml_ixkey;         /* these values (sql/secindex.h), when nkey is 0 */
    int nset;                    /* UPDATE: column indexes and new values */
    int *set_idx;
    bexpr_t **set_exprs;
    bool set_changes_pk;
    bool is_copy;                /* ST_INSERT from COPY FROM STDIN: tag "COPY n" */
    int nchecks;                 /* CHECK constraints of the target table, over its columns */
    bexpr_t **checks;
    int upsert;                  /* INSERT ... ON CONFLICT on the primary key: 1 DO NOTHING,
                                  * 2 DO UPDATE (set_idx / set_exprs / where then range over
                                  * the existing row's columns ++ EXCLUDED's; sql/exec_upsert.c) */
    const cat_index_t *upsert_index; /* the arbiter when it is a unique index, else NULL (the PK) */
    bool upsert_any;             /* DO NOTHING without a target: every unique index is an arbiter */
    int nreturning;
    bexpr_t **returning;         /* over table columns */
    int ndeps;                   /* catalog relations the statement reads (tables, views) */
    const uint32_t *deps;
    /* UPDATE ... FROM / DELETE ... USING (sql/exec_update_from.c): from_plan joins the
     * target (its ncols columns first) with the other items under the WHERE clause;
     * where, set_exprs and returning then range over all from_ncols columns (the
     * target's newest version ++ the joined source row) */
    plan_t *from_plan;
    int from_ncols;
    /* Correlated subqueries in UPDATE / DELETE (sql/bind_dml_corr.c, exec_dml_corr.c):
     * from_plan's rows end with the values of the ncorr correlated subqueries of SET
     * and RETURNING (set_exprs and returning read them as columns from_ncols - ncorr
     * ...; where is NULL: the coordinator decided every row). corr_where (or NULL) and
     * corr_vals are the same expressions as bound, over the first from_ncols - ncorr
     * columns: the coordinator re-evaluates them over a row's newest version when the
     * row changed after the statement's snapshot (EvalPlanQual) */
    bool corr;
    int ncorr;
    int ncorr_set;               /* corr_vals[0, ncorr_set) are SET's, the rest RETURNING's */
    bexpr_t **corr_vals;
    bexpr_t *corr_where;
    bool corr_old;               /* corr_where also reads the decided version of the row ++
                                  * its source columns, as columns from_ncols ... */
    /* COPY ... TO STDOUT (ST_QUERY over plan, rows sent as CopyData; sql/copy_out.c) */
    const ast_t *copy_to;        /* the AST_COPY: delimiter, NULL string, options */
    bool *copy_force_quote;      /* per output column (csv FORCE_QUOTE) */
    const char **copy_names;     /* column names for HEADER */
    /* EXPLAIN ANALYZE (sql/explain_analyze.c): an ST_QUERY whose rows are the plan text
     * of explain_inner, run with the counters on; AST_EXPLAIN_* options; bind time */
    struct bound_stmt *explain_inner;
    unsigned explain_opts;
    uint64_t explain_plan_ns;
} bound_stmt_t;

/* Session facts the binder needs (search path is fixed: pg_catalog, public). */
typedef struct bind_env {
    arena_t *arena;              /* where the bound statement lives */
    const catalog_t *catalog;
    int nparams;                 /* from Parse (types may be 0 = infer) */
    const type_oid_t *param_types;
    const char *text;            /* statement text, for error positions */
    int text_offset;             /* statement start inside the text */
    const char *search_path;     /* the session's search_path; NULL = "$user", public */
} bind_env_t;

/* Binds and plans one statement. Returns the bound statement or NULL + err. */
bound_stmt_t *bind_statement(const bind_env_t *env, const ast_t *stmt, sql_error_t *err);
/* Binds CHECK expression sql over table t (which need not be in the catalog yet):
 * 42804 unless boolean, 42803 aggregates, 0A000 subqueries. *single_col gets the
 * column index when exactly one column is referenced (PostgreSQL's default name
 * "<table>_<col>_check"), else -1. */
int bind_check_constraint(const bind_env_t *env, const cat_table_t *t, const char *sql, int *single_col,
                          bexpr_t **out, sql_error_t *err);

/* Routing (plan.c): the shard owning an encoded primary key. The hash is a 64-bit
 * FNV-1a over the memcomparable key bytes, folded with a final avalanche (see
 * sql/README.md); it must never change, since data directories depend on it. */
int sql_route_key(const uint8_t *key, size_t len, int shards_count);
uint64_t plan_key_hash(const uint8_t *key, size_t len);
/* Types of a table's columns (arena). */
type_oid_t *plan_table_types(arena_t *a, const cat_table_t *t);
#endif
