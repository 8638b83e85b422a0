/*
 * flush.c -- the store's sorted-table set: memtable flush, the MANIFEST, table-clear
 * masks, WAL trimming, and recovery of all of it (design: shards/README.md, "Flush and
 * the manifest").
 *
 * A flush is a state machine advanced by flush_step (from store_sync, once per loop
 * turn). Every file byte goes through store_io, so the simulated disk sees it; file
 * creation, rename and directory fsync are plain system calls, as in wal.c.
 *
 *   ENCODE   freeze point: flush_lsn = last applied WAL record. Walk the memtable in
 *            slices (a key cursor, like store_gc), feeding every committed version with
 *            lsn <= flush_lsn to an sst_writer; write finished blocks (no sync).
 *   SYNC     one fdatasync of the file, then open it with sst_open (checks it).
 *   MANIFEST append an edit {flushed_lsn, next_file_no, +file, table-clear masks}, or,
 *            when the manifest is missing or too big, SWITCH: write a new manifest
 *            holding a snapshot edit, then CURRENT.tmp naming it, rename it over
 *            CURRENT, fsync the directory, remove the old manifest.
 *   INSTALL  the file joins the read set (sst_gen bumps: iterators re-seek), then the
 *            flushed versions leave the memtable in slices (DROP), then WAL segments
 *            wholly <= flush_lsn are removed.
 *
 * A crash anywhere before the manifest edit is durable leaves an orphan file (removed
 * at open) and an untrimmed WAL; after it, recovery opens the file and replays only
 * records > flushed_lsn. Writes keep going into the same memtable during a flush: new
 * versions carry LSNs > flush_lsn and are left alone. Any I/O error makes the store
 * read-only (as for the WAL): nothing is retried as if it were safe.
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

#define MAN_MAGIC "NXDBMAN\0"
#define MAN_FORMAT_VERSION 1
#define MAN_HDR_BYTES 32

enum flush_state { FL_ENCODE, FL_SYNC, FL_OPEN, FL_MANIFEST, FL_CURRENT, FL_RENAME, FL_INSTALL,
                   FL_DROP };

typedef struct flush {
    int state;
    bool io_busy, failed;
    uint64_t file_no, flush_lsn;
    int fd, tmp_fd, new_man_fd;
    uint64_t off;               /* file bytes written so far */
    size_t pending;             /* writer bytes in the write in flight */
    size_t new_man_len;         /* bytes of the new manifest during a switch */
    sst_writer_t *w;
    sst_t *sst;
    bool encoded_all, has_cursor;
    uint32_t cur_table, cur_klen;
    uint8_t cur_key[LIMIT_KEY_BYTES];
    store_buf_t mbuf;           /* manifest / CURRENT bytes in flight */
} flush_t;

static void man_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void man_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t man_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t man_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void flush__sst_path(const store_t *st, uint64_t file_no, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%016" PRIx64 ".sst", st->sst_dir, file_no);
}

static void flush__man_path(const store_t *st, uint64_t man_no, char *out, size_t cap)
{
    snprintf(out, cap, "%s/MANIFEST-%016" PRIx64, st->dir, man_no);
}

/* ---- table clear masks ---- */

bool flush_masked(const store_t *st, uint32_t table_id, uint64_t file_no)
{
    for (uint32_t i = 0; i < st->clears_count; i++)
        if (st->clears[i].table_id == table_id)
            return file_no <= st->clears[i].file_no;
    return false;
}

static int flush__set_mask(store_t *st, uint32_t table_id, uint64_t file_no)
{
    for (uint32_t i = 0; i < st->clears_count; i++) {
        if (st->clears[i].table_id == table_id) {
            if (file_no > st->clears[i].file_no)
                st->clears[i].file_no = file_no;
            return 0;
        }
    }
    if (st->clears_count == st->clears_cap) {
        uint32_t cap = st->clears_cap ? st->clears_cap * 2 : 16;
        if (cap > LIMIT_TABLES)
            return STORE_ENOMEM;
        store_clear_t *c = rt_realloc(st->clears, cap * sizeof *c);
        if (!c)
            return STORE_ENOMEM;
        st->clears = c;
        st->clears_cap = cap;
    }
    st->clears[st->clears_count++] = (store_clear_t){table_id, file_no};
    return 0;
}

