/*
 * types_time.c -- time zones (TZif reader, POSIX TZ rules, the zone cache), time and
 * interval values, timestamptz in the session zone; see types_time.h.
 *
 * TZif (RFC 8536): a v1 header + 32-bit data, then for version >= 2 a second header
 * with 64-bit data and a footer holding a POSIX TZ string for instants after the
 * last transition. We read only the 64-bit part, bound every count (LIMIT_TZ_*)
 * and check every index, so a corrupt or hostile file is an error, never a crash.
 */
#include "sql/types_time.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/assert.h"
#include "sql/types_int.h"

/* Limits of what a zone may hold (tzdata's largest zones have ~240 transitions
 * in their 64-bit data; "fat" files up to ~2037 stay well below 2000). */
#define LIMIT_TZ_FILE_BYTES   (256 * 1024)
#define LIMIT_TZ_TRANSITIONS  4000
#define LIMIT_TZ_TYPES        256
#define LIMIT_TZ_ABBR_BYTES   256
#define LIMIT_TZ_NAME_BYTES   128
#define LIMIT_TZ_CACHED       512      /* distinct zones a process loads */
#define TZ_DIR "/usr/share/zoneinfo"

typedef struct tz_rule_point { int month, week, wday; int32_t secs; } tz_rule_point_t;

struct types_tz {
    char name[LIMIT_TZ_NAME_BYTES];     /* canonical TimeZone spelling */
    int ntrans;
    int64_t *trans;                     /* UTC seconds, increasing */
    uint8_t *tidx;                      /* type index per transition */
    int ntypes;
    int32_t off[LIMIT_TZ_TYPES];        /* seconds east of UTC */
    bool dst[LIMIT_TZ_TYPES];
    uint8_t abbr[LIMIT_TZ_TYPES];
    char abbrs[LIMIT_TZ_ABBR_BYTES + 1];
    /* POSIX rule (footer, or the whole zone when given as a TZ string) */
    bool has_rule, rule_dst;
    int32_t std_off, dst_off;           /* seconds east */
    char std_abbr[40], dst_abbr[40];
    tz_rule_point_t start, end;
};

static types_tz_t tz_utc_zone = {.name = "UTC", .ntypes = 1, .abbrs = "UTC"};
static const types_tz_t *tz_cache[LIMIT_TZ_CACHED];
static int tz_cache_n;
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread const types_tz_t *tz_current;

const types_tz_t *types_tz_utc(void) { return &tz_utc_zone; }
void types_tz_use(const types_tz_t *tz) { tz_current = tz; }
const types_tz_t *types_tz_current(void) { return tz_current ? tz_current : &tz_utc_zone; }

static int64_t floordiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* ---- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3", "<+03>-3", "UTC+3") ---- */

static const char *px_name(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    if (*p == '<') {
        p++;
        while (*p && *p != '>') { if (n + 1 < cap) out[n++] = *p; p++; }
        if (*p != '>') return NULL;
        p++;
    } else {
        while (isalpha((unsigned char)*p)) { if (n + 1 < cap) out[n++] = *p; p++; }
    }
    out[n] = 0;
    return n >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds (sign as written). */
static const char *px_time(const char *p, int32_t *secs, int max_h)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p)) return NULL;
    int h = 0, m = 0, s = 0, nd = 0;
    while (isdigit((unsigned char)*p) && nd < 3) { h = h * 10 + (*p++ - '0'); nd++; }
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return NULL;
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':') {
            p++;
            if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return NULL;
            s = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
    }
    if (h > max_h || m > 59 || s > 59) return NULL;
    *secs = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *px_point(const char *p, tz_rule_point_t *pt)
{
    if (*p++ != 'M') return NULL;               /* Jn and n forms: not in tzdata */
    char *e;
    long m = strtol(p, &e, 10);
    if (e == p || *e != '.' || m < 1 || m > 12) return NULL;
    p = e + 1;
    long w = strtol(p, &e, 10);
    if (e == p || *e != '.' || w < 1 || w > 5) return NULL;
    p = e + 1;
    long d = strtol(p, &e, 10);
    if (e == p || d < 0 || d > 6) return NULL;
    p = e;
    pt->month = (int)m; pt->week = (int)w; pt->wday = (int)d; pt->secs = 7200;
    if (*p == '/' && !(p = px_time(p + 1, &pt->secs, 167))) return NULL;
    return p;
}

/* Parses a POSIX TZ string into tz's rule; 0 or -1. */
static int px_parse(const char *s, types_tz_t *tz)
{
    int32_t off;
    const char *p = px_name(s, tz->std_abbr, sizeof tz->std_abbr);
    if (!p || !(p = px_time(p, &off, 24))) return -1;
    tz->std_off = -off;
    tz->has_rule = true;
    tz->rule_dst = false;
    if (!*p) return 0;
    if (!(p = px_name(p, tz->dst_abbr, sizeof tz->dst_abbr))) return -1;
    tz->dst_off = tz->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = px_time(p, &off, 24))) return -1;
        tz->dst_off = -off;
    }
    if (*p != ',') {        /* no rule: US rules, as the POSIX default ("EST5EDT") */
        tz->start = (tz_rule_point_t){3, 2, 0, 7200};
        tz->end = (tz_rule_point_t){11, 1, 0, 7200};
        tz->rule_dst = true;
        return *p ? -1 : 0;
    }
    if (!(p = px_point(p + 1, &tz->start)) || *p != ',' || !(p = px_point(p + 1, &tz->end)) || *p)
        return -1;
    tz->rule_dst = true;
    return 0;
}

