/*
 * exec_window.c -- the coordinator's WindowAgg (PL_WINDOW; bound by bind_window.c).
 *
 * Model: the operator reads its whole input (the shards' rows, gathered and
 * aggregated below it) into a row store, the same bounded store the coordinator
 * sort uses (LIMIT_SQL_SORT_ROWS rows, 54000 beyond; the statement arena's budget,
 * 53200). For each window it sorts row numbers by partition keys then order keys
 * (stable, so peers keep their input order, as a PostgreSQL sort of the gathered
 * rows would not promise either), walks the partitions, finds each row's peer group
 * and frame, and stores every function's value per row. Rows then leave in the
 * order of the last window's sort, with the input columns followed by one column
 * per function.
 *
 * Frames (PostgreSQL's rules): ROWS counts rows, GROUPS counts peer groups, RANGE
 * compares the single order key with the offset (integer keys with a bigint
 * offset, float keys with a double one; a NULL key's frame is its NULL peers).
 * EXCLUDE CURRENT ROW / GROUP / TIES cut the frame into at most three pieces.
 * Aggregates whose frame starts at the partition's first row (and excludes
 * nothing) grow one running state as the frame end advances; other frames are
 * folded afresh for every row whose frame differs from the previous row's, which
 * is also what PostgreSQL does for aggregates without an inverse transition (float
 * sums come out bit for bit the same, folded in the same order).
 */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "sql/numeric.h"
#include "sql/exec_agg_ext.h"
#include "sql/exec_int.h"

typedef struct win_st {
    rowstore_t rs;
    bool filled;
    int64_t n;
    datum_t **res;            /* per function: value per input row */
    bool **resnull;
    int64_t *order;           /* the last window's order: emission order */
    int64_t pos;
} win_st_t;

/* One window's work while its functions are computed. */
typedef struct win_part {
    const plan_window_t *w;
    const rowstore_t *rs;
    const int64_t *idx;       /* sorted row numbers */
    int64_t ps, pe;           /* partition [ps, pe) in idx positions */
    int64_t *gstart, *gend;   /* per position: its peer group's [start, end) */
    int64_t *gnum;            /* per position: peer group number within the partition */
    int64_t *gfirst;          /* per group number: first position */
    int64_t ngroups;
    int64_t so, eo;           /* ROWS / GROUPS offsets */
    datum_t sod, eod;         /* RANGE offsets */
    int64_t nn_lo, nn_hi;     /* the non-NULL order keys of the partition (RANGE offsets) */
} win_part_t;

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

/* ---- sorting ---- */

typedef struct win_sort_ctx { const plan_window_t *w; const rowstore_t *rs; const type_oid_t *types; } win_sort_ctx_t;

static int win_cmp_part(const win_sort_ctx_t *c, int64_t x, int64_t y)
{
    for (int k = 0; k < c->w->npart; k++) {
        int col = c->w->part_cols[k];
        int r = expr_cmp_nulls(c->types[col], rs_val(c->rs, x, col), rs_null(c->rs, x, col), rs_val(c->rs, y, col),
                               rs_null(c->rs, y, col), false);
        if (r)
            return r;
    }
    return 0;
}

static int win_cmp_order(const win_sort_ctx_t *c, int64_t x, int64_t y)
{
    for (int k = 0; k < c->w->norder; k++) {
        const plan_sortkey_t *key = &c->w->order[k];
        int col = key->expr->index;
        int r = expr_cmp_nulls(c->types[col], rs_val(c->rs, x, col), rs_null(c->rs, x, col), rs_val(c->rs, y, col),
                               rs_null(c->rs, y, col), key->desc ? !key->nulls_first : key->nulls_first);
        if (r)
            return key->desc ? -r : r;
    }
    return 0;
}

static int win_sort_cmp(const void *a, const void *b, void *arg)
{
    const win_sort_ctx_t *c = arg;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int r = win_cmp_part(c, x, y);
    if (!r)
        r = win_cmp_order(c, x, y);
    return r ? r : (x < y ? -1 : x > y);
}

/* ---- frames ---- */

/* The RANGE offset bound search over float keys: the first position in [lo, hi)
 * whose key reaches the bound in sort direction (strict: passes it). */
