/*
 * exec_dml.c -- INSERT / UPDATE / DELETE and DDL as the coordinator drives them; see
 * exec_int.h. Rows are routed with sql_route_key and written by fragments on their
 * shards (exec_shard.c); DDL goes through the catalog (catalog_int.h) and clears
 * storage with shard_table_clear_wait on every shard.
 */
#include <stdio.h>
#include <string.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/numeric.h"
#include "sql/catalog_int.h"
#include "sql/exec_int.h"
#include "sql/parse.h"
#include "sql/constraints.h"
#include "sql/exec_upsert.h"
#include "sql/secindex.h"
#include "sql/sequence.h"
#include "sql/types_vector.h"

#define INSERT_FLUSH_BYTES (1u << 20)   /* per-shard buffer sent once it reaches this */

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }
static int create_table_uniques(exec_ctx_t *ctx, const ast_t *a, uint32_t oid, sql_error_t *err);
static int exec_add_unique(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err);

/* One write fragment per non-empty per-shard row buffer (INSERT, ON CONFLICT):
 * fills (*fw)[i], shards[i] and args[i]; returns how many, or -1 (err set). */
int exec_write_frags(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, frag_write_t **fw_out,
                     int *shards, void **args, sql_error_t *err)
{
    int n = rt_shards_count();
    frag_write_t *fw = arena_alloc(ctx->arena, (size_t)n * sizeof *fw);
    if (!fw)
        return oom(err);
    int k = 0;
    for (int s = 0; s < n; s++) {
        if (!bufs[s].len)
            continue;
        if (bufs[s].oom)
            return oom(err);
        frag_write_t *f = &fw[k];
        memset(f, 0, sizeof *f);
        f->bs = bs;
        f->txn = ctx->txn;
        f->ex = ctx->ex;
        f->ex.subq_run = NULL;      /* fragments run on other shards */
        f->ex.guc_get = NULL;
        f->ex.guc_set = NULL;
        f->rows = (const uint8_t *)bufs[s].data;
        f->rows_len = bufs[s].len;
        f->shards_count = n;
        f->cancel = ctx->cancel;
        shards[k] = s;
        args[k++] = f;
    }
    *fw_out = fw;
    return k;
}

/* Sends every non-empty per-shard row buffer to its shard (in parallel). With
 * self_commit_single and exactly one shard, that shard commits on its own. */
static int ins_flush(exec_ctx_t *ctx, const bound_stmt_t *bs, strbuf_t *bufs, bool self_commit_single,
                     int64_t *count, sql_error_t *err)
{
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    frag_write_t *fw;
    int k = exec_write_frags(ctx, bs, bufs, &fw, shards, args, err);
    if (k <= 0)
        return k;
    bool self = self_commit_single && k == 1;
    ctx->txn->self_commit = self;
    int (*fn)(void *) = ctx->instr ? explain_frag_insert : frag_insert;   /* EXPLAIN ANALYZE: timed */
    if (k == 1)
        rets[0] = rt_call(shards[0], fn, args[0]);
    else
        rt_call_many(k, shards, fn, args, rets);
    ctx->txn->self_commit = false;
    int rc = 0;
    for (int i = 0; i < k; i++) {
        if (!self)
            txn_touch(ctx->txn, shards[i]);
        if (rets[i] < 0 && rc == 0) {
            *err = fw[i].err;
            rc = -1;
        }
        *count += fw[i].count;
        if (ctx->instr && bs->kind == ST_INSERT)    /* not an UPDATE's rows moving shard */
            explain_note_write(ctx, bs, shards[i], &fw[i]);
        frag_write_free(&fw[i]);
        strbuf_reset(&bufs[shards[i]]);
    }
    return rc;
}

static bool plan_reads_table(const plan_t *p, uint32_t oid)
{
    if (!p)
        return false;
    if (p->kind == PL_SCAN && p->scan.table->oid == oid)
        return true;
    return plan_reads_table(p->child, oid) || plan_reads_table(p->right, oid);
}

/* Appends one encoded (key, row) pair to its shard's buffer. */
static int route_row(const cat_table_t *t, const type_oid_t *types, const datum_t *vals, const bool *nulls,
                     strbuf_t *bufs, strbuf_t *kb, strbuf_t *vb, sql_error_t *err)
{
    if (exec_check_not_null(t, vals, nulls, err) < 0 || exec_encode_key(t, vals, nulls, kb, err) < 0)
        return -1;
    strbuf_reset(vb);
    row_encode(t->ncols, types, vals, nulls, vb);
    if (vb->oom)
        return oom(err);
    if (vb->len > LIMIT_ROW_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "row is too big: size %zu, maximum size %d", vb->len,
                         LIMIT_ROW_BYTES);
    int s = sql_route_key((const uint8_t *)kb->data, kb->len, rt_shards_count());
    strbuf_put_be32(&bufs[s], (uint32_t)kb->len);
    strbuf_append(&bufs[s], kb->data, kb->len);
    strbuf_put_be32(&bufs[s], (uint32_t)vb->len);
    strbuf_append(&bufs[s], vb->data, vb->len);
    return bufs[s].oom ? oom(err) : 0;
}

static bool any_full(strbuf_t *bufs, int n)
{
    for (int s = 0; s < n; s++)
        if (bufs[s].len >= INSERT_FLUSH_BYTES)
            return true;
    return false;
}

