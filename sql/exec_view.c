/*
 * exec_view.c -- CREATE [OR REPLACE] VIEW and DROP VIEW, and the dependency rule
 * that keeps a view's relations from being dropped under it.
 *
 * A view is a catalog relation with relkind 'v' (cat_table_t): its columns are the
 * query's output columns as PostgreSQL derives them (names from the query, or the
 * CREATE VIEW column list over the leading ones; types and typmods of the bound
 * query), its view_sql the query as deparsed SQL text, its deps every table and
 * view the query reads (the binder records them in bound_stmt_t.deps). The binder
 * expands a view where it is used (bind.c b_view): the text is parsed again and
 * bound as a subquery in FROM, so a view over views nests, and a change to a
 * table's rows is seen at once.
 *
 * Dependencies are by OID at relation level: DROP TABLE / DROP VIEW of a relation a
 * view reads is 2BP01, as in PostgreSQL (CASCADE is 0A000). PostgreSQL also records
 * which columns a view reads; we do not, so ALTER TABLE refuses column changes on a
 * table that views read (sql/exec_alter.c).
 *
 * Thread: shard threads, inside the session's fiber (DDL calls suspend).
 */
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "core/strbuf.h"
#include "sql/catalog_int.h"
#include "sql/exec_int.h"
#include "sql/parse.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

/* CREATE OR REPLACE of an existing view: the new query may only add columns at the
 * end; the existing ones keep name, type and typmod (PostgreSQL's checkViewColumns). */
static int replace_compatible(const cat_table_t *old, const cat_table_t *def, sql_error_t *err)
{
    if (def->ncols < old->ncols)
        return sql_error(err, "42P16", "cannot drop columns from view");
    for (int i = 0; i < old->ncols; i++) {
        const cat_column_t *o = &old->cols[i], *n = &def->cols[i];
        if (strcmp(o->name, n->name) != 0) {
            sql_error(err, "42P16", "cannot change name of view column \"%s\" to \"%s\"", o->name, n->name);
            sql_error_hint(err, "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.");
            return -1;
        }
        if (o->type != n->type || o->typmod != n->typmod) {
            strbuf_t a, b;
            strbuf_init(&a);
            strbuf_init(&b);
            type_format(o->type, o->typmod, &a);
            type_format(n->type, n->typmod, &b);
            sql_error(err, "42P16", "cannot change data type of view column \"%s\" from %s to %s", o->name,
                      a.data ? a.data : "?", b.data ? b.data : "?");
            strbuf_free(&a);
            strbuf_free(&b);
            return -1;
        }
    }
    return 0;
}

int exec_create_view(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err)
{
    const ast_t *rv = a->view.name;
    if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0)
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
    bind_env_t env = {ctx->arena, ctx->catalog, 0, NULL, NULL, 0, NULL};
    const bound_stmt_t *bs = bind_statement(&env, a->view.query, err);
    if (!bs)
        return -1;
    if (bs->nparams > 0)
        return sql_error(err, "42P02", "there is no parameter $1");
    int n = bs->ncols;
    if (a->view.ncols > n)
        return sql_error(err, SQLSTATE_SYNTAX_ERROR, "CREATE VIEW specifies more column names than columns");
    if (n > LIMIT_SQL_COLUMNS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "views can have at most %d columns", LIMIT_SQL_COLUMNS);
    cat_table_t def;
    memset(&def, 0, sizeof def);
    def.namespace_oid = CAT_NS_PUBLIC;
    def.name = rv->rangevar.name;
    def.relkind = 'v';
    def.ncols = n;
    def.view_sql = a->view.sql;
    def.ndeps = bs->ndeps;
    def.deps = (uint32_t *)bs->deps;
    if (!(def.cols = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof(cat_column_t))))
        return oom(err);
    for (int i = 0; i < n; i++) {
        cat_column_t *c = &def.cols[i];
        memset(c, 0, sizeof *c);
        c->name = i < a->view.ncols ? a->view.cols[i] : bs->cols[i].name;
        c->attnum = (int16_t)(i + 1);
        c->type = bs->cols[i].type == TYPE_UNKNOWN ? TYPE_TEXT : bs->cols[i].type;
        c->typmod = bs->cols[i].typmod;
        for (int j = 0; j < i; j++)
            if (!strcmp(def.cols[j].name, c->name))
                return sql_error(err, "42701", "column \"%s\" specified more than once", c->name);
    }
    const cat_table_t *old = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, def.name);
    if (old && a->view.replace) {
        if (old->relkind != 'v')
            return sql_error(err, "42809", "\"%s\" is not a view", def.name);
        if (replace_compatible(old, &def, err) < 0)
            return -1;
        def.oid = old->oid;
        def.create_ts = old->create_ts;
        return catalog_replace_table(old->oid, &def, err);
    }
    bool existed = false;
    return catalog_create_table(&def, false, &existed, err);
}

