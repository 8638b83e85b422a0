/*
 * keyset.c -- a set of byte-string keys for one statement on the coordinator: open
 * addressing over offsets into a buffer of [u32 len][bytes] records, slots in the
 * statement arena. INSERT ... ON CONFLICT uses it for the keys proposed so far,
 * UPDATE ... FROM for the target rows already taken.
 */
#include <stdint.h>
#include <string.h>

#include "sql/exec_int.h"

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void exec_keyset_init(exec_keyset_t *s, arena_t *a, const char *stmt)
{
    memset(s, 0, sizeof *s);
    strbuf_init(&s->buf);
    s->a = a;
    s->stmt = stmt;
}

void exec_keyset_free(exec_keyset_t *s) { strbuf_free(&s->buf); }

static int keyset_grow(exec_keyset_t *s, sql_error_t *err)
{
    uint32_t cap = s->cap ? s->cap * 2 : 1024;
    if (cap < s->cap)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many rows in one %s", s->stmt);
    uint32_t *slots = arena_alloc(s->a, (size_t)cap * sizeof(uint32_t));
    if (!slots)
        return oom(err);
    memset(slots, 0, (size_t)cap * sizeof(uint32_t));
    for (uint32_t i = 0; i < s->cap; i++) {
        if (!s->slots[i])
            continue;
        const uint8_t *r = (const uint8_t *)s->buf.data + s->slots[i] - 1;
        uint32_t h = (uint32_t)plan_key_hash(r + 4, rd32(r)) & (cap - 1);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        slots[h] = s->slots[i];
    }
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int exec_keyset_add(exec_keyset_t *s, const uint8_t *k, uint32_t kl, sql_error_t *err)
{
    if ((s->n + 1) * 2 > s->cap && keyset_grow(s, err) < 0)
        return -1;
    uint32_t h = (uint32_t)plan_key_hash(k, kl) & (s->cap - 1);
    while (s->slots[h]) {
        const uint8_t *r = (const uint8_t *)s->buf.data + s->slots[h] - 1;
        if (rd32(r) == kl && memcmp(r + 4, k, kl) == 0)
            return 1;
        h = (h + 1) & (s->cap - 1);
    }
    if (s->buf.len >= UINT32_MAX - (size_t)kl - 8)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "too many rows in one %s", s->stmt);
    uint32_t off = (uint32_t)s->buf.len;
    strbuf_put_be32(&s->buf, kl);
    strbuf_append(&s->buf, k, kl);
    if (s->buf.oom)
        return oom(err);
    s->slots[h] = off + 1;
    s->n++;
    return 0;
}
