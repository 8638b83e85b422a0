/*
 * session.c -- the SQL engine as a client connection sees it: statement lifecycle,
 * transactions blocks, prepared statements, portals, plan cache; see session.h.
 *
 * Every statement runs through a portal: simple queries use a transient one, the
 * extended protocol named or unnamed ones that can suspend after max_rows and resume.
 * A statement pins the current catalog snapshot for its whole run; a prepared
 * statement keeps its bound plan and is re-bound when the catalog version changed.
 *
 * Transactions: outside a block each statement is its own transaction (autocommit),
 * and a statement touching one shard commits inside that shard's fragment (one
 * rt_call). BEGIN opens a block; an error inside it leaves the session in 'E' until
 * ROLLBACK (25P02 for anything else; Parse/Bind/Execute of COMMIT and ROLLBACK are
 * accepted). A simple-query string with several statements runs as one implicit
 * transaction, as PostgreSQL does; so do the Executes before one Sync in the
 * extended protocol (sql_sync commits them). SQL-level PREPARE / EXECUTE /
 * DEALLOCATE share the list of prepared statements with the protocol's Parse.
 */
#include "sql/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/rt.h"
#include "core/snapreg.h"
#include "shards/shard.h"
#include "sql/catalog_int.h"
#include "sql/exec_int.h"
#include "sql/explain_analyze.h"
#include "sql/guc.h"
#include "sql/shape.h"
#include "sql/parse.h"
#include "sql/constraints.h"
#include "sql/copy_out.h"
#include "sql/sequence.h"
#include "sql/types_time.h"
#include "sql/activity.h"
#include "sql/txn_stats.h"
#include "sql/vindex.h"

typedef struct prep {
    char *name;
    char *text;
    arena_t arena;
    const ast_t *ast;
    int decl_nparams;
    type_oid_t *decl_types;
    bound_stmt_t *bs;
    char *bound_path;            /* search_path bs was bound with (a change re-binds) */
    const struct types_tz *bound_tz;   /* TimeZone it was bound in (constants folded in it) */
    int refs;                    /* portals using it */
    bool closed;
    struct prep *next;
    /* simple-query shape (sql/shape.h), when every literal is a constant node */
    char *shape_key;             /* in arena; NULL = not reusable for other literals */
    size_t shape_key_len;
    int nslots;
    ast_t **slots;               /* the constant node of each literal */
    shape_lit_t *lits0;          /* the literals of the text that was parsed */
    size_t shape_base_bytes;     /* arena use when cached; growth beyond a limit evicts */
} prep_t;

typedef struct portal {
    char *name;
    prep_t *prep;
    arena_t arena;
    int nparams;
    datum_t *params;
    bool *pnulls;
    int16_t *rformats;
    int16_t rformat_all;         /* the one result format Bind gave for all columns, else 0 */
    /* run state */
    bool started;
    const catalog_t *cat;
    exec_ctx_t ctx;
    builtin_ctx_t bctx;
    exec_op_t *op;
    batch_t *batch;
    int brow;
    rowstore_t ret;
    bool has_ret;
    int64_t rpos;
    int64_t nrows;
    int64_t count;
    datum_t *row_vals;
    bool *row_nulls;
    /* The portal's own snapshot, registered from setup to portal_stop: the session's
     * txn.snap_ts is the next statement's once this portal is suspended, so a resumed
     * portal puts this one back (core/snapreg.h keeps gc from dropping what it reads). */
    snapreg_hold_t snap_hold;
    bool is_cursor;              /* made by DECLARE: closed at transaction end */
    struct portal *next;
} portal_t;

struct sql_session {
    char *user, *database;
    guc_set_t *guc;
    seq_session_t *seqs;         /* currval / lastval (sql/sequence.h) */
    int32_t pid;
    /* transaction */
    bool in_block, implicit, failed, txn_active, read_only;
    bool ext_implicit;           /* implicit is the extended protocol's, ended by Sync */
    int iso;
    int64_t txn_ts;
    uint64_t rr_snap;
    snapreg_hold_t rr_hold;      /* rr_snap registered until the transaction ends or fails */
    txn_ctx_t txn;
    /* live savepoints, oldest first; level = its number in the transaction (txn.sp_level
     * is the newest one's). sp_next numbers the next one; both reset per transaction. */
    struct session_sp { char *name; uint32_t level; } *sps;
    uint32_t nsps, sps_cap, sp_next;
    char fail_state[6];          /* SQLSTATE that failed the transaction ("" = none) */
    volatile bool cancel;
    /* pg_stat_activity (activity.h): this shard's session list and what it shows */
    struct sql_session *act_prev, *act_next;
    bool act_running;            /* a statement runs (state 'active') */
    bool act_http;
    int32_t act_port;            /* -1 = none */
    char act_addr[48];
    int64_t act_backend_start, act_query_start, act_state_change;
    char act_query[LIMIT_SQL_ACTIVITY_QUERY_BYTES];
    /* statements */
    prep_t *preps;
    portal_t *portals;
    prep_t *cache[LIMIT_SQL_PLAN_CACHE];
    int cache_next;
    /* describe results handed out by pointer */
    int16_t *desc_formats;
    int ndesc_formats;
};

static const char *g_data_dir;
static int g_shards;

/* ---- engine / shard lifecycle ---- */

int sql_engine_init(const char *data_dir, int shards_count)
{
    g_data_dir = data_dir;
    vindex_set_data_dir(data_dir);
    /* before any store opens: compaction at start-up writes and reads columnar blocks */
    store_set_row_codec(row_store_codec());
    g_shards = shards_count;
    return 0;
}

/* The shard's store is already open (shard_open_local runs first, see core/main.c). */
int sql_shard_init(int shard_id)
{
    (void)g_data_dir;
    (void)g_shards;
    return shard_id == 0 ? catalog_boot() : catalog_attach();
}

void sql_shard_fini(int shard_id)
{
    vindex_shard_fini();
    catalog_detach();
}

/* ---- pg_stat_activity (activity.h) ---- */

static __thread sql_session_t *act_list;     /* this shard's sessions */

static void act_link(sql_session_t *s)
{
    s->act_next = act_list;
    if (act_list)
        act_list->act_prev = s;
    act_list = s;
    s->act_port = -1;
    s->act_backend_start = s->act_state_change = time_now_ts();
}

static void act_unlink(sql_session_t *s)
{
    if (s->act_prev)
        s->act_prev->act_next = s->act_next;
    else if (act_list == s)
        act_list = s->act_next;
    if (s->act_next)
        s->act_next->act_prev = s->act_prev;
    s->act_prev = s->act_next = NULL;
}

/* A statement starts: its text (cut at a character boundary) and the clocks. */
static void act_begin(sql_session_t *s, const char *sql, size_t len)
{
    size_t n = len < sizeof s->act_query - 1 ? len : sizeof s->act_query - 1;
    if (n < len)
        while (n > 0 && ((unsigned char)sql[n] & 0xC0) == 0x80)
            n--;    /* sql[n] continues a UTF-8 character: cut before it */
    memcpy(s->act_query, sql, n);
    s->act_query[n] = 0;
    s->act_running = true;
    s->act_query_start = s->act_state_change = time_now_ts();
}

static void act_end(sql_session_t *s)
{
    s->act_running = false;
    s->act_state_change = time_now_ts();
}

static void act_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int sql_session_activity(sql_activity_t *rows, int cap)
{
    int n = 0;
    for (sql_session_t *s = act_list; s; s = s->act_next, n++) {
        if (n >= cap)
            continue;
        sql_activity_t *r = &rows[n];
        memset(r, 0, offsetof(sql_activity_t, query));
        r->pid = s->pid;
        r->client_port = s->act_port;
        act_copy(r->usename, sizeof r->usename, s->user);
        act_copy(r->datname, sizeof r->datname, s->database);
        const char *app = NULL;
        sql_error_t e = {0};
        guc_get(s->guc, "application_name", true, &app, NULL, &e);
        act_copy(r->application_name, sizeof r->application_name, app);
        act_copy(r->client_addr, sizeof r->client_addr, s->act_addr);
        act_copy(r->backend_type, sizeof r->backend_type, s->act_http ? "http" : "client backend");
        r->backend_start = s->act_backend_start;
        r->xact_start = s->txn_active && !s->failed ? s->txn_ts : 0;    /* PostgreSQL clears it on abort */
        r->query_start = s->act_query_start;
        r->state_change = s->act_state_change;
        r->state = s->act_running ? ACTIVITY_ACTIVE
                   : s->in_block ? (s->failed ? ACTIVITY_IDLE_IN_TXN_ABORTED : ACTIVITY_IDLE_IN_TXN)
                                 : ACTIVITY_IDLE;
        r->txn_id = s->txn_active ? s->txn.txn_id : 0;
        act_copy(r->query, sizeof r->query, s->act_query);
    }
    return n;
}

bool sql_session_cancel_pid(int32_t pid)
{
    for (sql_session_t *s = act_list; s; s = s->act_next)
        if (s->pid == pid) {
            sql_cancel(s);
            return true;
        }
    return false;
}

void sql_session_set_client(sql_session_t *s, int32_t pid, const char *addr, int port, bool http)
{
    if (pid > 0)
        s->pid = pid;
    act_copy(s->act_addr, sizeof s->act_addr, addr);
    s->act_port = port;
    s->act_http = http;
}

/* ---- helpers ---- */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *p = rt_malloc(n + 1);
    if (p)
        memcpy(p, s ? s : "", n + 1);
    return p;
}

static void notice_msg(sql_sink_t *sink, const char *sev, const char *state, const char *msg)
{
    if (!sink || !sink->notice)
        return;
    sql_error_t e = {0};
    sql_error(&e, state, "%s", msg);
    snprintf(e.severity, sizeof e.severity, "%s", sev);
    sink->notice(sink->ctx, &e);
}

static int guc_get_cb(void *arg, const char *name, bool missing_ok, const char **value, sql_error_t *err)
{
    sql_session_t *s = arg;
    return guc_get(s->guc, name, missing_ok, value, NULL, err);
}

/* The session's TimeZone zone, made the thread's current zone (types_time.h): every
 * entry point calls it, since another session's fiber may have run in between. */
static const types_tz_t *session_tz(sql_session_t *s)
{
    const char *v = NULL;
    sql_error_t e = {0};
    char canon[128];
    const types_tz_t *tz = NULL;
    if (guc_get(s->guc, "TimeZone", false, &v, NULL, &e) == 0 && v)
        tz = types_tz_load(v, canon, sizeof canon, &e);
    if (!tz)
        tz = types_tz_utc();
    types_tz_use(tz);
    return tz;
}

static sql_sink_t *g_param_sink;   /* the sink of the running statement (param_status) */

static int guc_set_cb(void *arg, const char *name, const char *value, bool is_local, sql_error_t *err)
{
    sql_session_t *s = arg;
    bool report;
    const char *canon;
    if (s->in_block || s->implicit)
        guc_txn_begin(s->guc);      /* set_config in a transaction is undone by its rollback */
    if (guc_set(s->guc, name, value, is_local, &report, &canon, err) < 0)
        return -1;
    if (report && g_param_sink && g_param_sink->param_status) {
        const char *v;
        guc_get(s->guc, canon, false, &v, NULL, err);
        g_param_sink->param_status(g_param_sink->ctx, canon, v);
    }
    return 0;
}

/* ---- sessions ---- */

