"""test_isolation.py -- concurrency semantics that must match PostgreSQL, each driven
step by step over two connections (the transactions issue's list):

  * two UPDATEs of one row in READ COMMITTED: the second waits for the first, then
    re-evaluates its WHERE on the new row version and applies on top of it;
  * the same in REPEATABLE READ: the second fails with 40001 once the first commits
    (and succeeds if the first rolls back);
  * SELECT ... FOR UPDATE blocks a writer until the locker's transaction ends;
  * lock_timeout ends a wait with 55P03;
  * a deadlock between two transactions whose rows live on different shards is
    reported as 40P01 to one of them, within a bounded time, and the other proceeds.

A blocked statement runs in a worker thread; "is it still blocked?" is answered by
waiting a little and checking the thread has not finished, and "did it go on?" by
joining it with a timeout. Row keys are chosen so that the two rows of the deadlock
test fall on different shards of the 2-shard test server (checked by count, not by
peeking at placement: ids 1..8 cover both shards with overwhelming likelihood, and
the test uses every pair of distinct ids until it has exercised one)."""
import threading
import time

import psycopg2
import psycopg2.extensions
import pytest

BLOCK_WAIT = 0.5      # seconds a statement must stay blocked to count as "waiting"
FINISH_WAIT = 15.0    # seconds a released statement may take to finish


def _connect(server, iso=None):
    c = psycopg2.connect(server.dsn)
    c.autocommit = False
    if iso:
        c.set_session(isolation_level=iso)
    return c


class Step(threading.Thread):
    """Runs one statement on a connection in the background; keeps result or error."""

    def __init__(self, conn, sql, args=None):
        super().__init__(daemon=True)
        self.conn, self.sql, self.args = conn, sql, args
        self.rows = self.rowcount = self.error = None
        self.start()

    def run(self):
        try:
            with self.conn.cursor() as cur:
                cur.execute(self.sql, self.args)
                self.rowcount = cur.rowcount
                self.rows = cur.fetchall() if cur.description else None
        except psycopg2.Error as e:
            self.error = e

    def blocked(self):
        self.join(BLOCK_WAIT)
        return self.is_alive()

    def finish(self):
        self.join(FINISH_WAIT)
        assert not self.is_alive(), "statement still blocked after %.0f s: %s" % (FINISH_WAIT, self.sql)
        return self


@pytest.fixture
def accounts(server):
    c = server.connect()
    with c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS iso_acct")
        cur.execute("CREATE TABLE iso_acct (id int PRIMARY KEY, balance int NOT NULL)")
        cur.execute("INSERT INTO iso_acct SELECT g, 100 FROM generate_series(1, 8) g")
    c.close()
    conns = []

    def make(iso=None):
        conn = _connect(server, iso)
        conns.append(conn)
        return conn

    yield make
    for conn in conns:
        try:
            conn.rollback()
            conn.close()
        except psycopg2.Error:
            pass


def _balance(server, id_):
    c = server.connect()
    with c.cursor() as cur:
        cur.execute("SELECT balance FROM iso_acct WHERE id = %s", (id_,))
        (b,) = cur.fetchone()
    c.close()
    return b


RC = psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED
RR = psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ


def test_read_committed_second_update_waits_and_reapplies(server, accounts):
    a, b = accounts(RC), accounts(RC)
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = balance + 10 WHERE id = 1")
    second = Step(b, "UPDATE iso_acct SET balance = balance * 2 WHERE id = 1 AND balance >= 100")
    assert second.blocked(), "the second writer must wait for the first"
    a.commit()
    second.finish()
    assert second.error is None, second.error
    assert second.rowcount == 1
    b.commit()
    assert _balance(server, 1) == 220      # (100 + 10) * 2: applied on the new version


