/*
 * compact.c -- tiered compaction of the store's sorted tables (design, amplification
 * figures and invariants: shards/README.md, "Compaction").
 *
 * The set is ordered oldest first. A compaction merges a run of ADJACENT files into
 * one, which takes the place of the oldest input, so the relative order of every other
 * file is unchanged (readers break commit_ts ties in favour of the newer file; the
 * merge writes equal-ts versions newer-input first, so ties resolve as before).
 *
 * Picking (compact__pick): walking from the newest file, adjacent files whose sizes
 * are within LIMIT_COMPACT_SIZE_RATIO of each other form a tier run; the newest run
 * with at least T = compact_fanin files is merged (at most LIMIT_COMPACT_FANIN_MAX).
 * Flushes produce similar files, T of them merge into one about T times larger, T of
 * those merge again: size-tiered, as in Cassandra's STCS and Bigtable's minor/major
 * compactions. If more than T * LIMIT_COMPACT_TIERS files pile up anyway (odd sizes),
 * the T adjacent files with the fewest bytes are merged. store_compact_full asks for
 * everything at once.
 *
 * Merging is a state machine advanced by compact_step from store_sync, like a flush:
 *   MERGE    k-way merge of every version of the inputs (key ascending, commit_ts
 *            descending, newer input first), LIMIT_COMPACT_SLICE_BYTES raw bytes per
 *            turn, into an sst_writer; finished blocks written through store_io (no
 *            sync), one write in flight. Per key: versions masked by a table clear
 *            are dropped; versions newer than the horizon are kept; of the others only
 *            the newest is kept -- and dropped too when it is a tombstone and no source
 *            outside the compaction (other files, the memtable) may hold an older
 *            version of the key.
 *   SYNC     one fdatasync, then the file is opened and checked (sst_open).
 *   MANIFEST one edit {+output, -inputs} made durable exactly as a flush's (flush.c;
 *            one manifest write in flight for the whole store).
 *   INSTALL  the output replaces the inputs in the set (sst_gen bumps: iterators
 *            re-seek after their last key); the inputs are marked obsolete and are
 *            unlinked when their last reference (an iterator, this job) goes.
 * A crash before the edit is durable leaves an orphan output (removed at open) and the
 * inputs in place; after it, recovery opens the output and removes leftover inputs as
 * orphans. A write or fsync error makes the store read-only; a read error on an input
 * (corruption) abandons the job and stops further compactions (logged), since merging
 * around a bad block would lose rows: reads keep reporting STORE_ECORRUPT.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/log.h"
#include "core/rt.h"
#include "shards/cache.h"
#include "shards/store_int.h"

enum compact_state { CP_MERGE, CP_SYNC, CP_OPEN, CP_MANIFEST };

typedef struct compact_in {
    sst_t *sst;                 /* referenced by this job */
    sst_iter_t *cur;
    sst_entry_t head;           /* valid while has */
    bool has;
} compact_in_t;

typedef struct compact {
    store_job_t job;
    int state;
    uint64_t file_no, horizon;
    int fd;
    uint64_t off;               /* output bytes written so far */
    size_t pending;             /* writer bytes in the write in flight */
    sst_writer_t *w;
    sst_t *out;
    compact_in_t *in;           /* oldest first, as in the set */
    uint64_t *in_nos;
    uint32_t in_count;
    uint64_t in_bytes;
    bool primed, merged_all, full;
    /* The key being merged (a copy: input blocks go away as cursors move). */
    store_buf_t key;
    uint32_t key_table;
    bool has_key, key_done;     /* key_done: its newest version <= horizon was handled */
    uint64_t dropped;
    uint64_t gc_dropped;        /* of those, below the horizon (not cleared tables) */
    man_edit_t me;
} compact_t;

bool compact_idle(const store_t *st) { return !st->cp || !st->cp->job.io_busy; }

static void compact__free(store_t *st)
{
    compact_t *cp = st->cp;
    if (!cp)
        return;
    if (cp->fd >= 0)
        close(cp->fd);
    for (uint32_t i = 0; i < cp->in_count; i++) {
        sst_iter_free(cp->in[i].cur);
        sst_close(cp->in[i].sst);
    }
    flush__man_release(st, &cp->me);
    sst_writer_free(cp->w);
    sst_close(cp->out);
    rt_free(cp->in);
    rt_free(cp->in_nos);
    rt_free(cp->key.ptr);
    rt_free(cp);
    st->cp = NULL;
}

