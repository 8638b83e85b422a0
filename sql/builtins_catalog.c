/*
 * builtins_catalog.c -- the catalog functions psql, pgbench and drivers call next to
 * the pg_catalog views (pg_get_userbyid, format_type, pg_table_is_visible,
 * pg_get_indexdef, ...). They answer from the statement's catalog snapshot
 * (builtin_ctx_t.catalog) through the same relation model as sql/pgcatalog.c
 * (sql/pgcatalog_int.h), so a function and the view it describes always agree.
 *
 * The table builtins_catalog[] has the shape of sql/builtins.h; builtin_resolve also
 * searches it. OIDs are PostgreSQL 15's pg_proc OIDs, checked against a PostgreSQL 15
 * server. Arguments of type pg_node_tree (pg_get_expr) are text here, because the
 * catalog stores expressions as SQL text. See sql/PGCATALOG.md for what is missing.
 *
 * Thread: any; no state.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/activity.h"
#include "sql/builtins.h"
#include "sql/pgcatalog_int.h"
#include "vector/hnsw.h"

#define OID  TYPE_OID
#define TXT  TYPE_TEXT
#define NAM  TYPE_NAME
#define I4   TYPE_INT4
#define BOO  TYPE_BOOL

#define FN_ARGS                                                                      \
    const builtin_ctx_t *ctx, int nargs, const datum_t *args, const bool *nulls,     \
        const type_oid_t *argtypes, datum_t *out, bool *isnull, sql_error_t *err

/* ---- helpers ---- */

static int ret_strn(const builtin_ctx_t *ctx, const char *p, size_t len, datum_t *out,
                    sql_error_t *err)
{
    vstr_t *v = vstr_new(ctx->arena, p, len);
    if (!v)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    out->s = v;
    return 0;
}

static int ret_str(const builtin_ctx_t *ctx, const char *s, datum_t *out, sql_error_t *err)
{
    return ret_strn(ctx, s, strlen(s), out, err);
}

static int ret_sb(const builtin_ctx_t *ctx, strbuf_t *sb, datum_t *out, sql_error_t *err)
{
    int rc = sb->oom ? sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory")
                     : ret_strn(ctx, sb->data ? sb->data : "", sb->len, out, err);
    strbuf_free(sb);
    return rc;
}

/* A string argument as a NUL-terminated copy in a caller buffer; false if too long. */
static bool arg_cstr(datum_t d, char *buf, size_t cap)
{
    if (d.s->len >= cap)
        return false;
    memcpy(buf, d.s->data, d.s->len);
    buf[d.s->len] = 0;
    return true;
}

static uint32_t arg_oid(datum_t d) { return (uint32_t)d.i64; }

/* ---- names and types ---- */

static int fn_pg_get_userbyid(FN_ARGS)
{
    uint32_t oid = arg_oid(args[0]);
    const char *name = pgcat__role_name(oid, ctx->user);
    if (name)
        return ret_str(ctx, name, out, err);
    char buf[48];
    snprintf(buf, sizeof buf, "unknown (OID=%u)", oid);
    return ret_str(ctx, buf, out, err);
}

/* format_type is not strict: a NULL type gives NULL, a NULL typmod means "none". */
static int fn_format_type(FN_ARGS)
{
    if (nulls[0]) {
        *isnull = true;
        return 0;
    }
    type_oid_t t = arg_oid(args[0]);
    if (!type_lookup(t))
        return ret_str(ctx, "???", out, err);
    strbuf_t sb;
    strbuf_init(&sb);
    type_format(t, nulls[1] ? -1 : (int32_t)args[1].i64, &sb);
    return ret_sb(ctx, &sb, out, err);
}

