"""Creating under an id the app minted (PUT with If-None-Match: *) and a lifetime per session,
over real HTTP against a running sessiond on either store (SESSIOND_URL, SESSIOND_STORE; the
default settings: standard lifetime one day, permanent 31 days, --max-lifetime the permanent
lifetime). Framework adapters rely on both: Express's synchronous genid, Django's set_expiry.
"""

import concurrent.futures
import time
import uuid

from test_lifecycle import DAY, PERMANENT, assert_problem, assert_session_shape, create, read, request, session_path

CREATE = {"If-None-Match": "*"}


def minted():
    return str(uuid.uuid4())


# MARK: - Create under an app-minted id


def test_put_with_if_none_match_star_creates_under_the_apps_uuid():
    sid = minted()
    reply = request("PUT", session_path(sid), {"data": {"cart": [1]}, "subject": "user-7"}, headers=CREATE)
    assert reply.status == 201, reply
    assert reply.header("Location") == session_path(sid)
    assert reply.header("ETag") == '"1"'
    session = reply.json()
    assert_session_shape(session)
    assert session["sid"] == sid and session["version"] == 1
    assert session["data"] == {"cart": [1]} and session["subject"] == "user-7" and session["lifetime"] is None
    assert DAY - 5 <= session["ttl"] <= DAY
    assert read(sid).json()["data"] == {"cart": [1]}


def test_a_taken_id_is_412_session_exists_and_nothing_changes():
    sid = minted()
    first = request("PUT", session_path(sid), {"data": {"owner": "first"}}, headers=CREATE)
    assert first.status == 201
    again = request("PUT", session_path(sid), {"data": {"owner": "second"}, "permanent": True}, headers=CREATE)
    assert_problem(again, 412, "session-exists")
    session = read(sid).json()
    assert session["data"] == {"owner": "first"} and session["version"] == 1 and not session["permanent"]


def test_an_id_made_by_the_server_is_taken_too():
    sid = create({"data": {"a": 1}}).json()["sid"]
    assert_problem(request("PUT", session_path(sid), {"data": {}}, headers=CREATE), 412, "session-exists")
    assert read(sid).json()["data"] == {"a": 1}


def test_racing_creates_under_one_id_have_exactly_one_winner():
    for _ in range(10):
        sid = minted()
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            replies = list(pool.map(
                lambda n: request("PUT", session_path(sid), {"data": {"n": n}}, headers=CREATE), range(6)
            ))
        statuses = sorted(reply.status for reply in replies)
        assert statuses == [201] + [412] * 5, statuses
        winner = next(reply for reply in replies if reply.status == 201).json()
        assert read(sid).json()["data"] == winner["data"]


def test_a_deleted_id_may_be_created_again_and_starts_at_version_1():
    sid = minted()
    assert request("PUT", session_path(sid), {"data": {"v": 1}}, headers=CREATE).status == 201
    assert request("DELETE", session_path(sid)).status == 204
    again = request("PUT", session_path(sid), {"data": {"v": 2}}, headers=CREATE)
    assert again.status == 201 and again.json()["version"] == 1


def test_a_put_without_if_none_match_still_never_creates():
    sid = minted()
    assert_problem(request("PUT", session_path(sid), {"data": {}}), 404, "session-not-found")
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


def test_a_minted_id_must_be_a_random_version_4_uuid():
    for sid in (str(uuid.uuid1()), str(uuid.uuid3(uuid.NAMESPACE_DNS, "x")), "00000000-0000-4000-0000-000000000000"):
        assert_problem(request("PUT", session_path(sid), {"data": {}}, headers=CREATE), 400, "malformed-sid")
        assert_problem(request("GET", session_path(sid)), 404, "session-not-found")
    upper = minted().upper()
    assert_problem(request("PUT", session_path(upper), {"data": {}}, headers=CREATE), 400, "malformed-sid")


def test_if_none_match_takes_only_a_star():
    sid = minted()
    for value in ('"1"', 'W/"1"', "*, \"1\"", "all"):
        assert_problem(request("PUT", session_path(sid), {"data": {}}, headers={"If-None-Match": value}), 400, "invalid-if-none-match")
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


