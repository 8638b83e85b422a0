"""test_sql_numeric_types.py -- PostgreSQL 15's result types and digits: extract
(numeric, with PostgreSQL's scales, on date / time / timestamp / timestamptz /
interval, infinities, errors) next to date_part (double precision); the stddev /
variance family (numeric of int2 / int4 / int8 / numeric with PostgreSQL's exact
digits, double of float4 / float8, grouped, as window functions, NaN / Infinity,
one row, no rows); sum / avg of interval; width_bucket; jsonb -> numeric; the other exec_agg_ext
aggregates as window functions. Every query runs on the server under test and on a
reference PostgreSQL 15; the answers (as text, so digits and scales count) and the
result column type OIDs must be equal, errors must carry PostgreSQL's SQLSTATE and
message."""
import psycopg2
import psycopg2.extensions
import pytest

SETUP = [
    "CREATE TABLE nt_v (id int PRIMARY KEY, a int2, b int4, c int8, d numeric, e float4, f float8, g int)",
    "INSERT INTO nt_v SELECT i, (i * 7) % 23, i * i, i::int8 * 1000000007, (i * 1.25 + i % 3 * 0.001)::numeric,"
    " i / 3.0, i * 1.1, i % 4 FROM generate_series(1, 50) i",
    "INSERT INTO nt_v VALUES (51, NULL, NULL, NULL, NULL, NULL, NULL, 0), (52, 5, 5, 5, 5, 5, 5, 9),"
    " (53, 5, 5, 5, 5.00, 5, 5, 9), (54, -3, -3, -9223372036854775807, 123456789.123456789, 1, 1, 10)",
]
DROP = ["DROP TABLE IF EXISTS nt_v"]


def _text(conn):
    """Every column as its text form: digits and scales are compared, not values."""
    for oid in (700, 701, 1700, 1082, 1083, 1114, 1184, 1186, 20, 21, 23):
        t = psycopg2.extensions.new_type((oid,), "T%d" % oid, lambda v, c: v)
        psycopg2.extensions.register_type(t, conn)
    return conn


def _run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        if cur.description is None:
            return ("ok", None, None)
        return ("ok", [(d[0], d[1]) for d in cur.description], cur.fetchall())
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else "")
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = _text(server.connect(autocommit=True))
    ref = _text(pg_reference.connect(autocommit=True))
    for c in (ours, ref):
        for sql in DROP + SETUP:
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for c in (ours, ref):
        for sql in DROP:
            _run(c, sql)
    ours.close()
    ref.close()


EXTRACT = [
    "SELECT extract(epoch FROM timestamp '2024-06-01 10:00'), extract(epoch FROM timestamp '2024-06-01 10:00:01.123456'),"
    " extract(second FROM timestamp '2024-06-01 10:00:05.5'), extract(milliseconds FROM timestamp '2024-06-01 10:00:05.5'),"
    " extract(microseconds FROM timestamp '2024-06-01 10:00:05.5')",
    "SELECT extract(year FROM timestamp '2024-06-01 10:00'), extract(dow FROM timestamp '2024-06-01'),"
    " extract(julian FROM timestamp '2024-06-01 10:00'), extract(julian FROM timestamp '1999-01-01 00:00:00.000001'),"
    " extract(julian FROM date '2024-06-01'), extract(julian FROM timestamp '1900-03-04 23:59:59.999999')",
    "SELECT extract(epoch FROM date '2024-03-01'), extract(year FROM date '2024-03-01'), extract(doy FROM date '2024-03-01'),"
    " extract(epoch FROM date '1950-07-14')",
    "SELECT extract(hour FROM date '2024-03-01')",
    "SELECT extract(foo FROM date '2024-03-01')",
    "SELECT extract(foo FROM timestamp '2024-03-01')",
    "SELECT extract(timezone FROM timestamp '2024-03-01')",
    "SELECT extract(epoch FROM time '10:00:01.5'), extract(second FROM time '10:00:01.5'), extract(hour FROM time '10:00:01.5'),"
    " extract(ms FROM time '10:00:01.5'), extract(microsecond FROM time '23:59:59.999999')",
    "SELECT extract(epoch FROM interval '1 year 2 months 3 days 04:05:06.7'), extract(second FROM interval '-1 day -00:00:06.25'),"
    " extract(month FROM interval '14 months'), extract(epoch FROM interval '-3 hours'), extract(ms FROM interval '1.5 sec')",
    "SELECT extract(epoch FROM timestamp 'infinity'), extract(year FROM timestamp '-infinity'), extract(hour FROM timestamp 'infinity'),"
    " extract(epoch FROM date 'infinity'), extract(month FROM date '-infinity')",
    "SELECT date_part('epoch', timestamp '2024-06-01 10:00'), date_part('second', time '10:00:01.5'), date_part('year', date '2024-01-01'),"
    " date_part('epoch', interval '1 day 1.5 sec')",
    "SELECT extract(year FROM timestamp '0044-03-15 BC'), extract(century FROM date '2000-12-31'), extract(isoyear FROM date '2021-01-01'),"
    " extract(week FROM date '2021-01-01'), extract(quarter FROM timestamp '2024-08-01'), extract(millennium FROM date '2001-01-01')",
    "SELECT extract(epoch FROM timestamp '1969-12-31 23:59:59.5'), extract(second FROM timestamp '1969-12-31 23:59:59.5')",
]


