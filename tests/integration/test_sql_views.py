"""test_sql_views.py -- CREATE [OR REPLACE] VIEW / DROP VIEW checked against PostgreSQL 15
statement by statement (results, column names, SQLSTATEs and messages): views in FROM,
joined, in subqueries and CTEs, views over views, column lists and derived names and
types, the catalog's view rows (pg_class, information_schema.tables / views, pg_views,
psql's \\dv and \\d view), the dependency errors of DROP, and the definition surviving a
kill -9 restart."""
import psycopg2
import pytest

import harness
from refcompare import run_msg as run, same_msg as same, script


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for c in (ours, ref):
        for sql in CLEAN + SETUP:
            assert run(c, sql)[0] == "ok", sql
    yield ours, ref
    ours.close()
    ours = server.connect(autocommit=True)
    for c in (ours, ref):
        for sql in CLEAN:
            run(c, sql)
    ours.close()
    ref.close()


CLEAN = ["DROP VIEW IF EXISTS vw_top, vw_over, vw_join, vw_cols, vw_r, vw_agg, vw_b, vw_a, vw_x",
         "DROP TABLE IF EXISTS vw_orders", "DROP TABLE IF EXISTS vw_users"]
SETUP = [
    "CREATE TABLE vw_users (id int PRIMARY KEY, name varchar(20) NOT NULL, score float8)",
    "CREATE TABLE vw_orders (oid int PRIMARY KEY, uid int, amount numeric(10,2), note text)",
    "INSERT INTO vw_users SELECT g, 'u' || g, g * 1.5 FROM generate_series(1, 40) g",
    "INSERT INTO vw_orders SELECT g, g % 40 + 1, g * 2.25, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END "
    "FROM generate_series(1, 200) g",
]


def test_select_through_views(pair):
    script(pair, [
        "CREATE VIEW vw_a AS SELECT id, name, score * 2 AS dbl FROM vw_users WHERE id > 10",
        "SELECT * FROM vw_a ORDER BY id",
        "SELECT count(*), sum(dbl), min(name) FROM vw_a",
        "SELECT * FROM vw_a WHERE id = 20",
        "SELECT a.name, count(o.oid), sum(o.amount) FROM vw_a a JOIN vw_orders o ON o.uid = a.id "
        "GROUP BY a.name ORDER BY a.name",
        "SELECT x.id FROM vw_a AS x(id, nm) WHERE x.nm = 'u15'",
        "SELECT * FROM (SELECT id FROM vw_a WHERE dbl > 100) s ORDER BY id",
        "SELECT (SELECT count(*) FROM vw_a), EXISTS (SELECT 1 FROM vw_a WHERE id = 5)",
        "SELECT id FROM vw_users WHERE id IN (SELECT id FROM vw_a WHERE id < 14) ORDER BY id",
        "WITH w AS (SELECT * FROM vw_a WHERE id % 5 = 0) SELECT count(*), max(id) FROM w",
        # views over views, with column lists and derived names
        "CREATE VIEW vw_b (uid, label) AS SELECT id, upper(name), dbl, 'k' AS k, 1 + 1 FROM vw_a",
        "SELECT * FROM vw_b ORDER BY uid LIMIT 5",
        "CREATE VIEW vw_over AS SELECT b.uid, b.label, o.amount FROM vw_b b LEFT JOIN vw_orders o ON o.uid = b.uid",
        "SELECT count(*), count(amount), sum(amount) FROM vw_over",
        "CREATE VIEW vw_agg AS SELECT uid, count(*) AS n, sum(amount) AS total FROM vw_orders GROUP BY uid",
        "SELECT * FROM vw_agg WHERE n > 5 ORDER BY uid",
        "SELECT u.name, g.total FROM vw_users u JOIN vw_agg g ON g.uid = u.id WHERE u.id <= 3 ORDER BY 1",
        "SELECT column_name, data_type, ordinal_position FROM information_schema.columns "
        "WHERE table_name = 'vw_b' ORDER BY ordinal_position",
        # the rows are read at query time
        "UPDATE vw_users SET score = 1000 WHERE id = 11",
        "SELECT dbl FROM vw_a WHERE id = 11",
    ])


