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
 * at open, once the manifest and the WAL have been checked) and an untrimmed WAL;
 * after it, recovery opens the file and replays only records > flushed_lsn. Writes keep going into the same memtable during a flush: new
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
#define MAN_FORMAT_VERSION 3    /* 3 added stamps (spilled runs), 2 removes; 1 and 2 are still read */
#define MAN_HDR_BYTES 32

enum flush_state { FL_ENCODE, FL_SYNC, FL_OPEN, FL_MANIFEST, FL_DROP };

typedef struct flush {
    store_job_t job;
    int state;
    uint64_t file_no, flush_lsn;
    int fd;
    uint64_t off;               /* file bytes written so far */
    size_t pending;             /* writer bytes in the write in flight */
    sst_writer_t *w;
    sst_t *sst;
    bool encoded_all, has_cursor;
    uint32_t cur_table, cur_klen;
    uint8_t cur_key[LIMIT_KEY_BYTES];
    man_edit_t me;
} flush_t;

static void man_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void man_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t man_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t man_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

void flush__sst_path(const store_t *st, uint64_t file_no, char *out, size_t cap)
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
            st->clears_gen++;
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
    st->clears_gen++;
    return 0;
}

int flush_note_clear(store_t *st, uint32_t table_id)
{
    /* Every file numbered so far, including one being written by a flush or a
     * compaction, holds only versions older than this clear. */
    if (st->next_file_no <= 1)
        return 0;
    return flush__set_mask(st, table_id, st->next_file_no - 1);
}

/* ---- the sorted-table set ---- */

static bool flush__listed(const uint64_t *files, uint32_t count, uint64_t no)
{
    for (uint32_t i = 0; i < count; i++)
        if (files[i] == no)
            return true;
    return false;
}

int flush__set_replace(store_t *st, sst_t *add, const uint64_t *removes, uint32_t count)
{
    sst_t **set = rt_malloc((st->sst_count + 1) * sizeof *set);
    if (!set)
        return STORE_ENOMEM;
    uint32_t n = 0;
    bool placed = add == NULL;
    for (uint32_t i = 0; i < st->sst_count; i++) {
        sst_t *s = st->ssts[i];
        if (!flush__listed(removes, count, sst_file_no(s))) {
            set[n++] = s;
            continue;
        }
        if (!placed) {
            set[n++] = add;    /* the merged file takes the place of its oldest input */
            placed = true;
        }
        sst_set_obsolete(s);
        sst_close(s);    /* unlinked when the last iterator on it lets go */
    }
    if (!placed)
        set[n++] = add;
    ASSERT(n == st->sst_count + (add ? 1 : 0) - count);
    rt_free(st->ssts);
    st->ssts = set;
    st->sst_count = n;
    st->sst_gen++;
    return 0;
}

/* ---- manifest encoding ---- */

/* Appends one version-2 edit record: {flushed_lsn, next_file_no, adds, masks,
 * removes}. A snapshot lists the whole set after the edit and removes nothing. */
