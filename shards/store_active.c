/*
 * store_active.c -- the list of a store's live transactions that hold intents.
 *
 * Why: ALTER TABLE's rewrite (sql/exec_alter_type.c) copies a table's committed rows
 * after it has stopped new writes to it; a transaction that wrote before and has not
 * ended yet could still commit rows the copy never saw. The rewrite therefore waits
 * until every transaction that held intents when writes stopped has ended, and this
 * is how it learns which ones those are (store_txn_find tells it when each is gone).
 *
 * Thread: the store's own shard thread.
 */
#include "shards/store_int.h"

int store_active_txns(const store_t *st, uint64_t *ids, int cap)
{
    int n = 0;
    for (size_t b = 0; b < st->txns_buckets; b++)
        for (const store_txn_t *t = st->txns[b]; t; t = t->hnext)
            if (t->writes_count > 0) {
                if (n < cap)
                    ids[n] = t->txn_id;
                n++;
            }
    return n;
}
