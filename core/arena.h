/*
 * arena.h -- bump allocator for memory with one lifetime (a statement, a batch, a
 * connection), in the spirit of PostgreSQL memory contexts and nginx pools.
 *
 * Model: a chain of blocks from rt_malloc; arena_alloc bumps a pointer; nothing is
 * freed individually; arena_reset keeps the first block and frees the rest;
 * arena_destroy frees everything. Each arena has a byte budget: an allocation that
 * would exceed it returns NULL, and the caller reports SQLSTATE 53200
 * (out_of_memory) instead of the process dying.
 *
 * Thread: an arena belongs to one fiber at a time; not thread-safe.
 */
#ifndef NEXTDB_ARENA_H
#define NEXTDB_ARENA_H
#include <stddef.h>
#include <stdint.h>
typedef struct arena_block arena_block_t;
typedef struct arena {
    arena_block_t *head;      /* current block */
    size_t used_bytes;        /* bytes handed out plus block overhead */
    size_t budget_bytes;      /* 0 = unlimited */
    size_t block_bytes;       /* default block size */
} arena_t;
void arena_init(arena_t *a, size_t budget_bytes);
void *arena_alloc(arena_t *a, size_t n);           /* 16-byte aligned; NULL over budget */
void *arena_memdup(arena_t *a, const void *p, size_t n);
char *arena_strndup(arena_t *a, const char *s, size_t n);   /* NUL-terminated copy */
char *arena_strdup(arena_t *a, const char *s);
void arena_reset(arena_t *a);
void arena_destroy(arena_t *a);
#endif
