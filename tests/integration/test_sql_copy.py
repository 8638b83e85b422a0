"""test_sql_copy.py -- COPY through psycopg2 (CopyInResponse / CopyOutResponse /
CopyData / CopyDone / CopyFail) and psycopg 3's copy API, checked against
PostgreSQL 15 fed the same data: COPY FROM STDIN in the text format (escapes, NULL
markers, column lists with defaults, the end marker, chunks cut in the middle of
lines, errors, the session staying usable) and the csv format (quotes, escapes,
embedded newlines, HEADER / HEADER MATCH, FORCE_NOT_NULL / FORCE_NULL, errors with
their CONTEXT line); COPY table / (query) TO STDOUT byte for byte for many types in
both formats with their options, option errors, and a large table streamed out."""
import io

import psycopg

import psycopg2
import pytest

TABLE = "CREATE TABLE cp_t (a int PRIMARY KEY, b text, c char(5) DEFAULT 'd', r real)"


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    yield ours, ref
    ours.close()
    ref.close()


def copy(conn, sql, data, chunk=8192):
    cur = conn.cursor()
    try:
        # psycopg2 sends `size` bytes per CopyData: small sizes cut lines and escapes
        cur.copy_expert(sql, io.BytesIO(data.encode()), size=chunk)
        return ("ok", cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


def rows(conn):
    cur = conn.cursor()
    cur.execute("SELECT a, b, c, r FROM cp_t ORDER BY a")
    out = cur.fetchall()
    cur.close()
    return out


def fresh(pair):
    for c in pair:
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS cp_t")
        cur.execute(TABLE)
        cur.close()


@pytest.mark.parametrize("chunk", [3, 8192])
def test_copy_text_matches_postgres(pair, chunk):
    fresh(pair)
    data = ("1\thello\tx\t1.5\n"
            "2\t\\N\t\\\\N\t\\N\n"
            "3\tt\\tab\\x41\\101\\\\\tz\t-2\n"
            "4\tline\\nbreak\\r\t\t0\n"
            "5\t\t\t3e2\n")
    for c in pair:
        assert copy(c, "COPY cp_t FROM STDIN", data, chunk) == ("ok", 5)
    assert rows(pair[0]) == rows(pair[1])
    data = "6\tsix\n7\t\\N\n\\.\nthis is ignored\n"
    for c in pair:
        assert copy(c, "COPY cp_t (a, b) FROM STDIN WITH (FORMAT text)", data, chunk) == ("ok", 2)
    data = "8|x|y\n9|NIL|z\n"
    for c in pair:
        assert copy(c, "COPY cp_t (a, b, c) FROM STDIN WITH (DELIMITER '|', NULL 'NIL')", data, chunk) == ("ok", 2)
    assert rows(pair[0]) == rows(pair[1])


@pytest.mark.parametrize("data", [
    "10\tq\tx\t1\textra\n",        # 22P04 extra data
    "10\tq\tx\t1\r\n",             # 22P04 CR after LF lines
    "10\tq\rr\tx\t1\n",            # 22P04 raw CR
    "10\tq\n",                     # 22P04 missing data
    "x\tq\tx\t1\n",                # 22P02
    "10\tq\ttoolong\t1\n",         # 22001
    "1\tdup\tx\t1\n",              # 23505 (row 1 is there)
])
def test_copy_errors_match_postgres(pair, data):
    fresh(pair)
    for c in pair:
        assert copy(c, "COPY cp_t FROM STDIN", "1\ta\tb\t1\n") == ("ok", 1)
    good = "".join("%d\tok\tx\t1\n" % k for k in range(100, 3100))
    got = [copy(c, "COPY cp_t FROM STDIN", good + data) for c in pair]
    assert got[0] == got[1] and got[0][0] == "error", got
    assert rows(pair[0]) == rows(pair[1])   # nothing of the failed COPY stays


def test_copy_in_block_and_refusals(pair):
    ours, ref = pair
    fresh(pair)
    cur = ours.cursor()
    cur.execute("BEGIN")
    cur.copy_expert("COPY cp_t (a) FROM STDIN", io.BytesIO(b"1\n2\n"))
    cur.execute("SELECT count(*) FROM cp_t")
    assert cur.fetchone() == (2,)
    cur.execute("ROLLBACK")
    cur.execute("SELECT count(*) FROM cp_t")
    assert cur.fetchone() == (0,)
    for sql in ["COPY cp_t TO '/tmp/x'", "COPY cp_t FROM '/etc/passwd'", "COPY cp_t FROM STDIN WITH (FORMAT binary)",
                "COPY cp_t TO STDOUT WITH (FORMAT binary)"]:
        with pytest.raises(psycopg2.Error) as ei:
            cur.copy_expert(sql, io.BytesIO(b""))
        assert ei.value.pgcode == "0A000", sql
    cur.execute("SELECT 1")    # the session is still in step
    assert cur.fetchone() == (1,)
    cur.close()


# ---- csv input ----

CF_TABLE = "CREATE TABLE cf (a int PRIMARY KEY, b text, c text DEFAULT 'dflt', d numeric)"
CSV_IN = [
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '1,x,y,1.5\n2,,"",\n3,"a,b","q""t",-0\n4,"l\nn",\\.x,1e3\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, HEADER)", 'a,b,c,d\n5,x,y,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, HEADER match)", 'a,b,c,d\n6,x,y,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, HEADER match)", 'a,b,x,d\n7,x,y,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, HEADER match)", 'a,b,c\n7,x,y,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, HEADER match)", 'a,b,c,d,e,f\n7,x,y,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, HEADER match)", 'a,,c,d\n7,x,y,1\n'),
    ("COPY cf (a, b) FROM STDIN WITH (FORMAT csv, HEADER match)", 'a,b\n8,x\n'),
    ("COPY cf FROM STDIN WITH (FORMAT text, HEADER match)", 'a\tb\tc\td\n9\tx\ty\t1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, QUOTE '''', ESCAPE '\\')", "10,'it\\'s','back\\\\s',2\n"),
    ("COPY cf FROM STDIN WITH (FORMAT csv, NULL 'NULL', FORCE_NOT_NULL (b), FORCE_NULL (c))",
     '11,NULL,"NULL",NULL\n12,,"",\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (b, c))", '13,,,\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, FORCE_NULL (b, c))", '14,"","x",\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, FORCE_NULL (zz))", '15,"","x",\n'),
    ("COPY cf (a) FROM STDIN WITH (FORMAT csv, FORCE_NULL (b))", '15\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '16,"unterminated,x,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '18,"a\rb",x,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '19,a,x,1\r\n20,"b\r\nc",y,2\r\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '21,a,x\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '22,a,x,1,2\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv, DELIMITER '|')", '23|a,b|"x|y"|1\n\\.\n24|ignored\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '25,"\\.",x,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '26,  spaced  , "q" ,1\n'),
    ("COPY cf FROM STDIN CSV HEADER", 'hdr\n27,x,y,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '28,a"b,x,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '29,"ab"cd,x,1\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", ''),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '30,x,y,notnum\n'),
    ("COPY cf FROM STDIN WITH (FORMAT csv)", '31,x,y,1\n32,y,y,%s\n' % ("9x" * 70)),
]


def copy_in_full(conn, sql, data, chunk):
    """("ok", rows) or ("error", SQLSTATE, message, CONTEXT)."""
    cur = conn.cursor()
    try:
        cur.copy_expert(sql, io.BytesIO(data.encode()), size=chunk)
        return ("ok", cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary, e.diag.context)
    finally:
        cur.close()


@pytest.mark.parametrize("chunk", [5, 8192])
def test_copy_csv_from_matches_postgres(pair, chunk):
    for c in pair:
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS cf")
        cur.execute(CF_TABLE)
        cur.close()
    for sql, data in CSV_IN:
        got = [copy_in_full(c, sql, data, chunk) for c in pair]
        assert got[0] == got[1], (sql, data)
    res = []
    for c in pair:
        cur = c.cursor()
        cur.execute("SELECT * FROM cf ORDER BY a")
        res.append(cur.fetchall())
        cur.execute("DROP TABLE cf")
        cur.close()
    assert res[0] == res[1] and len(res[0]) > 15


# ---- COPY TO ----

TY_TABLE = """CREATE TABLE cp_ty (id int PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 double precision,
    n numeric(10,3), b bool, t text, vc varchar(10), ch char(4), d date, ts timestamp, tz timestamptz, iv interval,
    j jsonb, js json, by bytea, ia int[], ta text[], u uuid, tm time)"""
TY_ROWS = r"""INSERT INTO cp_ty VALUES
 (1, 1, 9000000000, 1.5, 0.1, 3.14159, true, E'a\tb\\c\nd\re', 'v', 'ab', '2024-02-29', '2024-01-02 03:04:05.678',
  '2024-06-01 12:00:00+00', '1 year 2 mons 3 days 04:05:06.7', '{"k": [1, "x\"y", null], "a": 1.50}', '{ "raw" : 1 }',
  E'\\x00ff5c0a', '{1,NULL,3}', '{"a b","c,d","e\"f",NULL,"NULL"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '23:59:59.999'),
 (2, NULL, NULL, 'NaN', '-Infinity', -0.5, false, '', '', '', 'infinity', '-infinity', 'infinity', '-1 days', 'null',
  '[]', '', '{}', '{}', NULL, '00:00'),
 (3, -32768, -9223372036854775808, 1e-30, 1.7976931348623157e308, 1234567.891, NULL, E'\\.', 'x,y', ' "',
  '0001-01-01 BC', '1999-12-31 23:59:59', '1970-01-01 00:00:00+05:30', '00:00:00', '"s"', '"s"', E'\\x', '{-1}',
  '{"\\\\"}', '00000000-0000-0000-0000-000000000000', '12:34:56.123456'),
 (4, 0, 0, -0, -0, 0, true, E'\x01\x1f', 'é', 'ü', '2000-01-01', '2000-01-01', '2000-01-01',
  '-1 year -2 mons +3 days -04:05:06', '{}', '{}', '\x5c', NULL, '{""}', NULL, NULL)"""
COPY_OUT = [
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT",
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT WITH (FORMAT text, HEADER)",
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)",
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (t, j), NULL 'N', DELIMITER ';',"
    " QUOTE '''', ESCAPE '\\')",
    "COPY (SELECT t FROM cp_ty ORDER BY id) TO STDOUT WITH (FORMAT csv)",
    "COPY (SELECT t AS \"we,ird\" FROM cp_ty ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
    "COPY (SELECT t, 1 + 1, count(*) OVER () FROM cp_ty ORDER BY id) TO STDOUT WITH (HEADER)",
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT WITH (DELIMITER '|', NULL '')",
    "COPY (SELECT * FROM cp_ty ORDER BY id) TO STDOUT WITH (DELIMITER E'\\x01')",
    "COPY (SELECT 1 WHERE false) TO STDOUT",
    "COPY (VALUES (1, 'a'), (2, NULL)) TO STDOUT WITH (FORMAT csv, HEADER)",
    "COPY cp_ty (t, id) TO STDOUT",
    "COPY cp_ty (id, t) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (t))",
    # errors
    "COPY (SELECT 1/0) TO STDOUT",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, HEADER match)",
    "COPY cp_ty TO STDOUT WITH (FORCE_QUOTE (t))",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, FORCE_NOT_NULL (t))",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (zz))",
    "COPY cp_ty (id) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE (t))",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, DELIMITER ',', QUOTE ',')",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, NULL 'a,b')",
    "COPY cp_ty TO STDOUT WITH (DELIMITER 'a')",
    "COPY cp_ty TO STDOUT WITH (FORMAT xml)",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, FORMAT csv)",
    "COPY cp_ty TO STDOUT WITH (bogus 1)",
    "COPY cp_ty TO STDOUT WITH (QUOTE 'x')",
    "COPY cp_ty TO STDOUT WITH (FORMAT csv, QUOTE 'xx')",
    "COPY cp_ty TO STDOUT WITH (HEADER 'maybe')",
    "COPY cp_ty (zz) TO STDOUT",
]


