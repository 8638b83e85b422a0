/*
 * spill.c -- transactions larger than memory (shards/README.md, "Large transactions").
 *
 * When a transaction's intents in the memtable pass st->spill_bytes, they are written,
 * sorted, to a run: a sorted table in DIR/spill/ that only the transaction reads
 * (store_get, iterators, INSERT's check) and that other writers consult as row locks
 * (spill_conflict). The intents leave the memtable, so memory stays bounded. A run is
 * written with commit_ts 0; at commit it moves into sst/ under a fresh file number
 * and joins the set by one manifest edit that stamps it with the commit timestamp
 * (every version of the file then reads at that timestamp): that edit is the commit
 * point of a one-shard transaction. A two-phase commit moves the runs into sst/ in
 * phase one and lists their numbers in the phase-one record (WAL_OP_RUN entries), so
 * recovery finds them; phase two adds them by a manifest edit before its record.
 *
 * Files are written with pwrite + fdatasync on the shard thread (not through
 * store_io): a spill blocks the shard for one run's write.
 * Thread: the owning shard thread only.
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
#include "core/log.h"
#include "core/rt.h"
#include "shards/cache.h"
#include "shards/store_int.h"

enum spill_job_kind { SJ_COMMIT = 1, SJ_EARLY = 2, SJ_PREPARED = 3 };

/* A commit whose runs wait for their manifest edit. SJ_COMMIT: a one-shard commit
 * (txn ends when the edit is durable); SJ_EARLY: phase two, the runs are in the set
 * already and the transaction ended, the record (rec_type) is queued after the edit;
 * SJ_PREPARED: the resolution of a prepared transaction, store_txn_commit_prepared
 * runs after the edit. */
typedef struct spill_job {
    struct spill_job *next;
    int kind, rec_type;
    store_txn_t *txn;           /* SJ_COMMIT, SJ_PREPARED */
    uint64_t txn_id, ts;
    uint32_t coord;
    uint64_t *files;
    uint32_t count;
    store_job_t job;
    man_edit_t me;
    void (*done)(void *arg, int rc);
    void *arg;
} spill_job_t;

/* store.c */
int store__queue_early(store_t *st, uint64_t txn_id, uint64_t ts, uint32_t coord, int type,
                       void (*done)(void *arg, int rc), void *arg);

static void spill__run_path(const store_t *st, uint64_t no, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%016" PRIx64 ".run", st->spill_dir, no);
}

int spill_open(store_t *st)
{
    size_t n = strlen(st->dir) + 7;
    st->spill_dir = rt_malloc(n);
    if (!st->spill_dir)
        return STORE_ENOMEM;
    snprintf(st->spill_dir, n, "%s/spill", st->dir);
    if (mkdir(st->spill_dir, 0755) != 0 && errno != EEXIST) {
        log_error("store: cannot create %s: %s", st->spill_dir, strerror(errno));
        return STORE_EIO;
    }
    /* Runs of transactions that never committed: nothing refers to them. */
    DIR *d = opendir(st->spill_dir);
    if (!d) {
        log_error("store: cannot list %s: %s", st->spill_dir, strerror(errno));
        return STORE_EIO;
    }
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", st->spill_dir, e->d_name);
        if (unlink(path) != 0)
            log_warn("store: cannot remove %s: %s", path, strerror(errno));
    }
    closedir(d);
    return 0;
}

void spill_close(store_t *st)
{
    while (st->spill_jobs) {
        spill_job_t *j = st->spill_jobs;
        st->spill_jobs = j->next;
        flush__man_release(st, &j->me);
        rt_free(j->files);
        rt_free(j);
    }
    st->spill_jobs_tail = NULL;
    while (st->spill_garbage_old) {
        mt_ver_t *v = st->spill_garbage_old;
        st->spill_garbage_old = v->next;
        memtable_ver_free(&st->mt, v);
    }
    while (st->spill_garbage) {
        mt_ver_t *v = st->spill_garbage;
        st->spill_garbage = v->next;
        memtable_ver_free(&st->mt, v);
    }
    rt_free(st->spillers);
    rt_free(st->spill_pending);
    rt_free(st->spill_dir);
    st->spillers = NULL;
    st->spill_pending = NULL;
    st->spill_dir = NULL;
    st->spillers_count = st->spill_pending_count = 0;
}

