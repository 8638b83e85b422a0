"""test_txn_spill.py -- transactions bigger than memory (shards/README.md, "Large
transactions").

The server runs with --memory 32MB (16 MiB per shard: a shard's transaction spills its
writes to a run on disk past 2 MiB), and each test writes a few hundred thousand rows
in one transaction, so the spill path runs on both shards (every commit here is a
two-shard commit). Checked: commit and rollback; the transaction reading its own
writes across the spilled and the in-memory parts (count, sum, point selects, UPDATE
and DELETE of its own spilled rows); a UNIQUE violation against a spilled row
(23505); a REPEATABLE READ reader seeing none of it, before and after the commit; a
INSERT of a spilled key waiting for the big transaction (then 23505); kill -9 before the commit
(nothing), after the acknowledged commit (everything), and during the commit (all or
nothing). Runs unchanged against PostgreSQL (NEXTDB_TEST_TARGET=postgres); the spill
metric check is NextDB's own.
"""
import glob
import os
import subprocess
import threading
import time
import urllib.request

import psycopg2
import pytest

import harness

ROWS = 200000
PAD = "x" * 60


@pytest.fixture(scope="module")
def srv():
    s = harness.make_server("spill", extra_args=["--memory", str(32 << 20)])
    s.start()
    yield s
    s.cleanup()


def q(conn, sql, args=None):
    with conn.cursor() as c:
        c.execute(sql, args)
        return c.fetchall() if c.description else None


def fresh_table(srv, name):
    conn = srv.connect()
    q(conn, "DROP TABLE IF EXISTS %s" % name)
    q(conn, "CREATE TABLE %s (id int PRIMARY KEY, v text)" % name)
    return conn


def load(conn, name, lo=1, hi=ROWS):
    q(conn, "INSERT INTO %s SELECT g, '%s' || g FROM generate_series(%d, %d) g" % (name, PAD, lo, hi))


def spill_runs(srv):
    if harness.TARGET == "postgres":
        return None
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.http_port, timeout=10) as r:
        text = r.read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith("nextdb_spill_runs_total"):
            total += int(float(line.split()[-1]))
    return total


def spill_files(srv):
    if harness.TARGET == "postgres":
        return 0
    return len(glob.glob(os.path.join(srv.data_dir, "shard-*", "spill", "*")))


def test_commit_reads_own_writes_across_the_spilled_part(srv):
    conn = fresh_table(srv, "sp_commit")
    conn.autocommit = False
    before = spill_runs(srv)
    load(conn, "sp_commit")
    if before is not None:
        deadline = time.time() + 10
        while spill_runs(srv) < before + 2 and time.time() < deadline:
            time.sleep(0.05)    # metrics are pushed every few ms
        assert spill_runs(srv) >= before + 2, "the load did not spill on both shards"
    expect_sum = ROWS * (ROWS + 1) // 2
    assert q(conn, "SELECT count(*), sum(id) FROM sp_commit") == [(ROWS, expect_sum)]
    # early rows are spilled, the last ones still in memory
    assert q(conn, "SELECT v FROM sp_commit WHERE id = 7") == [(PAD + "7",)]
    assert q(conn, "SELECT v FROM sp_commit WHERE id = %d" % ROWS) == [(PAD + str(ROWS),)]
    assert q(conn, "SELECT count(*) FROM sp_commit WHERE id BETWEEN 1000 AND 1999") == [(1000,)]
    # UPDATE and DELETE of the transaction's own spilled rows
    q(conn, "UPDATE sp_commit SET v = 'upd' WHERE id <= 500")
    q(conn, "DELETE FROM sp_commit WHERE id BETWEEN 501 AND 1000")
    q(conn, "INSERT INTO sp_commit VALUES (600, 'again')")
    assert q(conn, "SELECT count(*) FROM sp_commit WHERE v = 'upd'") == [(500,)]
    assert q(conn, "SELECT id, v FROM sp_commit WHERE id IN (1, 600, 700) ORDER BY id") == \
        [(1, "upd"), (600, "again")]
    n_after = ROWS - 500 + 1
    assert q(conn, "SELECT count(*) FROM sp_commit") == [(n_after,)]
    conn.commit()
    other = srv.connect()
    assert q(other, "SELECT count(*), sum(id) FROM sp_commit") == \
        [(n_after, expect_sum - sum(range(501, 1001)) + 600)]
    assert q(other, "SELECT v FROM sp_commit WHERE id = 2") == [("upd",)]
    assert spill_files(srv) == 0
    q(other, "DROP TABLE sp_commit")


