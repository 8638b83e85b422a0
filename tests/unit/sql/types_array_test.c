/*
 * types_array_test.c -- sql/types_array.c: the array datum form, PostgreSQL's text
 * form with its quoting rules, int2vector / oidvector text, array_send / array_recv
 * bytes, element-wise comparison and casts. Expected text forms were checked
 * against PostgreSQL 15 (psql -Atc "select ...").
 */
#include <string.h>

#include "sql/types.h"
#include "tests/unit/test.h"

static arena_t arena;
static char out_buf[600];

static void setup(void)
{
    if (!arena.budget_bytes)
        arena_init(&arena, 16 << 20);
}

/* Text in, text out; "ERR <state> <message>" on error. */
static const char *rt(type_oid_t t, const char *in)
{
    setup();
    datum_t d;
    sql_error_t err = {0};
    if (type_in_text(t, -1, in, strlen(in), &arena, &d, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s", err.sqlstate, err.message);
        return out_buf;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(t, -1, d, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

static datum_t in(type_oid_t t, const char *s)
{
    datum_t d = {0};
    sql_error_t err = {0};
    setup();
    TEST_CHECK(type_in_text(t, -1, s, strlen(s), &arena, &d, &err) == 0);
    return d;
}

TEST(array_type_facts)
{
    TEST_CHECK(type_is_array(TYPE_TEXTARRAY) && type_is_array(TYPE_INT2VECTOR) && !type_is_array(TYPE_TEXT));
    TEST_CHECK(type_array_elem(TYPE_NAMEARRAY) == TYPE_NAME);
    TEST_CHECK(type_array_elem(TYPE_OIDVECTOR) == TYPE_OID);
    TEST_CHECK(type_array_of(TYPE_INT4) == TYPE_INT4ARRAY);
    TEST_CHECK(type_array_of(TYPE_CHAR) == TYPE_CHARARRAY);
    TEST_CHECK(type_array_of(TYPE_INT8) == 1016);
    TEST_CHECK(type_array_of(TYPE_TIMESTAMP) == TYPE_INVALID);   /* no _timestamp in the table */
    TEST_CHECK(type_lookup(TYPE_REGNAMESPACE) != NULL);
}

TEST(array_build_and_iterate)
{
    setup();
    datum_t v[3];
    bool n[3] = {false, true, false};
    v[0].s = vstr_new(&arena, "ab", 2);
    v[2].s = vstr_new(&arena, "", 0);
    datum_t a;
    a.s = type_array_build(&arena, TYPE_TEXT, 3, v, n);
    TEST_REQUIRE(a.s);
    TEST_CHECK(((uintptr_t)a.s & 3) == 0);
    TEST_CHECK(type_array_count(a) == 3 && type_array_elem_of(a) == TYPE_TEXT);
    type_array_iter_t it;
    type_array_iter(&it, a);
    datum_t e;
    bool en;
    TEST_CHECK(type_array_next(&it, &e, &en) && !en && e.s->len == 2 && !memcmp(e.s->data, "ab", 2));
    TEST_CHECK(((uintptr_t)e.s & 3) == 0);          /* string elements are vstr_t views */
    TEST_CHECK(type_array_next(&it, &e, &en) && en);
    TEST_CHECK(type_array_next(&it, &e, &en) && !en && e.s->len == 0);
    TEST_CHECK(!type_array_next(&it, &e, &en));
    /* by-value elements keep their 8 bytes */
    datum_t iv[2] = {{.i64 = -5}, {.i64 = INT64_MAX}};
    a.s = type_array_build(&arena, TYPE_INT8, 2, iv, NULL);
    type_array_iter(&it, a);
    TEST_CHECK(type_array_next(&it, &e, &en) && e.i64 == -5);
    TEST_CHECK(type_array_next(&it, &e, &en) && e.i64 == INT64_MAX);
}

TEST(array_text_forms)
{
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, "{1,2,3}"), "{1,2,3}"));
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, " { 1 , -2 ,NULL } "), "{1,-2,NULL}"));
    TEST_CHECK(!strcmp(rt(TYPE_INT2ARRAY, "{}"), "{}"));
    TEST_CHECK(!strcmp(rt(TYPE_TEXTARRAY, "{a,\"b c\",\"\",\"NULL\",null,\"x\\\"y\",\"back\\\\slash\"}"),
                       "{a,\"b c\",\"\",\"NULL\",NULL,\"x\\\"y\",\"back\\\\slash\"}"));
    TEST_CHECK(!strcmp(rt(TYPE_TEXTARRAY, "{a b, c}"), "{\"a b\",c}"));   /* inner spaces kept, outer trimmed */
    TEST_CHECK(!strcmp(rt(TYPE_TEXTARRAY, "{\"{x}\",\"a,b\"}"), "{\"{x}\",\"a,b\"}"));
    TEST_CHECK(!strcmp(rt(TYPE_NAMEARRAY, "{pg_catalog,public}"), "{pg_catalog,public}"));
    TEST_CHECK(!strcmp(rt(TYPE_CHARARRAY, "{d,f}"), "{d,f}"));
    TEST_CHECK(!strcmp(rt(TYPE_OIDARRAY, "{0}"), "{0}"));
    TEST_CHECK(!strcmp(rt(TYPE_INT2VECTOR, "1 2"), "1 2"));
    TEST_CHECK(!strcmp(rt(TYPE_OIDVECTOR, " 26  23 "), "26 23"));
    TEST_CHECK(!strcmp(rt(TYPE_INT2VECTOR, ""), ""));
    TEST_CHECK(!strncmp(rt(TYPE_INT4ARRAY, "{1,x}"), "ERR 22P02 invalid input syntax for type integer", 47));
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, "1,2"), "ERR 22P02 malformed array literal: \"1,2\""));
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, "{1,2"), "ERR 22P02 malformed array literal: \"{1,2\""));
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, "{1,}"), "ERR 22P02 malformed array literal: \"{1,}\""));
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, "{1} x"), "ERR 22P02 malformed array literal: \"{1} x\""));
    TEST_CHECK(!strcmp(rt(TYPE_INT4ARRAY, "{{1},{2}}"), "ERR 0A000 multidimensional arrays are not supported"));
}

