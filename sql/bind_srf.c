/*
 * bind_srf.c -- set-returning functions in a select list (`SELECT generate_series(1,3)`,
 * `SELECT id, unnest(tags) FROM t`, `SELECT jsonb_array_elements(j) FROM t`).
 *
 * PostgreSQL evaluates such a call per input row in a ProjectSet node: each input row
 * yields one output row per row of the function, and none when the function returns
 * none. For a query level without aggregates, GROUP BY, HAVING or window functions,
 * that is exactly a LATERAL call of the function appended to the FROM list, its one
 * column standing in for the call in the select list. This file rewrites the select
 * that way before it is bound:
 *
 *   SELECT a, unnest(arr) + 1 FROM t WHERE w ORDER BY 1
 *   => SELECT a, "?srf?".unnest + 1 FROM t, LATERAL unnest(arr) AS "?srf?"(unnest) WHERE w ORDER BY 1
 *
 * The added item's column is hidden from `*` and from unqualified names (bind.c marks
 * it, ast rangefunc.hide_cols), and it is named after the function, so the output
 * column keeps the name PostgreSQL gives it. Identical calls (by deparsed text) share
 * the one item, as PostgreSQL's lock-step evaluation gives them the same values.
 *
 * Refused, with PostgreSQL's wording where PostgreSQL refuses too: calls inside CASE
 * or COALESCE and inside aggregate calls (0A000, as PostgreSQL). Refused with 0A000
 * where PostgreSQL would evaluate: two different set-returning calls at one level
 * (PostgreSQL zips them), one nested in another's arguments, and a level that also
 * aggregates, groups or has window functions (its ProjectSet runs above them).
 *
 * Thread: the binding session's, like bind.c.
 */
#include "core/assert.h"
#include "core/strbuf.h"
#include "sql/bind_int.h"
#include "sql/parse.h"

#include <string.h>

#define SRF_ALIAS "?srf?"

/* The one-column set-returning functions the FROM clause implements (bind.c
 * b_series): these can move there. */
static bool srf_name(const ast_t *n)
{
    if (n->kind != AST_FUNC || n->func.over || n->func.schema)
        return false;
    static const char *const one_col[] = {
        "generate_series", "unnest", "jsonb_array_elements", "jsonb_array_elements_text",
        "jsonb_object_keys", "json_array_elements", "json_array_elements_text", "json_object_keys",
    };
    for (size_t i = 0; i < sizeof one_col / sizeof one_col[0]; i++)
        if (!strcmp(n->func.name, one_col[i]))
            return true;
    return false;
}

/* The two-column ones, which return a record in a select list: not rewritten. */
static bool srf_record_name(const ast_t *n)
{
    return n->kind == AST_FUNC && !n->func.over &&
           (!strcmp(n->func.name, "jsonb_each") || !strcmp(n->func.name, "jsonb_each_text") ||
            !strcmp(n->func.name, "json_each") || !strcmp(n->func.name, "json_each_text"));
}

typedef struct srf_walk {
    binder_t *b;
    ast_t *call;            /* the first set-returning call found */
    const char *call_text;  /* its deparsed text */
    ast_t *ref;             /* the column reference replacing it */
    bool aggregating;       /* an aggregate or window call at this level */
    int error;              /* -1 after an error was reported */
} srf_walk_t;

static int srf_fail(srf_walk_t *w, const char *msg, const char *what, int location, bool hint)
{
    sql_error_t *err = bind__err(w->b);
    sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, msg, what);
    if (hint)
        sql_error_hint(err, "You might be able to move the set-returning function into a LATERAL FROM item.");
    bind__pos(w->b, location);
    w->error = -1;
    return -1;
}

/* Whether n (an expression of this level) contains a set-returning call, not looking
 * into subqueries (their own level) . */
static bool srf_contains(const ast_t *n);

static bool srf_list_contains(const ast_list_t *l)
{
    for (int i = 0; i < l->n; i++)
        if (srf_contains(l->items[i]))
            return true;
    return false;
}