def test_rollback_leaves_nothing(srv):
    conn = fresh_table(srv, "sp_rb")
    conn.autocommit = False
    load(conn, "sp_rb")
    assert q(conn, "SELECT count(*) FROM sp_rb") == [(ROWS,)]
    conn.rollback()
    assert q(conn, "SELECT count(*) FROM sp_rb") == [(0,)]
    conn.commit()
    assert spill_files(srv) == 0
    # the rows are free: no lock is left behind
    conn.autocommit = True
    q(conn, "INSERT INTO sp_rb VALUES (5, 'five')")
    assert q(conn, "SELECT count(*) FROM sp_rb") == [(1,)]


def test_unique_violation_against_a_spilled_row(srv):
    conn = fresh_table(srv, "sp_uniq")
    conn.autocommit = False
    load(conn, "sp_uniq")
    with pytest.raises(psycopg2.Error) as e:
        q(conn, "INSERT INTO sp_uniq VALUES (3, 'dup')")    # row 3 was spilled long ago
    assert e.value.pgcode == "23505"
    conn.rollback()
    assert q(conn, "SELECT count(*) FROM sp_uniq") == [(0,)]
    conn.commit()


def test_repeatable_read_reader_and_a_waiting_writer(srv):
    conn = fresh_table(srv, "sp_rr")
    q(conn, "INSERT INTO sp_rr VALUES (0, 'old')")
    reader = srv.connect(autocommit=False)
    q(reader, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert q(reader, "SELECT count(*) FROM sp_rr") == [(1,)]
    conn.autocommit = False
    load(conn, "sp_rr")
    assert q(reader, "SELECT count(*) FROM sp_rr") == [(1,)]
    assert q(reader, "SELECT v FROM sp_rr WHERE id = 10") == []
    # an INSERT of a key the big transaction spilled waits for it, as PostgreSQL's
    # unique check waits for the inserter, then fails once it committed
    writer = srv.connect()
    done = {}

    def insert():
        try:
            q(writer, "INSERT INTO sp_rr VALUES (10, 'w')")
            done["ok"] = True
        except psycopg2.Error as ex:
            done["err"] = ex.pgcode

    th = threading.Thread(target=insert, daemon=True)
    th.start()
    th.join(1.0)
    assert th.is_alive(), "the INSERT of a spilled key did not wait for its writer"
    conn.commit()
    th.join(60)
    assert done == {"err": "23505"}
    assert q(reader, "SELECT count(*) FROM sp_rr") == [(1,)]    # still its snapshot
    reader.commit()
    assert q(reader, "SELECT count(*), max(id) FROM sp_rr") == [(ROWS + 1, ROWS)]
    assert q(reader, "SELECT v FROM sp_rr WHERE id = 10") == [(PAD + "10",)]
    reader.commit()


def test_kill_before_and_after_commit(srv):
    conn = fresh_table(srv, "sp_kill")
    conn.autocommit = False
    load(conn, "sp_kill")
    srv.kill()                          # uncommitted: nothing may survive
    srv.start()
    conn = srv.connect()
    assert q(conn, "SELECT count(*) FROM sp_kill") == [(0,)]
    assert spill_files(srv) == 0
    conn.autocommit = False
    load(conn, "sp_kill")
    conn.commit()                       # acknowledged: everything must survive
    srv.kill()
    srv.start()
    conn = srv.connect()
    assert q(conn, "SELECT count(*), sum(id) FROM sp_kill") == [(ROWS, ROWS * (ROWS + 1) // 2)]
    assert q(conn, "SELECT v FROM sp_kill WHERE id = 12345") == [(PAD + "12345",)]
    q(conn, "DROP TABLE sp_kill")


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_kill_during_a_two_shard_commit_is_all_or_nothing(srv, delay):
    conn = fresh_table(srv, "sp_mid")
    conn.autocommit = False
    load(conn, "sp_mid")
    result = {}

    def commit():
        try:
            conn.commit()
            result["acked"] = True
        except psycopg2.Error:
            result["acked"] = False

    th = threading.Thread(target=commit, daemon=True)
    th.start()
    time.sleep(delay)
    srv.kill()
    th.join(30)
    srv.start()
    c = srv.connect()
    (n,), = q(c, "SELECT count(*) FROM sp_mid")
    assert n in (0, ROWS), "a partly committed transaction: %d of %d rows" % (n, ROWS)
    if result.get("acked"):
        assert n == ROWS
    if n == ROWS:
        assert q(c, "SELECT sum(id) FROM sp_mid") == [(ROWS * (ROWS + 1) // 2,)]
    q(c, "DROP TABLE sp_mid")


@pytest.mark.nextdb_only
def test_nextdb_check_after_spilled_commits(srv):
    conn = fresh_table(srv, "sp_check")
    conn.autocommit = False
    load(conn, "sp_check")
    conn.commit()
    srv.stop()
    out = subprocess.run([harness.NEXTDB_BIN, "check", "--data", srv.data_dir],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert " 0 problems" in out.stdout.strip().splitlines()[-1]
    srv.start()
