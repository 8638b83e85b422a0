"""Ordered-set aggregates (percentile_cont, percentile_disc, mode), regular-expression functions, format(), string_to_array, the polymorphic array
functions and array operators (sql/builtins_more.c, bind.c b_func_poly), ARRAY[]::t[],
and output column names of casts, each compared with PostgreSQL 15: rows, column
names, and for errors SQLSTATE and message."""
import pytest

from refcompare import same_msg


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    yield ours, ref
    ours.close()
    ref.close()


QUERIES = [
    "SELECT '12'::text::int4, 1::text::int8, now()::date::text, (ARRAY[1])[1]::text, 'a'::varchar::text, (1+1)::text::int",
    "SELECT * FROM unnest(ARRAY['a', 'b', 'c']) WITH ORDINALITY",
    "SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY AS u(v, i)",
    "SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY AS u",
    'SELECT u.ordinality, u.u FROM unnest(ARRAY[10, 20]) WITH ORDINALITY AS u',
    'SELECT * FROM generate_series(5, 7) WITH ORDINALITY',
    'SELECT * FROM generate_series(5, 3000) WITH ORDINALITY AS g(v, n) WHERE n > 2997',
    'SELECT * FROM jsonb_array_elements(\'[1, "x"]\') WITH ORDINALITY',
    'SELECT * FROM jsonb_each(\'{"a": 1, "b": 2}\') WITH ORDINALITY AS j(k, v, n)',
    "SELECT t.k, e.v, e.n FROM (VALUES (1, ARRAY['x', 'y']), (2, ARRAY['z'])) t(k, a), unnest(t.a) WITH ORDINALITY AS e(v, n) ORDER BY 1, 3",
    'SELECT * FROM unnest(NULL::int[]) WITH ORDINALITY',
    'SELECT pg_size_pretty(0::bigint), pg_size_pretty(10239::bigint), pg_size_pretty(10240::bigint), pg_size_pretty(1234567::bigint), pg_size_pretty(10485759::bigint), pg_size_pretty(1099511627776::bigint), pg_size_pretty(-123456789::bigint), pg_size_pretty(9223372036854775807::bigint)',
    'SELECT quote_ident(\'a b\'), quote_ident(\'abc\'), quote_ident(\'Abc\'), quote_ident(\'select\'), quote_ident(\'a"b\'), quote_nullable(NULL), quote_nullable(1), quote_nullable(\'it\'\'s\'), quote_nullable(\'a\\b\')',
    "SELECT to_regclass('pg_class')::oid, to_regclass('nosuch'), to_regclass('pg_catalog.pg_type')::oid, to_regclass('public.nosuch'), to_regclass('information_schema.tables') IS NOT NULL",
    "SELECT count(*) > 10 FROM pg_tables WHERE schemaname = 'pg_catalog'",
    "SELECT pg_class.relname FROM pg_tables JOIN pg_class ON pg_class.relname = pg_tables.tablename WHERE pg_tables.tablename = 'pg_class'",
    'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), mode() WITHIN GROUP (ORDER BY x) FROM (VALUES (1), (2), (2), (10)) v(x)',
    'SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY x), percentile_disc(0.25) WITHIN GROUP (ORDER BY x) FROM (VALUES (1), (2), (3), (4), (5)) v(x)',
    'SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY x DESC), percentile_disc(0.25) WITHIN GROUP (ORDER BY x DESC) FROM (VALUES (1), (2), (3), (4), (5)) v(x)',
    'SELECT percentile_cont(0) WITHIN GROUP (ORDER BY x), percentile_cont(1) WITHIN GROUP (ORDER BY x), percentile_disc(0) WITHIN GROUP (ORDER BY x), percentile_disc(1) WITHIN GROUP (ORDER BY x) FROM (VALUES (1.5), (2.5), (NULL)) v(x)',
    'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x) WHERE x > 1',
    'SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x)',
    "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY s), mode() WITHIN GROUP (ORDER BY s DESC) FROM (VALUES ('b'), ('a'), ('c'), ('a'), ('c')) v(s)",
    'SELECT g, percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.9) WITHIN GROUP (ORDER BY x) FROM (VALUES (1, 1), (1, 5), (2, 7), (2, 8), (2, 100)) v(g, x) GROUP BY g ORDER BY g',
    'SELECT percentile_cont(0.5) FROM (VALUES (1)) v(x)',
    'SELECT sum(x) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x)',
    "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY d) FROM (VALUES (date '2024-01-01'), (date '2024-03-01'), (date '2024-02-01')) v(d)",
    'SELECT percentile_cont(NULL) WITHIN GROUP (ORDER BY x) FROM (VALUES (1)) v(x)',
    'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), count(*) FROM (VALUES (1), (3)) v(x) HAVING count(*) > 1',
    "SELECT regexp_replace('abc123def456', '[0-9]+', 'X')",
    "SELECT regexp_replace('abc123def456', '[0-9]+', 'X', 'g')",
    "SELECT regexp_replace('Hello World', '(\\w+) (\\w+)', '\\2 \\1')",
    "SELECT regexp_replace('aaa', 'a*', '-', 'g')",
    "SELECT regexp_replace('abc', '', '-', 'g')",
    "SELECT regexp_replace('ABC abc', 'b', 'x', 'gi')",
    "SELECT regexp_replace('a.b.c', '\\.', '\\\\', 'g')",
    "SELECT regexp_replace('phone: 555-1234', '\\d{3}-\\d{4}', '[\\&]')",
    "SELECT regexp_replace('x', 'x', 'y', 'q')",
    "SELECT regexp_replace('x', '(', 'y')",
    "SELECT regexp_replace('tab\there', '\\s', '_', 'g')",
    "SELECT regexp_replace('a1b2', '[^\\d]', '', 'g')",
    "SELECT regexp_replace(NULL, 'a', 'b'), regexp_replace('a', NULL, 'b')",
    "SELECT regexp_match('foobarbequebaz', 'bar.*que')",
    "SELECT regexp_match('foobarbequebaz', '(bar)(beque)')",
    "SELECT regexp_match('abc', 'x')",
    "SELECT regexp_match('ABC', 'b', 'i')",
    "SELECT regexp_match('abc', 'b', 'g')",
    "SELECT (regexp_match('key=value', '(\\w+)=(\\w+)'))[2]",
    "SELECT regexp_match('ab', '(a)|(b)')",
    "SELECT regexp_split_to_array('hello world', '\\s+')",
    "SELECT regexp_split_to_array('hello world', '\\s*')",
    "SELECT regexp_split_to_array('a,b,,c', ',')",
    "SELECT regexp_split_to_array('', ',')",
    "SELECT regexp_split_to_array(',a,', ',')",
    "SELECT regexp_split_to_array('abc', '')",
    "SELECT regexp_split_to_array('aXbxc', 'x', 'i')",
    "SELECT string_to_array('a,b,c', ',')",
    "SELECT string_to_array('a,b,,c,', ',')",
    "SELECT string_to_array('abc', NULL)",
    "SELECT string_to_array('abc', '')",
    "SELECT string_to_array('', ',')",
    "SELECT string_to_array('a,*,c', ',', '*')",
    "SELECT string_to_array(NULL, ',')",
    "SELECT string_to_array('a||b', '||')",
    "SELECT format('Hello %s', 'World')",
    "SELECT format('%s, %s and %s', 1, 2.5, true)",
    "SELECT format('%I.%I', 'public', 'My Table')",
    'SELECT format(\'%I\', \'select\'), format(\'%I\', \'abc\'), format(\'%I\', \'a"b\')',
    "SELECT format('%L', 'O''Reilly'), format('%L', NULL), format('%L', 42), format('%L', 'a\\b')",
    "SELECT format('%s|%s', NULL, 'x')",
    "SELECT format('%2$s %1$s', 'a', 'b')",
    "SELECT format('|%10s|%-10s|', 'right', 'left')",
    "SELECT format('100%%')",
    "SELECT format('%s')",
    "SELECT format('%z', 1)",
    "SELECT format('%I', NULL)",
    'SELECT format(NULL, 1)',
    "SELECT format('%s %s', 'a', 'b', 'c')",
    "SELECT format('INSERT INTO %I VALUES (%L, %L)', 't', 'x', now()::date = current_date)",
    'SELECT array_append(ARRAY[1, 2], 3), array_prepend(0, ARRAY[1, 2])',
    'SELECT array_append(NULL::int[], 1), array_append(ARRAY[1], NULL)',
    "SELECT array_append(ARRAY['a'], 'b'), array_prepend('z', ARRAY['a'])",
    'SELECT array_remove(ARRAY[1, 2, 3, 2], 2), array_remove(ARRAY[1, NULL, 3], NULL)',
    'SELECT array_replace(ARRAY[1, 2, 5, 4], 5, 3), array_replace(ARRAY[1, NULL], NULL, 0)',
    'SELECT array_remove(NULL::int[], 1)',
    'SELECT array_append(ARRAY[1, 2], 3::bigint)',
    "SELECT array_append(ARRAY[1, 2], 'x')",
    'SELECT ARRAY[1, 2] && ARRAY[2, 3], ARRAY[1, 2] && ARRAY[3], ARRAY[1, 2, 3] @> ARRAY[3, 1], ARRAY[1] <@ ARRAY[1, 2]',
    "SELECT ARRAY[1, NULL] @> ARRAY[NULL::int], ARRAY[]::int[] <@ ARRAY[1], ARRAY[1, 2] @> '{}'",
    "SELECT ARRAY['a', 'b'] @> '{a}', '{x}' <@ ARRAY['x', 'y']",
    "SELECT ARRAY[1] && ARRAY['a']",
    'SELECT ARRAY[1, 2] && NULL',
    "SELECT x FROM (VALUES (ARRAY['red', 'blue']), (ARRAY['green'])) v(x) WHERE x && ARRAY['blue'] ORDER BY 1",
    'SELECT (ARRAY[10, 20, 30])[2]',
    "SELECT regexp_replace('a.b', '.', '!', 'gq')",
    "SELECT regexp_replace('x', 'x', 'y', 'z')",
    "SELECT regexp_replace('x', '[a', 'y')",
    "SELECT regexp_replace('x', 'a{2,1}', 'y')",
    'SELECT ARRAY[]::text[], ARRAY[]::int[] || ARRAY[1]',
    'SELECT array_append(ARRAY[1.5], 2)',
    "SELECT ARRAY[1]::text[], coalesce(1,2)::text, greatest(1,2)::int8, nullif(1,2)::int, current_date::text, (ARRAY[1])[1]::text, (case when true then 1 end)::text, (1+1)::text, 'a'::text, (select 1)::text, exists(select 1)::text",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_matches_postgres(pair, sql):
    same_msg(pair, sql)


def test_regexp_on_table_rows(pair):
    """The functions over a table spread over the shards, with a pattern per row."""
    for c in pair:
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS fm_t")
        cur.execute("CREATE TABLE fm_t (k int PRIMARY KEY, s text, p text, tags text[])")
        cur.execute("INSERT INTO fm_t SELECT g, 'item-' || g || '-x', CASE WHEN g % 2 = 0 THEN '[0-9]+' ELSE 'x$' END, "
                    "ARRAY['t' || (g % 3), 't' || (g % 5)] FROM generate_series(1, 200) g")
        cur.close()
    same_msg(pair, "SELECT k, regexp_replace(s, p, '#', 'g'), regexp_match(s, '(\\d+)'), "
                   "string_to_array(s, '-'), format('%s=%L', k, s) FROM fm_t ORDER BY k")
    same_msg(pair, "SELECT count(*) FROM fm_t WHERE tags && ARRAY['t1'] AND NOT tags @> ARRAY['t0']")
    same_msg(pair, "SELECT k, array_append(tags, 'new'), array_remove(tags, 't0') FROM fm_t WHERE k < 20 ORDER BY k")
    same_msg(pair, "SELECT tags[1] AS t, percentile_cont(0.5) WITHIN GROUP (ORDER BY k), "
                   "percentile_disc(0.75) WITHIN GROUP (ORDER BY k DESC), mode() WITHIN GROUP (ORDER BY tags[2]) "
                   "FROM fm_t GROUP BY tags[1] ORDER BY 1")
    same_msg(pair, "SELECT tablename, hasindexes, hasrules FROM pg_tables WHERE tablename = 'fm_t'")
    for c in pair:
        cur = c.cursor()
        cur.execute("DROP TABLE fm_t")
        cur.close()
