/*
 * bind_cte.c -- WITH RECURSIVE: the Recursive Union plan and its working table.
 *
 * parse.c marks a WITH RECURSIVE query that references itself (q->cte_name) and
 * turns its references into AST_CTEREF nodes: inside the recursive term the
 * reference is the working table (PL_WORKTABLE), elsewhere it is the whole query,
 * bound here at every reference (like the inlined non-recursive WITH queries).
 *
 * Types: the non-recursive term fixes the column types; the recursive term's
 * outputs are cast to them when their common type is that type, else 42804 as in
 * PostgreSQL ("... has type integer in non-recursive term but type bigint
 * overall"). A reference from a subquery expression of the recursive term would
 * run before the working table exists and is 42P19, as in PostgreSQL.
 */
#include <string.h>

#include "core/assert.h"
#include "sql/bind_int.h"

struct bind_rec {
    bind_rec_t *up;
    const char *name;
    int ncols;
    const char **names;
    const type_oid_t *types;
    const int32_t *typmods;
    const plan_t *plan;          /* the PL_RECURSIVE whose working table this is */
    const void *outer;           /* bind__outer() while the recursive term is bound */
};

/* p without hidden sort columns: its first n columns. */
static plan_t *bc_visible(binder_t *b, plan_t *p, int n)
{
    if (p->ncols == n)
        return p;
    plan_t *pr = bind__plan(b, PL_PROJECT, n);
    if (!pr || !(pr->project.exprs = bind__alloc(b, (size_t)n * sizeof(bexpr_t *))))
        return NULL;
    pr->child = p;
    for (int i = 0; i < n; i++) {
        pr->types[i] = p->types[i];
        pr->typmods[i] = p->typmods[i];
        if (!(pr->project.exprs[i] = bind__col(b, i, p->types[i], p->typmods[i], NULL)))
            return NULL;
    }
    return pr;
}

static bool bc_has_worktable(const plan_t *p, const plan_t *rec)
{
    if (!p)
        return false;
    if (p->kind == PL_WORKTABLE && p->recursive.rec == rec)
        return true;
    return bc_has_worktable(p->child, rec) || bc_has_worktable(p->right, rec);
}

/* The working table on the nullable side of an outer join below p: 42P19. */
static int bc_check_joins(binder_t *b, const plan_t *p, const plan_t *rec, const char *name)
{
    for (const plan_t *q = p; q; q = q->child) {
        if (q->kind == PL_JOIN && q->join.left && bc_has_worktable(q->right, rec)) {
            sql_error(bind__err(b), "42P19", "recursive reference to query \"%s\" must not appear within an outer join",
                      name);
            return -1;
        }
        if (q->kind == PL_JOIN && bc_check_joins(b, q->right, rec, name) < 0)
            return -1;
        if (q->kind == PL_RECURSIVE)
            break;
    }
    return 0;
}

/* PostgreSQL's checks on the recursive term: no aggregation at its own level, no
 * outer join around the working table. */
static int bc_check_term(binder_t *b, const plan_t *p, const plan_t *rec, const char *name)
{
    for (const plan_t *q = p; q; q = q->child) {
        if (q->kind == PL_AGG) {
            sql_error(bind__err(b), "42P19", "aggregate functions are not allowed in a recursive query's recursive term");
            return -1;
        }
        if (q->kind == PL_JOIN || q->kind == PL_RECURSIVE || q->kind == PL_SCAN)
            break;
    }
    return bc_check_joins(b, p, rec, name);
}

