/*
 * sequence.h -- sequences: CREATE / DROP SEQUENCE, SERIAL and IDENTITY columns, and
 * nextval / currval / setval / lastval / pg_get_serial_sequence.
 *
 * Why: every web application's schema has serial ids. A sequence is a catalog relation
 * (relkind 'S', cat_seq_t holds its parameters) whose current value lives outside the
 * catalog, in shard 0's store under SEQ_STORE_TABLE_ID (key be32(oid), value be64
 * last_value + u8 is_called), so nextval never creates a catalog version.
 *
 * Model: shard 0 owns every sequence's value; nextval / setval travel there (rt_call)
 * and run one at a time (a busy flag + wait queue while a value is being made
 * durable), so concurrent nextval from any connections never returns a value twice.
 * Durability follows PostgreSQL's pre-logging: when the logged range is used up,
 * nextval writes the value SEQ_LOG_VALS steps ahead and waits until it is durable
 * before returning; after a crash the sequence resumes after the logged value, so a
 * value once returned is never returned again (the values logged but not handed out
 * are skipped, as in PostgreSQL). Like PostgreSQL, nextval and setval are not undone
 * by ROLLBACK. CACHE is accepted and recorded; values are handed out one at a time
 * from shard 0 (CACHE 1 behaviour: ordered across sessions).
 *
 * Per session: currval / lastval remember the last value per sequence in a small
 * seq_session_t (mutex-protected: a fragment on another shard may call nextval for the
 * session, e.g. UPDATE t SET x = nextval('s')).
 *
 * Interface:
 *   seq_options_apply    CREATE SEQUENCE / IDENTITY options -> cat_seq_t (PG's checks)
 *   seq_exec_create      CREATE SEQUENCE
 *   seq_exec_drop        DROP SEQUENCE
 *   seq_column_prepare   CREATE TABLE: the owned sequence of a SERIAL / IDENTITY column
 *   seq_session_new/free per-session currval state
 *   builtins_seq[]       the SQL functions (registered by builtins.c)
 *
 * Limits: CAT_OWNED_SEQS_MAX owned sequences per table; SEQ_SESSION_MAX sequences
 * remembered per session for currval (54000 beyond).
 *
 * Thread: any shard thread, inside fibers.
 */
#ifndef NEXTDB_SEQUENCE_H
#define NEXTDB_SEQUENCE_H
#include "sql/ast.h"
#include "sql/catalog.h"
#include "sql/error.h"

#define SEQ_LOG_VALS    32       /* values logged ahead per durable write (PostgreSQL's) */
#define SEQ_SESSION_MAX 4096     /* sequences one session can have used for currval */

struct exec_ctx;
typedef struct seq_session seq_session_t;
typedef void (*seq_notice_fn)(void *arg, const char *message);

/* Fills q from the options (names/values as sql/ast.h's seq), for a sequence named
 * name whose data type defaults to type (int8 for CREATE SEQUENCE, the column's type
 * for SERIAL / IDENTITY). 0, or -1 + err (22023 / 42601 / 0A000 as PostgreSQL). */
int seq_options_apply(const char *name, type_oid_t type, int nopts, const char *const *names,
                      const char *const *values, cat_seq_t *q, sql_error_t *err);
int seq_exec_create(struct exec_ctx *ctx, const ast_t *a, seq_notice_fn notice, void *narg, sql_error_t *err);
int seq_exec_drop(struct exec_ctx *ctx, const ast_t *a, seq_notice_fn notice, void *narg, sql_error_t *err);
/* For column cd (attnum, resolved type coltype) of new table `table`: builds the owned
 * sequence's definition in *seqdef (name "<table>_<col>_seq", a digit appended while
 * taken in the catalog c) and the column's default text in *default_sql. */
int seq_column_prepare(arena_t *a, const catalog_t *c, const char *table, const ast_coldef_t *cd,
                       type_oid_t coltype, cat_table_t *seqdef, const char **default_sql, sql_error_t *err);
/* Forgets a dropped sequence's value (shard 0's memory and store row). */
void seq_forget(uint32_t oid);

seq_session_t *seq_session_new(void);
void seq_session_free(seq_session_t *s);
#endif
