"""test_txn_elle.py -- a list-append history checker in the style of Elle.

Clients run short transactions over KEYS lists (rows of one table whose primary keys
hash to every shard): each operation either reads a list (SELECT) or appends a
unique element to it (UPDATE ... SET v = v || ','). Some transactions end in a
deliberate ROLLBACK. Every element is unique, so each read names exactly the writes
it saw and, with the final read of every list, gives each key's version order. The
checker infers:
  - ww: the writer of element i of a key precedes the writer of element i+1;
  - wr: the writer of the last element a read saw precedes the reader;
  - rw: a reader precedes the writer of the first element its read did not see;
and reports:
  - incompatible orders: a read that is not a prefix of the key's final list;
  - G1a (aborted read): a committed read that saw an element of a rolled-back (or
    failed) transaction;
  - G1b (intermediate read): a read that saw a transaction's non-final append to a key;
  - G0 (write cycle): a cycle of ww edges; G1c (circular information flow): a cycle
    of ww + wr edges;
  - lost update (REPEATABLE READ only): two committed transactions that both read the
    same version of a key before both appending to it.
PostgreSQL's READ COMMITTED forbids G0, G1a, G1b and G1c (Adya's PL-2), so those are
checked there too; REPEATABLE READ (snapshot isolation) adds lost update. Write skew
(G2) is allowed by both and not reported. A negative control starts a server with
NEXTDB_DEBUG_DIRTY_READS=1 (reads see uncommitted writes) and requires the checker to
find anomalies (NextDB only): reads of rolled-back appends, as G1a, G1b or lists that
no committed history explains.
"""
import os
import random
import threading
import time

import psycopg2
import pytest

import harness

KEYS = 12
CLIENTS = 6
SECONDS = float(os.environ.get("NEXTDB_ELLE_SECONDS", "3"))
DEAD = (psycopg2.OperationalError, psycopg2.InterfaceError)


class Client(threading.Thread):
    def __init__(self, server, cid, level, stop, history, keys, rollback_rate, pause):
        super().__init__(daemon=True)
        self.keys, self.rollback_rate, self.pause = keys, rollback_rate, pause
        self.server, self.cid, self.level, self.stop = server, cid, level, stop
        self.history = history
        self.rng = random.Random(cid * 7 + (1 if level == "REPEATABLE READ" else 2))
        self.error = None

    def run(self):
        conn = psycopg2.connect(**self.server.conninfo)
        conn.set_session(isolation_level=self.level)
        n = 0
        while not self.stop.is_set():
            n += 1
            ops = []
            plan = []
            for _ in range(self.rng.randint(1, 4)):
                k = self.rng.randrange(self.keys)
                if self.rng.random() < 0.5:
                    plan.append(("r", k, None))
                else:
                    plan.append(("a", k, self.cid * 1_000_000 + n * 10 + len(plan)))
            rollback = self.rng.random() < self.rollback_rate
            status = "ok"
            try:
                cur = conn.cursor()
                for op, k, x in plan:
                    if op == "r":
                        cur.execute("SELECT v FROM elle WHERE k = %s", (k,))
                        v = cur.fetchone()[0]
                        ops.append(("r", k, [int(e) for e in v.split(",") if e]))
                    else:
                        cur.execute("UPDATE elle SET v = v || %s WHERE k = %s", ("%d," % x, k))
                        ops.append(("a", k, x))
                if rollback:
                    time.sleep(self.pause)    # leave the uncommitted appends around a moment
                    conn.rollback()
                    status = "aborted"
                else:
                    conn.commit()
            except DEAD:
                return
            except psycopg2.Error as e:
                if e.pgcode not in ("40001", "40P01"):
                    self.error = "%s %s" % (e.pgcode, e)
                    return
                conn.rollback()
                status = "aborted"
                # appends of the failed statement may have happened: count them as written
                for op, k, x in plan[len(ops):len(ops) + 1]:
                    if op == "a":
                        ops.append(("a", k, x))
            self.history.append((self.cid, n, status, ops))
        conn.close()


def run_workload(server, level, keys=KEYS, rollback_rate=0.15, pause=0.003):
    server.psql("DROP TABLE IF EXISTS elle; CREATE TABLE elle (k int PRIMARY KEY, v text NOT NULL);"
                "INSERT INTO elle SELECT g, '' FROM generate_series(0, %d) g;" % (keys - 1))
    history = []
    stop = threading.Event()
    clients = [Client(server, c + 1, level, stop, history, keys, rollback_rate, pause)
               for c in range(CLIENTS)]
    for c in clients:
        c.start()
    time.sleep(SECONDS)
    stop.set()
    for c in clients:
        c.join(timeout=60)
    errors = [c.error for c in clients if c.error]
    assert not errors, errors
    with server.connect() as conn:
        cur = conn.cursor()
        cur.execute("SELECT k, v FROM elle")
        final = {k: [int(e) for e in v.split(",") if e] for k, v in cur.fetchall()}
    conn.close()
    return history, final


