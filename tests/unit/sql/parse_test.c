/*
 * parse_test.c -- SQL text to AST (sql/parse.c): statement shapes, literals, errors
 * with SQLSTATE and cursor position, unsupported constructs, depth limit, deparse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/limits.h"
#include "sql/parse.h"
#include "tests/unit/test.h"

static arena_t A;

static parse_stmt_t *parse1(const char *sql, int *n, sql_error_t *err)
{
    parse_stmt_t *st = NULL;
    memset(err, 0, sizeof *err);
    if (parse_sql(&A, sql, strlen(sql), &st, n, err) < 0)
        return NULL;
    return st;
}

TEST(select_shape)
{
    arena_init(&A, 0);
    sql_error_t err;
    int n;
    parse_stmt_t *st = parse1("SELECT a, b + 1 AS c FROM t WHERE a = $1 AND b IS NOT NULL ORDER BY 2 DESC LIMIT 5", &n, &err);
    TEST_REQUIRE(st && n == 1);
    const ast_t *s = st[0].ast;
    TEST_REQUIRE(s->kind == AST_SELECT);
    TEST_CHECK(s->select.ntargets == 2);
    TEST_CHECK(s->select.targets[0].expr->kind == AST_COLREF);
    TEST_CHECK(strcmp(s->select.targets[1].name, "c") == 0);
    TEST_CHECK(s->select.targets[1].expr->kind == AST_OP);
    TEST_CHECK(strcmp(s->select.targets[1].expr->op.name, "+") == 0);
    TEST_CHECK(s->select.from.n == 1 && s->select.from.items[0]->kind == AST_RANGEVAR);
    TEST_CHECK(strcmp(s->select.from.items[0]->rangevar.name, "t") == 0);
    TEST_REQUIRE(s->select.where && s->select.where->kind == AST_AND);
    TEST_CHECK(s->select.where->args.n == 2);
    const ast_t *eq = s->select.where->args.items[0];
    TEST_CHECK(eq->kind == AST_OP && eq->op.r->kind == AST_PARAM && eq->op.r->param.number == 1);
    TEST_CHECK(s->select.where->args.items[1]->kind == AST_NULLTEST);
    TEST_CHECK(s->select.where->args.items[1]->test.is_not);
    TEST_CHECK(s->select.nsort == 1 && s->select.sort[0].desc);
    TEST_CHECK(s->select.limit && s->select.limit->kind == AST_CONST && s->select.limit->c.ival == 5);
    arena_destroy(&A);
}

TEST(literals)
{
    arena_init(&A, 0);
    sql_error_t err;
    int n;
    parse_stmt_t *st = parse1("SELECT 1, 3000000000, 1.5, 'x', true, NULL, -2", &n, &err);
    TEST_REQUIRE(st && n == 1);
    const ast_target_t *t = st[0].ast->select.targets;
    TEST_CHECK(t[0].expr->c.ctype == AST_C_INT && t[0].expr->c.ival == 1);
    TEST_CHECK(t[1].expr->c.ctype == AST_C_INT && t[1].expr->c.ival == 3000000000LL);
    TEST_CHECK(t[2].expr->c.ctype == AST_C_NUMERIC && strcmp(t[2].expr->c.str, "1.5") == 0);
    TEST_CHECK(t[3].expr->c.ctype == AST_C_STRING && strcmp(t[3].expr->c.str, "x") == 0);
    TEST_CHECK(t[4].expr->c.ctype == AST_C_BOOL && t[4].expr->c.bval);
    TEST_CHECK(t[5].expr->c.ctype == AST_C_NULL);
    TEST_CHECK(t[6].expr->c.ctype == AST_C_INT && t[6].expr->c.ival == -2);
    arena_destroy(&A);
}

TEST(statements)
{
    arena_init(&A, 0);
    sql_error_t err;
    int n;
    parse_stmt_t *st = parse1(
        "CREATE TABLE IF NOT EXISTS x (id int PRIMARY KEY, s varchar(10) NOT NULL DEFAULT 'a', t timestamp DEFAULT now()) "
        "WITH (fillfactor=100); INSERT INTO x (id) VALUES (1), (DEFAULT) RETURNING id; UPDATE x SET s = 'b' WHERE id = 1; "
        "DELETE FROM x; BEGIN ISOLATION LEVEL REPEATABLE READ; COMMIT; SET LOCAL lock_timeout = '1s'; SHOW ALL; "
        "DROP TABLE IF EXISTS x, y; TRUNCATE x; ALTER TABLE x ADD PRIMARY KEY (id); VACUUM; DISCARD ALL",
        &n, &err);
    TEST_REQUIRE(st && n == 13);
    const ast_t *c = st[0].ast;
    TEST_CHECK(c->kind == AST_CREATE_TABLE && c->create.if_not_exists && c->create.ncols == 3);
    TEST_CHECK(c->create.npk == 1 && strcmp(c->create.pk_cols[0], "id") == 0);
    TEST_CHECK(c->create.cols[1].not_null && c->create.cols[1].type.ntypmods == 1 && c->create.cols[1].type.typmods[0] == 10);
    TEST_CHECK(strcmp(c->create.cols[1].default_sql, "'a'") == 0);
    TEST_CHECK(strcmp(c->create.cols[2].default_sql, "now()") == 0);
    TEST_CHECK(st[1].ast->kind == AST_INSERT && st[1].ast->insert.nreturning == 1);
    TEST_CHECK(st[1].ast->insert.source->select.nvalues_rows == 2);
    TEST_CHECK(st[1].ast->insert.source->select.values[1].items[0]->kind == AST_DEFAULT);
    TEST_CHECK(st[2].ast->kind == AST_UPDATE && st[2].ast->update.nset == 1);
    TEST_CHECK(st[3].ast->kind == AST_DELETE && !st[3].ast->del.where);
    TEST_CHECK(st[4].ast->kind == AST_TXN && st[4].ast->txn.kind == AST_TXN_BEGIN &&
               st[4].ast->txn.iso == AST_ISO_REPEATABLE_READ);
    TEST_CHECK(st[5].ast->kind == AST_TXN && st[5].ast->txn.kind == AST_TXN_COMMIT);
    TEST_CHECK(st[6].ast->kind == AST_SET && st[6].ast->set.is_local && strcmp(st[6].ast->set.values[0], "1s") == 0);
    TEST_CHECK(st[7].ast->kind == AST_SHOW && strcmp(st[7].ast->show.name, "all") == 0);
    TEST_CHECK(st[8].ast->kind == AST_DROP_TABLE && st[8].ast->drop.n == 2 && st[8].ast->drop.if_exists);
    TEST_CHECK(st[9].ast->kind == AST_TRUNCATE);
    TEST_CHECK(st[10].ast->kind == AST_ALTER_ADD_PK && st[10].ast->alter_pk.ncols == 1);
    TEST_CHECK(st[11].ast->kind == AST_VACUUM && st[12].ast->kind == AST_DISCARD);
    arena_destroy(&A);
}

TEST(from_items)
{
    arena_init(&A, 0);
    sql_error_t err;
    int n;
    parse_stmt_t *st = parse1("SELECT * FROM a JOIN b ON a.x = b.x LEFT JOIN c USING (y), generate_series(1, 10) AS g(v)", &n, &err);
    TEST_REQUIRE(st && n == 1);
    const ast_select_t *q = &st[0].ast->select;
    TEST_REQUIRE(q->from.n == 2);
    TEST_CHECK(q->from.items[0]->kind == AST_JOIN && q->from.items[0]->join.type == AST_JOIN_LEFT);
    TEST_CHECK(q->from.items[0]->join.nusing == 1);
    TEST_CHECK(q->from.items[0]->join.l->kind == AST_JOIN);
    TEST_CHECK(q->from.items[1]->kind == AST_RANGEFUNC);
    TEST_CHECK(strcmp(q->from.items[1]->rangefunc.alias, "g") == 0 && q->from.items[1]->rangefunc.colaliases.n == 1);
    TEST_CHECK(q->targets[0].expr->kind == AST_COLREF && q->targets[0].expr->colref.star);
    arena_destroy(&A);
}

TEST(errors)
{
    arena_init(&A, 0);
    sql_error_t err;
    int n;
    TEST_CHECK(parse1("SELEC 1", &n, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, SQLSTATE_SYNTAX_ERROR) == 0);
    TEST_CHECK(strcmp(err.message, "syntax error at or near \"SELEC\"") == 0);
    TEST_CHECK(err.position == 1);
    TEST_CHECK(parse1("SELECT 1 FROM t FOR UPDATE NOWAIT", &n, &err) == NULL);
    TEST_CHECK(strcmp(err.sqlstate, SQLSTATE_FEATURE_NOT_SUPPORTED) == 0);
    TEST_CHECK(strcmp(err.message, "NOWAIT / SKIP LOCKED is not supported") == 0);
    /* INTERSECT binds tighter than UNION / EXCEPT */
    parse_stmt_t *x = parse1("SELECT 1 EXCEPT SELECT 2 INTERSECT SELECT 3", &n, &err);
    TEST_CHECK(x && x[0].ast->select.is_setop && x[0].ast->select.setop == AST_SETOP_EXCEPT &&
               x[0].ast->select.rarg->select.setop == AST_SETOP_INTERSECT && !x[0].ast->select.setop_all);
    parse_stmt_t *u = parse1("SELECT 1 UNION ALL SELECT 2 ORDER BY 1 LIMIT 1", &n, &err);
    TEST_CHECK(u && u[0].ast->select.is_setop && u[0].ast->select.setop_all && u[0].ast->select.nsort == 1);
    /* WITHIN GROUP: the direct argument stays in args, the sorted one in order */
    parse_stmt_t *wg = parse1("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x DESC) FROM t", &n, &err);
    const ast_t *wf = wg ? wg[0].ast->select.targets[0].expr : NULL;
    TEST_CHECK(wf && wf->kind == AST_FUNC && wf->func.within_group && wf->func.args.n == 1 &&
               wf->func.norder == 1 && wf->func.order[0].desc);
    TEST_CHECK(parse1("CREATE TEMP TABLE tt (a int)", &n, &err) == NULL);
    TEST_CHECK(strcmp(err.message, "CREATE TEMPORARY TABLE is not supported") == 0);
    TEST_CHECK(parse1("COMMENT ON TABLE t IS 'x'", &n, &err) == NULL);
    TEST_CHECK(strcmp(err.message, "COMMENT is not supported") == 0);
    TEST_CHECK(parse1("CREATE SCHEMA s", &n, &err) == NULL);
    TEST_CHECK(strcmp(err.message, "CREATE SCHEMA is not supported") == 0);
    /* CREATE VIEW keeps the query converted and deparsed (sql/exec_view.c) */
    sql_error_clear(&err);
    parse_stmt_t *cv = parse1("CREATE OR REPLACE VIEW v (a) AS SELECT x, y FROM t WHERE x > 1 -- c", &n, &err);
    TEST_CHECK(cv && cv[0].ast->kind == AST_CREATE_VIEW && cv[0].ast->view.replace && cv[0].ast->view.ncols == 1);
    TEST_CHECK(cv && !strcmp(cv[0].ast->view.sql, "SELECT x, y FROM t WHERE x > 1"));
    /* ALTER COLUMN TYPE keeps the type and the deparsed USING (sql/exec_alter_type.c) */
    parse_stmt_t *at = parse1("ALTER TABLE t ALTER COLUMN x SET DATA TYPE varchar(5) USING x || 'a'", &n, &err);
    TEST_CHECK(at && at[0].ast->kind == AST_ALTER_TABLE && at[0].ast->alter.ncmds == 1 &&
               at[0].ast->alter.cmds[0].kind == AST_AT_ALTER_TYPE);
    TEST_CHECK(at && !strcmp(at[0].ast->alter.cmds[0].name, "x") &&
               !strcmp(at[0].ast->alter.cmds[0].type->name, "varchar") && at[0].ast->alter.cmds[0].using_sql);
    parse_stmt_t *ac = parse1("ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0), DROP CONSTRAINT IF EXISTS d", &n, &err);
    TEST_CHECK(ac && ac[0].ast->alter.ncmds == 2 && ac[0].ast->alter.cmds[0].kind == AST_AT_ADD_CONSTRAINT &&
               ac[0].ast->alter.cmds[0].def->create.nchecks == 1 &&
               ac[0].ast->alter.cmds[1].kind == AST_AT_DROP_CONSTRAINT && ac[0].ast->alter.cmds[1].missing_ok);
    TEST_CHECK(parse1("ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0) NOT VALID", &n, &err) == NULL);
    TEST_CHECK(strcmp(err.message, "NOT VALID is not supported") == 0);
    sql_error_clear(&err);
    /* CREATE INDEX parses; the binder / vindex_ddl.c decide which methods run */
    sql_error_clear(&err);
    parse_stmt_t *ci = parse1("CREATE INDEX IF NOT EXISTS i ON t USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 40)", &n, &err);
    TEST_CHECK(ci && ci[0].ast->kind == AST_CREATE_INDEX && !strcmp(ci[0].ast->create_index.method, "hnsw"));
    TEST_CHECK(ci && ci[0].ast->create_index.if_not_exists && ci[0].ast->create_index.nopts == 2);
    TEST_CHECK(ci && !strcmp(ci[0].ast->create_index.opclasses[0], "vector_cosine_ops"));
    TEST_CHECK(ci && !strcmp(ci[0].ast->create_index.opt_names[1], "ef_construction") &&
               !strcmp(ci[0].ast->create_index.opt_values[1], "40"));
    /* EXPLAIN options: PostgreSQL's defaults (TIMING / SUMMARY follow ANALYZE) and errors */
    parse_stmt_t *ea = parse1("EXPLAIN ANALYZE SELECT 1", &n, &err);
    TEST_CHECK(ea && ea[0].ast->kind == AST_EXPLAIN &&
               ea[0].ast->explain.opts == (AST_EXPLAIN_ANALYZE | AST_EXPLAIN_COSTS | AST_EXPLAIN_TIMING |
                                           AST_EXPLAIN_SUMMARY));
    parse_stmt_t *eo = parse1("EXPLAIN (ANALYZE, TIMING off, COSTS 0, SUMMARY false) UPDATE t SET x = 1", &n, &err);
    TEST_CHECK(eo && eo[0].ast->explain.opts == AST_EXPLAIN_ANALYZE && eo[0].ast->explain.stmt->kind == AST_UPDATE);
    TEST_CHECK(parse1("EXPLAIN (TIMING) SELECT 1", &n, &err) == NULL && !strcmp(err.sqlstate, "22023"));
    sql_error_clear(&err);
    TEST_CHECK(parse1("EXPLAIN (BOGUS) SELECT 1", &n, &err) == NULL && !strcmp(err.sqlstate, "42601") &&
               !strcmp(err.message, "unrecognized EXPLAIN option \"bogus\"") && err.position == 10);
    sql_error_clear(&err);
    TEST_CHECK(parse1("EXPLAIN (FORMAT JSON) SELECT 1", &n, &err) == NULL && !strcmp(err.sqlstate, "0A000"));
    sql_error_clear(&err);
    parse_stmt_t *cu = parse1("CREATE UNIQUE INDEX i ON t (x DESC, y)", &n, &err);
    TEST_CHECK(cu && cu[0].ast->kind == AST_CREATE_INDEX && cu[0].ast->create_index.unique &&
               cu[0].ast->create_index.ncols == 2 && !strcmp(cu[0].ast->create_index.cols[1], "y") &&
               !strcmp(cu[0].ast->create_index.method, "btree"));
    /* expressions and WHERE parse (NULL column, has_where); execution refuses them */
    parse_stmt_t *ce = parse1("CREATE INDEX i ON t ((x + 1)) WHERE x > 0", &n, &err);
    TEST_CHECK(ce && ce[0].ast->create_index.cols[0] == NULL && ce[0].ast->create_index.has_where);
    /* empty statement list */
    parse_stmt_t *st = parse1("  ; ", &n, &err);
    TEST_CHECK(n == 0 && !sql_error_is_set(&err));
    (void)st;
    arena_destroy(&A);
}

