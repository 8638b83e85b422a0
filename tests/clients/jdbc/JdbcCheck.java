// JdbcCheck.java -- drives the server with Debian's PostgreSQL JDBC driver
// (libpostgresql-jdbc-java) the way Java applications do.
//
// Run with the JDK's source launcher (no separate compile step):
//   java -cp /usr/share/java/postgresql.jar tests/clients/jdbc/JdbcCheck.java HOST PORT
// Prints one line per check, "ok NAME" or "FAIL NAME: reason", and exits 1 if any
// check failed. tests/integration/test_jdbc.py runs it against NextDB and PostgreSQL.
//
// What it covers, and why each matters to JDBC users:
//   prepare_threshold  the driver switches from unnamed to named server-side
//                      statements (and binary transfer) after prepareThreshold (5)
//                      executions; results must not change when it does.
//   fetch_size         with autocommit off and setFetchSize(n) the driver reads a
//                      portal n rows at a time (Execute with a row limit,
//                      PortalSuspended); every row must arrive exactly once.
//   metadata_*         DatabaseMetaData.getTables / getColumns / getPrimaryKeys, which
//                      the driver answers with pg_catalog queries.
//   savepoints, autosave  Connection.setSavepoint / rollback(sp) / releaseSavepoint,
//                      and autosave=always (a savepoint around every statement).
//   types, batch, errors, transactions: the common application paths.
import java.sql.*;
import java.util.*;

public class JdbcCheck {
    static int failed = 0;

    interface Check { void run(Connection c) throws Exception; }

    static void check(Connection c, String name, Check body) {
        try {
            body.run(c);
            System.out.println("ok " + name);
        } catch (Throwable t) {
            failed++;
            String msg = String.valueOf(t);
            System.out.println("FAIL " + name + ": " + msg.replace('\n', ' '));
            try { if (!c.getAutoCommit()) c.rollback(); } catch (SQLException ignored) { }
        }
    }

