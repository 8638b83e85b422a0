/*
 * vindex_ddl.c -- CREATE INDEX ... USING hnsw and DROP INDEX (see vindex.h).
 *
 * The statement is checked the way PostgreSQL + pgvector check it (access method,
 * operator class against the column type, the column's dimensions, WITH options
 * against pgvector's bounds, with the same messages and SQLSTATEs), then the index
 * joins its table's catalog entry (catalog_replace_table: a new catalog version on
 * every shard) and every shard builds its graph from its rows before the statement
 * returns. Like the rest of NextDB's DDL it is not transactional.
 */
#include "sql/vindex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rt.h"
#include "sql/catalog_int.h"
#include "sql/types_vector.h"
#include "vector/hnsw.h"

static const struct { const char *name; distance_metric_t metric; } vx_opclasses[] = {
    {"vector_l2_ops", DISTANCE_METRIC_L2},
    {"vector_ip_ops", DISTANCE_METRIC_IP},
    {"vector_cosine_ops", DISTANCE_METRIC_COSINE},
    {"vector_l1_ops", DISTANCE_METRIC_L1},
};

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

/* Whether a relation (table, primary-key index or vector index) of this name exists. */
static bool relation_exists(const catalog_t *cat, const char *name)
{
    for (int i = 0; i < cat->ntables; i++) {
        const cat_table_t *t = cat->tables[i];
        if (t->namespace_oid != CAT_NS_PUBLIC)
            continue;
        if (!strcmp(t->name, name) || (t->pk_name && !strcmp(t->pk_name, name)))
            return true;
        for (int k = 0; k < t->nvindexes; k++)
            if (!strcmp(t->vindexes[k].name, name))
                return true;
    }
    return catalog_index_by_name(cat, CAT_NS_PUBLIC, name, NULL) != NULL;   /* plain indexes */
}

/* PostgreSQL's ChooseRelationName: table_col_idx, then table_col_idx1, 2, ... */
static const char *default_name(exec_ctx_t *ctx, const catalog_t *cat, const char *table, const char *col)
{
    char buf[LIMIT_SQL_IDENT_BYTES * 2 + 16];
    for (int n = 0; n < 1000; n++) {
        if (n)
            snprintf(buf, sizeof buf, "%s_%s_idx%d", table, col, n);
        else
            snprintf(buf, sizeof buf, "%s_%s_idx", table, col);
        buf[LIMIT_SQL_IDENT_BYTES] = 0;
        if (!relation_exists(cat, buf))
            return arena_strdup(ctx->arena, buf);
    }
    return NULL;
}

/* One integer reloption within [lo, hi], as PostgreSQL's parse_int_reloption. */
static int int_option(const char *name, const char *value, int lo, int hi, int *out, sql_error_t *err)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (end == value || *end || errno)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid value for integer option \"%s\": %s", name, value);
    if (v < lo || v > hi) {
        sql_error(err, SQLSTATE_INVALID_PARAMETER, "value %s out of bounds for option \"%s\"", value, name);
        sql_error_detail(err, "Valid values are between \"%d\" and \"%d\".", lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int check_method(const ast_t *a, sql_error_t *err)
{
    const char *m = a->create_index.method;
    if (!strcmp(m, "btree") || !strcmp(m, "hash") || !strcmp(m, "gist") || !strcmp(m, "gin") ||
        !strcmp(m, "spgist") || !strcmp(m, "brin") || !strcmp(m, "ivfflat"))
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "index access method \"%s\" is not supported", m);
    if (strcmp(m, "hnsw") != 0)
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "access method \"%s\" does not exist", m);
    if (a->create_index.unique)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "access method \"hnsw\" does not support unique indexes");
    if (a->create_index.ncols != 1)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "access method \"hnsw\" does not support multicolumn indexes");
    if (!a->create_index.cols[0])
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "hnsw indexes on expressions are not supported");
    if (a->create_index.has_where)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "partial hnsw indexes are not supported");
    return 0;
}

