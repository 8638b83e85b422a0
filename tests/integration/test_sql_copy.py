"""test_sql_copy.py -- COPY table FROM STDIN in the text format through psycopg2
(CopyInResponse / CopyData / CopyDone / CopyFail), checked against PostgreSQL 15 fed
the same data: escapes, NULL markers, column lists with defaults, the end marker,
chunks cut in the middle of lines, errors, and the session staying usable."""
import io

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
    for sql in ["COPY cp_t TO STDOUT", "COPY cp_t FROM '/etc/passwd'", "COPY cp_t FROM STDIN WITH (FORMAT csv)"]:
        with pytest.raises(psycopg2.Error) as ei:
            cur.copy_expert(sql, io.BytesIO(b""))
        assert ei.value.pgcode == "0A000", sql
    cur.execute("SELECT 1")    # the session is still in step
    assert cur.fetchone() == (1,)
    cur.close()
