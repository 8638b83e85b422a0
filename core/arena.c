/*
 * arena.c -- bump allocator by lifetime; see arena.h.
 */
#include "core/arena.h"

#include <string.h>

#include "core/rt.h"

#define ARENA_BLOCK_BYTES_DEFAULT (32 * 1024)

struct arena_block {
    arena_block_t *next;
    size_t size;             /* usable bytes in data[] */
    size_t pos;              /* next free offset */
    _Alignas(16) unsigned char data[];
};

void arena_init(arena_t *a, size_t budget_bytes)
{
    memset(a, 0, sizeof *a);
    a->budget_bytes = budget_bytes;
    a->block_bytes = ARENA_BLOCK_BYTES_DEFAULT;
}

static arena_block_t *arena_new_block(arena_t *a, size_t min_bytes)
{
    size_t size = a->block_bytes;
    if (size < min_bytes)
        size = min_bytes;
    size_t total = sizeof(arena_block_t) + size;
    if (a->budget_bytes && a->used_bytes + total > a->budget_bytes)
        return NULL;
    arena_block_t *b = rt_malloc(total);
    if (!b)
        return NULL;
    b->size = size;
    b->pos = 0;
    b->next = a->head;
    a->head = b;
    a->used_bytes += total;
    /* Grow blocks geometrically so big statements do not make long chains. */
    if (a->block_bytes < 1024 * 1024)
        a->block_bytes *= 2;
    return b;
}

void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    arena_block_t *b = a->head;
    if (!b || b->size - b->pos < n) {
        b = arena_new_block(a, n);
        if (!b)
            return NULL;
    }
    void *p = b->data + b->pos;
    b->pos += n;
    return p;
}

void *arena_memdup(arena_t *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *q = arena_alloc(a, n + 1);
    if (!q)
        return NULL;
    memcpy(q, s, n);
    q[n] = 0;
    return q;
}

char *arena_strdup(arena_t *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

void arena_reset(arena_t *a)
{
    arena_block_t *b = a->head;
    if (!b)
        return;
    /* Keep the oldest block (the tail of the chain), free the rest. */
    while (b->next) {
        arena_block_t *next = b->next;
        a->used_bytes -= sizeof(arena_block_t) + b->size;
        rt_free(b);
        b = next;
    }
    b->pos = 0;
    a->head = b;
}

void arena_destroy(arena_t *a)
{
    arena_block_t *b = a->head;
    while (b) {
        arena_block_t *next = b->next;
        rt_free(b);
        b = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
}