sql_session_t *sql_session_new(const char *user, const char *database, int nparams,
                               const sql_startup_param_t *params, sql_error_t *err)
{
    sql_session_t *s = rt_calloc(1, sizeof *s);
    if (!s) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    s->user = xstrdup(user ? user : "postgres");
    s->database = xstrdup(database && *database ? database : s->user);
    s->guc = guc_new(s->user);
    s->seqs = seq_session_new();
    s->pid = (int32_t)(getpid() ^ (int32_t)(uintptr_t)s);
    if (s->pid < 0)
        s->pid = -s->pid;
    act_link(s);
    if (!s->user || !s->database || !s->guc || !s->seqs) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nparams; i++) {
        const char *n = params[i].name, *v = params[i].value;
        if (!strcmp(n, "user") || !strcmp(n, "database") || !strcmp(n, "replication") || !strncmp(n, "_pq_.", 5))
            continue;
        bool report;
        if (!strcmp(n, "options")) {
            /* "-c name=value" and "--name=value" pairs */
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", v);
            char *save = NULL;
            for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                if (!strcmp(tok, "-c"))
                    continue;
                if (!strncmp(tok, "--", 2))
                    tok += 2;
                char *eq = strchr(tok, '=');
                if (!eq)
                    continue;
                *eq = 0;
                for (char *p = tok; *p; p++)
                    if (*p == '-')
                        *p = '_';
                if (guc_set(s->guc, tok, eq + 1, false, &report, NULL, err) < 0)
                    goto fail;
            }
            continue;
        }
        if (guc_set(s->guc, n, v, false, &report, NULL, err) < 0) {
            if (!strcmp(err->sqlstate, SQLSTATE_FEATURE_NOT_SUPPORTED))
                memcpy(err->sqlstate, SQLSTATE_INVALID_PARAMETER, 6);
            goto fail;
        }
    }
    return s;
fail:
    sql_session_free(s);
    return NULL;
}

static void txn_end(sql_session_t *s, bool commit, sql_error_t *err);
static void portal_drop(sql_session_t *s, portal_t *p);
static void cursors_close_all(sql_session_t *s);
static void prep_release(prep_t *p);

void sql_session_free(sql_session_t *s)
{
    if (!s)
        return;
    act_unlink(s);
    while (s->portals)
        portal_drop(s, s->portals);
    if (s->txn_active) {
        sql_error_t e = {0};
        txn_end(s, false, &e);
    }
    while (s->preps) {
        prep_t *p = s->preps;
        s->preps = p->next;
        p->closed = true;
        prep_release(p);
    }
    for (int i = 0; i < LIMIT_SQL_PLAN_CACHE; i++)
        if (s->cache[i]) {
            s->cache[i]->closed = true;
            prep_release(s->cache[i]);
        }
    guc_free(s->guc);
    seq_session_free(s->seqs);
    rt_free(s->sps);
    rt_free(s->desc_formats);
    rt_free(s->user);
    rt_free(s->database);
    rt_free(s);
}

void sql_session_report_params(sql_session_t *s, void (*cb)(void *ctx, const char *name, const char *value),
                               void *ctx)
{
    for (int i = 0; i < guc_count(); i++) {
        const char *name, *value, *desc;
        bool report;
        guc_at(s->guc, i, &name, &value, &desc, &report);
        if (report)
            cb(ctx, name, value);
    }
}

char sql_txn_status(const sql_session_t *s)
{
    if (s->failed)
        return 'E';
    return s->in_block ? 'T' : 'I';
}

void sql_cancel(sql_session_t *s)
{
    s->cancel = true;
}

/* ---- transactions ---- */

static int iso_from_guc(sql_session_t *s)
{
    const char *v;
    sql_error_t e = {0};
    guc_get(s->guc, "default_transaction_isolation", false, &v, NULL, &e);
    return v && !strcasecmp(v, "repeatable read") ? TXN_ISO_REPEATABLE_READ : TXN_ISO_READ_COMMITTED;
}

/* Forgets the savepoints from index `from` on (newest last); the newest left is the
 * level later writes and SETs belong to. */
static void sp_pop(sql_session_t *s, uint32_t from)
{
    while (s->nsps > from)
        rt_free(s->sps[--s->nsps].name);
    s->txn.sp_level = s->nsps ? s->sps[s->nsps - 1].level : 0;
    guc_set_level(s->guc, s->txn.sp_level);
}

static void txn_start(sql_session_t *s)
{
    if (s->txn_active)
        return;
    sp_pop(s, 0);
    s->sp_next = 0;
    s->fail_state[0] = 0;
    memset(&s->txn, 0, sizeof s->txn);
    s->txn.txn_id = txn_new_id();
    s->txn_ts = time_now_ts();
    s->rr_snap = 0;
    snapreg_release(&s->rr_hold);
    s->iso = iso_from_guc(s);
    s->txn_active = true;
}

void sql_register_metrics(void)
{
    txn_register_metrics();
    txn_stats_register();
}

/* Remembers the first error that failed the transaction (its abort reason). */
static void txn_note_error(sql_session_t *s, const sql_error_t *err)
{
    if (!s->fail_state[0] && err && err->sqlstate[0])
        memcpy(s->fail_state, err->sqlstate, sizeof s->fail_state);
}

/* An error inside a transaction block: the block is failed until ROLLBACK (25P02)
 * and, as in PostgreSQL, its writes and row locks are released now, so a deadlock
 * victim or any failed transaction does not keep others waiting. */
static void txn_fail(sql_session_t *s, const sql_error_t *err)
{
    txn_note_error(s, err);
    s->failed = true;
    if (s->txn_active && s->nsps) {
        /* only the work since the newest savepoint is lost (PostgreSQL aborts the
         * failed subtransaction at once); ROLLBACK TO makes the block usable again,
         * so a REPEATABLE READ snapshot stays held */
        sql_error_t e2 = {0};
        if (txn_rollback_to_all(&s->txn, s->sps[s->nsps - 1].level, &e2) == 0)
            return;
        log_error("session: rollback to a savepoint failed (%s): the transaction is aborted", e2.message);
        sp_pop(s, 0);    /* nothing is left to roll back to */
    }
    snapreg_release(&s->rr_hold);    /* a failed block reads nothing more */
    if (s->txn_active)
        txn_abort_all(&s->txn);
}

static void txn_end(sql_session_t *s, bool commit, sql_error_t *err)
{
    if (s->txn_active) {
        if (commit)
            txn_commit_all(&s->txn, err);
        else
            txn_abort_all(&s->txn);
        if (commit && !sql_error_is_set(err))
            txn_stats_commit();
        else
            txn_stats_abort(txn_stats_reason(s->fail_state[0] ? s->fail_state
                                             : commit ? err->sqlstate : NULL));
    }
    s->fail_state[0] = 0;
    s->txn_active = false;
    sp_pop(s, 0);
    snapreg_release(&s->rr_hold);
    cursors_close_all(s);    /* WITHOUT HOLD */
    s->in_block = false;
    s->implicit = false;
    s->ext_implicit = false;
    s->failed = false;
    s->read_only = false;
    guc_txn_end(s->guc, commit && !sql_error_is_set(err));
}

/* ---- prepared statements ---- */

static void prep_release(prep_t *p)
{
    if (!p || p->refs > 0 || !p->closed)
        return;
    arena_destroy(&p->arena);
    rt_free(p->name);
    rt_free(p->text);
    rt_free(p->bound_path);
    rt_free(p);
}

