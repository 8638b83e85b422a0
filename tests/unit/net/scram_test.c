/*
 * scram_test.c -- SCRAM-SHA-256 against the RFC 7677 section 3 example exchange,
 * plus base64 edge cases, verifier round trips and failure paths.
 */
#include <string.h>

#include "net/scram.h"
#include "tests/unit/test.h"

#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SERVER_FIRST \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static int rfc_verifier(scram_verifier_t *v)
{
    uint8_t salt[32];
    int n = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof salt);
    if (n != 16)
        return -1;
    strbuf_t sb;
    strbuf_init(&sb);
    int rc = scram_make_verifier("pencil", salt, (size_t)n, 4096, &sb);
    if (rc == 0)
        rc = scram_parse_verifier(sb.data, v);
    strbuf_free(&sb);
    return rc;
}

TEST(base64)
{
    strbuf_t sb;
    strbuf_init(&sb);
    scram_b64_encode((const uint8_t *)"n,,", 3, &sb);
    TEST_CHECK(strcmp(sb.data, "biws") == 0);
    strbuf_reset(&sb);
    scram_b64_encode((const uint8_t *)"ab", 2, &sb);
    TEST_CHECK(strcmp(sb.data, "YWI=") == 0);
    strbuf_reset(&sb);
    scram_b64_encode((const uint8_t *)"a", 1, &sb);
    TEST_CHECK(strcmp(sb.data, "YQ==") == 0);
    strbuf_free(&sb);
    uint8_t out[8];
    TEST_CHECK(scram_b64_decode("YWI=", 4, out, sizeof out) == 2 && memcmp(out, "ab", 2) == 0);
    TEST_CHECK(scram_b64_decode("YQ==", 4, out, sizeof out) == 1 && out[0] == 'a');
    TEST_CHECK(scram_b64_decode("", 0, out, sizeof out) == 0);
    TEST_CHECK(scram_b64_decode("YQ=", 3, out, sizeof out) == -1);
    TEST_CHECK(scram_b64_decode("Y===", 4, out, sizeof out) == -1);
    TEST_CHECK(scram_b64_decode("YQ==YQ==", 8, out, sizeof out) == -1);
    TEST_CHECK(scram_b64_decode("Y!Q=", 4, out, sizeof out) == -1);
    TEST_CHECK(scram_b64_decode("YWJjZGVmZ2hp", 12, out, sizeof out) == -1); /* 9 > 8 */
}

TEST(rfc7677_exchange)
{
    scram_verifier_t v;
    TEST_REQUIRE(rfc_verifier(&v) == 0);
    TEST_CHECK(v.iterations == 4096 && v.salt_len == 16);
    scram_server_t st;
    scram_server_init(&st, &v, false);
    strbuf_t out;
    strbuf_init(&out);
    const char *why = NULL;
    TEST_REQUIRE(scram_server_first(&st, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST),
                                    RFC_SNONCE, &out, &why) == 0);
    TEST_CHECK(strcmp(out.data, RFC_SERVER_FIRST) == 0);
    strbuf_reset(&out);
    TEST_CHECK(scram_server_final(&st, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), &out,
                                  &why) == 1);
    TEST_CHECK(strcmp(out.data, RFC_SERVER_FINAL) == 0);
    strbuf_free(&out);
    scram_server_free(&st);
}

static int run_final(const scram_verifier_t *v, bool doomed, const char *final,
                     const char **why)
{
    scram_server_t st;
    scram_server_init(&st, v, doomed);
    strbuf_t out;
    strbuf_init(&out);
    int rc = scram_server_first(&st, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST), RFC_SNONCE,
                                &out, why);
    if (rc == 0) {
        strbuf_reset(&out);
        rc = scram_server_final(&st, final, strlen(final), &out, why);
        if (rc != 1 && out.len != 0)
            rc = 99;               /* nothing may be produced on failure */
    }
    strbuf_free(&out);
    scram_server_free(&st);
    return rc;
}

