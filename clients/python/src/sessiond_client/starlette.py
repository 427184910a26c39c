"""Starlette and FastAPI sessions kept in Sessiond: an ASGI middleware with Starlette's
``request.session``.

    from sessiond_client.starlette import SessiondSessionMiddleware, rotate_session

    app.add_middleware(SessiondSessionMiddleware, url="http://127.0.0.1:8080", api_key=...)

in place of ``app.add_middleware(SessionMiddleware, secret_key=...)`` (Starlette's signed-cookie
sessions) or of starsessions' ``SessionMiddleware`` with a ``RedisStore``. Views keep using
``request.session`` as a dict. The cookie holds only the session id that Sessiond issued; the
data stays in Sessiond, as plain JSON that apps in other languages read too.

What a request sends to Sessiond:

- at its start: nothing without a cookie (or with a cookie that is not a sid); else one
  ``GET /sessions/{sid}`` (``?touch=true`` with ``refresh_each_request``, the default: the read
  slides the expiry and writes nothing). ``request.session`` is a plain dict for the view, so it
  is read before the view runs, whether or not the view uses it; requests without the cookie
  cost nothing. An unknown, expired or malformed sid gives a new, empty session.
- when the response starts: nothing when the session did not change. Else only what changed,
  as one atomic merge patch (``PATCH``): keys set or changed (nested dicts as their own merge
  patch), ``null`` for keys removed, and ``subject`` when it changed; so two requests of one user
  that change different keys both keep their change. Storing ``None`` as a value, which a merge
  patch cannot say, is a ``PUT`` with ``If-Match`` on the version read, re-applied on top of the
  current state when another request wrote in between. A new session is created (``POST``,
  under a sid Sessiond chooses) only once it holds data; an emptied one is deleted and its
  cookie removed. A session that is gone when its changes are written (logged out by another
  request, revoked, expired) is not brought back: the changes are dropped and the cookie
  removed, as the Flask adapter does.
- :func:`rotate_session` (at login): ``POST /sessions/{sid}/rotate`` at once; the response sets
  the cookie to the new sid. :func:`logout_everywhere`: ``DELETE /subjects/{subject}/sessions``.

Changes are found by comparing the session with what was read, so values changed in place
(``request.session["cart"].append(3)``) are saved too. Values must be JSON: dict (string keys),
list, tuple (read back as a list), str, int, finite float, bool, None; anything else fails the
request with a TypeError naming the key. Websocket connections get the session read-only: what
they change is not saved.
"""

from __future__ import annotations

import copy
import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

try:
    from starlette.datastructures import MutableHeaders
    from starlette.requests import HTTPConnection
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'sessiond_client.starlette needs Starlette and httpx, which the "starlette" extra installs: '
        'pip install "sessiond[starlette]"'
    ) from _error

from ._wire import SID_PATTERN, NotMergeable, check_json, merge_diff, top_level_changes
from .aio import AsyncSessiondClient
from .client import UNSET, Session, Timeout, handle_for
from .errors import (
    BadRequest,
    PreconditionFailed,
    SessiondError,
    SessiondUnavailable,
    SessionNotFound,
    SessionRotated,
)

if TYPE_CHECKING:  # pragma: no cover
    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

__all__ = [
    "SessiondSession",
    "SessiondSessionMiddleware",
    "load_session",
    "logout_everywhere",
    "rotate_session",
    "sessiond_session",
]

logger = logging.getLogger("sessiond_client.starlette")

_EXPIRED = "expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"


