/*
 * io_uring.c -- the io_uring backend of core/io.h (liburing 2.3).
 *
 * One ring per shard, created on the shard's own thread with SINGLE_ISSUER |
 * DEFER_TASKRUN when the kernel accepts them (completions are then produced only when
 * this thread enters the kernel, i.e. in iour__wait, never by interrupting it), plain
 * flags otherwise; never SQPOLL (it burns a core per ring). Operations queue an SQE
 * whose user_data is an io_req_t on the waiting fiber's stack; SQEs of a whole loop
 * turn are submitted together by iour__wait, which also reaps completions. A read of
 * 8 bytes on the shard's doorbell eventfd is kept armed at all times, so a doorbell
 * write completes it and wakes a sleeping shard.
 *
 * If an operation comes back with -EAGAIN (a descriptor someone made O_NONBLOCK), the
 * fiber waits for readiness with IORING_OP_POLL_ADD and retries.
 * Timers are not used: rt passes the earliest timer deadline as the wait timeout
 * (io_uring_submit_and_wait_timeout, which on kernels with EXT_ARG needs no SQE).
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/io.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/rt_int.h"

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef LIBURING_UDATA_TIMEOUT
#define LIBURING_UDATA_TIMEOUT ((__u64)-1)
#endif

typedef struct iour_state {
    struct io_uring iu_ring;
    uint64_t iu_bell_value;     /* doorbell read target */
    io_req_t iu_bell_req;
    rt_shard_t *iu_shard;
} iour_state_t;

static iour_state_t *iour__st(rt_shard_t *s) { return s->sh_io_state; }

static int iour__reap(iour_state_t *st);

/* Returns a free SQE, submitting the queued ones first when the SQ is full. */
static struct io_uring_sqe *iour__sqe(iour_state_t *st)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&st->iu_ring);
    for (int tries = 0; !sqe && tries < 1000; tries++) {
        /* Submission can stall (-EBUSY) while the kernel holds overflowed
         * completions: reap them, then try again. */
        io_uring_submit_and_get_events(&st->iu_ring);
        sqe = io_uring_get_sqe(&st->iu_ring);
        if (!sqe)
            iour__reap(st);
    }
    ASSERT(sqe != NULL);
    return sqe;
}

static void iour__arm_bell(iour_state_t *st);

static void iour__bell_done(io_req_t *req, int res)
{
    iour_state_t *st = (iour_state_t *)((char *)req - offsetof(iour_state_t, iu_bell_req));
    if (res < 0 && res != -EINTR && res != -EAGAIN && res != -ECANCELED)
        log_warn("doorbell read failed: %s", strerror(-res));
    iour__arm_bell(st);
}

static void iour__arm_bell(iour_state_t *st)
{
    struct io_uring_sqe *sqe = iour__sqe(st);
    memset(&st->iu_bell_req, 0, sizeof st->iu_bell_req);
    st->iu_bell_req.req_cb = iour__bell_done;
    io_uring_prep_read(sqe, st->iu_shard->sh_doorbell_fd, &st->iu_bell_value,
                       sizeof st->iu_bell_value, 0);
    io_uring_sqe_set_data(sqe, &st->iu_bell_req);
}

static int iour__init(rt_shard_t *s)
{
    iour_state_t *st = rt_calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    /* A CQ larger than the SQ: many more operations are in flight (a recv per
     * connection) than are submitted in one turn. */
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    p.cq_entries = LIMIT_IO_CQ_ENTRIES;
    int rc = io_uring_queue_init_params(LIMIT_IO_QUEUE_DEPTH, &st->iu_ring, &p);
    if (rc == -EINVAL) {
        /* Kernel older than 6.1: the flags are an optimisation, not a requirement. */
        log_info("shard %d: io_uring without SINGLE_ISSUER|DEFER_TASKRUN", s->sh_id);
        memset(&p, 0, sizeof p);
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = LIMIT_IO_CQ_ENTRIES;
        rc = io_uring_queue_init_params(LIMIT_IO_QUEUE_DEPTH, &st->iu_ring, &p);
    }
    if (rc < 0) {
        rt_free(st);
        return rc;
    }
    st->iu_shard = s;
    s->sh_io_state = st;
    iour__arm_bell(st);
    return 0;
}

static void iour__fini(rt_shard_t *s)
{
    iour_state_t *st = iour__st(s);
    if (!st)
        return;
    io_uring_queue_exit(&st->iu_ring);
    rt_free(st);
    s->sh_io_state = NULL;
}

/* Queues sqe for req and suspends the calling fiber until its completion. */
static int iour__run(iour_state_t *st, struct io_uring_sqe *sqe, io_req_t *req)
{
    io_uring_sqe_set_data(sqe, req);
    rt__wait_req(req);
    return req->req_res;
}