/* Drains op into per-shard buffers, flushing as they fill. */
static int insert_from(exec_ctx_t *ctx, const bound_stmt_t *bs, const cat_table_t *t, const type_oid_t *types,
                       exec_op_t *op, bool autocommit, rowstore_t *ret, int64_t *count, sql_error_t *err)
{
    int n = rt_shards_count();
    strbuf_t *bufs = arena_alloc(ctx->arena, (size_t)n * sizeof(strbuf_t));
    if (!bufs)
        return oom(err);
    for (int s = 0; s < n; s++)
        strbuf_init(&bufs[s]);
    strbuf_t kb, vb;
    strbuf_init(&kb);
    strbuf_init(&vb);
    bool flushed = false;
    int rc = 0;
    datum_t *vals = arena_alloc(ctx->arena, (size_t)(t->ncols + 1) * sizeof(datum_t));
    bool *nulls = arena_alloc(ctx->arena, (size_t)(t->ncols + 1));
    arena_t scratch;
    arena_init(&scratch, LIMIT_SQL_STMT_ARENA_BYTES);
    if (!vals || !nulls)
        rc = oom(err);
    fk_pending_t *fkp = fk_pending_new(ctx, t, err);     /* foreign keys: checked once written */
    if (!fkp && sql_error_is_set(err))
        rc = -1;
    while (rc == 0) {
        batch_t *b;
        int r = op->next(op, &b, err);
        if (r < 0)
            rc = -1;
        if (r <= 0)
            break;
        if (bs->nchecks) {
            arena_reset(&scratch);
            expr_ctx_t x = ctx->ex;
            x.arena = &scratch;
            if (check_constraints_eval(&x, bs, b, err) < 0) {
                rc = -1;
                break;
            }
        }
        for (int i = 0; i < b->nrows && rc == 0; i++) {
            for (int c = 0; c < t->ncols; c++) {
                vals[c] = b->vals[c][i];
                nulls[c] = b->nulls[c][i];
            }
            rc = route_row(t, types, vals, nulls, bufs, &kb, &vb, err);
            if (rc == 0 && fkp)
                rc = fk_pending_add(fkp, vals, nulls, err);
        }
        if (rc == 0 && ret && bs->nreturning) {
            arena_reset(&scratch);
            expr_ctx_t x = ctx->ex;
            x.arena = &scratch;
            batch_t *rb = batch_new(&scratch, bs->nreturning, b->nrows ? b->nrows : 1);
            if (!rb)
                rc = oom(err);
            for (int k = 0; rc == 0 && k < bs->nreturning; k++)
                if (expr_eval(&x, bs->returning[k], b, NULL, 0, rb->vals[k], rb->nulls[k], err) < 0)
                    rc = -1;
            if (rc == 0) {
                rb->nrows = b->nrows;
                rc = rowstore_add(ret, rb, NULL, 0, err);
            }
        }
        if (rc == 0 && any_full(bufs, n)) {
            rc = ins_flush(ctx, bs, bufs, false, count, err);
            flushed = true;
        }
        if (rc == 0)
            rc = exec_check_cancel(ctx, err);
    }
    if (rc == 0)
        rc = ins_flush(ctx, bs, bufs, autocommit && !flushed && !fkp, count, err);
    if (rc == 0 && fkp)
        rc = fk_pending_check(fkp, err);
    for (int s = 0; s < n; s++)
        strbuf_free(&bufs[s]);
    strbuf_free(&kb);
    strbuf_free(&vb);
    arena_destroy(&scratch);
    return rc;
}

/* A PL_VALUES-like source over rows already held in a row store. */
typedef struct rs_src { rowstore_t *rs; int64_t pos; } rs_src_t;

static int rs_src_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    rs_src_t *s = op->st;
    if (s->pos >= s->rs->nrows)
        return 0;
    *out = s->rs->chunks[s->pos / LIMIT_BATCH_ROWS];
    s->pos += (*out)->nrows;
    return 1;
}

static int exec_insert(exec_ctx_t *ctx, const bound_stmt_t *bs, bool autocommit, rowstore_t *ret, int64_t *count,
                       sql_error_t *err)
{
    const cat_table_t *t = bs->table;
    exec_op_t *op = exec_build(ctx, bs->plan, err);
    if (!op)
        return -1;
    int rc;
    if (plan_reads_table(bs->plan, t->oid)) {
        /* INSERT INTO t SELECT ... FROM t: read everything before writing (the
         * statement must not see its own rows) */
        rowstore_t *rs = arena_alloc(ctx->arena, sizeof *rs);
        if (!rs) {
            exec_close(op);
            return oom(err);
        }
        rowstore_init(rs, ctx->arena, t->ncols, bs->coltypes);
        rc = 0;
        for (;;) {
            batch_t *b;
            int r = op->next(op, &b, err);
            if (r < 0)
                rc = -1;
            if (r <= 0)
                break;
            if ((rc = rowstore_add(rs, b, NULL, 0, err)) < 0)
                break;
        }
        exec_close(op);
        if (rc < 0)
            return -1;
        exec_op_t src = {.ctx = ctx, .next = rs_src_next};
        rs_src_t st = {rs, 0};
        src.st = &st;
        if (bs->upsert)
            return exec_upsert(ctx, bs, &src, ret, count, err);
        return insert_from(ctx, bs, t, bs->coltypes, &src, autocommit, ret, count, err);
    }
    rc = bs->upsert ? exec_upsert(ctx, bs, op, ret, count, err)
                    : insert_from(ctx, bs, t, bs->coltypes, op, autocommit, ret, count, err);
    exec_close(op);
    return rc;
}

