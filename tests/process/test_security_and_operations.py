"""Issue #5 on the real binary, checked against its written behaviour: API keys and namespaces,
the refusals at start (open beyond loopback, bad keys files), handles per namespace in a real
Redis with no sid at rest, /metrics counted exactly and accepted by promtool, X-Request-Id and
JSON access lines, the drain on SIGTERM, `sessiond healthcheck`, 408 for slow clients,
--max-sessions and --max-connections.

Each test starts its own sessiond from SESSIOND_BIN on a free loopback port (Redis tests their
own redis-server too, and stop it). Nothing binds anything but loopback. Process output goes to
files, never to pipes nobody reads."""

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import time

import pytest

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"

KEY_A1 = "0123456789abcdef" * 2  # exactly 32 characters: the shortest key allowed
KEY_A2 = "A-second-key-of-team-a_" + "z" * 20
KEY_B = "team-b-key." + "9" * 30
KEYS_FILE_TEXT = f"# sessiond API keys\n\nteam-a:{KEY_A1}\nteam-b:{KEY_B}\n# a second key of team-a\nteam-a:{KEY_A2}\n"
UNKNOWN_SID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
MERGE_PATCH = "application/merge-patch+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def handle_of(sid):
    return hashlib.sha256(b"sessiond-handle-v1:" + sid.encode()).hexdigest()[:32]


def problem_type(data):
    return json.loads(data)["type"].rsplit("/", 1)[-1]


