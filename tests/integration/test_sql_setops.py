"""test_sql_setops.py -- set operations, CREATE INDEX and many-table joins, the SQL
that the sqllogictest corpus (select4, select5, index/*) leans on. Every query runs on
the server under test and on a reference PostgreSQL 15 with the same data, and the
answers must be equal; errors must carry PostgreSQL's SQLSTATE."""
import psycopg2
import pytest

SETUP = [
    "CREATE TABLE so_a (k int PRIMARY KEY, x int, y text)",
    "CREATE TABLE so_b (k int PRIMARY KEY, x int, y text)",
    "INSERT INTO so_a VALUES (1, 1, 'p'), (2, 1, 'p'), (3, NULL, 'q'), (4, 2, NULL), (5, 3, 'r')",
    "INSERT INTO so_b VALUES (1, 1, 'p'), (2, NULL, 'q'), (3, NULL, 'q'), (4, 7, 's')",
]
DROP = ["DROP TABLE IF EXISTS so_a", "DROP TABLE IF EXISTS so_b"]


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
    ours.close()
    ours = server.connect(autocommit=True)   # a later test restarts the server
    for sql in DROP:
        for c in (ours, ref):
            _run(c, sql)
    ours.close()
    ref.close()


def same(pair, sql, ordered=False):
    ours, ref = pair
    a, b = _run(ours, sql), _run(ref, sql)
    if not ordered and a[0] == "ok" and a[1] is not None and b[1] is not None:
        key = lambda r: tuple((v is None, str(v)) for v in r)
        a, b = ("ok", sorted(a[1], key=key)), ("ok", sorted(b[1], key=key))
    assert a == b, sql
    return a


@pytest.mark.parametrize("sql", [
    "SELECT x, y FROM so_a INTERSECT SELECT x, y FROM so_b",
    "SELECT x, y FROM so_a EXCEPT SELECT x, y FROM so_b",
    "SELECT x FROM so_b EXCEPT SELECT x FROM so_a",
    "SELECT y FROM so_a INTERSECT SELECT y FROM so_b ORDER BY 1 DESC",
    "SELECT x FROM so_a EXCEPT SELECT x FROM so_b UNION SELECT 9 INTERSECT SELECT 9",
    "SELECT 1 UNION SELECT NULL",
    "SELECT NULL INTERSECT SELECT NULL",
    "SELECT x FROM so_a UNION ALL SELECT '5' ORDER BY 1",
    "SELECT * FROM (SELECT x FROM so_a INTERSECT SELECT x FROM so_b) s WHERE x IS NULL",
    "SELECT count(*) FROM so_a WHERE x IN (SELECT x FROM so_a EXCEPT SELECT 1)",
    "SELECT x FROM so_a EXCEPT SELECT x FROM so_b ORDER BY x LIMIT 1",
])
def test_set_operations_match_postgres(pair, sql):
    same(pair, sql, ordered="ORDER BY" in sql)


@pytest.mark.parametrize("sql", [
    "SELECT 1 INTERSECT SELECT 1, 2",
    "SELECT 1 EXCEPT SELECT 'x'",
    "SELECT 1 INTERSECT SELECT true",
])
def test_set_operation_errors_match_postgres(pair, sql):
    assert same(pair, sql)[0] == "error"


@pytest.mark.parametrize("sql", [
    "SELECT x, y FROM so_a INTERSECT ALL SELECT x, y FROM so_b",
    "SELECT x, y FROM so_a EXCEPT ALL SELECT x, y FROM so_b",
    "SELECT y FROM so_b EXCEPT ALL SELECT y FROM so_a",
    "SELECT x FROM so_a INTERSECT ALL SELECT x FROM so_a ORDER BY 1",
    "SELECT 1 EXCEPT ALL SELECT 1",
])
def test_intersect_except_all_match_postgres(pair, sql):
    same(pair, sql, ordered="ORDER BY" in sql)


def test_many_table_join_in_where_order(pair):
    """Tables listed so that FROM order alone would build cross products."""
    ours, ref = pair
    for c in (ours, ref):
        for i in range(1, 6):
            _run(c, "DROP TABLE IF EXISTS so_j%d" % i)
            assert _run(c, "CREATE TABLE so_j%d (a int PRIMARY KEY, b int)" % i)[0] == "ok"
            vals = ", ".join("(%d, %d)" % (r, (r * (i + 2)) % 300) for r in range(300))
            assert _run(c, "INSERT INTO so_j%d VALUES %s" % (i, vals))[0] == "ok"
    same(pair, "SELECT so_j1.a, so_j2.b, so_j5.b FROM so_j1, so_j2, so_j3, so_j4, so_j5 "
               "WHERE so_j1.a = so_j5.b AND so_j5.a = so_j3.b AND so_j3.a = so_j2.a "
               "AND so_j4.a = so_j2.b AND so_j4.b < 100 ORDER BY 1, 2, 3", ordered=True)
    same(pair, "SELECT count(*), sum(so_j3.b) FROM so_j1, so_j2, so_j3 "
               "WHERE so_j3.a = so_j1.b AND so_j1.a < 50 AND so_j2.a < 3")
    same(pair, "SELECT * FROM so_j1, so_j2, so_j3 WHERE so_j1.a = so_j3.a AND so_j3.a = 7 "
               "AND so_j2.a = so_j1.a + 1")
    for c in (ours, ref):
        for i in range(1, 6):
            _run(c, "DROP TABLE so_j%d" % i)


