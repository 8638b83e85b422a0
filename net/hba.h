/*
 * hba.h -- client authentication rules (DATA/hba.conf) and password verifiers
 * (DATA/users.conf), in the spirit of PostgreSQL's pg_hba.conf.
 *
 * Why: the server must decide, per connection, whether to let a client in without a
 * password (trust), ask for one (scram-sha-256) or refuse it (reject), from a small
 * file an operator can read.
 *
 * Model: hba.conf holds one rule per line, '#' starts a comment:
 *     host DATABASE USER ADDRESS/MASKBITS METHOD
 *   - connection type: host or hostnossl (match every TCP connection: there is no
 *     TLS yet); hostssl/hostgssenc/local lines are accepted but never match.
 *   - DATABASE: all, sameuser, or a comma-separated list of names.
 *   - USER: all or a comma-separated list of names.
 *   - ADDRESS: all, or an IPv4/IPv6 CIDR; an IPv4-mapped IPv6 peer matches IPv4 rules.
 *   - METHOD: trust, reject, scram-sha-256 (md5 is read as scram-sha-256, as
 *     PostgreSQL does for users whose stored password is a SCRAM verifier).
 *   The first matching rule wins; no match means the connection is refused. Without
 *   an hba.conf the rules are "trust for 127.0.0.1/32 and ::1/128", nothing else.
 *   users.conf holds `USER VERIFIER` lines, VERIFIER as net_hash_password makes it.
 *
 * Interface:
 *   hba_init / hba_free         empty rule set / release
 *   hba_set_default             the loopback-trust default
 *   hba_parse_rules             hba.conf text -> rules (appends)
 *   hba_parse_users             users.conf text -> verifiers (appends)
 *   hba_load_file               reads a whole config file (absent is reported)
 *   hba_match                   method for (database, user, peer address)
 *   hba_user_verifier           stored verifier of a user, or NULL
 *
 * Limits: LIMIT_HBA_RULES rules, LIMIT_HBA_USERS users, LIMIT_CONF_LINE_BYTES per line.
 * Thread: loaded on the main thread before the shards start; read-only afterwards,
 * so any thread may call hba_match / hba_user_verifier.
 */
#ifndef NEXTDB_HBA_H
#define NEXTDB_HBA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "core/strbuf.h"

enum hba_method { HBA_NO_MATCH = 0, HBA_TRUST = 1, HBA_SCRAM = 2, HBA_REJECT = 3 };

typedef struct hba_rule {
    int line;                    /* in hba.conf, for messages */
    bool never;                  /* hostssl / local ...: kept but never matches */
    char *databases;             /* "all", "sameuser" or "a,b,c" */
    char *users;                 /* "all" or "a,b,c" */
    bool any_addr;
    int family;                  /* AF_INET / AF_INET6 */
    uint8_t addr[16];
    uint8_t mask[16];
    int method;                  /* enum hba_method */
} hba_rule_t;

typedef struct hba_user { char *name; char *verifier; } hba_user_t;

typedef struct hba {
    hba_rule_t *rules;
    int rules_count;
    hba_user_t *users;
    int users_count;
} hba_t;

void hba_init(hba_t *h);
void hba_free(hba_t *h);
/* Replaces nothing: appends the two loopback trust rules. 0 or -1 (out of memory). */
int hba_set_default(hba_t *h);
/* Parses hba.conf text. 0, or -1 with a reason ("line 3: unknown method \"x\"") in
 * why (why_len bytes). Rules parsed before the bad line stay in h. */
int hba_parse_rules(hba_t *h, const char *text, size_t len, char *why, size_t why_len);
/* Parses users.conf text; every verifier is checked with scram_parse_verifier. */
int hba_parse_users(hba_t *h, const char *text, size_t len, char *why, size_t why_len);
/* Reads a whole file into out (bounded by LIMIT_CONF_LINE_BYTES * rule limit).
 * Returns 0, 1 if the file does not exist, -1 with why on other errors. */
int hba_load_file(const char *path, strbuf_t *out, char *why, size_t why_len);
/* The method of the first rule matching; HBA_NO_MATCH if none. sa is the peer. */
int hba_match(const hba_t *h, const char *database, const char *user,
              const struct sockaddr *sa, socklen_t sa_len);
const char *hba_user_verifier(const hba_t *h, const char *user);
#endif
