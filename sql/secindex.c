/*
 * secindex.c -- secondary index storage, maintenance, unique enforcement, build and
 * lookups; see secindex.h for the model and sql/README.md "Secondary indexes".
 */
#include <string.h>

#include "core/assert.h"
#include "core/hlc.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/catalog.h"
#include "sql/secindex.h"
#include "sql/types_json.h"
#include "sql/types_time.h"

enum { IK_NOT_NULL = 0x01, IK_NULL = 0x02 };
enum { ENT_UNIQUE = 'u', ENT_PLAIN = 'n' };

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- key encoding ---- */

int secidx_column_type_ok(type_oid_t t, sql_error_t *err)
{
    if (type_is_array(t))
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "indexes on array columns are not supported");
    switch (t) {
    case TYPE_JSON:
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT,
                         "data type json has no default operator class for access method \"btree\"");
    case TYPE_JSONB:
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "indexes on jsonb columns are not supported");
    case TYPE_VECTOR:
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "btree indexes on vector columns are not supported (use hnsw)");
    default:
        return 0;
    }
}

bool secidx_type_ordered(type_oid_t t) { return t != TYPE_NUMERIC; }

/* Bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x00 (as types_enc.c does). */
static void put_escaped(strbuf_t *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        strbuf_put_u8(out, p[i]);
        if (p[i] == 0)
            strbuf_put_u8(out, 0xFF);
    }
    strbuf_put_be16(out, 0);
}

/* One non-null column value. Equal values must encode equal: numeric drops its
 * display scale (1.0 = 1.00; its digits are normalized, so the rest is canonical),
 * an interval becomes its span with month = 30 days, as interval equality is. */
static void put_value(strbuf_t *out, type_oid_t t, datum_t d)
{
    if (t == TYPE_NUMERIC && d.s->len >= 8) {
        uint8_t buf[8];
        memcpy(buf, d.s->data, 8);
        buf[6] = buf[7] = 0;    /* u16 dscale */
        strbuf_t tmp;
        strbuf_init(&tmp);
        strbuf_append(&tmp, buf, 8);
        strbuf_append(&tmp, d.s->data + 8, d.s->len - 8);
        if (tmp.oom)
            out->oom = true;
        else
            put_escaped(out, (const uint8_t *)tmp.data, tmp.len);
        strbuf_free(&tmp);
        return;
    }
    if (t == TYPE_INTERVAL && d.s->len == sizeof(types_interval_t)) {
        types_interval_t iv;
        memcpy(&iv, d.s->data, sizeof iv);
        __int128 span = (__int128)iv.time + (__int128)iv.day * 86400000000LL +
                        (__int128)iv.month * 30 * 86400000000LL;
        unsigned __int128 u = (unsigned __int128)span ^ ((unsigned __int128)1 << 127);
        strbuf_put_be64(out, (uint64_t)(u >> 64));
        strbuf_put_be64(out, (uint64_t)u);
        return;
    }
    type_key_encode(t, d, out);
}

int secidx_encode_ik(int n, const type_oid_t *types, const datum_t *vals, const bool *nulls, strbuf_t *out,
                     sql_error_t *err)
{
    for (int i = 0; i < n; i++) {
        if (nulls[i]) {
            strbuf_put_u8(out, IK_NULL);
            continue;
        }
        strbuf_put_u8(out, IK_NOT_NULL);
        put_value(out, types[i], vals[i]);
    }
    return out->oom ? oom(err) : 0;
}

static int col_index(const cat_table_t *t, int16_t attnum)
{
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].attnum == attnum)
            return c;
    return -1;
}

/* One entry of index ix for the row (vals, nulls) stored under row key pk. */
typedef struct entry {
    strbuf_t key, val;
    int shard;
    bool unique_form;
} entry_t;

static int entry_build(const cat_table_t *t, const cat_index_t *ix, const datum_t *vals, const bool *nulls,
                       const uint8_t *pk, uint32_t pklen, entry_t *e, sql_error_t *err)
{
    strbuf_reset(&e->key);
    strbuf_reset(&e->val);
    bool has_null = false;
    for (int i = 0; i < ix->ncols; i++) {
        int c = col_index(t, ix->attnums[i]);
        ASSERT(c >= 0);
        if (nulls[c]) {
            strbuf_put_u8(&e->key, IK_NULL);
            has_null = true;
        } else {
            strbuf_put_u8(&e->key, IK_NOT_NULL);
            put_value(&e->key, t->cols[c].type, vals[c]);
        }
    }
    if (e->key.oom)
        return oom(err);
    e->shard = sql_route_key((const uint8_t *)e->key.data, e->key.len, rt_shards_count());
    e->unique_form = ix->unique && !has_null;
    if (e->unique_form) {
        strbuf_put_u8(&e->val, ENT_UNIQUE);
        strbuf_append(&e->val, pk, pklen);
    } else {
        strbuf_append(&e->key, pk, pklen);
        strbuf_put_u8(&e->val, ENT_PLAIN);
        strbuf_put_be32(&e->val, pklen);        /* the row key is the key's last pklen bytes */
    }
    if (e->key.oom || e->val.oom)
        return oom(err);
    if (e->key.len > LIMIT_KEY_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "index row size %zu exceeds maximum %d for index \"%s\"",
                         e->key.len, LIMIT_KEY_BYTES, ix->name);
    return 0;
}

