/*
 * explain.c -- plan tree to text, with EXPLAIN ANALYZE's figures (see explain.h).
 */
#include "sql/explain.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/strbuf.h"
#include "vector/distance.h"

typedef struct ex_out {
    arena_t *a;
    const char **lines;
    int n, cap;
    bool oom;
    const explain_instr_t *in;     /* EXPLAIN ANALYZE's figures, or NULL */
    const void *cur;               /* key of the node whose lines are being printed */
    uint32_t ef_search;
} ex_out_t;

uint64_t explain_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const explain_node_t *explain_find(const explain_instr_t *in, const void *key)
{
    for (int i = 0; in && i < in->n; i++)
        if (in->nodes[i]->key == key)
            return in->nodes[i];
    return NULL;
}

explain_node_t *explain_node(explain_instr_t *in, const void *key)
{
    explain_node_t *nd = (explain_node_t *)explain_find(in, key);
    if (nd)
        return nd;
    if (in->n == in->cap) {
        int cap = in->cap ? in->cap * 2 : 16;
        explain_node_t **nn = arena_alloc(in->arena, (size_t)cap * sizeof *nn);
        if (!nn)
            return NULL;
        if (in->n)
            memcpy(nn, in->nodes, (size_t)in->n * sizeof *nn);
        in->nodes = nn;
        in->cap = cap;
    }
    if (!(nd = arena_alloc(in->arena, sizeof *nd)))
        return NULL;
    memset(nd, 0, sizeof *nd);
    nd->key = key;
    in->nodes[in->n++] = nd;
    return nd;
}

static double ms_per_loop(uint64_t ns, int64_t loops) { return (double)ns / 1e6 / (double)loops; }

/* " (actual time=S..T rows=N loops=L)" as PostgreSQL prints it: per-loop averages. */
static void ex_figures(const ex_out_t *o, char *buf, size_t cap)
{
    const explain_node_t *nd = explain_find(o->in, o->cur);
    if (!nd || nd->loops == 0)
        snprintf(buf, cap, " (never executed)");
    else if (o->in->opts & AST_EXPLAIN_TIMING)
        snprintf(buf, cap, " (actual time=%.3f..%.3f rows=%.0f loops=%lld)", ms_per_loop(nd->first_ns, nd->loops),
                 ms_per_loop(nd->total_ns, nd->loops), (double)nd->rows / (double)nd->loops, (long long)nd->loops);
    else
        snprintf(buf, cap, " (actual rows=%.0f loops=%lld)", (double)nd->rows / (double)nd->loops,
                 (long long)nd->loops);
}

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
    char body[256], fig[128] = "", buf[512];
    snprintf(body, sizeof body, fmt, arg ? arg : "", arg2 ? arg2 : "");
    if (node && o->in)
        ex_figures(o, fig, sizeof fig);
    /* PostgreSQL: children start with "->  " six columns right of the parent's text */
    int pad = node ? (depth ? 6 * depth - 4 : 0) : 6 * depth + 2;
    bool guc = body[0] == EXPLAIN_GUC_MARK;
    if (guc && o->in) {            /* ANALYZE: the value the run used */
        snprintf(buf, sizeof buf, "%*s%s%u", pad, "", body + 1, o->ef_search);
        guc = false;
    } else {
        snprintf(buf, sizeof buf, "%s%*s%s%s%s", guc ? "\001" : "", pad, "", node && depth ? "->  " : "",
                 guc ? body + 1 : body, fig);
    }
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

/* One "Shard n:" line per shard that ran the node's fragment, as PostgreSQL prints
 * its "Worker n:" lines. */
