/*
 * shape_test.c -- sql/shape.c: which texts have a shape and what their keys and
 * literals are; literal conversion as the parser does it; error-position mapping.
 */
#include <string.h>

#include "sql/shape.h"
#include "tests/unit/test.h"

/* Scans sql; returns the literal count and leaves the key (markers as '#') in buf. */
static int scan(const char *sql, char *buf, size_t cap, shape_lit_t *lits)
{
    strbuf_t key;
    strbuf_init(&key);
    int n = shape_scan(sql, strlen(sql), &key, lits);
    size_t o = 0;
    for (size_t i = 0; i < key.len && o + 1 < cap; i++)
        buf[o++] = key.data[i] == '\x01' ? '#' : key.data[i];
    buf[o] = 0;
    strbuf_free(&key);
    return n;
}

TEST(keys_and_literals)
{
    char k[256];
    shape_lit_t l[SHAPE_LITERALS_MAX];
    TEST_CHECK(scan("SELECT a FROM t WHERE id = 42", k, sizeof k, l) == 1);
    TEST_CHECK(strcmp(k, "SELECT a FROM t WHERE id = #N") == 0);
    TEST_CHECK(l[0].off == 27 && l[0].len == 2 && l[0].kind == 'N');
    TEST_CHECK(scan("SELECT 'it''s', 1.5, .5, 3. FROM t2 LIMIT 10", k, sizeof k, l) == 5);
    TEST_CHECK(strcmp(k, "SELECT #S, #N, #N, #N FROM t2 LIMIT #N") == 0);
    TEST_CHECK(l[0].len == 7 && l[0].kind == 'S');
    /* digits inside identifiers, parameters, quoted identifiers and comments stay */
    TEST_CHECK(scan("SELECT c1, \"x 2\" FROM t3 WHERE a = $1 -- 5\n/* 6 /* 7 */ */", k, sizeof k, l) == 0);
    TEST_CHECK(strcmp(k, "SELECT c1, \"x 2\" FROM t3 WHERE a = $1 -- 5\n/* 6 /* 7 */ */") == 0);
    TEST_CHECK(scan("SELECT 1", k, sizeof k, l) == 1 && scan("SELECT 99999999999999999999", k, sizeof k, l) == 1);
}

TEST(shapeless_texts)
{
    char k[256];
    shape_lit_t l[SHAPE_LITERALS_MAX];
    const char *bad[] = {
        "SELECT E'a\\nb'", "SELECT B'101'", "SELECT X'1F'", "SELECT U&'d\\0061t'", "SELECT N'x'",
        "SELECT 'a\\b'", "SELECT $$x$$", "SELECT $tag$x$tag$", "SELECT 1e5", "SELECT 0x1F",
        "SELECT 12abc", "SELECT 1.2.3", "SELECT 'a'\n'b'", "SELECT 'open", "SELECT \"open",
        "SELECT /* open", "SELECT date'2020-01-01'", "SELECT \x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TEST_CHECK(scan(bad[i], k, sizeof k, l) == -1);
    /* 'a' 'b' on one line is two literals (and a syntax error for the parser) */
    TEST_CHECK(scan("SELECT 'a' 'b'", k, sizeof k, l) == 2);
}

TEST(too_many_literals)
{
    char sql[4096] = "SELECT 0";
    for (int i = 0; i < SHAPE_LITERALS_MAX; i++)
        strcat(sql, ", 1");
    char k[8192];
    shape_lit_t l[SHAPE_LITERALS_MAX];
    TEST_CHECK(scan(sql, k, sizeof k, l) == -1);
}

TEST(apply_converts_like_the_parser)
{
    arena_t a;
    arena_init(&a, 1 << 20);
    const char *sql = "SELECT 2147483647, 2147483648, 99999999999999999999, 1.50, 'it''s', ''";
    char k[256];
    shape_lit_t l[SHAPE_LITERALS_MAX];
    TEST_REQUIRE(scan(sql, k, sizeof k, l) == 6);
    ast_t nodes[6];
    ast_t *slots[6];
    memset(nodes, 0, sizeof nodes);
    for (int i = 0; i < 6; i++) {
        nodes[i].kind = AST_CONST;
        slots[i] = &nodes[i];
    }
    TEST_REQUIRE(shape_apply(slots, 6, sql, l, &a) == 0);
    TEST_CHECK(nodes[0].c.ctype == AST_C_INT && nodes[0].c.ival == 2147483647 && nodes[0].c.str == NULL);
    TEST_CHECK(nodes[1].c.ctype == AST_C_INT && nodes[1].c.ival == 2147483648LL && nodes[1].c.str &&
               strcmp(nodes[1].c.str, "2147483648") == 0);
    TEST_CHECK(nodes[2].c.ctype == AST_C_NUMERIC && strcmp(nodes[2].c.str, "99999999999999999999") == 0);
    TEST_CHECK(nodes[3].c.ctype == AST_C_NUMERIC && strcmp(nodes[3].c.str, "1.50") == 0);
    TEST_CHECK(nodes[4].c.ctype == AST_C_STRING && strcmp(nodes[4].c.str, "it's") == 0);
    TEST_CHECK(nodes[5].c.ctype == AST_C_STRING && strcmp(nodes[5].c.str, "") == 0);
    arena_destroy(&a);
}

TEST(bind_needs_a_node_per_literal)
{
    shape_lit_t l[2] = {{10, 1, 'N'}, {20, 3, 'S'}};
    ast_t a = {.kind = AST_CONST, .location = 10}, b = {.kind = AST_CONST, .location = 20};
    a.c.ctype = AST_C_INT;
    b.c.ctype = AST_C_STRING;
    ast_t *consts[2] = {&b, &a}, *slots[2];
    TEST_CHECK(shape_bind(consts, 2, l, 2, slots) && slots[0] == &a && slots[1] == &b);
    TEST_CHECK(!shape_bind(consts, 1, l, 2, slots));            /* a literal without a node */
    b.c.ctype = AST_C_INT;
    TEST_CHECK(!shape_bind(consts, 2, l, 2, slots));            /* a node of another kind */
}

TEST(positions_follow_the_literals)
{
    shape_lit_t from[2] = {{5, 1, 'N'}, {10, 2, 'N'}}, to[2] = {{5, 3, 'N'}, {12, 1, 'N'}};
    TEST_CHECK(shape_map_position(3, from, to, 2) == 3);     /* before any literal */
    TEST_CHECK(shape_map_position(6, from, to, 2) == 6);     /* at the first literal */
    TEST_CHECK(shape_map_position(8, from, to, 2) == 10);    /* between: +2 */
    TEST_CHECK(shape_map_position(12, from, to, 2) == 13);   /* inside the second: its start */
    TEST_CHECK(shape_map_position(20, from, to, 2) == 21);   /* after both: +2 -1 */
    TEST_CHECK(shape_map_position(0, from, to, 2) == 0);
}

TEST_MAIN()
