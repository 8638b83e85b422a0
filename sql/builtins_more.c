/*
 * builtins_more.c -- regular-expression functions (regexp_replace, regexp_match,
 * regexp_split_to_array), format(), string_to_array and the polymorphic array
 * functions (array_append / array_prepend / array_remove / array_replace and the
 * array operators &&, @>, <@ as arrayoverlap / arraycontains / arraycontained).
 *
 * Regular expressions: PostgreSQL's are Tcl AREs; these run on the C library's
 * POSIX EREs (as the ~ operator does, sql/expr.c), after translating the ARE
 * class escapes \d \D \s \S \w \W (also inside brackets, where only the positive ones
 * mean anything) to bracket expressions. ERE lacks ARE's non-greedy quantifiers,
 * lookahead and (?:...), which are then 2201B invalid regular expression.
 *
 * The array functions take "any" in the table (no anyarray / anyelement in the
 * resolver): the binder (bind.c b_func_poly) casts the element argument to the
 * array's element type and sets the result type, and these check what they get.
 *
 * Thread: any; no state.
 */
#include "sql/builtins_int.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "sql/catalog.h"
#include "sql/pgcatalog.h"
#include "sql/pgcatalog_int.h"

#define T TYPE_TEXT
#define TA TYPE_TEXTARRAY
#define ANY TYPE_INVALID
#define VAR BUILTIN_VARIADIC

/* Upper bound on a pattern after translation and on the number of capture groups. */
#define RX_PATTERN_MAX (64 * 1024)
#define RX_GROUPS_MAX 10

static int ret_sb(const builtin_ctx_t *ctx, strbuf_t *sb, datum_t *out, sql_error_t *err)
{
    if (sb->oom) {
        strbuf_free(sb);
        return builtins__oom(err);
    }
    int rc = builtins__ret_str(ctx, sb->data ? sb->data : "", sb->len, out, err);
    strbuf_free(sb);
    return rc;
}

/* ---- regular expressions ---- */

typedef struct rx_flags { bool global, icase, newline, quote; } rx_flags_t;

static int rx_parse_flags(const vstr_t *f, rx_flags_t *out, sql_error_t *err)
{
    *out = (rx_flags_t){0};
    for (size_t i = 0; f && i < f->len; i++) {
        switch (f->data[i]) {
        case 'g': out->global = true; break;
        case 'i': out->icase = true; break;
        case 'c': out->icase = false; break;
        case 'n': case 'w': out->newline = true; break;
        case 'q': out->quote = true; break;
        case 'p': case 's': case 't': break;
        default:
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid regular expression option: \"%.*s\"", 1,
                             &f->data[i]);
        }
    }
    return 0;
}

/* Appends the ERE for ARE class escape c inside (in_bracket) or outside brackets;
 * false when c is no class escape. */
static bool rx_class(char c, bool in_bracket, strbuf_t *sb)
{
    const char *body;
    bool neg = false;
    switch (c) {
    case 'd': body = "0-9"; break;
    case 'D': body = "0-9"; neg = true; break;
    case 's': body = "[:space:]"; break;
    case 'S': body = "[:space:]"; neg = true; break;
    case 'w': body = "[:alnum:]_"; break;
    case 'W': body = "[:alnum:]_"; neg = true; break;
    default: return false;
    }
    if (in_bracket) {
        if (!neg)
            strbuf_puts(sb, body);   /* a negated class inside brackets: dropped (rare) */
        return true;
    }
    strbuf_puts(sb, neg ? "[^" : "[");
    strbuf_puts(sb, body);
    strbuf_putc(sb, ']');
    return true;
}

