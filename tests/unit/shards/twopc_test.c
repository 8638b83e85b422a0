/*
 * twopc_test.c -- randomized power-loss test of two-phase commit across three shard
 * stores (seeded; the seed is printed, and CRASH_SEED=n reproduces a run).
 *
 * Three stores, each on its own simulated disk (sim_io.h), run many concurrent
 * transactions that each write one key ("t<id>") on two or three of them, driven
 * through the protocol of shards/store.h as sql/txn.c drives it. The one-round commit
 * (the protocol in use): STAGED on the lowest participant and PREPARE on the others,
 * all at once, each with its own proposed timestamp (sometimes a participant without
 * writes, which still logs an empty PREPARE); once all are durable, commit_decided on
 * every shard at the highest proposal, then the release. The older two-round protocol
 * (PREPARE, then the decision COMMIT_2PC, then COMMIT_PREPARED), whose records
 * recovery still resolves, runs as a second test. Group commits complete a few writes
 * at a time in random store order; tiny memtable budgets and WAL segments make
 * flushes and WAL trims happen all the time (so the records two-phase commit still
 * needs must survive them). Power is cut on all three at once at a random point
 * (often with only some of a transaction's phase-one records on disk); the stores are
 * reopened and every in-doubt transaction is resolved as the shard layer does it
 * (store_outcome). Checks:
 *   - all or nothing: each transaction's key is on every writing participant or none;
 *   - every transaction known committed (one-round: all phase-one records durable;
 *     two-round: decision durable) is there, at the decided timestamp (one-round:
 *     the highest proposal; visible at it and not just below);
 *   - none is there unless all its phase-one records (one-round; one of them is
 *     sometimes queued only after the others are durable) or its decision (two-round)
 *     were queued;
 *   - a clean reopen after the resolution finds nothing in doubt and the same rows.
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
#include "shards/store_int.h"    /* the pending heap is checked against the txn table */
#include "tests/unit/shards/sim_io.h"
#include "tests/unit/test.h"

#define NS 3
#define TXN_MAX 4000
#define ROUNDS 80
#define TABLE 7

enum { PH_PREPARE, PH_DECIDE, PH_COMMIT, PH_DONE, PH_ABORTED };

typedef struct tx {
    uint64_t id, ts, props[NS];
    int np, parts[NS];
    uint32_t others[NS];        /* one-round: the STAGED record's list */
    store_txn_t *t[NS];
    int phase, waiting, staged_ok, nowrite, delayed;    /* indexes, or -1 */
    bool failed, decision_queued, decided_ok;
} tx_t;

static bool one_round;
static int crash_partial_stage;

static sim_t sims[NS];
static store_t *stores[NS];
static char root[256];
static tx_t txs[TXN_MAX];
static int ntx;
static uint64_t rng, next_id = 1, next_ts = 1;
static int resolved_commits, resolved_aborts, crash_mid_protocol, checks_failed;
static int crash_phase2_unwritten, pending_checks;
static uint64_t trims_total, flushes_total;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void keyof(uint64_t id, char *out) { snprintf(out, 24, "t%08" PRIu64, id); }

static store_t *open_one(int s)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/shard-%d", root, s);
    static const size_t segs[] = {600, 1500, 0};
    static const size_t budgets[] = {SIZE_MAX, 800, 2000};
    store_opts_t o = {.dir = dir, .shard_id = s, .io = &sims[s].io,
                      .segment_bytes = segs[rnd() % 3],
                      .memtable_budget_bytes = budgets[rnd() % 3],
                      .flush_slice_bytes = 300 + rnd() % 2000, .manifest_bytes = 200 + rnd() % 400,
                      .compact_fanin = 2 + (uint32_t)(rnd() % 3), .cache_bytes = SIZE_MAX,
                      /* phase-two records go out only with phase-one ones (or at the
                       * drain): crashes often lose them */
                      .wal_lazy_us = UINT32_MAX};
    store_t *st = NULL;
    int rc = store_open(&o, &st);
    if (rc) {
        fprintf(stderr, "  store_open shard %d failed: %d\n", s, rc);
        return NULL;
    }
    if (store_max_commit_ts(st) >= next_ts)
        next_ts = store_max_commit_ts(st) + 1;
    return st;
}

