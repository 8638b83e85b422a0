"""test_sql_datetime.py -- date, time, timestamp, timestamptz and interval against a
reference PostgreSQL 15: text input and output of each type, errors with their
SQLSTATE, arithmetic, the TimeZone setting with DST transitions (America/New_York,
Europe/Berlin), extract / date_part / date_trunc / to_char / age / make_* /
justify_*, a table with timestamptz and interval columns on both shards that
survives a restart, and psycopg 3 binary round trips of datetime values.

Results are compared as PostgreSQL's text (psycopg2 typecasters that return the raw
string), with the same TimeZone set on both servers before each query."""
import datetime

import psycopg2
import psycopg2.extensions
import pytest

RAW_OIDS = (1082, 1083, 1114, 1184, 1186, 700, 701, 1700)
RAW = psycopg2.extensions.new_type(RAW_OIDS, "RAW_DATETIME", lambda v, c: v)


def _run(conn, zone, sql):
    cur = conn.cursor()
    try:
        cur.execute("SET TIME ZONE '%s'" % zone)
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else None)
    except psycopg2.Error as e:
        return ("error", e.pgcode, e.pgerror.splitlines()[0] if e.pgerror else None)
    finally:
        cur.close()


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for c in (ours, ref):
        psycopg2.extensions.register_type(RAW, c)
    yield ours, ref
    for c in (ours, ref):
        c.close()


def check(pair, zone, sql):
    ours, ref = pair
    assert _run(ours, zone, sql) == _run(ref, zone, sql), sql


INPUT_OUTPUT = [
    "SELECT '2024-01-31'::date, '2024-01-31 12:34:56.789'::timestamp, '2024-01-31T12:34:56'::timestamp",
    "SELECT '2024-01-31 12:34:56+02'::timestamptz, '2024-01-31 12:34:56+05:30'::timestamptz, "
    "'2024-01-31 12:34:56Z'::timestamptz, '2024-01-31 12:34:56-08'::timestamptz",
    "SELECT '0044-03-15 BC'::date, '0001-01-01 00:00:00 BC'::timestamp, '2000-02-29'::date",
    "SELECT 'epoch'::timestamp, 'epoch'::timestamptz, 'epoch'::date, 'infinity'::timestamp, "
    "'-infinity'::timestamptz, 'infinity'::date",
    "SELECT 'allballs'::time, '12:34'::time, '12:34:56.123456'::time, '24:00:00'::time, '2024-01-01 10:11:12'::time",
    "SELECT '1 day 2 hours'::interval, '1-2'::interval, 'P1Y2M3DT4H5M6S'::interval, '@ 1 hour ago'::interval, "
    "'01:02:03'::interval",
    "SELECT '1.5 days'::interval, '-1 day +02:00'::interval, '1 year -1 mon'::interval, '2 weeks'::interval, "
    "'90 minutes'::interval, '1.5 months'::interval",
    "SELECT '-01:02:03.5'::interval, '3 days ago'::interval, '1 millennium 2 centuries 3 decades'::interval, "
    "'100 ms'::interval, '0'::interval, '5'::interval",
    "SELECT 'PT36H'::interval, 'P2W'::interval, 'P0.5Y'::interval, '1 day 1 day'::interval",
    "SELECT '2024-01-31 12:34:56.1234567'::timestamp, '2024-01-31 12:34:56.5'::timestamp(0), "
    "'12:34:56.789'::time(1), '2024-01-31 23:59:59.9999'::timestamptz(2)",
    "SELECT timestamp '2024-01-31 12:00' = timestamp '2024-01-31 12:00:00.000'",
    "SELECT '2024-03-10 12:00 America/New_York'::timestamptz, '2024-07-01 12:00 Europe/Berlin'::timestamptz",
]

