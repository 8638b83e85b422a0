/*
 * bind.c -- AST -> bound, typed expressions and plans against one catalog snapshot;
 * see plan.h for the plan model.
 *
 * Name resolution: a relation name without schema is looked up in pg_catalog first
 * (virtual tables) and then in public, as PostgreSQL's default search path does.
 * Column references resolve against the FROM sources in scope (qualified by alias or
 * table name); an unqualified name found in two sources is 42702.
 *
 * Types follow PostgreSQL's rules in small: literals without a type are "unknown"
 * and take the type the context wants (compared with an int4 column they become
 * int4; left alone they become text); a $n parameter without a declared type takes
 * the type of what it is compared with or assigned to, else text; operators on two
 * different known types convert to their common type through implicit casts, else
 * 42883 "operator does not exist: integer = text".
 */
#include "sql/plan.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/parse.h"
#include "sql/types_vector.h"
#include "sql/numeric.h"
#include "sql/builtins_time.h"
#include "sql/builtins_vector.h"
#include "sql/builtins_json.h"
#include "sql/types_json.h"
#include "sql/explain.h"
#include "sql/bind_int.h"
#include "sql/secindex.h"

#define BX_AGGREF 100     /* binder-internal: an aggregate call before rewriting */
#define BX_GROUPING 102   /* binder-internal (100, 101: bind_int.h): GROUPING(args), a constant per grouping set */
#define BIND_SOURCES_MAX 64

typedef struct bsrc {
    const char *alias;
    int ncols;
    const char **names;
    type_oid_t *types;
    int32_t *typmods;
    uint32_t table_oid;          /* 0 unless a plain table or view */
    int offset;                  /* first column in the combined row */
    plan_t *plan;                /* leaf plan (for pushdown), NULL for joins' inner items */
    bool *hidden;                /* per column: merged away by JOIN USING, only qualified
                                  * references reach it (NULL: none) */
    bool scalar_func;            /* a one-column function in FROM: its alias alone names
                                  * the column (PostgreSQL's whole-row reference of a
                                  * function returning a base type) */
} bsrc_t;

typedef struct scope {
    int nsrc;
    bsrc_t *src[BIND_SOURCES_MAX];
    int ncols;
} scope_t;

typedef struct binder {
    bool target_lookup;          /* b_relation for an INSERT/UPDATE/DELETE target: sequences pass */
    const bind_env_t *env;
    arena_t *a;
    sql_error_t *err;
    int nparams;
    int param_cap;
    type_oid_t *param_types;
    bool *param_fixed;
    bexpr_t **param_nodes;
    bool agg_allowed;
    const char *agg_context;     /* where aggregates are refused, for the message */
    int naggs, aggcap;
    plan_agg_t *aggs;
    const scope_t *outer;        /* enclosing query's scope while binding a subquery */
    bool outer_used;             /* the subquery being bound referenced it */
    int nsubq;
    plan_t *subq[LIMIT_BIND_SUBQUERIES];
    int subq_kind[LIMIT_BIND_SUBQUERIES];
    int depth;
    bool setop_input;            /* the next b_select is a set operation's input: it
                                  * leaves unknown literals for the set operation to type */
    bind_win_t *win;             /* this query level's window functions (bind_window.c) */
    bind_rec_t *rec;             /* WITH RECURSIVE terms being bound (bind_cte.c) */
    bool win_agg;                /* b_agg binds a window aggregate (bind__win_agg) */
    bexpr_t **gs_all;            /* while rewriting over a grouping set: every grouping */
    int gs_nall;                 /* expression, and the mask of those grouped in this set */
    uint64_t gs_mask;            /* (the others read as NULL) */
    bool item_lateral;           /* the FROM item just bound refers to earlier items */
    int agg_norder;              /* string_agg(... ORDER BY keys): the query level's one */
    plan_sortkey_t *agg_order;   /* input order (keys over the FROM row), or 0 keys */
    int view_depth;              /* views being expanded around the FROM item (b_view) */
    int view_ncols;              /* the next subquery in FROM is a view's: keep its first n columns */
    int ndeps;                   /* catalog relations the statement reads (CREATE VIEW) */
    uint32_t deps[LIMIT_SQL_VIEW_DEPS];
    const ast_t *subq_ast[LIMIT_BIND_SUBQUERIES];   /* each slot's sublink */
    /* bind_dml_corr.c: references from inside shift_node to columns of shift_scope
     * (the enclosing query) read column index + outer_shift of its row */
    const ast_t *shift_node;
    const scope_t *shift_scope;
    int outer_shift, shift_on;
} binder_t;

static bexpr_t *b_expr(binder_t *b, const ast_t *n, const scope_t *sc);
static bexpr_t *b_grouping_func(binder_t *b, const ast_t *n, const scope_t *sc);
static bexpr_t *b_grouping_value(binder_t *b, const bexpr_t *e);
static type_oid_t b_array_type(binder_t *b, type_oid_t t, int location);
static bexpr_t *b_builtin(binder_t *b, const char *name, int nargs, bexpr_t **args, int location);
static int b_push_topk(binder_t *b, plan_t *limit);
static int b_explain(binder_t *b, const ast_t *stmt, bound_stmt_t *bs);
static int b_insert(binder_t *b, const ast_t *n, bound_stmt_t *bs);
static int b_update_delete(binder_t *b, const ast_t *n, bound_stmt_t *bs);
static plan_t *b_select(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                        sql_coldesc_t **descs);

/* ---- small helpers ---- */

static void *b_alloc(binder_t *b, size_t n)
{
    void *p = arena_alloc(b->a, n ? n : 1);
    if (!p) {
        sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    memset(p, 0, n ? n : 1);
    return p;
}

/* Makes room for parameter index idx (arrays grow by doubling, bounded by the
 * protocol's parameter limit). */
static int b_param_room(binder_t *b, int idx)
{
    if (idx < b->param_cap)
        return 0;
    if (idx >= LIMIT_PG_PARAMS)
        return sql_error(b->err, "42P02", "there is no parameter $%d", idx + 1);
    int cap = b->param_cap ? b->param_cap : 16;
    while (cap <= idx)
        cap *= 2;
    type_oid_t *t = arena_alloc(b->a, (size_t)cap * sizeof *t);
    bool *f = arena_alloc(b->a, (size_t)cap * sizeof *f);
    bexpr_t **nd = arena_alloc(b->a, (size_t)cap * sizeof *nd);
    if (!t || !f || !nd)
        return sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(t, 0, (size_t)cap * sizeof *t);
    memset(f, 0, (size_t)cap * sizeof *f);
    memset(nd, 0, (size_t)cap * sizeof *nd);
    if (b->param_cap) {
        memcpy(t, b->param_types, (size_t)b->param_cap * sizeof *t);
        memcpy(f, b->param_fixed, (size_t)b->param_cap * sizeof *f);
        memcpy(nd, b->param_nodes, (size_t)b->param_cap * sizeof *nd);
    }
    b->param_types = t;
    b->param_fixed = f;
    b->param_nodes = nd;
    b->param_cap = cap;
    return 0;
}

static void b_pos(binder_t *b, int location)
{
    if (location >= 0 && b->err->position == 0)
        b->err->position = location + 1 + b->env->text_offset;
}

static const char *b_typename(binder_t *b, type_oid_t t)
{
    strbuf_t sb;
    strbuf_init(&sb);
    type_format(t, -1, &sb);
    const char *r = arena_strdup(b->a, sb.oom || !sb.data ? "?" : sb.data);
    strbuf_free(&sb);
    return r ? r : "?";
}

static bexpr_t *bx_new(binder_t *b, bx_kind_t kind, type_oid_t type, int nargs)
{
    bexpr_t *e = b_alloc(b, sizeof *e);
    if (!e)
        return NULL;
    e->kind = kind;
    e->type = type;
    e->typmod = -1;
    e->nargs = nargs;
    if (nargs && !(e->args = b_alloc(b, (size_t)nargs * sizeof(bexpr_t *))))
        return NULL;
    return e;
}

static bexpr_t *bx_const(binder_t *b, type_oid_t type, datum_t v, bool isnull)
{
    bexpr_t *e = bx_new(b, BX_CONST, type, 0);
    if (e) {
        e->val = v;
        e->isnull = isnull;
    }
    return e;
}

static bexpr_t *bx_col(binder_t *b, int index, type_oid_t type, int32_t typmod, const char *name)
{
    bexpr_t *e = bx_new(b, BX_COL, type, 0);
    if (e) {
        e->index = index;
        e->typmod = typmod;
        e->colname = name;
    }
    return e;
}

static bexpr_t *bx_bool_and(binder_t *b, bexpr_t *l, bexpr_t *r)
{
    if (!l)
        return r;
    if (!r)
        return l;
    bexpr_t *e = bx_new(b, BX_AND, TYPE_BOOL, 2);
    if (e) {
        e->args[0] = l;
        e->args[1] = r;
    }
    return e;
}

static bool bx_equal(const bexpr_t *x, const bexpr_t *y)
{
    if (x == y)
        return true;
    if (!x || !y || x->kind != y->kind || x->type != y->type || x->op != y->op ||
        x->flag != y->flag || x->index != y->index || x->nargs != y->nargs || x->fn != y->fn ||
        x->typmod != y->typmod)
        return false;
    if (x->kind == BX_CONST) {
        if (x->isnull || y->isnull)
            return x->isnull == y->isnull;
        if (expr_type_is_string(x->type))
            return x->val.s->len == y->val.s->len && !memcmp(x->val.s->data, y->val.s->data, x->val.s->len);
        return x->val.i64 == y->val.i64;
    }
    if (x->kind == BX_PARAM || x->kind == BX_SUBQ)
        return true;
    for (int i = 0; i < x->nargs; i++)
        if (!bx_equal(x->args[i], y->args[i]))
            return false;
    return true;
}

/* Whether e references any column (or aggregate), i.e. varies per row. */
static bool bx_has_cols(const bexpr_t *e)
{
    if (e->kind == BX_COL || e->kind == BX_AGGREF)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_cols(e->args[i]))
            return true;
    return false;
}

static bool bx_has_volatile(const bexpr_t *e)
{
    if (e->kind == BX_FUNC && e->fn->volatility == 'v')
        return true;
    if (e->kind == BX_GUC)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_volatile(e->args[i]))
            return true;
    return false;
}

/* Copies e with every column index shifted by delta (pushdown into a source). */
static bexpr_t *bx_shift(binder_t *b, const bexpr_t *e, int delta)
{
    bexpr_t *c = b_alloc(b, sizeof *c);
    if (!c)
        return NULL;
    *c = *e;
    if (e->kind == BX_COL)
        c->index += delta;
    if (e->kind == BX_PARAM)
        return (bexpr_t *)e;    /* parameter nodes are shared so inference reaches all uses */
    if (e->nargs) {
        if (!(c->args = b_alloc(b, (size_t)e->nargs * sizeof(bexpr_t *))))
            return NULL;
        for (int i = 0; i < e->nargs; i++)
            if (!(c->args[i] = bx_shift(b, e->args[i], delta)))
                return NULL;
    }
    return c;
}

/* Bitmask of the scope sources whose columns e references. */
static uint64_t bx_srcmask(const bexpr_t *e, const scope_t *sc)
{
    uint64_t m = 0;
    if (e->kind == BX_COL) {
        for (int s = 0; s < sc->nsrc; s++)
            if (e->index >= sc->src[s]->offset && e->index < sc->src[s]->offset + sc->src[s]->ncols)
                m |= UINT64_C(1) << s;
    }
    for (int i = 0; i < e->nargs; i++)
        m |= bx_srcmask(e->args[i], sc);
    return m;
}

/* ---- plan node helpers ---- */

static plan_t *pl_new(binder_t *b, plan_kind_t kind, int ncols)
{
    plan_t *p = b_alloc(b, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->ncols = ncols;
    p->types = b_alloc(b, (size_t)(ncols + 1) * sizeof(type_oid_t));
    p->typmods = b_alloc(b, (size_t)(ncols + 1) * sizeof(int32_t));
    if (!p->types || !p->typmods)
        return NULL;
    for (int i = 0; i < ncols; i++)
        p->typmods[i] = -1;
    return p;
}

type_oid_t *plan_table_types(arena_t *a, const cat_table_t *t)
{
    type_oid_t *ty = arena_alloc(a, (size_t)(t->ncols + 1) * sizeof(type_oid_t));
    if (ty)
        for (int i = 0; i < t->ncols; i++)
            ty[i] = t->cols[i].type;
    return ty;
}

/* ---- coercion ---- */

static bexpr_t *b_param_set_type(binder_t *b, bexpr_t *e, type_oid_t t)
{
    b->param_types[e->index] = t;
    e->type = t;
    return e;
}

/* Converts e to type `to` in context ctx. Unknown literals are converted now (so bad
 * input is reported at bind time, as PostgreSQL does); untyped parameters take the
 * type. NULL + err when no such cast exists. */
static bexpr_t *b_coerce(binder_t *b, bexpr_t *e, type_oid_t to, int32_t typmod, int ctx,
                         int location)
{
    if (!e)
        return NULL;
    if (e->type == to && (typmod < 0 || typmod == e->typmod))
        return e;
    if (e->kind == BX_PARAM && !b->param_fixed[e->index] &&
        (e->type == TYPE_UNKNOWN || e->type == TYPE_INVALID))
        return b_param_set_type(b, e, to);
    if (e->kind == BX_CONST && e->type == TYPE_UNKNOWN) {
        if (e->isnull) {
            bexpr_t *c = bx_const(b, to, (datum_t){0}, true);
            if (c)
                c->typmod = typmod;
            return c;
        }
        datum_t v;
        if ((to == TYPE_REGCLASS || to == TYPE_REGTYPE) && e->val.s->len > 0 &&
            strspn(e->val.s->data, "0123456789") >= e->val.s->len) {
            /* a numeric OID, as regclassin / regtypein accept it (no existence check) */
            if (type_in_text(TYPE_OID, -1, e->val.s->data, e->val.s->len, b->a, &v, b->err) < 0) {
                b_pos(b, location);
                return NULL;
            }
            return bx_const(b, to, v, false);
        }
        if (to == TYPE_REGCLASS) {
            char *name = arena_strndup(b->a, e->val.s->data, e->val.s->len);
            const char *dot = name ? strchr(name, '.') : NULL;
            const char *rel = dot ? dot + 1 : name;
            const cat_table_t *t = rel ? catalog_table_by_name(b->env->catalog, CAT_NS_PUBLIC, rel) : NULL;
            const pgcat_vtab_t *vt = NULL;
            const cat_index_t *ix = !t && rel ? catalog_index_by_name(b->env->catalog, CAT_NS_PUBLIC, rel, NULL)
                                              : NULL;
            if (ix)
                return bx_const(b, to, (datum_t){.i64 = ix->oid}, false);
            if (!t && rel)
                vt = pgcat_lookup(CAT_NS_PG_CATALOG, rel);
            if (!t && !vt && rel)
                vt = pgcat_lookup(CAT_NS_INFO_SCHEMA, rel);
            if (!t && !vt) {
                sql_error(b->err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", name ? name : "");
                b_pos(b, location);
                return NULL;
            }
            v.i64 = t ? t->oid : vt->oid;
            return bx_const(b, to, v, false);
        }
        if (to == TYPE_REGTYPE) {
            char *name = arena_strndup(b->a, e->val.s->data, e->val.s->len);
            const type_info_t *ti = name ? type_lookup_name(name) : NULL;
            if (!ti) {
                sql_error(b->err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s\" does not exist", name ? name : "");
                b_pos(b, location);
                return NULL;
            }
            v.i64 = ti->oid;
            return bx_const(b, to, v, false);
        }
        if (type_in_text(to, typmod, e->val.s->data, e->val.s->len, b->a, &v, b->err) < 0) {
            b_pos(b, location);
            return NULL;
        }
        bexpr_t *c = bx_const(b, to, v, false);
        if (c)
            c->typmod = typmod;
        return c;
    }
    if (e->type == TYPE_UNKNOWN)
        e->type = TYPE_TEXT;   /* an unknown-typed non-literal (e.g. CASE of literals) is text */
    if (e->type == to && typmod < 0)
        return e;
    if (!type_can_cast(e->type, to, ctx)) {
        if (ctx == CAST_EXPLICIT)
            sql_error(b->err, "42846", "cannot cast type %s to %s", b_typename(b, e->type), b_typename(b, to));
        else
            sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "cannot cast type %s to %s",
                      b_typename(b, e->type), b_typename(b, to));
        b_pos(b, location);
        return NULL;
    }
    bexpr_t *c = bx_new(b, BX_CAST, to, 1);
    if (!c)
        return NULL;
    c->typmod = typmod;
    c->op = ctx;
    c->args[0] = e;
    return c;
}

/* Assignment to a column (INSERT/UPDATE): PostgreSQL's 42804 wording on failure. */
static bexpr_t *b_assign(binder_t *b, bexpr_t *e, const cat_column_t *col, int location)
{
    if (!e)
        return NULL;
    if (e->type != TYPE_UNKNOWN && e->type != col->type && e->kind != BX_PARAM &&
        !type_can_cast(e->type, col->type, CAST_ASSIGNMENT)) {
        sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "column \"%s\" is of type %s but expression is of type %s",
                  col->name, b_typename(b, col->type), b_typename(b, e->type));
        sql_error_hint(b->err, "You will need to rewrite or cast the expression.");
        b_pos(b, location);
        return NULL;
    }
    if (e->kind == BX_PARAM && b->param_fixed[e->index] && e->type != col->type &&
        !type_can_cast(e->type, col->type, CAST_ASSIGNMENT)) {
        sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "column \"%s\" is of type %s but expression is of type %s",
                  col->name, b_typename(b, col->type), b_typename(b, e->type));
        return NULL;
    }
    return b_coerce(b, e, col->type, col->typmod, CAST_ASSIGNMENT, location);
}

/* Unknown-typed leftovers become text (select lists, VALUES columns). */
static bexpr_t *b_resolve_unknown(binder_t *b, bexpr_t *e)
{
    if (e && e->type == TYPE_UNKNOWN)
        return b_coerce(b, e, TYPE_TEXT, -1, CAST_IMPLICIT, -1);
    return e;
}

/* ---- names ---- */

static int b_find_column(binder_t *b, const scope_t *sc, const char *qual, const char *name,
                         int location, int *index, const bsrc_t **src_out)
{
    int found = -1;
    const bsrc_t *fs = NULL;
    bool qual_seen = false;
    for (int s = 0; s < sc->nsrc; s++) {
        const bsrc_t *src = sc->src[s];
        if (qual) {
            if (!src->alias || strcmp(src->alias, qual) != 0)
                continue;
            qual_seen = true;
        }
        for (int c = 0; c < src->ncols; c++) {
            if (!qual && src->hidden && src->hidden[c])
                continue;
            if (src->names[c] && strcmp(src->names[c], name) == 0) {
                if (found >= 0) {
                    sql_error(b->err, SQLSTATE_AMBIGUOUS_COLUMN, "column reference \"%s\" is ambiguous", name);
                    b_pos(b, location);
                    return -1;
                }
                found = src->offset + c;
                fs = src;
            }
        }
    }
    if (found < 0 && !qual) {
        for (int s = 0; s < sc->nsrc; s++) {
            const bsrc_t *src = sc->src[s];
            if (src->scalar_func && src->ncols == 1 && src->alias && !strcmp(src->alias, name) &&
                !(src->hidden && src->hidden[0])) {
                if (found >= 0) {
                    sql_error(b->err, SQLSTATE_AMBIGUOUS_COLUMN, "column reference \"%s\" is ambiguous", name);
                    b_pos(b, location);
                    return -1;
                }
                found = src->offset;
                fs = src;
            }
        }
    }
    if (found < 0) {
        if (qual && !qual_seen) {
            sql_error(b->err, SQLSTATE_UNDEFINED_TABLE, "missing FROM-clause entry for table \"%s\"", qual);
        } else if (qual) {
            sql_error(b->err, SQLSTATE_UNDEFINED_COLUMN, "column %s.%s does not exist", qual, name);
        } else {
            sql_error(b->err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" does not exist", name);
        }
        b_pos(b, location);
        return -1;
    }
    *index = found;
    if (src_out)
        *src_out = fs;
    return 0;
}

static bexpr_t *b_colref(binder_t *b, const ast_t *n, const scope_t *sc)
{
    if (n->colref.star) {
        sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "row expansion via \"*\" is not supported here");
        b_pos(b, n->location);
        return NULL;
    }
    const char *qual = NULL, *name;
    if (n->colref.nfields == 1) {
        name = n->colref.fields[0];
    } else if (n->colref.nfields == 2) {
        qual = n->colref.fields[0];
        name = n->colref.fields[1];
    } else {
        /* schema.table.column: the schema must match the source's (public / pg_catalog) */
        qual = n->colref.fields[1];
        name = n->colref.fields[2];
    }
    int idx;
    const bsrc_t *src;
    if (b->outer) {
        /* not found here: try the enclosing query (one level of correlation) */
        sql_error_t probe = {0};
        sql_error_t *saved = b->err;
        b->err = &probe;
        int rc = b_find_column(b, sc, qual, name, n->location, &idx, &src);
        b->err = saved;
        if (rc < 0 && !strcmp(probe.sqlstate, SQLSTATE_AMBIGUOUS_COLUMN)) {
            *b->err = probe;
            return NULL;
        }
        if (rc < 0) {
            b->err = &probe;
            memset(&probe, 0, sizeof probe);
            rc = b_find_column(b, b->outer, qual, name, n->location, &idx, &src);
            b->err = saved;
            if (rc == 0) {
                b->outer_used = true;
                bexpr_t *o = bx_new(b, BX_OUTER, src->types[idx - src->offset], 0);
                if (o) {
                    o->index = idx + (b->shift_on && b->outer == b->shift_scope ? b->outer_shift : 0);
                    o->typmod = src->typmods[idx - src->offset];
                    o->colname = name;
                }
                return o;
            }
        }
    }
    if (b_find_column(b, sc, qual, name, n->location, &idx, &src) < 0)
        return NULL;
    int c = idx - src->offset;
    const char *label = name;
    if (src->alias) {
        char *q = arena_alloc(b->a, strlen(src->alias) + strlen(name) + 2);
        if (q) {
            sprintf(q, "%s.%s", src->alias, name);
            label = q;
        }
    }
    return bx_col(b, idx, src->types[c], src->typmods[c], label);
}

/* ---- operators ---- */

static int b_cmp_op(const char *name)
{
    if (!strcmp(name, "=")) return BX_OP_EQ;
    if (!strcmp(name, "<>") || !strcmp(name, "!=")) return BX_OP_NE;
    if (!strcmp(name, "<")) return BX_OP_LT;
    if (!strcmp(name, "<=")) return BX_OP_LE;
    if (!strcmp(name, ">")) return BX_OP_GT;
    if (!strcmp(name, ">=")) return BX_OP_GE;
    return -1;
}

static int b_arith_op(const char *name)
{
    if (!strcmp(name, "+")) return ARITH_ADD;
    if (!strcmp(name, "-")) return ARITH_SUB;
    if (!strcmp(name, "*")) return ARITH_MUL;
    if (!strcmp(name, "/")) return ARITH_DIV;
    if (!strcmp(name, "%")) return ARITH_MOD;
    return -1;
}

static bool is_numeric_type(type_oid_t t)
{
    return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8 || t == TYPE_FLOAT4 ||
           t == TYPE_FLOAT8 || t == TYPE_NUMERIC;
}

static int b_op_error(binder_t *b, const char *op, type_oid_t l, type_oid_t r, int location)
{
    if (l == TYPE_INVALID)
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "operator does not exist: %s %s", op, b_typename(b, r));
    else
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                  b_typename(b, l), op, b_typename(b, r));
    sql_error_hint(b->err, "No operator matches the given name and argument types. "
                           "You might need to add explicit type casts.");
    b_pos(b, location);
    return -1;
}

/* Brings l and r to one type for comparison; returns it or TYPE_INVALID + err. */
static type_oid_t b_unify(binder_t *b, bexpr_t **l, bexpr_t **r, const char *op, int location)
{
    type_oid_t lt = (*l)->type, rt = (*r)->type;
    type_oid_t t;
    if (lt == TYPE_UNKNOWN && rt == TYPE_UNKNOWN)
        t = TYPE_TEXT;
    else if (lt == TYPE_UNKNOWN)
        t = rt;
    else if (rt == TYPE_UNKNOWN)
        t = lt;
    else if (lt == rt)
        t = lt;
    else {
        t = type_common(lt, rt);
        if (t == TYPE_INVALID || (t != lt && !type_can_cast(lt, t, CAST_IMPLICIT)) ||
            (t != rt && !type_can_cast(rt, t, CAST_IMPLICIT))) {
            b_op_error(b, op, lt, rt, location);
            return TYPE_INVALID;
        }
    }
    if (!(*l = b_coerce(b, *l, t, -1, CAST_IMPLICIT, location)) ||
        !(*r = b_coerce(b, *r, t, -1, CAST_IMPLICIT, location)))
        return TYPE_INVALID;
    /* varchar/bpchar compare as text-like types of their own; keep the operand type */
    return t;
}

static bexpr_t *b_cmp(binder_t *b, int op, const char *opname, bexpr_t *l, bexpr_t *r, int location)
{
    if (!l || !r)
        return NULL;
    type_oid_t t = b_unify(b, &l, &r, opname, location);
    if (t == TYPE_INVALID)
        return NULL;
    if (t == TYPE_JSON) {        /* json has no comparison operators (jsonb has) */
        b_op_error(b, opname, t, t, location);
        return NULL;
    }
    bexpr_t *e = bx_new(b, BX_CMP, TYPE_BOOL, 2);
    if (!e)
        return NULL;
    e->op = op;
    e->optype = t;
    e->args[0] = l;
    e->args[1] = r;
    return e;
}

static bool is_string_cat(type_oid_t t)
{
    return t == TYPE_TEXT || t == TYPE_VARCHAR || t == TYPE_BPCHAR || t == TYPE_NAME || t == TYPE_UNKNOWN;
}

/* array || array (an unknown literal or NULL takes the other side's array type):
 * array_cat, whose result has the operands' type. */
static bexpr_t *b_array_cat(binder_t *b, bexpr_t *l, bexpr_t *r, int location)
{
    type_oid_t t = type_is_array(l->type) ? l->type : r->type;
    if (!(l = b_coerce(b, l, t, -1, CAST_IMPLICIT, location)) || !(r = b_coerce(b, r, t, -1, CAST_IMPLICIT, location)))
        return NULL;
    type_oid_t types[2] = {t, t}, cast_to[2];
    const builtin_t *fn = builtin_resolve("array_cat", 2, types, cast_to, b->err);
    bexpr_t *e = fn ? bx_new(b, BX_FUNC, t, 2) : NULL;
    if (!e)
        return NULL;
    e->fn = fn;
    e->args[0] = l;
    e->args[1] = r;
    return e;
}

static bool is_json_type(type_oid_t t) { return t == TYPE_JSON || t == TYPE_JSONB; }

/* A json/jsonb operator as its function (builtins_json_operator); path and key-set
 * operands are text[]. No matching overload is PostgreSQL's operator error. */
static bexpr_t *b_json_op(binder_t *b, const char *name, bexpr_t *l, bexpr_t *r, int location)
{
    type_oid_t lt = l->type == TYPE_UNKNOWN ? r->type : l->type;
    const char *fn = builtins_json_operator(name, lt, r->type);
    bool path = !strcmp(name, "#>") || !strcmp(name, "#>>") || !strcmp(name, "#-") || !strcmp(name, "?|") ||
                !strcmp(name, "?&");
    if (path && r->type == TYPE_UNKNOWN && !(r = b_coerce(b, r, TYPE_TEXTARRAY, -1, CAST_IMPLICIT, location)))
        return NULL;
    type_oid_t types[2] = {l->type, r->type}, cast_to[2];
    sql_error_t tmp = {0};
    if ((path && r->type != TYPE_TEXTARRAY) || !builtin_resolve(fn, 2, types, cast_to, &tmp)) {
        b_op_error(b, name, l->type, r->type, location);
        return NULL;
    }
    bexpr_t *args[2] = {l, r};
    return b_builtin(b, fn, 2, args, location);
}

