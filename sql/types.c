/*
 * types.c -- the type table (PostgreSQL 15's pg_type facts for the supported types),
 * name lookup, format_type, comparison, hashing, casts (pg_cast rules) and checked
 * arithmetic. Text/binary forms live in types_io.c, storage encodings in types_enc.c.
 */
#include "sql/types_int.h"

#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "sql/types_time.h"
#include "sql/types_json.h"
#include "sql/types_uuid.h"
#include "sql/types_vector.h"
#include "sql/numeric.h"

/* pg_type rows, values copied from PostgreSQL 15's catalog (checked with psql). */
static const type_info_t type_table[] = {
    /* oid, typname, format_type, typlen, byval, category, align, typarray, elem, preferred */
    {TYPE_BOOL, "bool", "boolean", 1, true, 'B', 'c', 1000, 0, true},
    {TYPE_BYTEA, "bytea", "bytea", -1, false, 'U', 'i', 1001, 0, false},
    {TYPE_CHAR, "char", "\"char\"", 1, true, 'Z', 'c', 1002, 0, false},
    {TYPE_NAME, "name", "name", 64, false, 'S', 'c', 1003, 18, false},
    {TYPE_INT8, "int8", "bigint", 8, true, 'N', 'd', 1016, 0, false},
    {TYPE_INT2, "int2", "smallint", 2, true, 'N', 's', 1005, 0, false},
    {TYPE_INT2VECTOR, "int2vector", "int2vector", -1, false, 'A', 'i', 1006, 21, false},
    {TYPE_INT4, "int4", "integer", 4, true, 'N', 'i', 1007, 0, false},
    {TYPE_REGPROC, "regproc", "regproc", 4, true, 'N', 'i', 1008, 0, false},
    {TYPE_TEXT, "text", "text", -1, false, 'S', 'i', 1009, 0, true},
    {TYPE_OID, "oid", "oid", 4, true, 'N', 'i', 1028, 0, true},
    {TYPE_OIDVECTOR, "oidvector", "oidvector", -1, false, 'A', 'i', 1013, 26, false},
    {TYPE_FLOAT4, "float4", "real", 4, true, 'N', 'i', 1021, 0, false},
    {TYPE_FLOAT8, "float8", "double precision", 8, true, 'N', 'd', 1022, 0, true},
    {TYPE_UNKNOWN, "unknown", "unknown", -2, false, 'X', 'c', 0, 0, false},
    {TYPE_CHARARRAY, "_char", "\"char\"[]", -1, false, 'A', 'i', 0, 18, false},
    {TYPE_NAMEARRAY, "_name", "name[]", -1, false, 'A', 'i', 0, 19, false},
    {TYPE_INT2ARRAY, "_int2", "smallint[]", -1, false, 'A', 'i', 0, 21, false},
    {TYPE_INT4ARRAY, "_int4", "integer[]", -1, false, 'A', 'i', 0, 23, false},
    {TYPE_TEXTARRAY, "_text", "text[]", -1, false, 'A', 'i', 0, 25, false},
    {TYPE_OIDARRAY, "_oid", "oid[]", -1, false, 'A', 'i', 0, 26, false},
    {1000, "_bool", "boolean[]", -1, false, 'A', 'i', 0, TYPE_BOOL, false},
    {1016, "_int8", "bigint[]", -1, false, 'A', 'd', 0, TYPE_INT8, false},
    {1021, "_float4", "real[]", -1, false, 'A', 'i', 0, TYPE_FLOAT4, false},
    {1022, "_float8", "double precision[]", -1, false, 'A', 'd', 0, TYPE_FLOAT8, false},
    {1015, "_varchar", "character varying[]", -1, false, 'A', 'i', 0, TYPE_VARCHAR, false},
    {1014, "_bpchar", "character[]", -1, false, 'A', 'i', 0, TYPE_BPCHAR, false},
    {TYPE_BPCHAR, "bpchar", "character", -1, false, 'S', 'i', 1014, 0, false},
    {TYPE_VARCHAR, "varchar", "character varying", -1, false, 'S', 'i', 1015, 0, false},
    {TYPE_DATE, "date", "date", 4, true, 'D', 'i', 1182, 0, false},
    {TYPE_TIMESTAMP, "timestamp", "timestamp without time zone", 8, true, 'D', 'd', 1115, 0, false},
    {TYPE_TIMESTAMPTZ, "timestamptz", "timestamp with time zone", 8, true, 'D', 'd', 1185, 0, true},
    {TYPE_TIME, "time", "time without time zone", 8, true, 'D', 'd', 1183, 0, false},
    {TYPE_INTERVAL, "interval", "interval", 16, false, 'T', 'd', 1187, 0, true},
    {TYPE_NUMERIC, "numeric", "numeric", -1, false, 'N', 'i', 1231, 0, false},
    {TYPE_REGCLASS, "regclass", "regclass", 4, true, 'N', 'i', 2210, 0, false},
    {TYPE_REGTYPE, "regtype", "regtype", 4, true, 'N', 'i', 2211, 0, false},
    {TYPE_REGNAMESPACE, "regnamespace", "regnamespace", 4, true, 'N', 'i', 4090, 0, false},
    {TYPE_VOID, "void", "void", 4, true, 'P', 'i', 0, 0, false},
    {TYPE_VECTOR, "vector", "vector", -1, false, 'U', 'i', 0, 0, false},   /* pgvector */
    {TYPE_JSON, "json", "json", -1, false, 'U', 'i', TYPE_JSONARRAY, 0, false},     /* types_json.c */
    {TYPE_JSONB, "jsonb", "jsonb", -1, false, 'U', 'i', TYPE_JSONBARRAY, 0, false},
    {TYPE_UUID, "uuid", "uuid", 16, false, 'U', 'c', 2951, 0, false},               /* types_uuid.c */
    {TYPE_JSONARRAY, "_json", "json[]", -1, false, 'A', 'i', 0, TYPE_JSON, false},
    {TYPE_JSONBARRAY, "_jsonb", "jsonb[]", -1, false, 'A', 'i', 0, TYPE_JSONB, false},
    {2951, "_uuid", "uuid[]", -1, false, 'A', 'i', 0, TYPE_UUID, false},
    {1231, "_numeric", "numeric[]", -1, false, 'A', 'i', 0, TYPE_NUMERIC, false},
};
#define TYPE_TABLE_COUNT ((int)(sizeof type_table / sizeof type_table[0]))

