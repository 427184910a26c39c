"""--max-sessions-per-subject with processes of their own: 20 concurrent logins of one subject
spread over two sessiond instances sharing one redis-server (and over one instance on the
embedded store) leave at most 3 live sessions, and refusing creates nothing."""

import http.client
import json
import os
import shutil
import subprocess
import threading
import uuid

import pytest
from ports import free_port, wait_port

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def call(port, method, path, body=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


@pytest.fixture
def servers(tmp_path):
    """start(store, count): `count` sessiond instances with a limit of 3 per subject; on Redis
    they share one redis-server."""
    procs, logs = [], []

    def start(store, count):
        redis_port = free_port()
        if store == "redis":
            redis = subprocess.Popen(
                [REDIS, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            procs.append(redis)
            wait_port(redis_port)
        ports = []
        for n in range(count):
            port = free_port()
            log = open(tmp_path / f"sessiond-{n}.log", "w")
            logs.append(log)
            procs.append(subprocess.Popen(
                [BIN, "--port", str(port), "--store", store, "--redis-url", f"redis://127.0.0.1:{redis_port}/0",
                 "--max-sessions-per-subject", "3", "--redis-timeout", "5s", "--log-level", "warning"],
                stdout=log, stderr=subprocess.STDOUT,
            ))
            wait_port(port)
            ports.append(port)
        return ports

    yield start
    for proc in reversed(procs):
        proc.kill()
        proc.wait()
    for log in logs:
        log.close()


@pytest.mark.parametrize("store,instances", [("redis", 2), ("memory", 1)])
def test_twenty_concurrent_logins_leave_at_most_three_live_sessions(servers, store, instances):
    ports = servers(store, instances)
    subject = "user-" + uuid.uuid4().hex
    results = [None] * 20
    start = threading.Barrier(20)

    def login(n):
        start.wait()
        results[n] = call(ports[n % len(ports)], "POST", "/sessions", {"data": {"n": n}, "subject": subject})

    threads = [threading.Thread(target=login, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in results] == [201] * 20, results
    live = [body["sid"] for _, body in results if call(ports[0], "GET", f"/sessions/{body['sid']}")[0] == 200]
    assert 1 <= len(live) <= 3, live
    for port in ports:
        status, listing = call(port, "GET", f"/subjects/{subject}/sessions")
        assert status == 200 and len(listing["sessions"]) == len(live)
    # One more login evicts the least recently seen; refusing creates nothing.
    status, newest = call(ports[-1], "POST", "/sessions?on_limit=evict_oldest", {"subject": subject})
    assert status == 201
    for _ in range(3 - len(live)):
        assert call(ports[0], "POST", "/sessions", {"subject": subject})[0] == 201
    status, problem = call(ports[0], "POST", "/sessions?on_limit=refuse", {"subject": subject})
    assert status == 409 and problem["type"] == "https://sessiond.dev/problems/too-many-sessions"
    status, listing = call(ports[0], "GET", f"/subjects/{subject}/sessions")
    assert len(listing["sessions"]) == 3
    assert call(ports[0], "GET", f"/sessions/{newest['sid']}")[0] == 200