void compact_close(store_t *st) { compact__free(st); }

/* ---- picking ---- */

static uint64_t compact__size(const store_t *st, uint32_t i)
{
    uint64_t b = sst_file_bytes(st->ssts[i]);
    return b ? b : 1;
}

/* The window [*lo, *lo + *n) of the set to merge next; false when nothing is due. */
static bool compact__pick(const store_t *st, uint32_t *lo, uint32_t *n)
{
    uint32_t count = st->sst_count, t = st->compact_fanin;
    if (st->compact_full && count >= 1) {
        *n = count < LIMIT_COMPACT_FANIN_MAX ? count : LIMIT_COMPACT_FANIN_MAX;
        *lo = count - *n;
        return true;
    }
    if (t == UINT32_MAX)
        return false;
    /* Garbage: a file whose every version is at or below the horizon needs one version
     * per key at most; with LIMIT_COMPACT_GARBAGE_RATIO or more it is rewritten alone
     * (the oldest such file first). Tiers merge only when similar files pile up, so
     * without this the versions a long snapshot kept would stay until their tier's
     * next merge, which in an old tier may never come. Its output has one version per
     * key, so it is not picked again. */
    for (uint32_t i = 0; i < count; i++) {
        const sst_t *s = st->ssts[i];
        if (sst_max_commit_ts(s) <= st->horizon_ts &&
            sst_entries(s) >= LIMIT_COMPACT_GARBAGE_RATIO * sst_keys_estimate(s) + 1) {
            *lo = i;
            *n = 1;
            return true;
        }
    }
    if (count < t)
        return false;
    /* Tier runs from the newest file: sizes within LIMIT_COMPACT_SIZE_RATIO. */
    for (int64_t i = (int64_t)count - 1; i >= 0;) {
        uint64_t mn = compact__size(st, (uint32_t)i), mx = mn;
        int64_t j = i;
        while (j > 0) {
            uint64_t s = compact__size(st, (uint32_t)(j - 1));
            uint64_t nmn = s < mn ? s : mn, nmx = s > mx ? s : mx;
            if (nmx > nmn * LIMIT_COMPACT_SIZE_RATIO)
                break;
            mn = nmn;
            mx = nmx;
            j--;
        }
        uint32_t len = (uint32_t)(i - j + 1);
        if (len >= t) {
            *n = len < LIMIT_COMPACT_FANIN_MAX ? len : LIMIT_COMPACT_FANIN_MAX;
            *lo = (uint32_t)(i + 1) - *n;
            return true;
        }
        i = j - 1;
    }
    if (count <= (uint64_t)t * LIMIT_COMPACT_TIERS)
        return false;
    /* Too many files of odd sizes: the t adjacent ones with the fewest bytes. */
    uint64_t best = UINT64_MAX;
    for (uint32_t i = 0; i + t <= count; i++) {
        uint64_t sum = 0;
        for (uint32_t k = i; k < i + t; k++)
            sum += compact__size(st, k);
        if (sum < best) {
            best = sum;
            *lo = i;
        }
    }
    *n = t;
    return true;
}

void compact_backlog(const store_t *st, uint64_t *bytes, uint64_t *files)
{
    *bytes = *files = 0;
    if (st->cp) {
        *bytes = st->cp->in_bytes;
        *files = st->cp->in_count;
        return;
    }
    uint32_t lo, n;
    if (st->readonly || st->compact_broken || !compact__pick(st, &lo, &n))
        return;
    for (uint32_t i = lo; i < lo + n; i++)
        *bytes += sst_file_bytes(st->ssts[i]);
    *files = n;
}

/* ---- start ---- */

