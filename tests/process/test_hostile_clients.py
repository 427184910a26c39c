"""Issue #10 on the real binary: sessiond holds against a hostile client. A client that pipelines
and never reads keeps the server's memory bounded (and it is not ratcheted); Upgrade is ignored
and CONNECT gets a complete 405, so a keep-alive connection keeps working; out of file
descriptors, the server backs off instead of spinning and says so once; faulty framing is
refused and the connection closed; the whole head is capped at 80 KiB (431, 414); numbers below
a double's range are refused (422), not stored as 0.

Each test starts its own sessiond from SESSIOND_BIN on a free loopback port; only 127.0.0.1 is
ever connected to. Process output goes to files, never to pipes nobody reads. Every loop is
bounded in time and in count."""

import http.client
import json
import math
import os
import resource
import select
import socket
import subprocess
import time

import pytest

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))

MiB = 1024 * 1024
HEAD_CAP = 80 * 1024  # the whole head: request line, header lines and their CRLFs
RSS_BOUND = 150 * MiB
RATCHET_BOUND = 40 * MiB


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def problem_type(data):
    return json.loads(data)["type"].rsplit("/", 1)[-1]


def shown(data, limit=600):
    """Bytes for a failure message, cut to `limit` characters."""
    text = repr(bytes(data))
    return text if len(text) <= limit else text[:limit] + f"... ({len(data)} bytes)"