/* Local seconds since 1970 of a rule point in year y. */
static int64_t px_point_local(const tz_rule_point_t *pt, int64_t y)
{
    int64_t first = types__days_from_civil(y, pt->month, 1);   /* days since 2000 */
    int wd = (int)(((first + 6) % 7 + 7) % 7);                   /* 2000-01-01: Saturday */
    int64_t d = first + ((pt->wday - wd) % 7 + 7) % 7 + (int64_t)(pt->week - 1) * 7;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int ml = mdays[pt->month - 1] + (pt->month == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    while (d - first >= ml) d -= 7;
    return (d + 10957) * 86400 + pt->secs;
}

static int32_t px_offset(const types_tz_t *tz, int64_t t, bool *dst, const char **abbr)
{
    bool in_dst = false;
    if (tz->rule_dst) {
        int64_t y, *yp = &y;
        int m, d;
        types__civil_from_days(floordiv(t + tz->std_off, 86400) - 10957, yp, &m, &d);
        int64_t start = px_point_local(&tz->start, y) - tz->std_off;
        int64_t end = px_point_local(&tz->end, y) - tz->dst_off;
        in_dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
    }
    if (dst) *dst = in_dst;
    if (abbr) *abbr = in_dst ? tz->dst_abbr : tz->std_abbr;
    return in_dst ? tz->dst_off : tz->std_off;
}

int32_t types_tz_offset(const types_tz_t *tz, int64_t t, bool *dst, const char **abbr)
{
    if (tz->ntrans == 0 && tz->has_rule)
        return px_offset(tz, t, dst, abbr);
    if (tz->ntrans > 0 && t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
        return px_offset(tz, t, dst, abbr);
    int ty = 0;
    if (tz->ntrans > 0 && t >= tz->trans[0]) {
        int lo = 0, hi = tz->ntrans - 1;           /* last transition <= t */
        while (lo < hi) {
            int mid = lo + (hi - lo + 1) / 2;
            if (tz->trans[mid] <= t) lo = mid; else hi = mid - 1;
        }
        ty = tz->tidx[lo];
    }
    if (dst) *dst = tz->dst[ty];
    if (abbr) *abbr = tz->abbrs + tz->abbr[ty];
    return tz->off[ty];
}

int32_t types_tz_local_to_utc(const types_tz_t *tz, int64_t t)
{
    /* PostgreSQL's DetermineTimeZoneOffset: the offsets a day before and after;
     * a local time in a spring-forward gap takes the earlier offset, one in a
     * fall-back overlap the later offset. */
    int32_t before = types_tz_offset(tz, t - 86400, NULL, NULL);
    int32_t after = types_tz_offset(tz, t + 86400, NULL, NULL);
    if (before == after) return before;
    int64_t bt = t - before, at = t - after;
    int32_t ob = types_tz_offset(tz, bt, NULL, NULL), oa = types_tz_offset(tz, at, NULL, NULL);
    if (ob == before && oa == before) return before;
    if (ob == after && oa == after) return after;
    return bt > at ? before : after;
}

int types_ts_to_tstz(const types_tz_t *tz, int64_t ts, int64_t *out, sql_error_t *err)
{
    if (ts == TYPES_TS_NOBEGIN || ts == TYPES_TS_NOEND) { *out = ts; return 0; }
    int64_t secs = floordiv(ts, TYPES_USECS_PER_SEC) + 946684800;
    int64_t r = ts - (int64_t)types_tz_local_to_utc(tz, secs) * TYPES_USECS_PER_SEC;
    if (r < TYPES_TS_MIN || r >= TYPES_TS_END)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range");
    *out = r;
    return 0;
}

int64_t types_tstz_to_ts(const types_tz_t *tz, int64_t tstz)
{
    if (tstz == TYPES_TS_NOBEGIN || tstz == TYPES_TS_NOEND) return tstz;
    int64_t secs = floordiv(tstz, TYPES_USECS_PER_SEC) + 946684800;
    return tstz + (int64_t)types_tz_offset(tz, secs, NULL, NULL) * TYPES_USECS_PER_SEC;
}

/* ---- TZif ---- */

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t rd64(const uint8_t *p) { return (int64_t)((uint64_t)rd32(p) << 32 | rd32(p + 4)); }

/* Parses TZif bytes into tz (trans arrays malloc'ed). 0 or -1 on malformed data. */
static int tzif_parse(const uint8_t *b, size_t n, types_tz_t *tz)
{
    if (n < 44 || memcmp(b, "TZif", 4)) return -1;
    uint32_t c[6];
    for (int i = 0; i < 6; i++) c[i] = rd32(b + 20 + 4 * i);   /* isut isstd leap time type char */
    size_t v1 = 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    if (c[3] > LIMIT_TZ_TRANSITIONS || c[4] > LIMIT_TZ_TYPES || c[2] > 1000 || c[5] > LIMIT_TZ_ABBR_BYTES ||
        v1 > n)
        return -1;
    const uint8_t *p = b;
    int tsize = 4;
    if (b[4] >= '2') {                      /* skip to the 64-bit part */
        p = b + v1;
        if ((size_t)(p - b) + 44 > n || memcmp(p, "TZif", 4)) return -1;
        for (int i = 0; i < 6; i++) c[i] = rd32(p + 20 + 4 * i);
        tsize = 8;
    }
    if (c[3] > LIMIT_TZ_TRANSITIONS || c[4] == 0 || c[4] > LIMIT_TZ_TYPES || c[5] == 0 ||
        c[5] > LIMIT_TZ_ABBR_BYTES || c[2] > 1000 || (c[0] && c[0] != c[4]) || (c[1] && c[1] != c[4]))
        return -1;
    size_t need = 44 + (size_t)c[3] * (tsize + 1) + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * (tsize + 4) + c[1] + c[0];
    if ((size_t)(p - b) + need > n) return -1;
    const uint8_t *q = p + 44;
    tz->ntrans = (int)c[3];
    tz->trans = malloc(sizeof(int64_t) * (c[3] + 1));
    tz->tidx = malloc(c[3] + 1);
    if (!tz->trans || !tz->tidx) return -1;
    for (uint32_t i = 0; i < c[3]; i++) {
        tz->trans[i] = tsize == 8 ? rd64(q + 8 * i) : (int32_t)rd32(q + 4 * i);
        if (i && tz->trans[i] <= tz->trans[i - 1]) return -1;
    }
    q += (size_t)c[3] * tsize;
    for (uint32_t i = 0; i < c[3]; i++) {
        if (q[i] >= c[4]) return -1;
        tz->tidx[i] = q[i];
    }
    q += c[3];
    tz->ntypes = (int)c[4];
    for (uint32_t i = 0; i < c[4]; i++, q += 6) {
        int32_t off = (int32_t)rd32(q);
        if (off < -25 * 3600 || off > 26 * 3600 || q[4] > 1 || q[5] >= c[5]) return -1;
        tz->off[i] = off;
        tz->dst[i] = q[4];
        tz->abbr[i] = q[5];
    }
    memcpy(tz->abbrs, q, c[5]);
    tz->abbrs[c[5]] = 0;
    if (tz->abbrs[c[5] - 1] != 0) return -1;
    q += c[5] + (size_t)c[2] * (tsize + 4) + c[1] + c[0];
    if (tsize == 8 && q < b + n && *q == '\n') {        /* footer */
        const uint8_t *e = memchr(q + 1, '\n', (size_t)(b + n - q - 1));
        if (e && e - q - 1 > 0 && e - q - 1 < 64) {
            char rule[64];
            memcpy(rule, q + 1, (size_t)(e - q - 1));
            rule[e - q - 1] = 0;
            types_tz_t tmp = *tz;
            if (px_parse(rule, &tmp) == 0) {
                tz->has_rule = true;
                tz->rule_dst = tmp.rule_dst;
                tz->std_off = tmp.std_off; tz->dst_off = tmp.dst_off;
                memcpy(tz->std_abbr, tmp.std_abbr, sizeof tz->std_abbr);
                memcpy(tz->dst_abbr, tmp.dst_abbr, sizeof tz->dst_abbr);
                tz->start = tmp.start; tz->end = tmp.end;
            }
        }
    }
    return 0;
}

/* Zone names are tzdata paths: letters, digits, '_', '-', '+', '/' components, no
 * "." or ".." components, bounded length. */
static bool tz_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= LIMIT_TZ_NAME_BYTES - 1 || s[0] == '/' || s[n - 1] == '/') return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!isalnum((unsigned char)ch) && ch != '_' && ch != '-' && ch != '+' && ch != '/') return false;
        if (ch == '/' && s[i + 1] == '/') return false;
    }
    return true;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(LIMIT_TZ_FILE_BYTES);
    size_t n = buf ? fread(buf, 1, LIMIT_TZ_FILE_BYTES, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n >= LIMIT_TZ_FILE_BYTES) { free(buf); return NULL; }
    *len = n;
    return buf;
}

