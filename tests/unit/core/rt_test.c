/*
 * rt_test.c -- the runtime end to end: two shards, fibers, cross-shard calls and
 * posts, wait queues and timers, a TCP echo over loopback, file I/O, start failure
 * and stop. Every scenario runs once per I/O backend (io_uring, epoll).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/hlc.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "core/strbuf.h"
#include "tests/unit/test.h"

typedef struct scenario {
    int backend;
    void (*body)(void *arg);
    _Atomic int done;
    _Atomic int fini_count;
    _Atomic int turn_ends;
    _Atomic int accept_cancelled;
} scenario_t;

static scenario_t *cur;
static uint32_t scenario_spin_us;    /* 0 = default */
static int last_accept_cancelled;

static int init_hook(int shard, void *arg)
{
    scenario_t *sc = arg;
    if (shard == 0)
        return rt_spawn(sc->body, sc);
    return 0;
}

static void fini_hook(int shard, void *arg)
{
    scenario_t *sc = arg;
    atomic_fetch_add(&sc->fini_count, 1);
}

static void turn_end_hook(int shard, void *arg)
{
    scenario_t *sc = arg;
    atomic_store_explicit(&sc->turn_ends, 1, memory_order_relaxed);
}

/* Hosts that block io_uring (seccomp in containers) cannot run the io_uring half
 * of a scenario; that is reported, not failed. RT_IO_AUTO's fallback is tested by
 * auto_falls_back_to_epoll. */
static bool uring_blocked(int backend, int rc)
{
    if (backend != RT_IO_URING || (rc != -ENOSYS && rc != -EPERM))
        return false;
    fprintf(stderr, "  io_uring unavailable on this host: io_uring scenario skipped\n");
    return true;
}

/* Runs body in a fiber on shard 0 of a fresh 2-shard runtime, then stops it. */
static void run_scenario(int backend, void (*body)(void *arg))
{
    scenario_t sc = {.backend = backend, .body = body};
    cur = &sc;
    rt_config_t cfg = {.shards_count = 2, .io_backend = backend, .shard_init = init_hook,
                       .shard_fini = fini_hook, .turn_end = turn_end_hook, .arg = &sc,
                       .spin_us = scenario_spin_us};
    rt_t *rt = NULL;
    int rc = rt_start(&cfg, &rt);
    if (uring_blocked(backend, rc))
        return;
    TEST_REQUIRE(rc == 0);
    TEST_CHECK(rt_shards_count() == 2);
    TEST_CHECK(rt_backend() == backend);
    for (int i = 0; i < 20000 && !atomic_load(&sc.done); i++)
        usleep(1000);
    TEST_CHECK(atomic_load(&sc.done));
    rt_request_stop(rt);
    rt_join(rt);
    TEST_CHECK(atomic_load(&sc.fini_count) == 2);
    TEST_CHECK(atomic_load(&sc.turn_ends) == 1);
    last_accept_cancelled = atomic_load(&sc.accept_cancelled);
    cur = NULL;
}

/* ---- calls, posts ---- */

static int where_am_i(void *arg)
{
    int *x = arg;
    return rt_shard_id() * 1000 + *x;
}

static uint64_t remote_hlc;
static int hlc_on_remote(void *arg)
{
    remote_hlc = hlc_now();
    return 0;
}

static int suspending_call(void *arg)
{
    rt_sleep_ms(5);
    return rt_shard_id() + 7;
}

static rt_waitq_t posts_q;
static int posts_seen;           /* shard 0 only */
static int posts_on_1;           /* shard 1 only */

static void post_back(void *arg)
{
    posts_seen++;
    rt_waitq_wake_all(&posts_q);
}

static void post_on_1(void *arg)
{
    if (rt_shard_id() == 1)
        posts_on_1++;
    if ((intptr_t)arg == 1)
        rt_post(0, post_back, NULL);
}

static int read_posts_on_1(void *arg) { return posts_on_1; }
static int reset_posts_on_1(void *arg)
{
    posts_on_1 = 0;
    return 0;
}