/* SQL spellings the grammar may deliver, beyond pg_type.typname. */
static const struct { const char *name; type_oid_t oid; } type_aliases[] = {
    {"integer", TYPE_INT4}, {"int", TYPE_INT4}, {"bigint", TYPE_INT8}, {"smallint", TYPE_INT2},
    {"double precision", TYPE_FLOAT8}, {"float", TYPE_FLOAT8}, {"real", TYPE_FLOAT4},
    {"character varying", TYPE_VARCHAR}, {"character", TYPE_BPCHAR}, {"boolean", TYPE_BOOL},
    {"timestamp without time zone", TYPE_TIMESTAMP}, {"timestamp with time zone", TYPE_TIMESTAMPTZ},
    {"time without time zone", TYPE_TIME},
    {"decimal", TYPE_NUMERIC}, {"\"char\"", TYPE_CHAR},
};

const type_info_t *type_lookup(type_oid_t oid)
{
    for (int i = 0; i < TYPE_TABLE_COUNT; i++)
        if (type_table[i].oid == oid)
            return &type_table[i];
    return NULL;
}

const type_info_t *type_lookup_name(const char *name)
{
    if (!strncmp(name, "pg_catalog.", 11))
        name += 11;
    for (int i = 0; i < TYPE_TABLE_COUNT; i++)
        if (!strcmp(type_table[i].name, name))
            return &type_table[i];
    for (size_t i = 0; i < sizeof type_aliases / sizeof type_aliases[0]; i++)
        if (!strcmp(type_aliases[i].name, name))
            return type_lookup(type_aliases[i].oid);
    return NULL;
}

int type_info_count(void) { return TYPE_TABLE_COUNT; }

const type_info_t *type_info_at(int i)
{
    ASSERT(i >= 0 && i < TYPE_TABLE_COUNT);
    return &type_table[i];
}

const char *types__sql_name(type_oid_t t)
{
    const type_info_t *ti = type_lookup(t);
    return ti ? ti->sql_name : "???";
}

