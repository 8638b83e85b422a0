"""test_webapp.py -- the schema and the queries of an ordinary web shop, run step by step
through psycopg2 with bound parameters on the server under test and on a reference
PostgreSQL 15, every answer compared: users (serial ids, a UNIQUE email, timestamps,
jsonb profiles), products, orders and line items with foreign keys (ON DELETE CASCADE),
sign-up upserts, pagination, jsonb filters, an UPDATE ... FROM, a cascading delete and
a monthly revenue report with window functions. Timestamps are fixed, never now(), so
the answers are deterministic; TimeZone is UTC on both."""
import psycopg2
import pytest

TABLES = ["line_items", "orders", "products", "users"]

SCHEMA = [
    """CREATE TABLE users (
           id serial PRIMARY KEY,
           email text NOT NULL UNIQUE,
           name text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now(),
           profile jsonb NOT NULL DEFAULT '{}')""",
    """CREATE TABLE products (
           id serial PRIMARY KEY,
           sku text NOT NULL UNIQUE,
           title text NOT NULL,
           price numeric(10, 2) NOT NULL CHECK (price >= 0),
           attrs jsonb)""",
    """CREATE TABLE orders (
           id bigserial PRIMARY KEY,
           user_id int NOT NULL REFERENCES users (id),
           status text NOT NULL DEFAULT 'new',
           placed_at timestamptz NOT NULL,
           shipped_at timestamptz)""",
    """CREATE TABLE line_items (
           order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
           line int NOT NULL,
           product_id int NOT NULL REFERENCES products (id),
           qty int NOT NULL CHECK (qty > 0),
           unit_price numeric(10, 2) NOT NULL,
           PRIMARY KEY (order_id, line))""",
]

USERS = [
    ("ada@example.com", "Ada", "2026-01-03 09:15:00+00", '{"city": "London", "vip": true}'),
    ("bob@example.com", "Bob", "2026-01-10 18:00:00+00", '{"city": "Paris"}'),
    ("cy@example.com", "Cy", "2026-02-01 07:30:00+00", '{"city": "London", "tags": ["beta"]}'),
    ("dee@example.com", "Dee", "2026-02-14 12:00:00+00", '{"city": "Berlin", "vip": false}'),
    ("eve@example.com", "Eve", "2026-03-05 22:45:00+00", '{}'),
]
PRODUCTS = [
    ("SKU-1", "Kettle", "29.90", '{"color": "red", "watts": 2000}'),
    ("SKU-2", "Teapot", "15.50", '{"color": "white"}'),
    ("SKU-3", "Mug", "4.25", None),
    ("SKU-4", "Tea, 500 g", "11.00", '{"organic": true}'),
]
# (user index, status, placed_at, [(product index, qty)])
ORDERS = [
    (0, "paid", "2026-01-05 10:00:00+00", [(0, 1), (2, 4)]),
    (1, "paid", "2026-01-12 11:30:00+00", [(1, 1)]),
    (0, "shipped", "2026-01-28 08:00:00+00", [(3, 3), (2, 2)]),
    (2, "paid", "2026-02-03 16:20:00+00", [(0, 2)]),
    (3, "cancelled", "2026-02-15 09:00:00+00", [(1, 2), (3, 1)]),
    (1, "paid", "2026-02-20 13:10:00+00", [(3, 5), (2, 1), (1, 1)]),
    (4, "new", "2026-03-06 10:00:00+00", [(2, 6)]),
    (0, "paid", "2026-03-09 19:00:00+00", [(1, 1), (0, 1)]),
    (2, "shipped", "2026-03-15 07:45:00+00", [(3, 2)]),
]