class Server:
    """A sessiond of its own on a free loopback port; `args` are extra flags. `probe=False` waits
    for the start-up log line instead of connecting (for tests that count connections)."""

    def __init__(self, tmp, *args, env=None, probe=True):
        self.port = free_port()
        self.log = os.path.join(tmp, f"sessiond-{self.port}.log")
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [BIN, "--host", "127.0.0.1", "--port", str(self.port), *args],
            stdout=self.out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"sessiond exited at start ({self.proc.returncode}): {self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"sessiond did not start listening: {self.output()}")
            if probe:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return
                except OSError:
                    pass
            elif "sessiond listening" in self.output():
                return
            time.sleep(0.05)

    def request(self, method, path, body=None, key=None, headers=None, content_type="application/json", raw_auth=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        if raw_auth is not None:
            all_headers["Authorization"] = raw_auth
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = content_type
        try:
            connection.request(method, path, payload, all_headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, response.headers, data

    def create(self, body, key=None):
        status, _, data = self.request("POST", "/sessions", body, key=key)
        assert status == 201, data
        return json.loads(data)["sid"]

    def output(self):
        self.out.flush()
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


@pytest.fixture
def tmp(tmp_path):
    return str(tmp_path)


@pytest.fixture
def keys_file(tmp):
    path = os.path.join(tmp, "keys.txt")
    with open(path, "w") as f:
        f.write(KEYS_FILE_TEXT)
    return path


@pytest.fixture
def start(tmp):
    """start(*flags, ...) -> a running Server, killed after the test."""
    started = []

    def _start(*args, **kwargs):
        server = Server(tmp, *args, **kwargs)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


# MARK: - Raw sockets


def connect(port, timeout=5):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_response(sock):
    """One HTTP/1.1 response (head and Content-Length body) -> (status, headers, body); (None, {}, b"") on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            assert data == b"", f"connection closed inside a response head: {data!r}"
            return None, {}, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def closed_by_server(sock, timeout=5):
    """True when the server closes the connection (EOF or reset) within `timeout`."""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def livez_on(sock):
    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
    return read_response(sock)[0]


# MARK: - Keys and namespaces


def test_keys_authenticate_and_namespaces_separate_sessions_and_subjects(keys_file, start):
    server = start("--api-keys-file", keys_file)

    # No key: 401 unauthorized, with the challenge. Every session and subject call needs one.
    status, headers, data = server.request("POST", "/sessions", {"data": {"a": 1}})
    assert status == 401 and problem_type(data) == "unauthorized", data
    assert headers["Content-Type"].startswith("application/problem+json")
    assert headers["WWW-Authenticate"] == 'Bearer realm="sessiond"'
    for method, path in [("GET", f"/sessions/{UNKNOWN_SID}"), ("DELETE", f"/sessions/{UNKNOWN_SID}"),
                         ("GET", "/subjects/u1/sessions"), ("DELETE", "/subjects/u1/sessions")]:
        status, headers, data = server.request(method, path)
        assert status == 401 and problem_type(data) == "unauthorized", (method, path, status, data)
        assert headers["WWW-Authenticate"] == 'Bearer realm="sessiond"', (method, path)

    # A wrong key, a key one character off, another scheme: 401 invalid_token.
    for auth in [f"Bearer {'x' * 40}", f"Bearer {KEY_A1[:-1]}0", f"Bearer {KEY_A1}x", f"Basic {KEY_A1}"]:
        status, headers, data = server.request("POST", "/sessions", {"data": {}}, raw_auth=auth)
        assert status == 401 and problem_type(data) == "unauthorized", (auth, status, data)
        if auth.startswith("Bearer"):
            assert headers["WWW-Authenticate"] == 'Bearer realm="sessiond", error="invalid_token"', auth

    # Both keys of team-a work and see each other's sessions; the scheme is case-insensitive.
    sid_a = server.create({"data": {"owner": "a"}, "subject": "u1"}, key=KEY_A1)
    other_a = server.create({"data": {"owner": "a2"}}, key=KEY_A2)
    assert server.request("GET", f"/sessions/{sid_a}", key=KEY_A2)[0] == 200
    assert server.request("GET", f"/sessions/{other_a}", key=KEY_A1)[0] == 200
    assert server.request("GET", f"/sessions/{sid_a}", raw_auth=f"bearer {KEY_A1}")[0] == 200

    # team-b's key does not see team-a's session, for reads and writes alike.
    status, _, data = server.request("GET", f"/sessions/{sid_a}", key=KEY_B)
    assert status == 404 and problem_type(data) == "session-not-found", data
    status, _, data = server.request("PUT", f"/sessions/{sid_a}", {"data": {"b": 1}}, key=KEY_B)
    assert status == 404, data
    status, _, data = server.request("PATCH", f"/sessions/{sid_a}", {"data": {"b": 2}}, key=KEY_B, content_type=MERGE_PATCH)
    assert status == 404, data
    assert server.request("POST", f"/sessions/{sid_a}/touch", key=KEY_B)[0] == 404
    assert server.request("POST", f"/sessions/{sid_a}/rotate", key=KEY_B)[0] == 404
    assert server.request("DELETE", f"/sessions/{sid_a}", key=KEY_B)[0] == 204  # absent for B: 204, changes nothing
    status, _, data = server.request("GET", f"/sessions/{sid_a}", key=KEY_A1)
    assert status == 200, data
    session = json.loads(data)
    assert session["data"] == {"owner": "a"} and session["version"] == 1 and session["subject"] == "u1"

    # Subjects are per namespace: the same subject under B is another set of sessions.
    sid_b = server.create({"data": {"owner": "b"}, "subject": "u1"}, key=KEY_B)
    status, _, data = server.request("GET", "/subjects/u1/sessions", key=KEY_B)
    assert status == 200 and [s["handle"] for s in json.loads(data)["sessions"]] == [handle_of(sid_b)], data
    status, _, data = server.request("GET", "/subjects/u1/sessions", key=KEY_A2)
    assert status == 200 and [s["handle"] for s in json.loads(data)["sessions"]] == [handle_of(sid_a)], data
    status, _, data = server.request("DELETE", "/subjects/u1/sessions", key=KEY_B)
    assert status == 200 and json.loads(data)["revoked"] == 1, data
    assert server.request("GET", f"/sessions/{sid_b}", key=KEY_B)[0] == 404
    assert server.request("GET", f"/sessions/{sid_a}", key=KEY_A1)[0] == 200
    assert server.request("GET", f"/sessions/{sid_b}", key=KEY_A1)[0] == 404

    # Probes and the contract are open; /metrics needs a key by default (any namespace's).
    for path in ["/livez", "/readyz", "/openapi.yaml"]:
        assert server.request("GET", path)[0] == 200, path
    status, headers, data = server.request("GET", "/metrics")
    assert status == 401 and problem_type(data) == "unauthorized", data
    assert server.request("GET", "/metrics", key="y" * 40)[0] == 401
    assert server.request("GET", "/metrics", key=KEY_A2)[0] == 200
    assert server.request("GET", "/metrics", key=KEY_B)[0] == 200
    output = server.output()
    assert "api_keys=keys for team-a,team-b" in output
    for key in (KEY_A1, KEY_A2, KEY_B):
        assert key not in output


def test_metrics_auth_none_opens_only_metrics(keys_file, start):
    server = start("--api-keys-file", keys_file, "--metrics-auth", "none")
    status, headers, data = server.request("GET", "/metrics")
    assert status == 200 and b"sessiond_sessions_created_total" in data
    assert server.request("POST", "/sessions", {"data": {}})[0] == 401
    assert server.request("GET", "/subjects/u1/sessions")[0] == 401


# MARK: - Refusals at start


def run_to_exit(tmp, *args, env=None, port=None):
    """Runs sessiond until it exits (killed after 10 s) -> (exit code, output)."""
    log = os.path.join(tmp, f"run-{time.monotonic_ns()}.log")
    with open(log, "w") as out:
        proc = subprocess.Popen([BIN, "--port", str(port or free_port()), *args], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = "still running after 10 s"
    with open(log, errors="replace") as f:
        return code, f.read()


def test_open_service_beyond_loopback_is_refused_before_binding(tmp):
    # Hold the port on loopback: had sessiond bound 0.0.0.0 first, that bind would fail with
    # "address in use" instead of the refusal. So the refusal shows it comes before any bind.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        for args, env in [(["--host", "0.0.0.0"], None),
                          (["--host", "0.0.0.0", "--allow-unauthenticated", "false"], None),
                          ([], {"SESSIOND_HOST": "0.0.0.0"})]:
            code, output = run_to_exit(tmp, *args, env=env, port=port)
            assert code == 2, (args, env, code, output)
            assert "refusing to start" in output and "without API keys" in output, output
            assert "--api-keys-file" in output and "127.0.0.1" in output and "--allow-unauthenticated" in output, output
            assert "listening" not in output.replace("refusing to listen", "")
            assert "bind" not in output.lower() and "in use" not in output.lower(), output
        # Control: a bind to the held port does fail, and differently.
        code, output = run_to_exit(tmp, "--host", "127.0.0.1", port=port)
        assert code not in (0, 2) and "refusing to start" not in output, (code, output)
    finally:
        holder.close()


def test_allow_unauthenticated_lifts_the_refusal(tmp):
    # 192.0.2.1 is TEST-NET-1, on no interface here: the bind itself fails, so nothing listens.
    code, output = run_to_exit(tmp, "--host", "192.0.2.1", "--allow-unauthenticated", "true")
    assert "refusing to listen" not in output and "refusing to start" not in output, output
    assert "without API keys" not in output
    assert code != 0, output


def keys_refusal(tmp, text):
    path = os.path.join(tmp, "keys.txt")
    with open(path, "w") as f:
        f.write(text)
    code, output = run_to_exit(tmp, "--api-keys-file", path)
    return code, output, path


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("short key on line 3", f"# keys\nteam-a:{KEY_A1}\nteam-b:{'k' * 31}\n", ["line 3", "team-b", "shorter than 32"]),
        ("namespace with a space", f"team-a:{KEY_A1}\nteam b:{KEY_B}\n", ["line 2", "namespace"]),
        ("duplicate key", f"team-a:{KEY_A1}\n# x\nteam-b:{KEY_B}\nteam-c:{KEY_A1}\n", ["line 4", "already given"]),
        ("only comments", "# nothing here\n\n# nor here\n", ["no namespace:key line"]),
    ],
)
def test_a_bad_keys_file_is_refused(tmp, name, text, expected):
    code, output, path = keys_refusal(tmp, text)
    assert code == 2, (name, code, output)
    assert "refusing to start" in output and path in output, output
    for words in expected:
        assert words in output, (name, words, output)
    assert "sessiond listening" not in output
    assert KEY_A1 not in output and KEY_B not in output  # a refusal names the line, never the key


def test_a_missing_keys_file_is_refused(tmp):
    path = os.path.join(tmp, "absent-keys.txt")
    code, output = run_to_exit(tmp, "--api-keys-file", path)
    assert code == 2, output
    assert "refusing to start" in output and "cannot read the API keys file" in output and path in output, output
    code, output = run_to_exit(tmp, env={"SESSIOND_API_KEYS_FILE": path})
    assert code == 2 and "cannot read the API keys file" in output, output


# MARK: - Redis: handles per namespace, no sid at rest


@pytest.fixture
def redis_port(tmp):
    port = free_port()
    log = open(os.path.join(tmp, "redis.log"), "w")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while redis(port, "PING", check=False).strip() != "PONG":
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def redis(port, *args, check=True):
    return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, text=True,
                          check=check, timeout=10).stdout


def test_redis_keeps_handles_under_the_namespace_and_never_a_sid(keys_file, redis_port, start):
    server = start("--api-keys-file", keys_file, "--store", "redis", "--redis-url", f"redis://127.0.0.1:{redis_port}/0")
    sid = server.create({"data": {"cart": [1, 2], "note": "kept-in-redis"}, "subject": "user-7"}, key=KEY_A1)
    handle = handle_of(sid)
    keys = sorted(redis(redis_port, "--scan").split())
    events = ["sessiond:team-a:events", "sessiond:team-a:events:due", "sessiond:team-a:events:who"]
    assert keys == sorted([f"sessiond:team-a:{handle}", "sessiond:team-a:subject:user-7", *events]), keys
    assert re.fullmatch(r"sessiond:team-a:[0-9a-f]{32}", f"sessiond:team-a:{handle}")
    stored = redis(redis_port, "HGETALL", f"sessiond:team-a:{handle}")
    assert "kept-in-redis" in stored, stored  # the hash does hold the session...
    index = redis(redis_port, "ZRANGE", "sessiond:team-a:subject:user-7", "0", "-1")
    assert handle in index, index
    # The lifecycle events name the handle too, never the data.
    told = redis(redis_port, "XRANGE", "sessiond:team-a:events", "-", "+")
    told += redis(redis_port, "ZRANGE", "sessiond:team-a:events:due", "0", "-1")
    told += redis(redis_port, "HGETALL", "sessiond:team-a:events:who")
    assert handle in told and "user-7" in told and "kept-in-redis" not in told, told
    for text in ["".join(keys), stored, index, told]:  # ...but no sid, in any spelling
        for spelling in (sid, sid.replace("-", ""), sid.upper()):
            assert spelling not in text

    # Namespace B does not see it, cannot touch it, and its own keys live under its own prefix.
    status, _, data = server.request("GET", f"/sessions/{sid}", key=KEY_B)
    assert status == 404 and problem_type(data) == "session-not-found", data
    assert server.request("DELETE", f"/sessions/{sid}", key=KEY_B)[0] == 204
    assert redis(redis_port, "EXISTS", f"sessiond:team-a:{handle}").strip() == "1"
    status, _, data = server.request("GET", "/subjects/user-7/sessions", key=KEY_B)
    assert status == 200 and json.loads(data)["sessions"] == [], data
    sid_b = server.create({"data": {}, "subject": "user-7"}, key=KEY_B)
    keys = sorted(redis(redis_port, "--scan").split())
    assert keys == sorted([f"sessiond:team-a:{handle}", "sessiond:team-a:subject:user-7", *events,
                           f"sessiond:team-b:{handle_of(sid_b)}", "sessiond:team-b:subject:user-7",
                           *[key.replace("team-a", "team-b") for key in events]]), keys
    status, _, data = server.request("GET", f"/sessions/{sid}", key=KEY_A2)
    assert status == 200 and json.loads(data)["data"]["note"] == "kept-in-redis", data


# MARK: - Metrics


def parse_metrics(text):
    """Prometheus text -> ({sample with labels: value}, {family: help}, {family: type})."""
    samples, helps, types = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, rest = line[7:].partition(" ")
            helps[name] = rest
        elif line.startswith("# TYPE "):
            name, _, rest = line[7:].partition(" ")
            types[name] = rest
        elif line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples, helps, types


def test_metrics_count_the_traffic_exactly_and_promtool_accepts_them(start):
    server = start()
    s1 = server.create({"data": {"n": 1}, "subject": "m"})
    s2 = server.create({"data": {"n": 2}})
    assert server.request("GET", f"/sessions/{s1}")[0] == 200
    assert server.request("GET", f"/sessions/{s2}")[0] == 200
    assert server.request("GET", f"/sessions/{UNKNOWN_SID}")[0] == 404
    assert server.request("GET", "/sessions/0b4e28ba-2fa1-41d2-883f-0016d3cca427")[0] == 404
    assert server.request("PUT", f"/sessions/{s1}", {"data": {}}, headers={"If-Match": '"9"'})[0] == 412
    assert server.request("PATCH", f"/sessions/{s1}", {"data": {"x": 1}}, headers={"If-Match": '"7"'},
                          content_type=MERGE_PATCH)[0] == 412
    status, _, data = server.request("POST", f"/sessions/{s1}/rotate")
    assert status == 201, data
    s3 = json.loads(data)["sid"]
    assert server.request("GET", f"/sessions/{s1}")[0] == 404  # the old sid is gone
    assert server.request("DELETE", f"/sessions/{s3}")[0] == 204

    status, headers, body = server.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    samples, helps, types = parse_metrics(text)
    expected_types = {
        "sessiond_http_request_duration_seconds": "histogram", "sessiond_store_command_duration_seconds": "histogram",
        "sessiond_errors_total": "counter", "sessiond_sessions_created_total": "counter",
        "sessiond_sessions_deleted_total": "counter", "sessiond_sessions_rotated_total": "counter",
        "sessiond_conditional_write_conflicts_total": "counter", "sessiond_store_up": "gauge",
    }
    for name, kind in expected_types.items():
        assert types.get(name) == kind, (name, types.get(name))
        assert helps.get(name), f"no HELP for {name}"
    for sample, value in {
        "sessiond_sessions_created_total": 2, "sessiond_sessions_rotated_total": 1, "sessiond_sessions_deleted_total": 1,
        "sessiond_conditional_write_conflicts_total": 2, 'sessiond_errors_total{type="session-not-found"}': 3,
        'sessiond_errors_total{type="precondition-failed"}': 2, "sessiond_store_up": 1,
        'sessiond_http_request_duration_seconds_count{route="/sessions",status_class="2xx"}': 2,
        'sessiond_http_request_duration_seconds_bucket{route="/sessions",status_class="2xx",le="+Inf"}': 2,
        'sessiond_http_request_duration_seconds_count{route="/sessions/{sid}",status_class="4xx"}': 5,
        'sessiond_http_request_duration_seconds_count{route="/sessions/{sid}/rotate",status_class="2xx"}': 1,
    }.items():
        assert samples.get(sample) == value, (sample, samples.get(sample))
    for operation in ["insert", "load", "update", "remove", "list", "remove_by_handle", "ready"]:
        assert f'sessiond_store_command_duration_seconds_count{{operation="{operation}"}}' in samples, operation
    assert samples['sessiond_store_command_duration_seconds_count{operation="insert"}'] >= 2
    assert samples['sessiond_store_command_duration_seconds_count{operation="load"}'] >= 2

    assert server.request("HEAD", "/metrics")[0] == 200
    assert server.request("POST", "/metrics")[0] == 405

    assert os.path.exists(PROMTOOL), "promtool is missing (scripts/setup installs it): cannot check the metrics text"
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


# MARK: - Request ids and JSON access lines


def access_lines(server, wanted, timeout=3):
    """The JSON access lines of the log, once `wanted` of them are there. Every line must be JSON."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(line) for line in server.output().splitlines() if line.strip()]
        access = [line for line in lines if line.get("message") == "request"]
        if len(access) >= wanted or time.monotonic() > deadline:
            return lines, access
        time.sleep(0.05)


def test_request_ids_are_echoed_or_generated_and_json_access_lines_name_no_sid(start):
    server = start("--log-format", "json")
    status, headers, data = server.request("POST", "/sessions", {"data": {"secret": "value-xyzzy"}},
                                           headers={"X-Request-Id": "abc-123"})
    assert status == 201 and headers["X-Request-Id"] == "abc-123"
    sid = json.loads(data)["sid"]
    assert server.request("GET", "/livez", headers={"X-Request-Id": "probe-1"})[1]["X-Request-Id"] == "probe-1"
    edge = "!~" + "x" * 126  # 128 visible characters: kept
    assert server.request("GET", f"/sessions/{sid}", headers={"X-Request-Id": edge})[1]["X-Request-Id"] == edge

    generated = []
    for sent in [None, "has space", "x" * 129, "", "caf\u00e9"]:
        status, headers, _ = server.request("GET", f"/sessions/{sid}", headers={} if sent is None else {"X-Request-Id": sent})
        assert status == 200
        got = headers["X-Request-Id"]
        assert HEX32.match(got), (sent, got)
        generated.append(got)
    assert len(set(generated)) == len(generated)

    status, headers, data = server.request("GET", f"/sessions/{UNKNOWN_SID}", headers={"X-Request-Id": "nf-1"})
    assert status == 404 and headers["X-Request-Id"] == "nf-1"
    status, headers, _ = server.request("PUT", f"/sessions/{sid}", {"data": {"secret": "value-plugh"}})
    assert status == 200
    put_id = headers["X-Request-Id"]

    lines, access = access_lines(server, wanted=10)
    start_up = next(line for line in lines if line.get("message") == "sessiond listening")
    assert start_up["address"] == f"127.0.0.1:{server.port}" and start_up["store"] == "memory"
    assert start_up["api_keys"] == "off"
    by_id = {line.get("request_id"): line for line in access}
    created = by_id["abc-123"]
    assert created["method"] == "POST" and created["route"] == "/sessions" and created["status"] == 201
    for line in access:
        assert type(line["status"]) is int and type(line["duration_us"]) is int and line["duration_us"] >= 0, line
        assert {"time", "level", "label", "request_id", "method", "route"} <= set(line), line
    for request_id in generated:
        read = by_id[request_id]  # the generated id is the one logged
        assert read["route"] == "/sessions/{sid}" and read["status"] == 200 and read["handle"] == handle_of(sid), read
    assert by_id[edge]["handle"] == handle_of(sid)
    assert by_id[put_id]["method"] == "PUT" and by_id[put_id]["handle"] == handle_of(sid)
    missing = by_id["nf-1"]
    assert missing["status"] == 404 and missing["problem"] == "session-not-found"
    assert missing["handle"] == handle_of(UNKNOWN_SID)
    assert by_id["probe-1"]["route"] == "/livez" and "handle" not in by_id["probe-1"]

    log = server.output()
    for secret in (sid, sid.replace("-", ""), UNKNOWN_SID, "value-xyzzy", "value-plugh"):
        assert secret not in log, secret


# MARK: - Drain on SIGTERM


def test_sigterm_drains_readyz_503_requests_served_during_the_delay_in_flight_finishes(start):
    server = start("--drain-delay", "1s")
    body = b'{"data":{"in":"flight"}}'
    busy = connect(server.port)
    busy.sendall(b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body[:9])
    time.sleep(0.2)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.1)

    status, headers, data = server.request("GET", "/readyz")
    assert status == 503, data
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem_type(data) == "shutting-down"
    status, _, data = server.request("POST", "/sessions", {"data": {"during": "delay"}})
    assert status == 201, data
    new_sid = json.loads(data)["sid"]
    assert server.request("GET", f"/sessions/{new_sid}")[0] == 200
    assert time.monotonic() - signalled < 0.9, "the requests during the delay took too long to mean anything"

    # After the delay the listener is closed; the request in flight is still answered.
    time.sleep(max(0.0, signalled + 1.5 - time.monotonic()))
    assert server.proc.poll() is None, "sessiond exited with a request in flight"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    busy.sendall(body[9:])
    status, _, data = read_response(busy)
    assert status == 201, data
    assert json.loads(data)["data"] == {"in": "flight"}
    assert server.proc.wait(timeout=5) == 0
    assert "sessiond stopped" in server.output()


# MARK: - healthcheck


def healthcheck(*args, env=None):
    return subprocess.run([BIN, "healthcheck", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=20)


def test_healthcheck_exit_codes(start):
    server = start("--drain-delay", "5s")
    dead = free_port()
    assert healthcheck("--port", str(server.port)).returncode == 0
    assert healthcheck(env={"SESSIOND_PORT": str(server.port)}).returncode == 0
    assert healthcheck(env={"SESSIOND_PORT": str(dead)}).returncode == 1  # the variable is read, not 8080
    assert healthcheck("--port", str(server.port), env={"SESSIOND_PORT": str(dead)}).returncode == 0  # the flag wins
    nothing = healthcheck("--port", str(dead))
    assert nothing.returncode == 1 and nothing.stderr.strip(), nothing

    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert server.request("GET", "/readyz")[0] == 503
    draining = healthcheck("--port", str(server.port))
    assert draining.returncode == 1 and "503" in draining.stderr, draining
    assert healthcheck(env={"SESSIOND_PORT": str(server.port)}).returncode == 1


# MARK: - Request timeout


def answer_while_sending(sock, pieces):
    """Sends (at_seconds, bytes) pieces, stopping as soon as the server answers. -> (seconds to the answer, answer)."""
    started = time.monotonic()
    sock.setblocking(False)
    try:
        for at, piece in pieces + [(5.0, None)]:
            while True:
                left = started + at - time.monotonic()
                if left <= 0:
                    break
                readable, _, _ = select.select([sock], [], [], left)
                if readable:
                    return time.monotonic() - started, sock
            if piece is None:
                return None, sock
            sock.sendall(piece)
    finally:
        sock.setblocking(True)
        sock.settimeout(5)


def test_slow_heads_and_bodies_get_408_but_idle_keep_alive_does_not(start):
    server = start("--request-timeout", "1s")
    idle = connect(server.port)
    assert livez_on(idle) == 200

    # A head in pieces over 1.5 s: 408 about 1 s after its first byte, then the connection closes.
    slow_head = connect(server.port)
    after, _ = answer_while_sending(slow_head, [(0, b"GET /livez HTTP/1.1\r\n"), (0.5, b"Host: t\r\n"),
                                                (1.0, b"X-Slow: 1\r\n"), (1.5, b"\r\n")])
    assert after is not None, "no answer to a head that took 1.5 s"
    status, headers, data = read_response(slow_head)
    assert status == 408, data
    assert headers["content-type"].startswith("application/problem+json")
    assert problem_type(data) == "request-timeout"
    assert 0.9 <= after < 1.45, f"408 after {after:.2f} s, want about 1 s from the first byte"
    assert closed_by_server(slow_head)

    # A body trickled in past 1 s: 408 request-timeout, closed, and nothing stored.
    slow_body = connect(server.port)
    head = b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
    trickle = [(0, head)] + [(0.3 * (i + 1), b" ") for i in range(8)]
    after, _ = answer_while_sending(slow_body, trickle)
    assert after is not None, "no answer to a body trickled over 2.4 s"
    status, headers, data = read_response(slow_body)
    assert status == 408 and problem_type(data) == "request-timeout", data
    assert 0.9 <= after < 1.45, f"408 after {after:.2f} s, want about 1 s from the head"
    assert closed_by_server(slow_body)

    # The keep-alive connection, idle for about 3 s between requests, still works.
    assert livez_on(idle) == 200
    assert livez_on(idle) == 200
    status, _, data = server.request("GET", "/metrics")
    assert 'sessiond_sessions_created_total 0' in data.decode().splitlines()


# MARK: - Limits


def test_max_sessions_on_memory(start):
    server = start("--store", "memory", "--max-sessions", "3")
    sids = [server.create({"data": {"i": i}, "subject": "full"}) for i in range(3)]
    status, headers, data = server.request("POST", "/sessions", {"data": {"i": 3}, "subject": "full"})
    assert status == 507, data
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem_type(data) == "store-full" and json.loads(data)["status"] == 507
    status, _, data = server.request("GET", "/subjects/full/sessions")
    assert sorted(s["handle"] for s in json.loads(data)["sessions"]) == sorted(handle_of(s) for s in sids)
    status, _, metrics = server.request("GET", "/metrics")
    lines = metrics.decode().splitlines()
    assert "sessiond_sessions_created_total 3" in lines and 'sessiond_errors_total{type="store-full"} 1' in lines
    assert server.request("DELETE", f"/sessions/{sids[0]}")[0] == 204
    server.create({"data": {"i": 4}})
    assert server.request("POST", "/sessions", {"data": {"i": 5}})[0] == 507


def test_max_sessions_is_per_namespace(keys_file, start):
    server = start("--api-keys-file", keys_file, "--max-sessions", "3")
    sids = [server.create({"data": {"i": i}}, key=(KEY_A1, KEY_A2)[i % 2]) for i in range(3)]
    status, _, data = server.request("POST", "/sessions", {"data": {}}, key=KEY_A2)
    assert status == 507 and problem_type(data) == "store-full", data
    b_sids = [server.create({"data": {"b": i}}, key=KEY_B) for i in range(3)]  # B has its own 3
    assert server.request("POST", "/sessions", {"data": {}}, key=KEY_B)[0] == 507
    assert server.request("DELETE", f"/sessions/{b_sids[0]}", key=KEY_B)[0] == 204
    assert server.request("POST", "/sessions", {"data": {}}, key=KEY_A1)[0] == 507  # B's room is not A's
    assert server.request("DELETE", f"/sessions/{sids[1]}", key=KEY_A1)[0] == 204
    server.create({"data": {"again": True}}, key=KEY_A1)
    assert server.request("POST", "/sessions", {"data": {}}, key=KEY_A1)[0] == 507


def test_max_connections_closes_the_third_without_an_answer(start):
    server = start("--max-connections", "2", probe=False)
    first = connect(server.port)
    assert livez_on(first) == 200
    second = connect(server.port)
    assert livez_on(second) == 200
    third = connect(server.port)
    try:
        third.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
    except (ConnectionResetError, BrokenPipeError):
        pass
    try:
        answer = third.recv(4096)
    except ConnectionResetError:
        answer = b""
    assert answer == b"", f"a third connection got {answer!r}"
    # The first two still work, on the same connections.
    assert livez_on(first) == 200 and livez_on(second) == 200
    # Once one closes, a new connection is served again.
    first.close()
    deadline = time.monotonic() + 3
    while True:
        fresh = connect(server.port)
        try:
            status = livez_on(fresh)
        except (ConnectionResetError, BrokenPipeError):
            status = None
        fresh.close()
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 200
    assert livez_on(second) == 200
    assert "warning" in server.output()
