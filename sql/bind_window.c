/*
 * bind_window.c -- window function calls, WINDOW clauses and the WindowAgg plan.
 *
 * Why a file of its own: bind.c is large and shared by every query feature; window
 * functions need only a narrow hook there (bind_int.h): b_func hands every call
 * with OVER (or of a window-only function) to bind_win_call, b_select brackets a
 * query level with bind_win_begin / bind_win_end and, after aggregation, lets
 * bind_win_plan put the WindowAgg between the aggregate (or FROM / WHERE) and the
 * final projection, as PostgreSQL does.
 *
 * Model: each call becomes a binder-internal BX_WINREF (like an aggregate's
 * BX_AGGREF) naming an entry of this level's call list; its window is an entry of
 * the level's window list, identical definitions sharing one. bind_win_plan then
 * projects the WindowAgg's input as the level's columns followed by every
 * partition key, order key and argument (each rewritten over the groups and
 * aggregates when the query aggregates), so the executor (exec_window.c) only ever
 * reads columns, and rewrites the target list's BX_WINREFs into the WindowAgg's
 * output columns (input columns ++ one per call).
 *
 * Errors follow PostgreSQL's parse_agg.c / parse_clause.c wording: 42P20 for
 * window functions where they are not allowed and for window definition misuse,
 * 42809 for OVER on a non-window function and a window function without OVER,
 * 42704 for an unknown window name.
 */
#include <stdio.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/bind_int.h"

#define BIND_WINDOWS_MAX 64     /* distinct windows of one query level */
#define BIND_WINCALLS_MAX 256   /* window function calls of one query level */

typedef struct bw_spec {
    const char *name;           /* the WINDOW name it came from, for EXPLAIN */
    const ast_list_t *partition;
    int nsort;
    const ast_sortby_t *sort;
    int frame_options;
    const ast_t *start_offset, *end_offset;
} bw_spec_t;

typedef struct bw_win {
    const char *name;
    int npart;
    bexpr_t **part;
    int norder;
    bexpr_t **order;
    bool *desc, *nulls_first;
    int frame_options;
    bexpr_t *start_offset, *end_offset;
} bw_win_t;

typedef struct bw_call {
    plan_winfn_t fn;
    int win;
    int nargs;
    bexpr_t *args[3];
    plan_agg_t agg;
    type_oid_t rettype;
} bw_call_t;

struct bind_win {
    const ast_select_t *q;
    const char *refuse;         /* clause refusing window functions (HAVING, GROUP BY) */
    bool in_args;               /* binding a call's arguments or window definition */
    int nwins;
    bw_win_t wins[BIND_WINDOWS_MAX];
    int ncalls;
    bw_call_t calls[BIND_WINCALLS_MAX];
};

static int bw_fail(binder_t *b, const char *state, int location, const char *fmt, const char *arg)
{
    sql_error(bind__err(b), state, fmt, arg);
    bind__pos(b, location);
    return -1;
}

int bind_win_begin(binder_t *b, const ast_select_t *q, bind_win_t **saved)
{
    bind_win_t **slot = bind__win_slot(b);
    *saved = *slot;
    *slot = NULL;
    bool any = q->windows.n > 0;
    for (int i = 0; i < q->ntargets && !any; i++)
        any = q->targets[i].expr && q->targets[i].expr->kind != AST_COLREF;
    any = any || q->nsort > 0 || q->having;
    if (!any)
        return 0;           /* plain column lists cannot hold window calls */
    bind_win_t *w = bind__alloc(b, sizeof *w);
    if (!w)
        return -1;
    w->q = q;
    /* WINDOW names: unique, references only to earlier ones (checked when used) */
    for (int i = 0; i < q->windows.n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(q->windows.items[i]->win.name, q->windows.items[j]->win.name))
                return bw_fail(b, "42P20", q->windows.items[i]->location, "window \"%s\" is already defined",
                               q->windows.items[i]->win.name);
    *slot = w;
    return 0;
}

void bind_win_end(binder_t *b, bind_win_t *saved) { *bind__win_slot(b) = saved; }

void bind_win_refuse(binder_t *b, const char *ctx)
{
    bind_win_t *w = *bind__win_slot(b);
    if (w)
        w->refuse = ctx;
}

typedef struct bw_fninfo { const char *name; plan_winfn_t fn; int minargs, maxargs; } bw_fninfo_t;

