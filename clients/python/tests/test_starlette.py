"""SessiondSessionMiddleware in a real Starlette app and a real FastAPI app, driven through their
TestClient, against the real sessiond binary: values across requests, no store call and no
cookie for requests that leave the session alone, rotation at login (the old sid is gone),
logout and logout everywhere, two racing requests that both keep their key, the cookie's
attributes, a session deleted behind the app's back, None values, fail closed and open."""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from sessiond_client import SessiondClient, SessiondUnavailable, SessionNotFound, handle_for
from sessiond_client.aio import AsyncSessiondClient
from sessiond_client.starlette import (
    SessiondSession,
    SessiondSessionMiddleware,
    load_session,
    logout_everywhere,
    rotate_session,
    sessiond_session,
)

from conftest import DAY, free_port

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient will move from httpx to httpx2.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SID_LENGTH = 36


class CountingClient(AsyncSessiondClient):
    """An AsyncSessiondClient that records every call it sends (method and route)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append(f"{method} {path.split('/')[1] if path.count('/') else path}")
        return await super()._request(method, path, **kwargs)


# MARK: - The apps


async def show(request: Request) -> Response:
    return JSONResponse(dict(request.session))


async def untouched(request: Request) -> Response:
    return PlainTextResponse("no session here")


async def set_values(request: Request) -> Response:
    values = await request.json()
    request.session.update(values)
    return JSONResponse(dict(request.session))


async def remove(request: Request) -> Response:
    for key in await request.json():
        request.session.pop(key, None)
    return JSONResponse(dict(request.session))


async def append(request: Request) -> Response:
    request.session.setdefault("cart", [])
    request.session["cart"].append((await request.json())["item"])  # a change in place
    return JSONResponse(dict(request.session))


async def slow_set(request: Request) -> Response:
    """Reads the session, waits (another request of the same user runs meanwhile), then sets."""
    values = await request.json()
    await asyncio.sleep(values.pop("_wait", 0.3))
    request.session.update(values)
    return JSONResponse(dict(request.session))


async def deleted_meanwhile(request: Request) -> Response:
    """Logged out by another request while this one runs, then changes the session."""
    session = sessiond_session(request)
    assert session.sid is not None
    await session._client.delete(session.sid)
    request.session["late"] = True
    return PlainTextResponse("written after a logout")


async def login(request: Request) -> Response:
    form = await request.json()
    request.session["user_id"] = form["user"]
    sessiond_session(request).subject = form["user"]
    await rotate_session(request)
    return JSONResponse({"sid": sessiond_session(request).sid})


async def logout(request: Request) -> Response:
    request.session.clear()
    return PlainTextResponse("bye")


async def logout_all(request: Request) -> Response:
    keep = bool((await request.json()).get("keep_current"))
    revoked = await logout_everywhere(request, keep_current=keep)
    return JSONResponse({"revoked": revoked})


async def starsessions_style(request: Request) -> Response:
    await load_session(request)  # a view written for starsessions runs unchanged
    return JSONResponse(dict(request.session))


async def not_json(request: Request) -> Response:
    request.session["when"] = object()
    return PlainTextResponse("never")


async def ws_show(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(dict(websocket.session))
    websocket.session["ws"] = "not saved"
    await websocket.close()


ROUTES = [
    Route("/", show),
    Route("/untouched", untouched),
    Route("/set", set_values, methods=["POST"]),
    Route("/remove", remove, methods=["POST"]),
    Route("/append", append, methods=["POST"]),
    Route("/slow-set", slow_set, methods=["POST"]),
    Route("/deleted-meanwhile", deleted_meanwhile, methods=["POST"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/logout-everywhere", logout_all, methods=["POST"]),
    Route("/starsessions", starsessions_style),
    Route("/not-json", not_json, methods=["POST"]),
    WebSocketRoute("/ws", ws_show),
]


def starlette_app(url: str, **options: Any) -> Starlette:
    return Starlette(routes=ROUTES, middleware=[Middleware(SessiondSessionMiddleware, url=url, **options)])


@pytest.fixture
def store(sessiond):
    with SessiondClient(sessiond.url) as c:
        yield c


@pytest.fixture
def counting(sessiond):
    return CountingClient(sessiond.url)


@pytest.fixture
def app(counting):
    return starlette_app("unused", client=counting)


@pytest.fixture
def browser(app):
    with TestClient(app) as c:
        yield c


def plant(browser: TestClient, value: str) -> None:
    """The cookie as the browser would send it back (TestClient's host is testserver.local)."""
    browser.cookies.clear()
    browser.cookies.set("session", value, domain="testserver.local")


def set_cookies(response: Any) -> list[str]:
    return response.headers.get_list("set-cookie")


# MARK: - Values across requests


def test_values_are_kept_in_sessiond_as_plain_json(browser, store):
    r = browser.post("/set", json={"user": 42, "cart": [1, 2], "prefs": {"theme": "dark"}})
    assert r.status_code == 200
    sid = browser.cookies.get("session")
    assert sid is not None and len(sid) == SID_LENGTH
    stored = store.get(sid)
    assert stored.data == {"user": 42, "cart": [1, 2], "prefs": {"theme": "dark"}}
    assert stored.lifetime == 14 * DAY  # max_age, Starlette's default, is the session's lifetime
    assert browser.get("/").json() == {"user": 42, "cart": [1, 2], "prefs": {"theme": "dark"}}
    browser.post("/remove", json=["cart"])
    browser.post("/set", json={"prefs": {"lang": "en", "theme": "dark"}})
    assert store.get(sid).data == {"user": 42, "prefs": {"theme": "dark", "lang": "en"}}
    assert browser.cookies.get("session") == sid


def test_a_change_in_place_is_saved(browser, store):
    browser.post("/append", json={"item": 1})
    browser.post("/append", json={"item": 2})
    assert store.get(browser.cookies.get("session")).data == {"cart": [1, 2]}


def test_only_what_changed_is_sent_as_a_merge_patch(browser, counting, store):
    browser.post("/set", json={"a": 1, "b": {"x": 1, "y": 2}})
    counting.calls.clear()
    browser.post("/set", json={"b": {"x": 1, "y": 3}})
    assert counting.calls == ["GET sessions", "PATCH sessions"]
    assert store.get(browser.cookies.get("session")).data == {"a": 1, "b": {"x": 1, "y": 3}}


def test_none_is_stored_with_a_conditional_put(browser, store):
    browser.post("/set", json={"a": 1})
    sid = browser.cookies.get("session")
    browser.post("/set", json={"nothing": None, "b": 2})
    stored = store.get(sid)
    assert stored.data == {"a": 1, "nothing": None, "b": 2} and stored.lifetime == 14 * DAY


def test_none_rebased_on_a_concurrent_write(browser, store):
    browser.post("/set", json={"a": 1})
    sid = browser.cookies.get("session")
    done = threading.Event()

    def other_request() -> None:
        store.patch(sid, data={"other": "kept"})
        done.set()

    timer = threading.Timer(0.1, other_request)
    timer.start()
    browser.post("/slow-set", json={"nothing": None, "_wait": 0.4})
    timer.join()
    assert done.is_set()
    assert store.get(sid).data == {"a": 1, "other": "kept", "nothing": None}


def test_values_that_are_not_json_fail_the_request(browser):
    with pytest.raises(TypeError, match="when"):
        browser.post("/not-json")


def test_websocket_reads_the_session_and_saves_nothing(browser, store):
    browser.post("/set", json={"a": 1})
    with browser.websocket_connect("/ws") as ws:
        assert ws.receive_json() == {"a": 1}
    assert store.get(browser.cookies.get("session")).data == {"a": 1}


def test_views_written_for_starsessions_run_unchanged(browser):
    browser.post("/set", json={"a": 1})
    assert browser.get("/starsessions").json() == {"a": 1}


# MARK: - What reaches Sessiond


def test_no_store_call_and_no_cookie_for_a_request_without_a_session(browser, counting):
    r = browser.get("/untouched")
    assert r.status_code == 200 and set_cookies(r) == [] and "vary" not in r.headers
    r = browser.get("/")  # reads the (empty) session: still nothing to ask Sessiond
    assert r.json() == {} and set_cookies(r) == [] and r.headers["vary"] == "Cookie"
    r = browser.post("/remove", json=["nothing"])
    assert set_cookies(r) == []
    assert counting.calls == []
    assert browser.cookies.get("session") is None


def test_a_request_with_a_session_that_changes_nothing_writes_nothing(browser, counting, store):
    browser.post("/set", json={"a": 1})
    sid = browser.cookies.get("session")
    before = store.get(sid)
    counting.calls.clear()
    r = browser.get("/")
    assert counting.calls == ["GET sessions"]  # one read, with ?touch=true: no write
    assert store.get(sid).version == before.version
    # The touch slid the expiry, so the cookie is sent again with a fresh Max-Age.
    assert [c.split(";")[0] for c in set_cookies(r)] == [f"session={sid}"]


def test_without_max_age_an_unchanged_session_sends_no_cookie(sessiond):
    client = CountingClient(sessiond.url)
    with TestClient(starlette_app("unused", client=client, max_age=None)) as browser:
        first = browser.post("/set", json={"a": 1})
        assert "max-age" not in set_cookies(first)[0].lower()  # a browser-session cookie
        sid = browser.cookies.get("session")
        assert SessiondClient(sessiond.url).get(sid).lifetime is None  # Sessiond's --lifetime
        r = browser.get("/")
        assert r.json() == {"a": 1} and set_cookies(r) == []


def test_without_refresh_a_read_neither_touches_nor_sends_the_cookie(sessiond, store):
    with TestClient(starlette_app(sessiond.url, refresh_each_request=False)) as browser:
        browser.post("/set", json={"a": 1})
        sid = browser.cookies.get("session")
        before = store.get(sid)
        r = browser.get("/")
        assert r.json() == {"a": 1} and set_cookies(r) == []
        assert store.get(sid).expires_at == before.expires_at
        r = browser.post("/set", json={"b": 2})  # a write slides it: the cookie follows
        assert len(set_cookies(r)) == 1 and store.get(sid).expires_at > before.expires_at


# MARK: - The cookie


def test_the_cookie_attributes(sessiond):
    app = starlette_app(
        sessiond.url, session_cookie="sid", max_age=3600, path="/app", same_site="strict",
        https_only=True, domain="example.test", partitioned=True,
    )
    with TestClient(app, base_url="https://example.test") as browser:
        r = browser.post("/set", json={"a": 1})
        [cookie] = set_cookies(r)
        sid = cookie.split(";")[0].split("=", 1)[1]
        assert cookie == (
            f"sid={sid}; path=/app; Max-Age=3600; httponly; samesite=strict; secure; domain=example.test; partitioned"
        )
        assert r.headers["vary"] == "Cookie"
        stored = SessiondClient(sessiond.url).get(sid)
        assert stored.lifetime == 3600 and 3590 <= stored.ttl <= 3600
        browser.cookies.set("sid", sid, domain="example.test")
        r = browser.post("/logout")
        [cookie] = set_cookies(r)
        assert cookie == (
            "sid=; path=/app; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
            "httponly; samesite=strict; secure; domain=example.test; partitioned"
        )


def test_default_cookie_attributes_match_starlettes(browser):
    [cookie] = set_cookies(browser.post("/set", json={"a": 1}))
    sid = browser.cookies.get("session")
    assert cookie == f"session={sid}; path=/; Max-Age=1209600; httponly; samesite=lax"


def test_max_age_is_checked():
    for wrong in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            SessiondSessionMiddleware(untouched, max_age=wrong)  # type: ignore[arg-type]


# MARK: - Login, logout, log out everywhere


def test_login_rotates_the_sid_and_the_old_one_is_gone(browser, store):
    browser.post("/set", json={"cart": [1]})
    before = browser.cookies.get("session")
    r = browser.post("/login", json={"user": "user-rotate"})
    after = browser.cookies.get("session")
    assert after != before and r.json() == {"sid": after}
    with pytest.raises(SessionNotFound):
        store.get(before)
    stored = store.get(after)
    assert stored.data == {"cart": [1], "user_id": "user-rotate"} and stored.subject == "user-rotate"
    assert [s.handle for s in store.subject_sessions("user-rotate")] == [handle_for(after)]
    assert browser.get("/").json() == {"cart": [1], "user_id": "user-rotate"}
    store.revoke_subject("user-rotate")


def test_login_on_a_new_session_creates_it_under_a_new_sid(browser, store):
    plant(browser, "1b4e28ba-2fa1-41d2-883f-0016d3cca427")  # planted, never issued
    browser.post("/login", json={"user": "user-fresh"})
    sid = browser.cookies.get("session")
    assert sid != "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    assert store.get(sid).data == {"user_id": "user-fresh"}
    store.revoke_subject("user-fresh")


def test_logout_deletes_the_session_and_the_cookie(browser, store):
    browser.post("/login", json={"user": "user-logout"})
    sid = browser.cookies.get("session")
    r = browser.post("/logout")
    assert set_cookies(r)[0].startswith("session=; ")
    assert browser.cookies.get("session") is None
    with pytest.raises(SessionNotFound):
        store.get(sid)
    assert store.subject_sessions("user-logout") == []


def test_logout_everywhere(app, store):
    with TestClient(app) as phone, TestClient(app) as laptop, TestClient(app) as tablet:
        for device in (phone, laptop, tablet):
            device.post("/login", json={"user": "user-everywhere"})
        assert len(store.subject_sessions("user-everywhere")) == 3
        r = laptop.post("/logout-everywhere", json={"keep_current": True})
        assert r.json() == {"revoked": 2}
        assert [s.handle for s in store.subject_sessions("user-everywhere")] == [
            handle_for(laptop.cookies.get("session"))
        ]
        assert phone.get("/").json() == {} and phone.cookies.get("session") is None  # stale: removed
        assert laptop.get("/").json() == {"user_id": "user-everywhere"}
        tablet.post("/login", json={"user": "user-everywhere"})
        r = tablet.post("/logout-everywhere", json={})
        assert r.json() == {"revoked": 2}  # the laptop's and its own
        assert tablet.cookies.get("session") is None
        assert laptop.get("/").json() == {}
        assert store.subject_sessions("user-everywhere") == []


# MARK: - Two requests at once, and sessions that vanish


def test_two_racing_requests_keep_both_keys(app, store):
    with TestClient(app) as first:
        first.post("/set", json={"start": 0})
        sid = first.cookies.get("session")
    results: dict[str, Any] = {}

    def tab(name: str, key: str) -> None:
        with TestClient(app, cookies={"session": sid}) as browser:
            results[name] = browser.post("/slow-set", json={key: name, "_wait": 0.3})

    threads = [threading.Thread(target=tab, args=(f"tab{i}", f"key{i}")) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each response shows only what its request saw; both changes are kept.
    assert results["tab1"].json() == {"start": 0, "key1": "tab1"}
    assert results["tab2"].json() == {"start": 0, "key2": "tab2"}
    assert store.get(sid).data == {"start": 0, "key1": "tab1", "key2": "tab2"}


def test_a_session_deleted_behind_the_apps_back(browser, counting, store):
    browser.post("/set", json={"a": 1})
    sid = browser.cookies.get("session")
    store.delete(sid)
    r = browser.get("/")  # unknown now: a new, empty session, and the stale cookie removed
    assert r.json() == {} and set_cookies(r)[0].startswith("session=; ")
    assert browser.cookies.get("session") is None
    # A cookie naming a deleted session never brings it back: a write makes a new sid.
    plant(browser, sid)
    browser.post("/set", json={"b": 2})
    fresh = browser.cookies.get("session")
    assert fresh != sid and store.get(fresh).data == {"b": 2}
    with pytest.raises(SessionNotFound):
        store.get(sid)


def test_a_session_deleted_while_a_request_runs_is_not_recreated(browser, counting, store):
    browser.post("/set", json={"a": 1})
    sid = browser.cookies.get("session")
    counting.calls.clear()
    r = browser.post("/deleted-meanwhile")
    assert r.status_code == 200
    assert set_cookies(r)[0].startswith("session=; ")  # its write found no session: dropped
    assert counting.calls == ["GET sessions", "DELETE sessions", "PATCH sessions"]  # no POST
    assert browser.cookies.get("session") is None
    with pytest.raises(SessionNotFound):
        store.get(sid)


def test_a_cookie_that_is_not_a_sid_is_never_sent_to_sessiond(browser, counting):
    plant(browser, "../../admin")
    r = browser.get("/")
    assert r.json() == {} and set_cookies(r)[0].startswith("session=; ")
    assert counting.calls == []


# MARK: - When Sessiond is down


def test_fail_closed(own_sessiond):
    server = own_sessiond()
    app = starlette_app(server.url, timeout=0.5)
    with TestClient(app) as browser:
        browser.post("/set", json={"a": 1})
        server.stop()
        with pytest.raises(SessiondUnavailable):
            browser.get("/")


def test_fail_open_runs_with_an_empty_session_that_is_never_saved(own_sessiond, caplog):
    server = own_sessiond()
    app = starlette_app(server.url, timeout=0.5, fail_closed=False)
    with TestClient(app) as browser:
        browser.post("/set", json={"a": 1})
        sid = browser.cookies.get("session")
        server.pause()
        try:
            r = browser.post("/set", json={"b": 2})
            assert r.json() == {"b": 2} and set_cookies(r) == []  # the cookie is left alone
        finally:
            server.resume()
        assert browser.cookies.get("session") == sid
        assert browser.get("/").json() == {"a": 1}
    assert "Sessiond is unavailable" in caplog.text and "not saved" in caplog.text


def test_a_save_that_fails_open_keeps_the_response(own_sessiond, caplog):
    server = own_sessiond()
    gate = threading.Event()

    async def stop_then_set(request: Request) -> Response:
        server.pause()
        gate.set()
        request.session["b"] = 2
        return PlainTextResponse("done")

    app = Starlette(
        routes=[Route("/set", set_values, methods=["POST"]), Route("/stop-then-set", stop_then_set, methods=["POST"])],
        middleware=[Middleware(SessiondSessionMiddleware, url=server.url, timeout=0.5, fail_closed=False)],
    )
    with TestClient(app) as browser:
        browser.post("/set", json={"a": 1})
        try:
            r = browser.post("/stop-then-set")
        finally:
            server.resume()
        assert gate.is_set() and r.text == "done" and set_cookies(r) == []
    assert "were not saved" in caplog.text


def test_an_unreachable_sessiond_with_no_cookie_costs_nothing():
    app = starlette_app(f"http://127.0.0.1:{free_port()}")
    with TestClient(app) as browser:
        assert browser.get("/untouched").text == "no session here"
        assert browser.get("/").json() == {}


# MARK: - FastAPI


def fastapi_app(url: str) -> FastAPI:
    api = FastAPI()
    api.add_middleware(SessiondSessionMiddleware, url=url)

    @api.get("/counter")
    async def counter(request: FastAPIRequest) -> dict[str, int]:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    @api.get("/sync-counter")
    def sync_counter(request: FastAPIRequest) -> dict[str, int]:  # runs in a thread
        request.session["m"] = request.session.get("m", 0) + 1
        return {"m": request.session["m"]}

    @api.post("/login/{user}")
    async def login(user: str, request: FastAPIRequest) -> dict[str, Any]:
        request.session["user"] = user
        sessiond_session(request).subject = user
        await rotate_session(request)
        return {"user": user}

    @api.get("/me")
    async def me(request: FastAPIRequest) -> dict[str, Any]:
        session = sessiond_session(request)
        return {"user": request.session.get("user"), "subject": session.subject, "sid": session.sid}

    @api.post("/logout")
    async def logout(request: FastAPIRequest) -> dict[str, int]:
        return {"revoked": await logout_everywhere(request)}

    return api


def test_fastapi(sessiond, store):
    with TestClient(fastapi_app(sessiond.url)) as browser:
        assert browser.get("/counter").json() == {"n": 1}
        assert browser.get("/counter").json() == {"n": 2}
        assert browser.get("/sync-counter").json() == {"m": 1}
        before = browser.cookies.get("session")
        assert store.get(before).data == {"n": 2, "m": 1}
        browser.post("/login/user-fastapi")
        after = browser.cookies.get("session")
        assert after != before
        with pytest.raises(SessionNotFound):
            store.get(before)
        assert browser.get("/me").json() == {"user": "user-fastapi", "subject": "user-fastapi", "sid": after}
        assert browser.get("/counter").json() == {"n": 3}
        assert browser.post("/logout").json() == {"revoked": 1}
        assert browser.cookies.get("session") is None
        assert store.subject_sessions("user-fastapi") == []
        assert browser.get("/me").json() == {"user": None, "subject": None, "sid": None}


def test_the_session_is_a_dict_as_starlettes(browser):
    r = browser.post("/set", json={"a": 1})
    assert r.status_code == 200
    session = SessiondSession(AsyncSessiondClient("http://127.0.0.1:1"))
    assert isinstance(session, dict) and not session.accessed and not session.modified
    session["x"] = 1
    assert session.modified and session.accessed and session.sid is None and session.handle is None
    with pytest.raises(TypeError):
        session.subject = 42  # type: ignore[assignment]


def test_helpers_need_the_middleware():
    async def view(request: Request) -> Response:
        await rotate_session(request)
        return PlainTextResponse("never")

    with TestClient(Starlette(routes=[Route("/", view)])) as browser:
        with pytest.raises(RuntimeError, match="SessiondSessionMiddleware"):
            browser.get("/")


def test_a_request_still_carrying_the_old_sid_after_login_reads_and_leaves_the_cookie_alone(grace_sessiond):
    with SessiondClient(grace_sessiond.url) as c, TestClient(starlette_app(grace_sessiond.url)) as browser:
        browser.post("/set", json={"cart": [1]})
        before = browser.cookies.get("session")
        browser.post("/login", json={"user": "user-grace"})
        after = browser.cookies.get("session")
        assert after != before
        # A request of the page that left before the login answered, with the old cookie.
        with TestClient(starlette_app(grace_sessiond.url)) as late:
            plant(late, before)
            assert late.get("/").json() == {"cart": [1]}
            reply = late.post("/set", json={"late": True})
            assert reply.status_code == 200 and set_cookies(reply) == []
        assert c.get(after).data == {"cart": [1], "user_id": "user-grace"}
        c.revoke_subject("user-grace")
        with pytest.raises(SessionNotFound):
            c.get(before)  # logging out everywhere ended the window too