/* Loads zone file name (exact spelling); NULL if absent or malformed. */
static types_tz_t *tz_load_file(const char *name)
{
    char path[LIMIT_TZ_NAME_BYTES + sizeof TZ_DIR + 2];
    snprintf(path, sizeof path, "%s/%s", TZ_DIR, name);
    size_t n;
    uint8_t *buf = read_file(path, &n);
    if (!buf) return NULL;
    types_tz_t *tz = calloc(1, sizeof *tz);
    if (tz && tzif_parse(buf, n, tz) == 0) {
        snprintf(tz->name, sizeof tz->name, "%s", name);
        free(buf);
        return tz;
    }
    if (tz) { free(tz->trans); free(tz->tidx); free(tz); }
    free(buf);
    return NULL;
}

static const types_tz_t *cache_find(const char *name)
{
    for (int i = 0; i < tz_cache_n; i++)
        if (!strcmp(tz_cache[i]->name, name)) return tz_cache[i];
    return NULL;
}

static const types_tz_t *cache_add(types_tz_t *tz)
{
    if (tz_cache_n >= LIMIT_TZ_CACHED) { free(tz->trans); free(tz->tidx); free(tz); return NULL; }
    tz_cache[tz_cache_n++] = tz;
    return tz;
}

/* Case-insensitive match of name against the tzdata tree, as PostgreSQL does;
 * writes the file's spelling to out. Bounded: names are a few components. */
#include <dirent.h>
static bool tz_find_case(const char *name, char *out, size_t cap)
{
    char dir[LIMIT_TZ_NAME_BYTES + sizeof TZ_DIR + 2];
    snprintf(dir, sizeof dir, "%s", TZ_DIR);
    size_t used = 0;
    out[0] = 0;
    const char *p = name;
    for (int depth = 0; *p && depth < 8; depth++) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        DIR *d = opendir(dir);
        if (!d) return false;
        struct dirent *de;
        bool found = false;
        while ((de = readdir(d))) {
            if (strlen(de->d_name) == len && !strncasecmp(de->d_name, p, len) && de->d_name[0] != '.') {
                if (used + len + 2 >= cap) break;
                if (used) out[used++] = '/';
                memcpy(out + used, de->d_name, len);
                used += len;
                out[used] = 0;
                size_t dl = strlen(dir);
                if (dl + len + 2 >= sizeof dir) break;
                dir[dl] = '/';
                memcpy(dir + dl + 1, de->d_name, len + 1);
                found = true;
                break;
            }
        }
        closedir(d);
        if (!found) return false;
        p += len;
        if (*p == '/') p++;
    }
    return *p == 0;
}