static void compact__start(store_t *st, uint32_t lo, uint32_t n)
{
    compact_t *cp = rt_calloc(1, sizeof *cp);
    if (!cp)
        return;
    cp->job = (store_job_t){.st = st, .what = "compaction"};
    flush__man_init(&cp->me);
    cp->fd = -1;
    cp->horizon = st->horizon_ts;
    cp->full = st->compact_full && lo == 0 && n == st->sst_count;
    st->cp = cp;
    cp->in = rt_calloc(n, sizeof *cp->in);
    cp->in_nos = rt_calloc(n, sizeof *cp->in_nos);
    cp->w = sst_writer_new();
    if (!cp->in || !cp->in_nos || !cp->w) {
        compact__free(st);    /* ENOMEM: retried next turn */
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        compact_in_t *in = &cp->in[cp->in_count];
        in->sst = st->ssts[lo + i];
        sst_ref(in->sst);
        cp->in_nos[cp->in_count++] = sst_file_no(in->sst);
        cp->in_bytes += sst_file_bytes(in->sst);
        in->cur = sst_iter_new(in->sst, UINT64_MAX);
        if (!in->cur) {
            compact__free(st);
            return;
        }
        sst_iter_set_cache_mode(in->cur, CACHE_BYPASS);
    }
    cp->file_no = st->next_file_no;
    cp->fd = flush__create_sst(st, cp->file_no);
    if (cp->fd < 0) {
        st->readonly = true;    /* an I/O error */
        compact__free(st);
        return;
    }
    st->next_file_no++;
    log_info("store: compacting %u sorted tables (%" PRIu64 " bytes, files %" PRIu64 "..%" PRIu64
             ") of %s into file %" PRIu64 ", horizon %" PRIu64, n, cp->in_bytes, cp->in_nos[0],
             cp->in_nos[n - 1], st->dir, cp->file_no, cp->horizon);
}

/* ---- merge ---- */

/* Moves input i to its next version. 0 or a negative rc. */
static int compact__advance(compact_in_t *in)
{
    int rc = sst_iter_next_version(in->cur, &in->head);
    in->has = rc == 1;
    return rc < 0 ? rc : 0;
}

/* Index of the input whose head comes first: key ascending, commit_ts descending,
 * newer input first on a tie. -1 when every input is used up. */
static int compact__next(const compact_t *cp)
{
    int best = -1;
    for (int i = (int)cp->in_count - 1; i >= 0; i--) {
        const sst_entry_t *e = &cp->in[i].head;
        if (!cp->in[i].has)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        const sst_entry_t *b = &cp->in[best].head;
        int c = memtable_cmp(e->table_id, e->key, e->klen, b->table_id, b->key, b->klen);
        if (c < 0 || (c == 0 && e->commit_ts > b->commit_ts))
            best = i;    /* strictly better only: on a full tie the newer (higher) stays */
    }
    return best;
}

/* True when a source outside this compaction may hold a version of e's key at or
 * below e's commit_ts, so a tombstone at e must stay to shadow it. */
static bool compact__outside_may_have(store_t *st, const compact_t *cp, const sst_entry_t *e)
{
    for (uint32_t i = 0; i < st->sst_count; i++) {
        sst_t *s = st->ssts[i];
        bool input = false;
        for (uint32_t k = 0; k < cp->in_count && !input; k++)
            input = cp->in[k].sst == s;
        if (!input && !flush_masked(st, e->table_id, sst_file_no(s)) &&
            sst_may_contain(s, e->table_id, e->key, e->klen))
            return true;
    }
    /* The memtable, including versions a flush in progress is writing out. */
    mt_node_t *n = memtable_find(&st->mt, e->table_id, e->key, e->klen);
    for (const mt_ver_t *v = n ? n->vers : NULL; v; v = v->next)
        if (!v->txn_id && v->commit_ts <= e->commit_ts)
            return true;
    return false;
}

/* Decides e's fate: 1 keep, 0 drop. */
static int compact__keep(store_t *st, compact_t *cp, uint32_t in_index, const sst_entry_t *e)
{
    if (flush_masked(st, e->table_id, sst_file_no(cp->in[in_index].sst)))
        return 0;    /* cleared table */
    if (!cp->has_key || memtable_cmp(e->table_id, e->key, e->klen, cp->key_table, cp->key.ptr,
                                     (uint32_t)cp->key.len) != 0) {
        cp->key.len = 0;
        if (!store__buf_reserve(&cp->key, e->klen ? e->klen : 1))
            return STORE_ENOMEM;
        memcpy(cp->key.ptr, e->key, e->klen);
        cp->key.len = e->klen;
        cp->key_table = e->table_id;
        cp->has_key = true;
        cp->key_done = false;
    }
    if (cp->key_done) {
        cp->gc_dropped++;
        return 0;    /* shadowed, for every snapshot >= horizon, by a kept version */
    }
    if (e->commit_ts > cp->horizon)
        return 1;
    cp->key_done = true;    /* the newest version at or below the horizon */
    if (e->tomb && !compact__outside_may_have(st, cp, e)) {
        cp->gc_dropped++;
        return 0;
    }
    return 1;
}

