/*
 * txn.c -- SQL transactions over the shards' stores; see exec_int.h (txn_*) and the
 * transaction section of sql/README.md.
 *
 * A transaction has a process-unique id (shard id in the top bits, a per-shard
 * counter seeded from the wall clock below), a snapshot timestamp (per statement for
 * READ COMMITTED, per transaction for REPEATABLE READ) and one store_txn_t on each
 * shard it touched, found again by id. Commit stamps one HLC timestamp taken on the
 * coordinator; a transaction that wrote on one shard commits there with one WAL
 * record, one that touched several by one-round two-phase commit (see "commit" below
 * and shards/store.h); the reply waits until the outcome is durable.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "core/snapreg.h"
#include "shards/shard.h"
#include "sql/activity.h"
#include "sql/exec_int.h"
#include "sql/secindex.h"
#include "sql/vindex.h"

static __thread uint64_t txn_counter;

uint64_t txn_new_id(void)
{
    if (txn_counter == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        txn_counter = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    }
    uint64_t shard = (uint64_t)rt_shard_id() & 0xFF;
    return shard << 55 | (txn_counter++ & ((UINT64_C(1) << 55) - 1));
}

store_txn_t *txn_shard_get(const txn_ctx_t *tc, bool create)
{
    store_t *st = shard_store();
    store_txn_t *t = store_txn_find(st, tc->txn_id);
    if (!t && create)
        t = store_txn_begin(st, tc->txn_id);
    if (t)
        store_txn_set_level(t, tc->sp_level);    /* what ROLLBACK TO would undo */
    return t;
}

/* The store's own text for the failure (file and block), when it has one. */
static const char *txn_store_text(void)
{
    store_t *st = shard_store();
    const char *m = st ? store_last_error(st) : "";
    return m && m[0] ? m : NULL;
}

int txn_store_error(int rc, sql_error_t *err)
{
    const char *m;
    if (sql_error_is_set(err))
        return -1;    /* the first error wins, detail and hint included */
    switch (rc) {
    case STORE_ENOMEM:
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    case STORE_EREADONLY:
        sql_error(err, SQLSTATE_IO_ERROR, "could not write to the write-ahead log: storage is read-only after an I/O error");
        sql_error_detail(err, "A WAL or sorted-table write or fsync failed earlier; the shard refuses writes "
                              "from then on rather than pretend the data is safe. Reads still work.");
        sql_error_hint(err, "See the server log for the failed operation, fix the disk, then restart the server.");
        return -1;
    case STORE_ECORRUPT:
        m = txn_store_text();
        if (m)
            sql_error(err, SQLSTATE_DATA_CORRUPTED, "%s", m);
        else
            sql_error(err, SQLSTATE_DATA_CORRUPTED, "storage corruption detected");
        sql_error_hint(err, "Stop the server and run \"nextdb check --data DIR\" to list every damaged file.");
        return -1;
    case STORE_EIO:
        m = txn_store_text();
        if (m)
            return sql_error(err, SQLSTATE_IO_ERROR, "I/O error in storage: %s", m);
        return sql_error(err, SQLSTATE_IO_ERROR, "I/O error in storage");
    default:
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "unexpected storage result %d", rc);
    }
}

/* ---- lock waits and deadlock detection ----
 *
 * A row-lock wait happens on the shard that owns the row, in the fiber running the
 * waiter's fragment. Every such wait is on this shard's list of waits (waiter txn ->
 * blocker txn; a node on the waiting fiber's stack) for as long as it lasts. A waiter
 * sleeps in slices of deadlock_timeout (PostgreSQL's setting, default 1 s); after
 * each slice that did not end the wait it looks for a cycle in the wait-for graph by
 * depth-first search from itself, asking every shard over the rings "whom does txn X
 * wait for here?" (a transaction with fragments on several shards can wait on
 * several at once, so a node can have several out-edges). One search visits at most
 * LIMIT_DEADLOCK_SEARCH_NODES transactions.
 *
 * Every member of a cycle searches, so each would find it: to abort exactly one, a
 * waiter that finds a cycle through itself gives up only if it has the highest id on
 * that cycle; otherwise it keeps waiting. The highest id of a strongly connected set
 * of waiters finds a cycle on which it is the highest, so every deadlock loses
 * exactly one member (40P01) and the rest go on once its locks are released (the
 * session aborts a failed transaction's shard state at once, as PostgreSQL does).
 * A wait that becomes a cycle while a member is between its checks is found at that
 * member's next check, so detection takes at most about two deadlock_timeouts. */