static const bw_fninfo_t bw_fns[] = {
    {"row_number", WF_ROW_NUMBER, 0, 0}, {"rank", WF_RANK, 0, 0}, {"dense_rank", WF_DENSE_RANK, 0, 0},
    {"percent_rank", WF_PERCENT_RANK, 0, 0}, {"cume_dist", WF_CUME_DIST, 0, 0}, {"ntile", WF_NTILE, 1, 1},
    {"lag", WF_LAG, 1, 3}, {"lead", WF_LEAD, 1, 3}, {"first_value", WF_FIRST_VALUE, 1, 1},
    {"last_value", WF_LAST_VALUE, 1, 1}, {"nth_value", WF_NTH_VALUE, 2, 2},
};

static const bw_fninfo_t *bw_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof bw_fns / sizeof bw_fns[0]; i++)
        if (!strcmp(bw_fns[i].name, name))
            return &bw_fns[i];
    return NULL;
}

bool bind_win_is_window_call(const ast_t *n)
{
    return n->func.over || bw_lookup(n->func.name);
}

/* The named window `name` of this level's WINDOW clause, or NULL. */
static const ast_t *bw_named(const bind_win_t *w, const char *name, int before)
{
    for (int i = 0; i < w->q->windows.n && i < before; i++)
        if (!strcmp(w->q->windows.items[i]->win.name, name))
            return w->q->windows.items[i];
    return NULL;
}

/* The effective definition of d (OVER (...) or a WINDOW entry at index `self`, -1
 * for OVER): a reference copies the named window's partition, order and frame by
 * PostgreSQL's rules. */
static int bw_effective(binder_t *b, const bind_win_t *w, const ast_t *d, int self, bw_spec_t *out)
{
    memset(out, 0, sizeof *out);
    int limit = self < 0 ? w->q->windows.n : self;
    if (self < 0 && d->win.name) {
        /* OVER w: exactly the named window */
        const ast_t *n = bw_named(w, d->win.name, limit);
        if (!n)
            return bw_fail(b, SQLSTATE_UNDEFINED_OBJECT, d->location, "window \"%s\" does not exist", d->win.name);
        int idx = 0;
        while (w->q->windows.items[idx] != n)
            idx++;
        if (bw_effective(b, w, n, idx, out) < 0)
            return -1;
        out->name = d->win.name;
        return 0;
    }
    out->name = self >= 0 ? d->win.name : NULL;
    out->partition = &d->win.partition;
    out->nsort = d->win.nsort;
    out->sort = d->win.sort;
    out->frame_options = d->win.frame_options;
    out->start_offset = d->win.start_offset;
    out->end_offset = d->win.end_offset;
    if (!d->win.refname)
        return 0;
    int idx = -1;
    for (int i = 0; i < limit; i++)
        if (!strcmp(w->q->windows.items[i]->win.name, d->win.refname))
            idx = i;
    if (idx < 0)
        return bw_fail(b, SQLSTATE_UNDEFINED_OBJECT, d->location, "window \"%s\" does not exist", d->win.refname);
    bw_spec_t base;
    if (bw_effective(b, w, w->q->windows.items[idx], idx, &base) < 0)
        return -1;
    if (d->win.partition.n)
        return bw_fail(b, "42P20", d->location, "cannot override PARTITION BY clause of window \"%s\"",
                       d->win.refname);
    out->partition = base.partition;
    if (base.nsort) {
        if (d->win.nsort)
            return bw_fail(b, "42P20", d->location, "cannot override ORDER BY clause of window \"%s\"",
                           d->win.refname);
        out->nsort = base.nsort;
        out->sort = base.sort;
    }
    if (base.frame_options & AST_FRAME_NONDEFAULT)
        return bw_fail(b, "42P20", d->location, "cannot copy window \"%s\" because it has a frame clause",
                       d->win.refname);
    if (!out->name)
        out->name = base.name;
    return 0;
}

static bool bw_has_vars(const bexpr_t *e)
{
    if (e->kind == BX_COL || e->kind == BX_OUTER || e->kind == BX_AGGREF || e->kind == BX_WINREF)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (bw_has_vars(e->args[i]))
            return true;
    return false;
}

static bool bw_is_int(type_oid_t t) { return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8; }
static bool bw_is_float(type_oid_t t) { return t == TYPE_FLOAT4 || t == TYPE_FLOAT8; }

