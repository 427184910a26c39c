"""Fixtures: the real sessiond binary on free loopback ports, Flask apps served over real HTTP
by Werkzeug's server in a thread, and a small browser (cookie jar) to drive them.

SESSIOND_BIN names the binary (default: the debug build of this repository).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("SESSIOND_BIN") or os.path.join(HERE, "..", "..", "..", ".build", "debug", "sessiond")

DAY = 86_400
MONTH = 31 * DAY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(pid: int) -> None:
    """SIGSTOP, then wait until every thread has stopped: kill() returns before that, and a
    thread still running could answer one more request."""
    os.kill(pid, signal.SIGSTOP)
    tasks = f"/proc/{pid}/task"
    if not os.path.isdir(tasks):
        time.sleep(0.2)
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = []
        for task in os.listdir(tasks):
            try:
                with open(f"{tasks}/{task}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                continue
        if states and all(state in ("T", "t") for state in states):
            return
        time.sleep(0.005)
    pytest.fail(f"process {pid} did not stop within 5 s")


class Sessiond:
    """One sessiond process of our own on a free loopback port (memory store)."""

    def __init__(self, *args: str, port: int | None = None) -> None:
        if not os.access(BIN, os.X_OK):
            pytest.fail(f"no sessiond binary at {BIN} (set SESSIOND_BIN)")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [BIN, "--host", "127.0.0.1", "--port", str(self.port), "--store", "memory", "--log-level", "warning",
             *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.paused = False
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=0.5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None:
                output = self.proc.stdout.read().decode("utf-8", "replace") if self.proc.stdout else ""
                pytest.fail(f"sessiond exited at start ({self.proc.returncode}): {output}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail("sessiond was not ready within 15 s")
            time.sleep(0.05)

    def pause(self) -> None:
        """SIGSTOP: the process keeps its port and its sessions but answers nothing."""
        self.paused = True
        stop_process(self.proc.pid)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        if self.proc.poll() is None:
            if self.paused:
                self.resume()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def sessiond():
    """The shared sessiond for tests that do not stop or pause it."""
    server = Sessiond()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def short_sessiond():
    """A sessiond whose sessions live one second, for expiry."""
    server = Sessiond("--lifetime", "1s", "--permanent-lifetime", "2s")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def grace_sessiond():
    """A sessiond with a rotation grace window of 10 s."""
    server = Sessiond("--rotation-grace", "10s")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def limited_sessiond():
    """A sessiond that keeps at most 2 live sessions per subject."""
    server = Sessiond("--max-sessions-per-subject", "2")
    yield server
    server.stop()


@pytest.fixture
def own_sessiond():
    """A sessiond of the test's own, which it may pause (SIGSTOP) or stop; ``port=`` starts one
    on the port of one that was stopped (a restart)."""
    servers: list[Sessiond] = []

    def start(*args: str, port: int | None = None) -> Sessiond:
        server = Sessiond(*args, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class Served:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def serve():
    """serve(app) -> base URL: the app on Werkzeug's threaded server on a free loopback port."""
    running: list[Served] = []

    def start(app: Any) -> str:
        served = Served(app)
        running.append(served)
        return served.url

    yield start
    for served in running:
        served.stop()


class Reply:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def set_cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


class _KeepErrors(urllib.request.HTTPErrorProcessor):
    """Error statuses are returned as replies, not raised; redirects are still followed."""

    def http_response(self, request, response):  # type: ignore[override]
        if 300 <= response.status < 400:
            return super().http_response(request, response)
        return response

    https_response = http_response


class Browser:
    """Real HTTP with a cookie jar, as a browser would send it."""

    def __init__(self, base_url: str, cookie_name: str = "session") -> None:
        self.base_url = base_url
        self.cookie_name = cookie_name
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar), _KeepErrors()
        )

    def request(
        self, method: str, path: str, body: Any | None = None, form: dict[str, str] | None = None,
        timeout: float = 20,
    ) -> Reply:
        data = None
        headers: dict[str, str] = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        with self.opener.open(req, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Any | None = None) -> Reply:
        return self.request("POST", path, body if body is not None else {})

    def cookie(self, name: str | None = None) -> http.cookiejar.Cookie | None:
        name = name or self.cookie_name
        found = [c for c in self.jar if c.name == name]
        assert len(found) <= 1, found
        return found[0] if found else None

    @property
    def sid(self) -> str | None:
        cookie = self.cookie()
        return cookie.value if cookie else None

    def set_cookie(self, value: str, name: str | None = None) -> None:
        self.jar.clear()
        self.jar.set_cookie(http.cookiejar.Cookie(
            version=0, name=name or self.cookie_name, value=value, port=None, port_specified=False,
            domain="127.0.0.1", domain_specified=False, domain_initial_dot=False, path="/",
            path_specified=True, secure=False, expires=None, discard=True, comment=None,
            comment_url=None, rest={}, rfc2109=False,
        ))
