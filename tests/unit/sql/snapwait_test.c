/*
 * snapwait_test.c -- a read whose snapshot covers a transaction prepared on a shard
 * but not yet decided waits for the decision (sql/README.md, "Transactions"), and
 * that wait ends with statement_timeout or a query cancel (57014), not never; a
 * lock wait ends with a query cancel too. The prepared transaction is made directly
 * through the shard's store (as the coordinator's phase one would leave it when the
 * decision is slow to come), then aborted so the read goes through.
 *
 * The scenario runs in a fiber on shard 0 of a 2-shard runtime; the prepared
 * transaction sits on shard 1, which a full-table scan always reads.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/rt.h"
#include "core/strbuf.h"
#include "shards/shard.h"
#include "sql/session.h"
#include "tests/unit/test.h"

static char data_dir[256];
static _Atomic int done_flag;
static sql_session_t *sess, *sess2;

#define FAKE_TABLE 0x7FFFFFF0u    /* no SQL table has this id: only the pending commit matters */
#define FAKE_TXN UINT64_C(0x00ABCDEF12345)

/* ---- a text sink: rows as "a|b" lines, then the tag ---- */
typedef struct tsink { strbuf_t out; int ncols; type_oid_t types[16]; int32_t typmods[16]; } tsink_t;

static int ts_describe(void *ctx, int ncols, const sql_coldesc_t *cols)
{
    tsink_t *t = ctx;
    t->ncols = ncols;
    for (int i = 0; i < ncols && i < 16; i++) {
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
    return 0;
}

static int ts_empty(void *ctx) { return 0; }
static int ts_notice(void *ctx, const sql_error_t *e) { return 0; }
static int ts_param(void *ctx, const char *n, const char *v) { return 0; }

static void q_on(sql_session_t *s, const char *sql, char *out, size_t cap)
{
    tsink_t t;
    memset(&t, 0, sizeof t);
    strbuf_init(&t.out);
    sql_sink_t sink = {&t, ts_describe, ts_row, ts_complete, ts_empty, ts_notice, ts_param};
    sql_error_t err = {0};
    if (sql_exec_simple(s, sql, strlen(sql), &sink, &err) < 0)
        snprintf(out, cap, "ERROR %s: %.400s", err.sqlstate, err.message);
    else
        snprintf(out, cap, "%s", t.out.data ? t.out.data : "");
    strbuf_free(&t.out);
}

#define QEQ(s, sql, want)                                                                   \
    do {                                                                                    \
        char got__[512];                                                                    \
        q_on(s, sql, got__, sizeof got__);                                                  \
        if (strcmp(got__, want) != 0)                                                       \
            fprintf(stderr, "  query: %s\n  want: %s\n  got:  %s\n", sql, want, got__);     \
        TEST_CHECK(strcmp(got__, want) == 0);                                               \
    } while (0)

/* ---- the prepared transaction on shard 1 ---- */

static int prepare_on_shard(void *arg)
{
    (void)arg;
    store_t *st = shard_store();
    store_txn_t *t = store_txn_begin(st, FAKE_TXN);
    if (!t)
        return -1;
    uint64_t blocker = 0;
    int rc = store_write(st, t, STORE_W_PUT, FAKE_TABLE, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1,
                         &blocker);
    if (rc != STORE_OK)
        return rc;
    return shard_prepare_wait(t, 0, hlc_now());
}

static int abort_on_shard(void *arg)
{
    (void)arg;
    store_t *st = shard_store();
    store_txn_t *t = store_txn_find(st, FAKE_TXN);
    if (t)
        store_txn_abort(st, t);
    return t ? 0 : -1;
}

typedef struct other { sql_session_t *s; const char *sql; char out[512]; bool done; } other_t;

static void other_fiber(void *arg)
{
    other_t *o = arg;
    q_on(o->s, o->sql, o->out, sizeof o->out);
    o->done = true;
}

static void wait_done(other_t *o)
{
    for (int i = 0; i < 10000 && !o->done; i++)
        rt_sleep_ms(1);
}

static void body(void *arg)
{
    (void)arg;
    sql_error_t err = {0};
    sess = sql_session_new("postgres", "postgres", 0, NULL, &err);
    sess2 = sql_session_new("postgres", "postgres", 0, NULL, &err);
    ASSERT(sess && sess2);
    QEQ(sess, "CREATE TABLE w (k int PRIMARY KEY, n int)", "CREATE TABLE");
    QEQ(sess, "INSERT INTO w SELECT g, g FROM generate_series(1, 20) g", "INSERT 0 20");
    TEST_REQUIRE(rt_call(1, prepare_on_shard, NULL) == 0);
    /* statement_timeout ends the wait for the undecided transaction */
    QEQ(sess, "SET statement_timeout = 200", "SET");
    QEQ(sess, "SELECT count(*) FROM w", "ERROR 57014: canceling statement due to statement timeout");
    QEQ(sess, "RESET statement_timeout", "RESET");
    /* so does a query cancel */
    other_t o = {.s = sess2, .sql = "SELECT count(*) FROM w"};
    TEST_REQUIRE(rt_spawn(other_fiber, &o) == 0);
    rt_sleep_ms(100);
    TEST_CHECK(!o.done);                   /* waiting for the decision */
    sql_cancel(sess2);
    wait_done(&o);
    TEST_CHECK(o.done && strcmp(o.out, "ERROR 57014: canceling statement due to user request") == 0);
    /* once the transaction is resolved the read goes through */
    other_t o2 = {.s = sess2, .sql = "SELECT count(*) FROM w"};
    TEST_REQUIRE(rt_spawn(other_fiber, &o2) == 0);
    rt_sleep_ms(50);
    TEST_CHECK(!o2.done);
    TEST_CHECK(rt_call(1, abort_on_shard, NULL) == 0);
    wait_done(&o2);
    TEST_CHECK(o2.done && strcmp(o2.out, "20\nSELECT 1") == 0);
    /* a row-lock wait ends with a query cancel as well */
    QEQ(sess, "BEGIN", "BEGIN");
    QEQ(sess, "UPDATE w SET n = 0 WHERE k = 3", "UPDATE 1");
    other_t o3 = {.s = sess2, .sql = "UPDATE w SET n = 1 WHERE k = 3"};
    TEST_REQUIRE(rt_spawn(other_fiber, &o3) == 0);
    rt_sleep_ms(100);
    TEST_CHECK(!o3.done);
    sql_cancel(sess2);
    wait_done(&o3);
    TEST_CHECK(o3.done && strcmp(o3.out, "ERROR 57014: canceling statement due to user request") == 0);
    QEQ(sess, "COMMIT", "COMMIT");
    QEQ(sess2, "SELECT n FROM w WHERE k = 3", "0\nSELECT 1");
    sql_session_free(sess);
    sql_session_free(sess2);
    atomic_store(&done_flag, 1);
}

static int init_hook(int shard, void *arg)
{
    if (shard_open_local(data_dir) != 0 || sql_shard_init(shard) != 0)
        return -1;
    return shard == 0 ? rt_spawn(body, NULL) : 0;
}

static void fini_hook(int shard, void *arg)
{
    sql_shard_fini(shard);
    shard_close_local();
}

static void turn_end_hook(int shard, void *arg) { shard_turn_end(); }

TEST(snapshot_and_lock_waits_end)
{
    snprintf(data_dir, sizeof data_dir, "/tmp/nextdb-snapwait-test-%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", data_dir, data_dir);
    TEST_REQUIRE(system(cmd) == 0);
    sql_engine_init(data_dir, 2);
    rt_config_t cfg = {.shards_count = 2, .shard_init = init_hook, .shard_fini = fini_hook,
                       .turn_end = turn_end_hook};
    rt_t *rt = NULL;
    TEST_REQUIRE(rt_start(&cfg, &rt) == 0);
    for (int i = 0; i < 60000 && !atomic_load(&done_flag); i++)
        usleep(1000);
    TEST_CHECK(atomic_load(&done_flag));
    rt_request_stop(rt);
    rt_join(rt);
    snprintf(cmd, sizeof cmd, "rm -rf %s", data_dir);
    TEST_CHECK(system(cmd) == 0);
}

TEST_MAIN()
