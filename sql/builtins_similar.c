/*
 * builtins_similar.c -- similar_to_escape(pattern [, escape]): SQL's SIMILAR TO
 * pattern as a regular expression, which `x SIMILAR TO p` then matches with `~`
 * (the parser turns it into `x ~ similar_to_escape(p[, e])`, as PostgreSQL's
 * grammar does).
 *
 * The translation follows PostgreSQL's similar_escape: `%` -> `.*`, `_` -> `.`,
 * bracket expressions copied, the regex specials `. ^ $ \` outside them quoted,
 * the escape character (default `\`, none when ESCAPE '') quoting the next
 * character, everything anchored. Deviation: our regex engine is POSIX ERE
 * (regcomp), which has no `(?:...)`, so groups stay plain `(...)` and the
 * escape-double-quote separators become `)(`; for matching this changes nothing,
 * but the function's own output text differs from PostgreSQL's.
 */
#include <string.h>

#include "core/limits.h"
#include "core/strbuf.h"
#include "sql/builtins_int.h"

static size_t sim_u8len(uint8_t c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static int similar_escape(const builtin_ctx_t *ctx, const vstr_t *pat, const char *esc, size_t esclen,
                          datum_t *out, sql_error_t *err)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "^(", 2);
    bool after_escape = false, in_class = false;
    int class_pos = 0, nquotes = 0;
    for (size_t i = 0; i < pat->len;) {
        size_t k = sim_u8len((uint8_t)pat->data[i]);
        if (i + k > pat->len)
            k = pat->len - i;
        const char *ch = pat->data + i;
        char c = *ch;
        i += k;
        if (after_escape) {
            if (c == '"' && !in_class) {
                if (nquotes >= 2) {
                    strbuf_free(&sb);
                    return sql_error(err, "2200C", "SQL regular expression may not contain more than two "
                                                   "escape-double-quote separators");
                }
                strbuf_append(&sb, ")(", 2);
                nquotes++;
            } else {
                strbuf_append(&sb, "\\", 1);
                strbuf_append(&sb, ch, k);
            }
            after_escape = false;
        } else if (esclen && k == esclen && !memcmp(ch, esc, k)) {
            after_escape = true;
        } else if (in_class) {
            if (c == '\\')
                strbuf_append(&sb, "\\", 1);
            strbuf_append(&sb, ch, k);
            class_pos++;
            if (c == ']' && class_pos > 1 && !(class_pos == 2 && sb.len >= 2 && sb.data[sb.len - 2] == '^'))
                in_class = false;
        } else if (c == '[') {
            strbuf_append(&sb, ch, k);
            in_class = true;
            class_pos = 0;
        } else if (c == '%') {
            strbuf_append(&sb, ".*", 2);
        } else if (c == '_') {
            strbuf_append(&sb, ".", 1);
        } else if (c == '\\' || c == '.' || c == '^' || c == '$') {
            strbuf_append(&sb, "\\", 1);
            strbuf_append(&sb, ch, k);
        } else {
            strbuf_append(&sb, ch, k);
        }
        if (sb.len > LIMIT_TEXT_VALUE_BYTES) {
            strbuf_free(&sb);
            return sql_error(err, "54000", "SIMILAR TO pattern too long");
        }
    }
    strbuf_append(&sb, ")$", 2);
    if (sb.oom) {
        strbuf_free(&sb);
        return builtins__oom(err);
    }
    int rc = builtins__ret_str(ctx, sb.data, sb.len, out, err);
    strbuf_free(&sb);
    return rc;
}

BUILTIN_FN(bi_similar_to_escape)
{
    (void)nulls;
    (void)argtypes;
    (void)isnull;
    const char *esc = "\\";
    size_t esclen = 1;
    if (nargs == 2) {
        const vstr_t *e = args[1].s;
        esc = e->data;
        esclen = e->len;
        if (esclen && sim_u8len((uint8_t)esc[0]) != esclen) {
            sql_error(err, "22025", "invalid escape string");
            sql_error_hint(err, "Escape string must be empty or one character.");
            return -1;
        }
    }
    return similar_escape(ctx, args[0].s, esc, esclen, out, err);
}