ERRORS = [
    "SELECT 'garbage'::date",
    "SELECT '2024-02-30'::date",
    "SELECT '2023-02-29'::timestamp",
    "SELECT '2024-13-01'::date",
    "SELECT '25:00'::time",
    "SELECT 'x'::time",
    "SELECT 'foo'::interval",
    "SELECT '1 fortnight'::interval",
    "SELECT '2024-01-01 24:00:01'::timestamp",
    "SELECT date 'infinity' - date '2024-01-01'",
    "SELECT timestamp 'infinity' - timestamp '2024-01-01'",
    "SELECT make_date(2024, 2, 30)",
    "SELECT make_date(0, 1, 1)",
    "SELECT make_time(25, 0, 0)",
    "SELECT interval '1 day' / 0",
    "SELECT date_trunc('fortnight', timestamp '2024-01-01')",
    "SELECT date_part('dow', interval '1 day')",
    "SELECT extract(hour from date '2024-01-01')",
    "SELECT '2024-01-01 12:00'::timestamptz AT TIME ZONE 'Mars/Olympus'",
    "SELECT date_bin('1 month', timestamp '2024-01-01', timestamp '2000-01-01')",
    "SELECT date '5874897-12-31' + 1",
    "SELECT to_timestamp('NaN'::float8)",
    "SELECT date '2024-01-01' + '1 day'",
    "SELECT timestamptz '2024-01-01 00:00+00' + '1 day', date '2024-01-01' - '2023-12-01', "
    "interval '1 day' * '2', time '10:00' - '09:00'",
]

ARITH = [
    "SELECT date '2024-01-01' + 30, 30 + date '2024-01-01', date '2024-03-01' - 1, "
    "date '2024-03-01' - date '2024-02-01'",
    "SELECT date '2024-01-31' + time '10:30', date '2024-01-31' + interval '1 month', "
    "date '2024-03-31' - interval '1 month'",
    "SELECT timestamp '2024-01-31 10:00' + interval '1 month', timestamp '2023-01-31' + interval '1 month', "
    "timestamp '2024-02-29' + interval '1 year', timestamp '2024-02-29' - interval '1 year 1 day'",
    "SELECT timestamp '2024-03-01 00:00' - timestamp '2024-01-01 12:30', "
    "timestamp '2024-01-01' - timestamp '2024-03-01 00:00:00.5'",
    "SELECT interval '1 day' + interval '2 hours', interval '1 mon' - interval '1 day', "
    "- interval '1 year 2 days 03:00', interval '1 hour' * 2.5, 3 * interval '1 mon', "
    "interval '1 mon' / 3, interval '1 day' / 7, interval '1 year' * 0.3",
    "SELECT time '10:00' + interval '3 hours', time '23:00' + interval '2 hours', "
    "time '01:00' - interval '2 hours', time '12:00' - time '10:30'",
    "SELECT interval '1 mon' = interval '30 days', interval '1 day' = interval '24 hours', "
    "interval '1 year' > interval '360 days', interval '-1 day' < interval '1 second'",
    "SELECT date '2024-01-01' < timestamp '2024-01-01 00:00:01', date '2024-01-01' = timestamp '2024-01-01', "
    "timestamptz '2024-01-01 00:00+00' = timestamp '2024-01-01 00:00', date '2024-01-02' > timestamptz '2024-01-01 23:00'",
    "SELECT timestamptz '2024-01-01 12:00+00' - date '2024-01-01', now() - now(), "
    "timestamp '2024-01-01' + interval '-1 mon -1 day 10:00'",
    "SELECT x FROM (VALUES (interval '1 mon'), (interval '29 days'), (interval '31 days'), "
    "(interval '1 day 25:00'), (interval '-1 hour')) v(x) ORDER BY x",
    "SELECT count(DISTINCT x) FROM (VALUES (interval '1 mon'), (interval '30 days'), (interval '720 hours')) v(x)",
]

