/*
 * shard_metrics.h -- registers the storage metrics of every shard (WAL bytes, fsyncs,
 * fsync latency, commits, memtable bytes, flushes, sorted tables, compaction, block
 * cache). Separate from
 * shard.h because it must run on the main thread before rt_start, while everything in
 * shard.h runs on shards.
 *
 * Interface:
 *   shard_register_metrics()   register nextdb_wal_bytes_total, nextdb_wal_fsyncs_total,
 *                              nextdb_wal_fsync_seconds (histogram), nextdb_commits_total,
 *                              nextdb_memtable_bytes (gauge),
 *                              nextdb_memtable_flushes_total, nextdb_sorted_tables
 *                              (gauge), nextdb_sorted_table_bytes (gauge),
 *                              nextdb_compactions_total,
 *                              nextdb_compaction_{read,written}_bytes_total,
 *                              nextdb_compaction_dropped_versions_total,
 *                              nextdb_compaction_running / _backlog_bytes /
 *                              _backlog_files (gauges),
 *                              nextdb_block_cache_{hits,misses,evictions}_total,
 *                              nextdb_block_cache_bytes / _capacity_bytes (gauges),
 *                              nextdb_store_versions, nextdb_gc_horizon (gauges),
 *                              nextdb_gc_dropped_versions_total;
 *                              call once, before
 *                              metrics_init_shards / rt_start. Without it the shards
 *                              simply report nothing.
 * Thread: main thread, before rt_start.
 */
#ifndef NEXTDB_SHARD_METRICS_H
#define NEXTDB_SHARD_METRICS_H
void shard_register_metrics(void);
#endif