static int fn_pg_encoding_to_char(FN_ARGS)
{
    static const char *const names[] = {
        "SQL_ASCII", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW", "EUC_JIS_2004", "UTF8",
        "MULE_INTERNAL", "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6",
        "LATIN7", "LATIN8", "LATIN9", "LATIN10", "WIN1256", "WIN1258", "WIN866", "WIN874",
        "KOI8R", "WIN1251", "WIN1252", "ISO_8859_5", "ISO_8859_6", "ISO_8859_7",
        "ISO_8859_8", "WIN1250", "WIN1253", "WIN1254", "WIN1255", "WIN1257", "KOI8U",
        "SJIS", "BIG5", "GBK", "UHC", "GB18030", "JOHAB", "SHIFT_JIS_2004",
    };
    int64_t e = args[0].i64;
    bool known = e >= 0 && e < (int64_t)(sizeof names / sizeof names[0]);
    return ret_str(ctx, known ? names[e] : "", out, err);
}

static int fn_current_schema(FN_ARGS)
{
    return ret_str(ctx, "public", out, err);
}

/* ---- visibility ---- */

/* The visibility functions return NULL for an OID no object has, like PostgreSQL. */
static int fn_pg_table_is_visible(FN_ARGS)
{
    pgcat__rel_t rel;
    if (!pgcat__rel_by_oid(ctx->catalog, arg_oid(args[0]), &rel)) {
        *isnull = true;
        return 0;
    }
    out->i64 = pgcat__rel_visible(ctx->catalog, &rel);
    return 0;
}

static int fn_pg_type_is_visible(FN_ARGS)
{
    if (!type_lookup(arg_oid(args[0])))
        *isnull = true;
    else
        out->i64 = 1;              /* every type lives in pg_catalog */
    return 0;
}

static int fn_pg_function_is_visible(FN_ARGS)
{
    uint32_t oid = arg_oid(args[0]);
    bool found = false;
    for (int i = 0; !found && i < builtin_count(); i++)
        found = builtin_at(i)->proc_oid == oid;
    for (int i = 0; !found && i < builtins_catalog_count; i++)
        found = builtins_catalog[i].proc_oid == oid;
    if (!found || oid == 0)
        *isnull = true;
    else
        out->i64 = 1;              /* every function lives in pg_catalog */
    return 0;
}

/* ---- deparsing ---- */

/* pg_get_expr(expr, relid [, pretty]): the catalog already keeps expressions as SQL. */
static int fn_pg_get_expr(FN_ARGS)
{
    return ret_strn(ctx, args[0].s->data, args[0].s->len, out, err);
}

/* pg_get_viewdef(view [, pretty | wrap]): a view's query as the catalog stores it
 * (libpg_query's deparsed form) in PostgreSQL's envelope (a leading space, a
 * trailing semicolon); NULL for a relation that is no view. The view is an OID or,
 * in the text forms, a name (schema-qualified or found along public). */
static int viewdef_of(const builtin_ctx_t *ctx, const cat_table_t *t, datum_t *out, bool *isnull, sql_error_t *err)
{
    if (!t || t->relkind != 'v' || !t->view_sql) {
        *isnull = true;
        return 0;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_printf(&sb, " %s;", t->view_sql);
    return ret_sb(ctx, &sb, out, err);
}

static int fn_pg_get_viewdef_oid(FN_ARGS)
{
    return viewdef_of(ctx, catalog_table_by_oid(ctx->catalog, arg_oid(args[0])), out, isnull, err);
}

static int fn_pg_get_viewdef_name(FN_ARGS)
{
    char name[LIMIT_SQL_IDENT_BYTES * 2 + 2];
    const vstr_t *v = args[0].s;
    if (v->len >= sizeof name)
        return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%.*s\" does not exist", (int)v->len, v->data);
    memcpy(name, v->data, v->len);
    name[v->len] = 0;
    const char *rel = name;
    if (!strncmp(name, "public.", 7))
        rel = name + 7;
    const cat_table_t *t = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, rel);
    if (!t)
        return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", name);
    return viewdef_of(ctx, t, out, isnull, err);
}

/* Resolves oid to a primary-key index; false if it is none. */
static bool pk_index(const builtin_ctx_t *ctx, uint32_t oid, pgcat__rel_t *rel)
{
    return pgcat__rel_by_oid(ctx->catalog, oid, rel) && rel->kind == PGCAT_REL_PK_INDEX;
}

static const char *pk_col_name(const cat_table_t *tab, int k)
{
    for (int i = 0; i < tab->ncols; i++)
        if (tab->cols[i].attnum == tab->pk_attnums[k])
            return tab->cols[i].name;
    ASSERT(!"primary key names a missing column");
    return NULL;
}

