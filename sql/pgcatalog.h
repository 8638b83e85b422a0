/*
 * pgcatalog.h -- pg_catalog and information_schema as virtual tables.
 *
 * Why: psql's \d family, pgbench, JDBC and psycopg query the system catalogs; these
 * views are computed from the current catalog_t snapshot (and static facts: types,
 * built-in functions, settings) and then run through the normal engine (filters,
 * joins, sorts), so no client query is special-cased.
 *
 * Model: each virtual table has a fixed column list (names and types as PostgreSQL 15
 * defines them, a useful subset of columns) and a generator that emits all its rows
 * for one catalog snapshot. The executor treats a virtual table as a table that lives
 * on the coordinator: it calls pgcat_scan and filters/joins like any other input.
 *
 * Thread: any shard thread.
 */
#ifndef NEXTDB_PGCATALOG_H
#define NEXTDB_PGCATALOG_H
#include "sql/catalog.h"
#include "sql/types.h"

struct sql_activity;

typedef struct pgcat_col { const char *name; type_oid_t type; } pgcat_col_t;

typedef struct pgcat_vtab {
    const char *name;             /* "pg_class" */
    uint32_t namespace_oid;       /* CAT_NS_PG_CATALOG or CAT_NS_INFO_SCHEMA */
    uint32_t oid;                 /* PostgreSQL's OID for the relation (pg_class = 1259) */
    int ncols;
    const pgcat_col_t *cols;
} pgcat_vtab_t;

/* Facts about the asking session that some views show. */
typedef struct pgcat_ctx {
    const catalog_t *catalog;
    const char *user;
    const char *database;
    /* settings for pg_settings: name/value pairs, count */
    int nsettings;
    const char *const *setting_names;
    const char *const *setting_values;
    /* pg_stat_activity's sessions (activity_gather; NULL = none to show) */
    int (*activity)(arena_t *a, struct sql_activity **rows, int *n, sql_error_t *err);
} pgcat_ctx_t;

/* Looks up a virtual table by namespace and name; NULL if none. */
const pgcat_vtab_t *pgcat_lookup(uint32_t namespace_oid, const char *name);
/* Emits every row: emit(arg, vals, nulls) with ncols values typed as declared, strings
 * allocated in a. Returns 0, or the first non-zero emit result, or -1 + err. */
int pgcat_scan(const pgcat_vtab_t *vt, const pgcat_ctx_t *ctx, arena_t *a,
               int (*emit)(void *arg, const datum_t *vals, const bool *nulls), void *arg,
               sql_error_t *err);
/* Number and entries of the table list (for pg_class rows of the views themselves). */
int pgcat_count(void);
const pgcat_vtab_t *pgcat_at(int i);
#endif
