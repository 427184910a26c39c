"""sessiond on a Redis Cluster: 3 primaries and 3 replicas of Debian's redis-server on loopback
(`redis_cluster.RedisCluster`), with HTTP load on sessiond while
- the slots of live sessions are migrated to another primary (`CLUSTER SETSLOT ... IMPORTING /
  MIGRATING`, `MIGRATE`, `CLUSTER SETSLOT ... NODE`): every request answered 2xx;
- a replica takes over with `CLUSTER FAILOVER`, and a primary is killed with `kill -9`: no
  answer other than 2xx or 503, no live session ever answered 404, writes to the sessions of
  the failed primary succeed again within 5 s of the promotion, and /readyz follows.
The figures are printed (`pytest -s`)."""

import http.client
import json
import os
import re
import subprocess
import threading
import time

import pytest
from ports import free_port, wait_port
from redis_cluster import RedisCluster, redis_cli

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))


def call(port, method, path, body=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
    headers = {"Content-Type": kind} if body is not None else {}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def metric(port, name):
    _, body = call(port, "GET", "/metrics")
    match = re.search(rf"^{re.escape(name)} (\S+)$", body.decode(), re.MULTILINE)
    return float(match.group(1)) if match else None


README = os.path.join(os.path.dirname(__file__), "../../README.md")
PASSWORD = "cluster-test-password"


def readme_cluster_acl():
    """The README's ACL line for a cluster user, as a list of arguments."""
    with open(README) as readme:
        lines = [line.strip() for line in readme if line.strip().startswith("ACL SETUSER sessiond") and "+asking" in line]
    assert len(lines) == 1, "the README should show one ACL SETUSER line for a cluster"
    return lines[0].replace(">PASSWORD", f">{PASSWORD}").split()[1:]


@pytest.fixture
def cluster(tmp_path):
    """The cluster, with the README's ACL user on every node (sessiond logs in as it)."""
    cluster = RedisCluster(str(tmp_path / "cluster"))
    os.makedirs(cluster.directory)
    try:
        cluster.start()
        acl = readme_cluster_acl()
        for port in cluster.ports:
            assert redis_cli(port, "acl", *acl) == "OK"
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def sessiond(tmp_path, cluster):
    port = free_port()
    log = open(tmp_path / "sessiond.log", "w")
    process = subprocess.Popen(
        [BIN, "--port", str(port), "--store", "redis", "--redis-url", f"redis://sessiond:{PASSWORD}@unused/0",
         "--redis-cluster", cluster.seeds, "--redis-timeout", "1s",
         "--redis-connections", "2", "--log-level", "notice"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        deadline = time.monotonic() + 10
        while call(port, "GET", "/readyz")[0] != 200:
            assert time.monotonic() < deadline, "sessiond was not ready on the cluster"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        print((tmp_path / "sessiond.log").read_text()[-3000:])


def create_known(port, cluster, count):
    """`count` sessions, each with a subject of its own (to learn its handle, hence its key):
    [(sid, key, primary port)]."""
    known = []
    primaries = cluster.primaries()
    for i in range(count):
        status, body = call(port, "POST", "/sessions", {"data": {"known": i}, "subject": f"known-{i}"})
        assert status == 201, body
        sid = json.loads(body)["sid"]
        _, listing = call(port, "GET", f"/subjects/known-{i}/sessions")
        key = "sessiond:" + json.loads(listing)["sessions"][0]["handle"]
        holder = next(p for p in primaries if redis_cli(p, "exists", key) == "1")
        known.append((sid, key, holder))
    return known


class Load:
    """Reads and merge-patches of known sessions from several threads, each recorded as
    (time, kind, sid, status)."""

    def __init__(self, port, known, threads=6):
        self.port, self.known = port, known
        self.records = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(threads)]

    def run(self, n):
        i = 0
        while not self.stop.is_set():
            i += 1
            sid = self.known[(i * 7 + n) % len(self.known)][0]
            try:
                if i % 2:
                    status, _ = call(self.port, "GET", f"/sessions/{sid}")
                    self.records.append((time.monotonic(), "read", sid, status))
                else:
                    status, _ = call(self.port, "PATCH", f"/sessions/{sid}", {"data": {"n": i}})
                    self.records.append((time.monotonic(), "write", sid, status))
            except OSError as error:
                self.records.append((time.monotonic(), "error", sid, repr(error)))
            time.sleep(0.005)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def statuses(self):
        return [status for _, _, _, status in self.records]


def test_sessions_spread_over_the_primaries_and_every_call_works(cluster, sessiond):
    known = create_known(sessiond, cluster, 30)
    holders = {holder for _, _, holder in known}
    assert len(holders) == 3, f"30 sessions should land on all 3 primaries, got {holders}"
    for i, (sid, _, _) in enumerate(known):
        assert call(sessiond, "PATCH", f"/sessions/{sid}", {"data": {"x": 1}})[0] == 200
        status, body = call(sessiond, "POST", f"/sessions/{sid}/rotate")
        assert status == 201, body
        rotated = json.loads(body)["sid"]
        assert call(sessiond, "GET", f"/sessions/{sid}")[0] == 404
        assert json.loads(call(sessiond, "GET", f"/sessions/{rotated}")[1])["data"] == {"known": i, "x": 1}
    # Log out everywhere: the subject index keys live in slots of their own.
    status, body = call(sessiond, "POST", "/sessions", {"subject": "everywhere"})
    for _ in range(5):
        call(sessiond, "POST", "/sessions", {"subject": "everywhere"})
    listing = json.loads(call(sessiond, "GET", "/subjects/everywhere/sessions")[1])["sessions"]
    assert len(listing) == 6
    assert call(sessiond, "DELETE", "/subjects/everywhere/sessions")[0] in (200, 204)
    assert json.loads(call(sessiond, "GET", "/subjects/everywhere/sessions")[1])["sessions"] == []
    assert call(sessiond, "GET", f"/sessions/{json.loads(body)['sid']}")[0] == 404
    assert metric(sessiond, "sessiond_redis_topology_refreshes_total") >= 1
    assert 'sessiond_redis_command_duration_seconds_count{node="127.0.0.1:' in call(sessiond, "GET", "/metrics")[1].decode()


def migrate_slot(slot, source, target, source_id, target_id, primaries):
    """Moves `slot` from `source` to `target` the way redis-cli --cluster reshard does, one key
    at a time with a pause, so that requests meet the slot half-migrated."""
    assert redis_cli(target, "cluster", "setslot", slot, "importing", source_id) == "OK"
    assert redis_cli(source, "cluster", "setslot", slot, "migrating", target_id) == "OK"
    while True:
        keys = redis_cli(source, "cluster", "getkeysinslot", slot, 1).split()
        if not keys:
            break
        reply = redis_cli(source, "migrate", "127.0.0.1", target, "", 0, 5000, "keys", *keys)
        assert reply in ("OK", "NOKEY"), reply
        time.sleep(0.05)
    # As redis-cli --cluster reshard does: the target first, then the source, then the others
    # (the other order lets the two bounce MOVED between them until the target knows).
    for port in [target, source] + [p for p in primaries if p not in (target, source)]:
        assert redis_cli(port, "cluster", "setslot", slot, "node", target_id) == "OK"


def test_slots_of_live_sessions_migrate_while_requests_run(cluster, sessiond):
    known = create_known(sessiond, cluster, 60)
    primaries = list(cluster.primaries())
    source = known[0][2]
    target = next(p for p in primaries if p != source)
    moving = [entry for entry in known if entry[2] == source]
    slots = sorted({int(redis_cli(source, "cluster", "keyslot", key)) for _, key, _ in moving})
    source_id, target_id = cluster.node_id(source), cluster.node_id(target)
    with Load(sessiond, known) as load:
        time.sleep(0.5)
        for slot in slots:
            migrate_slot(slot, source, target, source_id, target_id, primaries)
        time.sleep(0.5)
    statuses = load.statuses()
    counts = {str(s): statuses.count(s) for s in set(statuses)}
    asks = metric(sessiond, 'sessiond_redis_redirects_total{kind="ask"}')
    moved = metric(sessiond, 'sessiond_redis_redirects_total{kind="moved"}')
    print(f"\nmigration figures: {len(slots)} slots of {len(moving)} sessions moved; requests {len(statuses)}, "
          f"statuses {counts}, ASK redirects {asks}, MOVED redirects {moved}")
    assert all(isinstance(s, int) and 200 <= s < 300 for s in statuses), counts
    for _, key, _ in moving:
        assert redis_cli(target, "exists", key) == "1"
    for sid, _, _ in known:
        assert call(sessiond, "GET", f"/sessions/{sid}")[0] == 200
    assert moved >= 1


def wait_promoted(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis_cli(port, "role").splitlines()[:1] == ["master"]:
            return time.monotonic()
        time.sleep(0.02)
    pytest.fail(f"the replica on {port} was not promoted")


def first_write_after(records, sids, moment):
    times = [t for t, kind, sid, status in records if kind == "write" and sid in sids and status == 200 and t >= moment]
    return round(min(times) - moment, 3) if times else None


def check_failover_figures(name, load, affected, promoted, figures):
    statuses = load.statuses()
    reads = [status for _, kind, _, status in load.records if kind == "read"]
    figures[f"{name}: first write to the failed primary's sessions after the promotion (s)"] = \
        first_write_after(load.records, affected, promoted)
    late = [t - promoted for t, _, sid, status in load.records if status == 503 and sid in affected and t >= promoted]
    figures[f"{name}: last 503 after the promotion (s)"] = round(max(late), 3) if late else None
    figures[f"{name}: statuses"] = {str(s): statuses.count(s) for s in set(statuses)}
    assert all(isinstance(s, int) and (200 <= s < 300 or s == 503) for s in statuses), figures
    assert 404 not in reads, "a session that exists was answered as not found"
    first = figures[f"{name}: first write to the failed primary's sessions after the promotion (s)"]
    assert first is not None and first < 5, figures
    assert not late or max(late) < 5, figures


def test_cluster_failover_and_a_killed_primary_under_load(cluster, sessiond):
    figures = {}
    known = create_known(sessiond, cluster, 60)
    victim = known[0][2]
    affected = {sid for sid, _, holder in known if holder == victim}
    replica = cluster.replica_of(victim)
    # Replication is asynchronous: the known sessions reach the replica before anything fails.
    assert redis_cli(victim, "wait", 1, 5000) == "1"

    with Load(sessiond, known) as load:
        time.sleep(1)
        assert redis_cli(replica, "cluster", "failover") == "OK"
        promoted = wait_promoted(replica)
        time.sleep(3)
    check_failover_figures("CLUSTER FAILOVER", load, affected, promoted, figures)
    assert call(sessiond, "GET", "/readyz")[0] == 200
    assert metric(sessiond, "sessiond_redis_failovers_total") >= 1

    # kill -9 of the primary the failover made; its old primary is now its replica.
    cluster.wait_ok()
    new_replica = cluster.replica_of(replica)
    assert redis_cli(replica, "wait", 1, 5000) == "1"
    with Load(sessiond, known) as load:
        time.sleep(1)
        cluster.processes[replica].kill()
        killed = time.monotonic()
        promoted = wait_promoted(new_replica)
        figures["kill -9: promotion after the kill (s)"] = round(promoted - killed, 3)
        time.sleep(5)
    check_failover_figures("kill -9", load, affected, promoted, figures)
    deadline = time.monotonic() + 5
    while call(sessiond, "GET", "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "/readyz did not come back"
        time.sleep(0.1)
    for sid, _, _ in known:
        assert call(sessiond, "GET", f"/sessions/{sid}")[0] == 200
    assert metric(sessiond, "sessiond_redis_failovers_total") >= 2
    print("\ncluster failover figures:", json.dumps(figures, indent=2))


def test_readyz_fails_while_slots_have_no_primary(cluster, sessiond):
    victim = cluster.ports[0]
    replica = cluster.replica_of(victim)
    cluster.processes[replica].kill()
    cluster.processes[victim].kill()
    deadline = time.monotonic() + 15
    while call(sessiond, "GET", "/readyz")[0] != 503:
        assert time.monotonic() < deadline, "/readyz stayed 200 with a third of the slots unserved"
        time.sleep(0.2)
    status, body = call(sessiond, "GET", "/readyz")
    assert status == 503