static int64_t win_range_search(const win_part_t *p, int64_t lo, int64_t hi, double bound, bool strict)
{
    const plan_sortkey_t *key = &p->w->order[0];
    int col = key->expr->index;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        double d = rs_val(p->rs, p->idx[mid], col).f64;
        bool before = key->desc ? (strict ? d >= bound : d > bound) : (strict ? d <= bound : d < bound);
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Integer RANGE bound: the key plus a signed 128-bit delta. */
static int64_t win_range_search_int(const win_part_t *p, int64_t lo, int64_t hi, __int128 bound, bool strict)
{
    const plan_sortkey_t *key = &p->w->order[0];
    int col = key->expr->index;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        __int128 d = rs_val(p->rs, p->idx[mid], col).i64;
        bool before = key->desc ? (strict ? d >= bound : d > bound) : (strict ? d <= bound : d < bound);
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* One RANGE offset bound of the row at position i: start (first row in the frame)
 * or end (first row past it). */
static int64_t win_range_bound(const win_part_t *p, int64_t i, bool preceding, bool is_start)
{
    const plan_sortkey_t *key = &p->w->order[0];
    int col = key->expr->index;
    if (rs_null(p->rs, p->idx[i], col))
        return is_start ? p->gstart[i] : p->gend[i];
    type_oid_t t = p->rs->types[col];
    datum_t off = is_start ? p->sod : p->eod;
    /* moving "preceding" goes against the sort direction */
    bool minus = preceding != key->desc;
    if (t == TYPE_FLOAT4 || t == TYPE_FLOAT8) {
        double base = rs_val(p->rs, p->idx[i], col).f64;
        double bound = minus ? base - off.f64 : base + off.f64;
        return win_range_search(p, p->nn_lo, p->nn_hi, bound, !is_start);
    }
    __int128 base = rs_val(p->rs, p->idx[i], col).i64;
    __int128 bound = minus ? base - off.i64 : base + off.i64;
    return win_range_search_int(p, p->nn_lo, p->nn_hi, bound, !is_start);
}

/* The frame [*fs, *fe) of the row at position i (before exclusion). */
static void win_frame(const win_part_t *p, int64_t i, int64_t *fs, int64_t *fe)
{
    int fo = p->w->frame_options;
    int64_t ps = p->ps, pe = p->pe;
    bool rows = fo & AST_FRAME_ROWS, groups = fo & AST_FRAME_GROUPS;
    int64_t s, e;
    if (fo & AST_FRAME_START_UNBOUNDED_PRECEDING) {
        s = ps;
    } else if (fo & AST_FRAME_START_CURRENT_ROW) {
        s = rows ? i : p->gstart[i];
    } else if (fo & (AST_FRAME_START_OFFSET_PRECEDING | AST_FRAME_START_OFFSET_FOLLOWING)) {
        bool prec = fo & AST_FRAME_START_OFFSET_PRECEDING;
        if (rows) {
            __int128 x = (__int128)i + (prec ? -(__int128)p->so : (__int128)p->so);
            s = x < ps ? ps : x > pe ? pe : (int64_t)x;
        } else if (groups) {
            __int128 g = (__int128)p->gnum[i] + (prec ? -(__int128)p->so : (__int128)p->so);
            s = g < 0 ? ps : g >= p->ngroups ? pe : p->gfirst[(int64_t)g];
        } else {
            s = win_range_bound(p, i, prec, true);
        }
    } else {
        s = pe;      /* UNBOUNDED FOLLOWING start: refused by the grammar */
    }
    if (fo & AST_FRAME_END_UNBOUNDED_FOLLOWING) {
        e = pe;
    } else if (fo & AST_FRAME_END_CURRENT_ROW) {
        e = rows ? i + 1 : p->gend[i];
    } else if (fo & (AST_FRAME_END_OFFSET_PRECEDING | AST_FRAME_END_OFFSET_FOLLOWING)) {
        bool prec = fo & AST_FRAME_END_OFFSET_PRECEDING;
        if (rows) {
            __int128 x = (__int128)i + (prec ? -(__int128)p->eo : (__int128)p->eo) + 1;
            e = x < ps ? ps : x > pe ? pe : (int64_t)x;
        } else if (groups) {
            __int128 g = (__int128)p->gnum[i] + (prec ? -(__int128)p->eo : (__int128)p->eo);
            e = g < 0 ? ps : g >= p->ngroups ? pe : p->gend[p->gfirst[(int64_t)g]];
        } else {
            e = win_range_bound(p, i, prec, false);
        }
    } else {
        e = ps;
    }
    if (e < s)
        e = s;
    *fs = s;
    *fe = e;
}

/* The frame after EXCLUDE as up to three position ranges; returns their count. */
static int win_segments(const win_part_t *p, int64_t i, int64_t fs, int64_t fe, int64_t seg[3][2])
{
    int fo = p->w->frame_options;
    int64_t xs, xe;
    bool keep_self = false;
    if (fo & AST_FRAME_EXCLUDE_CURRENT_ROW) {
        xs = i;
        xe = i + 1;
    } else if (fo & (AST_FRAME_EXCLUDE_GROUP | AST_FRAME_EXCLUDE_TIES)) {
        xs = p->gstart[i];
        xe = p->gend[i];
        keep_self = fo & AST_FRAME_EXCLUDE_TIES;
    } else {
        seg[0][0] = fs;
        seg[0][1] = fe;
        return fe > fs;
    }
    int n = 0;
    int64_t a = fs, b = fe < xs ? fe : xs;
    if (b > a) {
        seg[n][0] = a;
        seg[n++][1] = b;
    }
    if (keep_self && i >= fs && i < fe) {
        seg[n][0] = i;
        seg[n++][1] = i + 1;
    }
    a = fs > xe ? fs : xe;
    if (fe > a) {
        seg[n][0] = a;
        seg[n++][1] = fe;
    }
    return n;
}

/* ---- aggregates over frames ---- */

typedef struct win_agg_state {
    __int128 isum;
    double fsum;
    int64_t count;
    datum_t val;
    bool has;
    size_t cap;               /* string_agg buffer capacity */
    numeric_acc_t nacc;       /* sum of numeric inputs */
    void *ext;                /* the aggregates of sql/exec_agg_ext.h: their state */
} win_agg_state_t;

static bool win_is_int(type_oid_t t) { return t == TYPE_INT8 || t == TYPE_INT4 || t == TYPE_INT2; }

static int win_agg_add(arena_t *a, const plan_winfunc_t *f, const rowstore_t *rs, int64_t row, win_agg_state_t *s,
                       sql_error_t *err)
{
    const plan_agg_t *pa = &f->agg;
    if (pa->fn == AGG_COUNT_STAR) {
        s->count++;
        return 0;
    }
    if (agg_ext_is(pa->fn)) {
        bool vn = rs_null(rs, row, f->argcols[0]);
        if (vn && !agg_ext_takes_nulls(pa->fn))
            return 0;
        bool two = f->nargs > 1;
        datum_t v2 = {0};
        bool v2n = true;
        if (two) {
            v2 = rs_val(rs, row, f->argcols[1]);
            v2n = rs_null(rs, row, f->argcols[1]);
        }
        s->has = true;
        /* the binder dropped the argument expressions (argcols): the object
         * aggregates read the value's type from arg2 */
        plan_agg_t pa2 = *pa;
        bexpr_t a2 = {.kind = BX_COL, .type = two ? rs->types[f->argcols[1]] : TYPE_INVALID, .typmod = -1};
        pa2.arg2 = two ? &a2 : NULL;
        return agg_ext_add(a, &pa2, &s->ext, rs_val(rs, row, f->argcols[0]), vn, v2, v2n, err);
    }
    if (rs_null(rs, row, f->argcols[0]))
        return 0;
    datum_t v = rs_val(rs, row, f->argcols[0]);
    switch (pa->fn) {
    case AGG_COUNT:
        s->count++;
        break;
    case AGG_SUM:
    case AGG_AVG:
        if (win_is_int(pa->argtype))
            s->isum += v.i64;
        else if (pa->argtype == TYPE_NUMERIC) {
            if (numeric_acc_add(&s->nacc, v, a, err) < 0)
                return -1;
        } else
            s->fsum += v.f64;
        s->count++;
        break;
    case AGG_MIN:
    case AGG_MAX: {
        int c = s->has ? expr_cmp_nulls(pa->argtype, v, false, s->val, false, false) : 0;
        if (!s->has || (pa->fn == AGG_MIN ? c < 0 : c > 0))
            s->val = v;       /* rows stay in the row store: no copy */
        break;
    }
    case AGG_STRING_AGG: {
        bool sepnull = rs_null(rs, row, f->argcols[1]);
        const vstr_t *sep = sepnull ? NULL : rs_val(rs, row, f->argcols[1]).s;
        size_t seplen = s->has && sep ? sep->len : 0;
        size_t len = s->has ? s->val.s->len : 0, need = len + seplen + v.s->len;
        if (need > LIMIT_TEXT_VALUE_BYTES)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "string_agg result exceeds %u bytes",
                             (unsigned)LIMIT_TEXT_VALUE_BYTES);
        if (!s->has || need > s->cap) {
            size_t cap = need < 64 ? 64 : need * 2;
            vstr_t *nb = arena_alloc(a, sizeof(vstr_t) + cap);
            if (!nb)
                return oom(err);
            if (len)
                memcpy(nb->data, s->val.s->data, len);
            nb->len = (uint32_t)len;
            s->val.s = nb;
            s->cap = cap;
        }
        vstr_t *b = (vstr_t *)s->val.s;
        if (seplen)
            memcpy(b->data + len, sep->data, seplen);
        memcpy(b->data + len + seplen, v.s->data, v.s->len);
        b->len = (uint32_t)need;
        break;
    }
    default:
        break;
    }
    s->has = true;
    return 0;
}

static int win_agg_final(arena_t *a, const plan_winfunc_t *f, const win_agg_state_t *s, datum_t *out, bool *isnull,
                         sql_error_t *err)
{
    const plan_agg_t *pa = &f->agg;
    *isnull = false;
    if (agg_ext_is(pa->fn))
        return agg_ext_final(a, pa, s->ext, out, isnull, err);
    switch (pa->fn) {
    case AGG_COUNT_STAR:
    case AGG_COUNT:
        out->i64 = s->count;
        return 0;
    case AGG_SUM:
        if (!s->has) {
            *isnull = true;
            return 0;
        }
        if (pa->rettype == TYPE_INT8) {
            if (s->isum > INT64_MAX || s->isum < INT64_MIN)
                return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "bigint out of range");
            out->i64 = (int64_t)s->isum;
        } else if (pa->rettype == TYPE_NUMERIC) {
            return win_is_int(pa->argtype) ? numeric_from_i128(s->isum, a, out, err)
                                           : numeric_acc_result((numeric_acc_t *)&s->nacc, a, out, err);
        } else {
            out->f64 = win_is_int(pa->argtype) ? (double)s->isum : s->fsum;
        }
        return 0;
    case AGG_AVG:
        if (!s->has || s->count == 0) {
            *isnull = true;
            return 0;
        }
        if (pa->rettype == TYPE_NUMERIC) {
            datum_t sum;
            int rc = win_is_int(pa->argtype) ? numeric_from_i128(s->isum, a, &sum, err)
                                             : numeric_acc_result((numeric_acc_t *)&s->nacc, a, &sum, err);
            return rc < 0 ? -1 : numeric_div_count(sum, s->count, a, out, err);
        }
        out->f64 = (win_is_int(pa->argtype) ? (double)s->isum : s->fsum) / (double)s->count;
        return 0;
    case AGG_STRING_AGG:
        *isnull = !s->has;
        if (s->has) {
            /* the running buffer keeps growing: each row gets its own copy */
            vstr_t *c = arena_alloc(a, sizeof(vstr_t) + s->val.s->len);
            if (!c)
                return oom(err);
            c->len = s->val.s->len;
            memcpy(c->data, s->val.s->data, c->len);
            out->s = c;
        }
        return 0;
    default:
        *isnull = !s->has;
        *out = s->val;
        return 0;
    }
}

