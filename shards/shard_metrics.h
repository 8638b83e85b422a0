/*
 * shard_metrics.h -- registers the storage metrics of every shard (WAL bytes, fsyncs,
 * fsync latency, commits, memtable bytes, flushes, sorted tables). Separate from
 * shard.h because it must run on the main thread before rt_start, while everything in
 * shard.h runs on shards.
 *
 * Interface:
 *   shard_register_metrics()   register nextdb_wal_bytes_total, nextdb_wal_fsyncs_total,
 *                              nextdb_wal_fsync_seconds (histogram), nextdb_commits_total,
 *                              nextdb_memtable_bytes (gauge),
 *                              nextdb_memtable_flushes_total, nextdb_sorted_tables
 *                              (gauge); call once, before
 *                              metrics_init_shards / rt_start. Without it the shards
 *                              simply report nothing.
 * Thread: main thread, before rt_start.
 */
#ifndef NEXTDB_SHARD_METRICS_H
#define NEXTDB_SHARD_METRICS_H
void shard_register_metrics(void);
#endif