/* Performs up to n submitted ops of shard s (callbacks may submit more). */
static void step_io(int s, int n)
{
    sim_t *sm = &sims[s];
    while (n-- > 0 && sm->ops_count) {
        sim_op_t op = sm->ops[0];
        memmove(sm->ops, sm->ops + 1, (size_t)(sm->ops_count - 1) * sizeof op);
        sm->ops_count--;
        sim_perform(sm, &op);
    }
}

typedef struct cb { tx_t *x; int slot; } cb_t;
static cb_t cbs[TXN_MAX][NS + 1];

static void on_done(void *arg, int rc)
{
    cb_t *c = arg;
    tx_t *x = c->x;
    if (rc != STORE_OK)
        x->failed = true;
    else if (one_round && x->phase == PH_PREPARE)
        x->staged_ok++;
    if (x->phase == PH_DECIDE && c->slot == NS)
        x->decided_ok = rc == STORE_OK;
    x->waiting--;
}

static void tx_stage(tx_t *x, int i)
{
    cbs[x - txs][i] = (cb_t){x, i};
    x->waiting++;
    store_txn_stage(stores[x->parts[i]], x->t[i], (uint32_t)x->parts[0], i == 0 ? x->others : NULL,
                    (uint32_t)(x->np - 1), x->props[i], on_done, &cbs[x - txs][i]);
}

static void tx_start(void)
{
    if (ntx == TXN_MAX)
        return;
    tx_t *x = &txs[ntx];
    memset(x, 0, sizeof *x);
    x->id = next_id++;
    x->ts = next_ts;
    next_ts += 4;
    x->nowrite = x->delayed = -1;
    int mask;
    do
        mask = (int)(rnd() % 8);
    while (__builtin_popcount((unsigned)mask) < 2);
    for (int s = 0; s < NS; s++)
        if (mask & (1 << s))
            x->parts[x->np++] = s;
    char key[24];
    keyof(x->id, key);
    char val[24];
    snprintf(val, sizeof val, "v%" PRIu64, x->id);
    if (one_round && x->np == 3 && rnd() % 4 == 0)
        x->nowrite = 2;    /* touched without writes: still votes with an empty PREPARE */
    for (int i = 0; i < x->np; i++) {
        store_t *st = stores[x->parts[i]];
        x->t[i] = store_txn_begin(st, x->id);
        uint64_t blocker;
        if (!x->t[i])
            abort();
        if (i == x->nowrite)
            continue;
        if (store_write(st, x->t[i], STORE_W_PUT, TABLE, (const uint8_t *)key,
                                    (uint32_t)strlen(key), (const uint8_t *)val,
                                    (uint32_t)strlen(val), &blocker) != STORE_OK)
            abort();
    }
    ntx++;
    x->phase = PH_PREPARE;
    if (one_round) {
        for (int i = 0; i < x->np; i++) {
            x->props[i] = x->ts + rnd() % 4;    /* each shard proposes its own */
            if (i > 0)
                x->others[i - 1] = (uint32_t)x->parts[i];
        }
        /* Sometimes one shard's phase one starts only after the others' completed,
         * so a crash in between has some phase-one records durable and one never
         * written: recovery must abort. */
        if (rnd() % 4 == 0)
            x->delayed = (int)(rnd() % (uint64_t)x->np);
        for (int i = 0; i < x->np; i++)
            if (i != x->delayed)
                tx_stage(x, i);
        x->decision_queued = x->delayed < 0;
        return;
    }
    for (int i = 1; i < x->np; i++) {
        cbs[x - txs][i] = (cb_t){x, i};
        x->waiting++;
        store_txn_prepare(stores[x->parts[i]], x->t[i], (uint32_t)x->parts[0], x->ts, on_done,
                          &cbs[x - txs][i]);
    }
}

