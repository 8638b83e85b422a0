"""test_sql_numeric.py -- PostgreSQL's exact numeric type: literals, text input and
output (scale kept), numeric(p,s) rounding and overflow, arithmetic result scales,
division, functions, casts, aggregates over a table spread over both shards, GROUP BY
and DISTINCT on numeric (1.0 = 1.00), a numeric column surviving a restart, and
psycopg 3 binary results and parameters (Decimal). Every query runs on the server
under test and on a reference PostgreSQL 15; result text, or SQLSTATE + message +
detail, must be equal."""
import decimal

import psycopg
import psycopg2
import psycopg2.extensions
import pytest


SETUP = [
    "DROP TABLE IF EXISTS num_t",
    "CREATE TABLE num_t (k int PRIMARY KEY, g int, n numeric, p numeric(8,3), i8 bigint, i4 int)",
    "INSERT INTO num_t SELECT x, x % 3, x * 1.25, x / 7.0, x * 1000000000000, x FROM generate_series(1, 40) x",
    "INSERT INTO num_t VALUES (41, 0, 1.0, 1.00, NULL, NULL), (42, 1, 1.00, 1, 9223372036854775807, 2147483647), "
    "(43, 2, NULL, NULL, 9223372036854775807, -5)",
]

# numeric as its text form, so scales are compared exactly
_NUMTEXT = psycopg2.extensions.new_type((1700,), "NUMTEXT", lambda v, c: v)


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.diag.message_primary, e.diag.message_detail)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for c in (ours, ref):
        psycopg2.extensions.register_type(_NUMTEXT, c)
        for sql in SETUP:
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for c in (ours, ref):
        _run(c, "DROP TABLE IF EXISTS num_t")
        c.close()


