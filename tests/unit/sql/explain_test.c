/*
 * explain_test.c -- sql/explain.c: plan text with and without EXPLAIN ANALYZE's
 * figures: PostgreSQL's indentation, per-loop averages, "never executed", TIMING
 * OFF, per-shard lines and the ModifyTable lines of UPDATE.
 */
#include <string.h>

#include "sql/explain.h"
#include "tests/unit/test.h"

static cat_table_t table = {.name = "t"};

/* Limit -> Sort -> Seq Scan on t, built by hand. */
static void make_plan(plan_t *limit, plan_t *sort, plan_t *scan)
{
    memset(limit, 0, sizeof *limit);
    memset(sort, 0, sizeof *sort);
    memset(scan, 0, sizeof *scan);
    limit->kind = PL_LIMIT;
    limit->child = sort;
    sort->kind = PL_SORT;
    sort->child = scan;
    scan->kind = PL_SCAN;
    scan->scan.table = &table;
}

static bool has(const char **lines, int n, int i, const char *want)
{
    return i < n && strcmp(lines[i], want) == 0;
}

TEST(plain_plan)
{
    plan_t l, s, c;
    make_plan(&l, &s, &c);
    arena_t a;
    arena_init(&a, 1 << 20);
    const char **lines;
    int n;
    TEST_REQUIRE(explain_lines(&l, &a, &lines, &n) == 0);
    TEST_CHECK(n == 3);
    TEST_CHECK(has(lines, n, 0, "Limit"));
    TEST_CHECK(has(lines, n, 1, "  ->  Sort"));
    TEST_CHECK(has(lines, n, 2, "        ->  Seq Scan on t"));
    arena_destroy(&a);
}

TEST(figures_per_loop)
{
    plan_t l, s, c;
    make_plan(&l, &s, &c);
    arena_t a;
    arena_init(&a, 1 << 20);
    explain_instr_t in = {.arena = &a, .opts = AST_EXPLAIN_ANALYZE | AST_EXPLAIN_TIMING};
    explain_node_t *nl = explain_node(&in, &l), *nc = explain_node(&in, &c);
    TEST_REQUIRE(nl && nc && explain_node(&in, &l) == nl && explain_find(&in, &s) == NULL);
    *nl = (explain_node_t){.key = &l, .loops = 1, .rows = 5, .first_ns = 1000000, .total_ns = 2500000};
    /* two loops: 9 rows print as 4 (4.5 rounded half to even, as printf in PostgreSQL) */
    nc->loops = 2;
    nc->rows = 9;
    nc->first_ns = 20000;
    nc->total_ns = 3000000;
    explain_shard_t sh[2] = {{0}, {.loops = 2, .rows = 9, .first_ns = 2000, .total_ns = 1000000}};
    nc->nshards = 2;
    nc->shards = sh;
    bound_stmt_t bs = {.kind = ST_QUERY, .plan = &l};
    const char **lines;
    int n;
    TEST_REQUIRE(explain_text(&bs, &in, 40, &a, &lines, &n) == 0);
    TEST_CHECK(n == 4);
    TEST_CHECK(has(lines, n, 0, "Limit (actual time=1.000..2.500 rows=5 loops=1)"));
    TEST_CHECK(has(lines, n, 1, "  ->  Sort (never executed)"));
    TEST_CHECK(has(lines, n, 2, "        ->  Seq Scan on t (actual time=0.010..1.500 rows=4 loops=2)"));
    /* shard 0 never ran: no line; detail lines sit two columns right of the node */
    TEST_CHECK(has(lines, n, 3, "              Shard 1:  actual time=0.001..0.500 rows=4 loops=2"));
    in.opts = AST_EXPLAIN_ANALYZE;            /* TIMING OFF */
    TEST_REQUIRE(explain_text(&bs, &in, 40, &a, &lines, &n) == 0);
    TEST_CHECK(has(lines, n, 0, "Limit (actual rows=5 loops=1)"));
    TEST_CHECK(has(lines, n, 3, "              Shard 1:  actual rows=4 loops=2"));
    arena_destroy(&a);
}

TEST(update_lines)
{
    arena_t a;
    arena_init(&a, 1 << 20);
    bexpr_t where = {0};
    bound_stmt_t bs = {.kind = ST_UPDATE, .table = &table, .where = &where};
    const char **lines;
    int n;
    TEST_REQUIRE(explain_text(&bs, NULL, 0, &a, &lines, &n) == 0);
    TEST_CHECK(n == 3);
    TEST_CHECK(has(lines, n, 0, "Update on t"));
    TEST_CHECK(has(lines, n, 1, "  ->  Seq Scan on t"));
    TEST_CHECK(has(lines, n, 2, "        Filter: pushed to every shard"));
    explain_instr_t in = {.arena = &a, .opts = AST_EXPLAIN_ANALYZE};
    explain_node_t *m = explain_node(&in, EXPLAIN_KEY_MODIFY(&bs)), *t = explain_node(&in, EXPLAIN_KEY_TARGET(&bs));
    TEST_REQUIRE(m && t && m != t);
    m->loops = t->loops = 1;
    t->rows = 3;
    TEST_REQUIRE(explain_text(&bs, &in, 0, &a, &lines, &n) == 0);
    TEST_CHECK(has(lines, n, 0, "Update on t (actual rows=0 loops=1)"));
    TEST_CHECK(has(lines, n, 1, "  ->  Seq Scan on t (actual rows=3 loops=1)"));
    arena_destroy(&a);
}

TEST_MAIN()