/* "(a, b)=(1, 2)" of index ix's columns in the row. */
static void key_text(const cat_table_t *t, const cat_index_t *ix, const datum_t *vals, const bool *nulls,
                     strbuf_t *sb)
{
    strbuf_putc(sb, '(');
    for (int i = 0; i < ix->ncols; i++)
        strbuf_printf(sb, "%s%s", i ? ", " : "", t->cols[col_index(t, ix->attnums[i])].name);
    strbuf_puts(sb, ")=(");
    for (int i = 0; i < ix->ncols; i++) {
        int c = col_index(t, ix->attnums[i]);
        if (i)
            strbuf_puts(sb, ", ");
        if (nulls[c])
            strbuf_puts(sb, "null");
        else
            type_out_text(t->cols[c].type, t->cols[c].typmod, vals[c], sb);
    }
    strbuf_putc(sb, ')');
}

static int dup_error(const cat_table_t *t, const cat_index_t *ix, const datum_t *vals, const bool *nulls,
                     bool building, sql_error_t *err)
{
    if (building)
        sql_error(err, SQLSTATE_UNIQUE_VIOLATION, "could not create unique index \"%s\"", ix->name);
    else
        sql_error(err, SQLSTATE_UNIQUE_VIOLATION, "duplicate key value violates unique constraint \"%s\"",
                  ix->name);
    strbuf_t sb;
    strbuf_init(&sb);
    key_text(t, ix, vals, nulls, &sb);
    if (!sb.oom)
        sql_error_detail(err, building ? "Key %s is duplicated." : "Key %s already exists.", sb.data);
    strbuf_free(&sb);
    return -1;
}

/* ---- entry writes on the entry's shard ---- */

typedef struct ent_op {
    const txn_ctx_t *tc;
    int mode;                    /* STORE_W_INSERT (unique form), PUT or DELETE */
    uint32_t table_id;           /* the index OID */
    const uint8_t *key, *val;
    uint32_t klen, vlen;
    bool dup;                    /* INSERT found another row's live entry */
    sql_error_t err;
} ent_op_t;

/* The transaction wrote on shard s: its commit and abort must reach s. The mask lives
 * in the coordinator's txn_ctx_t, which fragments on several shards share, hence the
 * atomic OR; the coordinator reads it after its fragments returned. */
void secidx_touch(const txn_ctx_t *tc, int s)
{
    uint64_t *w = (uint64_t *)&tc->touched[s / 64];
    __atomic_fetch_or(w, UINT64_C(1) << (s % 64), __ATOMIC_RELAXED);
}

static int ent_apply(void *arg)
{
    ent_op_t *o = arg;
    store_txn_t *t = txn_shard_get(o->tc, true);
    if (!t)
        return oom(&o->err);
    secidx_touch(o->tc, rt_shard_id());
    int w = txn_write_raw(o->tc, t, o->mode, o->table_id, o->key, o->klen, o->val, o->vlen, &o->err);
    if (w == STORE_EXISTS) {
        /* an entry of this very row (a build meeting a concurrent writer's entry) is fine */
        store_val_t v;
        int g = store_get(shard_store(), t, UINT64_MAX, o->table_id, o->key, o->klen, &v);
        if (g < 0)
            return txn_store_error(g, &o->err);
        if (!(g == STORE_OK && v.len == o->vlen && !memcmp(v.ptr, o->val, o->vlen)))
            o->dup = true;
        w = STORE_OK;
    }
    return w < 0 ? -1 : 0;
}

/* Writes one entry on its shard; 1 when a unique insert met a duplicate, 0, or -1. */
static int ent_write(const txn_ctx_t *tc, const cat_index_t *ix, int mode, const entry_t *e, sql_error_t *err)
{
    if (tc->self_commit && e->shard != rt_shard_id())
        /* the statement was planned before the index existed (its commit fast path
         * cannot reach the entry's shard): fail it so the client retries */
        return sql_error(err, SQLSTATE_SERIALIZATION_FAILURE,
                         "could not serialize access due to concurrent CREATE INDEX \"%s\"", ix->name);
    ent_op_t o = {tc, mode, ix->oid, (const uint8_t *)e->key.data, (const uint8_t *)e->val.data,
                  (uint32_t)e->key.len, (uint32_t)e->val.len, false, {{0}}};
    if (rt_call(e->shard, ent_apply, &o) < 0) {
        *err = o.err;
        return -1;
    }
    return o.dup ? 1 : 0;
}

