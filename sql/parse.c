/*
 * parse.c -- libpg_query protobuf tree -> NextDB AST; see parse.h.
 *
 * Each converter takes a protobuf node and returns an arena-allocated ast_t, or NULL
 * with the error set. The conversion context carries the arena, the error, the
 * recursion depth (bounded by LIMIT_SQL_EXPR_DEPTH) and the original text, so
 * "not supported" errors can point at the construct.
 */
#include "sql/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include "pg_query.pb-c.h"

#include "core/limits.h"

typedef PgQuery__Node pnode_t;

#define PARSE_CTES_MAX 64    /* WITH names visible at one point */

typedef struct pctx {
    arena_t *a;
    sql_error_t *err;
    int depth;
    const char *text;
    /* WITH queries in scope (innermost last): referencing one inlines it as a
     * subquery in FROM */
    int nctes;
    const char *cte_names[PARSE_CTES_MAX];
    ast_t *cte_queries[PARSE_CTES_MAX];
    ast_list_t cte_cols[PARSE_CTES_MAX];
    /* WITH RECURSIVE: 0 plain (inlined); 1 parsing the non-recursive term (a
     * reference is 42P19); 2 parsing the recursive term (a reference is the working
     * table); 3 parsed, a recursive query (references are AST_CTEREF); 4 parsing a
     * body that is not a UNION (a reference is 42P19) */
    int cte_state[PARSE_CTES_MAX];
    int cte_selfrefs[PARSE_CTES_MAX];
    /* every constant node made from a literal (p_const), for statement shapes */
    ast_t **consts;
    int nconsts, consts_cap;
} pctx_t;

static ast_t *p_expr(pctx_t *c, const pnode_t *n);
static ast_t *p_select(pctx_t *c, const PgQuery__SelectStmt *s);
static ast_t *p_from_item(pctx_t *c, const pnode_t *n);
static bool dp_supported(const ast_t *e);

