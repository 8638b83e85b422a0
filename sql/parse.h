/*
 * parse.h -- SQL text to NextDB AST (sql/ast.h) through libpg_query.
 *
 * Why: libpg_query is PostgreSQL 15's real grammar, so every statement parses exactly
 * as PostgreSQL parses it. Its protobuf tree is converted at once into our AST and
 * freed; nothing after this module sees protobuf.
 *
 * Model: parse_sql copies the text (NUL-terminated, as libpg_query wants it), calls
 * pg_query_parse_protobuf + pg_query__parse_result__unpack, converts each RawStmt and
 * frees both results before returning. Every node lives in the caller's arena.
 *
 * Interface:
 *   parse_sql        text -> array of statements (with their text spans)
 *   parse_deparse    AST expression -> SQL text (catalog DEFAULT expressions)
 *
 * Errors: 42601 with PostgreSQL's message and cursor position for syntax errors;
 * 0A000 "<construct> is not supported" for valid SQL outside our subset; 54001 when
 * the tree is deeper than LIMIT_SQL_EXPR_DEPTH; 53200 on arena exhaustion.
 *
 * Thread: any (libpg_query keeps per-thread state only).
 */
#ifndef NEXTDB_PARSE_H
#define NEXTDB_PARSE_H
#include <stddef.h>
#include "core/arena.h"
#include "core/strbuf.h"
#include "sql/ast.h"
#include "sql/error.h"

typedef struct parse_stmt {
    ast_t *ast;
    int location;    /* byte offset of the statement in the text */
    int len;         /* its length in bytes (0 = to the end) */
    /* the constant nodes made from literals of this statement (sql/shape.h) */
    ast_t **consts;
    int nconsts;
} parse_stmt_t;

/* Parses len bytes of sql. On success *out (arena) holds *nout statements (0 for an
 * empty string). Returns 0, or -1 with err set (nothing to free: arena-owned). */
int parse_sql(arena_t *a, const char *sql, size_t len, parse_stmt_t **out, int *nout,
              sql_error_t *err);
/* Appends SQL text for an expression AST (constants, column names, operators, casts,
 * function calls, SQL value functions); used to persist DEFAULT expressions. */
void parse_deparse(const ast_t *e, strbuf_t *out);
#endif
