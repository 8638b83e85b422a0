/*
 * httpreq_test.c -- HTTP request-head parsing: complete/incomplete heads, headers
 * that matter (Content-Length, Transfer-Encoding, Connection, Expect), limits and
 * malformed input.
 */
#include <string.h>

#include "core/limits.h"
#include "net/httpreq.h"
#include "tests/unit/test.h"

static int parse(const char *s, httpreq_t *r) { return httpreq_parse(s, strlen(s), r); }

TEST(basic_post)
{
    httpreq_t r;
    const char *req = "POST /query?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                      "Content-Length: 12\r\n\r\n{\"sql\":\"x\"}";
    int n = parse(req, &r);
    TEST_REQUIRE(n > 0);
    TEST_CHECK((size_t)n == strlen(req) - 11);
    TEST_CHECK(httpreq_method_is(&r, "POST") && !httpreq_method_is(&r, "GET"));
    TEST_CHECK(httpreq_path_is(&r, "/query") && r.target_len == 10);
    TEST_CHECK(r.version_minor == 1 && r.content_length == 12 && r.keep_alive && !r.chunked);
    /* every prefix of the head is incomplete */
    for (int i = 0; i < n; i++)
        TEST_CHECK(httpreq_parse(req, (size_t)i, &r) == 0);
}

TEST(connection_semantics)
{
    httpreq_t r;
    TEST_CHECK(parse("GET /health HTTP/1.0\r\n\r\n", &r) > 0 && !r.keep_alive);
    TEST_CHECK(parse("GET /health HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0 && r.keep_alive);
    TEST_CHECK(parse("GET /health HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &r) > 0 && !r.keep_alive);
    TEST_CHECK(parse("GET /health HTTP/1.1\n\n", &r) > 0 && r.keep_alive && r.content_length == -1);
    TEST_CHECK(parse("POST /query HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0 && r.chunked);
    TEST_CHECK(parse("POST /query HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", &r) > 0 &&
               r.expect_continue);
    TEST_CHECK(parse("POST /q HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &r) > 0);
}

TEST(malformed)
{
    httpreq_t r;
    const char *bad[] = {
        "GET\r\n\r\n", "GET /\r\n\r\n", " GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n",
        "GET / FTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET / HTTP/1.1\r\n: x\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i], &r);
        TEST_CHECK(rc == -400);
        if (rc != -400) fprintf(stderr, "  case %zu gave %d\n", i, rc);
    }
    TEST_CHECK(parse("GET / HTTP/2.0\r\n\r\n", &r) == -505);
    TEST_CHECK(parse("GET / HTTP/1.2\r\n\r\n", &r) == -505);
}

TEST(limits)
{
    httpreq_t r;
    static char big[LIMIT_HTTP_HEADER_BYTES + 64];
    strcpy(big, "GET / HTTP/1.1\r\nX: ");
    size_t n = strlen(big);
    memset(big + n, 'a', sizeof big - n - 1);
    big[sizeof big - 1] = 0;
    TEST_CHECK(httpreq_parse(big, sizeof big - 1, &r) == -431);
    TEST_CHECK(httpreq_parse(big, LIMIT_HTTP_HEADER_BYTES - 1, &r) == 0);
    static char many[LIMIT_HTTP_HEADER_BYTES];
    strcpy(many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= LIMIT_HTTP_HEADERS; i++)
        strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    TEST_CHECK(parse(many, &r) == -431);
    TEST_CHECK(strcmp(httpreq_reason(413), "Content Too Large") == 0);
}

TEST_MAIN()
