"""test_storage.py -- the storage engine seen from outside: corruption is an error,
never a wrong answer; a shard whose disk failed refuses writes but keeps serving reads;
acknowledged writes survive a long kill -9 loop while sorted tables are being flushed;
`nextdb check` and `nextdb dump-table` agree with what the server reports.

Model:
  - Corruption: rows are loaded with a tiny memtable budget (--memtable-budget), so
    they land in sorted tables; the server is stopped; `nextdb check` passes (exit 0);
    `nextdb dump-table` lists each table's blocks, one byte in the middle of a block
    holding only the target table's rows is flipped; `nextdb check` then exits 1 naming
    the file and block; after a restart every query needing that block fails with
    SQLSTATE XX001 naming the same file and block (scan, point lookup, UPDATE, INSERT
    of an existing key), while another table, other keys and new tables keep working.
  - Disk failure: the data directory is a 6 MiB tmpfs in a private mount namespace
    (unshare -m); rows are inserted until the disk is full. The failed write makes the
    shard read-only: that statement and later writes fail with SQLSTATE 58030 and a
    clear message; every acknowledged row can still be read. Skipped where a mount
    namespace cannot be made.
  - Kill loop: CLIENTS threads each own the keys k with k % CLIENTS == thread id and
    run autocommit INSERT (new key) / UPDATE / DELETE (own live keys) with strictly
    increasing values, recording what the server acknowledged, over 3 shards with a
    128 kB memtable budget (flushes, manifest switches, WAL trims all the time). The
    server is killed with SIGKILL ITERATIONS times at random moments; while it is down
    `nextdb check` must find no problem (torn tails and orphans are warnings); after
    each restart every key holds exactly its last acknowledged state, except each
    thread's one statement in flight at the kill, which may or may not have applied
    (the observed outcome becomes the new acknowledged state). Point lookups of a
    sample of keys must agree with the scan. Negative control: a row deleted behind
    the clients' back at the end must be reported by the same verifier.

Environment: NEXTDB_STORAGE_ITERATIONS (default 30), NEXTDB_STORAGE_CLIENTS (4),
NEXTDB_STORAGE_RUN_SECONDS (mean time before each kill, default 0.5).
"""
import os
import random
import re
import shutil
import subprocess
import threading
import time

import psycopg2
import pytest

import harness

ITERATIONS = int(os.environ.get("NEXTDB_STORAGE_ITERATIONS", "30"))
CLIENTS = int(os.environ.get("NEXTDB_STORAGE_CLIENTS", "4"))
RUN_SECONDS = float(os.environ.get("NEXTDB_STORAGE_RUN_SECONDS", "0.5"))
PAD = "p" * 180          # makes rows big enough that the memtable budget is hit often

nextdb_only = pytest.mark.nextdb_only


def run_tool(*args):
    """Runs the nextdb binary as an offline tool; returns (exit code, stdout+stderr)."""
    res = subprocess.run([harness.NEXTDB_BIN, *args], capture_output=True, text=True, timeout=120)
    return res.returncode, res.stdout + res.stderr


def sst_files(data_dir):
    out = []
    for shard in sorted(os.listdir(data_dir)):
        d = os.path.join(data_dir, shard, "sst")
        if shard.startswith("shard-") and os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".sst")]
    return out


BLOCK_RE = re.compile(r"^block (\d+): offset (\d+) length (\d+) versions (\d+) .* first "
                      r"\(table (\d+), (0x[0-9a-f]+|\"[^\"]*\")\) last \(table (\d+), ", re.M)


def decode_int_key(text):
    """An integer primary key as the SQL layer encodes it: big-endian, sign bit flipped."""
    assert text.startswith("0x"), text
    bits = 4 * (len(text) - 2)
    return int(text, 16) - (1 << (bits - 1))