/* ---- the functions ---- */

static int win_int_arg(const rowstore_t *rs, int64_t row, int col, int64_t *v)
{
    if (rs_null(rs, row, col))
        return 0;
    *v = rs_val(rs, row, col).i64;
    return 1;
}

/* Values of function f for the partition p describes. */
static int win_compute(exec_op_t *op, const win_part_t *p, const plan_winfunc_t *f, datum_t *res, bool *resnull,
                       sql_error_t *err)
{
    const rowstore_t *rs = p->rs;
    arena_t *a = op->ctx->arena;
    int64_t ps = p->ps, pe = p->pe, n = pe - ps;
    switch (f->fn) {
    case WF_ROW_NUMBER:
    case WF_RANK:
    case WF_DENSE_RANK:
    case WF_PERCENT_RANK:
    case WF_CUME_DIST:
        for (int64_t i = ps; i < pe; i++) {
            int64_t r = p->idx[i];
            resnull[r] = false;
            if (f->fn == WF_ROW_NUMBER)
                res[r].i64 = i - ps + 1;
            else if (f->fn == WF_RANK)
                res[r].i64 = p->gstart[i] - ps + 1;
            else if (f->fn == WF_DENSE_RANK)
                res[r].i64 = p->gnum[i] + 1;
            else if (f->fn == WF_PERCENT_RANK)
                res[r].f64 = n > 1 ? (double)(p->gstart[i] - ps) / (double)(n - 1) : 0.0;
            else
                res[r].f64 = (double)(p->gend[i] - ps) / (double)n;
        }
        return 0;
    case WF_NTILE: {
        int64_t buckets;
        bool has = win_int_arg(rs, p->idx[ps], f->argcols[0], &buckets);
        if (has && buckets <= 0)
            return sql_error(err, "22014", "argument of ntile must be greater than zero");
        int64_t per = has ? n / buckets : 0, rem = has ? n % buckets : 0;
        for (int64_t i = ps; i < pe; i++) {
            int64_t r = p->idx[i], k = i - ps;
            resnull[r] = !has;
            if (!has)
                continue;
            /* the first `rem` buckets hold per + 1 rows */
            if (k < rem * (per + 1))
                res[r].i64 = k / (per + 1) + 1;
            else
                res[r].i64 = (k - rem * (per + 1)) / per + rem + 1;
        }
        return 0;
    }
    case WF_LAG:
    case WF_LEAD:
        for (int64_t i = ps; i < pe; i++) {
            int64_t r = p->idx[i], off = 1;
            if (f->nargs >= 2 && !win_int_arg(rs, r, f->argcols[1], &off)) {
                resnull[r] = true;
                continue;
            }
            __int128 t = (__int128)i + (f->fn == WF_LAG ? -(__int128)off : (__int128)off);
            if (t >= ps && t < pe) {
                int64_t src = p->idx[(int64_t)t];
                res[r] = rs_val(rs, src, f->argcols[0]);
                resnull[r] = rs_null(rs, src, f->argcols[0]);
            } else if (f->nargs == 3) {
                res[r] = rs_val(rs, r, f->argcols[2]);
                resnull[r] = rs_null(rs, r, f->argcols[2]);
            } else {
                resnull[r] = true;
            }
        }
        return 0;
    case WF_FIRST_VALUE:
    case WF_LAST_VALUE:
    case WF_NTH_VALUE:
        for (int64_t i = ps; i < pe; i++) {
            int64_t r = p->idx[i], fs, fe, seg[3][2], nth = 1;
            resnull[r] = true;
            if (f->fn == WF_NTH_VALUE) {
                if (!win_int_arg(rs, r, f->argcols[1], &nth))
                    continue;
                if (nth <= 0)
                    return sql_error(err, "22016", "argument of nth_value must be greater than zero");
            }
            win_frame(p, i, &fs, &fe);
            int ns = win_segments(p, i, fs, fe, seg);
            int64_t pick = -1;
            if (ns && f->fn == WF_FIRST_VALUE) {
                pick = seg[0][0];
            } else if (ns && f->fn == WF_LAST_VALUE) {
                pick = seg[ns - 1][1] - 1;
            } else {
                for (int s = 0; s < ns && pick < 0; s++) {
                    int64_t len = seg[s][1] - seg[s][0];
                    if (nth <= len)
                        pick = seg[s][0] + nth - 1;
                    else
                        nth -= len;
                }
            }
            if (pick >= 0) {
                res[r] = rs_val(rs, p->idx[pick], f->argcols[0]);
                resnull[r] = rs_null(rs, p->idx[pick], f->argcols[0]);
            }
        }
        return 0;
    case WF_AGG:
        break;
    }
    int fo = p->w->frame_options;
    bool running = (fo & AST_FRAME_START_UNBOUNDED_PRECEDING) &&
                   !(fo & (AST_FRAME_EXCLUDE_CURRENT_ROW | AST_FRAME_EXCLUDE_GROUP | AST_FRAME_EXCLUDE_TIES));
    win_agg_state_t st;
    memset(&st, 0, sizeof st);
    int64_t upto = ps, prev_fs = -1, prev_fe = -1, prev_r = -1;
    for (int64_t i = ps; i < pe; i++) {
        int64_t r = p->idx[i], fs, fe;
        win_frame(p, i, &fs, &fe);
        if (running) {
            for (; upto < fe; upto++)
                if (win_agg_add(a, f, rs, p->idx[upto], &st, err) < 0)
                    return -1;
        } else if (prev_r >= 0 && fs == prev_fs && fe == prev_fe &&
                   !(fo & (AST_FRAME_EXCLUDE_CURRENT_ROW | AST_FRAME_EXCLUDE_GROUP | AST_FRAME_EXCLUDE_TIES))) {
            res[r] = res[prev_r];
            resnull[r] = resnull[prev_r];
            continue;
        } else {
            int64_t seg[3][2];
            int ns = win_segments(p, i, fs, fe, seg);
            memset(&st, 0, sizeof st);
            for (int s = 0; s < ns; s++)
                for (int64_t k = seg[s][0]; k < seg[s][1]; k++)
                    if (win_agg_add(a, f, rs, p->idx[k], &st, err) < 0)
                        return -1;
            if (((i - ps) & 1023) == 1023 && exec_check_cancel(op->ctx, err) < 0)
                return -1;
        }
        if (win_agg_final(a, f, &st, &res[r], &resnull[r], err) < 0)
            return -1;
        prev_fs = fs;
        prev_fe = fe;
        prev_r = r;
    }
    return 0;
}

