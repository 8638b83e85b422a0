"""test_server.py -- the server process: a second server on the same data directory
refuses to start (clear message, non-zero exit) and leaves the first one serving;
SIGTERM exits 0 and committed data persists across the restart; a port set in the
server's own config file (NextDB: DATA/nextdb.conf `pg-port = P`; PostgreSQL:
postgresql.conf `port = P`) is honoured when the command line does not set it."""
import re
import signal

import harness


def test_second_server_on_same_data_dir_refuses(server_factory):
    srv = server_factory("lock")
    srv.start()
    rc, out = srv.second_instance()
    assert rc != 0, "second server exited 0:\n" + out
    # NextDB: 'data directory "..." is in use by another nextdb server (pid N)';
    # PostgreSQL: 'lock file "postmaster.pid" already exists'.
    assert re.search(r"in use|already exists|locked", out, re.I), out
    assert str(srv.data_dir) in out or "postmaster.pid" in out, out
    assert srv.psql("SELECT 1;").strip() == "1"       # the first one is unharmed


def test_sigterm_exits_zero_and_data_persists(server_factory):
    srv = server_factory("sigterm")
    srv.start()
    srv.psql("CREATE TABLE persist_t (k int PRIMARY KEY, v text);"
             "INSERT INTO persist_t SELECT g, 'v' || g FROM generate_series(1, 5000) g;"
             "UPDATE persist_t SET v = 'updated' WHERE k = 42;"
             "DELETE FROM persist_t WHERE k > 4000;")
    srv.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout=harness.STOP_TIMEOUT_S)
    srv.proc = None
    assert rc == 0, "exit code %d after SIGTERM:\n%s" % (rc, srv.log_text()[-3000:])
    srv.start()
    out = srv.psql("SELECT count(*) FROM persist_t;"
                   "SELECT v FROM persist_t WHERE k = 42;"
                   "SELECT v FROM persist_t WHERE k = 4000;").split()
    assert out == ["4000", "updated", "v4000"]


def test_port_from_config_file(server_factory):
    srv = server_factory("conf")
    srv.start()                 # first start creates the data directory
    srv.psql("CREATE TABLE conf_t (k int PRIMARY KEY); INSERT INTO conf_t VALUES (1);")
    assert srv.stop() == 0
    port = harness.free_port()
    srv.set_port_in_config(port)
    assert "--pg-port" not in srv.command() and "-p" not in srv.command()
    srv.start()                 # start() waits on srv.port, which is now the conf port
    assert srv.port == port
    assert srv.psql("SELECT count(*) FROM conf_t;").strip() == "1"


def test_second_server_on_same_port_refuses(server_factory):
    """Shards listen with SO_REUSEPORT; a second server on the same port (another data
    directory) must still fail to start, as PostgreSQL does, instead of silently
    taking a share of the first one's connections."""
    first = server_factory("port1")
    first.start()
    second = server_factory("port2")
    second.port = first.port
    try:
        second.start()      # may "answer" through the first server's socket
    except harness.ServerError:
        pass
    if second.proc is not None:
        # It must exit on its own, not keep serving next to the first one.
        rc = second.proc.wait(timeout=30)
        second.proc = None
        assert rc != 0, "the second server exited 0"
    log = second.log_text()
    assert re.search(r"address already in use", log, re.I), log[-2000:]
    assert first.psql("SELECT 1;").strip() == "1"      # the first one is unharmed
