/*
 * crc32c.h -- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * every WAL record and segment header.
 *
 * Why: the WAL must tell a torn or corrupted record from a good one, cheaply, on every
 * byte it writes and replays. x86-64 has a crc32 instruction for exactly this
 * polynomial (SSE4.2); a slicing table covers CPUs without it.
 *
 * Model: the SSE4.2 path (8 bytes per instruction) is chosen at run time from cpuid on
 * first use; the table path gives identical results and is what the tests compare
 * against. crc32c("123456789") = 0xE3069283.
 *
 * Interface:
 *   crc32c(crc, buf, len)       extend crc (0 to start) over buf; returns the new crc
 *   crc32c_sw(crc, buf, len)    the same, always with the table (for tests)
 *   crc32c_hw_available()       true when the SSE4.2 path is in use
 *
 * Limits: none (len is a size_t). Thread: any (the dispatch is a benign race that
 * always resolves to the same function).
 */
#ifndef NEXTDB_CRC32C_H
#define NEXTDB_CRC32C_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
bool crc32c_hw_available(void);
#endif
