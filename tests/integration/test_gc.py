"""test_gc.py -- garbage collection of old row versions, seen from clients: a
REPEATABLE READ transaction, a half-fetched portal (Execute with a row limit) and a
psycopg2 named cursor (DECLARE / FETCH) keep
reading their snapshot while another session updates every row many times and the
shards flush and compact; once they end, the versions no snapshot needs go away
(nextdb_gc_dropped_versions_total grows, nextdb_store_versions shrinks: in the
memtable at once, in sorted tables when compaction rewrites them), and a
delete-heavy workload keeps its sorted tables bounded with no VACUUM.
NextDB-only: it reads NextDB's metrics and uses its --memory flag (the snapshot
answers themselves are what PostgreSQL gives)."""
import struct
import time
import urllib.request

import pytest

from pgwire import Conn, cstr, message

pytestmark = pytest.mark.nextdb_only

ROWS = 3000
ROUNDS = 12


def metric_total(server, name):
    """Sum of a metric over the shards."""
    url = "http://%s:%d/metrics" % (server.host, server.http_port)
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def wait_metric(server, name, pred, timeout_s=30):
    """Polls until pred(value) holds (the shards push their figures every 10 ms and run
    gc slices every 10 ms); returns the last value seen."""
    deadline = time.time() + timeout_s
    v = metric_total(server, name)
    while not pred(v) and time.time() < deadline:
        time.sleep(0.05)
        v = metric_total(server, name)
    return v