bool spill_pending(const store_t *st, uint64_t file_no)
{
    for (uint32_t i = 0; i < st->spill_pending_count; i++)
        if (st->spill_pending[i] == file_no)
            return true;
    return false;
}

bool spill_held(const store_t *st, uint64_t file_no)
{
    for (uint32_t i = 0; i < st->spillers_count; i++) {
        const store_txn_t *t = st->spillers[i];
        for (uint32_t k = 0; k < t->runs_count; k++)
            if (t->runs[k].in_sst && t->runs[k].file_no == file_no)
                return true;
    }
    return false;
}

bool spill_idle(const store_t *st)
{
    return st->spill_jobs == NULL;
}

uint32_t spill_ref_count(const store_txn_t *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->runs_count; i++)
        n += t->runs[i].in_sst;
    return n;
}

static int spill__add_spiller(store_t *st, store_txn_t *t)
{
    for (uint32_t i = 0; i < st->spillers_count; i++)
        if (st->spillers[i] == t)
            return 0;
    if (st->spillers_count == st->spillers_cap) {
        uint32_t cap = st->spillers_cap ? st->spillers_cap * 2 : 8;
        store_txn_t **n = rt_realloc(st->spillers, cap * sizeof *n);
        if (!n)
            return STORE_ENOMEM;
        st->spillers = n;
        st->spillers_cap = cap;
    }
    st->spillers[st->spillers_count++] = t;
    return 0;
}

static void spill__drop_spiller(store_t *st, const store_txn_t *t)
{
    for (uint32_t i = 0; i < st->spillers_count; i++)
        if (st->spillers[i] == t) {
            st->spillers[i] = st->spillers[--st->spillers_count];
            return;
        }
}

static int spill__add_run(store_t *st, store_txn_t *t, sst_t *s, uint64_t no, bool in_sst)
{
    if (t->runs_count == t->runs_cap) {
        uint32_t cap = t->runs_cap ? t->runs_cap * 2 : 8;
        spill_run_t *r = rt_realloc(t->runs, cap * sizeof *r);
        if (!r)
            return STORE_ENOMEM;
        t->runs = r;
        t->runs_cap = cap;
    }
    int rc = spill__add_spiller(st, t);
    if (rc)
        return rc;
    t->runs[t->runs_count++] = (spill_run_t){s, no, in_sst};
    return 0;
}

/* Memory of earlier spills, while the statement that spills goes on without the loop
 * turning (an INSERT ... SELECT reading another table keeps an iterator open all
 * along): the intents of the previous spill (a value the fiber read from them is long
 * used: it wrote a run's worth since), and the unlinked nodes
 * when no open iterator stands on an unlinked node (only an iterator's candidate node
 * is ever held, and unlinked nodes are not reachable from linked ones). */
static void spill__reap(store_t *st)
{
    while (st->spill_garbage_old) {
        mt_ver_t *v = st->spill_garbage_old;
        st->spill_garbage_old = v->next;
        memtable_ver_free(&st->mt, v);
    }
    st->spill_garbage_old = st->spill_garbage;
    st->spill_garbage = NULL;
    if (!st->mt.dead)
        return;
    for (const store_iter_t *it = st->iters; it; it = it->inext) {
        const mt_node_t *n = it->node;
        if (n && memtable_find(&st->mt, n->table_id, mt_key(n), n->klen) != n)
            return;    /* it stands on an unlinked node */
    }
    memtable_reap_unreferenced(&st->mt);
}

