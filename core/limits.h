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
#define LIMIT_SQL_ACTIVITY_QUERY_BYTES 1024   /* query text pg_stat_activity shows (track_activity_query_size) */
#define LIMIT_SQL_ACTIVITY_ROWS      65536    /* sessions one pg_stat_activity scan lists */
#define LIMIT_SQL_SAVEPOINTS         65536    /* live savepoints in one transaction (54000 beyond) */
#define LIMIT_BATCH_ROWS             1024     /* rows per vectorized batch */
#define LIMIT_TABLES                 100000
#define LIMIT_SQL_INDEXES_PER_TABLE  64       /* CREATE INDEX per table (catalog row size) */
#define LIMIT_SQL_VIEW_DEPS          256      /* relations one view reads (catalog row size) */
#define LIMIT_SQL_VIEW_DEPTH         32       /* views expanded inside views: a view that reaches
                                               * itself (CREATE OR REPLACE) stops here */
#define LIMIT_SQL_INDEX_COLUMNS      32       /* PostgreSQL's INDEX_MAX_KEYS */
#define LIMIT_PGCAT_COLUMNS          64       /* widest virtual catalog table (information_schema.columns has 44) */

/* Storage. */
#define LIMIT_KEY_BYTES              4096     /* encoded primary key */
#define LIMIT_ROW_BYTES              (64 * 1024 * 1024) /* encoded row value */
#define LIMIT_WAL_RECORD_BYTES       (256 * 1024 * 1024)
#define LIMIT_WAL_SEGMENT_BYTES      (64 * 1024 * 1024)
#define LIMIT_WAL_BATCH_BYTES        (8 * 1024 * 1024)  /* one group-commit write */
#define LIMIT_WAL_LAZY_US            1000     /* lazy phase-two records start a WAL write alone after this */

/* Network: net/ (appended by net). */
#define LIMIT_PG_STARTUP_PARAMS      128      /* name/value pairs in one startup packet */
#define LIMIT_PG_AUTH_MESSAGE_BYTES  65535    /* SASL messages before auth, as PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH */
#define LIMIT_PG_OUTPUT_FLUSH_BYTES  (64 * 1024) /* send buffered replies once this many bytes wait */
#define LIMIT_HTTP_CONNECTIONS       10000    /* HTTP connections across the process */
#define LIMIT_HTTP_HEADERS           100      /* header lines per request */
#define LIMIT_HTTP_LINGER_BYTES      (64 * 1024) /* unread input drained before closing, so the answer is not lost to a TCP reset */
#define LIMIT_HTTP_RESPONSE_BYTES    (256 * 1024 * 1024) /* one /query JSON answer */
#define LIMIT_HTTP_JSON_ARENA_BYTES  (4 * LIMIT_HTTP_BODY_BYTES) /* parsed request tree */
#define LIMIT_NET_STOP_WAIT_MS       2000     /* shard stop waits this long for connections to end */
#define LIMIT_HBA_RULES              1024     /* lines in DATA/hba.conf */
#define LIMIT_HBA_USERS              4096     /* lines in DATA/users.conf */
#define LIMIT_CONF_LINE_BYTES        1024     /* one line of hba.conf / users.conf */
#define LIMIT_SCRAM_ITERATIONS_MAX   100000   /* verifier iteration count accepted from users.conf */

/* Storage: shards/ (appended by store). */
#define LIMIT_MEMTABLE_HEIGHT        16       /* skip list levels; 4^16 keys before search degrades */
#define LIMIT_WAL_SEGMENTS           1000000  /* segment files replayed at open (names are LSNs) */
#define LIMIT_TXN_WRITES             (1u << 24) /* rows one transaction may lock/write on a shard */
#define LIMIT_SHARD_WAIT_BUCKETS     256      /* hash buckets of shard_wait_txn waiters */

/* Runtime (core engineer). */
#define LIMIT_RING_BATCH             64       /* producer publishes tail at least every 64 pushes */
#define LIMIT_RING_DRAIN_BATCH       256      /* consumer pops at most this per ring per turn */
#define LIMIT_FIBER_FREE_STACKS      256      /* idle fiber stacks kept for reuse per shard */
#define LIMIT_RUN_PER_TURN           4096     /* fibers resumed per loop turn before I/O is polled */
#define LIMIT_IO_CQE_BATCH           256      /* completions reaped per peek */
#define LIMIT_IO_CQ_ENTRIES          16384    /* io_uring CQ per shard: >= in-flight ops (a recv per connection) */
#define LIMIT_IO_CHUNK_BYTES         (1u << 30) /* one io_uring read/write is at most 1 GiB */
#define LIMIT_SPIN_KERNEL_POLL_US    10       /* while spinning, reap kernel completions this often */
#define LIMIT_SPIN_LOAD_CHECK_US     20000    /* awake shards re-read the run queue length this often */
#define LIMIT_SPIN_OFF_HOLD_US       200000   /* after seeing more runnable threads than CPUs, no spin this long */