/* Evaluates a frame offset: bigint for ROWS / GROUPS, the RANGE key's kind. */
static int win_offset(exec_op_t *op, const plan_window_t *w, const bexpr_t *e, bool start, datum_t *out,
                      sql_error_t *err)
{
    expr_ctx_t x = exec_expr_ctx(op);
    bool isnull;
    if (expr_eval_const(&x, e, out, &isnull, err) < 0)
        return -1;
    if (isnull)
        return sql_error(err, "22004", "frame %s offset must not be null", start ? "starting" : "ending");
    bool neg = e->type == TYPE_FLOAT8 ? out->f64 < 0 : out->i64 < 0;
    if (neg) {
        if (w->frame_options & AST_FRAME_RANGE)
            return sql_error(err, "22013", "invalid preceding or following size in window function");
        return sql_error(err, "22013", "frame %s offset must not be negative", start ? "starting" : "ending");
    }
    return 0;
}

/* Computes every function of window wi over the row store; the sorted row
 * numbers stay in *idx_out. */
static int win_window(exec_op_t *op, win_st_t *s, int wi, int64_t **idx_out, sql_error_t *err)
{
    const plan_t *pl = op->plan;
    const plan_window_t *w = &pl->window.wins[wi];
    arena_t *a = op->ctx->arena;
    int64_t n = s->n;
    int64_t *idx = arena_alloc(a, (size_t)(n + 1) * sizeof(int64_t));
    int64_t *gstart = arena_alloc(a, (size_t)(n + 1) * sizeof(int64_t));
    int64_t *gend = arena_alloc(a, (size_t)(n + 1) * sizeof(int64_t));
    int64_t *gnum = arena_alloc(a, (size_t)(n + 1) * sizeof(int64_t));
    int64_t *gfirst = arena_alloc(a, (size_t)(n + 1) * sizeof(int64_t));
    if (!idx || !gstart || !gend || !gnum || !gfirst)
        return oom(err);
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    win_sort_ctx_t sc = {w, &s->rs, s->rs.types};
    qsort_r(idx, (size_t)n, sizeof(int64_t), win_sort_cmp, &sc);
    if (exec_check_cancel(op->ctx, err) < 0)
        return -1;
    win_part_t p = {.w = w, .rs = &s->rs, .idx = idx, .gstart = gstart, .gend = gend, .gnum = gnum,
                    .gfirst = gfirst};
    bool range = w->frame_options & AST_FRAME_RANGE;
    if (w->start_offset) {
        if (win_offset(op, w, w->start_offset, true, &p.sod, err) < 0)
            return -1;
        p.so = p.sod.i64;
    }
    if (w->end_offset) {
        if (win_offset(op, w, w->end_offset, false, &p.eod, err) < 0)
            return -1;
        p.eo = p.eod.i64;
    }
    for (int64_t ps = 0; ps < n;) {
        int64_t pe = ps + 1;
        while (pe < n && win_cmp_part(&sc, idx[ps], idx[pe]) == 0)
            pe++;
        p.ps = ps;
        p.pe = pe;
        /* peer groups: rows equal in every order key (all rows without ORDER BY) */
        int64_t g = 0;
        for (int64_t i = ps; i < pe;) {
            int64_t j = i + 1;
            while (j < pe && win_cmp_order(&sc, idx[i], idx[j]) == 0)
                j++;
            gfirst[g] = i;
            for (int64_t k = i; k < j; k++) {
                gstart[k] = i;
                gend[k] = j;
                gnum[k] = g;
            }
            g++;
            i = j;
        }
        p.ngroups = g;
        if (range && w->norder == 1) {
            int col = w->order[0].expr->index;
            p.nn_lo = ps;
            p.nn_hi = pe;
            while (p.nn_lo < pe && rs_null(&s->rs, idx[p.nn_lo], col))
                p.nn_lo++;
            while (p.nn_hi > p.nn_lo && rs_null(&s->rs, idx[p.nn_hi - 1], col))
                p.nn_hi--;
        }
        for (int f = 0; f < pl->window.nfuncs; f++)
            if (pl->window.funcs[f].win == wi &&
                win_compute(op, &p, &pl->window.funcs[f], s->res[f], s->resnull[f], err) < 0)
                return -1;
        if (exec_check_cancel(op->ctx, err) < 0)
            return -1;
        ps = pe;
    }
    *idx_out = idx;
    return 0;
}