static int exec_modify(exec_ctx_t *ctx, const bound_stmt_t *bs, bool autocommit, rowstore_t *ret, int64_t *count,
                       sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    frag_write_t *fw = arena_alloc(ctx->arena, (size_t)n * sizeof *fw);
    if (!fw)
        return oom(err);
    memset(fw, 0, (size_t)n * sizeof *fw);     /* mkeys are set before the fragments are */
    uint8_t *key = NULL;
    uint32_t klen = 0;
    int k = 0;
    strbuf_t *from_bufs = NULL;
    if (bs->nkey) {
        expr_ctx_t x = ctx->ex;
        x.arena = ctx->arena;
        strbuf_t sb;
        strbuf_init(&sb);
        for (int i = 0; i < bs->nkey; i++) {
            datum_t v;
            bool isnull;
            if (expr_eval_const(&x, bs->key[i], &v, &isnull, err) < 0) {
                strbuf_free(&sb);
                return -1;
            }
            if (isnull) {
                strbuf_free(&sb);
                *count = 0;
                return 0;
            }
            type_key_encode(bs->key[i]->type, v, &sb);
        }
        key = sb.oom ? NULL : arena_memdup(ctx->arena, sb.data, sb.len);
        klen = (uint32_t)sb.len;
        strbuf_free(&sb);
        if (!key)
            return oom(err);
        shards[k++] = sql_route_key(key, klen, n);
    } else if (bs->from_plan) {
        /* UPDATE ... FROM / DELETE ... USING: the joined rows, per shard */
        from_bufs = arena_alloc(ctx->arena, (size_t)n * sizeof(strbuf_t));
        if (!from_bufs)
            return oom(err);
        for (int s = 0; s < n; s++)
            strbuf_init(&from_bufs[s]);
        int rc = bs->corr ? exec_corr_collect(ctx, bs, from_bufs, err) : exec_from_collect(ctx, bs, from_bufs, err);
        for (int s = 0; s < n && rc == 0; s++)
            if (from_bufs[s].len)
                shards[k++] = s;
        if (rc < 0 || k == 0) {
            for (int s = 0; s < n; s++)
                strbuf_free(&from_bufs[s]);
            return rc;
        }
    } else {
        strbuf_t *ixbufs = NULL;    /* candidates from an index (sql/secindex.h) */
        int r = bs->dml_index ? secidx_dml_keys(ctx, bs->dml_index, bs->dml_ixkey, &ixbufs, err) : 2;
        if (r < 0)
            return -1;
        if (r == 0) {
            *count = 0;
            return 0;
        }
        for (int s = 0; s < n; s++)
            if (r == 2 || ixbufs[s].len) {
                fw[k].mkeys = r == 2 ? NULL : (const uint8_t *)ixbufs[s].data;
                fw[k].mkeys_len = r == 2 ? 0 : ixbufs[s].len;
                shards[k++] = s;
            }
    }
    for (int i = 0; i < k; i++) {
        frag_write_t *f = &fw[i];
        const uint8_t *mk = f->mkeys;
        size_t mkl = f->mkeys_len;
        memset(f, 0, sizeof *f);
        f->mkeys = mk;
        f->mkeys_len = mkl;
        if (from_bufs) {
            f->rows = (const uint8_t *)from_bufs[shards[i]].data;
            f->rows_len = from_bufs[shards[i]].len;
        }
        f->bs = bs;
        f->txn = ctx->txn;
        f->ex = ctx->ex;
        f->ex.subq_run = NULL;      /* fragments run on other shards */
        f->ex.guc_get = NULL;
        f->ex.guc_set = NULL;
        f->key = key;
        f->klen = klen;
        f->shards_count = n;
        f->cancel = ctx->cancel;
        args[i] = f;
    }
    bool self = autocommit && k == 1 && !bs->set_changes_pk && !bs->from_plan;
    ctx->txn->self_commit = self;
    int (*fn)(void *) = ctx->instr ? explain_frag_modify : frag_modify;   /* EXPLAIN ANALYZE: timed */
    if (k == 1)
        rets[0] = rt_call(shards[0], fn, args[0]);
    else
        rt_call_many(k, shards, fn, args, rets);
    ctx->txn->self_commit = false;
    int rc = 0;
    strbuf_t *moved = NULL;
    for (int i = 0; i < k; i++) {
        frag_write_t *f = &fw[i];
        if (!self)
            txn_touch(ctx->txn, shards[i]);
        if (rets[i] < 0 && rc == 0) {
            *err = f->err;
            rc = -1;
        }
        *count += f->count;
        if (ctx->instr)
            explain_note_write(ctx, bs, shards[i], f);
        if (rc == 0 && f->returning && ret) {
            for (int c = 0; c < f->returning->nchunks && rc == 0; c++)
                rc = rowstore_add(ret, f->returning->chunks[c], NULL, 0, err);
        }
        if (rc == 0 && f->moved.len) {
            /* rows whose new key lives on another shard: insert them there */
            if (!moved) {
                moved = arena_alloc(ctx->arena, (size_t)n * sizeof(strbuf_t));
                if (!moved) {
                    rc = oom(err);
                    break;
                }
                for (int s = 0; s < n; s++)
                    strbuf_init(&moved[s]);
            }
            const uint8_t *p = (const uint8_t *)f->moved.data, *end = p + f->moved.len;
            while (p < end) {
                uint32_t kl = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
                const uint8_t *kp = p + 4;
                const uint8_t *vlp = kp + kl;
                uint32_t vl = (uint32_t)vlp[0] << 24 | (uint32_t)vlp[1] << 16 | (uint32_t)vlp[2] << 8 | vlp[3];
                int dest = sql_route_key(kp, kl, n);
                strbuf_append(&moved[dest], p, 8 + kl + vl);
                p = vlp + 4 + vl;
            }
        }
    }
    for (int i = 0; i < k; i++)
        frag_write_free(&fw[i]);
    for (int s = 0; from_bufs && s < n; s++)
        strbuf_free(&from_bufs[s]);
    if (moved) {
        int64_t ignored = 0;
        if (rc == 0)
            rc = ins_flush(ctx, bs, moved, false, &ignored, err);
        for (int s = 0; s < n; s++)
            strbuf_free(&moved[s]);
    }
    return rc;
}

int exec_dml(exec_ctx_t *ctx, const bound_stmt_t *bs, bool autocommit, rowstore_t *ret, int64_t *count,
             sql_error_t *err)
{
    *count = 0;
    if (bs->kind == ST_INSERT)
        return exec_insert(ctx, bs, autocommit, ret, count, err);
    return exec_modify(ctx, bs, autocommit, ret, count, err);
}

/* ---- DDL ---- */

