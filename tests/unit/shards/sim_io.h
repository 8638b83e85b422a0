/*
 * sim_io.h -- a simulated store_io for the shard storage tests (header-only so each
 * test binary gets its own copy; no symbols clash with the library).
 *
 * Model: the files are real, but nothing reaches them until the simulated disk says
 * so. A write submitted by the store is "in flight" until sim_run() performs it. A
 * write with sync: its bytes (and every earlier unsynced write to the same file) land
 * and done(0) runs. A write without sync is acknowledged but its bytes stay in a
 * volatile page cache until an fsync op (or a sync write) on that file lands them. A
 * power loss (sim_crash) drops or tears each in-flight write (a random prefix lands,
 * optionally with garbage at its end; the store keeps at most one write per file in
 * flight, so nothing lands beyond a hole), and each unsynced cached write is
 * independently dropped, landed or torn, as a real page cache may write back any
 * subset. Files are identified by inode at submission, so a closed and reused fd
 * number never receives another file's bytes. Fault knobs: fail a write (nothing
 * lands, -EIO), fail the fsync (bytes of a sync write land, -EIO; for an fsync op the
 * cached bytes are dropped), and ignore_fsync, the negative control: writes are
 * acknowledged at once but stay in a volatile cache that every crash throws away
 * (with the writes still in flight).
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
    sim_op_t cache[SIM_OPS_MAX * 64];  /* ignore_fsync: acknowledged, volatile */
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

/* Lands (land) or drops every cached unsynced write to op's file. */
static void sim_flush_cache(sim_t *s, const sim_op_t *op, bool land)
{
    int kept = 0;
    for (int i = 0; i < s->cache_count; i++) {
        sim_op_t *c = &s->cache[i];
        if (c->dev == op->dev && c->ino == op->ino) {
            if (land && sim_same_file(c))
                sim_land(c->fd, c->buf, c->len, c->off);
            free(c->buf);
        } else {
            s->cache[kept++] = *c;
        }
    }
    s->cache_count = kept;
}

static void sim_cache(sim_t *s, sim_op_t *op)
{
    if (s->cache_count == SIM_OPS_MAX * 64)
        abort();    /* a test writing this much unsynced data needs a bigger cache */
    s->cache[s->cache_count++] = *op;
    op->buf = NULL;
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
            sim_cache(s, op);
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
    for (int i = 0; i < s->cache_count; i++) {
        sim_op_t *op = &s->cache[i];
        uint64_t r = sim_rand(s);
        /* Unsynced page-cache data: any subset may have been written back. */
        if (!s->ignore_fsync && r % 3 != 0 && op->len && sim_same_file(op)) {
            size_t keep = r % 3 == 1 ? op->len : (size_t)((r >> 8) % op->len);
            sim_land(op->fd, op->buf, keep, op->off);
        }
        free(op->buf);
    }
    s->cache_count = 0;
}

/* Clean shutdown: the page cache is written back (call before the store closes its
 * files). */
__attribute__((unused)) static void sim_settle(sim_t *s)
{
    for (int i = 0; i < s->cache_count; i++) {
        sim_op_t *op = &s->cache[i];
        if (!s->ignore_fsync && sim_same_file(op))
            sim_land(op->fd, op->buf, op->len, op->off);
        free(op->buf);
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
