/*
 * exec_alter.c -- ALTER TABLE's column subcommands: ADD COLUMN, DROP COLUMN, ALTER
 * COLUMN SET / DROP DEFAULT and SET / DROP NOT NULL, RENAME COLUMN and RENAME TO.
 *
 * All subcommands of one statement are applied to one copy of the table definition,
 * in order, and the catalog switches to it in one change (catalog_replace_table,
 * same OID, same rows): either every subcommand takes effect or none. Nothing is
 * held while the statement reads rows (the checks below are ordinary queries at a
 * fresh snapshot), so other tables, and reads of this one, never wait for it; the
 * catalog's shard-0 DDL fiber is only held for the switch itself.
 *
 * Rows are not rewritten, as in PostgreSQL (sql/README.md "ALTER TABLE and the row
 * encoding" is the rule the row format follows):
 *   - ADD COLUMN appends a column slot (attnum = the highest ever + 1). A row stored
 *     before it has fewer columns than the table; the missing tail reads as NULL,
 *     or, for a column added with a non-volatile DEFAULT, as that default evaluated
 *     once at ALTER time (cat_column_t.has_missing: PostgreSQL's attmissingval). A
 *     volatile default (random(), nextval, clock_timestamp) is evaluated per row: the
 *     column is added without a missing value and one UPDATE then fills every
 *     existing row (PostgreSQL rewrites the table for these).
 *   - DROP COLUMN marks the slot dropped (renamed "........pg.dropped.N........",
 *     its type kept so old rows still decode); its bytes stay in old rows, new rows
 *     store NULL there, and the attnum is never reused.
 *
 * Thread: shard threads, inside the session's fiber.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/strbuf.h"
#include "sql/builtins.h"
#include "sql/catalog_int.h"
#include "sql/constraints.h"
#include "sql/exec_int.h"
#include "sql/parse.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static void put_ident(strbuf_t *sb, const char *name)
{
    strbuf_putc(sb, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            strbuf_putc(sb, '"');
        strbuf_putc(sb, *p);
    }
    strbuf_putc(sb, '"');
}

/* Runs one internal SELECT over catalog cat; when it returns a row, column 0 of the
 * first row goes to *val / *null (copied into ctx's arena for type) and 1 is
 * returned; 0 for no row, -1 on error. */
static int query_first(exec_ctx_t *ctx, const catalog_t *cat, const strbuf_t *sql, type_oid_t type, datum_t *val,
                       bool *null, sql_error_t *err)
{
    if (sql->oom)
        return oom(err);
    parse_stmt_t *st;
    int n;
    if (parse_sql(ctx->arena, sql->data, sql->len, &st, &n, err) < 0)
        return -1;
    bind_env_t env = {ctx->arena, cat, 0, NULL, sql->data, 0, NULL};
    const catalog_t *saved = ctx->catalog;
    ctx->catalog = cat;
    const bound_stmt_t *bs = bind_statement(&env, st[0].ast, err);
    exec_op_t *op = NULL;
    int rc = -1;
    if (!bs || bs->nsubq || !(op = exec_build(ctx, bs->plan, err)))
        goto done;
    batch_t *b;
    int r = op->next(op, &b, err);
    while (r > 0 && b->nrows == 0)
        r = op->next(op, &b, err);
    if (r < 0)
        goto done;
    rc = r > 0;
    if (rc && val) {
        *null = b->nulls[0][0];
        *val = b->vals[0][0];
        if (!*null && exec_copy_datum(ctx->arena, type, val) < 0) {
            rc = oom(err);
            goto done;
        }
    }
done:
    if (rc < 0 && sql_error_is_set(err))
        err->position = 0;       /* a position in our internal text means nothing to the client */
    exec_close(op);
    ctx->catalog = saved;
    return rc;
}

/* Whether t has at least one row (or, with cond, one row where cond holds). */
static int table_has_row(exec_ctx_t *ctx, const catalog_t *cat, const cat_table_t *t, const char *cond,
                         sql_error_t *err)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT 1 FROM public.");
    put_ident(&sql, t->name);
    if (cond)
        strbuf_printf(&sql, " WHERE %s", cond);
    strbuf_puts(&sql, " LIMIT 1");
    int rc = query_first(ctx, cat, &sql, TYPE_INT4, NULL, NULL, err);
    strbuf_free(&sql);
    return rc;
}

