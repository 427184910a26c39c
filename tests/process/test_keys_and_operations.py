"""Issue #5 on the real binary, each test with its own sessiond on a free loopback port (and its
own redis-server where Redis is needed): API keys and namespaces, refusal to start open or with
a bad keys file, hashed keys in a real Redis, /metrics accepted by promtool, X-Request-Id and JSON
access lines, /readyz during shutdown, `sessiond healthcheck`, 408 for slow clients,
--max-sessions, --max-connections. Server output goes to files, never to unread pipes."""

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
KEY_A1 = "a1" * 16
KEY_A2 = "a2" * 20
KEY_B = "b0" * 16
KEYS_FILE_TEXT = f"# two apps\nteam-a:{KEY_A1}\nteam-b:{KEY_B}\nteam-a:{KEY_A2}\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, log):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sessiond exited at start: {open(log).read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("sessiond did not start listening")


class Server:
    """A sessiond of its own; `args` are extra flags."""

    def __init__(self, tmp, *args, env=None):
        self.port = free_port()
        self.log = os.path.join(tmp, f"sessiond-{self.port}.log")
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [BIN, "--port", str(self.port), *args], stdout=self.out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        wait_listening(self.port, self.proc, self.log)

    def request(self, method, path, body=None, key=None, headers=None, content_type="application/json"):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        all_headers = dict(headers or {})
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = content_type
        connection.request(method, path, payload, all_headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, response.headers, data

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()

    def output(self):
        self.out.flush()
        return open(self.log).read()


@pytest.fixture
def tmp():
    path = tempfile.mkdtemp(prefix="sessiond-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def keys_file(tmp):
    path = os.path.join(tmp, "keys.txt")
    with open(path, "w") as f:
        f.write(KEYS_FILE_TEXT)
    return path


@pytest.fixture
def servers():
    started = []
    yield started
    for server in started:
        server.stop()


def problem_type(data):
    return json.loads(data)["type"].rsplit("/", 1)[-1]


def handle_of(sid):
    return hashlib.sha256(b"sessiond-handle-v1:" + sid.encode()).hexdigest()[:32]


# MARK: - Keys and namespaces


def test_session_calls_need_a_key_of_their_namespace(tmp, keys_file, servers):
    server = Server(tmp, "--api-keys-file", keys_file)
    servers.append(server)
    status, headers, data = server.request("POST", "/sessions", {"data": {"a": 1}})
    assert status == 401 and problem_type(data) == "unauthorized"
    assert headers["WWW-Authenticate"] == 'Bearer realm="sessiond"'
    status, headers, _ = server.request("POST", "/sessions", {"data": {}}, key="x" * 40)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="sessiond", error="invalid_token"'
    status, headers, data = server.request("POST", "/sessions", {"data": {"a": 1}, "subject": "u1"}, key=KEY_A1)
    assert status == 201
    sid = json.loads(data)["sid"]
    # Both keys of team-a see it; team-b's key does not, for reads and writes alike.
    assert server.request("GET", f"/sessions/{sid}", key=KEY_A2)[0] == 200
    assert server.request("GET", f"/sessions/{sid}", key=KEY_B)[0] == 404
    assert server.request("PUT", f"/sessions/{sid}", {"data": {"b": 2}}, key=KEY_B)[0] == 404
    assert server.request("PATCH", f"/sessions/{sid}", {"data": {"b": 2}}, key=KEY_B, content_type="application/merge-patch+json")[0] == 404
    assert server.request("DELETE", f"/sessions/{sid}", key=KEY_B)[0] == 204
    status, _, data = server.request("GET", "/subjects/u1/sessions", key=KEY_B)
    assert status == 200 and json.loads(data)["sessions"] == []
    status, _, data = server.request("GET", "/subjects/u1/sessions", key=KEY_A1)
    assert [s["handle"] for s in json.loads(data)["sessions"]] == [handle_of(sid)]
    status, _, data = server.request("GET", f"/sessions/{sid}", key=KEY_A1)
    assert status == 200 and json.loads(data)["data"] == {"a": 1}
    # The probes and the contract need no key; /metrics does by default.
    for path in ["/livez", "/readyz", "/openapi.yaml"]:
        assert server.request("GET", path)[0] == 200, path
    assert server.request("GET", "/metrics")[0] == 401
    assert server.request("GET", "/metrics", key=KEY_B)[0] == 200
    assert "api_keys=keys for team-a,team-b" in server.output()


def test_metrics_can_be_open(tmp, keys_file, servers):
    server = Server(tmp, "--api-keys-file", keys_file, "--metrics-auth", "none")
    servers.append(server)
    assert server.request("GET", "/metrics")[0] == 200
    assert server.request("POST", "/sessions")[0] == 401


def run_to_exit(tmp, *args):
    log = os.path.join(tmp, "refused.log")
    with open(log, "w") as out:
        proc = subprocess.run([BIN, "--port", str(free_port()), *args], stdout=out, stderr=subprocess.STDOUT, timeout=20)
    return proc.returncode, open(log).read()


@pytest.mark.parametrize(
    "text,reason",
    [
        ("team-a:short\n", "line 1: the key of namespace team-a is shorter than 32"),
        (f"# comment\nte am:{KEY_A1}\n", "line 2: a namespace is"),
        (f"a:{KEY_A1}\nb:{KEY_A1}\n", "line 2: this key is already given"),
        ("# only a comment\n\n", "no namespace:key line"),
    ],
)
def test_a_bad_keys_file_is_refused_at_start(tmp, text, reason):
    path = os.path.join(tmp, "keys.txt")
    with open(path, "w") as f:
        f.write(text)
    code, output = run_to_exit(tmp, "--api-keys-file", path)
    assert code == 2
    assert "refusing to start" in output and reason in output


def test_a_missing_keys_file_is_refused(tmp):
    code, output = run_to_exit(tmp, "--api-keys-file", os.path.join(tmp, "absent.txt"))
    assert code == 2 and "cannot read the API keys file" in output


def test_no_open_service_beyond_loopback(tmp):
    code, output = run_to_exit(tmp, "--host", "0.0.0.0")
    assert code == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in output
    assert "listening" not in output
    # Allowed explicitly, the refusal is gone (192.0.2.1 is TEST-NET: the bind itself then fails,
    # so nothing listens beyond loopback here).
    code, output = run_to_exit(tmp, "--host", "192.0.2.1", "--allow-unauthenticated", "true")
    assert "refusing to listen" not in output
    assert code != 0


# MARK: - Redis: hashed keys, namespaces


@pytest.fixture
def redis_port(tmp):
    port = free_port()
    log = open(os.path.join(tmp, "redis.log"), "w")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], stdout=log, stderr=log
    )
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield port
    proc.kill()
    proc.wait()
    log.close()


