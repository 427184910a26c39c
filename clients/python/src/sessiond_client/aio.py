"""An asyncio client for the whole Sessiond API, on httpx.

    from sessiond_client.aio import AsyncSessiondClient

    async with AsyncSessiondClient("http://127.0.0.1:8080", api_key="...", timeout=2.0) as client:
        s = await client.create({"user": 42}, permanent=True, subject="user-42")
        s = await client.patch(s.sid, data={"cart": [1, 2], "flash": None})   # merge patch
        s = await client.get(s.sid, touch=True)
        s = await client.rotate(s.sid)                                         # at login
        await client.revoke_subject("user-42", except_handle=s.handle)
        await client.delete(s.sid)

The same methods, arguments, results (:class:`~sessiond_client.Session`,
:class:`~sessiond_client.SessionSummary`) and exceptions as the sync
:class:`~sessiond_client.SessiondClient`, awaited. Needs httpx: ``pip install "sessiond[async]"``.

Keep-alive connections are pooled per event loop: a client made at import time works in every
loop it is awaited in (uvicorn's, and each one Starlette's ``TestClient`` starts), and is safe to
share between tasks.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
import threading
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

try:
    import httpx
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'sessiond_client.aio needs httpx, which the "async" extra installs: pip install "sessiond[async]"'
    ) from _error

from ._wire import JSON, MERGE_PATCH, json_body, problem_from, route_of
from .client import (
    UNSET,
    IfMatch,
    Session,
    SessionSummary,
    Timeout,
    __version__,
    _format_if_match,
    _lifetime,
    _mint_sid,
    _segment,
    _split_timeout,
)
from .errors import SessiondError, SessiondUnavailable
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

if TYPE_CHECKING:  # pragma: no cover
    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

__all__ = ["AsyncSessiondClient"]

_events_logger = logging.getLogger("sessiond_client.events")


class _AnyLoop:
    """The key of the one httpx client used outside asyncio (trio)."""


_ANY_LOOP = _AnyLoop()


async def _closing(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await client.aclose()


def _loop_key() -> object:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return _ANY_LOOP


class AsyncSessiondClient:
    """An async client for one Sessiond service.

    :param url: the service's base URL, ``http://127.0.0.1:8080`` by default (``https://`` and a
        path prefix such as ``https://sessions.internal/sessiond`` work too).
    :param api_key: when given, sent as ``Authorization: Bearer <api_key>`` on every request.
    :param timeout: seconds to wait to connect and then for each read (and write), or a
        ``(connect, read)`` pair; 2 s by default. Past it the call raises
        :class:`~sessiond_client.SessiondUnavailable`.
    :param max_idle_connections: keep-alive connections kept open for reuse (per event loop).
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
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"Sessiond URL must be http:// or https:// with a host: {url!r}")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        connect, read = _split_timeout(timeout)
        self._timeout = httpx.Timeout(read, connect=connect, pool=connect)
        self._limits = httpx.Limits(max_keepalive_connections=max_idle_connections)
        self._verify: Any = ssl_context if ssl_context is not None else True
        self._headers = {
            "Accept": "application/json, application/problem+json",
            "User-Agent": user_agent or f"sessiond-python/{__version__}",
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        # One httpx client per event loop: pooled connections belong to the loop that opened them.
        self._clients: dict[object, tuple[httpx.AsyncClient, AsyncGenerator[None, None]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AsyncSessiondClient({self.url!r})"

    # MARK: - Sessions

    async def create(
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
        ``--max-lifetime``, else :class:`~sessiond_client.UnprocessableContent`
        ``lifetime-too-long``).

        Without ``sid``: ``POST /sessions``, the service chooses the sid.

        With ``sid``: ``PUT /sessions/{sid}`` with ``If-None-Match: *``, the session is created
        under that id; :class:`~sessiond_client.SessionExists` when a live session has it
        (nothing changes), :class:`~sessiond_client.BadRequest` ``malformed-sid`` when it is not
        a lowercase UUID version 4. Mint it with :func:`~sessiond_client.new_sid`; never pass an
        id read from a request (a cookie): that is session fixation.
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
            return Session.from_json(await self._request("POST", "/sessions" + query, body=body, content_type=JSON))
        if not isinstance(sid, str):
            raise TypeError(f"sid must be a str, not {type(sid).__name__}")
        resource = await self._request(
            "PUT", f"/sessions/{_segment(sid)}" + query, body=body, content_type=JSON, if_none_match="*"
        )
        return Session.from_json(resource)

    async def get(self, sid: str, *, touch: bool = False) -> Session:
        """``GET /sessions/{sid}``; with ``touch=True`` the read also slides the expiry."""
        path = f"/sessions/{_segment(sid)}" + ("?touch=true" if touch else "")
        return Session.from_json(await self._request("GET", path))

    async def replace(
        self,
        sid: str,
        data: Mapping[str, Any],
        *,
        permanent: bool = False,
        subject: str | None = None,
        lifetime: int | None = None,
        if_match: IfMatch | None = None,
    ) -> Session:
        """``PUT /sessions/{sid}``: replaces data, permanent, subject and lifetime whole (what is
        left out is reset: not permanent, no subject, no lifetime of its own). With ``if_match``
        (a version, ``'*'`` or entity tags) it applies only at that version, else
        :class:`~sessiond_client.PreconditionFailed`. Never creates a session (404)."""
        body: dict[str, Any] = {"data": data, "permanent": permanent, "subject": subject}
        if _lifetime(lifetime) is not None:
            body["lifetime"] = lifetime  # absent is None: the whole state is stated either way
        resource = await self._request(
            "PUT", f"/sessions/{_segment(sid)}", body=body, content_type=JSON, if_match=if_match
        )
        return Session.from_json(resource)

    async def patch(
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
        sets it (``None`` clears it), ``lifetime`` sets the session's own lifetime in seconds
        (``None`` clears it: permanence decides again). Either pass the whole merge patch
        document as ``patch`` or its members as keywords."""
        if patch is None:
            document: dict[str, Any] = {}
            if data is not None:
                document["data"] = data
            if permanent is not None:
                document["permanent"] = permanent
            if subject is not UNSET:
                document["subject"] = subject
            if lifetime is not UNSET:
                document["lifetime"] = _lifetime(lifetime)
            patch = document
        elif data is not None or permanent is not None or subject is not UNSET or lifetime is not UNSET:
            raise TypeError("pass either a merge patch document or data/permanent/subject/lifetime, not both")
        resource = await self._request(
            "PATCH", f"/sessions/{_segment(sid)}", body=patch, content_type=MERGE_PATCH, if_match=if_match
        )
        return Session.from_json(resource)

    async def delete(self, sid: str, *, if_match: IfMatch | None = None) -> None:
        """``DELETE /sessions/{sid}``: succeeds also when the session was already gone."""
        await self._request("DELETE", f"/sessions/{_segment(sid)}", if_match=if_match)

    async def touch(self, sid: str, *, if_match: IfMatch | None = None) -> Session:
        """``POST /sessions/{sid}/touch``: slides the expiry; writes nothing (same version)."""
        return Session.from_json(await self._request("POST", f"/sessions/{_segment(sid)}/touch", if_match=if_match))

    async def rotate(
        self, sid: str, *, if_match: IfMatch | None = None, new_sid: str | None = None, grace: str | None = None
    ) -> Session:
        """``POST /sessions/{sid}/rotate``: the same session under a new sid (returned); the old
        sid is gone at once, or read-only for Sessiond's grace window. As
        :meth:`sessiond_client.SessiondClient.rotate`: the new sid is minted here unless given,
        and when Sessiond cannot be used the same rotate is sent once more with the same sid."""
        path = f"/sessions/{_segment(sid)}/rotate"
        if grace is not None:
            path += f"?grace={urllib.parse.quote(grace)}"
        body = {"sid": new_sid or _mint_sid()}
        try:
            return Session.from_json(await self._request("POST", path, body=body, if_match=if_match))
        except SessiondUnavailable:
            return Session.from_json(await self._request("POST", path, body=body, if_match=if_match))

    # MARK: - Subjects

    async def subject_sessions(self, subject: str) -> list[SessionSummary]:
        """``GET /subjects/{subject}/sessions``: the subject's live sessions, oldest first."""
        body = await self._request("GET", f"/subjects/{_segment(subject)}/sessions")
        return [SessionSummary.from_json(entry) for entry in body.get("sessions", [])]

    async def revoke_subject(self, subject: str, *, except_handle: str | None = None) -> int:
        """``DELETE /subjects/{subject}/sessions``: ends every live session of the subject ("log
        out everywhere"), or all but ``except_handle`` (the current device's ``handle``).
        Returns how many were ended."""
        path = f"/subjects/{_segment(subject)}/sessions"
        if except_handle is not None:
            path += f"?except={_segment(except_handle)}"
        body = await self._request("DELETE", path)
        return int(body.get("revoked", 0))

    async def revoke_handle(self, subject: str, handle: str) -> None:
        """``DELETE /subjects/{subject}/sessions/{handle}``: ends one of the subject's sessions
        (succeeds also when there was none)."""
        await self._request("DELETE", f"/subjects/{_segment(subject)}/sessions/{_segment(handle)}")

    # MARK: - Lifecycle events

    async def events(self, last_event_id: str | None = None) -> AsyncIterator[LifecycleEvent | Missed]:
        """``GET /events``: the namespace's session lifecycle events, as they happen, for ever,
        as an async iterator of :class:`~sessiond_client.LifecycleEvent` and
        :class:`~sessiond_client.Missed` items. As :meth:`sessiond_client.SessiondClient.events`:
        it starts after ``last_event_id`` (``"0"``: every event held; None: the next one),
        reopens a stream that ended or broke with ``Last-Event-ID`` after the server's ``retry``
        (doubled for each failed attempt, up to 30 s), and raises the first request's failure
        and any answer that retrying cannot change (400, 401, 501 ``events-off``).

        The stream holds one connection of the loop's pool until the loop that reads it is left
        (and the generator collected), or ``aclose()`` is awaited on it. Waiting for the answer
        and each read wait up to 45 s (Sessiond sends a keep-alive every 15 s).
        """
        if last_event_id is not None and not isinstance(last_event_id, str):
            raise TypeError(f"last_event_id must be an event's id (a str) or None, not {type(last_event_id).__name__}")
        where = f"GET {self.url}/events"
        resume = last_event_id
        retry = DEFAULT_RETRY
        failures = 0
        opened = False
        while True:
            try:
                response = await self._open_events(resume, where)
            except SessiondError as error:
                if not opened or not is_transient(error):
                    raise
                failures += 1
                delay = retry_delay(retry, failures, error)
                _events_logger.warning("%s; trying again in %.1f s", error, delay)
                await asyncio.sleep(delay)
                continue
            opened = True
            failures = 0
            parser = EventStreamParser(resume or "")
            try:
                async for chunk in response.aiter_raw():
                    for frame in parser.feed(chunk):
                        resume = frame.last_event_id
                        yield item_of(frame)
            except httpx.TransportError:
                pass  # the connection broke, or stayed silent past IDLE_TIMEOUT
            finally:
                await response.aclose()
            if parser.retry is not None:
                retry = parser.retry
            await asyncio.sleep(retry_delay(retry, 0))

    async def _open_events(self, last_event_id: str | None, where: str) -> httpx.Response:
        """Sends ``GET /events``: its response once it is a stream (to be closed), else the error."""
        headers = dict(self._headers, Accept="text/event-stream")
        headers["Cache-Control"] = "no-cache"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        connect = self._timeout.connect
        timeout = httpx.Timeout(max(IDLE_TIMEOUT, self._timeout.read or 0), connect=connect, pool=connect)
        try:
            http = await self._http()
            request = http.build_request("GET", self.url + "/events", headers=headers, timeout=timeout)
            response = await http.send(request, stream=True)
            if response.status_code != 200:
                try:
                    raw = await response.aread()
                finally:
                    await response.aclose()
                raise problem_from(response.status_code, response.headers, raw, where)
        except httpx.TimeoutException as error:
            raise SessiondUnavailable(f"Sessiond did not answer in time: {where}") from error
        except httpx.TransportError as error:
            raise SessiondUnavailable(
                f"Sessiond cannot be reached: {where}: {type(error).__name__}: {error}"
            ) from error
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type != "text/event-stream":
            await response.aclose()
            raise SessiondError(
                f"Sessiond answered 200 with {media_type or 'no media type'}, not an event stream: {where}"
            )
        return response

    # MARK: - Operations

    async def ready(self) -> bool:
        """``GET /readyz``: True when the service and its store answer."""
        try:
            await self._request("GET", "/readyz", parse=False)
            return True
        except SessiondError:
            return False

    async def aclose(self) -> None:
        """Closes the keep-alive connections of the running event loop (the client stays
        usable: a later call opens new ones). Those of other loops are closed by their own loop
        (when it shuts down, or soon after this if it is still running)."""
        with self._lock:
            current = self._clients.pop(_loop_key(), None)
            self._clients.clear()
        if current is not None:
            await current[1].aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # MARK: - HTTP

    async def _http(self) -> httpx.AsyncClient:
        key = _loop_key()
        with self._lock:
            entry = self._clients.get(key)
            if entry is None:
                # Loops that have ended closed their client as they shut down.
                for loop in [k for k in self._clients if isinstance(k, asyncio.AbstractEventLoop) and k.is_closed()]:
                    del self._clients[loop]
        if entry is not None:
            return entry[0]
        client = httpx.AsyncClient(
            timeout=self._timeout,
            limits=self._limits,
            verify=self._verify,
            trust_env=False,  # the service's own URL; no proxy from the environment
            follow_redirects=False,
        )
        # Started in this loop, the generator is one the loop closes when it shuts down
        # (asyncio.run, anyio.run and uvicorn call loop.shutdown_asyncgens()): the client's
        # connections are closed in their own loop, not left to the garbage collector.
        closer = _closing(client)
        await closer.__anext__()
        with self._lock:
            entry = self._clients.setdefault(key, (client, closer))
        if entry[0] is not client:  # another task of this loop made one first
            await closer.aclose()
        return entry[0]

    async def _request(
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
        headers = dict(self._headers)
        if if_match is not None:
            headers["If-Match"] = _format_if_match(if_match)
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        content: bytes | None = None
        if body is not None:
            content = json_body(body)  # before anything is sent: ValueError/TypeError for non-JSON
            headers["Content-Type"] = content_type or JSON
        # Errors name the route, never the sid (a sid in a log is a session to take over) nor
        # the subject.
        where = f"{method} {self.url}{route_of(path)}"
        try:
            http = await self._http()
            response = await http.request(method, self.url + path, content=content, headers=headers)
        except httpx.TimeoutException as error:
            raise SessiondUnavailable(f"Sessiond did not answer in time ({self.timeout} s): {where}") from error
        except httpx.TransportError as error:
            raise SessiondUnavailable(
                f"Sessiond cannot be reached: {where}: {type(error).__name__}: {error}"
            ) from error
        raw = response.content
        if 200 <= response.status_code < 300:
            if not parse or response.status_code == 204 or not raw:
                return None
            try:
                return response.json()
            except ValueError as error:
                raise SessiondError(
                    f"Sessiond answered {response.status_code} with a body that is not JSON: {where}"
                ) from error
        raise problem_from(response.status_code, response.headers, raw, where)