def pick_block(data_dir, table_id_min):
    """Finds a block holding only the lowest user table's rows (not its file's first
    or last block). Returns (path, block, offset, length, first key) or None."""
    candidates = []
    for path in sst_files(data_dir):
        rc, out = run_tool("dump-table", path)
        assert rc == 0, out
        for m in BLOCK_RE.finditer(out):
            blk, off, length, _n, t1, key, t2 = m.groups()
            candidates.append((path, int(blk), int(off), int(length), int(t1), int(t2), key))
    user = [c for c in candidates if c[4] >= table_id_min]
    target = min(c[4] for c in user)
    # also not the table's last block in its file: a seek to the next table's first key
    # may read it (its index entry covers keys up to the next block's first)
    nxt = {(c[0], c[1]): c for c in candidates}
    inner = [c for c in user if c[4] == target and c[5] == target and c[1] > 0
             and (c[0], c[1] + 1) in nxt and nxt[(c[0], c[1] + 1)][4] == target]
    if not inner:
        return None
    path, blk, off, length, _t1, _t2, key = inner[len(inner) // 2]
    return path, blk, off, length, decode_int_key(key)


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x20]))


def expect_sqlstate(conn, sql, params, state):
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as ei:
        cur.execute(sql, params)
        if cur.description:
            cur.fetchall()
    assert ei.value.pgcode == state, "%s: %s %s" % (sql, ei.value.pgcode, ei.value)
    return str(ei.value)