static prep_t *prep_new(const char *name, const char *text, size_t len, sql_error_t *err)
{
    prep_t *p = rt_calloc(1, sizeof *p);
    if (!p) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    arena_init(&p->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    p->name = xstrdup(name);
    p->text = rt_malloc(len + 1);
    if (!p->name || !p->text) {
        p->closed = true;
        prep_release(p);
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    memcpy(p->text, text, len);
    p->text[len] = 0;
    return p;
}

/* Binds (or re-binds after a catalog or search_path change) against cat. */
static int prep_bind(sql_session_t *s, prep_t *p, const catalog_t *cat, sql_error_t *err)
{
    const char *path = NULL;
    sql_error_t e2 = {0};
    guc_get(s->guc, "search_path", false, &path, NULL, &e2);
    const types_tz_t *tz = session_tz(s);
    if (p->bs && p->bs->catalog_version == cat->version && p->bound_path && path && !strcmp(p->bound_path, path) &&
        p->bound_tz == tz)
        return 0;
    bind_env_t env = {&p->arena, cat, p->decl_nparams, p->decl_types, p->text, 0, path};
    bound_stmt_t *bs = bind_statement(&env, p->ast, err);
    if (!bs)
        return -1;
    char *bp = xstrdup(path ? path : "");
    if (!bp)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    rt_free(p->bound_path);
    p->bound_path = bp;
    p->bound_tz = tz;
    p->bs = bs;
    return 0;
}

static prep_t *prep_find(sql_session_t *s, const char *name)
{
    for (prep_t *p = s->preps; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static void prep_unlink(sql_session_t *s, prep_t *p)
{
    for (prep_t **pp = &s->preps; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    p->closed = true;
    prep_release(p);
}

/* ---- portals ---- */

static portal_t *portal_find(sql_session_t *s, const char *name)
{
    for (portal_t *p = s->portals; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static void portal_stop(portal_t *p)
{
    snapreg_release(&p->snap_hold);
    if (p->op) {
        exec_close(p->op);
        p->op = NULL;
    }
    if (p->cat) {
        catalog_unref(p->cat);
        p->cat = NULL;
    }
}

static void portal_drop(sql_session_t *s, portal_t *p)
{
    for (portal_t **pp = &s->portals; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    portal_stop(p);
    if (p->prep) {
        p->prep->refs--;
        prep_release(p->prep);
    }
    arena_destroy(&p->arena);
    rt_free(p->name);
    rt_free(p);
}

static portal_t *portal_new(const char *name, prep_t *prep, sql_error_t *err)
{
    portal_t *p = rt_calloc(1, sizeof *p);
    if (!p || !(p->name = xstrdup(name))) {
        rt_free(p);
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    arena_init(&p->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    p->prep = prep;
    prep->refs++;
    return p;
}

/* ---- running statements ---- */

static const char *dml_tag(arena_t *a, const bound_stmt_t *bs, int64_t n)
{
    char *t = arena_alloc(a, 48);
    if (!t)
        return "INSERT 0 0";
    if (bs->kind == ST_INSERT && bs->is_copy)
        snprintf(t, 48, "COPY %lld", (long long)n);
    else if (bs->kind == ST_INSERT)
        snprintf(t, 48, "INSERT 0 %lld", (long long)n);
    else
        snprintf(t, 48, "%s %lld", bs->kind == ST_UPDATE ? "UPDATE" : "DELETE", (long long)n);
    return t;
}

/* COPY ... TO STDOUT: the whole result as CopyData rows (one per row, as PostgreSQL
 * sends them; Execute's row limit does not apply), then "COPY n". */
static int run_copy_out(portal_t *p, const bound_stmt_t *bs, sql_sink_t *sink, sql_error_t *err)
{
    const ast_t *a = bs->copy_to;
    const ast_copy_opts_t *o = a->copy.opts;
    if (!sink->copy_out)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "COPY TO STDOUT is not supported by this client interface");
    int nvis = bs->nvisible;
    copy_out_fmt_t f = {o->csv, a->copy.delimiter, o->quote, o->escape, a->copy.null_string, bs->copy_force_quote};
    strbuf_t line, tmp;
    strbuf_init(&line);
    strbuf_init(&tmp);
    int rc = 0;
    if (sink->copy_out(sink->ctx, 'H', nvis, NULL, 0) != 0)
        rc = sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
    if (rc == 0 && o->header) {
        copy_out_header(&f, nvis, bs->copy_names, &line);
        if (line.oom)
            rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        else if (sink->copy_out(sink->ctx, 'd', nvis, (const uint8_t *)line.data, line.len) != 0)
            rc = sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
    }
    while (rc == 0) {
        batch_t *b;
        int r = p->op->next(p->op, &b, err);
        if (r < 0)
            rc = -1;
        if (r <= 0)
            break;
        if (p->bctx.tz)
            types_tz_use(p->bctx.tz);      /* other sessions may have run meanwhile */
        for (int i = 0; i < b->nrows && rc == 0; i++) {
            strbuf_reset(&line);
            copy_out_row(&f, nvis, bs->plan->types, bs->plan->typmods, b, i, &line, &tmp);
            if (line.oom || tmp.oom)
                rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            else if (sink->copy_out(sink->ctx, 'd', nvis, (const uint8_t *)line.data, line.len) != 0)
                rc = sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
            else
                p->nrows++;
        }
    }
    strbuf_free(&line);
    strbuf_free(&tmp);
    if (rc < 0)
        return -1;
    if (sink->copy_out(sink->ctx, 'c', nvis, NULL, 0) != 0)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
    char tag[48];
    snprintf(tag, sizeof tag, "COPY %lld", (long long)p->nrows);
    portal_stop(p);
    if (sink->complete)
        sink->complete(sink->ctx, tag);
    return 0;
}

static int send_row(portal_t *p, sql_sink_t *sink, int ncols, const batch_t *b, int r, sql_error_t *err)
{
    for (int c = 0; c < ncols; c++) {
        p->row_vals[c] = b->vals[c][r];
        p->row_nulls[c] = b->nulls[c][r];
    }
    if (p->bctx.tz)
        types_tz_use(p->bctx.tz);
    if (sink->row && sink->row(sink->ctx, ncols, p->row_vals, p->row_nulls) != 0)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
    p->nrows++;
    return 0;
}

static __thread type_oid_t set_sort_type;

static int set_cmp(const void *a, const void *b)
{
    return expr_cmp_nulls(set_sort_type, *(const datum_t *)a, false, *(const datum_t *)b, false, false);
}

/* Materializes an IN (subquery) set: sorted distinct non-null values. */
static int build_set(portal_t *p, const plan_t *plan, expr_set_t *set, sql_error_t *err)
{
    rowstore_t rs;
    rowstore_init(&rs, &p->arena, 1, plan->types);
    exec_op_t *op = exec_build(&p->ctx, plan, err);
    if (!op)
        return -1;
    int rc = 0;
    for (;;) {
        batch_t *b;
        int r = op->next(op, &b, err);
        if (r < 0)
            rc = -1;
        if (r <= 0)
            break;
        for (int i = 0; i < b->nrows && rc == 0; i++)
            if (b->nulls[0][i])
                set->has_null = true;
            else
                rc = rowstore_add(&rs, b, &i, 1, err);
        if (rc < 0)
            break;
    }
    exec_close(op);
    if (rc < 0)
        return -1;
    set->vals = arena_alloc(&p->arena, (size_t)(rs.nrows + 1) * sizeof(datum_t));
    if (!set->vals)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int64_t i = 0; i < rs.nrows; i++)
        set->vals[i] = rs_val(&rs, i, 0);
    set_sort_type = plan->types[0];
    qsort(set->vals, (size_t)rs.nrows, sizeof(datum_t), set_cmp);
    int64_t m = 0;
    for (int64_t i = 0; i < rs.nrows; i++)
        if (m == 0 || set_cmp(&set->vals[m - 1], &set->vals[i]) != 0)
            set->vals[m++] = set->vals[i];
    set->n = m;
    return 0;
}

/* Runs an ARRAY(subquery) plan to the end and makes one array of its first column
 * in dst (an empty array when there are no rows, as PostgreSQL gives). */
static int array_subq(exec_op_t *op, const plan_t *plan, arena_t *dst, datum_t *out, sql_error_t *err)
{
    type_oid_t elem = plan->types[0] == TYPE_UNKNOWN ? TYPE_TEXT : plan->types[0];
    int n = 0, cap = 0;
    datum_t *vals = NULL;
    bool *nulls = NULL;
    arena_t tmp;
    arena_init(&tmp, LIMIT_SQL_STMT_ARENA_BYTES);
    int rc = 0;
    for (;;) {
        batch_t *b;
        int r = op->next(op, &b, err);
        if (r < 0)
            rc = -1;
        if (r <= 0)
            break;
        if (n + b->nrows > LIMIT_SQL_ARRAY_ELEMS) {
            rc = sql_error(err, SQLSTATE_PROGRAM_LIMIT, "array size exceeds the maximum allowed (%d)",
                           LIMIT_SQL_ARRAY_ELEMS);
            break;
        }
        if (n + b->nrows > cap) {
            int nc = (n + b->nrows) * 2;
            datum_t *nv = arena_alloc(&tmp, (size_t)nc * sizeof *nv);
            bool *nn = arena_alloc(&tmp, (size_t)nc);
            if (!nv || !nn) {
                rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
                break;
            }
            if (n) {
                memcpy(nv, vals, (size_t)n * sizeof *nv);
                memcpy(nn, nulls, (size_t)n);
            }
            vals = nv;
            nulls = nn;
            cap = nc;
        }
        for (int i = 0; i < b->nrows && rc == 0; i++) {
            vals[n] = b->vals[0][i];
            nulls[n] = b->nulls[0][i];
            if (!nulls[n] && exec_copy_datum(&tmp, elem, &vals[n]) < 0)
                rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            n++;
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && !(out->s = type_array_build(dst, elem, n, vals, nulls)))
        rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    arena_destroy(&tmp);
    return rc;
}

/* Evaluates the statement's uncorrelated subqueries into ctx.ex slots. */
static int run_subqueries(portal_t *p, sql_error_t *err)
{
    const bound_stmt_t *bs = p->prep->bs;
    if (!bs->nsubq)
        return 0;
    datum_t *v = arena_alloc(&p->arena, (size_t)bs->nsubq * sizeof(datum_t));
    bool *n = arena_alloc(&p->arena, (size_t)bs->nsubq);
    if (!v || !n)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    expr_set_t *sets = arena_alloc(&p->arena, (size_t)bs->nsubq * sizeof(expr_set_t));
    if (!sets)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(sets, 0, (size_t)bs->nsubq * sizeof(expr_set_t));
    p->ctx.ex.subq_vals = v;
    p->ctx.ex.subq_nulls = n;
    p->ctx.ex.subq_sets = sets;
    for (int i = 0; i < bs->nsubq; i++) {
        if (bs->subq_kind[i] & SUBQ_CORRELATED)
            continue;      /* run per row by subq_run_cb */
        if (bs->subq_kind[i] == SUBQ_IN) {
            if (build_set(p, bs->subq[i], &sets[i], err) < 0)
                return -1;
            continue;
        }
        exec_op_t *op = exec_build(&p->ctx, bs->subq[i], err);
        if (!op)
            return -1;
        if (bs->subq_kind[i] == SUBQ_ARRAY) {
            n[i] = false;
            int arc = array_subq(op, bs->subq[i], &p->arena, &v[i], err);
            exec_close(op);
            if (arc < 0)
                return -1;
            continue;
        }
        batch_t *b;
        int rc = op->next(op, &b, err);
        int64_t rows = rc > 0 ? b->nrows : 0;
        n[i] = true;
        v[i].i64 = 0;
        if (rc > 0 && bs->subq_kind[i] == SUBQ_SCALAR && b->nrows > 0) {
            v[i] = b->vals[0][0];
            n[i] = b->nulls[0][0];
            if (!n[i] && exec_copy_datum(&p->arena, bs->subq[i]->types[0], &v[i]) < 0)
                rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            if (rc > 0 && rows == 1) {
                batch_t *b2;
                int rc2 = op->next(op, &b2, err);
                if (rc2 < 0)
                    rc = -1;
                else if (rc2 > 0 && b2->nrows > 0)
                    rows = 2;
            }
            if (rc > 0 && rows > 1)
                rc = sql_error(err, "21000", "more than one row returned by a subquery used as an expression");
        }
        if (bs->subq_kind[i] == SUBQ_EXISTS) {
            n[i] = false;
            v[i].i64 = rows > 0;
        }
        exec_close(op);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Runs correlated subquery `slot` for row `row` of the enclosing batch. */
static int subq_run_cb(void *arg, int slot, const batch_t *in, int row, arena_t *dst, datum_t *out, bool *isnull,
                       sql_error_t *err)
{
    portal_t *p = arg;
    const bound_stmt_t *bs = p->prep->bs;
    const plan_t *plan = bs->subq[slot];
    bool exists = (bs->subq_kind[slot] & ~SUBQ_CORRELATED) == SUBQ_EXISTS;
    arena_t tmp;
    arena_init(&tmp, LIMIT_SQL_STMT_ARENA_BYTES);
    exec_ctx_t c = p->ctx;
    c.arena = &tmp;
    c.ex.arena = &tmp;
    int ncols = in ? in->ncols : 0;
    datum_t *ov = arena_alloc(&tmp, (size_t)(ncols + 1) * sizeof(datum_t));
    bool *on = arena_alloc(&tmp, (size_t)(ncols + 1));
    int rc = 0;
    exec_op_t *op = NULL;
    if (!ov || !on) {
        rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int k = 0; k < ncols; k++) {
        ov[k] = in->vals[k][row];
        on[k] = in->nulls[k][row];
    }
    c.ex.outer_vals = ov;
    c.ex.outer_nulls = on;
    if (!(op = exec_build(&c, plan, err))) {
        rc = -1;
        goto done;
    }
    if ((bs->subq_kind[slot] & ~SUBQ_CORRELATED) == SUBQ_ARRAY) {
        *isnull = false;
        rc = array_subq(op, plan, dst, out, err);
        goto done;
    }
    *isnull = !exists;
    out->i64 = 0;
    int64_t rows = 0;
    for (;;) {
        batch_t *b;
        int r = op->next(op, &b, err);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        if (b->nrows == 0)
            continue;
        if (exists) {
            rows = 1;
            break;
        }
        if (rows + b->nrows > 1) {
            rc = sql_error(err, "21000", "more than one row returned by a subquery used as an expression");
            break;
        }
        rows = 1;
        *out = b->vals[0][0];
        *isnull = b->nulls[0][0];
        if (!*isnull && exec_copy_datum(dst, plan->types[0], out) < 0) {
            rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            break;
        }
    }
    if (exists)
        out->i64 = rows > 0;
done:
    exec_close(op);
    arena_destroy(&tmp);
    return rc;
}

static bool session_autocommit(const sql_session_t *s) { return !s->in_block && !s->implicit; }

/* Prepares ctx for a portal's first run: transaction, snapshot, catalog pin. */
static int portal_setup(sql_session_t *s, portal_t *p, sql_error_t *err)
{
    txn_start(s);
    txn_ctx_t *tc = &s->txn;
    if (s->iso == TXN_ISO_REPEATABLE_READ) {
        if (!s->rr_snap) {
            s->rr_snap = hlc_now();
            snapreg_hold(&s->rr_hold, s->rr_snap);    /* same turn: above the published floor */
        }
        tc->snap_ts = s->rr_snap;
    } else {
        tc->snap_ts = hlc_now();
    }
    snapreg_release(&p->snap_hold);
    snapreg_hold(&p->snap_hold, tc->snap_ts);
    tc->iso = s->iso;
    tc->lock_timeout_ms = guc_timeout_ms(s->guc, "lock_timeout");
    tc->deadlock_timeout_ms = guc_timeout_ms(s->guc, "deadlock_timeout");
    uint64_t st_ms = guc_timeout_ms(s->guc, "statement_timeout");
    tc->deadline_us = st_ms ? rt_now_us() + st_ms * 1000 : 0;
    tc->cancel = &s->cancel;
    p->cat = catalog_current();
    if (prep_bind(s, p->prep, p->cat, err) < 0)
        return -1;
    if (p->prep->bs->nparams > p->nparams)
        return sql_error(err, "42P02", "there is no parameter $%d", p->nparams + 1);
    p->bctx = (builtin_ctx_t){.stmt_ts = time_now_ts(), .txn_ts = s->txn_ts, .user = s->user,
                              .database = s->database, .arena = &p->arena, .catalog = p->cat,
                              .backend_pid = s->pid, .seqs = s->seqs, .tz = session_tz(s)};
    exec_ctx_t *c = &p->ctx;
    memset(c, 0, sizeof *c);
    c->arena = &p->arena;
    c->txn = tc;
    c->catalog = p->cat;
    c->cancel = &s->cancel;
    c->user = s->user;
    c->database = s->database;
    c->ex.params = p->params;
    c->ex.param_nulls = p->pnulls;
    c->ex.nparams = p->nparams;
    c->ex.bctx = &p->bctx;
    c->ex.arena = &p->arena;
    c->ex.subq_arg = p;
    c->ex.subq_run = subq_run_cb;
    c->ex.guc_arg = s;
    c->ex.guc_get = guc_get_cb;
    c->ex.guc_set = guc_set_cb;
    /* settings for pg_settings */
    int ng = guc_count();
    const char **names = arena_alloc(&p->arena, (size_t)ng * sizeof(char *));
    const char **vals = arena_alloc(&p->arena, (size_t)ng * sizeof(char *));
    if (!names || !vals)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < ng; i++) {
        const char *d;
        bool r;
        guc_at(s->guc, i, &names[i], &vals[i], &d, &r);
    }
    c->nsettings = ng;
    c->setting_names = names;
    c->setting_values = vals;
    int nc = p->prep->bs->ncols > 0 ? p->prep->bs->ncols : 1;
    p->row_vals = arena_alloc(&p->arena, (size_t)nc * sizeof(datum_t));
    p->row_nulls = arena_alloc(&p->arena, (size_t)nc);
    if (!p->row_vals || !p->row_nulls)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return run_subqueries(p, err);
}

static int run_utility(sql_session_t *s, portal_t *p, sql_sink_t *sink, const char **tag, sql_error_t *err);
static int run_execute(sql_session_t *s, portal_t *outer, sql_sink_t *sink, bool describe, sql_error_t *err);
static int run_fetch(sql_session_t *s, portal_t *outer, sql_sink_t *sink, bool describe, sql_error_t *err);

/* INSERT / UPDATE / DELETE of a portal's first run: the count and RETURNING rows
 * (into ret when not NULL). 0 or -1 + err. */
static int portal_dml(sql_session_t *s, portal_t *p, const bound_stmt_t *bs, sql_sink_t *sink, rowstore_t *ret,
                      int64_t *count, sql_error_t *err)
{
    stmt_kind_t kind = bs->kind;
    if (s->read_only)
        return sql_error(err, SQLSTATE_READ_ONLY_TXN, "cannot execute %s in a read-only transaction",
                         kind == ST_INSERT ? "INSERT" : kind == ST_UPDATE ? "UPDATE" : "DELETE");
    /* index entries live on other shards (sql/secindex.h): such a statement
     * never takes the commit-in-fragment fast path */
    bool check = bs->table->nindexes > 0;
    bool fkcheck = fk_needs_statement_check(p->cat, bs);   /* foreign keys (constraints.c) */
    if (bs->is_copy) {
        if (!sink->copy_in)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "COPY FROM STDIN is supported in the simple query protocol only");
        p->ctx.copy_in = sink->copy_in;
        p->ctx.copy_arg = sink->ctx;
    }
    if (exec_dml(&p->ctx, bs, session_autocommit(s) && !check && !fkcheck, ret, count, err) < 0)
        return -1;
    if (fkcheck && kind != ST_INSERT && fk_after_statement(&p->ctx, bs, err) < 0)
        return -1;
    return 0;
}

/* EXPLAIN ANALYZE: runs the explained statement with the executor's counters on
 * (its writes are the transaction's, committed in autocommit as any statement's),
 * then p->op hands out the plan text (sql/explain_analyze.c). */
static int run_explain_analyze(sql_session_t *s, portal_t *p, const bound_stmt_t *bs, sql_sink_t *sink,
                               sql_error_t *err)
{
    const bound_stmt_t *in = bs->explain_inner;
    if (!explain_begin(&p->ctx, bs->explain_opts))
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    uint64_t t0 = explain_now_ns();
    int rc;
    if (in->kind == ST_QUERY) {
        rc = explain_run_query(&p->ctx, in->plan, err);
    } else {
        rowstore_t ret;
        int64_t count = 0;
        type_oid_t *rt = in->nreturning ? arena_alloc(&p->arena, (size_t)in->nreturning * sizeof(type_oid_t)) : NULL;
        if (in->nreturning && !rt)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int i = 0; i < in->nreturning; i++)
            rt[i] = in->returning[i]->type;
        rowstore_init(&ret, &p->arena, in->nreturning, rt);
        rc = portal_dml(s, p, in, sink, in->nreturning ? &ret : NULL, &count, err);
        if (rc == 0)
            explain_note_modify(&p->ctx, in, count, explain_now_ns() - t0);
    }
    uint64_t exec_ns = explain_now_ns() - t0;
    if (rc < 0) {
        p->ctx.instr = NULL;
        return -1;
    }
    return (p->op = explain_finish(&p->ctx, bs, exec_ns, err)) ? 0 : -1;
}

/* Runs (or resumes) a portal: 0 complete, 1 suspended, -1 error. */
static int portal_run(sql_session_t *s, portal_t *p, int64_t max_rows, sql_sink_t *sink, bool describe,
                      sql_error_t *err)
{
    const bound_stmt_t *bs = p->prep->bs;
    stmt_kind_t kind = bs ? bs->kind : ST_QUERY;
    int64_t sent = 0;
    if (!p->started) {
        p->started = true;
        s->cancel = false;
        if (p->prep->ast->kind == AST_TXN || p->prep->ast->kind == AST_SET || p->prep->ast->kind == AST_SHOW ||
            p->prep->ast->kind == AST_VACUUM || p->prep->ast->kind == AST_DISCARD ||
            p->prep->ast->kind == AST_CREATE_EXTENSION || p->prep->ast->kind == AST_PREPARE ||
            p->prep->ast->kind == AST_EXECUTE || p->prep->ast->kind == AST_DEALLOCATE ||
            p->prep->ast->kind == AST_DECLARE_CURSOR || p->prep->ast->kind == AST_FETCH ||
            p->prep->ast->kind == AST_CLOSE_CURSOR) {
            if (p->prep->ast->kind == AST_EXECUTE)
                return run_execute(s, p, sink, describe, err);
            if (p->prep->ast->kind == AST_FETCH)
                return run_fetch(s, p, sink, describe, err);
            const char *tag = NULL;
            if (run_utility(s, p, sink, &tag, err) < 0)
                return -1;
            if (tag && sink->complete)
                sink->complete(sink->ctx, tag);
            return 0;
        }
        if (portal_setup(s, p, err) < 0)
            return -1;
        bs = p->prep->bs;
        kind = bs->kind;
        if (describe && bs->ncols >= 0 && sink->describe)
            sink->describe(sink->ctx, bs->nvisible, bs->cols);
        if (kind == ST_QUERY && bs->explain_inner) {
            if (run_explain_analyze(s, p, bs, sink, err) < 0)
                return -1;
        } else if (kind == ST_QUERY) {
            if (!(p->op = exec_build(&p->ctx, bs->plan, err)))
                return -1;
        } else if (kind == ST_INSERT || kind == ST_UPDATE || kind == ST_DELETE) {
            if (bs->nreturning) {
                type_oid_t *rt = arena_alloc(&p->arena, (size_t)bs->nreturning * sizeof(type_oid_t));
                if (!rt)
                    return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
                for (int i = 0; i < bs->nreturning; i++)
                    rt[i] = bs->returning[i]->type;
                rowstore_init(&p->ret, &p->arena, bs->nreturning, rt);
                p->has_ret = true;
            }
            if (portal_dml(s, p, bs, sink, p->has_ret ? &p->ret : NULL, &p->count, err) < 0)
                return -1;
        } else {
            /* DDL: runs at once, outside the transaction machinery (not transactional) */
            const char *tag = NULL;
            if (run_utility(s, p, sink, &tag, err) < 0)
                return -1;
            if (sink->complete)
                sink->complete(sink->ctx, tag);
            return 0;
        }
    } else if (p->snap_hold.live) {
        s->txn.snap_ts = p->snap_hold.ts;    /* resumed: read at the portal's snapshot again */
    }
    if (kind == ST_QUERY && !p->op) {
        /* already run to completion (or failed): nothing more to send */
        if (sink->complete)
            sink->complete(sink->ctx, "SELECT 0");
        return 0;
    }
    if (kind == ST_QUERY && bs->copy_to)
        return run_copy_out(p, bs, sink, err);
    if (kind == ST_QUERY) {
        int nvis = bs->nvisible;
        for (;;) {
            while (p->batch && p->brow < p->batch->nrows) {
                if (max_rows > 0 && sent >= max_rows)
                    return 1;
                if (send_row(p, sink, nvis, p->batch, p->brow++, err) < 0)
                    return -1;
                sent++;
            }
            int rc = p->op->next(p->op, &p->batch, err);
            if (rc < 0)
                return -1;
            p->brow = 0;
            if (rc == 0) {
                p->batch = NULL;
                break;
            }
        }
        char tag[48];
        if (p->prep->ast->kind == AST_EXPLAIN)
            snprintf(tag, sizeof tag, "EXPLAIN");        /* PostgreSQL's tag, no count */
        else
            snprintf(tag, sizeof tag, "SELECT %lld", (long long)p->nrows);
        portal_stop(p);
        if (sink->complete)
            sink->complete(sink->ctx, tag);
        return 0;
    }
    /* DML: RETURNING rows, then the tag */
    if (p->has_ret) {
        while (p->rpos < p->ret.nrows) {
            if (max_rows > 0 && sent >= max_rows)
                return 1;
            batch_t *b = p->ret.chunks[p->rpos / LIMIT_BATCH_ROWS];
            if (send_row(p, sink, bs->nreturning, b, (int)(p->rpos % LIMIT_BATCH_ROWS), err) < 0)
                return -1;
            p->rpos++;
            sent++;
        }
    }
    const char *tag = dml_tag(&p->arena, bs, p->count);
    portal_stop(p);
    if (sink->complete)
        sink->complete(sink->ctx, tag);
    return 0;
}

/* ---- utility statements ---- */

static int show_rows(sql_session_t *s, portal_t *p, sql_sink_t *sink, bool describe, sql_error_t *err)
{
    const ast_t *a = p->prep->ast;
    if (!strcasecmp(a->show.name, "all")) {
        sql_coldesc_t cols[3] = {{"name", 0, 0, TYPE_TEXT, -1, -1}, {"setting", 0, 0, TYPE_TEXT, -1, -1},
                                 {"description", 0, 0, TYPE_TEXT, -1, -1}};
        if (describe && sink->describe)
            sink->describe(sink->ctx, 3, cols);
        for (int i = 0; i < guc_count(); i++) {
            const char *n, *v, *d;
            bool r;
            guc_at(s->guc, i, &n, &v, &d, &r);
            datum_t vals[3];
            bool nulls[3] = {false, false, false};
            vals[0].s = vstr_new(&p->arena, n, strlen(n));
            vals[1].s = vstr_new(&p->arena, v, strlen(v));
            vals[2].s = vstr_new(&p->arena, d, strlen(d));
            if (!vals[0].s || !vals[1].s || !vals[2].s)
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            if (sink->row && sink->row(sink->ctx, 3, vals, nulls) != 0)
                return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
        }
        return 0;
    }
    const char *v, *canon;
    const char *name = a->show.name;
    if (!strcasecmp(name, "transaction isolation level"))
        name = "transaction_isolation";
    char isobuf[32];
    if (guc_get(s->guc, name, false, &v, &canon, err) < 0)
        return -1;
    if (!strcasecmp(canon, "transaction_isolation")) {
        int iso = s->txn_active ? s->iso : iso_from_guc(s);
        snprintf(isobuf, sizeof isobuf, "%s", iso == TXN_ISO_REPEATABLE_READ ? "repeatable read" : "read committed");
        v = isobuf;
    }
    sql_coldesc_t col = {canon, 0, 0, TYPE_TEXT, -1, -1};
    if (describe && sink->describe)
        sink->describe(sink->ctx, 1, &col);
    datum_t d;
    bool isnull = false;
    if (!(d.s = vstr_new(&p->arena, v, strlen(v))))
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (sink->row && sink->row(sink->ctx, 1, &d, &isnull) != 0)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement: the client went away");
    return 0;
}

static void ddl_notice(void *arg, const char *msg)
{
    notice_msg(arg, "NOTICE", SQLSTATE_SUCCESSFUL, msg);
}

/* The newest live savepoint called name, or -1 (3B001 in err). */
static int sp_find(const sql_session_t *s, const char *name, sql_error_t *err)
{
    for (uint32_t i = s->nsps; i-- > 0;)
        if (strcmp(s->sps[i].name, name) == 0)
            return (int)i;
    sql_error(err, "3B001", "savepoint \"%s\" does not exist", name);
    return -1;
}

/* SAVEPOINT / RELEASE / ROLLBACK TO inside a block (25P01 outside one, as in
 * PostgreSQL, implicit transactions included). See txn_savepoint.c for the model. */
static int run_savepoint(sql_session_t *s, const ast_t *a, const char **tag, sql_error_t *err)
{
    static const char *const what[] = {[AST_TXN_SAVEPOINT] = "SAVEPOINT",
                                       [AST_TXN_RELEASE] = "RELEASE SAVEPOINT",
                                       [AST_TXN_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT"};
    *tag = a->txn.kind == AST_TXN_RELEASE ? "RELEASE" : a->txn.kind == AST_TXN_ROLLBACK_TO ? "ROLLBACK" : "SAVEPOINT";
    if (!s->in_block)
        return sql_error(err, "25P01", "%s can only be used in transaction blocks", what[a->txn.kind]);
    txn_start(s);
    if (a->txn.kind == AST_TXN_SAVEPOINT) {
        if (s->nsps >= LIMIT_SQL_SAVEPOINTS)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "cannot have more than %d savepoints in a transaction",
                             LIMIT_SQL_SAVEPOINTS);
        if (s->nsps == s->sps_cap) {
            uint32_t cap = s->sps_cap ? s->sps_cap * 2 : 8;
            struct session_sp *n = rt_realloc(s->sps, cap * sizeof *n);
            if (!n)
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            s->sps = n;
            s->sps_cap = cap;
        }
        char *name = xstrdup(a->txn.savepoint);
        if (!name)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        s->sps[s->nsps++] = (struct session_sp){name, ++s->sp_next};
        sp_pop(s, s->nsps);
        return 0;
    }
    int i = sp_find(s, a->txn.savepoint, err);
    if (i < 0)
        return -1;
    if (a->txn.kind == AST_TXN_RELEASE) {
        sp_pop(s, (uint32_t)i);    /* it and every later one */
        return 0;
    }
    sp_pop(s, (uint32_t)i + 1);    /* ROLLBACK TO keeps the savepoint itself */
    uint32_t level = s->sps[i].level;
    if (txn_rollback_to_all(&s->txn, level, err) < 0)
        return -1;
    guc_rollback_to(s->guc, level);
    s->failed = false;
    s->fail_state[0] = 0;
    return 0;
}

static int run_txn_stmt(sql_session_t *s, const ast_t *a, sql_sink_t *sink, const char **tag, sql_error_t *err)
{
    switch (a->txn.kind) {
    case AST_TXN_BEGIN:
        if (a->txn.iso == AST_ISO_SERIALIZABLE) {
            sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "SERIALIZABLE isolation is not supported");
            sql_error_hint(err, "Use REPEATABLE READ (snapshot isolation).");
            return -1;
        }
        *tag = "BEGIN";
        if (s->in_block) {
            notice_msg(sink, "WARNING", "25001", "there is already a transaction in progress");
            return 0;
        }
        /* work done earlier in an implicit transaction becomes part of the block */
        s->implicit = false;
        s->ext_implicit = false;
        txn_start(s);
        s->in_block = true;
        if (a->txn.iso == AST_ISO_REPEATABLE_READ)
            s->iso = TXN_ISO_REPEATABLE_READ;
        else if (a->txn.iso != AST_ISO_DEFAULT)
            s->iso = TXN_ISO_READ_COMMITTED;
        s->read_only = a->txn.read_only;
        return 0;
    case AST_TXN_COMMIT:
        if (!s->in_block) {
            *tag = "COMMIT";
            if (!s->implicit || s->ext_implicit)
                notice_msg(sink, "WARNING", "25P01", "there is no transaction in progress");
            else
                txn_end(s, true, err);
            return sql_error_is_set(err) ? -1 : 0;
        }
        if (s->failed) {
            *tag = "ROLLBACK";
            txn_end(s, false, err);
            return 0;
        }
        *tag = "COMMIT";
        txn_end(s, true, err);
        return sql_error_is_set(err) ? -1 : 0;
    case AST_TXN_ROLLBACK:
        *tag = "ROLLBACK";
        if (!s->in_block && (!s->implicit || s->ext_implicit))
            notice_msg(sink, "WARNING", "25P01", "there is no transaction in progress");
        txn_end(s, false, err);
        return 0;
    case AST_TXN_SAVEPOINT:
    case AST_TXN_RELEASE:
    case AST_TXN_ROLLBACK_TO:
        return run_savepoint(s, a, tag, err);
    }
    return 0;
}

static int run_set(sql_session_t *s, const ast_t *a, sql_sink_t *sink, sql_error_t *err)
{
    bool report = false;
    const char *canon = NULL;
    if (a->set.kind == AST_SET_RESET_ALL) {
        if (s->in_block || s->implicit)
            guc_txn_begin(s->guc);    /* a rollback undoes RESET ALL too, as in PostgreSQL */
        return guc_reset_all(s->guc, sink->param_status, sink->ctx, err);
    }
    if (a->set.kind == AST_SET_TXN) {
        if (a->set.iso == AST_ISO_SERIALIZABLE) {
            sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "SERIALIZABLE isolation is not supported");
            sql_error_hint(err, "Use REPEATABLE READ (snapshot isolation).");
            return -1;
        }
        const char *v = a->set.iso == AST_ISO_REPEATABLE_READ ? "repeatable read" : "read committed";
        if (!strcmp(a->set.name, "default_transaction_isolation"))
            return guc_set(s->guc, a->set.name, v, false, &report, NULL, err);
        if (s->in_block)
            s->iso = a->set.iso == AST_ISO_REPEATABLE_READ ? TXN_ISO_REPEATABLE_READ : TXN_ISO_READ_COMMITTED;
        else
            notice_msg(sink, "WARNING", "25P01", "SET TRANSACTION can only be used in transaction blocks");
        return 0;
    }
    char buf[LIMIT_SQL_GUC_VALUE_BYTES];
    const char *value = NULL;
    if (a->set.kind == AST_SET_VALUE) {
        size_t len = 0;
        buf[0] = 0;
        for (int i = 0; i < a->set.nvalues; i++) {
            size_t n = strlen(a->set.values[i]);
            if (len + n + 3 >= sizeof buf)
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "value for parameter \"%s\" is too long", a->set.name);
            if (i) {
                memcpy(buf + len, ", ", 2);
                len += 2;
            }
            memcpy(buf + len, a->set.values[i], n);
            len += n;
            buf[len] = 0;
        }
        value = buf;
    }
    if (!strcasecmp(a->set.name, "transaction_isolation") && value) {
        if (!strcasecmp(value, "serializable"))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "SERIALIZABLE isolation is not supported");
        if (s->in_block)
            s->iso = !strcasecmp(value, "repeatable read") ? TXN_ISO_REPEATABLE_READ : TXN_ISO_READ_COMMITTED;
        return 0;
    }
    if (a->set.is_local && !s->in_block && !s->implicit) {
        notice_msg(sink, "WARNING", "25P01", "SET LOCAL can only be used in transaction blocks");
        return 0;
    }
    if (s->in_block || s->implicit)
        guc_txn_begin(s->guc);      /* a rollback undoes this SET, as in PostgreSQL */
    if (guc_set(s->guc, a->set.name, value, a->set.is_local, &report, &canon, err) < 0)
        return -1;
    if (report && sink->param_status) {
        const char *v;
        guc_get(s->guc, canon, false, &v, NULL, err);
        sink->param_status(sink->ctx, canon, v);
    }
    return 0;
}

/* A private transaction context for DDL that rewrites data (ALTER TABLE). */
/* DROP INDEX over both kinds: plain indexes (exec_dml.c) and HNSW ones (vindex_ddl.c).
 * Every name is checked first, so a missing one (without IF EXISTS) drops nothing. */
static int drop_any_indexes(exec_ctx_t *c, const ast_t *a, void *sink, sql_error_t *err)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < a->drop.n; i++) {
            ast_t one = *a;
            one.drop.n = 1;
            one.drop.tables = (ast_t **)&a->drop.tables[i];
            const char *name = a->drop.tables[i]->rangevar.name;
            bool plain = catalog_index_by_name(c->catalog, CAT_NS_PUBLIC, name, NULL) != NULL;
            if (pass == 0) {
                /* vindex_drop reports a name that is no index at all (or a table, or a
                 * primary key) and changes nothing then */
                bool known = plain || (a->drop.if_exists && !catalog_relation_exists(c->catalog, CAT_NS_PUBLIC, name));
                for (int k = 0; !known && k < c->catalog->ntables; k++)
                    for (int j = 0; j < c->catalog->tables[k]->nvindexes; j++)
                        known |= !strcmp(c->catalog->tables[k]->vindexes[j].name, name);
                if (!known && vindex_drop(c, &one, NULL, NULL, err) < 0)
                    return -1;
                continue;
            }
            int rc = plain ? exec_drop_indexes(c, &one, ddl_notice, sink, err)
                           : vindex_drop(c, &one, ddl_notice, sink, err);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

static int run_ddl(sql_session_t *s, portal_t *p, sql_sink_t *sink, const char **tag, sql_error_t *err)
{
    const ast_t *a = p->prep->ast;
    if (s->nsps) {
        /* DDL is not transactional here: ROLLBACK TO could not undo it */
        sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "DDL inside a savepoint is not supported");
        sql_error_detail(err, "NextDB applies DDL at once, outside the transaction, so ROLLBACK TO SAVEPOINT "
                              "could not undo it.");
        sql_error_hint(err, "Release the savepoints (RELEASE SAVEPOINT) or run the DDL outside the transaction block.");
        return -1;
    }
    exec_ctx_t c;
    memset(&c, 0, sizeof c);
    txn_ctx_t tc;
    memset(&tc, 0, sizeof tc);
    tc.txn_id = txn_new_id();
    tc.snap_ts = hlc_now();
    snapreg_hold_t hold = {0};
    snapreg_hold(&hold, tc.snap_ts);    /* CREATE INDEX and ALTER scan the table at it */
    c.arena = &p->arena;
    c.txn = &tc;
    c.catalog = catalog_current();
    c.cancel = &s->cancel;
    c.ex.arena = &p->arena;
    builtin_ctx_t bc = {.stmt_ts = time_now_ts(), .txn_ts = time_now_ts(), .user = s->user,
                        .database = s->database, .arena = &p->arena, .catalog = c.catalog, .backend_pid = s->pid,
                        .seqs = s->seqs, .tz = session_tz(s)};   /* seqs: ADD COLUMN ... SERIAL's nextval */
    c.ex.bctx = &bc;
    int rc;
    /* An index build locks every row in transactions of its own (an hnsw build waits
     * for the table's writers, vindex.c "the build gap"): rows this session's open
     * block wrote or locked would make it wait for the block forever. */
    bool holds = false;
    for (size_t i = 0; i < sizeof s->txn.touched / sizeof s->txn.touched[0]; i++)
        holds |= s->txn.touched[i] != 0;
    if (s->in_block && holds && (a->kind == AST_ALTER_ADD_PK || exec_alter_rewrites(a) ||
                                 a->kind == AST_CREATE_INDEX)) {
        snapreg_release(&hold);     /* it lives on this stack frame: leaving it linked corrupts the list */
        catalog_unref(c.catalog);
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "%s in a transaction block that has written or "
                         "locked rows is not supported", a->kind == AST_CREATE_INDEX ? "CREATE INDEX" : "ALTER TABLE");
    }
    switch (a->kind) {
    case AST_CREATE_TABLE: *tag = "CREATE TABLE"; rc = exec_create_table(&c, a, ddl_notice, sink, err); break;
    case AST_DROP_TABLE: *tag = "DROP TABLE"; rc = exec_drop_tables(&c, a, ddl_notice, sink, err); break;
    case AST_CREATE_SEQ: *tag = "CREATE SEQUENCE"; rc = seq_exec_create(&c, a, ddl_notice, sink, err); break;
    case AST_DROP_SEQ: *tag = "DROP SEQUENCE"; rc = seq_exec_drop(&c, a, ddl_notice, sink, err); break;
    case AST_CREATE_INDEX:
        *tag = "CREATE INDEX";
        rc = !strcmp(a->create_index.method, "hnsw") ? vindex_create(&c, a, ddl_notice, sink, err)
                                                     : exec_create_index(&c, a, ddl_notice, sink, err);
        break;
    case AST_DROP_INDEX: *tag = "DROP INDEX"; rc = drop_any_indexes(&c, a, sink, err); break;
    case AST_TRUNCATE: *tag = "TRUNCATE TABLE"; rc = exec_truncate(&c, a, err); break;
    case AST_ALTER_ADD_PK: *tag = "ALTER TABLE"; rc = exec_alter_pk(&c, a, err); break;
    case AST_ALTER_TABLE: *tag = "ALTER TABLE"; rc = exec_alter_table(&c, a, ddl_notice, sink, err); break;
    case AST_CREATE_VIEW: *tag = "CREATE VIEW"; rc = exec_create_view(&c, a, err); break;
    case AST_DROP_VIEW: *tag = "DROP VIEW"; rc = exec_drop_views(&c, a, ddl_notice, sink, err); break;
    default: rc = sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "this statement is not supported"); break;
    }
    snapreg_release(&hold);
    catalog_unref(c.catalog);
    return rc;
}

/* ---- SQL-level PREPARE / EXECUTE / DEALLOCATE ----
 * They share the session's prepared-statement list with the protocol's Parse, as in
 * PostgreSQL: a statement made by PREPARE can be bound by name, and EXECUTE runs a
 * statement made by Parse. */

/* Resolves a PREPARE parameter type name (42704 if unknown). */
static int prep_param_type(const ast_typename_t *t, type_oid_t *oid, sql_error_t *err)
{
    const type_info_t *ti = type_lookup_name(t->name);
    if (!ti)
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s\" does not exist", t->name);
    if (t->is_array && !ti->array_oid)
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s[]\" does not exist", t->name);
    *oid = t->is_array ? ti->array_oid : ti->oid;
    return 0;
}

