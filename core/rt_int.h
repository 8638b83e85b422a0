/*
 * rt_int.h -- structures shared by the runtime's files (rt.c, io_uring.c,
 * io_epoll.c). Not for use outside core/.
 *
 * Thread: everything in an rt_shard_t except sh_sleeping and sh_doorbell_fd is
 * touched only by that shard's own thread.
 */
#ifndef NEXTDB_RT_INT_H
#define NEXTDB_RT_INT_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/fiber.h"
#include "core/io.h"
#include "core/ring.h"
#include "core/rt.h"

enum rt_fiber_state {
    RT_FIBER_FREE = 0,      /* on the free list */
    RT_FIBER_RUNNABLE = 1,  /* on the run queue */
    RT_FIBER_RUNNING = 2,
    RT_FIBER_SUSPENDED = 3,
    RT_FIBER_DEAD = 4,      /* returned; the loop recycles it */
};

struct rt_fiber {
    fiber_ctx_t f_ctx;
    struct rt_shard *f_shard;      /* owner; fibers never migrate */
    rt_fiber_fn f_fn;
    void *f_arg;
    int f_state;                   /* enum rt_fiber_state */
    bool f_wake_pending;           /* rt_resume while RUNNING: next rt_suspend returns */
    rt_fiber_t *f_run_next;        /* run queue / free list link */
    rt_fiber_t *f_all_prev, *f_all_next;   /* every fiber of the shard (for teardown) */
    /* Wait queue membership (rt_waitq_t is head/tail; links live here). */
    rt_waitq_t *f_waitq;
    rt_fiber_t *f_wq_prev, *f_wq_next;
    /* One timer per fiber: a fiber waits for at most one thing at a time. */
    uint64_t f_deadline_us;
    int f_timer_index;             /* index in the shard's heap, -1 when not armed */
    bool f_timer_fired;
};

typedef struct rt_shard rt_shard_t;
typedef struct rt_deferred {
    struct rt_deferred *d_next;
    void (*d_fn)(void *arg, int res);
    void *d_arg;
    int d_res;
} rt_deferred_t;

struct rt_shard {
    rt_t *sh_rt;
    int sh_id;
    int sh_cpu;
    pthread_t sh_thread;
    bool sh_thread_started;
    /* Shared with other threads. */
    _Alignas(64) _Atomic int sh_sleeping;      /* 1 while (about to be) asleep in the kernel */
    int sh_doorbell_fd;                        /* eventfd; any thread may write it */
    /* Owned by the shard thread from here on. */
    _Alignas(64) fiber_ctx_t sh_loop_ctx;
    rt_fiber_t *sh_current;
    rt_fiber_t *sh_runq_head, *sh_runq_tail;
    rt_fiber_t *sh_free;
    int sh_free_count;
    rt_fiber_t *sh_all;
    int sh_fibers_live;
    rt_fiber_t **sh_timers;                    /* binary min-heap on f_deadline_us */
    int sh_timers_count;
    int sh_timers_cap;
    rt_deferred_t *sh_deferred_head, *sh_deferred_tail;
    struct rt_msg *sh_backlog_head, *sh_backlog_tail;  /* drained but not yet spawned */
    int *sh_dirty;                             /* outbound ring targets with pushes */
    bool *sh_dirty_flag;
    int sh_dirty_count;
    const io_ops_t *sh_io;
    void *sh_io_state;
    int sh_backend;
    io_req_t *sh_accepts;                      /* fibers blocked in rt_accept */
    bool sh_init_done, sh_init_failed, sh_stop_seen, sh_fini_started, sh_fini_done;
    uint64_t sh_busy_us;                       /* last time a turn did work */
    uint64_t sh_poll_us;                       /* last time the backend was polled */
    uint64_t sh_load_check_us;                 /* last run-queue sample (rt__spin_allowed) */
    uint64_t sh_nospin_until_us;               /* spinning is off until then */
    uint64_t sh_turns, sh_msgs, sh_ring_full;  /* mirrored into metrics */
};

struct rt {
    int rt_n;
    rt_config_t rt_cfg;
    uint32_t rt_spin_us;
    int rt_loadavg_fd;                         /* /proc/loadavg, -1 when unreadable */
    int rt_cpus_online;
    rt_shard_t *rt_shards;
    ring_t **rt_rings;                         /* rt_rings[from * n + to] */
    _Atomic int rt_stop;
    _Atomic int rt_fini_count;
    /* Start-up handshake only (never on the data path). */
    pthread_mutex_t rt_lock;
    pthread_cond_t rt_cond;
    int rt_started_count;                      /* shards whose init finished */
    int rt_failed_count;
    int rt_fail_rc;                            /* first failure's -errno */
    int rt_backend_used;                       /* for rt_backend() off shard threads */
};

/* Shared with the backends. */
rt_shard_t *rt__shard(void);                   /* current shard; NULL off shard threads */
/* Suspends the calling fiber until req->req_done (set by the backend's completion). */
void rt__wait_req(io_req_t *req);
/* Completes req from loop context: stores res, sets done, resumes its fiber. */
void rt__complete_req(io_req_t *req, int res);
/* Queues done(arg, res) to run on this shard in the next loop turn. 0 or -ENOMEM. */
int rt__defer(void (*done)(void *arg, int res), void *arg, int res);
void rt__accept_begin(io_req_t *req);
void rt__accept_end(io_req_t *req);
#endif