typedef struct txn_wait {
    uint64_t waiter, blocker;
    struct txn_wait *next;
} txn_wait_t;

static __thread txn_wait_t *txn__waits;      /* this shard's current lock waits */
static __thread int64_t txn__waiters_count;  /* entries on txn__waits */
static int txn__m_lock_waits = -1, txn__m_deadlocks = -1, txn__m_lock_timeouts = -1;
static int txn__m_waiters = -1, txn__m_wait_seconds = -1;
static int txn__m_2pc = -1, txn__m_2pc_aborts = -1;

void txn_register_metrics(void)
{
    txn__m_lock_waits = metrics_register("nextdb_lock_waits_total",
                                         "Row-lock waits started (a writer found the row locked).",
                                         METRIC_COUNTER, NULL, 0);
    txn__m_deadlocks = metrics_register("nextdb_deadlocks_total",
                                        "Transactions aborted as deadlock victims (40P01).",
                                        METRIC_COUNTER, NULL, 0);
    txn__m_lock_timeouts = metrics_register("nextdb_lock_timeouts_total",
                                            "Lock waits ended by lock_timeout (55P03).",
                                            METRIC_COUNTER, NULL, 0);
    txn__m_waiters = metrics_register("nextdb_lock_waiters",
                                      "Row-lock waits in progress on this shard.", METRIC_GAUGE, NULL, 0);
    static const double wait_bounds[] = {0.001, 0.01, 0.1, 0.5, 1, 5, 30, 300};
    txn__m_wait_seconds = metrics_register("nextdb_lock_wait_seconds",
                                           "Time row-lock waits took, however they ended (the sum is the "
                                           "total lock wait time).", METRIC_HISTOGRAM, wait_bounds,
                                           (int)(sizeof wait_bounds / sizeof wait_bounds[0]));
    txn__m_2pc = metrics_register("nextdb_txn_2pc_commits_total",
                                  "Transactions that touched several shards, committed by "
                                  "two-phase commit.", METRIC_COUNTER, NULL, 0);
    txn__m_2pc_aborts = metrics_register("nextdb_txn_2pc_aborts_total",
                                         "Two-phase commits aborted after a failed phase one.",
                                         METRIC_COUNTER, NULL, 0);
}

void txn_lock_waiting(const uint64_t *txns, int n, bool *waiting)
{
    for (const txn_wait_t *w = txn__waits; w; w = w->next)
        for (int i = 0; i < n; i++)
            waiting[i] |= txns[i] == w->waiter;
}

/* One shard's answer for one transaction: up to LIMIT_DEADLOCK_EDGES blockers. */
typedef struct wait_query {
    uint64_t txn;
    int n;
    uint64_t blockers[LIMIT_DEADLOCK_EDGES];
} wait_query_t;

static int wait_query_on_shard(void *arg)
{
    wait_query_t *q = arg;
    q->n = 0;
    for (txn_wait_t *w = txn__waits; w && q->n < LIMIT_DEADLOCK_EDGES; w = w->next) {
        if (w->waiter != q->txn)
            continue;
        bool dup = false;
        for (int i = 0; i < q->n; i++)
            dup |= q->blockers[i] == w->blocker;
        if (!dup)
            q->blockers[q->n++] = w->blocker;
    }
    return 0;
}

/* Every transaction txn waits for, over all shards; returns how many went in out. */
static int wait_edges(uint64_t txn, uint64_t *out, int cap)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    wait_query_t *qs = rt_calloc((size_t)n, sizeof *qs);
    if (!qs)
        return 0;    /* no memory: no edges this time; the next check retries */
    for (int i = 0; i < n; i++) {
        shards[i] = i;
        qs[i].txn = txn;
        args[i] = &qs[i];
    }
    rt_call_many(n, shards, wait_query_on_shard, args, rets);
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < qs[i].n && k < cap; j++)
            out[k++] = qs[i].blockers[j];
    rt_free(qs);
    return k;
}

/* Depth-first search from self along wait-for edges: true when a cycle through self
 * exists on which self has the highest id (self is that deadlock's victim). */
