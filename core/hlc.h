/*
 * hlc.h -- hybrid logical clock, one per shard thread.
 *
 * Why: commit timestamps must order causally across cores with no shared counter.
 * Each shard keeps (physical microseconds since the Unix epoch, logical counter)
 * packed in 64 bits: ts = wall_us << 12 | logical (logical < 4096). hlc_now() returns
 * a value strictly greater than every value it returned or observed before on this
 * shard; hlc_observe() merges a timestamp received in a message (rt does this for
 * every cross-shard message). hlc_floor() raises the clock at recovery past every
 * timestamp found on disk.
 *
 * Thread: shard threads only (state is thread-local).
 */
#ifndef NEXTDB_HLC_H
#define NEXTDB_HLC_H
#include <stdint.h>
uint64_t hlc_now(void);
void hlc_observe(uint64_t ts);
void hlc_floor(uint64_t ts);
uint64_t hlc_peek(void);        /* last value issued or observed, without advancing */
#endif
