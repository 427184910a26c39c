"""A thin HTTP client for the whole Sessiond API, on the Python standard library only.

    from sessiond_client import SessiondClient

    client = SessiondClient("http://127.0.0.1:8080", api_key="...", timeout=2.0)
    s = client.create({"user": 42}, permanent=True, subject="user-42")
    s = client.patch(s.sid, data={"cart": [1, 2], "flash": None})   # merge patch: null removes
    s = client.get(s.sid, touch=True)
    s = client.rotate(s.sid)                                         # at login: a new sid
    client.revoke_subject("user-42", except_handle=s.handle)         # log out everywhere else
    client.delete(s.sid)

Every method sends one request (a reused keep-alive connection is retried once, on a fresh
connection, when the server had closed it while idle). Errors are raised as exceptions that
carry the problem details: see :mod:`sessiond_client.errors`. The client is safe to share
between threads.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Union

from ._wire import problem_from
from ._wire import timestamp as _timestamp
from .errors import (
    SessiondError,
    SessiondUnavailable,
)
from .events import (
    DEFAULT_RETRY,
    IDLE_TIMEOUT,
    EventStreamParser,
    LifecycleEvent,
    Missed,
    is_transient,
    item_of,
    retry_delay,
)

__all__ = ["SessiondClient", "Session", "SessionSummary", "handle_for", "new_sid", "UNSET"]

__version__ = "0.1.0"

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"

_events_logger = logging.getLogger("sessiond_client.events")

Timeout = Union[float, tuple[float, float]]
IfMatch = Union[int, str, Iterable[int]]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: Marks an argument that was not given (``subject=None`` means "no subject", UNSET "leave it").
UNSET: Any = _Unset()


def handle_for(sid: str) -> str:
    """The handle Sessiond lists a session under: the first 128 bits of SHA-256 over
    ``sessiond-handle-v1:`` and the sid, in hex. It names the session for revoking, and cannot
    be turned back into the sid."""
    return hashlib.sha256(b"sessiond-handle-v1:" + sid.encode("utf-8")).hexdigest()[:32]


def _mint_sid() -> str:
    """A new random sid (what :func:`new_sid` gives), under a name that parameters do not hide."""
    return str(uuid.uuid4())


def new_sid() -> str:
    """A new session id for :meth:`SessiondClient.create` with ``sid=``: a random UUID
    (version 4), ``str(uuid.uuid4())``, the only form Sessiond accepts there.

    Pass only ids minted this way by your own code, NEVER an id read from a cookie, a header
    or any other part of a request: creating a session under an id the client chose is session
    fixation (an attacker plants a cookie with an id of their choosing, the victim logs in
    under it, and the attacker holds the victim's session).
    """
    return str(uuid.uuid4())


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _lifetime(value: Any) -> int | None:
    """Checks a lifetime argument: whole seconds (>= 1) or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"lifetime must be whole seconds (an int) or None, not {type(value).__name__}")
    return value


@dataclass
class Session:
    """A session as Sessiond returns it."""

    sid: str
    data: dict[str, Any]
    permanent: bool
    subject: str | None
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    expires_at: datetime | None
    ttl: int
    #: The session's own idle lifetime in seconds, or None: then ``permanent`` picks it.
    lifetime: int | None = None
    #: True when read through a sid that was rotated and is in its grace window: the session
    #: as it was at the rotation, read-only (writes raise :class:`SessionRotated`). Never set a
    #: cookie from it: the browser already holds the new sid.
    rotated: bool = False
    #: The session's device object (a few strings the app set), or None.
    device: dict[str, Any] | None = None
    #: The last write or touch.
    last_seen_at: datetime | None = None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Session:
        return cls(
            sid=body["sid"],
            data=body.get("data") or {},
            permanent=bool(body.get("permanent", False)),
            subject=body.get("subject"),
            version=int(body.get("version", 0)),
            created_at=_timestamp(body.get("created_at")),
            updated_at=_timestamp(body.get("updated_at")),
            expires_at=_timestamp(body.get("expires_at")),
            ttl=int(body.get("ttl", 0)),
            lifetime=_optional_int(body.get("lifetime")),
            rotated=body.get("rotated") is True,
            device=body.get("device"),
            last_seen_at=_timestamp(body.get("last_seen_at")),
            raw=dict(body),
        )

    @property
    def etag(self) -> str:
        """The entity tag of this version, for ``If-Match``: ``'"3"'``."""
        return f'"{self.version}"'

    @property
    def handle(self) -> str:
        """This session's handle in subject listings (see :func:`handle_for`)."""
        return handle_for(self.sid)


