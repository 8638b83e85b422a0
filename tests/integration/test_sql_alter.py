"""test_sql_alter.py -- ALTER TABLE's column forms checked against PostgreSQL 15 statement
by statement (results, SQLSTATEs and messages): ADD COLUMN with constant, stable and
volatile defaults, NOT NULL and CHECK, DROP COLUMN (indexes on it go too), RENAME
COLUMN / RENAME TO, SET / DROP DEFAULT and NOT NULL, several subcommands applied
atomically, prepared statements re-binding after the change; then, NextDB only, rows
written before an ADD COLUMN keep reading its default across kill -9 restarts,
memtable flushes and compaction (the row encoding is never rewritten)."""
import urllib.request

import psycopg2
import pytest

import harness
from refcompare import run_msg as run, same_msg as same, script


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    yield ours, ref
    ours.close()
    ours = server.connect(autocommit=True)
    for c in (ours, ref):
        for sql in CLEAN:
            run(c, sql)
    ours.close()
    ref.close()


CLEAN = ["DROP TABLE IF EXISTS al_t", "DROP TABLE IF EXISTS al_t2", "DROP TABLE IF EXISTS al_r",
         "DROP TABLE IF EXISTS al_p", "DEALLOCATE ALL"]


def test_add_column_matches_postgres(pair):
    script(pair, CLEAN + [
        "CREATE TABLE al_t (id int PRIMARY KEY, a text, b int)",
        "INSERT INTO al_t SELECT g, 'a' || g, g * 10 FROM generate_series(1, 60) g",
        "ALTER TABLE al_t ADD COLUMN c int DEFAULT 7",
        "ALTER TABLE al_t ADD d text",
        "ALTER TABLE al_t ADD COLUMN e numeric(8,2) DEFAULT 2.5 * 3, ADD COLUMN f varchar(5) DEFAULT 'xy'",
        "ALTER TABLE al_t ADD COLUMN t timestamptz DEFAULT now()",
        "SELECT id, a, b, c, d, e, f, t IS NOT NULL FROM al_t ORDER BY id",
        "SELECT count(*), count(c), sum(c), count(d), sum(e), min(f) FROM al_t",
        "SELECT count(DISTINCT t) FROM al_t",                       # one value for the old rows
        "INSERT INTO al_t (id, a) VALUES (100, 'new')",
        "INSERT INTO al_t (id, a, c, e) VALUES (101, 'x', 1, NULL)",
        "SELECT id, a, b, c, d, e, f FROM al_t WHERE id >= 59 ORDER BY id",
        "UPDATE al_t SET c = c + 1 WHERE id <= 3",
        "SELECT id, c FROM al_t WHERE id <= 4 ORDER BY id",
        "SELECT c, count(*) FROM al_t GROUP BY c ORDER BY c",
        "ALTER TABLE al_t ADD COLUMN c int",                       # 42701
        "ALTER TABLE al_t ADD COLUMN IF NOT EXISTS c int",
        "ALTER TABLE al_t ADD COLUMN g int NOT NULL",              # 23502 rows exist
        "ALTER TABLE al_t ADD COLUMN g int NOT NULL DEFAULT 3",
        "ALTER TABLE al_t ADD COLUMN h int DEFAULT 0 CHECK (h > 0)",     # 23514, nothing added
        "ALTER TABLE al_t ADD COLUMN h int CHECK (h > 0)",
        "INSERT INTO al_t (id, h) VALUES (102, 0)",                # 23514
        "ALTER TABLE al_t ADD COLUMN z nosuchtype",                # 42704
        "ALTER TABLE al_t ADD COLUMN z int DEFAULT 'abc'",         # 22P02
        # (column_default is left out: NextDB keeps defaults as written, PostgreSQL
        # prints its parse tree with casts)
        "SELECT column_name, data_type, is_nullable, ordinal_position "
        "FROM information_schema.columns WHERE table_name = 'al_t' ORDER BY ordinal_position",
        # a volatile default gives every existing row its own value
        "ALTER TABLE al_t ADD COLUMN r float8 DEFAULT random()",
        "SELECT count(*) = count(DISTINCT r), min(r) >= 0, max(r) < 1 FROM al_t",
    ])


