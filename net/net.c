/*
 * net.c -- listeners, accept fibers, the per-shard connection registry, cancel
 * routing and net metrics; see net.h and net_int.h.
 */
#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "net/hba.h"
#include "net/http.h"
#include "net/net_int.h"
#include "net/pgwire.h"
#include "net/scram.h"

STATIC_ASSERT(((int64_t)LIMIT_SHARDS_MAX << NET_PID_SHARD_SHIFT) <= INT32_MAX,
              "backend pid must stay a positive int32");

typedef struct net_listener {
    int fd;
    bool http;
} net_listener_t;

typedef struct net_shard {
    net_listener_t pg, http;
    net_conn_t *conns;           /* registry: doubly linked */
    int conns_count;
    int accept_fibers;
    uint32_t next_seq;
    bool stopping;
} net_shard_t;

static struct {
    bool inited;
    char listen_addr[64];
    int pg_port, http_port;
    hba_t hba;
    net_shard_t *shards[LIMIT_SHARDS_MAX];   /* each touched only by its own shard */
    atomic_int pg_conns, http_conns;          /* process-wide, for the limits */
} net;

const hba_t *net__hba = &net.hba;
uint8_t net__mock_key[NET_MOCK_KEY_BYTES];
int net__m_connections = -1, net__m_connections_total = -1, net__m_queries_total = -1,
    net__m_query_seconds = -1, net__m_http_requests_total = -1;

static net_shard_t *net_shard(void)
{
    int id = rt_shard_id();
    ASSERT(id >= 0 && id < LIMIT_SHARDS_MAX && net.shards[id]);
    return net.shards[id];
}

/* ---- init ---- */

/* Loads one config file from data_dir with parse; absent files are fine. */
static int net_load_conf(const char *data_dir, const char *file,
                         int (*parse)(hba_t *, const char *, size_t, char *, size_t),
                         bool *absent)
{
    char path[4096], why[256] = "";
    strbuf_t text;
    strbuf_init(&text);
    *absent = true;
    if (!data_dir)
        return 0;
    snprintf(path, sizeof path, "%s/%s", data_dir, file);
    int rc = hba_load_file(path, &text, why, sizeof why);
    if (rc == 0) {
        *absent = false;
        rc = parse(&net.hba, text.data ? text.data : "", text.len, why, sizeof why);
        if (rc < 0)
            log_error("net: %s: %s", path, why);
    } else if (rc < 0) {
        log_error("net: %s", why);
    } else {
        rc = 0;
    }
    strbuf_free(&text);
    return rc;
}

static int net_register_metrics(void)
{
    static const double bounds[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                    0.1, 0.5, 1, 5, 10, 60};
    net__m_connections = metrics_register("nextdb_connections",
        "Open client connections (PostgreSQL and HTTP).", METRIC_GAUGE, NULL, 0);
    net__m_connections_total = metrics_register("nextdb_connections_total",
        "Client connections accepted.", METRIC_COUNTER, NULL, 0);
    net__m_queries_total = metrics_register("nextdb_queries_total",
        "Statements executed for clients (simple queries, Execute, HTTP /query).",
        METRIC_COUNTER, NULL, 0);
    net__m_query_seconds = metrics_register("nextdb_query_seconds",
        "Client statement latency in seconds.", METRIC_HISTOGRAM, bounds,
        (int)(sizeof bounds / sizeof bounds[0]));
    net__m_http_requests_total = metrics_register("nextdb_http_requests_total",
        "HTTP requests served.", METRIC_COUNTER, NULL, 0);
    if (net__m_connections < 0 || net__m_connections_total < 0 || net__m_queries_total < 0 ||
        net__m_query_seconds < 0 || net__m_http_requests_total < 0) {
        log_error("net: could not register metrics (registry full or names taken)");
        return -1;
    }
    return 0;
}