/* PREPARE: re-parses the statement text into a new prepared statement's own arena
 * (the running one's AST dies with its statement), binds it and publishes it under
 * its name. 42P05 if the name is taken. */
static int run_prepare(sql_session_t *s, portal_t *outer, sql_error_t *err)
{
    const char *name = outer->prep->ast->prepare.name;
    if (prep_find(s, name))
        return sql_error(err, SQLSTATE_DUPLICATE_PSTATEMENT, "prepared statement \"%s\" already exists", name);
    const char *text = outer->prep->text;
    prep_t *p = prep_new(name, text, strlen(text), err);
    if (!p)
        return -1;
    parse_stmt_t *st;
    int n;
    if (parse_sql(&p->arena, text, strlen(text), &st, &n, err) < 0)
        goto fail;
    ASSERT(n == 1 && st[0].ast->kind == AST_PREPARE);
    const ast_t *a = st[0].ast;
    p->ast = a->prepare.stmt;
    p->decl_nparams = a->prepare.ntypes;
    p->decl_types = arena_alloc(&p->arena, (size_t)(a->prepare.ntypes + 1) * sizeof(type_oid_t));
    if (!p->decl_types) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    for (int i = 0; i < a->prepare.ntypes; i++)
        if (prep_param_type(&a->prepare.types[i], &p->decl_types[i], err) < 0)
            goto fail;
    const catalog_t *cat = catalog_current();
    int rc = prep_bind(s, p, cat, err);
    catalog_unref(cat);
    if (rc < 0)
        goto fail;
    p->next = s->preps;
    s->preps = p;
    return 0;
fail:
    p->closed = true;
    prep_release(p);
    return -1;
}

