"""test_sql_dml_correlated.py -- correlated subqueries in UPDATE and DELETE (SET,
WHERE, RETURNING; scalar, EXISTS, NOT EXISTS, IN, NOT IN, ANY / ALL; a subquery over
the target table itself; combined with UPDATE ... FROM and DELETE ... USING), and
correlated IN / ANY / ALL in SELECT. Each statement runs on fresh tables on the
server under test and on a reference PostgreSQL 15: the RETURNING rows (or the row
count) and the tables afterwards must be equal, errors must carry PostgreSQL's
SQLSTATE. Then two connections drive the concurrent cases step by step on both
servers and compare: READ COMMITTED re-evaluates WHERE and the subqueries over the
newest version of a row another transaction changed (the subqueries still read the
statement's snapshot), a row changed out of the WHERE is skipped, a deleted one is
skipped, and REPEATABLE READ fails with 40001."""
import threading
import time

import psycopg2
import pytest

SETUP = [
    "CREATE TABLE dc_t (id int PRIMARY KEY, k int, x int, g int, name text)",
    "CREATE TABLE dc_u (id int PRIMARY KEY, k int, y int)",
    "CREATE TABLE dc_s (id int PRIMARY KEY, tid int, delta int)",
    "INSERT INTO dc_t SELECT g, g % 5, g * 3 % 17, g % 3, 'n' || g FROM generate_series(1, 30) g",
    "INSERT INTO dc_t VALUES (31, NULL, 4, 1, 'nullk'), (32, 2, NULL, 2, 'nullx')",
    "INSERT INTO dc_u SELECT g, g % 7, g * 11 % 13 FROM generate_series(1, 15) g",
    "INSERT INTO dc_u VALUES (100, NULL, 4), (101, 3, NULL)",
    "INSERT INTO dc_s SELECT g, (g * 7) % 33, g FROM generate_series(1, 20) g",
]
DROP = ["DROP TABLE IF EXISTS dc_%s" % t for t in "tus"]
TABLES = ["SELECT * FROM dc_t ORDER BY id", "SELECT * FROM dc_u ORDER BY id"]


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else None
        names = [d[0] for d in cur.description] if cur.description else None
        return ("ok", names, sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))
                if rows is not None else cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    yield ours, ref
    for c in (ours, ref):
        for sql in DROP:
            _run(c, sql)
    ours.close()
    ref.close()


def _fresh(conn):
    for sql in DROP + SETUP:
        assert _run(conn, sql)[0] == "ok", sql


