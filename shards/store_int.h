/*
 * store_int.h -- structures shared by the store's files (store.c: transactions and
 * group commit; memtable.c: the skip list of version chains; wal.c: record format,
 * segment files and recovery; flush.c: memtable -> sorted table, MANIFEST, WAL trim;
 * sst.c: the sorted-table format; compact.c: merging sorted tables; cache.c: the block
 * cache). Not for use outside those files.
 *
 * Invariants the three files rely on:
 *   - A node's version chain is newest first. An intent (txn_id != 0), if present, is
 *     the head; committed versions below it are ordered by commit_ts descending.
 *   - Nodes are never freed while any iterator is open (mt_iters_open > 0): unlinked
 *     nodes wait on mt_dead and are freed when the last iterator closes.
 *   - At most one WAL write is in flight; its records are the oldest queued records,
 *     and their LSNs are consecutive.
 * Thread: the owning shard thread only.
 */
#ifndef NEXTDB_STORE_INT_H
#define NEXTDB_STORE_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "shards/sst.h"
#include "shards/store.h"

/* ---- memtable ---- */
enum mt_kind { MT_VALUE = 1, MT_TOMB = 2, MT_LOCK = 3 /* lock-only intent, no data */ };

typedef struct mt_ver {
    struct mt_ver *next;     /* older version */
    uint64_t commit_ts;      /* 0 while an intent */
    uint64_t txn_id;         /* owner while an intent; 0 once committed */
    uint64_t lsn;            /* WAL record that committed it; 0 while an intent */
    uint32_t vlen;
    uint8_t kind;            /* enum mt_kind */
    /* 8-byte aligned: store.h promises aligned values, so the SQL layer decodes rows
     * (whose strings are length-prefixed views) in place without copying. */
    _Alignas(8) uint8_t val[];
} mt_ver_t;

typedef struct mt_node {
    mt_ver_t *vers;
    struct mt_node *dead_next;  /* link on mt_dead once unlinked */
    uint32_t table_id, klen;
    uint8_t height;
    struct mt_node *next[];     /* height pointers, then klen key bytes */
} mt_node_t;

typedef struct memtable {
    mt_node_t *head;            /* sentinel with LIMIT_MEMTABLE_HEIGHT levels */
    int height;                 /* levels in use */
    uint64_t rng;
    size_t bytes;               /* every node and version allocation */
    uint64_t keys;              /* linked nodes */
    uint64_t vers;              /* live versions (committed and intents) */
    uint64_t news;              /* versions ever made (store_gc: nothing new since a clean pass) */
    int iters_open;
    mt_node_t *dead;            /* unlinked nodes waiting for iterators to close */
} memtable_t;

static inline const uint8_t *mt_key(const mt_node_t *n)
{
    return (const uint8_t *)&n->next[n->height];
}

int memtable_init(memtable_t *mt);
void memtable_free(memtable_t *mt);
/* Order of (table, key): table_id, then memcmp, shorter first on a common prefix. */
int memtable_cmp(uint32_t ta, const uint8_t *ka, uint32_t la, uint32_t tb, const uint8_t *kb,
                 uint32_t lb);
mt_node_t *memtable_find(memtable_t *mt, uint32_t table_id, const uint8_t *key, uint32_t klen);
/* First linked node >= (table_id, key), or NULL. */
mt_node_t *memtable_seek(memtable_t *mt, uint32_t table_id, const uint8_t *key, uint32_t klen);
/* The node for the key, inserted empty when absent. NULL on ENOMEM. */
mt_node_t *memtable_upsert(memtable_t *mt, uint32_t table_id, const uint8_t *key, uint32_t klen);
/* Unlinks n (its chain must be empty unless deferring) and frees it, or defers the
 * free to the last iterator close. */
void memtable_remove(memtable_t *mt, mt_node_t *n);
mt_ver_t *memtable_ver_new(memtable_t *mt, int kind, uint64_t txn_id, uint64_t commit_ts,
                           const uint8_t *val, uint32_t vlen);
