/*
 * ast.h -- NextDB's own abstract syntax tree for the SQL subset we execute.
 *
 * Why: libpg_query hands us PostgreSQL's raw parse tree as protobuf-c structures.
 * Those are large, generic and tied to one library version; sql/parse.c converts them
 * at once into this small tree and frees the protobuf, so the binder never touches
 * protobuf and the set of supported constructs is explicit: anything parse.c does
 * not convert is refused with 0A000 "<construct> is not supported".
 *
 * Model: every node is an ast_t with a kind and a source location (byte offset into
 * the statement text, -1 = unknown; used for error cursor positions). Children and
 * lists live in the same arena as the node (the statement arena or a prepared
 * statement's arena); nothing is freed individually.
 *
 * Interface: the node structs below; sql/parse.h builds them.
 *
 * Thread: plain data; owned by whoever owns the arena.
 */
#ifndef NEXTDB_AST_H
#define NEXTDB_AST_H
#include <stdbool.h>
#include <stdint.h>

typedef struct ast ast_t;
typedef struct ast_list { int n; ast_t **items; } ast_list_t;

/* EXPLAIN options (ast_t.explain.opts), after PostgreSQL's defaults: COSTS on,
 * TIMING and SUMMARY following ANALYZE unless given. */
enum {
    AST_EXPLAIN_ANALYZE = 1u << 0, AST_EXPLAIN_VERBOSE = 1u << 1, AST_EXPLAIN_COSTS = 1u << 2,
    AST_EXPLAIN_BUFFERS = 1u << 3, AST_EXPLAIN_SETTINGS = 1u << 4, AST_EXPLAIN_TIMING = 1u << 5,
    AST_EXPLAIN_SUMMARY = 1u << 6, AST_EXPLAIN_WAL = 1u << 7,
};