TEST(wrong_proof_and_malformed)
{
    scram_verifier_t v;
    TEST_REQUIRE(rfc_verifier(&v) == 0);
    const char *why;
    /* one proof byte changed */
    TEST_CHECK(run_final(&v, false, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                             "p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &why) == 0);
    /* wrong nonce */
    TEST_CHECK(run_final(&v, false, "c=biws,r=rOprNGfwEbeRWgbNEkqO,"
                             "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &why) == -1);
    /* wrong channel binding */
    TEST_CHECK(run_final(&v, false, "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                             "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &why) == -1);
    /* missing proof, short proof */
    TEST_CHECK(run_final(&v, false, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                         &why) == -1);
    TEST_CHECK(run_final(&v, false, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=YQ==",
                         &why) == -1);
    /* doomed exchange (unknown user): even the right proof fails */
    TEST_CHECK(run_final(&v, true, RFC_CLIENT_FINAL, &why) == 0);

    scram_server_t st;
    strbuf_t out;
    strbuf_init(&out);
    const char *bad[] = {"p=tls-server-end-point,,n=user,r=abc", "n,a=x,n=user,r=abc",
                         "n,,m=ext,n=user,r=abc", "n,,n=user", "x,,n=user,r=abc",
                         "n,,n=user,r=", "n,,r=abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scram_server_init(&st, &v, false);
        TEST_CHECK(scram_server_first(&st, bad[i], strlen(bad[i]), RFC_SNONCE, &out, &why) == -1);
        scram_server_free(&st);
    }
    /* 'y' flag (client supports binding, thinks we do not) is fine */
    scram_server_init(&st, &v, false);
    TEST_CHECK(scram_server_first(&st, "y,,n=,r=abc", 11, RFC_SNONCE, &out, &why) == 0);
    scram_server_free(&st);
    strbuf_free(&out);
}

TEST(verifier_format)
{
    scram_verifier_t v;
    TEST_CHECK(scram_parse_verifier("md5abc", &v) == -1);
    TEST_CHECK(scram_parse_verifier("SCRAM-SHA-256$0:YQ==$YQ==:YQ==", &v) == -1);
    TEST_CHECK(scram_parse_verifier("SCRAM-SHA-256$4096:YQ==$YQ==:YQ==", &v) == -1);
    strbuf_t sb, nonce;
    strbuf_init(&sb);
    strbuf_init(&nonce);
    const uint8_t salt[4] = {1, 2, 3, 4};
    TEST_REQUIRE(scram_make_verifier("secret", salt, 4, 16, &sb) == 0);
    TEST_CHECK(strncmp(sb.data, "SCRAM-SHA-256$16:AQIDBA==$", 26) == 0);
    TEST_CHECK(scram_parse_verifier(sb.data, &v) == 0 && v.iterations == 16);
    TEST_CHECK(scram_new_nonce(&nonce) == 0 && nonce.len == 24);
    strbuf_free(&sb);
    strbuf_free(&nonce);
}

TEST(mock_verifier)
{
    const uint8_t key[4] = {1, 2, 3, 4}, key2[4] = {1, 2, 3, 5};
    scram_verifier_t a, b, c;
    TEST_REQUIRE(scram_mock_verifier("ghost", key, sizeof key, &a) == 0);
    TEST_REQUIRE(scram_mock_verifier("ghost", key, sizeof key, &b) == 0);
    TEST_REQUIRE(scram_mock_verifier("ghost", key2, sizeof key2, &c) == 0);
    /* the salt a client sees is stable per user, like a real user's */
    TEST_CHECK(a.salt_len == 16 && a.iterations == 4096 && memcmp(a.salt, b.salt, 16) == 0);
    TEST_CHECK(memcmp(a.salt, c.salt, 16) != 0);
    TEST_REQUIRE(scram_mock_verifier("other", key, sizeof key, &b) == 0);
    TEST_CHECK(memcmp(a.salt, b.salt, 16) != 0);
}

TEST_MAIN()