# Queries the application issues after loading; (sql, params, ordered)
QUERIES = [
    # a user's page and the sign-in look-up
    ("SELECT id, email, name, created_at, profile FROM users WHERE email = %s", ("cy@example.com",), True),
    ("SELECT id, name FROM users WHERE lower(email) = lower(%s)", ("BOB@example.com",), True),
    # pagination of the order list, newest first
    ("SELECT id, user_id, status, placed_at FROM orders ORDER BY placed_at DESC, id LIMIT %s OFFSET %s",
     (3, 0), True),
    ("SELECT id, user_id, status, placed_at FROM orders ORDER BY placed_at DESC, id LIMIT %s OFFSET %s",
     (3, 3), True),
    ("SELECT id, user_id, status, placed_at FROM orders ORDER BY placed_at DESC, id LIMIT %s OFFSET %s",
     (3, 9), True),
    # an order with its lines and total
    ("""SELECT o.id, u.name, p.title, li.qty, li.unit_price, li.qty * li.unit_price AS amount
          FROM orders o JOIN users u ON u.id = o.user_id
          JOIN line_items li ON li.order_id = o.id JOIN products p ON p.id = li.product_id
         WHERE o.id = %s ORDER BY li.line""", (6,), True),
    ("""SELECT o.id, sum(li.qty * li.unit_price) AS total, count(*) AS lines
          FROM orders o JOIN line_items li ON li.order_id = o.id
         GROUP BY o.id ORDER BY o.id""", None, True),
    # jsonb filters
    ("SELECT name, profile ->> 'city' AS city FROM users WHERE profile @> %s ORDER BY id",
     ('{"vip": true}',), True),
    ("SELECT name FROM users WHERE profile ->> 'city' = %s ORDER BY name", ("London",), True),
    ("SELECT name, profile -> 'tags' FROM users WHERE profile ? 'tags'", None, False),
    ("SELECT title, attrs ->> 'color' FROM products WHERE attrs IS NOT NULL AND attrs ? 'color' ORDER BY id",
     None, True),
    # customers with no order, and spend per customer (LEFT JOIN, HAVING, COALESCE)
    ("""SELECT u.name, count(o.id) AS orders,
               COALESCE(sum(li.qty * li.unit_price), 0) AS spent
          FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.status <> 'cancelled'
          LEFT JOIN line_items li ON li.order_id = o.id
         GROUP BY u.id, u.name ORDER BY spent DESC, u.name""", None, True),
    ("""SELECT u.name FROM users u
         WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.status IN ('paid', 'shipped'))
         ORDER BY u.name""", None, True),
    ("""SELECT u.name, sum(li.qty * li.unit_price) AS spent
          FROM users u JOIN orders o ON o.user_id = u.id JOIN line_items li ON li.order_id = o.id
         WHERE o.placed_at >= %s AND o.placed_at < %s
         GROUP BY u.name HAVING sum(li.qty * li.unit_price) > %s ORDER BY u.name""",
     ("2026-01-01 00:00:00+00", "2026-04-01 00:00:00+00", 50), True),
    # the monthly revenue report: running total per month, rank of customers per month,
    # the share of each month and the change from the month before
    ("""WITH monthly AS (
            SELECT date_trunc('month', o.placed_at) AS month,
                   sum(li.qty * li.unit_price) AS revenue, count(DISTINCT o.id) AS orders
              FROM orders o JOIN line_items li ON li.order_id = o.id
             WHERE o.status IN ('paid', 'shipped')
             GROUP BY 1)
        SELECT to_char(month, 'YYYY-MM') AS month, revenue, orders,
               sum(revenue) OVER (ORDER BY month) AS running_total,
               revenue - lag(revenue) OVER (ORDER BY month) AS change,
               round(100 * revenue / sum(revenue) OVER (), 1) AS pct
          FROM monthly ORDER BY month""", None, True),
    ("""SELECT to_char(date_trunc('month', o.placed_at), 'YYYY-MM') AS month, u.name,
               sum(li.qty * li.unit_price) AS spent,
               rank() OVER (PARTITION BY date_trunc('month', o.placed_at)
                            ORDER BY sum(li.qty * li.unit_price) DESC) AS rnk,
               row_number() OVER (ORDER BY date_trunc('month', o.placed_at), u.name) AS n
          FROM orders o JOIN users u ON u.id = o.user_id JOIN line_items li ON li.order_id = o.id
         WHERE o.status <> 'cancelled'
         GROUP BY 1, date_trunc('month', o.placed_at), u.name
         ORDER BY month, rnk, u.name""", None, True),
    ("""SELECT p.title, sum(li.qty) AS units,
               dense_rank() OVER (ORDER BY sum(li.qty) DESC) AS popularity,
               first_value(p.title) OVER (ORDER BY sum(li.qty) DESC, p.title) AS best_seller
          FROM products p JOIN line_items li ON li.product_id = p.id
         GROUP BY p.title ORDER BY popularity, p.title""", None, True),
    # each customer's latest order (DISTINCT ON) and the time between their orders
    ("""SELECT DISTINCT ON (user_id) user_id, id, placed_at FROM orders
         ORDER BY user_id, placed_at DESC""", None, True),
    ("""SELECT user_id, id, placed_at - lag(placed_at) OVER (PARTITION BY user_id ORDER BY placed_at) AS gap
          FROM orders ORDER BY user_id, placed_at""", None, True),
    ("SELECT jsonb_build_object('user', name, 'city', profile -> 'city') FROM users ORDER BY id", None, True),
]