int flush_note_clear(store_t *st, uint32_t table_id)
{
    /* Every file numbered so far, including one being written, holds only versions
     * older than this clear. */
    if (st->next_file_no <= 1)
        return 0;
    return flush__set_mask(st, table_id, st->next_file_no - 1);
}

/* ---- manifest encoding ---- */

/* Appends one edit record: {flushed_lsn, next_file_no, adds, masks}. */
static bool flush__edit(store_t *st, store_buf_t *b, bool snapshot, uint64_t add_file,
                        uint64_t flushed_lsn)
{
    uint32_t adds = 1 + (snapshot ? st->sst_count : 0);
    size_t plen = 24 + 8 * (size_t)adds + 12 * (size_t)st->clears_count;
    if (plen > LIMIT_MANIFEST_RECORD_BYTES || !store__buf_reserve(b, 8 + plen))
        return false;
    uint8_t *r = b->ptr + b->len, *p = r + 8;
    man_put64(p, flushed_lsn);
    man_put64(p + 8, st->next_file_no);
    man_put32(p + 16, adds);
    man_put32(p + 20, st->clears_count);
    p += 24;
    for (uint32_t i = 0; snapshot && i < st->sst_count; i++, p += 8)
        man_put64(p, sst_file_no(st->ssts[i]));
    man_put64(p, add_file);
    p += 8;
    for (uint32_t i = 0; i < st->clears_count; i++, p += 12) {
        man_put32(p, st->clears[i].table_id);
        man_put64(p + 4, st->clears[i].file_no);
    }
    man_put32(r, (uint32_t)plen);
    man_put32(r + 4, crc32c(0, r + 8, plen));
    b->len += 8 + plen;
    return true;
}

static void flush__man_header(const store_t *st, uint8_t *h, uint64_t man_no)
{
    memset(h, 0, MAN_HDR_BYTES);
    memcpy(h, MAN_MAGIC, 8);
    man_put32(h + 8, MAN_FORMAT_VERSION);
    man_put32(h + 12, (uint32_t)st->shard_id);
    man_put64(h + 16, man_no);
    man_put32(h + 24, crc32c(0, h, 24));
}

/* ---- I/O plumbing ---- */

static void flush__io_done(void *arg, int res)
{
    store_t *st = arg;
    flush_t *fl = st->fl;
    ASSERT(fl && fl->io_busy);
    fl->io_busy = false;
    if (res < 0) {
        log_error("store: sorted-table flush I/O in %s failed (%s); shard is read-only from "
                  "now on", st->dir, strerror(-res));
        st->readonly = true;
        fl->failed = true;
    }
}

/* Submits a write (sync or not) or, with buf NULL, an fdatasync. False when the I/O
 * layer could not take it (queue full: retry next turn); true when done will run or
 * has run (possibly with an error). */
static bool flush__submit(store_t *st, int fd, const void *buf, size_t len, uint64_t off,
                          bool sync)
{
    flush_t *fl = st->fl;
    fl->io_busy = true;
    int rc;
    if (!buf && st->io.fsync)
        rc = st->io.fsync(st->io.ctx, fd, flush__io_done, st);
    else
        rc = st->io.write(st->io.ctx, fd, buf ? buf : "", len, off, sync, flush__io_done, st);
    if (rc == -EAGAIN || rc == -ENOMEM || rc == -EBUSY) {
        fl->io_busy = false;    /* submission queue full: the state is retried next turn */
        return false;
    }
    if (rc < 0)
        flush__io_done(st, rc);
    return true;
}

bool flush_idle(const store_t *st) { return !st->fl || !st->fl->io_busy; }