static int bad_tz(const char *value, sql_error_t *err)
{
    sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid value for parameter \"TimeZone\": \"%s\"", value);
    return -1;
}

/* A fixed offset zone named as PostgreSQL's pg_tzset_offset names it. */
static const types_tz_t *tz_fixed(int32_t east, char *canon, size_t cap)
{
    int32_t a = east < 0 ? -east : east;
    char os[32];
    int k = snprintf(os, sizeof os, "%02d", a / 3600);
    if (a % 3600) {
        k += snprintf(os + k, sizeof os - (size_t)k, ":%02d", a % 3600 / 60);
        if (a % 60) snprintf(os + k, sizeof os - (size_t)k, ":%02d", a % 60);
    }
    char name[80];
    if (east < 0) snprintf(name, sizeof name, "<-%s>+%s", os, os);
    else snprintf(name, sizeof name, "<+%s>-%s", os, os);
    snprintf(canon, cap, "%s", name);
    const types_tz_t *z = cache_find(name);
    if (z) return z;
    types_tz_t *tz = calloc(1, sizeof *tz);
    if (!tz) return NULL;
    snprintf(tz->name, sizeof tz->name, "%s", name);
    tz->has_rule = true;
    tz->std_off = east;
    snprintf(tz->std_abbr, sizeof tz->std_abbr, "%c%s", east < 0 ? '-' : '+', os);
    return cache_add(tz);
}

static const types_tz_t *tz_load_locked(const char *value, char *canon, size_t cap, sql_error_t *err)
{
    if (!strcasecmp(value, "UTC")) { snprintf(canon, cap, "UTC"); return &tz_utc_zone; }
    /* a number: hours east (ISO sign), as PostgreSQL's check_timezone */
    char *end;
    double h = strtod(value, &end);
    if (end != value && *end == 0 && isfinite(h)) {
        if (h < -15 || h > 15) return bad_tz(value, err), NULL;
        return tz_fixed((int32_t)lrint(h * 3600), canon, cap);
    }
    if ((value[0] == '+' || value[0] == '-') && strlen(value) < 16) {
        /* "+05:30": a POSIX offset without a name (west of UTC is positive) */
        int32_t west;
        const char *e = px_time(value, &west, 15);
        if (e && !*e) {
            const types_tz_t *z = cache_find(value);
            if (z) { snprintf(canon, cap, "%s", z->name); return z; }
            types_tz_t *tz = calloc(1, sizeof *tz);
            if (!tz) return NULL;
            snprintf(tz->name, sizeof tz->name, "%s", value);
            snprintf(canon, cap, "%s", value);
            tz->has_rule = true;
            tz->std_off = -west;
            snprintf(tz->std_abbr, sizeof tz->std_abbr, "%s", value);
            return cache_add(tz);
        }
    }
    const types_tz_t *z = cache_find(value);
    if (z) { snprintf(canon, cap, "%s", z->name); return z; }
    if (tz_name_ok(value)) {
        types_tz_t *tz = tz_load_file(value);
        char real[LIMIT_TZ_NAME_BYTES];
        if (!tz && tz_find_case(value, real, sizeof real)) {
            if ((z = cache_find(real))) { snprintf(canon, cap, "%s", z->name); return z; }
            tz = tz_load_file(real);
        }
        if (tz) {
            snprintf(canon, cap, "%s", tz->name);
            return cache_add(tz) ? tz : (bad_tz(value, err), NULL);
        }
    }
    if (strlen(value) < 64) {               /* a POSIX TZ string */
        types_tz_t *tz = calloc(1, sizeof *tz);
        if (!tz) return NULL;
        if (px_parse(value, tz) == 0) {
            snprintf(tz->name, sizeof tz->name, "%s", value);
            snprintf(canon, cap, "%s", value);
            return cache_add(tz);
        }
        free(tz);
    }
    return bad_tz(value, err), NULL;
}

const types_tz_t *types_tz_load(const char *value, char *canon, size_t cap, sql_error_t *err)
{
    pthread_mutex_lock(&tz_lock);
    const types_tz_t *z = tz_load_locked(value, canon, cap, err);
    pthread_mutex_unlock(&tz_lock);
    if (!z && !err->sqlstate[0])
        bad_tz(value, err);
    return z;
}

/* ---- timestamptz text ---- */

void types_tstz_out(int64_t ts, strbuf_t *out)
{
    if (ts == TYPES_TS_NOBEGIN || ts == TYPES_TS_NOEND) { types__timestamp_out(ts, false, out); return; }
    const types_tz_t *tz = types_tz_current();
    int64_t secs = floordiv(ts, TYPES_USECS_PER_SEC) + 946684800;
    int32_t off = types_tz_offset(tz, secs, NULL, NULL);
    int64_t local = ts + (int64_t)off * TYPES_USECS_PER_SEC;
    size_t start = out->len;
    types__timestamp_out(local, false, out);
    bool bc = out->len >= start + 3 && out->data && !memcmp(out->data + out->len - 3, " BC", 3);
    if (bc) out->len -= 3, out->data[out->len] = 0;
    int32_t a = off < 0 ? -off : off;
    strbuf_printf(out, "%c%02d", off < 0 ? '-' : '+', a / 3600);
    if (a % 3600) {
        strbuf_printf(out, ":%02d", a % 3600 / 60);
        if (a % 60) strbuf_printf(out, ":%02d", a % 60);
    }
    if (bc) strbuf_puts(out, " BC");
}

/* ---- rounding and typmods ---- */

int64_t types_round_usec(int64_t us, int32_t typmod)
{
    if (typmod < 0 || typmod >= 6) return us;
    static const int64_t scale[] = {1000000, 100000, 10000, 1000, 100, 10};
    int64_t s = scale[typmod];
    /* PostgreSQL rounds half away from zero */
    return us >= 0 ? (us + s / 2) / s * s : -((-us + s / 2) / s * s);
}