static int spill__node_cmp(const void *a, const void *b)
{
    const mt_node_t *x = *(mt_node_t *const *)a, *y = *(mt_node_t *const *)b;
    return memtable_cmp(x->table_id, mt_key(x), x->klen, y->table_id, mt_key(y), y->klen);
}

static int spill__pwrite(int fd, const uint8_t *p, size_t len, uint64_t *off)
{
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)*off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return STORE_EIO;
        p += w;
        len -= (size_t)w;
        *off += (uint64_t)w;
    }
    return 0;
}

static int spill__drain(sst_writer_t *w, int fd, uint64_t *off)
{
    const uint8_t *buf;
    size_t len;
    sst_writer_take(w, &buf, &len);
    int rc = len ? spill__pwrite(fd, buf, len, off) : 0;
    sst_writer_consume(w);
    return rc;
}

/* Writes nodes' intents (sorted) to path: 0 or a negative rc (the file may remain). */
static int spill__write(const char *path, mt_node_t **nodes, uint32_t n)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return STORE_EIO;
    sst_writer_t *w = sst_writer_new();
    int rc = w ? 0 : STORE_ENOMEM;
    uint64_t off = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const mt_node_t *nd = nodes[i];
        const mt_ver_t *v = nd->vers;
        sst_entry_t e = {.table_id = nd->table_id, .klen = nd->klen, .vlen = v->vlen,
                         .tomb = v->kind == MT_TOMB, .commit_ts = 0, .key = mt_key(nd),
                         .val = v->val};
        rc = sst_writer_add(w, &e);
        if (rc == 0 && (i & 255) == 255)
            rc = spill__drain(w, fd, &off);
    }
    if (rc == 0)
        rc = sst_writer_finish(w);
    if (rc == 0)
        rc = spill__drain(w, fd, &off);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = STORE_EIO;
    sst_writer_free(w);
    close(fd);
    return rc;
}

/* Spills t's value and tombstone intents into a new run; they leave the memtable
 * (their memory is freed at the next store_sync: the transaction's fiber may still
 * hold values it read from them). Lock-only intents stay. 0 or a negative rc; on
 * failure nothing changed but a leftover file in DIR/spill/. */
static int spill__run(store_t *st, store_txn_t *t)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->writes_count; i++)
        n += t->writes[i]->vers->kind != MT_LOCK;
    if (n == 0) {
        t->intent_bytes = 0;    /* only row locks (SELECT ... FOR UPDATE): nothing to spill */
        return 0;
    }
    mt_node_t **nodes = rt_malloc(n * sizeof *nodes);
    if (!nodes)
        return STORE_ENOMEM;
    n = 0;
    for (uint32_t i = 0; i < t->writes_count; i++)
        if (t->writes[i]->vers->kind != MT_LOCK)
            nodes[n++] = t->writes[i];
    qsort(nodes, n, sizeof *nodes, spill__node_cmp);
    uint64_t no = st->next_file_no++;
    char path[4096];
    spill__run_path(st, no, path, sizeof path);
    sst_t *s = NULL;
    int rc = spill__write(path, nodes, n);
    if (rc == 0)
        rc = sst_open(path, no, &s);
    if (rc == 0)
        rc = spill__add_run(st, t, s, no, false);
    if (rc) {
        if (s)
            sst_close(s);
        unlink(path);
        rt_free(nodes);
        return rc;
    }
    sst_set_cache(s, st->cache);
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->writes_count; i++)
        if (t->writes[i]->vers->kind == MT_LOCK)
            t->writes[k++] = t->writes[i];
    t->writes_count = k;
    for (uint32_t i = 0; i < n; i++) {
        mt_node_t *nd = nodes[i];
        mt_ver_t *v = nd->vers;
        ASSERT(v && v->txn_id == t->txn_id);
        nd->vers = v->next;
        v->next = st->spill_garbage;
        st->spill_garbage = v;
        if (!nd->vers)
            memtable_remove(&st->mt, nd);    /* freed now or after the last iterator */
    }
    rt_free(nodes);
    t->intent_bytes = 0;
    spill__reap(st);
    st->sst_gen++;    /* open iterators re-seek, and this transaction's take the run */
    st->stats.spill_runs++;
    st->stats.spill_bytes += sst_file_bytes(s);
    return 0;
}

