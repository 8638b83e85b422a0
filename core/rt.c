/*
 * rt.c -- shard threads, the loop, fibers, timers, wait queues, cross-shard
 * messages and the socket/file entry points; see rt.h for the contract and
 * core/README.md for the design.
 */
#include "core/rt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/rt_int.h"

STATIC_ASSERT(LIMIT_SHARDS_MAX >= 1, "at least one shard");
STATIC_ASSERT(LIMIT_FIBERS_PER_SHARD >= 16, "room for a handful of fibers");

/* A cross-shard message. CALL messages live on the calling fiber's stack (it is
 * suspended until the REPLY comes back in the same object); POST messages come from
 * rt_malloc and are freed by the receiver. */
enum rt_msg_kind { RT_MSG_CALL = 1, RT_MSG_REPLY = 2, RT_MSG_POST = 3 };
typedef struct rt_msg {
    int m_kind;                 /* enum rt_msg_kind */
    int m_from;
    uint64_t m_hlc;             /* sender's clock at send time */
    rt_call_fn m_call;
    void (*m_post)(void *arg);
    void *m_arg;
    int m_result;
    bool m_done;                /* REPLY processed (caller side) */
    rt_fiber_t *m_waiter;
    int *m_pending;             /* rt_call_many: replies still outstanding */
    struct rt_msg *m_next;      /* receiver's backlog link */
} rt_msg_t;

static __thread rt_shard_t *rt__tls;
static rt_t *rt__global;        /* the running runtime, for off-shard queries */

static int rt__m_turns = -1, rt__m_msgs = -1, rt__m_fibers = -1, rt__m_ring_full = -1;

rt_shard_t *rt__shard(void) { return rt__tls; }

uint64_t rt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int rt_shard_id(void) { return rt__tls ? rt__tls->sh_id : -1; }

int rt_shards_count(void)
{
    if (rt__tls)
        return rt__tls->sh_rt->rt_n;
    rt_t *rt = __atomic_load_n(&rt__global, __ATOMIC_ACQUIRE);
    return rt ? rt->rt_n : 0;
}

int rt_backend(void)
{
    if (rt__tls)
        return rt__tls->sh_backend;
    /* Off shard threads (main): the backend the shards came up with. */
    rt_t *rt = __atomic_load_n(&rt__global, __ATOMIC_ACQUIRE);
    return rt ? __atomic_load_n(&rt->rt_backend_used, __ATOMIC_ACQUIRE) : RT_IO_AUTO;
}

bool rt_stopping(void)
{
    rt_t *rt = rt__tls ? rt__tls->sh_rt : __atomic_load_n(&rt__global, __ATOMIC_ACQUIRE);
    return rt && atomic_load_explicit(&rt->rt_stop, memory_order_acquire);
}

/* ------------------------------------------------------------------ fibers */

static void rt__runq_push(rt_shard_t *s, rt_fiber_t *f)
{
    f->f_run_next = NULL;
    if (s->sh_runq_tail)
        s->sh_runq_tail->f_run_next = f;
    else
        s->sh_runq_head = f;
    s->sh_runq_tail = f;
}

static rt_fiber_t *rt__runq_pop(rt_shard_t *s)
{
    rt_fiber_t *f = s->sh_runq_head;
    if (f) {
        s->sh_runq_head = f->f_run_next;
        if (!s->sh_runq_head)
            s->sh_runq_tail = NULL;
        f->f_run_next = NULL;
    }
    return f;
}

/* First code on every fresh fiber stack: run the function, then hand the stack back
 * to the loop, which recycles it (a stack cannot free itself while in use). */
static void rt__fiber_entry(void)
{
    fiber_entered();
    rt_shard_t *s = rt__tls;
    rt_fiber_t *f = s->sh_current;
    ASSERT(f && f->f_state == RT_FIBER_RUNNING);
    f->f_fn(f->f_arg);
    f->f_state = RT_FIBER_DEAD;
    fiber_switch(&f->f_ctx, &s->sh_loop_ctx, true);
    ASSERT(!"a dead fiber was resumed");
}

static void rt__fiber_unlink_all(rt_shard_t *s, rt_fiber_t *f)
{
    if (f->f_all_prev)
        f->f_all_prev->f_all_next = f->f_all_next;
    else
        s->sh_all = f->f_all_next;
    if (f->f_all_next)
        f->f_all_next->f_all_prev = f->f_all_prev;
    f->f_all_prev = f->f_all_next = NULL;
}

static void rt__fiber_destroy(rt_fiber_t *f)
{
    fiber_stack_free(&f->f_ctx);
    rt_free(f);
}

/* Called by the loop after a fiber's function returned. */
static void rt__fiber_recycle(rt_shard_t *s, rt_fiber_t *f)
{
    ASSERT(f->f_state == RT_FIBER_DEAD && f->f_timer_index < 0 && f->f_waitq == NULL);
    rt__fiber_unlink_all(s, f);
    s->sh_fibers_live--;
    if (s->sh_free_count >= LIMIT_FIBER_FREE_STACKS) {
        rt__fiber_destroy(f);
        return;
    }
    f->f_state = RT_FIBER_FREE;
    f->f_run_next = s->sh_free;
    s->sh_free = f;
    s->sh_free_count++;
}

int rt_spawn(rt_fiber_fn fn, void *arg)
{
    rt_shard_t *s = rt__tls;
    ASSERT(s != NULL && fn != NULL);
    if (s->sh_fibers_live >= LIMIT_FIBERS_PER_SHARD)
        return -EAGAIN;
    rt_fiber_t *f = s->sh_free;
    if (f) {
        s->sh_free = f->f_run_next;
        s->sh_free_count--;
    } else {
        f = rt_calloc(1, sizeof *f);
        if (!f)
            return -ENOMEM;
        if (fiber_stack_alloc(&f->f_ctx) != 0) {
            rt_free(f);
            return -ENOMEM;
        }
    }
    fiber_ctx_make(&f->f_ctx, rt__fiber_entry);
    f->f_shard = s;
    f->f_fn = fn;
    f->f_arg = arg;
    f->f_wake_pending = false;
    f->f_waitq = NULL;
    f->f_wq_prev = f->f_wq_next = NULL;
    f->f_timer_index = -1;
    f->f_timer_fired = false;
    f->f_all_prev = NULL;
    f->f_all_next = s->sh_all;
    if (s->sh_all)
        s->sh_all->f_all_prev = f;
    s->sh_all = f;
    s->sh_fibers_live++;
    f->f_state = RT_FIBER_RUNNABLE;
    rt__runq_push(s, f);
    return 0;
}