static void calls_body(void *arg)
{
    scenario_t *sc = arg;
    TEST_CHECK(rt_shard_id() == 0);
    TEST_CHECK(rt_self() != NULL);
    TEST_CHECK(rt_backend() == sc->backend);
    int x = 5;
    TEST_CHECK(rt_call(1, where_am_i, &x) == 1005);
    TEST_CHECK(rt_call(0, where_am_i, &x) == 5);
    TEST_CHECK(rt_call(1, suspending_call, NULL) == 8);

    /* The reply carries shard 1's clock; shard 0 must have merged it. */
    rt_call(1, hlc_on_remote, NULL);
    TEST_CHECK(hlc_peek() >= remote_hlc);
    TEST_CHECK(hlc_now() > remote_hlc);

    int shards[4] = {0, 1, 1, 0};
    int vals[4] = {1, 2, 3, 4};
    void *args[4] = {&vals[0], &vals[1], &vals[2], &vals[3]};
    int rets[4] = {0};
    TEST_CHECK(rt_call_many(4, shards, where_am_i, args, rets) == 0);
    TEST_CHECK(rets[0] == 1 && rets[1] == 1002 && rets[2] == 1003 && rets[3] == 4);

    /* More posts than ring slots: the sender must yield on a full ring and resume. */
    posts_seen = 0;
    rt_call(1, reset_posts_on_1, NULL);
    int total = 10000;
    for (int i = 0; i < total - 1; i++)
        TEST_REQUIRE(rt_post(1, post_on_1, NULL) == 0);
    TEST_REQUIRE(rt_post(1, post_on_1, (void *)(intptr_t)1) == 0);
    while (posts_seen == 0)
        TEST_REQUIRE(rt_waitq_wait_timeout(&posts_q, 10000) == 0);
    TEST_CHECK(rt_call(1, read_posts_on_1, NULL) == total);
    atomic_store(&sc->done, 1);
}

TEST(calls_uring) { run_scenario(RT_IO_URING, calls_body); }
TEST(calls_epoll) { run_scenario(RT_IO_EPOLL, calls_body); }

/* ---- both directions at once, many fibers ---- */

#define CROSS_FIBERS 8
#define CROSS_CALLS 2000

static int cross_done[2];            /* per shard, touched by that shard only */
static rt_waitq_t cross_q[2];
static int64_t cross_sum[2];

static int add_one(void *arg) { return *(int *)arg + 1; }

static void cross_worker(void *arg)
{
    int me = rt_shard_id(), other = 1 - me;
    for (int i = 0; i < CROSS_CALLS; i++) {
        int v = i;
        cross_sum[me] += rt_call(other, add_one, &v);
        if (i % 500 == 0)
            rt_sleep_ms(1);      /* let the peer fall asleep now and then */
    }
    cross_done[me]++;
    rt_waitq_wake_all(&cross_q[me]);
}

static void cross_start(void *arg)
{
    for (int i = 0; i < CROSS_FIBERS; i++)
        rt_spawn(cross_worker, NULL);
}

static int cross_wait_1(void *arg)
{
    while (cross_done[1] < CROSS_FIBERS)
        rt_waitq_wait(&cross_q[1]);
    return (int)(cross_sum[1] % 1000000007);
}

static void cross_body(void *arg)
{
    scenario_t *sc = arg;
    memset(cross_done, 0, sizeof cross_done);
    memset(cross_sum, 0, sizeof cross_sum);
    TEST_REQUIRE(rt_post(1, cross_start, NULL) == 0);
    cross_start(NULL);
    while (cross_done[0] < CROSS_FIBERS)
        rt_waitq_wait(&cross_q[0]);
    int64_t expect = (int64_t)CROSS_FIBERS * CROSS_CALLS * (CROSS_CALLS + 1) / 2;
    TEST_CHECK(cross_sum[0] == expect);
    TEST_CHECK(rt_call(1, cross_wait_1, NULL) == (int)(expect % 1000000007));
    atomic_store(&sc->done, 1);
}

TEST(cross_uring) { run_scenario(RT_IO_URING, cross_body); }
TEST(cross_epoll) { run_scenario(RT_IO_EPOLL, cross_body); }

/* A 1 us spin window: shards go to sleep between almost every message, which
 * exercises the sleeping flag / doorbell protocol on every exchange. */
