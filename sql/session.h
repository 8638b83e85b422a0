/*
 * session.h -- the SQL engine as a client connection sees it: the interface between
 * the protocol front ends (net/pgwire.c, net/http.c) and sql/.
 *
 * Model: one sql_session_t per client connection, living on the shard that accepted
 * the connection (its coordinator). Every call runs inside that connection's fiber
 * and may suspend it (waiting for other shards or the WAL); none blocks the core.
 * Results flow out through an sql_sink_t the front end implements, so the engine
 * never formats wire bytes and the same engine serves PostgreSQL clients and HTTP.
 *
 * Errors: calls return -1 and fill the sql_error_t; the session then is in the state
 * PostgreSQL would be in (an error inside BEGIN..COMMIT leaves the transaction
 * aborted, status 'E', until ROLLBACK). Front ends send the error and carry on.
 *
 * Thread: the owning shard's thread, inside a fiber, except sql_engine_init.
 */
#ifndef NEXTDB_SESSION_H
#define NEXTDB_SESSION_H
#include <stdbool.h>
#include <stdint.h>
#include "sql/error.h"
#include "sql/types.h"

typedef struct sql_session sql_session_t;

typedef struct sql_coldesc {
    const char *name;
    uint32_t table_oid;      /* 0 if not a plain column of a table */
    int16_t attnum;          /* 0 if not a plain column */
    type_oid_t type;
    int16_t typlen;
    int32_t typmod;
} sql_coldesc_t;

typedef struct sql_sink {
    void *ctx;
    /* A statement that returns rows describes them before its first row (simple
     * protocol only; the extended protocol asks with sql_describe_portal). */
    int (*describe)(void *ctx, int ncols, const sql_coldesc_t *cols);
    /* One row; non-zero return stops the statement (client gone). */
    int (*row)(void *ctx, int ncols, const datum_t *vals, const bool *nulls);
    /* CommandComplete tag, e.g. "SELECT 3", "INSERT 0 1", "UPDATE 2", "BEGIN". */
    int (*complete)(void *ctx, const char *tag);
    /* Simple query with an empty statement list. */
    int (*empty)(void *ctx);
    /* NOTICE / WARNING; e->severity says which. */
    int (*notice)(void *ctx, const sql_error_t *e);
    /* A GUC_REPORT setting changed (client_encoding, DateStyle, application_name, ...). */
    int (*param_status)(void *ctx, const char *name, const char *value);
    /* COPY FROM STDIN data (NULL where the front end cannot stream it): the first call
     * asks the client for the data (CopyInResponse, ncols text columns); each call
     * returns 1 with the next chunk in *data / *len (valid until the next call), 0 at
     * the end of the data, -1 + err when the client failed the COPY or left. */
    int (*copy_in)(void *ctx, int ncols, const uint8_t **data, size_t *len, sql_error_t *err);
    /* COPY ... TO STDOUT (NULL where the front end cannot send it): kind 'H' starts it
     * (CopyOutResponse, ncols text columns), 'd' sends one row (CopyData of data/len),
     * 'c' ends it (CopyDone). Non-zero return: the client went away. */
    int (*copy_out)(void *ctx, char kind, int ncols, const uint8_t *data, size_t len);
} sql_sink_t;

typedef struct sql_startup_param { const char *name, *value; } sql_startup_param_t;

/* Process-wide setup, on the main thread before rt_start: data directory, shard
 * count. Per-shard setup runs in sql_shard_init (from rt's shard_init hook: opens the
 * shard's store, loads the catalog). */
/* Registers the SQL layer's metrics (lock waits, deadlocks); before the shards start. */
void sql_register_metrics(void);
int sql_engine_init(const char *data_dir, int shards_count);
int sql_shard_init(int shard_id);
void sql_shard_fini(int shard_id);

/* New session for an authenticated user; startup params (database, application_name,
 * client_encoding, DateStyle, options...) are applied like SET. NULL + err on bad
 * params (e.g. unsupported client_encoding, 22023). */
sql_session_t *sql_session_new(const char *user, const char *database,
                               int nparams, const sql_startup_param_t *params,
                               sql_error_t *err);