def test_view_errors_match_postgres(pair):
    script(pair, [
        "CREATE VIEW vw_x AS SELECT 1 AS a",
        "CREATE VIEW vw_x AS SELECT 2 AS a",                     # 42P07
        "CREATE VIEW vw_users AS SELECT 1",                      # 42P07
        "CREATE VIEW vw_cols (a, b, c) AS SELECT 1, 2",          # 42601
        "CREATE VIEW vw_cols AS SELECT 1 AS a, 2 AS a",          # 42701
        "CREATE VIEW vw_cols AS SELECT nope FROM vw_users",      # 42703
        "CREATE VIEW vw_cols AS SELECT * FROM vw_nope",          # 42P01
        "CREATE OR REPLACE VIEW vw_x AS SELECT 3 AS a, 'z' AS b",
        "SELECT * FROM vw_x",
        "CREATE OR REPLACE VIEW vw_x AS SELECT 4 AS a",          # 42P16 drop columns
        "CREATE OR REPLACE VIEW vw_x AS SELECT 4 AS c, 'z' AS b",    # 42P16 name
        "CREATE OR REPLACE VIEW vw_x AS SELECT 4::int8 AS a, 'z' AS b",  # 42P16 type
        "CREATE OR REPLACE VIEW vw_users AS SELECT 1",           # 42809
        "DROP VIEW vw_users",                                    # 42809
        "DROP TABLE vw_x",                                       # 42809
        "DROP VIEW vw_nope",                                     # 42P01
        "DROP VIEW IF EXISTS vw_nope",
        "CREATE VIEW vw_r AS SELECT * FROM vw_x",
        "DROP VIEW vw_x",                                        # 2BP01
        "DROP TABLE vw_orders",                                  # 2BP01 (vw_over, vw_agg)
        "TRUNCATE vw_x",                                         # 42809
        "DROP VIEW vw_x, vw_r",
        "SELECT * FROM vw_r",                                    # 42P01
    ])


def test_dependency_detail_matches_postgres(pair):
    # the DETAIL of 2BP01 lists every dependent, transitively
    script(pair, ["CREATE VIEW vw_top AS SELECT * FROM vw_over WHERE uid < 20"])
    ours, ref = pair
    details = []
    for c in (ours, ref):
        cur = c.cursor()
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("DROP VIEW vw_b")
        assert e.value.pgcode == "2BP01"
        details.append(sorted(e.value.diag.message_detail.splitlines()))
        cur.close()
    assert details[0] == details[1]
    script(pair, ["DROP VIEW vw_top"])


def test_writes_to_views_are_refused(server):
    if harness.TARGET == "postgres":
        pytest.skip("PostgreSQL writes through simple views (auto-updatable); NextDB refuses (0A000)")
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE VIEW vw_cols AS SELECT id, name FROM vw_users")
    for sql in ("INSERT INTO vw_cols VALUES (100, 'x')", "UPDATE vw_cols SET name = 'y' WHERE id = 1",
                "DELETE FROM vw_cols WHERE id = 1"):
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql)
        assert e.value.pgcode == "0A000", sql
        assert 'view "vw_cols"' in e.value.pgerror
    cur.execute("SELECT count(*) FROM vw_users WHERE id = 100")
    assert cur.fetchone() == (0,)
    cur.execute("DROP VIEW vw_cols")
    conn.close()


def test_catalog_rows_match_postgres(pair):
    script(pair, [
        "SELECT relname, relkind, relnatts, relhasindex FROM pg_class "
        "WHERE relname LIKE 'vw\\_%' ORDER BY relname",
        # is_insertable_into / is_updatable differ for simple views: PostgreSQL can write
        # through them (auto-updatable views), NextDB cannot
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name LIKE 'vw\\_%' ORDER BY 1",
        "SELECT table_name, check_option, is_trigger_updatable FROM information_schema.views "
        "WHERE table_schema = 'public' ORDER BY 1",
        "SELECT schemaname, viewname, viewowner FROM pg_views WHERE schemaname = 'public' ORDER BY 2",
        "SELECT attname, atttypid::regtype, attnum FROM pg_attribute WHERE attrelid = 'vw_agg'::regclass "
        "AND attnum > 0 ORDER BY attnum",
        "SELECT pg_get_viewdef('vw_users'::regclass)",
    ])
    # the definition is the stored query: it runs, and gives the view's rows
    ours = pair[0]
    cur = ours.cursor()
    cur.execute("SELECT pg_get_viewdef('vw_agg'), pg_get_viewdef('vw_agg'::regclass, true)")
    text, pretty = cur.fetchone()
    assert text == pretty and text.startswith(" SELECT") and text.endswith(";")
    cur.execute("SELECT count(*) FROM (%s) q" % text.rstrip(";"))
    n = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM vw_agg")
    assert cur.fetchone()[0] == n == 40
    cur.close()


def test_psql_describe_view_matches_postgres(server, pg_reference):
    script_ = "\\dv\n\\d vw_agg\n\\d vw_b\n"
    got = server.psql(script_).splitlines()
    want = pg_reference.psql(script_).splitlines()
    assert got == want


def test_view_survives_restart(server, pair):
    server.restart(kill=True)
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT count(*), sum(amount) FROM vw_over")
    got = cur.fetchone()
    cur.execute("SELECT relkind FROM pg_class WHERE relname = 'vw_over'")
    assert cur.fetchone() == ("v",)
    with pytest.raises(psycopg2.Error) as e:
        cur.execute("DROP TABLE vw_users")
    assert e.value.pgcode == "2BP01"
    conn.close()
    rcur = pair[1].cursor()
    rcur.execute("SELECT count(*), sum(amount) FROM vw_over")
    assert got == rcur.fetchone()
    rcur.close()