static bexpr_t *b_op(binder_t *b, const ast_t *n, const scope_t *sc)
{
    const char *name = n->op.name;
    bexpr_t *l = n->op.l ? b_expr(b, n->op.l, sc) : NULL;
    if (n->op.l && !l)
        return NULL;
    bexpr_t *r = b_expr(b, n->op.r, sc);
    if (!r)
        return NULL;
    if (!l) {
        /* prefix operators */
        if (!strcmp(name, "+") && is_numeric_type(r->type))
            return r;
        if (!strcmp(name, "-")) {
            if (r->kind == BX_CONST && !r->isnull && (r->type == TYPE_INT4 || r->type == TYPE_INT8) &&
                r->val.i64 != INT64_MIN) {
                r->val.i64 = -r->val.i64;
                return r;
            }
            if (r->kind == BX_CONST && !r->isnull && r->type == TYPE_FLOAT8) {
                r->val.f64 = -r->val.f64;
                return r;
            }
            if (r->kind == BX_CONST && !r->isnull && r->type == TYPE_NUMERIC) {
                if (numeric_arith(ARITH_NEG, r->val, r->val, b->a, &r->val, b->err) < 0)
                    return NULL;
                return r;
            }
            if (r->type == TYPE_UNKNOWN && !(r = b_coerce(b, r, TYPE_FLOAT8, -1, CAST_IMPLICIT, n->location)))
                return NULL;
            if (is_numeric_type(r->type)) {
                bexpr_t *e = bx_new(b, BX_ARITH, r->type, 1);
                if (e) {
                    e->op = ARITH_NEG;
                    e->args[0] = r;
                }
                return e;
            }
        }
        if (r->type == TYPE_INTERVAL && (!strcmp(name, "-") || !strcmp(name, "+"))) {
            bexpr_t *args[1] = {r};
            return b_builtin(b, name[0] == '-' ? "interval_um" : "interval_pl_unary", 1, args, n->location);
        }
        b_op_error(b, name, TYPE_INVALID, r->type, n->location);
        return NULL;
    }
    if ((is_json_type(l->type) || (l->type == TYPE_UNKNOWN && r->type == TYPE_JSONB)) &&
        builtins_json_operator(name, l->type == TYPE_UNKNOWN ? r->type : l->type, r->type) &&
        (strcmp(name, "||") || r->type == TYPE_JSONB || (l->type == TYPE_JSONB && r->type == TYPE_UNKNOWN)))
        return b_json_op(b, name, l, r, n->location);
    if ((l->type == TYPE_VECTOR || r->type == TYPE_VECTOR) && builtins_vector_operator(name)) {
        /* pgvector's operators are its functions; an unknown side is a vector literal */
        bexpr_t *args[2] = {l, r};
        return b_builtin(b, builtins_vector_operator(name), 2, args, n->location);
    }
    if ((builtins_time_type(l->type) || builtins_time_type(r->type)) && b_arith_op(name) >= 0) {
        /* date/time arithmetic: PostgreSQL's operator functions (builtins_time.c) */
        bool amb;
        const char *fn = builtins_time_operator(name, l->type, r->type, &amb);
        if (!fn) {
            if (amb) {
                sql_error(b->err, "42725", "operator is not unique: %s %s %s", b_typename(b, l->type), name,
                          b_typename(b, r->type));
                sql_error_hint(b->err, "Could not choose a best candidate operator. You might need to add explicit type casts.");
                b_pos(b, n->location);
                return NULL;
            }
            return b_op_error(b, name, l->type, r->type, n->location), NULL;
        }
        bexpr_t *args[2] = {l, r};
        return b_builtin(b, fn, 2, args, n->location);
    }
    if ((type_is_array(l->type) || type_is_array(r->type)) &&
        (!strcmp(name, "&&") || !strcmp(name, "@>") || !strcmp(name, "<@"))) {
        /* arrayoverlap / arraycontains / arraycontained; an unknown side takes the
         * other's array type */
        type_oid_t t = type_is_array(l->type) ? l->type : r->type;
        if ((l->type == TYPE_UNKNOWN && !(l = b_coerce(b, l, t, -1, CAST_IMPLICIT, n->location))) ||
            (r->type == TYPE_UNKNOWN && !(r = b_coerce(b, r, t, -1, CAST_IMPLICIT, n->location))))
            return NULL;
        if (l->type != r->type) {
            b_op_error(b, name, l->type, r->type, n->location);
            return NULL;
        }
        bexpr_t *args[2] = {l, r};
        return b_builtin(b, name[0] == '&' ? "arrayoverlap" : name[0] == '@' ? "arraycontains" : "arraycontained", 2,
                         args, n->location);
    }
    int op = b_cmp_op(name);
    if (op >= 0)
        return b_cmp(b, op, name, l, r, n->location);
    if (!strcmp(name, "^")) {           /* power(float8, float8) or power(numeric, numeric) */
        bexpr_t *args[2] = {l, r};
        return b_builtin(b, "power", 2, args, n->location);
    }
    if (!strcmp(name, "||")) {
        if (type_is_array(l->type) || type_is_array(r->type))
            return b_array_cat(b, l, r, n->location);
        if ((l->type == TYPE_BYTEA && (r->type == TYPE_BYTEA || r->type == TYPE_UNKNOWN)) ||
            (r->type == TYPE_BYTEA && l->type == TYPE_UNKNOWN)) {
            bexpr_t *args[2] = {l, r};
            return b_builtin(b, "byteacat", 2, args, n->location);
        }
        if (is_string_cat(l->type) || is_string_cat(r->type)) {
            if (!(l = b_coerce(b, b_resolve_unknown(b, l), TYPE_TEXT, -1, CAST_ASSIGNMENT, n->location)) ||
                !(r = b_coerce(b, b_resolve_unknown(b, r), TYPE_TEXT, -1, CAST_ASSIGNMENT, n->location)))
                return NULL;
            bexpr_t *e = bx_new(b, BX_CONCAT, TYPE_TEXT, 2);
            if (e) {
                e->args[0] = l;
                e->args[1] = r;
            }
            return e;
        }
        b_op_error(b, name, l->type, r->type, n->location);
        return NULL;
    }
    int aop = b_arith_op(name);
    if (aop >= 0) {
        type_oid_t lt = l->type == TYPE_UNKNOWN ? r->type : l->type;
        type_oid_t rt = r->type == TYPE_UNKNOWN ? l->type : r->type;
        if (lt == TYPE_UNKNOWN && rt == TYPE_UNKNOWN)
            return b_op_error(b, name, l->type, r->type, n->location), NULL;
        if (!is_numeric_type(lt) || !is_numeric_type(rt)) {
            b_op_error(b, name, l->type, r->type, n->location);
            return NULL;
        }
        type_oid_t t = b_unify(b, &l, &r, name, n->location);
        if (t == TYPE_INVALID)
            return NULL;
        bexpr_t *e = bx_new(b, BX_ARITH, t, 2);
        if (e) {
            e->op = aop;
            e->args[0] = l;
            e->args[1] = r;
        }
        return e;
    }
    if (!strcmp(name, "~") || !strcmp(name, "!~") || !strcmp(name, "~*") || !strcmp(name, "!~*")) {
        if (!(l = b_coerce(b, b_resolve_unknown(b, l), TYPE_TEXT, -1, CAST_IMPLICIT, n->location)) ||
            !(r = b_coerce(b, b_resolve_unknown(b, r), TYPE_TEXT, -1, CAST_IMPLICIT, n->location)))
            return NULL;
        bexpr_t *e = bx_new(b, BX_REGEX, TYPE_BOOL, 2);
        if (e) {
            e->op = (name[0] == '!') | (strchr(name, '*') ? 2 : 0);
            e->args[0] = l;
            e->args[1] = r;
        }
        return e;
    }
    if (!strcmp(name, "~~") || !strcmp(name, "!~~") || !strcmp(name, "~~*") || !strcmp(name, "!~~*")) {
        if (!(l = b_coerce(b, l, TYPE_TEXT, -1, CAST_IMPLICIT, n->location)) ||
            !(r = b_coerce(b, r, TYPE_TEXT, -1, CAST_IMPLICIT, n->location)))
            return NULL;
        bexpr_t *e = bx_new(b, BX_LIKE, TYPE_BOOL, 2);
        if (e) {
            e->op = (name[0] == '!') | (strchr(name, '*') ? 2 : 0);
            e->args[0] = l;
            e->args[1] = r;
        }
        return e;
    }
    b_op_error(b, name, l->type, r->type, n->location);
    return NULL;
}

/* ---- functions ---- */

static int b_aggfn(const char *name)
{
    if (!strcmp(name, "count")) return AGG_COUNT;
    if (!strcmp(name, "sum")) return AGG_SUM;
    if (!strcmp(name, "avg")) return AGG_AVG;
    if (!strcmp(name, "min")) return AGG_MIN;
    if (!strcmp(name, "max")) return AGG_MAX;
    if (!strcmp(name, "string_agg")) return AGG_STRING_AGG;
    static const struct { const char *name; int fn; } ext[] = {     /* sql/exec_agg_ext.c */
        {"bool_and", AGG_BOOL_AND}, {"every", AGG_BOOL_AND}, {"bool_or", AGG_BOOL_OR},
        {"stddev", AGG_STDDEV_SAMP}, {"stddev_samp", AGG_STDDEV_SAMP}, {"stddev_pop", AGG_STDDEV_POP},
        {"variance", AGG_VAR_SAMP}, {"var_samp", AGG_VAR_SAMP}, {"var_pop", AGG_VAR_POP},
        {"array_agg", AGG_ARRAY_AGG}, {"jsonb_agg", AGG_JSONB_AGG}, {"json_agg", AGG_JSON_AGG},
        {"jsonb_object_agg", AGG_JSONB_OBJECT_AGG}, {"json_object_agg", AGG_JSON_OBJECT_AGG},
        {"percentile_cont", AGG_PERCENTILE_CONT}, {"percentile_disc", AGG_PERCENTILE_DISC}, {"mode", AGG_MODE},
    };
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (!strcmp(name, ext[i].name)) return ext[i].fn;
    return -1;
}

/* agg(... ORDER BY keys). Only string_agg's result depends on the order: its input
 * is sorted by the keys before the (never split) aggregation, which appends values
 * in arrival order; one such order per query level (0A000 for a second, different
 * one). The other aggregates ignore the order, as their results do. */
static int b_agg_order(binder_t *b, const ast_t *n, const scope_t *sc, const plan_agg_t *ag)
{
    plan_sortkey_t *keys = b_alloc(b, (size_t)n->func.norder * sizeof *keys);
    if (!keys)
        return -1;
    const char *saved = b->agg_context;
    b->agg_allowed = false;
    b->agg_context = NULL;
    for (int i = 0; i < n->func.norder; i++) {
        const ast_sortby_t *s = &n->func.order[i];
        bexpr_t *e = b_expr(b, s->expr, sc);
        if (e && e->type == TYPE_UNKNOWN)
            e = b_resolve_unknown(b, e);
        if (!e) {
            b->agg_allowed = true;
            b->agg_context = saved;
            return -1;
        }
        if (ag->distinct) {
            const bexpr_t *a = ag->arg;
            while (a && a->kind == BX_CAST && !bx_equal(a, e))
                a = a->args[0];
            if (!a || !bx_equal(a, e)) {
                sql_error(b->err, "42P10", "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list");
                b_pos(b, s->expr->location);
                b->agg_allowed = true;
                b->agg_context = saved;
                return -1;
            }
        }
        keys[i].expr = e;
        keys[i].desc = s->desc;
        keys[i].nulls_first = s->nulls == 1 || (s->nulls == 0 && s->desc);
    }
    b->agg_allowed = true;
    b->agg_context = saved;
    if (ag->fn != AGG_STRING_AGG && ag->fn != AGG_ARRAY_AGG)
        return 0;
    if (!b->agg_norder) {
        b->agg_norder = n->func.norder;
        b->agg_order = keys;
        return 0;
    }
    bool same = b->agg_norder == n->func.norder;
    for (int i = 0; i < n->func.norder && same; i++)
        same = bx_equal(keys[i].expr, b->agg_order[i].expr) && keys[i].desc == b->agg_order[i].desc &&
               keys[i].nulls_first == b->agg_order[i].nulls_first;
    if (!same) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "string_agg / array_agg calls with different ORDER BY clauses in one query are not supported");
        b_pos(b, n->location);
        return -1;
    }
    return 0;
}

/* percentile_cont(f) / percentile_disc(f) / mode() WITHIN GROUP (ORDER BY x): the
 * sorted value x is the aggregate's argument, the fraction f its second one
 * (exec_agg_ordset.c). */
/* 42883 "function name(types) does not exist" over n's direct then ordered arguments
 * (PostgreSQL's answer for an aggregate called with or without WITHIN GROUP wrongly). */
static int b_agg_nofn(binder_t *b, const ast_t *n, const scope_t *sc)
{
    strbuf_t sb;
    strbuf_init(&sb);
    int total = n->func.args.n + (n->func.within_group ? n->func.norder : 0);
    for (int i = 0; i < total; i++) {
        const ast_t *x = i < n->func.args.n ? n->func.args.items[i] : n->func.order[i - n->func.args.n].expr;
        bool saved = b->agg_allowed;
        b->agg_allowed = true;
        bexpr_t *e = b_expr(b, x, sc);
        b->agg_allowed = saved;
        if (!e) {
            strbuf_free(&sb);
            return -1;
        }
        if (e->type == TYPE_UNKNOWN)
            e = b_resolve_unknown(b, e);
        if (i)
            strbuf_puts(&sb, ", ");
        strbuf_puts(&sb, e ? b_typename(b, e->type) : "unknown");
    }
    strbuf_putc(&sb, '\0');
    sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", n->func.name,
              sb.data && !sb.oom ? sb.data : "");
    sql_error_hint(b->err, "No function matches the given name and argument types. You might need to add explicit "
                           "type casts.");
    strbuf_free(&sb);
    b_pos(b, n->location);
    return -1;
}

static int b_agg_ordset(binder_t *b, const ast_t *n, const scope_t *sc, plan_agg_t *ag)
{
    int want = ag->fn == AGG_MODE ? 0 : 1;
    if (!n->func.within_group)
        return b_agg_nofn(b, n, sc);
    if (n->func.distinct || n->func.norder != 1 || n->func.args.n != want) {
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s with %d direct and %d ordered arguments does not "
                  "exist", n->func.name, n->func.args.n, n->func.norder);
        b_pos(b, n->location);
        return -1;
    }
    if (b->win_agg) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "OVER is not supported for ordered-set aggregate %s",
                  n->func.name);
        b_pos(b, n->location);
        return -1;
    }
    const char *saved = b->agg_context;
    b->agg_allowed = false;
    b->agg_context = NULL;
    bexpr_t *x = b_expr(b, n->func.order[0].expr, sc);
    bexpr_t *f = x && want ? b_expr(b, n->func.args.items[0], sc) : NULL;
    b->agg_allowed = true;
    b->agg_context = saved;
    if (!x || (want && !f))
        return -1;
    if (x->type == TYPE_UNKNOWN && !(x = b_resolve_unknown(b, x)))
        return -1;
    if (f && type_is_array(f->type)) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "%s of an array of fractions is not supported", n->func.name);
        b_pos(b, n->location);
        return -1;
    }
    if (f && !(f = b_coerce(b, f, TYPE_FLOAT8, -1, CAST_IMPLICIT, n->location)))
        return -1;
    if (ag->fn == AGG_PERCENTILE_CONT) {
        if (!is_numeric_type(x->type)) {
            sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function percentile_cont(double precision, %s) does not exist",
                      b_typename(b, x->type));
            b_pos(b, n->location);
            return -1;
        }
        if (!(x = b_coerce(b, x, TYPE_FLOAT8, -1, CAST_IMPLICIT, n->location)))
            return -1;
    } else if (x->type == TYPE_JSON || x->type == TYPE_VECTOR) {
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "could not identify an ordering operator for type %s",
                  b_typename(b, x->type));
        b_pos(b, n->location);
        return -1;
    }
    ag->arg = x;
    ag->arg2 = f;
    ag->argtype = x->type;
    ag->rettype = x->type;
    ag->desc = n->func.order[0].desc;
    return 0;
}

static bexpr_t *b_agg(binder_t *b, const ast_t *n, const scope_t *sc, int fn)
{
    bool win = b->win_agg;       /* sum(x) OVER (...): x may hold aggregates */
    b->win_agg = false;
    if (!b->agg_allowed) {
        if (b->agg_context)
            sql_error(b->err, SQLSTATE_GROUPING_ERROR, "aggregate functions are not allowed in %s", b->agg_context);
        else
            sql_error(b->err, SQLSTATE_GROUPING_ERROR, "aggregate function calls cannot be nested");
        b_pos(b, n->location);
        return NULL;
    }
    plan_agg_t ag = {.fn = fn, .distinct = n->func.distinct};
    if (fn == AGG_PERCENTILE_CONT || fn == AGG_PERCENTILE_DISC || fn == AGG_MODE) {
        if (b_agg_ordset(b, n, sc, &ag) < 0)
            return NULL;
    } else if (n->func.within_group) {
        b_agg_nofn(b, n, sc);
        return NULL;
    } else if (n->func.star) {
        if (fn != AGG_COUNT) {
            sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "%s(*) is not supported", n->func.name);
            b_pos(b, n->location);
            return NULL;
        }
        ag.fn = AGG_COUNT_STAR;
        ag.rettype = TYPE_INT8;
    } else {
        bool two = fn == AGG_STRING_AGG || fn == AGG_JSONB_OBJECT_AGG || fn == AGG_JSON_OBJECT_AGG;
        if (n->func.args.n != (two ? 2 : 1)) {
            sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s with %d arguments does not exist",
                      n->func.name, n->func.args.n);
            b_pos(b, n->location);
            return NULL;
        }
        const char *saved = b->agg_context;
        b->agg_allowed = win;
        b->agg_context = win ? saved : NULL;
        bexpr_t *arg = b_expr(b, n->func.args.items[0], sc);
        if (arg && fn == AGG_STRING_AGG) {
            /* string_agg(text, text): both arguments as text (name etc. cast implicitly) */
            bexpr_t *sep = b_expr(b, n->func.args.items[1], sc);
            if (sep && arg->type != TYPE_UNKNOWN && !is_string_cat(arg->type)) {
                sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function string_agg(%s, %s) does not exist",
                          b_typename(b, arg->type), b_typename(b, sep->type));
                sql_error_hint(b->err, "No function matches the given name and argument types. "
                                       "You might need to add explicit type casts.");
                b_pos(b, n->location);
                sep = NULL;
            }
            if (!sep || !(ag.arg2 = b_coerce(b, b_resolve_unknown(b, sep), TYPE_TEXT, -1, CAST_IMPLICIT,
                                             n->location)))
                arg = NULL;
            else
                arg = b_coerce(b, b_resolve_unknown(b, arg), TYPE_TEXT, -1, CAST_IMPLICIT, n->location);
        }
        if (arg && (fn == AGG_JSONB_OBJECT_AGG || fn == AGG_JSON_OBJECT_AGG)) {
            bexpr_t *val = b_expr(b, n->func.args.items[1], sc);
            if (!val || !(ag.arg2 = b_resolve_unknown(b, val)))
                arg = NULL;
        }
        b->agg_allowed = true;
        b->agg_context = saved;
        if (!arg)
            return NULL;
        if (arg->type == TYPE_UNKNOWN && !(arg = b_resolve_unknown(b, arg)))
            return NULL;
        type_oid_t t = arg->type;
        ag.argtype = t;
        switch (ag.fn) {
        case AGG_COUNT: ag.rettype = TYPE_INT8; break;
        case AGG_SUM:
            if (t == TYPE_INTERVAL) {                            /* sql/exec_agg_ext.c */
                ag.fn = AGG_SUM_INTERVAL;
                ag.rettype = TYPE_INTERVAL;
                break;
            }
            if (t == TYPE_VECTOR) ag.rettype = TYPE_VECTOR;      /* pgvector's sum(vector) */
            else if (t == TYPE_INT2 || t == TYPE_INT4) ag.rettype = TYPE_INT8;
            else if (t == TYPE_INT8 || t == TYPE_NUMERIC) ag.rettype = TYPE_NUMERIC;
            else if (t == TYPE_FLOAT8) ag.rettype = TYPE_FLOAT8;
            else if (t == TYPE_FLOAT4) ag.rettype = TYPE_FLOAT4;
            else goto nofn;
            break;
        case AGG_AVG:
            if (t == TYPE_INTERVAL) {
                ag.fn = AGG_AVG_INTERVAL;
                ag.rettype = TYPE_INTERVAL;
                break;
            }
            if (t == TYPE_VECTOR) {             /* pgvector's avg(vector) */
                ag.rettype = TYPE_VECTOR;
                break;
            }
            if (!is_numeric_type(t))
                goto nofn;
            ag.rettype = t == TYPE_FLOAT4 || t == TYPE_FLOAT8 ? TYPE_FLOAT8 : TYPE_NUMERIC;
            break;
        case AGG_STRING_AGG: ag.rettype = TYPE_TEXT; break;
        case AGG_BOOL_AND: case AGG_BOOL_OR:
            if (t != TYPE_BOOL)
                goto nofn;
            ag.rettype = TYPE_BOOL;
            break;
        case AGG_STDDEV_SAMP: case AGG_STDDEV_POP: case AGG_VAR_SAMP: case AGG_VAR_POP:
            /* numeric of int2 / int4 / int8 / numeric, float8 of float4 / float8 (sql/exec_agg_ext.c) */
            if (t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8 || t == TYPE_NUMERIC) {
                ag.rettype = TYPE_NUMERIC;
                break;
            }
            if (!is_numeric_type(t) || !(arg = b_coerce(b, arg, TYPE_FLOAT8, -1, CAST_IMPLICIT, n->location)))
                goto nofn;
            ag.rettype = TYPE_FLOAT8;
            break;
        case AGG_ARRAY_AGG:
            if (type_is_array(t)) {
                sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "array_agg of arrays is not supported");
                b_pos(b, n->location);
                return NULL;
            }
            if ((ag.rettype = type_array_of(t)) == TYPE_INVALID)
                goto nofn;
            break;
        case AGG_JSONB_AGG: case AGG_JSONB_OBJECT_AGG: ag.rettype = TYPE_JSONB; break;
        case AGG_JSON_AGG: case AGG_JSON_OBJECT_AGG: ag.rettype = TYPE_JSON; break;
        default:
            if (t == TYPE_BOOL || t == TYPE_BYTEA)
                goto nofn;
            ag.rettype = t;
            break;
        }
        /* sum/avg read their input as float8, int8 or numeric; cast once here */
        if ((ag.fn == AGG_SUM || ag.fn == AGG_AVG) && t != TYPE_INT2 && t != TYPE_INT4 && t != TYPE_INT8 && t != TYPE_VECTOR &&
            t != TYPE_NUMERIC &&
            !(arg = b_coerce(b, arg, TYPE_FLOAT8, -1, CAST_IMPLICIT, n->location)))
            return NULL;
        if ((ag.fn == AGG_SUM || ag.fn == AGG_AVG) && (t == TYPE_INT2 || t == TYPE_INT4) &&
            !(arg = b_coerce(b, arg, TYPE_INT8, -1, CAST_IMPLICIT, n->location)))
            return NULL;
        ag.argtype = arg->type;
        ag.arg = arg;
    }
    if (n->func.norder && !n->func.within_group && b_agg_order(b, n, sc, &ag) < 0)
        return NULL;
    if (b->naggs == b->aggcap) {
        int cap = b->aggcap ? b->aggcap * 2 : 8;
        plan_agg_t *na = b_alloc(b, (size_t)cap * sizeof *na);
        if (!na)
            return NULL;
        if (b->naggs)
            memcpy(na, b->aggs, (size_t)b->naggs * sizeof *na);
        b->aggs = na;
        b->aggcap = cap;
    }
    /* identical aggregate calls share one state (a window aggregate never does) */
    for (int i = 0; i < b->naggs && !win; i++) {
        plan_agg_t *o = &b->aggs[i];
        if (o->fn == ag.fn && o->distinct == ag.distinct && o->desc == ag.desc && bx_equal(o->arg, ag.arg) && bx_equal(o->arg2, ag.arg2)) {
            bexpr_t *e = bx_new(b, BX_AGGREF, o->rettype, 0);
            if (e)
                e->index = i;
            return e;
        }
    }
    b->aggs[b->naggs] = ag;
    bexpr_t *e = bx_new(b, BX_AGGREF, ag.rettype, 0);
    if (e)
        e->index = b->naggs++;
    return e;
nofn:
    sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", n->func.name,
              b_typename(b, ag.argtype));
    sql_error_hint(b->err, "No function matches the given name and argument types. "
                           "You might need to add explicit type casts.");
    b_pos(b, n->location);
    return NULL;
}

static bexpr_t *b_builtin(binder_t *b, const char *name, int nargs, bexpr_t **args, int location)
{
    if (nargs > LIMIT_FUNC_ARGS) {
        sql_error(b->err, "54023", "cannot pass more than %d arguments to a function", LIMIT_FUNC_ARGS);
        b_pos(b, location);
        return NULL;
    }
    /* in the arena, not on the stack: the binder recurses through nested calls */
    type_oid_t *types = arena_alloc(b->a, (size_t)(nargs + 1) * sizeof *types);
    type_oid_t *cast_to = arena_alloc(b->a, (size_t)(nargs + 1) * sizeof *cast_to);
    if (!types || !cast_to) {
        sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    for (int i = 0; i < nargs; i++)
        types[i] = args[i]->type;
    const builtin_t *fn = builtin_resolve(name, nargs, types, cast_to, b->err);
    if (!fn) {
        b_pos(b, location);
        return NULL;
    }
    bexpr_t *e = bx_new(b, BX_FUNC, fn->rettype, nargs);
    if (!e)
        return NULL;
    e->fn = fn;
    for (int i = 0; i < nargs; i++) {
        bexpr_t *a = args[i];
        if (cast_to[i] != TYPE_INVALID && cast_to[i] != a->type)
            a = b_coerce(b, a, cast_to[i], -1, CAST_IMPLICIT, location);
        else if (a->type == TYPE_UNKNOWN)
            a = b_resolve_unknown(b, a);
        if (!a)
            return NULL;
        e->args[i] = a;
    }
    if (e->type == TYPE_INVALID)    /* polymorphic result: the first argument's type */
        e->type = nargs ? e->args[0]->type : TYPE_TEXT;
    return e;
}

static int json_srf_index(const char *name);

/* The polymorphic array functions (anyarray, anyelement in PostgreSQL; "any" in
 * builtins_more.c): the element arguments take the array's element type (an unknown
 * array literal takes the element's array type), and the call has the array's type.
 * *handled stays false when name is none of them (or its array argument is no array:
 * b_builtin then reports the missing function). */
static bexpr_t *b_func_poly(binder_t *b, const char *name, int nargs, bexpr_t **args, int location, bool *handled)
{
    static const struct { const char *name; int nargs, arr; } poly[] = {
        {"array_append", 2, 0}, {"array_prepend", 2, 1}, {"array_remove", 2, 0}, {"array_replace", 3, 0},
    };
    int k = -1;
    for (size_t i = 0; i < sizeof poly / sizeof poly[0]; i++)
        if (!strcmp(poly[i].name, name) && poly[i].nargs == nargs)
            k = (int)i;
    if (k < 0 || (!type_is_array(args[poly[k].arr]->type) && args[poly[k].arr]->type != TYPE_UNKNOWN))
        return NULL;
    *handled = true;
    int ai = poly[k].arr;
    type_oid_t at = args[ai]->type;
    if (at == TYPE_UNKNOWN) {
        type_oid_t et = TYPE_INVALID;
        for (int i = 0; i < nargs; i++)
            if (i != ai && args[i]->type != TYPE_UNKNOWN)
                et = args[i]->type;
        if (et == TYPE_INVALID)
            et = TYPE_TEXT;
        at = type_array_of(et);
        if (at == TYPE_INVALID || !(args[ai] = b_coerce(b, args[ai], at, -1, CAST_IMPLICIT, location)))
            return at == TYPE_INVALID ? (b_op_error(b, name, TYPE_INVALID, et, location), NULL) : NULL;
    }
    type_oid_t elem = type_array_elem(at);
    for (int i = 0; i < nargs; i++) {
        /* int[] and a bigint meet at bigint[], as PostgreSQL's polymorphic resolution */
        type_oid_t et = args[i]->type, wide = i != ai && et != elem ? type_array_of(et) : TYPE_INVALID;
        if (wide != TYPE_INVALID && !type_can_cast(et, elem, CAST_IMPLICIT) && type_can_cast(elem, et, CAST_IMPLICIT)) {
            if (!(args[ai] = b_coerce(b, args[ai], wide, -1, CAST_IMPLICIT, location)))
                return NULL;
            at = wide;
            elem = et;
        }
    }
    for (int i = 0; i < nargs; i++)
        if (i != ai && args[i]->type != elem &&
            !(args[i] = b_coerce(b, args[i], elem, -1, CAST_IMPLICIT, location)))
            return NULL;
    bexpr_t *e = b_builtin(b, name, nargs, args, location);
    if (e)
        e->type = at;
    return e;
}

static bexpr_t *b_func(binder_t *b, const ast_t *n, const scope_t *sc)
{
    const char *name = n->func.name;
    if (n->func.schema && strcmp(n->func.schema, "pg_catalog") != 0) {
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s.%s does not exist", n->func.schema, name);
        b_pos(b, n->location);
        return NULL;
    }
    if (bind_win_is_window_call(n))
        return bind_win_call(b, n, sc);
    int fn = b_aggfn(name);
    if (fn >= 0)
        return b_agg(b, n, sc, fn);
    if (n->func.norder) {
        sql_error(b->err, "42809", "ORDER BY specified, but %s is not an aggregate function", name);
        b_pos(b, n->location);
        return NULL;
    }
    if (n->func.star || n->func.distinct) {
        sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "%s is not an aggregate function", name);
        b_pos(b, n->location);
        return NULL;
    }
    if (!strcmp(name, "pg_typeof") && n->func.args.n == 1) {
        /* pg_typeof("any"): the argument's type, known when binding */
        bexpr_t *a = b_expr(b, n->func.args.items[0], sc);
        if (!a)
            return NULL;
        return bx_const(b, TYPE_REGTYPE, (datum_t){.i64 = a->type == TYPE_INVALID ? TYPE_UNKNOWN : a->type}, false);
    }
    if (!strcmp(name, "generate_series") || !strcmp(name, "unnest") || json_srf_index(name) >= 0) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "%s is only supported in FROM", name);
        b_pos(b, n->location);
        return NULL;
    }
    int nargs = n->func.args.n;
    if (nargs > LIMIT_FUNC_ARGS) {
        sql_error(b->err, "54023", "cannot pass more than %d arguments to a function", LIMIT_FUNC_ARGS);
        return NULL;
    }
    bexpr_t **args = arena_alloc(b->a, (size_t)(nargs + 1) * sizeof *args);
    if (!args) {
        sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    for (int i = 0; i < nargs; i++)
        if (!(args[i] = b_expr(b, n->func.args.items[i], sc)))
            return NULL;
    if ((!strcmp(name, "current_setting") && (nargs == 1 || nargs == 2)) ||
        (!strcmp(name, "set_config") && nargs == 3)) {
        bool set = name[0] == 's';
        bexpr_t *e = bx_new(b, BX_GUC, TYPE_TEXT, nargs);
        if (!e)
            return NULL;
        e->op = set;
        for (int i = 0; i < nargs; i++) {
            type_oid_t want = (set && i == 2) || (!set && i == 1) ? TYPE_BOOL : TYPE_TEXT;
            if (!(e->args[i] = b_coerce(b, args[i], want, -1, CAST_IMPLICIT, n->location)))
                return NULL;
        }
        return e;
    }
    bool handled = false;
    bexpr_t *poly = b_func_poly(b, name, nargs, args, n->location, &handled);
    if (handled)
        return poly;
    return b_builtin(b, name, nargs, args, n->location);
}

static bexpr_t *b_sqlfn(binder_t *b, const ast_t *n)
{
    static const char *const names[] = {
        [AST_SQLFN_CURRENT_TIMESTAMP] = "now", [AST_SQLFN_CURRENT_DATE] = "current_date",
        [AST_SQLFN_LOCALTIMESTAMP] = "localtimestamp", [AST_SQLFN_CURRENT_USER] = "current_user",
        [AST_SQLFN_SESSION_USER] = "session_user", [AST_SQLFN_CURRENT_CATALOG] = "current_database",
        [AST_SQLFN_CURRENT_SCHEMA] = "current_schema", [AST_SQLFN_LOCALTIME] = "localtime",
    };
    if (n->sqlfn.typmod >= 0) {      /* CURRENT_TIMESTAMP(p), LOCALTIMESTAMP(p), LOCALTIME(p) */
        datum_t v = {.i64 = n->sqlfn.typmod > 6 ? 6 : n->sqlfn.typmod};
        bexpr_t *args[1] = {bx_const(b, TYPE_INT4, v, false)};
        if (!args[0])
            return NULL;
        const char *fn = n->sqlfn.fn == AST_SQLFN_CURRENT_TIMESTAMP ? "now_precision" : names[n->sqlfn.fn];
        return b_builtin(b, fn, 1, args, n->location);
    }
    return b_builtin(b, names[n->sqlfn.fn], 0, NULL, n->location);
}

static bexpr_t *b_typed_const(binder_t *b, const ast_t *n)
{
    datum_t v = {0};
    switch (n->c.ctype) {
    case AST_C_NULL:
        return bx_const(b, TYPE_UNKNOWN, v, true);
    case AST_C_INT:
        v.i64 = n->c.ival;
        return bx_const(b, n->c.ival >= INT32_MIN && n->c.ival <= INT32_MAX ? TYPE_INT4 : TYPE_INT8, v, false);
    case AST_C_NUMERIC:
        /* decimal literals, and integers too large for int8, are numeric */
        if (numeric_in(n->c.str, strlen(n->c.str), b->a, &v, b->err) < 0)
            return NULL;
        return bx_const(b, TYPE_NUMERIC, v, false);
    case AST_C_BOOL:
        v.i64 = n->c.bval;
        return bx_const(b, TYPE_BOOL, v, false);
    case AST_C_STRING:
        if (!(v.s = vstr_new(b->a, n->c.str, strlen(n->c.str)))) {
            sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
        return bx_const(b, TYPE_UNKNOWN, v, false);
    }
    return NULL;
}

/* Resolves an AST type name to (oid, typmod). */
static int b_type(binder_t *b, const ast_typename_t *t, int location, type_oid_t *oid, int32_t *typmod)
{
    const type_info_t *ti = type_lookup_name(t->name);
    if (!ti) {
        sql_error(b->err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s\" does not exist", t->name);
        b_pos(b, location);
        return -1;
    }
    if (t->is_array) {
        if (!ti->array_oid) {
            sql_error(b->err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s[]\" does not exist", t->name);
            return -1;
        }
        *oid = ti->array_oid;
        *typmod = -1;
        return 0;
    }
    *oid = ti->oid;
    *typmod = -1;
    if (ti->oid == TYPE_VARCHAR || ti->oid == TYPE_BPCHAR) {
        if (t->ntypmods == 1) {
            if (t->typmods[0] < 1) {
                sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "length for type %s must be at least 1", ti->name);
                b_pos(b, location);
                return -1;
            }
            *typmod = t->typmods[0] + 4;
        } else if (ti->oid == TYPE_BPCHAR && strcmp(t->name, "bpchar") != 0) {
            /* "char" / "character" without a length means length 1 */
            *typmod = 1 + 4;
        }
    }
    if (ti->oid == TYPE_INTERVAL && t->ntypmods) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "interval precision and fields are not supported");
        b_pos(b, location);
        return -1;
    }
    if ((ti->oid == TYPE_TIMESTAMP || ti->oid == TYPE_TIMESTAMPTZ || ti->oid == TYPE_TIME) && t->ntypmods == 1) {
        /* fractional-second precision 0..6 (PostgreSQL warns and uses 6 above that) */
        if (t->typmods[0] < 0) {
            sql_error(b->err, SQLSTATE_INVALID_PARAMETER, "%s(%d)%s precision must not be negative",
                      ti->oid == TYPE_TIME ? "TIME" : "TIMESTAMP", t->typmods[0],
                      ti->oid == TYPE_TIMESTAMPTZ ? " WITH TIME ZONE" : "");
            b_pos(b, location);
            return -1;
        }
        *typmod = t->typmods[0] > 6 ? 6 : t->typmods[0];
    }
    if (ti->oid == TYPE_VECTOR && t->ntypmods && type_vector_typmod_in(t->ntypmods, t->typmods, typmod, b->err) < 0) {
        b_pos(b, location);
        return -1;
    }
    if (ti->oid == TYPE_NUMERIC && t->ntypmods && numeric_typmod(t->ntypmods, t->typmods, typmod, b->err) < 0) {
        b_pos(b, location);
        return -1;
    }
    return 0;
}

