/*
 * pgproto_test.c -- protocol v3 framing: startup packets, frontend message parsers
 * (including every truncation and bogus count), and backend message bytes.
 */
#include <string.h>

#include "net/pgproto.h"
#include "tests/unit/test.h"

static void be32(strbuf_t *sb, uint32_t v) { strbuf_put_be32(sb, v); }
static void cstr(strbuf_t *sb, const char *s) { strbuf_append(sb, s, strlen(s) + 1); }

TEST(startup_packet)
{
    strbuf_t sb;
    strbuf_init(&sb);
    be32(&sb, PGPROTO_VERSION(3, 0));
    cstr(&sb, "user"); cstr(&sb, "alice");
    cstr(&sb, "application_name"); cstr(&sb, "psql");
    strbuf_putc(&sb, 0);
    pgproto_startup_t st;
    sql_error_t err = {0};
    TEST_REQUIRE(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == 0);
    TEST_CHECK(st.kind == PGPROTO_STARTUP && st.version == 0x30000);
    TEST_CHECK(st.nparams == 2 && !strcmp(st.user, "alice") && st.database == NULL);
    TEST_CHECK(!strcmp(st.params[1].name, "application_name") && !strcmp(st.params[1].value, "psql"));
    /* missing terminator */
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len - 1, &st, &err) == -1);
    TEST_CHECK(!strcmp(err.sqlstate, "08P01") && strstr(err.message, "expected terminator"));
    /* name without value */
    strbuf_reset(&sb);
    be32(&sb, PGPROTO_VERSION(3, 0));
    cstr(&sb, "user");
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == -1);
    /* protocol 2.0 and 4.0 */
    strbuf_reset(&sb);
    be32(&sb, PGPROTO_VERSION(2, 0));
    strbuf_putc(&sb, 0);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == -1);
    TEST_CHECK(!strcmp(err.sqlstate, "0A000") && strstr(err.message, "unsupported frontend protocol 2.0"));
    /* SSL, GSS, cancel */
    strbuf_reset(&sb);
    be32(&sb, PGPROTO_CODE_SSL);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == 0 && st.kind == PGPROTO_SSL);
    strbuf_reset(&sb);
    be32(&sb, PGPROTO_CODE_GSSENC);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == 0 && st.kind == PGPROTO_GSSENC);
    strbuf_reset(&sb);
    be32(&sb, PGPROTO_CODE_CANCEL); be32(&sb, (5u << 22) | 7); be32(&sb, 0xdeadbeef);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == 0);
    TEST_CHECK(st.kind == PGPROTO_CANCEL && st.cancel_pid == ((5 << 22) | 7) &&
               (uint32_t)st.cancel_secret == 0xdeadbeef);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len - 1, &st, &err) == -1);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, 3, &st, &err) == -1);
    /* too many parameters */
    strbuf_reset(&sb);
    be32(&sb, PGPROTO_VERSION(3, 0));
    for (int i = 0; i <= LIMIT_PG_STARTUP_PARAMS; i++) { cstr(&sb, "a"); cstr(&sb, "b"); }
    strbuf_putc(&sb, 0);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_startup((uint8_t *)sb.data, sb.len, &st, &err) == -1);
    strbuf_free(&sb);
}