@nextdb_only
def test_corrupt_block_is_an_error_not_a_wrong_answer(server_factory):
    srv = server_factory("corrupt", extra_args=["--memtable-budget", "128kB"])
    srv.start()
    srv.psql("CREATE TABLE stor_a (k bigint PRIMARY KEY, v text NOT NULL);"
             "CREATE TABLE stor_b (k bigint PRIMARY KEY, v text NOT NULL);")
    for lo in range(0, 12000, 2000):
        srv.psql("INSERT INTO stor_a SELECT g, repeat('a', 150) || g FROM "
                 "generate_series(%d, %d) g;" % (lo, lo + 1999))
    srv.psql("INSERT INTO stor_b SELECT g, 'b' || g FROM generate_series(1, 3000) g;")
    assert srv.stop() == 0

    rc, out = run_tool("check", "--data", srv.data_dir)
    assert rc == 0, out
    assert re.search(r"sorted tables? \(\d+ blocks", out) and " 0 problems" in out, out
    picked = pick_block(srv.data_dir, 16384)
    assert picked, "no sorted-table block holds only stor_a rows:\n%s" % out
    path, blk, off, length, first_k = picked
    flip_byte(path, off + length // 2)

    rc, out = run_tool("check", "--data", srv.data_dir)
    assert rc == 1, out
    want = "PROBLEM %s: block %d (offset %d, %d bytes): checksum mismatch" % (path, blk, off, length)
    assert want in out, out
    assert " 1 problem," in out, out

    srv.start()
    conn = srv.connect()
    name = os.path.basename(path)
    for sql, params in (("SELECT count(*) FROM stor_a", None),
                        ("SELECT v FROM stor_a WHERE k = %s", (first_k,)),
                        ("UPDATE stor_a SET v = 'x' WHERE k = %s", (first_k,)),
                        ("INSERT INTO stor_a VALUES (%s, 'again')", (first_k,)),
                        ("SELECT sum(length(v)) FROM stor_a WHERE v LIKE 'a%%'", None)):
        msg = expect_sqlstate(conn, sql, params, "XX001")
        assert name in msg and "block %d" % blk in msg, msg
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(k) FROM stor_b")
    assert cur.fetchone() == (3000, 3000 * 3001 // 2)
    cur.execute("SELECT v FROM stor_b WHERE k = 77")
    assert cur.fetchone() == ("b77",)
    # keys outside the damaged block still answer (the block holds a contiguous range
    # of one shard's keys; 0 and 11999 are each the first/last key of their shard's file
    # or in another shard)
    good = 0
    for k in (0, 11999, 5, 6000):
        try:
            cur.execute("SELECT v FROM stor_a WHERE k = %s", (k,))
            assert cur.fetchone() == ("a" * 150 + str(k),)
            good += 1
        except psycopg2.Error as e:
            assert e.pgcode == "XX001", e
    assert good >= 1
    cur.execute("INSERT INTO stor_b VALUES (5000, 'new')")
    cur.execute("CREATE TABLE stor_c (k int PRIMARY KEY)")
    cur.execute("INSERT INTO stor_c VALUES (1), (2)")
    cur.execute("SELECT count(*) FROM stor_c")
    assert cur.fetchone() == (2,)
    conn.close()
    assert srv.proc.poll() is None, "server died"
    assert srv.stop() == 0

    # the directory (and the file alone) still report the damage; a clean dump exits 0
    rc, out = run_tool("dump-table", path)
    assert rc == 1 and "block %d (offset %d" % (blk, off) in out, out
    others = [p for p in sst_files(srv.data_dir) if p != path]
    assert others
    rc, out = run_tool("dump-table", "--rows", others[0])
    assert rc == 0 and "format version 3" in out and " ts " in out, out


@nextdb_only
def test_check_refuses_running_server_and_bad_input(server_factory, tmp_path):
    srv = server_factory("checklock")
    srv.start()
    rc, out = run_tool("check", "--data", srv.data_dir)
    assert rc == 2 and "in use by a running nextdb server (pid %d)" % srv.pid in out, out
    assert srv.stop() == 0
    rc, out = run_tool("check", "--data", srv.data_dir)
    assert rc == 0, out
    rc, out = run_tool("check", "--data", str(tmp_path / "nope"))
    assert rc == 2 and "cannot open data directory" in out, out
    rc, out = run_tool("check", "--bogus")
    assert rc == 2 and "usage" in out, out
    garbage = tmp_path / "garbage.sst"
    garbage.write_bytes(os.urandom(5000))
    rc, out = run_tool("dump-table", str(garbage))
    assert rc == 1 and "PROBLEM" in out, out
    rc, out = run_tool("dump-table", str(tmp_path / "missing.sst"))
    assert rc == 2, out


class TmpfsServer(harness.NextdbServer):
    """A NextDB server whose data directory is a small tmpfs in its own mount
    namespace (the mount disappears with the process)."""

    SIZE = "6m"

    def __init__(self, name, **kw):
        super().__init__(name, **kw)
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        self.data_dir = os.path.join(self.mnt, "data")

    def command(self):
        script = 'mount -t tmpfs -o size=%s nextdb-test "$0" && exec "$@"' % self.SIZE
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                self.mnt] + super().command()


def can_unshare_mount():
    if not shutil.which("unshare"):
        return False
    res = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                          "mount -t tmpfs -o size=1m t /mnt"], capture_output=True)
    return res.returncode == 0