def test_if_none_match_on_other_writes_is_400_and_changes_nothing():
    sid = create({"data": {"a": 1}}).json()["sid"]
    patch = request("PATCH", session_path(sid), {"data": {"b": 2}}, headers=CREATE, content_type="application/merge-patch+json")
    assert_problem(patch, 400, "invalid-if-none-match")
    assert_problem(request("DELETE", session_path(sid), headers=CREATE), 400, "invalid-if-none-match")
    assert_problem(request("POST", session_path(sid) + "/rotate", headers=CREATE), 400, "invalid-if-none-match")
    session = read(sid).json()
    assert session["data"] == {"a": 1} and session["version"] == 1


def test_a_create_with_a_bad_body_stores_nothing():
    sid = minted()
    assert_problem(request("PUT", session_path(sid), {"permanent": True}, headers=CREATE), 422, "invalid-body")
    assert_problem(request("PUT", session_path(sid), {"data": {}, "lifetime": 0}, headers=CREATE), 422, "invalid-body")
    assert_problem(request("PUT", session_path(sid), "{nope", headers=CREATE), 400, "invalid-json")
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


# MARK: - A lifetime per session


def test_a_lifetime_replaces_the_one_permanence_picks():
    session = create({"data": {}, "permanent": True, "lifetime": 300}).json()
    assert session["lifetime"] == 300 and 295 <= session["ttl"] <= 300
    assert read(session["sid"]).json()["lifetime"] == 300


def test_a_session_with_a_short_lifetime_expires_after_it_and_a_touch_slides_it():
    sid = create({"data": {}, "lifetime": 2}).json()["sid"]
    time.sleep(1.2)
    touched = request("POST", session_path(sid) + "/touch")
    assert touched.status == 200 and touched.json()["ttl"] == 2
    time.sleep(1.2)
    assert read(sid).json()["lifetime"] == 2  # alive: the touch slid it
    time.sleep(1.0)
    assert_problem(request("GET", session_path(sid)), 404, "session-not-found")


def test_patch_keeps_sets_and_clears_the_lifetime():
    sid = create({"data": {}, "lifetime": 600}).json()["sid"]
    merge = "application/merge-patch+json"
    kept = request("PATCH", session_path(sid), {"data": {"a": 1}}, content_type=merge).json()
    assert kept["lifetime"] == 600 and 595 <= kept["ttl"] <= 600
    set_ = request("PATCH", session_path(sid), {"lifetime": 60}, content_type=merge).json()
    assert set_["lifetime"] == 60 and 55 <= set_["ttl"] <= 60
    cleared = request("PATCH", session_path(sid), {"lifetime": None, "permanent": True}, content_type=merge).json()
    assert cleared["lifetime"] is None and PERMANENT - 5 <= cleared["ttl"] <= PERMANENT


def test_put_states_the_lifetime_and_omitting_it_clears_it():
    sid = create({"data": {}, "lifetime": 600}).json()["sid"]
    stated = request("PUT", session_path(sid), {"data": {}, "lifetime": 30}).json()
    assert stated["lifetime"] == 30 and 25 <= stated["ttl"] <= 30
    omitted = request("PUT", session_path(sid), {"data": {}}).json()
    assert omitted["lifetime"] is None and DAY - 5 <= omitted["ttl"] <= DAY


def test_rotation_keeps_the_lifetime():
    sid = create({"data": {"u": 1}, "lifetime": 900}).json()["sid"]
    rotated = request("POST", session_path(sid) + "/rotate")
    assert rotated.status == 201
    assert rotated.json()["lifetime"] == 900 and 895 <= rotated.json()["ttl"] <= 900


def test_a_lifetime_longer_than_max_lifetime_is_422_and_changes_nothing():
    created = create({"data": {"a": 1}, "lifetime": PERMANENT}).json()
    assert created["lifetime"] == PERMANENT
    too_long = request("POST", "/sessions", {"data": {}, "lifetime": PERMANENT + 1})
    problem = assert_problem(too_long, 422, "lifetime-too-long")
    assert str(PERMANENT) in problem["detail"]
    merge = "application/merge-patch+json"
    assert_problem(request("PATCH", session_path(created["sid"]), {"lifetime": PERMANENT + 1}, content_type=merge), 422, "lifetime-too-long")
    assert read(created["sid"]).json()["version"] == 1


def test_a_lifetime_must_be_whole_positive_seconds():
    for value in (0, -1, 1.5, "60", True, [60], {"s": 60}):
        assert_problem(request("POST", "/sessions", {"data": {}, "lifetime": value}), 422, "invalid-body")
    assert create({"data": {}, "lifetime": 60.0}).json()["lifetime"] == 60
