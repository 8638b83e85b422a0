/*
 * guc.c -- run-time settings; see guc.h.
 */
#include "sql/guc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/rt.h"
#include "sql/types_time.h"

enum { G_REPORT = 1, G_READONLY = 2, G_TIME = 4, G_BOOL = 8, G_INT = 16 };

typedef struct guc_def {
    const char *name;
    const char *boot;
    int flags;
    const char *desc;
} guc_def_t;

static const guc_def_t guc_defs[] = {
    {"application_name", "", G_REPORT, "Sets the application name to be reported in statistics and logs."},
    {"bytea_output", "hex", 0, "Sets the output format for bytea."},
    {"client_encoding", "UTF8", G_REPORT, "Sets the client's character set encoding."},
    {"client_min_messages", "notice", 0, "Sets the message levels that are sent to the client."},
    {"DateStyle", "ISO, MDY", G_REPORT, "Sets the display format for date and time values."},
    {"deadlock_timeout", "1s", G_TIME, "Sets the time to wait on a lock before checking for deadlock."},
    {"default_transaction_isolation", "read committed", 0, "Sets the transaction isolation level of each new transaction."},
    {"default_transaction_read_only", "off", G_REPORT | G_BOOL, "Sets the default read-only status of new transactions."},
    {"extra_float_digits", "1", G_INT, "Sets the number of digits displayed for floating-point values."},
    {"hnsw.ef_search", "40", G_INT, "Sets the size of the dynamic candidate list for search"},   /* pgvector */
    {"idle_in_transaction_session_timeout", "0", G_TIME, "Sets the maximum allowed idle time between queries, when in a transaction."},
    {"in_hot_standby", "off", G_REPORT | G_READONLY, "Shows whether hot standby is currently active."},
    {"integer_datetimes", "on", G_REPORT | G_READONLY, "Shows whether datetimes are integer based."},
    {"IntervalStyle", "postgres", G_REPORT, "Sets the display format for interval values."},
    {"is_superuser", "on", G_REPORT | G_READONLY, "Shows whether the current user is a superuser."},
    {"lc_collate", "C", G_READONLY, "Shows the collation order locale."},
    {"lc_ctype", "C", G_READONLY, "Shows the character classification and case conversion locale."},
    {"lc_messages", "C", 0, "Sets the language in which messages are displayed."},
    {"lc_monetary", "C", 0, "Sets the locale for formatting monetary amounts."},
    {"lc_numeric", "C", 0, "Sets the locale for formatting numbers."},
    {"lc_time", "C", 0, "Sets the locale for formatting date and time values."},
    {"lock_timeout", "0", G_TIME, "Sets the maximum allowed duration of any wait for a lock."},
    {"max_connections", "10000", G_READONLY, "Sets the maximum number of concurrent connections."},
    {"max_identifier_length", "63", G_READONLY, "Shows the maximum identifier length."},
    {"search_path", "\"$user\", public", 0, "Sets the schema search order for names that are not schema-qualified."},
    {"server_encoding", "UTF8", G_REPORT | G_READONLY, "Shows the server (database) character set encoding."},
    {"server_version", "15.4", G_REPORT | G_READONLY, "Shows the server version."},
    {"server_version_num", "150004", G_READONLY, "Shows the server version as an integer."},
    {"session_authorization", "", G_REPORT, "Sets the session user name."},
    {"standard_conforming_strings", "on", G_REPORT | G_BOOL, "Causes '...' strings to treat backslashes literally."},
    {"statement_timeout", "0", G_TIME, "Sets the maximum allowed duration of any statement."},
    {"synchronous_commit", "on", 0, "Sets the current transaction's synchronization level."},
    {"TimeZone", "UTC", G_REPORT, "Sets the time zone for displaying and interpreting time stamps."},
    {"transaction_isolation", "read committed", 0, "Sets the current transaction's isolation level."},
    {"transaction_read_only", "off", G_BOOL, "Sets the current transaction's read-only status."},
    {"work_mem", "4MB", 0, "Sets the maximum memory to be used for query workspaces."},
};
#define GUC_N ((int)(sizeof guc_defs / sizeof guc_defs[0]))

/* One setting changed in the open transaction: its value before the transaction and
 * the value a COMMIT keeps (the last plain SET; NULL = prior, only SET LOCAL ran). */
typedef struct guc_undo { int index; char *prior; char *session; struct guc_undo *next; } guc_undo_t;

