"""test_vector_build_race.py -- CREATE INDEX ... USING hnsw while writers commit.

The build gap (sql/vindex.c): a transaction that wrote a row before the index was
registered on a shard, and commits after the build's table scan passed the row (an
autocommit INSERT waiting for its WAL fsync, a two-shard INSERT in its one-round
two-phase commit, an explicit block), must still be in the finished index.

Each round creates a small table, starts several writers (single-row autocommit,
multi-row autocommit spanning both shards, explicit blocks of a few rows), runs
CREATE INDEX while they write, lets them write a little longer, stops them, and then
looks every row up by its own vector through the index. With at most 1000 rows per
shard and hnsw.ef_search = 1000 the index search is exact (vector/README.md), so the
nearest row of a row's own (distinct) vector is that row whenever it is indexed; a
row missing from the index is answered by another row. The planner's choice is
checked with EXPLAIN.

Also: CREATE INDEX waits for an open block that wrote to the table (and has its row
once it commits); a cancel during that wait fails it with 57014 and leaves no index;
in a block that has written rows it is 0A000 (it would wait for itself). An index on
a column added with ADD COLUMN ... DEFAULT sees the old rows' default (they have no
stored value for it).
Vector search is NextDB's own surface (the reference PostgreSQL has no pgvector)."""
import random
import threading
import time

import pytest

pytestmark = pytest.mark.nextdb_only

DIM = 8
BASE = 200
ROUNDS = 6
MAX_ROWS = 1400      # both shards together: under 1000 per shard


def lit(v):
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


def l2(a, b):
    return sum((x - y) * (x - y) for x, y in zip(a, b))


def nearest(cur, table, q):
    cur.execute("SELECT id FROM %s ORDER BY v <-> %%s LIMIT 1" % table, (lit(q),))
    return cur.fetchone()[0]


class Writers:
    """Writer threads inserting distinct random vectors into table until stopped."""

    def __init__(self, srv, table, seed, budget):
        self.srv, self.table, self.budget = srv, table, budget
        self.rows, self.errors = {}, []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.next_id = 1000000
        self.rng = random.Random(seed)
        self.threads = [threading.Thread(target=self.run, args=(kind,))
                        for kind in ("single", "single", "single", "multi", "block")]

    def take(self, n):
        with self.lock:
            if len(self.rows) + n > self.budget:
                return []
            out = []
            for _ in range(n):
                i = self.next_id
                self.next_id += 1
                v = [round(self.rng.uniform(-1, 1), 3) for _ in range(DIM)]
                self.rows[i] = v
                out.append((i, v))
            return out

    def run(self, kind):
        try:
            c = self.srv.connect(autocommit=True)
            cur = c.cursor()
            while not self.stop.is_set():
                batch = self.take(1 if kind == "single" else 4)
                if not batch:
                    time.sleep(0.01)
                    continue
                sql = "INSERT INTO %s VALUES " % self.table + ",".join("(%s, %s)" for _ in batch)
                args = [x for i, v in batch for x in (i, lit(v))]
                if kind == "block":
                    cur.execute("BEGIN")
                    cur.execute(sql, args)
                    cur.execute("COMMIT")
                else:
                    cur.execute(sql, args)      # "multi": ids on both shards, two-phase commit
            c.close()
        except Exception as e:          # reported by the test
            self.errors.append(e)

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def test_create_index_keeps_rows_of_concurrent_writers(server_factory):
    srv = server_factory("vrace", shards=2)
    srv.start()
    c = srv.connect(autocommit=True)
    cur = c.cursor()
    rng = random.Random(7)
    missing = []
    for r in range(ROUNDS):
        table = "race%d" % r
        cur.execute("CREATE TABLE %s (id int PRIMARY KEY, v vector(%d))" % (table, DIM))
        base = {i: [round(rng.uniform(-1, 1), 3) for _ in range(DIM)] for i in range(BASE)}
        cur.execute("INSERT INTO %s VALUES " % table + ",".join("(%s, %s)" for _ in base),
                    [x for i, v in base.items() for x in (i, lit(v))])
        w = Writers(srv, table, 100 + r, MAX_ROWS - BASE)
        w.start()
        # the build starts while the writers have commits in flight
        while len(w.rows) < 40 and not w.errors:
            time.sleep(0.005)
        cur.execute("CREATE INDEX ON %s USING hnsw (v vector_l2_ops)" % table)
        after = len(w.rows) + 60
        while len(w.rows) < after and len(w.rows) < MAX_ROWS - BASE - 8 and not w.errors:
            time.sleep(0.005)
        w.join()
        assert not w.errors, w.errors
        cur.execute("SET hnsw.ef_search = 1000")
        cur.execute("EXPLAIN SELECT id FROM %s ORDER BY v <-> %%s LIMIT 1" % table, (lit([0] * DIM),))
        assert "Index Scan using %s_v_idx" % table in "\n".join(x[0] for x in cur.fetchall())
        rows = dict(base)
        rows.update(w.rows)
        cur.execute("SELECT count(*) FROM %s" % table)
        assert cur.fetchone()[0] == len(rows)
        for i, v in sorted(w.rows.items()):
            got = nearest(cur, table, v)
            if got != i:
                assert l2(rows[got], v) > 0, (i, got)      # vectors are distinct
                missing.append((r, i))
        cur.execute("RESET hnsw.ef_search")
        cur.execute("DROP TABLE %s" % table)
    assert not missing, "rows committed around CREATE INDEX missing from the index: %r" % missing[:20]
    c.close()


