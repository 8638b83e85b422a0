"""test_sql_cte.py -- WITH queries (sql/parse.c inlining) and WITH RECURSIVE
(sql/bind_cte.c, sql/exec_cte.c). Every query runs on the server under test and on a
reference PostgreSQL 15 with the same data (rows spread over both shards) and the
answers must be equal; errors must carry PostgreSQL's SQLSTATE."""
import psycopg2
import pytest

SETUP = [
    "CREATE TABLE cte_tree (id int PRIMARY KEY, parent int, name text)",
    "INSERT INTO cte_tree VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'a1'), (5, 2, 'a2'),"
    " (6, 4, 'a1x'), (7, 3, 'b1'), (8, NULL, 'other'), (9, 8, 'o1')",
    "CREATE TABLE cte_edge (src int, dst int, PRIMARY KEY (src, dst))",
    "INSERT INTO cte_edge VALUES (1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 4), (6, 7)",
    "CREATE TABLE cte_t (id int PRIMARY KEY, g int, v int)",
    "INSERT INTO cte_t VALUES (1, 1, 10), (2, 1, 20), (3, 2, NULL), (4, NULL, 5), (5, 2, 7), (6, 3, 1)",
    "CREATE TABLE cte_dst (id int PRIMARY KEY, v int)",
]
DROP = ["DROP TABLE IF EXISTS cte_tree", "DROP TABLE IF EXISTS cte_edge", "DROP TABLE IF EXISTS cte_t",
        "DROP TABLE IF EXISTS cte_dst"]


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else cur.rowcount)
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


def same(pair, sql, ordered=False):
    ours, ref = pair
    a, b = _run(ours, sql), _run(ref, sql)
    if not ordered and a[0] == "ok" and isinstance(a[1], list) and isinstance(b[1], list):
        key = lambda r: tuple((v is None, str(v)) for v in r)
        a, b = ("ok", sorted(a[1], key=key)), ("ok", sorted(b[1], key=key))
    assert a == b, sql
    return a


@pytest.mark.parametrize("sql", [
    # non-recursive
    "WITH a AS (SELECT id, v FROM cte_t WHERE v > 5) SELECT * FROM a",
    "WITH a AS (SELECT id, v FROM cte_t), b AS (SELECT id, v * 2 AS w FROM a WHERE v IS NOT NULL) "
    "SELECT a.id, a.v, b.w FROM a JOIN b ON a.id = b.id",
    "WITH a(x, y) AS (SELECT id, v FROM cte_t) SELECT x, y FROM a WHERE y < 15",
    "WITH a AS MATERIALIZED (SELECT g, count(*) AS n FROM cte_t GROUP BY g) SELECT * FROM a x, a y WHERE x.g = y.g",
    "WITH a AS NOT MATERIALIZED (SELECT id FROM cte_t) SELECT count(*) FROM a",
    "WITH a AS (SELECT 1 AS k) SELECT * FROM cte_t WHERE id IN (SELECT k FROM a)",
    "WITH a AS (SELECT id FROM cte_t) SELECT (SELECT max(id) FROM a), (SELECT min(id) FROM a)",
    "WITH a AS (SELECT id FROM cte_t), b AS (SELECT * FROM a WHERE id > 2), c AS (SELECT * FROM b WHERE id < 5) SELECT * FROM c",
    # WITH RECURSIVE: series, tree walk, graph with UNION dedup terminating
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 10) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100) SELECT sum(n), count(*) FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s) SELECT * FROM s LIMIT 5",
    "WITH RECURSIVE s(n, f) AS (SELECT 1, 1::bigint UNION ALL SELECT n + 1, f * (n + 1) FROM s WHERE n < 15) SELECT * FROM s",
    "WITH RECURSIVE sub(id, name, depth) AS (SELECT id, name, 0 FROM cte_tree WHERE parent IS NULL "
    "UNION ALL SELECT t.id, t.name, sub.depth + 1 FROM cte_tree t JOIN sub ON t.parent = sub.id) SELECT * FROM sub",
    "WITH RECURSIVE up(id, parent) AS (SELECT id, parent FROM cte_tree WHERE id = 6 "
    "UNION ALL SELECT t.id, t.parent FROM cte_tree t, up WHERE t.id = up.parent) SELECT id FROM up",
    "WITH RECURSIVE reach(n) AS (SELECT 1 UNION SELECT e.dst FROM cte_edge e JOIN reach r ON e.src = r.n) SELECT * FROM reach",
    "WITH RECURSIVE reach(n) AS (VALUES (6), (6) UNION SELECT e.dst FROM cte_edge e, reach r WHERE e.src = r.n) SELECT * FROM reach",
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION SELECT (n + 1) % 5 FROM c) SELECT * FROM c",
    "WITH RECURSIVE c(a, b) AS (SELECT NULL::int, 1 UNION SELECT a, (b + 1) % 3 FROM c) SELECT * FROM c",
    "WITH RECURSIVE p(id, path) AS (SELECT id, name FROM cte_tree WHERE id = 1 "
    "UNION ALL SELECT t.id, p.path || '/' || t.name FROM cte_tree t JOIN p ON t.parent = p.id) SELECT * FROM p ORDER BY path",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 5) "
    "SELECT a.n, b.n FROM s a JOIN s b ON a.n = b.n + 1",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 5), "
    "t(m) AS (SELECT n FROM s UNION ALL SELECT m * 10 FROM t WHERE m < 100) SELECT * FROM t",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3) SELECT * FROM cte_t WHERE id IN (SELECT n FROM s)",
    "WITH RECURSIVE x AS (SELECT 1 AS a UNION ALL SELECT 2) SELECT * FROM x",
    "WITH RECURSIVE s(n) AS (SELECT 2 UNION ALL SELECT n * n FROM s WHERE n < 1000) "
    "SELECT n, row_number() OVER (ORDER BY n DESC) FROM s",
    "SELECT (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 4) SELECT sum(n) FROM s)",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT s.n + x.c::int FROM s JOIN (SELECT g, count(*) AS c FROM cte_t GROUP BY g) x "
    "ON x.g = s.n WHERE s.n < 10) SELECT * FROM s",
])
def test_cte_match_postgres(pair, sql):
    assert same(pair, sql, ordered="ORDER BY path" in sql)[0] == "ok"


