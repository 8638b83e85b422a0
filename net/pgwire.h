/*
 * pgwire.h -- one PostgreSQL protocol v3 connection, served by one fiber on the shard
 * that accepted it.
 *
 * Why: psql, libpq, JDBC, psycopg, node-postgres and pgbench must work unchanged, so
 * the server speaks PostgreSQL 15's frontend/backend protocol, byte for byte.
 *
 * Model: pgwire_serve runs the connection start to end:
 *   startup   SSLRequest / GSSENCRequest answered 'N'; CancelRequest routed by its
 *             key (net__cancel) and the socket closed; protocol 3.x startup packet
 *             (minor > 0 or _pq_ options answered with NegotiateProtocolVersion).
 *   auth      hba rule for (database, user, peer): trust, reject, or SCRAM-SHA-256
 *             (AuthenticationSASL / SASLContinue / SASLFinal); then AuthenticationOk,
 *             ParameterStatus for each reported setting, BackendKeyData,
 *             ReadyForQuery.
 *   queries   simple ('Q') and extended (Parse/Bind/Describe/Execute/Close/Flush/
 *             Sync) messages mapped onto sql/session.h; after an error in an
 *             extended message every message is skipped until Sync.
 * Input: blocking-style rt_recv into a per-connection buffer of
 * LIMIT_PG_READ_BUFFER_BYTES that grows only for a larger message (<=
 * LIMIT_PG_MESSAGE_BYTES) and shrinks back. Output: messages are built in a
 * per-connection strbuf and sent only when a reply must reach the client: at
 * ReadyForQuery, on Flush, before the fiber blocks on a read (the auth exchanges),
 * and when more than LIMIT_PG_OUTPUT_FLUSH_BYTES wait.
 * Byte formats live in net/pgproto.c.
 *
 * Interface:
 *   pgwire_serve   fiber body for an accepted socket (arg = fd cast to a pointer)
 *
 * Limits: startup <= LIMIT_PG_STARTUP_BYTES, auth messages <=
 * LIMIT_PG_AUTH_MESSAGE_BYTES, other messages <= LIMIT_PG_MESSAGE_BYTES, connections
 * <= LIMIT_PG_CONNECTIONS. COPY is not supported yet (the engine answers 0A000).
 *
 * Thread: the accepting shard, inside the connection's own fiber.
 */
#ifndef NEXTDB_PGWIRE_H
#define NEXTDB_PGWIRE_H
void pgwire_serve(void *arg);
#endif
