"""test_colscan_direct.py -- count/sum/avg/min/max of integer columns aggregated straight
from whole sorted-table blocks (sql/exec_colscan.c's direct path over format-3 blocks
whose keys are never decoded, shards/README.md "Column scans"), compared with
PostgreSQL: int2/int4/int8 columns with nulls, int8 sums far past the int64 range
(numeric), a column that is all null; then MVCC: a REPEATABLE READ snapshot that must
not see rows another session updated or deleted afterwards (in the memtable, then in a
newer sorted table once flushed), own uncommitted writes and another session's
uncommitted writes; and a flipped byte in a block the direct path reads is XX001
naming the file and block. NextDB-only (small --memory for small memtables); the
answers come from the reference PostgreSQL."""
import os
import urllib.request

import psycopg2
import pytest

import refcompare
from test_storage import expect_sqlstate, flip_byte, pick_block, run_tool

pytestmark = pytest.mark.nextdb_only

ROWS = 30000

SETUP = [
    "CREATE TABLE cd (k int PRIMARY KEY, a smallint, b int, c bigint, n int, z int, pad text)",
    "INSERT INTO cd SELECT g, (g % 200 - 100)::smallint, g * 7 - 100000, "
    "CASE WHEN g % 2 = 0 THEN 9223372036854775807 - g ELSE -9223372036854775807 + g * 3 END, "
    "CASE WHEN g % 3 = 0 THEN NULL ELSE g END, NULL::int, repeat('p', 30) "
    "FROM generate_series(1, {}) g".format(ROWS),
    "CREATE TABLE cdbig (k bigint PRIMARY KEY, c bigint, b int)",
    "INSERT INTO cdbig SELECT g, 9223372036854775807 - g, 2147483647 "
    "FROM generate_series(1, 20000) g",
]

QUERIES = [
    "SELECT count(*), sum(a), avg(a), min(a), max(a) FROM cd",
    "SELECT sum(b), avg(b), min(b), max(b), count(b) FROM cd",
    "SELECT sum(c), avg(c), min(c), max(c), count(c) FROM cd",
    "SELECT count(n), sum(n), avg(n), min(n), max(n) FROM cd",
    "SELECT count(z), sum(z), avg(z), min(z), max(z), count(*) FROM cd",
    "SELECT count(*), sum(k), min(k), max(k) FROM cd",
    "SELECT count(*) FROM cd",
    "SELECT sum(c), avg(c), sum(b), avg(b), min(c), count(*) FROM cdbig",
]


@pytest.fixture(scope="module")
def server_module():
    import harness
    srv = harness.make_server("colscan_direct", extra_args=["--memory", str(16 << 20)])
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def pair(server_module, pg_reference):
    yield from refcompare.pair_fixture(server_module, pg_reference, SETUP,
                                       ["DROP TABLE IF EXISTS cd", "DROP TABLE IF EXISTS cdbig",
                                        "DROP TABLE IF EXISTS cdjunk"])


def metric_total(server, name):
    url = "http://%s:%d/metrics" % (server.host, server.http_port)
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def flush_memtables(pair, srv):
    """Writes enough into a throwaway table that every shard's memtable flushes, and
    waits for the flushes (they run in the background)."""
    import time
    ours, ref = pair
    for c in (ours, ref):
        assert refcompare.run(c, "CREATE TABLE IF NOT EXISTS cdjunk (k int PRIMARY KEY, v text)")[0] == "ok"
    before = metric_total(srv, "nextdb_memtable_flushes_total")
    cur = ours.cursor()
    cur.execute("SELECT coalesce(max(k), 10000000) FROM cdjunk")
    lo = cur.fetchone()[0] + 1
    cur.execute("INSERT INTO cdjunk SELECT g, repeat('j', 400) FROM generate_series(%s, %s) g",
                (lo, lo + 7999))
    cur.close()
    deadline = time.time() + 60
    while metric_total(srv, "nextdb_memtable_flushes_total") < before + 2:
        assert time.time() < deadline, "the memtables did not flush"
        time.sleep(0.2)


def test_direct_aggregates_match_postgres(pair, server_module):
    srv = server_module
    flush_memtables(pair, srv)
    assert metric_total(srv, "nextdb_memtable_flushes_total") >= 2
    whole = metric_total(srv, "nextdb_scan_blocks_whole_total")
    for q in QUERIES:
        refcompare.same(pair, q)
    assert metric_total(srv, "nextdb_scan_blocks_whole_total") > whole


