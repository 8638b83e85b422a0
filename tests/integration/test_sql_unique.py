"""test_sql_unique.py -- UNIQUE indexes and constraints (sql/secindex.h), checked
against PostgreSQL 15 statement by statement: column and table UNIQUE constraints and
their default names, CREATE UNIQUE INDEX over existing rows, ALTER TABLE ADD
CONSTRAINT ... UNIQUE, 23505 with PostgreSQL's message and detail on INSERT / UPDATE
/ multi-row statements, NULLs distinct, equal values of different spellings (numeric
scale, interval spans), DROP INDEX of a constraint's index (2BP01), the catalog rows
psql's \\d reads; then two connections inserting the same key (the second waits: the
first commits -> 23505, aborts -> success), and kill -9 + restart keeping rows and
index consistent."""
import threading
import time

import psycopg2
import pytest


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    yield ours, ref
    ours.close()
    ref.close()


def run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        out = cur.fetchall() if cur.description else None
        return ("ok", sorted(out, key=repr) if out is not None else None, cur.rowcount)
    except psycopg2.Error as e:
        msg = e.pgerror.splitlines()[0] if e.pgerror else ""
        return ("error", e.pgcode, msg, e.diag.message_detail, e.diag.message_hint)
    finally:
        cur.close()


def script(pair, stmts):
    for s in stmts:
        a, b = run(pair[0], s), run(pair[1], s)
        assert a == b, s


def test_unique_constraints_match_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS uq_a",
        "CREATE TABLE uq_a (id int PRIMARY KEY, email text UNIQUE, b int, c text, UNIQUE (b, c))",
        "INSERT INTO uq_a SELECT g, 'e' || g, g % 5, 'c' || (g / 5) FROM generate_series(1, 40) g",
        "INSERT INTO uq_a VALUES (100, 'e7', 9, 'z')",                     # 23505 uq_a_email_key
        "INSERT INTO uq_a VALUES (100, 'new', 1, 'c0')",                   # 23505 (b, c)
        "INSERT INTO uq_a VALUES (100, 'x1', 50, 'q'), (101, 'x1', 51, 'q')",   # within one statement
        "INSERT INTO uq_a VALUES (100, NULL, NULL, 'q'), (101, NULL, NULL, 'q'), (102, NULL, 7, NULL), "
        "(103, NULL, 7, NULL)",                                            # NULLs are distinct
        "UPDATE uq_a SET email = 'e2' WHERE id = 3",                       # 23505
        "UPDATE uq_a SET email = 'e3b' WHERE id = 3",
        "UPDATE uq_a SET email = 'e3' WHERE id = 4",                       # freed by the update above
        "UPDATE uq_a SET b = b WHERE id <= 10",                            # unchanged keys
        "DELETE FROM uq_a WHERE id = 5",
        "INSERT INTO uq_a VALUES (5, 'e5', 0, 'c1')",                      # the deleted row's keys
        "SELECT id, email, b, c FROM uq_a WHERE email IN ('e3', 'e3b', 'e5', 'e4') ORDER BY id",
        "SELECT count(*), count(email), count(DISTINCT email) FROM uq_a",
        "DROP TABLE uq_a",
    ])


