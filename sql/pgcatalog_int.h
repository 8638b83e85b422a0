/*
 * pgcatalog_int.h -- facts shared by the virtual catalog tables (sql/pgcatalog.c) and
 * the catalog functions (sql/builtins_catalog.c), so pg_class and pg_table_is_visible,
 * pg_index and pg_get_indexdef always describe the same relations.
 *
 * Model: a relation is one of three kinds: a user table of the catalog_t snapshot, the
 * implicit primary-key index of a user table, or one of the virtual tables themselves.
 * pgcat__rel_by_oid resolves an OID to one of them. Roles and namespaces are fixed
 * (NextDB has no role catalog and no CREATE SCHEMA yet); see sql/PGCATALOG.md.
 *
 * Interface:
 *   pgcat__rel_by_oid     OID -> relation description (user table, pk index, view)
 *   pgcat__rel_visible    pg_table_is_visible's rule for a resolved relation
 *   pgcat__ns_name        namespace OID -> name, NULL if none
 *   pgcat__role_name      role OID -> name, NULL if none
 *   pgcat__vtab_relkind   'r' for catalog tables, 'v' for the system views
 *   pgcat__quote_ident    PostgreSQL's quote_identifier
 *   pgcat__pk_name        name of a table's primary-key constraint and index
 *   builtins_catalog      the catalog functions' builtin_t table (builtins_catalog.c)
 *
 * Thread: any; everything here is read-only.
 */
#ifndef NEXTDB_PGCATALOG_INT_H
#define NEXTDB_PGCATALOG_INT_H
#include "core/strbuf.h"
#include "sql/builtins.h"
#include "sql/catalog.h"
#include "sql/pgcatalog.h"

#define PGCAT_NS_PG_TOAST          99     /* PostgreSQL's pg_toast namespace */
#define PGCAT_ROLE_DB_OWNER        6171   /* pg_database_owner, owner of public */
#define PGCAT_AM_HEAP              2
#define PGCAT_AM_BTREE             403
#define PGCAT_AM_HASH              405
#define PGCAT_AM_HNSW              8101   /* pgvector's hnsw, built in (an OID of ours) */
#define PGCAT_COLL_DEFAULT         100
#define PGCAT_COLL_C               950
#define PGCAT_TABLESPACE_DEFAULT   1663
#define PGCAT_TABLESPACE_GLOBAL    1664
#define PGCAT_DATABASE_OID         5      /* PostgreSQL's OID of "postgres" */
#define PGCAT_ENCODING_UTF8        6

typedef enum pgcat__rel_kind {
    PGCAT_REL_TABLE = 1,          /* a user table of the snapshot */
    PGCAT_REL_PK_INDEX = 2,       /* a user table's implicit primary-key index */
    PGCAT_REL_VTAB = 3,           /* a virtual catalog table or view */
    PGCAT_REL_VINDEX = 4,         /* an HNSW index of a user table (sql/vindex.h) */
    PGCAT_REL_INDEX = 5,          /* a secondary (btree / hash) index (sql/secindex.h) */
} pgcat__rel_kind_t;

typedef struct pgcat__rel {
    pgcat__rel_kind_t kind;
    uint32_t oid;
    uint32_t namespace_oid;
    const char *name;             /* owned by the snapshot or static */
    char relkind;                 /* pg_class.relkind */
    const cat_table_t *table;     /* TABLE, PK_INDEX: the (owning) table */
    const pgcat_vtab_t *vtab;     /* VTAB */
    const cat_vindex_t *vindex;   /* VINDEX (table: its table) */
    const cat_index_t *index;     /* INDEX (table: its table) */
} pgcat__rel_t;

/* The catalog functions (sql/builtins_catalog.c); builtin_resolve searches them too. */
extern const builtin_t builtins_catalog[];
extern const int builtins_catalog_count;

/* Resolves oid among user tables, their pk indexes and the virtual tables; false if
 * no relation has it. c may be NULL (then only virtual tables resolve). */
bool pgcat__rel_by_oid(const catalog_t *c, uint32_t oid, pgcat__rel_t *out);
/* pg_table_is_visible: the search path is pg_catalog (implicitly first), then public;
 * a relation is visible when no earlier schema of the path has one of that name. */
bool pgcat__rel_visible(const catalog_t *c, const pgcat__rel_t *rel);
const char *pgcat__ns_name(uint32_t namespace_oid);
/* user is the connected role, which NextDB shows as the bootstrap superuser (OID 10). */
const char *pgcat__role_name(uint32_t role_oid, const char *user);
char pgcat__vtab_relkind(const pgcat_vtab_t *vt);
/* Appends s, double-quoted (inner quotes doubled) unless it is a plain lower-case
 * identifier that is not a reserved keyword, as PostgreSQL's quote_identifier does. */
void pgcat__quote_ident(const char *s, strbuf_t *out);
/* pg_get_indexdef(oid) (builtins_catalog.c), for pg_indexes: *isnull for a non-index. */
int pgcat__index_def(const catalog_t *c, arena_t *a, uint32_t oid, datum_t *out, bool *isnull, sql_error_t *err);
/* CHECK ('c') and FOREIGN KEY ('f') constraints in pg_constraint (pgcatalog_cons.c):
 * the OID of t's k-th one (0 beyond the encodable range), the reverse look-up, and
 * pg_get_constraintdef's text. */
uint32_t pgcat__con_oid(const cat_table_t *t, char kind, int k);
bool pgcat__con_by_oid(const catalog_t *c, uint32_t oid, const cat_table_t **t, char *kind, int *k);
void pgcat__con_def(const catalog_t *c, const cat_table_t *t, char kind, int k, bool pretty, strbuf_t *out);
/* The primary-key constraint (and index) name; tab must have a primary key. */
const char *pgcat__pk_name(const cat_table_t *tab);
#endif