void memtable_ver_free(memtable_t *mt, mt_ver_t *v);
/* Links a committed version into n's chain in commit_ts order (below any intent). */
void memtable_link_committed(mt_node_t *n, mt_ver_t *v);
/* The version a reader sees: own (non-lock) intent of txn_id, else the newest
 * committed version with commit_ts <= snap_ts; NULL when none. May be a tombstone. */
mt_ver_t *memtable_visible(const mt_node_t *n, uint64_t txn_id, uint64_t snap_ts);
mt_ver_t *memtable_newest_committed(const mt_node_t *n);
/* Frees every committed version of table_id at once; nodes holding an intent stay
 * linked with only their intent, the others are unlinked (node memory freed now or
 * after the last iterator closes). */
void memtable_clear_table(memtable_t *mt, uint32_t table_id);
/* Called when iters_open drops to 0: frees deferred nodes. */
void memtable_reap(memtable_t *mt);
/* Frees deferred nodes while iterators are open: only when none of them stands on an
 * unlinked node (the caller checked). */
void memtable_reap_unreferenced(memtable_t *mt);

/* ---- WAL format (see shards/README.md) ---- */
#define WAL_FORMAT_VERSION 1
#define WAL_MAGIC "NXDBWAL\0"
#define WAL_SEG_HDR_BYTES 32
#define WAL_REC_HDR_BYTES 24
/* COMMIT: a one-shard commit. One-round two-phase commit of a transaction that
 * touched several shards: STAGED on the coordinator (the lowest participant) and
 * PREPARE on the others at once; committed iff all are durable. Then COMMIT_2PC on
 * the coordinator and COMMIT_PREPARED on the others (or ABORT_PREPARED). PREPARE,
 * STAGED, COMMIT_2PC and COMMIT_PREPARED carry txn id, timestamp, count, aux (PREPARE:
 * the coordinator's shard id; STAGED: the number of other shards, whose ids follow as
 * u32) and the write set; ABORT_PREPARED the txn id only. See shards/README.md. */
enum wal_rec_type { WAL_REC_COMMIT = 1, WAL_REC_CLEAR = 2, WAL_REC_PREPARE = 3,
                    WAL_REC_COMMIT_2PC = 4, WAL_REC_COMMIT_PREPARED = 5,
                    WAL_REC_ABORT_PREPARED = 6, WAL_REC_STAGED = 7 };
#define WAL_REC_TYPE_MAX 7
/* WAL_OP_RUN (phase-one records only): table 0, an 8-byte key = the file number of a
 * spilled run in sst/, no value. */
enum wal_op { WAL_OP_PUT = 1, WAL_OP_DELETE = 2, WAL_OP_RUN = 3 };

/* ---- transactions and the commit queue ---- */
enum store_txn_state { TXN_ACTIVE = 0, TXN_COMMITTING = 1, TXN_PREPARING = 2,
                       TXN_PREPARED = 3, TXN_COMMITTING_PREPARED = 4 };

/* One intent placed while a savepoint was live (store_txn_rollback_to): the node and
 * the transaction's previous intent there (NULL: the first one, so the node is the
 * last of writes[] at that moment). The entry owns prev until it is undone or the
 * transaction ends. Entries are in placement order; their levels never decrease
 * below a live savepoint's, so "every entry at level >= L" is always a suffix. */
typedef struct store_undo {
    mt_node_t *node;
    mt_ver_t *prev;
    uint32_t level;
} store_undo_t;

/* One spilled run of a transaction (spill.c): its value and tombstone intents at the
 * time, sorted, in a sorted table of their own that no reader but the transaction
 * sees until it commits. in_sst: moved into sst/ under file_no (phase one of a
 * two-phase commit, or a commit in progress); else it is DIR/spill/<file_no>.run. */
typedef struct spill_run {
    sst_t *sst;
    uint64_t file_no;
    bool in_sst;
} spill_run_t;

/* A manifest stamp (format 3): spilled run file_no reads at commit timestamp ts. */
struct store_stamp { uint64_t file_no, ts; };