void type_format(type_oid_t oid, int32_t typmod, strbuf_t *out)
{
    const type_info_t *ti = type_lookup(oid);
    if (!ti) { strbuf_puts(out, "???"); return; }
    if (oid == TYPE_VARCHAR && typmod >= 4)
        strbuf_printf(out, "character varying(%d)", typmod - 4);
    else if (oid == TYPE_BPCHAR)
        strbuf_printf(out, typmod >= 4 ? "character(%d)" : "bpchar", typmod - 4);
    else if ((oid == TYPE_TIMESTAMP || oid == TYPE_TIMESTAMPTZ) && typmod >= 0)
        strbuf_printf(out, "timestamp(%d) with%s time zone", typmod, oid == TYPE_TIMESTAMP ? "out" : "");
    else if (oid == TYPE_TIME && typmod >= 0)
        strbuf_printf(out, "time(%d) without time zone", typmod);
    else if (oid == TYPE_VECTOR && typmod >= 0)
        strbuf_printf(out, "vector(%d)", typmod);
    else if (oid == TYPE_NUMERIC && typmod >= 4)
        numeric_typmod_format(typmod, out);
    else
        strbuf_puts(out, ti->sql_name);
}

bool types__is_string(type_oid_t t)
{
    return t == TYPE_TEXT || t == TYPE_VARCHAR || t == TYPE_BPCHAR || t == TYPE_NAME ||
           t == TYPE_UNKNOWN;
}

static bool is_int(type_oid_t t) { return t == TYPE_INT2 || t == TYPE_INT4 || t == TYPE_INT8; }
static bool is_float(type_oid_t t) { return t == TYPE_FLOAT4 || t == TYPE_FLOAT8; }
static bool is_oidlike(type_oid_t t)
{
    return t == TYPE_OID || t == TYPE_REGCLASS || t == TYPE_REGTYPE || t == TYPE_REGPROC || t == TYPE_REGNAMESPACE;
}

/* ---- comparison and hashing ---- */

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c) return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

int type_cmp(type_oid_t t, datum_t a, datum_t b)
{
    if (is_float(t)) {
        bool an = isnan(a.f64), bn = isnan(b.f64);
        if (an || bn) return an && bn ? 0 : an ? 1 : -1;
        return a.f64 < b.f64 ? -1 : a.f64 > b.f64;
    }
    if (t == TYPE_BPCHAR)
        return cmp_bytes(a.s->data, types__trim_bpchar(a.s->data, a.s->len), b.s->data,
                         types__trim_bpchar(b.s->data, b.s->len));
    if (t == TYPE_JSONB)
        return type_jsonb_cmp(a, b);
    if (types__is_string(t) || t == TYPE_BYTEA || t == TYPE_UUID || t == TYPE_JSON)
        return cmp_bytes(a.s->data, a.s->len, b.s->data, b.s->len);
    if (type_is_array(t))
        return type_array_cmp(a, b);
    if (t == TYPE_VECTOR)
        return type_vector_cmp(a, b);
    if (t == TYPE_NUMERIC)
        return numeric_cmp(a, b);
    if (t == TYPE_INTERVAL)
        return types_interval_cmp(a, b);
    return a.i64 < b.i64 ? -1 : a.i64 > b.i64;
}

uint64_t types__hash_u64(uint64_t v)
{
    /* splitmix64's finalizer: a bijection with good avalanche. */
    v ^= v >> 30;
    v *= UINT64_C(0xbf58476d1ce4e5b9);
    v ^= v >> 27;
    v *= UINT64_C(0x94d049bb133111eb);
    v ^= v >> 31;
    return v;
}

uint64_t types__hash_bytes(const void *p, size_t len, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = seed ^ (len * UINT64_C(0x9e3779b97f4a7c15));
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);       /* little-endian on every target we build for */
        h ^= types__hash_u64(w);
        h = ((h << 27) | (h >> 37)) * UINT64_C(0x9e3779b97f4a7c15) + UINT64_C(0x52dce729);
    }
    uint64_t w = 0;
    for (size_t k = 0; i + k < len; k++)
        w |= (uint64_t)b[i + k] << (8 * k);
    h ^= types__hash_u64(w ^ UINT64_C(0x27d4eb2f165667c5));
    return types__hash_u64(h);
}