static void put_key_cols(const cat_table_t *tab, strbuf_t *sb)
{
    strbuf_putc(sb, '(');
    for (int k = 0; k < tab->npk; k++) {
        if (k)
            strbuf_puts(sb, ", ");
        pgcat__quote_ident(pk_col_name(tab, k), sb);
    }
    strbuf_putc(sb, ')');
}

/* pg_get_indexdef(oid [, column, pretty]): the CREATE INDEX statement, or with column
 * > 0 that key column's name ("" past the last). Pretty output leaves the table
 * unqualified when it is visible, as PostgreSQL does. NULL for a non-index OID. */
/* The CREATE INDEX statement of an HNSW index, as pgvector's indexes deparse
 * (WITH only for options that differ from the defaults). */
static int vindex_def(const builtin_ctx_t *ctx, const pgcat__rel_t *rel, int64_t column, bool pretty,
                      datum_t *out, sql_error_t *err)
{
    static const char *const ops[] = {"vector_l2_ops", "vector_ip_ops", "vector_cosine_ops", "vector_l1_ops"};
    const cat_table_t *tab = rel->table;
    const cat_vindex_t *vi = rel->vindex;
    const char *col = NULL;
    for (int i = 0; i < tab->ncols; i++)
        if (tab->cols[i].attnum == vi->attnum)
            col = tab->cols[i].name;
    ASSERT(col && vi->metric < sizeof ops / sizeof ops[0]);
    strbuf_t sb;
    strbuf_init(&sb);
    if (column > 0) {
        if (column == 1)
            pgcat__quote_ident(col, &sb);
        return ret_sb(ctx, &sb, out, err);
    }
    pgcat__rel_t trel = {PGCAT_REL_TABLE, tab->oid, tab->namespace_oid, tab->name, tab->relkind, tab, NULL, NULL};
    strbuf_puts(&sb, "CREATE INDEX ");
    pgcat__quote_ident(rel->name, &sb);
    strbuf_puts(&sb, " ON ");
    if (!pretty || !pgcat__rel_visible(ctx->catalog, &trel)) {
        pgcat__quote_ident(pgcat__ns_name(tab->namespace_oid), &sb);
        strbuf_putc(&sb, '.');
    }
    pgcat__quote_ident(tab->name, &sb);
    strbuf_puts(&sb, " USING hnsw (");
    pgcat__quote_ident(col, &sb);
    strbuf_printf(&sb, " %s)", ops[vi->metric]);
    bool m = vi->m != HNSW_M_DEFAULT, efc = vi->ef_construction != HNSW_EF_CONSTRUCTION_DEFAULT;
    if (m || efc) {
        strbuf_puts(&sb, " WITH (");
        if (m)
            strbuf_printf(&sb, "m='%u'", (unsigned)vi->m);
        if (m && efc)
            strbuf_puts(&sb, ", ");
        if (efc)
            strbuf_printf(&sb, "ef_construction='%u'", (unsigned)vi->ef_construction);
        strbuf_putc(&sb, ')');
    }
    return ret_sb(ctx, &sb, out, err);
}

static const char *index_col_name(const cat_table_t *tab, const cat_index_t *x, int i)
{
    for (int c = 0; c < tab->ncols; c++)
        if (tab->cols[c].attnum == x->attnums[i])
            return tab->cols[c].name;
    ASSERT(!"index names a missing column");
    return NULL;
}

static void put_index_cols(const cat_table_t *tab, const cat_index_t *x, strbuf_t *sb)
{
    strbuf_putc(sb, '(');
    for (int i = 0; i < x->ncols; i++) {
        if (i)
            strbuf_puts(sb, ", ");
        pgcat__quote_ident(index_col_name(tab, x, i), sb);
    }
    strbuf_putc(sb, ')');
}