@pytest.mark.parametrize("sql", EXTRACT)
def test_extract(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql), sql


def test_extract_timestamptz(pair):
    ours, ref = pair
    sql = ("SELECT extract(epoch FROM timestamptz '2024-06-01 10:00+00'), extract(hour FROM timestamptz '2024-06-01 10:00+00'),"
           " extract(timezone FROM timestamptz '2024-06-01 10:00+00'), extract(julian FROM timestamptz '2024-06-01 02:00+00'),"
           " extract(second FROM timestamptz '2024-06-01 02:00:07.25+00')")
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        for c in pair:
            _run(c, "SET timezone = '%s'" % zone)
        assert _run(ours, sql) == _run(ref, sql), zone
    for c in pair:
        _run(c, "RESET timezone")


AGGS = [
    "SELECT stddev(a), stddev(b), stddev(c), stddev(d) FROM nt_v",
    "SELECT variance(a), variance(b), variance(c), variance(d) FROM nt_v",
    "SELECT stddev_pop(a), stddev_pop(b), stddev_pop(c), stddev_pop(d), var_pop(a), var_pop(b), var_pop(c), var_pop(d) FROM nt_v",
    "SELECT g, stddev(b), var_samp(d), stddev_pop(d), var_pop(c), stddev_samp(a) FROM nt_v GROUP BY g ORDER BY g",
    "SELECT stddev(x), variance(x), stddev_pop(x), var_pop(x) FROM (VALUES (1.5::numeric), (1.5)) t(x)",
    "SELECT stddev(x), variance(x), stddev_pop(x) FROM (VALUES (1)) t(x)",
    "SELECT stddev(x), variance(x) FROM (VALUES (1::numeric), ('NaN')) t(x)",
    "SELECT stddev(x), variance(x) FROM (VALUES (1::numeric), ('Infinity'), (2)) t(x)",
    "SELECT stddev(x), variance(x), var_pop(x) FROM (VALUES (0.000001::numeric), (0.000002), (0.0000035)) t(x)",
    "SELECT stddev(x), variance(x) FROM (VALUES (1e20::numeric), (1e20 + 1), (3e20)) t(x)",
    "SELECT stddev(x), var_pop(x) FROM (VALUES (2::int2), (3), (7), (-32768)) t(x)",
    "SELECT stddev(x) FROM (SELECT 1 WHERE false) t(x)",
    "SELECT stddev(x), variance(x), stddev_pop(x) FROM (VALUES (1.5::float4), (2.25), (0.1)) t(x)",
    "SELECT stddev(x), variance(x), var_pop(x) FROM (VALUES (1.5::float8), (2.25), (0.1), (1e10)) t(x)",
    "SELECT id, stddev(b) OVER (ORDER BY id ROWS 3 PRECEDING), variance(d) OVER (ORDER BY id) FROM nt_v WHERE id < 8",
    "SELECT x, bool_and(x > 1) OVER (ORDER BY x), bool_or(x > 2) OVER w, array_agg(x) OVER w, stddev(x) OVER w,"
    " var_pop(x::float8) OVER w, jsonb_agg(x) OVER (ORDER BY x ROWS 1 PRECEDING)"
    " FROM (VALUES (1),(2),(NULL),(4)) v(x) WINDOW w AS (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)",
    "SELECT k, jsonb_object_agg(k, v) OVER (ORDER BY k) FROM (VALUES ('a', 1), ('b', NULL)) t(k, v)",
    # sum / avg of interval and float4
    "SELECT sum(x), avg(x) FROM (VALUES ('1 day'::interval), ('2 hours'), ('1 mon 3 days 00:00:01.5'), (NULL)) v(x)",
    "SELECT sum(x), avg(x) FROM (VALUES ('1 day'::interval)) v(x) WHERE false",
    "SELECT avg(x) FROM (VALUES ('1 mon'::interval), ('1 day'), ('1 sec')) v(x)",
    "SELECT g, sum(x), avg(x) FROM (VALUES (1, '1 year'::interval), (1, '-3 mons'), (2, '10 min')) v(g, x) GROUP BY g",
    "SELECT x, sum(x) OVER (ORDER BY x), avg(x) OVER (ORDER BY x ROWS 1 PRECEDING)"
    " FROM (VALUES ('1 day'::interval), ('2 hours'), ('3 min')) v(x)",
    "SELECT sum(x) FROM (VALUES ('178000000 years'::interval), ('178000000 years')) v(x)",
    "SELECT sum(x::float4), avg(x::float4) FROM (VALUES (1.5), (2.25), (0.1)) v(x)",
]


