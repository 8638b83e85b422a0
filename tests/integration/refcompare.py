"""refcompare.py -- running the same SQL on the server under test and on the reference
PostgreSQL and comparing the answers; shared by the test_sql_*.py files that hold a
module-scoped pair of autocommit connections over tables set up on both."""
import psycopg2


def run(conn, sql):
    """("ok", column names, rows) or ("error", SQLSTATE)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", [d[0] for d in cur.description] if cur.description else None,
                cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


def pair_fixture(server, pg_reference, setup, drop):
    """Generator for a module fixture: runs drop + setup on both, yields (ours, ref),
    then drops the tables on both (reconnecting to ours: a test may restart it)."""
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for sql in drop + setup:
        for c in (ours, ref):
            assert run(c, sql)[0] == "ok", sql
    yield ours, ref
    ours.close()
    ours = server.connect(autocommit=True)
    for sql in drop:
        for c in (ours, ref):
            run(c, sql)
    ours.close()
    ref.close()


def same(pair, sql, ordered=False):
    """Equal answers (column names included); rows compared sorted unless ordered."""
    ours, ref = pair
    a, b = run(ours, sql), run(ref, sql)
    if not ordered and a[0] == "ok" and a[2] is not None and b[0] == "ok" and b[2] is not None:
        key = lambda r: tuple((v is None, str(v)) for v in r)
        a, b = a[:2] + (sorted(a[2], key=key),), b[:2] + (sorted(b[2], key=key),)
    assert a == b, sql
    return a


def run_msg(conn, sql):
    """Like run, but an error also carries its first message line:
    ("ok", column names, rows) or ("error", SQLSTATE, message)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        if cur.description is None:
            return ("ok", None, None)
        return ("ok", [d[0] for d in cur.description], cur.fetchall())
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else "")
    finally:
        cur.close()


def same_msg(pair, sql):
    """Equal answers in order, error messages included."""
    a, b = run_msg(pair[0], sql), run_msg(pair[1], sql)
    assert a == b, sql
    return a


def script(pair, stmts):
    """same_msg for each statement in turn."""
    for s in stmts:
        same_msg(pair, s)