/* Merges one slice into the writer. 0 or a negative rc (read: corruption/EIO/ENOMEM). */
static int compact__merge(store_t *st, compact_t *cp)
{
    int rc;
    if (!cp->primed) {
        for (uint32_t i = 0; i < cp->in_count; i++)
            if ((rc = compact__advance(&cp->in[i])) != 0)
                return rc;
        cp->primed = true;
    }
    size_t done = 0;
    while (done < st->compact_slice) {
        int i = compact__next(cp);
        if (i < 0) {
            cp->merged_all = true;
            return sst_writer_finish(cp->w);
        }
        const sst_entry_t *e = &cp->in[i].head;
        done += 32 + e->klen + e->vlen;
        int keep = compact__keep(st, cp, (uint32_t)i, e);
        if (keep < 0)
            return keep;
        if (keep && (rc = sst_writer_add(cp->w, e)) != 0)
            return rc;
        cp->dropped += keep == 0;
        if ((rc = compact__advance(&cp->in[i])) != 0)
            return rc;
    }
    return 0;
}

/* Abandons the job after a read error on an input: the output is removed, the
 * inputs stay, and no further compaction starts (they would hit the same block). */
static void compact__broken(store_t *st, compact_t *cp, int rc)
{
    char path[4096];
    flush__sst_path(st, cp->file_no, path, sizeof path);
    log_error("store: compaction of %s stopped: reading its input failed (%d); the sorted "
              "tables stay as they are and compaction is off until restart", st->dir, rc);
    st->compact_broken = true;
    if (unlink(path) != 0)
        log_warn("store: cannot remove %s: %s (removed at the next open)", path,
                 strerror(errno));
    compact__free(st);
}

static void compact__write_done(compact_t *cp)
{
    sst_writer_consume(cp->w);
    cp->off += cp->pending;
    cp->pending = 0;
}

static void compact__step_merge(store_t *st, compact_t *cp)
{
    if (cp->pending)    /* the last write completed */
        compact__write_done(cp);
    if (!cp->merged_all) {
        int rc = compact__merge(st, cp);
        if (rc == STORE_ENOMEM || rc == STORE_EINVAL) {
            log_error("store: compaction of %s failed while encoding (%d); read-only",
                      st->dir, rc);
            st->readonly = true;
            cp->job.failed = true;
            return;
        }
        if (rc) {
            compact__broken(st, cp, rc);
            return;
        }
    }
    const uint8_t *buf;
    size_t len;
    sst_writer_take(cp->w, &buf, &len);
    if (cp->merged_all && sst_writer_entries(cp->w) == 0) {
        /* Everything was dropped: no output file, the edit only removes. */
        char path[4096];
        flush__sst_path(st, cp->file_no, path, sizeof path);
        close(cp->fd);
        cp->fd = -1;
        if (unlink(path) != 0)
            log_warn("store: cannot remove %s: %s", path, strerror(errno));
        cp->state = CP_MANIFEST;
        return;
    }
    if (len) {
        cp->pending = len;
        if (!store__job_submit(&cp->job, cp->fd, buf, len, cp->off, false))
            cp->pending = 0;    /* not submitted: retried next turn */
        else if (!cp->job.io_busy && !cp->job.failed)
            compact__write_done(cp);    /* completed at once */
    } else if (cp->merged_all) {
        cp->state = CP_SYNC;
    }
}

/* True when the inputs still sit side by side in the set, oldest first: flushes only
 * append, so they must; tie-breaking between files relies on it. */
static bool compact__adjacent(const store_t *st, const compact_t *cp)
{
    uint32_t i = 0;
    while (i < st->sst_count && st->ssts[i] != cp->in[0].sst)
        i++;
    for (uint32_t k = 0; k < cp->in_count; k++)
        if (i + k >= st->sst_count || st->ssts[i + k] != cp->in[k].sst)
            return false;
    return true;
}