struct store_txn {
    uint64_t txn_id;
    uint64_t commit_ts;
    int state;
    uint32_t coord;             /* prepared: the coordinator's shard id */
    uint64_t prepare_lsn;       /* prepared: LSN of its PREPARE record (kept in the WAL) */
    const uint32_t *parts;      /* STAGED: the participants' shard ids (caller's array) */
    uint32_t nparts;
    bool pin_reserved;          /* a pins slot is reserved for its one-round commit */
    struct store_txn *hnext;    /* txn hash chain */
    mt_node_t **writes;         /* nodes holding this txn's intents */
    mt_ver_t *superseded;       /* own intents replaced by later writes; freed at txn end
                                 * so values this txn's fiber read stay valid */
    uint32_t writes_count, writes_cap;
    uint32_t sp_level;          /* savepoint level of intents placed now (0 = none live) */
    store_undo_t *undo;         /* intents placed at sp_level > 0, oldest first */
    uint32_t undo_count, undo_cap;
    /* Large transactions (spill.c): bytes of intents in the memtable since the last
     * spill, and the runs spilled so far, oldest first (a later run and the memtable's
     * intents shadow it). */
    size_t intent_bytes;
    spill_run_t *runs;
    uint32_t runs_count, runs_cap;
    bool runs_missing;          /* recovery: a named run is gone (merged after commit) */
    uint32_t pend_pos;          /* 1 + its index in the store's pending heap, 0 = not in */
};

typedef struct store_pending {
    int type;                   /* enum wal_rec_type */
    uint32_t rec_bytes;         /* encoded size including the record header */
    store_txn_t *txn;           /* COMMIT */
    uint64_t lsn;
    uint32_t table_id;          /* CLEAR */
    uint64_t ts;
    bool early;                 /* COMMIT_2PC / COMMIT_PREPARED applied before durable */
    bool no_versions;           /* a spilled commit's record: its rows are in runs */
    bool lazy;                  /* starts no write alone (store_opts_t.wal_lazy_us) */
    uint64_t queued_us;         /* when it was queued (store__now_us) */
    void (*done)(void *arg, int rc);
    void *arg;
} store_pending_t;

typedef struct store_buf {
    uint8_t *ptr;
    size_t len, cap;
} store_buf_t;

/* One sorted table feeding an iterator: its cursor and the pending (peeked) key. The
 * iterator holds a reference on sst, so a file compaction replaces stays readable
 * (and on disk) until the iterator moves to the new set. */
typedef struct store_iter_src {
    sst_t *sst;
    sst_iter_t *cur;
    sst_entry_t head;           /* valid when has */
    bool has, ended, consumed;
    bool masked;                /* flush_masked at clears_gen: the table was cleared */
    bool own;                   /* a spilled run of the iterator's transaction: wins */
} store_iter_src_t;

struct store_iter {
    store_t *st;
    struct store_iter *inext, *iprev;   /* st->iters: every open iterator */
    mt_node_t *node;            /* memtable candidate (peeked), NULL when ended */
    uint64_t txn_id, snap_ts;
    uint32_t table_id;
    uint8_t *lo, *hi;           /* copies of the bounds */
    uint32_t lolen, hilen;
    bool has_hi, started, node_consumed;
    store_iter_src_t *src;      /* one per sorted table of the set at sst_gen */
    uint32_t src_count;
    /* Sources with a pending head, as a binary min-heap on the head key; the sources
     * taken off it for the last returned key wait in refill to be advanced. */
    uint32_t *heap, heap_count;
    uint32_t *refill, refill_count;
    bool heap_built;
    uint64_t clears_gen;        /* st->clears_gen the masked flags were computed at */
    uint64_t sst_gen;
    store_buf_t last;           /* last returned key (to re-seek when the set changes) */
    bool has_last;
    int err;
    /* column scans (store_iter_next_cols): predicates and counters */
    bool colscan;
    uint32_t npreds;
    store_colpred_t preds[16];
    bool has_need;
    uint8_t need[STORE_LAYOUT_MAX_COLS / 8];    /* store_iter_set_colneed */
    uint64_t blocks_whole, blocks_skipped;
};