/* Whether expression e calls a volatile function (PostgreSQL then rewrites the table
 * on ADD COLUMN ... DEFAULT e instead of storing one missing value). */
static bool ast_volatile(const ast_t *e)
{
    if (!e)
        return false;
    switch (e->kind) {
    case AST_FUNC:
        for (int i = 0; i < builtin_count(); i++) {
            const builtin_t *f = builtin_at(i);
            if (f->volatility == 'v' && !strcmp(f->name, e->func.name))
                return true;
        }
        for (int i = 0; i < e->func.args.n; i++)
            if (ast_volatile(e->func.args.items[i]))
                return true;
        return false;
    case AST_OP: return ast_volatile(e->op.l) || ast_volatile(e->op.r);
    case AST_CAST: return ast_volatile(e->cast.arg);
    case AST_AND: case AST_OR: case AST_NOT:
        for (int i = 0; i < e->args.n; i++)
            if (ast_volatile(e->args.items[i]))
                return true;
        return false;
    case AST_NULLTEST: return ast_volatile(e->test.arg);
    case AST_BETWEEN: return ast_volatile(e->between.arg) || ast_volatile(e->between.lo) || ast_volatile(e->between.hi);
    case AST_IN:
        for (int i = 0; i < e->in.list.n; i++)
            if (ast_volatile(e->in.list.items[i]))
                return true;
        return ast_volatile(e->in.arg);
    default:
        return false;
    }
}

/* "SELECT CAST((sql) AS type)": a DEFAULT expression for a column of type / typmod. */
static void default_query(const char *sql, type_oid_t type, int32_t typmod, strbuf_t *q)
{
    strbuf_printf(q, "SELECT CAST((%s) AS ", sql);
    type_format(type, typmod, q);
    strbuf_puts(q, ")");
}

/* Evaluates DEFAULT sql once (a non-volatile default given to ADD COLUMN). */
static int eval_default(exec_ctx_t *ctx, const char *sql, type_oid_t type, int32_t typmod, datum_t *val, bool *null,
                        sql_error_t *err)
{
    strbuf_t q;
    strbuf_init(&q);
    default_query(sql, type, typmod, &q);
    int rc = query_first(ctx, ctx->catalog, &q, type, val, null, err);
    strbuf_free(&q);
    return rc < 0 ? -1 : 0;
}

/* Binds DEFAULT sql without running it (a volatile or SET DEFAULT expression): it
 * must name known functions and cast to the column's type. */
static int check_default(exec_ctx_t *ctx, const char *sql, type_oid_t type, int32_t typmod, sql_error_t *err)
{
    strbuf_t q;
    strbuf_init(&q);
    default_query(sql, type, typmod, &q);
    parse_stmt_t *st;
    int n;
    int rc = q.oom ? oom(err) : parse_sql(ctx->arena, q.data, q.len, &st, &n, err);
    bind_env_t env = {ctx->arena, ctx->catalog, 0, NULL, q.data, 0, NULL};
    if (rc == 0 && !bind_statement(&env, st[0].ast, err)) {
        err->position = 0;
        rc = -1;
    }
    strbuf_free(&q);
    return rc;
}

static int find_col(const cat_table_t *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].dropped && !strcmp(t->cols[i].name, name))
            return i;
    return -1;
}

static int no_such_column(const cat_table_t *t, const char *name, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" of relation \"%s\" does not exist", name, t->name);
}

static bool is_pk_col(const cat_table_t *t, int c)
{
    for (int k = 0; k < t->npk; k++)
        if (t->pk_attnums[k] == t->cols[c].attnum)
            return true;
    return false;
}

static bool uses_attnum(const int16_t *attnums, int n, int16_t attnum)
{
    for (int i = 0; i < n; i++)
        if (attnums[i] == attnum)
            return true;
    return false;
}

static int check_cmp(const void *a, const void *b)
{
    return strcmp(((const cat_check_t *)a)->name, ((const cat_check_t *)b)->name);
}

/* Whether CHECK expression sql still binds over def (it does not when it names a
 * column that was dropped or renamed). */
static bool check_binds(exec_ctx_t *ctx, const cat_table_t *def, const char *sql)
{
    bind_env_t env = {ctx->arena, ctx->catalog, 0, NULL, sql, 0, NULL};
    sql_error_t e;
    memset(&e, 0, sizeof e);
    int single;
    return bind_check_constraint(&env, def, sql, &single, NULL, &e) == 0;
}

