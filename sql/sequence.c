/*
 * sequence.c -- sequences: definitions (catalog relkind 'S'), values on shard 0 with
 * PostgreSQL-style pre-logging, per-session currval, and the SQL functions. See
 * sequence.h for the model.
 */
#include "sql/sequence.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/assert.h"
#include "core/hlc.h"
#include "core/limits.h"
#include "core/rt.h"
#include "shards/shard.h"
#include "sql/builtins_int.h"
#include "sql/catalog_int.h"
#include "sql/exec_int.h"

/* ---- options ---- */

static const char *seq_type_name(type_oid_t t)
{
    return t == TYPE_INT2 ? "smallint" : t == TYPE_INT4 ? "integer" : "bigint";
}

static void seq_type_range(type_oid_t t, int64_t *lo, int64_t *hi)
{
    *lo = t == TYPE_INT2 ? INT16_MIN : t == TYPE_INT4 ? INT32_MIN : INT64_MIN;
    *hi = t == TYPE_INT2 ? INT16_MAX : t == TYPE_INT4 ? INT32_MAX : INT64_MAX;
}

static int seq_int(const char *v, const char *opt, int64_t *out, sql_error_t *err)
{
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || *end || end == v) {
        if (v && errno == ERANGE)
            return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value \"%s\" is out of range for type bigint", v);
        return sql_error(err, SQLSTATE_SYNTAX_ERROR, "%s requires a numeric value", opt);
    }
    *out = x;
    return 0;
}

int seq_options_apply(const char *name, type_oid_t type, int nopts, const char *const *names,
                      const char *const *values, cat_seq_t *q, sql_error_t *err)
{
    (void)name;
    bool seen[7] = {0};
    static const char *const known[7] = {"as", "start", "increment", "minvalue", "maxvalue", "cycle", "cache"};
    bool has_min = false, has_max = false, has_start = false;
    int64_t start = 0, inc = 1, mn = 0, mx = 0, cache = 1;
    bool cycle = false;
    for (int i = 0; i < nopts; i++) {
        int k = 0;
        while (k < 7 && strcmp(names[i], known[k]) != 0)
            k++;
        if (k == 7)
            return sql_error(err, SQLSTATE_SYNTAX_ERROR, "option \"%s\" not recognized", names[i]);
        if (seen[k])
            return sql_error(err, SQLSTATE_SYNTAX_ERROR, "conflicting or redundant options");
        seen[k] = true;
        const char *v = values[i];
        switch (k) {
        case 0:
            if (!v || (strcmp(v, "int2") && strcmp(v, "int4") && strcmp(v, "int8")))
                return sql_error(err, SQLSTATE_INVALID_PARAMETER,
                                 "sequence type must be smallint, integer, or bigint");
            type = !strcmp(v, "int2") ? TYPE_INT2 : !strcmp(v, "int4") ? TYPE_INT4 : TYPE_INT8;
            break;
        case 1: if (seq_int(v, "START", &start, err) < 0) return -1; has_start = true; break;
        case 2: if (seq_int(v, "INCREMENT", &inc, err) < 0) return -1; break;
        case 3: if (v && seq_int(v, "MINVALUE", &mn, err) < 0) return -1; has_min = v != NULL; break;
        case 4: if (v && seq_int(v, "MAXVALUE", &mx, err) < 0) return -1; has_max = v != NULL; break;
        case 5: cycle = v && !strcmp(v, "true"); break;
        case 6: if (seq_int(v, "CACHE", &cache, err) < 0) return -1; break;
        }
    }
    if (type != TYPE_INT2 && type != TYPE_INT4 && type != TYPE_INT8)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "sequence type must be smallint, integer, or bigint");
    int64_t lo, hi;
    seq_type_range(type, &lo, &hi);
    if (inc == 0)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "INCREMENT must not be zero");
    if (!has_max)
        mx = inc > 0 ? hi : -1;
    if (!has_min)
        mn = inc > 0 ? 1 : lo;
    if (mx < lo || mx > hi)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "MAXVALUE (%lld) is out of range for sequence data type %s",
                         (long long)mx, seq_type_name(type));
    if (mn < lo || mn > hi)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "MINVALUE (%lld) is out of range for sequence data type %s",
                         (long long)mn, seq_type_name(type));
    if (mn >= mx)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "MINVALUE (%lld) must be less than MAXVALUE (%lld)",
                         (long long)mn, (long long)mx);
    if (!has_start)
        start = inc > 0 ? mn : mx;
    if (start < mn)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "START value (%lld) cannot be less than MINVALUE (%lld)",
                         (long long)start, (long long)mn);
    if (start > mx)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER,
                         "START value (%lld) cannot be greater than MAXVALUE (%lld)", (long long)start, (long long)mx);
    if (cache <= 0)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "CACHE (%lld) must be greater than zero", (long long)cache);
    memset(q, 0, sizeof *q);
    *q = (cat_seq_t){.type = type, .start = start, .increment = inc, .min = mn, .max = mx, .cache = cache,
                     .cycle = cycle};
    return 0;
}

