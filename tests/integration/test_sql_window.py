"""test_sql_window.py -- window functions (sql/bind_window.c, sql/exec_window.c).
Every query runs on the server under test and on a reference PostgreSQL 15 with the
same data (rows spread over both shards, ties and NULLs in partition and order keys)
and the answers must be equal; errors must carry PostgreSQL's SQLSTATE."""
import psycopg2
import pytest

SETUP = [
    "CREATE TABLE wf_t (id int PRIMARY KEY, g int, v int, f float8, s text)",
    "INSERT INTO wf_t VALUES (1, 1, 10, 1.5, 'a'), (2, 1, 20, 2.5, 'b'), (3, 1, 20, NULL, 'c'),"
    " (4, 2, 5, 0.5, 'd'), (5, 2, NULL, 3.0, 'e'), (6, NULL, 7, 7.0, 'f'), (7, 2, 5, 1.0, 'g'),"
    " (8, NULL, NULL, -2.0, NULL), (9, 3, 1, 0.25, 'i'), (10, 1, 30, 4.5, 'j'), (11, 2, 5, 2.0, 'k'),"
    " (12, 1, NULL, 8.0, 'l')",
    "CREATE TABLE wf_e (id int PRIMARY KEY, g int, v int)",
]
DROP = ["DROP TABLE IF EXISTS wf_t", "DROP TABLE IF EXISTS wf_e"]


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for sql in DROP + SETUP:
        for c in (ours, ref):
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for sql in DROP:
        for c in (ours, ref):
            _run(c, sql)
    ours.close()
    ref.close()


def same(pair, sql):
    ours, ref = pair
    a, b = _run(ours, sql), _run(ref, sql)
    assert a == b, sql
    return a


W = "FROM wf_t ORDER BY id"


