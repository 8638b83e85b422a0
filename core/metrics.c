/*
 * metrics.c -- per-shard metric slots and Prometheus text exposition (format 0.0.4);
 * see metrics.h.
 *
 * Layout: one slot row per shard, METRICS_MAX slots per row, each slot a small array
 * of 64-bit atomics: v[0] holds a counter or gauge value, or for a histogram the
 * per-bucket (non-cumulative) counts in v[0..bounds], then the sum (double bits) and
 * the count. Only the owning shard writes its row (relaxed load + store: no
 * read-modify-write is needed because there is one writer), so updates cost a few
 * nanoseconds and never bounce cache lines between writers; a scrape reads all rows
 * with relaxed loads and sums nothing across shards (each shard is its own series).
 *
 * Lifecycle rule (see core/README.md): metrics_register runs on the main thread
 * before rt_start. rt_start registers the runtime's own metrics and then calls
 * metrics_init_shards(n) itself, so main may skip that call; metrics_init_shards is
 * a no-op when rows for at least n shards exist. Rows are sized for METRICS_MAX
 * metrics, so registering after metrics_init_shards (still before rt_start) is fine.
 * Updates from a thread that is not a shard (rt_shard_id() < 0) or before
 * metrics_init_shards are dropped.
 */
#include "core/metrics.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/rt.h"

#define METRICS_NAME_MAX 128
#define METRICS_SLOT_WORDS (METRICS_BUCKETS_MAX + 3)   /* buckets + +Inf, sum, count */

typedef struct metrics_def {
    char md_name[METRICS_NAME_MAX];
    const char *md_help;
    int md_kind;
    int md_bounds_count;
    double md_bounds[METRICS_BUCKETS_MAX];
    const char *md_label, *md_label_value;   /* one fixed label, or NULL */
} metrics_def_t;

typedef struct metrics_slot {
    _Atomic uint64_t ms_v[METRICS_SLOT_WORDS];
} metrics_slot_t;

static metrics_def_t metrics_defs[METRICS_MAX];
static _Atomic int metrics_count;
static metrics_slot_t *metrics_rows;   /* [shard * METRICS_MAX + id] */
static _Atomic int metrics_shards;

static bool metrics__name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= METRICS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

int metrics_register(const char *name, const char *help, int kind, const double *bounds,
                     int bounds_count)
{
    int n = atomic_load_explicit(&metrics_count, memory_order_relaxed);
    if (n >= METRICS_MAX || !name || !metrics__name_ok(name))
        return -1;
    if (kind < METRIC_COUNTER || kind > METRIC_HISTOGRAM)
        return -1;
    if (kind == METRIC_HISTOGRAM) {
        if (bounds_count < 0 || bounds_count > METRICS_BUCKETS_MAX || (bounds_count && !bounds))
            return -1;
        for (int i = 1; i < bounds_count; i++)
            if (!(bounds[i] > bounds[i - 1]))
                return -1;
    } else {
        bounds_count = 0;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(metrics_defs[i].md_name, name))
            return -1;
    metrics_def_t *d = &metrics_defs[n];
    strcpy(d->md_name, name);
    d->md_help = help ? help : "";
    d->md_kind = kind;
    d->md_bounds_count = bounds_count;
    for (int i = 0; i < bounds_count; i++)
        d->md_bounds[i] = bounds[i];
    atomic_store_explicit(&metrics_count, n + 1, memory_order_release);
    return n;
}

static bool metrics__label_value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= METRICS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] == '"' || v[i] == '\\' || v[i] == '\n')
            return false;
    return true;
}

int metrics_register_labeled(const char *name, const char *help, int kind, const char *label,
                             const char *value)
{
    int n = atomic_load_explicit(&metrics_count, memory_order_relaxed);
    if (kind == METRIC_HISTOGRAM || !label || !value || !metrics__name_ok(label) ||
        !strcmp(label, "shard") || !metrics__label_value_ok(value))
        return -1;
    const metrics_def_t *prev = n > 0 ? &metrics_defs[n - 1] : NULL;
    if (prev && name && !strcmp(prev->md_name, name)) {
        /* another series of the family registered just before: same kind and label */
        if (n >= METRICS_MAX || prev->md_kind != kind || !prev->md_label || strcmp(prev->md_label, label))
            return -1;
        for (int i = n - 1; i >= 0 && !strcmp(metrics_defs[i].md_name, name); i--)
            if (!strcmp(metrics_defs[i].md_label_value, value))
                return -1;
        metrics_def_t *d = &metrics_defs[n];
        *d = *prev;
        d->md_label_value = value;
        atomic_store_explicit(&metrics_count, n + 1, memory_order_release);
        return n;
    }
    int id = metrics_register(name, help, kind, NULL, 0);
    if (id >= 0) {
        metrics_defs[id].md_label = label;
        metrics_defs[id].md_label_value = value;
    }
    return id;
}

void metrics_init_shards(int shards_count)
{
    if (shards_count <= atomic_load_explicit(&metrics_shards, memory_order_relaxed))
        return;
    /* Before rt_start only, so nobody reads the old rows while they are replaced. */
    metrics_slot_t *rows = calloc((size_t)shards_count * METRICS_MAX, sizeof *rows);
    ASSERT(rows != NULL);
    free(metrics_rows);
    metrics_rows = rows;
    atomic_store_explicit(&metrics_shards, shards_count, memory_order_release);
}

