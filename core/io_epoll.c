/*
 * io_epoll.c -- the epoll fallback backend of core/io.h, for hosts where io_uring
 * is unavailable (seccomp-filtered containers, old kernels).
 *
 * Sockets: every socket is non-blocking; an operation tries the syscall and, on
 * EAGAIN, parks the fiber on the descriptor until epoll reports readiness, then
 * retries. Each shard keeps a table indexed by fd with at most one waiting reader and
 * one waiting writer; the fd is registered (level-triggered) only while someone waits
 * and deregistered when the last waiter is woken, so an idle connection costs no
 * epoll events.
 *
 * Files: done synchronously with pread/pwrite/fdatasync on the shard thread, which
 * blocks the whole shard for the duration (epoll cannot wait for regular files).
 * That is the documented price of the fallback. rt_write_async's callback is still
 * delivered later, from the loop, never from inside the call.
 *
 * Timers: rt passes the earliest deadline as the epoll_wait timeout (ms, rounded up).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/io.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/rt_int.h"

#define IOEP_BELL_TAG UINT64_MAX    /* epoll data of the doorbell eventfd */
#define IOEP_EVENTS_MAX 256

typedef struct ioep_fd {
    io_req_t *ef_reader;
    io_req_t *ef_writer;
    uint32_t ef_registered;     /* events currently registered, 0 = not in the set */
} ioep_fd_t;

typedef struct ioep_state {
    int ep_fd;
    ioep_fd_t *ep_fds;
    int ep_fds_cap;
} ioep_state_t;

static ioep_state_t *ioep__st(rt_shard_t *s) { return s->sh_io_state; }

static int ioep__init(rt_shard_t *s)
{
    ioep_state_t *st = rt_calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    st->ep_fd = epoll_create1(EPOLL_CLOEXEC);
    if (st->ep_fd < 0) {
        int e = -errno;
        rt_free(st);
        return e;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = IOEP_BELL_TAG};
    if (epoll_ctl(st->ep_fd, EPOLL_CTL_ADD, s->sh_doorbell_fd, &ev) != 0) {
        int e = -errno;
        close(st->ep_fd);
        rt_free(st);
        return e;
    }
    s->sh_io_state = st;
    return 0;
}

static void ioep__fini(rt_shard_t *s)
{
    ioep_state_t *st = ioep__st(s);
    if (!st)
        return;
    close(st->ep_fd);
    rt_free(st->ep_fds);
    rt_free(st);
    s->sh_io_state = NULL;
}

/* The table entry for fd, growing the table (doubling) as needed; NULL on ENOMEM. */
static ioep_fd_t *ioep__slot(ioep_state_t *st, int fd)
{
    ASSERT(fd >= 0);
    if (fd >= st->ep_fds_cap) {
        int cap = st->ep_fds_cap ? st->ep_fds_cap : 64;
        while (cap <= fd)
            cap *= 2;
        ioep_fd_t *t = rt_realloc(st->ep_fds, (size_t)cap * sizeof *t);
        if (!t)
            return NULL;
        memset(t + st->ep_fds_cap, 0, (size_t)(cap - st->ep_fds_cap) * sizeof *t);
        st->ep_fds = t;
        st->ep_fds_cap = cap;
    }
    return &st->ep_fds[fd];
}

/* Makes the epoll registration of fd match its waiters. */
static void ioep__sync(ioep_state_t *st, int fd, ioep_fd_t *e)
{
    uint32_t want = (e->ef_reader ? EPOLLIN | EPOLLRDHUP : 0) | (e->ef_writer ? EPOLLOUT : 0);
    if (want == e->ef_registered)
        return;
    struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)fd};
    int rc;
    if (want == 0)
        rc = epoll_ctl(st->ep_fd, EPOLL_CTL_DEL, fd, &ev);
    else if (e->ef_registered == 0)
        rc = epoll_ctl(st->ep_fd, EPOLL_CTL_ADD, fd, &ev);
    else
        rc = epoll_ctl(st->ep_fd, EPOLL_CTL_MOD, fd, &ev);
    if (rc != 0 && want != 0 && errno == EEXIST)
        rc = epoll_ctl(st->ep_fd, EPOLL_CTL_MOD, fd, &ev);
    if (rc != 0 && want == 0 && (errno == ENOENT || errno == EBADF))
        rc = 0;
    e->ef_registered = rc == 0 ? want : 0;
}

/* Parks the calling fiber until fd is readable (write = false) or writable. Returns
 * 0 when ready, -ECANCELED when cancelled (accept at stop), or -errno. */
static int ioep__wait_fd(rt_shard_t *s, int fd, bool write, io_req_t *req)
{
    ioep_state_t *st = ioep__st(s);
    ioep_fd_t *e = ioep__slot(st, fd);
    if (!e)
        return -ENOMEM;
    io_req_t **slot = write ? &e->ef_writer : &e->ef_reader;
    if (*slot)
        return -EBUSY;      /* two fibers reading (or writing) one socket: a bug */
    *slot = req;
    ioep__sync(st, fd, e);
    if (e->ef_registered == 0) {
        int err = -errno;
        *slot = NULL;
        return err ? err : -EIO;
    }
    rt__wait_req(req);
    return req->req_res;
}