/* The CREATE INDEX statement of a secondary index (sql/secindex.h). */
static int secindex_def(const builtin_ctx_t *ctx, const pgcat__rel_t *rel, int64_t column, bool pretty,
                        datum_t *out, sql_error_t *err)
{
    const cat_table_t *tab = rel->table;
    const cat_index_t *x = rel->index;
    strbuf_t sb;
    strbuf_init(&sb);
    if (column > 0) {
        if (column <= x->ncols)
            pgcat__quote_ident(index_col_name(tab, x, (int)column - 1), &sb);
        return ret_sb(ctx, &sb, out, err);
    }
    pgcat__rel_t trel = {PGCAT_REL_TABLE, tab->oid, tab->namespace_oid, tab->name, tab->relkind, tab, NULL, NULL,
                         NULL};
    strbuf_puts(&sb, x->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    pgcat__quote_ident(rel->name, &sb);
    strbuf_puts(&sb, " ON ");
    if (!pretty || !pgcat__rel_visible(ctx->catalog, &trel)) {
        pgcat__quote_ident(pgcat__ns_name(tab->namespace_oid), &sb);
        strbuf_putc(&sb, '.');
    }
    pgcat__quote_ident(tab->name, &sb);
    strbuf_puts(&sb, x->hash ? " USING hash " : " USING btree ");
    put_index_cols(tab, x, &sb);
    return ret_sb(ctx, &sb, out, err);
}

static int fn_pg_get_indexdef(FN_ARGS)
{
    pgcat__rel_t rel;
    if (pgcat__rel_by_oid(ctx->catalog, arg_oid(args[0]), &rel) && rel.kind == PGCAT_REL_VINDEX)
        return vindex_def(ctx, &rel, nargs > 1 ? args[1].i64 : 0, nargs > 2 && args[2].i64, out, err);
    if (pgcat__rel_by_oid(ctx->catalog, arg_oid(args[0]), &rel) && rel.kind == PGCAT_REL_INDEX)
        return secindex_def(ctx, &rel, nargs > 1 ? args[1].i64 : 0, nargs > 2 && args[2].i64, out, err);
    if (!pk_index(ctx, arg_oid(args[0]), &rel)) {
        *isnull = true;
        return 0;
    }
    const cat_table_t *tab = rel.table;
    int64_t column = nargs > 1 ? args[1].i64 : 0;
    bool pretty = nargs > 2 && args[2].i64;
    strbuf_t sb;
    strbuf_init(&sb);
    if (column > 0) {
        if (column <= tab->npk)
            pgcat__quote_ident(pk_col_name(tab, (int)column - 1), &sb);
        return ret_sb(ctx, &sb, out, err);
    }
    pgcat__rel_t trel = {PGCAT_REL_TABLE, tab->oid, tab->namespace_oid, tab->name,
                         tab->relkind, tab, NULL};
    strbuf_puts(&sb, "CREATE UNIQUE INDEX ");
    pgcat__quote_ident(rel.name, &sb);
    strbuf_puts(&sb, " ON ");
    if (!pretty || !pgcat__rel_visible(ctx->catalog, &trel)) {
        pgcat__quote_ident(pgcat__ns_name(tab->namespace_oid), &sb);
        strbuf_putc(&sb, '.');
    }
    pgcat__quote_ident(tab->name, &sb);
    strbuf_puts(&sb, " USING btree ");
    put_key_cols(tab, &sb);
    return ret_sb(ctx, &sb, out, err);
}

int pgcat__index_def(const catalog_t *c, arena_t *a, uint32_t oid, datum_t *out, bool *isnull, sql_error_t *err)
{
    builtin_ctx_t ctx = {.catalog = c, .arena = a};
    datum_t args[1] = {{.i64 = oid}};
    bool nulls[1] = {false};
    type_oid_t types[1] = {TYPE_OID};
    *isnull = false;
    return fn_pg_get_indexdef(&ctx, 1, args, nulls, types, out, isnull, err);
}

/* pg_get_constraintdef(oid [, pretty]): a primary key's constraint OID is its index's
 * OID (see gen_constraint in pgcatalog.c). NULL for any other OID. */
static int fn_pg_get_constraintdef(FN_ARGS)
{
    const cat_table_t *ct;
    char ckind;
    int ck;
    if (pgcat__con_by_oid(ctx->catalog, arg_oid(args[0]), &ct, &ckind, &ck)) {     /* CHECK, FOREIGN KEY */
        strbuf_t sb;
        strbuf_init(&sb);
        pgcat__con_def(ctx->catalog, ct, ckind, ck, nargs > 1 && !nulls[1] && args[1].i64, &sb);
        return ret_sb(ctx, &sb, out, err);
    }
    pgcat__rel_t rel;
    if (pgcat__rel_by_oid(ctx->catalog, arg_oid(args[0]), &rel) && rel.kind == PGCAT_REL_INDEX &&
        rel.index->constraint) {
        strbuf_t sb;
        strbuf_init(&sb);
        strbuf_puts(&sb, "UNIQUE ");
        put_index_cols(rel.table, rel.index, &sb);
        return ret_sb(ctx, &sb, out, err);
    }
    if (!pk_index(ctx, arg_oid(args[0]), &rel)) {
        *isnull = true;
        return 0;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "PRIMARY KEY ");
    put_key_cols(rel.table, &sb);
    return ret_sb(ctx, &sb, out, err);
}

/* Comments (pg_description) and extended statistics do not exist in NextDB, so these
 * look-ups find nothing, which PostgreSQL reports as NULL. */
static int fn_null_lookup(FN_ARGS)
{
    *isnull = true;
    return 0;
}

/* pg_relation_is_publishable(regclass): ordinary user tables are; catalog relations
 * and indexes are not; NULL for an OID no relation has. */
static int fn_pg_relation_is_publishable(FN_ARGS)
{
    pgcat__rel_t rel;
    if (!pgcat__rel_by_oid(ctx->catalog, arg_oid(args[0]), &rel)) {
        *isnull = true;
        return 0;
    }
    out->i64 = rel.kind == PGCAT_REL_TABLE && rel.relkind == 'r';
    return 0;
}

/* ---- privileges: NextDB has no GRANT yet, so every existing object is fully
 * accessible; the arguments are still checked as PostgreSQL checks them. ---- */

/* Checks a privilege list like "SELECT, INSERT WITH GRANT OPTION" against allowed
 * (a NULL-terminated list of upper-case names); 22023 for an unknown one. */
static int check_privileges(datum_t d, const char *const *allowed, sql_error_t *err)
{
    char buf[256];
    if (!arg_cstr(d, buf, sizeof buf))
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unrecognized privilege type: \"%.*s\"",
                         (int)d.s->len, d.s->data);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = 0;
        static const char grant[] = " with grant option";
        size_t n = strlen(tok);
        if (n > sizeof grant - 1 && strcasecmp(tok + n - (sizeof grant - 1), grant) == 0)
            tok[n - (sizeof grant - 1)] = 0;
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcasecmp(tok, allowed[i]) == 0;
        if (!ok)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER,
                             "unrecognized privilege type: \"%s\"", tok);
    }
    return 0;
}

