/*
 * catalog.h -- the catalog: tables, columns, keys, namespaces, as an immutable
 * versioned snapshot replicated to every shard.
 *
 * Model (DESIGN.md section 2): core 0 owns the catalog. DDL runs on core 0, which
 * persists the change (catalog rows live in shard 0's store under the reserved
 * table id CAT_STORE_TABLE_ID, so the catalog is durable through shard 0's WAL),
 * builds a new catalog_t with version + 1 and broadcasts a pointer to it to every
 * shard; each shard swaps its current pointer. A catalog_t is never modified after
 * publication; a statement pins one version (catalog_ref/catalog_unref) from start
 * to end and binds only against it. Old versions are freed when their last reference
 * is dropped (reference counts are atomic: the only shared mutable word, since one
 * snapshot is read by many shards).
 *
 * OIDs: user tables get OIDs from 16384 up (FirstNormalObjectId), like PostgreSQL;
 * the table OID is also the storage table id. Namespaces: pg_catalog = 11,
 * public = 2200, information_schema = 13000 (any stable value), as PostgreSQL.
 *
 * Thread: catalog_current() on any shard thread; the snapshot it returns is read-only
 * and safe to read from any thread while referenced.
 */
#ifndef NEXTDB_CATALOG_H
#define NEXTDB_CATALOG_H
#include <stdbool.h>
#include <stdint.h>
#include "sql/types.h"

#define CAT_STORE_TABLE_ID   1          /* catalog rows in shard 0's store */
#define CAT_FIRST_USER_OID   16384
#define CAT_NS_PG_CATALOG    11
#define CAT_NS_PUBLIC        2200
#define CAT_NS_INFO_SCHEMA   13000
#define CAT_SUPERUSER_OID    10         /* the bootstrap role, as PostgreSQL */
#define SEQ_STORE_TABLE_ID   2          /* sequence values in shard 0's store (sql/sequence.c) */
#define CAT_OWNED_SEQS_MAX   32         /* SERIAL / IDENTITY columns per table: bounds the one
                                         * catalog change that creates or drops them */

typedef struct cat_column {
    const char *name;
    int16_t attnum;              /* 1-based, stable; dropped columns keep their slot */
    type_oid_t type;
    int32_t typmod;
    bool not_null;
    bool dropped;
    const char *default_sql;     /* DEFAULT expression as SQL text (deparsed), or NULL */
    char identity;               /* 0, 'a' GENERATED ALWAYS, 'd' BY DEFAULT AS IDENTITY: default_sql
                                  * then holds the nextval of the owned sequence */
    /* PostgreSQL's attmissingval (ALTER TABLE ADD COLUMN with a non-volatile
     * default): the value rows stored before the column existed read for it. Kept as
     * a one-column row encoding (missing_row, what the catalog persists) and decoded
     * once into `missing` (pointing into missing_row) for the scans. */
    bool has_missing;
    datum_t missing;
    const uint8_t *missing_row;
    uint32_t missing_row_len;
} cat_column_t;

/* A sequence (relkind 'S', CREATE SEQUENCE / SERIAL / IDENTITY, sql/sequence.h): its
 * definition lives here, its current value in shard 0's store (SEQ_STORE_TABLE_ID). */
typedef struct cat_seq {
    type_oid_t type;             /* int2, int4 or int8 (AS type) */
    int64_t start, increment, min, max, cache;
    bool cycle;
    uint32_t owner_table;        /* OWNED BY table (SERIAL / IDENTITY), 0 if none */
    int16_t owner_attnum;
} cat_seq_t;

/* An HNSW vector index (CREATE INDEX ... USING hnsw): one graph per shard over that
 * shard's rows (sql/vindex.h). Stored with its table. */
typedef struct cat_vindex {
    uint32_t oid;
    const char *name;
    int16_t attnum;              /* the indexed vector column */
    uint8_t metric;              /* distance_metric_t (vector/distance.h) */
    uint16_t m, ef_construction;
} cat_vindex_t;
/* A secondary index (CREATE [UNIQUE] INDEX on plain columns, or a UNIQUE constraint):
 * its entries are the store table `oid`, partitioned by index key (sql/secindex.h). */
typedef struct cat_index {
    uint32_t oid;
    const char *name;            /* in the table's namespace, unique among relations */
    bool unique;                 /* enforced by keyed entry inserts (sql/secindex.h) */
    bool constraint;             /* made by a UNIQUE constraint (pg_constraint contype 'u') */
    bool hash;                   /* USING hash (shown by pg_get_indexdef; stored alike) */
    int ncols;                   /* 1..LIMIT_SQL_INDEX_COLUMNS */
    int16_t *attnums;
} cat_index_t;

