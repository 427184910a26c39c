"""Versions, conditional writes, merge PATCH, touch, rotate and subjects over real HTTP,
against a running sessiond, with the races a client relies on being decided safely.

The server's base URL comes from SESSIOND_URL (e.g. http://127.0.0.1:18123), and
SESSIOND_STORE says which store it runs on ("memory" when unset); the tests do not depend on
the store. They assume the default settings: standard lifetime one day, permanent lifetime 31
days, no absolute lifetime, 65536-byte bodies. HTTP goes through http.client, every request on
a connection of its own; the races start their threads on already-open connections behind a
barrier so the requests reach the server together. Each test uses subjects of its own (uuid4
based), so tests do not see each other's sessions.

Expiry cannot be awaited at the default lifetime of a day: that an expired session is never
listed under its subject (nor readable) is tested in Swift with a manual clock, and here only
by `TestShortLifetime`, which runs when SESSIOND_SHORT_LIFETIME_URL points at a second server
started with `--lifetime 1s` (it is skipped otherwise).
"""

import datetime
import hashlib
import http.client
import json
import os
import re
import threading
import time
import urllib.parse
import uuid

import pytest

BASE_URL = os.environ.get("SESSIOND_URL")
if not BASE_URL:
    pytest.skip("SESSIOND_URL is not set (e.g. http://127.0.0.1:18123)", allow_module_level=True)
SHORT_LIFETIME_URL = os.environ.get("SESSIOND_SHORT_LIFETIME_URL")

STORE = os.environ.get("SESSIOND_STORE", "memory")
PROBLEMS = "https://sessiond.dev/problems/"
DAY = 86_400
PERMANENT = 31 * DAY
MAX_BODY = 65_536
MAX_SUBJECT_BYTES = 256
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HANDLE = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NEVER_ISSUED = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
SESSION_KEYS = [
    "sid", "data", "permanent", "subject", "lifetime", "version", "created_at", "updated_at", "expires_at", "last_seen_at", "device", "ttl",
]
SUMMARY_KEYS = {"handle", "permanent", "created_at", "updated_at", "expires_at", "last_seen_at", "device", "ttl"}
MERGE_PATCH = "application/merge-patch+json"
NEW_PROBLEM_TITLES = {
    "precondition-failed": "Session version has moved on",
    "invalid-if-match": "Malformed If-Match header",
    "invalid-query": "Unsupported query parameter",
    "malformed-subject": "Malformed subject",
    "malformed-handle": "Malformed session handle",
    "data-too-large": "Merged session data is too large",
}
RACE_ROUNDS = 30


# MARK: - HTTP helpers


class Server:
    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname
        self.port = parts.port or 80
        self.base_path = parts.path.rstrip("/")


MAIN = Server(BASE_URL)


class Reply:
    """One response: status, headers (case-insensitive lookups) and the raw body bytes."""

    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body)

    def raw_json(self):
        """The body parsed with every number kept as the text the server wrote."""
        return json.loads(self.body, parse_int=NumberText, parse_float=NumberText, parse_constant=NumberText)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class NumberText(str):
    """A JSON number as written on the wire."""


def encode_body(body):
    if isinstance(body, (dict, list)) or body is None:
        return json.dumps(body).encode()
    if isinstance(body, str):
        return body.encode()
    return body


NO_BODY = object()


