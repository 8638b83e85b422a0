/*
 * vindex.c -- the shard side of HNSW vector indexes: one graph per (index, shard),
 * built from the table, maintained on writes, searched with snapshot visibility and
 * the scan filter (see vindex.h for the model, sql/README.md for the reasoning).
 *
 * Graph node ids are entry numbers. An entry names a row key and the hash of the
 * vector that was written for it, and the transaction that wrote it; the key map
 * gives the newest entry of each key, so rewriting a row without changing its vector
 * (an UPDATE of another column) adds nothing. Entries never move; tombstoned ones
 * keep their slot in the entry array (the graph compacts its own slots on repair).
 */
#include "sql/vindex.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/crc32c.h"
#include "core/hlc.h"
#include "core/log.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/catalog.h"
#include "sql/types_vector.h"
#include "vector/hnsw.h"

typedef struct vx_entry {
    uint8_t *key;          /* row key (rt_malloc), NULL once tombstoned and unmapped */
    uint32_t klen;
    bool dead;             /* tombstoned in the graph */
    uint64_t hash;         /* type_hash of the indexed vector */
    uint64_t txn_id;       /* writer; 0 = found committed by a build */
    uint32_t prev;         /* the key's previous entry + 1 when this one was added, 0 none */
} vx_entry_t;

/* A key deleted or overwritten by a transaction: once that transaction has ended,
 * the key's entries that no longer match its newest committed row are tombstoned. */
typedef struct vx_pending { uint8_t *key; uint32_t klen; uint64_t txn_id; } vx_pending_t;

typedef struct vx_state {
    uint32_t index_oid, table_oid;
    int vcol, ncols;
    type_oid_t *coltypes;
    uint32_t dim;
    distance_metric_t metric;
    hnsw_t *g;
    vx_entry_t *entries;
    uint32_t n, cap;
    uint32_t *map;          /* open addressing: entry number + 1, 0 = empty */
    uint32_t map_cap, map_used;
    datum_t *dv;            /* decode scratch: ncols values */
    bool *dn;
    uint8_t *abuf;          /* aligned copy of an unaligned row value */
    size_t abuf_cap;
    vx_pending_t *pending;  /* deletes / overwrites not yet swept */
    uint32_t npending, pending_cap;
    /* hlc time of the last tombstoning of an entry some older snapshot could still
     * see: a snapshot older than this may miss an old row version in the graph, so
     * it takes the exact path (sql/README.md, "Garbage") */
    uint64_t gc_ts;
    const vstr_t *missing;  /* the vector column's missing value (ADD COLUMN ... DEFAULT), rt_malloc */
    /* Transactions that held writes on this shard when the graph was registered:
     * their writes predate it (no entries), so a row they commit after the fill's
     * table scan would be missing. While settling, searches take the exact path;
     * once all of them have ended, a catch-up scan adds their rows (state_settle). */
    uint64_t *waitfor;
    uint32_t nwaitfor;
    bool settling;
    bool building;          /* a sliced build (CREATE INDEX) is still filling it */
    bool doomed;            /* dropped while building: the builder frees it */
    uint32_t unsaved;       /* entries added or killed since the last snapshot file */
} vx_state_t;

/* This shard's graphs. */
static __thread struct {
    vx_state_t **st;
    int n, cap;
    uint64_t version;      /* catalog version last synchronised with */
} vx_reg;

/* ---- key map ---- */

static uint64_t key_hash(const uint8_t *k, uint32_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ k[i]) * UINT64_C(0x100000001b3);
    return h ^ (h >> 29);
}

static bool entry_is(const vx_entry_t *e, const uint8_t *k, uint32_t n)
{
    return e->key && e->klen == n && !memcmp(e->key, k, n);
}

/* Slot of key in the map: where it is, or the empty slot where it would go. */
static uint32_t map_slot(const vx_state_t *st, const uint8_t *k, uint32_t n)
{
    uint32_t mask = st->map_cap - 1, i = (uint32_t)key_hash(k, n) & mask;
    while (st->map[i] && !entry_is(&st->entries[st->map[i] - 1], k, n))
        i = (i + 1) & mask;
    return i;
}

static int map_grow(vx_state_t *st)
{
    uint32_t cap = st->map_cap ? st->map_cap * 2 : 1024;
    uint32_t *old = st->map, ocap = st->map_cap;
    st->map = rt_calloc(cap, sizeof(uint32_t));
    if (!st->map) {
        st->map = old;
        return -1;
    }
    st->map_cap = cap;
    for (uint32_t i = 0; i < ocap; i++) {
        if (!old[i])
            continue;
        const vx_entry_t *e = &st->entries[old[i] - 1];
        st->map[map_slot(st, e->key, e->klen)] = old[i];
    }
    rt_free(old);
    return 0;
}

/* Newest entry of key, or -1. */
static int64_t map_get(const vx_state_t *st, const uint8_t *k, uint32_t n)
{
    if (!st->map_cap)
        return -1;
    uint32_t v = st->map[map_slot(st, k, n)];
    return v ? (int64_t)v - 1 : -1;
}

static int map_put(vx_state_t *st, const uint8_t *k, uint32_t n, uint32_t entry)
{
    if ((st->map_used + 1) * 2 > st->map_cap && map_grow(st) < 0)
        return -1;
    uint32_t i = map_slot(st, k, n);
    if (!st->map[i])
        st->map_used++;
    st->map[i] = entry + 1;
    return 0;
}

/* ---- states ---- */

static void state_free(vx_state_t *st)
{
    if (!st)
        return;
    if (st->building) {
        st->doomed = true;      /* the building fiber is suspended in it: it frees */
        return;
    }
    for (uint32_t i = 0; i < st->n; i++)
        rt_free(st->entries[i].key);
    for (uint32_t i = 0; i < st->npending; i++)
        rt_free(st->pending[i].key);
    rt_free(st->pending);
    rt_free(st->entries);
    rt_free(st->map);
    rt_free(st->coltypes);
    rt_free(st->dv);
    rt_free(st->dn);
    rt_free(st->abuf);
    rt_free((void *)st->missing);
    rt_free(st->waitfor);
    hnsw_destroy(st->g);
    rt_free(st);
}

static const cat_vindex_t *find_vindex(const cat_table_t *t, uint32_t index_oid)
{
    for (int i = 0; t && i < t->nvindexes; i++)
        if (t->vindexes[i].oid == index_oid)
            return &t->vindexes[i];
    return NULL;
}

static void files_remove(uint32_t index_oid);

/* Frees the graphs of indexes (or tables) the catalog no longer has. */
static void reg_sync(const catalog_t *cat)
{
    if (cat->version == vx_reg.version)
        return;
    int k = 0;
    for (int i = 0; i < vx_reg.n; i++) {
        vx_state_t *st = vx_reg.st[i];
        if (find_vindex(catalog_table_by_oid(cat, st->table_oid), st->index_oid)) {
            vx_reg.st[k++] = st;
        } else {
            files_remove(st->index_oid);
            state_free(st);
        }
    }
    vx_reg.n = k;
    vx_reg.version = cat->version;
}

