"""test_crash.py -- acknowledged writes survive kill -9.

Model: CLIENTS threads each own the keys k with k % CLIENTS == thread id (so every
key has one writer and its history is well ordered); keys are spread over a wide
range so they hash to every shard. Each thread loops over autocommit statements:
INSERT a new key, or UPDATE one of its keys to a fresh, strictly increasing value.
Before a statement is sent its value is recorded as *attempted*; once the server
acknowledges it, as *acknowledged*. Mid-run the server is killed (SIGKILL to the whole
process group) and restarted. Then:
  - every acknowledged insert is present;
  - a key's value is its last acknowledged value, or a later attempted one (the
    statement in flight at the kill may or may not have committed);
  - a key whose insert was never acknowledged is absent or holds an attempted value;
  - no row exists that no client ever attempted.

A second test checks atomicity of multi-statement transactions across shards: clients
move money between accounts (two UPDATEs plus one INSERT into a transfer log, in one
transaction) while the server is killed; after recovery every acknowledged transfer is
in the log, and every account's balance equals its initial balance plus exactly the
transfers in the log (a transfer is either wholly there or wholly absent).

Environment: NEXTDB_CRASH_ITERATIONS (default 5), NEXTDB_CRASH_CLIENTS (default 8),
NEXTDB_CRASH_RUN_SECONDS (time before the kill, default 1.5).
"""
import os
import random
import threading
import time

import psycopg2
import pytest

import harness

ITERATIONS = int(os.environ.get("NEXTDB_CRASH_ITERATIONS", "5"))
CLIENTS = int(os.environ.get("NEXTDB_CRASH_CLIENTS", "8"))
RUN_SECONDS = float(os.environ.get("NEXTDB_CRASH_RUN_SECONDS", "1.5"))
KEY_STRIDE = 7919          # spreads a thread's keys over a wide range of values


class Writer(threading.Thread):
    def __init__(self, server, table, tid, seed):
        super().__init__(daemon=True)
        self.server, self.table, self.tid = server, table, tid
        self.rng = random.Random(seed)
        self.attempted = {}      # key -> set of values ever sent for it
        self.acked = {}          # key -> last acknowledged value
        self.inserted = set()    # keys whose INSERT was acknowledged
        self.next_value = 1
        self.next_key_index = 0
        self.statements = 0
        self.error = None        # an unexpected failure (not the connection dying)

    def _new_key(self):
        k = (self.next_key_index * CLIENTS + self.tid) * KEY_STRIDE
        self.next_key_index += 1
        return k

    def run(self):
        try:
            conn = psycopg2.connect(**self.server.conninfo)
            conn.autocommit = True
            cur = conn.cursor()
        except psycopg2.Error as e:
            self.error = "connect failed before the kill: %s" % e
            return
        while True:
            v = self.next_value
            self.next_value += 1
            if not self.inserted or self.rng.random() < 0.4:
                k = self._new_key()
                sql = "INSERT INTO %s (k, v, tid) VALUES (%%s, %%s, %%s)" % self.table
                params = (k, v, self.tid)
                insert = True
            else:
                k = self.rng.choice(sorted(self.inserted))
                sql = "UPDATE %s SET v = %%s WHERE k = %%s" % self.table
                params = (v, k)
                insert = False
            self.attempted.setdefault(k, set()).add(v)
            try:
                cur.execute(sql, params)
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                return               # the server died: this statement is in flight
            except psycopg2.Error as e:
                self.error = "%s %s failed: %s %s" % (sql, params, e.pgcode, e)
                return
            if cur.rowcount != 1:
                self.error = "%s %s affected %d rows" % (sql, params, cur.rowcount)
                return
            self.acked[k] = v
            if insert:
                self.inserted.add(k)
            self.statements += 1


def check(rows, writers):
    """rows: {k: (v, tid)} read after recovery. Returns a list of violations."""
    bad = []
    attempted_keys = set()
    for w in writers:
        attempted_keys.update(w.attempted)
        for k in w.inserted:
            if k not in rows:
                bad.append("acknowledged insert of key %d lost" % k)
        for k, vals in w.attempted.items():
            if k not in rows:
                continue
            v, tid = rows[k]
            if tid != w.tid:
                bad.append("key %d: tid %d, written only by %d" % (k, tid, w.tid))
            if v not in vals:
                bad.append("key %d: value %d was never attempted" % (k, v))
            elif k in w.acked and v < w.acked[k]:
                bad.append("key %d: value %d older than acknowledged %d" % (k, v, w.acked[k]))
    for k in rows:
        if k not in attempted_keys:
            bad.append("key %d exists but was never written" % k)
    return bad