/* Waits until fd is ready for `events` (POLLIN / POLLOUT). 0 or -errno. */
static int iour__poll(iour_state_t *st, int fd, unsigned events)
{
    io_req_t req = {0};
    struct io_uring_sqe *sqe = iour__sqe(st);
    io_uring_prep_poll_add(sqe, fd, events);
    int r = iour__run(st, sqe, &req);
    return r < 0 ? r : 0;
}

static int iour__accept(rt_shard_t *s, int fd)
{
    iour_state_t *st = iour__st(s);
    for (;;) {
        io_req_t req = {.req_fd = fd};
        struct io_uring_sqe *sqe = iour__sqe(st);
        io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_CLOEXEC);
        rt__accept_begin(&req);
        int r = iour__run(st, sqe, &req);
        rt__accept_end(&req);
        if (r == -EAGAIN && !req.req_cancelled && !rt_stopping()) {
            /* Readiness wait for a non-blocking listener; not cancellable, so it
             * only happens before stop. */
            r = iour__poll(st, fd, POLLIN);
            if (r == 0)
                continue;
        }
        if (r == -EINTR)
            continue;
        return req.req_cancelled && r < 0 ? -ECANCELED : r;
    }
}

static ssize_t iour__recv(rt_shard_t *s, int fd, void *buf, size_t len)
{
    iour_state_t *st = iour__st(s);
    if (len > LIMIT_IO_CHUNK_BYTES)
        len = LIMIT_IO_CHUNK_BYTES;
    for (;;) {
        io_req_t req = {0};
        struct io_uring_sqe *sqe = iour__sqe(st);
        io_uring_prep_recv(sqe, fd, buf, len, 0);
        int r = iour__run(st, sqe, &req);
        if (r == -EAGAIN && (r = iour__poll(st, fd, POLLIN)) == 0)
            continue;
        if (r == -EINTR)
            continue;
        return r;
    }
}

static ssize_t iour__send(rt_shard_t *s, int fd, const void *buf, size_t len)
{
    iour_state_t *st = iour__st(s);
    if (len > LIMIT_IO_CHUNK_BYTES)
        len = LIMIT_IO_CHUNK_BYTES;
    for (;;) {
        io_req_t req = {0};
        struct io_uring_sqe *sqe = iour__sqe(st);
        io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
        int r = iour__run(st, sqe, &req);
        if (r == -EAGAIN && (r = iour__poll(st, fd, POLLOUT)) == 0)
            continue;
        if (r == -EINTR)
            continue;
        return r;
    }
}

/* A pending recv/send holds its own file reference, so closing alone would leave
 * the fiber blocked in it forever: cancel every request on fd first (they complete
 * with -ECANCELED), then close. */
static int iour__close(rt_shard_t *s, int fd)
{
    iour_state_t *st = iour__st(s);
    io_req_t req = {0};
    struct io_uring_sqe *sqe = iour__sqe(st);
    io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data(sqe, NULL);
    if (!rt_self()) {
        /* Loop context cannot suspend: submit the cancel now, while fd still names
         * this file, then close synchronously. */
        io_uring_submit(&st->iu_ring);
        return close(fd) == 0 ? 0 : -errno;
    }
    sqe = iour__sqe(st);
    io_uring_prep_close(sqe, fd);
    return iour__run(st, sqe, &req);
}

static ssize_t iour__pread(rt_shard_t *s, int fd, void *buf, size_t len, uint64_t off)
{
    iour_state_t *st = iour__st(s);
    ASSERT(len <= LIMIT_IO_CHUNK_BYTES);
    io_req_t req = {0};
    struct io_uring_sqe *sqe = iour__sqe(st);
    io_uring_prep_read(sqe, fd, buf, (unsigned)len, off);
    return iour__run(st, sqe, &req);
}

static ssize_t iour__pwrite(rt_shard_t *s, int fd, const void *buf, size_t len, uint64_t off)
{
    iour_state_t *st = iour__st(s);
    ASSERT(len <= LIMIT_IO_CHUNK_BYTES);
    io_req_t req = {0};
    struct io_uring_sqe *sqe = iour__sqe(st);
    io_uring_prep_write(sqe, fd, buf, (unsigned)len, off);
    return iour__run(st, sqe, &req);
}

static int iour__fdatasync(rt_shard_t *s, int fd)
{
    iour_state_t *st = iour__st(s);
    io_req_t req = {0};
    struct io_uring_sqe *sqe = iour__sqe(st);
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    return iour__run(st, sqe, &req);
}

/* An asynchronous write (+ linked fdatasync): two requests, one callback when both
 * completions are in. A short write is reported as -EIO: the kernel then cancels the
 * linked fdatasync (-ECANCELED), and pretending the tail was written would be worse
 * than failing the group commit. */
typedef struct iour_write {
    io_req_t iw_write;
    io_req_t iw_sync;
    size_t iw_len;
    int iw_pending;
    int iw_err;
    void (*iw_done)(void *arg, int res);
    void *iw_arg;
} iour_write_t;