def answers(conn, queries):
    return [refcompare.run(conn, q) for q in queries]


def test_repeatable_read_snapshot_ignores_later_updates_and_deletes(pair, server_module, pg_reference):
    ours_rr = server_module.connect(autocommit=False)
    ref_rr = pg_reference.connect(autocommit=False)
    try:
        for c in (ours_rr, ref_rr):
            c.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        before = answers(ours_rr, QUERIES[:6])
        assert before == answers(ref_rr, QUERIES[:6])
        for c in pair:
            for sql in ("UPDATE cd SET b = b + 1000, c = 5, n = NULL WHERE k BETWEEN 2000 AND 4000",
                        "DELETE FROM cd WHERE k % 11 = 0 AND k < 20000",
                        "INSERT INTO cd (k, a, b, c, n) SELECT g, 1, 2, 3, 4 "
                        "FROM generate_series(40001, 40500) g"):
                assert refcompare.run(c, sql)[0] == "ok", sql
        # the newer versions are in the memtable: the snapshot still sees the old rows
        assert answers(ours_rr, QUERIES[:6]) == before
        # ... and in a newer sorted table once flushed
        flush_memtables(pair, server_module)
        assert answers(ours_rr, QUERIES[:6]) == before
        assert answers(ref_rr, QUERIES[:6]) == before
    finally:
        for c in (ours_rr, ref_rr):
            c.rollback()
            c.close()
    for q in QUERIES:
        refcompare.same(pair, q)


def test_own_and_other_uncommitted_writes(pair, server_module, pg_reference):
    ours_other = server_module.connect(autocommit=False)
    ref_other = pg_reference.connect(autocommit=False)
    ours = server_module.connect(autocommit=False)
    ref = pg_reference.connect(autocommit=False)
    try:
        for c in (ours_other, ref_other):
            cur = c.cursor()
            cur.execute("UPDATE cd SET b = 999999, a = 5 WHERE k BETWEEN 100 AND 300")
            cur.execute("DELETE FROM cd WHERE k BETWEEN 25000 AND 25100")
            cur.execute("INSERT INTO cd (k, b) VALUES (900001, 5)")
        for c in (ours, ref):
            cur = c.cursor()
            cur.execute("DELETE FROM cd WHERE k BETWEEN 7000 AND 7050")
            cur.execute("UPDATE cd SET b = b * 2, c = -c WHERE k BETWEEN 15000 AND 15010")
            cur.execute("INSERT INTO cd (k, a, b, c) VALUES (900002, 11, 12, 13)")
        for q in QUERIES[:6]:
            assert refcompare.run(ours, q) == refcompare.run(ref, q), q
            assert refcompare.run(ours_other, q) == refcompare.run(ref_other, q), q
    finally:
        for c in (ours_other, ref_other, ours, ref):
            c.rollback()
            c.close()
    for q in QUERIES:
        refcompare.same(pair, q)


def test_flipped_byte_in_a_direct_block_names_file_and_block(server_factory):
    srv = server_factory("colscan_corrupt", extra_args=["--memtable-budget", "128kB"])
    srv.start()
    srv.psql("CREATE TABLE cdc (k bigint PRIMARY KEY, v int, w bigint);")
    for lo in range(0, 40000, 10000):
        srv.psql("INSERT INTO cdc SELECT g, g %% 1000, g * 3 FROM generate_series(%d, %d) g;"
                 % (lo, lo + 9999))
    conn = srv.connect()
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(v), max(w) FROM cdc")
    assert cur.fetchone() == (40000, sum(g % 1000 for g in range(40000)), 39999 * 3)
    conn.close()
    assert srv.stop() == 0
    picked = pick_block(srv.data_dir, 16384)
    assert picked, "no sorted-table block holds only cdc rows"
    path, blk, off, length, _first_k = picked
    flip_byte(path, off + length - 3)    # in the last column chunk
    rc, out = run_tool("check", "--data", srv.data_dir)
    assert rc == 1 and "block %d" % blk in out, out
    srv.start()
    conn = srv.connect()
    name = os.path.basename(path)
    for sql in ("SELECT count(*), sum(v) FROM cdc", "SELECT max(w) FROM cdc",
                "SELECT count(*) FROM cdc"):
        msg = expect_sqlstate(conn, sql, None, "XX001")
        assert name in msg and "block %d" % blk in msg, msg
    conn.close()
