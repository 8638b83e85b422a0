/*
 * wal.c -- the shard WAL's on-disk format: record encoding, segment files, and
 * recovery (replay into the memtable, torn-tail cut, corruption detection). The format
 * is documented in shards/README.md (version WAL_FORMAT_VERSION). Writes of record
 * bytes happen in store.c through store_io; this file only creates, truncates and
 * reads segment files (synchronous system calls, used at open and once per segment).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "core/rt.h"
#include "shards/store_int.h"

static void wal_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wal_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t wal_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t wal_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

bool store__buf_reserve(store_buf_t *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = rt_realloc(b->ptr, cap);
    if (!p)
        return false;
    b->ptr = p;
    b->cap = cap;
    return true;
}

/* Fills the record header in front of a payload of plen bytes at rec. */
static void wal_seal(uint8_t *rec, uint32_t type, uint64_t lsn, uint32_t plen)
{
    wal_put32(rec, plen);
    wal_put32(rec + 8, type);
    wal_put64(rec + 12, lsn);
    wal_put32(rec + 20, 0);    /* range id: 0 until ranges exist (DESIGN.md section 9) */
    wal_put32(rec + 4, crc32c(0, rec + 8, WAL_REC_HDR_BYTES - 8 + (size_t)plen));
}

uint32_t wal_encode_commit(store_buf_t *b, uint64_t lsn, const store_txn_t *t)
{
    size_t size = WAL_REC_HDR_BYTES + 20;
    uint32_t count = 0, refs = spill_ref_count(t);
    for (uint32_t i = 0; i < t->writes_count; i++) {
        const mt_node_t *n = t->writes[i];
        const mt_ver_t *v = n->vers;
        if (v->kind == MT_LOCK)
            continue;
        size += 13 + (size_t)n->klen + v->vlen;
        count++;
    }
    size += (13 + 8) * (size_t)refs;
    count += refs;
    if (size > LIMIT_WAL_RECORD_BYTES || !store__buf_reserve(b, size))
        return 0;
    uint8_t *rec = b->ptr + b->len, *p = rec + WAL_REC_HDR_BYTES;
    wal_put64(p, t->txn_id);
    wal_put64(p + 8, t->commit_ts);
    wal_put32(p + 16, count);
    p += 20;
    for (uint32_t i = 0; i < t->writes_count; i++) {
        const mt_node_t *n = t->writes[i];
        const mt_ver_t *v = n->vers;
        if (v->kind == MT_LOCK)
            continue;
        wal_put32(p, n->table_id);
        p[4] = v->kind == MT_TOMB ? WAL_OP_DELETE : WAL_OP_PUT;
        wal_put32(p + 5, n->klen);
        wal_put32(p + 9, v->vlen);
        p += 13;
        memcpy(p, mt_key(n), n->klen);
        p += n->klen;
        if (v->vlen)
            memcpy(p, v->val, v->vlen);
        p += v->vlen;
    }
    for (uint32_t i = 0; i < t->runs_count; i++) {
        if (!t->runs[i].in_sst)
            continue;
        /* a spilled run in sst/ (phase one of a two-phase commit): its file number */
        wal_put32(p, 0);
        p[4] = WAL_OP_RUN;
        wal_put32(p + 5, 8);
        wal_put32(p + 9, 0);
        wal_put64(p + 13, t->runs[i].file_no);
        p += 21;
    }
    ASSERT((size_t)(p - rec) == size);
    wal_seal(rec, WAL_REC_COMMIT, lsn, (uint32_t)(size - WAL_REC_HDR_BYTES));
    b->len += size;
    return (uint32_t)size;
}