rt_fiber_t *rt_self(void) { return rt__tls ? rt__tls->sh_current : NULL; }

/* Switches from the running fiber to the loop; returns when the fiber runs again. */
static void rt__to_loop(rt_shard_t *s, rt_fiber_t *f)
{
    fiber_switch(&f->f_ctx, &s->sh_loop_ctx, false);
    DASSERT(s->sh_current == f && f->f_state == RT_FIBER_RUNNING);
}

void rt_yield(void)
{
    rt_shard_t *s = rt__tls;
    rt_fiber_t *f = s ? s->sh_current : NULL;
    ASSERT(f != NULL);
    f->f_state = RT_FIBER_RUNNABLE;
    rt__runq_push(s, f);
    rt__to_loop(s, f);
}

void rt_suspend(void)
{
    rt_shard_t *s = rt__tls;
    rt_fiber_t *f = s ? s->sh_current : NULL;
    ASSERT(f != NULL);
    if (f->f_wake_pending) {
        /* rt_resume(self) came first (e.g. from a fiber it spawned): not lost. */
        f->f_wake_pending = false;
        return;
    }
    f->f_state = RT_FIBER_SUSPENDED;
    rt__to_loop(s, f);
}

void rt_resume(rt_fiber_t *f)
{
    ASSERT(f != NULL && f->f_shard == rt__tls);
    if (f->f_state == RT_FIBER_SUSPENDED) {
        f->f_state = RT_FIBER_RUNNABLE;
        rt__runq_push(f->f_shard, f);
    } else if (f->f_state == RT_FIBER_RUNNING) {
        f->f_wake_pending = true;
    }
}

/* Runs the fibers that were runnable when the phase began (a fiber that yields goes
 * to the back and runs next turn, so a yield loop cannot starve I/O). Returns the
 * number run. */
static int rt__run_fibers(rt_shard_t *s)
{
    int n = 0;
    rt_fiber_t *last = s->sh_runq_tail;
    while (n < LIMIT_RUN_PER_TURN) {
        rt_fiber_t *f = rt__runq_pop(s);
        if (!f)
            break;
        ASSERT(f->f_state == RT_FIBER_RUNNABLE);
        f->f_state = RT_FIBER_RUNNING;
        s->sh_current = f;
        fiber_switch(&s->sh_loop_ctx, &f->f_ctx, false);
        s->sh_current = NULL;
        if (f->f_state == RT_FIBER_DEAD)
            rt__fiber_recycle(s, f);
        n++;
        if (f == last)
            break;
    }
    return n;
}

/* ------------------------------------------------------------------ timers */

static void rt__heap_set(rt_shard_t *s, int i, rt_fiber_t *f)
{
    s->sh_timers[i] = f;
    f->f_timer_index = i;
}

static void rt__heap_up(rt_shard_t *s, int i)
{
    rt_fiber_t *f = s->sh_timers[i];
    while (i > 0) {
        int p = (i - 1) / 2;
        if (s->sh_timers[p]->f_deadline_us <= f->f_deadline_us)
            break;
        rt__heap_set(s, i, s->sh_timers[p]);
        i = p;
    }
    rt__heap_set(s, i, f);
}

static void rt__heap_down(rt_shard_t *s, int i)
{
    rt_fiber_t *f = s->sh_timers[i];
    int n = s->sh_timers_count;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && s->sh_timers[c + 1]->f_deadline_us < s->sh_timers[c]->f_deadline_us)
            c++;
        if (f->f_deadline_us <= s->sh_timers[c]->f_deadline_us)
            break;
        rt__heap_set(s, i, s->sh_timers[c]);
        i = c;
    }
    rt__heap_set(s, i, f);
}

/* Arms f's timer. The heap holds at most one entry per live fiber, so its capacity
 * is bounded by LIMIT_FIBERS_PER_SHARD and preallocated at shard start. */
static void rt__timer_arm(rt_shard_t *s, rt_fiber_t *f, uint64_t deadline_us)
{
    ASSERT(f->f_timer_index < 0 && s->sh_timers_count < s->sh_timers_cap);
    f->f_deadline_us = deadline_us;
    f->f_timer_fired = false;
    int i = s->sh_timers_count++;
    rt__heap_set(s, i, f);
    rt__heap_up(s, i);
}

static void rt__timer_cancel(rt_shard_t *s, rt_fiber_t *f)
{
    int i = f->f_timer_index;
    if (i < 0)
        return;
    ASSERT(i < s->sh_timers_count && s->sh_timers[i] == f);
    f->f_timer_index = -1;
    int last = --s->sh_timers_count;
    if (i == last)
        return;
    rt__heap_set(s, i, s->sh_timers[last]);
    rt__heap_down(s, i);
    rt__heap_up(s, s->sh_timers[i]->f_timer_index);
}

static int rt__fire_timers(rt_shard_t *s, uint64_t now_us)
{
    int n = 0;
    while (s->sh_timers_count > 0 && s->sh_timers[0]->f_deadline_us <= now_us) {
        rt_fiber_t *f = s->sh_timers[0];
        rt__timer_cancel(s, f);
        f->f_timer_fired = true;
        rt_resume(f);
        n++;
    }
    return n;
}

/* Microseconds until the earliest timer, or -1 when none is armed. */
static int64_t rt__timer_timeout_us(rt_shard_t *s, uint64_t now_us)
{
    if (s->sh_timers_count == 0)
        return -1;
    uint64_t d = s->sh_timers[0]->f_deadline_us;
    return d <= now_us ? 0 : (int64_t)(d - now_us);
}

void rt_sleep_ms(uint64_t ms)
{
    rt_shard_t *s = rt__tls;
    rt_fiber_t *f = s ? s->sh_current : NULL;
    ASSERT(f != NULL);
    rt__timer_arm(s, f, rt_now_us() + ms * 1000u);
    while (!f->f_timer_fired)
        rt_suspend();
}

/* ------------------------------------------------------------------ wait queues */