class SessiondSession(dict[str, Any]):
    """``request.session``: a dict of the session's data, backed by a Sessiond session.

    As Starlette's own session it has ``accessed`` (``request.session`` was used) and ``modified``
    (changed through the dict's methods; saving does not depend on it). Besides: ``sid`` (None
    until first saved), ``version``, ``expires_at``, ``ttl``, ``subject`` (your user id, for
    listing and revoking a user's sessions; None by default), ``handle``, :meth:`rotate`, and
    ``unavailable`` (True when Sessiond could not be reached and the middleware runs fail-open:
    this session is empty and is never saved).
    """

    accessed: bool = False
    modified: bool = False

    def __init__(
        self,
        client: AsyncSessiondClient,
        resource: Session | None = None,
        *,
        touched: bool = False,
        stale_cookie: bool = False,
        unavailable: bool = False,
    ) -> None:
        data = resource.data if resource is not None else {}
        super().__init__(data)
        self._client = client
        self.sid: str | None = resource.sid if resource is not None else None
        self.version: int | None = resource.version if resource is not None else None
        self.expires_at: datetime | None = resource.expires_at if resource is not None else None
        self.ttl: int | None = resource.ttl if resource is not None else None
        #: The request's cookie named a session that is not there (or was not a sid).
        self.stale_cookie = stale_cookie
        self.unavailable = unavailable
        #: Read through a sid that another request rotated (at login) and that is in Sessiond's
        #: grace window: the session as it was then, read-only. It is never saved and its cookie
        #: is never set (the browser holds the new sid already).
        self.rotated = resource.rotated if resource is not None else False
        self._subject: str | None = resource.subject if resource is not None else None
        self._loaded_subject = self._subject
        self._loaded_permanent = resource.permanent if resource is not None else False
        self._loaded_lifetime = resource.lifetime if resource is not None else None
        # What the request read, and its version: the base that changes are found against.
        self._original: dict[str, Any] = copy.deepcopy(dict(data))
        self._base_version = self.version
        self._touched = touched
        self._written = False
        self._gone = False
        self._saved = False

    # MARK: - Starlette's Session interface

    def mark_accessed(self) -> None:
        self.accessed = True

    def mark_modified(self) -> None:
        self.accessed = True
        self.modified = True

    def __setitem__(self, key: str, value: Any) -> None:
        self.mark_modified()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.mark_modified()
        super().__delitem__(key)

    def pop(self, key: str, *args: Any) -> Any:
        if key in self:
            self.mark_modified()
        return super().pop(key, *args)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self.mark_modified()
        return item

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.mark_modified()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.mark_modified()
        super().update(*args, **kwargs)

    def __ior__(self, other: Any) -> Self:  # type: ignore[override,misc]
        self.mark_modified()
        super().update(other)
        return self

    def clear(self) -> None:
        """Empties the session and resets ``subject``: a session emptied this way is deleted
        from Sessiond when the response starts, and its cookie removed (logout)."""
        self.mark_modified()
        super().clear()
        self._subject = None

    # MARK: - Beyond Starlette's

    @property
    def subject(self) -> str | None:
        """Whose session this is (1 to 256 bytes of UTF-8), or None. Set it at login."""
        return self._subject

    @subject.setter
    def subject(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError("session.subject must be a string or None")
        if value != self._subject:
            self._subject = value
            self.mark_modified()

    @property
    def handle(self) -> str | None:
        """The handle this session is listed under in its subject's sessions (None until saved)."""
        return handle_for(self.sid) if self.sid else None

    async def rotate(self) -> None:
        """Gives the session a new sid now (``POST /sessions/{sid}/rotate``; the same data, and
        the old sid stops working at once); the response sets the cookie to it. Changes made in
        this request are written under the new sid when the response starts. A session not yet
        in Sessiond needs none (it gets a new sid when it is created); a session that is gone
        (logged out elsewhere, expired) is not brought back: it is dropped, as on any write."""
        if self.sid is None or self.unavailable or self._gone or self.rotated:
            return
        try:
            rotated = await self._client.rotate(self.sid)
        except SessionRotated:
            logger.info("the session was rotated by another request; it is not rotated again")
            self.rotated = True
            return
        except SessionNotFound:
            logger.info("the session was gone when it was rotated (logged out or expired); it is not recreated")
            self._gone = True
            return
        self._adopt(rotated)
        self._written = True

    def _adopt(self, resource: Session) -> None:
        self.sid = resource.sid
        self.version = resource.version
        self.expires_at = resource.expires_at
        self.ttl = resource.ttl


class SessiondSessionMiddleware:
    """Keeps ``request.session`` in Sessiond.

    Starlette's ``SessionMiddleware`` arguments, less ``secret_key`` (nothing is signed: the
    cookie holds a random sid):

    :param session_cookie: the cookie's name.
    :param max_age: seconds: the cookie's ``Max-Age``, and the session's own ``lifetime`` in
        Sessiond (idle: every write, and every read with ``refresh_each_request``, slides it; at
        most the server's ``--max-lifetime``, 31 days by default). None: a cookie that ends with
        the browser session, and Sessiond's ``--lifetime`` (one day of idling).
    :param path, same_site, https_only, domain, partitioned: the cookie's attributes
        (``HttpOnly`` always).

    Sessiond's:

    :param url: Sessiond's base URL. :param api_key: sent as ``Authorization: Bearer <api_key>``.
    :param timeout: seconds (or a ``(connect, read)`` pair) before a call counts as failed.
    :param client: an :class:`~sessiond_client.aio.AsyncSessiondClient` to use instead of a new
        one (then ``url``, ``api_key`` and ``timeout`` are not used).
    :param fail_closed: when Sessiond cannot be reached, does not answer in time or answers 503:
        True (the default) raises :class:`~sessiond_client.SessiondUnavailable` from the
        middleware, so the request fails (500); False goes on with an empty session that is
        never saved (so it cannot overwrite the user's real one) and leaves the cookie alone,
        logging a warning on ``sessiond_client.starlette`` (an error for changes dropped).
    :param refresh_each_request: read with ``?touch=true`` so each request slides the
        session's expiry (and, with ``max_age``, sends the cookie again with a fresh
        ``Max-Age``); False: only writes slide it.
    :param conflict_retries: how often a conditional write (a ``None`` value to store) is
        re-applied when other requests keep writing in between.
    """

    def __init__(
        self,
        app: ASGIApp,
        url: str = "http://127.0.0.1:8080",
        api_key: str | None = None,
        *,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,  # 14 days, in seconds
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
        client: AsyncSessiondClient | None = None,
        timeout: Timeout | None = 2.0,
        fail_closed: bool = True,
        refresh_each_request: bool = True,
        conflict_retries: int = 5,
    ) -> None:
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 1):
            raise ValueError("max_age must be a whole number of seconds, 1 or more, or None")
        self.app = app
        self._owns_client = client is None
        self.client = client if client is not None else AsyncSessiondClient(url, api_key, timeout=timeout)
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.path = path
        self.fail_closed = fail_closed
        self.refresh_each_request = refresh_each_request
        self.conflict_retries = conflict_retries
        flags = "httponly; samesite=" + same_site
        if https_only:  # Secure flag can be used with HTTPS only
            flags += "; secure"
        if domain is not None:
            flags += f"; domain={domain}"
        if partitioned:
            flags += "; partitioned"
        self.security_flags = flags

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        if scope["type"] not in ("http", "websocket"):  # pragma: no cover
            await self.app(scope, receive, send)
            return

        connection = HTTPConnection(scope)
        cookie = connection.cookies.get(self.session_cookie)
        session = await self._open(cookie)
        scope["session"] = session
        if scope["type"] != "http":
            # A websocket sends no response headers to carry a cookie: read-only.
            await self.app(scope, receive, send)
            return

        incoming_sid = cookie if cookie and SID_PATTERN.match(cookie) else None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookies = await self._save(session, incoming_sid)
                if session.accessed or cookies:
                    message["headers"] = list(message.get("headers", []))
                    headers = MutableHeaders(scope=message)
                    headers.add_vary_header("Cookie")
                    for value in cookies:
                        headers.append("Set-Cookie", value)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _closing_on_shutdown(self, send: Send) -> Send:
        async def send_wrapper(message: Message) -> None:
            if self._owns_client and message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.client.aclose()
            await send(message)

        return send_wrapper

    # MARK: - Open

    async def _open(self, cookie: str | None) -> SessiondSession:
        if not cookie:
            return SessiondSession(self.client)
        if not SID_PATTERN.match(cookie):
            return SessiondSession(self.client, stale_cookie=True)
        try:
            resource = await self.client.get(cookie, touch=self.refresh_each_request)
        except (SessionNotFound, BadRequest):
            # Unknown, expired, deleted or rotated away: a new session, whose sid Sessiond
            # chooses when it is saved. The cookie's is never adopted.
            return SessiondSession(self.client, stale_cookie=True)
        except SessiondUnavailable as error:
            if self.fail_closed:
                raise
            logger.warning(
                "Sessiond is unavailable, so this request runs with an empty session that will not be saved: %s",
                error,
            )
            return SessiondSession(self.client, unavailable=True)
        return SessiondSession(self.client, resource, touched=self.refresh_each_request)

    # MARK: - Save

    async def _save(self, session: SessiondSession, incoming_sid: str | None) -> list[str]:
        """Writes what the request changed; the Set-Cookie header values to send."""
        if session._saved:
            return []
        session._saved = True
        if session.unavailable:
            if session or session.modified:
                logger.error(
                    "Sessiond was unavailable when this request started, so the changes it made to "
                    "the session were not saved (keys now: %s)",
                    sorted(session.keys()),
                )
            return []
        if session.rotated:
            # Another request rotated this sid (a login) while this one ran: the browser holds
            # the new sid, so no cookie is set and nothing is written under the old one.
            if session.modified:
                logger.info("the session was rotated by another request; the changes this request made are not saved")
            return []
        try:
            return await self._write(session, incoming_sid)
        except SessionRotated:
            # Rotated by another request between this one's read and its write: the same.
            logger.info("the session was rotated by another request; the changes this request made are not saved")
            return []
        except SessiondUnavailable as error:
            if self.fail_closed:
                raise
            logger.error(
                "Sessiond is unavailable, so the changes this request made to the session were not saved: %s", error
            )
            return []

    async def _write(self, session: SessiondSession, incoming_sid: str | None) -> list[str]:
        if session._gone:
            return [self._expired_cookie()]
        data = dict(session)
        check_json(data)

        if session.sid is None:
            if not data:
                # Nothing to keep: no session in Sessiond, and no cookie (a stale one is removed).
                return [self._expired_cookie()] if session.stale_cookie else []
            created = await self.client.create(
                data,
                subject=session.subject if session.subject is not None else UNSET,
                lifetime=self.max_age,
            )
            session._adopt(created)
            return [self._cookie(session)]

        if not data and (session._original or session.modified):
            # Emptied (logout): deleted, and its cookie removed. A request still running with
            # this sid gets 404 on its write and cannot bring the session back.
            await self.client.delete(session.sid)
            session.sid = None
            return [self._expired_cookie()]

        try:
            written = await self._write_changes(session, data)
        except SessionNotFound:
            # Deleted (logged out by another request, or revoked) or expired since this request
            # read it: never recreated with this request's view of it.
            logger.info("the session was gone when this request saved it (logged out or expired); it is not recreated")
            return [self._expired_cookie()]
        if written is not None:
            session._adopt(written)
            session._written = True
        refreshed = self.max_age is not None and (session._written or session._touched)
        if session.sid != incoming_sid or refreshed:
            return [self._cookie(session)]
        return []

    async def _write_changes(self, session: SessiondSession, data: dict[str, Any]) -> Session | None:
        assert session.sid is not None
        patch: dict[str, Any] = {}
        try:
            data_patch = merge_diff(session._original, data)
        except NotMergeable:
            return await self._replace_rebased(session, data)
        if data_patch:
            patch["data"] = data_patch
        if session._subject != session._loaded_subject:
            patch["subject"] = session._subject
        if not patch:
            return None
        return await self.client.patch(session.sid, patch)

    async def _replace_rebased(self, session: SessiondSession, data: dict[str, Any]) -> Session:
        """PUT of this request's changes on top of the version read, with If-Match; when another
        request wrote in between, the same changes on top of the current state, again."""
        assert session.sid is not None
        changed, removed = top_level_changes(session._original, data)
        base, version = session._original, session._base_version
        permanent, subject, lifetime = session._loaded_permanent, session._loaded_subject, session._loaded_lifetime
        for _ in range(self.conflict_retries + 1):
            merged = dict(base)
            for key in removed:
                merged.pop(key, None)
            merged.update(changed)
            if session._subject != session._loaded_subject:
                subject = session._subject
            try:
                return await self.client.replace(
                    session.sid, merged, permanent=permanent, subject=subject, lifetime=lifetime,
                    if_match=version if version is not None else "*",
                )
            except PreconditionFailed:
                current = await self.client.get(session.sid)
                base, version = current.data, current.version
                permanent, subject, lifetime = current.permanent, current.subject, current.lifetime
        raise SessiondError(
            f"the session kept changing while this request saved it ({self.conflict_retries + 1} attempts)"
        )

    # MARK: - Cookie

    def _cookie(self, session: SessiondSession) -> str:
        max_age = ""
        if self.max_age is not None:
            seconds = self.max_age
            if session.ttl is not None and 0 < session.ttl < seconds:
                seconds = session.ttl  # never past the session's own expiry (--absolute-lifetime)
            max_age = f"Max-Age={seconds}; "
        return f"{self.session_cookie}={session.sid}; path={self.path}; {max_age}{self.security_flags}"

    def _expired_cookie(self) -> str:
        return f"{self.session_cookie}=; path={self.path}; {_EXPIRED}; {self.security_flags}"


