/*
 * sim_io.h -- a simulated store_io for the shard storage tests (header-only so each
 * test binary gets its own copy; no symbols clash with the library).
 *
 * Model: the files are real, but nothing reaches them until the simulated disk says
 * so. A write submitted by the store is "in flight" until sim_run() performs it. A
 * write with sync: its bytes (and every earlier unsynced write to the same file) become
 * durable and done(0) runs. A write without sync is acknowledged and goes into the
 * file at once -- reads see it, as they would see a page cache -- but it stays
 * volatile: the simulator keeps its pre-image (the bytes and file size it replaced,
 * through a dup of the fd, so it survives the store closing the file) until an fsync
 * op (or a sync write) on that file makes it durable. A power loss (sim_crash) drops or
 * tears each in-flight write (a random prefix lands, optionally with garbage at its
 * end; the store keeps at most one write per file in flight, so nothing lands beyond
 * a hole), and rolls back each volatile write independently (newest first): kept,
 * undone, or torn (a prefix kept), as a real page cache may write back any subset; an
 * undone write that had extended the file leaves it truncated or zero-filled there.
 * Files are identified by inode at submission, so a closed and reused fd number never
 * receives another file's bytes. Fault knobs: fail a write (nothing lands, -EIO, the
 * file's volatile writes are undone), fail the fsync (bytes of a sync write land, -EIO;
 * the file's volatile writes are undone), and ignore_fsync, the negative control:
 * every write is volatile, fsyncs make nothing durable, and every crash undoes them
 * all (and drops the writes still in flight).
 */
#ifndef NEXTDB_SIM_IO_H
#define NEXTDB_SIM_IO_H
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shards/store.h"

#define SIM_OPS_MAX 64

typedef struct sim_op {
    int fd;
    int keep_fd;           /* volatile write: dup of fd for the rollback, else -1 */
    uint8_t *old;          /* volatile write: the bytes it replaced (old_len of them) */
    size_t old_len;
    uint64_t old_size;     /* volatile write: the file size before it */
    bool sync, is_fsync;
    dev_t dev;
    ino_t ino;
    uint64_t off;
    uint8_t *buf;
    size_t len;
    void (*done)(void *arg, int res);
    void *arg;
} sim_op_t;

typedef struct sim {
    store_io_t io;
    bool immediate;        /* perform writes inside write() (done before return) */
    bool ignore_fsync;     /* negative control */
    int fail_write_in;     /* > 0: the Nth write from now fails, nothing lands */
    int fail_fsync_in;     /* > 0: the Nth write from now lands but its fsync fails */
    sim_op_t ops[SIM_OPS_MAX];      /* submitted, not performed */
    int ops_count;
    sim_op_t cache[SIM_OPS_MAX * 64];  /* volatile writes (landed, pre-image kept), oldest first */
    int cache_count;
    uint64_t writes_total;
    uint64_t rng;
} sim_t;

static uint64_t sim_rand(sim_t *s)
{
    uint64_t x = s->rng ? s->rng : 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return x;
}

/* True when fd still names the file the op was submitted for. */
static bool sim_same_file(const sim_op_t *op)
{
    struct stat sb;
    return fstat(op->fd, &sb) == 0 && sb.st_dev == op->dev && sb.st_ino == op->ino;
}

static void sim_land(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pwrite(fd, buf + done, len - done, (off_t)(off + done));
        if (r <= 0)
            abort();
        done += (size_t)r;
    }
}

/* Undoes bytes [keep, len) of volatile write c (restores its pre-image; beyond the
 * old end of file: truncates when nothing later extends the file, else zero-fills). */
