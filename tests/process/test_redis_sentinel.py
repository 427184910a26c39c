"""sessiond behind Redis Sentinel: one master, one replica and three Sentinels on loopback
(Debian's redis-server and redis-sentinel), HTTP load on sessiond, then `SENTINEL FAILOVER` and
`kill -9` of the master. What users rely on, asserted and printed as figures: no answer other
than 2xx or 503 at any time, no session that exists ever answered as 404, writes succeed again
within 5 s of the promotion, and /readyz follows."""

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
SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
MASTER = "sessiond-master"


def cli(port, *args):
    result = subprocess.run([CLI, "-p", str(port), *args], capture_output=True, text=True, timeout=10)
    return result.stdout.strip()


def call(port, method, path, body=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def master_port(sentinel_port):
    lines = cli(sentinel_port, "SENTINEL", "get-master-addr-by-name", MASTER).splitlines()
    return int(lines[1]) if len(lines) == 2 else None


@pytest.fixture
def topology(tmp_path):
    """A master, its replica and three Sentinels that agree on them."""
    if not os.path.exists(SENTINEL):
        pytest.fail("redis-sentinel is not installed (run scripts/setup --test-tools)")
    procs = {}
    master, replica = free_port(), free_port()
    # No wait before a full sync (Redis waits 5 s by default, to batch replicas).
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"]

    def own_dir(name):
        # A replica writes the RDB of a full sync into its directory and loads it from there:
        # each server needs one of its own (never the working directory, shared by all).
        directory = tmp_path / name
        directory.mkdir()
        return ["--dir", str(directory)]

    procs["master"] = subprocess.Popen([REDIS, "--port", str(master), *common, *own_dir("master")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs["replica"] = subprocess.Popen([REDIS, "--port", str(replica), "--replicaof", "127.0.0.1", str(master), *common,
                                         *own_dir("replica")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(master)
    wait_port(replica)
    sentinels = []
    for index in range(3):
        port = free_port()
        conf = tmp_path / f"sentinel-{index}.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\nsentinel monitor {MASTER} 127.0.0.1 {master} 2\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\nsentinel failover-timeout {MASTER} 10000\n"
            f"sentinel parallel-syncs {MASTER} 1\n"
        )
        procs[f"sentinel-{index}"] = subprocess.Popen([SENTINEL, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sentinels.append(port)
    for port in sentinels:
        wait_port(port)
    deadline = time.monotonic() + 30
    # Each Sentinel must see the other two and the replica (which it learns from the master's
    # INFO, every 10 s at first), else a failover finds no replica to promote.
    while not all(cli(port, "SENTINEL", "ckquorum", MASTER).startswith("OK 3") for port in sentinels) or \
            not all(f"\n{replica}\n" in cli(port, "SENTINEL", "replicas", MASTER) for port in sentinels):
        assert time.monotonic() < deadline, "the Sentinels did not agree on the master and its replica"
        time.sleep(0.2)
    while "master_link_status:up" not in cli(replica, "INFO", "replication"):
        assert time.monotonic() < deadline, "the replica did not finish its first sync"
        time.sleep(0.1)
    yield {"master": master, "replica": replica, "sentinels": sentinels, "procs": procs}
    for proc in procs.values():
        proc.kill()
        proc.wait()


class Load:
    """Reads of sessions that exist and creates of new ones, from several threads, recording
    every status with its time."""

    def __init__(self, port, known):
        self.port, self.known = port, known
        self.records = []  # (time, kind, status)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(6)]

    def run(self, n):
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                if n % 2 == 0:
                    status, _ = call(self.port, "GET", f"/sessions/{self.known[(i + n) % len(self.known)]}", timeout=5)
                    self.records.append((time.monotonic(), "read", status))
                else:
                    status, _ = call(self.port, "POST", "/sessions", {"data": {"n": i}}, timeout=5)
                    self.records.append((time.monotonic(), "write", status))
            except OSError as error:
                self.records.append((time.monotonic(), "error", repr(error)))
            time.sleep(0.01)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def replication_offset(port, field):
    for line in cli(port, "INFO", "replication").splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return -1


def wait_replicated(master, replica, timeout=10):
    target = replication_offset(master, "master_repl_offset")
    deadline = time.monotonic() + timeout
    while replication_offset(replica, "slave_repl_offset") < target:
        assert time.monotonic() < deadline, "the replica did not catch up with the master"
        time.sleep(0.05)


def wait_for_new_master(sentinels, old, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        port = master_port(sentinels[0])
        if port is not None and port != old:
            return port, time.monotonic()
        time.sleep(0.05)
    pytest.fail("the Sentinels did not promote a new master")


def first_write_after(records, moment):
    times = [t for t, kind, status in records if kind == "write" and status == 201 and t >= moment]
    return min(times) - moment if times else None


def test_failover_and_a_killed_master_under_load(tmp_path, topology):
    sentinels = topology["sentinels"]
    port = free_port()
    log = open(tmp_path / "sessiond.log", "w")
    sessiond = subprocess.Popen(
        [BIN, "--port", str(port), "--store", "redis", "--redis-url", "redis://127.0.0.1:1/0",
         "--redis-sentinels", ",".join(f"127.0.0.1:{p}" for p in sentinels), "--redis-sentinel-master", MASTER,
         "--redis-timeout", "500ms", "--redis-connections", "2", "--log-level", "notice"],
        stdout=log, stderr=subprocess.STDOUT)
    figures = {}
    try:
        wait_port(port)
        known = []
        for i in range(20):
            status, body = call(port, "POST", "/sessions", {"data": {"known": i}})
            assert status == 201, body
            known.append(json.loads(body)["sid"])
        assert call(port, "GET", "/readyz")[0] == 200
        # The known sessions reach the replica before anything fails over (replication is
        # asynchronous: what the master acknowledged last may be lost with it, as with any client).
        wait_replicated(topology["master"], topology["replica"])

        with Load(port, known) as load:
            time.sleep(1)
            old = topology["master"]
            assert cli(sentinels[0], "SENTINEL", "FAILOVER", MASTER) == "OK"
            new, promoted = wait_for_new_master(sentinels, old)
            time.sleep(6)
            figures["failover: first write after the promotion (s)"] = first_write_after(load.records, promoted)
            assert call(port, "GET", "/readyz")[0] == 200

            # kill -9 of the master the failover made.
            victim = "replica" if new == topology["replica"] else "master"
            topology["procs"][victim].kill()
            killed = time.monotonic()
            newer, promoted_again = wait_for_new_master(sentinels, new)
            figures["kill -9: promotion after the kill (s)"] = promoted_again - killed
            time.sleep(6)
            figures["kill -9: first write after the promotion (s)"] = first_write_after(load.records, promoted_again)
            deadline = time.monotonic() + 5
            while call(port, "GET", "/readyz")[0] != 200:
                assert time.monotonic() < deadline, "/readyz did not come back"
                time.sleep(0.1)

        marks = {"failover": promoted, "kill": killed, "promoted again": promoted_again}
        not_found = [t for t, kind, status in load.records if kind == "read" and status == 404]
        if not_found:
            figures["404s: first and last, seconds after each event"] = {
                name: (round(min(not_found) - at, 2), round(max(not_found) - at, 2)) for name, at in marks.items()
            }
        statuses = [status for _, _, status in load.records]
        reads = [status for _, kind, status in load.records if kind == "read"]
        figures["requests"] = len(statuses)
        figures["statuses"] = {str(status): statuses.count(status) for status in set(statuses)}
        print("\nSentinel figures:", json.dumps(figures, indent=2))
        assert all(isinstance(s, int) and (200 <= s < 300 or s == 503) for s in statuses), figures["statuses"]
        assert 404 not in reads, "a session that exists was answered as not found"
        assert figures["failover: first write after the promotion (s)"] is not None
        assert figures["failover: first write after the promotion (s)"] < 5
        assert figures["kill -9: first write after the promotion (s)"] is not None
        assert figures["kill -9: first write after the promotion (s)"] < 5
        for sid in known:
            assert call(port, "GET", f"/sessions/{sid}")[0] == 200
        # Each +switch-master is counted.
        metrics = call(port, "GET", "/metrics")[1].decode()
        failovers = [line for line in metrics.splitlines() if line.startswith("sessiond_redis_failovers_total ")]
        assert failovers and float(failovers[0].split()[1]) >= 2, failovers
    finally:
        sessiond.terminate()
        sessiond.wait(timeout=15)
        log.close()
        text = (tmp_path / "sessiond.log").read_text()
        print(text[-3000:])
