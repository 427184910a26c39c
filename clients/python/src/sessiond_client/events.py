"""Lifecycle events (``GET /events``): what :meth:`SessiondClient.events
<sessiond_client.SessiondClient.events>` and its async twin yield, and the pieces both share.
Nothing here does I/O or imports a third-party package.

A stream yields :class:`LifecycleEvent` items, and a :class:`Missed` item where Sessiond could
not give every event since the ID the stream resumed from (it fell out of the bounded history,
or the server restarted): the items after it are the oldest events Sessiond still holds.

    for item in client.events(last_event_id=saved):
        if isinstance(item, Missed):
            resync()                  # events were lost: rebuild what you derive from them
            continue
        audit(item.type, item.handle, item.subject, item.time)
        saved = item.id               # resume from here after a restart of your own
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from ._wire import timestamp
from .errors import ProblemError, SessiondError, SessiondUnavailable

__all__ = ["LifecycleEvent", "Missed", "EVENT_TYPES"]

#: The kinds of lifecycle events Sessiond tells (``LifecycleEvent.type``). A later Sessiond may
#: add kinds: their events are yielded too, with their own ``type``.
EVENT_TYPES = ("created", "rotated", "deleted", "revoked", "expired", "limit_evicted")

#: Seconds to wait before reconnecting until the server says otherwise (``retry:``).
DEFAULT_RETRY = 1.0
#: The longest wait between two attempts to reconnect, however many failed or what ``retry:`` says.
MAX_RETRY_DELAY = 30.0
#: A stream that sends nothing (not even the keep-alive comment Sessiond sends every 15 s) for
#: this many seconds is taken for a dead connection, and reopened.
IDLE_TIMEOUT = 45.0


@dataclass(frozen=True)
class LifecycleEvent:
    """One event of a session's life, as ``GET /events`` tells it: a handle, never a sid.

    ``type`` is one of :data:`EVENT_TYPES`: ``"created"``, ``"rotated"`` (``handle`` is the new
    sid's, ``from_handle`` the old one's), ``"deleted"`` (by its sid), ``"revoked"`` (by its
    subject's handle), ``"limit_evicted"`` (to keep its subject within
    ``--max-sessions-per-subject``) or ``"expired"`` (``time`` is the expiry itself). ``id``
    only grows; keep the last one seen to resume from it (``events(last_event_id=...)``).
    """

    id: str
    type: str
    handle: str
    #: ``rotated`` only: the handle of the sid that was rotated away; else None.
    from_handle: str | None
    subject: str | None
    #: The session's device metadata (a few strings the app set), or None.
    device: dict[str, str] | None = field(hash=False)
    #: When it happened, timezone-aware (UTC).
    time: datetime
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False, default_factory=dict)

    @classmethod
    def from_json(cls, body: dict[str, Any], id: str = "", type: str = "") -> LifecycleEvent:
        """The event of a ``data`` line; ``id`` and ``type`` are the frame's, for members left out.
        :class:`SessiondError` when it is not a lifecycle event."""
        handle = body.get("handle")
        time = timestamp(body.get("time"))
        event_id = body.get("id", id)
        kind = body.get("type", type)
        if not (isinstance(handle, str) and time is not None and isinstance(event_id, str) and isinstance(kind, str)):
            raise SessiondError(f"Sessiond sent an event that is not a lifecycle event: {json.dumps(body)[:200]}")
        subject = body.get("subject")
        device = body.get("device")
        from_handle = body.get("from")
        return cls(
            id=event_id,
            type=kind,
            handle=handle,
            from_handle=from_handle if isinstance(from_handle, str) else None,
            subject=subject if isinstance(subject, str) else None,
            device=device if isinstance(device, dict) else None,
            time=time,
            raw=body,
        )


@dataclass(frozen=True)
class Missed:
    """Events after ``after`` (the ID the stream resumed from) are lost: they fell out of
    Sessiond's bounded history (``--event-history``) before they were read, or went with a
    restart of the server. The items that follow are the oldest events Sessiond holds. What
    was derived from the events (a cache of sessions, a count) should be rebuilt."""

    type: ClassVar[str] = "missed"
    after: str
    detail: str | None = None


class Frame(NamedTuple):
    """One event of a text/event-stream: its type (``"message"`` when it named none), its data
    (the ``data`` lines joined by line feeds) and the stream's last event ID after it."""

    event: str
    data: str
    last_event_id: str


