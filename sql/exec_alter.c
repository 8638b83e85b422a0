/*
 * exec_alter.c -- ALTER TABLE's subcommands: ADD COLUMN, DROP COLUMN, ALTER COLUMN
 * SET / DROP DEFAULT, SET / DROP NOT NULL and TYPE, ADD CONSTRAINT CHECK / FOREIGN
 * KEY, DROP CONSTRAINT, RENAME COLUMN and RENAME TO. ALTER COLUMN TYPE and ADD
 * COLUMN ... SERIAL / IDENTITY rewrite the table (exec_alter_type.c); the rest
 * follow the rules below.
 *
 * All subcommands of one statement are applied to one copy of the table definition,
 * in order, and the catalog switches to it in one change (catalog_replace_table,
 * same OID, same rows): either every subcommand takes effect or none. Nothing is
 * held while the statement reads rows (the checks below are ordinary queries at a
 * fresh snapshot), so other tables, and reads of this one, never wait for it; the
 * catalog's shard-0 DDL fiber is only held for the switch itself.
 *
 * Otherwise rows are not rewritten, as in PostgreSQL (sql/README.md "ALTER TABLE and the row
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
#include "sql/exec_alter_int.h"
#include "sql/exec_int.h"
#include "sql/parse.h"
#include "sql/secindex.h"
#include "sql/sequence.h"

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
    int nvalidate_fk;
    const char *validate_fk[LIMIT_SQL_COLUMNS];  /* new FOREIGN KEY names */
    /* index storage to clear once the switch is done (DROP COLUMN, DROP CONSTRAINT) */
    int nclear;
    uint32_t clear[LIMIT_SQL_INDEXES_PER_TABLE + 1];
    /* ALTER COLUMN TYPE: per slot, whether it changes and its USING text */
    bool rewrite;
    bool *changed;
    const char **using_sql;
    /* ADD COLUMN ... SERIAL / IDENTITY: the sequences to create (rewrite) */
    int nseqs;
    cat_table_t seqs[CAT_OWNED_SEQS_MAX];
} alter_t;

/* Whether a constraint or index name is taken on def (42710 for ADD CONSTRAINT). */
static bool constraint_taken(const cat_table_t *def, const char *name)
{
    for (int k = 0; k < def->nchecks; k++)
        if (!strcmp(def->checks[k].name, name))
            return true;
    for (int k = 0; k < def->nfks; k++)
        if (!strcmp(def->fks[k].name, name))
            return true;
    for (int k = 0; k < def->nindexes; k++)
        if (def->indexes[k].constraint && !strcmp(def->indexes[k].name, name))
            return true;
    return def->pk_name && def->npk && !strcmp(def->pk_name, name);
}

/* The CHECK constraints of cr (a one-column or one-constraint CREATE TABLE) join def;
 * existing rows are checked after the switch (validate). */
static int add_checks(alter_t *at, const ast_t *cr, sql_error_t *err)
{
    cat_table_t *def = &at->def;
    cat_table_t tmp = *def;
    if (check_define(at->ctx->arena, at->ctx->catalog, cr, &tmp, err) < 0)
        return -1;
    cat_check_t *all = arena_alloc(at->ctx->arena, (size_t)(def->nchecks + tmp.nchecks + 1) * sizeof *all);
    if (!all)
        return oom(err);
    memcpy(all, def->checks, (size_t)def->nchecks * sizeof *all);
    for (int k = 0; k < tmp.nchecks; k++) {
        if (constraint_taken(def, tmp.checks[k].name))
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
    return 0;
}

/* The FOREIGN KEYs of cr join def; existing rows are checked after the switch. */
static int add_fks(alter_t *at, const ast_t *cr, sql_error_t *err)
{
    cat_table_t *def = &at->def;
    cat_table_t tmp = *def;
    if (fk_define(at->ctx->arena, at->ctx->catalog, cr, &tmp, err) < 0)
        return -1;
    cat_fk_t *all = arena_alloc(at->ctx->arena, (size_t)(def->nfks + tmp.nfks + 1) * sizeof *all);
    if (!all)
        return oom(err);
    memcpy(all, def->fks, (size_t)def->nfks * sizeof *all);
    for (int k = 0; k < tmp.nfks; k++) {
        if (constraint_taken(def, tmp.fks[k].name))
            return sql_error(err, "42710", "constraint \"%s\" for relation \"%s\" already exists",
                             tmp.fks[k].name, def->name);
        if (at->nvalidate_fk >= LIMIT_SQL_COLUMNS)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many constraints added");
        at->validate_fk[at->nvalidate_fk++] = tmp.fks[k].name;
        all[def->nfks + k] = tmp.fks[k];
    }
    def->nfks += tmp.nfks;
    def->fks = all;
    return 0;
}

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
    if (cd->serial_bytes || cd->identity) {
        /* an owned sequence, created just before the rewrite gives every existing row
         * its nextval (exec_alter_table) */
        if (at->nseqs >= CAT_OWNED_SEQS_MAX)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many serial or identity columns (at most %d)",
                             CAT_OWNED_SEQS_MAX);
        if (seq_column_prepare(at->ctx->arena, at->ctx->catalog, def->name, cd, c->type, &at->seqs[at->nseqs],
                               &c->default_sql, err) < 0)
            return -1;
        for (int k = 0; k < at->nseqs; k++)
            if (!strcmp(at->seqs[k].name, at->seqs[at->nseqs].name))
                return sql_error(err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists",
                                 at->seqs[at->nseqs].name);
        at->seqs[at->nseqs].seq->owner_attnum = c->attnum;
        at->nseqs++;
        c->identity = cd->identity;
        at->rewrite = true;
        value = true;
    } else if (cd->default_sql && ast_volatile(cd->default_expr)) {
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
    /* the new constraints bind over the table as it now is; existing rows are
     * checked after the switch (validate) */
    if (cr->create.nchecks && add_checks(at, cr, err) < 0)
        return -1;
    if (cr->create.nfks && add_fks(at, cr, err) < 0)
        return -1;
    return 0;
}