static bexpr_t *b_cast(binder_t *b, const ast_t *n, const scope_t *sc)
{
    type_oid_t to;
    int32_t typmod;
    if (b_type(b, &n->cast.type, n->location, &to, &typmod) < 0)
        return NULL;
    if (n->cast.arg->kind == AST_ARRAY && n->cast.arg->args.n == 0 && type_is_array(to)) {
        /* ARRAY[]::t[]: the cast gives the empty array its type */
        datum_t v = {.s = type_array_build(b->a, type_array_elem(to), 0, NULL, NULL)};
        if (!v.s) {
            sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
        return bx_const(b, to, v, false);
    }
    bexpr_t *arg = b_expr(b, n->cast.arg, sc);
    if (!arg)
        return NULL;
    if (arg->kind == BX_PARAM && !b->param_fixed[arg->index] && arg->type == TYPE_UNKNOWN)
        return b_param_set_type(b, arg, to);
    return b_coerce(b, arg, to, typmod, CAST_EXPLICIT, n->location);
}

/* A list of expressions brought to one common type (CASE results, COALESCE, IN). */
static type_oid_t b_common_list(binder_t *b, bexpr_t **v, int n, const char *ctx, int location)
{
    type_oid_t t = TYPE_UNKNOWN;
    for (int i = 0; i < n; i++) {
        if (v[i]->type == TYPE_UNKNOWN)
            continue;
        if (t == TYPE_UNKNOWN) {
            t = v[i]->type;
            continue;
        }
        type_oid_t c = type_common(t, v[i]->type);
        if (c == TYPE_INVALID) {
            sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "%s types %s and %s cannot be matched", ctx,
                      b_typename(b, t), b_typename(b, v[i]->type));
            b_pos(b, location);
            return TYPE_INVALID;
        }
        t = c;
    }
    if (t == TYPE_UNKNOWN)
        t = TYPE_TEXT;
    for (int i = 0; i < n; i++)
        if (!(v[i] = b_coerce(b, v[i], t, -1, CAST_IMPLICIT, location)))
            return TYPE_INVALID;
    return t;
}

static bexpr_t *b_case(binder_t *b, const ast_t *n, const scope_t *sc)
{
    int np = n->kase.whens.n;
    bool has_else = n->kase.els != NULL;
    bexpr_t *e = bx_new(b, BX_CASE, TYPE_UNKNOWN, 2 * np + has_else);
    if (!e)
        return NULL;
    e->flag = has_else;
    bexpr_t *arg = n->kase.arg ? b_expr(b, n->kase.arg, sc) : NULL;
    if (n->kase.arg && !arg)
        return NULL;
    bexpr_t **results = b_alloc(b, (size_t)(2 * np + 2) * sizeof(bexpr_t *));
    if (!results)
        return NULL;
    int nres = 0;
    for (int i = 0; i < np; i++) {
        bexpr_t *w = b_expr(b, n->kase.whens.items[i], sc);
        if (!w)
            return NULL;
        if (arg && !(w = b_cmp(b, BX_OP_EQ, "=", arg, w, n->location)))
            return NULL;
        if (!(w = b_coerce(b, w, TYPE_BOOL, -1, CAST_IMPLICIT, n->location))) {
            return NULL;
        }
        e->args[2 * i] = w;
        if (!(results[nres++] = b_expr(b, n->kase.thens.items[i], sc)))
            return NULL;
    }
    if (has_else && !(results[nres++] = b_expr(b, n->kase.els, sc)))
        return NULL;
    type_oid_t t = b_common_list(b, results, nres, "CASE", n->location);
    if (t == TYPE_INVALID)
        return NULL;
    for (int i = 0; i < np; i++)
        e->args[2 * i + 1] = results[i];
    if (has_else)
        e->args[2 * np] = results[np];
    e->type = t;
    return e;
}

static type_oid_t b_array_type(binder_t *b, type_oid_t t, int location);

static bexpr_t *b_any_array(binder_t *b, const ast_t *n, const scope_t *sc);

static bexpr_t *b_sublink(binder_t *b, const ast_t *n, const scope_t *sc)
{
    if (b->nsubq >= LIMIT_BIND_SUBQUERIES) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "too many subqueries in one statement");
        return NULL;
    }
    int nvis;
    const char **names;
    sql_coldesc_t *descs;
    /* Subqueries are bound with an empty outer scope: correlated references fail
     * with 42703, which is honest about what we support. */
    bool saved_allowed = b->agg_allowed;
    const char *saved_ctx = b->agg_context;
    int saved_naggs = b->naggs, saved_cap = b->aggcap;
    plan_agg_t *saved_aggs = b->aggs;
    int saved_norder = b->agg_norder;
    plan_sortkey_t *saved_order = b->agg_order;
    b->naggs = b->aggcap = 0;
    b->aggs = NULL;
    const scope_t *saved_outer = b->outer;
    bool saved_used = b->outer_used;
    b->outer = sc;
    b->outer_used = false;
    plan_t *p = b_select(b, &n->sublink.select->select, &nvis, &names, &descs);
    bool correlated = b->outer_used;
    b->outer = saved_outer;
    b->outer_used = saved_used;
    b->agg_allowed = saved_allowed;
    b->agg_context = saved_ctx;
    b->naggs = saved_naggs;
    b->aggcap = saved_cap;
    b->aggs = saved_aggs;
    b->agg_norder = saved_norder;
    b->agg_order = saved_order;
    if (!p)
        return NULL;
    int slot = b->nsubq;
    b->subq_ast[slot] = n;
    if (n->sublink.type == AST_SUB_EXISTS) {
        b->subq[slot] = p;
        b->subq_kind[slot] = SUBQ_EXISTS | (correlated ? SUBQ_CORRELATED : 0);
        b->nsubq++;
        bexpr_t *e = bx_new(b, BX_SUBQ, TYPE_BOOL, 0);
        if (e) {
            e->index = slot;
            e->flag = correlated;
        }
        return e;
    }
    if (nvis != 1) {
        sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "subquery must return only one column");
        b_pos(b, n->location);
        return NULL;
    }
    if (n->sublink.type == AST_SUB_ANY && !strcmp(n->sublink.opname, "=") && !correlated && n->sublink.test) {
        /* x IN (SELECT ...): the set is computed once; types meet at their common type */
        bexpr_t *x = b_expr(b, n->sublink.test, sc);
        if (!x)
            return NULL;
        bexpr_t *col = bx_col(b, 0, p->types[0], p->typmods[0], NULL);
        if (!col)
            return NULL;
        type_oid_t t = b_unify(b, &x, &col, "=", n->location);
        if (t == TYPE_INVALID)
            return NULL;
        if (col->kind != BX_COL) {
            plan_t *pr = pl_new(b, PL_PROJECT, 1);
            if (!pr || !(pr->project.exprs = b_alloc(b, sizeof(bexpr_t *))))
                return NULL;
            pr->child = p;
            pr->project.exprs[0] = col;
            pr->types[0] = t;
            p = pr;
        }
        b->subq[slot] = p;
        b->subq_kind[slot] = SUBQ_IN;
        b->nsubq++;
        bexpr_t *e = bx_new(b, BX_INSUBQ, TYPE_BOOL, 1);
        if (e) {
            e->index = slot;
            e->optype = t;
            e->args[0] = x;
        }
        return e;
    }
    if (n->sublink.type == AST_SUB_ARRAY) {
        /* ARRAY(SELECT col ...): the rows' values as one array, computed by the session */
        type_oid_t at = b_array_type(b, p->types[0] == TYPE_UNKNOWN ? TYPE_TEXT : p->types[0], n->location);
        if (at == TYPE_INVALID)
            return NULL;
        b->subq[slot] = p;
        b->subq_kind[slot] = SUBQ_ARRAY | (correlated ? SUBQ_CORRELATED : 0);
        b->nsubq++;
        bexpr_t *e = bx_new(b, BX_SUBQ, at, 0);
        if (e) {
            e->index = slot;
            e->flag = correlated;
        }
        return e;
    }
    if (correlated && (n->sublink.type == AST_SUB_ANY || n->sublink.type == AST_SUB_ALL) && n->sublink.test) {
        /* correlated x op ANY / ALL (subquery), IN, NOT IN: x op ANY / ALL (ARRAY(subquery)),
         * which has the same three-valued answer, run per row like ARRAY(...) */
        ast_t *arr = b_alloc(b, sizeof *arr), *any = b_alloc(b, sizeof *any);
        if (!arr || !any)
            return NULL;
        *arr = *n;
        arr->sublink.type = AST_SUB_ARRAY;
        arr->sublink.test = NULL;
        any->kind = AST_ANY;
        any->location = n->location;
        any->any.opname = n->sublink.opname;
        any->any.l = n->sublink.test;
        any->any.r = arr;
        any->any.all = n->sublink.type == AST_SUB_ALL;
        return b_any_array(b, any, sc);
    }
    if (n->sublink.type != AST_SUB_EXPR) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                  correlated ? "correlated IN / ANY / ALL subqueries are not supported"
                             : "ANY / ALL with a subquery and an operator other than = is not supported");
        b_pos(b, n->location);
        return NULL;
    }
    b->subq[slot] = p;
    b->subq_kind[slot] = SUBQ_SCALAR | (correlated ? SUBQ_CORRELATED : 0);
    b->nsubq++;
    bexpr_t *e = bx_new(b, BX_SUBQ, p->types[0], 0);
    if (e) {
        e->index = slot;
        e->typmod = p->typmods[0];
        e->flag = correlated;
    }
    return e;
}

/* The array type whose elements are t, or TYPE_INVALID + 0A000. */
static type_oid_t b_array_type(binder_t *b, type_oid_t t, int location)
{
    type_oid_t a = type_array_of(t);
    if (a == TYPE_INVALID) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "arrays of type %s are not supported", b_typename(b, t));
        b_pos(b, location);
    }
    return a;
}

/* ARRAY[e1, e2, ...]: elements meet at their common type (all unknown: text). */
static bexpr_t *b_array_ctor(binder_t *b, const ast_t *n, const scope_t *sc)
{
    if (n->args.n == 0) {
        sql_error(b->err, "42P18", "cannot determine type of empty array");
        sql_error_hint(b->err, "Explicitly cast to the desired type, for example ARRAY[]::integer[].");
        b_pos(b, n->location);
        return NULL;
    }
    bexpr_t *e = bx_new(b, BX_ARRAY, TYPE_INVALID, n->args.n);
    if (!e)
        return NULL;
    type_oid_t t = TYPE_UNKNOWN;
    for (int i = 0; i < n->args.n; i++) {
        if (!(e->args[i] = b_expr(b, n->args.items[i], sc)))
            return NULL;
        type_oid_t at = e->args[i]->type;
        if (type_is_array(at)) {
            sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "multidimensional arrays are not supported");
            b_pos(b, n->location);
            return NULL;
        }
        type_oid_t c = t == TYPE_UNKNOWN ? at : at == TYPE_UNKNOWN ? t : type_common(t, at);
        if (c == TYPE_INVALID) {
            sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "ARRAY types %s and %s cannot be matched",
                      b_typename(b, t), b_typename(b, at));
            b_pos(b, n->args.items[i]->location);
            return NULL;
        }
        t = c;
    }
    if (t == TYPE_UNKNOWN)
        t = TYPE_TEXT;
    for (int i = 0; i < n->args.n; i++)
        if (!(e->args[i] = b_coerce(b, e->args[i], t, -1, CAST_IMPLICIT, n->args.items[i]->location)))
            return NULL;
    e->optype = t;
    e->type = b_array_type(b, t, n->location);
    return e->type == TYPE_INVALID ? NULL : e;
}

/* x op ANY|ALL (array expression). An unknown literal on the right ('{a,b}') takes
 * the array type of x's type; x and the elements meet at their common type (the
 * elements are cast at run time when it is not the element type). */
static bexpr_t *b_any_array(binder_t *b, const ast_t *n, const scope_t *sc)
{
    int op = b_cmp_op(n->any.opname);
    if (op < 0) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "operator %s with ANY/ALL (array) is not supported",
                  n->any.opname);
        b_pos(b, n->location);
        return NULL;
    }
    bexpr_t *l = b_expr(b, n->any.l, sc), *r = l ? b_expr(b, n->any.r, sc) : NULL;
    if (!r)
        return NULL;
    if (r->type == TYPE_UNKNOWN) {
        type_oid_t at = b_array_type(b, l->type == TYPE_UNKNOWN ? TYPE_TEXT : l->type, n->location);
        if (at == TYPE_INVALID || !(r = b_coerce(b, r, at, -1, CAST_IMPLICIT, n->location)))
            return NULL;
    }
    if (!type_is_array(r->type)) {
        sql_error(b->err, "42809", "op ANY/ALL (array) requires array on right side");
        b_pos(b, n->location);
        return NULL;
    }
    type_oid_t elem = type_array_elem(r->type);
    type_oid_t t = l->type == TYPE_UNKNOWN || l->type == elem ? elem : type_common(l->type, elem);
    if (t == TYPE_INVALID || (t != l->type && l->type != TYPE_UNKNOWN && !type_can_cast(l->type, t, CAST_IMPLICIT)) ||
        (t != elem && !type_can_cast(elem, t, CAST_IMPLICIT))) {
        b_op_error(b, n->any.opname, l->type, elem, n->location);
        return NULL;
    }
    if (!(l = b_coerce(b, l, t, -1, CAST_IMPLICIT, n->location)))
        return NULL;
    bexpr_t *e = bx_new(b, BX_ANYARR, TYPE_BOOL, 2);
    if (!e)
        return NULL;
    e->op = op;
    e->flag = n->any.all;
    e->optype = t;
    e->args[0] = l;
    e->args[1] = r;
    return e;
}

static bexpr_t *b_expr_inner(binder_t *b, const ast_t *n, const scope_t *sc)
{
    bexpr_t *e;
    switch (n->kind) {
    case AST_CONST:
        return b_typed_const(b, n);
    case AST_COLREF:
        return b_colref(b, n, sc);
    case AST_PARAM: {
        int idx = n->param.number - 1;
        if (idx < 0) {
            sql_error(b->err, "42P02", "there is no parameter $%d", n->param.number);
            b_pos(b, n->location);
            return NULL;
        }
        if (b_param_room(b, idx) < 0)
            return NULL;
        if (idx >= b->nparams)
            b->nparams = idx + 1;
        if (!b->param_nodes[idx]) {
            type_oid_t t = b->param_types[idx];
            if (!(e = bx_new(b, BX_PARAM, t ? t : TYPE_UNKNOWN, 0)))
                return NULL;
            e->index = idx;
            b->param_nodes[idx] = e;
        }
        return b->param_nodes[idx];
    }
    case AST_OP:
        return b_op(b, n, sc);
    case AST_AND:
    case AST_OR:
    case AST_NOT: {
        bx_kind_t k = n->kind == AST_AND ? BX_AND : n->kind == AST_OR ? BX_OR : BX_NOT;
        if (!(e = bx_new(b, k, TYPE_BOOL, n->args.n)))
            return NULL;
        for (int i = 0; i < n->args.n; i++) {
            bexpr_t *a = b_expr(b, n->args.items[i], sc);
            if (!a)
                return NULL;
            if (a->type != TYPE_BOOL && a->type != TYPE_UNKNOWN && !(a->kind == BX_PARAM)) {
                sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "argument of %s must be type boolean, not type %s",
                          k == BX_AND ? "AND" : k == BX_OR ? "OR" : "NOT", b_typename(b, a->type));
                b_pos(b, n->args.items[i]->location);
                return NULL;
            }
            if (!(e->args[i] = b_coerce(b, a, TYPE_BOOL, -1, CAST_IMPLICIT, n->location)))
                return NULL;
        }
        return e;
    }
    case AST_FUNC:
        return b_func(b, n, sc);
    case AST_CAST:
        return b_cast(b, n, sc);
    case AST_NULLTEST:
    case AST_BOOLTEST: {
        bexpr_t *a = b_expr(b, n->test.arg, sc);
        if (!a)
            return NULL;
        if (n->kind == AST_BOOLTEST && !(a = b_coerce(b, a, TYPE_BOOL, -1, CAST_IMPLICIT, n->location)))
            return NULL;
        if (!(e = bx_new(b, n->kind == AST_NULLTEST ? BX_NULLTEST : BX_BOOLTEST, TYPE_BOOL, 1)))
            return NULL;
        e->args[0] = a;
        if (n->kind == AST_NULLTEST) {
            e->op = n->test.is_not;
        } else {
            e->op = n->test.booltest;
            e->flag = n->test.is_not;
        }
        return e;
    }
    case AST_CASE:
        return b_case(b, n, sc);
    case AST_COALESCE:
    case AST_MINMAX: {
        const ast_list_t *l = n->kind == AST_COALESCE ? &n->args : &n->minmax.args;
        if (!(e = bx_new(b, n->kind == AST_COALESCE ? BX_COALESCE : BX_MINMAX, TYPE_UNKNOWN, l->n)))
            return NULL;
        e->flag = n->kind == AST_MINMAX && n->minmax.greatest;
        for (int i = 0; i < l->n; i++)
            if (!(e->args[i] = b_expr(b, l->items[i], sc)))
                return NULL;
        e->type = b_common_list(b, e->args, l->n, n->kind == AST_COALESCE ? "COALESCE" : "GREATEST/LEAST",
                                n->location);
        return e->type == TYPE_INVALID ? NULL : e;
    }
    case AST_NULLIF:
    case AST_DISTINCT_FROM: {
        bexpr_t *l = b_expr(b, n->pair.l, sc), *r = l ? b_expr(b, n->pair.r, sc) : NULL;
        if (!r)
            return NULL;
        type_oid_t t = b_unify(b, &l, &r, n->kind == AST_NULLIF ? "=" : "IS DISTINCT FROM", n->location);
        if (t == TYPE_INVALID)
            return NULL;
        if (!(e = bx_new(b, n->kind == AST_NULLIF ? BX_NULLIF : BX_DISTINCT,
                         n->kind == AST_NULLIF ? t : TYPE_BOOL, 2)))
            return NULL;
        e->optype = t;
        e->flag = n->pair.is_not;
        e->args[0] = l;
        e->args[1] = r;
        return e;
    }
    case AST_IN: {
        int k = n->in.list.n;
        if (!(e = bx_new(b, BX_IN, TYPE_BOOL, k + 1)))
            return NULL;
        e->flag = n->in.is_not;
        if (!(e->args[0] = b_expr(b, n->in.arg, sc)))
            return NULL;
        for (int i = 0; i < k; i++)
            if (!(e->args[i + 1] = b_expr(b, n->in.list.items[i], sc)))
                return NULL;
        e->optype = b_common_list(b, e->args, k + 1, "IN", n->location);
        return e->optype == TYPE_INVALID ? NULL : e;
    }
    case AST_BETWEEN: {
        /* x BETWEEN a AND b  ==  x >= a AND x <= b (symmetric: either order) */
        bexpr_t *x = b_expr(b, n->between.arg, sc);
        bexpr_t *lo = x ? b_expr(b, n->between.lo, sc) : NULL;
        bexpr_t *hi = lo ? b_expr(b, n->between.hi, sc) : NULL;
        if (!hi)
            return NULL;
        bexpr_t *ge = b_cmp(b, BX_OP_GE, ">=", x, lo, n->location);
        bexpr_t *le = ge ? b_cmp(b, BX_OP_LE, "<=", x, hi, n->location) : NULL;
        if (!le)
            return NULL;
        e = bx_bool_and(b, ge, le);
        if (e && n->between.symmetric) {
            bexpr_t *ge2 = b_cmp(b, BX_OP_GE, ">=", x, hi, n->location);
            bexpr_t *le2 = ge2 ? b_cmp(b, BX_OP_LE, "<=", x, lo, n->location) : NULL;
            if (!le2)
                return NULL;
            bexpr_t *o = bx_new(b, BX_OR, TYPE_BOOL, 2);
            if (!o)
                return NULL;
            o->args[0] = e;
            o->args[1] = bx_bool_and(b, ge2, le2);
            e = o;
        }
        if (e && n->between.is_not) {
            bexpr_t *no = bx_new(b, BX_NOT, TYPE_BOOL, 1);
            if (!no)
                return NULL;
            no->args[0] = e;
            e = no;
        }
        return e;
    }
    case AST_LIKE: {
        int na = n->like.escape ? 3 : 2;
        if (!(e = bx_new(b, BX_LIKE, TYPE_BOOL, na)))
            return NULL;
        e->op = (n->like.is_not ? 1 : 0) | (n->like.ilike ? 2 : 0);
        const ast_t *parts[3] = {n->like.arg, n->like.pattern, n->like.escape};
        for (int i = 0; i < na; i++) {
            bexpr_t *a = b_expr(b, parts[i], sc);
            if (!a)
                return NULL;
            if (!is_string_cat(a->type) && a->kind != BX_PARAM) {
                b_op_error(b, n->like.ilike ? "~~*" : "~~", a->type, TYPE_UNKNOWN, n->location);
                return NULL;
            }
            if (!(e->args[i] = b_coerce(b, a, TYPE_TEXT, -1, CAST_IMPLICIT, n->location)))
                return NULL;
        }
        return e;
    }
    case AST_ANY: {
        /* x = ANY (ARRAY[...]) over a literal array: rewrite to IN (sorted probes) */
        const ast_t *r = n->any.r;
        if (!strcmp(n->any.opname, "=") && !n->any.all && r->kind == AST_ARRAY && r->args.n > 0) {
            ast_t tmp = {.kind = AST_IN, .location = n->location};
            tmp.in.arg = n->any.l;
            tmp.in.list = r->args;
            return b_expr(b, &tmp, sc);
        }
        return b_any_array(b, n, sc);
    }
    case AST_SUBLINK:
        return b_sublink(b, n, sc);
    case AST_SQLFN:
        return b_sqlfn(b, n);
    case AST_DEFAULT:
        sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "DEFAULT is not allowed in this context");
        b_pos(b, n->location);
        return NULL;
    case AST_ARRAY:
        return b_array_ctor(b, n, sc);
    case AST_GROUPING_FUNC:
        return b_grouping_func(b, n, sc);
    case AST_SUBSCRIPT: {
        bexpr_t *arr = b_expr(b, n->pair.l, sc), *idx = arr ? b_expr(b, n->pair.r, sc) : NULL;
        if (!idx)
            return NULL;
        if (!type_is_array(arr->type)) {
            sql_error(b->err, "42804", "cannot subscript type %s because it does not support subscripting",
                      b_typename(b, arr->type));
            b_pos(b, n->pair.l->location);
            return NULL;
        }
        if (!(idx = b_coerce(b, idx, TYPE_INT4, -1, CAST_IMPLICIT, n->pair.r->location)))
            return NULL;
        if (!(e = bx_new(b, BX_SUBSCRIPT, type_array_elem(arr->type), 2)))
            return NULL;
        e->args[0] = arr;
        e->args[1] = idx;
        return e;
    }
    default:
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "this expression is not supported");
        b_pos(b, n->location);
        return NULL;
    }
}

/* Whether e is a NULL constant, possibly under casts (a typed NULL literal). */
static bool bx_is_null_const(const bexpr_t *e)
{
    while (e->kind == BX_CAST)
        e = e->args[0];
    return e->kind == BX_CONST && e->isnull;
}

static bool bx_is_bool_const(const bexpr_t *e, bool v)
{
    return e->kind == BX_CONST && !e->isnull && e->type == TYPE_BOOL && (e->val.i64 != 0) == v;
}

/* The part of PostgreSQL's eval_const_expressions that decides whether an expression
 * is evaluated at all: a strict operator or function with a NULL constant argument is
 * NULL (so `x / 0 = NULL` never divides), NOT NULL is NULL, and AND with a FALSE
 * constant is FALSE, OR with a TRUE constant is TRUE. Runs bottom-up as expressions
 * are bound. Returns e or its folded replacement. */
static bexpr_t *bx_fold(binder_t *b, bexpr_t *e)
{
    bool strict;
    switch (e->kind) {
    case BX_CMP: case BX_ARITH: case BX_CONCAT: case BX_NOT: case BX_CAST: case BX_LIKE: case BX_REGEX:
        strict = true;
        break;
    case BX_FUNC:
        strict = e->fn->strict;
        break;
    case BX_IN:
        /* x IN (y) is x = y in PostgreSQL's parser, hence strict; a longer list is
         * x = ANY (ARRAY[...]), NULL when x is (a NULL element does not decide) */
        if (e->nargs != 2 && !bx_is_null_const(e->args[0]))
            return e;
        strict = true;
        break;
    case BX_NULLTEST:
        if (e->args[0]->kind != BX_CONST)
            return e;
        return bx_const(b, TYPE_BOOL, (datum_t){.i64 = e->args[0]->isnull != (e->op == 1)}, false);
    case BX_AND: case BX_OR:
        for (int i = 0; i < e->nargs; i++)
            if (bx_is_bool_const(e->args[i], e->kind == BX_OR))
                return bx_const(b, TYPE_BOOL, (datum_t){.i64 = e->kind == BX_OR}, false);
        return e;
    default:
        return e;
    }
    if (!strict || (e->kind == BX_CAST && e->args[0]->kind == BX_CONST))
        return e;   /* a cast of a NULL literal stays a typed NULL literal */
    for (int i = 0; i < e->nargs; i++) {
        if (bx_is_null_const(e->args[i])) {
            bexpr_t *c = bx_const(b, e->type, (datum_t){0}, true);
            if (c)
                c->typmod = e->typmod;
            return c;
        }
    }
    return e;
}

static bexpr_t *b_expr(binder_t *b, const ast_t *n, const scope_t *sc)
{
    if (++b->depth > LIMIT_SQL_EXPR_DEPTH) {
        sql_error(b->err, "54001", "stack depth limit exceeded");
        return NULL;
    }
    bool shift = n == b->shift_node;
    b->shift_on += shift;
    bexpr_t *e = b_expr_inner(b, n, sc);
    b->shift_on -= shift;
    b->depth--;
    return e ? bx_fold(b, e) : NULL;
}

/* A qualification (WHERE, JOIN ... ON) keeps only rows where it is true, so at its top
 * level, through AND and OR, a NULL constant is as good as FALSE: PostgreSQL's
 * canonicalize_qual treats it so, and then AND with it is FALSE without evaluating the
 * other arms (`WHERE x / 0 > 1 AND NULL` returns no rows, no error), and an OR drops
 * it. Returns e or its folded replacement. */
static bexpr_t *bx_qual_fold(binder_t *b, bexpr_t *e)
{
    if (bx_is_null_const(e))
        return bx_const(b, TYPE_BOOL, (datum_t){.i64 = 0}, false);
    if (e->kind != BX_AND && e->kind != BX_OR)
        return e;
    bool is_or = e->kind == BX_OR;
    int n = 0;
    for (int i = 0; i < e->nargs; i++) {
        bexpr_t *a = bx_qual_fold(b, e->args[i]);
        if (!a)
            return NULL;
        if (bx_is_bool_const(a, is_or))
            return a;                       /* AND ... FALSE, OR ... TRUE */
        if (!bx_is_bool_const(a, !is_or))   /* AND drops TRUE, OR drops FALSE */
            e->args[n++] = a;
    }
    if (n == 0)
        return bx_const(b, TYPE_BOOL, (datum_t){.i64 = !is_or}, false);
    if (n == 1)
        return e->args[0];
    e->nargs = n;
    return e;
}

static bexpr_t *b_where(binder_t *b, const ast_t *n, const scope_t *sc, const char *ctx)
{
    bool saved = b->agg_allowed;
    const char *saved_ctx = b->agg_context;
    b->agg_allowed = false;
    b->agg_context = ctx;
    bexpr_t *e = b_expr(b, n, sc);
    b->agg_allowed = saved;
    b->agg_context = saved_ctx;
    if (!e)
        return NULL;
    if (e->type != TYPE_BOOL && e->type != TYPE_UNKNOWN && e->kind != BX_PARAM) {
        sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "argument of %s must be type boolean, not type %s", ctx,
                  b_typename(b, e->type));
        b_pos(b, n->location);
        return NULL;
    }
    e = b_coerce(b, e, TYPE_BOOL, -1, CAST_IMPLICIT, n->location);
    return e ? bx_qual_fold(b, e) : NULL;
}

/* ---- FROM ---- */

static bsrc_t *src_new(binder_t *b, int ncols)
{
    bsrc_t *s = b_alloc(b, sizeof *s);
    if (!s)
        return NULL;
    s->ncols = ncols;
    s->names = b_alloc(b, (size_t)(ncols + 1) * sizeof(char *));
    s->types = b_alloc(b, (size_t)(ncols + 1) * sizeof(type_oid_t));
    s->typmods = b_alloc(b, (size_t)(ncols + 1) * sizeof(int32_t));
    return s->names && s->types && s->typmods ? s : NULL;
}

static int scope_add(binder_t *b, scope_t *sc, bsrc_t *s)
{
    if (sc->nsrc >= BIND_SOURCES_MAX) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "too many FROM items (at most %d)", BIND_SOURCES_MAX);
        return -1;
    }
    s->offset = sc->ncols;
    sc->src[sc->nsrc++] = s;
    sc->ncols += s->ncols;
    if (sc->ncols > LIMIT_SQL_COLUMNS) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "target lists can have at most %d entries", LIMIT_SQL_COLUMNS);
        return -1;
    }
    return 0;
}

/* Looks name up in one schema (by name); false when the schema does not exist or
 * has no such relation. */
static bool b_lookup_in(binder_t *b, const char *schema, size_t len, const char *name, const cat_table_t **t,
                        const pgcat_vtab_t **vt)
{
    if (len == 10 && !strncmp(schema, "pg_catalog", len))
        *vt = pgcat_lookup(CAT_NS_PG_CATALOG, name);
    else if (len == 18 && !strncmp(schema, "information_schema", len))
        *vt = pgcat_lookup(CAT_NS_INFO_SCHEMA, name);
    else if (len == 6 && !strncmp(schema, "public", len))
        *t = catalog_table_by_name(b->env->catalog, CAT_NS_PUBLIC, name);
    return *t || *vt;
}

/* Unqualified names follow search_path as PostgreSQL does: pg_catalog first unless
 * the path names it, then each listed schema that exists ("$user" and unknown
 * schemas are skipped: only pg_catalog, public and information_schema exist). */
static void b_lookup_path(binder_t *b, const char *name, const cat_table_t **t, const pgcat_vtab_t **vt)
{
    const char *path = b->env->search_path ? b->env->search_path : "\"$user\", public";
    bool explicit_catalog = false;
    for (int pass = 0; pass < 2; pass++) {
        const char *p = path;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            bool quoted = *p == '"';
            const char *start = p + quoted;
            const char *end = quoted ? strchr(start, '"') : start + strcspn(start, ", ");
            if (!end)
                end = start + strlen(start);
            size_t len = (size_t)(end - start);
            p = end + (quoted && *end);
            if (len == 0)
                continue;
            if (pass == 0) {
                explicit_catalog |= len == 10 && !strncmp(start, "pg_catalog", len);
                continue;
            }
            if (b_lookup_in(b, start, len, name, t, vt))
                return;
        }
        if (pass == 0 && !explicit_catalog && b_lookup_in(b, "pg_catalog", 10, name, t, vt))
            return;
    }
}

