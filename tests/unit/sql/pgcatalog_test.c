/*
 * pgcatalog_test.c -- the virtual catalog tables and catalog functions against a
 * hand-built catalog_t: one table
 *     CREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x',
 *                     score float8, <a dropped column>)
 * Expected values are what PostgreSQL 15 shows for the same table (see
 * sql/PGCATALOG.md), except where that file documents a deviation.
 */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/builtins.h"
#include "sql/pgcatalog.h"
#include "sql/pgcatalog_int.h"
#include "tests/unit/test.h"

#define T_OID    16384
#define T_PK_OID 16386

static cat_column_t t_cols[] = {
    {"id", 1, TYPE_INT4, -1, true, false, NULL},
    {"name", 2, TYPE_VARCHAR, 24, true, false, "'x'::character varying"},
    {"score", 3, TYPE_FLOAT8, -1, false, false, NULL},
    {"gone", 4, TYPE_INT4, -1, false, true, NULL},
};
static int16_t t_pk[] = {1};
static const cat_table_t t_table = {T_OID, CAT_NS_PUBLIC, "t", 'r', 4, t_cols, 1, t_pk,
                                    T_PK_OID, "t_pkey", 0};
static const cat_table_t *t_tables[] = {&t_table};
static const catalog_t t_catalog = {1, 1, t_tables};

static const char *const setting_names[] = {"server_version", "TimeZone"};
static const char *const setting_values[] = {"15.4", "UTC"};

static pgcat_ctx_t test_ctx(void)
{
    return (pgcat_ctx_t){&t_catalog, "alice", "postgres", 2, setting_names, setting_values};
}

/* ---- collecting rows ---- */

#define ROWS_MAX 4096

typedef struct rows {
    const pgcat_vtab_t *vt;
    int n;
    datum_t *vals;       /* n * ncols */
    bool *nulls;
    int stop_after;      /* emit returns 7 after this many rows; 0 = never */
} rows_t;

static int collect(void *arg, const datum_t *vals, const bool *nulls)
{
    rows_t *r = arg;
    if (r->n >= ROWS_MAX)
        return 99;
    memcpy(r->vals + (size_t)r->n * r->vt->ncols, vals, sizeof *vals * r->vt->ncols);
    memcpy(r->nulls + (size_t)r->n * r->vt->ncols, nulls, sizeof *nulls * r->vt->ncols);
    r->n++;
    return r->stop_after && r->n >= r->stop_after ? 7 : 0;
}

/* Scans namespace.name into r (arrays allocated in a); returns pgcat_scan's result. */
static int scan(arena_t *a, uint32_t ns, const char *name, rows_t *r)
{
    sql_error_t err = {0};
    pgcat_ctx_t ctx = test_ctx();
    memset(r, 0, sizeof *r);
    r->vt = pgcat_lookup(ns, name);
    if (!r->vt)
        return -100;
    r->vals = arena_alloc(a, sizeof(datum_t) * ROWS_MAX * r->vt->ncols);
    r->nulls = arena_alloc(a, sizeof(bool) * ROWS_MAX * r->vt->ncols);
    return pgcat_scan(r->vt, &ctx, a, collect, r, &err);
}

static int col(const rows_t *r, const char *name)
{
    for (int i = 0; i < r->vt->ncols; i++)
        if (strcmp(r->vt->cols[i].name, name) == 0)
            return i;
    fprintf(stderr, "  no column %s in %s\n", name, r->vt->name);
    abort();
}

static bool is_null(const rows_t *r, int row, const char *name)
{
    return r->nulls[(size_t)row * r->vt->ncols + col(r, name)];
}

static int64_t ival(const rows_t *r, int row, const char *name)
{
    ASSERT(!is_null(r, row, name));
    return r->vals[(size_t)row * r->vt->ncols + col(r, name)].i64;
}

/* The string value as a NUL-terminated copy (static buffer, one at a time per call). */
static const char *sval(const rows_t *r, int row, const char *name)
{
    static char buf[4][256];
    static int k;
    if (is_null(r, row, name))
        return NULL;
    int c = col(r, name);
    datum_t d = r->vals[(size_t)row * r->vt->ncols + c];
    char *b = buf[k++ % 4];
    if (type_is_array(r->vt->cols[c].type)) {
        /* vectors and arrays: their text form ("1 2", "{1}") */
        strbuf_t sb;
        strbuf_init(&sb);
        type_out_text(r->vt->cols[c].type, -1, d, &sb);
        snprintf(b, sizeof buf[0], "%.*s", (int)sb.len, sb.data ? sb.data : "");
        strbuf_free(&sb);
        return b;
    }
    snprintf(b, sizeof buf[0], "%.*s", (int)d.s->len, d.s->data);
    return b;
}

