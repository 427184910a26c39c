"""Lifecycle events (GET /events) with SessiondClient.events and AsyncSessiondClient.events: the
Server-Sent Events parser against the HTML standard's rules, then the real sessiond binary: every
kind of event, a stream resumed after its connection was cut (a relay that drops it) and after
Sessiond restarted (a Missed notice), a stream from now, the errors that are not retried
(events-off, a malformed ID, a wrong API key) and the API key's namespace."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from sessiond_client import (
    EVENT_TYPES,
    BadRequest,
    LifecycleEvent,
    Missed,
    ProblemError,
    ServiceUnavailable,
    SessiondClient,
    SessiondError,
    SessiondUnavailable,
    Unauthorized,
)
from sessiond_client.aio import AsyncSessiondClient
from sessiond_client.events import MAX_RETRY_DELAY, EventStreamParser, Frame, item_of, retry_delay

from conftest import free_port

HANDLE = "7db8182f26b9ef9938efa0806c9f8d46"
OTHER = "ef556344141670d30815227911dbc7b6"


def subject() -> str:
    return "user-" + uuid.uuid4().hex


def parse(*chunks: bytes | str, last_event_id: str = "") -> tuple[list[Frame], EventStreamParser]:
    parser = EventStreamParser(last_event_id)
    frames: list[Frame] = []
    for chunk in chunks:
        frames += parser.feed(chunk.encode() if isinstance(chunk, str) else chunk)
    return frames, parser


# MARK: - The event stream format


def test_an_event_is_its_id_event_and_data_lines_then_a_blank_line():
    frames, parser = parse("retry: 1000\n\nid: 5-0\nevent: created\ndata: {\"a\":1}\n\n")
    assert frames == [Frame("created", '{"a":1}', "5-0")]
    assert parser.retry == 1.0 and parser.last_event_id == "5-0"


def test_data_lines_are_joined_by_line_feeds_and_comments_ignored():
    frames, _ = parse(": keep-alive\n\ndata: one\n: a comment between\ndata:two\ndata:  three\ndata\n\n")
    # One space after the colon is dropped, a second kept; "data" without a colon is an empty line.
    assert frames == [Frame("message", "one\ntwo\n three\n", "")]


def test_a_field_without_colon_has_an_empty_value_and_unknown_fields_are_ignored():
    frames, _ = parse("event\ndata: x\nfoo: bar\nid\n\n", last_event_id="3-0")
    assert frames == [Frame("message", "x", "")]  # "event" alone: the default type; "id" alone: no ID


def test_crlf_lf_and_cr_end_lines_even_cut_anywhere():
    text = "id: 1-0\r\nevent: created\rdata: a\n\r\nid: 2-0\revent: deleted\r\ndata: b\r\r"
    whole, _ = parse(text)
    assert whole == [Frame("created", "a", "1-0"), Frame("deleted", "b", "2-0")]
    one_byte_at_a_time, _ = parse(*[bytes([b]) for b in text.encode()])
    assert one_byte_at_a_time == whole
    for cut in range(len(text)):  # a CRLF cut in two is one line end, not two
        assert parse(text[:cut], text[cut:])[0] == whole, cut


def test_utf8_cut_inside_a_character_and_a_leading_bom():
    data = 'data: {"subject":"café ☕"}\n\n'.encode()
    frames, _ = parse(b"\xef\xbb\xbf", *[bytes([b]) for b in data])
    assert frames == [Frame("message", '{"subject":"café ☕"}', "")]
    assert parse("\ufeffdata: x\n\n")[0] == [Frame("message", "x", "")]


def test_the_last_id_carries_over_an_event_without_one_and_an_empty_id_resets_it():
    frames, parser = parse(
        "event: missed\ndata: {}\n\n", "id: 7-1\ndata: a\n\n", "data: b\n\n", "id\ndata: c\n\n", last_event_id="6-0"
    )
    assert [frame.last_event_id for frame in frames] == ["6-0", "7-1", "7-1", ""]
    assert parser.last_event_id == ""


def test_an_id_with_nul_is_ignored_and_an_event_without_data_only_sets_the_id():
    frames, parser = parse("id: 1\x002\ndata: a\n\nid: 9-9\nevent: created\n\n")
    assert frames == [Frame("message", "a", "")]
    assert parser.last_event_id == "9-9"


def test_retry_is_taken_only_when_it_is_all_digits():
    _, parser = parse("retry: 2500\n\n")
    assert parser.retry == 2.5
    for bad in ("retry: 1.5\n", "retry: -1\n", "retry: 1s\n", "retry: ١٢\n", "retry:\n"):
        assert parse(bad)[1].retry is None, bad


def test_an_event_left_unfinished_is_not_dispatched():
    frames, _ = parse("id: 1-0\ndata: a\n\nid: 2-0\ndata: b\n")
    assert frames == [Frame("message", "a", "1-0")]


def test_frames_become_lifecycle_events_and_missed_notices():
    created = item_of(Frame("created", json.dumps({
        "id": "1-0", "type": "created", "handle": HANDLE, "subject": "u", "device": {"ua": "x"},
        "time": "2026-11-29T12:48:13.261Z"}), "1-0"))
    assert created == LifecycleEvent(
        id="1-0", type="created", handle=HANDLE, from_handle=None, subject="u", device={"ua": "x"},
        time=datetime(2026, 11, 29, 12, 48, 13, 261000, tzinfo=timezone.utc),
    )
    rotated = item_of(Frame("rotated", json.dumps({
        "id": "2-0", "type": "rotated", "handle": OTHER, "from": HANDLE, "subject": None, "device": None,
        "time": "2026-11-29T12:48:13.261Z"}), "2-0"))
    assert isinstance(rotated, LifecycleEvent)
    assert rotated.from_handle == HANDLE and rotated.subject is None and rotated.device is None
    assert rotated.raw["from"] == HANDLE and "raw" not in repr(rotated)
    missed = item_of(Frame("missed", '{"type":"missed","after":"1-0","detail":"dropped"}', "1-0"))
    assert missed == Missed(after="1-0", detail="dropped") and missed.type == "missed"
    for data in ("not json", "[1]", '{"type":"created"}', json.dumps({"handle": HANDLE, "time": "yesterday"})):
        with pytest.raises(SessiondError):
            item_of(Frame("created", data, "3-0"))


def test_reconnecting_waits_retry_then_doubles_up_to_a_cap():
    assert retry_delay(1.0, 0) == 1.0
    assert [retry_delay(1.0, n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert retry_delay(1.0, 50) == retry_delay(3600.0, 0) == MAX_RETRY_DELAY
    assert retry_delay(0.0, 0) == 0.1  # "retry: 0" does not spin
    assert retry_delay(1.0, 1, ServiceUnavailable(503, retry_after=7)) == 7


# MARK: - Against the real server


def take(items: Iterator[LifecycleEvent | Missed], count: int, within: float = 20) -> list[LifecycleEvent | Missed]:
    """The next ``count`` items, read in a thread so that an event that never comes fails the
    test instead of hanging it."""
    got: list[LifecycleEvent | Missed] = []
    failed: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(count):
                got.append(next(items))
        except BaseException as error:  # re-raised in the test
            failed.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(within)
    if failed:
        raise failed[0]
    assert not reader.is_alive(), f"{len(got)} of {count} events within {within} s: {got}"
    return got


def kinds(items: list[Any]) -> list[tuple[str, str | None]]:
    return [(item.type, getattr(item, "handle", None)) for item in items]


class Relay:
    """A TCP relay on loopback to a server's port that can cut every connection it carries (a
    network that drops them), and keeps the first bytes each client sent (its request)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[bytearray] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:  # the timeout, to look at _closed
                continue
            downstream.settimeout(None)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port))
            except OSError:
                downstream.close()
                continue
            request = bytearray()
            with self._lock:
                self.requests.append(request)
                self._sockets += [downstream, upstream]
            threading.Thread(target=self._pump, args=(downstream, upstream, request), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, downstream, None), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, record: bytearray | None) -> None:
        try:
            while data := source.recv(65536):
                if record is not None and len(record) < 8192:
                    record += data
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Drops every connection it carries, both ways."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        self._closed = True
        self._thread.join(5)
        self._listener.close()
        self.cut()