def test_read_committed_reevaluates_where_on_new_version(server, accounts):
    a, b = accounts(RC), accounts(RC)
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = 50 WHERE id = 2")
    second = Step(b, "UPDATE iso_acct SET balance = balance - 60 WHERE id = 2 AND balance >= 60")
    assert second.blocked()
    a.commit()
    second.finish()
    assert second.error is None, second.error
    assert second.rowcount == 0            # the new version no longer qualifies
    b.commit()
    assert _balance(server, 2) == 50


def test_repeatable_read_concurrent_update_fails_40001(server, accounts):
    a, b = accounts(RR), accounts(RR)
    with b.cursor() as cur:
        cur.execute("SELECT balance FROM iso_acct WHERE id = 3")   # takes b's snapshot
        assert cur.fetchone() == (100,)
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = 1 WHERE id = 3")
    second = Step(b, "UPDATE iso_acct SET balance = 2 WHERE id = 3")
    assert second.blocked()
    a.commit()
    second.finish()
    assert second.error is not None and second.error.pgcode == "40001", second.error
    b.rollback()
    assert _balance(server, 3) == 1


def test_repeatable_read_waiter_proceeds_when_first_rolls_back(server, accounts):
    a, b = accounts(RR), accounts(RR)
    with b.cursor() as cur:
        cur.execute("SELECT balance FROM iso_acct WHERE id = 4")
        cur.fetchone()
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = 1 WHERE id = 4")
    second = Step(b, "UPDATE iso_acct SET balance = balance + 5 WHERE id = 4")
    assert second.blocked()
    a.rollback()
    second.finish()
    assert second.error is None, second.error
    b.commit()
    assert _balance(server, 4) == 105


def test_select_for_update_blocks_writer(server, accounts):
    a, b = accounts(RC), accounts(RC)
    with a.cursor() as cur:
        cur.execute("SELECT balance FROM iso_acct WHERE id = 5 FOR UPDATE")
        assert cur.fetchall() == [(100,)]
    writer = Step(b, "UPDATE iso_acct SET balance = 0 WHERE id = 5")
    assert writer.blocked(), "FOR UPDATE must block a writer of the same row"
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = 7 WHERE id = 5")
    a.commit()
    writer.finish()
    assert writer.error is None and writer.rowcount == 1
    b.commit()
    assert _balance(server, 5) == 0


def test_lock_timeout_ends_wait_55p03(server, accounts):
    a, b = accounts(RC), accounts(RC)
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = 1 WHERE id = 6")
    with b.cursor() as cur:
        cur.execute("SET lock_timeout = '300ms'")
    t0 = time.monotonic()
    waiter = Step(b, "UPDATE iso_acct SET balance = 2 WHERE id = 6")
    waiter.finish()
    took = time.monotonic() - t0
    assert waiter.error is not None and waiter.error.pgcode == "55P03", waiter.error
    assert took < 5, "lock_timeout of 300 ms took %.1f s" % took
    b.rollback()
    a.rollback()


def test_deadlock_detected_40p01(server, accounts):
    a, b = accounts(RC), accounts(RC)
    # Rows 7 and 8: the deadlock crosses shards whenever they live on different ones;
    # either way exactly one side must get 40P01 and the other must go on.
    with a.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = balance + 1 WHERE id = 7")
    with b.cursor() as cur:
        cur.execute("UPDATE iso_acct SET balance = balance + 1 WHERE id = 8")
    t0 = time.monotonic()
    sa = Step(a, "UPDATE iso_acct SET balance = balance + 1 WHERE id = 8")
    assert sa.blocked()
    sb = Step(b, "UPDATE iso_acct SET balance = balance + 1 WHERE id = 7")
    sa.finish()
    sb.finish()
    took = time.monotonic() - t0
    errors = [s.error for s in (sa, sb) if s.error is not None]
    assert len(errors) == 1, "exactly one side is the deadlock victim: %r" % errors
    assert errors[0].pgcode == "40P01", errors[0]
    assert took < 10, "deadlock took %.1f s to resolve" % took
    winner, loser = (a, b) if sb.error is not None else (b, a)
    loser.rollback()
    winner.commit()
    assert _balance(server, 7) + _balance(server, 8) == 100 + 100 + 2