static int rx_compile(const vstr_t *pat, const rx_flags_t *fl, regex_t *re, sql_error_t *err)
{
    if (pat->len > RX_PATTERN_MAX)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "regular expression is too long");
    strbuf_t sb;
    strbuf_init(&sb);
    bool in_bracket = false;
    for (size_t i = 0; fl->quote && i < pat->len; i++) {
        /* 'q': the pattern is a literal string */
        if (strchr(".[]()*+?{}|^$\\", pat->data[i]))
            strbuf_putc(&sb, '\\');
        strbuf_putc(&sb, pat->data[i]);
    }
    for (size_t i = 0; !fl->quote && i < pat->len; i++) {
        char c = pat->data[i];
        if (c == '\0') {
            strbuf_free(&sb);
            return sql_error(err, "2201B", "invalid regular expression: invalid character");
        }
        if (!in_bracket && c == '[') {
            in_bracket = true;
            strbuf_putc(&sb, c);
            if (i + 1 < pat->len && pat->data[i + 1] == '^')
                strbuf_putc(&sb, pat->data[++i]);
            if (i + 1 < pat->len && pat->data[i + 1] == ']')
                strbuf_putc(&sb, pat->data[++i]);
            continue;
        }
        if (in_bracket && c == '[' && i + 1 < pat->len && (pat->data[i + 1] == ':' || pat->data[i + 1] == '.' ||
                                                          pat->data[i + 1] == '=')) {
            /* [:class:] and friends: copied up to the closing ":]" */
            char k = pat->data[i + 1];
            size_t j = i + 2;
            while (j + 1 < pat->len && !(pat->data[j] == k && pat->data[j + 1] == ']'))
                j++;
            size_t end = j + 1 < pat->len ? j + 2 : pat->len;
            strbuf_append(&sb, pat->data + i, end - i);
            i = end - 1;
            continue;
        }
        if (in_bracket && c == ']') {
            in_bracket = false;
            strbuf_putc(&sb, c);
            continue;
        }
        if (c == '\\' && i + 1 < pat->len) {
            char n = pat->data[i + 1];
            if (rx_class(n, in_bracket, &sb)) {
                i++;
                continue;
            }
            if (in_bracket) {
                /* ARE: a backslash escapes inside brackets too; ERE has none */
                i++;
                if (n == ']' || n == '^' || n == '-' || n == '\\') {
                    /* keep its literal meaning with a one-character class trick */
                    if (n == '\\') strbuf_putc(&sb, '\\');
                    else if (n == '-') strbuf_puts(&sb, "-");
                    else strbuf_putc(&sb, n);
                } else if (n == 'n') strbuf_putc(&sb, '\n');
                else if (n == 't') strbuf_putc(&sb, '\t');
                else strbuf_putc(&sb, n);
                continue;
            }
            if (n == 'n' || n == 't' || n == 'r') {
                strbuf_putc(&sb, n == 'n' ? '\n' : n == 't' ? '\t' : '\r');
                i++;
                continue;
            }
            strbuf_putc(&sb, c);
            strbuf_putc(&sb, n);
            i++;
            continue;
        }
        strbuf_putc(&sb, c);
    }
    strbuf_putc(&sb, '\0');
    if (sb.oom) {
        strbuf_free(&sb);
        return builtins__oom(err);
    }
    int flags = REG_EXTENDED | (fl->icase ? REG_ICASE : 0) | (fl->newline ? REG_NEWLINE : 0);
    int rc = regcomp(re, sb.data, flags);
    strbuf_free(&sb);
    if (rc != 0) {
        /* PostgreSQL's (Spencer's) wording for the errors both libraries know */
        const char *msg;
        switch (rc) {
        case REG_EPAREN: msg = "parentheses () not balanced"; break;
        case REG_EBRACK: msg = "brackets [] not balanced"; break;
        case REG_EBRACE: msg = "braces {} not balanced"; break;
        case REG_BADRPT: msg = "quantifier operand invalid"; break;
        case REG_EESCAPE: msg = "invalid escape \\ sequence"; break;
        case REG_BADBR: msg = "invalid repetition count(s)"; break;
        case REG_ERANGE: msg = "invalid character range"; break;
        case REG_ECTYPE: msg = "invalid character class"; break;
        case REG_ESUBREG: msg = "invalid backreference number"; break;
        case REG_ESPACE: return builtins__oom(err);
        default: msg = "invalid regular expression"; break;
        }
        return sql_error(err, "2201B", "invalid regular expression: %s", msg);
    }
    if (re->re_nsub >= RX_GROUPS_MAX) {
        regfree(re);
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "regular expressions with more than %d groups are not supported",
                         RX_GROUPS_MAX - 1);
    }
    return 0;
}

/* A NUL-terminated copy of s in the arena (the C regex functions need one); NUL
 * bytes cannot occur in text. */
static char *rx_subject(const builtin_ctx_t *ctx, const vstr_t *s)
{
    char *p = arena_alloc(ctx->arena, s->len + 1);
    if (p) {
        memcpy(p, s->data, s->len);
        p[s->len] = '\0';
    }
    return p;
}

/* The next match at or after byte `from` of subject (len bytes); false when none. */
static bool rx_next(const regex_t *re, const char *subject, size_t len, size_t from, regmatch_t *m)
{
    if (from > len)
        return false;
    if (regexec(re, subject + from, RX_GROUPS_MAX, m, from > 0 ? REG_NOTBOL : 0) != 0)
        return false;
    for (int g = 0; g < RX_GROUPS_MAX; g++)
        if (m[g].rm_so >= 0) {
            m[g].rm_so += (regoff_t)from;
            m[g].rm_eo += (regoff_t)from;
        }
    return true;
}