/* ---- values on shard 0 ---- */

#define SEQ_BUCKETS 1024

typedef struct seq_state {
    uint32_t oid;
    int64_t last;
    bool is_called;
    int64_t log_left;            /* values after `last` already covered by the logged row */
    struct seq_state *next;
} seq_state_t;

static __thread seq_state_t *seq_buckets[SEQ_BUCKETS];
static __thread bool seq_busy;
static __thread rt_waitq_t seq_waiters;

enum { SEQ_NEXT, SEQ_SET, SEQ_FORGET };

typedef struct seq_req {
    int op;
    uint32_t oid;
    const char *name;
    cat_seq_t def;
    int64_t value;               /* SEQ_SET in, SEQ_NEXT out */
    bool is_called;
    sql_error_t err;
} seq_req_t;

static void seq_key(uint8_t k[4], uint32_t oid)
{
    k[0] = (uint8_t)(oid >> 24);
    k[1] = (uint8_t)(oid >> 16);
    k[2] = (uint8_t)(oid >> 8);
    k[3] = (uint8_t)oid;
}

/* The in-memory state of a sequence, loaded from the store on first use (a sequence
 * without a stored row is fresh: START, not yet called). NULL on a storage error. */
static seq_state_t *seq_state(seq_req_t *r)
{
    seq_state_t **b = &seq_buckets[r->oid % SEQ_BUCKETS];
    for (seq_state_t *s = *b; s; s = s->next)
        if (s->oid == r->oid)
            return s;
    uint8_t key[4];
    seq_key(key, r->oid);
    store_val_t v;
    int rc = store_get(shard_store(), NULL, UINT64_MAX, SEQ_STORE_TABLE_ID, key, 4, &v);
    if (rc != STORE_OK && rc != STORE_NOTFOUND) {
        txn_store_error(rc, &r->err);
        return NULL;
    }
    seq_state_t *s = rt_calloc(1, sizeof *s);
    if (!s) {
        sql_error(&r->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    s->oid = r->oid;
    if (rc == STORE_OK && v.len == 9) {
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | v.ptr[i];
        s->last = (int64_t)x;
        s->is_called = v.ptr[8] != 0;
    } else {
        s->last = r->def.start;
        s->is_called = false;
    }
    s->next = *b;
    *b = s;
    return s;
}

/* Writes (last, is_called) for the sequence and waits until durable. */
static int seq_log(seq_req_t *r, int64_t last, bool is_called)
{
    store_t *st = shard_store();
    store_txn_t *t = store_txn_begin(st, txn_new_id());
    if (!t)
        return sql_error(&r->err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    uint8_t key[4], val[9];
    seq_key(key, r->oid);
    for (int i = 0; i < 8; i++)
        val[i] = (uint8_t)((uint64_t)last >> (56 - 8 * i));
    val[8] = is_called;
    uint64_t blocker;
    int rc = store_write(st, t, STORE_W_PUT, SEQ_STORE_TABLE_ID, key, 4, val, 9, &blocker);
    if (rc != STORE_OK)
        store_txn_abort(st, t);
    else
        rc = shard_commit_wait(t, hlc_now());
    return rc == STORE_OK ? 0 : txn_store_error(rc, &r->err);
}

/* One step from v: false when it leaves [min, max] (or overflows). */
static bool seq_step(const cat_seq_t *q, int64_t v, int64_t *out)
{
    int64_t n;
    if (__builtin_add_overflow(v, q->increment, &n) || n > q->max || n < q->min)
        return false;
    *out = n;
    return true;
}

static int seq_next(seq_req_t *r, seq_state_t *s)
{
    const cat_seq_t *q = &r->def;
    int64_t v = s->last;
    if (s->is_called && !seq_step(q, s->last, &v)) {
        if (!q->cycle)
            return sql_error(&r->err, "2200H", "nextval: reached %s value of sequence \"%s\" (%lld)",
                             q->increment > 0 ? "maximum" : "minimum", r->name,
                             (long long)(q->increment > 0 ? q->max : q->min));
        v = q->increment > 0 ? q->min : q->max;
        s->log_left = 0;          /* a wrap always logs */
    }
    if (s->log_left > 0) {
        s->log_left--;
    } else {
        int64_t ahead = v, k = 0;
        while (k < SEQ_LOG_VALS && seq_step(q, ahead, &ahead))
            k++;
        if (seq_log(r, ahead, true) < 0)
            return -1;
        s->log_left = k;
    }
    s->last = v;
    s->is_called = true;
    r->value = v;
    return 0;
}

static int seq_on_shard0(void *arg)
{
    seq_req_t *r = arg;
    while (seq_busy)
        rt_waitq_wait(&seq_waiters);
    seq_busy = true;
    int rc = 0;
    if (r->op == SEQ_FORGET) {
        seq_state_t **b = &seq_buckets[r->oid % SEQ_BUCKETS];
        for (seq_state_t **p = b; *p; p = &(*p)->next)
            if ((*p)->oid == r->oid) {
                seq_state_t *d = *p;
                *p = d->next;
                rt_free(d);
                break;
            }
        store_t *st = shard_store();
        store_txn_t *t = store_txn_begin(st, txn_new_id());
        uint8_t key[4];
        uint64_t blocker;
        seq_key(key, r->oid);
        if (t && store_write(st, t, STORE_W_DELETE, SEQ_STORE_TABLE_ID, key, 4, NULL, 0, &blocker) == STORE_OK)
            shard_commit_wait(t, hlc_now());
        else if (t)
            store_txn_abort(st, t);
    } else {
        seq_state_t *s = seq_state(r);
        if (!s) {
            rc = -1;
        } else if (r->op == SEQ_NEXT) {
            rc = seq_next(r, s);
        } else if (seq_log(r, r->value, r->is_called) < 0) {
            rc = -1;
        } else {
            s->last = r->value;
            s->is_called = r->is_called;
            s->log_left = 0;
        }
    }
    seq_busy = false;
    rt_waitq_wake_one(&seq_waiters);
    return rc;
}

static int seq_call(seq_req_t *r, sql_error_t *err)
{
    memset(&r->err, 0, sizeof r->err);
    if (rt_call(0, seq_on_shard0, r) < 0) {
        *err = r->err;
        if (!sql_error_is_set(err))
            sql_error(err, SQLSTATE_INTERNAL_ERROR, "sequence operation failed");
        return -1;
    }
    return 0;
}

void seq_forget(uint32_t oid)
{
    seq_req_t r = {.op = SEQ_FORGET, .oid = oid};
    sql_error_t err = {0};
    seq_call(&r, &err);
}

/* ---- per-session state ---- */

typedef struct seq_seen { uint32_t oid; int64_t value; } seq_seen_t;

struct seq_session {
    pthread_mutex_t mu;
    int n, cap;
    seq_seen_t *seen;
    bool has_last;
    uint32_t last_oid;
};

seq_session_t *seq_session_new(void)
{
    seq_session_t *s = rt_calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

void seq_session_free(seq_session_t *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    rt_free(s->seen);
    rt_free(s);
}

static int sess_put(seq_session_t *s, uint32_t oid, int64_t v, sql_error_t *err)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    int i = 0;
    while (i < s->n && s->seen[i].oid != oid)
        i++;
    if (i == s->n) {
        if (s->n == s->cap) {
            int cap = s->cap ? s->cap * 2 : 16;
            seq_seen_t *n = s->n >= SEQ_SESSION_MAX ? NULL : rt_realloc(s->seen, (size_t)cap * sizeof *n);
            if (!n) {
                rc = sql_error(err, s->n >= SEQ_SESSION_MAX ? SQLSTATE_PROGRAM_LIMIT : SQLSTATE_OUT_OF_MEMORY,
                               "too many sequences used in one session (at most %d)", SEQ_SESSION_MAX);
                goto out;
            }
            s->seen = n;
            s->cap = cap;
        }
        s->seen[s->n++].oid = oid;
    }
    s->seen[i].value = v;
    s->has_last = true;
    s->last_oid = oid;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static bool sess_get(seq_session_t *s, uint32_t oid, int64_t *v)
{
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        if (s->seen[i].oid == oid) {
            *v = s->seen[i].value;
            found = true;
        }
    pthread_mutex_unlock(&s->mu);
    return found;
}

/* ---- SQL functions ---- */

static const cat_table_t *seq_rel(const builtin_ctx_t *ctx, uint32_t oid, sql_error_t *err)
{
    const cat_table_t *t = ctx->catalog ? catalog_table_by_oid(ctx->catalog, oid) : NULL;
    if (!t) {
        sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not open relation with OID %u", oid);
        return NULL;
    }
    if (t->relkind != 'S' || !t->seq) {
        sql_error(err, "42809", "\"%s\" is not a sequence", t->name);
        return NULL;
    }
    return t;
}

static int seq_need_session(const builtin_ctx_t *ctx, sql_error_t *err)
{
    if (!ctx->seqs)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "sequence functions are not supported in this context");
    return 0;
}

static BUILTIN_FN(fn_nextval)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    const cat_table_t *t = seq_rel(ctx, (uint32_t)args[0].i64, err);
    if (!t || seq_need_session(ctx, err) < 0)
        return -1;
    seq_req_t r = {.op = SEQ_NEXT, .oid = t->oid, .name = t->name, .def = *t->seq};
    if (seq_call(&r, err) < 0)
        return -1;
    out->i64 = r.value;
    return sess_put(ctx->seqs, t->oid, r.value, err);
}

static BUILTIN_FN(fn_currval)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    const cat_table_t *t = seq_rel(ctx, (uint32_t)args[0].i64, err);
    if (!t || seq_need_session(ctx, err) < 0)
        return -1;
    if (!sess_get(ctx->seqs, t->oid, &out->i64))
        return sql_error(err, "55000", "currval of sequence \"%s\" is not yet defined in this session", t->name);
    return 0;
}

static BUILTIN_FN(fn_lastval)
{
    (void)nargs; (void)args; (void)nulls; (void)argtypes; (void)isnull;
    if (seq_need_session(ctx, err) < 0)
        return -1;
    seq_session_t *s = ctx->seqs;
    pthread_mutex_lock(&s->mu);
    bool has = s->has_last;
    uint32_t oid = s->last_oid;
    pthread_mutex_unlock(&s->mu);
    if (!has)
        return sql_error(err, "55000", "lastval is not yet defined in this session");
    const cat_table_t *t = ctx->catalog ? catalog_table_by_oid(ctx->catalog, oid) : NULL;
    if (!t)
        return sql_error(err, "55000", "lastval is not yet defined in this session");
    sess_get(s, oid, &out->i64);
    return 0;
}

static BUILTIN_FN(fn_setval)
{
    (void)nulls; (void)argtypes; (void)isnull;
    const cat_table_t *t = seq_rel(ctx, (uint32_t)args[0].i64, err);
    if (!t || seq_need_session(ctx, err) < 0)
        return -1;
    int64_t v = args[1].i64;
    bool called = nargs < 3 || args[2].i64 != 0;
    const cat_seq_t *q = t->seq;
    if (v < q->min || v > q->max)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE,
                         "setval: value %lld is out of bounds for sequence \"%s\" (%lld..%lld)", (long long)v,
                         t->name, (long long)q->min, (long long)q->max);
    seq_req_t r = {.op = SEQ_SET, .oid = t->oid, .name = t->name, .def = *q, .value = v, .is_called = called};
    if (seq_call(&r, err) < 0)
        return -1;
    out->i64 = v;
    return called ? sess_put(ctx->seqs, t->oid, v, err) : 0;
}

