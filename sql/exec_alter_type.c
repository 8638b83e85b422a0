/*
 * exec_alter_type.c -- ALTER TABLE ... ALTER [COLUMN] c [SET DATA] TYPE t [USING e]:
 * the table rewrite.
 *
 * Why: a new type changes how every stored value of the column is encoded (and, for
 * a primary-key column, which shard owns the row: the shard is a hash of the
 * encoded key), so unlike the other subcommands of exec_alter.c the rows must be
 * rewritten, as PostgreSQL rewrites the table.
 *
 * Model (sql/README.md "ALTER COLUMN TYPE"), after exec_alter.c applied every
 * subcommand to the new definition `def` and exec_alter_type_check validated each:
 *   1. bind `SELECT <old slots, the USING expressions in place of the changed
 *      columns> FROM t` over the statement's catalog: 42804 when a value cannot be
 *      assigned to the new type (PostgreSQL's wording and HINT);
 *   2. give def a fresh storage id and its indexes fresh OIDs, bind its CHECKs;
 *   3. stop writes: publish the table with `rewriting` set (every row write checks it
 *      in catalog_write_gate and fails with 55006), then wait until every
 *      transaction that held intents on any shard at that moment has ended, so no
 *      write the copy could miss is still to commit;
 *   4. copy at a fresh snapshot: each batch's changed columns are converted with the
 *      assignment cast (22P02, 22003, 22001 abort everything), the rows inserted under
 *      their (re-encoded, re-routed) keys into the new storage id by the INSERT
 *      machinery (NOT NULL, CHECK, foreign keys of the child checked on the way), in
 *      one transaction, committed; then each index is built over the new rows;
 *   5. switch: one catalog change replaces the table by def (new OID; the tables
 *      whose foreign keys reference it follow, catalog.c), then the old rows and old
 *      index entries are cleared.
 * Readers never wait: until the switch they read the old rows, after it the new
 * ones, never a mix. Any failure before the switch clears the new storage and
 * publishes the old definition again. Crash safety: the flag is not persisted; a
 * crash before the switch (one durable catalog write) leaves the old table, after
 * it the new one. What a crash leaves behind is storage no catalog row names: the
 * copied rows (before the switch) or the old ones (after it, before the clear).
 *
 * Thread: shard threads, inside the session's fiber.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/rt.h"
#include "core/strbuf.h"
#include "shards/shard.h"
#include "sql/catalog_int.h"
#include "sql/builtins.h"
#include "sql/constraints.h"
#include "sql/exec_alter_int.h"
#include "sql/exec_int.h"
#include "sql/parse.h"
#include "sql/secindex.h"

#define ALTER_WAIT_TXNS_MAX 4096     /* transactions one shard may have open at the stop */
#define ALTER_WAIT_POLL_MS  2

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

static bool int_family(type_oid_t t) { return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8; }

/* PostgreSQL's rule for the two sides of a foreign key: equal types, or integers. */
static bool fk_types_ok(type_oid_t a, type_oid_t b) { return a == b || (int_family(a) && int_family(b)); }

static const cat_column_t *col_by_attnum(const cat_table_t *t, int16_t attnum)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].attnum == attnum)
            return &t->cols[i];
    return NULL;
}

static int fk_incompatible(const char *fk, const cat_column_t *a, type_oid_t at, const cat_column_t *b,
                           type_oid_t bt, sql_error_t *err)
{
    strbuf_t x, y;
    strbuf_init(&x);
    strbuf_init(&y);
    type_format(at, -1, &x);
    type_format(bt, -1, &y);
    sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "foreign key constraint \"%s\" cannot be implemented", fk);
    sql_error_detail(err, "Key columns \"%s\" and \"%s\" are of incompatible types: %s and %s.", a->name, b->name,
                     x.data ? x.data : "", y.data ? y.data : "");
    strbuf_free(&x);
    strbuf_free(&y);
    return -1;
}