static void *p_alloc(pctx_t *c, size_t n)
{
    void *p = arena_alloc(c->a, n);
    if (!p) {
        sql_error(c->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    memset(p, 0, n);
    return p;
}

static ast_t *p_node(pctx_t *c, ast_kind_t kind, int location)
{
    ast_t *n = p_alloc(c, sizeof *n);
    if (n) {
        n->kind = kind;
        n->location = location;
    }
    return n;
}

static const char *p_str(pctx_t *c, const char *s)
{
    const char *r = arena_strdup(c->a, s ? s : "");
    if (!r)
        sql_error(c->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return r;
}

static void *p_unsupported(pctx_t *c, const char *what, int location)
{
    sql_error(c->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "%s is not supported", what);
    if (location >= 0)
        c->err->position = location + 1;
    return NULL;
}

/* The statement a parse-tree node kind names, for "... is not supported": a few
 * spelled as SQL writes them, the others from the protobuf field ("comment_stmt" ->
 * "COMMENT", "listen_stmt" -> "LISTEN"). */
static const char *p_stmt_name(pctx_t *c, int node_case)
{
    static const struct { int node_case; const char *name; } known[] = {
        {PG_QUERY__NODE__NODE_CREATE_ENUM_STMT, "CREATE TYPE ... AS ENUM"},
        {PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT, "CREATE TYPE ... AS (...)"},
        {PG_QUERY__NODE__NODE_CREATE_TRIG_STMT, "CREATE TRIGGER"},
        {PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT, "CREATE FUNCTION / PROCEDURE"},
        {PG_QUERY__NODE__NODE_DO_STMT, "DO"},
        {PG_QUERY__NODE__NODE_CREATEDB_STMT, "CREATE DATABASE"},
        {PG_QUERY__NODE__NODE_DROPDB_STMT, "DROP DATABASE"},
        {PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT, "CREATE TABLE AS / SELECT INTO / CREATE MATERIALIZED VIEW"},
        {PG_QUERY__NODE__NODE_RENAME_STMT, "this ALTER ... RENAME"},
        {PG_QUERY__NODE__NODE_ALTER_OWNER_STMT, "ALTER ... OWNER TO"},
        {PG_QUERY__NODE__NODE_GRANT_ROLE_STMT, "GRANT / REVOKE of roles"},
        {PG_QUERY__NODE__NODE_CHECK_POINT_STMT, "CHECKPOINT"},
        {PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT, "this SHOW"},
        {PG_QUERY__NODE__NODE_ALTER_SEQ_STMT, "ALTER SEQUENCE"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].node_case == node_case)
            return known[i].name;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor, (unsigned)node_case);
    if (!f || !f->name)
        return "this statement";
    size_t n = strlen(f->name);
    if (n > 5 && !strcmp(f->name + n - 5, "_stmt"))
        n -= 5;
    char *out = arena_alloc(c->a, n + 1);
    if (!out)
        return "this statement";
    for (size_t i = 0; i < n; i++)
        out[i] = f->name[i] == '_' ? ' ' : (char)toupper((unsigned char)f->name[i]);
    out[n] = '\0';
    return out;
}

/* A String node's value, or NULL when the node is something else. */
static const char *p_string_val(const pnode_t *n)
{
    if (n && n->node_case == PG_QUERY__NODE__NODE_STRING)
        return n->string->sval;
    return NULL;
}

/* Converts an array of protobuf expression nodes into an ast_list_t. */
static int p_expr_list(pctx_t *c, size_t n, pnode_t **items, ast_list_t *out)
{
    out->n = (int)n;
    out->items = n ? p_alloc(c, n * sizeof(ast_t *)) : NULL;
    if (n && !out->items)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(out->items[i] = p_expr(c, items[i])))
            return -1;
    return 0;
}

/* Last component of a qualified name list such as pg_catalog.int4 or ("=") . */
static const char *p_last_name(size_t n, pnode_t **names)
{
    return n ? p_string_val(names[n - 1]) : NULL;
}

static int p_typename(pctx_t *c, const PgQuery__TypeName *t, ast_typename_t *out)
{
    memset(out, 0, sizeof *out);
    const char *name = p_last_name(t->n_names, t->names);
    if (!name) {
        p_unsupported(c, "this type name", t->location);
        return -1;
    }
    if (t->n_names == 2) {
        const char *schema = p_string_val(t->names[0]);
        if (schema && strcmp(schema, "pg_catalog") != 0) {
            sql_error(c->err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s.%s\" does not exist", schema, name);
            c->err->position = t->location + 1;
            return -1;
        }
    }
    out->name = p_str(c, name);
    out->is_array = t->n_array_bounds > 0;
    if (t->n_typmods > 2) {
        p_unsupported(c, "a type modifier list of this length", t->location);
        return -1;
    }
    for (size_t i = 0; i < t->n_typmods; i++) {
        const pnode_t *m = t->typmods[i];
        if (m->node_case != PG_QUERY__NODE__NODE_A_CONST ||
            m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) {
            p_unsupported(c, "a non-integer type modifier", t->location);
            return -1;
        }
        out->typmods[out->ntypmods++] = m->a_const->ival->ival;
    }
    return out->name ? 0 : -1;
}

static ast_t *p_const(pctx_t *c, const PgQuery__AConst *k)
{
    ast_t *n = p_node(c, AST_CONST, k->location);
    if (!n)
        return NULL;
    if (c->nconsts == c->consts_cap) {
        int cap = c->consts_cap ? c->consts_cap * 2 : 16;
        ast_t **v = arena_alloc(c->a, (size_t)cap * sizeof *v);
        if (!v) {
            sql_error(c->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
        if (c->nconsts)
            memcpy(v, c->consts, (size_t)c->nconsts * sizeof *v);
        c->consts = v;
        c->consts_cap = cap;
    }
    c->consts[c->nconsts++] = n;
    if (k->isnull) {
        n->c.ctype = AST_C_NULL;
        return n;
    }
    switch (k->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
        n->c.ctype = AST_C_INT;
        n->c.ival = k->ival->ival;
        break;
    case PG_QUERY__A__CONST__VAL_FVAL: {
        /* Integers too large for int4 arrive as Float; keep them integral when they fit
         * int8, as PostgreSQL types them (int8), else numeric. */
        const char *s = k->fval->fval;
        n->c.str = p_str(c, s);
        n->c.ctype = AST_C_NUMERIC;
        bool digits = *s != 0;
        for (const char *p = (*s == '-' ? s + 1 : s); *p; p++)
            if (!isdigit((unsigned char)*p))
                digits = false;
        if (digits && strlen(s) <= 19) {
            char *end;
            errno = 0;
            long long v = strtoll(s, &end, 10);
            if (errno == 0 && *end == 0) {
                n->c.ctype = AST_C_INT;
                n->c.ival = v;
            }
        }
        break;
    }
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
        n->c.ctype = AST_C_BOOL;
        n->c.bval = k->boolval->boolval;
        break;
    case PG_QUERY__A__CONST__VAL_SVAL:
        n->c.ctype = AST_C_STRING;
        n->c.str = p_str(c, k->sval->sval);
        break;
    default:
        return p_unsupported(c, "a bit-string constant", k->location);
    }
    return n;
}

static ast_t *p_colref(pctx_t *c, const PgQuery__ColumnRef *r)
{
    ast_t *n = p_node(c, AST_COLREF, r->location);
    if (!n)
        return NULL;
    if (r->n_fields > 3)
        return p_unsupported(c, "a column reference with more than three parts", r->location);
    for (size_t i = 0; i < r->n_fields; i++) {
        const pnode_t *f = r->fields[i];
        if (f->node_case == PG_QUERY__NODE__NODE_A_STAR) {
            if (i != r->n_fields - 1)
                return p_unsupported(c, "this column reference", r->location);
            n->colref.star = true;
        } else {
            const char *s = p_string_val(f);
            if (!s)
                return p_unsupported(c, "this column reference", r->location);
            n->colref.fields[n->colref.nfields++] = p_str(c, s);
        }
    }
    return n;
}

static void p_pos(pctx_t *c, int location)
{
    if (location >= 0 && c->err->position == 0)
        c->err->position = location + 1;
}

/* ---- rewrites of row comparisons and aggregate FILTER ---- */

static ast_t *p_binop(pctx_t *c, const char *op, ast_t *l, ast_t *r, int location)
{
    ast_t *n = p_node(c, AST_OP, location);
    if (!n)
        return NULL;
    n->op.name = op;
    n->op.l = l;
    n->op.r = r;
    return n;
}

static ast_t *p_bool2(pctx_t *c, ast_kind_t k, ast_t *l, ast_t *r, int location)
{
    if (!l)
        return r;
    ast_t *n = p_node(c, k, location);
    if (!n || !(n->args.items = p_alloc(c, 2 * sizeof(ast_t *))))
        return NULL;
    n->args.n = 2;
    n->args.items[0] = l;
    n->args.items[1] = r;
    return n;
}

/* The fields of a row constructor `(a, b)` / `ROW(a, b)`, or -1 (with *out NULL)
 * when n is not one. */
static int p_row_fields(pctx_t *c, const pnode_t *n, ast_list_t *out)
{
    out->n = 0;
    out->items = NULL;
    if (!n || n->node_case != PG_QUERY__NODE__NODE_ROW_EXPR)
        return -1;
    return p_expr_list(c, n->row_expr->n_args, n->row_expr->args, out) < 0 ? -2 : 0;
}

/* (l1, ..., ln) op (r1, ..., rn) as PostgreSQL compares rows: = is the AND of the
 * pairs, <> their OR; < <= > >= decide at the first pair that differs, so
 * (l1 < r1) OR (l1 = r1 AND (rest)), the last pair compared with op itself. The
 * three-valued results are those of PostgreSQL's row comparison (a NULL pair before
 * the deciding one gives NULL). */
static ast_t *p_row_cmp(pctx_t *c, const char *op, const ast_list_t *l, const ast_list_t *r, int location)
{
    if (l->n != r->n) {
        sql_error(c->err, SQLSTATE_SYNTAX_ERROR, "unequal number of entries in row expressions");
        p_pos(c, location);
        return NULL;
    }
    if (l->n == 0) {
        sql_error(c->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot compare rows of zero length");
        p_pos(c, location);
        return NULL;
    }
    bool eq = !strcmp(op, "="), ne = !strcmp(op, "<>") || !strcmp(op, "!=");
    if (eq || ne) {
        ast_t *acc = NULL;
        for (int i = 0; i < l->n; i++) {
            ast_t *x = p_binop(c, eq ? "=" : "<>", l->items[i], r->items[i], location);
            if (!x || !(acc = p_bool2(c, eq ? AST_AND : AST_OR, acc, x, location)))
                return NULL;
        }
        return acc;
    }
    const char *strict;
    if (!strcmp(op, "<") || !strcmp(op, "<="))
        strict = "<";
    else if (!strcmp(op, ">") || !strcmp(op, ">="))
        strict = ">";
    else {
        sql_error(c->err, SQLSTATE_UNDEFINED_FUNCTION, "operator %s is not supported for row expressions", op);
        p_pos(c, location);
        return NULL;
    }
    ast_t *acc = p_binop(c, p_str(c, op), l->items[l->n - 1], r->items[l->n - 1], location);
    for (int i = l->n - 2; i >= 0 && acc; i--) {
        ast_t *lt = p_binop(c, strict, l->items[i], r->items[i], location);
        ast_t *e = lt ? p_binop(c, "=", l->items[i], r->items[i], location) : NULL;
        ast_t *both = e ? p_bool2(c, AST_AND, e, acc, location) : NULL;
        acc = both ? p_bool2(c, AST_OR, lt, both, location) : NULL;
    }
    return acc;
}

/* A_Expr whose operands are row constructors: comparisons and [NOT] IN lists of
 * rows. Returns NULL with no error set when e is not such a form. */
static ast_t *p_row_aexpr(pctx_t *c, const PgQuery__AExpr *e, const char *opname)
{
    ast_list_t l, r;
    int rc = p_row_fields(c, e->lexpr, &l);
    if (rc == -2)
        return NULL;
    if (e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP) {
        if (rc < 0) {
            int rr = p_row_fields(c, e->rexpr, &r);
            if (rr == 0) {
                sql_error(c->err, SQLSTATE_SYNTAX_ERROR, "row constructor compared with a non-row value");
                p_pos(c, e->location);
            }
            return NULL;
        }
        if (p_row_fields(c, e->rexpr, &r) < 0) {
            if (!sql_error_is_set(c->err))
                p_unsupported(c, "comparing a row constructor with this expression", e->location);
            return NULL;
        }
        return p_row_cmp(c, opname, &l, &r, e->location);
    }
    if (e->kind != PG_QUERY__A__EXPR__KIND__AEXPR_IN || rc < 0)
        return NULL;
    if (!e->rexpr || e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
        return p_unsupported(c, "this IN form", e->location);
    bool is_not = strcmp(opname, "<>") == 0;
    ast_t *acc = NULL;
    for (size_t i = 0; i < e->rexpr->list->n_items; i++) {
        if (p_row_fields(c, e->rexpr->list->items[i], &r) < 0) {
            if (!sql_error_is_set(c->err))
                p_unsupported(c, "IN with a row constructor and a non-row value", e->location);
            return NULL;
        }
        ast_t *x = p_row_cmp(c, is_not ? "<>" : "=", &l, &r, e->location);
        if (!x || !(acc = p_bool2(c, is_not ? AST_AND : AST_OR, acc, x, e->location)))
            return NULL;
    }
    return acc;
}

/* agg(args) FILTER (WHERE cond) as agg(CASE WHEN cond THEN arg END): every
 * aggregate NextDB has (count, sum, avg, min, max, string_agg) skips NULL inputs,
 * so the rows the filter drops are exactly the ones the aggregate ignores. */
static int p_agg_filter(pctx_t *c, const PgQuery__FuncCall *f, ast_t *n)
{
    static const char *const aggs[] = {"count", "sum", "avg", "min", "max", "string_agg"};
    bool known = false;
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        known |= !strcmp(n->func.name, aggs[i]);
    if (!strcmp(n->func.name, "array_agg"))
        return p_unsupported(c, "FILTER on array_agg", f->location) ? 0 : -1;
    if (!known) {
        sql_error(c->err, "42809", "FILTER specified, but %s is not an aggregate function", n->func.name);
        p_pos(c, f->location);
        return -1;
    }
    ast_t *cond = p_expr(c, f->agg_filter);
    if (!cond)
        return -1;
    ast_t *val;
    if (n->func.star) {
        if (!(val = p_node(c, AST_CONST, f->location)))
            return -1;
        val->c.ctype = AST_C_INT;
        val->c.ival = 1;
        n->func.star = false;
        if (!(n->func.args.items = p_alloc(c, sizeof(ast_t *))))
            return -1;
        n->func.args.n = 1;
    } else if (n->func.args.n < 1) {
        return 0;    /* the binder reports the wrong argument count */
    } else {
        val = n->func.args.items[0];
    }
    ast_t *k = p_node(c, AST_CASE, f->location);
    if (!k || !(k->kase.whens.items = p_alloc(c, sizeof(ast_t *))) ||
        !(k->kase.thens.items = p_alloc(c, sizeof(ast_t *))))
        return -1;
    k->kase.whens.n = k->kase.thens.n = 1;
    k->kase.whens.items[0] = cond;
    k->kase.thens.items[0] = val;
    n->func.args.items[0] = k;
    return 0;
}

static ast_t *p_aexpr(pctx_t *c, const PgQuery__AExpr *e)
{
    const char *opname = p_last_name(e->n_name, e->name);
    if (!opname)
        return p_unsupported(c, "this operator", e->location);
    ast_t *n = p_row_aexpr(c, e, opname);
    if (n || sql_error_is_set(c->err))
        return n;
    switch (e->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
        if (e->n_name == 2) {
            const char *schema = p_string_val(e->name[0]);
            if (!schema || strcmp(schema, "pg_catalog") != 0)
                return p_unsupported(c, "OPERATOR() with a schema other than pg_catalog", e->location);
        }
        if (!(n = p_node(c, AST_OP, e->location)))
            return NULL;
        n->op.name = p_str(c, opname);
        if (e->lexpr && !(n->op.l = p_expr(c, e->lexpr)))
            return NULL;
        if (!(n->op.r = p_expr(c, e->rexpr)))
            return NULL;
        return n;
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
        if (!(n = p_node(c, AST_ANY, e->location)))
            return NULL;
        n->any.opname = p_str(c, opname);
        n->any.all = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL;
        if (!(n->any.l = p_expr(c, e->lexpr)) || !(n->any.r = p_expr(c, e->rexpr)))
            return NULL;
        return n;
    case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
        n = p_node(c, e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF ? AST_NULLIF : AST_DISTINCT_FROM,
                   e->location);
        if (!n)
            return NULL;
        n->pair.is_not = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT;
        if (!(n->pair.l = p_expr(c, e->lexpr)) || !(n->pair.r = p_expr(c, e->rexpr)))
            return NULL;
        return n;
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
        if (!(n = p_node(c, AST_IN, e->location)))
            return NULL;
        n->in.is_not = strcmp(opname, "<>") == 0;
        if (!(n->in.arg = p_expr(c, e->lexpr)))
            return NULL;
        if (!e->rexpr || e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
            return p_unsupported(c, "this IN form", e->location);
        if (p_expr_list(c, e->rexpr->list->n_items, e->rexpr->list->items, &n->in.list) < 0)
            return NULL;
        return n;
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
    case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
        if (!(n = p_node(c, AST_LIKE, e->location)))
            return NULL;
        n->like.ilike = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE;
        n->like.is_not = opname[0] == '!';
        if (!(n->like.arg = p_expr(c, e->lexpr)))
            return NULL;
        /* LIKE x ESCAPE y arrives as like_escape(x, y). */
        const pnode_t *r = e->rexpr;
        if (r && r->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
            r->func_call->n_args == 2 &&
            strcmp(p_last_name(r->func_call->n_funcname, r->func_call->funcname) ?: "", "like_escape") == 0) {
            if (!(n->like.pattern = p_expr(c, r->func_call->args[0])) ||
                !(n->like.escape = p_expr(c, r->func_call->args[1])))
                return NULL;
        } else if (!(n->like.pattern = p_expr(c, r))) {
            return NULL;
        }
        return n;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM:
        if (!(n = p_node(c, AST_BETWEEN, e->location)))
            return NULL;
        n->between.is_not = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN ||
                            e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM;
        n->between.symmetric = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM ||
                               e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM;
        if (!(n->between.arg = p_expr(c, e->lexpr)))
            return NULL;
        if (!e->rexpr || e->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
            e->rexpr->list->n_items != 2)
            return p_unsupported(c, "this BETWEEN form", e->location);
        if (!(n->between.lo = p_expr(c, e->rexpr->list->items[0])) ||
            !(n->between.hi = p_expr(c, e->rexpr->list->items[1])))
            return NULL;
        return n;
    case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
        /* x [NOT] SIMILAR TO p [ESCAPE e] arrives as x ~ similar_to_escape(p[, e]) */
        if (!(n = p_node(c, AST_OP, e->location)))
            return NULL;
        n->op.name = p_str(c, opname);
        if (!(n->op.l = p_expr(c, e->lexpr)) || !(n->op.r = p_expr(c, e->rexpr)))
            return NULL;
        return n;
    default:
        return p_unsupported(c, "this operator form", e->location);
    }
}

static int p_sortby_list(pctx_t *c, size_t n, pnode_t **items, int *nsort, ast_sortby_t **sort);

/* OVER (...) or WINDOW w AS (...): names, keys and frame options as given; the
 * binder (sql/bind_window.c) resolves references and checks the combination. */
static ast_t *p_window_def(pctx_t *c, const PgQuery__WindowDef *w)
{
    ast_t *n = p_node(c, AST_WINDOWDEF, w->location);
    if (!n)
        return NULL;
    n->win.name = w->name && w->name[0] ? p_str(c, w->name) : NULL;
    n->win.refname = w->refname && w->refname[0] ? p_str(c, w->refname) : NULL;
    n->win.frame_options = w->frame_options;
    if (p_expr_list(c, w->n_partition_clause, w->partition_clause, &n->win.partition) < 0 ||
        p_sortby_list(c, w->n_order_clause, w->order_clause, &n->win.nsort, &n->win.sort) < 0)
        return NULL;
    if (w->start_offset && !(n->win.start_offset = p_expr(c, w->start_offset)))
        return NULL;
    if (w->end_offset && !(n->win.end_offset = p_expr(c, w->end_offset)))
        return NULL;
    return n;
}

/* ROLLUP / CUBE / GROUPING SETS / (): a row constructor among their items is a
 * column list (AST_GSET_SIMPLE), as in PostgreSQL's grammar. */
static ast_t *p_grouping_set(pctx_t *c, const PgQuery__GroupingSet *g)
{
    ast_t *r = p_node(c, AST_GROUPING_SET, g->location);
    if (!r)
        return NULL;
    switch (g->kind) {
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY: r->gset.kind = AST_GSET_EMPTY; break;
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SIMPLE: r->gset.kind = AST_GSET_SIMPLE; break;
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_ROLLUP: r->gset.kind = AST_GSET_ROLLUP; break;
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_CUBE: r->gset.kind = AST_GSET_CUBE; break;
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SETS: r->gset.kind = AST_GSET_SETS; break;
    default: return p_unsupported(c, "this grouping set", g->location);
    }
    r->gset.items.n = (int)g->n_content;
    r->gset.items.items = g->n_content ? p_alloc(c, g->n_content * sizeof(ast_t *)) : NULL;
    if (g->n_content && !r->gset.items.items)
        return NULL;
    for (size_t i = 0; i < g->n_content; i++) {
        const pnode_t *x = g->content[i];
        ast_t *it;
        if (x && x->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
            if (!(it = p_node(c, AST_GROUPING_SET, x->row_expr->location)))
                return NULL;
            it->gset.kind = AST_GSET_SIMPLE;
            if (p_expr_list(c, x->row_expr->n_args, x->row_expr->args, &it->gset.items) < 0)
                return NULL;
        } else if (!(it = p_expr(c, x))) {
            return NULL;
        }
        r->gset.items.items[i] = it;
    }
    return r;
}

static ast_t *p_func(pctx_t *c, const PgQuery__FuncCall *f)
{
    if (f->func_variadic)
        return p_unsupported(c, "VARIADIC", f->location);
    ast_t *n = p_node(c, AST_FUNC, f->location);
    if (!n)
        return NULL;
    const char *name = p_last_name(f->n_funcname, f->funcname);
    if (!name)
        return p_unsupported(c, "this function name", f->location);
    n->func.name = p_str(c, name);
    if (f->n_funcname == 2)
        n->func.schema = p_str(c, p_string_val(f->funcname[0]));
    else if (f->n_funcname > 2)
        return p_unsupported(c, "a cross-database reference", f->location);
    n->func.star = f->agg_star;
    n->func.distinct = f->agg_distinct;
    n->func.within_group = f->agg_within_group;   /* agg_order is the WITHIN GROUP order */
    if (f->over && !(n->func.over = p_window_def(c, f->over)))
        return NULL;
    if (p_expr_list(c, f->n_args, f->args, &n->func.args) < 0)
        return NULL;
    if (f->n_agg_order) {
        n->func.norder = (int)f->n_agg_order;
        if (!(n->func.order = p_alloc(c, f->n_agg_order * sizeof(ast_sortby_t))))
            return NULL;
        for (size_t i = 0; i < f->n_agg_order; i++) {
            const PgQuery__SortBy *b = f->agg_order[i]->sort_by;
            if (f->agg_order[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY ||
                b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING)
                return p_unsupported(c, "ORDER BY ... USING", f->location);
            n->func.order[i].desc = b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
            n->func.order[i].nulls = b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ? 1 :
                                     b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST ? 2 : 0;
            if (!(n->func.order[i].expr = p_expr(c, b->node)))
                return NULL;
        }
    }
    if (f->agg_filter && p_agg_filter(c, f, n) < 0)
        return NULL;
    return n;
}

static ast_t *p_sublink(pctx_t *c, const PgQuery__SubLink *s)
{
    ast_t *n = p_node(c, AST_SUBLINK, s->location);
    if (!n)
        return NULL;
    switch (s->sub_link_type) {
    case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK: n->sublink.type = AST_SUB_EXISTS; break;
    case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK: n->sublink.type = AST_SUB_ANY; break;
    case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK: n->sublink.type = AST_SUB_ALL; break;
    case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK: n->sublink.type = AST_SUB_EXPR; break;
    case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK: n->sublink.type = AST_SUB_ARRAY; break;
    default: return p_unsupported(c, "this kind of subquery", s->location);
    }
    if (s->testexpr && !(n->sublink.test = p_expr(c, s->testexpr)))
        return NULL;
    const char *op = p_last_name(s->n_oper_name, s->oper_name);
    n->sublink.opname = p_str(c, op ? op : "=");
    if (!s->subselect || s->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return p_unsupported(c, "this subquery", s->location);
    c->depth++;
    n->sublink.select = p_select(c, s->subselect->select_stmt);
    c->depth--;
    return n->sublink.select ? n : NULL;
}

static ast_t *p_sqlfn(pctx_t *c, const PgQuery__SQLValueFunction *f)
{
    ast_t *n = p_node(c, AST_SQLFN, f->location);
    if (!n)
        return NULL;
    switch (f->op) {
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N:
        n->sqlfn.fn = AST_SQLFN_CURRENT_TIMESTAMP; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N:
        n->sqlfn.fn = AST_SQLFN_LOCALTIMESTAMP; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE:
        n->sqlfn.fn = AST_SQLFN_CURRENT_DATE; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_ROLE:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
        n->sqlfn.fn = AST_SQLFN_CURRENT_USER; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER:
        n->sqlfn.fn = AST_SQLFN_SESSION_USER; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG:
        n->sqlfn.fn = AST_SQLFN_CURRENT_CATALOG; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA:
        n->sqlfn.fn = AST_SQLFN_CURRENT_SCHEMA; break;
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N:
        n->sqlfn.fn = AST_SQLFN_LOCALTIME; break;
    default:
        return p_unsupported(c, "CURRENT_TIME (time with time zone)", f->location);
    }
    n->sqlfn.typmod = f->typmod;
    if (f->typmod >= 0 && n->sqlfn.fn != AST_SQLFN_CURRENT_TIMESTAMP && n->sqlfn.fn != AST_SQLFN_LOCALTIMESTAMP &&
        n->sqlfn.fn != AST_SQLFN_LOCALTIME)
        n->sqlfn.typmod = -1;
    return n;
}

static ast_t *p_expr_inner(pctx_t *c, const pnode_t *n)
{
    ast_t *r;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
        return p_const(c, n->a_const);
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return p_colref(c, n->column_ref);
    case PG_QUERY__NODE__NODE_PARAM_REF:
        if (!(r = p_node(c, AST_PARAM, n->param_ref->location)))
            return NULL;
        r->param.number = n->param_ref->number;
        return r;
    case PG_QUERY__NODE__NODE_A_EXPR:
        return p_aexpr(c, n->a_expr);
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *b = n->bool_expr;
        ast_kind_t k = b->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? AST_AND :
                       b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR ? AST_OR : AST_NOT;
        if (!(r = p_node(c, k, b->location)))
            return NULL;
        return p_expr_list(c, b->n_args, b->args, &r->args) < 0 ? NULL : r;
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL:
        return p_func(c, n->func_call);
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        if (!(r = p_node(c, AST_CAST, n->type_cast->location)))
            return NULL;
        if (!(r->cast.arg = p_expr(c, n->type_cast->arg)))
            return NULL;
        return p_typename(c, n->type_cast->type_name, &r->cast.type) < 0 ? NULL : r;
    case PG_QUERY__NODE__NODE_NULL_TEST:
        if (!(r = p_node(c, AST_NULLTEST, n->null_test->location)))
            return NULL;
        r->test.is_not = n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
        return (r->test.arg = p_expr(c, n->null_test->arg)) ? r : NULL;
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
        const PgQuery__BooleanTest *b = n->boolean_test;
        if (!(r = p_node(c, AST_BOOLTEST, b->location)))
            return NULL;
        switch (b->booltesttype) {
        case PG_QUERY__BOOL_TEST_TYPE__IS_TRUE: r->test.booltest = 1; break;
        case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE: r->test.booltest = 1; r->test.is_not = true; break;
        case PG_QUERY__BOOL_TEST_TYPE__IS_FALSE: r->test.booltest = 2; break;
        case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE: r->test.booltest = 2; r->test.is_not = true; break;
        case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN: r->test.booltest = 3; break;
        default: r->test.booltest = 3; r->test.is_not = true; break;
        }
        return (r->test.arg = p_expr(c, b->arg)) ? r : NULL;
    }
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
        const PgQuery__CaseExpr *k = n->case_expr;
        if (!(r = p_node(c, AST_CASE, k->location)))
            return NULL;
        if (k->arg && !(r->kase.arg = p_expr(c, k->arg)))
            return NULL;
        r->kase.whens.n = r->kase.thens.n = (int)k->n_args;
        r->kase.whens.items = p_alloc(c, (k->n_args + 1) * sizeof(ast_t *));
        r->kase.thens.items = p_alloc(c, (k->n_args + 1) * sizeof(ast_t *));
        if (!r->kase.whens.items || !r->kase.thens.items)
            return NULL;
        for (size_t i = 0; i < k->n_args; i++) {
            const PgQuery__CaseWhen *w = k->args[i]->case_when;
            if (!(r->kase.whens.items[i] = p_expr(c, w->expr)) ||
                !(r->kase.thens.items[i] = p_expr(c, w->result)))
                return NULL;
        }
        if (k->defresult && !(r->kase.els = p_expr(c, k->defresult)))
            return NULL;
        return r;
    }
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        if (!(r = p_node(c, AST_COALESCE, n->coalesce_expr->location)))
            return NULL;
        return p_expr_list(c, n->coalesce_expr->n_args, n->coalesce_expr->args, &r->args) < 0 ? NULL : r;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        if (!(r = p_node(c, AST_MINMAX, n->min_max_expr->location)))
            return NULL;
        r->minmax.greatest = n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST;
        return p_expr_list(c, n->min_max_expr->n_args, n->min_max_expr->args, &r->minmax.args) < 0 ? NULL : r;
    case PG_QUERY__NODE__NODE_SUB_LINK:
        return p_sublink(c, n->sub_link);
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        return p_sqlfn(c, n->sqlvalue_function);
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT:
        return p_node(c, AST_DEFAULT, n->set_to_default->location);
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
        if (!(r = p_node(c, AST_ARRAY, n->a_array_expr->location)))
            return NULL;
        return p_expr_list(c, n->a_array_expr->n_elements, n->a_array_expr->elements, &r->args) < 0 ? NULL : r;
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE: {
        /* Only the C collation exists: "default", "C" and "POSIX" change nothing. */
        const PgQuery__CollateClause *k = n->collate_clause;
        const char *coll = p_last_name(k->n_collname, k->collname);
        if (!coll || (strcmp(coll, "default") && strcmp(coll, "C") && strcmp(coll, "POSIX")))
            return p_unsupported(c, "COLLATE other than \"C\"", k->location);
        return p_expr(c, k->arg);
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION: {
        /* one subscript, no slice: arr[i] */
        const PgQuery__AIndirection *ind = n->a_indirection;
        if (ind->n_indirection != 1 || ind->indirection[0]->node_case != PG_QUERY__NODE__NODE_A_INDICES ||
            ind->indirection[0]->a_indices->is_slice || !ind->indirection[0]->a_indices->uidx)
            return p_unsupported(c, "array slices, several subscripts and field selection", -1);
        r = p_node(c, AST_SUBSCRIPT, -1);
        if (!r || !(r->pair.l = p_expr(c, ind->arg)) ||
            !(r->pair.r = p_expr(c, ind->indirection[0]->a_indices->uidx)))
            return NULL;
        return r;
    }
    case PG_QUERY__NODE__NODE_ROW_EXPR:
        return p_unsupported(c, "a row constructor here", n->row_expr->location);
    case PG_QUERY__NODE__NODE_GROUPING_SET:
        return p_grouping_set(c, n->grouping_set);
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
        if (!(r = p_node(c, AST_GROUPING_FUNC, n->grouping_func->location)))
            return NULL;
        return p_expr_list(c, n->grouping_func->n_args, n->grouping_func->args, &r->args) < 0 ? NULL : r;
    default:
        return p_unsupported(c, "this expression", -1);
    }
}

static ast_t *p_expr(pctx_t *c, const pnode_t *n)
{
    if (!n)
        return p_unsupported(c, "an empty expression", -1);
    if (++c->depth > LIMIT_SQL_EXPR_DEPTH) {
        sql_error(c->err, "54001", "stack depth limit exceeded");
        sql_error_hint(c->err, "Simplify the statement; expressions may nest at most %d levels.",
                       LIMIT_SQL_EXPR_DEPTH);
        return NULL;
    }
    ast_t *r = p_expr_inner(c, n);
    c->depth--;
    return r;
}

static int p_alias(pctx_t *c, const PgQuery__Alias *al, const char **name, ast_list_t *cols)
{
    if (!al)
        return 0;
    *name = p_str(c, al->aliasname);
    cols->n = (int)al->n_colnames;
    cols->items = al->n_colnames ? p_alloc(c, al->n_colnames * sizeof(ast_t *)) : NULL;
    for (size_t i = 0; i < al->n_colnames; i++) {
        ast_t *k = p_node(c, AST_CONST, -1);
        if (!k)
            return -1;
        k->c.ctype = AST_C_STRING;
        k->c.str = p_str(c, p_string_val(al->colnames[i]));
        cols->items[i] = k;
    }
    return 0;
}

/* A reference to a WITH RECURSIVE query (c->cte_state[i] != 0): the working table
 * inside its recursive term, else the whole recursive query (AST_CTEREF). */
static ast_t *p_cte_recursive_ref(pctx_t *c, const PgQuery__RangeVar *v, int i)
{
    if (c->cte_state[i] == 1 || c->cte_state[i] == 4) {
        sql_error(c->err, "42P19", c->cte_state[i] == 1 ?
                  "recursive reference to query \"%s\" must not appear within its non-recursive term" :
                  "recursive query \"%s\" does not have the form non-recursive-term UNION [ALL] recursive-term",
                  c->cte_names[i]);
        return NULL;
    }
    if (c->cte_state[i] == 2 && ++c->cte_selfrefs[i] > 1) {
        sql_error(c->err, "42P19", "recursive reference to query \"%s\" must not appear more than once",
                  c->cte_names[i]);
        return NULL;
    }
    ast_t *n = p_node(c, AST_CTEREF, v->location);
    if (!n)
        return NULL;
    n->cteref.name = c->cte_names[i];
    n->cteref.alias = c->cte_names[i];
    n->cteref.self = c->cte_state[i] == 2;
    n->cteref.query = c->cte_state[i] == 3 ? c->cte_queries[i] : NULL;
    n->cteref.colaliases = c->cte_cols[i];
    if (v->alias) {
        ast_list_t cols = {0};
        if (p_alias(c, v->alias, &n->cteref.alias, &cols) < 0)
            return NULL;
        if (cols.n)
            n->cteref.colaliases = cols;
    }
    return n;
}

/* A FROM reference to a WITH query becomes a subquery in FROM. */
static ast_t *p_cte_ref(pctx_t *c, const PgQuery__RangeVar *v)
{
    if (v->schemaname && v->schemaname[0])
        return NULL;
    for (int i = c->nctes - 1; i >= 0; i--) {
        if (strcmp(c->cte_names[i], v->relname) != 0)
            continue;
        if (c->cte_state[i])
            return p_cte_recursive_ref(c, v, i);
        ast_t *n = p_node(c, AST_RANGESUB, v->location);
        if (!n)
            return NULL;
        n->rangesub.select = c->cte_queries[i];
        n->rangesub.alias = c->cte_names[i];
        n->rangesub.colaliases = c->cte_cols[i];
        if (v->alias) {
            ast_list_t cols = {0};
            if (p_alias(c, v->alias, &n->rangesub.alias, &cols) < 0)
                return NULL;
            if (cols.n)
                n->rangesub.colaliases = cols;
        }
        return n;
    }
    return NULL;
}

static ast_t *p_rangevar(pctx_t *c, const PgQuery__RangeVar *v)
{
    ast_t *n = p_node(c, AST_RANGEVAR, v->location);
    if (!n)
        return NULL;
    if (v->catalogname && v->catalogname[0])
        return p_unsupported(c, "a cross-database reference", v->location);
    n->rangevar.schema = v->schemaname && v->schemaname[0] ? p_str(c, v->schemaname) : NULL;
    n->rangevar.name = p_str(c, v->relname);
    if (p_alias(c, v->alias, &n->rangevar.alias, &n->rangevar.colaliases) < 0)
        return NULL;
    return n;
}

static ast_t *p_from_item(pctx_t *c, const pnode_t *n)
{
    ast_t *r;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
        ast_t *cte = p_cte_ref(c, n->range_var);
        if (cte || sql_error_is_set(c->err))
            return cte;
        return p_rangevar(c, n->range_var);
    }
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
        const PgQuery__RangeFunction *f = n->range_function;
        if (f->is_rowsfrom || f->n_functions != 1 || f->n_coldeflist)
            return p_unsupported(c, "this form of function in FROM", -1);
        const pnode_t *fl = f->functions[0];
        if (fl->node_case != PG_QUERY__NODE__NODE_LIST || fl->list->n_items < 1)
            return p_unsupported(c, "this form of function in FROM", -1);
        if (!(r = p_node(c, AST_RANGEFUNC, -1)))
            return NULL;
        r->rangefunc.lateral = f->lateral;
        r->rangefunc.ordinality = f->ordinality;     /* functions in FROM may refer to earlier items anyway */
        if (!(r->rangefunc.func = p_expr(c, fl->list->items[0])))
            return NULL;
        r->location = r->rangefunc.func->location;
        if (p_alias(c, f->alias, &r->rangefunc.alias, &r->rangefunc.colaliases) < 0)
            return NULL;
        return r;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const PgQuery__RangeSubselect *s = n->range_subselect;
        if (!s->subquery || s->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return p_unsupported(c, "this subquery in FROM", -1);
        if (!(r = p_node(c, AST_RANGESUB, -1)))
            return NULL;
        r->rangesub.lateral = s->lateral;
        if (!(r->rangesub.select = p_select(c, s->subquery->select_stmt)))
            return NULL;
        if (p_alias(c, s->alias, &r->rangesub.alias, &r->rangesub.colaliases) < 0)
            return NULL;
        return r;
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        const PgQuery__JoinExpr *j = n->join_expr;
        if (j->join_using_alias)
            return p_unsupported(c, "an alias on JOIN ... USING", -1);
        if (!(r = p_node(c, AST_JOIN, -1)))
            return NULL;
        r->join.natural = j->is_natural;
        if (p_alias(c, j->alias, &r->join.alias, &r->join.colaliases) < 0)
            return NULL;
        switch (j->jointype) {
        case PG_QUERY__JOIN_TYPE__JOIN_INNER:
            r->join.type = j->quals || j->n_using_clause || j->is_natural ? AST_JOIN_INNER : AST_JOIN_CROSS;
            break;
        case PG_QUERY__JOIN_TYPE__JOIN_LEFT: r->join.type = AST_JOIN_LEFT; break;
        case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: r->join.type = AST_JOIN_RIGHT; break;
        case PG_QUERY__JOIN_TYPE__JOIN_FULL: r->join.type = AST_JOIN_FULL; break;
        default: return p_unsupported(c, "this join type", -1);
        }
        c->depth++;
        if (c->depth > LIMIT_SQL_EXPR_DEPTH) {
            sql_error(c->err, "54001", "stack depth limit exceeded");
            return NULL;
        }
        r->join.l = p_from_item(c, j->larg);
        r->join.r = r->join.l ? p_from_item(c, j->rarg) : NULL;
        c->depth--;
        if (!r->join.r)
            return NULL;
        if (j->quals && !(r->join.quals = p_expr(c, j->quals)))
            return NULL;
        if (j->n_using_clause) {
            r->join.nusing = (int)j->n_using_clause;
            r->join.using_cols = p_alloc(c, j->n_using_clause * sizeof(char *));
            if (!r->join.using_cols)
                return NULL;
            for (size_t i = 0; i < j->n_using_clause; i++)
                r->join.using_cols[i] = p_str(c, p_string_val(j->using_clause[i]));
        }
        return r;
    }
    default:
        return p_unsupported(c, "this FROM item", -1);
    }
}

static int p_targets(pctx_t *c, size_t n, pnode_t **items, int *nout, ast_target_t **out)
{
    *nout = (int)n;
    *out = n ? p_alloc(c, n * sizeof(ast_target_t)) : NULL;
    if (n && !*out)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__ResTarget *t = items[i]->res_target;
        if (items[i]->node_case != PG_QUERY__NODE__NODE_RES_TARGET || t->n_indirection) {
            p_unsupported(c, "this target list entry", -1);
            return -1;
        }
        (*out)[i].name = t->name && t->name[0] ? p_str(c, t->name) : NULL;
        (*out)[i].location = t->location;
        if (!((*out)[i].expr = p_expr(c, t->val)))
            return -1;
    }
    return 0;
}

static ast_t *p_select(pctx_t *c, const PgQuery__SelectStmt *s);

/* ORDER BY items (of a window definition) into *sort. */
static int p_sortby_list(pctx_t *c, size_t n, pnode_t **items, int *nsort, ast_sortby_t **sort)
{
    *nsort = (int)n;
    *sort = n ? p_alloc(c, n * sizeof(ast_sortby_t)) : NULL;
    if (n && !*sort)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__SortBy *b = items[i]->sort_by;
        if (items[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY ||
            b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING) {
            p_unsupported(c, "ORDER BY ... USING", -1);
            return -1;
        }
        (*sort)[i].desc = b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        (*sort)[i].nulls = b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ? 1 :
                           b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST ? 2 : 0;
        if (!((*sort)[i].expr = p_expr(c, b->node)))
            return -1;
    }
    return 0;
}

/* UNION / INTERSECT / EXCEPT [ALL] of two queries, with the ORDER BY / LIMIT of the
 * whole. The grammar already nests them by precedence (INTERSECT binds tighter). */
static ast_t *p_setop(pctx_t *c, const PgQuery__SelectStmt *s)
{
    ast_setop_t op;
    switch (s->op) {
    case PG_QUERY__SET_OPERATION__SETOP_UNION: op = AST_SETOP_UNION; break;
    case PG_QUERY__SET_OPERATION__SETOP_INTERSECT: op = AST_SETOP_INTERSECT; break;
    case PG_QUERY__SET_OPERATION__SETOP_EXCEPT: op = AST_SETOP_EXCEPT; break;
    default: return p_unsupported(c, "this set operation", -1);
    }
    if (++c->depth > LIMIT_SQL_EXPR_DEPTH) {
        sql_error(c->err, "54001", "stack depth limit exceeded");
        return NULL;
    }
    ast_t *n = p_node(c, AST_SELECT, -1);
    if (!n)
        return NULL;
    ast_select_t *q = &n->select;
    q->is_setop = true;
    q->setop_all = s->all;
    q->setop = op;
    if (!(q->larg = p_select(c, s->larg)) || !(q->rarg = p_select(c, s->rarg)))
        return NULL;
    q->nsort = (int)s->n_sort_clause;
    q->sort = s->n_sort_clause ? p_alloc(c, s->n_sort_clause * sizeof(ast_sortby_t)) : NULL;
    for (size_t i = 0; i < s->n_sort_clause; i++) {
        const PgQuery__SortBy *b = s->sort_clause[i]->sort_by;
        if (b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING)
            return p_unsupported(c, "ORDER BY ... USING", b->location);
        q->sort[i].desc = b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        q->sort[i].nulls = b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ? 1 :
                           b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST ? 2 : 0;
        if (!(q->sort[i].expr = p_expr(c, b->node)))
            return NULL;
    }
    if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
        return p_unsupported(c, "FETCH ... WITH TIES on a set operation", -1);
    if (s->limit_count && !(q->limit = p_expr(c, s->limit_count)))
        return NULL;
    if (s->limit_offset && !(q->offset = p_expr(c, s->limit_offset)))
        return NULL;
    c->depth--;
    return n;
}

static ast_t *p_select_body(pctx_t *c, const PgQuery__SelectStmt *s);

/* The query of WITH RECURSIVE name: non-recursive-term UNION [ALL] recursive-term,
 * the name visible as the working table in the recursive term only. A body that
 * never references itself is an ordinary WITH query (inlined). */
static ast_t *p_cte_recursive(pctx_t *c, const PgQuery__SelectStmt *s, int k)
{
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_UNION || s->with_clause) {
        c->cte_state[k] = 4;
        ast_t *q = p_select(c, s);
        c->cte_state[k] = 0;
        return q;
    }
    c->cte_state[k] = 1;
    c->cte_selfrefs[k] = 0;
    ast_t *l = p_select(c, s->larg);
    if (!l)
        return NULL;
    c->cte_state[k] = 2;
    ast_t *r = p_select(c, s->rarg);
    if (!r)
        return NULL;
    bool self = c->cte_selfrefs[k] > 0;
    c->cte_state[k] = 0;
    if (self && (s->n_sort_clause || s->limit_count || s->limit_offset))
        return p_unsupported(c, s->n_sort_clause ? "ORDER BY in a recursive query" :
                             "OFFSET / LIMIT in a recursive query", -1);
    ast_t *n = p_node(c, AST_SELECT, -1);
    if (!n)
        return NULL;
    n->select.is_setop = true;
    n->select.setop = AST_SETOP_UNION;
    n->select.setop_all = s->all;
    n->select.larg = l;
    n->select.rarg = r;
    if (!self) {
        /* not recursive after all: the ORDER BY / LIMIT of the whole still apply */
        if (s->n_sort_clause || s->limit_count || s->limit_offset)
            return p_unsupported(c, "ORDER BY / LIMIT on a WITH RECURSIVE query that is not recursive", -1);
        return n;
    }
    n->select.cte_name = c->cte_names[k];
    c->cte_state[k] = 3;
    return n;
}

/* Makes the WITH queries of w visible (c->nctes grows; the caller restores it).
 * Non-recursive, read-only WITH queries are inlined where referenced (PostgreSQL 12+
 * does the same for non-materialized ones; MATERIALIZED is accepted and answers
 * the same, each reference evaluating the query). */
static int p_with(pctx_t *c, const PgQuery__WithClause *w)
{
    for (size_t i = 0; i < w->n_ctes; i++) {
        const PgQuery__CommonTableExpr *cte = w->ctes[i]->common_table_expr;
        if (w->ctes[i]->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR || !cte->ctequery ||
            cte->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
            p_unsupported(c, "data-modifying statements in WITH", w->location);
            return -1;
        }
        if (cte->search_clause || cte->cycle_clause) {
            p_unsupported(c, cte->search_clause ? "SEARCH in WITH RECURSIVE" : "CYCLE in WITH RECURSIVE",
                          cte->location);
            return -1;
        }
        for (int j = 0; j < c->nctes; j++)
            if (j >= c->nctes - (int)i && !strcmp(c->cte_names[j], cte->ctename)) {
                sql_error(c->err, "42712", "WITH query name \"%s\" specified more than once", cte->ctename);
                return -1;
            }
        if (c->nctes >= PARSE_CTES_MAX) {
            p_unsupported(c, "this number of WITH queries", w->location);
            return -1;
        }
        int k = c->nctes;
        c->cte_names[k] = p_str(c, cte->ctename);
        c->cte_state[k] = 0;
        c->cte_cols[k].n = (int)cte->n_aliascolnames;
        c->cte_cols[k].items = cte->n_aliascolnames ? p_alloc(c, cte->n_aliascolnames * sizeof(ast_t *)) : NULL;
        for (size_t j = 0; j < cte->n_aliascolnames; j++) {
            ast_t *name = p_node(c, AST_CONST, -1);
            if (!name)
                return -1;
            name->c.ctype = AST_C_STRING;
            name->c.str = p_str(c, p_string_val(cte->aliascolnames[j]));
            c->cte_cols[k].items[j] = name;
        }
        ast_t *q;
        if (w->recursive) {
            c->nctes++;          /* visible inside its own body */
            q = p_cte_recursive(c, cte->ctequery->select_stmt, k);
            c->nctes--;
        } else {
            q = p_select(c, cte->ctequery->select_stmt);
        }
        if (!q)
            return -1;
        c->cte_queries[k] = q;
        c->nctes++;
    }
    return 0;
}

static ast_t *p_select(pctx_t *c, const PgQuery__SelectStmt *s)
{
    if (!s->with_clause)
        return s->op != PG_QUERY__SET_OPERATION__SETOP_NONE ? p_setop(c, s) : p_select_body(c, s);
    int saved = c->nctes;
    if (p_with(c, s->with_clause) < 0)
        return NULL;
    ast_t *r = s->op != PG_QUERY__SET_OPERATION__SETOP_NONE ? p_setop(c, s) : p_select_body(c, s);
    c->nctes = saved;
    return r;
}

static ast_t *p_select_body(pctx_t *c, const PgQuery__SelectStmt *s)
{
    if (s->into_clause)
        return p_unsupported(c, "SELECT INTO", -1);
    if (++c->depth > LIMIT_SQL_EXPR_DEPTH) {
        sql_error(c->err, "54001", "stack depth limit exceeded");
        return NULL;
    }
    ast_t *n = p_node(c, AST_SELECT, -1);
    if (!n)
        return NULL;
    ast_select_t *q = &n->select;
    q->with_ties = s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES;
    if (s->n_distinct_clause) {
        /* DISTINCT gives one NULL item; DISTINCT ON gives expressions. */
        const pnode_t *d0 = s->distinct_clause[0];
        if (s->n_distinct_clause != 1 || (d0 && d0->node_case != PG_QUERY__NODE__NODE__NOT_SET)) {
            if (p_expr_list(c, s->n_distinct_clause, s->distinct_clause, &q->distinct_on) < 0)
                return NULL;
        } else {
            q->distinct = true;
        }
    }
    if (s->n_values_lists) {
        q->nvalues_rows = (int)s->n_values_lists;
        q->values = p_alloc(c, s->n_values_lists * sizeof(ast_list_t));
        if (!q->values)
            return NULL;
        for (size_t i = 0; i < s->n_values_lists; i++) {
            const pnode_t *l = s->values_lists[i];
            if (l->node_case != PG_QUERY__NODE__NODE_LIST)
                return p_unsupported(c, "this VALUES list", -1);
            if (p_expr_list(c, l->list->n_items, l->list->items, &q->values[i]) < 0)
                return NULL;
        }
    }
    if (p_targets(c, s->n_target_list, s->target_list, &q->ntargets, &q->targets) < 0)
        return NULL;
    q->from.n = (int)s->n_from_clause;
    q->from.items = s->n_from_clause ? p_alloc(c, s->n_from_clause * sizeof(ast_t *)) : NULL;
    for (size_t i = 0; i < s->n_from_clause; i++)
        if (!(q->from.items[i] = p_from_item(c, s->from_clause[i])))
            return NULL;
    if (s->where_clause && !(q->where = p_expr(c, s->where_clause)))
        return NULL;
    q->group_distinct = s->group_distinct;
    if (p_expr_list(c, s->n_group_clause, s->group_clause, &q->group) < 0)
        return NULL;
    if (s->having_clause && !(q->having = p_expr(c, s->having_clause)))
        return NULL;
    if (s->n_window_clause) {
        q->windows.n = (int)s->n_window_clause;
        if (!(q->windows.items = p_alloc(c, s->n_window_clause * sizeof(ast_t *))))
            return NULL;
        for (size_t i = 0; i < s->n_window_clause; i++) {
            const pnode_t *w = s->window_clause[i];
            if (w->node_case != PG_QUERY__NODE__NODE_WINDOW_DEF)
                return p_unsupported(c, "this WINDOW clause", -1);
            if (!(q->windows.items[i] = p_window_def(c, w->window_def)))
                return NULL;
        }
    }
    q->nsort = (int)s->n_sort_clause;
    q->sort = s->n_sort_clause ? p_alloc(c, s->n_sort_clause * sizeof(ast_sortby_t)) : NULL;
    for (size_t i = 0; i < s->n_sort_clause; i++) {
        const PgQuery__SortBy *b = s->sort_clause[i]->sort_by;
        if (b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING)
            return p_unsupported(c, "ORDER BY ... USING", b->location);
        q->sort[i].desc = b->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        q->sort[i].nulls = b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ? 1 :
                           b->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST ? 2 : 0;
        if (!(q->sort[i].expr = p_expr(c, b->node)))
            return NULL;
    }
    if (s->limit_count && !(q->limit = p_expr(c, s->limit_count)))
        return NULL;
    if (s->limit_offset && !(q->offset = p_expr(c, s->limit_offset)))
        return NULL;
    for (size_t i = 0; i < s->n_locking_clause; i++) {
        /* FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE all take the row lock (the
         * shared modes just allow less concurrency than in PostgreSQL) */
        const pnode_t *l = s->locking_clause[i];
        if (l->node_case != PG_QUERY__NODE__NODE_LOCKING_CLAUSE ||
            l->locking_clause->wait_policy != PG_QUERY__LOCK_WAIT_POLICY__LockWaitBlock)
            return p_unsupported(c, "NOWAIT / SKIP LOCKED", -1);
        q->for_update = true;
    }
    c->depth--;
    return n;
}

/* The value assigned by one SET item. SET (a, b) = (x, y) gives each column its
 * element of the row; SET (a, b) = (SELECT p, q ...) gives each column a scalar
 * subquery selecting its own output column of the same query. */
static ast_t *p_assign_value(pctx_t *c, const PgQuery__ResTarget *t)
{
    if (!t->val || t->val->node_case != PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF)
        return p_expr(c, t->val);
    const PgQuery__MultiAssignRef *m = t->val->multi_assign_ref;
    const pnode_t *src = m->source;
    if (m->colno < 1 || m->colno > m->ncolumns || !src)
        return p_unsupported(c, "this multiple-column UPDATE", t->location);
    if (src->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
        const PgQuery__RowExpr *r = src->row_expr;
        if (r->n_args != (size_t)m->ncolumns) {
            sql_error(c->err, SQLSTATE_SYNTAX_ERROR, "number of columns does not match number of values");
            if (r->location >= 0)
                c->err->position = r->location + 1;
            return NULL;
        }
        return p_expr(c, r->args[m->colno - 1]);
    }
    if (src->node_case != PG_QUERY__NODE__NODE_SUB_LINK ||
        src->sub_link->sub_link_type != PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK) {
        sql_error(c->err, SQLSTATE_SYNTAX_ERROR,
                  "source for a multiple-column UPDATE item must be a sub-SELECT or ROW() expression");
        return NULL;
    }
    ast_t *sub = p_expr(c, src);
    if (!sub)
        return NULL;
    if (sub->kind != AST_SUBLINK || !sub->sublink.select || sub->sublink.select->kind != AST_SELECT)
        return p_unsupported(c, "this multiple-column UPDATE", t->location);
    const ast_select_t *q = &sub->sublink.select->select;
    if (q->is_setop || q->distinct || q->distinct_on.n || q->nvalues_rows)
        return p_unsupported(c, "multiple-column UPDATE from a set operation, DISTINCT or VALUES", t->location);
    for (int i = 0; i < q->ntargets; i++)
        if (q->targets[i].expr && q->targets[i].expr->kind == AST_COLREF && q->targets[i].expr->colref.star)
            return p_unsupported(c, "multiple-column UPDATE from SELECT *", t->location);
    if (q->ntargets != m->ncolumns) {
        sql_error(c->err, SQLSTATE_SYNTAX_ERROR, "number of columns does not match number of values");
        if (src->sub_link->location >= 0)
            c->err->position = src->sub_link->location + 1;
        return NULL;
    }
    /* the same query, selecting only this column */
    ast_t *sel = p_alloc(c, sizeof *sel);
    if (!sel)
        return NULL;
    *sel = *sub->sublink.select;
    sel->select.ntargets = 1;
    sel->select.targets = &q->targets[m->colno - 1];
    sub->sublink.select = sel;
    return sub;
}

/* UPDATE's SET list (also ON CONFLICT DO UPDATE SET). */
static int p_set_list(pctx_t *c, size_t k, pnode_t **items, int *nset, const char ***cols, ast_t ***exprs)
{
    *nset = (int)k;
    *cols = p_alloc(c, (k + 1) * sizeof(char *));
    *exprs = p_alloc(c, (k + 1) * sizeof(ast_t *));
    if (!*cols || !*exprs)
        return -1;
    for (size_t i = 0; i < k; i++) {
        const PgQuery__ResTarget *t = items[i]->res_target;
        if (t->n_indirection) {
            p_unsupported(c, "UPDATE of an array element or field", t->location);
            return -1;
        }
        (*cols)[i] = p_str(c, t->name);
        if (!((*exprs)[i] = p_assign_value(c, t)))
            return -1;
    }
    return 0;
}

static int p_on_conflict(pctx_t *c, const PgQuery__OnConflictClause *oc, ast_t *n)
{
    n->insert.conflict_action = oc->action == PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_UPDATE ? 2 : 1;
    const PgQuery__InferClause *inf = oc->infer;
    if (inf) {
        if (inf->conname && inf->conname[0])
            n->insert.conflict_constraint = p_str(c, inf->conname);
        n->insert.conflict_has_where = inf->where_clause != NULL;
        n->insert.nconflict_cols = (int)inf->n_index_elems;
        n->insert.conflict_cols = p_alloc(c, (inf->n_index_elems + 1) * sizeof(char *));
        if (!n->insert.conflict_cols)
            return -1;
        for (size_t i = 0; i < inf->n_index_elems; i++) {
            const pnode_t *e = inf->index_elems[i];
            if (e->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM || !e->index_elem->name) {
                p_unsupported(c, "this ON CONFLICT target", inf->location);
                return -1;
            }
            n->insert.conflict_cols[i] = p_str(c, e->index_elem->name);
        }
    }
    if (n->insert.conflict_action == 2) {
        if (p_set_list(c, oc->n_target_list, oc->target_list, &n->insert.nconflict_set,
                       &n->insert.conflict_set_cols, &n->insert.conflict_set_exprs) < 0)
            return -1;
        if (oc->where_clause && !(n->insert.conflict_where = p_expr(c, oc->where_clause)))
            return -1;
    }
    return 0;
}

static ast_t *p_insert_body(pctx_t *c, const PgQuery__InsertStmt *s);

static ast_t *p_insert(pctx_t *c, const PgQuery__InsertStmt *s)
{
    int saved = c->nctes;
    if (s->with_clause && p_with(c, s->with_clause) < 0)
        return NULL;
    ast_t *n = p_insert_body(c, s);
    c->nctes = saved;
    return n;
}

static ast_t *p_insert_body(pctx_t *c, const PgQuery__InsertStmt *s)
{
    ast_t *n = p_node(c, AST_INSERT, -1);
    if (!n || !(n->insert.table = p_rangevar(c, s->relation)))
        return NULL;
    n->insert.ncols = (int)s->n_cols;
    n->insert.cols = s->n_cols ? p_alloc(c, s->n_cols * sizeof(char *)) : NULL;
    for (size_t i = 0; i < s->n_cols; i++) {
        const PgQuery__ResTarget *t = s->cols[i]->res_target;
        if (t->n_indirection)
            return p_unsupported(c, "INSERT into an array element or field", t->location);
        n->insert.cols[i] = p_str(c, t->name);
    }
    if (s->select_stmt) {
        if (s->select_stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return p_unsupported(c, "this INSERT source", -1);
        if (!(n->insert.source = p_select(c, s->select_stmt->select_stmt)))
            return NULL;
    }
    if (p_targets(c, s->n_returning_list, s->returning_list, &n->insert.nreturning,
                  &n->insert.returning) < 0)
        return NULL;
    n->insert.overriding = s->override == PG_QUERY__OVERRIDING_KIND__OVERRIDING_SYSTEM_VALUE ? 1
                         : s->override == PG_QUERY__OVERRIDING_KIND__OVERRIDING_USER_VALUE ? 2 : 0;
    if (s->on_conflict_clause && p_on_conflict(c, s->on_conflict_clause, n) < 0)
        return NULL;
    return n;
}

/* UPDATE ... FROM / DELETE ... USING items, as a SELECT's FROM list. */
static int p_from_list(pctx_t *c, size_t k, pnode_t **items, ast_list_t *out)
{
    out->n = (int)k;
    out->items = k ? p_alloc(c, k * sizeof(ast_t *)) : NULL;
    if (k && !out->items)
        return -1;
    for (size_t i = 0; i < k; i++)
        if (!(out->items[i] = p_from_item(c, items[i])))
            return -1;
    return 0;
}

static ast_t *p_update_body(pctx_t *c, const PgQuery__UpdateStmt *s);

static ast_t *p_update(pctx_t *c, const PgQuery__UpdateStmt *s)
{
    int saved = c->nctes;
    if (s->with_clause && p_with(c, s->with_clause) < 0)
        return NULL;
    ast_t *n = p_update_body(c, s);
    c->nctes = saved;
    return n;
}

static ast_t *p_update_body(pctx_t *c, const PgQuery__UpdateStmt *s)
{
    ast_t *n = p_node(c, AST_UPDATE, -1);
    if (!n || !(n->update.table = p_rangevar(c, s->relation)))
        return NULL;
    size_t k = s->n_target_list;
    n->update.nset = (int)k;
    n->update.set_cols = p_alloc(c, (k + 1) * sizeof(char *));
    n->update.set_exprs = p_alloc(c, (k + 1) * sizeof(ast_t *));
    if (!n->update.set_cols || !n->update.set_exprs)
        return NULL;
    for (size_t i = 0; i < k; i++) {
        const PgQuery__ResTarget *t = s->target_list[i]->res_target;
        if (t->n_indirection)
            return p_unsupported(c, "UPDATE of an array element or field", t->location);
        n->update.set_cols[i] = p_str(c, t->name);
        if (!(n->update.set_exprs[i] = p_assign_value(c, t)))
            return NULL;
    }
    if (p_from_list(c, s->n_from_clause, s->from_clause, &n->update.from) < 0)
        return NULL;
    if (s->where_clause && !(n->update.where = p_expr(c, s->where_clause)))
        return NULL;
    if (p_targets(c, s->n_returning_list, s->returning_list, &n->update.nreturning,
                  &n->update.returning) < 0)
        return NULL;
    return n;
}

static ast_t *p_delete_body(pctx_t *c, const PgQuery__DeleteStmt *s);

static ast_t *p_delete(pctx_t *c, const PgQuery__DeleteStmt *s)
{
    int saved = c->nctes;
    if (s->with_clause && p_with(c, s->with_clause) < 0)
        return NULL;
    ast_t *n = p_delete_body(c, s);
    c->nctes = saved;
    return n;
}

static ast_t *p_delete_body(pctx_t *c, const PgQuery__DeleteStmt *s)
{
    ast_t *n = p_node(c, AST_DELETE, -1);
    if (!n || !(n->del.table = p_rangevar(c, s->relation)))
        return NULL;
    if (p_from_list(c, s->n_using_clause, s->using_clause, &n->del.from) < 0)
        return NULL;
    if (s->where_clause && !(n->del.where = p_expr(c, s->where_clause)))
        return NULL;
    if (p_targets(c, s->n_returning_list, s->returning_list, &n->del.nreturning,
                  &n->del.returning) < 0)
        return NULL;
    return n;
}

static int p_pk_cols(pctx_t *c, const PgQuery__Constraint *k, int *n, const char ***cols)
{
    *n = (int)k->n_keys;
    *cols = p_alloc(c, (k->n_keys + 1) * sizeof(char *));
    if (!*cols)
        return -1;
    for (size_t i = 0; i < k->n_keys; i++)
        (*cols)[i] = p_str(c, p_string_val(k->keys[i]));
    return 0;
}

static const char *p_defarg(pctx_t *c, const pnode_t *a);

/* Sequence options (CREATE SEQUENCE, GENERATED ... AS IDENTITY (...)) as name/value
 * text pairs; sql/sequence.c checks and applies them. */
static int p_seq_options(pctx_t *c, size_t n, pnode_t **opts, int *nout, const char ***names,
                         const char ***values)
{
    *nout = 0;
    *names = p_alloc(c, (n + 1) * sizeof(char *));
    *values = p_alloc(c, (n + 1) * sizeof(char *));
    if (!*names || !*values)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) {
            p_unsupported(c, "this sequence option", -1);
            return -1;
        }
        const PgQuery__DefElem *d = opts[i]->def_elem;
        const char *nm = d->defname;
        if (!strcmp(nm, "owned_by") || !strcmp(nm, "sequence_name") || !strcmp(nm, "restart")) {
            p_unsupported(c, !strcmp(nm, "owned_by") ? "OWNED BY" : "this sequence option", d->location);
            return -1;
        }
        const char *v = NULL;
        bool no_value = (!strcmp(nm, "minvalue") || !strcmp(nm, "maxvalue")) && !d->arg;
        if (!no_value && !(v = p_defarg(c, d->arg)))
            return -1;
        (*names)[*nout] = p_str(c, nm);
        (*values)[(*nout)++] = v;
    }
    return 0;
}

/* SERIAL pseudo-types become their integer type plus an owned sequence. */
static int p_serial_bytes(const char *type_name)
{
    if (!strcmp(type_name, "serial") || !strcmp(type_name, "serial4"))
        return 4;
    if (!strcmp(type_name, "bigserial") || !strcmp(type_name, "serial8"))
        return 8;
    if (!strcmp(type_name, "smallserial") || !strcmp(type_name, "serial2"))
        return 2;
    return 0;
}

/* A FOREIGN KEY constraint; col names the column for a column-level REFERENCES. */
static int p_fk(pctx_t *c, const PgQuery__Constraint *k, const char *col, ast_fk_t *fk)
{
    memset(fk, 0, sizeof *fk);
    if (k->n_fk_del_set_cols) {
        p_unsupported(c, "SET NULL / SET DEFAULT with a column list", k->location);
        return -1;
    }
    if (k->skip_validation) {
        p_unsupported(c, "NOT VALID", k->location);
        return -1;
    }
    fk->name = k->conname && k->conname[0] ? p_str(c, k->conname) : NULL;
    fk->ref_table = p_str(c, k->pktable->relname);
    fk->ref_schema = k->pktable->schemaname && k->pktable->schemaname[0] ? p_str(c, k->pktable->schemaname) : NULL;
    fk->ncols = col ? 1 : (int)k->n_fk_attrs;
    fk->cols = p_alloc(c, ((size_t)fk->ncols + 1) * sizeof(char *));
    fk->nref = (int)k->n_pk_attrs;
    fk->ref_cols = p_alloc(c, (k->n_pk_attrs + 1) * sizeof(char *));
    if (!fk->cols || !fk->ref_cols)
        return -1;
    if (col)
        fk->cols[0] = col;
    for (size_t i = 0; !col && i < k->n_fk_attrs; i++)
        fk->cols[i] = p_str(c, p_string_val(k->fk_attrs[i]));
    for (size_t i = 0; i < k->n_pk_attrs; i++)
        fk->ref_cols[i] = p_str(c, p_string_val(k->pk_attrs[i]));
    fk->on_delete = k->fk_del_action && k->fk_del_action[0] ? k->fk_del_action[0] : 'a';
    fk->on_update = k->fk_upd_action && k->fk_upd_action[0] ? k->fk_upd_action[0] : 'a';
    fk->match_full = k->fk_matchtype && k->fk_matchtype[0] == 'f';
    fk->deferrable = k->deferrable;
    return 0;
}

static bool dp_supported(const ast_t *e);

/* A CHECK constraint: the expression deparsed for the catalog. */
static int p_check(pctx_t *c, const PgQuery__Constraint *k, ast_check_t *out)
{
    if (k->is_no_inherit) {
        p_unsupported(c, "NO INHERIT", k->location);
        return -1;
    }
    ast_t *e = p_expr(c, k->raw_expr);
    if (!e)
        return -1;
    if (!dp_supported(e)) {
        p_unsupported(c, "this CHECK expression", k->location);
        return -1;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    parse_deparse(e, &sb);
    out->sql = sb.oom ? NULL : p_str(c, sb.data);
    strbuf_free(&sb);
    out->name = k->conname && k->conname[0] ? p_str(c, k->conname) : NULL;
    return out->sql ? 0 : -1;
}

/* A UNIQUE constraint (column form when col is set); the forms we do not implement
 * are 0A000. */
static int p_unique(pctx_t *c, const PgQuery__Constraint *k, const char *col, ast_unique_t *out)
{
    if (k->nulls_not_distinct || k->n_including || k->n_options || (k->indexname && k->indexname[0]) ||
        k->deferrable || (k->indexspace && k->indexspace[0])) {
        p_unsupported(c, "this UNIQUE constraint form", k->location);
        return -1;
    }
    out->name = k->conname && k->conname[0] ? p_str(c, k->conname) : NULL;
    if (col) {
        out->ncols = 1;
        if (!(out->cols = p_alloc(c, 2 * sizeof(char *))))
            return -1;
        out->cols[0] = col;
        return 0;
    }
    return p_pk_cols(c, k, &out->ncols, &out->cols);
}

static ast_t *p_create(pctx_t *c, const PgQuery__CreateStmt *s)
{
    if (s->n_inh_relations || s->partbound || s->partspec || s->of_typename)
        return p_unsupported(c, "CREATE TABLE with INHERITS, PARTITION BY or OF type", -1);
    if (s->relation->relpersistence && s->relation->relpersistence[0] == 't')
        return p_unsupported(c, "CREATE TEMPORARY TABLE", s->relation->location);
    ast_t *n = p_node(c, AST_CREATE_TABLE, s->relation->location);
    if (!n || !(n->create.table = p_rangevar(c, s->relation)))
        return NULL;
    n->create.if_not_exists = s->if_not_exists;
    n->create.cols = p_alloc(c, (s->n_table_elts + 1) * sizeof(ast_coldef_t));
    size_t nfk_max = 0;
    for (size_t i = 0; i < s->n_table_elts; i++) {
        const pnode_t *e = s->table_elts[i];
        nfk_max += e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF ? e->column_def->n_constraints : 1;
    }
    n->create.fks = p_alloc(c, (nfk_max + 1) * sizeof(ast_fk_t));
    n->create.checks = p_alloc(c, (nfk_max + 1) * sizeof(ast_check_t));
    n->create.uniques = p_alloc(c, (nfk_max + 1) * sizeof(ast_unique_t));
    if (!n->create.cols || !n->create.fks || !n->create.checks || !n->create.uniques)
        return NULL;
    for (size_t i = 0; i < s->n_options; i++) {
        const pnode_t *o = s->options[i];
        const char *name = o->node_case == PG_QUERY__NODE__NODE_DEF_ELEM ? o->def_elem->defname : "";
        if (strcmp(name, "fillfactor") != 0 && strcmp(name, "autovacuum_enabled") != 0)
            return p_unsupported(c, "this storage parameter", -1);
    }
    for (size_t i = 0; i < s->n_table_elts; i++) {
        const pnode_t *e = s->table_elts[i];
        if (e->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
            const PgQuery__Constraint *k = e->constraint;
            if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN) {
                if (p_fk(c, k, NULL, &n->create.fks[n->create.nfks++]) < 0)
                    return NULL;
                continue;
            }
            if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_CHECK) {
                if (p_check(c, k, &n->create.checks[n->create.nchecks++]) < 0)
                    return NULL;
                continue;
            }
            if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE) {
                if (p_unique(c, k, NULL, &n->create.uniques[n->create.nuniques++]) < 0)
                    return NULL;
                continue;
            }
            if (k->contype != PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
                return p_unsupported(c, "this table constraint", k->location);
            if (n->create.npk) {
                sql_error(c->err, "42P16", "multiple primary keys for table \"%s\" are not allowed",
                          s->relation->relname);
                return NULL;
            }
            if (p_pk_cols(c, k, &n->create.npk, &n->create.pk_cols) < 0)
                return NULL;
            if (k->conname && k->conname[0])
                n->create.pk_name = p_str(c, k->conname);
            continue;
        }
        if (e->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
            return p_unsupported(c, "LIKE in CREATE TABLE", -1);
        const PgQuery__ColumnDef *d = e->column_def;
        ast_coldef_t *cd = &n->create.cols[n->create.ncols++];
        cd->name = p_str(c, d->colname);
        if (p_typename(c, d->type_name, &cd->type) < 0)
            return NULL;
        if (!cd->type.is_array && (cd->serial_bytes = p_serial_bytes(cd->type.name))) {
            cd->type.name = cd->serial_bytes == 2 ? "int2" : cd->serial_bytes == 4 ? "int4" : "int8";
            cd->not_null = true;
        }
        cd->not_null |= d->is_not_null;
        if (d->coll_clause)
            return p_unsupported(c, "COLLATE", d->location);
        for (size_t j = 0; j < d->n_constraints; j++) {
            const PgQuery__Constraint *k = d->constraints[j]->constraint;
            switch (k->contype) {
            case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL: cd->not_null = true; break;
            case PG_QUERY__CONSTR_TYPE__CONSTR_NULL:
                if (cd->serial_bytes) {
                    sql_error(c->err, SQLSTATE_SYNTAX_ERROR, "conflicting NULL/NOT NULL declarations for "
                              "column \"%s\" of table \"%s\"", cd->name, s->relation->relname);
                    return NULL;
                }
                cd->not_null = false;
                break;
            case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
                if (cd->identity || cd->serial_bytes) {
                    sql_error(c->err, SQLSTATE_SYNTAX_ERROR, cd->identity
                              ? "multiple identity specifications for column \"%s\" of table \"%s\""
                              : "both default and identity specified for column \"%s\" of table \"%s\"",
                              cd->name, s->relation->relname);
                    return NULL;
                }
                cd->identity = k->generated_when && k->generated_when[0] == 'a' ? 'a' : 'd';
                cd->not_null = true;
                if (p_seq_options(c, k->n_options, k->options, &cd->nseqopts, &cd->seqopt_names,
                                  &cd->seqopt_values) < 0)
                    return NULL;
                break;
            case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT: {
                if (cd->serial_bytes || cd->identity) {
                    sql_error(c->err, SQLSTATE_SYNTAX_ERROR, cd->identity
                              ? "both default and identity specified for column \"%s\" of table \"%s\""
                              : "multiple default values specified for column \"%s\" of table \"%s\"",
                              cd->name, s->relation->relname);
                    return NULL;
                }
                if (!(cd->default_expr = p_expr(c, k->raw_expr)))
                    return NULL;
                if (!dp_supported(cd->default_expr))
                    return p_unsupported(c, "this DEFAULT expression", k->location);
                strbuf_t sb;
                strbuf_init(&sb);
                parse_deparse(cd->default_expr, &sb);
                cd->default_sql = sb.oom ? NULL : p_str(c, sb.data);
                strbuf_free(&sb);
                if (!cd->default_sql)
                    return NULL;
                break;
            }
            case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
                if (n->create.npk) {
                    sql_error(c->err, "42P16", "multiple primary keys for table \"%s\" are not allowed",
                              s->relation->relname);
                    return NULL;
                }
                cd->primary_key = true;
                cd->not_null = true;
                n->create.npk = 1;
                n->create.pk_cols = p_alloc(c, sizeof(char *));
                if (!n->create.pk_cols)
                    return NULL;
                n->create.pk_cols[0] = cd->name;
                if (k->conname && k->conname[0])
                    n->create.pk_name = p_str(c, k->conname);
                break;
            case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
                if (p_fk(c, k, cd->name, &n->create.fks[n->create.nfks++]) < 0)
                    return NULL;
                break;
            case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
                if (p_check(c, k, &n->create.checks[n->create.nchecks++]) < 0)
                    return NULL;
                break;
            case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
                if (p_unique(c, k, cd->name, &n->create.uniques[n->create.nuniques++]) < 0)
                    return NULL;
                break;
            default:
                return p_unsupported(c, "this column constraint", k->location);
            }
        }
    }
    return n;
}

static void dp_typename(const ast_typename_t *t, strbuf_t *out);

/* Whether parse_deparse reproduces e exactly (the forms a catalog DEFAULT may use). */
static bool dp_supported(const ast_t *e)
{
    switch (e->kind) {
    case AST_CONST: case AST_COLREF: case AST_SQLFN: case AST_PARAM:
        return true;
    case AST_OP:
        return (!e->op.l || dp_supported(e->op.l)) && dp_supported(e->op.r);
    case AST_CAST:
        return dp_supported(e->cast.arg);
    case AST_AND: case AST_OR: case AST_NOT:       /* CHECK constraints use these */
        for (int i = 0; i < e->args.n; i++)
            if (!dp_supported(e->args.items[i]))
                return false;
        return true;
    case AST_NULLTEST:
        return e->test.booltest == 0 && dp_supported(e->test.arg);
    case AST_BETWEEN:
        return !e->between.symmetric && dp_supported(e->between.arg) && dp_supported(e->between.lo) &&
               dp_supported(e->between.hi);
    case AST_IN:
        for (int i = 0; i < e->in.list.n; i++)
            if (!dp_supported(e->in.list.items[i]))
                return false;
        return dp_supported(e->in.arg);
    case AST_FUNC:
        if (e->func.star || e->func.distinct)
            return false;
        for (int i = 0; i < e->func.args.n; i++)
            if (!dp_supported(e->func.args.items[i]))
                return false;
        return true;
    default:
        return false;
    }
}

static int p_table_list(pctx_t *c, size_t n, pnode_t **items, bool lists, ast_t *out)
{
    out->drop.n = (int)n;
    out->drop.tables = p_alloc(c, (n + 1) * sizeof(ast_t *));
    if (!out->drop.tables)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const pnode_t *o = items[i];
        ast_t *rv;
        if (!lists) {
            if (o->node_case != PG_QUERY__NODE__NODE_RANGE_VAR) {
                p_unsupported(c, "this object name", -1);
                return -1;
            }
            rv = p_rangevar(c, o->range_var);
        } else {
            if (o->node_case != PG_QUERY__NODE__NODE_LIST || o->list->n_items < 1 || o->list->n_items > 2) {
                p_unsupported(c, "this object name", -1);
                return -1;
            }
            rv = p_node(c, AST_RANGEVAR, -1);
            if (rv) {
                size_t k = o->list->n_items;
                rv->rangevar.name = p_str(c, p_string_val(o->list->items[k - 1]));
                if (k == 2)
                    rv->rangevar.schema = p_str(c, p_string_val(o->list->items[0]));
            }
        }
        if (!rv)
            return -1;
        out->drop.tables[i] = rv;
    }
    return 0;
}