plan_t *bind_cte_recursive(binder_t *b, const ast_select_t *q, int *nvisible, const char ***names,
                           sql_coldesc_t **descs)
{
    ASSERT(q->is_setop && q->setop == AST_SETOP_UNION);
    int nl, nr;
    const char **lnames, **rnames;
    sql_coldesc_t *ldesc, *rdesc;
    plan_t *l = bind__select(b, &q->larg->select, &nl, &lnames, &ldesc);
    if (!l || !(l = bc_visible(b, l, nl)))
        return NULL;
    plan_t *rp = bind__plan(b, PL_RECURSIVE, nl);
    if (!rp)
        return NULL;
    memcpy(rp->types, l->types, (size_t)nl * sizeof(type_oid_t));
    memcpy(rp->typmods, l->typmods, (size_t)nl * sizeof(int32_t));
    rp->recursive.name = q->cte_name;
    rp->recursive.all = q->setop_all;
    bind_rec_t **slot = bind__rec_slot(b);
    bind_rec_t r = {.up = *slot, .name = q->cte_name, .ncols = nl, .names = lnames, .types = rp->types,
                    .typmods = rp->typmods, .plan = rp, .outer = bind__outer(b)};
    *slot = &r;
    plan_t *rr = bind__select(b, &q->rarg->select, &nr, &rnames, &rdesc);
    *slot = r.up;
    if (!rr || bc_check_term(b, rr, rp, q->cte_name) < 0 || !(rr = bc_visible(b, rr, nr)))
        return NULL;
    if (nr != nl) {
        sql_error(bind__err(b), SQLSTATE_SYNTAX_ERROR, "each UNION query must have the same number of columns");
        return NULL;
    }
    for (int i = 0; i < nl; i++) {
        type_oid_t lt = l->types[i], rt = rr->types[i];
        if (rt == TYPE_UNKNOWN || rt == lt)
            continue;
        if (type_common(lt, rt) != lt) {
            sql_error(bind__err(b), SQLSTATE_DATATYPE_MISMATCH,
                      "recursive query \"%s\" column %d has type %s in non-recursive term but type %s overall",
                      q->cte_name, i + 1, bind__typename(b, lt),
                      bind__typename(b, type_common(lt, rt) ? type_common(lt, rt) : rt));
            sql_error_hint(bind__err(b), "Cast the output of the non-recursive term to the correct type.");
            return NULL;
        }
    }
    if (!(rr = bind__conform(b, rr, nl, l->types)))
        return NULL;
    rp->child = l;
    rp->right = rr;
    *nvisible = nl;
    *names = lnames;
    *descs = ldesc;
    for (int i = 0; i < nl && ldesc; i++) {
        ldesc[i].table_oid = 0;
        ldesc[i].attnum = 0;
    }
    return rp;
}

plan_t *bind_cte_ref(binder_t *b, const ast_t *n, scope_t *sc)
{
    if (n->cteref.self) {
        bind_rec_t *r = *bind__rec_slot(b);
        while (r && strcmp(r->name, n->cteref.name))
            r = r->up;
        if (!r) {
            sql_error(bind__err(b), SQLSTATE_INTERNAL_ERROR, "working table of \"%s\" not found", n->cteref.name);
            return NULL;
        }
        if (bind__outer(b) != r->outer) {
            sql_error(bind__err(b), "42P19", "recursive reference to query \"%s\" must not appear within a subquery",
                      n->cteref.name);
            bind__pos(b, n->location);
            return NULL;
        }
        plan_t *p = bind__plan(b, PL_WORKTABLE, r->ncols);
        if (!p)
            return NULL;
        memcpy(p->types, r->types, (size_t)r->ncols * sizeof(type_oid_t));
        memcpy(p->typmods, r->typmods, (size_t)r->ncols * sizeof(int32_t));
        p->recursive.name = r->name;
        p->recursive.rec = r->plan;
        if (bind__add_source(b, sc, n->cteref.alias, r->ncols, r->names, r->types, r->typmods,
                             &n->cteref.colaliases) < 0)
            return NULL;
        return p;
    }
    int nvis;
    const char **names;
    sql_coldesc_t *descs;
    plan_t *p = bind__select(b, &n->cteref.query->select, &nvis, &names, &descs);
    if (!p)
        return NULL;
    if (bind__add_source(b, sc, n->cteref.alias, nvis, names, p->types, p->typmods, &n->cteref.colaliases) < 0)
        return NULL;
    return p;
}