/* The state of one ALTER TABLE while its subcommands are applied to def. */
typedef struct alter {
    exec_ctx_t *ctx;
    const cat_table_t *old;
    cat_table_t def;
    int cap;                     /* room in def.cols */
    int16_t next_attnum;
    bool rename_names;           /* a RENAME: the stored view texts would go stale */
    /* after the switch: UPDATEs filling volatile defaults, CHECKs to validate */
    int nfill;
    const char *fill[LIMIT_SQL_COLUMNS];
    int nvalidate;
    const char *validate[LIMIT_SQL_COLUMNS];     /* new CHECK constraint names */
} alter_t;

static int at_add_column(alter_t *at, const ast_alter_cmd_t *cmd, exec_notice_fn notice, void *narg,
                         sql_error_t *err)
{
    cat_table_t *def = &at->def;
    const ast_t *cr = cmd->def;
    const ast_coldef_t *cd = &cr->create.cols[0];
    if (find_col(def, cd->name) >= 0) {
        if (cmd->missing_ok) {
            char msg[256];
            snprintf(msg, sizeof msg, "column \"%s\" of relation \"%s\" already exists, skipping", cd->name,
                     def->name);
            if (notice)
                notice(narg, msg);
            return 0;
        }
        return sql_error(err, "42701", "column \"%s\" of relation \"%s\" already exists", cd->name, def->name);
    }
    if (cr->create.npk)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ADD COLUMN ... PRIMARY KEY is not supported");
    if (cr->create.nfks)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ADD COLUMN ... REFERENCES is not supported");
    if (cd->serial_bytes || cd->identity)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "ADD COLUMN with SERIAL or GENERATED ... AS IDENTITY is not supported");
    if (def->ncols >= at->cap || def->ncols >= LIMIT_SQL_COLUMNS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "tables can have at most %d columns", LIMIT_SQL_COLUMNS);
    cat_column_t *c = &def->cols[def->ncols];
    memset(c, 0, sizeof *c);
    c->name = cd->name;
    c->attnum = at->next_attnum++;
    if (exec_col_type(&cd->type, &c->type, &c->typmod, err) < 0)
        return -1;
    c->not_null = cd->not_null;
    c->default_sql = cd->default_sql;
    bool value = false;
    if (cd->default_sql && ast_volatile(cd->default_expr)) {
        if (at->nfill >= LIMIT_SQL_COLUMNS)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many columns added");
        /* type-check it now; the values come per row after the switch */
        if (check_default(at->ctx, cd->default_sql, c->type, c->typmod, err) < 0)
            return -1;
        at->fill[at->nfill++] = cd->name;
        value = true;    /* the UPDATE will give every row its value */
    } else if (cd->default_sql) {
        datum_t v;
        bool null = true;
        if (eval_default(at->ctx, cd->default_sql, c->type, c->typmod, &v, &null, err) < 0)
            return -1;
        if (!null) {
            strbuf_t row;
            strbuf_init(&row);
            row_encode(1, &c->type, &v, &null, &row);
            if (row.oom) {
                strbuf_free(&row);
                return oom(err);
            }
            uint8_t *p = arena_alloc(at->ctx->arena, row.len ? row.len : 1);
            if (!p) {
                strbuf_free(&row);
                return oom(err);
            }
            memcpy(p, row.data, row.len);
            c->missing_row = p;
            c->missing_row_len = (uint32_t)row.len;
            bool n2;
            if (row_decode(p, row.len, 1, &c->type, &c->missing, &n2) < 0) {
                strbuf_free(&row);
                return sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not encode the default of column \"%s\"",
                                 c->name);
            }
            c->has_missing = true;
            value = true;
            strbuf_free(&row);
        }
    }
    def->ncols++;
    if (c->not_null && !value) {
        int r = table_has_row(at->ctx, at->ctx->catalog, at->old, NULL, err);
        if (r < 0)
            return -1;
        if (r)
            return sql_error(err, SQLSTATE_NOT_NULL_VIOLATION, "column \"%s\" of relation \"%s\" contains null values",
                             c->name, def->name);
    }
    if (cr->create.nchecks) {
        /* the new constraints bind over the table as it now is; existing rows are
         * checked after the switch (validate) */
        cat_table_t tmp = *def;
        if (check_define(at->ctx->arena, at->ctx->catalog, cr, &tmp, err) < 0)
            return -1;
        cat_check_t *all = arena_alloc(at->ctx->arena, (size_t)(def->nchecks + tmp.nchecks + 1) * sizeof *all);
        if (!all)
            return oom(err);
        memcpy(all, def->checks, (size_t)def->nchecks * sizeof *all);
        for (int k = 0; k < tmp.nchecks; k++) {
            for (int j = 0; j < def->nchecks; j++)
                if (!strcmp(def->checks[j].name, tmp.checks[k].name))
                    return sql_error(err, "42710", "constraint \"%s\" for relation \"%s\" already exists",
                                     tmp.checks[k].name, def->name);
            if (at->nvalidate >= LIMIT_SQL_COLUMNS)
                return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many constraints added");
            at->validate[at->nvalidate++] = tmp.checks[k].name;
            all[def->nchecks + k] = tmp.checks[k];
        }
        def->nchecks += tmp.nchecks;
        def->checks = all;
        qsort(def->checks, (size_t)def->nchecks, sizeof(cat_check_t), check_cmp);
    }
    return 0;
}