static bool deadlock_victim(uint64_t self, uint64_t first_blocker)
{
    struct frame { uint64_t txn, path_max; int next, n; uint64_t edges[LIMIT_DEADLOCK_EDGES]; };
    struct frame *stack = rt_calloc(LIMIT_DEADLOCK_SEARCH_NODES, sizeof *stack);
    uint64_t *seen = rt_calloc(LIMIT_DEADLOCK_SEARCH_NODES, sizeof *seen);
    bool victim = false;
    if (!stack || !seen)
        goto done;
    int depth = 0, nseen = 0;
    stack[0] = (struct frame){.txn = self, .path_max = self, .n = 1};
    stack[0].edges[0] = first_blocker;
    seen[nseen++] = self;
    while (depth >= 0 && !victim) {
        struct frame *f = &stack[depth];
        if (f->next == f->n) {
            depth--;
            continue;
        }
        uint64_t to = f->edges[f->next++];
        if (to == self) {
            victim = f->path_max == self;
            continue;
        }
        bool visited = false;
        for (int i = 0; i < nseen; i++)
            visited |= seen[i] == to;
        if (visited || nseen == LIMIT_DEADLOCK_SEARCH_NODES || depth + 1 == LIMIT_DEADLOCK_SEARCH_NODES)
            continue;
        seen[nseen++] = to;
        struct frame *g = &stack[depth + 1];
        g->txn = to;
        g->path_max = to > f->path_max ? to : f->path_max;
        g->next = 0;
        g->n = wait_edges(to, g->edges, LIMIT_DEADLOCK_EDGES);
        depth++;
    }
done:
    rt_free(stack);
    rt_free(seen);
    return victim;
}

/* Why a wait must end now: 0 (it may go on), or -1 + err for query cancel or
 * statement_timeout (57014). *slice_ms is lowered to the time left before the
 * statement deadline, and to LIMIT_WAIT_POLL_MS when a cancel flag is to be watched. */
static int wait_interrupted(const txn_ctx_t *tc, uint64_t now, uint64_t *slice_ms, sql_error_t *err)
{
    if (tc->cancel && *tc->cancel)
        return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to user request");
    if (tc->deadline_us) {
        if (now >= tc->deadline_us)
            return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to statement timeout");
        uint64_t left = (tc->deadline_us - now) / 1000 + 1;
        if (left < *slice_ms)
            *slice_ms = left;
    }
    if (tc->cancel && *slice_ms > LIMIT_WAIT_POLL_MS)
        *slice_ms = LIMIT_WAIT_POLL_MS;
    return 0;
}

/* Waits for the blocking transaction to end: 0 when it did (the caller retries), -1
 * + err on lock_timeout (55P03), statement_timeout or query cancel (57014) or
 * deadlock (40P01). The deadlock check runs once per deadlock_timeout of waiting;
 * the wait wakes more often only to look at the cancel flag and the timeouts. */
static int wait_blocker(const txn_ctx_t *tc, uint64_t blocker, sql_error_t *err)
{
    uint64_t start = rt_now_us();
    uint64_t check_ms = tc->deadlock_timeout_ms ? tc->deadlock_timeout_ms : LIMIT_DEADLOCK_TIMEOUT_MS;
    uint64_t next_check_us = start + check_ms * 1000;
    txn_wait_t me = {tc->txn_id, blocker, txn__waits};
    txn__waits = &me;
    txn__waiters_count++;
    metrics_add(txn__m_lock_waits, 1);
    metrics_set(txn__m_waiters, txn__waiters_count);
    int rc = 0;
    for (;;) {
        uint64_t now = rt_now_us();
        uint64_t slice = next_check_us > now ? (next_check_us - now) / 1000 + 1 : 1;
        if (tc->lock_timeout_ms) {
            uint64_t waited = (now - start) / 1000;
            if (waited >= tc->lock_timeout_ms) {
                rc = sql_error(err, "55P03", "canceling statement due to lock timeout");
                metrics_add(txn__m_lock_timeouts, 1);
                break;
            }
            if (tc->lock_timeout_ms - waited < slice)
                slice = tc->lock_timeout_ms - waited;
        }
        if ((rc = wait_interrupted(tc, now, &slice, err)) < 0)
            break;
        if (shard_wait_txn(blocker, slice) != -ETIMEDOUT)
            break;    /* the blocker ended: the caller tries again */
        if (rt_now_us() < next_check_us)
            continue; /* the loop head reports a timeout or cancel */
        next_check_us = rt_now_us() + check_ms * 1000;
        if (deadlock_victim(tc->txn_id, blocker)) {
            sql_error(err, SQLSTATE_DEADLOCK, "deadlock detected");
            sql_error_detail(err, "Transaction %llu waits for transaction %llu, which waits (directly or "
                             "through others) for it.", (unsigned long long)tc->txn_id,
                             (unsigned long long)blocker);
            sql_error_hint(err, "See server log for query details.");
            metrics_add(txn__m_deadlocks, 1);
            rc = -1;
            break;
        }
    }
    txn_wait_t **pp = &txn__waits;
    while (*pp != &me)
        pp = &(*pp)->next;
    *pp = me.next;
    txn__waiters_count--;
    metrics_set(txn__m_waiters, txn__waiters_count);
    metrics_observe(txn__m_wait_seconds, (double)(rt_now_us() - start) / 1e6);
    return rc;
}