/* The first row whose integer column equals v, or -1. */
static int find_i(const rows_t *r, const char *name, int64_t v)
{
    for (int i = 0; i < r->n; i++)
        if (!is_null(r, i, name) && ival(r, i, name) == v)
            return i;
    return -1;
}

/* The first row with integer column k1 = v1 and string column k2 = v2, or -1. */
static int find_is(const rows_t *r, const char *k1, int64_t v1, const char *k2, const char *v2)
{
    for (int i = 0; i < r->n; i++)
        if (ival(r, i, k1) == v1 && sval(r, i, k2) && strcmp(sval(r, i, k2), v2) == 0)
            return i;
    return -1;
}

/* ---- the table list ---- */

TEST(lookup_and_table_list)
{
    const pgcat_vtab_t *vt = pgcat_lookup(CAT_NS_PG_CATALOG, "pg_class");
    TEST_REQUIRE(vt != NULL);
    TEST_CHECK(vt->oid == 1259 && vt->namespace_oid == CAT_NS_PG_CATALOG);
    TEST_CHECK(pgcat_lookup(CAT_NS_PUBLIC, "pg_class") == NULL);
    TEST_CHECK(pgcat_lookup(CAT_NS_PG_CATALOG, "pg_nothing") == NULL);
    vt = pgcat_lookup(CAT_NS_INFO_SCHEMA, "columns");
    TEST_REQUIRE(vt != NULL);
    TEST_CHECK(vt->ncols == 44);
    static const struct { const char *name; uint32_t oid; } want[] = {
        {"pg_namespace", 2615}, {"pg_attribute", 1249}, {"pg_type", 1247}, {"pg_index", 2610},
        {"pg_constraint", 2606}, {"pg_am", 2601}, {"pg_database", 1262}, {"pg_authid", 1260},
        {"pg_proc", 1255}, {"pg_description", 2609}, {"pg_attrdef", 2604},
        {"pg_inherits", 2611}, {"pg_partitioned_table", 3350}, {"pg_tablespace", 1213},
        {"pg_extension", 3079}, {"pg_trigger", 2620},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        vt = pgcat_lookup(CAT_NS_PG_CATALOG, want[i].name);
        TEST_CHECK(vt && vt->oid == want[i].oid);
    }
    /* OIDs are unique; column names are unique within a table and fit the limit. */
    for (int i = 0; i < pgcat_count(); i++) {
        const pgcat_vtab_t *a = pgcat_at(i);
        TEST_CHECK(a->ncols > 0 && a->ncols <= LIMIT_PGCAT_COLUMNS);
        for (int j = i + 1; j < pgcat_count(); j++)
            TEST_CHECK(pgcat_at(j)->oid != a->oid);
        for (int c = 0; c < a->ncols; c++)
            for (int d = c + 1; d < a->ncols; d++)
                TEST_CHECK(strcmp(a->cols[c].name, a->cols[d].name) != 0);
    }
}

/* ---- rows ---- */

TEST(pg_class_rows)
{
    arena_t a;
    arena_init(&a, 0);
    rows_t r;
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_class", &r) == 0);
    TEST_CHECK(r.n == pgcat_count() + 2);
    int t = find_i(&r, "oid", T_OID);
    TEST_REQUIRE(t >= 0);
    TEST_CHECK(strcmp(sval(&r, t, "relname"), "t") == 0);
    TEST_CHECK(ival(&r, t, "relnamespace") == CAT_NS_PUBLIC);
    TEST_CHECK(ival(&r, t, "relkind") == 'r');
    TEST_CHECK(ival(&r, t, "relowner") == CAT_SUPERUSER_OID);
    TEST_CHECK(ival(&r, t, "relam") == 2);
    TEST_CHECK(ival(&r, t, "relhasindex") == 1);
    TEST_CHECK(ival(&r, t, "relnatts") == 4);
    TEST_CHECK(ival(&r, t, "relpersistence") == 'p');
    TEST_CHECK(ival(&r, t, "relreplident") == 'd');
    TEST_CHECK(ival(&r, t, "reloftype") == 0 && ival(&r, t, "relchecks") == 0);
    TEST_CHECK(is_null(&r, t, "relacl") && is_null(&r, t, "relpartbound"));
    int i = find_i(&r, "oid", T_PK_OID);
    TEST_REQUIRE(i >= 0);
    TEST_CHECK(strcmp(sval(&r, i, "relname"), "t_pkey") == 0);
    TEST_CHECK(ival(&r, i, "relkind") == 'i' && ival(&r, i, "relam") == 403);
    TEST_CHECK(ival(&r, i, "relnatts") == 1 && ival(&r, i, "relreplident") == 'n');
    int c = find_i(&r, "oid", 1259);
    TEST_REQUIRE(c >= 0);
    TEST_CHECK(strcmp(sval(&r, c, "relname"), "pg_class") == 0);
    TEST_CHECK(ival(&r, c, "relnamespace") == CAT_NS_PG_CATALOG && ival(&r, c, "relkind") == 'r');
    int v = find_is(&r, "relnamespace", CAT_NS_PG_CATALOG, "relname", "pg_roles");
    TEST_CHECK(v >= 0 && ival(&r, v, "relkind") == 'v' && ival(&r, v, "relam") == 0);
    int d = find_i(&r, "oid", 1262);
    TEST_CHECK(d >= 0 && ival(&r, d, "relisshared") == 1);
    int is = find_is(&r, "relnamespace", CAT_NS_INFO_SCHEMA, "relname", "tables");
    TEST_CHECK(is >= 0 && ival(&r, is, "relkind") == 'v');
    arena_destroy(&a);
}

