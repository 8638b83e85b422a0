"""test_sql_cursors.py -- DECLARE / FETCH / CLOSE, checked against PostgreSQL 15
statement by statement (rows, command tags, SQLSTATEs and messages): forward fetches
in pieces, FETCH ALL, past the end, CLOSE and CLOSE ALL, the cursor's snapshot fixed at
DECLARE while the same transaction and other sessions write, cursors closed at
transaction end, and psycopg2's named (server-side) cursors. Refused forms (SCROLL,
WITH HOLD, MOVE, backward) are NextDB-only checks of 0A000."""
import psycopg2
import pytest


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    conns = []
    for srv in (server, pg_reference):
        c = srv.connect(autocommit=True)
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS cur_t")
        cur.execute("CREATE TABLE cur_t (k int PRIMARY KEY, v int NOT NULL)")
        cur.execute("INSERT INTO cur_t SELECT g, 0 FROM generate_series(1, 500) g")
        c.autocommit = False
        conns.append(c)
    yield conns
    for c in conns:
        c.rollback()
        c.close()


def run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.statusmessage, cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        conn.rollback()
        return ("error", e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else "")
    finally:
        cur.close()


def script(pair, stmts):
    for s in stmts:
        a, b = run(pair[0], s), run(pair[1], s)
        assert a == b, s


def test_fetch_in_pieces_and_close(pair):
    script(pair, [
        "DECLARE c1 CURSOR FOR SELECT k, v FROM cur_t ORDER BY k",
        "FETCH 3 FROM c1",
        "FETCH NEXT FROM c1",
        "FETCH FORWARD 5 IN c1",
        "FETCH c1",
        "FETCH FORWARD ALL FROM c1",
        "FETCH 10 FROM c1",
        "CLOSE c1",
        "FETCH 1 FROM c1",
    ])
    script(pair, [
        "DECLARE c2 NO SCROLL CURSOR WITHOUT HOLD FOR SELECT k FROM cur_t WHERE k <= 20 ORDER BY k DESC",
        "DECLARE c3 CURSOR FOR SELECT count(*) FROM cur_t",
        "DECLARE c2 CURSOR FOR SELECT 1",
    ])
    script(pair, [
        "DECLARE c2 CURSOR FOR SELECT k FROM cur_t WHERE k <= 20 ORDER BY k DESC",
        "DECLARE c3 CURSOR FOR SELECT count(*) FROM cur_t",
        "FETCH 4 FROM c2",
        "FETCH ALL FROM c3",
        "CLOSE ALL",
        "FETCH 1 FROM c2",
        "CLOSE nosuch",
        "COMMIT",
        "SELECT 1",
    ])


def test_cursor_snapshot_fixed_at_declare(pair):
    script(pair, [
        "DECLARE s1 CURSOR FOR SELECT k, v FROM cur_t WHERE k <= 10 ORDER BY k",
        "FETCH 2 FROM s1",
        "UPDATE cur_t SET v = v + 1 WHERE k <= 10",
        "FETCH 3 FROM s1",
        "SELECT sum(v) FROM cur_t WHERE k <= 10",
        "FETCH ALL FROM s1",
        "ROLLBACK",
    ])


def test_cursors_end_with_the_transaction(pair):
    script(pair, [
        "DECLARE e1 CURSOR FOR SELECT k FROM cur_t ORDER BY k",
        "FETCH 1 FROM e1",
        "COMMIT",
        "FETCH 1 FROM e1",
        "DECLARE e2 CURSOR FOR SELECT k FROM cur_t ORDER BY k",
        "SELECT 1 / 0",
        "FETCH 1 FROM e2",
        "ROLLBACK",
        "FETCH 1 FROM e2",
    ])


def test_declare_outside_a_block(server, pg_reference):
    for srv in (server, pg_reference):
        c = srv.connect(autocommit=True)
        try:
            with pytest.raises(psycopg2.Error) as e:
                c.cursor().execute("DECLARE o1 CURSOR FOR SELECT 1")
            assert e.value.pgcode == "25P01"
            assert "DECLARE CURSOR can only be used in transaction blocks" in e.value.pgerror
        finally:
            c.close()


def test_psycopg2_named_cursor(pair):
    got = []
    for conn in pair:
        nc = conn.cursor(name="named1")
        nc.itersize = 50
        nc.execute("SELECT k, v FROM cur_t ORDER BY k")
        first = nc.fetchmany(7)
        rest = list(nc)
        got.append((first, len(rest), rest[-1], [d.name for d in nc.description]))
        nc.close()
        conn.rollback()
    assert got[0] == got[1]
    assert got[0][1] == 493


@pytest.mark.nextdb_only
def test_refused_forms(server):
    c = server.connect(autocommit=False)
    try:
        for sql, what in (("DECLARE r1 SCROLL CURSOR FOR SELECT 1", "DECLARE SCROLL CURSOR"),
                          ("DECLARE r1 CURSOR WITH HOLD FOR SELECT 1", "DECLARE CURSOR WITH HOLD"),
                          ("DECLARE r1 BINARY CURSOR FOR SELECT 1", "DECLARE BINARY CURSOR"),
                          ("FETCH BACKWARD 1 FROM r1", "FETCH in this direction"),
                          ("FETCH PRIOR FROM r1", "FETCH in this direction"),
                          ("MOVE 1 FROM r1", "MOVE")):
            with pytest.raises(psycopg2.Error) as e:
                c.cursor().execute(sql)
            assert e.value.pgcode == "0A000", sql
            assert what in e.value.pgerror, sql
            c.rollback()
    finally:
        c.close()
