/*
 * hlc.c -- hybrid logical clock; see hlc.h.
 *
 * The packed form wall_us << 12 | logical makes "strictly greater" a plain integer
 * comparison: when the wall clock has not moved past the last value, the next value
 * is last + 1, and a logical counter that reaches 4096 simply carries into the
 * physical part (the clock runs a microsecond ahead until real time catches up).
 * The physical part is CLOCK_REALTIME so timestamps mean something across restarts;
 * a wall clock stepping backwards cannot make the clock go backwards, because every
 * value is at least last + 1.
 */
#include "core/hlc.h"

#include <time.h>

#define HLC_LOGICAL_BITS 12

static __thread uint64_t hlc_last;

static uint64_t hlc__wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    return us << HLC_LOGICAL_BITS;
}

uint64_t hlc_now(void)
{
    uint64_t wall = hlc__wall();
    hlc_last = wall > hlc_last ? wall : hlc_last + 1;
    return hlc_last;
}

void hlc_observe(uint64_t ts)
{
    if (ts > hlc_last)
        hlc_last = ts;
}

void hlc_floor(uint64_t ts) { hlc_observe(ts); }

uint64_t hlc_peek(void) { return hlc_last; }