# (zone, query)
ZONED = [
    ("America/New_York", "SELECT '2024-03-10 01:59:59'::timestamptz, '2024-03-10 02:30'::timestamptz, "
     "'2024-03-10 03:00'::timestamptz, '2024-11-03 01:30'::timestamptz, '2024-11-03 02:00'::timestamptz"),
    ("America/New_York", "SELECT timestamptz '2024-03-09 12:00' + interval '1 day', "
     "timestamptz '2024-03-09 12:00' + interval '24 hours', timestamptz '2024-11-03 00:30' + interval '1 hour', "
     "timestamptz '2024-03-10 00:00' + interval '1 mon'"),
    ("America/New_York", "SELECT timestamptz '2024-03-11 00:00' - timestamptz '2024-03-10 00:00', "
     "age(timestamptz '2024-03-11', timestamptz '2024-01-31')"),
    ("Europe/Berlin", "SELECT '2024-03-31 02:30'::timestamptz, '2024-10-27 02:30'::timestamptz, "
     "'2024-06-01 12:00'::timestamptz::date, '2024-06-01 23:30+00'::timestamptz::date, "
     "'2024-06-01 12:00+00'::timestamptz::timestamp, timestamp '2024-06-01 12:00'::timestamptz"),
    ("Europe/Berlin", "SELECT timestamptz '2024-06-01 12:00+00' AT TIME ZONE 'America/New_York', "
     "timestamp '2024-06-01 12:00' AT TIME ZONE 'UTC', timestamp '2024-01-01 12:00' AT TIME ZONE 'Asia/Kolkata', "
     "timestamptz '2024-01-01 12:00+00' AT TIME ZONE INTERVAL '+05:30'"),
    ("Europe/Berlin", "SELECT date '2024-03-31'::timestamptz, date_trunc('day', timestamptz '2024-03-31 12:00'), "
     "date_trunc('hour', timestamptz '2024-10-27 02:30+01'), date_trunc('month', timestamptz '2024-10-27 12:00'), "
     "date_trunc('day', timestamptz '2024-06-01 23:30+00', 'America/New_York')"),
    ("Europe/Berlin", "SELECT extract(timezone from timestamptz '2024-06-01 12:00'), "
     "extract(timezone_hour from timestamptz '2024-01-01 12:00'), extract(hour from timestamptz '2024-06-01 12:00+00'), "
     "extract(epoch from timestamptz '2024-06-01 12:00')::float8"),
    ("Asia/Kolkata", "SELECT '2024-01-01 12:00+00'::timestamptz, to_char(timestamptz '2024-01-01 12:00+00', "
     "'YYYY-MM-DD HH24:MI TZ OF')"),
    ("America/New_York", "SELECT '1800-01-01 12:00+00'::timestamptz, '2100-07-04 12:00'::timestamptz, "
     "'2300-12-25 12:00'::timestamptz"),
    ("-7", "SELECT '2024-01-01 12:00+00'::timestamptz, current_setting('TimeZone')"),
    ("+05:30", "SELECT '2024-01-01 12:00+00'::timestamptz"),
    ("EST5EDT", "SELECT '2024-07-01 12:00+00'::timestamptz, '2024-01-01 12:00+00'::timestamptz"),
    ("UTC+3", "SELECT '2024-01-01 12:00+00'::timestamptz"),
    ("america/new_york", "SELECT current_setting('TimeZone'), '2024-07-01 12:00+00'::timestamptz"),
    ("America/New_York", "SELECT * FROM generate_series(timestamptz '2024-03-09', '2024-03-12', interval '1 day')"),
    ("America/New_York", "SELECT g FROM generate_series(timestamp '2024-01-31', '2024-05-01', '1 month') g"),
    ("Europe/Berlin", "SELECT count(*), min(g), max(g) FROM generate_series('2024-01-01'::date, '2024-12-31', '1 week') g"),
    ("UTC", "SELECT * FROM generate_series(timestamp '2024-01-01 03:00', '2024-01-01 00:00', interval '-1 hour')"),
    ("UTC", "SELECT * FROM generate_series(timestamp '2024-01-01', '2024-01-02', interval '0 days')"),
    ("America/New_York", "SELECT localtime(0) = date_trunc('second', localtimestamp(0))::time, "
     "current_timestamp(0) = date_trunc('second', current_timestamp(0))"),
    ("Australia/Sydney", "SELECT '2024-04-07 02:30'::timestamptz, '2024-10-06 02:30'::timestamptz, "
     "'2024-01-01 12:00+00'::timestamptz"),
]

