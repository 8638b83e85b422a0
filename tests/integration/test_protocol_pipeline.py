"""test_protocol_pipeline.py -- extended-protocol pipelines: several Parse/Bind/Execute
before one Sync, as pgbench's \\startpipeline and libpq's pipeline mode send them.

- An explicit transaction (BEGIN, writes to rows on different shards, COMMIT) sent as
  one pipeline answers every message in order and commits.
- An error mid-pipeline: the server answers ErrorResponse and skips every message up
  to the Sync (no replies for them), then ReadyForQuery: 'E' inside the explicit
  transaction the pipeline opened (which ROLLBACK then ends), 'I' for an implicit one.
- Without BEGIN, the statements before one Sync form one implicit transaction: an
  error rolls back the earlier statements of the same pipeline, and without error they
  all commit at the Sync.
- After an error the next pipeline on the connection works normally.
"""
import struct

import pytest

from pgwire import Conn, cstr, error_fields, message


def parse(sql, name=""):
    return message(b"P", cstr(name) + cstr(sql) + struct.pack("!H", 0))


def bind_execute(name="", params=()):
    body = cstr("") + cstr(name) + struct.pack("!H", 0) + struct.pack("!H", len(params))
    for p in params:
        v = str(p).encode()
        body += struct.pack("!i", len(v)) + v
    body += struct.pack("!H", 0)
    return message(b"B", body) + message(b"E", cstr("") + struct.pack("!i", 0))


def stmt(sql, params=()):
    """Parse (unnamed), Bind, Execute of one statement."""
    return parse(sql) + bind_execute("", params)


SYNC = message(b"S")


def kinds(msgs):
    return [k for k, _ in msgs]


def ready_status(msgs):
    assert msgs and msgs[-1][0] == b"Z", msgs
    return msgs[-1][1]


def simple(c, sql):
    c.send(message(b"Q", cstr(sql)))
    return c.read_until({b"Z"})


def rows_of(msgs):
    out = []
    for k, b in msgs:
        if k != b"D":
            continue
        n = struct.unpack("!H", b[:2])[0]
        i, row = 2, []
        for _ in range(n):
            ln = struct.unpack("!i", b[i:i + 4])[0]
            i += 4
            row.append(None if ln < 0 else b[i:i + ln].decode())
            i += max(ln, 0)
        out.append(tuple(row))
    return out


@pytest.fixture
def conn(server):
    with server.connect() as setup:
        cur = setup.cursor()
        cur.execute("DROP TABLE IF EXISTS pipe_t")
        cur.execute("CREATE TABLE pipe_t (id int PRIMARY KEY, v int NOT NULL)")
    setup.close()
    c = Conn(server.host, server.port)
    c.login()
    yield c
    c.close()


def count(c):
    return rows_of(simple(c, "SELECT count(*), coalesce(sum(v), 0) FROM pipe_t"))[0]


def test_explicit_transaction_in_one_pipeline(conn):
    # Eight rows: with several shards they land on more than one.
    inserts = b"".join(stmt("INSERT INTO pipe_t VALUES ($1, $2)", (i, i * 10)) for i in range(8))
    conn.send(stmt("BEGIN") + inserts + stmt("UPDATE pipe_t SET v = v + 1 WHERE id < $1", (4,))
              + stmt("COMMIT") + SYNC)
    msgs = conn.read_until({b"Z"})
    assert kinds(msgs) == [b"1", b"2", b"C"] * 11 + [b"Z"], msgs
    tags = [b.rstrip(b"\0") for k, b in msgs if k == b"C"]
    assert tags == [b"BEGIN"] + [b"INSERT 0 1"] * 8 + [b"UPDATE 4", b"COMMIT"]
    assert ready_status(msgs) == b"I"
    assert count(conn) == ("8", str(sum(i * 10 for i in range(8)) + 4))


def test_error_mid_pipeline_skips_to_sync_in_explicit_transaction(conn):
    conn.send(stmt("BEGIN") + stmt("INSERT INTO pipe_t VALUES (1, 1)")
              + stmt("UPDATE pipe_t SET v = v / (v - 1)")      # 22012 when it runs
              + stmt("INSERT INTO pipe_t VALUES (2, 2)")        # skipped
              + stmt("COMMIT") + SYNC)                          # skipped up to the Sync
    msgs = conn.read_until({b"Z"})
    assert kinds(msgs) == [b"1", b"2", b"C", b"1", b"2", b"C", b"1", b"2", b"E", b"Z"], msgs
    assert error_fields(msgs[-2][1])["C"] == "22012"
    assert ready_status(msgs) == b"E"              # the transaction BEGIN opened failed
    # Still in the failed transaction: statements are refused until ROLLBACK.
    conn.send(stmt("SELECT 1") + SYNC)
    msgs = conn.read_until({b"Z"})
    assert [error_fields(b)["C"] for k, b in msgs if k == b"E"] == ["25P02"], msgs
    assert ready_status(msgs) == b"E"
    msgs = simple(conn, "ROLLBACK")
    assert ready_status(msgs) == b"I"
    assert count(conn) == ("0", "0")


def test_implicit_transaction_of_one_pipeline_rolls_back_on_error(conn):
    conn.send(stmt("INSERT INTO pipe_t VALUES (1, 1)") + stmt("INSERT INTO pipe_t VALUES (2, 2)")
              + stmt("INSERT INTO pipe_t VALUES (1, 3)")     # 23505
              + stmt("INSERT INTO pipe_t VALUES (4, 4)")     # skipped
              + SYNC)
    msgs = conn.read_until({b"Z"})
    assert kinds(msgs) == [b"1", b"2", b"C", b"1", b"2", b"C", b"1", b"2", b"E", b"Z"], msgs
    assert error_fields(msgs[-2][1])["C"] == "23505"
    assert ready_status(msgs) == b"I"
    assert count(conn) == ("0", "0")    # the first two rolled back with the pipeline


def test_implicit_transaction_of_one_pipeline_commits_at_sync(conn):
    conn.send(b"".join(stmt("INSERT INTO pipe_t VALUES ($1, 1)", (i,)) for i in range(6))
              + stmt("UPDATE pipe_t SET v = v * 5") + SYNC)
    msgs = conn.read_until({b"Z"})
    assert kinds(msgs) == [b"1", b"2", b"C"] * 7 + [b"Z"], msgs
    assert ready_status(msgs) == b"I"
    assert count(conn) == ("6", "30")


def test_pipeline_after_an_error_works(conn):
    conn.send(stmt("INSERT INTO pipe_t VALUES (9, NULL)")      # 23502 when it runs
              + stmt("INSERT INTO pipe_t VALUES (8, 8)") + SYNC
              + stmt("INSERT INTO pipe_t VALUES (7, 7)") + stmt("SELECT v FROM pipe_t WHERE id = 7")
              + SYNC)
    first = conn.read_until({b"Z"})
    assert kinds(first) == [b"1", b"2", b"E", b"Z"], first
    assert error_fields(first[-2][1])["C"] == "23502"
    second = conn.read_until({b"Z"})
    assert kinds(second) == [b"1", b"2", b"C", b"1", b"2", b"D", b"C", b"Z"], second
    assert rows_of(second) == [("7",)]
    assert count(conn) == ("1", "7")
