/*
 * store.h -- one shard's storage engine: write-ahead log + MVCC memtable.
 *
 * Why: each shard owns its data outright; this module is that data. It is a pure,
 * single-threaded state machine over opaque keys and values: it knows nothing of SQL
 * types, fibers or sockets. File I/O that must be asynchronous (the group-commit
 * write + fdatasync) goes through the store_io_t vtable, so the server plugs in
 * io_uring (shards/shard.c) and tests plug in synchronous or simulated I/O.
 *
 * Model:
 *   - Keys are (table_id u32, key bytes) ordered by table_id then memcmp of the key
 *     bytes (the SQL layer encodes primary keys memcomparably). Values are bytes.
 *   - Each key has a chain of versions, newest first: committed versions carry a
 *     commit timestamp (HLC); at most one uncommitted "intent" per key belongs to a
 *     live transaction and acts as that row's write lock. A delete is a tombstone
 *     version.
 *   - A read at snapshot S by transaction T sees T's own intent if T wrote the key,
 *     else the newest committed version with commit_ts <= S (a tombstone = absent).
 *   - Commit appends one WAL record holding all of the transaction's writes on this
 *     shard; records queue until store_sync(), called once per loop turn, writes the
 *     whole queue with one write + fdatasync (group commit). Only when that completes
 *     are the versions stamped visible, locks released and `done` callbacks called:
 *     nothing is acknowledged or visible before it is durable.
 *   - An I/O error on the WAL makes the store read-only for good (STORE_EREADONLY on
 *     every write and commit); it never retries as if data were safe.
 *   - Recovery (store_open) replays the WAL: segments in order, records checked by
 *     length + CRC32C; a torn or partial record at the very end is cut off; a bad
 *     record followed by valid data is corruption and store_open fails with
 *     STORE_ECORRUPT naming file and offset in the log.
 *   - The memtable is an ordered structure (skip list) kept in memory. When it grows
 *     past its budget, its committed versions are flushed (in slices, from store_sync)
 *     to an immutable sorted table (shards/sst.h), recorded in the MANIFEST, dropped
 *     from the memtable, and WAL segments wholly below the flushed LSN are removed.
 *     Reads merge memtable and sorted tables with the same visibility; intents live
 *     in the memtable only. Recovery = MANIFEST + WAL replay after the flushed LSN.
 *     Sorted tables are merged by tiered compaction (in slices, from store_sync),
 *     which drops versions no snapshot at or above the horizon (store_set_horizon)
 *     can see and versions of cleared tables; a per-shard block cache keeps decoded
 *     blocks (shards/cache.h).
 *     A sorted-table checksum failure is STORE_ECORRUPT from store_get /
 *     store_lock_latest / store_write, and ends an iterator early with
 *     store_iter_error() set: never a wrong answer.
 *
 * Thread: all functions on the owning shard thread only. Pointers returned into the
 * store (store_val_t) stay valid until the caller's fiber next suspends.
 */
#ifndef NEXTDB_STORE_H
#define NEXTDB_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct store_txn store_txn_t;
typedef struct store_iter store_iter_t;

enum store_rc {
    STORE_OK = 0,
    STORE_NOTFOUND = 1,
    STORE_EXISTS = 2,        /* insert of a key that is live */
    STORE_LOCKED = 3,        /* another live transaction holds the row; see *blocker */
    STORE_ENOMEM = -1,
    STORE_EREADONLY = -2,    /* a WAL write or fsync failed earlier; writes refused */
    STORE_ECORRUPT = -3,
    STORE_EIO = -4,
    STORE_EINVAL = -5,
};

/* A value handed out by the store. ptr is always 8-byte aligned (values are copied
 * into aligned memory), so callers may decode in place. */
typedef struct store_val { const uint8_t *ptr; uint32_t len; } store_val_t;

typedef struct store_io {
    void *ctx;
    /* Write len bytes at off, then fdatasync when sync; call done(arg, res) later on
     * the same thread (res 0 or -errno). May call done before returning (tests). */
    int (*write)(void *ctx, int fd, const void *buf, size_t len, uint64_t off, bool sync,
                 void (*done)(void *arg, int res), void *arg);
    /* fdatasync only; done as for write. NULL = a zero-length write with sync. Sorted
     * tables are written with sync false in slices, then synced once with this. */
    int (*fsync)(void *ctx, int fd, void (*done)(void *arg, int res), void *arg);
} store_io_t;