def test_acknowledged_writes_survive_kill9(server):
    total_acked = 0
    for it in range(ITERATIONS):
        table = "crash_kv_%d" % it
        server.psql("CREATE TABLE %s (k bigint PRIMARY KEY, v bigint NOT NULL, tid int NOT NULL);" % table)
        writers = [Writer(server, table, t, seed=it * 1000 + t) for t in range(CLIENTS)]
        for w in writers:
            w.start()
        time.sleep(RUN_SECONDS * (0.7 + 0.6 * random.random()))
        server.kill()
        for w in writers:
            w.join(timeout=30)
            assert not w.is_alive(), "a client thread hung after the kill"
        errors = [w.error for w in writers if w.error]
        assert not errors, errors
        server.start()
        with server.connect() as conn:
            cur = conn.cursor()
            cur.execute("SELECT k, v, tid FROM %s" % table)
            rows = {k: (v, tid) for k, v, tid in cur.fetchall()}
        conn.close()
        acked = sum(w.statements for w in writers)
        assert acked > 0, "iteration %d: no statement was acknowledged before the kill" % it
        total_acked += acked
        bad = check(rows, writers)
        assert not bad, "iteration %d (%d acknowledged statements): %s" % (it, acked, bad[:20])
        # Earlier iterations' tables must still be readable after another crash.
        for prev in range(it):
            server.psql("SELECT count(*) FROM crash_kv_%d;" % prev)
    assert total_acked >= ITERATIONS


ACCOUNTS = 64
INITIAL_BALANCE = 1000
RETRYABLE = ("40001", "40P01")     # serialization failure, deadlock: rolled back


class Mover(threading.Thread):
    """Runs transfers in explicit transactions; ids are unique per thread."""

    def __init__(self, server, tid, seed):
        super().__init__(daemon=True)
        self.server, self.tid = server, tid
        self.rng = random.Random(seed)
        self.acked = set()        # transfer ids whose COMMIT was acknowledged
        self.error = None

    def run(self):
        try:
            conn = psycopg2.connect(**self.server.conninfo)
        except psycopg2.Error as e:
            self.error = "connect failed before the kill: %s" % e
            return
        n = 0
        while True:
            n += 1
            xfer_id = self.tid * 10_000_000 + n
            a, b = self.rng.sample(range(ACCOUNTS), 2)
            amount = self.rng.randint(1, 50)
            first, second = sorted((a, b))          # fixed lock order: no deadlocks
            try:
                cur = conn.cursor()
                for acct in (first, second):
                    delta = -amount if acct == a else amount
                    cur.execute("UPDATE crash_accounts SET balance = balance + %s WHERE id = %s",
                                (delta, acct))
                    if cur.rowcount != 1:
                        self.error = "UPDATE of account %d hit %d rows" % (acct, cur.rowcount)
                        return
                cur.execute("INSERT INTO crash_transfers (id, src, dst, amount) VALUES (%s, %s, %s, %s)",
                            (xfer_id, a, b, amount))
                conn.commit()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                return
            except psycopg2.Error as e:
                if e.pgcode in RETRYABLE:
                    conn.rollback()
                    continue
                self.error = "transfer failed: %s %s" % (e.pgcode, e)
                return
            self.acked.add(xfer_id)


def test_transfers_atomic_across_kill9(server):
    server.psql("DROP TABLE IF EXISTS crash_accounts; DROP TABLE IF EXISTS crash_transfers;"
                "CREATE TABLE crash_accounts (id int PRIMARY KEY, balance bigint NOT NULL);"
                "CREATE TABLE crash_transfers (id bigint PRIMARY KEY, src int NOT NULL,"
                " dst int NOT NULL, amount int NOT NULL);"
                "INSERT INTO crash_accounts SELECT g, %d FROM generate_series(0, %d) g;"
                % (INITIAL_BALANCE, ACCOUNTS - 1))
    acked_total = 0
    for it in range(max(1, ITERATIONS // 2)):
        movers = [Mover(server, t + 1 + it * CLIENTS, seed=7 + it * 100 + t) for t in range(CLIENTS)]
        for m in movers:
            m.start()
        time.sleep(RUN_SECONDS * (0.7 + 0.6 * random.random()))
        server.kill()
        for m in movers:
            m.join(timeout=30)
            assert not m.is_alive(), "a client thread hung after the kill"
        assert not [m.error for m in movers if m.error], [m.error for m in movers if m.error]
        server.start()
        with server.connect() as conn:
            cur = conn.cursor()
            cur.execute("SELECT id, balance FROM crash_accounts")
            balances = dict(cur.fetchall())
            cur.execute("SELECT id, src, dst, amount FROM crash_transfers")
            log = cur.fetchall()
        conn.close()
        acked = set().union(*(m.acked for m in movers))
        acked_total += len(acked)
        logged = {row[0] for row in log}
        lost = acked - logged
        assert not lost, "iteration %d: %d acknowledged transfers lost, e.g. %s" % (it, len(lost), sorted(lost)[:5])
        want = {i: INITIAL_BALANCE for i in range(ACCOUNTS)}
        for _, src, dst, amount in log:
            want[src] -= amount
            want[dst] += amount
        assert balances == want, "iteration %d: balances do not match the transfer log" % it
        assert sum(balances.values()) == ACCOUNTS * INITIAL_BALANCE
    assert acked_total > 0, "no transfer was acknowledged before the kills"
