"""test_pgbench.py -- pgbench initialises its schema on the server (server-side data
generation), runs (with -n: no VACUUM, and pgbench_history is not truncated between
runs, so it keeps every delta) tpcb-like in the simple, extended and prepared protocols and the
select-only script, with no failed transaction; afterwards the TPC-B invariant holds:
sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta). Last, the default
`pgbench -i` (client-side COPY FROM STDIN, VACUUM, ADD PRIMARY KEY) runs unchanged.

Environment: NEXTDB_PGBENCH_SCALE (default 2), NEXTDB_PGBENCH_SECONDS (default 3),
NEXTDB_PGBENCH_CLIENTS (default 8), NEXTDB_PGBENCH_INIT_SCALE (default 10: the scale
of the default `pgbench -i`).
"""
import os
import re
import subprocess

import pytest

SCALE = int(os.environ.get("NEXTDB_PGBENCH_SCALE", "2"))
SECONDS = int(os.environ.get("NEXTDB_PGBENCH_SECONDS", "3"))
CLIENTS = int(os.environ.get("NEXTDB_PGBENCH_CLIENTS", "8"))
# the default-init test loads enough (about 130 MB) for memtables to flush to sorted
# tables while ADD PRIMARY KEY scans them
INIT_SCALE = int(os.environ.get("NEXTDB_PGBENCH_INIT_SCALE", "10"))


def pgbench(server, *args, timeout=600):
    cmd = ["pgbench", "-h", server.host, "-p", str(server.port), "-U", "postgres", *args, "postgres"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    out = res.stdout + res.stderr
    assert res.returncode == 0, "pgbench %s exited %d:\n%s" % (" ".join(args), res.returncode, out[-3000:])
    return out


def parse_run(out):
    """Returns (processed transactions, failed transactions, tps) from pgbench 15 output;
    failed is 0 when pgbench prints no failure line (older formats)."""
    m = re.search(r"number of transactions actually processed: (\d+)", out)
    assert m, "no processed-transactions line in:\n" + out
    processed = int(m.group(1))
    m = re.search(r"number of failed transactions: (\d+)", out)
    failed = int(m.group(1)) if m else 0
    m = re.search(r"tps = ([0-9.]+)", out)
    assert m, "no tps line in:\n" + out
    return processed, failed, float(m.group(1))


@pytest.fixture(scope="module")
def initialised(server):
    out = pgbench(server, "-i", "-I", "dtGp", "-s", str(SCALE))
    assert "done in" in out
    counts = server.psql("SELECT count(*) FROM pgbench_accounts;"
                         "SELECT count(*) FROM pgbench_branches;"
                         "SELECT count(*) FROM pgbench_tellers;").split()
    assert counts == [str(100000 * SCALE), str(SCALE), str(10 * SCALE)]
    return server


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_tpcb_like(initialised, mode):
    out = pgbench(initialised, "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(SECONDS), "-M", mode)
    processed, failed, tps = parse_run(out)
    assert failed == 0, out
    assert processed > 0 and tps > 0, out
    assert "aborted" not in out.lower() or "number of clients aborted: 0" in out, out


def test_select_only(initialised):
    out = pgbench(initialised, "-n", "-S", "-c", str(CLIENTS), "-j", "2", "-T", str(SECONDS), "-M", "prepared")
    processed, failed, tps = parse_run(out)
    assert failed == 0 and processed > 0, out


def test_balances_consistent(initialised):
    # Runs after the tpcb-like runs (pytest keeps file order), so history is non-empty.
    row = initialised.psql("SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
                           " (SELECT sum(bbalance) FROM pgbench_branches),"
                           " (SELECT sum(tbalance) FROM pgbench_tellers),"
                           " (SELECT sum(delta) FROM pgbench_history),"
                           " (SELECT count(*) FROM pgbench_history);").strip()
    a, b, t, d, n = row.split("|")
    assert int(n) > 0, "no history rows: the tpcb-like runs did nothing"
    assert a == b == t == d, "balances differ: accounts %s branches %s tellers %s history %s" % (a, b, t, d)


def test_default_init_client_side(initialised):
    """pgbench -i with its default steps (dtgvp): client-side generation through COPY
    pgbench_accounts FROM STDIN WITH (FREEZE ON) inside BEGIN ... COMMIT, VACUUM,
    then ALTER TABLE ... ADD PRIMARY KEY on the loaded tables. Runs last: it replaces
    the tables the tests above used."""
    out = pgbench(initialised, "-i", "-s", str(INIT_SCALE))
    assert "client-side generate" in out and "primary keys" in out, out
    row = initialised.psql("SELECT count(*), count(DISTINCT aid), sum(abalance), min(bid), max(bid),"
                           " max(length(filler)) FROM pgbench_accounts;"
                           "SELECT count(*) FROM pgbench_branches;"
                           "SELECT count(*) FROM pgbench_tellers;"
                           "SELECT count(*) FROM pgbench_history;").split()
    n = 100000 * INIT_SCALE
    assert row[0].split("|") == [str(n), str(n), "0", "1", str(INIT_SCALE), "0"]
    assert row[1:] == [str(INIT_SCALE), str(10 * INIT_SCALE), "0"]
    # every filler reads back as 84 blanks (rows scanned out of sorted tables)
    out = initialised.psql("SELECT count(*) FROM pgbench_accounts WHERE filler <> repeat(' ', 84)::char(84)"
                           " OR octet_length(filler) <> 84;").strip()
    assert out == "0"
    # the primary keys exist: a point select is a point get, and a duplicate fails
    out = initialised.psql("SELECT abalance FROM pgbench_accounts WHERE aid = 17;").strip()
    assert out == "0"
    res = subprocess.run(["psql", "-X", "-h", initialised.host, "-p", str(initialised.port), "-U", "postgres",
                          "-c", "INSERT INTO pgbench_branches VALUES (1, 0, '')", "postgres"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "duplicate key" in res.stderr, res.stderr
    out = pgbench(initialised, "-n", "-c", "4", "-j", "2", "-T", "2")
    processed, failed, tps = parse_run(out)
    assert failed == 0 and processed > 0, out
