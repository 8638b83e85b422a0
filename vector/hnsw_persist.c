/*
 * hnsw_persist.c -- writing an index to a file and reading it back.
 *
 * Format (version 1, native little-endian; vector/README.md, "Persistence"):
 *   header   64 bytes: magic "NXDBHNSW", u32 version, dim, metric, m,
 *            ef_construction, count, deleted_count, entry, i32 max_level, u64 rng,
 *            zero padding
 *   body     u64 ids[count], u8 levels[count], u8 deleted[count],
 *            f32 vectors[count * dim], u32 links0[count * (1 + 2m)],
 *            then for each slot with level > 0: u32 [level * (1 + m)]
 *   trailer  u32 CRC-32C of header and body
 * The slot arrays are written as they are in memory, so a load is a few large reads
 * plus validation -- no distance is computed, unlike a rebuild.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/rt.h"
#include "vector/hnsw_int.h"

#define HNSW__MAGIC "NXDBHNSW"
#define HNSW__VERSION 1u
#define HNSW__HEADER_BYTES 64
#define HNSW__IO_BUFFER_BYTES (1u << 20)

typedef struct hnsw__header {
    char hd_magic[8];
    uint32_t hd_version;
    uint32_t hd_dim;
    uint32_t hd_metric;
    uint32_t hd_m;
    uint32_t hd_ef_construction;
    uint32_t hd_count;
    uint32_t hd_deleted_count;
    uint32_t hd_entry;
    int32_t hd_max_level;
    uint32_t hd_pad0;
    uint64_t hd_rng;
    uint8_t hd_pad[8];
} hnsw__header_t;
STATIC_ASSERT(sizeof(hnsw__header_t) == HNSW__HEADER_BYTES, "header layout");

/* A stdio stream with a running checksum; the first failure sticks. */
typedef struct hnsw__stream {
    FILE *hs_file;
    uint32_t hs_crc;
    bool hs_failed;
} hnsw__stream_t;

static void hnsw__put(hnsw__stream_t *st, const void *buf, size_t len)
{
    if (st->hs_failed || len == 0)
        return;
    if (fwrite(buf, 1, len, st->hs_file) != len) {
        st->hs_failed = true;
        return;
    }
    st->hs_crc = crc32c(st->hs_crc, buf, len);
}

static void hnsw__get(hnsw__stream_t *st, void *buf, size_t len)
{
    if (st->hs_failed || len == 0)
        return;
    if (fread(buf, 1, len, st->hs_file) != len) {
        st->hs_failed = true;
        return;
    }
    st->hs_crc = crc32c(st->hs_crc, buf, len);
}

int hnsw_save(const hnsw_t *idx, const char *path)
{
    size_t path_len = strlen(path);
    char *tmp = rt_malloc(path_len + 5);
    if (tmp == NULL)
        return HNSW_E_NOMEM;
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, ".tmp", 5);
    int rc = HNSW_E_IO;
    hnsw__stream_t st = {fopen(tmp, "wb"), 0, false};
    if (st.hs_file == NULL)
        goto fail;
    setvbuf(st.hs_file, NULL, _IOFBF, HNSW__IO_BUFFER_BYTES);
    hnsw__header_t hd;
    memset(&hd, 0, sizeof(hd));
    memcpy(hd.hd_magic, HNSW__MAGIC, 8);
    hd.hd_version = HNSW__VERSION;
    hd.hd_dim = idx->hn_dim;
    hd.hd_metric = (uint32_t)idx->hn_metric;
    hd.hd_m = idx->hn_m;
    hd.hd_ef_construction = idx->hn_ef_construction;
    hd.hd_count = idx->hn_count;
    hd.hd_deleted_count = idx->hn_deleted_count;
    hd.hd_entry = idx->hn_entry;
    hd.hd_max_level = idx->hn_max_level;
    hd.hd_rng = idx->hn_rng;
    size_t n = idx->hn_count;
    hnsw__put(&st, &hd, sizeof(hd));
    hnsw__put(&st, idx->hn_ids, n * sizeof(uint64_t));
    hnsw__put(&st, idx->hn_levels, n);
    hnsw__put(&st, idx->hn_deleted, n);
    hnsw__put(&st, idx->hn_vectors, n * idx->hn_dim * sizeof(float));
    hnsw__put(&st, idx->hn_links0, n * (1 + idx->hn_m0) * sizeof(uint32_t));
    for (size_t s = 0; s < n; s++)
        if (idx->hn_levels[s] > 0)
            hnsw__put(&st, idx->hn_upper[s], (size_t)idx->hn_levels[s] * (1 + idx->hn_m) * sizeof(uint32_t));
    uint32_t crc = st.hs_crc;
    hnsw__put(&st, &crc, sizeof(crc));
    if (st.hs_failed || fflush(st.hs_file) != 0 || fsync(fileno(st.hs_file)) != 0)
        goto fail;
    if (fclose(st.hs_file) != 0) {
        st.hs_file = NULL;
        goto fail;
    }
    st.hs_file = NULL;
    if (rename(tmp, path) != 0)
        goto fail;
    rc = HNSW_OK;
fail:
    if (st.hs_file != NULL)
        fclose(st.hs_file);
    if (rc != HNSW_OK) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    rt_free(tmp);
    return rc;
}

/* Checks every structural invariant hnsw_int.h states, so bad bytes that happen to
 * pass the checksum (or a bug in an older writer) become HNSW_E_CORRUPT, not a crash. */