typedef enum ast_kind {
    /* expressions */
    AST_CONST = 1,      /* literal: c.ctype below */
    AST_COLREF,         /* [table.]column or [table.]* */
    AST_PARAM,          /* $n */
    AST_OP,             /* binary or unary operator by name */
    AST_AND, AST_OR, AST_NOT,
    AST_FUNC,           /* function call, possibly an aggregate */
    AST_CAST,           /* CAST(x AS t) / x::t */
    AST_NULLTEST,       /* IS [NOT] NULL */
    AST_BOOLTEST,       /* IS [NOT] TRUE/FALSE/UNKNOWN */
    AST_CASE,
    AST_COALESCE,
    AST_MINMAX,         /* GREATEST / LEAST */
    AST_NULLIF,
    AST_DISTINCT_FROM,  /* IS [NOT] DISTINCT FROM */
    AST_IN,             /* x [NOT] IN (list) */
    AST_BETWEEN,        /* x [NOT] BETWEEN a AND b */
    AST_LIKE,           /* x [NOT] LIKE / ILIKE p [ESCAPE e] */
    AST_ANY,            /* x op ANY/ALL (array expression) */
    AST_ARRAY,          /* ARRAY[...] */
    AST_SUBLINK,        /* (SELECT ...), EXISTS (...), x IN (SELECT ...) */
    AST_SQLFN,          /* CURRENT_TIMESTAMP, CURRENT_USER, ... */
    AST_DEFAULT,        /* DEFAULT in INSERT VALUES / UPDATE SET */
    AST_SUBSCRIPT,      /* array[index] (pair.l = array, pair.r = index) */
    AST_GROUPING_SET,   /* GROUP BY item: gset.kind over gset.items (ROLLUP, CUBE, ...) */
    AST_GROUPING_FUNC,  /* GROUPING(args) */
    /* FROM items */
    AST_RANGEVAR,
    AST_RANGEFUNC,
    AST_JOIN,
    AST_RANGESUB,
    /* statements */
    AST_SELECT,
    AST_INSERT,
    AST_UPDATE,
    AST_DELETE,
    AST_CREATE_TABLE,
    AST_DROP_TABLE,
    AST_TRUNCATE,
    AST_TXN,
    AST_SET,
    AST_SHOW,
    AST_VACUUM,         /* VACUUM / ANALYZE: accepted, nothing to do; show.name = tag */
    AST_ALTER_ADD_PK,
    AST_DISCARD,
    AST_CREATE_EXTENSION,
    AST_EXPLAIN,
    AST_PREPARE,        /* PREPARE name [(types)] AS stmt */
    AST_EXECUTE,        /* EXECUTE name [(args)] */
    AST_DEALLOCATE,     /* DEALLOCATE [PREPARE] name | ALL (name NULL) */
    AST_CREATE_INDEX,   /* CREATE [UNIQUE] INDEX [name] ON table [USING m] (columns): hnsw
                         * runs in sql/vindex_ddl.c, btree/hash in exec_dml.c */
    AST_DROP_INDEX,     /* DROP INDEX [IF EXISTS] names: drop.tables are AST_RANGEVARs */
    AST_COPY,           /* COPY table [(columns)] FROM STDIN, text format */
    AST_WINDOWDEF,      /* OVER (...) / WINDOW w AS (...): win below (sql/bind_window.c) */
    AST_CTEREF,         /* FROM reference to a WITH RECURSIVE query: cteref below */
    AST_CREATE_SEQ,     /* CREATE SEQUENCE [IF NOT EXISTS] name [options]: seq below */
    AST_DROP_SEQ,       /* DROP SEQUENCE [IF EXISTS] names: drop.tables are AST_RANGEVARs */
    AST_DECLARE_CURSOR, /* DECLARE name [NO SCROLL] CURSOR [WITHOUT HOLD] FOR select: cursor below */
    AST_FETCH,          /* FETCH [FORWARD] [n | ALL] [FROM | IN] name: cursor below */
    AST_CLOSE_CURSOR,   /* CLOSE name | ALL (name NULL): cursor below */
    AST_CREATE_VIEW,    /* CREATE [OR REPLACE] VIEW name [(cols)] AS query: view below */
    AST_DROP_VIEW,      /* DROP VIEW [IF EXISTS] names: drop.tables are AST_RANGEVARs */
    AST_ALTER_TABLE,    /* ALTER TABLE [IF EXISTS] t subcommands, ALTER TABLE t RENAME ...: alter below */
} ast_kind_t;

/* One ALTER TABLE subcommand (sql/exec_alter.c). */
typedef enum ast_alter_kind {
    AST_AT_ADD_COLUMN = 1,      /* def: an AST_CREATE_TABLE holding the one column */
    AST_AT_DROP_COLUMN,         /* name; missing_ok = IF EXISTS */
    AST_AT_SET_DEFAULT,         /* name, default_sql (NULL: DROP DEFAULT) */
    AST_AT_SET_NOT_NULL,        /* name */
    AST_AT_DROP_NOT_NULL,       /* name */
    AST_AT_RENAME_COLUMN,       /* name -> newname */
    AST_AT_RENAME_TABLE,        /* newname */
    AST_AT_ALTER_TYPE,          /* name, type, using_sql (NULL: no USING) -- rewrites (exec_alter_type.c) */
    AST_AT_ADD_CONSTRAINT,      /* def: an AST_CREATE_TABLE holding one CHECK or FOREIGN KEY */
    AST_AT_DROP_CONSTRAINT,     /* name; missing_ok = IF EXISTS */
} ast_alter_kind_t;
typedef struct ast_alter_cmd {
    ast_alter_kind_t kind;
    const char *name, *newname;
    struct ast *def;
    const char *default_sql;
    bool missing_ok;
    struct ast_typename *type;  /* AST_AT_ALTER_TYPE */
    const char *using_sql;      /* AST_AT_ALTER_TYPE: the USING expression (deparsed) */
} ast_alter_cmd_t;