TEST(pg_attribute_rows)
{
    arena_t a;
    arena_init(&a, 0);
    rows_t r;
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_attribute", &r) == 0);
    int id = find_is(&r, "attrelid", T_OID, "attname", "id");
    TEST_REQUIRE(id >= 0);
    TEST_CHECK(ival(&r, id, "attnum") == 1 && ival(&r, id, "atttypid") == TYPE_INT4);
    TEST_CHECK(ival(&r, id, "attlen") == 4 && ival(&r, id, "attbyval") == 1);
    TEST_CHECK(ival(&r, id, "atttypmod") == -1 && ival(&r, id, "attnotnull") == 1);
    TEST_CHECK(ival(&r, id, "atthasdef") == 0 && ival(&r, id, "attisdropped") == 0);
    TEST_CHECK(ival(&r, id, "attalign") == 'i' && ival(&r, id, "attstorage") == 'p');
    TEST_CHECK(ival(&r, id, "attidentity") == 0 && ival(&r, id, "attgenerated") == 0);
    TEST_CHECK(ival(&r, id, "attcollation") == 0 && ival(&r, id, "attstattarget") == -1);
    int nm = find_is(&r, "attrelid", T_OID, "attname", "name");
    TEST_REQUIRE(nm >= 0);
    TEST_CHECK(ival(&r, nm, "attnum") == 2 && ival(&r, nm, "atttypid") == TYPE_VARCHAR);
    TEST_CHECK(ival(&r, nm, "atttypmod") == 24 && ival(&r, nm, "attlen") == -1);
    TEST_CHECK(ival(&r, nm, "atthasdef") == 1 && ival(&r, nm, "attcollation") == 100);
    TEST_CHECK(ival(&r, nm, "attstorage") == 'x');
    int sc = find_is(&r, "attrelid", T_OID, "attname", "score");
    TEST_CHECK(sc >= 0 && ival(&r, sc, "attnotnull") == 0 && ival(&r, sc, "attalign") == 'd');
    int dr = find_is(&r, "attrelid", T_OID, "attname", "........pg.dropped.4........");
    TEST_CHECK(dr >= 0 && ival(&r, dr, "attisdropped") == 1 && ival(&r, dr, "atttypid") == 0);
    int ix = find_is(&r, "attrelid", T_PK_OID, "attname", "id");
    TEST_CHECK(ix >= 0 && ival(&r, ix, "attnum") == 1 && ival(&r, ix, "attnotnull") == 0);
    /* The virtual tables describe themselves. */
    int rn = find_is(&r, "attrelid", 1259, "attname", "relname");
    TEST_CHECK(rn >= 0 && ival(&r, rn, "attnum") == 2 && ival(&r, rn, "atttypid") == TYPE_NAME);
    arena_destroy(&a);
}

