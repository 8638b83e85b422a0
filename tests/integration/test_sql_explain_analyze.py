"""test_sql_explain_analyze.py -- EXPLAIN ANALYZE (sql/explain_analyze.c, sql/explain.c).

The same data lives on the server under test and on a reference PostgreSQL 15.
* Shape: for plans both build alike, the node lines (names, nesting, and with
  TIMING OFF the exact `(actual rows=N loops=L)` where PostgreSQL's row counts are
  ours too) equal PostgreSQL's; with TIMING on the figures have PostgreSQL's format,
  and the Planning / Execution Time footer is there unless SUMMARY OFF.
* Rows: the top node's rows are the rows the query returns, and (NextDB) the
  `Shard n:` lines under a node add up to that node's rows, for scans, filters,
  joins, aggregates, sort / limit, window, CTE, subqueries, UNION and DML.
* DML really runs: inside a rolled-back transaction the data is unchanged, in
  autocommit it commits, as in PostgreSQL.
* Options: PostgreSQL's errors (SQLSTATE and message) for bad ones.
"""
import re

import psycopg2
import pytest

import harness
from refcompare import pair_fixture, run, run_msg

NEXTDB = harness.TARGET != "postgres"

SETUP = [
    "CREATE TABLE ea_t (id int PRIMARY KEY, g int, v int)",
    "INSERT INTO ea_t SELECT i, i % 4, (i * 37) % 101 FROM generate_series(1, 120) i",
    "CREATE TABLE ea_u (id int PRIMARY KEY, t_id int, w text)",
    "INSERT INTO ea_u SELECT i, (i * 7) % 130, 'w' || i FROM generate_series(1, 60) i",
]
DROP = ["DROP TABLE IF EXISTS ea_t", "DROP TABLE IF EXISTS ea_u"]

EA = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
NODE = re.compile(r"^(\s*(?:->  )?)(.*?) \((?:actual (?:time=[\d.]+\.\.[\d.]+ )?rows=(\d+) loops=(\d+)|never executed)\)$")
SHARD = re.compile(r"^\s*Shard (\d+):  actual (?:time=[\d.]+\.\.[\d.]+ )?rows=(\d+) loops=(\d+)$")


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    yield from pair_fixture(server, pg_reference, SETUP, DROP)