uint64_t type_hash(type_oid_t t, datum_t d)
{
    if (is_float(t)) {
        double v = d.f64;
        if (v == 0) v = 0;               /* -0 hashes like 0 */
        if (isnan(v)) v = NAN;           /* every NaN alike */
        uint64_t u;
        memcpy(&u, &v, 8);
        return types__hash_u64(u);
    }
    if (t == TYPE_BPCHAR)
        return types__hash_bytes(d.s->data, types__trim_bpchar(d.s->data, d.s->len), 0);
    if (t == TYPE_JSONB)
        return type_jsonb_hash(d);
    if (types__is_string(t) || t == TYPE_BYTEA || t == TYPE_UUID || t == TYPE_JSON)
        return types__hash_bytes(d.s->data, d.s->len, 0);
    if (type_is_array(t))
        return type_array_hash(d);
    if (t == TYPE_VECTOR)
        return type_vector_hash(d);
    if (t == TYPE_NUMERIC)
        return numeric_hash(d);
    if (t == TYPE_INTERVAL)
        return types_interval_hash(d);
    return types__hash_u64((uint64_t)d.i64);
}

/* ---- casts ---- */

/* pg_cast rows among the supported types (PostgreSQL 15; 'i'/'a'/'e' contexts).
 * Casts to and from string types by I/O conversion are handled by rule below. */
