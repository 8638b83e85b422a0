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

/* Runs one Parse/Bind/Execute (no Sync) with text parameters; renders like q(). */
static const char *ext_run(const char *stmt_name, const char *sql, int nvals, const char *const *vals,
                           int ncols, type_oid_t type0)
{
    sql_error_t err = {0};
    tsink_t t;
    memset(&t, 0, sizeof t);
    strbuf_init(&t.out);
    t.ncols = ncols;
    t.types[0] = type0;
    t.typmods[0] = -1;
    sql_sink_t sink = {&t, ts_describe, ts_row, ts_complete, ts_empty, ts_notice, ts_param};
    int32_t lens[8];
    for (int i = 0; i < nvals; i++)
        lens[i] = (int32_t)strlen(vals[i]);
    int rc = sql ? sql_prepare(sess, stmt_name, sql, strlen(sql), 0, NULL, &err) : 0;
    if (rc == 0)
        rc = sql_bind(sess, "", stmt_name, 0, NULL, nvals, (const uint8_t *const *)vals, lens, 0, NULL, &err);
    if (rc == 0)
        rc = sql_execute(sess, "", 0, &sink, &err);
    if (rc < 0)
        snprintf(result, sizeof result, "%sERROR %s: %s", t.out.data ? t.out.data : "", err.sqlstate,
                 err.message);
    else
        snprintf(result, sizeof result, "%s", t.out.data ? t.out.data : "");
    size_t n = strlen(result);
    if (n && result[n - 1] == '\n')
        result[n - 1] = 0;
    strbuf_free(&t.out);
    return result;
}

#define XEQ(got, want)                                                           \
    do {                                                                         \
        const char *g__ = (got);                                                 \
        if (strcmp(g__, want) != 0)                                              \
            fprintf(stderr, "  line %d\n  want: %s\n  got:  %s\n", __LINE__, want, g__); \
        TEST_CHECK(strcmp(g__, want) == 0);                                      \
    } while (0)

/* SQL-level PREPARE / EXECUTE / DEALLOCATE share the protocol's namespace; an
 * aborted block accepts Parse/Bind/Execute of ROLLBACK; several Executes before one
 * Sync are one transaction. */
