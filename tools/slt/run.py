#!/usr/bin/python3
"""run.py -- sqllogictest runner for NextDB and PostgreSQL 15 over the wire protocol.

Why: the conformance corpus in ../shared/slt (the SQLite project's sqllogictest files)
is how issue 4 measures NextDB's SQL surface. The measure is relative: NextDB must pass
at least as many records as a real PostgreSQL 15 fed the same files by the same runner,
over both the simple and the extended query protocol, and must never answer a query
differently from PostgreSQL ("differs" must be zero).

Model: one pass = one test file x one protocol. A pass gets fresh state on every target
(NextDB: a new server on an empty data directory; PostgreSQL: a new database on one
throwaway cluster this runner starts), then streams the file record by record and runs
each record on every target in lockstep, so NextDB's answer can be compared with
PostgreSQL's actual answer and not only with the file's expected one.
  simple protocol    psycopg2 (Debian python3-psycopg2): Query messages
  extended protocol  psycopg 3's libpq layer, PGconn.send_query_params with no
                     parameters: Parse/Bind/Describe/Execute/Sync on the unnamed statement
                     (psycopg 3's Cursor.execute() would fall back to the simple protocol
                     for a query without parameters, so it is not used)
Values are fetched as raw text and formatted by the record's type letters (I, R, T).

Scoring per record: passed; failed (wrong result, wrong column count, statement error
that succeeded); errored (an unexpected SQL error from the server, a timeout, a crash
or a lost connection -- the server is then restarted on the same data and the run goes
on); skipped (skipif/onlyif for engine "postgresql").

Interface: run.py [--target nextdb|postgres|both] [--protocol simple|extended|both]
                  [--nextdb-bin PATH] [--jobs N] [--timeout-per-record S]
                  [--corpus DIR] [--show-failures N] [--dump DIR] FILES_OR_DIRS...
Relative FILES_OR_DIRS are looked up in the corpus first, then in the working directory.
Exit status: 0 when the run completed and differs == 0, 1 otherwise, 2 on usage errors.

Limits: memory is bounded by one record's result per target (files are streamed);
--jobs N runs N files at a time, each with its own NextDB server (2 shards).
Runs as any user; as root, PostgreSQL runs as user postgres.
"""
import argparse
import collections
import ctypes
import hashlib
import json
import multiprocessing
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal, InvalidOperation

import psycopg2
import psycopg2.extensions
import psycopg
import psycopg.generators
import psycopg.pq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS_DEFAULT = os.path.abspath(os.path.join(REPO, "..", "shared", "slt"))
NEXTDB_BIN_DEFAULT = os.path.join(REPO, "build", "release", "nextdb")
PG_BINDIR = os.environ.get("NEXTDB_PG_BINDIR", "/usr/lib/postgresql/15/bin")
ENGINE = "postgresql"
START_TIMEOUT_S = 60.0
CANCEL_GRACE_S = 10.0          # after a cancel, how long before the server is killed
RESTARTS_PER_PASS_MAX = 25     # past this, the rest of a pass errors without running
SAMPLES_CAP = 50               # failure samples kept per pass and combination
ERRCAT_CAP = 400               # distinct error categories kept per pass
HASH_RE = re.compile(r"^(\d+) values hashing to ([0-9a-f]{32})$")
TARGETS = ("nextdb", "postgres")
PROTOCOLS = ("simple", "extended")
STATUSES = ("passed", "failed", "errored", "skipped")


# ---------------------------------------------------------------------------------
# Parsing: a generator over a file, one record at a time.
# ---------------------------------------------------------------------------------
class Record:
    __slots__ = ("kind", "line", "sql", "expect_ok", "types", "sort", "label",
                 "expected", "skip", "value")

    def __init__(self, kind, line):
        self.kind = kind          # statement | query | hash-threshold | halt
        self.line = line
        self.sql = ""
        self.expect_ok = True
        self.types = ""
        self.sort = "nosort"
        self.label = None
        self.expected = None      # list of lines after ----, or None
        self.skip = False
        self.value = 0


def _applies(conditions):
    """True when skipif/onlyif lines let the next record run on ENGINE."""
    for word, engine in conditions:
        if word == "skipif" and engine == ENGINE:
            return False
        if word == "onlyif" and engine != ENGINE:
            return False
    return True