@dataclass
class SessionSummary:
    """One entry of a subject's listing: a handle and times, never a sid or data."""

    handle: str
    permanent: bool
    created_at: datetime | None
    updated_at: datetime | None
    expires_at: datetime | None
    ttl: int
    #: The session's device object, or None.
    device: dict[str, Any] | None = None
    #: The session's last write or touch.
    last_seen_at: datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SessionSummary:
        return cls(
            handle=body["handle"],
            permanent=bool(body.get("permanent", False)),
            created_at=_timestamp(body.get("created_at")),
            updated_at=_timestamp(body.get("updated_at")),
            expires_at=_timestamp(body.get("expires_at")),
            ttl=int(body.get("ttl", 0)),
            device=body.get("device"),
            last_seen_at=_timestamp(body.get("last_seen_at")),
        )


def _format_if_match(value: IfMatch) -> str:
    if isinstance(value, bool):
        raise TypeError("if_match takes a version (int), '*', an entity tag or a list of versions")
    if isinstance(value, int):
        return f'"{value}"'
    if isinstance(value, str):
        if value == "*" or value.startswith(('"', "W/")):
            return value
        if value.isdigit():
            return f'"{value}"'
        raise ValueError(f"if_match: not a version or an entity tag: {value!r}")
    return ", ".join(_format_if_match(v) for v in value)


def _segment(value: str) -> str:
    """One path segment, percent-encoded (UTF-8), so no value can reach another path."""
    return urllib.parse.quote(value, safe="")


def _split_timeout(timeout: Timeout | None) -> tuple[float | None, float | None]:
    if timeout is None:
        return None, None
    if isinstance(timeout, tuple):
        connect, read = timeout
        return connect, read
    return float(timeout), float(timeout)