/* The one-round protocol: moves x on when its pending records completed. */
static void tx_advance_one_round(tx_t *x)
{
    if (x->phase == PH_PREPARE) {
        if (x->failed) {
            for (int i = 0; i < x->np; i++) {
                store_txn_t *t = store_txn_find(stores[x->parts[i]], x->id);
                if (t)
                    store_txn_abort(stores[x->parts[i]], t);
            }
            x->phase = PH_ABORTED;
            return;
        }
        if (x->delayed >= 0) {
            tx_stage(x, x->delayed);
            x->delayed = -1;
            x->decision_queued = true;
            return;
        }
        /* Every phase-one record is durable: committed, at the highest proposal. */
        x->decision_queued = x->decided_ok = true;
        for (int i = 0; i < x->np; i++)
            if (x->props[i] > x->ts)
                x->ts = x->props[i];
        x->phase = PH_COMMIT;
        for (int i = 0; i < x->np; i++) {
            cbs[x - txs][i] = (cb_t){x, i};
            x->waiting++;
            store_txn_commit_decided(stores[x->parts[i]], x->t[i], x->ts, on_done, &cbs[x - txs][i]);
        }
    } else if (x->phase == PH_COMMIT) {
        if (!x->failed)
            for (int i = 0; i < x->np; i++)
                store_decision_release(stores[x->parts[i]], x->id);
        x->phase = PH_DONE;
    }
}

/* Moves x on when its pending records completed. */
static void tx_advance(tx_t *x)
{
    if (x->waiting || x->phase >= PH_DONE)
        return;
    if (one_round) {
        tx_advance_one_round(x);
        return;
    }
    if (x->phase == PH_PREPARE) {
        if (x->failed) {
            for (int i = 0; i < x->np; i++) {
                store_txn_t *t = store_txn_find(stores[x->parts[i]], x->id);
                if (t)
                    store_txn_abort(stores[x->parts[i]], t);
            }
            x->phase = PH_ABORTED;
            return;
        }
        x->phase = PH_DECIDE;
        x->decision_queued = true;
        cbs[x - txs][NS] = (cb_t){x, NS};
        x->waiting++;
        store_txn_commit_2pc(stores[x->parts[0]], x->t[0], x->ts, on_done, &cbs[x - txs][NS]);
    } else if (x->phase == PH_DECIDE) {
        if (!x->decided_ok) {
            for (int i = 1; i < x->np; i++)
                store_txn_abort(stores[x->parts[i]], x->t[i]);
            x->phase = PH_ABORTED;
            return;
        }
        x->phase = PH_COMMIT;
        for (int i = 1; i < x->np; i++) {
            cbs[x - txs][i] = (cb_t){x, i};
            x->waiting++;
            store_txn_commit_prepared(stores[x->parts[i]], x->t[i], x->ts, on_done, &cbs[x - txs][i]);
        }
    } else if (x->phase == PH_COMMIT) {
        if (!x->failed)
            store_decision_release(stores[x->parts[0]], x->id);
        x->phase = PH_DONE;
    }
}

static void stats_add(void)
{
    for (int s = 0; s < NS; s++) {
        store_stats_t st;
        store_get_stats(stores[s], &st);
        trims_total += st.wal_segments_trimmed;
        flushes_total += st.flushes;
    }
}

/* store_pending_min / store_pending_at / store_pending_other (a heap kept as commits
 * are queued, decided and end) against a walk of every live transaction. */
static void check_pending(int s)
{
    const store_t *st = stores[s];
    uint64_t lo = 0, lo_id = 0, second = 0;
    for (size_t b = 0; b < st->txns_buckets; b++)
        for (const store_txn_t *t = st->txns[b]; t; t = t->hnext) {
            if (t->state == TXN_ACTIVE || !t->commit_ts)
                continue;
            if (!lo || t->commit_ts < lo) {
                second = lo;
                lo = t->commit_ts;
                lo_id = t->txn_id;
            } else if (!second || t->commit_ts < second) {
                second = t->commit_ts;
            }
        }
    pending_checks++;
    uint64_t snap = lo ? lo + rnd() % 4 - 1 : next_ts;
    uint64_t at = store_pending_at(st, snap), other = store_pending_other(st, snap, lo_id);
    bool at_ok = lo && lo <= snap ? at != 0 : at == 0;
    bool other_ok = second && second <= snap ? other != 0 && other != lo_id : other == 0;
    if (store_pending_min(st) != lo || !at_ok || !other_ok) {
        fprintf(stderr, "  shard %d: pending min %" PRIu64 " (walk %" PRIu64 "), at %" PRIu64
                " %s, other %" PRIu64 " %s\n", s, store_pending_min(st), lo, snap,
                at_ok ? "ok" : "wrong", snap, other_ok ? "ok" : "wrong");
        checks_failed++;
    }
}

