/*
 * expr.c -- batches and vectorized expression evaluation; see expr.h.
 *
 * Every evaluator works on a row list (`rows`, `n`) inside a batch and writes its
 * results at those row positions. Scratch vectors come from the context arena, which
 * the calling operator resets once per batch.
 */
#include "sql/numeric.h"
#include "sql/expr.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/limits.h"
#include "sql/catalog.h"
#include "sql/pgcatalog.h"
#include "sql/types_time.h"

batch_t *batch_new(arena_t *a, int ncols, int cap)
{
    batch_t *b = arena_alloc(a, sizeof *b);
    if (!b)
        return NULL;
    b->ncols = ncols;
    b->nrows = 0;
    b->cap = cap;
    b->vals = arena_alloc(a, (size_t)(ncols + 1) * sizeof(datum_t *));
    b->nulls = arena_alloc(a, (size_t)(ncols + 1) * sizeof(bool *));
    if (!b->vals || !b->nulls)
        return NULL;
    for (int c = 0; c < ncols; c++) {
        b->vals[c] = arena_alloc(a, (size_t)cap * sizeof(datum_t));
        b->nulls[c] = arena_alloc(a, (size_t)cap * sizeof(bool));
        if (!b->vals[c] || !b->nulls[c])
            return NULL;
    }
    return b;
}

void batch_copy_row(batch_t *dst, const batch_t *src, int row)
{
    ASSERT(dst->nrows < dst->cap && dst->ncols == src->ncols);
    int r = dst->nrows++;
    for (int c = 0; c < dst->ncols; c++) {
        dst->vals[c][r] = src->vals[c][row];
        dst->nulls[c][r] = src->nulls[c][row];
    }
}

void batch_append(batch_t *dst, const datum_t *vals, const bool *nulls)
{
    ASSERT(dst->nrows < dst->cap);
    int r = dst->nrows++;
    for (int c = 0; c < dst->ncols; c++) {
        dst->vals[c][r] = vals[c];
        dst->nulls[c][r] = nulls[c];
    }
}

bool expr_type_is_string(type_oid_t t)
{
    switch (t) {
    case TYPE_TEXT: case TYPE_VARCHAR: case TYPE_BPCHAR: case TYPE_NAME: case TYPE_BYTEA:
    case TYPE_UNKNOWN:
        return true;
    default: {
        const type_info_t *ti = type_lookup(t);
        return ti && !ti->byval;
    }
    }
}

static bool is_int_like(type_oid_t t)
{
    switch (t) {
    case TYPE_BOOL: case TYPE_INT2: case TYPE_INT4: case TYPE_INT8: case TYPE_OID:
    case TYPE_REGCLASS: case TYPE_REGTYPE: case TYPE_REGNAMESPACE: case TYPE_DATE: case TYPE_TIMESTAMP:
    case TYPE_TIMESTAMPTZ: case TYPE_CHAR: case TYPE_TIME:
        return true;
    default:
        return false;
    }
}

int expr_cmp_nulls(type_oid_t t, datum_t a, bool an, datum_t b, bool bn, bool nulls_first)
{
    if (an || bn) {
        if (an && bn)
            return 0;
        return an ? (nulls_first ? -1 : 1) : (nulls_first ? 1 : -1);
    }
    if (is_int_like(t))
        return a.i64 < b.i64 ? -1 : a.i64 > b.i64;
    return type_cmp(t, a, b);
}

/* ---- row lists ---- */

typedef struct rowset { int *rows; int n; } rowset_t;

static int *rows_alloc(expr_ctx_t *x, int n, sql_error_t *err)
{
    int *r = arena_alloc(x->arena, (size_t)(n ? n : 1) * sizeof(int));
    if (!r)
        sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return r;
}

static int vec_alloc(expr_ctx_t *x, int n, datum_t **v, bool **nl, sql_error_t *err)
{
    *v = arena_alloc(x->arena, (size_t)(n ? n : 1) * sizeof(datum_t));
    *nl = arena_alloc(x->arena, (size_t)(n ? n : 1) * sizeof(bool));
    if (!*v || !*nl)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    return 0;
}

