"""AsyncSessiondClient against the real sessiond binary: every method, the problem exceptions
(404, 412 with current_version, SessionExists, 401 from a server run with API keys), and a
server that refuses, hangs or was stopped. Answers the real server cannot be made to give here
(503 with Retry-After, a proxy's non-JSON error) come from a small stub server."""

from __future__ import annotations

import asyncio
import http.server
import json
import secrets
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import pytest

from sessiond_client import (
    BadRequest,
    PreconditionFailed,
    ProblemError,
    ServiceUnavailable,
    SessiondError,
    SessiondUnavailable,
    SessionExists,
    SessionNotFound,
    SessionSummary,
    Unauthorized,
    UnprocessableContent,
    handle_for,
    new_sid,
)
from sessiond_client.aio import AsyncSessiondClient

from conftest import DAY, MONTH, free_port

pytestmark = pytest.mark.anyio

PROBLEMS = "https://sessiond.dev/problems/"
NEVER_ISSUED = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def client(sessiond):
    async with AsyncSessiondClient(sessiond.url, api_key="k") as c:
        yield c


def subject() -> str:
    return "user-" + uuid.uuid4().hex


def test_importing_aio_without_httpx_says_which_extra_to_install():
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "import sessiond_client\n"
        "try:\n"
        "    import sessiond_client.aio\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "else:\n"
        "    raise SystemExit('imported')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 'pip install "sessiond[async]"' in result.stdout


def test_the_package_does_not_import_httpx():
    code = "import sys, sessiond_client; assert 'httpx' not in sys.modules, 'httpx was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# MARK: - Every call


async def test_create_with_defaults(client):
    s = await client.create()
    assert len(s.sid) == 36 and s.data == {} and s.permanent is False and s.subject is None
    assert s.version == 1 and s.etag == '"1"' and s.lifetime is None
    assert DAY - 5 <= s.ttl <= DAY
    assert s.created_at.tzinfo is not None and s.expires_at > datetime.now(timezone.utc)


async def test_create_with_everything_and_get_it_back(client):
    who = subject()
    value = {"user": 42, "cart": [1, 2], "big": 9007199254740993, "tiny": 1e-7, "text": "café\u0000"}
    s = await client.create(value, permanent=True, subject=who)
    assert s.data == value and s.permanent is True and s.subject == who
    assert MONTH - 5 <= s.ttl <= MONTH
    got = await client.get(s.sid)
    assert got.data == value and got.version == 1 and got.sid == s.sid and got.subject == who


async def test_get_with_touch_slides_the_expiry_without_writing(client):
    s = await client.create({"a": 1})
    await asyncio.sleep(0.02)
    touched = await client.get(s.sid, touch=True)
    assert touched.version == 1 and touched.expires_at > s.expires_at
    assert touched.updated_at == s.updated_at


async def test_replace_states_everything_and_checks_if_match(client):
    who = subject()
    s = await client.create({"a": 1, "b": 2}, permanent=True, subject=who)
    r = await client.replace(s.sid, {"c": 3}, if_match=s.version)
    assert r.data == {"c": 3} and r.version == 2 and r.permanent is False and r.subject is None
    with pytest.raises(PreconditionFailed) as caught:
        await client.replace(s.sid, {"d": 4}, if_match=1)
    error = caught.value
    assert error.status == 412 and error.slug == "precondition-failed" and error.current_version == 2
    assert not isinstance(error, SessionExists)
    assert (await client.get(s.sid)).data == {"c": 3}
    assert (await client.replace(s.sid, {"e": 5}, permanent=True, subject=who, if_match="*")).version == 3
    assert (await client.replace(s.sid, {"f": 6}, if_match=[1, 3])).version == 4
    assert (await client.replace(s.sid, {"g": 7}, if_match='"4"')).data == {"g": 7}