def test_unique_index_ddl_matches_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS uq_b",
        "CREATE TABLE uq_b (id int PRIMARY KEY, a int, n numeric, iv interval, t varchar(10))",
        "INSERT INTO uq_b SELECT g, CASE WHEN g = 1200 THEN 5 ELSE g END, g, g * interval '1 day', 't' || g "
        "FROM generate_series(1, 1200) g",
        "CREATE UNIQUE INDEX uq_b_a ON uq_b (a)",                          # 23505 could not create
        "SELECT count(*) FROM pg_class WHERE relname = 'uq_b_a'",
        "CREATE UNIQUE INDEX uq_b_t ON uq_b (t)",
        "CREATE UNIQUE INDEX uq_b_n ON uq_b (n)",
        "INSERT INTO uq_b VALUES (2000, 1, 5.00, NULL, 'zz')",              # numeric 5.00 = 5
        "ALTER TABLE uq_b ADD CONSTRAINT uq_b_iv_key UNIQUE (iv)",
        "INSERT INTO uq_b VALUES (2000, 1, 5000, '1 mon', 'zz')",           # '1 mon' = '30 days'
        "INSERT INTO uq_b VALUES (2000, 1, 5000, '1 mon 1 day', 'zz')",
        "ALTER TABLE uq_b ADD UNIQUE (a)",                                  # 23505 could not create
        "ALTER TABLE uq_b ADD UNIQUE (a, id)",
        "DROP INDEX uq_b_iv_key",                                           # 2BP01 with hint
        "DROP INDEX uq_b_n",
        "INSERT INTO uq_b VALUES (2001, 2, 5, NULL, 'zy')",
        "CREATE UNIQUE INDEX IF NOT EXISTS uq_b_t ON uq_b (t)",
        "SELECT c.relname, i.indisunique, i.indisprimary, i.indnatts FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class r ON r.oid = i.indrelid "
        "WHERE r.relname = 'uq_b' ORDER BY 1",
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'uq_b'::regclass ORDER BY 1",
        "SELECT pg_get_indexdef('uq_b_t'::regclass), pg_get_indexdef('uq_b_a_id_key'::regclass)",
        "TRUNCATE uq_b",
        "INSERT INTO uq_b VALUES (1, 1, 1, '1 day', 't1')",
        "INSERT INTO uq_b VALUES (2, 2, 2, '2 days', 't1')",                # 23505 after TRUNCATE too
        "DROP TABLE uq_b",
        "CREATE TABLE uq_b (id int, a int UNIQUE)",                          # same names again: empty
        "INSERT INTO uq_b VALUES (1, 1), (2, 2)",
        "INSERT INTO uq_b VALUES (3, 1)",
        "SELECT * FROM uq_b ORDER BY id",
        "DROP TABLE uq_b",
    ])


def test_on_conflict_with_unique_arbiter_matches_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS uq_o",
        "CREATE TABLE uq_o (id int PRIMARY KEY, email text UNIQUE, n int DEFAULT 0)",
        "CREATE UNIQUE INDEX uq_o_n ON uq_o (n)",
        "INSERT INTO uq_o SELECT g, 'e' || g, g FROM generate_series(1, 20) g",
        "INSERT INTO uq_o VALUES (100, 'e5', 100) ON CONFLICT (email) DO NOTHING",
        "INSERT INTO uq_o VALUES (100, 'e5', 100) ON CONFLICT (email) DO UPDATE SET n = uq_o.n + 1000 RETURNING *",
        "INSERT INTO uq_o VALUES (101, 'e6', 101), (102, 'e7', 102), (103, 'new', 103) "
        "ON CONFLICT ON CONSTRAINT uq_o_email_key DO UPDATE SET n = excluded.n RETURNING *",
        "INSERT INTO uq_o VALUES (104, 'e8', 1) ON CONFLICT (email) DO UPDATE SET n = excluded.n",   # 23505 uq_o_n
        "INSERT INTO uq_o VALUES (1, 'zz', 500) ON CONFLICT (email) DO NOTHING",                     # 23505 pkey
        "INSERT INTO uq_o VALUES (105, 'e9', 0), (106, 'e9', 0) ON CONFLICT (email) DO UPDATE SET n = 0",  # 21000
        "INSERT INTO uq_o VALUES (105, 'x9', 900), (106, 'x9', 901) ON CONFLICT (email) DO NOTHING",
        "INSERT INTO uq_o VALUES (107, NULL, 907), (108, NULL, 908) ON CONFLICT (email) DO NOTHING",
        "INSERT INTO uq_o VALUES (109, 'e10', 909) ON CONFLICT ON CONSTRAINT uq_o_n DO NOTHING",    # 42704
        "INSERT INTO uq_o VALUES (110, 'e11', 11) ON CONFLICT (n) DO UPDATE SET email = excluded.email || '!' "
        "WHERE uq_o.id > 10 RETURNING *",
        "INSERT INTO uq_o VALUES (111, 'e12', 12) ON CONFLICT (n) DO UPDATE SET email = 'never' WHERE uq_o.id > 100",
        "INSERT INTO uq_o VALUES (300, 'e1', 300), (301, 'n301', 2), (2, 'n2', 302), (303, 'n303', 303), "
        "(304, 'n303', 304), (305, NULL, NULL), (306, NULL, NULL) ON CONFLICT DO NOTHING RETURNING *",
        "INSERT INTO uq_o SELECT g, 'e' || (g % 30), g FROM generate_series(400, 440) g ON CONFLICT DO NOTHING",
        "BEGIN",
        "INSERT INTO uq_o VALUES (200, 'tx', 200)",
        "INSERT INTO uq_o VALUES (201, 'tx', 201) ON CONFLICT (email) DO UPDATE SET n = uq_o.n + 1 RETURNING *",
        "ROLLBACK",
        "SELECT * FROM uq_o ORDER BY id",
        "DROP TABLE uq_o",
    ])


