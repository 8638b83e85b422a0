/*
 * net.h -- the network front ends' entry points: the PostgreSQL wire protocol port
 * and the HTTP/JSON + Prometheus port, started on every shard.
 *
 * Why: core/main.c needs one small interface to bring the listeners up and down; the
 * protocol details live in net/pgwire.c and net/http.c behind it.
 *
 * Model: net_init (main thread) loads DATA/hba.conf and DATA/users.conf and
 * registers the metrics. Each shard then calls net_shard_start from its shard_init:
 * it listens on both ports with SO_REUSEPORT (the kernel spreads connections across
 * shards) and runs one accept fiber per port; every accepted connection becomes a
 * fiber on that shard for its whole life (DESIGN.md section 1, "connections stay
 * where they land"). net_shard_stop closes the listeners and ends the connections.
 *
 * Interface:
 *   net_init           load auth config, register metrics (main thread, before rt_start)
 *   net_shard_start    listen + accept fibers on the current shard (in shard_init)
 *   net_shard_stop     stop accepting, close connections (in shard_fini)
 *   net_hash_password  SCRAM-SHA-256 verifier for users.conf
 *
 * Limits: LIMIT_PG_CONNECTIONS / LIMIT_HTTP_CONNECTIONS across the process; message
 * and request sizes as in core/limits.h (LIMIT_PG_*, LIMIT_HTTP_*).
 *
 * Thread: net_init and net_hash_password on any thread before rt_start;
 * net_shard_start / net_shard_stop on a shard thread inside a fiber.
 */
#ifndef NEXTDB_NET_H
#define NEXTDB_NET_H
#include "core/strbuf.h"

typedef struct net_config {
    const char *listen_addr;     /* "127.0.0.1" default; "*" or "0.0.0.0" = all */
    int pg_port;                 /* 5433 */
    int http_port;               /* 8080; 0 = HTTP disabled */
    const char *data_dir;        /* hba.conf and users.conf live here (optional) */
} net_config_t;

/* Main thread, before rt_start: loads DATA/hba.conf (absent = trust for loopback,
 * reject others) and DATA/users.conf, registers metrics; 0 or -1 with a logged reason. */
int net_init(const net_config_t *cfg);
/* In each shard's shard_init: rt_listen_tcp on both ports (SO_REUSEPORT: every shard
 * listens), spawns accept fibers; 0 or -errno. */
int net_shard_start(void);
/* In shard_fini: stop accepting, close connections (waits up to
 * LIMIT_NET_STOP_WAIT_MS for their fibers to finish). */
void net_shard_stop(void);
/* SCRAM verifier "SCRAM-SHA-256$4096:<salt b64>$<StoredKey b64>:<ServerKey b64>" as
 * PostgreSQL stores it, appended to verifier. 0 or -1. */
int net_hash_password(const char *password, strbuf_t *verifier);
#endif
