"""The session life cycle over real HTTP, against a running sessiond.

The server's base URL comes from SESSIOND_URL (e.g. http://127.0.0.1:18123); scripts/test
starts sessiond on a free port and sets it, and SESSIOND_STORE to the store it runs on
("memory" when unset). The tests assume the default settings: standard lifetime one day,
permanent lifetime 31 days, no absolute lifetime, 65536-byte bodies, data nesting up to 32
levels. HTTP goes through http.client (and raw sockets for keep-alive and pipelining): what
is on the wire is what is tested.
"""

import datetime
import http.client
import json
import os
import pathlib
import re
import socket
import time
import urllib.parse
import uuid

import pytest

BASE_URL = os.environ.get("SESSIOND_URL")
if not BASE_URL:
    pytest.skip("SESSIOND_URL is not set (e.g. http://127.0.0.1:18123)", allow_module_level=True)

_url = urllib.parse.urlsplit(BASE_URL)
HOST = _url.hostname
PORT = _url.port or 80
BASE_PATH = _url.path.rstrip("/")
STORE = os.environ.get("SESSIOND_STORE", "memory")

OPENAPI_FILE = pathlib.Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
PROBLEMS = "https://sessiond.dev/problems/"
DAY = 86_400
PERMANENT = 31 * DAY
MAX_BODY = 65_536
MAX_DEPTH = 32
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NEVER_ISSUED = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"


# MARK: - HTTP helpers


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
    """A JSON number as written on the wire (so 0.1 and 0.10 differ, as do 1e-7 and 1E-7)."""


def request(method, path, body=None, headers=None, content_type="application/json"):
    """Sends one request on a fresh connection and returns its `Reply`."""
    conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
    try:
        all_headers = {}
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            elif isinstance(body, str):
                body = body.encode()
            if content_type is not None:
                all_headers["Content-Type"] = content_type
        all_headers.update(headers or {})
        conn.request(method, BASE_PATH + path, body=body, headers=all_headers)
        return Reply(conn.getresponse())
    finally:
        conn.close()


def create(body=None, **kwargs):
    reply = request("POST", "/sessions", body, **kwargs)
    assert reply.status == 201, reply
    return reply


def session_path(sid):
    return f"/sessions/{sid}"


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
    return problem


def assert_session_shape(session):
    assert set(session) == {
        "sid", "data", "permanent", "subject", "lifetime", "version", "created_at", "updated_at", "expires_at", "last_seen_at", "device",
        "ttl",
    }
    assert session["subject"] is None or isinstance(session["subject"], str)
    assert session["lifetime"] is None or (isinstance(session["lifetime"], int) and session["lifetime"] >= 1)
    assert UUID4.match(session["sid"]), session["sid"]
    assert isinstance(session["data"], dict)
    assert isinstance(session["permanent"], bool)
    assert isinstance(session["version"], int) and session["version"] >= 1
    for field in ("created_at", "updated_at", "expires_at"):
        parse_time(session[field])
    assert isinstance(session["ttl"], int) and session["ttl"] >= 0


def without_ttl(session):
    return {key: value for key, value in session.items() if key != "ttl"}


def read(sid):
    reply = request("GET", session_path(sid))
    assert reply.status == 200, reply
    return reply


# MARK: - Create


def test_create_answers_201_with_location_etag_and_the_session():
    reply = create({"data": {"user": 42, "cart": [1, 2]}})
    session = reply.json()
    assert_session_shape(session)
    sid = session["sid"]
    assert reply.header("Location") == f"/sessions/{sid}"
    assert reply.header("ETag") == '"1"'
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.header("Cache-Control") == "no-store"
    assert uuid.UUID(sid).version == 4
    assert sid == sid.lower()
    assert session["data"] == {"user": 42, "cart": [1, 2]}
    assert session["permanent"] is False
    assert session["version"] == 1
    assert session["created_at"] == session["updated_at"]
    assert milliseconds_between(session["created_at"], session["expires_at"]) == DAY * 1000
    assert DAY - 5 <= session["ttl"] <= DAY


