"""test_pg_stat_activity.py -- pg_stat_activity is live and says what PostgreSQL 15
says: one row per client session whatever shard it landed on, pid equal to
pg_backend_pid(), the states ('active', 'idle', 'idle in transaction', 'idle in
transaction (aborted)'), xact_start only inside a transaction, the query text, and
wait_event_type 'Lock' / wait_event 'transactionid' while a session waits for a row
lock that another session's open transaction holds; pg_cancel_backend(pid) ends such a
wait with 57014. Each scenario runs on NextDB and on the reference PostgreSQL and the
rows must match."""
import threading
import time

import psycopg2

APPS = ("sa_holder", "sa_waiter", "sa_failed", "sa_idle")
VIEW = ("SELECT application_name, state, wait_event_type, wait_event, query, "
        "xact_start IS NOT NULL AS in_xact, backend_start IS NOT NULL AS started, "
        "client_addr, datname, usename, backend_type "
        "FROM pg_stat_activity WHERE application_name IN %s ORDER BY application_name" % (APPS,))


def connect(target, app):
    conn = psycopg2.connect(application_name=app, **target.conninfo)
    conn.autocommit = True
    return conn


def run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall() if cur.description else cur.statusmessage
    except psycopg2.Error as e:
        return e.pgcode
    finally:
        cur.close()


def settled(obs, want):
    """VIEW once every session shows the wait_event_type want(row): a PostgreSQL
    backend under load may take a moment after its reply to wait for its client."""
    rows = None
    for _ in range(250):
        rows = run(obs, VIEW)
        if len(rows) == len(APPS) and all(r[2] == want(r) for r in rows):
            break
        time.sleep(0.02)
    return rows


def observe(target):
    """The sessions of APPS as a third connection sees them, with one waiting for the
    holder's row lock, one in a failed block and one idle."""
    obs = connect(target, "sa_observer")
    conns = {app: connect(target, app) for app in APPS}
    try:
        run(obs, "DROP TABLE IF EXISTS sa_t")
        run(obs, "CREATE TABLE sa_t (id int PRIMARY KEY, v int)")
        run(obs, "INSERT INTO sa_t VALUES (1, 0), (2, 0)")
        run(conns["sa_idle"], "SELECT 1")
        run(conns["sa_failed"], "BEGIN")
        assert run(conns["sa_failed"], "SELECT 1/0") == "22012"
        h = conns["sa_holder"]
        run(h, "BEGIN")
        run(h, "UPDATE sa_t SET v = 1 WHERE id = 1")
        box = {}
        t = threading.Thread(target=lambda: box.setdefault(
            "r", run(conns["sa_waiter"], "UPDATE sa_t SET v = 2 WHERE id = 1")))
        t.start()
        rows = None
        rows = settled(obs, lambda r: "Lock" if r[0] == "sa_waiter" else "Client")
        me = run(obs, "SELECT pid = pg_backend_pid(), state FROM pg_stat_activity "
                      "WHERE application_name = 'sa_observer'")
        # the pid is the one of the connection's cancel key (BackendKeyData)
        me.append(run(obs, "SELECT pg_backend_pid()")[0][0] == obs.get_backend_pid())
        pids = run(obs, "SELECT count(DISTINCT pid), count(*) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'sa\\_%'")
        run(h, "COMMIT")
        t.join(30)
        assert box.get("r") == "UPDATE 1"
        after = settled(obs, lambda r: "Client")
        names = run(obs, "SELECT * FROM pg_stat_activity LIMIT 0")
        cur = obs.cursor()
        cur.execute("SELECT * FROM pg_stat_activity LIMIT 0")
        cols = [d[0] for d in cur.description]
        cur.close()
        assert names == []
        run(conns["sa_failed"], "ROLLBACK")
        return rows, me, pids, after, cols
    finally:
        for c in conns.values():
            c.close()
        run(obs, "DROP TABLE IF EXISTS sa_t")
        obs.close()


def test_live_sessions_match_postgres(server, pg_reference):
    ours, ref = observe(server), observe(pg_reference)
    rows, me, pids, after, cols = ours
    assert rows == ref[0]
    assert [r[:4] for r in rows] == [
        ("sa_failed", "idle in transaction (aborted)", "Client", "ClientRead"),
        ("sa_holder", "idle in transaction", "Client", "ClientRead"),
        ("sa_idle", "idle", "Client", "ClientRead"),
        ("sa_waiter", "active", "Lock", "transactionid"),
    ]
    assert [r[4] for r in rows] == ["SELECT 1/0", "UPDATE sa_t SET v = 1 WHERE id = 1", "SELECT 1",
                                    "UPDATE sa_t SET v = 2 WHERE id = 1"]
    assert [r[5] for r in rows] == [False, True, False, True]
    assert me == ref[1] == [(True, "active"), True]
    assert pids == ref[2] == [(5, 5)]
    assert after == ref[3]
    assert [r[1:4] for r in after if r[0] == "sa_waiter"] == [("idle", "Client", "ClientRead")]
    assert cols == ref[4]


def test_pg_cancel_backend_ends_a_lock_wait(server, pg_reference):
    got = []
    for target in (server, pg_reference):
        obs, h, w = connect(target, "sa_observer"), connect(target, "sa_holder"), connect(target, "sa_waiter")
        try:
            run(obs, "DROP TABLE IF EXISTS sa_c")
            run(obs, "CREATE TABLE sa_c (id int PRIMARY KEY, v int)")
            run(obs, "INSERT INTO sa_c VALUES (1, 0)")
            run(h, "BEGIN")
            run(h, "UPDATE sa_c SET v = 1 WHERE id = 1")
            box = {}
            t = threading.Thread(target=lambda: box.setdefault(
                "r", run(w, "UPDATE sa_c SET v = 2 WHERE id = 1")))
            t.start()
            for _ in range(250):
                if run(obs, "SELECT wait_event_type FROM pg_stat_activity "
                            "WHERE application_name = 'sa_waiter'") == [("Lock",)]:
                    break
                time.sleep(0.02)
            r = run(obs, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = 'sa_waiter'")
            t.join(30)
            run(h, "COMMIT")
            got.append((r, box.get("r"), run(obs, "SELECT v FROM sa_c"),
                        run(obs, "SELECT pg_cancel_backend(0)"),
                        run(w, "SELECT 1")))     # the canceled session goes on
        finally:
            for c in (h, w):
                c.close()
            run(obs, "DROP TABLE IF EXISTS sa_c")
            obs.close()
    assert got[0] == got[1] == ([(True,)], "57014", [(1,)], [(False,)], [(1,)])