/* Length of the UTF-8 character at p (1 for a stray byte). */
static size_t utf8_len(const char *p, size_t left)
{
    unsigned char c = (unsigned char)*p;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    return n > left ? left : n;
}

/* regexp_replace(source, pattern, replacement [, flags]): \1..\9 and \& in the
 * replacement insert groups / the match, \\ a backslash; 'g' replaces every match. */
BUILTIN_FN(bi_regexp_replace)
{
    (void)argtypes;
    rx_flags_t fl;
    if (rx_parse_flags(nargs > 3 ? args[3].s : NULL, &fl, err) < 0)
        return -1;
    regex_t re;
    if (rx_compile(args[1].s, &fl, &re, err) < 0)
        return -1;
    const vstr_t *src = args[0].s, *rep = args[2].s;
    char *subject = rx_subject(ctx, src);
    if (!subject) {
        regfree(&re);
        return builtins__oom(err);
    }
    strbuf_t sb;
    strbuf_init(&sb);
    size_t pos = 0, copied = 0;
    regmatch_t m[RX_GROUPS_MAX];
    while (rx_next(&re, subject, src->len, pos, m)) {
        size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
        strbuf_append(&sb, subject + copied, so - copied);
        for (size_t i = 0; i < rep->len; i++) {
            char c = rep->data[i];
            if (c == '\\' && i + 1 < rep->len) {
                char n = rep->data[++i];
                if (n >= '1' && n <= '9') {
                    int g = n - '0';
                    if ((size_t)g <= re.re_nsub && m[g].rm_so >= 0)
                        strbuf_append(&sb, subject + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
                    continue;
                }
                if (n == '&') {
                    strbuf_append(&sb, subject + so, eo - so);
                    continue;
                }
                if (n != '\\')
                    strbuf_putc(&sb, '\\');
                strbuf_putc(&sb, n);
                continue;
            }
            strbuf_putc(&sb, c);
        }
        copied = eo;
        if (sb.len > LIMIT_TEXT_VALUE_BYTES || sb.oom)
            break;
        if (!fl.global)
            break;
        if (eo == so) {
            /* an empty match: copy one character and search after it */
            if (eo >= src->len)
                break;
            size_t n = utf8_len(subject + eo, src->len - eo);
            strbuf_append(&sb, subject + eo, n);
            copied = pos = eo + n;
        } else {
            pos = eo;
        }
    }
    regfree(&re);
    if (copied < src->len)
        strbuf_append(&sb, subject + copied, src->len - copied);
    return ret_sb(ctx, &sb, out, err);
}

/* regexp_match(string, pattern [, flags]): the first match's groups as text[] (the
 * whole match when there are none), NULL when nothing matches. */
BUILTIN_FN(bi_regexp_match)
{
    (void)argtypes;
    rx_flags_t fl;
    if (rx_parse_flags(nargs > 2 ? args[2].s : NULL, &fl, err) < 0)
        return -1;
    if (fl.global) {
        sql_error(err, SQLSTATE_INVALID_PARAMETER, "regexp_match() does not support the \"global\" option");
        sql_error_hint(err, "Use the regexp_matches function instead.");
        return -1;
    }
    regex_t re;
    if (rx_compile(args[1].s, &fl, &re, err) < 0)
        return -1;
    char *subject = rx_subject(ctx, args[0].s);
    regmatch_t m[RX_GROUPS_MAX];
    if (!subject || !rx_next(&re, subject, args[0].s->len, 0, m)) {
        regfree(&re);
        if (!subject)
            return builtins__oom(err);
        *isnull = true;
        return 0;
    }
    int ng = re.re_nsub ? (int)re.re_nsub : 1, first = re.re_nsub ? 1 : 0;
    regfree(&re);
    datum_t vals[RX_GROUPS_MAX];
    bool en[RX_GROUPS_MAX];
    for (int g = 0; g < ng; g++) {
        regmatch_t *x = &m[first + g];
        en[g] = x->rm_so < 0;
        if (!en[g] && !(vals[g].s = vstr_new(ctx->arena, subject + x->rm_so, (size_t)(x->rm_eo - x->rm_so))))
            return builtins__oom(err);
    }
    if (!(out->s = type_array_build(ctx->arena, T, ng, vals, en)))
        return builtins__oom(err);
    return 0;
}

/* A growing list of text pieces for the array builders. */
typedef struct pieces { int n, cap; datum_t *vals; bool *nulls; size_t bytes; } pieces_t;

static int pieces_add(const builtin_ctx_t *ctx, pieces_t *p, const char *s, size_t len, bool isnull, sql_error_t *err)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        if ((size_t)cap > LIMIT_TEXT_VALUE_BYTES / 8)
            return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "array size exceeds the maximum allowed");
        datum_t *v = arena_alloc(ctx->arena, (size_t)cap * sizeof *v);
        bool *nn = arena_alloc(ctx->arena, (size_t)cap);
        if (!v || !nn)
            return builtins__oom(err);
        if (p->n) {
            memcpy(v, p->vals, (size_t)p->n * sizeof *v);
            memcpy(nn, p->nulls, (size_t)p->n);
        }
        p->vals = v;
        p->nulls = nn;
        p->cap = cap;
    }
    p->bytes += len + 8;
    if (p->bytes > LIMIT_TEXT_VALUE_BYTES)
        return sql_error(err, SQLSTATE_PROGRAM_LIMIT, "array size exceeds the maximum allowed");
    p->nulls[p->n] = isnull;
    if (!isnull && !(p->vals[p->n].s = vstr_new(ctx->arena, s, len)))
        return builtins__oom(err);
    p->n++;
    return 0;
}

