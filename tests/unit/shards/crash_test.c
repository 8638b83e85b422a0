/*
 * crash_test.c -- randomized power-loss test of the shard store (seeded; the seed is
 * printed, and CRASH_SEED=n reproduces a run).
 *
 * Each round reopens (recovers) the store, checks the recovered rows against the
 * model, runs a random workload of small transactions and table clears through the
 * simulated disk (sim_io.h) -- group commits, completions, injected write and fsync
 * failures -- then cuts the power at a random point (in-flight writes dropped or
 * torn). The check: the recovered state must equal the state after some prefix of the
 * commit order that includes every acknowledged commit. A negative control runs the
 * same loop with fsync ignored (acknowledged writes stay in a volatile cache) and
 * requires the checker to notice the loss.
 *
 * Most rounds open the store with a tiny memtable budget, small flush slices and a
 * tiny manifest limit, so flushes to sorted tables (slice writes, fsync, manifest
 * appends and switches, WAL trims) happen all the time and power losses land in
 * every phase of them; gc runs too. Those rounds also compact (fan-in 2 to 4, tiny
 * merge slices, a horizon raised as commits go by, now and then a full merge), so
 * power losses land inside compaction writes, its fsync, its manifest edits and
 * switches, and between the unlinks of replaced files; an iterator held open across
 * steps keeps replaced files alive (they go when it closes) and must never return a
 * key twice or out of order. The block cache is small (or off), so it evicts. After
 * each recovery the state is read both with an iterator and with point lookups (which
 * merge memtable and sorted tables), and the two must agree.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "shards/store.h"
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define CRASH_KEYS 24
#define CRASH_ROUNDS 500
#define CRASH_STEPS_MAX 40
#define CRASH_PENDING_MAX 256
#define CRASH_WRITES_MAX 4

typedef struct crash_op {
    bool clear;
    int n;
    int key[CRASH_WRITES_MAX];
    uint32_t seq[CRASH_WRITES_MAX];   /* 0 = delete */
} crash_op_t;

static sim_t sim;
static char dir[256];
static uint64_t rng;
static uint32_t base[CRASH_KEYS];      /* state after the verified prefix */
static crash_op_t pending[CRASH_PENDING_MAX];   /* submitted since, in commit order */
static bool acked[CRASH_PENDING_MAX];
static int pending_count;
static uint32_t next_seq = 1;
static uint64_t next_txn = 1, next_ts;
static uint64_t flushes, switches, trims, compactions, cache_hits, cache_evictions;
static store_iter_t *held;             /* an iterator kept open across steps */
static char held_last[32];             /* its last key ("" before the first) */
static int iter_order_errors;
static int crashes_in_compaction, crashes_in_flush;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void on_done(void *arg, int rc)
{
    int i = (int)(intptr_t)arg;
    if (rc == STORE_OK)
        acked[i] = true;
}

static void apply(uint32_t *state, const crash_op_t *op)
{
    if (op->clear) {
        memset(state, 0, sizeof(uint32_t) * CRASH_KEYS);
        return;
    }
    for (int j = 0; j < op->n; j++)
        state[op->key[j]] = op->seq[j];
}

/* Reads the recovered rows of table 1. false on malformed contents. */
static bool read_state(store_t *st, uint32_t *state)
{
    memset(state, 0, sizeof(uint32_t) * CRASH_KEYS);
    store_iter_t *it = store_iter_open(st, NULL, UINT64_MAX, 1, NULL, 0, NULL, 0);
    store_val_t k, v;
    bool ok = true;
    while (store_iter_next(it, &k, &v) == 1) {
        unsigned key, seq;
        char kb[16] = {0}, vb[32] = {0};
        memcpy(kb, k.ptr, k.len < 15 ? k.len : 15);
        memcpy(vb, v.ptr, v.len < 31 ? v.len : 31);
        if (sscanf(kb, "k%u", &key) != 1 || key >= CRASH_KEYS || sscanf(vb, "c%u", &seq) != 1)
            ok = false;
        else
            state[key] = seq;
    }
    if (store_iter_error(it))
        ok = false;
    store_iter_close(it);
    /* Point lookups must agree with the scan. */
    for (int i = 0; i < CRASH_KEYS && ok; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%02d", i);
        store_val_t gv;
        int rc = store_get(st, NULL, UINT64_MAX, 1, (const uint8_t *)key, (uint32_t)strlen(key),
                           &gv);
        unsigned seq = 0;
        char vb[32] = {0};
        if (rc == STORE_OK) {
            memcpy(vb, gv.ptr, gv.len < 31 ? gv.len : 31);
            if (sscanf(vb, "c%u", &seq) != 1 || ((uintptr_t)gv.ptr & 7))
                ok = false;
        }
        if ((rc != STORE_OK && rc != STORE_NOTFOUND) || seq != state[i]) {
            fprintf(stderr, "  store_get(k%02d) = %d seq %u, scan says %u\n", i, rc, seq,
                    state[i]);
            ok = false;
        }
    }
    return ok;
}

