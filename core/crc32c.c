/*
 * crc32c.c -- CRC-32C with the SSE4.2 instruction and a table fallback; see crc32c.h.
 */
#include "core/crc32c.h"

#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_table[8][256];
static int crc32c_table_ready;
/* 0 = not decided yet, 1 = hardware, 2 = software. */
static int crc32c_mode;

static void crc32c_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^
                                 crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
    __atomic_store_n(&crc32c_table_ready, 1, __ATOMIC_RELEASE);
}

/* Slicing-by-8 over the reflected table; the pre/post inversion happens here so that
 * crc32c_sw(crc32c_sw(0, a), b) == crc32c_sw(0, a || b). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    if (!__atomic_load_n(&crc32c_table_ready, __ATOMIC_ACQUIRE))
        crc32c_table_init();
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = crc32c_table[7][w & 0xff] ^ crc32c_table[6][(w >> 8) & 0xff] ^
            crc32c_table[5][(w >> 16) & 0xff] ^ crc32c_table[4][(w >> 24) & 0xff] ^
            crc32c_table[3][(w >> 32) & 0xff] ^ crc32c_table[2][(w >> 40) & 0xff] ^
            crc32c_table[1][(w >> 48) & 0xff] ^ crc32c_table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
    return ~c;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = (uint32_t)~crc;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}

static int crc32c_decide(void)
{
    __builtin_cpu_init();
    int mode = __builtin_cpu_supports("sse4.2") ? 1 : 2;
    __atomic_store_n(&crc32c_mode, mode, __ATOMIC_RELAXED);
    return mode;
}

bool crc32c_hw_available(void)
{
    int mode = __atomic_load_n(&crc32c_mode, __ATOMIC_RELAXED);
    return (mode ? mode : crc32c_decide()) == 1;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    int mode = __atomic_load_n(&crc32c_mode, __ATOMIC_RELAXED);
    if (!mode)
        mode = crc32c_decide();
    return mode == 1 ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
}