int types_datetime_typmod(type_oid_t t, int32_t typmod, int64_t *v, sql_error_t *err)
{
    if (typmod < 0 || typmod >= 6) return 0;
    if ((t == TYPE_TIMESTAMP || t == TYPE_TIMESTAMPTZ) && (*v == TYPES_TS_NOBEGIN || *v == TYPES_TS_NOEND))
        return 0;
    int64_t r = types_round_usec(*v, typmod);
    if ((t == TYPE_TIMESTAMP || t == TYPE_TIMESTAMPTZ) && (r < TYPES_TS_MIN || r >= TYPES_TS_END))
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range");
    *v = r;
    return 0;
}

/* ---- time ---- */

void types_time_out(int64_t t, strbuf_t *out)
{
    int64_t secs = t / 1000000, us = t % 1000000;
    strbuf_printf(out, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (us) {
        char frac[8];
        snprintf(frac, sizeof frac, "%06d", (int)us);
        int n = 6;
        while (frac[n - 1] == '0') n--;
        strbuf_putc(out, '.');
        strbuf_append(out, frac, (size_t)n);
    }
}

static int time_err(int kind, const char *s, size_t len, sql_error_t *err)
{
    int n = (int)(len > 256 ? 256 : len);
    if (kind == 1)
        return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date/time field value out of range: \"%.*s\"", n, s);
    return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid input syntax for type time: \"%.*s\"", n, s);
}

int types_time_in(const char *s, size_t len, int32_t typmod, int64_t *out, sql_error_t *err)
{
    const char *p = s, *e = s + len;
    while (p < e && isspace((unsigned char)*p)) p++;
    while (e > p && isspace((unsigned char)e[-1])) e--;
    size_t n = (size_t)(e - p);
    if ((n == 8 && !strncasecmp(p, "allballs", 8))) { *out = 0; return 0; }
    if (n == 3 && !strncasecmp(p, "now", 3)) {
        int64_t local = types_tstz_to_ts(types_tz_current(), time_now_ts());
        int64_t tod = local % TYPES_USECS_PER_DAY;
        *out = types_round_usec(tod < 0 ? tod + TYPES_USECS_PER_DAY : tod, typmod);
        return 0;
    }
    /* a leading ISO date is accepted and ignored */
    const char *q = p;
    while (q < e && isdigit((unsigned char)*q)) q++;
    if (q < e && *q == '-' && q > p) {
        while (q < e && !isspace((unsigned char)*q) && *q != 'T' && *q != 't') q++;
        while (q < e && (isspace((unsigned char)*q) || *q == 'T' || *q == 't')) q++;
        p = q;
    }
    int64_t f[3] = {0, 0, 0};
    int nf = 0;
    while (nf < 3) {
        int nd = 0;
        while (p < e && isdigit((unsigned char)*p) && nd < 10) { f[nf] = f[nf] * 10 + (*p++ - '0'); nd++; }
        if (nd == 0) return time_err(0, s, len, err);
        nf++;
        if (p < e && *p == ':' && nf < 3) { p++; continue; }
        break;
    }
    if (nf < 2) return time_err(0, s, len, err);
    int64_t us = 0;
    if (p < e && *p == '.' && nf == 3) {
        p++;
        int64_t scale = 100000;
        int nd = 0;
        for (; p < e && isdigit((unsigned char)*p); p++, nd++) {
            if (nd < 6) { us += (*p - '0') * scale; scale /= 10; }
            else if (nd == 6 && *p >= '5') us++;
        }
        if (nd == 0) return time_err(0, s, len, err);
    }
    while (p < e && isspace((unsigned char)*p)) p++;
    if (p < e) {   /* a zone offset is accepted and ignored, as PostgreSQL does for time */
        if (*p == '+' || *p == '-') {
            p++;
            while (p < e && (isdigit((unsigned char)*p) || *p == ':')) p++;
        } else if ((e - p == 1 && (*p == 'Z' || *p == 'z')) || (e - p == 3 && (!strncasecmp(p, "UTC", 3) || !strncasecmp(p, "GMT", 3)))) {
            p = e;
        } else if (e - p == 2 && (!strncasecmp(p, "AM", 2) || !strncasecmp(p, "PM", 2))) {
            if (f[0] < 1 || f[0] > 12) return time_err(1, s, len, err);
            if (f[0] == 12) f[0] = 0;
            if (toupper((unsigned char)*p) == 'P') f[0] += 12;
            p = e;
        }
        if (p != e) return time_err(0, s, len, err);
    }
    if (f[0] > 24 || f[1] > 59 || f[2] > 60 || (f[0] == 24 && (f[1] || f[2] || us)))
        return time_err(1, s, len, err);
    int64_t t = (f[0] * 3600 + f[1] * 60 + f[2]) * TYPES_USECS_PER_SEC + us;
    t = types_round_usec(t, typmod);
    if (t > TYPES_USECS_PER_DAY) t = TYPES_USECS_PER_DAY;
    *out = t;
    return 0;
}

/* ---- interval ---- */

int types_interval_make(arena_t *a, const types_interval_t *iv, datum_t *out, sql_error_t *err)
{
    vstr_t *v = vstr_new(a, (const char *)iv, sizeof *iv);
    if (!v) return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory");
    STATIC_ASSERT(sizeof(types_interval_t) == 16, "interval layout");
    out->s = v;
    return 0;
}

void types_interval_get(datum_t d, types_interval_t *iv)
{
    ASSERT(d.s && d.s->len == sizeof *iv);
    memcpy(iv, d.s->data, sizeof *iv);
}