static const struct { type_oid_t from, to; char ctx; } cast_table[] = {
    {TYPE_BOOL, TYPE_INT4, 'e'}, {TYPE_CHAR, TYPE_INT4, 'e'}, {TYPE_CHAR, TYPE_TEXT, 'i'},
    {TYPE_NAME, TYPE_TEXT, 'i'}, {TYPE_INT8, TYPE_INT2, 'a'}, {TYPE_INT8, TYPE_INT4, 'a'},
    {TYPE_INT8, TYPE_OID, 'i'}, {TYPE_INT8, TYPE_FLOAT4, 'i'}, {TYPE_INT8, TYPE_FLOAT8, 'i'},
    {TYPE_INT8, TYPE_REGCLASS, 'i'}, {TYPE_INT2, TYPE_INT8, 'i'}, {TYPE_INT2, TYPE_INT4, 'i'},
    {TYPE_INT2, TYPE_OID, 'i'}, {TYPE_INT2, TYPE_FLOAT4, 'i'}, {TYPE_INT2, TYPE_FLOAT8, 'i'},
    {TYPE_INT2, TYPE_REGCLASS, 'i'}, {TYPE_INT4, TYPE_BOOL, 'e'}, {TYPE_INT4, TYPE_CHAR, 'e'},
    {TYPE_INT4, TYPE_INT8, 'i'}, {TYPE_INT4, TYPE_INT2, 'a'}, {TYPE_INT4, TYPE_OID, 'i'},
    {TYPE_INT4, TYPE_FLOAT4, 'i'}, {TYPE_INT4, TYPE_FLOAT8, 'i'}, {TYPE_INT4, TYPE_REGCLASS, 'i'},
    {TYPE_TEXT, TYPE_CHAR, 'a'}, {TYPE_TEXT, TYPE_NAME, 'i'}, {TYPE_TEXT, TYPE_BPCHAR, 'i'},
    {TYPE_TEXT, TYPE_VARCHAR, 'i'}, {TYPE_TEXT, TYPE_REGCLASS, 'i'}, {TYPE_OID, TYPE_INT8, 'a'},
    {TYPE_OID, TYPE_INT4, 'a'}, {TYPE_OID, TYPE_REGCLASS, 'i'}, {TYPE_FLOAT4, TYPE_INT8, 'a'},
    {TYPE_FLOAT4, TYPE_INT2, 'a'}, {TYPE_FLOAT4, TYPE_INT4, 'a'}, {TYPE_FLOAT4, TYPE_FLOAT8, 'i'},
    {TYPE_FLOAT8, TYPE_INT8, 'a'}, {TYPE_FLOAT8, TYPE_INT2, 'a'}, {TYPE_FLOAT8, TYPE_INT4, 'a'},
    {TYPE_FLOAT8, TYPE_FLOAT4, 'a'}, {TYPE_BPCHAR, TYPE_CHAR, 'a'}, {TYPE_BPCHAR, TYPE_NAME, 'i'},
    {TYPE_BPCHAR, TYPE_TEXT, 'i'}, {TYPE_BPCHAR, TYPE_VARCHAR, 'i'}, {TYPE_VARCHAR, TYPE_CHAR, 'a'},
    {TYPE_VARCHAR, TYPE_NAME, 'i'}, {TYPE_VARCHAR, TYPE_TEXT, 'i'}, {TYPE_VARCHAR, TYPE_BPCHAR, 'i'},
    {TYPE_VARCHAR, TYPE_REGCLASS, 'i'}, {TYPE_DATE, TYPE_TIMESTAMP, 'i'},
    {TYPE_DATE, TYPE_TIMESTAMPTZ, 'i'}, {TYPE_TIMESTAMP, TYPE_DATE, 'a'},
    {TYPE_TIMESTAMP, TYPE_TIMESTAMPTZ, 'i'}, {TYPE_TIMESTAMPTZ, TYPE_DATE, 'a'},
    {TYPE_TIMESTAMPTZ, TYPE_TIMESTAMP, 'a'}, {TYPE_TIMESTAMP, TYPE_TIME, 'a'},
    {TYPE_TIMESTAMPTZ, TYPE_TIME, 'a'}, {TYPE_TIME, TYPE_INTERVAL, 'i'}, {TYPE_INTERVAL, TYPE_TIME, 'a'},
    {TYPE_REGCLASS, TYPE_INT8, 'a'},
    {TYPE_REGCLASS, TYPE_INT4, 'a'}, {TYPE_REGCLASS, TYPE_OID, 'i'},
    {TYPE_OID, TYPE_REGTYPE, 'i'}, {TYPE_REGTYPE, TYPE_OID, 'i'}, {TYPE_INT4, TYPE_REGTYPE, 'i'},
    {TYPE_INT8, TYPE_REGTYPE, 'i'}, {TYPE_REGTYPE, TYPE_INT4, 'a'}, {TYPE_REGTYPE, TYPE_INT8, 'a'},
    {TYPE_OID, TYPE_REGPROC, 'i'}, {TYPE_REGPROC, TYPE_OID, 'i'},
    /* numeric (pg_cast): ints -> numeric implicit, numeric -> floats implicit, the
     * reverse directions by assignment */
    {TYPE_INT2, TYPE_NUMERIC, 'i'}, {TYPE_INT4, TYPE_NUMERIC, 'i'}, {TYPE_INT8, TYPE_NUMERIC, 'i'},
    {TYPE_NUMERIC, TYPE_INT2, 'a'}, {TYPE_NUMERIC, TYPE_INT4, 'a'}, {TYPE_NUMERIC, TYPE_INT8, 'a'},
    {TYPE_NUMERIC, TYPE_FLOAT4, 'i'}, {TYPE_NUMERIC, TYPE_FLOAT8, 'i'},
    {TYPE_FLOAT4, TYPE_NUMERIC, 'a'}, {TYPE_FLOAT8, TYPE_NUMERIC, 'a'},
    {TYPE_OID, TYPE_REGNAMESPACE, 'i'}, {TYPE_REGNAMESPACE, TYPE_OID, 'i'}, {TYPE_INT4, TYPE_REGNAMESPACE, 'i'},
    {TYPE_INT8, TYPE_REGNAMESPACE, 'i'}, {TYPE_REGNAMESPACE, TYPE_INT4, 'a'}, {TYPE_REGNAMESPACE, TYPE_INT8, 'a'},
    /* json / jsonb (types_json.c) */
    {TYPE_JSON, TYPE_JSONB, 'a'}, {TYPE_JSONB, TYPE_JSON, 'a'}, {TYPE_JSONB, TYPE_BOOL, 'e'},
    {TYPE_JSONB, TYPE_INT2, 'e'}, {TYPE_JSONB, TYPE_INT4, 'e'}, {TYPE_JSONB, TYPE_INT8, 'e'},
    {TYPE_JSONB, TYPE_FLOAT4, 'e'}, {TYPE_JSONB, TYPE_FLOAT8, 'e'}, {TYPE_JSONB, TYPE_NUMERIC, 'e'},
};