def test_index_on_added_column_sees_default(server_factory):
    srv = server_factory("vaddcol", shards=2)
    srv.start()
    c = srv.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("CREATE TABLE ac (id int PRIMARY KEY)")
    cur.execute("INSERT INTO ac SELECT g FROM generate_series(1, 50) g")
    cur.execute("ALTER TABLE ac ADD COLUMN v vector(3) DEFAULT '[1,2,3]'")
    cur.execute("INSERT INTO ac VALUES (51, '[1,2,3.5]'), (52, '[9,9,9]'), (53, NULL)")
    cur.execute("CREATE INDEX ac_v ON ac USING hnsw (v vector_l2_ops)")
    cur.execute("SET hnsw.ef_search = 1000")
    q = "SELECT id, v <-> '[1,2,3]' FROM ac ORDER BY v <-> '[1,2,3]' LIMIT %s"
    cur.execute("EXPLAIN " + q, (60,))
    assert "Index Scan using ac_v" in "\n".join(x[0] for x in cur.fetchall())
    # k = 2: a graph without the old rows would answer with 51 and 52
    cur.execute(q, (2,))
    got = cur.fetchall()
    assert len(got) == 2 and all(1 <= i <= 50 and d == 0 for i, d in got), got
    cur.execute(q, (51,))
    got = cur.fetchall()
    assert sorted(i for i, d in got[:50]) == list(range(1, 51)) and all(d == 0 for _, d in got[:50])
    assert got[50] == (51, 0.5)
    # with a WHERE clause (the filtered search decodes whole rows)
    cur.execute("SELECT id, v <-> '[1,2,3]' FROM ac WHERE id > 40 ORDER BY v <-> '[1,2,3]' LIMIT 2")
    got = cur.fetchall()
    assert len(got) == 2 and all(41 <= i <= 50 and d == 0 for i, d in got), got
    # an old row updated in another column keeps its (default) vector
    cur.execute("UPDATE ac SET id = 100 WHERE id = 1")
    cur.execute(q, (2,))
    got = cur.fetchall()
    assert len(got) == 2 and all(d == 0 for _, d in got), got
    c.close()


def test_create_index_waits_for_open_writers_and_cancel_undoes_it(server_factory):
    import psycopg2
    srv = server_factory("vwait", shards=2)
    srv.start()
    c = srv.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("CREATE TABLE wt (id int PRIMARY KEY, v vector(3))")
    cur.execute("INSERT INTO wt SELECT g, ARRAY[g, 0, 0]::vector FROM generate_series(1, 20) g")
    w = srv.connect(autocommit=True)
    wcur = w.cursor()
    b = srv.connect(autocommit=True)
    result = {}

    def build(sql):
        try:
            b.cursor().execute(sql)
            result["ok"] = True
        except psycopg2.Error as e:     # checked below
            result["err"] = e

    # cancel while it waits for an open block that wrote to the table: no index left
    wcur.execute("BEGIN")
    wcur.execute("INSERT INTO wt VALUES (100, '[100,0,0]')")
    th = threading.Thread(target=build, args=("CREATE INDEX wt_v ON wt USING hnsw (v vector_l2_ops)",))
    th.start()
    for _ in range(120):            # until the cancel reaches the running build
        time.sleep(0.5)
        b.cancel()
        th.join(0.5)
        if not th.is_alive():
            break
    assert not th.is_alive()
    assert "err" in result and result["err"].pgcode == "57014", result
    cur.execute("SELECT count(*) FROM pg_class WHERE relname = 'wt_v'")
    assert cur.fetchone()[0] == 0
    # the same build finishes once the writer commits, and has its row
    result.clear()
    th = threading.Thread(target=build, args=("CREATE INDEX wt_v ON wt USING hnsw (v vector_l2_ops)",))
    th.start()
    time.sleep(0.3)
    wcur.execute("INSERT INTO wt VALUES (101, '[101,0,0]')")
    wcur.execute("COMMIT")
    th.join(60)
    assert result.get("ok"), result
    cur.execute("SET hnsw.ef_search = 1000")
    cur.execute("EXPLAIN SELECT id FROM wt ORDER BY v <-> '[100,0,0]' LIMIT 2")
    assert "Index Scan using wt_v" in "\n".join(x[0] for x in cur.fetchall())
    cur.execute("SELECT id FROM wt ORDER BY v <-> '[100,0,0]' LIMIT 2")
    assert [x[0] for x in cur.fetchall()] == [100, 101]
    # in a block that has written rows it would wait for itself: 0A000, as for btree
    wcur.execute("BEGIN")
    wcur.execute("INSERT INTO wt VALUES (102, '[102,0,0]')")
    with pytest.raises(psycopg2.Error) as ei:
        wcur.execute("CREATE INDEX wt_v2 ON wt USING hnsw (v vector_l2_ops)")
    assert ei.value.pgcode == "0A000"
    wcur.execute("ROLLBACK")
    for x in (c, w, b):
        x.close()
