"""test_runtime.py -- the runtime's choices seen from a client: the epoll fallback
backend (--io epoll) serves the same workload as io_uring, including transactions and
a restart; a CancelRequest (sent by psycopg2's cancel(), which opens a new connection
that may land on any shard) stops a long-running statement with 57014 and leaves the
connection usable. NextDB-only (they exercise NextDB flags and its runtime)."""
import threading
import time

import psycopg2
import pytest

pytestmark = pytest.mark.nextdb_only


def test_epoll_backend_serves_and_persists(server_factory):
    srv = server_factory("epoll", extra_args=["--io", "epoll"])
    srv.start()
    # The start-up line can reach the log after the port already answers (the
    # listener opens on a shard thread while the main thread is still logging).
    deadline = time.monotonic() + 10
    while "io epoll" not in srv.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "io epoll" in srv.log_text()
    conn = srv.connect(autocommit=False)
    cur = conn.cursor()
    cur.execute("CREATE TABLE ep (k int PRIMARY KEY, v int)")
    cur.execute("INSERT INTO ep SELECT g, g * 2 FROM generate_series(1, 2000) g")
    conn.commit()
    cur.execute("UPDATE ep SET v = v + 1 WHERE k <= 10")
    conn.rollback()
    cur.execute("SELECT count(*), sum(v) FROM ep")
    assert cur.fetchone() == (2000, 2 * 2000 * 2001 // 2)
    conn.close()
    srv.restart(kill=True)
    conn = srv.connect()
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(v) FROM ep")
    assert cur.fetchone() == (2000, 2 * 2000 * 2001 // 2)
    conn.close()


def test_cancel_request_stops_long_statement(server):
    conn = server.connect()
    cur = conn.cursor()
    timer = threading.Timer(0.5, conn.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(psycopg2.Error) as info:
        cur.execute("SELECT count(*) FROM generate_series(1, 2000000000) g WHERE g % 7 = 3")
    timer.join()
    assert info.value.pgcode == "57014", info.value
    assert time.monotonic() - started < 30
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)
    conn.close()