/* The textual value of a SET argument: strings as is, numbers as written. */
static const char *p_set_value(pctx_t *c, const pnode_t *a)
{
    if (a->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
        const PgQuery__TypeName *tn = a->type_cast->type_name;
        const pnode_t *last = tn && tn->n_names ? tn->names[tn->n_names - 1] : NULL;
        if (last && last->node_case == PG_QUERY__NODE__NODE_STRING && !strcmp(last->string->sval, "interval")) {
            /* SET TIME ZONE INTERVAL '...': the value is not a zone name; refuse rather
             * than read '+05:30' as a POSIX offset of the opposite sign */
            p_unsupported(c, "SET TIME ZONE INTERVAL", a->type_cast->location);
            return NULL;
        }
        a = a->type_cast->arg;
    }
    if (a->node_case != PG_QUERY__NODE__NODE_A_CONST) {
        p_unsupported(c, "this SET value", -1);
        return NULL;
    }
    const PgQuery__AConst *k = a->a_const;
    char buf[32];
    switch (k->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
        snprintf(buf, sizeof buf, "%d", k->ival->ival);
        return p_str(c, buf);
    case PG_QUERY__A__CONST__VAL_FVAL: return p_str(c, k->fval->fval);
    case PG_QUERY__A__CONST__VAL_SVAL: return p_str(c, k->sval->sval);
    case PG_QUERY__A__CONST__VAL_BOOLVAL: return p_str(c, k->boolval->boolval ? "on" : "off");
    default:
        p_unsupported(c, "this SET value", k->location);
        return NULL;
    }
}

