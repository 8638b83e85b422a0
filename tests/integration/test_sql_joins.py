"""test_sql_joins.py -- FULL / RIGHT / NATURAL joins, JOIN ... USING with merged
columns, aliases on joins, LATERAL, DISTINCT ON, FETCH ... WITH TIES, row comparisons, SIMILAR TO and aggregate
FILTER. Every query runs on the server under test and on a reference PostgreSQL 15
with the same data (tables with primary keys, so their rows spread over the shards;
NULL join keys, duplicate keys and an empty table), and the answers must be equal;
errors must carry PostgreSQL's SQLSTATE."""
import pytest

from refcompare import pair_fixture, run as _run, same

SETUP = [
    "CREATE TABLE jn_a (id int PRIMARY KEY, x int, y text)",
    "CREATE TABLE jn_b (id int PRIMARY KEY, x int, z text)",
    "CREATE TABLE jn_c (id int PRIMARY KEY, y text, w int)",
    "CREATE TABLE jn_e (id int PRIMARY KEY, x int)",
    "CREATE TABLE jn_l (id int PRIMARY KEY, n int, arr int[])",
    "INSERT INTO jn_l VALUES (1, 2, '{1,2}'), (2, 0, '{}'), (3, 3, NULL), (4, NULL, '{5}'), (5, 1, '{7,7,8}')",
    "INSERT INTO jn_a SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 5 END, 'y' || (g % 3)"
    " FROM generate_series(1, 40) g",
    "INSERT INTO jn_b SELECT g, CASE WHEN g % 6 = 0 THEN NULL ELSE g % 8 END, 'z' || (g % 4)"
    " FROM generate_series(1, 30) g",
    "INSERT INTO jn_c VALUES (1, 'y0', 10), (2, 'y1', 20), (3, 'y1', 30), (4, NULL, 40), (5, 'q', 50)",
]
DROP = ["DROP TABLE IF EXISTS jn_%s" % t for t in "abcel"]


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    yield from pair_fixture(server, pg_reference, SETUP, DROP)


