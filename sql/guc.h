/*
 * guc.h -- run-time settings ("GUCs"): SET / SHOW / RESET, set_config /
 * current_setting, startup parameters and ParameterStatus reports.
 *
 * Model: a static table of known settings (name, boot value, flags: GUC_REPORT sends
 * ParameterStatus on change, read-only ones refuse SET with 55P02) and a per-session
 * array of current values. Inside a transaction (guc_txn_begin) every SET records
 * the value the setting had before the transaction: ROLLBACK restores it; COMMIT
 * keeps the last plain SET and drops SET LOCAL values, as PostgreSQL does. Names are case-insensitive, as in PostgreSQL; unknown names
 * are 42704 'unrecognized configuration parameter "x"'. Values are validated where
 * NextDB implements only one behaviour (client_encoding must be UTF8, TimeZone a known zone,
 * DateStyle ISO).
 *
 * Interface:
 *   guc_new / guc_free             per-session values
 *   guc_get                        current value by name
 *   guc_set                        SET / SET LOCAL / RESET (value NULL)
 *   guc_reset_all                  RESET ALL
 *   guc_txn_begin                  later SETs belong to the open transaction
 *   guc_txn_end                    COMMIT (drop SET LOCAL) or ROLLBACK (undo all SETs)
 *   guc_set_level / guc_rollback_to  savepoints: ROLLBACK TO undoes the SETs made since
 *   guc_count / guc_at             iterate (SHOW ALL, pg_settings)
 *   guc_timeout_ms                 parse a time setting into milliseconds
 *
 * Thread: the session's shard.
 */
#ifndef NEXTDB_GUC_H
#define NEXTDB_GUC_H
#include <stdbool.h>
#include <stdint.h>
#include "sql/error.h"

typedef struct guc_set guc_set_t;

guc_set_t *guc_new(const char *user);
void guc_free(guc_set_t *g);
/* Value of `name` (canonical name in *canon when not NULL); -1 + 42704 if unknown
 * (or 0 with *value NULL when missing_ok). */
int guc_get(const guc_set_t *g, const char *name, bool missing_ok, const char **value, const char **canon,
            sql_error_t *err);
/* Sets (value NULL = reset to the default). *report is set when the change must be
 * sent as ParameterStatus. */
int guc_set(guc_set_t *g, const char *name, const char *value, bool is_local, bool *report,
            const char **canon, sql_error_t *err);
/* RESET ALL: every setting but the read-only ones and session_authorization back to
 * its default, each as guc_set(value NULL) (so a rollback undoes it inside a
 * transaction); report(ctx, name, value) for each change to send as ParameterStatus
 * (report may be NULL). 0, or -1 + err (out of memory). */
int guc_reset_all(guc_set_t *g, int (*report)(void *ctx, const char *name, const char *value),
                  void *ctx, sql_error_t *err);
/* Marks a transaction open: from now on plain SETs are undone by a rollback.
 * Idempotent. */
void guc_txn_begin(guc_set_t *g);
/* Ends it: commit keeps plain SETs and reverts SET LOCAL ones; rollback reverts
 * every setting changed since guc_txn_begin (and SET LOCAL ones made before it). */
void guc_txn_end(guc_set_t *g, bool commit);
/* Savepoints (numbered as in shards/store.h "savepoints"): SETs made while level is
 * the newest live savepoint remember the state before them; guc_rollback_to(level)
 * puts back every setting changed at a level >= level. guc_txn_end forgets them. */
void guc_set_level(guc_set_t *g, uint32_t level);
void guc_rollback_to(guc_set_t *g, uint32_t level);
int guc_count(void);
/* i-th setting: name, value, description, whether it is GUC_REPORT. */
void guc_at(const guc_set_t *g, int i, const char **name, const char **value, const char **desc, bool *report);
/* Milliseconds of a time setting ("5s", "100", "1min"); 0 when unset. */
uint64_t guc_timeout_ms(const guc_set_t *g, const char *name);
/* True when the settings table is in case-insensitive name order (lookups rely on it). */
bool guc_table_sorted(void);
#endif