@pytest.mark.parametrize("sql", [
    # ranking
    "SELECT id, row_number() OVER (PARTITION BY g ORDER BY v, id) " + W,
    "SELECT id, rank() OVER (PARTITION BY g ORDER BY v), dense_rank() OVER (PARTITION BY g ORDER BY v) " + W,
    "SELECT id, rank() OVER (ORDER BY v DESC NULLS LAST), dense_rank() OVER (ORDER BY v NULLS FIRST) " + W,
    "SELECT id, percent_rank() OVER (PARTITION BY g ORDER BY v), cume_dist() OVER (PARTITION BY g ORDER BY v) " + W,
    "SELECT id, percent_rank() OVER (), cume_dist() OVER (), rank() OVER () " + W,
    "SELECT id, ntile(3) OVER (ORDER BY id), ntile(5) OVER (PARTITION BY g ORDER BY id), ntile(20) OVER (ORDER BY id) " + W,
    "SELECT id, ntile(NULL) OVER (ORDER BY id) " + W,
    # offsets
    "SELECT id, lag(v) OVER (ORDER BY id), lead(v) OVER (ORDER BY id) " + W,
    "SELECT id, lag(v, 2) OVER (PARTITION BY g ORDER BY id), lead(v, 2, -1) OVER (PARTITION BY g ORDER BY id) " + W,
    "SELECT id, lag(s, 1, 'none') OVER (ORDER BY id), lead(f, -1) OVER (ORDER BY id), lag(v, NULL) OVER (ORDER BY id) " + W,
    "SELECT id, lag(v, 0) OVER (ORDER BY id), lead(id, 100, 0) OVER (ORDER BY id) " + W,
    # values in frames
    "SELECT id, first_value(v) OVER w, last_value(v) OVER w, nth_value(v, 2) OVER w FROM wf_t WINDOW w AS (PARTITION BY g ORDER BY id) ORDER BY id",
    "SELECT id, first_value(s) OVER w, last_value(s) OVER w, nth_value(s, 3) OVER w FROM wf_t "
    "WINDOW w AS (ORDER BY v, id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) ORDER BY id",
    "SELECT id, last_value(id) OVER (ORDER BY v, id RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) " + W,
    "SELECT id, nth_value(id, 2) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) " + W,
    # aggregates with the default frame (peers included) and whole partitions
    "SELECT id, sum(v) OVER (PARTITION BY g ORDER BY v), count(*) OVER (PARTITION BY g ORDER BY v) " + W,
    "SELECT id, sum(v) OVER (), count(v) OVER (), min(s) OVER (), max(f) OVER (), avg(f) OVER () " + W,
    "SELECT id, sum(v) OVER (PARTITION BY g), min(v) OVER (PARTITION BY g), max(s) OVER (PARTITION BY g) " + W,
    "SELECT id, avg(f) OVER (ORDER BY id), sum(f) OVER (ORDER BY f DESC) " + W,
    "SELECT id, string_agg(s, ',') OVER (ORDER BY id), string_agg(s, '-') OVER (PARTITION BY g ORDER BY s DESC) " + W,
    # ROWS frames
    "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) " + W,
    "SELECT id, sum(v) OVER (ORDER BY id ROWS 2 PRECEDING), count(*) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING) " + W,
    "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING), "
    "sum(v) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) " + W,
    "SELECT id, avg(f) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) " + W,
    "SELECT id, count(*) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 0 PRECEDING AND 0 FOLLOWING) " + W,
    "SELECT id, sum(f) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND UNBOUNDED FOLLOWING) " + W,
    # RANGE frames with offsets (integer and float keys, NULL keys, DESC)
    "SELECT id, count(*) OVER (ORDER BY v RANGE BETWEEN 5 PRECEDING AND 5 FOLLOWING) " + W,
    "SELECT id, sum(v) OVER (ORDER BY v DESC RANGE BETWEEN 10 PRECEDING AND CURRENT ROW) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v NULLS FIRST RANGE BETWEEN 1 PRECEDING AND 15 FOLLOWING) " + W,
    "SELECT id, count(*) OVER (ORDER BY f RANGE BETWEEN 1.0 PRECEDING AND 0.5 FOLLOWING) " + W,
    "SELECT id, count(*) OVER (PARTITION BY g ORDER BY f DESC RANGE BETWEEN 2 PRECEDING AND 2 FOLLOWING) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND 5 PRECEDING) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v RANGE BETWEEN 5 FOLLOWING AND UNBOUNDED FOLLOWING) " + W,
    # GROUPS frames and exclusions
    "SELECT id, sum(id) OVER (ORDER BY v GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING) " + W,
    "SELECT id, count(*) OVER (ORDER BY g GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) " + W,
    "SELECT id, sum(id) OVER (ORDER BY v, id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE NO OTHERS) " + W,
    "SELECT id, min(id) OVER (ORDER BY v GROUPS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP) " + W,
    # named windows, several windows in one query
    "SELECT id, sum(v) OVER w, rank() OVER (w ORDER BY id) FROM wf_t WINDOW w AS (PARTITION BY g) ORDER BY id",
    "SELECT id, count(*) OVER w2 FROM wf_t WINDOW w1 AS (PARTITION BY g), w2 AS (w1 ORDER BY v ROWS 1 PRECEDING) ORDER BY id",
    "SELECT id, row_number() OVER (ORDER BY id DESC), sum(v) OVER (PARTITION BY g ORDER BY id), lag(s) OVER (ORDER BY s NULLS FIRST, id) " + W,
    # over GROUP BY results, expressions, ORDER BY / LIMIT after the window, subqueries
    "SELECT g, count(*), sum(count(*)) OVER (), rank() OVER (ORDER BY count(*) DESC, g) FROM wf_t GROUP BY g ORDER BY g",
    "SELECT g, sum(v), sum(sum(v)) OVER (ORDER BY g NULLS FIRST) FROM wf_t GROUP BY g ORDER BY g",
    # numeric results: sum(int8) and avg(int) are numeric, also over frames
    "SELECT id, avg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), sum(v::bigint) OVER (ORDER BY id), "
    "avg(v * 1.5) OVER (PARTITION BY g), sum(v / 4.0) OVER (ORDER BY id ROWS 2 PRECEDING) " + W,
    "SELECT g, max(v) - min(v), lag(max(v)) OVER (ORDER BY g) FROM wf_t WHERE v IS NOT NULL GROUP BY g HAVING count(*) > 1 ORDER BY g",
    "SELECT id, v * 2 + row_number() OVER (ORDER BY id) AS x " + W,
    "SELECT id, row_number() OVER (ORDER BY v DESC, id) AS rn FROM wf_t ORDER BY rn LIMIT 4",
    "SELECT id FROM wf_t ORDER BY row_number() OVER (ORDER BY id DESC) LIMIT 3 OFFSET 1",
    "SELECT * FROM (SELECT id, g, rank() OVER (PARTITION BY g ORDER BY v DESC) AS r FROM wf_t) s WHERE r = 1 ORDER BY id",
    "SELECT id, (SELECT count(*) FROM wf_t) - row_number() OVER (ORDER BY id) " + W,
    "SELECT DISTINCT g, count(*) OVER (PARTITION BY g) FROM wf_t ORDER BY g",
    "SELECT id, sum(v) OVER (PARTITION BY g % 2 ORDER BY id) " + W,
    # empty input and empty partitions
    "SELECT id, row_number() OVER (), sum(v) OVER (PARTITION BY g) FROM wf_e ORDER BY id",
    "SELECT count(*) OVER () FROM wf_t WHERE id < 0",
    "SELECT id, count(*) OVER (PARTITION BY g) FROM wf_t WHERE g = 3 ORDER BY id",
])
def test_window_functions_match_postgres(pair, sql):
    assert same(pair, sql)[0] == "ok"