CASES = [
    # scalar subqueries in SET
    "UPDATE dc_t SET x = (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k)",
    "UPDATE dc_t t SET x = (SELECT max(y) FROM dc_u u WHERE u.k = t.k), name = name || '!' RETURNING *",
    "UPDATE dc_t SET x = coalesce((SELECT sum(y) FROM dc_u WHERE k = dc_t.g), -1) + x WHERE id < 10 RETURNING id, x",
    "UPDATE dc_t SET x = (SELECT y FROM dc_u WHERE dc_u.id = dc_t.id) WHERE id = 4 RETURNING *",
    "UPDATE dc_t SET x = (SELECT y FROM dc_u WHERE dc_u.k = dc_t.k) RETURNING *",        # 21000
    "UPDATE dc_t SET (x, g) = (SELECT min(y), max(y) FROM dc_u WHERE dc_u.k = dc_t.k) WHERE k > 1",
    "UPDATE dc_t SET k = (SELECT count(*) FROM dc_t t2 WHERE t2.g = dc_t.g AND t2.id < dc_t.id) RETURNING id, k",
    # WHERE: EXISTS, NOT EXISTS, comparisons, IN, NOT IN, ANY / ALL
    "UPDATE dc_t SET x = -x WHERE EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k AND dc_u.y > 8) RETURNING id, x",
    "DELETE FROM dc_t WHERE NOT EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k) RETURNING id",
    "DELETE FROM dc_t WHERE x > (SELECT avg(x) FROM dc_t t2 WHERE t2.g = dc_t.g) RETURNING *",
    "DELETE FROM dc_t t WHERE t.x >= (SELECT max(x) FROM dc_t t2 WHERE t2.g = t.g)",
    "UPDATE dc_t SET x = 1 WHERE id = 3 AND k IN (SELECT k FROM dc_u WHERE dc_u.id = dc_t.id) RETURNING *",
    "UPDATE dc_t SET x = 2 WHERE k NOT IN (SELECT k FROM dc_u WHERE dc_u.y = dc_t.x) RETURNING *",
    "DELETE FROM dc_t WHERE x IN (SELECT y FROM dc_u WHERE dc_u.k = dc_t.g) RETURNING id, x",
    "DELETE FROM dc_t WHERE x > ALL (SELECT y FROM dc_u WHERE dc_u.k = dc_t.k) RETURNING id",
    "UPDATE dc_t SET g = 9 WHERE x < ANY (SELECT y FROM dc_u WHERE dc_u.k = dc_t.k) AND id > 5 RETURNING id",
    "UPDATE dc_t SET x = 0 WHERE id IN (1, 2, 3) AND NOT EXISTS (SELECT FROM dc_u WHERE dc_u.id = dc_t.id * 5)",
    "DELETE FROM dc_t WHERE id = 7 AND EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k) RETURNING *",
    "DELETE FROM dc_t WHERE (SELECT count(*) FROM dc_u WHERE dc_u.k = dc_t.k) = 0 OR x IS NULL",
    # RETURNING
    "UPDATE dc_t SET x = x + 1 WHERE id <= 6 RETURNING id, (SELECT count(*) FROM dc_u WHERE dc_u.k = dc_t.k) AS c",
    "DELETE FROM dc_t WHERE g = 0 RETURNING id, EXISTS (SELECT 1 FROM dc_u WHERE dc_u.y = dc_t.x) AS e",
    "UPDATE dc_t SET k = k + 1 WHERE id < 8 RETURNING id, k, (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k) m",
    # with UPDATE ... FROM / DELETE ... USING
    "UPDATE dc_t SET x = s.delta + (SELECT count(*) FROM dc_u WHERE dc_u.k = dc_t.k) FROM dc_s s"
    " WHERE s.tid = dc_t.id RETURNING dc_t.id, dc_t.x, s.id",
    "UPDATE dc_t SET x = s.delta FROM dc_s s WHERE s.tid = dc_t.id"
    " AND EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k AND dc_u.y > s.delta) RETURNING dc_t.id",
    "DELETE FROM dc_t USING dc_s s WHERE s.tid = dc_t.id"
    " AND dc_t.x < (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k) RETURNING dc_t.id, s.delta",
    # the statement never sees its own changes
    "UPDATE dc_t SET x = (SELECT sum(x) FROM dc_t t2 WHERE t2.g = dc_t.g) RETURNING id, x",
    # errors
    "UPDATE dc_t SET x = (SELECT max(y), 1 FROM dc_u WHERE dc_u.k = dc_t.k)",                 # 42601
    "UPDATE dc_t SET x = (SELECT max(nope) FROM dc_u WHERE dc_u.k = dc_t.k)",                 # 42703
    "UPDATE dc_t SET x = (SELECT 'a' || y FROM dc_u WHERE dc_u.id = dc_t.id)",                # 42804
]


@pytest.mark.parametrize("case", CASES)
def test_against_postgres(pair, case):
    ours, ref = pair
    for c in pair:
        _fresh(c)
    assert _run(ours, case) == _run(ref, case), case
    for q in TABLES:
        assert _run(ours, q) == _run(ref, q), (case, q)


SELECTS = [
    "SELECT id, k IN (SELECT k FROM dc_u WHERE dc_u.y = dc_t.x) a,"
    " k NOT IN (SELECT k FROM dc_u WHERE dc_u.y = dc_t.x) b,"
    " x > ALL (SELECT y FROM dc_u WHERE dc_u.k = dc_t.k) c,"
    " x <= ANY (SELECT y FROM dc_u WHERE dc_u.k = dc_t.k) d FROM dc_t",
    "SELECT id FROM dc_t WHERE x IN (SELECT y FROM dc_u WHERE dc_u.k = dc_t.g)",
    "SELECT id FROM dc_t WHERE x NOT IN (SELECT y FROM dc_u WHERE dc_u.k = dc_t.k)",
]