/* Lower-cases an unquoted identifier, or strips the quotes of a quoted one, into buf. */
static const char *seq_ident(const char *p, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        for (size_t i = 1; i + 1 < n && k + 1 < cap; i++) {
            if (p[i] == '"' && i + 2 < n && p[i + 1] == '"')
                i++;
            buf[k++] = p[i];
        }
    } else {
        for (size_t i = 0; i < n && k + 1 < cap; i++)
            buf[k++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    }
    buf[k] = 0;
    return buf;
}

static BUILTIN_FN(fn_pg_get_serial_sequence)
{
    (void)nargs; (void)nulls; (void)argtypes;
    char tb[LIMIT_SQL_IDENT_BYTES * 2 + 4], cb[LIMIT_SQL_IDENT_BYTES + 4];
    const vstr_t *tv = args[0].s, *cv = args[1].s;
    const char *p = tv->data;
    size_t n = tv->len;
    const char *dot = memchr(p, '.', n);
    if (dot && (size_t)(dot - p) == 6 && !memcmp(p, "public", 6)) {
        n -= 7;
        p = dot + 1;
    } else if (dot && p[0] != '"') {
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%.*s\" does not exist", (int)(dot - p), p);
    }
    const char *tname = seq_ident(p, n, tb, sizeof tb);
    const cat_table_t *t = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, tname);
    if (!t)
        return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", tname);
    size_t cn = cv->len < sizeof cb - 1 ? cv->len : sizeof cb - 1;
    memcpy(cb, cv->data, cn);
    cb[cn] = 0;
    const cat_column_t *col = NULL;
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].dropped && !strcmp(t->cols[i].name, cb))
            col = &t->cols[i];
    if (!col)
        return sql_error(err, SQLSTATE_UNDEFINED_COLUMN, "column \"%s\" of relation \"%s\" does not exist", cb,
                         t->name);
    const cat_table_t *q = catalog_owned_sequence(ctx->catalog, t->oid, col->attnum);
    if (!q) {
        *isnull = true;
        return 0;
    }
    char buf[LIMIT_SQL_IDENT_BYTES + 16];
    int len = snprintf(buf, sizeof buf, "public.%s", q->name);
    return builtins__ret_str(ctx, buf, (size_t)len, out, err);
}