static int eval_rows(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                     datum_t *out, bool *on, sql_error_t *err);

static int eval_array(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                      datum_t *out, bool *on, sql_error_t *err);
static int eval_anyarr(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                       datum_t *out, bool *on, sql_error_t *err);

/* Evaluates child expression e into fresh vectors sized to the batch. */
static int eval_child(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                      datum_t **v, bool **nl, sql_error_t *err)
{
    int cap = in ? (in->nrows > 0 ? in->nrows : 1) : 1;
    if (vec_alloc(x, cap, v, nl, err) < 0)
        return -1;
    return eval_rows(x, e, in, rows, n, *v, *nl, err);
}

static bool cmp_result(int op, int c)
{
    switch (op) {
    case BX_OP_EQ: return c == 0;
    case BX_OP_NE: return c != 0;
    case BX_OP_LT: return c < 0;
    case BX_OP_LE: return c <= 0;
    case BX_OP_GT: return c > 0;
    default: return c >= 0;
    }
}

static int eval_cmp(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                    datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a, *b;
    bool *an, *bn;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
        eval_child(x, e->args[1], in, rows, n, &b, &bn, err) < 0)
        return -1;
    type_oid_t t = e->optype;
    if (is_int_like(t)) {
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            on[r] = an[r] || bn[r];
            int64_t l = a[r].i64, rr = b[r].i64;
            out[r].i64 = cmp_result(e->op, l < rr ? -1 : l > rr);
        }
        return 0;
    }
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = an[r] || bn[r];
        out[r].i64 = on[r] ? 0 : cmp_result(e->op, type_cmp(t, a[r], b[r]));
    }
    return 0;
}

static int eval_arith(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                      datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a, *b = NULL;
    bool *an, *bn = NULL;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
        return -1;
    if (e->nargs > 1 && eval_child(x, e->args[1], in, rows, n, &b, &bn, err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = an[r] || (bn && bn[r]);
        if (on[r])
            continue;
        datum_t rhs = b ? b[r] : (datum_t){0};
        if (e->type == TYPE_NUMERIC) {      /* results are allocated: sql/numeric.h */
            if (numeric_arith(e->op, a[r], b ? rhs : a[r], x->arena, &out[r], err) < 0)
                return -1;
            continue;
        }
        if (type_arith(e->op, e->type, a[r], rhs, &out[r], err) < 0)
            return -1;
    }
    return 0;
}

static int eval_concat(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                       datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a, *b;
    bool *an, *bn;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
        eval_child(x, e->args[1], in, rows, n, &b, &bn, err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = an[r] || bn[r];
        if (on[r])
            continue;
        uint32_t la = a[r].s->len, lb = b[r].s->len;
        vstr_t *v = arena_alloc(x->arena, sizeof(vstr_t) + la + lb);
        if (!v)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        v->len = la + lb;
        memcpy(v->data, a[r].s->data, la);
        memcpy(v->data + la, b[r].s->data, lb);
        out[r].s = v;
    }
    return 0;
}

/* AND / OR with three-valued logic; later arms see only rows not yet decided. */
static int eval_andor(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                      datum_t *out, bool *on, sql_error_t *err)
{
    bool is_and = e->kind == BX_AND;
    int *live = rows_alloc(x, n, err);
    if (!live)
        return -1;
    memcpy(live, rows, (size_t)n * sizeof(int));
    int nlive = n;
    for (int i = 0; i < n; i++) {
        out[rows[i]].i64 = is_and;
        on[rows[i]] = false;
    }
    for (int k = 0; k < e->nargs && nlive > 0; k++) {
        datum_t *v;
        bool *vn;
        if (eval_child(x, e->args[k], in, live, nlive, &v, &vn, err) < 0)
            return -1;
        int m = 0;
        for (int i = 0; i < nlive; i++) {
            int r = live[i];
            if (vn[r]) {
                on[r] = true;
                live[m++] = r;
            } else if ((v[r].i64 != 0) != is_and) {
                /* decided: false for AND, true for OR */
                out[r].i64 = !is_and;
                on[r] = false;
            } else {
                live[m++] = r;
            }
        }
        nlive = m;
    }
    return 0;
}

static int eval_func(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                     datum_t *out, bool *on, sql_error_t *err)
{
    int na = e->nargs;
    if (na > LIMIT_FUNC_ARGS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many arguments");
    /* per-call argument vectors in the batch arena: up to LIMIT_FUNC_ARGS (variadic
     * functions such as jsonb_build_object take many), not on the fiber stack */
    size_t nslots = (size_t)(na ? na : 1);
    datum_t **av = arena_alloc(x->arena, nslots * sizeof *av);
    bool **anl = arena_alloc(x->arena, nslots * sizeof *anl);
    type_oid_t *types = arena_alloc(x->arena, nslots * sizeof *types);
    datum_t *args = arena_alloc(x->arena, nslots * sizeof *args);
    bool *nulls = arena_alloc(x->arena, nslots * sizeof *nulls);
    if (!av || !anl || !types || !args || !nulls)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int k = 0; k < na; k++) {
        if (eval_child(x, e->args[k], in, rows, n, &av[k], &anl[k], err) < 0)
            return -1;
        types[k] = e->args[k]->type;
    }
    builtin_ctx_t bc = *x->bctx;
    bc.arena = x->arena;
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        bool anynull = false;
        for (int k = 0; k < na; k++) {
            args[k] = av[k][r];
            nulls[k] = anl[k][r];
            anynull |= nulls[k];
        }
        if (e->fn->strict && anynull) {
            on[r] = true;
            continue;
        }
        on[r] = false;
        if (e->fn->fn(&bc, na, args, nulls, types, &out[r], &on[r], err) < 0)
            return -1;
    }
    return 0;
}