def plan(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    lines = [r[0] for r in cur.fetchall()]
    cur.close()
    return lines


def nodes(lines):
    """[(indent, name, rows, loops)] of the node lines, rows/loops None if never executed."""
    out = []
    for ln in lines:
        m = NODE.match(ln)
        if m and (not out or m.group(1)):
            out.append((m.group(1), m.group(2), m.group(3) and int(m.group(3)), m.group(4) and int(m.group(4))))
    return out


def tree(lines):
    """Node lines with the shard lines that belong to each: [(rows*loops, [shard rows*loops])]."""
    out = []
    for ln in lines:
        m, s = NODE.match(ln), SHARD.match(ln)
        if m and m.group(3) is not None:
            out.append([int(m.group(3)) * int(m.group(4)), []])
        elif m:
            out.append([0, []])
        elif s:
            out[-1][1].append(int(s.group(2)) * int(s.group(3)))
    return out


# Plans PostgreSQL builds the same way, row counts included.
SAME_ROWS = [
    "SELECT * FROM ea_t",
    "SELECT * FROM ea_t WHERE g = 1",
    "SELECT * FROM ea_t ORDER BY v, id",
    "SELECT id, row_number() OVER (PARTITION BY g ORDER BY id) FROM ea_t",
    "SELECT 1",
]
# Same nodes and nesting; rows differ by design (per-shard partial aggregates and
# top-k, batches under LIMIT).
SAME_SHAPE = [
    "SELECT count(*) FROM ea_t",
    "SELECT * FROM ea_t ORDER BY v LIMIT 5",
    "SELECT sum(v) FROM ea_t WHERE g = 2",
]


@pytest.mark.parametrize("sql", SAME_ROWS)
def test_nodes_and_rows_match_postgres(pair, sql):
    ours, ref = pair
    a, b = nodes(plan(ours, EA + sql)), nodes(plan(ref, EA + sql))
    assert a == b, (sql, a, b)


@pytest.mark.parametrize("sql", SAME_SHAPE)
def test_shape_matches_postgres(pair, sql):
    ours, ref = pair
    a, b = nodes(plan(ours, EA + sql)), nodes(plan(ref, EA + sql))
    assert [n[:2] for n in a] == [n[:2] for n in b], (sql, a, b)
    assert a[0][2] == b[0][2]      # the top node returns what the query returns


@pytest.mark.parametrize("stmt,check", [
    ("UPDATE ea_t SET v = v + 1000 WHERE g = 3", "SELECT count(*) FROM ea_t WHERE v >= 1000"),
    ("DELETE FROM ea_t WHERE g = 2", "SELECT count(*) FROM ea_t"),
    ("INSERT INTO ea_t VALUES (500, 1, 1)", "SELECT count(*) FROM ea_t"),
    ("INSERT INTO ea_t VALUES (501, 1, 1), (502, 2, 2), (503, 3, 3)", "SELECT count(*) FROM ea_t"),
    ("UPDATE ea_t SET v = 0 WHERE g = 1 RETURNING id", "SELECT count(*) FROM ea_t WHERE v = 0"),
    ("UPDATE ea_t SET id = id + 1000 WHERE g = 3", "SELECT count(*) FROM ea_t WHERE id > 1000"),
])
def test_dml_in_rolled_back_transaction(pair, stmt, check):
    """Same node lines as PostgreSQL; the writes are seen inside the transaction and
    gone after ROLLBACK."""
    results = []
    for conn in pair:
        cur = conn.cursor()
        before = run(conn, check)
        cur.execute("BEGIN")
        lines = plan(conn, EA + stmt)
        inside = run(conn, check)
        cur.execute("ROLLBACK")
        after = run(conn, check)
        cur.close()
        assert inside != before and after == before, (stmt, before, inside, after)
        results.append((nodes(lines), inside))
        if NEXTDB and conn is pair[0]:
            for rows, shards in tree(lines):
                if shards and not stmt.startswith("INSERT"):
                    assert sum(shards) == rows, (stmt, lines)
    assert results[0] == results[1], stmt


def test_dml_autocommit_commits(pair):
    for conn in pair:
        plan(conn, EA + "INSERT INTO ea_t VALUES (900, 0, 0)")
        assert run(conn, "SELECT v FROM ea_t WHERE id = 900")[2] == [(0,)]
        plan(conn, EA + "DELETE FROM ea_t WHERE id = 900")
        assert run(conn, "SELECT v FROM ea_t WHERE id = 900")[2] == []


def test_timing_format_and_summary(pair):
    for conn in pair:
        lines = plan(conn, "EXPLAIN ANALYZE SELECT * FROM ea_t WHERE g = 1 ORDER BY v")
        top = re.match(r"^Sort (?: \(cost=[^)]*\) )?\(actual time=(\d+\.\d{3})\.\.(\d+\.\d{3}) rows=30 loops=1\)$", lines[0])
        assert top and float(top.group(1)) <= float(top.group(2)), lines
        assert re.match(r"^Planning Time: \d+\.\d{3} ms$", lines[-2]), lines
        assert re.match(r"^Execution Time: \d+\.\d{3} ms$", lines[-1]), lines
        lines = plan(conn, "EXPLAIN (ANALYZE, SUMMARY OFF) SELECT * FROM ea_t")
        assert not any("Time:" in ln for ln in lines), lines
        lines = plan(conn, "EXPLAIN (SUMMARY) SELECT * FROM ea_t")
        assert re.match(r"^Planning Time: \d+\.\d{3} ms$", lines[-1]) and "actual" not in lines[0], lines
        # accepted options; BUFFERS prints no invented counters
        plan(conn, "EXPLAIN (ANALYZE, VERBOSE, BUFFERS, COSTS OFF, SETTINGS, FORMAT TEXT) SELECT count(*) FROM ea_t")
        assert nodes(plan(conn, "EXPLAIN (ANALYZE false, COSTS false) SELECT 1")) == []


ROW_QUERIES = [
    "SELECT * FROM ea_t",
    "SELECT * FROM ea_t WHERE v > 50",
    "SELECT * FROM ea_t WHERE id = 7",
    "SELECT * FROM ea_t WHERE id = -7",
    "SELECT * FROM ea_t WHERE false AND g = 1",
    "SELECT * FROM ea_t t JOIN ea_u u ON u.t_id = t.id",
    "SELECT * FROM ea_t t LEFT JOIN ea_u u ON u.t_id = t.id",
    "SELECT * FROM ea_t t JOIN ea_u u ON u.t_id < t.id AND t.id < 4",
    "SELECT g, count(*), sum(v) FROM ea_t GROUP BY g",
    "SELECT g, string_agg(v::text, ',') FROM ea_t GROUP BY g",
    "SELECT * FROM ea_t ORDER BY v DESC LIMIT 7",
    "SELECT * FROM ea_t ORDER BY v LIMIT 4 OFFSET 3",
    "SELECT id, sum(v) OVER (PARTITION BY g ORDER BY id) FROM ea_t",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 9) SELECT * FROM s",
    "WITH q AS (SELECT * FROM ea_t WHERE g = 1) SELECT * FROM q WHERE v < 60",
    "SELECT * FROM ea_t WHERE id IN (SELECT t_id FROM ea_u)",
    "SELECT id, (SELECT count(*) FROM ea_u u WHERE u.t_id = t.id) FROM ea_t t WHERE id < 10",
    "SELECT * FROM ea_t t, LATERAL (SELECT u.id FROM ea_u u WHERE u.t_id > t.id LIMIT 2) x WHERE t.id < 5",
    "SELECT g FROM ea_t UNION SELECT t_id FROM ea_u",
    "SELECT g FROM ea_t UNION ALL SELECT t_id FROM ea_u",
    "SELECT g FROM ea_t INTERSECT SELECT t_id FROM ea_u",
    "SELECT DISTINCT g FROM ea_t",
    "SELECT count(*) FROM generate_series(1, 77)",
]