static void rt__waitq_remove(rt_waitq_t *q, rt_fiber_t *f)
{
    if (f->f_wq_prev)
        f->f_wq_prev->f_wq_next = f->f_wq_next;
    else
        q->head = f->f_wq_next;
    if (f->f_wq_next)
        f->f_wq_next->f_wq_prev = f->f_wq_prev;
    else
        q->tail = f->f_wq_prev;
    f->f_wq_prev = f->f_wq_next = NULL;
    f->f_waitq = NULL;
}

static void rt__waitq_append(rt_waitq_t *q, rt_fiber_t *f)
{
    ASSERT(f->f_waitq == NULL);
    f->f_waitq = q;
    f->f_wq_next = NULL;
    f->f_wq_prev = q->tail;
    if (q->tail)
        q->tail->f_wq_next = f;
    else
        q->head = f;
    q->tail = f;
}

void rt_waitq_wait(rt_waitq_t *q)
{
    rt_fiber_t *f = rt_self();
    ASSERT(f != NULL);
    rt__waitq_append(q, f);
    while (f->f_waitq == q)     /* only a wake removes us: stray resumes are ignored */
        rt_suspend();
}

int rt_waitq_wait_timeout(rt_waitq_t *q, uint64_t ms)
{
    rt_shard_t *s = rt__tls;
    rt_fiber_t *f = s ? s->sh_current : NULL;
    ASSERT(f != NULL);
    rt__waitq_append(q, f);
    rt__timer_arm(s, f, rt_now_us() + ms * 1000u);
    while (f->f_waitq == q && !f->f_timer_fired)
        rt_suspend();
    rt__timer_cancel(s, f);
    if (f->f_waitq == q) {
        rt__waitq_remove(q, f);
        return -ETIMEDOUT;
    }
    return 0;
}

void rt_waitq_wake_one(rt_waitq_t *q)
{
    rt_fiber_t *f = q->head;
    if (!f)
        return;
    rt__waitq_remove(q, f);
    rt_resume(f);
}

void rt_waitq_wake_all(rt_waitq_t *q)
{
    while (q->head)
        rt_waitq_wake_one(q);
}

/* ------------------------------------------------------------------ I/O glue */

void rt__wait_req(io_req_t *req)
{
    rt_fiber_t *f = rt_self();
    ASSERT(f != NULL);
    req->req_fiber = f;
    while (!req->req_done)
        rt_suspend();
}

void rt__complete_req(io_req_t *req, int res)
{
    req->req_res = res;
    req->req_done = true;
    if (req->req_fiber)
        rt_resume(req->req_fiber);
}

int rt__defer(void (*done)(void *arg, int res), void *arg, int res)
{
    rt_shard_t *s = rt__tls;
    rt_deferred_t *d = rt_malloc(sizeof *d);
    if (!d)
        return -ENOMEM;
    d->d_next = NULL;
    d->d_fn = done;
    d->d_arg = arg;
    d->d_res = res;
    if (s->sh_deferred_tail)
        s->sh_deferred_tail->d_next = d;
    else
        s->sh_deferred_head = d;
    s->sh_deferred_tail = d;
    return 0;
}

static int rt__run_deferred(rt_shard_t *s)
{
    rt_deferred_t *d = s->sh_deferred_head;
    s->sh_deferred_head = s->sh_deferred_tail = NULL;
    int n = 0;
    while (d) {
        rt_deferred_t *next = d->d_next;
        d->d_fn(d->d_arg, d->d_res);
        rt_free(d);
        d = next;
        n++;
    }
    return n;
}

void rt__accept_begin(io_req_t *req)
{
    rt_shard_t *s = rt__tls;
    req->req_prev = NULL;
    req->req_next = s->sh_accepts;
    if (s->sh_accepts)
        s->sh_accepts->req_prev = req;
    s->sh_accepts = req;
}

void rt__accept_end(io_req_t *req)
{
    rt_shard_t *s = rt__tls;
    if (req->req_prev)
        req->req_prev->req_next = req->req_next;
    else
        s->sh_accepts = req->req_next;
    if (req->req_next)
        req->req_next->req_prev = req->req_prev;
    req->req_prev = req->req_next = NULL;
}

/* ------------------------------------------------------------------ messages */

static ring_t *rt__ring(rt_t *rt, int from, int to) { return rt->rt_rings[from * rt->rt_n + to]; }

static void rt__doorbell(rt_shard_t *t)
{
    uint64_t one = 1;
    ssize_t w = write(t->sh_doorbell_fd, &one, sizeof one);
    (void)w;    /* only fails if the counter would overflow: the target is awake anyway */
}

/*
 * Publishes every outbound ring this turn pushed to and rings the doorbell of each
 * target that sleeps. Freedom from lost wake-ups, with rt__prepare_sleep on the
 * other side:
 *
 *   producer (here)                        consumer (rt__prepare_sleep)
 *   store tail              (release)      x = exchange(sleeping, 1)  (acq_rel)
 *   y = exchange(sleeping, 0) (acq_rel)    load tail of every inbound ring
 *   if y == 1: write doorbell              sleep only if all rings were empty
 *
 * Both exchanges are read-modify-writes of one location, so they are totally
 * ordered. If the producer's comes second it reads the consumer's 1 and rings the
 * doorbell. If it comes first, the consumer's exchange reads from it (an RMW always
 * reads the latest value), so the producer's release synchronizes with the
 * consumer's acquire: the tail store happens before the consumer's check, which
 * therefore sees the message and does not sleep. The doorbell eventfd is armed
 * (io_uring read) or registered (epoll) whenever the shard may sleep, and its counter
 * is sticky, so a write that lands before the consumer enters the kernel still wakes
 * it. (A seq_cst fence pair would also do, but ThreadSanitizer cannot check fences;
 * the RMW form is verified by the tsan build and costs one locked instruction per
 * target per turn.) Only the producer whose exchange saw 1 pays for the write().
 */
static void rt__flush_outbound(rt_shard_t *s)
{
    rt_t *rt = s->sh_rt;
    if (s->sh_dirty_count == 0)
        return;
    for (int i = 0; i < s->sh_dirty_count; i++) {
        int to = s->sh_dirty[i];
        rt_shard_t *t = &rt->rt_shards[to];
        s->sh_dirty_flag[to] = false;
        ring_publish(rt__ring(rt, s->sh_id, to));
        if (atomic_exchange_explicit(&t->sh_sleeping, 0, memory_order_acq_rel))
            rt__doorbell(t);
    }
    s->sh_dirty_count = 0;
}

