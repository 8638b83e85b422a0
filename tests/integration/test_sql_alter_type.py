"""test_sql_alter_type.py -- ALTER TABLE ... ALTER COLUMN TYPE (the table rewrite), ADD
CONSTRAINT CHECK / FOREIGN KEY and DROP CONSTRAINT, checked against PostgreSQL 15
statement by statement (results, SQLSTATEs and first message lines): every conversion
between int2/int4/int8/numeric/float8/text/varchar(n)/date/timestamp/timestamptz/jsonb/
bool the way a migration issues it (assignment casts, 42804 when there is none),
USING, conversion errors that change nothing, indexes rebuilt (used by EXPLAIN and
answering the same), a primary-key column re-routed, foreign keys across the change;
then, NextDB only, the new table after a kill -9 restart, and writes to another table
running while a rewrite copies."""
import threading

import psycopg2
import pytest

import harness
from refcompare import run_msg as run, script

VALUES = {
    "int2": ["1", "-5", "NULL"],
    "int4": ["7", "40000", "NULL"],
    "int8": ["5000000000", "3", "NULL"],
    "numeric": ["1.5", "2.49", "-3.5"],
    "float8": ["1.25", "2.5", "-0.5"],
    "text": ["'12'", "'2024-03-01'", "'true'"],
    "varchar(10)": ["'hello'", "'7'", "NULL"],
    "date": ["'2024-02-29'", "'1999-12-31'", "NULL"],
    "timestamp": ["'2024-01-01 12:34:56'", "'2000-06-30 00:00:00.5'", "NULL"],
    "timestamptz": ["'2024-01-01 12:34:56+00'", "'2000-06-30 23:00:00+02'", "NULL"],
    "jsonb": ["'{\"a\": 1}'", "'[1, 2]'", "'3'"],
    "bool": ["true", "false", "NULL"],
}
TYPES = list(VALUES)

CLEAN = ["DROP TABLE IF EXISTS at_conv", "DROP TABLE IF EXISTS at_x", "DROP TABLE IF EXISTS at_c",
         "DROP TABLE IF EXISTS at_p", "DROP TABLE IF EXISTS at_o"]


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for c in (ours, ref):
        run(c, "SET TimeZone = 'UTC'")
    yield ours, ref
    ours.close()
    ours = server.connect(autocommit=True)
    for c in (ours, ref):
        for sql in CLEAN:
            run(c, sql)
    ours.close()
    ref.close()


@pytest.mark.parametrize("src", TYPES)
def test_every_conversion_without_using_matches_postgres(pair, src):
    """What a migration's plain ALTER COLUMN TYPE does from src to every other type:
    the assignment cast when there is one, 42804 with its hint when there is none,
    a failing value (22P02 / 22003 / 22001) leaving the table unchanged."""
    stmts = []
    for dst in TYPES:
        if dst == src:
            continue
        stmts += [
            "DROP TABLE IF EXISTS at_conv",
            "CREATE TABLE at_conv (id int PRIMARY KEY, v %s, w int)" % src,
            "INSERT INTO at_conv VALUES " + ", ".join("(%d, %s, %d)" % (i, v, i * 10)
                                                     for i, v in enumerate(VALUES[src])),
            "ALTER TABLE at_conv ALTER COLUMN v TYPE %s" % dst,
            "SELECT id, v, w FROM at_conv ORDER BY id",
            "SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = 'at_conv'::regclass "
            "AND attname = 'v'",
        ]
    script(pair, stmts)


