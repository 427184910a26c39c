"""Rotation as a client sees it, with processes of their own: the grace window over real HTTP
on the embedded store and on Redis, and rotations interrupted by a Redis that stops answering
(kill -STOP) in the middle of them: a rotate answered 503 is retried with the same proposed sid
and always ends with exactly one live sid, and no unconfirmed copy is left for longer than a
minute."""

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest
from ports import free_port, wait_port

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def call(port, method, path, body=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if method == "PATCH":
        headers["Content-Type"] = "application/merge-patch+json"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


class Stack:
    """A redis-server (for --store redis) and a sessiond, on free loopback ports."""

    def __init__(self, tmp_path, store, *args):
        self.redis = None
        self.redis_port = free_port()
        if store == "redis":
            self.redis = subprocess.Popen(
                [REDIS, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            wait_port(self.redis_port)
        self.port = free_port()
        self.log = open(tmp_path / "sessiond.log", "w")
        self.sessiond = subprocess.Popen(
            [BIN, "--port", str(self.port), "--store", store, "--redis-url", f"redis://127.0.0.1:{self.redis_port}/0",
             "--log-level", "warning", *args],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_port(self.port)

    def stop(self):
        self.sessiond.kill()
        self.sessiond.wait()
        if self.redis is not None:
            os.kill(self.redis.pid, signal.SIGCONT)
            self.redis.kill()
            self.redis.wait()
        self.log.close()


@pytest.fixture
def stacks(tmp_path):
    made = []

    def start(store, *args):
        stack = Stack(tmp_path, store, *args)
        made.append(stack)
        return stack

    yield start
    for stack in made:
        stack.stop()


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_the_old_sid_reads_the_rotated_state_for_the_grace_window_only(stacks, store):
    port = stacks(store, "--rotation-grace", "2s").port
    status, old = call(port, "POST", "/sessions", {"data": {"cart": [1]}, "subject": "user-grace"})
    assert status == 201
    status, new = call(port, "POST", f"/sessions/{old['sid']}/rotate")
    assert status == 201
    assert call(port, "PATCH", f"/sessions/{new['sid']}", {"data": {"user": 42}})[0] == 200
    status, frozen = call(port, "GET", f"/sessions/{old['sid']}?touch=true")
    assert status == 200 and frozen["rotated"] is True
    assert frozen["data"] == {"cart": [1]} and frozen["version"] == 1 and frozen["sid"] == old["sid"]
    assert new["sid"] not in json.dumps(frozen)
    status, problem = call(port, "PATCH", f"/sessions/{old['sid']}", {"data": {"x": 1}})
    assert status == 409 and problem["type"] == "https://sessiond.dev/problems/rotated"
    status, listing = call(port, "GET", "/subjects/user-grace/sessions")
    assert [s["handle"] for s in listing["sessions"]] == [handle(new["sid"])]
    time.sleep(2.1)
    assert call(port, "GET", f"/sessions/{old['sid']}")[0] == 404
    assert call(port, "GET", f"/sessions/{new['sid']}")[1]["data"] == {"cart": [1], "user": 42}


def handle(sid):
    import hashlib

    return hashlib.sha256(b"sessiond-handle-v1:" + sid.encode()).hexdigest()[:32]


def test_rotations_interrupted_by_a_stopped_redis_end_with_one_live_sid(stacks):
    stack = stacks("redis", "--redis-timeout", "100ms")
    port = stack.port
    sessions = []
    for n in range(120):
        status, body = call(port, "POST", "/sessions", {"data": {"n": n}})
        assert status == 201
        sessions.append(body["sid"])
    stop = threading.Event()

    def stutter():
        # Redis stops answering for a moment, again and again, so that rotations are cut off
        # between their steps (and some answered 503 after their step ran).
        rng = random.Random(7)
        while not stop.is_set():
            time.sleep(rng.uniform(0.005, 0.05))
            os.kill(stack.redis.pid, signal.SIGSTOP)
            time.sleep(rng.uniform(0.02, 0.15))
            os.kill(stack.redis.pid, signal.SIGCONT)

    thread = threading.Thread(target=stutter)
    thread.start()
    outcomes = {}
    try:
        for n, old in enumerate(sessions):
            proposed = str(uuid.uuid4())
            status, _ = call(port, "POST", f"/sessions/{old}/rotate", {"sid": proposed})
            outcomes[old] = (proposed, status, n)
    finally:
        stop.set()
        thread.join()
        os.kill(stack.redis.pid, signal.SIGCONT)
    failed = {old: outcome for old, outcome in outcomes.items() if outcome[1] == 503}
    assert failed, "no rotation was interrupted: the test proved nothing"
    print(f"{len(failed)} of {len(outcomes)} rotations answered 503")
    assert {status for _, status, _ in outcomes.values()} <= {201, 503}
    # Redis answers again; connections that timed out may still be backing off.
    deadline = time.monotonic() + 10
    while call(port, "GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "/readyz did not come back after the stutter"
        time.sleep(0.05)

    def settled(sid):
        """The status of a read of `sid`, asked again while the store still answers 503."""
        for _ in range(50):
            status = call(port, "GET", f"/sessions/{sid}")[0]
            if status != 503:
                return status
            time.sleep(0.1)
        return status

    for old, (proposed, status, n) in outcomes.items():
        # A 503 never leaves two live sids: the old one or the proposed one answers, not both.
        old_status = settled(old)
        new_status = settled(proposed)
        assert sorted([old_status, new_status]) == [200, 404], (status, old_status, new_status)
        if status == 201:
            assert new_status == 200
    for old, (proposed, _, n) in failed.items():
        # The retry with the same sid finds the rotation done (200) or does it now (201).
        status, body = call(port, "POST", f"/sessions/{old}/rotate", {"sid": proposed})
        assert status in (200, 201), (old, status, body)
        assert body["sid"] == proposed and body["data"] == {"n": n} and body["version"] == 2
    for old, (proposed, _, n) in outcomes.items():
        assert call(port, "GET", f"/sessions/{old}")[0] == 404, old
        status, body = call(port, "GET", f"/sessions/{proposed}")
        assert status == 200 and body["data"] == {"n": n} and body["version"] == 2, (proposed, status, body)
    # No copy is left unconfirmed for longer than a minute: every key with a pending mark expires soon.
    keys = subprocess.run([REDIS_CLI, "-p", str(stack.redis_port), "--scan", "--pattern", "sessiond:*"],
                          capture_output=True, text=True, check=True).stdout.split()
    for key in keys:
        pending = subprocess.run([REDIS_CLI, "-p", str(stack.redis_port), "HEXISTS", key, "pending"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        if pending == "1":
            ttl = int(subprocess.run([REDIS_CLI, "-p", str(stack.redis_port), "PTTL", key],
                                     capture_output=True, text=True, check=True).stdout.strip())
            assert 0 < ttl <= 60_000, (key, ttl)
