/*
 * net_int.h -- what net/net.c shares with the protocol modules (net/pgwire.c,
 * net/http.c): the per-shard connection registry, the loaded auth configuration and
 * the metric ids. Not for use outside net/.
 *
 * Model: every connection fiber embeds a net_conn_t and registers it on its shard
 * (net__conn_open) for its whole life; the registry lets a CancelRequest find a
 * session by its backend key and lets net_shard_stop close everything. The key's
 * process id encodes the owning shard: pid = shard << NET_PID_SHARD_SHIFT | sequence,
 * so a cancel that lands on any shard is posted to the right one.
 *
 * Thread: every function runs on the shard that owns the connection; net__hba is
 * read-only after net_init.
 */
#ifndef NEXTDB_NET_INT_H
#define NEXTDB_NET_INT_H
#include <stdbool.h>
#include <stdint.h>
#include "net/hba.h"
#include "sql/session.h"

#define NET_PID_SHARD_SHIFT 22
#define NET_PID_SEQ_MASK ((1 << NET_PID_SHARD_SHIFT) - 1)

typedef struct net_conn net_conn_t;
struct net_conn {
    net_conn_t *prev, *next;     /* shard registry */
    int fd;
    bool http;
    int32_t pid, secret;         /* BackendKeyData */
    sql_session_t *session;      /* NULL until authenticated (cancel ignores it) */
};

extern const hba_t *net__hba;
/* Per-process secret for the SCRAM mock verifiers of unknown users. */
#define NET_MOCK_KEY_BYTES 32
extern uint8_t net__mock_key[NET_MOCK_KEY_BYTES];
extern int net__m_connections, net__m_connections_total, net__m_queries_total,
    net__m_query_seconds, net__m_http_requests_total;

/* Registers c (fd already accepted) on the current shard, assigns pid and secret and
 * updates the connection metrics. Returns 0, or -1 when the process-wide connection
 * limit is exceeded (c is registered either way; call net__conn_close). */
int net__conn_open(net_conn_t *c, int fd, bool http);
/* Unregisters c and closes its socket. */
void net__conn_close(net_conn_t *c);
/* A CancelRequest for (pid, secret) arrived on this shard: routes it to the owning
 * shard, which cancels the session's running statement if the secret matches. */
void net__cancel(int32_t pid, int32_t secret);
/* Counts one finished query (metrics). */
void net__query_done(uint64_t start_us);
#endif