static metrics_slot_t *metrics__slot(int id)
{
    int shard = rt_shard_id();
    if (shard < 0 || shard >= atomic_load_explicit(&metrics_shards, memory_order_acquire))
        return NULL;
    if (id < 0 || id >= atomic_load_explicit(&metrics_count, memory_order_acquire))
        return NULL;
    return &metrics_rows[(size_t)shard * METRICS_MAX + (size_t)id];
}

static void metrics__bump(_Atomic uint64_t *w, uint64_t v)
{
    uint64_t cur = atomic_load_explicit(w, memory_order_relaxed);
    atomic_store_explicit(w, cur + v, memory_order_relaxed);
}

void metrics_add(int id, uint64_t v)
{
    metrics_slot_t *s = metrics__slot(id);
    if (!s)
        return;
    DASSERT(metrics_defs[id].md_kind == METRIC_COUNTER);
    metrics__bump(&s->ms_v[0], v);
}

void metrics_set(int id, int64_t v)
{
    metrics_slot_t *s = metrics__slot(id);
    if (!s)
        return;
    DASSERT(metrics_defs[id].md_kind == METRIC_GAUGE);
    atomic_store_explicit(&s->ms_v[0], (uint64_t)v, memory_order_relaxed);
}

void metrics_observe(int id, double v)
{
    metrics_slot_t *s = metrics__slot(id);
    if (!s)
        return;
    const metrics_def_t *d = &metrics_defs[id];
    DASSERT(d->md_kind == METRIC_HISTOGRAM);
    int b = 0;
    while (b < d->md_bounds_count && v > d->md_bounds[b])
        b++;                                   /* le semantics: v <= bound */
    metrics__bump(&s->ms_v[b], 1);
    uint64_t bits = atomic_load_explicit(&s->ms_v[METRICS_BUCKETS_MAX + 1], memory_order_relaxed);
    double sum;
    memcpy(&sum, &bits, sizeof sum);
    sum += v;
    memcpy(&bits, &sum, sizeof bits);
    atomic_store_explicit(&s->ms_v[METRICS_BUCKETS_MAX + 1], bits, memory_order_relaxed);
    metrics__bump(&s->ms_v[METRICS_BUCKETS_MAX + 2], 1);
}

/* Shortest decimal that reads back as the same double; Prometheus spellings for
 * the non-finite values. */
static void metrics__put_double(strbuf_t *out, double v)
{
    if (isnan(v)) {
        strbuf_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    strbuf_puts(out, buf);
}

static void metrics__put_help(strbuf_t *out, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            strbuf_puts(out, "\\\\");
        else if (*p == '\n')
            strbuf_puts(out, "\\n");
        else
            strbuf_putc(out, *p);
    }
}

static const char *const metrics_type_names[] = {"counter", "gauge", "histogram"};

static void metrics__render_one(strbuf_t *out, int id, int shards)
{
    const metrics_def_t *d = &metrics_defs[id];
    /* the series of one labeled family are registered one after another: one header */
    if (!(id > 0 && d->md_label && !strcmp(metrics_defs[id - 1].md_name, d->md_name))) {
        strbuf_printf(out, "# HELP %s ", d->md_name);
        metrics__put_help(out, d->md_help);
        strbuf_printf(out, "\n# TYPE %s %s\n", d->md_name, metrics_type_names[d->md_kind]);
    }
    for (int sh = 0; sh < shards; sh++) {
        metrics_slot_t *s = &metrics_rows[(size_t)sh * METRICS_MAX + (size_t)id];
        if (d->md_kind == METRIC_COUNTER || d->md_kind == METRIC_GAUGE) {
            strbuf_printf(out, "%s{", d->md_name);
            if (d->md_label)
                strbuf_printf(out, "%s=\"%s\",", d->md_label, d->md_label_value);
            uint64_t v = atomic_load_explicit(&s->ms_v[0], memory_order_relaxed);
            if (d->md_kind == METRIC_COUNTER)
                strbuf_printf(out, "shard=\"%d\"} %llu\n", sh, (unsigned long long)v);
            else
                strbuf_printf(out, "shard=\"%d\"} %lld\n", sh, (long long)v);
            continue;
        }
        uint64_t cum = 0;
        for (int b = 0; b <= d->md_bounds_count; b++) {
            cum += atomic_load_explicit(&s->ms_v[b], memory_order_relaxed);
            strbuf_printf(out, "%s_bucket{shard=\"%d\",le=\"", d->md_name, sh);
            if (b < d->md_bounds_count)
                metrics__put_double(out, d->md_bounds[b]);
            else
                strbuf_puts(out, "+Inf");
            strbuf_printf(out, "\"} %llu\n", (unsigned long long)cum);
        }
        uint64_t bits = atomic_load_explicit(&s->ms_v[METRICS_BUCKETS_MAX + 1], memory_order_relaxed);
        double sum;
        memcpy(&sum, &bits, sizeof sum);
        strbuf_printf(out, "%s_sum{shard=\"%d\"} ", d->md_name, sh);
        metrics__put_double(out, sum);
        /* The count is the +Inf bucket by definition; print the same number so a
         * scrape racing an update stays self-consistent. */
        strbuf_printf(out, "\n%s_count{shard=\"%d\"} %llu\n", d->md_name, sh,
                      (unsigned long long)cum);
    }
}

void metrics_render(strbuf_t *out)
{
    int n = atomic_load_explicit(&metrics_count, memory_order_acquire);
    int shards = atomic_load_explicit(&metrics_shards, memory_order_acquire);
    for (int id = 0; id < n; id++)
        metrics__render_one(out, id, metrics_rows ? shards : 0);
}