static int hnsw__validate(hnsw_t *idx)
{
    uint32_t n = idx->hn_count, deleted = 0;
    for (uint32_t s = 0; s < n; s++) {
        if (idx->hn_levels[s] >= LIMIT_HNSW_LEVELS || idx->hn_deleted[s] > 1)
            return HNSW_E_CORRUPT;
        deleted += idx->hn_deleted[s];
        for (int layer = 0; layer <= idx->hn_levels[s]; layer++) {
            const uint32_t *list = hnsw__links(idx, s, layer);
            if (list[0] > hnsw__max_links(idx, layer))
                return HNSW_E_CORRUPT;
            for (uint32_t i = 1; i <= list[0]; i++)
                if (list[i] >= n || list[i] == s || idx->hn_levels[list[i]] < layer)
                    return HNSW_E_CORRUPT;
        }
        if (!idx->hn_deleted[s]) {
            if (hnsw__map_get(&idx->hn_map, idx->hn_ids[s]) != HNSW__NONE)
                return HNSW_E_CORRUPT; /* two live nodes with one id */
            if (hnsw__map_put(&idx->hn_map, idx->hn_ids[s], s) != HNSW_OK)
                return HNSW_E_NOMEM;
        }
    }
    if (deleted != idx->hn_deleted_count)
        return HNSW_E_CORRUPT;
    if (n == 0)
        return idx->hn_entry == HNSW__NONE && idx->hn_max_level == -1 ? HNSW_OK : HNSW_E_CORRUPT;
    if (idx->hn_entry >= n || idx->hn_max_level != idx->hn_levels[idx->hn_entry])
        return HNSW_E_CORRUPT;
    for (uint32_t s = 0; s < n; s++)
        if (idx->hn_levels[s] > idx->hn_max_level)
            return HNSW_E_CORRUPT;
    return HNSW_OK;
}

int hnsw_load(const char *path, hnsw_t **out)
{
    hnsw_t *idx = NULL;
    hnsw__stream_t st = {fopen(path, "rb"), 0, false};
    int rc = HNSW_E_IO;
    if (st.hs_file == NULL)
        return HNSW_E_IO;
    setvbuf(st.hs_file, NULL, _IOFBF, HNSW__IO_BUFFER_BYTES);
    hnsw__header_t hd;
    rc = HNSW_E_CORRUPT;
    hnsw__get(&st, &hd, sizeof(hd));
    if (st.hs_failed || memcmp(hd.hd_magic, HNSW__MAGIC, 8) != 0)
        goto fail;
    rc = HNSW_E_VERSION;
    if (hd.hd_version != HNSW__VERSION)
        goto fail;
    rc = HNSW_E_CORRUPT;
    if (hd.hd_count > LIMIT_HNSW_NODES || hd.hd_max_level >= LIMIT_HNSW_LEVELS)
        goto fail;
    rc = hnsw__alloc(hd.hd_dim, (distance_metric_t)hd.hd_metric, hd.hd_m, hd.hd_ef_construction, &idx);
    if (rc != HNSW_OK) {
        rc = rc == HNSW_E_ARG ? HNSW_E_CORRUPT : rc;
        goto fail;
    }
    rc = hnsw_reserve(idx, hd.hd_count);
    if (rc != HNSW_OK)
        goto fail;
    size_t n = hd.hd_count;
    idx->hn_rng = hd.hd_rng;
    hnsw__get(&st, idx->hn_ids, n * sizeof(uint64_t));
    hnsw__get(&st, idx->hn_levels, n);
    hnsw__get(&st, idx->hn_deleted, n);
    hnsw__get(&st, idx->hn_vectors, n * idx->hn_dim * sizeof(float));
    hnsw__get(&st, idx->hn_links0, n * (1 + idx->hn_m0) * sizeof(uint32_t));
    rc = HNSW_E_CORRUPT;
    for (size_t s = 0; s < n && !st.hs_failed; s++) {
        idx->hn_upper[s] = NULL;
        idx->hn_count = (uint32_t)s + 1; /* hnsw_destroy frees upper[0..s] */
        if (idx->hn_levels[s] >= LIMIT_HNSW_LEVELS)
            goto fail;
        if (idx->hn_levels[s] == 0)
            continue;
        size_t bytes = (size_t)idx->hn_levels[s] * (1 + idx->hn_m) * sizeof(uint32_t);
        idx->hn_upper[s] = rt_malloc(bytes);
        if (idx->hn_upper[s] == NULL) {
            rc = HNSW_E_NOMEM;
            goto fail;
        }
        idx->hn_upper_bytes += bytes;
        hnsw__get(&st, idx->hn_upper[s], bytes);
    }
    uint32_t want = st.hs_crc, crc = 0;
    if (!st.hs_failed && fread(&crc, 1, sizeof(crc), st.hs_file) != sizeof(crc))
        st.hs_failed = true;
    if (st.hs_failed || crc != want || fgetc(st.hs_file) != EOF)
        goto fail;
    idx->hn_count = hd.hd_count;
    idx->hn_deleted_count = hd.hd_deleted_count;
    idx->hn_entry = hd.hd_entry;
    idx->hn_max_level = hd.hd_max_level;
    rc = hnsw__validate(idx);
    if (rc != HNSW_OK)
        goto fail;
    fclose(st.hs_file);
    *out = idx;
    return HNSW_OK;
fail:
    fclose(st.hs_file);
    hnsw_destroy(idx);
    return rc;
}
