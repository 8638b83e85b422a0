/*
 * bind_test.c -- the binder and planner alone, on a hand-built catalog snapshot (no
 * runtime, no storage): name resolution errors, PostgreSQL type rules, parameter type
 * inference, point-get detection, aggregate pushdown, result descriptions.
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "sql/parse.h"
#include "sql/plan.h"
#include "tests/unit/test.h"

static cat_column_t t_cols[] = {
    {"id", 1, TYPE_INT4, -1, true, false, NULL},
    {"name", 2, TYPE_TEXT, -1, false, false, NULL},
    {"score", 3, TYPE_INT8, -1, false, false, "0"},
};
static int16_t t_pk[] = {1};
static cat_table_t t_tab = {16384, CAT_NS_PUBLIC, "t", 'r', 3, t_cols, 1, t_pk, 16385, "t_pkey", 0};
static const cat_table_t *tables[] = {&t_tab};
static catalog_t cat = {7, 1, tables};

static arena_t A;

static bound_stmt_t *bind_sql(const char *sql, int nparams, const type_oid_t *ptypes, sql_error_t *err)
{
    parse_stmt_t *st;
    int n;
    memset(err, 0, sizeof *err);
    if (parse_sql(&A, sql, strlen(sql), &st, &n, err) < 0 || n != 1)
        return NULL;
    bind_env_t env = {&A, &cat, nparams, ptypes, sql, 0};
    return bind_statement(&env, st[0].ast, err);
}

TEST(names_and_errors)
{
    arena_init(&A, 0);
    sql_error_t err;
    TEST_CHECK(bind_sql("SELECT * FROM nope", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "42P01") == 0 && strcmp(err.message, "relation \"nope\" does not exist") == 0);
    TEST_CHECK(err.position == 15);
    TEST_CHECK(bind_sql("SELECT x FROM t", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "42703") == 0 && strcmp(err.message, "column \"x\" does not exist") == 0);
    TEST_CHECK(bind_sql("SELECT id FROM t WHERE id = name", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "42883") == 0);
    TEST_CHECK(strcmp(err.message, "operator does not exist: integer = text") == 0);
    TEST_CHECK(bind_sql("SELECT id FROM t WHERE id = 'abc'", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "22P02") == 0);
    TEST_CHECK(bind_sql("INSERT INTO t (id, name) VALUES ('1'::text, 'a')", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "42804") == 0);
    TEST_CHECK(strcmp(err.message, "column \"id\" is of type integer but expression is of type text") == 0);
    /* numbers may be assigned to text columns (an assignment cast), as in PostgreSQL */
    TEST_CHECK(bind_sql("INSERT INTO t (id, name) VALUES (1, 2.5)", 0, NULL, &err) != NULL);
    TEST_CHECK(bind_sql("SELECT name, count(*) FROM t", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "42803") == 0);
    TEST_CHECK(bind_sql("SELECT id FROM t WHERE count(*) > 1", 0, NULL, &err) == NULL);
    TEST_CHECK(strcmp(err.message, "aggregate functions are not allowed in WHERE") == 0);
    arena_destroy(&A);
}

TEST(parameter_inference)
{
    arena_init(&A, 0);
    sql_error_t err;
    bound_stmt_t *bs = bind_sql("UPDATE t SET score = score + $1 WHERE id = $2", 0, NULL, &err);
    TEST_REQUIRE(bs);
    TEST_CHECK(bs->nparams == 2);
    TEST_CHECK(bs->param_types[0] == TYPE_INT8);
    TEST_CHECK(bs->param_types[1] == TYPE_INT4);
    TEST_CHECK(bs->nkey == 1);          /* point update */
    bs = bind_sql("SELECT $1", 0, NULL, &err);
    TEST_REQUIRE(bs);
    TEST_CHECK(bs->param_types[0] == TYPE_TEXT);
    type_oid_t declared[1] = {TYPE_INT8};
    bs = bind_sql("SELECT name FROM t WHERE id = $1", 1, declared, &err);
    TEST_REQUIRE(bs);
    TEST_CHECK(bs->param_types[0] == TYPE_INT8);
    bs = bind_sql("INSERT INTO t (id, name) VALUES ($1, $2)", 0, NULL, &err);
    TEST_REQUIRE(bs);
    TEST_CHECK(bs->param_types[0] == TYPE_INT4 && bs->param_types[1] == TYPE_TEXT);
    arena_destroy(&A);
}

TEST(plans)
{
    arena_init(&A, 0);
    sql_error_t err;
    bound_stmt_t *bs = bind_sql("SELECT name FROM t WHERE id = 3", 0, NULL, &err);
    TEST_REQUIRE(bs && bs->plan->kind == PL_PROJECT);
    const plan_t *scan = bs->plan->child;
    TEST_REQUIRE(scan->kind == PL_SCAN);
    TEST_CHECK(scan->scan.nkey == 1 && scan->scan.filter != NULL);
    TEST_CHECK(bs->ncols == 1 && strcmp(bs->cols[0].name, "name") == 0 && bs->cols[0].table_oid == 16384 &&
               bs->cols[0].attnum == 2 && bs->cols[0].type == TYPE_TEXT);
    bs = bind_sql("SELECT name, count(*), sum(score) FROM t WHERE id > 1 GROUP BY name ORDER BY 2 DESC LIMIT 3", 0,
                  NULL, &err);
    TEST_REQUIRE(bs);
    const plan_t *p = bs->plan;
    TEST_REQUIRE(p->kind == PL_LIMIT && p->child->kind == PL_SORT && p->child->child->kind == PL_PROJECT);
    const plan_t *agg = p->child->child->child;
    TEST_REQUIRE(agg->kind == PL_AGG && agg->agg.mode == PLAN_AGG_FINAL);
    TEST_CHECK(agg->child->kind == PL_SCAN && agg->child->scan.agg_pushed && agg->child->scan.nkey == 0);
    TEST_CHECK(bs->cols[1].type == TYPE_INT8 && bs->cols[2].type == TYPE_NUMERIC);   /* sum(int8) is numeric */
    bs = bind_sql("SELECT count(DISTINCT name) FROM t", 0, NULL, &err);
    TEST_REQUIRE(bs);
    TEST_CHECK(bs->plan->child->kind == PL_AGG && bs->plan->child->agg.mode == PLAN_AGG_COMPLETE);
    bs = bind_sql("SELECT x FROM generate_series(1, 3) AS g(x)", 0, NULL, &err);
    TEST_REQUIRE(bs && bs->plan->child->kind == PL_SERIES);
    TEST_CHECK(strcmp(bs->cols[0].name, "x") == 0 && bs->cols[0].type == TYPE_INT4);
    arena_destroy(&A);
}

TEST(routing_is_stable)
{
    /* The hash is part of the on-disk format: pin a few values. */
    const uint8_t k1[] = {0x80, 0, 0, 1};
    TEST_CHECK(plan_key_hash(k1, sizeof k1) == 0xd1df2d289a573400ULL);
    TEST_CHECK(plan_key_hash((const uint8_t *)"", 0) == 0xf52a15e9a9b5e89bULL);
    int counts[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < 4000; i++) {
        uint8_t k[4] = {(uint8_t)(0x80 | (i >> 24)), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        counts[sql_route_key(k, 4, 4)]++;
    }
    for (int s = 0; s < 4; s++)
        TEST_CHECK(counts[s] > 850 && counts[s] < 1150);
}

TEST_MAIN()