class Call:
    """One request, prepared so that its connection can be opened before it is sent."""

    def __init__(self, method, path, body=NO_BODY, headers=None, content_type="application/json", server=None):
        self.server = server or MAIN
        self.method = method
        self.path = path
        self.headers = {}
        self.body = None
        if body is not NO_BODY:
            self.body = encode_body(body)
            if content_type is not None:
                self.headers["Content-Type"] = content_type
        self.headers.update(headers or {})

    def connect(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        conn.connect()
        return conn

    def send(self, conn):
        try:
            conn.request(self.method, self.server.base_path + self.path, body=self.body, headers=self.headers)
            return Reply(conn.getresponse())
        finally:
            conn.close()

    def __call__(self):
        return self.send(self.connect())


def request(method, path, body=NO_BODY, headers=None, content_type="application/json", server=None):
    """Sends one request on a fresh connection and returns its `Reply`."""
    return Call(method, path, body, headers, content_type, server)()


def race(*calls):
    """Sends `calls` at once: each on a connection of its own opened beforehand, released together."""
    barrier = threading.Barrier(len(calls))
    replies = [None] * len(calls)
    errors = [None] * len(calls)

    def run(index, call):
        try:
            conn = call.connect()
            barrier.wait(timeout=30)
            replies[index] = call.send(conn)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors[index] = error
            barrier.abort()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing request did not finish within 60 s"
    for error in errors:
        if error is not None and not isinstance(error, threading.BrokenBarrierError):
            raise error
    for error in errors:
        if error is not None:
            raise error
    return replies


def run_together(functions):
    """Runs each function in a thread of its own, started together; returns their results."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)
    errors = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=30)
            results[index] = function(index)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors[index] = error

    threads = [threading.Thread(target=run, args=(index, function)) for index, function in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish within 120 s"
    for error in errors:
        if error is not None:
            raise error
    return results


def session_path(sid):
    return f"/sessions/{sid}"


def subject_path(subject):
    return "/subjects/" + urllib.parse.quote(subject, safe="") + "/sessions"


def handle_of(sid):
    return hashlib.sha256(b"sessiond-handle-v1:" + sid.encode()).hexdigest()[:32]


def fresh_subject(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex}"


def create(body=NO_BODY, server=None):
    reply = request("POST", "/sessions", body, server=server)
    assert reply.status == 201, reply
    return reply


def create_session(data=None, server=None, **fields):
    body = {"data": data if data is not None else {}}
    body.update(fields)
    return create(body, server=server).json()


def read(sid, server=None):
    reply = request("GET", session_path(sid), server=server)
    assert reply.status == 200, reply
    return reply


def patch(sid, body, headers=None, content_type=MERGE_PATCH, server=None):
    return request("PATCH", session_path(sid), body, headers=headers, content_type=content_type, server=server)


def touch(sid, headers=None, server=None):
    return request("POST", session_path(sid) + "/touch", headers=headers, server=server)


def rotate(sid, headers=None, server=None):
    return request("POST", session_path(sid) + "/rotate", headers=headers, server=server)


def listing(subject, server=None):
    reply = request("GET", subject_path(subject), server=server)
    assert reply.status == 200, reply
    body = reply.json()
    assert body["subject"] == subject, body
    return body


def listed_handles(subject, server=None):
    return [entry["handle"] for entry in listing(subject, server)["sessions"]]


def parse_time(text):
    assert TIMESTAMP.match(text), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def milliseconds_between(earlier, later):
    delta = parse_time(later) - parse_time(earlier)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def assert_problem(reply, status, slug):
    """`reply` is an RFC 9457 problem of the given status and type."""
    assert reply.status == status, reply
    assert reply.header("Content-Type") == "application/problem+json", reply.headers
    assert reply.header("Cache-Control") == "no-store"
    problem = reply.json()
    assert problem["type"] == PROBLEMS + slug, problem
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    if slug in NEW_PROBLEM_TITLES:
        assert problem["title"] == NEW_PROBLEM_TITLES[slug], problem
    return problem


def assert_precondition_failed(reply, current_version):
    problem = assert_problem(reply, 412, "precondition-failed")
    assert problem["current_version"] == current_version, problem
    assert type(problem["current_version"]) is int
    assert reply.header("ETag") == f'"{current_version}"', reply.headers
    return problem


def assert_session_reply(reply, status=200):
    """A reply carrying a session: status, headers, member order and shape; returns the session."""
    assert reply.status == status, reply
    assert reply.header("Content-Type") == "application/json; charset=utf-8", reply.headers
    assert reply.header("Cache-Control") == "no-store"
    session = reply.json()
    assert list(session) == SESSION_KEYS, session
    assert UUID4.match(session["sid"]), session["sid"]
    assert isinstance(session["data"], dict)
    assert isinstance(session["permanent"], bool)
    assert session["subject"] is None or isinstance(session["subject"], str)
    assert type(session["version"]) is int and session["version"] >= 1
    for field in ("created_at", "updated_at", "expires_at"):
        parse_time(session[field])
    assert type(session["ttl"]) is int and session["ttl"] >= 0
    assert reply.header("ETag") == f'"{session["version"]}"', reply.headers
    return session


def without_ttl(session):
    return {key: value for key, value in session.items() if key != "ttl"}


def assert_unchanged(sid, before):
    """The session still reads exactly as `before` (apart from the ticking ttl)."""
    after = read(sid)
    assert after.header("ETag") == f'"{before["version"]}"'
    assert without_ttl(after.json()) == without_ttl(before)


def assert_gone(sid):
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


# MARK: - Concurrent writes


def test_50_concurrent_patches_each_add_their_own_key():
    sid = create_session({"start": True})["sid"]
    calls = [Call("PATCH", session_path(sid), {"data": {f"key{index}": index}}, content_type=MERGE_PATCH) for index in range(50)]
    replies = race(*calls)
    for reply in replies:
        assert_session_reply(reply)
    # Each PATCH was applied on its own: 50 distinct versions, 2 to 51.
    assert sorted(reply.json()["version"] for reply in replies) == list(range(2, 52))
    session = read(sid).json()
    assert session["data"] == {"start": True, **{f"key{index}": index for index in range(50)}}
    assert session["version"] == 51


def test_50_concurrent_read_modify_write_cycles_with_if_match_count_exactly():
    sid = create_session({"counter": 0, "other": "kept"})["sid"]
    conflicts = []
    lock = threading.Lock()

    def increment(index):
        for _ in range(1000):
            current = read(sid)
            version = current.json()["version"]
            assert current.header("ETag") == f'"{version}"'
            counter = current.json()["data"]["counter"]
            condition = {"If-Match": current.header("ETag")}
            if index % 2:
                reply = request("PUT", session_path(sid), {"data": {"counter": counter + 1, "other": "kept"}}, headers=condition)
            else:
                reply = patch(sid, {"data": {"counter": counter + 1}}, headers=condition)
            if reply.status == 200:
                written = assert_session_reply(reply)
                assert written["version"] == version + 1
                assert written["data"]["counter"] == counter + 1
                return
            problem = assert_problem(reply, 412, "precondition-failed")
            assert type(problem["current_version"]) is int
            assert problem["current_version"] > version, problem
            assert reply.header("ETag") == f'"{problem["current_version"]}"'
            with lock:
                conflicts.append(problem["current_version"])
        raise AssertionError("no write succeeded in 1000 attempts")

    run_together([increment] * 50)
    session = read(sid).json()
    assert session["data"] == {"counter": 50, "other": "kept"}
    assert session["version"] == 51
    # 50 writers racing on one version: had If-Match been ignored, there would be no 412.
    assert conflicts, "50 concurrent conditional writes never met a 412"


def test_touches_racing_patches_lose_no_patch():
    sid = create_session({})["sid"]
    calls = []
    for index in range(20):
        calls.append(Call("PATCH", session_path(sid), {"data": {f"key{index}": index}}, content_type=MERGE_PATCH))
        calls.append(Call("POST", session_path(sid) + "/touch"))
        calls.append(Call("GET", session_path(sid) + "?touch=true"))
    replies = race(*calls)
    for reply in replies:
        assert reply.status == 200, reply
    session = read(sid).json()
    assert session["data"] == {f"key{index}": index for index in range(20)}
    assert session["version"] == 21


@pytest.mark.parametrize("writer", ["PUT", "PATCH", "touch"])
def test_a_write_racing_a_delete_never_brings_the_session_back(writer):
    for round_number in range(RACE_ROUNDS):
        sid = create_session({"round": round_number})["sid"]
        if writer == "PUT":
            write = Call("PUT", session_path(sid), {"data": {"put": round_number}})
        elif writer == "PATCH":
            write = Call("PATCH", session_path(sid), {"data": {"patched": round_number}}, content_type=MERGE_PATCH)
        else:
            write = Call("POST", session_path(sid) + "/touch")
        written, deleted = race(write, Call("DELETE", session_path(sid)))
        assert deleted.status == 204, deleted
        if written.status != 200:
            assert_problem(written, 404, "session-not-found")
        # The DELETE answered 204 after (or instead of being overtaken by) the write: gone either way.
        after = request("GET", session_path(sid))
        assert after.status == 404, (round_number, writer, written, after)


def test_concurrent_rotations_of_one_sid_fork_no_second_session():
    sid = create_session({"x": 1})["sid"]
    replies = race(*[Call("POST", session_path(sid) + "/rotate") for _ in range(10)])
    winners = [reply for reply in replies if reply.status == 201]
    assert len(winners) == 1, replies
    for reply in replies:
        if reply.status != 201:
            assert_problem(reply, 404, "session-not-found")
    new = assert_session_reply(winners[0], 201)
    assert read(new["sid"]).json()["version"] == 2
    assert_gone(sid)


# MARK: - Rotate


def test_rotate_issues_a_new_sid_for_the_same_session():
    subject = fresh_subject()
    before = create_session({"user": 42, "cart": [1, 0.1]}, permanent=True, subject=subject)
    sid = before["sid"]
    time.sleep(0.05)
    reply = rotate(sid)
    rotated = assert_session_reply(reply, 201)
    new_sid = rotated["sid"]
    assert new_sid != sid
    assert uuid.UUID(new_sid).version == 4
    assert reply.header("Location") == f"/sessions/{new_sid}"
    assert reply.header("ETag") == '"2"'
    assert rotated["data"] == before["data"]
    assert rotated["subject"] == subject
    assert rotated["permanent"] is True
    assert rotated["created_at"] == before["created_at"]
    assert rotated["version"] == before["version"] + 1
    assert parse_time(rotated["updated_at"]) > parse_time(before["updated_at"])
    assert milliseconds_between(rotated["updated_at"], rotated["expires_at"]) == PERMANENT * 1000
    assert PERMANENT - 5 <= rotated["ttl"] <= PERMANENT
    # The new sid reads what rotate answered; the old one is gone at once.
    again = read(new_sid)
    assert again.header("ETag") == '"2"'
    assert without_ttl(again.json()) == without_ttl(rotated)
    assert_gone(sid)


def test_rotated_away_sid_refuses_every_write_and_leaves_the_new_session_alone():
    before = create_session({"x": 1})
    sid = before["sid"]
    rotated = assert_session_reply(rotate(sid), 201)
    assert_problem(request("PUT", session_path(sid), {"data": {"stolen": True}}), 404, "session-not-found")
    assert_problem(patch(sid, {"data": {"stolen": True}}), 404, "session-not-found")
    assert_problem(touch(sid), 404, "session-not-found")
    assert_problem(rotate(sid), 404, "session-not-found")
    assert_problem(request("GET", session_path(sid) + "?touch=true"), 404, "session-not-found")
    assert request("DELETE", session_path(sid)).status == 204
    assert_unchanged(rotated["sid"], rotated)


def test_rotate_of_a_standard_session_slides_a_day():
    before = create_session({"x": 1})
    rotated = assert_session_reply(rotate(before["sid"]), 201)
    assert rotated["permanent"] is False
    assert rotated["subject"] is None
    assert milliseconds_between(rotated["updated_at"], rotated["expires_at"]) == DAY * 1000
    assert DAY - 5 <= rotated["ttl"] <= DAY


def test_rotate_with_a_body_other_than_a_proposed_sid_is_422_and_rotates_nothing():
    before = create_session({"x": 1})
    reply = request("POST", session_path(before["sid"]) + "/rotate", {"data": {}})
    assert_problem(reply, 422, "invalid-body")
    assert reply.header("Location") is None
    assert_unchanged(before["sid"], before)


def test_rotate_of_a_never_issued_sid_is_404():
    assert_problem(rotate(NEVER_ISSUED), 404, "session-not-found")
    assert_gone(NEVER_ISSUED)


@pytest.mark.parametrize("writer", ["PUT", "PATCH"])
def test_a_write_on_the_old_sid_racing_rotate_is_either_carried_over_or_refused(writer):
    for round_number in range(RACE_ROUNDS):
        sid = create_session({"original": round_number})["sid"]
        if writer == "PUT":
            write = Call("PUT", session_path(sid), {"data": {"written": round_number}})
            expected_if_written = {"written": round_number}
        else:
            write = Call("PATCH", session_path(sid), {"data": {"written": round_number}}, content_type=MERGE_PATCH)
            expected_if_written = {"original": round_number, "written": round_number}
        rotated, written = race(Call("POST", session_path(sid) + "/rotate"), write)
        new = assert_session_reply(rotated, 201)
        current = read(new["sid"]).json()
        if written.status == 200:
            # The write was acknowledged: it must have landed before the rotation, so it lives on.
            assert current["data"] == expected_if_written, (round_number, written, current)
            assert current["version"] == 3
        else:
            assert_problem(written, 404, "session-not-found")
            assert current["data"] == {"original": round_number}, (round_number, current)
            assert current["version"] == 2
        assert_gone(sid)


def test_patches_racing_rotate_all_land_in_the_new_session_or_are_refused():
    sid = create_session({})["sid"]
    calls = [Call("POST", session_path(sid) + "/rotate")]
    calls += [Call("PATCH", session_path(sid), {"data": {f"key{index}": index}}, content_type=MERGE_PATCH) for index in range(20)]
    replies = race(*calls)
    new = assert_session_reply(replies[0], 201)
    applied = set()
    for index, reply in enumerate(replies[1:]):
        if reply.status == 200:
            applied.add(f"key{index}")
        else:
            assert_problem(reply, 404, "session-not-found")
    current = read(new["sid"]).json()
    assert set(current["data"]) == applied
    assert current["version"] == 1 + len(applied) + 1
    assert_gone(sid)


# MARK: - If-Match


def put_op(sid, headers):
    return request("PUT", session_path(sid), {"data": {"new": 1}}, headers=headers)


def patch_op(sid, headers):
    return patch(sid, {"data": {"new": 1}}, headers=headers)


def delete_op(sid, headers):
    return request("DELETE", session_path(sid), headers=headers)


def touch_op(sid, headers):
    return touch(sid, headers=headers)


def rotate_op(sid, headers):
    return rotate(sid, headers=headers)


OPERATIONS = {"PUT": put_op, "PATCH": patch_op, "DELETE": delete_op, "touch": touch_op, "rotate": rotate_op}


def session_at_version_2():
    """A session whose version is 2 (created, then written once), and its state."""
    sid = create_session({"old": 1})["sid"]
    reply = patch(sid, {})
    assert reply.status == 200, reply
    session = reply.json()
    assert session["version"] == 2
    time.sleep(0.02)  # a touch or a write now moves updated_at / expires_at visibly
    return session


def assert_applied(operation, reply, before):
    sid = before["sid"]
    if operation == "PUT":
        written = assert_session_reply(reply)
        assert written["data"] == {"new": 1}
        assert written["version"] == 3
        assert read(sid).json()["data"] == {"new": 1}
    elif operation == "PATCH":
        written = assert_session_reply(reply)
        assert written["data"] == {"old": 1, "new": 1}
        assert written["version"] == 3
        assert read(sid).json()["data"] == {"old": 1, "new": 1}
    elif operation == "DELETE":
        assert reply.status == 204, reply
        assert_gone(sid)
    elif operation == "touch":
        touched = assert_session_reply(reply)
        assert touched["version"] == 2
        assert touched["updated_at"] == before["updated_at"]
        assert parse_time(touched["expires_at"]) > parse_time(before["expires_at"])
    else:
        rotated = assert_session_reply(reply, 201)
        assert rotated["sid"] != sid
        assert rotated["version"] == 3
        assert_gone(sid)


MATCHING_TAGS = ['"2"', "*", '"1", "2"', '"2", "1"', '"5","2"', 'W/"2", "2"']
# A well-formed entity tag that is not one of our version numbers ("x", "02") never matches:
# RFC 9110 strong comparison, so 412 like a stale version.
STALE_TAGS = ['"1"', '"3"', 'W/"2"', '"1", "3"', 'W/"1", W/"2"', '"x"', '"02"']
MALFORMED_TAGS = ["abc", "2", '"2', "W/2", '"2", 3', '"a b"']


@pytest.mark.parametrize("tag", MATCHING_TAGS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_if_match_that_matches_lets_the_write_through(operation, tag):
    before = session_at_version_2()
    reply = OPERATIONS[operation](before["sid"], {"If-Match": tag})
    assert_applied(operation, reply, before)


@pytest.mark.parametrize("tag", STALE_TAGS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_if_match_that_does_not_match_is_412_and_changes_nothing(operation, tag):
    before = session_at_version_2()
    reply = OPERATIONS[operation](before["sid"], {"If-Match": tag})
    assert_precondition_failed(reply, 2)
    assert reply.header("Location") is None
    assert_unchanged(before["sid"], before)


@pytest.mark.parametrize("tag", MALFORMED_TAGS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_malformed_if_match_is_400_and_changes_nothing(operation, tag):
    before = session_at_version_2()
    reply = OPERATIONS[operation](before["sid"], {"If-Match": tag})
    assert_problem(reply, 400, "invalid-if-match")
    assert reply.header("ETag") is None
    assert_unchanged(before["sid"], before)


@pytest.mark.parametrize("tag", ['"1"', "*"])
@pytest.mark.parametrize("operation", ["PUT", "PATCH", "touch", "rotate"])
def test_if_match_on_an_absent_session_is_404(operation, tag):
    sid = create_session({})["sid"]
    assert request("DELETE", session_path(sid)).status == 204
    for absent in (sid, NEVER_ISSUED):
        reply = OPERATIONS[operation](absent, {"If-Match": tag})
        assert_problem(reply, 404, "session-not-found")
        assert_gone(absent)


@pytest.mark.parametrize("tag", ['"1"', "*"])
def test_conditional_delete_of_an_absent_session_is_204(tag):
    sid = create_session({})["sid"]
    assert request("DELETE", session_path(sid)).status == 204
    for absent in (sid, NEVER_ISSUED):
        reply = request("DELETE", session_path(absent), headers={"If-Match": tag})
        assert reply.status == 204, reply
        assert reply.body == b""


def test_etag_of_each_reply_is_what_if_match_takes():
    sid = create_session({"n": 0})["sid"]
    etag = read(sid).header("ETag")
    for step in range(1, 4):
        reply = patch(sid, {"data": {"n": step}}, headers={"If-Match": etag})
        assert reply.status == 200, reply
        assert reply.header("ETag") != etag
        etag = reply.header("ETag")
    touched = touch(sid, headers={"If-Match": etag})
    assert touched.status == 200, touched
    assert touched.header("ETag") == etag == '"4"'
    rotated = rotate(sid, headers={"If-Match": etag})
    assert rotated.status == 201, rotated
    new_sid = rotated.json()["sid"]
    assert request("DELETE", session_path(new_sid), headers={"If-Match": rotated.header("ETag")}).status == 204
    assert_gone(new_sid)


# MARK: - PATCH (RFC 7396 merge patch)


def test_patch_merges_data_per_rfc_7396():
    before = create_session(
        {
            "a": 1,
            "b": {"c": 2, "d": 3, "deep": {"x": 1, "y": 2}},
            "arr": [1, 2, 3],
            "s": "text",
            "gone": True,
            "obj": {"x": 1},
            "keep": {"k": [1, {"z": 1}]},
        },
        permanent=True,
    )
    sid = before["sid"]
    time.sleep(0.05)
    reply = patch(
        sid,
        {
            "data": {
                "a": 10,  # replaced
                "b": {"c": None, "e": 4, "deep": {"y": None, "z": 3}},  # nested merge with deletes
                "arr": [9],  # arrays are replaced, not merged
                "s": {"t": 1, "u": None},  # a non-object target becomes the patch (without its nulls)
                "gone": None,  # null deletes the key
                "obj": "now a string",  # a non-object patch value replaces an object
                "absent": None,  # deleting a key that is not there is fine
                "new": {"n": None, "m": [None]},  # nulls inside a new object are dropped, in arrays kept
            }
        },
    )
    patched = assert_session_reply(reply)
    assert patched["data"] == {
        "a": 10,
        "b": {"d": 3, "deep": {"x": 1, "z": 3}, "e": 4},
        "arr": [9],
        "s": {"t": 1},
        "obj": "now a string",
        "keep": {"k": [1, {"z": 1}]},
        "new": {"m": [None]},
    }
    assert patched["sid"] == sid
    assert patched["version"] == 2
    assert reply.header("ETag") == '"2"'
    assert patched["permanent"] is True  # absent member: unchanged
    assert patched["subject"] is None
    assert patched["created_at"] == before["created_at"]
    assert parse_time(patched["updated_at"]) > parse_time(before["updated_at"])
    assert milliseconds_between(patched["updated_at"], patched["expires_at"]) == PERMANENT * 1000
    assert without_ttl(read(sid).json()) == without_ttl(patched)


@pytest.mark.parametrize("body", [{}, {"data": {}}])
def test_an_empty_patch_is_still_a_write(body):
    before = create_session({"x": [1, 2]})
    time.sleep(0.02)
    patched = assert_session_reply(patch(before["sid"], body))
    assert patched["data"] == {"x": [1, 2]}
    assert patched["version"] == 2
    assert parse_time(patched["updated_at"]) > parse_time(before["updated_at"])
    assert parse_time(patched["expires_at"]) > parse_time(before["expires_at"])


def test_patch_makes_a_session_permanent_and_back():
    before = create_session({"x": 1})
    assert DAY - 5 <= before["ttl"] <= DAY
    permanent = assert_session_reply(patch(before["sid"], {"permanent": True}))
    assert permanent["permanent"] is True
    assert permanent["data"] == {"x": 1}
    assert milliseconds_between(permanent["updated_at"], permanent["expires_at"]) == PERMANENT * 1000
    assert PERMANENT - 5 <= permanent["ttl"] <= PERMANENT
    assert read(before["sid"]).json()["permanent"] is True
    standard = assert_session_reply(patch(before["sid"], {"permanent": False}))
    assert standard["permanent"] is False
    assert milliseconds_between(standard["updated_at"], standard["expires_at"]) == DAY * 1000
    assert DAY - 5 <= standard["ttl"] <= DAY
    assert standard["version"] == 3


def test_patch_sets_and_clears_the_subject():
    subject = fresh_subject()
    sid = create_session({"x": 1})["sid"]
    assert read(sid).json()["subject"] is None
    set_reply = assert_session_reply(patch(sid, {"subject": subject}))
    assert set_reply["subject"] == subject
    assert set_reply["data"] == {"x": 1}
    assert read(sid).json()["subject"] == subject
    cleared = assert_session_reply(patch(sid, {"subject": None, "data": {"y": 2}}))
    assert cleared["subject"] is None
    assert cleared["data"] == {"x": 1, "y": 2}
    assert read(sid).json()["subject"] is None
    assert cleared["version"] == 3


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "application/json-patch+json", None],
    ids=["json", "text", "json-patch", "none"],
)
def test_patch_with_another_content_type_is_415_and_changes_nothing(content_type):
    before = create_session({"x": 1})
    reply = patch(before["sid"], {"data": {"x": 2}}, content_type=content_type)
    assert_problem(reply, 415, "unsupported-media-type")
    assert reply.header("ETag") is None
    assert_unchanged(before["sid"], before)


BAD_PATCHES = [
    ("data-null", b'{"data":null}', 422, "invalid-body"),
    ("data-array", b'{"data":[1]}', 422, "invalid-body"),
    ("data-string", b'{"data":"x"}', 422, "invalid-body"),
    ("data-number", b'{"data":1}', 422, "invalid-body"),
    ("permanent-string", b'{"permanent":"yes"}', 422, "invalid-body"),
    ("permanent-null", b'{"permanent":null}', 422, "invalid-body"),
    ("sid-member", b'{"sid":"1b4e28ba-2fa1-41d2-883f-0016d3cca427"}', 422, "invalid-body"),
    ("version-member", b'{"version":7}', 422, "invalid-body"),
    ("expires-member", b'{"expires_at":"2030-01-01T00:00:00.000Z"}', 422, "invalid-body"),
    ("unknown-member", b'{"data":{},"colour":"red"}', 422, "invalid-body"),
    ("subject-empty", b'{"subject":""}', 422, "invalid-body"),
    ("subject-number", b'{"subject":42}', 422, "invalid-body"),
    ("subject-too-long", ('{"subject":"' + "a" * 257 + '"}').encode(), 422, "invalid-body"),
    ("body-array", b"[]", 422, "invalid-body"),
    ("body-null", b"null", 422, "invalid-body"),
    ("body-string", b'"x"', 422, "invalid-body"),
    ("not-json", b"nope", 400, "invalid-json"),
    ("duplicate-key", b'{"data":{"a":1,"a":2}}', 400, "duplicate-key"),
]


@pytest.mark.parametrize("name,body,status,slug", BAD_PATCHES, ids=[case[0] for case in BAD_PATCHES])
def test_bad_patch_is_refused_and_changes_nothing(name, body, status, slug):
    before = create_session({"x": 1}, subject=fresh_subject())
    reply = patch(before["sid"], body)
    assert_problem(reply, status, slug)
    assert reply.header("ETag") is None
    assert_unchanged(before["sid"], before)


def test_patch_whose_merged_data_is_too_large_is_422_and_changes_nothing():
    sid = create_session({})["sid"]
    first = patch(sid, {"data": {"a": "x" * 40_000}})
    before = assert_session_reply(first)
    second = patch(sid, {"data": {"b": "y" * 40_000}})  # each patch fits, the merge would not
    assert_problem(second, 422, "data-too-large")
    assert second.header("ETag") is None
    assert_unchanged(sid, before)
    # What counts is the merged result: replacing "a" by "b" fits.
    third = assert_session_reply(patch(sid, {"data": {"a": None, "b": "y" * 40_000}}))
    assert third["data"] == {"b": "y" * 40_000}
    assert third["version"] == 3


ROUND_TRIP_TEXT = (
    '{"data":{"big":9007199254740993,"tenth":0.1,"tiny":1e-7,"negzero":-0.0,'
    '"max":9223372036854775807,"min":-9223372036854775808,"nested":{"n":0.3}}}'
)


def test_numbers_survive_a_patch_of_another_key_exactly():
    sid = create(ROUND_TRIP_TEXT).json()["sid"]
    before = read(sid).raw_json()["data"]
    patched = patch(sid, b'{"data":{"other":1,"nested":{"m":2.5}}}')
    assert patched.status == 200, patched
    for reply in (patched, read(sid)):
        data = reply.raw_json()["data"]
        assert data["big"] == "9007199254740993"
        assert data["tenth"] == "0.1"
        assert data["tiny"] == "1e-7"
        assert data["negzero"] == "-0.0"
        assert data["max"] == "9223372036854775807"
        assert data["min"] == "-9223372036854775808"
        assert data["nested"] == {"n": "0.3", "m": "2.5"}
        assert data["other"] == "1"
        # Untouched members are written exactly as before the patch.
        assert {key: data[key] for key in before} == {**before, "nested": data["nested"]}


def test_numbers_in_a_patch_are_kept_exactly():
    sid = create_session({})["sid"]
    body = b'{"data":{"big":9007199254740993,"tenth":0.1,"tiny":1e-7,"negzero":-0.0,"deep":{"x":[0.1,-9223372036854775808]}}}'
    patched = patch(sid, body)
    assert patched.status == 200, patched
    for reply in (patched, read(sid)):
        data = reply.raw_json()["data"]
        assert (data["big"], data["tenth"], data["tiny"], data["negzero"]) == ("9007199254740993", "0.1", "1e-7", "-0.0")
        assert data["deep"]["x"] == ["0.1", "-9223372036854775808"]


def test_unicode_keys_and_values_survive_a_patch():
    created = create(
        '{"data":{"caf\u00e9":"na\u00efve","\\u65e5\\u672c":{"k":"\\u00e9\u00e9"},'
        '"nul":"a\\u0000b","emoji":"\\ud83d\\ude00","quote":"\\"\\\\\\/\\n\\t"}}'.encode("utf-8")
    ).json()
    sid = created["sid"]
    patched = patch(sid, '{"data":{"other":"\u00fcber","\\u65e5\\u672c":{"new":"\\u2603"}}}'.encode("utf-8"))
    assert patched.status == 200, patched
    for reply in (patched, read(sid)):
        data = reply.json()["data"]
        assert data == {
            "caf\u00e9": "na\u00efve",
            "\u65e5\u672c": {"k": "\u00e9\u00e9", "new": "\u2603"},
            "nul": "a\x00b",
            "emoji": "\U0001F600",
            "quote": '"\\/\n\t',
            "other": "\u00fcber",
        }
    # A key written with escapes is the same key as the one written in UTF-8: merged, then deleted.
    replaced = patch(sid, b'{"data":{"caf\\u00e9":"new"}}')
    assert replaced.status == 200, replaced
    assert replaced.json()["data"]["caf\u00e9"] == "new"
    assert list(replaced.json()["data"]).count("caf\u00e9") == 1
    deleted = patch(sid, b'{"data":{"\\u65e5\\u672c":null,"caf\xc3\xa9":null}}')
    assert deleted.status == 200, deleted
    assert "\u65e5\u672c" not in deleted.json()["data"]
    assert "caf\u00e9" not in deleted.json()["data"]
    assert read(sid).json()["data"] == deleted.json()["data"]


def test_patch_of_an_absent_session_is_404_and_creates_nothing():
    assert_problem(patch(NEVER_ISSUED, {"data": {"x": 1}}), 404, "session-not-found")
    assert_gone(NEVER_ISSUED)


def test_patch_of_a_malformed_sid_is_400():
    assert_problem(patch("not-a-uuid", {"data": {}}), 400, "malformed-sid")


# MARK: - Touch


def test_touch_slides_the_expiry_and_keeps_version_and_updated_at():
    before = create_session({"x": 1})
    time.sleep(0.05)
    reply = touch(before["sid"])
    touched = assert_session_reply(reply)
    assert reply.header("ETag") == '"1"'
    assert touched["version"] == 1
    assert touched["data"] == {"x": 1}
    assert touched["updated_at"] == before["updated_at"]
    assert touched["created_at"] == before["created_at"]
    assert milliseconds_between(before["expires_at"], touched["expires_at"]) >= 40
    assert milliseconds_between(touched["created_at"], touched["expires_at"]) > DAY * 1000
    assert DAY - 5 <= touched["ttl"] <= DAY
    assert without_ttl(read(before["sid"]).json()) == without_ttl(touched)


def test_touch_of_a_permanent_session_slides_31_days():
    before = create_session({}, permanent=True)
    time.sleep(0.05)
    touched = assert_session_reply(touch(before["sid"]))
    assert milliseconds_between(before["expires_at"], touched["expires_at"]) >= 40
    assert PERMANENT - 5 <= touched["ttl"] <= PERMANENT


def test_get_with_touch_true_reads_and_slides():
    before = create_session({"x": 1})
    time.sleep(0.05)
    reply = request("GET", session_path(before["sid"]) + "?touch=true")
    touched = assert_session_reply(reply)
    assert reply.header("ETag") == '"1"'
    assert touched["data"] == {"x": 1}
    assert touched["version"] == 1
    assert touched["updated_at"] == before["updated_at"]
    assert milliseconds_between(before["expires_at"], touched["expires_at"]) >= 40
    assert without_ttl(read(before["sid"]).json()) == without_ttl(touched)


def test_get_with_touch_false_is_a_plain_read():
    before = create_session({"x": 1})
    time.sleep(0.05)
    read_reply = assert_session_reply(request("GET", session_path(before["sid"]) + "?touch=false"))
    assert without_ttl(read_reply) == without_ttl(before)
    assert_unchanged(before["sid"], before)


def test_head_with_touch_true_slides():
    before = create_session({"x": 1})
    time.sleep(0.05)
    reply = request("HEAD", session_path(before["sid"]) + "?touch=true")
    assert reply.status == 200, reply
    assert reply.body == b""
    assert reply.header("ETag") == '"1"'
    after = read(before["sid"]).json()
    assert milliseconds_between(before["expires_at"], after["expires_at"]) >= 40
    assert after["version"] == 1


@pytest.mark.parametrize(
    "query",
    ["touch=maybe", "touch=TRUE", "touch=1", "touch=", "touch", "foo=1", "touch=true&touch=true", "touch=true&foo=1"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_unsupported_query_on_a_session_is_400_and_slides_nothing(method, query):
    before = create_session({"x": 1})
    time.sleep(0.02)
    reply = request(method, session_path(before["sid"]) + "?" + query)
    if method == "HEAD":
        assert reply.status == 400, reply
        assert reply.body == b""
    else:
        assert_problem(reply, 400, "invalid-query")
    assert_unchanged(before["sid"], before)


@pytest.mark.parametrize("body", [b"{}", b'{"data":{}}', b"x"], ids=["empty-object", "data", "not-json"])
def test_touch_with_a_body_is_422_and_slides_nothing(body):
    before = create_session({"x": 1})
    time.sleep(0.02)
    reply = request("POST", session_path(before["sid"]) + "/touch", body)
    assert_problem(reply, 422, "invalid-body")
    assert reply.header("ETag") is None
    assert_unchanged(before["sid"], before)


def test_touch_with_an_empty_body_is_fine():
    before = create_session({"x": 1})
    reply = request("POST", session_path(before["sid"]) + "/touch", b"", headers={"Content-Length": "0"}, content_type=None)
    assert assert_session_reply(reply)["version"] == 1


def test_touch_of_an_absent_session_is_404_and_creates_nothing():
    assert_problem(touch(NEVER_ISSUED), 404, "session-not-found")
    assert_problem(request("GET", session_path(NEVER_ISSUED) + "?touch=true"), 404, "session-not-found")
    assert_gone(NEVER_ISSUED)


@pytest.mark.parametrize("action", ["touch", "rotate"])
def test_touch_and_rotate_of_a_malformed_sid_are_400(action):
    assert_problem(request("POST", f"/sessions/not-a-uuid/{action}"), 400, "malformed-sid")


# MARK: - Subjects


def summary_of(session):
    return {key: session[key] for key in ("permanent", "created_at", "updated_at", "expires_at")}


def test_sessions_of_a_subject_are_listed_by_handle_oldest_first_without_sid_or_data():
    subject = fresh_subject()
    other = fresh_subject("other")
    secret = f"secret-{uuid.uuid4().hex}"
    mine = []
    for index in range(3):
        mine.append(create_session({"token": secret, "i": index}, subject=subject, permanent=index == 1))
        time.sleep(0.01)  # created_at differs, so the order is the creation order
    foreign = create_session({"token": secret}, subject=other)
    create_session({"token": secret})  # no subject
    reply = request("GET", subject_path(subject))
    assert reply.status == 200, reply
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.header("Cache-Control") == "no-store"
    body = reply.json()
    assert list(body) == ["subject", "sessions"]
    assert body["subject"] == subject
    assert [entry["handle"] for entry in body["sessions"]] == [handle_of(session["sid"]) for session in mine]
    for entry, session in zip(body["sessions"], mine):
        assert set(entry) == SUMMARY_KEYS, entry
        assert HANDLE.match(entry["handle"])
        assert {key: entry[key] for key in ("permanent", "created_at", "updated_at", "expires_at")} == summary_of(session)
        assert type(entry["ttl"]) is int and abs(entry["ttl"] - session["ttl"]) <= 5
    # Neither a sid nor any data reaches the listing.
    for session in mine + [foreign]:
        assert session["sid"].encode() not in reply.body
        assert session["sid"].replace("-", "").encode() not in reply.body
    assert secret.encode() not in reply.body
    assert b'"data"' not in reply.body
    assert b'"sid"' not in reply.body
    assert listed_handles(other) == [handle_of(foreign["sid"])]


def test_head_of_a_subject_listing():
    subject = fresh_subject()
    create_session({}, subject=subject)
    reply = request("HEAD", subject_path(subject))
    assert reply.status == 200, reply
    assert reply.body == b""
    assert reply.header("Content-Type") == "application/json; charset=utf-8"


def test_a_subject_without_sessions_lists_none():
    subject = fresh_subject()
    assert listing(subject) == {"subject": subject, "sessions": []}


def test_revoke_all_but_one():
    subject = fresh_subject()
    other = create_session({}, subject=fresh_subject("other"))
    sessions = [create_session({"i": index}, subject=subject) for index in range(4)]
    kept = sessions[2]
    reply = request("DELETE", subject_path(subject) + "?except=" + handle_of(kept["sid"]))
    assert reply.status == 200, reply
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.json() == {"subject": subject, "revoked": 3}
    for session in sessions:
        if session is kept:
            assert read(session["sid"]).json()["data"] == {"i": 2}
        else:
            assert_gone(session["sid"])
    assert listed_handles(subject) == [handle_of(kept["sid"])]
    assert_unchanged(other["sid"], other)


def test_revoke_all_except_a_handle_of_another_subject_revokes_all():
    subject = fresh_subject()
    other = create_session({}, subject=fresh_subject("other"))
    sessions = [create_session({}, subject=subject) for _ in range(2)]
    reply = request("DELETE", subject_path(subject) + "?except=" + handle_of(other["sid"]))
    assert reply.status == 200, reply
    assert reply.json() == {"subject": subject, "revoked": 2}
    for session in sessions:
        assert_gone(session["sid"])
    assert_unchanged(other["sid"], other)


def test_revoke_all_sessions_of_a_subject():
    subject = fresh_subject()
    other = create_session({}, subject=fresh_subject("other"))
    loose = create_session({})
    sessions = [create_session({"i": index}, subject=subject, permanent=index == 0) for index in range(3)]
    reply = request("DELETE", subject_path(subject))
    assert reply.status == 200, reply
    assert reply.json() == {"subject": subject, "revoked": 3}
    for session in sessions:
        assert_gone(session["sid"])
        assert_problem(touch(session["sid"]), 404, "session-not-found")
    assert listing(subject)["sessions"] == []
    again = request("DELETE", subject_path(subject))
    assert again.status == 200, again
    assert again.json() == {"subject": subject, "revoked": 0}
    assert_unchanged(other["sid"], other)
    assert_unchanged(loose["sid"], loose)


def test_revoke_one_session_by_handle():
    subject = fresh_subject()
    sessions = []
    for index in range(3):
        sessions.append(create_session({"i": index}, subject=subject))
        time.sleep(0.005)  # created_at differs, so the listing's order is the creation order
    path = subject_path(subject) + "/" + handle_of(sessions[1]["sid"])
    for _ in range(2):
        reply = request("DELETE", path)
        assert reply.status == 204, reply
        assert reply.body == b""
    assert_gone(sessions[1]["sid"])
    assert_unchanged(sessions[0]["sid"], sessions[0])
    assert_unchanged(sessions[2]["sid"], sessions[2])
    assert listed_handles(subject) == [handle_of(sessions[0]["sid"]), handle_of(sessions[2]["sid"])]


def test_revoking_a_handle_under_the_wrong_subject_revokes_nothing():
    subject = fresh_subject()
    victim = create_session({"x": 1}, subject=fresh_subject("victim"))
    loose = create_session({"x": 1})
    create_session({}, subject=subject)
    for sid in (victim["sid"], loose["sid"]):
        reply = request("DELETE", subject_path(subject) + "/" + handle_of(sid))
        assert reply.status == 204, reply
    assert_unchanged(victim["sid"], victim)
    assert_unchanged(loose["sid"], loose)
    # A handle nobody has is 204 as well.
    assert request("DELETE", subject_path(subject) + "/" + "0" * 32).status == 204


def test_changing_the_subject_moves_the_session_between_listings():
    first, second = fresh_subject("first"), fresh_subject("second")
    sid = create_session({"x": 1}, subject=first)["sid"]
    handle = handle_of(sid)
    assert listed_handles(first) == [handle]
    # PATCH changes it.
    assert patch(sid, {"subject": second}).status == 200
    assert listed_handles(first) == []
    assert listed_handles(second) == [handle]
    # PATCH clears it.
    assert patch(sid, {"subject": None}).status == 200
    assert listed_handles(second) == []
    # PUT sets it again.
    assert request("PUT", session_path(sid), {"data": {"x": 2}, "subject": first}).status == 200
    assert listed_handles(first) == [handle]
    # PUT without subject clears it (full replacement).
    replaced = request("PUT", session_path(sid), {"data": {"x": 3}})
    assert replaced.status == 200, replaced
    assert replaced.json()["subject"] is None
    assert listed_handles(first) == []
    assert listed_handles(second) == []
    # And a revocation of the old subjects leaves it alone.
    assert request("DELETE", subject_path(first)).json()["revoked"] == 0
    assert read(sid).json()["data"] == {"x": 3}


def test_a_patch_without_subject_keeps_the_listing():
    subject = fresh_subject()
    sid = create_session({"x": 1}, subject=subject)["sid"]
    patched = assert_session_reply(patch(sid, {"data": {"y": 2}, "permanent": True}))
    assert patched["subject"] == subject
    entries = listing(subject)["sessions"]
    assert [entry["handle"] for entry in entries] == [handle_of(sid)]
    assert entries[0]["permanent"] is True
    assert entries[0]["updated_at"] == patched["updated_at"]
    assert entries[0]["expires_at"] == patched["expires_at"]


def test_a_deleted_session_is_not_listed():
    subject = fresh_subject()
    gone = create_session({}, subject=subject)["sid"]
    kept = create_session({}, subject=subject)["sid"]
    assert request("DELETE", session_path(gone)).status == 204
    assert listed_handles(subject) == [handle_of(kept)]
    assert request("DELETE", subject_path(subject)).json() == {"subject": subject, "revoked": 1}


def test_a_rotated_session_is_listed_under_its_new_handle_only():
    subject = fresh_subject()
    sid = create_session({}, subject=subject)["sid"]
    new_sid = assert_session_reply(rotate(sid), 201)["sid"]
    assert listed_handles(subject) == [handle_of(new_sid)]
    # Revoking by the old handle does nothing; by the new one it ends the session.
    assert request("DELETE", subject_path(subject) + "/" + handle_of(sid)).status == 204
    assert read(new_sid).status == 200
    assert request("DELETE", subject_path(subject) + "/" + handle_of(new_sid)).status == 204
    assert_gone(new_sid)
    assert listed_handles(subject) == []


def test_a_subject_with_a_slash_and_non_ascii_works_percent_encoded():
    subject = f"tenant/42 caf\u00e9?#%/{uuid.uuid4().hex}"
    sid = create_session({}, subject=subject)["sid"]
    assert read(sid).json()["subject"] == subject
    assert listed_handles(subject) == [handle_of(sid)]
    assert request("DELETE", subject_path(subject) + "?except=" + handle_of(sid)).json() == {"subject": subject, "revoked": 0}
    assert request("DELETE", subject_path(subject) + "/" + handle_of(sid)).status == 204
    assert_gone(sid)


def test_subject_limit_is_256_bytes_of_utf8():
    at_limit = uuid.uuid4().hex + "\u00e9" * 112  # 256 bytes, 144 characters
    assert len(at_limit.encode()) == MAX_SUBJECT_BYTES
    created = create_session({}, subject=at_limit)
    assert created["subject"] == at_limit
    assert handle_of(created["sid"]) in listed_handles(at_limit)
    request("DELETE", subject_path(at_limit))
    over = at_limit + "a"  # 257 bytes, 145 characters
    assert_problem(request("POST", "/sessions", {"data": {}, "subject": over}), 422, "invalid-body")


@pytest.mark.parametrize(
    "subject",
    ["", "a" * 257, "\u00e9" * 128 + "a", 42, True, {}, ["x"]],
    ids=["empty", "257-ascii", "257-bytes-utf8", "number", "bool", "object", "array"],
)
def test_bad_subject_in_a_body_is_422_and_stores_nothing(subject):
    assert_problem(request("POST", "/sessions", {"data": {}, "subject": subject}), 422, "invalid-body")
    before = create_session({"x": 1}, subject=fresh_subject())
    assert_problem(request("PUT", session_path(before["sid"]), {"data": {}, "subject": subject}), 422, "invalid-body")
    assert_problem(patch(before["sid"], {"subject": subject}), 422, "invalid-body")
    assert_unchanged(before["sid"], before)


def test_subject_null_in_a_create_body_means_none():
    created = create_session({}, subject=None)
    assert created["subject"] is None


@pytest.mark.parametrize(
    "encoded",
    ["a" * 300, "%C3%A9" * 129, "%zz", "%ff", "abc%", "%C3"],
    ids=["300-bytes", "258-bytes-encoded", "bad-escape", "not-utf8", "truncated-escape", "truncated-utf8"],
)
@pytest.mark.parametrize("method,suffix", [("GET", ""), ("DELETE", ""), ("DELETE", "/" + "0" * 32)])
def test_malformed_subject_in_the_path_is_400(encoded, method, suffix):
    assert_problem(request(method, f"/subjects/{encoded}/sessions{suffix}"), 400, "malformed-subject")


def test_empty_subject_in_the_path_is_400():
    assert_problem(request("GET", "/subjects//sessions"), 400, "malformed-subject")


def test_subject_of_256_bytes_in_the_path_is_fine():
    subject = uuid.uuid4().hex + "s" * 224
    assert len(subject.encode()) == MAX_SUBJECT_BYTES
    assert listing(subject) == {"subject": subject, "sessions": []}


MALFORMED_HANDLES = ["xyz", "0" * 31, "0" * 33, "A" * 32, "g" * 32, "0" * 16 + "-" + "0" * 15]


@pytest.mark.parametrize("handle", MALFORMED_HANDLES)
def test_malformed_handle_is_400_and_revokes_nothing(handle):
    subject = fresh_subject()
    sid = create_session({}, subject=subject)["sid"]
    assert_problem(request("DELETE", subject_path(subject) + "/" + handle), 400, "malformed-handle")
    assert_problem(request("DELETE", subject_path(subject) + "?except=" + handle), 400, "malformed-handle")
    assert read(sid).status == 200
    assert listed_handles(subject) == [handle_of(sid)]


def test_uppercase_handle_does_not_revoke_the_session():
    subject = fresh_subject()
    sid = create_session({}, subject=subject)["sid"]
    upper = handle_of(sid).upper()
    if upper != handle_of(sid):
        assert_problem(request("DELETE", subject_path(subject) + "/" + upper), 400, "malformed-handle")
    assert read(sid).status == 200


@pytest.mark.parametrize(
    "query",
    ["foo=1", "except=" + "0" * 32 + "&except=" + "1" * 32, "except=" + "0" * 32 + "&foo=1"],
    ids=["unknown", "except-twice", "except-and-unknown"],
)
def test_unsupported_query_on_revoke_is_400_and_revokes_nothing(query):
    subject = fresh_subject()
    sid = create_session({}, subject=subject)["sid"]
    assert_problem(request("DELETE", subject_path(subject) + "?" + query), 400, "invalid-query")
    assert read(sid).status == 200


@pytest.mark.parametrize(
    "method,path,allow",
    [
        ("POST", session_path(NEVER_ISSUED), "GET, HEAD, PUT, PATCH, DELETE"),
        ("GET", session_path(NEVER_ISSUED) + "/touch", "POST"),
        ("PUT", session_path(NEVER_ISSUED) + "/touch", "POST"),
        ("DELETE", session_path(NEVER_ISSUED) + "/touch", "POST"),
        ("GET", session_path(NEVER_ISSUED) + "/rotate", "POST"),
        ("PATCH", session_path(NEVER_ISSUED) + "/rotate", "POST"),
        ("POST", "/subjects/someone/sessions", "GET, HEAD, DELETE"),
        ("PUT", "/subjects/someone/sessions", "GET, HEAD, DELETE"),
        ("PATCH", "/subjects/someone/sessions", "GET, HEAD, DELETE"),
        ("GET", "/subjects/someone/sessions/" + "0" * 32, "DELETE"),
        ("POST", "/subjects/someone/sessions/" + "0" * 32, "DELETE"),
        ("PUT", "/subjects/someone/sessions/" + "0" * 32, "DELETE"),
    ],
)
def test_wrong_method_on_the_new_paths_is_405_with_allow(method, path, allow):
    reply = request(method, path)
    assert_problem(reply, 405, "method-not-allowed")
    assert reply.header("Allow") == allow


def test_wrong_method_on_touch_leaves_the_session_alone():
    before = create_session({"x": 1})
    time.sleep(0.02)
    assert_problem(request("GET", session_path(before["sid"]) + "/touch"), 405, "method-not-allowed")
    assert_problem(request("PUT", session_path(before["sid"]) + "/rotate", {}), 405, "method-not-allowed")
    assert_unchanged(before["sid"], before)


# MARK: - Subjects under concurrency


def test_concurrent_subject_changes_leave_the_session_listed_under_its_final_subject_only():
    for round_number in range(20):
        subjects = [fresh_subject(f"s{index}") for index in range(4)]
        sid = create_session({}, subject=subjects[0])["sid"]
        calls = [Call("PATCH", session_path(sid), {"subject": subjects[index % 4]}, content_type=MERGE_PATCH) for index in range(50)]
        calls += [Call("PUT", session_path(sid), {"data": {}, "subject": subjects[index % 4]}) for index in range(10)]
        for reply in race(*calls):
            assert reply.status == 200, reply
        final = read(sid).json()["subject"]
        assert final in subjects
        listings = {subject: listed_handles(subject) for subject in subjects}
        expected = {subject: [handle_of(sid)] if subject == final else [] for subject in subjects}
        assert listings == expected, (round_number, f"final subject s{subjects.index(final)}")
        # What the listing promises, revocation keeps: the session ends with its subject's revocation.
        revoked = request("DELETE", subject_path(final))
        assert revoked.json() == {"subject": final, "revoked": 1}, (round_number, revoked)
        assert_gone(sid)


def test_revoking_a_subject_racing_rotate_leaves_no_session_alive():
    for round_number in range(RACE_ROUNDS):
        subject = fresh_subject()
        sid = create_session({"round": round_number}, subject=subject)["sid"]
        rotated, revoked = race(Call("POST", session_path(sid) + "/rotate"), Call("DELETE", subject_path(subject)))
        assert revoked.status == 200, revoked
        assert_gone(sid)
        if rotated.status == 201:
            new_sid = rotated.json()["sid"]
            after = request("GET", session_path(new_sid))
            assert after.status == 404, (round_number, "the rotated session outlived its subject's revocation", rotated, revoked, after)
        else:
            assert_problem(rotated, 404, "session-not-found")
        # One session was live when the revocation began; the copy that a rotation in flight
        # had stored under the new sid is counted too when the revocation removed it.
        assert revoked.json()["subject"] == subject
        assert revoked.json()["revoked"] in (1, 2), (round_number, rotated, revoked)
        assert listed_handles(subject) == []


@pytest.mark.parametrize("writer", ["PUT", "PATCH", "touch"])
def test_revoking_a_subject_racing_a_write_leaves_no_session_alive(writer):
    for round_number in range(RACE_ROUNDS):
        subject = fresh_subject()
        sid = create_session({"round": round_number}, subject=subject)["sid"]
        if writer == "PUT":
            write = Call("PUT", session_path(sid), {"data": {"put": round_number}, "subject": subject})
        elif writer == "PATCH":
            write = Call("PATCH", session_path(sid), {"data": {"patched": round_number}}, content_type=MERGE_PATCH)
        else:
            write = Call("POST", session_path(sid) + "/touch")
        written, revoked = race(write, Call("DELETE", subject_path(subject)))
        assert revoked.status == 200, revoked
        assert revoked.json() == {"subject": subject, "revoked": 1}, (round_number, written, revoked)
        if written.status != 200:
            assert_problem(written, 404, "session-not-found")
        after = request("GET", session_path(sid))
        assert after.status == 404, (round_number, writer, written, after)
        assert listed_handles(subject) == []


def test_moving_a_session_away_racing_the_revocation_of_its_subject():
    for round_number in range(RACE_ROUNDS):
        old, new = fresh_subject("old"), fresh_subject("new")
        sid = create_session({}, subject=old)["sid"]
        moved, revoked = race(
            Call("PATCH", session_path(sid), {"subject": new}, content_type=MERGE_PATCH),
            Call("DELETE", subject_path(old)),
        )
        assert revoked.status == 200, revoked
        count = revoked.json()["revoked"]
        after = request("GET", session_path(sid))
        if count == 1:
            # Revoked first: the move came too late.
            assert_problem(moved, 404, "session-not-found")
            assert after.status == 404, (round_number, moved, revoked, after)
            assert listed_handles(new) == []
        else:
            # Moved first: the revocation of the old subject no longer concerns it.
            assert count == 0, revoked
            assert moved.status == 200, (round_number, moved, revoked)
            assert after.status == 200, (round_number, moved, revoked, after)
            assert after.json()["subject"] == new
            assert listed_handles(new) == [handle_of(sid)]
        assert listed_handles(old) == []


# MARK: - Expiry (a server with --lifetime 1s)


@pytest.mark.skipif(not SHORT_LIFETIME_URL, reason="SESSIOND_SHORT_LIFETIME_URL is not set (a sessiond with --lifetime 1s)")
class TestShortLifetime:
    """Against a second server started with `--lifetime 1s` (permanent lifetime left at 31 days)."""

    @property
    def server(self):
        return Server(SHORT_LIFETIME_URL)

    def test_an_expired_session_is_not_listed_nor_readable(self):
        server = self.server
        subject = fresh_subject()
        sids = [create_session({"i": index}, server=server, subject=subject)["sid"] for index in range(3)]
        kept = create_session({}, server=server, subject=subject, permanent=True)["sid"]
        assert len(listed_handles(subject, server)) == 4
        time.sleep(1.5)
        assert listed_handles(subject, server) == [handle_of(kept)]
        for sid in sids:
            assert_problem(request("GET", session_path(sid), server=server), 404, "session-not-found")
            assert_problem(touch(sid, server=server), 404, "session-not-found")
            assert_problem(rotate(sid, server=server), 404, "session-not-found")
            assert_problem(patch(sid, {}, server=server), 404, "session-not-found")
        revoked = request("DELETE", subject_path(subject), server=server)
        assert revoked.status == 200, revoked
        assert revoked.json() == {"subject": subject, "revoked": 1}

    def test_touch_keeps_a_session_alive(self):
        server = self.server
        subject = fresh_subject()
        by_post = create_session({}, server=server, subject=subject)["sid"]
        by_get = create_session({}, server=server, subject=subject)["sid"]
        idle = create_session({}, server=server, subject=subject)["sid"]
        for _ in range(3):
            time.sleep(0.6)
            assert touch(by_post, server=server).status == 200
            assert request("GET", session_path(by_get) + "?touch=true", server=server).status == 200
        # 1.8 s after creation: the touched ones live, the idle one has expired.
        assert request("GET", session_path(by_post), server=server).status == 200
        assert request("GET", session_path(by_get), server=server).status == 200
        assert_problem(request("GET", session_path(idle), server=server), 404, "session-not-found")
        assert sorted(listed_handles(subject, server)) == sorted([handle_of(by_post), handle_of(by_get)])
