"""SessiondClient against the real sessiond binary: every method, the problem exceptions, and
an unreachable, hanging or idle-closing server. Headers the real server does not check yet (the
API key) and answers it cannot be made to give here (503 with Retry-After, a proxy's non-JSON
error) are checked against a small stub server."""

from __future__ import annotations

import gc
import http.client
import http.server
import json
import subprocess
import sys
import threading
import time
import uuid
import warnings
from datetime import datetime, timezone
from typing import Any

import pytest

from sessiond_client import (
    BadRequest,
    NotFound,
    PreconditionFailed,
    ProblemError,
    ServiceUnavailable,
    SessiondClient,
    SessiondError,
    SessiondUnavailable,
    SessionExists,
    SessionNotFound,
    SessionRotated,
    TooManySessions,
    Unauthorized,
    UnprocessableContent,
    handle_for,
    new_sid,
)

from conftest import DAY, MONTH, free_port

PROBLEMS = "https://sessiond.dev/problems/"
NEVER_ISSUED = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


@pytest.fixture
def client(sessiond):
    with SessiondClient(sessiond.url, api_key="k") as c:
        yield c


def subject() -> str:
    return "user-" + uuid.uuid4().hex


def test_the_client_imports_without_flask():
    code = "import sys, sessiond_client; assert 'flask' not in sys.modules, 'flask was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_create_with_defaults(client):
    s = client.create()
    assert len(s.sid) == 36 and s.data == {} and s.permanent is False and s.subject is None
    assert s.version == 1 and s.etag == '"1"'
    assert DAY - 5 <= s.ttl <= DAY
    assert s.created_at.tzinfo is not None and s.expires_at > datetime.now(timezone.utc)


def test_create_with_everything_and_get_it_back(client):
    who = subject()
    value = {"user": 42, "cart": [1, 2], "big": 9007199254740993, "tiny": 1e-7, "text": "café\u0000"}
    s = client.create(value, permanent=True, subject=who)
    assert s.data == value and s.permanent is True and s.subject == who
    assert MONTH - 5 <= s.ttl <= MONTH
    got = client.get(s.sid)
    assert got.data == value and got.version == 1 and got.sid == s.sid


def test_get_with_touch_slides_the_expiry_without_writing(client):
    s = client.create({"a": 1})
    time.sleep(0.02)
    touched = client.get(s.sid, touch=True)
    assert touched.version == 1 and touched.expires_at > s.expires_at
    assert touched.updated_at == s.updated_at


def test_replace_states_everything_and_checks_if_match(client):
    who = subject()
    s = client.create({"a": 1, "b": 2}, permanent=True, subject=who)
    r = client.replace(s.sid, {"c": 3}, if_match=s.version)
    assert r.data == {"c": 3} and r.permanent is False and r.subject is None and r.version == 2
    with pytest.raises(PreconditionFailed) as caught:
        client.replace(s.sid, {"d": 4}, if_match=1)
    error = caught.value
    assert error.status == 412 and error.current_version == 2
    assert error.type == PROBLEMS + "precondition-failed" and error.slug == "precondition-failed"
    assert error.title == "Session version has moved on" and error.detail
    assert error.headers.get("ETag") == '"2"'
    assert error.body["current_version"] == 2
    assert client.get(s.sid).data == {"c": 3}  # nothing changed
    assert client.replace(s.sid, {"e": 5}, permanent=True, subject=who, if_match="*").version == 3
    assert client.replace(s.sid, {"f": 6}, if_match=[1, 3]).version == 4
    assert client.replace(s.sid, {"g": 7}, if_match='"4"').version == 5


