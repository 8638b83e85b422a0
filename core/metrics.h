/*
 * metrics.h -- per-shard metrics registry rendered in Prometheus text format.
 *
 * Model: metrics are registered once, before rt_start, getting a small integer id.
 * Each shard owns one slot per metric; only the owning shard thread updates its slot
 * (relaxed atomic stores, no read-modify-write across threads), and a scrape on any
 * thread reads every shard's slots with relaxed loads. Every metric carries a
 * `shard` label. Histograms use fixed bucket bounds given at registration.
 *
 * Thread: register before rt_start (main thread); update on shard threads; render on
 * any thread.
 */
#ifndef NEXTDB_METRICS_H
#define NEXTDB_METRICS_H
#include <stdint.h>
#include "core/strbuf.h"
enum metric_kind { METRIC_COUNTER = 0, METRIC_GAUGE = 1, METRIC_HISTOGRAM = 2 };
#define METRICS_MAX 256
#define METRICS_BUCKETS_MAX 16
/* name must be a valid Prometheus name (counters end in _total). Returns id >= 0, or
 * -1 when the registry is full or the name is taken. Bounds: ascending, <= 16. */
int metrics_register(const char *name, const char *help, int kind,
                     const double *bounds, int bounds_count);
/* One series of a family with one fixed label besides shard (a counter or gauge):
 * `name{label="value",shard="N"}`. The series of a family are registered one after
 * another with the same name, kind and label (one HELP/TYPE header, the first help);
 * label and value are kept by pointer (string literals). -1 as metrics_register. */
int metrics_register_labeled(const char *name, const char *help, int kind, const char *label,
                             const char *value);
void metrics_init_shards(int shards_count);   /* after registering, before rt_start */
void metrics_add(int id, uint64_t v);         /* counter, current shard */
void metrics_set(int id, int64_t v);          /* gauge, current shard */
void metrics_observe(int id, double v);       /* histogram, current shard */
/* Appends the exposition text (# HELP, # TYPE, samples) for every metric. */
void metrics_render(strbuf_t *out);
#endif
