"""Issue #15 on the real binary: the embedded store made durable with --data-dir. kill -9 under
HTTP load with --fsync always keeps every acknowledged write (counted); SIGTERM with everysec
loses nothing; a damaged log tail is cut and logged; a full disk (a 1 MiB tmpfs this test mounts,
so it must run as root) gives 503 on writes while reads go on, and writing resumes once space
returns; a second process on the same directory, another format version, a damaged snapshot and
a path that is not a directory are refused with exit 2 and a message saying what to do.

Each test starts its own sessiond from SESSIOND_BIN on a free loopback port, with a data
directory of its own under pytest's tmp_path. Output goes to files, never to unread pipes."""

import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A sessiond on a free loopback port with `--data-dir data_dir` and `args`."""

    def __init__(self, tmp, data_dir, *args):
        self.port = free_port()
        self.log_path = os.path.join(tmp, f"sessiond-{self.port}.log")
        self.out = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [BIN, "--port", str(self.port), "--data-dir", str(data_dir), *args],
            stdout=self.out, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
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

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, content_type="application/json", timeout=10):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": content_type} if body is not None else {}
            connection.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=20) == 0, self.output()
        self.out.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.out.close()


def refused_start(tmp, data_dir, *args):
    """Runs sessiond expecting it to refuse to start: (exit status, output)."""
    result = subprocess.run(
        [BIN, "--port", str(free_port()), "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=30,
    )
    return result.returncode, result.stdout + result.stderr


def create(server, data, subject=None):
    body = {"data": data}
    if subject is not None:
        body["subject"] = subject
    status, raw = server.request("POST", "/sessions", body)
    assert status == 201, raw
    return json.loads(raw)


class Load:
    """Clients on keep-alive connections that create sessions and write each a few times,
    noting every write that was acknowledged (sid -> version and data), until stopped."""

    def __init__(self, port, clients=8):
        self.port = port
        self.acked = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(clients)]
        for thread in self.threads:
            thread.start()

    def client(self, number):
        counter = 0
        connection = None
        while not self.stopping.is_set():
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                counter += 1
                data = {"client": number, "n": counter}
                connection.request("POST", "/sessions", json.dumps({"data": data}), {"Content-Type": "application/json"})
                response = connection.getresponse()
                raw = response.read()
                if response.status != 201:
                    continue
                session = json.loads(raw)
                with self.lock:
                    self.acked[session["sid"]] = (session["version"], session["data"])
                for _ in range(2):
                    counter += 1
                    data = {"client": number, "n": counter, "pad": "x" * 200}
                    connection.request("PUT", f"/sessions/{session['sid']}", json.dumps({"data": data}),
                                       {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    raw = response.read()
                    if response.status == 200:
                        written = json.loads(raw)
                        with self.lock:
                            self.acked[session["sid"]] = (written["version"], written["data"])
            except (OSError, http.client.HTTPException):
                connection = None
                if self.stopping.is_set():
                    return
                time.sleep(0.01)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)


def check_acknowledged(server, acked):
    """Every acknowledged write is there: the session at its acknowledged version or later (a
    write may have landed whose answer the kill cut off), with that data when at that version.
    Returns how many writes were checked."""
    lost = []
    for sid, (version, data) in acked.items():
        status, raw = server.request("GET", f"/sessions/{sid}")
        if status != 200:
            lost.append((sid, status))
            continue
        session = json.loads(raw)
        if session["version"] < version or (session["version"] == version and session["data"] != data):
            lost.append((sid, session["version"], version))
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged sessions lost or older: {lost[:5]}"
    return len(acked)


def test_kill_9_under_load_with_fsync_always_keeps_every_acknowledged_write(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, data_dir, "--fsync", "always", "--log-level", "notice")
    load = Load(server.port)
    time.sleep(3)
    server.proc.kill()  # SIGKILL while requests are in flight
    server.proc.wait(timeout=10)
    load.stop()
    acked = dict(load.acked)
    assert len(acked) > 50, f"the load made only {len(acked)} sessions"

    restarted = Server(tmp_path, data_dir, "--fsync", "always")
    checked = check_acknowledged(restarted, acked)
    print(f"kill -9 with --fsync always: {checked} acknowledged sessions, all present after restart")
    assert "using the data directory" in restarted.output()
    restarted.terminate()


def test_sigterm_with_everysec_loses_nothing(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, data_dir, "--log-level", "notice")  # everysec is the default
    load = Load(server.port, clients=4)
    time.sleep(2)
    load.stop()  # every answer read: nothing in flight
    acked = dict(load.acked)
    server.terminate()
    restarted = Server(tmp_path, data_dir)
    for sid, (version, data) in acked.items():
        status, raw = restarted.request("GET", f"/sessions/{sid}")
        assert status == 200, sid
        session = json.loads(raw)
        assert (session["version"], session["data"]) == (version, data)
    print(f"SIGTERM with --fsync everysec: {len(acked)} sessions, all back exactly")
    restarted.terminate()


def test_subjects_lifetimes_and_versions_come_back(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, data_dir)
    first = create(server, {"cart": [1, 2], "n": 0.1}, subject="user-42")
    second = create(server, {"other": True}, subject="user-42")
    status, raw = server.request("PATCH", f"/sessions/{first['sid']}", {"data": {"theme": "dark"}, "lifetime": 300},
                                 content_type="application/merge-patch+json")
    assert status == 200, raw
    status, raw = server.request("POST", f"/sessions/{second['sid']}/rotate")
    assert status == 201, raw
    rotated = json.loads(raw)
    _, listing_before = server.request("GET", "/subjects/user-42/sessions")
    _, first_before = server.request("GET", f"/sessions/{first['sid']}")
    server.kill()

    restarted = Server(tmp_path, data_dir)
    _, first_after = restarted.request("GET", f"/sessions/{first['sid']}")
    before, after = json.loads(first_before), json.loads(first_after)
    before.pop("ttl"), after.pop("ttl")
    assert after == before and after["lifetime"] == 300 and after["version"] == 2
    assert restarted.request("GET", f"/sessions/{second['sid']}")[0] == 404
    assert restarted.request("GET", f"/sessions/{rotated['sid']}")[0] == 200
    _, listing_after = restarted.request("GET", "/subjects/user-42/sessions")
    strip = lambda raw: [{k: v for k, v in s.items() if k != "ttl"} for s in json.loads(raw)["sessions"]]
    assert strip(listing_after) == strip(listing_before) and len(strip(listing_after)) == 2
    # No sid is at rest: the files hold handles only.
    for name in os.listdir(data_dir):
        content = (data_dir / name).read_bytes()
        for sid in (first["sid"], second["sid"], rotated["sid"]):
            assert sid.encode() not in content, name
    restarted.terminate()


def test_a_damaged_log_tail_is_cut_and_the_log_says_how_much(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, data_dir)
    sessions = [create(server, {"i": i}) for i in range(5)]
    server.terminate()
    log = sorted(name for name in os.listdir(data_dir) if name.startswith("log."))[-1]
    with open(data_dir / log, "ab") as f:
        f.write(struct.pack("<II", 500, 12345) + b"torn record")  # 19 bytes
    restarted = Server(tmp_path, data_dir)
    for session in sessions:
        assert restarted.request("GET", f"/sessions/{session['sid']}")[0] == 200
    output = restarted.output()
    assert "tail off a log" in output and "dropped_bytes=19" in output, output
    restarted.terminate()


def test_a_second_process_on_the_same_directory_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, data_dir)
    status, output = refused_start(tmp_path, data_dir)
    assert status == 2, output
    assert "in use by another sessiond" in output and f"pid {server.proc.pid}" in output, output
    server.terminate()


def header(version, kind, generation):
    """A file header (docs/DURABLE-STORE.md); its checksum is left 0: the version is read first."""
    return b"SESSIOND" + struct.pack("<IIQI", version, kind, generation, 0)


def test_another_format_version_is_refused_with_exit_2(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "log.00000000000000000001").write_bytes(header(3, 1, 1))
    status, output = refused_start(tmp_path, data_dir)
    assert status == 2, output
    assert "format version 3" in output and "this sessiond reads versions 1 to 2" in output, output


def test_a_damaged_snapshot_is_refused_with_exit_2(tmp_path):
    data_dir = tmp_path / "data"
    server = Server(tmp_path, data_dir)
    create(server, {"a": 1})
    server.terminate()
    # A snapshot whose header and records are damaged (zeros after the magic).
    (data_dir / "snapshot").write_bytes(b"SESSIOND" + b"\x00" * 40)
    status, output = refused_start(tmp_path, data_dir)
    assert status == 2, output
    assert "snapshot" in output and "move" in output, output


def test_a_path_that_is_not_a_directory_is_refused_with_exit_2(tmp_path):
    path = tmp_path / "file"
    path.write_text("not a directory")
    status, output = refused_start(tmp_path, path)
    assert status == 2, output
    assert "is not a directory" in output, output


def test_data_dir_with_redis_is_a_configuration_error(tmp_path):
    status, output = refused_start(tmp_path, tmp_path / "data", "--store", "redis")
    assert status != 0 and "data-dir" in output, output


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs mounted for the test (needs root: mount(2))."""
    if os.geteuid() != 0:
        pytest.fail("the full-disk test mounts a 1 MiB tmpfs and must run as root (id -u is not 0); run it with sudo")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_gives_503_on_writes_reads_go_on_and_writing_resumes(tmp_path, small_disk):
    data_dir = small_disk / "data"
    server = Server(tmp_path, data_dir, "--fsync", "always")
    kept = create(server, {"before": "full"})
    # Fill the disk.
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    statuses = []
    for _ in range(50):
        status, raw = server.request("POST", "/sessions", {"data": {"pad": "y" * 2000}})
        statuses.append(status)
        if status == 503:
            problem = json.loads(raw)
            assert problem["type"].endswith("/store-unavailable"), raw
            break
    assert 503 in statuses, statuses
    # Writes stay refused, reads go on.
    status, raw = server.request("PUT", f"/sessions/{kept['sid']}", {"data": {"after": "full"}})
    assert status == 503, raw
    status, raw = server.request("GET", f"/sessions/{kept['sid']}")
    assert status == 200 and json.loads(raw)["data"] == {"before": "full"}, raw
    assert "cannot write the data directory" in server.output()

    # Space comes back: writing resumes by itself.
    os.remove(filler)
    deadline = time.monotonic() + 15
    while True:
        status, raw = server.request("PUT", f"/sessions/{kept['sid']}", {"data": {"after": "space"}})
        if status == 200:
            break
        assert time.monotonic() < deadline, f"writes did not resume: {status} {raw}"
        time.sleep(0.2)
    later = create(server, {"after": "resume"})
    server.kill()

    restarted = Server(tmp_path, data_dir, "--fsync", "always")
    _, raw = restarted.request("GET", f"/sessions/{kept['sid']}")
    assert json.loads(raw)["data"] == {"after": "space"}
    assert restarted.request("GET", f"/sessions/{later['sid']}")[0] == 200
    restarted.terminate()