static ast_isolation_t p_isolation(const char *s)
{
    if (!strcmp(s, "serializable")) return AST_ISO_SERIALIZABLE;
    if (!strcmp(s, "repeatable read")) return AST_ISO_REPEATABLE_READ;
    if (!strcmp(s, "read committed")) return AST_ISO_READ_COMMITTED;
    if (!strcmp(s, "read uncommitted")) return AST_ISO_READ_UNCOMMITTED;
    return AST_ISO_DEFAULT;
}

/* Transaction modes (BEGIN ISOLATION LEVEL x, READ ONLY, SET TRANSACTION ...). */
static int p_txn_modes(pctx_t *c, size_t n, pnode_t **opts, ast_isolation_t *iso, bool *read_only)
{
    for (size_t i = 0; i < n; i++) {
        if (opts[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            continue;
        const PgQuery__DefElem *d = opts[i]->def_elem;
        const pnode_t *arg = d->arg;
        if (!strcmp(d->defname, "transaction_isolation") && arg &&
            arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
            arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
            *iso = p_isolation(arg->a_const->sval->sval);
        } else if (!strcmp(d->defname, "transaction_read_only") && arg &&
                   arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                   arg->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
            *read_only = arg->a_const->ival->ival != 0;
        } else if (!strcmp(d->defname, "transaction_deferrable")) {
            /* DEFERRABLE only matters for SERIALIZABLE READ ONLY; ignored. */
        } else {
            p_unsupported(c, "this transaction mode", d->location);
            return -1;
        }
    }
    return 0;
}

static ast_t *p_stmt(pctx_t *c, const pnode_t *s);

/* A COPY option's value as text: 'x', an identifier, or on/off/true/false. */
static const char *p_copy_opt_text(const PgQuery__DefElem *d)
{
    const pnode_t *a = d->arg;
    if (!a)
        return NULL;
    if (a->node_case == PG_QUERY__NODE__NODE_STRING)
        return a->string->sval;
    if (a->node_case == PG_QUERY__NODE__NODE_BOOLEAN)
        return a->boolean->boolval ? "true" : "false";
    if (a->node_case == PG_QUERY__NODE__NODE_INTEGER)
        return a->integer->ival ? "true" : "false";
    return NULL;
}

/* PostgreSQL's defGetBoolean (or "match" for HEADER): 1 true, 0 false, 2 match, -1 bad. */
static int p_copy_bool(const PgQuery__DefElem *d, bool allow_match)
{
    const pnode_t *a = d->arg;
    if (!a)
        return 1;
    if (a->node_case == PG_QUERY__NODE__NODE_INTEGER)
        return a->integer->ival == 0 ? 0 : a->integer->ival == 1 ? 1 : -1;
    const char *v = p_copy_opt_text(d);
    if (!v)
        return -1;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "on"))
        return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "off"))
        return 0;
    if (allow_match && !strcasecmp(v, "match"))
        return 2;
    return -1;
}