/* The check. On success the model moves to the matched prefix. */
static bool verify(store_t *st, bool report)
{
    uint32_t got[CRASH_KEYS], cur[CRASH_KEYS];
    bool ok = read_state(st, got);
    int need = 0;    /* every acknowledged commit must be inside the prefix */
    for (int i = 0; i < pending_count; i++)
        if (acked[i])
            need = i + 1;
    memcpy(cur, base, sizeof cur);
    int match = -1;
    for (int k = 0; k <= pending_count && ok; k++) {
        if (k > 0)
            apply(cur, &pending[k - 1]);
        if (k >= need && memcmp(cur, got, sizeof cur) == 0) {
            match = k;
            break;
        }
    }
    if (match < 0 && report) {
        fprintf(stderr, "  recovered state is no prefix with all %d acknowledged commits "
                        "(%d submitted)\n", need, pending_count);
        memcpy(cur, base, sizeof cur);
        for (int k = 0; k < pending_count; k++)
            apply(cur, &pending[k]);
        for (int k = 0; k < CRASH_KEYS; k++)
            if (cur[k] != got[k])
                fprintf(stderr, "    k%02d: recovered c%u, all submitted give c%u\n", k, got[k],
                        cur[k]);
    }
    /* Either way continue from what is on disk. */
    memcpy(base, got, sizeof base);
    pending_count = 0;
    memset(acked, 0, sizeof acked);
    return match >= 0;
}

static void one_txn(store_t *st)
{
    if (pending_count == CRASH_PENDING_MAX)
        return;
    crash_op_t op = {0};
    store_txn_t *t = store_txn_begin(st, next_txn++);
    op.n = 1 + (int)(rnd() % CRASH_WRITES_MAX);
    for (int j = 0; j < op.n; j++) {
        char key[16], val[96];
        op.key[j] = (int)(rnd() % CRASH_KEYS);
        op.seq[j] = rnd() % 5 == 0 ? 0 : next_seq++;
        snprintf(key, sizeof key, "k%02d", op.key[j]);
        int pad = (int)(rnd() % 60);
        snprintf(val, sizeof val, "c%u-%0*d", op.seq[j], pad, 0);
        uint64_t blocker;
        int rc = store_write(st, t, op.seq[j] ? STORE_W_PUT : STORE_W_DELETE, 1,
                             (const uint8_t *)key, (uint32_t)strlen(key), (const uint8_t *)val,
                             (uint32_t)strlen(val), &blocker);
        if (rc != STORE_OK) {    /* LOCKED by a commit not yet durable, or read-only */
            store_txn_abort(st, t);
            return;
        }
    }
    int i = pending_count++;
    pending[i] = op;
    acked[i] = false;
    /* A later write to the same key in one txn wins; the model applies in order too. */
    store_txn_commit(st, t, ++next_ts, on_done, (void *)(intptr_t)i);
    if (store_readonly(st) && !acked[i] && i == pending_count - 1 && store_idle(st))
        pending_count--;    /* refused at once: never written */
}