/* SQL types and built-in functions. */
#define LIMIT_TEXT_VALUE_BYTES       ((1u << 30) - 1) /* PostgreSQL's varlena maximum (1 GiB - 1) */
#define LIMIT_FUNC_ARGS              100      /* PostgreSQL's FUNC_MAX_ARGS */
#define LIMIT_FUNC_CANDIDATES        64       /* overloads of one name considered in resolution */

/* SQL engine (sql/). */
#define LIMIT_BIND_SUBQUERIES        64       /* uncorrelated subqueries per statement */
#define LIMIT_BIND_CONJUNCTS         256      /* AND terms of one WHERE considered for pushdown */
#define LIMIT_SQL_STMT_ARENA_BYTES   (256u * 1024 * 1024) /* statement memory budget -> 53200 */
#define LIMIT_SHARD_REPORT_US        10000    /* a shard pushes its store stats to /metrics at most this often */
#define LIMIT_GC_INTERVAL_US         10000    /* a shard publishes its oldest snapshot and runs a gc slice at most this often */
#define LIMIT_GC_KEYS_PER_STEP       4096     /* memtable keys one gc slice visits (store_gc max_keys) */
#define LIMIT_GC_TICK_MS             100      /* an idle shard wakes this often to publish its snapshot floor */
#define LIMIT_PORT_BUSY_WAIT_MS      5000     /* start-up waits this long for a busy port to free up */
#define LIMIT_SQL_SHAPE_TEXT_BYTES   8192     /* longer simple-query statements are parsed every time */
#define LIMIT_SQL_SHAPE_GROWTH_BYTES (256 * 1024) /* a reused statement shape is parsed afresh after its arena grew this much */
#define LIMIT_SQL_PLAN_CACHE         64       /* simple-protocol plans cached per session */
#define LIMIT_SQL_PREPARED           1024     /* named prepared statements + portals per session */
#define LIMIT_DEADLOCK_TIMEOUT_MS    1000     /* default deadlock_timeout: lock wait before a deadlock check */
#define LIMIT_DEADLOCK_SEARCH_NODES  64       /* transactions one deadlock search visits at most */
#define LIMIT_DEADLOCK_EDGES         8        /* blockers of one transaction one shard reports */
#define LIMIT_WAIT_POLL_MS           100      /* a lock or snapshot wait looks at query cancel this often */
#define LIMIT_SQL_GUC_VALUE_BYTES    1024     /* one setting's text value */
#define LIMIT_SQL_SORT_ROWS          (64u * 1024 * 1024) /* rows a coordinator sort/join may hold */
#define LIMIT_SQL_RECURSIVE_STEPS    (1000u * 1000) /* iterations of one WITH RECURSIVE (54000 beyond) */

/* Storage: sorted tables, flush, manifest (appended by storage2). */
#define LIMIT_SST_BLOCK_BYTES        (32 * 1024) /* raw bytes per block before it is cut (between keys) */
#define LIMIT_SST_BLOOM_BITS_PER_KEY 10       /* ~1% false positives with 7 probes */
#define LIMIT_SST_ZSTD_LEVEL         (-1)     /* negative: no Huffman literals, so a block decodes ~2.5x faster (shards/README.md, "Point lookups") */
#define LIMIT_SST_FILES              4096     /* safety cap on sorted tables per shard: flushing stops (logged) if compaction falls this far behind */
#define LIMIT_MEMTABLE_BUDGET_BYTES  (64u * 1024 * 1024) /* default flush threshold */
#define LIMIT_FLUSH_SLICE_BYTES      (1024 * 1024) /* raw bytes encoded per flush slice (one loop turn) */
#define LIMIT_MANIFEST_BYTES         (4 * 1024 * 1024) /* manifest log size before a switch to a fresh one */
#define LIMIT_MANIFEST_RECORD_BYTES  (64 * 1024 * 1024) /* one edit (files + table clear marks) */
#define LIMIT_COMPACT_FANIN_MIN      2        /* tiered compaction: similar files merged at once (T) */
#define LIMIT_COMPACT_FANIN_DEFAULT  4        /* T = 4: write amp ~ tiers, space amp <= ~T per tier */
#define LIMIT_COMPACT_FANIN_MAX      32       /* inputs of one merge: one decoded block each in memory */
#define LIMIT_COMPACT_SIZE_RATIO     2        /* files within 2x of each other are one tier (must stay < T) */
#define LIMIT_COMPACT_TIERS          12       /* more than T * 12 files: merge the smallest T adjacent anyway */
#define LIMIT_COMPACT_GARBAGE_RATIO  2        /* a file wholly below the horizon with >= 2 versions per key is rewritten alone */
#define LIMIT_COMPACT_SLICE_BYTES    (1024 * 1024) /* raw bytes merged per slice (one loop turn) */
#define LIMIT_BLOCK_CACHE_BYTES      (32u * 1024 * 1024) /* default per-shard block cache */
#define LIMIT_BLOCK_CACHE_MIN_BYTES  (1024 * 1024) /* smallest cache the --memory split gives */
#define LIMIT_MEMTABLE_MIN_BYTES     (1024 * 1024) /* smallest flush threshold the --memory split gives */
#define LIMIT_SPILL_MIN_BYTES        (1024 * 1024) /* smallest default spill threshold of a transaction's intents */