typedef struct store_opts {
    const char *dir;               /* shard directory; the WAL lives in dir/wal/ */
    int shard_id;
    const store_io_t *io;
    size_t segment_bytes;          /* 0 = LIMIT_WAL_SEGMENT_BYTES */
    /* Called whenever a transaction ends on this shard (commit durable or abort),
     * after its locks are released, so waiters can retry; also after a rollback to a
     * savepoint released some of its row locks (the transaction goes on). */
    void (*txn_end_hook)(void *arg, uint64_t txn_id);
    void *hook_arg;
    /* Called (with hook_arg; may be NULL) for every group-commit write submitted:
     * how many records it takes and the microseconds they waited in the queue for a
     * write, summed over them (for /metrics). */
    void (*wal_batch_hook)(void *arg, uint32_t records, uint64_t queue_us_sum);
    /* Flush the memtable to a sorted table once it holds more than this many bytes.
     * 0 = LIMIT_MEMTABLE_BUDGET_BYTES; SIZE_MAX = never flush. The next two default to
     * LIMIT_FLUSH_SLICE_BYTES and LIMIT_MANIFEST_BYTES (tests make them tiny). */
    size_t memtable_budget_bytes;
    size_t flush_slice_bytes;      /* raw bytes encoded per store_sync; 0 = default */
    size_t manifest_bytes;         /* manifest size before a switch; 0 = default */
    /* Tiered compaction: merge this many similar-sized files at once; 0 =
     * LIMIT_COMPACT_FANIN_DEFAULT, UINT32_MAX = never compact (only store_compact_full). */
    uint32_t compact_fanin;
    size_t compact_slice_bytes;    /* raw bytes merged per store_sync; 0 = default */
    size_t cache_bytes;            /* block cache; 0 = LIMIT_BLOCK_CACHE_BYTES, SIZE_MAX = none */
    /* A transaction's intents on this shard spill to a run on disk once they pass this
     * many bytes (shards/README.md, "Large transactions"). 0 = the memtable budget (at
     * least LIMIT_SPILL_MIN_BYTES); SIZE_MAX = never spill. */
    size_t spill_bytes;
    /* Lazy phase-two records (store_txn_commit_decided): a WAL write is not started
     * for them alone until the oldest has waited this long; until then they go out
     * with the next write other records start. 0 = no waiting (every record starts a
     * write as soon as none is in flight). */
    uint32_t wal_lazy_us;
} store_opts_t;

/* Opens (creating if needed) and recovers. 0 or a negative store_rc; *out on success. */
int store_open(const store_opts_t *opts, store_t **out);
/* Waits for nothing: caller must have let in-flight syncs finish (store_idle). */
void store_close(store_t *st);
/* No queued or in-flight WAL write and no flush I/O in flight. */
bool store_idle(const store_t *st);
uint64_t store_max_commit_ts(const store_t *st);   /* highest commit ts recovered/committed */
bool store_readonly(const store_t *st);
bool store_flushing(const store_t *st);        /* a memtable flush is in progress */
bool store_compacting(const store_t *st);      /* a compaction is in progress */
/* Raises the horizon: the caller guarantees no snapshot older than horizon_ts is in
 * use or will be taken, and no commit with a timestamp <= horizon_ts is still to
 * come. Compaction keeps every version newer than the horizon plus the newest one at
 * or below it (unless that is a tombstone with nothing older left anywhere). Starts
 * at 0 (keep every version). store_gc raises it too. */
void store_set_horizon(store_t *st, uint64_t horizon_ts);
/* Asks for a merge of every sorted table (in slices, from store_sync; more than
 * LIMIT_COMPACT_FANIN_MAX files take several rounds). For tests, tools and
 * maintenance. */
void store_compact_full(store_t *st);

/* ---- transactions ---- */
/* txn_id is unique process-wide and never reused (the SQL layer derives it from the
 * coordinator's HLC and shard id). Returns NULL on ENOMEM. */
store_txn_t *store_txn_begin(store_t *st, uint64_t txn_id);
store_txn_t *store_txn_find(store_t *st, uint64_t txn_id);
/* Up to cap ids of the live transactions holding writes or row locks here (returns
 * how many there are): ALTER TABLE's rewrite waits for those (shards/store_active.c). */