/* Frame option bits of a window definition, PostgreSQL's FRAMEOPTION_* values
 * (libpg_query hands them over as is). */
enum {
    AST_FRAME_NONDEFAULT = 0x1, AST_FRAME_RANGE = 0x2, AST_FRAME_ROWS = 0x4, AST_FRAME_GROUPS = 0x8,
    AST_FRAME_BETWEEN = 0x10, AST_FRAME_START_UNBOUNDED_PRECEDING = 0x20,
    AST_FRAME_END_UNBOUNDED_PRECEDING = 0x40, AST_FRAME_START_UNBOUNDED_FOLLOWING = 0x80,
    AST_FRAME_END_UNBOUNDED_FOLLOWING = 0x100, AST_FRAME_START_CURRENT_ROW = 0x200,
    AST_FRAME_END_CURRENT_ROW = 0x400, AST_FRAME_START_OFFSET_PRECEDING = 0x800,
    AST_FRAME_END_OFFSET_PRECEDING = 0x1000, AST_FRAME_START_OFFSET_FOLLOWING = 0x2000,
    AST_FRAME_END_OFFSET_FOLLOWING = 0x4000, AST_FRAME_EXCLUDE_CURRENT_ROW = 0x8000,
    AST_FRAME_EXCLUDE_GROUP = 0x10000, AST_FRAME_EXCLUDE_TIES = 0x20000,
};

typedef enum ast_const_type {
    AST_C_NULL, AST_C_INT, AST_C_NUMERIC, AST_C_STRING, AST_C_BOOL,
} ast_const_type_t;

typedef enum ast_sqlfn {
    AST_SQLFN_CURRENT_TIMESTAMP, AST_SQLFN_CURRENT_DATE, AST_SQLFN_LOCALTIMESTAMP,
    AST_SQLFN_CURRENT_USER, AST_SQLFN_SESSION_USER, AST_SQLFN_CURRENT_CATALOG,
    AST_SQLFN_CURRENT_SCHEMA, AST_SQLFN_LOCALTIME,
} ast_sqlfn_t;

typedef enum ast_setop { AST_SETOP_UNION, AST_SETOP_INTERSECT, AST_SETOP_EXCEPT } ast_setop_t;
typedef enum ast_sublink_type { AST_SUB_EXISTS, AST_SUB_ANY, AST_SUB_ALL, AST_SUB_EXPR, AST_SUB_ARRAY } ast_sublink_type_t;
typedef enum ast_join_type { AST_JOIN_INNER, AST_JOIN_LEFT, AST_JOIN_RIGHT, AST_JOIN_FULL, AST_JOIN_CROSS } ast_join_type_t;
typedef enum ast_txn_kind {
    AST_TXN_BEGIN, AST_TXN_COMMIT, AST_TXN_ROLLBACK,
    AST_TXN_SAVEPOINT, AST_TXN_RELEASE, AST_TXN_ROLLBACK_TO,   /* txn.savepoint names it */
} ast_txn_kind_t;
typedef enum ast_set_kind { AST_SET_VALUE, AST_SET_DEFAULT, AST_SET_RESET_ALL, AST_SET_TXN } ast_set_kind_t;

/* Isolation levels, as SET TRANSACTION / BEGIN ISOLATION LEVEL name them. */
typedef enum ast_isolation {
    AST_ISO_DEFAULT = 0, AST_ISO_READ_UNCOMMITTED, AST_ISO_READ_COMMITTED,
    AST_ISO_REPEATABLE_READ, AST_ISO_SERIALIZABLE,
} ast_isolation_t;

/* GROUP BY grouping-set items; SIMPLE is a parenthesized column list inside one. */
typedef enum ast_gset_kind {
    AST_GSET_EMPTY, AST_GSET_SIMPLE, AST_GSET_ROLLUP, AST_GSET_CUBE, AST_GSET_SETS,
} ast_gset_kind_t;