static bool flush__edit(store_t *st, store_buf_t *b, bool snapshot, const man_edit_t *me)
{
    uint32_t adds = (me->add_file ? 1 : 0) + me->spill_count, removes = me->removes_count;
    uint32_t stamps = me->spill_count;
    if (snapshot) {
        adds = stamps = 0;
        for (uint32_t i = 0; i < st->sst_count; i++) {
            const sst_t *f = st->ssts[i];
            if (flush__listed(me->removes, removes, sst_file_no(f)) || spill_pending(st, sst_file_no(f)))
                continue;
            adds++;
            stamps += sst_stamp(f) != 0;
        }
        adds += (me->add_file ? 1 : 0) + me->spill_count;
        stamps += me->spill_count;
        removes = 0;
    }
    size_t plen = 32 + 8 * (size_t)adds + 12 * (size_t)st->clears_count + 8 * (size_t)removes +
                  16 * (size_t)stamps;
    if (plen > LIMIT_MANIFEST_RECORD_BYTES || !store__buf_reserve(b, 8 + plen))
        return false;
    uint8_t *r = b->ptr + b->len, *p = r + 8;
    man_put64(p, me->flushed_lsn);
    man_put64(p + 8, st->next_file_no);
    man_put32(p + 16, adds);
    man_put32(p + 20, st->clears_count);
    man_put32(p + 24, removes);
    man_put32(p + 28, stamps);
    p += 32;
    bool placed = !me->add_file;
    for (uint32_t i = 0; snapshot && i < st->sst_count; i++) {
        uint64_t no = sst_file_no(st->ssts[i]);
        if (spill_pending(st, no))
            continue;    /* a spilled run this or a later edit adds */
        if (!flush__listed(me->removes, me->removes_count, no)) {
            man_put64(p, no);
            p += 8;
        } else if (!placed) {
            man_put64(p, me->add_file);
            p += 8;
            placed = true;
        }
    }
    if (!placed) {
        man_put64(p, me->add_file);
        p += 8;
    }
    for (uint32_t i = 0; i < me->spill_count; i++, p += 8)
        man_put64(p, me->spill_files[i]);
    for (uint32_t i = 0; i < st->clears_count; i++, p += 12) {
        man_put32(p, st->clears[i].table_id);
        man_put64(p + 4, st->clears[i].file_no);
    }
    for (uint32_t i = 0; i < removes; i++, p += 8)
        man_put64(p, me->removes[i]);
    for (uint32_t i = 0; snapshot && i < st->sst_count; i++) {
        const sst_t *f = st->ssts[i];
        if (!sst_stamp(f) || flush__listed(me->removes, me->removes_count, sst_file_no(f)) ||
            spill_pending(st, sst_file_no(f)))
            continue;
        man_put64(p, sst_file_no(f));
        man_put64(p + 8, sst_stamp(f));
        p += 16;
    }
    for (uint32_t i = 0; i < me->spill_count; i++, p += 16) {
        man_put64(p, me->spill_files[i]);
        man_put64(p + 8, me->spill_ts);
    }
    ASSERT((size_t)(p - (r + 8)) == plen);
    man_put32(r, (uint32_t)plen);
    man_put32(r + 4, crc32c(0, r + 8, plen));
    b->len += 8 + plen;
    return true;
}

static void flush__man_header(const store_t *st, uint8_t *h, uint64_t man_no, uint32_t version)
{
    memset(h, 0, MAN_HDR_BYTES);
    memcpy(h, MAN_MAGIC, 8);
    man_put32(h + 8, version);
    man_put32(h + 12, (uint32_t)st->shard_id);
    man_put64(h + 16, man_no);
    man_put32(h + 24, crc32c(0, h, 24));
}

/* ---- I/O plumbing ---- */

static void store__job_done(void *arg, int res)
{
    store_job_t *j = arg;
    ASSERT(j->io_busy);
    j->io_busy = false;
    if (res < 0) {
        log_error("store: %s I/O in %s failed (%s); shard is read-only from now on", j->what,
                  j->st->dir, strerror(-res));
        j->st->readonly = true;
        j->failed = true;
    }
}

bool store__job_submit(store_job_t *j, int fd, const void *buf, size_t len, uint64_t off,
                       bool sync)
{
    store_t *st = j->st;
    j->io_busy = true;
    int rc;
    if (!buf && st->io.fsync)
        rc = st->io.fsync(st->io.ctx, fd, store__job_done, j);
    else
        rc = st->io.write(st->io.ctx, fd, buf ? buf : "", len, off, sync, store__job_done, j);
    if (rc == -EAGAIN || rc == -ENOMEM || rc == -EBUSY) {
        j->io_busy = false;    /* submission queue full: the state is retried next turn */
        return false;
    }
    if (rc < 0)
        store__job_done(j, rc);
    return true;
}

bool flush_idle(const store_t *st) { return !st->fl || !st->fl->job.io_busy; }