/* ADD [CONSTRAINT n] CHECK (e) / FOREIGN KEY (...) REFERENCES p (...). */
static int at_add_constraint(alter_t *at, const ast_alter_cmd_t *cmd, sql_error_t *err)
{
    const ast_t *cr = cmd->def;
    if (cr->create.nchecks && add_checks(at, cr, err) < 0)
        return -1;
    return cr->create.nfks ? add_fks(at, cr, err) : 0;
}

/* DROP CONSTRAINT [IF EXISTS] n: a CHECK, FOREIGN KEY or UNIQUE constraint. */
static int at_drop_constraint(alter_t *at, const ast_alter_cmd_t *cmd, exec_notice_fn notice, void *narg,
                              sql_error_t *err)
{
    cat_table_t *def = &at->def;
    const char *name = cmd->name;
    for (int k = 0; k < def->nchecks; k++)
        if (!strcmp(def->checks[k].name, name)) {
            cat_check_t *ck = arena_alloc(at->ctx->arena, (size_t)(def->nchecks + 1) * sizeof *ck);
            if (!ck)
                return oom(err);
            int n = 0;
            for (int j = 0; j < def->nchecks; j++)
                if (j != k)
                    ck[n++] = def->checks[j];
            def->checks = ck;
            def->nchecks = n;
            return 0;
        }
    for (int k = 0; k < def->nfks; k++)
        if (!strcmp(def->fks[k].name, name)) {
            cat_fk_t *fk = arena_alloc(at->ctx->arena, (size_t)(def->nfks + 1) * sizeof *fk);
            if (!fk)
                return oom(err);
            int n = 0;
            for (int j = 0; j < def->nfks; j++)
                if (j != k)
                    fk[n++] = def->fks[j];
            def->fks = fk;
            def->nfks = n;
            return 0;
        }
    for (int k = 0; k < def->nindexes; k++) {
        const cat_index_t *ix = &def->indexes[k];
        if (!ix->constraint || strcmp(ix->name, name) != 0)
            continue;
        const catalog_t *cat = at->ctx->catalog;
        for (int c = 0; c < cat->ntables; c++) {
            const cat_table_t *child = cat->tables[c];
            for (int f = 0; f < child->nfks; f++) {
                const cat_fk_t *fk = &child->fks[f];
                const cat_index_t *ri = fk_ref_index(at->old, fk);
                if ((fk->ref_table ? fk->ref_table : child->oid) != at->old->oid || !ri || strcmp(ri->name, name))
                    continue;
                sql_error(err, "2BP01", "cannot drop constraint %s on table %s because other objects depend on it",
                          name, def->name);
                sql_error_detail(err, "constraint %s on table %s depends on index %s", fk->name, child->name, name);
                sql_error_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
                return -1;
            }
        }
        cat_index_t *nx = arena_alloc(at->ctx->arena, (size_t)(def->nindexes + 1) * sizeof *nx);
        if (!nx)
            return oom(err);
        int n = 0;
        for (int j = 0; j < def->nindexes; j++)
            if (j != k)
                nx[n++] = def->indexes[j];
        if (at->nclear <= LIMIT_SQL_INDEXES_PER_TABLE)
            at->clear[at->nclear++] = ix->oid;
        def->indexes = nx;
        def->nindexes = n;
        return 0;
    }
    if (def->npk && def->pk_name && !strcmp(def->pk_name, name))
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "dropping a primary key is not supported");
    if (!cmd->missing_ok)
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "constraint \"%s\" of relation \"%s\" does not exist", name,
                         def->name);
    char msg[256];
    snprintf(msg, sizeof msg, "constraint \"%s\" of relation \"%s\" does not exist, skipping", name, def->name);
    if (notice)
        notice(narg, msg);
    return 0;
}

