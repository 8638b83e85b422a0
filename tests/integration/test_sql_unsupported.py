"""Statements NextDB does not implement fail with SQLSTATE 0A000 and a message that
names the feature (issue 4: never a wrong answer, never a crash, never an anonymous
"this statement"), and the session keeps working afterwards."""
import psycopg2
import pytest

import harness

STATEMENTS = [
    ("COMMENT ON TABLE uns_t IS 'x'", "COMMENT"),
    ("CREATE TYPE uns_mood AS ENUM ('sad', 'happy')", "CREATE TYPE ... AS ENUM"),
    ("LISTEN uns_channel", "LISTEN"),
    ("NOTIFY uns_channel", "NOTIFY"),
    ("CREATE FUNCTION uns_f() RETURNS int AS 'SELECT 1' LANGUAGE sql", "CREATE FUNCTION"),
    ("DO $$ BEGIN END $$", "DO"),
    ("CREATE TABLE uns_copy AS SELECT 1 AS a", "CREATE TABLE AS"),
    ("GRANT SELECT ON uns_t TO PUBLIC", "GRANT"),
    ("CREATE ROLE uns_role", "CREATE ROLE"),
    ("LOCK TABLE uns_t", "LOCK"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("REINDEX TABLE uns_t", "REINDEX"),
    ("ALTER SEQUENCE uns_t_a_seq RESTART", "ALTER SEQUENCE"),
    ("CREATE DOMAIN uns_d AS int", "CREATE DOMAIN"),
]


@pytest.mark.skipif(harness.TARGET == "postgres", reason="NextDB's own limits")
@pytest.mark.parametrize("sql,feature", STATEMENTS)
def test_unsupported_statement_is_0A000_naming_it(server, sql, feature):
    conn = server.connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS uns_t (a int PRIMARY KEY)")
    with pytest.raises(psycopg2.Error) as ei:
        cur.execute(sql)
    assert ei.value.pgcode == "0A000", (sql, ei.value.pgerror)
    first = ei.value.pgerror.splitlines()[0]
    assert feature in first and "this statement" not in first, first
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)
    conn.close()
