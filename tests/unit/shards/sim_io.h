/*
 * sim_io.h -- a simulated store_io for the shard storage tests (header-only so each
 * test binary gets its own copy; no symbols clash with the library).
 *
 * Model: the files are real, but nothing reaches them until the simulated disk says
 * so. A write submitted by the store is "in flight" (unsynced) until sim_run()
 * performs it: the bytes land in the file and done(0) runs. Until then a power loss
 * (sim_crash) can drop the write or tear it (a random prefix lands, optionally with
 * garbage at the end; at most one write is in flight, so nothing lands beyond a hole).
 * Fault knobs: fail a write (nothing lands, -EIO), fail the fsync
 * (bytes land, -EIO), and ignore_fsync, the negative control: writes are acknowledged
 * at once but stay in a volatile cache that every crash throws away (with the writes
 * still in flight).
 */
#ifndef NEXTDB_SIM_IO_H
#define NEXTDB_SIM_IO_H
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shards/store.h"

#define SIM_OPS_MAX 64

typedef struct sim_op {
    int fd;
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

/* Performs one submitted op: lands it (unless failing) and calls done. */
static void sim_perform(sim_t *s, sim_op_t *op)
{
    int res = 0;
    if (s->fail_write_in > 0 && --s->fail_write_in == 0) {
        res = -EIO;
    } else if (s->ignore_fsync) {
        if (s->cache_count < SIM_OPS_MAX * 64) {
            s->cache[s->cache_count++] = *op;
            op->buf = NULL;
        }
    } else {
        sim_land(op->fd, op->buf, op->len, op->off);
        if (s->fail_fsync_in > 0 && --s->fail_fsync_in == 0)
            res = -EIO;
    }
    free(op->buf);
    op->done(op->arg, res);
}

static int sim_write(void *ctx, int fd, const void *buf, size_t len, uint64_t off, bool sync,
                     void (*done)(void *arg, int res), void *arg)
{
    sim_t *s = ctx;
    if (s->ops_count == SIM_OPS_MAX)
        return -EAGAIN;
    sim_op_t op = {fd, off, malloc(len ? len : 1), len, done, arg};
    memcpy(op.buf, buf, len);
    s->writes_total++;
    if (s->immediate) {
        sim_perform(s, &op);
        return 0;
    }
    s->ops[s->ops_count++] = op;
    return 0;
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
        if (r % 3 != 0 && op->len && !s->ignore_fsync) {
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
    for (int i = 0; i < s->cache_count; i++)
        free(s->cache[i].buf);
    s->cache_count = 0;
}

static void sim_init(sim_t *s, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->io.ctx = s;
    s->io.write = sim_write;
    s->rng = seed ? seed : 1;
}
#endif
