"""Set-returning functions in a select list (sql/bind_srf.c): generate_series, unnest
and the one-column json functions called in SELECT's target list, compared with
PostgreSQL 15 (rows, column names, order where the query orders), and the forms
PostgreSQL refuses, with its SQLSTATE and message. The forms NextDB refuses where
PostgreSQL answers are checked to be 0A000 naming the feature."""
import pytest

import harness
from refcompare import pair_fixture, run_msg, same, same_msg, script

SETUP = [
    "CREATE TABLE srf_t (a int PRIMARY KEY, arr int[], j jsonb, s text)",
    "INSERT INTO srf_t VALUES (1, '{1,2}', '[1, 2]', 'x'), (2, '{3}', '{\"x\": 1, \"y\": 2}', 'y'), "
    "(3, '{}', '[]', NULL), (4, NULL, NULL, 'z')",
    "INSERT INTO srf_t SELECT g, ARRAY[g, g + 1, g + 2], NULL::jsonb, 'w' || g FROM generate_series(5, 60) g",
]
DROP = ["DROP VIEW IF EXISTS srf_v", "DROP TABLE IF EXISTS srf_t", "DROP TABLE IF EXISTS srf_ins"]


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    yield from pair_fixture(server, pg_reference, SETUP, DROP)


ORDERED = [
    "SELECT generate_series(1, 3)",
    "SELECT generate_series(1, 10, 3) AS g ORDER BY g DESC LIMIT 2",
    "SELECT generate_series(3, 1)",
    "SELECT a, unnest(arr) FROM srf_t WHERE a < 8 ORDER BY 1, 2",
    "SELECT a, generate_series(1, a) AS g FROM srf_t WHERE a <= 4 ORDER BY 1, 2",
    "SELECT generate_series(1, 2) * 10 + a AS x, a FROM srf_t WHERE a <= 4 ORDER BY a, x",
    "SELECT *, generate_series(1, 2) FROM srf_t ORDER BY 1, 5 LIMIT 5",
    "SELECT srf_t.*, unnest(arr) AS u FROM srf_t WHERE a IN (1, 2) ORDER BY a, u",
    "SELECT unnest(ARRAY[1, 2]), unnest(ARRAY[1, 2])",
    "SELECT unnest(ARRAY['a', 'b', NULL]) AS v",
    "SELECT generate_series(1, 3)::text",
    "SELECT abs(generate_series(-1, 1)) ORDER BY 1",
    "SELECT generate_series(1, 3) WHERE false",
    "SELECT a, jsonb_array_elements(j) FROM srf_t WHERE jsonb_typeof(j) = 'array' ORDER BY 1, 2",
    "SELECT a, jsonb_array_elements_text(j) AS e FROM srf_t WHERE jsonb_typeof(j) = 'array' ORDER BY 1, 2",
    "SELECT DISTINCT jsonb_object_keys(j) AS k FROM srf_t WHERE jsonb_typeof(j) = 'object' ORDER BY 1",
    "SELECT generate_series('2024-01-01'::timestamp, '2024-01-03', '1 day')",
    "SELECT count(*) FROM (SELECT unnest(arr) FROM srf_t) s",
    "SELECT sum(x) FROM (SELECT generate_series(1, a) AS x FROM srf_t) s",
    "SELECT a FROM srf_t WHERE a > 1 AND EXISTS (SELECT generate_series(1, a)) ORDER BY a LIMIT 3",
    "SELECT a, (SELECT max(u) FROM (SELECT unnest(arr) AS u) x) FROM srf_t WHERE a < 7 ORDER BY a",
    "SELECT s, generate_series(1, 2) AS n FROM srf_t JOIN (VALUES (1), (2)) v(k) ON v.k = srf_t.a ORDER BY s, n",
    "SELECT unnest(arr) AS u FROM srf_t ORDER BY u DESC LIMIT 4",
    "SELECT a, unnest(arr) IS NULL FROM srf_t WHERE a = 1 ORDER BY 2",
    # a one-column function's alias names its column (whole-row reference in PostgreSQL)
    "SELECT e FROM jsonb_array_elements('[1, \"b\", null]') e",
    "SELECT e.value FROM jsonb_array_elements('[1, 2]') e",
    "SELECT k FROM jsonb_object_keys('{\"a\": 1, \"b\": 2}') k ORDER BY k",
    "SELECT a, e FROM srf_t, jsonb_array_elements(j) e WHERE jsonb_typeof(j) = 'array' ORDER BY a, e",
    "SELECT x FROM generate_series(1, 3) AS x(y)",
    "SELECT u FROM srf_t, unnest(arr) u WHERE a = 1 ORDER BY u",
]