# MARK: - Helpers for views


def sessiond_session(connection: HTTPConnection) -> SessiondSession:
    """``request.session`` typed as the :class:`SessiondSession` it is (for ``subject``,
    ``sid``, ``handle``...); RuntimeError without :class:`SessiondSessionMiddleware`."""
    session = connection.scope.get("session")
    if isinstance(session, SessiondSession):
        return session
    raise RuntimeError("this needs app.add_middleware(SessiondSessionMiddleware, url=...)")


async def rotate_session(connection: HTTPConnection) -> None:
    """At login: the current session gets a new sid now (same data; the old sid stops working
    at once), and the response sets it in the cookie, so a sid planted before login is worthless
    after it. See :meth:`SessiondSession.rotate`."""
    await sessiond_session(connection).rotate()


async def logout_everywhere(connection: HTTPConnection, *, keep_current: bool = False) -> int:
    """Ends every session of the current session's ``subject`` in Sessiond (all devices), or all
    but this one with ``keep_current=True``; without it, the current session is emptied too (so
    it is deleted and its cookie removed). Returns how many sessions Sessiond ended."""
    session = sessiond_session(connection)
    revoked = 0
    if session.subject is not None:
        keep = session.handle if keep_current else None
        revoked = await session._client.revoke_subject(session.subject, except_handle=keep)
    if not keep_current:
        session.clear()
    return revoked


async def load_session(connection: HTTPConnection) -> None:
    """Does nothing: the middleware reads the session before the view runs. Here so that views
    written for starsessions (``await load_session(request)``) run unchanged."""
    sessiond_session(connection)
