"""conftest.py -- fixtures for the integration suite.

    server        (module scope) the server under test, started and answering; NextDB
                  (NEXTDB_BIN, default build/release/nextdb, 2 shards, temp data dir) or,
                  with NEXTDB_TEST_TARGET=postgres, a throwaway PostgreSQL 15. Has
                  restart(kill=False|True), stop(), kill(), psql(), connect(), pid, ports.
    pg_reference  (session scope) a throwaway PostgreSQL 15 for reference answers.
    server_factory (function scope) makes extra stopped servers, cleaned up afterwards.
    free_port     returns a free loopback port.
A watchdog kills every server a test started if the test runs longer than
NEXTDB_TEST_TIMEOUT seconds (default 300), so a hung server fails that test instead of
hanging the suite; a failing test's report carries the tail of the server log.
Run with /usr/bin/python3 -m pytest (Debian's psycopg2/psycopg/pytest live there).
"""
import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import harness  # noqa: E402


def pytest_report_header(config):
    if harness.TARGET == "postgres":
        return "server under test: PostgreSQL 15 (%s)" % harness.PG_BINDIR
    return "server under test: NextDB (%s)" % harness.NEXTDB_BIN


@pytest.fixture(scope="session")
def free_port():
    return harness.free_port


@pytest.fixture(scope="module")
def server(request):
    name = request.module.__name__.rsplit(".", 1)[-1]
    srv = harness.make_server(name)
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="session")
def pg_reference():
    srv = harness.PostgresServer("reference")
    srv.watchdog_exempt = True      # shared by every module: a hung test must not kill it
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def server_factory():
    made = []

    def make(name="extra", **kw):
        srv = harness.make_server(name, **kw)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.cleanup()


def pytest_collection_modifyitems(config, items):
    """HTTP and thread-layout tests are NextDB's own surface: skip them on PostgreSQL."""
    if harness.TARGET != "postgres":
        return
    skip = pytest.mark.skip(reason="NextDB-only test (NEXTDB_TEST_TARGET=postgres)")
    for item in items:
        if item.get_closest_marker("nextdb_only"):
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "nextdb_only: needs NextDB (skipped against PostgreSQL)")


TEST_TIMEOUT_S = float(os.environ.get("NEXTDB_TEST_TIMEOUT", "300"))


@pytest.fixture(autouse=True)
def _watchdog(request):
    fired = []

    def fire():
        fired.append(harness.kill_all_live())

    timer = threading.Timer(TEST_TIMEOUT_S, fire)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()
    if fired:
        pytest.fail("test exceeded %.0f s: killed %d server(s) (NEXTDB_TEST_TIMEOUT)"
                    % (TEST_TIMEOUT_S, fired[0]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        srv = getattr(item, "funcargs", {}).get("server")
        if srv is not None:
            rep.sections.append(("server log (last 3000 chars)", srv.log_text()[-3000:]))