static void prepared_body(void)
{
    open_session();
    sql_error_t err = {0};
    QEQ("CREATE TABLE pp (k int PRIMARY KEY, v text)", "CREATE TABLE");
    QEQ("PREPARE ins (int, text) AS INSERT INTO pp VALUES ($1, $2)", "PREPARE");
    QEQ("EXECUTE ins (1, 'one')", "INSERT 0 1");
    QEQ("EXECUTE ins (1 + 1, NULL)", "INSERT 0 1");
    QEQ("PREPARE get (int) AS SELECT v, k FROM pp WHERE k = $1", "PREPARE");
    QEQ("EXECUTE get (1)", "one|1\nSELECT 1");
    QEQ("EXECUTE get ('2')", "NULL|2\nSELECT 1");
    QEQ("EXECUTE get", "ERROR 42601: wrong number of parameters for prepared statement \"get\"");
    QEQ("PREPARE get AS SELECT 1", "ERROR 42P05: prepared statement \"get\" already exists");
    QEQ("EXECUTE nope (1)", "ERROR 26000: prepared statement \"nope\" does not exist");
    QEQ("DEALLOCATE get", "DEALLOCATE");
    QEQ("EXECUTE get (1)", "ERROR 26000: prepared statement \"get\" does not exist");
    QEQ("DEALLOCATE get", "ERROR 26000: prepared statement \"get\" does not exist");
    /* a statement from Parse is visible to EXECUTE, and PREPARE's to Bind */
    const char *one[1] = {"1"};
    XEQ(ext_run("proto", "SELECT v FROM pp WHERE k = $1", 1, one, 1, TYPE_TEXT), "one\nSELECT 1");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    QEQ("EXECUTE proto (1)", "one\nSELECT 1");
    QEQ("PREPARE cnt AS SELECT count(*) FROM pp", "PREPARE");
    XEQ(ext_run("cnt", NULL, 0, NULL, 1, TYPE_INT8), "2\nSELECT 1");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    QEQ("DEALLOCATE ALL", "DEALLOCATE ALL");
    QEQ("EXECUTE cnt", "ERROR 26000: prepared statement \"cnt\" does not exist");
    QEQ("EXECUTE proto (1)", "ERROR 26000: prepared statement \"proto\" does not exist");

    /* task: ROLLBACK through the extended protocol in an aborted block */
    QEQ("BEGIN", "BEGIN");
    QEQ("INSERT INTO pp VALUES (3, 'three')", "INSERT 0 1");
    QEQ("SELECT * FROM nothere", "ERROR 42P01: relation \"nothere\" does not exist");
    TEST_CHECK(sql_txn_status(sess) == 'E');
    XEQ(ext_run("", "SELECT 1", 0, NULL, 1, TYPE_INT4),
        "ERROR 25P02: current transaction is aborted, commands ignored until end of transaction block");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    XEQ(ext_run("", "ROLLBACK", 0, NULL, 0, 0), "ROLLBACK");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    TEST_CHECK(sql_txn_status(sess) == 'I');
    QEQ("SELECT count(*) FROM pp", "2\nSELECT 1");
    /* COMMIT of an aborted block via Bind of a statement prepared earlier */
    TEST_CHECK(sql_prepare(sess, "c", "COMMIT", 6, 0, NULL, &err) == 0);
    QEQ("BEGIN", "BEGIN");
    QEQ("SELECT 1/0", "ERROR 22012: division by zero");
    XEQ(ext_run("c", NULL, 0, NULL, 0, 0), "ROLLBACK");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    TEST_CHECK(sql_txn_status(sess) == 'I');

    /* task: several Executes before one Sync are one implicit transaction */
    const char *k5[1] = {"5"}, *k6[1] = {"6"};
    XEQ(ext_run("", "INSERT INTO pp VALUES ($1::int, 'x')", 1, k5, 0, 0), "INSERT 0 1");
    XEQ(ext_run("", "INSERT INTO pp VALUES ($1::int, 'y')", 1, k6, 0, 0), "INSERT 0 1");
    XEQ(ext_run("", "SELECT 1/0", 0, NULL, 1, TYPE_INT4), "ERROR 22012: division by zero");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "0\nSELECT 1");      /* all rolled back */
    XEQ(ext_run("", "INSERT INTO pp VALUES ($1::int, 'x')", 1, k5, 0, 0), "INSERT 0 1");
    XEQ(ext_run("", "INSERT INTO pp VALUES ($1::int, 'y')", 1, k6, 0, 0), "INSERT 0 1");
    TEST_CHECK(sql_txn_status(sess) == 'I');
    TEST_CHECK(sql_sync(sess, &err) == 0);
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "2\nSELECT 1");
    /* BEGIN after an Execute takes the earlier work into the block */
    XEQ(ext_run("", "DELETE FROM pp WHERE k = 5", 0, NULL, 0, 0), "DELETE 1");
    XEQ(ext_run("", "BEGIN", 0, NULL, 0, 0), "BEGIN");
    TEST_CHECK(sql_sync(sess, &err) == 0);
    TEST_CHECK(sql_txn_status(sess) == 'T');
    QEQ("ROLLBACK", "ROLLBACK");
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "2\nSELECT 1");

    /* task: SET inside a transaction that rolls back is undone */
    QEQ("SET application_name = 'base'", "SET");
    QEQ("BEGIN", "BEGIN");
    QEQ("SET application_name = 'rolled'", "SET");
    QEQ("SHOW application_name", "rolled\nSHOW");
    QEQ("ROLLBACK", "ROLLBACK");
    QEQ("SHOW application_name", "base\nSHOW");
    QEQ("BEGIN", "BEGIN");
    QEQ("SET application_name = 'kept'", "SET");
    QEQ("SET LOCAL application_name = 'local'", "SET");
    QEQ("SHOW application_name", "local\nSHOW");
    QEQ("COMMIT", "COMMIT");
    QEQ("SHOW application_name", "kept\nSHOW");
    QEQ("BEGIN", "BEGIN");
    QEQ("SELECT set_config('application_name', 'fn', false)", "fn\nSELECT 1");
    QEQ("SELECT 1/0", "ERROR 22012: division by zero");
    QEQ("COMMIT", "ROLLBACK");
    QEQ("SHOW application_name", "kept\nSHOW");
    QEQ("SET LOCAL application_name = 'nowhere'", "SET");      /* WARNING, no effect outside a block */
    QEQ("SHOW application_name", "kept\nSHOW");
    QEQ("SET application_name = 'implicit'; SELECT 1/0", "SET\nERROR 22012: division by zero");
    QEQ("SHOW application_name", "kept\nSHOW");
    QEQ("SET application_name = 'two'; SET statement_timeout = '1s'", "SET\nSET");
    QEQ("SHOW application_name", "two\nSHOW");
    QEQ("RESET statement_timeout", "RESET");

    /* task: search_path is honoured for unqualified names (cached plans re-bind) */
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "2\nSELECT 1");
    QEQ("SET search_path = pg_catalog", "SET");
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "ERROR 42P01: relation \"pp\" does not exist");
    QEQ("SELECT count(*) FROM public.pp WHERE k >= 5", "2\nSELECT 1");
    QEQ("SELECT count(*) > 0 FROM pg_class", "t\nSELECT 1");
    QEQ("SET search_path = \"$user\", nosuch, public", "SET");
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "2\nSELECT 1");
    QEQ("RESET search_path", "RESET");
    QEQ("SELECT count(*) FROM pp WHERE k >= 5", "2\nSELECT 1");
    scen_done();
}