TEST(depth_limit)
{
    arena_init(&A, 0);
    /* deeply nested parentheses over the binder limit: 54001, never a crash */
    int depth = LIMIT_SQL_EXPR_DEPTH + 50;
    size_t len = (size_t)depth * 8 + 32;
    char *sql = malloc(len);
    TEST_REQUIRE(sql);
    char *p = sql + sprintf(sql, "SELECT ");
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "1+(");
    p += sprintf(p, "1");
    for (int i = 0; i < depth; i++)
        *p++ = ')';
    *p = 0;
    sql_error_t err;
    int n;
    parse_stmt_t *st = parse1(sql, &n, &err);
    TEST_CHECK(st == NULL);
    TEST_CHECK(strcmp(err.sqlstate, "54001") == 0 || strcmp(err.sqlstate, SQLSTATE_SYNTAX_ERROR) == 0);
    free(sql);
    arena_destroy(&A);
}

TEST(deparse)
{
    arena_init(&A, 0);
    sql_error_t err;
    int n;
    parse_stmt_t *st = parse1("SELECT (a + 1)::int8, lower('X''y'), CURRENT_TIMESTAMP", &n, &err);
    TEST_REQUIRE(st && n == 1);
    strbuf_t sb;
    strbuf_init(&sb);
    parse_deparse(st[0].ast->select.targets[0].expr, &sb);
    TEST_CHECK(strcmp(sb.data, "((a + 1))::int8") == 0);
    strbuf_reset(&sb);
    parse_deparse(st[0].ast->select.targets[1].expr, &sb);
    TEST_CHECK(strcmp(sb.data, "lower('X''y')") == 0);
    strbuf_reset(&sb);
    parse_deparse(st[0].ast->select.targets[2].expr, &sb);
    TEST_CHECK(strcmp(sb.data, "CURRENT_TIMESTAMP") == 0);
    strbuf_free(&sb);
    arena_destroy(&A);
}

TEST_MAIN()
