/*
 * bind_dml_corr.c -- UPDATE / DELETE whose WHERE, SET or RETURNING runs a correlated
 * subquery (`SET x = (SELECT max(y) FROM u WHERE u.k = t.k)`, `WHERE NOT EXISTS
 * (...)`, `x > (SELECT avg(x) FROM t t2 WHERE t2.g = t.g)`).
 *
 * Shards cannot run subqueries, so such a statement takes the UPDATE ... FROM path
 * (exec_update_from.c): the coordinator decides the rows and the shards apply them by
 * key. The binder plans bs->from_plan as
 *
 *     PROJECT(row columns ++ values of the correlated subqueries of SET / RETURNING)
 *       FILTER(the WHERE conjuncts running a correlated subquery)
 *         SCAN(target, the other conjuncts; a point get or index scan when they allow)
 *
 * (with FROM / USING, the join b_from_scope planned stands for FILTER + SCAN), and
 * rewrites SET and RETURNING to read those values as columns. An UPDATE's RETURNING
 * subqueries see the updated row, so two more PROJECTs compute it on the way. The WHERE moves to
 * corr_where: the coordinator evaluated it, and re-evaluates it with the subqueries
 * over a row's newest version when a concurrent transaction changed the row
 * (exec_dml_corr.c), so the shards do not re-check it.
 */
#include <string.h>

#include "core/limits.h"
#include "sql/bind_int.h"
#include "sql/builtins.h"
#include "sql/plan.h"

static bool has_corr(const bexpr_t *e)
{
    if (!e)
        return false;
    if (e->kind == BX_SUBQ && e->flag)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (has_corr(e->args[i]))
            return true;
    return false;
}

typedef struct corr_acc {
    binder_t *b;
    int base;          /* columns of the row before the subquery values */
    int n, cap;
    bexpr_t **vals;
} corr_acc_t;

/* A copy of e with every correlated subquery replaced by a column reading its value
 * (appended to acc->vals); nodes without one are shared. */
static bexpr_t *rewrite(corr_acc_t *acc, bexpr_t *e)
{
    if (!has_corr(e))
        return e;
    if (e->kind == BX_SUBQ && e->flag) {
        if (acc->n == acc->cap) {
            int cap = acc->cap ? acc->cap * 2 : 8;
            bexpr_t **v = bind__alloc(acc->b, (size_t)cap * sizeof *v);
            if (!v)
                return NULL;
            if (acc->n)
                memcpy(v, acc->vals, (size_t)acc->n * sizeof *v);
            acc->vals = v;
            acc->cap = cap;
        }
        acc->vals[acc->n] = e;
        return bind__col(acc->b, acc->base + acc->n++, e->type, e->typmod, NULL);
    }
    bexpr_t *c = bind__alloc(acc->b, sizeof *c);
    bexpr_t **args = bind__alloc(acc->b, (size_t)(e->nargs + 1) * sizeof *args);
    if (!c || !args)
        return NULL;
    *c = *e;
    c->args = args;
    for (int i = 0; i < e->nargs; i++)
        if (!(args[i] = rewrite(acc, e->args[i])))
            return NULL;
    return c;
}

static int conjuncts(bexpr_t *e, bexpr_t **out, int n, int max)
{
    if (n < 0)
        return n;
    if (e->kind == BX_AND) {
        for (int i = 0; i < e->nargs && n >= 0; i++)
            n = conjuncts(e->args[i], out, n, max);
        return n;
    }
    if (n >= max)
        return -1;
    out[n] = e;
    return n + 1;
}

static bexpr_t *and_of(binder_t *b, bexpr_t **c, int n)
{
    if (n == 0)
        return NULL;
    if (n == 1)
        return c[0];
    bexpr_t *e = bind__alloc(b, sizeof *e);
    bexpr_t **args = bind__alloc(b, (size_t)n * sizeof *args);
    if (!e || !args)
        return NULL;
    memset(e, 0, sizeof *e);
    e->kind = BX_AND;
    e->type = TYPE_BOOL;
    e->typmod = -1;
    e->nargs = n;
    e->args = args;
    memcpy(args, c, (size_t)n * sizeof *args);
    return e;
}

