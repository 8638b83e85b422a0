"""test_txn_metrics.py -- transaction ends and lock waits on /metrics: commits,
aborts by reason (rollback, error, serialization_failure, deadlock, lock_timeout),
lock waits started, their total time, and the current-waiters gauge, each driven by
the statements that cause it and read back from the HTTP endpoint (summed over the
shard label); the scrape passes `promtool check metrics`. NextDB-only."""
import re
import shutil
import subprocess
import threading
import time
import urllib.request

import psycopg2
import pytest

pytestmark = pytest.mark.nextdb_only

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape(server):
    with urllib.request.urlopen("http://%s:%d/metrics" % (server.host, server.http_port), timeout=30) as r:
        raw = r.read()
    return raw, raw.decode()


def total(text, name, **labels):
    """Sum of name's samples over the shard label, restricted to the given labels."""
    s = 0.0
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            s += float(m.group(3))
    return s


def run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall() if cur.description else cur.statusmessage
    except psycopg2.Error as e:
        return e.pgcode
    finally:
        cur.close()


REASONS = ["rollback", "error", "serialization_failure", "deadlock", "lock_timeout"]


def snapshot(server):
    _, text = scrape(server)
    snap = {r: total(text, "nextdb_txn_aborts_total", reason=r) for r in REASONS}
    snap["commits"] = total(text, "nextdb_txn_commits_total")
    snap["waits"] = total(text, "nextdb_lock_waits_total")
    snap["wait_count"] = total(text, "nextdb_lock_wait_seconds_count")
    snap["wait_sum"] = total(text, "nextdb_lock_wait_seconds_sum")
    snap["waiters"] = total(text, "nextdb_lock_waiters")
    return snap


def in_thread(fn):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", fn()))
    t.start()
    return t, box


def test_transaction_ends_and_lock_waits(server):
    a, b = server.connect(), server.connect()
    try:
        run(a, "DROP TABLE IF EXISTS tm")
        run(a, "CREATE TABLE tm (id int PRIMARY KEY, n int)")
        run(a, "INSERT INTO tm SELECT g, 0 FROM generate_series(1, 10) g")
        before = snapshot(server)
        # one commit, one client rollback, two errors (in a block and autocommit)
        for sql in ["BEGIN", "UPDATE tm SET n = 1 WHERE id = 1", "COMMIT",
                    "BEGIN", "UPDATE tm SET n = 2 WHERE id = 1", "ROLLBACK",
                    "BEGIN", "SELECT 1/0", "ROLLBACK"]:
            run(a, sql)
        assert run(a, "SELECT 1/0") == "22012"
        # serialization failure (REPEATABLE READ, row changed after the snapshot)
        run(a, "BEGIN ISOLATION LEVEL REPEATABLE READ")
        run(a, "SELECT n FROM tm WHERE id = 3")
        assert run(b, "UPDATE tm SET n = 3 WHERE id = 3") == "UPDATE 1"
        assert run(a, "UPDATE tm SET n = 4 WHERE id = 3") == "40001"
        run(a, "ROLLBACK")
        # lock timeout: b waits, and while it waits the gauge shows it
        run(a, "BEGIN")
        run(a, "UPDATE tm SET n = 5 WHERE id = 4")
        run(b, "SET lock_timeout = '2s'")
        t, box = in_thread(lambda: run(b, "UPDATE tm SET n = 6 WHERE id = 4"))
        waiting = 0
        for _ in range(100):
            waiting = snapshot(server)["waiters"]
            if waiting:
                break
            time.sleep(0.02)
        assert waiting == 1
        t.join(30)
        assert box["r"] == "55P03"
        run(a, "ROLLBACK")
        run(b, "RESET lock_timeout")
        # deadlock: one of the two is the victim, the other goes on and rolls back
        for c in (a, b):
            run(c, "SET deadlock_timeout = '100ms'")
            run(c, "BEGIN")
        run(a, "UPDATE tm SET n = 7 WHERE id = 5")
        run(b, "UPDATE tm SET n = 7 WHERE id = 6")
        t, box = in_thread(lambda: run(a, "UPDATE tm SET n = 8 WHERE id = 6"))
        time.sleep(0.2)
        rb = run(b, "UPDATE tm SET n = 8 WHERE id = 5")
        t.join(30)
        assert sorted([str(rb), str(box["r"])]) == ["40P01", "UPDATE 1"]
        run(a, "ROLLBACK")
        run(b, "ROLLBACK")
        after = snapshot(server)
    finally:
        a.close()
        b.close()
    delta = {k: after[k] - before[k] for k in before}
    assert delta["rollback"] == 3          # the client's, the lock holder's, the deadlock survivor's
    assert delta["error"] == 2
    assert delta["serialization_failure"] == 1
    assert delta["deadlock"] == 1
    assert delta["lock_timeout"] == 1
    assert delta["commits"] == 2           # the block and b's autocommit update (fast path)
    assert delta["waits"] >= 3             # the timed-out wait and both deadlock waits
    assert delta["wait_count"] >= 3
    assert delta["wait_sum"] > 0
    assert after["waiters"] == 0


def test_scrape_passes_promtool(server):
    raw, text = scrape(server)
    assert "# TYPE nextdb_txn_aborts_total counter" in text
    assert text.count("# TYPE nextdb_txn_aborts_total ") == 1
    assert "# TYPE nextdb_lock_wait_seconds histogram" in text
    assert "# TYPE nextdb_lock_waiters gauge" in text
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus; tools/setup-deps.sh)")
    res = subprocess.run([promtool, "check", "metrics"], input=raw, capture_output=True, timeout=60)
    assert res.returncode == 0, (res.stdout + res.stderr).decode()[-3000:]