static __int128 iv_span(const types_interval_t *iv)
{
    return (__int128)iv->time + ((__int128)iv->day + (__int128)iv->month * 30) * TYPES_USECS_PER_DAY;
}

int types_interval_cmp(datum_t a, datum_t b)
{
    types_interval_t x, y;
    types_interval_get(a, &x);
    types_interval_get(b, &y);
    __int128 p = iv_span(&x), q = iv_span(&y);
    return p < q ? -1 : p > q;
}

uint64_t types_interval_hash(datum_t d)
{
    types_interval_t x;
    types_interval_get(d, &x);
    __int128 s = iv_span(&x);
    return types__hash_u64((uint64_t)s ^ types__hash_u64((uint64_t)(s >> 64)));
}

int types_interval_recv(const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (len != 16) return sql_error(err, "22P03", "incorrect binary data format");
    types_interval_t iv = {.time = rd64(p), .day = (int32_t)rd32(p + 8), .month = (int32_t)rd32(p + 12)};
    return types_interval_make(a, &iv, out, err);
}

void types_interval_send(datum_t d, strbuf_t *out)
{
    types_interval_t iv;
    types_interval_get(d, &iv);
    strbuf_put_be64(out, (uint64_t)iv.time);
    strbuf_put_be32(out, (uint32_t)iv.day);
    strbuf_put_be32(out, (uint32_t)iv.month);
}

static void iv_part(strbuf_t *out, int64_t v, const char *unit, bool *zero, bool *before)
{
    if (v == 0) return;
    strbuf_printf(out, "%s%s%lld %s%s", *zero ? "" : " ", (*before && v > 0) ? "+" : "", (long long)v, unit,
                  v != 1 ? "s" : "");
    *before = v < 0;
    *zero = false;
}

void types_interval_out(datum_t d, strbuf_t *out)
{
    types_interval_t iv;
    types_interval_get(d, &iv);
    bool zero = true, before = false;
    iv_part(out, iv.month / 12, "year", &zero, &before);
    iv_part(out, iv.month % 12, "mon", &zero, &before);
    iv_part(out, iv.day, "day", &zero, &before);
    if (iv.time != 0 || zero) {
        int64_t t = iv.time;
        bool minus = t < 0;
        uint64_t a = minus ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
        uint64_t h = a / 3600000000u, m = a / 60000000u % 60, s = a / 1000000u % 60, us = a % 1000000u;
        strbuf_printf(out, "%s%s%02llu:%02llu:%02llu", zero ? "" : " ", minus ? "-" : before ? "+" : "",
                      (unsigned long long)h, (unsigned long long)m, (unsigned long long)s);
        if (us) {
            char frac[8];
            snprintf(frac, sizeof frac, "%06u", (unsigned)us);
            int n = 6;
            while (frac[n - 1] == '0') n--;
            strbuf_putc(out, '.');
            strbuf_append(out, frac, (size_t)n);
        }
    }
}

typedef struct iv_acc { __int128 month, day, time; } iv_acc_t;

enum { U_US, U_MS, U_SEC, U_MIN, U_HOUR, U_DAY, U_WEEK, U_MON, U_YEAR, U_DECADE, U_CENT, U_MILL };

static int iv_unit(const char *w, size_t n)
{
    static const struct { const char *name; int u; } units[] = {
        {"microsecond", U_US}, {"microseconds", U_US}, {"us", U_US}, {"usec", U_US}, {"usecs", U_US},
        {"useconds", U_US}, {"millisecond", U_MS}, {"milliseconds", U_MS}, {"ms", U_MS}, {"msec", U_MS},
        {"msecs", U_MS}, {"mseconds", U_MS}, {"second", U_SEC}, {"seconds", U_SEC}, {"s", U_SEC},
        {"sec", U_SEC}, {"secs", U_SEC}, {"minute", U_MIN}, {"minutes", U_MIN}, {"m", U_MIN},
        {"min", U_MIN}, {"mins", U_MIN}, {"hour", U_HOUR}, {"hours", U_HOUR}, {"h", U_HOUR},
        {"hr", U_HOUR}, {"hrs", U_HOUR}, {"day", U_DAY}, {"days", U_DAY}, {"d", U_DAY},
        {"week", U_WEEK}, {"weeks", U_WEEK}, {"w", U_WEEK}, {"month", U_MON}, {"months", U_MON},
        {"mon", U_MON}, {"mons", U_MON}, {"year", U_YEAR}, {"years", U_YEAR}, {"y", U_YEAR},
        {"yr", U_YEAR}, {"yrs", U_YEAR}, {"decade", U_DECADE}, {"decades", U_DECADE}, {"dec", U_DECADE},
        {"decs", U_DECADE}, {"century", U_CENT}, {"centuries", U_CENT}, {"cent", U_CENT}, {"c", U_CENT},
        {"millennium", U_MILL}, {"millennia", U_MILL}, {"millenniums", U_MILL}, {"mil", U_MILL}, {"mils", U_MILL},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && !strncasecmp(units[i].name, w, n)) return units[i].u;
    return -1;
}

/* Adds ival + frac (same sign) of unit u, spreading fractions down as PostgreSQL. */
static void iv_add(iv_acc_t *a, int64_t ival, double frac, int u)
{
    static const int64_t tus[] = {1, 1000, 1000000, 60000000, INT64_C(3600000000)};
    if (u <= U_HOUR) {
        a->time += (__int128)ival * tus[u] + (__int128)llrint(frac * (double)tus[u]);
        return;
    }
    if (u == U_DAY || u == U_WEEK) {
        int k = u == U_WEEK ? 7 : 1;
        a->day += (__int128)ival * k;
        double fd = frac * k;
        int64_t whole = (int64_t)fd;
        a->day += whole;
        a->time += llrint((fd - (double)whole) * 86400e6);
        return;
    }
    if (u == U_MON) {
        a->month += ival;
        double fd = frac * 30;
        int64_t whole = (int64_t)fd;
        a->day += whole;
        a->time += llrint((fd - (double)whole) * 86400e6);
        return;
    }
    int64_t k = u == U_YEAR ? 12 : u == U_DECADE ? 120 : u == U_CENT ? 1200 : 12000;
    a->month += (__int128)ival * k + (__int128)llrint(frac * (double)k);
}