def test_foreign_key_referencing_unique_matches_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS uq_fc",
        "DROP TABLE IF EXISTS uq_fp",
        "CREATE TABLE uq_fp (id int PRIMARY KEY, code text UNIQUE, a int, b int, UNIQUE (b, a))",
        "INSERT INTO uq_fp SELECT g, 'c' || g, g, g * 10 FROM generate_series(1, 20) g",
        "CREATE TABLE uq_fc (id int PRIMARY KEY, code text REFERENCES uq_fp (code) ON DELETE CASCADE, "
        "x int, y int, FOREIGN KEY (x, y) REFERENCES uq_fp (a, b))",
        "CREATE TABLE uq_fc2 (id int, z int REFERENCES uq_fp (a))",            # 42830: a alone is not unique
        "INSERT INTO uq_fc VALUES (1, 'c1', 1, 10), (2, 'c2', NULL, NULL), (3, NULL, 3, 30)",
        "INSERT INTO uq_fc VALUES (4, 'nope', NULL, NULL)",                    # 23503
        "INSERT INTO uq_fc VALUES (4, 'c4', 4, 41)",                           # 23503 on (x, y)
        "UPDATE uq_fc SET code = 'c9' WHERE id = 2",
        "UPDATE uq_fc SET code = 'zz' WHERE id = 2",                           # 23503
        "UPDATE uq_fp SET code = 'changed' WHERE id = 9",                      # referenced: NO ACTION
        "UPDATE uq_fp SET code = 'changed' WHERE id = 10",                     # not referenced
        "DELETE FROM uq_fp WHERE id = 1",                                      # cascades (code), then (x, y)?
        "DELETE FROM uq_fp WHERE id = 3",                                      # 23503 (x, y) NO ACTION
        "DROP INDEX uq_fp_code_key",                                           # 2BP01
        "SELECT * FROM uq_fc ORDER BY id",
        "DROP TABLE uq_fc",
        "DROP TABLE uq_fp",
    ])


def test_constraint_views_match_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS uq_vc",
        "DROP TABLE IF EXISTS uq_vp",
        "CREATE TABLE uq_vp (id int PRIMARY KEY, a int UNIQUE, b int, c int, UNIQUE (c, b))",
        "CREATE TABLE uq_vc (id int REFERENCES uq_vp, c int, b int, FOREIGN KEY (b, c) REFERENCES uq_vp (b, c))",
        "CREATE INDEX uq_vp_b_idx ON uq_vp (b)",
        "SELECT * FROM pg_indexes WHERE tablename IN ('uq_vp', 'uq_vc') ORDER BY indexname",
        "SELECT * FROM information_schema.table_constraints WHERE table_name IN ('uq_vp', 'uq_vc') "
        "AND constraint_type <> 'CHECK' ORDER BY constraint_name",
        "SELECT count(*) FROM information_schema.table_constraints WHERE table_name = 'uq_vp' "
        "AND constraint_type = 'CHECK' AND constraint_name LIKE '%_not_null'",
        "SELECT * FROM information_schema.key_column_usage WHERE table_name IN ('uq_vp', 'uq_vc') "
        "ORDER BY constraint_name, ordinal_position",
        "DROP TABLE uq_vc",
        "DROP TABLE uq_vp",
    ])


@pytest.mark.nextdb_only
def test_refused_unique_constraint_leaves_no_table(server):
    c = server.connect(autocommit=True)
    cur = c.cursor()
    with pytest.raises(psycopg2.errors.FeatureNotSupported):
        cur.execute("CREATE TABLE uq_c (id int, j jsonb UNIQUE)")     # jsonb keys: not supported
    cur.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'uq_c%'")
    assert cur.fetchone() == (0,)
    c.close()


def test_psql_describe_lists_indexes(server, pg_reference):
    sql = """
        DROP TABLE IF EXISTS uq_d;
        CREATE TABLE uq_d (id int PRIMARY KEY, a int UNIQUE, b text, c int);
        ALTER TABLE uq_d ADD CONSTRAINT uq_d_bc UNIQUE (b, c);
        CREATE INDEX uq_d_c_idx ON uq_d (c);
        CREATE UNIQUE INDEX uq_d_b ON uq_d (b);
        CREATE INDEX uq_d_h ON uq_d USING hash (a);
        \\d uq_d
        \\di uq_d*
        DROP TABLE uq_d;
    """
    got = server.psql(sql).splitlines()
    want = pg_reference.psql(sql).splitlines()
    assert any("uq_d_bc" in line for line in want)
    assert got == want