static int eval_case(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                     datum_t *out, bool *on, sql_error_t *err)
{
    int *live = rows_alloc(x, n, err), *hit = rows_alloc(x, n, err);
    if (!live || !hit)
        return -1;
    memcpy(live, rows, (size_t)n * sizeof(int));
    int nlive = n;
    int npairs = (e->nargs - (e->flag ? 1 : 0)) / 2;
    for (int k = 0; k < npairs && nlive > 0; k++) {
        datum_t *c;
        bool *cn;
        if (eval_child(x, e->args[2 * k], in, live, nlive, &c, &cn, err) < 0)
            return -1;
        int nh = 0, m = 0;
        for (int i = 0; i < nlive; i++) {
            int r = live[i];
            if (!cn[r] && c[r].i64)
                hit[nh++] = r;
            else
                live[m++] = r;
        }
        nlive = m;
        if (nh && eval_rows(x, e->args[2 * k + 1], in, hit, nh, out, on, err) < 0)
            return -1;
    }
    if (nlive) {
        if (e->flag)
            return eval_rows(x, e->args[e->nargs - 1], in, live, nlive, out, on, err);
        for (int i = 0; i < nlive; i++)
            on[live[i]] = true;
    }
    return 0;
}

static int eval_coalesce(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                         datum_t *out, bool *on, sql_error_t *err)
{
    int *live = rows_alloc(x, n, err);
    if (!live)
        return -1;
    memcpy(live, rows, (size_t)n * sizeof(int));
    int nlive = n;
    for (int i = 0; i < n; i++)
        on[rows[i]] = true;
    for (int k = 0; k < e->nargs && nlive > 0; k++) {
        if (eval_rows(x, e->args[k], in, live, nlive, out, on, err) < 0)
            return -1;
        int m = 0;
        for (int i = 0; i < nlive; i++)
            if (on[live[i]])
                live[m++] = live[i];
        nlive = m;
    }
    return 0;
}