static bool srf_contains(const ast_t *n)
{
    if (!n)
        return false;
    switch (n->kind) {
    case AST_FUNC:
        return srf_name(n) || srf_record_name(n) || srf_list_contains(&n->func.args);
    case AST_OP: return srf_contains(n->op.l) || srf_contains(n->op.r);
    case AST_AND: case AST_OR: case AST_NOT: case AST_COALESCE: case AST_ARRAY:
        return srf_list_contains(&n->args);
    case AST_CAST: return srf_contains(n->cast.arg);
    case AST_NULLTEST: case AST_BOOLTEST: return srf_contains(n->test.arg);
    case AST_CASE:
        return srf_contains(n->kase.arg) || srf_list_contains(&n->kase.whens) ||
               srf_list_contains(&n->kase.thens) || srf_contains(n->kase.els);
    case AST_MINMAX: return srf_list_contains(&n->minmax.args);
    case AST_NULLIF: case AST_DISTINCT_FROM: case AST_SUBSCRIPT:
        return srf_contains(n->pair.l) || srf_contains(n->pair.r);
    case AST_IN: return srf_contains(n->in.arg) || srf_list_contains(&n->in.list);
    case AST_BETWEEN: return srf_contains(n->between.arg) || srf_contains(n->between.lo) || srf_contains(n->between.hi);
    case AST_LIKE: return srf_contains(n->like.arg) || srf_contains(n->like.pattern) || srf_contains(n->like.escape);
    case AST_ANY: return srf_contains(n->any.l) || srf_contains(n->any.r);
    default:
        return false;
    }
}

/* The location of the first set-returning call in n (which contains one). */
static int srf_location(const ast_t *n);

static int srf_list_location(const ast_list_t *l)
{
    for (int i = 0; i < l->n; i++)
        if (srf_contains(l->items[i]))
            return srf_location(l->items[i]);
    return -1;
}

static int srf_location(const ast_t *n)
{
    switch (n->kind) {
    case AST_FUNC:
        return srf_name(n) || srf_record_name(n) ? n->location : srf_list_location(&n->func.args);
    case AST_OP: return srf_contains(n->op.l) ? srf_location(n->op.l) : srf_location(n->op.r);
    case AST_AND: case AST_OR: case AST_NOT: case AST_COALESCE: case AST_ARRAY: return srf_list_location(&n->args);
    case AST_CAST: return srf_location(n->cast.arg);
    case AST_NULLTEST: case AST_BOOLTEST: return srf_location(n->test.arg);
    case AST_CASE:
        if (srf_contains(n->kase.arg)) return srf_location(n->kase.arg);
        if (srf_list_contains(&n->kase.whens)) return srf_list_location(&n->kase.whens);
        if (srf_list_contains(&n->kase.thens)) return srf_list_location(&n->kase.thens);
        return srf_location(n->kase.els);
    case AST_MINMAX: return srf_list_location(&n->minmax.args);
    case AST_NULLIF: case AST_DISTINCT_FROM: case AST_SUBSCRIPT:
        return srf_contains(n->pair.l) ? srf_location(n->pair.l) : srf_location(n->pair.r);
    case AST_IN: return srf_contains(n->in.arg) ? srf_location(n->in.arg) : srf_list_location(&n->in.list);
    case AST_BETWEEN:
        if (srf_contains(n->between.arg)) return srf_location(n->between.arg);
        return srf_contains(n->between.lo) ? srf_location(n->between.lo) : srf_location(n->between.hi);
    case AST_LIKE:
        if (srf_contains(n->like.arg)) return srf_location(n->like.arg);
        return srf_contains(n->like.pattern) ? srf_location(n->like.pattern) : srf_location(n->like.escape);
    case AST_ANY: return srf_contains(n->any.l) ? srf_location(n->any.l) : srf_location(n->any.r);
    default:
        return n->location;
    }
}

static ast_t *srf_copy(srf_walk_t *w, const ast_t *n)
{
    ast_t *c = bind__alloc(w->b, sizeof *c);
    if (!c) {
        w->error = -1;
        return NULL;
    }
    *c = *n;
    return c;
}

static ast_t *srf_rewrite(srf_walk_t *w, ast_t *n);

/* Rewrites a list in place of a copy; returns -1 on error. */
static int srf_rewrite_list(srf_walk_t *w, ast_list_t *l)
{
    if (!srf_list_contains(l))
        return 0;
    ast_t **items = bind__alloc(w->b, (size_t)l->n * sizeof *items);
    if (!items) {
        w->error = -1;
        return -1;
    }
    for (int i = 0; i < l->n; i++)
        if (!(items[i] = srf_rewrite(w, l->items[i])))
            return -1;
    l->items = items;
    return 0;
}

/* Notes aggregate and window calls of this level (not inside subqueries). */
static void srf_note_aggs(srf_walk_t *w, const ast_t *n);

static void srf_note_list(srf_walk_t *w, const ast_list_t *l)
{
    for (int i = 0; i < l->n; i++)
        srf_note_aggs(w, l->items[i]);
}

