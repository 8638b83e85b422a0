/*
 * constraints.c -- FOREIGN KEY definition and enforcement; see constraints.h for the
 * model.
 */
#include "sql/constraints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/assert.h"
#include "core/hlc.h"
#include "core/snapreg.h"
#include "core/limits.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/exec_int.h"
#include "sql/parse.h"
#include "sql/secindex.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static const cat_column_t *col_by_name(const cat_table_t *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].dropped && !strcmp(t->cols[i].name, name))
            return &t->cols[i];
    return NULL;
}

static const cat_column_t *col_by_attnum(const cat_table_t *t, int16_t attnum)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].attnum == attnum && !t->cols[i].dropped)
            return &t->cols[i];
    return NULL;
}

static int col_index(const cat_table_t *t, int16_t attnum)
{
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].attnum == attnum)
            return i;
    return -1;
}

static bool is_int(type_oid_t t) { return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8; }

/* ---- definition ---- */

static int fk_one(arena_t *a, const catalog_t *c, cat_table_t *def, const ast_fk_t *x, cat_fk_t *f, sql_error_t *err)
{
    if (x->deferrable)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "DEFERRABLE foreign keys are not supported");
    if (x->on_update != 'a' && x->on_update != 'r')
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ON UPDATE CASCADE / SET NULL / SET DEFAULT is not supported");
    if (x->on_delete == 'd')
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "ON DELETE SET DEFAULT is not supported");
    if (x->ncols < 1 || x->ncols > LIMIT_SQL_INDEX_COLUMNS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "cannot use more than %d columns in a foreign key",
                         LIMIT_SQL_INDEX_COLUMNS);
    if (x->ref_schema && strcmp(x->ref_schema, "public") != 0)
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", x->ref_schema);
    bool self = !strcmp(x->ref_table, def->name);
    const cat_table_t *p = self ? def : catalog_table_by_name(c, CAT_NS_PUBLIC, x->ref_table);
    if (!p)
        return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", x->ref_table);
    if (p->relkind != 'r')
        return sql_error(err, "42809", "referenced relation \"%s\" is not a table", x->ref_table);
    f->ncols = x->ncols;
    f->attnums = arena_alloc(a, (size_t)(x->ncols + 1) * sizeof(int16_t));
    f->ref_attnums = arena_alloc(a, (size_t)(x->ncols + 1) * sizeof(int16_t));
    if (!f->attnums || !f->ref_attnums)
        return oom(err);
    for (int i = 0; i < x->ncols; i++) {
        const cat_column_t *cc = col_by_name(def, x->cols[i]);
        if (!cc)
            return sql_error(err, SQLSTATE_UNDEFINED_COLUMN,
                             "column \"%s\" referenced in foreign key constraint does not exist", x->cols[i]);
        f->attnums[i] = cc->attnum;
    }
    if (x->nref == 0) {
        if (!p->npk)
            return sql_error(err, "42830", "there is no primary key for referenced table \"%s\"", p->name);
        if (p->npk != x->ncols)
            return sql_error(err, "42830", "number of referencing and referenced columns for foreign key disagree");
        for (int i = 0; i < x->ncols; i++)
            f->ref_attnums[i] = p->pk_attnums[i];
    } else {
        if (x->nref != x->ncols)
            return sql_error(err, "42830", "number of referencing and referenced columns for foreign key disagree");
        for (int i = 0; i < x->nref; i++) {
            const cat_column_t *pc = col_by_name(p, x->ref_cols[i]);
            if (!pc)
                return sql_error(err, SQLSTATE_UNDEFINED_COLUMN,
                                 "column \"%s\" referenced in foreign key constraint does not exist", x->ref_cols[i]);
            f->ref_attnums[i] = pc->attnum;
        }
        /* the referenced columns must be the primary key, as a set */
        bool is_pk = p->npk == x->nref;
        for (int k = 0; is_pk && k < p->npk; k++) {
            bool found = false;
            for (int i = 0; i < x->nref; i++)
                found |= f->ref_attnums[i] == p->pk_attnums[k];
            is_pk = found;
        }
        if (!is_pk && !fk_ref_index(p, f))      /* else a unique index: probed through its entries */
            return sql_error(err, "42830", "there is no unique constraint matching given keys for referenced table \"%s\"",
                             p->name);
    }
    /* default name: <table>_<col>[_<col>...]_fkey */
    char name[LIMIT_SQL_IDENT_BYTES];
    int len = snprintf(name, sizeof name, "%s", def->name);
    for (int i = 0; i < x->ncols && len < (int)sizeof name; i++)
        len += snprintf(name + len, sizeof name - (size_t)len, "_%s", x->cols[i]);
    if (len < (int)sizeof name)
        snprintf(name + len, sizeof name - (size_t)len, "_fkey");
    name[LIMIT_SQL_IDENT_BYTES - 1] = 0;
    const char *nm = x->name ? x->name : name;
    for (int k = 0; k < def->nfks; k++)
        if (!strcmp(def->fks[k].name, nm)) {
            if (x->name)
                return sql_error(err, "42710", "constraint \"%s\" for relation \"%s\" already exists", nm, def->name);
            size_t l = strlen(name);
            snprintf(name + (l > sizeof name - 4 ? sizeof name - 4 : l), 4, "%d", def->nfks % 100);
            nm = name;
        }
    if (!(f->name = arena_strdup(a, nm)))
        return oom(err);
    for (int i = 0; i < x->ncols; i++) {
        const cat_column_t *cc = col_by_attnum(def, f->attnums[i]);
        const cat_column_t *pc = col_by_attnum(p, f->ref_attnums[i]);
        if (cc->type != pc->type && !(is_int(cc->type) && is_int(pc->type))) {
            const type_info_t *ct = type_lookup(cc->type), *pt = type_lookup(pc->type);
            sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "foreign key constraint \"%s\" cannot be implemented", f->name);
            sql_error_detail(err, "Key columns \"%s\" and \"%s\" are of incompatible types: %s and %s.", cc->name,
                             pc->name, ct ? ct->sql_name : "?", pt ? pt->sql_name : "?");
            return -1;
        }
    }
    f->ref_table = self ? 0 : p->oid;
    f->on_delete = x->on_delete;
    f->on_update = x->on_update;
    f->match_full = x->match_full;
    return 0;
}