/* ---- maintenance ---- */

bool secidx_table_indexed(uint32_t table_id)
{
    if (table_id < CAT_FIRST_USER_OID)
        return false;
    /* no reference: nothing here suspends, and a per-row atomic on the shared count
     * would bounce its cache line between shards on every write */
    const cat_table_t *t = catalog_table_by_oid(catalog_peek(), table_id);
    return t && t->nindexes > 0;
}

/* A decoded row: values and nulls over the table's columns. */
typedef struct row { datum_t *vals; bool *nulls; bool present; } row_t;

static int row_load(arena_t *a, const cat_table_t *t, const uint8_t *p, uint32_t len, row_t *r,
                    sql_error_t *err)
{
    type_oid_t types[LIMIT_SQL_COLUMNS + 1];
    ASSERT(t->ncols <= LIMIT_SQL_COLUMNS);
    for (int c = 0; c < t->ncols; c++)
        types[c] = t->cols[c].type;
    r->vals = arena_alloc(a, (size_t)(t->ncols + 1) * sizeof(datum_t));
    r->nulls = arena_alloc(a, (size_t)t->ncols + 1);
    const uint8_t *copy = arena_memdup(a, p, len ? len : 1);    /* aligned, outlives the store value */
    if (!r->vals || !r->nulls || !copy)
        return oom(err);
    if (row_decode(copy, len, t->ncols, types, r->vals, r->nulls) < 0)
        return sql_error(err, SQLSTATE_DATA_CORRUPTED, "invalid row in table \"%s\"", t->name);
    exec_fill_missing(t, copy, len, t->ncols, r->vals, r->nulls);    /* columns added since */
    r->present = true;
    return 0;
}

/* Brings index ix from the old row's entry to the new row's: unchanged entries are
 * left alone; the old one is deleted before the new one is inserted. */
static int maintain_one(const txn_ctx_t *tc, const cat_table_t *t, const cat_index_t *ix, const uint8_t *pk,
                        uint32_t pklen, const row_t *old, const row_t *nw, entry_t *eo, entry_t *en,
                        sql_error_t *err)
{
    if (old->present && entry_build(t, ix, old->vals, old->nulls, pk, pklen, eo, err) < 0)
        return -1;
    if (nw->present && entry_build(t, ix, nw->vals, nw->nulls, pk, pklen, en, err) < 0)
        return -1;
    if (old->present && nw->present && eo->key.len == en->key.len && eo->val.len == en->val.len &&
        !memcmp(eo->key.data, en->key.data, eo->key.len) && !memcmp(eo->val.data, en->val.data, eo->val.len))
        return 0;
    if (old->present && ent_write(tc, ix, STORE_W_DELETE, eo, err) < 0)
        return -1;
    if (!nw->present)
        return 0;
    int r = ent_write(tc, ix, en->unique_form ? STORE_W_INSERT : STORE_W_PUT, en, err);
    if (r > 0)
        return dup_error(t, ix, nw->vals, nw->nulls, false, err);
    return r;
}

int secidx_write(const txn_ctx_t *tc, store_txn_t *t, int mode, uint32_t table_id, const uint8_t *key,
                 uint32_t klen, const uint8_t *val, uint32_t vlen, sql_error_t *err)
{
    const catalog_t *cat = catalog_current();
    const cat_table_t *tab = catalog_table_by_oid(cat, table_id);
    arena_t a;
    arena_init(&a, LIMIT_SQL_STMT_ARENA_BYTES);
    row_t old = {0}, nw = {0};
    entry_t eo, en;
    strbuf_init(&eo.key);
    strbuf_init(&eo.val);
    strbuf_init(&en.key);
    strbuf_init(&en.val);
    int rc = -1;
    if (!tab || !tab->nindexes) {
        rc = txn_write_raw(tc, t, mode, table_id, key, klen, val, vlen, err);
        goto done;
    }
    if (mode != STORE_W_INSERT) {
        /* the row the write replaces: our own version, else the newest committed one
         * (the caller holds the row lock, so it cannot change under us) */
        store_val_t v;
        int g = store_get(shard_store(), t, UINT64_MAX, table_id, key, klen, &v);
        if (g < 0) {
            txn_store_error(g, err);
            goto done;
        }
        if (g == STORE_OK && row_load(&a, tab, v.ptr, v.len, &old, err) < 0)
            goto done;
    }
    rc = txn_write_raw(tc, t, mode, table_id, key, klen, val, vlen, err);
    if (rc != STORE_OK)
        goto done;
    if (mode != STORE_W_DELETE && row_load(&a, tab, val, vlen, &nw, err) < 0) {
        rc = -1;
        goto done;
    }
    for (int k = 0; k < tab->nindexes; k++)
        if (maintain_one(tc, tab, &tab->indexes[k], key, klen, &old, &nw, &eo, &en, err) < 0) {
            rc = -1;
            break;
        }
done:
    strbuf_free(&eo.key);
    strbuf_free(&eo.val);
    strbuf_free(&en.key);
    strbuf_free(&en.val);
    arena_destroy(&a);
    catalog_unref(cat);
    return rc;
}