static int at_drop_column(alter_t *at, const ast_alter_cmd_t *cmd, exec_notice_fn notice, void *narg,
                          sql_error_t *err)
{
    cat_table_t *def = &at->def;
    int c = find_col(def, cmd->name);
    if (c < 0) {
        if (!cmd->missing_ok)
            return no_such_column(def, cmd->name, err);
        char msg[256];
        snprintf(msg, sizeof msg, "column \"%s\" of relation \"%s\" does not exist, skipping", cmd->name, def->name);
        if (notice)
            notice(narg, msg);
        return 0;
    }
    int16_t attnum = def->cols[c].attnum;
    if (is_pk_col(def, c))
        /* the primary key is the storage key: PostgreSQL drops the key with it */
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "dropping a primary key column is not supported");
    const cat_table_t *v = catalog_view_depending(at->ctx->catalog, at->old->oid, 0);
    if (v) {
        /* views record the relations they read, not the columns (sql/exec_view.c) */
        sql_error(err, "2BP01", "cannot drop column %s of table %s because other objects depend on it", cmd->name,
                  def->name);
        sql_error_detail(err, "view %s depends on table %s", v->name, def->name);
        sql_error_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
        return -1;
    }
    for (int k = 0; k < def->nvindexes; k++)
        if (def->vindexes[k].attnum == attnum)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "dropping a column with an hnsw index is not supported; drop index \"%s\" first",
                             def->vindexes[k].name);
    if (catalog_owned_sequence(at->ctx->catalog, at->old->oid, attnum))
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "dropping a column that owns a sequence (SERIAL / IDENTITY) is not supported");
    /* as PostgreSQL: the table's own indexes, foreign keys and CHECK constraints on
     * the column go with it */
    cat_index_t *ix = arena_alloc(at->ctx->arena, (size_t)(def->nindexes + 1) * sizeof *ix);
    cat_fk_t *fk = arena_alloc(at->ctx->arena, (size_t)(def->nfks + 1) * sizeof *fk);
    if (!ix || !fk)
        return oom(err);
    int n = 0;
    for (int k = 0; k < def->nindexes; k++)
        if (!uses_attnum(def->indexes[k].attnums, def->indexes[k].ncols, attnum))
            ix[n++] = def->indexes[k];
    def->nindexes = n;
    def->indexes = ix;
    n = 0;
    for (int k = 0; k < def->nfks; k++)
        if (!uses_attnum(def->fks[k].attnums, def->fks[k].ncols, attnum))
            fk[n++] = def->fks[k];
    def->nfks = n;
    def->fks = fk;
    cat_column_t *col = &def->cols[c];
    char *dname = arena_alloc(at->ctx->arena, 48);
    if (!dname)
        return oom(err);
    snprintf(dname, 48, "........pg.dropped.%d........", attnum);
    col->name = dname;
    col->dropped = true;
    col->not_null = false;
    col->default_sql = NULL;
    col->identity = 0;
    col->has_missing = false;
    col->missing_row = NULL;
    col->missing_row_len = 0;
    n = 0;
    cat_check_t *ck = arena_alloc(at->ctx->arena, (size_t)(def->nchecks + 1) * sizeof *ck);
    if (!ck)
        return oom(err);
    for (int k = 0; k < def->nchecks; k++)
        if (check_binds(at->ctx, def, def->checks[k].expr_sql))
            ck[n++] = def->checks[k];
    def->nchecks = n;
    def->checks = ck;
    return 0;
}