uint32_t wal_encode_txn(store_buf_t *b, uint64_t lsn, const store_txn_t *t, uint32_t type)
{
    size_t len0 = b->len;
    uint32_t nparts = type == WAL_REC_STAGED ? t->nparts : 0;
    size_t extra = 4 + (size_t)nparts * 4;
    if (nparts > LIMIT_SHARDS_MAX)
        return 0;
    uint32_t n = wal_encode_commit(b, lsn, t);
    if (!n || !store__buf_reserve(b, extra))
        return 0;
    if (n + extra > LIMIT_WAL_RECORD_BYTES) {
        b->len = len0;
        return 0;
    }
    /* Same payload as COMMIT with aux (4 bytes) between the count and the writes, and
     * for STAGED the participants' shard ids after aux. */
    uint8_t *rec = b->ptr + len0, *w = rec + WAL_REC_HDR_BYTES + 20;
    memmove(w + extra, w, n - WAL_REC_HDR_BYTES - 20);
    wal_put32(w, type == WAL_REC_PREPARE ? t->coord : nparts);
    for (uint32_t i = 0; i < nparts; i++)
        wal_put32(w + 4 + 4 * (size_t)i, t->parts[i]);
    wal_seal(rec, type, lsn, (uint32_t)(n + extra - WAL_REC_HDR_BYTES));
    b->len = len0 + n + extra;
    return (uint32_t)(n + extra);
}

uint32_t wal_encode_abort_prepared(store_buf_t *b, uint64_t lsn, uint64_t txn_id)
{
    size_t size = WAL_REC_HDR_BYTES + 8;
    if (!store__buf_reserve(b, size))
        return 0;
    uint8_t *rec = b->ptr + b->len;
    wal_put64(rec + WAL_REC_HDR_BYTES, txn_id);
    wal_seal(rec, WAL_REC_ABORT_PREPARED, lsn, 8);
    b->len += size;
    return (uint32_t)size;
}

uint32_t wal_encode_clear(store_buf_t *b, uint64_t lsn, uint32_t table_id, uint64_t ts)
{
    size_t size = WAL_REC_HDR_BYTES + 12;
    if (!store__buf_reserve(b, size))
        return 0;
    uint8_t *rec = b->ptr + b->len;
    wal_put32(rec + WAL_REC_HDR_BYTES, table_id);
    wal_put64(rec + WAL_REC_HDR_BYTES + 4, ts);
    wal_seal(rec, WAL_REC_CLEAR, lsn, 12);
    b->len += size;
    return (uint32_t)size;
}

static void wal_seg_header(uint8_t *h, int shard_id, uint64_t first_lsn)
{
    memset(h, 0, WAL_SEG_HDR_BYTES);
    memcpy(h, WAL_MAGIC, 8);
    wal_put32(h + 8, WAL_FORMAT_VERSION);
    wal_put32(h + 12, (uint32_t)shard_id);
    wal_put64(h + 16, first_lsn);
    wal_put32(h + 24, crc32c(0, h, 24));
}

static void wal_seg_path(const store_t *st, uint64_t first_lsn, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%016" PRIx64 ".wal", st->wal_dir, first_lsn);
}

int wal_prepare_segment(store_t *st, size_t batch_bytes, uint64_t first_lsn,
                        uint8_t hdr_out[WAL_SEG_HDR_BYTES])
{
    if (st->seg_new) {
        /* Created earlier but its first write was never submitted (ENOMEM). */
        wal_seg_header(hdr_out, st->shard_id, st->seg_first_lsn);
        return 1;
    }
    if (st->seg_fd >= 0 &&
        (st->seg_off <= WAL_SEG_HDR_BYTES || st->seg_off + batch_bytes <= st->segment_bytes))
        return 0;
    wal_seg_header(hdr_out, st->shard_id, first_lsn);
    char path[4096];
    wal_seg_path(st, first_lsn, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("wal: cannot create %s: %s", path, strerror(errno));
        return STORE_EIO;
    }
    if (fsync(st->wal_dirfd) != 0) {
        log_error("wal: fsync of %s failed: %s", st->wal_dir, strerror(errno));
        close(fd);
        return STORE_EIO;
    }
    if (st->seg_fd >= 0)
        close(st->seg_fd);
    st->seg_fd = fd;
    st->seg_off = 0;
    st->seg_new = true;
    st->seg_first_lsn = first_lsn;
    return 1;
}