static const char *const table_privs[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE",
                                          "REFERENCES", "TRIGGER", NULL};
static const char *const schema_privs[] = {"CREATE", "USAGE", NULL};

/* A role given by name must exist (42704). */
static int check_role_name(const builtin_ctx_t *ctx, datum_t d, sql_error_t *err)
{
    char buf[LIMIT_SQL_IDENT_BYTES + 2];
    if (arg_cstr(d, buf, sizeof buf) &&
        (strcmp(buf, ctx->user) == 0 || strcmp(buf, "pg_database_owner") == 0))
        return 0;
    return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "role \"%.*s\" does not exist",
                     (int)d.s->len, d.s->data);
}

/* Splits a possibly qualified, possibly quoted name ("s.t", "\"T\"") into at most two
 * lower-cased (unless quoted) parts; returns the part count, or -1 if malformed. */
static int split_qualified(const vstr_t *v, char parts[2][LIMIT_SQL_IDENT_BYTES + 1])
{
    int n = 0;
    size_t i = 0, len = v->len;
    const char *p = v->data;
    for (;;) {
        if (n == 2)
            return -1;
        size_t w = 0;
        if (i < len && p[i] == '"') {
            for (i++; i < len; i++) {
                if (p[i] == '"' && (i + 1 >= len || p[i + 1] != '"'))
                    break;
                if (p[i] == '"')
                    i++;
                if (w >= LIMIT_SQL_IDENT_BYTES)
                    return -1;
                parts[n][w++] = p[i];
            }
            if (i >= len)
                return -1;
            i++;
        } else {
            for (; i < len && p[i] != '.'; i++) {
                if (w >= LIMIT_SQL_IDENT_BYTES)
                    return -1;
                parts[n][w++] = (char)tolower((unsigned char)p[i]);
            }
        }
        parts[n++][w] = 0;
        if (w == 0)
            return -1;
        if (i == len)
            return n;
        if (p[i] != '.')
            return -1;
        i++;
    }
}