@nextdb_only
def test_disk_full_makes_writes_fail_and_reads_work():
    if not can_unshare_mount():
        pytest.skip("needs a private mount namespace (unshare -m) to make a small tmpfs")
    srv = TmpfsServer("diskfull", extra_args=["--memtable-budget", "256kB"])
    try:
        srv.start()
        conn = srv.connect()
        cur = conn.cursor()
        cur.execute("CREATE TABLE full_a (k int PRIMARY KEY, v text NOT NULL)")
        cur.execute("CREATE TABLE full_b (k int PRIMARY KEY)")
        cur.execute("INSERT INTO full_b VALUES (1), (2), (3)")
        acked, err = [], None
        for k in range(4000):
            try:
                cur.execute("INSERT INTO full_a VALUES (%s, %s)", (k, ("%d-" % k) * 2000))
            except psycopg2.Error as e:
                err = e
                break
            acked.append(k)
        assert err is not None, "6 MiB disk never filled up"
        assert err.pgcode == "58030", "%s %s" % (err.pgcode, err)
        assert "read-only" in str(err) or "I/O error" in str(err), str(err)
        assert acked, "no insert succeeded before the disk filled"
        # Each shard has its own WAL: more big rows (which hash to every shard) fail too,
        # each making its shard read-only; then every write is refused with the message.
        for k in range(len(acked) + 1, len(acked) + 21):
            expect_sqlstate(conn, "INSERT INTO full_a VALUES (%s, %s)", (k, "x" * 20000), "58030")
        for sql in ("INSERT INTO full_b VALUES (4)", "UPDATE full_b SET k = 9 WHERE k = 1",
                    "DELETE FROM full_a WHERE k = 0", "CREATE TABLE full_c (k int PRIMARY KEY)"):
            msg = expect_sqlstate(conn, sql, None, "58030")
            assert "read-only" in msg, msg
        # reads keep working and see every acknowledged row
        cur.execute("SELECT count(*) FROM full_a WHERE k < %s", (len(acked),))
        n = cur.fetchone()[0]
        assert n == len(acked), (n, len(acked))
        cur.execute("SELECT v FROM full_a WHERE k = %s", (acked[-1],))
        assert cur.fetchone() == (("%d-" % acked[-1]) * 2000,)
        cur.execute("SELECT count(*) FROM full_b")
        assert cur.fetchone() == (3,)
        conn.close()
        assert "read-only" in srv.log_text()
    finally:
        srv.cleanup()


class Client(threading.Thread):
    """One writer: owns keys k % CLIENTS == tid; remembers acknowledged states."""

    def __init__(self, srv, tid, state, seed):
        super().__init__(daemon=True)
        self.srv, self.tid = srv, tid
        self.state = state          # key -> value (None = deleted), acknowledged; shared across runs
        self.rng = random.Random(seed)
        self.inflight = None        # (key, state if it applied) at the kill
        self.acked = 0
        self.error = None

    def next_value(self):
        self.state["_next"] = self.state.get("_next", 0) + 1
        return self.state["_next"]

    def new_key(self):
        self.state["_keys"] = self.state.get("_keys", 0) + 1
        return self.state["_keys"] * CLIENTS + self.tid

    def run(self):
        try:
            conn = psycopg2.connect(**self.srv.conninfo)
            conn.autocommit = True
            cur = conn.cursor()
        except psycopg2.Error as e:
            self.error = "connect failed: %s" % e
            return
        while True:
            live = [k for k, v in self.state.items() if not isinstance(k, str) and v is not None]
            r = self.rng.random()
            v = self.next_value()
            if not live or r < 0.4:
                k = self.new_key()
                sql, params, after = ("INSERT INTO stor_kv VALUES (%s, %s, %s, %s)",
                                      (k, v, self.tid, PAD), v)
            elif r < 0.8:
                k = self.rng.choice(live)
                sql, params, after = "UPDATE stor_kv SET v = %s WHERE k = %s", (v, k), v
            else:
                k = self.rng.choice(live)
                sql, params, after = "DELETE FROM stor_kv WHERE k = %s", (k,), None
            self.inflight = (k, after)
            try:
                cur.execute(sql, params)
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                return               # killed: this statement is in flight
            except psycopg2.Error as e:
                self.error = "%s %s: %s %s" % (sql, params, e.pgcode, e)
                return
            if cur.rowcount != 1:
                self.error = "%s %s affected %d rows" % (sql, params, cur.rowcount)
                return
            self.state[k] = after
            self.inflight = None
            self.acked += 1


