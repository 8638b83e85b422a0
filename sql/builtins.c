/*
 * builtins.c -- the built-in function table and overload resolution (see builtins.h).
 *
 * The table holds PostgreSQL 15's pg_proc OIDs, argument/result types, strictness and
 * volatility for each overload (checked against a PostgreSQL 15 catalog). The catalog
 * module contributes a second table (builtins_catalog[], sql/builtins_catalog.c);
 * resolution, builtin_count and builtin_at cover both, ours first.
 *
 * Variadic entries (nargs == BUILTIN_VARIADIC) list their fixed leading argument
 * types in argtypes[] up to the first TYPE_INVALID; every argument from there on is
 * "any" (concat(VARIADIC "any"), concat_ws(text, VARIADIC "any")), and at least one
 * is required.
 *
 * Resolution follows PostgreSQL's func_select_candidate: exact match; else the
 * candidates every argument reaches by implicit cast; then keep those with the most
 * exact matches, then the most preferred types where coercion is needed, then resolve
 * unknown-literal positions by category (string category wins; a preferred type in
 * the chosen category wins), then assume unknowns are of the known arguments' common
 * type. More than one left is 42725, none 42883.
 */
#include "sql/builtins_int.h"

#include <string.h>

#include "core/assert.h"
#include "core/limits.h"

extern const builtin_t builtins_catalog[];
extern const int builtins_catalog_count;
extern const builtin_t builtins_vector[];      /* sql/builtins_vector.c */
extern const int builtins_vector_count;
extern const builtin_t builtins_time[];        /* sql/builtins_time.c */
extern const int builtins_time_count;
extern const builtin_t builtins_json[];        /* sql/builtins_json.c */
extern const int builtins_json_count;
extern const builtin_t builtins_bytea[];       /* sql/builtins_bytea.c */
extern const int builtins_bytea_count;
extern const builtin_t builtins_numeric[];     /* sql/builtins_numeric.c */
extern const int builtins_numeric_count;
extern const builtin_t builtins_more[];        /* sql/builtins_more.c */
extern const int builtins_more_count;
extern const builtin_t builtins_seq[];         /* sql/sequence.c */
extern const int builtins_seq_count;

#define T TYPE_TEXT
#define I4 TYPE_INT4
#define I8 TYPE_INT8
#define I2 TYPE_INT2
#define F4 TYPE_FLOAT4
#define F8 TYPE_FLOAT8
#define BP TYPE_BPCHAR
#define BY TYPE_BYTEA
#define TS TYPE_TIMESTAMP
#define TZ TYPE_TIMESTAMPTZ
#define ANY TYPE_INVALID
#define VAR BUILTIN_VARIADIC

