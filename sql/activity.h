/*
 * activity.h -- what every client session is doing, for pg_stat_activity.
 *
 * Why: PostgreSQL's pg_stat_activity is how operators see who is connected, which
 * transactions are open and who waits for a lock. NextDB's sessions live on the shard
 * that accepted their connection, and a lock wait happens in a fiber on the shard
 * that owns the row, so there is no one place to read: activity_gather asks every
 * shard over the rings (rt_call_many) for its sessions (session.c walks that shard's
 * session list), then asks every shard which of those transactions wait for a row
 * lock there (txn.c's wait list). Nothing is shared between threads except the
 * request buffers the asking fiber owns while it waits for the replies.
 *
 * Interface:
 *   activity_gather        coordinator: every session's row, lock waits marked
 *   activity_cancel        coordinator: pg_cancel_backend(pid) on whichever shard has it
 *   sql_session_cancel_pid shard: cancels this shard's session with that pid (session.c)
 *   sql_session_activity   shard: this shard's sessions (session.c)
 *   txn_lock_waiting       shard: which of some transactions wait here (txn.c)
 *
 * Limits: LIMIT_SQL_ACTIVITY_QUERY_BYTES of query text per session (PostgreSQL's
 * track_activity_query_size, 1 kB by default, cut at a character boundary);
 * LIMIT_SQL_ACTIVITY_ROWS sessions in one answer.
 * Thread: activity_gather in a fiber (it suspends); the others on their own shard.
 */
#ifndef NEXTDB_ACTIVITY_H
#define NEXTDB_ACTIVITY_H
#include <stdbool.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/limits.h"
#include "sql/error.h"

enum activity_state {
    ACTIVITY_IDLE = 0,
    ACTIVITY_ACTIVE,
    ACTIVITY_IDLE_IN_TXN,
    ACTIVITY_IDLE_IN_TXN_ABORTED,
};

typedef struct sql_activity {
    int32_t pid;                     /* the BackendKeyData pid = pg_backend_pid() */
    int32_t client_port;             /* -1 = none (an HTTP session) */
    char usename[LIMIT_SQL_IDENT_BYTES + 1];
    char datname[LIMIT_SQL_IDENT_BYTES + 1];
    char application_name[LIMIT_SQL_IDENT_BYTES + 1];
    char client_addr[48];            /* "" = none */
    char backend_type[16];           /* "client backend"; "http" for the JSON endpoint */
    int64_t backend_start, xact_start, query_start, state_change;   /* 0 = NULL */
    int state;                       /* enum activity_state */
    uint64_t txn_id;                 /* the open transaction, 0 = none */
    bool lock_wait;                  /* set by activity_gather */
    char query[LIMIT_SQL_ACTIVITY_QUERY_BYTES];
} sql_activity_t;

/* Every session of every shard, in arena a: 0 with *rows / *n, or -1 + err. */
int activity_gather(arena_t *a, sql_activity_t **rows, int *n, sql_error_t *err);
/* Sets the cancel flag of the session whose pid is pid, wherever it runs: true when
 * there is one (its running statement, if any, stops with 57014). */
bool activity_cancel(int32_t pid);
bool sql_session_cancel_pid(int32_t pid);
/* This shard's sessions: fills up to cap rows, returns how many there are. */
int sql_session_activity(sql_activity_t *rows, int cap);
/* Sets waiting[i] for every txns[i] that waits for a row lock on this shard. */
void txn_lock_waiting(const uint64_t *txns, int n, bool *waiting);
#endif