int exec_alter_type_check(exec_ctx_t *ctx, const cat_table_t *old, const cat_table_t *def, int c,
                          type_oid_t type, int32_t typmod, bool has_using, sql_error_t *err)
{
    const cat_column_t *col = &def->cols[c];
    strbuf_t tn;
    strbuf_init(&tn);
    type_format(type, typmod, &tn);
    const char *tname = tn.data ? tn.data : "";
    int rc = -1;
    const cat_table_t *v = catalog_view_depending(ctx->catalog, old->oid, 0);
    if (v) {
        /* views record the relations they read, not the columns (sql/exec_view.c) */
        sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot alter type of a column used by a view or rule");
        sql_error_detail(err, "rule _RETURN on view %s depends on column \"%s\"", v->name, col->name);
        goto done;
    }
    if (!has_using && col->type != type && !type_can_cast(col->type, type, CAST_ASSIGNMENT)) {
        sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "column \"%s\" cannot be cast automatically to type %s", col->name,
                  tname);
        sql_error_hint(err, "You might need to specify \"USING %s::%s\".", col->name, tname);
        goto done;
    }
    if (old->nvindexes) {
        sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ALTER COLUMN TYPE of a table with an hnsw index is not "
                  "supported; drop index \"%s\" first", old->vindexes[0].name);
        goto done;
    }
    for (int k = 0; k < def->npk; k++)
        if (def->pk_attnums[k] == col->attnum &&
            (type_is_array(type) || type == TYPE_VECTOR || type == TYPE_NUMERIC)) {
            sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "%s columns in a primary key are not supported",
                      type == TYPE_NUMERIC ? "numeric" : type == TYPE_VECTOR ? "vector" : "array");
            goto done;
        }
    for (int k = 0; k < def->nindexes; k++)
        for (int j = 0; j < def->indexes[k].ncols; j++)
            if (def->indexes[k].attnums[j] == col->attnum && secidx_column_type_ok(type, err) < 0)
                goto done;
    const cat_table_t *seq = catalog_owned_sequence(ctx->catalog, old->oid, col->attnum);
    if (seq && !int_family(type)) {
        sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "changing a column that owns a sequence (SERIAL / IDENTITY) "
                  "to a non-integer type is not supported");
        goto done;
    }
    /* foreign keys: this table as the child, then as the parent */
    for (int k = 0; k < def->nfks; k++) {
        const cat_fk_t *f = &def->fks[k];
        const cat_table_t *p = f->ref_table && f->ref_table != old->oid ? catalog_table_by_oid(ctx->catalog,
                                                                                               f->ref_table) : def;
        for (int j = 0; p && j < f->ncols; j++) {
            const cat_column_t *pc = col_by_attnum(p, f->ref_attnums[j]);
            const cat_column_t *cc = col_by_attnum(def, f->attnums[j]);
            bool child_side = cc && cc == col, parent_side = pc && p == def && pc == col;
            if (!pc || !cc || (!child_side && !parent_side))
                continue;
            type_oid_t ct = child_side ? type : cc->type;
            type_oid_t pt = parent_side ? type : pc->type;
            if (!fk_types_ok(ct, pt)) {
                fk_incompatible(f->name, cc, ct, pc, pt, err);
                goto done;
            }
        }
    }
    for (int i = 0; i < ctx->catalog->ntables; i++) {
        const cat_table_t *ch = ctx->catalog->tables[i];
        if (ch->oid == old->oid)
            continue;
        for (int k = 0; k < ch->nfks; k++) {
            const cat_fk_t *f = &ch->fks[k];
            if (f->ref_table != old->oid)
                continue;
            for (int j = 0; j < f->ncols; j++)
                if (f->ref_attnums[j] == col->attnum) {
                    const cat_column_t *cc = col_by_attnum(ch, f->attnums[j]);
                    if (cc && !fk_types_ok(cc->type, type)) {
                        fk_incompatible(f->name, cc, cc->type, col, type, err);
                        goto done;
                    }
                }
        }
    }
    rc = 0;
done:
    strbuf_free(&tn);
    return rc;
}

/* ---- the converting operator: the scan's rows with the changed columns cast ---- */

typedef struct conv_st {
    const cat_table_t *def;
    const type_oid_t *from;      /* per slot: the scanned type */
    const bool *changed;
    arena_t arena;               /* converted strings of the current batch */
} conv_st_t;

static int conv_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    conv_st_t *s = op->st;
    int r = op->child->next(op->child, out, err);
    if (r <= 0)
        return r;
    arena_reset(&s->arena);
    batch_t *b = *out;
    for (int c = 0; c < s->def->ncols; c++) {
        if (!s->changed[c])
            continue;
        const cat_column_t *col = &s->def->cols[c];
        for (int i = 0; i < b->nrows; i++) {
            if (b->nulls[c][i])
                continue;
            datum_t v;
            if (type_cast(s->from[c], col->type, col->typmod, CAST_ASSIGNMENT, b->vals[c][i], &s->arena, &v,
                          err) < 0)
                return -1;
            b->vals[c][i] = v;
        }
    }
    return 1;
}

