/*
 * builtins_array.c -- array functions of the builtins module: array_to_string,
 * array_length / array_upper / array_lower / cardinality, array_position and
 * current_schemas. Arrays are one-dimensional with lower bound 1 (types.h), so the
 * dimension argument is 1 or the answer is NULL, as PostgreSQL answers for a
 * dimension an array does not have.
 *
 * The array argument is declared "any" in the table (there is no anyarray
 * pseudo-type in the resolver); each function checks it got an array type.
 */
#include "sql/builtins_int.h"

#include <string.h>

#include "core/limits.h"

static int need_array(const type_oid_t *argtypes, const char *fname, sql_error_t *err)
{
    if (type_is_array(argtypes[0]))
        return 0;
    const type_info_t *ti = type_lookup(argtypes[0]);
    sql_error(err, SQLSTATE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", fname,
              ti ? ti->sql_name : "unknown");
    sql_error_hint(err, "No function matches the given name and argument types. You might need to add explicit "
                        "type casts.");
    return -1;
}

/* array_to_string(arr, sep [, null_text]): elements' text forms joined by sep;
 * NULL elements are skipped unless null_text is given. */
BUILTIN_FN(bi_array_to_string)
{
    if (need_array(argtypes, "array_to_string", err) < 0)
        return -1;
    if (nargs == 3 && nulls[2]) {
        *isnull = true;      /* not strict: only a NULL separator / array gives NULL */
        return 0;
    }
    if (nulls[0] || nulls[1]) {
        *isnull = true;
        return 0;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_array_iter_t it;
    type_array_iter(&it, args[0]);
    datum_t e;
    bool en, first = true;
    while (type_array_next(&it, &e, &en)) {
        if (en && nargs < 3)
            continue;
        if (!first)
            strbuf_append(&sb, args[1].s->data, args[1].s->len);
        first = false;
        if (en)
            strbuf_append(&sb, args[2].s->data, args[2].s->len);
        else
            type_out_text(it.elem, -1, e, &sb);
        if (sb.len > LIMIT_TEXT_VALUE_BYTES)
            break;
    }
    int rc = sb.oom ? builtins__oom(err) : builtins__ret_str(ctx, sb.data ? sb.data : "", sb.len, out, err);
    strbuf_free(&sb);
    return rc;
}

/* array_length / array_upper (op 0) and array_lower (op 1) share the dimension rule. */
static int dim_fn(const type_oid_t *argtypes, const datum_t *args, const char *fname, bool lower, datum_t *out,
                  bool *isnull, sql_error_t *err)
{
    if (need_array(argtypes, fname, err) < 0)
        return -1;
    int n = type_array_count(args[0]);
    *isnull = args[1].i64 != 1 || n == 0;
    out->i64 = lower ? 1 : n;
    return 0;
}

BUILTIN_FN(bi_array_length) { return dim_fn(argtypes, args, "array_length", false, out, isnull, err); }
BUILTIN_FN(bi_array_upper) { return dim_fn(argtypes, args, "array_upper", false, out, isnull, err); }
BUILTIN_FN(bi_array_lower) { return dim_fn(argtypes, args, "array_lower", true, out, isnull, err); }

BUILTIN_FN(bi_cardinality)
{
    if (need_array(argtypes, "cardinality", err) < 0)
        return -1;
    out->i64 = type_array_count(args[0]);
    return 0;
}

/* array_position(arr, x): 1-based index of the first element equal to x (IS NOT
 * DISTINCT FROM, so a NULL x finds a NULL element), else NULL. Not strict. */
BUILTIN_FN(bi_array_position)
{
    *isnull = true;
    if (nulls[0])
        return 0;
    if (need_array(argtypes, "array_position", err) < 0)
        return -1;
    type_oid_t elem = type_array_elem(argtypes[0]);
    datum_t x = args[1];
    if (!nulls[1] && argtypes[1] != elem) {
        if (!type_can_cast(argtypes[1], elem, CAST_IMPLICIT)) {
            const type_info_t *a = type_lookup(argtypes[0]), *b = type_lookup(argtypes[1]);
            return sql_error(err, SQLSTATE_UNDEFINED_FUNCTION, "function array_position(%s, %s) does not exist",
                             a ? a->sql_name : "unknown", b ? b->sql_name : "unknown");
        }
        if (type_cast(argtypes[1], elem, -1, CAST_IMPLICIT, args[1], ctx->arena, &x, err) < 0)
            return -1;
    }
    type_array_iter_t it;
    type_array_iter(&it, args[0]);
    datum_t e;
    bool en;
    for (int64_t i = 1; type_array_next(&it, &e, &en); i++) {
        if (en != nulls[1] || (!en && type_cmp(elem, e, x) != 0))
            continue;
        out->i64 = i;
        *isnull = false;
        return 0;
    }
    return 0;
}

/* current_schemas(include_implicit): the effective search path as name[]. The
 * search path is pg_catalog (implicit) then public, as the binder resolves names. */
BUILTIN_FN(bi_current_schemas)
{
    vstr_t *pc = vstr_new(ctx->arena, "pg_catalog", 10), *pub = vstr_new(ctx->arena, "public", 6);
    if (!pc || !pub)
        return builtins__oom(err);
    datum_t v[2];
    int n = 0;
    if (args[0].i64)
        v[n++].s = pc;
    v[n++].s = pub;
    if (!(out->s = type_array_build(ctx->arena, TYPE_NAME, n, v, NULL)))
        return builtins__oom(err);
    return 0;
}

/* array_cat(a, b): the elements of a then those of b; a NULL side is ignored (not
 * strict, as in PostgreSQL). Both sides have the same array type (the binder casts). */
BUILTIN_FN(bi_array_cat)
{
    if (nulls[0] || nulls[1]) {
        *isnull = nulls[0] && nulls[1];
        *out = nulls[0] ? args[1] : args[0];
        return 0;
    }
    if (need_array(argtypes, "array_cat", err) < 0)
        return -1;
    int n = type_array_count(args[0]) + type_array_count(args[1]);
    datum_t *vals = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *vals);
    bool *en = arena_alloc(ctx->arena, (size_t)n + 1);
    if (!vals || !en)
        return builtins__oom(err);
    int k = 0;
    for (int side = 0; side < 2; side++) {
        type_array_iter_t it;
        type_array_iter(&it, args[side]);
        while (type_array_next(&it, &vals[k], &en[k]))
            k++;
    }
    if (!(out->s = type_array_build(ctx->arena, type_array_elem(argtypes[0]), n, vals, en)))
        return builtins__oom(err);
    return 0;
}