def parse_file(path):
    """Yields Records from a sqllogictest file, streaming it line by line. Records that
    skipif/onlyif exclude come with skip=True (and no SQL is needed from them)."""
    with open(path, "r", encoding="utf-8", errors="surrogateescape") as f:
        lines = (l.rstrip("\r\n") for l in f)
        lineno = 0
        conditions = []

        def take_block(stop_at_dashes):
            nonlocal lineno
            out = []
            for l in lines:
                lineno += 1
                if l.strip() == "" or (stop_at_dashes and l == "----"):
                    return out, l
                out.append(l)
            return out, ""

        for l in lines:
            lineno += 1
            s = l.strip()
            if not s or s.startswith("#"):
                continue
            words = s.split()
            head = words[0]
            if head in ("skipif", "onlyif") and len(words) > 1:
                conditions.append((head, words[1]))
                continue
            rec = Record(head, lineno)
            rec.skip = not _applies(conditions)
            conditions = []
            if head == "hash-threshold":
                rec.value = int(words[1]) if len(words) > 1 else 0
                yield rec
            elif head == "halt":
                yield rec
            elif head == "statement":
                rec.expect_ok = len(words) < 2 or words[1] != "error"
                body, _ = take_block(False)
                rec.sql = "\n".join(body)
                yield rec
            elif head == "query":
                rec.types = words[1] if len(words) > 1 else ""
                rec.sort = words[2] if len(words) > 2 else "nosort"
                rec.label = words[3] if len(words) > 3 else None
                body, stop = take_block(True)
                rec.sql = "\n".join(body)
                if stop == "----":
                    rec.expected, _ = take_block(False)
                yield rec
            else:
                take_block(False)   # unknown record kind: ignore it whole


# ---------------------------------------------------------------------------------
# Value formatting and comparison, as the sqllogictest reference runner does it.
# ---------------------------------------------------------------------------------
_NUM_PREFIX = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _num_prefix(text):
    m = _NUM_PREFIX.match(text)
    return Decimal(m.group(0).strip()) if m else Decimal(0)


def _printable(text):
    if text == "":
        return "(empty)"
    if all(" " <= c <= "~" for c in text):
        return text
    raw = text.encode("utf-8", errors="surrogateescape")
    return "".join(chr(b) if 0x20 <= b <= 0x7E else "@" for b in raw)


def format_value(text, letter):
    """Formats one raw text value for type letter I, R or T."""
    if text is None:
        return "NULL"
    if letter == "I":
        if text in ("t", "f"):
            return "1" if text == "t" else "0"
        try:
            return str(int(text))
        except ValueError:
            pass
        try:
            d = Decimal(text)
        except InvalidOperation:
            d = _num_prefix(text)
        if not d.is_finite():
            return _printable(text)
        return str(int(d))
    if letter == "R":
        try:
            return "%.3f" % float(text)
        except ValueError:
            return "%.3f" % float(_num_prefix(text))
    return _printable(text)


def shape_values(rec, rows):
    """Formats and sorts a result as the record asks; returns the flat value list."""
    letters = rec.types
    formatted = [[format_value(v, letters[i] if i < len(letters) else "T")
                  for i, v in enumerate(row)] for row in rows]
    if rec.sort == "rowsort":
        formatted.sort()
    flat = [v for row in formatted for v in row]
    if rec.sort == "valuesort":
        flat.sort()
    return flat


