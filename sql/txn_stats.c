/*
 * txn_stats.c -- how transactions end, for /metrics: nextdb_txn_commits_total and
 * nextdb_txn_aborts_total{reason=...}, counted on the coordinating (session's) shard
 * once per transaction, autocommit statements and read-only ones included (as
 * PostgreSQL's xact_commit / xact_rollback count them). The reason of an abort is
 * what failed the transaction first: the client's ROLLBACK (or a disconnect) with
 * nothing failed is "rollback"; else the SQLSTATE of the error that failed it maps to
 * "serialization_failure" (40001), "deadlock" (40P01), "lock_timeout" (55P03) or
 * "error" (anything else, a failed COMMIT included).
 *
 * Thread: any shard thread (each counts into its own slot).
 */
#include <string.h>

#include "core/metrics.h"
#include "sql/txn_stats.h"

static const char *const txn_stats_reasons[TXN_END_REASONS] = {
    [TXN_END_ROLLBACK] = "rollback",
    [TXN_END_ERROR] = "error",
    [TXN_END_SERIALIZATION] = "serialization_failure",
    [TXN_END_DEADLOCK] = "deadlock",
    [TXN_END_LOCK_TIMEOUT] = "lock_timeout",
};
static int txn_stats_m_commits = -1;
static int txn_stats_m_aborts[TXN_END_REASONS] = {-1, -1, -1, -1, -1};

void txn_stats_register(void)
{
    txn_stats_m_commits = metrics_register("nextdb_txn_commits_total",
                                           "Transactions committed (autocommit statements included), "
                                           "by the shard that coordinated them.",
                                           METRIC_COUNTER, NULL, 0);
    for (int r = 0; r < TXN_END_REASONS; r++)
        txn_stats_m_aborts[r] = metrics_register_labeled(
            "nextdb_txn_aborts_total",
            "Transactions rolled back, by reason: the client's ROLLBACK or disconnect (rollback), "
            "or the error that failed them (serialization_failure 40001, deadlock 40P01, "
            "lock_timeout 55P03, error).",
            METRIC_COUNTER, "reason", txn_stats_reasons[r]);
}

int txn_stats_reason(const char *sqlstate)
{
    if (!sqlstate || !sqlstate[0])
        return TXN_END_ROLLBACK;
    if (!strcmp(sqlstate, "40001"))
        return TXN_END_SERIALIZATION;
    if (!strcmp(sqlstate, "40P01"))
        return TXN_END_DEADLOCK;
    if (!strcmp(sqlstate, "55P03"))
        return TXN_END_LOCK_TIMEOUT;
    return TXN_END_ERROR;
}

void txn_stats_commit(void) { metrics_add(txn_stats_m_commits, 1); }

void txn_stats_abort(int reason)
{
    if (reason >= 0 && reason < TXN_END_REASONS)
        metrics_add(txn_stats_m_aborts[reason], 1);
}