/* Pushes m to shard `to`. A full ring yields the calling fiber and retries (after
 * publishing what is queued, so the consumer can make room); outside a fiber, or
 * when may_yield is false, it returns -EAGAIN instead. */
static int rt__send(rt_shard_t *s, int to, rt_msg_t *m, bool may_yield)
{
    ring_t *r = rt__ring(s->sh_rt, s->sh_id, to);
    m->m_hlc = hlc_now();
    while (!ring_push(r, m)) {
        s->sh_ring_full++;
        if (!may_yield || !s->sh_current)
            return -EAGAIN;
        if (!s->sh_dirty_flag[to]) {
            s->sh_dirty_flag[to] = true;
            s->sh_dirty[s->sh_dirty_count++] = to;
        }
        rt__flush_outbound(s);
        rt_yield();
    }
    if (!s->sh_dirty_flag[to]) {
        s->sh_dirty_flag[to] = true;
        s->sh_dirty[s->sh_dirty_count++] = to;
    }
    s->sh_msgs++;
    return 0;
}

static void rt__call_fiber(void *arg)
{
    rt_msg_t *m = arg;
    int res = m->m_call(m->m_arg);
    m->m_result = res;
    m->m_kind = RT_MSG_REPLY;
    /* After this push the caller may return and reuse m: do not touch it again. */
    int rc = rt__send(rt__tls, m->m_from, m, true);
    ASSERT(rc == 0);
}

static void rt__post_fiber(void *arg)
{
    rt_msg_t *m = arg;
    void (*fn)(void *) = m->m_post;
    void *fn_arg = m->m_arg;
    rt_free(m);
    fn(fn_arg);
}

/* Starts a fiber for a CALL or POST; false when no fiber could be made now. */
static bool rt__start_msg(rt_shard_t *s, rt_msg_t *m)
{
    return rt_spawn(m->m_kind == RT_MSG_CALL ? rt__call_fiber : rt__post_fiber, m) == 0;
}

static void rt__backlog_push(rt_shard_t *s, rt_msg_t *m)
{
    m->m_next = NULL;
    if (s->sh_backlog_tail)
        s->sh_backlog_tail->m_next = m;
    else
        s->sh_backlog_head = m;
    s->sh_backlog_tail = m;
}

static void rt__dispatch(rt_shard_t *s, rt_msg_t *m)
{
    hlc_observe(m->m_hlc);
    if (m->m_kind == RT_MSG_REPLY) {
        m->m_done = true;
        rt_fiber_t *w = m->m_waiter;
        if (!m->m_pending || --*m->m_pending == 0)
            rt_resume(w);
        return;
    }
    ASSERT(m->m_kind == RT_MSG_CALL || m->m_kind == RT_MSG_POST);
    /* Requests wait while shard_init runs (so they never see a half-initialised
     * shard) and behind older backlogged requests (so order is kept). */
    if (!s->sh_init_done || s->sh_backlog_head || !rt__start_msg(s, m))
        rt__backlog_push(s, m);
}

/* Drains every inbound ring (a batch each) and the backlog. Returns messages seen. */
static int rt__drain(rt_shard_t *s)
{
    rt_t *rt = s->sh_rt;
    int seen = 0;
    if (s->sh_init_done) {
        while (s->sh_backlog_head && rt__start_msg(s, s->sh_backlog_head)) {
            s->sh_backlog_head = s->sh_backlog_head->m_next;
            if (!s->sh_backlog_head)
                s->sh_backlog_tail = NULL;
            seen++;
        }
    }
    void *batch[LIMIT_RING_DRAIN_BATCH];
    for (int from = 0; from < rt->rt_n; from++) {
        if (from == s->sh_id)
            continue;
        size_t k = ring_pop_batch(rt__ring(rt, from, s->sh_id), batch, LIMIT_RING_DRAIN_BATCH);
        for (size_t i = 0; i < k; i++)
            rt__dispatch(s, batch[i]);
        seen += (int)k;
    }
    return seen;
}

int rt_call(int shard, rt_call_fn fn, void *arg)
{
    rt_shard_t *s = rt__tls;
    ASSERT(s != NULL && s->sh_current != NULL);
    ASSERT(shard >= 0 && shard < s->sh_rt->rt_n);
    if (shard == s->sh_id)
        return fn(arg);
    rt_msg_t m = {.m_kind = RT_MSG_CALL, .m_from = s->sh_id, .m_call = fn, .m_arg = arg,
                  .m_waiter = s->sh_current};
    int rc = rt__send(s, shard, &m, true);
    ASSERT(rc == 0);
    while (!m.m_done)
        rt_suspend();
    return m.m_result;
}

int rt_call_many(int n, const int *shards, rt_call_fn fn, void *const *args, int *rets)
{
    rt_shard_t *s = rt__tls;
    ASSERT(s != NULL && s->sh_current != NULL && n >= 0);
    if (n == 0)
        return 0;
    rt_msg_t *msgs = rt_calloc((size_t)n, sizeof *msgs);
    if (!msgs)
        return -ENOMEM;
    int pending = 0;
    for (int i = 0; i < n; i++) {
        ASSERT(shards[i] >= 0 && shards[i] < s->sh_rt->rt_n);
        if (shards[i] != s->sh_id)
            pending++;
    }
    for (int i = 0; i < n; i++) {
        if (shards[i] == s->sh_id)
            continue;
        msgs[i] = (rt_msg_t){.m_kind = RT_MSG_CALL, .m_from = s->sh_id, .m_call = fn,
                             .m_arg = args[i], .m_waiter = s->sh_current,
                             .m_pending = &pending};
        int rc = rt__send(s, shards[i], &msgs[i], true);
        ASSERT(rc == 0);
    }
    /* Local parts run inline while the remote ones are in flight. */
    for (int i = 0; i < n; i++)
        if (shards[i] == s->sh_id)
            rets[i] = fn(args[i]);
    while (pending > 0)
        rt_suspend();
    for (int i = 0; i < n; i++)
        if (shards[i] != s->sh_id)
            rets[i] = msgs[i].m_result;
    rt_free(msgs);
    return 0;
}

