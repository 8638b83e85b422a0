/*
 * txn_stats.h -- counters of how transactions end (committed; rolled back and why),
 * exported on /metrics; see txn_stats.c.
 *
 * Interface:
 *   txn_stats_register   register the metrics (main thread, before the shards start)
 *   txn_stats_reason     the abort reason for the SQLSTATE that failed a transaction
 *   txn_stats_commit / txn_stats_abort   count one ended transaction
 *
 * Thread: the counting functions on any shard thread.
 */
#ifndef NEXTDB_TXN_STATS_H
#define NEXTDB_TXN_STATS_H

enum txn_end_reason {
    TXN_END_ROLLBACK = 0,       /* the client's ROLLBACK or disconnect, nothing failed */
    TXN_END_ERROR,
    TXN_END_SERIALIZATION,      /* 40001 */
    TXN_END_DEADLOCK,           /* 40P01 */
    TXN_END_LOCK_TIMEOUT,       /* 55P03 */
    TXN_END_REASONS
};

void txn_stats_register(void);
/* NULL or "" (no error) = TXN_END_ROLLBACK. */
int txn_stats_reason(const char *sqlstate);
void txn_stats_commit(void);
void txn_stats_abort(int reason);
#endif