static void sim_undo(sim_op_t *c, size_t keep)
{
    if (keep < c->old_len)
        sim_land(c->keep_fd, c->old + keep, c->old_len - keep, c->off + keep);
    size_t from = keep > c->old_len ? keep : c->old_len;
    if (from >= c->len)
        return;
    struct stat sb;
    if (fstat(c->keep_fd, &sb) != 0)
        abort();
    uint64_t end = c->off + c->len;
    if ((uint64_t)sb.st_size <= end) {
        uint64_t to = c->off + from > c->old_size ? c->off + from : c->old_size;
        if (ftruncate(c->keep_fd, (off_t)to) != 0)
            abort();
    } else {
        static const uint8_t zero[4096];
        for (size_t at = from; at < c->len;) {
            size_t n = c->len - at < sizeof zero ? c->len - at : sizeof zero;
            sim_land(c->keep_fd, zero, n, c->off + at);
            at += n;
        }
    }
}

static void sim_forget(sim_op_t *c)
{
    close(c->keep_fd);
    free(c->old);
}

/* Makes every volatile write to op's file durable (land) or undoes them, newest first. */
static void sim_flush_cache(sim_t *s, const sim_op_t *op, bool land)
{
    for (int i = s->cache_count - 1; i >= 0; i--) {
        sim_op_t *c = &s->cache[i];
        if (c->dev == op->dev && c->ino == op->ino && !land)
            sim_undo(c, 0);
    }
    int kept = 0;
    for (int i = 0; i < s->cache_count; i++) {
        sim_op_t *c = &s->cache[i];
        if (c->dev == op->dev && c->ino == op->ino)
            sim_forget(c);
        else
            s->cache[kept++] = *c;
    }
    s->cache_count = kept;
}

/* Lands op now, keeping what it replaced so a crash can undo it. */
static void sim_cache(sim_t *s, sim_op_t *op)
{
    if (s->cache_count == SIM_OPS_MAX * 64)
        abort();    /* a test writing this much unsynced data needs a bigger cache */
    if (!sim_same_file(op))
        return;     /* the file is gone: nothing to land */
    struct stat sb;
    if (fstat(op->fd, &sb) != 0)
        abort();
    sim_op_t c = *op;
    c.old_size = (uint64_t)sb.st_size;
    c.old_len = c.old_size > op->off ? (size_t)(c.old_size - op->off) : 0;
    if (c.old_len > op->len)
        c.old_len = op->len;
    c.old = malloc(c.old_len ? c.old_len : 1);
    c.keep_fd = dup(op->fd);
    if (!c.old || c.keep_fd < 0 ||
        (c.old_len && pread(op->fd, c.old, c.old_len, (off_t)op->off) != (ssize_t)c.old_len))
        abort();
    sim_land(op->fd, op->buf, op->len, op->off);
    c.buf = NULL;
    s->cache[s->cache_count++] = c;
}

/* Performs one submitted op: lands it (unless failing) and calls done. */
static void sim_perform(sim_t *s, sim_op_t *op)
{
    int res = 0;
    if (op->is_fsync) {
        bool fail = s->fail_fsync_in > 0 && --s->fail_fsync_in == 0;
        if (!s->ignore_fsync)
            sim_flush_cache(s, op, !fail);
        res = fail ? -EIO : 0;
    } else if (s->fail_write_in > 0 && --s->fail_write_in == 0) {
        res = -EIO;
        if (!s->ignore_fsync)
            sim_flush_cache(s, op, false);
    } else if (s->ignore_fsync) {
        if (s->cache_count < SIM_OPS_MAX * 64)
            sim_cache(s, op);    /* when full: the write is simply lost */
    } else if (!op->sync) {
        sim_cache(s, op);
    } else {
        bool fail = s->fail_fsync_in > 0 && --s->fail_fsync_in == 0;
        sim_flush_cache(s, op, !fail);
        if (sim_same_file(op))
            sim_land(op->fd, op->buf, op->len, op->off);
        res = fail ? -EIO : 0;
    }
    free(op->buf);
    op->done(op->arg, res);
}