def run(conn, sql, params=None):
    """("ok", columns, rows, rowcount) or ("error", SQLSTATE)."""
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        if cur.description is None:
            return ("ok", None, None, cur.rowcount)
        return ("ok", [d[0] for d in cur.description], cur.fetchall(), cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


def both(pair, sql, params=None, ordered=True):
    ours, ref = pair
    a, b = run(ours, sql, params), run(ref, sql, params)
    if not ordered and a[0] == "ok" and a[2] is not None and b[0] == "ok" and b[2] is not None:
        key = lambda r: tuple((v is None, str(v)) for v in r)
        a = a[:2] + (sorted(a[2], key=key),) + a[3:]
        b = b[:2] + (sorted(b[2], key=key),) + b[3:]
    assert a == b, sql
    return a


@pytest.fixture(scope="module")
def shop(server, pg_reference):
    ours = server.connect(autocommit=True)
    ref = pg_reference.connect(autocommit=True)
    pair = (ours, ref)
    for c in pair:
        assert run(c, "SET TimeZone = 'UTC'")[0] == "ok"
        for t in TABLES:
            run(c, "DROP TABLE IF EXISTS %s" % t)
    for sql in SCHEMA:
        both(pair, sql)
    uid = []
    for email, name, created, profile in USERS:
        r = both(pair, "INSERT INTO users (email, name, created_at, profile) VALUES (%s, %s, %s, %s)"
                       " RETURNING id, created_at", (email, name, created, profile))
        uid.append(r[2][0][0])
    pid = []
    for sku, title, price, attrs in PRODUCTS:
        r = both(pair, "INSERT INTO products (sku, title, price, attrs) VALUES (%s, %s, %s, %s) RETURNING id",
                 (sku, title, price, attrs))
        pid.append(r[2][0][0])
    for u, status, placed, lines in ORDERS:
        r = both(pair, "INSERT INTO orders (user_id, status, placed_at) VALUES (%s, %s, %s) RETURNING id, status",
                 (uid[u], status, placed))
        oid = r[2][0][0]
        for n, (p, qty) in enumerate(lines, 1):
            both(pair, "INSERT INTO line_items (order_id, line, product_id, qty, unit_price)"
                       " SELECT %s, %s, id, %s, price FROM products WHERE id = %s",
                 (oid, n, qty, pid[p]))
    yield pair
    ours.close()
    ref.close()


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_query(shop, i):
    sql, params, ordered = QUERIES[i]
    assert both(shop, sql, params, ordered)[0] == "ok"


def test_writes(shop):
    """The write side, in order: sign-up upserts on the unique email, a FK violation, a
    price change applied to open orders with UPDATE ... FROM, order state changes in a
    transaction, a cascading delete; the tables are compared after each step."""
    pair = shop
    snapshot = [
        ("SELECT id, email, name, created_at, profile FROM users ORDER BY id", None),
        ("SELECT order_id, line, product_id, qty, unit_price FROM line_items ORDER BY order_id, line", None),
        ("SELECT id, user_id, status, placed_at, shipped_at FROM orders ORDER BY id", None),
    ]

    def same_tables():
        for sql, params in snapshot:
            both(pair, sql, params)

    upsert = ("INSERT INTO users (email, name, created_at, profile) VALUES (%s, %s, %s, %s)"
              " ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name,"
              " profile = users.profile || EXCLUDED.profile RETURNING id, email, name, profile")
    # an existing email updates the row (merging the profile), a new one inserts
    both(pair, upsert, ("bob@example.com", "Robert", "2026-04-01 00:00:00+00", '{"vip": true}'))
    both(pair, upsert, ("fay@example.com", "Fay", "2026-04-02 08:00:00+00", '{"city": "Rome"}'))
    both(pair, "INSERT INTO users (email, name, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
               " RETURNING id", ("ada@example.com", "Ada again", "2026-04-03 00:00:00+00"))
    # plain duplicates and dangling references fail as PostgreSQL's do
    assert both(pair, "INSERT INTO users (email, name, created_at) VALUES (%s, %s, %s)",
                ("eve@example.com", "Eve 2", "2026-04-04 00:00:00+00"))[:2] == ("error", "23505")
    assert both(pair, "INSERT INTO orders (user_id, placed_at) VALUES (%s, %s)",
                (999, "2026-04-04 00:00:00+00"))[:2] == ("error", "23503")
    assert both(pair, "INSERT INTO line_items VALUES (%s, 1, 1, 0, 1.00)", (1,))[:2] == ("error", "23514")
    same_tables()

    # a price change re-prices the lines of orders not yet paid (UPDATE ... FROM)
    both(pair, "UPDATE products SET price = price * 1.10 WHERE sku = %s RETURNING sku, price", ("SKU-3",))
    both(pair, """UPDATE line_items li SET unit_price = p.price
                    FROM products p, orders o
                   WHERE p.id = li.product_id AND o.id = li.order_id AND o.status = 'new'
                   RETURNING li.order_id, li.line, li.unit_price""", None, ordered=False)
    same_tables()

    # shipping an order: two statements in one transaction on both servers
    for c in pair:
        c.autocommit = False
    try:
        both(pair, "UPDATE orders SET status = 'shipped', shipped_at = %s WHERE id = %s AND status = 'paid'"
                   " RETURNING id, status, shipped_at", ("2026-03-20 12:00:00+00", 8))
        both(pair, "SELECT status, count(*) FROM orders GROUP BY status ORDER BY status")
        for c in pair:
            c.commit()
        both(pair, "UPDATE orders SET status = 'paid' WHERE id = %s RETURNING id", (1,))
        for c in pair:
            c.rollback()
    finally:
        for c in pair:
            c.autocommit = True
    same_tables()

    # a user deleting an order removes its lines; a user with orders cannot be deleted
    both(pair, "DELETE FROM orders WHERE id = %s RETURNING id, status", (5,))
    assert both(pair, "DELETE FROM users WHERE email = %s", ("ada@example.com",))[:2] == ("error", "23503")
    both(pair, "DELETE FROM users WHERE id NOT IN (SELECT user_id FROM orders) RETURNING email",
         ordered=False)
    same_tables()
    for sql, params, ordered in QUERIES:
        assert both(pair, sql, params, ordered)[0] == "ok"
