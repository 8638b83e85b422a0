/*
 * main.c -- the nextdb process: parses settings, locks the data directory, starts
 * one shard thread per core, and wires storage, the SQL engine and the network
 * front ends into each shard's start-up and shut-down hooks.
 *
 * Start-up order on every shard thread (rt's shard_init hook, in a fiber):
 *   1. shard_open_local  -- open DATA/shard-NNN, replay its WAL
 *   2. sql_shard_init    -- catalog (loaded on shard 0, replicated to the others)
 *   3. net_shard_start   -- listen on the PostgreSQL and HTTP ports (SO_REUSEPORT)
 * Shut-down (SIGTERM/SIGINT): rt_request_stop from the signal handler; each shard stops
 * accepting, closes its connections, lets in-flight WAL writes finish, closes its store.
 *
 * Sub-commands (offline tools, no server started; shards/check.h):
 *   nextdb check [--data DIR]        verify every checksum of every shard; exit 0 clean,
 *                                    1 problems found, 2 could not check
 *   nextdb dump-table [--rows] FILE  print a sorted table's metadata (and versions)
 *
 * Thread: main thread only.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/rt.h"
#include "net/net.h"
#include "shards/check.h"
#include "shards/shard.h"
#include "shards/shard_metrics.h"
#include "sql/session.h"

#define NEXTDB_VERSION "0.1.0"

static rt_t *main_rt;

static void main_on_signal(int sig)
{
    (void)sig;
    if (main_rt)
        rt_request_stop(main_rt);
}

static int main_shard_init(int shard_id, void *arg)
{
    const config_t *cfg = arg;
    int rc = shard_open_local(cfg->data_dir);
    if (rc) {
        log_error("shard %d: cannot open storage (%d)", shard_id, rc);
        return -1;
    }
    if (sql_shard_init(shard_id)) {
        log_error("shard %d: SQL engine start-up failed", shard_id);
        return -1;
    }
    rc = net_shard_start();
    if (rc) {
        log_error("shard %d: cannot listen: %s", shard_id, strerror(-rc));
        return -1;
    }
    return 0;
}

static void main_shard_fini(int shard_id, void *arg)
{
    (void)arg;
    net_shard_stop();
    sql_shard_fini(shard_id);
    shard_close_local();
}

static void main_turn_end(int shard_id, void *arg)
{
    (void)shard_id;
    (void)arg;
    shard_turn_end();
}

/* Creates DIR if needed and takes an exclusive lock on DIR/nextdb.lock for the life
 * of the process, so a second server on the same directory refuses to start. The
 * lock is a flock: the kernel drops it when the process dies, even by kill -9. */
static int main_lock_data_dir(const char *dir)
{
    if (mkdir(dir, 0700) && errno != EEXIST) {
        log_error("cannot create data directory \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    char path[CONFIG_STR_MAX + 32];
    snprintf(path, sizeof path, "%s/nextdb.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("cannot open lock file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0)
            pid[n] = 0;
        pid[strcspn(pid, "\n")] = 0;
        /* The pid is the last server's; a running `nextdb check` holds the lock
         * shared without writing its own. */
        log_error("data directory \"%s\" is in use by another nextdb server (pid %s) or "
                  "by nextdb check; refusing to start", dir, pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)len, 0) != len)
        log_warn("cannot write pid to \"%s\": %s", path, strerror(errno));
    return fd;   /* kept open (and locked) until exit */
}

static void main_usage(FILE *f)
{
    fprintf(f,
            "usage: nextdb [--data DIR] [--shards N] [--pg-port P] [--http-port H]\n"
            "              [--listen ADDR] [--memory BYTES] [--memtable-budget BYTES]\n"
            "              [--io uring|epoll|auto] [--log-level debug|info|warn|error]\n"
            "       nextdb check [--data DIR]\n"
            "       nextdb dump-table [--rows] FILE\n"
            "       nextdb --version\n"
            "Every flag can also be set in DIR/nextdb.conf as 'name = value'.\n");
}

/* nextdb check [--data DIR]: exit 0 clean, 1 problems, 2 could not check. Only --data
 * is read (nextdb.conf is not: it cannot move the data directory anyway). */
static int main_check(int argc, char **argv)
{
    const char *dir = "./nextdb-data";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strncmp(argv[i], "--data=", 7)) {
            dir = argv[i] + 7;
        } else {
            fprintf(stderr, "nextdb check: unexpected argument '%s'\n", argv[i]);
            main_usage(stderr);
            return 2;
        }
    }
    if (!dir[0] || strlen(dir) >= CONFIG_STR_MAX) {
        fprintf(stderr, "nextdb check: invalid value for --data\n");
        return 2;
    }
    log_set_level(LOG_ERROR);
    check_stats_t st;
    int rc = check_data_dir(dir, stdout, &st);
    fflush(stdout);
    if (rc != CHECK_OK)
        return 2;
    return st.problems ? 1 : 0;
}

