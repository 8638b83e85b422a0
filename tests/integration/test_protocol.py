"""test_protocol.py -- malformed input on the PostgreSQL port: every case gets an
ErrorResponse with the expected SQLSTATE (or, for a broken startup packet, is at least
closed cleanly), and the server keeps serving other connections afterwards. Also: a
named statement is parsed once, executed with several parameter values, closed, and
then unknown (26000).

Startup-packet errors: PostgreSQL reports these with COMMERROR, i.e. only in its own
log, and closes the connection without a message. NextDB is stricter and answers with
ErrorResponse 08P01 first; against PostgreSQL the test accepts the silent close.
"""
import struct

import pytest

import harness
from pgwire import Conn, cstr, error_fields, message, startup_packet

STRICT = harness.TARGET == "nextdb"


def still_serving(server):
    with server.connect() as conn:
        cur = conn.cursor()
        cur.execute("SELECT 40 + 2")
        assert cur.fetchone() == (42,)
    conn.close()


def expect_error_or_close(c, sqlstate, strict=STRICT):
    """Reads until ErrorResponse or close. Returns the ErrorResponse fields or None.
    With strict, a close without an ErrorResponse fails the test."""
    msgs = c.read_until({b"E"})
    if msgs and msgs[-1][0] == b"E":
        f = error_fields(msgs[-1][1])
        assert f.get("C") == sqlstate, f
        assert f.get("S") in ("ERROR", "FATAL"), f
        assert f.get("M"), f
        return f
    assert not msgs, "unexpected reply %r" % msgs
    assert not strict, "connection closed without an ErrorResponse %s" % sqlstate
    return None


@pytest.mark.parametrize("packet", [
    pytest.param(struct.pack("!I", 0), id="length-0"),
    # Only the header: the server must refuse on the length alone (sending all 20000
    # bytes could make its close a TCP reset that destroys the ErrorResponse in flight).
    pytest.param(struct.pack("!II", 20000, 196608), id="length-20000"),
    pytest.param(startup_packet()[:-7], id="truncated"),
])
def test_bad_startup_packet(server, packet):
    c = Conn(server.host, server.port)
    try:
        c.send(packet)
        truncated = packet == startup_packet()[:-7]
        if truncated:
            c.sock.shutdown(1)     # SHUT_WR: the rest never comes
        # A client that ended its side mid-packet is gone: like PostgreSQL, NextDB
        # may just close (an ErrorResponse is allowed but not required).
        expect_error_or_close(c, "08P01", strict=STRICT and not truncated)
        assert c.read_message() is None, "connection must be closed after a bad startup"
    finally:
        c.close()
    still_serving(server)


def test_garbage_message_type(server):
    c = Conn(server.host, server.port)
    try:
        c.login()
        c.send(message(b"x", b"garbage"))
        msgs = c.read_until({b"E"})
        assert msgs and msgs[-1][0] == b"E", msgs
        assert error_fields(msgs[-1][1])["C"] == "08P01"
    finally:
        c.close()
    still_serving(server)


def test_bind_with_too_many_parameters(server):
    c = Conn(server.host, server.port)
    try:
        c.login()
        c.send(message(b"P", cstr("") + cstr("SELECT $1::int") + struct.pack("!H", 0)))
        # Bind: portal "", statement "", 0 format codes, then claims 1000 parameters
        # but the message ends right there.
        c.send(message(b"B", cstr("") + cstr("") + struct.pack("!H", 0) + struct.pack("!H", 1000)))
        c.send(message(b"S"))
        msgs = c.read_until({b"E"})
        assert msgs and msgs[-1][0] == b"E", msgs
        assert error_fields(msgs[-1][1])["C"] == "08P01", error_fields(msgs[-1][1])
    finally:
        c.close()
    still_serving(server)


def test_invalid_sql_keeps_connection(server):
    c = Conn(server.host, server.port)
    try:
        c.login()
        c.send(message(b"Q", cstr("SELEC 1")))
        msgs = c.read_until({b"Z"})
        errors = [error_fields(b) for k, b in msgs if k == b"E"]
        assert len(errors) == 1 and errors[0]["C"] == "42601", msgs
        assert msgs[-1] == (b"Z", b"I")
        c.send(message(b"Q", cstr("SELECT 7")))
        msgs = c.read_until({b"Z"})
        rows = [b for k, b in msgs if k == b"D"]
        assert rows == [struct.pack("!HI", 1, 1) + b"7"], msgs
        c.send(message(b"X"))
    finally:
        c.close()
    still_serving(server)


def test_many_bad_connections_then_good(server):
    for _ in range(20):
        c = Conn(server.host, server.port)
        c.send(b"\xff" * 64)
        c.read_until({b"E"})
        c.close()
    still_serving(server)


def _bind_execute(c, statement, value):
    """Bind an int4 text parameter to a named statement, Execute, Sync; returns the
    messages up to ReadyForQuery."""
    val = str(value).encode()
    c.send(message(b"B", cstr("") + cstr(statement) + struct.pack("!H", 0)
                   + struct.pack("!H", 1) + struct.pack("!i", len(val)) + val + struct.pack("!H", 0))
           + message(b"E", cstr("") + struct.pack("!i", 0)) + message(b"S"))
    return c.read_until({b"Z"})


def test_named_statement_reused_then_closed(server):
    c = Conn(server.host, server.port)
    try:
        c.login()
        c.send(message(b"P", cstr("s1") + cstr("SELECT $1::int * 2") + struct.pack("!H", 0))
               + message(b"S"))
        msgs = c.read_until({b"Z"})
        assert [k for k, _ in msgs] == [b"1", b"Z"], msgs      # ParseComplete
        for v in (1, 21, -5):
            msgs = _bind_execute(c, "s1", v)
            rows = [b for k, b in msgs if k == b"D"]
            want = str(v * 2).encode()
            assert rows == [struct.pack("!HI", 1, len(want)) + want], msgs
        c.send(message(b"C", b"S" + cstr("s1")) + message(b"S"))    # Close statement
        assert [k for k, _ in c.read_until({b"Z"})] == [b"3", b"Z"]  # CloseComplete
        msgs = _bind_execute(c, "s1", 1)
        errors = [error_fields(b) for k, b in msgs if k == b"E"]
        assert len(errors) == 1 and errors[0]["C"] == "26000", msgs
        assert msgs[-1][0] == b"Z"
    finally:
        c.close()
