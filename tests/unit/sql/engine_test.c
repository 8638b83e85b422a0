/*
 * engine_test.c -- the SQL engine end to end on a real 2-shard runtime and store:
 * DDL, INSERT/SELECT/UPDATE/DELETE, aggregates, ORDER BY, joins, transactions,
 * errors, the extended protocol, and data surviving a restart.
 *
 * Each scenario runs in a fiber on shard 0 of a fresh runtime over a temporary data
 * directory; queries go through sql_exec_simple with a sink that renders rows as
 * "a|b" lines followed by the command tag, so checks compare plain strings.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/rt.h"
#include "core/strbuf.h"
#include "shards/shard.h"
#include "sql/session.h"
#include "tests/unit/test.h"

typedef struct scen {
    void (*body)(void);
    _Atomic int done;
} scen_t;

static char data_dir[256];
static scen_t *cur_scen;

static int init_hook(int shard, void *arg)
{
    if (shard_open_local(data_dir) != 0 || sql_shard_init(shard) != 0)
        return -1;
    if (shard == 0)
        return rt_spawn((rt_fiber_fn)(void (*)(void))((scen_t *)arg)->body, NULL);
    return 0;
}

static void fini_hook(int shard, void *arg)
{
    sql_shard_fini(shard);
    shard_close_local();
}

static void turn_end_hook(int shard, void *arg) { shard_turn_end(); }

static void run_scenario(void (*body)(void))
{
    scen_t sc = {.body = body};
    cur_scen = &sc;
    sql_engine_init(data_dir, 2);
    rt_config_t cfg = {.shards_count = 2, .shard_init = init_hook, .shard_fini = fini_hook,
                       .turn_end = turn_end_hook, .arg = &sc};
    rt_t *rt = NULL;
    int rc = rt_start(&cfg, &rt);
    TEST_REQUIRE(rc == 0);
    for (int i = 0; i < 120000 && !atomic_load(&sc.done); i++)
        usleep(1000);
    TEST_CHECK(atomic_load(&sc.done));
    rt_request_stop(rt);
    rt_join(rt);
}

static sql_session_t *sess;

static void scen_done(void)
{
    sql_session_free(sess);
    sess = NULL;
    atomic_store(&cur_scen->done, 1);
}

/* ---- a text sink ---- */

typedef struct tsink {
    strbuf_t out;
    int ncols;
    type_oid_t types[64];
    int32_t typmods[64];
} tsink_t;

static int ts_describe(void *ctx, int ncols, const sql_coldesc_t *cols)
{
    tsink_t *t = ctx;
    t->ncols = ncols;
    for (int i = 0; i < ncols && i < 64; i++) {
        t->types[i] = cols[i].type;
        t->typmods[i] = cols[i].typmod;
    }
    return 0;
}

static int ts_row(void *ctx, int ncols, const datum_t *vals, const bool *nulls)
{
    tsink_t *t = ctx;
    for (int i = 0; i < ncols; i++) {
        if (i)
            strbuf_putc(&t->out, '|');
        if (nulls[i])
            strbuf_puts(&t->out, "NULL");
        else
            type_out_text(t->types[i], t->typmods[i], vals[i], &t->out);
    }
    strbuf_putc(&t->out, '\n');
    return 0;
}

static int ts_complete(void *ctx, const char *tag)
{
    tsink_t *t = ctx;
    strbuf_puts(&t->out, tag);
    strbuf_putc(&t->out, '\n');
    return 0;
}

static int ts_empty(void *ctx) { return 0; }
static int ts_notice(void *ctx, const sql_error_t *e) { return 0; }
static int ts_param(void *ctx, const char *n, const char *v) { return 0; }

static char result[8192];

static const char *q_on(sql_session_t *ss, const char *sql, char *out, size_t cap);

/* Runs sql; returns the rendered rows + tags, or "ERROR <state>: <message>". */
static const char *q(const char *sql)
{
    return q_on(sess, sql, result, sizeof result);
}

static const char *q_on(sql_session_t *ss, const char *sql, char *out, size_t cap)
{
    tsink_t t;
    memset(&t, 0, sizeof t);
    strbuf_init(&t.out);
    sql_sink_t sink = {&t, ts_describe, ts_row, ts_complete, ts_empty, ts_notice, ts_param};
    sql_error_t err = {0};
    int rc = sql_exec_simple(ss, sql, strlen(sql), &sink, &err);
    if (rc < 0)
        snprintf(out, cap, "%sERROR %s: %s", t.out.data ? t.out.data : "", err.sqlstate, err.message);
    else
        snprintf(out, cap, "%s", t.out.data ? t.out.data : "");
    /* drop the trailing newline for easier comparisons */
    size_t n = strlen(out);
    if (n && out[n - 1] == '\n')
        out[n - 1] = 0;
    strbuf_free(&t.out);
    return out;
}

