"""test_shapes.py -- the simple-query path reuses one parse for statements that differ
only in their literals (sql/shape.h). Each group below sends the same statement shape
over one connection with literals chosen to change what the statement means: integer
literals crossing int4 -> int8 -> numeric, ORDER BY / GROUP BY ordinals, LIMIT and
OFFSET, strings with doubled quotes, typed literals, IN lists, and literals whose
sign the grammar folds. Every answer, type and error (SQLSTATE and cursor position)
must equal what a fresh connection (which parses the text) answers, and equal
PostgreSQL's answer where NextDB has the feature (KNOWN_GAPS lists where not yet)."""
import psycopg2
import pytest

SETUP = [
    "DROP TABLE IF EXISTS shp",
    "CREATE TABLE shp (id int PRIMARY KEY, g int, name text, big bigint)",
    "INSERT INTO shp SELECT i, i % 5, 'n' || i, i * 1000000000::bigint FROM generate_series(1, 60) i",
    "INSERT INTO shp VALUES (100, 1, 'it''s', 0)",
]

GROUPS = {
    "point_select": ["SELECT name, big FROM shp WHERE id = %d" % i for i in (1, 2, 59, 60, 61, 100)],
    "int_widths": ["SELECT %s, pg_typeof(%s)" % (v, v) for v in
                   ("1", "2147483647", "2147483648", "9223372036854775807",
                    "9223372036854775808", "12345678901234567890123", "007", "0")],
    "decimals": ["SELECT %s + 1, pg_typeof(%s)" % (v, v) for v in ("1.5", ".25", "3.", "0.000001")],
    "ordinals": ["SELECT id, name FROM shp WHERE id < 6 ORDER BY %d DESC, 1" % k for k in (1, 2, 1)],
    "group_ordinal": ["SELECT g, count(*) FROM shp WHERE id <= %d GROUP BY 1 ORDER BY 1" % n
                      for n in (10, 30, 60)],
    "limit_offset": ["SELECT id FROM shp ORDER BY id LIMIT %d OFFSET %d" % (l, o)
                     for l, o in ((3, 0), (2, 10), (5, 58), (1, 100))],
    "strings": ["SELECT id FROM shp WHERE name = '%s' ORDER BY id" % s
                for s in ("n1", "it''s", "", "n60", "''''")],
    "string_values": ["SELECT '%s', length('%s')" % (s, s) for s in ("a", "it''s", "", "héllo")],
    "typed_literals": ["SELECT date '%s' + 1, interval '%s'" % (d, i)
                       for d, i in (("2024-02-28", "1 day"), ("2023-12-31", "2 hours"))],
    "in_lists": ["SELECT count(*) FROM shp WHERE id IN (%d, %d, %d)" % t
                 for t in ((1, 2, 3), (1, 1, 1), (70, 80, 60))],
    "negative": ["SELECT id FROM shp WHERE id > -%d AND id < %d ORDER BY id" % (a, b)
                 for a, b in ((1, 3), (5, 2))],
    "arithmetic": ["SELECT %d / %d, %d %% %d" % (a, b, a, b) for a, b in ((7, 2), (-7, 2), (9, 3))],
    "update_delete": ["UPDATE shp SET big = big + %d WHERE id = %d" % (d, i) for d, i in ((1, 5), (2, 6))] +
                     ["SELECT big FROM shp WHERE id IN (5, 6) ORDER BY id"],
    "errors": ["SELECT id FROM shp WHERE id = %s" % v for v in ("1", "'x'", "'12'", "3")] +
              ["SELECT 1/%d" % v for v in (1, 0, 2)] +
              ["SELECT name FROM shp WHERE id = 100 AND nope = %d" % v for v in (1, 22222)],
}


# Groups whose statements use what NextDB lacks so far (issue 4): compared with a
# fresh NextDB connection only.
KNOWN_GAPS = {
    "int_widths": "pg_typeof, numeric",
    "decimals": "numeric literals are not exact decimals yet",
    "typed_literals": "date and interval types",
    "errors": "the cursor position of a bad integer literal points at the operator",
}


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else cur.rowcount
        types = [d.type_code for d in cur.description] if cur.description else None
        return ("ok", rows, types)
    except psycopg2.Error as e:
        conn.rollback()
        return ("error", e.pgcode, e.diag.statement_position)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def conns(server, pg_reference):
    out = []
    for srv in (server, pg_reference, server):
        c = psycopg2.connect(srv.dsn)
        c.autocommit = True
        for sql in SETUP:
            with c.cursor() as cur:
                cur.execute(sql)
        out.append(c)
    yield out
    for c in out:
        c.close()


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_same_shape_other_literals(server, conns, group):
    nx, pg, _ = conns
    for sql in GROUPS[group]:
        got = _run(nx, sql)
        want = _run(pg, sql)
        if not sql.startswith("SELECT"):
            assert got == want, "%s\n  NextDB:     %r\n  PostgreSQL: %r" % (sql, got, want)
            continue            # a write runs once; the SELECT after it checks the effect
        fresh_conn = psycopg2.connect(server.dsn)
        fresh_conn.autocommit = True
        try:
            fresh = _run(fresh_conn, sql)
        finally:
            fresh_conn.close()
        assert got == fresh, "%s\n  reused parse: %r\n  fresh parse:  %r" % (sql, got, fresh)
        if group not in KNOWN_GAPS:
            assert got == want, "%s\n  NextDB:     %r\n  PostgreSQL: %r" % (sql, got, want)