def test_drop_rename_and_column_attributes_match_postgres(pair):
    script(pair, [
        "CREATE TABLE al_t2 (id int PRIMARY KEY, a text NOT NULL, b int, c int, d int)",
        "INSERT INTO al_t2 SELECT g, 'v' || g, g, g % 3, -g FROM generate_series(1, 50) g",
        "CREATE INDEX al_t2_b ON al_t2 (b)",
        "CREATE UNIQUE INDEX al_t2_cd ON al_t2 (c, d)",
        "ALTER TABLE al_t2 DROP COLUMN b",
        "SELECT * FROM al_t2 WHERE id <= 3 ORDER BY id",
        "CREATE INDEX al_t2_b ON al_t2 (c)",                       # the index on b went with it
        "ALTER TABLE al_t2 DROP COLUMN b",                         # 42703
        "ALTER TABLE al_t2 DROP COLUMN IF EXISTS b",
        "ALTER TABLE al_t2 DROP COLUMN d, ADD COLUMN b int DEFAULT 5",
        "CREATE UNIQUE INDEX al_t2_cd ON al_t2 (id, c)",           # so did (c, d)
        "SELECT * FROM al_t2 WHERE id IN (1, 50) ORDER BY id",
        "INSERT INTO al_t2 VALUES (51, 'z', 0, 1)",
        "SELECT * FROM al_t2 WHERE id > 48 ORDER BY id",
        "SELECT attname, attnum, attisdropped FROM pg_attribute WHERE attrelid = 'al_t2'::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        "ALTER TABLE al_t2 RENAME COLUMN a TO name",
        "ALTER TABLE al_t2 RENAME COLUMN nope TO x",               # 42703
        "ALTER TABLE al_t2 RENAME COLUMN name TO c",               # 42701
        "SELECT name FROM al_t2 WHERE id = 7",
        "SELECT a FROM al_t2 WHERE id = 7",                        # 42703
        "ALTER TABLE al_t2 ALTER COLUMN b SET DEFAULT 9",
        "INSERT INTO al_t2 (id, name) VALUES (52, 'd')",
        "ALTER TABLE al_t2 ALTER COLUMN b DROP DEFAULT",
        "INSERT INTO al_t2 (id, name) VALUES (53, 'e')",
        "SELECT id, b FROM al_t2 WHERE id >= 52 ORDER BY id",
        "ALTER TABLE al_t2 ALTER COLUMN b SET NOT NULL",           # 23502
        "ALTER TABLE al_t2 ALTER COLUMN c SET NOT NULL",
        "INSERT INTO al_t2 (id, name) VALUES (54, 'f')",           # 23502
        "ALTER TABLE al_t2 ALTER COLUMN c DROP NOT NULL",
        "ALTER TABLE al_t2 ALTER COLUMN name DROP NOT NULL",
        "ALTER TABLE al_t2 ALTER COLUMN nope SET NOT NULL",        # 42703
        "ALTER TABLE al_t2 ALTER COLUMN id DROP NOT NULL",         # 42P16
        "INSERT INTO al_t2 (id) VALUES (55)",
        # atomic: the failing second subcommand leaves the first undone
        "ALTER TABLE al_t2 ADD COLUMN q int, DROP COLUMN nope",
        "SELECT q FROM al_t2",                                     # 42703
        "ALTER TABLE al_t2 RENAME TO al_r",
        "SELECT count(*), count(name), sum(b) FROM al_r",
        "SELECT count(*) FROM al_t2",                              # 42P01
        "ALTER TABLE al_r RENAME TO al_r",                         # 42P07
        "ALTER TABLE nope ADD COLUMN x int",                       # 42P01
        "ALTER TABLE IF EXISTS nope ADD COLUMN x int",
        "SELECT relname, relnatts FROM pg_class WHERE relname IN ('al_r', 'al_t2')",
    ])