/* ---- batched entry writes of a multi-row INSERT ---- */

/* One target shard's entry writes, applied in order: [u32 row][u8 mode][u32 idx]
 * [u32 klen][key][u32 vlen][val]... (row: the proposed row's number, idx: the index). */
typedef struct batch_req {
    const txn_ctx_t *tc;
    const cat_table_t *table;
    const strbuf_t *ops;
    int64_t dup_row;             /* out: the first row whose unique entry exists, or -1 */
    int dup_index;
    sql_error_t err;
} batch_req_t;

static int batch_apply(void *arg)
{
    batch_req_t *r = arg;
    r->dup_row = -1;
    store_txn_t *t = txn_shard_get(r->tc, true);
    if (!t)
        return oom(&r->err);
    secidx_touch(r->tc, rt_shard_id());
    const uint8_t *p = (const uint8_t *)r->ops->data, *end = p + r->ops->len;
    while (p < end) {
        uint32_t row = be32(p), idx = be32(p + 5), kl = be32(p + 9);
        int mode = p[4];
        const uint8_t *key = p + 13;
        uint32_t vl = be32(key + kl);
        const uint8_t *val = key + kl + 4;
        p = val + vl;
        ASSERT((int)idx < r->table->nindexes);
        ent_op_t o = {r->tc, mode, r->table->indexes[idx].oid, key, val, kl, vl, false, {{0}}};
        if (ent_apply(&o) < 0) {
            r->err = o.err;
            return -1;
        }
        if (o.dup) {
            r->dup_row = row;
            r->dup_index = (int)idx;
            return 0;
        }
    }
    return 0;
}

/* Appends one entry write to its shard's batch. */
static int batch_add(strbuf_t *ops, uint32_t rowno, int index, const entry_t *e, sql_error_t *err)
{
    strbuf_t *b = &ops[e->shard];
    strbuf_put_be32(b, rowno);
    strbuf_put_u8(b, (uint8_t)(e->unique_form ? STORE_W_INSERT : STORE_W_PUT));
    strbuf_put_be32(b, (uint32_t)index);
    strbuf_put_be32(b, (uint32_t)e->key.len);
    strbuf_append(b, e->key.data, e->key.len);
    strbuf_put_be32(b, (uint32_t)e->val.len);
    strbuf_append(b, e->val.data, e->val.len);
    return b->oom ? oom(err) : 0;
}

/* Sends every non-empty batch of ops[0..shards) to its shard, in parallel. *dup_row
 * gets the lowest row number whose unique entry exists (-1: none). 0 or -1 + err. */
static int batch_send(const txn_ctx_t *tc, const cat_table_t *tab, strbuf_t *ops, int64_t *dup_row, int *dup_index,
                      sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    batch_req_t *reqs = rt_calloc((size_t)n, sizeof *reqs);   /* not on the fiber's stack */
    if (!reqs)
        return oom(err);
    int m = 0, rc = 0;
    for (int s = 0; s < n; s++) {
        if (!ops[s].len)
            continue;
        reqs[m] = (batch_req_t){tc, tab, &ops[s], -1, 0, {{0}}};
        shards[m] = s;
        args[m] = &reqs[m];
        m++;
    }
    if (m == 1)
        rets[0] = rt_call(shards[0], batch_apply, args[0]);
    else if (m > 1)
        rt_call_many(m, shards, batch_apply, args, rets);
    *dup_row = -1;
    for (int i = 0; i < m; i++) {
        if (rets[i] < 0 && rc == 0) {
            *err = reqs[i].err;
            rc = -1;
        }
        if (reqs[i].dup_row >= 0 && (*dup_row < 0 || reqs[i].dup_row < *dup_row)) {
            *dup_row = reqs[i].dup_row;
            *dup_index = reqs[i].dup_index;
        }
    }
    rt_free(reqs);
    return rc;
}