static void flush__free(store_t *st)
{
    flush_t *fl = st->fl;
    if (!fl)
        return;
    if (fl->fd >= 0)
        close(fl->fd);
    if (fl->tmp_fd >= 0)
        close(fl->tmp_fd);
    if (fl->new_man_fd >= 0)
        close(fl->new_man_fd);
    sst_writer_free(fl->w);
    sst_close(fl->sst);
    rt_free(fl->mbuf.ptr);
    rt_free(fl);
    st->fl = NULL;
}

/* ---- the steps ---- */

static void flush__start(store_t *st)
{
    flush_t *fl = rt_calloc(1, sizeof *fl);
    if (!fl)
        return;
    fl->fd = fl->tmp_fd = fl->new_man_fd = -1;
    fl->w = sst_writer_new();
    fl->file_no = st->next_file_no;
    fl->flush_lsn = st->applied_lsn;
    char path[4096];
    flush__sst_path(st, fl->file_no, path, sizeof path);
    if (fl->w)
        fl->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    st->fl = fl;
    if (fl->fd < 0 || fsync(st->sst_dirfd) != 0) {
        log_error("store: cannot create sorted table %s: %s", path,
                  fl->w ? strerror(errno) : "out of memory");
        if (fl->w)
            st->readonly = true;    /* an I/O error; ENOMEM just retries later */
        flush__free(st);
        return;
    }
    st->next_file_no++;
    log_info("store: flushing %zu memtable bytes of %s up to lsn %" PRIu64 " to %s",
             st->mt.bytes, st->dir, fl->flush_lsn, path);
}

/* Feeds one slice of committed versions <= flush_lsn to the writer. */
static int flush__encode(store_t *st, flush_t *fl)
{
    memtable_t *mt = &st->mt;
    mt_node_t *n = fl->has_cursor ? memtable_seek(mt, fl->cur_table, fl->cur_key, fl->cur_klen)
                                  : mt->head->next[0];
    if (n && fl->has_cursor &&
        memtable_cmp(n->table_id, mt_key(n), n->klen, fl->cur_table, fl->cur_key,
                     fl->cur_klen) == 0)
        n = n->next[0];
    size_t done = 0;
    for (; n && done < st->flush_slice; n = n->next[0]) {
        for (const mt_ver_t *v = n->vers; v; v = v->next) {
            if (v->txn_id || v->lsn > fl->flush_lsn)
                continue;
            sst_entry_t e = {.table_id = n->table_id, .key = mt_key(n), .klen = n->klen,
                             .commit_ts = v->commit_ts, .tomb = v->kind == MT_TOMB,
                             .val = v->val, .vlen = v->vlen};
            int rc = sst_writer_add(fl->w, &e);
            if (rc)
                return rc;
            done += 32 + n->klen + v->vlen;
        }
        fl->has_cursor = true;
        fl->cur_table = n->table_id;
        fl->cur_klen = n->klen;
        memcpy(fl->cur_key, mt_key(n), n->klen);
    }
    if (!n) {
        fl->encoded_all = true;
        return sst_writer_finish(fl->w);
    }
    return 0;
}

static void flush__step_encode_done(flush_t *fl)
{
    sst_writer_consume(fl->w);
    fl->off += fl->pending;
    fl->pending = 0;
}

static void flush__step_encode(store_t *st, flush_t *fl)
{
    if (fl->pending)    /* the last write completed */
        flush__step_encode_done(fl);
    if (!fl->encoded_all) {
        int rc = flush__encode(st, fl);
        if (rc) {
            log_error("store: flush of %s failed while encoding (%d); read-only", st->dir, rc);
            st->readonly = true;
            fl->failed = true;
            return;
        }
    }
    const uint8_t *buf;
    size_t len;
    sst_writer_take(fl->w, &buf, &len);
    if (len) {
        fl->pending = len;
        if (!flush__submit(st, fl->fd, buf, len, fl->off, false))
            fl->pending = 0;    /* not submitted: retried next turn */
        else if (!fl->io_busy && !fl->failed)
            flush__step_encode_done(fl);    /* completed at once */
    } else if (fl->encoded_all) {
        fl->state = FL_SYNC;
    }
}