static void one_clear(store_t *st)
{
    if (pending_count == CRASH_PENDING_MAX || store_readonly(st))
        return;
    int i = pending_count++;
    pending[i] = (crash_op_t){.clear = true};
    acked[i] = false;
    store_table_clear(st, 1, ++next_ts, on_done, (void *)(intptr_t)i);
}

/* Opens, advances (1-3 rows) or closes the held iterator; rows must come in strictly
 * increasing key order, whatever flushes and compactions happen meanwhile. */
static void iter_op(store_t *st)
{
    if (!held) {
        held = store_iter_open(st, NULL, UINT64_MAX, 1, NULL, 0, NULL, 0);
        held_last[0] = 0;
        return;
    }
    if (rnd() % 4 == 0) {
        store_iter_close(held);
        held = NULL;
        return;
    }
    store_val_t k, v;
    for (int n = 1 + (int)(rnd() % 3); n > 0; n--) {
        if (store_iter_next(held, &k, &v) != 1) {
            store_iter_close(held);
            held = NULL;
            return;
        }
        char key[32] = {0};
        memcpy(key, k.ptr, k.len < 31 ? k.len : 31);
        if (held_last[0] && strcmp(key, held_last) <= 0)
            iter_order_errors++;
        memcpy(held_last, key, sizeof held_last);
    }
}

static store_t *reopen(void)
{
    static const size_t seg_sizes[] = {700, 2048, 0};
    static const size_t budgets[] = {SIZE_MAX, 1000, 2000, 4000};
    static const uint32_t fanins[] = {2, 3, 4, UINT32_MAX};
    static const size_t caches[] = {SIZE_MAX, 10000, 16000, 0};
    store_opts_t o = {.dir = dir, .shard_id = 0, .io = &sim.io,
                      .segment_bytes = seg_sizes[rnd() % 3],
                      .memtable_budget_bytes = budgets[rnd() % 4],
                      .flush_slice_bytes = 500 + rnd() % 5000,
                      .manifest_bytes = 100 + rnd() % 400,
                      .compact_fanin = fanins[rnd() % 4],
                      .compact_slice_bytes = 200 + rnd() % 3000,
                      .cache_bytes = caches[rnd() % 4]};
    /* With fsync ignored a rolled-over, never-written segment would sit in the middle
     * of the log (fatal corruption at open, correctly); keep the control to one file so
     * it is the checker that catches the loss. */
    if (sim.ignore_fsync) {
        o.segment_bytes = 0;
        o.memtable_budget_bytes = SIZE_MAX;    /* likewise: no manifest that never landed */
    }
    store_t *st = NULL;
    int rc = store_open(&o, &st);
    if (rc) {
        fprintf(stderr, "  store_open failed: %d\n", rc);
        return NULL;
    }
    if (store_max_commit_ts(st) > next_ts)
        next_ts = store_max_commit_ts(st);
    return st;
}

static void count_flushes(store_t *st)
{
    store_stats_t s;
    store_get_stats(st, &s);
    flushes += s.flushes;
    switches += s.manifest_switches;
    trims += s.wal_segments_trimmed;
    compactions += s.compactions;
    cache_hits += s.cache_hits;
    cache_evictions += s.cache_evictions;
}