def load(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE gc_rows (k int PRIMARY KEY, v int NOT NULL, pad text NOT NULL)")
    cur.execute("INSERT INTO gc_rows SELECT g, 0, repeat('p', 100) FROM generate_series(1, %d) g"
                % ROWS)


def update_rounds(conn, rounds):
    cur = conn.cursor()
    for _ in range(rounds):
        cur.execute("UPDATE gc_rows SET v = v + 1")
        assert cur.rowcount == ROWS


def test_repeatable_read_snapshot_survives_updates_and_compaction(server_factory):
    srv = server_factory("gc_rr", extra_args=["--memory", str(16 << 20)])   # 1 MiB memtables
    srv.start()
    w = srv.connect()
    w.autocommit = True
    load(w)
    r = srv.connect(autocommit=False)
    r.set_session(isolation_level="REPEATABLE READ")
    rc = r.cursor()
    rc.execute("SELECT sum(v), count(*) FROM gc_rows")
    assert rc.fetchone() == (0, ROWS)
    compactions0 = metric_total(srv, "nextdb_compactions_total")
    for i in range(ROUNDS // 3):
        update_rounds(w, 3)
        rc.execute("SELECT sum(v), count(*), min(v), max(v) FROM gc_rows")
        assert rc.fetchone() == (0, ROWS, 0, 0)
        rc.execute("SELECT v FROM gc_rows WHERE k = 1234")
        assert rc.fetchone() == (0,)
    assert metric_total(srv, "nextdb_compactions_total") > compactions0
    # every version is still needed by the snapshot: nothing of gc_rows was dropped
    held = wait_metric(srv, "nextdb_store_versions", lambda v: v >= ROWS * (ROUNDS + 1))
    assert held >= ROWS * (ROUNDS + 1)
    r.commit()
    dropped0 = metric_total(srv, "nextdb_gc_dropped_versions_total")
    # a few more rounds flush and compact again, now below a horizon past the old snapshot
    update_rounds(w, 6)
    dropped = wait_metric(srv, "nextdb_gc_dropped_versions_total", lambda v: v >= dropped0 + ROWS)
    assert dropped >= dropped0 + ROWS
    # a sorted table wholly below the horizon with several versions per key is
    # rewritten (shards/README.md, "Compaction"), so the count falls well below what
    # the snapshot held, new rounds included
    after = wait_metric(srv, "nextdb_store_versions", lambda v: v < held / 2)
    assert after < held / 2
    cur = w.cursor()
    cur.execute("SELECT sum(v), count(*) FROM gc_rows")
    assert cur.fetchone() == ((ROUNDS + 6) * ROWS, ROWS)
    r.close()
    w.close()


def test_memtable_versions_freed_when_the_snapshot_ends(server_factory):
    srv = server_factory("gc_mt", extra_args=["--memory", str(512 << 20)])   # no flush here
    srv.start()
    w = srv.connect()
    w.autocommit = True
    load(w)
    r = srv.connect(autocommit=False)
    r.set_session(isolation_level="REPEATABLE READ")
    rc = r.cursor()
    rc.execute("SELECT count(*) FROM gc_rows")
    update_rounds(w, 5)
    held = wait_metric(srv, "nextdb_store_versions", lambda v: v >= ROWS * 6)
    assert held >= ROWS * 6
    rc.execute("SELECT sum(v) FROM gc_rows")
    assert rc.fetchone() == (0,)
    assert metric_total(srv, "nextdb_memtable_flushes_total") == 0
    r.rollback()
    # one version per row (plus the catalog's few) once gc passed every key
    after = wait_metric(srv, "nextdb_store_versions", lambda v: v < ROWS + 200)
    assert after < ROWS + 200
    assert metric_total(srv, "nextdb_gc_dropped_versions_total") >= ROWS * 5
    r.close()
    w.close()


def _portal_rows(msgs):
    """The int values of the single-column DataRows in msgs."""
    out = []
    for kind, body in msgs:
        if kind == b"D":
            (n,) = struct.unpack("!H", body[:2])
            assert n == 1
            (ln,) = struct.unpack("!i", body[2:6])
            out.append(int(body[6:6 + ln]))
    return out


def test_half_fetched_portal_keeps_its_snapshot(server_factory):
    srv = server_factory("gc_portal", extra_args=["--memory", str(16 << 20)])
    srv.start()
    w = srv.connect()
    w.autocommit = True
    load(w)
    c = Conn(srv.host, srv.port, timeout=60)
    try:
        c.login()
        c.send(message(b"Q", cstr("BEGIN")))
        c.read_until({b"Z"})
        # a named portal over the whole table, fetched 100 rows at a time
        c.send(message(b"P", cstr("") + cstr("SELECT v FROM gc_rows") + struct.pack("!H", 0))
               + message(b"B", cstr("c1") + cstr("") + struct.pack("!HH", 0, 0) + struct.pack("!H", 0))
               + message(b"E", cstr("c1") + struct.pack("!i", 100)) + message(b"S"))
        msgs = c.read_until({b"Z"})
        kinds = [k for k, _ in msgs]
        assert b"s" in kinds, msgs[-3:]                  # PortalSuspended
        got = _portal_rows(msgs)
        assert got == [0] * 100
        for i in range(ROUNDS // 3):
            update_rounds(w, 3)
            # another statement in the same transaction takes a newer snapshot ...
            c.send(message(b"Q", cstr("SELECT sum(v) FROM gc_rows")))
            msgs = c.read_until({b"Z"})
            assert _portal_rows(msgs) == [3 * (i + 1) * ROWS]
            # ... and the portal goes on at its own
            c.send(message(b"E", cstr("c1") + struct.pack("!i", 100)) + message(b"S"))
            msgs = c.read_until({b"Z"})
            assert [k for k, _ in msgs if k == b"E"] == [], msgs[-3:]
            more = _portal_rows(msgs)
            assert more == [0] * 100
            got += more
        c.send(message(b"E", cstr("c1") + struct.pack("!i", 0)) + message(b"S"))
        msgs = c.read_until({b"Z"})
        got += _portal_rows(msgs)
        assert len(got) == ROWS and set(got) == {0}
        c.send(message(b"Q", cstr("COMMIT")))
        c.read_until({b"Z"})
        c.send(message(b"X"))
    finally:
        c.close()
    assert metric_total(srv, "nextdb_compactions_total") >= 1
    dropped0 = metric_total(srv, "nextdb_gc_dropped_versions_total")
    update_rounds(w, 6)
    dropped = wait_metric(srv, "nextdb_gc_dropped_versions_total", lambda v: v >= dropped0 + ROWS)
    assert dropped >= dropped0 + ROWS
    w.close()


def test_delete_heavy_workload_stays_bounded(server_factory):
    srv = server_factory("gc_del", extra_args=["--memory", str(16 << 20)])
    srv.start()
    conn = srv.connect()
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE TABLE gc_del (k int PRIMARY KEY, pad text NOT NULL)")
    sizes = []
    for r in range(24):
        cur.execute("INSERT INTO gc_del SELECT g, repeat('d', 200) FROM generate_series(1, 4000) g")
        cur.execute("DELETE FROM gc_del")
        assert cur.rowcount == 4000
        if r % 6 == 5:
            time.sleep(0.1)
            sizes.append(metric_total(srv, "nextdb_sorted_table_bytes"))
    cur.execute("SELECT count(*) FROM gc_del")
    assert cur.fetchone() == (0,)
    # one cycle writes ~0.9 MB of rows and tombstones; kept forever, 24 cycles would
    # leave over 10 MB of sorted tables: compaction drops them as it merges, so the
    # later samples do not grow past a few cycles' worth
    assert max(sizes) < 8 << 20, sizes
    assert sizes[-1] < 3 * max(sizes[0], 1 << 20), sizes
    assert metric_total(srv, "nextdb_gc_dropped_versions_total") > 24 * 4000
    conn.close()


def test_psycopg2_named_cursor_keeps_its_snapshot(server_factory):
    srv = server_factory("gc_named", extra_args=["--memory", str(16 << 20)])
    srv.start()
    w = srv.connect()
    load(w)
    r = srv.connect(autocommit=False)        # READ COMMITTED: the cursor's own snapshot
    nc = r.cursor(name="gc_cursor")
    nc.itersize = 100
    nc.execute("SELECT k, v FROM gc_rows")
    got = nc.fetchmany(100)
    compactions0 = metric_total(srv, "nextdb_compactions_total")
    for _ in range(ROUNDS // 3):
        update_rounds(w, 3)
        got += nc.fetchmany(100)
        other = r.cursor()                   # a newer statement in the same transaction
        other.execute("SELECT min(v) FROM gc_rows")
        assert other.fetchone()[0] > 0
    got += nc.fetchall()
    assert metric_total(srv, "nextdb_compactions_total") > compactions0
    assert len(got) == ROWS and {v for _, v in got} == {0}
    assert sorted(k for k, _ in got) == list(range(1, ROWS + 1))
    nc.close()
    r.commit()
    dropped0 = metric_total(srv, "nextdb_gc_dropped_versions_total")
    update_rounds(w, 3)
    dropped = wait_metric(srv, "nextdb_gc_dropped_versions_total", lambda v: v >= dropped0 + ROWS)
    assert dropped >= dropped0 + ROWS
    r.close()
    w.close()
