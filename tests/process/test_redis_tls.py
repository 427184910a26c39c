"""sessiond on a Redis that speaks TLS only (rediss://), as managed Redis services do: the
server's certificate verified against a CA file (and its name), a wrong CA refused with 503
and a log line that says why, mutual TLS, the explicit --redis-tls-insecure, and settings that
cannot work refused at start. Certificates are made by openssl in the test; redis-server and
sessiond run on free loopback ports."""

import http.client
import json
import os
import shutil
import subprocess
import time

import pytest
from ports import free_port, wait_port

BIN = os.environ.get("SESSIOND_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/sessiond"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def openssl(directory, *args):
    subprocess.run([OPENSSL, *args], cwd=directory, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA with a server certificate (localhost, 127.0.0.1) and a client certificate, and a
    second CA that signed nothing."""
    directory = tmp_path_factory.mktemp("tls")
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for ca in ("ca", "other-ca"):
        openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                "-days", "2", "-subj", f"/CN=sessiond test {ca}")
    for name, subject in (("server", "/CN=localhost"), ("client", "/CN=sessiond")):
        openssl(directory, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        openssl(directory, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")
    return directory


def start_tls_redis(certs, require_client_certs):
    port = free_port()
    proc = subprocess.Popen(
        [REDIS, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--tls-cert-file", str(certs / "server.crt"), "--tls-key-file", str(certs / "server.key"),
         "--tls-ca-cert-file", str(certs / "ca.crt"), "--tls-auth-clients", "yes" if require_client_certs else "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, port


class Sessiond:
    def __init__(self, tmp_path, *args):
        self.port = free_port()
        self.log_path = tmp_path / f"sessiond-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([BIN, "--port", str(self.port), "--store", "redis", "--redis-timeout", "500ms", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, json.loads(data) if data else None

    def output(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=15) == 0
        self.log.close()


@pytest.fixture
def redis_tls(certs):
    procs = []

    def start(require_client_certs=False):
        proc, port = start_tls_redis(certs, require_client_certs)
        procs.append(proc)
        return port

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def works(server):
    status, created = server.call("POST", "/sessions", {"data": {"over": "tls"}})
    assert status == 201, created
    status, read = server.call("GET", f"/sessions/{created['sid']}")
    assert status == 200 and read["data"] == {"over": "tls"}
    status, _ = server.call("GET", "/readyz")
    assert status == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_certificate_of_the_given_ca_for_the_host_dialled_is_accepted(tmp_path, certs, redis_tls, host):
    port = redis_tls()
    server = Sessiond(tmp_path, "--redis-url", f"rediss://{host}:{port}/0", "--redis-tls-ca-file", str(certs / "ca.crt"))
    try:
        works(server)
        assert "rediss://" in server.output()
    finally:
        server.stop()


def test_a_certificate_of_another_ca_is_refused_with_503_and_the_log_says_why(tmp_path, certs, redis_tls):
    port = redis_tls()
    server = Sessiond(tmp_path, "--redis-url", f"rediss://127.0.0.1:{port}/0", "--redis-tls-ca-file", str(certs / "other-ca.crt"))
    try:
        status, problem = server.call("POST", "/sessions", {"data": {}})
        assert status == 503 and problem["type"].endswith("/store-unavailable"), problem
        status, _ = server.call("GET", "/readyz")
        assert status == 503
        log = server.output()
        assert "cannot use Redis" in log and "CERTIFICATE_VERIFY_FAILED" in log, log
    finally:
        server.stop()


def test_the_systems_trust_store_does_not_trust_a_private_ca(tmp_path, redis_tls):
    port = redis_tls()
    server = Sessiond(tmp_path, "--redis-url", f"rediss://127.0.0.1:{port}/0")
    try:
        status, _ = server.call("POST", "/sessions", {"data": {}})
        assert status == 503
    finally:
        server.stop()


def test_mutual_tls_with_a_client_certificate(tmp_path, certs, redis_tls):
    port = redis_tls(require_client_certs=True)
    server = Sessiond(tmp_path, "--redis-url", f"rediss://127.0.0.1:{port}/0", "--redis-tls-ca-file", str(certs / "ca.crt"),
                      "--redis-tls-cert-file", str(certs / "client.crt"), "--redis-tls-key-file", str(certs / "client.key"))
    try:
        works(server)
    finally:
        server.stop()


def test_mutual_tls_without_a_client_certificate_is_refused(tmp_path, certs, redis_tls):
    port = redis_tls(require_client_certs=True)
    server = Sessiond(tmp_path, "--redis-url", f"rediss://127.0.0.1:{port}/0", "--redis-tls-ca-file", str(certs / "ca.crt"))
    try:
        status, _ = server.call("POST", "/sessions", {"data": {}})
        assert status == 503
        assert "cannot use Redis" in server.output()
    finally:
        server.stop()


def test_insecure_skips_verification_only_when_asked_and_warns(tmp_path, certs, redis_tls):
    port = redis_tls()
    server = Sessiond(tmp_path, "--redis-url", f"rediss://127.0.0.1:{port}/0", "--redis-tls-ca-file", str(certs / "other-ca.crt"),
                      "--redis-tls-insecure", "true")
    try:
        works(server)
        assert "without certificate verification" in server.output()
    finally:
        server.stop()


def test_plain_redis_url_to_a_tls_port_is_503_not_a_hang(tmp_path, redis_tls):
    port = redis_tls()
    server = Sessiond(tmp_path, "--redis-url", f"redis://127.0.0.1:{port}/0")
    try:
        started = time.monotonic()
        status, _ = server.call("POST", "/sessions", {"data": {}})
        assert status == 503 and time.monotonic() - started < 5
    finally:
        server.stop()


def run_to_exit(*args):
    result = subprocess.run([BIN, "--port", "0", *args], capture_output=True, text=True, timeout=20)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("args, expected", [
    (["--redis-url", "redis://127.0.0.1:6379/0", "--redis-tls-ca-file", "/etc/hostname"], "redis-tls-ca-file"),
    (["--redis-url", "redis://127.0.0.1:6379/0", "--redis-tls-insecure", "true"], "redis-tls-insecure"),
    (["--redis-url", "rediss://127.0.0.1:6379/0", "--redis-tls-insecure", "maybe"], "redis-tls-insecure"),
])
def test_tls_settings_without_rediss_are_refused(args, expected):
    status, output = run_to_exit("--store", "redis", *args)
    assert status != 0 and expected in output, output


@pytest.mark.parametrize("args, expected", [
    (["--redis-tls-ca-file", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
    (["--redis-tls-cert-file", "CERT"], "--redis-tls-key-file"),
])
def test_unusable_tls_files_stop_the_start_with_exit_2(certs, args, expected):
    args = [str(certs / "client.crt") if a == "CERT" else a for a in args]
    status, output = run_to_exit("--store", "redis", "--redis-url", "rediss://127.0.0.1:6379/0", *args)
    assert status == 2 and expected in output, output