def hash_values(flat):
    h = hashlib.md5()
    for v in flat:
        h.update(v.encode("utf-8", errors="surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


def matches_expected(rec, flat, ncols):
    """True when the shaped values match the record's expected block."""
    exp = rec.expected or []
    if len(exp) == 1:
        m = HASH_RE.match(exp[0].strip())
        if m:
            return int(m.group(1)) == len(flat) and m.group(2) == hash_values(flat)
    if exp == flat:
        return True
    if ncols > 1 and len(flat) == len(exp) * ncols:   # rows written on one line each
        rows = [" ".join(flat[i:i + ncols]) for i in range(0, len(flat), ncols)]
        return rows == [e.strip() for e in exp]
    return False


def render_got(flat, threshold):
    if threshold > 0 and len(flat) > threshold:
        return ["%d values hashing to %s" % (len(flat), hash_values(flat))]
    return flat


# ---------------------------------------------------------------------------------
# Connections: one class per protocol, same interface.
#   execute(sql) -> ("ok", oids, rows) | ("sqlerr", sqlstate, message); raises Lost.
# ---------------------------------------------------------------------------------
class Lost(Exception):
    """The connection is gone (server crash, kill, or FATAL)."""


def _raw_text_casters():
    """Makes psycopg2 return every value as the server's text, unconverted."""
    for oid in list(psycopg2.extensions.string_types.keys()):
        t = psycopg2.extensions.new_type((oid,), "SLT_RAW_%d" % oid, lambda v, cur: v)
        psycopg2.extensions.register_type(t)


_raw_text_casters()


class SimpleConn:
    """Simple query protocol through psycopg2."""

    def __init__(self, conninfo):
        self.conn = psycopg2.connect(**conninfo)
        self.conn.autocommit = True

    def execute(self, sql):
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            if cur.description is None:
                return ("ok", [], None)
            oids = [d.type_code for d in cur.description]
            return ("ok", oids, cur.fetchall())
        except psycopg2.Error as e:
            if self.conn.closed or e.pgcode is None and isinstance(e, psycopg2.OperationalError):
                raise Lost(str(e).strip())
            msg = (e.diag.message_primary or str(e)).strip()
            return ("sqlerr", e.pgcode or "?????", msg)
        except UnicodeDecodeError as e:
            return ("sqlerr", "client", "undecodable text: %s" % e)
        finally:
            if not self.conn.closed:
                cur.close()

    def cancel(self):
        try:
            self.conn.cancel()
        except Exception:
            pass

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


class ExtendedConn:
    """Extended query protocol through psycopg 3's libpq wrapper: every statement goes
    as Parse/Bind/Describe/Execute/Sync on the unnamed statement, text results."""

    def __init__(self, conninfo):
        self.conn = psycopg.connect(autocommit=True, **conninfo)

    def execute(self, sql):
        pg = self.conn.pgconn
        try:
            pg.send_query_params(sql.encode("utf-8", errors="surrogateescape"), None,
                                 result_format=psycopg.pq.Format.TEXT)
            results = self.conn.wait(psycopg.generators.execute(pg))
        except psycopg.Error as e:
            raise Lost(str(e).strip())
        if pg.status == psycopg.pq.ConnStatus.BAD:
            raise Lost("connection bad")
        out = ("ok", [], None)
        for res in results:
            if res.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                code = res.error_field(psycopg.pq.DiagnosticField.SQLSTATE)
                msg = res.error_field(psycopg.pq.DiagnosticField.MESSAGE_PRIMARY)
                if code is None and pg.status == psycopg.pq.ConnStatus.BAD:
                    raise Lost((res.error_message or b"").decode(errors="replace").strip())
                return ("sqlerr", (code or b"?????").decode(),
                        (msg or res.error_message or b"").decode(errors="replace").strip())
            if res.status == psycopg.pq.ExecStatus.TUPLES_OK:
                nf = res.nfields
                oids = [res.ftype(j) for j in range(nf)]
                rows = []
                for i in range(res.ntuples):
                    row = []
                    for j in range(nf):
                        v = res.get_value(i, j)
                        row.append(None if v is None else
                                   v.decode("utf-8", errors="surrogateescape"))
                    rows.append(tuple(row))
                out = ("ok", oids, rows)
        return out

    def cancel(self):
        try:
            self.conn.cancel()
        except Exception:
            pass

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


CONN_CLASSES = {"simple": SimpleConn, "extended": ExtendedConn}


# ---------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------
def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _child_setup(uid=None, gid=None):
    """Returns a preexec_fn: new session, optional user switch, die with the runner."""
    def fn():
        os.setsid()
        if gid is not None:
            os.setgroups([])
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return fn


def _pg_ids():
    if os.geteuid() != 0:
        return None, None
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def _wait_ready(proc, conninfo, log_path, what):
    deadline = time.monotonic() + START_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d during start-up:\n%s"
                               % (what, proc.returncode, _tail(log_path, 3000)))
        try:
            c = psycopg2.connect(connect_timeout=2, **conninfo)
            c.close()
            return
        except psycopg2.Error as e:
            last = e
            time.sleep(0.05)
    raise RuntimeError("%s not ready in %.0f s: %s" % (what, START_TIMEOUT_S, last))


def _tail(path, nbytes):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - nbytes))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _stop(proc, sig=signal.SIGTERM, timeout=30):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster: initdb in a temp dir, unix socket only."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="slt-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.port = free_port()
        self.log_path = os.path.join(self.tmp, "postgres.log")
        self.proc = None
        uid, gid = _pg_ids()
        if uid is not None:
            os.chown(self.tmp, uid, gid)
        self.uid, self.gid = uid, gid

    @property
    def conninfo(self):
        return {"host": self.tmp, "port": self.port, "user": "postgres", "dbname": "postgres"}

    def start(self):
        with open(self.log_path, "ab") as log:
            subprocess.run([os.path.join(PG_BINDIR, "initdb"), "-D", self.data, "-U", "postgres",
                            "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
                           stdout=log, stderr=subprocess.STDOUT, check=True,
                           preexec_fn=_child_setup(self.uid, self.gid))
            self.proc = subprocess.Popen(
                [os.path.join(PG_BINDIR, "postgres"), "-D", self.data, "-p", str(self.port),
                 "-k", self.tmp, "-c", "listen_addresses=", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=100", "-c", "shared_buffers=128MB"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_child_setup(self.uid, self.gid))
        _wait_ready(self.proc, self.conninfo, self.log_path, "postgres")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        _stop(self.proc, signal.SIGINT)
        shutil.rmtree(self.tmp, ignore_errors=True)


class NextdbServer:
    """One NextDB process on its own data directory and a free port."""

    def __init__(self, binary, tmp):
        self.binary = binary
        self.data = os.path.join(tmp, "data")
        self.log_path = os.path.join(tmp, "nextdb.log")
        self.port = None
        self.proc = None

    @property
    def conninfo(self):
        return {"host": "127.0.0.1", "port": self.port, "user": "postgres", "dbname": "postgres"}

    def start(self):
        self.port = free_port()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--data", self.data, "--pg-port", str(self.port),
                 "--http-port", "0", "--shards", "2"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_child_setup())
        _wait_ready(self.proc, self.conninfo, self.log_path, "nextdb")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        _stop(self.proc, signal.SIGKILL)

    def stop(self):
        _stop(self.proc, signal.SIGTERM)


# ---------------------------------------------------------------------------------
# Targets: a connection plus what to do on timeouts and crashes.
# ---------------------------------------------------------------------------------
class Target:
    """Runs statements for one target in one pass, with a watchdog for the per-record
    timeout: at the deadline it sends a CancelRequest; CANCEL_GRACE_S later it kills
    the server (NextDB) or the connection's backend (PostgreSQL)."""

    def __init__(self, name, protocol, timeout_s):
        self.name = name
        self.protocol = protocol
        self.timeout_s = timeout_s
        self.conn = None
        self.deadline = None
        self.timed_out = False
        self.restarts = 0
        self.crash_notes = []
        self.lock = threading.Lock()
        self.stopping = False
        self.watchdog = threading.Thread(target=self._watch, daemon=True)
        self.watchdog.start()

    def _watch(self):
        while not self.stopping:
            time.sleep(0.25)
            with self.lock:
                dl = self.deadline
                conn = self.conn
            if dl is None or conn is None:
                continue
            now = time.monotonic()
            if now > dl and not self.timed_out:
                self.timed_out = True
                conn.cancel()
            elif now > dl + CANCEL_GRACE_S:
                self.hard_stop()
                with self.lock:
                    self.deadline = None

    def execute(self, sql):
        """Returns ("ok", oids, rows) | ("sqlerr", state, msg) | ("timeout", msg) |
        ("crash", msg). After a crash the target has been restarted."""
        with self.lock:
            self.timed_out = False
            self.deadline = time.monotonic() + self.timeout_s
        try:
            res = self.conn.execute(sql)
        except Lost as e:
            res = ("crash", str(e))
        finally:
            with self.lock:
                self.deadline = None
        if self.timed_out:
            res = ("timeout", "no answer within %.0f s" % self.timeout_s)
        if res[0] in ("crash", "timeout") and not self.healthy():
            res = ("crash", res[1] + self.crash_note())
            self.recover()
        return res

    def close(self):
        self.stopping = True
        if self.conn:
            self.conn.close()
            self.conn = None


class NextdbTarget(Target):
    def __init__(self, binary, protocol, timeout_s):
        super().__init__("nextdb", protocol, timeout_s)
        self.tmp = tempfile.mkdtemp(prefix="slt-nextdb-")
        self.server = NextdbServer(binary, self.tmp)
        self.server.start()
        self.conn = CONN_CLASSES[protocol](self.server.conninfo)

    def healthy(self):
        if not self.server.alive():
            return False
        try:
            return self.conn.execute("SELECT 1")[0] == "ok"
        except Lost:
            return False

    def hard_stop(self):
        self.server.kill()

    def crash_note(self):
        rc = self.server.proc.poll() if self.server.proc else None
        lines = _tail(self.server.log_path, 4000).strip().splitlines()
        bad = [l for l in lines if re.search(r"assert|FATAL|ERROR|panic|Sanitizer|signal", l)]
        tail = (bad or lines)[-3:]
        note = " [server %s; log: %s]" % (
            "exited %s" % rc if rc is not None else "alive", " | ".join(tail))
        self.crash_notes.append(note)
        return note

    def recover(self):
        """Restarts the server on the same data directory and reconnects."""
        if self.conn:
            self.conn.close()
        self.server.kill()
        self.restarts += 1
        if self.restarts > RESTARTS_PER_PASS_MAX:
            raise GiveUp("nextdb restarted %d times in this pass" % self.restarts)
        self.server.start()
        self.conn = CONN_CLASSES[self.protocol](self.server.conninfo)

    def close(self):
        super().close()
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class PostgresTarget(Target):
    def __init__(self, cluster, dbname, protocol, timeout_s):
        super().__init__("postgres", protocol, timeout_s)
        self.cluster = cluster
        self.dbname = dbname
        admin = psycopg2.connect(**cluster.conninfo)
        admin.autocommit = True
        admin.cursor().execute('CREATE DATABASE "%s" TEMPLATE template0' % dbname)
        admin.close()
        self.conninfo = dict(cluster.conninfo, dbname=dbname)
        self.conn = CONN_CLASSES[protocol](self.conninfo)

    def healthy(self):
        try:
            return self.cluster.alive() and self.conn.execute("SELECT 1")[0] == "ok"
        except Lost:
            return False

    def hard_stop(self):
        try:
            admin = psycopg2.connect(**self.cluster.conninfo)
            admin.autocommit = True
            admin.cursor().execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (self.dbname,))
            admin.close()
        except psycopg2.Error:
            pass

    def crash_note(self):
        return " [postgres %s]" % ("alive" if self.cluster.alive() else "down")

    def recover(self):
        if self.conn:
            self.conn.close()
        self.restarts += 1
        if self.restarts > RESTARTS_PER_PASS_MAX or not self.cluster.alive():
            raise GiveUp("postgres unusable")
        self.conn = CONN_CLASSES[self.protocol](self.conninfo)

    def close(self):
        super().close()
        try:
            admin = psycopg2.connect(**self.cluster.conninfo)
            admin.autocommit = True
            admin.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.dbname)
            admin.close()
        except psycopg2.Error:
            pass