/* An asynchronous job of the store (a flush, a compaction): at most one I/O in flight. */
typedef struct store_job {
    store_t *st;
    bool io_busy, failed;
    const char *what;           /* "flush" / "compaction", for the log */
} store_job_t;

/* One manifest edit on its way to durability (flush.c), made by a flush or a
 * compaction. Only one edit is in flight at a time (st->man_holder): recovery relies
 * on at most one manifest write being in flight. */
enum man_edit_state { ME_START, ME_APPENDED, ME_SWITCH_WRITTEN, ME_CURRENT_WRITTEN,
                      ME_DURABLE };
typedef struct man_edit {
    int state;
    int tmp_fd, new_man_fd;
    size_t new_man_len;         /* bytes of the new manifest during a switch */
    store_buf_t buf;            /* manifest / CURRENT bytes in flight */
    uint64_t add_file;          /* 0 = none */
    const uint64_t *spill_files;    /* spilled runs committed by this edit (caller's array) */
    uint32_t spill_count;
    uint64_t spill_ts;          /* their stamp */
    const uint64_t *removes;    /* caller's array; the add takes the first one's place */
    uint32_t removes_count;
    uint64_t flushed_lsn;
} man_edit_t;

struct store {
    char *dir, *wal_dir;
    int shard_id;
    store_io_t io;
    size_t segment_bytes;
    void (*txn_end_hook)(void *arg, uint64_t txn_id);
    void (*wal_batch_hook)(void *arg, uint32_t records, uint64_t queue_us_sum);
    void *hook_arg;

    memtable_t mt;

    store_txn_t **txns;         /* hash by txn_id */
    size_t txns_buckets, txns_count;
    /* Pending commits (store_pending_min): a min-heap by commit_ts of every txn whose
     * commit is queued, in flight, prepared or being decided. Room for every live txn
     * is made at store_txn_begin, so keeping it never fails. */
    store_txn_t **pend;
    size_t pend_count, pend_cap;

    /* WAL writer. */
    int wal_dirfd;
    int seg_fd;                 /* -1 until the first write creates a segment */
    uint64_t seg_off;           /* bytes written (or submitted) to seg_fd */
    bool seg_new;               /* seg_fd was created; its header is not submitted yet */
    uint64_t seg_first_lsn;     /* LSN in seg_fd's name */
    uint64_t next_lsn;
    store_buf_t q;              /* encoded records queued for the next store_sync */
    store_pending_t *q_ents;
    size_t q_count, q_cap;
    size_t q_eager;             /* queued records that are not lazy */
    uint32_t wal_lazy_us;       /* store_opts_t.wal_lazy_us */
    bool wal_kick;              /* store_wal_kick: the next store_sync writes lazy ones too */
    store_buf_t f;              /* bytes of the write in flight */
    store_pending_t *f_ents;
    size_t f_count, f_cap;
    bool in_flight;
    uint64_t flight_start_us;
    bool readonly;

    uint64_t max_commit_ts;
    /* Two-phase commit. pins: records kept in the WAL (wal_trim) until
     * store_decision_release -- a one-round commit's phase-one record, or a two-round
     * COMMIT_2PC decision. decisions: every COMMIT_2PC seen by recovery, for the
     * start-up resolution (store_decided, store_outcome). */
    struct store_pin { uint64_t txn_id, lsn; } *pins;
    uint32_t pins_count, pins_cap, pins_reserved;
    bool trim_hold;             /* store_hold_trim: no WAL segment is removed */
    uint64_t read_max;          /* highest snapshot noted by store_note_read */
    struct store_pin *decisions;    /* txn_id, commit ts */
    uint32_t decisions_count, decisions_cap;
    /* One-round commit evidence seen by recovery (never changed after store_open, so
     * other shards read it during the start-up resolution): one entry per PREPARE,
     * STAGED, COMMIT_PREPARED and ABORT_PREPARED record in the WAL. */
    struct store_vote { uint64_t txn_id, ts; uint32_t kind, nparts; uint32_t *parts; } *votes;
    uint32_t votes_count, votes_cap;
    store_stats_t stats;
    sst_lookup_stats_t lookup;  /* what sorted-table point lookups cost (store_get_stats) */
    uint64_t applied_lsn;       /* last record applied (durable) */
    uint64_t committed_lsn;     /* last durable record that committed versions (a flush
                                 * is due only past it: not for prepare records alone) */

