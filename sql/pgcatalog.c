/*
 * pgcatalog.c -- pg_catalog and information_schema as virtual tables; see
 * sql/pgcatalog.h for the contract and sql/PGCATALOG.md for the client queries these
 * tables serve and every place where they deviate from PostgreSQL 15.
 *
 * Each virtual table is a static column list (PostgreSQL 15's names, in PostgreSQL's
 * order, a useful subset) plus a generator. A generator fills one row at a time by
 * column NAME (pgcat__set_*), so a column list can grow without renumbering; columns
 * a generator does not set are NULL. Setters assert that the value's kind matches
 * the declared type, so a typo or a wrong kind is caught by the unit test.
 *
 * Datum forms used here (types.h, sql/types_io.c): bool/int2/int4/int8/oid/"char":
 * i64 ("char" holds the byte; 0 prints as the empty string); float4: f64;
 * name/text/varchar: vstr. int2vector / oidvector / smallint[] / oid[] columns hold
 * array datums (types.h); the scan builds them from PostgreSQL's text form ("1 2",
 * "{1,2}") through set_strn. Array columns NextDB has nothing to put in (ACLs,
 * options, ...) are text[] and always NULL.
 */
#include "sql/pgcatalog.h"

#include <stdio.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/activity.h"
#include "sql/builtins.h"
#include "sql/constraints.h"
#include "sql/pgcatalog_int.h"

/* ---- column lists ---- */

#define OID  TYPE_OID
#define NAM  TYPE_NAME
#define CHR  TYPE_CHAR
#define BOO  TYPE_BOOL
#define I2   TYPE_INT2
#define I4   TYPE_INT4
#define I8   TYPE_INT8
#define F4   TYPE_FLOAT4
#define TXT  TYPE_TEXT
#define VCH  TYPE_VARCHAR
#define TXA  TYPE_TEXTARRAY   /* array columns that are always NULL here */
#define TSZ  TYPE_TIMESTAMPTZ
/* int2vector / oidvector columns and the array columns that carry values. */
#define I2V  TYPE_INT2VECTOR
#define OIDV TYPE_OIDVECTOR
#define I2A  TYPE_INT2ARRAY
#define OIDA TYPE_OIDARRAY
#define CHRA TYPE_CHARARRAY

static const pgcat_col_t cols_class[] = {
    {"oid", OID}, {"relname", NAM}, {"relnamespace", OID}, {"reltype", OID},
    {"reloftype", OID}, {"relowner", OID}, {"relam", OID}, {"relfilenode", OID},
    {"reltablespace", OID}, {"relpages", I4}, {"reltuples", F4}, {"relallvisible", I4},
    {"reltoastrelid", OID}, {"relhasindex", BOO}, {"relisshared", BOO},
    {"relpersistence", CHR}, {"relkind", CHR}, {"relnatts", I2}, {"relchecks", I2},
    {"relhasrules", BOO}, {"relhastriggers", BOO}, {"relhassubclass", BOO},
    {"relrowsecurity", BOO}, {"relforcerowsecurity", BOO}, {"relispopulated", BOO},
    {"relreplident", CHR}, {"relispartition", BOO}, {"relrewrite", OID},
    {"relacl", TXA}, {"reloptions", TXA}, {"relpartbound", TXT},
};
static const pgcat_col_t cols_namespace[] = {
    {"oid", OID}, {"nspname", NAM}, {"nspowner", OID}, {"nspacl", TXA},
};
static const pgcat_col_t cols_attribute[] = {
    {"attrelid", OID}, {"attname", NAM}, {"atttypid", OID}, {"attstattarget", I4},
    {"attlen", I2}, {"attnum", I2}, {"attndims", I4}, {"attcacheoff", I4},
    {"atttypmod", I4}, {"attbyval", BOO}, {"attalign", CHR}, {"attstorage", CHR},
    {"attcompression", CHR}, {"attnotnull", BOO}, {"atthasdef", BOO},
    {"atthasmissing", BOO}, {"attidentity", CHR}, {"attgenerated", CHR},
    {"attisdropped", BOO}, {"attislocal", BOO}, {"attinhcount", I4},
    {"attcollation", OID}, {"attacl", TXA}, {"attoptions", TXA}, {"attfdwoptions", TXA},
};
static const pgcat_col_t cols_type[] = {
    {"oid", OID}, {"typname", NAM}, {"typnamespace", OID}, {"typowner", OID},
    {"typlen", I2}, {"typbyval", BOO}, {"typtype", CHR}, {"typcategory", CHR},
    {"typispreferred", BOO}, {"typisdefined", BOO}, {"typdelim", CHR}, {"typrelid", OID},
    {"typelem", OID}, {"typarray", OID}, {"typalign", CHR}, {"typstorage", CHR},
    {"typnotnull", BOO}, {"typbasetype", OID}, {"typtypmod", I4}, {"typndims", I4},
    {"typcollation", OID}, {"typdefaultbin", TXT}, {"typdefault", TXT}, {"typacl", TXA},
};
static const pgcat_col_t cols_index[] = {
    {"indexrelid", OID}, {"indrelid", OID}, {"indnatts", I2}, {"indnkeyatts", I2},
    {"indisunique", BOO}, {"indnullsnotdistinct", BOO}, {"indisprimary", BOO},
    {"indisexclusion", BOO}, {"indimmediate", BOO}, {"indisclustered", BOO},
    {"indisvalid", BOO}, {"indcheckxmin", BOO}, {"indisready", BOO}, {"indislive", BOO},
    {"indisreplident", BOO}, {"indkey", I2V}, {"indcollation", OIDV},
    {"indoption", I2V}, {"indexprs", TXT}, {"indpred", TXT},
};
static const pgcat_col_t cols_constraint[] = {
    {"oid", OID}, {"conname", NAM}, {"connamespace", OID}, {"contype", CHR},
    {"condeferrable", BOO}, {"condeferred", BOO}, {"convalidated", BOO}, {"conrelid", OID},
    {"contypid", OID}, {"conindid", OID}, {"conparentid", OID}, {"confrelid", OID},
    {"confupdtype", CHR}, {"confdeltype", CHR}, {"confmatchtype", CHR},
    {"conislocal", BOO}, {"coninhcount", I4}, {"connoinherit", BOO}, {"conkey", I2A},
    {"confkey", I2A}, {"conbin", TXT},
};
static const pgcat_col_t cols_am[] = {
    {"oid", OID}, {"amname", NAM}, {"amhandler", TXT}, {"amtype", CHR},
};
static const pgcat_col_t cols_database[] = {
    {"oid", OID}, {"datname", NAM}, {"datdba", OID}, {"encoding", I4},
    {"datlocprovider", CHR}, {"datistemplate", BOO}, {"datallowconn", BOO},
    {"datconnlimit", I4}, {"dattablespace", OID}, {"datcollate", TXT}, {"datctype", TXT},
    {"daticulocale", TXT}, {"datcollversion", TXT}, {"datacl", TXA},
};
static const pgcat_col_t cols_roles[] = {
    {"rolname", NAM}, {"rolsuper", BOO}, {"rolinherit", BOO}, {"rolcreaterole", BOO},
    {"rolcreatedb", BOO}, {"rolcanlogin", BOO}, {"rolreplication", BOO},
    {"rolconnlimit", I4}, {"rolpassword", TXT}, {"rolvaliduntil", TSZ},
    {"rolbypassrls", BOO}, {"rolconfig", TXA}, {"oid", OID},
};
static const pgcat_col_t cols_user[] = {
    {"usename", NAM}, {"usesysid", OID}, {"usecreatedb", BOO}, {"usesuper", BOO},
    {"userepl", BOO}, {"usebypassrls", BOO}, {"passwd", TXT}, {"valuntil", TSZ},
    {"useconfig", TXA},
};
static const pgcat_col_t cols_authid[] = {
    {"oid", OID}, {"rolname", NAM}, {"rolsuper", BOO}, {"rolinherit", BOO},
    {"rolcreaterole", BOO}, {"rolcreatedb", BOO}, {"rolcanlogin", BOO},
    {"rolreplication", BOO}, {"rolbypassrls", BOO}, {"rolconnlimit", I4},
    {"rolpassword", TXT}, {"rolvaliduntil", TSZ},
};
static const pgcat_col_t cols_settings[] = {
    {"name", TXT}, {"setting", TXT}, {"unit", TXT}, {"category", TXT},
    {"short_desc", TXT}, {"extra_desc", TXT}, {"context", TXT}, {"vartype", TXT},
    {"source", TXT}, {"min_val", TXT}, {"max_val", TXT}, {"enumvals", TXA},
    {"boot_val", TXT}, {"reset_val", TXT}, {"sourcefile", TXT}, {"sourceline", I4},
    {"pending_restart", BOO},
};
static const pgcat_col_t cols_proc[] = {
    {"oid", OID}, {"proname", NAM}, {"pronamespace", OID}, {"proowner", OID},
    {"prolang", OID}, {"procost", F4}, {"prorows", F4}, {"provariadic", OID},
    {"prokind", CHR}, {"prosecdef", BOO}, {"proleakproof", BOO}, {"proisstrict", BOO},
    {"proretset", BOO}, {"provolatile", CHR}, {"proparallel", CHR}, {"pronargs", I2},
    {"pronargdefaults", I2}, {"prorettype", OID}, {"proargtypes", OIDV},
    {"proallargtypes", TXA}, {"proargmodes", TXA}, {"proargnames", TXA},
    {"proargdefaults", TXT}, {"prosrc", TXT}, {"probin", TXT}, {"proconfig", TXA},
    {"proacl", TXA},
};
static const pgcat_col_t cols_description[] = {
    {"objoid", OID}, {"classoid", OID}, {"objsubid", I4}, {"description", TXT},
};
static const pgcat_col_t cols_attrdef[] = {
    {"oid", OID}, {"adrelid", OID}, {"adnum", I2}, {"adbin", TXT},
};
static const pgcat_col_t cols_inherits[] = {
    {"inhrelid", OID}, {"inhparent", OID}, {"inhseqno", I4}, {"inhdetachpending", BOO},
};
static const pgcat_col_t cols_partitioned_table[] = {
    {"partrelid", OID}, {"partstrat", CHR}, {"partnatts", I2}, {"partdefid", OID},
    {"partattrs", I2V}, {"partclass", OIDV},
    {"partcollation", OIDV}, {"partexprs", TXT},
};
static const pgcat_col_t cols_tablespace[] = {
    {"oid", OID}, {"spcname", NAM}, {"spcowner", OID}, {"spcacl", TXA}, {"spcoptions", TXA},
};
static const pgcat_col_t cols_collation[] = {
    {"oid", OID}, {"collname", NAM}, {"collnamespace", OID}, {"collowner", OID},
    {"collprovider", CHR}, {"collisdeterministic", BOO}, {"collencoding", I4},
    {"collcollate", TXT}, {"collctype", TXT}, {"colliculocale", TXT}, {"collversion", TXT},
};
static const pgcat_col_t cols_extension[] = {
    {"oid", OID}, {"extname", NAM}, {"extowner", OID}, {"extnamespace", OID},
    {"extrelocatable", BOO}, {"extversion", TXT}, {"extconfig", TXA}, {"extcondition", TXA},
};
static const pgcat_col_t cols_trigger[] = {
    {"oid", OID}, {"tgrelid", OID}, {"tgparentid", OID}, {"tgname", NAM}, {"tgfoid", OID},
    {"tgtype", I2}, {"tgenabled", CHR}, {"tgisinternal", BOO}, {"tgconstrrelid", OID},
    {"tgconstrindid", OID}, {"tgconstraint", OID}, {"tgdeferrable", BOO},
    {"tginitdeferred", BOO}, {"tgnargs", I2}, {"tgattr", I2V},
    {"tgqual", TXT}, {"tgoldtable", NAM}, {"tgnewtable", NAM},
};
static const pgcat_col_t cols_policy[] = {
    {"oid", OID}, {"polname", NAM}, {"polrelid", OID}, {"polcmd", CHR},
    {"polpermissive", BOO}, {"polroles", OIDA}, {"polqual", TXT}, {"polwithcheck", TXT},
};
static const pgcat_col_t cols_statistic_ext[] = {
    {"oid", OID}, {"stxrelid", OID}, {"stxname", NAM}, {"stxnamespace", OID},
    {"stxowner", OID}, {"stxstattarget", I4}, {"stxkeys", I2V},
    {"stxkind", CHRA}, {"stxexprs", TXT},
};
static const pgcat_col_t cols_publication[] = {
    {"oid", OID}, {"pubname", NAM}, {"pubowner", OID}, {"puballtables", BOO},
    {"pubinsert", BOO}, {"pubupdate", BOO}, {"pubdelete", BOO}, {"pubtruncate", BOO},
    {"pubviaroot", BOO},
};
static const pgcat_col_t cols_publication_rel[] = {
    {"oid", OID}, {"prpubid", OID}, {"prrelid", OID}, {"prqual", TXT},
    {"prattrs", I2V},
};
static const pgcat_col_t cols_publication_namespace[] = {
    {"oid", OID}, {"pnpubid", OID}, {"pnnspid", OID},
};
static const pgcat_col_t cols_auth_members[] = {
    {"roleid", OID}, {"member", OID}, {"grantor", OID}, {"admin_option", BOO},
};
static const pgcat_col_t cols_rewrite[] = {
    {"oid", OID}, {"rulename", NAM}, {"ev_class", OID}, {"ev_type", CHR},
    {"ev_enabled", CHR}, {"is_instead", BOO}, {"ev_qual", TXT}, {"ev_action", TXT},
};
static const pgcat_col_t cols_foreign_table[] = {
    {"ftrelid", OID}, {"ftserver", OID}, {"ftoptions", TXA},
};
static const pgcat_col_t cols_sequence[] = {
    {"seqrelid", OID}, {"seqtypid", OID}, {"seqstart", I8}, {"seqincrement", I8},
    {"seqmax", I8}, {"seqmin", I8}, {"seqcache", I8}, {"seqcycle", BOO},
};
/* information_schema domains: sql_identifier = name, character_data = varchar,
 * yes_or_no = varchar(3), cardinal_number = int4 (their base types). */