def redis(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=True).stdout


def test_redis_holds_handles_per_namespace_and_never_a_sid(tmp, keys_file, redis_port, servers):
    server = Server(tmp, "--api-keys-file", keys_file, "--store", "redis", "--redis-url", f"redis://127.0.0.1:{redis_port}/0")
    servers.append(server)
    status, _, data = server.request("POST", "/sessions", {"data": {"cart": [1]}, "subject": "user-7"}, key=KEY_A1)
    assert status == 201
    sid = json.loads(data)["sid"]
    keys = sorted(redis(redis_port, "--scan").split())
    assert keys == sorted([f"sessiond:team-a:{handle_of(sid)}", "sessiond:team-a:subject:user-7"])
    dump = "".join(keys) + redis(redis_port, "HGETALL", keys[0]) + redis(redis_port, "ZRANGE", keys[1], "0", "-1")
    assert '{"cart":[1]}' in dump
    assert sid not in dump and sid.replace("-", "") not in dump
    assert server.request("GET", f"/sessions/{sid}", key=KEY_B)[0] == 404
    assert server.request("GET", f"/sessions/{sid}", key=KEY_A2)[0] == 200


# MARK: - Metrics, request ids, JSON logs


def test_metrics_count_what_happened_and_promtool_accepts_them(tmp, servers):
    server = Server(tmp)
    servers.append(server)
    _, _, data = server.request("POST", "/sessions", {"data": {"n": 1}})
    sid = json.loads(data)["sid"]
    server.request("POST", "/sessions", {"data": {}})
    assert server.request("GET", "/sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427")[0] == 404
    assert server.request("PUT", f"/sessions/{sid}", {"data": {}}, headers={"If-Match": '"9"'})[0] == 412
    status, _, data = server.request("POST", f"/sessions/{sid}/rotate")
    assert status == 201
    new_sid = json.loads(data)["sid"]
    assert server.request("DELETE", f"/sessions/{new_sid}")[0] == 204
    status, headers, text = server.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = text.decode()
    for line in [
        "sessiond_sessions_created_total 2", "sessiond_sessions_rotated_total 1", "sessiond_sessions_deleted_total 1",
        "sessiond_conditional_write_conflicts_total 1", 'sessiond_errors_total{type="session-not-found"} 1',
        'sessiond_errors_total{type="precondition-failed"} 1', "sessiond_store_up 1.0",
    ]:
        assert line in text.splitlines(), line
    assert 'sessiond_http_request_duration_seconds_count{route="/sessions",status_class="2xx"} 2' in text
    assert 'sessiond_store_command_duration_seconds_count{operation="insert"}' in text
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_request_ids_and_json_access_lines(tmp, servers):
    server = Server(tmp, "--log-format", "json")
    servers.append(server)
    _, headers, data = server.request("POST", "/sessions", {"data": {}}, headers={"X-Request-Id": "abc-123"})
    assert headers["X-Request-Id"] == "abc-123"
    sid = json.loads(data)["sid"]
    for bad in [None, "has space", "x" * 129]:
        _, headers, _ = server.request("GET", f"/sessions/{sid}", headers={"X-Request-Id": bad} if bad else {})
        assert len(headers["X-Request-Id"]) == 32 and all(c in "0123456789abcdef" for c in headers["X-Request-Id"])
    server.request("GET", "/sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427")
    time.sleep(0.3)
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("message") == "request"]
    first = next(line for line in access if line.get("request_id") == "abc-123")
    assert first["route"] == "/sessions" and first["status"] == 201 and isinstance(first["duration_us"], int)
    read = next(line for line in access if line.get("route") == "/sessions/{sid}" and line["status"] == 200)
    assert read["handle"] == handle_of(sid)
    missing = next(line for line in access if line["status"] == 404)
    assert missing["problem"] == "session-not-found"
    assert sid not in server.output()