/* Runs rounds of workload + power loss; returns how many checks failed. */
static int crash_rounds(uint64_t seed, int rounds, bool ignore_fsync)
{
    char cmd[1024];
    snprintf(dir, sizeof dir, "/tmp/crash_test.%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        abort();
    rng = seed ? seed : 1;
    sim_init(&sim, seed + 1);
    sim.ignore_fsync = ignore_fsync;
    memset(base, 0, sizeof base);
    pending_count = 0;
    int failures = 0;
    for (int r = 0; r < rounds; r++) {
        store_t *st = reopen();
        if (!st) {
            snprintf(cmd, sizeof cmd, "rm -rf %s.failed && cp -a %s %s.failed", dir, dir, dir);
            if (system(cmd) != 0)
                abort();
            fprintf(stderr, "  round %d: recovery failed; files left in %s.failed\n", r, dir);
            return -1;
        }
        if (!verify(st, !ignore_fsync))
            failures++;
        int steps = 1 + (int)(rnd() % CRASH_STEPS_MAX);
        for (int s = 0; s < steps; s++) {
            uint64_t x = rnd() % 100;
            if (x < 52)
                one_txn(st);
            else if (x < 55)
                one_clear(st);
            else if (x < 75)
                store_sync(st);
            else if (x < 91)
                sim_run(&sim);
            else if (x < 93)
                store_gc(st, next_ts, 1 + rnd() % 16);
            else if (x < 94)
                store_set_horizon(st, next_ts);    /* only the newest state is ever read */
            else if (x < 97)
                iter_op(st);
            else if (x < 98 && rnd() % 4 == 0)
                store_compact_full(st);
            else if (x < 98)
                continue;
            else if (rnd() % 2)
                sim.fail_write_in = 1 + (int)(rnd() % 3);
            else
                sim.fail_fsync_in = 1 + (int)(rnd() % 3);
        }
        sim.fail_write_in = sim.fail_fsync_in = 0;
        if (rnd() % 10 == 0) {
            /* a clean shutdown now and then */
            while (!store_idle(st)) {
                store_sync(st);
                sim_run(&sim);
            }
            sim_settle(&sim);
        } else {
            /* Let a flush or compaction move through a random number of its phases
             * first, so the power loss lands anywhere in it. */
            int cycles = rnd() % 2 ? (int)(rnd() % 80) : 0;
            for (int c = 0; c < cycles; c++) {
                store_sync(st);
                if (rnd() % 4)
                    sim_run(&sim);
                if (held && rnd() % 8 == 0)
                    iter_op(st);
            }
            crashes_in_compaction += store_compacting(st);
            crashes_in_flush += store_flushing(st);
            sim_crash(&sim);
        }
        if (held) {    /* before closing: its close may unlink replaced files */
            store_iter_close(held);
            held = NULL;
        }
        count_flushes(st);
        store_close(st);
    }
    /* final recovery check */
    store_t *st = reopen();
    if (!st || !verify(st, !ignore_fsync))
        failures++;
    store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        abort();
    return failures;
}

static uint64_t crash_seed(void)
{
    const char *e = getenv("CRASH_SEED");
    return e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
}

TEST(crash_recovery_keeps_every_acknowledged_commit)
{
    uint64_t seed = crash_seed();
    /* rounds log recoveries and injected EIO; CRASH_LOG=1 shows them */
    log_set_level(getenv("CRASH_LOG") ? LOG_INFO : LOG_ERROR + 1);
    fprintf(stderr, "  seed %" PRIu64 " (CRASH_SEED=%" PRIu64 " to repeat)\n", seed, seed);
    time_t t0 = time(NULL);
    int failures = crash_rounds(seed, CRASH_ROUNDS, false);
    fprintf(stderr, "  %d power losses, %u commits attempted, %d check failures, %ds\n",
            CRASH_ROUNDS, next_seq - 1, failures, (int)(time(NULL) - t0));
    fprintf(stderr, "  %" PRIu64 " flushes, %" PRIu64 " manifest switches, %" PRIu64
                    " WAL segments trimmed, %" PRIu64 " compactions; block cache %" PRIu64
                    " hits, %" PRIu64 " evictions\n", flushes, switches, trims, compactions,
            cache_hits, cache_evictions);
    fprintf(stderr, "  power lost during %d flushes and %d compactions\n", crashes_in_flush,
            crashes_in_compaction);
    TEST_CHECK(failures == 0);
    TEST_CHECK(crashes_in_compaction > 10 && crashes_in_flush > 10);
    TEST_CHECK(iter_order_errors == 0);
    TEST_CHECK(flushes > 50 && switches > 5 && trims > 5);
    TEST_CHECK(compactions > 20 && cache_hits > 0);    /* eviction: cache_test */
}

TEST(negative_control_fsync_ignored_is_detected)
{
    uint64_t seed = crash_seed();
    log_set_level(LOG_ERROR + 1);
    int failures = crash_rounds(seed, 40, true);
    fprintf(stderr, "  fsync ignored: %d of 41 checks found lost commits\n", failures);
    TEST_CHECK(failures > 0);
}

TEST_MAIN()