#define RC TYPE_REGCLASS
const builtin_t builtins_seq[] = {
    {"nextval", 1574, 1, {RC}, TYPE_INT8, true, 'v', fn_nextval},
    {"currval", 1575, 1, {RC}, TYPE_INT8, true, 'v', fn_currval},
    {"setval", 1576, 2, {RC, TYPE_INT8}, TYPE_INT8, true, 'v', fn_setval},
    {"setval", 1765, 3, {RC, TYPE_INT8, TYPE_BOOL}, TYPE_INT8, true, 'v', fn_setval},
    {"lastval", 2559, 0, {0}, TYPE_INT8, true, 'v', fn_lastval},
    {"pg_get_serial_sequence", 1665, 2, {TYPE_TEXT, TYPE_TEXT}, TYPE_TEXT, true, 's', fn_pg_get_serial_sequence},
};
const int builtins_seq_count = (int)(sizeof builtins_seq / sizeof builtins_seq[0]);

/* ---- DDL ---- */

int seq_exec_create(struct exec_ctx *ctx, const ast_t *a, seq_notice_fn notice, void *narg, sql_error_t *err)
{
    const ast_t *rv = a->seq.name;
    if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0)
        return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
    cat_seq_t *q = arena_alloc(ctx->arena, sizeof *q);
    if (!q)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (seq_options_apply(rv->rangevar.name, TYPE_INT8, a->seq.nopts, a->seq.opt_names, a->seq.opt_values, q,
                          err) < 0)
        return -1;
    cat_table_t def;
    memset(&def, 0, sizeof def);
    def.namespace_oid = CAT_NS_PUBLIC;
    def.name = rv->rangevar.name;
    def.relkind = 'S';
    def.seq = q;
    bool existed = false;
    if (catalog_create_table(&def, a->seq.if_not_exists, &existed, err) < 0)
        return -1;
    if (existed && notice) {
        char msg[256];
        snprintf(msg, sizeof msg, "relation \"%s\" already exists, skipping", def.name);
        notice(narg, msg);
    }
    return 0;
}

