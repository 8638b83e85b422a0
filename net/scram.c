/*
 * scram.c -- SCRAM-SHA-256 server side; see scram.h.
 */
#include "net/scram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/assert.h"
#include "core/limits.h"

static const char scram_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void scram_b64_encode(const uint8_t *p, size_t n, strbuf_t *out)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        strbuf_putc(out, scram_b64_chars[(v >> 18) & 63]);
        strbuf_putc(out, scram_b64_chars[(v >> 12) & 63]);
        strbuf_putc(out, i + 1 < n ? scram_b64_chars[(v >> 6) & 63] : '=');
        strbuf_putc(out, i + 2 < n ? scram_b64_chars[v & 63] : '=');
    }
}

static int scram_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int scram_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    if (len % 4 != 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int pad = 0;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + k];
            int d;
            if (c == '=' && last && k >= 2) {
                pad++;
                d = 0;
            } else {
                if (pad)        /* data after padding */
                    return -1;
                d = scram_b64_value(c);
                if (d < 0)
                    return -1;
            }
            v = (v << 6) | (uint32_t)d;
        }
        int bytes = 3 - pad;
        if (n + (size_t)bytes > cap)
            return -1;
        out[n++] = (uint8_t)(v >> 16);
        if (bytes > 1) out[n++] = (uint8_t)(v >> 8);
        if (bytes > 2) out[n++] = (uint8_t)v;
    }
    return (int)n;
}

static int scram_hmac(const uint8_t *key, size_t key_len, const void *msg, size_t len,
                      uint8_t out[SCRAM_KEY_BYTES])
{
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &out_len))
        return -1;
    return out_len == SCRAM_KEY_BYTES ? 0 : -1;
}

int scram_make_verifier(const char *password, const uint8_t *salt, size_t salt_len,
                        int iterations, strbuf_t *out)
{
    uint8_t salted[SCRAM_KEY_BYTES], client_key[SCRAM_KEY_BYTES];
    uint8_t stored_key[SCRAM_KEY_BYTES], server_key[SCRAM_KEY_BYTES];
    int rc = -1;
    if (salt_len == 0 || salt_len > SCRAM_SALT_MAX || iterations < 1 ||
        iterations > LIMIT_SCRAM_ITERATIONS_MAX)
        return -1;
    if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iterations,
                           EVP_sha256(), SCRAM_KEY_BYTES, salted))
        goto fail;
    if (scram_hmac(salted, sizeof salted, "Client Key", 10, client_key) < 0 ||
        scram_hmac(salted, sizeof salted, "Server Key", 10, server_key) < 0)
        goto fail;
    SHA256(client_key, sizeof client_key, stored_key);
    strbuf_printf(out, "SCRAM-SHA-256$%d:", iterations);
    scram_b64_encode(salt, salt_len, out);
    strbuf_putc(out, '$');
    scram_b64_encode(stored_key, sizeof stored_key, out);
    strbuf_putc(out, ':');
    scram_b64_encode(server_key, sizeof server_key, out);
    rc = out->oom ? -1 : 0;
fail:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return rc;
}

/* Decodes base64 text [s, end) that must yield exactly want bytes (want 0 = any
 * length up to cap); returns the length or -1. */
static int scram_b64_field(const char *s, const char *end, uint8_t *out, size_t cap,
                           size_t want)
{
    int n = scram_b64_decode(s, (size_t)(end - s), out, cap);
    if (n < 0 || (want && (size_t)n != want))
        return -1;
    return n;
}