def test_using_and_errors_match_postgres(pair):
    script(pair, CLEAN + [
        "CREATE TABLE at_x (id int PRIMARY KEY, a text, b text, c int, d numeric(8,2), e text)",
        "INSERT INTO at_x SELECT g, (g * 3)::text, '2024-01-' || lpad((1 + g % 28)::text, 2, '0'), g, g / 4.0, "
        "CASE WHEN g % 2 = 0 THEN 'yes' ELSE 'no' END FROM generate_series(1, 40) g",
        "ALTER TABLE at_x ALTER COLUMN a TYPE int",                       # 42804 + hint
        "ALTER TABLE at_x ALTER COLUMN a TYPE int USING a::int",
        "ALTER TABLE at_x ALTER b SET DATA TYPE date USING b::date",
        "ALTER TABLE at_x ALTER COLUMN e TYPE bool USING e = 'yes'",
        "ALTER TABLE at_x ALTER COLUMN c TYPE text USING 'n' || c",
        "ALTER TABLE at_x ALTER COLUMN d TYPE int",                       # rounds half away from zero
        "SELECT * FROM at_x ORDER BY id",
        "SELECT sum(a), min(b), max(b), count(*) FILTER (WHERE e), sum(d) FROM at_x",
        "ALTER TABLE at_x ALTER COLUMN c TYPE int USING c::int",          # 22P02, nothing changes
        "ALTER TABLE at_x ALTER COLUMN a TYPE smallint USING a * 1000",   # 22003
        "ALTER TABLE at_x ALTER COLUMN c TYPE varchar(2)",                # 22001
        "ALTER TABLE at_x ALTER COLUMN c TYPE int USING (c || 'x')",      # 42804: text result
        "ALTER TABLE at_x ALTER COLUMN nosuch TYPE int",                  # 42703
        "ALTER TABLE at_x ALTER COLUMN a TYPE nosuchtype",                # 42704
        "SELECT * FROM at_x ORDER BY id",
        "ALTER TABLE at_x ALTER COLUMN a TYPE bigint, ALTER COLUMN d TYPE numeric(10,1)",
        "SELECT id, a, d FROM at_x WHERE id IN (1, 2, 40) ORDER BY id",
        "INSERT INTO at_x VALUES (100, 5000000000, '2024-05-05', 'z', 1.25, true)",
        "SELECT * FROM at_x WHERE id = 100",
        "SELECT attname, atttypid::regtype::text, atttypmod FROM pg_attribute "
        "WHERE attrelid = 'at_x'::regclass AND attnum > 0 ORDER BY attnum",
    ])


def test_indexes_and_primary_key_after_the_change(pair, server):
    script(pair, CLEAN + [
        "CREATE TABLE at_x (id int PRIMARY KEY, code text, n int, u int)",
        "INSERT INTO at_x SELECT g, (g % 50)::text, g % 7, g FROM generate_series(1, 300) g",
        "CREATE INDEX at_x_code ON at_x (code)",
        "CREATE UNIQUE INDEX at_x_u ON at_x (u)",
        "ALTER TABLE at_x ALTER COLUMN code TYPE int USING code::int",
        "SELECT id FROM at_x WHERE code = 7 ORDER BY id",
        "SELECT count(*) FROM at_x WHERE code BETWEEN 10 AND 12",
        "ALTER TABLE at_x ALTER COLUMN u TYPE int USING u / 2",           # 23505: duplicates
        "ALTER TABLE at_x ALTER COLUMN u TYPE bigint USING u * 10",
        "SELECT id, u FROM at_x WHERE u = 1230",
        "INSERT INTO at_x VALUES (1000, 1, 1, 1230)",                    # 23505 on the rebuilt index
        "ALTER TABLE at_x ALTER COLUMN id TYPE bigint USING id + 10000000000",
        "SELECT id, code, u FROM at_x WHERE id = 10000000042",
        "SELECT count(*), min(id), max(id) FROM at_x",
        "INSERT INTO at_x VALUES (10000000042, 1, 1, 5)",                # 23505 on the key
        "ALTER TABLE at_x ALTER COLUMN id TYPE int",                      # 22003
        "ALTER TABLE at_x ALTER COLUMN id TYPE int USING id - 10000000000",
        "SELECT id, code, n, u FROM at_x WHERE id IN (1, 150, 300) ORDER BY id",
        "ALTER TABLE at_x ALTER COLUMN n TYPE text, ALTER COLUMN n TYPE int",   # 42601 twice? both refuse
        "SELECT indexname FROM pg_indexes WHERE tablename = 'at_x' ORDER BY indexname",
    ])
    if harness.TARGET != "postgres":
        cur = pair[0].cursor()
        cur.execute("EXPLAIN SELECT id FROM at_x WHERE code = 7")
        assert "Index Scan using at_x_code" in "\n".join(r[0] for r in cur.fetchall())
        cur.execute("EXPLAIN SELECT id FROM at_x WHERE u = 1230")
        assert "Index Scan using at_x_u" in "\n".join(r[0] for r in cur.fetchall())