TEST(cross_sleepy)
{
    scenario_spin_us = 1;
    run_scenario(RT_IO_URING, cross_body);
    run_scenario(RT_IO_EPOLL, cross_body);
    scenario_spin_us = 0;
}

/* ---- timers, wait queues, fibers ---- */

static rt_waitq_t wq;
static int order[4], order_n;

static void waker(void *arg)
{
    rt_sleep_ms(10);
    rt_waitq_wake_one(&wq);
}

static void child(void *arg)
{
    order[order_n++] = (int)(intptr_t)arg;
    rt_yield();
    order[order_n++] = (int)(intptr_t)arg + 10;
}

static void resumer(void *arg) { rt_resume(arg); }

static int short_lived_runs;
static void short_lived(void *arg)
{
    rt_yield();
    short_lived_runs++;
}

static void timers_body(void *arg)
{
    scenario_t *sc = arg;
    uint64_t t0 = rt_now_us();
    rt_sleep_ms(30);
    TEST_CHECK(rt_now_us() - t0 >= 30000);

    t0 = rt_now_us();
    TEST_CHECK(rt_waitq_wait_timeout(&wq, 20) == -ETIMEDOUT);
    TEST_CHECK(rt_now_us() - t0 >= 20000);
    TEST_CHECK(wq.head == NULL && wq.tail == NULL);

    TEST_REQUIRE(rt_spawn(waker, NULL) == 0);
    t0 = rt_now_us();
    TEST_CHECK(rt_waitq_wait_timeout(&wq, 5000) == 0);
    TEST_CHECK(rt_now_us() - t0 < 4000000);

    TEST_REQUIRE(rt_spawn(waker, NULL) == 0);
    rt_waitq_wait(&wq);

    /* Two children interleave through rt_yield, in spawn order. */
    order_n = 0;
    TEST_REQUIRE(rt_spawn(child, (void *)1) == 0);
    TEST_REQUIRE(rt_spawn(child, (void *)2) == 0);
    while (order_n < 4)
        rt_yield();
    TEST_CHECK(order[0] == 1 && order[1] == 2 && order[2] == 11 && order[3] == 12);

    /* rt_resume from another fiber wakes rt_suspend. */
    TEST_REQUIRE(rt_spawn(resumer, rt_self()) == 0);
    rt_suspend();

    /* Many short-lived fibers: stacks are recycled. */
    short_lived_runs = 0;
    for (int i = 0; i < 2000; i++) {
        TEST_REQUIRE(rt_spawn(short_lived, NULL) == 0);
        if (i % 100 == 0)
            rt_sleep_ms(1);
    }
    while (short_lived_runs < 2000)
        rt_sleep_ms(1);
    atomic_store(&sc->done, 1);
}

TEST(timers_uring) { run_scenario(RT_IO_URING, timers_body); }
TEST(timers_epoll) { run_scenario(RT_IO_EPOLL, timers_body); }

/* ---- TCP echo over loopback ---- */

#define ECHO_BYTES (300 * 1024)

static void echo_server(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    int c = rt_accept(lfd);
    TEST_REQUIRE(c >= 0);
    char buf[8192];
    for (;;) {
        ssize_t n = rt_recv(c, buf, sizeof buf);
        TEST_CHECK(n >= 0);
        if (n <= 0)
            break;
        TEST_CHECK(rt_send_all(c, buf, (size_t)n) == n);
    }
    TEST_CHECK(rt_close(c) == 0);
    TEST_CHECK(rt_close(lfd) == 0);
}

typedef struct echo_client { int fd; unsigned char *out; } echo_client_t;

static void echo_writer(void *arg)
{
    echo_client_t *ec = arg;
    TEST_CHECK(rt_send_all(ec->fd, ec->out, ECHO_BYTES) == ECHO_BYTES);
    shutdown(ec->fd, SHUT_WR);
}