#define QEQ(sql, want)                                                              \
    do {                                                                            \
        const char *got__ = q(sql);                                                 \
        if (strcmp(got__, want) != 0)                                               \
            fprintf(stderr, "  query: %s\n  want: %s\n  got:  %s\n", sql, want, got__); \
        TEST_CHECK(strcmp(got__, want) == 0);                                       \
    } while (0)

static void open_session(void)
{
    sql_error_t err = {0};
    sess = sql_session_new("postgres", "postgres", 0, NULL, &err);
    ASSERT(sess);
}

/* ---- scenarios ---- */

static void basic_body(void)
{
    open_session();
    QEQ("SELECT 1 + 2 AS x, 'a' || 'b'", "3|ab\nSELECT 1");
    QEQ("CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, v int DEFAULT 7)", "CREATE TABLE");
    QEQ("CREATE TABLE t (id int)", "ERROR 42P07: relation \"t\" already exists");
    QEQ("INSERT INTO t VALUES (1, 'one', 10), (2, 'two', 20), (3, 'three', NULL)", "INSERT 0 3");
    QEQ("INSERT INTO t (id, name) VALUES (4, 'four')", "INSERT 0 1");
    QEQ("SELECT id, name, v FROM t ORDER BY id", "1|one|10\n2|two|20\n3|three|NULL\n4|four|7\nSELECT 4");
    QEQ("SELECT name FROM t WHERE id = 2", "two\nSELECT 1");
    QEQ("SELECT count(*), sum(v), min(name), max(id) FROM t", "4|37|four|4\nSELECT 1");
    QEQ("SELECT id FROM t WHERE v IS NULL OR v > 15 ORDER BY id DESC", "3\n2\nSELECT 2");
    QEQ("SELECT id FROM t ORDER BY v NULLS FIRST LIMIT 2", "3\n4\nSELECT 2");
    QEQ("SELECT id FROM t ORDER BY 1 LIMIT 2 OFFSET 1", "2\n3\nSELECT 2");
    QEQ("SELECT id FROM t WHERE name LIKE 't%' ORDER BY id", "2\n3\nSELECT 2");
    QEQ("SELECT id FROM t WHERE id IN (1, 3, 5) ORDER BY id", "1\n3\nSELECT 2");
    QEQ("SELECT id FROM t WHERE id BETWEEN 2 AND 3 ORDER BY id", "2\n3\nSELECT 2");
    QEQ("INSERT INTO t VALUES (1, 'dup', 1)",
        "ERROR 23505: duplicate key value violates unique constraint \"t_pkey\"");
    QEQ("INSERT INTO t VALUES (9, NULL, 1)",
        "ERROR 23502: null value in column \"name\" of relation \"t\" violates not-null constraint");
    QEQ("UPDATE t SET v = v + 1 WHERE id = 1", "UPDATE 1");
    QEQ("UPDATE t SET v = 0 WHERE v IS NULL", "UPDATE 1");
    QEQ("SELECT id, v FROM t ORDER BY id", "1|11\n2|20\n3|0\n4|7\nSELECT 4");
    QEQ("UPDATE t SET id = 10 WHERE id = 4", "UPDATE 1");
    QEQ("SELECT id, name FROM t WHERE id = 10", "10|four\nSELECT 1");
    QEQ("DELETE FROM t WHERE id > 2", "DELETE 2");
    QEQ("SELECT count(*) FROM t", "2\nSELECT 1");
    QEQ("SELECT * FROM nope", "ERROR 42P01: relation \"nope\" does not exist");
    QEQ("SELECT nope FROM t", "ERROR 42703: column \"nope\" does not exist");
    QEQ("SELECT 1 = 'x'", "ERROR 22P02: invalid input syntax for type integer: \"x\"");
    QEQ("SELECT id FROM t WHERE id = name", "ERROR 42883: operator does not exist: integer = text");
    QEQ("SELEC 1", "ERROR 42601: syntax error at or near \"SELEC\"");
    QEQ("INSERT INTO t VALUES (5, 'five', 5) RETURNING id, v * 2", "5|10\nINSERT 0 1");
    QEQ("SELECT x, x * x FROM generate_series(1, 3) AS g(x)", "1|1\n2|4\n3|9\nSELECT 3");
    QEQ("SELECT sum(x) FROM generate_series(1, 100) x", "5050\nSELECT 1");
    QEQ("SELECT CASE WHEN 1 > 2 THEN 'a' ELSE 'b' END, COALESCE(NULL, 3)", "b|3\nSELECT 1");
    QEQ("SELECT DISTINCT v % 2 FROM t ORDER BY 1", "0\n1\nSELECT 2");
    QEQ("SELECT id, (SELECT count(*) FROM t t2 WHERE t2.id <= t.id) FROM t ORDER BY id",
        "1|1\n2|2\n5|3\nSELECT 3");
    QEQ("SELECT id FROM t WHERE EXISTS (SELECT 1 FROM t t2 WHERE t2.id = t.id + 1) ORDER BY id", "1\nSELECT 1");
    QEQ("SELECT (SELECT max(id) FROM t), 'abc' ~ '^a.c$', 'ABC' ~* 'b', 'x' !~ 'x'", "5|t|t|f\nSELECT 1");
    QEQ("SELECT name FROM t WHERE name ~ '^t' COLLATE \"C\" ORDER BY name", "two\nSELECT 1");
    QEQ("SELECT v, count(*) FROM t GROUP BY v HAVING count(*) >= 1 ORDER BY v", "5|1\n11|1\n20|1\nSELECT 3");
    QEQ("SELECT id, v FROM t GROUP BY id", "ERROR 42803: column \"t.v\" must appear in the GROUP BY clause or be used in an aggregate function");
    QEQ("SELECT 'pg_class'::regclass::oid, 't'::regclass", "1259|t\nSELECT 1");
    QEQ("SELECT id FROM t WHERE id IN (SELECT v - 10 FROM t) ORDER BY id", "1\nSELECT 1");
    QEQ("SELECT id FROM t WHERE id NOT IN (SELECT id FROM t WHERE id > 1) ORDER BY id", "1\nSELECT 1");
    QEQ("SELECT 1 IN (SELECT NULL::int), 2 IN (SELECT 1 WHERE false)", "NULL|f\nSELECT 1");
    QEQ("SELECT id FROM t UNION SELECT 2 UNION ALL SELECT 2 ORDER BY 1", "1\n2\n2\n5\nSELECT 4");
    QEQ("SELECT 'a' AS x UNION SELECT 'a' UNION SELECT 'b' ORDER BY x DESC LIMIT 1", "b\nSELECT 1");
    QEQ("SELECT 1 UNION SELECT 1.5 ORDER BY 1", "1\n1.5\nSELECT 2");
    QEQ("WITH big AS (SELECT id, v FROM t WHERE v > 6), c(n) AS (SELECT count(*) FROM big) "
        "SELECT big.id, c.n FROM big, c ORDER BY big.id", "1|2\n2|2\nSELECT 2");
    scen_done();
}