/* ---- stopping writes ---- */

typedef struct active_req { uint64_t *ids; int n; bool any; } active_req_t;

static int active_collect(void *arg)
{
    active_req_t *r = arg;
    int n = store_active_txns(shard_store(), r->ids, ALTER_WAIT_TXNS_MAX);
    r->n = n < ALTER_WAIT_TXNS_MAX ? n : ALTER_WAIT_TXNS_MAX;
    return n > ALTER_WAIT_TXNS_MAX ? -1 : 0;
}

static int active_still(void *arg)
{
    active_req_t *r = arg;
    r->any = false;
    for (int i = 0; i < r->n && !r->any; i++)
        r->any = store_txn_find(shard_store(), r->ids[i]) != NULL;
    return 0;
}

/* Waits until every transaction holding intents on any shard now has ended (the
 * table is already closed to writes). Cancellable. */
static int wait_writers(exec_ctx_t *ctx, sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    active_req_t *reqs = arena_alloc(ctx->arena, (size_t)n * sizeof *reqs);
    if (!reqs)
        return oom(err);
    for (int s = 0; s < n; s++) {
        reqs[s].ids = arena_alloc(ctx->arena, ALTER_WAIT_TXNS_MAX * sizeof(uint64_t));
        reqs[s].n = 0;
        if (!reqs[s].ids)
            return oom(err);
        shards[s] = s;
        args[s] = &reqs[s];
    }
    rt_call_many(n, shards, active_collect, args, rets);
    for (int s = 0; s < n; s++)
        if (rets[s] < 0)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many open transactions to wait for (at most %d "
                             "per shard)", ALTER_WAIT_TXNS_MAX);
    for (;;) {
        rt_call_many(n, shards, active_still, args, rets);
        bool any = false;
        for (int s = 0; s < n; s++)
            any |= reqs[s].any;
        if (!any)
            return 0;
        if (exec_check_cancel(ctx, err) < 0)
            return -1;
        rt_sleep_ms(ALTER_WAIT_POLL_MS);
    }
}

/* ---- the rewrite ---- */

/* Binds "SELECT <slots> FROM t" over the statement's catalog. */
static const bound_stmt_t *bind_source(exec_ctx_t *ctx, const cat_table_t *old, const cat_table_t *def,
                                       const char *const *using_sql, const bool *changed, sql_error_t *err)
{
    strbuf_t q;
    strbuf_init(&q);
    strbuf_puts(&q, "SELECT ");
    for (int c = 0; c < def->ncols; c++) {
        if (c)
            strbuf_puts(&q, ", ");
        if (def->cols[c].dropped)
            strbuf_puts(&q, "NULL");
        else if (c >= old->ncols && !def->cols[c].default_sql)
            strbuf_puts(&q, "NULL");            /* a column added by the same statement */
        else if (c >= old->ncols) {
            /* its default, evaluated per row as PostgreSQL's rewrite does */
            strbuf_printf(&q, "CAST((%s) AS ", def->cols[c].default_sql);
            type_format(def->cols[c].type, def->cols[c].typmod, &q);
            strbuf_puts(&q, ")");
        } else if (changed[c] && using_sql[c])
            strbuf_printf(&q, "(%s)", using_sql[c]);
        else
            put_ident(&q, old->cols[c].name);
    }
    strbuf_puts(&q, " FROM public.");
    put_ident(&q, old->name);
    const bound_stmt_t *bs = NULL;
    parse_stmt_t *st;
    int n;
    if (q.oom)
        oom(err);
    else if (parse_sql(ctx->arena, q.data, q.len, &st, &n, err) == 0) {
        bind_env_t env = {ctx->arena, ctx->catalog, 0, NULL, q.data, 0, NULL};
        bs = bind_statement(&env, st[0].ast, err);
        if (bs && bs->nsubq) {
            sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot use subquery in transform expression");
            bs = NULL;
        }
    }
    if (!bs && sql_error_is_set(err))
        err->position = 0;       /* a position in our internal text means nothing to the client */
    strbuf_free(&q);
    for (int c = 0; bs && c < def->ncols; c++) {
        if (!changed[c] || !using_sql[c])
            continue;
        type_oid_t from = bs->plan->types[c];
        if (from != def->cols[c].type && from != TYPE_UNKNOWN &&
            !type_can_cast(from, def->cols[c].type, CAST_ASSIGNMENT)) {
            strbuf_t tn;
            strbuf_init(&tn);
            type_format(def->cols[c].type, def->cols[c].typmod, &tn);
            sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "result of USING clause for column \"%s\" cannot be cast "
                      "automatically to type %s", def->cols[c].name, tn.data ? tn.data : "");
            sql_error_hint(err, "You might need to add an explicit cast.");
            strbuf_free(&tn);
            return NULL;
        }
    }
    return bs;
}

