"""test_txn_bank.py -- bank transfers across shards: every snapshot sees the same total.

Movers run transfers between random accounts (the accounts hash to every shard) in
explicit READ COMMITTED transactions, in random lock order, so 40P01 deadlocks happen
and are retried. Meanwhile auditors read the total:
  - REPEATABLE READ: sum(balance) twice and the per-row balances in one transaction;
    all three must give the fixed total (one snapshot across every shard);
  - READ COMMITTED: one SELECT sum(balance) per statement snapshot.
Then the server is killed (kill -9) mid-run a few times and restarted: the total is
unchanged and every account is where the committed transfers put it (checked by
the transfer log, which each transfer writes in the same transaction).

Environment: NEXTDB_BANK_ROUNDS (kill rounds, default 3).
"""
import os
import random
import threading
import time

import psycopg2

import harness

ACCOUNTS = 40
INITIAL = 1000
TOTAL = ACCOUNTS * INITIAL
MOVERS = 6
AUDITORS = 3
ROUNDS = int(os.environ.get("NEXTDB_BANK_ROUNDS", "3"))
RETRYABLE = ("40001", "40P01")
DEAD = (psycopg2.OperationalError, psycopg2.InterfaceError)


class Mover(threading.Thread):
    def __init__(self, server, tid, stop, round_no):
        super().__init__(daemon=True)
        self.server, self.tid, self.stop = server, tid, stop
        self.base = round_no * 1_000_000_000 + tid * 10_000_000
        self.rng = random.Random(round_no * 100 + tid)
        self.committed = 0
        self.retried = 0
        self.error = None

    def run(self):
        try:
            conn = psycopg2.connect(**self.server.conninfo)
        except psycopg2.Error as e:
            self.error = "connect: %s" % e
            return
        n = 0
        while not self.stop.is_set():
            n += 1
            a, b = self.rng.sample(range(ACCOUNTS), 2)
            amount = self.rng.randint(1, 30)
            try:
                cur = conn.cursor()
                cur.execute("UPDATE bank SET balance = balance - %s WHERE id = %s", (amount, a))
                cur.execute("UPDATE bank SET balance = balance + %s WHERE id = %s", (amount, b))
                cur.execute("INSERT INTO bank_log VALUES (%s, %s, %s, %s)",
                            (self.base + n, a, b, amount))
                conn.commit()
                self.committed += 1
            except DEAD:
                return
            except psycopg2.Error as e:
                if e.pgcode in RETRYABLE:
                    self.retried += 1
                    try:
                        conn.rollback()
                    except DEAD:
                        return
                    continue
                self.error = "transfer: %s %s" % (e.pgcode, e)
                return
        conn.close()


class Auditor(threading.Thread):
    def __init__(self, server, tid, stop):
        super().__init__(daemon=True)
        self.server, self.tid, self.stop = server, tid, stop
        self.reads = 0
        self.bad = []
        self.error = None

    def run(self):
        try:
            rr = psycopg2.connect(**self.server.conninfo)
            rr.set_session(isolation_level="REPEATABLE READ")
            rc = psycopg2.connect(**self.server.conninfo)
            rc.autocommit = True
        except psycopg2.Error as e:
            self.error = "connect: %s" % e
            return
        while not self.stop.is_set():
            try:
                cur = rr.cursor()
                cur.execute("SELECT sum(balance) FROM bank")
                first = cur.fetchone()[0]
                cur.execute("SELECT balance FROM bank")
                rows = sum(r[0] for r in cur.fetchall())
                cur.execute("SELECT sum(balance) FROM bank")
                again = cur.fetchone()[0]
                rr.commit()
                if (first, rows, again) != (TOTAL, TOTAL, TOTAL):
                    self.bad.append(("repeatable read", first, rows, again))
                c2 = rc.cursor()
                c2.execute("SELECT sum(balance) FROM bank")
                one = c2.fetchone()[0]
                if one != TOTAL:
                    self.bad.append(("read committed", one))
                self.reads += 1
            except DEAD:
                return
            except psycopg2.Error as e:
                self.error = "audit: %s %s" % (e.pgcode, e)
                return


def run_round(server, seconds, kill, round_no):
    stop = threading.Event()
    movers = [Mover(server, t + 1, stop, round_no) for t in range(MOVERS)]
    auditors = [Auditor(server, t, stop) for t in range(AUDITORS)]
    for th in movers + auditors:
        th.start()
    time.sleep(seconds)
    if kill:
        server.kill()
    stop.set()
    for th in movers + auditors:
        th.join(timeout=60)
        assert not th.is_alive(), "a client hung"
    errors = [th.error for th in movers + auditors if th.error]
    assert not errors, errors
    bad = [b for a in auditors for b in a.bad]
    assert not bad, "auditors saw a wrong total: %s" % bad[:5]
    return sum(m.committed for m in movers), sum(a.reads for a in auditors)


def check_state(server):
    with server.connect() as conn:
        cur = conn.cursor()
        cur.execute("SELECT id, balance FROM bank")
        balances = dict(cur.fetchall())
        cur.execute("SELECT src, dst, amount FROM bank_log")
        log = cur.fetchall()
    conn.close()
    assert sum(balances.values()) == TOTAL
    want = {i: INITIAL for i in range(ACCOUNTS)}
    for src, dst, amount in log:
        want[src] -= amount
        want[dst] += amount
    assert balances == want, "balances do not match the transfer log"
    return len(log)


def test_bank_transfers_keep_the_total(server):
    server.psql("DROP TABLE IF EXISTS bank; DROP TABLE IF EXISTS bank_log;"
                "CREATE TABLE bank (id int PRIMARY KEY, balance bigint NOT NULL);"
                "CREATE TABLE bank_log (id bigint PRIMARY KEY, src int, dst int, amount int);"
                "INSERT INTO bank SELECT g, %d FROM generate_series(0, %d) g;"
                % (INITIAL, ACCOUNTS - 1))
    committed, reads = run_round(server, 3.0, False, 0)
    assert committed > 0 and reads > 0
    assert check_state(server) == committed
    for r in range(ROUNDS):
        run_round(server, 0.8 + random.random(), True, r + 1)
        server.start()
        check_state(server)