class GiveUp(Exception):
    pass


# ---------------------------------------------------------------------------------
# One pass: a file x a protocol, every target in lockstep.
# ---------------------------------------------------------------------------------
def error_category(state, msg):
    """Groups error messages: numbers, quoted names and literals are blanked."""
    m = re.sub(r'"[^"]*"', '"…"', msg)
    m = re.sub(r"'[^']*'", "'…'", m)
    m = re.sub(r"\b\d+(\.\d+)?\b", "N", m)
    return "%s %s" % (state, m[:160])


def judge(rec, res, threshold):
    """Returns (status, flat values or None, detail) for one record's result."""
    kind = res[0]
    if kind in ("timeout", "crash"):
        return "errored", None, "%s: %s" % (kind, res[1])
    if rec.kind == "statement":
        if kind == "ok":
            return ("passed" if rec.expect_ok else "failed"), None, \
                ("" if rec.expect_ok else "statement succeeded, error expected")
        if rec.expect_ok:
            return "errored", None, "%s: %s" % (res[1], res[2])
        return "passed", None, ""
    if kind == "sqlerr":
        return "errored", None, "%s: %s" % (res[1], res[2])
    oids, rows = res[1], res[2] or []
    if len(oids) != len(rec.types):
        return "failed", None, "%d columns, %d expected" % (len(oids), len(rec.types))
    flat = shape_values(rec, rows)
    if matches_expected(rec, flat, len(oids)):
        return "passed", flat, ""
    return "failed", flat, "wrong result"


