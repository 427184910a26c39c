"""The example app (examples/app.py) as a user runs it, over real HTTP against the real binary."""

from __future__ import annotations

import importlib.util
import os
import re
import uuid

import pytest

from sessiond_client import SessiondClient, SessionNotFound

from conftest import Browser

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "app.py")


@pytest.fixture
def example_url(sessiond, serve, monkeypatch):
    monkeypatch.setenv("SESSIOND_URL", sessiond.url)
    spec = importlib.util.spec_from_file_location("sessiond_example_app", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return serve(module.app)


def visits(reply) -> int:
    return int(re.search(r"<h1>Visit (\d+)</h1>", reply.body.decode()).group(1))


def test_counter_login_and_logout(example_url, sessiond):
    client = SessiondClient(sessiond.url)
    browser = Browser(example_url)
    assert visits(browser.get("/")) == 1
    assert visits(browser.get("/")) == 2
    anonymous_sid = browser.sid
    user = "user-" + uuid.uuid4().hex[:8]
    page = browser.request("POST", "/login", form={"user": user, "remember": "on"})  # redirected to /
    assert page.status == 200 and f"Logged in as <b>{user}</b>" in page.body.decode()
    assert visits(page) == 3
    assert browser.sid != anonymous_sid
    with pytest.raises(SessionNotFound):
        client.get(anonymous_sid)
    stored = client.get(browser.sid)
    assert stored.subject == user and stored.permanent is True and stored.data["visits"] == 3
    # A second device, then "log out my other devices" from the first.
    phone = Browser(example_url)
    phone.request("POST", "/login", form={"user": user})
    assert "Your sessions: 2" in browser.get("/").body.decode()
    browser.request("POST", "/logout-others", form={})
    assert "Log in" in phone.get("/").body.decode()
    page = browser.request("POST", "/logout", form={})
    assert "Log in" in page.body.decode() and visits(page) == 1
    assert client.subject_sessions(user) == []