def test_patch_merges_and_removes(client):
    s = client.create({"a": 1, "nested": {"x": 1, "y": 2}, "gone": True})
    p = client.patch(s.sid, data={"b": 2, "nested": {"y": None, "z": 3}, "gone": None})
    assert p.data == {"a": 1, "nested": {"x": 1, "z": 3}, "b": 2} and p.version == 2
    who = subject()
    p = client.patch(s.sid, {"permanent": True, "subject": who})
    assert p.permanent is True and p.subject == who and MONTH - 5 <= p.ttl <= MONTH
    p = client.patch(s.sid, subject=None)
    assert p.subject is None and p.permanent is True
    with pytest.raises(PreconditionFailed) as caught:
        client.patch(s.sid, data={"c": 1}, if_match=1)
    assert caught.value.current_version == 4
    with pytest.raises(TypeError):
        client.patch(s.sid, {"data": {}}, permanent=True)


def test_delete_is_idempotent_and_a_deleted_session_is_not_found(client):
    s = client.create({"a": 1})
    assert client.delete(s.sid) is None
    assert client.delete(s.sid) is None
    with pytest.raises(SessionNotFound) as caught:
        client.get(s.sid)
    error = caught.value
    assert isinstance(error, NotFound) and isinstance(error, ProblemError)
    assert error.status == 404 and error.slug == "session-not-found" and error.title and error.detail
    for call in (lambda: client.patch(s.sid, data={"a": 2}), lambda: client.touch(s.sid),
                 lambda: client.rotate(s.sid), lambda: client.replace(s.sid, {})):
        with pytest.raises(SessionNotFound):
            call()


def test_delete_with_a_stale_version_is_refused(client):
    s = client.create({"a": 1})
    client.patch(s.sid, data={"a": 2})
    with pytest.raises(PreconditionFailed):
        client.delete(s.sid, if_match=1)
    client.delete(s.sid, if_match=2)
    with pytest.raises(SessionNotFound):
        client.get(s.sid)


def test_touch(client):
    s = client.create({"a": 1})
    time.sleep(0.02)
    t = client.touch(s.sid)
    assert t.version == 1 and t.expires_at > s.expires_at and t.data == {"a": 1}
    with pytest.raises(PreconditionFailed):
        client.touch(s.sid, if_match=7)


def test_rotate_gives_a_new_sid_and_ends_the_old(client):
    s = client.create({"a": 1}, subject=subject())
    r = client.rotate(s.sid)
    assert r.sid != s.sid and r.data == {"a": 1} and r.version == 2
    assert r.created_at == s.created_at and r.subject == s.subject
    with pytest.raises(SessionNotFound):
        client.get(s.sid)
    assert client.get(r.sid).data == {"a": 1}


def test_subject_listing_and_revocation(client):
    who = "user/" + uuid.uuid4().hex + "/é"  # a slash and non-ASCII, percent-encoded in paths
    # A listing is oldest first, and sessions made in one millisecond come in handle order:
    # a moment between the creations makes the expected order the creation order.
    a = client.create({"n": 1}, subject=who)
    time.sleep(0.005)
    b = client.create({"n": 2}, subject=who, permanent=True)
    time.sleep(0.005)
    c = client.create({"n": 3}, subject=who)
    listed = client.subject_sessions(who)
    assert [x.handle for x in listed] == [handle_for(a.sid), handle_for(b.sid), handle_for(c.sid)]
    assert listed[1].permanent is True and listed[0].ttl > 0
    assert a.handle == handle_for(a.sid)
    client.revoke_handle(who, b.handle)
    client.revoke_handle(who, b.handle)  # again: still fine
    with pytest.raises(SessionNotFound):
        client.get(b.sid)
    assert client.revoke_subject(who, except_handle=c.handle) == 1
    assert [x.handle for x in client.subject_sessions(who)] == [c.handle]
    assert client.revoke_subject(who) == 1
    assert client.subject_sessions(who) == []
    assert client.revoke_subject(who) == 0