def test_create_permanent_session_lives_31_days():
    session = create({"data": {"user": 42}, "permanent": True}).json()
    assert session["permanent"] is True
    assert milliseconds_between(session["created_at"], session["expires_at"]) == PERMANENT * 1000
    assert PERMANENT - 5 <= session["ttl"] <= PERMANENT


def test_create_without_body_makes_an_empty_session():
    reply = request("POST", "/sessions")
    assert reply.status == 201, reply
    session = reply.json()
    assert session["data"] == {}
    assert session["permanent"] is False
    assert DAY - 5 <= session["ttl"] <= DAY


def test_create_with_empty_object_makes_an_empty_session():
    session = create({}).json()
    assert session["data"] == {}
    assert session["permanent"] is False


def test_every_created_sid_is_a_fresh_lowercase_uuid4():
    sids = {create({}).json()["sid"] for _ in range(20)}
    assert len(sids) == 20
    for sid in sids:
        assert UUID4.match(sid), sid


def test_location_leads_to_the_session():
    reply = create({"data": {"k": "v"}})
    again = request("GET", reply.header("Location"))
    assert again.status == 200, again
    assert again.json()["data"] == {"k": "v"}


# MARK: - Read


def test_read_returns_what_was_created():
    created = create({"data": {"user": 42, "nested": {"list": [True, False, None, "x"]}}, "permanent": True})
    sid = created.json()["sid"]
    reply = read(sid)
    assert reply.header("ETag") == '"1"'
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.header("Cache-Control") == "no-store"
    assert without_ttl(reply.json()) == without_ttl(created.json())
    assert PERMANENT - 5 <= reply.json()["ttl"] <= PERMANENT


def test_read_does_not_extend_the_session():
    created = create({}).json()
    time.sleep(0.02)
    session = read(created["sid"]).json()
    assert session["expires_at"] == created["expires_at"]
    assert session["updated_at"] == created["updated_at"]
    assert session["version"] == 1


def test_read_of_a_never_issued_sid_is_404():
    assert_problem(request("GET", session_path(NEVER_ISSUED)), 404, "session-not-found")


# MARK: - Values round-trip exactly


ROUND_TRIP_TEXT = (
    '{"data":{"big":9007199254740993,"tenth":0.1,"tiny":1e-7,"negzero":-0.0,'
    '"max":9223372036854775807,"min":-9223372036854775808,"text":"caf\u00e9","escaped":"caf\\u00e9",'
    '"nul":"a\\u0000b","list":[1,2.5,"x",null,true,false,{}],"empty":""}}'
)


def test_numbers_come_back_as_the_same_text():
    created = create(ROUND_TRIP_TEXT.encode("utf-8"))
    for reply in (created, read(created.json()["sid"])):
        data = reply.raw_json()["data"]
        assert data["big"] == "9007199254740993"
        assert data["tenth"] == "0.1"
        assert data["tiny"] == "1e-7"
        assert data["negzero"] == "-0.0"
        assert data["max"] == "9223372036854775807"
        assert data["min"] == "-9223372036854775808"
        assert data["list"][:2] == ["1", "2.5"]
        assert isinstance(data["big"], NumberText)


def test_strings_come_back_with_the_same_value():
    created = create(ROUND_TRIP_TEXT.encode("utf-8"))
    for reply in (created, read(created.json()["sid"])):
        data = reply.json()["data"]
        assert data["text"] == "caf\u00e9"
        assert data["escaped"] == "caf\u00e9"
        assert data["nul"] == "a\x00b"
        assert data["empty"] == ""
        assert data["list"] == [1, 2.5, "x", None, True, False, {}]
        # Non-ASCII is written as UTF-8, NUL escaped (raw NUL is not allowed in JSON).
        assert '"text":"caf\u00e9"'.encode("utf-8") in reply.body
        assert b'"nul":"a\\u0000b"' in reply.body


def test_values_round_trip_through_replace():
    sid = create({}).json()["sid"]
    reply = request("PUT", session_path(sid), ROUND_TRIP_TEXT.encode("utf-8"))
    assert reply.status == 200, reply
    data = read(sid).raw_json()["data"]
    assert (data["big"], data["tenth"], data["tiny"], data["negzero"]) == ("9007199254740993", "0.1", "1e-7", "-0.0")
    assert read(sid).json()["data"]["nul"] == "a\x00b"