static void srf_note_aggs(srf_walk_t *w, const ast_t *n)
{
    if (!n)
        return;
    switch (n->kind) {
    case AST_FUNC:
        if (n->func.over || bind__aggfn(n->func.name) >= 0 || bind_win_is_window_call(n) || n->func.star)
            w->aggregating = true;
        srf_note_list(w, &n->func.args);
        return;
    case AST_GROUPING_FUNC: w->aggregating = true; return;
    case AST_OP: srf_note_aggs(w, n->op.l); srf_note_aggs(w, n->op.r); return;
    case AST_AND: case AST_OR: case AST_NOT: case AST_COALESCE: case AST_ARRAY: srf_note_list(w, &n->args); return;
    case AST_CAST: srf_note_aggs(w, n->cast.arg); return;
    case AST_NULLTEST: case AST_BOOLTEST: srf_note_aggs(w, n->test.arg); return;
    case AST_CASE:
        srf_note_aggs(w, n->kase.arg);
        srf_note_list(w, &n->kase.whens);
        srf_note_list(w, &n->kase.thens);
        srf_note_aggs(w, n->kase.els);
        return;
    case AST_MINMAX: srf_note_list(w, &n->minmax.args); return;
    case AST_NULLIF: case AST_DISTINCT_FROM: case AST_SUBSCRIPT:
        srf_note_aggs(w, n->pair.l);
        srf_note_aggs(w, n->pair.r);
        return;
    case AST_IN: srf_note_aggs(w, n->in.arg); srf_note_list(w, &n->in.list); return;
    case AST_BETWEEN:
        srf_note_aggs(w, n->between.arg);
        srf_note_aggs(w, n->between.lo);
        srf_note_aggs(w, n->between.hi);
        return;
    case AST_LIKE:
        srf_note_aggs(w, n->like.arg);
        srf_note_aggs(w, n->like.pattern);
        srf_note_aggs(w, n->like.escape);
        return;
    case AST_ANY: srf_note_aggs(w, n->any.l); srf_note_aggs(w, n->any.r); return;
    default:
        return;
    }
}

/* The call's replacement: the first call found becomes the FROM item, an identical
 * one shares it, a different one is refused. */