static const cat_table_t *resolve_table(exec_ctx_t *ctx, const ast_t *rv, bool missing_ok, sql_error_t *err)
{
    const char *schema = rv->rangevar.schema;
    if (schema && strcmp(schema, "public") != 0) {
        if (!strcmp(schema, "pg_catalog") || !strcmp(schema, "information_schema")) {
            sql_error(err, "42809", "permission denied: \"%s\" is a system catalog", rv->rangevar.name);
            return NULL;
        }
        if (!missing_ok)
            sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", schema);
        return NULL;
    }
    const cat_table_t *t = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, rv->rangevar.name);
    if (!t && !missing_ok)
        sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", rv->rangevar.name);
    if (t && (t->relkind == 'S' || t->relkind == 'v')) {
        sql_error(err, "42809", "\"%s\" is not a table", rv->rangevar.name);
        return NULL;
    }
    return t;
}

typedef struct clear_req { uint32_t oid; uint64_t ts; } clear_req_t;

static int clear_on_shard(void *arg)
{
    clear_req_t *r = arg;
    return shard_table_clear_wait(r->oid, r->ts);
}

static int clear_everywhere(uint32_t oid, sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    clear_req_t req = {oid, hlc_now()};
    for (int s = 0; s < n; s++) {
        shards[s] = s;
        args[s] = &req;
    }
    rt_call_many(n, shards, clear_on_shard, args, rets);
    for (int s = 0; s < n; s++)
        if (rets[s] != STORE_OK)
            return txn_store_error(rets[s], err);
    return 0;
}

int exec_col_type(const ast_typename_t *tn, type_oid_t *oid, int32_t *typmod, sql_error_t *err)
{
    const type_info_t *ti = type_lookup_name(tn->name);
    if (!ti)
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s\" does not exist", tn->name);
    if (tn->is_array) {
        if (!ti->array_oid)
            return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "type \"%s[]\" does not exist", tn->name);
        *oid = ti->array_oid;
        *typmod = -1;
        return 0;
    }
    *oid = ti->oid;
    *typmod = -1;
    if (ti->oid == TYPE_VARCHAR || ti->oid == TYPE_BPCHAR) {
        if (tn->ntypmods == 1) {
            if (tn->typmods[0] < 1)
                return sql_error(err, SQLSTATE_SYNTAX_ERROR, "length for type %s must be at least 1", ti->name);
            if (tn->typmods[0] > 10485760)
                return sql_error(err, SQLSTATE_SYNTAX_ERROR, "length for type %s cannot exceed 10485760", ti->name);
            *typmod = tn->typmods[0] + 4;
        } else if (ti->oid == TYPE_BPCHAR && strcmp(tn->name, "bpchar") != 0) {
            *typmod = 1 + 4;
        }
    } else if (ti->oid == TYPE_VECTOR) {
        if (tn->ntypmods && type_vector_typmod_in(tn->ntypmods, tn->typmods, typmod, err) < 0)
            return -1;
    } else if (ti->oid == TYPE_NUMERIC) {
        if (tn->ntypmods && numeric_typmod(tn->ntypmods, tn->typmods, typmod, err) < 0)
            return -1;
    } else if (ti->oid == TYPE_INTERVAL && tn->ntypmods) {
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "interval precision and fields are not supported");
    } else if ((ti->oid == TYPE_TIMESTAMP || ti->oid == TYPE_TIMESTAMPTZ || ti->oid == TYPE_TIME) && tn->ntypmods == 1) {
        if (tn->typmods[0] < 0)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "%s(%d) precision must not be negative",
                             ti->oid == TYPE_TIME ? "TIME" : "TIMESTAMP", tn->typmods[0]);
        *typmod = tn->typmods[0] > 6 ? 6 : tn->typmods[0];
    } else if (tn->ntypmods && ti->oid != TYPE_NUMERIC && ti->oid != TYPE_TIMESTAMP && ti->oid != TYPE_TIMESTAMPTZ) {
        return sql_error(err, SQLSTATE_SYNTAX_ERROR, "type modifier is not allowed for type \"%s\"", ti->name);
    }
    return 0;
}