# MARK: - Shutdown and health


def healthcheck(port, env=None):
    return subprocess.run([BIN, "healthcheck", *(["--port", str(port)] if port else [])], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=20)


def test_readyz_turns_503_on_sigterm_while_requests_are_still_served(tmp, servers):
    server = Server(tmp, "--drain-delay", "1s")
    servers.append(server)
    assert healthcheck(server.port).returncode == 0
    busy = socket.create_connection(("127.0.0.1", server.port))
    body = b'{"data":{"in":"flight"}}'
    busy.sendall(b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
    time.sleep(0.2)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    status, _, data = server.request("GET", "/readyz")
    assert status == 503 and problem_type(data) == "shutting-down"
    checked = healthcheck(server.port)
    assert checked.returncode == 1 and "503" in checked.stderr
    assert server.request("POST", "/sessions", {"data": {}})[0] == 201
    busy.sendall(body[5:])
    busy.settimeout(5)
    assert busy.recv(4096).startswith(b"HTTP/1.1 201 ")
    assert server.proc.wait(timeout=10) == 0
    assert healthcheck(server.port).returncode == 1


def test_healthcheck_reads_the_port_from_the_environment(tmp, servers):
    server = Server(tmp)
    servers.append(server)
    assert healthcheck(None, env={"SESSIOND_PORT": str(server.port)}).returncode == 0
    nothing = healthcheck(free_port())
    assert nothing.returncode == 1 and "nothing answers" in nothing.stderr


# MARK: - Limits


def test_slow_clients_get_408(tmp, servers):
    server = Server(tmp, "--request-timeout", "1s")
    servers.append(server)
    slow_head = socket.create_connection(("127.0.0.1", server.port))
    slow_head.sendall(b"GET /livez HTTP/1.1\r\n")
    time.sleep(0.6)
    slow_head.sendall(b"Host: t\r\n")
    slow_head.settimeout(5)
    answer = slow_head.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"request-timeout" in answer
    assert slow_head.recv(4096) == b""
    slow_body = socket.create_connection(("127.0.0.1", server.port))
    slow_body.sendall(b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{")
    slow_body.settimeout(5)
    assert slow_body.recv(4096).startswith(b"HTTP/1.1 408 ")
    # A keep-alive connection that waits between requests is not cut off by the request timeout.
    idle = socket.create_connection(("127.0.0.1", server.port))
    idle.settimeout(5)
    idle.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200 ")
    time.sleep(1.5)
    idle.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200 ")


def test_max_sessions_per_namespace(tmp, keys_file, servers):
    server = Server(tmp, "--api-keys-file", keys_file, "--max-sessions", "3")
    servers.append(server)
    sids = [json.loads(server.request("POST", "/sessions", {"data": {"i": i}}, key=KEY_A1)[2])["sid"] for i in range(3)]
    status, _, data = server.request("POST", "/sessions", {"data": {"i": 3}}, key=KEY_A1)
    assert status == 507 and problem_type(data) == "store-full"
    assert server.request("POST", "/sessions", {"data": {}}, key=KEY_B)[0] == 201
    assert server.request("DELETE", f"/sessions/{sids[0]}", key=KEY_A1)[0] == 204
    assert server.request("POST", "/sessions", {"data": {"i": 4}}, key=KEY_A2)[0] == 201
    assert server.request("POST", "/sessions", {"data": {"i": 5}}, key=KEY_A2)[0] == 507


def test_max_connections(tmp, servers):
    server = Server(tmp, "--max-connections", "2")
    servers.append(server)
    time.sleep(0.3)  # the start-up probe's connection is closed and no longer counted
    first = socket.create_connection(("127.0.0.1", server.port))
    second = socket.create_connection(("127.0.0.1", server.port))
    time.sleep(0.2)
    third = socket.create_connection(("127.0.0.1", server.port))
    third.settimeout(5)
    try:
        third.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
        refused = third.recv(4096) == b""
    except ConnectionResetError:
        refused = True
    assert refused
    for sock in (first, second):
        sock.settimeout(5)
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