/* Resolves a relation: schema-qualified, or along search_path. */
static int b_relation(binder_t *b, const ast_t *rv, const cat_table_t **t, const pgcat_vtab_t **vt)
{
    const char *schema = rv->rangevar.schema, *name = rv->rangevar.name;
    *t = NULL;
    *vt = NULL;
    if (schema) {
        if (!strcmp(schema, "pg_catalog"))
            *vt = pgcat_lookup(CAT_NS_PG_CATALOG, name);
        else if (!strcmp(schema, "information_schema"))
            *vt = pgcat_lookup(CAT_NS_INFO_SCHEMA, name);
        else if (!strcmp(schema, "public"))
            *t = catalog_table_by_name(b->env->catalog, CAT_NS_PUBLIC, name);
        else {
            sql_error(b->err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", schema);
            b_pos(b, rv->location);
            return -1;
        }
    } else {
        b_lookup_path(b, name, t, vt);
    }
    if (*t && (*t)->relkind == 'S' && !b->target_lookup) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "selecting from sequence \"%s\" is not supported", name);
        b_pos(b, rv->location);
        return -1;
    }
    if (!*t && !*vt) {
        if (schema)
            sql_error(b->err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s.%s\" does not exist", schema, name);
        else
            sql_error(b->err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", name);
        b_pos(b, rv->location);
        return -1;
    }
    return 0;
}

static int b_apply_colaliases(binder_t *b, bsrc_t *s, const ast_list_t *al, const char *what)
{
    if (al->n > s->ncols) {
        sql_error(b->err, "42P10", "table \"%s\" has %d columns available but %d columns specified",
                  what, s->ncols, al->n);
        return -1;
    }
    for (int i = 0; i < al->n; i++)
        s->names[i] = al->items[i]->c.str;
    return 0;
}

static plan_t *b_scan_plan(binder_t *b, const cat_table_t *t)
{
    plan_t *p = pl_new(b, PL_SCAN, t->ncols);
    if (!p)
        return NULL;
    p->scan.table = t;
    if (!(p->scan.coltypes = plan_table_types(b->a, t)))
        return NULL;
    for (int i = 0; i < t->ncols; i++) {
        p->types[i] = t->cols[i].type;
        p->typmods[i] = t->cols[i].typmod;
    }
    return p;
}

static plan_t *b_from_item(binder_t *b, const ast_t *n, scope_t *sc);
static bexpr_t *bx_remap(binder_t *b, const bexpr_t *e, const int *map);

/* The column `name` visible without qualification among sources [s0, s1) of sc
 * (hidden USING inputs skipped): 0 found (*src, *col), -1 error (42703 / 42702). */
static int b_join_side_col(binder_t *b, const scope_t *sc, int s0, int s1, const char *name, const char *side,
                           bool natural, bsrc_t **src, int *col)
{
    int found = 0;
    for (int s = s0; s < s1; s++) {
        bsrc_t *x = sc->src[s];
        for (int c = 0; c < x->ncols; c++) {
            if (!x->names[c] || strcmp(x->names[c], name) != 0 || (x->hidden && x->hidden[c]))
                continue;
            if (found++) {
                sql_error(b->err, SQLSTATE_AMBIGUOUS_COLUMN, "common column name \"%s\" appears more than once in %s table",
                          name, side);
                return -1;
            }
            *src = x;
            *col = c;
        }
    }
    if (!found) {
        if (!natural)
            sql_error(b->err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" specified in USING clause does not exist in %s table",
                      name, side);
        return natural ? 1 : -1;
    }
    return 0;
}

/* NATURAL JOIN: the names visible on both sides, in left-side order. */
static int b_natural_cols(binder_t *b, const scope_t *inner, int lnsrc, const char ***out)
{
    int n = 0, cap = inner->ncols + 1;
    const char **names = b_alloc(b, (size_t)cap * sizeof(char *));
    if (!names)
        return -1;
    for (int s = 0; s < lnsrc; s++) {
        const bsrc_t *x = inner->src[s];
        for (int c = 0; c < x->ncols; c++) {
            if (!x->names[c] || (x->hidden && x->hidden[c]))
                continue;
            bool dup = false;
            for (int k = 0; k < n && !dup; k++)
                dup = !strcmp(names[k], x->names[c]);
            if (dup)
                continue;
            bsrc_t *rs;
            int rc_col;
            sql_error_t probe = {0}, *saved = b->err;
            b->err = &probe;
            int rc = b_join_side_col(b, inner, lnsrc, inner->nsrc, x->names[c], "right", true, &rs, &rc_col);
            b->err = saved;
            if (rc < 0) {
                *b->err = probe;
                return -1;
            }
            if (rc == 0)
                names[n++] = x->names[c];
        }
    }
    *out = names;
    return n;
}

static int b_hide(binder_t *b, bsrc_t *s, int c)
{
    if (!s->hidden && !(s->hidden = b_alloc(b, (size_t)s->ncols + 1)))
        return -1;
    s->hidden[c] = true;
    return 0;
}

/* Joins l ++ r (quals over that layout); RIGHT JOIN runs as a LEFT JOIN with the
 * sides swapped, then a projection restores l ++ r. */
static plan_t *b_join_plan(binder_t *b, ast_join_type_t type, plan_t *l, plan_t *r, bexpr_t *quals)
{
    int lcols = l->ncols, rcols = r->ncols;
    bool swap = type == AST_JOIN_RIGHT;
    plan_t *j = pl_new(b, PL_JOIN, lcols + rcols);
    if (!j)
        return NULL;
    j->join.left = type == AST_JOIN_LEFT || swap || type == AST_JOIN_FULL;
    j->join.full = type == AST_JOIN_FULL;
    if (!swap) {
        j->child = l;
        j->right = r;
        j->join.quals = quals;
        memcpy(j->types, l->types, (size_t)lcols * sizeof(type_oid_t));
        memcpy(j->types + lcols, r->types, (size_t)rcols * sizeof(type_oid_t));
        memcpy(j->typmods, l->typmods, (size_t)lcols * sizeof(int32_t));
        memcpy(j->typmods + lcols, r->typmods, (size_t)rcols * sizeof(int32_t));
        return j;
    }
    j->child = r;
    j->right = l;
    memcpy(j->types, r->types, (size_t)rcols * sizeof(type_oid_t));
    memcpy(j->types + rcols, l->types, (size_t)lcols * sizeof(type_oid_t));
    memcpy(j->typmods, r->typmods, (size_t)rcols * sizeof(int32_t));
    memcpy(j->typmods + rcols, l->typmods, (size_t)lcols * sizeof(int32_t));
    if (quals) {
        /* quals were bound over l ++ r; remap to r ++ l */
        int *map = b_alloc(b, (size_t)(lcols + rcols + 1) * sizeof(int));
        if (!map)
            return NULL;
        for (int i = 0; i < lcols + rcols; i++)
            map[i] = i < lcols ? i + rcols : i - lcols;
        if (!(j->join.quals = bx_remap(b, quals, map)))
            return NULL;
    }
    plan_t *p = pl_new(b, PL_PROJECT, lcols + rcols);
    if (!p || !(p->project.exprs = b_alloc(b, (size_t)(lcols + rcols) * sizeof(bexpr_t *))))
        return NULL;
    p->child = j;
    for (int i = 0; i < lcols + rcols; i++) {
        int from = i < lcols ? rcols + i : i - lcols;
        p->types[i] = j->types[from];
        p->typmods[i] = j->typmods[from];
        if (!(p->project.exprs[i] = bx_col(b, from, j->types[from], j->typmods[from], NULL)))
            return NULL;
    }
    return p;
}

/* JOIN / NATURAL JOIN / JOIN ... USING, with an optional alias. USING columns merge
 * as in PostgreSQL: the merged column (left's for INNER and LEFT, right's for RIGHT,
 * COALESCE of both for FULL) comes first in `SELECT *` and answers the unqualified
 * name, while the inputs' copies stay reachable qualified only (bsrc_t.hidden). An
 * alias replaces the inputs' names by one source over the visible columns. */
static plan_t *b_join(binder_t *b, const ast_t *n, scope_t *sc)
{
    scope_t *inner = b_alloc(b, sizeof *inner);
    if (!inner)
        return NULL;
    plan_t *l = b_from_item(b, n->join.l, inner);
    int lcols = inner->ncols, lnsrc = inner->nsrc;
    plan_t *r = l ? b_from_item(b, n->join.r, inner) : NULL;
    if (!r)
        return NULL;
    bool lateral = b->item_lateral;
    int rcols = inner->ncols - lcols;
    const char **ucols = (const char **)n->join.using_cols;
    int nu = n->join.nusing;
    if (n->join.natural && (nu = b_natural_cols(b, inner, lnsrc, &ucols)) < 0)
        return NULL;
    ast_join_type_t type = n->join.type;
    if (n->join.natural && nu == 0 && type == AST_JOIN_INNER)
        type = AST_JOIN_CROSS;
    bexpr_t *quals = NULL;
    if (n->join.quals && !(quals = b_where(b, n->join.quals, inner, "JOIN conditions")))
        return NULL;
    bexpr_t **merged = nu ? b_alloc(b, (size_t)nu * sizeof(bexpr_t *)) : NULL;
    if (nu && !merged)
        return NULL;
    for (int i = 0; i < nu; i++) {
        const char *c = ucols[i];
        for (int k = 0; k < i; k++)
            if (!strcmp(ucols[k], c)) {
                sql_error(b->err, "42701", "column name \"%s\" appears more than once in USING clause", c);
                return NULL;
            }
        bsrc_t *ls, *rs;
        int lc, rc;
        if (b_join_side_col(b, inner, 0, lnsrc, c, "left", false, &ls, &lc) < 0 ||
            b_join_side_col(b, inner, lnsrc, inner->nsrc, c, "right", false, &rs, &rc) < 0)
            return NULL;
        type_oid_t lt = ls->types[lc], rt = rs->types[rc];
        type_oid_t t = lt == rt ? lt : type_common(lt, rt);
        if (t == TYPE_INVALID) {
            sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "JOIN/USING types %s and %s cannot be matched",
                      b_typename(b, lt), b_typename(b, rt));
            return NULL;
        }
        int32_t tm = lt == rt && ls->typmods[lc] == rs->typmods[rc] ? ls->typmods[lc] : -1;
        bexpr_t *lx = bx_col(b, ls->offset + lc, lt, ls->typmods[lc], c);
        bexpr_t *rx = bx_col(b, rs->offset + rc, rt, rs->typmods[rc], c);
        bexpr_t *eq = lx && rx ? b_cmp(b, BX_OP_EQ, "=", lx, rx, -1) : NULL;
        if (!eq || !(quals = bx_bool_and(b, quals, eq)))
            return NULL;
        /* the merged value, over the join's l ++ r output */
        bexpr_t *ml = bx_col(b, ls->offset + lc, lt, ls->typmods[lc], c);
        bexpr_t *mr = bx_col(b, rs->offset + rc, rt, rs->typmods[rc], c);
        if (!ml || !mr || !(ml = b_coerce(b, ml, t, tm, CAST_IMPLICIT, -1)) ||
            !(mr = b_coerce(b, mr, t, tm, CAST_IMPLICIT, -1)))
            return NULL;
        if (type == AST_JOIN_FULL) {
            bexpr_t *co = bx_new(b, BX_COALESCE, t, 2);
            if (!co)
                return NULL;
            co->typmod = tm;
            co->args[0] = ml;
            co->args[1] = mr;
            co->colname = c;
            merged[i] = co;
        } else {
            merged[i] = type == AST_JOIN_RIGHT ? mr : ml;
        }
        if (b_hide(b, ls, lc) < 0 || b_hide(b, rs, rc) < 0)
            return NULL;
    }
    plan_t *j;
    if (lateral) {
        if (type == AST_JOIN_RIGHT || type == AST_JOIN_FULL) {
            sql_error(b->err, "42P10",
                      "the combining JOIN type must be INNER or LEFT for a LATERAL reference");
            return NULL;
        }
        if ((j = pl_new(b, PL_LATERAL, lcols + rcols))) {
            j->child = l;
            j->right = r;
            j->join.left = type == AST_JOIN_LEFT;
            j->join.quals = quals;
            memcpy(j->types, l->types, (size_t)lcols * sizeof(type_oid_t));
            memcpy(j->types + lcols, r->types, (size_t)rcols * sizeof(type_oid_t));
            memcpy(j->typmods, l->typmods, (size_t)lcols * sizeof(int32_t));
            memcpy(j->typmods + lcols, r->typmods, (size_t)rcols * sizeof(int32_t));
        }
    } else {
        j = b_join_plan(b, type, l, r, quals);
    }
    if (!j)
        return NULL;
    for (int s = 0; s < inner->nsrc; s++)
        inner->src[s]->plan = NULL;   /* no pushdown into joined items */
    if (nu == 0 && !n->join.alias) {
        for (int s = 0; s < inner->nsrc; s++)
            if (scope_add(b, sc, inner->src[s]) < 0)
                return NULL;
        return j;
    }
    /* output: merged ++ (l ++ r), or with an alias merged ++ the visible columns */
    int nout = nu;
    if (n->join.alias) {
        for (int s = 0; s < inner->nsrc; s++)
            for (int c = 0; c < inner->src[s]->ncols; c++)
                nout += inner->src[s]->names[c] && !(inner->src[s]->hidden && inner->src[s]->hidden[c]);
    } else {
        nout += lcols + rcols;
    }
    plan_t *p = pl_new(b, PL_PROJECT, nout);
    bsrc_t *js = p ? src_new(b, n->join.alias ? nout : nu) : NULL;
    if (!js || !(p->project.exprs = b_alloc(b, (size_t)(nout + 1) * sizeof(bexpr_t *))))
        return NULL;
    p->child = j;
    js->alias = n->join.alias;
    int k = 0;
    for (; k < nu; k++) {
        p->project.exprs[k] = merged[k];
        js->names[k] = ucols[k];
    }
    for (int s = 0; s < inner->nsrc; s++) {
        bsrc_t *x = inner->src[s];
        for (int c = 0; c < x->ncols; c++) {
            bool vis = x->names[c] && !(x->hidden && x->hidden[c]);
            if (n->join.alias && !vis)
                continue;
            int from = x->offset + c;
            if (!(p->project.exprs[k] = bx_col(b, from, j->types[from], j->typmods[from], x->names[c])))
                return NULL;
            if (n->join.alias)
                js->names[k] = x->names[c];
            k++;
        }
    }
    ASSERT(k == nout);
    for (int i = 0; i < nout; i++) {
        p->types[i] = p->project.exprs[i]->type;
        p->typmods[i] = p->project.exprs[i]->typmod;
        if (i < js->ncols) {
            js->types[i] = p->types[i];
            js->typmods[i] = p->typmods[i];
        }
    }
    if (n->join.alias) {
        if (b_apply_colaliases(b, js, &n->join.colaliases, js->alias) < 0)
            return NULL;
        return scope_add(b, sc, js) < 0 ? NULL : p;
    }
    if (scope_add(b, sc, js) < 0)
        return NULL;
    for (int s = 0; s < inner->nsrc; s++)
        if (scope_add(b, sc, inner->src[s]) < 0)
            return NULL;
    return p;
}

/* WITH ORDINALITY: column ncols of the function's plan and source is an int8
 * counting its rows from 1 (sized for it by the caller). */
static void b_series_ordinality(const ast_t *n, plan_t *p, bsrc_t *s, int ncols)
{
    if (!n->rangefunc.ordinality)
        return;
    p->series.ordinality = true;
    p->types[ncols] = s->types[ncols] = TYPE_INT8;
    s->typmods[ncols] = -1;
    s->names[ncols] = "ordinality";
}

/* unnest(array) in FROM: one row per element (a PL_SERIES in unnest mode). */
static plan_t *b_unnest(binder_t *b, const ast_t *n, scope_t *sc)
{
    const ast_t *f = n->rangefunc.func;
    scope_t empty = {0};
    bexpr_t *arg = b_expr(b, f->func.args.items[0], &empty);
    if (!arg)
        return NULL;
    if (!type_is_array(arg->type)) {
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function unnest(%s) does not exist",
                  b_typename(b, arg->type));
        b_pos(b, f->location);
        return NULL;
    }
    type_oid_t elem = type_array_elem(arg->type);
    int ord = n->rangefunc.ordinality;
    plan_t *p = pl_new(b, PL_SERIES, 1 + ord);
    bsrc_t *s = p ? src_new(b, 1 + ord) : NULL;
    if (!s)
        return NULL;
    p->types[0] = elem;
    p->series.unnest = arg;
    s->alias = n->rangefunc.alias ? n->rangefunc.alias : "unnest";
    s->names[0] = n->rangefunc.alias && !n->rangefunc.colaliases.n ? n->rangefunc.alias : "unnest";
    s->types[0] = elem;
    s->typmods[0] = -1;
    b_series_ordinality(n, p, s, 1);
    if (b_apply_colaliases(b, s, &n->rangefunc.colaliases, s->alias) < 0)
        return NULL;
    s->plan = p;
    return scope_add(b, sc, s) < 0 ? NULL : p;
}

/* The json set-returning functions (builtins_json.c): which arrays they unnest
 * and their column names (NULL: named after the function or its alias). */
static const struct { const char *name; bool keys, values; const char *col; } json_srfs[] = {
    {"jsonb_each", true, true, "value"}, {"jsonb_each_text", true, true, "value"},
    {"jsonb_array_elements", false, true, "value"}, {"jsonb_array_elements_text", false, true, "value"},
    {"jsonb_object_keys", true, false, NULL},
    {"json_each", true, true, "value"}, {"json_each_text", true, true, "value"},
    {"json_array_elements", false, true, "value"}, {"json_array_elements_text", false, true, "value"},
    {"json_object_keys", true, false, NULL},
};

static int json_srf_index(const char *name)
{
    for (size_t i = 0; i < sizeof json_srfs / sizeof json_srfs[0]; i++)
        if (!strcmp(json_srfs[i].name, name)) return (int)i;
    return -1;
}

/* jsonb_each(j) & co. in FROM: a PL_SERIES unnesting the key and/or value arrays
 * the functions "<name>:keys" / "<name>:values" return. */
static plan_t *b_json_srf(binder_t *b, const ast_t *n, scope_t *sc, int k)
{
    const ast_t *f = n->rangefunc.func;
    if (f->func.args.n != 1) {
        sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s with %d arguments does not exist", f->func.name,
                  f->func.args.n);
        b_pos(b, f->location);
        return NULL;
    }
    scope_t empty = {0};
    bexpr_t *arg = b_expr(b, f->func.args.items[0], &empty);
    if (!arg)
        return NULL;
    int ncols = json_srfs[k].keys + json_srfs[k].values;
    bexpr_t *arrs[2];
    int c = 0;
    char fname[64];
    for (int part = 0; part < 2; part++) {
        if (!(part == 0 ? json_srfs[k].keys : json_srfs[k].values)) continue;
        snprintf(fname, sizeof fname, "%s:%s", json_srfs[k].name, part == 0 ? "keys" : "values");
        bexpr_t *a1[1] = {arg};
        if (!(arrs[c++] = b_builtin(b, fname, 1, a1, f->location))) {
            /* the internal name must not leak: report the SQL function */
            sql_error_clear(b->err);
            sql_error(b->err, SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", json_srfs[k].name,
                      b_typename(b, arg->type));
            sql_error_hint(b->err, "No function matches the given name and argument types. "
                                   "You might need to add explicit type casts.");
            b_pos(b, f->location);
            return NULL;
        }
    }
    int ord = n->rangefunc.ordinality;
    plan_t *p = pl_new(b, PL_SERIES, ncols + ord);
    bsrc_t *s = p ? src_new(b, ncols + ord) : NULL;
    if (!s)
        return NULL;
    p->series.unnest = arrs[0];
    p->series.unnest2 = ncols == 2 ? arrs[1] : NULL;
    s->alias = n->rangefunc.alias ? n->rangefunc.alias : json_srfs[k].name;
    for (int i = 0; i < ncols; i++) {
        p->types[i] = s->types[i] = type_array_elem(arrs[i]->type);
        s->typmods[i] = -1;
    }
    if (ncols == 2) {
        s->names[0] = "key";
        s->names[1] = json_srfs[k].col;
    } else {
        s->names[0] = json_srfs[k].col ? json_srfs[k].col
                      : n->rangefunc.alias && !n->rangefunc.colaliases.n ? n->rangefunc.alias : json_srfs[k].name;
    }
    b_series_ordinality(n, p, s, ncols);
    if (b_apply_colaliases(b, s, &n->rangefunc.colaliases, s->alias) < 0)
        return NULL;
    s->plan = p;
    return scope_add(b, sc, s) < 0 ? NULL : p;
}

static plan_t *b_series(binder_t *b, const ast_t *n, scope_t *sc)
{
    const ast_t *f = n->rangefunc.func;
    if (f->kind == AST_FUNC && !strcmp(f->func.name, "unnest") && f->func.args.n == 1)
        return b_unnest(b, n, sc);
    if (f->kind == AST_FUNC && json_srf_index(f->func.name) >= 0)
        return b_json_srf(b, n, sc, json_srf_index(f->func.name));
    if (f->kind != AST_FUNC || strcmp(f->func.name, "generate_series") != 0 ||
        f->func.args.n < 2 || f->func.args.n > 3) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "only generate_series(start, stop[, step]), unnest(array) and the json set-returning functions are supported in FROM");
        b_pos(b, n->location);
        return NULL;
    }
    scope_t empty = {0};
    bexpr_t *args[3] = {NULL, NULL, NULL};
    type_oid_t t = TYPE_INT4;
    for (int i = 0; i < f->func.args.n; i++)
        if (!(args[i] = b_expr(b, f->func.args.items[i], &empty)))
            return NULL;
    if (f->func.args.n == 3 && (args[2]->type == TYPE_INTERVAL || builtins_time_type(args[0]->type) ||
                                builtins_time_type(args[1]->type))) {
        /* generate_series(timestamp[tz], timestamp[tz], interval): timestamp only when
         * no argument asks for more, else the preferred timestamptz */
        bool plain = args[0]->type == TYPE_TIMESTAMP || args[1]->type == TYPE_TIMESTAMP;
        for (int i = 0; i < 2; i++)
            if (args[i]->type != TYPE_TIMESTAMP && args[i]->type != TYPE_UNKNOWN)
                plain = false;
        t = plain ? TYPE_TIMESTAMP : TYPE_TIMESTAMPTZ;
        if (!(args[0] = b_coerce(b, args[0], t, -1, CAST_IMPLICIT, f->location)) ||
            !(args[1] = b_coerce(b, args[1], t, -1, CAST_IMPLICIT, f->location)) ||
            !(args[2] = b_coerce(b, args[2], TYPE_INTERVAL, -1, CAST_IMPLICIT, f->location)))
            return NULL;
        goto plan;
    }
    for (int i = 0; i < f->func.args.n; i++) {
        if (args[i]->type == TYPE_INT8)
            t = TYPE_INT8;
        else if (args[i]->type != TYPE_INT4 && args[i]->type != TYPE_INT2 && args[i]->type != TYPE_UNKNOWN &&
                 args[i]->type != TYPE_INVALID) {
            sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "generate_series over %s is not supported",
                      b_typename(b, args[i]->type));
            b_pos(b, f->location);
            return NULL;
        }
    }
    for (int i = 0; i < f->func.args.n; i++)
        if (!(args[i] = b_coerce(b, args[i], t, -1, CAST_IMPLICIT, f->location)))
            return NULL;
plan:;
    int ord = n->rangefunc.ordinality;
    plan_t *p = pl_new(b, PL_SERIES, 1 + ord);
    if (!p)
        return NULL;
    p->types[0] = t;
    p->series.start = args[0];
    p->series.stop = args[1];
    p->series.step = args[2];
    bsrc_t *s = src_new(b, 1 + ord);
    if (!s)
        return NULL;
    s->alias = n->rangefunc.alias ? n->rangefunc.alias : "generate_series";
    s->names[0] = n->rangefunc.alias && !n->rangefunc.colaliases.n ? n->rangefunc.alias : "generate_series";
    s->types[0] = t;
    s->typmods[0] = -1;
    b_series_ordinality(n, p, s, 1);
    if (b_apply_colaliases(b, s, &n->rangefunc.colaliases, s->alias) < 0)
        return NULL;
    s->plan = p;
    return scope_add(b, sc, s) < 0 ? NULL : p;
}

static plan_t *b_from_item_base(binder_t *b, const ast_t *n, scope_t *sc);

/* Records that the statement reads catalog relation oid (a view's dependencies). */
static int b_note_dep(binder_t *b, uint32_t oid)
{
    for (int i = 0; i < b->ndeps; i++)
        if (b->deps[i] == oid)
            return 0;
    if (b->ndeps >= LIMIT_SQL_VIEW_DEPS)
        return sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "a query can read at most %d distinct relations",
                         LIMIT_SQL_VIEW_DEPS);
    b->deps[b->ndeps++] = oid;
    return 0;
}

/* A view in FROM: its stored query is parsed again (into the statement arena) and
 * bound as a subquery in FROM aliased by the view's name, with the view's column
 * names (then the reference's own column aliases over them). A query that grew
 * columns since CREATE VIEW (`SELECT *` over a table that gained a column) keeps the
 * view's columns, as PostgreSQL fixes the list at CREATE. */
static plan_t *b_view(binder_t *b, const ast_t *rv, const cat_table_t *t, scope_t *sc)
{
    if (b->view_depth >= LIMIT_SQL_VIEW_DEPTH) {
        sql_error(b->err, "42P17", "infinite recursion detected in rules for relation \"%s\"", t->name);
        return NULL;
    }
    const ast_list_t *al = &rv->rangevar.colaliases;
    if (al->n > t->ncols) {
        sql_error(b->err, "42P10", "table \"%s\" has %d columns available but %d columns specified",
                  rv->rangevar.alias ? rv->rangevar.alias : t->name, t->ncols, al->n);
        return NULL;
    }
    parse_stmt_t *st;
    int nst;
    if (parse_sql(b->a, t->view_sql, strlen(t->view_sql), &st, &nst, b->err) < 0)
        return NULL;
    if (nst != 1 || st[0].ast->kind != AST_SELECT) {
        sql_error(b->err, SQLSTATE_INTERNAL_ERROR, "view \"%s\" has an invalid definition", t->name);
        return NULL;
    }
    ast_t *sub = b_alloc(b, sizeof *sub);
    ast_t *names = b_alloc(b, (size_t)t->ncols * sizeof *names);
    ast_t **items = b_alloc(b, (size_t)t->ncols * sizeof *items);
    if (!sub || !names || !items)
        return NULL;
    for (int i = 0; i < t->ncols; i++) {
        names[i].kind = AST_CONST;
        names[i].c.ctype = AST_C_STRING;
        names[i].c.str = i < al->n ? al->items[i]->c.str : t->cols[i].name;
        items[i] = &names[i];
    }
    sub->kind = AST_RANGESUB;
    sub->location = rv->location;
    sub->rangesub.select = st[0].ast;
    sub->rangesub.alias = rv->rangevar.alias ? rv->rangevar.alias : rv->rangevar.name;
    sub->rangesub.colaliases = (ast_list_t){t->ncols, items};
    /* positions inside the view's text mean nothing to the statement's client */
    b->view_depth++;
    b->view_ncols = t->ncols;
    plan_t *p = b_from_item_base(b, sub, sc);
    b->view_depth--;
    if (!p)
        b->err->position = 0;
    return p;
}

/* A FROM item; a LATERAL subquery or a function call is bound with the items
 * before it (sc so far) as its enclosing row, and b->item_lateral tells the caller
 * whether it used them (then it runs per row under PL_LATERAL). */
static plan_t *b_from_item(binder_t *b, const ast_t *n, scope_t *sc)
{
    bool may = n->kind == AST_RANGEFUNC || (n->kind == AST_RANGESUB && n->rangesub.lateral);
    b->item_lateral = false;
    if (!may || sc->nsrc == 0) {
        plan_t *p = b_from_item_base(b, n, sc);
        b->item_lateral = false;
        return p;
    }
    if (b->outer) {
        if (n->kind == AST_RANGEFUNC)
            return b_from_item_base(b, n, sc);    /* the enclosing query's row, as before */
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "LATERAL inside a correlated subquery is not supported");
        return NULL;
    }
    bool saved_used = b->outer_used;
    b->outer = sc;
    b->outer_used = false;
    int ncols = sc->ncols;
    plan_t *p = b_from_item_base(b, n, sc);
    bool used = b->outer_used;
    b->outer = NULL;
    b->outer_used = saved_used;
    b->item_lateral = p && used;
    ASSERT(!p || !used || sc->ncols > ncols);
    return p;
}

static plan_t *b_from_item_base(binder_t *b, const ast_t *n, scope_t *sc)
{
    if (n->kind == AST_JOIN)
        return b_join(b, n, sc);
    if (n->kind == AST_RANGEFUNC) {
        plan_t *p = b_series(b, n, sc);
        if (p && sc->src[sc->nsrc - 1]->ncols == 1)
            sc->src[sc->nsrc - 1]->scalar_func = true;
        if (p && n->rangefunc.hide_cols)
            for (int c = 0; c < sc->src[sc->nsrc - 1]->ncols; c++)
                if (b_hide(b, sc->src[sc->nsrc - 1], c) < 0)
                    return NULL;
        return p;
    }
    if (n->kind == AST_CTEREF)
        return bind_cte_ref(b, n, sc);
    if (n->kind == AST_RANGESUB) {
        int nvis;
        const char **names;
        sql_coldesc_t *descs;
        int saved_naggs = b->naggs, saved_cap = b->aggcap;
        plan_agg_t *saved_aggs = b->aggs;
        int keep = b->view_ncols;
        b->view_ncols = 0;
        b->naggs = b->aggcap = 0;
        b->aggs = NULL;
        plan_t *p = b_select(b, &n->rangesub.select->select, &nvis, &names, &descs);
        if (p && keep && nvis > keep)
            nvis = keep;     /* a view's query that grew columns since CREATE VIEW */
        b->naggs = saved_naggs;
        b->aggcap = saved_cap;
        b->aggs = saved_aggs;
        if (!p)
            return NULL;
        if (p->ncols != nvis) {
            /* drop hidden sort columns */
            plan_t *pr = pl_new(b, PL_PROJECT, nvis);
            if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)nvis * sizeof(bexpr_t *))))
                return NULL;
            pr->child = p;
            for (int i = 0; i < nvis; i++) {
                pr->types[i] = p->types[i];
                pr->typmods[i] = p->typmods[i];
                pr->project.exprs[i] = bx_col(b, i, p->types[i], p->typmods[i], NULL);
            }
            p = pr;
        }
        bsrc_t *s = src_new(b, nvis);
        if (!s)
            return NULL;
        if (!n->rangesub.alias) {
            sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "subquery in FROM must have an alias");
            return NULL;
        }
        s->alias = n->rangesub.alias;
        for (int i = 0; i < nvis; i++) {
            s->names[i] = names[i];
            s->types[i] = p->types[i];
            s->typmods[i] = p->typmods[i];
        }
        if (b_apply_colaliases(b, s, &n->rangesub.colaliases, s->alias) < 0)
            return NULL;
        return scope_add(b, sc, s) < 0 ? NULL : p;
    }
    ASSERT(n->kind == AST_RANGEVAR);
    const cat_table_t *t;
    const pgcat_vtab_t *vt;
    if (b_relation(b, n, &t, &vt) < 0)
        return NULL;
    if (t && b->view_depth == 0 && b_note_dep(b, t->oid) < 0)
        return NULL;     /* only the statement's own references: a view records what it reads */
    if (t && t->relkind == 'v')
        return b_view(b, n, t, sc);
    bsrc_t *s;
    plan_t *p;
    if (t) {
        if (!(s = src_new(b, t->ncols)) || !(p = b_scan_plan(b, t)))
            return NULL;
        for (int i = 0; i < t->ncols; i++) {
            s->names[i] = t->cols[i].dropped ? NULL : t->cols[i].name;
            s->types[i] = t->cols[i].type;
            s->typmods[i] = t->cols[i].typmod;
        }
        s->table_oid = t->oid;
    } else {
        if (!(s = src_new(b, vt->ncols)) || !(p = pl_new(b, PL_VTAB, vt->ncols)))
            return NULL;
        p->vtab.vt = vt;
        for (int i = 0; i < vt->ncols; i++) {
            s->names[i] = vt->cols[i].name;
            s->types[i] = p->types[i] = vt->cols[i].type;
            s->typmods[i] = -1;
        }
        s->table_oid = vt->oid;
    }
    s->alias = n->rangevar.alias ? n->rangevar.alias : n->rangevar.name;
    if (b_apply_colaliases(b, s, &n->rangevar.colaliases, s->alias) < 0)
        return NULL;
    s->plan = p;
    return scope_add(b, sc, s) < 0 ? NULL : p;
}

