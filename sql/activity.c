/*
 * activity.c -- pg_stat_activity's rows gathered from every shard; see activity.h.
 *
 * Two rounds over the rings, both to every shard in parallel: first each shard copies
 * its sessions into a buffer of the asking fiber (a shard with more sessions than
 * the buffer holds says how many, and that shard is asked again with room for
 * them); then each shard is handed the list of open transaction ids and marks those
 * that wait for a row lock there. A session that starts or ends between the rounds
 * is simply seen in the state of the first round.
 */
#include <string.h>

#include "core/rt.h"
#include "sql/activity.h"

typedef struct act_req {
    sql_activity_t *rows;
    int cap, n;
} act_req_t;

typedef struct wait_req {
    const uint64_t *txns;
    int n;
    bool *waiting;
} wait_req_t;

static int act_on_shard(void *arg)
{
    act_req_t *r = arg;
    r->n = sql_session_activity(r->rows, r->cap);
    return 0;
}

static int wait_on_shard(void *arg)
{
    wait_req_t *r = arg;
    txn_lock_waiting(r->txns, r->n, r->waiting);
    return 0;
}

/* Asks shard s again with room for every session it reported. */
static int act_retry(arena_t *a, int s, act_req_t *r, sql_error_t *err)
{
    for (int tries = 0; r->n > r->cap && tries < 4; tries++) {
        if (r->n > LIMIT_SQL_ACTIVITY_ROWS)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "more than %d sessions to list", LIMIT_SQL_ACTIVITY_ROWS);
        r->cap = r->n + 8;
        r->rows = arena_alloc(a, (size_t)r->cap * sizeof *r->rows);
        if (!r->rows)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        rt_call(s, act_on_shard, r);
    }
    if (r->n > r->cap)
        r->n = r->cap;    /* still growing after several tries: list what fitted */
    return 0;
}

int activity_gather(arena_t *a, sql_activity_t **rows_out, int *n_out, sql_error_t *err)
{
    int ns = rt_shards_count();
    if (ns <= 0 || ns > LIMIT_SHARDS_MAX)
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "no shards to ask");
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    act_req_t reqs[LIMIT_SHARDS_MAX];
    for (int s = 0; s < ns; s++) {
        shards[s] = s;
        reqs[s].cap = 16;
        reqs[s].n = 0;
        reqs[s].rows = arena_alloc(a, (size_t)reqs[s].cap * sizeof(sql_activity_t));
        if (!reqs[s].rows)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        args[s] = &reqs[s];
    }
    rt_call_many(ns, shards, act_on_shard, args, rets);
    int total = 0;
    for (int s = 0; s < ns; s++) {
        if (act_retry(a, s, &reqs[s], err) < 0)
            return -1;
        total += reqs[s].n;
    }
    size_t room = total > 0 ? (size_t)total : 1;    /* total <= shards * LIMIT_SQL_ACTIVITY_ROWS */
    sql_activity_t *rows = arena_alloc(a, room * sizeof *rows);
    uint64_t *txns = arena_alloc(a, room * sizeof *txns);
    bool *waiting = arena_alloc(a, room * (size_t)ns);
    if (!rows || !txns || !waiting)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    int k = 0;
    for (int s = 0; s < ns; s++)
        for (int i = 0; i < reqs[s].n; i++) {
            rows[k] = reqs[s].rows[i];
            txns[k] = rows[k].txn_id;
            k++;
        }
    memset(waiting, 0, room * (size_t)ns);
    wait_req_t wr[LIMIT_SHARDS_MAX];
    for (int s = 0; s < ns; s++) {
        wr[s] = (wait_req_t){txns, total, waiting + (size_t)s * (size_t)total};
        args[s] = &wr[s];
    }
    if (total)
        rt_call_many(ns, shards, wait_on_shard, args, rets);
    for (int i = 0; i < total; i++)
        for (int s = 0; s < ns; s++)
            rows[i].lock_wait |= rows[i].txn_id && waiting[(size_t)s * (size_t)total + (size_t)i];
    *rows_out = rows;
    *n_out = total;
    return 0;
}

typedef struct cancel_req {
    int32_t pid;
    bool found;
} cancel_req_t;

static int cancel_on_shard(void *arg)
{
    cancel_req_t *r = arg;
    r->found = sql_session_cancel_pid(r->pid);
    return 0;
}

bool activity_cancel(int32_t pid)
{
    int ns = rt_shards_count();
    if (pid <= 0 || ns <= 0 || ns > LIMIT_SHARDS_MAX)
        return false;
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    cancel_req_t reqs[LIMIT_SHARDS_MAX];
    for (int s = 0; s < ns; s++) {
        shards[s] = s;
        reqs[s] = (cancel_req_t){pid, false};
        args[s] = &reqs[s];
    }
    rt_call_many(ns, shards, cancel_on_shard, args, rets);
    bool found = false;
    for (int s = 0; s < ns; s++)
        found |= reqs[s].found;
    return found;
}
