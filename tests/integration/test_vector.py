"""test_vector.py -- pgvector compatibility: the vector type (text and binary forms,
errors), operators and functions against values computed here the way pgvector
computes them (float32 sums in element order), exact kNN against brute force, HNSW
indexes (DDL, EXPLAIN, maintenance under DELETE/UPDATE, restart), filtered kNN that
must fill its LIMIT at 1% / 10% / 50% selectivity, and recall@10 >= 0.95 on the
first 20,000 Fashion-MNIST images (Debian package dataset-fashion-mnist).

Vector search is NextDB's own surface here (the reference PostgreSQL has no
pgvector), so the module runs against NextDB only."""
import gzip
import heapq
import math
import os
import random
import struct

import psycopg
import psycopg2
import psycopg2.errors
import pytest

pytestmark = pytest.mark.nextdb_only

VECTOR_OID = 8100
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


@pytest.fixture
def conn(server):
    c = server.connect(autocommit=True)
    yield c
    c.close()


def _err(conn, sql, params=None):
    """(sqlstate, message) of a statement that must fail."""
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as ei:
        cur.execute(sql, params)
    return ei.value.pgcode, ei.value.diag.message_primary


def _one(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur.fetchone()[0]


def lit(v):
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


# pgvector's arithmetic, emulated exactly: float32 values, float32 accumulation in
# element order (rounding a double result of +, -, * on float32 operands to float32
# gives the float32 result), double only where pgvector uses double.
def pv_l2(a, b):
    s = 0.0
    for x, y in zip(a, b):
        d = f32(x - y)
        s = f32(s + f32(d * d))
    return math.sqrt(s)


def pv_dot(a, b):
    s = 0.0
    for x, y in zip(a, b):
        s = f32(s + f32(x * y))
    return s


def pv_cos(a, b):
    sim, na, nb = pv_dot(a, b), pv_dot(a, a), pv_dot(b, b)
    if na * nb == 0:
        return float("nan")
    s = sim / math.sqrt(na * nb)
    return 1.0 - max(-1.0, min(1.0, s))


def pv_l1(a, b):
    s = 0.0
    for x, y in zip(a, b):
        s = f32(s + abs(f32(x - y)))
    return s


def rand_vec(rng, dim):
    return [f32(rng.uniform(-1, 1)) for _ in range(dim)]


def insert_rows(conn, table, rows, batch=500):
    """rows: tuples (id, vector, extra int) as multi-row INSERTs."""
    cur = conn.cursor()
    for s in range(0, len(rows), batch):
        cur.execute("INSERT INTO %s VALUES %s" % (table, ",".join(
            "(%d,'%s',%d)" % (i, lit(v), e) for i, v, e in rows[s:s + batch])))


# ---- type --------------------------------------------------------------------------

def test_extension_and_type_catalog(conn, server):
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
    cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
    cur.execute("SELECT oid, typname FROM pg_type WHERE typname = 'vector'")
    assert cur.fetchall() == [(VECTOR_OID, "vector")]
    assert _one(conn, "SELECT 'vector'::regtype::oid") == VECTOR_OID
    cur.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'")
    assert cur.fetchall() == [("vector",)]
    with psycopg.connect(server.dsn, autocommit=True) as c3:
        info = psycopg.types.TypeInfo.fetch(c3, "vector")
        assert info is not None and info.oid == VECTOR_OID and info.name == "vector"


def test_text_io_and_typmod(conn):
    cur = conn.cursor()
    cur.execute("SELECT '[1,2,3]'::vector, ' [ 1.5 , -2e-7,3e20 ] '::vector(3), '[0.1]'::vector, "
                "'[1.0000001, 16777217]'::vector")
    assert cur.fetchone() == ("[1,2,3]", "[1.5,-2e-07,3e+20]", "[0.1]", "[1.0000001,1.6777216e+07]")
    cur.execute("DROP TABLE IF EXISTS vt")
    cur.execute("CREATE TABLE vt (id int PRIMARY KEY, v vector(3), w vector)")
    cur.execute("INSERT INTO vt VALUES (1, '[1,2,3]', '[1]'), (2, %s, '[4,5,6,7]'), (3, NULL, NULL)",
                ("[0.5,-0.25,1e-3]",))
    cur.execute("SELECT id, v, w, vector_dims(w) FROM vt ORDER BY id")
    assert cur.fetchall() == [(1, "[1,2,3]", "[1]", 1), (2, "[0.5,-0.25,0.001]", "[4,5,6,7]", 4),
                              (3, None, None, None)]
    cur.execute("SELECT ARRAY[1,2,3]::vector, '{1.5,2}'::real[]::vector(2), '[1,-2.5]'::vector::real[]")
    assert cur.fetchone() == ("[1,2,3]", "[1.5,2]", [1.0, -2.5])
    cur.execute("INSERT INTO vt VALUES (4, ARRAY[7,8,9], NULL)")
    assert _one(conn, "SELECT v FROM vt WHERE id = 4") == "[7,8,9]"
    assert _err(conn, "SELECT ARRAY[1,NULL]::vector") == ("22004", "array must not contain nulls")
    cur.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'vt'::regclass AND attname IN ('v', 'w') ORDER BY attnum")
    assert cur.fetchall() == [("vector(3)",), ("vector",)]


@pytest.mark.parametrize("sql,state,msg", [
    ("SELECT '[1,2]'::vector(3)", "22000", "expected 3 dimensions, not 2"),
    ("INSERT INTO vt VALUES (9, '[1,2]', NULL)", "22000", "expected 3 dimensions, not 2"),
    ("SELECT '[1,2]'::vector <-> '[1,2,3]'", "22000", "different vector dimensions 2 and 3"),
    ("SELECT l2_distance('[1]', '[1,2]'::vector)", "22000", "different vector dimensions 1 and 2"),
    ("SELECT '1,2'::vector", "22P02", 'invalid input syntax for type vector: "1,2"'),
    ("SELECT '[1,,2]'::vector", "22P02", 'invalid input syntax for type vector: "[1,,2]"'),
    ("SELECT '[1,2]x'::vector", "22P02", 'invalid input syntax for type vector: "[1,2]x"'),
    ("SELECT '[1 2]'::vector", "22P02", 'invalid input syntax for type vector: "[1 2]"'),
    ("SELECT '[]'::vector", "22000", "vector must have at least 1 dimension"),
    ("SELECT '[NaN]'::vector", "22000", "NaN not allowed in vector"),
    ("SELECT '[1,Infinity]'::vector", "22000", "infinite value not allowed in vector"),
    ("SELECT '[1e39]'::vector", "22003", '"1e39" is out of range for type vector'),
    ("SELECT '[1]'::vector(0)", "22023", "dimensions for type vector must be at least 1"),
    ("SELECT '[1]'::vector(16001)", "22023", "dimensions for type vector cannot exceed 16000"),
    ("SELECT ('[' || repeat('1,', 16000) || '1]')::vector", "54000",
     "vector cannot have more than 16000 dimensions"),
    ("SELECT '[1e30]'::vector * '[1e30]'", "22003", "value out of range: overflow"),
])
def test_errors(conn, sql, state, msg):
    conn.cursor().execute("CREATE TABLE IF NOT EXISTS vt (id int PRIMARY KEY, v vector(3), w vector)")
    assert _err(conn, sql) == (state, msg)
    assert _one(conn, "SELECT 1") == 1      # the server is still there


def test_binary_format_psycopg3(server):
    """pgvector's binary form both ways: int16 dim, int16 0, float4 big-endian."""
    class VectorDumper(psycopg.adapt.Dumper):
        format = psycopg.pq.Format.BINARY
        oid = VECTOR_OID

        def dump(self, obj):
            return struct.pack(">hh%df" % len(obj.v), len(obj.v), 0, *obj.v)

    class Vec:
        def __init__(self, v):
            self.v = v

    with psycopg.connect(server.dsn, autocommit=True) as c:
        c.adapters.register_dumper(Vec, VectorDumper)
        c.execute("DROP TABLE IF EXISTS vbin")
        c.execute("CREATE TABLE vbin (id int PRIMARY KEY, v vector(3))")
        c.execute("INSERT INTO vbin VALUES (%b, %b)", (1, Vec([1.5, -2.0, 0.1])))
        with c.cursor(binary=True) as cur:
            cur.execute("SELECT v FROM vbin WHERE id = 1")
            (raw,) = cur.fetchone()
            assert cur.pgresult.ftype(0) == VECTOR_OID and cur.pgresult.fformat(0) == 1
            assert bytes(raw) == struct.pack(">hh3f", 3, 0, 1.5, -2.0, 0.1)
        assert c.execute("SELECT v::text FROM vbin").fetchone() == ("[1.5,-2,0.1]",)
        with pytest.raises(psycopg.Error) as ei:
            c.execute("INSERT INTO vbin VALUES (%b, %b)", (2, Vec([1.0, 2.0])))
        assert ei.value.sqlstate == "22000" and "expected 3 dimensions, not 2" in str(ei.value)


# ---- operators and functions ---------------------------------------------------------

def test_operators_match_pgvector_arithmetic(conn):
    rng = random.Random(7)
    cur = conn.cursor()
    for dim in (1, 3, 16, 97):
        a, b = rand_vec(rng, dim), rand_vec(rng, dim)
        cur.execute("SELECT %s::vector <-> %s, %s::vector <#> %s, %s::vector <=> %s, %s::vector <+> %s, "
                    "l2_distance(%s::vector, %s), inner_product(%s::vector, %s), "
                    "cosine_distance(%s::vector, %s), l1_distance(%s::vector, %s), "
                    "vector_norm(%s::vector), vector_dims(%s::vector)",
                    (lit(a), lit(b)) * 8 + (lit(a), lit(a)))
        got = cur.fetchone()
        norm = math.sqrt(sum(x * x for x in a))
        assert got == (pv_l2(a, b), -pv_dot(a, b), pv_cos(a, b), pv_l1(a, b), pv_l2(a, b),
                       pv_dot(a, b), pv_cos(a, b), pv_l1(a, b), norm, dim)


def test_nan_and_aggregates(conn):
    cur = conn.cursor()
    assert math.isnan(_one(conn, "SELECT '[0,0]'::vector <=> '[1,1]'"))
    cur.execute("SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), "
                "'[1,2]'::vector + '[0.5,1]', '[1,2]'::vector - '[0.5,1]', '[1,2]'::vector * '[3,4]', "
                "'[1,2]'::vector = '[1,2]', '[1,2]'::vector < '[1,3]'")
    assert cur.fetchone() == ("[0.6,0.8]", "[0,0]", "[1.5,3]", "[0.5,1]", "[3,8]", True, True)
    cur.execute("DROP TABLE IF EXISTS vagg")
    cur.execute("CREATE TABLE vagg (id int PRIMARY KEY, g int, v vector(2))")
    cur.execute("INSERT INTO vagg VALUES (1,1,'[1,2]'),(2,1,'[2,4]'),(3,2,'[4,9]'),(4,2,NULL),(5,1,'[0.1,0.2]')")
    cur.execute("SELECT g, avg(v), sum(v) FROM vagg GROUP BY g ORDER BY g")
    rows = cur.fetchall()
    assert rows[1] == (2, "[4,9]", "[4,9]")
    assert rows[0][0] == 1 and rows[0][2] == "[3.1,6.2]"
    avg = [f32(float(x)) for x in rows[0][1].strip("[]").split(",")]
    assert avg == [f32((1.0 + 2.0 + f32(0.1)) / 3), f32((2.0 + 4.0 + f32(0.2)) / 3)]
    assert _one(conn, "SELECT avg(v) FROM vagg WHERE id > 100") is None
    assert _err(conn, "SELECT avg(v) FROM (SELECT '[1]'::vector AS v UNION ALL SELECT '[1,2]'::vector) s") == \
        ("22000", "expected 1 dimensions, not 2")


# ---- exact kNN -------------------------------------------------------------------------

OPS = {"<->": pv_l2, "<#>": lambda a, b: -pv_dot(a, b), "<=>": pv_cos, "<+>": pv_l1}


def brute(rows, q, op, k, pred=lambda r: True):
    f = OPS[op]
    return [r[0] for r in sorted((r for r in rows if pred(r)), key=lambda r: f(r[1], q))[:k]]


@pytest.fixture(scope="module")
def knn_rows(server):
    rng = random.Random(11)
    rows = [(i, rand_vec(rng, 8), i % 100) for i in range(3000)]
    c = server.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS knn")
    cur.execute("CREATE TABLE knn (id int PRIMARY KEY, v vector(8), cat int)")
    insert_rows(c, "knn", rows)
    c.close()
    return rows


def test_exact_knn_matches_brute_force(conn, knn_rows):
    rng = random.Random(5)
    cur = conn.cursor()
    plan = "\n".join(r[0] for r in _rows(conn, "EXPLAIN SELECT id FROM knn ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5"))
    assert "Seq Scan on knn" in plan and "Exact per-shard top-k" in plan
    for op in OPS:
        q = rand_vec(rng, 8)
        cur.execute("SELECT id FROM knn ORDER BY v %s %%s LIMIT 10" % op, (lit(q),))
        assert [r[0] for r in cur.fetchall()] == brute(knn_rows, q, op, 10), op
        cur.execute("SELECT id FROM knn WHERE cat < 7 ORDER BY v %s %%s LIMIT 5 OFFSET 3" % op, (lit(q),))
        assert [r[0] for r in cur.fetchall()] == brute(knn_rows, q, op, 8, lambda r: r[2] < 7)[3:], op
    # a parameter for the query vector in the extended protocol, several times
    cur.execute("PREPARE nn(vector) AS SELECT id FROM knn ORDER BY v <-> $1 LIMIT 3")
    for _ in range(3):
        q = rand_vec(rng, 8)
        cur.execute("EXECUTE nn(%s)", (lit(q),))
        assert [r[0] for r in cur.fetchall()] == brute(knn_rows, q, "<->", 3)
    cur.execute("DEALLOCATE nn")


def _rows(conn, sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur.fetchall()


# ---- HNSW ------------------------------------------------------------------------------

@pytest.mark.parametrize("sql,state,msg", [
    ("CREATE INDEX ON knn USING hnsw (v) WITH (m = 1)", "22023", 'value 1 out of bounds for option "m"'),
    ("CREATE INDEX ON knn USING hnsw (v) WITH (m = 101)", "22023", 'value 101 out of bounds for option "m"'),
    ("CREATE INDEX ON knn USING hnsw (v) WITH (ef_construction = 3)", "22023",
     'value 3 out of bounds for option "ef_construction"'),
    ("CREATE INDEX ON knn USING hnsw (v) WITH (ef_construction = 1001)", "22023",
     'value 1001 out of bounds for option "ef_construction"'),
    ("CREATE INDEX ON knn USING hnsw (v) WITH (m = 40)", "22023",
     "ef_construction must be greater than or equal to 2 * m"),
    ("CREATE INDEX ON knn USING hnsw (v) WITH (lists = 3)", "22023", 'unrecognized parameter "lists"'),
    ("CREATE INDEX ON knn USING hnsw (v vector_foo_ops)", "42704",
     'operator class "vector_foo_ops" does not exist for access method "hnsw"'),
    ("CREATE INDEX ON knn USING hnsw (cat vector_l2_ops)", "42804",
     'operator class "vector_l2_ops" does not accept data type integer'),
    ("CREATE INDEX ON knn USING hnsw (nope)", "42703", 'column "nope" does not exist'),
    ("CREATE INDEX ON nope USING hnsw (v)", "42P01", 'relation "nope" does not exist'),
    ("CREATE INDEX ON vt USING hnsw (w)", "XX000", "column does not have dimensions"),
    ("SET hnsw.ef_search = 0", "22023", '0 is outside the valid range for parameter "hnsw.ef_search" (1 .. 1000)'),
    ("SET hnsw.ef_search = 1001", "22023",
     '1001 is outside the valid range for parameter "hnsw.ef_search" (1 .. 1000)'),
    ("DROP INDEX nope_idx", "42704", 'index "nope_idx" does not exist'),
])
def test_hnsw_ddl_errors(conn, knn_rows, sql, state, msg):
    conn.cursor().execute("CREATE TABLE IF NOT EXISTS vt (id int PRIMARY KEY, v vector(3), w vector)")
    assert _err(conn, sql) == (state, msg)


def recall(got, want):
    return len(set(got) & set(want)) / max(1, len(want))


def test_hnsw_index_knn_deletes_updates_restart(server, knn_rows):
    """Index answers track DELETE, UPDATE and ROLLBACK, and survive kill -9 + recovery."""
    rows = list(knn_rows)
    c = server.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("CREATE INDEX knn_l2 ON knn USING hnsw (v vector_l2_ops)")
    cur.execute("CREATE INDEX IF NOT EXISTS knn_l2 ON knn USING hnsw (v vector_l2_ops)")
    cur.execute("CREATE INDEX ON knn USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 32)")
    cur.execute("CREATE INDEX ON knn USING hnsw (v vector_cosine_ops)")
    cur.execute("CREATE INDEX ON knn USING hnsw (v vector_l1_ops)")
    assert _err(c, "CREATE INDEX knn_l2 ON knn USING hnsw (v)") == ("42P07", 'relation "knn_l2" already exists')
    assert _rows(c, "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c "
                    "ON c.oid = i.indexrelid WHERE i.indrelid = 'knn'::regclass AND NOT i.indisprimary "
                    "ORDER BY 1") == [
        ("knn_l2", "CREATE INDEX knn_l2 ON public.knn USING hnsw (v vector_l2_ops)"),
        ("knn_v_idx", "CREATE INDEX knn_v_idx ON public.knn USING hnsw (v vector_ip_ops) "
                      "WITH (m='8', ef_construction='32')"),
        ("knn_v_idx1", "CREATE INDEX knn_v_idx1 ON public.knn USING hnsw (v vector_cosine_ops)"),
        ("knn_v_idx2", "CREATE INDEX knn_v_idx2 ON public.knn USING hnsw (v vector_l1_ops)")]
    plan = "\n".join(r[0] for r in _rows(c, "EXPLAIN SELECT id FROM knn ORDER BY v <-> %s LIMIT 5", (lit([0] * 8),)))
    assert "Index Scan using knn_l2 on knn" in plan and "ef_search: 40" in plan
    cur.execute("SET hnsw.ef_search = 64")
    plan = "\n".join(r[0] for r in _rows(c, "EXPLAIN SELECT id FROM knn ORDER BY v <=> %s LIMIT 5", (lit([1] * 8),)))
    assert "Index Scan using knn_v_idx1 on knn" in plan and "ef_search: 64" in plan
    cur.execute("RESET hnsw.ef_search")
    rng = random.Random(9)

    def check(min_recall=0.9):
        total = 0.0
        for op in OPS:
            for _ in range(3):
                q = rand_vec(rng, 8)
                cur.execute("SELECT id FROM knn ORDER BY v %s %%s LIMIT 10" % op, (lit(q),))
                got = [r[0] for r in cur.fetchall()]
                want = brute(rows, q, op, 10)
                assert len(got) == 10 and len(set(got)) == 10
                live = {r[0] for r in rows}
                assert set(got) <= live, "a deleted row came back"
                total += recall(got, want)
        assert total / (3 * len(OPS)) >= min_recall

    check()
    cur.execute("DELETE FROM knn WHERE id % 3 = 0")
    rows = [r for r in rows if r[0] % 3 != 0]
    check()
    # UPDATE moves a vector; an UPDATE of another column keeps it
    target = [0.999] * 8
    cur.execute("UPDATE knn SET v = %s WHERE id = 1", (lit(target),))
    cur.execute("UPDATE knn SET cat = 42 WHERE id = 2")
    rows = [(1, [f32(0.999)] * 8, 1) if r[0] == 1 else ((2, r[1], 42) if r[0] == 2 else r) for r in rows]
    assert _rows(c, "SELECT id FROM knn ORDER BY v <-> %s LIMIT 1", (lit(target),)) == [(1,)]
    # an aborted insert is never returned
    cur.execute("BEGIN")
    cur.execute("INSERT INTO knn VALUES (999999, %s, 0)", (lit([5] * 8),))
    assert _rows(c, "SELECT id FROM knn ORDER BY v <-> %s LIMIT 1", (lit([5] * 8),)) == [(999999,)]
    cur.execute("ROLLBACK")
    assert _rows(c, "SELECT id FROM knn ORDER BY v <-> %s LIMIT 1", (lit([5] * 8),)) != [(999999,)]
    c.close()
    server.restart(kill=True)       # recovery: graphs are rebuilt from the table at first use
    c = server.connect(autocommit=True)
    cur = c.cursor()
    check()
    plan = "\n".join(r[0] for r in _rows(c, "EXPLAIN SELECT id FROM knn ORDER BY v <-> %s LIMIT 5", (lit([0] * 8),)))
    assert "Index Scan using knn_l2" in plan
    for name in ("knn_l2", "knn_v_idx", "knn_v_idx1", "knn_v_idx2"):
        cur.execute("DROP INDEX " + name)
    cur.execute("DROP INDEX IF EXISTS knn_l2")
    plan = "\n".join(r[0] for r in _rows(c, "EXPLAIN SELECT id FROM knn ORDER BY v <-> %s LIMIT 5", (lit([0] * 8),)))
    assert "Seq Scan on knn" in plan
    q = rand_vec(rng, 8)
    assert [r[0] for r in _rows(c, "SELECT id FROM knn ORDER BY v <-> %s LIMIT 10", (lit(q),))] == \
        brute(rows, q, "<->", 10)
    c.close()


def test_filtered_knn_fills_limit(conn):
    """WHERE + ORDER BY emb <-> q LIMIT 10 returns 10 qualifying rows at 1%, 10% and
    50% selectivity (the graph alone would strand a selective filter)."""
    rng = random.Random(3)
    rows = [(i, rand_vec(rng, 16), i % 100) for i in range(10000)]
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS filt")
    cur.execute("CREATE TABLE filt (id int PRIMARY KEY, v vector(16), cat int)")
    insert_rows(conn, "filt", rows)
    cur.execute("CREATE INDEX ON filt USING hnsw (v)")
    for limit_cat in (1, 10, 50):
        total = 0.0
        for _ in range(5):
            q = rand_vec(rng, 16)
            cur.execute("SELECT id, cat FROM filt WHERE cat < %s ORDER BY v <-> %s LIMIT 10", (limit_cat, lit(q)))
            got = cur.fetchall()
            assert len(got) == 10, "selectivity %d%%: LIMIT not filled" % limit_cat
            assert all(c < limit_cat for _, c in got)
            total += recall([g[0] for g in got], brute(rows, q, "<->", 10, lambda r: r[2] < limit_cat))
        assert total / 5 >= 0.9, "selectivity %d%%" % limit_cat
    cur.execute("DROP TABLE filt")


# ---- Fashion-MNIST recall ------------------------------------------------------------

def _idx_images(path, count):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051
        dim = rows * cols
        data = f.read(dim * min(count, n))
    return [list(data[i * dim:(i + 1) * dim]) for i in range(min(count, n))], dim


@pytest.mark.skipif(not os.path.isdir(FASHION_DIR), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_recall_at_10(conn):
    train, dim = _idx_images(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"), 20000)
    queries, _ = _idx_images(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz"), 25)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS fmnist")
    cur.execute("CREATE TABLE fmnist (id int PRIMARY KEY, v vector(%d))" % dim)
    for s in range(0, len(train), 500):
        cur.execute("INSERT INTO fmnist VALUES " + ",".join(
            "(%d,'[%s]')" % (s + i, ",".join(map(str, v))) for i, v in enumerate(train[s:s + 500])))
    cur.execute("CREATE INDEX ON fmnist USING hnsw (v vector_l2_ops)")
    plan = "\n".join(r[0] for r in _rows(conn, "EXPLAIN SELECT id FROM fmnist ORDER BY v <-> %s LIMIT 10",
                                          ("[%s]" % ",".join(map(str, queries[0])),)))
    assert "Index Scan using fmnist_v_idx" in plan and "ef_search: 40" in plan
    results = []
    for q in queries:
        cur.execute("SELECT id FROM fmnist ORDER BY v <-> %s LIMIT 10", ("[%s]" % ",".join(map(str, q)),))
        results.append([r[0] for r in cur.fetchall()])
    cur.execute("DROP TABLE fmnist")
    # ground truth, exactly (float tuples: math.dist then runs in C without converting)
    train = [tuple(map(float, v)) for v in train]
    hits = 0
    for q, got in zip(queries, results):
        assert len(got) == 10
        q = tuple(map(float, q))
        tenth = heapq.nsmallest(10, (math.dist(v, q) for v in train))[-1]
        # pixel distances are square roots of integers: a row tied with the 10th
        # nearest counts as correct
        hits += sum(1 for i in got if math.dist(train[i], q) <= tenth)
    r = hits / (10 * len(queries))
    print("fashion-mnist recall@10 at ef_search 40: %.3f" % r)
    assert r >= 0.95