/* FORCE_QUOTE / FORCE_NOT_NULL / FORCE_NULL (column, ...) or FORCE_QUOTE *. */
static int p_copy_cols(pctx_t *c, const PgQuery__DefElem *d, int *n, const char ***cols, bool *all)
{
    const pnode_t *a = d->arg;
    if (a && a->node_case == PG_QUERY__NODE__NODE_A_STAR && all) {
        *all = true;
        return 0;
    }
    if (!a || a->node_case != PG_QUERY__NODE__NODE_LIST) {
        sql_error(c->err, SQLSTATE_SYNTAX_ERROR, "argument to option \"%s\" must be a list of column names",
                  d->defname);
        c->err->position = d->location >= 0 ? d->location + 1 : 0;
        return -1;
    }
    const PgQuery__List *l = a->list;
    *n = (int)l->n_items;
    *cols = p_alloc(c, (l->n_items + 1) * sizeof(char *));
    if (!*cols)
        return -1;
    for (size_t i = 0; i < l->n_items; i++)
        if (!((*cols)[i] = p_str(c, p_string_val(l->items[i])))) {
            p_unsupported(c, "this COPY column list", d->location);
            return -1;
        }
    return 0;
}

static void *p_copy_err(pctx_t *c, const char *state, const char *msg, const char *arg, int location)
{
    sql_error(c->err, state, msg, arg);
    if (location >= 0)
        c->err->position = location + 1;
    return NULL;
}

