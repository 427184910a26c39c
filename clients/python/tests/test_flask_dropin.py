"""SessiondSessionInterface as an exact drop-in for Flask's own (cookie) session: every value
that Flask's SecureCookieSessionInterface round-trips comes back equal and of the same type,
plain JSON stays plain in Sessiond, and Flask's behaviours (accessed, modified, Vary, cookie
attributes, SESSION_REFRESH_EACH_REQUEST, session_transaction, streaming, async views, flash)
are the same. Each test runs one app twice, once on Flask's interface and once on Sessiond's,
against the real sessiond binary, and compares."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

import pytest
from flask import Flask, Response, flash, get_flashed_messages, jsonify, session, stream_with_context
from flask.json.tag import JSONTag, TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

from sessiond_client import SessiondClient, new_sid
from sessiond_client.flask import SessiondSession, SessiondSessionInterface

AN_ID = uuid.UUID("6f1c2a9e-0c7b-4f7e-9a51-2d3c4b5a6f70")

#: Values Flask's own session round-trips, by name.
VALUES: dict[str, Any] = {
    "str": "café \u2615 \u0000",
    "int": 9007199254740993,
    "negative": -7,
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "float": 0.1,
    "tiny": 1e-7,
    "true": True,
    "false": False,
    "none": None,
    "list": [1, "a", None, [2.5, False]],
    "dict": {"a": 1, "b": {"c": [1, 2]}, "z": None},
    "empty": {},
    "tuple": (1, "a"),
    "empty_tuple": (),
    "nested_tuples": ((1, 2), [3, (4,)]),
    "bytes": b"\x00\xffbin",
    "empty_bytes": b"",
    "naive_datetime": datetime(2024, 1, 2, 3, 4, 5, 678901),
    "aware_datetime": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
    "uuid": AN_ID,
    "markup": Markup("<b>hi</b> &amp;"),
    "looks_like_tuple": {" t": [1, 2]},
    "looks_like_dict_tag": {" di": "x"},
    "looks_like_markup": {" m": "<i>"},
    "looks_like_bytes": {" b": "AA=="},
    "looks_like_uuid": {" u": "not a uuid"},
    "looks_like_datetime": {" d": "yesterday"},
    "looks_like_escaped": {" t__": 1},
    "two_tag_keys": {" t": 1, " b": 2},
    "combo": {
        "when": [datetime(2020, 2, 29, 12, 0, tzinfo=timezone.utc), (b"x", AN_ID)],
        "m": Markup("&lt;"),
        "nested": {" t": (1, {" b": b"y"})},
        "plain": {"k": [1, 2]},
    },
    "list_of_tuples": [("message", "hi"), ("error", Markup("<i>x</i>"))],
    # Not tagged: the app's JSON provider makes strings of them, in Flask's session as here.
    "date": date(2024, 1, 2),
    "decimal": Decimal("1.10"),
}

#: How Flask gives the datetimes back: aware, UTC, to the second (http_date / parse_date).
AS_FLASK_GIVES_THEM = {
    "naive_datetime": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    "aware_datetime": datetime(2024, 1, 2, 1, 4, 5, tzinfo=timezone.utc),
    "date": "Tue, 02 Jan 2024 00:00:00 GMT",
    "decimal": "1.10",
}


def assert_same(ours: Any, flasks: Any, where: str = "") -> None:
    """Equal, and of the same type all the way down (True is not 1, a tuple not a list)."""
    assert type(ours) is type(flasks), f"{where}: {type(ours).__name__} {ours!r} != {type(flasks).__name__} {flasks!r}"
    if isinstance(flasks, dict):
        assert list(ours) == list(flasks) or set(ours) == set(flasks), f"{where}: keys {list(ours)} != {list(flasks)}"
        for key in flasks:
            assert_same(ours[key], flasks[key], f"{where}[{key!r}]")
    elif isinstance(flasks, (list, tuple)):
        assert len(ours) == len(flasks), f"{where}: {ours!r} != {flasks!r}"
        for i, (a, b) in enumerate(zip(ours, flasks)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert ours == flasks, f"{where}: {ours!r} != {flasks!r}"
        if isinstance(flasks, datetime):
            assert ours.tzinfo == flasks.tzinfo and ours.utcoffset() == flasks.utcoffset(), where


class Twin:
    """One app, built twice: on Flask's cookie session and on Sessiond's."""

    def __init__(self, url: str, build: Callable[[Flask], None], config: dict[str, Any] | None = None,
                 interface: SessiondSessionInterface | None = None) -> None:
        self.flask_app = self._make(SecureCookieSessionInterface(), build, config)
        self.ours_interface = interface or SessiondSessionInterface(url)
        self.ours_app = self._make(self.ours_interface, build, config)

    @staticmethod
    def _make(interface: Any, build: Callable[[Flask], None], config: dict[str, Any] | None) -> Flask:
        app = Flask(__name__)
        app.secret_key = "test-secret"
        app.config.update(config or {})
        app.session_interface = interface
        build(app)
        return app

    def both(self):
        return [("flask", self.flask_app.test_client()), ("sessiond", self.ours_app.test_client())]


def cookie_of(test_client, name: str = "session") -> str | None:
    cookie = test_client.get_cookie(name)
    return cookie.value if cookie else None


def value_app(app: Flask) -> None:
    seen: dict[str, Any] = {}
    app.config["SEEN"] = seen

    @app.post("/store/<names>")
    def store(names: str):
        for name in names.split(","):
            session[name] = copy.deepcopy(VALUES[name])
        return "ok"

    @app.get("/load")
    def load():
        seen.clear()
        seen.update(dict(session))
        return "ok"

    @app.post("/change")
    def change():
        session["tuple"] = (2, b"\x01")                # another tagged value
        session["combo"]["nested"] = {" t": (3,)}      # in place, inside a plain dict
        session["list_of_tuples"].append(("info", "more"))
        del session["bytes"]
        session["str"] = AN_ID                          # plain -> tagged
        session["uuid"] = "now a string"                # tagged -> plain
        return "ok"


def round_trip(twin: Twin, names: str, then: str | None = None) -> dict[str, dict[str, Any]]:
    results = {}
    for label, browser in twin.both():
        assert browser.post(f"/store/{names}").status_code == 200
        if then:
            assert browser.post(then).status_code == 200
        assert browser.get("/load").status_code == 200
        app = twin.flask_app if label == "flask" else twin.ours_app
        results[label] = dict(app.config["SEEN"])
    return results


@pytest.fixture
def client(sessiond):
    with SessiondClient(sessiond.url) as c:
        yield c


# MARK: - Values


@pytest.mark.parametrize("name", sorted(VALUES))
def test_each_value_alone_comes_back_as_flasks_session_gives_it(sessiond, name):
    twin = Twin(sessiond.url, value_app)
    results = round_trip(twin, name)
    assert_same(results["sessiond"], results["flask"], name)
    assert_same(results["flask"][name], AS_FLASK_GIVES_THEM.get(name, VALUES[name]), f"flask's {name}")


def test_all_values_together_and_changed_in_a_later_request(sessiond, client):
    twin = Twin(sessiond.url, value_app)
    results = round_trip(twin, ",".join(VALUES), then="/change")
    assert_same(results["sessiond"], results["flask"], "session")
    assert results["sessiond"]["tuple"] == (2, b"\x01") and results["sessiond"]["str"] == AN_ID
    assert "bytes" not in results["sessiond"]


@pytest.mark.parametrize("key", [" t", " di", " m", "_flashes"])
def test_a_top_level_key_that_looks_like_a_tag(sessiond, key):
    def build(app: Flask) -> None:
        seen: dict[str, Any] = {}
        app.config["SEEN"] = seen

        @app.post("/store/<names>")
        def store(names: str):
            session[key] = [1, (2, 3)]
            return "ok"

        @app.get("/load")
        def load():
            seen.update(dict(session))
            return "ok"

    results = round_trip(Twin(sessiond.url, build), "x")
    assert_same(results["sessiond"], results["flask"], key)
    assert_same(results["sessiond"], {key: [1, (2, 3)]}, key)


def test_plain_json_is_stored_as_itself_and_other_values_in_flasks_tagged_form(sessiond, client):
    twin = Twin(sessiond.url, value_app)
    browser = twin.ours_app.test_client()
    browser.post("/store/" + ",".join(VALUES))
    stored = client.get(cookie_of(browser)).data
    for name in ("str", "int", "negative", "float", "tiny", "true", "false", "none", "list", "dict", "empty"):
        assert stored[name] == VALUES[name] and type(stored[name]) is type(VALUES[name]), name
    assert stored["tuple"] == {" t": [1, "a"]}
    assert stored["empty_tuple"] == {" t": []}
    assert stored["bytes"] == {" b": "AP9iaW4="}
    assert stored["naive_datetime"] == {" d": "Tue, 02 Jan 2024 03:04:05 GMT"}
    assert stored["aware_datetime"] == {" d": "Tue, 02 Jan 2024 01:04:05 GMT"}
    assert stored["uuid"] == {" u": AN_ID.hex}
    assert stored["markup"] == {" m": "<b>hi</b> &amp;"}
    assert stored["looks_like_tuple"] == {" di": {" t__": [1, 2]}}
    assert stored["two_tag_keys"] == {" t": 1, " b": 2}  # two keys: no tag, no escaping
    # Only the values that need it are tagged, down in a plain structure.
    assert stored["combo"] == {
        "when": [{" d": "Sat, 29 Feb 2020 12:00:00 GMT"}, {" t": [{" b": "eA=="}, {" u": AN_ID.hex}]}],
        "m": {" m": "&lt;"},
        "nested": {" di": {" t__": {" t": [1, {" di": {" b__": {" b": "eQ=="}}}]}}},
        "plain": {"k": [1, 2]},
    }
    assert stored["date"] == "Tue, 02 Jan 2024 00:00:00 GMT" and stored["decimal"] == "1.10"
    assert list(stored["dict"]) == ["a", "b", "z"]  # the order of keys is kept


def test_values_other_clients_wrote_are_read_with_flasks_tags(sessiond, client):
    # Another app (any language) writes plain JSON and a tagged tuple; Flask reads them.
    s = client.create({"cart": [1, 2], "pair": {" t": [1, 2]}, "bad": {" u": "zz"}})

    def build(app: Flask) -> None:
        @app.get("/")
        def index():
            return jsonify(cart=session["cart"], pair_is_tuple=isinstance(session["pair"], tuple), bad=session["bad"])

    twin = Twin(sessiond.url, build)
    browser = twin.ours_app.test_client()
    browser.set_cookie("session", s.sid)
    # A tagged value that does not parse is given as the stored JSON, not an error.
    assert browser.get("/").get_json() == {"cart": [1, 2], "pair_is_tuple": True, "bad": {" u": "zz"}}
    assert client.get(s.sid).version == 1  # and reading wrote nothing back


def test_values_that_did_not_change_are_not_written(sessiond, client):
    twin = Twin(sessiond.url, value_app)
    browser = twin.ours_app.test_client()
    browser.post("/store/" + ",".join(VALUES))
    sid = cookie_of(browser)
    version = client.get(sid).version
    for _ in range(2):
        browser.get("/load")  # reads every value, tagged ones included
    browser.post("/store/tuple,naive_datetime,markup,combo")  # the same values again
    assert client.get(sid).version == version


def test_a_change_to_a_tagged_value_is_one_write_of_that_key(sessiond, client):
    def build(app: Flask) -> None:
        @app.post("/a")
        def a():
            session["a"] = (1, 2)
            session["b"] = {"when": datetime(2024, 1, 1, tzinfo=timezone.utc), "n": 1}
            return "ok"

        @app.post("/b")
        def b():
            session["a"] = (1, 3)
            session["b"]["n"] = 2
            return "ok"

    twin = Twin(sessiond.url, build)
    browser = twin.ours_app.test_client()
    browser.post("/a")
    sid = cookie_of(browser)
    browser.post("/b")
    stored = client.get(sid)
    assert stored.version == 2  # one write (a PUT with If-Match: a tagged value is written whole)
    assert stored.data == {"a": {" t": [1, 3]}, "b": {"when": {" d": "Mon, 01 Jan 2024 00:00:00 GMT"}, "n": 2}}


def test_custom_tags_registered_on_the_serializer_are_used(sessiond, client):
    class TagSet(JSONTag):
        key = " set"

        def check(self, value: Any) -> bool:
            return isinstance(value, (set, frozenset))

        def to_json(self, value: Any) -> Any:
            return sorted(value)

        def to_python(self, value: Any) -> Any:
            return set(value)

    class WithSets(SessiondSessionInterface):
        serializer = TaggedJSONSerializer()

    WithSets.serializer.register(TagSet)

    def build(app: Flask) -> None:
        @app.post("/")
        def put():
            session["ids"] = {3, 1, 2}
            return "ok"

        @app.get("/")
        def get():
            return jsonify(is_set=isinstance(session["ids"], set), ids=sorted(session["ids"]))

    twin = Twin(sessiond.url, build, interface=WithSets(sessiond.url))
    browser = twin.ours_app.test_client()
    browser.post("/")
    assert browser.get("/").get_json() == {"is_set": True, "ids": [1, 2, 3]}
    assert client.get(cookie_of(browser)).data == {"ids": {" set": [1, 2, 3]}}


# MARK: - Flash


def flash_app(app: Flask) -> None:
    seen: list[Any] = []
    app.config["SEEN"] = seen

    @app.post("/flash")
    def do_flash():
        flash("saved", "info")
        flash(Markup("<b>careful</b>"), "warning")
        flash("plain")
        return "ok"

    @app.get("/show")
    def show():
        seen.append(get_flashed_messages(with_categories=True))
        return "ok"


def test_flashed_messages_with_categories_come_back_as_tuples(sessiond, client):
    twin = Twin(sessiond.url, flash_app)
    shown = {}
    for label, browser in twin.both():
        browser.post("/flash")
        browser.get("/show")
        browser.get("/show")  # shown once, then gone
        app = twin.flask_app if label == "flask" else twin.ours_app
        shown[label] = list(app.config["SEEN"])
    assert_same(shown["sessiond"], shown["flask"], "flashes")
    assert shown["sessiond"][0] == [("info", "saved"), ("warning", Markup("<b>careful</b>")), ("message", "plain")]
    assert isinstance(shown["sessiond"][0][1][1], Markup) and shown["sessiond"][1] == []


# MARK: - Flask's behaviours


def flags_app(app: Flask) -> None:
    @app.post("/set")
    def set_():
        session["n"] = 1
        return jsonify(accessed=session.accessed, modified=session.modified)

    @app.get("/read")
    def read():
        n = session.get("n")
        return jsonify(n=n, accessed=session.accessed, modified=session.modified)

    @app.post("/in-place")
    def in_place():
        session.setdefault("list", []).append(1)
        session["list"].append(2)
        return jsonify(modified=session.modified)

    @app.get("/untouched")
    def untouched():
        return "no session here"

    @app.post("/permanent")
    def permanent():
        session.permanent = True
        return "ok"

    @app.post("/clear")
    def clear():
        session.clear()
        return "ok"


def test_accessed_modified_and_vary_as_flask(sessiond):
    twin = Twin(sessiond.url, flags_app)
    seen = {}
    for label, browser in twin.both():
        replies = [browser.post("/set"), browser.get("/read"), browser.get("/untouched"), browser.post("/in-place")]
        seen[label] = [(r.get_json(silent=True), "Cookie" in r.headers.get("Vary", "")) for r in replies]
    assert seen["sessiond"] == seen["flask"]
    assert seen["sessiond"][0] == ({"accessed": True, "modified": True}, True)
    assert seen["sessiond"][1] == ({"n": 1, "accessed": True, "modified": False}, True)
    assert seen["sessiond"][2] == (None, False)  # the view never touched the session: no Vary


def cookie_attributes(header: str) -> dict[str, str]:
    name_value, *attributes = header.split("; ")
    found = {"name": name_value.split("=", 1)[0]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        found[key.lower()] = value
    return found


def cookie_app(app: Flask) -> None:
    @app.post("/app/<action>")
    def act(action: str):
        if action == "set":
            session["n"] = 1
        elif action == "permanent":
            session.permanent = True
        elif action == "clear":
            session.clear()
        return "ok"


@pytest.mark.parametrize("config", [
    {},
    {"SESSION_COOKIE_NAME": "sid", "SESSION_COOKIE_DOMAIN": "example.test", "SESSION_COOKIE_PATH": "/app",
     "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": False, "SESSION_COOKIE_SAMESITE": "Strict",
     "SESSION_COOKIE_PARTITIONED": True},
    {"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": True, "PERMANENT_SESSION_LIFETIME": 600},
], ids=["defaults", "every-setting", "samesite-none"])
def test_cookie_attributes_as_flask(sessiond, config):
    twin = Twin(sessiond.url, cookie_app, config=config)
    base = ("https://" if config.get("SESSION_COOKIE_SECURE") else "http://") + "example.test/app/"
    headers: dict[str, list[dict[str, str]]] = {}
    for label, browser in twin.both():
        got = []
        for action in ("set", "permanent", "clear"):
            reply = browser.post(base + action)
            assert reply.status_code == 200
            [header] = reply.headers.getlist("Set-Cookie")
            attributes = cookie_attributes(header)
            if action == "permanent":
                expires = datetime.strptime(attributes.pop("expires"), "%a, %d %b %Y %H:%M:%S GMT")
                lifetime = config.get("PERMANENT_SESSION_LIFETIME", 31 * 86400)
                expected = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=lifetime)
                assert abs((expires - expected).total_seconds()) < 10, (label, expires)
            got.append(attributes)
            assert "Cookie" in reply.headers.get("Vary", "")
        headers[label] = got
    assert headers["sessiond"] == headers["flask"]
    assert headers["sessiond"][0]["name"] == config.get("SESSION_COOKIE_NAME", "session")
    if config.get("SESSION_COOKIE_PARTITIONED"):
        assert "partitioned" in headers["sessiond"][0] and headers["sessiond"][0]["domain"] == "example.test"
        assert headers["sessiond"][0]["path"] == "/app" and "httponly" not in headers["sessiond"][0]
    assert headers["sessiond"][2]["max-age"] == "0"  # cleared: the cookie is removed


@pytest.mark.parametrize("refresh", [True, False])
def test_session_refresh_each_request_as_flask(sessiond, refresh):
    twin = Twin(sessiond.url, flags_app, config={"SESSION_REFRESH_EACH_REQUEST": refresh})
    sent = {}
    for label, browser in twin.both():
        browser.post("/set")
        browser.post("/permanent")
        reads = [browser.get("/read") for _ in range(2)]
        sent[label] = [len(r.headers.getlist("Set-Cookie")) for r in reads]
    assert sent["sessiond"] == sent["flask"] == ([1, 1] if refresh else [0, 0])


def test_session_transaction(sessiond, client):
    def build(app: Flask) -> None:
        @app.get("/")
        def index():
            session["seen"] = True
            return jsonify(user=session.get("user"), pair=isinstance(session.get("pair"), tuple))

    twin = Twin(sessiond.url, build)
    for label, browser in twin.both():
        with browser.session_transaction() as sess:
            sess["user"] = 42
            sess["pair"] = (1, 2)
        assert browser.get("/").get_json() == {"user": 42, "pair": True}, label
        with browser.session_transaction() as sess:
            assert dict(sess) == {"user": 42, "pair": (1, 2), "seen": True}, label
    browser = twin.ours_app.test_client()
    with browser.session_transaction() as sess:
        assert isinstance(sess, SessiondSession)
        sess["user"] = 7
    assert client.get(cookie_of(browser)).data == {"user": 7}


def test_a_streamed_response_reads_the_session_and_keeps_the_change(sessiond, client):
    def build(app: Flask) -> None:
        @app.get("/stream")
        def stream():
            session["streamed"] = (1, 2)

            @stream_with_context
            def generate():
                yield "user={};".format(session.get("user"))
                yield "streamed={!r}".format(session["streamed"])

            return Response(generate(), mimetype="text/plain")

        @app.post("/login")
        def login():
            session["user"] = "ada"
            return "ok"

        @app.get("/read")
        def read():
            return repr(session.get("streamed"))

    twin = Twin(sessiond.url, build)
    for label, browser in twin.both():
        browser.post("/login")
        reply = browser.get("/stream")
        assert reply.get_data(as_text=True) == "user=ada;streamed=(1, 2)", label
        assert browser.get("/read").get_data(as_text=True) == "(1, 2)", label
    browser = twin.ours_app.test_client()
    browser.post("/login")
    browser.get("/stream")
    assert client.get(cookie_of(browser)).data == {"user": "ada", "streamed": {" t": [1, 2]}}


def test_async_views(sessiond, client):
    def build(app: Flask) -> None:
        @app.post("/a")
        async def a():
            await asyncio.sleep(0)
            session["when"] = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
            session["n"] = session.get("n", 0) + 1
            return "ok"

        @app.get("/b")
        async def b():
            await asyncio.sleep(0)
            return jsonify(n=session["n"], when=session["when"].isoformat())

    twin = Twin(sessiond.url, build)
    for label, browser in twin.both():
        browser.post("/a")
        browser.post("/a")
        assert browser.get("/b").get_json() == {"n": 2, "when": "2024-05-06T07:08:09+00:00"}, label


# MARK: - The per-session lifetime another client set is kept


def test_a_lifetime_set_by_another_client_survives_flask_writes(sessiond, client):
    ready = client.create({"n": 1}, lifetime=600)  # needs the #13 server

    def build(app: Flask) -> None:
        @app.post("/patch")
        def patch():
            session["n"] += 1
            return "ok"

        @app.post("/put")
        def put():
            session["nothing"] = None  # written by PUT: the lifetime must be stated again
            return "ok"

    twin = Twin(sessiond.url, build)
    browser = twin.ours_app.test_client()
    browser.set_cookie("session", ready.sid)
    browser.post("/patch")
    browser.post("/put")
    stored = client.get(ready.sid)
    assert stored.data == {"n": 2, "nothing": None} and stored.version == 3
    assert stored.lifetime == 600 and stored.ttl <= 600


def test_a_minted_sid_session_is_read_by_flask(sessiond, client):
    sid = new_sid()
    client.create({"pair": {" t": [1, 2]}}, sid=sid)  # needs the #13 server

    def build(app: Flask) -> None:
        @app.get("/")
        def index():
            return repr(session["pair"])

    browser = Twin(sessiond.url, build).ours_app.test_client()
    browser.set_cookie("session", sid)
    assert browser.get("/").get_data(as_text=True) == "(1, 2)"
