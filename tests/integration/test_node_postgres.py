"""test_node_postgres.py -- node-postgres (npm "pg", pinned by
tests/clients/node/package-lock.json) against the server: a Pool, parameterised
queries, named prepared statements, type parsing, transactions, SQLSTATEs. The
checks live in tests/clients/node/check.js; each "ok NAME" / "FAIL NAME: why" line
becomes one test here. node_modules is installed with `npm ci` on first use."""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.normpath(os.path.join(HERE, "..", "clients", "node"))
CHECKS = ["parameterised_inserts", "types", "named_prepared_statement", "row_mode_and_null",
          "transaction_on_one_client", "errors", "group_by_order_by"]


def _install():
    if os.path.exists(os.path.join(CLIENT, "node_modules", "pg", "package.json")):
        return None
    npm = shutil.which("npm")
    if not npm:
        return "npm not installed (Debian packages nodejs npm; tools/setup-deps.sh)"
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return "npm ci failed: " + (proc.stderr or proc.stdout)[-1500:]
    return None


@pytest.fixture(scope="module")
def results(server):
    node = shutil.which("node")
    if not node:
        pytest.skip("node not installed (Debian package nodejs; tools/setup-deps.sh)")
    problem = _install()
    if problem:
        pytest.fail(problem)
    proc = subprocess.run([node, os.path.join(CLIENT, "check.js"), server.host, str(server.port)],
                          capture_output=True, text=True, timeout=120)
    lines = {}
    for line in proc.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("ok", "FAIL"):
            name, _, why = rest.partition(": ")
            lines[name] = (word, why)
    if not lines:
        pytest.fail("check.js produced no results (exit %d): %s" % (proc.returncode, proc.stderr[-2000:]))
    return lines


@pytest.mark.parametrize("name", CHECKS)
def test_node_postgres(results, name):
    assert name in results, "check %s did not run (the program stopped early)" % name
    word, why = results[name]
    assert word == "ok", why