/* ---- cursors: DECLARE / FETCH / CLOSE ----
 * A cursor is a named portal of the session (the protocol's Bind makes the same kind)
 * whose query starts at DECLARE: its snapshot (held in the snapshot registry) and
 * its operator tree live until the query ends or the cursor closes, and FETCH runs
 * it on with a row limit, as Execute does. Forward-only and WITHOUT HOLD, so every
 * cursor closes at transaction end (txn_end); SCROLL, WITH HOLD, BINARY, MOVE and
 * backward fetches are refused with 0A000 by the parser. */

static void cursors_close_all(sql_session_t *s)
{
    for (portal_t **pp = &s->portals; *pp;) {
        portal_t *p = *pp;
        if (p->is_cursor)
            portal_drop(s, p);
        else
            pp = &p->next;
    }
}

static int run_close_cursor(sql_session_t *s, const char *name, sql_error_t *err)
{
    if (!name) {
        cursors_close_all(s);
        return 0;
    }
    portal_t *p = portal_find(s, name);
    if (!p || !p->is_cursor)
        return sql_error(err, SQLSTATE_INVALID_CURSOR, "cursor \"%s\" does not exist", name);
    portal_drop(s, p);
    return 0;
}

/* DECLARE: the query is parsed again into the cursor's own prepared statement (the
 * DECLARE's AST dies with its statement), bound, and started. */
