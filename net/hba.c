/*
 * hba.c -- hba.conf rules and users.conf verifiers; see hba.h.
 */
#include "net/hba.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/limits.h"
#include "core/rt.h"
#include "net/scram.h"

#define HBA_FIELDS_MAX 8

void hba_init(hba_t *h) { memset(h, 0, sizeof *h); }

void hba_free(hba_t *h)
{
    for (int i = 0; i < h->rules_count; i++) {
        rt_free(h->rules[i].databases);
        rt_free(h->rules[i].users);
    }
    for (int i = 0; i < h->users_count; i++) {
        rt_free(h->users[i].name);
        rt_free(h->users[i].verifier);
    }
    rt_free(h->rules);
    rt_free(h->users);
    memset(h, 0, sizeof *h);
}

static char *hba_strdup(const char *s)
{
    size_t n = strlen(s);
    char *p = rt_malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static void hba_why(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void hba_why(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* Splits a line (modified in place) into whitespace-separated fields, stripping a
 * '#' comment and surrounding double quotes. Returns the field count or -1 if more
 * than max. */
static int hba_fields(char *line, char **fields, int max)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (n == max)
            return -1;
        size_t l = strlen(tok);
        if (l >= 2 && tok[0] == '"' && tok[l - 1] == '"') {
            tok[l - 1] = 0;
            tok++;
        }
        fields[n++] = tok;
    }
    return n;
}

/* Parses "addr/bits" into family, address and mask. 0 or -1. */
static int hba_cidr(const char *s, hba_rule_t *r)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end)
        return -1;
    int max_bits;
    if (inet_pton(AF_INET, buf, r->addr) == 1) {
        r->family = AF_INET;
        max_bits = 32;
    } else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
        r->family = AF_INET6;
        max_bits = 128;
    } else {
        return -1;
    }
    if (bits < 0 || bits > max_bits)
        return -1;
    memset(r->mask, 0, sizeof r->mask);
    for (int i = 0; i < bits; i++)
        r->mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    for (int i = 0; i < 16; i++)
        r->addr[i] &= r->mask[i];
    return 0;
}

static int hba_method_of(const char *s)
{
    if (!strcmp(s, "trust")) return HBA_TRUST;
    if (!strcmp(s, "reject")) return HBA_REJECT;
    if (!strcmp(s, "scram-sha-256") || !strcmp(s, "md5")) return HBA_SCRAM;
    return HBA_NO_MATCH;
}

static int hba_add_rule(hba_t *h, const hba_rule_t *r)
{
    if (h->rules_count >= LIMIT_HBA_RULES)
        return -1;
    hba_rule_t *n = rt_realloc(h->rules, sizeof *n * (size_t)(h->rules_count + 1));
    if (!n)
        return -1;
    h->rules = n;
    h->rules[h->rules_count++] = *r;
    return 0;
}

/* Parses one hba.conf line (already split). 0 or -1 with why. */
static int hba_rule_line(hba_t *h, int lineno, char **f, int nf, char *why, size_t why_len)
{
    hba_rule_t r;
    memset(&r, 0, sizeof r);
    r.line = lineno;
    if (!strcmp(f[0], "host") || !strcmp(f[0], "hostnossl") || !strcmp(f[0], "hostnogssenc")) {
        r.never = false;
    } else if (!strcmp(f[0], "hostssl") || !strcmp(f[0], "hostgssenc") || !strcmp(f[0], "local")) {
        r.never = true;
    } else {
        hba_why(why, why_len, "line %d: invalid connection type \"%s\"", lineno, f[0]);
        return -1;
    }
    int want = !strcmp(f[0], "local") ? 4 : 5;
    if (nf != want) {
        hba_why(why, why_len, "line %d: expected %d fields, found %d", lineno, want, nf);
        return -1;
    }
    const char *method = f[nf - 1];
    if (want == 5) {
        if (!strcmp(f[3], "all")) {
            r.any_addr = true;
        } else if (hba_cidr(f[3], &r) < 0) {
            hba_why(why, why_len, "line %d: invalid address \"%s\" (expected all or ADDRESS/BITS)",
                    lineno, f[3]);
            return -1;
        }
    }
    r.method = hba_method_of(method);
    if (r.method == HBA_NO_MATCH) {
        hba_why(why, why_len, "line %d: unsupported authentication method \"%s\"", lineno, method);
        return -1;
    }
    if (f[2][0] == '+' || f[2][0] == '@' || f[1][0] == '@' || !strcmp(f[1], "samerole") ||
        !strcmp(f[1], "samegroup")) {
        hba_why(why, why_len, "line %d: groups and include files are not supported", lineno);
        return -1;
    }
    r.databases = hba_strdup(f[1]);
    r.users = hba_strdup(f[2]);
    if (!r.databases || !r.users || hba_add_rule(h, &r) < 0) {
        rt_free(r.databases);
        rt_free(r.users);
        hba_why(why, why_len, "line %d: too many rules or out of memory", lineno);
        return -1;
    }
    return 0;
}

