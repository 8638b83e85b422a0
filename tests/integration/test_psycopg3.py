"""test_psycopg3.py -- the server through psycopg 3 with the binary protocol for
parameters (%b) and results (cursor(binary=True)): every common type both ways,
NULLs, error SQLSTATEs, transactions, prepared statements and SET/SHOW."""
import datetime

import psycopg
import pytest

# PostgreSQL type OIDs the server must report in RowDescription.
OID = {"int2": 21, "int4": 23, "int8": 20, "float4": 700, "float8": 701, "bool": 16,
       "text": 25, "varchar": 1043, "timestamp": 1114}


@pytest.fixture
def conn(server):
    c = psycopg.connect(server.dsn, autocommit=True)
    yield c
    c.close()


def _sqlstate(conn, sql, params=None):
    with pytest.raises(psycopg.Error) as ei:
        conn.execute(sql, params)
    return ei.value.sqlstate


def test_binary_types_round_trip(conn):
    conn.execute("DROP TABLE IF EXISTS pg3_types")
    conn.execute("CREATE TABLE pg3_types (id int4 PRIMARY KEY, a int2, b int8, c float4, "
                 "d float8, e bool, f text, g varchar(30), h timestamp)")
    ts = datetime.datetime(1999, 12, 31, 23, 59, 59, 999999)
    rows = [(1, 12345, -(2 ** 62), 0.25, 3.141592653589793, True, "text ✓", "var", ts),
            (2, -1, 2 ** 63 - 1, -1024.0, -0.0, False, "", "x" * 30,
             datetime.datetime(2038, 1, 19, 3, 14, 8)),
            (3, None, None, None, None, None, None, None, None)]
    with conn.cursor(binary=True) as cur:
        cur.executemany("INSERT INTO pg3_types VALUES (%b, %b, %b, %b, %b, %b, %b, %b, %b)",
                        [(r[0], psycopg.types.numeric.Int2(r[1]) if r[1] is not None else None,
                          r[2], psycopg.types.numeric.Float4(r[3]) if r[3] is not None else None,
                          *r[4:]) for r in rows])
        cur.execute("SELECT * FROM pg3_types ORDER BY id")
        assert [d.type_code for d in cur.description] == [
            OID[t] for t in ("int4", "int2", "int8", "float4", "float8", "bool", "text",
                             "varchar", "timestamp")]
        got = cur.fetchall()
        assert cur.pgresult.fformat(0) == 1, "results must come back in binary format"
    assert got == rows


def test_binary_params_in_where_and_expressions(conn):
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT %b::int8 + 1, %b::text || 'b', %b::bool, %b::float8 * 2, %b::int4 IS NULL",
                    (41, "a", False, 1.25, None))
        assert cur.fetchone() == (42, "ab", False, 2.5, True)
        conn.execute("DROP TABLE IF EXISTS pg3_where")
        conn.execute("CREATE TABLE pg3_where (k int8 PRIMARY KEY, v text)")
        cur.executemany("INSERT INTO pg3_where VALUES (%b, %b)", [(i, "v%d" % i) for i in range(100)])
        cur.execute("SELECT v FROM pg3_where WHERE k = %b", (77,))
        assert cur.fetchall() == [("v77",)]
        cur.execute("SELECT count(*) FROM pg3_where WHERE k >= %b AND v <> %b", (90, "v95"))
        assert cur.fetchone() == (9,)


@pytest.mark.parametrize("sql,code", [
    ("SELECT * FROM no_such_table", "42P01"),
    ("SELECT no_such_column FROM pg3_err", "42703"),
    ("INSERT INTO pg3_err VALUES (1)", "23505"),
    ("SELECT 'abc'::int", "22P02"),
    ("SELEC 1", "42601"),
])
def test_error_sqlstates(conn, sql, code):
    conn.execute("DROP TABLE IF EXISTS pg3_err")
    conn.execute("CREATE TABLE pg3_err (k int PRIMARY KEY)")
    conn.execute("INSERT INTO pg3_err VALUES (1)")
    assert _sqlstate(conn, sql) == code
    assert conn.execute("SELECT count(*) FROM pg3_err").fetchone() == (1,)


def test_error_with_binary_param(conn):
    conn.execute("DROP TABLE IF EXISTS pg3_dup")
    conn.execute("CREATE TABLE pg3_dup (k int PRIMARY KEY)")
    conn.execute("INSERT INTO pg3_dup VALUES (%b)", (5,))
    assert _sqlstate(conn, "INSERT INTO pg3_dup VALUES (%b)", (5,)) == "23505"


def test_failed_transaction_then_rollback(server):
    with psycopg.connect(server.dsn) as c:        # not autocommit: psycopg opens a tx
        c.execute("DROP TABLE IF EXISTS pg3_tx")
        c.execute("CREATE TABLE pg3_tx (k int PRIMARY KEY)")
        c.commit()
        c.execute("INSERT INTO pg3_tx VALUES (1)")
        assert _sqlstate(c, "SELECT * FROM no_such_table") == "42P01"
        assert _sqlstate(c, "SELECT 1") == "25P02"
        c.rollback()
        assert c.execute("SELECT count(*) FROM pg3_tx").fetchone() == (0,)
        c.commit()


def test_transactions_commit_and_rollback(server):
    with psycopg.connect(server.dsn, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS pg3_commit")
        c.execute("CREATE TABLE pg3_commit (k int PRIMARY KEY, v int)")
        with pytest.raises(RuntimeError):
            with c.transaction():
                c.execute("INSERT INTO pg3_commit VALUES (1, 1)")
                raise RuntimeError("roll it back")
        with c.transaction():
            c.execute("INSERT INTO pg3_commit VALUES (2, 2)")
            c.execute("UPDATE pg3_commit SET v = 20 WHERE k = 2")
        c.execute("BEGIN")
        c.execute("DELETE FROM pg3_commit")
        c.execute("ROLLBACK")
        assert c.execute("SELECT k, v FROM pg3_commit ORDER BY k").fetchall() == [(2, 20)]


def test_prepared_statements_reused(server):
    # prepare_threshold=0: psycopg prepares (named Parse) on first use and then only
    # sends Bind/Execute for the same query text.
    with psycopg.connect(server.dsn, autocommit=True, prepare_threshold=0) as c:
        c.execute("DROP TABLE IF EXISTS pg3_prep")
        c.execute("CREATE TABLE pg3_prep (k int PRIMARY KEY, v text)")
        with c.cursor(binary=True) as cur:
            for k in range(200):
                cur.execute("INSERT INTO pg3_prep VALUES (%b, %b)", (k, "p%d" % k))
            for k in (0, 99, 199):
                cur.execute("SELECT v FROM pg3_prep WHERE k = %b", (k,))
                assert cur.fetchall() == [("p%d" % k,)]
        # 200 executions of one statement text: psycopg sent one Parse and reused it.
        assert c.execute("SELECT count(*), min(v), max(k) FROM pg3_prep").fetchone() == (200, "p0", 199)


def test_set_show(conn):
    conn.execute("SET search_path = public")
    assert conn.execute("SHOW search_path").fetchone() == ("public",)
    conn.execute("SET TIME ZONE 'UTC'")
    assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)
    assert conn.info.parameter_status("server_version").startswith("15")
    assert conn.info.parameter_status("client_encoding") == "UTF8"