/* SQL arrays (appended by engine2). */
#define LIMIT_SQL_ARRAY_ELEMS        (1024 * 1024) /* elements of one array value (text input, binary recv, ARRAY(subquery)) */

/* Storage tools and settings (appended by tooling). */
#define LIMIT_CHECK_FILE_BYTES       (1ull << 30) /* WAL segment or manifest `nextdb check` reads whole; real ones stay near 64 MiB / 4 MiB */
#define LIMIT_CHECK_BLOCK_BYTES      (1u << 30) /* one sorted-table block, stored or decoded, the checker allocates */
#define LIMIT_CHECK_PRINT_BYTES      64       /* key or value bytes `nextdb dump-table` prints per item */
#define LIMIT_MEMTABLE_BUDGET_MIN_BYTES (64 * 1024) /* smallest --memtable-budget: below it every few commits flush */

/* Vectors: vector/ (appended by vector). */
#define LIMIT_VECTOR_DIMS            16000    /* pgvector's VECTOR_MAX_DIM */
#define LIMIT_HNSW_M_MIN             2        /* pgvector HNSW_MIN_M */
#define LIMIT_HNSW_M_MAX             100      /* pgvector HNSW_MAX_M */
#define LIMIT_HNSW_EF_CONSTRUCTION_MIN 4      /* pgvector HNSW_MIN_EF_CONSTRUCTION */
#define LIMIT_HNSW_EF_CONSTRUCTION_MAX 1000   /* pgvector HNSW_MAX_EF_CONSTRUCTION */
#define LIMIT_HNSW_EF_SEARCH_MIN     1        /* pgvector HNSW_MIN_EF_SEARCH */
#define LIMIT_HNSW_EF_SEARCH_MAX     1000     /* pgvector HNSW_MAX_EF_SEARCH */
#define LIMIT_HNSW_LEVELS            16       /* layers; M^16 nodes before the top layer gets crowded */
#define LIMIT_HNSW_NODES             (1u << 30) /* nodes per index (incl. tombstones); slot numbers are uint32 */
#define LIMIT_HNSW_K_MAX             10000    /* results one search returns */
#define LIMIT_HNSW_REPAIR_ROUNDS     8        /* reachability fix-up rounds in one repair pass */
#define LIMIT_SQL_TOPK_ROWS          100000   /* ORDER BY ... LIMIT k pushed into shards up to this k (+ offset) */
#define LIMIT_SQL_TOPK_KEYS          16       /* sort keys of a pushed-down top-k */
#define LIMIT_VINDEX_HNSW_DIMS       2000     /* pgvector's HNSW_MAX_DIM: dimensions an hnsw index accepts */
#define LIMIT_VINDEX_GC_BATCH        4096     /* garbage entries one search tombstones */
#define LIMIT_VINDEX_SAMPLE          256      /* entries sampled to estimate a filter's selectivity */
#define LIMIT_VINDEX_VISITS_PER_EF   25       /* distances one graph search computes per unit of ef (README measurements) */
#define LIMIT_VINDEX_REPAIR_MIN      1024     /* tombstones before a repair pass is considered */
#define LIMIT_VINDEX_BUILD_SLICE_US  2000     /* CREATE INDEX builds this long on a shard, then yields */
#define LIMIT_VINDEX_KEY_BYTES       (1u << 20) /* a row key in a saved graph's entry file */
#define LIMIT_VINDEX_PENDING         (1u << 20) /* deleted/overwritten keys awaiting a sweep per graph */

#endif
