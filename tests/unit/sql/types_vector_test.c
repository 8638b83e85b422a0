/*
 * types_vector_test.c -- sql/types_vector and sql/builtins_vector: pgvector's text
 * and binary forms, its error wording and SQLSTATEs, and function results computed
 * the way pgvector computes them (float sums in element order, double where
 * pgvector uses double). Expected strings follow pgvector 0.7's vector.c.
 */
#include <math.h>
#include <string.h>

#include "sql/builtins_vector.h"
#include "sql/types_vector.h"
#include "tests/unit/test.h"

static arena_t arena;
static char out_buf[600];

static void setup(void)
{
    if (!arena.budget_bytes) arena_init(&arena, 64 << 20);
}

/* Text round trip, or "ERR <state> <message>". */
static const char *rt(int32_t typmod, const char *in)
{
    setup();
    datum_t d;
    sql_error_t err = {0};
    if (type_in_text(TYPE_VECTOR, typmod, in, strlen(in), &arena, &d, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s", err.sqlstate, err.message);
        return out_buf;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(TYPE_VECTOR, typmod, d, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

static datum_t vec(const char *s)
{
    setup();
    datum_t d = {0};
    sql_error_t err = {0};
    TEST_CHECK(type_in_text(TYPE_VECTOR, -1, s, strlen(s), &arena, &d, &err) == 0);
    return d;
}

TEST(vector_text)
{
    TEST_CHECK(!strcmp(rt(-1, "[1,2,3]"), "[1,2,3]"));
    TEST_CHECK(!strcmp(rt(-1, "  [ 1.5 , -2e-7,3e20 ]  "), "[1.5,-2e-07,3e+20]"));
    TEST_CHECK(!strcmp(rt(-1, "[0.1]"), "[0.1]"));
    TEST_CHECK(!strcmp(rt(-1, "[1.0000001]"), "[1.0000001]"));
    TEST_CHECK(!strcmp(rt(3, "[1,2,3]"), "[1,2,3]"));
    TEST_CHECK(!strcmp(rt(3, "[1,2]"), "ERR 22000 expected 3 dimensions, not 2"));
    TEST_CHECK(!strcmp(rt(-1, "1,2"), "ERR 22P02 invalid input syntax for type vector: \"1,2\""));
    TEST_CHECK(!strcmp(rt(-1, "[1,2"), "ERR 22P02 invalid input syntax for type vector: \"[1,2\""));
    TEST_CHECK(!strcmp(rt(-1, "[1,,2]"), "ERR 22P02 invalid input syntax for type vector: \"[1,,2]\""));
    TEST_CHECK(!strcmp(rt(-1, "[1,2]x"), "ERR 22P02 invalid input syntax for type vector: \"[1,2]x\""));
    TEST_CHECK(!strcmp(rt(-1, "[1 2]"), "ERR 22P02 invalid input syntax for type vector: \"[1 2]\""));
    TEST_CHECK(!strcmp(rt(-1, "[]"), "ERR 22000 vector must have at least 1 dimension"));
    TEST_CHECK(!strcmp(rt(-1, "[NaN]"), "ERR 22000 NaN not allowed in vector"));
    TEST_CHECK(!strcmp(rt(-1, "[1,inf]"), "ERR 22000 infinite value not allowed in vector"));
    TEST_CHECK(!strcmp(rt(-1, "[1e39]"), "ERR 22003 \"1e39\" is out of range for type vector"));
}

TEST(vector_limits)
{
    setup();
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_putc(&sb, '[');
    for (int i = 0; i <= 16000; i++)
        strbuf_puts(&sb, i ? ",1" : "1");
    strbuf_putc(&sb, ']');
    datum_t d;
    sql_error_t err = {0};
    TEST_CHECK(type_in_text(TYPE_VECTOR, -1, sb.data, sb.len, &arena, &d, &err) < 0);
    TEST_CHECK(!strcmp(err.sqlstate, "54000") && !strcmp(err.message, "vector cannot have more than 16000 dimensions"));
    strbuf_free(&sb);
    int32_t tm = 0, mods[1] = {0};
    sql_error_clear(&err);
    TEST_CHECK(type_vector_typmod_in(1, mods, &tm, &err) < 0 && !strcmp(err.sqlstate, "22023"));
    mods[0] = 16001;
    sql_error_clear(&err);
    TEST_CHECK(type_vector_typmod_in(1, mods, &tm, &err) < 0 &&
               !strcmp(err.message, "dimensions for type vector cannot exceed 16000"));
    mods[0] = 3;
    TEST_CHECK(type_vector_typmod_in(1, mods, &tm, &err) == 0 && tm == 3);
}

TEST(vector_binary)
{
    setup();
    datum_t d = vec("[1,-2.5,3]");
    strbuf_t sb;
    strbuf_init(&sb);
    type_send_binary(TYPE_VECTOR, -1, d, &sb);
    static const uint8_t want[] = {0, 3, 0, 0, 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0, 0x40, 0x40, 0, 0};
    TEST_REQUIRE(sb.len == sizeof want && !memcmp(sb.data, want, sizeof want));
    datum_t back;
    sql_error_t err = {0};
    TEST_CHECK(type_recv_binary(TYPE_VECTOR, 3, want, sizeof want, &arena, &back, &err) == 0);
    TEST_CHECK(type_cmp(TYPE_VECTOR, d, back) == 0 && type_hash(TYPE_VECTOR, d) == type_hash(TYPE_VECTOR, back));
    TEST_CHECK(type_recv_binary(TYPE_VECTOR, 2, want, sizeof want, &arena, &back, &err) < 0 &&
               !strcmp(err.message, "expected 2 dimensions, not 3"));
    uint8_t bad[sizeof want];
    memcpy(bad, want, sizeof want);
    bad[3] = 5;
    sql_error_clear(&err);
    TEST_CHECK(type_recv_binary(TYPE_VECTOR, -1, bad, sizeof bad, &arena, &back, &err) < 0 &&
               !strcmp(err.message, "expected unused to be 0, not 5"));
    sql_error_clear(&err);
    TEST_CHECK(type_recv_binary(TYPE_VECTOR, -1, want, sizeof want - 1, &arena, &back, &err) < 0 &&
               !strcmp(err.sqlstate, "08P01"));
    memcpy(bad, want, sizeof want);
    bad[4] = 0x7f, bad[5] = 0xc0;          /* NaN */
    sql_error_clear(&err);
    TEST_CHECK(type_recv_binary(TYPE_VECTOR, -1, bad, sizeof bad, &arena, &back, &err) < 0 &&
               !strcmp(err.message, "NaN not allowed in vector"));
    strbuf_free(&sb);
}

TEST(vector_order_and_cast)
{
    TEST_CHECK(type_cmp(TYPE_VECTOR, vec("[1,2]"), vec("[1,3]")) < 0);
    TEST_CHECK(type_cmp(TYPE_VECTOR, vec("[1,2]"), vec("[1,2,0]")) < 0);
    TEST_CHECK(type_cmp(TYPE_VECTOR, vec("[-0]"), vec("[0]")) == 0);
    TEST_CHECK(type_hash(TYPE_VECTOR, vec("[-0]")) == type_hash(TYPE_VECTOR, vec("[0]")));
    datum_t out;
    sql_error_t err = {0};
    TEST_CHECK(type_cast(TYPE_VECTOR, TYPE_VECTOR, 3, CAST_EXPLICIT, vec("[1,2]"), &arena, &out, &err) < 0 &&
               !strcmp(err.message, "expected 3 dimensions, not 2"));
    strbuf_t sb;
    strbuf_init(&sb);
    type_format(TYPE_VECTOR, 3, &sb);
    TEST_CHECK(sb.data && !strcmp(sb.data, "vector(3)"));
    strbuf_free(&sb);
}

TEST(vector_array_casts)
{
    setup();
    sql_error_t err = {0};
    TEST_CHECK(type_can_cast(TYPE_INT4ARRAY, TYPE_VECTOR, CAST_ASSIGNMENT));
    TEST_CHECK(!type_can_cast(TYPE_INT4ARRAY, TYPE_VECTOR, CAST_IMPLICIT));
    TEST_CHECK(type_can_cast(TYPE_VECTOR, 1021, CAST_IMPLICIT));
    datum_t arr, out;
    TEST_REQUIRE(type_in_text(TYPE_INT4ARRAY, -1, "{1,2,3}", 7, &arena, &arr, &err) == 0);
    TEST_CHECK(type_cast(TYPE_INT4ARRAY, TYPE_VECTOR, 3, CAST_ASSIGNMENT, arr, &arena, &out, &err) == 0 &&
               type_cmp(TYPE_VECTOR, out, vec("[1,2,3]")) == 0);
    TEST_CHECK(type_cast(TYPE_INT4ARRAY, TYPE_VECTOR, 2, CAST_ASSIGNMENT, arr, &arena, &out, &err) < 0 &&
               !strcmp(err.message, "expected 2 dimensions, not 3"));
    sql_error_clear(&err);
    TEST_REQUIRE(type_in_text(1021, -1, "{1.5,NULL}", 10, &arena, &arr, &err) == 0);
    TEST_CHECK(type_cast(1021, TYPE_VECTOR, -1, CAST_ASSIGNMENT, arr, &arena, &out, &err) < 0 &&
               !strcmp(err.sqlstate, "22004"));
    sql_error_clear(&err);
    TEST_CHECK(type_cast(TYPE_VECTOR, 1021, -1, CAST_IMPLICIT, vec("[1.5,-2]"), &arena, &out, &err) == 0);
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(1021, -1, out, &sb);
    TEST_CHECK(sb.data && !strcmp(sb.data, "{1.5,-2}"));
    strbuf_free(&sb);
}

/* Calls a vector builtin by name on two (or one) vectors. */
static int call(const char *name, int nargs, datum_t a, datum_t b, datum_t *out, sql_error_t *err)
{
    type_oid_t types[2] = {TYPE_VECTOR, TYPE_VECTOR}, cast[2];
    const builtin_t *fn = builtin_resolve(name, nargs, types, cast, err);
    if (!fn) return -1;
    builtin_ctx_t ctx = {.arena = &arena};
    datum_t args[2] = {a, b};
    bool nulls[2] = {false, false}, isnull = false;
    return fn->fn(&ctx, nargs, args, nulls, types, out, &isnull, err);
}

TEST(vector_functions)
{
    datum_t a = vec("[1,2,3]"), b = vec("[4,6,8]"), r;
    sql_error_t err = {0};
    TEST_CHECK(call("l2_distance", 2, a, b, &r, &err) == 0 && r.f64 == sqrt(50.0));
    TEST_CHECK(call("inner_product", 2, a, b, &r, &err) == 0 && r.f64 == 40.0);
    TEST_CHECK(call("vector_negative_inner_product", 2, a, b, &r, &err) == 0 && r.f64 == -40.0);
    TEST_CHECK(call("l1_distance", 2, a, b, &r, &err) == 0 && r.f64 == 12.0);
    TEST_CHECK(call("cosine_distance", 2, a, b, &r, &err) == 0 && r.f64 == 1.0 - 40.0 / sqrt(14.0 * 116.0));
    TEST_CHECK(call("cosine_distance", 2, vec("[0,0]"), vec("[1,1]"), &r, &err) == 0 && isnan(r.f64));
    TEST_CHECK(call("cosine_distance", 2, vec("[1,1]"), vec("[1,1]"), &r, &err) == 0 && r.f64 == 0.0);
    TEST_CHECK(call("vector_norm", 1, vec("[3,4]"), a, &r, &err) == 0 && r.f64 == 5.0);
    TEST_CHECK(call("vector_dims", 1, a, a, &r, &err) == 0 && r.i64 == 3);
    TEST_CHECK(call("l2_normalize", 1, vec("[3,4]"), a, &r, &err) == 0 &&
               type_vector_data(r)[0] == 0.6f && type_vector_data(r)[1] == 0.8f);
    TEST_CHECK(call("vector_add", 2, a, b, &r, &err) == 0 && type_cmp(TYPE_VECTOR, r, vec("[5,8,11]")) == 0);
    TEST_CHECK(call("vector_mul", 2, vec("[1e30]"), vec("[1e30]"), &r, &err) < 0 &&
               !strcmp(err.message, "value out of range: overflow"));
    sql_error_clear(&err);
    TEST_CHECK(call("l2_distance", 2, a, vec("[1,2]"), &r, &err) < 0 && !strcmp(err.sqlstate, "22000") &&
               !strcmp(err.message, "different vector dimensions 3 and 2"));
    TEST_CHECK(builtins_vector_operator("<->") && !strcmp(builtins_vector_operator("<->"), "l2_distance"));
    TEST_CHECK(builtins_vector_operator("<#>") && !strcmp(builtins_vector_operator("<#>"), "vector_negative_inner_product"));
}

TEST(vector_aggregates)
{
    setup();
    const vstr_t *avg = NULL, *sum = NULL;
    sql_error_t err = {0};
    datum_t out;
    bool isnull;
    TEST_CHECK(builtins_vector_agg_final(&arena, true, avg, &out, &isnull, &err) == 0 && isnull);
    const char *in[] = {"[1,2]", "[2,4]", "[4,9]"};
    for (int i = 0; i < 3; i++) {
        TEST_CHECK(builtins_vector_agg_add(&arena, true, &avg, vec(in[i]), &err) == 0);
        TEST_CHECK(builtins_vector_agg_add(&arena, false, &sum, vec(in[i]), &err) == 0);
    }
    TEST_CHECK(builtins_vector_agg_final(&arena, true, avg, &out, &isnull, &err) == 0 && !isnull);
    TEST_CHECK(type_vector_data(out)[0] == (float)(7.0 / 3.0) && type_vector_data(out)[1] == 5.0f);
    TEST_CHECK(builtins_vector_agg_final(&arena, false, sum, &out, &isnull, &err) == 0);
    TEST_CHECK(type_cmp(TYPE_VECTOR, out, vec("[7,15]")) == 0);
    TEST_CHECK(builtins_vector_agg_add(&arena, true, &avg, vec("[1]"), &err) < 0 &&
               !strcmp(err.message, "expected 2 dimensions, not 1"));
}

TEST_MAIN()
