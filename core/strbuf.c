/*
 * strbuf.c -- growable byte buffer; see strbuf.h.
 */
#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/rt.h"

void strbuf_init(strbuf_t *sb) { memset(sb, 0, sizeof *sb); }

void strbuf_free(strbuf_t *sb)
{
    rt_free(sb->data);
    memset(sb, 0, sizeof *sb);
}

bool strbuf_reserve(strbuf_t *sb, size_t extra)
{
    if (sb->oom)
        return false;
    size_t need = sb->len + extra + 1;          /* +1 keeps the NUL terminator */
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = rt_realloc(sb->data, cap);
    if (!p) {
        sb->oom = true;
        return false;
    }
    sb->data = p;
    sb->cap = cap;
    return true;
}

void strbuf_append(strbuf_t *sb, const void *p, size_t n)
{
    if (!strbuf_reserve(sb, n))
        return;
    if (n)
        memcpy(sb->data + sb->len, p, n);
    sb->len += n;
    sb->data[sb->len] = 0;
}

void strbuf_puts(strbuf_t *sb, const char *s) { strbuf_append(sb, s, strlen(s)); }
void strbuf_putc(strbuf_t *sb, char c) { strbuf_append(sb, &c, 1); }

void strbuf_printf(strbuf_t *sb, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        strbuf_append(sb, small, (size_t)n);
        return;
    }
    if (!strbuf_reserve(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void strbuf_put_u8(strbuf_t *sb, uint8_t v) { strbuf_append(sb, &v, 1); }

void strbuf_put_be16(strbuf_t *sb, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    strbuf_append(sb, b, 2);
}

void strbuf_put_be32(strbuf_t *sb, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    strbuf_append(sb, b, 4);
}

void strbuf_put_be64(strbuf_t *sb, uint64_t v)
{
    strbuf_put_be32(sb, (uint32_t)(v >> 32));
    strbuf_put_be32(sb, (uint32_t)v);
}

void strbuf_patch_be32(strbuf_t *sb, size_t pos, uint32_t v)
{
    if (sb->oom || pos + 4 > sb->len)
        return;
    uint8_t *p = (uint8_t *)sb->data + pos;
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
