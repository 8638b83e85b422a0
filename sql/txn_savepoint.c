/*
 * txn_savepoint.c -- the shard side of SAVEPOINT / ROLLBACK TO (sql/README.md,
 * "Transactions"); the savepoint stack itself is the session's (session.c).
 *
 * A transaction numbers its savepoints 1, 2, ... and never reuses a number. The
 * session keeps txn_ctx_t.sp_level at the newest live savepoint's number, and every
 * fragment hands it to its shard's store txn (txn_shard_get), so each intent placed
 * while a savepoint is live is logged with its level in that shard's undo log
 * (shards/store.h, "savepoints"). ROLLBACK TO savepoint n (and an error inside a
 * block with a live savepoint, which undoes down to the newest one at once, as
 * PostgreSQL's subtransaction abort releases the failed subtransaction's locks) asks
 * every touched shard in parallel to undo its intents at levels >= n. A shard first
 * touched after the savepoint simply ends up with no writes. Sequences are not rolled
 * back (nextval is never transactional, as in PostgreSQL).
 *
 * Thread: txn_rollback_to_all on the coordinator (the session's shard), inside its
 * fiber; sp_rollback_on_shard on each shard via rt_call.
 */
#include "core/limits.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/exec_int.h"

typedef struct sp_req {
    uint64_t txn_id;
    uint32_t level;
} sp_req_t;

static int sp_rollback_on_shard(void *arg)
{
    const sp_req_t *r = arg;
    store_t *st = shard_store();
    store_txn_t *t = store_txn_find(st, r->txn_id);
    return t ? store_txn_rollback_to(st, t, r->level) : STORE_OK;
}

int txn_rollback_to_all(txn_ctx_t *tc, uint32_t level, sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    sp_req_t req = {tc->txn_id, level};
    int k = 0;
    for (int s = 0; s < n; s++)
        if (txn_touched(tc, s)) {
            shards[k] = s;
            args[k++] = &req;
        }
    if (k == 1)
        rets[0] = rt_call(shards[0], sp_rollback_on_shard, &req);
    else if (k > 1)
        rt_call_many(k, shards, sp_rollback_on_shard, args, rets);
    for (int i = 0; i < k; i++)
        if (rets[i] != STORE_OK)
            return txn_store_error(rets[i], err);
    return 0;
}