TEST(pg_index_and_constraint_rows)
{
    arena_t a;
    arena_init(&a, 0);
    rows_t r;
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_index", &r) == 0);
    TEST_REQUIRE(r.n == 1);
    TEST_CHECK(ival(&r, 0, "indexrelid") == T_PK_OID && ival(&r, 0, "indrelid") == T_OID);
    TEST_CHECK(ival(&r, 0, "indisprimary") == 1 && ival(&r, 0, "indisunique") == 1);
    TEST_CHECK(ival(&r, 0, "indisvalid") == 1 && ival(&r, 0, "indisclustered") == 0);
    TEST_CHECK(ival(&r, 0, "indnatts") == 1 && ival(&r, 0, "indnkeyatts") == 1);
    TEST_CHECK(strcmp(sval(&r, 0, "indkey"), "1") == 0);
    TEST_CHECK(strcmp(sval(&r, 0, "indcollation"), "0") == 0);
    TEST_CHECK(strcmp(sval(&r, 0, "indoption"), "0") == 0);
    TEST_CHECK(is_null(&r, 0, "indexprs") && is_null(&r, 0, "indpred"));

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_constraint", &r) == 0);
    TEST_REQUIRE(r.n == 1);
    TEST_CHECK(strcmp(sval(&r, 0, "conname"), "t_pkey") == 0);
    TEST_CHECK(ival(&r, 0, "contype") == 'p' && ival(&r, 0, "conrelid") == T_OID);
    TEST_CHECK(ival(&r, 0, "conindid") == T_PK_OID && ival(&r, 0, "connamespace") == 2200);
    TEST_CHECK(ival(&r, 0, "condeferrable") == 0 && ival(&r, 0, "condeferred") == 0);
    TEST_CHECK(ival(&r, 0, "confupdtype") == ' ' && ival(&r, 0, "connoinherit") == 1);
    TEST_CHECK(strcmp(sval(&r, 0, "conkey"), "{1}") == 0);

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_attrdef", &r) == 0);
    TEST_REQUIRE(r.n == 1);
    TEST_CHECK(ival(&r, 0, "adrelid") == T_OID && ival(&r, 0, "adnum") == 2);
    TEST_CHECK(strcmp(sval(&r, 0, "adbin"), "'x'::character varying") == 0);
    arena_destroy(&a);
}

