"""test_columnar_scan.py -- aggregates over scans that read sorted-table blocks whole as
columns (sorted table format 2, shards/README.md), compared with PostgreSQL on data
spread over the memtable and several sorted tables, with updates and deletes on top,
own uncommitted writes and another session's uncommitted writes, WHERE ranges that
skip blocks by min/max, and the same answers after kill -9 and recovery.
NextDB-only (it needs --memory to make small memtables); the answers come from the
reference PostgreSQL."""
import urllib.request

import pytest

import refcompare

pytestmark = pytest.mark.nextdb_only

ROWS = 24000

SETUP = [
    "CREATE TABLE cs (aid int PRIMARY KEY, bid int, abalance int, f float8, r real, "
    "t text, d date, ts timestamp, b bool, s smallint, big bigint, filler char(40))",
    "INSERT INTO cs SELECT g, g % 10, g * 3 - 30000, g / 7.0, (g % 1000) / 4.0, "
    "CASE WHEN g % 5 = 0 THEN NULL ELSE 'v' || g END, date '2020-01-01' + g % 400, "
    "timestamp '2021-06-01 00:00:00' + g * interval '1 minute', g % 3 = 0, "
    "(g % 20000 - 10000)::smallint, g::bigint * 1000003, 'x' || g "
    "FROM generate_series(1, {}) g".format(ROWS),
    "UPDATE cs SET abalance = abalance + 7, f = NULL WHERE aid % 13 = 0",
    "DELETE FROM cs WHERE aid % 17 = 0",
    "UPDATE cs SET bid = bid + 100 WHERE aid BETWEEN 5000 AND 6000",
    "DELETE FROM cs WHERE aid BETWEEN 9000 AND 9100",
    # these stay in the memtable
    "INSERT INTO cs (aid, bid, abalance, f, t) SELECT g, 77, g, g * 0.5, 'new' "
    "FROM generate_series({}, {}) g".format(ROWS + 1, ROWS + 300),
    "UPDATE cs SET abalance = -1 WHERE aid IN (3, 333, 3333, 23999)",
    "DELETE FROM cs WHERE aid IN (4, 444, 4444)",
    # loaded in key order and changed only in a narrow range: most of its blocks
    # overlap nothing else and are read whole
    "CREATE TABLE cs2 (k bigint PRIMARY KEY, v int, f float8, t text)",
    "INSERT INTO cs2 SELECT g, g % 1000, g * 0.25, 'w' || g FROM generate_series(1, 30000) g",
    "UPDATE cs2 SET v = -v WHERE k BETWEEN 20000 AND 20100",
    "DELETE FROM cs2 WHERE k BETWEEN 25000 AND 25050",
]

QUERIES = [
    "SELECT count(*), sum(abalance), avg(abalance), min(abalance), max(abalance) FROM cs",
    # float sums rounded: the order of additions differs (shards), so do the last bits
    "SELECT count(f), round(sum(f)::numeric, 2), min(f), max(f), count(r), sum(r::float8), "
    "min(r), max(r) FROM cs",
    "SELECT count(t), min(t), max(t), min(d), max(d), min(ts), max(ts) FROM cs",
    "SELECT sum(s), min(s), max(s), sum(big), min(big), max(big), count(*) FILTER (WHERE b) FROM cs",
    "SELECT bid, count(*), sum(abalance), round(avg(f)::numeric, 6), max(t) FROM cs GROUP BY bid",
    "SELECT count(*), sum(abalance) FROM cs WHERE aid BETWEEN 1000 AND 1999",
    "SELECT count(*), sum(abalance) FROM cs WHERE aid > 23000",
    "SELECT count(*), max(aid) FROM cs WHERE aid < 50",
    "SELECT count(*), sum(aid) FROM cs WHERE abalance >= 40000 AND abalance < 41000",
    "SELECT count(*), sum(aid) FROM cs WHERE f < 10",
    "SELECT count(*), sum(aid) FROM cs WHERE 100.5 < f AND f <= 200",
    "SELECT count(*) FROM cs WHERE d = date '2020-02-01'",
    "SELECT count(*), min(aid) FROM cs WHERE ts >= timestamp '2021-06-10 00:00:00'",
    "SELECT count(*) FROM cs WHERE aid = 12345",
    "SELECT count(*) FROM cs WHERE aid = -5",
    "SELECT count(*), sum(s) FROM cs WHERE s > 9990",
    "SELECT b, count(*), sum(big) FROM cs WHERE bid < 5 GROUP BY b",
    "SELECT count(*), sum(k), sum(v), min(v), max(v), sum(f), max(t) FROM cs2",
    "SELECT v % 7, count(*), sum(f) FROM cs2 GROUP BY 1",
    "SELECT count(*), sum(v) FROM cs2 WHERE k BETWEEN 12000 AND 12500",
    "SELECT count(*), sum(v) FROM cs2 WHERE k >= 29990",
    "SELECT count(*), sum(k) FROM cs2 WHERE f > 7000",
    "SELECT count(*), sum(k) FROM cs2 WHERE v < 0",
]