/* A FOREIGN KEY of the table: (attnums) references ref_table's primary key columns
 * ref_attnums (same order). Enforced by sql/constraints.c. Actions: 'a' NO ACTION,
 * 'r' RESTRICT, 'c' CASCADE, 'n' SET NULL, 'd' SET DEFAULT. */
typedef struct cat_fk {
    const char *name;            /* "<table>_<col>_fkey" by default */
    int ncols;                   /* 1..LIMIT_SQL_INDEX_COLUMNS */
    int16_t *attnums;
    uint32_t ref_table;
    int16_t *ref_attnums;
    char on_delete, on_update;
    bool match_full;
} cat_fk_t;

/* A CHECK constraint: its expression as SQL text over the table's columns. */
typedef struct cat_check { const char *name; const char *expr_sql; } cat_check_t;

typedef struct cat_table {
    uint32_t oid;                /* also the storage table id */
    uint32_t namespace_oid;
    const char *name;
    char relkind;                /* 'r' table, 'S' sequence, 'v' view (later) */
    int ncols;                   /* including dropped slots */
    cat_column_t *cols;
    int npk;                     /* 0 = hidden row id key */
    int16_t *pk_attnums;         /* attnums of the primary key, in key order */
    uint32_t pk_index_oid;       /* OID of the implicit "<table>_pkey" index, 0 if none */
    const char *pk_name;         /* constraint name, e.g. "t_pkey" */
    uint64_t create_ts;          /* HLC of creation */
    int nvindexes;               /* HNSW indexes on this table */
    cat_vindex_t *vindexes;
    int nindexes;                /* CREATE INDEX definitions, in creation order */
    cat_index_t *indexes;
    cat_seq_t *seq;              /* relkind 'S' only (ncols 0), else NULL */
    int nfks;                    /* FOREIGN KEY constraints of this (child) table */
    cat_fk_t *fks;
    int nchecks;                 /* CHECK constraints, checked on every written row */
    cat_check_t *checks;
    /* relkind 'v' (CREATE VIEW, sql/exec_view.c): the query as SQL text, bound again
     * wherever the view is used, and the relations it reads (tables and views, by
     * OID), which DROP refuses to remove while the view exists (2BP01) */
    const char *view_sql;
    int ndeps;
    uint32_t *deps;
    /* In memory only (never persisted): ALTER TABLE's rewrite (sql/exec_alter_type.c)
     * publishes the table with `rewriting` set while it copies the rows, and the new
     * definition with `moved_from` = the OID whose rows it replaced; writes to either
     * are refused (catalog_write_gate), so no write lands in rows being abandoned. */
    bool rewriting;
    uint32_t moved_from;
} cat_table_t;

typedef struct catalog {
    uint64_t version;
    int ntables;
    const cat_table_t **tables;  /* sorted by oid */
    /* implementation-private lookup structures may follow */
} catalog_t;

/* The current shard's newest snapshot, with a reference taken. */
const catalog_t *catalog_current(void);
void catalog_ref(const catalog_t *c);
/* The current shard's newest snapshot without taking a reference: valid only until
 * the calling fiber suspends (the shard swaps its pointer between fibers). For hot
 * paths that look something up and do not wait (sql/secindex.c). */
const catalog_t *catalog_peek(void);
void catalog_unref(const catalog_t *c);
/* Lookup by (namespace, name) and by oid; NULL when absent. */
const cat_table_t *catalog_table_by_name(const catalog_t *c, uint32_t namespace_oid,
                                         const char *name);
const cat_table_t *catalog_table_by_oid(const catalog_t *c, uint32_t oid);
/* The index named `name` in the namespace and its table; NULL when absent. */
/* Whether a table, index (plain or HNSW) or primary key of the namespace has this
 * name: they share PostgreSQL's pg_class namespace. */
bool catalog_relation_exists(const catalog_t *c, uint32_t namespace_oid, const char *name);
const cat_index_t *catalog_index_by_name(const catalog_t *c, uint32_t namespace_oid, const char *name,
                                         const cat_table_t **table);
/* The sequence owned by column attnum of table table_oid (SERIAL / IDENTITY), or NULL. */
const cat_table_t *catalog_owned_sequence(const catalog_t *c, uint32_t table_oid, int16_t attnum);
/* The first view (other than `except`) whose query reads relation oid, or NULL. */
const cat_table_t *catalog_view_depending(const catalog_t *c, uint32_t oid, uint32_t except);
/* 0 when rows of table_id may be written now, else -1 + err: 55006 while ALTER TABLE
 * rewrites the table, 40001 for the storage id of a table a rewrite replaced (a
 * statement bound before the switch). Every row write runs it (txn_write). */
struct sql_error;
int catalog_write_gate(uint32_t table_id, struct sql_error *err);
/* Whether the table has a UNIQUE index (writes must run the uniqueness check). */
bool catalog_table_has_unique(const cat_table_t *t);
#endif