static int pieces_ret(const builtin_ctx_t *ctx, pieces_t *p, datum_t *out, sql_error_t *err)
{
    if (!(out->s = type_array_build(ctx->arena, T, p->n, p->vals, p->nulls)))
        return builtins__oom(err);
    return 0;
}

/* regexp_split_to_array(string, pattern [, flags]): the pieces between matches;
 * an empty match at the start or end of the string or right after the previous
 * match splits nothing, as in PostgreSQL. */
BUILTIN_FN(bi_regexp_split_to_array)
{
    (void)argtypes;
    rx_flags_t fl;
    if (rx_parse_flags(nargs > 2 ? args[2].s : NULL, &fl, err) < 0)
        return -1;
    if (fl.global) {
        sql_error(err, SQLSTATE_INVALID_PARAMETER, "regexp_split_to_array() does not support the \"global\" option");
        return -1;
    }
    regex_t re;
    if (rx_compile(args[1].s, &fl, &re, err) < 0)
        return -1;
    const vstr_t *src = args[0].s;
    char *subject = rx_subject(ctx, src);
    if (!subject) {
        regfree(&re);
        return builtins__oom(err);
    }
    pieces_t p = {0};
    size_t start = 0, search = 0;
    regmatch_t m[RX_GROUPS_MAX];
    int rc = 0;
    while (search < src->len && rx_next(&re, subject, src->len, search, m)) {
        size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
        if (so == eo && (so == 0 || so >= src->len || so == start)) {
            if (so >= src->len)
                break;
            search = so + utf8_len(subject + so, src->len - so);
            continue;
        }
        if ((rc = pieces_add(ctx, &p, subject + start, so - start, false, err)) < 0)
            break;
        start = eo;
        search = eo > so ? eo : eo + utf8_len(subject + eo, src->len - eo);
    }
    regfree(&re);
    if (rc < 0 || pieces_add(ctx, &p, subject + start, src->len - start, false, err) < 0)
        return -1;
    return pieces_ret(ctx, &p, out, err);
}

/* ---- string_to_array ---- */

/* string_to_array(string, delimiter [, null_string]): a NULL delimiter splits into
 * characters, an empty one gives the whole string; an empty string gives {}. */
BUILTIN_FN(bi_string_to_array)
{
    (void)argtypes;
    if (nulls[0]) {
        *isnull = true;
        return 0;
    }
    const vstr_t *s = args[0].s;
    const vstr_t *d = nulls[1] ? NULL : args[1].s;
    const vstr_t *ns = nargs > 2 && !nulls[2] ? args[2].s : NULL;
    pieces_t p = {0};
    if (s->len == 0)
        return pieces_ret(ctx, &p, out, err);
    const char *e = s->data + s->len;
    for (const char *q = s->data; q < e;) {
        size_t n;
        const char *next;
        if (!d) {
            n = utf8_len(q, (size_t)(e - q));
            next = q + n;
        } else if (d->len == 0) {
            n = (size_t)(e - q);
            next = e;
        } else {
            const char *hit = memmem(q, (size_t)(e - q), d->data, d->len);
            n = (size_t)((hit ? hit : e) - q);
            next = hit ? hit + d->len : e;
            if (hit && next == e) {
                /* a trailing delimiter: one more empty field */
                bool isn = ns && ns->len == n && !memcmp(ns->data, q, n);
                if (pieces_add(ctx, &p, q, n, isn, err) < 0)
                    return -1;
                q = next;
                n = 0;
            }
        }
        bool isn = ns && ns->len == n && !memcmp(ns->data, q, n);
        if (pieces_add(ctx, &p, q, n, isn, err) < 0)
            return -1;
        q = next;
        if (q == e)
            break;
    }
    return pieces_ret(ctx, &p, out, err);
}

