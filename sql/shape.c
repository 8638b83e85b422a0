/*
 * shape.c -- statement shapes for the simple-query plan cache; see shape.h.
 *
 * The scanner follows PostgreSQL 15's lexer (scan.l) for the tokens that matter
 * here: -- and nested block comments, "quoted identifiers", identifiers and keywords
 * (letters, digits, _, $ and bytes >= 0x80), $n parameters, 'strings' with ''
 * doubling, integers and decimals. standard_conforming_strings is on (as in
 * libpg_query's parser), so only a backslash-free string is taken as a plain
 * literal; every construct with its own escaping rules is left to the parser.
 */
#include "sql/shape.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE_MARK '\x01'    /* stands for a literal in a key; never valid in SQL text */

static bool shape__ident_start(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch >= 0x80;
}

static bool shape__ident_char(unsigned char ch)
{
    return shape__ident_start(ch) || (ch >= '0' && ch <= '9') || ch == '$';
}

static bool shape__digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

int shape_scan(const char *sql, size_t len, strbuf_t *key, shape_lit_t *lits)
{
    const unsigned char *s = (const unsigned char *)sql;
    int n = 0;
    size_t i = 0;
    if (memchr(sql, SHAPE_MARK, len) || len > UINT32_MAX)
        return -1;
    while (i < len) {
        unsigned char ch = s[i];
        size_t start = i;
        if (ch == '-' && i + 1 < len && s[i + 1] == '-') {
            while (i < len && s[i] != '\n')
                i++;
        } else if (ch == '/' && i + 1 < len && s[i + 1] == '*') {
            int depth = 0;
            while (i < len) {
                if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
                    i += 2;
                    if (--depth == 0)
                        break;
                } else {
                    i++;
                }
            }
            if (depth != 0)
                return -1;
        } else if (ch == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1;
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
        } else if (ch == '$') {
            i++;
            if (i >= len || !shape__digit(s[i]))
                return -1;           /* dollar quoting */
            while (i < len && shape__digit(s[i]))
                i++;
        } else if (shape__ident_start(ch)) {
            while (i < len && shape__ident_char(s[i]))
                i++;
            /* E'..', B'..', X'..', N'..', U&'..', or a type name glued to a string */
            if (i < len && (s[i] == '\'' || (s[i] == '&' && i - start == 1 && (ch == 'u' || ch == 'U'))))
                return -1;
        } else if (ch == '\'') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1;
                if (s[i] == '\\')
                    return -1;
                if (s[i] == '\'') {
                    if (i + 1 < len && s[i + 1] == '\'') {
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
            /* 'a' <newline> 'b' is one literal to the grammar: leave it to the parser */
            size_t j = i;
            bool newline = false;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f')) {
                newline |= s[j] == '\n' || s[j] == '\r';
                j++;
            }
            if (newline && j < len && s[j] == '\'')
                return -1;
            if (n == SHAPE_LITERALS_MAX)
                return -1;
            lits[n++] = (shape_lit_t){(uint32_t)start, (uint32_t)(i - start), 'S'};
            strbuf_putc(key, SHAPE_MARK);
            strbuf_putc(key, 'S');
            continue;
        } else if (shape__digit(ch) || (ch == '.' && i + 1 < len && shape__digit(s[i + 1]))) {
            while (i < len && shape__digit(s[i]))
                i++;
            if (i < len && s[i] == '.') {
                i++;
                while (i < len && shape__digit(s[i]))
                    i++;
            }
            /* 1e5, 0x1F, 1_000, 1.2.3, 12abc: not plain literals */
            if (i < len && (shape__ident_char(s[i]) || s[i] == '.'))
                return -1;
            if (n == SHAPE_LITERALS_MAX)
                return -1;
            lits[n++] = (shape_lit_t){(uint32_t)start, (uint32_t)(i - start), 'N'};
            strbuf_putc(key, SHAPE_MARK);
            strbuf_putc(key, 'N');
            continue;
        } else {
            i++;
        }
        strbuf_append(key, sql + start, i - start);
    }
    return n;
}

bool shape_bind(ast_t *const *consts, int nconsts, const shape_lit_t *lits, int nlits, ast_t **slots)
{
    for (int i = 0; i < nlits; i++) {
        slots[i] = NULL;
        for (int j = 0; j < nconsts; j++) {
            ast_t *k = consts[j];
            if (k->kind != AST_CONST || k->location != (int)lits[i].off)
                continue;
            bool ok = lits[i].kind == 'S' ? k->c.ctype == AST_C_STRING
                                          : k->c.ctype == AST_C_INT || k->c.ctype == AST_C_NUMERIC;
            if (!ok || slots[i])
                return false;
            slots[i] = k;
        }
        if (!slots[i])
            return false;
    }
    return true;
}

int shape_apply(ast_t **slots, int nslots, const char *sql, const shape_lit_t *lits, arena_t *a)
{
    for (int i = 0; i < nslots; i++) {
        ast_t *k = slots[i];
        const char *t = sql + lits[i].off;
        size_t tl = lits[i].len;
        k->location = (int)lits[i].off;
        if (lits[i].kind == 'S') {
            /* between the quotes, '' -> ' */
            char *v = arena_alloc(a, tl);
            if (!v)
                return -1;
            size_t o = 0;
            for (size_t p = 1; p + 1 < tl; p++) {
                v[o++] = t[p];
                if (t[p] == '\'')
                    p++;
            }
            v[o] = 0;
            k->c.ctype = AST_C_STRING;
            k->c.str = v;
            continue;
        }
        /* As PostgreSQL's lexer and parse.c's p_const: an integer that fits int4 is an
         * Integer node; a longer one a Float node (text kept), integral when it fits
         * int8; a decimal a Float node. */
        bool digits = true;
        for (size_t p = 0; p < tl; p++)
            digits &= t[p] >= '0' && t[p] <= '9';
        char *text = arena_strndup(a, t, tl);
        if (!text)
            return -1;
        k->c.ctype = AST_C_NUMERIC;
        k->c.str = text;
        if (!digits)
            continue;
        errno = 0;
        char *end;
        long long v = strtoll(text, &end, 10);
        bool fits8 = errno == 0 && *end == 0;
        if (fits8 && v <= INT32_MAX) {
            k->c.ctype = AST_C_INT;
            k->c.ival = v;
            k->c.str = NULL;
        } else if (fits8 && tl <= 19) {
            k->c.ctype = AST_C_INT;
            k->c.ival = v;
        }
    }
    return 0;
}

int shape_map_position(int pos, const shape_lit_t *from, const shape_lit_t *to, int n)
{
    if (pos <= 0)
        return pos;
    long off = pos - 1, delta = 0;
    for (int i = 0; i < n; i++) {
        if ((long)(from[i].off + from[i].len) <= off)
            delta += (long)to[i].len - (long)from[i].len;
        else if ((long)from[i].off <= off)
            return (int)to[i].off + 1;
        else
            break;
    }
    return (int)(off + delta + 1);
}