static void flush__step_manifest(store_t *st, flush_t *fl)
{
    fl->mbuf.len = 0;
    bool sw = st->man_fd < 0 || st->man_off >= st->manifest_limit;
    if (!sw) {
        if (!flush__edit(st, &fl->mbuf, false, fl->file_no, fl->flush_lsn))
            return;    /* ENOMEM: retried next turn */
        fl->state = FL_INSTALL;
        if (flush__submit(st, st->man_fd, fl->mbuf.ptr, fl->mbuf.len, st->man_off, true))
            st->man_off += fl->mbuf.len;
        else
            fl->state = FL_MANIFEST;
        return;
    }
    /* Switch: a new manifest starting with a snapshot of the whole set. */
    if (!store__buf_reserve(&fl->mbuf, MAN_HDR_BYTES))
        return;
    flush__man_header(st, fl->mbuf.ptr, st->man_no + 1);
    fl->mbuf.len = MAN_HDR_BYTES;
    if (!flush__edit(st, &fl->mbuf, true, fl->file_no, fl->flush_lsn))
        return;
    if (fl->new_man_fd < 0) {
        char path[4096];
        flush__man_path(st, st->man_no + 1, path, sizeof path);
        fl->new_man_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fl->new_man_fd < 0 || fsync(st->dirfd) != 0) {
            log_error("store: cannot create %s: %s; read-only", path, strerror(errno));
            st->readonly = true;
            fl->failed = true;
            return;
        }
    }
    fl->state = FL_CURRENT;
    fl->new_man_len = fl->mbuf.len;
    if (!flush__submit(st, fl->new_man_fd, fl->mbuf.ptr, fl->mbuf.len, 0, true))
        fl->state = FL_MANIFEST;
}

static void flush__step_current(store_t *st, flush_t *fl)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/CURRENT.tmp", st->dir);
    if (fl->tmp_fd < 0) {
        fl->tmp_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fl->tmp_fd < 0) {
            log_error("store: cannot create %s: %s; read-only", path, strerror(errno));
            st->readonly = true;
            fl->failed = true;
            return;
        }
    }
    fl->mbuf.len = 0;
    if (!store__buf_reserve(&fl->mbuf, 64))
        return;
    int n = snprintf((char *)fl->mbuf.ptr, 64, "MANIFEST-%016" PRIx64 "\n", st->man_no + 1);
    fl->mbuf.len = (size_t)n;
    fl->state = FL_RENAME;
    if (!flush__submit(st, fl->tmp_fd, fl->mbuf.ptr, fl->mbuf.len, 0, true))
        fl->state = FL_CURRENT;
}

static void flush__step_rename(store_t *st, flush_t *fl)
{
    char tmp[4096], cur[4096], old[4096];
    snprintf(tmp, sizeof tmp, "%s/CURRENT.tmp", st->dir);
    snprintf(cur, sizeof cur, "%s/CURRENT", st->dir);
    if (rename(tmp, cur) != 0 || fsync(st->dirfd) != 0) {
        log_error("store: cannot switch %s to a new manifest: %s; read-only", cur,
                  strerror(errno));
        st->readonly = true;
        fl->failed = true;
        return;
    }
    close(fl->tmp_fd);
    fl->tmp_fd = -1;
    if (st->man_fd >= 0) {
        close(st->man_fd);
        flush__man_path(st, st->man_no, old, sizeof old);
        if (unlink(old) != 0)
            log_warn("store: cannot remove old manifest %s: %s", old, strerror(errno));
    }
    st->man_fd = fl->new_man_fd;
    fl->new_man_fd = -1;
    st->man_no++;
    st->man_off = fl->new_man_len;
    st->stats.manifest_switches++;
    fl->state = FL_INSTALL;
}