/* Runs on shard 1: connects, writes from one fiber while this one reads. */
static int echo_client(void *arg)
{
    int port = *(int *)arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -2;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    echo_client_t ec = {.fd = fd, .out = malloc(ECHO_BYTES)};
    unsigned char *in = malloc(ECHO_BYTES + 1);
    for (int i = 0; i < ECHO_BYTES; i++)
        ec.out[i] = (unsigned char)(i * 7 + i / 251);
    int rc = rt_spawn(echo_writer, &ec);
    size_t got = 0;
    while (rc == 0) {
        ssize_t n = rt_recv(fd, in + got, ECHO_BYTES + 1 - got);
        if (n <= 0) {
            rc = n < 0 ? -3 : 0;
            break;
        }
        got += (size_t)n;
    }
    if (rc == 0 && (got != ECHO_BYTES || memcmp(in, ec.out, ECHO_BYTES) != 0))
        rc = -4;
    rt_close(fd);
    free(in);
    free(ec.out);
    return rc;
}

static void accept_until_stop(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    int r = rt_accept(lfd);
    if (r == -ECANCELED && rt_stopping())
        atomic_store(&cur->accept_cancelled, 1);
    rt_close(lfd);
}

static ssize_t parked_recv_res = 1;
static rt_waitq_t parked_q;

static void recv_until_closed(void *arg)
{
    char c;
    parked_recv_res = rt_recv((int)(intptr_t)arg, &c, 1);
    rt_waitq_wake_all(&parked_q);
}

static void echo_body(void *arg)
{
    scenario_t *sc = arg;
    int lfd = rt_listen_tcp("127.0.0.1", 0);
    TEST_REQUIRE(lfd >= 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    TEST_REQUIRE(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    int port = ntohs(a.sin_port);
    TEST_REQUIRE(rt_spawn(echo_server, (void *)(intptr_t)lfd) == 0);
    TEST_CHECK(rt_call(1, echo_client, &port) == 0);

    /* rt_close from another fiber releases a fiber parked in rt_recv on that fd. */
    int sp[2];
    TEST_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) == 0);
    parked_recv_res = 1;
    TEST_REQUIRE(rt_spawn(recv_until_closed, (void *)(intptr_t)sp[0]) == 0);
    rt_sleep_ms(5);
    TEST_CHECK(parked_recv_res == 1);
    TEST_CHECK(rt_close(sp[0]) == 0);
    if (parked_recv_res == 1)
        TEST_CHECK(rt_waitq_wait_timeout(&parked_q, 5000) == 0);
    TEST_CHECK(parked_recv_res < 0);
    close(sp[1]);

    /* A fiber parked in rt_accept must come back with -ECANCELED at stop. */
    int lfd2 = rt_listen_tcp("127.0.0.1", 0);
    TEST_REQUIRE(lfd2 >= 0);
    TEST_REQUIRE(rt_spawn(accept_until_stop, (void *)(intptr_t)lfd2) == 0);
    rt_sleep_ms(5);
    atomic_store(&sc->done, 1);
}

TEST(echo_uring)
{
    run_scenario(RT_IO_URING, echo_body);
    TEST_CHECK(last_accept_cancelled == 1);
}
TEST(echo_epoll)
{
    run_scenario(RT_IO_EPOLL, echo_body);
    TEST_CHECK(last_accept_cancelled == 1);
}

/* ---- files ---- */

static rt_waitq_t file_q;
static int async_res = 1;

static void write_done(void *arg, int res)
{
    async_res = res;
    rt_waitq_wake_all(&file_q);
}

static void files_body(void *arg)
{
    scenario_t *sc = arg;
    char path[] = "/tmp/nextdb_rt_test_XXXXXX";
    int fd = mkstemp(path);
    TEST_REQUIRE(fd >= 0);
    unlink(path);
    static char data[100000], back[100000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i % 251);
    async_res = 1;
    TEST_REQUIRE(rt_write_async(fd, data, sizeof data, 4096, true, write_done, NULL) == 0);
    while (async_res == 1)
        TEST_REQUIRE(rt_waitq_wait_timeout(&file_q, 10000) == 0);
    TEST_CHECK(async_res == 0);
    TEST_CHECK(rt_pread(fd, back, sizeof back, 4096) == (ssize_t)sizeof back);
    TEST_CHECK(memcmp(data, back, sizeof data) == 0);
    /* Past end of file: a short read. */
    TEST_CHECK(rt_pread(fd, back, sizeof back, 4096 + 50000) == 50000);

    TEST_CHECK(rt_pwrite(fd, "hello", 5, 0) == 5);
    TEST_CHECK(rt_fdatasync(fd) == 0);
    char h[5];
    TEST_CHECK(rt_pread(fd, h, 5, 0) == 5 && memcmp(h, "hello", 5) == 0);

    /* A write that fails reports -errno through the callback. */
    int ro = open("/dev/null", O_RDONLY);
    async_res = 1;
    TEST_REQUIRE(rt_write_async(ro, data, 10, 0, true, write_done, NULL) == 0);
    while (async_res == 1)
        TEST_REQUIRE(rt_waitq_wait_timeout(&file_q, 10000) == 0);
    TEST_CHECK(async_res == -EBADF);
    TEST_CHECK(rt_close(ro) == 0);
    TEST_CHECK(rt_close(fd) == 0);
    atomic_store(&sc->done, 1);
}

