/*
 * colagg.h -- aggregate kernels over dense column vectors (the column scan's direct
 * aggregation, sql/exec_colscan.c).
 *
 * Why: a whole sorted-table block of a table scan hands out each column as one dense
 * array (shards/store.h, "column scans"); sum/count/min/max of an integer column over
 * it need no per-row datum, batch or expression: one loop per column, explicit AVX2 or
 * AVX-512 where the CPU has it (chosen once at run time with cpuid, as vector/ does),
 * a scalar reference otherwise. Every level gives exactly the scalar result (integer
 * arithmetic, no reordering of anything inexact).
 *
 * Interface (x: n little-endian values, any alignment):
 *   colagg_sum_i16/i32(x, n)      the int64 sum (cannot overflow for n < 2^32)
 *   colagg_sum_i64(x, n)          the exact __int128 sum
 *   colagg_minmax_i16/i32/i64     min and max of n >= 1 values
 *   colagg_set_level(level)       tests: force a level (scalar / avx2 / avx512);
 *                                 false when the CPU lacks it
 * Thread: any; the level is chosen once (a benign race: every thread picks the same).
 */
#ifndef NEXTDB_COLAGG_H
#define NEXTDB_COLAGG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum colagg_level {
    COLAGG_SCALAR = 0,
    COLAGG_AVX2 = 1,
    COLAGG_AVX512 = 2,
    COLAGG_LEVELS
} colagg_level_t;

int64_t colagg_sum_i16(const int16_t *x, size_t n);
int64_t colagg_sum_i32(const int32_t *x, size_t n);
__int128 colagg_sum_i64(const int64_t *x, size_t n);
void colagg_minmax_i16(const int16_t *x, size_t n, int64_t *mn, int64_t *mx);
void colagg_minmax_i32(const int32_t *x, size_t n, int64_t *mn, int64_t *mx);
void colagg_minmax_i64(const int64_t *x, size_t n, int64_t *mn, int64_t *mx);
/* Set bits among the first n of bitmap bm (bit i of byte i/8). */
uint64_t colagg_popcount(const uint8_t *bm, size_t n);

bool colagg_set_level(colagg_level_t level);
colagg_level_t colagg_level(void);
const char *colagg_level_name(colagg_level_t level);

#endif