static const builtin_t builtin_table[] = {
    /* name, pg_proc oid, nargs, argtypes, result, strict, volatility, fn */
    {"lower", 870, 1, {T}, T, true, 'i', bi_lower},
    {"upper", 871, 1, {T}, T, true, 'i', bi_upper},
    {"initcap", 872, 1, {T}, T, true, 'i', bi_initcap},
    {"length", 1317, 1, {T}, I4, true, 'i', bi_length},
    {"length", 1318, 1, {BP}, I4, true, 'i', bi_length_bpchar},
    {"length", 2010, 1, {BY}, I4, true, 'i', bi_length},
    {"char_length", 1381, 1, {T}, I4, true, 'i', bi_length},
    {"char_length", 1372, 1, {BP}, I4, true, 'i', bi_length_bpchar},
    {"character_length", 1369, 1, {T}, I4, true, 'i', bi_length},
    {"character_length", 1367, 1, {BP}, I4, true, 'i', bi_length_bpchar},
    {"octet_length", 1374, 1, {T}, I4, true, 'i', bi_octet_length},
    {"octet_length", 1375, 1, {BP}, I4, true, 'i', bi_octet_length},
    {"octet_length", 720, 1, {BY}, I4, true, 'i', bi_octet_length},
    {"substr", 877, 3, {T, I4, I4}, T, true, 'i', bi_substr},
    {"substr", 883, 2, {T, I4}, T, true, 'i', bi_substr},
    {"substr", 2085, 3, {BY, I4, I4}, BY, true, 'i', bi_substr_bytea},
    {"substr", 2086, 2, {BY, I4}, BY, true, 'i', bi_substr_bytea},
    {"substring", 936, 3, {T, I4, I4}, T, true, 'i', bi_substr},
    {"substring", 937, 2, {T, I4}, T, true, 'i', bi_substr},
    {"substring", 2012, 3, {BY, I4, I4}, BY, true, 'i', bi_substr_bytea},
    {"substring", 2013, 2, {BY, I4}, BY, true, 'i', bi_substr_bytea},
    {"position", 849, 2, {T, T}, I4, true, 'i', bi_strpos},
    {"position", 2014, 2, {BY, BY}, I4, true, 'i', bi_strpos},
    {"strpos", 868, 2, {T, T}, I4, true, 'i', bi_strpos},
    {"replace", 2087, 3, {T, T, T}, T, true, 'i', bi_replace},
    {"similar_to_escape", 1987, 1, {T}, T, true, 'i', bi_similar_to_escape},
    {"similar_to_escape", 1986, 2, {T, T}, T, true, 'i', bi_similar_to_escape},
    {"translate", 878, 3, {T, T, T}, T, true, 'i', bi_translate},
    {"btrim", 884, 2, {T, T}, T, true, 'i', bi_btrim},
    {"btrim", 885, 1, {T}, T, true, 'i', bi_btrim},
    {"ltrim", 875, 2, {T, T}, T, true, 'i', bi_ltrim},
    {"ltrim", 881, 1, {T}, T, true, 'i', bi_ltrim},
    {"rtrim", 876, 2, {T, T}, T, true, 'i', bi_rtrim},
    {"rtrim", 882, 1, {T}, T, true, 'i', bi_rtrim},
    {"lpad", 873, 3, {T, I4, T}, T, true, 'i', bi_lpad},
    {"lpad", 879, 2, {T, I4}, T, true, 'i', bi_lpad},
    {"rpad", 874, 3, {T, I4, T}, T, true, 'i', bi_rpad},
    {"rpad", 880, 2, {T, I4}, T, true, 'i', bi_rpad},
    {"left", 3060, 2, {T, I4}, T, true, 'i', bi_left},
    {"right", 3061, 2, {T, I4}, T, true, 'i', bi_right},
    {"repeat", 1622, 2, {T, I4}, T, true, 'i', bi_repeat},
    {"reverse", 3062, 1, {T}, T, true, 'i', bi_reverse},
    {"concat", 3058, VAR, {ANY}, T, false, 's', bi_concat},
    {"concat_ws", 3059, VAR, {T, ANY}, T, false, 's', bi_concat_ws},
    {"split_part", 2088, 3, {T, T, I4}, T, true, 'i', bi_split_part},
    {"starts_with", 3696, 2, {T, T}, TYPE_BOOL, true, 'i', bi_starts_with},
    {"md5", 2311, 1, {T}, T, true, 'i', bi_md5},
    {"md5", 2321, 1, {BY}, T, true, 'i', bi_md5},
    {"to_hex", 2089, 1, {I4}, T, true, 'i', bi_to_hex32},
    {"to_hex", 2090, 1, {I8}, T, true, 'i', bi_to_hex64},
    {"chr", 1621, 1, {I4}, T, true, 'i', bi_chr},
    {"ascii", 1620, 1, {T}, I4, true, 'i', bi_ascii},
    {"quote_literal", 1283, 1, {T}, T, true, 'i', bi_quote_literal},

    {"abs", 1394, 1, {F4}, F4, true, 'i', bi_abs_float},
    {"abs", 1395, 1, {F8}, F8, true, 'i', bi_abs_float},
    {"abs", 1396, 1, {I8}, I8, true, 'i', bi_abs_int},
    {"abs", 1397, 1, {I4}, I4, true, 'i', bi_abs_int},
    {"abs", 1398, 1, {I2}, I2, true, 'i', bi_abs_int},
    {"round", 1342, 1, {F8}, F8, true, 'i', bi_round},
    {"ceil", 2308, 1, {F8}, F8, true, 'i', bi_ceil},
    {"ceiling", 2320, 1, {F8}, F8, true, 'i', bi_ceil},
    {"floor", 2309, 1, {F8}, F8, true, 'i', bi_floor},
    {"trunc", 1343, 1, {F8}, F8, true, 'i', bi_trunc},
    {"sqrt", 1344, 1, {F8}, F8, true, 'i', bi_sqrt},
    {"cbrt", 1345, 1, {F8}, F8, true, 'i', bi_cbrt},
    {"power", 1368, 2, {F8, F8}, F8, true, 'i', bi_power},
    {"pow", 1346, 2, {F8, F8}, F8, true, 'i', bi_power},
    {"exp", 1347, 1, {F8}, F8, true, 'i', bi_exp},
    {"ln", 1341, 1, {F8}, F8, true, 'i', bi_ln},
    {"log", 1340, 1, {F8}, F8, true, 'i', bi_log10},
    {"log10", 1194, 1, {F8}, F8, true, 'i', bi_log10},
    {"mod", 940, 2, {I2, I2}, I2, true, 'i', bi_mod},
    {"mod", 941, 2, {I4, I4}, I4, true, 'i', bi_mod},
    {"mod", 947, 2, {I8, I8}, I8, true, 'i', bi_mod},
    {"sign", 2310, 1, {F8}, F8, true, 'i', bi_sign},
    {"random", 1598, 0, {0}, F8, true, 'v', bi_random},
    {"pi", 1610, 0, {0}, F8, true, 'i', bi_pi},
    {"degrees", 1608, 1, {F8}, F8, true, 'i', bi_degrees},
    {"radians", 1609, 1, {F8}, F8, true, 'i', bi_radians},

    {"now", 1299, 0, {0}, TZ, true, 's', bi_now},
    {"transaction_timestamp", 2647, 0, {0}, TZ, true, 's', bi_now},
    {"statement_timestamp", 2648, 0, {0}, TZ, true, 's', bi_statement_timestamp},
    {"clock_timestamp", 2649, 0, {0}, TZ, true, 'v', bi_clock_timestamp},
    {"date_trunc", 2020, 2, {T, TS}, TS, true, 'i', bi_date_trunc},
    {"date_trunc", 1217, 2, {T, TZ}, TZ, true, 's', bi_date_trunc},
    {"date_part", 2021, 2, {T, TS}, F8, true, 'i', bi_date_part},
    {"date_part", 1171, 2, {T, TZ}, F8, true, 's', bi_date_part},
    {"date_part", 1384, 2, {T, TYPE_DATE}, F8, true, 'i', bi_date_part},

    {"version", 89, 0, {0}, T, true, 's', bi_version},
    {"current_database", 861, 0, {0}, TYPE_NAME, true, 's', bi_current_database},
    {"current_user", 745, 0, {0}, TYPE_NAME, true, 's', bi_current_user},
    {"session_user", 746, 0, {0}, TYPE_NAME, true, 's', bi_current_user},

    /* arrays (builtins_array.c): the array argument is "any", checked by the function */
    {"array_to_string", 395, 2, {ANY, T}, T, true, 's', bi_array_to_string},
    {"array_to_string", 384, 3, {ANY, T, T}, T, false, 's', bi_array_to_string},
    {"array_length", 2176, 2, {ANY, I4}, I4, true, 'i', bi_array_length},
    {"array_upper", 2092, 2, {ANY, I4}, I4, true, 'i', bi_array_upper},
    {"array_lower", 2091, 2, {ANY, I4}, I4, true, 'i', bi_array_lower},
    {"cardinality", 3179, 1, {ANY}, I4, true, 'i', bi_cardinality},
    {"array_cat", 383, 2, {ANY, ANY}, ANY, false, 'i', bi_array_cat},
    {"array_position", 3277, 2, {ANY, ANY}, I4, false, 'i', bi_array_position},
    {"current_schemas", 1403, 1, {TYPE_BOOL}, TYPE_NAMEARRAY, true, 's', bi_current_schemas},
};
#define BUILTIN_TABLE_COUNT ((int)(sizeof builtin_table / sizeof builtin_table[0]))