static int at_column_attr(alter_t *at, const ast_alter_cmd_t *cmd, sql_error_t *err)
{
    cat_table_t *def = &at->def;
    int c = find_col(def, cmd->name);
    if (c < 0)
        return no_such_column(def, cmd->name, err);
    cat_column_t *col = &def->cols[c];
    switch (cmd->kind) {
    case AST_AT_SET_DEFAULT:
        if (col->identity)
            return sql_error(err, SQLSTATE_SYNTAX_ERROR, "column \"%s\" of relation \"%s\" is an identity column",
                             col->name, def->name);
        if (cmd->default_sql && check_default(at->ctx, cmd->default_sql, col->type, col->typmod, err) < 0)
            return -1;
        col->default_sql = cmd->default_sql;
        return 0;
    case AST_AT_SET_NOT_NULL: {
        if (col->not_null)
            return 0;
        strbuf_t cond;
        strbuf_init(&cond);
        put_ident(&cond, col->name);
        strbuf_puts(&cond, " IS NULL");
        int r = cond.oom ? oom(err) : table_has_row(at->ctx, at->ctx->catalog, at->old, cond.data, err);
        strbuf_free(&cond);
        if (r < 0)
            return -1;
        if (r)
            return sql_error(err, SQLSTATE_NOT_NULL_VIOLATION, "column \"%s\" of relation \"%s\" contains null values",
                             col->name, def->name);
        col->not_null = true;
        return 0;
    }
    case AST_AT_DROP_NOT_NULL:
        if (is_pk_col(def, c))
            return sql_error(err, "42P16", "column \"%s\" is in a primary key", col->name);
        if (col->identity)
            return sql_error(err, "42P16", "column \"%s\" of relation \"%s\" is an identity column", col->name,
                             def->name);
        col->not_null = false;
        return 0;
    default:
        ASSERT(!"not a column attribute subcommand");
        return -1;
    }
}

static int at_rename(alter_t *at, const ast_alter_cmd_t *cmd, sql_error_t *err)
{
    cat_table_t *def = &at->def;
    const cat_table_t *v = catalog_view_depending(at->ctx->catalog, at->old->oid, 0);
    if (v)
        /* a view keeps its query as SQL text, which names the table and its columns */
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "renaming a table or column that views read is not supported (view \"%s\")", v->name);
    if (cmd->kind == AST_AT_RENAME_TABLE) {
        if (catalog_relation_exists(at->ctx->catalog, def->namespace_oid, cmd->newname))
            return sql_error(err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists", cmd->newname);
        def->name = cmd->newname;
        return 0;
    }
    int c = find_col(def, cmd->name);
    if (c < 0)
        return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" does not exist", cmd->name);
    if (find_col(def, cmd->newname) >= 0)
        return sql_error(err, "42701", "column \"%s\" of relation \"%s\" already exists", cmd->newname, def->name);
    def->cols[c].name = cmd->newname;
    for (int k = 0; k < def->nchecks; k++)
        if (!check_binds(at->ctx, def, def->checks[k].expr_sql))
            /* the stored CHECK text names the old column */
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "renaming a column used by check constraint \"%s\" is not supported",
                             def->checks[k].name);
    return 0;
}

/* After the switch: fill the volatile defaults (one UPDATE per column, in the
 * statement's own transaction, committed here) and validate new CHECKs. On failure
 * the old definition is put back (the missing value or constraint never existed for
 * anyone who read rows through the old one). */
