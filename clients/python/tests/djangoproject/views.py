"""Views that use request.session as any Django app does."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

#: Set by a test: /race reads the session, then waits here for the other racer.
RACE_BARRIER: threading.Barrier | None = None


def _body(request: HttpRequest) -> Any:
    return json.loads(request.body or b"{}")


def count(request: HttpRequest) -> HttpResponse:
    request.session["count"] = request.session.get("count", 0) + 1
    return JsonResponse({"count": request.session["count"]})


def peek(request: HttpRequest) -> HttpResponse:
    return JsonResponse({
        "data": dict(request.session.items()),
        "key": request.session.session_key,
        "expiry_age": request.session.get_expiry_age(),
        "browser_close": request.session.get_expire_at_browser_close(),
        "unavailable": getattr(request.session, "unavailable", None),
    })


def set_key(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    request.session[body["key"]] = body["value"]
    return JsonResponse({"ok": True})


def set_none(request: HttpRequest) -> HttpResponse:
    request.session[_body(request)["key"]] = None
    return JsonResponse({"ok": True})


def race(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    request.session.get("anything")  # read the session first
    assert RACE_BARRIER is not None
    RACE_BARRIER.wait(timeout=10)  # ...until the other request has read it too
    request.session[body["key"]] = body["value"]
    return JsonResponse({"ok": True})


def expiry(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    if "in_seconds" in body:  # a moment: a datetime that many seconds from now
        request.session.set_expiry(timezone.now() + timedelta(seconds=body["in_seconds"]))
    else:
        request.session.set_expiry(body["value"])  # an int, 0 or None
    return JsonResponse({"ok": True})


def login_view(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    user = authenticate(request, username=body["username"], password=body["password"])
    if user is None:
        return JsonResponse({"ok": False}, status=403)
    login(request, user)
    return JsonResponse({"ok": True, "key": request.session.session_key})


def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return JsonResponse({"ok": True})


def whoami(request: HttpRequest) -> HttpResponse:
    user = request.user
    return JsonResponse({"user": user.get_username() if user.is_authenticated else None})


async def async_count(request: HttpRequest) -> HttpResponse:
    n = await request.session.aget("count", 0) + 1
    await request.session.aset("count", n)
    return JsonResponse({"count": n})


async def async_cycle(request: HttpRequest) -> HttpResponse:
    await request.session.acycle_key()
    await request.session.aset("cycled", True)
    return JsonResponse({"key": request.session.session_key})
