"""test_sql_json.py -- the json and jsonb types against a reference PostgreSQL 15:
input (canonical output, key order, duplicate keys, number forms, escapes), parse
errors with SQLSTATE, message and DETAIL, the operators (-> ->> #> #>> @> <@ ? ?| ?&
|| - #-), functions (jsonb_set, jsonb_insert, build functions, to_jsonb, ...),
casts, ordering / GROUP BY / DISTINCT, a jsonb column across both shards and a
restart, and psycopg 3's binary jsonb results."""
import json

import psycopg2
import psycopg2.extras
import pytest

SETUP = [
    "DROP TABLE IF EXISTS js_t",
    "CREATE TABLE js_t (k int PRIMARY KEY, j jsonb, t json)",
    "INSERT INTO js_t VALUES "
    "(1, '{\"a\": 1, \"b\": [1, 2, {\"c\": \"x\"}]}', '{\"a\": 1,  \"b\" : [1,2]}'), "
    "(2, '{\"a\": 2, \"tags\": [\"red\", \"blue\"]}', '[1, \"two\", null]'), "
    "(3, '[1, 2, 3]', '\"str\"'), "
    "(4, '\"scalar\"', '3.50'), "
    "(5, 'null', 'null'), "
    "(6, '{\"a\": 1.0, \"b\": [1, 2, {\"c\": \"x\"}]}', '{}'), "
    "(7, NULL, NULL), "
    "(8, '{\"a\": {\"deep\": {\"er\": [true, false]}}}', '{\"a\": {\"deep\": 1}}')",
]


def _conn(srv):
    c = srv.connect(autocommit=True)
    psycopg2.extras.register_default_jsonb(c, loads=lambda s: s)
    psycopg2.extras.register_default_json(c, loads=lambda s: s)
    return c


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
    ours = _conn(server)
    ref = _conn(pg_reference)
    for sql in SETUP:
        for c in (ours, ref):
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for c in (ours, ref):
        _run(c, "DROP TABLE js_t")
        c.close()


INPUT = [
    # canonical output: key order (length, then bytes), last duplicate wins, spacing
    """SELECT '{"b":1,"a":2,"aa":3,"a":4}'::jsonb""",
    """SELECT '{"zzz": {"y": 1, "x": [1,2]}, "c": []}'::jsonb""",
    """SELECT '  [ 1 , "a" , null , true , false , {} , [] ]  '::jsonb""",
    # numbers as numeric prints them
    """SELECT '[1e2, 1.50, -0, -0.0, 0.001, 1E-3, 12.5e1, 1.25e+1, 100e-2, 0e10, 123456789012345678901234567890]'::jsonb""",
    """SELECT '-1.5e-5'::jsonb, '5e0'::jsonb, '1.0e1'::jsonb""",
    # strings: escapes decoded and re-escaped as PostgreSQL does
    r"""SELECT '["a\"b", "c\\d", "\/", "\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "\u001f"]'::jsonb""",
    # json keeps its text
    """SELECT '{"b":1,  "a" : [1,2e2] ,"b":2}'::json""",
    r"""SELECT '"\u0000"'::json""",
    # errors: SQLSTATE, message, detail
    "SELECT ''::jsonb",
    "SELECT '{'::jsonb",
    "SELECT '[1,2'::jsonb",
    """SELECT '{"a" 1}'::jsonb""",
    """SELECT '{"a":1,}'::jsonb""",
    """SELECT '{1:2}'::jsonb""",
    "SELECT '[1 2]'::jsonb",
    "SELECT '[1,]'::jsonb",
    "SELECT 'tru'::jsonb",
    "SELECT '01'::jsonb",
    "SELECT '1.'::jsonb",
    "SELECT '-'::jsonb",
    "SELECT '1 2'::jsonb",
    "SELECT '@'::jsonb",
    """SELECT '"abc'::jsonb""",
    r"""SELECT '"\x"'::jsonb""",
    r"""SELECT '"\u12"'::jsonb""",
    r"""SELECT '"\u0000"'::jsonb""",
    r"""SELECT '"\ud83d"'::jsonb""",
    r"""SELECT '"\ude00"'::jsonb""",
    "SELECT E'\"a\\nb\"'::jsonb",
    "SELECT '{]'::json",
    "SELECT '[1,2'::json",
    "SELECT '1e100000000'::jsonb",
    "SELECT '1e-20000'::jsonb",
    # nesting: moderate depth works, absurd depth is 54001
    "SELECT repeat('[', 200) || repeat(']', 200) = (repeat('[', 200) || repeat(']', 200))::jsonb::text",
    "SELECT (repeat('[', 1000000) || repeat(']', 1000000))::jsonb",
    "SELECT (repeat('{\"a\":', 1000000) || '1' || repeat('}', 1000000))::json",
]

