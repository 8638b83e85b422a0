"""test_sql_upsert.py -- INSERT ... ON CONFLICT on the primary key, checked against
PostgreSQL 15 statement by statement: DO NOTHING and DO UPDATE SET ... WHERE with
EXCLUDED and the table alias, RETURNING, multi-row and INSERT ... SELECT sources over
rows of both shards, 21000 / 42P10 / 42601 / 42704, inside transactions, and
concurrent upserts of one key from several connections (no update lost)."""
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
        out = cur.fetchall() if cur.description else None
        return ("ok", sorted(out) if out is not None else None, cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else "")
    finally:
        cur.close()


def script(pair, stmts):
    for s in stmts:
        a, b = run(pair[0], s), run(pair[1], s)
        assert a == b, s


def test_upsert_matches_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS up_kv",
        "CREATE TABLE up_kv (k int PRIMARY KEY, v text, n int DEFAULT 0)",
        "INSERT INTO up_kv SELECT g, 'v' || g FROM generate_series(1, 30) g",
        "INSERT INTO up_kv VALUES (1, 'a'), (2, 'b') ON CONFLICT DO NOTHING",
        "INSERT INTO up_kv VALUES (1, 'x'), (31, 'c') ON CONFLICT DO NOTHING RETURNING *",
        "INSERT INTO up_kv VALUES (1, 'x'), (32, 'd') ON CONFLICT (k) DO UPDATE "
        "SET v = excluded.v, n = up_kv.n + 1 RETURNING *",
        "INSERT INTO up_kv VALUES (2, 'y') ON CONFLICT (k) DO UPDATE SET v = excluded.v "
        "WHERE up_kv.v = 'nope' RETURNING *",
        "INSERT INTO up_kv AS t VALUES (2, 'y') ON CONFLICT ON CONSTRAINT up_kv_pkey "
        "DO UPDATE SET v = t.v || excluded.v, n = DEFAULT RETURNING k, v, n",
        "INSERT INTO up_kv VALUES (5, 'e'), (5, 'f') ON CONFLICT (k) DO UPDATE SET v = excluded.v",   # 21000
        "INSERT INTO up_kv VALUES (40, 'e'), (40, 'f') ON CONFLICT (k) DO NOTHING RETURNING *",
        "INSERT INTO up_kv VALUES (1, 'x') ON CONFLICT (v) DO NOTHING",                          # 42P10
        "INSERT INTO up_kv VALUES (1, 'x') ON CONFLICT (nope) DO NOTHING",                       # 42703
        "INSERT INTO up_kv VALUES (1, 'x') ON CONFLICT DO UPDATE SET v = 'q'",                   # 42601
        "INSERT INTO up_kv VALUES (1, 'x') ON CONFLICT ON CONSTRAINT nope DO NOTHING",           # 42704
        "INSERT INTO up_kv VALUES (1, NULL) ON CONFLICT (k) DO UPDATE SET n = NULL",
        "INSERT INTO up_kv (k) VALUES (NULL) ON CONFLICT DO NOTHING",                            # 23502
        "INSERT INTO up_kv SELECT k, 'sel' FROM up_kv WHERE k % 3 = 0 "
        "ON CONFLICT (k) DO UPDATE SET n = up_kv.n + 10, v = excluded.v || up_kv.k",
        "INSERT INTO up_kv SELECT g, 'new' FROM generate_series(25, 45) g "
        "ON CONFLICT (k) DO UPDATE SET n = excluded.n + 100 WHERE up_kv.k > 28 RETURNING k, n",
        "SELECT * FROM up_kv ORDER BY k",
    ])


def test_upsert_composite_key_and_transactions_match_postgres(pair):
    script(pair, [
        "DROP TABLE IF EXISTS up_line",
        "CREATE TABLE up_line (order_id int, line int, qty int NOT NULL, PRIMARY KEY (order_id, line))",
        "INSERT INTO up_line VALUES (1, 1, 5), (1, 2, 1), (2, 1, 7)",
        "BEGIN",
        "INSERT INTO up_line VALUES (1, 1, 3) ON CONFLICT (line, order_id) DO UPDATE "
        "SET qty = up_line.qty + excluded.qty RETURNING *",
        "INSERT INTO up_line VALUES (1, 1, 3) ON CONFLICT (order_id, line) DO UPDATE "
        "SET qty = up_line.qty + excluded.qty RETURNING *",       # sees the block's own update
        "INSERT INTO up_line VALUES (3, 1, 1) ON CONFLICT DO NOTHING",
        "SELECT * FROM up_line ORDER BY 1, 2",
        "ROLLBACK",
        "SELECT * FROM up_line ORDER BY 1, 2",
        "INSERT INTO up_line VALUES (2, 1, 1) ON CONFLICT (order_id, line) DO UPDATE SET qty = NULL",  # 23502
        "INSERT INTO up_line VALUES (2, 1, 1) ON CONFLICT (order_id) DO NOTHING",                      # 42P10
        "SELECT * FROM up_line ORDER BY 1, 2",
        "DROP TABLE up_line",
    ])


def test_concurrent_upserts_on_one_key_lose_nothing(server):
    setup = server.connect(autocommit=True)
    cur = setup.cursor()
    cur.execute("DROP TABLE IF EXISTS up_ctr")
    cur.execute("CREATE TABLE up_ctr (k int PRIMARY KEY, n int NOT NULL)")
    errors = []
    per_thread, threads_count = 40, 5

    def worker(w):
        # Only key 1 is shared: the shards apply one statement's rows in parallel, so
        # two statements sharing two keys on two shards could deadlock (40P01).
        try:
            c = server.connect(autocommit=True)
            k = c.cursor()
            for i in range(per_thread):
                k.execute("INSERT INTO up_ctr VALUES (1, 1), (%s, 1) ON CONFLICT (k) DO UPDATE "
                          "SET n = up_ctr.n + 1", (1000 + w * per_thread + i,))
                k.execute("INSERT INTO up_ctr VALUES (2, 1) ON CONFLICT (k) DO UPDATE SET n = up_ctr.n + 1")
            c.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    cur.execute("SELECT n FROM up_ctr WHERE k = 1")
    assert cur.fetchone()[0] == per_thread * threads_count
    cur.execute("SELECT n FROM up_ctr WHERE k = 2")
    assert cur.fetchone()[0] == per_thread * threads_count
    cur.execute("SELECT count(*), sum(n) FROM up_ctr WHERE k >= 1000")
    assert cur.fetchone() == (per_thread * threads_count, per_thread * threads_count)
    cur.execute("DROP TABLE up_ctr")
    setup.close()