JOINS = [
    # FULL JOIN: hash keys with NULLs and duplicates on both sides, extra conditions
    "SELECT a.id, a.x, b.id, b.x FROM jn_a a FULL JOIN jn_b b ON a.x = b.x",
    "SELECT a.id, b.id FROM jn_a a FULL OUTER JOIN jn_b b ON a.x = b.x AND a.id < b.id",
    "SELECT a.id, b.id FROM jn_a a FULL JOIN jn_b b ON a.x = b.x AND b.z = 'z1'",
    "SELECT a.id, b.id FROM jn_a a FULL JOIN jn_b b ON a.x + 1 = b.x - 1",
    "SELECT a.id, e.id FROM jn_a a FULL JOIN jn_e e ON a.x = e.x",
    "SELECT e.id, a.id FROM jn_e e FULL JOIN jn_a a ON a.x = e.x",
    "SELECT a.id, c.id FROM jn_a a FULL JOIN jn_c c ON true WHERE a.id < 4",
    "SELECT a.id, c.id FROM jn_a a FULL JOIN jn_c c ON false",
    "SELECT count(*), count(a.id), count(b.id) FROM jn_a a FULL JOIN jn_b b ON a.x = b.x",
    "SELECT a.id, b.id FROM jn_a a FULL JOIN jn_b b ON a.x = b.x WHERE a.id IS NULL OR b.id IS NULL",
    "SELECT a.id, b.id, c.id FROM jn_a a FULL JOIN jn_b b ON a.x = b.x FULL JOIN jn_c c ON c.id = b.id",
    # RIGHT JOIN
    "SELECT a.id, b.id FROM jn_a a RIGHT JOIN jn_b b ON a.x = b.x",
    "SELECT a.id, e.id FROM jn_a a RIGHT JOIN jn_e e ON a.x = e.x",
    "SELECT * FROM jn_c c RIGHT JOIN jn_a a ON a.y = c.y WHERE a.id <= 6",
    # USING: merged columns under SELECT *, qualified inputs, RIGHT and FULL merging
    "SELECT * FROM jn_a JOIN jn_b USING (x)",
    "SELECT * FROM jn_a LEFT JOIN jn_b USING (x)",
    "SELECT * FROM jn_a RIGHT JOIN jn_b USING (x)",
    "SELECT * FROM jn_a FULL JOIN jn_b USING (x)",
    "SELECT x, jn_a.x, jn_b.x FROM jn_a FULL JOIN jn_b USING (x)",
    "SELECT jn_a.*, jn_b.id FROM jn_a JOIN jn_b USING (x)",
    "SELECT x, count(*) FROM jn_a FULL JOIN jn_b USING (x) GROUP BY x",
    "SELECT * FROM jn_a JOIN jn_b USING (id, x)",
    "SELECT * FROM jn_a JOIN jn_c USING (id, y)",
    "SELECT * FROM jn_a JOIN jn_b USING (x) JOIN jn_c USING (id)",
    "SELECT * FROM jn_a FULL JOIN jn_e USING (x)",
    # NATURAL
    "SELECT * FROM jn_a NATURAL JOIN jn_c",
    "SELECT * FROM jn_a NATURAL LEFT JOIN jn_c",
    "SELECT * FROM jn_a NATURAL FULL JOIN jn_c",
    "SELECT * FROM jn_c NATURAL JOIN (SELECT 'y1'::text AS y, 7 AS v) s",
    "SELECT * FROM jn_c NATURAL JOIN (SELECT 7 AS v) s",
    # aliases on joins
    "SELECT j.* FROM (jn_a JOIN jn_b USING (x)) AS j WHERE j.id < 5",
    "SELECT j.x, j.z FROM (jn_a a JOIN jn_b b USING (x)) j",
    "SELECT j.k, j.v FROM (jn_a NATURAL JOIN jn_c) AS j(k, u, v, w)",
    "SELECT * FROM (jn_c c1 JOIN jn_c c2 USING (w)) j JOIN jn_a a ON a.id = j.w / 10",
    # DISTINCT ON
    "SELECT DISTINCT ON (x) x, id, y FROM jn_a ORDER BY x, id DESC",
    "SELECT DISTINCT ON (x) x, id FROM jn_a ORDER BY x NULLS FIRST, id",
    "SELECT DISTINCT ON (y, x) y, x, id FROM jn_a ORDER BY y, x, id",
    "SELECT DISTINCT ON (x % 2) x % 2 AS m, id FROM jn_a WHERE x IS NOT NULL ORDER BY x % 2, id",
    "SELECT DISTINCT ON (b.z) b.z, a.id FROM jn_a a JOIN jn_b b USING (x) ORDER BY b.z, a.id LIMIT 3",
    "SELECT DISTINCT ON (x) x FROM jn_b",
    "SELECT DISTINCT ON (x) x, count(*) FROM jn_a GROUP BY x, y ORDER BY x, count(*) DESC, y",
    # row comparisons
    "SELECT id FROM jn_a WHERE (x, y) = (1, 'y1')",
    "SELECT id FROM jn_a WHERE (x, y) <> (1, 'y1')",
    "SELECT id, (x, id) < (2, 10), (x, id) <= (2, 12), (x, id) > (3, 3), (x, id) >= (3, 28) FROM jn_a",
    "SELECT id FROM jn_a WHERE (x, y) IN ((1, 'y1'), (2, 'y2'), (NULL, 'y0'))",
    "SELECT id FROM jn_a WHERE (x, y) NOT IN ((1, 'y1'), (2, 'y2'))",
    "SELECT ROW(1, 2) = ROW(1, 2), (1, NULL) = (1, 2), (1, NULL) < (2, 0), (NULL, 1) < (2, 0)",
    # SIMILAR TO
    "SELECT id, y SIMILAR TO 'y(1|2)' AS s, y NOT SIMILAR TO '_0' AS n FROM jn_a",
    "SELECT y FROM jn_c WHERE y SIMILAR TO '%1'",
    "SELECT 'a.c' SIMILAR TO 'a.c', 'abc' SIMILAR TO 'a.c', 'a%c' SIMILAR TO 'a#%c' ESCAPE '#',"
    " 'aXc' SIMILAR TO 'a#%c' ESCAPE '#', 'ab' SIMILAR TO '[a-c]+', 'ab' SIMILAR TO 'a[^b]'",
    "SELECT 'x' SIMILAR TO NULL, NULL SIMILAR TO 'x', 'abc' SIMILAR TO 'abc' ESCAPE ''",
    # aggregate FILTER (single-shard and merged partial aggregates)
    "SELECT count(*) FILTER (WHERE x > 2), count(x) FILTER (WHERE y = 'y1'), sum(x) FILTER (WHERE id % 2 = 0),"
    " min(y) FILTER (WHERE x = 4), max(id) FILTER (WHERE x IS NULL), max(id) FILTER (WHERE false) FROM jn_a",
    "SELECT y, count(*) FILTER (WHERE x >= 2) AS n, sum(id) FILTER (WHERE x < 2) FROM jn_a GROUP BY y",
    "SELECT count(DISTINCT x) FILTER (WHERE id > 10), count(DISTINCT y) FILTER (WHERE x = 1) FROM jn_a",
    "SELECT x, count(*) FILTER (WHERE y <> 'y0') FROM jn_a GROUP BY x HAVING count(*) FILTER (WHERE y = 'y1') > 1",
    "SELECT string_agg(y, ',') FILTER (WHERE id = 3) FROM jn_a",
    # LATERAL subqueries and functions (run per outer row)
    "SELECT l.id, s.z FROM jn_l l, LATERAL (SELECT z FROM jn_b b WHERE b.x = l.id ORDER BY z DESC, id LIMIT 2) s",
    "SELECT l.id, s.z FROM jn_l l LEFT JOIN LATERAL (SELECT z FROM jn_b b WHERE b.x = l.n ORDER BY id LIMIT 1) s"
    " ON true",
    "SELECT l.id, s.c, s.m FROM jn_l l, LATERAL (SELECT count(*) AS c, max(id) AS m FROM jn_a a WHERE a.x = l.n) s",
    "SELECT l.id, s.id FROM jn_l l JOIN LATERAL (SELECT id, x FROM jn_a a WHERE a.x >= l.id) s ON s.id > 30"
    " WHERE l.id < 4",
    "SELECT l.id, s.id FROM jn_l l LEFT JOIN LATERAL (SELECT id FROM jn_b WHERE x = l.id) s ON s.id > 10",
    "SELECT l.id, s.t FROM jn_l l, LATERAL (SELECT l.n * 10 AS t) s WHERE s.t > 10",
    "SELECT a.id, b.id, s.t FROM jn_l a, jn_l b, LATERAL (SELECT a.id + b.n AS t) s WHERE a.id = b.id",
    "SELECT l.id, g FROM jn_l l, generate_series(1, l.n) g",
    "SELECT l.id, g FROM jn_l l CROSS JOIN LATERAL generate_series(1, l.n) g",
    "SELECT l.id, g FROM jn_l l LEFT JOIN LATERAL generate_series(1, l.n) g ON true",
    "SELECT l.id, u FROM jn_l l, unnest(l.arr) u",
    "SELECT l.id, count(u), sum(u) FROM jn_l l LEFT JOIN LATERAL unnest(l.arr) u ON true GROUP BY l.id",
]