/* EXPLAIN's options in PostgreSQL's order of checks (ExplainQuery): booleans as
 * defGetBoolean reads them, FORMAT TEXT only (the other formats are 0A000), WAL
 * refused, TIMING and SUMMARY defaulting to ANALYZE, TIMING without ANALYZE 22023. */
static int p_explain_opts(pctx_t *c, const PgQuery__ExplainStmt *x, unsigned *out)
{
    static const struct { const char *name; unsigned bit; } bools[] = {
        {"analyze", AST_EXPLAIN_ANALYZE}, {"verbose", AST_EXPLAIN_VERBOSE}, {"costs", AST_EXPLAIN_COSTS},
        {"buffers", AST_EXPLAIN_BUFFERS}, {"settings", AST_EXPLAIN_SETTINGS}, {"timing", AST_EXPLAIN_TIMING},
        {"summary", AST_EXPLAIN_SUMMARY}, {"wal", AST_EXPLAIN_WAL},
    };
    unsigned opts = AST_EXPLAIN_COSTS, set = 0;
    const char *format = NULL;
    int format_loc = -1;
    for (size_t i = 0; i < x->n_options; i++) {
        const pnode_t *o = x->options[i];
        if (o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            return p_unsupported(c, "this EXPLAIN option", -1), -1;
        const PgQuery__DefElem *d = o->def_elem;
        size_t k = 0;
        while (k < sizeof bools / sizeof bools[0] && strcmp(d->defname, bools[k].name))
            k++;
        if (k < sizeof bools / sizeof bools[0]) {
            int v = p_copy_bool(d, false);
            if (v < 0)
                return p_copy_err(c, SQLSTATE_SYNTAX_ERROR, "%s requires a Boolean value", d->defname, -1), -1;
            opts = v ? opts | bools[k].bit : opts & ~bools[k].bit;
            set |= bools[k].bit;
        } else if (!strcmp(d->defname, "format")) {
            const char *v = p_copy_opt_text(d);
            if (!v || (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "xml") && strcmp(v, "yaml"))) {
                sql_error(c->err, SQLSTATE_INVALID_PARAMETER, "unrecognized value for EXPLAIN option \"%s\": \"%s\"",
                          d->defname, v ? v : "");
                c->err->position = d->location + 1;
                return -1;
            }
            format = v;
            format_loc = d->location;
        } else {
            return p_copy_err(c, SQLSTATE_SYNTAX_ERROR, "unrecognized EXPLAIN option \"%s\"", d->defname,
                              d->location), -1;
        }
    }
    bool analyze = opts & AST_EXPLAIN_ANALYZE;
    if ((opts & AST_EXPLAIN_WAL) && !analyze)
        return p_copy_err(c, SQLSTATE_INVALID_PARAMETER, "EXPLAIN option WAL requires ANALYZE", NULL, -1), -1;
    if (!(set & AST_EXPLAIN_TIMING))
        opts = analyze ? opts | AST_EXPLAIN_TIMING : opts & ~AST_EXPLAIN_TIMING;
    if ((opts & AST_EXPLAIN_TIMING) && !analyze)
        return p_copy_err(c, SQLSTATE_INVALID_PARAMETER, "EXPLAIN option TIMING requires ANALYZE", NULL, -1), -1;
    if (!(set & AST_EXPLAIN_SUMMARY))
        opts = analyze ? opts | AST_EXPLAIN_SUMMARY : opts & ~AST_EXPLAIN_SUMMARY;
    if (format && strcmp(format, "text")) {
        const char *what = !strcmp(format, "json") ? "EXPLAIN (FORMAT JSON)"
                         : !strcmp(format, "xml") ? "EXPLAIN (FORMAT XML)" : "EXPLAIN (FORMAT YAML)";
        return p_unsupported(c, what, format_loc), -1;
    }
    if (opts & AST_EXPLAIN_WAL)
        return p_unsupported(c, "EXPLAIN (WAL)", -1), -1;
    *out = opts;
    return 0;
}

/* COPY table [(columns)] FROM STDIN and COPY table [(columns)] | (query) TO STDOUT
 * [WITH (FORMAT text | csv, DELIMITER, NULL, HEADER, QUOTE, ESCAPE, FORCE_QUOTE,
 * FORCE_NOT_NULL, FORCE_NULL, FREEZE)], with PostgreSQL's option checks in its order.
 * Files, programs and the binary format are refused. FREEZE is accepted: it only
 * asks for an optimisation of PostgreSQL's heap. */
static ast_t *p_copy(pctx_t *c, const PgQuery__CopyStmt *s)
{
    if (s->is_program || (s->filename && s->filename[0]))
        return p_unsupported(c, s->is_from ? "COPY from a file or program" : "COPY to a file or program", -1);
    if (s->where_clause)
        return p_unsupported(c, "COPY ... WHERE", -1);
    ast_t *n = p_node(c, AST_COPY, -1);
    ast_copy_opts_t *o = p_alloc(c, sizeof *o);
    if (!n || !o)
        return NULL;
    memset(o, 0, sizeof *o);
    n->copy.opts = o;
    n->copy.to = !s->is_from;
    if (s->query) {
        if (s->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return p_unsupported(c, "COPY of a data-modifying statement", -1);
        if (!(n->copy.query = p_select(c, s->query->select_stmt)))
            return NULL;
    } else if (!(n->copy.table = p_rangevar(c, s->relation))) {
        return NULL;
    }
    n->copy.ncols = (int)s->n_attlist;
    n->copy.cols = p_alloc(c, (s->n_attlist + 1) * sizeof(char *));
    if (!n->copy.cols)
        return NULL;
    for (size_t i = 0; i < s->n_attlist; i++)
        if (!(n->copy.cols[i] = p_str(c, p_string_val(s->attlist[i]))))
            return p_unsupported(c, "this COPY column list", -1);
    const char *format = NULL, *delim = NULL, *null_s = NULL, *quote = NULL, *escape = NULL;
    bool seen_freeze = false, seen_header = false, fq = false, fnn = false, fnl = false;
    for (size_t i = 0; i < s->n_options; i++) {
        if (s->options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            return p_unsupported(c, "this COPY option", -1);
        const PgQuery__DefElem *d = s->options[i]->def_elem;
        const char *v = p_copy_opt_text(d);
        const char *nm = d->defname;
        bool dup = false;
        if (!strcmp(nm, "format")) {
            dup = format != NULL;
            format = v ? v : "";
            if (!dup && strcmp(format, "text") && strcmp(format, "csv")) {
                if (!strcmp(format, "binary"))
                    return p_unsupported(c, "COPY in the binary format", d->location);
                return p_copy_err(c, SQLSTATE_INVALID_PARAMETER, "COPY format \"%s\" not recognized", format,
                                  d->location);
            }
        } else if (!strcmp(nm, "freeze")) {
            dup = seen_freeze;
            seen_freeze = true;
            if (!dup && p_copy_bool(d, false) < 0)
                return p_copy_err(c, SQLSTATE_SYNTAX_ERROR, "%s requires a Boolean value", nm, -1);
        } else if (!strcmp(nm, "delimiter")) {
            dup = delim != NULL;
            delim = v ? v : "";
        } else if (!strcmp(nm, "null")) {
            dup = null_s != NULL;
            null_s = v ? v : "";
        } else if (!strcmp(nm, "header")) {
            dup = seen_header;
            seen_header = true;
            if (!dup) {
                int h = p_copy_bool(d, true);
                if (h < 0)
                    return p_copy_err(c, SQLSTATE_SYNTAX_ERROR, "%s requires a Boolean value or \"match\"", nm, -1);
                if (h == 2 && !s->is_from)
                    return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot use \"%s\" with HEADER in COPY TO",
                                      "match", -1);
                o->header = h;
            }
        } else if (!strcmp(nm, "quote")) {
            dup = quote != NULL;
            quote = v ? v : "";
        } else if (!strcmp(nm, "escape")) {
            dup = escape != NULL;
            escape = v ? v : "";
        } else if (!strcmp(nm, "force_quote")) {
            dup = fq;
            fq = true;
            if (!dup && p_copy_cols(c, d, &o->nforce_quote, &o->force_quote, &o->force_quote_all) < 0)
                return NULL;
        } else if (!strcmp(nm, "force_not_null")) {
            dup = fnn;
            fnn = true;
            if (!dup && p_copy_cols(c, d, &o->nforce_not_null, &o->force_not_null, NULL) < 0)
                return NULL;
        } else if (!strcmp(nm, "force_null")) {
            dup = fnl;
            fnl = true;
            if (!dup && p_copy_cols(c, d, &o->nforce_null, &o->force_null, NULL) < 0)
                return NULL;
        } else if (!strcmp(nm, "encoding")) {
            if (!v || (strcasecmp(v, "utf8") && strcasecmp(v, "utf-8") && strcasecmp(v, "sql_ascii")))
                return p_unsupported(c, "this COPY ENCODING", d->location);
        } else {
            return p_copy_err(c, SQLSTATE_SYNTAX_ERROR, "option \"%s\" not recognized", nm, d->location);
        }
        if (dup)
            return p_copy_err(c, SQLSTATE_SYNTAX_ERROR, "conflicting or redundant options%s", "", d->location);
    }
    o->csv = format && !strcmp(format, "csv");
    if (!delim)
        delim = o->csv ? "," : "\t";
    if (!null_s)
        null_s = o->csv ? "" : "\\N";
    if (strlen(delim) != 1)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY delimiter must be a single one-byte character%s",
                          "", -1);
    if (delim[0] == '\n' || delim[0] == '\r')
        return p_copy_err(c, SQLSTATE_INVALID_PARAMETER, "COPY delimiter cannot be newline or carriage return%s",
                          "", -1);
    if (strchr(null_s, '\n') || strchr(null_s, '\r'))
        return p_copy_err(c, SQLSTATE_INVALID_PARAMETER,
                          "COPY null representation cannot use newline or carriage return%s", "", -1);
    if (!o->csv && strchr("\\.abcdefghijklmnopqrstuvwxyz0123456789", delim[0]))
        return p_copy_err(c, SQLSTATE_INVALID_PARAMETER, "COPY delimiter cannot be \"%s\"", delim, -1);
    if (!o->csv && quote)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY quote available only in CSV mode%s", "", -1);
    if (o->csv && quote && strlen(quote) != 1)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY quote must be a single one-byte character%s", "",
                          -1);
    o->quote = quote ? quote[0] : '"';
    if (o->csv && delim[0] == o->quote)
        return p_copy_err(c, SQLSTATE_INVALID_PARAMETER, "COPY delimiter and quote must be different%s", "", -1);
    if (!o->csv && escape)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY escape available only in CSV mode%s", "", -1);
    if (o->csv && escape && strlen(escape) != 1)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY escape must be a single one-byte character%s",
                          "", -1);
    o->escape = escape ? escape[0] : o->quote;
    if (!o->csv && fq)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY force quote available only in CSV mode%s", "",
                          -1);
    if (fq && s->is_from)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY force quote only available using COPY TO%s", "",
                          -1);
    if (!o->csv && fnn)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY force not null available only in CSV mode%s",
                          "", -1);
    if (fnn && !s->is_from)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY force not null only available using COPY FROM%s",
                          "", -1);
    if (!o->csv && fnl)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY force null available only in CSV mode%s", "",
                          -1);
    if (fnl && !s->is_from)
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY force null only available using COPY FROM%s", "",
                          -1);
    if (strchr(null_s, delim[0]))
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
                          "COPY delimiter must not appear in the NULL specification%s", "", -1);
    if (o->csv && strchr(null_s, o->quote))
        return p_copy_err(c, SQLSTATE_FEATURE_NOT_SUPPORTED,
                          "CSV quote character must not appear in the NULL specification%s", "", -1);
    n->copy.delimiter = delim[0];
    n->copy.null_string = p_str(c, null_s);
    return n->copy.null_string ? n : NULL;
}

/* DECLARE name [NO SCROLL] CURSOR [WITHOUT HOLD] FOR select. The cursor options are
 * PostgreSQL's CURSOR_OPT_* bits: BINARY 0x1, SCROLL 0x2, HOLD 0x20 are refused. */