/* The manifest edit is durable: the file joins the set. */
static void flush__step_install(store_t *st, flush_t *fl)
{
    sst_t **set = rt_realloc(st->ssts, (st->sst_count + 1) * sizeof *set);
    if (!set)
        return;
    st->ssts = set;
    st->ssts[st->sst_count++] = fl->sst;
    fl->sst = NULL;
    st->sst_gen++;
    st->flushed_lsn = fl->flush_lsn;
    st->stats.flushes++;
    st->stats.sst_bytes += fl->off;
    fl->has_cursor = false;
    fl->state = FL_DROP;
}

/* Frees one slice of memtable versions now in the sorted tables; then trims the WAL. */
static void flush__step_drop(store_t *st, flush_t *fl)
{
    memtable_t *mt = &st->mt;
    mt_node_t *n = fl->has_cursor ? memtable_seek(mt, fl->cur_table, fl->cur_key, fl->cur_klen)
                                  : mt->head->next[0];
    if (n && fl->has_cursor &&
        memtable_cmp(n->table_id, mt_key(n), n->klen, fl->cur_table, fl->cur_key,
                     fl->cur_klen) == 0)
        n = n->next[0];
    size_t keys = st->flush_slice / 64 + 1;
    for (size_t i = 0; n && i < keys; i++) {
        mt_node_t *next = n->next[0];
        mt_ver_t **pp = &n->vers;
        while (*pp) {
            mt_ver_t *v = *pp;
            if (!v->txn_id && v->lsn <= fl->flush_lsn) {
                *pp = v->next;
                memtable_ver_free(mt, v);
            } else {
                pp = &v->next;
            }
        }
        fl->has_cursor = true;
        fl->cur_table = n->table_id;
        fl->cur_klen = n->klen;
        memcpy(fl->cur_key, mt_key(n), n->klen);
        if (!n->vers)
            memtable_remove(mt, n);    /* freed now, or when the last iterator closes */
        n = next;
    }
    if (n)
        return;
    int rc = wal_trim(st, st->flushed_lsn);
    if (rc < 0)
        log_warn("store: could not trim the WAL of %s; it is replayed longer", st->dir);
    else
        st->stats.wal_segments_trimmed += (uint64_t)rc;
    flush__free(st);
}

void flush_step(store_t *st)
{
    if (!st->fl) {
        if (!st->readonly && st->mt_budget != SIZE_MAX && st->mt.bytes > st->mt_budget &&
            st->applied_lsn > st->flushed_lsn && st->sst_count < LIMIT_SST_FILES)
            flush__start(st);
        if (!st->fl)
            return;
    }
    /* States without I/O run back to back; one slice of encoding or dropping per call. */
    for (int guard = 0; guard < 16 && st->fl && !st->fl->io_busy; guard++) {
        flush_t *fl = st->fl;
        if (fl->failed || (st->readonly && fl->state < FL_INSTALL)) {
            flush__free(st);    /* the orphan file is removed at the next open */
            return;
        }
        int state = fl->state;
        switch (state) {
        case FL_ENCODE:
            flush__step_encode(st, fl);
            if (fl->state == FL_ENCODE)
                return;
            break;
        case FL_SYNC:
            fl->state = FL_OPEN;
            if (!flush__submit(st, fl->fd, NULL, 0, 0, true))
                fl->state = FL_SYNC;
            break;
        case FL_OPEN: {
            char path[4096];
            flush__sst_path(st, fl->file_no, path, sizeof path);
            int rc = sst_open(path, fl->file_no, &fl->sst);
            if (rc) {
                log_error("store: flushed file %s does not read back (%d); read-only", path, rc);
                st->readonly = true;
                fl->failed = true;
                break;
            }
            fl->state = FL_MANIFEST;
            break;
        }
        case FL_MANIFEST:
            flush__step_manifest(st, fl);
            break;
        case FL_CURRENT:
            flush__step_current(st, fl);
            break;
        case FL_RENAME:
            flush__step_rename(st, fl);
            break;
        case FL_INSTALL:
            flush__step_install(st, fl);
            break;
        case FL_DROP:
            flush__step_drop(st, fl);
            return;
        }
        if (st->fl && st->fl->state == state && !st->fl->io_busy && !st->fl->failed)
            return;    /* no progress (ENOMEM or a full queue): next turn */
    }
}