int store_active_txns(const store_t *st, uint64_t *ids, int cap);
bool store_txn_has_writes(const store_txn_t *t);
/* The ids of the live transactions holding a write (not only a row lock) on a row of
 * table_id here, up to cap of them into ids; returns how many there are (an index
 * build waits for them). */
size_t store_txn_writers(const store_t *st, uint32_t table_id, uint64_t *ids, size_t cap);

/* ---- reads ---- */
int store_get(store_t *st, store_txn_t *t, uint64_t snap_ts, uint32_t table_id,
              const uint8_t *key, uint32_t klen, store_val_t *val);   /* OK / NOTFOUND */
/* Range scan of one table in key order, [lo, hi) (NULL = unbounded), with the same
 * visibility as store_get. The iterator stays valid across suspensions while other
 * fibers write (it sees a consistent snapshot as defined above); dropped or
 * truncated tables keep their memory until every iterator over them is closed. */
store_iter_t *store_iter_open(store_t *st, store_txn_t *t, uint64_t snap_ts, uint32_t table_id,
                              const uint8_t *lo, uint32_t lolen, const uint8_t *hi, uint32_t hilen);
/* 1 = a row, 0 = end. key and val stay valid until the fiber suspends (the next
 * store_sync / store_gc), across further calls on this or any iterator and after
 * store_iter_close: the SQL layer decodes a batch of rows in place before it copies
 * anything. (Sorted-table blocks an iterator leaves are kept until then.) */
int store_iter_next(store_iter_t *it, store_val_t *key, store_val_t *val);
void store_iter_close(store_iter_t *it);
/* 0, or the negative rc (STORE_ECORRUPT, STORE_EIO, STORE_ENOMEM) that made
 * store_iter_next return 0 early: a caller must check it after the loop. */
int store_iter_error(const store_iter_t *it);

/* ---- column scans (format 2 blocks consumed whole) ----
 * store_iter_next_cols is store_iter_next that may also hand out a whole sorted-table
 * block as column vectors: when the block is columnar, holds only versions <= the
 * snapshot, and no other source (memtable, other sorted tables) has any key in its key
 * range, then the visible rows of its keys are exactly each key's newest version in
 * the block unless that is a tombstone (the selection sel[0..nsel), in key order), and
 * the merge can skip the block as a whole. Everything
 * else comes row by row with the usual visibility. Predicates skip such blocks by
 * the index's min/max: a block is skipped when for some predicate no value of its
 * column lies in [lo, hi] (nulls never match). The vectors stay valid as rows do
 * (until the fiber suspends). */
typedef struct store_col {
    uint8_t width, kind;          /* as the layout the block was written with */
    const uint8_t *nulls;         /* bit i (LSB first) set = version i is null; nulls and
                                   * data are NULL for a column the scan does not read
                                   * (store_iter_set_colneed) */
    const uint8_t *data;          /* fixed: width bytes per version (8-aligned start) */
    const uint32_t *ends;         /* width 0: end offset of each version's bytes in data */
} store_col_t;
typedef struct store_colblock {
    uint32_t n, ncols, layout_version;
    const store_col_t *cols;
    /* the same rows joined (as store_iter_next would return them): value i is
     * vals + voff[i], vlen[i] bytes, 8-aligned; NULL until store_colblock_rows */
    const uint8_t *vals;
    const uint32_t *voff, *vlen;
    const uint32_t *sel;          /* the versions that are rows, ascending */
    uint32_t nsel;
    void *blk, *sst;              /* the store's */
} store_colblock_t;
typedef struct store_colpred {
    uint32_t col;                 /* column of the table's layout */
    uint8_t kind;                 /* STORE_COL_INT / UINT / FLOAT: how lo and hi compare */
    bool has_lo, has_hi;
    uint64_t lo, hi;              /* int64 / uint64 / double bits, inclusive */
} store_colpred_t;
/* Switches it to column scanning with up to LIMIT 16 predicates (copied); 0 or
 * STORE_EINVAL / STORE_ENOMEM. */
int store_iter_set_colscan(store_iter_t *it, const store_colpred_t *preds, uint32_t npreds);
/* Only the columns whose bit is set in need (bit c of byte c/8, ncols columns of the
 * table's layout) are decoded in the blocks handed out; the default is all. Their
 * chunks are decompressed on first need, so the others cost nothing. 0 or STORE_EINVAL. */
