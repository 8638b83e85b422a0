/*
 * io.h -- the internal interface between rt and its two I/O backends.
 *
 * Why: DESIGN.md section 1 wants io_uring everywhere and an epoll fallback where
 * io_uring is blocked (containers, old kernels). rt.c is written against this table
 * of functions; core/io_uring.c and core/io_epoll.c fill it.
 *
 * Model: every operation is called from a fiber on the shard that owns the backend
 * state and returns like the syscall (result or -errno), suspending only that fiber.
 * A pending operation is an io_req_t on the waiting fiber's stack; the backend
 * completes it from io_wait (loop context) through rt__complete_req. Timers are not
 * the backend's business: rt keeps a heap and passes the earliest deadline to
 * io_wait as its timeout.
 *
 * Interface (io_ops_t members):
 *   init / fini        per-shard state, created and destroyed on the shard thread
 *   accept recv send   one syscall-equivalent each (send may be partial)
 *   close pread pwrite fdatasync
 *   write_async        write (+ linked fdatasync), completion callback later
 *   cancel_accepts     complete every pending accept with -ECANCELED (at stop)
 *   unsubmitted        is anything queued that only wait would submit?
 *   wait               submit queued work and reap completions; timeout_us 0 = poll,
 *                      < 0 = until something completes or the doorbell rings
 *
 * Thread: shard thread only.
 */
#ifndef NEXTDB_IO_H
#define NEXTDB_IO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rt_fiber rt_fiber_t;
typedef struct rt_shard rt_shard_t;

typedef struct io_req {
    rt_fiber_t *req_fiber;         /* resumed on completion (when req_cb is NULL) */
    void (*req_cb)(struct io_req *req, int res);   /* loop-context completion */
    int req_res;
    bool req_done;
    bool req_cancelled;
    int req_fd;
    struct io_req *req_prev, *req_next;   /* rt's list of pending accepts */
} io_req_t;

typedef struct io_ops {
    const char *name;
    int (*init)(rt_shard_t *s);
    void (*fini)(rt_shard_t *s);
    int (*accept)(rt_shard_t *s, int fd);
    ssize_t (*recv)(rt_shard_t *s, int fd, void *buf, size_t len);
    ssize_t (*send)(rt_shard_t *s, int fd, const void *buf, size_t len);
    int (*close)(rt_shard_t *s, int fd);
    ssize_t (*pread)(rt_shard_t *s, int fd, void *buf, size_t len, uint64_t off);
    ssize_t (*pwrite)(rt_shard_t *s, int fd, const void *buf, size_t len, uint64_t off);
    int (*fdatasync)(rt_shard_t *s, int fd);
    int (*write_async)(rt_shard_t *s, int fd, const void *buf, size_t len, uint64_t off,
                       bool sync, void (*done)(void *arg, int res), void *arg);
    void (*cancel_accepts)(rt_shard_t *s);
    /* True when operations are queued but not yet handed to the kernel. */
    bool (*unsubmitted)(rt_shard_t *s);
    /* Returns the number of completions processed (doorbell included). */
    int (*wait)(rt_shard_t *s, int64_t timeout_us);
} io_ops_t;

extern const io_ops_t io_ops_uring;   /* core/io_uring.c */
extern const io_ops_t io_ops_epoll;   /* core/io_epoll.c */
#endif