static ast_t *srf_replace(srf_walk_t *w, ast_t *n)
{
    if (srf_record_name(n)) {
        srf_fail(w, "%s in a select list is not supported (it returns a record)", n->func.name, n->location, true);
        return NULL;
    }
    if (srf_list_contains(&n->func.args)) {
        srf_fail(w, "a set-returning function in the arguments of %s is not supported", n->func.name,
                 srf_list_location(&n->func.args), true);
        return NULL;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    parse_deparse(n, &sb);
    strbuf_putc(&sb, '\0');
    if (sb.oom) {
        strbuf_free(&sb);
        sql_error(bind__err(w->b), SQLSTATE_OUT_OF_MEMORY, "out of memory");
        w->error = -1;
        return NULL;
    }
    if (w->call) {
        bool same = !strcmp(sb.data, w->call_text);
        strbuf_free(&sb);
        if (!same) {
            srf_fail(w, "more than one set-returning function in a select list is not supported (%s)", n->func.name,
                     n->location, true);
            return NULL;
        }
        return w->ref;
    }
    char *text = bind__alloc(w->b, sb.len);
    if (!text) {
        strbuf_free(&sb);
        w->error = -1;
        return NULL;
    }
    memcpy(text, sb.data, sb.len);
    strbuf_free(&sb);
    w->call = n;
    w->call_text = text;
    ast_t *ref = bind__alloc(w->b, sizeof *ref);
    if (!ref) {
        w->error = -1;
        return NULL;
    }
    ref->kind = AST_COLREF;
    ref->location = n->location;
    ref->colref.nfields = 2;
    ref->colref.fields[0] = SRF_ALIAS;
    ref->colref.fields[1] = n->func.name;
    w->ref = ref;
    return ref;
}

/* n with its set-returning call replaced (a copy along the path; n when none). */
static ast_t *srf_rewrite(srf_walk_t *w, ast_t *n)
{
    if (!srf_contains(n))
        return n;
    ast_t *c;
    switch (n->kind) {
    case AST_FUNC:
        if (srf_name(n) || srf_record_name(n))
            return srf_replace(w, n);
        if (bind__aggfn(n->func.name) >= 0 || n->func.over || bind_win_is_window_call(n)) {
            srf_fail(w, "%s function calls cannot contain set-returning function calls",
                     n->func.over || bind_win_is_window_call(n) ? "window" : "aggregate",
                     srf_list_location(&n->func.args), true);
            return NULL;
        }
        if (!(c = srf_copy(w, n)) || srf_rewrite_list(w, &c->func.args) < 0)
            return NULL;
        return c;
    case AST_CASE:
        srf_fail(w, "set-returning functions are not allowed in %s", "CASE", srf_location(n), true);
        return NULL;
    case AST_COALESCE:
        srf_fail(w, "set-returning functions are not allowed in %s", "COALESCE", srf_location(n), true);
        return NULL;
    default:
        break;
    }
    if (!(c = srf_copy(w, n)))
        return NULL;
    switch (n->kind) {
    case AST_OP:
        if ((c->op.l && !(c->op.l = srf_rewrite(w, c->op.l))) || (c->op.r && !(c->op.r = srf_rewrite(w, c->op.r))))
            return NULL;
        return c;
    case AST_AND: case AST_OR: case AST_NOT: case AST_ARRAY:
        return srf_rewrite_list(w, &c->args) < 0 ? NULL : c;
    case AST_CAST:
        return (c->cast.arg = srf_rewrite(w, c->cast.arg)) ? c : NULL;
    case AST_NULLTEST: case AST_BOOLTEST:
        return (c->test.arg = srf_rewrite(w, c->test.arg)) ? c : NULL;
    case AST_MINMAX:
        return srf_rewrite_list(w, &c->minmax.args) < 0 ? NULL : c;
    case AST_NULLIF: case AST_DISTINCT_FROM: case AST_SUBSCRIPT:
        if (!(c->pair.l = srf_rewrite(w, c->pair.l)) || !(c->pair.r = srf_rewrite(w, c->pair.r)))
            return NULL;
        return c;
    case AST_IN:
        if (!(c->in.arg = srf_rewrite(w, c->in.arg)) || srf_rewrite_list(w, &c->in.list) < 0)
            return NULL;
        return c;
    case AST_BETWEEN:
        if (!(c->between.arg = srf_rewrite(w, c->between.arg)) || !(c->between.lo = srf_rewrite(w, c->between.lo)) ||
            !(c->between.hi = srf_rewrite(w, c->between.hi)))
            return NULL;
        return c;
    case AST_LIKE:
        if (!(c->like.arg = srf_rewrite(w, c->like.arg)) || !(c->like.pattern = srf_rewrite(w, c->like.pattern)) ||
            (c->like.escape && !(c->like.escape = srf_rewrite(w, c->like.escape))))
            return NULL;
        return c;
    case AST_ANY:
        if (!(c->any.l = srf_rewrite(w, c->any.l)) || !(c->any.r = srf_rewrite(w, c->any.r)))
            return NULL;
        return c;
    default:
        ASSERT(false);
        return NULL;
    }
}

int bind_srf_rewrite(binder_t *b, const ast_select_t *q, const ast_select_t **out)
{
    *out = NULL;
    bool any = false;
    for (int i = 0; i < q->ntargets && !any; i++)
        any = srf_contains(q->targets[i].expr);
    if (!any)
        return 0;
    srf_walk_t w = {.b = b};
    for (int i = 0; i < q->ntargets; i++)
        srf_note_aggs(&w, q->targets[i].expr);
    if (q->having)
        srf_note_aggs(&w, q->having);
    ast_target_t *targets = bind__alloc(b, (size_t)q->ntargets * sizeof *targets);
    if (!targets)
        return -1;
    for (int i = 0; i < q->ntargets; i++) {
        targets[i] = q->targets[i];
        if (!(targets[i].expr = srf_rewrite(&w, q->targets[i].expr)))
            return -1;
    }
    ASSERT(w.call);
    if (w.aggregating || q->group.n || q->having) {
        sql_error(bind__err(b), SQLSTATE_FEATURE_NOT_SUPPORTED,
                  "set-returning function %s in the select list of a query with aggregates, GROUP BY, HAVING or "
                  "window functions is not supported", w.call->func.name);
        sql_error_hint(bind__err(b), "You might be able to move the set-returning function into a LATERAL FROM item.");
        bind__pos(b, w.call->location);
        return -1;
    }
    /* the LATERAL item: the call, aliased "?srf?"(name), its column hidden */
    ast_t *rf = bind__alloc(b, sizeof *rf);
    ast_t *colname = bind__alloc(b, sizeof *colname);
    ast_t **colitems = bind__alloc(b, sizeof *colitems);
    ast_t **from = bind__alloc(b, (size_t)(q->from.n + 1) * sizeof *from);
    ast_select_t *nq = bind__alloc(b, sizeof *nq);
    if (!rf || !colname || !colitems || !from || !nq)
        return -1;
    colname->kind = AST_CONST;
    colname->location = -1;
    colname->c.ctype = AST_C_STRING;
    colname->c.str = w.call->func.name;
    colitems[0] = colname;
    rf->kind = AST_RANGEFUNC;
    rf->location = w.call->location;
    rf->rangefunc.func = w.call;
    rf->rangefunc.alias = SRF_ALIAS;
    rf->rangefunc.colaliases = (ast_list_t){1, colitems};
    rf->rangefunc.lateral = true;
    rf->rangefunc.hide_cols = true;
    for (int i = 0; i < q->from.n; i++)
        from[i] = q->from.items[i];
    from[q->from.n] = rf;
    *nq = *q;
    nq->targets = targets;
    nq->from = (ast_list_t){q->from.n + 1, from};
    *out = nq;
    return 0;
}
