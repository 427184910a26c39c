"""sessiond on Redis when Redis dies under load: 503 with Retry-After while it is down (never 404,
never a hang), /readyz 503, and correct answers again once Redis is back, without a restart of
sessiond. Starts its own redis-server and sessiond on free loopback ports."""

import http.client
import json
import os
import shutil
import subprocess
import threading
import time

import pytest
from ports import free_port, wait_port

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def start_redis(port):
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def call(port, method, path, body=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


@pytest.fixture
def stack(tmp_path):
    redis_port, port = free_port(), free_port()
    redis = start_redis(redis_port)
    # The log goes to a file: a pipe that nobody reads would fill up and stall the server.
    log = open(tmp_path / "sessiond.log", "w")
    sessiond = subprocess.Popen(
        [BIN, "--port", str(port), "--store", "redis", "--redis-url", f"redis://127.0.0.1:{redis_port}/0",
         "--redis-timeout", "300ms", "--log-level", "info"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    wait_port(port)
    state = {"redis": redis}
    yield state, redis_port, port, sessiond
    sessiond.kill()
    state["redis"].kill()
    sessiond.wait()
    state["redis"].wait()
    log.close()
    text = (tmp_path / "sessiond.log").read_text()
    # The log says when Redis is lost and when it is back, once each, not once per request.
    assert text.count("cannot use Redis") <= 2, text[-2000:]
    assert "connected to Redis again" in text


def test_redis_killed_and_restarted_under_load(stack):
    state, redis_port, port, sessiond = stack
    status, _, body = call(port, "POST", "/sessions", {"data": {"user": 1}})
    assert status == 201
    sid = json.loads(body)["sid"]

    statuses, stop = [], threading.Event()

    def worker():
        while not stop.is_set():
            try:
                s, _, _ = call(port, "POST", "/sessions", {"data": {"n": 1}}, timeout=3)
                statuses.append(s)
            except OSError as error:  # a hang or a reset would show here
                statuses.append(repr(error))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        check_outage_and_recovery(state, redis_port, port, sid)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)

    assert set(statuses) <= {201, 503}, set(statuses)
    assert statuses.count(201) > 0 and statuses.count(503) > 0
    # Redis restarted empty: the old session is gone (404), new ones work.
    assert call(port, "GET", f"/sessions/{sid}")[0] == 404
    status, _, body = call(port, "POST", "/sessions", {"data": {"back": True}})
    assert status == 201
    new_sid = json.loads(body)["sid"]
    status, _, body = call(port, "GET", f"/sessions/{new_sid}")
    assert status == 200 and json.loads(body)["data"] == {"back": True}
    assert sessiond.poll() is None, "sessiond crashed"


def check_outage_and_recovery(state, redis_port, port, sid):
    time.sleep(0.5)
    state["redis"].kill()
    state["redis"].wait()
    time.sleep(0.3)

    started = time.monotonic()
    status, headers, body = call(port, "GET", f"/sessions/{sid}")
    assert status == 503, body
    assert time.monotonic() - started < 2
    assert headers.get("Retry-After") == "1"
    assert json.loads(body)["type"].endswith("/store-unavailable")
    assert call(port, "GET", "/readyz")[0] == 503
    assert call(port, "GET", "/livez")[0] == 200

    state["redis"] = start_redis(redis_port)
    deadline = time.monotonic() + 10
    while call(port, "GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "sessiond did not recover"
        time.sleep(0.1)
    time.sleep(0.5)


def test_a_full_redis_is_named_out_of_memory_and_reads_keep_working(tmp_path):
    """Redis at maxmemory with noeviction refuses writes (OOM): the answer is 503 whose detail
    says out of memory, the log says so once at error level (not once per request), the metric
    counts it, and reads go on."""
    redis_port, port = free_port(), free_port()
    redis = subprocess.Popen([REDIS, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--maxmemory", "2mb", "--maxmemory-policy", "noeviction"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(redis_port)
    log = open(tmp_path / "sessiond.log", "w")
    sessiond = subprocess.Popen([BIN, "--port", str(port), "--store", "redis", "--redis-url", f"redis://127.0.0.1:{redis_port}/0",
                                 "--metrics-auth", "none", "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        status, _, body = call(port, "POST", "/sessions", {"data": {"first": True}})
        assert status == 201
        first = json.loads(body)["sid"]
        filler = "x" * 4000
        refused = None
        for _ in range(2000):
            status, headers, body = call(port, "POST", "/sessions", {"data": {"filler": filler}})
            if status != 201:
                refused = (status, headers, json.loads(body))
                break
        assert refused is not None, "Redis never filled up"
        status, headers, problem = refused
        assert status == 503 and headers.get("Retry-After") == "1", refused
        assert problem["type"].endswith("/store-unavailable")
        assert "out of memory" in problem["detail"], problem
        for _ in range(20):
            assert call(port, "POST", "/sessions", {"data": {"filler": filler}})[0] == 503
        status, _, body = call(port, "GET", f"/sessions/{first}")
        assert status == 200 and json.loads(body)["data"] == {"first": True}
        metrics = call(port, "GET", "/metrics")[2].decode()
        oom = [line for line in metrics.splitlines() if line.startswith("sessiond_store_refusals_total") and 'reason="oom"' in line]
        assert oom and float(oom[0].split()[-1]) >= 21, oom
        log.flush()
        text = (tmp_path / "sessiond.log").read_text()
        assert text.count("refused a command") == 1, text[-3000:]
        assert "reason=oom" in text and "out of memory" in text
    finally:
        sessiond.kill()
        redis.kill()
        sessiond.wait()
        redis.wait()
        log.close()


def redis_cli(port, *args):
    return subprocess.run([shutil.which("redis-cli") or "/usr/bin/redis-cli", "-p", str(port), *map(str, args)],
                          capture_output=True, text=True, timeout=10).stdout.strip()


def connections_received(port):
    for line in redis_cli(port, "info", "stats").splitlines():
        if line.startswith("total_connections_received:"):
            return int(line.split(":")[1])
    return -1


def test_a_master_turned_replica_answers_readonly_and_its_connection_is_reopened(tmp_path):
    """The Redis that sessiond writes to becomes a replica (a failover without Sentinel in
    front): writes get 503 whose detail names the read-only replica, never 404; the log says
    READONLY and that the connection is reopened, and it is (Redis counts a new connection);
    reads keep working; once Redis is a master again, writes succeed."""
    first, second, port = free_port(), free_port(), free_port()
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
    servers = [subprocess.Popen([REDIS, "--port", str(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                 "--repl-diskless-sync-delay", "0", "--dir", str(d)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p, d in zip((first, second), dirs)]
    for p in (first, second):
        wait_port(p)
    log = open(tmp_path / "sessiond.log", "w")
    sessiond = subprocess.Popen([BIN, "--port", str(port), "--store", "redis", "--redis-url", f"redis://127.0.0.1:{first}/0",
                                 "--log-level", "notice"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        status, _, body = call(port, "POST", "/sessions", {"data": {"n": 0}})
        assert status == 201
        sid = json.loads(body)["sid"]
        # The second server copies the first, then they swap roles.
        assert redis_cli(second, "replicaof", "127.0.0.1", first) == "OK"
        deadline = time.monotonic() + 10
        while "master_link_status:up" not in redis_cli(second, "info", "replication"):
            assert time.monotonic() < deadline, "the copy did not sync"
            time.sleep(0.05)
        assert redis_cli(second, "replicaof", "no", "one") == "OK"
        assert redis_cli(first, "replicaof", "127.0.0.1", second) == "OK"
        while "master_link_status:up" not in redis_cli(first, "info", "replication"):
            assert time.monotonic() < deadline, "the old master did not become a replica"
            time.sleep(0.05)
        before = connections_received(first)

        status, headers, body = call(port, "PUT", f"/sessions/{sid}", {"data": {"n": 1}})
        assert status == 503 and headers.get("Retry-After") == "1", body
        assert "read-only replica" in json.loads(body)["detail"], body
        status, _, body = call(port, "GET", f"/sessions/{sid}")
        assert status == 200 and json.loads(body)["data"] == {"n": 0}, body
        metrics = call(port, "GET", "/metrics")[2].decode()
        assert any(line.startswith("sessiond_store_refusals_total") and 'reason="readonly"' in line and float(line.split()[-1]) >= 1
                   for line in metrics.splitlines()), metrics
        assert connections_received(first) > before, "the connection that got READONLY was not reopened"

        assert redis_cli(first, "replicaof", "no", "one") == "OK"
        deadline = time.monotonic() + 5
        while call(port, "PUT", f"/sessions/{sid}", {"data": {"n": 2}})[0] != 200:
            assert time.monotonic() < deadline, "writes did not resume on the master"
            time.sleep(0.05)
        log.flush()
        text = (tmp_path / "sessiond.log").read_text()
        assert "READONLY" in text and "reconnecting" in text, text[-2000:]
    finally:
        sessiond.kill()
        sessiond.wait()
        for server in servers:
            server.kill()
            server.wait()
        log.close()