int rt_post(int shard, void (*fn)(void *arg), void *arg)
{
    rt_shard_t *s = rt__tls;
    ASSERT(s != NULL && fn != NULL);
    ASSERT(shard >= 0 && shard < s->sh_rt->rt_n);
    rt_msg_t *m = rt_malloc(sizeof *m);
    if (!m)
        return -ENOMEM;
    *m = (rt_msg_t){.m_kind = RT_MSG_POST, .m_from = s->sh_id, .m_post = fn, .m_arg = arg};
    int rc;
    if (shard == s->sh_id)
        rc = rt_spawn(rt__post_fiber, m);
    else
        rc = rt__send(s, shard, m, true);
    if (rc != 0)
        rt_free(m);
    return rc;
}

/* ------------------------------------------------------------------ the loop */

static void rt__init_fiber(void *arg)
{
    rt_shard_t *s = arg;
    rt_t *rt = s->sh_rt;
    int rc = rt->rt_cfg.shard_init ? rt->rt_cfg.shard_init(s->sh_id, rt->rt_cfg.arg) : 0;
    s->sh_init_done = true;
    s->sh_init_failed = rc != 0;
    if (rc != 0)
        log_error("shard %d: shard_init failed (%d)", s->sh_id, rc);
    pthread_mutex_lock(&rt->rt_lock);
    if (rc != 0) {
        rt->rt_failed_count++;
        if (rt->rt_fail_rc == 0)
            rt->rt_fail_rc = rc < 0 ? rc : -ECANCELED;
    } else {
        rt->rt_started_count++;
    }
    pthread_cond_broadcast(&rt->rt_cond);
    pthread_mutex_unlock(&rt->rt_lock);
}

static void rt__mark_fini_done(rt_shard_t *s)
{
    rt_t *rt = s->sh_rt;
    s->sh_fini_done = true;
    atomic_fetch_add_explicit(&rt->rt_fini_count, 1, memory_order_acq_rel);
    /* Everyone waits for the last fini; wake them so they re-check. */
    for (int i = 0; i < rt->rt_n; i++)
        if (i != s->sh_id)
            rt__doorbell(&rt->rt_shards[i]);
}

static void rt__fini_fiber(void *arg)
{
    rt_shard_t *s = arg;
    rt_t *rt = s->sh_rt;
    rt->rt_cfg.shard_fini(s->sh_id, rt->rt_cfg.arg);
    rt__mark_fini_done(s);
}

/* Stop protocol, per shard: see the stop flag -> cancel blocked accepts -> once
 * shard_init has finished, run shard_fini in a fiber -> keep serving messages until
 * every shard's fini is done (so a fini may still rt_call others) -> leave. */
static bool rt__check_stop(rt_shard_t *s)
{
    rt_t *rt = s->sh_rt;
    if (!s->sh_stop_seen) {
        if (!atomic_load_explicit(&rt->rt_stop, memory_order_acquire))
            return false;
        s->sh_stop_seen = true;
        s->sh_io->cancel_accepts(s);
    }
    if (!s->sh_fini_started && s->sh_init_done) {
        if (!s->sh_init_failed && rt->rt_cfg.shard_fini) {
            if (rt_spawn(rt__fini_fiber, s) == 0)
                s->sh_fini_started = true;
        } else {
            s->sh_fini_started = true;
            rt__mark_fini_done(s);
        }
    }
    return s->sh_fini_done &&
           atomic_load_explicit(&rt->rt_fini_count, memory_order_acquire) == rt->rt_n;
}

/* Announces the intent to sleep, then re-checks everything a producer or a stop
 * could have changed; see rt__flush_outbound for the ordering argument. Returns
 * true when sleeping is safe (sh_sleeping is then 1). */
static bool rt__prepare_sleep(rt_shard_t *s)
{
    rt_t *rt = s->sh_rt;
    atomic_exchange_explicit(&s->sh_sleeping, 1, memory_order_acq_rel);
    bool work = false;
    for (int from = 0; from < rt->rt_n && !work; from++)
        if (from != s->sh_id && ring_has_data(rt__ring(rt, from, s->sh_id)))
            work = true;
    if (!s->sh_stop_seen && atomic_load_explicit(&rt->rt_stop, memory_order_relaxed))
        work = true;
    if (s->sh_fini_done &&
        atomic_load_explicit(&rt->rt_fini_count, memory_order_relaxed) == rt->rt_n)
        work = true;
    if (work)
        atomic_store_explicit(&s->sh_sleeping, 0, memory_order_relaxed);
    return !work;
}

static void rt__publish_metrics(rt_shard_t *s)
{
    metrics_add(rt__m_turns, 1);
    if (s->sh_msgs) {
        metrics_add(rt__m_msgs, s->sh_msgs);
        s->sh_msgs = 0;
    }
    if (s->sh_ring_full) {
        metrics_add(rt__m_ring_full, s->sh_ring_full);
        s->sh_ring_full = 0;
    }
    metrics_set(rt__m_fibers, s->sh_fibers_live);
}

/* Spinning before sleeping saves the wake-up latency only when the core would
 * otherwise sit idle. When the machine has more runnable threads than CPUs (clients
 * on the same cores, a busy neighbour), every spin is time taken from a thread that
 * has work -- often the client that would send our next request. So an awake shard
 * samples the kernel's run-queue length (/proc/loadavg's "running" field, which
 * counts this thread too) every LIMIT_SPIN_LOAD_CHECK_US, and after one sample above
 * the CPU count it does not spin for LIMIT_SPIN_OFF_HOLD_US. The read is a few bytes
 * from procfs, not disk I/O, so it stays off the ring. */
static bool rt__spin_allowed(rt_shard_t *s, uint64_t now)
{
    rt_t *rt = s->sh_rt;
    if (rt->rt_loadavg_fd < 0)
        return true;
    if (now - s->sh_load_check_us >= LIMIT_SPIN_LOAD_CHECK_US) {
        s->sh_load_check_us = now;
        char buf[128];
        ssize_t k = pread(rt->rt_loadavg_fd, buf, sizeof buf - 1, 0);
        if (k > 0) {
            buf[k] = 0;
            /* "0.52 0.58 0.59 3/467 12345": the fourth field is running/total. */
            const char *p = buf;
            for (int field = 0; field < 3 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                    p++;
            }
            if (p) {
                long running = strtol(p, NULL, 10);
                if (running > rt->rt_cpus_online)
                    s->sh_nospin_until_us = now + LIMIT_SPIN_OFF_HOLD_US;
            }
        }
    }
    return now >= s->sh_nospin_until_us;
}