static uint32_t ns_by_name(const char *name)
{
    static const uint32_t ns[] = {CAT_NS_PG_CATALOG, CAT_NS_PUBLIC, CAT_NS_INFO_SCHEMA,
                                  PGCAT_NS_PG_TOAST};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        if (strcmp(pgcat__ns_name(ns[i]), name) == 0)
            return ns[i];
    return 0;
}

static bool rel_exists_in(const catalog_t *c, uint32_t ns, const char *name)
{
    if (pgcat_lookup(ns, name))
        return true;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *tab = c->tables[i];
        if (tab->namespace_oid == ns &&
            (strcmp(tab->name, name) == 0 || (tab->npk && strcmp(pgcat__pk_name(tab), name) == 0)))
            return true;
    }
    return false;
}

/* A relation given by name must exist (42P01); unqualified names search pg_catalog,
 * then public. */
static int check_rel_name(const builtin_ctx_t *ctx, datum_t d, sql_error_t *err)
{
    char parts[2][LIMIT_SQL_IDENT_BYTES + 1];
    int n = split_qualified(d.s, parts);
    if (n == 2) {
        uint32_t ns = ns_by_name(parts[0]);
        if (!ns)
            return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist",
                             parts[0]);
        if (rel_exists_in(ctx->catalog, ns, parts[1]))
            return 0;
    } else if (n == 1 && (rel_exists_in(ctx->catalog, CAT_NS_PG_CATALOG, parts[0]) ||
                          rel_exists_in(ctx->catalog, CAT_NS_PUBLIC, parts[0]))) {
        return 0;
    }
    return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%.*s\" does not exist",
                     (int)d.s->len, d.s->data);
}

/* has_table_privilege([role,] table, privilege): role is NULL when not given; the
 * table is an OID (NULL result when no relation has it) or a name (42P01). */
static int table_privilege(const builtin_ctx_t *ctx, const datum_t *role, datum_t table,
                           bool table_is_oid, datum_t privs, datum_t *out, bool *isnull,
                           sql_error_t *err)
{
    if (role && check_role_name(ctx, *role, err))
        return -1;
    if (check_privileges(privs, table_privs, err))
        return -1;
    if (table_is_oid) {
        pgcat__rel_t rel;
        if (!pgcat__rel_by_oid(ctx->catalog, arg_oid(table), &rel)) {
            *isnull = true;
            return 0;
        }
    } else if (check_rel_name(ctx, table, err)) {
        return -1;
    }
    out->i64 = 1;
    return 0;
}

static int fn_has_table_privilege_n_t(FN_ARGS)
{
    return table_privilege(ctx, &args[0], args[1], false, args[2], out, isnull, err);
}

static int fn_has_table_privilege_n_o(FN_ARGS)
{
    return table_privilege(ctx, &args[0], args[1], true, args[2], out, isnull, err);
}

static int fn_has_table_privilege_t(FN_ARGS)
{
    return table_privilege(ctx, NULL, args[0], false, args[1], out, isnull, err);
}

static int fn_has_table_privilege_o(FN_ARGS)
{
    return table_privilege(ctx, NULL, args[0], true, args[1], out, isnull, err);
}