/* ALTER [COLUMN] c [SET DATA] TYPE t [USING e]: the definition takes the type now,
 * the rows are rewritten at the end of the statement (exec_alter_type.c). */
static int at_alter_type(alter_t *at, const ast_alter_cmd_t *cmd, sql_error_t *err)
{
    cat_table_t *def = &at->def;
    int c = find_col(def, cmd->name);
    if (c < 0)
        return no_such_column(def, cmd->name, err);
    type_oid_t type;
    int32_t typmod;
    if (exec_col_type(cmd->type, &type, &typmod, err) < 0)
        return -1;
    if (c >= at->old->ncols)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ALTER COLUMN TYPE of a column added in the same "
                         "statement is not supported");
    if (at->changed[c])
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot alter type of column \"%s\" twice",
                         def->cols[c].name);
    if (exec_alter_type_check(at->ctx, at->old, def, c, type, typmod, cmd->using_sql != NULL, err) < 0)
        return -1;
    cat_column_t *col = &def->cols[c];
    if (col->default_sql && check_default(at->ctx, col->default_sql, type, typmod, err) < 0) {
        char col_name[128];
        snprintf(col_name, sizeof col_name, "%s", col->name);
        strbuf_t tn;
        strbuf_init(&tn);
        type_format(type, typmod, &tn);
        memset(err, 0, sizeof *err);
        sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "default for column \"%s\" cannot be cast automatically to type %s",
                  col_name, tn.data ? tn.data : "");
        strbuf_free(&tn);
        return -1;
    }
    col->type = type;
    col->typmod = typmod;
    at->changed[c] = true;
    at->using_sql[c] = cmd->using_sql;
    at->rewrite = true;
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
    for (int k = 0; k < def->nindexes; k++) {
        if (!uses_attnum(def->indexes[k].attnums, def->indexes[k].ncols, attnum))
            ix[n++] = def->indexes[k];
        else if (at->nclear <= LIMIT_SQL_INDEXES_PER_TABLE)
            at->clear[at->nclear++] = def->indexes[k].oid;       /* its entries go after the switch */
    }
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

/* Whether every row of t has its parent under foreign key `name` (MATCH SIMPLE: a
 * row with a NULL key column passes): 23503 with PostgreSQL's DETAIL for the first
 * row that has none. */
static int validate_fk(exec_ctx_t *ctx, const catalog_t *cat, const cat_table_t *t, const char *name,
                       sql_error_t *err)
{
    const cat_fk_t *f = NULL;
    for (int k = 0; k < t->nfks; k++)
        if (!strcmp(t->fks[k].name, name))
            f = &t->fks[k];
    const cat_table_t *p = f ? catalog_table_by_oid(cat, f->ref_table ? f->ref_table : t->oid) : NULL;
    if (!f || !p)
        return 0;
    strbuf_t sql, cols;
    strbuf_init(&sql);
    strbuf_init(&cols);
    strbuf_puts(&sql, "SELECT ");
    for (int j = 0; j < f->ncols; j++) {
        const char *cn = NULL, *pn = NULL;
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].attnum == f->attnums[j])
                cn = t->cols[i].name;
        for (int i = 0; i < p->ncols; i++)
            if (p->cols[i].attnum == f->ref_attnums[j])
                pn = p->cols[i].name;
        if (!cn || !pn)
            continue;
        if (j) {
            strbuf_puts(&sql, " || ', ' || ");
            strbuf_puts(&cols, ", ");
        }
        strbuf_puts(&sql, "c.");
        put_ident(&sql, cn);
        strbuf_puts(&sql, "::text");
        strbuf_puts(&cols, cn);
    }
    strbuf_puts(&sql, " FROM public.");
    put_ident(&sql, t->name);
    strbuf_puts(&sql, " c LEFT JOIN public.");
    put_ident(&sql, p->name);
    strbuf_puts(&sql, " r ON ");
    strbuf_t where;
    strbuf_init(&where);
    const char *first_ref = NULL;
    for (int j = 0; j < f->ncols; j++) {
        const char *cn = NULL, *pn = NULL;
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].attnum == f->attnums[j])
                cn = t->cols[i].name;
        for (int i = 0; i < p->ncols; i++)
            if (p->cols[i].attnum == f->ref_attnums[j])
                pn = p->cols[i].name;
        if (!cn || !pn)
            continue;
        if (!first_ref)
            first_ref = pn;
        strbuf_puts(&sql, j ? " AND r." : "r.");
        put_ident(&sql, pn);
        strbuf_puts(&sql, " = c.");
        put_ident(&sql, cn);
        strbuf_puts(&where, " AND c.");
        put_ident(&where, cn);
        strbuf_puts(&where, " IS NOT NULL");
    }
    strbuf_puts(&sql, " WHERE r.");
    put_ident(&sql, first_ref ? first_ref : "");
    strbuf_puts(&sql, " IS NULL");
    if (where.data)
        strbuf_puts(&sql, where.data);
    strbuf_puts(&sql, " LIMIT 1");
    datum_t v;
    bool null = true;
    int r = where.oom || cols.oom ? oom(err) : query_first(ctx, cat, &sql, TYPE_TEXT, &v, &null, err);
    if (r > 0) {
        sql_error(err, "23503", "insert or update on table \"%s\" violates foreign key "
                  "constraint \"%s\"", t->name, f->name);
        sql_error_detail(err, "Key (%s)=(%.*s) is not present in table \"%s\".", cols.data ? cols.data : "",
                         null ? 0 : (int)v.s->len, null ? "" : v.s->data, p->name);
    }
    strbuf_free(&sql);
    strbuf_free(&cols);
    strbuf_free(&where);
    return r == 0 ? 0 : -1;
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
    for (int i = 0; rc == 0 && now && i < at->nvalidate_fk; i++)
        rc = validate_fk(ctx, cat, now, at->validate_fk[i], err);
    catalog_unref(cat);
    if (rc < 0) {
        sql_error_t e2;
        memset(&e2, 0, sizeof e2);
        (void)catalog_replace_table(at->old->oid, at->old, &e2);
    }
    return rc;
}

