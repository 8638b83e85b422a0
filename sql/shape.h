/*
 * shape.h -- statement shapes: the text of a statement with its literals taken out,
 * so the simple-query path can reuse one parse for every statement that differs only
 * in literal values (pgbench -S, psycopg2 and psql send every statement as text with
 * the values inlined; parsing through libpg_query's protobuf costs more than the rest
 * of a point select).
 *
 * Model: shape_scan lexes the text the way PostgreSQL's scanner splits it into
 * tokens, only far enough to find numeric and plain string literals, and writes the
 * shape key: the text byte for byte with each literal replaced by a marker and its
 * kind. Anything it is not sure about (escape strings E'', bit and hex strings,
 * U&'', dollar quoting, backslashes in strings, 1e5, 0x1F, literals glued to
 * identifiers) makes the statement shapeless (-1), and it is parsed every time.
 *
 * A shape is only reused when its first parse proved that every literal became one
 * constant node of the tree at the literal's own offset (shape_bind): then parsing
 * the same shape with other literals gives the same tree with those constants
 * replaced, which is what shape_apply does. Literals that the grammar folds or
 * absorbs (type modifiers as in varchar(10), the sign in -5, adjacent string
 * continuations) have no such node, so their statements stay shapeless.
 *
 * Thread: any; no state.
 */
#ifndef NEXTDB_SHAPE_H
#define NEXTDB_SHAPE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/strbuf.h"
#include "sql/ast.h"

#define SHAPE_LITERALS_MAX 64        /* more literals than this: shapeless */

typedef struct shape_lit {
    uint32_t off, len;               /* the token, quotes included for strings */
    char kind;                       /* 'N' number, 'S' string */
} shape_lit_t;

/* Writes the shape key of sql into key and the literals into lits (at most
 * SHAPE_LITERALS_MAX); returns how many, or -1 when the text is shapeless. */
int shape_scan(const char *sql, size_t len, strbuf_t *key, shape_lit_t *lits);

/* Matches the literals of a freshly parsed statement with the constant nodes the
 * parser made (consts, nconsts): slots[i] = the node of lits[i]. False when some
 * literal has no node of the right kind at its offset (the shape must not be reused). */
bool shape_bind(ast_t *const *consts, int nconsts, const shape_lit_t *lits, int nlits, ast_t **slots);

/* Puts the literal values of sql (lits from shape_scan of sql, same key as the
 * template's) into the template's slots, converting each token as the parser does;
 * strings are copied into a. -1 when out of memory (a's budget). */
int shape_apply(ast_t **slots, int nslots, const char *sql, const shape_lit_t *lits, arena_t *a);

/* Maps a 1-based error position in the template's text to the statement's text. */
int shape_map_position(int pos, const shape_lit_t *from, const shape_lit_t *to, int n);
#endif