def run_pass(path, protocol, targets, opts):
    """Runs one file over one protocol on the given Target objects; returns counts,
    differs, samples and error categories for this pass."""
    counts = {t.name: dict.fromkeys(STATUSES, 0) for t in targets}
    samples = {t.name: [] for t in targets}
    errcats = {t.name: collections.Counter() for t in targets}
    differs, nx_only, diff_samples = 0, 0, []
    labels = {t.name: {} for t in targets}
    threshold = 0
    dump = opts.get("dump_fh")
    for rec in parse_file(path):
        if rec.kind == "hash-threshold":
            threshold = rec.value
            continue
        if rec.kind == "halt":
            if rec.skip:
                continue
            break
        if rec.skip:
            for t in targets:
                counts[t.name]["skipped"] += 1
            continue
        got = {}
        for t in targets:
            res = t.execute(rec.sql)
            status, flat, detail = judge(rec, res, threshold)
            if status == "passed" and rec.kind == "query" and rec.label:
                h = hash_values(flat)
                seen = labels[t.name].setdefault(rec.label, h)
                if seen != h:
                    status, detail = "failed", "differs from label %s" % rec.label
            got[t.name] = (res, status, flat)
            counts[t.name][status] += 1
            if status == "errored" and len(errcats[t.name]) < ERRCAT_CAP:
                if res[0] == "sqlerr":
                    errcats[t.name][error_category(res[1], res[2])] += 1
                else:
                    errcats[t.name][res[0]] += 1
            elif status == "errored":
                errcats[t.name]["(other categories)"] += 1
            if status in ("failed", "errored"):
                item = {"file": path, "line": rec.line, "protocol": protocol, "target": t.name,
                        "status": status, "detail": detail, "sql": rec.sql,
                        "expected": rec.expected if rec.kind == "query" else None,
                        "got": render_got(flat, threshold) if flat is not None else None}
                if len(samples[t.name]) < min(opts["show_failures"], SAMPLES_CAP):
                    samples[t.name].append(item)
                if dump is not None and t.name == "nextdb":
                    item["category"] = (error_category(res[1], res[2]) if res[0] == "sqlerr"
                                        else res[0] if status == "errored" else detail)
                    item["got"] = (flat[:40] if flat is not None else None)
                    item["expected"] = (rec.expected or [])[:40] if rec.kind == "query" else None
                    dump.write(json.dumps(item) + "\n")
        if "nextdb" in got and "postgres" in got:
            nres, _, nflat = got["nextdb"]
            pres, _, pflat = got["postgres"]
            if nres[0] == "ok" and pres[0] == "ok":
                if rec.kind == "query":
                    if nflat is None or pflat is None:   # column count mismatch
                        same = len(nres[1]) == len(pres[1])
                    else:
                        same = nflat == pflat
                    if not same:
                        differs += 1
                        if len(diff_samples) < opts["show_failures"]:
                            diff_samples.append({"file": path, "line": rec.line,
                                                 "protocol": protocol, "sql": rec.sql,
                                                 "postgres": render_got(pflat or [], threshold),
                                                 "nextdb": render_got(nflat or [], threshold)})
            elif nres[0] == "ok" and pres[0] == "sqlerr":
                nx_only += 1
    return {"counts": counts, "samples": samples, "errcats": errcats, "differs": differs,
            "nx_only": nx_only, "diff_samples": diff_samples}


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run_file(job):
    """Worker entry: runs one file over every requested protocol. Returns a dict."""
    index, path, opts = job
    signal.signal(signal.SIGTERM, _exit_on_signal)   # pool.terminate(): clean up first
    out = {"file": path, "passes": {}, "notes": []}
    dump_fh = None
    if opts.get("dump"):
        dump_fh = open(os.path.join(opts["dump"], "%04d.jsonl" % index), "w")
    try:
        for protocol in opts["protocols"]:
            targets = []
            try:
                if "nextdb" in opts["targets"]:
                    targets.append(NextdbTarget(opts["nextdb_bin"], protocol, opts["timeout"]))
                if "postgres" in opts["targets"]:
                    cluster = PostgresClusterRef(opts["pg_conninfo"])
                    dbname = "slt_%d_%d_%s" % (os.getpid(), index, protocol)
                    targets.append(PostgresTarget(cluster, dbname, protocol, opts["timeout"]))
                out["passes"][protocol] = run_pass(path, protocol, targets,
                                                   dict(opts, dump_fh=dump_fh))
                for t in targets:
                    if getattr(t, "crash_notes", None):
                        out["notes"] += ["%s/%s: %s" % (t.name, protocol, n)
                                         for n in t.crash_notes[:3]]
            except (GiveUp, RuntimeError, psycopg2.Error, psycopg.Error, OSError) as e:
                out["notes"].append("%s: pass aborted: %s" % (protocol, e))
                out["passes"].setdefault(protocol, None)
            finally:
                for t in targets:
                    t.close()
    finally:
        if dump_fh:
            dump_fh.close()
    return out