def test_prepared_statements_rebind(pair):
    script(pair, [
        "CREATE TABLE al_p (id int PRIMARY KEY, a int, b int)",
        "INSERT INTO al_p SELECT g, g, g * 2 FROM generate_series(1, 20) g",
        "PREPARE al_q1 AS SELECT count(*), sum(b) FROM al_p WHERE id <= $1",
        "PREPARE al_q2 AS SELECT a FROM al_p WHERE id = $1",
        "EXECUTE al_q1(10)",
        "ALTER TABLE al_p ADD COLUMN c int DEFAULT 1",
        "EXECUTE al_q1(10)",
        "ALTER TABLE al_p DROP COLUMN a",
        "EXECUTE al_q1(5)",
        "EXECUTE al_q2(3)",                                        # 42703 after the re-bind
        "DEALLOCATE al_q1",
        "DEALLOCATE al_q2",
    ])


def test_dropping_key_column_is_refused(server):
    if harness.TARGET == "postgres":
        pytest.skip("NextDB's documented limits (PostgreSQL supports these)")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE TABLE al_k (id int PRIMARY KEY, a int)")
    for sql in ("ALTER TABLE al_k DROP COLUMN id",):
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql)
        assert e.value.pgcode == "0A000", sql
    cur.execute("CREATE VIEW al_kv AS SELECT a FROM al_k")
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("ALTER TABLE al_k RENAME COLUMN a TO b")
    assert e.value.pgcode == "0A000"
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("ALTER TABLE al_k DROP COLUMN a")
    assert e.value.pgcode == "2BP01"
    cur.execute("ALTER TABLE al_k ADD COLUMN c int DEFAULT 4")
    cur.execute("INSERT INTO al_k VALUES (1, 2)")
    cur.execute("SELECT * FROM al_kv")
    assert cur.fetchall() == [(2,)]
    cur.execute("DROP VIEW al_kv")
    cur.execute("DROP TABLE al_k")
    conn.close()


def metric_total(server, name):
    url = "http://%s:%d/metrics" % (server.host, server.http_port)
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


@pytest.mark.nextdb_only
def test_missing_values_survive_restart_flush_and_compaction(server_factory):
    if harness.TARGET == "postgres":
        pytest.skip("NextDB storage")
    srv = server_factory("alter", extra_args=["--memory", str(16 << 20)])
    srv.start()
    conn = srv.connect(autocommit=True)
    cur = conn.cursor()
    rows = 12000
    cur.execute("CREATE TABLE al_s (k int PRIMARY KEY, v text, gone int)")
    cur.execute("INSERT INTO al_s SELECT g, repeat('s', 100) || g, g FROM generate_series(1, %d) g" % rows)
    cur.execute("ALTER TABLE al_s ADD COLUMN m int DEFAULT 42, ADD COLUMN w text DEFAULT 'dflt'")
    cur.execute("ALTER TABLE al_s DROP COLUMN gone")
    cur.execute("ALTER TABLE al_s ADD COLUMN n bigint DEFAULT 5")

    def check(updated):
        cur = conn.cursor()
        cur.execute("SELECT count(*), sum(m), count(w), min(w), sum(n) FROM al_s")
        assert cur.fetchone() == (rows, 42 * rows + updated, rows, "dflt", 5 * rows)
        cur.execute("SELECT * FROM al_s WHERE k = 777")
        assert cur.fetchone() == (777, "s" * 100 + "777", 42, "dflt", 5)

    check(0)
    srv.restart(kill=True)
    conn = srv.connect(autocommit=True)
    check(0)
    # rewrite some rows (they then store every column); churn on another table pushes
    # the old rows through memtable flushes and compaction (one LSM per shard)
    cur = conn.cursor()
    cur.execute("UPDATE al_s SET v = repeat('s', 100) || k WHERE k % 2 = 0")
    cur.execute("UPDATE al_s SET m = m + 1 WHERE k <= 100")
    cur.execute("CREATE TABLE al_churn (k int PRIMARY KEY, v text)")
    cur.execute("INSERT INTO al_churn SELECT g, repeat('c', 100) FROM generate_series(1, %d) g" % rows)
    for i in range(6):
        cur.execute("UPDATE al_churn SET v = repeat('c', 100) || %d" % i)
    check(100)
    assert metric_total(srv, "nextdb_memtable_flushes_total") >= 2
    assert metric_total(srv, "nextdb_compactions_total") >= 1
    srv.restart(kill=True)
    conn = srv.connect(autocommit=True)
    check(100)
    conn.close()