@pytest.mark.parametrize("sql", ROW_QUERIES)
def test_rows_are_exact(pair, sql):
    ours, ref = pair
    lines = plan(ours, EA + sql)
    want = len(run(ours, sql)[2])
    assert want == len(run(ref, sql)[2]), sql
    t = tree(lines)
    assert t[0][0] == want, (sql, lines)
    ref_lines = plan(ref, EA + sql)
    assert tree(ref_lines)[0][0] == want, (sql, ref_lines)
    if NEXTDB:
        for rows, shards in t:
            if shards:
                assert sum(shards) == rows, (sql, lines)


def test_shard_lines(pair):
    """One line per shard under the fanned-out scan, a single one for a point get;
    pushed-down aggregates and top-k report what each shard returned."""
    if not NEXTDB:
        pytest.skip("per-shard lines are NextDB's")
    ours, _ = pair
    n = run(ours, "SELECT count(*) FROM ea_t")[2][0][0]
    lines = plan(ours, EA + "SELECT * FROM ea_t")
    shards = [SHARD.match(ln) for ln in lines if SHARD.match(ln)]
    assert len(shards) == 2 and sum(int(m.group(2)) for m in shards) == n, lines
    lines = plan(ours, EA + "SELECT * FROM ea_t WHERE id = 7")
    assert len([ln for ln in lines if SHARD.match(ln)]) == 1, lines
    lines = plan(ours, EA + "SELECT g, count(*) FROM ea_t GROUP BY g")
    assert [int(SHARD.match(ln).group(2)) for ln in lines if SHARD.match(ln)] == [4, 4], lines
    lines = plan(ours, EA + "SELECT * FROM ea_t ORDER BY v LIMIT 5")
    assert [int(SHARD.match(ln).group(2)) for ln in lines if SHARD.match(ln)] == [5, 5], lines
    lines = plan(ours, "EXPLAIN ANALYZE SELECT * FROM ea_t")
    assert all(re.match(r"^\s+Shard \d:  actual time=\d+\.\d{3}\.\.\d+\.\d{3} rows=\d+ loops=1$", ln)
               for ln in lines if "Shard" in ln), lines
    # UPDATE: the scan's shard lines count the rows each shard changed
    cur = ours.cursor()
    cur.execute("BEGIN")
    lines = plan(ours, EA + "UPDATE ea_t SET v = v WHERE g = 0")
    cur.execute("ROLLBACK")
    cur.close()
    t = tree(lines)
    assert t[0][0] == 0 and t[1][0] == 30 and sum(t[1][1]) == 30, lines


