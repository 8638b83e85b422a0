/*
 * catalog.c -- immutable, versioned catalog snapshots; boot, persistence and DDL on
 * shard 0; see catalog.h and catalog_int.h.
 *
 * Each snapshot owns one arena holding every table, column and string, so freeing a
 * snapshot is one arena_destroy. The reference count is the only word shared
 * between shards (atomic); everything else is immutable after publication.
 */
#include "sql/catalog_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/rt.h"
#include "core/strbuf.h"
#include "shards/shard.h"

typedef struct cat_snap {
    catalog_t pub;
    atomic_int refs;
    uint32_t next_oid;
    arena_t arena;
} cat_snap_t;

static __thread cat_snap_t *cat_cur;           /* this shard's newest snapshot */
static _Atomic(cat_snap_t *) cat_boot_snap;   /* published by shard 0 at boot */
static atomic_int cat_boot_failed;

/* Shard 0 only: DDL serialization. */
static __thread bool cat_ddl_busy;
static __thread rt_waitq_t cat_ddl_waiters;

#define CAT_META_KEY 0u

static cat_snap_t *snap_of(const catalog_t *c) { return (cat_snap_t *)c; }

const catalog_t *catalog_current(void)
{
    cat_snap_t *s = cat_cur;
    ASSERT(s);
    atomic_fetch_add(&s->refs, 1);
    return &s->pub;
}

const catalog_t *catalog_peek(void)
{
    ASSERT(cat_cur);
    return &cat_cur->pub;
}

void catalog_ref(const catalog_t *c)
{
    atomic_fetch_add(&snap_of(c)->refs, 1);
}

static void snap_free(cat_snap_t *s)
{
    arena_t a = s->arena;      /* the snapshot lives inside its own arena */
    arena_destroy(&a);
}

void catalog_unref(const catalog_t *c)
{
    if (!c)
        return;
    cat_snap_t *s = snap_of(c);
    if (atomic_fetch_sub(&s->refs, 1) == 1)
        snap_free(s);
}

const cat_table_t *catalog_table_by_name(const catalog_t *c, uint32_t namespace_oid, const char *name)
{
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *t = c->tables[i];
        if (t->namespace_oid == namespace_oid && strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

const cat_table_t *catalog_table_by_oid(const catalog_t *c, uint32_t oid)
{
    int lo = 0, hi = c->ntables - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        uint32_t m = c->tables[mid]->oid;
        if (m == oid)
            return c->tables[mid];
        if (m < oid)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

const cat_index_t *catalog_index_by_name(const catalog_t *c, uint32_t namespace_oid, const char *name,
                                         const cat_table_t **table)
{
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *t = c->tables[i];
        if (t->namespace_oid != namespace_oid)
            continue;
        for (int k = 0; k < t->nindexes; k++) {
            if (strcmp(t->indexes[k].name, name) == 0) {
                if (table)
                    *table = t;
                return &t->indexes[k];
            }
        }
    }
    return NULL;
}

int catalog_write_gate(uint32_t table_id, sql_error_t *err)
{
    if (table_id < CAT_FIRST_USER_OID)
        return 0;
    /* no reference taken: nothing here suspends */
    const catalog_t *c = catalog_peek();
    const cat_table_t *t = catalog_table_by_oid(c, table_id);
    if (t && t->rewriting)
        return sql_error(err, "55006", "cannot write to table \"%s\" while ALTER TABLE rewrites it",
                         t->name);
    if (t)
        return 0;
    /* not a table of the catalog: a rewrite's new storage id (still unpublished), or
     * the rows a finished rewrite replaced (bound before the switch) */
    for (int i = 0; i < c->ntables; i++)
        if (c->tables[i]->moved_from == table_id)
            return sql_error(err, SQLSTATE_SERIALIZATION_FAILURE, "could not serialize access: table \"%s\" was "
                             "rewritten by a concurrent ALTER TABLE", c->tables[i]->name);
    return 0;
}

bool catalog_table_has_unique(const cat_table_t *t)
{
    for (int k = 0; k < t->nindexes; k++)
        if (t->indexes[k].unique)
            return true;
    return false;
}

const cat_table_t *catalog_view_depending(const catalog_t *c, uint32_t oid, uint32_t except)
{
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *t = c->tables[i];
        for (int k = 0; t->oid != except && k < t->ndeps; k++)
            if (t->deps[k] == oid)
                return t;
    }
    return NULL;
}

const cat_table_t *catalog_owned_sequence(const catalog_t *c, uint32_t table_oid, int16_t attnum)
{
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *t = c->tables[i];
        if (t->seq && t->seq->owner_table == table_oid && t->seq->owner_attnum == attnum)
            return t;
    }
    return NULL;
}

/* Whether `name` is taken by a relation of the namespace: a table, an index, or the
 * implicit index of a primary key (PostgreSQL keeps them all in pg_class). */
bool catalog_relation_exists(const catalog_t *c, uint32_t namespace_oid, const char *name)
{
    if (catalog_table_by_name(c, namespace_oid, name) || catalog_index_by_name(c, namespace_oid, name, NULL))
        return true;
    for (int i = 0; i < c->ntables; i++) {
        const cat_table_t *t = c->tables[i];
        if (t->namespace_oid != namespace_oid)
            continue;
        if (t->npk && t->pk_name && strcmp(t->pk_name, name) == 0)
            return true;
        for (int k = 0; k < t->nvindexes; k++)    /* HNSW indexes share the namespace */
            if (strcmp(t->vindexes[k].name, name) == 0)
                return true;
    }
    return false;
}

/* ---- building snapshots ---- */