static vx_state_t *reg_find(uint32_t index_oid, uint32_t table_oid)
{
    for (int i = 0; i < vx_reg.n; i++)
        if (vx_reg.st[i]->index_oid == index_oid && vx_reg.st[i]->table_oid == table_oid)
            return vx_reg.st[i];
    return NULL;
}

/* The vector column of a stored row: 1 with *vec, 0 when NULL, -1 on a bad row. */
static int row_vector(vx_state_t *st, const uint8_t *val, uint32_t vlen, datum_t *vec)
{
    if ((uintptr_t)val & 3) {
        /* row_decode wants 4-byte alignment (insert messages are not aligned) */
        if (vlen > st->abuf_cap) {
            uint8_t *nb = rt_realloc(st->abuf, vlen);
            if (!nb)
                return -1;
            st->abuf = nb;
            st->abuf_cap = vlen;
        }
        memcpy(st->abuf, val, vlen);
        val = st->abuf;
    }
    if (row_decode(val, vlen, st->ncols, st->coltypes, st->dv, st->dn) < 0)
        return -1;
    if (st->dn[st->vcol] && st->missing && row_stored_columns(val, vlen) <= st->vcol)
        st->dv[st->vcol].s = st->missing;   /* the row predates the column: its default */
    else if (st->dn[st->vcol])
        return 0;
    *vec = st->dv[st->vcol];
    return type_vector_dim(*vec) == st->dim ? 1 : -1;
}

/* Fingerprint of a vector's float bytes, what an entry records to recognise "this row
 * still holds this vector". Not type_hash (a per-element hash meant for joins): this
 * runs for every node a search accepts, so four independent multiply lanes over
 * 8-byte words (~0.1 us at 784 dimensions instead of ~1.5 us). 64 bits: a collision
 * would need two vectors of one key to collide (2^-64 per pair). */
static uint64_t vec_fp(datum_t vec)
{
    const uint8_t *p = (const uint8_t *)type_vector_data(vec);
    size_t n = (size_t)type_vector_dim(vec) * sizeof(float), i = 0;
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t h0 = n, h1 = ~(uint64_t)n, h2 = UINT64_C(0x243f6a8885a308d3), h3 = UINT64_C(0x13198a2e03707344);
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        h0 = (h0 ^ w[0]) * k;
        h1 = (h1 ^ w[1]) * k;
        h2 = (h2 ^ w[2]) * k;
        h3 = (h3 ^ w[3]) * k;
        h0 ^= h0 >> 29, h1 ^= h1 >> 29, h2 ^= h2 >> 29, h3 ^= h3 >> 29;
    }
    for (; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        h0 = (h0 ^ w) * k;
        h0 ^= h0 >> 29;
    }
    uint64_t h = h0 ^ (h1 * 3) ^ (h2 * 5) ^ (h3 * 7);
    h = (h ^ (h >> 31)) * k;
    return h ^ (h >> 32);
}

/* Adds an entry for (key, vec) written by txn_id unless the key's newest entry
 * already has this vector. 0, or a HNSW_E_* code (a zero vector in a cosine index
 * is not indexed, as in pgvector: that is 0). */
static int entry_add(vx_state_t *st, const uint8_t *key, uint32_t klen, datum_t vec, uint64_t txn_id)
{
    uint64_t h = vec_fp(vec);
    int64_t cur = map_get(st, key, klen);
    if (cur >= 0 && !st->entries[cur].dead && st->entries[cur].hash == h)
        return 0;
    if (st->n == st->cap) {
        uint32_t cap = st->cap ? st->cap * 2 : 1024;
        vx_entry_t *ne = rt_realloc(st->entries, (size_t)cap * sizeof *ne);
        if (!ne)
            return HNSW_E_NOMEM;
        st->entries = ne;
        st->cap = cap;
    }
    uint8_t *kc = rt_malloc(klen ? klen : 1);
    if (!kc)
        return HNSW_E_NOMEM;
    memcpy(kc, key, klen);
    uint32_t id = st->n;
    int rc = hnsw_insert(st->g, id, type_vector_data(vec));
    if (rc == HNSW_E_FULL && hnsw_repair(st->g, NULL) == HNSW_OK)
        rc = hnsw_insert(st->g, id, type_vector_data(vec));
    if (rc != HNSW_OK) {
        rt_free(kc);
        return rc == HNSW_E_ZERO_NORM ? 0 : rc;
    }
    st->entries[id] = (vx_entry_t){kc, klen, false, h, txn_id, cur >= 0 ? (uint32_t)cur + 1 : 0};
    st->n++;
    st->unsaved++;
    if (map_put(st, key, klen, id) < 0)
        return HNSW_E_NOMEM;
    return 0;
}

/* ---- snapshot files ----
 *
 * Each shard may keep, per index, DATA/shard-NNN/vindex-OID.graph (hnsw_save: the
 * graph with its CRC-32C) and vindex-OID.entries (the entry table: keys, vector
 * hashes and chains, with the graph file's size and CRC, and its own CRC-32C). They
 * are written after CREATE INDEX, when enough has changed since the last save, and at
 * a clean shutdown. A snapshot needs no WAL position: loading it is followed by a
 * reconcile pass over the table (state_reconcile) that adds the rows whose vector has
 * no live entry and tombstones entries no row holds any more, so any intact snapshot,
 * however old, gives the same answers as a rebuild. Any defect (missing, truncated,
 * checksum, another index's file, a graph that does not match its entries) means a
 * rebuild from the table, never a wrong answer. */

#define VX_FILE_MAGIC "NXDBVXE1"
#define VX_FILE_VERSION 2u      /* 2: entry hashes are vec_fp */
#define VX_SAVE_MIN 50000u      /* changes before a save is considered (then >= live nodes) */

typedef struct vx_file_header {
    char magic[8];
    uint32_t version, index_oid, table_oid, dim, metric, m, ef_construction, n;
    uint64_t graph_bytes;
    uint32_t graph_crc, reserved;
} vx_file_header_t;

static char vx_data_dir[4096];

void vindex_set_data_dir(const char *dir)
{
    snprintf(vx_data_dir, sizeof vx_data_dir, "%s", dir ? dir : "");
}

/* path of one of the two files of index oid on this shard; false when too long or
 * no data directory is set (unit tests) */
static bool file_path(uint32_t index_oid, const char *ext, char *buf, size_t cap)
{
    if (!vx_data_dir[0])
        return false;
    int n = snprintf(buf, cap, "%s/shard-%03d/vindex-%u.%s", vx_data_dir, rt_shard_id(), index_oid, ext);
    return n > 0 && (size_t)n < cap;
}

