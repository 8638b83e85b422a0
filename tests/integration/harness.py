"""harness.py -- start, stop, crash and restart a server under test.

Why: every integration test must run against NextDB and, unchanged, against a real
PostgreSQL 15 (NEXTDB_TEST_TARGET=postgres), so the suite can be proven correct before
NextDB exists and PostgreSQL's answers stay the reference afterwards.

Model: a Server owns one temporary data directory and one process (started in its own
session so a kill reaches every process of it: PostgreSQL's postmaster and backends,
or NextDB's single process). Both kinds expose the same interface:
    start() / stop() / restart(kill=False) / kill()
    host, port, http_port (None for PostgreSQL), data_dir, pid
    dsn (libpq keyword string), conninfo (dict for psycopg2.connect), psql(sql)
    second_instance(timeout) -> (exit code, output) of another server on the same dir
    set_port_in_config(port) -> put the port in the server's own config file instead
                                of on the command line
Limits: loopback only; trust authentication; one server per object.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref

import psycopg2

TARGET = os.environ.get("NEXTDB_TEST_TARGET", "nextdb")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NEXTDB_BIN = os.environ.get("NEXTDB_BIN", os.path.join(REPO, "build", "release", "nextdb"))
PG_BINDIR = os.environ.get("NEXTDB_PG_BINDIR", "/usr/lib/postgresql/15/bin")
START_TIMEOUT_S = float(os.environ.get("NEXTDB_START_TIMEOUT", "60"))
STOP_TIMEOUT_S = 60.0
USER = "postgres"
DBNAME = "postgres"


def free_port():
    """Returns a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running_as_root():
    return os.geteuid() == 0


def _pg_user_kwargs():
    """Popen arguments that run a PostgreSQL binary as user postgres when we are root
    (initdb and postgres refuse to run as root)."""
    if not _running_as_root():
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def _chown_tree_to_postgres(path):
    if not _running_as_root():
        return
    shutil.chown(path, "postgres", "postgres")
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            shutil.chown(os.path.join(root, name), "postgres", "postgres")


class ServerError(RuntimeError):
    pass


# Every server object alive in this process, so a watchdog can kill hung servers.
LIVE = weakref.WeakSet()


def kill_all_live():
    """SIGKILLs every running server (the test watchdog's last resort); returns how many."""
    n = 0
    for srv in list(LIVE):
        proc = srv.proc
        if getattr(srv, "watchdog_exempt", False):
            continue
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                n += 1
            except ProcessLookupError:
                pass
    return n