int exec_create_table(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    const ast_t *rv = a->create.table;
    if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0)
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
    int n = a->create.ncols;
    if (n > LIMIT_SQL_COLUMNS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "tables can have at most %d columns", LIMIT_SQL_COLUMNS);
    cat_table_t def;
    memset(&def, 0, sizeof def);
    def.namespace_oid = CAT_NS_PUBLIC;
    def.name = rv->rangevar.name;
    def.relkind = 'r';
    def.ncols = n;
    def.cols = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof(cat_column_t));
    def.pk_attnums = arena_alloc(ctx->arena, (size_t)(a->create.npk + 1) * sizeof(int16_t));
    cat_table_t *seqs = arena_alloc(ctx->arena, CAT_OWNED_SEQS_MAX * sizeof(cat_table_t));
    int nseqs = 0;
    if (!def.cols || !def.pk_attnums || !seqs)
        return oom(err);
    for (int i = 0; i < n; i++) {
        const ast_coldef_t *cd = &a->create.cols[i];
        cat_column_t *c = &def.cols[i];
        memset(c, 0, sizeof *c);
        for (int j = 0; j < i; j++)
            if (!strcmp(def.cols[j].name, cd->name))
                return sql_error(err, "42701", "column \"%s\" specified more than once", cd->name);
        c->name = cd->name;
        c->attnum = (int16_t)(i + 1);
        if (exec_col_type(&cd->type, &c->type, &c->typmod, err) < 0)
            return -1;
        c->not_null = cd->not_null;
        c->default_sql = cd->default_sql;
        if (cd->serial_bytes || cd->identity) {
            /* SERIAL / IDENTITY: an owned sequence created with the table (sql/sequence.c) */
            if (nseqs >= CAT_OWNED_SEQS_MAX)
                return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many serial or identity columns (at most %d)",
                                 CAT_OWNED_SEQS_MAX);
            if (seq_column_prepare(ctx->arena, ctx->catalog, def.name, cd, c->type, &seqs[nseqs], &c->default_sql,
                                   err) < 0)
                return -1;
            for (int k = 0; k < nseqs; k++)      /* two columns of one table: distinct names */
                if (!strcmp(seqs[k].name, seqs[nseqs].name))
                    return sql_error(err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists",
                                     seqs[nseqs].name);
            seqs[nseqs].seq->owner_attnum = c->attnum;
            nseqs++;
            c->identity = cd->identity;
        }
    }
    def.npk = a->create.npk;
    for (int k = 0; k < def.npk; k++) {
        int found = -1;
        for (int i = 0; i < n; i++)
            if (!strcmp(def.cols[i].name, a->create.pk_cols[k]))
                found = i;
        if (found < 0)
            return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" named in key does not exist",
                             a->create.pk_cols[k]);
        for (int j = 0; j < k; j++)
            if (def.pk_attnums[j] == def.cols[found].attnum)
                return sql_error(err, "42701", "column \"%s\" appears twice in primary key constraint",
                                 a->create.pk_cols[k]);
        if (type_is_array(def.cols[found].type))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "arrays in a primary key are not supported");
        if (def.cols[found].type == TYPE_VECTOR)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "vectors in a primary key are not supported");
        if (def.cols[found].type == TYPE_INTERVAL)   /* equal spans ('1 mon', '30 days') differ in bytes */
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "intervals in a primary key are not supported");
        if (def.cols[found].type == 114)      /* json: no btree operator class, as in PostgreSQL */
            return sql_error(err, SQLSTATE_UNDEFINED_OBJECT,
                             "data type json has no default operator class for access method \"btree\"");
        if (def.cols[found].type == 3802)     /* key encoding would not follow jsonb's order */
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "jsonb in a primary key is not supported");
        def.pk_attnums[k] = def.cols[found].attnum;
        def.cols[found].not_null = true;
    }
    if (def.npk) {
        const char *pk = a->create.pk_name;
        if (!pk) {
            char *nm = arena_alloc(ctx->arena, strlen(def.name) + 6);
            if (!nm)
                return oom(err);
            strcpy(nm, def.name);
            strcat(nm, "_pkey");
            pk = nm;
        }
        def.pk_name = pk;
    }
    if (fk_define(ctx->arena, ctx->catalog, a, &def, err) < 0 ||
        check_define(ctx->arena, ctx->catalog, a, &def, err) < 0)
        return -1;
    bool existed = false;
    if (catalog_create_table_seqs(&def, nseqs, seqs, a->create.if_not_exists, &existed, err) < 0)
        return -1;
    if (existed && notice) {
        char msg[256];
        snprintf(msg, sizeof msg, "relation \"%s\" already exists, skipping", def.name);
        notice(narg, msg);
    }
    if (existed)
        return 0;
    const catalog_t *cat = catalog_current();
    const cat_table_t *made = catalog_table_by_name(cat, CAT_NS_PUBLIC, def.name);
    uint32_t oid = made ? made->oid : 0;
    catalog_unref(cat);
    return oid ? create_table_uniques(ctx, a, oid, err) : 0;
}

int exec_drop_tables(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    /* resolve everything first, so a missing name drops nothing */
    const cat_table_t **ts = arena_alloc(ctx->arena, (size_t)(a->drop.n + 1) * sizeof(cat_table_t *));
    if (!ts)
        return oom(err);
    for (int i = 0; i < a->drop.n; i++) {
        ts[i] = resolve_table(ctx, a->drop.tables[i], a->drop.if_exists, err);
        if (!ts[i] && sql_error_is_set(err)) {
            const cat_table_t *o = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, a->drop.tables[i]->rangevar.name);
            if (!strcmp(err->sqlstate, "42809") && o)
                sql_error_hint(err, o->relkind == 'v' ? "Use DROP VIEW to remove a view."
                                                      : "Use DROP SEQUENCE to remove a sequence.");
            return -1;
        }
    }
    for (int i = 0; i < a->drop.n; i++) {
        /* a table referenced by a foreign key of a table not dropped with it: 2BP01 */
        strbuf_t deps;
        strbuf_init(&deps);
        for (int k = 0; ts[i] && k < ctx->catalog->ntables; k++) {
            const cat_table_t *child = ctx->catalog->tables[k];
            bool dropped = false;
            for (int j = 0; j < a->drop.n; j++)
                dropped |= ts[j] && ts[j]->oid == child->oid;
            for (int f = 0; !dropped && f < child->nfks; f++)
                if (child->fks[f].ref_table == ts[i]->oid)
                    strbuf_printf(&deps, "%sconstraint %s on table %s depends on table %s", deps.len ? "\n" : "",
                                  child->fks[f].name, child->name, ts[i]->name);
        }
        if (!deps.len && ts[i] && exec_view_dependents(ctx, ts[i], "table", ts, a->drop.n, err) < 0) {
            strbuf_free(&deps);
            return -1;
        }
        if (deps.len) {
            sql_error(err, "2BP01", "cannot drop table %s because other objects depend on it", ts[i]->name);
            sql_error_detail(err, "%s", deps.data);
            sql_error_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
            strbuf_free(&deps);
            return -1;
        }
        strbuf_free(&deps);
        if (!ts[i] && notice) {
            char msg[256];
            snprintf(msg, sizeof msg, "table \"%s\" does not exist, skipping", a->drop.tables[i]->rangevar.name);
            notice(narg, msg);
        }
    }
    for (int i = 0; i < a->drop.n; i++) {
        if (!ts[i])
            continue;
        uint32_t oid = ts[i]->oid;
        uint32_t owned[CAT_OWNED_SEQS_MAX];
        int nowned = 0;
        for (int k = 0; k < ctx->catalog->ntables && nowned < CAT_OWNED_SEQS_MAX; k++) {
            const cat_table_t *q = ctx->catalog->tables[k];
            if (q->seq && q->seq->owner_table == oid)
                owned[nowned++] = q->oid;
        }
        if (catalog_drop_table(oid, err) < 0 || clear_everywhere(oid, err) < 0)
            return -1;
        for (int k = 0; k < ts[i]->nindexes; k++)         /* and its indexes' entries */
            if (clear_everywhere(ts[i]->indexes[k].oid, err) < 0)
                return -1;
        for (int k = 0; k < nowned; k++)
            seq_forget(owned[k]);      /* the catalog dropped them with the table */
    }
    return 0;
}