/* The edit is durable: the output replaces the inputs. */
static void compact__install(store_t *st, compact_t *cp)
{
    ASSERT(cp->me.state == ME_DURABLE && st->man_holder == &cp->me);
    ASSERT(compact__adjacent(st, cp));
    if (flush__set_replace(st, cp->out, cp->in_nos, cp->in_count) != 0)
        return;    /* ENOMEM: retried next turn, still holding the manifest */
    cp->out = NULL;
    st->stats.compactions++;
    st->stats.compact_bytes_read += cp->in_bytes;
    st->stats.compact_bytes_written += cp->off;
    st->stats.compact_versions_dropped += cp->dropped;
    st->stats.gc_versions_dropped += cp->gc_dropped;
    if (cp->full)
        st->compact_full = false;
    log_info("store: compaction of %s done: %u files (%" PRIu64 " bytes) -> file %" PRIu64
             " (%" PRIu64 " bytes), %" PRIu64 " versions dropped", st->dir, cp->in_count,
             cp->in_bytes, cp->file_no, cp->off, cp->dropped);
    compact__free(st);    /* drops this job's references: replaced files may go now */
}

static void compact__step_open(store_t *st, compact_t *cp)
{
    char path[4096];
    flush__sst_path(st, cp->file_no, path, sizeof path);
    int rc = sst_open(path, cp->file_no, &cp->out);
    if (rc) {
        log_error("store: compacted file %s does not read back (%d); read-only", path, rc);
        st->readonly = true;
        cp->job.failed = true;
        return;
    }
    sst_set_cache(cp->out, st->cache);
    cp->me.add_file = cp->file_no;
    cp->state = CP_MANIFEST;
}

void compact_step(store_t *st)
{
    if (!st->cp) {
        uint32_t lo, n;
        if (st->compact_full && st->sst_count == 0)
            st->compact_full = false;    /* nothing to merge */
        /* The pick depends only on the set (and compact_full): a set it found
         * nothing in is not looked at again every loop turn. */
        if (st->readonly || st->compact_broken || (!st->compact_full && st->compact_idle_gen == st->sst_gen + 1))
            return;
        if (st->spill_pending_count)
            return;    /* a spilled run is in the set before its manifest edit (spill.c) */
        if (!compact__pick(st, &lo, &n)) {
            st->compact_idle_gen = st->sst_gen + 1;
            return;
        }
        compact__start(st, lo, n);
        if (!st->cp)
            return;
    }
    for (int guard = 0; guard < 16 && st->cp && !st->cp->job.io_busy; guard++) {
        compact_t *cp = st->cp;
        bool committed = cp->state == CP_MANIFEST &&
                         (cp->me.state == ME_APPENDED || cp->me.state == ME_DURABLE);
        if (cp->job.failed || (st->readonly && !committed)) {
            compact__free(st);    /* the orphan output is removed at the next open */
            return;
        }
        int state = cp->state, me_state = cp->me.state;
        switch (state) {
        case CP_MERGE:
            compact__step_merge(st, cp);
            if (st->cp && st->cp->state == CP_MERGE)
                return;    /* one slice per turn */
            continue;
        case CP_SYNC:
            cp->state = CP_OPEN;
            if (!store__job_submit(&cp->job, cp->fd, NULL, 0, 0, true))
                cp->state = CP_SYNC;
            break;
        case CP_OPEN:
            compact__step_open(st, cp);
            break;
        case CP_MANIFEST: {
            cp->me.removes = cp->in_nos;
            cp->me.removes_count = cp->in_count;
            if (cp->me.state == ME_START)
                cp->me.flushed_lsn = st->flushed_lsn;    /* unchanged by a compaction */
            int rc = flush__man_step(st, &cp->job, &cp->me);
            if (rc == 1)
                compact__install(st, cp);
            if (st->cp && st->cp->state == CP_MANIFEST && st->cp->me.state == me_state &&
                !st->cp->job.io_busy && !st->cp->job.failed)
                return;    /* waiting for a flush's edit, ENOMEM, or a full queue */
            continue;
        }
        }
        if (st->cp && st->cp->state == state && !st->cp->job.io_busy && !st->cp->job.failed)
            return;    /* no progress (ENOMEM or a full queue): next turn */
    }
}