/* ---- format ---- */

/* format(formatstr, VARIADIC "any"): %s (text form, NULL as empty), %I (identifier,
 * quoted as needed; NULL is 22004), %L (literal, quoted; NULL as NULL) and %%, each
 * with an optional argument position n$, a - flag and a width. */
BUILTIN_FN(bi_format)
{
    if (nulls[0]) {
        *isnull = true;
        return 0;
    }
    const vstr_t *f = args[0].s;
    strbuf_t sb;
    strbuf_init(&sb);
    int next_arg = 1;
    for (size_t i = 0; i < f->len; i++) {
        char c = f->data[i];
        if (c != '%') {
            strbuf_putc(&sb, c);
            continue;
        }
        if (++i >= f->len) {
            strbuf_free(&sb);
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unterminated format() type specifier");
        }
        if (f->data[i] == '%') {
            strbuf_putc(&sb, '%');
            continue;
        }
        /* [n$][-][width]type */
        int argpos = 0;
        size_t j = i;
        long num = 0;
        while (j < f->len && f->data[j] >= '0' && f->data[j] <= '9' && num < 1000000)
            num = num * 10 + (f->data[j++] - '0');
        if (j > i && j < f->len && f->data[j] == '$') {
            if (num == 0) {
                strbuf_free(&sb);
                return sql_error(err, SQLSTATE_INVALID_PARAMETER, "format specifies argument 0, but arguments are numbered from 1");
            }
            argpos = (int)num;
            i = j + 1;
        }
        bool left = false;
        if (i < f->len && f->data[i] == '-') {
            left = true;
            i++;
        }
        if (i < f->len && f->data[i] == '*') {
            strbuf_free(&sb);
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "format() widths taken from arguments (*) are not supported");
        }
        long width = 0;
        while (i < f->len && f->data[i] >= '0' && f->data[i] <= '9' && width < 1000000)
            width = width * 10 + (f->data[i++] - '0');
        if (i >= f->len) {
            strbuf_free(&sb);
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "unterminated format() type specifier");
        }
        char type = f->data[i];
        if (type != 's' && type != 'I' && type != 'L') {
            strbuf_free(&sb);
            sql_error(err, SQLSTATE_INVALID_PARAMETER, "unrecognized format() type specifier \"%c\"", type);
            sql_error_hint(err, "For a single \"%%\" use \"%%%%\".");
            return -1;
        }
        int a = argpos ? argpos : next_arg;
        next_arg = a + 1;
        if (a >= nargs) {
            strbuf_free(&sb);
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "too few arguments for format()");
        }
        strbuf_t v;
        strbuf_init(&v);
        if (nulls[a]) {
            if (type == 'I') {
                strbuf_free(&sb);
                return sql_error(err, "22004", "null values cannot be formatted as an SQL identifier");
            }
            if (type == 'L')
                strbuf_puts(&v, "NULL");
        } else {
            strbuf_t raw;
            strbuf_init(&raw);
            type_out_text(argtypes[a], -1, args[a], &raw);
            strbuf_putc(&raw, '\0');
            if (raw.oom) {
                strbuf_free(&raw);
                strbuf_free(&sb);
                return builtins__oom(err);
            }
            if (type == 's') {
                strbuf_append(&v, raw.data, raw.len - 1);
            } else if (type == 'I') {
                pgcat__quote_ident(raw.data, &v);
            } else {
                if (strchr(raw.data, '\\'))
                    strbuf_putc(&v, 'E');
                strbuf_putc(&v, '\'');
                for (size_t k = 0; k + 1 < raw.len; k++) {
                    if (raw.data[k] == '\'' || raw.data[k] == '\\')
                        strbuf_putc(&v, raw.data[k]);
                    strbuf_putc(&v, raw.data[k]);
                }
                strbuf_putc(&v, '\'');
            }
            strbuf_free(&raw);
        }
        /* width counts characters */
        long chars = 0;
        for (size_t k = 0; k < v.len; k++)
            chars += ((unsigned char)v.data[k] & 0xC0) != 0x80;
        if (!left)
            for (long k = chars; k < width; k++)
                strbuf_putc(&sb, ' ');
        strbuf_append(&sb, v.data ? v.data : "", v.len);
        if (left)
            for (long k = chars; k < width; k++)
                strbuf_putc(&sb, ' ');
        strbuf_free(&v);
        if (sb.len > LIMIT_TEXT_VALUE_BYTES)
            break;
    }
    return ret_sb(ctx, &sb, out, err);
}

/* ---- polymorphic array functions ---- */