static bool has_io(type_oid_t t) { return type_has_binary(t) && t != TYPE_VOID; }

/* String category targets of automatic I/O conversion casts (text, varchar, bpchar,
 * name); unknown is a source only. */
static bool is_string_target(type_oid_t t) { return types__is_string(t) && t != TYPE_UNKNOWN; }

bool type_can_cast(type_oid_t from, type_oid_t to, int ctx)
{
    if (from == to || from == TYPE_UNKNOWN)
        return has_io(to) || from == to;
    int vneed;
    if (type_vector_array_cast(from, to, &vneed))      /* pgvector's array casts */
        return ctx >= vneed;
    if (type_is_array(from) && type_is_array(to))
        return type_can_cast(type_array_elem(from), type_array_elem(to), ctx);   /* element-wise */
    for (size_t i = 0; i < sizeof cast_table / sizeof cast_table[0]; i++) {
        if (cast_table[i].from == from && cast_table[i].to == to) {
            int need = cast_table[i].ctx == 'i' ? CAST_IMPLICIT
                       : cast_table[i].ctx == 'a' ? CAST_ASSIGNMENT : CAST_EXPLICIT;
            return ctx >= need;
        }
    }
    if (!has_io(from) || !has_io(to))
        return false;
    if (is_string_target(to))
        return ctx >= CAST_ASSIGNMENT;
    if (is_string_target(from))
        return ctx >= CAST_EXPLICIT;
    return false;
}

static int int_range_error(type_oid_t t, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "%s out of range",
                     t == TYPE_INT2 ? "smallint" : t == TYPE_INT4 ? "integer" : "bigint");
}

static int int_fit(type_oid_t t, int64_t v, datum_t *out, sql_error_t *err)
{
    if ((t == TYPE_INT2 && (v < INT16_MIN || v > INT16_MAX)) ||
        (t == TYPE_INT4 && (v < INT32_MIN || v > INT32_MAX)))
        return int_range_error(t, err);
    out->i64 = v;
    return 0;
}

/* float -> int: round half to even (rint in the default rounding mode), then range. */
static int float_to_int(type_oid_t t, double v, datum_t *out, sql_error_t *err)
{
    double r = rint(v);
    double lo = t == TYPE_INT2 ? INT16_MIN : t == TYPE_INT4 ? INT32_MIN : (double)INT64_MIN;
    if (isnan(r) || r < lo || r >= -lo)
        return int_range_error(t, err);
    return int_fit(t, (int64_t)r, out, err);
}

static int float8_to_float4(double v, datum_t *out, sql_error_t *err)
{
    float f = (float)v;
    if (isinf(f) && !isinf(v))
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: overflow");
    if (f == 0.0f && v != 0.0)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: underflow");
    out->f64 = f;
    return 0;
}

/* Casts between non-string types by their values. */
static int value_cast(type_oid_t from, type_oid_t to, datum_t in, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (is_int(from) && is_int(to)) return int_fit(to, in.i64, out, err);
    if (is_int(from) && is_float(to)) { out->f64 = to == TYPE_FLOAT4 ? (float)in.i64 : (double)in.i64; return 0; }
    if (is_float(from) && is_int(to)) return float_to_int(to, in.f64, out, err);
    if (from == TYPE_FLOAT4 && to == TYPE_FLOAT8) { out->f64 = in.f64; return 0; }
    if (from == TYPE_FLOAT8 && to == TYPE_FLOAT4) return float8_to_float4(in.f64, out, err);
    if (from == TYPE_BOOL && to == TYPE_INT4) { out->i64 = in.i64 != 0; return 0; }
    if (from == TYPE_INT4 && to == TYPE_BOOL) { out->i64 = in.i64 != 0; return 0; }
    if (from == TYPE_CHAR && to == TYPE_INT4) { out->i64 = (int8_t)(uint8_t)in.i64; return 0; }
    if (from == TYPE_INT4 && to == TYPE_CHAR) {
        if (in.i64 < -128 || in.i64 > 127)
            return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "\"char\" out of range");
        out->i64 = (uint8_t)(int8_t)in.i64;
        return 0;
    }
    if (is_oidlike(to) && (is_int(from) || is_oidlike(from))) {
        if (from == TYPE_INT8 && (in.i64 < 0 || in.i64 > UINT32_MAX))
            return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "OID out of range");
        out->i64 = (int64_t)(uint32_t)in.i64;   /* int4 -> oid is binary: -1 is 4294967295 */
        return 0;
    }
    if (is_oidlike(from) && is_int(to)) {
        out->i64 = to == TYPE_INT4 ? (int32_t)(uint32_t)in.i64 : in.i64;
        return 0;
    }
    if (types_time_castable(from, to))
        return types_time_cast(from, to, in, a, out, err);
    return sql_error(err, "42846", "cannot cast type %s to %s", types__sql_name(from), types__sql_name(to));
}