FUNCS = [
    "SELECT extract(year from timestamp '2024-02-29 13:14:15.5'), extract(month from date '2024-02-29'), "
    "extract(day from timestamp '2024-02-29'), extract(dow from date '2024-03-03'), "
    "extract(isodow from date '2024-03-03'), extract(doy from date '2024-12-31')",
    "SELECT date_part('week', date '2024-01-01'), date_part('week', date '2021-01-03'), "
    "date_part('quarter', date '2024-08-01'), date_part('julian', date '2024-01-01'), "
    "date_part('isoyear', date '2021-01-03'), date_part('century', date '2001-01-01'), "
    "date_part('millennium', date '2000-12-31'), date_part('decade', date '2024-01-01')",
    "SELECT date_part('epoch', timestamp '2024-01-01 00:00:01.5'), date_part('second', timestamp '2024-01-01 00:00:01.5'), "
    "date_part('milliseconds', timestamp '2024-01-01 00:00:01.5'), date_part('microseconds', time '10:00:01.25')",
    "SELECT date_part('hour', interval '1 day 25:30'), date_part('minute', interval '-01:30'), "
    "date_part('epoch', interval '1 year 1 mon 1 day'), date_part('month', interval '14 mons'), "
    "date_part('year', interval '14 mons'), date_part('day', interval '40 days'), date_part('hour', time '13:45')",
    "SELECT date_trunc('year', timestamp '2024-05-06 07:08:09'), date_trunc('quarter', timestamp '2024-05-06'), "
    "date_trunc('week', timestamp '2024-05-09'), date_trunc('hour', timestamp '2024-05-06 07:08:09'), "
    "date_trunc('millisecond', timestamp '2024-05-06 07:08:09.123456'), date_trunc('decade', timestamp '2024-05-06'), "
    "date_trunc('century', timestamp '2024-05-06')",
    "SELECT date_trunc('hour', interval '1 day 02:03:04'), date_trunc('year', interval '2 years 3 mons'), "
    "date_trunc('month', interval '2 years 3 mons 4 days')",
    "SELECT to_char(timestamp '2024-03-05 14:07:09.123456', 'YYYY-MM-DD HH24:MI:SS.MS.US'), "
    "to_char(timestamp '2024-03-05 14:07:09', 'HH12:MI AM pm'), to_char(timestamp '2024-03-05', 'Mon MON mon Month MONTH'), "
    "to_char(timestamp '2024-03-05', 'Dy DY dy Day DAY day'), to_char(timestamp '2024-03-05', 'FMMonth FMDay FMDD FMMM')",
    "SELECT to_char(timestamp '2024-03-05', 'D DDD IW WW Q J CC YY Y IYYY ID W'), "
    "to_char(timestamp '2024-03-05', '\"Quarter\" Q, \"week\" IW'), to_char(timestamp '2024-03-05', 'DDth DDTH FMDDth'), "
    "to_char(date '2024-03-05', 'YYYY/MM/DD'), to_char(timestamp '0044-03-15 BC', 'YYYY BC AD')",
    "SELECT to_char(timestamp '2024-12-30 00:00', 'HH12 AM IYYY-IW'), to_char(timestamp '2024-03-05 12:00', 'HH HH12 A.M.'), "
    "to_char(timestamp '2024-03-05', 'RM rm'), to_char(timestamp '2024-03-05 01:02:03', 'SSSS')",
    "SELECT to_char(interval '1 year 2 mons 3 days 04:05:06.7', 'YYYY MM DD HH24 MI SS MS'), "
    "to_char(interval '30 hours', 'HH24:MI'), to_char(interval '-5 hours', 'HH24')",
    "SELECT age(timestamp '2024-03-01', timestamp '2023-01-31'), age(timestamp '2023-01-31', timestamp '2024-03-01'), "
    "age(timestamp '2024-02-29 10:00', timestamp '2024-01-30 12:00'), age(date '2024-05-01', date '2000-02-29')",
    "SELECT make_date(2024, 2, 29), make_date(-44, 3, 15), make_time(13, 14, 15.5), "
    "make_timestamp(2024, 1, 2, 3, 4, 5.25), make_interval(1, 2, 3, 4, 5, 6, 7.5)",
    "SELECT make_timestamptz(2024, 7, 1, 12, 0, 0), make_timestamptz(2024, 7, 1, 12, 0, 0, 'America/New_York')",
    "SELECT justify_days(interval '65 days'), justify_hours(interval '50 hours'), "
    "justify_interval(interval '1 mon -1 hour'), justify_interval(interval '-1 mon 50 days 30 hours'), "
    "justify_days(interval '-35 days')",
    "SELECT isfinite(date '2024-01-01'), isfinite(timestamp 'infinity'), isfinite(interval '1 day'), "
    "isfinite(timestamptz '-infinity')",
    "SELECT to_timestamp(0), to_timestamp(1700000000.5), to_timestamp('Infinity'::float8)",
    "SELECT to_date('2024-03-05', 'YYYY-MM-DD'), to_date('05 Mar 2024', 'DD Mon YYYY'), "
    "to_timestamp('2024-03-05 14:07:09.123', 'YYYY-MM-DD HH24:MI:SS.MS'), "
    "to_timestamp('03/05/2024 02:07 PM', 'MM/DD/YYYY HH12:MI AM'), to_date('20240305', 'YYYYMMDD'), "
    "to_date('March 5, 2024', 'Month DD, YYYY')",
    "SELECT to_date('2024-13-05', 'YYYY-MM-DD')",
    "SELECT to_date('x', 'YYYY')",
    "SELECT to_timestamp('13:00 PM', 'HH12:MI AM')",
    "SELECT date_bin('15 minutes', timestamp '2024-01-01 10:38:12', timestamp '2000-01-01'), "
    "date_bin('1 day', timestamp '1999-06-01 10:00', timestamp '2000-01-01 03:00'), "
    "date_bin('1 hour', timestamptz '2024-01-01 10:38+00', timestamptz '2000-01-01 00:00+00')",
    "SELECT now() = current_timestamp, now() = transaction_timestamp(), current_date = now()::date, "
    "localtimestamp = now()::timestamp, statement_timestamp() >= now(), clock_timestamp() >= now()",
    "SELECT now()::text = current_timestamp::text, (date '2024-01-01' - 1)::text, "
    "(timestamp '2024-01-01' - timestamp '2023-01-01')::text, (localtimestamp - localtimestamp)::text",
    "SELECT '1 day'::interval::text, '10:00'::time::interval, interval '25:30'::time, "
    "timestamp '2024-01-01 10:11:12'::time, timestamp '2024-01-01 10:11:12'::date",
]