def verify(srv, states, clients, it):
    """Checks the table against the acknowledged states; resolves in-flight statements
    to what is observed. Returns the number of rows."""
    conn = srv.connect()
    cur = conn.cursor()
    cur.execute("SELECT k, v, tid, pad FROM stor_kv")
    rows = {}
    for k, v, tid, pad in cur.fetchall():
        assert pad == PAD, "iteration %d: key %d has a damaged pad" % (it, k)
        assert k % CLIENTS == tid, "iteration %d: key %d has tid %d" % (it, k, tid)
        rows[k] = v
    inflight = {c.tid: c.inflight for c in clients}
    bad = []
    for tid, st in enumerate(states):
        fl = inflight.get(tid)
        for k, want in st.items():
            if isinstance(k, str):
                continue
            got = rows.get(k)
            if fl and fl[0] == k:
                if got != want and got != fl[1]:
                    bad.append("key %d: %r, acknowledged %r, in flight %r" % (k, got, want, fl[1]))
                st[k] = got
            elif got != want:
                bad.append("key %d: %r, acknowledged %r" % (k, got, want))
        if fl and fl[0] not in st:      # an INSERT in flight
            got = rows.get(fl[0])
            if got is not None and got != fl[1]:
                bad.append("key %d: %r, in-flight insert wrote %r" % (fl[0], got, fl[1]))
            st[fl[0]] = got
    known = {k for st in states for k in st if not isinstance(k, str)}
    for k in rows:
        if k not in known:
            bad.append("key %d exists but was never written" % k)
    assert not bad, "iteration %d: %d bad keys, e.g. %s" % (it, len(bad), bad[:10])
    # point lookups go through store_get (bloom, block index) rather than a scan
    sample = random.Random(it).sample(sorted(known), min(40, len(known)))
    for k in sample:
        cur.execute("SELECT v FROM stor_kv WHERE k = %s", (k,))
        got = cur.fetchone()
        assert (got[0] if got else None) == rows.get(k), "iteration %d: lookup of %d" % (it, k)
    conn.close()
    return len(rows)


def test_kill9_loop_with_flushes(server_factory):
    srv = server_factory("kill9", shards=3, extra_args=["--memtable-budget", "128kB"])
    srv.start()
    srv.psql("CREATE TABLE stor_kv (k bigint PRIMARY KEY, v bigint NOT NULL, tid int NOT NULL,"
             " pad text NOT NULL);")
    states = [dict() for _ in range(CLIENTS)]
    rng = random.Random(20261203)
    total_acked, warnings = 0, 0
    for it in range(ITERATIONS):
        clients = [Client(srv, t, states[t], seed=it * 100 + t) for t in range(CLIENTS)]
        for c in clients:
            c.start()
        time.sleep(RUN_SECONDS * (0.5 + rng.random()))
        srv.kill()
        for c in clients:
            c.join(timeout=30)
            assert not c.is_alive(), "a client hung after the kill"
        errors = [c.error for c in clients if c.error]
        assert not errors, "iteration %d: %s" % (it, errors)
        total_acked += sum(c.acked for c in clients)
        if harness.TARGET == "nextdb":
            rc, out = run_tool("check", "--data", srv.data_dir)
            assert rc == 0, "iteration %d: nextdb check after kill -9:\n%s" % (it, out)
            warnings += len(re.findall(r"^warning ", out, re.M))
        srv.start()
        rows = verify(srv, states, clients, it)
    assert total_acked >= ITERATIONS * CLIENTS, total_acked
    print("kill -9 loop: %d iterations, %d acknowledged statements, %d rows, %d sorted tables "
          "now, %d check warnings after kills" % (ITERATIONS, total_acked, rows,
                                                  len(sst_files(srv.data_dir)), warnings))
    # negative control: a row that vanishes behind the clients' back must be noticed
    lost = next(k for st in states for k, v in sorted(st.items(), key=str)
                if not isinstance(k, str) and v is not None)
    srv.psql("DELETE FROM stor_kv WHERE k = %d;" % lost)
    with pytest.raises(AssertionError, match="key %d: None, acknowledged" % lost):
        verify(srv, states, [], ITERATIONS)
    if harness.TARGET == "nextdb":
        assert sst_files(srv.data_dir), "no sorted table was ever written"
        # the last restart's state, re-checked after a clean stop
        assert srv.stop() == 0
        rc, out = run_tool("check", "--data", srv.data_dir)
        assert rc == 0 and " 0 problems" in out, out
        m = re.search(r"(\d+) sorted tables?", out)
        assert m and int(m.group(1)) >= 3, out
