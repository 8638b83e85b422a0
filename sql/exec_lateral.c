/*
 * exec_lateral.c -- PL_LATERAL: LATERAL subqueries and functions in FROM, a nested
 * loop that re-runs its right plan for every left row.
 *
 * The right plan was bound with the left row as its enclosing row (BX_OUTER, as a
 * correlated subquery is), so each left row gets a fresh operator tree built under
 * a copy of the context whose outer_vals point at that row; its state lives in a
 * per-row arena reset before the next left row. Output rows are left ++ right,
 * filtered by join.quals; join.left keeps a left row without partners with NULLs
 * on the right (LEFT JOIN LATERAL ... ON ...). Right-side strings are copied into
 * the output batch's scratch, left-side values point into the left child's batch,
 * which stays valid until this operator asks it for the next one.
 */
#include <string.h>

#include "core/limits.h"
#include "sql/exec_int.h"

typedef struct lateral_st {
    batch_t *left;           /* current left batch */
    int lrow;
    bool left_done;
    exec_ctx_t rctx;         /* context of the right tree: outer row = left row */
    datum_t *ov;
    bool *on;
    arena_t tmp;             /* the right tree of the current left row */
    exec_op_t *right;        /* open for lrow, or NULL */
    batch_t *rb;             /* pending right batch and its next row */
    int rbpos;
    bool matched;
} lateral_st_t;

static void lateral_close_right(lateral_st_t *s)
{
    if (s->right)
        exec_close(s->right);
    s->right = NULL;
    s->rb = NULL;
    arena_reset(&s->tmp);
}

static void lateral_close(exec_op_t *op)
{
    lateral_st_t *s = op->st;
    if (!s)
        return;
    lateral_close_right(s);
    arena_destroy(&s->tmp);
}

static int lateral_open_right(exec_op_t *op, lateral_st_t *s, sql_error_t *err)
{
    int lcols = op->plan->child->ncols;
    for (int c = 0; c < lcols; c++) {
        s->ov[c] = s->left->vals[c][s->lrow];
        s->on[c] = s->left->nulls[c][s->lrow];
    }
    s->rctx = *op->ctx;
    s->rctx.arena = &s->tmp;
    s->rctx.ex.arena = &s->tmp;
    s->rctx.ex.outer_vals = s->ov;
    s->rctx.ex.outer_nulls = s->on;
    s->matched = false;
    s->right = exec_build(&s->rctx, op->plan->right, err);
    return s->right ? 0 : -1;
}

/* Appends left row lrow ++ right rows [rbpos, rbpos + m) of rb that pass the quals. */
static int lateral_emit(exec_op_t *op, lateral_st_t *s, batch_t *res, int m, sql_error_t *err)
{
    const plan_t *p = op->plan;
    int lcols = p->child->ncols, rcols = p->right->ncols;
    batch_t *cand = batch_new(&op->scratch, lcols + rcols, m);
    int *sel = arena_alloc(&op->scratch, (size_t)(m + 1) * sizeof(int));
    if (!cand || !sel)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < m; i++) {
        int r = s->rbpos + i;
        for (int c = 0; c < lcols; c++) {
            cand->vals[c][i] = s->left->vals[c][s->lrow];
            cand->nulls[c][i] = s->left->nulls[c][s->lrow];
        }
        for (int c = 0; c < rcols; c++) {
            cand->vals[lcols + c][i] = s->rb->vals[c][r];
            cand->nulls[lcols + c][i] = s->rb->nulls[c][r];
            if (!cand->nulls[lcols + c][i] &&
                exec_copy_datum(&op->scratch, p->right->types[c], &cand->vals[lcols + c][i]) < 0)
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
        }
    }
    cand->nrows = m;
    int n = m;
    if (p->join.quals) {
        expr_ctx_t x = exec_expr_ctx(op);
        if ((n = expr_filter(&x, p->join.quals, cand, sel, err)) < 0)
            return -1;
    } else {
        for (int i = 0; i < m; i++)
            sel[i] = i;
    }
    for (int i = 0; i < n; i++)
        batch_copy_row(res, cand, sel[i]);
    s->matched |= n > 0;
    s->rbpos += m;
    return 0;
}

static int lateral_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    lateral_st_t *s = op->st;
    const plan_t *p = op->plan;
    int lcols = p->child->ncols, rcols = p->right->ncols;
    arena_reset(&op->scratch);
    batch_t *res = batch_new(&op->scratch, lcols + rcols, LIMIT_BATCH_ROWS);
    if (!res)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    for (;;) {
        if (res->nrows == res->cap) {
            *out = res;
            return 1;
        }
        if (!s->left || s->lrow >= s->left->nrows) {
            if (res->nrows) {          /* res points into the current left batch */
                *out = res;
                return 1;
            }
            if (s->left_done)
                return 0;
            batch_t *in;
            int rc = op->child->next(op->child, &in, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                s->left_done = true;
                s->left = NULL;
                return 0;
            }
            s->left = in;
            s->lrow = 0;
            continue;
        }
        if (!s->right) {
            if (exec_check_cancel(op->ctx, err) < 0 || lateral_open_right(op, s, err) < 0)
                return -1;
        }
        if (!s->rb || s->rbpos >= s->rb->nrows) {
            batch_t *rb;
            int rc = s->right->next(s->right, &rb, err);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                s->rb = rb;
                s->rbpos = 0;
                continue;
            }
            if (p->join.left && !s->matched) {
                int d = res->nrows++;
                for (int c = 0; c < lcols; c++) {
                    res->vals[c][d] = s->left->vals[c][s->lrow];
                    res->nulls[c][d] = s->left->nulls[c][s->lrow];
                }
                for (int c = 0; c < rcols; c++)
                    res->nulls[lcols + c][d] = true;
            }
            lateral_close_right(s);
            s->lrow++;
            continue;
        }
        int m = s->rb->nrows - s->rbpos;
        if (m > res->cap - res->nrows)
            m = res->cap - res->nrows;
        if (lateral_emit(op, s, res, m, err) < 0)
            return -1;
    }
}

int exec_lateral_open(exec_op_t *op, sql_error_t *err)
{
    lateral_st_t *s = arena_alloc(op->ctx->arena, sizeof *s);
    int lcols = op->plan->child->ncols;
    if (!s)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    memset(s, 0, sizeof *s);
    s->ov = arena_alloc(op->ctx->arena, (size_t)(lcols + 1) * sizeof(datum_t));
    s->on = arena_alloc(op->ctx->arena, (size_t)lcols + 1);
    if (!s->ov || !s->on)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    arena_init(&s->tmp, LIMIT_SQL_STMT_ARENA_BYTES);
    op->st = s;
    op->next = lateral_next;
    op->close = lateral_close;
    return 0;
}