@pytest.mark.parametrize("sql", INPUT_OUTPUT + ERRORS + ARITH + FUNCS)
def test_utc(pair, sql):
    check(pair, "UTC", sql)


@pytest.mark.parametrize("sql", FUNCS[:6] + ARITH[-3:] + [
    "SELECT to_timestamp('2024-03-10 02:30', 'YYYY-MM-DD HH24:MI'), to_timestamp('2024-07-01 12:00', 'YYYY-MM-DD HH24:MI')"])
def test_new_york(pair, sql):
    check(pair, "America/New_York", sql)


@pytest.mark.parametrize("zone,sql", ZONED)
def test_zones(pair, zone, sql):
    check(pair, zone, sql)


def test_bad_time_zone(pair):
    ours, ref = pair
    for conn in (ours, ref):
        cur = conn.cursor()
        with pytest.raises(psycopg2.Error) as ei:
            cur.execute("SET TIME ZONE 'Nowhere/Atlantis'")
        assert ei.value.pgcode == "22023"
        with pytest.raises(psycopg2.Error) as ei:
            cur.execute("SET TIME ZONE '../../../etc/passwd'")
        assert ei.value.pgcode == "22023"
        cur.close()


def test_table_across_shards_and_restart(server, pg_reference, pair):
    ddl = ("CREATE TABLE dt_t (id int PRIMARY KEY, at timestamptz, d date, t time, "
           "span interval, created_at timestamptz DEFAULT now(), day date DEFAULT CURRENT_DATE, "
           "stamp timestamp DEFAULT CURRENT_TIMESTAMP)")
    rows = [(i, "2024-03-%02d %02d:30:00+00" % (1 + i % 28, i % 24), "2024-01-%02d" % (1 + i % 28),
             "%02d:15:00" % (i % 24), "%d days %d hours" % (i, i % 5)) for i in range(40)]

    def load(conn):
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS dt_t")
        cur.execute(ddl)
        for r in rows:
            cur.execute("INSERT INTO dt_t (id, at, d, t, span) VALUES (%s, %s, %s, %s, %s)", r)
        cur.close()

    queries = [
        "SELECT id, at, d, t, span, at + span, d + t FROM dt_t ORDER BY id",
        "SELECT id FROM dt_t WHERE at > timestamptz '2024-03-15 00:00+00' AND span < interval '20 days' ORDER BY id",
        "SELECT span, count(*) FROM dt_t GROUP BY span ORDER BY span",
        "SELECT max(at), min(span), max(d), min(t) FROM dt_t",
        "SELECT count(*) FROM dt_t WHERE created_at <= now() AND day = current_date AND stamp <= localtimestamp",
        "SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI TZ') FROM dt_t WHERE id < 5 ORDER BY id",
    ]
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    for c in (ours, ref):
        psycopg2.extensions.register_type(RAW, c)
        load(c)

    def answers(conn):
        out = []
        for q in queries:
            out.append(_run(conn, "Europe/Berlin", q))
        return out

    expected = answers(ref)
    assert answers(ours) == expected
    ours.close()
    pair[0].close()          # PostgreSQL's smart shutdown waits for every client
    server.restart()
    ours = server.connect(autocommit=True)
    psycopg2.extensions.register_type(RAW, ours)
    assert answers(ours) == expected
    for c in (ours, ref):
        c.cursor().execute("DROP TABLE dt_t")
        c.close()