/* A setting's state before a SET made while savepoint `level` was the newest live one:
 * its value and the value COMMIT would keep (NULL: none). guc_rollback_to puts both
 * back; newest first, levels as in shards/store.h "savepoints". */
typedef struct guc_sp_undo {
    int index;
    uint32_t level;
    char *value, *session;
    struct guc_sp_undo *next;
} guc_sp_undo_t;

struct guc_set {
    char *values[GUC_N];
    guc_undo_t *undo;
    bool in_txn;
    uint32_t sp_level;          /* newest live savepoint, 0 = none */
    guc_sp_undo_t *sp_undo;
};

static void guc_sp_undo_free(guc_sp_undo_t *e)
{
    rt_free(e->value);
    rt_free(e->session);
    rt_free(e);
}

/* guc_defs is kept in case-insensitive name order (the unit test checks it), so a
 * lookup -- several per statement -- is a binary search. */
static int guc_find(const char *name)
{
    int lo = 0, hi = GUC_N - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcasecmp(guc_defs[mid].name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

bool guc_table_sorted(void)
{
    for (int i = 1; i < GUC_N; i++)
        if (strcasecmp(guc_defs[i - 1].name, guc_defs[i].name) >= 0)
            return false;
    return true;
}

static char *sdup(const char *s)
{
    size_t n = strlen(s);
    char *p = rt_malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

guc_set_t *guc_new(const char *user)
{
    guc_set_t *g = rt_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    for (int i = 0; i < GUC_N; i++) {
        const char *v = guc_defs[i].boot;
        if (!strcmp(guc_defs[i].name, "session_authorization"))
            v = user;
        if (!(g->values[i] = sdup(v))) {
            guc_free(g);
            return NULL;
        }
    }
    return g;
}

void guc_free(guc_set_t *g)
{
    if (!g)
        return;
    for (int i = 0; i < GUC_N; i++)
        rt_free(g->values[i]);
    while (g->undo) {
        guc_undo_t *u = g->undo;
        g->undo = u->next;
        rt_free(u->prior);
        rt_free(u->session);
        rt_free(u);
    }
    while (g->sp_undo) {
        guc_sp_undo_t *e = g->sp_undo;
        g->sp_undo = e->next;
        guc_sp_undo_free(e);
    }
    rt_free(g);
}

static int unknown(const char *name, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_UNDEFINED_PARAMETER, "unrecognized configuration parameter \"%s\"", name);
}

int guc_get(const guc_set_t *g, const char *name, bool missing_ok, const char **value, const char **canon,
            sql_error_t *err)
{
    int i = guc_find(name);
    *value = NULL;
    if (i < 0)
        return missing_ok ? 0 : unknown(name, err);
    *value = g->values[i];
    if (canon)
        *canon = guc_defs[i].name;
    return 0;
}

/* Parses "<n>[unit]" into milliseconds; -1 on bad syntax. */
static int64_t parse_ms(const char *v)
{
    char *end;
    while (isspace((unsigned char)*v))
        v++;
    double n = strtod(v, &end);
    if (end == v)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    double mult = 1;
    if (!*end || !strcasecmp(end, "ms")) mult = 1;
    else if (!strcasecmp(end, "s")) mult = 1000;
    else if (!strcasecmp(end, "min")) mult = 60000;
    else if (!strcasecmp(end, "h")) mult = 3600000;
    else if (!strcasecmp(end, "d")) mult = 86400000;
    else if (!strcasecmp(end, "us")) mult = 0.001;
    else return -1;
    if (n < 0 || n * mult > 2147483647.0)
        return -1;
    return (int64_t)(n * mult);
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const t[] = {"on", "true", "yes", "1", "t", "y"};
    static const char *const f[] = {"off", "false", "no", "0", "f", "n"};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!strcasecmp(v, t[i])) { *out = true; return true; }
        if (!strcasecmp(v, f[i])) { *out = false; return true; }
    }
    return false;
}

static int bad_value(const char *name, const char *value, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid value for parameter \"%s\": \"%s\"", name, value);
}