def test_bad_input_raises_the_servers_problem(client):
    with pytest.raises(BadRequest) as caught:
        client.get("not-a-sid")
    assert caught.value.status == 400 and caught.value.slug == "malformed-sid"
    with pytest.raises(BadRequest) as caught:
        client.revoke_subject(subject(), except_handle="xyz")
    assert caught.value.slug == "malformed-handle"
    with pytest.raises(UnprocessableContent) as caught:
        client.create({"a": 1}, subject="")
    assert caught.value.status == 422 and caught.value.slug == "invalid-body"
    with pytest.raises(UnprocessableContent) as caught:
        client.create({"huge": 2**64})
    assert caught.value.slug == "unsupported-value"
    # A path can never escape its segment.
    with pytest.raises(ProblemError) as caught:
        client.get("../livez")
    assert caught.value.status in (400, 404)


def test_values_without_a_json_form_are_refused_before_sending(client):
    with pytest.raises(ValueError):
        client.create({"x": float("nan")})
    with pytest.raises(TypeError):
        client.create({"x": object()})


def test_ready(client, sessiond):
    assert client.ready() is True
    assert SessiondClient(f"http://127.0.0.1:{free_port()}").ready() is False


def test_one_client_shared_by_threads(client):
    s = client.create({})
    errors = []

    def write(i):
        try:
            client.patch(s.sid, data={f"k{i}": i})
        except Exception as error:  # pragma: no cover
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = client.get(s.sid)
    assert final.data == {f"k{i}": i for i in range(30)} and final.version == 31


# MARK: - Unavailable


def test_connection_refused_is_unavailable_not_a_problem():
    c = SessiondClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(SessiondUnavailable) as caught:
        c.get(NEVER_ISSUED)
    assert not isinstance(caught.value, ProblemError)
    assert "cannot be reached" in str(caught.value)
    assert NEVER_ISSUED not in str(caught.value) and "/sessions/{sid}" in str(caught.value)  # no sid in logs


def test_a_hanging_server_times_out_as_unavailable(own_sessiond):
    server = own_sessiond()
    c = SessiondClient(server.url, timeout=0.3)
    s = c.create({"a": 1})
    server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(SessiondUnavailable) as caught:
            c.get(s.sid)
        assert time.monotonic() - started < 2
        assert "in time" in str(caught.value)
    finally:
        server.resume()
    assert c.get(s.sid).data == {"a": 1}


def test_a_keep_alive_connection_closed_by_the_server_is_replaced(own_sessiond):
    server = own_sessiond("--idle-timeout", "1s")
    c = SessiondClient(server.url)
    s = c.create({"a": 1})
    time.sleep(1.5)  # the server closes the idle connection
    assert c.get(s.sid).data == {"a": 1}
    assert c.patch(s.sid, data={"b": 2}).version == 2


def test_timeout_may_be_a_connect_read_pair(sessiond):
    c = SessiondClient(sessiond.url, timeout=(0.5, 3))
    assert c.create({"a": 1}).data == {"a": 1}


def test_urls_must_be_http():
    with pytest.raises(ValueError):
        SessiondClient("ftp://127.0.0.1:21")


# MARK: - Against a stub server


class Stub(http.server.BaseHTTPRequestHandler):
    seen = []  # (method, path, headers)
    answer = (200, "application/json", b"{}", {})

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Stub.seen.append((self.command, self.path, dict(self.headers), body))
        status, content_type, payload, extra = Stub.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Stub.seen = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


SESSION = {
    "sid": NEVER_ISSUED, "data": {"a": 1}, "permanent": False, "subject": None, "version": 3,
    "created_at": "2026-11-26T10:00:00.000Z", "updated_at": "2026-11-26T10:00:00.000Z",
    "expires_at": "2026-11-27T10:00:00.000Z", "ttl": 86400,
}