def test_create_index_is_recorded_and_dropped(pair):
    ours, ref = pair
    for c in (ours, ref):
        assert _run(c, "DROP TABLE IF EXISTS so_i")[0] == "ok"
        assert _run(c, "CREATE TABLE so_i (pk int PRIMARY KEY, a int, b text)")[0] == "ok"
        assert _run(c, "INSERT INTO so_i VALUES (1, 1, 'x'), (2, 2, 'y'), (3, 2, 'z')")[0] == "ok"
    for sql in ["CREATE INDEX so_i_a ON so_i (a DESC, b)",
                "CREATE INDEX so_i_a ON so_i (b)",              # 42P07
                "CREATE INDEX IF NOT EXISTS so_i_a ON so_i (b)",
                "CREATE INDEX so_i_pkey ON so_i (b)",           # the primary key's index name
                "CREATE INDEX so_i ON so_i (b)",                # a table's name
                "CREATE INDEX ON so_i (nope)",                  # 42703
                "CREATE INDEX ON no_such_table (a)",            # 42P01
                "CREATE INDEX ON so_i (b)",
                "SELECT a, b FROM so_i WHERE a = 2 ORDER BY b",
                "DROP INDEX so_i_b_idx",
                "DROP INDEX so_i_b_idx",                        # 42704
                "DROP INDEX IF EXISTS so_i_b_idx, so_i_a",
                "CREATE INDEX so_i_a ON so_i (a)"]:
        same(pair, sql, ordered=True)
    for c in (ours, ref):
        _run(c, "DROP TABLE so_i")
    same(pair, "DROP INDEX so_i_a")   # dropped with its table


def test_unique_index_is_enforced(pair):
    ours, ref = pair
    for c in (ours, ref):
        assert _run(c, "DROP TABLE IF EXISTS so_u")[0] == "ok"
        assert _run(c, "CREATE TABLE so_u (pk int PRIMARY KEY, a int, b int)")[0] == "ok"
        assert _run(c, "INSERT INTO so_u VALUES (1, 1, 1), (2, 2, NULL), (3, 2, NULL)")[0] == "ok"
    for sql in ["CREATE UNIQUE INDEX so_u_a ON so_u (a)",       # 23505: a = 2 twice
                "CREATE UNIQUE INDEX so_u_ab ON so_u (a, b)",   # NULLs are distinct
                "INSERT INTO so_u VALUES (4, 2, NULL)",
                "INSERT INTO so_u VALUES (5, 1, 1)",            # 23505
                "INSERT INTO so_u VALUES (6, 1, 2), (7, 1, 2)", # 23505 within one statement
                "UPDATE so_u SET b = 1 WHERE pk = 2",
                "UPDATE so_u SET b = 1 WHERE pk = 3",           # 23505
                "DELETE FROM so_u WHERE pk = 1",
                "UPDATE so_u SET b = 1 WHERE pk = 3",           # free again
                "SELECT * FROM so_u ORDER BY pk"]:
        same(pair, sql, ordered=True)
    # a failed statement inside a block aborts the block; its rows are gone after ROLLBACK
    cur = ours.cursor()
    cur.execute("BEGIN")
    cur.execute("INSERT INTO so_u VALUES (10, 10, 10)")
    with pytest.raises(psycopg2.Error) as ei:
        cur.execute("INSERT INTO so_u VALUES (11, 10, 10)")
    assert ei.value.pgcode == "23505"
    cur.execute("ROLLBACK")
    cur.execute("SELECT count(*) FROM so_u WHERE pk >= 10")
    assert cur.fetchone() == (0,)
    for c in (ours, ref):
        _run(c, "DROP TABLE so_u")


@pytest.mark.nextdb_only
def test_unique_index_survives_restart(server):
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS so_r")
    cur.execute("CREATE TABLE so_r (pk int PRIMARY KEY, a int)")
    cur.execute("CREATE UNIQUE INDEX so_r_a ON so_r (a)")
    cur.execute("INSERT INTO so_r VALUES (1, 1)")
    conn.close()
    server.restart()
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as ei:
        cur.execute("INSERT INTO so_r VALUES (2, 1)")
    assert ei.value.pgcode == "23505"
    cur.execute("DROP INDEX so_r_a")
    cur.execute("INSERT INTO so_r VALUES (2, 1)")
    cur.execute("DROP TABLE so_r")
    conn.close()