TEST(files_uring) { run_scenario(RT_IO_URING, files_body); }
TEST(files_epoll) { run_scenario(RT_IO_EPOLL, files_body); }

/* ---- idle cost and stop with parked fibers ---- */

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int parked_fd[2] = {-1, -1};

static void parked_reader(void *arg)
{
    char c;
    rt_recv(parked_fd[0], &c, 1);       /* nobody writes: parked until stop */
}

static void idle_body(void *arg)
{
    scenario_t *sc = arg;
    /* A fiber blocked in recv at stop must not keep the shard from exiting. */
    TEST_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, parked_fd) == 0);
    TEST_REQUIRE(rt_spawn(parked_reader, NULL) == 0);
    atomic_store(&sc->done, 1);
}

static void run_idle(int backend)
{
    scenario_t sc = {.backend = backend, .body = idle_body};
    cur = &sc;
    rt_config_t cfg = {.shards_count = 2, .io_backend = backend, .shard_init = init_hook,
                       .arg = &sc};
    rt_t *rt = NULL;
    int rc = rt_start(&cfg, &rt);
    if (uring_blocked(backend, rc))
        return;
    TEST_REQUIRE(rc == 0);
    usleep(50000);
    double c0 = cpu_seconds();
    usleep(500000);
    double used = cpu_seconds() - c0;
    fprintf(stderr, "  idle: %.1f ms CPU in 500 ms\n", used * 1000);
    TEST_CHECK(used < 0.05);
    rt_request_stop(rt);
    rt_join(rt);
    close(parked_fd[0]);
    close(parked_fd[1]);
    cur = NULL;
}

TEST(idle_uring) { run_idle(RT_IO_URING); }
TEST(idle_epoll) { run_idle(RT_IO_EPOLL); }

/* ---- requests wait for the target's shard_init ---- */

static int init1_finished;          /* shard 1 only */
static _Atomic int saw_init1;

static int read_init1(void *arg) { return init1_finished; }

static void probe_init1(void *arg)
{
    atomic_store(&saw_init1, rt_call(1, read_init1, NULL) + 10);
}

static int slow_init(int shard, void *arg)
{
    if (shard == 0)
        return rt_spawn(probe_init1, NULL);
    rt_sleep_ms(50);
    init1_finished = 1;
    return 0;
}

TEST(calls_wait_for_init)
{
    rt_config_t cfg = {.shards_count = 2, .shard_init = slow_init};
    rt_t *rt = NULL;
    TEST_REQUIRE(rt_start(&cfg, &rt) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&saw_init1); i++)
        usleep(1000);
    TEST_CHECK(atomic_load(&saw_init1) == 11);
    rt_request_stop(rt);
    rt_join(rt);
}

/* ---- RT_IO_AUTO falls back to epoll when io_uring is blocked ---- */

static _Atomic int epoll_shards;

static int backend_probe_init(int shard, void *arg)
{
    if (rt_backend() == RT_IO_EPOLL)
        atomic_fetch_add(&epoll_shards, 1);
    return 0;
}

/* In a child process: a seccomp filter makes io_uring_setup fail with ENOSYS, as
 * container runtimes do; rt_start(RT_IO_AUTO) must come up on epoll. */