static void ex_shards(ex_out_t *o, int depth, const void *key)
{
    const explain_node_t *nd = explain_find(o->in, key);
    for (int i = 0; nd && i < nd->nshards && !o->oom; i++) {
        const explain_shard_t *sh = &nd->shards[i];
        char line[160];
        if (!sh->loops)
            continue;
        if (o->in->opts & AST_EXPLAIN_TIMING)
            snprintf(line, sizeof line, "Shard %d:  actual time=%.3f..%.3f rows=%.0f loops=%lld", i,
                     ms_per_loop(sh->first_ns, sh->loops), ms_per_loop(sh->total_ns, sh->loops),
                     (double)sh->rows / (double)sh->loops, (long long)sh->loops);
        else
            snprintf(line, sizeof line, "Shard %d:  actual rows=%.0f loops=%lld", i,
                     (double)sh->rows / (double)sh->loops, (long long)sh->loops);
        ex_line(o, depth, false, "%s", line, NULL);
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
    ex_shards(o, depth, p);
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
        [PL_VTAB] = "Catalog Scan", [PL_SERIES] = "Function Scan", [PL_VALUES] = "Values Scan on \"*VALUES*\"",
        [PL_FILTER] = "Filter", [PL_PROJECT] = "Result", [PL_AGG] = "Aggregate", [PL_SORT] = "Sort",
        [PL_LIMIT] = "Limit", [PL_DISTINCT] = "Unique", [PL_JOIN] = "Join", [PL_APPEND] = "Append",
        [PL_WINDOW] = "WindowAgg", [PL_RECURSIVE] = "Recursive Union", [PL_REPEAT] = "SetOp",
        [PL_LATERAL] = "Nested Loop",
    };
    if (!p || o->oom)
        return;
    o->cur = p;
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
    else if (p->kind == PL_VALUES && p->ncols == 0)     /* SELECT without FROM */
        ex_line(o, depth, true, "Result", NULL, NULL);
    else if (p->kind == PL_VTAB)
        ex_line(o, depth, true, "Catalog Scan on %s", p->vtab.vt ? p->vtab.vt->name : "?", NULL);
    else
        ex_line(o, depth, true, "%s", names[p->kind] ? names[p->kind] : "Node", NULL);
    ex_node(o, p->child, depth + 1);
    ex_node(o, p->right, depth + 1);
}

/* INSERT / UPDATE / DELETE: PostgreSQL's ModifyTable node over what produces the
 * rows. UPDATE and DELETE find and write their rows inside one fragment per shard:
 * the scan line under "Update on t" is that fragment, its shard lines count the rows
 * each shard changed. INSERT's shard lines, under "Insert on t", count the rows each
 * shard wrote. ModifyTable's own rows are its RETURNING rows, as in PostgreSQL. */
static void ex_modify(ex_out_t *o, const bound_stmt_t *bs)
{
    const char *verb = bs->kind == ST_INSERT ? "Insert" : bs->kind == ST_UPDATE ? "Update" : "Delete";
    const char *t = bs->table->name;
    o->cur = EXPLAIN_KEY_MODIFY(bs);
    ex_line(o, 0, true, "%s on %s", verb, t);
    if (bs->kind == ST_INSERT) {
        ex_shards(o, 0, EXPLAIN_KEY_MODIFY(bs));
        const plan_t *src = bs->plan;
        while (src && src->kind == PL_PROJECT)
            src = src->child;
        if (src && src->kind == PL_VALUES && src->values.nrows == 1) {   /* INSERT ... VALUES (one row) */
            o->cur = src;
            ex_line(o, 1, true, "Result", NULL, NULL);
        } else {
            ex_node(o, bs->plan, 1);
        }
        return;
    }
    if (bs->from_plan) {
        ex_shards(o, 0, EXPLAIN_KEY_MODIFY(bs));
        ex_node(o, bs->from_plan, 1);
        return;
    }
    o->cur = EXPLAIN_KEY_TARGET(bs);
    if (bs->nkey)
        ex_line(o, 1, true, "Point Get on %s (primary key)", t, NULL);
    else if (bs->dml_index)
        ex_line(o, 1, true, "Index Scan using %s on %s", bs->dml_index->name, t);
    else
        ex_line(o, 1, true, "Seq Scan on %s", t, NULL);
    if (bs->dml_index)
        ex_line(o, 1, false, "Index lookup, rows fetched by key and re-checked", NULL, NULL);
    else if (bs->where && !bs->nkey)
        ex_line(o, 1, false, "Filter: pushed to every shard", NULL, NULL);
    ex_shards(o, 1, EXPLAIN_KEY_TARGET(bs));
}

int explain_text(const bound_stmt_t *inner, const explain_instr_t *in, uint32_t ef_search, arena_t *a,
                 const char ***lines, int *n)
{
    ex_out_t o = {.a = a, .in = in, .ef_search = ef_search};
    if (inner->kind == ST_QUERY)
        ex_node(&o, inner->plan, 0);
    else
        ex_modify(&o, inner);
    *lines = o.lines;
    *n = o.n;
    return o.oom ? -1 : 0;
}

int explain_lines(const plan_t *p, arena_t *a, const char ***lines, int *n)
{
    ex_out_t o = {.a = a};
    ex_node(&o, p, 0);
    *lines = o.lines;
    *n = o.n;
    return o.oom ? -1 : 0;
}
