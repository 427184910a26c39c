"""SESSION_ENGINE = "sessiond_client.django" in a real Django project (tests/djangoproject:
SessionMiddleware, django.contrib.auth with a user), driven by Django's test Client, against the
real sessiond binary on a loopback port. What Sessiond holds is read with the plain client."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoproject.settings")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import AsyncClient, Client, override_settings
from django.test.utils import setup_test_environment, teardown_test_environment

import sessiond_client.django as backend
from sessiond_client import SessiondClient, SessiondUnavailable, SessionNotFound
from sessiond_client.django import CreateError, SessionStore, UpdateError

from djangoproject import views

NEVER_ISSUED = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
COOKIE = "sessionid"
TWO_WEEKS = 14 * 86_400  # SESSION_COOKIE_AGE's default
LOGGER = "sessiond_client.django"


@pytest.fixture(scope="module", autouse=True)
def django_test_env() -> Iterator[None]:
    """Django's test environment and an in-memory database with one user."""
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    get_user_model().objects.create_user("alice", password="wonderland")
    yield
    connection.creation.destroy_test_db(old_name, verbosity=0)
    teardown_test_environment()


@pytest.fixture
def use(request: pytest.FixtureRequest) -> Iterator[Any]:
    """use(server, **settings): the Django project talks to that sessiond for this test."""
    overrides: list[override_settings] = []

    def apply(server: Any, **extra: Any) -> None:
        override = override_settings(SESSIOND_URL=server.url, **extra)
        override.enable()
        overrides.append(override)

    yield apply
    for override in reversed(overrides):
        override.disable()
    backend.close_client()


@pytest.fixture
def site(sessiond: Any, use: Any) -> Any:
    use(sessiond)
    return sessiond


@pytest.fixture
def store(sessiond: Any) -> Iterator[SessiondClient]:
    with SessiondClient(sessiond.url) as client:
        yield client


def sid_of(client: Client) -> str:
    return client.cookies[COOKIE].value


def plant(client: Client, value: str) -> None:
    client.cookies[COOKIE] = value


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


# MARK: - Create, read, write


def test_a_new_session_is_created_under_a_minted_uuid4_with_plain_json_data(site, store):
    client = Client()
    assert client.get("/count").json() == {"count": 1}
    sid = sid_of(client)
    assert uuid.UUID(sid).version == 4 and str(uuid.UUID(sid)) == sid
    stored = store.get(sid)
    assert stored.data == {"count": 1}  # the JSON object itself, not an encoded blob
    assert stored.version == 1
    assert stored.lifetime == TWO_WEEKS  # SESSION_COOKIE_AGE, as the cache backend's timeout
    assert client.get("/count").json() == {"count": 2}
    assert sid_of(client) == sid
    stored = store.get(sid)
    assert stored.data == {"count": 2} and stored.version == 2


def test_a_visitor_who_stores_nothing_gets_no_session_and_no_cookie(site):
    client = Client()
    response = client.get("/peek")
    assert response.json()["key"] is None
    assert COOKIE not in response.cookies


def test_values_go_through_the_serializer_and_back(site, store):
    client = Client()
    value = {"cart": [1, 2.5, "caf\u00e9", True, None], "nested": {"a": {"b": 1}}, "big": 9007199254740993}
    post(client, "/set", {"key": "v", "value": value})
    assert store.get(sid_of(client)).data == {"v": value}
    assert client.get("/peek").json()["data"] == {"v": value}


def test_other_keys_written_in_between_are_kept(site, store):
    """A save sends only the keys this request changed: a key another app (or request) wrote
    after this request read the session survives."""
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    session = SessionStore(sid)
    assert session["count"] == 1  # read
    store.patch(sid, data={"other": "kept"})
    session["count"] = 5
    session.save()
    assert store.get(sid).data == {"count": 5, "other": "kept"}


