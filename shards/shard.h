/*
 * shard.h -- glue between a shard's store and the runtime: opens the shard's store on
 * its own thread with io_uring-backed I/O, runs group commit at the end of every loop
 * turn, and offers fiber-blocking waits on top of the store's callbacks.
 *
 * Thread: every function on a shard thread; those marked (fiber) may suspend.
 */
#ifndef NEXTDB_SHARD_H
#define NEXTDB_SHARD_H
#include <stddef.h>
#include <stdint.h>
#include "shards/store.h"

/* Opens DATA/shard-NNN/ for the current shard and recovers it; raises the shard's HLC
 * past every recovered commit timestamp; resolves its in-doubt two-phase commits
 * (store_outcome over every shard's recovered WAL), which waits for every shard to
 * open. 0 or negative store_rc (logged). */
int shard_open_local(const char *data_dir);
/* Flush threshold of every shard's memtable (store_opts_t.memtable_budget_bytes; 0 =
 * default). Main thread, before rt_start. */
void shard_set_memtable_budget(size_t bytes);
size_t shard_memtable_budget(void);
/* (fiber, on a shard; an rt_call_fn) Pushes this shard's store stats to the metrics
 * now; they are otherwise pushed at most every LIMIT_SHARD_REPORT_US. Returns 0. */
int shard_report_now(void *unused);
/* Block cache size of every shard (store_opts_t.cache_bytes). Main thread, before
 * rt_start. */
void shard_set_cache_budget(size_t bytes);
/* Splits one shard's memory budget (--memory / shards) into the memtable's flush
 * threshold and the block cache (both 1/8, see shards/README.md). Main thread, before
 * rt_start. */
void shard_set_memory_budget(uint64_t shard_bytes);
void shard_close_local(void);              /* (fiber) waits for in-flight syncs */
store_t *shard_store(void);                 /* the current shard's store */
void shard_turn_end(void);                  /* rt turn_end hook: store_sync */
/* (fiber) store_txn_commit and wait until durable; returns its rc. */
int shard_commit_wait(store_txn_t *t, uint64_t commit_ts);
/* (fiber) Two-phase commit steps (shards/store.h), each waiting until durable. */
int shard_prepare_wait(store_txn_t *t, uint32_t coord_shard, uint64_t commit_ts);
int shard_commit_2pc_wait(store_txn_t *t, uint64_t commit_ts);
/* One-round commit (shards/store.h). shard_stage_wait: phase one, waits until the
 * record is durable. shard_commit_decided_start: phase two (the writes are visible and
 * the locks released when it returns); returns a handle that shard_commit_decided_finish
 * (later, from any fiber on this shard) waits on until the record is durable, and
 * frees; NULL when it had to wait already (*rc then has the result; else 0). */
typedef struct shard_wait shard_wait_t;
int shard_stage_wait(store_txn_t *t, uint32_t coord_shard, const uint32_t *parts, uint32_t nparts,
                     uint64_t commit_ts);
shard_wait_t *shard_commit_decided_start(store_txn_t *t, uint64_t commit_ts, int *rc);
int shard_commit_decided_finish(shard_wait_t *w);
int shard_commit_prepared_wait(store_txn_t *t, uint64_t commit_ts);
/* (fiber) store_table_clear and wait until durable. */
int shard_table_clear_wait(uint32_t table_id, uint64_t ts);
/* (fiber) Waits until transaction txn_id has ended on this shard or timeout_ms passed
 * (0 = no timeout). 0, or -ETIMEDOUT. */
int shard_wait_txn(uint64_t txn_id, uint64_t timeout_ms);
#endif