void wal_close(store_t *st)
{
    if (st->seg_fd >= 0)
        close(st->seg_fd);
    if (st->wal_dirfd >= 0)
        close(st->wal_dirfd);
    st->seg_fd = st->wal_dirfd = -1;
}

/* ---- recovery ---- */

/* 1 when a well-formed record with the expected LSN starts at off. */
static bool wal_rec_valid(const uint8_t *buf, size_t size, size_t off, uint64_t lsn,
                          uint32_t *rec_bytes)
{
    if (size - off < WAL_REC_HDR_BYTES)
        return false;
    const uint8_t *r = buf + off;
    uint32_t plen = wal_get32(r), type = wal_get32(r + 8);
    if (type < WAL_REC_COMMIT || type > WAL_REC_TYPE_MAX)
        return false;
    if (wal_get64(r + 12) != lsn || wal_get32(r + 20) != 0)
        return false;
    if (plen > LIMIT_WAL_RECORD_BYTES || plen > size - off - WAL_REC_HDR_BYTES)
        return false;
    if (crc32c(0, r + 8, WAL_REC_HDR_BYTES - 8 + (size_t)plen) != wal_get32(r + 4))
        return false;
    *rec_bytes = WAL_REC_HDR_BYTES + plen;
    return true;
}

/* True when any valid record with an LSN >= lsn starts after off: then the bad bytes
 * at off are corruption, not a torn tail. */
static bool wal_valid_follows(const uint8_t *buf, size_t size, size_t off, uint64_t lsn)
{
    for (size_t p = off + 1; p + WAL_REC_HDR_BYTES <= size; p++) {
        uint64_t l = wal_get64(buf + p + 12);
        uint32_t n;
        if (l >= lsn && l - lsn < (1ull << 32) && wal_rec_valid(buf, size, p, l, &n))
            return true;
    }
    return false;
}

/* Walks the writes of a COMMIT-like payload (hdr bytes before them). With t: each
 * becomes an intent of t (PREPARE); else a committed version at ts (skipped when
 * apply is false: the record is in the sorted tables already, only checked). */
static int wal_apply_writes(store_t *st, const uint8_t *p, uint32_t plen, uint32_t hdr,
                            store_txn_t *t, bool apply)
{
    if (plen < hdr)
        return STORE_ECORRUPT;
    uint64_t ts = wal_get64(p + 8);
    uint32_t count = wal_get32(p + 16);
    const uint8_t *end = p + plen;
    p += hdr;
    for (uint32_t i = 0; i < count; i++) {
        if (end - p < 13)
            return STORE_ECORRUPT;
        uint32_t table = wal_get32(p), klen = wal_get32(p + 5), vlen = wal_get32(p + 9);
        int op = p[4];
        p += 13;
        if ((op != WAL_OP_PUT && op != WAL_OP_DELETE && op != WAL_OP_RUN) ||
            klen > LIMIT_KEY_BYTES || (size_t)(end - p) < (size_t)klen + vlen ||
            (op == WAL_OP_RUN && (klen != 8 || vlen != 0 || table != 0)))
            return STORE_ECORRUPT;
        if (op == WAL_OP_RUN) {
            int rc = spill_recover_ref(st, t, wal_get64(p));
            if (rc)
                return rc;
        } else if (apply || t) {
            mt_node_t *n = memtable_upsert(&st->mt, table, p, klen);
            mt_ver_t *v = n ? memtable_ver_new(&st->mt, op == WAL_OP_PUT ? MT_VALUE : MT_TOMB,
                                               t ? t->txn_id : 0, t ? 0 : ts, p + klen, vlen)
                            : NULL;
            if (!v)
                return STORE_ENOMEM;
            if (t) {
                if (n->vers && n->vers->txn_id) {
                    memtable_ver_free(&st->mt, v);
                    return STORE_ECORRUPT;    /* two prepared transactions wrote one key */
                }
                if (store__txn_add_write(t, n) != 0) {
                    memtable_ver_free(&st->mt, v);
                    return STORE_ENOMEM;
                }
                v->next = n->vers;
                n->vers = v;
            } else {
                v->lsn = st->next_lsn;
                memtable_link_committed(n, v);
            }
        }
        p += klen + vlen;
    }
    if (p != end)
        return STORE_ECORRUPT;
    if (apply && !t)
        store__note_ts(st, ts);
    return 0;
}