static void txn_body(void)
{
    open_session();
    QEQ("CREATE TABLE a (k int PRIMARY KEY, n int)", "CREATE TABLE");
    QEQ("INSERT INTO a SELECT g, g * 10 FROM generate_series(1, 50) g", "INSERT 0 50");
    QEQ("SELECT count(*), sum(n) FROM a", "50|12750\nSELECT 1");
    QEQ("BEGIN", "BEGIN");
    QEQ("UPDATE a SET n = 0 WHERE k <= 10", "UPDATE 10");
    QEQ("SELECT sum(n) FROM a WHERE k <= 10", "0\nSELECT 1");
    QEQ("ROLLBACK", "ROLLBACK");
    QEQ("SELECT sum(n) FROM a WHERE k <= 10", "550\nSELECT 1");
    QEQ("BEGIN", "BEGIN");
    QEQ("INSERT INTO a VALUES (100, 1)", "INSERT 0 1");
    QEQ("SELECT 1/0", "ERROR 22012: division by zero");
    QEQ("SELECT 1", "ERROR 25P02: current transaction is aborted, commands ignored until end of transaction block");
    QEQ("COMMIT", "ROLLBACK");
    QEQ("SELECT count(*) FROM a WHERE k = 100", "0\nSELECT 1");
    QEQ("BEGIN; INSERT INTO a VALUES (101, 1); INSERT INTO a VALUES (102, 2); COMMIT",
        "BEGIN\nINSERT 0 1\nINSERT 0 1\nCOMMIT");
    QEQ("SELECT k FROM a WHERE k > 100 ORDER BY k", "101\n102\nSELECT 2");
    QEQ("BEGIN ISOLATION LEVEL SERIALIZABLE", "ERROR 0A000: SERIALIZABLE isolation is not supported");
    QEQ("SET lock_timeout = '2s'", "SET");
    QEQ("SHOW lock_timeout", "2s\nSHOW");
    QEQ("SET nope = 1", "ERROR 42704: unrecognized configuration parameter \"nope\"");
    QEQ("SELECT current_setting('lock_timeout')", "2s\nSELECT 1");
    QEQ("CREATE TABLE h (tid int, delta int, mtime timestamp)", "CREATE TABLE");
    QEQ("INSERT INTO h VALUES (1, 5, CURRENT_TIMESTAMP), (2, 6, now())", "INSERT 0 2");
    QEQ("SELECT sum(delta), count(mtime) FROM h", "11|2\nSELECT 1");
    QEQ("SELECT a.k, h.delta FROM a JOIN h ON a.k = h.tid ORDER BY a.k", "1|5\n2|6\nSELECT 2");
    QEQ("SELECT a.k, h.delta FROM a LEFT JOIN h ON a.k = h.tid WHERE a.k <= 3 ORDER BY a.k",
        "1|5\n2|6\n3|NULL\nSELECT 3");
    QEQ("ALTER TABLE h ADD PRIMARY KEY (tid)", "ALTER TABLE");
    QEQ("SELECT delta FROM h WHERE tid = 2", "6\nSELECT 1");
    QEQ("INSERT INTO h VALUES (2, 0, NULL)", "ERROR 23505: duplicate key value violates unique constraint \"h_pkey\"");
    QEQ("TRUNCATE h", "TRUNCATE TABLE");
    QEQ("SELECT count(*) FROM h", "0\nSELECT 1");
    QEQ("DROP TABLE IF EXISTS h, nothere", "DROP TABLE");
    QEQ("SELECT * FROM h", "ERROR 42P01: relation \"h\" does not exist");
    scen_done();
}