int txn_lock_latest(const txn_ctx_t *tc, store_txn_t *t, uint32_t table_id, const uint8_t *key,
                    uint32_t klen, store_val_t *val, uint64_t *commit_ts, sql_error_t *err)
{
    for (;;) {
        uint64_t blocker = 0;
        int rc = store_lock_latest(shard_store(), t, table_id, key, klen, val, commit_ts, &blocker);
        if (rc == STORE_OK || rc == STORE_NOTFOUND)
            return rc;
        if (rc != STORE_LOCKED)
            return txn_store_error(rc, err);
        if (wait_blocker(tc, blocker, err) < 0)
            return -1;
    }
}

int txn_write(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
              uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err)
{
    if (catalog_write_gate(table_id, err) < 0)      /* ALTER TABLE rewriting it (exec_alter_type.c) */
        return -1;
    if (secidx_table_indexed(table_id))     /* the row, then its index entries (secindex.c) */
        return secidx_write(tc, t, mode, table_id, key, klen, val, vlen, err);
    return txn_write_raw(tc, t, mode, table_id, key, klen, val, vlen, err);
}

int txn_write_raw(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
                  uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err)
{
    for (;;) {
        uint64_t blocker = 0;
        int rc = store_write(shard_store(), t, mode, table_id, key, klen, val, vlen, &blocker);
        if (rc == STORE_OK)     /* HNSW maintenance */
            vindex_on_write(tc->txn_id, table_id, key, klen, val, vlen, mode == STORE_W_DELETE);
        if (rc == STORE_OK || rc == STORE_EXISTS)
            return rc;
        if (rc != STORE_LOCKED)
            return txn_store_error(rc, err);
        if (wait_blocker(tc, blocker, err) < 0)
            return -1;
    }
}

int txn_shard_commit_local(uint64_t txn_id, uint64_t commit_ts)
{
    store_txn_t *t = store_txn_find(shard_store(), txn_id);
    if (!t)
        return STORE_OK;
    return shard_commit_wait(t, commit_ts);
}

/* ---- commit ----
 *
 * One touched shard: one COMMIT record there (the fast path, as autocommit). Several:
 * the one-round two-phase commit of shards/store.h, the coordinator being the lowest
 * touched shard. Phase one runs on every touched shard at once: each proposes a
 * commit timestamp (above its readers) and logs it with its writes -- STAGED on the
 * coordinator, listing the others, PREPARE elsewhere -- so the fsyncs overlap. When
 * all are durable the transaction is committed (recovery applies the same rule to the
 * WALs) at the highest proposal; phase two makes the writes visible and releases the
 * locks on every shard at once and queues each shard's phase-two record, and the
 * reply goes out; a fiber left behind waits for those records, then releases the
 * phase-one records. A failed phase one aborts everyone. */

enum { REQ_ABORT, REQ_COMMIT, REQ_STAGE, REQ_DECIDED };
typedef struct commit_req {
    uint64_t txn_id, commit_ts;
    int op;
    uint32_t coord;
    const uint32_t *parts;    /* REQ_STAGE on the coordinator: the other shards */
    uint32_t nparts;
    shard_wait_t *handle;     /* REQ_DECIDED: the wait for its record (commit_tail) */
} commit_req_t;

/* A commit timestamp for this shard: at least ts and above every snapshot that already
 * read here (store_commit_floor); the shard's clock moves past it, so the reply (and
 * the session's next snapshot) carries it. */
static uint64_t txn_commit_ts(uint64_t ts)
{
    uint64_t floor = store_commit_floor(shard_store());
    if (ts < floor)
        ts = floor;
    hlc_observe(ts);
    return ts;
}