TEST(small_tables)
{
    arena_t a;
    arena_init(&a, 0);
    rows_t r;
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_namespace", &r) == 0);
    TEST_CHECK(r.n == 4);
    int p = find_i(&r, "oid", CAT_NS_PUBLIC);
    TEST_CHECK(p >= 0 && strcmp(sval(&r, p, "nspname"), "public") == 0);
    TEST_CHECK(p >= 0 && ival(&r, p, "nspowner") == 6171);
    TEST_CHECK(find_is(&r, "oid", 99, "nspname", "pg_toast") >= 0);

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_type", &r) == 0);
    TEST_CHECK(r.n == type_info_count());
    int t = find_i(&r, "oid", TYPE_INT4);
    TEST_CHECK(t >= 0 && strcmp(sval(&r, t, "typname"), "int4") == 0);
    TEST_CHECK(t >= 0 && ival(&r, t, "typlen") == 4 && ival(&r, t, "typtype") == 'b');
    int tx = find_i(&r, "oid", TYPE_TEXT);
    TEST_CHECK(tx >= 0 && ival(&r, tx, "typcollation") == 100 && ival(&r, tx, "typstorage") == 'x');

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_roles", &r) == 0);
    int su = find_i(&r, "oid", CAT_SUPERUSER_OID);
    TEST_CHECK(su >= 0 && strcmp(sval(&r, su, "rolname"), "alice") == 0);
    TEST_CHECK(su >= 0 && ival(&r, su, "rolsuper") == 1 && ival(&r, su, "rolcanlogin") == 1);
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_user", &r) == 0);
    TEST_CHECK(r.n == 1 && strcmp(sval(&r, 0, "usename"), "alice") == 0);

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_database", &r) == 0);
    TEST_CHECK(r.n == 1 && strcmp(sval(&r, 0, "datname"), "postgres") == 0);
    TEST_CHECK(ival(&r, 0, "encoding") == 6 && ival(&r, 0, "datlocprovider") == 'c');
    TEST_CHECK(is_null(&r, 0, "datacl") && is_null(&r, 0, "daticulocale"));

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_settings", &r) == 0);
    TEST_CHECK(r.n == 2 && strcmp(sval(&r, 1, "name"), "TimeZone") == 0);
    TEST_CHECK(strcmp(sval(&r, 1, "setting"), "UTC") == 0);

    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_proc", &r) == 0);
    int f = find_i(&r, "oid", 1642);
    TEST_CHECK(f >= 0 && strcmp(sval(&r, f, "proname"), "pg_get_userbyid") == 0);
    TEST_CHECK(f >= 0 && strcmp(sval(&r, f, "proargtypes"), "26") == 0);
    TEST_CHECK(f >= 0 && ival(&r, f, "prorettype") == TYPE_NAME && ival(&r, f, "provolatile") == 's');
    int g = find_i(&r, "oid", 2507);
    TEST_CHECK(g >= 0 && strcmp(sval(&r, g, "proargtypes"), "26 23 16") == 0);

    static const char *const empty[] = {"pg_description", "pg_inherits", "pg_trigger",
                                        "pg_policy", "pg_sequence"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
        TEST_CHECK(scan(&a, CAT_NS_PG_CATALOG, empty[i], &r) == 0 && r.n == 0);
    /* the built-in extensions: plpgsql and pgvector's vector */
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_extension", &r) == 0);
    TEST_CHECK(r.n == 2 && strcmp(sval(&r, 0, "extname"), "plpgsql") == 0 &&
               strcmp(sval(&r, 1, "extname"), "vector") == 0);
    arena_destroy(&a);
}

TEST(information_schema_rows)
{
    arena_t a;
    arena_init(&a, 0);
    rows_t r;
    TEST_REQUIRE(scan(&a, CAT_NS_INFO_SCHEMA, "tables", &r) == 0);
    int t = -1;
    for (int i = 0; i < r.n; i++)
        if (strcmp(sval(&r, i, "table_name"), "t") == 0)
            t = i;
    TEST_REQUIRE(t >= 0);
    TEST_CHECK(strcmp(sval(&r, t, "table_schema"), "public") == 0);
    TEST_CHECK(strcmp(sval(&r, t, "table_type"), "BASE TABLE") == 0);
    TEST_CHECK(strcmp(sval(&r, t, "table_catalog"), "postgres") == 0);

    TEST_REQUIRE(scan(&a, CAT_NS_INFO_SCHEMA, "columns", &r) == 0);
    int nm = -1, id = -1, n_t = 0;
    for (int i = 0; i < r.n; i++) {
        if (strcmp(sval(&r, i, "table_name"), "t") != 0)
            continue;
        n_t++;
        if (strcmp(sval(&r, i, "column_name"), "name") == 0)
            nm = i;
        if (strcmp(sval(&r, i, "column_name"), "id") == 0)
            id = i;
    }
    TEST_CHECK(n_t == 3);   /* the dropped column is not listed */
    TEST_REQUIRE(nm >= 0 && id >= 0);
    TEST_CHECK(strcmp(sval(&r, nm, "data_type"), "character varying") == 0);
    TEST_CHECK(ival(&r, nm, "character_maximum_length") == 20);
    TEST_CHECK(ival(&r, nm, "character_octet_length") == 80);
    TEST_CHECK(strcmp(sval(&r, nm, "is_nullable"), "NO") == 0);
    TEST_CHECK(strcmp(sval(&r, nm, "column_default"), "'x'::character varying") == 0);
    TEST_CHECK(strcmp(sval(&r, id, "data_type"), "integer") == 0);
    TEST_CHECK(ival(&r, id, "numeric_precision") == 32 && ival(&r, id, "numeric_scale") == 0);
    TEST_CHECK(strcmp(sval(&r, id, "udt_name"), "int4") == 0);
    TEST_CHECK(strcmp(sval(&r, id, "dtd_identifier"), "1") == 0);

    TEST_REQUIRE(scan(&a, CAT_NS_INFO_SCHEMA, "schemata", &r) == 0);
    TEST_CHECK(r.n == 4);
    TEST_CHECK(strcmp(sval(&r, 3, "schema_name"), "public") == 0);
    TEST_CHECK(strcmp(sval(&r, 3, "schema_owner"), "pg_database_owner") == 0);
    arena_destroy(&a);
}

TEST(scan_stops_and_fails_cleanly)
{
    arena_t a;
    arena_init(&a, 0);
    rows_t r;
    sql_error_t err = {0};
    pgcat_ctx_t ctx = test_ctx();
    const pgcat_vtab_t *vt = pgcat_lookup(CAT_NS_PG_CATALOG, "pg_class");
    memset(&r, 0, sizeof r);
    r.vt = vt;
    r.vals = arena_alloc(&a, sizeof(datum_t) * ROWS_MAX * vt->ncols);
    r.nulls = arena_alloc(&a, sizeof(bool) * ROWS_MAX * vt->ncols);
    r.stop_after = 3;
    TEST_CHECK(pgcat_scan(vt, &ctx, &a, collect, &r, &err) == 7);
    TEST_CHECK(r.n == 3 && !sql_error_is_set(&err));
    arena_destroy(&a);

    /* An arena too small for the strings: 53200, not a crash. */
    arena_t tiny;
    arena_init(&tiny, 256);
    r.n = 0;
    r.stop_after = 0;
    arena_t big;
    arena_init(&big, 0);
    r.vals = arena_alloc(&big, sizeof(datum_t) * ROWS_MAX * vt->ncols);
    r.nulls = arena_alloc(&big, sizeof(bool) * ROWS_MAX * vt->ncols);
    TEST_CHECK(pgcat_scan(vt, &ctx, &tiny, collect, &r, &err) == -1);
    TEST_CHECK(strcmp(err.sqlstate, SQLSTATE_OUT_OF_MEMORY) == 0);
    arena_destroy(&tiny);
    arena_destroy(&big);
}

/* Every value of every table has a text form (what SELECT * sends) and every declared
 * type is known to the types module (what RowDescription needs). */
TEST(every_table_renders)
{
    arena_t a;
    arena_init(&a, 0);
    for (int t = 0; t < pgcat_count(); t++) {
        const pgcat_vtab_t *vt = pgcat_at(t);
        rows_t r;
        TEST_REQUIRE(scan(&a, vt->namespace_oid, vt->name, &r) == 0);
        for (int c = 0; c < vt->ncols; c++)
            TEST_CHECK(type_lookup(vt->cols[c].type) != NULL);
        strbuf_t sb;
        strbuf_init(&sb);
        for (int i = 0; i < r.n; i++)
            for (int c = 0; c < vt->ncols; c++)
                if (!r.nulls[(size_t)i * vt->ncols + c])
                    type_out_text(vt->cols[c].type, -1, r.vals[(size_t)i * vt->ncols + c], &sb);
        TEST_CHECK(!sb.oom);
        strbuf_free(&sb);
        arena_reset(&a);
    }
    /* The pg_class row of t, as text, column by column. */
    rows_t r;
    TEST_REQUIRE(scan(&a, CAT_NS_PG_CATALOG, "pg_class", &r) == 0);
    int row = find_i(&r, "oid", T_OID);
    TEST_REQUIRE(row >= 0);
    strbuf_t sb;
    strbuf_init(&sb);
    for (int c = 0; c < r.vt->ncols; c++) {
        if (c)
            strbuf_putc(&sb, '|');
        if (!r.nulls[(size_t)row * r.vt->ncols + c])
            type_out_text(r.vt->cols[c].type, -1, r.vals[(size_t)row * r.vt->ncols + c], &sb);
    }
    TEST_CHECK(strcmp(sb.data, "16384|t|2200|0|0|10|2|16384|0|0|-1|0|0|t|f|p|r|4|0|f|f|f|f|f|t|d|f|0|||")
               == 0);
    strbuf_free(&sb);
    arena_destroy(&a);
}

/* ---- functions ---- */

typedef struct call {
    arena_t arena;
    builtin_ctx_t ctx;
    sql_error_t err;
    datum_t out;
    bool isnull;
    char text[512];
} call_t;

static void call_init(call_t *c)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->arena, 0);
    c->ctx.user = "alice";
    c->ctx.database = "postgres";
    c->ctx.arena = &c->arena;
    c->ctx.catalog = &t_catalog;
    c->ctx.backend_pid = 4242;
}

