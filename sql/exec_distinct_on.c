/*
 * exec_distinct_on.c -- SELECT DISTINCT ON (exprs): the first row of every group of
 * equal key values, over input already sorted with the keys leading (PostgreSQL's
 * Unique node; the binder puts a SORT below, see plan.h `distinct`).
 *
 * Keys compare as GROUP BY does: type_cmp equality, NULLs equal to each other. Each
 * kept row is copied into a row store, so the comparison with the last kept row
 * survives the child's next batch (a batch is only valid until then).
 */
#include <string.h>

#include "sql/exec_int.h"

typedef struct don_st {
    rowstore_t kept;     /* every row emitted so far; the last one is the current group */
} don_st_t;

/* Whether row r of b has the same keys as the last kept row (or row `prev` of b). */
static bool don_same(const plan_t *p, const don_st_t *s, const batch_t *b, int r, int prev)
{
    for (int k = 0; k < p->distinct.nkeys; k++) {
        int c = p->distinct.keycols[k];
        bool n1 = b->nulls[c][r], n2;
        datum_t v2;
        if (prev >= 0) {
            n2 = b->nulls[c][prev];
            v2 = b->vals[c][prev];
        } else {
            n2 = rs_null(&s->kept, s->kept.nrows - 1, c);
            v2 = rs_val(&s->kept, s->kept.nrows - 1, c);
        }
        if (n1 != n2)
            return false;
        if (!n1 && type_cmp(p->types[c], b->vals[c][r], v2) != 0)
            return false;
    }
    return true;
}

static int don_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    don_st_t *s = op->st;
    const plan_t *p = op->plan;
    for (;;) {
        batch_t *in;
        int rc = op->child->next(op->child, &in, err);
        if (rc <= 0)
            return rc;
        arena_reset(&op->scratch);
        int *sel = arena_alloc(&op->scratch, (size_t)(in->nrows + 1) * sizeof(int));
        if (!sel)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        int n = 0;
        for (int r = 0; r < in->nrows; r++) {
            bool first = n == 0 && s->kept.nrows == 0;
            if (first || !don_same(p, s, in, r, n ? sel[n - 1] : -1))
                sel[n++] = r;
        }
        if (!n)
            continue;
        if (rowstore_add(&s->kept, in, sel, n, err) < 0)
            return -1;
        batch_t *res = batch_new(&op->scratch, p->ncols, n);
        if (!res)
            return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        for (int i = 0; i < n; i++)
            batch_copy_row(res, in, sel[i]);
        *out = res;
        return 1;
    }
}

int exec_distinct_on_open(exec_op_t *op, sql_error_t *err)
{
    don_st_t *s = arena_alloc(op->ctx->arena, sizeof *s);
    if (!s)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(s, 0, sizeof *s);
    rowstore_init(&s->kept, op->ctx->arena, op->plan->ncols, op->plan->types);
    op->st = s;
    op->next = don_next;
    return 0;
}
