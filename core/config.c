/*
 * config.c -- command line and DATA/nextdb.conf parsing; see config.h.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/limits.h"
#include "core/rt.h"

static config_t config_current;

const config_t *config_get(void) { return &config_current; }
void config_set(const config_t *c) { config_current = *c; }

int config_parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    while (*end == ' ')
        end++;
    uint64_t mul = 1;
    if (!strcasecmp(end, "") || !strcasecmp(end, "b"))
        mul = 1;
    else if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
        mul = 1ull << 10;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
        mul = 1ull << 20;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
        mul = 1ull << 30;
    else if (!strcasecmp(end, "t") || !strcasecmp(end, "tb") || !strcasecmp(end, "tib"))
        mul = 1ull << 40;
    else
        return -1;
    if (v > UINT64_MAX / mul)
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

static int config_parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int config_copy_str(char *dst, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CONFIG_STR_MAX)
        return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

/* Applies one setting. Returns 0, -1 for a bad value, -2 for an unknown name. */
static int config_apply(config_t *c, const char *name, const char *value)
{
    if (!strcmp(name, "data"))
        return config_copy_str(c->data_dir, value);
    if (!strcmp(name, "shards"))
        return config_parse_int(value, 1, LIMIT_SHARDS_MAX, &c->shards);
    if (!strcmp(name, "pg-port"))
        return config_parse_int(value, 1, 65535, &c->pg_port);
    if (!strcmp(name, "http-port"))
        return config_parse_int(value, 0, 65535, &c->http_port);
    if (!strcmp(name, "listen"))
        return config_copy_str(c->listen_addr, value);
    if (!strcmp(name, "memory")) {
        if (config_parse_bytes(value, &c->memory_bytes) || c->memory_bytes < (16u << 20))
            return -1;
        return 0;
    }
    if (!strcmp(name, "memtable-budget")) {
        if (config_parse_bytes(value, &c->memtable_budget_bytes) ||
            c->memtable_budget_bytes < LIMIT_MEMTABLE_BUDGET_MIN_BYTES ||
            c->memtable_budget_bytes > (1ull << 40))
            return -1;
        return 0;
    }
    if (!strcmp(name, "io")) {
        if (!strcmp(value, "uring"))
            c->io_backend = RT_IO_URING;
        else if (!strcmp(value, "epoll"))
            c->io_backend = RT_IO_EPOLL;
        else if (!strcmp(value, "auto"))
            c->io_backend = RT_IO_AUTO;
        else
            return -1;
        return 0;
    }
    if (!strcmp(name, "log-level")) {
        if (strcmp(value, "debug") && strcmp(value, "info") && strcmp(value, "warn") &&
            strcmp(value, "error"))
            return -1;
        snprintf(c->log_level, sizeof c->log_level, "%s", value);
        return 0;
    }
    return -2;
}

static char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* Reads DIR/nextdb.conf if it exists. Settings given on the command line (marked in
 * cli_set) are not overridden. */
static int config_read_file(config_t *c, const char *dir, char *msg, size_t msg_len)
{
    char path[CONFIG_STR_MAX + 32];
    snprintf(path, sizeof path, "%s/nextdb.conf", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : (snprintf(msg, msg_len, "%s: %s", path, strerror(errno)), -1);
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = config_trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(msg, msg_len, "%s:%d: expected 'name = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *name = config_trim(s), *value = config_trim(eq + 1);
        size_t vn = strlen(value);
        if (vn >= 2 && (value[0] == '\'' || value[0] == '"') && value[vn - 1] == value[0]) {
            value[vn - 1] = 0;
            value++;
        }
        if (!strcmp(name, "data")) {
            snprintf(msg, msg_len, "%s:%d: 'data' cannot be set inside the data directory",
                     path, lineno);
            rc = -1;
            break;
        }
        int r = config_apply(c, name, value);
        if (r) {
            snprintf(msg, msg_len, "%s:%d: %s '%s'", path, lineno,
                     r == -2 ? "unknown setting" : "invalid value for", r == -2 ? name : name);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_parse(int argc, char **argv, config_t *out, char *msg, size_t msg_len)
{
    config_t c;
    memset(&c, 0, sizeof c);
    strcpy(c.data_dir, "./nextdb-data");
    c.pg_port = 5433;
    c.http_port = 8080;
    strcpy(c.listen_addr, "127.0.0.1");
    c.io_backend = RT_IO_AUTO;
    strcpy(c.log_level, "info");

    /* First pass: find --data so the file is read before the command line applies. */
    const char *names[64], *values[64];
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2)) {
            snprintf(msg, msg_len, "unexpected argument '%s'", a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        static char namebuf[64][64];
        if (n >= 64) {
            snprintf(msg, msg_len, "too many arguments");
            return -1;
        }
        if (eq) {
            size_t len = (size_t)(eq - a);
            if (len >= sizeof namebuf[0]) {
                snprintf(msg, msg_len, "unknown flag '--%s'", a);
                return -1;
            }
            memcpy(namebuf[n], a, len);
            namebuf[n][len] = 0;
            names[n] = namebuf[n];
            values[n] = eq + 1;
        } else {
            if (i + 1 >= argc) {
                snprintf(msg, msg_len, "flag '--%s' needs a value", a);
                return -1;
            }
            names[n] = a;
            values[n] = argv[++i];
        }
        n++;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], "data") && config_copy_str(c.data_dir, values[i])) {
            snprintf(msg, msg_len, "invalid value for --data");
            return -1;
        }
    if (config_read_file(&c, c.data_dir, msg, msg_len))
        return -1;
    for (int i = 0; i < n; i++) {
        int r = config_apply(&c, names[i], values[i]);
        if (r == -2) {
            snprintf(msg, msg_len, "unknown flag '--%s'", names[i]);
            return -1;
        }
        if (r) {
            snprintf(msg, msg_len, "invalid value '%s' for --%s", values[i], names[i]);
            return -1;
        }
    }
    *out = c;
    return 0;
}

uint64_t config_memory_bytes(void)
{
    if (config_current.memory_bytes)
        return config_current.memory_bytes;
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (f) {
        char buf[64];
        uint64_t v = 0;
        if (fgets(buf, sizeof buf, f) && strncmp(buf, "max", 3) && sscanf(buf, "%lu", &v) == 1 &&
            v > 0) {
            fclose(f);
            return v;
        }
        fclose(f);
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        return (uint64_t)pages * (uint64_t)page / 2;
    return 1ull << 30;
}

uint64_t config_memtable_budget_bytes(void) { return config_current.memtable_budget_bytes; }