@pytest.fixture
def relay():
    relays: list[Relay] = []

    def start(port: int) -> Relay:
        relays.append(Relay(port))
        return relays[-1]

    yield start
    for started in relays:
        started.close()


@pytest.fixture
def events_sessiond(own_sessiond):
    """Subjects of one session at most, and expired sessions swept every second."""
    return own_sessiond("--max-sessions-per-subject", "1", "--sweep-interval", "1s")


def test_every_kind_of_event_arrives_with_its_handle_subject_device_and_time(events_sessiond):
    client = SessiondClient(events_sessiond.url)
    who = subject()
    started = datetime.now(timezone.utc)
    a = client.create({"secret": 1}, subject=who, device={"ua": "pytest"})
    b = client.rotate(a.sid)
    client.delete(b.sid)
    c = client.create({}, subject=who)
    client.revoke_handle(who, c.handle)
    d = client.create({}, subject=who)
    e = client.create({}, subject=who)       # the subject's second: d is evicted
    f = client.create({}, lifetime=1)        # expires within the sweep's second
    items = client.events("0")
    got = take(items, 10)
    items.close()
    assert kinds(got) == [
        ("created", a.handle), ("rotated", b.handle), ("deleted", b.handle),
        ("created", c.handle), ("revoked", c.handle),
        ("created", d.handle), ("limit_evicted", d.handle), ("created", e.handle),
        ("created", f.handle), ("expired", f.handle),
    ]
    assert {item.type for item in got} == set(EVENT_TYPES)
    assert all(isinstance(item, LifecycleEvent) for item in got)
    events = [item for item in got if isinstance(item, LifecycleEvent)]
    assert [event.id for event in events] == sorted(event.id for event in events)  # IDs only grow
    assert len({event.id for event in events}) == 10
    assert events[0].subject == who and events[0].device == {"ua": "pytest"} and events[0].from_handle is None
    assert events[1].from_handle == a.handle and events[1].subject == who
    assert events[8].subject is None and events[8].device is None
    assert all(event.time.tzinfo is not None and event.time >= started.replace(microsecond=0) for event in events)
    assert events[9].time >= events[8].time  # the expiry itself
    # Handles only, never a sid.
    assert not any(s.sid in repr(event.raw) for event in events for s in (a, b, c, d, e, f))