static datum_t str(call_t *c, const char *s) { return (datum_t){.s = vstr_new(&c->arena, s, strlen(s))}; }
static datum_t num(int64_t v) { return (datum_t){.i64 = v}; }

/* Calls the catalog function name with exactly these argument types; returns its rc.
 * A string result is copied to c->text. */
static int invoke(call_t *c, const char *name, int nargs, const type_oid_t *types,
                  const datum_t *args, const bool *nulls)
{
    for (int i = 0; i < builtins_catalog_count; i++) {
        const builtin_t *b = &builtins_catalog[i];
        if (strcmp(b->name, name) != 0 || b->nargs != nargs)
            continue;
        if (nargs && memcmp(b->argtypes, types, sizeof *types * nargs) != 0)
            continue;
        bool no_nulls[BUILTIN_ARGS_MAX] = {0};
        sql_error_clear(&c->err);
        c->isnull = false;
        c->text[0] = 0;
        int rc = b->fn(&c->ctx, nargs, args, nulls ? nulls : no_nulls, types, &c->out,
                       &c->isnull, &c->err);
        bool stringy = b->rettype == TYPE_TEXT || b->rettype == TYPE_NAME;
        if (rc == 0 && !c->isnull && stringy)
            snprintf(c->text, sizeof c->text, "%.*s", (int)c->out.s->len, c->out.s->data);
        return rc;
    }
    fprintf(stderr, "  no catalog function %s/%d\n", name, nargs);
    abort();
}