async def test_patch_merges_and_removes(client):
    s = await client.create({"cart": [1], "flash": "hi", "prefs": {"theme": "light", "lang": "en"}})
    p = await client.patch(s.sid, data={"flash": None, "prefs": {"theme": "dark"}, "n": 1})
    assert p.data == {"cart": [1], "prefs": {"theme": "dark", "lang": "en"}, "n": 1} and p.version == 2
    who = subject()
    p = await client.patch(s.sid, {"permanent": True, "subject": who})
    assert p.permanent is True and p.subject == who and p.data["n"] == 1
    p = await client.patch(s.sid, subject=None, if_match=3)
    assert p.subject is None and p.version == 4
    with pytest.raises(PreconditionFailed) as caught:
        await client.patch(s.sid, data={"x": 1}, if_match=1)
    assert caught.value.current_version == 4
    with pytest.raises(TypeError):
        await client.patch(s.sid, {"data": {}}, data={"x": 1})


async def test_delete_is_idempotent_and_a_deleted_session_is_not_found(client):
    s = await client.create({"a": 1})
    assert await client.delete(s.sid) is None
    await client.delete(s.sid)
    with pytest.raises(SessionNotFound) as caught:
        await client.get(s.sid)
    error = caught.value
    assert error.status == 404 and error.slug == "session-not-found" and error.title
    assert s.sid not in str(error) and "/sessions/{sid}" in str(error)  # no sid in messages
    for call in (client.touch(s.sid), client.rotate(s.sid), client.patch(s.sid, data={"b": 1}),
                 client.replace(s.sid, {"b": 1})):
        with pytest.raises(SessionNotFound):
            await call


async def test_delete_with_a_stale_version_is_refused(client):
    s = await client.create({"a": 1})
    await client.patch(s.sid, data={"b": 2})
    with pytest.raises(PreconditionFailed) as caught:
        await client.delete(s.sid, if_match=1)
    assert caught.value.current_version == 2
    await client.delete(s.sid, if_match=2)
    with pytest.raises(SessionNotFound):
        await client.get(s.sid)


async def test_touch(client):
    s = await client.create({"a": 1})
    await asyncio.sleep(0.02)
    t = await client.touch(s.sid)
    assert t.version == 1 and t.expires_at > s.expires_at and t.data == {"a": 1}
    with pytest.raises(PreconditionFailed):
        await client.touch(s.sid, if_match=5)


async def test_rotate_gives_a_new_sid_and_ends_the_old(client):
    s = await client.create({"a": 1})
    r = await client.rotate(s.sid)
    assert r.sid != s.sid and r.data == {"a": 1} and r.version == 2
    with pytest.raises(SessionNotFound):
        await client.get(s.sid)
    assert (await client.get(r.sid)).data == {"a": 1}


async def test_subject_listing_and_revocation(client):
    who = subject()
    a = await client.create({"d": 1}, subject=who)
    await asyncio.sleep(0.005)  # listed oldest first; ties in handle order
    b = await client.create({"d": 2}, subject=who, permanent=True)
    await asyncio.sleep(0.005)
    c = await client.create({"d": 3}, subject=who)
    listing = await client.subject_sessions(who)
    assert all(isinstance(entry, SessionSummary) for entry in listing)
    assert [entry.handle for entry in listing] == [a.handle, b.handle, c.handle]
    assert listing[1].permanent is True and listing[0].ttl > 0 and listing[0].created_at is not None
    assert a.handle == handle_for(a.sid)
    await client.revoke_handle(who, b.handle)
    await client.revoke_handle(who, b.handle)  # gone already: fine
    assert [entry.handle for entry in await client.subject_sessions(who)] == [a.handle, c.handle]
    assert await client.revoke_subject(who, except_handle=c.handle) == 1
    assert (await client.get(c.sid)).data == {"d": 3}
    with pytest.raises(SessionNotFound):
        await client.get(a.sid)
    assert await client.revoke_subject(who) == 1
    assert await client.subject_sessions(who) == []
    # Subjects are path segments of their own, whatever they hold.
    odd = "user/42?x=1 é"
    await client.create({"o": 1}, subject=odd)
    assert len(await client.subject_sessions(odd)) == 1
    assert await client.revoke_subject(odd) == 1


async def test_bad_input_raises_the_servers_problem(client):
    with pytest.raises(BadRequest) as caught:
        await client.get("not-a-sid")
    assert caught.value.status == 400 and caught.value.slug == "malformed-sid"
    with pytest.raises(BadRequest) as caught:
        await client.revoke_subject(subject(), except_handle="xyz")
    assert caught.value.slug == "malformed-handle"
    with pytest.raises(UnprocessableContent) as caught:
        await client.create({"a": 1}, subject="")
    assert caught.value.status == 422 and caught.value.slug == "invalid-body"
    with pytest.raises(UnprocessableContent) as caught:
        await client.create({"huge": 2**64})
    assert caught.value.slug == "unsupported-value"
    with pytest.raises(ProblemError) as caught:
        await client.get("../livez")  # a path can never escape its segment
    assert caught.value.status in (400, 404)