static void rt__loop(rt_shard_t *s)
{
    rt_t *rt = s->sh_rt;
    s->sh_busy_us = rt_now_us();
    for (;;) {
        int work = rt__drain(s);
        work += rt__fire_timers(s, rt_now_us());
        work += rt__run_fibers(s);
        if (rt->rt_cfg.turn_end)
            rt->rt_cfg.turn_end(s->sh_id, rt->rt_cfg.arg);
        rt__flush_outbound(s);
        work += rt__run_deferred(s);
        if (rt__check_stop(s))
            break;
        s->sh_turns++;
        rt__publish_metrics(s);

        uint64_t now = rt_now_us();
        if (work)
            s->sh_busy_us = now;
        int64_t timeout_us = 0;
        bool idle = !s->sh_runq_head && !s->sh_deferred_head &&
                    !(s->sh_backlog_head && s->sh_init_done &&
                      s->sh_fibers_live < LIMIT_FIBERS_PER_SHARD);
        if (idle && (now - s->sh_busy_us >= rt->rt_spin_us || !rt__spin_allowed(s, now)) &&
            rt__prepare_sleep(s)) {
            timeout_us = rt__timer_timeout_us(s, now);
        } else if (now - s->sh_poll_us < LIMIT_SPIN_KERNEL_POLL_US &&
                   !s->sh_io->unsubmitted(s)) {
            /* Not sleeping and nothing to submit: skip the syscall; completions are
             * reaped at least every LIMIT_SPIN_KERNEL_POLL_US while awake. */
            if (idle)
                __builtin_ia32_pause();
            continue;
        }
        s->sh_poll_us = now;
        int done = s->sh_io->wait(s, timeout_us);
        atomic_store_explicit(&s->sh_sleeping, 0, memory_order_relaxed);
        if (done > 0)
            s->sh_busy_us = rt_now_us();
    }
}

static int rt__io_init(rt_shard_t *s)
{
    int want = s->sh_rt->rt_cfg.io_backend;
    int rc = -EINVAL;
    if (want == RT_IO_AUTO || want == RT_IO_URING) {
        s->sh_io = &io_ops_uring;
        s->sh_backend = RT_IO_URING;
        rc = s->sh_io->init(s);
        if (rc == 0)
            return 0;
        if (want == RT_IO_URING) {
            log_error("shard %d: io_uring unavailable (%s)", s->sh_id, strerror(-rc));
            return rc;
        }
        log_warn("shard %d: io_uring unavailable (%s); falling back to epoll", s->sh_id,
                 strerror(-rc));
    }
    s->sh_io = &io_ops_epoll;
    s->sh_backend = RT_IO_EPOLL;
    rc = s->sh_io->init(s);
    if (rc != 0)
        log_error("shard %d: epoll backend failed (%s)", s->sh_id, strerror(-rc));
    return rc;
}

static void rt__shard_teardown(rt_shard_t *s)
{
    /* The ring goes first: the kernel may still own buffers on fiber stacks
     * (a recv parked at stop), and those stacks are unmapped below. */
    if (s->sh_io)
        s->sh_io->fini(s);
    s->sh_io = NULL;
    while (s->sh_all) {
        rt_fiber_t *f = s->sh_all;
        rt__fiber_unlink_all(s, f);
        rt__fiber_destroy(f);
    }
    while (s->sh_free) {
        rt_fiber_t *f = s->sh_free;
        s->sh_free = f->f_run_next;
        rt__fiber_destroy(f);
    }
    while (s->sh_deferred_head) {
        rt_deferred_t *d = s->sh_deferred_head;
        s->sh_deferred_head = d->d_next;
        rt_free(d);
    }
    while (s->sh_backlog_head) {
        rt_msg_t *m = s->sh_backlog_head;
        s->sh_backlog_head = m->m_next;
        if (m->m_kind == RT_MSG_POST)
            rt_free(m);
    }
    rt_free(s->sh_timers);
    rt_free(s->sh_dirty);
    rt_free(s->sh_dirty_flag);
    s->sh_timers = NULL;
    s->sh_dirty = NULL;
    s->sh_dirty_flag = NULL;
}

static void rt__report_start_failure(rt_shard_t *s, int rc)
{
    rt_t *rt = s->sh_rt;
    s->sh_init_done = true;
    s->sh_init_failed = true;
    pthread_mutex_lock(&rt->rt_lock);
    rt->rt_failed_count++;
    if (rt->rt_fail_rc == 0)
        rt->rt_fail_rc = rc;
    pthread_cond_broadcast(&rt->rt_cond);
    pthread_mutex_unlock(&rt->rt_lock);
}

static void *rt__thread_main(void *arg)
{
    rt_shard_t *s = arg;
    rt_t *rt = s->sh_rt;
    rt__tls = s;
    /* Name the thread so `ps -L` / top show one "nextdb-sN" per shard. */
    char name[16];
    snprintf(name, sizeof name, "nextdb-s%d", s->sh_id);
    pthread_setname_np(pthread_self(), name);
    fiber_ctx_init_thread(&s->sh_loop_ctx);
    s->sh_timers_cap = LIMIT_FIBERS_PER_SHARD;
    s->sh_timers = rt_calloc((size_t)s->sh_timers_cap, sizeof *s->sh_timers);
    s->sh_dirty = rt_calloc((size_t)rt->rt_n, sizeof *s->sh_dirty);
    s->sh_dirty_flag = rt_calloc((size_t)rt->rt_n, sizeof *s->sh_dirty_flag);
    int rc = s->sh_timers && s->sh_dirty && s->sh_dirty_flag ? 0 : -ENOMEM;
    if (rc == 0 && (rc = rt__io_init(s)) != 0)
        s->sh_io = NULL;
    if (rc != 0) {
        /* No loop to run: count as failed and finished, then wait (reading the
         * doorbell, which every finishing shard rings) until all shards are done, so
         * nobody sends to a thread that is gone before rt_join frees the rings. */
        rt__report_start_failure(s, rc);
        rt__mark_fini_done(s);
        while (atomic_load_explicit(&rt->rt_fini_count, memory_order_acquire) != rt->rt_n) {
            uint64_t v;
            ssize_t r = read(s->sh_doorbell_fd, &v, sizeof v);
            (void)r;
        }
        goto out;
    }
    if ((rc = rt_spawn(rt__init_fiber, s)) != 0)
        rt__report_start_failure(s, rc);    /* the loop still runs the stop protocol */
    rt__loop(s);
out:
    rt__shard_teardown(s);
    rt__tls = NULL;
    return NULL;
}