def find_cycle(nodes, edges):
    """edges: {node: set(node)}; returns one cycle as a list, or None (iterative DFS)."""
    color = {}
    for root in nodes:
        if color.get(root):
            continue
        stack = [(root, iter(edges.get(root, ())))]
        color[root] = 1
        path = [root]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = 2
                stack.pop()
                path.pop()
                continue
            c = color.get(nxt, 0)
            if c == 1:
                return path[path.index(nxt):] + [nxt]
            if c == 0:
                color[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(edges.get(nxt, ()))))
    return None


def check(history, final, lost_update):
    """Returns {anomaly: [examples]} for the history."""
    found = {}

    def report(kind, what):
        found.setdefault(kind, []).append(what)

    writer = {}         # element -> (txn, status)
    last_append = {}    # (txn, key) -> element it appended last
    for cid, n, status, ops in history:
        t = (cid, n)
        for op, k, x in ops:
            if op == "a":
                writer[x] = (t, status)
                last_append[(t, k)] = x
    committed = [(cid, n, ops) for cid, n, status, ops in history if status == "ok"]
    for k, order in final.items():
        for x in order:
            if x in writer and writer[x][1] != "ok":
                report("G1a", "final list of key %d holds element %d of an aborted txn" % (k, x))
    edges = {}
    ww_edges = {}
    nodes = set()
    for k, order in final.items():
        for a, b in zip(order, order[1:]):
            ta, tb = writer.get(a, (None,))[0], writer.get(b, (None,))[0]
            if ta and tb and ta != tb:
                ww_edges.setdefault(ta, set()).add(tb)
                edges.setdefault(ta, set()).add(tb)
                nodes.update((ta, tb))
    for cid, n, ops in committed:
        t = (cid, n)
        appended = set()
        for op, k, x in ops:
            if op == "a":
                appended.add(k)
                continue
            order = final.get(k, [])
            own = [e for e in x if writer.get(e, (None,))[0] == t]
            seen = [e for e in x if writer.get(e, (None,))[0] != t]
            for e in seen:
                w = writer.get(e)
                if w and w[1] != "ok":
                    report("G1a", "txn %s read element %d of aborted txn %s" % (t, e, w[0]))
            if x != order[:len(x)]:
                report("incompatible-order", "txn %s read %s of key %d, final %s" % (t, x, k, order[:len(x) + 2]))
                continue
            if seen:
                w = writer.get(seen[-1])
                if w and last_append.get((w[0], k)) != seen[-1] and not own:
                    report("G1b", "txn %s read intermediate element %d of txn %s" % (t, seen[-1], w[0]))
                if w and w[0] != t:
                    edges.setdefault(w[0], set()).add(t)
                    nodes.update((w[0], t))
    cycle = find_cycle(sorted(nodes), ww_edges)
    if cycle:
        report("G0", "write cycle %s" % cycle)
    cycle = find_cycle(sorted(nodes), edges)
    if cycle:
        report("G1c", "ww/wr cycle %s" % cycle)
    if lost_update:
        # two committed txns that read key k at the same version and then appended to k
        rmw = {}
        for cid, n, ops in committed:
            t = (cid, n)
            first_read = {}
            for op, k, x in ops:
                if op == "r" and k not in first_read:
                    first_read[k] = ("before", len(x))
                elif op == "a" and k not in first_read:
                    first_read[k] = ("blind", None)
            for op, k, x in ops:
                if op == "a" and first_read.get(k, ("", None))[0] == "before":
                    rmw.setdefault((k, first_read[k][1]), set()).add(t)
        for (k, length), txns in rmw.items():
            if len(txns) > 1:
                report("lost-update", "txns %s all read key %d at length %d and appended"
                       % (sorted(txns)[:3], k, length))
    return found


def summary(history):
    ok = sum(1 for h in history if h[2] == "ok")
    return ok, len(history) - ok


@pytest.mark.parametrize("level", ["REPEATABLE READ", "READ COMMITTED"])
def test_list_append_history_has_no_anomaly(server, level):
    history, final = run_workload(server, level)
    ok, aborted = summary(history)
    assert ok > 50 and aborted > 5, (ok, aborted)
    found = check(history, final, lost_update=(level == "REPEATABLE READ"))
    assert not found, {k: v[:3] for k, v in found.items()}


@pytest.mark.nextdb_only
def test_checker_catches_dirty_reads(server_factory, monkeypatch):
    monkeypatch.setenv("NEXTDB_DEBUG_DIRTY_READS", "1")
    srv = server_factory("dirty")
    srv.start()
    monkeypatch.delenv("NEXTDB_DEBUG_DIRTY_READS")
    # more rolled-back transactions over fewer keys, each holding its appends longer
    # A dirty read needs a reader to land inside a rolled-back writer's window, which a
    # short run on a loaded machine sometimes misses: up to three runs, any one of them
    # must show the checker finding the anomaly (the positive tests run once).
    for _ in range(3):
        history, final = run_workload(srv, "REPEATABLE READ", keys=4, rollback_rate=0.5, pause=0.02)
        found = check(history, final, lost_update=True)
        if found:
            break
    assert found, summary(history)
