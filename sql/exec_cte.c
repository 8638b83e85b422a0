/*
 * exec_cte.c -- WITH RECURSIVE on the coordinator: Recursive Union (PL_RECURSIVE)
 * and WorkTable Scan (PL_WORKTABLE).
 *
 * PostgreSQL's working-table evaluation: the non-recursive term's rows are
 * emitted and become the working table; the recursive term then runs over the
 * working table, its rows are emitted and become the next working table, until a
 * step yields no rows. With UNION (not ALL) a row equal to one emitted before
 * (NULLs equal) is dropped, in the first term too, so a cyclic graph walk ends.
 * Rows stream: each batch is handed up as soon as it is filtered, so a LIMIT
 * above an endless UNION ALL stops the recursion.
 *
 * The recursive term's operator tree is rebuilt for every step (its scans start
 * afresh); its WorkTable Scan finds the current working table through
 * exec_ctx.worktables. Bounds: LIMIT_SQL_RECURSIVE_STEPS iterations (54000
 * beyond), a working table of LIMIT_SQL_SORT_ROWS rows and the arena budget
 * (LIMIT_SQL_STMT_ARENA_BYTES per working table, 53200), the UNION's set of rows
 * seen in the statement arena (its budget), and cancel / statement_timeout checked
 * per batch.
 */
#include <string.h>

#include "core/assert.h"
#include "sql/exec_int.h"

typedef struct exec_worktable {
    struct exec_worktable *next;
    const plan_t *rec;
    const rowstore_t *rows;      /* the current working table */
} exec_worktable_t;

typedef struct rec_st {
    exec_worktable_t wt;
    arena_t arenas[2];           /* the working table being read, the next one */
    rowstore_t work[2];
    int cur;                     /* work[cur] is read by the recursive term */
    bool in_recursive;           /* the non-recursive term is done */
    uint64_t steps;
    /* UNION: every row emitted, for duplicate removal */
    rowstore_t seen;
    int64_t *slots;              /* open addressing over seen rows (-1 empty) */
    uint64_t *hashes;
    int64_t nslots;
} rec_st_t;

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static uint64_t rec_hash(const plan_t *p, const batch_t *b, int r)
{
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int c = 0; c < p->ncols; c++) {
        uint64_t v = b->nulls[c][r] ? 0x5bd1e995u : type_hash(p->types[c], b->vals[c][r]);
        h = (h ^ v) * 0x100000001b3u;
        h ^= h >> 29;
    }
    return h;
}

static bool rec_equal(const plan_t *p, const batch_t *b, int r, const rowstore_t *rs, int64_t row)
{
    for (int c = 0; c < p->ncols; c++)
        if (expr_cmp_nulls(p->types[c], b->vals[c][r], b->nulls[c][r], rs_val(rs, row, c), rs_null(rs, row, c),
                           false) != 0)
            return false;
    return true;
}

static int rec_grow(exec_op_t *op, rec_st_t *s, sql_error_t *err)
{
    int64_t n = s->nslots ? s->nslots * 2 : 1024;
    int64_t *slots = arena_alloc(op->ctx->arena, (size_t)n * sizeof(int64_t));
    uint64_t *hashes = arena_alloc(op->ctx->arena, (size_t)n * sizeof(uint64_t));
    if (!slots || !hashes)
        return oom(err);
    for (int64_t i = 0; i < n; i++)
        slots[i] = -1;
    for (int64_t i = 0; i < s->nslots; i++) {
        if (s->slots[i] < 0)
            continue;
        int64_t j = (int64_t)(s->hashes[i] & (uint64_t)(n - 1));
        while (slots[j] >= 0)
            j = (j + 1) & (n - 1);
        slots[j] = s->slots[i];
        hashes[j] = s->hashes[i];
    }
    s->slots = slots;
    s->hashes = hashes;
    s->nslots = n;
    return 0;
}

/* UNION: keeps in sel the rows of b never seen before (recording them); returns
 * their count or -1. */
static int rec_dedup(exec_op_t *op, rec_st_t *s, const batch_t *b, int *sel, sql_error_t *err)
{
    const plan_t *p = op->plan;
    int n = 0;
    batch_t *one = NULL;
    for (int r = 0; r < b->nrows; r++) {
        if ((s->seen.nrows + 1) * 2 > s->nslots && rec_grow(op, s, err) < 0)
            return -1;
        uint64_t h = rec_hash(p, b, r);
        int64_t j = (int64_t)(h & (uint64_t)(s->nslots - 1));
        bool dup = false;
        while (s->slots[j] >= 0) {
            if (s->hashes[j] == h && rec_equal(p, b, r, &s->seen, s->slots[j])) {
                dup = true;
                break;
            }
            j = (j + 1) & (s->nslots - 1);
        }
        if (dup)
            continue;
        if (!one && !(one = batch_new(&op->scratch, p->ncols, 1)))
            return oom(err);
        one->nrows = 0;
        batch_copy_row(one, b, r);
        if (rowstore_add(&s->seen, one, NULL, 0, err) < 0)
            return -1;
        s->slots[j] = s->seen.nrows - 1;
        s->hashes[j] = h;
        sel[n++] = r;
    }
    return n;
}

/* Hands up the new rows of b (all of them for UNION ALL) and adds them to the
 * next working table. Returns 1 with *out, 0 when no row of b was new, -1. */