/* The column and operator class: fills vi->attnum and vi->metric. */
static int check_column(const cat_table_t *t, const ast_t *a, cat_vindex_t *vi, sql_error_t *err)
{
    const char *cname = a->create_index.cols[0], *oc = a->create_index.opclasses[0];
    const cat_column_t *col = NULL;
    for (int c = 0; c < t->ncols; c++)
        if (!t->cols[c].dropped && !strcmp(t->cols[c].name, cname))
            col = &t->cols[c];
    if (!col)
        return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" does not exist", cname);
    strbuf_t tn;
    strbuf_init(&tn);
    type_format(col->type, -1, &tn);
    int rc = 0;
    if (!oc && col->type != TYPE_VECTOR) {
        rc = sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "data type %s has no default operator class for access method \"hnsw\"",
                       tn.data ? tn.data : "");
        sql_error_hint(err, "You must specify an operator class for the index or define a default operator class for the data type.");
        goto out;
    }
    size_t k = 0, n = sizeof vx_opclasses / sizeof vx_opclasses[0];
    while (oc && k < n && strcmp(vx_opclasses[k].name, oc))
        k++;
    if (k == n) {
        rc = sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "operator class \"%s\" does not exist for access method \"hnsw\"", oc);
        goto out;
    }
    if (col->type != TYPE_VECTOR) {
        rc = sql_error(err, SQLSTATE_DATATYPE_MISMATCH, "operator class \"%s\" does not accept data type %s", oc,
                       tn.data ? tn.data : "");
        goto out;
    }
    if (col->typmod < 1) {
        rc = sql_error(err, SQLSTATE_INTERNAL_ERROR, "column does not have dimensions");
        goto out;
    }
    if (col->typmod > LIMIT_VINDEX_HNSW_DIMS) {
        rc = sql_error(err, SQLSTATE_INTERNAL_ERROR, "column cannot have more than %d dimensions for hnsw index",
                       LIMIT_VINDEX_HNSW_DIMS);
        goto out;
    }
    vi->attnum = col->attnum;
    vi->metric = (uint8_t)vx_opclasses[oc ? k : 0].metric;
out:
    strbuf_free(&tn);
    return rc;
}

/* WITH (m = .., ef_construction = ..) with pgvector's bounds and rule. */
static int check_options(const ast_t *a, cat_vindex_t *vi, sql_error_t *err)
{
    int m = HNSW_M_DEFAULT, efc = HNSW_EF_CONSTRUCTION_DEFAULT;
    for (int i = 0; i < a->create_index.nopts; i++) {
        const char *name = a->create_index.opt_names[i], *value = a->create_index.opt_values[i];
        int rc;
        if (!strcmp(name, "m"))
            rc = int_option(name, value, HNSW_M_MIN, HNSW_M_MAX, &m, err);
        else if (!strcmp(name, "ef_construction"))
            rc = int_option(name, value, HNSW_EF_CONSTRUCTION_MIN, HNSW_EF_CONSTRUCTION_MAX, &efc, err);
        else
            rc = sql_error(err, SQLSTATE_INVALID_PARAMETER, "unrecognized parameter \"%s\"", name);
        if (rc < 0)
            return -1;
    }
    if (efc < 2 * m)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "ef_construction must be greater than or equal to 2 * m");
    vi->m = (uint16_t)m;
    vi->ef_construction = (uint16_t)efc;
    return 0;
}

/* Builds the new index's graph on every shard. */
static int build_everywhere(const exec_ctx_t *ctx, uint32_t table_oid, uint32_t index_oid, sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    vindex_build_req_t *reqs = rt_calloc((size_t)n, sizeof *reqs);
    if (!reqs)
        return oom(err);
    for (int i = 0; i < n; i++) {
        shards[i] = i;
        reqs[i].table_oid = table_oid;
        reqs[i].index_oid = index_oid;
        reqs[i].deadline_us = ctx->txn ? ctx->txn->deadline_us : 0;     /* the wait for writers stops with them */
        reqs[i].cancel = ctx->cancel;
        args[i] = &reqs[i];
    }
    rt_call_many(n, shards, vindex_build_on_shard, args, rets);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (rets[i] < 0) {
            *err = reqs[i].err;
            if (!sql_error_is_set(err))
                sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not build the index");
            rc = -1;
        }
    }
    rt_free(reqs);
    return rc;
}

/* A failed build (statement_timeout or cancel while it waited for the table's
 * writers, memory): the definition is taken out of the catalog again and every
 * shard frees what it built, so the failed CREATE INDEX leaves no index behind. */
static void unpublish(exec_ctx_t *ctx, uint32_t table_oid, uint32_t index_oid)
{
    const catalog_t *cat = catalog_current();
    const cat_table_t *t = catalog_table_by_oid(cat, table_oid);
    sql_error_t e2 = {0};
    if (t) {
        cat_table_t def = *t;
        def.vindexes = arena_alloc(ctx->arena, (size_t)(t->nvindexes + 1) * sizeof(cat_vindex_t));
        if (def.vindexes) {
            def.nvindexes = 0;
            for (int j = 0; j < t->nvindexes; j++)
                if (t->vindexes[j].oid != index_oid)
                    def.vindexes[def.nvindexes++] = t->vindexes[j];
            if (def.nvindexes < t->nvindexes && catalog_replace_table(table_oid, &def, &e2) == 0) {
                exec_ctx_t quiet = *ctx;
                quiet.cancel = NULL;        /* the cleanup itself never waits */
                build_everywhere(&quiet, table_oid, index_oid, &e2);
            }
        }
    }
    if (sql_error_is_set(&e2))
        log_error("vindex: could not take index %u out again after its failed build: %s", index_oid, e2.message);
    catalog_unref(cat);
}