def insert_same_key_concurrently(server, end_first):
    """Connection A inserts k = 7 and keeps its transaction open; B inserts k = 7 too
    and must wait; A then ends with end_first. Returns (waited, B's outcome)."""
    setup = server.connect(autocommit=True)
    cur = setup.cursor()
    cur.execute("DROP TABLE IF EXISTS uq_conc")
    cur.execute("CREATE TABLE uq_conc (id int PRIMARY KEY, k int UNIQUE)")
    a, b = server.connect(autocommit=False), server.connect(autocommit=False)
    a.cursor().execute("INSERT INTO uq_conc VALUES (1, 7)")
    result = {}

    def second():
        try:
            b.cursor().execute("INSERT INTO uq_conc VALUES (2, 7)")
            b.commit()
            result["ok"] = True
        except psycopg2.Error as e:
            result["error"] = (e.pgcode, e.diag.message_primary, e.diag.message_detail)
            b.rollback()

    t = threading.Thread(target=second)
    t.start()
    waited = False
    for _ in range(50):          # B must still be blocked on A's uncommitted entry
        time.sleep(0.02)
    waited = t.is_alive()
    getattr(a, end_first)()
    t.join(30)
    assert not t.is_alive()
    cur.execute("SELECT id, k FROM uq_conc ORDER BY id")
    rows = cur.fetchall()
    a.close()
    b.close()
    setup.close()
    return waited, result, rows


def test_concurrent_insert_waits_then_fails_when_first_commits(server):
    waited, result, rows = insert_same_key_concurrently(server, "commit")
    assert waited
    assert result.get("error") == ("23505", 'duplicate key value violates unique constraint "uq_conc_k_key"',
                                   "Key (k)=(7) already exists.")
    assert rows == [(1, 7)]


def test_concurrent_insert_waits_then_succeeds_when_first_aborts(server):
    waited, result, rows = insert_same_key_concurrently(server, "rollback")
    assert waited
    assert result == {"ok": True}
    assert rows == [(2, 7)]


def test_concurrent_distinct_keys_do_not_conflict(server):
    setup = server.connect(autocommit=True)
    setup.cursor().execute("DROP TABLE IF EXISTS uq_many")
    setup.cursor().execute("CREATE TABLE uq_many (id int PRIMARY KEY, k text UNIQUE)")
    errors = []

    def worker(w):
        try:
            c = server.connect(autocommit=True)
            for i in range(30):
                try:
                    c.cursor().execute("INSERT INTO uq_many VALUES (%s, %s)", (w * 1000 + i, "k%d" % (i % 40)))
                except psycopg2.errors.UniqueViolation:
                    pass
            c.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    cur = setup.cursor()
    cur.execute("SELECT count(*), count(DISTINCT k) FROM uq_many")
    assert cur.fetchone() == (30, 30)          # every key exactly once, whoever won it
    setup.close()


@pytest.mark.nextdb_only
def test_unique_index_survives_kill_and_restart(server):
    c = server.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS uq_r")
    cur.execute("CREATE TABLE uq_r (id int PRIMARY KEY, k int UNIQUE, g int)")
    cur.execute("CREATE INDEX uq_r_g ON uq_r (g)")
    cur.execute("INSERT INTO uq_r SELECT x, x * 10, x % 7 FROM generate_series(1, 500) x")
    cur.execute("UPDATE uq_r SET k = -k WHERE id % 3 = 0")
    cur.execute("DELETE FROM uq_r WHERE id % 5 = 0")
    c.close()
    server.restart(kill=True)
    c = server.connect(autocommit=True)
    cur = c.cursor()
    with pytest.raises(psycopg2.errors.UniqueViolation):
        cur.execute("INSERT INTO uq_r VALUES (1000, 10, 0)")         # id 1 kept k = 10
    cur.execute("INSERT INTO uq_r VALUES (1000, 30, 0)")             # id 3 moved to -30
    cur.execute("INSERT INTO uq_r VALUES (1001, 50, 0)")             # id 5 was deleted
    for g in range(7):
        cur.execute("SELECT count(*) FROM uq_r WHERE g = %s", (g,))
        by_index = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM uq_r WHERE g + 0 = %s", (g,))
        assert by_index == cur.fetchone()[0]
    cur.execute("SELECT id FROM uq_r WHERE k = -30")
    assert cur.fetchall() == [(3,)]
    cur.execute("DROP TABLE uq_r")
    c.close()