/* Runs every store's queue and the sims until nothing is pending. */
static void drain(void)
{
    for (int guard = 0; guard < 100000; guard++) {
        bool busy = false;
        for (int s = 0; s < NS; s++) {
            store_wal_kick(stores[s]);
            store_sync(stores[s]);
            busy |= sims[s].ops_count > 0 || !store_idle(stores[s]);
            sim_run(&sims[s]);
        }
        if (!busy)
            return;
    }
    abort();
}

/* Resolves the in-doubt transactions of every store as shards/shard.c does. */
static void resolve(void)
{
    for (int s = 0; s < NS; s++) {
        uint64_t ids[TXN_MAX];
        uint32_t coords[TXN_MAX];
        int n = store_indoubt(stores[s], ids, coords, TXN_MAX);
        for (int i = 0; i < n && i < TXN_MAX; i++) {
            store_txn_t *t = store_txn_find(stores[s], ids[i]);
            uint64_t ts;
            if (store_outcome(stores, NS, coords[i], ids[i], &ts)) {
                static cb_t dummy;
                static tx_t dtx;
                dummy.x = &dtx;
                dtx.waiting = 1;
                store_txn_commit_prepared(stores[s], t, ts, on_done, &dummy);
                resolved_commits++;
            } else {
                store_txn_abort(stores[s], t);
                resolved_aborts++;
            }
        }
    }
    drain();
}

static bool present_at(int s, uint64_t id, uint64_t snap)
{
    char key[24];
    keyof(id, key);
    store_val_t v;
    return store_get(stores[s], NULL, snap, TABLE, (const uint8_t *)key,
                     (uint32_t)strlen(key), &v) == STORE_OK;
}

static bool present(int s, uint64_t id) { return present_at(s, id, UINT64_MAX); }

static void verify(const char *when)
{
    for (int s = 0; s < NS; s++)
        if (store_indoubt(stores[s], NULL, NULL, 0) != 0) {
            fprintf(stderr, "  %s: shard %d still has in-doubt transactions\n", when, s);
            checks_failed++;
        }
    for (int i = 0; i < ntx; i++) {
        tx_t *x = &txs[i];
        int on = 0, writers = x->np - (x->nowrite >= 0);
        for (int j = 0; j < x->np; j++)
            if (j != x->nowrite)
                on += present(x->parts[j], x->id);
        if (on != 0 && on != writers) {
            fprintf(stderr, "  %s: txn %" PRIu64 " on %d of %d shards\n", when, x->id, on, writers);
            checks_failed++;
        }
        if (x->decided_ok && on != writers) {
            fprintf(stderr, "  %s: acknowledged txn %" PRIu64 " lost\n", when, x->id);
            checks_failed++;
        }
        if (on && !x->decision_queued) {
            fprintf(stderr, "  %s: undecided txn %" PRIu64 " committed\n", when, x->id);
            checks_failed++;
        }
        if (one_round && x->decided_ok)
            for (int j = 0; j < x->np; j++)
                if (j != x->nowrite && (!present_at(x->parts[j], x->id, x->ts) ||
                                        present_at(x->parts[j], x->id, x->ts - 1))) {
                    fprintf(stderr, "  %s: txn %" PRIu64 " not at its decided timestamp on "
                            "shard %d\n", when, x->id, x->parts[j]);
                    checks_failed++;
                }
    }
}

static void reopen_all(void)
{
    for (int s = 0; s < NS; s++) {
        stores[s] = open_one(s);
        if (!stores[s])
            abort();
    }
}

static void close_all(void)
{
    for (int s = 0; s < NS; s++) {
        store_close(stores[s]);
        stores[s] = NULL;
    }
}

static uint64_t crash_seed(void)
{
    const char *e = getenv("CRASH_SEED");
    return e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
}

