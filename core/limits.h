/*
 * limits.h -- every bound NextDB enforces, in one place, with its reason.
 *
 * Any queue, buffer, loop, recursion depth or message size in the code base is
 * bounded by a constant defined here (or derived from one). Modules add their
 * limits to this file rather than defining private magic numbers, so a reader
 * can see the whole envelope of the system on one page.
 */
#ifndef NEXTDB_LIMITS_H
#define NEXTDB_LIMITS_H

/* Runtime. */
#define LIMIT_SHARDS_MAX             256      /* SPSC ring matrix is N*N; keep it bounded */
#define LIMIT_RING_SLOTS             4096     /* per ordered pair; power of two */
#define LIMIT_FIBER_STACK_BYTES      (256 * 1024) /* per fiber; deep enough for the planner */
#define LIMIT_FIBERS_PER_SHARD       16384    /* connections + in-flight remote requests */
#define LIMIT_SPIN_BEFORE_SLEEP_US   50       /* default idle spin before a core sleeps */
#define LIMIT_IO_QUEUE_DEPTH         1024     /* io_uring SQ entries per shard */

/* Network: PostgreSQL protocol. */
#define LIMIT_PG_STARTUP_BYTES       10000    /* PostgreSQL rejects startup packets above 10000 */
#define LIMIT_PG_MESSAGE_BYTES       (1u << 30) /* PostgreSQL's MaxAllocSize-ish bound (1 GiB) */
#define LIMIT_PG_PARAMS              65535    /* protocol carries an int16 count */
#define LIMIT_PG_CONNECTIONS         10000    /* across the process */
#define LIMIT_PG_READ_BUFFER_BYTES   (64 * 1024)

/* Network: HTTP. */
#define LIMIT_HTTP_HEADER_BYTES      (16 * 1024)
#define LIMIT_HTTP_BODY_BYTES        (16 * 1024 * 1024)
#define LIMIT_JSON_DEPTH             64

/* SQL. */
#define LIMIT_SQL_TEXT_BYTES         (64 * 1024 * 1024)
#define LIMIT_SQL_EXPR_DEPTH         1000     /* recursion guard in binder / evaluator */
#define LIMIT_SQL_COLUMNS            1600     /* PostgreSQL's MaxHeapAttributeNumber */
#define LIMIT_SQL_IDENT_BYTES        63       /* NAMEDATALEN - 1 */
#define LIMIT_BATCH_ROWS             1024     /* rows per vectorized batch */
#define LIMIT_TABLES                 100000

/* Storage. */
#define LIMIT_KEY_BYTES              4096     /* encoded primary key */
#define LIMIT_ROW_BYTES              (64 * 1024 * 1024) /* encoded row value */
#define LIMIT_WAL_RECORD_BYTES       (256 * 1024 * 1024)
#define LIMIT_WAL_SEGMENT_BYTES      (64 * 1024 * 1024)
#define LIMIT_WAL_BATCH_BYTES        (8 * 1024 * 1024)  /* one group-commit write */

#endif