/* ------------------------------------------------------------------ start / stop */

static void rt__register_metrics(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    rt__m_turns = metrics_register("nextdb_loop_turns_total",
                                   "Loop turns run by the shard.", METRIC_COUNTER, NULL, 0);
    rt__m_msgs = metrics_register("nextdb_ring_messages_total",
                                  "Messages the shard sent to other shards.", METRIC_COUNTER,
                                  NULL, 0);
    rt__m_fibers = metrics_register("nextdb_fibers", "Live fibers on the shard.",
                                    METRIC_GAUGE, NULL, 0);
    rt__m_ring_full = metrics_register("nextdb_ring_full_total",
                                       "Sends that found the target ring full.",
                                       METRIC_COUNTER, NULL, 0);
}

static void rt__free(rt_t *rt)
{
    int n = rt->rt_n;
    if (rt->rt_rings) {
        for (int i = 0; i < n * n; i++) {
            ring_t *r = rt->rt_rings[i];
            if (!r)
                continue;
            /* Undelivered POSTs own heap memory; CALLs lived on fiber stacks. */
            void *batch[LIMIT_RING_DRAIN_BATCH];
            size_t k;
            ring_publish(r);
            while ((k = ring_pop_batch(r, batch, LIMIT_RING_DRAIN_BATCH)) > 0)
                for (size_t j = 0; j < k; j++)
                    if (((rt_msg_t *)batch[j])->m_kind == RT_MSG_POST)
                        rt_free(batch[j]);
            ring_free(r);
        }
        rt_free(rt->rt_rings);
    }
    if (rt->rt_shards) {
        for (int i = 0; i < n; i++)
            if (rt->rt_shards[i].sh_doorbell_fd >= 0)
                close(rt->rt_shards[i].sh_doorbell_fd);
        free(rt->rt_shards);
    }
    if (rt->rt_loadavg_fd >= 0)
        close(rt->rt_loadavg_fd);
    pthread_mutex_destroy(&rt->rt_lock);
    pthread_cond_destroy(&rt->rt_cond);
    rt_free(rt);
}

/* The CPUs of the process affinity mask, in order. Returns the count (>= 1). */
static int rt__cpus(int *cpus, int max)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < max; c++)
            if (CPU_ISSET(c, &set))
                cpus[n++] = c;
    if (n == 0) {
        cpus[0] = -1;   /* unknown: do not pin */
        n = 1;
    }
    return n;
}

int rt_start(const rt_config_t *cfg, rt_t **out)
{
    ASSERT(cfg != NULL && out != NULL);
    *out = NULL;
    int cpus[CPU_SETSIZE];
    int cpus_count = rt__cpus(cpus, CPU_SETSIZE);
    int n = cfg->shards_count > 0 ? cfg->shards_count : cpus_count;
    if (n > LIMIT_SHARDS_MAX) {
        log_error("rt_start: %d shards exceeds LIMIT_SHARDS_MAX (%d)", n, LIMIT_SHARDS_MAX);
        return -EINVAL;
    }
    if (cfg->io_backend < RT_IO_AUTO || cfg->io_backend > RT_IO_EPOLL)
        return -EINVAL;
    rt__register_metrics();
    metrics_init_shards(n);

    int err = -ENOMEM;
    rt_t *rt = rt_calloc(1, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    rt->rt_n = n;
    rt->rt_cfg = *cfg;
    rt->rt_spin_us = cfg->spin_us ? cfg->spin_us : LIMIT_SPIN_BEFORE_SLEEP_US;
    /* Read by rt__spin_allowed; without it shards always spin as configured. */
    rt->rt_loadavg_fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    rt->rt_cpus_online = online > 0 ? (int)online : cpus_count;
    pthread_mutex_init(&rt->rt_lock, NULL);
    pthread_cond_init(&rt->rt_cond, NULL);
    /* Shards hold cache-line-aligned fields, so they get aligned memory. */
    void *mem = NULL;
    if (posix_memalign(&mem, 64, sizeof(rt_shard_t) * (size_t)n) != 0)
        goto fail;
    rt->rt_shards = mem;
    memset(rt->rt_shards, 0, sizeof(rt_shard_t) * (size_t)n);
    for (int i = 0; i < n; i++)
        rt->rt_shards[i].sh_doorbell_fd = -1;
    rt->rt_rings = rt_calloc((size_t)n * (size_t)n, sizeof *rt->rt_rings);
    if (!rt->rt_rings)
        goto fail;
    for (int i = 0; i < n; i++) {
        rt_shard_t *s = &rt->rt_shards[i];
        s->sh_rt = rt;
        s->sh_id = i;
        s->sh_cpu = cpus[i % cpus_count];
        /* Blocking eventfd: io_uring's read waits on it; epoll reads it only when ready. */
        s->sh_doorbell_fd = eventfd(0, EFD_CLOEXEC);
        if (s->sh_doorbell_fd < 0) {
            err = -errno;
            goto fail;
        }
        for (int j = 0; j < n; j++)
            if (j != i && !(rt->rt_rings[i * n + j] = ring_new()))
                goto fail;
    }
    __atomic_store_n(&rt__global, rt, __ATOMIC_RELEASE);
    /* Published before any thread starts, so shard code may read the caller's
     * variable (and a signal handler may stop a runtime that is still starting). */
    *out = rt;

    for (int i = 0; i < n; i++) {
        rt_shard_t *s = &rt->rt_shards[i];
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        if (s->sh_cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(s->sh_cpu, &set);
            pthread_attr_setaffinity_np(&attr, sizeof set, &set);
        }
        int rc = pthread_create(&s->sh_thread, &attr, rt__thread_main, s);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            log_error("rt_start: pthread_create: %s", strerror(rc));
            /* Shards that never start count as failed and as finished. */
            pthread_mutex_lock(&rt->rt_lock);
            rt->rt_failed_count += n - i;
            pthread_mutex_unlock(&rt->rt_lock);
            atomic_fetch_add(&rt->rt_fini_count, n - i);
            break;
        }
        s->sh_thread_started = true;
    }
    pthread_mutex_lock(&rt->rt_lock);
    while (rt->rt_started_count + rt->rt_failed_count < n)
        pthread_cond_wait(&rt->rt_cond, &rt->rt_lock);
    int failed = rt->rt_failed_count;
    int fail_rc = rt->rt_fail_rc ? rt->rt_fail_rc : -ECANCELED;
    pthread_mutex_unlock(&rt->rt_lock);
    if (failed) {
        log_error("rt_start: %d of %d shards failed to start", failed, n);
        rt_request_stop(rt);
        *out = NULL;
        rt_join(rt);
        return fail_rc;
    }
    /* Every shard finished its backend set-up before its shard_init (handshake
     * above). With AUTO a shard that fell back logged a warning; report the
     * weaker backend if they differ. */
    int used = RT_IO_URING;
    for (int i = 0; i < n; i++)
        if (rt->rt_shards[i].sh_backend == RT_IO_EPOLL)
            used = RT_IO_EPOLL;
    __atomic_store_n(&rt->rt_backend_used, used, __ATOMIC_RELEASE);
    log_info("runtime started: %d shards, io %s", n, used == RT_IO_URING ? "io_uring" : "epoll");
    return 0;
fail:
    rt__free(rt);
    return err;
}