def test_the_api_key_and_the_media_types_are_sent(stub):
    Stub.answer = (200, "application/json", json.dumps(SESSION).encode(), {})
    c = SessiondClient(stub + "/prefix/", api_key="secret-key")
    c.patch(NEVER_ISSUED, data={"a": 1}, if_match=3)
    c.touch(NEVER_ISSUED)
    method, path, headers, body = Stub.seen[0]
    assert (method, path) == ("PATCH", f"/prefix/sessions/{NEVER_ISSUED}")
    assert headers["Authorization"] == "Bearer secret-key"
    assert headers["Content-Type"] == "application/merge-patch+json"
    assert headers["If-Match"] == '"3"'
    assert headers["User-Agent"].startswith("sessiond-python/")
    assert json.loads(body) == {"data": {"a": 1}}
    method, path, headers, body = Stub.seen[1]
    assert (method, path, body) == ("POST", f"/prefix/sessions/{NEVER_ISSUED}/touch", b"")
    assert headers["Content-Length"] == "0"
    assert "Content-Type" not in headers
    SessiondClient(stub).get(NEVER_ISSUED)
    assert "Authorization" not in Stub.seen[2][2]


def test_503_is_unavailable_with_retry_after(stub):
    problem = {"type": PROBLEMS + "store-unavailable", "title": "Session store unavailable", "status": 503,
               "detail": "the store did not answer"}
    Stub.answer = (503, "application/problem+json", json.dumps(problem).encode(), {"Retry-After": "3"})
    with pytest.raises(SessiondUnavailable) as caught:
        SessiondClient(stub).get(NEVER_ISSUED)
    error = caught.value
    assert isinstance(error, ServiceUnavailable) and isinstance(error, ProblemError)
    assert error.status == 503 and error.slug == "store-unavailable" and error.retry_after == 3.0
    assert error.detail == "the store did not answer"


def test_an_error_that_is_not_a_problem_still_raises_with_its_text(stub):
    Stub.answer = (500, "text/html", b"<h1>oops</h1>", {})
    with pytest.raises(ProblemError) as caught:
        SessiondClient(stub).get(NEVER_ISSUED)
    error = caught.value
    assert error.status == 500 and error.type == "about:blank" and error.slug is None
    assert error.detail == "<h1>oops</h1>" and error.title == "Internal Server Error"
    assert isinstance(error, SessiondError)


def test_a_wrong_api_key_is_unauthorized(stub):
    problem = {"type": PROBLEMS + "unauthorized", "title": "Missing or wrong API key", "status": 401,
               "detail": "send Authorization: Bearer <key>"}
    Stub.answer = (401, "application/problem+json", json.dumps(problem).encode(), {"WWW-Authenticate": "Bearer"})
    with pytest.raises(Unauthorized) as caught:
        SessiondClient(stub, api_key="wrong").create({})
    assert caught.value.status == 401 and caught.value.slug == "unauthorized"
    assert not isinstance(caught.value, SessiondUnavailable)


# MARK: - Issue #13: create under an id the app minted, a lifetime per session


def test_new_sid_is_a_random_lowercase_uuid4():
    a, b = new_sid(), new_sid()
    assert a != b
    parsed = uuid.UUID(a)
    assert str(parsed) == a and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_create_under_a_minted_sid(client):
    sid, who = new_sid(), subject()
    s = client.create({"a": 1}, sid=sid, permanent=True, subject=who)
    assert s.sid == sid and s.version == 1 and s.data == {"a": 1}
    assert s.permanent is True and s.subject == who and s.lifetime is None
    assert MONTH - 5 <= s.ttl <= MONTH
    assert client.get(sid).data == {"a": 1}
    empty = client.create(sid=new_sid())
    assert empty.data == {} and empty.permanent is False and empty.subject is None