static const pgcat_col_t cols_is_tables[] = {
    {"table_catalog", NAM}, {"table_schema", NAM}, {"table_name", NAM},
    {"table_type", VCH}, {"self_referencing_column_name", NAM},
    {"reference_generation", VCH}, {"user_defined_type_catalog", NAM},
    {"user_defined_type_schema", NAM}, {"user_defined_type_name", NAM},
    {"is_insertable_into", VCH}, {"is_typed", VCH}, {"commit_action", VCH},
};
static const pgcat_col_t cols_is_columns[] = {
    {"table_catalog", NAM}, {"table_schema", NAM}, {"table_name", NAM},
    {"column_name", NAM}, {"ordinal_position", I4}, {"column_default", VCH},
    {"is_nullable", VCH}, {"data_type", VCH}, {"character_maximum_length", I4},
    {"character_octet_length", I4}, {"numeric_precision", I4},
    {"numeric_precision_radix", I4}, {"numeric_scale", I4}, {"datetime_precision", I4},
    {"interval_type", VCH}, {"interval_precision", I4}, {"character_set_catalog", NAM},
    {"character_set_schema", NAM}, {"character_set_name", NAM},
    {"collation_catalog", NAM}, {"collation_schema", NAM}, {"collation_name", NAM},
    {"domain_catalog", NAM}, {"domain_schema", NAM}, {"domain_name", NAM},
    {"udt_catalog", NAM}, {"udt_schema", NAM}, {"udt_name", NAM}, {"scope_catalog", NAM},
    {"scope_schema", NAM}, {"scope_name", NAM}, {"maximum_cardinality", I4},
    {"dtd_identifier", NAM}, {"is_self_referencing", VCH}, {"is_identity", VCH},
    {"identity_generation", VCH}, {"identity_start", VCH}, {"identity_increment", VCH},
    {"identity_maximum", VCH}, {"identity_minimum", VCH}, {"identity_cycle", VCH},
    {"is_generated", VCH}, {"generation_expression", VCH}, {"is_updatable", VCH},
};
/* client_addr is text (NextDB has no inet type); backend_xid / backend_xmin are text
 * and always NULL (no 32-bit xids). */
static const pgcat_col_t cols_stat_activity[] = {
    {"datid", OID}, {"datname", NAM}, {"pid", I4}, {"leader_pid", I4}, {"usesysid", OID},
    {"usename", NAM}, {"application_name", TXT}, {"client_addr", TXT}, {"client_hostname", TXT},
    {"client_port", I4}, {"backend_start", TSZ}, {"xact_start", TSZ}, {"query_start", TSZ},
    {"state_change", TSZ}, {"wait_event_type", TXT}, {"wait_event", TXT}, {"state", TXT},
    {"backend_xid", TXT}, {"backend_xmin", TXT}, {"query_id", I8}, {"query", TXT},
    {"backend_type", TXT},
};
static const pgcat_col_t cols_views[] = {
    {"schemaname", NAM}, {"viewname", NAM}, {"viewowner", NAM}, {"definition", TXT},
};
static const pgcat_col_t cols_tables[] = {
    {"schemaname", NAM}, {"tablename", NAM}, {"tableowner", NAM}, {"tablespace", NAM},
    {"hasindexes", BOO}, {"hasrules", BOO}, {"hastriggers", BOO}, {"rowsecurity", BOO},
};
static const pgcat_col_t cols_is_views[] = {
    {"table_catalog", NAM}, {"table_schema", NAM}, {"table_name", NAM},
    {"view_definition", VCH}, {"check_option", VCH}, {"is_updatable", VCH},
    {"is_insertable_into", VCH}, {"is_trigger_updatable", VCH},
    {"is_trigger_deletable", VCH}, {"is_trigger_insertable_into", VCH},
};
static const pgcat_col_t cols_is_schemata[] = {
    {"catalog_name", NAM}, {"schema_name", NAM}, {"schema_owner", NAM},
    {"default_character_set_catalog", NAM}, {"default_character_set_schema", NAM},
    {"default_character_set_name", NAM}, {"sql_path", VCH},
};

/* ---- the table list ---- */

typedef struct pgcat__scan pgcat__scan_t;
typedef int (*pgcat__gen_fn)(pgcat__scan_t *s);

typedef struct pgcat__table {
    pgcat_vtab_t vt;              /* first: pgcat_at hands out &table->vt */
    char relkind;                 /* 'r' catalog table, 'v' system view */
    bool shared;                  /* pg_class.relisshared */
    pgcat__gen_fn gen;            /* NULL: always empty (NextDB has no such objects) */
} pgcat__table_t;

static int gen_class(pgcat__scan_t *s);
static int gen_namespace(pgcat__scan_t *s);
static int gen_attribute(pgcat__scan_t *s);
static int gen_type(pgcat__scan_t *s);
static int gen_index(pgcat__scan_t *s);
static int gen_constraint(pgcat__scan_t *s);
static int gen_am(pgcat__scan_t *s);
static int gen_database(pgcat__scan_t *s);
static int gen_roles(pgcat__scan_t *s);
static int gen_settings(pgcat__scan_t *s);
static int gen_proc(pgcat__scan_t *s);
static int gen_attrdef(pgcat__scan_t *s);
static int gen_tablespace(pgcat__scan_t *s);
static int gen_collation(pgcat__scan_t *s);
static int gen_extension(pgcat__scan_t *s);
static int gen_is_tables(pgcat__scan_t *s);
static int gen_indexes(pgcat__scan_t *s);
static int gen_is_table_constraints(pgcat__scan_t *s);
static int gen_is_key_column_usage(pgcat__scan_t *s);
static const pgcat_col_t cols_indexes[] = {
    {"schemaname", NAM}, {"tablename", NAM}, {"indexname", NAM}, {"tablespace", NAM}, {"indexdef", TXT},
};
static const pgcat_col_t cols_is_table_constraints[] = {
    {"constraint_catalog", NAM}, {"constraint_schema", NAM}, {"constraint_name", NAM},
    {"table_catalog", NAM}, {"table_schema", NAM}, {"table_name", NAM}, {"constraint_type", VCH},
    {"is_deferrable", VCH}, {"initially_deferred", VCH}, {"enforced", VCH}, {"nulls_distinct", VCH},
};
static const pgcat_col_t cols_is_key_column_usage[] = {
    {"constraint_catalog", NAM}, {"constraint_schema", NAM}, {"constraint_name", NAM},
    {"table_catalog", NAM}, {"table_schema", NAM}, {"table_name", NAM}, {"column_name", NAM},
    {"ordinal_position", I4}, {"position_in_unique_constraint", I4},
};
static int gen_is_columns(pgcat__scan_t *s);
static int gen_is_schemata(pgcat__scan_t *s);
static int gen_stat_activity(pgcat__scan_t *s);
static int gen_views(pgcat__scan_t *s);
static int gen_tables(pgcat__scan_t *s);
static int gen_is_views(pgcat__scan_t *s);

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define PGC(name, oid, cols, kind, shared, gen) \
    {{name, CAT_NS_PG_CATALOG, oid, NCOLS(cols), cols}, kind, shared, gen}
#define ISC(name, oid, cols, gen) \
    {{name, CAT_NS_INFO_SCHEMA, oid, NCOLS(cols), cols}, 'v', false, gen}

