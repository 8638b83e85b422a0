"""test_txn_reset_all.py -- RESET ALL inside a transaction block behaves like a plain
RESET of every setting, as in PostgreSQL 15: ROLLBACK (and ROLLBACK TO a savepoint
taken before it) undoes it, COMMIT keeps it, SET LOCAL values set before it are gone
after it; each scripted step compared with the reference PostgreSQL, and the
ParameterStatus a client sees for a reported setting (application_name) matches."""
import psycopg
import psycopg2
import pytest


def step(conn, sql):
    """(tag, rows) or ("error", SQLSTATE) for one statement on an autocommit
    connection (transaction control is explicit in the scripts)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else None
        return (cur.statusmessage, rows)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


def same_script(server, pg_reference, script):
    """Runs script on fresh autocommit connections to both servers; every step must
    answer alike. Returns our answers."""
    ours, ref = server.connect(), pg_reference.connect()
    try:
        got = []
        for sql in script:
            a, b = step(ours, sql), step(ref, sql)
            assert a == b, sql
            got.append(a)
        return got
    finally:
        ours.close()
        ref.close()


SHOW = "SELECT current_setting('work_mem'), current_setting('application_name'), " \
       "current_setting('statement_timeout')"


def test_rollback_undoes_reset_all(server, pg_reference):
    got = same_script(server, pg_reference, [
        "SET work_mem = '8MB'",
        "SET application_name = 'ra_app'",
        "SET statement_timeout = '7s'",
        "BEGIN",
        "RESET ALL",
        SHOW,                       # defaults inside the transaction
        "ROLLBACK",
        SHOW,                       # all three back
    ])
    assert got[5][1] == [("4MB", "", "0")]
    assert got[7][1] == [("8MB", "ra_app", "7s")]


def test_commit_keeps_reset_all(server, pg_reference):
    got = same_script(server, pg_reference, [
        "SET work_mem = '8MB'",
        "BEGIN",
        "SET LOCAL statement_timeout = '9s'",
        "SET application_name = 'ra_in_txn'",
        "RESET ALL",
        SHOW,
        "COMMIT",
        SHOW,
    ])
    assert got[7][1] == [("4MB", "", "0")]


def test_rollback_to_savepoint_undoes_reset_all(server, pg_reference):
    got = same_script(server, pg_reference, [
        "SET work_mem = '8MB'",
        "BEGIN",
        "SET statement_timeout = '5s'",
        "SAVEPOINT s1",
        "RESET ALL",
        SHOW,
        "ROLLBACK TO SAVEPOINT s1",
        SHOW,                       # the state at the savepoint
        "RESET ALL",
        "RELEASE s1",
        "ROLLBACK",
        SHOW,                       # the state before BEGIN
    ])
    assert got[7][1] == [("8MB", "", "5s")]
    assert got[11][1] == [("8MB", "", "0")]


def test_failed_block_rollback_undoes_reset_all(server, pg_reference):
    got = same_script(server, pg_reference, [
        "SET work_mem = '8MB'",
        "BEGIN",
        "RESET ALL",
        "SELECT 1/0",               # 22012: the block is aborted
        "SHOW work_mem",            # 25P02
        "COMMIT",                   # answers ROLLBACK
        "SHOW work_mem",
    ])
    assert got[4] == ("error", "25P02")
    assert got[6][1] == [("8MB",)]


@pytest.mark.parametrize("target", ["ours", "ref"])
def test_reset_all_parameter_status(server, pg_reference, target):
    """A reported setting changed by RESET ALL reaches the client as ParameterStatus,
    on both servers alike."""
    srv = server if target == "ours" else pg_reference
    with psycopg.connect(srv.dsn, autocommit=True) as c:
        c.execute("SET application_name = 'ra_ps'")
        assert c.info.parameter_status("application_name") == "ra_ps"
        c.execute("RESET ALL")
        assert c.info.parameter_status("application_name") == ""
        c.execute("SET application_name = 'ra_ps2'")
        c.execute("BEGIN")
        c.execute("RESET ALL")
        assert c.info.parameter_status("application_name") == ""
        c.execute("COMMIT")
        assert c.execute("SHOW application_name").fetchone() == ("",)