/* The target scan under the WHERE clause, for a statement without FROM / USING. */
static plan_t *target_plan(binder_t *b, bound_stmt_t *bs, const cat_table_t *t)
{
    plan_t *scan = bind__plan(b, PL_SCAN, t->ncols);
    if (!scan)
        return NULL;
    scan->scan.table = t;
    scan->scan.coltypes = bs->coltypes;
    for (int i = 0; i < t->ncols; i++) {
        scan->types[i] = t->cols[i].type;
        scan->typmods[i] = t->cols[i].typmod;
    }
    /* the point get or index lookup the binder found for the WHERE clause */
    if (bs->nkey) {
        scan->scan.nkey = bs->nkey;
        scan->scan.key = bs->key;
    } else if (bs->dml_index) {
        scan->scan.index = bs->dml_index;
        scan->scan.ixkey = bs->dml_ixkey;
    }
    bs->nkey = 0;
    bs->key = NULL;
    bs->dml_index = NULL;
    bs->dml_ixkey = NULL;
    if (!bs->where)
        return scan;
    bexpr_t *conj[LIMIT_BIND_CONJUNCTS];
    int nc = conjuncts(bs->where, conj, 0, LIMIT_BIND_CONJUNCTS);
    if (nc < 0) {
        sql_error(bind__err(b), SQLSTATE_PROGRAM_LIMIT, "too many AND terms in WHERE");
        return NULL;
    }
    bexpr_t *pushed[LIMIT_BIND_CONJUNCTS], *kept[LIMIT_BIND_CONJUNCTS];
    int np = 0, nk = 0;
    for (int i = 0; i < nc; i++) {
        if (has_corr(conj[i]))
            kept[nk++] = conj[i];
        else
            pushed[np++] = conj[i];
    }
    if (np && !(scan->scan.filter = and_of(b, pushed, np)))
        return NULL;
    if (!nk)
        return scan;
    plan_t *f = bind__plan(b, PL_FILTER, t->ncols);
    if (!f || !(f->filter.pred = and_of(b, kept, nk)))
        return NULL;
    memcpy(f->types, scan->types, (size_t)t->ncols * sizeof(type_oid_t));
    memcpy(f->typmods, scan->typmods, (size_t)t->ncols * sizeof(int32_t));
    f->child = scan;
    return f;
}

static bool has_volatile(const bexpr_t *e)
{
    if ((e->kind == BX_FUNC && e->fn->volatility == 'v') || e->kind == BX_GUC)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (has_volatile(e->args[i]))
            return true;
    return false;
}

/* A PROJECT over child: column i of the output is exprs[i]. */
static plan_t *project(binder_t *b, plan_t *child, int n, bexpr_t **exprs)
{
    plan_t *p = bind__plan(b, PL_PROJECT, n);
    if (!p)
        return NULL;
    p->child = child;
    p->project.exprs = exprs;
    for (int c = 0; c < n; c++) {
        p->types[c] = exprs[c]->type;
        p->typmods[c] = exprs[c]->typmod;
    }
    return p;
}

static bexpr_t *col_of(binder_t *b, const plan_t *p, int c)
{
    return bind__col(b, c, p->types[c], p->typmods[c], NULL);
}

/* ---- the WHERE clause of the EvalPlanQual re-check ----
 *
 * PostgreSQL plans `EXISTS (subquery)` and `NOT EXISTS (subquery)` at the top level
 * of WHERE (AND terms) as a semi / anti join when the subquery is simple (a FROM
 * list, no aggregates, GROUP BY, HAVING, window, set operation, OFFSET or non-constant
 * LIMIT). Its re-check of a concurrently updated row then keeps the inner row the
 * join matched: EXISTS passes when that row still matches the newest version, NOT
 * EXISTS always passes; `x IN (uncorrelated subquery)` is a semi join as well, so the
 * newest x must equal the matched value. Subqueries elsewhere run again. The re-check
 * here does the same: NOT EXISTS terms become true, an EXISTS term asks for a row
 * matching both the version the statement decided on (columns shift ... of the
 * re-check's row) and the newest one, an IN term also compares x with the decided
 * x. A statement whose only subquery is such an IN term takes this path for it. */