/* OIDs: PostgreSQL 15's fixed relation OIDs; the views (pg_roles, pg_user,
 * pg_settings, information_schema.*) get theirs at initdb, these are what a stock
 * PostgreSQL 15.x initdb assigned on the reference server. */
static const pgcat__table_t pgcat__tables[] = {
    PGC("pg_class", 1259, cols_class, 'r', false, gen_class),
    PGC("pg_namespace", 2615, cols_namespace, 'r', false, gen_namespace),
    PGC("pg_attribute", 1249, cols_attribute, 'r', false, gen_attribute),
    PGC("pg_type", 1247, cols_type, 'r', false, gen_type),
    PGC("pg_index", 2610, cols_index, 'r', false, gen_index),
    PGC("pg_constraint", 2606, cols_constraint, 'r', false, gen_constraint),
    PGC("pg_am", 2601, cols_am, 'r', false, gen_am),
    PGC("pg_database", 1262, cols_database, 'r', true, gen_database),
    PGC("pg_authid", 1260, cols_authid, 'r', true, gen_roles),
    PGC("pg_roles", 12000, cols_roles, 'v', false, gen_roles),
    PGC("pg_user", 12014, cols_user, 'v', false, gen_roles),
    PGC("pg_settings", 12104, cols_settings, 'v', false, gen_settings),
    PGC("pg_proc", 1255, cols_proc, 'r', false, gen_proc),
    PGC("pg_description", 2609, cols_description, 'r', false, NULL),
    PGC("pg_attrdef", 2604, cols_attrdef, 'r', false, gen_attrdef),
    PGC("pg_inherits", 2611, cols_inherits, 'r', false, NULL),
    PGC("pg_partitioned_table", 3350, cols_partitioned_table, 'r', false, NULL),
    PGC("pg_tablespace", 1213, cols_tablespace, 'r', true, gen_tablespace),
    PGC("pg_collation", 3456, cols_collation, 'r', false, gen_collation),
    PGC("pg_extension", 3079, cols_extension, 'r', false, gen_extension),
    PGC("pg_trigger", 2620, cols_trigger, 'r', false, NULL),
    PGC("pg_policy", 3256, cols_policy, 'r', false, NULL),
    PGC("pg_statistic_ext", 3381, cols_statistic_ext, 'r', false, NULL),
    PGC("pg_publication", 6104, cols_publication, 'r', false, NULL),
    PGC("pg_publication_rel", 6106, cols_publication_rel, 'r', false, NULL),
    PGC("pg_publication_namespace", 6237, cols_publication_namespace, 'r', false, NULL),
    PGC("pg_auth_members", 1261, cols_auth_members, 'r', true, NULL),
    PGC("pg_rewrite", 2618, cols_rewrite, 'r', false, NULL),
    PGC("pg_foreign_table", 3118, cols_foreign_table, 'r', false, NULL),
    PGC("pg_sequence", 2224, cols_sequence, 'r', false, NULL),
    PGC("pg_stat_activity", 12222, cols_stat_activity, 'v', false, gen_stat_activity),
    PGC("pg_views", 12028, cols_views, 'v', false, gen_views),
    PGC("pg_tables", 12033, cols_tables, 'v', false, gen_tables),
    ISC("tables", 13425, cols_is_tables, gen_is_tables),
    ISC("columns", 13295, cols_is_columns, gen_is_columns),
    ISC("schemata", 13382, cols_is_schemata, gen_is_schemata),
    ISC("views", 13483, cols_is_views, gen_is_views),
    PGC("pg_indexes", 12043, cols_indexes, 'v', false, gen_indexes),               /* sql/secindex.h */
    ISC("table_constraints", 13411, cols_is_table_constraints, gen_is_table_constraints),
    ISC("key_column_usage", 13329, cols_is_key_column_usage, gen_is_key_column_usage),
};
#define PGCAT_TABLES_COUNT NCOLS(pgcat__tables)

int pgcat_count(void) { return PGCAT_TABLES_COUNT; }

const pgcat_vtab_t *pgcat_at(int i)
{
    ASSERT(i >= 0 && i < PGCAT_TABLES_COUNT);
    return &pgcat__tables[i].vt;
}

const pgcat_vtab_t *pgcat_lookup(uint32_t namespace_oid, const char *name)
{
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat_vtab_t *vt = &pgcat__tables[i].vt;
        if (vt->namespace_oid == namespace_oid && strcmp(vt->name, name) == 0)
            return vt;
    }
    return NULL;
}

static const pgcat__table_t *pgcat__table_of(const pgcat_vtab_t *vt)
{
    const pgcat__table_t *t = (const pgcat__table_t *)vt;
    ASSERT(t >= pgcat__tables && t < pgcat__tables + PGCAT_TABLES_COUNT);
    return t;
}

char pgcat__vtab_relkind(const pgcat_vtab_t *vt) { return pgcat__table_of(vt)->relkind; }

/* ---- shared facts (pgcatalog_int.h) ---- */

const char *pgcat__ns_name(uint32_t namespace_oid)
{
    switch (namespace_oid) {
    case CAT_NS_PG_CATALOG: return "pg_catalog";
    case CAT_NS_PUBLIC: return "public";
    case CAT_NS_INFO_SCHEMA: return "information_schema";
    case PGCAT_NS_PG_TOAST: return "pg_toast";
    default: return NULL;
    }
}

const char *pgcat__role_name(uint32_t role_oid, const char *user)
{
    if (role_oid == CAT_SUPERUSER_OID)
        return user;
    if (role_oid == PGCAT_ROLE_DB_OWNER)
        return "pg_database_owner";
    return NULL;
}

const char *pgcat__pk_name(const cat_table_t *tab)
{
    ASSERT(tab->npk > 0 && tab->pk_name != NULL);
    return tab->pk_name;
}

/* Binary search of the snapshot's tables (sorted by oid). */
static const cat_table_t *pgcat__table_by_oid(const catalog_t *c, uint32_t oid)
{
    int lo = 0, hi = c->ntables - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        uint32_t m = c->tables[mid]->oid;
        if (m == oid)
            return c->tables[mid];
        if (m < oid)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

bool pgcat__rel_by_oid(const catalog_t *c, uint32_t oid, pgcat__rel_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat__table_t *t = &pgcat__tables[i];
        if (t->vt.oid == oid) {
            *out = (pgcat__rel_t){PGCAT_REL_VTAB, oid, t->vt.namespace_oid, t->vt.name,
                                  t->relkind, NULL, &t->vt};
            return true;
        }
    }
    if (!c || oid < CAT_FIRST_USER_OID)
        return false;
    const cat_table_t *tab = pgcat__table_by_oid(c, oid);
    if (tab) {
        *out = (pgcat__rel_t){PGCAT_REL_TABLE, oid, tab->namespace_oid, tab->name,
                              tab->relkind, tab, NULL};
        return true;
    }
    for (int i = 0; i < c->ntables; i++) {
        tab = c->tables[i];
        if (tab->npk > 0 && tab->pk_index_oid == oid) {
            *out = (pgcat__rel_t){PGCAT_REL_PK_INDEX, oid, tab->namespace_oid,
                                  pgcat__pk_name(tab), 'i', tab, NULL};
            return true;
        }
        for (int k = 0; k < tab->nvindexes; k++) {
            if (tab->vindexes[k].oid == oid) {
                *out = (pgcat__rel_t){PGCAT_REL_VINDEX, oid, tab->namespace_oid, tab->vindexes[k].name,
                                      'i', tab, NULL, &tab->vindexes[k]};
                return true;
            }
        }
        for (int k = 0; k < tab->nindexes; k++) {
            if (tab->indexes[k].oid == oid) {
                *out = (pgcat__rel_t){PGCAT_REL_INDEX, oid, tab->namespace_oid, tab->indexes[k].name,
                                      'i', tab, NULL, NULL, &tab->indexes[k]};
                return true;
            }
        }
    }
    return false;
}

/* Only virtual tables live in pg_catalog (user DDL cannot create relations there, as
 * in PostgreSQL), so a public relation is hidden exactly when a virtual table of
 * pg_catalog has its name. */
bool pgcat__rel_visible(const catalog_t *c, const pgcat__rel_t *rel)
{
    if (rel->namespace_oid == CAT_NS_PG_CATALOG)
        return true;
    if (rel->namespace_oid != CAT_NS_PUBLIC)
        return false;
    return pgcat_lookup(CAT_NS_PG_CATALOG, rel->name) == NULL;
}

/* PostgreSQL's reserved keywords plus the column-name and type-function-name keywords
 * that quote_identifier quotes (every keyword that is not UNRESERVED_KEYWORD). */
static const char *const pgcat__keywords[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
    "authorization", "between", "bigint", "binary", "bit", "boolean", "both", "case",
    "cast", "char", "character", "check", "coalesce", "collate", "collation", "column",
    "concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
    "current_role", "current_schema", "current_time", "current_timestamp",
    "current_user", "dec", "decimal", "default", "deferrable", "desc", "distinct", "do",
    "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for",
    "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping",
    "having", "ilike", "in", "initially", "inner", "inout", "int", "integer",
    "intersect", "interval", "into", "is", "isnull", "join", "json_array",
    "json_arrayagg", "json_object", "json_objectagg", "lateral", "leading", "least",
    "left", "like", "limit", "localtime", "localtimestamp", "national", "natural",
    "nchar", "none", "normalize", "not", "notnull", "null", "nullif", "numeric",
    "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay",
    "placing", "position", "precision", "primary", "real", "references", "returning",
    "right", "row", "select", "session_user", "setof", "similar", "smallint", "some",
    "substring", "symmetric", "system_user", "table", "tablesample", "then", "time",
    "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user",
    "using", "values", "varchar", "variadic", "verbose", "when", "where", "window",
    "with", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest",
    "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
};

static bool pgcat__is_keyword(const char *s)
{
    for (size_t i = 0; i < sizeof pgcat__keywords / sizeof pgcat__keywords[0]; i++)
        if (strcmp(pgcat__keywords[i], s) == 0)
            return true;
    return false;
}