def test_psycopg3_binary_round_trip(server):
    psycopg = pytest.importorskip("psycopg")
    values = [
        datetime.date(2024, 2, 29),
        datetime.date(1, 1, 1),
        datetime.time(12, 34, 56, 789000),
        datetime.datetime(2024, 1, 31, 12, 34, 56, 123456),
        datetime.datetime(2024, 3, 10, 7, 30, tzinfo=datetime.timezone.utc),
        datetime.timedelta(days=3, hours=4, minutes=5, seconds=6, microseconds=7),
        datetime.timedelta(days=-1, seconds=5),
    ]
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'Europe/Berlin'")
        for v in values:
            with conn.cursor(binary=True) as cur:
                cur.execute("SELECT %b", (v,))
                got = cur.fetchone()[0]
            assert got == v, v
            with conn.cursor() as cur:
                cur.execute("SELECT %s", (v,))
                assert cur.fetchone()[0] == v, v
        with conn.cursor(binary=True) as cur:
            cur.execute("SELECT '2024-06-01 12:00+00'::timestamptz, '1 year 2 mons'::interval, '13:00'::time")
            ts, iv, t = cur.fetchone()
        assert ts == datetime.datetime(2024, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
        assert ts.utcoffset() == datetime.timedelta(hours=2)
        assert iv == datetime.timedelta(days=365 + 2 * 30)   # psycopg: a year is 365 days, a month 30
        assert t == datetime.time(13, 0)