/* A frame offset: row-free, bigint for ROWS / GROUPS, the key's kind for RANGE. */
static bexpr_t *bw_offset(binder_t *b, const ast_t *n, const scope_t *sc, const bw_win_t *win, int mode)
{
    bexpr_t *e = bind__expr(b, n, sc);
    if (!e)
        return NULL;
    if (bw_has_vars(e)) {
        sql_error(bind__err(b), "42P10", "argument of %s must not contain variables",
                  mode == AST_FRAME_ROWS ? "ROWS" : mode == AST_FRAME_GROUPS ? "GROUPS" : "RANGE");
        bind__pos(b, n->location);
        return NULL;
    }
    type_oid_t to = TYPE_INT8;
    if (mode == AST_FRAME_RANGE) {
        type_oid_t kt = win->order[0]->type;
        if (bw_is_float(kt)) {
            to = TYPE_FLOAT8;
        } else if (!bw_is_int(kt)) {
            if (e->type == TYPE_UNKNOWN && !(e = bind__resolve_unknown(b, e)))
                return NULL;
            sql_error(bind__err(b), SQLSTATE_FEATURE_NOT_SUPPORTED,
                      "RANGE with offset PRECEDING/FOLLOWING is not supported for column type %s and offset type %s",
                      bind__typename(b, kt), bind__typename(b, e->type));
            bind__pos(b, n->location);
            return NULL;
        }
    }
    return bind__coerce(b, e, to, -1, n->location);
}

static bexpr_t *bw_key(binder_t *b, const ast_t *n, const scope_t *sc)
{
    bexpr_t *e = bind__expr(b, n, sc);
    if (e && e->type == TYPE_UNKNOWN)
        e = bind__resolve_unknown(b, e);
    return e;
}

static bool bw_opt_equal(const bexpr_t *x, const bexpr_t *y)
{
    return (!x && !y) || (x && y && bind__equal(x, y));
}

/* Binds definition d and returns its index in w->wins (an equal one is shared). */
static int bw_window(binder_t *b, bind_win_t *w, const ast_t *d, const scope_t *sc)
{
    bw_spec_t s;
    if (bw_effective(b, w, d, -1, &s) < 0)
        return -1;
    bw_win_t v = {.name = s.name, .frame_options = s.frame_options};
    v.npart = s.partition->n;
    v.norder = s.nsort;
    v.part = bind__alloc(b, (size_t)(v.npart + 1) * sizeof(bexpr_t *));
    v.order = bind__alloc(b, (size_t)(v.norder + 1) * sizeof(bexpr_t *));
    v.desc = bind__alloc(b, (size_t)(v.norder + 1));
    v.nulls_first = bind__alloc(b, (size_t)(v.norder + 1));
    if (!v.part || !v.order || !v.desc || !v.nulls_first)
        return -1;
    for (int i = 0; i < v.npart; i++)
        if (!(v.part[i] = bw_key(b, s.partition->items[i], sc)))
            return -1;
    for (int i = 0; i < v.norder; i++) {
        if (!(v.order[i] = bw_key(b, s.sort[i].expr, sc)))
            return -1;
        v.desc[i] = s.sort[i].desc;
        v.nulls_first[i] = s.sort[i].nulls == 1 || (s.sort[i].nulls == 0 && s.sort[i].desc);
    }
    int mode = s.frame_options & (AST_FRAME_ROWS | AST_FRAME_RANGE | AST_FRAME_GROUPS);
    bool offsets = s.frame_options & (AST_FRAME_START_OFFSET_PRECEDING | AST_FRAME_START_OFFSET_FOLLOWING |
                                      AST_FRAME_END_OFFSET_PRECEDING | AST_FRAME_END_OFFSET_FOLLOWING);
    if (mode == AST_FRAME_RANGE && offsets && v.norder != 1)
        return bw_fail(b, "42P20", d->location,
                       "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column%s", "");
    if (mode == AST_FRAME_GROUPS && v.norder == 0)
        return bw_fail(b, "42P20", d->location, "GROUPS mode requires an ORDER BY clause%s", "");
    if (s.start_offset && !(v.start_offset = bw_offset(b, s.start_offset, sc, &v, mode)))
        return -1;
    if (s.end_offset && !(v.end_offset = bw_offset(b, s.end_offset, sc, &v, mode)))
        return -1;
    for (int i = 0; i < w->nwins; i++) {
        const bw_win_t *o = &w->wins[i];
        bool same = o->npart == v.npart && o->norder == v.norder && o->frame_options == v.frame_options &&
                    bw_opt_equal(o->start_offset, v.start_offset) && bw_opt_equal(o->end_offset, v.end_offset);
        for (int k = 0; k < v.npart && same; k++)
            same = bind__equal(o->part[k], v.part[k]);
        for (int k = 0; k < v.norder && same; k++)
            same = bind__equal(o->order[k], v.order[k]) && o->desc[k] == v.desc[k] &&
                   o->nulls_first[k] == v.nulls_first[k];
        if (same)
            return i;
    }
    if (w->nwins >= BIND_WINDOWS_MAX) {
        sql_error(bind__err(b), SQLSTATE_PROGRAM_LIMIT, "too many windows (at most %d)", BIND_WINDOWS_MAX);
        return -1;
    }
    w->wins[w->nwins] = v;
    return w->nwins++;
}

