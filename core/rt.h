/*
 * rt.h -- the thread-per-core runtime: shard threads, fibers, message rings, I/O.
 *
 * Why: NextDB runs one pinned thread per CPU core ("shard"); everything a shard owns
 * is touched only by that thread. Code on a shard is written as straight-line fibers
 * (cooperative, stackful) that suspend while waiting for the network, the disk or
 * another shard, so the core never blocks and no data-path mutex exists.
 *
 * Model:
 *   - rt_start() starts N shard threads, each pinned (sched_setaffinity) to one CPU of
 *     the process affinity mask, each with its own io_uring ring (epoll fallback), its
 *     own mimalloc heap, a timer list and a run queue of fibers.
 *   - Shards talk only through bounded lock-free SPSC rings, one per ordered pair
 *     (core/ring.h). A message is a pointer to a request plus a reply path. The sender
 *     batches pushes within one loop turn; the receiver drains all its inbound rings
 *     each turn. A core about to sleep sets its `sleeping` flag; a sender that sees it
 *     writes the target's doorbell eventfd (registered in the target's io_uring).
 *     Cores spin for a short window (LIMIT_SPIN_BEFORE_SLEEP_US) before sleeping.
 *   - Every message carries the sender's HLC timestamp; the receiver merges it
 *     (core/hlc.h), so causality holds across cores.
 *   - A full ring is backpressure: the sending fiber waits and retries; the core loop
 *     never blocks on it.
 *
 * Loop turn: drain inbound rings -> run runnable fibers -> call cfg.turn_end hook
 * (group commit) -> flush outbound ring batches / doorbells -> submit & reap I/O
 * (sleep in the kernel only when there is nothing runnable and the spin window passed).
 *
 * Thread rules: every function here except rt_start/rt_stop/rt_join must be called on
 * a shard thread, and those marked (fiber) only from inside a fiber, because they may
 * suspend it.
 */
#ifndef NEXTDB_RT_H
#define NEXTDB_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rt rt_t;
typedef struct rt_fiber rt_fiber_t;

enum rt_io_backend { RT_IO_AUTO = 0, RT_IO_URING = 1, RT_IO_EPOLL = 2 };

typedef struct rt_config {
    int shards_count;            /* 0 = one per CPU in the affinity mask */
    int io_backend;              /* enum rt_io_backend */
    uint32_t spin_us;            /* idle spin before sleeping; 0 = default */
    /* Hooks, each called on the shard's own thread. shard_init runs inside a fiber
     * before any other fiber of that shard; rt_start returns only after every shard's
     * shard_init returned. A non-zero return from shard_init makes rt_start fail. */
    int (*shard_init)(int shard_id, void *arg);
    void (*shard_fini)(int shard_id, void *arg);   /* in a fiber, at stop */
    void (*turn_end)(int shard_id, void *arg);     /* end of every loop turn; must not suspend */
    void *arg;
} rt_config_t;

/* Starts the shard threads. Returns 0, or -errno with a logged reason. */
int rt_start(const rt_config_t *cfg, rt_t **out);
/* Asks every shard to stop (async-signal-safe: writes eventfds only). */
void rt_request_stop(rt_t *rt);
/* Waits for all shard threads to finish (after shard_fini ran on each) and frees rt. */
void rt_join(rt_t *rt);
/* True once a stop was requested; long-running fibers (accept loops) check it. */
bool rt_stopping(void);

int rt_shard_id(void);           /* current shard, -1 off shard threads */
int rt_shards_count(void);
int rt_backend(void);            /* RT_IO_URING or RT_IO_EPOLL actually in use */

/* ---- fibers (same shard) ---- */
typedef void (*rt_fiber_fn)(void *arg);
/* Creates a fiber on the current shard that runs fn(arg) soon. 0 or -ENOMEM/-EAGAIN. */
int rt_spawn(rt_fiber_fn fn, void *arg);
rt_fiber_t *rt_self(void);                /* NULL outside a fiber */
void rt_yield(void);                      /* (fiber) let other fibers run */
void rt_suspend(void);                    /* (fiber) park until rt_resume(self) */
void rt_resume(rt_fiber_t *f);            /* make runnable; same shard only */
void rt_sleep_ms(uint64_t ms);            /* (fiber) */

/* Wait queue: an intrusive FIFO of parked fibers. Zero-initialise to use. */
typedef struct rt_waitq { rt_fiber_t *head, *tail; } rt_waitq_t;
void rt_waitq_wait(rt_waitq_t *q);                         /* (fiber) */
int rt_waitq_wait_timeout(rt_waitq_t *q, uint64_t ms);     /* (fiber) 0 woken, -ETIMEDOUT */
void rt_waitq_wake_one(rt_waitq_t *q);
void rt_waitq_wake_all(rt_waitq_t *q);

/* ---- cross-shard messages ---- */
typedef int (*rt_call_fn)(void *arg);
/* (fiber) Runs fn(arg) in a new fiber on `shard` (inline call when shard is the
 * current one) and suspends the caller until it returns; returns fn's result.
 * arg is owned by the caller and must stay valid until the call returns. */
int rt_call(int shard, rt_call_fn fn, void *arg);
/* (fiber) The same on n shards concurrently; rets[i] gets each result.
 * Returns 0 after all completed. */
int rt_call_many(int n, const int *shards, rt_call_fn fn, void *const *args, int *rets);
/* Fire-and-forget: runs fn(arg) in a fiber on `shard`. 0 or -EAGAIN if the ring is
 * full (callable outside fibers, e.g. from hooks). */
int rt_post(int shard, void (*fn)(void *arg), void *arg);

/* ---- sockets (fiber; each suspends only the calling fiber) ---- */
/* Creates a listening TCP socket with SO_REUSEPORT (each shard calls it, so the
 * kernel spreads connections). Returns fd or -errno. */
int rt_listen_tcp(const char *addr, int port);
/* 0 when nothing is bound to addr:port (checked by a bind without SO_REUSEPORT, so a
 * second server cannot silently share the port with SO_REUSEPORT), else -errno. */
int rt_port_free(const char *addr, int port);
int rt_accept(int listen_fd);                                   /* fd or -errno */
ssize_t rt_recv(int fd, void *buf, size_t len);                 /* >0, 0 = EOF, -errno */
ssize_t rt_send_all(int fd, const void *buf, size_t len);       /* len or -errno */
int rt_close(int fd);

/* ---- files ---- */
/* (fiber) Blocking-style file I/O through the ring. */
ssize_t rt_pwrite(int fd, const void *buf, size_t len, uint64_t off);
ssize_t rt_pread(int fd, void *buf, size_t len, uint64_t off);
int rt_fdatasync(int fd);
/* Asynchronous write of len bytes at off, followed (when sync) by fdatasync linked
 * after it; done(arg, res) runs on this shard's thread with res = 0 when every byte
 * was written (and synced), else -errno. Callable outside fibers (turn_end hook). */
int rt_write_async(int fd, const void *buf, size_t len, uint64_t off, bool sync,
                   void (*done)(void *arg, int res), void *arg);

/* ---- per-shard memory ---- */
/* Allocation from the current shard's mimalloc heap (plain malloc in sanitizer
 * builds). Memory may be freed from any shard with rt_free. */
void *rt_malloc(size_t n);
void *rt_calloc(size_t n, size_t size);
void *rt_realloc(void *p, size_t n);
void rt_free(void *p);

uint64_t rt_now_us(void);        /* CLOCK_MONOTONIC in microseconds */

#endif