static int auto_fallback_child(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 3;
    rt_config_t cfg = {.shards_count = 2, .io_backend = RT_IO_AUTO,
                       .shard_init = backend_probe_init};
    rt_t *rt = NULL;
    if (rt_start(&cfg, &rt) != 0)
        return 4;
    rt_request_stop(rt);
    rt_join(rt);
    if (atomic_load(&epoll_shards) != 2)
        return 5;
    /* Asking for io_uring explicitly must fail instead of falling back. */
    cfg.io_backend = RT_IO_URING;
    if (rt_start(&cfg, &rt) != -ENOSYS)
        return 6;
    return 0;
}

TEST(auto_falls_back_to_epoll)
{
    pid_t pid = fork();
    TEST_REQUIRE(pid >= 0);
    if (pid == 0)
        _exit(auto_fallback_child());
    int status = 0;
    TEST_REQUIRE(waitpid(pid, &status, 0) == pid);
    TEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "  child status %d\n", status);
}

/* ---- the context switch keeps the FP control state per fiber ---- */

static int round_seen_other = -1, round_seen_self = -1;
static _Atomic int fp_done;

static void fp_other(void *arg) { round_seen_other = fegetround(); }

static void fp_self(void *arg)
{
    fesetround(FE_UPWARD);
    rt_spawn(fp_other, NULL);
    rt_yield();
    rt_yield();
    round_seen_self = fegetround();
    fesetround(FE_TONEAREST);
    atomic_store(&fp_done, 1);
}

static int fp_init(int shard, void *arg) { return rt_spawn(fp_self, NULL); }

TEST(fp_control_per_fiber)
{
    rt_config_t cfg = {.shards_count = 1, .shard_init = fp_init};
    rt_t *rt = NULL;
    TEST_REQUIRE(rt_start(&cfg, &rt) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&fp_done); i++)
        usleep(1000);
    rt_request_stop(rt);
    rt_join(rt);
    TEST_CHECK(round_seen_other == FE_TONEAREST);   /* a fresh fiber gets the default */
    TEST_CHECK(round_seen_self == FE_UPWARD);       /* and ours came back */
}

/* ---- a stack overflow hits the guard page instead of a neighbour ---- */

static volatile int recurse_limit = 1 << 20;   /* 1 GiB of frames: far past the stack */

static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    if (depth >= recurse_limit)
        return 0;
    return recurse(depth + 1) + pad[0];
}

static void overflow_fiber(void *arg) { recurse(0); }
static int overflow_init(int shard, void *arg) { return rt_spawn(overflow_fiber, NULL); }

TEST(stack_overflow_faults)
{
    pid_t pid = fork();
    TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);                 /* the sanitizer report is expected */
        rt_config_t cfg = {.shards_count = 1, .shard_init = overflow_init};
        rt_t *rt = NULL;
        if (rt_start(&cfg, &rt) == 0) {
            sleep(5);
            rt_request_stop(rt);
            rt_join(rt);
        }
        _exit(0);
    }
    int status = 0;
    TEST_REQUIRE(waitpid(pid, &status, 0) == pid);
    TEST_CHECK(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0));
}

/* ---- start-up failure and metrics ---- */

static int failing_init(int shard, void *arg) { return shard == 1 ? -EIO : 0; }

TEST(start_failure)
{
    rt_config_t cfg = {.shards_count = 2, .shard_init = failing_init};
    rt_t *rt = NULL;
    TEST_CHECK(rt_start(&cfg, &rt) == -EIO);
    TEST_CHECK(rt == NULL);
}

TEST(runtime_metrics)
{
    run_scenario(RT_IO_EPOLL, calls_body);
    strbuf_t sb;
    strbuf_init(&sb);
    metrics_render(&sb);
    TEST_REQUIRE(!sb.oom && sb.data);
    TEST_CHECK(strstr(sb.data, "# TYPE nextdb_loop_turns_total counter") != NULL);
    TEST_CHECK(strstr(sb.data, "nextdb_loop_turns_total{shard=\"1\"} ") != NULL);
    TEST_CHECK(strstr(sb.data, "# TYPE nextdb_fibers gauge") != NULL);
    TEST_CHECK(strstr(sb.data, "nextdb_ring_messages_total{shard=\"0\"} 0\n") == NULL);
    TEST_CHECK(strstr(sb.data, "nextdb_ring_full_total{shard=\"0\"} 0\n") == NULL);
    strbuf_free(&sb);
}

TEST_MAIN()