static int eval_minmax(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                       datum_t *out, bool *on, sql_error_t *err)
{
    for (int i = 0; i < n; i++)
        on[rows[i]] = true;
    for (int k = 0; k < e->nargs; k++) {
        datum_t *v;
        bool *vn;
        if (eval_child(x, e->args[k], in, rows, n, &v, &vn, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            if (vn[r])
                continue;
            if (on[r]) {
                out[r] = v[r];
                on[r] = false;
                continue;
            }
            int c = expr_cmp_nulls(e->type, v[r], false, out[r], false, false);
            if (e->flag ? c > 0 : c < 0)
                out[r] = v[r];
        }
    }
    return 0;
}

static int eval_in(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                   datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a;
    bool *an;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
        return -1;
    bool *found = arena_alloc(x->arena, (size_t)(in ? in->nrows + 1 : 1));
    bool *sawnull = arena_alloc(x->arena, (size_t)(in ? in->nrows + 1 : 1));
    if (!found || !sawnull)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < n; i++)
        found[rows[i]] = sawnull[rows[i]] = false;
    for (int k = 1; k < e->nargs; k++) {
        datum_t *v;
        bool *vn;
        if (eval_child(x, e->args[k], in, rows, n, &v, &vn, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            if (an[r] || found[r])
                continue;
            if (vn[r])
                sawnull[r] = true;
            else if (expr_cmp_nulls(e->optype, a[r], false, v[r], false, false) == 0)
                found[r] = true;
        }
    }
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = an[r] || (!found[r] && sawnull[r]);
        out[r].i64 = found[r] != e->flag;
    }
    return 0;
}

int expr_like(const char *s, size_t slen, const char *p, size_t plen, int esc, bool ilike,
              bool *match, sql_error_t *err)
{
    /* Iterative matcher with backtracking to the last %: linear in practice. */
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen) {
            char pc = p[pi];
            if (esc >= 0 && pc == (char)esc) {
                if (pi + 1 >= plen) {
                    sql_error(err, "22025", "LIKE pattern must not end with escape character");
                    return -1;
                }
                char lit = p[pi + 1];
                char sc = s[si];
                if (ilike ? tolower((unsigned char)lit) == tolower((unsigned char)sc) : lit == sc) {
                    si++;
                    pi += 2;
                    continue;
                }
            } else if (pc == '%') {
                star_p = ++pi;
                star_s = si;
                continue;
            } else if (pc == '_') {
                /* one character: skip a whole UTF-8 sequence */
                si++;
                while (si < slen && ((unsigned char)s[si] & 0xC0) == 0x80)
                    si++;
                pi++;
                continue;
            } else {
                char sc = s[si];
                if (ilike ? tolower((unsigned char)pc) == tolower((unsigned char)sc) : pc == sc) {
                    si++;
                    pi++;
                    continue;
                }
            }
        }
        if (star_p == (size_t)-1) {
            *match = false;
            return 0;
        }
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '%')
        pi++;
    if (pi < plen && esc >= 0 && p[pi] == (char)esc && pi + 1 >= plen) {
        sql_error(err, "22025", "LIKE pattern must not end with escape character");
        return -1;
    }
    *match = pi == plen;
    return 0;
}

static int eval_like(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                     datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a, *p, *es = NULL;
    bool *an, *pn, *esn = NULL;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
        eval_child(x, e->args[1], in, rows, n, &p, &pn, err) < 0)
        return -1;
    if (e->nargs > 2 && eval_child(x, e->args[2], in, rows, n, &es, &esn, err) < 0)
        return -1;
    bool negate = e->op & 1, ilike = (e->op & 2) != 0;
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = an[r] || pn[r] || (esn && esn[r]);
        if (on[r])
            continue;
        int esc = '\\';
        if (es) {
            if (es[r].s->len == 0)
                esc = -1;
            else if (es[r].s->len == 1)
                esc = (unsigned char)es[r].s->data[0];
            else
                return sql_error(err, "22019", "invalid escape string");
        }
        bool m;
        if (expr_like(a[r].s->data, a[r].s->len, p[r].s->data, p[r].s->len, esc, ilike, &m, err) < 0)
            return -1;
        out[r].i64 = m != negate;
    }
    return 0;
}