int flush__create_sst(store_t *st, uint64_t file_no)
{
    char path[4096];
    flush__sst_path(st, file_no, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fsync(st->sst_dirfd) != 0) {
        log_error("store: cannot create sorted table %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* ---- manifest edits (shared by flush and compaction) ---- */

void flush__man_init(man_edit_t *me)
{
    memset(me, 0, sizeof *me);
    me->tmp_fd = me->new_man_fd = -1;
}

void flush__man_release(store_t *st, man_edit_t *me)
{
    if (st->man_holder == me)
        st->man_holder = NULL;
    if (me->tmp_fd >= 0)
        close(me->tmp_fd);
    if (me->new_man_fd >= 0)
        close(me->new_man_fd);
    rt_free(me->buf.ptr);
    flush__man_init(me);
}

static int flush__man_fail(store_t *st, store_job_t *j, const char *what, const char *path)
{
    log_error("store: cannot %s %s: %s; read-only", what, path, strerror(errno));
    st->readonly = true;
    j->failed = true;
    return STORE_EIO;
}

/* Starts the edit: an append to the manifest, or a switch to a new one holding a
 * snapshot (no manifest yet, the current one too big, or of the old format). */
static int flush__man_start(store_t *st, store_job_t *j, man_edit_t *me)
{
    me->buf.len = 0;
    bool sw = st->man_fd < 0 || st->man_off >= st->manifest_limit ||
              st->man_version != MAN_FORMAT_VERSION;
    if (!sw) {
        if (!flush__edit(st, &me->buf, false, me))
            return 0;    /* ENOMEM: retried next turn */
        me->state = ME_APPENDED;
        if (store__job_submit(j, st->man_fd, me->buf.ptr, me->buf.len, st->man_off, true))
            st->man_off += me->buf.len;
        else
            me->state = ME_START;
        return 0;
    }
    if (!store__buf_reserve(&me->buf, MAN_HDR_BYTES))
        return 0;
    flush__man_header(st, me->buf.ptr, st->man_no + 1, MAN_FORMAT_VERSION);
    me->buf.len = MAN_HDR_BYTES;
    if (!flush__edit(st, &me->buf, true, me))
        return 0;
    if (me->new_man_fd < 0) {
        char path[4096];
        flush__man_path(st, st->man_no + 1, path, sizeof path);
        me->new_man_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (me->new_man_fd < 0 || fsync(st->dirfd) != 0)
            return flush__man_fail(st, j, "create", path);
    }
    me->state = ME_SWITCH_WRITTEN;
    me->new_man_len = me->buf.len;
    if (!store__job_submit(j, me->new_man_fd, me->buf.ptr, me->buf.len, 0, true))
        me->state = ME_START;
    return 0;
}

/* The new manifest is durable: write CURRENT.tmp naming it. */
static int flush__man_current(store_t *st, store_job_t *j, man_edit_t *me)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/CURRENT.tmp", st->dir);
    if (me->tmp_fd < 0) {
        me->tmp_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (me->tmp_fd < 0)
            return flush__man_fail(st, j, "create", path);
    }
    me->buf.len = 0;
    if (!store__buf_reserve(&me->buf, 64))
        return 0;
    int n = snprintf((char *)me->buf.ptr, 64, "MANIFEST-%016" PRIx64 "\n", st->man_no + 1);
    me->buf.len = (size_t)n;
    me->state = ME_CURRENT_WRITTEN;
    if (!store__job_submit(j, me->tmp_fd, me->buf.ptr, me->buf.len, 0, true))
        me->state = ME_SWITCH_WRITTEN;
    return 0;
}

/* CURRENT.tmp is durable: rename it over CURRENT, fsync the directory, drop the old. */
static int flush__man_rename(store_t *st, store_job_t *j, man_edit_t *me)
{
    char tmp[4096], cur[4096], old[4096];
    snprintf(tmp, sizeof tmp, "%s/CURRENT.tmp", st->dir);
    snprintf(cur, sizeof cur, "%s/CURRENT", st->dir);
    if (rename(tmp, cur) != 0 || fsync(st->dirfd) != 0)
        return flush__man_fail(st, j, "switch to a new manifest:", cur);
    close(me->tmp_fd);
    me->tmp_fd = -1;
    if (st->man_fd >= 0) {
        close(st->man_fd);
        flush__man_path(st, st->man_no, old, sizeof old);
        if (unlink(old) != 0)
            log_warn("store: cannot remove old manifest %s: %s", old, strerror(errno));
    }
    st->man_fd = me->new_man_fd;
    me->new_man_fd = -1;
    st->man_no++;
    st->man_version = MAN_FORMAT_VERSION;
    st->man_off = me->new_man_len;
    st->stats.manifest_switches++;
    me->state = ME_DURABLE;
    return 1;
}

int flush__man_step(store_t *st, store_job_t *j, man_edit_t *me)
{
    ASSERT(!j->io_busy);
    if (j->failed)
        return STORE_EIO;
    if (st->man_holder && st->man_holder != me)
        return 0;    /* another job's edit is in flight: one manifest write at a time */
    st->man_holder = me;
    switch (me->state) {
    case ME_START:
        return flush__man_start(st, j, me);
    case ME_APPENDED:
        me->state = ME_DURABLE;
        return 1;
    case ME_SWITCH_WRITTEN:
        return flush__man_current(st, j, me);
    case ME_CURRENT_WRITTEN:
        return flush__man_rename(st, j, me);
    case ME_DURABLE:
        return 1;
    }
    return 0;
}

static void flush__free(store_t *st)
{
    flush_t *fl = st->fl;
    if (!fl)
        return;
    if (fl->fd >= 0)
        close(fl->fd);
    flush__man_release(st, &fl->me);
    sst_writer_free(fl->w);
    sst_close(fl->sst);
    rt_free(fl);
    st->fl = NULL;
}

/* ---- the steps ---- */

static void flush__start(store_t *st)
{
    flush_t *fl = rt_calloc(1, sizeof *fl);
    if (!fl)
        return;
    fl->job = (store_job_t){.st = st, .what = "sorted-table flush"};
    flush__man_init(&fl->me);
    fl->fd = -1;
    fl->w = sst_writer_new();
    fl->file_no = st->next_file_no;
    fl->flush_lsn = st->applied_lsn;
    st->fl = fl;
    if (!fl->w) {
        flush__free(st);    /* ENOMEM: retried later */
        return;
    }
    fl->fd = flush__create_sst(st, fl->file_no);
    if (fl->fd < 0) {
        st->readonly = true;    /* an I/O error */
        flush__free(st);
        return;
    }
    st->next_file_no++;
    log_info("store: flushing %zu memtable bytes of %s up to lsn %" PRIu64 " to file %" PRIu64,
             st->mt.bytes, st->dir, fl->flush_lsn, fl->file_no);
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
    uint64_t horizon = st->horizon_ts;
    for (; n && done < st->flush_slice; n = n->next[0]) {
        bool shadowed = false;
        for (const mt_ver_t *v = n->vers; v; v = v->next) {
            if (v->txn_id)
                continue;
            /* Below the newest committed version at or below the horizon (flushed or
             * not) nothing is visible to any snapshot: left out of the file (the drop
             * step frees it with the rest). Tombstones stay: an older file may hold a
             * version they hide; compaction decides. */
            if (shadowed) {
                if (v->lsn <= fl->flush_lsn)
                    st->stats.gc_versions_dropped++;
                continue;
            }
            shadowed = v->commit_ts <= horizon;
            if (v->lsn > fl->flush_lsn)
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
            fl->job.failed = true;
            return;
        }
    }
    const uint8_t *buf;
    size_t len;
    sst_writer_take(fl->w, &buf, &len);
    if (len) {
        fl->pending = len;
        if (!store__job_submit(&fl->job, fl->fd, buf, len, fl->off, false))
            fl->pending = 0;    /* not submitted: retried next turn */
        else if (!fl->job.io_busy && !fl->job.failed)
            flush__step_encode_done(fl);    /* completed at once */
    } else if (fl->encoded_all) {
        fl->state = FL_SYNC;
    }
}

/* The manifest edit is durable: the file joins the set. */
static void flush__step_install(store_t *st, flush_t *fl)
{
    if (flush__set_replace(st, fl->sst, NULL, 0) != 0)
        return;    /* ENOMEM: retried next turn, still holding the manifest */
    fl->sst = NULL;
    st->flushed_lsn = fl->flush_lsn;
    st->stats.flushes++;
    st->stats.sst_bytes += fl->off;
    flush__man_release(st, &fl->me);
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

/* True when a flush should start now. At LIMIT_SST_FILES (compaction far behind, or
 * disabled) flushing stops and the memtable grows: said once in the log. */
static bool flush__due(store_t *st)
{
    if (st->readonly || st->mt_budget == SIZE_MAX || st->mt.bytes <= st->mt_budget ||
        st->committed_lsn <= st->flushed_lsn)
        return false;    /* (prepared intents alone do not make a flush worth it) */
    if (st->sst_count >= LIMIT_SST_FILES) {
        if (!st->sst_limit_logged)
            log_error("store: %s holds %u sorted tables (LIMIT_SST_FILES): flushing stops "
                      "until compaction catches up; the memtable grows past its budget",
                      st->dir, st->sst_count);
        st->sst_limit_logged = true;
        return false;
    }
    st->sst_limit_logged = false;
    return true;
}

void flush_step(store_t *st)
{
    if (!st->fl) {
        if (flush__due(st))
            flush__start(st);
        if (!st->fl)
            return;
    }
    /* States without I/O run back to back; one slice of encoding or dropping per call. */
    for (int guard = 0; guard < 16 && st->fl && !st->fl->job.io_busy; guard++) {
        flush_t *fl = st->fl;
        /* Once the edit's write completed the file is in the manifest: install it
         * even on a store gone read-only meanwhile, so memory matches the disk. */
        bool committed = fl->state == FL_DROP ||
                         (fl->state == FL_MANIFEST &&
                          (fl->me.state == ME_APPENDED || fl->me.state == ME_DURABLE));
        if (fl->job.failed || (st->readonly && !committed)) {
            flush__free(st);    /* the orphan file is removed at the next open */
            return;
        }
        int state = fl->state, me_state = fl->me.state;
        switch (state) {
        case FL_ENCODE:
            flush__step_encode(st, fl);
            if (fl->state == FL_ENCODE)
                return;
            break;
        case FL_SYNC:
            fl->state = FL_OPEN;
            if (!store__job_submit(&fl->job, fl->fd, NULL, 0, 0, true))
                fl->state = FL_SYNC;
            break;
        case FL_OPEN: {
            char path[4096];
            flush__sst_path(st, fl->file_no, path, sizeof path);
            int rc = sst_open(path, fl->file_no, &fl->sst);
            if (rc) {
                log_error("store: flushed file %s does not read back (%d); read-only", path, rc);
                st->readonly = true;
                fl->job.failed = true;
                break;
            }
            sst_set_cache(fl->sst, st->cache);
            fl->me.add_file = fl->file_no;
            fl->me.flushed_lsn = fl->flush_lsn;
            fl->state = FL_MANIFEST;
            break;
        }
        case FL_MANIFEST: {
            int rc = flush__man_step(st, &fl->job, &fl->me);
            if (rc == 1)
                flush__step_install(st, fl);
            if (st->fl && st->fl->state == FL_MANIFEST && st->fl->me.state == me_state &&
                !st->fl->job.io_busy && !st->fl->job.failed)
                return;    /* waiting for another edit, ENOMEM, or a full queue */
            continue;
        }
        case FL_DROP:
            flush__step_drop(st, fl);
            return;
        }
        if (st->fl && st->fl->state == state && !st->fl->job.io_busy && !st->fl->job.failed)
            return;    /* no progress (ENOMEM or a full queue): next turn */
    }
}

/* ---- recovery ---- */

/* Appends no to the recovered list. */
static int flush__list_add(uint64_t **files, uint32_t *count, uint32_t *cap, uint32_t at,
                           uint64_t no)
{
    if (*count == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 64;
        if (ncap > 2 * LIMIT_SST_FILES)
            return STORE_ECORRUPT;
        uint64_t *nf = rt_realloc(*files, ncap * sizeof *nf);
        if (!nf)
            return STORE_ENOMEM;
        *files = nf;
        *cap = ncap;
    }
    memmove(*files + at + 1, *files + at, (*count - at) * sizeof **files);
    (*files)[at] = no;
    (*count)++;
    return 0;
}

/* Applies one edit's removes and adds: the adds take the place of the first removed
 * file (appended when nothing is removed). A removed file not in the set is
 * corruption. */
static int flush__apply_edit(const uint8_t *adds_p, uint32_t adds, const uint8_t *rem_p,
                             uint32_t removes, uint64_t **files, uint32_t *count, uint32_t *cap)
{
    uint32_t at = *count;
    for (uint32_t i = 0; i < removes; i++) {
        uint64_t no = man_get64(rem_p + 8 * (size_t)i);
        uint32_t j = 0;
        while (j < *count && (*files)[j] != no)
            j++;
        if (j == *count)
            return STORE_ECORRUPT;
        memmove(*files + j, *files + j + 1, (*count - j - 1) * sizeof **files);
        (*count)--;
        if (i == 0 || j < at)
            at = j;
    }
    if (removes == 0)
        at = *count;
    for (uint32_t i = 0; i < adds; i++) {
        int rc = flush__list_add(files, count, cap, at + i, man_get64(adds_p + 8 * (size_t)i));
        if (rc)
            return rc;
    }
    return 0;
}

/* Notes a version-3 edit's stamps (file number, commit ts): the spilled runs it adds
 * read at that timestamp. Entries of files that leave the set stay until the next
 * snapshot record; a file number is never reused, so they are harmless. */
static int flush__note_stamps(store_t *st, const uint8_t *p, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++, p += 16) {
        if (st->man_stamps_count == st->man_stamps_cap) {
            uint32_t cap = st->man_stamps_cap ? st->man_stamps_cap * 2 : 16;
            struct store_stamp *n = rt_realloc(st->man_stamps, cap * sizeof *n);
            if (!n)
                return STORE_ENOMEM;
            st->man_stamps = n;
            st->man_stamps_cap = cap;
        }
        uint64_t ts = man_get64(p + 8);
        if (!ts)
            return STORE_ECORRUPT;
        st->man_stamps[st->man_stamps_count++] = (struct store_stamp){man_get64(p), ts};
    }
    return 0;
}

/* True when a record whose length and CRC check out starts at off. */
static bool flush__rec_valid(const uint8_t *buf, size_t size, size_t off, size_t fixed)
{
    if (size - off < 8)
        return false;
    uint32_t plen = man_get32(buf + off);
    return plen >= fixed && plen <= size - off - 8 &&
           crc32c(0, buf + off + 8, plen) == man_get32(buf + off + 4);
}

/* Scans forward byte by byte from just after a bad record at bad_off for any valid
 * record; returns its offset, or 0 when there is none (a torn tail). Bounded by the
 * file size; it stops at the first hit, so a middle corruption costs about one record. */
static size_t flush__valid_follows(const uint8_t *buf, size_t size, size_t bad_off,
                                   size_t fixed)
{
    for (size_t at = bad_off + 1; at + 8 <= size; at++)
        if (flush__rec_valid(buf, size, at, fixed))
            return at;
    return 0;
}

/* Applies the edits of a manifest image; *valid gets the length of the good prefix.
 * A bad record with a valid one anywhere after it is corruption (STORE_ECORRUPT,
 * logged with path and offset): only a bad record with nothing valid after it is the
 * torn tail of the one write that was in flight. Version 1 records have no removes
 * field. */
static int flush__replay(store_t *st, const char *path, const uint8_t *buf, size_t size,
                         uint32_t version, uint64_t **files, uint32_t *files_count,
                         size_t *valid)
{
    size_t off = MAN_HDR_BYTES, fixed = version == 1 ? 24 : 32;
    uint32_t cap = 0;
    while (size - off >= 8) {
        uint32_t plen = man_get32(buf + off);
        if (!flush__rec_valid(buf, size, off, fixed)) {
            size_t next = flush__valid_follows(buf, size, off, fixed);
            if (next) {
                log_error("store: manifest %s has a corrupt record at offset %zu followed "
                          "by a valid one at offset %zu: not a torn tail", path, off, next);
                return STORE_ECORRUPT;
            }
            break;    /* torn tail: only one manifest write is ever in flight */
        }
        const uint8_t *p = buf + off + 8;
        uint32_t adds = man_get32(p + 16), clears = man_get32(p + 20);
        uint32_t removes = version == 1 ? 0 : man_get32(p + 24);
        uint32_t stamps = version >= 3 ? man_get32(p + 28) : 0;
        if (fixed + 8ull * adds + 12ull * clears + 8ull * removes + 16ull * stamps != plen)
            return STORE_ECORRUPT;
        st->flushed_lsn = man_get64(p);
        st->next_file_no = man_get64(p + 8);
        if (off == MAN_HDR_BYTES)
            *files_count = 0;    /* the first record is a snapshot */
        p += fixed;
        const uint8_t *adds_p = p, *clears_p = p + 8 * (size_t)adds;
        const uint8_t *rem_p = clears_p + 12 * (size_t)clears;
        int rc = flush__apply_edit(adds_p, adds, rem_p, removes, files, files_count, &cap);
        if (rc)
            return rc;
        if (off == MAN_HDR_BYTES)
            st->man_stamps_count = 0;
        rc = flush__note_stamps(st, rem_p + 8 * (size_t)removes, stamps);
        if (rc)
            return rc;
        st->clears_count = 0;
        st->clears_gen++;
        for (uint32_t i = 0; i < clears; i++) {
            rc = flush__set_mask(st, man_get32(clears_p + 12 * (size_t)i),
                                 man_get64(clears_p + 12 * (size_t)i + 4));
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
    uint32_t version = size >= MAN_HDR_BYTES ? man_get32(buf + 8) : 0;
    if (version != 1 && version != 2 && version != MAN_FORMAT_VERSION)
        version = MAN_FORMAT_VERSION;    /* the header check below fails */
    flush__man_header(st, h, man_no, version);
    if (size < MAN_HDR_BYTES || memcmp(buf, h, MAN_HDR_BYTES) != 0) {
        log_error("store: manifest %s has a bad header", path);
        goto fail;
    }
    rc = flush__replay(st, path, buf, size, version, files, files_count, &valid);
    if (rc == 0 && valid == MAN_HDR_BYTES)
        rc = STORE_ECORRUPT;    /* CURRENT names it only after its snapshot was durable */
    if (rc) {
        log_error("store: manifest %s is corrupt", path);
        goto fail;
    }
    if (valid < size)
        log_warn("store: cutting torn tail of manifest %s at offset %zu (%zu bytes)", path,
                 valid, size - valid);
    if (valid < size && (ftruncate(fd, (off_t)valid) != 0 || fdatasync(fd) != 0)) {
        rc = STORE_EIO;
        goto fail;
    }
    rt_free(buf);
    st->man_fd = fd;
    st->man_no = man_no;
    st->man_off = valid;
    st->man_version = version;
    return 0;
fail:
    rt_free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* True when no is in the opened set. */
static bool flush__in_set(const store_t *st, uint64_t no)
{
    for (uint32_t i = 0; i < st->sst_count; i++)
        if (sst_file_no(st->ssts[i]) == no)
            return true;
    return false;
}

/* True when name is a sorted table's file name (16 hex digits + ".sst"). */
static bool flush__is_sst_name(const char *s)
{
    return strlen(s) == 20 && strcmp(s + 16, ".sst") == 0 &&
           strspn(s, "0123456789abcdef") == 16;
}

/* Without CURRENT, a leftover table may still be deleted only if the replayed WAL
 * covers it: its newest commit ts is at most the WAL's. One that is newer holds rows
 * the WAL lost (its newest segments went with CURRENT): STORE_ECORRUPT. A leftover
 * that does not open is the unfinished output of a first flush, or unusable anyway. */
static int flush__check_leftovers(store_t *st)
{
    char path[4096];
    int rc = 0;
    DIR *d = opendir(st->sst_dir);
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d))) {
        if (!flush__is_sst_name(e->d_name))
            continue;
        sst_t *s = NULL;
        snprintf(path, sizeof path, "%s/%s", st->sst_dir, e->d_name);
        if (sst_open(path, strtoull(e->d_name, NULL, 16), &s) != 0)
            continue;
        if (sst_max_commit_ts(s) > st->max_commit_ts) {
            log_error("store: %s has no CURRENT and sorted table %s holds commits up to ts "
                      "%" PRIu64 " but the WAL only to ts %" PRIu64 ": refusing to start; "
                      "restore CURRENT or run nextdb check", st->dir, path,
                      sst_max_commit_ts(s), st->max_commit_ts);
            rc = STORE_ECORRUPT;
        }
        sst_close(s);
    }
    if (d)
        closedir(d);
    return rc;
}

int flush_remove_orphans(store_t *st)
{
    char path[4096];
    if (st->man_fd < 0) {
        int rc = flush__check_leftovers(st);
        if (rc)
            return rc;
    }
    DIR *d = opendir(st->sst_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *s = e->d_name;
        if (!flush__is_sst_name(s) || flush__in_set(st, strtoull(s, NULL, 16)) ||
            spill_held(st, strtoull(s, NULL, 16)))
            continue;
        snprintf(path, sizeof path, "%s/%s", st->sst_dir, s);
        log_warn("store: removing orphan sorted table %s", path);
        if (unlink(path) != 0)
            log_warn("store: cannot remove %s: %s", path, strerror(errno));
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
    return 0;
}

/* Counts the sorted tables in DIR/sst/ and the MANIFEST-* files in DIR (the first one
 * found goes to man, "" when none). 0 or STORE_EIO. */
static int flush__count_leftovers(const store_t *st, uint32_t *ssts, uint32_t *mans,
                                  char *man, size_t man_cap)
{
    *ssts = *mans = 0;
    man[0] = 0;
    DIR *d = opendir(st->sst_dir);
    struct dirent *e;
    if (!d)
        goto fail;
    while ((e = readdir(d)))
        *ssts += flush__is_sst_name(e->d_name);
    closedir(d);
    d = opendir(st->dir);
    if (!d)
        goto fail;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "MANIFEST-", 9) != 0)
            continue;
        if ((*mans)++ == 0)
            snprintf(man, man_cap, "%s", e->d_name);
    }
    closedir(d);
    return 0;
fail:
    log_error("store: cannot list %s: %s", st->dir, strerror(errno));
    return STORE_EIO;
}