int spill_after_write(store_t *st, store_txn_t *t)
{
    if (t->intent_bytes < st->spill_bytes || t->state != TXN_ACTIVE || t->sp_level ||
        t->undo_count || st->readonly)
        return 0;
    int rc = spill__run(st, t);
    if (rc == STORE_ENOMEM)
        return rc;
    if (rc) {
        log_warn("store: cannot spill a large transaction's writes to %s (%s); they stay in "
                 "memory", st->spill_dir, strerror(errno));
        t->intent_bytes = 0;    /* tried again after as many bytes more */
    }
    return 0;
}

int spill_own(store_t *st, const store_txn_t *t, uint32_t table_id, const uint8_t *key,
              uint32_t klen, sst_entry_t *e, sst_block_t **blk)
{
    (void)st;
    *blk = NULL;
    for (uint32_t i = t->runs_count; i-- > 0;) {
        sst_t *s = t->runs[i].sst;
        if (!sst_key_in_range(s, table_id, key, klen) || !sst_may_contain(s, table_id, key, klen))
            continue;    /* a load in key order makes disjoint runs: mostly the first test */
        int rc = sst_get(s, table_id, key, klen, UINT64_MAX, e, blk);
        if (rc)
            return rc;
    }
    return 0;
}

int spill_conflict(store_t *st, const store_txn_t *t, uint32_t table_id, const uint8_t *key,
                   uint32_t klen, uint64_t *blocker)
{
    for (uint32_t i = 0; i < st->spillers_count; i++) {
        const store_txn_t *u = st->spillers[i];
        if (u == t)
            continue;
        sst_entry_t e;
        sst_block_t *b;
        int rc = spill_own(st, u, table_id, key, klen, &e, &b);
        sst_block_free(b);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            if (blocker)
                *blocker = u->txn_id;
            return STORE_LOCKED;
        }
    }
    return 0;
}

/* Moves t's runs still in DIR/spill/ into sst/ under fresh numbers (durable: the sst
 * directory is fsynced) and reopens them there. 0 or a negative rc (the runs already
 * moved stay moved). */
static int spill__move(store_t *st, store_txn_t *t)
{
    bool moved = false;
    for (uint32_t i = 0; i < t->runs_count; i++) {
        spill_run_t *r = &t->runs[i];
        if (r->in_sst)
            continue;
        char from[4096], to[4096];
        uint64_t no = st->next_file_no++;
        spill__run_path(st, r->file_no, from, sizeof from);
        flush__sst_path(st, no, to, sizeof to);
        if (rename(from, to) != 0) {
            log_error("store: cannot move %s to %s: %s", from, to, strerror(errno));
            return STORE_EIO;
        }
        sst_close(r->sst);
        r->sst = NULL;
        r->file_no = no;
        r->in_sst = true;
        moved = true;
        int rc = sst_open(to, no, &r->sst);
        if (rc == 0)
            sst_set_cache(r->sst, st->cache);
        if (rc) {
            /* Keep the entry consistent: a run without a reader cannot stay. */
            memmove(r, r + 1, (t->runs_count - i - 1) * sizeof *r);
            t->runs_count--;
            unlink(to);
            return rc;
        }
    }
    if (moved && fsync(st->sst_dirfd) != 0) {
        log_error("store: fsync of %s failed: %s", st->sst_dir, strerror(errno));
        return STORE_EIO;
    }
    return 0;
}