/* apply false: the record is at or below the flushed LSN (its data is in the sorted
 * tables), but two-phase-commit state is still rebuilt from it. */
static int wal_apply(store_t *st, const uint8_t *rec, bool apply)
{
    uint32_t plen = wal_get32(rec), type = wal_get32(rec + 8);
    const uint8_t *p = rec + WAL_REC_HDR_BYTES;
    store_txn_t *t;
    int rc;
    switch (type) {
    case WAL_REC_COMMIT:
        return apply ? wal_apply_writes(st, p, plen, 20, NULL, true) : 0;
    case WAL_REC_CLEAR:
        if (!apply)
            return 0;
        if (plen != 12)
            return STORE_ECORRUPT;
        memtable_clear_table(&st->mt, wal_get32(p));
        store__note_ts(st, wal_get64(p + 4));
        return flush_note_clear(st, wal_get32(p));
    case WAL_REC_PREPARE:
    case WAL_REC_STAGED: {
        if (plen < 24 || store_txn_find(st, wal_get64(p)) || wal_get64(p) == 0)
            return STORE_ECORRUPT;
        uint32_t nparts = type == WAL_REC_STAGED ? wal_get32(p + 20) : 0;
        if (nparts > LIMIT_SHARDS_MAX || plen < 24 + 4 * nparts)
            return STORE_ECORRUPT;
        t = store__txn_recovered(st, wal_get64(p));
        if (!t)
            return STORE_ENOMEM;
        t->commit_ts = wal_get64(p + 8);
        t->coord = type == WAL_REC_STAGED ? (uint32_t)st->shard_id : wal_get32(p + 20);
        t->state = TXN_PREPARED;
        t->prepare_lsn = st->next_lsn;
        store__pend_sync(st, t);
        rc = store__note_vote(st, type, t->txn_id, t->commit_ts, p + 24, nparts);
        if (rc == 0)
            rc = wal_apply_writes(st, p, plen, 24 + 4 * nparts, t, false);
        if (rc == 0)
            store__note_ts(st, t->commit_ts);
        return rc;
    }
    case WAL_REC_COMMIT_2PC:
        if (plen < 24)
            return STORE_ECORRUPT;
        /* After a STAGED record of the same transaction (one-round commit) it ends
         * that prepared state: the writes are in this record again. */
        t = store_txn_find(st, wal_get64(p));
        if (t)
            store__txn_forget(st, t);
        rc = store__note_decision(st, wal_get64(p), wal_get64(p + 8));
        return rc ? rc : wal_apply_writes(st, p, plen, 24, NULL, apply);
    case WAL_REC_COMMIT_PREPARED:
    case WAL_REC_ABORT_PREPARED:
        if (plen < 8 || (type == WAL_REC_ABORT_PREPARED && plen != 8) ||
            (type == WAL_REC_COMMIT_PREPARED && plen < 24))
            return STORE_ECORRUPT;
        t = store_txn_find(st, wal_get64(p));
        if (t)
            store__txn_forget(st, t);
        rc = store__note_vote(st, type, wal_get64(p),
                              type == WAL_REC_COMMIT_PREPARED ? wal_get64(p + 8) : 0, NULL, 0);
        if (rc)
            return rc;
        return type == WAL_REC_COMMIT_PREPARED ? wal_apply_writes(st, p, plen, 24, NULL, apply) : 0;
    default:
        return STORE_ECORRUPT;
    }
}