int fk_define(arena_t *a, const catalog_t *c, const ast_t *create, cat_table_t *def, sql_error_t *err)
{
    int n = create->create.nfks;
    def->nfks = 0;
    def->fks = arena_alloc(a, (size_t)(n + 1) * sizeof(cat_fk_t));
    if (!def->fks)
        return oom(err);
    for (int i = 0; i < n; i++) {
        memset(&def->fks[i], 0, sizeof def->fks[i]);
        if (fk_one(a, c, def, &create->create.fks[i], &def->fks[i], err) < 0)
            return -1;
        def->nfks++;
    }
    return 0;
}

/* ---- child rows: keys collected per shard, looked up at statement end ---- */

typedef struct fk_probe {
    const txn_ctx_t *txn;
    uint32_t parent_oid;
    const uint8_t *recs;         /* [u32 seq][u32 klen][key][u32 tlen][text] ... */
    size_t len;
    uint32_t fail_seq;           /* out: smallest seq whose parent is missing, UINT32_MAX none */
    uint32_t fail_fk;
    sql_error_t err;
} fk_probe_t;

struct fk_pending {
    exec_ctx_t *ctx;
    const cat_table_t *t;
    const cat_table_t **parents;   /* per foreign key */
    const cat_index_t **ref_index; /* per foreign key: the referenced unique index, or NULL (PK) */
    strbuf_t *bufs;                /* [fk * shards + shard] */
    uint32_t seq;
    int nshards;
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

fk_pending_t *fk_pending_new(exec_ctx_t *ctx, const cat_table_t *t, sql_error_t *err)
{
    if (!t->nfks)
        return NULL;
    fk_pending_t *p = arena_alloc(ctx->arena, sizeof *p);
    int n = rt_shards_count();
    if (!p) {
        oom(err);
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->t = t;
    p->nshards = n;
    p->parents = arena_alloc(ctx->arena, (size_t)t->nfks * sizeof(cat_table_t *));
    p->ref_index = arena_alloc(ctx->arena, (size_t)t->nfks * sizeof(cat_index_t *));
    p->bufs = arena_alloc(ctx->arena, (size_t)t->nfks * (size_t)n * sizeof(strbuf_t));
    if (!p->parents || !p->ref_index || !p->bufs) {
        oom(err);
        return NULL;
    }
    for (int k = 0; k < t->nfks; k++) {
        uint32_t ref = t->fks[k].ref_table ? t->fks[k].ref_table : t->oid;
        p->parents[k] = catalog_table_by_oid(ctx->catalog, ref);
        if (!p->parents[k]) {
            sql_error(err, SQLSTATE_UNDEFINED_TABLE, "referenced relation of \"%s\" does not exist", t->fks[k].name);
            return NULL;
        }
        p->ref_index[k] = fk_ref_index(p->parents[k], &t->fks[k]);
        for (int s = 0; s < n; s++)
            strbuf_init(&p->bufs[k * n + s]);
    }
    return p;
}

int fk_pending_add(fk_pending_t *p, const datum_t *vals, const bool *nulls, sql_error_t *err)
{
    const cat_table_t *t = p->t;
    uint32_t seq = p->seq++;
    for (int k = 0; k < t->nfks; k++) {
        const cat_fk_t *f = &t->fks[k];
        const cat_table_t *par = p->parents[k];
        int nnull = 0;
        for (int i = 0; i < f->ncols; i++)
            nnull += nulls[col_index(t, f->attnums[i])];
        if (nnull == f->ncols || (nnull && !f->match_full))
            continue;                  /* MATCH SIMPLE: a NULL column satisfies the key */
        if (nnull) {
            sql_error(err, "23503", "insert or update on table \"%s\" violates foreign key constraint \"%s\"", t->name,
                      f->name);
            sql_error_detail(err, "MATCH FULL does not allow mixing of null and nonnull key values.");
            return -1;
        }
        datum_t pv[LIMIT_SQL_INDEX_COLUMNS];
        bool pn[LIMIT_SQL_INDEX_COLUMNS];
        /* the parent's key in its primary-key order, from the matching child columns */
        datum_t *pvals = arena_alloc(p->ctx->arena, (size_t)(par->ncols + 1) * sizeof(datum_t));
        bool *pnulls = arena_alloc(p->ctx->arena, (size_t)par->ncols + 1);
        if (!pvals || !pnulls)
            return oom(err);
        for (int c = 0; c < par->ncols; c++)
            pnulls[c] = true;
        strbuf_t text;
        strbuf_init(&text);
        for (int i = 0; i < f->ncols; i++) {
            int ci = col_index(t, f->attnums[i]);
            int pi = col_index(par, f->ref_attnums[i]);
            pv[i] = vals[ci];
            pn[i] = false;
            pvals[pi] = vals[ci];
            pnulls[pi] = false;
            if (i)
                strbuf_puts(&text, ", ");
            type_out_text(t->cols[ci].type, t->cols[ci].typmod, vals[ci], &text);
        }
        (void)pv;
        (void)pn;
        strbuf_t kb;
        strbuf_init(&kb);
        int rc = 0;
        if (p->ref_index[k])            /* a unique index: its entry key names the parent */
            secidx_row_ik(par, p->ref_index[k], pvals, pnulls, &kb, &rc, err);
        else
            rc = exec_encode_key(par, pvals, pnulls, &kb, err);
        if (rc == 0) {
            int s = sql_route_key((const uint8_t *)kb.data, kb.len, p->nshards);
            strbuf_t *b = &p->bufs[k * p->nshards + s];
            strbuf_put_be32(b, seq);
            strbuf_put_be32(b, (uint32_t)kb.len);
            strbuf_append(b, kb.data, kb.len);
            strbuf_put_be32(b, (uint32_t)text.len);
            strbuf_append(b, text.data ? text.data : "", text.len);
            if (b->oom || text.oom)
                rc = oom(err);
        }
        strbuf_free(&kb);
        strbuf_free(&text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Shard side: locks and looks up every collected parent key. */
static int fk_probe_run(void *arg)
{
    fk_probe_t *r = arg;
    r->fail_seq = UINT32_MAX;
    store_txn_t *t = txn_shard_get(r->txn, true);
    if (!t)
        return oom(&r->err);
    store_t *st = shard_store();
    const uint8_t *p = r->recs, *end = r->recs + r->len;
    while (p < end) {
        uint32_t seq = rd32(p);
        uint32_t kl = rd32(p + 4);
        const uint8_t *key = p + 8;
        uint32_t tl = rd32(key + kl);
        p = key + kl + 4 + tl;
        store_val_t v;
        uint64_t cts;
        int rc = txn_lock_latest(r->txn, t, r->parent_oid, key, kl, &v, &cts, &r->err);
        if (rc < 0)
            return -1;
        if (store_txn_has_writes(t))
            rc = store_get(st, t, UINT64_MAX, r->parent_oid, key, kl, &v);    /* our own writes count */
        if (rc < 0)
            return txn_store_error(rc, &r->err);
        if (rc == STORE_NOTFOUND && seq < r->fail_seq)
            r->fail_seq = seq;
    }
    return 0;
}

/* The text of record seq in buffer b (for the error detail). */
static const char *rec_text(arena_t *a, const strbuf_t *b, uint32_t seq)
{
    const uint8_t *p = (const uint8_t *)b->data, *end = p + b->len;
    while (p < end) {
        uint32_t s = rd32(p), kl = rd32(p + 4);
        const uint8_t *tp = p + 8 + kl;
        uint32_t tl = rd32(tp);
        if (s == seq)
            return arena_strndup(a, (const char *)tp + 4, tl);
        p = tp + 4 + tl;
    }
    return "";
}

int fk_pending_check(fk_pending_t *p, sql_error_t *err)
{
    if (!p)
        return 0;
    const cat_table_t *t = p->t;
    int n = p->nshards;
    uint32_t best = UINT32_MAX;
    int best_fk = -1, best_shard = -1;
    for (int k = 0; k < t->nfks; k++) {
        int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
        void *args[LIMIT_SHARDS_MAX];
        fk_probe_t *pr = arena_alloc(p->ctx->arena, (size_t)n * sizeof *pr);
        if (!pr)
            return oom(err);
        int m = 0;
        for (int s = 0; s < n; s++) {
            strbuf_t *b = &p->bufs[k * n + s];
            if (!b->len)
                continue;
            memset(&pr[m], 0, sizeof pr[m]);
            pr[m] = (fk_probe_t){.txn = p->ctx->txn,
                                 .parent_oid = p->ref_index[k] ? p->ref_index[k]->oid : p->parents[k]->oid,
                                 .recs = (const uint8_t *)b->data, .len = b->len};
            shards[m] = s;
            args[m] = &pr[m];
            m++;
        }
        if (!m)
            continue;
        rt_call_many(m, shards, fk_probe_run, args, rets);
        for (int i = 0; i < m; i++) {
            txn_touch(p->ctx->txn, shards[i]);      /* the parent row locks end with the transaction */
            if (rets[i] < 0) {
                *err = pr[i].err;
                return -1;
            }
            if (pr[i].fail_seq < best) {
                best = pr[i].fail_seq;
                best_fk = k;
                best_shard = shards[i];
            }
        }
    }
    int rc = 0;
    if (best_fk >= 0) {
        const cat_fk_t *f = &t->fks[best_fk];
        strbuf_t names;
        strbuf_init(&names);
        for (int i = 0; i < f->ncols; i++)
            strbuf_printf(&names, "%s%s", i ? ", " : "", col_by_attnum(t, f->attnums[i])->name);
        sql_error(err, "23503", "insert or update on table \"%s\" violates foreign key constraint \"%s\"", t->name,
                  f->name);
        sql_error_detail(err, "Key (%s)=(%s) is not present in table \"%s\".", names.data ? names.data : "",
                         rec_text(p->ctx->arena, &p->bufs[best_fk * n + best_shard], best), p->parents[best_fk]->name);
        strbuf_free(&names);
        rc = -1;
    }
    for (int k = 0; k < t->nfks; k++)
        for (int s = 0; s < n; s++)
            strbuf_free(&p->bufs[k * n + s]);
    return rc;
}

/* ---- parent rows ---- */

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

static void put_literal(strbuf_t *sb, const char *v, size_t n)
{
    strbuf_putc(sb, '\'');
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\'')
            strbuf_putc(sb, '\'');
        strbuf_putc(sb, v[i]);
    }
    strbuf_putc(sb, '\'');
}

static int fk_parent_check(exec_ctx_t *ctx, const cat_table_t *parent, bool is_update, int depth, sql_error_t *err);

/* Runs one internal statement (SELECT: the first row's text columns into row_out,
 * returns 1 if there is one; DML: returns 0) in ctx's transaction. */
static int run_internal(exec_ctx_t *ctx, const strbuf_t *sql, int depth, strbuf_t *row_out, sql_error_t *err)
{
    parse_stmt_t *st;
    int n;
    if (sql->oom)
        return oom(err);
    if (parse_sql(ctx->arena, sql->data, sql->len, &st, &n, err) < 0)
        return -1;
    ASSERT(n == 1);
    bind_env_t env = {ctx->arena, ctx->catalog, 0, NULL, sql->data, 0, NULL};
    const bound_stmt_t *bs = bind_statement(&env, st[0].ast, err);
    if (!bs)
        return -1;
    ASSERT(bs->nsubq == 0);
    if (bs->kind != ST_QUERY) {
        int64_t count = 0;
        if (exec_dml(ctx, bs, false, NULL, &count, err) < 0)
            return -1;
        return count && bs->kind == ST_DELETE ? fk_parent_check(ctx, bs->table, false, depth + 1, err) : 0;
    }
    exec_op_t *op = exec_build(ctx, bs->plan, err);
    if (!op)
        return -1;
    batch_t *b;
    int r = op->next(op, &b, err);
    while (r > 0 && b->nrows == 0)
        r = op->next(op, &b, err);
    if (r > 0) {
        for (int i = 0; i < b->ncols; i++) {
            const vstr_t *v = b->vals[i][0].s;
            strbuf_put_be32(row_out, v->len);
            strbuf_append(row_out, v->data, v->len);
        }
    }
    exec_close(op);
    return r < 0 ? -1 : r > 0;
}

/* Finds one orphaned key of foreign key f of child (rows whose key has no parent). */
static int find_orphan(exec_ctx_t *ctx, const cat_table_t *child, const cat_fk_t *f, const cat_table_t *parent,
                       strbuf_t *row, sql_error_t *err)
{
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT ");
    for (int i = 0; i < f->ncols; i++) {
        strbuf_puts(&sql, i ? ", c." : "c.");
        put_ident(&sql, col_by_attnum(child, f->attnums[i])->name);
        strbuf_puts(&sql, "::text");
    }
    strbuf_puts(&sql, " FROM public.");
    put_ident(&sql, child->name);
    strbuf_puts(&sql, " c LEFT JOIN public.");
    put_ident(&sql, parent->name);
    strbuf_puts(&sql, " p ON ");
    for (int i = 0; i < f->ncols; i++) {
        strbuf_puts(&sql, i ? " AND p." : "p.");
        put_ident(&sql, col_by_attnum(parent, f->ref_attnums[i])->name);
        strbuf_puts(&sql, " = c.");
        put_ident(&sql, col_by_attnum(child, f->attnums[i])->name);
    }
    for (int i = 0; i < f->ncols; i++) {
        strbuf_puts(&sql, i ? " AND c." : " WHERE c.");
        put_ident(&sql, col_by_attnum(child, f->attnums[i])->name);
        strbuf_puts(&sql, " IS NOT NULL");
    }
    strbuf_puts(&sql, " AND p.");
    put_ident(&sql, col_by_attnum(parent, f->ref_attnums[0])->name);
    strbuf_puts(&sql, " IS NULL LIMIT 1");
    int rc = run_internal(ctx, &sql, 0, row, err);
    strbuf_free(&sql);
    return rc;
}

/* DELETE / UPDATE ... SET NULL of the child rows with key `row` (text values). */
static int cascade(exec_ctx_t *ctx, const cat_table_t *child, const cat_fk_t *f, const strbuf_t *row, int depth,
                   sql_error_t *err)
{
    strbuf_t sql;
    strbuf_init(&sql);
    if (f->on_delete == 'c') {
        strbuf_puts(&sql, "DELETE FROM public.");
        put_ident(&sql, child->name);
    } else {
        strbuf_puts(&sql, "UPDATE public.");
        put_ident(&sql, child->name);
        for (int i = 0; i < f->ncols; i++) {
            strbuf_puts(&sql, i ? ", " : " SET ");
            put_ident(&sql, col_by_attnum(child, f->attnums[i])->name);
            strbuf_puts(&sql, " = NULL");
        }
    }
    const uint8_t *p = (const uint8_t *)row->data;
    for (int i = 0; i < f->ncols; i++) {
        const cat_column_t *cc = col_by_attnum(child, f->attnums[i]);
        uint32_t l = rd32(p);
        strbuf_puts(&sql, i ? " AND " : " WHERE ");
        put_ident(&sql, cc->name);
        strbuf_puts(&sql, "::text = ");
        put_literal(&sql, (const char *)p + 4, l);
        p += 4 + l;
    }
    int rc = run_internal(ctx, &sql, depth, NULL, err);
    strbuf_free(&sql);
    return rc;
}

static int fk_parent_check(exec_ctx_t *ctx, const cat_table_t *parent, bool is_update, int depth, sql_error_t *err)
{
    if (depth > FK_CASCADE_DEPTH_MAX)
        return sql_error(err, "54001", "foreign key cascades nest more than %d levels", FK_CASCADE_DEPTH_MAX);
    const catalog_t *c = ctx->catalog;
    uint64_t saved = ctx->txn->snap_ts;
    ctx->txn->snap_ts = hlc_now();       /* see children committed while we waited for row locks */
    snapreg_hold_t hold = {0};
    snapreg_hold(&hold, ctx->txn->snap_ts);    /* gc keeps what the child scans read */
    int rc = 0;
    for (int i = 0; rc == 0 && i < c->ntables; i++) {
        const cat_table_t *child = c->tables[i];
        for (int k = 0; rc == 0 && k < child->nfks; k++) {
            const cat_fk_t *f = &child->fks[k];
            uint32_t ref = f->ref_table ? f->ref_table : child->oid;
            if (ref != parent->oid)
                continue;
            for (int round = 0; rc == 0; round++) {
                strbuf_t row;
                strbuf_init(&row);
                int found = find_orphan(ctx, child, f, parent, &row, err);
                if (found <= 0) {
                    rc = found;
                    strbuf_free(&row);
                    break;
                }
                char action = is_update ? f->on_update : f->on_delete;
                if (action == 'a' || action == 'r' || round > 1000000) {
                    strbuf_t names, vals;
                    strbuf_init(&names);
                    strbuf_init(&vals);
                    const uint8_t *p = (const uint8_t *)row.data;
                    for (int j = 0; j < f->ncols; j++) {
                        uint32_t l = rd32(p);
                        strbuf_printf(&names, "%s%s", j ? ", " : "", col_by_attnum(parent, f->ref_attnums[j])->name);
                        strbuf_puts(&vals, j ? ", " : "");
                        strbuf_append(&vals, (const char *)p + 4, l);
                        p += 4 + l;
                    }
                    sql_error(err, "23503", "update or delete on table \"%s\" violates foreign key constraint \"%s\" "
                              "on table \"%s\"", parent->name, f->name, child->name);
                    sql_error_detail(err, "Key (%s)=(%s) is still referenced from table \"%s\".",
                                     names.data ? names.data : "", vals.data ? vals.data : "", child->name);
                    strbuf_free(&names);
                    strbuf_free(&vals);
                    rc = -1;
                } else {
                    rc = cascade(ctx, child, f, &row, depth, err);
                }
                strbuf_free(&row);
            }
        }
    }
    snapreg_release(&hold);
    ctx->txn->snap_ts = saved;
    return rc;
}

/* Whether UPDATE bs assigns a column of foreign key f. */
static bool sets_fk(const bound_stmt_t *bs, const cat_fk_t *f)
{
    for (int i = 0; i < bs->nset; i++)
        for (int j = 0; j < f->ncols; j++)
            if (bs->table->cols[bs->set_idx[i]].attnum == f->attnums[j])
                return true;
    return false;
}

/* Whether UPDATE bs assigns a column some foreign key references (a unique key). */
static bool sets_referenced(const catalog_t *c, const bound_stmt_t *bs)
{
    for (int i = 0; bs->kind == ST_UPDATE && i < c->ntables; i++)
        for (int k = 0; k < c->tables[i]->nfks; k++) {
            const cat_fk_t *f = &c->tables[i]->fks[k];
            if ((f->ref_table ? f->ref_table : c->tables[i]->oid) != bs->table->oid)
                continue;
            for (int s = 0; s < bs->nset; s++)
                for (int j = 0; j < f->ncols; j++)
                    if (bs->table->cols[bs->set_idx[s]].attnum == f->ref_attnums[j])
                        return true;
        }
    return false;
}

int fk_after_statement(exec_ctx_t *ctx, const bound_stmt_t *bs, sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    if (bs->kind == ST_DELETE || (bs->kind == ST_UPDATE && (bs->set_changes_pk || sets_referenced(ctx->catalog, bs))))
        if (fk_parent_check(ctx, t, bs->kind == ST_UPDATE, 0, err) < 0)
            return -1;
    if (bs->kind != ST_UPDATE)
        return 0;
    /* a child's key columns changed: every row of the child must still have its parent
     * (a whole-table check, without parent row locks: see constraints.h) */
    for (int k = 0; k < t->nfks; k++) {
        const cat_fk_t *f = &t->fks[k];
        if (!sets_fk(bs, f))
            continue;
        const cat_table_t *par = catalog_table_by_oid(ctx->catalog, f->ref_table ? f->ref_table : t->oid);
        if (!par)
            continue;
        strbuf_t row;
        strbuf_init(&row);
        int found = find_orphan(ctx, t, f, par, &row, err);
        if (found > 0) {
            strbuf_t names, vals;
            strbuf_init(&names);
            strbuf_init(&vals);
            const uint8_t *p = (const uint8_t *)row.data;
            for (int j = 0; j < f->ncols; j++) {
                uint32_t l = rd32(p);
                strbuf_printf(&names, "%s%s", j ? ", " : "", col_by_attnum(t, f->attnums[j])->name);
                strbuf_puts(&vals, j ? ", " : "");
                strbuf_append(&vals, (const char *)p + 4, l);
                p += 4 + l;
            }
            sql_error(err, "23503", "insert or update on table \"%s\" violates foreign key constraint \"%s\"", t->name,
                      f->name);
            sql_error_detail(err, "Key (%s)=(%s) is not present in table \"%s\".", names.data ? names.data : "",
                             vals.data ? vals.data : "", par->name);
            strbuf_free(&names);
            strbuf_free(&vals);
        }
        strbuf_free(&row);
        if (found != 0)
            return -1;
    }
    return 0;
}

const cat_index_t *fk_ref_index(const cat_table_t *parent, const cat_fk_t *f)
{
    bool is_pk = parent->npk == f->ncols;
    for (int k = 0; is_pk && k < parent->npk; k++) {
        bool found = false;
        for (int i = 0; i < f->ncols; i++)
            found |= f->ref_attnums[i] == parent->pk_attnums[k];
        is_pk = found;
    }
    if (is_pk)
        return NULL;
    for (int k = 0; k < parent->nindexes; k++) {
        const cat_index_t *x = &parent->indexes[k];
        bool same = x->unique && x->ncols == f->ncols;
        for (int j = 0; same && j < x->ncols; j++) {
            bool found = false;
            for (int i = 0; i < f->ncols; i++)
                found |= f->ref_attnums[i] == x->attnums[j];
            same = found;
        }
        if (same)
            return x;
    }
    return NULL;
}

const cat_table_t *fk_referencing(const catalog_t *c, const cat_table_t *t, const cat_fk_t **fk)
{
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *child = c->tables[i];
        if (child->oid == t->oid)
            continue;
        for (int k = 0; k < child->nfks; k++)
            if (child->fks[k].ref_table == t->oid) {
                if (fk)
                    *fk = &child->fks[k];
                return child;
            }
    }
    return NULL;
}

bool fk_needs_statement_check(const catalog_t *c, const bound_stmt_t *bs)
{
    const cat_table_t *t = bs->table;
    if (!t)
        return false;
    if (bs->kind == ST_INSERT && t->nfks)
        return true;
    for (int k = 0; bs->kind == ST_UPDATE && k < t->nfks; k++)
        if (sets_fk(bs, &t->fks[k]))
            return true;
    if (bs->kind == ST_DELETE || (bs->kind == ST_UPDATE && (bs->set_changes_pk || sets_referenced(c, bs)))) {
        for (int i = 0; i < c->ntables; i++)
            for (int k = 0; k < c->tables[i]->nfks; k++) {
                const cat_fk_t *f = &c->tables[i]->fks[k];
                if ((f->ref_table ? f->ref_table : c->tables[i]->oid) == t->oid)
                    return true;
            }
    }
    return false;
}

/* ---- CHECK constraints ---- */

int check_constraints_eval(expr_ctx_t *x, const bound_stmt_t *bs, const batch_t *b, sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    if (!bs->nchecks || !b->nrows)
        return 0;
    datum_t *out = arena_alloc(x->arena, (size_t)b->nrows * sizeof(datum_t));
    bool *on = arena_alloc(x->arena, (size_t)b->nrows);
    if (!out || !on)
        return oom(err);
    for (int k = 0; k < bs->nchecks; k++) {
        if (expr_eval(x, bs->checks[k], b, NULL, 0, out, on, err) < 0)
            return -1;
        for (int r = 0; r < b->nrows; r++) {
            if (on[r] || out[r].i64)
                continue;        /* NULL counts as passing, as in PostgreSQL */
            strbuf_t row;
            strbuf_init(&row);
            bool first = true;
            for (int c = 0; c < t->ncols; c++) {
                if (t->cols[c].dropped)
                    continue;
                strbuf_puts(&row, first ? "" : ", ");
                first = false;
                if (b->nulls[c][r])
                    strbuf_puts(&row, "null");
                else
                    type_out_text(t->cols[c].type, t->cols[c].typmod, b->vals[c][r], &row);
            }
            sql_error(err, "23514", "new row for relation \"%s\" violates check constraint \"%s\"", t->name,
                      t->checks[k].name);
            sql_error_detail(err, "Failing row contains (%s).", row.data ? row.data : "");
            strbuf_free(&row);
            return -1;
        }
    }
    return 0;
}

static int check_cmp(const void *x, const void *y)
{
    return strcmp(((const cat_check_t *)x)->name, ((const cat_check_t *)y)->name);
}

int check_define(arena_t *a, const catalog_t *c, const ast_t *create, cat_table_t *def, sql_error_t *err)
{
    int n = create->create.nchecks;
    def->nchecks = 0;
    if (!(def->checks = arena_alloc(a, (size_t)(n + 1) * sizeof(cat_check_t))))
        return oom(err);
    for (int i = 0; i < n; i++) {
        const ast_check_t *x = &create->create.checks[i];
        bind_env_t env = {a, c, 0, NULL, x->sql, 0, NULL};
        int single = -1;
        if (bind_check_constraint(&env, def, x->sql, &single, NULL, err) < 0) {
            err->position = 0;       /* the position is in our internal text, not the client's */
            return -1;
        }
        char name[LIMIT_SQL_IDENT_BYTES];
        if (single >= 0)
            snprintf(name, sizeof name, "%s_%s_check", def->name, def->cols[single].name);
        else
            snprintf(name, sizeof name, "%s_check", def->name);
        const char *nm = x->name ? x->name : name;
        /* PostgreSQL's ChooseConstraintName: a digit appended while taken */
        char alt[LIMIT_SQL_IDENT_BYTES + 16];
        for (int round = 1; round < 1000; round++) {
            bool taken = false;
            for (int k = 0; k < def->nchecks; k++)
                taken |= !strcmp(def->checks[k].name, nm);
            for (int k = 0; k < def->nfks; k++)
                taken |= !strcmp(def->fks[k].name, nm);
            if (!taken)
                break;
            if (x->name)
                return sql_error(err, "42710", "check constraint \"%s\" already exists", nm);
            snprintf(alt, sizeof alt, "%s%u", name, (unsigned)round % 1000u);
            nm = alt;
        }
        def->checks[i].name = arena_strdup(a, nm);
        def->checks[i].expr_sql = x->sql;
        if (!def->checks[i].name)
            return oom(err);
        def->nchecks++;
    }
    /* PostgreSQL evaluates a table's CHECK constraints in name order */
    qsort(def->checks, (size_t)def->nchecks, sizeof(cat_check_t), check_cmp);
    return 0;
}