static int spill__pending_add(store_t *st, const uint64_t *files, uint32_t n)
{
    if (st->spill_pending_count + n > st->spill_pending_cap) {
        uint32_t cap = st->spill_pending_cap ? st->spill_pending_cap : 16;
        while (cap < st->spill_pending_count + n)
            cap *= 2;
        uint64_t *p = rt_realloc(st->spill_pending, cap * sizeof *p);
        if (!p)
            return STORE_ENOMEM;
        st->spill_pending = p;
        st->spill_pending_cap = cap;
    }
    memcpy(st->spill_pending + st->spill_pending_count, files, n * sizeof *files);
    st->spill_pending_count += n;
    return 0;
}

static void spill__pending_drop(store_t *st, const uint64_t *files, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < st->spill_pending_count; i++)
            if (st->spill_pending[i] == files[k]) {
                st->spill_pending[i] = st->spill_pending[--st->spill_pending_count];
                break;
            }
}

/* t's runs (all in sst/) join the set stamped with ts; t no longer owns them. */
static int spill__install(store_t *st, store_txn_t *t, uint64_t ts)
{
    while (t->runs_count) {
        spill_run_t *r = &t->runs[0];
        ASSERT(r->in_sst);
        if (sst_stamp(r->sst) != ts) {
            sst_set_stamp(r->sst, ts);
            if (st->cache)
                cache_drop_file(st->cache, r->file_no);    /* blocks read before the stamp */
        }
        sst_set_cache(r->sst, st->cache);
        int rc = flush__set_replace(st, r->sst, NULL, 0);
        if (rc)
            return rc;
        memmove(r, r + 1, (t->runs_count - 1) * sizeof *r);
        t->runs_count--;
    }
    spill__drop_spiller(st, t);
    store__note_ts(st, ts);
    return 0;
}