def test_cte_in_dml(pair):
    for sql in [
        "WITH src AS (SELECT id, v FROM cte_t WHERE v IS NOT NULL) INSERT INTO cte_dst SELECT id, v FROM src",
        "WITH RECURSIVE s(n) AS (SELECT 100 UNION ALL SELECT n + 1 FROM s WHERE n < 104) INSERT INTO cte_dst SELECT n, n FROM s",
        "WITH big AS (SELECT id FROM cte_t WHERE v > 8) UPDATE cte_dst SET v = v + 1 WHERE id IN (SELECT id FROM big)",
        "WITH gone AS (SELECT 101 AS id UNION ALL SELECT 102) DELETE FROM cte_dst WHERE id IN (SELECT id FROM gone)",
        "SELECT * FROM cte_dst ORDER BY id",
    ]:
        same(pair, sql, ordered=True)


@pytest.mark.parametrize("sql", [
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n::bigint + 1 FROM s WHERE n < 5) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT n FROM s UNION ALL SELECT 1) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT a.n FROM s a, s b) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT 2 WHERE 1 IN (SELECT n FROM s)) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1, n FROM s) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT n + 1 FROM s) SELECT * FROM s",
    "WITH a AS (SELECT 1), a AS (SELECT 2) SELECT * FROM a",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT count(*) FROM s) SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT t.id FROM cte_t t LEFT JOIN s ON t.id = s.n + 1 WHERE t.id < 3) SELECT * FROM s",
])
def test_cte_errors_match_postgres(pair, sql):
    ours, ref = pair
    a, b = _run(ours, sql), _run(ref, sql)
    assert a[0] == "error", sql
    assert a == b, sql


@pytest.mark.nextdb_only     # PostgreSQL runs these; NextDB refuses them by name
@pytest.mark.parametrize("sql", [
    "WITH a AS (DELETE FROM cte_dst RETURNING id) SELECT * FROM a",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3) SEARCH DEPTH FIRST BY n SET o SELECT * FROM s",
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3) CYCLE n SET c USING p SELECT * FROM s",
])
def test_cte_unsupported(pair, sql):
    assert _run(pair[0], sql) == ("error", "0A000"), sql


@pytest.mark.nextdb_only     # PostgreSQL has no bound: it would run until memory ends
def test_recursion_bound(pair):
    ours, _ = pair
    kind, code = _run(ours, "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s) SELECT count(*) FROM s")
    assert (kind, code) == ("error", "54000")


def test_recursive_explain(pair):
    ours, _ = pair
    kind, rows = _run(ours, "EXPLAIN WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3) SELECT * FROM s")
    assert kind == "ok"
    lines = [r[0].split("  (")[0].strip() for r in rows]     # PostgreSQL adds costs
    assert lines[0] == "CTE Scan on s", lines
    assert "->  Recursive Union" in lines, lines
    assert any(ln.startswith("->  WorkTable Scan on s") for ln in lines), lines