@pytest.mark.parametrize("sql", [
    "SELECT id FROM wf_t WHERE row_number() OVER () > 1",
    "SELECT g FROM wf_t GROUP BY row_number() OVER ()",
    "SELECT g FROM wf_t GROUP BY g HAVING rank() OVER () > 1",
    "SELECT count(row_number() OVER ()) FROM wf_t",
    "SELECT sum(row_number() OVER ()) OVER () FROM wf_t",
    "SELECT row_number() FROM wf_t",
    "SELECT lower(s) OVER () FROM wf_t",
    "SELECT count(DISTINCT v) OVER () FROM wf_t",
    "SELECT rank(v) OVER () FROM wf_t",
    "SELECT sum(v) OVER w FROM wf_t",
    "SELECT sum(v) OVER (w PARTITION BY id) FROM wf_t WINDOW w AS (PARTITION BY g)",
    "SELECT sum(v) OVER (w ORDER BY id) FROM wf_t WINDOW w AS (ORDER BY g)",
    "SELECT sum(v) OVER (w) FROM wf_t WINDOW w AS (ORDER BY g ROWS 1 PRECEDING)",
    "SELECT 1 FROM wf_t WINDOW w AS (), w AS ()",
    "SELECT sum(v) OVER (ORDER BY v, id RANGE 1 PRECEDING) FROM wf_t",
    "SELECT sum(v) OVER (GROUPS 1 PRECEDING) FROM wf_t",
    "SELECT sum(v) OVER (ORDER BY s RANGE 1 PRECEDING) FROM wf_t",
    "SELECT sum(v) OVER (ORDER BY id ROWS -1 PRECEDING) FROM wf_t",
    "SELECT sum(v) OVER (ORDER BY id ROWS NULL PRECEDING) FROM wf_t",
    "SELECT sum(v) OVER (ORDER BY id RANGE BETWEEN -1 PRECEDING AND CURRENT ROW) FROM wf_t",
    "SELECT sum(v) OVER (ORDER BY id ROWS id PRECEDING) FROM wf_t",
    "SELECT ntile(0) OVER (ORDER BY id) FROM wf_t",
    "SELECT nth_value(v, 0) OVER (ORDER BY id) FROM wf_t",
    "SELECT sum(v) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM wf_t",
    "UPDATE wf_t SET v = row_number() OVER ()",
])
def test_window_errors_match_postgres(pair, sql):
    assert same(pair, sql)[0] == "error"


def test_window_explain(pair):
    ours, _ = pair      # the server under test (PostgreSQL itself with NEXTDB_TEST_TARGET=postgres)
    kind, rows = _run(ours, "EXPLAIN SELECT id, row_number() OVER (PARTITION BY g ORDER BY id) FROM wf_t")
    assert kind == "ok"
    # plan nodes only (PostgreSQL adds costs and "Sort Key:" detail lines)
    lines = [r[0].split("  (")[0].strip() for r in rows]
    nodes = [ln for i, ln in enumerate(lines) if i == 0 or ln.startswith("->")]
    assert nodes == ["WindowAgg", "->  Sort", "->  Seq Scan on wf_t"], lines
