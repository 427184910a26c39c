"""SessiondSessionInterface in a real Flask app served over real HTTP (Werkzeug's threaded
server), against the real sessiond binary: every request goes browser -> Flask -> Sessiond over
loopback TCP. The tests read what Sessiond holds with the plain client."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from flask import Flask, jsonify, request, session

from sessiond_client import SessiondClient, SessionNotFound, handle_for
from sessiond_client.flask import SessiondSessionInterface, logout_everywhere, rotate_session

from conftest import DAY, MONTH, Browser, free_port, stop_process

NEVER_ISSUED = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
LOGGER = "sessiond_client.flask"


def make_app(url: str, **options) -> Flask:
    config = options.pop("config", {})
    app = Flask(__name__)
    app.config.update(config)
    app.session_interface = SessiondSessionInterface(url, api_key="test-key", **options)

    @app.get("/count")
    def count():
        session["counter"] = session.get("counter", 0) + 1
        return jsonify(counter=session["counter"])

    @app.get("/peek")
    def peek():
        return jsonify(
            data=dict(session), permanent=session.permanent, subject=session.subject,
            sid=session.sid, unavailable=session.unavailable,
        )

    @app.post("/set")
    def set_key():
        # Reads the session first (it is open already), then waits, then changes one key.
        body = request.get_json()
        time.sleep(body.get("sleep", 0))
        session[body["key"]] = body["value"]
        return jsonify(ok=True)

    @app.post("/set-nested")
    def set_nested():
        body = request.get_json()
        time.sleep(body.get("sleep", 0))
        session.setdefault("prefs", {})[body["key"]] = body["value"]  # in place
        return jsonify(ok=True)

    @app.post("/del-nested")
    def del_nested():
        del session["prefs"][request.get_json()["key"]]  # in place
        return jsonify(ok=True)

    @app.post("/cart")
    def cart():
        session.setdefault("cart", []).append(request.get_json()["item"])  # in place
        return jsonify(cart=session["cart"])

    @app.post("/remember")
    def remember():
        session.permanent = request.get_json().get("permanent", True)
        return jsonify(ok=True)

    @app.post("/login")
    def login():
        body = request.get_json()
        session["user"] = body["user"]
        session.subject = body["user"]
        if "permanent" in body:
            session.permanent = body["permanent"]
        rotate_session()
        return jsonify(ok=True)

    @app.post("/logout")
    def logout():
        session.clear()
        return jsonify(ok=True)

    @app.post("/logout-everywhere")
    def everywhere():
        revoked = logout_everywhere(keep_current=request.get_json().get("keep_current", False))
        return jsonify(revoked=revoked)

    @app.post("/pause-then-set")
    def pause_then_set():
        stop_process(request.get_json()["pid"])
        session["counter"] = 1000
        return jsonify(ok=True)

    @app.post("/set-kind")
    def set_kind():
        # A value Flask's session keeps in its tagged form: {" t": [...]}, {" b": ...}, {" u": ...}.
        body = request.get_json()
        time.sleep(body.get("sleep", 0))
        value = {"tuple": (0,), "bytes": b"\x01", "uuid": uuid.UUID(int=7)}[body["kind"]]
        session[body["key"]] = value
        return jsonify(ok=True)

    @app.get("/kind/<key>")
    def kind(key):
        return jsonify(type=type(session.get(key)).__name__, repr=repr(session.get(key)))

    @app.post("/not-json")
    def not_json():
        session["ids"] = {1, 2}  # a set: neither JSON nor one of Flask's tagged types
        return jsonify(ok=True)

    @app.post("/nan")
    def nan():
        session["x"] = float("nan")  # Flask's cookie keeps it; strict JSON has no NaN
        return jsonify(ok=True)

    @app.post("/big-int")
    def big_int():
        session["big"] = {"n": [2**63]}  # Flask's cookie keeps it; Sessiond keeps 64-bit integers
        return jsonify(ok=True)

    return app


@pytest.fixture
def client(sessiond):
    with SessiondClient(sessiond.url) as c:
        yield c


@pytest.fixture
def app_url(sessiond, serve):
    return serve(make_app(sessiond.url))


def expiry_attr(set_cookie: str) -> bool:
    return "expires=" in set_cookie.lower()


# MARK: - Counter, new and unchanged sessions


def test_counter_across_requests_keeps_one_server_issued_sid(app_url, client):
    browser = Browser(app_url)
    assert [browser.get("/count").json()["counter"] for _ in range(3)] == [1, 2, 3]
    sid = browser.sid
    stored = client.get(sid)
    assert stored.data == {"counter": 3}
    assert stored.version == 3  # one create, then one PATCH per request
    assert stored.permanent is False and stored.subject is None


def test_cookie_takes_the_flask_cookie_settings(sessiond, serve, client):
    app = make_app(sessiond.url, config={
        "SESSION_COOKIE_NAME": "sid", "SESSION_COOKIE_PATH": "/", "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax", "SESSION_COOKIE_DOMAIN": None,
    })
    browser = Browser(serve(app), cookie_name="sid")
    reply = browser.get("/count")
    [header] = reply.set_cookies
    assert header.startswith(f"sid={browser.sid};")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header
    assert "Cookie" in reply.headers.get("Vary", "")
    assert client.get(browser.sid).data == {"counter": 1}


def test_an_empty_new_session_stores_nothing_and_sets_no_cookie(app_url):
    browser = Browser(app_url)
    reply = browser.get("/peek")
    assert reply.json()["data"] == {} and reply.json()["sid"] is None
    assert reply.set_cookies == []


def test_an_unchanged_session_is_not_written_back(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    before = client.get(browser.sid)
    for _ in range(3):
        reply = browser.get("/peek")
        assert reply.json()["data"] == {"counter": 1}
        assert reply.set_cookies == []  # not permanent: Flask sends its cookie only on change
    # Setting a key to the value it has is no change either.
    browser.post("/set", {"key": "counter", "value": 1})
    assert client.get(browser.sid).version == before.version


def test_refresh_each_request_touches_a_permanent_session_without_writing(app_url, client):
    browser = Browser(app_url)
    browser.post("/login", {"user": "u-" + uuid.uuid4().hex, "permanent": True})
    before = client.get(browser.sid)
    time.sleep(0.05)
    reply = browser.get("/peek")
    after = client.get(browser.sid)
    assert after.version == before.version  # no write
    assert after.expires_at > before.expires_at  # but the expiry slid (the read touched it)
    [header] = reply.set_cookies  # and the cookie is sent again with its new expiry
    assert header.startswith(f"session={browser.sid};") and expiry_attr(header)


def test_without_refresh_each_request_a_read_neither_touches_nor_sets_the_cookie(sessiond, serve, client):
    app = make_app(sessiond.url, config={"SESSION_REFRESH_EACH_REQUEST": False})
    browser = Browser(serve(app))
    browser.post("/login", {"user": "u-" + uuid.uuid4().hex, "permanent": True})
    before = client.get(browser.sid)
    time.sleep(0.05)
    reply = browser.get("/peek")
    after = client.get(browser.sid)
    assert reply.set_cookies == []
    assert (after.version, after.expires_at) == (before.version, before.expires_at)


# MARK: - Permanent or not


def test_a_session_that_is_not_permanent_has_a_browser_session_cookie_and_a_day(app_url, client):
    browser = Browser(app_url)
    reply = browser.get("/count")
    [header] = reply.set_cookies
    assert not expiry_attr(header) and "max-age" not in header.lower()
    assert browser.cookie().expires is None
    stored = client.get(browser.sid)
    assert stored.permanent is False
    assert DAY - 5 <= stored.ttl <= DAY


def test_a_permanent_session_has_an_expiring_cookie_and_31_days(app_url, client):
    browser = Browser(app_url)
    browser.post("/login", {"user": "u-" + uuid.uuid4().hex, "permanent": True})
    stored = client.get(browser.sid)
    assert stored.permanent is True
    assert MONTH - 5 <= stored.ttl <= MONTH
    # Flask's PERMANENT_SESSION_LIFETIME is 31 days by default, as Sessiond's.
    expires = browser.cookie().expires
    assert abs(expires - (time.time() + MONTH)) < 60


def test_switching_to_permanent_patches_only_permanent(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    sid = browser.sid
    reply = browser.post("/remember", {"permanent": True})
    [header] = reply.set_cookies
    assert expiry_attr(header)
    stored = client.get(sid)
    assert stored.permanent is True and stored.data == {"counter": 1} and stored.version == 2
    assert MONTH - 5 <= stored.ttl <= MONTH
    browser.post("/remember", {"permanent": False})
    stored = client.get(sid)
    assert stored.permanent is False and DAY - 5 <= stored.ttl <= DAY
    assert browser.cookie().expires is None


def test_the_cookie_never_outlives_the_session_in_sessiond(short_sessiond, serve, client):
    # Sessiond's permanent lifetime here is 2 s, Flask's 31 days: the cookie follows Sessiond.
    browser = Browser(serve(make_app(short_sessiond.url)))
    browser.post("/login", {"user": "u-" + uuid.uuid4().hex, "permanent": True})
    assert browser.cookie().expires <= time.time() + 3


# MARK: - Logout and rotation


def test_logout_deletes_the_session_and_removes_the_cookie(app_url, client):
    browser = Browser(app_url)
    browser.post("/login", {"user": "u-" + uuid.uuid4().hex})
    sid = browser.sid
    reply = browser.post("/logout")
    [header] = reply.set_cookies
    assert header.startswith("session=;") and "1970" in header
    assert browser.cookie() is None
    with pytest.raises(SessionNotFound):
        client.get(sid)
    # Whoever still holds the old sid gets a new, empty session.
    replay = Browser(app_url)
    replay.set_cookie(sid)
    assert replay.get("/peek").json()["data"] == {}


def test_login_rotates_the_sid_and_keeps_the_data(app_url, client):
    browser = Browser(app_url)
    browser.post("/cart", {"item": "book"})
    before_login = browser.sid
    user = "u-" + uuid.uuid4().hex
    reply = browser.post("/login", {"user": user})
    after_login = browser.sid
    assert after_login != before_login
    assert any(h.startswith(f"session={after_login};") for h in reply.set_cookies)
    with pytest.raises(SessionNotFound):
        client.get(before_login)  # a sid planted before login is worthless after it
    stored = client.get(after_login)
    assert stored.data == {"cart": ["book"], "user": user}
    assert stored.subject == user
    assert [s.handle for s in client.subject_sessions(user)] == [handle_for(after_login)]
    # The session goes on under the new sid.
    assert browser.get("/count").json()["counter"] == 1
    assert client.get(after_login).data["counter"] == 1


def test_logout_everywhere_ends_the_users_other_sessions(app_url, client):
    user = "u-" + uuid.uuid4().hex
    laptop, phone = Browser(app_url), Browser(app_url)
    laptop.post("/login", {"user": user})
    phone.post("/login", {"user": user})
    assert len(client.subject_sessions(user)) == 2
    assert laptop.post("/logout-everywhere", {"keep_current": True}).json() == {"revoked": 1}
    assert phone.get("/peek").json()["data"] == {}  # logged out
    assert laptop.get("/peek").json()["data"] == {"user": user}  # still logged in
    assert laptop.post("/logout-everywhere", {}).json() == {"revoked": 1}
    assert laptop.cookie() is None
    assert client.subject_sessions(user) == []


def test_a_write_after_logout_does_not_bring_the_session_back(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    sid = browser.sid
    results = {}
    slow = threading.Thread(
        target=lambda: results.update(slow=browser.post("/set", {"key": "late", "value": 1, "sleep": 0.5}))
    )
    slow.start()
    time.sleep(0.2)
    other_tab = Browser(app_url)
    other_tab.set_cookie(sid)
    other_tab.post("/logout")
    slow.join()
    assert results["slow"].status == 200
    with pytest.raises(SessionNotFound):
        client.get(sid)
    assert any(h.startswith("session=;") for h in results["slow"].set_cookies)


# MARK: - Unknown, expired and malformed sids


def test_an_unknown_sid_starts_a_new_session_with_a_new_sid(app_url, client):
    browser = Browser(app_url)
    browser.set_cookie(NEVER_ISSUED)
    assert browser.get("/count").json()["counter"] == 1
    assert browser.sid != NEVER_ISSUED
    assert client.get(browser.sid).data == {"counter": 1}
    with pytest.raises(SessionNotFound):
        client.get(NEVER_ISSUED)  # never adopted


@pytest.mark.parametrize("value", ["not-a-sid", "../../livez", NEVER_ISSUED.upper()])
def test_a_malformed_sid_starts_a_new_session(app_url, client, value):
    browser = Browser(app_url)
    browser.set_cookie(value)
    assert browser.get("/count").json()["counter"] == 1
    assert browser.sid != value and client.get(browser.sid).data == {"counter": 1}


def test_a_stale_cookie_on_a_request_that_stores_nothing_is_removed(app_url):
    browser = Browser(app_url)
    browser.set_cookie(NEVER_ISSUED)
    reply = browser.get("/peek")
    assert reply.json()["data"] == {}
    assert browser.cookie() is None


def test_an_expired_sid_starts_a_new_session(short_sessiond, serve, client):
    browser = Browser(serve(make_app(short_sessiond.url)))
    assert browser.get("/count").json()["counter"] == 1
    first = browser.sid
    time.sleep(1.3)  # the session lives 1 s
    assert browser.get("/count").json()["counter"] == 1
    assert browser.sid != first


# MARK: - Concurrency: only what changed is sent


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_concurrent_requests_changing_different_keys_both_keep_their_change(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    replies = run_together(
        lambda: browser.post("/set", {"key": "theme", "value": "dark", "sleep": 0.3}),
        lambda: browser.post("/set", {"key": "lang", "value": "fr", "sleep": 0.3}),
    )
    assert [r.status for r in replies] == [200, 200]
    assert client.get(browser.sid).data == {"counter": 1, "theme": "dark", "lang": "fr"}
    assert browser.get("/peek").json()["data"] == {"counter": 1, "theme": "dark", "lang": "fr"}


def test_twenty_concurrent_requests_each_keep_their_key(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    replies = run_together(*[
        (lambda i=i: browser.post("/set", {"key": f"k{i}", "value": i, "sleep": 0.2})) for i in range(20)
    ])
    assert all(r.status == 200 for r in replies)
    data = client.get(browser.sid).data
    assert data == {"counter": 1, **{f"k{i}": i for i in range(20)}}


def test_concurrent_changes_of_different_nested_keys_are_merged(app_url, client):
    browser = Browser(app_url)
    browser.post("/set", {"key": "prefs", "value": {"a": 1}})
    run_together(
        lambda: browser.post("/set-nested", {"key": "b", "value": 2, "sleep": 0.3}),
        lambda: browser.post("/set-nested", {"key": "c", "value": 3, "sleep": 0.3}),
    )
    assert client.get(browser.sid).data == {"prefs": {"a": 1, "b": 2, "c": 3}}
    browser.post("/del-nested", {"key": "a"})
    assert client.get(browser.sid).data == {"prefs": {"b": 2, "c": 3}}


def test_concurrent_changes_of_one_tagged_value_leave_one_of_them_whole(app_url, client):
    # A tagged value is written whole, never merged member by member: two requests that turn a
    # tuple into bytes and into a UUID at once leave one of the two, not an object with two tags.
    browser = Browser(app_url)
    browser.post("/set-kind", {"key": "v", "kind": "tuple"})
    for _ in range(3):
        run_together(
            lambda: browser.post("/set-kind", {"key": "v", "kind": "bytes", "sleep": 0.2}),
            lambda: browser.post("/set-kind", {"key": "v", "kind": "uuid", "sleep": 0.2}),
        )
        stored = client.get(browser.sid).data["v"]
        assert stored in ({" b": "AQ=="}, {" u": uuid.UUID(int=7).hex}), stored
        assert browser.get("/kind/v").json()["type"] in ("bytes", "UUID")
        browser.post("/set-kind", {"key": "v", "kind": "tuple"})
        assert client.get(browser.sid).data["v"] == {" t": [0]}


def test_concurrent_tagged_values_of_different_keys_both_land(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    run_together(
        lambda: browser.post("/set-kind", {"key": "a", "kind": "tuple", "sleep": 0.3}),
        lambda: browser.post("/set-kind", {"key": "b", "kind": "uuid", "sleep": 0.3}),
    )
    assert client.get(browser.sid).data == {"counter": 1, "a": {" t": [0]}, "b": {" u": uuid.UUID(int=7).hex}}
    assert browser.get("/kind/a").json() == {"type": "tuple", "repr": "(0,)"}
    assert browser.get("/kind/b").json()["type"] == "UUID"


def test_values_changed_in_place_are_saved(app_url, client):
    browser = Browser(app_url)
    for item in ("a", "b", "c"):
        browser.post("/cart", {"item": item})
    assert client.get(browser.sid).data == {"cart": ["a", "b", "c"]}


def test_none_is_stored_as_null_even_when_another_request_wrote_in_between(app_url, client):
    browser = Browser(app_url)
    browser.get("/count")
    # A merge patch cannot store null (it means "remove"), so this write is a PUT with If-Match;
    # the concurrent PATCH moves the version first, and the PUT is re-applied on top of it.
    run_together(
        lambda: browser.post("/set", {"key": "nothing", "value": None, "sleep": 0.4}),
        lambda: browser.post("/set", {"key": "theme", "value": "dark", "sleep": 0.1}),
    )
    assert client.get(browser.sid).data == {"counter": 1, "nothing": None, "theme": "dark"}
    assert browser.get("/peek").json()["data"] == {"counter": 1, "nothing": None, "theme": "dark"}


def test_a_value_that_cannot_be_stored_fails_the_request_and_stores_nothing(app_url, client, caplog):
    browser = Browser(app_url)
    browser.get("/count")
    assert browser.post("/not-json").status == 500
    assert browser.post("/nan").status == 500
    assert browser.post("/big-int").status == 500
    stored = client.get(browser.sid)
    assert stored.data == {"counter": 1} and stored.version == 1
    messages = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert any("session['ids'] cannot be stored" in m for m in messages), messages
    assert any("session['x'] cannot be stored" in m for m in messages), messages
    assert any("session['big'] cannot be stored" in m and "64 bits" in m for m in messages), messages


# MARK: - Sessiond down


def test_fail_closed_when_nothing_listens(serve):
    url = serve(make_app(f"http://127.0.0.1:{free_port()}", timeout=1))
    browser = Browser(url)
    assert browser.get("/count").status == 500  # creating the session fails at save
    browser.set_cookie(NEVER_ISSUED)
    assert browser.get("/peek").status == 500  # reading it fails at open


def test_fail_closed_when_sessiond_hangs_then_the_data_is_intact(own_sessiond, serve, caplog):
    server = own_sessiond()
    browser = Browser(serve(make_app(server.url, timeout=0.5)))
    browser.get("/count")
    browser.get("/count")
    sid = browser.sid
    server.pause()
    try:
        started = time.monotonic()
        assert browser.get("/count").status == 500
        assert time.monotonic() - started < 5
    finally:
        server.resume()
    assert browser.sid == sid
    # Where the pause landed decides whether the timed-out request's write reached Sessiond
    # (it may land after the read, while the PATCH waits in the socket): the counter goes on
    # from 2 or from 3, never back, and the session is there.
    with SessiondClient(server.url) as c:
        assert c.ready()
    assert browser.get("/count").json()["counter"] in (3, 4)


def test_fail_closed_when_sessiond_stops_answering_before_the_save(own_sessiond, serve):
    server = own_sessiond()
    browser = Browser(serve(make_app(server.url, timeout=0.5)))
    browser.get("/count")
    try:
        # The view stops Sessiond, then changes the session: the save times out, and the request
        # fails instead of answering as if the change were kept.
        assert browser.post("/pause-then-set", {"pid": server.proc.pid}).status == 500
    finally:
        server.resume()
    # The PATCH was sent before the timeout, so the resumed Sessiond may still apply it: a
    # timeout's outcome is unknown. Either way the session is there, with one of the two values.
    with SessiondClient(server.url) as c:
        assert c.get(browser.sid).data["counter"] in (1, 1000)


def test_fail_open_runs_with_an_empty_unsaved_session_and_logs_it(own_sessiond, serve, caplog):
    server = own_sessiond()
    browser = Browser(serve(make_app(server.url, timeout=0.5, fail_closed=False)))
    browser.get("/count")
    browser.post("/cart", {"item": "book"})
    sid = browser.sid
    caplog.set_level(logging.WARNING, logger=LOGGER)
    server.pause()
    try:
        reply = browser.get("/peek")
        assert reply.status == 200
        assert reply.json()["data"] == {} and reply.json()["unavailable"] is True
        reply = browser.get("/count")  # changes an empty stand-in, which is never saved
        assert reply.status == 200 and reply.json()["counter"] == 1
        assert reply.set_cookies == []  # the user's cookie is left alone
    finally:
        server.resume()
    records = [r for r in caplog.records if r.name == LOGGER]
    assert any(r.levelno == logging.WARNING and "unavailable" in r.getMessage() for r in records)
    assert any(r.levelno == logging.ERROR and "not saved" in r.getMessage() for r in records)
    # Sessiond is back: the user's data was never overwritten.
    assert browser.sid == sid
    assert browser.get("/peek").json()["data"] == {"counter": 1, "cart": ["book"]}
    assert browser.get("/count").json()["counter"] == 2


def test_fail_open_logs_a_change_it_could_not_save(own_sessiond, serve, caplog):
    server = own_sessiond()
    browser = Browser(serve(make_app(server.url, timeout=0.5, fail_closed=False)))
    browser.get("/count")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    try:
        assert browser.post("/pause-then-set", {"pid": server.proc.pid}).status == 200
    finally:
        server.resume()
    assert any(
        r.name == LOGGER and r.levelno == logging.ERROR and "not saved" in r.getMessage() for r in caplog.records
    )
    with SessiondClient(server.url) as c:
        assert c.get(browser.sid).data["counter"] in (1, 1000)  # as above: a timeout's outcome is unknown


def test_a_request_still_carrying_the_old_sid_after_login_reads_and_leaves_the_cookie_alone(grace_sessiond, serve):
    with SessiondClient(grace_sessiond.url) as c:
        url = serve(make_app(grace_sessiond.url))
        browser = Browser(url)
        browser.post("/cart", {"item": "book"})
        before_login = browser.sid
        user = "u-" + uuid.uuid4().hex
        browser.post("/login", {"user": user})
        after_login = browser.sid
        # A request of the page that left before the login answered, with the old cookie.
        late = Browser(url)
        late.set_cookie(before_login)
        # The session as it was at the rotation (Flask's adapter rotates after writing the login).
        assert late.get("/peek").json()["data"] == {"cart": ["book"], "user": user}
        reply = late.post("/cart", {"item": "pen"})
        assert reply.status == 200
        assert reply.set_cookies == []  # the browser keeps the new sid
        assert late.get("/count").set_cookies == []
        # Nothing was written under either sid, and the new one is not touched by the old.
        assert c.get(after_login).data == {"cart": ["book"], "user": user}
        assert c.get(before_login).rotated
        assert browser.get("/count").json()["counter"] == 1
