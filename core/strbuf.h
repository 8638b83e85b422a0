/*
 * strbuf.h -- a growable byte buffer, used wherever output is assembled (protocol
 * messages, text forms of values, Prometheus exposition, WAL batches).
 *
 * Model: {data, len, cap}; data is always NUL-terminated past len so it can be used
 * as a C string. Memory comes from rt_malloc (any thread may use it; the buffer must
 * be freed by strbuf_free). Growth failure sets `oom` and later appends become
 * no-ops, so callers check once at the end instead of after every append.
 *
 * Interface: strbuf_init, strbuf_free, strbuf_reset, strbuf_reserve, strbuf_append,
 * strbuf_putc, strbuf_printf, strbuf_put_u8/be16/be32/be64 (network byte order).
 */
#ifndef NEXTDB_STRBUF_H
#define NEXTDB_STRBUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} strbuf_t;
void strbuf_init(strbuf_t *sb);
void strbuf_free(strbuf_t *sb);
static inline void strbuf_reset(strbuf_t *sb) { sb->len = 0; if (sb->data) sb->data[0] = 0; }
/* Ensures room for `extra` more bytes; false (and sb->oom) on failure. */
bool strbuf_reserve(strbuf_t *sb, size_t extra);
void strbuf_append(strbuf_t *sb, const void *p, size_t n);
void strbuf_puts(strbuf_t *sb, const char *s);
void strbuf_putc(strbuf_t *sb, char c);
void strbuf_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_put_u8(strbuf_t *sb, uint8_t v);
void strbuf_put_be16(strbuf_t *sb, uint16_t v);
void strbuf_put_be32(strbuf_t *sb, uint32_t v);
void strbuf_put_be64(strbuf_t *sb, uint64_t v);
/* Overwrites 4 bytes at pos (for length prefixes written after the body). */
void strbuf_patch_be32(strbuf_t *sb, size_t pos, uint32_t v);
#endif