async def test_values_without_a_json_form_are_refused_before_sending(client):
    with pytest.raises(ValueError):
        await client.create({"x": float("nan")})
    with pytest.raises(TypeError):
        await client.create({"x": object()})


async def test_ready(client):
    assert await client.ready() is True
    async with AsyncSessiondClient(f"http://127.0.0.1:{free_port()}") as nowhere:
        assert await nowhere.ready() is False


async def test_one_client_shared_by_concurrent_tasks(client):
    s = await client.create({})
    await asyncio.gather(*(client.patch(s.sid, data={f"k{i}": i}) for i in range(30)))
    final = await client.get(s.sid)
    assert final.data == {f"k{i}": i for i in range(30)} and final.version == 31


# MARK: - Issue #13: create under a minted sid, a lifetime per session


async def test_create_under_a_minted_sid(client):
    sid, who = new_sid(), subject()
    s = await client.create({"a": 1}, sid=sid, permanent=True, subject=who)
    assert s.sid == sid and s.version == 1 and s.data == {"a": 1}
    assert s.permanent is True and s.subject == who and s.lifetime is None
    assert (await client.get(sid)).data == {"a": 1}
    empty = await client.create(sid=new_sid())
    assert empty.data == {} and empty.permanent is False and empty.subject is None


async def test_create_under_a_taken_sid_is_session_exists_and_changes_nothing(client):
    s = await client.create({"a": 1}, sid=new_sid())
    with pytest.raises(SessionExists) as caught:
        await client.create({"evil": True}, sid=s.sid, permanent=True)
    error = caught.value
    assert isinstance(error, PreconditionFailed) and error.status == 412 and error.slug == "session-exists"
    again = await client.get(s.sid)
    assert again.data == {"a": 1} and again.version == 1 and again.permanent is False
    issued = await client.create({"b": 2})
    with pytest.raises(SessionExists):
        await client.create(sid=issued.sid)


async def test_create_refuses_a_sid_that_is_not_a_uuid4(client):
    for sid in (str(uuid.uuid1()), new_sid().upper(), "not-a-sid"):
        with pytest.raises(BadRequest) as caught:
            await client.create({"a": 1}, sid=sid)
        assert caught.value.slug == "malformed-sid", sid
    with pytest.raises(TypeError):
        await client.create(sid=uuid.uuid4())  # type: ignore[arg-type]


async def test_replace_never_creates(client):
    sid = new_sid()
    with pytest.raises(SessionNotFound):
        await client.replace(sid, {"a": 1}, if_match="*")
    with pytest.raises(SessionNotFound):
        await client.get(sid)


async def test_a_lifetime_of_its_own(client):
    s = await client.create({"a": 1}, lifetime=60)
    assert s.lifetime == 60 and 55 <= s.ttl <= 60
    p = await client.patch(s.sid, data={"b": 2})  # not named: kept
    assert p.lifetime == 60
    r = await client.rotate(s.sid)
    assert r.lifetime == 60
    p = await client.patch(r.sid, lifetime=120)
    assert p.lifetime == 120 and 60 < p.ttl <= 120
    p = await client.patch(r.sid, lifetime=None)
    assert p.lifetime is None and DAY - 5 <= p.ttl <= DAY
    assert (await client.replace(r.sid, {"c": 3}, lifetime=30)).lifetime == 30
    assert (await client.replace(r.sid, {"c": 3})).lifetime is None  # PUT states the whole state
    minted = await client.create(sid=new_sid(), lifetime=45)
    assert minted.lifetime == 45 and minted.ttl <= 45
    with pytest.raises(UnprocessableContent) as caught:
        await client.create({"a": 1}, lifetime=MONTH + 1)
    assert caught.value.slug == "lifetime-too-long"
    for wrong in ("60", 1.5, True):
        with pytest.raises(TypeError):
            await client.create({"a": 1}, lifetime=wrong)
        with pytest.raises(TypeError):
            await client.patch(r.sid, lifetime=wrong)