@pytest.fixture(scope="module")
def pair(server_factory_module, pg_reference):
    srv = server_factory_module
    yield from refcompare.pair_fixture(srv, pg_reference, SETUP, ["DROP TABLE IF EXISTS cs", "DROP TABLE IF EXISTS cs2"])


@pytest.fixture(scope="module")
def server_factory_module():
    import harness
    srv = harness.make_server("columnar", extra_args=["--memory", str(16 << 20)])
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


def metric_total(server, name):
    url = "http://%s:%d/metrics" % (server.host, server.http_port)
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def test_aggregates_match_postgres(pair, server_factory_module):
    srv = server_factory_module
    assert metric_total(srv, "nextdb_memtable_flushes_total") >= 2
    whole = metric_total(srv, "nextdb_scan_blocks_whole_total")
    skipped = metric_total(srv, "nextdb_scan_blocks_skipped_total")
    for q in QUERIES:
        refcompare.same(pair, q)
    # the block path really ran: whole blocks, and blocks skipped by the WHERE ranges
    assert metric_total(srv, "nextdb_scan_blocks_whole_total") > whole
    assert metric_total(srv, "nextdb_scan_blocks_skipped_total") > skipped


def test_own_and_other_uncommitted_writes(pair, server_factory_module, pg_reference):
    ours_other = server_factory_module.connect(autocommit=False)
    ref_other = pg_reference.connect(autocommit=False)
    ours = server_factory_module.connect(autocommit=False)
    ref = pg_reference.connect(autocommit=False)
    try:
        for c in (ours_other, ref_other):
            cur = c.cursor()
            cur.execute("UPDATE cs SET abalance = 999999 WHERE aid BETWEEN 100 AND 200")
            cur.execute("INSERT INTO cs (aid, abalance) VALUES (900001, 5)")
        for c in (ours, ref):
            cur = c.cursor()
            cur.execute("DELETE FROM cs WHERE aid BETWEEN 7000 AND 7050")
            cur.execute("UPDATE cs SET abalance = abalance * 2 WHERE aid BETWEEN 15000 AND 15010")
            cur.execute("INSERT INTO cs (aid, abalance, f) VALUES (900002, 11, 1.5)")
        for q in QUERIES[:2] + QUERIES[5:9]:
            a = refcompare.run(ours, q)
            b = refcompare.run(ref, q)
            assert a == b, q
    finally:
        for c in (ours_other, ref_other, ours, ref):
            c.rollback()
            c.close()
    for q in QUERIES[:2]:
        refcompare.same(pair, q)


def test_answers_survive_kill_and_recovery(pair, server_factory_module):
    server_factory_module.restart(kill=True)
    ours = server_factory_module.connect(autocommit=True)
    try:
        for q in QUERIES:
            a = refcompare.run(ours, q)
            b = refcompare.run(pair[1], q)
            key = lambda r: tuple((v is None, str(v)) for v in r)
            if a[0] == "ok" and b[0] == "ok":
                a, b = a[:2] + (sorted(a[2], key=key),), b[:2] + (sorted(b[2], key=key),)
            assert a == b, q
    finally:
        ours.close()