/* Where the call stands: 0 when window functions are allowed, else -1 + error. */
static int bw_check_context(binder_t *b, bind_win_t *w, const ast_t *n)
{
    const char *ctx;
    bool allowed = bind__agg_allowed(b, &ctx);
    if (!allowed && ctx)
        return bw_fail(b, "42P20", n->location, "window functions are not allowed in %s", ctx);
    if (!allowed)
        return bw_fail(b, SQLSTATE_GROUPING_ERROR, n->location,
                       "aggregate function calls cannot contain window function calls%s", "");
    if (!w)
        return bw_fail(b, "42P20", n->location, "window functions are not allowed here%s", "");
    if (w->refuse)
        return bw_fail(b, "42P20", n->location, "window functions are not allowed in %s", w->refuse);
    if (w->in_args)
        return bw_fail(b, "42P20", n->location, "window function calls cannot be nested%s", "");
    return 0;
}

static int bw_bind_args(binder_t *b, const ast_t *n, const scope_t *sc, bw_call_t *c)
{
    c->nargs = n->func.args.n;
    for (int i = 0; i < c->nargs; i++) {
        if (!(c->args[i] = bind__expr(b, n->func.args.items[i], sc)))
            return -1;
    }
    switch (c->fn) {
    case WF_ROW_NUMBER: case WF_RANK: case WF_DENSE_RANK:
        c->rettype = TYPE_INT8;
        return 0;
    case WF_PERCENT_RANK: case WF_CUME_DIST:
        c->rettype = TYPE_FLOAT8;
        return 0;
    case WF_NTILE:
        c->rettype = TYPE_INT4;
        return (c->args[0] = bind__coerce(b, c->args[0], TYPE_INT4, -1, n->location)) ? 0 : -1;
    default:
        break;
    }
    if (c->args[0]->type == TYPE_UNKNOWN && !(c->args[0] = bind__resolve_unknown(b, c->args[0])))
        return -1;
    if (c->nargs >= 2 && !(c->args[1] = bind__coerce(b, c->args[1], TYPE_INT4, -1, n->location)))
        return -1;
    if (c->nargs == 3) {
        /* lag / lead (value, offset, default): value and default of one type */
        bexpr_t *d = c->args[2];
        type_oid_t t = c->args[0]->type;
        if (d->type != TYPE_UNKNOWN && d->type != t) {
            type_oid_t common = type_common(t, d->type);
            if (common && common != t) {
                if (!(c->args[0] = bind__coerce(b, c->args[0], common, -1, n->location)))
                    return -1;
                t = common;
            }
        }
        if (!(c->args[2] = bind__coerce(b, d, t, -1, n->location)))
            return -1;
    }
    c->rettype = c->args[0]->type;
    return 0;
}

