/*
 * snapreg.h -- the process-wide MVCC horizon: a registry of every snapshot in use.
 *
 * Why: a shard's store may drop a row version only when no snapshot that could still
 * read it exists or will be taken (shards/store.h, store_set_horizon / store_gc).
 * Snapshots are taken on shard threads (sessions, portals, constraint checks, DDL) and
 * used on every shard, so the horizon is a process-wide minimum; computing it must
 * not put a lock on the statement path.
 *
 * Model: every holder owns a snapreg_hold_t (caller-owned, usually inside the session
 * or portal) and registers its snapshot with snapreg_hold on its own shard thread;
 * the hold goes on that thread's intrusive list (O(1) in and out, no lock). Once per
 * loop turn each shard publishes, in its own atomic slot, the minimum of its live
 * holds and of its clock (hlc_now: every snapshot or commit timestamp the shard takes
 * later is strictly above it, so it is the shard's "next snapshot floor"). The
 * horizon is the minimum over the shards' slots: a reader takes n relaxed loads.
 * A slot is stale by at most one turn, and staleness is harmless: a hold registered
 * since was taken above the floor published before it. A commit timestamp taken on a
 * coordinator is held (as ts - 1) until every shard queued the commit, after which
 * the store's own pending list covers it (store_pending_min), so no commit at or
 * below the horizon is still to come.
 *
 * Interface:
 *   snapreg_hold(h, ts)    registers h at ts on this shard (h must not be live).
 *   snapreg_release(h)     unregisters h (no-op if not live); same shard thread.
 *   snapreg_publish()      this shard's slot := min(live holds, hlc_now()).
 *   snapreg_horizon()      min over every shard's slot; 0 until all have published
 *                          (slots start at 0 and are never reset: one per process).
 *   snapreg_live_count()   this shard's live holds (tests, metrics).
 *
 * Thread: hold / release / publish / live_count on the owning shard thread only (off
 * shard threads, as in unit tests, they act as shard 0); horizon from any thread.
 */
#ifndef NEXTDB_SNAPREG_H
#define NEXTDB_SNAPREG_H
#include <stdbool.h>
#include <stdint.h>

typedef struct snapreg_hold {
    uint64_t ts;
    struct snapreg_hold *prev, *next;
    int shard;
    bool live;
} snapreg_hold_t;

void snapreg_hold(snapreg_hold_t *h, uint64_t ts);
void snapreg_release(snapreg_hold_t *h);
uint64_t snapreg_publish(void);
uint64_t snapreg_horizon(void);
uint32_t snapreg_live_count(void);
#endif
