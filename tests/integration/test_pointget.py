"""test_pointget.py -- primary-key point lookups over rows spread across several sorted
tables and the memtable (updates and deletes landing in newer tables than the rows
they change), compared with PostgreSQL: prepared and simple lookups of present,
updated, deleted and absent keys, a REPEATABLE READ snapshot reading older versions
while newer ones sit in newer tables, and the lookup counters in /metrics
(shards/README.md, "Point lookups"). NextDB-only (it needs --memory for small
memtables and reads NextDB's metrics); the answers come from the reference PostgreSQL."""
import random
import time
import urllib.request

import pytest

import refcompare

pytestmark = pytest.mark.nextdb_only

ROWS = 12000

SETUP = [
    "CREATE TABLE pt (k int PRIMARY KEY, v int NOT NULL, pad text NOT NULL)",
    "INSERT INTO pt SELECT g, g, repeat('p', 120) FROM generate_series(1, {}) g".format(ROWS),
    "UPDATE pt SET v = v + 1000000 WHERE k % 3 = 0",
    "DELETE FROM pt WHERE k % 7 = 0",
    "UPDATE pt SET v = -v, pad = 'short' WHERE k % 5 = 0",
    "INSERT INTO pt SELECT g, g, 'late' FROM generate_series({}, {}) g".format(ROWS + 1, ROWS + 500),
    "UPDATE pt SET v = 42 WHERE k IN (1, 2, 3, 5, 9, 10)",
]

# present, updated once or twice, deleted, re-inserted beyond the load, absent
KEYS = sorted(set(random.Random(3).sample(range(-20, ROWS + 600), 300)) |
              {1, 2, 3, 5, 7, 9, 10, 14, 15, ROWS, ROWS + 1, ROWS + 500, ROWS + 501, 0, -1})


@pytest.fixture(scope="module")
def server():
    import harness
    srv = harness.make_server("pointget", extra_args=["--memory", str(16 << 20)])
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    yield from refcompare.pair_fixture(server, pg_reference, SETUP, ["DROP TABLE IF EXISTS pt"])


def metric_total(server, name):
    url = "http://%s:%d/metrics" % (server.host, server.http_port)
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith(name + "{")]
    assert values, name + " is not in /metrics"
    return sum(values)


def lookups(conn, keys, prepared):
    cur = conn.cursor()
    out = []
    if prepared:
        cur.execute("PREPARE pt_get (int) AS SELECT k, v, length(pad) FROM pt WHERE k = $1")
    for k in keys:
        if prepared:
            cur.execute("EXECUTE pt_get (%s)", (k,))
        else:
            cur.execute("SELECT k, v, length(pad) FROM pt WHERE k = %s", (k,))
        out.append((k, cur.fetchall()))
    if prepared:
        cur.execute("DEALLOCATE pt_get")
    return out


def test_point_lookups_match_postgres(pair, server):
    ours, ref = pair
    assert metric_total(server, "nextdb_memtable_flushes_total") >= 2
    assert metric_total(server, "nextdb_sorted_tables") >= 1
    names = ["lookups", "lookup_tables", "lookup_blocks", "lookup_bloom_negatives",
             "lookup_bloom_false_positives"]
    before = {n: metric_total(server, "nextdb_point_%s_total" % n) for n in names}
    for prepared in (True, False):
        assert lookups(ours, KEYS, prepared) == lookups(ref, KEYS, prepared)
    refcompare.same(pair, "SELECT count(*), sum(v) FROM pt")

    def delta(n):
        return metric_total(server, "nextdb_point_%s_total" % n) - before[n]

    # every lookup reaches the sorted tables (figures are pushed every 10 ms: poll)
    for _ in range(100):
        if delta("lookups") >= 2 * len(KEYS):
            break
        time.sleep(0.05)
    assert delta("lookups") >= 2 * len(KEYS)
    tables = delta("lookup_tables")
    assert tables >= delta("lookups")              # at least one table each
    assert 0 < delta("lookup_blocks") <= tables    # the rest: bloom negatives, false positives
    assert delta("lookup_bloom_negatives") + delta("lookup_bloom_false_positives") <= tables
    assert metric_total(server, "nextdb_block_cache_decoded_bytes_total") > 0


def test_repeatable_read_sees_older_versions_in_older_tables(pair, server, pg_reference):
    ours_rr = server.connect(autocommit=False)
    ref_rr = pg_reference.connect(autocommit=False)
    ours, ref = pair
    sample = KEYS[::3]
    try:
        for c in (ours_rr, ref_rr):
            c.set_session(isolation_level="REPEATABLE READ")
        first_ours = lookups(ours_rr, sample, True)
        first_ref = lookups(ref_rr, sample, True)
        assert first_ours == first_ref
        # newer versions of every row, several times the memtable budget: they flush
        # into newer sorted tables while the snapshot holds the old ones
        for _ in range(3):
            for c in (ours, ref):
                c.cursor().execute("UPDATE pt SET v = v + 1, pad = pad || 'x'")
        assert lookups(ours_rr, sample, True) == first_ours
        assert lookups(ref_rr, sample, True) == first_ref
    finally:
        for c in (ours_rr, ref_rr):
            c.rollback()
            c.close()
    assert lookups(ours, sample, False) == lookups(ref, sample, False)
    refcompare.same(pair, "SELECT count(*), sum(v), sum(length(pad)) FROM pt")