static void extended_body(void)
{
    open_session();
    sql_error_t err = {0};
    const char *sql = "SELECT n FROM a WHERE k = $1";
    TEST_CHECK(sql_prepare(sess, "s1", sql, strlen(sql), 0, NULL, &err) == 0);
    int np, nc;
    const type_oid_t *pt;
    const sql_coldesc_t *cols;
    TEST_CHECK(sql_describe_statement(sess, "s1", &np, &pt, &nc, &cols, &err) == 0);
    TEST_CHECK(np == 1 && pt[0] == TYPE_INT4 && nc == 1);
    const uint8_t *vals[1] = {(const uint8_t *)"7"};
    int32_t lens[1] = {1};
    TEST_CHECK(sql_bind(sess, "", "s1", 0, NULL, 1, vals, lens, 0, NULL, &err) == 0);
    tsink_t t;
    memset(&t, 0, sizeof t);
    strbuf_init(&t.out);
    t.ncols = 1;
    t.types[0] = TYPE_INT4;
    t.typmods[0] = -1;
    sql_sink_t sink = {&t, ts_describe, ts_row, ts_complete, ts_empty, ts_notice, ts_param};
    TEST_CHECK(sql_execute(sess, "", 0, &sink, &err) == 0);
    TEST_CHECK(sql_sync(sess, &err) == 0);
    TEST_CHECK(t.out.data && strcmp(t.out.data, "70\nSELECT 1\n") == 0);
    strbuf_free(&t.out);
    /* suspended portal */
    const char *sql2 = "SELECT k FROM a WHERE k <= 5 ORDER BY k";
    TEST_CHECK(sql_prepare(sess, "s2", sql2, strlen(sql2), 0, NULL, &err) == 0);
    TEST_CHECK(sql_bind(sess, "p", "s2", 0, NULL, 0, NULL, NULL, 0, NULL, &err) == 0);
    memset(&t, 0, sizeof t);
    strbuf_init(&t.out);
    t.types[0] = TYPE_INT4;
    t.typmods[0] = -1;
    TEST_CHECK(sql_execute(sess, "p", 2, &sink, &err) == 1);
    TEST_CHECK(sql_execute(sess, "p", 0, &sink, &err) == 0);
    TEST_CHECK(t.out.data && strcmp(t.out.data, "1\n2\n3\n4\n5\nSELECT 5\n") == 0);
    strbuf_free(&t.out);
    QEQ("SELECT count(*) FROM a", "52\nSELECT 1");
    scen_done();
}

/* A second session in its own fiber, to exercise row-lock waits. */
typedef struct other { sql_session_t *s; const char *sql; char out[1024]; volatile bool done; } other_t;

static void other_fiber(void *arg)
{
    other_t *o = arg;
    q_on(o->s, o->sql, o->out, sizeof o->out);
    o->done = true;
}

