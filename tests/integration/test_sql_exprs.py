"""test_sql_exprs.py -- expression semantics the sqllogictest corpus checks against
PostgreSQL: NULL constants folded through strict operators before anything is
evaluated (so `x / 0 = NULL` is NULL, not a division by zero), AND / OR with a
decisive constant, integer division and modulo, NULL three-valued logic. Every query
runs on the server under test and on a reference PostgreSQL 15; answers (or
SQLSTATEs) must be equal."""
import psycopg2
import pytest

SETUP = [
    "DROP TABLE IF EXISTS ex_t",
    "CREATE TABLE ex_t (k int PRIMARY KEY, a int, b int, r real)",
    "INSERT INTO ex_t VALUES (1, 7, 2, 1.5), (2, -7, 2, NULL), (3, 7, -2, -2.5), (4, NULL, 3, 0), "
    "(5, 2000000000, 2, 3)",
]


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for sql in SETUP:
        for c in (ours, ref):
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for c in (ours, ref):
        _run(c, "DROP TABLE ex_t")
        c.close()


@pytest.mark.parametrize("sql", [
    # strict operators with a NULL constant are NULL before any row is evaluated
    "SELECT * FROM ex_t WHERE a / 0 = NULL",
    "SELECT * FROM ex_t WHERE NOT (a * 2000000000 * 2000000) = NULL",
    "SELECT * FROM ex_t WHERE NOT NULL > (a * a * a * a * 5)",
    "SELECT k, a / 0 > NULL, a % 0 + NULL, - (a / 0) * NULL FROM ex_t ORDER BY k",
    "SELECT k, CAST(NULL AS int) + a / 0, NULL::text || 'x' FROM ex_t ORDER BY k",
    "SELECT * FROM ex_t WHERE a / 0 > 1 AND false",
    "SELECT * FROM ex_t WHERE true OR a / 0 > 1 ORDER BY k",
    "SELECT * FROM ex_t WHERE (a / 0 > 1 OR NULL) AND NULL",
    "SELECT k FROM ex_t WHERE a > 0 OR NULL ORDER BY k",
    "SELECT k FROM ex_t WHERE NOT (a > 0 OR NULL) ORDER BY k",
    "SELECT k, concat(a, NULL), coalesce(NULL, a) FROM ex_t ORDER BY k",
    "SELECT a FROM ex_t GROUP BY a HAVING NULL IN (a / 0)",
    "SELECT b FROM ex_t WHERE b / 0 IS NOT NULL GROUP BY b HAVING NULL IS NOT NULL",
    "SELECT count(*) FROM ex_t HAVING NULL",
    "SELECT k, NULL IS NULL, 1 IS NOT NULL FROM ex_t WHERE NOT (NULL IS NOT NULL) ORDER BY k",
    # evaluation still happens where PostgreSQL evaluates
    "SELECT * FROM ex_t WHERE NULL IN (a / 0, 1)",
    "SELECT b FROM ex_t WHERE b / 0 IS NOT NULL GROUP BY b HAVING count(*) > 0",
    "SELECT * FROM ex_t WHERE a / 0 > 1",
    "SELECT * FROM ex_t WHERE a / 0 > 1 AND NULL",
    "SELECT a * a FROM ex_t",
    # integer division / modulo and three-valued logic
    "SELECT k, a / b, a % b, -a / b, a / -b FROM ex_t ORDER BY k",
    "SELECT k, a > 0 AND NULL, a > 0 OR NULL, NOT (a IN (7, NULL)) FROM ex_t ORDER BY k",
    "SELECT k, CASE WHEN a IS NULL THEN 'n' WHEN a BETWEEN -7 AND 7 THEN 'in' ELSE 'out' END "
    "FROM ex_t ORDER BY k",
])
def test_matches_postgres(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql), sql