/* Arrays end to end: constructors, literals, ANY/ALL, ARRAY(subquery) (also
 * correlated), unnest in FROM, subscripts, ||, array functions, string_agg,
 * regnamespace, and the catalog vectors psql reads. Results checked against
 * PostgreSQL 15. */
static void array_body(void)
{
    open_session();
    QEQ("SELECT ARRAY[1,2,3] AS a, ARRAY['x', NULL, 'y z']", "{1,2,3}|{x,NULL,\"y z\"}\nSELECT 1");
    QEQ("SELECT '{1,2}'::int2[], '{}'::oid[], '{pg_catalog}'::name[]", "{1,2}|{}|{pg_catalog}\nSELECT 1");
    QEQ("SELECT ARRAY[]", "ERROR 42P18: cannot determine type of empty array");
    QEQ("SELECT 2 = ANY('{1,2}'::int4[]), 3 = ANY(ARRAY[1,2]), 3 <> ALL(ARRAY[1,2]), 1 <> ALL(ARRAY[1,2])",
        "t|f|t|f\nSELECT 1");
    QEQ("SELECT 3 = ANY(ARRAY[1,NULL]), 1 = ANY(ARRAY[1,NULL]), 1 = ANY('{}'::int[]), 1 = ALL('{}'::int[])",
        "NULL|t|f|t\nSELECT 1");
    QEQ("SELECT 'd' = ANY('{a,d}'::\"char\"[]), '{0}'::oid[] = '{0}'", "t|t\nSELECT 1");
    QEQ("SELECT 1 = ANY(2)", "ERROR 42809: op ANY/ALL (array) requires array on right side");
    QEQ("SELECT array_to_string(ARRAY['a',NULL,'b'], ','), array_to_string(ARRAY['a',NULL], '-', '*')",
        "a,b|a-*\nSELECT 1");
    QEQ("SELECT array_length(ARRAY[5,6,7], 1), array_length(ARRAY[5], 2), array_upper(ARRAY[5,6], 1), cardinality('{}'::int[])",
        "3|NULL|2|0\nSELECT 1");
    QEQ("SELECT current_schemas(true), current_schemas(false), array_position(current_schemas(true), 'public')",
        "{pg_catalog,public}|{public}|2\nSELECT 1");
    QEQ("SELECT ARRAY[1,2] || '{3}', NULL::int[] || ARRAY[4], (ARRAY[10,20,30])[2], (ARRAY[10])[5]",
        "{1,2,3}|{4}|20|NULL\nSELECT 1");
    QEQ("CREATE TABLE arr (k int PRIMARY KEY, grp int, name text)", "CREATE TABLE");
    QEQ("INSERT INTO arr VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')", "INSERT 0 3");
    QEQ("SELECT ARRAY(SELECT name FROM arr ORDER BY k DESC)", "{c,b,a}\nSELECT 1");
    QEQ("SELECT ARRAY(SELECT name FROM arr WHERE k > 9)", "{}\nSELECT 1");
    QEQ("SELECT g, ARRAY(SELECT a2.k FROM arr a2 WHERE a2.grp = g ORDER BY 1) FROM generate_series(1, 3) g",
        "1|{1,2}\n2|{3}\n3|{}\nSELECT 3");
    QEQ("SELECT x, length(x) FROM unnest(ARRAY['p', NULL, 'qq']) x", "p|1\nNULL|NULL\nqq|2\nSELECT 3");
    QEQ("SELECT ARRAY(SELECT 'toast.' || x FROM unnest('{a=1,b}'::text[]) x)", "{toast.a=1,toast.b}\nSELECT 1");
    QEQ("SELECT grp, string_agg(name, ', ') FROM arr GROUP BY grp ORDER BY grp", "1|a, b\n2|c\nSELECT 2");
    QEQ("SELECT string_agg(name, NULL) FROM arr WHERE k < 3", "ab\nSELECT 1");
    QEQ("SELECT string_agg(k, ',') FROM arr", "ERROR 42883: function string_agg(integer, unknown) does not exist");
    QEQ("SELECT 2200::regnamespace, 'pg_catalog'::regnamespace::oid, 11::oid::regnamespace::text",
        "public|11|pg_catalog\nSELECT 1");
    /* catalog vectors: int2vector subscripts start at 0 */
    QEQ("SELECT i.indkey, i.indkey[0], c.conkey, c.conkey[1] FROM pg_index i, pg_constraint c "
        "WHERE i.indrelid = 'arr'::regclass AND c.conrelid = i.indrelid",
        "1|1|{1}|1\nSELECT 1");
    QEQ("SELECT proargtypes FROM pg_proc WHERE proname = 'array_to_string' AND pronargs = 3", "2276 25 25\nSELECT 1");
    /* array columns are stored in rows (never in keys) */
    QEQ("CREATE TABLE ta (k int PRIMARY KEY, v int[], n name[])", "CREATE TABLE");
    QEQ("INSERT INTO ta VALUES (1, ARRAY[1,2], '{a,b}'), (2, '{3,NULL}', NULL), (3, '{}', '{\"x y\"}')",
        "INSERT 0 3");
    QEQ("UPDATE ta SET v = v || ARRAY[9] WHERE k = 1", "UPDATE 1");
    QEQ("SELECT k, v, n FROM ta ORDER BY v", "3|{}|{\"x y\"}\n1|{1,2,9}|{a,b}\n2|{3,NULL}|NULL\nSELECT 3");
    QEQ("SELECT k FROM ta WHERE 3 = ANY(v)", "2\nSELECT 1");
    QEQ("CREATE TABLE tb (k int[] PRIMARY KEY)", "ERROR 0A000: arrays in a primary key are not supported");
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
    run_scenario(prepared_body);
    run_scenario(array_body);
    snprintf(cmd, sizeof cmd, "rm -rf %s", data_dir);
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