/* Splits an AND tree into conjuncts. */
static int b_conjuncts(binder_t *b, bexpr_t *e, bexpr_t **out, int max)
{
    if (!e)
        return 0;
    if (e->kind == BX_AND) {
        int n = 0;
        for (int i = 0; i < e->nargs; i++) {
            int k = b_conjuncts(b, e->args[i], out + n, max - n);
            if (k < 0)
                return -1;
            n += k;
        }
        return n;
    }
    if (max < 1) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "too many AND terms in WHERE");
        return -1;
    }
    out[0] = e;
    return 1;
}

static bool bx_has_subq(const bexpr_t *e)
{
    if (e->kind == BX_SUBQ)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_subq(e->args[i]))
            return true;
    return false;
}

/* Whether e runs a correlated subquery (coordinator only: never pushed to shards). */
static bool bx_has_corr(const bexpr_t *e)
{
    if (e->kind == BX_SUBQ && e->flag)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_corr(e->args[i]))
            return true;
    return false;
}

/* Finds `pkcol = <row-free expr>` conjuncts fixing every PK column; fills key[]. */
static bool b_point_key(binder_t *b, const cat_table_t *t, bexpr_t **conj, int nconj, int offset,
                        bexpr_t **key)
{
    if (t->npk == 0)
        return false;
    for (int k = 0; k < t->npk; k++) {
        int colidx = -1;
        for (int c = 0; c < t->ncols; c++)
            if (t->cols[c].attnum == t->pk_attnums[k])
                colidx = c;
        key[k] = NULL;
        for (int i = 0; i < nconj && !key[k]; i++) {
            bexpr_t *e = conj[i];
            if (e->kind != BX_CMP || e->op != BX_OP_EQ || e->optype != t->cols[colidx].type)
                continue;
            for (int side = 0; side < 2; side++) {
                bexpr_t *c = e->args[side], *v = e->args[1 - side];
                if (c->kind == BX_COL && c->index == offset + colidx && !bx_has_cols(v) &&
                    !bx_has_volatile(v) && !bx_has_subq(v)) {
                    key[k] = v;
                    break;
                }
            }
        }
        if (!key[k])
            return false;
    }
    return true;
}

/* Index Scan choice, without statistics (sql/README.md "Secondary indexes"): an
 * index qualifies when the conjuncts fix every one of its columns with an equality
 * to a row-free value of the column's type; the first qualifying UNIQUE index wins,
 * else the qualifying index with the most columns (creation order breaks ties). The
 * conjuncts stay in the filter, which the fetched rows are checked against. */
static int bind_index_scan(binder_t *b, const cat_table_t *t, bexpr_t **conj, int nconj, const cat_index_t **ix_out,
                           bexpr_t ***key_out)
{
    const cat_index_t *best = NULL;
    bexpr_t **best_key = NULL;
    for (int k = 0; k < t->nindexes; k++) {
        const cat_index_t *ix = &t->indexes[k];
        if (best && best->unique)
            break;
        bexpr_t **key = b_alloc(b, (size_t)(ix->ncols + 1) * sizeof(bexpr_t *));
        if (!key)
            return -1;
        bool all = true;
        for (int i = 0; i < ix->ncols && all; i++) {
            int colidx = -1;
            for (int c = 0; c < t->ncols; c++)
                if (t->cols[c].attnum == ix->attnums[i])
                    colidx = c;
            key[i] = NULL;
            for (int j = 0; j < nconj && !key[i]; j++) {
                bexpr_t *e = conj[j];
                if (e->kind != BX_CMP || e->op != BX_OP_EQ || e->optype != t->cols[colidx].type)
                    continue;
                for (int side = 0; side < 2; side++) {
                    bexpr_t *c = e->args[side], *v = e->args[1 - side];
                    if (c->kind == BX_COL && c->index == colidx && !bx_has_cols(v) && !bx_has_volatile(v) &&
                        !bx_has_subq(v)) {
                        key[i] = v;
                        break;
                    }
                }
            }
            all = key[i] != NULL;
        }
        if (all && (!best || ix->unique || ix->ncols > best->ncols)) {
            best = ix;
            best_key = key;
        }
    }
    *ix_out = best;
    *key_out = best_key;
    return 0;
}

/* Without a qualifying equality: a range (<, <=, >, >=, BETWEEN, or = on the leading
 * column of a longer index) on the leading column of an index whose key order is the
 * type's (the first such index in creation order). */
static void bind_index_range(const cat_table_t *t, bexpr_t **conj, int nconj, plan_t *p)
{
    for (int k = 0; k < t->nindexes; k++) {
        const cat_index_t *ix = &t->indexes[k];
        int colidx = -1;
        for (int c = 0; c < t->ncols; c++)
            if (t->cols[c].attnum == ix->attnums[0])
                colidx = c;
        if (colidx < 0 || !secidx_type_ordered(t->cols[colidx].type))
            continue;
        bexpr_t *lo = NULL, *hi = NULL;
        bool lo_incl = false, hi_incl = false;
        for (int j = 0; j < nconj; j++) {
            bexpr_t *e = conj[j];
            if (e->kind != BX_CMP || e->op == BX_OP_NE || e->optype != t->cols[colidx].type)
                continue;
            for (int side = 0; side < 2; side++) {
                bexpr_t *c = e->args[side], *v = e->args[1 - side];
                if (c->kind != BX_COL || c->index != colidx || bx_has_cols(v) || bx_has_volatile(v) ||
                    bx_has_subq(v))
                    continue;
                int op = e->op;
                if (op == BX_OP_EQ) {   /* the leading column of a longer index: [v, v] */
                    if (!lo && !hi) {
                        lo = hi = v;
                        lo_incl = hi_incl = true;
                    }
                    break;
                }
                if (side == 1)          /* v op col: flip to col op' v */
                    op = op == BX_OP_LT ? BX_OP_GT : op == BX_OP_LE ? BX_OP_GE : op == BX_OP_GT ? BX_OP_LT : BX_OP_LE;
                if ((op == BX_OP_GT || op == BX_OP_GE) && !lo) {
                    lo = v;
                    lo_incl = op == BX_OP_GE;
                } else if ((op == BX_OP_LT || op == BX_OP_LE) && !hi) {
                    hi = v;
                    hi_incl = op == BX_OP_LE;
                }
                break;
            }
        }
        if (!lo && !hi)
            continue;
        p->scan.index = ix;
        p->scan.ixlo = lo;
        p->scan.ixhi = hi;
        p->scan.ixlo_incl = lo_incl;
        p->scan.ixhi_incl = hi_incl;
        return;
    }
}

/* Builds the FROM/WHERE part: joins left-deep over the FROM items, WHERE conjuncts
 * pushed into single-table scans or attached to the lowest join that covers them. */
/* Copies e with every column index i replaced by map[i] (a join order other than the
 * FROM order puts the sources' columns at other positions). */
static bexpr_t *bx_remap(binder_t *b, const bexpr_t *e, const int *map)
{
    if (e->kind == BX_PARAM)
        return (bexpr_t *)e;    /* shared, as in bx_shift */
    bexpr_t *c = b_alloc(b, sizeof *c);
    if (!c)
        return NULL;
    *c = *e;
    if (e->kind == BX_COL) {
        ASSERT(map[e->index] >= 0);
        c->index = map[e->index];
    }
    if (e->nargs) {
        if (!(c->args = b_alloc(b, (size_t)e->nargs * sizeof(bexpr_t *))))
            return NULL;
        for (int i = 0; i < e->nargs; i++)
            if (!(c->args[i] = bx_remap(b, e->args[i], map)))
                return NULL;
    }
    return c;
}

static uint64_t b_item_mask(const int *item_first_src, int i)
{
    uint64_t m = 0;
    for (int s = item_first_src[i]; s < item_first_src[i + 1]; s++)
        m |= UINT64_C(1) << s;
    return m;
}

/* Picks the FROM item to join next: the first not yet joined that an unused,
 * subquery-free conjunct connects with the `covered` sources; else the first not yet
 * joined (a cross join). */
static int b_join_pick(const scope_t *sc, const int *item_first_src, int nitems, const bool *joined,
                       uint64_t covered, bexpr_t **conj, int nconj, const bool *used)
{
    int first = -1;
    for (int i = 0; i < nitems; i++) {
        if (joined[i])
            continue;
        if (first < 0)
            first = i;
        uint64_t im = b_item_mask(item_first_src, i);
        for (int k = 0; k < nconj; k++) {
            if (used[k] || bx_has_subq(conj[k]))
                continue;
            uint64_t m = bx_srcmask(conj[k], sc);
            if ((m & im) && (m & covered) && !(m & ~(covered | im)))
                return i;
        }
    }
    return first;
}

/* Joins the FROM items (inner joins, the comma list) left-deep. The order starts at
 * the first item and greedily takes next an item connected to the joined ones by a
 * WHERE conjunct, so `FROM t1, t2, t3 WHERE t1.a = t3.a AND t3.b = t2.b` joins t3
 * before t2 on hash keys instead of building t1 x t2. Every conjunct whose sources
 * are all joined attaches to the lowest join covering them (remapped to that join's
 * column layout). When the order is not the FROM order, a projection restores the
 * FROM-order layout the rest of the query was bound against. */
static plan_t *b_join_items(binder_t *b, const scope_t *sc, plan_t **items, const int *item_first_src,
                            int nitems, bexpr_t **conj, int nconj, bool *used)
{
    int total = 0;
    for (int i = 0; i < nitems; i++)
        total += items[i]->ncols;
    int *map = b_alloc(b, (size_t)(total + 1) * sizeof(int));
    bool *joined = b_alloc(b, (size_t)nitems + 1);
    if (!map || !joined)
        return NULL;
    for (int c = 0; c < total; c++)
        map[c] = -1;
    plan_t *cur = items[0];
    joined[0] = true;
    int ncols = items[0]->ncols;
    for (int c = 0; c < ncols; c++)
        map[c] = c;
    uint64_t covered = b_item_mask(item_first_src, 0);
    bool reordered = false;
    for (int step = 1; step < nitems; step++) {
        int i = b_join_pick(sc, item_first_src, nitems, joined, covered, conj, nconj, used);
        ASSERT(i > 0 && !joined[i] && item_first_src[i] < item_first_src[i + 1]);
        reordered |= i != step;
        joined[i] = true;
        covered |= b_item_mask(item_first_src, i);
        int rcols = items[i]->ncols, start = sc->src[item_first_src[i]]->offset;
        ASSERT(start + rcols <= total);
        for (int c = 0; c < rcols; c++)
            map[start + c] = ncols + c;
        plan_t *j = pl_new(b, PL_JOIN, ncols + rcols);
        if (!j)
            return NULL;
        j->child = cur;
        j->right = items[i];
        memcpy(j->types, cur->types, (size_t)ncols * sizeof(type_oid_t));
        memcpy(j->types + ncols, items[i]->types, (size_t)rcols * sizeof(type_oid_t));
        memcpy(j->typmods, cur->typmods, (size_t)ncols * sizeof(int32_t));
        memcpy(j->typmods + ncols, items[i]->typmods, (size_t)rcols * sizeof(int32_t));
        for (int k = 0; k < nconj; k++) {
            if (used[k] || bx_has_subq(conj[k]))
                continue;
            uint64_t m = bx_srcmask(conj[k], sc);
            if ((m & ~covered) != 0)
                continue;
            bexpr_t *q = bx_remap(b, conj[k], map);
            if (!q || !(j->join.quals = bx_bool_and(b, j->join.quals, q)))
                return NULL;
            used[k] = true;
        }
        cur = j;
        ncols += rcols;
    }
    ASSERT(ncols == total);
    if (!reordered)
        return cur;
    plan_t *pr = pl_new(b, PL_PROJECT, total);
    if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)total * sizeof(bexpr_t *))))
        return NULL;
    pr->child = cur;
    for (int c = 0; c < total; c++) {
        pr->types[c] = cur->types[map[c]];
        pr->typmods[c] = cur->typmods[map[c]];
        if (!(pr->project.exprs[c] = bx_col(b, map[c], pr->types[c], pr->typmods[c], NULL)))
            return NULL;
    }
    return pr;
}

/* FROM items when some are LATERAL: joined in FROM order (a lateral item needs the
 * ones before it), each WHERE conjunct attached to the first join covering it. */
static plan_t *b_lateral_items(binder_t *b, const scope_t *sc, plan_t **items, const int *item_first_src,
                               const bool *lateral, int nitems, bexpr_t **conj, int nconj, bool *used)
{
    plan_t *cur = items[0];
    uint64_t covered = b_item_mask(item_first_src, 0);
    for (int i = 1; i < nitems; i++) {
        int lcols = cur->ncols, rcols = items[i]->ncols;
        plan_t *j = pl_new(b, lateral[i] ? PL_LATERAL : PL_JOIN, lcols + rcols);
        if (!j)
            return NULL;
        j->child = cur;
        j->right = items[i];
        memcpy(j->types, cur->types, (size_t)lcols * sizeof(type_oid_t));
        memcpy(j->types + lcols, items[i]->types, (size_t)rcols * sizeof(type_oid_t));
        memcpy(j->typmods, cur->typmods, (size_t)lcols * sizeof(int32_t));
        memcpy(j->typmods + lcols, items[i]->typmods, (size_t)rcols * sizeof(int32_t));
        covered |= b_item_mask(item_first_src, i);
        for (int k = 0; k < nconj; k++) {
            if (used[k] || bx_has_subq(conj[k]) || (bx_srcmask(conj[k], sc) & ~covered))
                continue;
            if (!(j->join.quals = bx_bool_and(b, j->join.quals, conj[k])))
                return NULL;
            used[k] = true;
        }
        cur = j;
    }
    return cur;
}

static plan_t *b_from_where(binder_t *b, const ast_select_t *q, scope_t *sc)
{
    if (q->from.n == 0) {
        plan_t *p = pl_new(b, PL_VALUES, 0);
        if (!p || !(p->values.rows = b_alloc(b, sizeof(bexpr_t **))))
            return NULL;
        p->values.nrows = 1;
        p->values.rows[0] = NULL;
        if (q->where) {
            bexpr_t *w = b_where(b, q->where, sc, "WHERE");
            if (!w)
                return NULL;
            plan_t *f = pl_new(b, PL_FILTER, 0);
            if (!f)
                return NULL;
            f->child = p;
            f->filter.pred = w;
            return f;
        }
        return p;
    }
    int nitems = q->from.n;
    plan_t **items = b_alloc(b, (size_t)nitems * sizeof(plan_t *));
    int *item_first_src = b_alloc(b, (size_t)(nitems + 1) * sizeof(int));
    if (!items || !item_first_src)
        return NULL;
    bool *lateral = b_alloc(b, (size_t)nitems + 1);
    bool any_lateral = false;
    if (!lateral)
        return NULL;
    for (int i = 0; i < nitems; i++) {
        item_first_src[i] = sc->nsrc;
        if (!(items[i] = b_from_item(b, q->from.items[i], sc)))
            return NULL;
        lateral[i] = b->item_lateral;
        any_lateral |= lateral[i];
    }
    item_first_src[nitems] = sc->nsrc;
    bexpr_t *where = NULL;
    if (q->where && !(where = b_where(b, q->where, sc, "WHERE")))
        return NULL;
    bexpr_t *conj[LIMIT_BIND_CONJUNCTS];
    int nconj = b_conjuncts(b, where, conj, LIMIT_BIND_CONJUNCTS);
    if (nconj < 0)
        return NULL;
    bool *used = b_alloc(b, (size_t)(nconj + 1));
    if (!used)
        return NULL;
    /* push single-source conjuncts into plain table scans */
    for (int i = 0; i < nconj; i++) {
        uint64_t m = bx_srcmask(conj[i], sc);
        if (m == 0 || (m & (m - 1)) != 0 || bx_has_corr(conj[i]))
            continue;
        int s = __builtin_ctzll(m);
        bsrc_t *src = sc->src[s];
        if (!src->plan || src->plan->kind != PL_SCAN)
            continue;
        bexpr_t *sh = bx_shift(b, conj[i], -src->offset);
        if (!sh)
            return NULL;
        src->plan->scan.filter = bx_bool_and(b, src->plan->scan.filter, sh);
        used[i] = true;
    }
    /* point gets: a scan whose filter fixes the whole primary key */
    for (int s = 0; s < sc->nsrc; s++) {
        plan_t *p = sc->src[s]->plan;
        if (!p || p->kind != PL_SCAN || !p->scan.filter)
            continue;
        bexpr_t *pc[LIMIT_BIND_CONJUNCTS];
        int npc = b_conjuncts(b, p->scan.filter, pc, LIMIT_BIND_CONJUNCTS);
        const cat_table_t *t = p->scan.table;
        bexpr_t **key = b_alloc(b, (size_t)(t->npk + 1) * sizeof(bexpr_t *));
        if (npc < 0 || !key)
            return NULL;
        if (b_point_key(b, t, pc, npc, 0, key)) {
            p->scan.nkey = t->npk;
            p->scan.key = key;
        } else if (bind_index_scan(b, t, pc, npc, &p->scan.index, &p->scan.ixkey) < 0) {
            return NULL;
        } else if (!p->scan.index) {
            bind_index_range(t, pc, npc, p);
        }
    }
    plan_t *cur = any_lateral ? b_lateral_items(b, sc, items, item_first_src, lateral, nitems, conj, nconj, used)
                              : b_join_items(b, sc, items, item_first_src, nitems, conj, nconj, used);
    if (!cur)
        return NULL;
    bexpr_t *rest = NULL;
    for (int k = 0; k < nconj; k++)
        if (!used[k])
            rest = bx_bool_and(b, rest, conj[k]);
    if (rest) {
        plan_t *f = pl_new(b, PL_FILTER, cur->ncols);
        if (!f)
            return NULL;
        memcpy(f->types, cur->types, (size_t)cur->ncols * sizeof(type_oid_t));
        memcpy(f->typmods, cur->typmods, (size_t)cur->ncols * sizeof(int32_t));
        f->child = cur;
        f->filter.pred = rest;
        cur = f;
    }
    return cur;
}

/* ---- join key extraction (hash joins) ---- */

static int b_join_keys(binder_t *b, plan_t *p)
{
    if (p->child)
        if (b_join_keys(b, p->child) < 0)
            return -1;
    if (p->right)
        if (b_join_keys(b, p->right) < 0)
            return -1;
    if (p->kind != PL_JOIN || !p->join.quals)
        return 0;
    int lcols = p->child->ncols;
    bexpr_t *conj[LIMIT_BIND_CONJUNCTS];
    int n = b_conjuncts(b, p->join.quals, conj, LIMIT_BIND_CONJUNCTS);
    if (n < 0)
        return -1;
    bexpr_t **lk = b_alloc(b, (size_t)(n + 1) * sizeof(bexpr_t *));
    bexpr_t **rk = b_alloc(b, (size_t)(n + 1) * sizeof(bexpr_t *));
    type_oid_t *kt = b_alloc(b, (size_t)(n + 1) * sizeof(type_oid_t));
    if (!lk || !rk || !kt)
        return -1;
    int nk = 0;
    bexpr_t *rest = NULL;
    for (int i = 0; i < n; i++) {
        bexpr_t *e = conj[i];
        bool taken = false;
        if (e->kind == BX_CMP && e->op == BX_OP_EQ && !bx_has_subq(e)) {
            /* each side must reference only one join side */
            for (int side = 0; side < 2 && !taken; side++) {
                bexpr_t *x = e->args[side], *y = e->args[1 - side];
                scope_t ls = {0}, rs = {0};
                bsrc_t lsrc = {.offset = 0, .ncols = lcols}, rsrc = {.offset = lcols, .ncols = p->ncols - lcols};
                ls.nsrc = 1; ls.src[0] = &lsrc;
                rs.nsrc = 1; rs.src[0] = &rsrc;
                uint64_t xm_l = bx_srcmask(x, &ls), xm_r = bx_srcmask(x, &rs);
                uint64_t ym_l = bx_srcmask(y, &ls), ym_r = bx_srcmask(y, &rs);
                if (xm_l && !xm_r && ym_r && !ym_l) {
                    lk[nk] = x;
                    if (!(rk[nk] = bx_shift(b, y, -lcols)))
                        return -1;
                    kt[nk++] = e->optype;
                    taken = true;
                }
            }
        }
        if (!taken)
            rest = bx_bool_and(b, rest, e);
    }
    if (nk) {
        p->join.nkeys = nk;
        p->join.lkeys = lk;
        p->join.rkeys = rk;
        p->join.keytypes = kt;
        p->join.quals = rest;
    } else if (p->join.full && rest && rest->kind != BX_CONST) {
        /* PostgreSQL runs FULL JOIN only as a merge or hash join: some clause must be
         * an equality between the two sides (constant conditions are fine) */
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "FULL JOIN is only supported with merge-joinable or hash-joinable join conditions");
        return -1;
    }
    return 0;
}

/* ---- aggregation rewrite ---- */

static bexpr_t *b_agg_rewrite(binder_t *b, bexpr_t *e, bexpr_t **groups, int ngroup)
{
    if (e->kind == BX_GROUPING)
        return b_grouping_value(b, e);
    for (int g = 0; g < ngroup; g++)
        if (bx_equal(e, groups[g]))
            return bx_col(b, g, e->type, e->typmod, e->colname);
    for (int g = 0; g < b->gs_nall; g++)
        if (!(b->gs_mask & (UINT64_C(1) << g)) && bx_equal(e, b->gs_all[g]))
            return bx_const(b, e->type, (datum_t){.i64 = 0}, true);
    if (e->kind == BX_AGGREF)
        return bx_col(b, ngroup + e->index, e->type, -1, NULL);
    if (e->kind == BX_COL) {
        sql_error(b->err, SQLSTATE_GROUPING_ERROR,
                  "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function",
                  e->colname ? e->colname : "?");
        return NULL;
    }
    if (e->kind == BX_SUBQ && e->flag) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "correlated subqueries in an aggregating query are not supported");
        return NULL;
    }
    if (e->kind == BX_PARAM || e->nargs == 0)
        return e;
    bexpr_t *c = b_alloc(b, sizeof *c);
    if (!c)
        return NULL;
    *c = *e;
    if (!(c->args = b_alloc(b, (size_t)e->nargs * sizeof(bexpr_t *))))
        return NULL;
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = b_agg_rewrite(b, e->args[i], groups, ngroup)))
            return NULL;
    return c;
}

static bool bx_has_agg(const bexpr_t *e)
{
    if (e->kind == BX_AGGREF || e->kind == BX_GROUPING)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bx_has_agg(e->args[i]))
            return true;
    return false;
}

/* ---- SELECT ---- */

/* Whether e names an output column strongly (FigureColname's strength 2): a cast
 * of it keeps that name; else a cast is named after its type. */
static bool b_target_strong(const ast_t *e)
{
    switch (e->kind) {
    case AST_COLREF: case AST_FUNC: case AST_ARRAY: case AST_COALESCE: case AST_MINMAX: case AST_NULLIF:
    case AST_SQLFN: case AST_GROUPING_FUNC: case AST_SUBLINK:
        return true;
    case AST_CAST: return b_target_strong(e->cast.arg);
    case AST_SUBSCRIPT: return b_target_strong(e->pair.l);
    default: return false;
    }
}

static const char *b_target_name(const ast_t *e)
{
    switch (e->kind) {
    case AST_COLREF:
        return e->colref.nfields ? e->colref.fields[e->colref.nfields - 1] : "?column?";
    case AST_FUNC:
        return e->func.name;
    case AST_CAST:
        /* PostgreSQL's FigureColname: the argument's name when it has a strong one */
        return b_target_strong(e->cast.arg) ? b_target_name(e->cast.arg) : e->cast.type.name;
    case AST_CASE: return "case";
    case AST_SUBSCRIPT: return b_target_name(e->pair.l);    /* arr[i] is named as arr */
    case AST_GROUPING_FUNC: return "grouping";
    case AST_ARRAY: return "array";
    case AST_COALESCE: return "coalesce";
    case AST_MINMAX: return e->minmax.greatest ? "greatest" : "least";
    case AST_NULLIF: return "nullif";
    case AST_SUBLINK:
        if (e->sublink.type == AST_SUB_EXISTS)
            return "exists";
        if (e->sublink.type == AST_SUB_ARRAY)
            return "array";
        if (e->sublink.select->select.ntargets == 1)
            return b_target_name(e->sublink.select->select.targets[0].expr);
        return "?column?";
    case AST_SQLFN:
        switch (e->sqlfn.fn) {
        case AST_SQLFN_CURRENT_TIMESTAMP: return "current_timestamp";
        case AST_SQLFN_CURRENT_DATE: return "current_date";
        case AST_SQLFN_LOCALTIMESTAMP: return "localtimestamp";
        case AST_SQLFN_CURRENT_USER: return "current_user";
        case AST_SQLFN_SESSION_USER: return "session_user";
        case AST_SQLFN_CURRENT_CATALOG: return "current_catalog";
        case AST_SQLFN_CURRENT_SCHEMA: return "current_schema";
        case AST_SQLFN_LOCALTIME: return "localtime";
        }
        return "?column?";
    default:
        return "?column?";
    }
}

typedef struct tlist {
    int n, cap;
    bexpr_t **exprs;
    const char **names;
    uint32_t *table_oids;
    int16_t *attnums;
} tlist_t;

static int tl_add(binder_t *b, tlist_t *tl, bexpr_t *e, const char *name, uint32_t toid, int16_t attnum)
{
    if (tl->n == tl->cap) {
        int cap = tl->cap ? tl->cap * 2 : 16;
        if (cap > LIMIT_SQL_COLUMNS + 64) {
            sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "target lists can have at most %d entries", LIMIT_SQL_COLUMNS);
            return -1;
        }
        bexpr_t **ne = b_alloc(b, (size_t)cap * sizeof(bexpr_t *));
        const char **nn = b_alloc(b, (size_t)cap * sizeof(char *));
        uint32_t *no = b_alloc(b, (size_t)cap * sizeof(uint32_t));
        int16_t *na = b_alloc(b, (size_t)cap * sizeof(int16_t));
        if (!ne || !nn || !no || !na)
            return -1;
        if (tl->n) {
            memcpy(ne, tl->exprs, (size_t)tl->n * sizeof(bexpr_t *));
            memcpy(nn, tl->names, (size_t)tl->n * sizeof(char *));
            memcpy(no, tl->table_oids, (size_t)tl->n * sizeof(uint32_t));
            memcpy(na, tl->attnums, (size_t)tl->n * sizeof(int16_t));
        }
        tl->exprs = ne;
        tl->names = nn;
        tl->table_oids = no;
        tl->attnums = na;
        tl->cap = cap;
    }
    tl->exprs[tl->n] = e;
    tl->names[tl->n] = name;
    tl->table_oids[tl->n] = toid;
    tl->attnums[tl->n] = attnum;
    tl->n++;
    return 0;
}

/* Source column -> (table oid, attnum) for RowDescription. */
static void b_col_origin(const scope_t *sc, const bexpr_t *e, const catalog_t *cat, uint32_t *oid, int16_t *attnum)
{
    *oid = 0;
    *attnum = 0;
    if (e->kind != BX_COL)
        return;
    for (int s = 0; s < sc->nsrc; s++) {
        const bsrc_t *src = sc->src[s];
        if (e->index >= src->offset && e->index < src->offset + src->ncols && src->table_oid) {
            const cat_table_t *t = catalog_table_by_oid(cat, src->table_oid);
            *oid = src->table_oid;
            *attnum = t ? t->cols[e->index - src->offset].attnum : (int16_t)(e->index - src->offset + 1);
        }
    }
}

static int b_targets(binder_t *b, const ast_select_t *q, const scope_t *sc, tlist_t *tl)
{
    for (int i = 0; i < q->ntargets; i++) {
        const ast_target_t *t = &q->targets[i];
        if (t->expr->kind == AST_COLREF && t->expr->colref.star) {
            const char *qual = t->expr->colref.nfields ? t->expr->colref.fields[t->expr->colref.nfields - 1] : NULL;
            bool any = false;
            for (int s = 0; s < sc->nsrc; s++) {
                const bsrc_t *src = sc->src[s];
                if (qual && (!src->alias || strcmp(src->alias, qual)))
                    continue;
                any = true;
                for (int c = 0; c < src->ncols; c++) {
                    if (!src->names[c] || (!qual && src->hidden && src->hidden[c]))
                        continue;
                    bexpr_t *e = bx_col(b, src->offset + c, src->types[c], src->typmods[c], src->names[c]);
                    uint32_t oid;
                    int16_t att;
                    if (!e)
                        return -1;
                    b_col_origin(sc, e, b->env->catalog, &oid, &att);
                    if (tl_add(b, tl, e, src->names[c], oid, att) < 0)
                        return -1;
                }
            }
            if (qual && !any) {
                sql_error(b->err, SQLSTATE_UNDEFINED_TABLE, "missing FROM-clause entry for table \"%s\"", qual);
                b_pos(b, t->location);
                return -1;
            }
            if (!qual && sc->nsrc == 0) {
                sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "SELECT * with no tables specified is not valid");
                b_pos(b, t->location);
                return -1;
            }
            continue;
        }
        bexpr_t *e = b_expr(b, t->expr, sc);
        if (!e)
            return -1;
        uint32_t oid;
        int16_t att;
        b_col_origin(sc, e, b->env->catalog, &oid, &att);
        if (tl_add(b, tl, e, t->name ? t->name : b_target_name(t->expr), oid, att) < 0)
            return -1;
    }
    return 0;
}

static bexpr_t *b_limit_expr(binder_t *b, const ast_t *n, const char *what)
{
    scope_t empty = {0};
    bexpr_t *e = b_expr(b, n, &empty);
    if (!e)
        return NULL;
    if (e->kind == BX_CONST && e->isnull)
        return e;
    return b_coerce(b, e, TYPE_INT8, -1, CAST_IMPLICIT, n->location);
}

/* Finds ORDER BY / GROUP BY item `n` among the output columns: ordinal or name. */
static int b_output_ref(binder_t *b, const ast_t *n, const tlist_t *tl, int nvisible, bool by_name,
                        const char *clause)
{
    if (n->kind == AST_CONST && n->c.ctype == AST_C_INT) {
        if (n->c.ival < 1 || n->c.ival > nvisible) {
            sql_error(b->err, "42P10", "%s position %lld is not in select list", clause, (long long)n->c.ival);
            b_pos(b, n->location);
            return -2;
        }
        return (int)n->c.ival - 1;
    }
    if (by_name && n->kind == AST_COLREF && n->colref.nfields == 1 && !n->colref.star) {
        int found = -1;
        for (int i = 0; i < nvisible; i++)
            if (tl->names[i] && !strcmp(tl->names[i], n->colref.fields[0])) {
                if (found >= 0 && !bx_equal(tl->exprs[found], tl->exprs[i])) {
                    sql_error(b->err, "42702", "%s \"%s\" is ambiguous", clause, n->colref.fields[0]);
                    b_pos(b, n->location);
                    return -2;
                }
                if (found < 0)
                    found = i;
            }
        return found;
    }
    return -1;
}