int type_cast(type_oid_t from, type_oid_t to, int32_t to_typmod, int ctx, datum_t in,
              arena_t *a, datum_t *out, sql_error_t *err)
{
    if (!type_can_cast(from, to, ctx))
        return sql_error(err, "42846", "cannot cast type %s to %s", types__sql_name(from),
                         types__sql_name(to));
    bool truncate = ctx == CAST_EXPLICIT;
    if (from == TYPE_VECTOR && to == TYPE_VECTOR) {   /* vector(n): pgvector's vector() cast checks dims */
        *out = in;
        return type_vector_check_typmod(in, to_typmod, err);
    }
    if (from == TYPE_NUMERIC || to == TYPE_NUMERIC) {
        int rc = types__numeric_cast(from, to, to_typmod, in, a, out, err);
        if (rc <= 0)
            return rc;                  /* 1: not a numeric value cast (strings below) */
    }
    if (from == to && (to == TYPE_TIMESTAMP || to == TYPE_TIMESTAMPTZ || to == TYPE_TIME)) {
        *out = in;
        return types_datetime_typmod(to, to_typmod, &out->i64, err);
    }
    if (from == to && !types__is_string(to)) { *out = in; return 0; }
    if (from == TYPE_JSONB && to == TYPE_JSON) { *out = in; return 0; }   /* canonical text is json */
    if (from == TYPE_JSON && to == TYPE_JSONB)
        return type_json_in(TYPE_JSONB, in.s->data, in.s->len, a, out, err);
    if (from == TYPE_JSONB && to == TYPE_NUMERIC) {      /* numeric(p,s) rounds the number */
        int rc = type_jsonb_cast_scalar(to, in, a, out, err);
        return rc < 0 || to_typmod < 0 ? rc : numeric_apply_typmod(*out, to_typmod, a, out, err);
    }
    if (from == TYPE_JSONB && !is_string_target(to))
        return type_jsonb_cast_scalar(to, in, a, out, err);
    if (to == TYPE_VECTOR && type_is_array(from))
        return type_vector_from_array(in, to_typmod, a, out, err);
    if (from == TYPE_VECTOR && type_is_array(to))
        return type_vector_to_array(in, a, out, err);
    if (type_is_array(from) && type_is_array(to))
        return type_array_cast(from, to, ctx, in, a, out, err);
    if (types__is_string(from)) {
        size_t len = in.s->len;
        if (from == TYPE_BPCHAR && is_string_target(to) && to != TYPE_BPCHAR)
            len = types__trim_bpchar(in.s->data, len);   /* bpchar -> text drops the padding */
        if (from == to && to_typmod < 0 && to != TYPE_NAME) { *out = in; return 0; }
        return types__in_text(to, to_typmod, in.s->data, len, truncate, a, out, err);
    }
    if (is_string_target(to)) {
        strbuf_t sb;
        strbuf_init(&sb);
        if (from == TYPE_BOOL && to != TYPE_NAME)    /* booltext(); name goes through boolout */
            strbuf_puts(&sb, in.i64 ? "true" : "false");
        else type_out_text(from, -1, in, &sb);
        int rc = sb.oom ? sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory")
                        : types__in_text(to, to_typmod, sb.data ? sb.data : "", sb.len, truncate, a, out, err);
        strbuf_free(&sb);
        return rc;
    }
    if (value_cast(from, to, in, a, out, err) < 0)
        return -1;
    if (to == TYPE_TIMESTAMP || to == TYPE_TIMESTAMPTZ || to == TYPE_TIME)
        return types_datetime_typmod(to, to_typmod, &out->i64, err);
    return 0;
}