def test_two_racing_requests_of_one_user_both_keep_their_key(site, store):
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    views.RACE_BARRIER = threading.Barrier(2)
    results: list[Any] = []

    def racer(key: str) -> None:
        c = Client()
        plant(c, sid)
        results.append(post(c, "/race", {"key": key, "value": key.upper()}).status_code)

    threads = [threading.Thread(target=racer, args=(k,)) for k in ("left", "right")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        views.RACE_BARRIER = None
    assert results == [200, 200]
    assert store.get(sid).data == {"count": 1, "left": "LEFT", "right": "RIGHT"}


def test_storing_none_is_a_conditional_put_that_keeps_concurrent_changes(site, store):
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    session = SessionStore(sid)
    assert session["count"] == 1  # read (version 1)
    store.patch(sid, data={"other": 1})  # version 2, behind this request's back
    session["gone"] = None
    session.save()  # PUT If-Match "1" -> 412 -> again on version 2
    assert store.get(sid).data == {"count": 1, "other": 1, "gone": None}
    assert post(client, "/set-none", {"key": "count"}).status_code == 200
    assert store.get(sid).data == {"count": None, "other": 1, "gone": None}

    # A second save in one request: the conditional write starts from what Sessiond answered
    # to the first (which holds a key this request never read), not from this request's view.
    session = SessionStore(sid)
    assert session["other"] == 1
    store.patch(sid, data={"third": 3})
    session["x"] = 1
    session.save()  # PATCH: the answer holds "third"
    session["y"] = None
    session.save()  # PUT If-Match on the PATCH's version, with "third" in it
    assert store.get(sid).data == {"count": None, "other": 1, "gone": None, "third": 3, "x": 1, "y": None}


class NotJSONSerializer:
    def dumps(self, obj: Any) -> bytes:
        return repr(obj).encode()

    def loads(self, data: bytes) -> Any:
        raise ValueError("not for reading")


def test_values_without_a_json_form_and_serializers_that_do_not_write_json_are_refused(site, store):
    session = SessionStore()
    session["ratio"] = float("nan")  # Django's JSONSerializer writes NaN; Sessiond keeps JSON only
    with pytest.raises(TypeError, match="ratio"):
        session.save()
    session = SessionStore()
    session["when"] = object()
    with pytest.raises(TypeError):
        session.save()
    with override_settings(SESSION_SERIALIZER="test_django.NotJSONSerializer"):
        session = SessionStore()
        session["a"] = 1
        with pytest.raises(ImproperlyConfigured, match="JSON"):
            session.save()


def test_deleting_a_key_removes_it(site, store):
    client = Client()
    post(client, "/set", {"key": "a", "value": 1})
    post(client, "/set", {"key": "b", "value": 2})
    sid = sid_of(client)
    session = SessionStore(sid)
    del session["a"]
    session.save()
    assert store.get(sid).data == {"b": 2}


# MARK: - Keys that name no session


def test_an_unknown_key_gives_an_empty_session_and_a_new_cookie(site, store):
    client = Client()
    plant(client, NEVER_ISSUED)
    assert client.get("/count").json() == {"count": 1}
    sid = sid_of(client)
    assert sid != NEVER_ISSUED
    assert store.get(sid).data == {"count": 1}
    with pytest.raises(SessionNotFound):
        store.get(NEVER_ISSUED)  # never created under the planted key (session fixation)


def test_a_planted_uuid4_is_never_adopted(site, store):
    """Even a well-formed uuid4 an attacker chose, which Sessiond would accept for a create, is
    not: the session gets a key minted by the backend."""
    planted = str(uuid.uuid4())
    client = Client()
    plant(client, planted)
    client.get("/count")
    assert sid_of(client) != planted
    with pytest.raises(SessionNotFound):
        store.get(planted)
    session = SessionStore(planted)
    session["x"] = 1  # loads: unknown, so the key is dropped
    session.save()
    assert session.session_key != planted
    with pytest.raises(CreateError):
        SessionStore(planted).save(must_create=True)  # not a key this store minted
    with pytest.raises(SessionNotFound):
        store.get(planted)


@pytest.mark.parametrize("value", ["not-a-sid", "1B4E28BA-2FA1-41D2-883F-0016D3CCA427", "../../readyz", "x" * 40])
def test_a_malformed_key_gives_an_empty_session(site, store, value):
    assert SessionStore(value).session_key is None
    client = Client()
    plant(client, value)
    assert client.get("/count").json() == {"count": 1}
    assert store.get(sid_of(client)).data == {"count": 1}


def test_a_stale_cookie_on_a_request_that_stores_nothing_is_removed(site):
    client = Client()
    plant(client, NEVER_ISSUED)
    response = client.get("/peek")
    assert response.json()["data"] == {}
    assert response.cookies[COOKIE].value == "" and response.cookies[COOKIE]["max-age"] == 0


def test_an_expired_key_gives_an_empty_session_and_a_new_key(sessiond, use, store):
    use(sessiond, SESSION_COOKIE_AGE=1)
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    assert store.get(sid).lifetime == 1
    time.sleep(1.3)
    assert client.get("/count").json() == {"count": 1}
    assert sid_of(client) != sid


# MARK: - Login and logout


def test_login_cycles_the_key_with_sessiond_rotate_and_keeps_the_data(site, store):
    client = Client()
    client.get("/count")
    before = sid_of(client)
    response = post(client, "/login", {"username": "alice", "password": "wonderland"})
    assert response.status_code == 200
    after = sid_of(client)
    assert after != before and response.json()["key"] == after
    with pytest.raises(SessionNotFound):
        store.get(before)  # the old key is gone at once (session-fixation defence)
    stored = store.get(after)
    assert stored.data["count"] == 1  # kept through the rotation
    assert stored.data["_auth_user_id"] == str(get_user_model().objects.get(username="alice").pk)
    assert stored.lifetime == TWO_WEEKS
    assert client.get("/whoami").json() == {"user": "alice"}
    assert client.get("/count").json() == {"count": 2}


def test_login_without_a_session_creates_one(site, store):
    client = Client()
    post(client, "/login", {"username": "alice", "password": "wonderland"})
    assert "_auth_user_id" in store.get(sid_of(client)).data
    assert client.get("/whoami").json() == {"user": "alice"}


def test_logout_flushes_the_session(site, store):
    client = Client()
    post(client, "/login", {"username": "alice", "password": "wonderland"})
    sid = sid_of(client)
    response = client.post("/logout")
    assert response.cookies[COOKIE].value == "" and response.cookies[COOKIE]["max-age"] == 0
    with pytest.raises(SessionNotFound):
        store.get(sid)
    assert client.get("/whoami").json() == {"user": None}


# MARK: - Saving, and sessions that vanished


def test_a_session_deleted_behind_djangos_back_is_interrupted_not_resurrected(site, store):
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    store.delete(sid)  # a logout in another request, or "log out everywhere"
    response = client.get("/count")  # reads (empty: unknown), writes: a new session
    assert response.status_code == 200 and sid_of(client) != sid
    # The race Django's middleware reports: the session vanished between this request's read
    # and its save.
    session = SessionStore(sid_of(client))
    assert session["count"] == 1  # read
    store.delete(session.session_key)
    session["count"] = 7
    with pytest.raises(UpdateError):
        session.save()
    with pytest.raises(SessionNotFound):
        store.get(session.session_key)  # never recreated


def test_the_middleware_answers_400_when_the_session_vanished_during_the_request(site, store):
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    views.RACE_BARRIER = threading.Barrier(2)
    status: list[int] = []

    def slow_request() -> None:
        c = Client()
        plant(c, sid)
        status.append(post(c, "/race", {"key": "late", "value": 1}).status_code)

    thread = threading.Thread(target=slow_request)
    try:
        thread.start()
        time.sleep(0.2)  # the request has read the session and waits
        store.delete(sid)  # logged out meanwhile
        views.RACE_BARRIER.wait(timeout=10)
        thread.join(20)
    finally:
        views.RACE_BARRIER = None
    assert status == [400]  # SessionInterrupted
    with pytest.raises(SessionNotFound):
        store.get(sid)


def test_session_save_every_request_slides_the_expiry_without_writing(sessiond, use, store):
    use(sessiond, SESSION_SAVE_EVERY_REQUEST=True)
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    first = store.get(sid)
    time.sleep(1.1)
    response = client.get("/peek")
    assert response.cookies[COOKIE].value == sid  # the cookie is sent again
    second = store.get(sid)
    assert second.version == first.version  # a touch: nothing written
    assert second.expires_at > first.expires_at


def test_without_save_every_request_a_read_does_not_touch(site, store):
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    first = store.get(sid)
    time.sleep(1.1)
    response = client.get("/peek")
    assert COOKIE not in response.cookies
    assert store.get(sid).expires_at == first.expires_at


def test_create_error_on_a_clash_and_create_tries_another_key(site, store, monkeypatch):
    session = SessionStore()
    key = session._get_new_session_key()
    session._session_key = key
    store.create({"theirs": 1}, sid=key)  # someone has this key already
    session["mine"] = 1
    with pytest.raises(CreateError):
        session.save(must_create=True)
    assert store.get(key).data == {"theirs": 1}  # untouched

    taken = [key]
    minted: list[str] = []
    real = backend.new_sid

    def clashing_then_fresh() -> str:
        value = taken.pop() if taken else real()
        minted.append(value)
        return value

    monkeypatch.setattr(backend, "new_sid", clashing_then_fresh)
    fresh = SessionStore()
    fresh["mine"] = 2
    fresh.create()
    assert minted[0] == key and fresh.session_key == minted[1] != key
    assert store.get(fresh.session_key).data == {"mine": 2}
    assert fresh.modified


def test_exists_delete_and_clear_expired(site, store):
    session = SessionStore()
    session["a"] = 1
    session.save()
    key = session.session_key
    assert session.exists(key)
    assert not session.exists(NEVER_ISSUED)
    assert not session.exists("not-a-sid")
    assert not session.exists(None)
    SessionStore.clear_expired()  # nothing to do: Sessiond expires sessions itself
    session.delete()
    assert not session.exists(key)
    session.delete()  # already gone: fine
    session.delete("not-a-sid")  # never sent


def test_clear_before_reading_then_save_empties_the_stored_session(site, store):
    client = Client()
    post(client, "/set", {"key": "a", "value": 1})
    sid = sid_of(client)
    session = SessionStore(sid)
    session.clear()  # not read
    session["b"] = 2
    session.save()
    assert store.get(sid).data == {"b": 2}


# MARK: - Expiry


def test_set_expiry_seconds_is_the_sessions_lifetime_and_the_cookies_max_age(site, store):
    client = Client()
    response = post(client, "/expiry", {"value": 300})
    sid = sid_of(client)
    assert response.cookies[COOKIE]["max-age"] == 300
    stored = store.get(sid)
    assert stored.lifetime == 300 and 295 <= stored.ttl <= 300
    assert stored.data == {"_session_expiry": 300}
    assert client.get("/peek").json()["expiry_age"] == 300

    response = post(client, "/expiry", {"value": None})  # back to the global policy
    assert response.cookies[COOKIE]["max-age"] == TWO_WEEKS
    assert store.get(sid).lifetime == TWO_WEEKS
    assert store.get(sid).data == {}


def test_set_expiry_zero_is_a_browser_session_cookie(site, store):
    client = Client()
    response = post(client, "/expiry", {"value": 0})
    assert response.cookies[COOKIE]["max-age"] == "" and response.cookies[COOKIE]["expires"] == ""
    assert client.get("/peek").json()["browser_close"] is True
    assert store.get(sid_of(client)).lifetime == TWO_WEEKS  # as Django's backends keep it


def test_set_expiry_at_a_moment_is_the_time_left(site, store):
    client = Client()
    response = post(client, "/expiry", {"in_seconds": 600})
    assert 598 <= response.cookies[COOKIE]["max-age"] <= 600
    assert 598 <= store.get(sid_of(client)).lifetime <= 600
    time.sleep(1.1)
    client.get("/count")  # every write sends the time left again
    assert 596 <= store.get(sid_of(client)).lifetime <= 599


def test_a_save_does_not_send_an_unchanged_lifetime_over_a_concurrent_one(site, store):
    client = Client()
    client.get("/count")
    sid = sid_of(client)
    other = SessionStore(sid)
    assert other["count"] == 1  # read with the default lifetime
    post(client, "/expiry", {"value": 300})  # meanwhile: lifetime 300
    other["x"] = 1
    other.save()
    stored = store.get(sid)
    assert stored.lifetime == 300 and stored.data == {"count": 1, "_session_expiry": 300, "x": 1}


def test_an_expiry_above_sessionds_max_lifetime_is_a_configuration_error(own_sessiond, use):
    server = own_sessiond("--max-lifetime", "60")
    use(server, SESSION_COOKIE_AGE=120)
    with pytest.raises(ImproperlyConfigured, match="max-lifetime"):
        Client().get("/count")
    client = Client()
    response = post(client, "/expiry", {"value": 60})  # within it: fine
    assert response.status_code == 200
    with SessiondClient(server.url) as direct:
        assert direct.get(sid_of(client)).lifetime == 60


# MARK: - Async (Django 5)


@pytest.mark.anyio
async def test_async_variants(site, store):
    session = SessionStore()
    await session.aset("a", 1)
    await session.asave()
    key = session.session_key
    assert key is not None and await session.aexists(key)
    assert store.get(key).data == {"a": 1}

    again = SessionStore(key)
    assert await again.aget("a") == 1  # aload
    await again.aset("b", 2)
    await again.acycle_key()
    new_key = again.session_key
    assert new_key != key and not await again.aexists(key)
    await again.asave()
    assert store.get(new_key).data == {"a": 1, "b": 2}
    await again.aset_expiry(120)
    await again.asave()
    assert store.get(new_key).lifetime == 120
    assert await again.aget_expiry_age() == 120

    created = SessionStore()
    await created.acreate()
    assert created.session_key is not None and store.get(created.session_key).data == {}
    await created.adelete()
    assert not await created.aexists(created.session_key)

    await again.aflush()
    assert again.session_key is None
    with pytest.raises(SessionNotFound):
        store.get(new_key)
    await SessionStore.aclear_expired()

    unknown = SessionStore(NEVER_ISSUED)
    assert await unknown.aload() == {} and unknown.session_key is None


@pytest.mark.anyio
async def test_async_views(site, store):
    client = AsyncClient()
    assert (await client.get("/async/count")).json() == {"count": 1}
    sid = client.cookies[COOKIE].value
    assert (await client.get("/async/count")).json() == {"count": 2}
    response = await client.get("/async/cycle")
    new = client.cookies[COOKIE].value
    assert new != sid and response.json()["key"] == new
    assert store.get(new).data == {"count": 2, "cycled": True}
    with pytest.raises(SessionNotFound):
        store.get(sid)


# MARK: - Sessiond down


def test_fail_closed_a_stopped_sessiond_fails_the_request(own_sessiond, use):
    server = own_sessiond()
    use(server, SESSIOND_TIMEOUT=1.0)
    client = Client()
    client.get("/count")
    server.stop()
    with pytest.raises(SessiondUnavailable):
        client.get("/count")  # reading the session
    fresh = Client(raise_request_exception=False)
    assert fresh.get("/count").status_code == 500  # creating one


def test_fail_open_reads_an_empty_session_and_drops_writes(own_sessiond, use, caplog):
    server = own_sessiond()
    use(server, SESSIOND_FAIL_OPEN=True, SESSIOND_TIMEOUT=0.5)
    client = Client()
    client.get("/count")
    client.get("/count")
    sid = sid_of(client)
    server.pause()
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            response = client.get("/count")
        assert response.status_code == 200 and response.json() == {"count": 1}  # an empty session
        assert sid_of(client) == sid  # the cookie is left alone
        levels = {r.levelname for r in caplog.records if r.name == LOGGER}
        assert levels == {"WARNING", "ERROR"}  # the read, and the dropped change

        peek = client.get("/peek").json()
        assert peek["data"] == {} and peek["unavailable"] is True
    finally:
        server.resume()
    with SessiondClient(server.url) as store:
        assert store.get(sid).data == {"count": 2}  # as it was
    assert client.get("/count").json() == {"count": 3}


def test_fail_open_with_sessiond_stopped_new_visitors_get_a_session_that_is_not_kept(own_sessiond, use, caplog):
    server = own_sessiond()
    use(server, SESSIOND_FAIL_OPEN=True)
    server.stop()  # refused connections: nothing can have been applied
    client = Client()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        response = client.get("/count")
    assert response.status_code == 200 and response.json() == {"count": 1}
    assert backend.SID_PATTERN.match(sid_of(client))  # a minted key, never stored
    assert [r.levelname for r in caplog.records if r.name == LOGGER] == ["ERROR"]  # the dropped create
    assert client.get("/count").json() == {"count": 1}  # its key names no session: empty again


def test_fail_open_login_while_down_never_writes_under_the_old_key(own_sessiond, use, store):
    server = own_sessiond()
    use(server, SESSIOND_FAIL_OPEN=True, SESSIOND_TIMEOUT=0.5)
    with SessiondClient(server.url) as direct:
        session = SessionStore()
        session["a"] = 1
        session.save()
        key = session.session_key
        again = SessionStore(key)
        assert again["a"] == 1  # read while up
        server.pause()
        try:
            again.cycle_key()  # rotate times out: a new key that is never saved
            assert again.unavailable and again.session_key != key
            again["_auth_user_id"] = "1"
            again.save()  # dropped
        finally:
            server.resume()
        again.save()  # still dropped: this session object stays unavailable
        # The rotate that timed out may still have been applied once Sessiond resumed (the old
        # key is then gone); either way, the login's data reached no session.
        try:
            assert direct.get(key).data == {"a": 1}
        except SessionNotFound:
            pass
        with pytest.raises(SessionNotFound):
            direct.get(again.session_key)


# MARK: - Settings


def test_the_client_follows_the_settings(sessiond, use):
    use(sessiond, SESSIOND_API_KEY="k1", SESSIOND_TIMEOUT=(0.5, 3))
    client = backend.get_client()
    assert client is backend.get_client()  # one per process
    assert client.url == sessiond.url and client.api_key == "k1" and client.timeout == (0.5, 3.0)
    with override_settings(SESSIOND_TIMEOUT=1.5):
        assert backend.get_client() is not client and backend.get_client().timeout == 1.5


def test_a_request_still_carrying_the_old_key_after_login_reads_and_leaves_the_cookie_alone(grace_sessiond, use):
    use(grace_sessiond)
    with SessiondClient(grace_sessiond.url) as store:
        client = Client()
        client.get("/count")
        before = sid_of(client)
        post(client, "/login", {"username": "alice", "password": "wonderland"})
        after = sid_of(client)
        assert after != before
        # A request of the page that left before the login answered, with the old cookie.
        late = Client()
        plant(late, before)
        assert late.get("/peek").json()["data"]["count"] == 1  # the session as it was at the login
        # Its write is refused (Django's SessionInterrupted, 400) and no cookie is set: the
        # browser keeps the new key.
        response = late.get("/count")
        assert response.status_code == 400
        assert COOKIE not in response.cookies
        assert store.get(after).data["count"] == 1
        assert store.get(before).rotated