# MARK: - API keys


async def test_a_server_with_api_keys(own_sessiond, tmp_path):
    key = secrets.token_hex(32)
    path = tmp_path / "api-keys.txt"
    path.write_text(f"shop:{key}\n")
    server = own_sessiond("--api-keys-file", str(path))
    async with AsyncSessiondClient(server.url, api_key=key) as shop:
        s = await shop.create({"cart": [1]})
        assert (await shop.get(s.sid)).data == {"cart": [1]}
    for wrong in (None, "wrong-" + key):
        async with AsyncSessiondClient(server.url, api_key=wrong) as other:
            with pytest.raises(Unauthorized) as caught:
                await other.get(s.sid)
            error = caught.value
            assert error.status == 401 and error.slug == "unauthorized"
            assert not isinstance(error, SessiondUnavailable)
            assert error.headers.get("www-authenticate", "").startswith("Bearer")


# MARK: - Unavailable


async def test_connection_refused_is_unavailable_not_a_problem():
    async with AsyncSessiondClient(f"http://127.0.0.1:{free_port()}", timeout=1) as c:
        with pytest.raises(SessiondUnavailable) as caught:
            await c.get(NEVER_ISSUED)
    assert not isinstance(caught.value, ProblemError)
    assert "cannot be reached" in str(caught.value)
    assert NEVER_ISSUED not in str(caught.value) and "/sessions/{sid}" in str(caught.value)


async def test_a_stopped_server_is_unavailable(own_sessiond):
    server = own_sessiond()
    async with AsyncSessiondClient(server.url) as c:
        s = await c.create({"a": 1})  # a keep-alive connection is now pooled
        server.stop()
        for call in (c.get(s.sid), c.patch(s.sid, data={"b": 1}), c.create()):
            with pytest.raises(SessiondUnavailable):
                await call
        assert await c.ready() is False


async def test_a_hanging_server_times_out_as_unavailable(own_sessiond):
    server = own_sessiond()
    async with AsyncSessiondClient(server.url, timeout=0.3) as c:
        s = await c.create({"a": 1})
        server.pause()
        try:
            started = time.monotonic()
            with pytest.raises(SessiondUnavailable) as caught:
                await c.get(s.sid)
            assert time.monotonic() - started < 2
            assert "in time" in str(caught.value) and not isinstance(caught.value, ProblemError)
        finally:
            server.resume()
        assert (await c.get(s.sid)).data == {"a": 1}


async def test_a_keep_alive_connection_closed_by_the_server_is_replaced(own_sessiond):
    server = own_sessiond("--idle-timeout", "1s")
    async with AsyncSessiondClient(server.url) as c:
        s = await c.create({"a": 1})
        await asyncio.sleep(1.5)  # the server closes the idle connection
        assert (await c.get(s.sid)).data == {"a": 1}
        assert (await c.patch(s.sid, data={"b": 2})).version == 2


async def test_timeout_may_be_a_connect_read_pair(sessiond):
    async with AsyncSessiondClient(sessiond.url, timeout=(0.5, 3)) as c:
        assert (await c.create({"a": 1})).data == {"a": 1}


def test_urls_must_be_http():
    with pytest.raises(ValueError):
        AsyncSessiondClient("ftp://127.0.0.1:21")


# MARK: - Life cycle


async def test_usable_after_aclose(sessiond):
    c = AsyncSessiondClient(sessiond.url)
    s = await c.create({"a": 1})
    await c.aclose()
    assert (await c.get(s.sid)).data == {"a": 1}
    await c.aclose()
    await c.aclose()