OPERATORS = [
    "SELECT k, j -> 'a', j ->> 'a', j -> 'b' -> 2 ->> 'c' FROM js_t ORDER BY k",
    "SELECT k, j -> 0, j -> -1, j ->> 1, j -> 5 FROM js_t ORDER BY k",
    "SELECT k, j #> '{b,2,c}', j #>> '{b,2,c}', j #> '{a}', j #>> '{}', j #> '{}' FROM js_t ORDER BY k",
    "SELECT k, j #> '{b,x}', j #>> '{tags,-1}', j #> '{a,deep,er,0}' FROM js_t ORDER BY k",
    "SELECT k, t -> 'a', t ->> 'b', t -> 1, t ->> 1, t #> '{a,deep}', t #>> '{b,0}' FROM js_t ORDER BY k",
    """SELECT k FROM js_t WHERE j @> '{"a": 1}' ORDER BY k""",
    """SELECT k FROM js_t WHERE j @> '{"b": [{"c": "x"}]}' ORDER BY k""",
    """SELECT k FROM js_t WHERE '{"a": 2}' <@ j ORDER BY k""",
    "SELECT k, j ? 'a', j ? 'red', j ?| '{tags,zzz}', j ?& '{a,b}' FROM js_t ORDER BY k",
    """SELECT '["a","b"]'::jsonb @> '"a"', '"a"'::jsonb @> '["a"]', '[1,[2,3]]'::jsonb @> '[[3]]',
              '{"a":[1,2]}'::jsonb @> '{"a":[]}', '1'::jsonb @> '1.0', '[]'::jsonb @> '[]',
              '{"a":{"b":1}}'::jsonb @> '{"a":{}}', '[{"a":1}]'::jsonb @> '{"a":1}'""",
    """SELECT '"x"'::jsonb ? 'x', '{"a":null}'::jsonb ? 'a', '[["a"]]'::jsonb ? 'a'""",
    """SELECT '{"a":1,"b":2}'::jsonb || '{"b":3,"c":4}', '[1,2]'::jsonb || '[3]', '[1]'::jsonb || '{"a":1}',
              '{"a":1}'::jsonb || '[1]', '1'::jsonb || '2', '"a"'::jsonb || '{"b":1}', '[]'::jsonb || '{}'""",
    """SELECT '{"a":1,"b":2}'::jsonb - 'a', '["a","b","a"]'::jsonb - 'a', '[1,2,3]'::jsonb - 1,
              '[1,2,3]'::jsonb - -1, '[1,2,3]'::jsonb - 10, '{"a":1,"b":2,"c":3}'::jsonb - '{a,c}'::text[]""",
    """SELECT '"x"'::jsonb - 'x'""",
    """SELECT '{"a":1}'::jsonb - 0""",
    """SELECT '{"a":{"b":[1,2,3]}}'::jsonb #- '{a,b,1}', '[1,[2,3]]'::jsonb #- '{1,-1}',
              '{"a":1}'::jsonb #- '{}', '{"a":1}'::jsonb #- '{x,y}'""",
    """SELECT '[1,2]'::jsonb #- '{a}'""",
    """SELECT '1'::jsonb #- '{a}'""",
    "SELECT '{\"a\":1}'::json = '{\"a\":1}'::json",
    "SELECT '{\"a\":1}'::jsonb || 'text'::text",
]