static int rec_take(exec_op_t *op, rec_st_t *s, batch_t *b, batch_t **out, sql_error_t *err)
{
    const plan_t *p = op->plan;
    rowstore_t *next = &s->work[1 - s->cur];
    if (p->recursive.all) {
        if (rowstore_add(next, b, NULL, 0, err) < 0)
            return -1;
        *out = b;
        return b->nrows > 0;
    }
    arena_reset(&op->scratch);
    int *sel = arena_alloc(&op->scratch, (size_t)(b->nrows + 1) * sizeof(int));
    if (!sel)
        return oom(err);
    int n = rec_dedup(op, s, b, sel, err);
    if (n <= 0)
        return n;
    if (rowstore_add(next, b, sel, n, err) < 0)
        return -1;
    batch_t *o = batch_new(&op->scratch, p->ncols, n);
    if (!o)
        return oom(err);
    for (int i = 0; i < n; i++)
        batch_copy_row(o, b, sel[i]);
    *out = o;
    return 1;
}

/* Starts the next step: the rows just produced become the working table. Returns
 * 1 when there is a step to run, 0 when the recursion is over, -1. */
static int rec_step(exec_op_t *op, rec_st_t *s, sql_error_t *err)
{
    int nxt = 1 - s->cur;
    if (s->work[nxt].nrows == 0)
        return 0;
    if (++s->steps > LIMIT_SQL_RECURSIVE_STEPS)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "recursive query \"%s\" exceeded %u iterations",
                         op->plan->recursive.name, (unsigned)LIMIT_SQL_RECURSIVE_STEPS);
    /* the recursive term starts afresh; the old working table's memory goes */
    exec_close(op->right);
    op->right = NULL;
    arena_reset(&s->arenas[s->cur]);
    rowstore_init(&s->work[s->cur], &s->arenas[s->cur], op->plan->ncols, op->plan->types);
    s->cur = nxt;
    s->wt.rows = &s->work[s->cur];
    if (!(op->right = exec_build(op->ctx, op->plan->right, err)))
        return -1;
    return 1;
}

static int rec_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    rec_st_t *s = op->st;
    if (!s->in_recursive) {
        for (;;) {
            batch_t *b;
            int rc = op->child->next(op->child, &b, err);
            if (rc < 0)
                return -1;
            if (rc == 0)
                break;
            if ((rc = rec_take(op, s, b, out, err)) != 0)
                return rc;
        }
        s->in_recursive = true;
        int rc = rec_step(op, s, err);
        if (rc <= 0)
            return rc;
    }
    for (;;) {
        if (exec_check_cancel(op->ctx, err) < 0)
            return -1;
        batch_t *b;
        int rc = op->right->next(op->right, &b, err);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            if ((rc = rec_take(op, s, b, out, err)) != 0)
                return rc;
            continue;
        }
        if ((rc = rec_step(op, s, err)) <= 0)
            return rc;
    }
}

static void rec_close(exec_op_t *op)
{
    rec_st_t *s = op->st;
    exec_worktable_t **w = &op->ctx->worktables;
    while (*w && *w != &s->wt)
        w = &(*w)->next;
    if (*w)
        *w = s->wt.next;
    arena_destroy(&s->arenas[0]);
    arena_destroy(&s->arenas[1]);
}

/* ---- WorkTable Scan ---- */

typedef struct wt_st { const rowstore_t *rows; int64_t chunk; bool found; } wt_st_t;

static int wt_next(exec_op_t *op, batch_t **out, sql_error_t *err)
{
    wt_st_t *s = op->st;
    if (!s->found) {
        for (exec_worktable_t *w = op->ctx->worktables; w; w = w->next)
            if (w->rec == op->plan->recursive.rec)
                s->rows = w->rows;
        if (!s->rows)
            return sql_error(err, SQLSTATE_INTERNAL_ERROR, "working table of \"%s\" is not available",
                             op->plan->recursive.name);
        s->found = true;
    }
    while (s->chunk < s->rows->nchunks) {
        batch_t *b = s->rows->chunks[s->chunk++];
        if (b->nrows > 0) {
            *out = b;
            return 1;
        }
    }
    return 0;
}

int exec_cte_open(exec_op_t *op, sql_error_t *err)
{
    const plan_t *p = op->plan;
    if (p->kind == PL_WORKTABLE) {
        if (!(op->st = arena_alloc(op->ctx->arena, sizeof(wt_st_t))))
            return oom(err);
        memset(op->st, 0, sizeof(wt_st_t));
        op->next = wt_next;
        return 0;
    }
    ASSERT(p->kind == PL_RECURSIVE);
    rec_st_t *s = arena_alloc(op->ctx->arena, sizeof *s);
    if (!s)
        return oom(err);
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 2; i++) {
        arena_init(&s->arenas[i], LIMIT_SQL_STMT_ARENA_BYTES);
        rowstore_init(&s->work[i], &s->arenas[i], p->ncols, p->types);
    }
    rowstore_init(&s->seen, op->ctx->arena, p->ncols, p->types);
    s->wt.rec = p;
    s->wt.rows = &s->work[0];
    s->wt.next = op->ctx->worktables;
    op->ctx->worktables = &s->wt;
    op->st = s;
    op->next = rec_next;
    op->close = rec_close;
    return 0;
}
