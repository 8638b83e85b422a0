/*
 * error.h -- SQL errors: a SQLSTATE plus message/detail/hint worded as PostgreSQL
 * words them (see PostgreSQL's error message style guide).
 *
 * Errors are values: functions return -1 (or NULL) and fill a caller-provided
 * sql_error_t. The first error set wins (later sql_error_set calls on an error that
 * already holds a SQLSTATE are ignored), so a low-level message is not overwritten
 * by a vaguer one on the way up. In debug builds the raising file:line is recorded.
 *
 * Common SQLSTATEs are named below; see PostgreSQL's errcodes.txt for the rest.
 */
#ifndef NEXTDB_SQL_ERROR_H
#define NEXTDB_SQL_ERROR_H
#include <stdbool.h>

typedef struct sql_error {
    char sqlstate[6];          /* "" = no error */
    char severity[8];          /* "ERROR", "FATAL", "NOTICE", "WARNING" */
    char message[512];
    char detail[512];
    char hint[256];
    char context[256];         /* CONTEXT line (e.g. COPY's "COPY t, line 3: ...") */
    int position;              /* 1-based cursor position in the query text, 0 = none */
    const char *file;          /* raising site (debug builds) */
    int line;
} sql_error_t;

#define SQLSTATE_SUCCESSFUL             "00000"
#define SQLSTATE_FEATURE_NOT_SUPPORTED  "0A000"
#define SQLSTATE_INVALID_TEXT_REP       "22P02"
#define SQLSTATE_NUMERIC_OUT_OF_RANGE   "22003"
#define SQLSTATE_DIVISION_BY_ZERO       "22012"
#define SQLSTATE_STRING_TOO_LONG        "22001"
#define SQLSTATE_DATETIME_OVERFLOW      "22008"
#define SQLSTATE_INVALID_DATETIME       "22007"
#define SQLSTATE_NOT_NULL_VIOLATION     "23502"
#define SQLSTATE_UNIQUE_VIOLATION       "23505"
#define SQLSTATE_BAD_COPY_FORMAT        "22P04"
#define SQLSTATE_INVALID_TXN_STATE      "25000"
#define SQLSTATE_IN_FAILED_TXN          "25P02"
#define SQLSTATE_READ_ONLY_TXN          "25006"
#define SQLSTATE_INVALID_AUTH           "28000"
#define SQLSTATE_INVALID_PASSWORD       "28P01"
#define SQLSTATE_INVALID_CURSOR         "34000"
#define SQLSTATE_SERIALIZATION_FAILURE  "40001"
#define SQLSTATE_DEADLOCK               "40P01"
#define SQLSTATE_SYNTAX_ERROR           "42601"
#define SQLSTATE_UNDEFINED_COLUMN       "42703"
#define SQLSTATE_UNDEFINED_FUNCTION     "42883"
#define SQLSTATE_UNDEFINED_TABLE        "42P01"
#define SQLSTATE_UNDEFINED_OBJECT       "42704"
#define SQLSTATE_UNDEFINED_PSTATEMENT   "26000"
#define SQLSTATE_DUPLICATE_TABLE        "42P07"
#define SQLSTATE_DUPLICATE_PSTATEMENT   "42P05"
#define SQLSTATE_DATATYPE_MISMATCH      "42804"
#define SQLSTATE_AMBIGUOUS_COLUMN       "42702"
#define SQLSTATE_GROUPING_ERROR         "42803"
#define SQLSTATE_INVALID_PARAMETER      "22023"
#define SQLSTATE_PROTOCOL_VIOLATION     "08P01"
#define SQLSTATE_CONNECTION_FAILURE     "08006"
#define SQLSTATE_OUT_OF_MEMORY          "53200"
#define SQLSTATE_TOO_MANY_CONNECTIONS   "53300"
#define SQLSTATE_PROGRAM_LIMIT          "54000"
#define SQLSTATE_QUERY_CANCELED         "57014"
#define SQLSTATE_ADMIN_SHUTDOWN         "57P01"
#define SQLSTATE_IO_ERROR               "58030"
#define SQLSTATE_INTERNAL_ERROR         "XX000"
#define SQLSTATE_DATA_CORRUPTED         "XX001"
#define SQLSTATE_UNDEFINED_PARAMETER    "42704"
#define SQLSTATE_CANT_CHANGE_RUNTIME    "55P02"
#define SQLSTATE_INVALID_NAME           "42602"
#define SQLSTATE_UNDEFINED_SCHEMA       "3F000"

/* Sets the error (first one wins) and returns -1 so callers can `return sql_error(...)`. */
int sql_error_at(sql_error_t *e, const char *file, int line, const char *sqlstate,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define sql_error(e, state, ...) sql_error_at((e), __FILE__, __LINE__, (state), __VA_ARGS__)
void sql_error_detail(sql_error_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sql_error_hint(sql_error_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sql_error_context(sql_error_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sql_error_clear(sql_error_t *e);
static inline bool sql_error_is_set(const sql_error_t *e) { return e->sqlstate[0] != 0; }
#endif