    /* Sorted tables (flush.c). */
    char *sst_dir;
    int dirfd, sst_dirfd;
    sst_t **ssts;                /* the current set, oldest first */
    uint32_t sst_count;
    uint64_t sst_gen;           /* bumped whenever the set changes */
    uint64_t next_file_no;
    uint64_t flushed_lsn;       /* every record <= this is in the sorted tables */
    struct store_clear *clears; /* table_id -> highest file number it masks */
    uint32_t clears_count, clears_cap;
    uint64_t clears_gen;        /* bumped on every change of clears (iterators re-check) */
    size_t mt_budget, flush_slice, manifest_limit;
    /* Manifest being appended to. */
    int man_fd;
    uint32_t man_version;       /* format of man_fd (a version-1 manifest is switched) */
    uint64_t man_no, man_off;
    man_edit_t *man_holder;     /* the edit in flight, NULL when none */
    struct flush *fl;           /* flush in progress, NULL when idle */
    /* Compaction (compact.c). */
    struct compact *cp;         /* compaction in progress, NULL when idle */
    uint32_t compact_fanin;     /* UINT32_MAX = never compact */
    size_t compact_slice;
    uint64_t horizon_ts;        /* no snapshot older than this is in use */
    bool compact_full;          /* store_compact_full asked for a merge of everything */
    bool compact_broken;        /* an input read failed: no more compactions (logged) */
    uint64_t compact_idle_gen;  /* sst_gen + 1 when a pick found nothing at that set; 0 = pick */
    bool sst_limit_logged;
    cache_t *cache;             /* block cache, NULL when disabled */
    /* Blocks store iterators have left: the rows they returned point into them, so
     * they live until the next store_sync / store_gc (sst_retire_t, sst.h). */
    sst_retire_t retired;
    /* Values copied out of sorted tables, freed at the next store_sync / store_gc. */
    uint8_t **handouts;
    uint32_t handouts_count, handouts_cap;

    /* Large transactions (spill.c). */
    char *spill_dir;
    size_t spill_bytes;         /* a transaction's intents spill past this */
    store_txn_t **spillers;     /* live transactions with runs */
    uint32_t spillers_count, spillers_cap;
    uint64_t *spill_pending;    /* runs committed, not yet in a durable manifest edit */
    uint32_t spill_pending_count, spill_pending_cap;
    struct spill_job *spill_jobs, *spill_jobs_tail;   /* commits waiting for their edit */
    mt_ver_t *spill_garbage;    /* spilled intents, freed at the next store_sync ... */
    mt_ver_t *spill_garbage_old;    /* ... or at the spill after the next one */
    struct store_iter *iters;   /* open iterators (spill.c frees nodes none stands on) */
    struct store_stamp *man_stamps;    /* stamps read from the manifest (recovery) */
    uint32_t man_stamps_count, man_stamps_cap;

    /* store_gc resumes after this key. */
    /* store_gc resumes after this key. A pass (head to end) that found every node
     * settled -- one committed non-tombstone version at or below the horizon -- with
     * no version made and no transaction ended since it began leaves the memtable
     * with nothing to collect: store_gc skips the walk until one is (gc_idle). */
    uint64_t gc_events;         /* transactions ended (commit stamps, abort removes) */
    uint64_t gc_pass_mark;      /* news + gc_events when the current pass began */
    bool gc_pass_dirty;         /* the current pass met a node that was not settled */
    bool gc_idle;
    bool gc_has_cursor;
    uint32_t gc_table;
    uint32_t gc_klen;
    uint8_t gc_key[LIMIT_KEY_BYTES];
};