static bool has_agg(const ast_t *n)
{
    if (!n)
        return false;
    switch (n->kind) {
    case AST_FUNC:
        if (n->func.over || n->func.star || bind__aggfn(n->func.name) >= 0)
            return true;
        for (int i = 0; i < n->func.args.n; i++)
            if (has_agg(n->func.args.items[i]))
                return true;
        return false;
    case AST_AND:
    case AST_OR:
    case AST_NOT:
        for (int i = 0; i < n->args.n; i++)
            if (has_agg(n->args.items[i]))
                return true;
        return false;
    case AST_OP:
        return has_agg(n->op.l) || has_agg(n->op.r);
    case AST_CAST:
        return has_agg(n->cast.arg);
    default:
        return false;
    }
}

static bool pulled_up(const ast_t *sl)
{
    if (!sl || sl->kind != AST_SUBLINK || sl->sublink.type != AST_SUB_EXISTS || !sl->sublink.select ||
        sl->sublink.select->kind != AST_SELECT)
        return false;
    const ast_select_t *q = &sl->sublink.select->select;
    if (q->is_setop || q->from.n == 0 || !q->where || q->group.n || q->having || q->windows.n || q->for_update ||
        q->offset || q->cte_name || q->nvalues_rows)
        return false;
    if (q->limit && !(q->limit->kind == AST_CONST && q->limit->c.ctype == AST_C_INT && q->limit->c.ival > 0))
        return false;
    for (int i = 0; i < q->ntargets; i++)
        if (has_agg(q->targets[i].expr))
            return false;
    return true;
}

static bool is_exists(binder_t *b, const bexpr_t *e, const ast_t **sl)
{
    if (e->kind != BX_SUBQ || e->type != TYPE_BOOL)
        return false;
    *sl = bind__subq_ast(b, e->index);
    return pulled_up(*sl);
}

/* e with its column references shifted (NULL when it runs a subquery). */
static bexpr_t *shifted(binder_t *b, const bexpr_t *e, int shift)
{
    if (e->kind == BX_SUBQ || e->kind == BX_INSUBQ || e->kind == BX_OUTER)
        return NULL;
    bexpr_t *c = bind__alloc(b, sizeof *c);
    bexpr_t **args = bind__alloc(b, (size_t)(e->nargs + 1) * sizeof *args);
    if (!c || !args)
        return NULL;
    *c = *e;
    c->args = args;
    if (c->kind == BX_COL)
        c->index += shift;
    for (int i = 0; i < e->nargs; i++)
        if (!(args[i] = shifted(b, e->args[i], shift)))
            return NULL;
    return c;
}