class Server:
    """A sessiond of its own on a free loopback port; `args` are extra flags. `preexec_fn` runs in
    the child before exec (to lower its descriptor limit)."""

    def __init__(self, tmp, *args, preexec_fn=None):
        self.port = free_port()
        self.log = os.path.join(tmp, f"sessiond-{self.port}.log")
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [BIN, "--host", "127.0.0.1", "--port", str(self.port), *args],
            stdout=self.out, stderr=subprocess.STDOUT, preexec_fn=preexec_fn,
        )
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"sessiond exited at start ({self.proc.returncode}): {self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"sessiond did not start listening: {self.output()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid

    def request(self, method, path, body=None, headers=None, timeout=10):
        """One request on a connection of its own; `body` is bytes, sent as application/json."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = dict(headers or {})
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        try:
            connection.request(method, path, body, all_headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, response.headers, data

    def created_total(self):
        status, _, data = self.request("GET", "/metrics")
        assert status == 200, data
        for line in data.decode().splitlines():
            if line.startswith("sessiond_sessions_created_total "):
                return float(line.split()[1])
        pytest.fail(f"no sessiond_sessions_created_total in /metrics: {data[:2000]!r}")

    def rss(self):
        """VmRSS in bytes."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError(f"no VmRSS for {self.pid}")

    def cpu_seconds(self):
        """utime + stime so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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


# MARK: - Raw connections


class Response:
    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body
        self.raw = raw

    def __repr__(self):
        return f"<{self.status} {shown(self.raw)}>"


class Connection:
    """A raw HTTP/1.1 client connection that keeps what it has read beyond one response, so
    pipelined answers arriving in one segment are all seen."""

    def __init__(self, port, timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.received = b""  # everything read, for failure messages

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline, waiting_for):
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no {waiting_for} in time; received on this connection so far: {shown(self.received)}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            pytest.fail(f"no {waiting_for} in time; received on this connection so far: {shown(self.received)}")
        except ConnectionResetError:
            pytest.fail(f"connection reset while waiting for {waiting_for}; received so far: {shown(self.received)}")
        if not chunk:
            pytest.fail(f"connection closed while waiting for {waiting_for}; received so far: {shown(self.received)}")
        self.buffer += chunk
        self.received += chunk

    def response(self, timeout=2.0, what="a response"):
        """The next response, whole, within `timeout` s, else the test fails showing what arrived.
        A response with neither Content-Length nor Transfer-Encoding is returned with the bytes
        that came with its head as body (it would be framed by the close)."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            self._fill(deadline, f"head of {what}")
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        assert len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isdigit(), \
            f"not an HTTP status line: {lines[0]!r}; received: {shown(self.received)}"
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        assert "transfer-encoding" not in headers, f"unexpected chunked response: {shown(self.received)}"
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(rest) < length:
                self._fill(deadline, f"body of {what} ({len(rest)} of {length} bytes)")
                rest = self.buffer.partition(b"\r\n\r\n")[2]
            body, self.buffer = rest[:length], rest[length:]
        else:
            body, self.buffer = rest, b""
        return Response(status, headers, body, head + b"\r\n\r\n" + body)

    def closed_by_server(self, timeout=2.0):
        """None when the server closes the connection (EOF or reset) within `timeout` with nothing
        more sent, else a description of what happened."""
        if self.buffer:
            return f"more bytes after the response: {shown(self.buffer)}"
        self.sock.settimeout(timeout)
        try:
            more = self.sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return None
        except socket.timeout:
            return f"still open {timeout} s after the response"
        return None if more == b"" else f"more bytes after the response: {shown(more)}"

    def send_then_response(self, data, timeout=3.0, what="a response"):
        """Sends `data` without blocking on a server that stops reading it (it may answer and close
        before the whole of a too-large head arrived): sending stops as soon as an answer is there,
        or the server closes. Then the response."""
        self.sock.setblocking(False)
        view = memoryview(data)
        sent = 0
        deadline = time.monotonic() + timeout
        try:
            for _ in range(100_000):
                if sent >= len(view) or time.monotonic() > deadline:
                    break
                readable, writable, _ = select.select([self.sock], [self.sock], [], 0.05)
                if readable:
                    break
                if writable:
                    try:
                        sent += self.sock.send(view[sent:sent + 65536])
                    except BlockingIOError:
                        pass
                    except (ConnectionResetError, BrokenPipeError):
                        break
        finally:
            self.sock.setblocking(True)
        return self.response(timeout=max(0.5, deadline - time.monotonic()), what=what)


def livez_answers(port, timeout=2.0):
    """The status of GET /livez on a new connection, or a description of why there was none."""
    try:
        conn = Connection(port, timeout=timeout)
    except OSError as error:
        return f"connect failed: {error!r}"
    try:
        conn.send(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        return conn.response(timeout=timeout, what="GET /livez").status
    except (OSError, pytest.fail.Exception) as error:
        return f"no answer: {error}"
    finally:
        conn.close()


def livez_within(port, seconds):
    """Polls GET /livez on new connections until 200 or `seconds` pass -> the last outcome."""
    deadline = time.monotonic() + seconds
    outcome = None
    for _ in range(200):
        outcome = livez_answers(port, timeout=1.0)
        if outcome == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return outcome


# MARK: - A client that pipelines and never reads


class Attack:
    """What one non-reading pipeliner saw."""

    def __init__(self, peak, sent, requests, ended, blocked_for, closed, during):
        self.peak = peak  # highest RSS sampled while sending, bytes
        self.sent = sent  # bytes sent
        self.requests = requests  # whole requests sent
        self.ended = ended  # how the sending ended, in words
        self.blocked_for = blocked_for  # seconds the sends had been blocked when it ended
        self.closed = closed  # the server closed the connection
        self.during = during  # what while_connected() returned

    @property
    def server_stopped_reading(self):
        return self.closed or self.blocked_for >= 1.5

    def __str__(self):
        return (f"peak RSS {self.peak / MiB:.0f} MB while sending; {self.sent} bytes ({self.requests} requests) "
                f"sent, {self.ended}")


def pipeline_without_reading(server, requests, seconds=8.0, while_connected=None):
    """One connection sends `requests` (bytes of whole requests) over and over for `seconds`,
    never reading an answer. The socket is non-blocking, so when the server stops reading this
    client waits (bounded) instead of blocking; once its sends have been blocked for 3 s it stops
    early (the server has stopped reading it). Samples the server's RSS every 0.1 s, and stops
    early when it passes RSS_BOUND. Then `while_connected()` runs, if given, and the connection
    is closed. -> Attack."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.setblocking(False)
    ring = requests * max(1, (256 * 1024) // len(requests))  # whole requests, so wrapping keeps them whole
    view = memoryview(ring)
    offset = 0
    sent = 0
    peak = server.rss()
    ended = None
    closed = False
    blocked_since = None
    started = time.monotonic()
    next_sample = started
    now = started
    try:
        for _ in range(10_000_000):
            now = time.monotonic()
            if now - started > seconds:
                break
            if now >= next_sample:
                peak = max(peak, server.rss())
                next_sample = now + 0.1
                if peak > RSS_BOUND:
                    ended = f"stopped after {now - started:.1f} s: RSS passed {RSS_BOUND // MiB} MB"
                    break
            if blocked_since is not None and now - blocked_since >= 3.0:
                ended = f"stopped after {now - started:.1f} s: the server stopped reading (sends blocked for 3 s)"
                break
            _, writable, _ = select.select([], [sock], [], 0.05)
            if not writable:
                blocked_since = blocked_since or now
                continue
            try:
                n = sock.send(view[offset:])
            except BlockingIOError:
                blocked_since = blocked_since or now
                continue
            except (ConnectionResetError, BrokenPipeError):
                ended = f"closed by the server after {now - started:.1f} s"
                closed = True
                break
            blocked_since = None
            sent += n
            offset = (offset + n) % len(ring)
        blocked_for = 0.0 if blocked_since is None else time.monotonic() - blocked_since
        if ended is None:
            ended = (f"sent for {seconds} s, the server reading all along" if blocked_for == 0
                     else f"sent for {seconds} s; sends blocked for the last {blocked_for:.1f} s")
        during = while_connected() if while_connected and peak <= RSS_BOUND else None
    finally:
        sock.close()
    return Attack(peak, sent, sent // len(requests) * (requests.count(b"\r\n\r\n")), ended, blocked_for, closed, during)


def settled_rss(server, seconds=1.5):
    """RSS after `seconds` of quiet, the highest sample over that time."""
    highest = 0
    deadline = time.monotonic() + seconds
    for _ in range(100):
        highest = max(highest, server.rss())
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return highest


def check_attack(server, attack, before, name):
    """The assertions every non-reading attack must pass -> RSS once the client has gone."""
    report = f"{name}: RSS {before / MiB:.0f} MB at start; {attack}"
    assert attack.peak < RSS_BOUND, f"one non-reading client took the memory past {RSS_BOUND // MiB} MB. {report}"
    assert attack.server_stopped_reading, (
        f"the server kept reading a connection whose answers were not read (want: it stops reading, or "
        f"closes it). {report}")
    after = settled_rss(server)
    assert after < RSS_BOUND, f"{after / MiB:.0f} MB after the client closed. {report}"
    livez = livez_within(server.port, 3)
    assert livez == 200, f"GET /livez on a new connection after the client left: {livez!r}. {report}"
    return after, report


def test_a_client_pipelining_openapi_without_reading_keeps_memory_bounded_and_not_ratcheted(start):
    server = start()
    request = b"GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n"
    before = server.rss()
    first = pipeline_without_reading(server, request)
    after1, report1 = check_attack(server, first, before, "first attack")
    time.sleep(2.5)
    second = pipeline_without_reading(server, request)
    after2, report2 = check_attack(server, second, after1, "second attack")
    assert after2 < after1 + RATCHET_BOUND, (
        f"memory ratcheted: {after1 / MiB:.0f} MB after the first attack, {after2 / MiB:.0f} MB after the second. "
        f"{report1}. {report2}")


def test_a_client_pipelining_metrics_and_livez_without_reading_keeps_memory_bounded(start):
    server = start()
    requests = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
    before = server.rss()
    attack = pipeline_without_reading(server, requests, while_connected=lambda: livez_answers(server.port))
    assert attack.peak < RSS_BOUND, f"one non-reading client took the memory past {RSS_BOUND // MiB} MB. {attack}"
    assert attack.during == 200, (
        f"GET /livez on another connection while the non-reading client was still connected: {attack.during!r}. {attack}")
    check_attack(server, attack, before, "/metrics and /livez")


# MARK: - Upgrade and CONNECT


LIVEZ = b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize(
    "upgrade",
    [
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
        b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n",
    ],
    ids=["h2c", "websocket"],
)
def test_upgrade_is_ignored_and_the_connection_keeps_working(start, upgrade):
    server = start()
    conn = Connection(server.port)
    try:
        conn.send(b"GET /livez HTTP/1.1\r\nHost: x\r\n" + upgrade + b"\r\n" + LIVEZ)
        first = conn.response(timeout=2, what="the answer to GET /livez with Upgrade")
        assert first.status == 200, f"GET /livez with Upgrade: {first!r}"
        second = conn.response(timeout=2, what="the answer to the GET /livez pipelined behind the Upgrade")
        assert second.status == 200, f"pipelined GET /livez: {second!r}"
        # And the connection keeps working after that.
        conn.send(LIVEZ)
        assert conn.response(timeout=2, what="a third GET /livez").status == 200
    finally:
        conn.close()


def test_a_post_with_upgrade_is_processed_and_a_pipelined_request_answered(start):
    server = start()
    body = b'{"data": {"via": "upgrade"}}'
    conn = Connection(server.port)
    try:
        conn.send(b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                  b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n" % len(body) + body + LIVEZ)
        created = conn.response(timeout=2, what="the answer to POST /sessions with Upgrade")
        assert created.status == 201, f"POST /sessions with Upgrade: {created!r}"
        second = conn.response(timeout=2, what="the answer to the GET /livez pipelined behind the POST")
        assert second.status == 200, f"pipelined GET /livez: {second!r}"
    finally:
        conn.close()
    sid = json.loads(created.body)["sid"]
    status, _, data = server.request("GET", f"/sessions/{sid}")
    assert status == 200 and json.loads(data)["data"] == {"via": "upgrade"}, data


def test_connect_gets_a_complete_405_problem_and_the_connection_keeps_working(start):
    server = start()
    conn = Connection(server.port)
    try:
        conn.send(b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n" + LIVEZ)
        refused = conn.response(timeout=2, what="the answer to CONNECT")
        assert refused.status == 405, f"CONNECT: {refused!r}"
        assert refused.headers.get("content-type", "").startswith("application/problem+json"), refused
        assert "content-length" in refused.headers, f"405 without Content-Length: {refused!r}"
        assert problem_type(refused.body) == "method-not-allowed", refused
        assert json.loads(refused.body)["status"] == 405, refused
        second = conn.response(timeout=2, what="the answer to the GET /livez pipelined behind CONNECT")
        assert second.status == 200, f"pipelined GET /livez: {second!r}"
    finally:
        conn.close()


# MARK: - Out of file descriptors


SERVER_NOFILE = 256
HELD = 400


def lower_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_NOFILE, SERVER_NOFILE))


def own_nofile_for(count):
    """Raises this process's soft descriptor limit to hold `count` sockets besides its own."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 200
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"this process may open only {hard} descriptors; the test needs {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def test_a_descriptor_limit_below_max_connections_is_warned_about_at_start(start):
    server = start(preexec_fn=lower_nofile)
    deadline = time.monotonic() + 3
    warned = []
    for _ in range(100):
        warned = [line for line in server.output().splitlines() if "max-connections" in line and "256" in line]
        if warned or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert warned, (f"no start-up line names --max-connections (10000) and the descriptor limit (256):\n"
                    f"{server.output()}")
    # A limit that suffices is not warned about.
    roomy = start("--max-connections", "100", preexec_fn=lower_nofile)
    time.sleep(0.3)
    assert not [line for line in roomy.output().splitlines() if "max-connections" in line], roomy.output()


def test_out_of_descriptors_the_server_backs_off_logs_once_and_accepts_again(start):
    own_nofile_for(HELD)
    server = start(preexec_fn=lower_nofile)
    assert livez_answers(server.port) == 200
    log_before = len(server.output())
    held = []
    try:
        for _ in range(HELD):
            try:
                held.append(socket.create_connection(("127.0.0.1", server.port), timeout=2))
            except OSError as error:
                pytest.fail(f"connection {len(held) + 1} of {HELD} could not even connect (the listen queue "
                            f"should take it): {error!r}")
        time.sleep(1.0)
        cpu_before = server.cpu_seconds()
        time.sleep(5.0)
        cpu = server.cpu_seconds() - cpu_before
    finally:
        for sock in held:
            sock.close()
    # The rest of the episode's log, once the server caught up with the closes.
    livez = livez_within(server.port, 5)
    episode = server.output()[log_before:].splitlines()
    about_descriptors = [line for line in episode if "descriptor" in line.lower() or "too many open files" in line.lower()]

    failures = []
    if cpu >= 0.5:
        failures.append(f"{cpu:.2f} CPU-seconds in 5 s with {len(held)} connections held at a limit of "
                        f"{SERVER_NOFILE} descriptors (want < 0.5: back off accepting)")
    if not about_descriptors:
        failures.append("nothing in the log about running out of descriptors")
    elif len(about_descriptors) > 3:
        failures.append(f"{len(about_descriptors)} log lines about descriptors for one episode (want at most 3); "
                        f"first ones: {about_descriptors[:5]}")
    if livez != 200:
        failures.append(f"after the {len(held)} connections closed, GET /livez on a new one within 5 s: {livez!r}")
    assert not failures, "\n".join(failures) + "\n--- log of the episode (first 40 lines):\n" + "\n".join(episode[:40])


# MARK: - Framing


CHUNKED_EMPTY_OBJECT = b"2\r\n{}\r\n0\r\n\r\n"


def framing_refused(server, request, status, slug):
    conn = Connection(server.port)
    try:
        conn.send(request)
        answer = conn.response(timeout=2, what=f"the {status}")
        assert answer.status == status, f"want {status} {slug}, got: {answer!r}"
        assert answer.headers.get("content-type", "").startswith("application/problem+json"), \
            f"{status} is not a problem+json: {answer!r}"
        assert problem_type(answer.body) == slug, answer
        closed = conn.closed_by_server()
        assert closed is None, f"after {answer!r}: {closed}"
    finally:
        conn.close()
    assert server.created_total() == 0, "a session was created from a request with faulty framing"


@pytest.mark.parametrize("version, framing, status, slug", [
    ("HTTP/1.0", b"Transfer-Encoding: chunked\r\n", 400, "bad-request"),
    ("HTTP/1.1", b"Transfer-Encoding: identity, chunked\r\n", 501, "unsupported-transfer-coding"),
    ("HTTP/1.1", b"Transfer-Encoding: chunked, identity\r\n", 400, "bad-request"),
    ("HTTP/1.1", b"Content-Length: 7\r\nTransfer-Encoding: chunked\r\n", 400, "bad-request"),
], ids=["http-1.0-with-transfer-encoding", "identity-then-chunked", "chunked-not-last", "length-and-encoding"])
def test_untrustworthy_framing_is_refused_and_closed(start, version, framing, status, slug):
    server = start()
    head = b"POST /sessions " + version.encode() + b"\r\nHost: x\r\nContent-Type: application/json\r\n" + framing + b"\r\n"
    framing_refused(server, head + CHUNKED_EMPTY_OBJECT, status, slug)


def test_a_valid_chunked_post_is_still_201(start):
    server = start()
    body = b'{"data": {"chunked": [1, 2]}}'
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    conn = Connection(server.port)
    try:
        conn.send(b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + chunks + LIVEZ)
        created = conn.response(timeout=2, what="the 201")
        assert created.status == 201, created
        assert json.loads(created.body)["data"] == {"chunked": [1, 2]}, created
        assert conn.response(timeout=2, what="the pipelined GET /livez").status == 200
    finally:
        conn.close()


# MARK: - Head size


def head_refused(server, head, status, slug):
    conn = Connection(server.port)
    try:
        answer = conn.send_then_response(head, what=f"the {status} to a head of {len(head)} bytes")
        assert answer.status == status, f"want {status} {slug} for a head of {len(head)} bytes, got: {answer!r}"
        assert answer.headers.get("content-type", "").startswith("application/problem+json"), \
            f"{status} is not a problem+json: {answer!r}"
        assert problem_type(answer.body) == slug, answer
        closed = conn.closed_by_server()
        assert closed is None, f"after {answer!r}: {closed}"
    finally:
        conn.close()
    assert livez_answers(server.port) == 200


def test_a_head_over_80_kib_because_of_its_separators_is_431(start):
    # 10,000 lines `X-00001: a`: names and values are 80,000 bytes (under the cap), but with their
    # ": " and CRLFs the head is about 120,000 bytes.
    server = start()
    lines = b"".join(b"X-%05d: a\r\n" % i for i in range(10_000))
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n"
    assert len(head) > HEAD_CAP + 30_000
    head_refused(server, head, 431, "header-too-large")


def test_ten_thousand_filler_header_lines_are_431(start):
    # About 190,000 bytes; here names and values alone pass 80 KiB too (NIO's old count answered
    # these with a bare 400), so this one checks the answer: 431 header-too-large, closed.
    server = start()
    lines = b"".join(b"X-Filler-%05d: a\r\n" % i for i in range(1, 10_001))
    head_refused(server, b"GET /livez HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n", 431, "header-too-large")


def test_a_head_just_under_80_kib_is_served(start):
    server = start()
    start_of_head = b"GET /livez HTTP/1.1\r\nHost: x\r\n"
    lines = b"".join(b"X-Long-%d: %s\r\n" % (i, b"v" * 9_980) for i in range(8))
    head = start_of_head + lines + b"\r\n"
    assert 79_000 < len(head) <= HEAD_CAP - 1_000, len(head)
    conn = Connection(server.port)
    try:
        conn.send(head)
        answer = conn.response(timeout=3, what=f"the answer to a head of {len(head)} bytes")
        assert answer.status == 200, f"a head of {len(head)} bytes: {answer!r}"
    finally:
        conn.close()


def test_one_header_value_of_100_kib_is_431(start):
    server = start()
    head_refused(server, b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (100 * 1024) + b"\r\n\r\n",
                 431, "header-too-large")


def test_a_request_target_of_100_kib_is_414(start):
    server = start()
    target = b"/livez?" + b"q" * (100 * 1024)
    head_refused(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri-too-long")


# MARK: - Numbers below a double's range


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": {"x": 1e-400}}',
        b'{"data": {"x": 2e-324}}',
        b'{"data": {"x": -1e-400}}',
        b'{"data": {"a": [1, {"b": 1E-330}]}}',
    ],
)
def test_a_number_below_a_doubles_range_is_refused(start, body):
    server = start()
    status, headers, data = server.request("POST", "/sessions", body)
    assert status == 422, f"POST /sessions {body!r}: {status} {data!r}"
    assert headers["Content-Type"].startswith("application/problem+json"), headers
    assert problem_type(data) == "unsupported-value", data
    assert server.created_total() == 0, f"{body!r} was refused but a session was created"


@pytest.mark.parametrize("literal", ["5e-324", "0e-400", "0.0e-999", "-0.0"])
def test_the_smallest_subnormal_and_zeros_with_any_exponent_are_kept(start, literal):
    server = start()
    status, _, data = server.request("POST", "/sessions", b'{"data": {"x": %s}}' % literal.encode())
    assert status == 201, f"{literal}: {status} {data!r}"
    sid = json.loads(data)["sid"]
    status, _, data = server.request("GET", f"/sessions/{sid}")
    assert status == 200, data
    got = json.loads(data)["data"]["x"]
    written = float(literal)
    assert got == written and math.copysign(1, got) == math.copysign(1, written), \
        f"wrote {literal}, read back {got!r} in {data!r}"
