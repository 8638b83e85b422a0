"""test_sql_agg_ext.py -- bool_and / bool_or / every, the variance family on float8,
array_agg, jsonb_agg / json_agg / jsonb_object_agg / json_object_agg and
string_agg, grouped and not, over a table spread on both shards, against a reference
PostgreSQL 15 (answers or SQLSTATEs equal)."""
import psycopg2
import psycopg2.extras
import pytest

SETUP = [
    "DROP TABLE IF EXISTS ag_t",
    "CREATE TABLE ag_t (k int PRIMARY KEY, g text, f float8, i int, b bool, s text)",
    "INSERT INTO ag_t VALUES "
    "(1, 'x', 2, 2, true, 'a'), (2, 'x', 4, 4, true, 'b'), (3, 'x', 4, 4, NULL, NULL), "
    "(4, 'x', 4, 4, true, 'c'), (5, 'y', 5, 5, false, 'd'), (6, 'y', 5, 5, true, 'e'), "
    "(7, 'y', 7, 7, NULL, 'f'), (8, 'y', 9, 9, false, 'g'), (9, 'z', 1.5, NULL, NULL, NULL), "
    "(10, 'w', NULL, NULL, NULL, NULL)",
]


def _conn(srv):
    c = srv.connect(autocommit=True)
    psycopg2.extras.register_default_jsonb(c, loads=lambda s: s)
    psycopg2.extras.register_default_json(c, loads=lambda s: s)
    return c


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = _conn(server)
    ref = _conn(pg_reference)
    for sql in SETUP:
        for c in (ours, ref):
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for c in (ours, ref):
        _run(c, "DROP TABLE ag_t")
        c.close()


QUERIES = [
    "SELECT bool_and(b), bool_or(b), every(b) FROM ag_t",
    "SELECT g, bool_and(b), bool_or(b), every(k > 0) FROM ag_t GROUP BY g ORDER BY g",
    "SELECT bool_and(b) FROM ag_t WHERE k > 100",
    "SELECT bool_and(k) FROM ag_t",
    "SELECT stddev(f), stddev_samp(f), stddev_pop(f), variance(f), var_samp(f), var_pop(f) FROM ag_t",
    "SELECT g, stddev(f), var_pop(f), var_samp(f) FROM ag_t GROUP BY g ORDER BY g",
    "SELECT var_samp(f) FROM ag_t WHERE k = 1",
    "SELECT var_pop(x), stddev(x) FROM (VALUES (1e308::float8), (-1e308::float8)) v(x)",
    "SELECT var_pop(x)::text FROM (VALUES ('Infinity'::float8), (1::float8)) v(x)",
    "SELECT stddev(i)::float8, var_pop(i)::float8 FROM ag_t WHERE g = 'x'",
    "SELECT g, array_length(array_agg(k), 1) FROM ag_t GROUP BY g ORDER BY g",
    "SELECT array_agg(s) FROM (SELECT s FROM ag_t WHERE k < 4 ORDER BY k) q",
    "SELECT array_agg(x) FROM (VALUES (1), (NULL), (3)) v(x)",
    "SELECT array_agg(x) FROM (VALUES ('a'::text), ('b c'), (NULL)) v(x)",
    "SELECT array_agg(k) FROM ag_t WHERE k > 100",
    "SELECT jsonb_agg(x), json_agg(x) FROM (VALUES (1), (NULL), (3)) v(x)",
    "SELECT jsonb_agg(x) FROM (VALUES ('{\"b\":1,\"a\":2}'::jsonb), ('[1.50]'), ('\"s\"')) v(x)",
    "SELECT json_agg(x) FROM (VALUES ('a'::text), ('b\"c')) v(x)",
    "SELECT jsonb_object_agg(k, v), json_object_agg(k, v) FROM (VALUES ('b', 1), ('a', NULL), ('b', 3)) t(k, v)",
    "SELECT jsonb_object_agg(k, v) FROM (VALUES (NULL::text, 1)) t(k, v)",
    "SELECT jsonb_agg(k) FROM ag_t WHERE k > 100",
    "SELECT g, jsonb_array_length(jsonb_agg(f)), jsonb_object_agg(k::text, f) -> '1' FROM ag_t GROUP BY g ORDER BY g",
    "SELECT jsonb_agg(DISTINCT g) -> 0 IS NOT NULL, count(DISTINCT g) FROM ag_t",
    "SELECT g, string_agg(s, ',') IS NOT NULL, length(string_agg(s, '')) FROM ag_t GROUP BY g ORDER BY g",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_matches_postgres(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql), sql