def test_foreign_keys_and_views(pair):
    script(pair, CLEAN + [
        "DROP VIEW IF EXISTS at_v",
        "CREATE TABLE at_p (id int PRIMARY KEY, name text)",
        "INSERT INTO at_p SELECT g, 'p' || g FROM generate_series(1, 5) g",
        "CREATE TABLE at_c (id int PRIMARY KEY, pid int REFERENCES at_p, note text)",
        "INSERT INTO at_c SELECT g, 1 + g % 5, 'c' || g FROM generate_series(1, 20) g",
        "ALTER TABLE at_p ALTER COLUMN id TYPE bigint",                   # integers stay compatible
        "ALTER TABLE at_c ALTER COLUMN pid TYPE bigint",
        "ALTER TABLE at_c ALTER COLUMN pid TYPE text",                    # 42804 cannot be implemented
        "ALTER TABLE at_p ALTER COLUMN id TYPE text",                     # 42804 from the parent side
        "INSERT INTO at_c VALUES (100, 9, 'orphan')",                     # 23503
        "DELETE FROM at_p WHERE id = 2",                                  # 23503 still referenced
        "INSERT INTO at_c VALUES (101, 5, 'ok')",
        "SELECT p.name, count(*) FROM at_c c JOIN at_p p ON p.id = c.pid GROUP BY p.name ORDER BY 1",
        "CREATE VIEW at_v AS SELECT id, name FROM at_p",
        "ALTER TABLE at_p ALTER COLUMN name TYPE varchar(20)",            # 0A000 used by a view
        "DROP VIEW at_v",
        "ALTER TABLE at_p ALTER COLUMN name TYPE varchar(20)",
        "SELECT * FROM at_p ORDER BY id",
    ])


def test_add_and_drop_constraints_match_postgres(pair):
    script(pair, CLEAN + [
        "CREATE TABLE at_p (id int PRIMARY KEY)",
        "INSERT INTO at_p SELECT g FROM generate_series(1, 5) g",
        "CREATE TABLE at_c (id int PRIMARY KEY, pid int, v int, w int UNIQUE)",
        "INSERT INTO at_c SELECT g, g % 7, g, g FROM generate_series(1, 20) g",
        "ALTER TABLE at_c ADD CONSTRAINT at_c_pid_fkey FOREIGN KEY (pid) REFERENCES at_p (id)",   # 23503
        "DELETE FROM at_c WHERE pid > 5",
        "ALTER TABLE at_c ADD FOREIGN KEY (pid) REFERENCES at_p (id) ON DELETE CASCADE",
        "ALTER TABLE at_c ADD FOREIGN KEY (pid) REFERENCES nosuch (id)",  # 42P01
        "INSERT INTO at_c VALUES (100, 6, 1, 100)",                      # 23503
        "DELETE FROM at_p WHERE id = 1",                                  # cascades
        "SELECT count(*) FROM at_c",
        "ALTER TABLE at_c ADD CONSTRAINT v_small CHECK (v < 10)",         # 23514
        "ALTER TABLE at_c ADD CONSTRAINT v_pos CHECK (v > 0)",
        "ALTER TABLE at_c ADD CHECK (w > v - 1)",
        "ALTER TABLE at_c ADD CONSTRAINT v_pos CHECK (v > 1)",            # 42710
        "INSERT INTO at_c VALUES (200, 2, 0, 200)",                      # 23514
        "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'at_c'::regclass ORDER BY conname",
        "ALTER TABLE at_c DROP CONSTRAINT v_pos",
        "INSERT INTO at_c VALUES (200, 2, 0, 200)",
        "ALTER TABLE at_c DROP CONSTRAINT at_c_pid_fkey",
        "INSERT INTO at_c VALUES (201, 99, 1, 201)",
        "ALTER TABLE at_c DROP CONSTRAINT at_c_w_key",
        "INSERT INTO at_c VALUES (202, 99, 1, 201)",
        "ALTER TABLE at_c DROP CONSTRAINT nosuch",                        # 42704
        "ALTER TABLE at_c DROP CONSTRAINT IF EXISTS nosuch",
        "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'at_c'::regclass ORDER BY conname",
        "SELECT count(*) FROM at_c",
        "ALTER TABLE at_c ADD COLUMN q int REFERENCES at_p",
        "INSERT INTO at_c VALUES (203, 2, 1, 203, 77)",                  # 23503
        "INSERT INTO at_c VALUES (204, 2, 1, 204, 3)",
        "SELECT id, q FROM at_c WHERE q IS NOT NULL",
    ])


def test_drop_column_drops_its_index_data(server):
    """DROP COLUMN of an indexed column drops the index and its entries: the same
    index name created again over another column starts empty and answers right."""
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS at_o")
    cur.execute("CREATE TABLE at_o (id int PRIMARY KEY, a int, b int)")
    cur.execute("INSERT INTO at_o SELECT g, g, g % 3 FROM generate_series(1, 100) g")
    cur.execute("CREATE INDEX at_o_i ON at_o (a)")
    cur.execute("ALTER TABLE at_o DROP COLUMN a")
    cur.execute("CREATE INDEX at_o_i ON at_o (b)")
    cur.execute("SELECT count(*) FROM at_o WHERE b = 1")
    assert cur.fetchone()[0] == 34
    cur.execute("DROP TABLE at_o")
    conn.close()