def copy_out(conn, sql):
    cur = conn.cursor()
    try:
        b = io.BytesIO()
        cur.copy_expert(sql, b)
        return ("ok", b.getvalue(), cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def typed(pair):
    for c in pair:
        cur = c.cursor()
        cur.execute("SET TimeZone = 'America/New_York'")
        cur.execute("DROP TABLE IF EXISTS cp_ty")
        cur.execute(TY_TABLE)
        cur.execute(TY_ROWS)
        cur.close()
    yield pair
    for c in pair:
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS cp_ty")
        cur.execute("RESET TimeZone")
        cur.close()


@pytest.mark.parametrize("sql", COPY_OUT, ids=range(len(COPY_OUT)))
def test_copy_to_matches_postgres(typed, sql):
    a, b = [copy_out(c, sql) for c in typed]
    if "ORDER BY" not in sql and a[0] == "ok" and b[0] == "ok":
        # a whole table comes out in storage order: compare the lines as sets
        a = (a[0], sorted(a[1].split(b"\n")), a[2])
        b = (b[0], sorted(b[1].split(b"\n")), b[2])
    assert a == b


def test_copy_to_large_table_streams(pair):
    """100 000 rows through COPY t TO STDOUT (no ORDER BY: the scan streams), equal to
    PostgreSQL's as a set of lines."""
    out = []
    for c in pair:
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS cp_big")
        cur.execute("CREATE TABLE cp_big (id int PRIMARY KEY, s text, x numeric)")
        cur.execute("INSERT INTO cp_big SELECT g, 'row ' || g || E'\\t!', g / 7.0 FROM generate_series(1, 100000) g")
        b = io.BytesIO()
        cur.copy_expert("COPY cp_big TO STDOUT WITH (FORMAT csv)", b)
        assert cur.rowcount == 100000
        out.append(sorted(b.getvalue().split(b"\n")))
        cur.execute("DROP TABLE cp_big")
        cur.close()
    assert out[0] == out[1] and len(out[0]) == 100001


def test_psycopg3_copy_api(server, pg_reference):
    """psycopg 3: write_row / write into COPY FROM STDIN, iterating and rows() out of
    COPY TO STDOUT, also with a bound parameter."""
    got = []
    for srv in (server, pg_reference):
        with psycopg.connect(srv.dsn, autocommit=True) as c, c.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS cp_p3")
            cur.execute("CREATE TABLE cp_p3 (id int PRIMARY KEY, name text, amount numeric)")
            with cur.copy("COPY cp_p3 (id, name, amount) FROM STDIN") as cp:
                for i in range(1, 3001):
                    cp.write_row((i, "n\t%d" % i if i % 7 else None, i / 4))
            with cur.copy("COPY cp_p3 FROM STDIN WITH (FORMAT csv)") as cp:
                cp.write(b'5001,"csv, row",1.25\n')
            summary = cur.execute("SELECT count(*), count(name), sum(amount) FROM cp_p3").fetchone()
            data = b""
            with cur.copy("COPY (SELECT * FROM cp_p3 ORDER BY id LIMIT 50) TO STDOUT") as cp:
                for chunk in cp:
                    data += bytes(chunk)
            with cur.copy("COPY (SELECT id, name FROM cp_p3 WHERE id > %s ORDER BY id) TO STDOUT WITH (FORMAT csv)",
                          (2990,)) as cp:
                csv_rows = [bytes(chunk) for chunk in cp]
            with cur.copy("COPY (SELECT * FROM cp_p3 ORDER BY id LIMIT 5) TO STDOUT") as cp:
                cp.set_types(["int4", "text", "numeric"])
                typed_rows = list(cp.rows())
            cur.execute("DROP TABLE cp_p3")
            got.append((summary, data, csv_rows, typed_rows))
    assert got[0] == got[1]
    assert got[0][0][0] == 3001 and len(got[0][2]) == 11


def test_psql_backslash_copy_both_ways(server, pg_reference, tmp_path):
    """psql's \\copy to a client-side file and back into a table, in csv and text: the
    files and the reloaded table are equal to PostgreSQL's."""
    import os
    os.chmod(tmp_path, 0o777)
    results = []
    for name, srv in (("ours", server), ("ref", pg_reference)):
        f1, f2 = str(tmp_path / (name + ".csv")), str(tmp_path / (name + ".txt"))
        script = f"""
DROP TABLE IF EXISTS cp_ps;
DROP TABLE IF EXISTS cp_ps2;
CREATE TABLE cp_ps (id int PRIMARY KEY, name text, note text, amount numeric(8,2));
INSERT INTO cp_ps SELECT g, 'n' || g, CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN E'a,"b"\\nc'
  ELSE E'tab\\there' END, g * 1.25 FROM generate_series(1, 500) g;
\\copy (SELECT * FROM cp_ps ORDER BY id) TO '{f1}' WITH (FORMAT csv, HEADER)
\\copy (SELECT * FROM cp_ps ORDER BY id) TO '{f2}'
CREATE TABLE cp_ps2 (id int PRIMARY KEY, name text, note text, amount numeric(8,2));
\\copy cp_ps2 FROM '{f1}' WITH (FORMAT csv, HEADER match)
UPDATE cp_ps2 SET id = id + 1000;
\\copy cp_ps2 FROM '{f2}'
SELECT count(*), count(note), sum(amount) FROM cp_ps2;
SELECT id, note FROM cp_ps2 WHERE id IN (1, 2, 1001, 1002) ORDER BY id;
DROP TABLE cp_ps;
DROP TABLE cp_ps2;
"""
        out = srv.psql(script)
        with open(f1, "rb") as fh1, open(f2, "rb") as fh2:
            results.append((out, fh1.read(), fh2.read()))
    assert results[0] == results[1]
    assert b'"a,""b""\nc"' in results[0][1]