/* ---- recovery ---- */

/* Applies the edits of a manifest image; *valid gets the length of the good prefix. */
static int flush__replay(store_t *st, const uint8_t *buf, size_t size, uint64_t **files,
                         uint32_t *files_count, size_t *valid)
{
    size_t off = MAN_HDR_BYTES;
    uint32_t cap = 0;
    while (size - off >= 8) {
        uint32_t plen = man_get32(buf + off);
        if (plen < 24 || plen > size - off - 8 || crc32c(0, buf + off + 8, plen) !=
                                                      man_get32(buf + off + 4))
            break;    /* torn tail: only one manifest write is ever in flight */
        const uint8_t *p = buf + off + 8;
        uint32_t adds = man_get32(p + 16), clears = man_get32(p + 20);
        if (24 + 8ull * adds + 12ull * clears != plen)
            return STORE_ECORRUPT;
        st->flushed_lsn = man_get64(p);
        st->next_file_no = man_get64(p + 8);
        if (off == MAN_HDR_BYTES)
            *files_count = 0;    /* the first record is a snapshot */
        p += 24;
        for (uint32_t i = 0; i < adds; i++, p += 8) {
            if (*files_count == cap) {
                cap = cap ? cap * 2 : 64;
                if (cap > 2 * LIMIT_SST_FILES)
                    return STORE_ECORRUPT;
                uint64_t *nf = rt_realloc(*files, cap * sizeof *nf);
                if (!nf)
                    return STORE_ENOMEM;
                *files = nf;
            }
            (*files)[(*files_count)++] = man_get64(p);
        }
        st->clears_count = 0;
        for (uint32_t i = 0; i < clears; i++, p += 12) {
            int rc = flush__set_mask(st, man_get32(p), man_get64(p + 4));
            if (rc)
                return rc;
        }
        off += 8 + plen;
    }
    *valid = off;
    return 0;
}

static uint8_t *flush__read_all(int fd, size_t *size)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return NULL;
    *size = (size_t)sb.st_size;
    uint8_t *buf = rt_malloc(*size ? *size : 1);
    size_t got = 0;
    while (buf && got < *size) {
        ssize_t r = pread(fd, buf + got, *size - got, (off_t)got);
        if (r <= 0) {
            rt_free(buf);
            return NULL;
        }
        got += (size_t)r;
    }
    return buf;
}