/* wal.c */
int wal_recover(store_t *st);
/* *lsn = first LSN of the oldest WAL segment, 0 when there is none. 0 or STORE_EIO. */
int wal_oldest_lsn(const store_t *st, uint64_t *lsn);
/* Encodes a record into b (appending); returns its size or 0 on ENOMEM. */
uint32_t wal_encode_commit(store_buf_t *b, uint64_t lsn, const store_txn_t *t);
/* PREPARE / COMMIT_2PC / COMMIT_PREPARED of t (ts = t->commit_ts, aux = t->coord). */
uint32_t wal_encode_txn(store_buf_t *b, uint64_t lsn, const store_txn_t *t, uint32_t type);
uint32_t wal_encode_abort_prepared(store_buf_t *b, uint64_t lsn, uint64_t txn_id);
uint32_t wal_encode_clear(store_buf_t *b, uint64_t lsn, uint32_t table_id, uint64_t ts);
/* Prepares st->seg_fd for a write of batch_bytes: rolls to a new segment (created,
 * directory fsynced) when needed. hdr_out gets the 32-byte header to prepend while the
 * segment is new (st->seg_new; returns 1), else returns 0; negative on error. */
int wal_prepare_segment(store_t *st, size_t batch_bytes, uint64_t first_lsn,
                        uint8_t hdr_out[WAL_SEG_HDR_BYTES]);
void wal_close(store_t *st);
/* Removes segments whose records are all <= flushed_lsn (never the newest). Returns
 * the number removed or a negative rc. Synchronous system calls (once per flush). */
int wal_trim(store_t *st, uint64_t flushed_lsn);
bool store__buf_reserve(store_buf_t *b, size_t extra);

/* store.c, used by recovery */
void store__note_ts(store_t *st, uint64_t ts);
store_txn_t *store__txn_recovered(store_t *st, uint64_t txn_id);
/* Puts t in (or out of, or at its place in) the pending heap after a change of its
 * state or commit_ts. */
void store__pend_sync(store_t *st, store_txn_t *t);
int store__txn_add_write(store_txn_t *t, mt_node_t *n);
void store__txn_forget(store_t *st, store_txn_t *t);   /* drops intents, ends t */
int store__note_decision(store_t *st, uint64_t txn_id, uint64_t ts);
/* Recovery: notes a two-phase-commit record (kind = its WAL type; parts copied). */
int store__note_vote(store_t *st, uint32_t kind, uint64_t txn_id, uint64_t ts,
                     const uint8_t *parts, uint32_t nparts);
/* Lowest LSN the WAL must keep for two-phase commit (UINT64_MAX = none). */
uint64_t store__pinned_lsn(const store_t *st);

/* flush.c: sorted-table set, table clears, flush state machine, manifest. */
typedef struct store_clear { uint32_t table_id; uint64_t file_no; } store_clear_t;
/* Reads CURRENT + MANIFEST and opens the sorted tables; deletes nothing. Without
 * CURRENT, refuses (STORE_ECORRUPT) when sorted tables or manifests exist and the WAL
 * was trimmed. 0 or an rc. */
int flush_recover(store_t *st);
/* Removes sorted tables not in the opened set, stale manifests and CURRENT.tmp. Called
 * only after flush_recover and wal_recover both succeeded. Without CURRENT, first
 * checks that the replayed WAL covers every leftover table (else STORE_ECORRUPT,
 * nothing deleted). 0 or an rc. */
int flush_remove_orphans(store_t *st);
void flush_close(store_t *st);
/* True when table_id's versions in sorted table file_no were cleared. */
bool flush_masked(const store_t *st, uint32_t table_id, uint64_t file_no);
/* Table clear applied: masks table_id in every sorted table numbered so far. */
int flush_note_clear(store_t *st, uint32_t table_id);
/* Advances a flush by one slice, or starts one when the memtable is over budget. */
void flush_step(store_t *st);
bool flush_idle(const store_t *st);
/* The job's I/O: a write (sync or not) or, with buf NULL, an fdatasync. False when
 * the I/O layer could not take it (retry next turn); true when done will run or ran. */
bool store__job_submit(store_job_t *j, int fd, const void *buf, size_t len, uint64_t off,
                       bool sync);