int secidx_insert_rows(const txn_ctx_t *tc, store_txn_t *t, const cat_table_t *tab, const uint8_t *rows,
                       size_t rows_len, int64_t *count, bool *pk_dup, size_t *dup_at, sql_error_t *err)
{
    if (catalog_write_gate(tab->oid, err) < 0)      /* ALTER TABLE rewriting it */
        return -1;
    int n = rt_shards_count();
    strbuf_t *ops = rt_calloc((size_t)n, sizeof(strbuf_t));
    arena_t a;
    arena_init(&a, LIMIT_SQL_STMT_ARENA_BYTES);
    entry_t e;
    strbuf_init(&e.key);
    strbuf_init(&e.val);
    int rc = ops ? 0 : oom(err);
    *pk_dup = false;
    const uint8_t *p = rows, *end = rows + rows_len;
    uint32_t rowno = 0;
    /* the rows first, here, collecting their entries per entry shard */
    while (rc == 0 && p < end) {
        const uint8_t *rec = p;
        uint32_t kl = be32(p);
        const uint8_t *key = p + 4;
        uint32_t vl = be32(key + kl);
        const uint8_t *val = key + kl + 4;
        p = val + vl;
        int w = txn_write_raw(tc, t, STORE_W_INSERT, tab->oid, key, kl, val, vl, err);
        if (w == STORE_EXISTS) {
            *pk_dup = true;
            *dup_at = (size_t)(rec - rows);
            rc = -1;
            break;
        }
        if (w < 0) {
            rc = -1;
            break;
        }
        arena_reset(&a);
        row_t row = {0};
        if (row_load(&a, tab, val, vl, &row, err) < 0) {
            rc = -1;
            break;
        }
        for (int k = 0; rc == 0 && k < tab->nindexes; k++) {
            if (entry_build(tab, &tab->indexes[k], row.vals, row.nulls, key, kl, &e, err) < 0) {
                rc = -1;
                break;
            }
            if (batch_add(ops, rowno, k, &e, err) < 0)
                rc = -1;
        }
        rowno++;
        (*count)++;
    }
    /* then every entry shard's writes, in parallel */
    if (rc == 0) {
        int64_t dup_row = -1;
        int dup_index = 0;
        rc = batch_send(tc, tab, ops, &dup_row, &dup_index, err);
        if (rc == 0 && dup_row >= 0) {
            /* 23505 with the first such row's values */
            const uint8_t *q = rows;
            for (int64_t i = 0; i < dup_row; i++) {
                uint32_t kl = be32(q);
                q += 4 + kl;
                q += 4 + be32(q);
            }
            uint32_t kl = be32(q);
            uint32_t vl = be32(q + 4 + kl);
            row_t row = {0};
            arena_reset(&a);
            if (row_load(&a, tab, q + 8 + kl, vl, &row, err) == 0)
                dup_error(tab, &tab->indexes[dup_index], row.vals, row.nulls, false, err);
            rc = -1;
        }
    }
    for (int s = 0; ops && s < n; s++)
        strbuf_free(&ops[s]);
    rt_free(ops);
    strbuf_free(&e.key);
    strbuf_free(&e.val);
    arena_destroy(&a);
    return rc;
}

/* ---- build ---- */

typedef struct build_req {
    const cat_table_t *table;
    const cat_index_t *ix;
    const txn_ctx_t *proto;      /* lock / statement timeouts of the DDL's session */
    int64_t rows;
    sql_error_t err;
} build_req_t;

/* One build transaction over the keys keys[0..n): locks each row (so no writer
 * changes it meanwhile), reads its newest version and writes its entry. */
static int build_batch(build_req_t *r, uint8_t **keys, uint32_t *klens, int n, arena_t *a, entry_t *e)
{
    txn_ctx_t tc = *r->proto;
    memset(tc.touched, 0, sizeof tc.touched);
    tc.txn_id = txn_new_id();
    tc.snap_ts = hlc_now();
    tc.self_commit = false;
    store_txn_t *t = txn_shard_get(&tc, true);
    int nsh = rt_shards_count();
    strbuf_t *ops = rt_calloc((size_t)nsh, sizeof(strbuf_t));
    if (!t || !ops) {
        rt_free(ops);
        return oom(&r->err);
    }
    txn_touch(&tc, rt_shard_id());
    int index = (int)(r->ix - r->table->indexes);
    ASSERT(index >= 0 && index < r->table->nindexes);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        store_val_t v;
        uint64_t cts;
        int l = txn_lock_latest(&tc, t, r->table->oid, keys[i], klens[i], &v, &cts, &r->err);
        if (l < 0) {
            rc = -1;
            break;
        }
        if (l == STORE_NOTFOUND)
            continue;
        row_t row = {0};
        if (row_load(a, r->table, v.ptr, v.len, &row, &r->err) < 0 ||
            entry_build(r->table, r->ix, row.vals, row.nulls, keys[i], klens[i], e, &r->err) < 0 ||
            batch_add(ops, (uint32_t)i, index, e, &r->err) < 0) {
            rc = -1;
            break;
        }
        r->rows++;
    }
    int64_t dup_row = -1;
    int dup_index = 0;
    if (rc == 0)
        rc = batch_send(&tc, r->table, ops, &dup_row, &dup_index, &r->err);
    if (rc == 0 && dup_row >= 0) {
        /* the row is still locked by this transaction: read it again for the detail */
        store_val_t v;
        row_t row = {0};
        int g = store_get(shard_store(), t, UINT64_MAX, r->table->oid, keys[dup_row], klens[dup_row], &v);
        if (g == STORE_OK && row_load(a, r->table, v.ptr, v.len, &row, &r->err) == 0)
            dup_error(r->table, r->ix, row.vals, row.nulls, true, &r->err);
        else
            sql_error(&r->err, SQLSTATE_UNIQUE_VIOLATION, "could not create unique index \"%s\"", r->ix->name);
        rc = -1;
    }
    for (int s = 0; s < nsh; s++)
        strbuf_free(&ops[s]);
    rt_free(ops);
    if (rc == 0)
        return txn_commit_all(&tc, &r->err);
    txn_abort_all(&tc);
    return -1;
}