int builtin_count(void)
{
    return BUILTIN_TABLE_COUNT + builtins_catalog_count + builtins_vector_count + builtins_json_count +
           builtins_bytea_count + builtins_numeric_count + builtins_seq_count + builtins_time_count +
           builtins_more_count;
}

const builtin_t *builtin_at(int i)
{
    ASSERT(i >= 0 && i < builtin_count());
    if (i < BUILTIN_TABLE_COUNT)
        return &builtin_table[i];
    i -= BUILTIN_TABLE_COUNT;
    if (i < builtins_catalog_count) return &builtins_catalog[i];
    i -= builtins_catalog_count;
    if (i < builtins_vector_count) return &builtins_vector[i];
    i -= builtins_vector_count;
    if (i < builtins_json_count) return &builtins_json[i];
    i -= builtins_json_count;
    if (i < builtins_bytea_count) return &builtins_bytea[i];
    i -= builtins_bytea_count;
    if (i < builtins_numeric_count) return &builtins_numeric[i];
    i -= builtins_numeric_count;
    if (i < builtins_more_count) return &builtins_more[i];
    i -= builtins_more_count;
    return i < builtins_seq_count ? &builtins_seq[i] : &builtins_time[i - builtins_seq_count];
}

/* Number of fixed leading arguments of a variadic entry. */
static int variadic_fixed(const builtin_t *b)
{
    int k = 0;
    while (k < BUILTIN_ARGS_MAX && b->argtypes[k] != TYPE_INVALID) k++;
    return k;
}

