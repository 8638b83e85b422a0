/*
 * mem.c -- per-shard memory: rt_malloc and friends.
 *
 * Release builds link mimalloc, whose default heap is thread-local: every shard
 * thread allocates from its own heap with no locking, and a block freed by another
 * thread goes back to its owner's heap through mimalloc's delayed-free list. That is
 * exactly DESIGN.md's "each shard uses its own heap" without a heap handle to pass
 * around. Sanitizer builds use the system malloc so ASan/TSan see every allocation.
 */
#include <stdlib.h>

#include "core/rt.h"

#if defined(NEXTDB_DEBUG) || !__has_include(<mimalloc.h>)
void *rt_malloc(size_t n) { return malloc(n ? n : 1); }
void *rt_calloc(size_t n, size_t size) { return calloc(n ? n : 1, size ? size : 1); }
void *rt_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
void rt_free(void *p) { free(p); }
#else
#include <mimalloc.h>
void *rt_malloc(size_t n) { return mi_malloc(n); }
void *rt_calloc(size_t n, size_t size) { return mi_calloc(n, size); }
void *rt_realloc(void *p, size_t n) { return mi_realloc(p, n); }
void rt_free(void *p) { mi_free(p); }
#endif