static int need_array(type_oid_t t, const char *fname, sql_error_t *err)
{
    if (type_is_array(t))
        return 0;
    const type_info_t *ti = type_lookup(t);
    sql_error(err, SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", fname, ti ? ti->sql_name : "unknown");
    sql_error_hint(err, "No function matches the given name and argument types. You might need to add explicit "
                        "type casts.");
    return -1;
}

/* The elements of array a (count *n) into arena arrays. */
static int arr_elems(const builtin_ctx_t *ctx, datum_t a, int extra, datum_t **vals, bool **en, int *n,
                     sql_error_t *err)
{
    int c = type_array_count(a);
    *vals = arena_alloc(ctx->arena, (size_t)(c + extra + 1) * sizeof **vals);
    *en = arena_alloc(ctx->arena, (size_t)(c + extra + 1));
    if (!*vals || !*en)
        return builtins__oom(err);
    type_array_iter_t it;
    type_array_iter(&it, a);
    int k = 0;
    while (type_array_next(&it, &(*vals)[k], &(*en)[k]))
        k++;
    *n = k;
    return 0;
}

/* array_append(arr, elem) / array_prepend(elem, arr): a NULL array is an empty one. */
static int arr_add(const builtin_ctx_t *ctx, bool prepend, const datum_t *args, const bool *nulls,
                   const type_oid_t *argtypes, datum_t *out, sql_error_t *err)
{
    int ai = prepend ? 1 : 0, ei = prepend ? 0 : 1;
    if (need_array(argtypes[ai], prepend ? "array_prepend" : "array_append", err) < 0)
        return -1;
    type_oid_t elem = type_array_elem(argtypes[ai]);
    datum_t *vals;
    bool *en;
    int n = 0;
    if (nulls[ai]) {
        if (!(vals = arena_alloc(ctx->arena, 2 * sizeof *vals)) || !(en = arena_alloc(ctx->arena, 2)))
            return builtins__oom(err);
    } else if (arr_elems(ctx, args[ai], 1, &vals, &en, &n, err) < 0) {
        return -1;
    }
    if (prepend) {
        memmove(vals + 1, vals, (size_t)n * sizeof *vals);
        memmove(en + 1, en, (size_t)n);
        vals[0] = args[ei];
        en[0] = nulls[ei];
    } else {
        vals[n] = args[ei];
        en[n] = nulls[ei];
    }
    if (!(out->s = type_array_build(ctx->arena, elem, n + 1, vals, en)))
        return builtins__oom(err);
    return 0;
}

BUILTIN_FN(bi_array_append)
{
    (void)nargs;
    *isnull = false;
    return arr_add(ctx, false, args, nulls, argtypes, out, err);
}

BUILTIN_FN(bi_array_prepend)
{
    (void)nargs;
    *isnull = false;
    return arr_add(ctx, true, args, nulls, argtypes, out, err);
}

/* array_remove(arr, elem) and array_replace(arr, from, to): IS NOT DISTINCT FROM
 * matching, so NULL elements can be removed / replaced. */
static int arr_edit(const builtin_ctx_t *ctx, const char *fname, int nargs, const datum_t *args, const bool *nulls,
                    const type_oid_t *argtypes, datum_t *out, bool *isnull, sql_error_t *err)
{
    if (nulls[0]) {
        *isnull = true;
        return 0;
    }
    if (need_array(argtypes[0], fname, err) < 0)
        return -1;
    type_oid_t elem = type_array_elem(argtypes[0]);
    datum_t *vals;
    bool *en;
    int n;
    if (arr_elems(ctx, args[0], 0, &vals, &en, &n, err) < 0)
        return -1;
    int k = 0;
    for (int i = 0; i < n; i++) {
        bool match = en[i] ? nulls[1] : !nulls[1] && type_cmp(elem, vals[i], args[1]) == 0;
        if (match && nargs == 2)
            continue;
        if (match) {
            vals[k] = args[2];
            en[k++] = nulls[2];
        } else {
            vals[k] = vals[i];
            en[k++] = en[i];
        }
    }
    if (!(out->s = type_array_build(ctx->arena, elem, k, vals, en)))
        return builtins__oom(err);
    return 0;
}

BUILTIN_FN(bi_array_remove) { return arr_edit(ctx, "array_remove", nargs, args, nulls, argtypes, out, isnull, err); }
BUILTIN_FN(bi_array_replace) { return arr_edit(ctx, "array_replace", nargs, args, nulls, argtypes, out, isnull, err); }

/* Whether every non-NULL element of a occurs in b (NULLs never match, as in
 * PostgreSQL's containment); any: whether some element of a occurs in b. */
static bool arr_in(type_oid_t elem, datum_t a, datum_t b, bool any)
{
    type_array_iter_t ia;
    type_array_iter(&ia, a);
    datum_t x;
    bool xn;
    while (type_array_next(&ia, &x, &xn)) {
        bool found = false;
        if (!xn) {
            type_array_iter_t ib;
            type_array_iter(&ib, b);
            datum_t y;
            bool yn;
            while (!found && type_array_next(&ib, &y, &yn))
                found = !yn && type_cmp(elem, x, y) == 0;
        }
        if (any && found)
            return true;
        if (!any && !found)
            return false;
    }
    return !any;
}

static int arr_setop(int kind, const datum_t *args, const type_oid_t *argtypes, datum_t *out, sql_error_t *err)
{
    static const char *const names[] = {"arrayoverlap", "arraycontains", "arraycontained"};
    if (need_array(argtypes[0], names[kind], err) < 0 || need_array(argtypes[1], names[kind], err) < 0)
        return -1;
    if (argtypes[0] != argtypes[1]) {
        const type_info_t *a = type_lookup(argtypes[0]), *b = type_lookup(argtypes[1]);
        return sql_error(err, SQLSTATE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                         a ? a->sql_name : "unknown", kind == 0 ? "&&" : kind == 1 ? "@>" : "<@",
                         b ? b->sql_name : "unknown");
    }
    type_oid_t elem = type_array_elem(argtypes[0]);
    if (kind == 0)
        out->i64 = arr_in(elem, args[0], args[1], true);
    else if (kind == 1)
        out->i64 = arr_in(elem, args[1], args[0], false);
    else
        out->i64 = arr_in(elem, args[0], args[1], false);
    return 0;
}

BUILTIN_FN(bi_arrayoverlap) { (void)ctx; (void)nargs; (void)nulls; (void)isnull; return arr_setop(0, args, argtypes, out, err); }
BUILTIN_FN(bi_arraycontains) { (void)ctx; (void)nargs; (void)nulls; (void)isnull; return arr_setop(1, args, argtypes, out, err); }
BUILTIN_FN(bi_arraycontained) { (void)ctx; (void)nargs; (void)nulls; (void)isnull; return arr_setop(2, args, argtypes, out, err); }

/* ---- quoting, sizes, name look-up ---- */

BUILTIN_FN(bi_quote_ident)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    char *name = arena_strndup(ctx->arena, args[0].s->data, args[0].s->len);
    if (!name)
        return builtins__oom(err);
    strbuf_t sb;
    strbuf_init(&sb);
    pgcat__quote_ident(name, &sb);
    return ret_sb(ctx, &sb, out, err);
}