static spill_job_t *spill__job_new(store_t *st, store_txn_t *t, int kind, uint64_t ts)
{
    spill_job_t *j = rt_calloc(1, sizeof *j);
    uint32_t n = t->runs_count;
    if (!j || !(j->files = rt_malloc((n ? n : 1) * sizeof *j->files))) {
        rt_free(j);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        j->files[i] = t->runs[i].file_no;
    if (spill__pending_add(st, j->files, n) != 0) {
        rt_free(j->files);
        rt_free(j);
        return NULL;
    }
    j->count = n;
    j->kind = kind;
    j->ts = ts;
    j->txn_id = t->txn_id;
    j->coord = t->coord;
    j->job.st = st;
    j->job.what = "spilled commit";
    flush__man_init(&j->me);
    j->me.spill_files = j->files;
    j->me.spill_count = n;
    j->me.spill_ts = ts;
    return j;
}

static void spill__job_queue(store_t *st, spill_job_t *j)
{
    if (st->spill_jobs_tail)
        st->spill_jobs_tail->next = j;
    else
        st->spill_jobs = j;
    st->spill_jobs_tail = j;
}

int spill_commit(store_t *st, store_txn_t *t, uint64_t commit_ts, void (*done)(void *, int),
                 void *arg)
{
    int rc = spill__run(st, t);    /* the rest: every write of t is in a run now */
    if (rc == 0)
        rc = spill__move(st, t);
    spill_job_t *j = NULL;
    if (rc == 0 && !(j = spill__job_new(st, t, SJ_COMMIT, commit_ts)))
        rc = STORE_ENOMEM;
    if (rc) {
        store_txn_abort(st, t);
        done(arg, rc);
        return 0;
    }
    /* Stamped now: no reader but t ever read these files, and none will before the
     * edit installs them. */
    for (uint32_t i = 0; i < t->runs_count; i++)
        sst_set_stamp(t->runs[i].sst, commit_ts);
    t->commit_ts = commit_ts;
    t->state = TXN_COMMITTING;
    store__pend_sync(st, t);    /* pending until the edit is durable (store_pending_min) */
    j->txn = t;
    j->done = done;
    j->arg = arg;
    spill__job_queue(st, j);
    return 0;
}

int spill_prepare(store_t *st, store_txn_t *t)
{
    int rc = spill__run(st, t);
    return rc ? rc : spill__move(st, t);
}

int spill_commit_prepared(store_t *st, store_txn_t *t, uint64_t commit_ts, int type, bool early,
                          void (*done)(void *, int), void *arg)
{
    spill_job_t *j = spill__job_new(st, t, early ? SJ_EARLY : SJ_PREPARED, commit_ts);
    if (!j) {
        done(arg, STORE_ENOMEM);    /* stays prepared / in doubt: recovery resolves it */
        return 0;
    }
    j->rec_type = type;
    j->done = done;
    j->arg = arg;
    t->commit_ts = commit_ts;
    store__pend_sync(st, t);    /* the pending heap follows every commit_ts change */
    if (early) {
        /* Decided: visible and unlocked now; the edit and then the record follow. */
        if (spill__install(st, t, commit_ts) != 0) {
            log_error("store: no memory to install a committed transaction's runs in %s; "
                      "read-only", st->dir);
            st->readonly = true;
        }
        st->stats.commits++;
        store__txn_forget(st, t);    /* lock-only intents go, waiters retry */
    } else {
        j->txn = t;
    }
    spill__job_queue(st, j);
    return 0;
}

void spill_discard(store_t *st, store_txn_t *t)
{
    for (uint32_t i = 0; i < t->runs_count; i++) {
        /* A run in sst/ may be named by a phase-one record a crash would replay: it is
         * left for the next open (an orphan unless a prepared transaction holds it). */
        if (!t->runs[i].in_sst)
            sst_set_obsolete(t->runs[i].sst);
        sst_close(t->runs[i].sst);
    }
    if (t->runs_count)
        st->sst_gen++;    /* iterators drop their cursors on the runs */
    t->runs_count = 0;
    spill__drop_spiller(st, t);
}

void spill_release(store_t *st, store_txn_t *t)
{
    for (uint32_t i = 0; i < t->runs_count; i++)
        sst_close(t->runs[i].sst);
    t->runs_count = 0;
    rt_free(t->runs);
    t->runs = NULL;
    t->runs_cap = 0;
    spill__drop_spiller(st, t);
}

/* The phase-two record of a job is durable (or failed): only now may compaction merge
 * its runs away, since until then recovery replays the phase-one record naming them. */
typedef struct spill_tail {
    store_t *st;
    uint64_t *files;
    uint32_t count;
    void (*done)(void *arg, int rc);
    void *arg;
} spill_tail_t;

static void spill__tail_done(void *arg, int rc)
{
    spill_tail_t *tl = arg;
    spill__pending_drop(tl->st, tl->files, tl->count);
    tl->done(tl->arg, rc);
    rt_free(tl->files);
    rt_free(tl);
}

/* Moves j's files and done into a tail (j->files becomes NULL); NULL on ENOMEM, when
 * the pending entries go at once. */
static spill_tail_t *spill__tail(store_t *st, spill_job_t *j)
{
    spill_tail_t *tl = rt_malloc(sizeof *tl);
    if (!tl) {
        spill__pending_drop(st, j->files, j->count);
        return NULL;
    }
    *tl = (spill_tail_t){st, j->files, j->count, j->done, j->arg};
    j->files = NULL;
    return tl;
}

/* The job's edit is durable (ok) or failed. */
static void spill__job_finish(store_t *st, spill_job_t *j, bool ok)
{
    store_txn_t *t = j->txn;
    spill_tail_t *tl = NULL;
    if (j->kind == SJ_COMMIT || !ok || !(tl = spill__tail(st, j)))
        spill__pending_drop(st, j->files, j->count);
    int rc = ok ? STORE_OK : STORE_EREADONLY;
    switch (j->kind) {
    case SJ_COMMIT:
        if (ok && spill__install(st, t, j->ts) != 0) {
            log_error("store: no memory to install a committed transaction's runs in %s; "
                      "read-only", st->dir);
            st->readonly = true;
        }
        if (ok) {
            st->stats.commits++;
        } else {
            /* The edit may be on disk: the files stay for the next open to decide. */
            for (uint32_t i = 0; i < t->runs_count; i++)
                sst_close(t->runs[i].sst);
            t->runs_count = 0;
            spill__drop_spiller(st, t);
        }
        t->state = TXN_ACTIVE;
        store__txn_forget(st, t);
        j->done(j->arg, rc);
        break;
    case SJ_EARLY:
        if (ok)
            rc = tl ? store__queue_early(st, j->txn_id, j->ts, j->coord, j->rec_type,
                                         spill__tail_done, tl)
                    : store__queue_early(st, j->txn_id, j->ts, j->coord, j->rec_type, j->done,
                                         j->arg);
        if (rc && tl)
            spill__tail_done(tl, rc);
        else if (rc)
            j->done(j->arg, rc);
        break;
    case SJ_PREPARED:
        if (ok && spill__install(st, t, j->ts) != 0) {
            log_error("store: no memory to install a committed transaction's runs in %s; "
                      "read-only", st->dir);
            st->readonly = true;
        }
        if (ok && !st->readonly && tl)
            store_txn_commit_prepared(st, t, j->ts, spill__tail_done, tl);
        else if (ok && !st->readonly)
            store_txn_commit_prepared(st, t, j->ts, j->done, j->arg);
        else if (tl)
            spill__tail_done(tl, STORE_EREADONLY);
        else
            j->done(j->arg, STORE_EREADONLY);    /* in doubt until the next open */
        break;
    }
}

void spill_step(store_t *st)
{
    while (st->spill_garbage_old) {
        mt_ver_t *v = st->spill_garbage_old;
        st->spill_garbage_old = v->next;
        memtable_ver_free(&st->mt, v);
    }
    while (st->spill_garbage) {
        mt_ver_t *v = st->spill_garbage;
        st->spill_garbage = v->next;
        memtable_ver_free(&st->mt, v);
    }
    while (st->spill_jobs) {
        spill_job_t *j = st->spill_jobs;
        if (j->job.io_busy)
            return;
        int rc;
        if (st->readonly && j->me.state != ME_APPENDED && j->me.state != ME_DURABLE)
            rc = STORE_EREADONLY;
        else {
            if (j->me.state == ME_START)
                j->me.flushed_lsn = st->flushed_lsn;    /* the edit changes no flushed LSN */
            rc = flush__man_step(st, &j->job, &j->me);
        }
        if (rc == 0)
            return;    /* in flight, or another edit holds the manifest */
        st->spill_jobs = j->next;
        if (!st->spill_jobs)
            st->spill_jobs_tail = NULL;
        flush__man_release(st, &j->me);
        spill__job_finish(st, j, rc == 1);
        rt_free(j->files);
        rt_free(j);
    }
}

int spill_recover_ref(store_t *st, store_txn_t *t, uint64_t file_no)
{
    if (file_no >= st->next_file_no)
        st->next_file_no = file_no + 1;
    if (!t)
        return 0;
    for (uint32_t i = 0; i < st->sst_count; i++)
        if (sst_file_no(st->ssts[i]) == file_no)
            return 0;    /* the commit's manifest edit is durable: in the set already */
    char path[4096];
    flush__sst_path(st, file_no, path, sizeof path);
    sst_t *s;
    if (access(path, F_OK) != 0) {
        /* Committed by a manifest edit, then merged away by a compaction: a later
         * record of this WAL ends the transaction. If none does, store_open fails. */
        t->runs_missing = true;
        return 0;
    }
    int rc = sst_open(path, file_no, &s);
    if (rc) {
        log_error("store: prepared transaction %" PRIu64 " names spilled run %s, which "
                  "does not open", t->txn_id, path);
        return rc;
    }
    rc = spill__add_run(st, t, s, file_no, true);
    if (rc)
        sst_close(s);
    return rc;
}