static void files_remove(uint32_t index_oid)
{
    char p[4200];
    if (file_path(index_oid, "entries", p, sizeof p))
        unlink(p);
    if (file_path(index_oid, "graph", p, sizeof p))
        unlink(p);
}

/* size and trailing CRC (the last 4 bytes) of a graph file */
static bool graph_file_id(const char *path, uint64_t *bytes, uint32_t *crc)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool ok = fseek(f, 0, SEEK_END) == 0;
    long sz = ok ? ftell(f) : -1;
    ok = ok && sz >= 4 && fseek(f, sz - 4, SEEK_SET) == 0 && fread(crc, 4, 1, f) == 1;
    fclose(f);
    *bytes = (uint64_t)sz;
    return ok;
}

typedef struct vx_out { FILE *f; uint32_t crc; bool failed; } vx_out_t;

static void out_put(vx_out_t *o, const void *p, size_t n)
{
    if (o->failed || !n)
        return;
    if (fwrite(p, 1, n, o->f) != n)
        o->failed = true;
    o->crc = crc32c(o->crc, p, n);
}

static bool in_get(FILE *f, uint32_t *crc, void *p, size_t n)
{
    if (n && fread(p, 1, n, f) != n)
        return false;
    *crc = crc32c(*crc, p, n);
    return true;
}

/* Writes this graph's snapshot (blocking stdio on the shard thread: a 1M x 128 graph
 * is ~0.7 GB, see vector/README.md for the cost). Failures are logged; the old pair
 * stays or none (a graph renamed without its entries fails the pairing check). */
