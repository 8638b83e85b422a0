"""test_http.py -- NextDB's HTTP endpoint: POST /query answers the same rows as psql
does on the PostgreSQL port, binds params, reports errors as JSON with the SQLSTATE;
GET /health answers; GET /metrics is valid Prometheus text (`promtool check metrics`).
NextDB-only: skipped with NEXTDB_TEST_TARGET=postgres."""
import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.nextdb_only


def http(server, method, path, body=None, timeout=30):
    """Returns (status, content type, body bytes); HTTP errors are returned, not raised."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request("http://%s:%d%s" % (server.host, server.http_port, path),
                                 data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def query(server, sql, params=None):
    body = {"sql": sql}
    if params is not None:
        body["params"] = params
    status, ctype, raw = http(server, "POST", "/query", body)
    assert "json" in ctype, (status, ctype, raw[:200])
    return status, json.loads(raw)


def as_psql_text(v):
    """Renders a JSON value the way psql -A prints it, for comparison."""
    if v is None:
        return ""
    if v is True:
        return "t"
    if v is False:
        return "f"
    return str(v)


@pytest.fixture(scope="module")
def table(server):
    server.psql("CREATE TABLE http_t (id int PRIMARY KEY, name text, flag boolean, n bigint);"
                "INSERT INTO http_t SELECT g, 'name' || g, g % 2 = 0, g::bigint * 1000000000 "
                "FROM generate_series(1, 500) g;"
                "INSERT INTO http_t VALUES (1000, NULL, NULL, NULL);")
    return "http_t"


@pytest.mark.parametrize("sql", [
    "SELECT 1 AS one, 'two' AS two",
    "SELECT id, name, flag, n FROM http_t WHERE id <= 5 ORDER BY id",
    "SELECT count(*), sum(n), min(name) FROM http_t",
    "SELECT id % 3 AS m, count(*) FROM http_t GROUP BY id % 3 ORDER BY m",
    "SELECT id, name, flag FROM http_t WHERE id = 1000",
    "SELECT id FROM http_t WHERE id < 0",
])
def test_query_matches_psql(server, table, sql):
    status, res = query(server, sql)
    assert status == 200, res
    want = [line.split("|") for line in server.psql(sql + ";").splitlines()]
    got = [[as_psql_text(v) for v in row] for row in res["rows"]]
    assert got == want
    assert all(isinstance(c["name"], str) and isinstance(c["type"], str) and c["type"]
               for c in res["columns"])
    assert res["command"] == "SELECT %d" % len(want)


def test_column_names(server, table):
    status, res = query(server, "SELECT id AS ident, name FROM http_t WHERE id = 1")
    assert status == 200
    assert [c["name"] for c in res["columns"]] == ["ident", "name"]
    assert res["rows"] == [[1, "name1"]]


def test_params(server, table):
    status, res = query(server, "SELECT $1::int + 1 AS x, $2::text AS y, $3::int IS NULL AS z",
                        [41, "hello", None])
    assert status == 200, res
    assert res["rows"] == [[42, "hello", True]]
    status, res = query(server, "SELECT name FROM http_t WHERE id = $1", [7])
    assert status == 200 and res["rows"] == [["name7"]]


def test_dml_command_tags(server, table):
    status, res = query(server, "UPDATE http_t SET flag = NOT flag WHERE id <= $1", [10])
    assert status == 200 and res["command"] == "UPDATE 10", res
    status, res = query(server, "INSERT INTO http_t VALUES ($1, $2, true, 0)", [2000, "x"])
    assert status == 200 and res["command"] == "INSERT 0 1", res
    assert server.psql("SELECT name FROM http_t WHERE id = 2000;").strip() == "x"


@pytest.mark.parametrize("sql,code", [
    ("SELECT * FROM no_such_table", "42P01"),
    ("SELECT no_such_col FROM http_t", "42703"),
    ("SELEC 1", "42601"),
    ("INSERT INTO http_t VALUES (1, 'dup', true, 1)", "23505"),
])
def test_error_json(server, table, sql, code):
    status, res = query(server, sql)
    assert status == 400, res
    assert res["error"]["sqlstate"] == code, res
    assert res["error"]["message"], res


def test_malformed_request(server):
    status, ctype, raw = http(server, "POST", "/query", b"{not json")
    assert status == 400
    assert "error" in json.loads(raw)


def test_health(server):
    status, _, _ = http(server, "GET", "/health")
    assert status == 200


def test_metrics_pass_promtool(server, table):
    status, ctype, raw = http(server, "GET", "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain"), ctype
    text = raw.decode()
    assert "# TYPE " in text
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus; tools/setup-deps.sh)")
    res = subprocess.run([promtool, "check", "metrics"], input=raw, capture_output=True, timeout=60)
    assert res.returncode == 0, (res.stdout + res.stderr).decode()[-3000:]
