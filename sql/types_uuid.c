/*
 * types_uuid.c -- the uuid type's text and binary forms and gen_random_uuid's
 * generator (see types_uuid.h).
 */
#include "sql/types_uuid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "sql/types_int.h"

static int hexd(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int type_uuid_in(const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    uint8_t b[TYPE_UUID_BYTES];
    size_t i = 0;
    bool braces = len && s[0] == '{';
    i += braces;
    for (int k = 0; k < TYPE_UUID_BYTES; k++) {
        int hi = i < len ? hexd(s[i]) : -1, lo = i + 1 < len ? hexd(s[i + 1]) : -1;
        if (hi < 0 || lo < 0) goto bad;
        b[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
        if (i < len && s[i] == '-' && (k % 2) == 1 && k < TYPE_UUID_BYTES - 1) i++;
    }
    if (braces) {
        if (i >= len || s[i] != '}') goto bad;
        i++;
    }
    if (i != len) goto bad;
    vstr_t *v = vstr_new(a, (const char *)b, sizeof b);
    if (!v) return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    out->s = v;
    return 0;
bad:
    return sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type uuid: \"%.*s\"",
                     (int)(len > 256 ? 256 : len), s);
}

void type_uuid_out(datum_t d, strbuf_t *out)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *b = (const uint8_t *)d.s->data;
    for (int k = 0; k < TYPE_UUID_BYTES && k < (int)d.s->len; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10) strbuf_putc(out, '-');
        strbuf_putc(out, hex[b[k] >> 4]);
        strbuf_putc(out, hex[b[k] & 15]);
    }
}

int type_uuid_recv(const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (len != TYPE_UUID_BYTES)
        return sql_error(err, "22P03", "incorrect binary data format");
    vstr_t *v = vstr_new(a, (const char *)p, len);
    if (!v) return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    out->s = v;
    return 0;
}

int type_uuid_random(arena_t *a, datum_t *out, sql_error_t *err)
{
    uint8_t b[TYPE_UUID_BYTES];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return sql_error(err, SQLSTATE_INTERNAL_ERROR, "could not generate random values");
        got += (size_t)r;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);     /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);     /* RFC 4122 variant */
    vstr_t *v = vstr_new(a, (const char *)b, sizeof b);
    if (!v) return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    out->s = v;
    return 0;
}