int exec_truncate(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err)
{
    const cat_table_t **ts = arena_alloc(ctx->arena, (size_t)(a->drop.n + 1) * sizeof(cat_table_t *));
    if (!ts)
        return oom(err);
    for (int i = 0; i < a->drop.n; i++)
        if (!(ts[i] = resolve_table(ctx, a->drop.tables[i], false, err)))
            return -1;
    for (int i = 0; i < a->drop.n; i++) {
        const cat_fk_t *fk;
        const cat_table_t *child = fk_referencing(ctx->catalog, ts[i], &fk);
        bool with = false;
        for (int j = 0; child && j < a->drop.n; j++)
            with |= ts[j]->oid == child->oid;
        if (child && !with) {
            sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot truncate a table referenced in a foreign key "
                      "constraint");
            sql_error_detail(err, "Table \"%s\" references \"%s\".", child->name, ts[i]->name);
            sql_error_hint(err, "Truncate table \"%s\" at the same time, or use TRUNCATE ... CASCADE.", child->name);
            return -1;
        }
    }
    for (int i = 0; i < a->drop.n; i++) {
        if (clear_everywhere(ts[i]->oid, err) < 0)
            return -1;
        for (int k = 0; k < ts[i]->nindexes; k++)
            if (clear_everywhere(ts[i]->indexes[k].oid, err) < 0)
                return -1;
    }
    return 0;
}

/* ALTER TABLE t ADD PRIMARY KEY (cols): copy every row under its new key into a new
 * storage id (checking NOT NULL and uniqueness on the way), commit, switch the
 * catalog to the new definition, then drop the old rows. */
int exec_alter_pk(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err)
{
    if (a->alter_pk.unique)
        return exec_add_unique(ctx, a, err);
    const cat_table_t *old = resolve_table(ctx, a->alter_pk.table, false, err);
    if (!old)
        return -1;
    if (old->npk)
        return sql_error(err, "42P16", "multiple primary keys for table \"%s\" are not allowed", old->name);
    cat_table_t *def = arena_alloc(ctx->arena, sizeof *def);
    if (!def)
        return oom(err);
    *def = *old;
    def->cols = arena_alloc(ctx->arena, (size_t)(old->ncols + 1) * sizeof(cat_column_t));
    def->pk_attnums = arena_alloc(ctx->arena, (size_t)(a->alter_pk.ncols + 1) * sizeof(int16_t));
    if (!def->cols || !def->pk_attnums)
        return oom(err);
    memcpy(def->cols, old->cols, (size_t)old->ncols * sizeof(cat_column_t));
    def->npk = a->alter_pk.ncols;
    for (int k = 0; k < def->npk; k++) {
        int found = -1;
        for (int i = 0; i < old->ncols; i++)
            if (!old->cols[i].dropped && !strcmp(old->cols[i].name, a->alter_pk.cols[k]))
                found = i;
        if (found < 0)
            return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" of relation \"%s\" does not exist",
                             a->alter_pk.cols[k], old->name);
        if (type_is_array(old->cols[found].type))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "arrays in a primary key are not supported");
        if (old->cols[found].type == TYPE_VECTOR)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "vectors in a primary key are not supported");
        def->pk_attnums[k] = old->cols[found].attnum;
        def->cols[found].not_null = true;
    }
    const char *pk = a->alter_pk.conname;
    if (!pk) {
        char *nm = arena_alloc(ctx->arena, strlen(old->name) + 6);
        if (!nm)
            return oom(err);
        strcpy(nm, old->name);
        strcat(nm, "_pkey");
        pk = nm;
    }
    def->pk_name = pk;
    def->pk_index_oid = 0;
    if (catalog_alloc_oid(&def->oid, err) < 0)
        return -1;
    /* scan the old table and insert under the new key, in one transaction */
    plan_t *scan = arena_alloc(ctx->arena, sizeof *scan);
    bound_stmt_t *bs = arena_alloc(ctx->arena, sizeof *bs);
    if (!scan || !bs)
        return oom(err);
    memset(scan, 0, sizeof *scan);
    memset(bs, 0, sizeof *bs);
    scan->kind = PL_SCAN;
    scan->ncols = old->ncols;
    scan->scan.table = old;
    scan->scan.coltypes = plan_table_types(ctx->arena, old);
    scan->types = scan->scan.coltypes;
    bs->kind = ST_INSERT;
    bs->table = def;
    bs->coltypes = scan->scan.coltypes;
    bs->plan = scan;
    if (!scan->scan.coltypes)
        return oom(err);
    exec_op_t *op = exec_build(ctx, scan, err);
    if (!op)
        return -1;
    int64_t count = 0;
    int rc = insert_from(ctx, bs, def, bs->coltypes, op, false, NULL, &count, err);
    exec_close(op);
    if (rc == 0)
        rc = txn_commit_all(ctx->txn, err);
    else
        txn_abort_all(ctx->txn);
    if (rc < 0) {
        if (!strcmp(err->sqlstate, SQLSTATE_UNIQUE_VIOLATION)) {
            /* PostgreSQL words a failed index build differently from an INSERT */
            char detail[sizeof err->detail];
            strcpy(detail, err->detail);
            char *p = strstr(detail, " already exists.");
            if (p)
                strcpy(p, " is duplicated.");
            snprintf(err->message, sizeof err->message, "could not create unique index \"%s\"", pk);
            snprintf(err->detail, sizeof err->detail, "%s", detail);
        } else if (!strcmp(err->sqlstate, SQLSTATE_NOT_NULL_VIOLATION)) {
            for (int k = 0; k < def->npk; k++)
                if (strstr(err->message, "null value in column")) {
                    char col[128] = "";
                    const char *q = strchr(err->message, '"');
                    const char *e = q ? strchr(q + 1, '"') : NULL;
                    if (q && e && (size_t)(e - q - 1) < sizeof col) {
                        memcpy(col, q + 1, (size_t)(e - q - 1));
                        col[e - q - 1] = 0;
                    }
                    snprintf(err->message, sizeof err->message, "column \"%s\" of relation \"%s\" contains null values",
                             col, old->name);
                    err->detail[0] = 0;
                    break;
                }
        }
        clear_everywhere(def->oid, &(sql_error_t){0});
        return -1;
    }
    if (catalog_replace_table(old->oid, def, err) < 0) {
        clear_everywhere(def->oid, &(sql_error_t){0});
        return -1;
    }
    if (clear_everywhere(old->oid, err) < 0)
        return -1;
    /* index entries carry the row key, which changed: rebuild every index */
    for (int k = 0; k < old->nindexes; k++)
        if (clear_everywhere(old->indexes[k].oid, err) < 0 || exec_index_fill(def->oid, old->indexes[k].name, err) < 0)
            return -1;
    return 0;
}