int store_iter_set_colneed(store_iter_t *it, const uint8_t *need, uint32_t ncols);
/* 2 = a block in *cb, 1 = one row in key/val, 0 = end (check store_iter_error). */
int store_iter_next_cols(store_iter_t *it, store_colblock_t *cb, store_val_t *key, store_val_t *val);
/* Fills cb's vals/voff/vlen (joins the block's rows once); 0 or a negative rc. */
int store_colblock_rows(store_colblock_t *cb);
/* Blocks handed out whole / skipped by predicates since the iterator opened. */
void store_iter_colstats(const store_iter_t *it, uint64_t *blocks_whole, uint64_t *blocks_skipped);

/* ---- writes (each places an intent = row lock, owned by t) ---- */
enum store_write_mode {
    STORE_W_INSERT = 0,   /* STORE_EXISTS if the newest committed version is live or t already wrote it live */
    STORE_W_PUT = 1,      /* insert or overwrite */
    STORE_W_DELETE = 2,   /* tombstone (val ignored) */
};
/* Returns OK, EXISTS, LOCKED (*blocker = holder's txn id; wait for it with the
 * shard layer, then retry), or a negative rc. */
int store_write(store_t *st, store_txn_t *t, int mode, uint32_t table_id,
                const uint8_t *key, uint32_t klen, const uint8_t *val, uint32_t vlen,
                uint64_t *blocker);
/* Locks the row for t (as if t wrote it unchanged, without logging anything unless
 * t later writes it) and returns its NEWEST committed version, ignoring snapshots:
 * the READ COMMITTED re-check of UPDATE/DELETE/SELECT FOR UPDATE.
 * *commit_ts gets that version's commit timestamp (REPEATABLE READ compares it with
 * its snapshot to raise 40001). Returns OK, NOTFOUND (no live version; still locked),
 * LOCKED (*blocker set), or a negative rc. */
int store_lock_latest(store_t *st, store_txn_t *t, uint32_t table_id,
                      const uint8_t *key, uint32_t klen, store_val_t *val,
                      uint64_t *commit_ts, uint64_t *blocker);

/* ---- transaction end ---- */
/* Queues t's writes as one WAL record for the next store_sync. After the record is
 * durable: versions stamped with commit_ts, locks released, txn_end_hook, then
 * done(arg, 0). On WAL failure: t aborted, done(arg, STORE_EREADONLY). A transaction
 * without writes completes at once (done called before return). t is freed after. */
int store_txn_commit(store_t *st, store_txn_t *t, uint64_t commit_ts,
                     void (*done)(void *arg, int rc), void *arg);
/* Discards t's intents, releases its locks, calls txn_end_hook; t is freed. A prepared
 * t also gets an ABORT_PREPARED record (queued; nothing waits for it). */
void store_txn_abort(store_t *st, store_txn_t *t);

/* ---- savepoints ----
 * The SQL layer numbers savepoints within a transaction (1, 2, ...; never reused) and
 * tells each store txn the level its next writes belong to: the newest live
 * savepoint's number, 0 when none is live (nothing is logged for undo then).
 * store_txn_rollback_to undoes every write and row lock t placed at a level >= level
 * on this shard: each key gets back the intent t had there before (or none: its lock
 * is released and txn_end_hook runs so waiters retry). Rows t locked before the
 * savepoint stay locked. Values t read stay valid until t ends. Only an active
 * (not committing or prepared) t: else STORE_EINVAL. */
void store_txn_set_level(store_txn_t *t, uint32_t level);
int store_txn_rollback_to(store_t *st, store_txn_t *t, uint32_t level);