int vindex_create(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    const ast_t *rv = a->create_index.table;
    if (check_method(a, err) < 0)
        return -1;
    if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0)
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
    const catalog_t *cat = catalog_current();
    int rc = -1;
    const cat_table_t *t = catalog_table_by_name(cat, CAT_NS_PUBLIC, rv->rangevar.name);
    cat_vindex_t vi = {0};
    if (!t) {
        sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", rv->rangevar.name);
        goto out;
    }
    if (check_column(t, a, &vi, err) < 0 || check_options(a, &vi, err) < 0)
        goto out;
    vi.name = a->create_index.name;
    if (vi.name && relation_exists(cat, vi.name)) {
        if (!a->create_index.if_not_exists) {
            sql_error(err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists", vi.name);
            goto out;
        }
        if (notice) {
            char msg[160];
            snprintf(msg, sizeof msg, "relation \"%s\" already exists, skipping", vi.name);
            notice(narg, msg);
        }
        rc = 0;
        goto out;
    }
    if (!vi.name && !(vi.name = default_name(ctx, cat, t->name, a->create_index.cols[0]))) {
        oom(err);
        goto out;
    }
    if (catalog_alloc_oid(&vi.oid, err) < 0)
        goto out;
    cat_table_t def = *t;
    def.vindexes = arena_alloc(ctx->arena, (size_t)(t->nvindexes + 1) * sizeof(cat_vindex_t));
    if (!def.vindexes) {
        oom(err);
        goto out;
    }
    if (t->nvindexes)
        memcpy(def.vindexes, t->vindexes, (size_t)t->nvindexes * sizeof(cat_vindex_t));
    def.vindexes[def.nvindexes++] = vi;
    uint32_t table_oid = t->oid;
    if (catalog_replace_table(table_oid, &def, err) < 0)
        goto out;
    rc = build_everywhere(ctx, table_oid, vi.oid, err);
    if (rc < 0)
        unpublish(ctx, table_oid, vi.oid);
out:
    catalog_unref(cat);
    return rc;
}

int vindex_drop(exec_ctx_t *ctx, const ast_t *a, exec_notice_fn notice, void *narg, sql_error_t *err)
{
    for (int i = 0; i < a->drop.n; i++) {
        const ast_t *rv = a->drop.tables[i];
        const char *name = rv->rangevar.name;
        const catalog_t *cat = catalog_current();
        const cat_table_t *owner = NULL;
        int which = -1;
        bool is_table = false, is_pk = false;
        for (int k = 0; k < cat->ntables && !owner; k++) {
            const cat_table_t *t = cat->tables[k];
            if (t->namespace_oid != CAT_NS_PUBLIC)
                continue;
            is_table |= !strcmp(t->name, name);
            if (t->pk_name && !strcmp(t->pk_name, name)) {
                is_pk = true;
                owner = t;
            }
            for (int j = 0; j < t->nvindexes && !owner; j++)
                if (!strcmp(t->vindexes[j].name, name))
                    owner = t, which = j;
        }
        int rc = 0;
        if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0 && !owner) {
            rc = sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
        } else if (is_pk) {
            rc = sql_error(err, "2BP01", "cannot drop index %s because constraint %s on table %s requires it", name,
                           name, owner->name);
            sql_error_hint(err, "You can drop constraint %s on table %s instead.", name, owner->name);
        } else if (!owner && is_table) {
            rc = sql_error(err, "42809", "\"%s\" is not an index", name);
        } else if (!owner && a->drop.if_exists) {
            if (notice) {
                char msg[160];
                snprintf(msg, sizeof msg, "index \"%s\" does not exist, skipping", name);
                notice(narg, msg);
            }
        } else if (!owner) {
            rc = sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "index \"%s\" does not exist", name);
        } else {
            cat_table_t def = *owner;
            def.vindexes = arena_alloc(ctx->arena, (size_t)(owner->nvindexes + 1) * sizeof(cat_vindex_t));
            if (!def.vindexes) {
                rc = oom(err);
            } else {
                def.nvindexes = 0;
                for (int j = 0; j < owner->nvindexes; j++)
                    if (j != which)
                        def.vindexes[def.nvindexes++] = owner->vindexes[j];
                uint32_t table_oid = owner->oid, index_oid = owner->vindexes[which].oid;
                /* then every shard frees the dropped graph and its files now */
                rc = catalog_replace_table(table_oid, &def, err);
                if (rc == 0)
                    rc = build_everywhere(ctx, table_oid, index_oid, err);
            }
        }
        catalog_unref(cat);
        if (rc < 0)
            return -1;
    }
    return 0;
}