TEST(parse_and_bind)
{
    arena_t a;
    arena_init(&a, 0);
    strbuf_t sb;
    strbuf_init(&sb);
    cstr(&sb, "s1"); cstr(&sb, "select $1, $2");
    strbuf_put_be16(&sb, 2); be32(&sb, 23); be32(&sb, 0);
    pgproto_parse_t p;
    sql_error_t err = {0};
    TEST_REQUIRE(pgproto_parse_parse((uint8_t *)sb.data, sb.len, &a, &p, &err) == 0);
    TEST_CHECK(!strcmp(p.name, "s1") && p.query_len == 13 && p.nparams == 2 &&
               p.param_types[0] == 23 && p.param_types[1] == 0);
    for (size_t cut = 0; cut < sb.len; cut++) {
        sql_error_clear(&err);
        TEST_CHECK(pgproto_parse_parse((uint8_t *)sb.data, cut, &a, &p, &err) == -1);
        TEST_CHECK(!strcmp(err.sqlstate, "08P01"));
    }
    /* count larger than the bytes left */
    strbuf_reset(&sb);
    cstr(&sb, ""); cstr(&sb, "x"); strbuf_put_be16(&sb, 0xffff);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_parse((uint8_t *)sb.data, sb.len, &a, &p, &err) == -1);
    TEST_CHECK(!strcmp(err.message, "insufficient data left in message"));

    strbuf_reset(&sb);
    cstr(&sb, "p"); cstr(&sb, "s1");
    strbuf_put_be16(&sb, 1); strbuf_put_be16(&sb, 1);        /* all binary */
    strbuf_put_be16(&sb, 2);
    be32(&sb, 4); be32(&sb, 42);
    be32(&sb, 0xffffffff);                                    /* NULL */
    strbuf_put_be16(&sb, 1); strbuf_put_be16(&sb, 0);
    pgproto_bind_t b;
    sql_error_clear(&err);
    TEST_REQUIRE(pgproto_parse_bind((uint8_t *)sb.data, sb.len, &a, &b, &err) == 0);
    TEST_CHECK(!strcmp(b.portal, "p") && !strcmp(b.stmt, "s1"));
    TEST_CHECK(b.nformats == 1 && b.formats[0] == 1 && b.nvalues == 2);
    TEST_CHECK(b.lengths[0] == 4 && b.values[0][3] == 42 && b.values[1] == NULL && b.lengths[1] == -1);
    TEST_CHECK(b.nresult_formats == 1 && b.result_formats[0] == 0);
    for (size_t cut = 0; cut < sb.len; cut++) {
        sql_error_clear(&err);
        TEST_CHECK(pgproto_parse_bind((uint8_t *)sb.data, cut, &a, &b, &err) == -1);
    }
    /* trailing garbage */
    strbuf_putc(&sb, 'x');
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_bind((uint8_t *)sb.data, sb.len, &a, &b, &err) == -1);
    TEST_CHECK(!strcmp(err.message, "invalid message format"));
    /* negative value length other than -1; bad format code; format count mismatch */
    strbuf_reset(&sb);
    cstr(&sb, ""); cstr(&sb, ""); strbuf_put_be16(&sb, 0); strbuf_put_be16(&sb, 1);
    be32(&sb, (uint32_t)-2); strbuf_put_be16(&sb, 0);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_bind((uint8_t *)sb.data, sb.len, &a, &b, &err) == -1);
    strbuf_reset(&sb);
    cstr(&sb, ""); cstr(&sb, ""); strbuf_put_be16(&sb, 1); strbuf_put_be16(&sb, 7);
    strbuf_put_be16(&sb, 0); strbuf_put_be16(&sb, 0);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_bind((uint8_t *)sb.data, sb.len, &a, &b, &err) == -1);
    TEST_CHECK(!strcmp(err.sqlstate, "22023"));
    strbuf_reset(&sb);
    cstr(&sb, ""); cstr(&sb, ""); strbuf_put_be16(&sb, 2); strbuf_put_be16(&sb, 0);
    strbuf_put_be16(&sb, 0); strbuf_put_be16(&sb, 1); be32(&sb, 0); strbuf_put_be16(&sb, 0);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_bind((uint8_t *)sb.data, sb.len, &a, &b, &err) == -1);
    TEST_CHECK(strstr(err.message, "2 parameter formats but 1 parameters") != NULL);
    strbuf_free(&sb);
    arena_destroy(&a);
}