class _Connector:
    """Makes the connections of one client. It holds no reference to the client, so the pool
    (and the finalizer that closes it) never keep a dropped client alive."""

    def __init__(
        self, scheme: str, host: str, port: int, connect_timeout: float | None, ssl_context: ssl.SSLContext | None
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.ssl_context = ssl_context

    def __call__(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.connect_timeout, context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.connect_timeout)


class _Pool:
    """Idle keep-alive connections, last in first out; a forked child closes its copies of the
    parent's and starts afresh."""

    def __init__(self, factory: Callable[[], http.client.HTTPConnection], max_idle: int) -> None:
        self._factory = factory
        self._max_idle = max_idle
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def acquire(self) -> tuple[http.client.HTTPConnection, bool]:
        inherited: list[http.client.HTTPConnection] = []
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker must not share its parent's sockets: it closes its copies of
                # them (the parent's stay open) and opens its own.
                inherited, self._idle = self._idle, []
                self._pid = os.getpid()
            conn = self._idle.pop() if self._idle else None
        for old in inherited:
            old.close()
        if conn is not None:
            return conn, True
        return self._factory(), False

    def release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


_SID_IN_PATH = re.compile(r"/sessions/[^/]+")
_SUBJECT_IN_PATH = re.compile(r"/subjects/[^/]+")

_STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


class SessiondClient:
    """A client for one Sessiond service.

    :param url: the service's base URL, ``http://127.0.0.1:8080`` by default (``https://`` and a
        path prefix such as ``https://sessions.internal/sessiond`` work too).
    :param api_key: when given, sent as ``Authorization: Bearer <api_key>`` on every request.
    :param timeout: seconds to wait to connect and then for each read, or a ``(connect, read)``
        pair; 2 s by default. Past it the call raises :class:`SessiondUnavailable`.
    :param max_idle_connections: keep-alive connections kept open for reuse.
    :param ssl_context: for ``https://`` URLs; the default context verifies certificates.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8080",
        api_key: str | None = None,
        *,
        timeout: Timeout | None = 2.0,
        max_idle_connections: int = 10,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Sessiond URL must be http:// or https:// with a host: {url!r}")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base_path = parts.path.rstrip("/")
        self._connect_timeout, self._read_timeout = _split_timeout(timeout)
        self._ssl_context = ssl_context
        self._user_agent = user_agent or f"sessiond-python/{__version__}"
        connector = _Connector(self._scheme, self._host, self._port, self._connect_timeout, ssl_context)
        self._connector = connector
        self._pool = _Pool(connector, max_idle_connections)
        # A client dropped without close() closes its idle connections when it is collected
        # (or at exit), so no socket is left to the garbage collector (no ResourceWarning).
        self._finalizer = weakref.finalize(self, self._pool.close)

    def __repr__(self) -> str:
        return f"SessiondClient({self.url!r})"

    # MARK: - Sessions

    def create(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        permanent: bool = False,
        subject: str | None = None,
        lifetime: int | None = None,
        sid: str | None = None,
        device: Mapping[str, str] | None = None,
        on_limit: str | None = None,
    ) -> Session:
        """A new session at version 1: ``data`` (an empty object by default), ``permanent``,
        ``subject`` (your user id, or None) and ``lifetime`` (its own idle lifetime in whole
        seconds, or None for the one ``permanent`` picks; at most the server's
        ``--max-lifetime``, else :class:`UnprocessableContent` ``lifetime-too-long``).

        Without ``sid``: ``POST /sessions``, the service chooses the sid.

        With ``sid``: ``PUT /sessions/{sid}`` with ``If-None-Match: *``, the session is created
        under that id; :class:`SessionExists` when a live session has it (nothing changes),
        :class:`BadRequest` ``malformed-sid`` when it is not a lowercase UUID version 4. For an
        app that must know the id before the session is stored: mint it with :func:`new_sid`.
        Never pass an id read from a request (a cookie): that is session fixation.

        ``device``: a few strings about where the session is used (``{"ua": ..., "ip": ...,
        "name": ...}``), shown in subject listings. ``on_limit``: what Sessiond does when the
        subject has as many sessions as ``--max-sessions-per-subject`` allows,
        ``"evict_oldest"`` (its default) or ``"refuse"`` (:class:`TooManySessions`).
        """
        body: dict[str, Any] = {}
        if data is not None or sid is not None:
            body["data"] = data if data is not None else {}
        body["permanent"] = bool(permanent)
        if subject is not None and subject is not UNSET:
            body["subject"] = subject
        if _lifetime(lifetime) is not None:
            body["lifetime"] = lifetime
        if device is not None:
            body["device"] = dict(device)
        query = ""
        if on_limit is not None:
            if on_limit not in ("evict_oldest", "refuse"):
                raise ValueError("on_limit must be 'evict_oldest' or 'refuse'")
            query = f"?on_limit={on_limit}"
        if sid is None:
            return Session.from_json(self._request("POST", "/sessions" + query, body=body, content_type=JSON))
        if not isinstance(sid, str):
            raise TypeError(f"sid must be a str, not {type(sid).__name__}")
        return Session.from_json(
            self._request("PUT", f"/sessions/{_segment(sid)}" + query, body=body, content_type=JSON, if_none_match="*")
        )

    def get(self, sid: str, *, touch: bool = False) -> Session:
        """``GET /sessions/{sid}``; with ``touch=True`` the read also slides the expiry."""
        path = f"/sessions/{_segment(sid)}" + ("?touch=true" if touch else "")
        return Session.from_json(self._request("GET", path))

    def replace(
        self,
        sid: str,
        data: Mapping[str, Any],
        *,
        permanent: bool = False,
        subject: str | None = None,
        lifetime: int | None = None,
        if_match: IfMatch | None = None,
    ) -> Session:
        """``PUT /sessions/{sid}``: replaces data, permanent, subject and lifetime whole (what
        is left out is reset: not permanent, no subject, no lifetime of its own). With
        ``if_match`` (a version, ``'*'`` or entity tags) it applies only at that version, else
        :class:`PreconditionFailed`. It never creates a session (:class:`SessionNotFound`); see
        :meth:`create` with ``sid=`` for that."""
        body: dict[str, Any] = {"data": data, "permanent": permanent, "subject": subject}
        if _lifetime(lifetime) is not None:
            body["lifetime"] = lifetime  # absent is None: the whole state is stated either way
        return Session.from_json(
            self._request("PUT", f"/sessions/{_segment(sid)}", body=body, content_type=JSON, if_match=if_match)
        )

    def patch(
        self,
        sid: str,
        patch: Mapping[str, Any] | None = None,
        *,
        data: Mapping[str, Any] | None = None,
        permanent: bool | None = None,
        subject: str | None = UNSET,
        lifetime: int | None = UNSET,
        if_match: IfMatch | None = None,
    ) -> Session:
        """``PATCH /sessions/{sid}`` with an RFC 7396 merge patch, applied atomically by the
        service: ``data`` is merged into the session's data (``None`` removes a key, nested
        objects merge, other values replace), ``permanent`` switches the lifetime, ``subject``
        sets it (``None`` clears it), ``lifetime`` sets the session's own idle lifetime in
        seconds (``None`` clears it: ``permanent`` picks it again). What is not given is kept.
        Either pass the whole merge patch document as ``patch`` or its members as keywords."""
        if patch is None:
            patch = {}
            if data is not None:
                patch["data"] = data
            if permanent is not None:
                patch["permanent"] = permanent
            if subject is not UNSET:
                patch["subject"] = subject
            if lifetime is not UNSET:
                patch["lifetime"] = _lifetime(lifetime)
        elif data is not None or permanent is not None or subject is not UNSET or lifetime is not UNSET:
            raise TypeError("pass either a merge patch document or data/permanent/subject/lifetime, not both")
        return Session.from_json(
            self._request(
                "PATCH", f"/sessions/{_segment(sid)}", body=patch, content_type=MERGE_PATCH, if_match=if_match
            )
        )

    def delete(self, sid: str, *, if_match: IfMatch | None = None) -> None:
        """``DELETE /sessions/{sid}``: succeeds also when the session was already gone."""
        self._request("DELETE", f"/sessions/{_segment(sid)}", if_match=if_match)

    def touch(self, sid: str, *, if_match: IfMatch | None = None) -> Session:
        """``POST /sessions/{sid}/touch``: slides the expiry; writes nothing (same version)."""
        return Session.from_json(self._request("POST", f"/sessions/{_segment(sid)}/touch", if_match=if_match))

    def rotate(
        self, sid: str, *, if_match: IfMatch | None = None, new_sid: str | None = None, grace: str | None = None
    ) -> Session:
        """``POST /sessions/{sid}/rotate``: the same session under a new sid (returned); the old
        sid is gone at once, or read-only for Sessiond's grace window (``grace``, such as
        ``"5s"``, asks for a shorter one). Call it at login (session-fixation defence).

        The new sid is minted here (:func:`new_sid`) unless ``new_sid`` gives one (minted by your
        code just now, NEVER one from a request). When Sessiond cannot be used, the same rotate
        is sent once more with the same sid: it answers with the session if the first attempt
        had completed, and rotates if not, so a rotation that answered 503 is never lost nor
        done twice. :class:`SessiondUnavailable` only when the second attempt fails too."""
        path = f"/sessions/{_segment(sid)}/rotate"
        if grace is not None:
            path += f"?grace={urllib.parse.quote(grace)}"
        body = {"sid": new_sid or _mint_sid()}
        try:
            return Session.from_json(self._request("POST", path, body=body, if_match=if_match))
        except SessiondUnavailable:
            return Session.from_json(self._request("POST", path, body=body, if_match=if_match))

    # MARK: - Subjects

    def subject_sessions(self, subject: str) -> list[SessionSummary]:
        """``GET /subjects/{subject}/sessions``: the subject's live sessions, oldest first."""
        body = self._request("GET", f"/subjects/{_segment(subject)}/sessions")
        return [SessionSummary.from_json(entry) for entry in body.get("sessions", [])]

    def revoke_subject(self, subject: str, *, except_handle: str | None = None) -> int:
        """``DELETE /subjects/{subject}/sessions``: ends every live session of the subject ("log
        out everywhere"), or all but ``except_handle`` (the current device's ``handle``).
        Returns how many were ended."""
        path = f"/subjects/{_segment(subject)}/sessions"
        if except_handle is not None:
            path += "?" + urllib.parse.urlencode({"except": except_handle})
        body = self._request("DELETE", path)
        return int(body.get("revoked", 0))

    def revoke_handle(self, subject: str, handle: str) -> None:
        """``DELETE /subjects/{subject}/sessions/{handle}``: ends one of the subject's sessions
        (succeeds also when there was none)."""
        self._request("DELETE", f"/subjects/{_segment(subject)}/sessions/{_segment(handle)}")

    # MARK: - Lifecycle events

    def events(self, last_event_id: str | None = None) -> Iterator[LifecycleEvent | Missed]:
        """``GET /events``: the namespace's session lifecycle events, as they happen, for ever:
        :class:`~sessiond_client.LifecycleEvent` items, and a :class:`~sessiond_client.Missed`
        item where events were lost (see :mod:`sessiond_client.events`).

        Without ``last_event_id`` the stream starts with the next event; with the ``id`` of an
        event it starts after that one (``"0"``: every event Sessiond still holds). A generator:
        the request is sent at the first ``next()``, and the stream's connection (one of its own,
        not from the pool) is closed when the loop is left or the generator closed.

        When the stream ends (Sessiond shut down) or its connection breaks (or sends nothing,
        not even a keep-alive, for 45 s), it is reopened after the server's ``retry`` (1 s) with
        ``Last-Event-ID`` set to the last ID seen, so no event is skipped nor yielded twice; an
        attempt that fails is retried after twice the wait of the one before, up to 30 s, for
        as long as it takes. The first request's failure is raised as any call's is
        (:class:`~sessiond_client.SessiondUnavailable`, :class:`~sessiond_client.ProblemError`),
        and so is, at any time, an answer that retrying cannot change: :class:`BadRequest`
        ``malformed-event-id``, :class:`Unauthorized`, or a :class:`ProblemError` of status 501
        ``events-off`` (Sessiond run with ``--event-history 0``, or on Redis Cluster).
        """
        if last_event_id is not None and not isinstance(last_event_id, str):
            raise TypeError(f"last_event_id must be an event's id (a str) or None, not {type(last_event_id).__name__}")
        where = f"GET {self.url}/events"
        resume = last_event_id
        retry = DEFAULT_RETRY
        failures = 0
        opened = False
        while True:
            conn = self._connector()
            try:
                try:
                    response = self._open_events(conn, resume, where)
                except SessiondError as error:
                    if not opened or not is_transient(error):
                        raise
                    failures += 1
                    delay = retry_delay(retry, failures, error)
                    _events_logger.warning("%s; trying again in %.1f s", error, delay)
                    time.sleep(delay)
                    continue
                opened = True
                failures = 0
                parser = EventStreamParser(resume or "")
                try:
                    while True:
                        chunk = response.read1(65536)
                        if not chunk:
                            break  # the stream ended: Sessiond is shutting down
                        for frame in parser.feed(chunk):
                            resume = frame.last_event_id
                            yield item_of(frame)
                except (OSError, http.client.HTTPException):
                    pass  # the connection broke, or stayed silent past IDLE_TIMEOUT
                if parser.retry is not None:
                    retry = parser.retry
            finally:
                conn.close()
            time.sleep(retry_delay(retry, 0))

    def _open_events(
        self, conn: http.client.HTTPConnection, last_event_id: str | None, where: str
    ) -> http.client.HTTPResponse:
        """Sends ``GET /events`` on ``conn``: its response once it is a stream, else the error."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", "User-Agent": self._user_agent}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(self._read_timeout)
            conn.request("GET", self._base_path + "/events", headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                raise problem_from(response.status, response.headers, response.read(), where)
        except socket.timeout as error:  # TimeoutError from Python 3.10 on
            raise SessiondUnavailable(f"Sessiond did not answer in time ({self.timeout} s): {where}") from error
        except (OSError, http.client.HTTPException) as error:
            raise SessiondUnavailable(f"Sessiond cannot be reached: {where}: {error}") from error
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type != "text/event-stream":
            raise SessiondError(
                f"Sessiond answered 200 with {media_type or 'no media type'}, not an event stream: {where}"
            )
        if conn.sock is not None:
            conn.sock.settimeout(max(IDLE_TIMEOUT, self._read_timeout or 0))
        return response

    # MARK: - Operations

    def ready(self) -> bool:
        """``GET /readyz``: True when the service and its store answer."""
        try:
            self._request("GET", "/readyz", parse=False)
            return True
        except SessiondError:
            return False

    def close(self) -> None:
        """Closes the idle keep-alive connections (the client stays usable)."""
        self._pool.close()

    def __enter__(self) -> SessiondClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # MARK: - HTTP

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str | None = None,
        if_match: IfMatch | None = None,
        if_none_match: str | None = None,
        parse: bool = True,
    ) -> Any:
        headers = {"Accept": "application/json, application/problem+json", "User-Agent": self._user_agent}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if if_match is not None:
            headers["If-Match"] = _format_if_match(if_match)
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        payload: bytes | None = None
        if body is not None:
            # Strict JSON: NaN and Infinity have no JSON form; keys must be strings.
            payload = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = content_type or JSON
        elif method in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = "0"
        target = self._base_path + path
        # Errors name the route, never the sid (a sid in a log is a session to take over) nor
        # the subject.
        route = _SUBJECT_IN_PATH.sub("/subjects/{subject}", _SID_IN_PATH.sub("/sessions/{sid}", path.split("?")[0]))
        where = f"{method} {self.url}{route}"

        for attempt in (1, 2):
            conn, reused = self._pool.acquire()
            try:
                if conn.sock is None:
                    conn.connect()
                    if self._read_timeout != self._connect_timeout and conn.sock is not None:
                        conn.sock.settimeout(self._read_timeout)
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except socket.timeout as error:  # TimeoutError from Python 3.10 on
                conn.close()
                raise SessiondUnavailable(f"Sessiond did not answer in time ({self.timeout} s): {where}") from error
            except _STALE_CONNECTION_ERRORS as error:
                conn.close()
                if reused and attempt == 1:
                    continue  # the server closed the idle connection: once more on a new one
                raise SessiondUnavailable(f"Sessiond closed the connection: {where}: {error}") from error
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                raise SessiondUnavailable(f"Sessiond cannot be reached: {where}: {error}") from error
            except BaseException:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                self._pool.release(conn)
            break

        if 200 <= response.status < 300:
            if not parse or response.status == 204 or not raw:
                return None
            try:
                return json.loads(raw)
            except ValueError as error:
                raise SessiondError(
                    f"Sessiond answered {response.status} with a body that is not JSON: {where}"
                ) from error
        raise problem_from(response.status, response.headers, raw, where)
