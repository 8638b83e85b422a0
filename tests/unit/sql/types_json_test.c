/*
 * types_json_test.c -- sql/types_json: the RFC 8259 parser and jsonb
 * canonicalizer on their own: canonical text (key order, duplicates, numbers,
 * escapes), json kept verbatim, malformed input with PostgreSQL's SQLSTATE,
 * message and DETAIL, the nesting bound (54001), number comparison, ordering,
 * hashing of equal values and containment; uuid text forms.
 */
#include <string.h>

#include "sql/types_json.h"
#include "sql/types_uuid.h"
#include "tests/unit/test.h"

static arena_t arena;
static char out_buf[1400];

static void setup(void)
{
    if (!arena.budget_bytes) arena_init(&arena, 64 << 20);
}

/* Text round trip of type t, or "ERR <state> <message> | <detail>". */
static const char *rt(type_oid_t t, const char *in, size_t len)
{
    setup();
    datum_t d;
    sql_error_t err = {0};
    if (type_in_text(t, -1, in, len, &arena, &d, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s | %s", err.sqlstate, err.message, err.detail);
        return out_buf;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(t, -1, d, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

static const char *jb(const char *in) { return rt(TYPE_JSONB, in, strlen(in)); }

#define EQ(got, want) TEST_CHECK(!strcmp((got), (want)))

TEST(jsonb_canonical)
{
    EQ(jb("{\"b\":1,\"a\":2,\"aa\":3,\"a\":4}"), "{\"a\": 4, \"b\": 1, \"aa\": 3}");
    EQ(jb(" [ 1 , {} , [ ] , null , true , false ] "), "[1, {}, [], null, true, false]");
    EQ(jb("[1e2, 1.50, -0, -0.0, 0.001, 1E-3, 12.5e1, 100e-2, 0e10, 5e0]"),
       "[100, 1.50, 0, 0.0, 0.001, 0.001, 125, 1.00, 0, 5]");
    EQ(jb("-1.5e-5"), "-0.000015");
    EQ(jb("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u001f\""),
       "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\xc3\xa9\xf0\x9f\x98\x80\\u001f\"");
    /* canonical text parses to itself */
    const char *c = "{\"a\": [1, 2.50, {\"x\": null}], \"bb\": \"\\u0001\"}";
    EQ(jb(c), c);
    EQ(rt(TYPE_JSON, "{\"b\":1,  \"a\" : 2 ,\"b\":3}", 24), "{\"b\":1,  \"a\" : 2 ,\"b\":3}");
}

TEST(json_malformed)
{
    EQ(jb(""), "ERR 22P02 invalid input syntax for type json | The input string ended unexpectedly.");
    EQ(jb("[1,2"), "ERR 22P02 invalid input syntax for type json | The input string ended unexpectedly.");
    EQ(jb("{\"a\" 1}"), "ERR 22P02 invalid input syntax for type json | Expected \":\", but found \"1\".");
    EQ(jb("{\"a\":1,}"), "ERR 22P02 invalid input syntax for type json | Expected string, but found \"}\".");
    EQ(jb("{1:2}"), "ERR 22P02 invalid input syntax for type json | Expected string or \"}\", but found \"1\".");
    EQ(jb("[1 2]"), "ERR 22P02 invalid input syntax for type json | Expected \",\" or \"]\", but found \"2\".");
    EQ(jb("[1,]"), "ERR 22P02 invalid input syntax for type json | Expected JSON value, but found \"]\".");
    EQ(jb("1 2"), "ERR 22P02 invalid input syntax for type json | Expected end of input, but found \"2\".");
    EQ(jb("tru"), "ERR 22P02 invalid input syntax for type json | Token \"tru\" is invalid.");
    EQ(jb("01"), "ERR 22P02 invalid input syntax for type json | Token \"01\" is invalid.");
    EQ(jb("1."), "ERR 22P02 invalid input syntax for type json | Token \"1.\" is invalid.");
    EQ(jb("\"abc"), "ERR 22P02 invalid input syntax for type json | Token \"\"abc\" is invalid.");
    EQ(jb("\"\\x\""), "ERR 22P02 invalid input syntax for type json | Escape sequence \"\\x\" is invalid.");
    EQ(jb("\"\\u12\""), "ERR 22P02 invalid input syntax for type json | \"\\u\" must be followed by four hexadecimal digits.");
    EQ(jb("\"\\u0000\""), "ERR 22P05 unsupported Unicode escape sequence | \\u0000 cannot be converted to text.");
    EQ(jb("\"\\ude00\""), "ERR 22P02 invalid input syntax for type json | Unicode low surrogate must follow a high surrogate.");
    EQ(jb("\"a\nb\""), "ERR 22P02 invalid input syntax for type json | Character with value 0x0a must be escaped.");
    EQ(jb("1e100000000"), "ERR 22003 value overflows numeric format | ");
    EQ(jb("1e-20000"), "ERR 22003 value overflows numeric format | ");
    /* json validates but keeps \u0000 and lone surrogates, as PostgreSQL's json does */
    EQ(rt(TYPE_JSON, "\"\\u0000\"", 8), "\"\\u0000\"");
    EQ(rt(TYPE_JSON, "[1,", 3), "ERR 22P02 invalid input syntax for type json | The input string ended unexpectedly.");
    /* a NUL byte inside the text is an invalid token, never a truncation */
    EQ(rt(TYPE_JSONB, "[1]\0", 4), "ERR 22P02 invalid input syntax for type json | Token \"\" is invalid.");
}

TEST(json_depth)
{
    static char deep[2 * (LIMIT_SQL_JSON_DEPTH + 1) + 1];
    int d = LIMIT_SQL_JSON_DEPTH;
    memset(deep, '[', (size_t)d);
    memset(deep + d, ']', (size_t)d);
    TEST_CHECK(strncmp(rt(TYPE_JSONB, deep, 2 * (size_t)d), "ERR", 3) != 0);
    memset(deep, '[', (size_t)d + 1);
    memset(deep + d + 1, ']', (size_t)d + 1);
    TEST_CHECK(!strncmp(rt(TYPE_JSONB, deep, 2 * (size_t)d + 2), "ERR 54001 stack depth limit exceeded", 36));
    TEST_CHECK(!strncmp(rt(TYPE_JSON, deep, 2 * (size_t)d + 2), "ERR 54001", 9));
    /* unbalanced deep input ends in an error, never a crash */
    TEST_CHECK(!strncmp(rt(TYPE_JSONB, deep, (size_t)d - 1), "ERR 22P02", 9));
}

static jv_t *tree(const char *s)
{
    setup();
    jv_t *v = NULL;
    sql_error_t err = {0};
    TEST_CHECK(jv_parse(s, strlen(s), true, &arena, &v, &err) == 0);
    return v;
}

static datum_t jd(const char *s)
{
    setup();
    datum_t d = {0};
    sql_error_t err = {0};
    TEST_CHECK(type_in_text(TYPE_JSONB, -1, s, strlen(s), &arena, &d, &err) == 0);
    return d;
}

TEST(jsonb_order_hash_contains)
{
    TEST_CHECK(jv_number_cmp("1.0", 3, "1", 1) == 0);
    TEST_CHECK(jv_number_cmp("-1.5", 4, "-1.25", 5) < 0);
    TEST_CHECK(jv_number_cmp("10", 2, "9.99", 4) > 0);
    TEST_CHECK(jv_number_cmp("0.5", 3, "0.50001", 7) < 0);
    TEST_CHECK(jv_number_cmp("0", 1, "-0.1", 4) > 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("{\"a\":1}"), jd("[1,2,3]")) > 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("[1,2,3]"), jd("[9]")) > 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("true"), jd("1")) > 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("1"), jd("\"a\"")) > 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("1"), jd("[1]")) < 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("1"), jd("[]")) > 0);
    TEST_CHECK(type_cmp(TYPE_JSONB, jd("{\"a\":[1.0]}"), jd("{\"a\":[1]}")) == 0);
    TEST_CHECK(type_hash(TYPE_JSONB, jd("{\"a\":[1.0]}")) == type_hash(TYPE_JSONB, jd("{\"a\":[1]}")));
    TEST_CHECK(type_hash(TYPE_JSONB, jd("[1]")) != type_hash(TYPE_JSONB, jd("[2]")));
    TEST_CHECK(jv_contains(tree("{\"a\":1,\"b\":[1,2,{\"c\":3}]}"), tree("{\"b\":[{\"c\":3}]}")));
    TEST_CHECK(jv_contains(tree("[\"a\",\"b\"]"), tree("\"a\"")));
    TEST_CHECK(!jv_contains(tree("\"a\""), tree("[\"a\"]")));
    TEST_CHECK(!jv_contains(tree("[{\"a\":1}]"), tree("{\"a\":1}")));
}

TEST(uuid_text)
{
    EQ(rt(TYPE_UUID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", 36), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EQ(rt(TYPE_UUID, "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", 34), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EQ(rt(TYPE_UUID, "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", 39), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EQ(rt(TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", 35),
       "ERR 22P02 invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\" | ");
    EQ(rt(TYPE_UUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 37),
       "ERR 22P02 invalid input syntax for type uuid: \"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\" | ");
    datum_t d;
    sql_error_t err = {0};
    TEST_REQUIRE(type_uuid_random(&arena, &d, &err) == 0);
    TEST_CHECK(d.s->len == 16 && (d.s->data[6] & 0xf0) == 0x40 && (d.s->data[8] & 0xc0) == 0x80);
}

TEST_MAIN()
