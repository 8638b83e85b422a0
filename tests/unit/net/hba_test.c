/*
 * hba_test.c -- hba.conf parsing and first-match rules, users.conf verifiers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/hba.h"
#include "net/scram.h"
#include "tests/unit/test.h"

static int match4(const hba_t *h, const char *db, const char *user, const char *ip)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &sin.sin_addr);
    return hba_match(h, db, user, (const struct sockaddr *)&sin, sizeof sin);
}

static int match6(const hba_t *h, const char *db, const char *user, const char *ip)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, ip, &sin6.sin6_addr);
    return hba_match(h, db, user, (const struct sockaddr *)&sin6, sizeof sin6);
}

TEST(default_rules)
{
    hba_t h;
    hba_init(&h);
    TEST_REQUIRE(hba_set_default(&h) == 0);
    TEST_CHECK(match4(&h, "db", "u", "127.0.0.1") == HBA_TRUST);
    TEST_CHECK(match4(&h, "db", "u", "127.0.0.2") == HBA_NO_MATCH);
    TEST_CHECK(match4(&h, "db", "u", "10.0.0.1") == HBA_NO_MATCH);
    TEST_CHECK(match6(&h, "db", "u", "::1") == HBA_TRUST);
    TEST_CHECK(match6(&h, "db", "u", "::ffff:127.0.0.1") == HBA_TRUST);
    TEST_CHECK(match6(&h, "db", "u", "fe80::1") == HBA_NO_MATCH);
    hba_free(&h);
}

TEST(first_match_wins)
{
    static const char conf[] =
        "# comment line\n"
        "\n"
        "host  all      bad       all            reject   # trailing comment\n"
        "hostssl all    all       0.0.0.0/0      trust\n"
        "host  app,web  alice,bob 10.1.0.0/16    scram-sha-256\n"
        "host  sameuser all       10.0.0.0/8     trust\n"
        "host  all      all       192.168.1.7/32 md5\n"
        "host  all      all       2001:db8::/32  trust\n";
    hba_t h;
    hba_init(&h);
    char why[160] = "";
    TEST_REQUIRE(hba_parse_rules(&h, conf, sizeof conf - 1, why, sizeof why) == 0);
    TEST_CHECK(h.rules_count == 6);
    TEST_CHECK(match4(&h, "app", "bad", "10.1.2.3") == HBA_REJECT);
    TEST_CHECK(match4(&h, "app", "alice", "10.1.2.3") == HBA_SCRAM);
    TEST_CHECK(match4(&h, "web", "bob", "10.1.255.255") == HBA_SCRAM);
    TEST_CHECK(match4(&h, "other", "alice", "10.1.2.3") == HBA_NO_MATCH);
    TEST_CHECK(match4(&h, "carol", "carol", "10.9.9.9") == HBA_TRUST);
    TEST_CHECK(match4(&h, "app", "carol", "10.9.9.9") == HBA_NO_MATCH);
    TEST_CHECK(match4(&h, "x", "y", "192.168.1.7") == HBA_SCRAM);
    TEST_CHECK(match4(&h, "x", "y", "192.168.1.8") == HBA_NO_MATCH);
    TEST_CHECK(match6(&h, "x", "y", "2001:db8:1::5") == HBA_TRUST);
    TEST_CHECK(match6(&h, "x", "y", "2001:db9::5") == HBA_NO_MATCH);
    hba_free(&h);
}

TEST(bad_rules)
{
    const char *bad[] = {
        "hots all all all trust\n", "host all all all\n", "host all all 10.0.0.1 trust\n",
        "host all all 10.0.0.0/33 trust\n", "host all all 10.0.0.0/8 password\n",
        "host all +group all trust\n", "host all all nothost/8 trust\n",
        "host all all all trust extra\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hba_t h;
        hba_init(&h);
        char why[160] = "";
        TEST_CHECK(hba_parse_rules(&h, bad[i], strlen(bad[i]), why, sizeof why) == -1);
        TEST_CHECK(strncmp(why, "line 1:", 7) == 0);
        hba_free(&h);
    }
}

TEST(users)
{
    strbuf_t v;
    strbuf_init(&v);
    const uint8_t salt[16] = {9};
    TEST_REQUIRE(scram_make_verifier("pw", salt, sizeof salt, 64, &v) == 0);
    strbuf_t conf;
    strbuf_init(&conf);
    strbuf_printf(&conf, "# users\nalice %s\n\nbob   %s  \n", v.data, v.data);
    hba_t h;
    hba_init(&h);
    char why[160] = "";
    TEST_REQUIRE(hba_parse_users(&h, conf.data, conf.len, why, sizeof why) == 0);
    TEST_CHECK(h.users_count == 2);
    TEST_CHECK(hba_user_verifier(&h, "alice") && !strcmp(hba_user_verifier(&h, "bob"), v.data));
    TEST_CHECK(hba_user_verifier(&h, "carol") == NULL);
    TEST_CHECK(hba_parse_users(&h, "dave md5xyz\n", 12, why, sizeof why) == -1);
    TEST_CHECK(hba_parse_users(&h, "dave\n", 5, why, sizeof why) == -1);
    hba_free(&h);
    strbuf_free(&conf);
    strbuf_free(&v);
}

TEST(load_file)
{
    strbuf_t sb;
    strbuf_init(&sb);
    char why[160];
    TEST_CHECK(hba_load_file("/nonexistent/nextdb/hba.conf", &sb, why, sizeof why) == 1);
    char path[] = "/tmp/nextdb_hba_test_XXXXXX";
    int fd = mkstemp(path);
    TEST_REQUIRE(fd >= 0);
    TEST_CHECK(write(fd, "host all all all reject\n", 24) == 24);
    close(fd);
    TEST_CHECK(hba_load_file(path, &sb, why, sizeof why) == 0);
    TEST_CHECK(sb.len == 24 && !memcmp(sb.data, "host all", 8));
    unlink(path);
    strbuf_free(&sb);
}

TEST_MAIN()