void pgcat__quote_ident(const char *s, strbuf_t *out)
{
    bool safe = (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_';
    for (const char *p = s; safe && *p; p++)
        safe = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (safe && !pgcat__is_keyword(s)) {
        strbuf_puts(out, s);
        return;
    }
    strbuf_putc(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            strbuf_putc(out, '"');
        strbuf_putc(out, *p);
    }
    strbuf_putc(out, '"');
}

/* ---- the scan and its row builder ---- */

struct pgcat__scan {
    const pgcat_vtab_t *vt;
    const pgcat_ctx_t *ctx;
    arena_t *arena;
    int (*emit)(void *arg, const datum_t *vals, const bool *nulls);
    void *emit_arg;
    sql_error_t *err;
    bool oom;                     /* a string did not fit the arena */
    datum_t vals[LIMIT_PGCAT_COLUMNS];
    bool nulls[LIMIT_PGCAT_COLUMNS];
};

static void row_begin(pgcat__scan_t *s)
{
    for (int i = 0; i < s->vt->ncols; i++)
        s->nulls[i] = true;
}

/* Index of column `name`; asserts it exists and has the expected kind of datum. */
static int row_col(pgcat__scan_t *s, const char *name)
{
    for (int i = 0; i < s->vt->ncols; i++)
        if (strcmp(s->vt->cols[i].name, name) == 0)
            return i;
    ASSERT(!"pgcatalog: unknown column");
    return -1;
}

static bool type_is_int(type_oid_t t)
{
    return t == TYPE_BOOL || t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8 ||
           t == TYPE_OID || t == TYPE_CHAR;
}

static bool type_is_str(type_oid_t t)
{
    return t == TYPE_NAME || t == TYPE_TEXT || t == TYPE_VARCHAR;
}

static void set_i64(pgcat__scan_t *s, const char *name, int64_t v)
{
    int i = row_col(s, name);
    ASSERT(type_is_int(s->vt->cols[i].type));
    s->vals[i].i64 = v;
    s->nulls[i] = false;
}

static void set_bool(pgcat__scan_t *s, const char *name, bool v)
{
    int i = row_col(s, name);
    ASSERT(s->vt->cols[i].type == TYPE_BOOL);
    s->vals[i].i64 = v ? 1 : 0;
    s->nulls[i] = false;
}

static void set_f64(pgcat__scan_t *s, const char *name, double v)
{
    int i = row_col(s, name);
    ASSERT(s->vt->cols[i].type == TYPE_FLOAT4 || s->vt->cols[i].type == TYPE_FLOAT8);
    s->vals[i].f64 = v;
    s->nulls[i] = false;
}

static void set_strn(pgcat__scan_t *s, const char *name, const char *p, size_t len)
{
    int i = row_col(s, name);
    if (type_is_array(s->vt->cols[i].type)) {
        /* vectors and arrays: from their text form */
        sql_error_t e = {0};
        int rc = type_in_text(s->vt->cols[i].type, -1, p, len, s->arena, &s->vals[i], &e);
        ASSERT(rc == 0 || !strcmp(e.sqlstate, SQLSTATE_OUT_OF_MEMORY));
        s->oom |= rc < 0;
        s->nulls[i] = false;
        return;
    }
    ASSERT(type_is_str(s->vt->cols[i].type));
    vstr_t *v = vstr_new(s->arena, p, len);
    if (!v) {
        s->oom = true;
        return;
    }
    s->vals[i].s = v;
    s->nulls[i] = false;
}

/* timestamptz: microseconds since 2000-01-01 UTC (types.h); 0 stays NULL. */
static void set_ts(pgcat__scan_t *s, const char *name, int64_t v)
{
    int i = row_col(s, name);
    ASSERT(s->vt->cols[i].type == TYPE_TIMESTAMPTZ);
    if (!v)
        return;
    s->vals[i].i64 = v;
    s->nulls[i] = false;
}

static void set_str(pgcat__scan_t *s, const char *name, const char *p)
{
    if (p)
        set_strn(s, name, p, strlen(p));
}

/* "char": the byte as i64; PostgreSQL's '\0' prints as the empty string. */
static void set_char(pgcat__scan_t *s, const char *name, char c)
{
    int i = row_col(s, name);
    ASSERT(s->vt->cols[i].type == TYPE_CHAR);
    s->vals[i].i64 = (uint8_t)c;
    s->nulls[i] = false;
}

static int row_emit(pgcat__scan_t *s)
{
    if (s->oom)
        return sql_error(s->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return s->emit(s->emit_arg, s->vals, s->nulls);
}

int pgcat_scan(const pgcat_vtab_t *vt, const pgcat_ctx_t *ctx, arena_t *a,
               int (*emit)(void *arg, const datum_t *vals, const bool *nulls), void *arg,
               sql_error_t *err)
{
    const pgcat__table_t *t = pgcat__table_of(vt);
    ASSERT(vt->ncols <= LIMIT_PGCAT_COLUMNS);
    ASSERT(ctx && ctx->catalog && ctx->user && ctx->database);
    if (!t->gen)
        return 0;
    pgcat__scan_t *s = arena_alloc(a, sizeof *s);
    if (!s)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(s, 0, sizeof *s);
    s->vt = vt;
    s->ctx = ctx;
    s->arena = a;
    s->emit = emit;
    s->emit_arg = arg;
    s->err = err;
    return t->gen(s);
}

/* Emits the built row; returns from the generator on an error or a stop request. */
#define EMIT_OR_RETURN(s)                 \
    do {                                  \
        int rc__ = row_emit(s);           \
        if (rc__ != 0)                    \
            return rc__;                  \
    } while (0)

/* ---- per-type facts PostgreSQL keeps in pg_type but type_info_t does not ---- */

static char type_typtype(const type_info_t *ti)
{
    return (ti->category == 'P' || ti->oid == TYPE_UNKNOWN) ? 'p' : 'b';
}

static char type_storage(const type_info_t *ti)
{
    if (ti->typlen != -1)
        return 'p';
    return ti->oid == TYPE_NUMERIC ? 'm' : 'x';
}

/* pg_type.typcollation: the collatable types use "default", name uses "C". */
static uint32_t type_collation(type_oid_t t)
{
    switch (t) {
    case TYPE_TEXT: case TYPE_VARCHAR: case TYPE_BPCHAR: case TYPE_TEXTARRAY:
        return PGCAT_COLL_DEFAULT;
    case TYPE_NAME:
        return PGCAT_COLL_C;
    default:
        return 0;
    }
}

/* ---- generators ---- */

static int gen_namespace(pgcat__scan_t *s)
{
    static const uint32_t ns[] = {PGCAT_NS_PG_TOAST, CAT_NS_PG_CATALOG, CAT_NS_PUBLIC,
                                  CAT_NS_INFO_SCHEMA};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        row_begin(s);
        set_i64(s, "oid", ns[i]);
        set_str(s, "nspname", pgcat__ns_name(ns[i]));
        set_i64(s, "nspowner", ns[i] == CAT_NS_PUBLIC ? PGCAT_ROLE_DB_OWNER : CAT_SUPERUSER_OID);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* The pg_class columns that are the same for every relation NextDB has. */
static void class_common(pgcat__scan_t *s, uint32_t oid, const char *name, uint32_t ns,
                         char relkind, int natts)
{
    row_begin(s);
    set_i64(s, "oid", oid);
    set_str(s, "relname", name);
    set_i64(s, "relnamespace", ns);
    set_i64(s, "reltype", 0);
    set_i64(s, "reloftype", 0);
    set_i64(s, "relowner", CAT_SUPERUSER_OID);
    set_i64(s, "relam", relkind == 'i' ? PGCAT_AM_BTREE : relkind == 'r' ? PGCAT_AM_HEAP : 0);
    set_i64(s, "relfilenode", relkind == 'v' ? 0 : oid);
    set_i64(s, "reltablespace", 0);
    set_i64(s, "relpages", 0);
    set_f64(s, "reltuples", -1);
    set_i64(s, "relallvisible", 0);
    set_i64(s, "reltoastrelid", 0);
    set_bool(s, "relhasindex", false);
    set_bool(s, "relisshared", false);
    set_char(s, "relpersistence", 'p');
    set_char(s, "relkind", relkind);
    set_i64(s, "relnatts", natts);
    set_i64(s, "relchecks", 0);
    set_bool(s, "relhasrules", relkind == 'v');
    set_bool(s, "relhastriggers", false);
    set_bool(s, "relhassubclass", false);
    set_bool(s, "relrowsecurity", false);
    set_bool(s, "relforcerowsecurity", false);
    set_bool(s, "relispopulated", true);
    set_char(s, "relreplident", relkind == 'r' ? 'd' : 'n');
    set_bool(s, "relispartition", false);
    set_i64(s, "relrewrite", 0);
}

static int gen_class(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat__table_t *t = &pgcat__tables[i];
        class_common(s, t->vt.oid, t->vt.name, t->vt.namespace_oid, t->relkind, t->vt.ncols);
        set_bool(s, "relisshared", t->shared);
        EMIT_OR_RETURN(s);
    }
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        class_common(s, tab->oid, tab->name, tab->namespace_oid, tab->relkind, tab->ncols);
        set_bool(s, "relhasindex", tab->npk > 0 || tab->nvindexes > 0 || tab->nindexes > 0);
        set_i64(s, "relchecks", tab->nchecks);     /* psql's \d asks for "Check constraints:" */
        EMIT_OR_RETURN(s);
        for (int k = 0; k < tab->nvindexes; k++) {
            class_common(s, tab->vindexes[k].oid, tab->vindexes[k].name, tab->namespace_oid, 'i', 1);
            set_i64(s, "relam", PGCAT_AM_HNSW);
            EMIT_OR_RETURN(s);
        }
        for (int k = 0; k < tab->nindexes; k++) {
            class_common(s, tab->indexes[k].oid, tab->indexes[k].name, tab->namespace_oid, 'i', tab->indexes[k].ncols);
            if (tab->indexes[k].hash)
                set_i64(s, "relam", PGCAT_AM_HASH);
            EMIT_OR_RETURN(s);
        }
        if (tab->npk == 0)
            continue;
        class_common(s, tab->pk_index_oid, pgcat__pk_name(tab), tab->namespace_oid, 'i',
                     tab->npk);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* One pg_attribute row for a column of type t (attnum > 0). */
static void attribute_row(pgcat__scan_t *s, uint32_t relid, const char *name, int attnum,
                          type_oid_t t, int32_t typmod, bool not_null)
{
    const type_info_t *ti = type_lookup(t);
    row_begin(s);
    set_i64(s, "attrelid", relid);
    set_str(s, "attname", name);
    set_i64(s, "atttypid", t);
    set_i64(s, "attstattarget", -1);
    set_i64(s, "attlen", ti ? ti->typlen : -1);
    set_i64(s, "attnum", attnum);
    set_i64(s, "attndims", ti && ti->elem_oid ? 1 : 0);
    set_i64(s, "attcacheoff", -1);
    set_i64(s, "atttypmod", typmod);
    set_bool(s, "attbyval", ti ? ti->byval : false);
    set_char(s, "attalign", ti ? ti->align : 'i');
    set_char(s, "attstorage", ti ? type_storage(ti) : 'x');
    set_char(s, "attcompression", 0);
    set_bool(s, "attnotnull", not_null);
    set_bool(s, "atthasdef", false);
    set_bool(s, "atthasmissing", false);
    set_char(s, "attidentity", 0);
    set_char(s, "attgenerated", 0);
    set_bool(s, "attisdropped", false);
    set_bool(s, "attislocal", true);
    set_i64(s, "attinhcount", 0);
    set_i64(s, "attcollation", type_collation(t));
}

/* PostgreSQL renames a dropped column and forgets its type. */
static void attribute_dropped(pgcat__scan_t *s, uint32_t relid, int attnum)
{
    char name[LIMIT_SQL_IDENT_BYTES + 1];
    snprintf(name, sizeof name, "........pg.dropped.%d........", attnum);
    attribute_row(s, relid, name, attnum, TYPE_INVALID, -1, false);
    set_bool(s, "attisdropped", true);
    set_i64(s, "attlen", -1);
    set_char(s, "attalign", 'i');
    set_char(s, "attstorage", 'x');
    set_i64(s, "attcollation", 0);
}

static const cat_column_t *table_col(const cat_table_t *tab, int attnum)
{
    for (int i = 0; i < tab->ncols; i++)
        if (tab->cols[i].attnum == attnum)
            return &tab->cols[i];
    return NULL;
}

static int gen_attribute(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat_vtab_t *vt = &pgcat__tables[i].vt;
        for (int k = 0; k < vt->ncols; k++) {
            attribute_row(s, vt->oid, vt->cols[k].name, k + 1, vt->cols[k].type, -1, false);
            EMIT_OR_RETURN(s);
        }
    }
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        for (int k = 0; k < tab->ncols; k++) {
            const cat_column_t *col = &tab->cols[k];
            if (col->dropped) {
                attribute_dropped(s, tab->oid, col->attnum);
            } else {
                attribute_row(s, tab->oid, col->name, col->attnum, col->type, col->typmod,
                              col->not_null);
                set_bool(s, "atthasdef", col->default_sql != NULL && !col->identity);
                set_char(s, "attidentity", col->identity);   /* identity: no pg_attrdef row */
            }
            EMIT_OR_RETURN(s);
        }
        for (int k = 0; k < tab->npk; k++) {
            const cat_column_t *col = table_col(tab, tab->pk_attnums[k]);
            ASSERT(col && !col->dropped);
            attribute_row(s, tab->pk_index_oid, col->name, k + 1, col->type, col->typmod,
                          false);
            EMIT_OR_RETURN(s);
        }
        for (int k = 0; k < tab->nvindexes; k++) {
            const cat_column_t *col = table_col(tab, tab->vindexes[k].attnum);
            ASSERT(col && !col->dropped);
            attribute_row(s, tab->vindexes[k].oid, col->name, 1, col->type, col->typmod, false);
            EMIT_OR_RETURN(s);
        }
        for (int k = 0; k < tab->nindexes; k++) {
            const cat_index_t *x = &tab->indexes[k];
            for (int j = 0; j < x->ncols; j++) {
                const cat_column_t *col = table_col(tab, x->attnums[j]);
                ASSERT(col && !col->dropped);
                attribute_row(s, x->oid, col->name, j + 1, col->type, col->typmod, false);
                EMIT_OR_RETURN(s);
            }
        }
    }
    return 0;
}

static int gen_type(pgcat__scan_t *s)
{
    int n = type_info_count();
    for (int i = 0; i < n; i++) {
        const type_info_t *ti = type_info_at(i);
        row_begin(s);
        set_i64(s, "oid", ti->oid);
        set_str(s, "typname", ti->name);
        set_i64(s, "typnamespace", CAT_NS_PG_CATALOG);
        set_i64(s, "typowner", CAT_SUPERUSER_OID);
        set_i64(s, "typlen", ti->typlen);
        set_bool(s, "typbyval", ti->byval);
        set_char(s, "typtype", type_typtype(ti));
        set_char(s, "typcategory", ti->category);
        set_bool(s, "typispreferred", ti->preferred);
        set_bool(s, "typisdefined", true);
        set_char(s, "typdelim", ',');
        set_i64(s, "typrelid", 0);
        set_i64(s, "typelem", ti->elem_oid);
        set_i64(s, "typarray", ti->array_oid);
        set_char(s, "typalign", ti->align);
        set_char(s, "typstorage", type_storage(ti));
        set_bool(s, "typnotnull", false);
        set_i64(s, "typbasetype", 0);
        set_i64(s, "typtypmod", -1);
        set_i64(s, "typndims", 0);
        set_i64(s, "typcollation", type_collation(ti->oid));
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* Appends the int2vector / oidvector text form of a table's key: one value per key
 * column produced by fn, separated by spaces. */
static void key_vector(const cat_table_t *tab, int64_t (*fn)(const cat_table_t *, int), const char *sep,
                       strbuf_t *out)
{
    for (int k = 0; k < tab->npk; k++)
        strbuf_printf(out, "%s%lld", k ? sep : "", (long long)fn(tab, k));
}

static int64_t key_attnum(const cat_table_t *tab, int k) { return tab->pk_attnums[k]; }
static int64_t key_zero(const cat_table_t *tab, int k) { return 0; }

static int64_t key_collation(const cat_table_t *tab, int k)
{
    const cat_column_t *col = table_col(tab, tab->pk_attnums[k]);
    ASSERT(col);
    return type_collation(col->type);
}

/* Sets a string column from a key vector. */
static void set_key_vector(pgcat__scan_t *s, const char *name, const cat_table_t *tab,
                           int64_t (*fn)(const cat_table_t *, int), const char *open,
                           const char *close)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, open);
    key_vector(tab, fn, *open ? "," : " ", &sb);   /* array literal or vector text */
    strbuf_puts(&sb, close);
    if (sb.oom)
        s->oom = true;
    else
        set_strn(s, name, sb.data, sb.len);
    strbuf_free(&sb);
}

/* pg_index rows of a table's HNSW indexes (one key column, not unique). */
static int vindex_rows(pgcat__scan_t *s, const cat_table_t *tab)
{
    for (int k = 0; k < tab->nvindexes; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", tab->vindexes[k].attnum);
        row_begin(s);
        set_i64(s, "indexrelid", tab->vindexes[k].oid);
        set_i64(s, "indrelid", tab->oid);
        set_i64(s, "indnatts", 1);
        set_i64(s, "indnkeyatts", 1);
        set_bool(s, "indisunique", false);
        set_bool(s, "indnullsnotdistinct", false);
        set_bool(s, "indisprimary", false);
        set_bool(s, "indisexclusion", false);
        set_bool(s, "indimmediate", true);
        set_bool(s, "indisclustered", false);
        set_bool(s, "indisvalid", true);
        set_bool(s, "indcheckxmin", false);
        set_bool(s, "indisready", true);
        set_bool(s, "indislive", true);
        set_bool(s, "indisreplident", false);
        set_str(s, "indkey", key);
        set_str(s, "indcollation", "0");
        set_str(s, "indoption", "0");
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* pg_index rows of a table's secondary indexes (sql/secindex.h). */
static int secindex_rows(pgcat__scan_t *s, const cat_table_t *tab)
{
    for (int k = 0; k < tab->nindexes; k++) {
        const cat_index_t *x = &tab->indexes[k];
        strbuf_t key, coll, opt;
        strbuf_init(&key);
        strbuf_init(&coll);
        strbuf_init(&opt);
        for (int i = 0; i < x->ncols; i++) {
            const cat_column_t *col = table_col(tab, x->attnums[i]);
            strbuf_printf(&key, "%s%d", i ? " " : "", x->attnums[i]);
            strbuf_printf(&coll, "%s%d", i ? " " : "", col ? (int)type_collation(col->type) : 0);
            strbuf_printf(&opt, "%s0", i ? " " : "");
        }
        row_begin(s);
        set_i64(s, "indexrelid", x->oid);
        set_i64(s, "indrelid", tab->oid);
        set_i64(s, "indnatts", x->ncols);
        set_i64(s, "indnkeyatts", x->ncols);
        set_bool(s, "indisunique", x->unique);
        set_bool(s, "indnullsnotdistinct", false);
        set_bool(s, "indisprimary", false);
        set_bool(s, "indisexclusion", false);
        set_bool(s, "indimmediate", true);
        set_bool(s, "indisclustered", false);
        set_bool(s, "indisvalid", true);
        set_bool(s, "indcheckxmin", false);
        set_bool(s, "indisready", true);
        set_bool(s, "indislive", true);
        set_bool(s, "indisreplident", false);
        if (key.oom || coll.oom || opt.oom) {
            s->oom = true;
        } else {
            set_strn(s, "indkey", key.data, key.len);
            set_strn(s, "indcollation", coll.data, coll.len);
            set_strn(s, "indoption", opt.data, opt.len);
        }
        strbuf_free(&key);
        strbuf_free(&coll);
        strbuf_free(&opt);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* pg_constraint rows of a table's UNIQUE constraints: the OID is the index's, as for
 * primary keys. */
static int unique_constraint_rows(pgcat__scan_t *s, const cat_table_t *tab)
{
    for (int k = 0; k < tab->nindexes; k++) {
        const cat_index_t *x = &tab->indexes[k];
        if (!x->constraint)
            continue;
        strbuf_t key;
        strbuf_init(&key);
        strbuf_putc(&key, '{');
        for (int i = 0; i < x->ncols; i++)
            strbuf_printf(&key, "%s%d", i ? "," : "", x->attnums[i]);
        strbuf_putc(&key, '}');
        row_begin(s);
        set_i64(s, "oid", x->oid);
        set_str(s, "conname", x->name);
        set_i64(s, "connamespace", tab->namespace_oid);
        set_char(s, "contype", 'u');
        set_bool(s, "condeferrable", false);
        set_bool(s, "condeferred", false);
        set_bool(s, "convalidated", true);
        set_i64(s, "conrelid", tab->oid);
        set_i64(s, "contypid", 0);
        set_i64(s, "conindid", x->oid);
        set_i64(s, "conparentid", 0);
        set_i64(s, "confrelid", 0);
        set_char(s, "confupdtype", ' ');
        set_char(s, "confdeltype", ' ');
        set_char(s, "confmatchtype", ' ');
        set_bool(s, "conislocal", true);
        set_i64(s, "coninhcount", 0);
        set_bool(s, "connoinherit", true);
        if (key.oom)
            s->oom = true;
        else
            set_strn(s, "conkey", key.data, key.len);
        strbuf_free(&key);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* pg_constraint rows of a table's CHECK and FOREIGN KEY constraints (their OIDs:
 * pgcatalog_cons.c). */
static int check_fk_constraint_rows(pgcat__scan_t *s, const cat_table_t *tab)
{
    const catalog_t *c = s->ctx->catalog;
    for (int k = 0; k < tab->nchecks + tab->nfks; k++) {
        bool fk = k >= tab->nchecks;
        int i = fk ? k - tab->nchecks : k;
        uint32_t oid = pgcat__con_oid(tab, fk ? 'f' : 'c', i);
        if (!oid)
            continue;
        const cat_fk_t *f = fk ? &tab->fks[i] : NULL;
        row_begin(s);
        set_i64(s, "oid", oid);
        set_str(s, "conname", fk ? f->name : tab->checks[i].name);
        set_i64(s, "connamespace", tab->namespace_oid);
        set_char(s, "contype", fk ? 'f' : 'c');
        set_bool(s, "condeferrable", false);
        set_bool(s, "condeferred", false);
        set_bool(s, "convalidated", true);
        set_i64(s, "conrelid", tab->oid);
        set_i64(s, "contypid", 0);
        set_i64(s, "conparentid", 0);
        set_bool(s, "conislocal", true);
        set_i64(s, "coninhcount", 0);
        set_bool(s, "connoinherit", false);
        if (fk) {
            uint32_t ref = f->ref_table ? f->ref_table : tab->oid;
            const cat_table_t *p = catalog_table_by_oid(c, ref);
            const cat_index_t *ri = p ? fk_ref_index(p, f) : NULL;
            set_i64(s, "conindid", ri ? ri->oid : p ? p->pk_index_oid : 0);
            set_i64(s, "confrelid", ref);
            set_char(s, "confupdtype", f->on_update ? f->on_update : 'a');
            set_char(s, "confdeltype", f->on_delete ? f->on_delete : 'a');
            set_char(s, "confmatchtype", f->match_full ? 'f' : 's');
            strbuf_t key, fkey;
            strbuf_init(&key);
            strbuf_init(&fkey);
            strbuf_putc(&key, '{');
            strbuf_putc(&fkey, '{');
            for (int j = 0; j < f->ncols; j++) {
                strbuf_printf(&key, "%s%d", j ? "," : "", f->attnums[j]);
                strbuf_printf(&fkey, "%s%d", j ? "," : "", f->ref_attnums[j]);
            }
            strbuf_putc(&key, '}');
            strbuf_putc(&fkey, '}');
            if (key.oom || fkey.oom)
                s->oom = true;
            else {
                set_strn(s, "conkey", key.data, key.len);
                set_strn(s, "confkey", fkey.data, fkey.len);
            }
            strbuf_free(&key);
            strbuf_free(&fkey);
        } else {
            set_i64(s, "conindid", 0);
            set_i64(s, "confrelid", 0);
            set_char(s, "confupdtype", ' ');
            set_char(s, "confdeltype", ' ');
            set_char(s, "confmatchtype", ' ');
        }
        EMIT_OR_RETURN(s);
    }
    return 0;
}

static int gen_index(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        int vrc = vindex_rows(s, tab);
        if (vrc == 0)
            vrc = secindex_rows(s, tab);
        if (vrc != 0)
            return vrc;
        if (tab->npk == 0)
            continue;
        row_begin(s);
        set_i64(s, "indexrelid", tab->pk_index_oid);
        set_i64(s, "indrelid", tab->oid);
        set_i64(s, "indnatts", tab->npk);
        set_i64(s, "indnkeyatts", tab->npk);
        set_bool(s, "indisunique", true);
        set_bool(s, "indnullsnotdistinct", false);
        set_bool(s, "indisprimary", true);
        set_bool(s, "indisexclusion", false);
        set_bool(s, "indimmediate", true);
        set_bool(s, "indisclustered", false);
        set_bool(s, "indisvalid", true);
        set_bool(s, "indcheckxmin", false);
        set_bool(s, "indisready", true);
        set_bool(s, "indislive", true);
        set_bool(s, "indisreplident", false);
        set_key_vector(s, "indkey", tab, key_attnum, "", "");
        set_key_vector(s, "indcollation", tab, key_collation, "", "");
        set_key_vector(s, "indoption", tab, key_zero, "", "");
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* pg_constraint.oid of a primary key is its index's OID: OIDs need only be unique
 * within one catalog, and the snapshot has no separate constraint OID. */
static int gen_constraint(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        int urc = unique_constraint_rows(s, tab);
        if (urc == 0)
            urc = check_fk_constraint_rows(s, tab);
        if (urc != 0)
            return urc;
        if (tab->npk == 0)
            continue;
        row_begin(s);
        set_i64(s, "oid", tab->pk_index_oid);
        set_str(s, "conname", pgcat__pk_name(tab));
        set_i64(s, "connamespace", tab->namespace_oid);
        set_char(s, "contype", 'p');
        set_bool(s, "condeferrable", false);
        set_bool(s, "condeferred", false);
        set_bool(s, "convalidated", true);
        set_i64(s, "conrelid", tab->oid);
        set_i64(s, "contypid", 0);
        set_i64(s, "conindid", tab->pk_index_oid);
        set_i64(s, "conparentid", 0);
        set_i64(s, "confrelid", 0);
        set_char(s, "confupdtype", ' ');
        set_char(s, "confdeltype", ' ');
        set_char(s, "confmatchtype", ' ');
        set_bool(s, "conislocal", true);
        set_i64(s, "coninhcount", 0);
        set_bool(s, "connoinherit", true);
        set_key_vector(s, "conkey", tab, key_attnum, "{", "}");
        EMIT_OR_RETURN(s);
    }
    return 0;
}

static int gen_am(pgcat__scan_t *s)
{
    static const struct { uint32_t oid; const char *name, *handler; char type; } am[] = {
        {PGCAT_AM_HEAP, "heap", "heap_tableam_handler", 't'},
        {PGCAT_AM_BTREE, "btree", "bthandler", 'i'},
        {PGCAT_AM_HASH, "hash", "hashhandler", 'i'},
        {PGCAT_AM_HNSW, "hnsw", "hnswhandler", 'i'},
    };
    for (size_t i = 0; i < sizeof am / sizeof am[0]; i++) {
        row_begin(s);
        set_i64(s, "oid", am[i].oid);
        set_str(s, "amname", am[i].name);
        set_str(s, "amhandler", am[i].handler);
        set_char(s, "amtype", am[i].type);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

static int gen_database(pgcat__scan_t *s)
{
    row_begin(s);
    set_i64(s, "oid", PGCAT_DATABASE_OID);
    set_str(s, "datname", s->ctx->database);
    set_i64(s, "datdba", CAT_SUPERUSER_OID);
    set_i64(s, "encoding", PGCAT_ENCODING_UTF8);
    set_char(s, "datlocprovider", 'c');
    set_bool(s, "datistemplate", false);
    set_bool(s, "datallowconn", true);
    set_i64(s, "datconnlimit", -1);
    set_i64(s, "dattablespace", PGCAT_TABLESPACE_DEFAULT);
    set_str(s, "datcollate", "C");
    set_str(s, "datctype", "C");
    EMIT_OR_RETURN(s);
    return 0;
}

/* pg_authid, pg_roles and pg_user: the connected user as the bootstrap superuser, and
 * pg_database_owner (the owner of public). */
static int gen_roles(pgcat__scan_t *s)
{
    static const uint32_t roles[] = {CAT_SUPERUSER_OID, PGCAT_ROLE_DB_OWNER};
    bool is_user = strcmp(s->vt->name, "pg_user") == 0;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        bool super = roles[i] == CAT_SUPERUSER_OID;
        const char *name = pgcat__role_name(roles[i], s->ctx->user);
        row_begin(s);
        if (is_user) {
            if (!super)
                continue;            /* pg_user lists roles that can log in */
            set_str(s, "usename", name);
            set_i64(s, "usesysid", roles[i]);
            set_bool(s, "usecreatedb", true);
            set_bool(s, "usesuper", true);
            set_bool(s, "userepl", true);
            set_bool(s, "usebypassrls", true);
            set_str(s, "passwd", "********");
            EMIT_OR_RETURN(s);
            continue;
        }
        set_i64(s, "oid", roles[i]);
        set_str(s, "rolname", name);
        set_bool(s, "rolsuper", super);
        set_bool(s, "rolinherit", true);
        set_bool(s, "rolcreaterole", super);
        set_bool(s, "rolcreatedb", super);
        set_bool(s, "rolcanlogin", super);
        set_bool(s, "rolreplication", super);
        set_bool(s, "rolbypassrls", super);
        set_i64(s, "rolconnlimit", -1);
        if (strcmp(s->vt->name, "pg_roles") == 0)
            set_str(s, "rolpassword", "********");
        EMIT_OR_RETURN(s);
    }
    return 0;
}

static int gen_settings(pgcat__scan_t *s)
{
    for (int i = 0; i < s->ctx->nsettings; i++) {
        row_begin(s);
        set_str(s, "name", s->ctx->setting_names[i]);
        set_str(s, "setting", s->ctx->setting_values[i]);
        set_bool(s, "pending_restart", false);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

static bool builtin_is_catalog_entry(const builtin_t *b)
{
    return b >= builtins_catalog && b < builtins_catalog + builtins_catalog_count;
}

#define PGCAT_PROLANG_INTERNAL 12
#define PGCAT_TYPE_ANY         2276

static int proc_row(pgcat__scan_t *s, const builtin_t *b)
{
    if (b->proc_oid == 0)
        return 0;                   /* NextDB-only function: PostgreSQL has no OID for it */
    bool variadic = b->nargs == BUILTIN_VARIADIC;
    row_begin(s);
    set_i64(s, "oid", b->proc_oid);
    set_str(s, "proname", b->name);
    set_i64(s, "pronamespace", CAT_NS_PG_CATALOG);
    set_i64(s, "proowner", CAT_SUPERUSER_OID);
    set_i64(s, "prolang", PGCAT_PROLANG_INTERNAL);
    set_f64(s, "procost", 1);
    set_f64(s, "prorows", 0);
    set_i64(s, "provariadic", variadic ? PGCAT_TYPE_ANY : 0);
    set_char(s, "prokind", 'f');
    set_bool(s, "prosecdef", false);
    set_bool(s, "proleakproof", false);
    set_bool(s, "proisstrict", b->strict);
    set_bool(s, "proretset", false);
    set_char(s, "provolatile", b->volatility);
    set_char(s, "proparallel", 's');
    set_i64(s, "pronargs", variadic ? 1 : b->nargs);
    set_i64(s, "pronargdefaults", 0);
    set_i64(s, "prorettype", b->rettype);
    strbuf_t sb;
    strbuf_init(&sb);
    for (int k = 0; k < (variadic ? 1 : b->nargs); k++) {
        type_oid_t t = variadic ? TYPE_INVALID : b->argtypes[k];
        strbuf_printf(&sb, "%s%u", k ? " " : "", t == TYPE_INVALID ? PGCAT_TYPE_ANY : t);
    }
    if (sb.oom)
        s->oom = true;
    else
        set_strn(s, "proargtypes", sb.data ? sb.data : "", sb.len);
    strbuf_free(&sb);
    set_str(s, "prosrc", b->name);
    return row_emit(s);
}

static int gen_proc(pgcat__scan_t *s)
{
    int n = builtin_count();
    bool has_catalog = false;
    for (int i = 0; i < n; i++) {
        const builtin_t *b = builtin_at(i);
        has_catalog |= builtin_is_catalog_entry(b);
        int rc = proc_row(s, b);
        if (rc)
            return rc;
    }
    if (has_catalog)
        return 0;                   /* builtin_at already walks the catalog functions */
    for (int i = 0; i < builtins_catalog_count; i++) {
        int rc = proc_row(s, &builtins_catalog[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* pg_attrdef.oid: NextDB keeps no OID for a default, so defaults are numbered in
 * snapshot order from PGCAT_ATTRDEF_OID_BASE (unique within pg_attrdef, stable for
 * one catalog version only; nothing psql sends joins on it). */
#define PGCAT_ATTRDEF_OID_BASE 1

static int gen_attrdef(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    uint32_t next_oid = PGCAT_ATTRDEF_OID_BASE;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        for (int k = 0; k < tab->ncols; k++) {
            const cat_column_t *col = &tab->cols[k];
            if (col->dropped || !col->default_sql || col->identity)
                continue;
            row_begin(s);
            set_i64(s, "oid", next_oid++);
            set_i64(s, "adrelid", tab->oid);
            set_i64(s, "adnum", col->attnum);
            set_str(s, "adbin", col->default_sql);
            EMIT_OR_RETURN(s);
        }
    }
    return 0;
}

static int gen_tablespace(pgcat__scan_t *s)
{
    static const struct { uint32_t oid; const char *name; } ts[] = {
        {PGCAT_TABLESPACE_DEFAULT, "pg_default"}, {PGCAT_TABLESPACE_GLOBAL, "pg_global"},
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        row_begin(s);
        set_i64(s, "oid", ts[i].oid);
        set_str(s, "spcname", ts[i].name);
        set_i64(s, "spcowner", CAT_SUPERUSER_OID);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

static int gen_collation(pgcat__scan_t *s)
{
    static const struct { uint32_t oid; const char *name; char provider; const char *loc; }
        coll[] = {
            {PGCAT_COLL_DEFAULT, "default", 'd', NULL},
            {PGCAT_COLL_C, "C", 'c', "C"},
            {951, "POSIX", 'c', "POSIX"},
        };
    for (size_t i = 0; i < sizeof coll / sizeof coll[0]; i++) {
        row_begin(s);
        set_i64(s, "oid", coll[i].oid);
        set_str(s, "collname", coll[i].name);
        set_i64(s, "collnamespace", CAT_NS_PG_CATALOG);
        set_i64(s, "collowner", CAT_SUPERUSER_OID);
        set_char(s, "collprovider", coll[i].provider);
        set_bool(s, "collisdeterministic", true);
        set_i64(s, "collencoding", -1);
        set_str(s, "collcollate", coll[i].loc);
        set_str(s, "collctype", coll[i].loc);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* The extensions that are built in: plpgsql (as every PostgreSQL has it) and
 * pgvector's vector (its type, operators and hnsw are always present, so
 * CREATE EXTENSION vector has nothing to add; sql/README.md). */
static int gen_extension(pgcat__scan_t *s)
{
    static const struct { uint32_t oid; const char *name, *version; } ext[] = {
        {13568, "plpgsql", "1.0"},
        {8102, "vector", "0.7.0"},
    };
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        row_begin(s);
        set_i64(s, "oid", ext[i].oid);
        set_str(s, "extname", ext[i].name);
        set_i64(s, "extowner", CAT_SUPERUSER_OID);
        set_i64(s, "extnamespace", i == 0 ? CAT_NS_PG_CATALOG : CAT_NS_PUBLIC);
        set_bool(s, "extrelocatable", i != 0);
        set_str(s, "extversion", ext[i].version);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* ---- information_schema ---- */

static int is_table_row(pgcat__scan_t *s, const char *schema, const char *name, char relkind)
{
    row_begin(s);
    set_str(s, "table_catalog", s->ctx->database);
    set_str(s, "table_schema", schema);
    set_str(s, "table_name", name);
    set_str(s, "table_type", relkind == 'v' ? "VIEW" : "BASE TABLE");
    set_str(s, "is_insertable_into", relkind == 'v' ? "NO" : "YES");
    set_str(s, "is_typed", "NO");
    return row_emit(s);
}

static int gen_is_tables(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat__table_t *t = &pgcat__tables[i];
        int rc = is_table_row(s, pgcat__ns_name(t->vt.namespace_oid), t->vt.name, t->relkind);
        if (rc)
            return rc;
    }
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        if (tab->relkind == 'S')
            continue;      /* sequences are in information_schema.sequences, not here */
        int rc = is_table_row(s, pgcat__ns_name(tab->namespace_oid), tab->name, tab->relkind);
        if (rc)
            return rc;
    }
    return 0;
}

/* pg_views and information_schema.views: the user's views (CREATE VIEW), with the
 * stored query as their definition (pg_get_viewdef's text). NextDB's own virtual
 * catalog views have no SQL definition and are not listed. Views are never
 * updatable here (sql/exec_view.c). */
static int gen_views(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        if (tab->relkind != 'v' || !tab->view_sql)
            continue;
        row_begin(s);
        set_str(s, "schemaname", pgcat__ns_name(tab->namespace_oid));
        set_str(s, "viewname", tab->name);
        set_str(s, "viewowner", pgcat__role_name(CAT_SUPERUSER_OID, s->ctx->user));
        strbuf_t sb;
        strbuf_init(&sb);
        strbuf_printf(&sb, " %s;", tab->view_sql);
        set_strn(s, "definition", sb.data ? sb.data : "", sb.len);
        strbuf_free(&sb);
        int rc = row_emit(s);
        if (rc)
            return rc;
    }
    return 0;
}

static int tables_row(pgcat__scan_t *s, const char *ns, const char *name, bool indexes)
{
    row_begin(s);
    set_str(s, "schemaname", ns);
    set_str(s, "tablename", name);
    set_str(s, "tableowner", pgcat__role_name(CAT_SUPERUSER_OID, s->ctx->user));
    set_bool(s, "hasindexes", indexes);
    set_bool(s, "hasrules", false);
    set_bool(s, "hastriggers", false);
    set_bool(s, "rowsecurity", false);
    return row_emit(s);
}

/* pg_tables: the user tables, then the catalog relations that are tables in
 * PostgreSQL (relkind 'r'), as PostgreSQL lists both. */
static int gen_tables(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        if (tab->relkind != 'r')
            continue;
        int rc = tables_row(s, pgcat__ns_name(tab->namespace_oid), tab->name,
                            tab->npk || tab->nindexes || tab->nvindexes);
        if (rc)
            return rc;
    }
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat__table_t *t = &pgcat__tables[i];
        if (t->relkind != 'r')
            continue;
        int rc = tables_row(s, pgcat__ns_name(t->vt.namespace_oid), t->vt.name, true);
        if (rc)
            return rc;
    }
    return 0;
}

static int gen_is_views(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        if (tab->relkind != 'v' || !tab->view_sql)
            continue;
        row_begin(s);
        set_str(s, "table_catalog", s->ctx->database);
        set_str(s, "table_schema", pgcat__ns_name(tab->namespace_oid));
        set_str(s, "table_name", tab->name);
        strbuf_t sb;
        strbuf_init(&sb);
        strbuf_printf(&sb, " %s;", tab->view_sql);
        set_strn(s, "view_definition", sb.data ? sb.data : "", sb.len);
        strbuf_free(&sb);
        set_str(s, "check_option", "NONE");
        set_str(s, "is_updatable", "NO");
        set_str(s, "is_insertable_into", "NO");
        set_str(s, "is_trigger_updatable", "NO");
        set_str(s, "is_trigger_deletable", "NO");
        set_str(s, "is_trigger_insertable_into", "NO");
        int rc = row_emit(s);
        if (rc)
            return rc;
    }
    return 0;
}

/* The numeric and character facts information_schema.columns derives from a type. */
static void is_column_type_facts(pgcat__scan_t *s, type_oid_t t, int32_t typmod)
{
    int prec = 0;
    switch (t) {
    case TYPE_INT2: prec = 16; break;
    case TYPE_INT4: prec = 32; break;
    case TYPE_INT8: prec = 64; break;
    case TYPE_FLOAT4: prec = 24; break;
    case TYPE_FLOAT8: prec = 53; break;
    default: break;
    }
    if (prec) {
        set_i64(s, "numeric_precision", prec);
        set_i64(s, "numeric_precision_radix", 2);
        if (t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8)
            set_i64(s, "numeric_scale", 0);
    }
    if (t == TYPE_NUMERIC) {
        set_i64(s, "numeric_precision_radix", 10);
        if (typmod >= 4) {
            set_i64(s, "numeric_precision", ((typmod - 4) >> 16) & 0xffff);
            set_i64(s, "numeric_scale", (typmod - 4) & 0xffff);
        }
    }
    if (t == TYPE_DATE)
        set_i64(s, "datetime_precision", 0);
    if (t == TYPE_TIMESTAMP || t == TYPE_TIMESTAMPTZ)
        set_i64(s, "datetime_precision", typmod >= 0 ? typmod : 6);
    if (t == TYPE_VARCHAR || t == TYPE_BPCHAR || t == TYPE_TEXT) {
        /* UTF-8: up to 4 bytes per character; unbounded text is 1 GB. */
        if (t != TYPE_TEXT && typmod >= 4) {
            set_i64(s, "character_maximum_length", typmod - 4);
            set_i64(s, "character_octet_length", (int64_t)(typmod - 4) * 4);
        } else {
            set_i64(s, "character_octet_length", 1073741824);
        }
    }
}

static int is_column_row(pgcat__scan_t *s, const char *schema, const char *table,
                         char relkind, const char *name, int attnum, type_oid_t t,
                         int32_t typmod, bool not_null, const char *default_sql, char identity)
{
    const type_info_t *ti = type_lookup(t);
    char dtd[16];
    strbuf_t sb;
    strbuf_init(&sb);
    if (ti && ti->elem_oid)
        strbuf_puts(&sb, "ARRAY");
    else
        type_format(t, -1, &sb);
    row_begin(s);
    set_str(s, "table_catalog", s->ctx->database);
    set_str(s, "table_schema", schema);
    set_str(s, "table_name", table);
    set_str(s, "column_name", name);
    set_i64(s, "ordinal_position", attnum);
    set_str(s, "column_default", default_sql);
    set_str(s, "is_nullable", not_null ? "NO" : "YES");
    if (sb.oom)
        s->oom = true;
    else
        set_strn(s, "data_type", sb.data, sb.len);
    strbuf_free(&sb);
    is_column_type_facts(s, t, typmod);
    if (type_collation(t) == PGCAT_COLL_C) {
        set_str(s, "collation_catalog", s->ctx->database);
        set_str(s, "collation_schema", "pg_catalog");
        set_str(s, "collation_name", "C");
    }
    set_str(s, "udt_catalog", s->ctx->database);
    set_str(s, "udt_schema", "pg_catalog");
    set_str(s, "udt_name", ti ? ti->name : NULL);
    snprintf(dtd, sizeof dtd, "%d", attnum);
    set_str(s, "dtd_identifier", dtd);
    set_str(s, "is_self_referencing", "NO");
    set_str(s, "is_identity", identity ? "YES" : "NO");
    if (identity)
        set_str(s, "identity_generation", identity == 'a' ? "ALWAYS" : "BY DEFAULT");
    set_str(s, "identity_cycle", "NO");
    set_str(s, "is_generated", "NEVER");
    set_str(s, "is_updatable", relkind == 'v' ? "NO" : "YES");
    return row_emit(s);
}

static int gen_is_columns(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < PGCAT_TABLES_COUNT; i++) {
        const pgcat_vtab_t *vt = &pgcat__tables[i].vt;
        for (int k = 0; k < vt->ncols; k++) {
            int rc = is_column_row(s, pgcat__ns_name(vt->namespace_oid), vt->name,
                                   pgcat__tables[i].relkind, vt->cols[k].name, k + 1,
                                   vt->cols[k].type, -1, false, NULL, 0);
            if (rc)
                return rc;
        }
    }
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        for (int k = 0; k < tab->ncols; k++) {
            const cat_column_t *col = &tab->cols[k];
            if (col->dropped)
                continue;
            int rc = is_column_row(s, pgcat__ns_name(tab->namespace_oid), tab->name,
                                   tab->relkind, col->name, col->attnum, col->type, col->typmod,
                                   col->not_null, col->identity ? NULL : col->default_sql, col->identity);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int gen_is_schemata(pgcat__scan_t *s)
{
    static const uint32_t ns[] = {CAT_NS_INFO_SCHEMA, CAT_NS_PG_CATALOG, PGCAT_NS_PG_TOAST,
                                  CAT_NS_PUBLIC};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        row_begin(s);
        set_str(s, "catalog_name", s->ctx->database);
        set_str(s, "schema_name", pgcat__ns_name(ns[i]));
        set_str(s, "schema_owner", pgcat__role_name(ns[i] == CAT_NS_PUBLIC
                                                        ? PGCAT_ROLE_DB_OWNER
                                                        : CAT_SUPERUSER_OID,
                                                    s->ctx->user));
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* One row per client session on any shard (activity.h), gathered through the
 * context's hook; without one (no server around the catalog) there are none. */
static int gen_stat_activity(pgcat__scan_t *s)
{
    static const char *const states[] = {
        [ACTIVITY_IDLE] = "idle", [ACTIVITY_ACTIVE] = "active",
        [ACTIVITY_IDLE_IN_TXN] = "idle in transaction",
        [ACTIVITY_IDLE_IN_TXN_ABORTED] = "idle in transaction (aborted)",
    };
    if (!s->ctx->activity)
        return 0;
    sql_activity_t *rows = NULL;
    int n = 0;
    if (s->ctx->activity(s->arena, &rows, &n, s->err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const sql_activity_t *r = &rows[i];
        row_begin(s);
        set_i64(s, "datid", PGCAT_DATABASE_OID);
        set_str(s, "datname", r->datname);
        set_i64(s, "pid", r->pid);
        set_i64(s, "usesysid", CAT_SUPERUSER_OID);
        set_str(s, "usename", r->usename);
        set_str(s, "application_name", r->application_name);
        if (r->client_addr[0])
            set_str(s, "client_addr", r->client_addr);
        if (r->client_port >= 0)
            set_i64(s, "client_port", r->client_port);
        set_ts(s, "backend_start", r->backend_start);
        set_ts(s, "xact_start", r->xact_start);
        set_ts(s, "query_start", r->query_start);
        set_ts(s, "state_change", r->state_change);
        if (r->lock_wait) {
            set_str(s, "wait_event_type", "Lock");
            set_str(s, "wait_event", "transactionid");
        } else if (r->state != ACTIVITY_ACTIVE) {
            set_str(s, "wait_event_type", "Client");    /* waiting for the client, as PostgreSQL */
            set_str(s, "wait_event", "ClientRead");
        }
        set_str(s, "state", states[r->state]);
        set_str(s, "query", r->query);
        set_str(s, "backend_type", r->backend_type);
        EMIT_OR_RETURN(s);
    }
    return 0;
}

/* ---- index and constraint views (sql/secindex.h) ---- */

static int indexes_row(pgcat__scan_t *s, const cat_table_t *tab, uint32_t oid, const char *name)
{
    datum_t def;
    bool isnull;
    if (pgcat__index_def(s->ctx->catalog, s->arena, oid, &def, &isnull, s->err) < 0)
        return -1;
    row_begin(s);
    set_str(s, "schemaname", pgcat__ns_name(tab->namespace_oid));
    set_str(s, "tablename", tab->name);
    set_str(s, "indexname", name);
    if (!isnull)
        set_strn(s, "indexdef", def.s->data, def.s->len);
    return row_emit(s);
}

/* pg_indexes: one row per index of a user table (primary keys, HNSW and secondary). */
static int gen_indexes(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        int rc = tab->npk ? indexes_row(s, tab, tab->pk_index_oid, pgcat__pk_name(tab)) : 0;
        for (int k = 0; rc == 0 && k < tab->nvindexes; k++)
            rc = indexes_row(s, tab, tab->vindexes[k].oid, tab->vindexes[k].name);
        for (int k = 0; rc == 0 && k < tab->nindexes; k++)
            rc = indexes_row(s, tab, tab->indexes[k].oid, tab->indexes[k].name);
        if (rc)
            return rc;
    }
    return 0;
}

static void constraint_common(pgcat__scan_t *s, const cat_table_t *tab, const char *name)
{
    const char *ns = pgcat__ns_name(tab->namespace_oid);
    row_begin(s);
    set_str(s, "constraint_catalog", s->ctx->database);
    set_str(s, "constraint_schema", ns);
    set_str(s, "constraint_name", name);
    set_str(s, "table_catalog", s->ctx->database);
    set_str(s, "table_schema", ns);
    set_str(s, "table_name", tab->name);
}

static int tc_row(pgcat__scan_t *s, const cat_table_t *tab, const char *name, const char *type, bool nulls_col)
{
    constraint_common(s, tab, name);
    set_str(s, "constraint_type", type);
    set_str(s, "is_deferrable", "NO");
    set_str(s, "initially_deferred", "NO");
    set_str(s, "enforced", "YES");
    if (nulls_col)
        set_str(s, "nulls_distinct", "YES");
    return row_emit(s);
}

/* information_schema.table_constraints: PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK, and
 * PostgreSQL's NOT NULL checks named "<namespace oid>_<table oid>_<attnum>_not_null". */
static int gen_is_table_constraints(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        if (tab->relkind != 'r')
            continue;
        int rc = tab->npk ? tc_row(s, tab, pgcat__pk_name(tab), "PRIMARY KEY", false) : 0;
        for (int k = 0; rc == 0 && k < tab->nindexes; k++)
            if (tab->indexes[k].constraint)
                rc = tc_row(s, tab, tab->indexes[k].name, "UNIQUE", true);
        for (int k = 0; rc == 0 && k < tab->nfks; k++)
            rc = tc_row(s, tab, tab->fks[k].name, "FOREIGN KEY", false);
        for (int k = 0; rc == 0 && k < tab->nchecks; k++)
            rc = tc_row(s, tab, tab->checks[k].name, "CHECK", false);
        for (int k = 0; rc == 0 && k < tab->ncols; k++) {
            if (!tab->cols[k].not_null || tab->cols[k].dropped)
                continue;
            char nm[64];
            snprintf(nm, sizeof nm, "%u_%u_%d_not_null", tab->namespace_oid, tab->oid, tab->cols[k].attnum);
            rc = tc_row(s, tab, nm, "CHECK", false);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int kcu_row(pgcat__scan_t *s, const cat_table_t *tab, const char *name, int16_t attnum, int pos, int upos)
{
    const cat_column_t *col = table_col(tab, attnum);
    if (!col)
        return 0;
    constraint_common(s, tab, name);
    set_str(s, "column_name", col->name);
    set_i64(s, "ordinal_position", pos);
    if (upos > 0)
        set_i64(s, "position_in_unique_constraint", upos);
    return row_emit(s);
}

/* The position of attnum in the key a foreign key references (its ref_attnums order
 * is the child's; PostgreSQL numbers by the referenced constraint's columns). */
static int ref_position(const catalog_t *c, const cat_table_t *child, const cat_fk_t *f, int i)
{
    const cat_table_t *par = catalog_table_by_oid(c, f->ref_table ? f->ref_table : child->oid);
    if (!par)
        return i + 1;
    for (int k = 0; k < par->npk; k++)
        if (par->pk_attnums[k] == f->ref_attnums[i] && par->npk == f->ncols)
            return k + 1;
    for (int x = 0; x < par->nindexes; x++) {
        const cat_index_t *ix = &par->indexes[x];
        if (!ix->unique || ix->ncols != f->ncols)
            continue;
        for (int k = 0; k < ix->ncols; k++)
            if (ix->attnums[k] == f->ref_attnums[i])
                return k + 1;
    }
    return i + 1;
}

/* information_schema.key_column_usage: the columns of PRIMARY KEY, UNIQUE and FOREIGN
 * KEY constraints. */
static int gen_is_key_column_usage(pgcat__scan_t *s)
{
    const catalog_t *c = s->ctx->catalog;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        int rc = 0;
        for (int k = 0; rc == 0 && k < tab->npk; k++)
            rc = kcu_row(s, tab, pgcat__pk_name(tab), tab->pk_attnums[k], k + 1, 0);
        for (int x = 0; rc == 0 && x < tab->nindexes; x++)
            for (int k = 0; rc == 0 && tab->indexes[x].constraint && k < tab->indexes[x].ncols; k++)
                rc = kcu_row(s, tab, tab->indexes[x].name, tab->indexes[x].attnums[k], k + 1, 0);
        for (int x = 0; rc == 0 && x < tab->nfks; x++)
            for (int k = 0; rc == 0 && k < tab->fks[x].ncols; k++)
                rc = kcu_row(s, tab, tab->fks[x].name, tab->fks[x].attnums[k], k + 1,
                             ref_position(c, tab, &tab->fks[x], k));
        if (rc)
            return rc;
    }
    return 0;
}
