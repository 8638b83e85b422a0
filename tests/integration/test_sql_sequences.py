"""test_sql_sequences.py -- sequences, SERIAL and IDENTITY columns, checked against
PostgreSQL 15 statement by statement (results, SQLSTATEs and messages): CREATE / DROP
SEQUENCE options and their errors, nextval / currval / setval / lastval, SERIAL
tables whose rows spread over both shards, GENERATED ALWAYS / BY DEFAULT, concurrent
nextval from several connections (never a duplicate), and nextval after a kill -9
restart never repeating a value."""
import threading

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
        return ("ok", cur.fetchall() if cur.description else cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else "")
    finally:
        cur.close()


def same(pair, sql):
    a, b = run(pair[0], sql), run(pair[1], sql)
    assert a == b, sql
    return a


def script(pair, stmts):
    for s in stmts:
        same(pair, s)


CLEAN = ["DROP TABLE IF EXISTS sq_items", "DROP TABLE IF EXISTS sq_users", "DROP TABLE IF EXISTS sq_ident",
         "DROP SEQUENCE IF EXISTS sq_a", "DROP SEQUENCE IF EXISTS sq_b", "DROP SEQUENCE IF EXISTS sq_c",
         "DROP SEQUENCE IF EXISTS sq_x"]


def test_create_sequence_options_match_postgres(pair):
    script(pair, CLEAN)
    script(pair, [
        "CREATE SEQUENCE sq_a",
        "CREATE SEQUENCE sq_a",                                    # 42P07
        "CREATE SEQUENCE IF NOT EXISTS sq_a",
        "SELECT nextval('sq_a'), nextval('sq_a'), currval('sq_a'), lastval()",
        "CREATE SEQUENCE sq_b START 10 INCREMENT BY -3 MINVALUE 1 MAXVALUE 10",
        "SELECT nextval('sq_b'), nextval('sq_b'), nextval('sq_b'), nextval('sq_b')",
        "SELECT nextval('sq_b')",                                  # 2200H minimum
        "CREATE SEQUENCE sq_c AS smallint START WITH 32766 CACHE 5",
        "SELECT nextval('sq_c'), nextval('sq_c')",
        "SELECT nextval('sq_c')",                                  # 2200H maximum
        "DROP SEQUENCE sq_c",
        "CREATE SEQUENCE sq_c MINVALUE 1 MAXVALUE 3 CYCLE",
        "SELECT nextval('sq_c'), nextval('sq_c'), nextval('sq_c'), nextval('sq_c'), nextval('sq_c')",
        "CREATE SEQUENCE sq_x INCREMENT 0",
        "CREATE SEQUENCE sq_x AS text",
        "CREATE SEQUENCE sq_x START 0",
        "CREATE SEQUENCE sq_x START 20 MAXVALUE 10",
        "CREATE SEQUENCE sq_x MINVALUE 5 MAXVALUE 5",
        "CREATE SEQUENCE sq_x AS smallint MAXVALUE 100000",
        "CREATE SEQUENCE sq_x AS integer MINVALUE -3000000000",
        "CREATE SEQUENCE sq_x CACHE 0",
        "CREATE SEQUENCE sq_x START 1 START 2",
        "SELECT relname, relkind FROM pg_class WHERE relname LIKE 'sq\\_%' ORDER BY relname",
    ])


def test_currval_setval_lastval_match_postgres(pair, server, pg_reference):
    script(pair, CLEAN)
    # a fresh session: currval and lastval are not yet defined (55000)
    fresh = server.connect(autocommit=True), pg_reference.connect(autocommit=True)
    script(fresh, ["CREATE SEQUENCE sq_a", "SELECT currval('sq_a')", "SELECT lastval()",
                   "SELECT setval('sq_a', 100)", "SELECT currval('sq_a'), nextval('sq_a')",
                   "SELECT setval('sq_a', 7, false)", "SELECT currval('sq_a')", "SELECT nextval('sq_a')",
                   "SELECT setval('sq_a', 0)", "SELECT setval('sq_a', 9223372036854775807)",
                   "SELECT nextval('sq_no_such')", "SELECT currval('sq_no_such')",
                   "CREATE TABLE sq_items (id int PRIMARY KEY)", "SELECT nextval('sq_items')",
                   "DROP SEQUENCE sq_items", "DROP TABLE sq_a", "DROP SEQUENCE sq_a, sq_b",
                   "DROP SEQUENCE IF EXISTS sq_a, sq_b", "DROP TABLE sq_items"])
    # the session that used the sequence keeps currval; others do not see it
    script(pair, ["CREATE SEQUENCE sq_a", "SELECT nextval('sq_a')"])
    script(fresh, ["SELECT currval('sq_a')", "SELECT nextval('sq_a')", "SELECT lastval()"])
    script(pair, ["SELECT currval('sq_a')", "BEGIN", "SELECT nextval('sq_a')", "ROLLBACK",
                  "SELECT currval('sq_a'), nextval('sq_a')"])          # nextval is not rolled back
    for c in fresh:
        c.close()