QUERIES = [
    # literals and text input / output
    "SELECT 1.5, 1e3, 1.50, -0.000, 12345678901234567890123, .5, 5., 1.5e-3, 2E+2",
    "SELECT '  1.2300e2 '::numeric, 'NaN'::numeric, 'Infinity'::numeric, '-inf'::numeric, '+inf'::numeric",
    "SELECT 'x'::numeric",
    "SELECT '1e'::numeric",
    "SELECT '1.2.3'::numeric",
    "SELECT '1e1001'::numeric = 1e1001, '1e131072'::numeric",
    "SELECT '1e2147483648'::numeric",
    "SELECT '-NaN'::numeric",
    "SELECT 0.1 + 0.2, 1.50 * 2.0, 10 - 0.001, -1.5 * -2, 1.0 = 1.00, 2.50 > 2.5, 0.0 = -0.0",
    # numeric(p,s): rounding half away from zero, overflow with PostgreSQL's detail
    "SELECT 123.455::numeric(5,2), -123.455::numeric(5,2), 0.5::numeric(1,0), 12345::numeric(3,-2), 0.0001::numeric(3,3)",
    "SELECT 999.995::numeric(5,2)",
    "SELECT 10::numeric(1,0)",
    "SELECT 0.5::numeric(2,2) , 1::numeric(3,3)",
    "SELECT 'inf'::numeric(5,2)",
    "SELECT 'NaN'::numeric(3,1)",
    "SELECT 1::numeric(0,0)",
    "SELECT 1::numeric(1001)",
    # division and the select_div_scale rules
    "SELECT 1/3::numeric, 1/7.0, 100/3.0, 1.0/3000000, 12345678.9/0.0001, 2/3::numeric(10,4), 1e20/3",
    "SELECT 10000000000000000000000::numeric / 7, 1.00000000000000000001 / 3, 5.0 / 2",
    "SELECT 7.0 / 0",
    "SELECT 7.0 % 0",
    "SELECT 10 % 3.5, -10 % 3.5, 10.5 % -3, mod(10.5, 3), div(10.5, 3), div(-7.5, 2)",
    "SELECT 'inf'::numeric + 1, 'inf'::numeric - 'inf'::numeric, 'nan'::numeric * 0, 0 * 'inf'::numeric, "
    "1 / 'inf'::numeric, 5 % 'inf'::numeric, -'inf'::numeric",
    # casts
    "SELECT 2.5::int, (-2.5)::int4, 3.4999::int8, 32767.5::int2",
    "SELECT 32767.5::int2",
    "SELECT 2147483647.5::int4",
    "SELECT 'NaN'::numeric::int4",
    "SELECT 'inf'::numeric::int8",
    "SELECT 1.5::float8, 1.5::float4, 1.23456789012345678::float8::numeric, 0.1::float4::numeric, "
    "'NaN'::float8::numeric, 12.50::text, '3.140'::text::numeric, 7::numeric, 1.5::varchar",
    "SELECT 2::numeric + 1.5::float8, 1.5::float8 * 1.5, 1 + 1.5, 3000000000 * 1.5",
    # denormal results are kept, underflow to zero and overflow are 22003
    "SELECT 1e-40::real, '1e-40'::real, 1e-310::float8, '4e-320'::float8",
    "SELECT 1e-50::real",
    "SELECT '1e-400'::float8",
    "SELECT 1e39::real",
    # functions
    "SELECT round(2.5), round(-2.5), round(1.2345, 2), round(1.5, 3), round(1234.5, -2), round(-0.4)",
    "SELECT trunc(2.7), trunc(-2.789, 2), trunc(1234.5, -2), ceil(1.2), ceil(-1.2), floor(-1.2), ceiling(0.1)",
    "SELECT abs(-1.50), sign(-2.5), sign(0.0), sign(3.1)",
    "SELECT sqrt(2.0), sqrt(16.00), sqrt(0.0001), sqrt(1e10), sqrt(123456789.123)",
    "SELECT sqrt(-1.0)",
    "SELECT power(2.0, 10), power(1.5, 3), power(2::numeric, -2), 2.0 ^ 3, 2 ^ 3, (-2.0) ^ 3, power(10.0, -20)",
    "SELECT scale(1.500), min_scale(1.500), trim_scale(1.500), trim_scale(100.000), scale(0.0)",
    "SELECT greatest(1, 2.5, 3::int8), least(1.5, 0.5::numeric(3,1)), coalesce(NULL, 1.5, 2), "
    "CASE WHEN true THEN 1 ELSE 2.5 END",
    # a table over both shards: aggregates split into per-shard partials
    "SELECT sum(n), avg(n), min(p), max(n), count(n), sum(p), avg(p) FROM num_t",
    "SELECT sum(i8), avg(i8), sum(i4), avg(i4) FROM num_t",
    "SELECT g, sum(n), avg(p), sum(i8), avg(i4) FROM num_t GROUP BY g ORDER BY g",
    "SELECT n, count(*) FROM num_t WHERE n < 3 GROUP BY n ORDER BY n",
    "SELECT DISTINCT p FROM num_t WHERE p <= 1 ORDER BY p",
    "SELECT count(*) FROM num_t WHERE n IN (1, 2.5, 5.000)",
    "SELECT k, n * p, n / p, n - p FROM num_t WHERE k IN (1, 7, 41) ORDER BY k",
    "SELECT k FROM num_t ORDER BY n DESC NULLS LAST, k LIMIT 5",
    "SELECT a.k, b.k FROM num_t a JOIN num_t b ON a.n = b.p WHERE a.k > 40 ORDER BY 1, 2",
    "SELECT sum(x), avg(x), sum(x::int8), avg(x::numeric) FROM generate_series(1, 10) x",
    "SELECT sum(x::numeric) FROM generate_series(1, 0) x",
    "INSERT INTO num_t (k, p) VALUES (100, 123456.7891)",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_numeric_matches_postgres(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql)


def test_numeric_typmod_in_table(pair):
    ours, ref = pair
    for sql in ["DROP TABLE IF EXISTS num_m",
                "CREATE TABLE num_m (k int PRIMARY KEY, a numeric(6,2), b decimal(4))",
                "INSERT INTO num_m VALUES (1, 1.005, 2.5), (2, -9999.994, 9999.4)",
                "INSERT INTO num_m VALUES (3, 10000, 1)",
                "UPDATE num_m SET a = a * 10 WHERE k = 1",
                "SELECT * FROM num_m ORDER BY k",
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'num_m'::regclass AND attnum > 0 ORDER BY attnum",
                "DROP TABLE num_m"]:
        assert _run(ours, sql) == _run(ref, sql), sql


def test_numeric_primary_key_survives_restart(server_factory):
    """Numeric primary keys (scale-free, order-preserving keys) are found again after a
    restart, by any display scale of the value (test_sql_numeric_types.py compares
    their behaviour with PostgreSQL)."""
    server = server_factory("numeric_pk_restart")
    server.start()
    conn = server.connect(autocommit=True)
    psycopg2.extensions.register_type(_NUMTEXT, conn)
    _run(conn, "CREATE TABLE num_pk (k numeric PRIMARY KEY, v int)")
    _run(conn, "INSERT INTO num_pk SELECT g / 8.0, g FROM generate_series(-40, 40) g")
    want = _run(conn, "SELECT * FROM num_pk ORDER BY k")
    conn.close()
    server.restart()
    conn = server.connect(autocommit=True)
    psycopg2.extensions.register_type(_NUMTEXT, conn)
    try:
        assert _run(conn, "SELECT * FROM num_pk ORDER BY k") == want
        assert _run(conn, "SELECT v FROM num_pk WHERE k = 1.25000")[1] == [(10,)]
        assert _run(conn, "INSERT INTO num_pk VALUES (-0.500, 0)")[1] == "23505"
        _run(conn, "DROP TABLE num_pk")
    finally:
        conn.close()


def test_numeric_column_survives_restart(server_factory):
    server = server_factory("numeric_restart")
    server.start()
    conn = server.connect(autocommit=True)
    psycopg2.extensions.register_type(_NUMTEXT, conn)
    _run(conn, "DROP TABLE IF EXISTS num_r")
    _run(conn, "CREATE TABLE num_r (k int PRIMARY KEY, v numeric, a numeric[])")
    _run(conn, "INSERT INTO num_r VALUES (1, 1.50, ARRAY[1.5, 2]), (2, -12345678901234567890.0001, '{0.001,NULL}'),"
               " (3, 'NaN', '{-3.250}'), (4, NULL, NULL)")
    want = _run(conn, "SELECT * FROM num_r ORDER BY k")
    assert want[1][0][:2] == (1, "1.50")
    conn.close()
    server.restart()
    conn = server.connect(autocommit=True)
    psycopg2.extensions.register_type(_NUMTEXT, conn)
    try:
        assert _run(conn, "SELECT * FROM num_r ORDER BY k") == want
        _run(conn, "DROP TABLE num_r")
    finally:
        conn.close()


def test_psycopg3_binary_numeric(server, pg_reference):
    values = ["0", "1.50", "-12345678901234567890.000123", "0.00001", "10000", "NaN", "123.4500"]
    rows = {}
    for name, srv in (("ours", server), ("ref", pg_reference)):
        with psycopg.connect(srv.dsn, autocommit=True) as c:
            with c.cursor(binary=True) as cur:
                cur.execute("SELECT v::numeric, v::numeric * 2, 1/3::numeric FROM unnest(%s::text[]) v",
                            (values,))
                assert cur.pgresult.fformat(0) == 1
                got = cur.fetchall()
                cur.execute("SELECT %b::numeric + 1, %b::numeric", (decimal.Decimal("2.250"), decimal.Decimal("-0.5")))
                got.append(cur.fetchone())
            rows[name] = [tuple(str(x) for x in r) for r in got]
    assert rows["ours"] == rows["ref"]
    assert isinstance(got[0][0], decimal.Decimal)
