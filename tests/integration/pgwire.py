"""pgwire.py -- a minimal PostgreSQL v3 wire client for tests that must send bytes a
real driver never would. Builds messages, reads messages, decodes ErrorResponse."""
import socket
import struct

PROTOCOL_3 = 196608


def startup_packet(user="postgres", database="postgres"):
    body = struct.pack("!I", PROTOCOL_3)
    for k, v in (("user", user), ("database", database)):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def message(kind, body=b""):
    return kind + struct.pack("!I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


class Conn:
    def __init__(self, host, port, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_message(self):
        """Returns (type byte, body) or None when the server closed the connection."""
        try:
            if not self._fill(5):
                return None
        except ConnectionResetError:
            return None
        kind = self.buf[:1]
        length = struct.unpack("!I", self.buf[1:5])[0]
        assert 4 <= length < 1 << 30, "bad length %d from server" % length
        if not self._fill(1 + length):
            raise AssertionError("server closed mid-message")
        body = self.buf[5:1 + length]
        self.buf = self.buf[1 + length:]
        return kind, body

    def read_until(self, kinds):
        """Reads messages until one whose type is in kinds (or the connection closes);
        returns the list of (type, body) read, the last being the one that stopped it."""
        got = []
        while True:
            m = self.read_message()
            if m is None:
                return got
            got.append(m)
            if m[0] in kinds:
                return got

    def login(self):
        """Sends a normal startup packet and reads up to ReadyForQuery."""
        self.send(startup_packet())
        msgs = self.read_until({b"Z", b"E"})
        assert msgs and msgs[-1][0] == b"Z", "login failed: %r" % msgs[-3:]
        return msgs


def error_fields(body):
    """Decodes an ErrorResponse/NoticeResponse body into {field letter: text}."""
    out = {}
    i = 0
    while i < len(body) and body[i] != 0:
        code = chr(body[i])
        end = body.index(b"\0", i + 1)
        out[code] = body[i + 1:end].decode("utf-8", "replace")
        i = end + 1
    return out
