/*
 * plan.c -- data placement: the one function that maps a primary key to its shard
 * (DESIGN.md sections 2 and 9). Everything that routes rows (inserts, point gets,
 * point UPDATE/DELETE, rows moving when their key changes, ALTER TABLE rewrites)
 * calls sql_route_key, so a later range map replaces exactly this file.
 *
 * The hash: 64-bit FNV-1a over the memcomparable key bytes (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3), then the splitmix64 finalizer so that
 * keys differing only in their last bytes spread over all shards; shard =
 * hash mod N. It is part of the on-disk format: changing it strands existing rows.
 */
#include "sql/plan.h"

#include "core/assert.h"

uint64_t plan_key_hash(const uint8_t *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

int sql_route_key(const uint8_t *key, size_t len, int shards_count)
{
    ASSERT(shards_count > 0);
    return (int)(plan_key_hash(key, len) % (uint64_t)shards_count);
}