@pytest.mark.parametrize("sql", JOINS)
def test_joins_match_postgres(pair, sql):
    # an ORDER BY inside a subquery orders nothing outside it
    same(pair, sql, ordered="ORDER BY" in sql.rsplit(")", 1)[-1])


@pytest.mark.parametrize("sql", [
    "SELECT * FROM jn_a a FULL JOIN jn_b b ON a.x < b.x",                # not hash/merge joinable
    "SELECT * FROM jn_a a FULL JOIN jn_b b ON a.x = b.x OR a.id = b.id",
    "SELECT * FROM jn_a JOIN jn_b USING (nope)",
    "SELECT * FROM jn_a JOIN jn_b USING (z)",
    "SELECT * FROM jn_a JOIN jn_b USING (x, x)",
    "SELECT * FROM jn_a JOIN jn_c USING (x)",
    "SELECT * FROM jn_a JOIN jn_b USING (y)",
    "SELECT * FROM (jn_a JOIN jn_b USING (x)) j JOIN jn_c USING (id, id)",
    "SELECT * FROM jn_a JOIN jn_c USING (id) JOIN jn_b USING (id)",  # fine; next one is not
    "SELECT * FROM (jn_a JOIN jn_b ON true) JOIN jn_c USING (id)",
    "SELECT * FROM jn_a a JOIN jn_c c USING (y) WHERE a.y = 'y1' AND c.y IS NULL AND y = 'q'",
    "SELECT * FROM jn_a JOIN jn_b USING (id) JOIN jn_c USING (x)",
    "SELECT a.x FROM (jn_a a JOIN jn_b b USING (x)) AS j",
    "SELECT * FROM jn_a JOIN jn_c USING (y) WHERE y = 1",
    "SELECT * FROM jn_a JOIN (SELECT 1 AS id, 'a' AS x) s USING (id, x)",
    "SELECT * FROM (jn_a NATURAL JOIN jn_c) AS j(a, b, c, d, e, f)",
    "SELECT DISTINCT ON (x) x, id FROM jn_a ORDER BY id, x",
    "SELECT DISTINCT ON (x, y) x, y FROM jn_a ORDER BY x, id, y",
    "SELECT DISTINCT ON (9) x FROM jn_a",
    "SELECT (1, 2) = (1, 2, 3)",
    "SELECT id FROM jn_a WHERE (x, y) IN ((1, 2))",
    "SELECT 'a' SIMILAR TO 'a' ESCAPE 'xy'",
    "SELECT 'a' SIMILAR TO 'a#\"b#\"c#\"d#\"' ESCAPE '#'",
    "SELECT abs(x) FILTER (WHERE x > 1) FROM jn_a",
    "SELECT count(*) FILTER (WHERE count(*) > 1) FROM jn_a",
    "SELECT count(*) FILTER (WHERE x) FROM jn_a",
    "SELECT * FROM jn_l l RIGHT JOIN LATERAL (SELECT l.n) s ON true",
    "SELECT * FROM jn_l l FULL JOIN LATERAL generate_series(1, l.n) g ON true",
    "SELECT * FROM jn_l l, (SELECT l.n) s",                        # not LATERAL
])
def test_join_errors_match_postgres(pair, sql):
    ours, ref = pair
    a, b = _run(ours, sql), _run(ref, sql)
    if b[0] == "ok":
        a, b = same(pair, sql), b
    else:
        assert a == b, sql