/* Reads [+-]digits[.digits] into ival/frac; returns chars consumed (0 = none). */
static size_t iv_num(const char *p, const char *e, int64_t *ival, double *frac, bool *neg)
{
    const char *s = p;
    *neg = false;
    if (p < e && (*p == '+' || *p == '-')) *neg = *p++ == '-';
    int64_t v = 0;
    int nd = 0;
    while (p < e && isdigit((unsigned char)*p)) {
        if (v > INT64_MAX / 10 - 10) return 0;
        v = v * 10 + (*p++ - '0');
        nd++;
    }
    double f = 0, sc = 0.1;
    if (p < e && *p == '.') {
        p++;
        while (p < e && isdigit((unsigned char)*p)) { f += (*p++ - '0') * sc; sc /= 10; nd++; }
    }
    if (nd == 0) return 0;
    *ival = *neg ? -v : v;
    *frac = *neg ? -f : f;
    return (size_t)(p - s);
}

static int iv_iso(const char *p, const char *e, iv_acc_t *a)
{
    p++;                                   /* 'P' */
    bool in_time = false;
    if (p == e) return -1;
    while (p < e) {
        if (*p == 'T' || *p == 't') { in_time = true; p++; continue; }
        int64_t iv;
        double fr;
        bool neg;
        size_t k = iv_num(p, e, &iv, &fr, &neg);
        if (!k || p + k >= e) return -1;
        p += k;
        char c = (char)toupper((unsigned char)*p++);
        int u = -1;
        if (!in_time) u = c == 'Y' ? U_YEAR : c == 'M' ? U_MON : c == 'W' ? U_WEEK : c == 'D' ? U_DAY : -1;
        else u = c == 'H' ? U_HOUR : c == 'M' ? U_MIN : c == 'S' ? U_SEC : -1;
        if (u < 0) return -1;
        iv_add(a, iv, fr, u);
    }
    return 0;
}

int types_interval_in(const char *s, size_t len, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err)
{
    (void)typmod;
    int show = (int)(len > 256 ? 256 : len);
    const char *p = s, *e = s + len;
    while (p < e && isspace((unsigned char)*p)) p++;
    while (e > p && isspace((unsigned char)e[-1])) e--;
    iv_acc_t acc = {0, 0, 0};
    bool ago = false, any = false;
    unsigned seen = 0;                    /* each field once, as PostgreSQL's fmask */
#define IV_FIELD(bits) do { if (seen & (bits)) goto syntax; seen |= (bits); } while (0)
    if (p < e && (*p == 'P' || *p == 'p')) {
        if (iv_iso(p, e, &acc) < 0) goto syntax;
        any = true;
        p = e;
    }
    if (p < e && *p == '@') p++;
    while (p < e) {
        while (p < e && isspace((unsigned char)*p)) p++;
        if (p >= e) break;
        if (isalpha((unsigned char)*p)) {
            const char *w = p;
            while (p < e && isalpha((unsigned char)*p)) p++;
            if (p - w == 3 && !strncasecmp(w, "ago", 3) && !ago) { ago = true; continue; }
            goto syntax;
        }
        int64_t iv;
        double fr;
        bool neg;
        size_t k = iv_num(p, e, &iv, &fr, &neg);
        if (!k) goto syntax;
        const char *numstart = p;
        p += k;
        any = true;
        if (p < e && *p == ':') {            /* [-]h:m[:s[.f]] */
            if (fr != 0) goto syntax;
            int64_t h = iv < 0 ? -iv : iv, m = 0, sec = 0;
            double fs = 0;
            p++;
            int nd = 0;
            while (p < e && isdigit((unsigned char)*p) && nd < 10) { m = m * 10 + (*p++ - '0'); nd++; }
            if (!nd) goto syntax;
            if (p < e && *p == ':') {
                p++;
                nd = 0;
                while (p < e && isdigit((unsigned char)*p) && nd < 10) { sec = sec * 10 + (*p++ - '0'); nd++; }
                if (!nd) goto syntax;
                if (p < e && *p == '.') {
                    p++;
                    double sc = 0.1;
                    while (p < e && isdigit((unsigned char)*p)) { fs += (*p++ - '0') * sc; sc /= 10; }
                }
            } else if (p < e && *p == '.') {   /* mm:ss.fff */
                p++;
                sec = m; m = h; h = 0;
                double sc = 0.1;
                while (p < e && isdigit((unsigned char)*p)) { fs += (*p++ - '0') * sc; sc /= 10; }
            }
            if (m > 59 || sec > 60) goto range;
            IV_FIELD(1u << U_HOUR | 1u << U_MIN | 1u << U_SEC);
            __int128 t = ((__int128)h * 3600 + m * 60 + sec) * 1000000 + llrint(fs * 1e6);
            acc.time += (neg || numstart[0] == '-') ? -t : t;
            continue;
        }
        if (p < e && *p == '-' && fr == 0 && p + 1 < e && isdigit((unsigned char)p[1])) {   /* y-m */
            int64_t mo = 0;
            p++;
            int nd = 0;
            while (p < e && isdigit((unsigned char)*p) && nd < 10) { mo = mo * 10 + (*p++ - '0'); nd++; }
            if (mo > 11) goto range;
            IV_FIELD(1u << U_YEAR | 1u << U_MON);
            __int128 m = (__int128)(iv < 0 ? -iv : iv) * 12 + mo;
            acc.month += neg ? -m : m;
            continue;
        }
        while (p < e && isspace((unsigned char)*p)) p++;
        const char *w = p;
        while (p < e && isalpha((unsigned char)*p)) p++;
        if (p == w) { IV_FIELD(1u << U_SEC); iv_add(&acc, iv, fr, U_SEC); continue; }
        int u = iv_unit(w, (size_t)(p - w));
        if (u < 0) {
            if (p - w == 3 && !strncasecmp(w, "ago", 3)) {
                IV_FIELD(1u << U_SEC);
                iv_add(&acc, iv, fr, U_SEC);
                ago = true;
                continue;
            }
            goto syntax;
        }
        IV_FIELD(1u << u);
        iv_add(&acc, iv, fr, u);
    }
    if (!any) goto syntax;
    if (ago) { acc.month = -acc.month; acc.day = -acc.day; acc.time = -acc.time; }
    if (acc.month > INT32_MAX || acc.month < INT32_MIN || acc.day > INT32_MAX || acc.day < INT32_MIN ||
        acc.time > INT64_MAX || acc.time < INT64_MIN)
        goto range;
    types_interval_t r = {.time = (int64_t)acc.time, .day = (int32_t)acc.day, .month = (int32_t)acc.month};
    return types_interval_make(a, &r, out, err);
#undef IV_FIELD
syntax:
    return sql_error(err, SQLSTATE_INVALID_DATETIME, "invalid input syntax for type interval: \"%.*s\"", show, s);
range:
    return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "interval field value out of range: \"%.*s\"", show, s);
}