static void iour__write_step(iour_write_t *w, int err)
{
    if (err && !w->iw_err)
        w->iw_err = err;
    if (--w->iw_pending > 0)
        return;
    void (*done)(void *, int) = w->iw_done;
    void *arg = w->iw_arg;
    int res = w->iw_err;
    rt_free(w);
    done(arg, res);
}

static void iour__write_done(io_req_t *req, int res)
{
    iour_write_t *w = (iour_write_t *)((char *)req - offsetof(iour_write_t, iw_write));
    int err = 0;
    if (res < 0)
        err = res;
    else if ((size_t)res != w->iw_len)
        err = -EIO;
    iour__write_step(w, err);
}

static void iour__sync_done(io_req_t *req, int res)
{
    iour_write_t *w = (iour_write_t *)((char *)req - offsetof(iour_write_t, iw_sync));
    iour__write_step(w, res < 0 ? res : 0);
}

static int iour__write_async(rt_shard_t *s, int fd, const void *buf, size_t len, uint64_t off,
                             bool sync, void (*done)(void *arg, int res), void *arg)
{
    iour_state_t *st = iour__st(s);
    iour_write_t *w = rt_calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->iw_len = len;
    w->iw_pending = sync ? 2 : 1;
    w->iw_done = done;
    w->iw_arg = arg;
    w->iw_write.req_cb = iour__write_done;
    w->iw_sync.req_cb = iour__sync_done;
    /* The linked pair must sit in one submission: make room for both first. */
    if (io_uring_sq_space_left(&st->iu_ring) < 2)
        io_uring_submit(&st->iu_ring);
    struct io_uring_sqe *sqe = iour__sqe(st);
    io_uring_prep_write(sqe, fd, buf, (unsigned)len, off);
    io_uring_sqe_set_data(sqe, &w->iw_write);
    if (sync) {
        sqe->flags |= IOSQE_IO_LINK;
        sqe = iour__sqe(st);
        io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_data(sqe, &w->iw_sync);
    }
    return 0;
}

static void iour__cancel_accepts(rt_shard_t *s)
{
    iour_state_t *st = iour__st(s);
    for (io_req_t *r = s->sh_accepts; r; r = r->req_next) {
        r->req_cancelled = true;
        struct io_uring_sqe *sqe = iour__sqe(st);
        io_uring_prep_cancel(sqe, r, 0);
        io_uring_sqe_set_data(sqe, NULL);   /* the cancel's own result is not needed */
    }
}

static bool iour__unsubmitted(rt_shard_t *s)
{
    return io_uring_sq_ready(&iour__st(s)->iu_ring) > 0;
}

static int iour__reap(iour_state_t *st)
{
    int total = 0;
    struct io_uring_cqe *cqes[LIMIT_IO_CQE_BATCH];
    for (;;) {
        unsigned k = io_uring_peek_batch_cqe(&st->iu_ring, cqes, LIMIT_IO_CQE_BATCH);
        if (k == 0)
            break;
        for (unsigned i = 0; i < k; i++) {
            void *data = io_uring_cqe_get_data(cqes[i]);
            int res = cqes[i]->res;
            /* Advance first: a callback may queue new SQEs, never reap. */
            io_uring_cqe_seen(&st->iu_ring, cqes[i]);
            if (!data || cqes[i]->user_data == LIBURING_UDATA_TIMEOUT)
                continue;
            io_req_t *req = data;
            if (req->req_cb)
                req->req_cb(req, res);
            else
                rt__complete_req(req, res);
            total++;
        }
    }
    return total;
}

static int iour__wait(rt_shard_t *s, int64_t timeout_us)
{
    iour_state_t *st = iour__st(s);
    int rc;
    if (timeout_us == 0) {
        rc = io_uring_submit_and_get_events(&st->iu_ring);
    } else if (timeout_us < 0) {
        rc = io_uring_submit_and_wait(&st->iu_ring, 1);
    } else {
        struct __kernel_timespec ts = {.tv_sec = timeout_us / 1000000,
                                       .tv_nsec = (timeout_us % 1000000) * 1000};
        struct io_uring_cqe *cqe = NULL;
        rc = io_uring_submit_and_wait_timeout(&st->iu_ring, &cqe, 1, &ts, NULL);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
        log_warn("io_uring wait failed: %s", strerror(-rc));
    return iour__reap(st);
}

const io_ops_t io_ops_uring = {
    .name = "io_uring",
    .init = iour__init,
    .fini = iour__fini,
    .accept = iour__accept,
    .recv = iour__recv,
    .send = iour__send,
    .close = iour__close,
    .pread = iour__pread,
    .pwrite = iour__pwrite,
    .fdatasync = iour__fdatasync,
    .write_async = iour__write_async,
    .cancel_accepts = iour__cancel_accepts,
    .unsubmitted = iour__unsubmitted,
    .wait = iour__wait,
};