/* ---- CREATE INDEX / DROP INDEX ----
 * An index is a catalog definition plus its own store table (the index OID), filled
 * by secidx_build and maintained by every row write (sql/secindex.h). */

/* PostgreSQL's default index name: table_col1_col2_idx, with a number appended
 * until it is free among the relations of the namespace. */
static const char *index_default_name(arena_t *ar, const char *table, int ncols, const char *const *cols,
                                      const char *suffix, sql_error_t *err)
{
    strbuf_t base;
    strbuf_init(&base);
    strbuf_puts(&base, table);
    for (int i = 0; i < ncols; i++) {
        strbuf_putc(&base, '_');
        strbuf_puts(&base, cols[i]);
    }
    strbuf_puts(&base, suffix);
    char *name = NULL;
    const catalog_t *cat = catalog_current();    /* newer than the statement's during CREATE TABLE */
    for (int k = 0; !base.oom && k < 1000 && !name; k++) {
        char *cand = arena_alloc(ar, base.len + 8);
        if (!cand)
            break;
        snprintf(cand, base.len + 8, "%.*s%.0d", (int)base.len, base.data, k);
        if (!catalog_relation_exists(cat, CAT_NS_PUBLIC, cand))
            name = cand;
    }
    catalog_unref(cat);
    strbuf_free(&base);
    if (!name)
        oom(err);
    return name;
}

/* Defines index `name` (NULL: the default name) on columns cols of t, publishes it
 * and builds it. A UNIQUE constraint is a unique index with IXDEF_CONSTRAINT. */
enum { IXDEF_UNIQUE = 1, IXDEF_CONSTRAINT = 2, IXDEF_HASH = 4 };
static int index_define(exec_ctx_t *ctx, const cat_table_t *t, const char *name, int ncols, const char *const *cols,
                        int flags, bool if_not_exists, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    bool unique = flags & IXDEF_UNIQUE, constraint = flags & IXDEF_CONSTRAINT;
    if (ncols > LIMIT_SQL_INDEX_COLUMNS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "cannot use more than %d columns in an index",
                         LIMIT_SQL_INDEX_COLUMNS);
    cat_index_t def = {.unique = unique, .constraint = constraint, .hash = flags & IXDEF_HASH, .ncols = ncols};
    if (!(def.attnums = arena_alloc(ctx->arena, (size_t)(def.ncols + 1) * sizeof(int16_t))))
        return oom(err);
    for (int i = 0; i < def.ncols; i++) {
        const char *cn = cols[i];
        const cat_column_t *col = NULL;
        for (int c = 0; c < t->ncols && !col; c++)
            if (!t->cols[c].dropped && !strcmp(t->cols[c].name, cn))
                col = &t->cols[c];
        if (!col)
            return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, constraint ? "column \"%s\" named in key does not exist"
                             : "column \"%s\" does not exist", cn);
        if (secidx_column_type_ok(col->type, err) < 0)
            return -1;
        def.attnums[i] = col->attnum;
    }
    def.name = name ? name : index_default_name(ctx->arena, t->name, ncols, cols, constraint ? "_key" : "_idx", err);
    if (!def.name)
        return -1;
    bool existed = false;
    if (catalog_create_index(t->oid, &def, if_not_exists, &existed, err) < 0)
        return -1;
    if (existed) {
        if (notice) {
            char msg[256];
            snprintf(msg, sizeof msg, "relation \"%s\" already exists, skipping", def.name);
            notice(narg, msg);
        }
        return 0;
    }
    return exec_index_fill(t->oid, def.name, err);
}

int exec_create_index(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    /* btree / hash on plain columns; the parser keeps every form (hnsw needs them) */
    const char *m = a->create_index.method;
    if (strcmp(m, "btree") != 0 && strcmp(m, "hash") != 0)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "access method \"%s\" is not supported", m);
    if (a->create_index.unique && !strcmp(m, "hash"))
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "access method \"hash\" does not support unique indexes");
    if (a->create_index.has_where)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "a partial index is not supported");
    if (a->create_index.nopts)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "an index storage parameter is not supported");
    if (a->create_index.concurrent)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "CREATE INDEX CONCURRENTLY is not supported");
    for (int i = 0; i < a->create_index.ncols; i++) {
        if (!a->create_index.cols[i])
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "an index expression is not supported");
        if (a->create_index.opclasses[i])
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "an index operator class is not supported");
    }
    const cat_table_t *t = resolve_table(ctx, a->create_index.table, false, err);
    if (!t)
        return -1;
    return index_define(ctx, t, a->create_index.name, a->create_index.ncols, (const char *const *)a->create_index.cols,
                        (a->create_index.unique ? IXDEF_UNIQUE : 0) | (!strcmp(m, "hash") ? IXDEF_HASH : 0),
                        a->create_index.if_not_exists, notice, narg, err);
}