/* Calls fn for each non-empty line of text with its fields. */
static int hba_each_line(hba_t *h, const char *text, size_t len, char *why, size_t why_len,
                         int (*fn)(hba_t *, int, char **, int, char *, size_t))
{
    char line[LIMIT_CONF_LINE_BYTES + 1];
    char *fields[HBA_FIELDS_MAX];
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (l > LIMIT_CONF_LINE_BYTES) {
            hba_why(why, why_len, "line %d: longer than %d bytes", lineno, LIMIT_CONF_LINE_BYTES);
            return -1;
        }
        memcpy(line, text + pos, l);
        line[l] = 0;
        pos += l + (nl ? 1 : 0);
        if (memchr(line, 0, l)) {
            hba_why(why, why_len, "line %d: contains a NUL byte", lineno);
            return -1;
        }
        int nf = hba_fields(line, fields, HBA_FIELDS_MAX);
        if (nf < 0) {
            hba_why(why, why_len, "line %d: too many fields", lineno);
            return -1;
        }
        if (nf == 0)
            continue;
        if (fn(h, lineno, fields, nf, why, why_len) < 0)
            return -1;
    }
    return 0;
}

int hba_parse_rules(hba_t *h, const char *text, size_t len, char *why, size_t why_len)
{
    return hba_each_line(h, text, len, why, why_len, hba_rule_line);
}

static int hba_user_line(hba_t *h, int lineno, char **f, int nf, char *why, size_t why_len)
{
    scram_verifier_t v;
    if (nf != 2) {
        hba_why(why, why_len, "line %d: expected USER VERIFIER", lineno);
        return -1;
    }
    if (scram_parse_verifier(f[1], &v) < 0) {
        hba_why(why, why_len, "line %d: invalid SCRAM-SHA-256 verifier for user \"%s\"",
                lineno, f[0]);
        return -1;
    }
    if (h->users_count >= LIMIT_HBA_USERS) {
        hba_why(why, why_len, "line %d: more than %d users", lineno, LIMIT_HBA_USERS);
        return -1;
    }
    hba_user_t *n = rt_realloc(h->users, sizeof *n * (size_t)(h->users_count + 1));
    if (!n)
        goto oom;
    h->users = n;
    hba_user_t u = {hba_strdup(f[0]), hba_strdup(f[1])};
    if (!u.name || !u.verifier) {
        rt_free(u.name);
        rt_free(u.verifier);
        goto oom;
    }
    h->users[h->users_count++] = u;
    return 0;
oom:
    hba_why(why, why_len, "line %d: out of memory", lineno);
    return -1;
}

int hba_parse_users(hba_t *h, const char *text, size_t len, char *why, size_t why_len)
{
    return hba_each_line(h, text, len, why, why_len, hba_user_line);
}

int hba_set_default(hba_t *h)
{
    static const char defaults[] = "host all all 127.0.0.1/32 trust\n"
                                   "host all all ::1/128 trust\n";
    char why[128];
    return hba_parse_rules(h, defaults, sizeof defaults - 1, why, sizeof why);
}

int hba_load_file(const char *path, strbuf_t *out, char *why, size_t why_len)
{
    const size_t max_bytes = (size_t)(LIMIT_CONF_LINE_BYTES + 1) * LIMIT_HBA_USERS;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        hba_why(why, why_len, "could not open \"%s\": %s", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            hba_why(why, why_len, "could not read \"%s\": %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > max_bytes) {
            hba_why(why, why_len, "\"%s\" is larger than %zu bytes", path, max_bytes);
            goto done;
        }
        strbuf_append(out, buf, (size_t)n);
    }
    if (out->oom) {
        hba_why(why, why_len, "out of memory reading \"%s\"", path);
        goto done;
    }
    rc = 0;
done:
    close(fd);
    return rc;
}

/* True if name is in the comma-separated list. */
static bool hba_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0)
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

static bool hba_addr_match(const hba_rule_t *r, const struct sockaddr *sa, socklen_t sa_len)
{
    if (r->any_addr)
        return true;
    uint8_t a[16];
    int fam;
    if (sa->sa_family == AF_INET && sa_len >= (socklen_t)sizeof(struct sockaddr_in)) {
        memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        fam = AF_INET;
    } else if (sa->sa_family == AF_INET6 && sa_len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            memcpy(a, in6->s6_addr + 12, 4);
            fam = AF_INET;
        } else {
            memcpy(a, in6->s6_addr, 16);
            fam = AF_INET6;
        }
    } else {
        return false;
    }
    if (fam != r->family)
        return false;
    int n = fam == AF_INET ? 4 : 16;
    for (int i = 0; i < n; i++)
        if ((a[i] & r->mask[i]) != r->addr[i])
            return false;
    return true;
}

int hba_match(const hba_t *h, const char *database, const char *user,
              const struct sockaddr *sa, socklen_t sa_len)
{
    for (int i = 0; i < h->rules_count; i++) {
        const hba_rule_t *r = &h->rules[i];
        if (r->never)
            continue;
        bool db_ok = !strcmp(r->databases, "all") ||
                     (!strcmp(r->databases, "sameuser") && !strcmp(database, user)) ||
                     hba_in_list(r->databases, database);
        bool user_ok = !strcmp(r->users, "all") || hba_in_list(r->users, user);
        if (db_ok && user_ok && hba_addr_match(r, sa, sa_len))
            return r->method;
    }
    return HBA_NO_MATCH;
}

const char *hba_user_verifier(const hba_t *h, const char *user)
{
    for (int i = 0; i < h->users_count; i++)
        if (!strcmp(h->users[i].name, user))
            return h->users[i].verifier;
    return NULL;
}