static void run_power_loss(bool one)
{
    one_round = one;
    ntx = 0;
    next_id = 1;
    next_ts = 1;
    resolved_commits = resolved_aborts = crash_mid_protocol = crash_partial_stage = 0;
    crash_phase2_unwritten = pending_checks = 0;
    checks_failed = 0;
    trims_total = flushes_total = 0;
    uint64_t seed = crash_seed() + (one ? 0 : 1);
    log_set_level(getenv("CRASH_LOG") ? LOG_INFO : LOG_ERROR + 1);
    fprintf(stderr, "  seed %" PRIu64 " (CRASH_SEED=%" PRIu64 " to repeat)\n", seed, seed);
    rng = seed | 1;
    snprintf(root, sizeof root, "/tmp/twopc_test.%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", root, root);
    if (system(cmd) != 0)
        abort();
    for (int s = 0; s < NS; s++)
        sim_init(&sims[s], seed + 1 + (uint64_t)s);
    reopen_all();
    for (int round = 0; round < ROUNDS && ntx < TXN_MAX - 40; round++) {
        int steps = 5 + (int)(rnd() % 60);
        for (int k = 0; k < steps; k++) {
            if (rnd() % 3 == 0)
                tx_start();
            int s = (int)(rnd() % NS);
            store_sync(stores[s]);
            step_io(s, (int)(rnd() % 3));
            for (int i = 0; i < ntx; i++)
                tx_advance(&txs[i]);
            check_pending(s);
        }
        for (int i = 0; i < ntx; i++) {
            crash_mid_protocol += txs[i].phase == PH_DECIDE || txs[i].phase == PH_COMMIT;
            /* (one-round: committed, some phase-two records not yet durable) */
            crash_phase2_unwritten += one_round && txs[i].phase == PH_COMMIT && txs[i].waiting > 0;
            /* (one-round: some but not all of the phase-one records on disk) */
            crash_partial_stage += one_round && txs[i].phase == PH_PREPARE &&
                                   txs[i].delayed >= 0 && txs[i].staged_ok > 0;
        }
        stats_add();
        for (int s = 0; s < NS; s++)
            sim_crash(&sims[s]);
        close_all();
        /* Transactions in flight at the crash end with it. */
        for (int i = 0; i < ntx; i++)
            if (txs[i].phase < PH_DONE)
                txs[i].phase = PH_ABORTED;
        reopen_all();
        for (int s = 0; s < NS; s++)
            check_pending(s);    /* recovered prepared transactions are pending */
        resolve();
        for (int s = 0; s < NS; s++)
            check_pending(s);
        verify("after recovery");
        /* The resolution is durable: a clean restart finds the same. */
        for (int s = 0; s < NS; s++)
            sim_settle(&sims[s]);
        stats_add();
        close_all();
        reopen_all();
        verify("after a clean restart");
    }
    stats_add();
    close_all();
    fprintf(stderr, "  %s: %d transactions, %d in the middle of the protocol at a crash (%d with "
                    "only some phase-one records durable, %d committed with phase-two records "
                    "not durable); resolved %d commits, %d aborts; %" PRIu64 " flushes, %" PRIu64
                    " WAL segments trimmed; %d pending-heap checks\n",
            one ? "one-round" : "two-round", ntx, crash_mid_protocol, crash_partial_stage,
            crash_phase2_unwritten, resolved_commits, resolved_aborts, flushes_total, trims_total,
            pending_checks);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        abort();
    TEST_CHECK(checks_failed == 0);
    TEST_CHECK(resolved_commits > 5 && resolved_aborts > 5);
    TEST_CHECK(flushes_total > 10 && trims_total > 5);
    TEST_CHECK(pending_checks > 100);
    if (one)
        TEST_CHECK(crash_partial_stage > 0 && crash_phase2_unwritten > 0);
}

TEST(one_round_commit_is_all_or_nothing_across_power_loss)
{
    run_power_loss(true);
}

/* WALs written before the one-round commit still recover the same way. */
TEST(two_round_commit_is_all_or_nothing_across_power_loss)
{
    run_power_loss(false);
}

TEST_MAIN()
