/*
 * explain.c -- plan tree to text (see explain.h).
 */
#include "sql/explain.h"

#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "vector/distance.h"

typedef struct ex_out { arena_t *a; const char **lines; int n, cap; bool oom; } ex_out_t;

static void ex_line(ex_out_t *o, int depth, bool node, const char *fmt, const char *arg, const char *arg2)
{
    if (o->n == o->cap) {
        int cap = o->cap ? o->cap * 2 : 16;
        const char **nl = arena_alloc(o->a, (size_t)cap * sizeof(char *));
        if (!nl) {
            o->oom = true;
            return;
        }
        if (o->n)
            memcpy(nl, o->lines, (size_t)o->n * sizeof(char *));
        o->lines = nl;
        o->cap = cap;
    }
    char body[256], buf[400];
    snprintf(body, sizeof body, fmt, arg ? arg : "", arg2 ? arg2 : "");
    /* PostgreSQL: children start with "->  " six columns right of the parent's text */
    int pad = depth == 0 ? 0 : 6 * depth - (node ? 4 : 0) + (node ? 0 : 2);
    bool guc = body[0] == EXPLAIN_GUC_MARK;
    snprintf(buf, sizeof buf, "%s%*s%s%s", guc ? "\001" : "", pad, "", node && depth ? "->  " : "",
             guc ? body + 1 : body);
    if (!(o->lines[o->n++] = arena_strdup(o->a, buf)))
        o->oom = true;
}

static const char *metric_ops(int m)
{
    switch (m) {
    case DISTANCE_METRIC_L2: return "vector_l2_ops";
    case DISTANCE_METRIC_IP: return "vector_ip_ops";
    case DISTANCE_METRIC_COSINE: return "vector_cosine_ops";
    default: return "vector_l1_ops";
    }
}

static void ex_scan(ex_out_t *o, const plan_t *p, int depth)
{
    const char *t = p->scan.table->name;
    const plan_topk_t *tk = p->scan.topk;
    if (p->scan.nkey)
        ex_line(o, depth, true, "Point Get on %s (primary key)", t, NULL);
    else if (tk && tk->index)
        ex_line(o, depth, true, "Index Scan using %s on %s", tk->index->name, t);
    else if (p->scan.index)
        ex_line(o, depth, true, "Index Scan using %s on %s", p->scan.index->name, t);
    else
        ex_line(o, depth, true, "Seq Scan on %s", t, NULL);
    if (tk && tk->index) {
        ex_line(o, depth, false, "HNSW: %s, per-shard top-k merged by the coordinator", metric_ops(tk->index->metric), NULL);
        ex_line(o, depth, false, "\001ef_search: ", NULL, NULL);
        if (p->scan.filter)
            ex_line(o, depth, false, "Filter applied inside the graph search; exact filtered scan per shard when the sampled selectivity is low", NULL, NULL);
    } else if (tk) {
        ex_line(o, depth, false, "Exact per-shard top-k (%s sort key%s), merged by the coordinator",
                tk->nkeys == 1 ? "one" : "several", tk->nkeys == 1 ? "" : "s");
    }
    if (p->scan.index)
        ex_line(o, depth, false, p->scan.ixkey ? "Index lookup on one shard, rows fetched by key and re-checked"
                                               : "Index range on every shard, rows fetched by key and re-checked",
                NULL, NULL);
    else if (p->scan.filter && !(tk && tk->index))
        ex_line(o, depth, false, "Filter: pushed to every shard", NULL, NULL);
    if (p->scan.agg_pushed)
        ex_line(o, depth, false, "Partial Aggregate on every shard", NULL, NULL);
}

/* A reference to a WITH RECURSIVE query: "CTE Scan on q" over its Recursive Union,
 * as PostgreSQL prints it. Returns true after printing the union line itself. */
static bool ex_cte_scan(ex_out_t *o, const plan_t *p, int *depth)
{
    ex_line(o, *depth, true, "CTE Scan on %s", p->recursive.name, NULL);
    ex_line(o, ++*depth, true, "Recursive Union", NULL, NULL);
    return true;
}

/* One WindowAgg line per window (innermost first computed), each over a Sort of
 * its keys when it has any. */
static bool ex_window(ex_out_t *o, const plan_t *p, int *depth)
{
    for (int i = p->window.nwins - 1; i >= 0; i--) {
        const plan_window_t *w = &p->window.wins[i];
        ex_line(o, (*depth)++, true, "WindowAgg", NULL, NULL);
        if (w->npart || w->norder) {
            ex_line(o, *depth, true, "Sort", NULL, NULL);
            ++*depth;
        }
    }
    --*depth;
    return true;
}

static void ex_node(ex_out_t *o, const plan_t *p, int depth)
{
    static const char *const names[] = {
        [PL_VTAB] = "Catalog Scan", [PL_SERIES] = "Function Scan", [PL_VALUES] = "Values Scan",
        [PL_FILTER] = "Filter", [PL_PROJECT] = "Result", [PL_AGG] = "Aggregate", [PL_SORT] = "Sort",
        [PL_LIMIT] = "Limit", [PL_DISTINCT] = "Unique", [PL_JOIN] = "Join", [PL_APPEND] = "Append",
        [PL_WINDOW] = "WindowAgg", [PL_RECURSIVE] = "Recursive Union", [PL_REPEAT] = "SetOp",
        [PL_LATERAL] = "Nested Loop",
    };
    if (!p || o->oom)
        return;
    if (p->kind == PL_PROJECT) {        /* PostgreSQL folds projections into nodes */
        ex_node(o, p->child, depth);
        return;
    }
    if (p->kind == PL_SCAN) {
        ex_scan(o, p, depth);
        return;
    }
    if (p->kind == PL_JOIN)
        ex_line(o, depth, true, p->join.nkeys ? "Hash %sJoin" : p->join.left ? "Nested Loop %sJoin" : "Nested Loop%s",
                p->join.full ? "Full " : p->join.left ? "Left " : "", NULL);
    else if (p->kind == PL_LATERAL)
        ex_line(o, depth, true, "Nested Loop%s", p->join.left ? " Left Join" : "", NULL);
    else if (p->kind == PL_WORKTABLE)
        ex_line(o, depth, true, "WorkTable Scan on %s", p->recursive.name, NULL);
    else if (p->kind == PL_RECURSIVE && ex_cte_scan(o, p, &depth))
        ;
    else if (p->kind == PL_WINDOW && ex_window(o, p, &depth))
        ;
    else if (p->kind == PL_VTAB)
        ex_line(o, depth, true, "Catalog Scan on %s", p->vtab.vt ? p->vtab.vt->name : "?", NULL);
    else
        ex_line(o, depth, true, "%s", names[p->kind] ? names[p->kind] : "Node", NULL);
    ex_node(o, p->child, depth + 1);
    ex_node(o, p->right, depth + 1);
}

int explain_lines(const plan_t *p, arena_t *a, const char ***lines, int *n)
{
    ex_out_t o = {.a = a};
    ex_node(&o, p, 0);
    *lines = o.lines;
    *n = o.n;
    return o.oom ? -1 : 0;
}