/* Reads CURRENT and its manifest; fills the file list. */
static int flush__load_manifest(store_t *st, uint64_t **files, uint32_t *files_count)
{
    char path[4096], name[64] = {0};
    snprintf(path, sizeof path, "%s/CURRENT", st->dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : STORE_EIO;
    ssize_t n = pread(fd, name, sizeof name - 1, 0);
    close(fd);
    uint64_t man_no;
    if (n != 26 || sscanf(name, "MANIFEST-%16" SCNx64 "\n", &man_no) != 1 || name[25] != '\n') {
        log_error("store: %s is malformed", path);
        return STORE_ECORRUPT;
    }
    flush__man_path(st, man_no, path, sizeof path);
    int rc = STORE_ECORRUPT;
    size_t size = 0, valid = 0;
    uint8_t *buf = NULL;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || !(buf = flush__read_all(fd, &size))) {
        log_error("store: cannot read manifest %s: %s", path, strerror(errno));
        rc = STORE_EIO;
        goto fail;
    }
    uint8_t h[MAN_HDR_BYTES];
    flush__man_header(st, h, man_no);
    if (size < MAN_HDR_BYTES || memcmp(buf, h, MAN_HDR_BYTES) != 0) {
        log_error("store: manifest %s has a bad header", path);
        goto fail;
    }
    rc = flush__replay(st, buf, size, files, files_count, &valid);
    if (rc == 0 && valid == MAN_HDR_BYTES)
        rc = STORE_ECORRUPT;    /* CURRENT names it only after its snapshot was durable */
    if (rc) {
        log_error("store: manifest %s is corrupt", path);
        goto fail;
    }
    if (valid < size && (ftruncate(fd, (off_t)valid) != 0 || fdatasync(fd) != 0)) {
        rc = STORE_EIO;
        goto fail;
    }
    rt_free(buf);
    st->man_fd = fd;
    st->man_no = man_no;
    st->man_off = valid;
    return 0;
fail:
    rt_free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static bool flush__listed(const uint64_t *files, uint32_t count, uint64_t no)
{
    for (uint32_t i = 0; i < count; i++)
        if (files[i] == no)
            return true;
    return false;
}

/* Removes sorted tables the manifest does not list, stale manifests and CURRENT.tmp. */
static void flush__remove_orphans(store_t *st, const uint64_t *files, uint32_t count)
{
    char path[4096];
    DIR *d = opendir(st->sst_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *s = e->d_name;
        if (strlen(s) != 20 || strcmp(s + 16, ".sst") != 0)
            continue;
        uint64_t no = strtoull(s, NULL, 16);
        if (!flush__listed(files, count, no)) {
            snprintf(path, sizeof path, "%s/%s", st->sst_dir, s);
            log_warn("store: removing orphan sorted table %s", path);
            if (unlink(path) != 0)
                log_warn("store: cannot remove %s: %s", path, strerror(errno));
        }
    }
    if (d)
        closedir(d);
    d = opendir(st->dir);
    while (d && (e = readdir(d))) {
        const char *s = e->d_name;
        bool stale = strcmp(s, "CURRENT.tmp") == 0 ||
                     (strncmp(s, "MANIFEST-", 9) == 0 &&
                      (st->man_fd < 0 || strtoull(s + 9, NULL, 16) != st->man_no));
        if (stale) {
            snprintf(path, sizeof path, "%s/%s", st->dir, s);
            if (unlink(path) != 0)
                log_warn("store: cannot remove %s: %s", path, strerror(errno));
        }
    }
    if (d)
        closedir(d);
}

int flush_recover(store_t *st)
{
    uint64_t *files = NULL;
    uint32_t count = 0;
    int rc = STORE_EIO;
    st->next_file_no = 1;
    if ((mkdir(st->dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(st->sst_dir, 0755) != 0 && errno != EEXIST) ||
        (st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (st->sst_dirfd = open(st->sst_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        log_error("store: cannot open %s: %s", st->dir, strerror(errno));
        goto fail;
    }
    rc = flush__load_manifest(st, &files, &count);
    if (rc)
        goto fail;
    st->ssts = rt_calloc(count ? count : 1, sizeof *st->ssts);
    if (!st->ssts) {
        rc = STORE_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < count; i++) {
        char path[4096];
        flush__sst_path(st, files[i], path, sizeof path);
        rc = sst_open(path, files[i], &st->ssts[st->sst_count]);
        if (rc)
            goto fail;
        store__note_ts(st, sst_max_commit_ts(st->ssts[st->sst_count]));
        if (files[i] >= st->next_file_no)
            st->next_file_no = files[i] + 1;
        st->sst_count++;
    }
    flush__remove_orphans(st, files, count);
    rc = 0;
fail:
    rt_free(files);
    return rc;
}

void flush_close(store_t *st)
{
    flush__free(st);
    for (uint32_t i = 0; i < st->sst_count; i++)
        sst_close(st->ssts[i]);
    rt_free(st->ssts);
    rt_free(st->clears);
    st->ssts = NULL;
    st->sst_count = 0;
    if (st->man_fd >= 0)
        close(st->man_fd);
    if (st->dirfd >= 0)
        close(st->dirfd);
    if (st->sst_dirfd >= 0)
        close(st->sst_dirfd);
    st->man_fd = st->dirfd = st->sst_dirfd = -1;
}