/* nextdb dump-table [--rows] FILE: exit 0 when the table verified clean, 1 when it has
 * problems (printed), 2 when it cannot be read. */
static int main_dump_table(int argc, char **argv)
{
    bool rows = false;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--rows")) {
            rows = true;
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            fprintf(stderr, "nextdb dump-table: unexpected argument '%s'\n", argv[i]);
            main_usage(stderr);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "nextdb dump-table: which file?\n");
        main_usage(stderr);
        return 2;
    }
    log_set_level(LOG_ERROR);
    check_stats_t st;
    int rc = check_dump_table(path, rows, stdout, &st);
    fflush(stdout);
    if (rc != CHECK_OK)
        return 2;
    return st.problems ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        main_usage(stdout);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("nextdb %s (PostgreSQL 15 protocol)\n", NEXTDB_VERSION);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "check"))
        return main_check(argc - 2, argv + 2);
    if (argc > 1 && !strcmp(argv[1], "dump-table"))
        return main_dump_table(argc - 2, argv + 2);
    config_t cfg;
    char msg[512];
    if (config_parse(argc - 1, argv + 1, &cfg, msg, sizeof msg)) {
        fprintf(stderr, "nextdb: %s\n", msg);
        main_usage(stderr);
        return 2;
    }
    config_set(&cfg);
    log_set_level(!strcmp(cfg.log_level, "debug") ? LOG_DEBUG
                  : !strcmp(cfg.log_level, "warn") ? LOG_WARN
                  : !strcmp(cfg.log_level, "error") ? LOG_ERROR : LOG_INFO);

    if (main_lock_data_dir(cfg.data_dir) < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);

    net_config_t ncfg = {
        .listen_addr = cfg.listen_addr,
        .pg_port = cfg.pg_port,
        .http_port = cfg.http_port,
        .data_dir = cfg.data_dir,
    };
    shard_register_metrics();
    sql_register_metrics();
    if (net_init(&ncfg))
        return 1;
    rt_config_t rcfg = {
        .shards_count = cfg.shards,
        .io_backend = cfg.io_backend,
        .shard_init = main_shard_init,
        .shard_fini = main_shard_fini,
        .turn_end = main_turn_end,
        .arg = &cfg,
    };
    /* The engine needs the shard count before threads start; rt resolves 0 to the
     * affinity mask size, so resolve it the same way here. */
    int shards = cfg.shards;
    if (shards == 0) {
        cpu_set_t set;
        shards = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
        if (shards > LIMIT_SHARDS_MAX)
            shards = LIMIT_SHARDS_MAX;
        rcfg.shards_count = shards;
    }
    /* --memory (or the cgroup limit) is split evenly over the shards; each shard's
     * share is split again between memtable and block cache (shards/README.md);
     * --memtable-budget overrides the memtable's part. */
    shard_set_memory_budget(config_memory_bytes() / (uint64_t)shards);
    if (config_memtable_budget_bytes())
        shard_set_memtable_budget((size_t)config_memtable_budget_bytes());
    if (sql_engine_init(cfg.data_dir, shards))
        return 1;
    /* The isolation checker's negative control (shards/store.h); never in production. */
    const char *dirty = getenv("NEXTDB_DEBUG_DIRTY_READS");
    if (dirty && !strcmp(dirty, "1")) {
        store_debug_dirty_reads = true;
        log_warn("NEXTDB_DEBUG_DIRTY_READS=1: isolation is deliberately broken (reads see "
                 "uncommitted writes); for the isolation tests' negative control only");
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int rc = rt_start(&rcfg, &main_rt);
    if (rc) {
        log_error("start-up failed: %s", strerror(-rc));
        return 1;
    }
    log_info("nextdb %s: %d shards (io %s), data \"%s\", memory budget %lu MiB, memtable "
             "budget %lu KiB per shard", NEXTDB_VERSION, rt_shards_count(),
             rt_backend() == RT_IO_URING ? "io_uring" : "epoll", cfg.data_dir,
             (unsigned long)(config_memory_bytes() >> 20),
             (unsigned long)(shard_memtable_budget() >> 10));
    log_info("listening for PostgreSQL clients on %s:%d", cfg.listen_addr, cfg.pg_port);
    if (cfg.http_port)
        log_info("listening for HTTP on %s:%d (/query, /metrics, /health)", cfg.listen_addr,
                 cfg.http_port);
    rt_join(main_rt);
    main_rt = NULL;
    log_info("shut down cleanly");
    return 0;
}