FUNCTIONS = [
    """SELECT jsonb_set('{"a":[1,2,3]}', '{a,1}', '"x"'), jsonb_set('{"a":1}', '{b}', '2'),
              jsonb_set('{"a":1}', '{b}', '2', false), jsonb_set('[1,2]', '{5}', '3'),
              jsonb_set('[1,2]', '{-5}', '0'), jsonb_set('{"a":{"b":1}}', '{a,c}', '[]'),
              jsonb_set('{"a":1}', '{x,y}', '1'), jsonb_set('{"a":1}', '{}', '5')""",
    """SELECT jsonb_set('"s"', '{a}', '1')""",
    """SELECT jsonb_set('[1]', '{x}', '1')""",
    """SELECT jsonb_insert('[1,2,3]', '{1}', '"n"'), jsonb_insert('[1,2,3]', '{1}', '"n"', true),
              jsonb_insert('{"a":1}', '{b}', '2'), jsonb_insert('[1]', '{-9}', '0'),
              jsonb_insert('{"a":[1]}', '{a,9}', '2', true)""",
    """SELECT jsonb_insert('{"a":1}', '{a}', '2')""",
    """SELECT jsonb_build_object('b', 1, 'a', 'x', 'c', NULL, 'd', 2.5, 'e', true, 'f', ARRAY[1,2]),
              jsonb_build_object(), jsonb_build_array(), jsonb_build_array(1, 'a', NULL, false, '{"x":1}'::jsonb),
              jsonb_build_object(1, 2, 'a', '[1, 2]'::jsonb)""",
    """SELECT json_build_object('b', 1, 'a', 'x', 'c', NULL), json_build_array(1, 'a', NULL), json_build_object(),
              json_build_object('j', '{"x" :1}'::json)""",
    "SELECT jsonb_build_object('a')",
    "SELECT jsonb_build_object(NULL, 1)",
    "SELECT json_build_object(NULL, 1)",
    """SELECT to_jsonb(1), to_jsonb(1.5::float8), to_jsonb('a"b'::text), to_jsonb(true), to_jsonb(ARRAY['x','y']),
              to_jsonb(ARRAY[1.5, 2]), to_jsonb('{"a":1}'::json), to_jsonb(1e20::float8), to_jsonb('NaN'::float8),
              to_jsonb(NULL::text)""",
    """SELECT to_json(1), to_json('a"b'::text), to_json(ARRAY[1,2]), to_json(1e20::float8),
              to_json('2024-01-02 03:04:05'::timestamp)""",
    """SELECT k, jsonb_typeof(j), json_typeof(t) FROM js_t ORDER BY k""",
    """SELECT jsonb_array_length('[1,[2,3],{}]'), json_array_length('[1, 2 ,3]'), jsonb_array_length('[]')""",
    """SELECT jsonb_array_length('{"a":1}')""",
    """SELECT jsonb_array_length('1')""",
    """SELECT json_array_length('{}')""",
    """SELECT jsonb_strip_nulls('{"a":null,"b":[null,{"c":null,"d":1}]}'), jsonb_strip_nulls('null')""",
    """SELECT jsonb_pretty('{"a":[1,{"b":2},[]],"c":{},"d":"x"}'), jsonb_pretty('[]'), jsonb_pretty('1')""",
    """SELECT jsonb_extract_path('{"a":{"b":[5,6]}}', 'a', 'b', '1'), jsonb_extract_path_text('{"a":{"b":"x"}}', 'a', 'b'),
              json_extract_path('{"a": {"b" : 7}}', 'a'), json_extract_path_text('{"a":"v"}', 'a'),
              jsonb_extract_path('{"a":1}', 'a', NULL)""",
    # casts
    """SELECT '12'::jsonb::int, '12.5'::jsonb::int, '-12.5'::jsonb::int, '12.7'::jsonb::float8,
              'true'::jsonb::bool, '1e3'::jsonb::bigint, '{"a":1}'::jsonb::text, '[1, 2]'::json::jsonb,
              '{"b":1,"a":2}'::jsonb::json, '3'::jsonb::smallint, '2.5'::jsonb::real""",
    "SELECT '\"x\"'::jsonb::int",
    "SELECT '[1]'::jsonb::int",
    "SELECT 'null'::jsonb::bool",
    "SELECT '1'::jsonb::bool",
    "SELECT '99999999999'::jsonb::int",
    "SELECT '{\"a\" : 1}'::json::text, '{\"a\" : 1}'::text::jsonb",
    # ordering, equality, grouping
    """SELECT '1.0'::jsonb = '1'::jsonb, '{"a":1,"b":2}'::jsonb = '{"b":2,"a":1}', '[1,2]'::jsonb < '[1,3]',
              '[1,2,3]'::jsonb > '[9]', '{"a":1}'::jsonb > '[1,2,3]', 'true'::jsonb > '1', '1'::jsonb > '"a"',
              '"a"'::jsonb > 'null', '1'::jsonb < '[1]', '1'::jsonb > '[]', '[]'::jsonb < 'null',
              '{"aa":1}'::jsonb > '{"b":1}', '{"a":1,"b":1}'::jsonb > '{"c":5}', '-1.5'::jsonb < '-1.25',
              '10'::jsonb > '9.99', '0.5'::jsonb < '0.50001', '-0.0'::jsonb = '0'""",
    "SELECT k, j FROM js_t ORDER BY j, k",
    "SELECT k, j FROM js_t ORDER BY j DESC NULLS LAST, k",
    "SELECT j -> 'a' AS a, count(*) FROM js_t GROUP BY j -> 'a' ORDER BY 1",
    "SELECT DISTINCT j -> 'b' FROM js_t ORDER BY 1",
    """SELECT count(DISTINCT x) FROM (VALUES ('1'::jsonb), ('1.00'), ('{"a":[1.0]}'), ('{"a":[1]}'), ('2')) v(x)""",
    "SELECT k FROM js_t WHERE j = '{\"a\": 1.00, \"b\": [1, 2, {\"c\": \"x\"}]}' ORDER BY k",
    "SELECT j ->> 'a' FROM js_t WHERE k = 1",
    "SELECT count(*) FROM js_t WHERE (j ->> 'a')::int = 1",
]


