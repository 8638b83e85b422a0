/*
 * layout.c -- the process-wide registry of column layouts and the row codec (contract:
 * shards/store.h, "column layouts"; format: shards/README.md, "Sorted table format,
 * version 2").
 *
 * Layouts are kept sorted by table id in one array behind a mutex: the SQL layer
 * registers from any thread (catalog load, DDL), writers on every shard thread look one
 * up once per block, so contention is negligible. Lookups copy the layout out, so a
 * replacement never changes a layout a writer is using.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/rt.h"
#include "shards/store.h"

typedef struct layout_ent {
    uint32_t table_id;
    store_layout_t *l;
} layout_ent_t;

static pthread_mutex_t layout_mu = PTHREAD_MUTEX_INITIALIZER;
static layout_ent_t *layout_ents;
static size_t layout_count, layout_cap;
static const store_row_codec_t *layout_codec;

void store_set_row_codec(const store_row_codec_t *codec)
{
    pthread_mutex_lock(&layout_mu);
    layout_codec = codec;
    pthread_mutex_unlock(&layout_mu);
}

const store_row_codec_t *store_row_codec(void)
{
    pthread_mutex_lock(&layout_mu);
    const store_row_codec_t *c = layout_codec;
    pthread_mutex_unlock(&layout_mu);
    return c;
}

/* Index of the first entry with table id >= t (caller holds the mutex). */
static size_t layout_find(uint32_t t)
{
    size_t lo = 0, hi = layout_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (layout_ents[mid].table_id < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool layout_valid(const store_layout_t *l)
{
    if (l->ncols == 0 || l->ncols > STORE_LAYOUT_MAX_COLS)
        return false;
    for (uint32_t c = 0; c < l->ncols; c++) {
        uint8_t w = l->width[c], k = l->kind[c];
        if (w != 0 && w != 1 && w != 2 && w != 4 && w != 8)
            return false;
        if (k > STORE_COL_FLOAT || (w == 0 && k != STORE_COL_BYTES) ||
            (k == STORE_COL_FLOAT && w != 4 && w != 8))
            return false;
    }
    return true;
}

int store_layout_register(uint32_t table_id, const store_layout_t *l)
{
    if (!layout_valid(l))
        return STORE_EINVAL;
    store_layout_t *copy = rt_malloc(sizeof *copy);
    if (!copy)
        return STORE_ENOMEM;
    *copy = *l;
    pthread_mutex_lock(&layout_mu);
    size_t i = layout_find(table_id);
    if (i < layout_count && layout_ents[i].table_id == table_id) {
        rt_free(layout_ents[i].l);
        layout_ents[i].l = copy;
        pthread_mutex_unlock(&layout_mu);
        return 0;
    }
    if (layout_count == layout_cap) {
        size_t cap = layout_cap ? layout_cap * 2 : 64;
        layout_ent_t *n = rt_realloc(layout_ents, cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&layout_mu);
            rt_free(copy);
            return STORE_ENOMEM;
        }
        layout_ents = n;
        layout_cap = cap;
    }
    memmove(layout_ents + i + 1, layout_ents + i, (layout_count - i) * sizeof *layout_ents);
    layout_ents[i] = (layout_ent_t){table_id, copy};
    layout_count++;
    pthread_mutex_unlock(&layout_mu);
    return 0;
}

void store_layout_unregister(uint32_t table_id)
{
    pthread_mutex_lock(&layout_mu);
    size_t i = layout_find(table_id);
    if (i < layout_count && layout_ents[i].table_id == table_id) {
        rt_free(layout_ents[i].l);
        memmove(layout_ents + i, layout_ents + i + 1, (layout_count - i - 1) * sizeof *layout_ents);
        layout_count--;
    }
    pthread_mutex_unlock(&layout_mu);
}

bool store_layout_get(uint32_t table_id, store_layout_t *out)
{
    bool found = false;
    pthread_mutex_lock(&layout_mu);
    size_t i = layout_find(table_id);
    if (i < layout_count && layout_ents[i].table_id == table_id) {
        /* only the used part: the arrays beyond ncols are never read */
        const store_layout_t *l = layout_ents[i].l;
        out->version = l->version;
        out->ncols = l->ncols;
        memcpy(out->width, l->width, l->ncols);
        memcpy(out->kind, l->kind, l->ncols);
        found = true;
    }
    pthread_mutex_unlock(&layout_mu);
    return found;
}