static void ioep__set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int ioep__accept(rt_shard_t *s, int fd)
{
    ioep__set_nonblock(fd);     /* rt_listen_tcp makes blocking sockets for io_uring */
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0)
            return c;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN)
            return -errno;
        if (rt_stopping())
            return -ECANCELED;
        io_req_t req = {.req_fd = fd};
        rt__accept_begin(&req);
        int r = ioep__wait_fd(s, fd, false, &req);
        rt__accept_end(&req);
        if (r < 0)
            return r;
    }
}

static ssize_t ioep__recv(rt_shard_t *s, int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t r = recv(fd, buf, len, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        io_req_t req = {.req_fd = fd};
        int w = ioep__wait_fd(s, fd, false, &req);
        if (w < 0)
            return w;
    }
}

static ssize_t ioep__send(rt_shard_t *s, int fd, const void *buf, size_t len)
{
    for (;;) {
        ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -errno;
        io_req_t req = {.req_fd = fd};
        int w = ioep__wait_fd(s, fd, true, &req);
        if (w < 0)
            return w;
    }
}

static int ioep__close(rt_shard_t *s, int fd)
{
    ioep_state_t *st = ioep__st(s);
    if (fd >= 0 && fd < st->ep_fds_cap) {
        ioep_fd_t *e = &st->ep_fds[fd];
        io_req_t *r = e->ef_reader, *w = e->ef_writer;
        e->ef_reader = e->ef_writer = NULL;
        ioep__sync(st, fd, e);
        if (r)
            rt__complete_req(r, -EBADF);
        if (w)
            rt__complete_req(w, -EBADF);
    }
    return close(fd) == 0 ? 0 : -errno;
}

static ssize_t ioep__pread(rt_shard_t *s, int fd, void *buf, size_t len, uint64_t off)
{
    ssize_t r;
    do
        r = pread(fd, buf, len, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static ssize_t ioep__pwrite(rt_shard_t *s, int fd, const void *buf, size_t len, uint64_t off)
{
    ssize_t r;
    do
        r = pwrite(fd, buf, len, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static int ioep__fdatasync(rt_shard_t *s, int fd) { return fdatasync(fd) == 0 ? 0 : -errno; }

static int ioep__write_async(rt_shard_t *s, int fd, const void *buf, size_t len, uint64_t off,
                             bool sync, void (*done)(void *arg, int res), void *arg)
{
    size_t written = 0;
    int res = 0;
    while (written < len) {
        ssize_t r = ioep__pwrite(s, fd, (const char *)buf + written, len - written,
                                 off + written);
        if (r < 0) {
            res = (int)r;
            break;
        }
        if (r == 0) {
            res = -EIO;
            break;
        }
        written += (size_t)r;
    }
    if (res == 0 && sync)
        res = ioep__fdatasync(s, fd);
    return rt__defer(done, arg, res);
}

static void ioep__cancel_accepts(rt_shard_t *s)
{
    ioep_state_t *st = ioep__st(s);
    for (io_req_t *r = s->sh_accepts; r; r = r->req_next) {
        r->req_cancelled = true;
        if (r->req_fd >= 0 && r->req_fd < st->ep_fds_cap) {
            ioep_fd_t *e = &st->ep_fds[r->req_fd];
            if (e->ef_reader == r) {
                e->ef_reader = NULL;
                ioep__sync(st, r->req_fd, e);
            }
        }
        if (!r->req_done)
            rt__complete_req(r, -ECANCELED);
    }
}

/* Every epoll operation is issued at once; nothing waits for submission. */
static bool ioep__unsubmitted(rt_shard_t *s) { return false; }

static int ioep__wait(rt_shard_t *s, int64_t timeout_us)
{
    ioep_state_t *st = ioep__st(s);
    int timeout_ms = timeout_us < 0 ? -1
                     : timeout_us > (int64_t)INT32_MAX * 1000 ? INT32_MAX
                                                              : (int)((timeout_us + 999) / 1000);
    struct epoll_event evs[IOEP_EVENTS_MAX];
    int n = epoll_wait(st->ep_fd, evs, IOEP_EVENTS_MAX, timeout_ms);
    if (n < 0) {
        if (errno != EINTR)
            log_warn("epoll_wait failed: %s", strerror(errno));
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == IOEP_BELL_TAG) {
            uint64_t v;
            ssize_t r = read(s->sh_doorbell_fd, &v, sizeof v);
            (void)r;
            continue;
        }
        int fd = (int)evs[i].data.u64;
        if (fd >= st->ep_fds_cap)
            continue;
        ioep_fd_t *e = &st->ep_fds[fd];
        uint32_t ev = evs[i].events;
        io_req_t *r = NULL, *w = NULL;
        if (e->ef_reader && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
            r = e->ef_reader;
            e->ef_reader = NULL;
        }
        if (e->ef_writer && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
            w = e->ef_writer;
            e->ef_writer = NULL;
        }
        ioep__sync(st, fd, e);
        /* Readiness only: the fiber retries the syscall and sees the real result. */
        if (r)
            rt__complete_req(r, 0);
        if (w)
            rt__complete_req(w, 0);
    }
    return n;
}

const io_ops_t io_ops_epoll = {
    .name = "epoll",
    .init = ioep__init,
    .fini = ioep__fini,
    .accept = ioep__accept,
    .recv = ioep__recv,
    .send = ioep__send,
    .close = ioep__close,
    .pread = ioep__pread,
    .pwrite = ioep__pwrite,
    .fdatasync = ioep__fdatasync,
    .write_async = ioep__write_async,
    .cancel_accepts = ioep__cancel_accepts,
    .unsubmitted = ioep__unsubmitted,
    .wait = ioep__wait,
};
