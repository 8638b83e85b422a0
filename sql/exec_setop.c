/*
 * exec_setop.c -- PL_REPEAT, the last step of INTERSECT ALL / EXCEPT ALL.
 *
 * The binder plans both as for the distinct forms (sql/README.md): the inputs are
 * tagged, appended and grouped by every column, with count(left) and count(right)
 * as the last two columns. PostgreSQL's SetOp then emits each group min(l, r) times
 * (INTERSECT ALL) or max(l - r, 0) times (EXCEPT ALL); this operator does that and
 * drops the two counts.
 */
#include <string.h>

#include "sql/exec_int.h"

typedef struct repeat_st {
    batch_t *in;         /* current child batch */
    int row;             /* its next row */
    int64_t left;        /* copies of that row still to emit */
} repeat_st_t;

static int64_t repeat_count(const plan_t *p, const batch_t *in, int r)
{
    int n = p->ncols;
    int64_t l = in->nulls[n][r] ? 0 : in->vals[n][r].i64;
    int64_t rr = in->nulls[n + 1][r] ? 0 : in->vals[n + 1][r].i64;
    int64_t k = p->repeat.except ? l - rr : (l < rr ? l : rr);
    return k > 0 ? k : 0;
}

static int repeat_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    repeat_st_t *s = op->st;
    const plan_t *p = op->plan;
    arena_reset(&op->scratch);
    batch_t *res = batch_new(&op->scratch, p->ncols, LIMIT_BATCH_ROWS);
    if (!res)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (;;) {
        while (s->in && s->row < s->in->nrows && res->nrows < res->cap) {
            if (s->left == 0) {
                s->left = repeat_count(p, s->in, s->row);
                if (s->left == 0) {
                    s->row++;
                    continue;
                }
            }
            int d = res->nrows++;
            for (int c = 0; c < p->ncols; c++) {
                res->vals[c][d] = s->in->vals[c][s->row];
                res->nulls[c][d] = s->in->nulls[c][s->row];
            }
            if (--s->left == 0)
                s->row++;
        }
        if (res->nrows == res->cap || (res->nrows && s->in && s->row < s->in->nrows)) {
            *out = res;
            return 1;
        }
        /* the current batch is used up: emit what we have before the child's next
         * call invalidates the values res points into */
        if (res->nrows) {
            s->in = NULL;
            *out = res;
            return 1;
        }
        batch_t *in;
        int rc = op->child->next(op->child, &in, err);
        if (rc <= 0)
            return rc;
        s->in = in;
        s->row = 0;
        s->left = 0;
        if (exec_check_cancel(op->ctx, err) < 0)
            return -1;
    }
}

int exec_repeat_open(exec_op_t *op, sql_error_t *err)
{
    repeat_st_t *s = arena_alloc(op->ctx->arena, sizeof *s);
    if (!s)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(s, 0, sizeof *s);
    op->st = s;
    op->next = repeat_next;
    return 0;
}