/* quote_nullable(anyelement) in its text form: NULL unquoted, else quote_literal. */
BUILTIN_FN(bi_quote_nullable)
{
    (void)nargs;
    strbuf_t sb;
    strbuf_init(&sb);
    if (nulls[0]) {
        strbuf_puts(&sb, "NULL");
        return ret_sb(ctx, &sb, out, err);
    }
    strbuf_t raw;
    strbuf_init(&raw);
    type_out_text(argtypes[0], -1, args[0], &raw);
    if (raw.data && memchr(raw.data, '\\', raw.len))
        strbuf_putc(&sb, 'E');
    strbuf_putc(&sb, '\'');
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.data[i] == '\'' || raw.data[i] == '\\')
            strbuf_putc(&sb, raw.data[i]);
        strbuf_putc(&sb, raw.data[i]);
    }
    strbuf_putc(&sb, '\'');
    bool oom = raw.oom;
    strbuf_free(&raw);
    if (oom)
        sb.oom = true;
    *isnull = false;
    return ret_sb(ctx, &sb, out, err);
}

/* pg_size_pretty(bigint): bytes, kB, MB, GB, TB, PB with PostgreSQL's rounding
 * (each unit while the value is below 10240 of it; half rounded away from zero). */
BUILTIN_FN(bi_pg_size_pretty)
{
    (void)nargs; (void)nulls; (void)argtypes; (void)isnull;
    static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
    int64_t v = args[0].i64;
    int u = 0;
    /* PostgreSQL 15: a unit is kept while the value is below 10 * 1024 of it; one
     * extra low bit is carried for the final rounding */
    int64_t limit = 10 * 1024, limit2 = limit * 2 - 1;
    if ((v < 0 ? -v : v) < limit) {
        char buf[48];
        snprintf(buf, sizeof buf, "%lld bytes", (long long)v);
        return builtins__ret_str(ctx, buf, strlen(buf), out, err);
    }
    v >>= 9;      /* bytes -> half kB (an arithmetic shift, as PostgreSQL) */
    u = 1;
    while (u < 5 && (v < 0 ? -v : v) >= limit2) {
        v >>= 10;     /* half-units of the next unit */
        u++;
    }
    int64_t r = v >= 0 ? (v + 1) / 2 : (v - 1) / 2;
    char buf[48];
    snprintf(buf, sizeof buf, "%lld %s", (long long)r, units[u]);
    return builtins__ret_str(ctx, buf, strlen(buf), out, err);
}

