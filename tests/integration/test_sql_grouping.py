"""test_sql_grouping.py -- GROUPING SETS, ROLLUP, CUBE, GROUP BY DISTINCT and
GROUPING(), with FILTER, DISTINCT and ordered aggregates among them. Every query runs on the
server under test and on a reference PostgreSQL 15 with the same data (a table with a
primary key, so its rows spread over the shards, with NULLs in the grouping columns,
and an empty table); rows compare in order only where the query has a total ORDER BY,
sorted otherwise. Errors must carry PostgreSQL's SQLSTATE."""
import pytest

from refcompare import pair_fixture, run as _run, same

SETUP = [
    "CREATE TABLE gs_t (id int PRIMARY KEY, a int, b text, c int)",
    "CREATE TABLE gs_e (id int PRIMARY KEY, a int, b text, c int)",
    "INSERT INTO gs_t SELECT g, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 3 END,"
    " CASE WHEN g % 7 = 0 THEN NULL ELSE 'b' || (g % 2) END, g * 10 FROM generate_series(1, 60) g",
]
DROP = ["DROP TABLE IF EXISTS gs_t", "DROP TABLE IF EXISTS gs_e"]


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    yield from pair_fixture(server, pg_reference, SETUP, DROP)


UNORDERED = [
    "SELECT a, b, sum(c), count(*) FROM gs_t GROUP BY ROLLUP (a, b)",
    "SELECT a, b, sum(c), grouping(a, b) FROM gs_t GROUP BY CUBE (a, b)",
    "SELECT a, b, count(*) FROM gs_t GROUP BY GROUPING SETS ((a), (b), ())",
    "SELECT a, count(*) FROM gs_t GROUP BY GROUPING SETS (a, a)",
    "SELECT a, count(*) FROM gs_t GROUP BY DISTINCT GROUPING SETS (a, a)",
    "SELECT a, b, count(*) FROM gs_t GROUP BY a, ROLLUP (b)",
    "SELECT a, b, count(*) FROM gs_t GROUP BY ROLLUP (a, b), ROLLUP (a)",
    "SELECT a, b, count(*) FROM gs_t GROUP BY DISTINCT ROLLUP (a, b), ROLLUP (a)",
    "SELECT a, b, sum(c) FROM gs_t GROUP BY ROLLUP ((a, b))",
    "SELECT a, b, sum(c), grouping(b, a) AS g FROM gs_t GROUP BY GROUPING SETS (ROLLUP (a), CUBE (b))",
    "SELECT a + 1 AS a1, b, sum(c) FROM gs_t GROUP BY ROLLUP (a + 1, b) HAVING sum(c) > 300",
    "SELECT grouping(a), a, count(*) FROM gs_t GROUP BY a",
    "SELECT a, count(*) FROM gs_t GROUP BY GROUPING SETS (())",
    "SELECT count(*), sum(c) FROM gs_e GROUP BY GROUPING SETS ((), (a))",
    "SELECT a, count(*) FROM gs_e GROUP BY ROLLUP (a)",
    "SELECT a, count(DISTINCT b), count(*) FILTER (WHERE c > 200), max(b) FROM gs_t GROUP BY CUBE (a)",
    "SELECT b, avg(c)::int, min(id), max(id) FROM gs_t WHERE id > 5 GROUP BY ROLLUP (b)",
    "SELECT a, b, count(*) FROM gs_t GROUP BY CUBE (a, b) HAVING grouping(a, b) IN (1, 3)",
    "SELECT CASE WHEN grouping(a) = 1 THEN 'all' ELSE a::text END AS a, count(*) FROM gs_t GROUP BY ROLLUP (a)",
    "SELECT a, b, count(*) FROM gs_t GROUP BY DISTINCT a, b",
    # ordered aggregates (string_agg's input sorted; the others ignore the order)
    "SELECT a, string_agg(b, ',' ORDER BY b) FROM gs_t GROUP BY a",
    "SELECT a, string_agg(b || c, ',' ORDER BY c DESC, id) FROM gs_t GROUP BY a",
    "SELECT string_agg(b, '-' ORDER BY id DESC) FROM gs_t WHERE id < 12",
    "SELECT a, string_agg(DISTINCT b, ',' ORDER BY b) FROM gs_t GROUP BY a",
    "SELECT a, sum(c ORDER BY id), count(DISTINCT b ORDER BY b), string_agg(b, '|' ORDER BY b NULLS FIRST, id)"
    " FROM gs_t GROUP BY a",
    "SELECT string_agg(b, ',' ORDER BY c) FILTER (WHERE c > 300) FROM gs_t",
    "SELECT a, string_agg(b, ',' ORDER BY c) FROM gs_t GROUP BY ROLLUP (a)",
    "SELECT string_agg(b, ',' ORDER BY c) FROM gs_e",
    "SELECT a, array_agg(c ORDER BY c DESC) FROM gs_t GROUP BY a",
    "SELECT a, array_agg(b ORDER BY id), string_agg(b, ',' ORDER BY id) FROM gs_t GROUP BY a",
    "SELECT array_agg(a ORDER BY id) FROM gs_t WHERE id < 12",
    "SELECT array_agg(a) FROM gs_e",
    "SELECT array_length(array_agg(id), 1) FROM gs_t",
    "SELECT a, array_agg(id ORDER BY id) FROM gs_t GROUP BY ROLLUP (a)",
    # DISTINCT aggregates (never split into per-shard partial states)
    "SELECT sum(DISTINCT c % 50), count(DISTINCT c % 7), count(DISTINCT b), min(DISTINCT a) FROM gs_t",
    "SELECT a, sum(DISTINCT id % 4), count(DISTINCT b) FROM gs_t GROUP BY a",
]


@pytest.mark.parametrize("sql", UNORDERED)
def test_grouping_sets_match_postgres(pair, sql):
    same(pair, sql)


@pytest.mark.parametrize("sql", [
    "SELECT a, b, sum(c) FROM gs_t GROUP BY ROLLUP (a, b) ORDER BY a NULLS FIRST, b NULLS FIRST, 3",
    "SELECT a, b, count(*), grouping(a, b) FROM gs_t GROUP BY CUBE (a, b) ORDER BY 4, 1, 2, 3",
    "SELECT a, sum(c) FROM gs_t GROUP BY ROLLUP (a) ORDER BY sum(c) DESC, 1 LIMIT 3",
    "SELECT b, count(*) FROM gs_t GROUP BY GROUPING SETS (b, ()) ORDER BY grouping(b), b",
])
def test_grouping_sets_ordered_match_postgres(pair, sql):
    same(pair, sql, ordered=True)


@pytest.mark.parametrize("sql", [
    "SELECT a, b, c FROM gs_t GROUP BY ROLLUP (a, b)",        # c is not grouped
    "SELECT a, grouping(b) FROM gs_t GROUP BY a",              # b is not a grouping expression
    "SELECT a FROM gs_t WHERE grouping(a) = 0 GROUP BY a",
    "SELECT a FROM gs_t GROUP BY ROLLUP (a, grouping(a))",
    "SELECT a FROM gs_t GROUP BY ROLLUP (a, sum(c))",
    "SELECT a, string_agg(DISTINCT b, ',' ORDER BY c) FROM gs_t GROUP BY a",
    "SELECT abs(a ORDER BY a) FROM gs_t",
    "SELECT array_agg(a, b) FROM gs_t",
])
def test_grouping_set_errors_match_postgres(pair, sql):
    a = same(pair, sql)
    assert a[0] == "error"