/* Declared type of argument i (TYPE_INVALID = "any"). */
static type_oid_t decl_type(const builtin_t *b, int i)
{
    if (b->nargs == BUILTIN_VARIADIC && i >= variadic_fixed(b)) return TYPE_INVALID;
    return b->argtypes[i];
}

static bool arity_ok(const builtin_t *b, int nargs)
{
    return b->nargs == BUILTIN_VARIADIC ? nargs > variadic_fixed(b) : b->nargs == nargs;
}

static bool is_preferred(type_oid_t t)
{
    const type_info_t *ti = type_lookup(t);
    return ti && ti->preferred;
}

static char category_of(type_oid_t t)
{
    const type_info_t *ti = type_lookup(t);
    return ti ? ti->category : 'P';      /* "any" is a pseudo-type */
}

static int fail_no_function(const char *name, int nargs, const type_oid_t *argtypes, sql_error_t *err,
                            const char *state)
{
    strbuf_t sb;
    strbuf_init(&sb);
    for (int i = 0; i < nargs; i++) {
        if (i) strbuf_puts(&sb, ", ");
        type_format(argtypes[i], -1, &sb);
    }
    bool unique = !strcmp(state, "42725");
    sql_error(err, state, "function %s(%s) %s", name, sb.data ? sb.data : "",
              unique ? "is not unique" : "does not exist");
    sql_error_hint(err, unique ? "Could not choose a best candidate function. You might need to add explicit type casts."
                               : "No function matches the given name and argument types. You might need to add explicit type casts.");
    strbuf_free(&sb);
    return -1;
}

static void fill_casts(const builtin_t *b, int nargs, const type_oid_t *argtypes, type_oid_t *cast_to)
{
    for (int i = 0; i < nargs; i++) {
        type_oid_t d = decl_type(b, i);
        cast_to[i] = d != TYPE_INVALID ? d : argtypes[i] == TYPE_UNKNOWN ? TYPE_TEXT : argtypes[i];
    }
}

/* Keeps the candidates with the highest score; returns the new count. */
static int keep_best(const builtin_t **c, int n, const int *score)
{
    int best = -1, k = 0;
    for (int i = 0; i < n; i++) if (score[i] > best) best = score[i];
    const builtin_t *tmp[LIMIT_FUNC_CANDIDATES];
    for (int i = 0; i < n; i++) if (score[i] == best) tmp[k++] = c[i];
    memcpy(c, tmp, (size_t)k * sizeof *c);
    return k;
}

/* PostgreSQL's unknown-literal step: per unknown position choose a category (string
 * wins) and, if some candidate has a preferred type there, that type. */