/* PostgreSQL words the failures of a rewrite as an index build / constraint check. */
static void reword(const cat_table_t *def, sql_error_t *err)
{
    if (!strcmp(err->sqlstate, SQLSTATE_UNIQUE_VIOLATION) && strstr(err->message, "duplicate key value")) {
        char detail[sizeof err->detail];
        snprintf(detail, sizeof detail, "%s", err->detail);
        char *p = strstr(detail, " already exists.");
        if (p)
            strcpy(p, " is duplicated.");
        snprintf(err->message, sizeof err->message, "could not create unique index \"%s\"",
                 def->pk_name ? def->pk_name : def->name);
        snprintf(err->detail, sizeof err->detail, "%s", detail);
    } else if (!strcmp(err->sqlstate, "23514") && strstr(err->message, "new row for relation")) {
        char name[LIMIT_SQL_IDENT_BYTES] = "";
        const char *q = strstr(err->message, "check constraint \"");
        if (q) {
            q += strlen("check constraint \"");
            const char *e = strrchr(q, '"');
            if (e && (size_t)(e - q) < sizeof name) {
                memcpy(name, q, (size_t)(e - q));
                name[e - q] = 0;
            }
        }
        snprintf(err->message, sizeof err->message, "check constraint \"%s\" of relation \"%s\" is violated by "
                 "some row", name, def->name);
        err->detail[0] = 0;
    }
}

static void clear_new(const cat_table_t *def)
{
    sql_error_t ignored;
    memset(&ignored, 0, sizeof ignored);
    exec_storage_clear(def->oid, &ignored);
    for (int k = 0; k < def->nindexes; k++)
        exec_storage_clear(def->indexes[k].oid, &ignored);
}

/* Steps 4-5 once writes are stopped; on failure the new storage is cleared. */
static int copy_and_switch(exec_ctx_t *ctx, const cat_table_t *old, cat_table_t *def, const bound_stmt_t *src,
                           const bool *changed, sql_error_t *err)
{
    bound_stmt_t *bs = arena_alloc(ctx->arena, sizeof *bs);
    type_oid_t *types = arena_alloc(ctx->arena, (size_t)(def->ncols + 1) * sizeof *types);
    conv_st_t *cs = arena_alloc(ctx->arena, sizeof *cs);
    if (!bs || !types || !cs)
        return oom(err);
    memset(bs, 0, sizeof *bs);
    for (int c = 0; c < def->ncols; c++)
        types[c] = def->cols[c].type;
    bs->kind = ST_INSERT;
    bs->table = def;
    bs->coltypes = types;
    bs->nchecks = def->nchecks;
    bs->checks = arena_alloc(ctx->arena, (size_t)(def->nchecks + 1) * sizeof(bexpr_t *));
    if (!bs->checks)
        return oom(err);
    for (int k = 0; k < def->nchecks; k++) {
        bind_env_t env = {ctx->arena, ctx->catalog, 0, NULL, def->checks[k].expr_sql, 0, NULL};
        int single;
        if (bind_check_constraint(&env, def, def->checks[k].expr_sql, &single, &bs->checks[k], err) < 0) {
            err->position = 0;
            return -1;
        }
    }
    /* a fresh snapshot: it covers every transaction wait_writers saw end */
    ctx->txn->snap_ts = hlc_now();
    exec_op_t *scan = exec_build(ctx, src->plan, err);
    if (!scan)
        return -1;
    exec_op_t conv = {.ctx = ctx, .child = scan, .next = conv_next, .st = cs};
    cs->def = def;
    cs->from = src->plan->types;
    cs->changed = changed;
    arena_init(&cs->arena, LIMIT_SQL_STMT_ARENA_BYTES);
    /* the copy checks the foreign keys to other tables; a self reference keeps
     * holding (its rows move together) and its parent is not in the catalog yet */
    cat_table_t *ins = arena_alloc(ctx->arena, sizeof *ins);
    cat_fk_t *fks = arena_alloc(ctx->arena, (size_t)(def->nfks + 1) * sizeof *fks);
    if (!ins || !fks)
        return oom(err);
    *ins = *def;
    ins->fks = fks;
    ins->nfks = 0;
    for (int k = 0; k < def->nfks; k++)
        if (def->fks[k].ref_table)
            fks[ins->nfks++] = def->fks[k];
    int64_t count = 0;
    int rc = exec_insert_rows(ctx, bs, ins, types, &conv, &count, err);
    exec_close(scan);
    arena_destroy(&cs->arena);
    if (rc == 0)
        rc = txn_commit_all(ctx->txn, err);
    else
        txn_abort_all(ctx->txn);
    for (int k = 0; rc == 0 && k < def->nindexes; k++) {
        txn_ctx_t tc;
        memset(&tc, 0, sizeof tc);
        exec_ctx_t bctx = {.arena = ctx->arena, .txn = &tc, .catalog = ctx->catalog};
        rc = secidx_build(&bctx, def, &def->indexes[k], err);
    }
    if (rc == 0)
        rc = catalog_replace_table(old->oid, def, err);
    if (rc < 0) {
        reword(def, err);
        clear_new(def);
        return -1;
    }
    /* the old rows and entries: nothing names them any more */
    sql_error_t e2;
    memset(&e2, 0, sizeof e2);
    exec_storage_clear(old->oid, &e2);
    for (int k = 0; k < old->nindexes; k++)
        exec_storage_clear(old->indexes[k].oid, &e2);
    return 0;
}