int txn_read_snap_wait(const txn_ctx_t *tc, uint64_t *snap, sql_error_t *err)
{
    uint64_t s = tc->snap_ts ? tc->snap_ts : hlc_now();
    store_t *st = shard_store();
    uint64_t pending;
    while ((pending = store_pending_other(st, s, tc->txn_id)) != 0) {
        uint64_t slice = LIMIT_WAIT_POLL_MS;
        if (!tc->cancel && !tc->deadline_us)
            slice = 0;    /* nothing can interrupt the wait: sleep until it ends */
        if (wait_interrupted(tc, rt_now_us(), &slice, err) < 0)
            return -1;
        shard_wait_txn(pending, slice);
    }
    store_note_read(st, s);
    *snap = s;
    return 0;
}

static int commit_on_shard(void *arg)
{
    commit_req_t *r = arg;
    store_t *st = shard_store();
    store_txn_t *t = store_txn_find(st, r->txn_id);
    switch (r->op) {
    case REQ_ABORT:
        if (t)
            store_txn_abort(st, t);
        return 0;
    case REQ_STAGE:
        /* Every touched shard votes with a record, even without writes: the rule
         * counts the listed shards' records. */
        if (!t && !(t = store_txn_begin(st, r->txn_id)))
            return STORE_ENOMEM;
        r->commit_ts = txn_commit_ts(r->commit_ts);    /* this shard's proposal */
        return shard_stage_wait(t, r->coord, r->parts, r->nparts, r->commit_ts);
    case REQ_DECIDED: {
        hlc_observe(r->commit_ts);    /* exactly the decided timestamp: never raised here */
        if (!t)
            return STORE_EINVAL;
        int rc = 0;
        r->handle = shard_commit_decided_start(t, r->commit_ts, &rc);
        return rc;
    }
    default:
        return t ? shard_commit_wait(t, txn_commit_ts(r->commit_ts)) : STORE_OK;
    }
}

/* Runs op on the k shards (one request each, copied from proto), results in rets. */
static void on_shards(int k, const int *shards, commit_req_t *reqs, const commit_req_t *proto,
                      int op, int *rets)
{
    void *args[LIMIT_SHARDS_MAX];
    for (int i = 0; i < k; i++) {
        reqs[i] = *proto;
        reqs[i].op = op;
        args[i] = &reqs[i];
    }
    if (k == 1)
        rets[0] = rt_call(shards[0], commit_on_shard, &reqs[0]);
    else if (k > 1)
        rt_call_many(k, shards, commit_on_shard, args, rets);
}

static int release_on_shard(void *arg)
{
    /* A shard closing (its store already gone) keeps nothing to release: recovery
     * reads the phase-one records again. */
    store_t *st = shard_store();
    if (st)
        store_decision_release(st, (uint64_t)(uintptr_t)arg);
    return 0;
}

static int finish_on_shard(void *arg)
{
    return shard_commit_decided_finish(arg);
}

/* The rest of a one-round commit after the reply: waits for every shard's phase-two
 * record, then lets every shard forget its phase-one record. (A shard that could not
 * log its record is read-only now; the records stay for recovery.) */
typedef struct commit_tail {
    uint64_t txn_id;
    int k;
    int shards[LIMIT_SHARDS_MAX];
    void *handles[LIMIT_SHARDS_MAX];
} commit_tail_t;

static void commit_tail(void *arg)
{
    commit_tail_t *c = arg;
    int rets[LIMIT_SHARDS_MAX];
    void *ids[LIMIT_SHARDS_MAX];
    rt_call_many(c->k, c->shards, finish_on_shard, c->handles, rets);
    bool ok = true;
    for (int i = 0; i < c->k; i++) {
        ok &= rets[i] == STORE_OK;
        ids[i] = (void *)(uintptr_t)c->txn_id;
    }
    if (ok)
        rt_call_many(c->k, c->shards, release_on_shard, ids, rets);
    rt_free(c);
}

