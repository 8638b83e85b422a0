"""test_compaction.py -- the shard storage engine under a small memory budget, seen from a
client: with --memory 16 MiB each of the two shards gets 8 MiB, so its memtable flushes
at 1 MiB (the floor of the split); a load and repeated full-table UPDATEs then flush
many sorted tables, compaction merges them (visible in /metrics), scans and updates read
rows out of sorted tables and the block cache, and everything survives kill -9.
NextDB-only (it reads NextDB's metrics and uses its --memory flag)."""
import urllib.request

import pytest

pytestmark = pytest.mark.nextdb_only

ROWS = 20000
UPDATES = 6


def metric_total(server, name):
    """Sum of a metric over the shards."""
    url = "http://%s:%d/metrics" % (server.host, server.http_port)
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def check_table(conn, version):
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(k), min(v), max(v) FROM st_rows")
    count, total, lo, hi = cur.fetchone()
    assert (count, total) == (ROWS, ROWS * (ROWS + 1) // 2)
    assert lo.endswith("-%d" % version) and hi.endswith("-%d" % version)
    cur.execute("SELECT v FROM st_rows WHERE k = 12345")
    assert cur.fetchone()[0] == "u" * 100 + "12345-%d" % version


def test_flush_compaction_and_restart_under_small_memory(server_factory):
    srv = server_factory("storage", extra_args=["--memory", str(16 << 20)])
    srv.start()
    assert "memtable flush at 1 MiB" in srv.log_text()
    conn = srv.connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE st_rows (k int PRIMARY KEY, v text NOT NULL)")
    cur.execute("INSERT INTO st_rows SELECT g, repeat('u', 100) || g || '-0' "
                "FROM generate_series(1, %d) g" % ROWS)
    for i in range(1, UPDATES + 1):
        # two halves: each statement stays below a shard's spill threshold (2 MiB
        # here), so the rows go through the memtable and its flushes (a transaction
        # past it writes sorted runs instead, shards/README.md "Large transactions")
        n = 0
        for half in (0, 1):
            cur.execute("UPDATE st_rows SET v = repeat('u', 100) || k || '-%d' WHERE k %% 2 = %d"
                        % (i, half))
            n += cur.rowcount
        assert n == ROWS
    check_table(conn, UPDATES)
    conn.close()
    assert metric_total(srv, "nextdb_memtable_flushes_total") >= 8
    assert metric_total(srv, "nextdb_compactions_total") >= 1
    assert metric_total(srv, "nextdb_compaction_read_bytes_total") > 0
    assert metric_total(srv, "nextdb_block_cache_hits_total") > 0
    assert metric_total(srv, "nextdb_block_cache_capacity_bytes") == 2 * (4 << 20)   # half of 8 MiB per shard
    srv.restart(kill=True)
    conn = srv.connect()
    check_table(conn, UPDATES)
    conn.close()