bexpr_t *bind_win_call(binder_t *b, const ast_t *n, const scope_t *sc)
{
    const char *name = n->func.name;
    const bw_fninfo_t *fi = bw_lookup(name);
    int aggfn = fi ? -1 : bind__aggfn(name);
    if (!n->func.over) {
        bw_fail(b, "42809", n->location, "window function %s requires an OVER clause", name);
        return NULL;
    }
    if (!fi && aggfn < 0) {
        bw_fail(b, "42809", n->location, "OVER specified, but %s is not a window function nor an aggregate function",
                name);
        return NULL;
    }
    bind_win_t *w = *bind__win_slot(b);
    if (bw_check_context(b, w, n) < 0)
        return NULL;
    if (n->func.distinct) {
        bw_fail(b, SQLSTATE_FEATURE_NOT_SUPPORTED, n->location, "DISTINCT is not implemented for window functions%s", "");
        return NULL;
    }
    if (w->ncalls >= BIND_WINCALLS_MAX) {
        sql_error(bind__err(b), SQLSTATE_PROGRAM_LIMIT, "too many window function calls (at most %d)",
                  BIND_WINCALLS_MAX);
        return NULL;
    }
    bw_call_t c;
    memset(&c, 0, sizeof c);
    w->in_args = true;
    int rc;
    if (fi) {
        c.fn = fi->fn;
        if (fi->maxargs == 0 && fi->fn != WF_ROW_NUMBER && n->func.args.n) {
            /* rank(x) etc. are PostgreSQL's hypothetical-set aggregates */
            bw_fail(b, "42809", n->location, "WITHIN GROUP is required for ordered-set aggregate %s", name);
            w->in_args = false;
            return NULL;
        }
        if (n->func.star || n->func.args.n < fi->minargs || n->func.args.n > fi->maxargs) {
            sql_error(bind__err(b), SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", name,
                      n->func.star ? "*" : n->func.args.n ? "..." : "");
            if (!n->func.star && n->func.args.n) {
                /* PostgreSQL names the argument types */
                bexpr_t *args[3] = {0};
                char buf[160] = "";
                size_t len = 0;
                for (int i = 0; i < n->func.args.n && i < 3; i++) {
                    if (!(args[i] = bind__expr(b, n->func.args.items[i], sc)))
                        break;
                    const char *tn = args[i]->type == TYPE_UNKNOWN ? "unknown" : bind__typename(b, args[i]->type);
                    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "", tn);
                    if (len >= sizeof buf)
                        break;
                }
                sql_error(bind__err(b), SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", name, buf);
            }
            sql_error_hint(bind__err(b), "No function matches the given name and argument types. "
                                         "You might need to add explicit type casts.");
            bind__pos(b, n->location);
            w->in_args = false;
            return NULL;
        }
        rc = bw_bind_args(b, n, sc, &c);
    } else {
        c.fn = WF_AGG;
        rc = bind__win_agg(b, n, sc, aggfn, &c.agg);
        if (rc == 0) {
            c.rettype = c.agg.rettype;
            if (c.agg.argtype == TYPE_VECTOR) {
                bw_fail(b, SQLSTATE_FEATURE_NOT_SUPPORTED, n->location,
                        "%s(vector) as a window function is not supported", name);
                rc = -1;
            }
            if (c.agg.arg)
                c.args[c.nargs++] = c.agg.arg;
            if (c.agg.arg2)
                c.args[c.nargs++] = c.agg.arg2;
        }
    }
    if (rc == 0)
        rc = c.win = bw_window(b, w, n->func.over, sc);
    w->in_args = false;
    if (rc < 0)
        return NULL;
    w->calls[w->ncalls] = c;
    bexpr_t *e = bind__col(b, w->ncalls++, c.rettype, -1, NULL);
    if (!e)
        return NULL;
    e->kind = BX_WINREF;
    return e;
}

/* ---- the WindowAgg plan ---- */

typedef struct bw_proj {
    int n, cap;
    bexpr_t **exprs;
} bw_proj_t;

/* The input column holding e (added when new). */
static int bw_input_col(binder_t *b, bw_proj_t *pj, bexpr_t *e, bexpr_t **groups, int ngroup, bool aggregating)
{
    if (aggregating && !(e = bind__agg_rewrite(b, e, groups, ngroup)))
        return -1;
    for (int i = 0; i < pj->n; i++)
        if (bind__equal(pj->exprs[i], e))
            return i;
    if (pj->n == pj->cap) {
        int cap = pj->cap * 2;
        if (cap > LIMIT_SQL_COLUMNS + 64) {
            sql_error(bind__err(b), SQLSTATE_PROGRAM_LIMIT, "target lists can have at most %d entries",
                      LIMIT_SQL_COLUMNS);
            return -1;
        }
        bexpr_t **ne = bind__alloc(b, (size_t)cap * sizeof(bexpr_t *));
        if (!ne)
            return -1;
        memcpy(ne, pj->exprs, (size_t)pj->n * sizeof(bexpr_t *));
        pj->exprs = ne;
        pj->cap = cap;
    }
    pj->exprs[pj->n] = e;
    return pj->n++;
}

/* e with every BX_WINREF k replaced by column base + k. */
static bexpr_t *bw_rewrite(binder_t *b, bexpr_t *e, int base)
{
    if (e->kind == BX_WINREF)
        return bind__col(b, base + e->index, e->type, -1, NULL);
    if (e->nargs == 0)
        return e;
    bexpr_t *c = bind__alloc(b, sizeof *c);
    if (!c)
        return NULL;
    *c = *e;
    if (!(c->args = bind__alloc(b, (size_t)e->nargs * sizeof(bexpr_t *))))
        return NULL;
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = bw_rewrite(b, e->args[i], base)))
            return NULL;
    return c;
}