/* has_schema_privilege([role,] schema, privilege), shaped like table_privilege. */
static int schema_privilege(const builtin_ctx_t *ctx, const datum_t *role, datum_t schema,
                            bool schema_is_oid, datum_t privs, datum_t *out, bool *isnull,
                            sql_error_t *err)
{
    if (role && check_role_name(ctx, *role, err))
        return -1;
    if (check_privileges(privs, schema_privs, err))
        return -1;
    if (schema_is_oid) {
        if (!pgcat__ns_name(arg_oid(schema))) {
            *isnull = true;
            return 0;
        }
    } else {
        char buf[LIMIT_SQL_IDENT_BYTES + 1];
        if (!arg_cstr(schema, buf, sizeof buf) || !ns_by_name(buf))
            return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%.*s\" does not exist",
                             (int)schema.s->len, schema.s->data);
    }
    out->i64 = 1;
    return 0;
}

static int fn_has_schema_privilege_n_t(FN_ARGS)
{
    return schema_privilege(ctx, &args[0], args[1], false, args[2], out, isnull, err);
}

static int fn_has_schema_privilege_n_o(FN_ARGS)
{
    return schema_privilege(ctx, &args[0], args[1], true, args[2], out, isnull, err);
}

static int fn_has_schema_privilege_t(FN_ARGS)
{
    return schema_privilege(ctx, NULL, args[0], false, args[1], out, isnull, err);
}

static int fn_has_schema_privilege_o(FN_ARGS)
{
    return schema_privilege(ctx, NULL, args[0], true, args[1], out, isnull, err);
}

/* ---- server state ---- */

static int fn_pg_is_in_recovery(FN_ARGS)
{
    out->i64 = 0;                  /* no standby mode: a NextDB server is always primary */
    return 0;
}

static int fn_pg_backend_pid(FN_ARGS)
{
    out->i64 = ctx->backend_pid;
    return 0;
}

/* true when a session has that pid (its running statement stops with 57014); false,
 * where PostgreSQL also warns "PID n is not a PostgreSQL backend process", when none. */
static int fn_pg_cancel_backend(FN_ARGS)
{
    out->i64 = activity_cancel((int32_t)args[0].i64);
    return 0;
}

/* Seconds since the epoch at which this process started, from /proc: the start time
 * in clock ticks after boot (field 22 of /proc/self/stat) plus the boot time. */
static int process_start_us(int64_t *unix_us, sql_error_t *err)
{
    char buf[1024];
    long long btime = -1;
    unsigned long long start_ticks = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        goto fail;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');  /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                            "%*d %*d %*d %*d %llu", &start_ticks) != 1)
        goto fail;
    f = fopen("/proc/stat", "r");
    if (!f)
        goto fail;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %lld", &btime) == 1)
            break;
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (btime < 0 || hz <= 0)
        goto fail;
    *unix_us = btime * 1000000LL + (int64_t)(start_ticks * 1000000ULL / (unsigned long long)hz);
    return 0;
fail:
    return sql_error(err, SQLSTATE_IO_ERROR, "could not determine the server start time");
}

#define PGCAT_UNIX_TO_PG_EPOCH_US (946684800LL * 1000000LL)   /* 1970-01-01 .. 2000-01-01 */

static int fn_pg_postmaster_start_time(FN_ARGS)
{
    int64_t us;
    if (process_start_us(&us, err))
        return -1;
    out->i64 = us - PGCAT_UNIX_TO_PG_EPOCH_US;
    return 0;
}

/* ---- the table ---- */

#define F(name, oid, n, rt, strict, vol, fn, ...) \
    {name, oid, n, {__VA_ARGS__}, rt, strict, vol, fn}