def test_without_an_id_the_stream_starts_with_the_next_event(own_sessiond):
    server = own_sessiond()
    client = SessiondClient(server.url)
    before = client.create({})
    items = client.events()
    later: list[str] = []
    reading = threading.Event()

    def create_until_read() -> None:  # the stream opens at the first next(), at a time unknown here
        while not reading.wait(0.3):
            later.append(client.create({}).handle)

    creator = threading.Thread(target=create_until_read)
    creator.start()
    try:
        [event] = take(items, 1)
    finally:
        reading.set()
        creator.join()
        items.close()
    assert isinstance(event, LifecycleEvent) and event.handle != before.handle and event.handle in later


def test_a_cut_connection_is_resumed_from_the_last_id_without_loss_or_duplicate(own_sessiond, relay):
    server = own_sessiond()
    through = relay(server.port)
    client = SessiondClient(through.url)
    direct = SessiondClient(server.url)
    made = [direct.create({}).handle for _ in range(3)]
    items = client.events("0")
    got = take(items, 3)
    through.cut()
    made += [direct.create({}).handle for _ in range(2)]  # while the stream is down
    cut_at = time.monotonic()
    got += take(items, 2)
    assert time.monotonic() - cut_at >= 0.9  # the server's "retry: 1000" was waited
    made.append(direct.create({}).handle)   # and the resumed stream goes on live
    got += take(items, 1)
    items.close()
    assert [getattr(item, "handle", None) for item in got] == made
    ids = [getattr(item, "id", "") for item in got]
    assert len(set(ids)) == 6 and ids == sorted(ids)
    assert len(through.requests) == 2
    assert b"\r\nLast-Event-ID: 0\r\n" in through.requests[0]
    assert f"\r\nLast-Event-ID: {ids[2]}\r\n".encode() in through.requests[1]


def test_a_restart_of_sessiond_is_resumed_with_a_missed_notice(own_sessiond):
    server = own_sessiond()
    client = SessiondClient(server.url)
    first = client.create({})
    items = client.events("0")
    [event] = take(items, 1)
    assert isinstance(event, LifecycleEvent) and event.handle == first.handle
    server.stop()  # the stream ends cleanly; the embedded store's history goes with the process
    server = own_sessiond(port=server.port)
    after = client.create({})
    got = take(items, 2)
    items.close()
    assert isinstance(got[0], Missed) and got[0].after == event.id and got[0].detail
    assert isinstance(got[1], LifecycleEvent) and got[1].handle == after.handle


def test_events_off_is_raised_at_once_and_not_retried(own_sessiond):
    server = own_sessiond("--event-history", "0")
    started = time.monotonic()
    with pytest.raises(ProblemError) as caught:
        next(SessiondClient(server.url).events())
    assert caught.value.status == 501 and caught.value.slug == "events-off"
    assert not isinstance(caught.value, SessiondUnavailable)
    assert time.monotonic() - started < 1