def test_create_under_a_taken_sid_is_session_exists_and_changes_nothing(client):
    s = client.create({"a": 1}, sid=new_sid())
    with pytest.raises(SessionExists) as caught:
        client.create({"evil": True}, sid=s.sid, permanent=True)
    error = caught.value
    assert isinstance(error, PreconditionFailed) and error.status == 412 and error.slug == "session-exists"
    again = client.get(s.sid)
    assert again.data == {"a": 1} and again.version == 1 and again.permanent is False
    # A sid the service issued is taken too.
    issued = client.create({"b": 2})
    with pytest.raises(SessionExists):
        client.create(sid=issued.sid)


def test_create_refuses_a_sid_that_is_not_a_uuid4(client):
    for sid in (str(uuid.uuid1()), new_sid().upper(), "not-a-sid", new_sid().replace("-", "")):
        with pytest.raises(BadRequest) as caught:
            client.create({"a": 1}, sid=sid)
        assert caught.value.slug == "malformed-sid", sid


def test_replace_without_if_none_match_never_creates(client):
    sid = new_sid()
    with pytest.raises(SessionNotFound):
        client.replace(sid, {"a": 1})
    with pytest.raises(SessionNotFound):
        client.replace(sid, {"a": 1}, if_match="*")
    with pytest.raises(SessionNotFound):
        client.get(sid)


def test_a_lifetime_of_its_own(client):
    s = client.create({"a": 1}, lifetime=60)
    assert s.lifetime == 60 and 55 <= s.ttl <= 60
    assert client.get(s.sid).lifetime == 60
    # A patch that does not name it keeps it; a rotation keeps it.
    p = client.patch(s.sid, data={"b": 2})
    assert p.lifetime == 60 and p.ttl <= 60
    r = client.rotate(s.sid)
    assert r.lifetime == 60 and r.ttl <= 60
    # Set, then cleared: the permanence decides again.
    p = client.patch(r.sid, lifetime=120)
    assert p.lifetime == 120 and 60 < p.ttl <= 120
    p = client.patch(r.sid, lifetime=None)
    assert p.lifetime is None and DAY - 5 <= p.ttl <= DAY
    p = client.patch(r.sid, {"lifetime": 90, "permanent": True})
    assert p.lifetime == 90 and p.ttl <= 90 and p.permanent is True
    # PUT states the whole state: left out, the lifetime is reset.
    assert client.replace(r.sid, {"c": 3}).lifetime is None
    put = client.replace(r.sid, {"c": 3}, lifetime=30, if_match="*")
    assert put.lifetime == 30 and put.ttl <= 30
    minted = client.create(sid=new_sid(), lifetime=45)
    assert minted.lifetime == 45 and minted.ttl <= 45


def test_a_lifetime_is_checked(client):
    with pytest.raises(UnprocessableContent) as caught:
        client.create({"a": 1}, lifetime=MONTH + 1)  # above --max-lifetime (the permanent lifetime)
    assert caught.value.slug == "lifetime-too-long"
    for bad in (0, -5):
        with pytest.raises(UnprocessableContent) as caught:
            client.create({"a": 1}, lifetime=bad)
        assert caught.value.slug == "invalid-body"
    s = client.create({"a": 1})
    with pytest.raises(UnprocessableContent):
        client.patch(s.sid, lifetime=MONTH + 1)
    assert client.get(s.sid).version == 1
    # Not whole seconds: refused before anything is sent.
    for wrong in ("60", 1.5, True):
        with pytest.raises(TypeError):
            client.create({"a": 1}, lifetime=wrong)
        with pytest.raises(TypeError):
            client.patch(s.sid, lifetime=wrong)
    assert client.get(s.sid).version == 1


