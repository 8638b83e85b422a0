/*
 * pgcatalog_cons.c -- CHECK and FOREIGN KEY constraints as pg_constraint sees them:
 * their OIDs and pg_get_constraintdef's text.
 *
 * Why: the catalog keeps a table's CHECK and FOREIGN KEY constraints inside its row
 * (cat_check_t, cat_fk_t) without OIDs of their own, but pg_constraint rows need
 * one, and pg_get_constraintdef(oid) must find the constraint again. The OID is
 * derived from the table's OID and the constraint's position, in a range no
 * allocated OID reaches (PGCAT_CON_OID_BASE and up), so it is stable within one
 * catalog snapshot, which is all a query sees (it changes when an ALTER TABLE
 * adds or drops an earlier constraint of the same table).
 *
 * Layout: BASE | (table OID - 16384) << 9 | kind << 8 | index; kind 0 CHECK, 1 FK.
 *
 * Thread: any shard thread, over a referenced snapshot.
 */
#include <string.h>

#include "core/strbuf.h"
#include "sql/pgcatalog_int.h"

#define PGCAT_CON_OID_BASE   0xC0000000u
#define PGCAT_CON_TABLES_MAX (1u << 21)     /* table OIDs 16384 .. 16384 + 2^21 */
#define PGCAT_CON_PER_KIND   256

uint32_t pgcat__con_oid(const cat_table_t *t, char kind, int k)
{
    uint32_t rel = t->oid - CAT_FIRST_USER_OID;
    if (t->oid < CAT_FIRST_USER_OID || rel >= PGCAT_CON_TABLES_MAX || k < 0 || k >= PGCAT_CON_PER_KIND)
        return 0;
    return PGCAT_CON_OID_BASE | rel << 9 | (uint32_t)(kind == 'f') << 8 | (uint32_t)k;
}

bool pgcat__con_by_oid(const catalog_t *c, uint32_t oid, const cat_table_t **t, char *kind, int *k)
{
    if (!c || (oid & PGCAT_CON_OID_BASE) != PGCAT_CON_OID_BASE)
        return false;
    const cat_table_t *tab = catalog_table_by_oid(c, CAT_FIRST_USER_OID + ((oid & ~PGCAT_CON_OID_BASE) >> 9));
    int i = (int)(oid & 0xFF);
    char kd = oid & 0x100 ? 'f' : 'c';
    if (!tab || i >= (kd == 'f' ? tab->nfks : tab->nchecks))
        return false;
    *t = tab;
    *kind = kd;
    *k = i;
    return true;
}

static void put_cols(const cat_table_t *t, const int16_t *attnums, int n, strbuf_t *out)
{
    strbuf_putc(out, '(');
    for (int j = 0; j < n; j++) {
        if (j)
            strbuf_puts(out, ", ");
        for (int i = 0; i < t->ncols; i++)
            if (t->cols[i].attnum == attnums[j])
                pgcat__quote_ident(t->cols[i].name, out);
    }
    strbuf_putc(out, ')');
}

/* Whether e[0] = '(' closes at e[n - 1] (quotes skipped). */
static bool outer_pair(const char *e, size_t n)
{
    int depth = 0;
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        if (q) {
            if (e[i] == q)
                q = 0;
            continue;
        }
        if (e[i] == '\'' || e[i] == '"')
            q = e[i];
        else if (e[i] == '(')
            depth++;
        else if (e[i] == ')' && --depth == 0)
            return i == n - 1;
    }
    return false;
}

void pgcat__con_def(const catalog_t *c, const cat_table_t *t, char kind, int k, bool pretty, strbuf_t *out)
{
    if (kind == 'c') {
        /* the stored text is parenthesized as PostgreSQL's plain form prints it; the
         * pretty form drops that outer pair */
        const char *e = t->checks[k].expr_sql;
        size_t n = strlen(e);
        if (pretty && n >= 2 && e[0] == '(' && e[n - 1] == ')' && outer_pair(e, n)) {
            strbuf_puts(out, "CHECK (");
            strbuf_append(out, e + 1, n - 2);
            strbuf_putc(out, ')');
        } else
            strbuf_printf(out, "CHECK (%s)", e);
        return;
    }
    const cat_fk_t *f = &t->fks[k];
    const cat_table_t *p = f->ref_table ? catalog_table_by_oid(c, f->ref_table) : t;
    strbuf_puts(out, "FOREIGN KEY ");
    put_cols(t, f->attnums, f->ncols, out);
    strbuf_puts(out, " REFERENCES ");
    if (p) {
        pgcat__quote_ident(p->name, out);
        put_cols(p, f->ref_attnums, f->ncols, out);
    }
    if (f->match_full)
        strbuf_puts(out, " MATCH FULL");
    static const struct { char code; const char *text; } acts[] = {
        {'r', "RESTRICT"}, {'c', "CASCADE"}, {'n', "SET NULL"}, {'d', "SET DEFAULT"},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (f->on_update == acts[i].code)
            strbuf_printf(out, " ON UPDATE %s", acts[i].text);
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (f->on_delete == acts[i].code)
            strbuf_printf(out, " ON DELETE %s", acts[i].text);
}