@pytest.mark.nextdb_only
def test_rewritten_table_survives_kill_and_other_tables_keep_writing(server):
    if harness.TARGET == "postgres":
        pytest.skip("NextDB's restart and rewrite behaviour")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    for t in ("at_k", "at_w"):
        cur.execute("DROP TABLE IF EXISTS %s" % t)
    cur.execute("CREATE TABLE at_k (id int PRIMARY KEY, v text, n int)")
    cur.execute("CREATE INDEX at_k_v ON at_k (v)")
    cur.execute("INSERT INTO at_k SELECT g, (g % 100)::text, g FROM generate_series(1, 20000) g")
    cur.execute("CREATE TABLE at_w (id int PRIMARY KEY, x int)")
    stop = threading.Event()
    written = []
    errors = []

    def writer():
        c = server.connect(autocommit=True)
        k = c.cursor()
        i = 0
        while not stop.is_set() or i < 20:
            try:
                k.execute("INSERT INTO at_w VALUES (%s, %s)", (i, i))
                written.append(i)
            except psycopg2.Error as e:
                errors.append(e.pgcode)
            i += 1
        c.close()

    th = threading.Thread(target=writer)
    th.start()
    try:
        cur.execute("ALTER TABLE at_k ALTER COLUMN v TYPE int USING v::int, ALTER COLUMN id TYPE bigint")
    finally:
        stop.set()
        th.join()
    assert errors == []
    cur.execute("SELECT count(*) FROM at_w")
    assert cur.fetchone()[0] == len(written)
    conn.close()
    server.restart(kill=True)
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(v), sum(id) FROM at_k")
    assert cur.fetchone() == (20000, sum(g % 100 for g in range(1, 20001)), sum(range(1, 20001)))
    cur.execute("SELECT count(*) FROM at_k WHERE v = 42")
    assert cur.fetchone()[0] == 200
    cur.execute("EXPLAIN SELECT * FROM at_k WHERE v = 42")
    assert "Index Scan using at_k_v" in "\n".join(r[0] for r in cur.fetchall())
    cur.execute("SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = 'at_k'::regclass "
                "AND attname IN ('id', 'v') ORDER BY attname")
    assert [r[0] for r in cur.fetchall()] == ["bigint", "integer"]
    cur.execute("SELECT count(*) FROM at_w")
    assert cur.fetchone()[0] == len(written)
    cur.execute("DROP TABLE at_k")
    cur.execute("DROP TABLE at_w")
    conn.close()


@pytest.mark.nextdb_only
def test_writes_to_the_table_are_refused_during_the_rewrite_and_none_is_lost(server):
    """While the rewrite copies, writes to the table fail (55006; 40001 for a
    statement bound before the switch) and writes to other tables go on; every
    acknowledged write is in the new table, nothing refused is."""
    if harness.TARGET == "postgres":
        pytest.skip("NextDB refuses writes during the rewrite (PostgreSQL waits on its lock)")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS at_b")
    cur.execute("CREATE TABLE at_b (id int PRIMARY KEY, v text)")
    cur.execute("INSERT INTO at_b SELECT g, g::text FROM generate_series(1, 20000) g")
    stop = threading.Event()
    acked, refused = [], []

    def writer():
        c = server.connect(autocommit=True)
        k = c.cursor()
        i = 100000
        while not stop.is_set():
            try:
                k.execute("INSERT INTO at_b VALUES (%s, %s)", (i, str(i)))
                acked.append(i)
            except psycopg2.Error as e:
                refused.append((i, e.pgcode))
            i += 1
        c.close()

    th = threading.Thread(target=writer)
    th.start()
    try:
        cur.execute("ALTER TABLE at_b ALTER COLUMN v TYPE int USING v::int")
    finally:
        stop.set()
        th.join()
    assert all(code in ("55006", "40001") for _, code in refused), refused[:5]
    cur.execute("SELECT id FROM at_b WHERE id >= 100000")
    present = {r[0] for r in cur.fetchall()}
    assert present == set(acked)
    cur.execute("SELECT count(*) FROM at_b WHERE v <> id")
    assert cur.fetchone()[0] == 0
    cur.execute("DROP TABLE at_b")
    conn.close()