/* Validates and normalises value for setting i into buf. */
static int normalise(int i, const char *value, char *buf, size_t cap, sql_error_t *err)
{
    const guc_def_t *d = &guc_defs[i];
    if (strlen(value) >= cap)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "value for parameter \"%s\" is too long", d->name);
    strcpy(buf, value);
    if (d->flags & G_BOOL) {
        bool b;
        if (!parse_bool(value, &b))
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "parameter \"%s\" requires a Boolean value", d->name);
        strcpy(buf, b ? "on" : "off");
        if (!strcmp(d->name, "standard_conforming_strings") && !b)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "standard_conforming_strings = off is not supported");
        if (!strcmp(d->name, "transaction_read_only") && b)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "read-only transactions are not supported");
        return 0;
    }
    if (d->flags & G_TIME) {
        if (parse_ms(value) < 0)
            return bad_value(d->name, value, err);
        return 0;
    }
    if (d->flags & G_INT) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || end == value)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid value for parameter \"%s\": \"%s\"", d->name, value);
        if (!strcmp(d->name, "extra_float_digits") && (v < -15 || v > 3))
            return sql_error(err, SQLSTATE_INVALID_PARAMETER,
                             "%ld is outside the valid range for parameter \"%s\" (-15 .. 3)", v, d->name);
        if (!strcmp(d->name, "hnsw.ef_search") && (v < LIMIT_HNSW_EF_SEARCH_MIN || v > LIMIT_HNSW_EF_SEARCH_MAX))
            return sql_error(err, SQLSTATE_INVALID_PARAMETER,
                             "%ld is outside the valid range for parameter \"%s\" (%d .. %d)", v, d->name,
                             LIMIT_HNSW_EF_SEARCH_MIN, LIMIT_HNSW_EF_SEARCH_MAX);
        return 0;
    }
    if (!strcmp(d->name, "bytea_output")) {
        if (strcasecmp(value, "hex") && strcasecmp(value, "escape")) {
            sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid value for parameter \"%s\": \"%s\"", d->name, value);
            sql_error_hint(err, "Available values: escape, hex.");
            return -1;
        }
        /* the escape output form is not wired into the row output path yet */
        if (strcasecmp(value, "hex"))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "bytea_output = escape is not supported");
        strcpy(buf, "hex");
    } else if (!strcmp(d->name, "client_encoding")) {
        if (strcasecmp(value, "UTF8") && strcasecmp(value, "UTF-8") && strcasecmp(value, "unicode"))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "conversion between %s and UTF8 is not supported", value);
        strcpy(buf, "UTF8");
    } else if (!strcmp(d->name, "DateStyle")) {
        char low[64];
        size_t n = strlen(value) < sizeof low - 1 ? strlen(value) : sizeof low - 1;
        for (size_t k = 0; k < n; k++)
            low[k] = (char)tolower((unsigned char)value[k]);
        low[n] = 0;
        if (!strstr(low, "iso"))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "only DateStyle ISO is supported");
        strcpy(buf, strstr(low, "dmy") ? "ISO, DMY" : strstr(low, "ymd") ? "ISO, YMD" : "ISO, MDY");
    } else if (!strcmp(d->name, "TimeZone")) {
        /* UTC, a number of hours, an IANA zone from the system tzdata or a POSIX TZ
         * string, spelt as PostgreSQL shows it (sql/types_time.c) */
        if (!types_tz_load(value, buf, cap, err))
            return -1;
    } else if (!strcmp(d->name, "default_transaction_isolation") || !strcmp(d->name, "transaction_isolation")) {
        if (!strcasecmp(value, "serializable"))
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "SERIALIZABLE isolation is not supported; use REPEATABLE READ");
        if (strcasecmp(value, "read committed") && strcasecmp(value, "repeatable read") &&
            strcasecmp(value, "read uncommitted") && strcasecmp(value, "default"))
            return bad_value(d->name, value, err);
        for (char *p = buf; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!strcmp(buf, "default"))
            strcpy(buf, "read committed");
    } else if (!strcmp(d->name, "IntervalStyle")) {
        if (strcasecmp(value, "postgres"))
            return bad_value(d->name, value, err);
    }
    return 0;
}

static int set_value(guc_set_t *g, int i, const char *v, sql_error_t *err)
{
    char *n = sdup(v);
    if (!n)
        return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    rt_free(g->values[i]);
    g->values[i] = n;
    return 0;
}