@pytest.mark.parametrize("sql", SELECTS)
def test_correlated_in_select(pair, sql):
    ours, ref = pair
    for c in pair:
        _fresh(c)
    assert _run(ours, sql) == _run(ref, sql), sql


def test_in_transaction_and_rollback(pair):
    """The changes are the transaction's until it ends: ROLLBACK undoes them."""
    ours, ref = pair
    for c in pair:
        _fresh(c)
        c.autocommit = False
        try:
            cur = c.cursor()
            cur.execute("UPDATE dc_t SET x = 100 WHERE id < 5")
            cur.execute("DELETE FROM dc_t WHERE x < (SELECT max(x) FROM dc_t t2 WHERE t2.g = dc_t.g)")
            cur.execute("SELECT count(*) FROM dc_t")
            assert cur.fetchone()[0] > 0
            c.rollback()
        finally:
            c.autocommit = True
    for q in TABLES:
        assert _run(ours, q) == _run(ref, q), q


# ---- two connections, step by step, on both servers ----

def _wait_blocked(watch, pid):
    """Polls pg_stat_activity until session pid waits for a lock (no timing assumption)."""
    deadline = time.time() + 30
    with watch.cursor() as cur:
        while time.time() < deadline:
            cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
            row = cur.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError("the second statement never waited for the row lock")


def _race(srv, first, second, iso="READ COMMITTED"):
    """Runs `first` in a transaction, starts `second` in another one, waits until it
    blocks on a row lock, commits the first and returns (second's outcome, table)."""
    setup = srv.connect()
    _fresh(setup)
    a = srv.connect(autocommit=False)
    b = srv.connect(autocommit=False)
    ca = a.cursor()
    cb = b.cursor()
    cb.execute("SET TRANSACTION ISOLATION LEVEL " + iso)
    cb.execute("SELECT count(*) FROM dc_u")           # REPEATABLE READ: the snapshot is taken here
    for sql in first:
        ca.execute(sql)
    cb.execute("SELECT pg_backend_pid()")
    pid = cb.fetchone()[0]
    out = {}

    def run_second():
        try:
            cb.execute(second)
            out["r"] = ("ok", sorted(cb.fetchall()) if cb.description else cb.rowcount)
            b.commit()
        except psycopg2.Error as e:
            out["r"] = ("error", e.pgcode)
            b.rollback()

    th = threading.Thread(target=run_second, daemon=True)
    th.start()
    _wait_blocked(setup, pid)
    a.commit()
    th.join(30)
    assert not th.is_alive(), "the second statement did not finish after the commit"
    table = _run(setup, TABLES[0])
    for c in (a, b, setup):
        c.close()
    return out["r"], table


