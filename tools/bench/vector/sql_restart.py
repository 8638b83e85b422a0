#!/usr/bin/python3
"""sql_restart.py -- restart cost of an HNSW index through the server: the graph
snapshot loaded and reconciled with the table, against a rebuild from the table.

Starts build/release/nextdb --shards 1 (pinned with numactl to CPU, default 1) on a
fresh data directory, loads N synthetic clustered vectors (the Gaussian mixture of
hnsw_restart.c: 1,000 centres in [0,1)^DIM, noise 0.05), runs CREATE INDEX ... USING
hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 200), then measures

  persisted: clean stop, start, first search (= snapshot load + reconcile)
  crash:     1% of the rows updated, kill -9, start, first search (load + reconcile
             inserting the changed rows)
  rebuild:   stop, snapshot files removed, start, first search (= rebuild)

Times are the server's own log lines (the shard's wall time for load / reconcile /
build, on a shared machine: read them with the CPU figures) and the server's CPU time
for the first search (utime + stime from /proc). Prints a small table.

Usage: sql_restart.py [N] [DIM] [OUT_DIR]    (defaults 100000 128 /tmp/nextdb-sql-restart)
Environment: NEXTDB (server binary), CPU, PG_PORT (57321), HTTP_PORT (57322).
Needs python3-psycopg2 and numactl.
"""
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import psycopg2

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
DIM = int(sys.argv[2]) if len(sys.argv) > 2 else 128
OUT = sys.argv[3] if len(sys.argv) > 3 else "/tmp/nextdb-sql-restart"
NEXTDB = os.environ.get("NEXTDB", "build/release/nextdb")
CPU = os.environ.get("CPU", "1")
PORT = int(os.environ.get("PG_PORT", "57321"))
HTTP = int(os.environ.get("HTTP_PORT", "57322"))
DATA = os.path.join(OUT, "data")
LOG = os.path.join(OUT, "server.log")


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self):
        self.proc = None

    def start(self):
        log = open(LOG, "ab")
        self.proc = subprocess.Popen(["numactl", "--physcpubind=" + CPU, "--localalloc", NEXTDB, "--data", DATA,
                                      "--shards", "1", "--pg-port", str(PORT), "--http-port", str(HTTP)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError("server exited (port busy?), see " + LOG)
            try:
                psycopg2.connect(host="127.0.0.1", port=PORT, user="postgres", dbname="postgres").close()
                return
            except psycopg2.Error:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def connect(self):
        c = psycopg2.connect(host="127.0.0.1", port=PORT, user="postgres", dbname="postgres")
        c.autocommit = True
        return c

    def stop(self, kill=False):
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.proc.wait()


def lit(v):
    return "[" + ",".join("%.4f" % x for x in v) + "]"


def first_search(srv, q):
    c = srv.connect()
    cur = c.cursor()
    c0, t0 = cpu_of(srv.proc.pid), time.monotonic()
    cur.execute("SELECT id FROM t ORDER BY v <-> %s LIMIT 10", (lit(q),))
    cur.fetchall()
    out = (time.monotonic() - t0, cpu_of(srv.proc.pid) - c0)
    c.close()
    return out


def log_tail_since(pos):
    with open(LOG, errors="replace") as f:
        f.seek(pos)
        return f.read()


def main():
    try:
        psycopg2.connect(host="127.0.0.1", port=PORT, user="postgres", dbname="postgres", connect_timeout=2).close()
        sys.exit("sql_restart.py: something already answers on port %d; set PG_PORT" % PORT)
    except psycopg2.Error:
        pass
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rng = random.Random(7)
    centres = [[rng.random() for _ in range(DIM)] for _ in range(1000)]

    def point():
        c = centres[rng.randrange(1000)]
        return [x + rng.gauss(0, 0.05) for x in c]

    srv = Server()
    srv.start()
    c = srv.connect()
    cur = c.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY, v vector(%d))" % DIM)
    t0 = time.monotonic()
    for i in range(0, N, 500):
        rows = [(j, lit(point())) for j in range(i, min(N, i + 500))]
        cur.execute("INSERT INTO t VALUES " + ",".join(["(%s,%s)"] * len(rows)), [x for r in rows for x in r])
    load_s = time.monotonic() - t0
    c0 = cpu_of(srv.proc.pid)
    t0 = time.monotonic()
    cur.execute("CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 200)")
    build_wall, build_cpu = time.monotonic() - t0, cpu_of(srv.proc.pid) - c0
    rss = int(open("/proc/%d/statm" % srv.proc.pid).read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    c.close()
    files = sum(os.path.getsize(p) for p in glob.glob(os.path.join(DATA, "shard-*", "vindex-*")))
    q = point()
    print("# %d x %d clustered vectors, --shards 1 on CPU %s; loaded over the wire in %.0f s" % (N, DIM, CPU, load_s))
    print("# CREATE INDEX (m 16, ef_construction 200): %.1f s wall, %.1f s server CPU; server RSS %.0f MB; "
          "snapshot files %.1f MB (%.0f bytes/vector)" % (build_wall, build_cpu, rss / 1e6, files / 1e6, files / N))
    results = []

    pos = os.path.getsize(LOG)
    t0 = time.monotonic()
    srv.stop()
    stop_s = time.monotonic() - t0
    srv.start()
    w, cpu = first_search(srv, q)
    m = re.search(r"loaded index \d+ \(\d+ vectors\) in (\d+) ms, reconciled with the table in (\d+) ms",
                  log_tail_since(pos))
    results.append(("persisted (clean stop)", w, cpu, m.group(0) if m else "NOT LOADED"))

    c = srv.connect()
    cur = c.cursor()
    changed = list(range(0, N, 100))
    for i in changed:
        cur.execute("UPDATE t SET v = %s WHERE id = %s", (lit(point()), i))
    c.close()
    pos = os.path.getsize(LOG)
    srv.stop(kill=True)
    srv.start()
    w, cpu = first_search(srv, q)
    m = re.search(r"loaded index \d+ \(\d+ vectors\) in (\d+) ms, reconciled with the table in (\d+) ms",
                  log_tail_since(pos))
    results.append(("persisted, kill -9 after %d updates" % len(changed), w, cpu, m.group(0) if m else "NOT LOADED"))

    srv.stop()
    for p in glob.glob(os.path.join(DATA, "shard-*", "vindex-*")):
        os.unlink(p)
    pos = os.path.getsize(LOG)
    srv.start()
    w, cpu = first_search(srv, q)
    m = re.search(r"built index \d+ \(\d+ vectors\) in (\d+) ms", log_tail_since(pos))
    results.append(("rebuilt at restart (no snapshot)", w, cpu, m.group(0) if m else "NOT BUILT"))
    srv.stop()
    print("# clean stop (saves the graph): %.1f s wall" % stop_s)
    print("%-40s %12s %14s  %s" % ("restart", "1st query s", "server CPU s", "server log"))
    for name, w, cpu, line in results:
        print("%-40s %12.2f %14.2f  %s" % (name, w, cpu, line))


if __name__ == "__main__":
    main()
