"""test_txn_tpcb_kill.py -- pgbench tpcb-like under kill -9, many times.

pgbench's built-in tpcb-like (16 clients, -M prepared) runs against scale 1 (the
accounts, tellers, branch and history rows hash to every shard, so most transactions commit on
several shards); after a random short time the server is killed (SIGKILL to the
whole process group) and restarted, ROUNDS times. After every restart:
  - sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta);
  - exactly, row by row: every account's, teller's and branch's balance equals the
    sum of the history deltas naming it (a history row exists if and only if all
    three updates of its transaction are applied: nothing half-committed, nothing
    lost);
  - the history rows the round added are at least the transactions pgbench counted
    as processed (their COMMIT was acknowledged), and at most that plus one in-flight
    transaction per client (a COMMIT may be durable but unacknowledged at the kill).

Environment: NEXTDB_TPCB_KILL_ROUNDS (default 20).
"""
import os
import random
import re
import subprocess
import time

ROUNDS = int(os.environ.get("NEXTDB_TPCB_KILL_ROUNDS", "20"))
CLIENTS = 16
SCALE = 1


def pgbench_cmd(server, *args):
    return ["pgbench", "-h", server.host, "-p", str(server.port), "-U", "postgres", *args,
            "postgres"]


def state(server):
    with server.connect() as conn:
        cur = conn.cursor()
        cur.execute("SELECT aid, tid, bid, delta FROM pgbench_history")
        hist = cur.fetchall()
        cur.execute("SELECT aid, abalance FROM pgbench_accounts WHERE abalance <> 0")
        accounts = dict(cur.fetchall())
        cur.execute("SELECT tid, tbalance FROM pgbench_tellers")
        tellers = dict(cur.fetchall())
        cur.execute("SELECT bid, bbalance FROM pgbench_branches")
        branches = dict(cur.fetchall())
        cur.execute("SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
                    " (SELECT sum(bbalance) FROM pgbench_branches),"
                    " (SELECT sum(tbalance) FROM pgbench_tellers),"
                    " (SELECT coalesce(sum(delta), 0) FROM pgbench_history)")
        sums = [int(x) for x in cur.fetchone()]
    conn.close()
    return hist, accounts, tellers, branches, sums


def check(server):
    hist, accounts, tellers, branches, sums = state(server)
    assert sums[0] == sums[1] == sums[2] == sums[3], "sums differ: %s" % sums
    want_a, want_t, want_b = {}, {}, {}
    for aid, tid, bid, delta in hist:
        want_a[aid] = want_a.get(aid, 0) + delta
        want_t[tid] = want_t.get(tid, 0) + delta
        want_b[bid] = want_b.get(bid, 0) + delta
    want_a = {k: v for k, v in want_a.items() if v != 0}
    assert accounts == want_a, "account balances differ from the history"
    assert {k: v for k, v in tellers.items()} == {k: want_t.get(k, 0) for k in tellers}
    assert {k: v for k, v in branches.items()} == {k: want_b.get(k, 0) for k in branches}
    return len(hist)


def test_tpcb_like_kill9_rounds(server):
    out = subprocess.run(pgbench_cmd(server, "-i", "-I", "dtGp", "-s", str(SCALE)),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = check(server)
    assert rows == 0
    rng = random.Random(11)
    total_processed = 0
    for rnd in range(ROUNDS):
        proc = subprocess.Popen(pgbench_cmd(server, "-n", "-c", str(CLIENTS), "-j", "2",
                                            "-T", "60", "-M", "prepared"),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.2 + 0.25 * rng.random())
        server.kill()
        text, _ = proc.communicate(timeout=60)
        m = re.search(r"number of transactions actually processed: (\d+)", text)
        processed = int(m.group(1)) if m else 0
        server.start()
        now = check(server)
        added = now - rows
        assert added >= processed, \
            "round %d: pgbench saw %d commits acknowledged, history grew by %d" % (rnd, processed, added)
        assert added <= processed + CLIENTS, \
            "round %d: history grew by %d, more than %d acknowledged + %d in flight" % (
                rnd, added, processed, CLIENTS)
        rows = now
        total_processed += processed
    assert total_processed > 0