static void concurrency_body(void)
{
    open_session();
    sql_error_t err = {0};
    sql_session_t *s2 = sql_session_new("postgres", "postgres", 0, NULL, &err);
    ASSERT(s2);
    char buf[1024];
    QEQ("CREATE TABLE c (k int PRIMARY KEY, n int)", "CREATE TABLE");
    QEQ("INSERT INTO c VALUES (1, 100), (2, 200)", "INSERT 0 2");
    /* READ COMMITTED: the waiter re-reads the committed row (EvalPlanQual) */
    QEQ("BEGIN", "BEGIN");
    QEQ("UPDATE c SET n = n + 1 WHERE k = 1", "UPDATE 1");
    other_t o = {.s = s2, .sql = "UPDATE c SET n = n + 10 WHERE k = 1 AND n > 100"};
    TEST_REQUIRE(rt_spawn(other_fiber, &o) == 0);
    rt_sleep_ms(50);
    TEST_CHECK(!o.done);                     /* blocked on our row lock */
    QEQ("COMMIT", "COMMIT");
    for (int i = 0; i < 2000 && !o.done; i++)
        rt_sleep_ms(1);
    TEST_CHECK(o.done && strcmp(o.out, "UPDATE 1") == 0);
    QEQ("SELECT n FROM c WHERE k = 1", "111\nSELECT 1");
    /* SELECT FOR UPDATE blocks writers until the transaction ends */
    QEQ("BEGIN", "BEGIN");
    QEQ("SELECT n FROM c WHERE k = 1 FOR UPDATE", "111\nSELECT 1");
    other_t o3 = {.s = s2, .sql = "UPDATE c SET n = n + 1 WHERE k = 1"};
    TEST_REQUIRE(rt_spawn(other_fiber, &o3) == 0);
    rt_sleep_ms(30);
    TEST_CHECK(!o3.done);
    QEQ("COMMIT", "COMMIT");
    for (int i = 0; i < 2000 && !o3.done; i++)
        rt_sleep_ms(1);
    TEST_CHECK(o3.done && strcmp(o3.out, "UPDATE 1") == 0);
    QEQ("SELECT n FROM c WHERE n > 100 ORDER BY n FOR UPDATE", "112\n200\nSELECT 2");
    QEQ("SELECT count(*) FROM c FOR UPDATE", "ERROR 0A000: FOR UPDATE is not allowed with aggregate functions");
    /* lock_timeout */
    QEQ("BEGIN", "BEGIN");
    QEQ("DELETE FROM c WHERE k = 2", "DELETE 1");
    q_on(s2, "SET lock_timeout = 50", buf, sizeof buf);
    other_t o2 = {.s = s2, .sql = "UPDATE c SET n = 0 WHERE k = 2"};
    TEST_REQUIRE(rt_spawn(other_fiber, &o2) == 0);
    for (int i = 0; i < 2000 && !o2.done; i++)
        rt_sleep_ms(1);
    TEST_CHECK(strcmp(o2.out, "ERROR 55P03: canceling statement due to lock timeout") == 0);
    QEQ("ROLLBACK", "ROLLBACK");
    /* REPEATABLE READ: a row changed after the snapshot is a serialization failure */
    QEQ("BEGIN ISOLATION LEVEL REPEATABLE READ", "BEGIN");
    QEQ("SELECT n FROM c WHERE k = 2", "200\nSELECT 1");
    TEST_CHECK(strcmp(q_on(s2, "UPDATE c SET n = 201 WHERE k = 2", buf, sizeof buf), "UPDATE 1") == 0);
    QEQ("SELECT n FROM c WHERE k = 2", "200\nSELECT 1");
    QEQ("UPDATE c SET n = n + 1 WHERE k = 2",
        "ERROR 40001: could not serialize access due to concurrent update");
    QEQ("ROLLBACK", "ROLLBACK");
    QEQ("SELECT n FROM c WHERE k = 2", "201\nSELECT 1");
    /* statement_timeout */
    QEQ("SET statement_timeout = 1", "SET");
    const char *r = q("SELECT count(*) FROM generate_series(1, 50000000)");
    TEST_CHECK(strcmp(r, "ERROR 57014: canceling statement due to statement timeout") == 0);
    QEQ("RESET statement_timeout", "RESET");
    sql_session_free(s2);
    scen_done();
}

TEST(engine_end_to_end)
{
    snprintf(data_dir, sizeof data_dir, "/tmp/nextdb-engine-test-%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", data_dir, data_dir);
    TEST_REQUIRE(system(cmd) == 0);
    run_scenario(basic_body);
    run_scenario(txn_body);
    /* after a restart the data is still there */
    run_scenario(extended_body);
    run_scenario(concurrency_body);
    snprintf(cmd, sizeof cmd, "rm -rf %s", data_dir);
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