/* There is no CURRENT. With no sorted table and no manifest the shard is fresh. With
 * some, they are either the leftovers of a first manifest switch that never completed
 * (CURRENT was never installed, so the WAL was never trimmed and still holds every
 * record: they are removed after WAL replay succeeds) or the flushed data of a shard
 * whose CURRENT was lost, possibly the only copy. The WAL tells them apart: the rule
 * is that leftovers are removed only when its oldest segment starts at LSN 1; anything
 * else is STORE_ECORRUPT and nothing is touched. */
static int flush__check_no_current(store_t *st)
{
    uint32_t ssts, mans;
    char man[256];
    int rc = flush__count_leftovers(st, &ssts, &mans, man, sizeof man);
    if (rc || (ssts == 0 && mans == 0))
        return rc;
    uint64_t oldest_lsn = 0;
    rc = wal_oldest_lsn(st, &oldest_lsn);
    if (rc)
        return rc;
    if (oldest_lsn == 1) {
        log_warn("store: %s has no CURRENT but %u sorted tables / %u manifests (%s) and an "
                 "untrimmed WAL: a first manifest switch that never completed; replaying "
                 "the WAL and removing them", st->dir, ssts, mans, mans ? man : "none");
        return 0;
    }
    log_error("store: %s has no CURRENT but %u sorted tables / %s present (the WAL %s): "
              "refusing to start; restore CURRENT or run nextdb check", st->dir, ssts,
              mans ? man : "no MANIFEST", oldest_lsn ? "was trimmed" : "is empty");
    return STORE_ECORRUPT;
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
    if (rc == 0 && st->man_fd < 0)
        rc = flush__check_no_current(st);
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
        for (uint32_t k = 0; k < st->man_stamps_count; k++)
            if (st->man_stamps[k].file_no == files[i])
                sst_set_stamp(st->ssts[st->sst_count], st->man_stamps[k].ts);
        sst_set_cache(st->ssts[st->sst_count], st->cache);
        store__note_ts(st, sst_max_commit_ts(st->ssts[st->sst_count]));
        if (files[i] >= st->next_file_no)
            st->next_file_no = files[i] + 1;
        st->sst_count++;
    }
    rc = 0;
fail:
    rt_free(files);
    return rc;
}

void flush_close(store_t *st)
{
    flush__free(st);
    compact_close(st);
    for (uint32_t i = 0; i < st->sst_count; i++)
        sst_close(st->ssts[i]);
    rt_free(st->ssts);
    rt_free(st->clears);
    rt_free(st->man_stamps);
    st->man_stamps = NULL;
    st->man_stamps_count = st->man_stamps_cap = 0;
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