/* ---- casts among the date/time types ---- */

bool types_time_castable(type_oid_t from, type_oid_t to)
{
    bool f = from == TYPE_TIME || from == TYPE_INTERVAL || from == TYPE_TIMESTAMP || from == TYPE_TIMESTAMPTZ ||
             from == TYPE_DATE;
    bool t = to == TYPE_TIME || to == TYPE_INTERVAL || to == TYPE_TIMESTAMP || to == TYPE_TIMESTAMPTZ ||
             to == TYPE_DATE;
    return f && t;
}

static int64_t ts_to_date(int64_t v)
{
    if (v == TYPES_TS_NOBEGIN) return TYPES_DATE_NOBEGIN;
    if (v == TYPES_TS_NOEND) return TYPES_DATE_NOEND;
    return floordiv(v, TYPES_USECS_PER_DAY);
}

int types_time_cast(type_oid_t from, type_oid_t to, datum_t in, arena_t *a, datum_t *out, sql_error_t *err)
{
    const types_tz_t *tz = types_tz_current();
    int64_t v = in.i64;
    if (from == to) { *out = in; return 0; }
    if (from == TYPE_DATE && (to == TYPE_TIMESTAMP || to == TYPE_TIMESTAMPTZ)) {
        int64_t ts;
        if (v == TYPES_DATE_NOBEGIN) ts = TYPES_TS_NOBEGIN;
        else if (v == TYPES_DATE_NOEND) ts = TYPES_TS_NOEND;
        else if (v >= TYPES_DATE_END || v * TYPES_USECS_PER_DAY < TYPES_TS_MIN ||
                 v > TYPES_TS_END / TYPES_USECS_PER_DAY - 1)
            return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "date out of range for timestamp");
        else ts = v * TYPES_USECS_PER_DAY;
        if (to == TYPE_TIMESTAMP) { out->i64 = ts; return 0; }
        return types_ts_to_tstz(tz, ts, &out->i64, err);
    }
    if (from == TYPE_TIMESTAMP && to == TYPE_DATE) { out->i64 = ts_to_date(v); return 0; }
    if (from == TYPE_TIMESTAMPTZ && to == TYPE_DATE) { out->i64 = ts_to_date(types_tstz_to_ts(tz, v)); return 0; }
    if (from == TYPE_TIMESTAMP && to == TYPE_TIMESTAMPTZ) return types_ts_to_tstz(tz, v, &out->i64, err);
    if (from == TYPE_TIMESTAMPTZ && to == TYPE_TIMESTAMP) {
        out->i64 = types_tstz_to_ts(tz, v);
        if (out->i64 != TYPES_TS_NOBEGIN && out->i64 != TYPES_TS_NOEND && (out->i64 < TYPES_TS_MIN || out->i64 >= TYPES_TS_END))
            return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range");
        return 0;
    }
    if ((from == TYPE_TIMESTAMP || from == TYPE_TIMESTAMPTZ) && to == TYPE_TIME) {
        if (from == TYPE_TIMESTAMPTZ) v = types_tstz_to_ts(tz, v);
        if (v == TYPES_TS_NOBEGIN || v == TYPES_TS_NOEND) {
            out->i64 = 0;
            return sql_error(err, SQLSTATE_DATETIME_OVERFLOW, "timestamp out of range");
        }
        out->i64 = v - floordiv(v, TYPES_USECS_PER_DAY) * TYPES_USECS_PER_DAY;
        return 0;
    }
    if (from == TYPE_TIME && to == TYPE_INTERVAL) {
        types_interval_t iv = {.time = v};
        return types_interval_make(a, &iv, out, err);
    }
    if (from == TYPE_INTERVAL && to == TYPE_TIME) {
        types_interval_t iv;
        types_interval_get(in, &iv);
        int64_t t = iv.time % TYPES_USECS_PER_DAY;
        if (t < 0) t += TYPES_USECS_PER_DAY;
        out->i64 = t;
        return 0;
    }
    return sql_error(err, "42846", "cannot cast type %s to %s", types__sql_name(from), types__sql_name(to));
}