typedef struct ast_typename {
    const char *name;       /* last component, lower case ("int4", "varchar") */
    int ntypmods;
    int32_t typmods[2];
    bool is_array;
} ast_typename_t;

/* COPY's format options besides DELIMITER and NULL (column lists by name). */
typedef struct ast_copy_opts {
    bool csv;
    int header;                      /* 0 none, 1 HEADER, 2 HEADER MATCH (FROM only) */
    char quote, escape;              /* csv only; '"' and the quote by default */
    bool force_quote_all;            /* FORCE_QUOTE * */
    int nforce_quote, nforce_not_null, nforce_null;
    const char **force_quote, **force_not_null, **force_null;
} ast_copy_opts_t;

typedef struct ast_target { const char *name; ast_t *expr; int location; } ast_target_t;
typedef struct ast_sortby { ast_t *expr; bool desc; int nulls; /* 0 default, 1 first, 2 last */ } ast_sortby_t;

typedef struct ast_coldef {
    const char *name;
    ast_typename_t type;
    bool not_null;
    bool primary_key;
    ast_t *default_expr;
    const char *default_sql;    /* deparsed text of the default, for the catalog */
    int serial_bytes;           /* smallserial 2 / serial 4 / bigserial 8, else 0 */
    char identity;              /* 'a' GENERATED ALWAYS / 'd' BY DEFAULT AS IDENTITY, else 0 */
    int nseqopts;               /* identity sequence options, as for CREATE SEQUENCE */
    const char **seqopt_names, **seqopt_values;
} ast_coldef_t;

/* FOREIGN KEY / REFERENCES: actions 'a' NO ACTION, 'r' RESTRICT, 'c' CASCADE,
 * 'n' SET NULL, 'd' SET DEFAULT (PostgreSQL's letters). */
typedef struct ast_fk {
    const char *name;           /* CONSTRAINT name, or NULL */
    int ncols; const char **cols;
    const char *ref_schema, *ref_table;
    int nref; const char **ref_cols;    /* 0: the referenced table's primary key */
    char on_delete, on_update;
    bool match_full, deferrable;
} ast_fk_t;

/* CHECK (expr): sql is the deparsed expression, for the catalog. */
typedef struct ast_check { const char *name; const char *sql; } ast_check_t;
/* A UNIQUE constraint of CREATE TABLE (column or table form); name NULL = default. */
typedef struct ast_unique { const char *name; int ncols; const char **cols; } ast_unique_t;

typedef struct ast_select {
    bool distinct;
    ast_list_t distinct_on;     /* DISTINCT ON (exprs) */
    int ntargets; ast_target_t *targets;
    ast_list_t from;
    ast_t *where;
    ast_list_t group;
    bool group_distinct;        /* GROUP BY DISTINCT: duplicate grouping sets removed */
    ast_t *having;
    int nsort; ast_sortby_t *sort;
    ast_t *limit, *offset;
    bool with_ties;             /* FETCH FIRST n ROWS WITH TIES */
    int nvalues_rows; ast_list_t *values;   /* VALUES (...), (...) */
    bool for_update;
    /* UNION / INTERSECT / EXCEPT [ALL]: larg/rarg are AST_SELECT; sort/limit/offset
     * apply to the result of the set operation */
    bool is_setop, setop_all;
    ast_setop_t setop;
    ast_t *larg, *rarg;
    ast_list_t windows;     /* WINDOW w AS (...): AST_WINDOWDEF items with names */
    /* WITH RECURSIVE q: this is q's query (larg non-recursive term, rarg the recursive
     * one when is_setop with setop UNION); cte_name names the working table */
    const char *cte_name;
} ast_select_t;

