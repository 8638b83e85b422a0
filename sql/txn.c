/*
 * txn.c -- SQL transactions over the shards' stores; see exec_int.h (txn_*) and the
 * transaction section of sql/README.md.
 *
 * A transaction has a process-unique id (shard id in the top bits, a per-shard
 * counter seeded from the wall clock below), a snapshot timestamp (per statement for
 * READ COMMITTED, per transaction for REPEATABLE READ) and one store_txn_t on each
 * shard it touched, found again by id. Commit stamps one HLC timestamp taken on the
 * coordinator and commits every touched shard in parallel; the reply waits until all
 * are durable. Multi-shard commits are not atomic across a crash yet (no prepare
 * phase): see sql/README.md.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/exec_int.h"
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
    return t;
}

int txn_store_error(int rc, sql_error_t *err)
{
    switch (rc) {
    case STORE_ENOMEM:
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    case STORE_EREADONLY:
        return sql_error(err, SQLSTATE_IO_ERROR, "could not write to the write-ahead log: storage is read-only after an I/O error");
    case STORE_ECORRUPT:
        return sql_error(err, SQLSTATE_DATA_CORRUPTED, "storage corruption detected");
    case STORE_EIO:
        return sql_error(err, SQLSTATE_IO_ERROR, "I/O error in storage");
    default:
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "unexpected storage result %d", rc);
    }
}

/* Waits for the blocking transaction; -1 + err on timeout. *waited_ms accumulates. */
static int wait_blocker(const txn_ctx_t *tc, uint64_t blocker, uint64_t *waited_ms, sql_error_t *err)
{
    uint64_t limit = tc->lock_timeout_ms ? tc->lock_timeout_ms : LIMIT_SQL_DEADLOCK_WAIT_MS;
    if (*waited_ms >= limit)
        goto timeout;
    uint64_t t0 = rt_now_us();
    uint64_t wait = limit - *waited_ms;
    bool by_deadline = false;
    if (tc->deadline_us) {
        if (t0 >= tc->deadline_us)
            goto stmt_timeout;
        uint64_t left = (tc->deadline_us - t0) / 1000 + 1;
        if (left < wait) {
            wait = left;
            by_deadline = true;
        }
    }
    int rc = shard_wait_txn(blocker, wait);
    *waited_ms += (rt_now_us() - t0) / 1000;
    if (rc == -ETIMEDOUT) {
        if (by_deadline)
            goto stmt_timeout;
        goto timeout;
    }
    return 0;
stmt_timeout:
    return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to statement timeout");
timeout:
    if (tc->lock_timeout_ms)
        return sql_error(err, "55P03", "canceling statement due to lock timeout");
    sql_error(err, SQLSTATE_DEADLOCK, "deadlock detected");
    sql_error_detail(err, "A row lock was not granted within %d ms; NextDB reports this as a deadlock.",
                     LIMIT_SQL_DEADLOCK_WAIT_MS);
    sql_error_hint(err, "Retry the transaction; set lock_timeout to choose the wait.");
    return -1;
}

int txn_lock_latest(const txn_ctx_t *tc, store_txn_t *t, uint32_t table_id, const uint8_t *key,
                    uint32_t klen, store_val_t *val, uint64_t *commit_ts, sql_error_t *err)
{
    uint64_t waited = 0;
    for (;;) {
        uint64_t blocker = 0;
        int rc = store_lock_latest(shard_store(), t, table_id, key, klen, val, commit_ts, &blocker);
        if (rc == STORE_OK || rc == STORE_NOTFOUND)
            return rc;
        if (rc != STORE_LOCKED)
            return txn_store_error(rc, err);
        if (wait_blocker(tc, blocker, &waited, err) < 0)
            return -1;
    }
}

int txn_write(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
              uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err)
{
    uint64_t waited = 0;
    for (;;) {
        uint64_t blocker = 0;
        int rc = store_write(shard_store(), t, mode, table_id, key, klen, val, vlen, &blocker);
        if (rc == STORE_OK)     /* HNSW maintenance */
            vindex_on_write(tc->txn_id, table_id, key, klen, val, vlen, mode == STORE_W_DELETE);
        if (rc == STORE_OK || rc == STORE_EXISTS)
            return rc;
        if (rc != STORE_LOCKED)
            return txn_store_error(rc, err);
        if (wait_blocker(tc, blocker, &waited, err) < 0)
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

typedef struct commit_req { uint64_t txn_id, commit_ts; bool abort; } commit_req_t;

static int commit_on_shard(void *arg)
{
    commit_req_t *r = arg;
    if (r->abort) {
        store_txn_t *t = store_txn_find(shard_store(), r->txn_id);
        if (t)
            store_txn_abort(shard_store(), t);
        return 0;
    }
    return txn_shard_commit_local(r->txn_id, r->commit_ts);
}

static int end_all(txn_ctx_t *tc, bool abort, int *failed_rc)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    commit_req_t req = {tc->txn_id, abort ? 0 : hlc_now(), abort};
    int k = 0;
    for (int s = 0; s < n; s++)
        if (txn_touched(tc, s)) {
            shards[k] = s;
            args[k++] = &req;
        }
    memset(tc->touched, 0, sizeof tc->touched);
    if (k == 0)
        return 0;
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