static int run_declare(sql_session_t *s, portal_t *outer, sql_error_t *err)
{
    const char *name = outer->prep->ast->cursor.name;
    if (!s->in_block)
        return sql_error(err, "25P01", "DECLARE CURSOR can only be used in transaction blocks");
    if (portal_find(s, name))
        return sql_error(err, "42P03", "cursor \"%s\" already exists", name);
    const char *text = outer->prep->text;
    prep_t *cp = prep_new(name, text, strlen(text), err);
    if (!cp)
        return -1;
    cp->closed = true;    /* not in s->preps: freed with its portal */
    parse_stmt_t *st;
    int n;
    if (parse_sql(&cp->arena, text, strlen(text), &st, &n, err) < 0) {
        prep_release(cp);
        return -1;
    }
    ASSERT(n == 1 && st[0].ast->kind == AST_DECLARE_CURSOR);
    cp->ast = st[0].ast->cursor.stmt;
    portal_t *p = portal_new(name, cp, err);
    if (!p) {
        prep_release(cp);
        return -1;
    }
    p->is_cursor = true;
    p->next = s->portals;
    s->portals = p;
    p->started = true;
    if (portal_setup(s, p, err) < 0 || !(p->op = exec_build(&p->ctx, p->prep->bs->plan, err))) {
        portal_drop(s, p);
        return -1;
    }
    return 0;
}

/* FETCH's rows go to the client; the cursor's own completion tag does not. */
typedef struct fetch_sink {
    sql_sink_t *out;
    int64_t rows;
} fetch_sink_t;

static int fetch_row(void *ctx, int ncols, const datum_t *vals, const bool *nulls)
{
    fetch_sink_t *f = ctx;
    f->rows++;
    return f->out->row ? f->out->row(f->out->ctx, ncols, vals, nulls) : 0;
}

static int fetch_complete(void *ctx, const char *tag)
{
    (void)ctx;
    (void)tag;
    return 0;
}

static int run_fetch(sql_session_t *s, portal_t *outer, sql_sink_t *sink, bool describe, sql_error_t *err)
{
    const ast_t *a = outer->prep->ast;
    portal_t *p = portal_find(s, a->cursor.name);
    if (!p || !p->is_cursor)
        return sql_error(err, SQLSTATE_INVALID_CURSOR, "cursor \"%s\" does not exist", a->cursor.name);
    const bound_stmt_t *bs = p->prep->bs;
    if (describe && sink->describe)
        sink->describe(sink->ctx, bs->nvisible, bs->cols);
    fetch_sink_t f = {sink, 0};
    sql_sink_t w = *sink;
    w.ctx = &f;
    w.describe = NULL;
    w.row = fetch_row;
    w.complete = fetch_complete;
    w.empty = NULL;
    w.notice = NULL;
    w.param_status = NULL;
    w.copy_in = NULL;
    if (portal_run(s, p, a->cursor.all ? 0 : a->cursor.count, &w, false, err) < 0)
        return -1;
    char tag[48];
    snprintf(tag, sizeof tag, "FETCH %lld", (long long)f.rows);
    if (sink->complete)
        sink->complete(sink->ctx, tag);
    return 0;
}

/* DEALLOCATE name (26000 if unknown) or ALL (name NULL). */
static int run_deallocate(sql_session_t *s, const char *name, sql_error_t *err)
{
    if (!name) {
        while (s->preps)
            prep_unlink(s, s->preps);
        return 0;
    }
    prep_t *p = prep_find(s, name);
    if (!p)
        return sql_error(err, SQLSTATE_UNDEFINED_PSTATEMENT, "prepared statement \"%s\" does not exist", name);
    prep_unlink(s, p);
    return 0;
}

/* The bound statement an EXECUTE names, re-bound if the catalog moved; NULL + 26000. */
static prep_t *execute_target(sql_session_t *s, const ast_t *a, sql_error_t *err)
{
    prep_t *t = prep_find(s, a->execute.name);
    if (!t) {
        sql_error(err, SQLSTATE_UNDEFINED_PSTATEMENT, "prepared statement \"%s\" does not exist", a->execute.name);
        return NULL;
    }
    const catalog_t *cat = catalog_current();
    int rc = prep_bind(s, t, cat, err);
    catalog_unref(cat);
    return rc < 0 ? NULL : t;
}

/* Frees a portal that was never linked into the session's list. */
static void portal_free_unlinked(portal_t *p)
{
    portal_stop(p);
    if (p->prep) {
        p->prep->refs--;
        prep_release(p->prep);
    }
    arena_destroy(&p->arena);
    rt_free(p->name);
    rt_free(p);
}

/* Evaluates EXECUTE's argument expressions, each cast to its parameter's type, as
 * one "SELECT CAST(arg AS type), ..." in the running transaction, and stores the
 * values in the target portal's arena. The outer portal's own parameters stay
 * visible, so EXECUTE via Bind may pass $n through. */
static int execute_args(sql_session_t *s, portal_t *outer, portal_t *ip, const bound_stmt_t *bs, sql_error_t *err)
{
    const ast_list_t *args = &outer->prep->ast->execute.args;
    int n = args->n;
    ip->nparams = n;
    ip->params = arena_alloc(&ip->arena, (size_t)(n + 1) * sizeof(datum_t));
    ip->pnulls = arena_alloc(&ip->arena, (size_t)(n + 1));
    ast_t *sel = arena_alloc(&ip->arena, sizeof *sel);
    ast_t *casts = arena_alloc(&ip->arena, (size_t)(n + 1) * sizeof(ast_t));
    ast_target_t *tg = arena_alloc(&ip->arena, (size_t)(n + 1) * sizeof(ast_target_t));
    if (!ip->params || !ip->pnulls || !sel || !casts || !tg)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (n == 0)
        return 0;
    memset(sel, 0, sizeof *sel);
    memset(casts, 0, (size_t)n * sizeof(ast_t));
    for (int i = 0; i < n; i++) {
        const type_info_t *ti = type_lookup(bs->param_types[i]);
        const type_info_t *el = ti && ti->elem_oid ? type_lookup(ti->elem_oid) : NULL;
        if (!ti)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "parameter %d has an unsupported type", i + 1);
        casts[i].kind = AST_CAST;
        casts[i].location = args->items[i]->location;
        casts[i].cast.arg = args->items[i];
        casts[i].cast.type.name = el ? el->name : ti->name;
        casts[i].cast.type.is_array = el != NULL;
        tg[i] = (ast_target_t){"?column?", &casts[i], -1};
    }
    sel->kind = AST_SELECT;
    sel->location = -1;
    sel->select.ntargets = n;
    sel->select.targets = tg;
    const char *text = outer->prep->text;
    prep_t *ep = prep_new("", text, strlen(text), err);
    if (!ep)
        return -1;
    ep->ast = sel;
    ep->closed = true;           /* freed with the portal below */
    if (outer->prep->bs) {
        ep->decl_nparams = outer->prep->bs->nparams;
        ep->decl_types = outer->prep->bs->param_types;
    }
    portal_t *ap = portal_new("", ep, err);
    if (!ap) {
        prep_release(ep);
        return -1;
    }
    ap->nparams = outer->nparams;
    ap->params = outer->params;
    ap->pnulls = outer->pnulls;
    int rc = -1;
    batch_t *b;
    if (portal_setup(s, ap, err) < 0)
        goto done;
    if (!(ap->op = exec_build(&ap->ctx, ep->bs->plan, err)))
        goto done;
    int r = ap->op->next(ap->op, &b, err);
    if (r < 0)
        goto done;
    ASSERT(r > 0 && b->nrows == 1);
    for (int i = 0; i < n; i++) {
        ip->params[i] = b->vals[i][0];
        ip->pnulls[i] = b->nulls[i][0];
        if (!ip->pnulls[i] && exec_copy_datum(&ip->arena, bs->param_types[i], &ip->params[i]) < 0) {
            sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    portal_free_unlinked(ap);
    return rc;
}

/* EXECUTE name [(args)]: runs the named statement to completion through the sink;
 * the command tag is the statement's own ("SELECT 3", "INSERT 0 1"). */
static int run_execute(sql_session_t *s, portal_t *outer, sql_sink_t *sink, bool describe, sql_error_t *err)
{
    const ast_t *a = outer->prep->ast;
    prep_t *t = execute_target(s, a, err);
    if (!t)
        return -1;
    const bound_stmt_t *bs = t->bs;
    if (a->execute.args.n != bs->nparams) {
        sql_error(err, SQLSTATE_SYNTAX_ERROR, "wrong number of parameters for prepared statement \"%s\"",
                  a->execute.name);
        sql_error_detail(err, "Expected %d parameters but got %d.", bs->nparams, a->execute.args.n);
        return -1;
    }
    if (t->ast->kind == AST_EXECUTE)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "EXECUTE of an EXECUTE is not supported");
    portal_t *ip = portal_new("", t, err);
    if (!ip)
        return -1;
    int rc = execute_args(s, outer, ip, bs, err);
    if (rc == 0)
        rc = portal_run(s, ip, 0, sink, describe, err);
    portal_free_unlinked(ip);
    return rc < 0 ? -1 : 0;
}