/* ---- one-round two-phase commit (a transaction that touched several shards) ----
 * The coordinator is the lowest touched shard. Phase one, on every touched shard at
 * once: store_txn_stage with this shard's proposed commit_ts (at least its
 * store_commit_floor) -- on the coordinator with the list of the other shards (a
 * STAGED record), elsewhere with parts NULL (a PREPARE record naming the coordinator),
 * written even when the shard has no writes. Once durable t is prepared (done(0)):
 * its intents stay locks, invisible to readers. The transaction is committed exactly
 * when the STAGED record and every listed shard's PREPARE are durable, at the highest
 * proposed timestamp (store_outcome applies that rule to the recovered WALs of every
 * shard). Phase two, once all succeeded: store_txn_commit_decided on every shard with
 * that timestamp: the versions become visible and the locks are released at once; a
 * COMMIT_2PC (coordinator) or COMMIT_PREPARED record with the writes at the decided
 * timestamp is queued and done() runs when it is durable. Every shard keeps its
 * phase-one record in the WAL until store_decision_release, called once every
 * shard's phase-two record is durable. A failure in phase one: store_txn_abort on
 * every shard that prepared (an ABORT_PREPARED record). Failures of stage abort t and
 * call done(rc). store_txn_prepare, store_txn_commit_2pc and store_txn_commit_prepared
 * are the steps of the older two-round protocol, whose records recovery still
 * resolves (and the start-up resolution uses commit_prepared). */
int store_txn_stage(store_t *st, store_txn_t *t, uint32_t coord_shard, const uint32_t *parts,
                    uint32_t nparts, uint64_t commit_ts, void (*done)(void *arg, int rc), void *arg);
int store_txn_commit_decided(store_t *st, store_txn_t *t, uint64_t commit_ts,
                             void (*done)(void *arg, int rc), void *arg);
int store_txn_prepare(store_t *st, store_txn_t *t, uint32_t coord_shard, uint64_t commit_ts,
                      void (*done)(void *arg, int rc), void *arg);
int store_txn_commit_2pc(store_t *st, store_txn_t *t, uint64_t commit_ts,
                         void (*done)(void *arg, int rc), void *arg);
int store_txn_commit_prepared(store_t *st, store_txn_t *t, uint64_t commit_ts,
                              void (*done)(void *arg, int rc), void *arg);
void store_decision_release(store_t *st, uint64_t txn_id);
bool store_txn_prepared(const store_txn_t *t);
uint64_t store_txn_commit_ts(const store_txn_t *t);
/* Recovery leaves every transaction whose PREPARE or STAGED has no later record ending
 * it prepared (in doubt). The opener resolves each before serving: commit
 * (store_txn_commit_prepared) when store_outcome says so, else store_txn_abort.
 * store_indoubt lists up to cap of them (returns how many there are);
 * store_decisions_drop frees the recovered decisions and votes. */
int store_indoubt(const store_t *st, uint64_t *txn_ids, uint32_t *coords, int cap);
bool store_decided(const store_t *st, uint64_t txn_id, uint64_t *commit_ts);
void store_decisions_drop(store_t *st);
/* The outcome of txn_id from the recovered WALs of all nstores stores (stores[i] is
 * shard i; coord its coordinator): committed (true, *commit_ts set) when the
 * coordinator logged the decision or its phase-two record, or some shard logged
 * COMMIT_PREPARED, or -- none logged ABORT_PREPARED -- the coordinator's STAGED and
 * the PREPARE of every shard it lists are there (commit_ts: their highest proposal).
 * Read-only on the stores' recovered state, so any shard may call it. */
bool store_outcome(store_t *const *stores, int nstores, uint32_t coord, uint64_t txn_id,
                   uint64_t *commit_ts);
/* Snapshot consistency across shards (see sql/README.md, "transactions"): a
 * statement reading at snapshot S first waits while store_pending_at(S) names a
 * transaction whose commit is queued, prepared or being decided with a timestamp <= S
 * (its outcome on this shard is not known yet), then notes S (store_note_read). A
 * commit or prepare here takes a timestamp >= store_commit_floor(), above every noted
 * snapshot, so no reader that already read this shard can have its snapshot cover it. */
uint64_t store_pending_at(const store_t *st, uint64_t snap_ts);    /* txn id or 0 */
/* The same, but never naming self_id (a reader's own transaction): O(1). */
uint64_t store_pending_other(const store_t *st, uint64_t snap_ts, uint64_t self_id);
void store_note_read(store_t *st, uint64_t snap_ts);
uint64_t store_commit_floor(const store_t *st);
/* The lowest timestamp of a transaction whose commit is queued, in flight, prepared or
 * being decided here (its versions are not stamped yet), or 0 when there is none. A
 * horizon fed to store_set_horizon / store_gc must stay below it. O(1): a heap kept
 * as commits are queued and end. */
uint64_t store_pending_min(const store_t *st);
/* While held, no WAL segment is removed (the shard layer holds it until every shard
 * has resolved its in-doubt transactions, which may need this shard's decisions). */