class PostgresClusterRef:
    """The main process's cluster as seen from a worker: connection data only."""

    def __init__(self, conninfo):
        self.conninfo = conninfo

    def alive(self):
        try:
            psycopg2.connect(connect_timeout=5, **self.conninfo).close()
            return True
        except psycopg2.Error:
            return False


# ---------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------
def combos(opts):
    return [(t, p) for p in opts["protocols"] for t in opts["targets"]]


def cell(c):
    return "%d/%d/%d/%d" % (c["passed"], c["failed"], c["errored"], c["skipped"])


def file_line(res, opts, width):
    parts = []
    for t, p in combos(opts):
        ps = res["passes"].get(p)
        parts.append("%-27s" % (cell(ps["counts"][t]) if ps else "aborted"))
    if len(opts["targets"]) == 2:
        parts.append(" ".join(str(res["passes"][p]["differs"]) if res["passes"].get(p) else "-"
                              for p in opts["protocols"]))
    return "%-*s %s" % (width, res["short"], " ".join(parts))


def header(opts, width):
    cols = ["%-27s" % ("%s/%s p/f/e/s" % (t, p)) for t, p in combos(opts)]
    if len(opts["targets"]) == 2:
        cols.append("differs(" + ",".join(opts["protocols"]) + ")")
    return "%-*s %s" % (width, "file", " ".join(cols))