@pytest.mark.parametrize("sql,state", [
    ("EXPLAIN (FOO) SELECT 1", "42601"),
    ("EXPLAIN (TIMING) SELECT 1", "22023"),
    ("EXPLAIN (ANALYZE 'maybe') SELECT 1", "42601"),
    ("EXPLAIN (FORMAT 'csv') SELECT 1", "22023"),
    ("EXPLAIN (WAL) SELECT 1", "22023"),
    ("EXPLAIN ANALYZE CREATE TABLE ea_x (a int)", "42601"),
    ("EXPLAIN ANALYZE SELECT 1 / (id - id) FROM ea_t", "22012"),
])
def test_option_errors(pair, sql, state):
    ours, ref = pair
    a, b = run_msg(ours, sql), run_msg(ref, sql)
    assert a == b and a[1] == state, (sql, a, b)


def test_unsupported_formats(pair):
    if not NEXTDB:
        pytest.skip("PostgreSQL has the other formats")
    ours, _ = pair
    for fmt in ("JSON", "YAML", "XML"):
        a = run_msg(ours, "EXPLAIN (ANALYZE, FORMAT %s) SELECT 1" % fmt)
        assert a[:2] == ("error", "0A000") and fmt in a[2], a
    a = run_msg(ours, "EXPLAIN (ANALYZE, WAL) SELECT 1")
    assert a[:2] == ("error", "0A000") and "WAL" in a[2], a


def test_read_only_transaction(pair):
    for conn in pair:
        cur = conn.cursor()
        cur.execute("BEGIN READ ONLY")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(EA + "DELETE FROM ea_t")
        assert e.value.pgcode == "25006"
        cur.execute("ROLLBACK")
        cur.close()


def test_extended_protocol_prepared(server, pg_reference, pair):
    """Parse / Bind / Execute with a parameter, the same prepared statement run twice
    (psycopg 3, prepare_threshold=0): each run measures afresh."""
    import psycopg
    got = []
    for srv in (server, pg_reference):
        with psycopg.connect(srv.dsn, autocommit=True, prepare_threshold=0) as c:
            runs = []
            for g in (1, 2):
                rows = c.execute(EA + "SELECT * FROM ea_t WHERE g = %s", (g,)).fetchall()
                runs.append(nodes([r[0] for r in rows]))
            got.append(runs)
    assert got[0] == got[1], got
    assert got[0][0][0][2] == 30, got


def test_command_tag(pair):
    for conn in pair:
        for sql in ("EXPLAIN SELECT * FROM ea_t", EA + "SELECT * FROM ea_t"):
            cur = conn.cursor()
            cur.execute(sql)
            cur.fetchall()
            assert cur.statusmessage == "EXPLAIN", sql
            cur.close()


def test_hnsw_top_k(server):
    """Index Scan using an hnsw index: the ef_search the run used, each shard's k best."""
    if not NEXTDB:
        pytest.skip("NextDB's per-shard vector search")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS ea_v")
    cur.execute("CREATE TABLE ea_v (id int PRIMARY KEY, e vector(3))")
    cur.execute("INSERT INTO ea_v SELECT i, ('[' || i || ',' || (i % 7) || ',1]')::vector "
                "FROM generate_series(1, 80) i")
    cur.execute("CREATE INDEX ea_v_e ON ea_v USING hnsw (e vector_l2_ops)")
    cur.execute("SET hnsw.ef_search = 17")
    lines = plan(conn, EA + "SELECT id FROM ea_v ORDER BY e <-> '[3,3,1]' LIMIT 4")
    cur.execute("DROP TABLE ea_v")
    conn.close()
    assert any(ln.strip() == "ef_search: 17" for ln in lines), lines
    t = nodes(lines)
    assert t[0][1] == "Limit" and t[0][2] == 4 and t[2][1] == "Index Scan using ea_v_e on ea_v", lines
    shards = [int(SHARD.match(ln).group(2)) for ln in lines if SHARD.match(ln)]
    assert shards == [4, 4] and sum(shards) == t[2][2], lines