static int run_utility(sql_session_t *s, portal_t *p, sql_sink_t *sink, const char **tag, sql_error_t *err)
{
    const ast_t *a = p->prep->ast;
    switch (a->kind) {
    case AST_TXN:
        return run_txn_stmt(s, a, sink, tag, err);
    case AST_SET:
        *tag = a->set.is_reset ? "RESET" : "SET";
        return run_set(s, a, sink, err);
    case AST_SHOW:
        *tag = "SHOW";
        return show_rows(s, p, sink, true, err);
    case AST_VACUUM:
        /* NextDB needs no VACUUM: compaction drops dead versions */
        *tag = a->show.name ? a->show.name : "VACUUM";
        if (!**tag) {
            *tag = NULL;
            if (sink->empty)
                sink->empty(sink->ctx);
        }
        return 0;
    case AST_DISCARD:
        *tag = "DISCARD ALL";
        if (s->in_block)
            return sql_error(err, SQLSTATE_INVALID_TXN_STATE, "DISCARD ALL cannot run inside a transaction block");
        if (guc_reset_all(s->guc, sink->param_status, sink->ctx, err) < 0)
            return -1;
        while (s->portals)
            portal_drop(s, s->portals);
        while (s->preps)
            prep_unlink(s, s->preps);
        return 0;
    case AST_PREPARE:
        *tag = "PREPARE";
        return run_prepare(s, p, err);
    case AST_DEALLOCATE:
        *tag = a->execute.name ? "DEALLOCATE" : "DEALLOCATE ALL";
        return run_deallocate(s, a->execute.name, err);
    case AST_DECLARE_CURSOR:
        *tag = "DECLARE CURSOR";
        return run_declare(s, p, err);
    case AST_CLOSE_CURSOR:
        *tag = a->cursor.name ? "CLOSE CURSOR" : "CLOSE CURSOR ALL";
        return run_close_cursor(s, a->cursor.name, err);
    case AST_CREATE_EXTENSION:
        *tag = "CREATE EXTENSION";
        if (strcmp(a->show.name, "vector") != 0 && strcmp(a->show.name, "plpgsql") != 0)
            return sql_error(err, "58P01", "extension \"%s\" is not available", a->show.name);
        return 0;
    default:
        return run_ddl(s, p, sink, tag, err);
    }
}

/* After a statement: autocommit commit/abort, or mark the block failed. */
static int stmt_finish(sql_session_t *s, int rc, bool is_txn_stmt, sql_error_t *err)
{
    if (rc < 0) {
        txn_note_error(s, err);
        if (s->in_block || s->implicit) {
            if (s->in_block)
                txn_fail(s, err);
            else {
                txn_end(s, false, err);
                s->implicit = false;
            }
        } else if (s->txn_active) {
            sql_error_t e2 = {0};
            txn_end(s, false, &e2);
        }
        return -1;
    }
    if (!is_txn_stmt && !s->in_block && !s->implicit && s->txn_active) {
        txn_end(s, true, err);
        if (sql_error_is_set(err))
            return -1;
    }
    return 0;
}

static bool allowed_when_failed(const ast_t *a)
{
    return a->kind == AST_TXN && (a->txn.kind == AST_TXN_COMMIT || a->txn.kind == AST_TXN_ROLLBACK ||
                                  a->txn.kind == AST_TXN_ROLLBACK_TO);
}

static int failed_error(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_IN_FAILED_TXN,
                     "current transaction is aborted, commands ignored until end of transaction block");
}

/* Looks up or fills the simple-protocol plan cache for one-statement strings. */
static prep_t *cache_lookup(sql_session_t *s, const char *sql, size_t len)
{
    for (int i = 0; i < LIMIT_SQL_PLAN_CACHE; i++) {
        prep_t *p = s->cache[i];
        if (p && strlen(p->text) == len && !memcmp(p->text, sql, len))
            return p;
    }
    return NULL;
}

static void cache_insert(sql_session_t *s, prep_t *p)
{
    prep_t *old = s->cache[s->cache_next];
    if (old) {
        old->closed = true;
        prep_release(old);
    }
    p->closed = false;
    s->cache[s->cache_next] = p;
    s->cache_next = (s->cache_next + 1) % LIMIT_SQL_PLAN_CACHE;
}

static bool cacheable(const ast_t *a)
{
    return a->kind == AST_SELECT || a->kind == AST_INSERT || a->kind == AST_UPDATE || a->kind == AST_DELETE;
}

static int exec_one(sql_session_t *s, prep_t *prep, sql_sink_t *sink, sql_error_t *err)
{
    const ast_t *a = prep->ast;
    if (s->failed && !allowed_when_failed(a))
        return failed_error(err);
    portal_t *p = portal_new("", prep, err);
    if (!p)
        return -1;
    sql_sink_t *saved = g_param_sink;
    g_param_sink = sink;
    int rc = portal_run(s, p, 0, sink, true, err);
    g_param_sink = saved;
    portal_stop(p);
    prep->refs--;
    p->prep = NULL;
    arena_destroy(&p->arena);
    rt_free(p->name);
    rt_free(p);
    return stmt_finish(s, rc < 0 ? -1 : 0, a->kind == AST_TXN, err);
}

/* A cached statement with the same shape as sql (only literals differ), or NULL. */
static prep_t *shape_lookup(sql_session_t *s, const char *key, size_t key_len)
{
    for (int i = 0; i < LIMIT_SQL_PLAN_CACHE; i++) {
        prep_t *p = s->cache[i];
        if (p && p->shape_key && p->shape_key_len == key_len && !memcmp(p->shape_key, key, key_len))
            return p;
    }
    return NULL;
}

static void cache_remove(sql_session_t *s, prep_t *p)
{
    for (int i = 0; i < LIMIT_SQL_PLAN_CACHE; i++)
        if (s->cache[i] == p)
            s->cache[i] = NULL;
    p->closed = true;
    prep_release(p);
}

/* Records p's shape when every literal of its text became one constant node. */
static void shape_remember(prep_t *p, const parse_stmt_t *st, const strbuf_t *key, const shape_lit_t *lits,
                           int nlits)
{
    ast_t **slots = arena_alloc(&p->arena, (size_t)nlits * sizeof *slots);
    shape_lit_t *l0 = arena_memdup(&p->arena, lits, (size_t)nlits * sizeof *lits);
    char *k = arena_memdup(&p->arena, key->data, key->len);
    if (!slots || !l0 || !k || !shape_bind(st->consts, st->nconsts, lits, nlits, slots))
        return;
    p->slots = slots;
    p->lits0 = l0;
    p->nslots = nlits;
    p->shape_key = k;
    p->shape_key_len = key->len;
    p->shape_base_bytes = p->arena.used_bytes;
}

/* Runs sql through cached statement t of the same shape: its constant nodes get
 * sql's literals and it is bound again (binding depends on the values: types of
 * integer literals, folding, ordinals). 1 = t was worn out and evicted (parse). */
static int shape_exec(sql_session_t *s, prep_t *t, const char *sql, size_t len, const shape_lit_t *lits,
                      sql_sink_t *sink, sql_error_t *err)
{
    if (t->arena.used_bytes > t->shape_base_bytes + LIMIT_SQL_SHAPE_GROWTH_BYTES) {
        cache_remove(s, t);
        return 1;
    }
    char *text = rt_malloc(len + 1);
    if (!text)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memcpy(text, sql, len);
    text[len] = 0;
    if (shape_apply(t->slots, t->nslots, text, lits, &t->arena) < 0) {
        rt_free(text);
        cache_remove(s, t);
        return 1;
    }
    rt_free(t->text);
    t->text = text;
    t->bs = NULL;
    t->refs++;
    int rc = exec_one(s, t, sink, err);
    t->refs--;
    /* node locations are offsets in the text first parsed */
    if (rc < 0 && err->position > 0)
        err->position = shape_map_position(err->position, t->lits0, lits, t->nslots);
    return rc;
}

static int exec_simple(sql_session_t *s, const char *sql, size_t len, sql_sink_t *sink, sql_error_t *err);

int sql_exec_simple(sql_session_t *s, const char *sql, size_t len, sql_sink_t *sink, sql_error_t *err)
{
    act_begin(s, sql, len);
    int rc = exec_simple(s, sql, len, sink, err);
    act_end(s);
    return rc;
}

static int exec_simple(sql_session_t *s, const char *sql, size_t len, sql_sink_t *sink, sql_error_t *err)
{
    session_tz(s);
    prep_t *cached = cache_lookup(s, sql, len);
    if (cached) {
        cached->refs++;
        int rc = exec_one(s, cached, sink, err);
        cached->refs--;
        return rc;
    }
    strbuf_t key;
    strbuf_init(&key);
    shape_lit_t lits[SHAPE_LITERALS_MAX];
    int nlits = len <= LIMIT_SQL_SHAPE_TEXT_BYTES ? shape_scan(sql, len, &key, lits) : -1;
    if (key.oom)
        nlits = -1;
    if (nlits > 0) {
        prep_t *t = shape_lookup(s, key.data, key.len);
        if (t && t->refs == 0) {
            int rc = shape_exec(s, t, sql, len, lits, sink, err);
            if (rc != 1) {
                strbuf_free(&key);
                return rc;
            }
        }
    }
    arena_t pa;
    arena_init(&pa, LIMIT_SQL_STMT_ARENA_BYTES);
    parse_stmt_t *stmts;
    int n;
    int rc = 0;
    if (parse_sql(&pa, sql, len, &stmts, &n, err) < 0) {
        strbuf_free(&key);
        if (s->in_block)
            txn_fail(s, err);
        arena_destroy(&pa);
        return -1;
    }
    if (n == 0) {
        strbuf_free(&key);
        if (sink->empty)
            sink->empty(sink->ctx);
        arena_destroy(&pa);
        return 0;
    }
    if (n == 1 && cacheable(stmts[0].ast)) {
        /* the parse tree moves, with its arena, into the cached statement */
        prep_t *p = prep_new("", sql, len, err);
        if (!p) {
            strbuf_free(&key);
            arena_destroy(&pa);
            return -1;
        }
        arena_destroy(&p->arena);
        p->arena = pa;
        p->ast = stmts[0].ast;
        if (nlits > 0)
            shape_remember(p, &stmts[0], &key, lits, nlits);
        strbuf_free(&key);
        cache_insert(s, p);
        p->refs++;
        rc = exec_one(s, p, sink, err);
        p->refs--;
        if (rc < 0 && p->bs == NULL)
            cache_remove(s, p);    /* a statement that fails to bind is not worth caching */
        return rc;
    }
    strbuf_free(&key);
    if (n > 1 && !s->in_block)
        s->implicit = true;
    for (int i = 0; i < n && rc == 0; i++) {
        const parse_stmt_t *ps = &stmts[i];
        size_t slen = ps->len ? (size_t)ps->len : len - (size_t)ps->location;
        prep_t *p = prep_new("", sql + ps->location, slen, err);
        if (!p) {
            rc = -1;
            break;
        }
        p->ast = ps->ast;
        p->refs++;
        /* AST locations are offsets in the whole string: error positions need no shift */
        rc = exec_one(s, p, sink, err);
        p->refs--;
        p->closed = true;
        prep_release(p);
        if (n > 1 && !s->in_block && !s->implicit && i + 1 < n && rc == 0)
            s->implicit = true;    /* after COMMIT inside the string: a new implicit block */
    }
    if (s->implicit && !s->in_block && !s->txn_active)
        guc_txn_end(s->guc, rc == 0);      /* only SETs ran in the implicit transaction */
    if (s->implicit) {
        s->implicit = false;
        if (rc == 0 && s->txn_active && !s->in_block) {
            txn_end(s, true, err);
            if (sql_error_is_set(err))
                rc = -1;
        } else if (rc < 0 && s->txn_active && !s->in_block) {
            sql_error_t e2 = {0};
            txn_end(s, false, &e2);
        }
    }
    arena_destroy(&pa);
    return rc;
}