static int wal_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Segment file names (16 hex digits + ".wal"), sorted; *count set. NULL + count -1 on
 * error. */
static char **wal_list(const store_t *st, int *count)
{
    DIR *d = opendir(st->wal_dir);
    char **names = NULL;
    int n = 0, cap = 0;
    *count = -1;
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        if (strlen(s) != 20 || strcmp(s + 16, ".wal") != 0 || strspn(s, "0123456789abcdef") != 16)
            continue;
        if (n == cap) {
            if (cap >= LIMIT_WAL_SEGMENTS)
                goto fail;
            cap = cap ? cap * 2 : 16;
            char **nn = rt_realloc(names, (size_t)cap * sizeof *names);
            if (!nn)
                goto fail;
            names = nn;
        }
        names[n] = rt_malloc(21);
        if (!names[n])
            goto fail;
        memcpy(names[n++], s, 21);
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, wal_name_cmp);
    *count = n;
    return names;
fail:
    closedir(d);
    for (int i = 0; i < n; i++)
        rt_free(names[i]);
    rt_free(names);
    return NULL;
}

static uint8_t *wal_read_file(int fd, size_t *size)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return NULL;
    *size = (size_t)sb.st_size;
    uint8_t *buf = rt_malloc(*size ? *size : 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < *size) {
        ssize_t r = pread(fd, buf + got, *size - got, (off_t)got);
        if (r <= 0) {
            rt_free(buf);
            return NULL;
        }
        got += (size_t)r;
    }
    return buf;
}

/* Replays one segment. last: it is the newest segment (a bad tail may be cut).
 * Returns 0, 1 when the file was a torn new segment and got removed, or an rc. */