def test_create_with_a_sid_sends_put_with_if_none_match(stub):
    Stub.answer = (201, "application/json", json.dumps(dict(SESSION, lifetime=300)).encode(), {})
    c = SessiondClient(stub)
    s = c.create({"a": 1}, sid=NEVER_ISSUED, lifetime=300)
    assert s.lifetime == 300
    method, path, headers, body = Stub.seen[0]
    assert (method, path) == ("PUT", f"/sessions/{NEVER_ISSUED}")
    assert headers["If-None-Match"] == "*" and "If-Match" not in headers
    assert json.loads(body) == {"data": {"a": 1}, "permanent": False, "lifetime": 300}
    c.create({"a": 1})
    method, path, headers, body = Stub.seen[1]
    assert (method, path) == ("POST", "/sessions") and "If-None-Match" not in headers
    assert json.loads(body) == {"data": {"a": 1}, "permanent": False}
    c.patch(NEVER_ISSUED, lifetime=None)
    assert json.loads(Stub.seen[2][3]) == {"lifetime": None}
    c.patch(NEVER_ISSUED, data={"a": 2})
    assert json.loads(Stub.seen[3][3]) == {"data": {"a": 2}}  # UNSET: the lifetime is kept
    c.replace(NEVER_ISSUED, {"a": 1}, lifetime=10)
    assert json.loads(Stub.seen[4][3]) == {"data": {"a": 1}, "permanent": False, "subject": None, "lifetime": 10}


def test_session_exists_from_a_412_problem(stub):
    problem = {"type": PROBLEMS + "session-exists", "title": "Session exists", "status": 412}
    Stub.answer = (412, "application/problem+json", json.dumps(problem).encode(), {})
    with pytest.raises(SessionExists):
        SessiondClient(stub).create(sid=NEVER_ISSUED)
    problem = {"type": PROBLEMS + "precondition-failed", "status": 412, "current_version": 2}
    Stub.answer = (412, "application/problem+json", json.dumps(problem).encode(), {})
    with pytest.raises(PreconditionFailed) as caught:
        SessiondClient(stub).replace(NEVER_ISSUED, {}, if_match=1)
    assert not isinstance(caught.value, SessionExists)


# MARK: - No socket left to the garbage collector


def _resource_warnings(action) -> list:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        action()
        gc.collect()
    return [w for w in seen if issubclass(w.category, ResourceWarning)]


def test_a_dropped_client_closes_its_connections(sessiond):
    def use_and_drop():
        c = SessiondClient(sessiond.url)
        s = c.create({"a": 1})
        c.get(s.sid)  # a keep-alive connection is now idle in the pool
        del c, s

    assert _resource_warnings(use_and_drop) == []

    # The check sees a dropped open connection (so the assertion above can fail).
    def drop_a_raw_connection():
        conn = http.client.HTTPConnection("127.0.0.1", sessiond.port)
        conn.request("GET", "/livez")
        conn.getresponse().read()
        del conn

    assert _resource_warnings(drop_a_raw_connection) != []


def test_a_client_is_usable_after_close_and_finalizes_once(sessiond):
    c = SessiondClient(sessiond.url)
    s = c.create({"a": 1})
    c.close()
    assert c.get(s.sid).data == {"a": 1}
    with c:
        c.get(s.sid)
    assert c.get(s.sid).version == 1


def test_an_app_factory_dropping_interfaces_leaks_no_socket(sessiond, tmp_path):
    # In a process of its own with ResourceWarning as an error: a warning in a finalizer is
    # printed as "Exception ignored", so stderr is what tells.
    script = tmp_path / "factory.py"
    script.write_text(f"""
import gc
from flask import Flask, session
from sessiond_client import SessiondClient
from sessiond_client.flask import SessiondSessionInterface

def create_app():
    app = Flask(__name__)
    app.session_interface = SessiondSessionInterface({sessiond.url!r})
    @app.get("/")
    def index():
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])
    return app

for _ in range(5):
    app = create_app()
    with app.test_client() as browser:
        assert browser.get("/").data == b"1"
        assert browser.get("/").data == b"2"
    del app, browser
    gc.collect()
c = SessiondClient({sessiond.url!r})
c.create({{}})
print("ok")
""")
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", str(script)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "ResourceWarning" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


# MARK: - Rotation: the grace window, and a rotate whose outcome was lost


