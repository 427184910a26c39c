"""Graceful shutdown of the real binary: SIGTERM lets a request in flight finish, closes idle
connections, and the process exits 0. Each test starts its own sessiond on a free loopback port."""

import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    port = free_port()
    proc = subprocess.Popen(
        [BIN, "--port", str(port), "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("sessiond did not start listening")
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_sigterm_finishes_the_request_in_flight_then_exits_0(server):
    proc, port = server
    body = b'{"data":{"cart":[1,2,3]}}'
    busy = socket.create_connection(("127.0.0.1", port))
    idle = socket.create_connection(("127.0.0.1", port))
    # Half a request: the head and part of the body.
    busy.sendall(
        b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]
    )
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # The idle keep-alive connection is closed by the server...
    idle.settimeout(5)
    assert idle.recv(1) == b""
    # ...new connections are refused...
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    # ...and the request in flight is still answered.
    busy.sendall(body[10:])
    busy.settimeout(5)
    response = read_response(busy)
    assert response.startswith(b"HTTP/1.1 201 "), response
    assert proc.wait(timeout=10) == 0
    output = proc.stdout.read()
    assert "draining" in output
    assert "sessiond stopped" in output


def test_start_up_line_says_where_and_which_store(server):
    proc, port = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    first = proc.stdout.readline()
    assert f"127.0.0.1:{port}" in first
    assert "store=memory" in first


def test_bad_settings_are_refused_at_start():
    result = subprocess.run([BIN, "--lifetime", "forever"], capture_output=True, text=True, timeout=10)
    assert result.returncode != 0
    assert "lifetime" in result.stderr and "forever" in result.stderr


def test_settings_come_from_the_environment():
    port = free_port()
    env = dict(os.environ, SESSIOND_PORT=str(port), SESSIOND_LIFETIME="90s")
    proc = subprocess.Popen([BIN], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=0.2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.sendall(b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        response = read_response(sock)
        assert b'"ttl":90' in response, response
        sock.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_help_lists_every_setting_of_the_readme_with_its_variable():
    """Every row of the README's settings table is a flag that --help explains (so a setting
    added to the configuration but not to the command line cannot go unnoticed)."""
    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    rows = re.findall(r"^\| `(--[a-z-]+)` \| `(SESSIOND_[A-Z_]+)` \|", readme.read_text(), re.MULTILINE)
    assert len(rows) >= 20, rows
    result = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0
    for flag, variable in rows:
        assert f"{flag} <" in result.stdout and variable in result.stdout, flag