/* POSIX regular expressions (~, ~*, !~, !~*). The pattern is compiled once per batch
 * while it stays the same (the usual case: a constant). */
static int eval_regex(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                      datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a, *p;
    bool *an, *pn;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
        eval_child(x, e->args[1], in, rows, n, &p, &pn, err) < 0)
        return -1;
    int flags = REG_EXTENDED | REG_NOSUB | ((e->op & 2) ? REG_ICASE : 0);
    regex_t re;
    const vstr_t *compiled = NULL;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int r = rows[i];
        on[r] = an[r] || pn[r];
        if (on[r])
            continue;
        const vstr_t *pv = p[r].s;
        if (!compiled || compiled->len != pv->len || memcmp(compiled->data, pv->data, pv->len) != 0) {
            if (compiled)
                regfree(&re);
            compiled = NULL;
            char *pat = arena_strndup(x->arena, pv->data, pv->len);
            if (!pat) {
                rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
                break;
            }
            if (regcomp(&re, pat, flags) != 0) {
                rc = sql_error(err, "2201B", "invalid regular expression: \"%s\"", pat);
                break;
            }
            compiled = pv;
        }
        char *sv = arena_strndup(x->arena, a[r].s->data, a[r].s->len);
        if (!sv) {
            rc = sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            break;
        }
        bool m = regexec(&re, sv, 0, NULL, 0) == 0;
        out[r].i64 = m != (e->op & 1);
    }
    if (compiled)
        regfree(&re);
    return rc;
}

static const char *regclass_name(const builtin_ctx_t *bc, uint32_t oid)
{
    if (bc && bc->catalog) {
        const cat_table_t *t = catalog_table_by_oid(bc->catalog, oid);
        if (t)
            return t->name;
    }
    for (int i = 0; i < pgcat_count(); i++)
        if (pgcat_at(i)->oid == oid)
            return pgcat_at(i)->name;
    return NULL;
}

static int eval_guc(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                    datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a[3];
    bool *an[3];
    for (int k = 0; k < e->nargs && k < 3; k++)
        if (eval_child(x, e->args[k], in, rows, n, &a[k], &an[k], err) < 0)
            return -1;
    if (!x->guc_get || !x->guc_set)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                         "settings functions are not supported in this context");
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = true;
        if (an[0][r] || (e->op == 1 && an[2][r]))
            continue;
        char name[LIMIT_SQL_IDENT_BYTES * 2 + 2];
        size_t nl = a[0][r].s->len < sizeof name - 1 ? a[0][r].s->len : sizeof name - 1;
        memcpy(name, a[0][r].s->data, nl);
        name[nl] = 0;
        const char *val = NULL;
        if (e->op == 0) {
            bool missing_ok = e->nargs > 1 && !an[1][r] && a[1][r].i64;
            if (x->guc_get(x->guc_arg, name, missing_ok, &val, err) < 0)
                return -1;
        } else {
            char *v = an[1][r] ? NULL : arena_strndup(x->arena, a[1][r].s->data, a[1][r].s->len);
            if (x->guc_set(x->guc_arg, name, v ? v : "", a[2][r].i64 != 0, err) < 0)
                return -1;
            if (x->guc_get(x->guc_arg, name, false, &val, err) < 0)
                return -1;
        }
        if (val) {
            if (!(out[r].s = vstr_new(x->arena, val, strlen(val))))
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            on[r] = false;
        }
    }
    return 0;
}

/* int2 -> int4/int8 and int4 -> int8: the value is unchanged. */
static bool int_widening(type_oid_t from, type_oid_t to)
{
    int wf = from == TYPE_INT2 ? 2 : from == TYPE_INT4 ? 4 : from == TYPE_INT8 ? 8 : 0;
    int wt = to == TYPE_INT2 ? 2 : to == TYPE_INT4 ? 4 : to == TYPE_INT8 ? 8 : 0;
    return wf && wt && wf <= wt;
}

