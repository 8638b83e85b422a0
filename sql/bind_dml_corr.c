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
 * rewrites SET and RETURNING to read those values as columns. The WHERE moves to
 * corr_where: the coordinator evaluated it, and re-evaluates it with the subqueries
 * over a row's newest version when a concurrent transaction changed the row
 * (exec_dml_corr.c), so the shards do not re-check it.
 */
#include <string.h>

#include "core/limits.h"
#include "sql/bind_int.h"
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

int bind_dml_corr(binder_t *b, bound_stmt_t *bs, const cat_table_t *t)
{
    bool any = has_corr(bs->where);
    for (int i = 0; i < bs->nset && !any; i++)
        any = has_corr(bs->set_exprs[i]);
    for (int i = 0; i < bs->nreturning && !any; i++)
        any = has_corr(bs->returning[i]);
    if (!any)
        return 0;
    plan_t *base = bs->from_plan ? bs->from_plan : target_plan(b, bs, t);
    if (!base)
        return -1;
    int width = base->ncols;
    corr_acc_t acc = {.b = b, .base = width};
    for (int i = 0; i < bs->nset; i++)
        if (!(bs->set_exprs[i] = rewrite(&acc, bs->set_exprs[i])))
            return -1;
    for (int i = 0; i < bs->nreturning; i++)
        if (!(bs->returning[i] = rewrite(&acc, bs->returning[i])))
            return -1;
    plan_t *p = bind__plan(b, PL_PROJECT, width + acc.n);
    if (!p || !(p->project.exprs = bind__alloc(b, (size_t)(width + acc.n + 1) * sizeof(bexpr_t *))))
        return -1;
    p->child = base;
    for (int c = 0; c < width; c++) {
        if (!(p->project.exprs[c] = bind__col(b, c, base->types[c], base->typmods[c], NULL)))
            return -1;
        p->types[c] = base->types[c];
        p->typmods[c] = base->typmods[c];
    }
    for (int j = 0; j < acc.n; j++) {
        p->project.exprs[width + j] = acc.vals[j];
        p->types[width + j] = acc.vals[j]->type;
        p->typmods[width + j] = acc.vals[j]->typmod;
    }
    bs->corr = true;
    bs->ncorr = acc.n;
    bs->corr_vals = acc.vals;
    bs->corr_where = bs->where;
    bs->where = NULL;
    bs->from_plan = p;
    bs->from_ncols = width + acc.n;
    return 0;
}