def test_one_client_in_several_event_loops(sessiond):
    """A client made once (at import, say) serves every loop it is awaited in, one after the
    other (Starlette's TestClient starts a loop per request) and at once, in threads."""
    c = AsyncSessiondClient(sessiond.url)

    async def use(value: int) -> None:
        s = await c.create({"v": value})
        assert (await c.get(s.sid)).data == {"v": value}

    asyncio.run(use(1))
    asyncio.run(use(2))  # the first loop is closed: its pooled connection must not be used
    errors = []

    def in_thread(value: int) -> None:
        try:
            asyncio.run(use(value))
        except Exception as error:  # pragma: no cover
            errors.append(error)

    threads = [threading.Thread(target=in_thread, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    asyncio.run(c.aclose())


# MARK: - Against a stub server


class Stub(http.server.BaseHTTPRequestHandler):
    seen: list = []
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
    "sid": NEVER_ISSUED, "data": {"a": 1}, "permanent": False, "subject": None, "lifetime": None,
    "version": 3, "created_at": "2026-11-26T10:00:00.000Z", "updated_at": "2026-11-26T10:00:00.000Z",
    "expires_at": "2026-11-27T10:00:00.000Z", "ttl": 86400,
}


async def test_the_api_key_and_the_media_types_are_sent(stub):
    Stub.answer = (200, "application/json", json.dumps(SESSION).encode(), {})
    async with AsyncSessiondClient(stub + "/prefix/", api_key="secret-key") as c:
        await c.patch(NEVER_ISSUED, data={"a": 1}, if_match=3)
        await c.touch(NEVER_ISSUED)
        await c.create({"a": 1}, sid=NEVER_ISSUED, lifetime=300)
        await c.patch(NEVER_ISSUED, lifetime=None)
        await c.replace(NEVER_ISSUED, {"a": 1}, lifetime=10)
    method, path, headers, body = Stub.seen[0]
    assert (method, path) == ("PATCH", f"/prefix/sessions/{NEVER_ISSUED}")
    assert headers["Authorization"] == "Bearer secret-key"
    assert headers["Content-Type"] == "application/merge-patch+json"
    assert headers["If-Match"] == '"3"'
    assert headers["User-Agent"].startswith("sessiond-python/")
    assert json.loads(body) == {"data": {"a": 1}}
    method, path, headers, body = Stub.seen[1]
    assert (method, path, body) == ("POST", f"/prefix/sessions/{NEVER_ISSUED}/touch", b"")
    assert headers["Content-Length"] == "0" and "Content-Type" not in headers
    method, path, headers, body = Stub.seen[2]
    assert (method, path) == ("PUT", f"/prefix/sessions/{NEVER_ISSUED}")
    assert headers["If-None-Match"] == "*" and "If-Match" not in headers
    assert json.loads(body) == {"data": {"a": 1}, "permanent": False, "lifetime": 300}
    assert json.loads(Stub.seen[3][3]) == {"lifetime": None}
    assert json.loads(Stub.seen[4][3]) == {"data": {"a": 1}, "permanent": False, "subject": None, "lifetime": 10}
    async with AsyncSessiondClient(stub) as anonymous:
        await anonymous.get(NEVER_ISSUED)
    assert "Authorization" not in Stub.seen[5][2]


async def test_503_is_unavailable_with_retry_after(stub):
    problem = {"type": PROBLEMS + "store-unavailable", "title": "Session store unavailable", "status": 503,
               "detail": "the store did not answer"}
    Stub.answer = (503, "application/problem+json", json.dumps(problem).encode(), {"Retry-After": "3"})
    async with AsyncSessiondClient(stub) as c:
        with pytest.raises(SessiondUnavailable) as caught:
            await c.get(NEVER_ISSUED)
    error = caught.value
    assert isinstance(error, ServiceUnavailable) and isinstance(error, ProblemError)
    assert error.status == 503 and error.slug == "store-unavailable" and error.retry_after == 3.0
    assert error.detail == "the store did not answer"


async def test_an_error_that_is_not_a_problem_still_raises_with_its_text(stub):
    Stub.answer = (500, "text/html", b"<h1>oops</h1>", {})
    async with AsyncSessiondClient(stub) as c:
        with pytest.raises(ProblemError) as caught:
            await c.get(NEVER_ISSUED)
    error = caught.value
    assert error.status == 500 and error.type == "about:blank" and error.slug is None
    assert error.detail == "<h1>oops</h1>" and error.title == "Internal Server Error"
    assert isinstance(error, SessiondError)


async def test_a_success_that_is_not_json_is_an_error(stub):
    Stub.answer = (200, "text/plain", b"hello", {})
    async with AsyncSessiondClient(stub) as c:
        with pytest.raises(SessiondError) as caught:
            await c.get(NEVER_ISSUED)
    assert "not JSON" in str(caught.value) and not isinstance(caught.value, ProblemError)
