/*
 * config.h -- server settings from the command line and DATA/nextdb.conf.
 *
 * Why: every flag must also be settable in the data directory's config file, with
 * the command line winning; one module owns the names, defaults, parsing and
 * validation so the rest of the server reads one immutable struct.
 *
 * Model: config_parse() fills a config_t from defaults, then DATA/nextdb.conf (lines
 * `name = value`, `#` comments; names as the long flags without dashes), then the
 * command line (`--name value` or `--name=value`). Unknown names and bad values are
 * errors with a one-line message naming the source (file:line or flag).
 * After start-up the struct is read-only and may be read from any thread.
 */
#ifndef NEXTDB_CONFIG_H
#define NEXTDB_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define CONFIG_STR_MAX 256

typedef struct config {
    char data_dir[CONFIG_STR_MAX];     /* --data, default ./nextdb-data */
    int shards;                        /* --shards, 0 = one per CPU in the affinity mask */
    int pg_port;                       /* --pg-port, default 5433 */
    int http_port;                     /* --http-port, default 8080; 0 disables */
    char listen_addr[CONFIG_STR_MAX];  /* --listen, default 127.0.0.1 */
    uint64_t memory_bytes;             /* --memory, 0 = from cgroup limit / RAM */
    uint64_t memtable_budget_bytes;    /* --memtable-budget: per-shard flush threshold;
                                        * 0 = derived from --memory (shard_set_memory_budget) */
    int io_backend;                    /* --io uring|epoll|auto (enum rt_io_backend) */
    char log_level[16];                /* --log-level debug|info|warn|error */
} config_t;

/* Parses argv (after the program name and any sub-command) into *out. Returns 0, or
 * -1 after writing a message to msg (size msg_len). */
int config_parse(int argc, char **argv, config_t *out, char *msg, size_t msg_len);
/* Parses a size such as "256MB", "1GiB", "4096", "512kB". 0 ok, -1 bad. */
int config_parse_bytes(const char *s, uint64_t *out);
/* The parsed configuration (set once by main before rt_start). */
const config_t *config_get(void);
void config_set(const config_t *c);
/* Effective memory budget: --memory, else the cgroup v2 memory.max, else 1/2 of RAM. */
uint64_t config_memory_bytes(void);
/* Memtable flush threshold of each of shards shards: --memtable-budget, else with
 * --memory a quarter of each shard's share capped at LIMIT_MEMTABLE_BUDGET_BYTES, else
 * LIMIT_MEMTABLE_BUDGET_BYTES. */
/* --memtable-budget when given, else 0 (the shards derive it from --memory). */
uint64_t config_memtable_budget_bytes(void);
#endif