static bexpr_t *epq_where(binder_t *b, bexpr_t *e, const scope_t *sc, int shift, bool *changed)
{
    const ast_t *sl;
    if (e->kind == BX_INSUBQ && !has_corr(e->args[0])) {
        /* x IN (uncorrelated subquery), a semi join in PostgreSQL: the inner row it
         * matched equals the decided x, so the newest x must equal that */
        bexpr_t *old = shifted(b, e->args[0], shift);
        if (!old)
            return sql_error_is_set(bind__err(b)) ? NULL : e;    /* a subquery inside x: re-run */
        bexpr_t *eq = bind__alloc(b, sizeof *eq), *and = bind__alloc(b, sizeof *and);
        bexpr_t **a2 = bind__alloc(b, 2 * sizeof *a2), **a3 = bind__alloc(b, 2 * sizeof *a3);
        if (!eq || !and || !a2 || !a3)
            return NULL;
        eq->kind = BX_CMP;
        eq->type = TYPE_BOOL;
        eq->typmod = -1;
        eq->op = BX_OP_EQ;
        eq->optype = e->optype;
        eq->nargs = 2;
        eq->args = a2;
        a2[0] = e->args[0];
        a2[1] = old;
        and->kind = BX_AND;
        and->type = TYPE_BOOL;
        and->typmod = -1;
        and->nargs = 2;
        and->args = a3;
        a3[0] = e;
        a3[1] = eq;
        *changed = true;
        return and;
    }
    if (e->kind == BX_AND) {
        bexpr_t *c = bind__alloc(b, sizeof *c);
        bexpr_t **args = bind__alloc(b, (size_t)(e->nargs + 1) * sizeof *args);
        if (!c || !args)
            return NULL;
        *c = *e;
        c->args = args;
        for (int i = 0; i < e->nargs; i++)
            if (!(args[i] = epq_where(b, e->args[i], sc, shift, changed)))
                return NULL;
        return c;
    }
    if (e->kind == BX_NOT && is_exists(b, e->args[0], &sl)) {
        bexpr_t *c = bind__alloc(b, sizeof *c);
        if (!c)
            return NULL;
        memset(c, 0, sizeof *c);
        c->kind = BX_CONST;
        c->type = TYPE_BOOL;
        c->typmod = -1;
        c->val.i64 = 1;
        *changed = true;
        return c;
    }
    if (is_exists(b, e, &sl)) {
        const ast_t *w = sl->sublink.select->select.where;
        ast_t *mark = bind__alloc(b, sizeof *mark), *and = bind__alloc(b, sizeof *and);
        ast_t *sel = bind__alloc(b, sizeof *sel), *twin = bind__alloc(b, sizeof *twin);
        ast_t **items = bind__alloc(b, 2 * sizeof *items);
        if (!mark || !and || !sel || !twin || !items)
            return NULL;
        *mark = *w;
        items[0] = (ast_t *)w;
        items[1] = mark;
        and->kind = AST_AND;
        and->location = w->location;
        and->args.n = 2;
        and->args.items = items;
        *sel = *sl->sublink.select;
        sel->select.where = and;
        *twin = *sl;
        twin->sublink.select = sel;
        *changed = true;
        return bind__shifted_expr(b, twin, sc, mark, shift);
    }
    return e;
}

/* An `x IN (subquery)` AND term: its re-check follows PostgreSQL's semi join too. */
static bool top_in(const bexpr_t *e)
{
    if (!e)
        return false;
    if (e->kind == BX_INSUBQ)
        return true;
    for (int i = 0; e->kind == BX_AND && i < e->nargs; i++)
        if (top_in(e->args[i]))
            return true;
    return false;
}