static void state_save(vx_state_t *st)
{
    char gpath[4200], epath[4200], tmp[4300];
    if (st->building || st->doomed || !file_path(st->index_oid, "graph", gpath, sizeof gpath) ||
        !file_path(st->index_oid, "entries", epath, sizeof epath))
        return;
    uint64_t t0 = rt_now_us();
    int rc = hnsw_save(st->g, gpath);
    vx_file_header_t h = {.version = VX_FILE_VERSION, .index_oid = st->index_oid, .table_oid = st->table_oid,
                          .dim = st->dim, .metric = (uint32_t)st->metric, .m = hnsw_m(st->g),
                          .ef_construction = hnsw_ef_construction(st->g), .n = st->n};
    memcpy(h.magic, VX_FILE_MAGIC, 8);
    if (rc != HNSW_OK || !graph_file_id(gpath, &h.graph_bytes, &h.graph_crc)) {
        log_warn("vindex: shard %d could not save index %u: %s", rt_shard_id(), st->index_oid,
                 rc != HNSW_OK ? hnsw_strerror(rc) : strerror(errno));
        return;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", epath);
    vx_out_t o = {fopen(tmp, "wb"), 0, false};
    if (!o.f) {
        log_warn("vindex: shard %d could not save index %u: %s", rt_shard_id(), st->index_oid, strerror(errno));
        return;
    }
    out_put(&o, &h, sizeof h);
    for (uint32_t i = 0; i < st->n; i++) {
        const vx_entry_t *e = &st->entries[i];
        uint8_t dead = e->dead;
        out_put(&o, &e->klen, sizeof e->klen);
        out_put(&o, &e->prev, sizeof e->prev);
        out_put(&o, &e->hash, sizeof e->hash);
        out_put(&o, &dead, 1);
        out_put(&o, e->key, e->klen);
    }
    uint32_t crc = o.crc;
    out_put(&o, &crc, sizeof crc);
    bool ok = !o.failed && fflush(o.f) == 0 && fsync(fileno(o.f)) == 0;
    ok = fclose(o.f) == 0 && ok;
    if (!ok || rename(tmp, epath) != 0) {
        log_warn("vindex: shard %d could not save index %u: %s", rt_shard_id(), st->index_oid, strerror(errno));
        unlink(tmp);
        return;
    }
    st->unsaved = 0;
    log_info("vindex: shard %d saved index %u (%u entries) in %llu ms", rt_shard_id(), st->index_oid, st->n,
             (unsigned long long)((rt_now_us() - t0) / 1000));
}

/* Reads the snapshot pair into st (which has no graph yet). 0, or -1 with *why. */
static int state_load_files(vx_state_t *st, const cat_vindex_t *vi, const char **why)
{
    char gpath[4200], epath[4200];
    *why = "no snapshot";
    if (!file_path(st->index_oid, "graph", gpath, sizeof gpath) ||
        !file_path(st->index_oid, "entries", epath, sizeof epath))
        return -1;
    FILE *f = fopen(epath, "rb");
    if (!f)
        return -1;
    int rc = -1;
    uint32_t crc = 0;
    vx_file_header_t h;
    uint64_t gbytes = 0;
    uint32_t gcrc = 0;
    *why = "bad entries header";
    if (!in_get(f, &crc, &h, sizeof h) || memcmp(h.magic, VX_FILE_MAGIC, 8) || h.version != VX_FILE_VERSION)
        goto out;
    *why = "snapshot of another index definition";
    if (h.index_oid != st->index_oid || h.table_oid != st->table_oid || h.dim != st->dim ||
        h.metric != (uint32_t)st->metric || h.m != vi->m || h.ef_construction != vi->ef_construction)
        goto out;
    *why = "graph file missing or not the one the entries were saved with";
    if (!graph_file_id(gpath, &gbytes, &gcrc) || gbytes != h.graph_bytes || gcrc != h.graph_crc)
        goto out;
    int hr = hnsw_load(gpath, &st->g);
    if (hr != HNSW_OK) {
        *why = hnsw_strerror(hr);
        goto out;
    }
    *why = "graph parameters differ";
    if (hnsw_dim(st->g) != st->dim || hnsw_metric(st->g) != st->metric || hnsw_m(st->g) != vi->m ||
        hnsw_ef_construction(st->g) != vi->ef_construction)
        goto out;
    *why = "truncated or corrupt entries";
    if (h.n > hnsw_count(st->g) + hnsw_tombstones(st->g) + (size_t)UINT32_MAX / 2)
        goto out;
    st->cap = h.n > 1024 ? h.n : 1024;
    st->entries = rt_calloc(st->cap, sizeof *st->entries);
    if (!st->entries) {
        *why = "out of memory";
        goto out;
    }
    size_t live = 0;
    for (uint32_t i = 0; i < h.n; i++) {
        vx_entry_t e = {0};
        uint8_t dead;
        if (!in_get(f, &crc, &e.klen, sizeof e.klen) || !in_get(f, &crc, &e.prev, sizeof e.prev) ||
            !in_get(f, &crc, &e.hash, sizeof e.hash) || !in_get(f, &crc, &dead, 1) || dead > 1 ||
            e.klen > LIMIT_VINDEX_KEY_BYTES || e.prev > i)
            goto out;
        if (!(e.key = rt_malloc(e.klen ? e.klen : 1))) {
            *why = "out of memory";
            goto out;
        }
        st->entries[st->n++] = e;           /* owned by st from here on */
        if (!in_get(f, &crc, st->entries[i].key, e.klen))
            goto out;
        st->entries[i].dead = dead;
        if (!dead)
            live++;
        /* the graph holds exactly the live entries */
        if (hnsw_contains(st->g, i) == (bool)dead) {
            *why = "graph and entries disagree";
            goto out;
        }
    }
    uint32_t want = crc, got;
    uint8_t extra;
    if (fread(&got, sizeof got, 1, f) != 1 || fread(&extra, 1, 1, f) != 0)
        goto out;
    *why = "entries checksum mismatch";
    if (got != want)
        goto out;
    *why = "graph and entries disagree";
    if (live != hnsw_count(st->g))
        goto out;
    *why = "out of memory";
    for (uint32_t i = 0; i < st->n; i++)
        if (map_put(st, st->entries[i].key, st->entries[i].klen, i) < 0)
            goto out;
    rc = 0;
out:
    fclose(f);
    return rc;
}

static void entry_kill(vx_state_t *st, uint32_t id);
static void maybe_repair(vx_state_t *st);
static void pending_sweep(vx_state_t *st);

/* After a load: makes the graph answer for the table as it is now (no transaction
 * is live after a restart, so the newest committed rows are all there is). Rows whose
 * vector has no live entry get one; live entries no row holds are tombstoned.
 * 0, or -1 + err. */
static int state_reconcile(vx_state_t *st, const cat_table_t *t, sql_error_t *err)
{
    uint32_t n0 = st->n;
    uint8_t *ok = rt_calloc(n0 ? n0 : 1, 1);
    if (!ok)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    store_iter_t *it = store_iter_open(shard_store(), NULL, UINT64_MAX, t->oid, NULL, 0, NULL, 0);
    if (!it) {
        rt_free(ok);
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    store_val_t k, v;
    int rc = HNSW_OK, bad = 0;
    uint32_t added0 = st->n;
    while (rc == HNSW_OK && !bad && store_iter_next(it, &k, &v) == 1) {
        datum_t vec;
        int has = row_vector(st, v.ptr, v.len, &vec);
        if (has < 0) {
            bad = 1;
            break;
        }
        if (!has)
            continue;
        rc = entry_add(st, k.ptr, k.len, vec, 0);
        int64_t cur = map_get(st, k.ptr, k.len);
        if (cur >= 0 && (uint32_t)cur < n0 && !st->entries[cur].dead &&
            st->entries[cur].hash == vec_fp(vec))
            ok[cur] = 1;
    }
    int ierr = store_iter_error(it);
    store_iter_close(it);
    if (bad || ierr || rc != HNSW_OK) {
        rt_free(ok);
        if (bad)
            return sql_error(err, SQLSTATE_DATA_CORRUPTED, "invalid row in table \"%s\"", t->name);
        if (ierr)
            return txn_store_error(ierr, err);
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    uint32_t killed = 0;
    for (uint32_t i = 0; i < n0; i++) {
        if (!st->entries[i].dead && !ok[i]) {
            entry_kill(st, i);
            killed++;
        }
    }
    rt_free(ok);
    if (killed)
        st->gc_ts = hlc_now();
    maybe_repair(st);
    st->unsaved = killed + (st->n - added0);
    return 0;
}

/* A state for index vi of table t without its graph. */
static vx_state_t *state_new(const cat_table_t *t, const cat_vindex_t *vi)
{
    vx_state_t *st = rt_calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->index_oid = vi->oid;
    st->table_oid = t->oid;
    st->ncols = t->ncols;
    st->vcol = -1;
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].attnum == vi->attnum)
            st->vcol = c;
    ASSERT(st->vcol >= 0 && t->cols[st->vcol].typmod > 0);
    st->dim = (uint32_t)t->cols[st->vcol].typmod;
    st->metric = (distance_metric_t)vi->metric;
    st->coltypes = rt_malloc((size_t)(t->ncols + 1) * sizeof(type_oid_t));
    st->dv = rt_malloc((size_t)(t->ncols + 1) * sizeof(datum_t));
    st->dn = rt_malloc((size_t)(t->ncols + 1));
    if (!st->coltypes || !st->dv || !st->dn) {
        state_free(st);
        return NULL;
    }
    for (int c = 0; c < t->ncols; c++)
        st->coltypes[c] = t->cols[c].type;
    const cat_column_t *vc = &t->cols[st->vcol];
    if (vc->has_missing && vc->missing.s) {
        /* copied: the state outlives this catalog version */
        size_t sz = sizeof(vstr_t) + vc->missing.s->len;
        vstr_t *m = rt_malloc(sz);
        if (!m) {
            state_free(st);
            return NULL;
        }
        memcpy(m, vc->missing.s, sz);
        st->missing = m;
    }
    return st;
}

/* Fills st's graph from the newest committed rows. With may_yield (CREATE INDEX),
 * the fiber yields every LIMIT_VINDEX_BUILD_SLICE_US so the shard keeps serving
 * other statements; meanwhile st is registered with building set (searches take the
 * exact path, writes add their entries as usual). 0; 1 when st was dropped meanwhile
 * (st is freed then); -1 + err. */
static int state_fill(vx_state_t *st, const cat_table_t *t, bool may_yield, const char *what, sql_error_t *err)
{
    uint64_t t0 = rt_now_us(), slice0 = t0;
    store_iter_t *it = store_iter_open(shard_store(), NULL, UINT64_MAX, t->oid, NULL, 0, NULL, 0);
    if (!it)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    store_val_t k, v;
    int rc = HNSW_OK;
    uint32_t yields = 0;
    while (rc == HNSW_OK && store_iter_next(it, &k, &v) == 1) {
        datum_t vec;
        int has = row_vector(st, v.ptr, v.len, &vec);
        if (has < 0) {
            store_iter_close(it);
            return sql_error(err, SQLSTATE_DATA_CORRUPTED, "invalid row in table \"%s\"", t->name);
        }
        if (has)
            rc = entry_add(st, k.ptr, k.len, vec, 0);
        if (may_yield && rc == HNSW_OK && rt_now_us() - slice0 >= LIMIT_VINDEX_BUILD_SLICE_US) {
            rt_yield();         /* k, v are not used past this point */
            yields++;
            if (st->doomed) {
                store_iter_close(it);
                st->building = false;
                state_free(st);
                return 1;
            }
            slice0 = rt_now_us();
        }
    }
    int ierr = store_iter_error(it);
    store_iter_close(it);
    if (ierr)
        return txn_store_error(ierr, err);
    if (rc != HNSW_OK)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    log_info("vindex: shard %d %s index %u (%zu vectors) in %llu ms, %u yields", rt_shard_id(), what, st->index_oid,
             hnsw_count(st->g), (unsigned long long)((rt_now_us() - t0) / 1000), yields);
    return 0;
}

static void state_drop(vx_state_t *st);

/* ---- the build gap ----
 *
 * A graph registered on a shard gets an entry for every write from then on
 * (vindex_on_write), and its fill scans the newest committed rows. A transaction that
 * wrote a row of the table before the registration (CREATE INDEX publishes the
 * definition while writers are in flight; an autocommit INSERT waits for its WAL
 * fsync, a 2PC participant is prepared) and commits after the scan passed that key
 * would leave its row out. So the registration notes those writers (no suspension
 * between the two), and the graph is "settling" until every one of them has ended
 * and a scan that starts after that has run: a yielding build (CREATE INDEX) waits
 * for them before its fill, as PostgreSQL's CREATE INDEX waits for the writers'
 * locks; a build from a statement cannot wait, so it scans at once and a later
 * statement runs the catch-up scan once they have ended. A settling graph is never
 * searched (the exact path answers). */

/* Notes the transactions with writes on st's table here (just registered). 0 or -1. */
static int note_writers(vx_state_t *st)
{
    store_t *store = shard_store();
    size_t n = store_txn_writers(store, st->table_oid, NULL, 0);
    if (!n)
        return 0;
    uint64_t *ids = rt_malloc(n * sizeof *ids);
    if (!ids)
        return -1;
    rt_free(st->waitfor);
    st->waitfor = ids;
    st->nwaitfor = (uint32_t)store_txn_writers(store, st->table_oid, ids, n);   /* same n: no suspension */
    st->settling = true;
    return 0;
}

/* Drops the noted writers that have ended; true when none is left. */
static bool writers_ended(vx_state_t *st)
{
    store_t *store = shard_store();
    uint32_t k = 0;
    for (uint32_t i = 0; i < st->nwaitfor; i++)
        if (store_txn_find(store, st->waitfor[i]))
            st->waitfor[k++] = st->waitfor[i];
    st->nwaitfor = k;
    return k == 0;
}

/* (yielding, st->building set) Waits until the noted writers have ended, or
 * statement_timeout / cancel from w (57014). 0; 1 when st was dropped meanwhile
 * (freed); -1 + err. */
static int wait_writers(vx_state_t *st, const vindex_build_req_t *w, sql_error_t *err)
{
    while (!writers_ended(st)) {
        if (w->cancel && *w->cancel)
            return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to user request");
        uint64_t slice = LIMIT_WAIT_POLL_MS, now = rt_now_us();
        if (w->deadline_us) {
            if (now >= w->deadline_us)
                return sql_error(err, SQLSTATE_QUERY_CANCELED, "canceling statement due to statement timeout");
            if ((w->deadline_us - now) / 1000 + 1 < slice)
                slice = (w->deadline_us - now) / 1000 + 1;
        }
        shard_wait_txn(st->waitfor[0], slice);
        if (st->doomed) {
            st->building = false;
            state_free(st);
            return 1;
        }
    }
    return 0;
}

/* Ends st's settling when its noted writers have all ended: the catch-up scan adds
 * the rows they committed. With w (CREATE INDEX) it waits for them, yielding;
 * without, it returns at once while some are live. 0 (check st->settling); 1 when st
 * was dropped meanwhile (freed); -1 + err (st is dropped). */
static int state_settle(vx_state_t *st, const cat_table_t *t, const vindex_build_req_t *w, sql_error_t *err)
{
    if (!st->settling || st->building || (!w && !writers_ended(st)))
        return 0;
    st->building = w != NULL;
    int rc = w ? wait_writers(st, w, err) : 0;
    if (rc == 1)
        return 1;
    if (rc == 0)
        rc = state_fill(st, t, w != NULL, "caught up", err);
    if (rc == 1)
        return 1;
    st->building = false;
    if (rc < 0) {
        state_drop(st);
        return -1;
    }
    st->settling = false;
    return 0;
}

/* The built graph of index vi on this shard: registered, or loaded from its snapshot
 * and reconciled, or built now (yielding when w: CREATE INDEX, whose build waits for
 * the writers it found, see "the build gap"). NULL + err on failure; NULL without
 * err when a yielding build's index was dropped meanwhile. The result may still be
 * building (another fiber's CREATE INDEX) or settling: searches check both. */
static vx_state_t *state_get(const cat_table_t *t, const cat_vindex_t *vi, const vindex_build_req_t *w,
                             sql_error_t *err)
{
    bool may_yield = w != NULL;
    vx_state_t *st = reg_find(vi->oid, t->oid);
    if (st) {
        if (w && state_settle(st, t, w, err) != 0)
            return NULL;
        return st;
    }
    if (vx_reg.n == vx_reg.cap) {
        int cap = vx_reg.cap ? vx_reg.cap * 2 : 8;
        vx_state_t **ns = rt_realloc(vx_reg.st, (size_t)cap * sizeof *ns);
        if (!ns) {
            sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
        vx_reg.st = ns;
        vx_reg.cap = cap;
    }
    if (!(st = state_new(t, vi))) {
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    uint64_t t0 = rt_now_us();
    const char *why = NULL;
    if (!may_yield && state_load_files(st, vi, &why) == 0) {
        uint64_t t1 = rt_now_us();
        if (state_reconcile(st, t, err) < 0 || note_writers(st) < 0) {
            state_free(st);
            if (!sql_error_is_set(err))
                sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
        log_info("vindex: shard %d loaded index %u (%zu vectors) in %llu ms, reconciled with the table in %llu ms",
                 rt_shard_id(), vi->oid, hnsw_count(st->g), (unsigned long long)((t1 - t0) / 1000),
                 (unsigned long long)((rt_now_us() - t1) / 1000));
        vx_reg.st[vx_reg.n++] = st;
        return st;
    }
    if (why && strcmp(why, "no snapshot"))
        log_warn("vindex: shard %d cannot use the snapshot of index %u (%s): rebuilding from the table",
                 rt_shard_id(), vi->oid, why);
    /* a failed load leaves partial entries and map: start over */
    vx_state_t *fresh = state_new(t, vi);
    state_free(st);
    st = fresh;
    if (!st || hnsw_create(st->dim, st->metric, vi->m, vi->ef_construction, &st->g) != HNSW_OK ||
        note_writers(st) < 0) {
        state_free(st);
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    st->building = may_yield;
    vx_reg.st[vx_reg.n++] = st;     /* from here on every write adds its entry */
    int rc = 0;
    if (w && st->settling) {
        rc = wait_writers(st, w, err);      /* then one scan sees all they committed */
        if (rc == 0)
            st->settling = false;
    }
    if (rc == 0)
        rc = state_fill(st, t, may_yield, "built", err);
    if (rc == 1)
        return NULL;
    st->building = false;
    if (rc < 0) {
        state_drop(st);
        return NULL;
    }
    state_save(st);
    return st;
}

static void state_drop(vx_state_t *st)
{
    for (int i = 0; i < vx_reg.n; i++) {
        if (vx_reg.st[i] == st) {
            vx_reg.st[i] = vx_reg.st[--vx_reg.n];
            break;
        }
    }
    state_free(st);
}

int vindex_build_on_shard(void *arg)
{
    vindex_build_req_t *r = arg;
    const catalog_t *cat = catalog_current();
    reg_sync(cat);
    const cat_table_t *t = catalog_table_by_oid(cat, r->table_oid);
    const cat_vindex_t *vi = find_vindex(t, r->index_oid);
    int rc = 0;
    if (vi && !state_get(t, vi, r, &r->err) && sql_error_is_set(&r->err))
        rc = -1;
    if (!vi && r->index_oid)
        files_remove(r->index_oid);     /* DROP INDEX */
    catalog_unref(cat);
    return rc;
}

void vindex_shard_fini(void)
{
    for (int i = 0; i < vx_reg.n; i++) {
        vx_state_t *st = vx_reg.st[i];
        if (st->unsaved)
            state_save(st);     /* a clean stop: the next start loads it */
        state_free(st);
    }
    rt_free(vx_reg.st);
    memset(&vx_reg, 0, sizeof vx_reg);
}

/* ---- maintenance ---- */

/* Whether the entry's row no longer has its vector for anyone: its writer has ended
 * and the newest committed version is gone or holds another vector. */
static bool entry_garbage(vx_state_t *st, store_t *store, const vx_entry_t *e)
{
    if (e->txn_id && store_txn_find(store, e->txn_id))
        return false;
    store_val_t v;
    int rc = store_get(store, NULL, UINT64_MAX, st->table_oid, e->key, e->klen, &v);
    if (rc == STORE_NOTFOUND)
        return true;
    if (rc != STORE_OK)
        return false;
    datum_t vec;
    return row_vector(st, v.ptr, v.len, &vec) != 1 || vec_fp(vec) != e->hash;
}

static void entry_kill(vx_state_t *st, uint32_t id)
{
    if (st->entries[id].dead)
        return;
    hnsw_delete(st->g, id);
    st->entries[id].dead = true;
    st->unsaved++;
    /* a snapshot older than now may still see this entry's row version */
    st->gc_ts = hlc_now();
}

/* Repairs once tombstones are a quarter of the graph (and LIMIT_VINDEX_REPAIR_MIN). */
static void maybe_repair(vx_state_t *st)
{
    size_t dead = hnsw_tombstones(st->g);
    if (dead < LIMIT_VINDEX_REPAIR_MIN || dead * 4 < hnsw_count(st->g) + dead)
        return;
    hnsw_repair_stats_t rs;
    if (hnsw_repair(st->g, &rs) == HNSW_OK)
        log_info("vindex: shard %d repaired index %u: %u tombstones removed", rt_shard_id(), st->index_oid,
                 rs.removed_count);
}

/* Tombstones the garbage entries of keys whose deleting / overwriting transaction
 * has ended (walking each key's entry chain); keeps the others pending. */
static void pending_sweep(vx_state_t *st)
{
    store_t *store = shard_store();
    uint32_t k = 0;
    for (uint32_t i = 0; i < st->npending; i++) {
        vx_pending_t *p = &st->pending[i];
        if (store_txn_find(store, p->txn_id)) {
            st->pending[k++] = *p;
            continue;
        }
        for (int64_t e = map_get(st, p->key, p->klen); e >= 0; e = (int64_t)st->entries[e].prev - 1)
            if (!st->entries[e].dead && entry_garbage(st, store, &st->entries[e]))
                entry_kill(st, (uint32_t)e);
        rt_free(p->key);
    }
    st->npending = k;
    maybe_repair(st);
}

/* Remembers that txn_id deleted or overwrote key (when the key is indexed). */
static void pending_add(vx_state_t *st, const uint8_t *key, uint32_t klen, uint64_t txn_id)
{
    if (map_get(st, key, klen) < 0)
        return;
    if (st->npending == st->pending_cap) {
        if (st->pending_cap >= LIMIT_VINDEX_PENDING) {
            pending_sweep(st);          /* full: the lazy path (searches) catches the rest */
            if (st->npending == st->pending_cap)
                return;
        } else {
            uint32_t cap = st->pending_cap ? st->pending_cap * 2 : 256;
            vx_pending_t *np = rt_realloc(st->pending, (size_t)cap * sizeof *np);
            if (!np)
                return;
            st->pending = np;
            st->pending_cap = cap;
        }
    }
    uint8_t *kc = rt_malloc(klen ? klen : 1);
    if (!kc)
        return;
    memcpy(kc, key, klen);
    st->pending[st->npending++] = (vx_pending_t){kc, klen, txn_id};
}

void vindex_on_write(uint64_t txn_id, uint32_t table_id, const uint8_t *key, uint32_t klen, const uint8_t *val,
                     uint32_t vlen, bool is_delete)
{
    const catalog_t *cat = catalog_current();
    reg_sync(cat);          /* one comparison unless DDL ran: frees dropped graphs */
    const cat_table_t *t = catalog_table_by_oid(cat, table_id);
    if (!t || !t->nvindexes)
        goto out;
    for (int i = 0; i < t->nvindexes; i++) {
        sql_error_t err = {0};
        vx_state_t *st = state_get(t, &t->vindexes[i], NULL, &err);
        if (!st) {
            log_error("vindex: index %u unavailable on shard %d: %s", t->vindexes[i].oid, rt_shard_id(), err.message);
            continue;
        }
        pending_add(st, key, klen, txn_id);
        if (is_delete)
            continue;
        datum_t vec;
        int has = row_vector(st, val, vlen, &vec);
        int rc = has > 0 ? entry_add(st, key, klen, vec, txn_id) : 0;
        if (has < 0 || rc != HNSW_OK) {
            /* a graph missing a row would give wrong answers: drop it, the next
             * statement rebuilds it from the table */
            log_error("vindex: index %u on shard %d dropped for a rebuild: %s", st->index_oid, rt_shard_id(),
                      has < 0 ? "bad row" : hnsw_strerror(rc));
            state_drop(st);
        } else if (!st->building && st->unsaved >= VX_SAVE_MIN && st->unsaved >= hnsw_count(st->g)) {
            state_save(st);     /* bounds the work a restart's reconcile has to redo */
        }
    }
out:
    catalog_unref(cat);
}

/* ---- search ---- */

typedef struct vx_search {
    frag_scan_t *f;
    vx_state_t *st;
    store_t *store;
    store_txn_t *txn;
    uint64_t snap;
    batch_t *one;              /* decode target, 1 row */
    arena_t tmp;               /* filter evaluation, reset per row */
    uint64_t *seen;            /* accepted key hashes (+1; 0 = empty), open addressing */
    uint32_t seen_cap, seen_used;
    uint32_t *garbage;
    uint32_t ngarbage;
    uint32_t sampled_visible, sampled_accepted;
    bool visible;              /* entry_check: the row is visible with this vector */
    bool failed;
} vx_search_t;

static void note_garbage(vx_search_t *s, uint32_t id)
{
    if (s->ngarbage < LIMIT_VINDEX_GC_BATCH && entry_garbage(s->st, s->store, &s->st->entries[id]))
        s->garbage[s->ngarbage++] = id;
}

/* Whether the key was accepted before in this search (and records it if not). */
static bool seen_before(vx_search_t *s, const vx_entry_t *e)
{
    if ((s->seen_used + 1) * 2 > s->seen_cap) {
        uint32_t cap = s->seen_cap ? s->seen_cap * 2 : 256;
        uint64_t *ns = arena_alloc(&s->f->scratch, (size_t)cap * sizeof(uint64_t));
        if (!ns) {
            s->failed = true;
            sql_error(&s->f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            return true;
        }
        memset(ns, 0, (size_t)cap * sizeof(uint64_t));
        for (uint32_t i = 0; i < s->seen_cap; i++) {
            if (!s->seen[i])
                continue;
            uint32_t j = (uint32_t)s->seen[i] & (cap - 1);
            while (ns[j])
                j = (j + 1) & (cap - 1);
            ns[j] = s->seen[i];
        }
        s->seen = ns;
        s->seen_cap = cap;
    }
    /* keys are compared by a 64-bit hash: a collision would drop one row from one
     * result (2^-64 per pair), never return a wrong one */
    uint64_t h = key_hash(e->key, e->klen) | 1;
    uint32_t j = (uint32_t)h & (s->seen_cap - 1);
    while (s->seen[j]) {
        if (s->seen[j] == h)
            return true;
        j = (j + 1) & (s->seen_cap - 1);
    }
    s->seen[j] = h;
    s->seen_used++;
    return false;
}

/* 1 when the row of entry id is visible with this vector and passes the filter,
 * 0 when not, -1 on error (s->failed). */
static int entry_check(vx_search_t *s, uint32_t id)
{
    vx_entry_t *e = &s->st->entries[id];
    s->visible = false;
    if (e->dead || s->failed)
        return 0;
    store_val_t v;
    int rc = store_get(s->store, s->txn, s->snap, s->st->table_oid, e->key, e->klen, &v);
    if (rc == STORE_NOTFOUND) {
        note_garbage(s, id);
        return 0;
    }
    if (rc != STORE_OK) {
        s->failed = true;
        return txn_store_error(rc, &s->f->err);
    }
    const bexpr_t *filter = s->f->plan->scan.filter;
    if (!filter) {
        /* no WHERE: only the vector column is needed, decoded in place (the
         * statement's own full decode is for the k rows returned) */
        datum_t vec;
        if (row_vector(s->st, v.ptr, v.len, &vec) != 1 || vec_fp(vec) != e->hash) {
            note_garbage(s, id);
            return 0;
        }
        s->visible = true;
        return 1;
    }
    if (frag_scan_decode(s->f, s->one, 0, &v) < 0) {
        s->failed = true;
        return -1;
    }
    const datum_t vec = s->one->vals[s->st->vcol][0];
    if (s->one->nulls[s->st->vcol][0] || type_vector_dim(vec) != s->st->dim || vec_fp(vec) != e->hash) {
        note_garbage(s, id);
        return 0;
    }
    s->one->nrows = 1;
    s->visible = true;
    arena_reset(&s->tmp);
    arena_t *saved = s->f->ex.arena;
    s->f->ex.arena = &s->tmp;
    int sel0;
    int n = expr_filter(&s->f->ex, filter, s->one, &sel0, &s->f->err);
    s->f->ex.arena = saved;
    if (n < 0) {
        s->failed = true;
        return -1;
    }
    return n;
}

static bool search_filter(uint64_t id, void *arg)
{
    vx_search_t *s = arg;
    return entry_check(s, (uint32_t)id) == 1 && !seen_before(s, &s->st->entries[id]);
}

/* Estimated share of visible rows the filter accepts, from a sample of entries. */
static double sample_selectivity(vx_search_t *s)
{
    uint32_t n = s->st->n, want = n < LIMIT_VINDEX_SAMPLE ? n : LIMIT_VINDEX_SAMPLE;
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15) ^ n;
    for (uint32_t i = 0; i < want && !s->failed; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;        /* xorshift64 */
        uint32_t id = n == want ? i : (uint32_t)(x % n);
        if (s->st->entries[id].dead)
            continue;
        int r = entry_check(s, id);
        if (r < 0)
            break;
        s->sampled_visible += s->visible;
        s->sampled_accepted += r == 1;
    }
    return s->sampled_visible ? (double)s->sampled_accepted / s->sampled_visible : 0.0;
}

/* Tombstones the garbage the search met, and repairs when due. */
static void collect_garbage(vx_search_t *s)
{
    for (uint32_t i = 0; i < s->ngarbage; i++)
        entry_kill(s->st, s->garbage[i]);
    /* after the search, not before: tombstoning moves gc_ts past this statement's
     * snapshot, and the next statement's snapshot is newer anyway */
    if (s->st->npending)
        pending_sweep(s->st);
    maybe_repair(s->st);
}

static int search_fail(vx_search_t *s)
{
    arena_destroy(&s->tmp);
    if (!sql_error_is_set(&s->f->err))
        sql_error(&s->f->err, SQLSTATE_INTERNAL_ERROR, "vector index search failed");
    return -1;
}

/* Without a WHERE clause most candidates are visible, so the graph is searched
 * unfiltered for the ef nearest and only those are checked against the table, in
 * distance order, until k visible rows are decoded into *rows -- one point get per
 * returned row instead of one per node the search accepts plus one per result.
 * 0: *rows holds k rows; 1: fewer than k visible (the caller searches filtered);
 * -1: error (in s->f->err). */
static int topk_post_check(vx_search_t *s, datum_t q, uint32_t k, uint32_t ef, batch_t **rows)
{
    frag_scan_t *f = s->f;
    vx_state_t *st = s->st;
    uint32_t efc = ef > HNSW_EF_SEARCH_MAX ? HNSW_EF_SEARCH_MAX : ef;
    uint32_t want = efc > k ? efc : k;
    if (want > LIMIT_HNSW_K_MAX)
        want = LIMIT_HNSW_K_MAX;
    hnsw_result_t *cand = arena_alloc(&f->scratch, (size_t)(want + 1) * sizeof *cand);
    batch_t *out = batch_new(&f->scratch, f->plan->scan.table->ncols, (int)k);
    if (!cand || !out)
        return sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    uint32_t m = 0;
    int rc = hnsw_search(st->g, type_vector_data(q), want, efc < want ? want : efc, NULL, NULL, cand, &m);
    if (rc != HNSW_OK)
        return 1;          /* the filtered search reports it */
    for (uint32_t i = 0; i < m && (uint32_t)out->nrows < k; i++) {
        vx_entry_t *e = &st->entries[cand[i].id];
        if (e->dead)
            continue;
        store_val_t v;
        int g = store_get(s->store, s->txn, s->snap, st->table_oid, e->key, e->klen, &v);
        if (g == STORE_NOTFOUND) {
            note_garbage(s, cand[i].id);
            continue;
        }
        if (g != STORE_OK)
            return txn_store_error(g, &f->err);
        datum_t vec;
        if (row_vector(st, v.ptr, v.len, &vec) != 1 || vec_fp(vec) != e->hash) {
            note_garbage(s, cand[i].id);
            continue;
        }
        if (seen_before(s, e)) {
            if (s->failed)
                return -1;
            continue;
        }
        if (frag_scan_decode(f, out, out->nrows, &v) < 0)
            return -1;
        out->nrows++;
    }
    if ((uint32_t)out->nrows < k)
        return 1;
    *rows = out;
    return 0;
}

int vindex_topk(frag_scan_t *f, uint32_t k, batch_t **rows)
{
    const plan_topk_t *tk = f->plan->scan.topk;
    const cat_table_t *t = f->plan->scan.table;
    const catalog_t *cat = catalog_current();
    reg_sync(cat);
    /* an index dropped since the statement bound is not rebuilt for it */
    bool current = find_vindex(catalog_table_by_oid(cat, t->oid), tk->index->oid) != NULL;
    catalog_unref(cat);     /* the statement's own snapshot keeps t alive */
    if (!current)
        return 1;
    if (k > LIMIT_HNSW_K_MAX)
        return 1;          /* more than one graph search returns */
    vx_state_t *st = state_get(t, tk->index, NULL, &f->err);
    if (!st)
        return -1;
    if (st->building)
        return 1;          /* CREATE INDEX is still filling it on this shard */
    if (st->settling && (state_settle(st, t, NULL, &f->err) < 0 || st->settling))
        return sql_error_is_set(&f->err) ? -1 : 1;     /* writers of before the build are live */
    datum_t q;
    bool qnull;
    f->ex.arena = &f->scratch;
    if (expr_eval_const(&f->ex, tk->query, &q, &qnull, &f->err) < 0)
        return -1;
    if (qnull)
        return 1;          /* every distance is NULL: the exact path orders them */
    if (type_vector_dim(q) != st->dim)
        return sql_error(&f->err, TYPES_VECTOR_SQLSTATE_DATA, "different vector dimensions %u and %u", st->dim,
                         type_vector_dim(q));
    vx_search_t s = {.f = f, .st = st, .store = shard_store(), .txn = txn_shard_get(f->txn, false)};
    if (txn_read_snap_wait(f->txn, &s.snap, &f->err) < 0)
        return -1;
    if (s.snap < st->gc_ts)
        return 1;          /* entries this snapshot may need were tombstoned after it began */
    arena_init(&s.tmp, LIMIT_SQL_STMT_ARENA_BYTES);
    s.one = batch_new(&f->scratch, t->ncols, 1);
    s.garbage = arena_alloc(&f->scratch, LIMIT_VINDEX_GC_BATCH * sizeof(uint32_t));
    hnsw_result_t *res = arena_alloc(&f->scratch, (size_t)(k + 1) * sizeof *res);
    if (!s.one || !s.garbage || !res) {
        sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return search_fail(&s);
    }
    uint32_t ef = f->ef_search > k ? f->ef_search : k;
    if (f->plan->scan.filter) {
        /* graph cost grows as 1/selectivity, an exact filtered scan as n * s: the
         * crossover is near s = sqrt(V / n) with V the distances of one search */
        double sel = sample_selectivity(&s);
        if (s.failed)
            return search_fail(&s);
        double live = (double)hnsw_count(st->g), v = (double)LIMIT_VINDEX_VISITS_PER_EF * ef;
        if (live > 0 && sel < sqrt(v / live)) {
            collect_garbage(&s);
            arena_destroy(&s.tmp);
            return 1;
        }
    }
    if (!f->plan->scan.filter) {
        int r = topk_post_check(&s, q, k, ef, rows);
        if (r <= 0) {
            if (r < 0)
                return search_fail(&s);
            collect_garbage(&s);
            arena_destroy(&s.tmp);
            return 0;
        }
        /* fewer than k of the ef nearest are visible: the filtered search below
         * keeps walking until k visible rows are held; start it afresh */
        s.ngarbage = 0;
        s.seen_used = 0;
        if (s.seen)
            memset(s.seen, 0, (size_t)s.seen_cap * sizeof(uint64_t));
    }
    uint32_t n = 0;
    int rc = hnsw_search(st->g, type_vector_data(q), k, ef > HNSW_EF_SEARCH_MAX ? HNSW_EF_SEARCH_MAX : ef,
                         search_filter, &s, res, &n);
    if (s.failed)
        return search_fail(&s);
    if (rc == HNSW_E_ZERO_NORM) {
        arena_destroy(&s.tmp);
        return 1;          /* cosine of a zero query is NaN for every row */
    }
    if (rc != HNSW_OK) {
        sql_error(&f->err, rc == HNSW_E_NOMEM ? SQLSTATE_OUT_OF_MEMORY : SQLSTATE_INTERNAL_ERROR,
                  "vector index search failed: %s", hnsw_strerror(rc));
        return search_fail(&s);
    }
    if (n < k) {
        /* fewer than k accepted rows reachable in the graph (a node stranded before
         * repair, or fewer than k rows qualify at all): the exact path decides, so
         * LIMIT is filled whenever k rows qualify */
        collect_garbage(&s);
        arena_destroy(&s.tmp);
        return 1;
    }
    batch_t *out = batch_new(&f->scratch, t->ncols, n ? (int)n : 1);
    if (!out) {
        sql_error(&f->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return search_fail(&s);
    }
    for (uint32_t i = 0; i < n; i++) {
        const vx_entry_t *e = &st->entries[res[i].id];
        store_val_t v;
        int g = store_get(s.store, s.txn, s.snap, st->table_oid, e->key, e->klen, &v);
        if (g != STORE_OK) {
            txn_store_error(g == STORE_NOTFOUND ? STORE_EINVAL : g, &f->err);
            return search_fail(&s);
        }
        if (frag_scan_decode(f, out, out->nrows, &v) < 0)
            return search_fail(&s);
        out->nrows++;
    }
    collect_garbage(&s);
    arena_destroy(&s.tmp);
    *rows = out;
    return 0;
}