def test_a_malformed_id_is_a_bad_request(sessiond):
    with pytest.raises(BadRequest) as caught:
        next(SessiondClient(sessiond.url).events("yesterday"))
    assert caught.value.slug == "malformed-event-id"
    assert "/events" in str(caught.value)
    with pytest.raises(TypeError):
        next(SessiondClient(sessiond.url).events(0))


def test_a_server_that_cannot_be_reached_at_first_is_unavailable():
    with pytest.raises(SessiondUnavailable):
        next(SessiondClient(f"http://127.0.0.1:{free_port()}", timeout=1).events())


def test_the_api_key_is_sent_and_opens_its_namespace_only(own_sessiond, tmp_path):
    keys = {"shop": secrets.token_hex(32), "blog": secrets.token_hex(32)}
    path = tmp_path / "api-keys.txt"
    path.write_text("".join(f"{namespace}:{key}\n" for namespace, key in keys.items()))
    server = own_sessiond("--api-keys-file", str(path))
    shop = SessiondClient(server.url, api_key=keys["shop"])
    blog = SessiondClient(server.url, api_key=keys["blog"])
    shop_handle = shop.create({}).handle
    blog_handle = blog.create({}).handle
    for client, handle in ((shop, shop_handle), (blog, blog_handle)):
        items = client.events("0")
        [event] = take(items, 1)
        items.close()
        assert isinstance(event, LifecycleEvent) and event.handle == handle
    for client in (SessiondClient(server.url), SessiondClient(server.url, api_key=secrets.token_hex(32))):
        with pytest.raises(Unauthorized):
            next(client.events())


# MARK: - The async client


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def atake(items: AsyncIterator[LifecycleEvent | Missed], count: int) -> list[LifecycleEvent | Missed]:
    return [await asyncio.wait_for(items.__anext__(), 20) for _ in range(count)]


@pytest.mark.anyio
async def test_async_every_kind_and_a_cut_resumed_without_loss_or_duplicate(events_sessiond, relay):
    through = relay(events_sessiond.port)
    direct = SessiondClient(events_sessiond.url)
    who = subject()
    a = direct.create({}, subject=who, device={"ua": "pytest"})
    b = direct.rotate(a.sid)
    direct.delete(b.sid)
    c = direct.create({}, subject=who)
    direct.revoke_handle(who, c.handle)
    async with AsyncSessiondClient(through.url) as client:
        items = client.events("0")
        got = await atake(items, 5)
        through.cut()
        d = direct.create({}, subject=who)
        e = direct.create({}, subject=who)
        f = direct.create({}, lifetime=1)
        got += await atake(items, 5)
        await items.aclose()
    assert kinds(got) == [
        ("created", a.handle), ("rotated", b.handle), ("deleted", b.handle),
        ("created", c.handle), ("revoked", c.handle),
        ("created", d.handle), ("limit_evicted", d.handle), ("created", e.handle),
        ("created", f.handle), ("expired", f.handle),
    ]
    events = [item for item in got if isinstance(item, LifecycleEvent)]
    assert events[0].device == {"ua": "pytest"} and events[1].from_handle == a.handle
    ids = [event.id for event in events]
    assert len(set(ids)) == 10 and ids == sorted(ids)
    assert len(through.requests) == 2
    assert f"\r\nlast-event-id: {ids[4]}\r\n".encode() in bytes(through.requests[1]).lower()


@pytest.mark.anyio
async def test_async_errors_that_are_not_retried(own_sessiond, tmp_path):
    off = own_sessiond("--event-history", "0")
    async with AsyncSessiondClient(off.url) as client:
        with pytest.raises(ProblemError) as caught:
            await client.events().__anext__()
        assert caught.value.status == 501 and caught.value.slug == "events-off"
        with pytest.raises(BadRequest):
            await client.events("1-x").__anext__()
    key = secrets.token_hex(32)
    path = tmp_path / "api-keys.txt"
    path.write_text(f"shop:{key}\n")
    keyed = own_sessiond("--api-keys-file", str(path))
    handle = SessiondClient(keyed.url, api_key=key).create({}).handle
    async with AsyncSessiondClient(keyed.url, api_key=key) as client:
        items = client.events("0")
        [event] = await atake(items, 1)
        await items.aclose()
        assert isinstance(event, LifecycleEvent) and event.handle == handle
    async with AsyncSessiondClient(keyed.url) as client:
        with pytest.raises(Unauthorized):
            await client.events().__anext__()
    async with AsyncSessiondClient(f"http://127.0.0.1:{free_port()}", timeout=1) as client:
        with pytest.raises(SessiondUnavailable):
            await client.events().__anext__()