RACES = [
    # the row's k changed: the subquery in SET runs again over the newest version
    (["UPDATE dc_t SET k = 3 WHERE id = 1"],
     "UPDATE dc_t SET x = (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k) WHERE id IN (1, 2) RETURNING id, x"),
    # ... and still reads the statement's snapshot of the other table
    (["UPDATE dc_t SET k = 3 WHERE id = 1", "UPDATE dc_u SET y = 1000 WHERE k = 3"],
     "UPDATE dc_t SET x = (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k) WHERE id = 1 RETURNING id, x"),
    # the newest version no longer passes the EXISTS: skipped
    (["UPDATE dc_t SET k = 6 WHERE id = 1"],
     "DELETE FROM dc_t WHERE EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k) AND id < 4 RETURNING id"),
    # PostgreSQL's semi join: the newest version must match the inner row EXISTS matched
    # (k 1 -> 6 has other matches, skipped) ...
    (["UPDATE dc_t SET k = 6 WHERE id = 1"],
     "DELETE FROM dc_t WHERE EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k LIMIT 1) AND id < 4 RETURNING id"),
    # ... another column changed: still matched
    (["UPDATE dc_t SET x = 99 WHERE id = 2"],
     "UPDATE dc_t SET name = 'e' WHERE EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k AND dc_u.y > 0)"
     " AND id < 4 RETURNING id, x"),
    # ... not a semi join (aggregate, OR): the subquery runs again over the newest version
    (["UPDATE dc_t SET k = 6 WHERE id = 1"],
     "DELETE FROM dc_t WHERE EXISTS (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k HAVING count(*) > 0)"
     " AND id < 4 RETURNING id"),
    (["UPDATE dc_t SET k = 6 WHERE id = 1"],
     "DELETE FROM dc_t WHERE (EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k) OR id = 0) AND id < 4 RETURNING id"),
    # the anti join of NOT EXISTS passes the newest version whatever it holds
    (["UPDATE dc_t SET k = 3 WHERE id = 31"],
     "UPDATE dc_t SET name = 'hit' WHERE NOT EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k) RETURNING id"),
    # correlated IN is a subplan: re-run; uncorrelated IN is a semi join on the value
    (["UPDATE dc_t SET k = 6 WHERE id = 1"],
     "DELETE FROM dc_t WHERE k IN (SELECT k FROM dc_u WHERE dc_u.id > dc_t.id) AND id < 4 RETURNING id"),
    (["UPDATE dc_t SET k = 6 WHERE id = 1"],
     "DELETE FROM dc_t WHERE k IN (SELECT k FROM dc_u) AND id < 4 RETURNING id"),
    (["UPDATE dc_t SET x = 50 WHERE id = 1"],
     "UPDATE dc_t SET g = 7 WHERE k IN (SELECT k FROM dc_u) AND id < 4 RETURNING id, x"),
    # RETURNING's subquery sees the updated newest version
    (["UPDATE dc_t SET k = 3 WHERE id = 2"],
     "UPDATE dc_t SET x = x + 1 WHERE id = 2 RETURNING id, x, (SELECT count(*) FROM dc_u WHERE dc_u.k = dc_t.k)"),
    # deleted meanwhile: skipped
    (["DELETE FROM dc_t WHERE id = 2"],
     "UPDATE dc_t SET x = (SELECT count(*) FROM dc_u WHERE dc_u.k = dc_t.k) WHERE id <= 3 RETURNING id, x"),
    # self reference: the average over the snapshot, the newest x compared with it
    (["UPDATE dc_t SET x = 0 WHERE id = 3"],
     "DELETE FROM dc_t WHERE x > (SELECT avg(x) FROM dc_t t2 WHERE t2.g = dc_t.g) AND g = 0 RETURNING id"),
    # with UPDATE ... FROM
    (["UPDATE dc_t SET k = 4 WHERE id = 7"],
     "UPDATE dc_t SET x = s.delta + (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k) FROM dc_s s"
     " WHERE s.tid = dc_t.id AND dc_t.id = 7 RETURNING dc_t.id, dc_t.x"),
]


@pytest.mark.parametrize("first,second", RACES)
def test_read_committed_reevaluation(server, pg_reference, first, second):
    assert _race(server, first, second) == _race(pg_reference, first, second)


def test_repeatable_read_serialization_failure(server, pg_reference):
    first = ["UPDATE dc_t SET k = 3 WHERE id = 1"]
    second = "UPDATE dc_t SET x = (SELECT max(y) FROM dc_u WHERE dc_u.k = dc_t.k) WHERE id IN (1, 2)"
    ours = _race(server, first, second, "REPEATABLE READ")
    assert ours == _race(pg_reference, first, second, "REPEATABLE READ")
    assert ours[0] == ("error", "40001")
    second = "DELETE FROM dc_t WHERE EXISTS (SELECT 1 FROM dc_u WHERE dc_u.k = dc_t.k) AND id = 1"
    ours = _race(server, ["DELETE FROM dc_t WHERE id = 1"], second, "REPEATABLE READ")
    assert ours == _race(pg_reference, ["DELETE FROM dc_t WHERE id = 1"], second, "REPEATABLE READ")
    assert ours[0] == ("error", "40001")