TEST(functions_names_and_types)
{
    call_t c;
    call_init(&c);
    type_oid_t o[] = {TYPE_OID}, oi[] = {TYPE_OID, TYPE_INT4}, i4[] = {TYPE_INT4};
    TEST_CHECK(invoke(&c, "pg_get_userbyid", 1, o, (datum_t[]){num(10)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "alice") == 0);
    TEST_CHECK(invoke(&c, "pg_get_userbyid", 1, o, (datum_t[]){num(6171)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "pg_database_owner") == 0);
    TEST_CHECK(invoke(&c, "pg_get_userbyid", 1, o, (datum_t[]){num(12345)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "unknown (OID=12345)") == 0);
    TEST_CHECK(invoke(&c, "format_type", 2, oi, (datum_t[]){num(1043), num(24)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "character varying(20)") == 0);
    TEST_CHECK(invoke(&c, "format_type", 2, oi, (datum_t[]){num(23), num(0)},
                      (bool[]){false, true}) == 0);
    TEST_CHECK(strcmp(c.text, "integer") == 0);
    TEST_CHECK(invoke(&c, "format_type", 2, oi, (datum_t[]){num(0), num(1)},
                      (bool[]){true, false}) == 0 && c.isnull);
    TEST_CHECK(invoke(&c, "format_type", 2, oi, (datum_t[]){num(12345), num(-1)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "???") == 0);
    TEST_CHECK(invoke(&c, "pg_encoding_to_char", 1, i4, (datum_t[]){num(6)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "UTF8") == 0);
    TEST_CHECK(invoke(&c, "pg_encoding_to_char", 1, i4, (datum_t[]){num(42)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "") == 0);
    TEST_CHECK(invoke(&c, "current_schema", 0, NULL, NULL, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "public") == 0);
    TEST_CHECK(invoke(&c, "pg_type_is_visible", 1, o, (datum_t[]){num(23)}, NULL) == 0);
    TEST_CHECK(!c.isnull && c.out.i64 == 1);
    TEST_CHECK(invoke(&c, "pg_type_is_visible", 1, o, (datum_t[]){num(99999)}, NULL) == 0);
    TEST_CHECK(c.isnull);
    TEST_CHECK(invoke(&c, "pg_function_is_visible", 1, o, (datum_t[]){num(1642)}, NULL) == 0);
    TEST_CHECK(!c.isnull && c.out.i64 == 1);
    arena_destroy(&c.arena);
}

TEST(functions_relations)
{
    call_t c;
    call_init(&c);
    type_oid_t o[] = {TYPE_OID}, oib[] = {TYPE_OID, TYPE_INT4, TYPE_BOOL};
    type_oid_t ob[] = {TYPE_OID, TYPE_BOOL}, to[] = {TYPE_TEXT, TYPE_OID, TYPE_BOOL};
    struct { uint32_t oid; int visible; } vis[] = {
        {T_OID, 1}, {T_PK_OID, 1}, {1259, 1}, {13425, 0}, {999999, -1},
    };
    for (size_t i = 0; i < sizeof vis / sizeof vis[0]; i++) {
        TEST_CHECK(invoke(&c, "pg_table_is_visible", 1, o, (datum_t[]){num(vis[i].oid)}, NULL) == 0);
        TEST_CHECK(vis[i].visible < 0 ? c.isnull : !c.isnull && c.out.i64 == vis[i].visible);
    }
    TEST_CHECK(invoke(&c, "pg_get_indexdef", 3, oib,
                      (datum_t[]){num(T_PK_OID), num(0), num(1)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "CREATE UNIQUE INDEX t_pkey ON t USING btree (id)") == 0);
    TEST_CHECK(invoke(&c, "pg_get_indexdef", 1, o, (datum_t[]){num(T_PK_OID)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)") == 0);
    TEST_CHECK(invoke(&c, "pg_get_indexdef", 3, oib,
                      (datum_t[]){num(T_PK_OID), num(1), num(1)}, NULL) == 0);
    TEST_CHECK(strcmp(c.text, "id") == 0);
    TEST_CHECK(invoke(&c, "pg_get_indexdef", 3, oib,
                      (datum_t[]){num(T_PK_OID), num(2), num(1)}, NULL) == 0);
    TEST_CHECK(!c.isnull && strcmp(c.text, "") == 0);
    TEST_CHECK(invoke(&c, "pg_get_indexdef", 1, o, (datum_t[]){num(T_OID)}, NULL) == 0);
    TEST_CHECK(c.isnull);
    TEST_CHECK(invoke(&c, "pg_get_constraintdef", 2, ob, (datum_t[]){num(T_PK_OID), num(1)},
                      NULL) == 0);
    TEST_CHECK(strcmp(c.text, "PRIMARY KEY (id)") == 0);
    TEST_CHECK(invoke(&c, "pg_get_constraintdef", 1, o, (datum_t[]){num(1)}, NULL) == 0);
    TEST_CHECK(c.isnull);
    TEST_CHECK(invoke(&c, "pg_get_expr", 3, to,
                      (datum_t[]){str(&c, "'x'::character varying"), num(T_OID), num(1)},
                      NULL) == 0);
    TEST_CHECK(strcmp(c.text, "'x'::character varying") == 0);
    TEST_CHECK(invoke(&c, "obj_description", 1, o, (datum_t[]){num(T_OID)}, NULL) == 0);
    TEST_CHECK(c.isnull);
    type_oid_t rc[] = {TYPE_REGCLASS};
    TEST_CHECK(invoke(&c, "pg_relation_is_publishable", 1, rc, (datum_t[]){num(T_OID)}, NULL) == 0);
    TEST_CHECK(c.out.i64 == 1);
    TEST_CHECK(invoke(&c, "pg_relation_is_publishable", 1, rc, (datum_t[]){num(1259)}, NULL) == 0);
    TEST_CHECK(c.out.i64 == 0);
    arena_destroy(&c.arena);
}

TEST(functions_privileges)
{
    call_t c;
    call_init(&c);
    type_oid_t tt[] = {TYPE_TEXT, TYPE_TEXT}, ot[] = {TYPE_OID, TYPE_TEXT};
    type_oid_t ntt[] = {TYPE_NAME, TYPE_TEXT, TYPE_TEXT};
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, tt,
                      (datum_t[]){str(&c, "t"), str(&c, "select, INSERT with grant option")},
                      NULL) == 0);
    TEST_CHECK(!c.isnull && c.out.i64 == 1);
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, tt,
                      (datum_t[]){str(&c, "public.t"), str(&c, "select")}, NULL) == 0);
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, tt,
                      (datum_t[]){str(&c, "pg_class"), str(&c, "select")}, NULL) == 0);
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, tt,
                      (datum_t[]){str(&c, "t"), str(&c, "foo")}, NULL) == -1);
    TEST_CHECK(strcmp(c.err.sqlstate, "22023") == 0);
    TEST_CHECK(strcmp(c.err.message, "unrecognized privilege type: \"foo\"") == 0);
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, tt,
                      (datum_t[]){str(&c, "nosuch"), str(&c, "select")}, NULL) == -1);
    TEST_CHECK(strcmp(c.err.sqlstate, "42P01") == 0);
    TEST_CHECK(strcmp(c.err.message, "relation \"nosuch\" does not exist") == 0);
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, tt,
                      (datum_t[]){str(&c, "\"T\""), str(&c, "select")}, NULL) == -1);
    TEST_CHECK(invoke(&c, "has_table_privilege", 3, ntt,
                      (datum_t[]){str(&c, "bob"), str(&c, "t"), str(&c, "select")}, NULL) == -1);
    TEST_CHECK(strcmp(c.err.message, "role \"bob\" does not exist") == 0);
    TEST_CHECK(invoke(&c, "has_table_privilege", 2, ot,
                      (datum_t[]){num(999999), str(&c, "select")}, NULL) == 0);
    TEST_CHECK(c.isnull);
    TEST_CHECK(invoke(&c, "has_schema_privilege", 2, tt,
                      (datum_t[]){str(&c, "public"), str(&c, "usage")}, NULL) == 0);
    TEST_CHECK(c.out.i64 == 1);
    TEST_CHECK(invoke(&c, "has_schema_privilege", 2, tt,
                      (datum_t[]){str(&c, "nosuch"), str(&c, "usage")}, NULL) == -1);
    TEST_CHECK(strcmp(c.err.message, "schema \"nosuch\" does not exist") == 0);
    arena_destroy(&c.arena);
}