void store_hold_trim(store_t *st, bool hold);

/* ---- DDL-level operations, durable like a commit ---- */
/* Removes every version of table_id (logged). done after the record is durable. */
int store_table_clear(store_t *st, uint32_t table_id, uint64_t ts,
                      void (*done)(void *arg, int rc), void *arg);

/* Called once per loop turn: if records are queued and no write is in flight, submit
 * them as one write + fdatasync through store_io (but not lazy phase-two records
 * alone before their wait ran out, see wal_lazy_us). Returns number of records submitted.
 * Also advances a memtable flush by one slice, and frees values handed out from sorted
 * tables by earlier store_get / store_lock_latest calls: like store_gc, it must not be
 * called while a fiber holds store_val_t pointers (call it from the turn_end hook). */
int store_sync(store_t *st);
/* The next store_sync writes whatever is queued, lazy records alone included (for a
 * shard about to close, or a test draining its stores). */
void store_wal_kick(store_t *st);

/* Frees committed versions shadowed by a newer committed version whose commit_ts <=
 * horizon_ts (and tombstones with nothing older left), in bounded slices: at most
 * max_keys keys examined per call. The caller guarantees no snapshot older than
 * horizon_ts is still in use (and no commit at or below it is still to come); it
 * raises the compaction horizon to horizon_ts (store_set_horizon). Must not be called
 * while a fiber holds store_val_t pointers (call it from the turn_end hook). Returns
 * versions freed. */
size_t store_gc(store_t *st, uint64_t horizon_ts, size_t max_keys);

/* Text of the most recent STORE_ECORRUPT / STORE_EIO raised by a sorted-table read on
 * this store's thread, naming the file and block ("sorted table DIR/sst/N.sst:
 * checksum mismatch in block 3"), or "" when there was none. Valid until the next
 * such failure; the SQL layer puts it in the error it sends (SQLSTATE XX001). */
const char *store_last_error(const store_t *st);

/* Negative control for the isolation tests (tests/integration/test_txn_elle.py):
 * when set, every read also sees other transactions' uncommitted writes (dirty
 * reads). The server sets it only from NEXTDB_DEBUG_DIRTY_READS=1, loudly logged.
 * Set before the shards start; never in production. */
extern bool store_debug_dirty_reads;

/* ---- column layouts (sorted table format version 2, shards/README.md) ----
 * The store keeps no SQL types, but the SQL layer can tell it how a table's values
 * are made of columns, so sorted tables store them column by column (each column
 * chunk compressed on its own, with min/max/null counts per column per block in the
 * block index) and scans can read only some columns.
 *   - A row codec (one per process, set before any store opens) splits a value into
 *     cells, given the physical widths of its columns, and joins cells back into the
 *     exact same value bytes. It must be deterministic: the writer checks that
 *     join(split(v)) == v for every value of a block and writes the block with the
 *     opaque value chunk (as format 1) when any value does not round-trip.
 *   - A layout per table id: its version (the SQL layer bumps it on every schema
 *     change), column count, and per column a physical width (1/2/4/8 bytes, or 0 =
 *     variable) and a kind telling how to order fixed-width values for min/max.
 *     Every columnar block records the layout it was written with (version, widths,
 *     kinds), so files written before a schema change stay readable: the reader
 *     joins by the block's widths, never by the current layout.
 *   - Tables without a layout (catalog, sequences, index tables) keep the opaque
 *     value chunk. Registering is process-wide and thread-safe (a mutex); a writer
 *     looks the layout up once per block. */