/* Ends the session: rolls back an open transaction, frees everything. */
void sql_session_free(sql_session_t *s);
/* Calls cb for each (name, value) PostgreSQL reports in ParameterStatus at startup:
 * application_name, client_encoding, DateStyle, default_transaction_read_only,
 * in_hot_standby, integer_datetimes, IntervalStyle, is_superuser, server_encoding,
 * server_version, session_authorization, standard_conforming_strings, TimeZone. */
void sql_session_report_params(sql_session_t *s,
                               void (*cb)(void *ctx, const char *name, const char *value),
                               void *ctx);
char sql_txn_status(const sql_session_t *s);       /* 'I' idle, 'T' in txn, 'E' failed txn */
/* What pg_stat_activity and pg_backend_pid() show for the connection: the front end's
 * process id (BackendKeyData, > 0), the peer's address text and port (NULL / -1 for
 * none), and whether it is the HTTP endpoint's session. */
void sql_session_set_client(sql_session_t *s, int32_t pid, const char *addr, int port, bool http);
/* Sets the cancel flag; the running statement stops at its next check with 57014
 * "canceling statement due to user request". Safe from any fiber of the owning shard. */
void sql_cancel(sql_session_t *s);

/* ---- simple protocol ---- */
/* Runs every statement in the string, in order, through the sink. Stops at the first
 * error (returns -1); statements before it stay done. Implicit transaction rules of
 * PostgreSQL's simple protocol apply to a multi-statement string. */
int sql_exec_simple(sql_session_t *s, const char *sql, size_t len, sql_sink_t *sink,
                    sql_error_t *err);

/* ---- extended protocol ---- */
/* Parse: name "" is the unnamed statement (replaced silently); a named one that
 * exists is 42P05. param_types may hold 0 (= infer). One statement only (42601 for
 * several). */
int sql_prepare(sql_session_t *s, const char *name, const char *sql, size_t len,
                int nparams, const type_oid_t *param_types, sql_error_t *err);
/* Describe statement: parameter types (inferred) and result columns (*ncols = -1 for
 * a statement that returns no rows = NoData). Arrays valid until the statement is
 * closed. 26000 if unknown. */
int sql_describe_statement(sql_session_t *s, const char *name, int *nparams,
                           const type_oid_t **param_types, int *ncols,
                           const sql_coldesc_t **cols, sql_error_t *err);
/* Bind: values[i] NULL = SQL NULL; formats as in the protocol (0 entries = all text,
 * 1 = applies to all, n = one each). Result formats are kept with the portal and
 * handed back by sql_describe_portal / used by the front end. "" = unnamed portal. */
int sql_bind(sql_session_t *s, const char *portal, const char *stmt,
             int nformats, const int16_t *formats,
             int nvalues, const uint8_t *const *values, const int32_t *lengths,
             int nresult_formats, const int16_t *result_formats, sql_error_t *err);
/* Describe portal: result columns (*ncols = -1 = NoData) and per-column formats
 * resolved to one per column (0 text, 1 binary). 34000 if unknown. */
int sql_describe_portal(sql_session_t *s, const char *portal, int *ncols,
                        const sql_coldesc_t **cols, const int16_t **formats,
                        sql_error_t *err);
/* Execute: max_rows 0 = all. Returns 0 when the portal ran to completion (tag sent
 * through sink->complete), 1 when suspended after max_rows rows (PortalSuspended;
 * a later sql_execute continues), -1 on error. */
int sql_execute(sql_session_t *s, const char *portal, int64_t max_rows, sql_sink_t *sink,
                sql_error_t *err);
int sql_close_statement(sql_session_t *s, const char *name);   /* missing = no-op */
int sql_close_portal(sql_session_t *s, const char *name);
/* Sync: ends the implicit transaction of the extended protocol (commits it, or rolls
 * it back after an error). Returns -1 with err if the commit itself failed. */
int sql_sync(sql_session_t *s, sql_error_t *err);

/* ---- HTTP convenience ---- */
/* Runs one statement with text parameters (values[i] NULL = NULL) as an implicit
 * transaction (parse, bind with inferred types, execute, commit). */
int sql_exec_params(sql_session_t *s, const char *sql, size_t len, int nvalues,
                    const char *const *values, sql_sink_t *sink, sql_error_t *err);
#endif