TEST(functions_server_state)
{
    call_t c;
    call_init(&c);
    TEST_CHECK(invoke(&c, "pg_backend_pid", 0, NULL, NULL, NULL) == 0 && c.out.i64 == 4242);
    TEST_CHECK(invoke(&c, "pg_is_in_recovery", 0, NULL, NULL, NULL) == 0 && c.out.i64 == 0);
    TEST_CHECK(invoke(&c, "pg_postmaster_start_time", 0, NULL, NULL, NULL) == 0);
    int64_t now = time_now_ts();
    TEST_CHECK(c.out.i64 <= now && c.out.i64 > now - INT64_C(3600) * 1000000 * 24);
    arena_destroy(&c.arena);
}

TEST(quote_ident)
{
    static const struct { const char *in, *out; } cases[] = {
        {"id", "id"}, {"t_2", "t_2"}, {"user", "\"user\""}, {"Abc", "\"Abc\""},
        {"a b", "\"a b\""}, {"q\"x", "\"q\"\"x\""}, {"2x", "\"2x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf_t sb;
        strbuf_init(&sb);
        pgcat__quote_ident(cases[i].in, &sb);
        TEST_CHECK(strcmp(sb.data, cases[i].out) == 0);
        strbuf_free(&sb);
    }
}

TEST_MAIN()