#define STORE_LAYOUT_MAX_COLS 256
enum store_col_kind {
    STORE_COL_BYTES = 0,  /* no order known to the store: no min/max */
    STORE_COL_INT = 1,    /* signed little-endian integer of its width */
    STORE_COL_UINT = 2,   /* unsigned little-endian integer (bool, oid, "char") */
    STORE_COL_FLOAT = 3,  /* IEEE float (width 4) or double (width 8) */
};
/* One column value of a row: ptr/len into the row (or the block), or null. */
typedef struct store_cell { const uint8_t *ptr; uint32_t len; bool null; } store_cell_t;
typedef struct store_row_codec {
    /* Fills cells[0..ncols) from value v; 0, or -1 when v is not a row of exactly
     * these widths (the block is then written opaque). Fixed-width cells have len ==
     * width. */
    int (*split)(const uint8_t *v, uint32_t vlen, uint32_t ncols, const uint8_t *width,
                 store_cell_t *cells);
    /* Writes the value for cells into out (at most cap bytes; out may be NULL when cap
     * is 0) and returns its full length, or -1 when the cells are not a valid row. */
    int64_t (*join)(uint32_t ncols, const uint8_t *width, const store_cell_t *cells, uint8_t *out,
                    size_t cap);
} store_row_codec_t;
typedef struct store_layout {
    uint32_t version, ncols;      /* 1 <= ncols <= STORE_LAYOUT_MAX_COLS */
    uint8_t width[STORE_LAYOUT_MAX_COLS];
    uint8_t kind[STORE_LAYOUT_MAX_COLS];
} store_layout_t;
/* Sets the process's row codec (NULL = none: every block is written opaque, and a
 * columnar block fails to read with STORE_ECORRUPT "no row codec"). */
void store_set_row_codec(const store_row_codec_t *codec);
const store_row_codec_t *store_row_codec(void);
/* Registers (or replaces) table_id's layout; 0 or STORE_EINVAL (bad widths/count) /
 * STORE_ENOMEM. */
int store_layout_register(uint32_t table_id, const store_layout_t *l);
void store_layout_unregister(uint32_t table_id);
/* Copies table_id's layout into *out; false when it has none. */
bool store_layout_get(uint32_t table_id, store_layout_t *out);

/* Statistics for /metrics. */
typedef struct store_stats {
    uint64_t wal_bytes, wal_syncs, wal_sync_us_total, commits, memtable_bytes, keys;
    /* Since open: flushes completed, their file bytes, WAL segments removed, manifest
     * switches. sst_files: the current set. */
    uint64_t flushes, sst_files, sst_bytes, wal_segments_trimmed, manifest_switches;
    /* Compaction since open: merges installed, input and output file bytes, versions
     * dropped. Gauges: running (0/1), backlog = what the next merge would read (or the
     * running one reads), sst_live_bytes = bytes of the current set. */
    uint64_t compactions, compact_bytes_read, compact_bytes_written, compact_versions_dropped;
    uint64_t compact_running, compact_backlog_bytes, compact_backlog_files, sst_live_bytes;
    /* Block cache since open; cache_bytes a gauge. cache_decoded_bytes: bytes of the
     * blocks decoded by reads through the cache (its misses, lookups and scans). */
    uint64_t cache_hits, cache_misses, cache_evictions, cache_bytes, cache_capacity_bytes;
    uint64_t cache_decoded_bytes;
    /* Garbage collection. versions: a gauge, every version held (memtable versions,
     * intents included, plus the versions of every sorted table in the set: a key
     * with a version in two files counts twice). gc_versions_dropped since open:
     * versions no snapshot at or above the horizon can see, freed from the memtable
     * (store_gc), left out of a flush, or dropped by compaction (cleared tables not
     * counted). horizon: the current horizon (store_set_horizon). */
    uint64_t versions, gc_versions_dropped, horizon;
    /* Column scans since open: blocks handed out whole, skipped by min/max. */
    uint64_t scan_blocks_whole, scan_blocks_skipped;
    /* Point lookups in sorted tables since open (store_get, store_lock_latest,
     * INSERT's check: each a merged lookup): lookups; tables consulted; tables skipped
     * (newest first, an older file whose newest version is not above the version
     * found); ruled out by the bloom filter; bloom false positives; blocks read
     * (block cache hit or miss). */
    uint64_t lookups, lookup_tables, lookup_tables_skipped, lookup_bloom_negatives;
    uint64_t lookup_bloom_false_positives, lookup_blocks;
    /* Large transactions since open: runs spilled, their file bytes. */
    uint64_t spill_runs, spill_bytes;
    /* Group commit since open: records made durable (records per fsync = wal_records /
     * wal_syncs), the lazy phase-two records among them, writes started for lazy
     * records alone (their wait ran out, or store_wal_kick), and the microseconds
     * records waited in the queue for a write to take them (summed over records). */
    uint64_t wal_records, wal_lazy_records, wal_lazy_writes, wal_queue_us_total;
} store_stats_t;
void store_get_stats(const store_t *st, store_stats_t *out);
#endif