/* Build fragment on one shard: its committed rows in batches of
 * SECIDX_BUILD_BATCH_ROWS, each its own transaction. */
static int build_shard(void *arg)
{
    build_req_t *r = arg;
    store_iter_t *it = store_iter_open(shard_store(), NULL, UINT64_MAX, r->table->oid, NULL, 0, NULL, 0);
    if (!it)
        return oom(&r->err);
    arena_t a;
    arena_init(&a, LIMIT_SQL_STMT_ARENA_BYTES);
    entry_t e;
    strbuf_init(&e.key);
    strbuf_init(&e.val);
    int rc = 0;
    for (;;) {
        arena_reset(&a);
        uint8_t **keys = arena_alloc(&a, SECIDX_BUILD_BATCH_ROWS * sizeof(uint8_t *));
        uint32_t *klens = arena_alloc(&a, SECIDX_BUILD_BATCH_ROWS * sizeof(uint32_t));
        if (!keys || !klens) {
            rc = oom(&r->err);
            break;
        }
        int n = 0;
        store_val_t k, v;
        while (n < SECIDX_BUILD_BATCH_ROWS && store_iter_next(it, &k, &v) == 1) {
            /* copies: the batch's writes suspend this fiber */
            if (!(keys[n] = arena_memdup(&a, k.ptr, k.len ? k.len : 1))) {
                rc = oom(&r->err);
                break;
            }
            klens[n++] = k.len;
        }
        if (rc == 0 && store_iter_error(it))
            rc = txn_store_error(store_iter_error(it), &r->err);
        if (rc || n == 0)
            break;
        if (build_batch(r, keys, klens, n, &a, &e) < 0) {
            rc = -1;
            break;
        }
    }
    store_iter_close(it);
    strbuf_free(&e.key);
    strbuf_free(&e.val);
    arena_destroy(&a);
    return rc;
}

int secidx_build(exec_ctx_t *ctx, const cat_table_t *t, const cat_index_t *ix, sql_error_t *err)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    build_req_t *reqs = arena_alloc(ctx->arena, (size_t)n * sizeof *reqs);
    if (!reqs)
        return oom(err);
    for (int s = 0; s < n; s++) {
        reqs[s] = (build_req_t){t, ix, ctx->txn, 0, {{0}}};
        shards[s] = s;
        args[s] = &reqs[s];
    }
    rt_call_many(n, shards, build_shard, args, rets);
    for (int s = 0; s < n; s++)
        if (rets[s] < 0) {
            *err = reqs[s].err;
            return -1;
        }
    return 0;
}

/* ---- lookups ---- */

typedef struct lookup_req {
    const txn_ctx_t *tc;
    uint32_t table_id;
    const uint8_t *lo, *hi;      /* [lo, hi), hi NULL = unbounded */
    uint32_t lolen, hilen;
    bool prefix;                 /* only keys starting with lo (an equality) */
    strbuf_t *bufs;              /* per row shard; only this call writes them */
    int64_t count;
    sql_error_t err;
} lookup_req_t;

static int lookup_shard(void *arg)
{
    lookup_req_t *r = arg;
    store_txn_t *t = txn_shard_get(r->tc, false);
    uint64_t snap;
    if (txn_read_snap_wait(r->tc, &snap, &r->err) < 0)
        return -1;
    store_iter_t *it = store_iter_open(shard_store(), t, snap, r->table_id, r->lo, r->lolen, r->hi, r->hilen);
    if (!it)
        return oom(&r->err);
    int n = rt_shards_count();
    store_val_t k, v;
    int rc = 0;
    while (store_iter_next(it, &k, &v) == 1) {
        if (r->prefix && (k.len < r->lolen || memcmp(k.ptr, r->lo, r->lolen) != 0))
            break;
        const uint8_t *pk = NULL;
        uint32_t pklen = 0;
        if (v.len >= 2 && v.ptr[0] == ENT_UNIQUE) {
            pk = v.ptr + 1;
            pklen = v.len - 1;
        } else if (v.len == 5 && v.ptr[0] == ENT_PLAIN && be32(v.ptr + 1) < k.len) {
            pklen = be32(v.ptr + 1);
            pk = k.ptr + k.len - pklen;
        }
        if (!pk || pklen == 0) {
            rc = sql_error(&r->err, SQLSTATE_DATA_CORRUPTED, "invalid index entry");
            break;
        }
        if (++r->count > SECIDX_LOOKUP_ROWS_MAX)
            break;              /* too many: the caller scans the table instead */
        int s = sql_route_key(pk, pklen, n);
        strbuf_put_be32(&r->bufs[s], pklen);
        strbuf_append(&r->bufs[s], pk, pklen);
        if (r->bufs[s].oom) {
            rc = oom(&r->err);
            break;
        }
    }
    if (rc == 0 && store_iter_error(it))
        rc = txn_store_error(store_iter_error(it), &r->err);
    store_iter_close(it);
    return rc;
}