static int eval_rows_inner(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows,
                           int n, datum_t *out, bool *on, sql_error_t *err)
{
    switch (e->kind) {
    case BX_CONST:
        for (int i = 0; i < n; i++) {
            out[rows[i]] = e->val;
            on[rows[i]] = e->isnull;
        }
        return 0;
    case BX_COL: {
        ASSERT(in && e->index < in->ncols);
        const datum_t *v = in->vals[e->index];
        const bool *vn = in->nulls[e->index];
        for (int i = 0; i < n; i++) {
            out[rows[i]] = v[rows[i]];
            on[rows[i]] = vn[rows[i]];
        }
        return 0;
    }
    case BX_PARAM: {
        ASSERT(e->index < x->nparams);
        for (int i = 0; i < n; i++) {
            out[rows[i]] = x->params[e->index];
            on[rows[i]] = x->param_nulls[e->index];
        }
        return 0;
    }
    case BX_SUBQ:
        if (e->flag) {
            if (!x->subq_run)
                return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                                 "correlated subqueries are not supported in this context");
            for (int i = 0; i < n; i++)
                if (x->subq_run(x->subq_arg, e->index, in, rows[i], x->arena, &out[rows[i]], &on[rows[i]], err) < 0)
                    return -1;
            return 0;
        }
        for (int i = 0; i < n; i++) {
            out[rows[i]] = x->subq_vals[e->index];
            on[rows[i]] = x->subq_nulls[e->index];
        }
        return 0;
    case BX_INSUBQ: {
        datum_t *a;
        bool *an;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
            return -1;
        const expr_set_t *set = &x->subq_sets[e->index];
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            if (set->n == 0 && !set->has_null) {
                out[r].i64 = 0;
                on[r] = false;
                continue;
            }
            if (an[r]) {
                on[r] = true;
                continue;
            }
            int64_t lo = 0, hi = set->n - 1;
            bool found = false;
            while (lo <= hi && !found) {
                int64_t mid = lo + (hi - lo) / 2;
                int c = expr_cmp_nulls(e->optype, set->vals[mid], false, a[r], false, false);
                if (c == 0)
                    found = true;
                else if (c < 0)
                    lo = mid + 1;
                else
                    hi = mid - 1;
            }
            out[r].i64 = found;
            on[r] = !found && set->has_null;
        }
        return 0;
    }
    case BX_OUTER:
        ASSERT(x->outer_vals);
        for (int i = 0; i < n; i++) {
            out[rows[i]] = x->outer_vals[e->index];
            on[rows[i]] = x->outer_nulls[e->index];
        }
        return 0;
    case BX_CMP:
        return eval_cmp(x, e, in, rows, n, out, on, err);
    case BX_ARITH:
        return eval_arith(x, e, in, rows, n, out, on, err);
    case BX_CONCAT:
        return eval_concat(x, e, in, rows, n, out, on, err);
    case BX_AND:
    case BX_OR:
        return eval_andor(x, e, in, rows, n, out, on, err);
    case BX_NOT:
        if (eval_rows(x, e->args[0], in, rows, n, out, on, err) < 0)
            return -1;
        for (int i = 0; i < n; i++)
            out[rows[i]].i64 = !out[rows[i]].i64;
        return 0;
    case BX_FUNC:
        return eval_func(x, e, in, rows, n, out, on, err);
    case BX_CAST: {
        datum_t *a;
        bool *an;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
            return -1;
        type_oid_t from = e->args[0]->type;
        if (int_widening(from, e->type)) {
            /* Integers of every width are held in i64: widening copies (sum(int4) and
             * friends put this cast on every row of a scan). */
            for (int i = 0; i < n; i++) {
                int r = rows[i];
                on[r] = an[r];
                out[r] = a[r];
            }
            return 0;
        }
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            on[r] = an[r];
            if (!an[r] && type_cast(from, e->type, e->typmod, e->op, a[r], x->arena, &out[r], err) < 0)
                return -1;
        }
        return 0;
    }
    case BX_NULLTEST: {
        datum_t *a;
        bool *an;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            out[rows[i]].i64 = an[rows[i]] != (e->op == 1);
            on[rows[i]] = false;
        }
        return 0;
    }
    case BX_BOOLTEST: {
        datum_t *a;
        bool *an;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            bool v = e->op == 1 ? (!an[r] && a[r].i64) : e->op == 2 ? (!an[r] && !a[r].i64) : an[r];
            out[r].i64 = v != e->flag;
            on[r] = false;
        }
        return 0;
    }
    case BX_CASE:
        return eval_case(x, e, in, rows, n, out, on, err);
    case BX_COALESCE:
        return eval_coalesce(x, e, in, rows, n, out, on, err);
    case BX_MINMAX:
        return eval_minmax(x, e, in, rows, n, out, on, err);
    case BX_NULLIF:
    case BX_DISTINCT: {
        datum_t *a, *b;
        bool *an, *bn;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
            eval_child(x, e->args[1], in, rows, n, &b, &bn, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            bool same = (an[r] && bn[r]) ||
                        (!an[r] && !bn[r] && expr_cmp_nulls(e->optype, a[r], false, b[r], false, false) == 0);
            if (e->kind == BX_NULLIF) {
                bool eq = !an[r] && !bn[r] && same;
                out[r] = a[r];
                on[r] = an[r] || eq;
            } else {
                out[r].i64 = e->flag ? same : !same;
                on[r] = false;
            }
        }
        return 0;
    }
    case BX_IN:
        return eval_in(x, e, in, rows, n, out, on, err);
    case BX_LIKE:
        return eval_like(x, e, in, rows, n, out, on, err);
    case BX_REGCLASS_NAME: {
        datum_t *a;
        bool *an;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            on[r] = an[r];
            if (an[r])
                continue;
            const char *name = regclass_name(x->bctx, (uint32_t)a[r].i64);
            char buf[24];
            if (!name) {
                snprintf(buf, sizeof buf, "%u", (unsigned)a[r].i64);
                name = buf;
            }
            if (!(out[r].s = vstr_new(x->arena, name, strlen(name))))
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        }
        return 0;
    }
    case BX_REGEX:
        return eval_regex(x, e, in, rows, n, out, on, err);
    case BX_GUC:
        return eval_guc(x, e, in, rows, n, out, on, err);
    case BX_ARRAY:
        return eval_array(x, e, in, rows, n, out, on, err);
    case BX_ANYARR:
        return eval_anyarr(x, e, in, rows, n, out, on, err);
    case BX_SUBSCRIPT: {
        datum_t *a, *ix;
        bool *an, *ixn;
        if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
            eval_child(x, e->args[1], in, rows, n, &ix, &ixn, err) < 0)
            return -1;
        for (int i = 0; i < n; i++) {
            int r = rows[i];
            on[r] = true;
            if (an[r] || ixn[r])
                continue;
            /* int2vector / oidvector subscripts start at 0, arrays at 1 */
            type_oid_t at = e->args[0]->type;
            int64_t k = ix[r].i64 - (at == TYPE_INT2VECTOR || at == TYPE_OIDVECTOR ? 0 : 1);
            type_array_iter_t it;
            type_array_iter(&it, a[r]);
            datum_t v;
            bool vn;
            for (int64_t j = 0; k >= 0 && type_array_next(&it, &v, &vn); j++)
                if (j == k) {
                    out[r] = v;
                    on[r] = vn;
                    break;
                }
        }
        return 0;
    }
    }
    return sql_error(err, SQLSTATE_INTERNAL_ERROR, "unknown expression kind %d", (int)e->kind);
}