def print_samples(title, items):
    if not items:
        return
    print("\n== %s ==" % title)
    for it in items:
        print("-- %s:%d [%s/%s] %s: %s" % (it["file"], it["line"], it["target"], it["protocol"],
                                          it["status"], it["detail"]))
        print(it["sql"])
        if it["expected"] is not None:
            print("   expected: %s" % " | ".join(it["expected"][:20]))
        if it["got"] is not None:
            print("   got:      %s" % " | ".join(it["got"][:20]))


def collect_files(args, corpus):
    files = []
    for a in args:
        cands = [a] if os.path.isabs(a) else [os.path.join(corpus, a), a]
        p = next((c for c in cands if os.path.exists(c)), None)
        if p is None:
            sys.exit("run.py: %s: not found (looked in %s)" % (a, " and ".join(cands)))
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".test")]
        else:
            files.append(p)
    return files


def main():
    ap = argparse.ArgumentParser(description="sqllogictest runner for NextDB and PostgreSQL 15")
    ap.add_argument("--target", choices=("nextdb", "postgres", "both"), default="both")
    ap.add_argument("--protocol", choices=("simple", "extended", "both"), default="both")
    ap.add_argument("--nextdb-bin", default=NEXTDB_BIN_DEFAULT)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout-per-record", type=float, default=30.0)
    ap.add_argument("--corpus", default=CORPUS_DEFAULT)
    ap.add_argument("--show-failures", type=int, default=0, metavar="N")
    ap.add_argument("--dump", metavar="DIR",
                    help="write every NextDB failed/errored record as JSON lines to DIR")
    ap.add_argument("--categories", type=int, default=15, metavar="N",
                    help="print the N most frequent error categories per target")
    ap.add_argument("paths", nargs="*", metavar="FILES_OR_DIRS")
    a = ap.parse_args()

    corpus = os.path.abspath(a.corpus)
    if not os.path.isdir(corpus):
        print("run.py: the sqllogictest corpus is missing: %s does not exist "
              "(expected ../shared/slt next to the repository, or pass --corpus DIR)" % corpus,
              file=sys.stderr)
        if not a.paths or not all(os.path.exists(p) for p in a.paths):
            sys.exit(2)
    files = collect_files(a.paths or [corpus], corpus)
    if not files:
        sys.exit("run.py: no .test files found")
    targets = TARGETS if a.target == "both" else (a.target,)
    protocols = PROTOCOLS if a.protocol == "both" else (a.protocol,)
    if "nextdb" in targets and not os.access(a.nextdb_bin, os.X_OK):
        sys.exit("run.py: NextDB binary not found: %s (build it or pass --nextdb-bin)"
                 % a.nextdb_bin)
    if a.dump:
        os.makedirs(a.dump, exist_ok=True)

    opts = {"targets": targets, "protocols": protocols, "nextdb_bin": os.path.abspath(a.nextdb_bin),
            "timeout": a.timeout_per_record, "show_failures": a.show_failures, "dump": a.dump}
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cluster = None
    started = time.time()
    try:
        if "postgres" in targets:
            cluster = PostgresCluster()
            cluster.start()
            opts["pg_conninfo"] = cluster.conninfo
        jobs = [(i, f, opts) for i, f in enumerate(files)]
        width = 42
        print(header(opts, width), flush=True)
        total = {c: dict.fromkeys(STATUSES, 0) for c in combos(opts)}
        differs = dict.fromkeys(protocols, 0)
        nx_only = dict.fromkeys(protocols, 0)
        samples = {c: [] for c in combos(opts)}
        diff_samples = []
        errcats = {c: collections.Counter() for c in combos(opts)}
        notes = []
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(max(1, a.jobs), maxtasksperchild=1) as pool:
            for res in pool.imap_unordered(run_file, jobs):
                rel = os.path.relpath(res["file"], corpus)
                res["short"] = rel if not rel.startswith("..") else res["file"]
                print(file_line(res, opts, width), flush=True)
                for p, ps in res["passes"].items():
                    if not ps:
                        continue
                    differs[p] += ps["differs"]
                    nx_only[p] += ps["nx_only"]
                    diff_samples += ps["diff_samples"]
                    for t in targets:
                        for s in STATUSES:
                            total[(t, p)][s] += ps["counts"][t][s]
                        samples[(t, p)] += ps["samples"][t]
                        errcats[(t, p)].update(ps["errcats"][t])
                notes += ["%s: %s" % (res["short"], n) for n in res["notes"]]
    finally:
        if cluster:
            cluster.stop()

    print("\nTOTAL (%d files, %.0f s)" % (len(files), time.time() - started))
    print("%-10s %-9s %9s %9s %9s %9s" % ("target", "protocol", "passed", "failed", "errored",
                                         "skipped"))
    for t, p in combos(opts):
        c = total[(t, p)]
        print("%-10s %-9s %9d %9d %9d %9d" % (t, p, c["passed"], c["failed"], c["errored"],
                                             c["skipped"]))
    if len(targets) == 2:
        for p in protocols:
            print("differs/%s: %d queries NextDB answered differently from PostgreSQL; "
                  "%d records NextDB accepted that PostgreSQL rejected" % (p, differs[p], nx_only[p]))
    for n in notes[:30]:
        print("note: %s" % n)
    if a.categories:
        for c in combos(opts):
            if errcats[c]:
                print("\nTop error categories %s/%s:" % c)
                for k, v in errcats[c].most_common(a.categories):
                    print("%8d  %s" % (v, k))
    if a.show_failures:
        for c in combos(opts):
            print_samples("first failing records %s/%s" % c, samples[c][:a.show_failures])
        if diff_samples:
            print("\n== first records where NextDB's answer differs from PostgreSQL's ==")
            for d in diff_samples[:a.show_failures]:
                print("-- %s:%d [%s]\n%s" % (d["file"], d["line"], d["protocol"], d["sql"]))
                print("   postgres: %s" % " | ".join(d["postgres"][:20]))
                print("   nextdb:   %s" % " | ".join(d["nextdb"][:20]))
    ok = all(v == 0 for v in differs.values()) and not any("aborted" in n for n in notes)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
