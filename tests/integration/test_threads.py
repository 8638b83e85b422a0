"""test_threads.py -- NextDB runs one thread per shard: `ps -L -p PID` must list at
least --shards threads (the fixture starts 2 shards), and exactly --shards of them named
"nextdb-sN" (the runtime names each shard thread; the kernel's io_uring workers,
"iou-wrk-*", are not ours). NextDB-only (PostgreSQL is multi-process)."""
import os
import subprocess

import pytest

pytestmark = pytest.mark.nextdb_only


def threads(pid):
    """Returns the names (comm) of the threads of pid, via ps -L."""
    out = subprocess.run(["ps", "-L", "-o", "tid=,comm=", "-p", str(pid)],
                         capture_output=True, text=True, check=True).stdout
    return [line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            for line in out.splitlines() if line.strip()]


def test_at_least_one_thread_per_shard(server):
    names = threads(server.pid)
    assert len(names) >= server.shards, "ps -L shows %d threads %r, want >= %d" % (
        len(names), names, server.shards)
    prefix = os.environ.get("NEXTDB_SHARD_THREAD_PREFIX", "nextdb-s")
    shard_threads = sorted(n for n in names if n.startswith(prefix))
    assert shard_threads == ["%s%d" % (prefix, i) for i in range(server.shards)], names


def test_threads_stable_under_load(server):
    # Connections do not spawn threads: after 20 concurrent sessions the count is the same.
    before = len(threads(server.pid))
    conns = [server.connect() for _ in range(20)]
    try:
        for c in conns:
            cur = c.cursor()
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
        during = len(threads(server.pid))
    finally:
        for c in conns:
            c.close()
    assert during == before, "thread count went from %d to %d with 20 connections" % (before, during)