/* to_regclass(text): the relation's OID, or NULL when there is none (no error).
 * Schema-qualified names: public, pg_catalog and information_schema. */
BUILTIN_FN(bi_to_regclass)
{
    (void)nargs; (void)nulls; (void)argtypes;
    char *name = arena_strndup(ctx->arena, args[0].s->data, args[0].s->len);
    if (!name)
        return builtins__oom(err);
    char *dot = strchr(name, '.');
    const char *rel = dot ? dot + 1 : name;
    const char *ns = dot ? name : NULL;
    if (dot)
        *dot = '\0';
    *isnull = true;
    if (ctx->catalog && (!ns || !strcmp(ns, "public"))) {
        const cat_table_t *t = catalog_table_by_name(ctx->catalog, CAT_NS_PUBLIC, rel);
        const cat_index_t *ix = t ? NULL : catalog_index_by_name(ctx->catalog, CAT_NS_PUBLIC, rel, NULL);
        if (t || ix) {
            out->i64 = t ? t->oid : ix->oid;
            *isnull = false;
            return 0;
        }
    }
    for (int k = 0; k < 2; k++) {
        uint32_t nsoid = k == 0 ? CAT_NS_PG_CATALOG : CAT_NS_INFO_SCHEMA;
        if (ns && strcmp(ns, k == 0 ? "pg_catalog" : "information_schema"))
            continue;
        const pgcat_vtab_t *vt = pgcat_lookup(nsoid, rel);
        if (vt) {
            out->i64 = vt->oid;
            *isnull = false;
            return 0;
        }
    }
    return 0;
}

const builtin_t builtins_more[] = {
    /* name, pg_proc oid, nargs, argtypes, result, strict, volatility, fn */
    {"regexp_replace", 2284, 3, {T, T, T}, T, true, 'i', bi_regexp_replace},
    {"regexp_replace", 2285, 4, {T, T, T, T}, T, true, 'i', bi_regexp_replace},
    {"regexp_match", 3396, 2, {T, T}, TA, true, 'i', bi_regexp_match},
    {"regexp_match", 3397, 3, {T, T, T}, TA, true, 'i', bi_regexp_match},
    {"regexp_split_to_array", 2767, 2, {T, T}, TA, true, 'i', bi_regexp_split_to_array},
    {"regexp_split_to_array", 2768, 3, {T, T, T}, TA, true, 'i', bi_regexp_split_to_array},
    {"string_to_array", 394, 2, {T, T}, TA, false, 'i', bi_string_to_array},
    {"string_to_array", 376, 3, {T, T, T}, TA, false, 'i', bi_string_to_array},
    {"format", 3540, 1, {T}, T, false, 's', bi_format},
    {"quote_ident", 1282, 1, {T}, T, true, 'i', bi_quote_ident},
    {"quote_nullable", 1289, 1, {ANY}, T, false, 's', bi_quote_nullable},
    {"pg_size_pretty", 3166, 1, {TYPE_INT8}, T, true, 'i', bi_pg_size_pretty},
    {"to_regclass", 3495, 1, {T}, TYPE_REGCLASS, true, 's', bi_to_regclass},
    {"format", 3539, VAR, {T, ANY}, T, false, 's', bi_format},
    /* polymorphic: bind.c casts the element and sets the result type */
    {"array_append", 378, 2, {ANY, ANY}, ANY, false, 'i', bi_array_append},
    {"array_prepend", 379, 2, {ANY, ANY}, ANY, false, 'i', bi_array_prepend},
    {"array_remove", 3167, 2, {ANY, ANY}, ANY, false, 'i', bi_array_remove},
    {"array_replace", 3168, 3, {ANY, ANY, ANY}, ANY, false, 'i', bi_array_replace},
    {"arrayoverlap", 2747, 2, {ANY, ANY}, TYPE_BOOL, true, 'i', bi_arrayoverlap},
    {"arraycontains", 2748, 2, {ANY, ANY}, TYPE_BOOL, true, 'i', bi_arraycontains},
    {"arraycontained", 2749, 2, {ANY, ANY}, TYPE_BOOL, true, 'i', bi_arraycontained},
};
const int builtins_more_count = (int)(sizeof builtins_more / sizeof builtins_more[0]);
