"""test_sql_constraints.py -- FOREIGN KEY constraints checked against PostgreSQL 15
statement by statement (results, SQLSTATEs, messages and DETAIL lines): the web-app
schema users / orders / line items with serial ids, column and table level keys,
default and explicit referenced columns, composite and self-referencing keys, NO
ACTION / RESTRICT / CASCADE / SET NULL, child UPDATEs, definition errors, DROP /
TRUNCATE of a referenced table; keys surviving a kill -9 restart; and a parent
DELETE racing a child INSERT never leaving an orphan."""
import threading

import psycopg2
import pytest


@pytest.fixture(scope="module")
def pair(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    yield ours, ref
    ours.close()
    ref.close()


def run(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.fetchall() if cur.description else cur.rowcount)
    except psycopg2.Error as e:
        lines = (e.pgerror or "").splitlines()
        return ("error", e.pgcode, lines[0] if lines else "", e.diag.message_detail)
    finally:
        cur.close()


def script(pair, stmts):
    for s in stmts:
        a, b = run(pair[0], s), run(pair[1], s)
        assert a == b, s


DROP = ["DROP TABLE IF EXISTS fk_items", "DROP TABLE IF EXISTS fk_orders", "DROP TABLE IF EXISTS fk_users",
        "DROP TABLE IF EXISTS fk_tree", "DROP TABLE IF EXISTS fk_c2", "DROP TABLE IF EXISTS fk_p2",
        "DROP TABLE IF EXISTS fk_bad"]

SCHEMA = [
    "CREATE TABLE fk_users (id serial PRIMARY KEY, email text NOT NULL)",
    "CREATE TABLE fk_orders (id bigserial PRIMARY KEY, user_id int NOT NULL REFERENCES fk_users, total int)",
    "CREATE TABLE fk_items (id serial PRIMARY KEY, order_id bigint REFERENCES fk_orders (id) ON DELETE CASCADE, "
    "buyer int, qty int, CONSTRAINT fk_items_buyer FOREIGN KEY (buyer) REFERENCES fk_users ON DELETE SET NULL)",
]


def test_web_app_schema_matches_postgres(pair):
    script(pair, DROP + SCHEMA + [
        "INSERT INTO fk_users (email) SELECT 'u' || g || '@x' FROM generate_series(1, 20) g",
        "INSERT INTO fk_orders (user_id, total) SELECT 1 + g % 20, g FROM generate_series(1, 40) g",
        "INSERT INTO fk_orders (user_id, total) VALUES (21, 1)",                       # 23503
        "INSERT INTO fk_orders (user_id, total) VALUES (3, 1), (99, 2)",               # 23503, nothing kept
        "SELECT count(*) FROM fk_orders",
        "INSERT INTO fk_items (order_id, buyer, qty) SELECT id, user_id, 1 FROM fk_orders",
        "INSERT INTO fk_items (order_id, buyer, qty) VALUES (NULL, NULL, 5) RETURNING id, order_id",
        "INSERT INTO fk_items (order_id, qty) VALUES (1000, 1)",                       # 23503
        "DELETE FROM fk_users WHERE id = 2",                                           # 23503 still referenced
        "DELETE FROM fk_orders WHERE user_id = 2",                                     # cascades to items
        "SELECT count(*) FROM fk_items",
        "DELETE FROM fk_users WHERE id = 2",                                           # now possible
        "SELECT count(*) FROM fk_items WHERE buyer IS NULL",
        "UPDATE fk_orders SET user_id = 2 WHERE id = 5",                               # 23503 (user 2 gone)
        "UPDATE fk_orders SET user_id = 4 WHERE id = 5 RETURNING id, user_id",
        "UPDATE fk_users SET id = 100 WHERE id = 4",                                   # 23503 (NO ACTION)
        "UPDATE fk_users SET email = 'new' WHERE id = 4",
        "BEGIN",
        "INSERT INTO fk_users (id, email) VALUES (500, 'tx')",
        "INSERT INTO fk_orders (user_id, total) VALUES (500, 7)",                      # parent of this block
        "SELECT user_id, total FROM fk_orders WHERE user_id = 500",
        "ROLLBACK",
        "SELECT count(*) FROM fk_users WHERE id = 500",
        "DROP TABLE fk_users",                                                         # 2BP01
        "TRUNCATE fk_users",                                                           # 0A000
        "TRUNCATE fk_items",
        "SELECT u.id, count(o.id) FROM fk_users u LEFT JOIN fk_orders o ON o.user_id = u.id "
        "GROUP BY u.id ORDER BY u.id",
        "DROP TABLE fk_items, fk_orders",
        "DROP TABLE fk_users",
    ])


def test_composite_self_referencing_and_definition_errors_match_postgres(pair):
    script(pair, DROP + [
        "CREATE TABLE fk_p2 (a int, b text, v int, PRIMARY KEY (a, b))",
        "CREATE TABLE fk_c2 (id int PRIMARY KEY, x int, y text, FOREIGN KEY (x, y) REFERENCES fk_p2 (a, b) "
        "ON DELETE RESTRICT)",
        "INSERT INTO fk_p2 VALUES (1, 'a', 0), (2, 'b', 0)",
        "INSERT INTO fk_c2 VALUES (1, 1, 'a'), (2, 2, 'b'), (3, NULL, 'zz'), (4, 9, NULL)",  # MATCH SIMPLE
        "INSERT INTO fk_c2 VALUES (5, 1, 'b')",                                              # 23503
        "DELETE FROM fk_p2 WHERE a = 1",                                                     # 23503 RESTRICT
        "DELETE FROM fk_c2 WHERE id = 1",
        "DELETE FROM fk_p2 WHERE a = 1",
        "CREATE TABLE fk_tree (id int PRIMARY KEY, parent int REFERENCES fk_tree ON DELETE CASCADE, v text)",
        "INSERT INTO fk_tree VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 2, 'b'), (4, 1, 'c')",
        "INSERT INTO fk_tree VALUES (5, 42, 'orphan')",                                      # 23503
        "DELETE FROM fk_tree WHERE id = 2",                                                  # cascades to 3
        "SELECT * FROM fk_tree ORDER BY id",
        "CREATE TABLE fk_bad (a int REFERENCES fk_nope)",                                    # 42P01
        "CREATE TABLE fk_bad (a int REFERENCES fk_p2)",                                      # 42830 count
        "CREATE TABLE fk_bad (a int REFERENCES fk_tree (v))",                                # 42830
        "CREATE TABLE fk_bad (a text REFERENCES fk_tree)",                                   # 42804
        "CREATE TABLE fk_bad (a int, FOREIGN KEY (nope) REFERENCES fk_tree)",                # 42703
        "CREATE TABLE fk_bad (a int REFERENCES fk_tree (nope))",                             # 42703
        "DROP TABLE fk_tree",
        "DROP TABLE fk_c2, fk_p2",
    ])


def test_foreign_keys_survive_restart(server):
    c = server.connect(autocommit=True)
    cur = c.cursor()
    for s in ["DROP TABLE IF EXISTS fk_rc", "DROP TABLE IF EXISTS fk_rp",
              "CREATE TABLE fk_rp (id serial PRIMARY KEY)",
              "CREATE TABLE fk_rc (id serial PRIMARY KEY, p int REFERENCES fk_rp ON DELETE CASCADE)",
              "INSERT INTO fk_rp DEFAULT VALUES", "INSERT INTO fk_rc (p) VALUES (1), (1)"]:
        cur.execute(s)
    c.close()
    server.restart(kill=True)
    c = server.connect(autocommit=True)
    cur = c.cursor()
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        cur.execute("INSERT INTO fk_rc (p) VALUES (2)")
    cur.execute("DELETE FROM fk_rp WHERE id = 1")
    cur.execute("SELECT count(*) FROM fk_rc")
    assert cur.fetchone()[0] == 0
    cur.execute("INSERT INTO fk_rp DEFAULT VALUES RETURNING id")
    assert cur.fetchone()[0] > 1
    cur.execute("DROP TABLE fk_rc, fk_rp")
    c.close()


def test_parent_delete_racing_child_inserts_leaves_no_orphan(server):
    c = server.connect(autocommit=True)
    cur = c.cursor()
    for s in ["DROP TABLE IF EXISTS fk_rc", "DROP TABLE IF EXISTS fk_rp",
              "CREATE TABLE fk_rp (id int PRIMARY KEY)",
              "CREATE TABLE fk_rc (id serial PRIMARY KEY, p int REFERENCES fk_rp)",
              "INSERT INTO fk_rp SELECT g FROM generate_series(1, 30) g"]:
        cur.execute(s)
    errors = []

    def inserter():
        try:
            k = server.connect(autocommit=True)
            kc = k.cursor()
            for p in range(1, 31):
                try:
                    kc.execute("INSERT INTO fk_rc (p) VALUES (%s)", (p,))
                except psycopg2.errors.ForeignKeyViolation:
                    pass
            k.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    def deleter():
        try:
            k = server.connect(autocommit=True)
            kc = k.cursor()
            for p in range(30, 0, -1):
                try:
                    kc.execute("DELETE FROM fk_rp WHERE id = %s", (p,))
                except psycopg2.errors.ForeignKeyViolation:
                    pass
            k.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=inserter), threading.Thread(target=inserter),
               threading.Thread(target=deleter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    cur.execute("SELECT count(*) FROM fk_rc c LEFT JOIN fk_rp p ON p.id = c.p WHERE p.id IS NULL")
    assert cur.fetchone()[0] == 0
    cur.execute("DROP TABLE fk_rc, fk_rp")
    c.close()


def test_check_constraints_match_postgres(server, pg_reference):
    pair = server.connect(autocommit=True), pg_reference.connect(autocommit=True)   # fresh: the server restarted
    script(pair, ["DROP TABLE IF EXISTS ck_t", "DROP TABLE IF EXISTS ck_u",
        "CREATE TABLE ck_t (id int PRIMARY KEY, price int CHECK (price > 0), lo int, hi int, "
        "name text CONSTRAINT name_len CHECK (length(name) < 5), CHECK (lo < hi), CHECK (lo >= 0))",
        "INSERT INTO ck_t SELECT g, g, 0, g, 'n' FROM generate_series(1, 30) g",
        "INSERT INTO ck_t VALUES (31, -1, 1, 2, 'ab')",                       # ck_t_price_check
        "INSERT INTO ck_t VALUES (32, 1, 5, 2, 'ab')",                        # ck_t_check
        "INSERT INTO ck_t VALUES (33, 1, -1, 2, 'ab')",                       # ck_t_lo_check
        "INSERT INTO ck_t VALUES (34, 1, 1, 2, 'abcdef')",                    # name_len
        "INSERT INTO ck_t VALUES (35, -1, 9, 2, 'abcdef')",                   # first by name
        "INSERT INTO ck_t VALUES (36, NULL, NULL, 2, NULL)",                  # NULL passes
        "CREATE TABLE ck_u (a int CHECK (a BETWEEN 1 AND 10 AND a NOT IN (5, 6) AND a IS NOT NULL), "
        "b text CHECK (b IN ('x', 'y') OR NOT (b IS NULL OR length(b) > 3)))",
        "INSERT INTO ck_u VALUES (1, 'x'), (2, 'zz'), (3, NULL)",
        "INSERT INTO ck_u VALUES (5, 'x')",
        "INSERT INTO ck_u VALUES (11, 'x')",
        "INSERT INTO ck_u VALUES (NULL, 'x')",
        "INSERT INTO ck_u VALUES (4, 'long')",
        "SELECT * FROM ck_u ORDER BY a",
        "DROP TABLE ck_u",
        "UPDATE ck_t SET price = price - 10 WHERE id > 5 AND id % 13 = 7",    # one row fails: 23514
        "UPDATE ck_t SET price = price + 10 WHERE id > 5",
        "INSERT INTO ck_t VALUES (1, -3, 0, 2, 'x') ON CONFLICT (id) DO UPDATE SET price = excluded.price",
        "INSERT INTO ck_t VALUES (1, 3, 0, 2, 'x') ON CONFLICT (id) DO UPDATE SET lo = 100",
        "INSERT INTO ck_t VALUES (1, 3, 0, 2, 'x') ON CONFLICT (id) DO UPDATE SET lo = 0, hi = 50 RETURNING *",
        "SELECT * FROM ck_t ORDER BY id",
        "CREATE TABLE ck_u (a int CHECK (a))",                                # 42804
        "CREATE TABLE ck_u (a int CHECK (b > 0))",                            # 42703
        "CREATE TABLE ck_u (a int CHECK (a > 0), CHECK (a > 1), CONSTRAINT ck_u_a_check CHECK (a > 2))",
        "INSERT INTO ck_u VALUES (2)",
        "INSERT INTO ck_u VALUES (1)",
        "DROP TABLE IF EXISTS ck_u", "DROP TABLE ck_t"])
    for c in pair:
        c.close()


def test_check_constraints_survive_restart(server):
    c = server.connect(autocommit=True)
    cur = c.cursor()
    cur.execute("DROP TABLE IF EXISTS ck_r")
    cur.execute("CREATE TABLE ck_r (id serial PRIMARY KEY, qty int CHECK (qty BETWEEN 1 AND 10))")
    c.close()
    server.restart(kill=True)
    c = server.connect(autocommit=True)
    cur = c.cursor()
    with pytest.raises(psycopg2.errors.CheckViolation):
        cur.execute("INSERT INTO ck_r (qty) VALUES (11)")
    cur.execute("INSERT INTO ck_r (qty) VALUES (10) RETURNING id")
    cur.execute("DROP TABLE ck_r")
    c.close()