static int wal_replay_segment(store_t *st, const char *name, bool last, bool first)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", st->wal_dir, name);
    int rc = STORE_EIO;
    size_t size = 0, off = WAL_SEG_HDR_BYTES;
    uint8_t *buf = NULL;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || !(buf = wal_read_file(fd, &size))) {
        log_error("wal: cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    bool hdr_ok = size >= WAL_SEG_HDR_BYTES && wal_get32(buf + 24) == crc32c(0, buf, 24);
    if (!hdr_ok) {
        if (last && !wal_valid_follows(buf, size, 0, st->next_lsn)) {
            /* The segment's first write (header + records) never completed. */
            log_warn("wal: removing torn new segment %s (%zu bytes)", path, size);
            if (unlink(path) != 0 || fsync(st->wal_dirfd) != 0)
                goto fail;
            rc = 1;
            goto fail;
        }
        log_error("wal: corrupt segment header in %s at offset 0", path);
        rc = STORE_ECORRUPT;
        goto fail;
    }
    uint64_t first_lsn = wal_get64(buf + 16);
    if (memcmp(buf, WAL_MAGIC, 8) != 0 || wal_get32(buf + 8) != WAL_FORMAT_VERSION ||
        wal_get32(buf + 12) != (uint32_t)st->shard_id || (!first && first_lsn != st->next_lsn) ||
        strtoull(name, NULL, 16) != first_lsn) {
        log_error("wal: segment %s header does not match (version %u, shard %u, lsn %" PRIu64
                  ", expected lsn %" PRIu64 ")", path, wal_get32(buf + 8), wal_get32(buf + 12),
                  first_lsn, st->next_lsn);
        rc = STORE_ECORRUPT;
        goto fail;
    }
    if (first && first_lsn > st->flushed_lsn + 1) {
        log_error("wal: %s starts at lsn %" PRIu64 " but the sorted tables end at lsn %" PRIu64
                  ": records are missing", path, first_lsn, st->flushed_lsn);
        rc = STORE_ECORRUPT;
        goto fail;
    }
    st->next_lsn = first_lsn;
    while (off < size) {
        uint32_t n;
        if (!wal_rec_valid(buf, size, off, st->next_lsn, &n)) {
            if (!last || wal_valid_follows(buf, size, off, st->next_lsn)) {
                log_error("wal: corrupt record in %s at offset %zu (lsn %" PRIu64 ")", path, off,
                          st->next_lsn);
                rc = STORE_ECORRUPT;
                goto fail;
            }
            log_warn("wal: cutting torn tail of %s at offset %zu (%zu bytes)", path, off,
                     size - off);
            if (ftruncate(fd, (off_t)off) != 0 || fdatasync(fd) != 0) {
                log_error("wal: cannot truncate %s: %s", path, strerror(errno));
                goto fail;
            }
            break;
        }
        /* Records up to the flushed LSN are in the sorted tables already. */
        rc = wal_apply(st, buf + off, st->next_lsn > st->flushed_lsn);
        if (rc) {
            log_error("wal: bad record contents in %s at offset %zu", path, off);
            goto fail;
        }
        off += n;
        st->next_lsn++;
    }
    rt_free(buf);
    if (last) {
        st->seg_fd = fd;
        st->seg_off = off;
    } else {
        close(fd);
    }
    return 0;
fail:
    rt_free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

int wal_recover(store_t *st)
{
    if (mkdir(st->dir, 0755) != 0 && errno != EEXIST)
        goto io_fail;
    if (mkdir(st->wal_dir, 0755) != 0 && errno != EEXIST)
        goto io_fail;
    st->wal_dirfd = open(st->wal_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->wal_dirfd < 0)
        goto io_fail;
    int count, rc = 0;
    char **names = wal_list(st, &count);
    if (count < 0)
        goto io_fail;
    st->next_lsn = 1;
    for (int i = 0; i < count && rc >= 0; i++) {
        rc = wal_replay_segment(st, names[i], i == count - 1, i == 0);
        if (rc == 1)
            rc = 0;    /* torn newest segment removed; the next write starts a new one */
    }
    for (int i = 0; i < count; i++)
        rt_free(names[i]);
    rt_free(names);
    if (st->next_lsn <= st->flushed_lsn)
        st->next_lsn = st->flushed_lsn + 1;    /* the log was trimmed to nothing */
    st->applied_lsn = st->next_lsn - 1;
    st->committed_lsn = st->applied_lsn;
    return rc;
io_fail:
    log_error("wal: cannot open %s: %s", st->wal_dir, strerror(errno));
    return STORE_EIO;
}

int wal_oldest_lsn(const store_t *st, uint64_t *lsn)
{
    struct stat sb;
    *lsn = 0;
    if (stat(st->wal_dir, &sb) != 0)
        return errno == ENOENT ? 0 : STORE_EIO;
    int count;
    char **names = wal_list(st, &count);
    if (count < 0) {
        log_error("wal: cannot list %s", st->wal_dir);
        return STORE_EIO;
    }
    if (count > 0)
        *lsn = strtoull(names[0], NULL, 16);
    for (int i = 0; i < count; i++)
        rt_free(names[i]);
    rt_free(names);
    return 0;
}

int wal_trim(store_t *st, uint64_t flushed_lsn)
{
    int count, removed = 0;
    uint64_t pinned = store__pinned_lsn(st);
    char **names = wal_list(st, &count);
    if (count < 0)
        return STORE_EIO;
    /* Segment i holds LSNs [first(i), first(i+1)); the newest one is never removed. */
    for (int i = 0; i + 1 < count; i++) {
        if (strtoull(names[i + 1], NULL, 16) > flushed_lsn + 1 ||
            strtoull(names[i + 1], NULL, 16) > pinned)
            break;    /* (pinned: a PREPARE or decision two-phase commit still needs) */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", st->wal_dir, names[i]);
        if (unlink(path) != 0) {
            log_warn("wal: cannot remove %s: %s", path, strerror(errno));
            break;
        }
        removed++;
    }
    for (int i = 0; i < count; i++)
        rt_free(names[i]);
    rt_free(names);
    if (removed && fsync(st->wal_dirfd) != 0)
        return STORE_EIO;
    return removed;
}
