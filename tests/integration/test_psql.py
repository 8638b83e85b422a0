"""test_psql.py -- psql (-X -A -t) runs one script against the server under test and
against the reference PostgreSQL; every line of output must match.

The script covers bulk INSERT ... SELECT generate_series, count/sum/min/max, GROUP BY,
point selects, UPDATE, DELETE and ORDER BY ... LIMIT, and psql prints the command tags
too (INSERT 0 100000, UPDATE 1000, ...), so those are compared as well.
"""

SCRIPT = """
DROP TABLE IF EXISTS psql_t;
CREATE TABLE psql_t (id int PRIMARY KEY, grp int NOT NULL, val bigint, name text);
INSERT INTO psql_t SELECT g, g % 7, g * 3, 'n' || g FROM generate_series(1, 100000) AS g;
SELECT count(*) FROM psql_t;
SELECT sum(val), min(val), max(val), count(name) FROM psql_t;
SELECT grp, count(*), sum(val) FROM psql_t GROUP BY grp ORDER BY grp;
SELECT id % 10 AS m, count(*) FROM psql_t WHERE id <= 1000 GROUP BY id % 10 ORDER BY m;
SELECT * FROM psql_t WHERE id = 4242;
SELECT name FROM psql_t WHERE id = 100000;
SELECT count(*) FROM psql_t WHERE id = 100001;
UPDATE psql_t SET val = -1, name = NULL WHERE id <= 1000;
SELECT count(*), sum(val), count(name) FROM psql_t;
UPDATE psql_t SET val = val + 1 WHERE id = 5;
SELECT id, grp, val, name FROM psql_t WHERE id = 5;
DELETE FROM psql_t WHERE grp = 3;
SELECT count(*), sum(val) FROM psql_t;
DELETE FROM psql_t WHERE id = 7;
SELECT count(*) FROM psql_t WHERE id = 7;
SELECT id, val FROM psql_t ORDER BY val DESC, id LIMIT 5;
SELECT id, name FROM psql_t ORDER BY id LIMIT 3 OFFSET 2000;
SELECT grp, max(id) FROM psql_t GROUP BY grp HAVING count(*) > 14000 ORDER BY 2 DESC;
DROP TABLE psql_t;
"""


def test_script_matches_postgresql(server, pg_reference):
    got = server.psql(SCRIPT).splitlines()
    want = pg_reference.psql(SCRIPT).splitlines()
    # Sanity: the reference produced what we think it did, so a broken reference
    # cannot make the comparison vacuous.
    assert "INSERT 0 100000" in want
    assert "100000" in want
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, "line %d differs: got %r, PostgreSQL says %r" % (i + 1, g, w)
    assert len(got) == len(want), "got %d lines, PostgreSQL printed %d" % (len(got), len(want))


def test_point_select_and_counts(server):
    out = server.psql("""
        CREATE TABLE psql_small (k int PRIMARY KEY, v text);
        INSERT INTO psql_small VALUES (1, 'one'), (2, 'two'), (3, NULL);
        SELECT v FROM psql_small WHERE k = 2;
        SELECT count(*), count(v) FROM psql_small;
        DROP TABLE psql_small;
    """).splitlines()
    assert out == ["CREATE TABLE", "INSERT 0 3", "two", "3|2", "DROP TABLE"]