def test_rotate_to_a_proposed_sid_is_idempotent(client):
    s = client.create({"a": 1})
    proposed = new_sid()
    r = client.rotate(s.sid, new_sid=proposed)
    assert r.sid == proposed and r.version == 2
    # The same rotate again (what a client does after a 503): the completed rotation, unchanged.
    again = client.rotate(s.sid, new_sid=proposed)
    assert again.sid == proposed and again.version == 2 and again.data == {"a": 1}
    with pytest.raises(SessionNotFound):
        client.rotate(s.sid, new_sid=new_sid())


def test_rotate_retries_once_with_the_same_sid_when_sessiond_cannot_be_used(client, monkeypatch):
    s = client.create({"a": 1})
    sent: list[Any] = []
    real = client._request

    def flaky(method: str, path: str, **kwargs: Any) -> Any:
        sent.append(kwargs.get("body"))
        if len(sent) == 1:
            real(method, path, **kwargs)  # done, but its answer is lost
            raise SessiondUnavailable("injected")
        return real(method, path, **kwargs)

    monkeypatch.setattr(client, "_request", flaky)
    r = client.rotate(s.sid)
    assert len(sent) == 2 and sent[0] == sent[1] == {"sid": r.sid}
    assert r.version == 2 and r.data == {"a": 1}


def test_the_old_sid_reads_the_state_of_the_rotation_in_the_grace_window(grace_sessiond):
    with SessiondClient(grace_sessiond.url) as c:
        s = c.create({"cart": [1]})
        r = c.rotate(s.sid)
        c.patch(r.sid, data={"user": 42})
        old = c.get(s.sid, touch=True)
        assert old.rotated and old.sid == s.sid and old.data == {"cart": [1]} and old.version == 1
        assert not c.get(r.sid).rotated
        with pytest.raises(SessionRotated) as raised:
            c.patch(s.sid, data={"x": 1})
        assert raised.value.status == 409 and raised.value.slug == "rotated"
        with pytest.raises(SessionRotated):
            c.delete(s.sid)
        c.delete(r.sid)  # ends the window
        with pytest.raises(SessionNotFound):
            c.get(s.sid)
        short = c.create({})
        c.rotate(short.sid, grace="0s")
        with pytest.raises(SessionNotFound):
            c.get(short.sid)


# MARK: - Devices and per-subject limits


def test_devices_are_kept_apart_and_listed_with_last_seen(client):
    who = "user-" + uuid.uuid4().hex
    s = client.create({"a": 1}, subject=who, device={"ua": "Firefox", "name": "laptop"})
    assert s.device == {"ua": "Firefox", "name": "laptop"} and s.data == {"a": 1}
    assert s.last_seen_at == s.created_at
    t = client.touch(s.sid)
    assert t.last_seen_at is not None and t.last_seen_at >= s.last_seen_at and t.updated_at == s.updated_at
    [listed] = client.subject_sessions(who)
    assert listed.device == {"ua": "Firefox", "name": "laptop"} and listed.last_seen_at == t.last_seen_at
    with pytest.raises(UnprocessableContent) as raised:
        client.create({}, device={"ua": "x" * 300})
    assert raised.value.slug == "device-too-large"


def test_a_subject_at_its_limit_evicts_the_least_recently_seen_or_refuses(limited_sessiond):
    who = "user-" + uuid.uuid4().hex
    with SessiondClient(limited_sessiond.url) as c:
        first = c.create({}, subject=who)
        time.sleep(0.01)
        second = c.create({}, subject=who)
        with pytest.raises(TooManySessions) as raised:
            c.create({}, subject=who, on_limit="refuse")
        assert raised.value.status == 409
        third = c.create({}, subject=who, on_limit="evict_oldest")
        with pytest.raises(SessionNotFound):
            c.get(first.sid)
        assert {x.handle for x in c.subject_sessions(who)} == {handle_for(second.sid), handle_for(third.sid)}