int64_t secidx_lookup(exec_ctx_t *ctx, const cat_index_t *ix, const uint8_t *lo, uint32_t lolen, const uint8_t *hi,
                      uint32_t hilen, bool prefix, strbuf_t *bufs, sql_error_t *err)
{
    int n = rt_shards_count();
    if (prefix) {
        /* an equality: the entries live on the one shard of hash(IK) */
        lookup_req_t r = {ctx->txn, ix->oid, lo, NULL, lolen, 0, true, bufs, 0, {{0}}};
        if (rt_call(sql_route_key(lo, lolen, n), lookup_shard, &r) < 0) {
            *err = r.err;
            return -1;
        }
        return r.count > SECIDX_LOOKUP_ROWS_MAX ? SECIDX_LOOKUP_TOO_MANY : r.count;
    }
    /* a range: every shard holds part of it, each collects into its own buffers */
    int shards[LIMIT_SHARDS_MAX], rets[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    lookup_req_t *reqs = arena_alloc(ctx->arena, (size_t)n * sizeof *reqs);
    strbuf_t *own = arena_alloc(ctx->arena, (size_t)n * (size_t)n * sizeof(strbuf_t));
    if (!reqs || !own)
        return oom(err);
    for (int s = 0; s < n; s++) {
        for (int d = 0; d < n; d++)
            strbuf_init(&own[s * n + d]);
        reqs[s] = (lookup_req_t){ctx->txn, ix->oid, lo, hi, lolen, hilen, false, &own[s * n], 0, {{0}}};
        shards[s] = s;
        args[s] = &reqs[s];
    }
    rt_call_many(n, shards, lookup_shard, args, rets);
    int64_t total = 0;
    int rc = 0;
    for (int s = 0; s < n; s++) {
        if (rets[s] < 0 && rc == 0) {
            *err = reqs[s].err;
            rc = -1;
        }
        total += reqs[s].count;
        for (int d = 0; d < n; d++) {
            if (rc == 0 && total <= SECIDX_LOOKUP_ROWS_MAX)
                strbuf_append(&bufs[d], own[s * n + d].data, own[s * n + d].len);
            strbuf_free(&own[s * n + d]);
        }
    }
    for (int d = 0; rc == 0 && d < n; d++)
        if (bufs[d].oom)
            rc = oom(err);
    if (rc < 0)
        return -1;
    return total > SECIDX_LOOKUP_ROWS_MAX ? SECIDX_LOOKUP_TOO_MANY : total;
}

int secidx_dml_keys(exec_ctx_t *ctx, const cat_index_t *ix, bexpr_t *const *ixkey, strbuf_t **bufs_out, sql_error_t *err)
{
    expr_ctx_t x = ctx->ex;
    x.arena = ctx->arena;
    datum_t vals[LIMIT_SQL_INDEX_COLUMNS];
    bool nulls[LIMIT_SQL_INDEX_COLUMNS];
    type_oid_t types[LIMIT_SQL_INDEX_COLUMNS];
    for (int i = 0; i < ix->ncols; i++) {
        if (expr_eval_const(&x, ixkey[i], &vals[i], &nulls[i], err) < 0)
            return -1;
        if (nulls[i])
            return 0;
        types[i] = ixkey[i]->type;
    }
    int n = rt_shards_count();
    strbuf_t ik;
    strbuf_init(&ik);
    strbuf_t *bufs = arena_alloc(ctx->arena, (size_t)n * sizeof(strbuf_t));
    if (!bufs)
        return oom(err);
    for (int i = 0; i < n; i++)
        strbuf_init(&bufs[i]);
    int64_t found = secidx_encode_ik(ix->ncols, types, vals, nulls, &ik, err) < 0
                        ? -1 : secidx_lookup(ctx, ix, (const uint8_t *)ik.data, (uint32_t)ik.len, NULL, 0, true, bufs, err);
    strbuf_free(&ik);
    for (int i = 0; i < n; i++) {      /* into the statement arena, as exec.c's index scans */
        strbuf_t *sb = &bufs[i];
        uint8_t *copy = found > 0 && sb->len ? arena_memdup(ctx->arena, sb->data, sb->len) : NULL;
        size_t len = copy ? sb->len : 0;
        if (found > 0 && sb->len && !copy)
            found = oom(err);
        strbuf_free(sb);
        sb->data = (char *)copy;
        sb->len = len;
    }
    if (found == SECIDX_LOOKUP_TOO_MANY)
        return 2;
    if (found <= 0)
        return (int)found;
    *bufs_out = bufs;
    return 1;
}

/* The smallest key above every key starting with sb's bytes (carry on 0xFF). */
static void key_successor(strbuf_t *sb)
{
    while (sb->len && (uint8_t)sb->data[sb->len - 1] == 0xFF)
        sb->len--;
    if (sb->len)
        sb->data[sb->len - 1] = (char)((uint8_t)sb->data[sb->len - 1] + 1);
}

int secidx_encode_range(type_oid_t t, const datum_t *lo, bool lo_incl, const datum_t *hi, bool hi_incl,
                        strbuf_t *lok, strbuf_t *hik, sql_error_t *err)
{
    ASSERT(secidx_type_ordered(t));
    strbuf_put_u8(lok, IK_NOT_NULL);
    if (lo) {
        put_value(lok, t, *lo);
        if (!lo_incl)
            key_successor(lok);
    }
    if (hi) {
        strbuf_put_u8(hik, IK_NOT_NULL);
        put_value(hik, t, *hi);
        if (hi_incl)
            key_successor(hik);
    } else {
        strbuf_put_u8(hik, IK_NULL);     /* NULLs sort last and never satisfy a range */
    }
    return lok->oom || hik->oom ? oom(err) : 0;
}

/* ---- ON CONFLICT arbiters ---- */

bool secidx_row_ik(const cat_table_t *t, const cat_index_t *ix, const datum_t *vals, const bool *nulls,
                   strbuf_t *out, int *rc, sql_error_t *err)
{
    strbuf_reset(out);
    *rc = 0;
    for (int i = 0; i < ix->ncols; i++) {
        int c = col_index(t, ix->attnums[i]);
        ASSERT(c >= 0);
        if (nulls[c])
            return false;
        strbuf_put_u8(out, IK_NOT_NULL);
        put_value(out, t->cols[c].type, vals[c]);
    }
    if (out->oom)
        *rc = oom(err);
    return *rc == 0;
}

typedef struct probe_req {
    const txn_ctx_t *tc;
    uint32_t table_id;
    const uint8_t *key;
    uint32_t klen;
    arena_t *a;                  /* the caller's, for the row key found */
    uint8_t *pk;
    uint32_t pklen;
    sql_error_t err;
} probe_req_t;

static int probe_shard(void *arg)
{
    probe_req_t *r = arg;
    store_txn_t *t = txn_shard_get(r->tc, true);
    if (!t)
        return oom(&r->err);
    secidx_touch(r->tc, rt_shard_id());
    store_val_t v;
    uint64_t cts;
    int rc = txn_lock_latest(r->tc, t, r->table_id, r->key, r->klen, &v, &cts, &r->err);
    if (rc < 0)
        return -1;
    if (store_txn_has_writes(t)) {
        rc = store_get(shard_store(), t, UINT64_MAX, r->table_id, r->key, r->klen, &v);   /* ours first */
        if (rc < 0)
            return txn_store_error(rc, &r->err);
    }
    if (rc == STORE_NOTFOUND)
        return 0;
    if (v.len < 2 || v.ptr[0] != ENT_UNIQUE)
        return sql_error(&r->err, SQLSTATE_DATA_CORRUPTED, "invalid index entry");
    if (!(r->pk = arena_memdup(r->a, v.ptr + 1, v.len - 1)))
        return oom(&r->err);
    r->pklen = v.len - 1;
    return 0;
}

int secidx_arbiter_probe(const txn_ctx_t *tc, const cat_table_t *t, const cat_index_t *ix, const datum_t *vals,
                         const bool *nulls, arena_t *a, uint8_t **pk, uint32_t *pklen, sql_error_t *err)
{
    strbuf_t ik;
    strbuf_init(&ik);
    int rc;
    if (!secidx_row_ik(t, ix, vals, nulls, &ik, &rc, err)) {
        strbuf_free(&ik);
        return rc;              /* a NULL never conflicts */
    }
    probe_req_t r = {tc, ix->oid, (const uint8_t *)ik.data, (uint32_t)ik.len, a, NULL, 0, {{0}}};
    int s = sql_route_key(r.key, r.klen, rt_shards_count());
    if (tc->self_commit && s != rt_shard_id()) {
        strbuf_free(&ik);
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "index \"%s\" probed in a single-shard commit", ix->name);
    }
    rc = rt_call(s, probe_shard, &r);
    strbuf_free(&ik);
    if (rc < 0) {
        *err = r.err;
        return -1;
    }
    *pk = r.pk;
    *pklen = r.pklen;
    return r.pk != NULL;
}