def test_member_order_is_kept():
    text = '{"data":{"z":1,"a":2,"m":{"y":1,"b":2}}}'
    sid = create(text).json()["sid"]
    assert b'"data":{"z":1,"a":2,"m":{"y":1,"b":2}}' in read(sid).body


# MARK: - Replace


def test_put_replaces_data_bumps_version_and_slides_expiry():
    created = create({"data": {"old": 1, "keep": "no"}, "permanent": True}).json()
    sid = created["sid"]
    time.sleep(0.05)
    reply = request("PUT", session_path(sid), {"data": {"new": [1, 2, 3]}})
    assert reply.status == 200, reply
    assert reply.header("ETag") == '"2"'
    assert reply.header("Cache-Control") == "no-store"
    replaced = reply.json()
    assert_session_shape(replaced)
    assert replaced["sid"] == sid
    assert replaced["data"] == {"new": [1, 2, 3]}  # replaced as a whole, not merged
    assert replaced["permanent"] is False  # omitted permanent means false
    assert replaced["version"] == 2
    assert replaced["created_at"] == created["created_at"]
    assert parse_time(replaced["updated_at"]) > parse_time(created["updated_at"])
    assert milliseconds_between(replaced["updated_at"], replaced["expires_at"]) == DAY * 1000
    assert DAY - 5 <= replaced["ttl"] <= DAY
    # What PUT answered is what GET now reads.
    again = read(sid)
    assert again.header("ETag") == '"2"'
    assert without_ttl(again.json()) == without_ttl(replaced)


def test_put_can_make_a_session_permanent_and_each_write_bumps_the_version():
    sid = create({}).json()["sid"]
    first = request("PUT", session_path(sid), {"data": {"a": 1}, "permanent": True})
    assert first.status == 200, first
    assert first.json()["permanent"] is True
    assert PERMANENT - 5 <= first.json()["ttl"] <= PERMANENT
    second = request("PUT", session_path(sid), {"data": {}})
    assert second.status == 200, second
    assert second.json()["version"] == 3
    assert second.header("ETag") == '"3"'
    assert second.json()["data"] == {}


def test_put_on_a_never_issued_sid_is_404_and_creates_nothing():
    reply = request("PUT", session_path(NEVER_ISSUED), {"data": {"x": 1}})
    assert_problem(reply, 404, "session-not-found")
    assert_problem(request("GET", session_path(NEVER_ISSUED)), 404, "session-not-found")


def test_put_on_a_deleted_session_is_404_and_does_not_bring_it_back():
    sid = create({"data": {"x": 1}}).json()["sid"]
    assert request("DELETE", session_path(sid)).status == 204
    reply = request("PUT", session_path(sid), {"data": {"late": "write"}})
    assert_problem(reply, 404, "session-not-found")
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


# MARK: - Delete


def test_delete_answers_204_twice_then_reads_are_404():
    sid = create({"data": {"x": 1}}).json()["sid"]
    for _ in range(2):
        reply = request("DELETE", session_path(sid))
        assert reply.status == 204, reply
        assert reply.body == b""
        assert reply.header("Content-Type") is None
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


def test_delete_of_a_never_issued_sid_is_204():
    assert request("DELETE", session_path(NEVER_ISSUED)).status == 204


def test_delete_removes_only_that_session():
    keep = create({"data": {"keep": True}}).json()["sid"]
    gone = create({}).json()["sid"]
    assert request("DELETE", session_path(gone)).status == 204
    assert read(keep).json()["data"] == {"keep": True}


# MARK: - Bad input: a specific problem, and nothing stored


def nested(levels):
    """A `data` object nesting `levels` levels deep (data itself being level 1)."""
    return '{"data":{"a":' + "[" * (levels - 1) + "]" * (levels - 1) + "}}"