struct ast {
    ast_kind_t kind;
    int location;
    union {
        struct { ast_const_type_t ctype; int64_t ival; const char *str; bool bval; } c;
        struct { int nfields; const char *fields[3]; bool star; } colref;  /* star: last is * */
        struct { int number; } param;
        struct { const char *name; ast_t *l, *r; } op;      /* l NULL for prefix ops */
        ast_list_t args;                                    /* AND / OR / NOT / COALESCE / ARRAY / GROUPING */
        struct { ast_gset_kind_t kind; ast_list_t items; } gset;
        struct { const char *name; const char *schema; ast_list_t args; bool star, distinct, within_group;
                 int norder; ast_sortby_t *order; /* aggregate's ORDER BY */
                 ast_t *over; /* AST_WINDOWDEF: a window function call */ } func;
        struct {
            const char *name, *refname;      /* WINDOW name AS (refname ...) */
            ast_list_t partition;
            int nsort; ast_sortby_t *sort;
            int frame_options;               /* AST_FRAME_* bits */
            ast_t *start_offset, *end_offset;
        } win;
        /* a WITH RECURSIVE query: `query` is its AST_SELECT (the same node for every
         * reference); inside its own recursive term, `self` is set */
        struct { const char *name, *alias; ast_t *query; ast_list_t colaliases; bool self; } cteref;
        struct { ast_t *arg; ast_typename_t type; } cast;
        struct { ast_t *arg; bool is_not; int booltest; /* 0 null test; 1 true 2 false 3 unknown */ } test;
        struct { ast_t *arg; ast_list_t whens, thens; ast_t *els; } kase;
        struct { bool greatest; ast_list_t args; } minmax;
        struct { ast_t *l, *r; bool is_not; } pair;          /* NULLIF, DISTINCT FROM */
        struct { ast_t *arg; ast_list_t list; bool is_not; } in;
        struct { ast_t *arg, *lo, *hi; bool is_not, symmetric; } between;
        struct { ast_t *arg, *pattern, *escape; bool is_not, ilike; } like;
        struct { const char *opname; ast_t *l, *r; bool all; } any;
        struct { ast_sublink_type_t type; ast_t *test; const char *opname; ast_t *select; } sublink;
        struct { ast_sqlfn_t fn; int32_t typmod; } sqlfn;   /* typmod: CURRENT_TIMESTAMP(p), -1 none */
        /* FROM items */
        struct { const char *schema, *name, *alias; ast_list_t colaliases; } rangevar;
        /* hide_cols: the column is reachable only qualified (sql/bind_srf.c's item) */
        struct { ast_t *func; const char *alias; ast_list_t colaliases; bool lateral, hide_cols, ordinality; } rangefunc;
        struct { ast_join_type_t type; ast_t *l, *r, *quals; int nusing; const char **using_cols;
                 bool natural; const char *alias; ast_list_t colaliases; } join;
        struct { ast_t *select; const char *alias; ast_list_t colaliases; bool lateral; } rangesub;
        /* statements */
        ast_select_t select;
        struct {
            ast_t *table;                    /* AST_RANGEVAR */
            int ncols; const char **cols;    /* column list, or 0 */
            ast_t *source;                   /* AST_SELECT (VALUES or query) or NULL = DEFAULT VALUES */
            int nreturning; ast_target_t *returning;
            int overriding;                  /* 0, 1 OVERRIDING SYSTEM VALUE, 2 USER VALUE */
            /* ON CONFLICT: action 0 none, 1 DO NOTHING, 2 DO UPDATE */
            int conflict_action;
            int nconflict_cols; const char **conflict_cols;  /* (cols) inference, or 0 */
            const char *conflict_constraint;                  /* ON CONSTRAINT name, or NULL */
            bool conflict_has_where;                          /* inference WHERE (refused) */
            int nconflict_set; const char **conflict_set_cols; ast_t **conflict_set_exprs;
            ast_t *conflict_where;                            /* DO UPDATE ... WHERE */
        } insert;
        struct {
            ast_t *table;
            int nset; const char **set_cols; ast_t **set_exprs;
            ast_t *where;
            int nreturning; ast_target_t *returning;
            ast_list_t from;                 /* UPDATE ... FROM items */
        } update;
        struct { ast_t *table; ast_t *where; int nreturning; ast_target_t *returning;
                 ast_list_t from; /* DELETE ... USING items */ } del;
        struct {
            ast_t *table; bool if_not_exists;
            int ncols; ast_coldef_t *cols;
            int npk; const char **pk_cols; const char *pk_name;
            int nfks; ast_fk_t *fks;         /* column REFERENCES and table FOREIGN KEYs */
            int nchecks; ast_check_t *checks; /* column and table CHECK constraints */
            int nuniques; ast_unique_t *uniques; /* column and table UNIQUE constraints */
        } create;
        struct { int n; ast_t **tables; bool if_exists; } drop;   /* also TRUNCATE, DROP INDEX */
        struct {
            ast_t *table;                    /* AST_RANGEVAR (NULL for COPY (query) TO) */
            int ncols; const char **cols;    /* column list, or 0 = every column */
            char delimiter;                  /* one byte; tab (text) or ',' (csv) by default */
            const char *null_string;         /* "\\N" (text) or "" (csv) by default */
            bool to;                         /* COPY ... TO STDOUT */
            ast_t *query;                    /* COPY (query) TO STDOUT: an AST_SELECT */
            ast_copy_opts_t *opts;           /* FORMAT and the csv options */
        } copy;
        struct { ast_txn_kind_t kind; ast_isolation_t iso; bool read_only; const char *savepoint; } txn;
        struct {
            ast_set_kind_t kind; const char *name; bool is_local;
            bool is_reset;                       /* RESET rather than SET ... TO DEFAULT */
            int nvalues; const char **values;    /* textual values, as SET gets them */
            ast_isolation_t iso;                 /* SET TRANSACTION ISOLATION LEVEL */
        } set;
        struct { const char *name; } show;
        struct {
            ast_t *name;                         /* AST_RANGEVAR */
            bool if_not_exists;
            int nopts;                           /* option names (start, increment, minvalue,
                                                  * maxvalue, cycle, cache, as) and values as
                                                  * text; a NULL value: NO MINVALUE / NO MAXVALUE */
            const char **opt_names, **opt_values;
        } seq;
        struct {
            ast_t *table; int ncols; const char **cols; const char *conname;
            bool unique;                     /* ADD [CONSTRAINT name] UNIQUE (cols) instead */
        } alter_pk;
        struct { ast_t *stmt; unsigned opts; } explain;   /* opts: AST_EXPLAIN_* */
        struct { ast_t *table; bool missing_ok; int ncmds; ast_alter_cmd_t *cmds; } alter;
        /* CREATE VIEW: query is the parsed SELECT (validated, bound at CREATE), sql the
         * same query deparsed by libpg_query: what the catalog stores and re-parses */
        struct { ast_t *name; int ncols; const char **cols; ast_t *query; const char *sql; bool replace; } view;
        struct { const char *name; int ntypes; ast_typename_t *types; ast_t *stmt; } prepare;
        struct { const char *name; ast_list_t args; } execute;     /* also DEALLOCATE */
        struct { const char *name; ast_t *stmt; int64_t count; bool all; } cursor;   /* DECLARE, FETCH, CLOSE */
        struct {
            const char *name;                    /* NULL: generated as PostgreSQL does */
            ast_t *table;                        /* AST_RANGEVAR */
            const char *method;                  /* "btree", "hnsw", ... */
            int ncols;
            const char **cols;                   /* NULL entry: an expression */
            const char **opclasses;              /* NULL entry: the default class */
            int nopts;
            const char **opt_names, **opt_values;   /* WITH (name = value, ...) */
            bool if_not_exists, unique, concurrent, has_where;
        } create_index;
    };
};

#endif