static plan_t *b_values_query(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                              sql_coldesc_t **descs)
{
    int nrows = q->nvalues_rows, ncols = q->values[0].n;
    plan_t *p = pl_new(b, PL_VALUES, ncols);
    if (!p || !(p->values.rows = b_alloc(b, (size_t)nrows * sizeof(bexpr_t **))))
        return NULL;
    p->values.nrows = nrows;
    scope_t empty = {0};
    for (int r = 0; r < nrows; r++) {
        if (q->values[r].n != ncols) {
            sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "VALUES lists must all be the same length");
            return NULL;
        }
        if (!(p->values.rows[r] = b_alloc(b, (size_t)ncols * sizeof(bexpr_t *))))
            return NULL;
        for (int c = 0; c < ncols; c++)
            if (!(p->values.rows[r][c] = b_expr(b, q->values[r].items[c], &empty)))
                return NULL;
    }
    bexpr_t **col = b_alloc(b, (size_t)nrows * sizeof(bexpr_t *));
    const char **nm = b_alloc(b, (size_t)(ncols + 1) * sizeof(char *));
    if (!col || !nm)
        return NULL;
    for (int c = 0; c < ncols; c++) {
        for (int r = 0; r < nrows; r++)
            col[r] = p->values.rows[r][c];
        type_oid_t t = b_common_list(b, col, nrows, "VALUES", -1);
        if (t == TYPE_INVALID)
            return NULL;
        for (int r = 0; r < nrows; r++)
            p->values.rows[r][c] = col[r];
        p->types[c] = t;
        char *name = arena_alloc(b->a, 24);
        if (!name)
            return NULL;
        snprintf(name, 24, "column%d", c + 1);
        nm[c] = name;
    }
    *nvisible = ncols;
    *names = nm;
    *descs = NULL;
    return p;
}

/* Drops hidden sort columns and casts columns to the given types. Unknown literals
 * a set operation's input left untyped are converted in place (bad input is 22P02 at
 * bind time, as in PostgreSQL). */
static plan_t *b_conform(binder_t *b, plan_t *p, int n, const type_oid_t *types)
{
    for (int i = 0; i < n && p->kind == PL_PROJECT; i++) {
        if (p->types[i] != TYPE_UNKNOWN)
            continue;
        bexpr_t *e = b_coerce(b, p->project.exprs[i], types[i], -1, CAST_IMPLICIT, -1);
        if (!e)
            return NULL;
        p->project.exprs[i] = e;
        p->types[i] = e->type;
        p->typmods[i] = e->typmod;
    }
    bool same = p->ncols == n;
    for (int i = 0; i < n && same; i++)
        same = p->types[i] == types[i];
    if (same)
        return p;
    plan_t *pr = pl_new(b, PL_PROJECT, n);
    if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)n * sizeof(bexpr_t *))))
        return NULL;
    pr->child = p;
    for (int i = 0; i < n; i++) {
        bexpr_t *c = bx_col(b, i, p->types[i], p->typmods[i], NULL);
        if (!c || !(c = b_coerce(b, c, types[i], -1, CAST_IMPLICIT, -1)))
            return NULL;
        pr->project.exprs[i] = c;
        pr->types[i] = types[i];
    }
    return pr;
}

static const char *b_setop_name(ast_setop_t op)
{
    return op == AST_SETOP_UNION ? "UNION" : op == AST_SETOP_INTERSECT ? "INTERSECT" : "EXCEPT";
}

/* p's n columns followed by two int4 marker columns: (1, NULL) for the left input of
 * an INTERSECT / EXCEPT, (NULL, 1) for the right one, so that count() of each marker
 * per group tells on which sides a row occurs. */
static plan_t *b_setop_mark(binder_t *b, plan_t *p, int n, bool left)
{
    plan_t *pr = pl_new(b, PL_PROJECT, n + 2);
    if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)(n + 2) * sizeof(bexpr_t *))))
        return NULL;
    pr->child = p;
    for (int i = 0; i < n; i++) {
        if (!(pr->project.exprs[i] = bx_col(b, i, p->types[i], p->typmods[i], NULL)))
            return NULL;
        pr->types[i] = p->types[i];
        pr->typmods[i] = p->typmods[i];
    }
    for (int k = 0; k < 2; k++) {
        bool isnull = (k == 0) != left;
        if (!(pr->project.exprs[n + k] = bx_const(b, TYPE_INT4, (datum_t){.i64 = 1}, isnull)))
            return NULL;
        pr->types[n + k] = TYPE_INT4;
    }
    return pr;
}

/* INTERSECT / EXCEPT (distinct) over two inputs already brought to `types`, planned
 * the way PostgreSQL's SetOp works: both sides tagged, appended, grouped by every
 * column (so NULLs compare equal, as the set operations require), and the groups kept
 * whose left count is > 0 and whose right count is > 0 (INTERSECT) or = 0 (EXCEPT). */
static plan_t *b_intersect_except(binder_t *b, ast_setop_t op, bool all, plan_t *l, plan_t *r, int n,
                                  const type_oid_t *types)
{
    plan_t *ml = b_setop_mark(b, l, n, true);
    plan_t *mr = ml ? b_setop_mark(b, r, n, false) : NULL;
    plan_t *ap = mr ? pl_new(b, PL_APPEND, n + 2) : NULL;
    plan_t *ag = ap ? pl_new(b, PL_AGG, n + 2) : NULL;
    if (!ag)
        return NULL;
    memcpy(ap->types, ml->types, (size_t)(n + 2) * sizeof(type_oid_t));
    ap->child = ml;
    ap->right = mr;
    ag->agg.ngroup = n;
    ag->agg.naggs = 2;
    ag->agg.mode = PLAN_AGG_COMPLETE;
    ag->agg.group = b_alloc(b, (size_t)(n + 1) * sizeof(bexpr_t *));
    ag->agg.aggs = b_alloc(b, 2 * sizeof(plan_agg_t));
    if (!ag->agg.group || !ag->agg.aggs)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (!(ag->agg.group[i] = bx_col(b, i, types[i], -1, NULL)))
            return NULL;
        ag->types[i] = types[i];
    }
    bexpr_t *pred = NULL;
    for (int k = 0; k < 2; k++) {
        plan_agg_t *a = &ag->agg.aggs[k];
        *a = (plan_agg_t){.fn = AGG_COUNT, .argtype = TYPE_INT4, .rettype = TYPE_INT8};
        if (!(a->arg = bx_col(b, n + k, TYPE_INT4, -1, NULL)))
            return NULL;
        ag->types[n + k] = TYPE_INT8;
        int cmp = k == 0 || op == AST_SETOP_INTERSECT ? BX_OP_GT : BX_OP_EQ;
        bexpr_t *c = b_cmp(b, cmp, cmp == BX_OP_GT ? ">" : "=", bx_col(b, n + k, TYPE_INT8, -1, NULL),
                           bx_const(b, TYPE_INT8, (datum_t){.i64 = 0}, false), -1);
        if (!c || !(pred = bx_bool_and(b, pred, c)))
            return NULL;
    }
    ag->child = ap;
    if (all) {
        /* INTERSECT ALL / EXCEPT ALL: each group min(l, r) or l - r times */
        plan_t *rp = pl_new(b, PL_REPEAT, n);
        if (!rp)
            return NULL;
        memcpy(rp->types, types, (size_t)n * sizeof(type_oid_t));
        for (int i = 0; i < n; i++)
            rp->typmods[i] = -1;
        rp->repeat.except = op == AST_SETOP_EXCEPT;
        rp->child = ag;
        return rp;
    }
    plan_t *f = pl_new(b, PL_FILTER, n + 2);
    plan_t *pr = f ? pl_new(b, PL_PROJECT, n) : NULL;
    if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)n * sizeof(bexpr_t *))))
        return NULL;
    memcpy(f->types, ag->types, (size_t)(n + 2) * sizeof(type_oid_t));
    f->child = ag;
    f->filter.pred = pred;
    pr->child = f;
    for (int i = 0; i < n; i++) {
        if (!(pr->project.exprs[i] = bx_col(b, i, types[i], -1, NULL)))
            return NULL;
        pr->types[i] = types[i];
    }
    return pr;
}

/* UNION [ALL]: append, and for UNION a hash DISTINCT over the result. */
static plan_t *b_union_plan(binder_t *b, bool all, plan_t *l, plan_t *r, int n, const type_oid_t *types)
{
    plan_t *cur = pl_new(b, PL_APPEND, n);
    if (!cur)
        return NULL;
    memcpy(cur->types, types, (size_t)n * sizeof(type_oid_t));
    cur->child = l;
    cur->right = r;
    if (!all) {
        plan_t *d = pl_new(b, PL_DISTINCT, n);
        if (!d)
            return NULL;
        memcpy(d->types, types, (size_t)n * sizeof(type_oid_t));
        d->child = cur;
        cur = d;
    }
    return cur;
}

/* UNION [ALL] / INTERSECT / EXCEPT with the ORDER BY / LIMIT of the whole. */
static plan_t *b_setop(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                       sql_coldesc_t **descs)
{
    int nl, nr;
    const char **ln, **rn;
    sql_coldesc_t *ld, *rd;
    const char *opname = b_setop_name(q->setop);
    b->setop_input = true;
    plan_t *l = b_select(b, &q->larg->select, &nl, &ln, &ld);
    b->setop_input = true;
    plan_t *r = l ? b_select(b, &q->rarg->select, &nr, &rn, &rd) : NULL;
    b->setop_input = false;
    if (!r)
        return NULL;
    if (nl != nr) {
        sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "each %s query must have the same number of columns", opname);
        return NULL;
    }
    type_oid_t *types = b_alloc(b, (size_t)(nl + 1) * sizeof(type_oid_t));
    if (!types)
        return NULL;
    for (int i = 0; i < nl; i++) {
        /* as in PostgreSQL's select_common_type: an unknown-typed side (a literal,
         * NULL) takes the other side's type; two unknowns resolve to text */
        type_oid_t lt = l->types[i], rt = r->types[i];
        if (lt == TYPE_UNKNOWN)
            lt = rt == TYPE_UNKNOWN ? TYPE_TEXT : rt;
        if (rt == TYPE_UNKNOWN)
            rt = lt;
        types[i] = lt == rt ? lt : type_common(lt, rt);
        if (types[i] == TYPE_INVALID) {
            sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "%s types %s and %s cannot be matched",
                      opname, b_typename(b, lt), b_typename(b, rt));
            return NULL;
        }
    }
    if (!(l = b_conform(b, l, nl, types)) || !(r = b_conform(b, r, nl, types)))
        return NULL;
    plan_t *cur = q->setop == AST_SETOP_UNION ? b_union_plan(b, q->setop_all, l, r, nl, types)
                                              : b_intersect_except(b, q->setop, q->setop_all, l, r, nl, types);
    if (!cur)
        return NULL;
    tlist_t tl = {0};
    for (int i = 0; i < nl; i++) {
        bexpr_t *c = bx_col(b, i, types[i], -1, ln[i]);
        if (!c || tl_add(b, &tl, c, ln[i], 0, 0) < 0)
            return NULL;
    }
    if (q->nsort) {
        plan_t *s = pl_new(b, PL_SORT, nl);
        plan_sortkey_t *keys = b_alloc(b, (size_t)q->nsort * sizeof *keys);
        if (!s || !keys)
            return NULL;
        memcpy(s->types, types, (size_t)nl * sizeof(type_oid_t));
        for (int i = 0; i < q->nsort; i++) {
            int ref = b_output_ref(b, q->sort[i].expr, &tl, nl, true, "ORDER BY");
            if (ref == -2)
                return NULL;
            if (ref < 0) {
                sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                          "ORDER BY on a %s result must use output column names or positions", opname);
                b_pos(b, q->sort[i].expr->location);
                return NULL;
            }
            keys[i].expr = tl.exprs[ref];
            keys[i].desc = q->sort[i].desc;
            keys[i].nulls_first = q->sort[i].nulls == 1 || (q->sort[i].nulls == 0 && q->sort[i].desc);
        }
        s->child = cur;
        s->sort.nkeys = q->nsort;
        s->sort.keys = keys;
        cur = s;
    }
    if (q->limit || q->offset) {
        plan_t *lp = pl_new(b, PL_LIMIT, nl);
        if (!lp)
            return NULL;
        memcpy(lp->types, types, (size_t)nl * sizeof(type_oid_t));
        lp->child = cur;
        if (q->limit && !(lp->limit.limit = b_limit_expr(b, q->limit, "LIMIT")))
            return NULL;
        if (q->offset && !(lp->limit.offset = b_limit_expr(b, q->offset, "OFFSET")))
            return NULL;
        cur = lp;
    }
    sql_coldesc_t *d = b_alloc(b, (size_t)(nl + 1) * sizeof *d);
    if (!d)
        return NULL;
    for (int i = 0; i < nl; i++) {
        const type_info_t *ti = type_lookup(types[i]);
        d[i] = (sql_coldesc_t){ln[i], 0, 0, types[i], ti ? ti->typlen : -1, -1};
    }
    *nvisible = nl;
    *names = ln;
    *descs = d;
    return cur;
}

static plan_t *b_select_level(binder_t *b, const ast_select_t *q, scope_t *sc, plan_t *base, bool setop_input,
                              int *nvisible, const char ***names, sql_coldesc_t **descs);
/* ---- grouping sets (ROLLUP, CUBE, GROUPING SETS) ---- */

#define BIND_GSETS_MAX 4096     /* PostgreSQL's limit on expanded grouping sets */

typedef struct gsets {
    int n, cap;
    uint64_t *m;                 /* one mask over the flat grouping expressions per set */
} gsets_t;

static int gs_push(binder_t *b, gsets_t *g, uint64_t m)
{
    if (g->n >= BIND_GSETS_MAX) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "too many grouping sets present (maximum %d)", BIND_GSETS_MAX);
        return -1;
    }
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 8;
        uint64_t *nm = b_alloc(b, (size_t)cap * sizeof(uint64_t));
        if (!nm)
            return -1;
        if (g->n)
            memcpy(nm, g->m, (size_t)g->n * sizeof(uint64_t));
        g->m = nm;
        g->cap = cap;
    }
    g->m[g->n++] = m;
    return 0;
}

/* Records leaf expression x in the flat list; its bit. */
static int gs_leaf(binder_t *b, ast_list_t *flat, const ast_t *x, uint64_t *bit)
{
    if (flat->n >= 64) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "more than 64 grouping expressions are not supported");
        return -1;
    }
    flat->items[flat->n] = (ast_t *)x;
    *bit = UINT64_C(1) << flat->n++;
    return 0;
}

/* The column mask of a simple item: an expression or a parenthesized list. */
static int gs_simple(binder_t *b, ast_list_t *flat, const ast_t *x, uint64_t *m)
{
    *m = 0;
    if (x->kind == AST_GROUPING_SET && x->gset.kind == AST_GSET_SIMPLE) {
        for (int i = 0; i < x->gset.items.n; i++) {
            uint64_t bit;
            if (gs_leaf(b, flat, x->gset.items.items[i], &bit) < 0)
                return -1;
            *m |= bit;
        }
        return 0;
    }
    if (x->kind == AST_GROUPING_SET && x->gset.kind == AST_GSET_EMPTY)
        return 0;
    if (x->kind == AST_GROUPING_SET) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "nested grouping sets inside ROLLUP or CUBE are not supported");
        return -1;
    }
    uint64_t bit;
    if (gs_leaf(b, flat, x, &bit) < 0)
        return -1;
    *m = bit;
    return 0;
}

/* The sets one GROUP BY item stands for, as PostgreSQL expands them. */
static int gs_item(binder_t *b, ast_list_t *flat, const ast_t *x, gsets_t *out)
{
    if (x->kind != AST_GROUPING_SET || x->gset.kind == AST_GSET_SIMPLE || x->gset.kind == AST_GSET_EMPTY) {
        uint64_t m;
        return gs_simple(b, flat, x, &m) < 0 ? -1 : gs_push(b, out, m);
    }
    const ast_list_t *it = &x->gset.items;
    if (x->gset.kind == AST_GSET_SETS) {
        for (int i = 0; i < it->n; i++)
            if (gs_item(b, flat, it->items[i], out) < 0)
                return -1;
        return 0;
    }
    uint64_t parts[64];
    if (it->n > 12 && x->gset.kind == AST_GSET_CUBE) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "too many grouping sets present (maximum %d)", BIND_GSETS_MAX);
        return -1;
    }
    if (it->n > 64) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "more than 64 grouping expressions are not supported");
        return -1;
    }
    for (int i = 0; i < it->n; i++)
        if (gs_simple(b, flat, it->items[i], &parts[i]) < 0)
            return -1;
    if (x->gset.kind == AST_GSET_ROLLUP) {
        for (int k = it->n; k >= 0; k--) {
            uint64_t m = 0;
            for (int i = 0; i < k; i++)
                m |= parts[i];
            if (gs_push(b, out, m) < 0)
                return -1;
        }
        return 0;
    }
    for (uint64_t sub = (UINT64_C(1) << it->n); sub-- > 0;) {
        /* CUBE: every subset, largest first */
        uint64_t m = 0;
        for (int i = 0; i < it->n; i++)
            if (sub & (UINT64_C(1) << (it->n - 1 - i)))
                m |= parts[i];
        if (gs_push(b, out, m) < 0)
            return -1;
    }
    return 0;
}

/* Expands q's GROUP BY when it has grouping sets: *flat gets every grouping
 * expression (in order, repeats allowed), *sets the cross product of the items'
 * sets. Returns 0 when the GROUP BY is a plain list (no sets to expand). */
static int b_gsets_expand(binder_t *b, const ast_select_t *q, ast_list_t *flat, gsets_t *sets)
{
    bool any = false;
    for (int i = 0; i < q->group.n; i++)
        any |= q->group.items[i]->kind == AST_GROUPING_SET;
    if (!any)
        return 0;
    if (!(flat->items = b_alloc(b, 65 * sizeof(ast_t *))))
        return -1;
    flat->n = 0;
    sets->n = 0;
    if (gs_push(b, sets, 0) < 0)
        return -1;
    for (int i = 0; i < q->group.n; i++) {
        gsets_t one = {0};
        if (gs_item(b, flat, q->group.items[i], &one) < 0)
            return -1;
        gsets_t prod = {0};
        if ((int64_t)sets->n * one.n > BIND_GSETS_MAX) {
            sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "too many grouping sets present (maximum %d)", BIND_GSETS_MAX);
            return -1;
        }
        for (int a = 0; a < sets->n; a++)
            for (int k = 0; k < one.n; k++)
                if (gs_push(b, &prod, sets->m[a] | one.m[k]) < 0)
                    return -1;
        *sets = prod;
    }
    return 1;
}

/* After binding the flat expressions: bits of equal expressions merge into the
 * first one's, and GROUP BY DISTINCT drops repeated sets. */
static void b_gsets_canon(bexpr_t **groups, int ngroup, gsets_t *sets, bool distinct)
{
    for (int s = 0; s < sets->n; s++) {
        uint64_t m = 0;
        for (int i = 0; i < ngroup; i++) {
            if (!(sets->m[s] & (UINT64_C(1) << i)))
                continue;
            int first = i;
            for (int k = 0; k < i; k++)
                if (bx_equal(groups[k], groups[i])) {
                    first = k;
                    break;
                }
            m |= UINT64_C(1) << first;
        }
        sets->m[s] = m;
    }
    if (!distinct)
        return;
    int n = 0;
    for (int s = 0; s < sets->n; s++) {
        bool dup = false;
        for (int k = 0; k < n && !dup; k++)
            dup = sets->m[k] == sets->m[s];
        if (!dup)
            sets->m[n++] = sets->m[s];
    }
    sets->n = n;
}

/* GROUPING(args) for the grouping set being rewritten: bit (nargs - 1 - i) set when
 * argument i is not grouped in it. */
static bexpr_t *b_grouping_value(binder_t *b, const bexpr_t *e)
{
    int32_t v = 0;
    for (int i = 0; i < e->nargs; i++) {
        int g = -1;
        for (int k = 0; k < b->gs_nall && g < 0; k++)
            if (bx_equal(e->args[i], b->gs_all[k]))
                g = k;
        if (g < 0) {
            sql_error(b->err, SQLSTATE_GROUPING_ERROR,
                      "arguments to GROUPING must be grouping expressions of the associated query level");
            return NULL;
        }
        bool grouped = false;
        for (int k = 0; k < b->gs_nall && !grouped; k++)
            grouped = (b->gs_mask & (UINT64_C(1) << k)) && bx_equal(b->gs_all[k], b->gs_all[g]);
        if (!grouped)
            v |= 1 << (e->nargs - 1 - i);
    }
    return bx_const(b, TYPE_INT4, (datum_t){.i64 = v}, false);
}

static bexpr_t *b_grouping_func(binder_t *b, const ast_t *n, const scope_t *sc)
{
    if (!b->agg_allowed) {
        sql_error(b->err, SQLSTATE_GROUPING_ERROR, "grouping operations are not allowed in %s",
                  b->agg_context ? b->agg_context : "this context");
        b_pos(b, n->location);
        return NULL;
    }
    if (n->args.n > 31) {
        sql_error(b->err, SQLSTATE_PROGRAM_LIMIT, "GROUPING must have fewer than 32 arguments");
        b_pos(b, n->location);
        return NULL;
    }
    bexpr_t *e = bx_new(b, BX_GROUPING, TYPE_INT4, n->args.n);
    if (!e)
        return NULL;
    b->agg_allowed = false;
    for (int i = 0; i < n->args.n; i++)
        if (!(e->args[i] = b_expr(b, n->args.items[i], sc))) {
            b->agg_allowed = true;
            return NULL;
        }
    b->agg_allowed = true;
    return e;
}

/* One AGG + HAVING + projection per grouping set over the same input, appended.
 * Grouping expressions outside a set read as NULL in that set's outputs. */
static plan_t *b_gsets_plan(binder_t *b, plan_t *in, bexpr_t **groups, int ngroup, const gsets_t *sets,
                            const tlist_t *tl, bexpr_t *having, int naggs)
{
    plan_t *cur = NULL;
    bexpr_t **gs = b_alloc(b, (size_t)(ngroup + 1) * sizeof(bexpr_t *));
    if (!gs)
        return NULL;
    b->gs_all = groups;
    b->gs_nall = ngroup;
    for (int s = 0; s < sets->n; s++) {
        int ns = 0;
        for (int g = 0; g < ngroup; g++)
            if (sets->m[s] & (UINT64_C(1) << g))
                gs[ns++] = groups[g];
        b->gs_mask = sets->m[s];
        plan_t *ag = pl_new(b, PL_AGG, ns + naggs);
        if (!ag || !(ag->agg.group = b_alloc(b, (size_t)(ns + 1) * sizeof(bexpr_t *))))
            return NULL;
        memcpy(ag->agg.group, gs, (size_t)ns * sizeof(bexpr_t *));
        ag->agg.ngroup = ns;
        ag->agg.naggs = naggs;
        ag->agg.aggs = b->aggs;
        ag->agg.mode = PLAN_AGG_COMPLETE;
        for (int g = 0; g < ns; g++) {
            ag->types[g] = gs[g]->type;
            ag->typmods[g] = gs[g]->typmod;
        }
        for (int k = 0; k < naggs; k++)
            ag->types[ns + k] = b->aggs[k].rettype;
        ag->child = in;
        plan_t *top = ag;
        if (having) {
            bexpr_t *h = b_agg_rewrite(b, having, gs, ns);
            plan_t *f = h ? pl_new(b, PL_FILTER, ag->ncols) : NULL;
            if (!f)
                return NULL;
            memcpy(f->types, ag->types, (size_t)ag->ncols * sizeof(type_oid_t));
            memcpy(f->typmods, ag->typmods, (size_t)ag->ncols * sizeof(int32_t));
            f->child = ag;
            f->filter.pred = h;
            top = f;
        }
        plan_t *pr = pl_new(b, PL_PROJECT, tl->n);
        if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)(tl->n + 1) * sizeof(bexpr_t *))))
            return NULL;
        pr->child = top;
        for (int i = 0; i < tl->n; i++) {
            bexpr_t *e = b_agg_rewrite(b, tl->exprs[i], gs, ns);
            if (e && e->type == TYPE_UNKNOWN)
                e = b_resolve_unknown(b, e);
            if (e && cur && e->type != cur->types[i])
                e = b_coerce(b, e, cur->types[i], -1, CAST_IMPLICIT, -1);
            if (!e)
                return NULL;
            pr->project.exprs[i] = e;
            pr->types[i] = e->type;
            pr->typmods[i] = cur && cur->typmods[i] != e->typmod ? -1 : e->typmod;
            if (cur && cur->typmods[i] != pr->typmods[i])
                cur->typmods[i] = -1;
        }
        if (!cur) {
            cur = pr;
            continue;
        }
        plan_t *ap = pl_new(b, PL_APPEND, tl->n);
        if (!ap)
            return NULL;
        memcpy(ap->types, pr->types, (size_t)tl->n * sizeof(type_oid_t));
        memcpy(ap->typmods, pr->typmods, (size_t)tl->n * sizeof(int32_t));
        ap->child = cur;
        ap->right = pr;
        cur = ap;
    }
    b->gs_all = NULL;
    b->gs_nall = 0;
    return cur;
}

/* The input of an aggregation with an ordered string_agg: the FROM row plus the order
 * keys as extra columns (the aggregates read only the leading ones), sorted. */
static plan_t *b_agg_input_order(binder_t *b, plan_t *in)
{
    int n = in->ncols, k = b->agg_norder;
    plan_t *pr = pl_new(b, PL_PROJECT, n + k);
    plan_t *s = pr ? pl_new(b, PL_SORT, n + k) : NULL;
    plan_sortkey_t *keys = s ? b_alloc(b, (size_t)k * sizeof *keys) : NULL;
    if (!keys || !(pr->project.exprs = b_alloc(b, (size_t)(n + k) * sizeof(bexpr_t *))))
        return NULL;
    pr->child = in;
    for (int i = 0; i < n + k; i++) {
        bexpr_t *e = i < n ? bx_col(b, i, in->types[i], in->typmods[i], NULL) : b->agg_order[i - n].expr;
        if (!e)
            return NULL;
        pr->project.exprs[i] = e;
        pr->types[i] = e->type;
        pr->typmods[i] = e->typmod;
    }
    memcpy(s->types, pr->types, (size_t)(n + k) * sizeof(type_oid_t));
    memcpy(s->typmods, pr->typmods, (size_t)(n + k) * sizeof(int32_t));
    s->child = pr;
    for (int i = 0; i < k; i++) {
        keys[i] = b->agg_order[i];
        if (!(keys[i].expr = bx_col(b, n + i, pr->types[n + i], -1, NULL)))
            return NULL;
    }
    s->sort.nkeys = k;
    s->sort.keys = keys;
    return s;
}

/* DISTINCT ON (exprs): each resolves like an ORDER BY item (output name or ordinal,
 * else an expression, added as a hidden column). PostgreSQL's rule: the ORDER BY
 * items that are DISTINCT ON items must come first (42P10 otherwise), and DISTINCT ON
 * items missing from ORDER BY are appended to the sort, ascending. */
static int b_distinct_on(binder_t *b, const ast_select_t *q, const scope_t *sc, tlist_t *tl, int nvis,
                         plan_sortkey_t **keys, int **key_col, int *nsort, int **don_out)
{
    int nd = q->distinct_on.n, ns = *nsort;
    int *don = b_alloc(b, (size_t)(nd + 1) * sizeof(int));
    plan_sortkey_t *nk = b_alloc(b, (size_t)(ns + nd + 1) * sizeof *nk);
    int *nc = b_alloc(b, (size_t)(ns + nd + 1) * sizeof(int));
    if (!don || !nk || !nc)
        return -1;
    for (int i = 0; i < nd; i++) {
        const ast_t *x = q->distinct_on.items[i];
        int ref = b_output_ref(b, x, tl, nvis, true, "DISTINCT ON");
        if (ref == -2)
            return -1;
        if (ref < 0) {
            bexpr_t *e = b_expr(b, x, sc);
            if (!e)
                return -1;
            for (int k = 0; k < tl->n && ref < 0; k++)
                if (bx_equal(tl->exprs[k], e))
                    ref = k;
            if (ref < 0) {
                if (tl_add(b, tl, e, NULL, 0, 0) < 0)
                    return -1;
                ref = tl->n - 1;
            }
        }
        don[i] = ref;
    }
    bool skipped = false;
    for (int i = 0; i < ns; i++) {
        bool in = false;
        for (int k = 0; k < nd && !in; k++)
            in = don[k] == (*key_col)[i];
        if (in && skipped)
            goto mismatch;
        skipped |= !in;
        nk[i] = (*keys)[i];
        nc[i] = (*key_col)[i];
    }
    int n = ns;
    for (int k = 0; k < nd; k++) {
        bool in = false;
        for (int i = 0; i < n && !in; i++)
            in = nc[i] == don[k];
        if (in)
            continue;
        if (skipped)
            goto mismatch;
        nc[n] = don[k];
        nk[n].desc = false;
        nk[n].nulls_first = false;
        n++;
    }
    *keys = nk;
    *key_col = nc;
    *nsort = n;
    *don_out = don;
    return 0;
mismatch:
    sql_error(b->err, "42P10", "SELECT DISTINCT ON expressions must match initial ORDER BY expressions");
    b_pos(b, q->distinct_on.items[0]->location);
    return -1;
}

static plan_t *b_select(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                        sql_coldesc_t **descs)
{
    bool setop_input = b->setop_input;
    b->setop_input = false;
    if (q->cte_name)
        return bind_cte_recursive(b, q, nvisible, names, descs);
    if (q->is_setop)
        return b_setop(b, q, nvisible, names, descs);
    if (q->nvalues_rows) {
        bind_win_t *saved_win = b->win;      /* VALUES is no level for window calls */
        b->win = NULL;
        plan_t *v = b_values_query(b, q, nvisible, names, descs);
        b->win = saved_win;
        return v;
    }
    const ast_select_t *srfq;
    if (bind_srf_rewrite(b, q, &srfq) < 0)
        return NULL;
    if (srfq)
        q = srfq;     /* a set-returning call in the select list became a FROM item */
    scope_t *sc = b_alloc(b, sizeof *sc);
    if (!sc)
        return NULL;
    plan_t *base = b_from_where(b, q, sc);
    if (!base)
        return NULL;
    if (q->for_update) {
        if (q->distinct || q->group.n || q->having) {
            sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "FOR UPDATE is not allowed with %s",
                      q->distinct ? "DISTINCT clause" : "GROUP BY clause");
            return NULL;
        }
        plan_t *leaf = base->kind == PL_FILTER ? base->child : base;
        if (leaf->kind != PL_SCAN || sc->nsrc != 1) {
            sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                      "SELECT FOR UPDATE/SHARE is supported on a single table only");
            return NULL;
        }
        leaf->scan.lock_rows = true;
    }
    /* this query level numbers its aggregates from 0 (subqueries save and restore) */
    b->naggs = b->aggcap = 0;
    b->aggs = NULL;
    b->agg_norder = 0;
    b->agg_order = NULL;
    b->agg_allowed = true;
    b->agg_context = NULL;
    bind_win_t *saved_win;
    if (bind_win_begin(b, q, &saved_win) < 0)
        return NULL;
    plan_t *r = b_select_level(b, q, sc, base, setop_input, nvisible, names, descs);
    bind_win_end(b, saved_win);
    return r;
}