    static void expect(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) { st.execute(sql); }
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/postgres";
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        try (Connection c = DriverManager.getConnection(url, p)) {
            exec(c, "DROP TABLE IF EXISTS jdbc_items");
            exec(c, "CREATE TABLE jdbc_items (id integer PRIMARY KEY, name text NOT NULL, "
                    + "price double precision, qty bigint, flag boolean, made timestamp)");

            check(c, "batch_insert", conn -> {
                try (PreparedStatement ps = conn.prepareStatement(
                        "INSERT INTO jdbc_items VALUES (?, ?, ?, ?, ?, ?)")) {
                    for (int i = 1; i <= 500; i++) {
                        ps.setInt(1, i);
                        ps.setString(2, "item" + i);
                        if (i % 10 == 0) ps.setNull(3, Types.DOUBLE); else ps.setDouble(3, i * 1.5);
                        ps.setLong(4, (long) i * 1000000007L);
                        ps.setBoolean(5, i % 2 == 0);
                        ps.setTimestamp(6, Timestamp.valueOf("2024-01-01 00:00:00"));
                        ps.addBatch();
                    }
                    int[] counts = ps.executeBatch();
                    expect(counts.length == 500, "500 batch results, got " + counts.length);
                    for (int n : counts) expect(n == 1, "each insert counts 1, got " + n);
                }
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*), sum(qty) FROM jdbc_items")) {
                    expect(rs.next(), "a row");
                    expect(rs.getLong(1) == 500, "count 500, got " + rs.getLong(1));
                    long want = 0;
                    for (int i = 1; i <= 500; i++) want += (long) i * 1000000007L;
                    expect(rs.getLong(2) == want, "sum " + want + ", got " + rs.getLong(2));
                }
            });

            check(c, "prepare_threshold", conn -> {
                // 20 executions: the first 4 unnamed, then a named statement (binary).
                try (PreparedStatement ps = conn.prepareStatement(
                        "SELECT id, name, price, qty, flag, made FROM jdbc_items WHERE id = ?")) {
                    for (int round = 0; round < 20; round++) {
                        int id = 1 + (round * 37) % 500;
                        ps.setInt(1, id);
                        try (ResultSet rs = ps.executeQuery()) {
                            expect(rs.next(), "row " + id + " in round " + round);
                            expect(rs.getInt(1) == id, "id");
                            expect(rs.getString(2).equals("item" + id), "name in round " + round);
                            double price = rs.getDouble(3);
                            if (id % 10 == 0) expect(rs.wasNull(), "NULL price for " + id);
                            else expect(price == id * 1.5, "price " + price + " for " + id);
                            expect(rs.getLong(4) == (long) id * 1000000007L, "qty in round " + round);
                            expect(rs.getBoolean(5) == (id % 2 == 0), "flag in round " + round);
                            expect(rs.getTimestamp(6).equals(Timestamp.valueOf("2024-01-01 00:00:00")),
                                   "made in round " + round + ": " + rs.getTimestamp(6));
                            expect(!rs.next(), "one row");
                        }
                    }
                }
            });

            check(c, "prepared_update_and_delete", conn -> {
                try (PreparedStatement up = conn.prepareStatement(
                        "UPDATE jdbc_items SET qty = qty + ? WHERE id = ?")) {
                    for (int i = 0; i < 10; i++) {
                        up.setLong(1, 1);
                        up.setInt(2, 7);
                        expect(up.executeUpdate() == 1, "update count 1");
                    }
                }
                try (PreparedStatement q = conn.prepareStatement("SELECT qty FROM jdbc_items WHERE id = ?")) {
                    q.setInt(1, 7);
                    try (ResultSet rs = q.executeQuery()) {
                        expect(rs.next() && rs.getLong(1) == 7L * 1000000007L + 10, "qty after updates");
                    }
                }
                try (PreparedStatement del = conn.prepareStatement("DELETE FROM jdbc_items WHERE id > ?")) {
                    del.setInt(1, 490);
                    expect(del.executeUpdate() == 10, "deleted 10");
                }
            });

            check(c, "fetch_size", conn -> {
                conn.setAutoCommit(false);
                try (PreparedStatement ps = conn.prepareStatement(
                        "SELECT id FROM jdbc_items ORDER BY id")) {
                    ps.setFetchSize(7);
                    int n = 0, last = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            int id = rs.getInt(1);
                            expect(id > last, "ascending ids, " + id + " after " + last);
                            last = id;
                            n++;
                        }
                    }
                    expect(n == 490, "490 rows through a 7-row cursor, got " + n);
                }
                conn.commit();
                conn.setAutoCommit(true);
            });

            check(c, "transactions", conn -> {
                conn.setAutoCommit(false);
                exec(conn, "INSERT INTO jdbc_items (id, name) VALUES (1001, 'rolled back')");
                conn.rollback();
                exec(conn, "INSERT INTO jdbc_items (id, name) VALUES (1002, 'committed')");
                conn.commit();
                conn.setAutoCommit(true);
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT id FROM jdbc_items WHERE id > 1000 ORDER BY id")) {
                    expect(rs.next() && rs.getInt(1) == 1002, "committed row present");
                    expect(!rs.next(), "rolled-back row absent");
                }
            });

            check(c, "savepoints", conn -> {
                conn.setAutoCommit(false);
                exec(conn, "INSERT INTO jdbc_items (id, name) VALUES (2001, 'before')");
                Savepoint sp = conn.setSavepoint("sp_a");
                exec(conn, "INSERT INTO jdbc_items (id, name) VALUES (2002, 'undone')");
                conn.rollback(sp);
                Savepoint sp2 = conn.setSavepoint();           // unnamed: the driver names it
                exec(conn, "INSERT INTO jdbc_items (id, name) VALUES (2003, 'kept')");
                conn.releaseSavepoint(sp2);
                conn.commit();
                conn.setAutoCommit(true);
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT id FROM jdbc_items WHERE id > 2000 AND id < 3000 ORDER BY id")) {
                    expect(rs.next() && rs.getInt(1) == 2001, "row before the savepoint");
                    expect(rs.next() && rs.getInt(1) == 2003, "row after the rollback to it");
                    expect(!rs.next(), "rolled-back row absent");
                }
            });

            check(c, "autosave", conn -> {
                // autosave=always: the driver wraps each statement of a transaction in a
                // savepoint and rolls back to it on an error, so the transaction goes on
                Properties ap = new Properties();
                ap.putAll(p);
                ap.setProperty("autosave", "always");
                try (Connection a = DriverManager.getConnection(url, ap)) {
                    a.setAutoCommit(false);
                    exec(a, "INSERT INTO jdbc_items (id, name) VALUES (3001, 'first')");
                    try {
                        exec(a, "INSERT INTO jdbc_items (id, name) VALUES (3001, 'duplicate')");
                        throw new AssertionError("duplicate key accepted");
                    } catch (SQLException e) {
                        expect("23505".equals(e.getSQLState()), "23505, got " + e.getSQLState());
                    }
                    exec(a, "INSERT INTO jdbc_items (id, name) VALUES (3002, 'after the error')");
                    a.commit();
                }
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT id, name FROM jdbc_items WHERE id > 3000 ORDER BY id")) {
                    expect(rs.next() && rs.getInt(1) == 3001 && rs.getString(2).equals("first"), "first row");
                    expect(rs.next() && rs.getInt(1) == 3002, "row after the error");
                    expect(!rs.next(), "two rows");
                }
            });

            check(c, "errors_carry_sqlstate", conn -> {
                try (Statement st = conn.createStatement()) {
                    try {
                        st.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (1, 'dup')");
                        throw new AssertionError("duplicate key accepted");
                    } catch (SQLException e) {
                        expect("23505".equals(e.getSQLState()), "23505, got " + e.getSQLState());
                    }
                    try {
                        st.executeQuery("SELECT * FROM jdbc_no_such_table");
                        throw new AssertionError("missing table accepted");
                    } catch (SQLException e) {
                        expect("42P01".equals(e.getSQLState()), "42P01, got " + e.getSQLState());
                    }
                    try (ResultSet rs = st.executeQuery("SELECT 1")) {
                        expect(rs.next() && rs.getInt(1) == 1, "connection usable after errors");
                    }
                }
            });

            check(c, "metadata_tables", conn -> {
                DatabaseMetaData md = conn.getMetaData();
                expect(md.getDatabaseProductName().equals("PostgreSQL"), "product " + md.getDatabaseProductName());
                try (ResultSet rs = md.getTables(null, "public", "jdbc_items", new String[] {"TABLE"})) {
                    expect(rs.next(), "getTables finds jdbc_items");
                    expect(rs.getString("TABLE_NAME").equals("jdbc_items"), "TABLE_NAME");
                    expect(rs.getString("TABLE_SCHEM").equals("public"), "TABLE_SCHEM");
                    expect(rs.getString("TABLE_TYPE").equals("TABLE"), "TABLE_TYPE " + rs.getString("TABLE_TYPE"));
                    expect(!rs.next(), "only jdbc_items");
                }
            });

            check(c, "metadata_columns", conn -> {
                DatabaseMetaData md = conn.getMetaData();
                List<String> names = new ArrayList<>();
                List<Integer> types = new ArrayList<>();
                List<Integer> nullable = new ArrayList<>();
                try (ResultSet rs = md.getColumns(null, "public", "jdbc_items", "%")) {
                    while (rs.next()) {
                        names.add(rs.getString("COLUMN_NAME"));
                        types.add(rs.getInt("DATA_TYPE"));
                        nullable.add(rs.getInt("NULLABLE"));
                        expect(rs.getInt("ORDINAL_POSITION") == names.size(), "ORDINAL_POSITION");
                    }
                }
                expect(names.equals(List.of("id", "name", "price", "qty", "flag", "made")), "columns " + names);
                expect(types.equals(List.of(Types.INTEGER, Types.VARCHAR, Types.DOUBLE, Types.BIGINT,
                                            Types.BIT, Types.TIMESTAMP)), "types " + types);
                expect(nullable.get(0) == DatabaseMetaData.columnNoNulls
                       && nullable.get(1) == DatabaseMetaData.columnNoNulls
                       && nullable.get(2) == DatabaseMetaData.columnNullable, "nullability " + nullable);
            });

            check(c, "metadata_primary_keys", conn -> {
                DatabaseMetaData md = conn.getMetaData();
                try (ResultSet rs = md.getPrimaryKeys(null, "public", "jdbc_items")) {
                    expect(rs.next(), "a primary key column");
                    expect(rs.getString("COLUMN_NAME").equals("id"), "pk column " + rs.getString("COLUMN_NAME"));
                    expect(rs.getInt("KEY_SEQ") == 1, "KEY_SEQ");
                    expect(!rs.next(), "one pk column");
                }
            });

            exec(c, "DROP TABLE jdbc_items");
        }
        System.out.println(failed == 0 ? "all checks passed" : failed + " checks failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