/* Queues (or, immediate, performs) op. */
static int sim_submit(sim_t *s, sim_op_t *op)
{
    struct stat sb;
    if (fstat(op->fd, &sb) != 0)
        abort();
    op->dev = sb.st_dev;
    op->ino = sb.st_ino;
    s->writes_total++;
    if (s->immediate) {
        sim_perform(s, op);
        return 0;
    }
    s->ops[s->ops_count++] = *op;
    return 0;
}

static int sim_write(void *ctx, int fd, const void *buf, size_t len, uint64_t off, bool sync,
                     void (*done)(void *arg, int res), void *arg)
{
    sim_t *s = ctx;
    if (s->ops_count == SIM_OPS_MAX)
        return -EAGAIN;
    sim_op_t op = {.fd = fd, .sync = sync, .off = off, .buf = malloc(len ? len : 1), .len = len,
                   .done = done, .arg = arg};
    memcpy(op.buf, buf, len);
    return sim_submit(s, &op);
}

static int sim_fsync(void *ctx, int fd, void (*done)(void *arg, int res), void *arg)
{
    sim_t *s = ctx;
    if (s->ops_count == SIM_OPS_MAX)
        return -EAGAIN;
    sim_op_t op = {.fd = fd, .is_fsync = true, .buf = malloc(1), .done = done, .arg = arg};
    return sim_submit(s, &op);
}

/* Performs every submitted write, oldest first (callbacks may submit more; those run
 * too). Returns how many ran. */
__attribute__((unused)) static int sim_run(sim_t *s)
{
    int n = 0;
    while (s->ops_count) {
        sim_op_t op = s->ops[0];
        memmove(s->ops, s->ops + 1, (size_t)(s->ops_count - 1) * sizeof op);
        s->ops_count--;
        sim_perform(s, &op);
        n++;
    }
    return n;
}

/* Power loss: in-flight writes are dropped or torn, the volatile cache is lost. No
 * done callback runs. The caller then store_close()s the store and reopens. */
__attribute__((unused)) static void sim_crash(sim_t *s)
{
    for (int i = 0; i < s->ops_count; i++) {
        sim_op_t *op = &s->ops[i];
        uint64_t r = sim_rand(s);
        /* With fsync ignored, earlier acknowledged writes vanish with the cache; landing
         * a later one would leave a hole, so in-flight writes vanish as well. */
        if (r % 3 != 0 && op->len && !s->ignore_fsync && sim_same_file(op)) {
            size_t keep = (size_t)((r >> 8) % op->len);
            if ((r >> 40) % 2 && keep > 8) {
                for (size_t j = keep - 8; j < keep; j++)
                    op->buf[j] = (uint8_t)sim_rand(s);
            }
            sim_land(op->fd, op->buf, keep, op->off);
        }
        free(op->buf);
    }
    s->ops_count = 0;
    for (int i = s->cache_count - 1; i >= 0; i--) {
        sim_op_t *op = &s->cache[i];
        uint64_t r = sim_rand(s);
        /* Unsynced page-cache data: any subset may have been written back. */
        if (s->ignore_fsync || r % 3 == 0)
            sim_undo(op, 0);
        else if (r % 3 == 2 && op->len)
            sim_undo(op, (size_t)((r >> 8) % op->len));
        sim_forget(op);
    }
    s->cache_count = 0;
}

/* Clean shutdown: the page cache is written back (call before the store closes its
 * files). */
__attribute__((unused)) static void sim_settle(sim_t *s)
{
    for (int i = s->cache_count - 1; i >= 0; i--) {
        if (s->ignore_fsync)
            sim_undo(&s->cache[i], 0);    /* the control's cache never reaches the disk */
        sim_forget(&s->cache[i]);
    }
    s->cache_count = 0;
}

static void sim_init(sim_t *s, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->io.ctx = s;
    s->io.write = sim_write;
    s->io.fsync = sim_fsync;
    s->rng = seed ? seed : 1;
}
#endif