/* The rest of b_select, with this level's window state in place. */
static plan_t *b_select_level(binder_t *b, const ast_select_t *q, scope_t *sc, plan_t *base, bool setop_input,
                              int *nvisible, const char ***names, sql_coldesc_t **descs)
{
    int saved_naggs = 0;
    tlist_t tl = {0};
    if (b_targets(b, q, sc, &tl) < 0)
        return NULL;
    int nvis = tl.n;
    /* GROUP BY items: input expressions, or output ordinals / names */
    ast_list_t gflat = {0};
    gsets_t gsets = {0};
    int hasgs = b_gsets_expand(b, q, &gflat, &gsets);
    if (hasgs < 0)
        return NULL;
    const ast_list_t *glist = hasgs ? &gflat : &q->group;
    int ngroup = glist->n;
    bexpr_t **groups = b_alloc(b, (size_t)(ngroup + 1) * sizeof(bexpr_t *));
    if (!groups)
        return NULL;
    for (int i = 0; i < ngroup; i++) {
        const ast_t *g = glist->items[i];
        int ref = b_output_ref(b, g, &tl, nvis, false, "GROUP BY");
        if (ref == -2)
            return NULL;
        if (ref < 0 && g->kind == AST_COLREF && g->colref.nfields == 1) {
            int idx;
            sql_error_t probe = {0};
            sql_error_t *saved = b->err;
            b->err = &probe;
            int rc = b_find_column(b, sc, NULL, g->colref.fields[0], g->location, &idx, NULL);
            b->err = saved;
            if (rc < 0)
                ref = b_output_ref(b, g, &tl, nvis, true, "GROUP BY");
            if (ref == -2)
                return NULL;
        }
        if (ref >= 0) {
            groups[i] = tl.exprs[ref];
        } else {
            b->agg_allowed = false;
            b->agg_context = "GROUP BY";
            bind_win_refuse(b, "GROUP BY");
            groups[i] = b_expr(b, g, sc);
            bind_win_refuse(b, NULL);
            b->agg_allowed = true;
            b->agg_context = NULL;
            if (!groups[i])
                return NULL;
        }
        if (bx_has_agg(groups[i])) {
            sql_error(b->err, SQLSTATE_GROUPING_ERROR, "aggregate functions are not allowed in GROUP BY");
            b_pos(b, g->location);
            return NULL;
        }
        if (groups[i]->type == TYPE_UNKNOWN && !(groups[i] = b_resolve_unknown(b, groups[i])))
            return NULL;
    }
    if (hasgs)
        b_gsets_canon(groups, ngroup, &gsets, q->group_distinct);
    bexpr_t *having = NULL;
    if (q->having) {
        bind_win_refuse(b, "HAVING");
        bexpr_t *h = b_expr(b, q->having, sc);
        bind_win_refuse(b, NULL);
        if (!h || !(having = b_coerce(b, h, TYPE_BOOL, -1, CAST_IMPLICIT, q->having->location)) ||
            !(having = bx_qual_fold(b, having)))
            return NULL;
    }
    /* ORDER BY: output columns by ordinal or name, else expressions (hidden columns) */
    int nsort = q->nsort;
    plan_sortkey_t *keys = b_alloc(b, (size_t)(nsort + 1) * sizeof *keys);
    int *key_col = b_alloc(b, (size_t)(nsort + 1) * sizeof(int));
    if (!keys || !key_col)
        return NULL;
    for (int i = 0; i < nsort; i++) {
        const ast_sortby_t *s = &q->sort[i];
        int ref = b_output_ref(b, s->expr, &tl, nvis, true, "ORDER BY");
        if (ref == -2)
            return NULL;
        if (ref < 0) {
            bexpr_t *e = b_expr(b, s->expr, sc);
            if (!e)
                return NULL;
            for (int k = 0; k < tl.n && ref < 0; k++)
                if (bx_equal(tl.exprs[k], e))
                    ref = k;
            if (ref < 0) {
                if (q->distinct) {
                    sql_error(b->err, "42P10", "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
                    b_pos(b, s->expr->location);
                    return NULL;
                }
                if (tl_add(b, &tl, e, NULL, 0, 0) < 0)
                    return NULL;
                ref = tl.n - 1;
            }
        }
        key_col[i] = ref;
        keys[i].desc = s->desc;
        keys[i].nulls_first = s->nulls == 1 || (s->nulls == 0 && s->desc);
    }
    int *don_col = NULL;
    if (q->distinct_on.n && b_distinct_on(b, q, sc, &tl, nvis, &keys, &key_col, &nsort, &don_col) < 0)
        return NULL;
    bool aggregating = ngroup > 0 || b->naggs > saved_naggs || having != NULL;
    for (int i = 0; i < tl.n && !aggregating; i++)
        aggregating = bx_has_agg(tl.exprs[i]);
    if (aggregating && q->for_update) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "FOR UPDATE is not allowed with aggregate functions");
        return NULL;
    }
    plan_t *cur = base;
    if (having && ngroup > 0 && bx_is_bool_const(having, false)) {
        /* PostgreSQL moves an aggregate-free HAVING of a grouped query into WHERE: a
         * FALSE one leaves no input rows, so nothing below it is evaluated */
        plan_t *none = pl_new(b, PL_VALUES, base->ncols);
        if (!none || !(none->values.rows = b_alloc(b, sizeof(bexpr_t **))))
            return NULL;
        memcpy(none->types, base->types, (size_t)base->ncols * sizeof(type_oid_t));
        memcpy(none->typmods, base->typmods, (size_t)base->ncols * sizeof(int32_t));
        cur = none;
    }
    int first_agg = saved_naggs, naggs = b->naggs - saved_naggs;
    if (aggregating && b->agg_norder && !(cur = b_agg_input_order(b, cur)))
        return NULL;
    if (hasgs) {
        if (!(cur = b_gsets_plan(b, cur, groups, ngroup, &gsets, &tl, having, naggs)))
            return NULL;
        goto projected;
    }
    b->gs_all = groups;          /* GROUPING() of a plain GROUP BY: every column grouped */
    b->gs_nall = ngroup;
    b->gs_mask = ~UINT64_C(0);
    if (aggregating) {
        ASSERT(first_agg == 0);
        plan_agg_t *aggs = b->aggs;
        bool pushdown = cur->kind == PL_SCAN;
        for (int i = 0; i < naggs && pushdown; i++)
            if (aggs[i].distinct || aggs[i].fn == AGG_STRING_AGG || aggs[i].argtype == TYPE_VECTOR ||
                aggs[i].fn >= AGG_BOOL_AND)   /* exec_agg_ext.c's, array_agg among them */
                pushdown = false;
        plan_t *ag = pl_new(b, PL_AGG, ngroup + naggs);
        if (!ag)
            return NULL;
        ag->agg.ngroup = ngroup;
        ag->agg.naggs = naggs;
        ag->agg.aggs = aggs;
        for (int g = 0; g < ngroup; g++) {
            ag->types[g] = groups[g]->type;
            ag->typmods[g] = groups[g]->typmod;
        }
        for (int k = 0; k < naggs; k++)
            ag->types[ngroup + k] = aggs[k].rettype;
        if (pushdown) {
            cur->scan.agg_pushed = true;
            cur->scan.ngroup = ngroup;
            cur->scan.group = groups;
            cur->scan.naggs = naggs;
            cur->scan.aggs = aggs;
            ag->agg.mode = PLAN_AGG_FINAL;
            if (!(ag->agg.group = b_alloc(b, (size_t)(ngroup + 1) * sizeof(bexpr_t *))))
                return NULL;
            for (int g = 0; g < ngroup; g++)
                ag->agg.group[g] = bx_col(b, g, groups[g]->type, groups[g]->typmod, NULL);
        } else {
            ag->agg.mode = PLAN_AGG_COMPLETE;
            ag->agg.group = groups;
        }
        ag->child = cur;
        cur = ag;
        /* rewrite outputs over (groups ++ aggs); aggregate refs shift by first_agg */
        for (int i = 0; i < tl.n; i++) {
            if (!(tl.exprs[i] = b_agg_rewrite(b, tl.exprs[i], groups, ngroup)))
                return NULL;
        }
        if (having) {
            if (!(having = b_agg_rewrite(b, having, groups, ngroup)))
                return NULL;
            plan_t *f = pl_new(b, PL_FILTER, ag->ncols);
            if (!f)
                return NULL;
            memcpy(f->types, ag->types, (size_t)ag->ncols * sizeof(type_oid_t));
            memcpy(f->typmods, ag->typmods, (size_t)ag->ncols * sizeof(int32_t));
            f->child = cur;
            f->filter.pred = having;
            cur = f;
        }
    }
    if (!(cur = bind_win_plan(b, cur, tl.exprs, tl.n, groups, ngroup, aggregating)))
        return NULL;
    /* projection: visible targets + hidden sort columns; regclass shows as a name */
    plan_t *pr = pl_new(b, PL_PROJECT, tl.n);
    if (!pr || !(pr->project.exprs = b_alloc(b, (size_t)tl.n * sizeof(bexpr_t *))))
        return NULL;
    pr->child = cur;
    for (int i = 0; i < tl.n; i++) {
        bexpr_t *e = tl.exprs[i];
        bool keep_unknown = setop_input && i < nvis && e->kind == BX_CONST && !q->distinct &&
                            !nsort && !q->limit && !q->offset;
        if (e->type == TYPE_UNKNOWN && !keep_unknown && !(e = b_resolve_unknown(b, e)))
            return NULL;
        if (i < nvis && e->type == TYPE_REGCLASS) {
            bexpr_t *r = bx_new(b, BX_REGCLASS_NAME, TYPE_TEXT, 1);
            if (!r)
                return NULL;
            r->args[0] = e;
            e = r;
        }
        pr->project.exprs[i] = e;
        pr->types[i] = e->type;
        pr->typmods[i] = e->typmod;
    }
    cur = pr;
projected:
    b->gs_all = NULL;
    b->gs_nall = 0;
    if (q->distinct) {
        plan_t *d = pl_new(b, PL_DISTINCT, cur->ncols);
        if (!d)
            return NULL;
        memcpy(d->types, cur->types, (size_t)cur->ncols * sizeof(type_oid_t));
        memcpy(d->typmods, cur->typmods, (size_t)cur->ncols * sizeof(int32_t));
        d->child = cur;
        cur = d;
    }
    if (nsort) {
        plan_t *s = pl_new(b, PL_SORT, cur->ncols);
        if (!s)
            return NULL;
        memcpy(s->types, cur->types, (size_t)cur->ncols * sizeof(type_oid_t));
        memcpy(s->typmods, cur->typmods, (size_t)cur->ncols * sizeof(int32_t));
        s->child = cur;
        s->sort.nkeys = nsort;
        s->sort.keys = keys;
        for (int i = 0; i < nsort; i++)
            if (!(keys[i].expr = bx_col(b, key_col[i], cur->types[key_col[i]], -1, NULL)))
                return NULL;
        cur = s;
    }
    if (don_col) {
        /* DISTINCT ON: the first row of each group, the sort above putting them together */
        plan_t *d = pl_new(b, PL_DISTINCT, cur->ncols);
        if (!d)
            return NULL;
        memcpy(d->types, cur->types, (size_t)cur->ncols * sizeof(type_oid_t));
        memcpy(d->typmods, cur->typmods, (size_t)cur->ncols * sizeof(int32_t));
        d->child = cur;
        d->distinct.nkeys = q->distinct_on.n;
        d->distinct.keycols = don_col;
        cur = d;
    }
    if (q->limit || q->offset) {
        plan_t *l = pl_new(b, PL_LIMIT, cur->ncols);
        if (!l)
            return NULL;
        memcpy(l->types, cur->types, (size_t)cur->ncols * sizeof(type_oid_t));
        memcpy(l->typmods, cur->typmods, (size_t)cur->ncols * sizeof(int32_t));
        l->child = cur;
        if (q->limit && !(l->limit.limit = b_limit_expr(b, q->limit, "LIMIT")))
            return NULL;
        if (q->offset && !(l->limit.offset = b_limit_expr(b, q->offset, "OFFSET")))
            return NULL;
        if (q->with_ties) {
            /* the sort's keys decide the ties; no per-shard top-k (a shard's k-th row
             * could tie with rows it would drop) */
            l->limit.nties = nsort;
            l->limit.ties = keys;
        } else if (b_push_topk(b, l) < 0) {
            return NULL;
        }
        cur = l;
    }
    if (b_join_keys(b, cur) < 0)
        return NULL;
    *nvisible = nvis;
    *names = tl.names;
    sql_coldesc_t *d = b_alloc(b, (size_t)(nvis + 1) * sizeof *d);
    if (!d)
        return NULL;
    for (int i = 0; i < nvis; i++) {
        const type_info_t *ti = type_lookup(cur->types[i]);
        d[i].name = tl.names[i];
        d[i].table_oid = tl.table_oids[i];
        d[i].attnum = tl.attnums[i];
        d[i].type = cur->types[i];
        d[i].typlen = ti ? ti->typlen : -1;
        d[i].typmod = cur->typmods[i];
    }
    *descs = d;
    return cur;
}

/* ---- per-shard top-k (ORDER BY ... LIMIT k over one table) ---- */

/* Whether e can run inside a shard fragment as a per-row sort key: no subqueries,
 * outer references, aggregates or volatile functions. */
static bool b_fragment_safe(const bexpr_t *e)
{
    if (e->kind == BX_SUBQ || e->kind == BX_OUTER || e->kind == BX_INSUBQ || e->kind == BX_AGGREF)
        return false;
    if (bx_has_volatile(e))
        return false;
    for (int i = 0; i < e->nargs; i++)
        if (!b_fragment_safe(e->args[i]))
            return false;
    return true;
}

/* An HNSW index answering key 0 (`col <op> q` or `q <op> col`, ascending, with the
 * index's metric), recorded in tk. pgvector's rule: the operator's opclass must be
 * the index's, and the other side must not depend on the row. */
static void b_topk_index(const cat_table_t *t, plan_topk_t *tk)
{
    const plan_sortkey_t *k = &tk->keys[0];
    const bexpr_t *e = k->expr;
    distance_metric_t m;
    if (k->desc || e->kind != BX_FUNC || e->nargs != 2 || !builtins_vector_metric(e->fn, &m))
        return;
    int side = e->args[0]->kind == BX_COL ? 0 : e->args[1]->kind == BX_COL ? 1 : -1;
    if (side < 0 || bx_has_cols(e->args[1 - side]) || e->args[side]->type != TYPE_VECTOR)
        return;
    int col = e->args[side]->index;
    for (int i = 0; i < t->nvindexes; i++) {
        const cat_vindex_t *vi = &t->vindexes[i];
        if (vi->attnum == t->cols[col].attnum && vi->metric == m) {
            tk->index = vi;
            tk->vcol = col;
            tk->query = e->args[1 - side];
            return;
        }
    }
}

/* LIMIT over SORT over PROJECT over a plain table scan: the sort keys (projected
 * expressions over the table's columns) and the limit go into the scan, so every
 * shard returns only its best limit + offset rows; the SORT and LIMIT stay on the
 * coordinator and merge them. Returns 0 (pushed or not) or -1 on allocation failure. */
static int b_push_topk(binder_t *b, plan_t *limit)
{
    plan_t *sort = limit->child;
    if (!limit->limit.limit || !sort || sort->kind != PL_SORT || !sort->child || sort->child->kind != PL_PROJECT)
        return 0;
    plan_t *proj = sort->child, *scan = proj->child;
    if (!scan || scan->kind != PL_SCAN || scan->scan.agg_pushed || scan->scan.lock_rows || scan->scan.nkey ||
        scan->scan.index)
        return 0;
    plan_topk_t *tk = b_alloc(b, sizeof *tk);
    plan_sortkey_t *keys = b_alloc(b, (size_t)sort->sort.nkeys * sizeof *keys);
    if (!tk || !keys)
        return -1;
    memset(tk, 0, sizeof *tk);
    for (int i = 0; i < sort->sort.nkeys; i++) {
        const bexpr_t *ref = sort->sort.keys[i].expr;
        ASSERT(ref->kind == BX_COL && ref->index < proj->ncols);
        bexpr_t *e = proj->project.exprs[ref->index];
        if (!b_fragment_safe(e))
            return 0;
        keys[i] = sort->sort.keys[i];
        keys[i].expr = e;
    }
    tk->nkeys = sort->sort.nkeys;
    tk->keys = keys;
    tk->limit = limit->limit.limit;
    tk->offset = limit->limit.offset;
    b_topk_index(scan->scan.table, tk);
    scan->scan.topk = tk;
    return 0;
}

/* EXPLAIN [ANALYZE] of SELECT / INSERT / UPDATE / DELETE: binds the statement. With
 * ANALYZE the bound EXPLAIN carries it (explain_inner) for the session to run with the
 * executor's counters on (sql/explain_analyze.c). Without, the answer is its plan as
 * rows of one text column "QUERY PLAN" (a VALUES plan; the ef_search line reads the
 * setting when it runs). */
static int b_explain(binder_t *b, const ast_t *stmt, bound_stmt_t *bs)
{
    uint64_t t0 = explain_now_ns();
    const ast_t *q = stmt->explain.stmt;
    unsigned opts = stmt->explain.opts;
    bound_stmt_t *in = b_alloc(b, sizeof *in);
    if (!in)
        return -1;
    in->ast = q;
    in->catalog_version = bs->catalog_version;
    in->ncols = -1;
    int rc = 0;
    switch (q->kind) {
    case AST_SELECT: {
        int nvis;
        const char **names;
        sql_coldesc_t *cols;
        in->kind = ST_QUERY;
        if (!(in->plan = b_select(b, &q->select, &nvis, &names, &cols)))
            return -1;
        break;
    }
    case AST_INSERT: in->kind = ST_INSERT; rc = b_insert(b, q, in); break;
    case AST_UPDATE: in->kind = ST_UPDATE; rc = b_update_delete(b, q, in); break;
    case AST_DELETE: in->kind = ST_DELETE; rc = b_update_delete(b, q, in); break;
    default: return sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "EXPLAIN of this statement is not supported");
    }
    if (rc < 0)
        return -1;
    bs->kind = ST_QUERY;
    bs->ncols = bs->nvisible = 1;
    if (!(bs->cols = b_alloc(b, sizeof(sql_coldesc_t))))
        return -1;
    bs->cols[0] = (sql_coldesc_t){"QUERY PLAN", 0, 0, TYPE_TEXT, -1, -1};
    bs->explain_opts = opts;
    bs->explain_plan_ns = explain_now_ns() - t0;
    if (opts & AST_EXPLAIN_ANALYZE) {
        bs->explain_inner = in;
        return 0;
    }
    const char **lines;
    int n;
    if (explain_text(in, NULL, 0, b->a, &lines, &n) < 0)
        return sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    char summary[64];
    snprintf(summary, sizeof summary, "Planning Time: %.3f ms", (double)bs->explain_plan_ns / 1e6);
    bool with_summary = (opts & AST_EXPLAIN_SUMMARY) != 0;
    plan_t *p = pl_new(b, PL_VALUES, 1);
    if (!p || !(p->values.rows = b_alloc(b, (size_t)(n + 2) * sizeof(bexpr_t **))))
        return -1;
    p->values.nrows = n + with_summary;
    p->types[0] = TYPE_TEXT;
    for (int i = 0; i < n + with_summary; i++) {
        const char *line = i < n ? lines[i] : summary;
        bool guc = line[0] == EXPLAIN_GUC_MARK;
        const char *text = line + guc;
        datum_t v;
        if (!(p->values.rows[i] = b_alloc(b, sizeof(bexpr_t *))) || !(v.s = vstr_new(b->a, text, strlen(text))))
            return sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        bexpr_t *e = bx_const(b, TYPE_TEXT, v, false);
        if (e && guc) {
            datum_t nm;
            bexpr_t *g = bx_new(b, BX_GUC, TYPE_TEXT, 1), *cat = bx_new(b, BX_CONCAT, TYPE_TEXT, 2);
            if (!g || !cat || !(nm.s = vstr_new(b->a, "hnsw.ef_search", 14)) ||
                !(g->args[0] = bx_const(b, TYPE_TEXT, nm, false)))
                return -1;
            cat->args[0] = e;
            cat->args[1] = g;
            e = cat;
        }
        if (!e)
            return -1;
        p->values.rows[i][0] = e;
    }
    bs->plan = p;
    return 0;
}

/* ---- DML ---- */

static const cat_table_t *b_target_table(binder_t *b, const ast_t *rv)
{
    const cat_table_t *t;
    const pgcat_vtab_t *vt;
    b->target_lookup = true;
    int rc = b_relation(b, rv, &t, &vt);
    b->target_lookup = false;
    if (rc < 0)
        return NULL;
    if (!t) {
        sql_error(b->err, "42809", "cannot change system relation \"%s\"", rv->rangevar.name);
        b_pos(b, rv->location);
        return NULL;
    }
    if (t->relkind == 'S') {
        sql_error(b->err, "42809", "cannot change sequence \"%s\"", t->name);
        return NULL;
    }
    if (t->relkind == 'v') {
        /* PostgreSQL writes through simple views (auto-updatable views); not here */
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "changing view \"%s\" is not supported", t->name);
        sql_error_detail(b->err, "Views are not automatically updatable in NextDB.");
        b_pos(b, rv->location);
        return NULL;
    }
    return t;
}

/* An INSERT value for column c of t: identity columns GENERATED ALWAYS take a value
 * only with OVERRIDING SYSTEM VALUE (428C9); OVERRIDING USER VALUE makes identity
 * columns take their default. 1 = use the default, 0 = the value, -1 = error. */
static int b_identity_value(binder_t *b, const cat_table_t *t, int c, int overriding)
{
    char id = t->cols[c].identity;
    if (!id)
        return 0;
    if (overriding == 2)
        return 1;
    if (id == 'a' && overriding != 1) {
        sql_error(b->err, "428C9", "cannot insert a non-DEFAULT value into column \"%s\"", t->cols[c].name);
        sql_error_detail(b->err, "Column \"%s\" is an identity column defined as GENERATED ALWAYS.",
                         t->cols[c].name);
        sql_error_hint(b->err, "Use OVERRIDING SYSTEM VALUE to override.");
        return -1;
    }
    return 0;
}

static int b_table_col(binder_t *b, const cat_table_t *t, const char *name, int location)
{
    for (int c = 0; c < t->ncols; c++)
        if (!t->cols[c].dropped && !strcmp(t->cols[c].name, name))
            return c;
    sql_error(b->err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" of relation \"%s\" does not exist", name, t->name);
    b_pos(b, location);
    return -1;
}

static scope_t *b_table_scope(binder_t *b, const cat_table_t *t, const char *alias)
{
    scope_t *sc = b_alloc(b, sizeof *sc);
    bsrc_t *s = sc ? src_new(b, t->ncols) : NULL;
    if (!s)
        return NULL;
    for (int i = 0; i < t->ncols; i++) {
        s->names[i] = t->cols[i].dropped ? NULL : t->cols[i].name;
        s->types[i] = t->cols[i].type;
        s->typmods[i] = t->cols[i].typmod;
    }
    s->alias = alias ? alias : t->name;
    s->table_oid = t->oid;
    return scope_add(b, sc, s) < 0 ? NULL : sc;
}

/* The DEFAULT of column c as a bound expression (NULL constant when none). */
static bexpr_t *b_default(binder_t *b, const cat_table_t *t, int c)
{
    const cat_column_t *col = &t->cols[c];
    if (!col->default_sql) {
        bexpr_t *e = bx_const(b, col->type, (datum_t){0}, true);
        if (e)
            e->typmod = col->typmod;
        return e;
    }
    char *text = arena_alloc(b->a, strlen(col->default_sql) + 8);
    if (!text) {
        sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    sprintf(text, "SELECT %s", col->default_sql);
    parse_stmt_t *st;
    int n;
    if (parse_sql(b->a, text, strlen(text), &st, &n, b->err) < 0)
        return NULL;
    if (n != 1 || st[0].ast->kind != AST_SELECT || st[0].ast->select.ntargets != 1) {
        sql_error(b->err, SQLSTATE_INTERNAL_ERROR, "bad default expression for column \"%s\"", col->name);
        return NULL;
    }
    scope_t empty = {0};
    bexpr_t *e = b_expr(b, st[0].ast->select.targets[0].expr, &empty);
    return b_assign(b, e, col, -1);
}

static int b_returning(binder_t *b, bound_stmt_t *bs, const cat_table_t *t, int n, const ast_target_t *rt,
                       const scope_t *from_sc)
{
    if (!n) {
        bs->ncols = -1;
        return 0;
    }
    const scope_t *sc = from_sc ? from_sc : b_table_scope(b, t, NULL);
    if (!sc)
        return -1;
    ast_select_t q = {.ntargets = n, .targets = (ast_target_t *)rt};
    tlist_t tl = {0};
    b->agg_allowed = false;
    b->agg_context = "RETURNING";
    if (b_targets(b, &q, sc, &tl) < 0)
        return -1;
    bs->nreturning = tl.n;
    bs->returning = tl.exprs;
    bs->ncols = tl.n;
    bs->nvisible = tl.n;
    if (!(bs->cols = b_alloc(b, (size_t)(tl.n + 1) * sizeof(sql_coldesc_t))))
        return -1;
    for (int i = 0; i < tl.n; i++) {
        if (tl.exprs[i]->type == TYPE_UNKNOWN && !(tl.exprs[i] = b_resolve_unknown(b, tl.exprs[i])))
            return -1;
        const type_info_t *ti = type_lookup(tl.exprs[i]->type);
        bs->cols[i] = (sql_coldesc_t){tl.names[i], tl.table_oids[i], tl.attnums[i], tl.exprs[i]->type,
                                      ti ? ti->typlen : -1, tl.exprs[i]->typmod};
    }
    return 0;
}

/* INSERT, and COPY FROM STDIN (n->kind AST_COPY), which is an INSERT from the data
 * stream: same target columns, defaults, checks and writes. */
static int b_on_conflict(binder_t *b, const ast_t *n, bound_stmt_t *bs, const cat_table_t *t);

static void bx_cols_distinct(const bexpr_t *e, int *first, int *count)
{
    if (e->kind == BX_COL) {
        if (*count == 0 || (*count == 1 && e->index != *first))
            (*count)++;
        if (*count == 1)
            *first = e->index;
    }
    for (int i = 0; i < e->nargs; i++)
        bx_cols_distinct(e->args[i], first, count);
}

static bool bx_has_subq(const bexpr_t *e);

/* One CHECK expression of t bound over t's columns. */
static bexpr_t *b_check(binder_t *b, const cat_table_t *t, const char *sql, int *single_col)
{
    char *text = arena_alloc(b->a, strlen(sql) + 8);
    if (!text) {
        sql_error(b->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    sprintf(text, "SELECT %s", sql);
    parse_stmt_t *st;
    int n;
    if (parse_sql(b->a, text, strlen(text), &st, &n, b->err) < 0)
        return NULL;
    if (n != 1 || st[0].ast->kind != AST_SELECT || st[0].ast->select.ntargets != 1) {
        sql_error(b->err, SQLSTATE_INTERNAL_ERROR, "bad CHECK expression");
        return NULL;
    }
    scope_t *sc = b_table_scope(b, t, NULL);
    if (!sc)
        return NULL;
    bool saved = b->agg_allowed;
    const char *saved_ctx = b->agg_context;
    b->agg_allowed = false;
    b->agg_context = "check constraints";
    bexpr_t *e = b_expr(b, st[0].ast->select.targets[0].expr, sc);
    b->agg_allowed = saved;
    b->agg_context = saved_ctx;
    if (!e)
        return NULL;
    if (bx_has_subq(e)) {
        sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot use subquery in check constraint");
        return NULL;
    }
    if (e->type == TYPE_UNKNOWN && !(e = b_coerce(b, e, TYPE_BOOL, -1, CAST_IMPLICIT, -1)))
        return NULL;
    if (e->type != TYPE_BOOL) {
        const type_info_t *ti = type_lookup(e->type);
        sql_error(b->err, SQLSTATE_DATATYPE_MISMATCH, "argument of CHECK must be type boolean, not type %s",
                  ti ? ti->sql_name : "unknown");
        return NULL;
    }
    if (single_col) {
        int first = -1, count = 0;
        bx_cols_distinct(e, &first, &count);
        *single_col = count == 1 ? first : -1;
    }
    return e;
}

/* The target table's CHECK constraints for an INSERT / UPDATE. */
static int b_checks(binder_t *b, bound_stmt_t *bs, const cat_table_t *t)
{
    bs->nchecks = t->nchecks;
    if (!t->nchecks)
        return 0;
    if (!(bs->checks = b_alloc(b, (size_t)t->nchecks * sizeof(bexpr_t *))))
        return -1;
    for (int k = 0; k < t->nchecks; k++)
        if (!(bs->checks[k] = b_check(b, t, t->checks[k].expr_sql, NULL)))
            return -1;
    return 0;
}

int bind_check_constraint(const bind_env_t *env, const cat_table_t *t, const char *sql, int *single_col,
                          bexpr_t **out, sql_error_t *err)
{
    binder_t *b = arena_alloc(env->arena, sizeof *b);
    if (!b)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(b, 0, sizeof *b);
    b->env = env;
    b->a = env->arena;
    b->err = err;
    if (b_param_room(b, 0) < 0)
        return -1;
    bexpr_t *e = b_check(b, t, sql, single_col);
    if (out)
        *out = e;
    return e ? 0 : -1;
}

/* COPY's FORCE_* column list as flags over the copied columns (target[0..ntarget)
 * are table column indexes): 42703 for an unknown column, 42P10 for one not copied. */
static bool *b_copy_flags(binder_t *b, const cat_table_t *t, const int *target, int ntarget, int n,
                          const char **names, const char *what)
{
    bool *flags = b_alloc(b, (size_t)ntarget + 1);
    if (!flags)
        return NULL;
    memset(flags, 0, (size_t)ntarget + 1);
    for (int i = 0; i < n; i++) {
        int c = b_table_col(b, t, names[i], -1);
        if (c < 0)
            return NULL;
        int k = 0;
        while (k < ntarget && target[k] != c)
            k++;
        if (k == ntarget) {
            sql_error(b->err, "42P10", "%s column \"%s\" not referenced by COPY", what, names[i]);
            return NULL;
        }
        flags[k] = true;
    }
    return flags;
}

/* COPY table [(cols)] TO STDOUT / COPY (query) TO STDOUT: an ST_QUERY whose rows the
 * session sends as CopyData (sql/copy_out.c); no row description. */
static int b_copy_to(binder_t *b, const ast_t *n, bound_stmt_t *bs)
{
    const ast_copy_opts_t *o = n->copy.opts;
    const char **names;
    sql_coldesc_t *descs;
    int nvis;
    if (n->copy.query) {
        if (!(bs->plan = b_select(b, &n->copy.query->select, &nvis, &names, &descs)))
            return -1;
        if (o->nforce_quote) {
            for (int i = 0; i < o->nforce_quote; i++) {
                int k = 0;
                while (k < nvis && (!names[k] || strcmp(names[k], o->force_quote[i])))
                    k++;
                if (k == nvis) {
                    sql_error(b->err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" does not exist", o->force_quote[i]);
                    return -1;
                }
            }
        }
    } else {
        const ast_t *rv = n->copy.table;
        const cat_table_t *t;
        const pgcat_vtab_t *vt;
        if (b_relation(b, rv, &t, &vt) < 0)
            return -1;
        if (!t) {
            sql_error(b->err, "42809", "cannot copy from relation \"%s\"", rv->rangevar.name);
            sql_error_hint(b->err, "Try the COPY (SELECT ...) TO variant.");
            return -1;
        }
        int ncols = n->copy.ncols;
        int *target = b_alloc(b, (size_t)(t->ncols + 1) * sizeof(int));
        if (!target)
            return -1;
        int nt = 0;
        if (ncols) {
            for (int i = 0; i < ncols; i++) {
                int c = b_table_col(b, t, n->copy.cols[i], -1);
                if (c < 0)
                    return -1;
                for (int k = 0; k < nt; k++)
                    if (target[k] == c) {
                        sql_error(b->err, "42701", "column \"%s\" specified more than once", n->copy.cols[i]);
                        return -1;
                    }
                target[nt++] = c;
            }
        } else {
            for (int c = 0; c < t->ncols; c++)
                if (!t->cols[c].dropped)
                    target[nt++] = c;
        }
        if (o->nforce_quote && !(bs->copy_force_quote = b_copy_flags(b, t, target, nt, o->nforce_quote,
                                                                      o->force_quote, "FORCE_QUOTE")))
            return -1;
        /* SELECT cols FROM t */
        ast_select_t q = {0};
        ast_t **items = b_alloc(b, sizeof(ast_t *));
        ast_target_t *tl = b_alloc(b, (size_t)(nt + 1) * sizeof(ast_target_t));
        if (!items || !tl)
            return -1;
        items[0] = (ast_t *)rv;
        q.from.n = 1;
        q.from.items = items;
        q.ntargets = nt;
        q.targets = tl;
        for (int i = 0; i < nt; i++) {
            ast_t *cr = b_alloc(b, sizeof(ast_t));
            if (!cr)
                return -1;
            memset(cr, 0, sizeof *cr);
            cr->kind = AST_COLREF;
            cr->location = -1;
            cr->colref.nfields = 1;
            cr->colref.fields[0] = t->cols[target[i]].name;
            tl[i] = (ast_target_t){NULL, cr, -1};
        }
        if (!(bs->plan = b_select(b, &q, &nvis, &names, &descs)))
            return -1;
    }
    if (!bs->copy_force_quote) {
        if (!(bs->copy_force_quote = b_alloc(b, (size_t)nvis + 1)))
            return -1;
        memset(bs->copy_force_quote, 0, (size_t)nvis + 1);
        for (int k = 0; k < nvis; k++) {
            bool f = o->force_quote_all;
            for (int i = 0; !f && n->copy.query && i < o->nforce_quote; i++)
                f = names[k] && !strcmp(names[k], o->force_quote[i]);
            bs->copy_force_quote[k] = f;
        }
    }
    bs->kind = ST_QUERY;
    bs->copy_to = n;
    bs->copy_names = names;
    bs->nvisible = nvis;
    bs->ncols = -1;          /* no RowDescription: the rows go out as CopyData */
    bs->cols = descs;
    return 0;
}

static int b_insert(binder_t *b, const ast_t *n, bound_stmt_t *bs)
{
    bool copy = n->kind == AST_COPY;
    const ast_t *rv = copy ? n->copy.table : n->insert.table;
    const cat_table_t *t = b_target_table(b, rv);
    if (!t)
        return -1;
    bs->table = t;
    if (!(bs->coltypes = plan_table_types(b->a, t)))
        return -1;
    int ncols = copy ? n->copy.ncols : n->insert.ncols;
    const char **cols = copy ? n->copy.cols : n->insert.cols;
    /* target columns: table column index per position */
    int ntarget = ncols;
    int *target = b_alloc(b, (size_t)(t->ncols + 1) * sizeof(int));
    if (!target)
        return -1;
    if (ntarget) {
        for (int i = 0; i < ntarget; i++) {
            int c = b_table_col(b, t, cols[i], rv->location);
            if (c < 0)
                return -1;
            for (int k = 0; k < i; k++)
                if (target[k] == c) {
                    sql_error(b->err, "42701", "column \"%s\" specified more than once", cols[i]);
                    return -1;
                }
            target[i] = c;
        }
    } else {
        for (int c = 0; c < t->ncols; c++)
            if (!t->cols[c].dropped)
                target[ntarget++] = c;
    }
    const ast_t *src = n->insert.source;
    plan_t *p;
    if (n->kind == AST_COPY) {
        /* the data stream's fields, converted to the target columns' types as read */
        plan_t *cp = pl_new(b, PL_COPY, ntarget);
        if (!cp || !(p = pl_new(b, PL_PROJECT, t->ncols)) ||
            !(p->project.exprs = b_alloc(b, (size_t)t->ncols * sizeof(bexpr_t *))) ||
            !(cp->copy.colnames = b_alloc(b, (size_t)(ntarget + 1) * sizeof(char *))))
            return -1;
        cp->copy.delimiter = n->copy.delimiter;
        cp->copy.null_string = n->copy.null_string;
        cp->copy.opts = n->copy.opts;
        cp->copy.relname = t->name;
        const ast_copy_opts_t *o = n->copy.opts;
        if (o && (o->nforce_not_null || o->nforce_null)) {
            if (!(cp->copy.force_not_null = b_copy_flags(b, t, target, ntarget, o->nforce_not_null,
                                                         o->force_not_null, "FORCE_NOT_NULL")) ||
                !(cp->copy.force_null = b_copy_flags(b, t, target, ntarget, o->nforce_null, o->force_null,
                                                     "FORCE_NULL")))
                return -1;
        }
        p->child = cp;
        for (int i = 0; i < ntarget; i++) {
            const cat_column_t *col = &t->cols[target[i]];
            cp->types[i] = col->type;
            cp->typmods[i] = col->typmod;
            cp->copy.colnames[i] = col->name;
            if (!(p->project.exprs[target[i]] = bx_col(b, i, col->type, col->typmod, col->name)))
                return -1;
        }
        for (int c = 0; c < t->ncols; c++)
            if (!p->project.exprs[c] && !(p->project.exprs[c] = b_default(b, t, c)))
                return -1;
        bs->is_copy = true;
    } else if (!src || src->select.nvalues_rows) {
        int nrows = src ? src->select.nvalues_rows : 1;
        if (!(p = pl_new(b, PL_VALUES, t->ncols)) || !(p->values.rows = b_alloc(b, (size_t)nrows * sizeof(bexpr_t **))))
            return -1;
        p->values.nrows = nrows;
        scope_t empty = {0};
        for (int r = 0; r < nrows; r++) {
            const ast_list_t *row = src ? &src->select.values[r] : NULL;
            int nv = row ? row->n : 0;
            if (row && nv > ntarget) {
                sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "INSERT has more expressions than target columns");
                b_pos(b, row->items[ntarget]->location);
                return -1;
            }
            if (row && nv < ntarget && n->insert.ncols) {
                sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "INSERT has more target columns than expressions");
                return -1;
            }
            bexpr_t **vals = b_alloc(b, (size_t)(t->ncols + 1) * sizeof(bexpr_t *));
            if (!vals)
                return -1;
            for (int c = 0; c < t->ncols; c++)
                vals[c] = NULL;
            for (int i = 0; i < nv; i++) {
                int c = target[i];
                const ast_t *x = row->items[i];
                int idv = x->kind == AST_DEFAULT ? 1 : b_identity_value(b, t, c, n->insert.overriding);
                if (idv < 0)
                    return -1;
                bexpr_t *e = idv ? b_default(b, t, c)
                                 : b_assign(b, b_expr(b, x, &empty), &t->cols[c], x->location);
                if (!e)
                    return -1;
                vals[c] = e;
            }
            for (int c = 0; c < t->ncols; c++)
                if (!vals[c] && !(vals[c] = b_default(b, t, c)))
                    return -1;
            p->values.rows[r] = vals;
        }
    } else {
        int nvis;
        const char **names;
        sql_coldesc_t *descs;
        b->setop_input = true;     /* literals stay untyped: they take the columns' types */
        plan_t *sp = b_select(b, &src->select, &nvis, &names, &descs);
        b->setop_input = false;
        if (!sp)
            return -1;
        if (nvis > ntarget) {
            sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "INSERT has more expressions than target columns");
            return -1;
        }
        if (nvis < ntarget && n->insert.ncols) {
            sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "INSERT has more target columns than expressions");
            return -1;
        }
        if (!(p = pl_new(b, PL_PROJECT, t->ncols)) || !(p->project.exprs = b_alloc(b, (size_t)t->ncols * sizeof(bexpr_t *))))
            return -1;
        p->child = sp;
        for (int c = 0; c < t->ncols; c++)
            p->project.exprs[c] = NULL;
        for (int i = 0; i < nvis; i++) {
            int c = target[i];
            int idv = b_identity_value(b, t, c, n->insert.overriding);
            if (idv < 0)
                return -1;
            if (sp->types[i] == TYPE_UNKNOWN && sp->kind == PL_PROJECT) {
                /* `INSERT INTO t (j) SELECT NULL` / `SELECT '{}'`: as PostgreSQL, an
                 * untyped literal of the select list is read as the column's type */
                bexpr_t *lit = b_assign(b, sp->project.exprs[i], &t->cols[c], -1);
                if (!lit)
                    return -1;
                sp->project.exprs[i] = lit;
                sp->types[i] = lit->type;
                sp->typmods[i] = lit->typmod;
            }
            bexpr_t *e = bx_col(b, i, sp->types[i], sp->typmods[i], names[i]);
            if (!(p->project.exprs[c] = idv ? b_default(b, t, c) : b_assign(b, e, &t->cols[c], -1)))
                return -1;
        }
        for (int c = 0; c < t->ncols; c++)
            if (!p->project.exprs[c] && !(p->project.exprs[c] = b_default(b, t, c)))
                return -1;
    }
    for (int c = 0; c < t->ncols; c++) {
        p->types[c] = t->cols[c].type;
        p->typmods[c] = t->cols[c].typmod;
    }
    bs->plan = p;
    if (b_checks(b, bs, t) < 0)
        return -1;
    if (!copy && n->insert.conflict_action && b_on_conflict(b, n, bs, t) < 0)
        return -1;
    return copy ? 0 : b_returning(b, bs, t, n->insert.nreturning, n->insert.returning, NULL);
}