void rt_request_stop(rt_t *rt)
{
    /* Async-signal-safe: one lock-free atomic store and write(2) calls. */
    atomic_store_explicit(&rt->rt_stop, 1, memory_order_release);
    for (int i = 0; i < rt->rt_n; i++)
        if (rt->rt_shards[i].sh_doorbell_fd >= 0)
            rt__doorbell(&rt->rt_shards[i]);
}

void rt_join(rt_t *rt)
{
    for (int i = 0; i < rt->rt_n; i++)
        if (rt->rt_shards[i].sh_thread_started)
            pthread_join(rt->rt_shards[i].sh_thread, NULL);
    rt_t *expected = rt;
    __atomic_compare_exchange_n(&rt__global, &expected, NULL, false, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
    rt__free(rt);
}

/* ------------------------------------------------------------------ sockets & files */

/* Fills ss/len for addr:port ("", "*" and "0.0.0.0" = any IPv4); -EINVAL if bad. */
static int rt__sockaddr(const char *addr, int port, struct sockaddr_storage *out, socklen_t *out_len)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (port < 0 || port > 65535)
        return -EINVAL;
    if (!addr || !*addr || !strcmp(addr, "*") || !strcmp(addr, "0.0.0.0")) {
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    } else {
        return -EINVAL;
    }
    *out = ss;
    *out_len = len;
    return 0;
}

int rt_port_free(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = rt__sockaddr(addr, port, &ss, &len);
    if (rc)
        return rc;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* SO_REUSEADDR (TIME_WAIT leftovers are fine) but not SO_REUSEPORT: this bind fails
     * while any socket, ours or another process's, is bound to the port. */
    int one = 1;
    rc = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

int rt_listen_tcp(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = rt__sockaddr(addr, port, &ss, &len);
    if (rc)
        return rc;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static rt_shard_t *rt__fiber_shard(void)
{
    rt_shard_t *s = rt__tls;
    ASSERT(s != NULL && s->sh_current != NULL);
    return s;
}

int rt_accept(int listen_fd)
{
    rt_shard_t *s = rt__fiber_shard();
    if (rt_stopping())
        return -ECANCELED;
    int fd = s->sh_io->accept(s, listen_fd);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

ssize_t rt_recv(int fd, void *buf, size_t len)
{
    rt_shard_t *s = rt__fiber_shard();
    return s->sh_io->recv(s, fd, buf, len);
}

ssize_t rt_send_all(int fd, const void *buf, size_t len)
{
    rt_shard_t *s = rt__fiber_shard();
    size_t sent = 0;
    while (sent < len) {
        size_t chunk = len - sent;
        if (chunk > LIMIT_IO_CHUNK_BYTES)
            chunk = LIMIT_IO_CHUNK_BYTES;
        ssize_t r = s->sh_io->send(s, fd, (const char *)buf + sent, chunk);
        if (r < 0)
            return r;
        if (r == 0)
            return -EPIPE;
        sent += (size_t)r;
    }
    return (ssize_t)len;
}

/* Also callable outside a fiber (hooks, loop callbacks) and off shard threads: the
 * backends then close without suspending. */
int rt_close(int fd)
{
    rt_shard_t *s = rt__tls;
    if (!s || !s->sh_io)
        return close(fd) == 0 ? 0 : -errno;
    return s->sh_io->close(s, fd);
}

ssize_t rt_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    rt_shard_t *s = rt__fiber_shard();
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done;
        if (chunk > LIMIT_IO_CHUNK_BYTES)
            chunk = LIMIT_IO_CHUNK_BYTES;
        ssize_t r = s->sh_io->pwrite(s, fd, (const char *)buf + done, chunk, off + done);
        if (r < 0)
            return r;
        if (r == 0)
            return -EIO;
        done += (size_t)r;
    }
    return (ssize_t)len;
}

ssize_t rt_pread(int fd, void *buf, size_t len, uint64_t off)
{
    rt_shard_t *s = rt__fiber_shard();
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done;
        if (chunk > LIMIT_IO_CHUNK_BYTES)
            chunk = LIMIT_IO_CHUNK_BYTES;
        ssize_t r = s->sh_io->pread(s, fd, (char *)buf + done, chunk, off + done);
        if (r < 0)
            return r;
        if (r == 0)
            break;      /* end of file */
        done += (size_t)r;
    }
    return (ssize_t)done;
}

int rt_fdatasync(int fd)
{
    rt_shard_t *s = rt__fiber_shard();
    return s->sh_io->fdatasync(s, fd);
}

int rt_write_async(int fd, const void *buf, size_t len, uint64_t off, bool sync,
                   void (*done)(void *arg, int res), void *arg)
{
    rt_shard_t *s = rt__tls;
    ASSERT(s != NULL && done != NULL);
    if (len > LIMIT_IO_CHUNK_BYTES)
        return -EINVAL;
    return s->sh_io->write_async(s, fd, buf, len, off, sync, done, arg);
}
