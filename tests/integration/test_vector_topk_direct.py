"""test_vector_topk_direct.py -- the indexed top-k's rows go to the coordinator as
vindex picked them (sql/exec_topk.c: no shard-side sort key, no copy), on two shards,
checked against brute force after the changes that make graph entries stale.

With at most 1000 rows per shard and hnsw.ef_search = 1000 the index search is exact
(vector/README.md), so every answer must equal brute force over the table: plain,
with OFFSET, with the distance and other columns projected, after UPDATEs that move
vectors, after DELETEs, and while another session holds uncommitted inserts (never
visible) and uncommitted updates (the old vectors stay visible).
Vector search is NextDB's own surface (the reference PostgreSQL has no pgvector)."""
import random
import struct

import pytest

pytestmark = pytest.mark.nextdb_only

DIM = 6
N = 900


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def lit(v):
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


def rvec(rng):
    return [f32(round(rng.uniform(-1, 1), 3)) for _ in range(DIM)]


def brute(rows, q, k, off=0):
    d = sorted((sum((a - b) ** 2 for a, b in zip(v, q)), i) for i, v in rows.items())
    return [i for _, i in d[off:off + k]]


def knn(cur, q, k, off=0):
    cur.execute("SELECT id FROM tk ORDER BY v <-> %s LIMIT %s OFFSET %s", (lit(q), k, off))
    return [r[0] for r in cur.fetchall()]


def check(cur, rows, rng, n=15):
    for _ in range(n):
        q = rvec(rng)
        assert knn(cur, q, 10) == brute(rows, q, 10)
        assert knn(cur, q, 5, 7) == brute(rows, q, 5, 7)


def test_indexed_topk_equals_brute_force_through_changes(server_factory):
    srv = server_factory("vtopk", shards=2)
    srv.start()
    rng = random.Random(11)
    c = srv.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("CREATE TABLE tk (id int PRIMARY KEY, v vector(%d), tag text)" % DIM)
    rows = {i: rvec(rng) for i in range(N)}
    items = sorted(rows.items())
    for s in range(0, N, 300):
        chunk = items[s:s + 300]
        cur.execute("INSERT INTO tk VALUES " + ",".join("(%s, %s, %s)" for _ in chunk),
                    [x for i, v in chunk for x in (i, lit(v), "t%d" % i)])
    cur.execute("CREATE INDEX ON tk USING hnsw (v vector_l2_ops)")
    cur.execute("SET hnsw.ef_search = 1000")
    cur.execute("EXPLAIN SELECT id FROM tk ORDER BY v <-> %s LIMIT 10", (lit([0] * DIM),))
    assert "Index Scan using tk_v_idx" in "\n".join(r[0] for r in cur.fetchall())
    check(cur, rows, rng)
    # projected columns and the distance come from the rows vindex returned
    q = rvec(rng)
    cur.execute("SELECT id, tag, v, v <-> %s FROM tk ORDER BY v <-> %s LIMIT 4", (lit(q), lit(q)))
    got = cur.fetchall()
    assert [r[0] for r in got] == brute(rows, q, 4)
    for i, tag, v, d in got:
        assert tag == "t%d" % i
        assert [f32(float(x)) for x in v.strip("[]").split(",")] == rows[i]
        assert abs(d - sum((a - b) ** 2 for a, b in zip(rows[i], q)) ** 0.5) < 1e-5
    # UPDATE moves vectors (new entries; the old ones are stale)
    for i in range(0, N, 7):
        rows[i] = rvec(rng)
        cur.execute("UPDATE tk SET v = %s WHERE id = %s", (lit(rows[i]), i))
    check(cur, rows, rng)
    # DELETE
    cur.execute("DELETE FROM tk WHERE id % 5 = 1")
    rows = {i: v for i, v in rows.items() if i % 5 != 1}
    check(cur, rows, rng)
    # another session's uncommitted inserts and updates
    o = srv.connect(autocommit=True)
    ocur = o.cursor()
    ocur.execute("BEGIN")
    extra = {N + j: rvec(rng) for j in range(40)}
    for i, v in extra.items():
        ocur.execute("INSERT INTO tk VALUES (%s, %s, 'x')", (i, lit(v)))
    for i in (2, 3, 4):
        ocur.execute("UPDATE tk SET v = %s WHERE id = %s", (lit(rvec(rng)), i))
    check(cur, rows, rng)
    for i in (2, 3, 4):      # its own old vector still finds the row
        assert knn(cur, rows[i], 1) == [i]
    ocur.execute("ROLLBACK")
    check(cur, rows, rng, 5)
    o.close()
    c.close()