UNORDERED = [
    "SELECT a, unnest(arr) FROM srf_t",
    "SELECT unnest(arr) + 1, s FROM srf_t WHERE s LIKE 'w%'",
]

# PostgreSQL refuses these too: same SQLSTATE and message
REFUSED_BOTH = [
    "SELECT CASE WHEN a > 1 THEN generate_series(1, 2) END FROM srf_t",
    "SELECT coalesce(generate_series(1, 2), 0)",
    "SELECT sum(generate_series(1, 3))",
    "SELECT count(unnest(arr)) FROM srf_t",
]

# PostgreSQL answers these; NextDB refuses with 0A000 (sql/README.md)
REFUSED_OURS = [
    "SELECT generate_series(1, 2), generate_series(1, 3)",
    "SELECT unnest(array_agg(a)) FROM srf_t",
    "SELECT a, count(*), generate_series(1, 2) FROM srf_t GROUP BY a",
    "SELECT row_number() OVER (), generate_series(1, 2)",
    "SELECT jsonb_each(j) FROM srf_t WHERE a = 2",
    "SELECT generate_series(1, generate_series(1, 2))",
]


@pytest.mark.parametrize("sql", ORDERED)
def test_srf_select_list_ordered(pair, sql):
    same_msg(pair, sql)


@pytest.mark.parametrize("sql", UNORDERED)
def test_srf_select_list(pair, sql):
    same(pair, sql)


@pytest.mark.parametrize("sql", REFUSED_BOTH)
def test_srf_refused_like_postgres(pair, sql):
    r = same_msg(pair, sql)
    assert r[0] == "error" and r[1] == "0A000"


@pytest.mark.skipif(harness.TARGET == "postgres", reason="NextDB's own limits")
@pytest.mark.parametrize("sql", REFUSED_OURS)
def test_srf_unsupported_is_0A000(pair, sql):
    ours, ref = pair
    assert run_msg(ref, sql)[0] == "ok"
    r = run_msg(ours, sql)
    assert r[0] == "error" and r[1] == "0A000", r


def test_srf_insert_select_view_and_prepared(pair):
    """INSERT ... SELECT generate_series, a view over a select-list SRF, and a prepared
    statement with the series bound as a parameter."""
    for c in pair:
        assert run_msg(c, "CREATE TABLE srf_ins (k int PRIMARY KEY, v text)")[0] == "ok"
    same_msg(pair, "INSERT INTO srf_ins SELECT generate_series(1, 500), 'v'")
    same_msg(pair, "SELECT count(*), sum(k) FROM srf_ins")
    same_msg(pair, "CREATE VIEW srf_v AS SELECT a, unnest(arr) AS u FROM srf_t")
    same_msg(pair, "SELECT * FROM srf_v WHERE a < 6 ORDER BY a, u")
    for c in pair:
        cur = c.cursor()
        cur.execute("SELECT generate_series(1, %s) AS n, %s::text AS t", (4, "p"))
        rows = cur.fetchall()
        assert rows == [(1, "p"), (2, "p"), (3, "p"), (4, "p")]
        cur.close()


def test_insert_select_untyped_literals(pair):
    """INSERT ... SELECT reads an untyped literal of its select list as the target
    column's type, as PostgreSQL does (NULL into jsonb, '{1,2}' into int[])."""
    for c in pair:
        assert run_msg(c, "DROP TABLE IF EXISTS srf_lit")[0] == "ok"
        assert run_msg(c, "CREATE TABLE srf_lit (k int PRIMARY KEY, j jsonb, arr int[], d date)")[0] == "ok"
    script(pair, [
        "INSERT INTO srf_lit SELECT 1, NULL, NULL, NULL",
        "INSERT INTO srf_lit (k, j, arr, d) SELECT 2, '{\"a\": 1}', '{1,2}', '2024-02-29'",
        "INSERT INTO srf_lit SELECT g, '[]', '{}', '2024-01-01' FROM generate_series(3, 5) g",
        "INSERT INTO srf_lit (k, j) SELECT 9, 'not json'",
        "INSERT INTO srf_lit (k, d) SELECT 10, '2024-02-30'",
        "SELECT k, j, arr, d FROM srf_lit ORDER BY k",
        "DROP TABLE srf_lit",
    ])


def test_pg_typeof(pair):
    same_msg(pair, "SELECT pg_typeof(1), pg_typeof('a'), pg_typeof(NULL), pg_typeof(1.5), pg_typeof(now()), "
                   "pg_typeof(ARRAY[1]), pg_typeof('{}'::jsonb), pg_typeof(pg_typeof(1)), "
                   "pg_typeof(a)::text = 'integer', pg_typeof(s) FROM srf_t WHERE a = 1")