type_oid_t type_common(type_oid_t a, type_oid_t b)
{
    if (a == b) return a == TYPE_UNKNOWN ? TYPE_TEXT : a;
    if (a == TYPE_UNKNOWN) return b;
    if (b == TYPE_UNKNOWN) return a;
    const type_info_t *ta = type_lookup(a), *tb = type_lookup(b);
    if (!ta || !tb || ta->category != tb->category)
        return TYPE_INVALID;
    /* PostgreSQL's select_common_type: move to the other type when it is reachable
     * implicitly but not the reverse, unless we already hold a preferred type. */
    if (!ta->preferred && type_can_cast(a, b, CAST_IMPLICIT) && !type_can_cast(b, a, CAST_IMPLICIT))
        return b;
    if (!type_can_cast(a, b, CAST_IMPLICIT) && !type_can_cast(b, a, CAST_IMPLICIT))
        return TYPE_INVALID;
    return a;
}

/* ---- arithmetic ---- */

static int div_zero(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
}

static int int_arith(int op, type_oid_t t, int64_t x, int64_t y, datum_t *out, sql_error_t *err)
{
    int64_t r = 0;
    bool over = false;
    switch (op) {
    case ARITH_ADD: over = __builtin_add_overflow(x, y, &r); break;
    case ARITH_SUB: over = __builtin_sub_overflow(x, y, &r); break;
    case ARITH_MUL: over = __builtin_mul_overflow(x, y, &r); break;
    case ARITH_NEG: over = __builtin_sub_overflow((int64_t)0, x, &r); break;
    case ARITH_DIV:
        if (y == 0) return div_zero(err);
        if (y == -1) over = __builtin_sub_overflow((int64_t)0, x, &r);
        else r = x / y;
        break;
    case ARITH_MOD:
        if (y == 0) return div_zero(err);
        r = y == -1 ? 0 : x % y;       /* INT_MIN % -1 is 0, not a trap */
        break;
    default: ASSERT(!"int_arith: bad op");
    }
    if (over) return int_range_error(t, err);
    return int_fit(t, r, out, err);
}

static int float_arith(int op, type_oid_t t, double x, double y, datum_t *out, sql_error_t *err)
{
    bool f4 = t == TYPE_FLOAT4;
    double r;
    switch (op) {
    case ARITH_ADD: r = f4 ? (double)((float)x + (float)y) : x + y; break;
    case ARITH_SUB: r = f4 ? (double)((float)x - (float)y) : x - y; break;
    case ARITH_MUL: r = f4 ? (double)((float)x * (float)y) : x * y; break;
    case ARITH_DIV:
        if (y == 0.0 && !isnan(x)) return div_zero(err);
        r = f4 ? (double)((float)x / (float)y) : x / y;
        break;
    case ARITH_NEG: out->f64 = -x; return 0;
    case ARITH_MOD:
        return sql_error(err, SQLSTATE_UNDEFINED_FUNCTION, "operator does not exist: %s %% %s",
                         types__sql_name(t), types__sql_name(t));
    default: ASSERT(!"float_arith: bad op");
    }
    if (isinf(r) && !isinf(x) && !isinf(y))
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: overflow");
    if (r == 0.0 && ((op == ARITH_MUL && x != 0 && y != 0) || (op == ARITH_DIV && x != 0 && !isinf(y))))
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value out of range: underflow");
    out->f64 = r;
    return 0;
}

int type_arith(int op, type_oid_t t, datum_t a, datum_t b, datum_t *out, sql_error_t *err)
{
    if (is_int(t)) return int_arith(op, t, a.i64, b.i64, out, err);
    if (is_float(t)) return float_arith(op, t, a.f64, b.f64, out, err);
    return sql_error(err, SQLSTATE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                     types__sql_name(t), op == ARITH_ADD ? "+" : op == ARITH_SUB ? "-"
                     : op == ARITH_MUL ? "*" : op == ARITH_DIV ? "/" : "%", types__sql_name(t));
}
