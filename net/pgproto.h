/*
 * pgproto.h -- PostgreSQL frontend/backend protocol v3 message formats: parsing of
 * frontend messages and building of backend messages over plain byte buffers.
 *
 * Why: the connection code (net/pgwire.c) deals with sockets, fibers and the SQL
 * engine; keeping every byte-level decision here, with no I/O, makes the framing
 * testable on its own and keeps the rule "check every length and count against the
 * bytes that remain before using it" in one place.
 *
 * Model:
 *   - pgproto_reader_t walks one message body; every getter checks the remaining
 *     bytes first and on failure records PostgreSQL's wording ("insufficient data left
 *     in message", "invalid string in message", "invalid message format"); the first
 *     failure sticks, so parsers check once at the end.
 *   - Parsers for the startup packet and each frontend message fill structs whose
 *     strings and value pointers point into the message buffer (valid while it is);
 *     arrays come from a caller arena.
 *   - Builders append complete backend messages (type byte, int32 length patched
 *     after the body) to a strbuf.
 *
 * Interface:
 *   pgproto_reader_init / _u8 / _i16 / _i32 / _str / _bytes / _end
 *   pgproto_parse_startup  startup packet body -> SSL/GSS/cancel/startup
 *   pgproto_parse_parse / _bind / _describe / _execute / _sasl_initial
 *   pgproto_begin / pgproto_end, pgproto_put_error, pgproto_put_rowdesc, ...
 *
 * Limits: startup <= LIMIT_PG_STARTUP_BYTES with <= LIMIT_PG_STARTUP_PARAMS pairs;
 * counts are int16 as the protocol carries them and each must fit the bytes left.
 *
 * Thread: any; pure functions.
 */
#ifndef NEXTDB_PGPROTO_H
#define NEXTDB_PGPROTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/limits.h"
#include "core/strbuf.h"
#include "sql/error.h"
#include "sql/session.h"

#define PGPROTO_VERSION(major, minor) (((uint32_t)(major) << 16) | (uint32_t)(minor))
#define PGPROTO_CODE_CANCEL 80877102u   /* 1234.5678 */
#define PGPROTO_CODE_SSL 80877103u      /* 1234.5679 */
#define PGPROTO_CODE_GSSENC 80877104u   /* 1234.5680 */

typedef struct pgproto_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    const char *error;     /* NULL while fine; a static PostgreSQL message text */
} pgproto_reader_t;

void pgproto_reader_init(pgproto_reader_t *r, const void *p, size_t len);
uint8_t pgproto_u8(pgproto_reader_t *r);
int16_t pgproto_i16(pgproto_reader_t *r);
int32_t pgproto_i32(pgproto_reader_t *r);
/* A NUL-terminated string inside the message; "" after an error. */
const char *pgproto_str(pgproto_reader_t *r);
/* n raw bytes; NULL after an error (or n < 0). */
const uint8_t *pgproto_bytes(pgproto_reader_t *r, int32_t n);
/* Records "invalid message format" unless every byte was consumed; returns 0 when
 * the whole parse succeeded, -1 otherwise. */
int pgproto_end(pgproto_reader_t *r);

enum pgproto_startup_kind { PGPROTO_STARTUP = 1, PGPROTO_SSL = 2, PGPROTO_GSSENC = 3,
                            PGPROTO_CANCEL = 4 };

typedef struct pgproto_startup {
    int kind;                           /* enum pgproto_startup_kind */
    uint32_t version;                   /* PGPROTO_STARTUP */
    int32_t cancel_pid, cancel_secret;  /* PGPROTO_CANCEL */
    int nparams;
    sql_startup_param_t params[LIMIT_PG_STARTUP_PARAMS];
    const char *user, *database;        /* NULL if absent */
} pgproto_startup_t;

/* Parses a startup packet body (after its int32 length). Returns 0, or -1 with err
 * set (08P01 for malformed, 0A000 for an unsupported protocol major). Only
 * well-formedness is checked here; minor versions and _pq_ options are the caller's. */
int pgproto_parse_startup(const uint8_t *body, size_t len, pgproto_startup_t *out,
                          sql_error_t *err);

typedef struct pgproto_parse {
    const char *name, *query;
    size_t query_len;
    int nparams;
    type_oid_t *param_types;            /* arena */
} pgproto_parse_t;

typedef struct pgproto_bind {
    const char *portal, *stmt;
    int nformats;
    int16_t *formats;
    int nvalues;
    const uint8_t **values;             /* NULL = SQL NULL */
    int32_t *lengths;
    int nresult_formats;
    int16_t *result_formats;
} pgproto_bind_t;

/* Each parser: 0, or -1 with err (08P01 with the protocol wording, 53200 if the
 * arena is exhausted, 22P03/08P01 for bad format codes). */
int pgproto_parse_parse(const uint8_t *body, size_t len, arena_t *a, pgproto_parse_t *out,
                        sql_error_t *err);
int pgproto_parse_bind(const uint8_t *body, size_t len, arena_t *a, pgproto_bind_t *out,
                       sql_error_t *err);
/* Describe and Close: kind 'S' or 'P' and a name; what ("DESCRIBE" / "CLOSE") names
 * the message in the error for a bad subtype. */
int pgproto_parse_target(const uint8_t *body, size_t len, const char *what, char *kind,
                         const char **name, sql_error_t *err);
int pgproto_parse_execute(const uint8_t *body, size_t len, const char **portal,
                          int32_t *max_rows, sql_error_t *err);
int pgproto_parse_query(const uint8_t *body, size_t len, const char **sql, size_t *sql_len,
                        sql_error_t *err);
/* SASLInitialResponse: mechanism and initial data (data NULL when length is -1). */
int pgproto_parse_sasl_initial(const uint8_t *body, size_t len, const char **mechanism,
                               const uint8_t **data, int32_t *data_len, sql_error_t *err);
/* A message that must be empty (Sync, Flush, Terminate). */
int pgproto_parse_empty(const uint8_t *body, size_t len, sql_error_t *err);

/* ---- backend messages ---- */
/* Starts a message of the given type; returns the offset to hand to pgproto_end. */
size_t pgproto_begin(strbuf_t *sb, char type);
void pgproto_finish(strbuf_t *sb, size_t start);

/* ErrorResponse ('E') or NoticeResponse ('N') with S, V, C, M, D, H, P fields as
 * present; severity defaults to "ERROR". */
void pgproto_put_error(strbuf_t *sb, char type, const sql_error_t *e);
/* RowDescription; formats NULL = all text. */
void pgproto_put_rowdesc(strbuf_t *sb, int ncols, const sql_coldesc_t *cols,
                         const int16_t *formats);
void pgproto_put_paramdesc(strbuf_t *sb, int nparams, const type_oid_t *types);
void pgproto_put_auth(strbuf_t *sb, int32_t code, const void *data, size_t len);
void pgproto_put_param_status(strbuf_t *sb, const char *name, const char *value);
void pgproto_put_backend_key(strbuf_t *sb, int32_t pid, int32_t secret);
void pgproto_put_ready(strbuf_t *sb, char txn_status);
void pgproto_put_complete(strbuf_t *sb, const char *tag);
/* A message with no body: '1' ParseComplete, '2' BindComplete, '3' CloseComplete,
 * 'n' NoData, 'I' EmptyQueryResponse, 's' PortalSuspended. */
void pgproto_put_empty(strbuf_t *sb, char type);
/* NegotiateProtocolVersion: newest minor we support and the options we ignored. */
void pgproto_put_negotiate(strbuf_t *sb, uint32_t minor, int nopts, const char *const *opts);
#endif