int bind_dml_corr(binder_t *b, bound_stmt_t *bs, const cat_table_t *t, const ast_t *where, const scope_t *sc)
{
    bool any = has_corr(bs->where) || top_in(bs->where), ret_corr = false;
    for (int i = 0; i < bs->nset && !any; i++)
        any = has_corr(bs->set_exprs[i]);
    for (int i = 0; i < bs->nreturning; i++)
        ret_corr |= has_corr(bs->returning[i]);
    if (!any && !ret_corr)
        return 0;
    plan_t *base = bs->from_plan ? bs->from_plan : target_plan(b, bs, t);
    if (!base)
        return -1;
    int width = base->ncols, ncols = t->ncols;
    /* P1: the row ++ the values of SET's subqueries (over the row as decided) */
    corr_acc_t acc = {.b = b, .base = width};
    for (int i = 0; i < bs->nset; i++)
        if (!(bs->set_exprs[i] = rewrite(&acc, bs->set_exprs[i])))
            return -1;
    int nsetv = acc.n;
    bexpr_t **e1 = bind__alloc(b, (size_t)(width + nsetv + 1) * sizeof *e1);
    if (!e1)
        return -1;
    for (int c = 0; c < width; c++)
        if (!(e1[c] = col_of(b, base, c)))
            return -1;
    for (int j = 0; j < nsetv; j++)
        e1[width + j] = acc.vals[j];
    plan_t *p = project(b, base, width + nsetv, e1);
    if (!p)
        return -1;
    if (ret_corr && bs->kind == ST_UPDATE) {
        /* RETURNING's subqueries see the updated row: P2 computes it (new target
         * columns ++ source columns ++ the old target columns ++ SET's values), P3
         * evaluates them over it and restores the layout (row ++ SET's values ++
         * RETURNING's values). The shard computes the same SET expressions again. */
        for (int i = 0; i < bs->nset; i++)
            if (has_volatile(bs->set_exprs[i])) {
                sql_error(bind__err(b), SQLSTATE_FEATURE_NOT_SUPPORTED,
                          "a correlated subquery in RETURNING of an UPDATE whose SET calls a volatile "
                          "function is not supported");
                return -1;
            }
        int n2 = width + ncols + nsetv;
        bexpr_t **e2 = bind__alloc(b, (size_t)(n2 + 1) * sizeof *e2);
        if (!e2)
            return -1;
        for (int c = 0; c < width; c++)
            if (!(e2[c] = col_of(b, p, c)))
                return -1;
        for (int i = 0; i < bs->nset; i++)
            e2[bs->set_idx[i]] = bs->set_exprs[i];
        for (int c = 0; c < ncols; c++)
            if (!(e2[width + c] = col_of(b, p, c)))
                return -1;
        for (int j = 0; j < nsetv; j++)
            if (!(e2[width + ncols + j] = col_of(b, p, width + j)))
                return -1;
        plan_t *p2 = project(b, p, n2, e2);
        if (!p2)
            return -1;
        for (int i = 0; i < bs->nreturning; i++)
            if (!(bs->returning[i] = rewrite(&acc, bs->returning[i])))
                return -1;
        int n3 = width + acc.n;
        bexpr_t **e3 = bind__alloc(b, (size_t)(n3 + 1) * sizeof *e3);
        if (!e3)
            return -1;
        for (int c = 0; c < width; c++)
            if (!(e3[c] = col_of(b, p2, c < ncols ? width + c : c)))
                return -1;
        for (int j = 0; j < nsetv; j++)
            if (!(e3[width + j] = col_of(b, p2, width + ncols + j)))
                return -1;
        for (int j = nsetv; j < acc.n; j++)
            e3[width + j] = acc.vals[j];
        if (!(p = project(b, p2, n3, e3)))
            return -1;
    } else if (ret_corr) {
        /* DELETE: RETURNING sees the deleted row */
        for (int i = 0; i < bs->nreturning; i++)
            if (!(bs->returning[i] = rewrite(&acc, bs->returning[i])))
                return -1;
        bexpr_t **e3 = bind__alloc(b, (size_t)(width + acc.n + 1) * sizeof *e3);
        if (!e3)
            return -1;
        for (int c = 0; c < width + nsetv; c++)
            if (!(e3[c] = col_of(b, p, c)))
                return -1;
        for (int j = nsetv; j < acc.n; j++)
            e3[width + j] = acc.vals[j];
        if (!(p = project(b, p, width + acc.n, e3)))
            return -1;
    }
    bs->corr_where = bs->where;
    if (bs->where) {
        bool changed = false;
        bexpr_t *w = epq_where(b, bs->where, sc, width + acc.n, &changed);
        if (!w)
            return -1;
        if (changed) {
            bs->corr_where = w;
            bs->corr_old = true;
        }
    }
    (void)where;
    bs->corr = true;
    bs->ncorr = acc.n;
    bs->ncorr_set = nsetv;
    bs->corr_vals = acc.vals;
    bs->where = NULL;
    bs->from_plan = p;
    bs->from_ncols = width + acc.n;
    return 0;
}