static int after_switch(alter_t *at, sql_error_t *err)
{
    exec_ctx_t *ctx = at->ctx;
    const catalog_t *cat = catalog_current();
    const cat_table_t *now = catalog_table_by_oid(cat, at->old->oid);
    int rc = 0;
    for (int i = 0; rc == 0 && now && i < at->nfill; i++) {
        strbuf_t sql;
        strbuf_init(&sql);
        strbuf_puts(&sql, "UPDATE public.");
        put_ident(&sql, now->name);
        strbuf_puts(&sql, " SET ");
        put_ident(&sql, at->fill[i]);
        strbuf_puts(&sql, " = DEFAULT");
        parse_stmt_t *st;
        int n;
        const bound_stmt_t *bs = NULL;
        bind_env_t env = {ctx->arena, cat, 0, NULL, sql.data, 0, NULL};
        const catalog_t *saved = ctx->catalog;
        ctx->catalog = cat;
        int64_t count = 0;
        rc = sql.oom ? oom(err) : parse_sql(ctx->arena, sql.data, sql.len, &st, &n, err);
        if (rc == 0 && !(bs = bind_statement(&env, st[0].ast, err)))
            rc = -1;
        if (rc == 0)
            rc = exec_dml(ctx, bs, false, NULL, &count, err);
        if (rc == 0)
            rc = txn_commit_all(ctx->txn, err);
        else
            txn_abort_all(ctx->txn);
        ctx->catalog = saved;
        strbuf_free(&sql);
    }
    for (int i = 0; rc == 0 && now && i < at->nvalidate; i++) {
        const char *expr = NULL;
        for (int k = 0; k < now->nchecks; k++)
            if (!strcmp(now->checks[k].name, at->validate[i]))
                expr = now->checks[k].expr_sql;
        if (!expr)
            continue;
        strbuf_t cond;
        strbuf_init(&cond);
        strbuf_printf(&cond, "NOT (%s)", expr);
        int r = cond.oom ? oom(err) : table_has_row(ctx, cat, now, cond.data, err);
        strbuf_free(&cond);
        if (r > 0)
            sql_error(err, "23514", "check constraint \"%s\" of relation \"%s\" is violated by some row",
                      at->validate[i], now->name);
        rc = r == 0 ? 0 : -1;
    }
    catalog_unref(cat);
    if (rc < 0) {
        sql_error_t e2;
        memset(&e2, 0, sizeof e2);
        (void)catalog_replace_table(at->old->oid, at->old, &e2);
    }
    return rc;
}

int exec_alter_table(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    const ast_t *rv = a->alter.table;
    if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0) {
        if (!strcmp(rv->rangevar.schema, "pg_catalog") || !strcmp(rv->rangevar.schema, "information_schema"))
            return sql_error(err, "42809", "permission denied: \"%s\" is a system catalog", rv->rangevar.name);
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
    }
    const cat_table_t *old = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, rv->rangevar.name);
    if (!old) {
        if (!a->alter.missing_ok)
            return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", rv->rangevar.name);
        char msg[256];
        snprintf(msg, sizeof msg, "relation \"%s\" does not exist, skipping", rv->rangevar.name);
        if (notice)
            notice(narg, msg);
        return 0;
    }
    if (old->relkind != 'r')
        return sql_error(err, "42809", "\"%s\" is not a table", old->name);
    alter_t *at = arena_alloc(ctx->arena, sizeof *at);
    if (!at)
        return oom(err);
    memset(at, 0, sizeof *at);
    at->ctx = ctx;
    at->old = old;
    at->def = *old;
    at->cap = old->ncols + a->alter.ncmds;
    if (!(at->def.cols = arena_alloc(ctx->arena, (size_t)(at->cap + 1) * sizeof(cat_column_t))))
        return oom(err);
    memcpy(at->def.cols, old->cols, (size_t)old->ncols * sizeof(cat_column_t));
    at->next_attnum = 1;
    for (int i = 0; i < old->ncols; i++)
        if (old->cols[i].attnum >= at->next_attnum)
            at->next_attnum = (int16_t)(old->cols[i].attnum + 1);
    for (int i = 0; i < a->alter.ncmds; i++) {
        const ast_alter_cmd_t *cmd = &a->alter.cmds[i];
        int rc;
        switch (cmd->kind) {
        case AST_AT_ADD_COLUMN: rc = at_add_column(at, cmd, notice, narg, err); break;
        case AST_AT_DROP_COLUMN: rc = at_drop_column(at, cmd, notice, narg, err); break;
        case AST_AT_RENAME_COLUMN: case AST_AT_RENAME_TABLE: rc = at_rename(at, cmd, err); break;
        default: rc = at_column_attr(at, cmd, err); break;
        }
        if (rc < 0)
            return -1;
    }
    if (catalog_replace_table(old->oid, &at->def, err) < 0)
        return -1;
    return at->nfill || at->nvalidate ? after_switch(at, err) : 0;
}