int scram_parse_verifier(const char *s, scram_verifier_t *out)
{
    static const char prefix[] = "SCRAM-SHA-256$";
    memset(out, 0, sizeof *out);
    if (strncmp(s, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *p = s + sizeof prefix - 1;
    char *colon;
    long it = strtol(p, &colon, 10);
    if (colon == p || *colon != ':' || it < 1 || it > LIMIT_SCRAM_ITERATIONS_MAX)
        return -1;
    const char *salt = colon + 1;
    const char *dollar = strchr(salt, '$');
    if (!dollar)
        return -1;
    const char *stored = dollar + 1;
    const char *colon2 = strchr(stored, ':');
    if (!colon2)
        return -1;
    const char *server = colon2 + 1;
    int n = scram_b64_field(salt, dollar, out->salt, sizeof out->salt, 0);
    if (n <= 0)
        return -1;
    out->salt_len = (size_t)n;
    if (scram_b64_field(stored, colon2, out->stored_key, SCRAM_KEY_BYTES, SCRAM_KEY_BYTES) < 0 ||
        scram_b64_field(server, server + strlen(server), out->server_key, SCRAM_KEY_BYTES,
                        SCRAM_KEY_BYTES) < 0)
        return -1;
    out->iterations = (int)it;
    return 0;
}

int scram_mock_verifier(const char *user, const uint8_t *key, size_t key_len,
                        scram_verifier_t *out)
{
    uint8_t digest[SCRAM_KEY_BYTES];
    STATIC_ASSERT(SCRAM_SALT_DEFAULT_BYTES <= SCRAM_KEY_BYTES, "salt comes from one digest");
    memset(out, 0, sizeof *out);
    out->iterations = SCRAM_ITERATIONS_DEFAULT;
    out->salt_len = SCRAM_SALT_DEFAULT_BYTES;
    if (scram_hmac(key, key_len, user, strlen(user), digest) < 0)
        return -1;
    memcpy(out->salt, digest, out->salt_len);
    if (RAND_bytes(out->stored_key, SCRAM_KEY_BYTES) != 1 ||
        RAND_bytes(out->server_key, SCRAM_KEY_BYTES) != 1)
        return -1;
    return 0;
}

int scram_new_nonce(strbuf_t *out)
{
    uint8_t raw[SCRAM_NONCE_RAW_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    scram_b64_encode(raw, sizeof raw, out);
    return out->oom ? -1 : 0;
}

void scram_server_init(scram_server_t *st, const scram_verifier_t *ver, bool doomed)
{
    memset(st, 0, sizeof *st);
    ASSERT(ver->salt_len > 0 && ver->salt_len <= SCRAM_SALT_MAX && ver->iterations > 0);
    st->ver = *ver;
    st->doomed = doomed;
    strbuf_init(&st->client_first_bare);
    strbuf_init(&st->server_first);
    strbuf_init(&st->gs2_header);
    strbuf_init(&st->nonce);
}

void scram_server_free(scram_server_t *st)
{
    strbuf_free(&st->client_first_bare);
    strbuf_free(&st->server_first);
    strbuf_free(&st->gs2_header);
    strbuf_free(&st->nonce);
    OPENSSL_cleanse(&st->ver, sizeof st->ver);
}

/* Printable per RFC 5802: 0x21..0x7E except ','. */
static bool scram_printable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e || p[i] == ',')
            return false;
    return n > 0;
}

/* Finds the end of the attribute starting at p (the next ',' or end). */
static const char *scram_attr_end(const char *p, const char *end)
{
    const char *c = memchr(p, ',', (size_t)(end - p));
    return c ? c : end;
}

int scram_server_first(scram_server_t *st, const char *msg, size_t len,
                       const char *server_nonce, strbuf_t *out, const char **why)
{
    ASSERT(st->state == 0);
    const char *p = msg, *end = msg + len;
    *why = "malformed SCRAM message";
    if (memchr(msg, 0, len))
        return -1;
    /* gs2-cbind-flag */
    if (p < end && (*p == 'n' || *p == 'y')) {
        p++;
    } else if (p < end && *p == 'p') {
        *why = "channel binding is not supported by this server";
        return -1;
    } else {
        return -1;
    }
    if (p >= end || *p++ != ',')
        return -1;
    if (p < end && *p == 'a') {
        *why = "client uses authorization identity, but it is not supported";
        return -1;
    }
    if (p >= end || *p++ != ',')
        return -1;
    strbuf_append(&st->gs2_header, msg, (size_t)(p - msg));
    const char *bare = p;
    if (p < end && *p == 'm') {
        *why = "client requires an unsupported SCRAM extension";
        return -1;
    }
    /* username: "n=..." (ignored: the startup packet's user is authenticated) */
    if (end - p < 2 || p[0] != 'n' || p[1] != '=')
        return -1;
    p = scram_attr_end(p, end);
    if (p >= end || *p++ != ',')
        return -1;
    if (end - p < 2 || p[0] != 'r' || p[1] != '=')
        return -1;
    const char *cnonce = p + 2, *cnonce_end = scram_attr_end(cnonce, end);
    if (!scram_printable(cnonce, (size_t)(cnonce_end - cnonce)) ||
        !scram_printable(server_nonce, strlen(server_nonce))) {
        *why = "invalid SCRAM nonce";
        return -1;
    }
    strbuf_append(&st->client_first_bare, bare, (size_t)(end - bare));
    strbuf_append(&st->nonce, cnonce, (size_t)(cnonce_end - cnonce));
    strbuf_puts(&st->nonce, server_nonce);
    strbuf_puts(&st->server_first, "r=");
    strbuf_append(&st->server_first, st->nonce.data, st->nonce.len);
    strbuf_puts(&st->server_first, ",s=");
    scram_b64_encode(st->ver.salt, st->ver.salt_len, &st->server_first);
    strbuf_printf(&st->server_first, ",i=%d", st->ver.iterations);
    if (st->server_first.oom || st->nonce.oom || st->client_first_bare.oom ||
        st->gs2_header.oom) {
        *why = "out of memory";
        return -1;
    }
    strbuf_append(out, st->server_first.data, st->server_first.len);
    st->state = 1;
    return 0;
}

int scram_server_final(scram_server_t *st, const char *msg, size_t len, strbuf_t *out,
                       const char **why)
{
    ASSERT(st->state == 1);
    st->state = 2;
    const char *p = msg, *end = msg + len;
    *why = "malformed SCRAM message";
    if (memchr(msg, 0, len))
        return -1;
    /* c=<base64 of the gs2 header> */
    if (end - p < 2 || p[0] != 'c' || p[1] != '=')
        return -1;
    const char *c_end = scram_attr_end(p + 2, end);
    uint8_t cbind[64];
    int cn = scram_b64_decode(p + 2, (size_t)(c_end - p - 2), cbind, sizeof cbind);
    if (cn < 0 || (size_t)cn != st->gs2_header.len ||
        memcmp(cbind, st->gs2_header.data, (size_t)cn) != 0) {
        *why = "SCRAM channel binding check failed";
        return -1;
    }
    p = c_end;
    if (p >= end || *p++ != ',')
        return -1;
    if (end - p < 2 || p[0] != 'r' || p[1] != '=')
        return -1;
    const char *n_end = scram_attr_end(p + 2, end);
    if ((size_t)(n_end - p - 2) != st->nonce.len ||
        memcmp(p + 2, st->nonce.data, st->nonce.len) != 0) {
        *why = "SCRAM nonce mismatch";
        return -1;
    }
    /* Skip extensions up to the proof, which must be the last attribute. */
    p = n_end;
    const char *proof_attr = NULL;
    while (p < end) {
        if (*p++ != ',')
            return -1;
        if (end - p >= 2 && p[0] == 'p' && p[1] == '=') {
            proof_attr = p;
            break;
        }
        p = scram_attr_end(p, end);
    }
    if (!proof_attr)
        return -1;
    uint8_t proof[SCRAM_KEY_BYTES];
    if (scram_b64_field(proof_attr + 2, end, proof, sizeof proof, SCRAM_KEY_BYTES) < 0)
        return -1;
    size_t without_proof = (size_t)(proof_attr - 1 - msg);

    strbuf_t auth;
    strbuf_init(&auth);
    strbuf_append(&auth, st->client_first_bare.data, st->client_first_bare.len);
    strbuf_putc(&auth, ',');
    strbuf_append(&auth, st->server_first.data, st->server_first.len);
    strbuf_putc(&auth, ',');
    strbuf_append(&auth, msg, without_proof);
    int rc = -1;
    uint8_t sig[SCRAM_KEY_BYTES], client_key[SCRAM_KEY_BYTES], check[SCRAM_KEY_BYTES];
    if (auth.oom) {
        *why = "out of memory";
        goto done;
    }
    if (scram_hmac(st->ver.stored_key, SCRAM_KEY_BYTES, auth.data, auth.len, sig) < 0) {
        *why = "SCRAM computation failed";
        goto done;
    }
    for (int i = 0; i < SCRAM_KEY_BYTES; i++)
        client_key[i] = proof[i] ^ sig[i];
    SHA256(client_key, sizeof client_key, check);
    bool match = CRYPTO_memcmp(check, st->ver.stored_key, SCRAM_KEY_BYTES) == 0;
    if (!match || st->doomed) {
        rc = 0;
        goto done;
    }
    if (scram_hmac(st->ver.server_key, SCRAM_KEY_BYTES, auth.data, auth.len, sig) < 0) {
        *why = "SCRAM computation failed";
        goto done;
    }
    strbuf_puts(out, "v=");
    scram_b64_encode(sig, sizeof sig, out);
    rc = 1;
done:
    OPENSSL_cleanse(client_key, sizeof client_key);
    strbuf_free(&auth);
    return rc;
}