/* Whether view v is among dropping[0..n). */
static bool in_list(const cat_table_t *v, const cat_table_t *const *dropping, int n)
{
    for (int j = 0; j < n; j++)
        if (dropping[j] && dropping[j]->oid == v->oid)
            return true;
    return false;
}

/* The 2BP01 error for dropping relation t (kind "table" / "view") that views of
 * ctx's catalog read, unless every such view is dropped in the same statement
 * (dropping[0..ndropping)). The DETAIL lists the dependents transitively, each
 * with what it depends on, as PostgreSQL's DROP does. Returns 0 when nothing
 * depends on t. */
int exec_view_dependents(exec_ctx_t *ctx, const cat_table_t *t, const char *kind, const cat_table_t *const *dropping,
                         int ndropping, sql_error_t *err)
{
    const catalog_t *cat = ctx->catalog;
    const cat_table_t **queue = arena_alloc(ctx->arena, (size_t)(cat->ntables + 1) * sizeof(cat_table_t *));
    if (!queue)
        return oom(err);
    strbuf_t deps;
    strbuf_init(&deps);
    int head = 0, tail = 0;
    queue[tail++] = t;
    while (head < tail) {
        const cat_table_t *on = queue[head++];
        for (int k = 0; k < cat->ntables; k++) {
            const cat_table_t *v = cat->tables[k];
            bool reads = false, seen = false;
            for (int d = 0; d < v->ndeps; d++)
                reads |= v->deps[d] == on->oid && v->oid != on->oid;
            if (!reads || in_list(v, dropping, ndropping))
                continue;
            for (int q = 0; q < tail; q++)
                seen |= queue[q]->oid == v->oid;
            strbuf_printf(&deps, "%sview %s depends on %s %s", deps.len ? "\n" : "", v->name,
                          on == t ? kind : "view", on->name);
            if (!seen)
                queue[tail++] = v;
        }
    }
    if (!deps.len) {
        strbuf_free(&deps);
        return 0;
    }
    sql_error(err, "2BP01", "cannot drop %s %s because other objects depend on it", kind, t->name);
    sql_error_detail(err, "%s", deps.data ? deps.data : "");
    sql_error_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
    strbuf_free(&deps);
    return -1;
}

int exec_drop_views(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    /* resolve everything first, so a missing name drops nothing */
    const cat_table_t **vs = arena_alloc(ctx->arena, (size_t)(a->drop.n + 1) * sizeof(cat_table_t *));
    if (!vs)
        return oom(err);
    for (int i = 0; i < a->drop.n; i++) {
        const ast_t *rv = a->drop.tables[i];
        const char *schema = rv->rangevar.schema, *name = rv->rangevar.name;
        vs[i] = NULL;
        if (schema && strcmp(schema, "public") != 0) {
            if (!strcmp(schema, "pg_catalog") || !strcmp(schema, "information_schema"))
                return sql_error(err, "42809", "permission denied: \"%s\" is a system catalog", name);
            if (!a->drop.if_exists)
                return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", schema);
        } else {
            vs[i] = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, name);
        }
        if (vs[i] && vs[i]->relkind != 'v') {
            sql_error(err, "42809", "\"%s\" is not a view", name);
            if (vs[i]->relkind == 'r')
                sql_error_hint(err, "Use DROP TABLE to remove a table.");
            else if (vs[i]->relkind == 'S')
                sql_error_hint(err, "Use DROP SEQUENCE to remove a sequence.");
            return -1;
        }
        if (!vs[i] && !a->drop.if_exists && !sql_error_is_set(err))
            return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "view \"%s\" does not exist", name);
    }
    for (int i = 0; i < a->drop.n; i++) {
        if (vs[i] && exec_view_dependents(ctx, vs[i], "view", vs, a->drop.n, err) < 0)
            return -1;
        if (!vs[i] && notice) {
            char msg[256];
            snprintf(msg, sizeof msg, "view \"%s\" does not exist, skipping", a->drop.tables[i]->rangevar.name);
            notice(narg, msg);
        }
    }
    for (int i = 0; i < a->drop.n; i++) {
        bool twice = false;
        for (int j = 0; j < i; j++)
            twice |= vs[j] && vs[i] && vs[j]->oid == vs[i]->oid;
        if (vs[i] && !twice && catalog_drop_table(vs[i]->oid, err) < 0)
            return -1;      /* a view has no rows to clear */
    }
    return 0;
}