/* ARRAY[...]: one array value per row (a NULL element stays a NULL element). */
static int eval_array(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                      datum_t *out, bool *on, sql_error_t *err)
{
    datum_t **v = arena_alloc(x->arena, (size_t)e->nargs * sizeof(datum_t *));
    bool **vn = arena_alloc(x->arena, (size_t)e->nargs * sizeof(bool *));
    datum_t *row = arena_alloc(x->arena, (size_t)e->nargs * sizeof(datum_t));
    bool *rown = arena_alloc(x->arena, (size_t)e->nargs);
    if (!v || !vn || !row || !rown)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int k = 0; k < e->nargs; k++)
        if (eval_child(x, e->args[k], in, rows, n, &v[k], &vn[k], err) < 0)
            return -1;
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        for (int k = 0; k < e->nargs; k++) {
            row[k] = v[k][r];
            rown[k] = vn[k][r];
        }
        on[r] = false;
        if (!(out[r].s = type_array_build(x->arena, e->optype, e->nargs, row, rown)))
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    }
    return 0;
}

/* x op ANY / ALL (array), with SQL's three-valued result: ANY is true if some
 * comparison is true, else NULL if x or some element is NULL (non-empty array),
 * else false; ALL mirrors it. An empty array gives false (ANY) / true (ALL). */