/* ---- extended protocol ---- */

int sql_prepare(sql_session_t *s, const char *name, const char *sql, size_t len, int nparams,
                const type_oid_t *param_types, sql_error_t *err)
{
    prep_t *old = prep_find(s, name);
    if (old && name[0])
        return sql_error(err, SQLSTATE_DUPLICATE_PSTATEMENT, "prepared statement \"%s\" already exists", name);
    if (old)
        prep_unlink(s, old);
    prep_t *p = prep_new(name, sql, len, err);
    if (!p)
        return -1;
    parse_stmt_t *st;
    int n;
    if (parse_sql(&p->arena, sql, len, &st, &n, err) < 0)
        goto fail;
    if (n > 1) {
        sql_error(err, SQLSTATE_SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement");
        goto fail;
    }
    if (n == 0) {
        /* empty query: a SELECT-less no-op statement */
        ast_t *noop = arena_alloc(&p->arena, sizeof *noop);
        if (!noop)
            goto fail;
        memset(noop, 0, sizeof *noop);
        noop->kind = AST_VACUUM;
        noop->show.name = "";          /* empty query: EmptyQueryResponse */
        p->ast = noop;
    } else {
        p->ast = st[0].ast;
    }
    if (s->failed && !allowed_when_failed(p->ast)) {
        /* PostgreSQL parses COMMIT / ROLLBACK in an aborted block and refuses the rest */
        failed_error(err);
        p->closed = true;
        prep_release(p);
        return -1;
    }
    if (nparams > LIMIT_PG_PARAMS) {
        sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many parameters");
        goto fail;
    }
    p->decl_nparams = nparams;
    if (nparams) {
        p->decl_types = arena_alloc(&p->arena, (size_t)nparams * sizeof(type_oid_t));
        if (!p->decl_types)
            goto fail;
        memcpy(p->decl_types, param_types, (size_t)nparams * sizeof(type_oid_t));
    }
    /* bind now so Describe can report parameter types and result columns */
    const catalog_t *cat = catalog_current();
    int rc = prep_bind(s, p, cat, err);
    catalog_unref(cat);
    if (rc < 0)
        goto fail;
    p->next = s->preps;
    s->preps = p;
    return 0;
fail:
    if (!sql_error_is_set(err))
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    p->closed = true;
    prep_release(p);
    if (s->in_block)
        txn_fail(s, err);
    return -1;
}

int sql_describe_statement(sql_session_t *s, const char *name, int *nparams, const type_oid_t **param_types,
                           int *ncols, const sql_coldesc_t **cols, sql_error_t *err)
{
    prep_t *p = prep_find(s, name);
    if (!p)
        return sql_error(err, SQLSTATE_UNDEFINED_PSTATEMENT, "prepared statement \"%s\" does not exist", name);
    const catalog_t *cat = catalog_current();
    int rc = prep_bind(s, p, cat, err);
    catalog_unref(cat);
    if (rc < 0)
        return -1;
    *nparams = p->bs->nparams;
    *param_types = p->bs->param_types;
    *ncols = p->bs->ncols;
    *cols = p->bs->cols;
    if (p->ast->kind == AST_EXECUTE) {
        /* the rows are those of the statement it names */
        prep_t *t = execute_target(s, p->ast, err);
        if (!t)
            return -1;
        *ncols = t->bs->ncols;
        *cols = t->bs->cols;
    }
    return 0;
}

int sql_bind(sql_session_t *s, const char *portal, const char *stmt, int nformats, const int16_t *formats,
             int nvalues, const uint8_t *const *values, const int32_t *lengths, int nresult_formats,
             const int16_t *result_formats, sql_error_t *err)
{
    prep_t *pr = prep_find(s, stmt);
    if (!pr)
        return sql_error(err, SQLSTATE_UNDEFINED_PSTATEMENT, "prepared statement \"%s\" does not exist", stmt);
    if (s->failed && !allowed_when_failed(pr->ast))
        return failed_error(err);
    session_tz(s);
    const catalog_t *cat = catalog_current();
    int brc = prep_bind(s, pr, cat, err);
    catalog_unref(cat);
    if (brc < 0)
        return -1;
    const bound_stmt_t *bs = pr->bs;
    if (nvalues != bs->nparams)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION,
                         "bind message supplies %d parameters, but prepared statement \"%s\" requires %d", nvalues,
                         stmt, bs->nparams);
    if (nformats > 1 && nformats != nvalues)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "bind message has %d parameter formats but %d parameters",
                         nformats, nvalues);
    portal_t *old = portal_find(s, portal);
    if (old) {
        if (portal[0])
            return sql_error(err, "42P03", "cursor \"%s\" already exists", portal);
        portal_drop(s, old);
    }
    portal_t *p = portal_new(portal, pr, err);
    if (!p)
        return -1;
    p->nparams = nvalues;
    p->params = arena_alloc(&p->arena, (size_t)(nvalues + 1) * sizeof(datum_t));
    p->pnulls = arena_alloc(&p->arena, (size_t)(nvalues + 1));
    if (!p->params || !p->pnulls)
        goto oom;
    for (int i = 0; i < nvalues; i++) {
        int fmt = nformats == 0 ? 0 : nformats == 1 ? formats[0] : formats[i];
        p->pnulls[i] = values[i] == NULL;
        if (!values[i])
            continue;
        type_oid_t t = bs->param_types[i];
        session_tz(s);
        int rc = fmt == 1 ? type_recv_binary(t, -1, values[i], (size_t)lengths[i], &p->arena, &p->params[i], err)
                          : type_in_text(t, -1, (const char *)values[i], (size_t)lengths[i], &p->arena, &p->params[i], err);
        if (rc < 0) {
            portal_drop(s, p);
            return -1;
        }
    }
    int nc = bs->ncols > 0 ? bs->ncols : 0;
    p->rformats = arena_alloc(&p->arena, (size_t)(nc + 1) * sizeof(int16_t));
    if (!p->rformats)
        goto oom;
    if (nresult_formats > 1 && nresult_formats != nc) {
        portal_drop(s, p);
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "bind message has %d result formats but query has %d columns",
                         nresult_formats, nc);
    }
    p->rformat_all = nresult_formats == 1 ? result_formats[0] : 0;
    for (int i = 0; i < nc; i++)
        p->rformats[i] = nresult_formats == 0 ? 0 : nresult_formats == 1 ? result_formats[0] : result_formats[i];
    p->next = s->portals;
    s->portals = p;
    return 0;
oom:
    portal_drop(s, p);
    return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
}

int sql_describe_portal(sql_session_t *s, const char *portal, int *ncols, const sql_coldesc_t **cols,
                        const int16_t **formats, sql_error_t *err)
{
    portal_t *p = portal_find(s, portal);
    if (!p)
        return sql_error(err, SQLSTATE_INVALID_CURSOR, "portal \"%s\" does not exist", portal);
    const bound_stmt_t *bs = p->prep->bs;
    if (p->prep->ast->kind == AST_SHOW) {
        static const sql_coldesc_t one = {"setting", 0, 0, TYPE_TEXT, -1, -1};
        static const int16_t text[3] = {0, 0, 0};
        *ncols = bs && bs->ncols > 0 ? bs->ncols : 1;
        *cols = bs && bs->cols ? bs->cols : &one;
        *formats = text;
        return 0;
    }
    *ncols = bs->ncols;
    *cols = bs->cols;
    *formats = p->rformats;
    if (p->prep->ast->kind == AST_EXECUTE) {
        prep_t *t = execute_target(s, p->prep->ast, err);
        if (!t)
            return -1;
        *ncols = t->bs->ncols;
        *cols = t->bs->cols;
        if (t->bs->ncols > 0) {
            /* Bind sized the formats for no columns: all text */
            int16_t *f = arena_alloc(&p->arena, (size_t)t->bs->ncols * sizeof(int16_t));
            if (!f)
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            for (int i = 0; i < t->bs->ncols; i++)
                f[i] = p->rformat_all;
            *formats = f;
        }
    }
    return 0;
}

static int execute(sql_session_t *s, portal_t *p, int64_t max_rows, sql_sink_t *sink, sql_error_t *err);

int sql_execute(sql_session_t *s, const char *portal, int64_t max_rows, sql_sink_t *sink, sql_error_t *err)
{
    portal_t *p = portal_find(s, portal);
    if (!p)
        return sql_error(err, SQLSTATE_INVALID_CURSOR, "portal \"%s\" does not exist", portal);
    const char *text = p->prep->text ? p->prep->text : "";
    act_begin(s, text, strlen(text));
    int rc = execute(s, p, max_rows, sink, err);
    act_end(s);
    return rc;
}

static int execute(sql_session_t *s, portal_t *p, int64_t max_rows, sql_sink_t *sink, sql_error_t *err)
{
    if (s->failed && !allowed_when_failed(p->prep->ast))
        return failed_error(err);
    if (!s->in_block && p->prep->ast->kind != AST_TXN && !p->started) {
        /* Executes up to the next Sync form one implicit transaction, as in PostgreSQL */
        s->implicit = true;
        s->ext_implicit = true;
    }
    sql_sink_t *saved = g_param_sink;
    g_param_sink = sink;
    int rc = portal_run(s, p, max_rows, sink, false, err);
    g_param_sink = saved;
    if (rc == 1)
        return 1;
    bool is_txn = p->prep->ast->kind == AST_TXN;
    portal_stop(p);
    return stmt_finish(s, rc, is_txn, err);
}

int sql_close_statement(sql_session_t *s, const char *name)
{
    prep_t *p = prep_find(s, name);
    if (p)
        prep_unlink(s, p);
    return 0;
}

int sql_close_portal(sql_session_t *s, const char *name)
{
    portal_t *p = portal_find(s, name);
    if (p)
        portal_drop(s, p);
    return 0;
}

int sql_sync(sql_session_t *s, sql_error_t *err)
{
    /* Executes outside a block committed at their end; nothing is pending here. The
     * unnamed portal does not survive a Sync. */
    portal_t *p = portal_find(s, "");
    if (p)
        portal_drop(s, p);
    if (!s->in_block && s->txn_active) {
        txn_end(s, !s->failed, err);
        return sql_error_is_set(err) ? -1 : 0;
    }
    if (!s->in_block)
        guc_txn_end(s->guc, !s->failed);
    s->implicit = false;
    s->ext_implicit = false;
    return 0;
}

int sql_exec_params(sql_session_t *s, const char *sql, size_t len, int nvalues, const char *const *values,
                    sql_sink_t *sink, sql_error_t *err)
{
    if (sql_prepare(s, "", sql, len, 0, NULL, err) < 0)
        return -1;
    int32_t *lens = rt_calloc((size_t)nvalues + 1, sizeof(int32_t));
    if (!lens)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < nvalues; i++)
        lens[i] = values[i] ? (int32_t)strlen(values[i]) : -1;
    int rc = sql_bind(s, "", "", 0, NULL, nvalues, (const uint8_t *const *)values, lens, 0, NULL, err);
    rt_free(lens);
    if (rc == 0) {
        portal_t *p = portal_find(s, "");
        const bound_stmt_t *bs = p->prep->bs;
        if (bs && bs->ncols >= 0 && sink->describe && p->prep->ast->kind != AST_SHOW)
            sink->describe(sink->ctx, bs->nvisible, bs->cols);
        rc = sql_execute(s, "", 0, sink, err);
    }
    sql_error_t e2 = {0};
    sql_sync(s, rc < 0 ? &e2 : err);
    return rc < 0 ? -1 : (sql_error_is_set(err) ? -1 : 0);
}
