"""A Redis Cluster of Debian's redis-server on loopback for the tests: 3 primaries with one
replica each, made with `redis-cli --cluster create`, each node in a directory of its own.

Used by the process tests (`RedisCluster`), and by scripts/test to run the end-to-end suite on a
cluster:

    python tests/process/redis_cluster.py start DIR   # prints the seed list host:port,...
    python tests/process/redis_cluster.py stop DIR
"""

import os
import signal
import subprocess
import sys
import time

try:
    from ports import free_port
except ImportError:  # run as a script from the repository root
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from ports import free_port


def redis_cli(port, *args, timeout=5):
    """One redis-cli command against 127.0.0.1:port; returns its output (stripped)."""
    done = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *map(str, args)],
        capture_output=True, text=True, timeout=timeout,
    )
    return done.stdout.strip()


class RedisCluster:
    """Six redis-server processes in cluster mode: `ports[:3]` start as primaries."""

    def __init__(self, directory, node_timeout_ms=1000):
        self.directory = directory
        self.node_timeout_ms = node_timeout_ms
        self.ports = []
        self.bus_ports = {}
        self.processes = {}

    def start(self):
        self.ports = [free_port() for _ in range(6)]
        # The cluster bus needs a port of its own (port + 10000 by default, which may be taken).
        self.bus_ports = {port: free_port() for port in self.ports}
        for port in self.ports:
            self.start_node(port)
        for port in self.ports:
            self.wait_answers(port)
        created = subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
             "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True, text=True, timeout=60,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout}{created.stderr}")
        self.wait_ok()
        return self

    def start_node(self, port):
        node_dir = os.path.join(self.directory, str(port))
        os.makedirs(node_dir, exist_ok=True)
        log = open(os.path.join(node_dir, "redis.log"), "ab")
        self.processes[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", node_dir,
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", str(self.bus_ports[port]),
             "--cluster-node-timeout", str(self.node_timeout_ms), "--save", "", "--appendonly", "no",
             "--repl-diskless-sync-delay", "0", "--loglevel", "notice"],
            stdout=log, stderr=log,
        )
        log.close()
        with open(os.path.join(self.directory, "pids"), "a") as pids:
            pids.write(f"{self.processes[port].pid}\n")

    @staticmethod
    def wait_answers(port, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if redis_cli(port, "ping") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on {port} did not start")

    def wait_ok(self, timeout=30, ports=None):
        """Waits until every (live) node says cluster_state:ok and knows all 16384 slots."""
        deadline = time.monotonic() + timeout
        ports = ports or [p for p in self.ports if self.processes[p].poll() is None]
        while time.monotonic() < deadline:
            infos = [redis_cli(p, "cluster", "info") for p in ports]
            if all("cluster_state:ok" in i and "cluster_slots_assigned:16384" in i for i in infos):
                return
            time.sleep(0.1)
        raise RuntimeError("the cluster did not reach cluster_state:ok")

    @property
    def seeds(self):
        return ",".join(f"127.0.0.1:{p}" for p in self.ports[:3])

    def primaries(self):
        """{port: node id} of the nodes that are primaries now, as the live nodes see it."""
        live = next(p for p in self.ports if self.processes[p].poll() is None)
        result = {}
        for line in redis_cli(live, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2]:
                result[int(fields[1].split("@")[0].split(":")[1])] = fields[0]
        return result

    def node_id(self, port):
        return redis_cli(port, "cluster", "myid")

    def replica_of(self, primary_port):
        """The port of a live replica of the primary on `primary_port` (by ROLE)."""
        for port in self.ports:
            if port != primary_port and self.processes[port].poll() is None:
                role = redis_cli(port, "role").splitlines()
                if len(role) >= 3 and role[0] == "slave" and role[2] == str(primary_port):
                    return port
        raise RuntimeError(f"no replica of {primary_port}")

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def stop_directory(directory):
    try:
        with open(os.path.join(directory, "pids")) as pids:
            for line in pids:
                try:
                    os.kill(int(line), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: redis_cluster.py start|stop DIR")
    os.makedirs(sys.argv[2], exist_ok=True)
    if sys.argv[1] == "start":
        cluster = RedisCluster(sys.argv[2]).start()
        print(cluster.seeds)
    else:
        stop_directory(sys.argv[2])
