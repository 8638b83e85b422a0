"""test_txn_savepoint.py -- SAVEPOINT / ROLLBACK TO / RELEASE as PostgreSQL 15 has
them: every scripted step (command tag, rows or SQLSTATE) compared with the reference
PostgreSQL; writes on both shards rolled back to a savepoint, committed, and still
right after a restart; row locks taken after a savepoint released by ROLLBACK TO
(waiters go on) while those taken before stay; SET undone; sequences not rolled
back; a deadlock victim going back to its savepoint; psql's ON_ERROR_ROLLBACK and
psycopg 3's nested transactions (extended protocol) on top of it."""
import subprocess
import threading

import psycopg
import psycopg2
import pytest

import harness


def step(conn, sql):
    """(tag, rows) or ("error", SQLSTATE) for one statement on an autocommit
    connection (transaction control is explicit in the scripts)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else None
        return (cur.statusmessage, rows)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


def same_script(server, pg_reference, setup, script):
    """Runs setup then script on fresh connections to both servers; every step of the
    script must answer alike. Returns our answers."""
    ours, ref = server.connect(), pg_reference.connect()
    try:
        for sql in setup:
            for c in (ours, ref):
                r = step(c, sql)
                assert r[0] != "error", (sql, r)
        got = []
        for sql in script:
            a, b = step(ours, sql), step(ref, sql)
            assert a == b, sql
            got.append(a)
        return got
    finally:
        ours.close()
        ref.close()


TABLE = ["DROP TABLE IF EXISTS sp_t",
         "CREATE TABLE sp_t (id int PRIMARY KEY, v text)"]
ALL = "SELECT id, v FROM sp_t ORDER BY id"


def test_nested_reuse_release_rollback_to(server, pg_reference):
    got = same_script(server, pg_reference, TABLE, [
        "BEGIN",
        "INSERT INTO sp_t VALUES (1, 'a'), (2, 'b')",
        "SAVEPOINT s1",
        "INSERT INTO sp_t VALUES (3, 'c'), (4, 'd')",
        "UPDATE sp_t SET v = 'x' WHERE id = 1",
        "SAVEPOINT s2",
        "DELETE FROM sp_t WHERE id = 2",
        ALL,
        "ROLLBACK TO SAVEPOINT s2",          # the delete is undone, s2 stays
        ALL,
        "DELETE FROM sp_t WHERE id = 3",
        "ROLLBACK TO s2",                     # again, to the same savepoint
        ALL,
        "ROLLBACK TO s1",                     # s2 goes, s1 stays
        ALL,
        "RELEASE s2",                         # 3B001: gone with the rollback to s1
        "ROLLBACK TO s1",                     # out of the aborted state
        "INSERT INTO sp_t VALUES (5, 'e')",
        "SAVEPOINT s1",                       # same name again: the newest wins
        "INSERT INTO sp_t VALUES (6, 'f')",
        "RELEASE SAVEPOINT s1",               # the newest one; the older s1 is live
        ALL,
        "ROLLBACK TO s1",                     # undoes 5 and 6
        ALL,
        "SAVEPOINT a", "SAVEPOINT b", "SAVEPOINT c",
        "INSERT INTO sp_t VALUES (7, 'g')",
        "RELEASE a",                          # a, b and c
        "ROLLBACK TO b",                      # 3B001
        "ROLLBACK",
        ALL,
    ])
    assert got[-1] == ("SELECT 0", [])


def test_errors_and_aborted_state(server, pg_reference):
    same_script(server, pg_reference, TABLE, [
        "SAVEPOINT x",                        # 25P01 outside a block
        "RELEASE SAVEPOINT x",
        "ROLLBACK TO SAVEPOINT x",
        "SAVEPOINT x; SELECT 1",              # an implicit transaction is no block
        "BEGIN",
        "RELEASE nosuch",                     # 3B001, and the block is failed
        "SELECT 1",                           # 25P02
        "ROLLBACK TO nosuch",                 # still 3B001, still failed
        "SELECT 1",
        "ROLLBACK",
        "BEGIN",
        "INSERT INTO sp_t VALUES (1, 'kept')",
        "SAVEPOINT s",
        "INSERT INTO sp_t VALUES (2, 'lost')",
        "INSERT INTO sp_t VALUES (1, 'dup')",  # 23505: aborted
        "SELECT 1",                            # 25P02
        "SAVEPOINT t",                         # 25P02
        "RELEASE s",                           # 25P02
        "ROLLBACK TO s",                       # usable again
        ALL,
        "INSERT INTO sp_t VALUES (3, 'after')",
        "SELECT 1/0",                          # 22012
        "ROLLBACK TO SAVEPOINT s",
        "COMMIT",
        ALL,
        "BEGIN",
        "SAVEPOINT s",
        "SELECT 1/0",
        "COMMIT",                              # a failed block commits as ROLLBACK
        "SELECT count(*) FROM sp_t",
    ])


def test_multi_shard_rollback_to_then_commit_and_restart(server, pg_reference):
    # 400 keys land on both shards; the savepoint's updates, deletes and inserts are
    # undone everywhere, the writes before it and after the rollback commit.
    setup = ["DROP TABLE IF EXISTS sp_m",
             "CREATE TABLE sp_m (id int PRIMARY KEY, n int, s text)",
             "INSERT INTO sp_m SELECT g, g, 'r' || g FROM generate_series(1, 200) g"]
    check = ["SELECT count(*), sum(n), min(s), max(s) FROM sp_m",
             "SELECT id, n, s FROM sp_m WHERE id % 37 = 0 OR id > 395 ORDER BY id"]
    same_script(server, pg_reference, setup, [
        "BEGIN",
        "UPDATE sp_m SET n = n + 1000 WHERE id <= 100",
        "INSERT INTO sp_m SELECT g, g, 'pre' FROM generate_series(201, 300) g",
        "SAVEPOINT s",
        "UPDATE sp_m SET n = -1, s = 'gone'",
        "DELETE FROM sp_m WHERE id % 3 = 0",
        "INSERT INTO sp_m SELECT g, 0, 'lost' FROM generate_series(301, 400) g",
        "SAVEPOINT inner_sp",
        "UPDATE sp_m SET n = -2",
        "RELEASE inner_sp",
        check[0],
        "ROLLBACK TO s",
        check[0],
        "SAVEPOINT s2",
        "UPDATE sp_m SET n = 1000 / (id - 150)",   # fails part way through, on some shard
        check[0],                                   # 25P02
        "ROLLBACK TO s2",
        check[0],
        "INSERT INTO sp_m SELECT g, g, 'post' FROM generate_series(396, 400) g",
        "DELETE FROM sp_m WHERE id = 37",
        "COMMIT",
    ] + check)
    before = [step(c, q) for c in [server.connect()] for q in check]
    server.restart()
    c = server.connect()
    after = [step(c, q) for q in check]
    c.close()
    assert after == before
    ref = pg_reference.connect()
    assert [step(ref, q) for q in check] == after
    ref.close()


def test_guc_and_sequence(server, pg_reference):
    same_script(server, pg_reference, ["DROP SEQUENCE IF EXISTS sp_seq", "CREATE SEQUENCE sp_seq"], [
        "SET lock_timeout = '3s'",
        "BEGIN",
        "SET lock_timeout = '4s'",
        "SAVEPOINT a",
        "SET lock_timeout = '5s'",
        "SET LOCAL statement_timeout = '9s'",
        "SELECT nextval('sp_seq')",
        "SAVEPOINT b",
        "SET lock_timeout = '6s'",
        "ROLLBACK TO b",
        "SHOW lock_timeout",
        "ROLLBACK TO a",
        "SHOW lock_timeout",
        "SHOW statement_timeout",
        "SELECT nextval('sp_seq')",           # sequences are not rolled back
        "COMMIT",
        "SHOW lock_timeout",
        "RESET lock_timeout",
    ])


def test_row_locks_after_savepoint_released(server, pg_reference):
    for target in (server, pg_reference):
        a, b = target.connect(), target.connect()
        try:
            for sql in TABLE + ["INSERT INTO sp_t VALUES (1, 'one'), (2, 'two')"]:
                step(a, sql)
            step(a, "BEGIN")
            assert step(a, "UPDATE sp_t SET v = 'a1' WHERE id = 1")[0] == "UPDATE 1"
            step(a, "SAVEPOINT s")
            assert step(a, "SELECT v FROM sp_t WHERE id = 2 FOR UPDATE")[1] == [("two",)]
            step(a, "ROLLBACK TO SAVEPOINT s")
            step(b, "SET lock_timeout = '300ms'")
            # the lock taken after the savepoint is gone, the one before it is not
            assert step(b, "UPDATE sp_t SET v = 'b2' WHERE id = 2") == ("UPDATE 1", None)
            assert step(b, "UPDATE sp_t SET v = 'b1' WHERE id = 1") == ("error", "55P03")
            step(a, "COMMIT")
            assert step(b, ALL)[1] == [(1, "a1"), (2, "b2")]
        finally:
            a.close()
            b.close()


def test_rollback_to_wakes_a_waiter(server, pg_reference):
    for target in (server, pg_reference):
        a, b = target.connect(), target.connect()
        try:
            for sql in TABLE + ["INSERT INTO sp_t VALUES (1, 'one')"]:
                step(a, sql)
            step(a, "BEGIN")
            step(a, "SAVEPOINT s")
            step(a, "UPDATE sp_t SET v = 'a' WHERE id = 1")
            step(b, "SET lock_timeout = '20s'")
            done = {}
            t = threading.Thread(target=lambda: done.setdefault(
                "r", step(b, "UPDATE sp_t SET v = 'b' WHERE id = 1")))
            t.start()
            t.join(0.5)
            assert t.is_alive(), "the second writer must wait for the row lock"
            step(a, "ROLLBACK TO s")         # a's transaction stays open
            t.join(15)
            assert not t.is_alive() and done["r"] == ("UPDATE 1", None)
            step(a, "COMMIT")
            assert step(a, ALL)[1] == [(1, "b")]
        finally:
            a.close()
            b.close()


def test_psql_on_error_rollback(server, pg_reference):
    script = "\n".join([
        "DROP TABLE IF EXISTS sp_p;",
        "CREATE TABLE sp_p (id int PRIMARY KEY);",
        "BEGIN;",
        "INSERT INTO sp_p VALUES (1);",
        "INSERT INTO sp_p VALUES (1);",
        "INSERT INTO sp_p VALUES (2);",
        "SELECT 1/0;",
        "INSERT INTO sp_p VALUES (3);",
        "COMMIT;",
        "SELECT id FROM sp_p ORDER BY id;",
        "DROP TABLE sp_p;",
    ]) + "\n"
    outs = []
    for target in (server, pg_reference):
        res = subprocess.run(["psql", "-X", "-v", "ON_ERROR_ROLLBACK=on", "-h", target.host,
                              "-p", str(target.port), "-U", harness.USER, "-d", harness.DBNAME],
                             input=script, capture_output=True, text=True, timeout=60)
        outs.append((res.returncode, res.stdout, res.stderr.replace("psql:<stdin>", "")))
    assert outs[0] == outs[1]
    assert " 1\n  2\n  3\n(3 rows)" in outs[0][1]


def test_psycopg3_nested_transactions(server, pg_reference):
    results = []
    for target in (server, pg_reference):
        with psycopg.connect(target.dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS sp_q")
            conn.execute("CREATE TABLE sp_q (id int PRIMARY KEY, v int)")
            with conn.transaction():
                conn.execute("INSERT INTO sp_q VALUES (%s, %s)", (1, 10))
                try:
                    with conn.transaction():          # SAVEPOINT "_pg3_1"
                        conn.execute("INSERT INTO sp_q VALUES (%s, %s)", (2, 20))
                        conn.execute("INSERT INTO sp_q VALUES (%s, %s)", (1, 11))   # 23505
                except psycopg.errors.UniqueViolation:
                    pass                              # ROLLBACK TO SAVEPOINT "_pg3_1"
                with conn.transaction():
                    conn.execute("UPDATE sp_q SET v = v + 1 WHERE id = %s", (1,))
                    with conn.transaction():
                        conn.execute("INSERT INTO sp_q VALUES (%s, %s)", (3, 30))
                    with conn.transaction(force_rollback=True):
                        conn.execute("DELETE FROM sp_q")
            results.append(conn.execute("SELECT id, v FROM sp_q ORDER BY id").fetchall())
            conn.execute("DROP TABLE sp_q")
    assert results[0] == results[1] == [(1, 11), (3, 30)]


@pytest.mark.nextdb_only
def test_ddl_inside_a_savepoint_is_refused(server):
    c = server.connect()
    try:
        step(c, "BEGIN")
        step(c, "SAVEPOINT s")
        assert step(c, "CREATE TABLE sp_ddl (a int)") == ("error", "0A000")
        assert step(c, "ROLLBACK TO s") == ("ROLLBACK", None)
        assert step(c, "RELEASE s") == ("RELEASE", None)
        step(c, "COMMIT")
        assert step(c, "SELECT 1 FROM sp_ddl") == ("error", "42P01")
    finally:
        c.close()


def test_deadlock_victim_rolls_back_to_its_savepoint(server, pg_reference):
    # a waits (after its savepoint) for b, b then waits for a: one of them is the
    # deadlock victim. If it is a, ROLLBACK TO releases the lock it took after the
    # savepoint, b goes on, and a's earlier work still commits; if it is b, a goes on.
    for target in (server, pg_reference):
        a, b = target.connect(), target.connect()
        try:
            for sql in TABLE + ["INSERT INTO sp_t VALUES (1, 'one'), (2, 'two'), (3, 'three')"]:
                step(a, sql)
            for c in (a, b):
                step(c, "SET deadlock_timeout = '100ms'")
                step(c, "BEGIN")
            step(a, "UPDATE sp_t SET v = 'a3' WHERE id = 3")
            step(a, "SAVEPOINT s")
            step(a, "UPDATE sp_t SET v = 'a1' WHERE id = 1")
            step(b, "UPDATE sp_t SET v = 'b2' WHERE id = 2")
            box = {}
            t = threading.Thread(target=lambda: box.setdefault(
                "a", step(a, "UPDATE sp_t SET v = 'a2' WHERE id = 2")))
            t.start()
            t.join(0.3)
            rb = step(b, "UPDATE sp_t SET v = 'b1' WHERE id = 1")
            if rb == ("error", "40P01"):      # b lost: a goes on
                t.join(30)
                assert box["a"] == ("UPDATE 1", None)
                step(b, "ROLLBACK")
                step(a, "COMMIT")
                want = [(1, "a1"), (2, "a2"), (3, "a3")]
            else:                             # a lost: back to its savepoint
                t.join(30)
                assert box["a"] == ("error", "40P01") and rb == ("UPDATE 1", None)
                assert step(a, "ROLLBACK TO s") == ("ROLLBACK", None)
                step(b, "COMMIT")
                step(a, "COMMIT")
                want = [(1, "b1"), (2, "b2"), (3, "a3")]
            assert step(a, ALL)[1] == want
        finally:
            a.close()
            b.close()