bool exec_alter_rewrites(const ast_t *a)
{
    for (int i = 0; a->kind == AST_ALTER_TABLE && i < a->alter.ncmds; i++) {
        const ast_alter_cmd_t *cmd = &a->alter.cmds[i];
        if (cmd->kind == AST_AT_ALTER_TYPE)
            return true;
        if (cmd->kind == AST_AT_ADD_COLUMN && cmd->def->create.ncols &&
            (cmd->def->create.cols[0].serial_bytes || cmd->def->create.cols[0].identity))
            return true;
    }
    return false;
}

/* A failed rewrite: the sequences ADD COLUMN ... SERIAL created go again. */
static void drop_new_seqs(alter_t *at)
{
    sql_error_t e2;
    memset(&e2, 0, sizeof e2);
    for (int k = 0; k < at->nseqs; k++) {
        const catalog_t *cat = catalog_current();
        const cat_table_t *q = catalog_table_by_name(cat, CAT_NS_PUBLIC, at->seqs[k].name);
        uint32_t oid = q ? q->oid : 0;
        catalog_unref(cat);
        if (oid && catalog_drop_table(oid, &e2) == 0)
            seq_forget(oid);
    }
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
    at->changed = arena_alloc(ctx->arena, (size_t)(at->cap + 1) * sizeof(bool));
    at->using_sql = arena_alloc(ctx->arena, (size_t)(at->cap + 1) * sizeof(char *));
    if (!(at->def.cols = arena_alloc(ctx->arena, (size_t)(at->cap + 1) * sizeof(cat_column_t))) || !at->changed ||
        !at->using_sql)
        return oom(err);
    memset(at->changed, 0, (size_t)(at->cap + 1) * sizeof(bool));
    memset(at->using_sql, 0, (size_t)(at->cap + 1) * sizeof(char *));
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
        case AST_AT_ALTER_TYPE: rc = at_alter_type(at, cmd, err); break;
        case AST_AT_ADD_CONSTRAINT: rc = at_add_constraint(at, cmd, err); break;
        case AST_AT_DROP_CONSTRAINT: rc = at_drop_constraint(at, cmd, notice, narg, err); break;
        default: rc = at_column_attr(at, cmd, err); break;
        }
        if (rc < 0)
            return -1;
    }
    if (at->rewrite) {
        /* the copy checks every CHECK and foreign key of the new definition itself */
        if (at->nseqs && catalog_replace_table_seqs(old->oid, old, at->nseqs, at->seqs, err) < 0)
            return -1;
        if (exec_alter_rewrite(ctx, old, &at->def, at->using_sql, at->changed, err) < 0) {
            drop_new_seqs(at);
            return -1;
        }
    } else {
        if (catalog_replace_table(old->oid, &at->def, err) < 0)
            return -1;
        if ((at->nfill || at->nvalidate || at->nvalidate_fk) && after_switch(at, err) < 0)
            return -1;
    }
    /* the entries of the indexes dropped with a column or constraint */
    sql_error_t e2;
    memset(&e2, 0, sizeof e2);
    for (int i = 0; i < at->nclear; i++)
        if (exec_storage_clear(at->clear[i], &e2) < 0)
            break;
    return 0;
}
