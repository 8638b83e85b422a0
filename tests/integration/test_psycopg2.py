"""test_psycopg2.py -- the server through psycopg2 (libpq, text protocol): types,
SQLSTATEs of common errors, transactions, server-side prepared statements, SET/SHOW."""
import datetime

import psycopg2
import psycopg2.errors
import pytest


@pytest.fixture
def conn(server):
    c = server.connect(autocommit=True)
    yield c
    c.close()


def _sqlstate(conn, sql, params=None):
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as ei:
        cur.execute(sql, params)
    return ei.value.pgcode


def test_types_round_trip(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS pg2_types")
    cur.execute("CREATE TABLE pg2_types (id int PRIMARY KEY, a smallint, b bigint, c real, "
                "d double precision, e boolean, f text, g varchar(20), h timestamp)")
    ts = datetime.datetime(2024, 2, 29, 13, 45, 6, 123456)
    rows = [(1, 32767, 9223372036854775807, 1.5, 2.25, True, "héllo", "v1", ts),
            (2, -32768, -9223372036854775808, -0.5, -1e300, False, "", "", ts),
            (3, None, None, None, None, None, None, None, None)]
    cur.executemany("INSERT INTO pg2_types VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    cur.execute("SELECT * FROM pg2_types ORDER BY id")
    assert cur.fetchall() == rows
    cur.execute("SELECT id FROM pg2_types WHERE f = %s AND b = %s", ("héllo", 9223372036854775807))
    assert cur.fetchall() == [(1,)]
    cur.execute("DROP TABLE pg2_types")


@pytest.mark.parametrize("sql,code", [
    ("SELECT * FROM no_such_table", "42P01"),
    ("SELECT no_such_column FROM pg2_err", "42703"),
    ("INSERT INTO pg2_err VALUES (1)", "23505"),
    ("SELECT 'abc'::int", "22P02"),
    ("SELEC 1", "42601"),
])
def test_error_sqlstates(conn, sql, code):
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS pg2_err")
    cur.execute("CREATE TABLE pg2_err (k int PRIMARY KEY)")
    cur.execute("INSERT INTO pg2_err VALUES (1)")
    assert _sqlstate(conn, sql) == code
    cur.execute("SELECT count(*) FROM pg2_err")   # the session still works
    assert cur.fetchone() == (1,)


def test_failed_transaction_then_rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS pg2_tx")
    cur.execute("CREATE TABLE pg2_tx (k int PRIMARY KEY)")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO pg2_tx VALUES (1)")
    assert _sqlstate(conn, "SELECT 1/0") == "22012"
    assert _sqlstate(conn, "SELECT 1") == "25P02"
    cur.execute("ROLLBACK")
    cur.execute("SELECT count(*) FROM pg2_tx")
    assert cur.fetchone() == (0,)


def test_rollback_discards_commit_keeps(server):
    c = server.connect(autocommit=False)
    other = server.connect(autocommit=True)
    try:
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS pg2_commit")
        cur.execute("CREATE TABLE pg2_commit (k int PRIMARY KEY, v text)")
        c.commit()
        cur.execute("INSERT INTO pg2_commit VALUES (1, 'rolled back')")
        c.rollback()
        cur.execute("INSERT INTO pg2_commit VALUES (2, 'kept')")
        cur.execute("UPDATE pg2_commit SET v = 'kept!' WHERE k = 2")
        ocur = other.cursor()
        ocur.execute("SELECT count(*) FROM pg2_commit")   # uncommitted: invisible
        assert ocur.fetchone() == (0,)
        c.commit()
        ocur.execute("SELECT k, v FROM pg2_commit ORDER BY k")
        assert ocur.fetchall() == [(2, "kept!")]
    finally:
        c.close()
        other.close()


def test_prepared_statement_reused(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS pg2_prep")
    cur.execute("CREATE TABLE pg2_prep (k int PRIMARY KEY, v int)")
    cur.execute("PREPARE ins (int, int) AS INSERT INTO pg2_prep VALUES ($1, $2)")
    cur.execute("PREPARE get (int) AS SELECT v FROM pg2_prep WHERE k = $1")
    for k in range(50):
        cur.execute("EXECUTE ins (%s, %s)", (k, k * k))
    for k in (0, 7, 49):
        cur.execute("EXECUTE get (%s)", (k,))
        assert cur.fetchall() == [(k * k,)]
    cur.execute("DEALLOCATE get")
    assert _sqlstate(conn, "EXECUTE get (1)") == "26000"


def test_set_show(conn):
    cur = conn.cursor()
    cur.execute("SET statement_timeout = '5s'")
    cur.execute("SHOW statement_timeout")
    assert cur.fetchone() == ("5s",)
    cur.execute("SET application_name = 'nextdb-tests'")
    cur.execute("SHOW application_name")
    assert cur.fetchone() == ("nextdb-tests",)
    cur.execute("SHOW server_version")
    assert cur.fetchone()[0].startswith("15")
    assert conn.server_version >= 150000