def test_serial_tables_match_postgres(pair):
    script(pair, CLEAN)
    script(pair, [
        "CREATE TABLE sq_users (id serial PRIMARY KEY, name text NOT NULL)",
        "CREATE TABLE sq_items (id bigserial PRIMARY KEY, user_id int NOT NULL, qty smallserial, note text)",
        "INSERT INTO sq_users (name) VALUES ('ann'), ('bob'), ('cy') RETURNING id, name",
        "INSERT INTO sq_users (name) SELECT 'u' || g FROM generate_series(1, 40) g",
        "INSERT INTO sq_users VALUES (DEFAULT, 'dee') RETURNING *",
        "INSERT INTO sq_users (id, name) VALUES (1000, 'explicit') RETURNING *",
        "INSERT INTO sq_users (id, name) VALUES (NULL, 'null')",            # 23502
        "SELECT id, name FROM sq_users ORDER BY id",
        "SELECT count(*), min(id), max(id), count(DISTINCT id) FROM sq_users",
        "INSERT INTO sq_items (user_id, note) SELECT id, name FROM sq_users WHERE id < 20 ORDER BY id",
        "SELECT id, user_id, qty, note FROM sq_items ORDER BY id",
        "SELECT currval('sq_users_id_seq'), currval('sq_items_id_seq'), lastval()",
        "SELECT pg_get_serial_sequence('sq_users', 'id'), pg_get_serial_sequence('sq_items', 'qty'), "
        "pg_get_serial_sequence('sq_items', 'note'), pg_get_serial_sequence('public.sq_users', 'id')",
        "SELECT pg_get_serial_sequence('sq_users', 'nope')",
        "SELECT pg_get_serial_sequence('sq_nope', 'id')",
        "SELECT column_name, column_default, is_nullable, data_type FROM information_schema.columns "
        "WHERE table_name = 'sq_users' ORDER BY ordinal_position",
        "SELECT relname, relkind FROM pg_class WHERE relname LIKE 'sq\\_%' ORDER BY relname",
        "DROP SEQUENCE sq_users_id_seq",                                      # 2BP01
        "CREATE TABLE sq_ident (id serial, id2 serial NULL)",                 # 42601
        "CREATE TABLE sq_ident (id serial DEFAULT 1)",                        # 42601
        "DROP TABLE sq_items",
        "SELECT nextval('sq_items_id_seq')",                                  # gone with its table
        "CREATE TABLE sq_items (id serial)",
        "INSERT INTO sq_items DEFAULT VALUES RETURNING id",                   # a new sequence
    ])


def test_identity_columns_match_postgres(pair):
    script(pair, CLEAN)
    script(pair, [
        "CREATE TABLE sq_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "b int GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10), v text)",
        "INSERT INTO sq_ident (v) VALUES ('a'), ('b') RETURNING *",
        "INSERT INTO sq_ident (id, v) VALUES (5, 'x')",                       # 428C9
        "INSERT INTO sq_ident (id, v) VALUES (DEFAULT, 'd') RETURNING *",
        "INSERT INTO sq_ident (id, v) SELECT 7, 'sel'",                       # 428C9
        "INSERT INTO sq_ident (id, b, v) OVERRIDING SYSTEM VALUE VALUES (50, 1, 'o') RETURNING *",
        "INSERT INTO sq_ident (b, v) VALUES (7, 'by default') RETURNING *",
        "INSERT INTO sq_ident (b, v) OVERRIDING USER VALUE VALUES (7, 'user value') RETURNING *",
        "SELECT * FROM sq_ident ORDER BY id",
        "SELECT pg_get_serial_sequence('sq_ident', 'id'), pg_get_serial_sequence('sq_ident', 'b')",
        "CREATE TABLE sq_x (id text GENERATED ALWAYS AS IDENTITY)",           # 22023 / 42804
        "CREATE TABLE sq_x (id int GENERATED ALWAYS AS IDENTITY GENERATED BY DEFAULT AS IDENTITY)",
        "DROP TABLE sq_ident",
    ])


def test_concurrent_nextval_never_duplicates(server):
    setup = server.connect(autocommit=True)
    cur = setup.cursor()
    cur.execute("DROP SEQUENCE IF EXISTS sq_conc")
    cur.execute("CREATE SEQUENCE sq_conc")
    got, errors = [], []

    def worker():
        try:
            c = server.connect(autocommit=True)
            k = c.cursor()
            for _ in range(60):
                k.execute("SELECT nextval('sq_conc')")
                got.append(k.fetchone()[0])
            k.execute("SELECT nextval('sq_conc') FROM generate_series(1, 20)")
            got.extend(r[0] for r in k.fetchall())
            c.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 6 * 80
    assert len(set(got)) == len(got)
    assert sorted(got) == list(range(1, 6 * 80 + 1))
    cur.execute("DROP SEQUENCE sq_conc")
    setup.close()


def test_nextval_after_kill_restart_never_repeats(server):
    c = server.connect(autocommit=True)
    cur = c.cursor()
    for stmt in ["DROP TABLE IF EXISTS sq_crash", "DROP SEQUENCE IF EXISTS sq_k",
                 "CREATE SEQUENCE sq_k", "CREATE TABLE sq_crash (id serial PRIMARY KEY, v int)"]:
        cur.execute(stmt)
    seen = set()
    for _ in range(5):
        cur.execute("SELECT nextval('sq_k')")
        seen.add(cur.fetchone()[0])
    cur.execute("INSERT INTO sq_crash (v) SELECT g FROM generate_series(1, 10) g RETURNING id")
    ids = {r[0] for r in cur.fetchall()}
    c.close()
    server.restart(kill=True)
    c = server.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("SELECT nextval('sq_k')")
    after = cur.fetchone()[0]
    assert after > max(seen)
    cur.execute("INSERT INTO sq_crash (v) VALUES (11) RETURNING id")
    new_id = cur.fetchone()[0]
    assert new_id not in ids and new_id > max(ids)
    cur.execute("SELECT count(*) FROM sq_crash")
    assert cur.fetchone()[0] == 11
    # the sequence definitions and ownership survived the restart
    cur.execute("SELECT pg_get_serial_sequence('sq_crash', 'id')")
    assert cur.fetchone()[0] == "public.sq_crash_id_seq"
    cur.execute("DROP TABLE sq_crash")
    cur.execute("DROP SEQUENCE sq_k")
    c.close()