@pytest.mark.parametrize("sql", AGGS)
def test_aggregates(pair, sql):
    ours, ref = pair
    a, b = _run(ours, sql), _run(ref, sql)
    if a[0] == "ok" and b[0] == "ok":
        a, b = a[:2] + (sorted(a[2], key=str),), b[:2] + (sorted(b[2], key=str),)
    assert a == b, sql


FUNCS = [
    "SELECT width_bucket(5.3, 0, 10, 4), width_bucket(-1, 0, 10, 4), width_bucket(10, 0, 10, 4), width_bucket(3, 10, 0, 4),"
    " width_bucket(10.5, 10, 0, 4), width_bucket(0, 10, 0, 4)",
    "SELECT width_bucket(5.3::float8, 0, 10, 4), width_bucket(-1::float8, 0, 10, 4), width_bucket(9.9999999999999999::float8, 0, 10, 3),"
    " width_bucket(3::float8, 10, 0, 7), width_bucket('infinity'::float8, 0, 1, 5), width_bucket(0.1::float8, 0, 0.3, 3)",
    "SELECT s.x, width_bucket(s.x::float8, -1.7, 3.3, 7), width_bucket(s.x, -1.7, 3.3, 7), width_bucket(s.x, 3.3, -1.7, 7)"
    " FROM generate_series(-20, 40) g, LATERAL (SELECT g / 10.0 AS x) s ORDER BY s.x",
    "SELECT width_bucket(1, 1, 1, 1)",
    "SELECT width_bucket(1, 0, 2, 0)",
    "SELECT width_bucket('NaN'::numeric, 0, 2, 3)",
    "SELECT width_bucket(1, 0, 'Infinity'::numeric, 3)",
    "SELECT width_bucket('Infinity'::numeric, 0, 5, 3)",
    "SELECT width_bucket(1::float8, 0, 'infinity', 3)",
    "SELECT width_bucket(5, 0, 1, 2147483647)",
    "SELECT width_bucket(5e300::float8, -1e308, 1e308, 10)",
    # jsonb -> numeric
    "SELECT ('{\"a\":1.5}'::jsonb -> 'a')::numeric, ('{\"a\":1.50}'::jsonb -> 'a')::numeric,"
    " ('{\"a\":1e3}'::jsonb -> 'a')::numeric, ('{\"a\":-0.000001}'::jsonb -> 'a')::numeric(10,2),"
    " ('{\"a\":12345678901234567890.123}'::jsonb -> 'a')::numeric, ('{\"a\":123.456}'::jsonb -> 'a')::numeric(5,1)",
    "SELECT ('{\"x\":\"2.5\"}'::jsonb ->> 'x')::numeric, ('{\"x\":2.5}'::jsonb ->> 'x')::numeric + 1,"
    " ('{\"x\":2.5}'::jsonb -> 'x')::numeric * 2, ('{\"a\":1.5}'::jsonb -> 'b')::numeric, '12.30'::jsonb::numeric AS n",
    "SELECT ('{\"a\":\"1.5\"}'::jsonb -> 'a')::numeric",
    "SELECT ('{\"a\":null}'::jsonb -> 'a')::numeric",
    "SELECT ('[1]'::jsonb)::numeric",
    "SELECT ('{\"a\":123.456}'::jsonb -> 'a')::numeric(3,1)",
    "SELECT round(2.5::float8), round(3.5::float8), round(-2.5::float8), trunc(-2.7::float8), div(-7.5, 2), mod(-7, 3),"
    " mod(7.5, -2), scale(1.230), min_scale(0.00), trim_scale(10.000), round(1234.5678, -2)",
]