int guc_set(guc_set_t *g, const char *name, const char *value, bool is_local, bool *report,
            const char **canon, sql_error_t *err)
{
    *report = false;
    int i = guc_find(name);
    if (i < 0)
        return unknown(name, err);
    const guc_def_t *d = &guc_defs[i];
    if (canon)
        *canon = d->name;
    if (d->flags & G_READONLY)
        return sql_error(err, SQLSTATE_CANT_CHANGE_RUNTIME, "parameter \"%s\" cannot be changed", d->name);
    char buf[LIMIT_SQL_GUC_VALUE_BYTES];
    const char *v = value ? value : d->boot;
    if (normalise(i, v, buf, sizeof buf, err) < 0)
        return -1;
    if (is_local || g->in_txn) {
        guc_undo_t *u = g->undo;
        while (u && u->index != i)
            u = u->next;
        if (g->sp_level) {
            guc_sp_undo_t *e = rt_calloc(1, sizeof *e);
            if (!e || !(e->value = sdup(g->values[i])) || (u && u->session && !(e->session = sdup(u->session)))) {
                if (e)
                    guc_sp_undo_free(e);
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            }
            e->index = i;
            e->level = g->sp_level;
            e->next = g->sp_undo;
            g->sp_undo = e;
        }
        if (!u) {
            if (!(u = rt_calloc(1, sizeof *u)) || !(u->prior = sdup(g->values[i]))) {
                rt_free(u);
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            }
            u->index = i;
            u->next = g->undo;
            g->undo = u;
        }
        if (!is_local) {
            char *sv = sdup(buf);
            if (!sv)
                return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
            rt_free(u->session);
            u->session = sv;
        }
    }
    *report = (d->flags & G_REPORT) && strcmp(g->values[i], buf) != 0;
    return set_value(g, i, buf, err);
}

int guc_reset_all(guc_set_t *g, int (*report)(void *ctx, const char *name, const char *value),
                  void *ctx, sql_error_t *err)
{
    for (int i = 0; i < GUC_N; i++) {
        if (guc_defs[i].flags & G_READONLY || !strcmp(guc_defs[i].name, "session_authorization"))
            continue;
        if (!strcmp(g->values[i], guc_defs[i].boot))
            continue;    /* nothing to reset (and nothing for a rollback to undo) */
        /* As a plain RESET of each: inside a transaction a ROLLBACK undoes it. */
        bool rep = false;
        if (guc_set(g, guc_defs[i].name, NULL, false, &rep, NULL, err) < 0)
            return -1;
        if (rep && report)
            (void)report(ctx, guc_defs[i].name, g->values[i]);
    }
    return 0;
}

void guc_txn_begin(guc_set_t *g)
{
    g->in_txn = true;
}

void guc_txn_end(guc_set_t *g, bool commit)
{
    while (g->undo) {
        guc_undo_t *u = g->undo;
        g->undo = u->next;
        rt_free(g->values[u->index]);
        if (commit && u->session) {
            g->values[u->index] = u->session;
            rt_free(u->prior);
        } else {
            g->values[u->index] = u->prior;
            rt_free(u->session);
        }
        rt_free(u);
    }
    g->in_txn = false;
    g->sp_level = 0;
    while (g->sp_undo) {
        guc_sp_undo_t *e = g->sp_undo;
        g->sp_undo = e->next;
        guc_sp_undo_free(e);
    }
}

void guc_set_level(guc_set_t *g, uint32_t level)
{
    g->sp_level = level;
}

void guc_rollback_to(guc_set_t *g, uint32_t level)
{
    while (g->sp_undo && g->sp_undo->level >= level) {
        guc_sp_undo_t *e = g->sp_undo;
        g->sp_undo = e->next;
        guc_undo_t *u = g->undo;
        while (u && u->index != e->index)
            u = u->next;
        rt_free(g->values[e->index]);
        g->values[e->index] = e->value;
        e->value = NULL;
        if (u) {
            rt_free(u->session);
            u->session = e->session;
            e->session = NULL;
        }
        guc_sp_undo_free(e);
    }
}

int guc_count(void) { return GUC_N; }

void guc_at(const guc_set_t *g, int i, const char **name, const char **value, const char **desc, bool *report)
{
    *name = guc_defs[i].name;
    *value = g->values[i];
    *desc = guc_defs[i].desc;
    *report = (guc_defs[i].flags & G_REPORT) != 0;
}

uint64_t guc_timeout_ms(const guc_set_t *g, const char *name)
{
    int i = guc_find(name);
    if (i < 0)
        return 0;
    int64_t v = parse_ms(g->values[i]);
    return v < 0 ? 0 : (uint64_t)v;
}