static int win_fill(exec_op_t *op, win_st_t *s, sql_error_t *err)
{
    const plan_t *pl = op->plan;
    rowstore_init(&s->rs, op->ctx->arena, op->child->plan->ncols, op->child->plan->types);
    for (;;) {
        batch_t *in;
        int rc = op->child->next(op->child, &in, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        if (rowstore_add(&s->rs, in, NULL, 0, err) < 0)
            return -1;
        if (exec_check_cancel(op->ctx, err) < 0)
            return -1;
    }
    s->n = s->rs.nrows;
    int nf = pl->window.nfuncs;
    s->res = arena_alloc(op->ctx->arena, (size_t)nf * sizeof(datum_t *));
    s->resnull = arena_alloc(op->ctx->arena, (size_t)nf * sizeof(bool *));
    if (!s->res || !s->resnull)
        return oom(err);
    for (int f = 0; f < nf; f++) {
        s->res[f] = arena_alloc(op->ctx->arena, (size_t)(s->n + 1) * sizeof(datum_t));
        s->resnull[f] = arena_alloc(op->ctx->arena, (size_t)(s->n + 1));
        if (!s->res[f] || !s->resnull[f])
            return oom(err);
    }
    for (int w = 0; w < pl->window.nwins; w++)
        if (win_window(op, s, w, &s->order, err) < 0)
            return -1;
    s->filled = true;
    return 0;
}

static int win_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    win_st_t *s = op->st;
    const plan_t *p = op->plan;
    if (!s->filled && win_fill(op, s, err) < 0)
        return -1;
    if (s->pos >= s->n)
        return 0;
    arena_reset(&op->scratch);
    batch_t *b = batch_new(&op->scratch, p->ncols, LIMIT_BATCH_ROWS);
    if (!b)
        return oom(err);
    int nin = s->rs.ncols;
    while (b->nrows < b->cap && s->pos < s->n) {
        int64_t r = s->order[s->pos++];
        int d = b->nrows++;
        for (int c = 0; c < nin; c++) {
            b->vals[c][d] = rs_val(&s->rs, r, c);
            b->nulls[c][d] = rs_null(&s->rs, r, c);
        }
        for (int f = 0; f < p->window.nfuncs; f++) {
            b->vals[nin + f][d] = s->res[f][r];
            b->nulls[nin + f][d] = s->resnull[f][r];
        }
    }
    *out = b;
    return 1;
}

int exec_window_open(exec_op_t *op, sql_error_t *err)
{
    ASSERT(op->plan->kind == PL_WINDOW && op->plan->window.nwins > 0);
    win_st_t *s = arena_alloc(op->ctx->arena, sizeof *s);
    if (!s)
        return oom(err);
    memset(s, 0, sizeof *s);
    op->st = s;
    op->next = win_next;
    return 0;
}