static ast_t *p_declare_cursor(pctx_t *c, const PgQuery__DeclareCursorStmt *d)
{
    if (d->options & 0x1)
        return p_unsupported(c, "DECLARE BINARY CURSOR", -1);
    if (d->options & 0x2)
        return p_unsupported(c, "DECLARE SCROLL CURSOR", -1);
    if (d->options & 0x20)
        return p_unsupported(c, "DECLARE CURSOR WITH HOLD", -1);
    if (!d->query || d->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return p_unsupported(c, "DECLARE CURSOR for this statement", -1);
    ast_t *n = p_node(c, AST_DECLARE_CURSOR, -1);
    if (!n || !(n->cursor.name = p_str(c, d->portalname)))
        return NULL;
    return (n->cursor.stmt = p_stmt(c, d->query)) ? n : NULL;
}

/* FETCH [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name: forward only. */
static ast_t *p_fetch(pctx_t *c, const PgQuery__FetchStmt *f)
{
    if (f->ismove)
        return p_unsupported(c, "MOVE", -1);
    if (f->direction != PG_QUERY__FETCH_DIRECTION__FETCH_FORWARD)
        return p_unsupported(c, "FETCH in this direction (cursors are forward-only)", -1);
    if (f->how_many <= 0)
        return p_unsupported(c, "FETCH of the current row (FETCH 0)", -1);
    ast_t *n = p_node(c, AST_FETCH, -1);
    if (!n || !(n->cursor.name = p_str(c, f->portalname)))
        return NULL;
    n->cursor.all = f->how_many == INT64_MAX;    /* FETCH_ALL is LONG_MAX */
    n->cursor.count = f->how_many;
    return n;
}

/* PREPARE name [(type, ...)] AS statement. The inner statement keeps its locations
 * (offsets in the whole PREPARE text), so bind errors point into it correctly. */
static ast_t *p_prepare(pctx_t *c, const PgQuery__PrepareStmt *ps)
{
    ast_t *n = p_node(c, AST_PREPARE, -1);
    if (!n || !(n->prepare.name = p_str(c, ps->name)))
        return NULL;
    if (ps->n_argtypes > LIMIT_PG_PARAMS) {
        sql_error(c->err, SQLSTATE_PROGRAM_LIMIT, "too many parameters");
        return NULL;
    }
    n->prepare.ntypes = (int)ps->n_argtypes;
    n->prepare.types = p_alloc(c, (ps->n_argtypes + 1) * sizeof(ast_typename_t));
    if (!n->prepare.types)
        return NULL;
    for (size_t i = 0; i < ps->n_argtypes; i++) {
        if (ps->argtypes[i]->node_case != PG_QUERY__NODE__NODE_TYPE_NAME)
            return p_unsupported(c, "this parameter type", -1);
        if (p_typename(c, ps->argtypes[i]->type_name, &n->prepare.types[i]) < 0)
            return NULL;
    }
    if (!ps->query)
        return p_unsupported(c, "PREPARE without a statement", -1);
    switch (ps->query->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
    case PG_QUERY__NODE__NODE_INSERT_STMT:
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        break;
    default:
        /* PostgreSQL's grammar only admits these (and VALUES, a SELECT here) */
        return p_unsupported(c, "PREPARE of this statement", -1);
    }
    return (n->prepare.stmt = p_stmt(c, ps->query)) ? n : NULL;
}

/* A WITH (...) option value as text: numbers as written, strings and names as is. */
static const char *p_defarg(pctx_t *c, const pnode_t *a)
{
    char buf[32];
    if (!a)
        return p_str(c, "true");     /* WITH (flag) means flag = true */
    switch (a->node_case) {
    case PG_QUERY__NODE__NODE_INTEGER:
        snprintf(buf, sizeof buf, "%d", a->integer->ival);
        return p_str(c, buf);
    case PG_QUERY__NODE__NODE_FLOAT: return p_str(c, a->float_->fval);
    case PG_QUERY__NODE__NODE_STRING: return p_str(c, a->string->sval);
    case PG_QUERY__NODE__NODE_BOOLEAN: return p_str(c, a->boolean->boolval ? "true" : "false");
    case PG_QUERY__NODE__NODE_TYPE_NAME: return p_str(c, p_last_name(a->type_name->n_names, a->type_name->names));
    default:
        p_unsupported(c, "this option value", -1);
        return NULL;
    }
}

/* CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t [USING m]
 * (col [opclass], ...) [WITH (...)] [WHERE ...]: the binder and vindex_ddl.c decide
 * what runs (only hnsw does). */
static ast_t *p_index(pctx_t *c, const PgQuery__IndexStmt *x)
{
    if (x->n_index_including_params)
        return p_unsupported(c, "INCLUDE in CREATE INDEX", -1);
    if (x->nulls_not_distinct)
        return p_unsupported(c, "NULLS NOT DISTINCT", -1);
    if (x->table_space && x->table_space[0])
        return p_unsupported(c, "an index tablespace", -1);
    ast_t *n = p_node(c, AST_CREATE_INDEX, x->relation ? x->relation->location : -1);
    if (!n || !(n->create_index.table = p_rangevar(c, x->relation)))
        return NULL;
    n->create_index.name = x->idxname && x->idxname[0] ? p_str(c, x->idxname) : NULL;
    n->create_index.method = p_str(c, x->access_method && x->access_method[0] ? x->access_method : "btree");
    n->create_index.if_not_exists = x->if_not_exists;
    n->create_index.unique = x->unique;
    n->create_index.concurrent = x->concurrent;
    n->create_index.has_where = x->where_clause != NULL;
    size_t k = x->n_index_params;
    n->create_index.ncols = (int)k;
    n->create_index.cols = p_alloc(c, (k + 1) * sizeof(char *));
    n->create_index.opclasses = p_alloc(c, (k + 1) * sizeof(char *));
    if (!n->create_index.cols || !n->create_index.opclasses)
        return NULL;
    for (size_t i = 0; i < k; i++) {
        const pnode_t *e = x->index_params[i];
        if (e->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM)
            return p_unsupported(c, "this index element", -1);
        const PgQuery__IndexElem *ie = e->index_elem;
        if (ie->n_collation)
            return p_unsupported(c, "an index collation", -1);
        if (ie->name && ie->name[0] && !(n->create_index.cols[i] = p_str(c, ie->name)))
            return NULL;
        const char *oc = p_last_name(ie->n_opclass, ie->opclass);
        if (oc && !(n->create_index.opclasses[i] = p_str(c, oc)))
            return NULL;
    }
    size_t no = x->n_options;
    n->create_index.nopts = (int)no;
    n->create_index.opt_names = p_alloc(c, (no + 1) * sizeof(char *));
    n->create_index.opt_values = p_alloc(c, (no + 1) * sizeof(char *));
    if (!n->create_index.opt_names || !n->create_index.opt_values)
        return NULL;
    for (size_t i = 0; i < no; i++) {
        const pnode_t *o = x->options[i];
        if (o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM)
            return p_unsupported(c, "this index option", -1);
        if (!(n->create_index.opt_names[i] = p_str(c, o->def_elem->defname)) ||
            !(n->create_index.opt_values[i] = p_defarg(c, o->def_elem->arg)))
            return NULL;
    }
    return n;
}

/* The SQL text of one SELECT node, printed back by libpg_query's deparser: a canonical
 * form without comments or the statement around it, which the catalog stores for a
 * view and parse_sql reads again wherever the view is used. */
static const char *p_deparse_select(pctx_t *c, PgQuery__Node *query)
{
    PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
    raw.stmt = query;
    PgQuery__RawStmt *raws[1] = {&raw};
    PgQuery__ParseResult tree = PG_QUERY__PARSE_RESULT__INIT;
    tree.version = PG_VERSION_NUM;
    tree.n_stmts = 1;
    tree.stmts = raws;
    size_t len = pg_query__parse_result__get_packed_size(&tree);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        sql_error(c->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    pg_query__parse_result__pack(&tree, buf);
    PgQueryProtobuf pb = {.len = len, .data = (char *)buf};
    PgQueryDeparseResult r = pg_query_deparse_protobuf(pb);
    free(buf);
    const char *out = NULL;
    if (r.error)
        p_unsupported(c, "a view over this query", -1);
    else if (strlen(r.query) > LIMIT_SQL_TEXT_BYTES)
        sql_error(c->err, SQLSTATE_PROGRAM_LIMIT, "view definition is too long");
    else
        out = p_str(c, r.query);
    pg_query_free_deparse_result(r);
    return out;
}

/* CREATE [OR REPLACE] VIEW name [(cols)] AS query: the query is converted here (so
 * what we cannot run fails at CREATE) and deparsed for the catalog. */
static ast_t *p_view(pctx_t *c, const PgQuery__ViewStmt *v)
{
    if (v->view->relpersistence && v->view->relpersistence[0] != 'p')
        return p_unsupported(c, "CREATE TEMPORARY VIEW", v->view->location);
    if (v->n_options)
        return p_unsupported(c, "view options (WITH (...))", -1);
    if (v->with_check_option == PG_QUERY__VIEW_CHECK_OPTION__LOCAL_CHECK_OPTION ||
        v->with_check_option == PG_QUERY__VIEW_CHECK_OPTION__CASCADED_CHECK_OPTION)
        return p_unsupported(c, "WITH CHECK OPTION", -1);
    if (!v->query || v->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return p_unsupported(c, "a view over this statement", -1);
    ast_t *n = p_node(c, AST_CREATE_VIEW, v->view->location);
    if (!n || !(n->view.name = p_rangevar(c, v->view)))
        return NULL;
    n->view.replace = v->replace;
    if (v->n_aliases > LIMIT_SQL_COLUMNS) {
        sql_error(c->err, SQLSTATE_PROGRAM_LIMIT, "views can have at most %d columns", LIMIT_SQL_COLUMNS);
        return NULL;
    }
    n->view.ncols = (int)v->n_aliases;
    if (!(n->view.cols = p_alloc(c, (v->n_aliases + 1) * sizeof(char *))))
        return NULL;
    for (size_t i = 0; i < v->n_aliases; i++)
        if (!(n->view.cols[i] = p_str(c, p_string_val(v->aliases[i]))))
            return NULL;
    if (!(n->view.query = p_select(c, v->query->select_stmt)))
        return NULL;
    return (n->view.sql = p_deparse_select(c, v->query)) ? n : NULL;
}

/* A SET DEFAULT expression as the catalog keeps it (deparsed SQL), NULL on error. */
static const char *p_default_sql(pctx_t *c, const pnode_t *raw)
{
    ast_t *e = p_expr(c, raw);
    if (!e)
        return NULL;
    if (!dp_supported(e)) {
        p_unsupported(c, "this DEFAULT expression", e->location);
        return NULL;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    parse_deparse(e, &sb);
    const char *r = sb.oom ? NULL : p_str(c, sb.data);
    strbuf_free(&sb);
    return r;
}

/* ALTER TABLE [IF EXISTS] t cmd, ...: ADD [COLUMN] [IF NOT EXISTS] coldef, DROP
 * [COLUMN] [IF EXISTS] c, ALTER [COLUMN] c SET / DROP DEFAULT, SET / DROP NOT NULL
 * (sql/exec_alter.c). ADD COLUMN's definition goes through p_create as a one-column
 * CREATE TABLE, so it accepts exactly the column syntax CREATE TABLE accepts. A lone
 * ADD PRIMARY KEY stays AST_ALTER_ADD_PK (it rewrites the table). */
static ast_t *p_alter_table(pctx_t *c, const PgQuery__AlterTableStmt *a)
{
    if (a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || a->n_cmds < 1)
        return p_unsupported(c, "this ALTER TABLE form", -1);
    ast_t *n = p_node(c, AST_ALTER_TABLE, a->relation->location);
    if (!n || !(n->alter.table = p_rangevar(c, a->relation)))
        return NULL;
    n->alter.missing_ok = a->missing_ok;
    n->alter.ncmds = (int)a->n_cmds;
    if (!(n->alter.cmds = p_alloc(c, a->n_cmds * sizeof(ast_alter_cmd_t))))
        return NULL;
    for (size_t i = 0; i < a->n_cmds; i++) {
        if (a->cmds[i]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
            return p_unsupported(c, "this ALTER TABLE form", -1);
        const PgQuery__AlterTableCmd *cmd = a->cmds[i]->alter_table_cmd;
        ast_alter_cmd_t *o = &n->alter.cmds[i];
        o->missing_ok = cmd->missing_ok;
        if (cmd->name && cmd->name[0] && !(o->name = p_str(c, cmd->name)))
            return NULL;
        switch (cmd->subtype) {
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn: {
            if (!cmd->def || cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
                return p_unsupported(c, "this ADD COLUMN form", -1);
            PgQuery__CreateStmt cs = PG_QUERY__CREATE_STMT__INIT;
            pnode_t *elts[1] = {cmd->def};
            cs.relation = a->relation;
            cs.n_table_elts = 1;
            cs.table_elts = elts;
            o->kind = AST_AT_ADD_COLUMN;
            if (!(o->def = p_create(c, &cs)))
                return NULL;
            break;
        }
        case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
            if (cmd->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
                return p_unsupported(c, "DROP COLUMN ... CASCADE", -1);
            o->kind = AST_AT_DROP_COLUMN;
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_ColumnDefault:
            o->kind = AST_AT_SET_DEFAULT;
            if (cmd->def && !(o->default_sql = p_default_sql(c, cmd->def)))
                return NULL;
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull: o->kind = AST_AT_SET_NOT_NULL; break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull: o->kind = AST_AT_DROP_NOT_NULL; break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType: {
            /* ALTER [COLUMN] c [SET DATA] TYPE t [COLLATE x] [USING expr]: the ColumnDef
             * carries the type and, in raw_default, the USING expression */
            if (!cmd->def || cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF ||
                !cmd->def->column_def->type_name)
                return p_unsupported(c, "this ALTER COLUMN TYPE form", -1);
            const PgQuery__ColumnDef *cd = cmd->def->column_def;
            if (cd->coll_clause)
                return p_unsupported(c, "ALTER COLUMN TYPE ... COLLATE", -1);
            o->kind = AST_AT_ALTER_TYPE;
            if (!(o->type = p_alloc(c, sizeof *o->type)) || p_typename(c, cd->type_name, o->type) < 0)
                return NULL;
            if (cd->raw_default && !(o->using_sql = p_default_sql(c, cd->raw_default)))
                return NULL;
            break;
        }
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint: {
            /* CHECK and FOREIGN KEY go through p_create as a one-constraint CREATE TABLE */
            if (!cmd->def || cmd->def->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
                return p_unsupported(c, "this ADD CONSTRAINT form", -1);
            const PgQuery__Constraint *k = cmd->def->constraint;
            if (k->contype != PG_QUERY__CONSTR_TYPE__CONSTR_CHECK && k->contype != PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN)
                return p_unsupported(c, k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY ||
                                        k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE
                                        ? "ADD PRIMARY KEY / UNIQUE together with other subcommands"
                                        : "this ADD CONSTRAINT form", k->location);
            if (k->skip_validation)
                return p_unsupported(c, "NOT VALID", k->location);
            PgQuery__CreateStmt cs = PG_QUERY__CREATE_STMT__INIT;
            pnode_t *elts[1] = {cmd->def};
            cs.relation = a->relation;
            cs.n_table_elts = 1;
            cs.table_elts = elts;
            o->kind = AST_AT_ADD_CONSTRAINT;
            if (!(o->def = p_create(c, &cs)))
                return NULL;
            break;
        }
        case PG_QUERY__ALTER_TABLE_TYPE__AT_DropConstraint:
            if (cmd->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
                return p_unsupported(c, "DROP CONSTRAINT ... CASCADE", -1);
            o->kind = AST_AT_DROP_CONSTRAINT;
            break;
        default:
            return p_unsupported(c, "this ALTER TABLE form", -1);
        }
    }
    return n;
}

/* ALTER TABLE [IF EXISTS] t RENAME [COLUMN] a TO b / RENAME TO name. */
static ast_t *p_rename(pctx_t *c, const PgQuery__RenameStmt *r)
{
    bool column = r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
                  r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE;
    bool table = r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE;
    if ((!column && !table) || !r->relation)
        return p_unsupported(c, "this RENAME form", -1);
    ast_t *n = p_node(c, AST_ALTER_TABLE, r->relation->location);
    if (!n || !(n->alter.table = p_rangevar(c, r->relation)))
        return NULL;
    n->alter.missing_ok = r->missing_ok;
    n->alter.ncmds = 1;
    if (!(n->alter.cmds = p_alloc(c, sizeof(ast_alter_cmd_t))))
        return NULL;
    ast_alter_cmd_t *o = &n->alter.cmds[0];
    o->kind = column ? AST_AT_RENAME_COLUMN : AST_AT_RENAME_TABLE;
    if ((column && !(o->name = p_str(c, r->subname))) || !(o->newname = p_str(c, r->newname)))
        return NULL;
    return n;
}

static ast_t *p_stmt(pctx_t *c, const pnode_t *s)
{
    ast_t *n;
    switch (s->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return p_select(c, s->select_stmt);
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return p_insert(c, s->insert_stmt);
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return p_update(c, s->update_stmt);
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        return p_delete(c, s->delete_stmt);
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        return p_create(c, s->create_stmt);
    case PG_QUERY__NODE__NODE_DROP_STMT: {
        const PgQuery__DropStmt *d = s->drop_stmt;
        bool index = d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX;
        bool seq = d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_SEQUENCE;
        bool view = d->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW;
        if (d->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE && !index && !seq && !view)
            return p_unsupported(c, "DROP of this object type", -1);
        if (index && d->concurrent)
            return p_unsupported(c, "DROP INDEX CONCURRENTLY", -1);
        if (d->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
            return p_unsupported(c, "DROP ... CASCADE", -1);
        if (!(n = p_node(c, index ? AST_DROP_INDEX : seq ? AST_DROP_SEQ : view ? AST_DROP_VIEW : AST_DROP_TABLE, -1)))
            return NULL;
        n->drop.if_exists = d->missing_ok;
        return p_table_list(c, d->n_objects, d->objects, true, n) < 0 ? NULL : n;
    }
    case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT: {
        const PgQuery__CreateSeqStmt *q = s->create_seq_stmt;
        if (q->sequence->relpersistence && q->sequence->relpersistence[0] != 'p')
            return p_unsupported(c, "CREATE TEMPORARY / UNLOGGED SEQUENCE", q->sequence->location);
        if (!(n = p_node(c, AST_CREATE_SEQ, q->sequence->location)) || !(n->seq.name = p_rangevar(c, q->sequence)))
            return NULL;
        n->seq.if_not_exists = q->if_not_exists;
        return p_seq_options(c, q->n_options, q->options, &n->seq.nopts, &n->seq.opt_names,
                             &n->seq.opt_values) < 0 ? NULL : n;
    }
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        if (!(n = p_node(c, AST_TRUNCATE, -1)))
            return NULL;
        return p_table_list(c, s->truncate_stmt->n_relations, s->truncate_stmt->relations, false, n) < 0
                   ? NULL : n;
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT: {
        const PgQuery__TransactionStmt *t = s->transaction_stmt;
        if (!(n = p_node(c, AST_TXN, -1)))
            return NULL;
        switch (t->kind) {
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
            n->txn.kind = AST_TXN_BEGIN;
            if (p_txn_modes(c, t->n_options, t->options, &n->txn.iso, &n->txn.read_only) < 0)
                return NULL;
            break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT: n->txn.kind = AST_TXN_COMMIT; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK: n->txn.kind = AST_TXN_ROLLBACK; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
            n->txn.kind = t->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT ? AST_TXN_SAVEPOINT
                          : t->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE ? AST_TXN_RELEASE
                                                                                            : AST_TXN_ROLLBACK_TO;
            if (!t->savepoint_name || !(n->txn.savepoint = p_str(c, t->savepoint_name)))
                return NULL;
            break;
        default:
            return p_unsupported(c, "two-phase commit", -1);
        }
        if (t->chain)
            return p_unsupported(c, "AND CHAIN", -1);
        return n;
    }
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: {
        const PgQuery__VariableSetStmt *v = s->variable_set_stmt;
        if (!(n = p_node(c, AST_SET, -1)))
            return NULL;
        n->set.is_local = v->is_local;
        n->set.name = v->name ? p_str(c, v->name) : NULL;
        switch (v->kind) {
        case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
            n->set.kind = AST_SET_VALUE;
            n->set.nvalues = (int)v->n_args;
            n->set.values = p_alloc(c, (v->n_args + 1) * sizeof(char *));
            if (!n->set.values)
                return NULL;
            for (size_t i = 0; i < v->n_args; i++)
                if (!(n->set.values[i] = p_set_value(c, v->args[i])))
                    return NULL;
            return n;
        case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
        case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
            n->set.kind = AST_SET_DEFAULT;
            n->set.is_reset = v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET;
            return n;
        case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
            n->set.kind = AST_SET_RESET_ALL;
            n->set.is_reset = true;
            return n;
        case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI: {
            if (!v->name || (strcmp(v->name, "TRANSACTION") && strcmp(v->name, "SESSION CHARACTERISTICS")))
                return p_unsupported(c, "this SET form", -1);
            n->set.kind = AST_SET_TXN;
            bool ro = false;
            if (p_txn_modes(c, v->n_args, v->args, &n->set.iso, &ro) < 0)
                return NULL;
            if (!strcmp(v->name, "SESSION CHARACTERISTICS"))
                n->set.is_local = false, n->set.name = "default_transaction_isolation";
            else
                n->set.name = "transaction_isolation";
            return n;
        }
        default:
            return p_unsupported(c, "SET ... FROM CURRENT", -1);
        }
    }
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        if (!(n = p_node(c, AST_SHOW, -1)))
            return NULL;
        n->show.name = p_str(c, s->variable_show_stmt->name);
        return n;
    case PG_QUERY__NODE__NODE_VACUUM_STMT:
        if (!(n = p_node(c, AST_VACUUM, -1)))
            return NULL;
        n->show.name = s->vacuum_stmt->is_vacuumcmd ? "VACUUM" : "ANALYZE";
        return n;
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
        return p_node(c, AST_DISCARD, -1);
    case PG_QUERY__NODE__NODE_CREATE_EXTENSION_STMT:
        if (!(n = p_node(c, AST_CREATE_EXTENSION, -1)))
            return NULL;
        n->show.name = p_str(c, s->create_extension_stmt->extname);
        return n;
    case PG_QUERY__NODE__NODE_RENAME_STMT:
        return p_rename(c, s->rename_stmt);
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {
        const PgQuery__AlterTableStmt *a = s->alter_table_stmt;
        const PgQuery__AlterTableCmd *cmd = a->n_cmds == 1 && a->cmds[0]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD
                                            ? a->cmds[0]->alter_table_cmd : NULL;
        if (!cmd || a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
            cmd->subtype != PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint || !cmd->def ||
            cmd->def->node_case != PG_QUERY__NODE__NODE_CONSTRAINT ||
            (cmd->def->constraint->contype != PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY &&
             cmd->def->constraint->contype != PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE))
            return p_alter_table(c, a);
        if (!(n = p_node(c, AST_ALTER_ADD_PK, a->relation->location)))
            return NULL;
        if (!(n->alter_pk.table = p_rangevar(c, a->relation)))
            return NULL;
        const PgQuery__Constraint *k = cmd->def->constraint;
        if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE) {
            /* ADD CONSTRAINT ... UNIQUE: an index-backed constraint (exec_dml.c) */
            ast_unique_t u;
            if (p_unique(c, k, NULL, &u) < 0)
                return NULL;
            n->alter_pk.unique = true;
            n->alter_pk.conname = u.name;
            n->alter_pk.ncols = u.ncols;
            n->alter_pk.cols = u.cols;
            return n;
        }
        if (k->indexname && k->indexname[0])
            return p_unsupported(c, "ADD PRIMARY KEY USING INDEX", -1);
        if (k->conname && k->conname[0])
            n->alter_pk.conname = p_str(c, k->conname);
        return p_pk_cols(c, k, &n->alter_pk.ncols, &n->alter_pk.cols) < 0 ? NULL : n;
    }
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: {
        const PgQuery__ExplainStmt *x = s->explain_stmt;
        unsigned opts;
        if (p_explain_opts(c, x, &opts) < 0)
            return NULL;
        if (!x->query || (x->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT &&
                          x->query->node_case != PG_QUERY__NODE__NODE_INSERT_STMT &&
                          x->query->node_case != PG_QUERY__NODE__NODE_UPDATE_STMT &&
                          x->query->node_case != PG_QUERY__NODE__NODE_DELETE_STMT))
            return p_unsupported(c, "EXPLAIN of this statement", -1);
        if (!(n = p_node(c, AST_EXPLAIN, -1)))
            return NULL;
        n->explain.opts = opts;
        return (n->explain.stmt = p_stmt(c, x->query)) ? n : NULL;
    }
    case PG_QUERY__NODE__NODE_COPY_STMT:
        return p_copy(c, s->copy_stmt);
    case PG_QUERY__NODE__NODE_INDEX_STMT:
        return p_index(c, s->index_stmt);
    case PG_QUERY__NODE__NODE_VIEW_STMT:
        return p_view(c, s->view_stmt);
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT:
        return p_unsupported(c, "CREATE SCHEMA", -1);
    case PG_QUERY__NODE__NODE_PREPARE_STMT:
        return p_prepare(c, s->prepare_stmt);
    case PG_QUERY__NODE__NODE_EXECUTE_STMT:
        if (!(n = p_node(c, AST_EXECUTE, -1)))
            return NULL;
        n->execute.name = p_str(c, s->execute_stmt->name);
        if (!n->execute.name)
            return NULL;
        return p_expr_list(c, s->execute_stmt->n_params, s->execute_stmt->params, &n->execute.args) < 0 ? NULL : n;
    case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
        return p_declare_cursor(c, s->declare_cursor_stmt);
    case PG_QUERY__NODE__NODE_FETCH_STMT:
        return p_fetch(c, s->fetch_stmt);
    case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT:
        if (!(n = p_node(c, AST_CLOSE_CURSOR, -1)))
            return NULL;
        /* CLOSE ALL arrives without a name */
        if (s->close_portal_stmt->portalname && s->close_portal_stmt->portalname[0] &&
            !(n->cursor.name = p_str(c, s->close_portal_stmt->portalname)))
            return NULL;
        return n;
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
        if (!(n = p_node(c, AST_DEALLOCATE, -1)))
            return NULL;
        /* DEALLOCATE ALL arrives without a name */
        if (s->deallocate_stmt->name && s->deallocate_stmt->name[0] && !(n->execute.name = p_str(c, s->deallocate_stmt->name)))
            return NULL;
        return n;
    default:
        return p_unsupported(c, p_stmt_name(c, s->node_case), -1);
    }
}

int parse_sql(arena_t *a, const char *sql, size_t len, parse_stmt_t **out, int *nout,
              sql_error_t *err)
{
    *out = NULL;
    *nout = 0;
    if (len > LIMIT_SQL_TEXT_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "statement text is too long");
    char *text = arena_strndup(a, sql, len);
    if (!text)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (memchr(sql, 0, len))
        return sql_error(err, SQLSTATE_SYNTAX_ERROR, "invalid byte sequence: query contains a NUL byte");
    PgQueryProtobufParseResult r = pg_query_parse_protobuf(text);
    PgQuery__ParseResult *tree = NULL;
    int rc = -1;
    if (r.error) {
        /* the grammar's own window-frame checks are windowing errors in PostgreSQL */
        const char *m = r.error->message;
        bool frame = !strncmp(m, "frame start", 11) || !strncmp(m, "frame end", 9) ||
                     !strncmp(m, "frame starting from", 19);
        sql_error(err, frame ? "42P20" : SQLSTATE_SYNTAX_ERROR, "%s", m);
        err->position = r.error->cursorpos;
        goto done;
    }
    tree = pg_query__parse_result__unpack(NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
    if (!tree) {
        sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not decode the parse tree");
        goto done;
    }
    pctx_t c = {.a = a, .err = err, .text = text};
    parse_stmt_t *stmts = tree->n_stmts ? arena_alloc(a, tree->n_stmts * sizeof *stmts) : NULL;
    if (tree->n_stmts && !stmts) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < tree->n_stmts; i++) {
        const PgQuery__RawStmt *rs = tree->stmts[i];
        stmts[i].location = rs->stmt_location;
        stmts[i].len = rs->stmt_len;
        c.depth = 0;
        int first_const = c.nconsts;
        if (!(stmts[i].ast = p_stmt(&c, rs->stmt)))
            goto done;
        stmts[i].consts = c.consts ? c.consts + first_const : NULL;
        stmts[i].nconsts = c.nconsts - first_const;
    }
    *out = stmts;
    *nout = (int)tree->n_stmts;
    rc = 0;
done:
    if (tree)
        pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(r);
    return rc;
}

/* ---- deparse (for DEFAULT expressions) ---- */

static void dp_quoted(strbuf_t *out, const char *s)
{
    strbuf_putc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            strbuf_putc(out, '\'');
        strbuf_putc(out, *s);
    }
    strbuf_putc(out, '\'');
}

static void dp_typename(const ast_typename_t *t, strbuf_t *out)
{
    strbuf_puts(out, t->name);
    for (int i = 0; i < t->ntypmods; i++)
        strbuf_printf(out, "%s%d", i ? "," : "(", t->typmods[i]);
    if (t->ntypmods)
        strbuf_putc(out, ')');
    if (t->is_array)
        strbuf_puts(out, "[]");
}

void parse_deparse(const ast_t *e, strbuf_t *out)
{
    static const char *const sqlfn[] = {
        "CURRENT_TIMESTAMP", "CURRENT_DATE", "LOCALTIMESTAMP", "CURRENT_USER", "SESSION_USER",
        "current_database()", "current_schema()", "LOCALTIME",
    };
    switch (e->kind) {
    case AST_CONST:
        switch (e->c.ctype) {
        case AST_C_NULL: strbuf_puts(out, "NULL"); break;
        case AST_C_INT: strbuf_printf(out, "%lld", (long long)e->c.ival); break;
        case AST_C_NUMERIC: strbuf_puts(out, e->c.str); break;
        case AST_C_BOOL: strbuf_puts(out, e->c.bval ? "true" : "false"); break;
        case AST_C_STRING: dp_quoted(out, e->c.str); break;
        }
        break;
    case AST_COLREF:
        for (int i = 0; i < e->colref.nfields; i++)
            strbuf_printf(out, "%s%s", i ? "." : "", e->colref.fields[i]);
        break;
    case AST_OP:
        strbuf_putc(out, '(');
        if (e->op.l) {
            parse_deparse(e->op.l, out);
            strbuf_putc(out, ' ');
        }
        strbuf_printf(out, "%s ", e->op.name);
        parse_deparse(e->op.r, out);
        strbuf_putc(out, ')');
        break;
    case AST_CAST:
        strbuf_putc(out, '(');
        parse_deparse(e->cast.arg, out);
        strbuf_puts(out, ")::");
        dp_typename(&e->cast.type, out);
        break;
    case AST_FUNC:
        strbuf_printf(out, "%s(", e->func.name);
        for (int i = 0; i < e->func.args.n; i++) {
            if (i)
                strbuf_puts(out, ", ");
            parse_deparse(e->func.args.items[i], out);
        }
        strbuf_putc(out, ')');
        break;
    case AST_SQLFN:
        strbuf_puts(out, sqlfn[e->sqlfn.fn]);
        if (e->sqlfn.typmod >= 0)
            strbuf_printf(out, "(%d)", e->sqlfn.typmod);
        break;
    case AST_AND: case AST_OR:
        strbuf_putc(out, '(');
        for (int i = 0; i < e->args.n; i++) {
            if (i)
                strbuf_puts(out, e->kind == AST_AND ? " AND " : " OR ");
            parse_deparse(e->args.items[i], out);
        }
        strbuf_putc(out, ')');
        break;
    case AST_NOT:
        strbuf_puts(out, "(NOT ");
        parse_deparse(e->args.items[0], out);
        strbuf_putc(out, ')');
        break;
    case AST_NULLTEST:
        strbuf_putc(out, '(');
        parse_deparse(e->test.arg, out);
        strbuf_puts(out, e->test.is_not ? " IS NOT NULL)" : " IS NULL)");
        break;
    case AST_BETWEEN:
        strbuf_putc(out, '(');
        parse_deparse(e->between.arg, out);
        strbuf_puts(out, e->between.is_not ? " NOT BETWEEN " : " BETWEEN ");
        parse_deparse(e->between.lo, out);
        strbuf_puts(out, " AND ");
        parse_deparse(e->between.hi, out);
        strbuf_putc(out, ')');
        break;
    case AST_IN:
        strbuf_putc(out, '(');
        parse_deparse(e->in.arg, out);
        strbuf_puts(out, e->in.is_not ? " NOT IN (" : " IN (");
        for (int i = 0; i < e->in.list.n; i++) {
            if (i)
                strbuf_puts(out, ", ");
            parse_deparse(e->in.list.items[i], out);
        }
        strbuf_puts(out, "))");
        break;
    case AST_PARAM:
        strbuf_printf(out, "$%d", e->param.number);
        break;
    default:
        /* Only the forms above reach the catalog; anything else is refused by bind. */
        strbuf_puts(out, "NULL");
        break;
    }
}