@pytest.mark.parametrize("sql", FUNCS)
def test_functions(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql), sql


PK_SCRIPT = [
    "CREATE TABLE nt_k (id numeric PRIMARY KEY, v text)",
    "INSERT INTO nt_k VALUES (1.0, 'a'), (2.5, 'b'), (-3.25, 'c'), (0, 'z'), (1e20, 'big'), (-1e-20, 'tiny'),"
    " (0.001, 'm'), (10, 'ten'), (9.99, 'x'), ('NaN', 'nan'), ('Infinity', 'inf'), ('-Infinity', 'ninf'),"
    " (-10, 'mten'), (-9.99, 'mx'), (100.10, 'h')",
    "INSERT INTO nt_k VALUES (1.00, 'dup')",                       # 23505: 1.0 = 1.00
    "INSERT INTO nt_k VALUES (-0.0, 'negzero')",
    "SELECT * FROM nt_k ORDER BY id",
    "SELECT * FROM nt_k WHERE id = 1",
    "SELECT * FROM nt_k WHERE id = 100.1",
    "UPDATE nt_k SET v = 'one' WHERE id = 1.0000 RETURNING *",
    "UPDATE nt_k SET id = 1.5 WHERE id = 1 RETURNING *",
    "UPDATE nt_k SET id = 2.50 WHERE id = 1.5",
    "DELETE FROM nt_k WHERE id = 'NaN' RETURNING *",
    "INSERT INTO nt_k VALUES (2.500, 'conflict') ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING *",
    "INSERT INTO nt_k VALUES (2.5000, 'x') ON CONFLICT DO NOTHING",
    "SELECT * FROM nt_k WHERE id > 0 AND id < 10 ORDER BY id",
    "CREATE TABLE nt_k2 (a numeric(10,2), b text, c int, PRIMARY KEY (a, b))",
    "INSERT INTO nt_k2 VALUES (1, 'x', 1), (1, 'y', 2), (1.001, 'x', 3), (-5, '', 4)",
    "INSERT INTO nt_k2 VALUES (1.00, 'x', 5)",
    "SELECT * FROM nt_k2 ORDER BY a, b",
    "CREATE TABLE nt_k3 (k numeric NOT NULL, v int)",
    "INSERT INTO nt_k3 VALUES (1.5, 1), (2.50, 2), (3, 3)",
    "ALTER TABLE nt_k3 ADD PRIMARY KEY (k)",
    "INSERT INTO nt_k3 VALUES (1.50, 9)",
    "SELECT * FROM nt_k3 ORDER BY k",
    "CREATE TABLE nt_k4 (k numeric, v int)",
    "INSERT INTO nt_k4 VALUES (1.5, 1), (1.50, 2)",
    "ALTER TABLE nt_k4 ADD PRIMARY KEY (k)",                         # 23505
]


def test_numeric_primary_key(pair):
    ours, ref = pair
    drop = ["DROP TABLE IF EXISTS nt_k%s" % s for s in ("", "2", "3", "4")]
    for c in pair:
        for sql in drop:
            _run(c, sql)
    try:
        for sql in PK_SCRIPT:
            a, b = _run(ours, sql), _run(ref, sql)
            if a[0] == "ok" and b[0] == "ok" and a[2] is not None and "ORDER BY" not in sql:
                a, b = a[:2] + (sorted(a[2], key=str),), b[:2] + (sorted(b[2], key=str),)
            assert a[:2] == b[:2] if a[0] == "error" else a == b, sql
    finally:
        for c in pair:
            for sql in drop:
                _run(c, sql)