class Server:
    """Common part: process handling, readiness wait, psql helper."""

    kind = "?"

    def __init__(self, name):
        self.tmp = tempfile.mkdtemp(prefix="nextdb-it-%s-" % name)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.http_port = None
        self.proc = None
        self.log_path = os.path.join(self.tmp, "server.log")
        self.port_in_config = False
        LIVE.add(self)

    # --- subclass hooks -------------------------------------------------------------
    def command(self):
        raise NotImplementedError

    def popen_kwargs(self):
        return {}

    # --- life cycle -----------------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def dsn(self):
        return "host=%s port=%d user=%s dbname=%s connect_timeout=10" % (
            self.host, self.port, USER, DBNAME)

    @property
    def conninfo(self):
        return {"host": self.host, "port": self.port, "user": USER, "dbname": DBNAME,
                "connect_timeout": 10}

    def connect(self, autocommit=True):
        conn = psycopg2.connect(**self.conninfo)
        conn.autocommit = autocommit
        return conn

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        """Starts the server and returns once it answers SELECT 1. Raises ServerError
        with the tail of the server log if it exits or does not answer in time."""
        if self.proc is not None:
            raise ServerError("already running")
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         **self.popen_kwargs())
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise ServerError("%s exited with %d during start-up:\n%s"
                                  % (self.kind, rc, self.log_text()[-4000:]))
            try:
                conn = psycopg2.connect(**dict(self.conninfo, connect_timeout=2))
                try:
                    cur = conn.cursor()
                    cur.execute("SELECT 1")
                    cur.fetchone()
                finally:
                    conn.close()
                return
            except psycopg2.Error as e:
                last = e
                time.sleep(0.1)
        self.kill()
        raise ServerError("%s did not accept connections within %.0f s (last error: %s):\n%s"
                          % (self.kind, START_TIMEOUT_S, last, self.log_text()[-4000:]))

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self):
        """SIGTERM, wait for exit; returns the exit code (None if not running)."""
        if self.proc is None:
            return None
        try:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError("%s did not exit within %.0f s of SIGTERM" % (self.kind, STOP_TIMEOUT_S))
        self._reap_group()
        self.proc = None
        return rc

    def kill(self):
        """kill -9 every process of the server (a crash), and wait for them."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._reap_group()
        self.proc = None

    def _reap_group(self):
        # PostgreSQL backends orphaned by a killed postmaster must be gone before a
        # restart, or the new postmaster refuses the still-attached shared memory.
        pgid = self.proc.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def restart(self, kill=False):
        if kill:
            self.kill()
        else:
            rc = self.stop()
            if rc not in (0, None):
                raise ServerError("%s exited with %d on SIGTERM" % (self.kind, rc))
        self.start()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers --------------------------------------------------------------------
    def psql(self, sql, check=True, extra=()):
        """Runs sql through psql -X -A -t; returns stdout (stderr raises if check)."""
        cmd = ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host,
               "-p", str(self.port), "-U", USER, "-d", DBNAME, *extra]
        res = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=300)
        if check and res.returncode != 0:
            raise ServerError("psql failed (%d): %s" % (res.returncode, res.stderr))
        return res.stdout

    def second_instance(self, timeout=30):
        """Starts another server on the same data directory (other ports) and waits for
        it to exit. Returns (exit code, combined output); raises if it keeps running."""
        cmd = self.second_command()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, text=True,
                             **self.popen_kwargs())
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise ServerError("second server on %s kept running" % self.data_dir)
        return p.returncode, out


class NextdbServer(Server):
    kind = "nextdb"

    def __init__(self, name="nextdb", shards=2, extra_args=()):
        if not os.access(NEXTDB_BIN, os.X_OK):
            raise ServerError("NextDB binary %s not found or not executable (set NEXTDB_BIN, "
                              "or NEXTDB_TEST_TARGET=postgres)" % NEXTDB_BIN)
        super().__init__(name)
        self.data_dir = os.path.join(self.tmp, "data")
        self.http_port = free_port()
        self.shards = shards
        self.extra_args = list(extra_args) + os.environ.get("NEXTDB_EXTRA_ARGS", "").split()

    def _base(self):
        return [NEXTDB_BIN, "--data", self.data_dir, "--shards", str(self.shards),
                "--listen", "127.0.0.1"]

    def command(self):
        cmd = self._base()
        if not self.port_in_config:
            cmd += ["--pg-port", str(self.port)]
        return cmd + ["--http-port", str(self.http_port)] + self.extra_args

    def second_command(self):
        return self._base() + ["--pg-port", str(free_port()),
                               "--http-port", str(free_port())] + self.extra_args

    def set_port_in_config(self, port):
        """Writes `pg-port = PORT` into DATA/nextdb.conf and drops --pg-port from the
        command line from the next start on."""
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, "nextdb.conf"), "a") as f:
            f.write("# written by tests/integration\npg-port = %d\n" % port)
        self.port = port
        self.port_in_config = True


class PostgresServer(Server):
    """A throwaway PostgreSQL 15 cluster: initdb in a temp dir (as user postgres when
    we are root), unix sockets inside that dir, fsync on, loopback TCP only."""

    kind = "postgres"

    def __init__(self, name="postgres", settings=None):
        super().__init__(name)
        self.data_dir = os.path.join(self.tmp, "data")
        self.sock_dir = os.path.join(self.tmp, "sock")
        os.mkdir(self.sock_dir)
        _chown_tree_to_postgres(self.tmp)
        self.settings = {"fsync": "on", "synchronous_commit": "on",
                         "listen_addresses": "127.0.0.1", "unix_socket_directories": self.sock_dir,
                         "max_connections": "100", "shared_buffers": "128MB",
                         "logging_collector": "off"}
        self.settings.update(settings or {})
        res = subprocess.run([os.path.join(PG_BINDIR, "initdb"), "-D", self.data_dir, "-U", USER,
                              "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                             capture_output=True, text=True, **_pg_user_kwargs())
        if res.returncode != 0:
            raise ServerError("initdb failed: %s%s" % (res.stdout, res.stderr))

    def popen_kwargs(self):
        return _pg_user_kwargs()

    def _base(self):
        cmd = [os.path.join(PG_BINDIR, "postgres"), "-D", self.data_dir]
        for k, v in self.settings.items():
            cmd += ["-c", "%s=%s" % (k, v)]
        return cmd

    def command(self):
        cmd = self._base()
        if not self.port_in_config:
            cmd += ["-p", str(self.port)]
        return cmd

    def second_command(self):
        return self._base() + ["-p", str(free_port())]

    def set_port_in_config(self, port):
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            f.write("# written by tests/integration\nport = %d\n" % port)
        self.port = port
        self.port_in_config = True


def make_server(name="server", **kw):
    """A stopped server of the kind NEXTDB_TEST_TARGET selects (nextdb by default)."""
    if TARGET == "postgres":
        return PostgresServer(name)
    if TARGET != "nextdb":
        raise ServerError("NEXTDB_TEST_TARGET must be nextdb or postgres, not %r" % TARGET)
    return NextdbServer(name, **kw)