SRFS = [
    """SELECT * FROM jsonb_each('{"b":1,"a":[2],"c":null}') ORDER BY key""",
    """SELECT key, value FROM jsonb_each_text('{"b":"x","a":null,"c":{"d":1}}') ORDER BY key""",
    """SELECT * FROM jsonb_array_elements('[1,"a",null,{"x":1}]')""",
    """SELECT value FROM jsonb_array_elements_text('[1,"a",null,[2]]') AS e""",
    """SELECT * FROM jsonb_object_keys('{"b":1,"a":2,"aa":3}')""",
    """SELECT k FROM jsonb_object_keys('{"b":1}') AS k""",
    """SELECT * FROM json_each('{"b": 1 ,"a":[2, 3]}')""",
    """SELECT * FROM json_each_text('{"b": "x" ,"a":null}')""",
    """SELECT * FROM json_array_elements('[1, "a" ,null]')""",
    """SELECT * FROM json_array_elements_text('[1, "a" ,null]')""",
    """SELECT * FROM json_object_keys('{"b":1,"a":2,"b":3}')""",
    """SELECT count(*), sum(value::int) FROM jsonb_array_elements_text('[1,2,3]')""",
    """SELECT * FROM jsonb_each('{"a":1}') AS t(k, v)""",
    """SELECT * FROM jsonb_array_elements('{"a":1}')""",
    """SELECT * FROM jsonb_array_elements('1')""",
    """SELECT * FROM jsonb_each('[1]')""",
    """SELECT * FROM jsonb_object_keys('[1]')""",
    """SELECT * FROM jsonb_object_keys('1')""",
    """SELECT * FROM json_array_elements('{}')""",
    """SELECT * FROM json_object_keys('[]')""",
    """SELECT * FROM json_each('[]')""",
]


@pytest.mark.parametrize("sql", INPUT + OPERATORS + FUNCTIONS + SRFS)
def test_matches_postgres(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql), sql


def test_jsonb_column_restart_and_shards(server_factory):
    srv = server_factory("json-restart")
    srv.start()
    c = _conn(srv)
    cur = c.cursor()
    cur.execute("CREATE TABLE jr (k int PRIMARY KEY, j jsonb, t json)")
    for k in range(40):
        cur.execute("INSERT INTO jr VALUES (%s, %s, %s)",
                    (k, json.dumps({"k": k, "even": k % 2 == 0, "v": [k, str(k)]}), '{"k" : %d}' % k))
    cur.execute("SELECT count(*) FROM jr WHERE j @> '{\"even\": true}'")
    assert cur.fetchone()[0] == 20
    c.close()
    srv.restart(kill=True)
    c = _conn(srv)
    cur = c.cursor()
    cur.execute("SELECT k, j, t FROM jr ORDER BY k")
    rows = cur.fetchall()
    assert len(rows) == 40
    assert rows[3] == (3, '{"k": 3, "v": [3, "3"], "even": false}', '{"k" : 3}')
    cur.execute("SELECT j -> 'even', count(*) FROM jr GROUP BY 1 ORDER BY 1")
    assert cur.fetchall() == [("false", 20), ("true", 20)]
    c.close()


def test_psycopg3_binary(server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        cur = conn.cursor(binary=True)
        cur.execute("""SELECT '{"b": [1, 2.5, "x"], "a": null}'::jsonb, '{"x" :1}'::json, '[]'::jsonb""")
        row = cur.fetchone()
        assert row[0] == {"a": None, "b": [1, 2.5, "x"]}
        assert row[1] == {"x": 1}
        assert row[2] == []
        cur.execute("SELECT %b::jsonb -> 'k'", (psycopg.types.json.Jsonb({"k": [1, {"z": True}]}),))
        assert cur.fetchone()[0] == [1, {"z": True}]
        info = psycopg.types.TypeInfo.fetch(conn, "jsonb")
        assert info is not None and info.oid == 3802