static int eval_anyarr(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                       datum_t *out, bool *on, sql_error_t *err)
{
    datum_t *a, *arr;
    bool *an, *arrn;
    if (eval_child(x, e->args[0], in, rows, n, &a, &an, err) < 0 ||
        eval_child(x, e->args[1], in, rows, n, &arr, &arrn, err) < 0)
        return -1;
    type_oid_t elem = type_array_elem(e->args[1]->type);
    bool all = e->flag;
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        on[r] = arrn[r];
        out[r].i64 = all;
        if (arrn[r])
            continue;
        type_array_iter_t it;
        type_array_iter(&it, arr[r]);
        datum_t v;
        bool vn, sawnull = false;
        while (type_array_next(&it, &v, &vn)) {
            if (vn || an[r]) {
                sawnull = true;
                continue;
            }
            if (elem != e->optype && type_cast(elem, e->optype, -1, CAST_IMPLICIT, v, x->arena, &v, err) < 0)
                return -1;
            bool m = cmp_result(e->op, type_cmp(e->optype, a[r], v));
            if (m != all) {          /* ANY found a true one / ALL found a false one */
                out[r].i64 = !all;
                sawnull = false;
                break;
            }
        }
        on[r] = sawnull;
    }
    return 0;
}

static int eval_rows(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *rows, int n,
                     datum_t *out, bool *on, sql_error_t *err)
{
    if (n == 0)
        return 0;
    if (++x->depth > LIMIT_SQL_EXPR_DEPTH) {
        x->depth--;
        return sql_error(err, "54001", "stack depth limit exceeded");
    }
    if (x->bctx && x->bctx->tz)   /* the session's zone for casts and text I/O (types_time.h) */
        types_tz_use(x->bctx->tz);
    int rc = eval_rows_inner(x, e, in, rows, n, out, on, err);
    if (x->bctx && x->bctx->tz)
        types_tz_use(x->bctx->tz);
    x->depth--;
    return rc;
}

int expr_eval(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, const int *sel, int nsel,
              datum_t *out, bool *outnull, sql_error_t *err)
{
    if (!sel) {
        nsel = in ? in->nrows : 1;
        int *all = rows_alloc(x, nsel, err);
        if (!all)
            return -1;
        for (int i = 0; i < nsel; i++)
            all[i] = i;
        sel = all;
    }
    return eval_rows(x, e, in, sel, nsel, out, outnull, err);
}

int expr_eval_const(expr_ctx_t *x, const bexpr_t *e, datum_t *out, bool *isnull, sql_error_t *err)
{
    int row0 = 0;
    return eval_rows(x, e, NULL, &row0, 1, out, isnull, err);
}

int expr_filter(expr_ctx_t *x, const bexpr_t *e, const batch_t *in, int *sel_out, sql_error_t *err)
{
    datum_t *v;
    bool *vn;
    if (vec_alloc(x, in->nrows, &v, &vn, err) < 0)
        return -1;
    if (expr_eval(x, e, in, NULL, 0, v, vn, err) < 0)
        return -1;
    int m = 0;
    for (int r = 0; r < in->nrows; r++)
        if (!vn[r] && v[r].i64)
            sel_out[m++] = r;
    return m;
}