const builtin_t builtins_catalog[] = {
    F("pg_get_userbyid", 1642, 1, NAM, true, 's', fn_pg_get_userbyid, OID),
    F("format_type", 1081, 2, TXT, false, 's', fn_format_type, OID, I4),
    F("pg_encoding_to_char", 1597, 1, NAM, true, 's', fn_pg_encoding_to_char, I4),
    F("current_schema", 1402, 0, NAM, true, 's', fn_current_schema, 0),
    F("pg_table_is_visible", 2079, 1, BOO, true, 's', fn_pg_table_is_visible, OID),
    F("pg_type_is_visible", 2080, 1, BOO, true, 's', fn_pg_type_is_visible, OID),
    F("pg_function_is_visible", 2081, 1, BOO, true, 's', fn_pg_function_is_visible, OID),
    F("pg_get_expr", 1716, 2, TXT, true, 's', fn_pg_get_expr, TXT, OID),
    F("pg_get_expr", 2509, 3, TXT, true, 's', fn_pg_get_expr, TXT, OID, BOO),
    F("pg_get_indexdef", 1643, 1, TXT, true, 's', fn_pg_get_indexdef, OID),
    F("pg_get_indexdef", 2507, 3, TXT, true, 's', fn_pg_get_indexdef, OID, I4, BOO),
    F("pg_get_ruledef", 1573, 1, TXT, true, 's', fn_null_lookup, OID),      /* no rules: pg_rewrite is empty */
    F("pg_get_ruledef", 2504, 2, TXT, true, 's', fn_null_lookup, OID, BOO),
    F("pg_get_viewdef", 1640, 1, TXT, true, 's', fn_pg_get_viewdef_name, TXT),
    F("pg_get_viewdef", 1641, 1, TXT, true, 's', fn_pg_get_viewdef_oid, OID),
    F("pg_get_viewdef", 2505, 2, TXT, true, 's', fn_pg_get_viewdef_name, TXT, BOO),
    F("pg_get_viewdef", 2506, 2, TXT, true, 's', fn_pg_get_viewdef_oid, OID, BOO),
    F("pg_get_viewdef", 3159, 2, TXT, true, 's', fn_pg_get_viewdef_oid, OID, I4),
    F("pg_get_constraintdef", 1387, 1, TXT, true, 's', fn_pg_get_constraintdef, OID),
    F("pg_get_constraintdef", 2508, 2, TXT, true, 's', fn_pg_get_constraintdef, OID, BOO),
    F("obj_description", 1348, 1, TXT, true, 's', fn_null_lookup, OID),
    F("obj_description", 1215, 2, TXT, true, 's', fn_null_lookup, OID, NAM),
    F("col_description", 1216, 2, TXT, true, 's', fn_null_lookup, OID, I4),
    F("shobj_description", 1993, 2, TXT, true, 's', fn_null_lookup, OID, NAM),
    F("pg_get_statisticsobjdef_columns", 6174, 1, TXT, true, 's', fn_null_lookup, OID),
    F("pg_relation_is_publishable", 6121, 1, BOO, true, 's', fn_pg_relation_is_publishable,
      TYPE_REGCLASS),
    F("has_table_privilege", 1922, 3, BOO, true, 's', fn_has_table_privilege_n_t, NAM, TXT, TXT),
    F("has_table_privilege", 1923, 3, BOO, true, 's', fn_has_table_privilege_n_o, NAM, OID, TXT),
    F("has_table_privilege", 1926, 2, BOO, true, 's', fn_has_table_privilege_t, TXT, TXT),
    F("has_table_privilege", 1927, 2, BOO, true, 's', fn_has_table_privilege_o, OID, TXT),
    F("has_schema_privilege", 2268, 3, BOO, true, 's', fn_has_schema_privilege_n_t, NAM, TXT,
      TXT),
    F("has_schema_privilege", 2269, 3, BOO, true, 's', fn_has_schema_privilege_n_o, NAM, OID,
      TXT),
    F("has_schema_privilege", 2272, 2, BOO, true, 's', fn_has_schema_privilege_t, TXT, TXT),
    F("has_schema_privilege", 2273, 2, BOO, true, 's', fn_has_schema_privilege_o, OID, TXT),
    F("pg_is_in_recovery", 3810, 0, BOO, true, 'v', fn_pg_is_in_recovery, 0),
    F("pg_backend_pid", 2026, 0, I4, true, 's', fn_pg_backend_pid, 0),
    F("pg_cancel_backend", 2171, 1, BOO, true, 'v', fn_pg_cancel_backend, I4),
    F("pg_postmaster_start_time", 2560, 0, TYPE_TIMESTAMPTZ, true, 's',
      fn_pg_postmaster_start_time, 0),
};
const int builtins_catalog_count = (int)(sizeof builtins_catalog / sizeof builtins_catalog[0]);