# (name, body bytes, content type, status, problem slug)
BAD_BODIES = [
    ("not-json", b"nope", "application/json", 400, "invalid-json"),
    ("trailing-bytes", b'{"data":{}} x', "application/json", 400, "invalid-json"),
    ("truncated", b'{"data":{', "application/json", 400, "invalid-json"),
    ("lone-surrogate", b'{"data":{"x":"\\ud800"}}', "application/json", 400, "invalid-json"),
    ("invalid-utf8", b'{"data":{"x":"\xff\xfe"}}', "application/json", 400, "invalid-utf8"),
    ("overlong-utf8", b'{"data":{"x":"\xc0\xaf"}}', "application/json", 400, "invalid-utf8"),
    ("duplicate-top-key", b'{"data":{},"data":{}}', "application/json", 400, "duplicate-key"),
    ("duplicate-nested-key", b'{"data":{"a":{"b":1,"b":2}}}', "application/json", 400, "duplicate-key"),
    ("too-deep", nested(MAX_DEPTH + 1).encode(), "application/json", 400, "too-deep"),
    ("data-array", b'{"data":[1,2]}', "application/json", 422, "invalid-body"),
    ("data-string", b'{"data":"x"}', "application/json", 422, "invalid-body"),
    ("data-null", b'{"data":null}', "application/json", 422, "invalid-body"),
    ("body-array", b"[]", "application/json", 422, "invalid-body"),
    ("unknown-field", b'{"data":{},"owner":"user-1"}', "application/json", 422, "invalid-body"),
    ("permanent-not-bool", b'{"data":{},"permanent":"yes"}', "application/json", 422, "invalid-body"),
    ("integer-2**64", b'{"data":{"n":18446744073709551616}}', "application/json", 422, "unsupported-value"),
    ("integer-2**63", b'{"data":{"n":9223372036854775808}}', "application/json", 422, "unsupported-value"),
    ("real-overflow", b'{"data":{"n":1e400}}', "application/json", 422, "unsupported-value"),
    ("nul-in-key", b'{"data":{"a\\u0000b":1}}', "application/json", 422, "unsupported-value"),
    ("text-plain", b'{"data":{}}', "text/plain", 415, "unsupported-media-type"),
    ("form", b"data=1", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    ("latin1-charset", b'{"data":{}}', "application/json; charset=iso-8859-1", 415, "unsupported-media-type"),
    ("no-content-type", b'{"data":{}}', None, 415, "unsupported-media-type"),
]


@pytest.mark.parametrize("name,body,content_type,status,slug", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_create_body_is_refused(name, body, content_type, status, slug):
    reply = request("POST", "/sessions", body, content_type=content_type)
    assert_problem(reply, status, slug)
    assert reply.header("Location") is None
    assert reply.header("ETag") is None


@pytest.mark.parametrize("name,body,content_type,status,slug", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_replace_body_is_refused_and_leaves_the_session_unchanged(name, body, content_type, status, slug):
    before = create({"data": {"kept": [1, 0.1]}, "permanent": True})
    sid = before.json()["sid"]
    reply = request("PUT", session_path(sid), body, content_type=content_type)
    assert_problem(reply, status, slug)
    assert reply.header("ETag") is None
    after = read(sid)
    assert after.header("ETag") == '"1"'
    assert without_ttl(after.json()) == without_ttl(before.json())


def test_put_without_data_is_422_and_changes_nothing():
    before = create({"data": {"x": 1}}).json()
    reply = request("PUT", session_path(before["sid"]), {"permanent": True})
    assert_problem(reply, 422, "invalid-body")
    assert without_ttl(read(before["sid"]).json()) == without_ttl(before)


def test_empty_body_with_a_json_content_type_is_not_json():
    assert_problem(request("POST", "/sessions", b""), 400, "invalid-json")


def test_deepest_accepted_data_is_stored():
    reply = request("POST", "/sessions", nested(MAX_DEPTH))
    assert reply.status == 201, reply


def test_content_type_is_case_insensitive_and_may_say_utf_8():
    for content_type in ("APPLICATION/JSON", "application/json;charset=UTF-8", 'application/json; charset="utf-8"'):
        reply = request("POST", "/sessions", b'{"data":{"ok":1}}', content_type=content_type)
        assert reply.status == 201, (content_type, reply)


MALFORMED_SIDS = [
    "not-a-uuid",
    "1B4E28BA-2FA1-41D2-883F-0016D3CCA427",  # uppercase
    "1b4e28ba2fa141d2883f0016d3cca427",  # no hyphens
    "{1b4e28ba-2fa1-41d2-883f-0016d3cca427}",  # braces
    "1b4e28ba-2fa1-41d2-883f-0016d3cca42",  # one digit short
    "1b4e28ba-2fa1-41d2-883f-0016d3cca4277",  # one digit long
    "1b4e28ba-2fa1-41d2-883f-0016d3cca42g",  # not hex
]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("sid", MALFORMED_SIDS)
def test_malformed_sid_is_400(method, sid):
    body = {"data": {}} if method == "PUT" else None
    reply = request(method, session_path(urllib.parse.quote(sid, safe="-")), body)
    assert_problem(reply, 400, "malformed-sid")


def test_uppercase_sid_does_not_reach_the_session():
    sid = create({"data": {"x": 1}}).json()["sid"]
    upper = sid.upper()
    assert_problem(request("DELETE", session_path(upper)), 400, "malformed-sid")
    assert_problem(request("PUT", session_path(upper), {"data": {}}), 400, "malformed-sid")
    session = read(sid).json()
    assert session["data"] == {"x": 1}
    assert session["version"] == 1


def test_body_too_large_is_413_and_closes_the_connection():
    filler = "x" * (MAX_BODY - len('{"data":{"a":""}}') + 1)
    body = ('{"data":{"a":"' + filler + '"}}').encode()
    assert len(body) == MAX_BODY + 1
    reply = request("POST", "/sessions", body)
    assert_problem(reply, 413, "body-too-large")
    assert reply.header("Connection") == "close"


def test_body_at_the_limit_is_accepted():
    filler = "x" * (MAX_BODY - len('{"data":{"a":""}}'))
    body = ('{"data":{"a":"' + filler + '"}}').encode()
    assert len(body) == MAX_BODY
    reply = request("POST", "/sessions", body)
    assert reply.status == 201, reply


def test_replace_too_large_is_413_and_leaves_the_session_unchanged():
    before = create({"data": {"x": 1}}).json()
    body = ('{"data":{"a":"' + "x" * MAX_BODY + '"}}').encode()
    assert_problem(request("PUT", session_path(before["sid"]), body), 413, "body-too-large")
    assert without_ttl(read(before["sid"]).json()) == without_ttl(before)


@pytest.mark.parametrize("path", ["/", "/nope", "/sessions/a/b", "/session", "/livez/extra", "/SESSIONS"])
def test_unknown_path_is_404(path):
    assert_problem(request("GET", path), 404, "not-found")


@pytest.mark.parametrize(
    "method,path,allow",
    [
        ("GET", "/sessions", "POST"),
        ("DELETE", "/sessions", "POST"),
        ("POST", session_path(NEVER_ISSUED), "GET, HEAD, PUT, PATCH, DELETE"),
        ("OPTIONS", "/sessions/not-a-uuid", "GET, HEAD, PUT, PATCH, DELETE"),  # the method is checked first
        ("GET", session_path(NEVER_ISSUED) + "/touch", "POST"),
        ("POST", "/livez", "GET, HEAD"),
        ("DELETE", "/readyz", "GET, HEAD"),
        ("PUT", "/openapi.yaml", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405_with_allow(method, path, allow):
    reply = request(method, path)
    assert_problem(reply, 405, "method-not-allowed")
    assert reply.header("Allow") == allow


def test_wrong_method_does_not_touch_the_session():
    before = create({"data": {"x": 1}}).json()
    reply = request("POST", session_path(before["sid"]), {"data": {"x": 2}})
    assert_problem(reply, 405, "method-not-allowed")
    assert without_ttl(read(before["sid"]).json()) == without_ttl(before)


# MARK: - Operations


def test_livez():
    reply = request("GET", "/livez")
    assert reply.status == 200, reply
    assert reply.json() == {"status": "alive"}
    assert reply.header("Cache-Control") == "no-store"


def test_readyz():
    reply = request("GET", "/readyz")
    assert reply.status == 200, reply
    assert reply.json() == {"status": "ready", "store": STORE}
    assert reply.header("Cache-Control") == "no-store"


def test_openapi_document_is_served_byte_for_byte():
    # The server embeds api/openapi.yaml when it is built (SwiftPM embeds it as a resource): this fails
    # until the binary is rebuilt after the document changes.
    reply = request("GET", "/openapi.yaml")
    assert reply.status == 200, reply
    assert reply.header("Content-Type").split(";")[0].strip() == "application/yaml"
    assert reply.body == OPENAPI_FILE.read_bytes()


# MARK: - Connections


def test_keep_alive_serves_two_requests_on_one_connection():
    conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
    try:
        conn.request("POST", BASE_PATH + "/sessions", body=b'{"data":{"n":1}}', headers={"Content-Type": "application/json"})
        first = conn.getresponse()
        created = json.loads(first.read())
        assert first.status == 201
        assert first.getheader("Connection") != "close"
        sock = conn.sock
        assert sock is not None
        local = sock.getsockname()
        conn.request("GET", BASE_PATH + session_path(created["sid"]))
        second = conn.getresponse()
        assert second.status == 200
        assert json.loads(second.read())["data"] == {"n": 1}
        # Same socket: http.client would have opened a new one had the server closed it.
        assert conn.sock is sock
        assert conn.sock.getsockname() == local
    finally:
        conn.close()


def read_responses(sock, count):
    """Reads `count` responses with Content-Length framing from `sock`: [(status, headers, body)]."""
    buffer = b""
    responses = []
    sock.settimeout(10)
    while len(responses) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(responses)} responses"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        responses.append((status, headers, buffer[:length]))
        buffer = buffer[length:]
    return responses


def test_pipelined_requests_are_answered_in_order():
    first = create({"data": {"which": "first"}}).json()["sid"]
    second = create({"data": {"which": "second"}}).json()["sid"]
    host = f"{HOST}:{PORT}"
    body = b'{"data":{"which":"third"}}'
    pipeline = (
        f"GET {BASE_PATH}/sessions/{first} HTTP/1.1\r\nHost: {host}\r\n\r\n"
        f"GET {BASE_PATH}/sessions/{second} HTTP/1.1\r\nHost: {host}\r\n\r\n"
        f"POST {BASE_PATH}/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body + f"GET {BASE_PATH}/livez HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(pipeline)  # all four requests in one write
        responses = read_responses(sock, 4)
    assert [status for status, _, _ in responses] == [200, 200, 201, 200]
    assert json.loads(responses[0][2])["data"] == {"which": "first"}
    assert json.loads(responses[1][2])["data"] == {"which": "second"}
    assert json.loads(responses[2][2])["data"] == {"which": "third"}
    assert json.loads(responses[3][2]) == {"status": "alive"}


def test_pipelined_gets_in_one_write_come_back_in_order():
    first = create({"data": {"n": 1}}).json()["sid"]
    second = create({"data": {"n": 2}}).json()["sid"]
    host = f"{HOST}:{PORT}"
    two = (
        f"GET {BASE_PATH}/sessions/{first} HTTP/1.1\r\nHost: {host}\r\n\r\n"
        f"GET {BASE_PATH}/sessions/{second} HTTP/1.1\r\nHost: {host}\r\n\r\n"
    ).encode()
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        sock.sendall(two)
        responses = read_responses(sock, 2)
    assert [json.loads(body)["sid"] for _, _, body in responses] == [first, second]
    assert [headers["etag"] for _, headers, _ in responses] == ['"1"', '"1"']


def test_a_413_reaches_a_client_that_is_still_sending_its_body():
    # The server answers 413 as soon as the limit is passed and stops reading; closing at once
    # with megabytes unread would make the kernel reset the connection and destroy the 413.
    body = b"x" * (3 * 1024 * 1024)
    for attempt in range(10):
        sock = socket.create_connection((HOST, PORT), timeout=10)
        try:
            sock.sendall(
                b"POST /sessions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            try:
                sock.sendall(b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
            except OSError:
                pass  # the server may stop reading; the answer must still be there
            answer = sock.recv(4096)
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 413 "), (attempt, answer[:80])
        assert b"body-too-large" in answer