int net_init(const net_config_t *cfg)
{
    ASSERT(!net.inited);
    const char *addr = cfg->listen_addr && cfg->listen_addr[0] ? cfg->listen_addr : "127.0.0.1";
    if (!strcmp(addr, "*"))
        addr = "0.0.0.0";
    if (strlen(addr) >= sizeof net.listen_addr) {
        log_error("net: listen address \"%s\" is too long", addr);
        return -1;
    }
    if (cfg->pg_port <= 0 || cfg->pg_port > 65535 || cfg->http_port < 0 || cfg->http_port > 65535) {
        log_error("net: invalid port (pg %d, http %d)", cfg->pg_port, cfg->http_port);
        return -1;
    }
    strcpy(net.listen_addr, addr);
    net.pg_port = cfg->pg_port;
    net.http_port = cfg->http_port;
    hba_init(&net.hba);
    bool absent;
    if (net_load_conf(cfg->data_dir, "hba.conf", hba_parse_rules, &absent) < 0)
        goto fail;
    if (absent) {
        if (hba_set_default(&net.hba) < 0)
            goto fail;
        log_info("net: no hba.conf; trusting loopback connections, rejecting others");
    }
    if (net_load_conf(cfg->data_dir, "users.conf", hba_parse_users, &absent) < 0)
        goto fail;
    if (RAND_bytes(net__mock_key, sizeof net__mock_key) != 1) {
        log_error("net: no randomness for the SCRAM mock key");
        goto fail;
    }
    if (net_register_metrics() < 0)
        goto fail;
    /* Every shard listens with SO_REUSEPORT, which would also let a second server on
     * the same port take a share of the connections: refuse to start instead. */
    for (int i = 0; i < 2; i++) {
        int port = i == 0 ? net.pg_port : net.http_port;
        if (port == 0)
            continue;
        /* A server killed a moment ago can keep its listening socket for a little
         * while (io_uring tears down a dead process's ring asynchronously): wait. */
        int rc = rt_port_free(net.listen_addr, port);
        for (int waited = 0; rc == -EADDRINUSE && waited < LIMIT_PORT_BUSY_WAIT_MS; waited += 50) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            rc = rt_port_free(net.listen_addr, port);
        }
        if (rc) {
            log_error("net: could not bind %s port %d: %s%s", net.listen_addr, port, strerror(-rc),
                      rc == -EADDRINUSE ? " (is another server already running on this port?)" : "");
            goto fail;
        }
    }
    net.inited = true;
    log_info("net: %d hba rules, %d users; listening on %s port %d (pg), %d (http)",
             net.hba.rules_count, net.hba.users_count, net.listen_addr, net.pg_port,
             net.http_port);
    return 0;
fail:
    hba_free(&net.hba);
    return -1;
}

int net_hash_password(const char *password, strbuf_t *verifier)
{
    uint8_t salt[SCRAM_SALT_DEFAULT_BYTES];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return -1;
    return scram_make_verifier(password, salt, sizeof salt, SCRAM_ITERATIONS_DEFAULT, verifier);
}

/* ---- connection registry ---- */

int net__conn_open(net_conn_t *c, int fd, bool http)
{
    net_shard_t *s = net_shard();
    c->fd = fd;
    c->http = http;
    c->session = NULL;
    c->prev = NULL;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->conns_count++;
    s->next_seq = (s->next_seq + 1) & NET_PID_SEQ_MASK;
    if (s->next_seq == 0)
        s->next_seq = 1;
    c->pid = (int32_t)((uint32_t)rt_shard_id() << NET_PID_SHARD_SHIFT | s->next_seq);
    uint32_t secret = 0;
    if (RAND_bytes((unsigned char *)&secret, sizeof secret) != 1)
        secret = (uint32_t)(rt_now_us() * 2654435761u);   /* weaker, still unguessable-ish */
    c->secret = (int32_t)secret;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    metrics_set(net__m_connections, s->conns_count);
    metrics_add(net__m_connections_total, 1);
    atomic_int *count = http ? &net.http_conns : &net.pg_conns;
    int limit = http ? LIMIT_HTTP_CONNECTIONS : LIMIT_PG_CONNECTIONS;
    int now = atomic_fetch_add_explicit(count, 1, memory_order_relaxed) + 1;
    return now > limit ? -1 : 0;
}

void net__conn_close(net_conn_t *c)
{
    net_shard_t *s = net_shard();
    ASSERT(s->conns_count > 0);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->conns_count--;
    atomic_fetch_sub_explicit(c->http ? &net.http_conns : &net.pg_conns, 1, memory_order_relaxed);
    metrics_set(net__m_connections, s->conns_count);
    rt_close(c->fd);
    c->fd = -1;
}

void net__query_done(uint64_t start_us)
{
    metrics_add(net__m_queries_total, 1);
    metrics_observe(net__m_query_seconds, (double)(rt_now_us() - start_us) / 1e6);
}