static int resolve_unknowns(const builtin_t **c, int n, int nargs, const type_oid_t *argtypes)
{
    for (int i = 0; i < nargs; i++) {
        if (argtypes[i] != TYPE_UNKNOWN) continue;
        char cat = 0;
        bool pref = false;
        for (int j = 0; j < n; j++) {
            type_oid_t d = decl_type(c[j], i);
            char cj = category_of(d);
            if (j == 0) { cat = cj; pref = is_preferred(d); }
            else if (cj == cat) pref |= is_preferred(d);
            else if (cj == 'S') { cat = 'S'; pref = is_preferred(d); }
            else if (cat != 'S') return n;          /* conflicting categories: give up */
        }
        int k = 0;
        for (int j = 0; j < n; j++) {
            type_oid_t d = decl_type(c[j], i);
            if (category_of(d) == cat && (!pref || is_preferred(d))) c[k++] = c[j];
        }
        n = k;
    }
    return n;
}

const builtin_t *builtin_resolve(const char *name, int nargs, const type_oid_t *argtypes,
                                 type_oid_t *cast_to, sql_error_t *err)
{
    ASSERT(nargs >= 0);
    if (nargs > LIMIT_FUNC_ARGS) {
        sql_error(err, "54023", "cannot pass more than %d arguments to a function",
                  LIMIT_FUNC_ARGS);
        return NULL;
    }
    const builtin_t *c[LIMIT_FUNC_CANDIDATES];
    int n = 0, total = builtin_count();
    for (int i = 0; i < total; i++) {
        const builtin_t *b = builtin_at(i);
        if (strcmp(b->name, name) || !arity_ok(b, nargs)) continue;
        bool exact = true, ok = true;
        for (int a = 0; a < nargs && ok; a++) {
            type_oid_t d = decl_type(b, a);
            if (d == TYPE_INVALID) { exact &= argtypes[a] != TYPE_UNKNOWN; continue; }
            if (argtypes[a] == d) continue;
            exact = false;
            ok = argtypes[a] == TYPE_UNKNOWN || type_can_cast(argtypes[a], d, CAST_IMPLICIT);
        }
        if (exact) { fill_casts(b, nargs, argtypes, cast_to); return b; }
        if (ok && n < LIMIT_FUNC_CANDIDATES) c[n++] = b;
    }
    int score[LIMIT_FUNC_CANDIDATES];
    if (n > 1) {      /* most exact matches on known arguments */
        for (int j = 0; j < n; j++) {
            score[j] = 0;
            for (int a = 0; a < nargs; a++) score[j] += argtypes[a] != TYPE_UNKNOWN && decl_type(c[j], a) == argtypes[a];
        }
        n = keep_best(c, n, score);
    }
    if (n > 1) {      /* most preferred types where a known argument needs coercion */
        for (int j = 0; j < n; j++) {
            score[j] = 0;
            for (int a = 0; a < nargs; a++) {
                type_oid_t d = decl_type(c[j], a);
                score[j] += argtypes[a] != TYPE_UNKNOWN && d != argtypes[a] && is_preferred(d);
            }
        }
        n = keep_best(c, n, score);
    }
    if (n > 1) n = resolve_unknowns(c, n, nargs, argtypes);
    if (n > 1) {      /* unknowns taken as the type shared by every known argument */
        type_oid_t known = TYPE_INVALID;
        bool same = true;
        for (int a = 0; a < nargs; a++) {
            if (argtypes[a] == TYPE_UNKNOWN) continue;
            if (known != TYPE_INVALID && known != argtypes[a]) same = false;
            known = argtypes[a];
        }
        if (same && known != TYPE_INVALID) {
            int k = 0;
            for (int j = 0; j < n; j++) {
                bool fits = true;
                for (int a = 0; a < nargs; a++)
                    if (argtypes[a] == TYPE_UNKNOWN && decl_type(c[j], a) != TYPE_INVALID &&
                        !type_can_cast(known, decl_type(c[j], a), CAST_IMPLICIT))
                        fits = false;
                if (fits) c[k++] = c[j];
            }
            if (k == 1) n = 1;
        }
    }
    if (n == 1) { fill_casts(c[0], nargs, argtypes, cast_to); return c[0]; }
    fail_no_function(name, nargs, argtypes, err, n == 0 ? SQLSTATE_UNDEFINED_FUNCTION : "42725");
    return NULL;
}
