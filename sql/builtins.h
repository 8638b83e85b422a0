/*
 * builtins.h -- the built-in scalar function library (lower, length, abs, now, ...).
 *
 * Model: a static table of overloads; each entry has PostgreSQL's name, argument
 * types, result type, the pg_proc OID PostgreSQL uses where one exists (so \df and
 * drivers agree), strictness, volatility, and a C function evaluating ONE row.
 * The executor vectorizes by calling it per row of a batch (null handling for strict
 * functions done by the caller: strict + any null argument = null result, fn not
 * called). Aggregates and window functions are not here (sql/ executor owns them).
 *
 * Resolution (builtin_resolve) follows PostgreSQL's function-call rules in small:
 * exact match, then matches reachable by implicit casts (unknown literals match any
 * type, preferring the text category), preferring preferred types; ambiguity is
 * 42725, no match 42883 "function f(integer) does not exist" with PostgreSQL's hint.
 *
 * Thread: any; the table is immutable.
 */
#ifndef NEXTDB_BUILTINS_H
#define NEXTDB_BUILTINS_H
#include "sql/types.h"

#define BUILTIN_ARGS_MAX 8
#define BUILTIN_VARIADIC (-1)

struct builtin_ctx;   /* session facts functions may read: see below */
typedef struct builtin_ctx {
    int64_t stmt_ts;              /* now()/current_timestamp: statement start, us since 2000 */
    int64_t txn_ts;               /* transaction start (now() is txn start in PostgreSQL) */
    const char *user;             /* current_user / session_user */
    const char *database;         /* current_database() */
    arena_t *arena;               /* where results live */
    const struct catalog *catalog;  /* snapshot the statement bound against (sql/catalog.h) */
    int32_t backend_pid;          /* pg_backend_pid() */
    struct seq_session *seqs;     /* currval / lastval state (sql/sequence.h); NULL: none */
    const struct types_tz *tz;    /* the session's TimeZone (sql/types_time.h); NULL = UTC */
} builtin_ctx_t;

typedef int (*builtin_fn)(const builtin_ctx_t *ctx, int nargs, const datum_t *args,
                          const bool *nulls, const type_oid_t *argtypes,
                          datum_t *out, bool *isnull, sql_error_t *err);

typedef struct builtin {
    const char *name;             /* lower-case SQL name */
    uint32_t proc_oid;            /* pg_proc OID in PostgreSQL 15, or 0 */
    int nargs;                    /* BUILTIN_VARIADIC for e.g. concat */
    type_oid_t argtypes[BUILTIN_ARGS_MAX];   /* TYPE_INVALID = "any" */
    type_oid_t rettype;
    bool strict;
    char volatility;              /* 'i' immutable, 's' stable, 'v' volatile */
    builtin_fn fn;
} builtin_t;

/* Resolves name(argtypes) to an overload; NULL + err (42883/42725) if none.
 * *cast_to receives, per argument, the type the caller must cast it to first. */
const builtin_t *builtin_resolve(const char *name, int nargs, const type_oid_t *argtypes,
                                 type_oid_t *cast_to, sql_error_t *err);
int builtin_count(void);          /* for pg_proc */
const builtin_t *builtin_at(int i);
#endif
