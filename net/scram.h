/*
 * scram.h -- SCRAM-SHA-256 (RFC 5802 / RFC 7677), server side, as PostgreSQL speaks it
 * inside its SASL authentication messages.
 *
 * Why: SCRAM lets a client prove it knows the password without sending it, and lets
 * the server store only a verifier (salt, iteration count, StoredKey, ServerKey), so a
 * stolen users.conf does not reveal passwords. Every PostgreSQL driver speaks it.
 *
 * Model: a verifier string in PostgreSQL's format
 *     SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>
 * and a two-step exchange held in a scram_server_t:
 *     client-first  "n,,n=<user>,r=<cnonce>"          -> scram_server_first
 *     server-first  "r=<cnonce><snonce>,s=<salt>,i=<n>"
 *     client-final  "c=biws,r=<nonce>,p=<proof>"      -> scram_server_final
 *     server-final  "v=<server signature>"
 * No channel binding is offered (no TLS yet): gs2 flags "n" and "y" are accepted, "p"
 * is refused. The user name inside the SCRAM message is ignored (PostgreSQL uses the
 * startup packet's), the proof is compared in constant time, and an unknown user
 * runs the same exchange against a mock verifier whose salt is derived from the user
 * name and a per-process key (stable across attempts, like a real user's), so
 * neither the messages nor their timing reveal which users exist.
 *
 * Interface:
 *   scram_b64_encode / scram_b64_decode  strict standard base64 (with padding)
 *   scram_make_verifier    verifier from a password, salt and iteration count
 *   scram_parse_verifier   verifier string -> parts
 *   scram_mock_verifier    verifier for an unknown user (stable salt, no password matches)
 *   scram_server_first     handles client-first, produces server-first
 *   scram_server_final     handles client-final, produces server-final, says ok/fail
 *
 * Limits: salt <= SCRAM_SALT_MAX bytes; iterations 1..LIMIT_SCRAM_ITERATIONS_MAX;
 * messages are bounded by the caller (LIMIT_PG_AUTH_MESSAGE_BYTES).
 *
 * Thread: any; no global state (randomness from OpenSSL's RAND_bytes).
 */
#ifndef NEXTDB_SCRAM_H
#define NEXTDB_SCRAM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/strbuf.h"

#define SCRAM_KEY_BYTES 32             /* SHA-256 output */
#define SCRAM_SALT_MAX 64
#define SCRAM_SALT_DEFAULT_BYTES 16    /* PostgreSQL's SCRAM_DEFAULT_SALT_LEN */
#define SCRAM_ITERATIONS_DEFAULT 4096  /* PostgreSQL's default scram_iterations */
#define SCRAM_NONCE_RAW_BYTES 18       /* PostgreSQL's SCRAM_RAW_NONCE_LEN */

typedef struct scram_verifier {
    int iterations;
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    uint8_t stored_key[SCRAM_KEY_BYTES];
    uint8_t server_key[SCRAM_KEY_BYTES];
} scram_verifier_t;

typedef struct scram_server {
    scram_verifier_t ver;
    bool doomed;                 /* mock verifier: the exchange always fails */
    int state;                   /* 0 fresh, 1 server-first sent, 2 done */
    strbuf_t client_first_bare;  /* for the AuthMessage */
    strbuf_t server_first;
    strbuf_t gs2_header;         /* "n,," etc.: the c= attribute must encode it */
    strbuf_t nonce;              /* client nonce + server nonce */
} scram_server_t;

/* Appends base64 of n bytes (standard alphabet, '=' padding). */
void scram_b64_encode(const uint8_t *p, size_t n, strbuf_t *out);
/* Decodes strict base64 of len chars into out (cap bytes). Returns the decoded
 * length, or -1 on a bad character, bad padding or overflow of cap. */
int scram_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

/* Appends PostgreSQL's verifier string for password. Returns 0 or -1 (OpenSSL failure,
 * salt too long, bad iteration count). */
int scram_make_verifier(const char *password, const uint8_t *salt, size_t salt_len,
                        int iterations, strbuf_t *out);
/* Parses a verifier string (NUL-terminated). 0 or -1 if malformed. */
int scram_parse_verifier(const char *s, scram_verifier_t *out);
/* Fills a verifier for a user that does not exist: the salt is derived from the user
 * name and key (a per-process secret), the keys are random. 0 or -1 (RAND failure). */
int scram_mock_verifier(const char *user, const uint8_t *key, size_t key_len,
                        scram_verifier_t *out);

/* Starts an exchange against ver; doomed = the exchange must fail whatever the
 * client proves (mock verifier of an unknown user). */
void scram_server_init(scram_server_t *st, const scram_verifier_t *ver, bool doomed);
void scram_server_free(scram_server_t *st);
/* Handles the client-first message (len bytes, need not be NUL-terminated) and
 * appends the server-first message to out. server_nonce: printable nonce text without
 * ',' (callers pass base64 of SCRAM_NONCE_RAW_BYTES random bytes; tests pass the RFC
 * value). Returns 0, or -1 with *why set to a static protocol error text. */
int scram_server_first(scram_server_t *st, const char *msg, size_t len,
                       const char *server_nonce, strbuf_t *out, const char **why);
/* Handles the client-final message. Returns 1 when the proof is right (server-final
 * appended to out), 0 when the proof is wrong (authentication failed), -1 with *why
 * when the message is malformed. */
int scram_server_final(scram_server_t *st, const char *msg, size_t len, strbuf_t *out,
                       const char **why);
/* Fresh server nonce: base64 of SCRAM_NONCE_RAW_BYTES random bytes, appended. 0/-1. */
int scram_new_nonce(strbuf_t *out);
#endif
