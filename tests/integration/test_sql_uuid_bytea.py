"""test_sql_uuid_bytea.py -- the uuid type and bytea functions against a reference
PostgreSQL 15: uuid input forms and errors, output, ordering, uuid primary keys
across both shards and a restart, gen_random_uuid; bytea hex / escape input, hex
output, encode / decode (hex, base64, escape), get_byte / set_byte, ||, substr,
position, length, md5, sha256, comparisons, a bytea column across a restart, and
psycopg 3's binary results (uuid -> UUID, bytea -> bytes)."""
import uuid

import psycopg2
import pytest

SETUP = [
    "DROP TABLE IF EXISTS ub_t",
    "CREATE TABLE ub_t (id uuid PRIMARY KEY, b bytea, n int)",
    "INSERT INTO ub_t VALUES "
    "('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x0001ff', 1), "
    "('{00000000-0000-0000-0000-000000000001}', 'abc', 2), "
    "('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '', 3), "
    "('a0eebc999c0b4ef8bb6d6bb9bd380a12', NULL, 4), "
    "('a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a13', '\\\\x\\001', 5)",
]


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
    for sql in SETUP:
        for c in (ours, ref):
            assert _run(c, sql)[0] == "ok", sql
    yield ours, ref
    for c in (ours, ref):
        _run(c, "DROP TABLE ub_t")
        c.close()


QUERIES = [
    "SELECT id::text, n FROM ub_t ORDER BY id",
    "SELECT id::text FROM ub_t ORDER BY id DESC",
    "SELECT n FROM ub_t WHERE id = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
    "SELECT n FROM ub_t WHERE id > 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' ORDER BY n",
    "SELECT count(DISTINCT id), min(n) FROM ub_t",
    "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1'::uuid",
    "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111'::uuid",
    "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g'::uuid",
    "SELECT '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
    "SELECT 'a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
    "SELECT '-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
    "SELECT ''::uuid",
    "INSERT INTO ub_t VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL, 9)",
    "SELECT length(gen_random_uuid()::text), substr(gen_random_uuid()::text, 15, 1), "
    "gen_random_uuid() <> gen_random_uuid()",
    # bytea
    "SELECT n, b::text, length(b), octet_length(b) FROM ub_t ORDER BY n",
    "SELECT n FROM ub_t WHERE b > 'ab' ORDER BY n",
    "SELECT '\\x4142'::bytea, 'a\\\\b'::bytea, 'a\\101b'::bytea, '\\x 41 42'::bytea",
    "SELECT 'a\\9'::bytea",
    "SELECT '\\x4'::bytea",
    "SELECT '\\xzz'::bytea",
    "SELECT encode('\\x00ff5c41'::bytea, 'hex'), encode('\\x00ff5c41'::bytea, 'escape'), "
    "encode('hello world'::bytea, 'base64'), encode('ab'::bytea, 'base64'), encode('a'::bytea, 'BASE64')",
    "SELECT encode(decode(repeat('ab', 100), 'hex'), 'base64')",
    "SELECT decode('4142', 'hex'), decode('aGVsbG8=', 'base64'), decode('aGVs bG8h', 'base64'), "
    "decode('a\\\\b\\001', 'escape'), decode('', 'base64')",
    "SELECT decode('41x', 'hex')",
    "SELECT decode('414', 'hex')",
    "SELECT decode('aGVsbG8', 'base64')",
    "SELECT decode('a$==', 'base64')",
    "SELECT decode('=aaa', 'base64')",
    "SELECT decode('ab', 'rot13')",
    "SELECT encode('ab'::bytea, 'rot13')",
    "SELECT get_byte('\\x01ff'::bytea, 1), set_byte('\\x0102'::bytea, 0, 255), set_byte('\\x0102'::bytea, 1, 257)",
    "SELECT get_byte('\\x01'::bytea, 1)",
    "SELECT get_byte(''::bytea, 0)",
    "SELECT set_byte('\\x01'::bytea, -1, 0)",
    "SELECT '\\x01'::bytea || '\\x02'::bytea, 'ab'::bytea || '\\x00', substr('\\x010203'::bytea, 2), "
    "substring('\\x010203'::bytea, 2, 1), position('\\x03'::bytea in '\\x010203'::bytea)",
    "SELECT md5('abc'::bytea), sha256('abc'::bytea), sha224(''::bytea), sha512('x'::bytea) = sha512('x'::bytea)",
    "SELECT '\\x01'::bytea < '\\x0100'::bytea, '\\xff'::bytea > '\\x01ff'::bytea, 'a'::bytea = 'a'::bytea",
    "SET bytea_output = 'nonsense'",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_matches_postgres(pair, sql):
    ours, ref = pair
    assert _run(ours, sql) == _run(ref, sql), sql


def test_uuid_bytea_columns_restart(server_factory):
    srv = server_factory("uuid-restart")
    srv.start()
    c = srv.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("CREATE TABLE ur (id uuid PRIMARY KEY, b bytea)")
    ids = [uuid.uuid4() for _ in range(40)]
    for i, u in enumerate(ids):
        cur.execute("INSERT INTO ur VALUES (%s, %s)", (str(u), psycopg2.Binary(bytes([i, 0, 255 - i]))))
    cur.execute("INSERT INTO ur (id) SELECT gen_random_uuid()")
    c.close()
    srv.restart(kill=True)
    c = srv.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("SELECT id::text FROM ur WHERE b IS NOT NULL ORDER BY id")
    assert [r[0] for r in cur.fetchall()] == sorted(str(u) for u in ids)
    cur.execute("SELECT encode(b, 'hex') FROM ur WHERE id = %s", (str(ids[7]),))
    assert cur.fetchone()[0] == "0700f8"
    cur.execute("SELECT count(*) FROM ur WHERE b IS NULL AND substr(id::text, 15, 1) = '4'")
    assert cur.fetchone()[0] == 1
    c.close()


def test_psycopg3_binary(server):
    psycopg = pytest.importorskip("psycopg")
    u = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        cur = conn.cursor(binary=True)
        cur.execute("SELECT %s::uuid, %s::bytea, '\\x00ff'::bytea, gen_random_uuid()", (u, b"\x00\x01\xfe"))
        row = cur.fetchone()
        assert row[0] == u
        assert row[1] == b"\x00\x01\xfe"
        assert row[2] == b"\x00\xff"
        assert isinstance(row[3], uuid.UUID) and row[3].version == 4
        info = psycopg.types.TypeInfo.fetch(conn, "uuid")
        assert info is not None and info.oid == 2950