static int rewrite_run(exec_ctx_t *ctx, const cat_table_t *old, cat_table_t *def, const char *const *using_sql,
                       const bool *changed, sql_error_t *err);

int exec_alter_rewrite(exec_ctx_t *ctx, const cat_table_t *old, cat_table_t *def, const char *const *using_sql,
                       const bool *changed, sql_error_t *err)
{
    /* bound over the newest catalog: ADD COLUMN ... SERIAL's sequence was just made */
    const catalog_t *cur = catalog_current();
    const catalog_t *saved = ctx->catalog;
    const builtin_ctx_t *saved_b = ctx->ex.bctx;
    builtin_ctx_t bc;
    if (saved_b) {
        bc = *saved_b;
        bc.catalog = cur;        /* nextval() finds the new sequence */
        ctx->ex.bctx = &bc;
    }
    ctx->catalog = cur;
    int rc = rewrite_run(ctx, old, def, using_sql, changed, err);
    ctx->catalog = saved;
    ctx->ex.bctx = saved_b;
    catalog_unref(cur);
    return rc;
}

static int rewrite_run(exec_ctx_t *ctx, const cat_table_t *old, cat_table_t *def, const char *const *using_sql,
                       const bool *changed, sql_error_t *err)
{
    const bound_stmt_t *src = bind_source(ctx, old, def, using_sql, changed, err);
    if (!src)
        return -1;
    /* the new definition: a fresh storage id and index OIDs, every row stored whole */
    if (catalog_alloc_oid(&def->oid, err) < 0)
        return -1;
    cat_index_t *ix = arena_alloc(ctx->arena, (size_t)(def->nindexes + 1) * sizeof *ix);
    cat_fk_t *fk = arena_alloc(ctx->arena, (size_t)(def->nfks + 1) * sizeof *fk);
    if (!ix || !fk)
        return oom(err);
    memcpy(ix, def->indexes, (size_t)def->nindexes * sizeof *ix);
    memcpy(fk, def->fks, (size_t)def->nfks * sizeof *fk);
    for (int k = 0; k < def->nindexes; k++)
        if (catalog_alloc_oid(&ix[k].oid, err) < 0)
            return -1;
    for (int k = 0; k < def->nfks; k++)
        if (fk[k].ref_table == old->oid)
            fk[k].ref_table = 0;         /* a self reference: the table itself, whatever its OID */
    def->indexes = ix;
    def->fks = fk;
    def->rewriting = false;
    for (int c = 0; c < def->ncols; c++) {
        def->cols[c].has_missing = false;
        def->cols[c].missing_row = NULL;
        def->cols[c].missing_row_len = 0;
    }
    /* stop writes, wait for the writers already under way */
    cat_table_t closed = *old;
    closed.rewriting = true;
    if (catalog_replace_table(old->oid, &closed, err) < 0)
        return -1;
    int rc = wait_writers(ctx, err);
    if (rc == 0)
        rc = copy_and_switch(ctx, old, def, src, changed, err);
    if (rc < 0) {
        sql_error_t e2;
        memset(&e2, 0, sizeof e2);
        (void)catalog_replace_table(old->oid, old, &e2);      /* open it again, unchanged */
    }
    return rc;
}