_LINE_END = re.compile(r"\r\n|\r|\n")


class EventStreamParser:
    """The event stream interpretation of the HTML standard (Server-Sent Events), fed bytes as
    they arrive, in pieces of any size: UTF-8 (a leading BOM dropped), lines ended by CRLF, LF
    or CR, comments (``:``) ignored, ``field: value`` with one space after the colon dropped, a
    field without a colon an empty value, ``data`` lines joined by ``\\n``, an ``id`` with NUL
    ignored, ``retry`` only when all digits, unknown fields ignored, and an event dispatched at
    a blank line (none when it had no ``data``). One parser reads one connection: what a
    connection left unfinished is dropped, as the standard says.

    ``last_event_id`` starts as the ID the connection resumed from, so an event without an ``id``
    line (Sessiond's ``missed``) keeps it; ``retry`` is the server's reconnection time in seconds,
    or None."""

    def __init__(self, last_event_id: str = "") -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._started = False
        self._after_cr = False
        self._pending = ""
        self._data: list[str] = []
        self._event = ""
        self._id = last_event_id
        self.last_event_id = last_event_id
        self.retry: float | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        """The events that ``chunk`` completes, in order."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._after_cr:
            self._after_cr = False
            if text.startswith("\n"):  # the LF of a CRLF cut between two chunks
                text = text[1:]
        buffer = self._pending + text
        lines = _LINE_END.split(buffer)
        self._pending = lines.pop()
        self._after_cr = buffer.endswith("\r")
        frames: list[Frame] = []
        for line in lines:
            self._line(line, frames)
        return frames

    def _line(self, line: str, frames: list[Frame]) -> None:
        if not line:
            self._dispatch(frames)
            return
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value) / 1000

    def _dispatch(self, frames: list[Frame]) -> None:
        self.last_event_id = self._id
        if self._data:
            frames.append(Frame(self._event or "message", "\n".join(self._data), self.last_event_id))
        self._data = []
        self._event = ""


def item_of(frame: Frame) -> LifecycleEvent | Missed:
    """What a stream yields for one frame of Sessiond's: a :class:`Missed` for ``event: missed``,
    else a :class:`LifecycleEvent`. :class:`SessiondError` when its data is not such an object."""
    try:
        body = json.loads(frame.data)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SessiondError(f"Sessiond sent an event whose data is not a JSON object: {frame.data[:200]!r}")
    if frame.event == "missed":
        after = body.get("after")
        detail = body.get("detail")
        return Missed(
            after=after if isinstance(after, str) else frame.last_event_id,
            detail=detail if isinstance(detail, str) else None,
        )
    return LifecycleEvent.from_json(body, frame.last_event_id, frame.event)


def is_transient(error: SessiondError) -> bool:
    """Whether reconnecting may help: Sessiond could not be used (a refused or dropped connection,
    a timeout, 502/503/504) or failed (500). A request it refused (4xx: a malformed ID, a wrong
    API key) or a server that records no events (501 ``events-off``) would fail again."""
    if isinstance(error, SessiondUnavailable):
        return True
    return isinstance(error, ProblemError) and error.status >= 500 and error.status != 501


def retry_delay(retry: float, failures: int, error: SessiondError | None = None) -> float:
    """Seconds to wait before the next attempt: the server's ``retry`` (at least 0.1 s), doubled
    for each attempt that failed in a row, at least a 503's ``Retry-After``, at most
    :data:`MAX_RETRY_DELAY`."""
    delay: float = max(retry, 0.1) * 2 ** min(failures, 16)
    if isinstance(error, SessiondUnavailable) and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return min(delay, MAX_RETRY_DELAY)