/* ---- cancel ---- */

typedef struct net_cancel_req { int32_t pid, secret; } net_cancel_req_t;

/* Runs on the owning shard: cancels the matching session's statement. */
static void net_cancel_on_shard(void *arg)
{
    net_cancel_req_t *r = arg;
    int id = rt_shard_id();
    net_shard_t *s = id >= 0 && id < LIMIT_SHARDS_MAX ? net.shards[id] : NULL;
    for (net_conn_t *c = s ? s->conns : NULL; c; c = c->next) {
        if (c->pid != r->pid || c->http)
            continue;
        if (c->secret == r->secret && c->session)
            sql_cancel(c->session);
        else
            log_warn("net: cancel request for pid %d with a wrong key", r->pid);
        break;
    }
    rt_free(r);
}

void net__cancel(int32_t pid, int32_t secret)
{
    int shard = (int)((uint32_t)pid >> NET_PID_SHARD_SHIFT);
    if (pid <= 0 || shard >= rt_shards_count())
        return;
    net_cancel_req_t *r = rt_malloc(sizeof *r);
    if (!r)
        return;
    r->pid = pid;
    r->secret = secret;
    if (rt_post(shard, net_cancel_on_shard, r) < 0) {
        log_warn("net: dropped cancel request for pid %d (ring to shard %d full)", pid, shard);
        rt_free(r);
    }
}

/* ---- listeners ---- */

static void net_accept_loop(void *arg)
{
    net_listener_t *l = arg;
    net_shard_t *s = net_shard();
    while (!s->stopping && !rt_stopping()) {
        int fd = rt_accept(l->fd);
        if (fd < 0) {
            if (s->stopping || rt_stopping())
                break;
            if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
                log_warn("net: accept: %s; pausing", strerror(-fd));
                rt_sleep_ms(100);
            }
            continue;
        }
        int rc = rt_spawn(l->http ? http_serve : pgwire_serve, (void *)(intptr_t)fd);
        if (rc < 0) {
            log_warn("net: no fiber for a new connection: %s", strerror(-rc));
            rt_close(fd);
        }
    }
    rt_close(l->fd);
    l->fd = -1;
    s->accept_fibers--;
}

static int net_listen(net_shard_t *s, net_listener_t *l, int port, bool http)
{
    l->http = http;
    l->fd = rt_listen_tcp(net.listen_addr, port);
    if (l->fd < 0) {
        log_error("net: cannot listen on %s port %d: %s", net.listen_addr, port, strerror(-l->fd));
        return l->fd;
    }
    int rc = rt_spawn(net_accept_loop, l);
    if (rc < 0) {
        rt_close(l->fd);
        l->fd = -1;
        return rc;
    }
    s->accept_fibers++;
    return 0;
}

int net_shard_start(void)
{
    ASSERT(net.inited);
    int id = rt_shard_id();
    ASSERT(id >= 0 && id < LIMIT_SHARDS_MAX && !net.shards[id]);
    net_shard_t *s = rt_calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->pg.fd = s->http.fd = -1;
    net.shards[id] = s;
    int rc = net_listen(s, &s->pg, net.pg_port, false);
    if (rc == 0 && net.http_port)
        rc = net_listen(s, &s->http, net.http_port, true);
    if (rc < 0)
        net_shard_stop();
    return rc;
}

void net_shard_stop(void)
{
    int id = rt_shard_id();
    net_shard_t *s = id >= 0 && id < LIMIT_SHARDS_MAX ? net.shards[id] : NULL;
    if (!s)
        return;
    s->stopping = true;
    /* shutdown wakes a fiber parked in accept/recv/send; the fibers close their own fds. */
    if (s->pg.fd >= 0)
        shutdown(s->pg.fd, SHUT_RDWR);
    if (s->http.fd >= 0)
        shutdown(s->http.fd, SHUT_RDWR);
    for (net_conn_t *c = s->conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    for (int waited = 0; (s->conns_count || s->accept_fibers) && waited < LIMIT_NET_STOP_WAIT_MS;
         waited += 10)
        rt_sleep_ms(10);
    if (s->conns_count || s->accept_fibers) {
        /* Leave the registry in place: fibers still running will unlink themselves. */
        log_warn("net: %d connections and %d listeners still open at shard stop",
                 s->conns_count, s->accept_fibers);
        return;
    }
    net.shards[id] = NULL;
    rt_free(s);
}