int seq_exec_drop(struct exec_ctx *ctx, const ast_t *a, seq_notice_fn notice, void *narg, sql_error_t *err)
{
    const cat_table_t **ts = arena_alloc(ctx->arena, (size_t)(a->drop.n + 1) * sizeof(cat_table_t *));
    if (!ts)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < a->drop.n; i++) {
        const ast_t *rv = a->drop.tables[i];
        const char *name = rv->rangevar.name;
        if (rv->rangevar.schema && strcmp(rv->rangevar.schema, "public") != 0)
            return sql_error(err, SQLSTATE_UNDEFINED_SCHEMA, "schema \"%s\" does not exist", rv->rangevar.schema);
        ts[i] = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, name);
        if (ts[i] && ts[i]->relkind != 'S') {
            sql_error(err, "42809", "\"%s\" is not a sequence", name);
            sql_error_hint(err, "Use DROP TABLE to remove a table.");
            return -1;
        }
        if (ts[i] && ts[i]->seq->owner_table) {
            const cat_table_t *o = catalog_table_by_oid(ctx->catalog, ts[i]->seq->owner_table);
            const char *col = "?";
            for (int k = 0; o && k < o->ncols; k++)
                if (o->cols[k].attnum == ts[i]->seq->owner_attnum)
                    col = o->cols[k].name;
            sql_error(err, "2BP01", "cannot drop sequence %s because other objects depend on it", name);
            sql_error_detail(err, "default value for column %s of table %s depends on sequence %s", col,
                             o ? o->name : "?", name);
            sql_error_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
            return -1;
        }
        if (!ts[i]) {
            if (!a->drop.if_exists)
                return sql_error(err, SQLSTATE_UNDEFINED_TABLE, "sequence \"%s\" does not exist", name);
            if (notice) {
                char msg[256];
                snprintf(msg, sizeof msg, "sequence \"%s\" does not exist, skipping", name);
                notice(narg, msg);
            }
        }
    }
    for (int i = 0; i < a->drop.n; i++) {
        if (!ts[i])
            continue;
        if (catalog_drop_table(ts[i]->oid, err) < 0)
            return -1;
        seq_forget(ts[i]->oid);
    }
    return 0;
}