static cat_snap_t *snap_new(uint64_t version, int cap)
{
    arena_t a;
    arena_init(&a, 0);
    cat_snap_t *s = arena_alloc(&a, sizeof *s);
    if (!s) {
        arena_destroy(&a);
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->pub.version = version;
    s->pub.tables = arena_alloc(&a, (size_t)(cap + 1) * sizeof(cat_table_t *));
    if (!s->pub.tables) {
        arena_destroy(&a);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->arena = a;
    return s;
}

static const char *sdup(cat_snap_t *s, const char *p)
{
    return p ? arena_strdup(&s->arena, p) : NULL;
}

/* Copies a column's missing value into snapshot s and decodes it there (the datum
 * points into the copy). False on arena exhaustion or malformed bytes. */
static bool missing_copy(cat_snap_t *s, cat_column_t *c, const uint8_t *row, uint32_t len)
{
    uint8_t *p = arena_alloc(&s->arena, len ? len : 1);
    if (!p)
        return false;
    memcpy(p, row, len);
    bool null;
    if (row_decode(p, len, 1, &c->type, &c->missing, &null) < 0 || null)
        return false;
    c->missing_row = p;
    c->missing_row_len = len;
    c->has_missing = true;
    return true;
}

/* Deep-copies t into snapshot s. */
static cat_table_t *table_copy(cat_snap_t *s, const cat_table_t *t)
{
    arena_t *a = &s->arena;
    cat_table_t *n = arena_alloc(a, sizeof *n);
    if (!n)
        return NULL;
    *n = *t;
    n->name = sdup(s, t->name);
    n->pk_name = sdup(s, t->pk_name);
    n->cols = arena_alloc(a, (size_t)(t->ncols + 1) * sizeof(cat_column_t));
    n->pk_attnums = arena_alloc(a, (size_t)(t->npk + 1) * sizeof(int16_t));
    if (!n->name || !n->cols || !n->pk_attnums)
        return NULL;
    for (int i = 0; i < t->ncols; i++) {
        n->cols[i] = t->cols[i];
        n->cols[i].name = sdup(s, t->cols[i].name);
        n->cols[i].default_sql = sdup(s, t->cols[i].default_sql);
        if (!n->cols[i].name)
            return NULL;
        if (t->cols[i].has_missing &&
            !missing_copy(s, &n->cols[i], t->cols[i].missing_row, t->cols[i].missing_row_len))
            return NULL;
    }
    if (t->npk)
        memcpy(n->pk_attnums, t->pk_attnums, (size_t)t->npk * sizeof(int16_t));
    n->vindexes = arena_alloc(a, (size_t)(t->nvindexes + 1) * sizeof(cat_vindex_t));
    if (!n->vindexes)
        return NULL;
    for (int i = 0; i < t->nvindexes; i++) {
        n->vindexes[i] = t->vindexes[i];
        if (!(n->vindexes[i].name = sdup(s, t->vindexes[i].name)))
            return NULL;
    }
    n->indexes = arena_alloc(a, (size_t)(t->nindexes + 1) * sizeof(cat_index_t));
    if (!n->indexes)
        return NULL;
    for (int k = 0; k < t->nindexes; k++) {
        const cat_index_t *x = &t->indexes[k];
        cat_index_t *y = &n->indexes[k];
        *y = *x;
        y->name = sdup(s, x->name);
        y->attnums = arena_alloc(a, (size_t)(x->ncols + 1) * sizeof(int16_t));
        if (!y->name || !y->attnums)
            return NULL;
        memcpy(y->attnums, x->attnums, (size_t)x->ncols * sizeof(int16_t));
    }
    if (t->seq) {
        if (!(n->seq = arena_alloc(a, sizeof *n->seq)))
            return NULL;
        *n->seq = *t->seq;
    }
    n->fks = arena_alloc(a, (size_t)(t->nfks + 1) * sizeof(cat_fk_t));
    if (!n->fks)
        return NULL;
    for (int k = 0; k < t->nfks; k++) {
        const cat_fk_t *x = &t->fks[k];
        cat_fk_t *y = &n->fks[k];
        *y = *x;
        y->name = sdup(s, x->name);
        y->attnums = arena_alloc(a, (size_t)(x->ncols + 1) * sizeof(int16_t));
        y->ref_attnums = arena_alloc(a, (size_t)(x->ncols + 1) * sizeof(int16_t));
        if (!y->name || !y->attnums || !y->ref_attnums)
            return NULL;
        memcpy(y->attnums, x->attnums, (size_t)x->ncols * sizeof(int16_t));
        memcpy(y->ref_attnums, x->ref_attnums, (size_t)x->ncols * sizeof(int16_t));
    }
    n->checks = arena_alloc(a, (size_t)(t->nchecks + 1) * sizeof(cat_check_t));
    if (!n->checks)
        return NULL;
    for (int k = 0; k < t->nchecks; k++) {
        n->checks[k].name = sdup(s, t->checks[k].name);
        n->checks[k].expr_sql = sdup(s, t->checks[k].expr_sql);
        if (!n->checks[k].name || !n->checks[k].expr_sql)
            return NULL;
    }
    n->view_sql = sdup(s, t->view_sql);
    n->deps = arena_alloc(a, (size_t)(t->ndeps + 1) * sizeof(uint32_t));
    if ((t->view_sql && !n->view_sql) || !n->deps)
        return NULL;
    if (t->ndeps)
        memcpy(n->deps, t->deps, (size_t)t->ndeps * sizeof(uint32_t));
    return n;
}

static int tables_cmp(const void *a, const void *b)
{
    uint32_t x = (*(const cat_table_t *const *)a)->oid, y = (*(const cat_table_t *const *)b)->oid;
    return x < y ? -1 : x > y;
}

static void snap_sort(cat_snap_t *s)
{
    qsort((void *)s->pub.tables, (size_t)s->pub.ntables, sizeof(cat_table_t *), tables_cmp);
}

/* ---- row encoding ---- */

static void put_str(strbuf_t *b, const char *s)
{
    if (!s) {
        strbuf_put_be32(b, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    strbuf_put_be32(b, (uint32_t)n);
    strbuf_append(b, s, n);
}

static void cat_encode(const cat_table_t *t, strbuf_t *b)
{
    strbuf_put_u8(b, 1);     /* format version */
    strbuf_put_be32(b, t->oid);
    strbuf_put_be32(b, t->namespace_oid);
    put_str(b, t->name);
    strbuf_put_u8(b, (uint8_t)t->relkind);
    strbuf_put_be16(b, (uint16_t)t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        const cat_column_t *c = &t->cols[i];
        put_str(b, c->name);
        strbuf_put_be16(b, (uint16_t)c->attnum);
        strbuf_put_be32(b, c->type);
        strbuf_put_be32(b, (uint32_t)c->typmod);
        strbuf_put_u8(b, (uint8_t)(c->not_null | (c->dropped << 1) | (c->identity == 'a') << 2 |
                                   (c->identity == 'd') << 3));
        put_str(b, c->default_sql);
    }
    strbuf_put_be16(b, (uint16_t)t->npk);
    for (int i = 0; i < t->npk; i++)
        strbuf_put_be16(b, (uint16_t)t->pk_attnums[i]);
    strbuf_put_be32(b, t->pk_index_oid);
    put_str(b, t->pk_name);
    strbuf_put_be64(b, t->create_ts);
    /* HNSW indexes: an optional tail, so rows written before they existed still read */
    strbuf_put_be16(b, (uint16_t)t->nvindexes);
    for (int i = 0; i < t->nvindexes; i++) {
        const cat_vindex_t *v = &t->vindexes[i];
        strbuf_put_be32(b, v->oid);
        put_str(b, v->name);
        strbuf_put_be16(b, (uint16_t)v->attnum);
        strbuf_put_u8(b, v->metric);
        strbuf_put_be16(b, v->m);
        strbuf_put_be16(b, v->ef_construction);
    }
    /* then the plain (CREATE INDEX) indexes: an optional tail as well */
    strbuf_put_be16(b, (uint16_t)t->nindexes);
    for (int k = 0; k < t->nindexes; k++) {
        const cat_index_t *x = &t->indexes[k];
        strbuf_put_be32(b, x->oid);
        put_str(b, x->name);
        /* bit 1: a UNIQUE constraint, bit 2: USING hash */
        strbuf_put_u8(b, (uint8_t)(x->unique | x->constraint << 1 | x->hash << 2));
        strbuf_put_be16(b, (uint16_t)x->ncols);
        for (int i = 0; i < x->ncols; i++)
            strbuf_put_be16(b, (uint16_t)x->attnums[i]);
    }
    /* a sequence's parameters: a third optional tail */
    strbuf_put_u8(b, t->seq != NULL);
    if (t->seq) {
        const cat_seq_t *q = t->seq;
        strbuf_put_be32(b, q->type);
        strbuf_put_be64(b, (uint64_t)q->start);
        strbuf_put_be64(b, (uint64_t)q->increment);
        strbuf_put_be64(b, (uint64_t)q->min);
        strbuf_put_be64(b, (uint64_t)q->max);
        strbuf_put_be64(b, (uint64_t)q->cache);
        strbuf_put_u8(b, q->cycle);
        strbuf_put_be32(b, q->owner_table);
        strbuf_put_be16(b, (uint16_t)q->owner_attnum);
    }
    /* foreign keys: a fourth optional tail */
    strbuf_put_be16(b, (uint16_t)t->nfks);
    for (int k = 0; k < t->nfks; k++) {
        const cat_fk_t *f = &t->fks[k];
        put_str(b, f->name);
        strbuf_put_be16(b, (uint16_t)f->ncols);
        for (int i = 0; i < f->ncols; i++) {
            strbuf_put_be16(b, (uint16_t)f->attnums[i]);
            strbuf_put_be16(b, (uint16_t)f->ref_attnums[i]);
        }
        strbuf_put_be32(b, f->ref_table);
        strbuf_put_u8(b, (uint8_t)f->on_delete);
        strbuf_put_u8(b, (uint8_t)f->on_update);
        strbuf_put_u8(b, f->match_full);
    }
    /* CHECK constraints: a fifth optional tail */
    strbuf_put_be16(b, (uint16_t)t->nchecks);
    for (int k = 0; k < t->nchecks; k++) {
        put_str(b, t->checks[k].name);
        put_str(b, t->checks[k].expr_sql);
    }
    /* a view's query and dependencies: a sixth optional tail */
    strbuf_put_u8(b, t->view_sql != NULL);
    if (t->view_sql) {
        put_str(b, t->view_sql);
        strbuf_put_be16(b, (uint16_t)t->ndeps);
        for (int k = 0; k < t->ndeps; k++)
            strbuf_put_be32(b, t->deps[k]);
    }
    /* the columns' missing values (ALTER TABLE ADD COLUMN): a seventh optional tail */
    int nmissing = 0;
    for (int i = 0; i < t->ncols; i++)
        nmissing += t->cols[i].has_missing;
    strbuf_put_be16(b, (uint16_t)nmissing);
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].has_missing)
            continue;
        strbuf_put_be16(b, (uint16_t)i);
        strbuf_put_be32(b, t->cols[i].missing_row_len);
        strbuf_append(b, (const char *)t->cols[i].missing_row, t->cols[i].missing_row_len);
    }
}

typedef struct rd { const uint8_t *p, *end; bool bad; } rd_t;

static uint64_t rd_be(rd_t *r, int n)
{
    if (r->end - r->p < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | *r->p++;
    return v;
}

static const char *rd_str(rd_t *r, cat_snap_t *s)
{
    uint32_t n = (uint32_t)rd_be(r, 4);
    if (r->bad || n == UINT32_MAX)
        return NULL;
    if ((uint64_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const char *v = arena_strndup(&s->arena, (const char *)r->p, n);
    r->p += n;
    if (!v)
        r->bad = true;
    return v;
}

static cat_table_t *cat_decode(cat_snap_t *s, const uint8_t *p, size_t len)
{
    rd_t r = {p, p + len, false};
    if (rd_be(&r, 1) != 1)
        return NULL;
    cat_table_t *t = arena_alloc(&s->arena, sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->oid = (uint32_t)rd_be(&r, 4);
    t->namespace_oid = (uint32_t)rd_be(&r, 4);
    t->name = rd_str(&r, s);
    t->relkind = (char)rd_be(&r, 1);
    t->ncols = (int)rd_be(&r, 2);
    if (r.bad || !t->name || t->ncols > LIMIT_SQL_COLUMNS)
        return NULL;
    t->cols = arena_alloc(&s->arena, (size_t)(t->ncols + 1) * sizeof(cat_column_t));
    if (!t->cols)
        return NULL;
    memset(t->cols, 0, (size_t)(t->ncols + 1) * sizeof(cat_column_t));   /* has_missing until the tail says */
    for (int i = 0; i < t->ncols; i++) {
        cat_column_t *c = &t->cols[i];
        c->name = rd_str(&r, s);
        c->attnum = (int16_t)rd_be(&r, 2);
        c->type = (type_oid_t)rd_be(&r, 4);
        c->typmod = (int32_t)rd_be(&r, 4);
        uint8_t f = (uint8_t)rd_be(&r, 1);
        c->not_null = f & 1;
        c->dropped = (f & 2) != 0;
        c->identity = f & 4 ? 'a' : f & 8 ? 'd' : 0;
        c->default_sql = rd_str(&r, s);
        if (r.bad || !c->name)
            return NULL;
    }
    t->npk = (int)rd_be(&r, 2);
    if (r.bad || t->npk > t->ncols)
        return NULL;
    t->pk_attnums = arena_alloc(&s->arena, (size_t)(t->npk + 1) * sizeof(int16_t));
    if (!t->pk_attnums)
        return NULL;
    for (int i = 0; i < t->npk; i++)
        t->pk_attnums[i] = (int16_t)rd_be(&r, 2);
    t->pk_index_oid = (uint32_t)rd_be(&r, 4);
    t->pk_name = rd_str(&r, s);
    t->create_ts = rd_be(&r, 8);
    if (!r.bad && r.p < r.end)
        t->nvindexes = (int)rd_be(&r, 2);
    if (r.bad || t->nvindexes > LIMIT_SQL_COLUMNS)
        return NULL;
    t->vindexes = arena_alloc(&s->arena, (size_t)(t->nvindexes + 1) * sizeof(cat_vindex_t));
    if (!t->vindexes)
        return NULL;
    for (int i = 0; i < t->nvindexes; i++) {
        cat_vindex_t *v = &t->vindexes[i];
        v->oid = (uint32_t)rd_be(&r, 4);
        v->name = rd_str(&r, s);
        v->attnum = (int16_t)rd_be(&r, 2);
        v->metric = (uint8_t)rd_be(&r, 1);
        v->m = (uint16_t)rd_be(&r, 2);
        v->ef_construction = (uint16_t)rd_be(&r, 2);
        if (r.bad || !v->name)
            return NULL;
    }
    t->nindexes = r.p < r.end ? (int)rd_be(&r, 2) : 0;
    if (r.bad || t->nindexes > LIMIT_SQL_INDEXES_PER_TABLE)
        return NULL;
    t->indexes = arena_alloc(&s->arena, (size_t)(t->nindexes + 1) * sizeof(cat_index_t));
    if (!t->indexes)
        return NULL;
    for (int k = 0; k < t->nindexes; k++) {
        cat_index_t *x = &t->indexes[k];
        x->oid = (uint32_t)rd_be(&r, 4);
        x->name = rd_str(&r, s);
        uint64_t flags = rd_be(&r, 1);
        x->unique = (flags & 1) != 0;
        x->constraint = (flags & 2) != 0;
        x->hash = (flags & 4) != 0;
        x->ncols = (int)rd_be(&r, 2);
        if (r.bad || !x->name || x->ncols < 1 || x->ncols > LIMIT_SQL_INDEX_COLUMNS)
            return NULL;
        if (!(x->attnums = arena_alloc(&s->arena, (size_t)(x->ncols + 1) * sizeof(int16_t))))
            return NULL;
        for (int i = 0; i < x->ncols; i++)
            x->attnums[i] = (int16_t)rd_be(&r, 2);
    }
    if (!r.bad && r.p < r.end && rd_be(&r, 1) == 1) {
        cat_seq_t *q = arena_alloc(&s->arena, sizeof *q);
        if (!q)
            return NULL;
        q->type = (type_oid_t)rd_be(&r, 4);
        q->start = (int64_t)rd_be(&r, 8);
        q->increment = (int64_t)rd_be(&r, 8);
        q->min = (int64_t)rd_be(&r, 8);
        q->max = (int64_t)rd_be(&r, 8);
        q->cache = (int64_t)rd_be(&r, 8);
        q->cycle = rd_be(&r, 1) != 0;
        q->owner_table = (uint32_t)rd_be(&r, 4);
        q->owner_attnum = (int16_t)rd_be(&r, 2);
        t->seq = q;
    }
    t->nfks = !r.bad && r.p < r.end ? (int)rd_be(&r, 2) : 0;
    if (r.bad || t->nfks > LIMIT_SQL_COLUMNS)
        return NULL;
    if (!(t->fks = arena_alloc(&s->arena, (size_t)(t->nfks + 1) * sizeof(cat_fk_t))))
        return NULL;
    for (int k = 0; k < t->nfks; k++) {
        cat_fk_t *f = &t->fks[k];
        f->name = rd_str(&r, s);
        f->ncols = (int)rd_be(&r, 2);
        if (r.bad || !f->name || f->ncols < 1 || f->ncols > LIMIT_SQL_INDEX_COLUMNS)
            return NULL;
        f->attnums = arena_alloc(&s->arena, (size_t)(f->ncols + 1) * sizeof(int16_t));
        f->ref_attnums = arena_alloc(&s->arena, (size_t)(f->ncols + 1) * sizeof(int16_t));
        if (!f->attnums || !f->ref_attnums)
            return NULL;
        for (int i = 0; i < f->ncols; i++) {
            f->attnums[i] = (int16_t)rd_be(&r, 2);
            f->ref_attnums[i] = (int16_t)rd_be(&r, 2);
        }
        f->ref_table = (uint32_t)rd_be(&r, 4);
        f->on_delete = (char)rd_be(&r, 1);
        f->on_update = (char)rd_be(&r, 1);
        f->match_full = rd_be(&r, 1) != 0;
    }
    t->nchecks = !r.bad && r.p < r.end ? (int)rd_be(&r, 2) : 0;
    if (r.bad || t->nchecks > LIMIT_SQL_COLUMNS)
        return NULL;
    if (!(t->checks = arena_alloc(&s->arena, (size_t)(t->nchecks + 1) * sizeof(cat_check_t))))
        return NULL;
    for (int k = 0; k < t->nchecks; k++) {
        t->checks[k].name = rd_str(&r, s);
        t->checks[k].expr_sql = rd_str(&r, s);
        if (r.bad || !t->checks[k].name || !t->checks[k].expr_sql)
            return NULL;
    }
    if (!r.bad && r.p < r.end && rd_be(&r, 1) == 1) {
        t->view_sql = rd_str(&r, s);
        t->ndeps = (int)rd_be(&r, 2);
        if (r.bad || !t->view_sql || t->ndeps > LIMIT_SQL_VIEW_DEPS)
            return NULL;
    }
    if (!(t->deps = arena_alloc(&s->arena, (size_t)(t->ndeps + 1) * sizeof(uint32_t))))
        return NULL;
    for (int k = 0; k < t->ndeps; k++)
        t->deps[k] = (uint32_t)rd_be(&r, 4);
    int nmissing = !r.bad && r.p < r.end ? (int)rd_be(&r, 2) : 0;
    if (r.bad || nmissing > t->ncols)
        return NULL;
    for (int k = 0; k < nmissing; k++) {
        int i = (int)rd_be(&r, 2);
        uint32_t mlen = (uint32_t)rd_be(&r, 4);
        if (r.bad || i >= t->ncols || (uint64_t)(r.end - r.p) < mlen || !missing_copy(s, &t->cols[i], r.p, mlen))
            return NULL;
        r.p += mlen;
    }
    return r.bad ? NULL : t;
}

static void key_be32(uint8_t k[4], uint32_t v)
{
    k[0] = (uint8_t)(v >> 24);
    k[1] = (uint8_t)(v >> 16);
    k[2] = (uint8_t)(v >> 8);
    k[3] = (uint8_t)v;
}

/* ---- boot ---- */

/* Tells the store how each ordinary table's rows split into columns (sorted table
 * format 2, shards/store.h): process-wide, so shard 0 does it for everyone. Tables
 * that cannot have a layout, and dropped tables, get none (their blocks stay opaque;
 * a stale layout is harmless, the writer checks every row round-trips). */
static void register_layouts(const cat_snap_t *s)
{
    for (int i = 0; i < s->pub.ntables; i++) {
        const cat_table_t *t = s->pub.tables[i];
        store_layout_t l;
        type_oid_t types[STORE_LAYOUT_MAX_COLS];
        bool ok = t->relkind == 'r' && t->ncols > 0 && t->ncols <= STORE_LAYOUT_MAX_COLS;
        for (int c = 0; ok && c < t->ncols; c++)
            types[c] = t->cols[c].type;
        if (ok && row_store_layout(t->ncols, types, &l))
            ok = store_layout_register(t->oid, &l) == 0;
        else
            ok = false;
        if (!ok)
            store_layout_unregister(t->oid);
    }
}

static void publish_local(cat_snap_t *s)
{
    if (rt_shard_id() == 0)
        register_layouts(s);
    cat_snap_t *old = cat_cur;
    atomic_fetch_add(&s->refs, 1);
    cat_cur = s;
    if (old)
        catalog_unref(&old->pub);
}

int catalog_boot(void)
{
    ASSERT(rt_shard_id() == 0);
    store_t *st = shard_store();
    int n = 0;
    cat_snap_t *s = snap_new(1, LIMIT_TABLES);
    if (!s)
        goto fail;
    s->next_oid = CAT_FIRST_USER_OID;
    store_iter_t *it = store_iter_open(st, NULL, UINT64_MAX, CAT_STORE_TABLE_ID, NULL, 0, NULL, 0);
    if (!it)
        goto fail;
    store_val_t k, v;
    while (store_iter_next(it, &k, &v) == 1) {
        if (k.len != 4)
            continue;
        uint32_t oid = (uint32_t)k.ptr[0] << 24 | (uint32_t)k.ptr[1] << 16 | (uint32_t)k.ptr[2] << 8 | k.ptr[3];
        if (oid == CAT_META_KEY) {
            if (v.len == 4)
                s->next_oid = (uint32_t)v.ptr[0] << 24 | (uint32_t)v.ptr[1] << 16 | (uint32_t)v.ptr[2] << 8 | v.ptr[3];
            continue;
        }
        cat_table_t *t = cat_decode(s, v.ptr, v.len);
        if (!t) {
            log_error("catalog: table row %u is corrupt", oid);
            store_iter_close(it);
            goto fail;
        }
        if (n >= LIMIT_TABLES) {
            store_iter_close(it);
            goto fail;
        }
        s->pub.tables[n++] = t;
        if (t->oid >= s->next_oid)
            s->next_oid = t->oid + 1;
    }
    if (store_iter_error(it)) {
        log_error("catalog: cannot read the catalog: %s",
                  store_last_error(st)[0] ? store_last_error(st) : "storage error");
        store_iter_close(it);
        goto fail;
    }
    store_iter_close(it);
    s->pub.ntables = n;
    snap_sort(s);
    publish_local(s);
    catalog_unref(&s->pub);      /* publish_local took its own reference */
    atomic_fetch_add(&s->refs, 1);
    atomic_store(&cat_boot_snap, s);
    log_info("catalog: %d tables loaded", n);
    return 0;
fail:
    atomic_store(&cat_boot_failed, 1);
    if (s)
        snap_free(s);
    log_error("catalog: boot failed");
    return -1;
}

int catalog_attach(void)
{
    for (;;) {
        if (atomic_load(&cat_boot_failed))
            return -1;
        cat_snap_t *s = atomic_load(&cat_boot_snap);
        if (s) {
            publish_local(s);
            return 0;
        }
        rt_sleep_ms(1);
    }
}

void catalog_detach(void)
{
    cat_snap_t *s = cat_cur;
    cat_cur = NULL;
    if (rt_shard_id() == 0) {
        cat_snap_t *b = atomic_exchange(&cat_boot_snap, NULL);
        if (b)
            catalog_unref(&b->pub);
    }
    if (s)
        catalog_unref(&s->pub);
}

/* ---- DDL on shard 0 ---- */

enum { DDL_CREATE, DDL_DROP, DDL_REPLACE, DDL_ALLOC_OID, DDL_ADD_INDEX, DDL_DROP_INDEX };

typedef struct ddl_req {
    int op;
    const cat_table_t *def;
    const cat_index_t *index;    /* DDL_ADD_INDEX */
    const char *name;            /* DDL_DROP_INDEX */
    int nseqs;                   /* DDL_CREATE: sequences owned by the new table's columns */
    const cat_table_t *seqs;
    uint32_t oid;
    bool if_not_exists;
    bool existed;
    sql_error_t err;
} ddl_req_t;

static int publish_one(void *arg)
{
    publish_local(arg);
    return 0;
}

/* Publishes s on every shard (shard 0 first), then drops the creator's reference. */
static void publish_all(cat_snap_t *s)
{
    int n = rt_shards_count();
    int shards[LIMIT_SHARDS_MAX];
    void *args[LIMIT_SHARDS_MAX];
    int rets[LIMIT_SHARDS_MAX];
    for (int i = 0; i < n; i++) {
        shards[i] = i;
        args[i] = s;
    }
    rt_call_many(n, shards, publish_one, args, rets);
    catalog_unref(&s->pub);
}

/* Writes the changed rows in one store transaction on shard 0 and waits until durable. */
static int persist_many(const cat_table_t *const *puts, int nput, const uint32_t *dels, int ndel,
                        uint32_t next_oid, sql_error_t *err);

static int persist(const cat_table_t *put, uint32_t del_oid, uint32_t next_oid, sql_error_t *err)
{
    return persist_many(put ? &put : NULL, put != NULL, del_oid ? &del_oid : NULL, del_oid != 0, next_oid, err);
}

static int persist_many(const cat_table_t *const *puts, int nput, const uint32_t *dels, int ndel,
                        uint32_t next_oid, sql_error_t *err)
{
    store_t *st = shard_store();
    uint64_t txn_id = hlc_now();
    store_txn_t *t = store_txn_begin(st, txn_id);
    if (!t)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    strbuf_t b;
    strbuf_init(&b);
    uint8_t key[4];
    uint64_t blocker;
    int rc = STORE_OK;
    for (int i = 0; rc == STORE_OK && i < nput; i++) {
        strbuf_reset(&b);
        cat_encode(puts[i], &b);
        key_be32(key, puts[i]->oid);
        if (b.oom)
            rc = STORE_ENOMEM;
        else
            rc = store_write(st, t, STORE_W_PUT, CAT_STORE_TABLE_ID, key, 4, (const uint8_t *)b.data,
                             (uint32_t)b.len, &blocker);
    }
    for (int i = 0; rc == STORE_OK && i < ndel; i++) {
        key_be32(key, dels[i]);
        rc = store_write(st, t, STORE_W_DELETE, CAT_STORE_TABLE_ID, key, 4, NULL, 0, &blocker);
    }
    if (rc == STORE_OK) {
        uint8_t v[4];
        key_be32(key, CAT_META_KEY);
        key_be32(v, next_oid);
        rc = store_write(st, t, STORE_W_PUT, CAT_STORE_TABLE_ID, key, 4, v, 4, &blocker);
    }
    strbuf_free(&b);
    if (rc != STORE_OK)
        store_txn_abort(st, t);
    else
        rc = shard_commit_wait(t, hlc_now());
    if (rc == STORE_EREADONLY)
        return sql_error(err, SQLSTATE_IO_ERROR, "could not write the catalog: storage is read-only "
                         "after an I/O error");
    if (rc != STORE_OK)
        return sql_error(err, SQLSTATE_IO_ERROR, "could not write the catalog (store error %d)", rc);
    return 0;
}

static int ddl_apply(ddl_req_t *r);

/* DDL_ADD_INDEX / DDL_DROP_INDEX: the table is replaced by a copy with one index more
 * or less (same OID, same rows). Name checks run here, on shard 0, so two concurrent
 * CREATE INDEX cannot both take a name. */
static int ddl_index(ddl_req_t *r)
{
    cat_snap_t *cur = cat_cur;
    const cat_table_t *old;
    const cat_index_t *drop = NULL;
    if (r->op == DDL_ADD_INDEX) {
        if (!(old = catalog_table_by_oid(&cur->pub, r->oid)))
            return sql_error(&r->err, SQLSTATE_UNDEFINED_TABLE, "relation with OID %u does not exist", r->oid);
        if (catalog_relation_exists(&cur->pub, old->namespace_oid, r->index->name)) {
            if (r->if_not_exists) {
                r->existed = true;
                return 0;
            }
            return sql_error(&r->err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists", r->index->name);
        }
        if (old->nindexes >= LIMIT_SQL_INDEXES_PER_TABLE)
            return sql_error(&r->err, SQLSTATE_PROGRAM_LIMIT, "too many indexes on table \"%s\" (at most %d)",
                             old->name, LIMIT_SQL_INDEXES_PER_TABLE);
    } else if (!(drop = catalog_index_by_name(&cur->pub, CAT_NS_PUBLIC, r->name, &old))) {
        r->existed = false;
        return 0;   /* the caller reports 42704 or the IF EXISTS notice */
    }
    r->existed = r->op == DDL_DROP_INDEX;   /* ADD: "existed" means skipped */
    cat_table_t def = *old;
    cat_index_t *ix = rt_calloc((size_t)old->nindexes + 1, sizeof *ix);
    if (!ix)
        return sql_error(&r->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    int n = 0;
    for (int k = 0; k < old->nindexes; k++)
        if (&old->indexes[k] != drop)
            ix[n++] = old->indexes[k];
    if (r->op == DDL_ADD_INDEX) {
        ix[n] = *r->index;
        ix[n++].oid = cur->next_oid;   /* taken: ddl_apply's copy keeps next_oid */
    }
    def.nindexes = n;
    def.indexes = ix;
    ddl_req_t rr = {.op = DDL_REPLACE, .oid = old->oid, .def = &def};
    if (r->op == DDL_ADD_INDEX)
        cur->next_oid++;
    int rc = ddl_apply(&rr);
    if (rc < 0)
        r->err = rr.err;
    rt_free(ix);
    return rc;
}

static int ddl_apply(ddl_req_t *r)
{
    cat_snap_t *cur = cat_cur;
    if (r->op == DDL_ALLOC_OID) {
        /* Bump the counter durably without a new snapshot version. */
        uint32_t oid = cur->next_oid;
        if (persist(NULL, 0, oid + 1, &r->err) < 0)
            return -1;
        cur->next_oid = oid + 1;   /* shard 0 only reads/writes next_oid */
        r->oid = oid;
        return 0;
    }
    if (r->op == DDL_ADD_INDEX || r->op == DDL_DROP_INDEX)
        return ddl_index(r);
    if (r->op == DDL_CREATE) {
        bool ex = catalog_relation_exists(&cur->pub, r->def->namespace_oid, r->def->name);
        if (ex) {
            if (r->if_not_exists) {
                r->existed = true;
                return 0;
            }
            return sql_error(&r->err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists", r->def->name);
        }
    }
    if (r->op == DDL_CREATE || r->op == DDL_REPLACE) {
        for (int k = 0; k < r->nseqs; k++)
            if (catalog_relation_exists(&cur->pub, r->def->namespace_oid, r->seqs[k].name))
                return sql_error(&r->err, SQLSTATE_DUPLICATE_TABLE, "relation \"%s\" already exists",
                                 r->seqs[k].name);
        if (cur->pub.ntables + r->nseqs >= LIMIT_TABLES)
            return sql_error(&r->err, SQLSTATE_PROGRAM_LIMIT, "too many tables (at most %d)", LIMIT_TABLES);
    }
    cat_snap_t *s = snap_new(cur->pub.version + 1, cur->pub.ntables + 1 + r->nseqs);
    if (!s)
        return sql_error(&r->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    s->next_oid = cur->next_oid;
    int n = 0;
    uint32_t skip = r->op == DDL_DROP || r->op == DDL_REPLACE ? r->oid : 0;
    uint32_t dels[CAT_OWNED_SEQS_MAX + 2];
    int ndel = 0;
    /* the new version of every changed row: the table, owned sequences, and for a
     * table that moved to a new OID the tables whose foreign keys reference it */
    const cat_table_t **puts = rt_calloc((size_t)cur->pub.ntables + 2 * CAT_OWNED_SEQS_MAX + 2, sizeof *puts);
    int nput = 0;
    if (!puts) {
        snap_free(s);
        return sql_error(&r->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    bool moved = r->op == DDL_REPLACE && r->def->oid != r->oid;
    for (int i = 0; i < cur->pub.ntables; i++) {
        if (cur->pub.tables[i]->oid == skip)
            continue;
        const cat_seq_t *q = cur->pub.tables[i]->seq;
        bool owned = q && q->owner_table == r->oid && r->oid;
        if (r->op == DDL_DROP && owned && ndel < CAT_OWNED_SEQS_MAX) {
            dels[ndel++] = cur->pub.tables[i]->oid;     /* owned sequences go with their table */
            continue;
        }
        cat_table_t *c = table_copy(s, cur->pub.tables[i]);
        if (!(s->pub.tables[n++] = c))
            goto oom;
        if (r->op == DDL_REPLACE && owned && r->def->oid != r->oid && nput < CAT_OWNED_SEQS_MAX) {
            c->seq->owner_table = r->def->oid;          /* the table moved to a new OID */
            puts[nput++] = c;
            continue;
        }
        bool refs = false;
        for (int k = 0; moved && k < c->nfks; k++)
            if (c->fks[k].ref_table == r->oid) {
                c->fks[k].ref_table = r->def->oid;      /* a child of the moved table */
                refs = true;
            }
        for (int k = 0; moved && k < c->ndeps; k++)
            if (c->deps[k] == r->oid) {
                c->deps[k] = r->def->oid;               /* a view reading it */
                refs = true;
            }
        if (refs)
            puts[nput++] = c;
    }
    cat_table_t *nt = NULL;
    if (r->op == DDL_CREATE || r->op == DDL_REPLACE) {
        if (!(nt = table_copy(s, r->def)))
            goto oom;
        if (r->op == DDL_CREATE) {
            nt->oid = s->next_oid++;
            nt->pk_index_oid = nt->npk ? s->next_oid++ : 0;
            nt->create_ts = hlc_now();
        } else if (nt->npk && !nt->pk_index_oid) {
            nt->pk_index_oid = s->next_oid++;
        }
        if (moved)
            nt->moved_from = r->oid;
        else if (r->op == DDL_REPLACE)
            nt->moved_from = 0;
        if (nt->oid >= s->next_oid)
            s->next_oid = nt->oid + 1;
        s->pub.tables[n++] = nt;
    }
    if (nt)
        puts[nput++] = nt;
    for (int k = 0; nt && k < r->nseqs && k < CAT_OWNED_SEQS_MAX; k++) {
        cat_table_t *q = table_copy(s, &r->seqs[k]);
        if (!q || !q->seq)
            goto oom;
        q->oid = s->next_oid++;
        q->create_ts = nt->create_ts;
        q->seq->owner_table = nt->oid;
        s->pub.tables[n++] = q;
        puts[nput++] = q;
    }
    s->pub.ntables = n;
    snap_sort(s);
    uint32_t del = r->op == DDL_DROP ? r->oid : (r->op == DDL_REPLACE && r->def->oid != r->oid ? r->oid : 0);
    if (del)
        dels[ndel++] = del;
    if (persist_many(puts, nput, dels, ndel, s->next_oid, &r->err) < 0) {
        rt_free(puts);
        snap_free(s);
        return -1;
    }
    rt_free(puts);
    if (nt)
        r->oid = nt->oid;
    publish_all(s);
    return 0;
oom:
    rt_free(puts);
    snap_free(s);
    return sql_error(&r->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
}

static int ddl_on_shard0(void *arg)
{
    while (cat_ddl_busy)
        rt_waitq_wait(&cat_ddl_waiters);
    cat_ddl_busy = true;
    int rc = ddl_apply(arg);
    cat_ddl_busy = false;
    rt_waitq_wake_one(&cat_ddl_waiters);
    return rc;
}

static int ddl_run(ddl_req_t *r, sql_error_t *err)
{
    memset(&r->err, 0, sizeof r->err);
    int rc = rt_call(0, ddl_on_shard0, r);
    if (rc < 0) {
        *err = r->err;
        if (!sql_error_is_set(err))
            sql_error(err, SQLSTATE_INTERNAL_ERROR, "catalog change failed");
        return -1;
    }
    return 0;
}

int catalog_create_table(const cat_table_t *def, bool if_not_exists, bool *existed, sql_error_t *err)
{
    return catalog_create_table_seqs(def, 0, NULL, if_not_exists, existed, err);
}

int catalog_create_table_seqs(const cat_table_t *def, int nseqs, const cat_table_t *seqs, bool if_not_exists,
                              bool *existed, sql_error_t *err)
{
    ASSERT(nseqs >= 0 && nseqs <= CAT_OWNED_SEQS_MAX);
    ddl_req_t r = {.op = DDL_CREATE, .def = def, .if_not_exists = if_not_exists, .nseqs = nseqs, .seqs = seqs};
    if (ddl_run(&r, err) < 0)
        return -1;
    *existed = r.existed;
    return 0;
}

int catalog_drop_table(uint32_t oid, sql_error_t *err)
{
    ddl_req_t r = {.op = DDL_DROP, .oid = oid};
    return ddl_run(&r, err);
}

int catalog_replace_table(uint32_t old_oid, const cat_table_t *def, sql_error_t *err)
{
    ddl_req_t r = {.op = DDL_REPLACE, .oid = old_oid, .def = def};
    return ddl_run(&r, err);
}

int catalog_create_index(uint32_t table_oid, const cat_index_t *def, bool if_not_exists, bool *existed,
                         sql_error_t *err)
{
    ddl_req_t r = {.op = DDL_ADD_INDEX, .oid = table_oid, .index = def, .if_not_exists = if_not_exists};
    if (ddl_run(&r, err) < 0)
        return -1;
    *existed = r.existed;
    return 0;
}

int catalog_drop_index(const char *name, bool if_exists, bool *missing, sql_error_t *err)
{
    ddl_req_t r = {.op = DDL_DROP_INDEX, .name = name};
    if (ddl_run(&r, err) < 0)
        return -1;
    *missing = !r.existed;
    if (*missing && !if_exists)
        return sql_error(err, SQLSTATE_UNDEFINED_OBJECT, "index \"%s\" does not exist", name);
    return 0;
}

int catalog_replace_table_seqs(uint32_t old_oid, const cat_table_t *def, int nseqs, const cat_table_t *seqs,
                               sql_error_t *err)
{
    ASSERT(nseqs >= 0 && nseqs <= CAT_OWNED_SEQS_MAX);
    ddl_req_t r = {.op = DDL_REPLACE, .oid = old_oid, .def = def, .nseqs = nseqs, .seqs = seqs};
    return ddl_run(&r, err);
}

int catalog_alloc_oid(uint32_t *oid, sql_error_t *err)
{
    ddl_req_t r = {.op = DDL_ALLOC_OID};
    if (ddl_run(&r, err) < 0)
        return -1;
    *oid = r.oid;
    return 0;
}