/* The UNIQUE constraints of a CREATE TABLE just published as `oid`; on failure the
 * table is dropped again, so the statement has no effect (as in PostgreSQL). */
static int create_table_uniques(exec_ctx_t *ctx, const ast_t *a, uint32_t oid, sql_error_t *err)
{
    for (int k = 0; k < a->create.nuniques; k++) {
        const ast_unique_t *u = &a->create.uniques[k];
        const catalog_t *cat = catalog_current();
        const cat_table_t *t = catalog_table_by_oid(cat, oid);
        int rc = t ? index_define(ctx, t, u->name, u->ncols, u->cols, IXDEF_UNIQUE | IXDEF_CONSTRAINT, false, NULL,
                                       NULL, err) : 0;
        catalog_unref(cat);
        if (rc < 0) {
            sql_error_t ignored = {{0}};
            const catalog_t *c2 = catalog_current();
            const cat_table_t *t2 = catalog_table_by_oid(c2, oid);
            for (int i = 0; t2 && i < t2->nindexes; i++)
                clear_everywhere(t2->indexes[i].oid, &ignored);
            catalog_unref(c2);
            catalog_drop_table(oid, &ignored);
            clear_everywhere(oid, &ignored);
            return -1;
        }
    }
    return 0;
}

/* ALTER TABLE t ADD [CONSTRAINT name] UNIQUE (cols). */
static int exec_add_unique(exec_ctx_t *ctx, const ast_t *a, sql_error_t *err)
{
    const cat_table_t *t = resolve_table(ctx, a->alter_pk.table, false, err);
    if (!t)
        return -1;
    return index_define(ctx, t, a->alter_pk.conname, a->alter_pk.ncols, a->alter_pk.cols,
                        IXDEF_UNIQUE | IXDEF_CONSTRAINT, false, NULL, NULL, err);
}

int exec_index_fill(uint32_t table_oid, const char *name, sql_error_t *err)
{
    /* the published catalog has the index: writers maintain it from now on, and the
     * build fills in the rows committed so far */
    const catalog_t *cat = catalog_current();
    const cat_table_t *t = NULL;
    const cat_index_t *ix = catalog_index_by_name(cat, CAT_NS_PUBLIC, name, &t);
    int rc = 0;
    if (ix && t && t->oid == table_oid) {
        txn_ctx_t tc;
        memset(&tc, 0, sizeof tc);
        exec_ctx_t bctx = {.arena = NULL, .txn = &tc, .catalog = cat};
        arena_t a;
        arena_init(&a, LIMIT_SQL_STMT_ARENA_BYTES);
        bctx.arena = &a;
        rc = secidx_build(&bctx, t, ix, err);
        arena_destroy(&a);
        if (rc < 0) {
            uint32_t oid = ix->oid;
            bool missing;
            catalog_drop_index(name, true, &missing, &(sql_error_t){0});
            clear_everywhere(oid, &(sql_error_t){0});
        }
    }
    catalog_unref(cat);
    return rc;
}

int exec_drop_indexes(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    /* resolve everything first, so a missing name drops nothing */
    for (int i = 0; i < a->drop.n; i++) {
        const ast_t *rv = a->drop.tables[i];
        if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0)
            return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
        const cat_table_t *it = NULL;
        const cat_index_t *ix = catalog_index_by_name(ctx->catalog, CAT_NS_PUBLIC, rv->rangevar.name, &it);
        if (!ix && !a->drop.if_exists)
            return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "index \"%s\" does not exist", rv->rangevar.name);
        if (ix && ix->constraint) {
            sql_error(err, "2BP01", "cannot drop index %s because constraint %s on table %s requires it", ix->name,
                      ix->name, it->name);
            sql_error_hint(err, "You can drop constraint %s on table %s instead.", ix->name, it->name);
            return -1;
        }
        for (int c = 0; ix && c < ctx->catalog->ntables; c++) {
            const cat_table_t *child = ctx->catalog->tables[c];
            for (int k = 0; k < child->nfks; k++) {
                const cat_fk_t *f = &child->fks[k];
                if ((f->ref_table ? f->ref_table : child->oid) != it->oid || fk_ref_index(it, f) != ix)
                    continue;
                sql_error(err, "2BP01", "cannot drop index %s because other objects depend on it", ix->name);
                sql_error_detail(err, "constraint %s on table %s depends on index %s", f->name, child->name, ix->name);
                sql_error_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
                return -1;
            }
        }
    }
    for (int i = 0; i < a->drop.n; i++) {
        bool missing = false;
        const char *name = a->drop.tables[i]->rangevar.name;
        const cat_index_t *ix = catalog_index_by_name(ctx->catalog, CAT_NS_PUBLIC, name, NULL);
        uint32_t ixoid = ix ? ix->oid : 0;
        if (catalog_drop_index(name, a->drop.if_exists, &missing, err) < 0)
            return -1;
        if (!missing && ixoid && clear_everywhere(ixoid, err) < 0)    /* the index's entries */
            return -1;
        if (missing && notice) {
            char msg[256];
            snprintf(msg, sizeof msg, "index \"%s\" does not exist, skipping", name);
            notice(narg, msg);
        }
    }
    return 0;
}

/* For ALTER TABLE's rewrite (exec_alter_type.c): the INSERT machinery over an
 * operator, and the table-clear of one storage id on every shard. */
int exec_insert_rows(exec_ctx_t *ctx, const bound_stmt_t *bs, const cat_table_t *t, const type_oid_t *types,
                     exec_op_t *op, int64_t *count, sql_error_t *err)
{
    return insert_from(ctx, bs, t, types, op, false, NULL, count, err);
}

int exec_storage_clear(uint32_t oid, sql_error_t *err)
{
    return clear_everywhere(oid, err);
}