@pytest.mark.nextdb_only
def test_kill_during_the_rewrite_leaves_the_old_or_the_new_table(server_factory):
    """kill -9 while ALTER COLUMN TYPE copies: after recovery the table is wholly the
    old one (text values) or wholly the new one (integers), with every row."""
    if harness.TARGET == "postgres":
        pytest.skip("NextDB crash recovery")
    srv = server_factory("alter-kill")
    srv.start()
    outcomes = set()
    for delay in (0.05, 0.3, 0.8):
        conn = srv.connect(autocommit=True)
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS at_crash")
        cur.execute("CREATE TABLE at_crash (id int PRIMARY KEY, v text, w int)")
        cur.execute("CREATE INDEX at_crash_v ON at_crash (v)")
        cur.execute("INSERT INTO at_crash SELECT g, (g % 1000)::text, g FROM generate_series(1, 30000) g")

        def alter():
            c = srv.connect(autocommit=True)
            try:
                c.cursor().execute("ALTER TABLE at_crash ALTER COLUMN v TYPE int USING v::int")
            except psycopg2.Error:
                pass
            finally:
                try:
                    c.close()
                except psycopg2.Error:
                    pass

        conn.close()
        th = threading.Thread(target=alter)
        th.start()
        threading.Event().wait(delay)
        srv.kill()
        th.join()
        srv.start()
        conn = srv.connect(autocommit=True)
        cur = conn.cursor()
        cur.execute("SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = 'at_crash'::regclass "
                    "AND attname = 'v'")
        typ = cur.fetchone()[0]
        assert typ in ("text", "integer")
        outcomes.add(typ)
        cur.execute("SELECT count(*), sum(w), sum(v::int) FROM at_crash")
        assert cur.fetchone() == (30000, sum(range(1, 30001)), sum(g % 1000 for g in range(1, 30001)))
        cur.execute("SELECT count(*) FROM at_crash WHERE v = %s", ("7" if typ == "text" else 7,))
        assert cur.fetchone()[0] == 30
        cur.execute("INSERT INTO at_crash VALUES (0, %s, 0)", ("1" if typ == "text" else 1,))
        conn.close()


@pytest.mark.nextdb_only
def test_rewrite_in_a_block_that_wrote_is_refused_and_the_server_lives_on(server):
    """The rewrite waits for open writers, so a block that wrote may not run it (0A000);
    the refusal used to leave a snapshot registration on a dead stack frame."""
    if harness.TARGET == "postgres":
        pytest.skip("NextDB's DDL-in-a-block limit")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS at_blk")
    cur.execute("CREATE TABLE at_blk (id int PRIMARY KEY, n text)")
    for sql in ("ALTER TABLE at_blk ALTER COLUMN n TYPE varchar(3)", "ALTER TABLE at_blk ADD PRIMARY KEY (n)"):
        cur.execute("BEGIN")
        cur.execute("INSERT INTO at_blk VALUES (1, 'x')")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql)
        assert e.value.pgcode == "0A000"
        cur.execute("ROLLBACK")
    for _ in range(20):
        cur.execute("SELECT 1")
    cur.execute("BEGIN")
    cur.execute("ALTER TABLE at_blk ALTER COLUMN n TYPE varchar(3)")     # no writes yet: allowed
    cur.execute("COMMIT")
    cur.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'at_blk'::regclass AND attname = 'n'")
    assert cur.fetchone()[0] == 7
    cur.execute("DROP TABLE at_blk")
    conn.close()


@pytest.mark.nextdb_only
def test_readers_during_the_rewrite_see_the_old_or_the_new_table(server):
    """Readers never wait for the rewrite and every answer is the whole old table or
    the whole new one: the same row count and sum."""
    if harness.TARGET == "postgres":
        pytest.skip("NextDB's rewrite (PostgreSQL readers wait on the lock)")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS at_r")
    cur.execute("CREATE TABLE at_r (id int PRIMARY KEY, v text)")
    cur.execute("INSERT INTO at_r SELECT g, (g % 100)::text FROM generate_series(1, 20000) g")
    expect = (20000, sum(g % 100 for g in range(1, 20001)))
    stop = threading.Event()
    seen, bad = [], []

    def reader():
        c = server.connect(autocommit=True)
        k = c.cursor()
        while not stop.is_set():
            k.execute("SELECT count(*), sum(v::int) FROM at_r")
            cnt, total = k.fetchone()
            seen.append(cnt)
            if (cnt, total) != expect:
                bad.append((cnt, total))
        c.close()

    th = threading.Thread(target=reader)
    th.start()
    try:
        cur.execute("ALTER TABLE at_r ALTER COLUMN v TYPE int USING v::int")
        cur.execute("SELECT 1")
        threading.Event().wait(0.2)
    finally:
        stop.set()
        th.join()
    assert bad == []
    assert seen
    cur.execute("DROP TABLE at_r")
    conn.close()