@pytest.mark.parametrize("sql", [
    "SELECT x FROM jn_a ORDER BY x FETCH FIRST 2 ROWS WITH TIES",
    "SELECT x, y FROM jn_a ORDER BY x, y FETCH FIRST 3 ROWS WITH TIES",
    "SELECT x FROM jn_a ORDER BY x DESC NULLS FIRST FETCH FIRST 1 ROW WITH TIES",
    "SELECT x FROM jn_a ORDER BY x OFFSET 9 FETCH FIRST 2 ROWS WITH TIES",
    "SELECT x FROM jn_a ORDER BY x FETCH FIRST 0 ROWS WITH TIES",
    "SELECT x FROM jn_a ORDER BY x FETCH FIRST 100 ROWS WITH TIES",
    "SELECT count(*) FROM (SELECT x FROM jn_a ORDER BY x FETCH FIRST 11 ROWS WITH TIES) s",
    "SELECT x FROM jn_a FETCH FIRST 1 ROWS WITH TIES",
])
def test_fetch_with_ties_match_postgres(pair, sql):
    """Which rows tie is defined; their order among themselves is not."""
    same(pair, sql)


def test_full_join_spans_batches(pair):
    """Enough rows that the hash side, the probe side and the unmatched right rows
    each take several batches."""
    same(pair, "SELECT count(*), count(l.g), count(r.g), sum(l.g), sum(r.g) FROM"
               " (SELECT g FROM generate_series(1, 5000) g) l FULL JOIN"
               " (SELECT g * 2 AS g FROM generate_series(1, 4000) g) r ON l.g = r.g")
    same(pair, "SELECT a.id, b.id FROM jn_a a FULL JOIN jn_b b ON a.id = b.id * 2 ORDER BY 1, 2", ordered=True)