TEST(array_binary_round_trip)
{
    setup();
    datum_t a = in(TYPE_TEXTARRAY, "{ab,NULL}");
    strbuf_t sb;
    strbuf_init(&sb);
    type_send_binary(TYPE_TEXTARRAY, -1, a, &sb);
    /* ndim 1, has null 1, elem 25, dim 2, lbound 1, "ab", NULL */
    static const uint8_t want[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 25, 0, 0, 0, 2, 0, 0, 0, 1,
                                   0, 0, 0, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff};
    TEST_CHECK(sb.len == sizeof want && !memcmp(sb.data, want, sizeof want));
    datum_t b;
    sql_error_t err = {0};
    TEST_CHECK(type_recv_binary(TYPE_TEXTARRAY, -1, (const uint8_t *)sb.data, sb.len, &arena, &b, &err) == 0);
    TEST_CHECK(type_cmp(TYPE_TEXTARRAY, a, b) == 0);
    TEST_CHECK(type_hash(TYPE_TEXTARRAY, a) == type_hash(TYPE_TEXTARRAY, b));
    /* the wrong element type is refused */
    TEST_CHECK(type_recv_binary(TYPE_INT4ARRAY, -1, (const uint8_t *)sb.data, sb.len, &arena, &b, &err) < 0);
    strbuf_reset(&sb);
    type_send_binary(TYPE_INT4ARRAY, -1, in(TYPE_INT4ARRAY, "{}"), &sb);
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23};
    TEST_CHECK(sb.len == sizeof empty && !memcmp(sb.data, empty, sizeof empty));
    strbuf_free(&sb);
    TEST_CHECK(type_has_binary(TYPE_NAMEARRAY) && type_has_binary(TYPE_INT2VECTOR));
}

TEST(array_compare_and_cast)
{
    setup();
    TEST_CHECK(type_cmp(TYPE_INT4ARRAY, in(TYPE_INT4ARRAY, "{1,2}"), in(TYPE_INT4ARRAY, "{1,3}")) < 0);
    TEST_CHECK(type_cmp(TYPE_INT4ARRAY, in(TYPE_INT4ARRAY, "{1,2}"), in(TYPE_INT4ARRAY, "{1}")) > 0);
    TEST_CHECK(type_cmp(TYPE_INT4ARRAY, in(TYPE_INT4ARRAY, "{1,NULL}"), in(TYPE_INT4ARRAY, "{1,5}")) > 0);
    TEST_CHECK(type_cmp(TYPE_INT4ARRAY, in(TYPE_INT4ARRAY, "{}"), in(TYPE_INT4ARRAY, "{}")) == 0);
    TEST_CHECK(type_can_cast(TYPE_NAMEARRAY, TYPE_TEXTARRAY, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_INT2VECTOR, TYPE_INT2ARRAY, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_UNKNOWN, TYPE_OIDARRAY, CAST_IMPLICIT));
    TEST_CHECK(!type_can_cast(TYPE_INT4ARRAY, TYPE_INT4, CAST_EXPLICIT));
    datum_t out;
    sql_error_t err = {0};
    TEST_CHECK(type_cast(TYPE_INT2VECTOR, TYPE_INT2ARRAY, -1, CAST_IMPLICIT, in(TYPE_INT2VECTOR, "1 2"), &arena, &out,
                         &err) == 0);
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(TYPE_INT2ARRAY, -1, out, &sb);
    TEST_CHECK(sb.data && !strcmp(sb.data, "{1,2}"));
    strbuf_reset(&sb);
    TEST_CHECK(type_cast(TYPE_INT4ARRAY, TYPE_TEXT, -1, CAST_EXPLICIT, in(TYPE_INT4ARRAY, "{7,NULL}"), &arena, &out,
                         &err) == 0);
    TEST_CHECK(out.s->len == 8 && !memcmp(out.s->data, "{7,NULL}", 8));
    TEST_CHECK(type_cast(TYPE_TEXTARRAY, TYPE_INT2ARRAY, -1, CAST_EXPLICIT, in(TYPE_TEXTARRAY, "{1,99999}"), &arena,
                         &out, &err) < 0 && !strcmp(err.sqlstate, "22003"));
    strbuf_free(&sb);
}

TEST(regnamespace_text)
{
    TEST_CHECK(!strcmp(rt(TYPE_REGNAMESPACE, "public"), "public"));
    TEST_CHECK(!strcmp(rt(TYPE_REGNAMESPACE, "11"), "pg_catalog"));
    TEST_CHECK(!strcmp(rt(TYPE_REGNAMESPACE, "424242"), "424242"));
    TEST_CHECK(!strcmp(rt(TYPE_REGNAMESPACE, "nope"), "ERR 3F000 schema \"nope\" does not exist"));
}

TEST_MAIN()
