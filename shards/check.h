/*
 * check.h -- offline verification and inspection of a data directory's storage, behind
 * `nextdb check --data DIR` and `nextdb dump-table [--rows] FILE`.
 *
 * Why: a checksum failure found by a query names one block of one file; an operator
 * needs the whole picture before deciding what to restore, and a developer needs to
 * look inside a sorted table. The checker is a second, independent reader of the
 * formats documented in shards/README.md (it shares only the constants in sst.h and
 * store_int.h with the store), so a writer bug that the store's own reader would
 * accept still shows up here.
 *
 * Model:
 *   - For every DIR/shard-NNN: CURRENT and the MANIFEST it names (header, every record's
 *     CRC and contents, snapshot/add semantics), every sorted table the manifest lists
 *     (footer, block index, bloom filter, every block's CRC, header, zstd chunks and
 *     decoded columns, key order within and across blocks, index and footer figures
 *     against the blocks, every key present in the bloom filter), files listed but
 *     missing, and the WAL (segment headers, record CRCs and contents, LSN continuity
 *     across segments and against the manifest's flushed LSN).
 *   - Each finding is one line on `out`: "PROBLEM <path>: <what>" for damage (a query
 *     or a restart would fail or could answer wrongly) or "warning <path>: <what>" for
 *     states that recovery repairs by design (a torn WAL tail, an orphan sorted table
 *     left by a crash during a flush, a stale manifest). Then a summary line.
 *   - Read-only: nothing is written, truncated or removed (DIR/nextdb.lock is created
 *     empty if absent). While checking it holds a shared flock on that file, the lock
 *     the server holds exclusively, so it refuses to run next to a server, and a
 *     server cannot start during a check.
 *
 * Interface:
 *   check_data_dir(dir, out, stats)        verify every shard of a data directory
 *   check_dump_table(path, rows, out, st)  print (and verify) one sorted table
 *
 * Limits: WAL segments and manifests are read whole, up to LIMIT_CHECK_FILE_BYTES;
 * sorted-table blocks one at a time, up to LIMIT_CHECK_BLOCK_BYTES (stored or
 * decoded); dump-table prints at most LIMIT_CHECK_PRINT_BYTES of a key or value.
 * Every length and offset read from a file is bounded by the file size first.
 * Thread: any one thread; not for use inside the server.
 */
#ifndef NEXTDB_CHECK_H
#define NEXTDB_CHECK_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum check_rc {
    CHECK_OK = 0,
    CHECK_EBUSY = -1,     /* a server holds DIR/nextdb.lock */
    CHECK_ENODIR = -2,    /* DIR (or FILE) cannot be opened */
};

typedef struct check_stats {
    uint64_t problems, warnings;
    uint32_t shards, manifests, tables, segments;
    uint64_t blocks, versions, records;
} check_stats_t;

/* Verifies every shard of dir, printing one line per finding and a summary to out.
 * Returns CHECK_OK when the check ran (*stats says what it found), CHECK_EBUSY or
 * CHECK_ENODIR (a message is printed to out) when it could not run. */
int check_data_dir(const char *dir, FILE *out, check_stats_t *stats);

/* Prints a sorted table's metadata (footer figures, bloom, and per block: offset,
 * length, versions, tombstones, ts range, first and last key) and, with rows, every
 * version; verifies it as check_data_dir does. Returns CHECK_OK or CHECK_ENODIR. */
int check_dump_table(const char *path, bool rows, FILE *out, check_stats_t *stats);
#endif