void flush__man_init(man_edit_t *me);
/* Advances the edit (call when the job has no I/O in flight): 1 = durable (the caller
 * installs, then releases), 0 = in progress or waiting for another edit, negative =
 * failed (store read-only). */
int flush__man_step(store_t *st, store_job_t *j, man_edit_t *me);
void flush__man_release(store_t *st, man_edit_t *me);
/* Replaces the files numbered removes[] in the set by add (at the first one's place;
 * appended when there are no removes; add may be NULL). Removed files are marked
 * obsolete and lose the set's reference. 0 or STORE_ENOMEM (nothing changed). */
int flush__set_replace(store_t *st, sst_t *add, const uint64_t *removes, uint32_t count);
/* Creates sorted table file_no (O_EXCL-free: truncates) and fsyncs the directory. */
int flush__create_sst(store_t *st, uint64_t file_no);
void flush__sst_path(const store_t *st, uint64_t file_no, char *out, size_t cap);

/* spill.c: transactions larger than memory (shards/README.md, "Large transactions") */
int spill_open(store_t *st);            /* DIR/spill/ created and emptied */
void spill_close(store_t *st);
/* After a write of t: spills its intents when they passed st->spill_bytes. An I/O
 * failure keeps them in memory (logged); 0 or STORE_ENOMEM. */
int spill_after_write(store_t *st, store_txn_t *t);
/* t's newest spilled version of the key: 1 with *e / *blk, 0 none, negative rc. */
int spill_own(store_t *st, const store_txn_t *t, uint32_t table_id, const uint8_t *key,
              uint32_t klen, sst_entry_t *e, sst_block_t **blk);
/* STORE_LOCKED with *blocker when another transaction's run holds the key, else 0 or a
 * negative rc. */
int spill_conflict(store_t *st, const store_txn_t *t, uint32_t table_id, const uint8_t *key,
                   uint32_t klen, uint64_t *blocker);
/* store_txn_commit of a transaction with runs: the manifest edit is the commit point. */
int spill_commit(store_t *st, store_txn_t *t, uint64_t commit_ts, void (*done)(void *, int),
                 void *arg);
/* Phase one of a transaction with runs: spills the rest, moves its runs into sst/
 * (their numbers go into the phase-one record). 0 or a negative rc. */
int spill_prepare(store_t *st, store_txn_t *t);
/* Phase two / resolution of a prepared transaction with runs (type COMMIT_2PC or
 * COMMIT_PREPARED): the runs join the set by a manifest edit, then the record is queued.
 * early: visible and unlocked at once (store_txn_commit_decided). */
int spill_commit_prepared(store_t *st, store_txn_t *t, uint64_t commit_ts, int type, bool early,
                          void (*done)(void *, int), void *arg);
/* Abort: the runs are deleted. */
void spill_discard(store_t *st, store_txn_t *t);
/* The transaction's memory goes (store close or end): runs closed, files kept. */
void spill_release(store_t *st, store_txn_t *t);
void spill_step(store_t *st);
bool spill_idle(const store_t *st);
bool spill_pending(const store_t *st, uint64_t file_no);
bool spill_held(const store_t *st, uint64_t file_no);    /* a recovered run's file */
/* Recovery: run file_no of prepared transaction t (or, t NULL, of a later record). */
int spill_recover_ref(store_t *st, store_txn_t *t, uint64_t file_no);
/* Bytes / count of the run references wal_encode_commit adds for t. */
uint32_t spill_ref_count(const store_txn_t *t);

/* compact.c */
void compact_step(store_t *st);
bool compact_idle(const store_t *st);
void compact_close(store_t *st);
/* Bytes of the files the next compaction would merge (plus the unread part of the
 * running one); files likewise. */
void compact_backlog(const store_t *st, uint64_t *bytes, uint64_t *files);
/* store.c: newest version of (table, key) with commit_ts <= snap over the sorted
 * tables. 1 with *e and *blk (free with sst_block_free), 0 none, negative rc. */
int store__sst_lookup(store_t *st, uint32_t table_id, const uint8_t *key, uint32_t klen,
                      uint64_t snap_ts, sst_entry_t *e, sst_block_t **blk);
#endif