int seq_column_prepare(arena_t *a, const catalog_t *c, const char *table, const ast_coldef_t *cd,
                       type_oid_t coltype, cat_table_t *seqdef, const char **default_sql, sql_error_t *err)
{
    if (coltype != TYPE_INT2 && coltype != TYPE_INT4 && coltype != TYPE_INT8)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "identity column type must be smallint, integer, or bigint");
    cat_seq_t *q = arena_alloc(a, sizeof *q);
    char *name = arena_alloc(a, LIMIT_SQL_IDENT_BYTES + 8);
    char *dflt = arena_alloc(a, 2 * LIMIT_SQL_IDENT_BYTES + 40);
    if (!q || !name || !dflt)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    if (seq_options_apply(NULL, coltype, cd->nseqopts, cd->seqopt_names, cd->seqopt_values, q, err) < 0)
        return -1;
    /* PostgreSQL's ChooseRelationName: "<table>_<column>_seq", then a digit appended */
    snprintf(name, LIMIT_SQL_IDENT_BYTES, "%s_%s_seq", table, cd->name);
    for (int k = 1; catalog_relation_exists(c, CAT_NS_PUBLIC, name) && k < 1000; k++)
        snprintf(name, LIMIT_SQL_IDENT_BYTES, "%s_%s_seq%d", table, cd->name, k);
    memset(seqdef, 0, sizeof *seqdef);
    seqdef->namespace_oid = CAT_NS_PUBLIC;
    seqdef->name = name;
    seqdef->relkind = 'S';
    seqdef->seq = q;
    bool plain = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name) && !(name[0] >= '0' && name[0] <= '9');
    snprintf(dflt, 2 * LIMIT_SQL_IDENT_BYTES + 40, plain ? "nextval('%s'::regclass)" : "nextval('\"%s\"'::regclass)",
             name);
    *default_sql = dflt;
    return 0;
}
