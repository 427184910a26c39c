"""The API key against a real sessiond run with --api-keys-file (issue #5): the key opens its
namespace, a missing or wrong key is Unauthorized, also from a fail-open Flask app (a wrong key is
a mistake to see, not an outage to ride out). Skipped when the binary has no --api-keys-file."""

from __future__ import annotations

import secrets
import subprocess

import pytest

from sessiond_client import SessiondClient, SessiondUnavailable, SessionNotFound, Unauthorized

from conftest import BIN, Browser
from test_flask import make_app


def supports_api_keys() -> bool:
    try:
        return "--api-keys-file" in subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not supports_api_keys(), reason="this sessiond has no --api-keys-file")


@pytest.fixture
def keyed(own_sessiond, tmp_path):
    keys = {"shop": secrets.token_hex(32), "blog": secrets.token_hex(32)}
    path = tmp_path / "api-keys.txt"
    path.write_text("".join(f"{namespace}:{key}\n" for namespace, key in keys.items()))
    return own_sessiond("--api-keys-file", str(path)), keys


def test_the_key_opens_its_namespace_only(keyed):
    server, keys = keyed
    shop = SessiondClient(server.url, api_key=keys["shop"])
    s = shop.create({"cart": [1]})
    assert shop.get(s.sid).data == {"cart": [1]}
    with pytest.raises(SessionNotFound):
        SessiondClient(server.url, api_key=keys["blog"]).get(s.sid)
    for client in (SessiondClient(server.url), SessiondClient(server.url, api_key=secrets.token_hex(32))):
        with pytest.raises(Unauthorized) as caught:
            client.get(s.sid)
        assert caught.value.status == 401 and caught.value.slug == "unauthorized"
        assert not isinstance(caught.value, SessiondUnavailable)


def test_a_flask_app_with_its_key(keyed, serve):
    server, keys = keyed
    app = make_app(server.url)
    app.session_interface.client.api_key = keys["shop"]
    browser = Browser(serve(app))
    assert [browser.get("/count").json()["counter"] for _ in range(2)] == [1, 2]
    assert SessiondClient(server.url, api_key=keys["shop"]).get(browser.sid).data == {"counter": 2}


def test_a_wrong_key_fails_the_request_even_fail_open(keyed, serve):
    server, _ = keyed
    app = make_app(server.url, fail_closed=False)
    app.session_interface.client.api_key = secrets.token_hex(32)
    assert Browser(serve(app)).get("/count").status == 500