TEST(small_messages)
{
    sql_error_t err = {0};
    char kind;
    const char *name;
    TEST_CHECK(pgproto_parse_target((const uint8_t *)"Sabc", 5, "DESCRIBE", &kind, &name, &err) == 0);
    TEST_CHECK(kind == 'S' && !strcmp(name, "abc"));
    TEST_CHECK(pgproto_parse_target((const uint8_t *)"X", 2, "CLOSE", &kind, &name, &err) == -1);
    TEST_CHECK(strstr(err.message, "invalid CLOSE message subtype 88") != NULL);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_target((const uint8_t *)"Pab", 3, "DESCRIBE", &kind, &name, &err) == -1);
    const char *portal;
    int32_t max_rows;
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_execute((const uint8_t *)"\0\0\0\0\x0a", 5, &portal, &max_rows, &err) == 0);
    TEST_CHECK(!strcmp(portal, "") && max_rows == 10);
    TEST_CHECK(pgproto_parse_execute((const uint8_t *)"\0\0\0\x0a", 4, &portal, &max_rows, &err) == -1);
    const char *sql;
    size_t sql_len;
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_query((const uint8_t *)"select 1", 9, &sql, &sql_len, &err) == 0 && sql_len == 8);
    TEST_CHECK(pgproto_parse_query((const uint8_t *)"select 1", 8, &sql, &sql_len, &err) == -1);
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_empty(NULL, 0, &err) == 0);
    TEST_CHECK(pgproto_parse_empty((const uint8_t *)"x", 1, &err) == -1);
    const char *mech;
    const uint8_t *data;
    int32_t dl;
    sql_error_clear(&err);
    TEST_CHECK(pgproto_parse_sasl_initial((const uint8_t *)"SCRAM-SHA-256\0\0\0\0\3n,,", 21, &mech,
                                          &data, &dl, &err) == 0);
    TEST_CHECK(!strcmp(mech, "SCRAM-SHA-256") && dl == 3 && !memcmp(data, "n,,", 3));
    TEST_CHECK(pgproto_parse_sasl_initial((const uint8_t *)"SCRAM-SHA-256\0\0\0\0\4n,,", 21, &mech,
                                          &data, &dl, &err) == -1);
}

TEST(backend_messages)
{
    strbuf_t sb;
    strbuf_init(&sb);
    pgproto_put_ready(&sb, 'I');
    TEST_CHECK(sb.len == 6 && !memcmp(sb.data, "Z\0\0\0\5I", 6));
    strbuf_reset(&sb);
    pgproto_put_complete(&sb, "SELECT 1");
    TEST_CHECK(sb.len == 1 + 4 + 9 && sb.data[0] == 'C' && sb.data[4] == 13);
    strbuf_reset(&sb);
    sql_error_t e = {0};
    sql_error(&e, "42P01", "relation \"t\" does not exist");
    e.position = 15;
    pgproto_put_error(&sb, 'E', &e);
    const char want[] = "E\0\0\0\x3bSERROR\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0P15\0";
    TEST_CHECK(sb.len == sizeof want && !memcmp(sb.data, want, sizeof want));
    strbuf_reset(&sb);
    sql_coldesc_t col = {.name = "a", .table_oid = 0, .attnum = 0, .type = 23, .typlen = 4, .typmod = -1};
    int16_t fmt = 1;
    pgproto_put_rowdesc(&sb, 1, &col, &fmt);
    const char rd[] = "T\0\0\0\x1a\0\1a\0\0\0\0\0\0\0\0\0\0\x17\0\4\xff\xff\xff\xff\0\1";
    TEST_CHECK(sb.len == sizeof rd - 1 && !memcmp(sb.data, rd, sb.len));
    strbuf_reset(&sb);
    pgproto_put_backend_key(&sb, 0x00400001, 0x12345678);
    TEST_CHECK(sb.len == 13 && !memcmp(sb.data, "K\0\0\0\x0c\0\x40\0\1\x12\x34\x56\x78", 13));
    strbuf_reset(&sb);
    pgproto_put_auth(&sb, 10, "SCRAM-SHA-256\0", 15);
    TEST_CHECK(sb.len == 1 + 4 + 4 + 15 && sb.data[4] == 23 && sb.data[8] == 10);
    strbuf_reset(&sb);
    const char *opts[] = {"_pq_.x"};
    pgproto_put_negotiate(&sb, 0, 1, opts);
    TEST_CHECK(sb.len == 1 + 4 + 8 + 7 && sb.data[0] == 'v' && sb.data[12] == 1);
    strbuf_free(&sb);
}

TEST_MAIN()