/* Whether the column names `cols` are exactly the attnums `att` as a set. */
static bool b_same_cols(binder_t *b, const cat_table_t *t, int n, const char **cols, int na, const int16_t *att)
{
    if (n == 0 || na == 0)
        return false;
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (int k = 0; k < na; k++) {
            for (int c = 0; c < t->ncols; c++)
                if (!t->cols[c].dropped && t->cols[c].attnum == att[k] && !strcmp(t->cols[c].name, cols[i]))
                    found = true;
        }
        if (!found)
            return false;
    }
    for (int k = 0; k < na; k++) {
        bool found = false;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < t->ncols; c++)
                if (t->cols[c].attnum == att[k] && !strcmp(t->cols[c].name, cols[i]))
                    found = true;
        if (!found)
            return false;
    }
    (void)b;
    return true;
}

/* INSERT ... ON CONFLICT: the arbiter must be the primary key (unique indexes are
 * checked at statement end and cannot arbitrate: 0A000); DO UPDATE's SET and WHERE
 * bind over the table's columns followed by EXCLUDED's. */
static int b_on_conflict(binder_t *b, const ast_t *n, bound_stmt_t *bs, const cat_table_t *t)
{
    const ast_t *rv = n->insert.table;
    bool upd = n->insert.conflict_action == 2;
    if (n->insert.conflict_has_where)
        return sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ON CONFLICT with an index predicate is not supported");
    const char *con = n->insert.conflict_constraint;
    int nc = n->insert.nconflict_cols;
    if (con) {
        if (!(t->npk && t->pk_name && !strcmp(con, t->pk_name))) {
            for (int k = 0; k < t->nindexes && !bs->upsert_index; k++)
                if (t->indexes[k].constraint && !strcmp(t->indexes[k].name, con))
                    bs->upsert_index = &t->indexes[k];     /* a UNIQUE constraint (sql/secindex.h) */
            if (!bs->upsert_index)
                return sql_error(b->err, SQLSTATE_UNDEFINED_OBJECT,
                                 "constraint \"%s\" for table \"%s\" does not exist", con, t->name);
        }
    } else if (nc) {
        for (int i = 0; i < nc; i++) {
            bool found = false;
            for (int c = 0; c < t->ncols; c++)
                found |= !t->cols[c].dropped && !strcmp(t->cols[c].name, n->insert.conflict_cols[i]);
            if (!found)
                return sql_error(b->err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" does not exist",
                                 n->insert.conflict_cols[i]);
        }
        if (!b_same_cols(b, t, nc, n->insert.conflict_cols, t->npk, t->pk_attnums)) {
            for (int k = 0; k < t->nindexes && !bs->upsert_index; k++)
                if (t->indexes[k].unique &&
                    b_same_cols(b, t, nc, n->insert.conflict_cols, t->indexes[k].ncols, t->indexes[k].attnums))
                    bs->upsert_index = &t->indexes[k];     /* a unique index as arbiter */
            if (!bs->upsert_index)
                return sql_error(b->err, "42P10",
                                 "there is no unique or exclusion constraint matching the ON CONFLICT specification");
        }
    } else if (upd) {
        sql_error(b->err, SQLSTATE_SYNTAX_ERROR, "ON CONFLICT DO UPDATE requires inference specification or "
                  "constraint name");
        sql_error_hint(b->err, "For example, ON CONFLICT (column_name).");
        return -1;
    } else if (catalog_table_has_unique(t)) {
        bs->upsert_any = true;      /* DO NOTHING: a conflict on any unique index skips the row */
    }
    bs->upsert = n->insert.conflict_action;
    if (!upd)
        return 0;
    scope_t *sc = b_table_scope(b, t, rv->rangevar.alias);
    bsrc_t *ex = sc ? src_new(b, t->ncols) : NULL;
    if (!ex)
        return -1;
    for (int i = 0; i < t->ncols; i++) {
        ex->names[i] = t->cols[i].dropped ? NULL : t->cols[i].name;
        ex->types[i] = t->cols[i].type;
        ex->typmods[i] = t->cols[i].typmod;
    }
    ex->alias = "excluded";
    ex->table_oid = t->oid;
    if (scope_add(b, sc, ex) < 0)
        return -1;
    int k = n->insert.nconflict_set;
    bs->nset = k;
    bs->set_idx = b_alloc(b, (size_t)(k + 1) * sizeof(int));
    bs->set_exprs = b_alloc(b, (size_t)(k + 1) * sizeof(bexpr_t *));
    if (!bs->set_idx || !bs->set_exprs)
        return -1;
    b->agg_allowed = false;
    b->agg_context = "UPDATE";
    for (int i = 0; i < k; i++) {
        int c = b_table_col(b, t, n->insert.conflict_set_cols[i], -1);
        if (c < 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (bs->set_idx[j] == c)
                return sql_error(b->err, "42601", "multiple assignments to same column \"%s\"", t->cols[c].name);
        for (int p = 0; p < t->npk; p++)
            if (t->pk_attnums[p] == t->cols[c].attnum)
                return sql_error(b->err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                                 "ON CONFLICT DO UPDATE of a primary key column is not supported");
        const ast_t *x = n->insert.conflict_set_exprs[i];
        if (t->cols[c].identity == 'a' && x->kind != AST_DEFAULT) {
            sql_error(b->err, "428C9", "column \"%s\" can only be updated to DEFAULT", t->cols[c].name);
            sql_error_detail(b->err, "Column \"%s\" is an identity column defined as GENERATED ALWAYS.",
                             t->cols[c].name);
            return -1;
        }
        bs->set_idx[i] = c;
        bexpr_t *e = x->kind == AST_DEFAULT ? b_default(b, t, c)
                                            : b_assign(b, b_expr(b, x, sc), &t->cols[c], x->location);
        if (!e)
            return -1;
        bs->set_exprs[i] = e;
    }
    if (n->insert.conflict_where && !(bs->where = b_where(b, n->insert.conflict_where, sc, "WHERE")))
        return -1;
    return 0;
}

/* UPDATE ... FROM / DELETE ... USING: the scope of the target followed by the other
 * items, and bs->from_plan joining them under the WHERE clause (the target is the
 * first item, so its columns come first in every row). */
/* 42712 when a FROM / USING item (or a join's member) takes the target's name. */
static int b_from_name_clash(binder_t *b, const ast_t *it, const char *name)
{
    const char *other = NULL;
    if (it->kind == AST_JOIN) {
        if (b_from_name_clash(b, it->join.l, name) < 0 || b_from_name_clash(b, it->join.r, name) < 0)
            return -1;
        other = it->join.alias;
    } else if (it->kind == AST_RANGEVAR) {
        other = it->rangevar.alias ? it->rangevar.alias : it->rangevar.name;
    } else if (it->kind == AST_RANGESUB) {
        other = it->rangesub.alias;
    } else if (it->kind == AST_RANGEFUNC) {
        other = it->rangefunc.alias;
    } else if (it->kind == AST_CTEREF) {
        other = it->cteref.alias ? it->cteref.alias : it->cteref.name;
    }
    if (other && !strcmp(other, name)) {
        sql_error(b->err, "42712", "table name \"%s\" specified more than once", name);
        b_pos(b, it->location);
        return -1;
    }
    return 0;
}

static scope_t *b_from_scope(binder_t *b, const ast_t *n, const ast_t *rv, const ast_list_t *from,
                             bound_stmt_t *bs)
{
    const char *tname = rv->rangevar.alias ? rv->rangevar.alias : rv->rangevar.name;
    for (int i = 0; i < from->n; i++)
        if (b_from_name_clash(b, from->items[i], tname) < 0)
            return NULL;
    scope_t *sc = b_alloc(b, sizeof *sc);
    ast_t **items = b_alloc(b, (size_t)(from->n + 1) * sizeof(ast_t *));
    if (!sc || !items)
        return NULL;
    items[0] = (ast_t *)rv;
    for (int i = 0; i < from->n; i++)
        items[i + 1] = from->items[i];
    ast_select_t q = {0};
    q.from.n = from->n + 1;
    q.from.items = items;
    q.where = n->kind == AST_UPDATE ? n->update.where : n->del.where;
    b->agg_allowed = false;
    b->agg_context = "WHERE";
    plan_t *p = b_from_where(b, &q, sc);
    if (!p)
        return NULL;
    if (b_join_keys(b, p) < 0)
        return NULL;
    bs->from_plan = p;
    bs->from_ncols = p->ncols;
    return sc;
}

static int b_update_delete(binder_t *b, const ast_t *n, bound_stmt_t *bs)
{
    bool upd = n->kind == AST_UPDATE;
    const ast_t *rv = upd ? n->update.table : n->del.table;
    const cat_table_t *t = b_target_table(b, rv);
    if (!t)
        return -1;
    bs->table = t;
    if (!(bs->coltypes = plan_table_types(b->a, t)))
        return -1;
    const ast_list_t *from = upd ? &n->update.from : &n->del.from;
    scope_t *sc = from->n ? b_from_scope(b, n, rv, from, bs) : b_table_scope(b, t, rv->rangevar.alias);
    if (!sc)
        return -1;
    if (upd) {
        int k = n->update.nset;
        bs->nset = k;
        bs->set_idx = b_alloc(b, (size_t)(k + 1) * sizeof(int));
        bs->set_exprs = b_alloc(b, (size_t)(k + 1) * sizeof(bexpr_t *));
        if (!bs->set_idx || !bs->set_exprs)
            return -1;
        b->agg_allowed = false;
        b->agg_context = "UPDATE";
        for (int i = 0; i < k; i++) {
            int c = b_table_col(b, t, n->update.set_cols[i], -1);
            if (c < 0)
                return -1;
            for (int j = 0; j < i; j++)
                if (bs->set_idx[j] == c) {
                    sql_error(b->err, "42601", "multiple assignments to same column \"%s\"", t->cols[c].name);
                    return -1;
                }
            bs->set_idx[i] = c;
            const ast_t *x = n->update.set_exprs[i];
            if (t->cols[c].identity == 'a' && x->kind != AST_DEFAULT) {
                sql_error(b->err, "428C9", "column \"%s\" can only be updated to DEFAULT", t->cols[c].name);
                sql_error_detail(b->err, "Column \"%s\" is an identity column defined as GENERATED ALWAYS.",
                                 t->cols[c].name);
                return -1;
            }
            bexpr_t *e = x->kind == AST_DEFAULT ? b_default(b, t, c)
                                                : b_assign(b, b_expr(b, x, sc), &t->cols[c], x->location);
            if (!e)
                return -1;
            bs->set_exprs[i] = e;
            for (int p = 0; p < t->npk; p++)
                if (t->pk_attnums[p] == t->cols[c].attnum)
                    bs->set_changes_pk = true;
        }
    }
    if (upd && b_checks(b, bs, t) < 0)
        return -1;
    const ast_t *where = upd ? n->update.where : n->del.where;
    if (where && bs->from_plan) {
        /* the join applies it; the rows' re-check after locking them uses this copy */
        if (!(bs->where = b_where(b, where, sc, "WHERE")))
            return -1;
    } else if (where) {
        if (!(bs->where = b_where(b, where, sc, "WHERE")))
            return -1;
        bexpr_t *conj[LIMIT_BIND_CONJUNCTS];
        int nc = b_conjuncts(b, bs->where, conj, LIMIT_BIND_CONJUNCTS);
        bexpr_t **key = b_alloc(b, (size_t)(t->npk + 1) * sizeof(bexpr_t *));
        if (nc < 0 || !key)
            return -1;
        if (b_point_key(b, t, conj, nc, 0, key)) {
            bs->nkey = t->npk;
            bs->key = key;
        } else if (bind_index_scan(b, t, conj, nc, &bs->dml_index, &bs->dml_ixkey) < 0) {
            return -1;
        }
    }
    if (b_returning(b, bs, t, upd ? n->update.nreturning : n->del.nreturning,
                    upd ? n->update.returning : n->del.returning, bs->from_plan ? sc : NULL) < 0)
        return -1;
    return bind_dml_corr(b, bs, t, where, sc);    /* correlated subqueries: sql/bind_dml_corr.c */
}

bound_stmt_t *bind_statement(const bind_env_t *env, const ast_t *stmt, sql_error_t *err)
{
    binder_t *b = arena_alloc(env->arena, sizeof *b);
    if (!b) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    memset(b, 0, sizeof *b);
    b->env = env;
    b->a = env->arena;
    b->err = err;
    if (env->nparams > 0 && b_param_room(b, env->nparams - 1) < 0)
        return NULL;
    b->nparams = env->nparams;
    if (b_param_room(b, 0) < 0)
        return NULL;
    for (int i = 0; i < env->nparams; i++) {
        b->param_types[i] = env->param_types ? env->param_types[i] : 0;
        b->param_fixed[i] = b->param_types[i] != 0 && b->param_types[i] != TYPE_UNKNOWN;
        if (!b->param_fixed[i])
            b->param_types[i] = 0;
    }
    bound_stmt_t *bs = b_alloc(b, sizeof *bs);
    if (!bs)
        return NULL;
    bs->ast = stmt;
    bs->catalog_version = env->catalog->version;
    bs->ncols = -1;
    int rc = 0;
    switch (stmt->kind) {
    case AST_SELECT: {
        bs->kind = ST_QUERY;
        const char **names;
        if (!(bs->plan = b_select(b, &stmt->select, &bs->nvisible, &names, &bs->cols)))
            return NULL;
        bs->ncols = bs->nvisible;
        if (!bs->cols) {
            if (!(bs->cols = b_alloc(b, (size_t)(bs->ncols + 1) * sizeof(sql_coldesc_t))))
                return NULL;
            for (int i = 0; i < bs->ncols; i++) {
                const type_info_t *ti = type_lookup(bs->plan->types[i]);
                bs->cols[i] = (sql_coldesc_t){names[i], 0, 0, bs->plan->types[i], ti ? ti->typlen : -1,
                                              bs->plan->typmods[i]};
            }
        }
        break;
    }
    case AST_INSERT: bs->kind = ST_INSERT; rc = b_insert(b, stmt, bs); break;
    case AST_COPY:
        if (stmt->copy.to) {
            rc = b_copy_to(b, stmt, bs);
        } else {
            bs->kind = ST_INSERT;
            rc = b_insert(b, stmt, bs);
        }
        break;
    case AST_UPDATE: bs->kind = ST_UPDATE; rc = b_update_delete(b, stmt, bs); break;
    case AST_DELETE: bs->kind = ST_DELETE; rc = b_update_delete(b, stmt, bs); break;
    case AST_CREATE_TABLE: bs->kind = ST_CREATE; break;
    case AST_DROP_TABLE: bs->kind = ST_DROP; break;
    case AST_CREATE_SEQ: bs->kind = ST_CREATE; break;
    case AST_DROP_SEQ: bs->kind = ST_DROP; break;
    case AST_CREATE_INDEX: bs->kind = ST_CREATE; break;
    case AST_EXPLAIN: rc = b_explain(b, stmt, bs); break;
    case AST_DROP_INDEX: bs->kind = ST_DROP; break;
    case AST_TRUNCATE: bs->kind = ST_TRUNCATE; break;
    case AST_TXN: bs->kind = ST_TXN; break;
    case AST_SET: bs->kind = ST_SET; break;
    case AST_SHOW: {
        bs->kind = ST_SHOW;
        bool all = !strcasecmp(stmt->show.name, "all");
        bs->ncols = bs->nvisible = all ? 3 : 1;
        if (!(bs->cols = b_alloc(b, 3 * sizeof(sql_coldesc_t))))
            return NULL;
        if (all) {
            bs->cols[0] = (sql_coldesc_t){"name", 0, 0, TYPE_TEXT, -1, -1};
            bs->cols[1] = (sql_coldesc_t){"setting", 0, 0, TYPE_TEXT, -1, -1};
            bs->cols[2] = (sql_coldesc_t){"description", 0, 0, TYPE_TEXT, -1, -1};
        } else {
            bs->cols[0] = (sql_coldesc_t){stmt->show.name, 0, 0, TYPE_TEXT, -1, -1};
        }
        break;
    }
    case AST_VACUUM: bs->kind = ST_NOOP; bs->noop_tag = stmt->show.name ? stmt->show.name : "VACUUM"; break;
    case AST_DISCARD: bs->kind = ST_NOOP; bs->noop_tag = "DISCARD ALL"; break;
    case AST_CREATE_EXTENSION: bs->kind = ST_NOOP; bs->noop_tag = "CREATE EXTENSION"; break;
    case AST_ALTER_ADD_PK: bs->kind = ST_ALTER_PK; break;
    case AST_CREATE_VIEW: bs->kind = ST_CREATE; break;
    case AST_ALTER_TABLE: bs->kind = ST_ALTER_PK; break;     /* DDL run from its AST, like ADD PRIMARY KEY */
    case AST_DROP_VIEW: bs->kind = ST_DROP; break;
    /* SQL-level prepared statements run in the session (it owns the namespace);
     * EXECUTE's result columns are those of the statement it names. */
    case AST_PREPARE: bs->kind = ST_NOOP; bs->noop_tag = "PREPARE"; break;
    case AST_EXECUTE: bs->kind = ST_NOOP; bs->noop_tag = "EXECUTE"; break;
    /* cursors run in the session too (sql/session.c, "cursors") */
    case AST_DECLARE_CURSOR: bs->kind = ST_NOOP; bs->noop_tag = "DECLARE CURSOR"; break;
    case AST_FETCH: bs->kind = ST_NOOP; bs->noop_tag = "FETCH"; break;
    case AST_CLOSE_CURSOR: bs->kind = ST_NOOP; bs->noop_tag = stmt->cursor.name ? "CLOSE CURSOR" : "CLOSE CURSOR ALL"; break;
    case AST_DEALLOCATE:
        bs->kind = ST_NOOP;
        bs->noop_tag = stmt->execute.name ? "DEALLOCATE" : "DEALLOCATE ALL";
        break;
    default:
        sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "this statement is not supported");
        return NULL;
    }
    if (rc < 0)
        return NULL;
    bs->ndeps = b->ndeps;
    bs->deps = b->deps;      /* the binder lives in env->arena, as bs does */
    /* parameters nobody typed become text */
    bs->nparams = b->nparams;
    if (!(bs->param_types = b_alloc(b, (size_t)(b->nparams + 1) * sizeof(type_oid_t))))
        return NULL;
    for (int i = 0; i < b->nparams; i++) {
        type_oid_t t = b->param_types[i];
        if (t == 0 || t == TYPE_UNKNOWN)
            t = TYPE_TEXT;
        bs->param_types[i] = t;
        if (b->param_nodes[i] && (b->param_nodes[i]->type == TYPE_UNKNOWN || b->param_nodes[i]->type == 0))
            b->param_nodes[i]->type = t;
    }
    bs->nsubq = b->nsubq;
    if (b->nsubq) {
        bs->subq = b_alloc(b, (size_t)b->nsubq * sizeof(plan_t *));
        bs->subq_kind = b_alloc(b, (size_t)b->nsubq * sizeof(int));
        if (!bs->subq || !bs->subq_kind)
            return NULL;
        memcpy(bs->subq, b->subq, (size_t)b->nsubq * sizeof(plan_t *));
        memcpy(bs->subq_kind, b->subq_kind, (size_t)b->nsubq * sizeof(int));
    }
    return bs;
}

/* ---- the hook for bind_window.c and bind_cte.c (bind_int.h) ---- */

void *bind__alloc(binder_t *b, size_t n) { return b_alloc(b, n); }
sql_error_t *bind__err(binder_t *b) { return b->err; }
void bind__pos(binder_t *b, int location) { b_pos(b, location); }
const char *bind__typename(binder_t *b, type_oid_t t) { return b_typename(b, t); }
bexpr_t *bind__expr(binder_t *b, const ast_t *n, const scope_t *sc) { return b_expr(b, n, sc); }
const ast_t *bind__subq_ast(binder_t *b, int slot) { return slot >= 0 && slot < b->nsubq ? b->subq_ast[slot] : NULL; }
bexpr_t *bind__shifted_expr(binder_t *b, const ast_t *n, const scope_t *sc, const ast_t *shift_node, int shift)
{
    b->shift_node = shift_node;
    b->shift_scope = sc;
    b->outer_shift = shift;
    bexpr_t *e = b_expr(b, n, sc);
    b->shift_node = NULL;
    b->shift_scope = NULL;
    return e;
}
bexpr_t *bind__coerce(binder_t *b, bexpr_t *e, type_oid_t to, int32_t typmod, int location)
{
    return b_coerce(b, e, to, typmod, CAST_IMPLICIT, location);
}
bexpr_t *bind__resolve_unknown(binder_t *b, bexpr_t *e) { return b_resolve_unknown(b, e); }
bexpr_t *bind__col(binder_t *b, int index, type_oid_t type, int32_t typmod, const char *name)
{
    return bx_col(b, index, type, typmod, name);
}
bool bind__equal(const bexpr_t *x, const bexpr_t *y) { return bx_equal(x, y); }
plan_t *bind__plan(binder_t *b, plan_kind_t kind, int ncols) { return pl_new(b, kind, ncols); }
bexpr_t *bind__agg_rewrite(binder_t *b, bexpr_t *e, bexpr_t **groups, int ngroup)
{
    return b_agg_rewrite(b, e, groups, ngroup);
}
int bind__aggfn(const char *name) { return b_aggfn(name); }

int bind__win_agg(binder_t *b, const ast_t *n, const scope_t *sc, int fn, plan_agg_t *out)
{
    bool allowed = b->agg_allowed;
    b->agg_allowed = true;
    b->win_agg = true;
    bexpr_t *e = b_agg(b, n, sc, fn);
    b->win_agg = false;
    b->agg_allowed = allowed;
    if (!e)
        return -1;
    ASSERT(e->kind == BX_AGGREF && e->index == b->naggs - 1);
    *out = b->aggs[--b->naggs];
    return 0;
}

bool bind__agg_allowed(binder_t *b, const char **context)
{
    *context = b->agg_context;
    return b->agg_allowed;
}
bind_win_t **bind__win_slot(binder_t *b) { return &b->win; }
bind_rec_t **bind__rec_slot(binder_t *b) { return &b->rec; }
const void *bind__outer(binder_t *b) { return b->outer; }

plan_t *bind__select(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                     sql_coldesc_t **descs)
{
    int saved_naggs = b->naggs, saved_cap = b->aggcap;
    plan_agg_t *saved_aggs = b->aggs;
    b->naggs = b->aggcap = 0;
    b->aggs = NULL;
    plan_t *p = b_select(b, q, nvisible, names, descs);
    b->naggs = saved_naggs;
    b->aggcap = saved_cap;
    b->aggs = saved_aggs;
    return p;
}

int bind__add_source(binder_t *b, scope_t *sc, const char *alias, int ncols, const char *const *names,
                     const type_oid_t *types, const int32_t *typmods, const ast_list_t *colaliases)
{
    bsrc_t *s = src_new(b, ncols);
    if (!s)
        return -1;
    s->alias = alias;
    for (int i = 0; i < ncols; i++) {
        s->names[i] = names[i];
        s->types[i] = types[i];
        s->typmods[i] = typmods[i];
    }
    if (colaliases && b_apply_colaliases(b, s, colaliases, alias) < 0)
        return -1;
    return scope_add(b, sc, s);
}

plan_t *bind__conform(binder_t *b, plan_t *p, int n, const type_oid_t *types) { return b_conform(b, p, n, types); }
