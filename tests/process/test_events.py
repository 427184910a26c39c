"""GET /events on the real binary: every kind of lifecycle event on the embedded store (in
memory and durable) and on Redis, resuming with Last-Event-ID, nothing for a refused write, a
bounded history that says what was missed, expiries told once by two instances on one Redis
without keyspace notifications, and a consumer that does not read is cut off."""

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from ports import free_port, wait_port

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


@pytest.fixture
def launch(tmp_path):
    """launch(store, *args, redis_port=None) -> port of a sessiond; on "redis" without a port,
    a redis-server of its own is started (its port is in `launch.redis_port`)."""
    procs, logs = [], []

    def start_redis():
        port = free_port()
        procs.append(subprocess.Popen(
            [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        wait_port(port)
        return port

    def start(store, *args, redis_port=None):
        command = [BIN, "--port", str(free_port()), *args]
        port = int(command[2])
        if store == "redis":
            redis_port = redis_port or start_redis()
            start.redis_port = redis_port
            command += ["--store", "redis", "--redis-url", f"redis://127.0.0.1:{redis_port}/0", "--redis-timeout", "5s"]
        elif store == "durable":
            command += ["--data-dir", str(tmp_path / "data")]
        # store "--": the arguments say everything.
        log = open(tmp_path / f"sessiond-{len(logs)}.log", "w+")
        logs.append(log)
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        wait_port(port)
        start.log = log
        start.pid = proc.pid
        start.proc = proc
        return port

    yield start
    for proc in reversed(procs):
        proc.kill()
        proc.wait()
    for log in logs:
        log.close()


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    conn.request(method, path, json.dumps(body) if body is not None else None, all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None, response


def create(port, **body):
    """A new session, with its handle (which the API never sends: it is derived from the sid)."""
    status, session, _ = call(port, "POST", "/sessions", {"data": {}, **body})
    assert status == 201, session
    return with_handle(session)


def with_handle(session):
    session["handle"] = hashlib.sha256(b"sessiond-handle-v1:" + session["sid"].encode()).hexdigest()[:32]
    return session


class Stream:
    """A GET /events client on http.client that parses Server-Sent Events by hand: events
    are dicts with id, event and the data's JSON."""

    def __init__(self, port, last_event_id=None, timeout=10, path="/events"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.getheader("Content-Type").startswith("text/event-stream")
        self.raw = []

    def next(self):
        """The next event (comments and the retry field are skipped)."""
        fields = {}
        while True:
            line = self.response.fp.readline()
            if not line:
                raise EOFError("the stream ended")
            self.raw.append(line)
            line = line.decode().rstrip("\n")
            if line == "":
                if "event" in fields or "data" in fields:
                    event = {"id": fields.get("id"), "event": fields.get("event", "message")}
                    event["data"] = json.loads(fields.get("data", "null"))
                    return event
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def take(self, count):
        return [self.next() for _ in range(count)]

    def until(self, predicate, limit=200):
        """Events up to and including the first that `predicate` accepts."""
        seen = []
        for _ in range(limit):
            event = self.next()
            seen.append(event)
            if predicate(event):
                return seen
        pytest.fail(f"no such event among {seen}")

    def close(self):
        self.conn.close()


STORES = ["memory", "durable", "redis"]


@pytest.mark.parametrize("store", STORES)
def test_every_kind_of_event_with_handle_subject_device_and_time_never_a_sid(launch, store):
    port = launch(store, "--max-sessions-per-subject", "1", "--sweep-interval", "1s")
    stream = Stream(port)
    device = {"user_agent": "Firefox/140", "ip": "192.0.2.7"}
    first = create(port, subject="ann", device=device)
    status, rotated, _ = call(port, "POST", f"/sessions/{first['sid']}/rotate", {})
    assert status == 201
    rotated = with_handle(rotated)
    status, _, _ = call(port, "DELETE", f"/sessions/{rotated['sid']}")
    assert status == 204
    second = create(port, subject="ann")
    # The limit is 1: a third login evicts the second.
    third = create(port, subject="ann")
    status, _, _ = call(port, "DELETE", f"/subjects/ann/sessions/{third['handle']}")
    assert status == 204
    short = create(port, lifetime=1)
    events = stream.until(lambda e: e["event"] == "expired")
    stream.close()
    kinds = [e["event"] for e in events]
    # The limit makes room before the new session is stored.
    assert kinds == ["created", "rotated", "deleted", "created", "limit_evicted", "created", "revoked", "created", "expired"], kinds
    by_kind = {}
    for event in events:
        assert event["data"]["type"] == event["event"] and event["data"]["id"] == event["id"]
        by_kind.setdefault(event["event"], []).append(event["data"])
    assert by_kind["created"][0] == {**by_kind["created"][0], "handle": first["handle"], "subject": "ann", "device": device}
    assert by_kind["rotated"][0]["handle"] == rotated["handle"] and by_kind["rotated"][0]["from"] == first["handle"]
    assert by_kind["rotated"][0]["device"] == device
    assert by_kind["deleted"][0]["handle"] == rotated["handle"]
    assert by_kind["limit_evicted"][0]["handle"] == second["handle"]
    assert by_kind["revoked"][0]["handle"] == third["handle"]
    assert by_kind["expired"][0] == {**by_kind["expired"][0], "handle": short["handle"], "subject": None, "device": None}
    # An expiry is timed at the expiry itself, not when it was noticed.
    assert by_kind["expired"][0]["time"] == short["expires_at"]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in i.split("-")))
    text = b"".join(stream.raw).decode()
    for session in (first, rotated, second, third, short):
        assert session["sid"] not in text


@pytest.mark.parametrize("store", STORES)
def test_a_consumer_resumes_after_a_disconnect_with_last_event_id(launch, store):
    port = launch(store)
    stream = Stream(port)
    before = [create(port, subject="bo") for _ in range(2)]
    seen = stream.take(2)
    assert [e["data"]["handle"] for e in seen] == [s["handle"] for s in before]
    stream.close()
    # While it is away: three more changes.
    after = [create(port) for _ in range(2)]
    call(port, "DELETE", f"/sessions/{before[0]['sid']}")
    resumed = Stream(port, last_event_id=seen[-1]["id"])
    events = resumed.take(3)
    resumed.close()
    assert [(e["event"], e["data"]["handle"]) for e in events] == [
        ("created", after[0]["handle"]), ("created", after[1]["handle"]), ("deleted", before[0]["handle"]),
    ]
    # ?after= does the same for a client that cannot send the header (the header wins when
    # both come); "0" replays everything kept.
    status, _, response = call(port, "GET", "/events?after=x")
    assert status == 400
    by_query = Stream(port, path=f"/events?after={seen[-1]['id']}")
    assert [e["data"]["handle"] for e in by_query.take(3)] == [e["data"]["handle"] for e in events]
    by_query.close()
    both = Stream(port, last_event_id=events[1]["id"], path=f"/events?after={seen[-1]['id']}")
    assert both.next()["data"]["handle"] == events[2]["data"]["handle"]
    both.close()
    everything = Stream(port, last_event_id="0")
    assert [e["event"] for e in everything.take(5)] == ["created", "created", "created", "created", "deleted"]
    everything.close()


@pytest.mark.parametrize("store", STORES)
def test_a_refused_write_makes_no_event(launch, store):
    port = launch(store, "--max-sessions-per-subject", "1")
    stream = Stream(port)
    kept = create(port, subject="cy")
    refused = [
        call(port, "POST", "/sessions?on_limit=refuse", {"data": {}, "subject": "cy"})[0],
        call(port, "PUT", f"/sessions/{kept['sid']}", {"data": {"x": 1}}, {"If-Match": '"999"'})[0],
        call(port, "DELETE", f"/sessions/{kept['sid']}", headers={"If-Match": '"999"'})[0],
        call(port, "DELETE", f"/sessions/{uuid.uuid4()}")[0],
        call(port, "POST", "/sessions", {"data": 5})[0],
        call(port, "PUT", f"/sessions/{uuid.uuid4()}", {"data": {}}, {"If-None-Match": "*", "If-Match": '"1"'})[0],
        call(port, "DELETE", f"/subjects/cy/sessions/{'0' * 32}")[0],
        call(port, "POST", f"/sessions/{uuid.uuid4()}/rotate", {})[0],
    ]
    # (A DELETE of a sid or handle that is not there is 204: there was nothing to tell of.)
    assert refused == [409, 412, 412, 204, 422, 404, 204, 404], refused
    marker = create(port)
    events = stream.until(lambda e: e["data"]["handle"] == marker["handle"])
    stream.close()
    assert [(e["event"], e["data"]["handle"]) for e in events] == [("created", kept["handle"]), ("created", marker["handle"])]


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_the_history_is_bounded_and_a_consumer_that_fell_behind_is_told(launch, store):
    port = launch(store, "--event-history", "10")
    first = create(port)
    stream = Stream(port, last_event_id="0")
    oldest = stream.next()
    assert oldest["data"]["handle"] == first["handle"]
    stream.close()
    # 300 more: Redis trims whole stream nodes (MAXLEN ~), the embedded store exactly.
    for _ in range(300):
        create(port)
    newest = last_id(port)
    behind = Stream(port, last_event_id=oldest["id"])
    missed = behind.next()
    assert missed["event"] == "missed" and missed["id"] is None and missed["data"]["after"] == oldest["id"]
    kept = behind.until(lambda e: e["event"] == "created" and e["id"] == newest, limit=400)
    behind.close()
    assert 10 <= len(kept) < 300 if store == "redis" else len(kept) == 10


def last_id(port):
    """The ID of the newest event (read from the whole history)."""
    stream = Stream(port, last_event_id="0", timeout=0.5)
    newest = None
    try:
        while True:
            newest = stream.next()["id"]
    except (socket.timeout, TimeoutError):
        pass
    stream.close()
    return newest


def test_two_instances_on_one_redis_tell_each_expiry_once_without_keyspace_notifications(launch):
    first = launch("redis")
    redis_port = launch.redis_port
    second = launch("redis", redis_port=redis_port)
    config = subprocess.run([REDIS_CLI, "-p", str(redis_port), "CONFIG", "GET", "notify-keyspace-events"], capture_output=True, text=True)
    assert config.stdout.split() == ["notify-keyspace-events"], config.stdout
    stream = Stream(first)
    sessions = [create(first if n % 2 else second, lifetime=1, subject="dee") for n in range(20)]
    events = stream.take(40)
    stream.close()
    expired = [e["data"]["handle"] for e in events if e["event"] == "expired"]
    assert sorted(expired) == sorted(s["handle"] for s in sessions)
    # The schedule is empty once everything is told.
    card = subprocess.run([REDIS_CLI, "-p", str(redis_port), "ZCARD", "sessiond:events:due"], capture_output=True, text=True)
    assert card.stdout.strip() == "0"


def test_events_off_and_malformed_ids_are_refused(launch):
    port = launch("memory", "--event-history", "0")
    status, problem, _ = call(port, "GET", "/events")
    assert status == 501 and problem["type"].endswith("/events-off"), problem
    port = launch("memory")
    for bad in ["abc", "1-2-3", "-1", "99999999999999999999999-0"]:
        status, problem, _ = call(port, "GET", "/events", headers={"Last-Event-ID": bad})
        assert status == 400 and problem["type"].endswith("/malformed-event-id"), (bad, problem)
    # One Last-Event-ID only; any other query parameter is refused.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", "/events")
    conn.putheader("Last-Event-ID", "1-0")
    conn.putheader("Last-Event-ID", "2-0")
    conn.endheaders()
    response = conn.getresponse()
    problem = json.loads(response.read())
    conn.close()
    assert response.status == 400 and problem["type"].endswith("/malformed-event-id"), problem
    status, problem, _ = call(port, "GET", "/events?since=1-0")
    assert status == 400 and problem["type"].endswith("/invalid-query"), problem
    status, _, response = call(port, "POST", "/events", {})
    assert status == 405 and response.getheader("Allow") == "GET, HEAD"


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_consumer_that_does_not_read_is_cut_off_and_memory_stays_flat(launch, store):
    port = launch(store, "--event-consumer-timeout", "1s", "--event-history", "100000")
    slow = socket.socket()
    # A small receive window, so that what sessiond sends piles up on its side quickly.
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", port))
    slow.sendall(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.3)
    rss_before = rss(launch)
    device = {f"k{n}": "x" * 250 for n in range(8)}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(2500):
        conn.request("POST", "/sessions", json.dumps({"data": {}, "device": device}), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 201
    conn.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and metric(port, "sessiond_events_consumers_cut_total") < 1:
        time.sleep(0.2)
    assert metric(port, "sessiond_events_consumers_cut_total") == 1
    assert metric(port, "sessiond_events_consumers") == 0
    # About 6 MB of events were due to it; sessiond held back rather than buffer them.
    assert rss(launch) - rss_before < 30_000_000
    # The client finds its stream cut: no last chunk before the end.
    slow.settimeout(5)
    received = b""
    while True:
        try:
            piece = slow.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not piece:
            break
        received += piece
    slow.close()
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert not received.endswith(b"\r\n0\r\n\r\n")
    launch.log.seek(0)
    assert "cut off an event stream consumer" in launch.log.read()


def metric(port, name):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def rss(launch):
    """The resident memory in bytes of the sessiond launched last."""
    with open(f"/proc/{launch.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_http_framing_head_http10_and_a_clean_end_on_sigterm(launch):
    port = launch("memory")
    # HEAD: the head only, and the connection closes.
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"HEAD /events HTTP/1.1\r\nHost: t\r\n\r\n")
        s.settimeout(5)
        head = read_all(s)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert b"Content-Type: text/event-stream" in head and b"Connection: close" in head
    # HTTP/1.0: no chunks, the body ends with the connection.
    s10 = socket.create_connection(("127.0.0.1", port))
    s10.sendall(b"GET /events HTTP/1.0\r\n\r\n")
    s11 = socket.create_connection(("127.0.0.1", port))
    s11.sendall(b"GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.3)
    session = create(port)
    time.sleep(0.5)
    # SIGTERM: both streams end properly (the last chunk on 1.1) and sessiond exits 0.
    os.kill(launch.pid, 15)
    s10.settimeout(10)
    s11.settimeout(10)
    body10, body11 = read_all(s10), read_all(s11)
    s10.close()
    s11.close()
    assert b"Transfer-Encoding" not in body10 and b"Content-Length" not in body10.split(b"\r\n\r\n")[0]
    assert session["handle"].encode() in body10
    assert b"Transfer-Encoding: chunked" in body11 and body11.endswith(b"\r\n0\r\n\r\n")
    assert session["handle"].encode() in body11
    assert launch.proc.wait(timeout=10) == 0


def read_all(sock):
    received = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            return received
        received += piece


def test_the_readme_acl_user_can_record_and_read_every_event(launch, tmp_path):
    """sessiond logs in as the README's ACL user for one Redis (not a cluster) and everything
    that makes or reads events works: no NOPERM hides in a script's event half."""
    readme = os.path.join(os.path.dirname(__file__), "../../README.md")
    with open(readme) as text:
        lines = [line.strip() for line in text if line.strip().startswith("ACL SETUSER sessiond") and "+asking" not in line]
    assert len(lines) == 1, "the README should show one ACL SETUSER line for one Redis"
    port = launch("redis", "--max-sessions-per-subject", "1")
    redis_port = launch.redis_port
    acl = lines[0].replace(">PASSWORD", ">acl-test-password").split()[1:]
    assert subprocess.run([REDIS_CLI, "-p", str(redis_port), "ACL", *acl], capture_output=True, text=True).stdout.strip() == "OK"
    launch.proc.kill()
    port = launch("--", "--store", "redis", "--redis-url", f"redis://sessiond:acl-test-password@127.0.0.1:{redis_port}/0",
                  "--max-sessions-per-subject", "1", "--log-level", "warning")
    stream = Stream(port)
    first = create(port, subject="eve")
    status, rotated, _ = call(port, "POST", f"/sessions/{first['sid']}/rotate", {})
    assert status == 201
    create(port, subject="eve")
    status, _, _ = call(port, "DELETE", "/subjects/eve/sessions")
    assert status == 200
    short = create(port, lifetime=1)
    events = stream.until(lambda e: e["event"] == "expired")
    stream.close()
    assert [e["event"] for e in events] == ["created", "rotated", "limit_evicted", "created", "revoked", "created", "expired"]
    assert events[-1]["data"]["handle"] == short["handle"]
    launch.log.seek(0)
    assert "NOPERM" not in launch.log.read()


def test_after_a_restart_the_embedded_store_tells_once_that_its_history_began_anew(launch):
    port = launch("durable")
    kept = create(port)
    stream = Stream(port, last_event_id="0")
    last = stream.next()["id"]
    stream.close()
    launch.proc.terminate()
    assert launch.proc.wait(timeout=10) == 0
    port = launch("durable")
    resumed = Stream(port, last_event_id=last)
    time.sleep(0.5)  # a few empty reads of the new, empty history
    call(port, "DELETE", f"/sessions/{kept['sid']}")
    events = resumed.take(2)
    resumed.close()
    assert [e["event"] for e in events] == ["missed", "deleted"], events
    assert events[1]["data"]["handle"] == kept["handle"]


def test_events_off_on_redis_and_refused_on_a_cluster_when_asked_for(launch):
    # Off on one Redis: sessiond runs (nothing records expiries) and /events says so.
    port = launch("redis", "--event-history", "0")
    session = create(port)
    time.sleep(1.5)
    assert launch.proc.poll() is None
    status, problem, _ = call(port, "GET", "/events")
    assert status == 501 and problem["type"].endswith("/events-off")
    assert call(port, "GET", f"/sessions/{session['sid']}")[0] == 200
    # Asked for on a cluster: refused at start, naming the setting and why.
    result = subprocess.run(
        [BIN, "--port", str(free_port()), "--store", "redis", "--redis-cluster", "127.0.0.1:7000", "--event-history", "100"],
        capture_output=True, text=True, timeout=10,
    )
    assert result.returncode != 0
    assert "event-history" in result.stderr and "Redis Cluster" in result.stderr