plan_t *bind_win_plan(binder_t *b, plan_t *cur, bexpr_t **exprs, int nexprs, bexpr_t **groups, int ngroup,
                      bool aggregating)
{
    bind_win_t *w = *bind__win_slot(b);
    if (!w || w->ncalls == 0)
        return cur;
    bw_proj_t pj = {.cap = cur->ncols + 16};
    if (!(pj.exprs = bind__alloc(b, (size_t)pj.cap * sizeof(bexpr_t *))))
        return NULL;
    for (int i = 0; i < cur->ncols; i++)
        if (!(pj.exprs[pj.n++] = bind__col(b, i, cur->types[i], cur->typmods[i], NULL)))
            return NULL;
    plan_window_t *pw = bind__alloc(b, (size_t)w->nwins * sizeof *pw);
    plan_winfunc_t *pf = bind__alloc(b, (size_t)w->ncalls * sizeof *pf);
    if (!pw || !pf)
        return NULL;
    for (int i = 0; i < w->nwins; i++) {
        const bw_win_t *v = &w->wins[i];
        pw[i].name = v->name;
        pw[i].npart = v->npart;
        pw[i].norder = v->norder;
        pw[i].frame_options = v->frame_options;
        pw[i].start_offset = v->start_offset;
        pw[i].end_offset = v->end_offset;
        pw[i].part_cols = bind__alloc(b, (size_t)(v->npart + 1) * sizeof(int));
        pw[i].order = bind__alloc(b, (size_t)(v->norder + 1) * sizeof(plan_sortkey_t));
        if (!pw[i].part_cols || !pw[i].order)
            return NULL;
        for (int k = 0; k < v->npart; k++)
            if ((pw[i].part_cols[k] = bw_input_col(b, &pj, v->part[k], groups, ngroup, aggregating)) < 0)
                return NULL;
        for (int k = 0; k < v->norder; k++) {
            int col = bw_input_col(b, &pj, v->order[k], groups, ngroup, aggregating);
            if (col < 0)
                return NULL;
            pw[i].order[k].desc = v->desc[k];
            pw[i].order[k].nulls_first = v->nulls_first[k];
            pw[i].order[k].expr = bind__col(b, col, v->order[k]->type, -1, NULL);
            if (!pw[i].order[k].expr)
                return NULL;
        }
    }
    for (int i = 0; i < w->ncalls; i++) {
        const bw_call_t *c = &w->calls[i];
        pf[i].fn = c->fn;
        pf[i].win = c->win;
        pf[i].nargs = c->nargs;
        pf[i].agg = c->agg;
        pf[i].agg.arg = pf[i].agg.arg2 = NULL;
        pf[i].rettype = c->rettype;
        for (int k = 0; k < c->nargs; k++)
            if ((pf[i].argcols[k] = bw_input_col(b, &pj, c->args[k], groups, ngroup, aggregating)) < 0)
                return NULL;
    }
    plan_t *pr = bind__plan(b, PL_PROJECT, pj.n);
    if (!pr)
        return NULL;
    pr->project.exprs = pj.exprs;
    pr->child = cur;
    for (int i = 0; i < pj.n; i++) {
        pr->types[i] = pj.exprs[i]->type;
        pr->typmods[i] = pj.exprs[i]->typmod;
    }
    /* the WindowAgg: input columns ++ one per call */
    plan_t *out = bind__plan(b, PL_WINDOW, pj.n + w->ncalls);
    if (!out)
        return NULL;
    out->child = pr;
    memcpy(out->types, pr->types, (size_t)pj.n * sizeof(type_oid_t));
    memcpy(out->typmods, pr->typmods, (size_t)pj.n * sizeof(int32_t));
    for (int i = 0; i < w->ncalls; i++) {
        out->types[pj.n + i] = pf[i].rettype;
        out->typmods[pj.n + i] = -1;
    }
    out->window.nwins = w->nwins;
    out->window.wins = pw;
    out->window.nfuncs = w->ncalls;
    out->window.funcs = pf;
    for (int i = 0; i < nexprs; i++)
        if (!(exprs[i] = bw_rewrite(b, exprs[i], pj.n)))
            return NULL;
    return out;
}