static int commit_2pc(int k, const int *shards, uint64_t txn_id, int *failed_rc)
{
    int rets[LIMIT_SHARDS_MAX];
    uint32_t parts[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    commit_req_t *reqs = rt_calloc((size_t)k, sizeof *reqs);
    if (!reqs) {
        *failed_rc = STORE_ENOMEM;
        commit_req_t one = {.txn_id = txn_id, .op = REQ_ABORT};
        for (int i = 0; i < k; i++)
            rt_call(shards[i], commit_on_shard, &one);
        return -1;
    }
    uint64_t now = hlc_now();
    for (int i = 0; i < k; i++) {
        reqs[i] = (commit_req_t){.txn_id = txn_id, .commit_ts = now, .op = REQ_STAGE,
                                 .coord = (uint32_t)shards[0]};
        args[i] = &reqs[i];
        if (i > 0)
            parts[i - 1] = (uint32_t)shards[i];
    }
    reqs[0].parts = parts;
    reqs[0].nparts = (uint32_t)(k - 1);
    rt_call_many(k, shards, commit_on_shard, args, rets);
    int rc = 0;
    commit_req_t proto = {.txn_id = txn_id, .coord = (uint32_t)shards[0]};
    for (int i = 0; i < k; i++) {
        if (rets[i] != STORE_OK && !rc)
            rc = rets[i];
        if (reqs[i].commit_ts > proto.commit_ts)
            proto.commit_ts = reqs[i].commit_ts;
    }
    if (rc) {
        /* Not every record is durable: aborted (a shard whose stage failed has already
         * aborted there). */
        on_shards(k, shards, reqs, &proto, REQ_ABORT, rets);
        rt_free(reqs);
        metrics_add(txn__m_2pc_aborts, 1);
        *failed_rc = rc;
        return -1;
    }
    /* Committed. Phase two: visible and unlocked everywhere; the client need not wait
     * for those records (the outcome is durable already), so a fiber of this shard
     * waits for them and then releases the phase-one records. */
    commit_tail_t *tail = rt_calloc(1, sizeof *tail);
    on_shards(k, shards, reqs, &proto, REQ_DECIDED, rets);
    int rc2 = 0;
    for (int i = 0; i < k; i++)
        if (rets[i] != STORE_OK && !rc2)
            rc2 = rets[i];
    if (tail) {
        tail->txn_id = txn_id;
        tail->k = k;
        for (int i = 0; i < k; i++) {
            tail->shards[i] = shards[i];
            tail->handles[i] = reqs[i].handle;
        }
        if (rc2 || rt_spawn(commit_tail, tail) != 0)
            commit_tail(tail);    /* (waits here; a failed shard keeps the records pinned) */
    } else {
        /* No memory for the tail: the same, here, before the reply. */
        bool ok = rc2 == 0;
        for (int i = 0; i < k; i++)
            ok &= rt_call(shards[i], finish_on_shard, reqs[i].handle) == STORE_OK;
        for (int i = 0; i < k && ok; i++)
            rt_call(shards[i], release_on_shard, (void *)(uintptr_t)txn_id);
    }
    rt_free(reqs);
    metrics_add(txn__m_2pc, 1);
    if (rc2) {
        /* A shard could not queue its phase-two record: it is read-only now, and the
         * phase-one records stay for recovery to finish the commit. */
        *failed_rc = rc2;
        return -1;
    }
    return 0;
}

static int end_all_run(txn_ctx_t *tc, bool abort, const commit_req_t *reqp, int *failed_rc);

static int end_all(txn_ctx_t *tc, bool abort, int *failed_rc)
{
    commit_req_t req = {.txn_id = tc->txn_id, .commit_ts = abort ? 0 : hlc_now(),
                        .op = abort ? REQ_ABORT : REQ_COMMIT};
    /* Until every shard queued the commit (from then on its store lists it as pending),
     * the horizon must stay below its timestamp (every shard's is >= this one). */
    snapreg_hold_t hold = {0};
    if (!abort)
        snapreg_hold(&hold, req.commit_ts - 1);
    int rc = end_all_run(tc, abort, &req, failed_rc);
    snapreg_release(&hold);
    return rc;
}

static int end_all_run(txn_ctx_t *tc, bool abort, const commit_req_t *reqp, int *failed_rc)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    commit_req_t req = *reqp;
    int k = 0;
    for (int s = 0; s < n; s++)
        if (txn_touched(tc, s)) {
            shards[k] = s;
            args[k++] = &req;
        }
    memset(tc->touched, 0, sizeof tc->touched);
    if (k == 0)
        return 0;
    if (k > 1 && !abort)
        return commit_2pc(k, shards, tc->txn_id, failed_rc);
    if (k == 1)
        rets[0] = rt_call(shards[0], commit_on_shard, &req);
    else
        rt_call_many(k, shards, commit_on_shard, args, rets);
    for (int i = 0; i < k; i++)
        if (rets[i] != STORE_OK) {
            *failed_rc = rets[i];
            return -1;
        }
    return 0;
}

int txn_commit_all(txn_ctx_t *tc, sql_error_t *err)
{
    int frc = 0;
    if (end_all(tc, false, &frc) < 0)
        return txn_store_error(frc, err);
    return 0;
}

void txn_abort_all(txn_ctx_t *tc)
{
    int frc = 0;
    end_all(tc, true, &frc);
}
