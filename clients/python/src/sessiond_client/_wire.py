"""Pure helpers of the wire format, shared by the async client and the ASGI middleware.

Nothing here does I/O or imports a third-party package: request pieces (JSON bodies, the route
named in error messages), times as Sessiond writes them, an error answer turned into the
exception the sync client raises for it (from any headers object with ``get`` and ``items``:
http.client's and httpx's), and the merge patch of what a request changed in a session's data.
Every client and adapter uses these.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from .errors import (
    BadRequest,
    NotFound,
    PreconditionFailed,
    ProblemError,
    ServiceUnavailable,
    SessionExists,
    SessionNotFound,
    SessionRotated,
    TooManySessions,
    Unauthorized,
    UnprocessableContent,
)

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"

#: A sid as Sessiond issues it: a lowercase canonical UUID. Other cookie values are never sent.
SID_PATTERN = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

_SID_IN_PATH = re.compile(r"/sessions/[^/?]+")
_SUBJECT_IN_PATH = re.compile(r"/subjects/[^/?]+")

def route_of(path: str) -> str:
    """The route of a request path for messages: the sid and the subject left out (a sid in a
    log is a session to take over), and the query too."""
    bare = path.split("?", 1)[0]
    return _SUBJECT_IN_PATH.sub("/subjects/{subject}", _SID_IN_PATH.sub("/sessions/{sid}", bare))


def timestamp(value: Any) -> datetime | None:
    """An RFC 3339 time as Sessiond writes it (``2026-11-26T10:00:00.000Z``), timezone-aware;
    None for anything else."""
    if not isinstance(value, str):
        return None
    # "2026-11-26T10:00:00.000Z": fromisoformat takes "Z" only from Python 3.11 on.
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def encode_json(value: Any) -> str:
    """Strict, compact JSON: NaN and Infinity have no JSON form (ValueError); keys must be
    strings, values JSON types (TypeError)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_body(value: Any) -> bytes:
    return encode_json(value).encode("utf-8")


class Headers(Protocol):
    """What is read of an answer's headers (httpx.Headers, http.client.HTTPMessage)."""

    def get(self, name: str, default: None = None) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


def problem_from(status: int, headers: Headers, raw: bytes, where: str) -> ProblemError:
    """The exception for an error answer: its RFC 9457 problem's members, the class by status
    (and by type where one status has several meanings), ``where`` (method and route) first in
    the message."""
    body: dict[str, Any] = {}
    if "json" in (headers.get("Content-Type") or ""):
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, dict):
                body = parsed
        except ValueError:
            pass
    kind = body.get("type")
    title = body.get("title")
    detail = body.get("detail")
    if not body:
        detail = raw.decode("utf-8", "replace").strip()[:200] or None
    header_map = dict(headers.items())
    kind_text = kind if isinstance(kind, str) else None
    title_text = title if isinstance(title, str) else http.client.responses.get(status)
    detail_text = detail if isinstance(detail, str) else None
    error: ProblemError
    if status in (502, 503, 504):
        retry_after: float | None = None
        try:
            retry_after = float(headers.get("Retry-After") or "")
        except ValueError:
            pass
        error = ServiceUnavailable(
            status, kind_text, title_text, detail_text, body, header_map, retry_after=retry_after
        )
    else:
        cls: type[ProblemError] = ProblemError
        if status == 404:
            cls = SessionNotFound if (kind_text or "").endswith("/session-not-found") else NotFound
        elif status == 412:
            cls = SessionExists if (kind_text or "").endswith("/session-exists") else PreconditionFailed
        elif status == 409 and (kind_text or "").endswith("/rotated"):
            cls = SessionRotated
        elif status == 409 and (kind_text or "").endswith("/too-many-sessions"):
            cls = TooManySessions
        elif status == 400:
            cls = BadRequest
        elif status == 401:
            cls = Unauthorized
        elif status == 422:
            cls = UnprocessableContent
        error = cls(status, kind_text, title_text, detail_text, body, header_map)
    error.args = (f"{where}: {error.args[0]}",)
    return error


# MARK: - What a request changed in a session's data


def check_json(data: Mapping[str, Any]) -> dict[str, str]:
    """The JSON text of every top-level value; TypeError naming the key that is not JSON."""
    encoded: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"session keys must be strings, not {type(key).__name__} ({key!r})")
        try:
            encoded[key] = encode_json(value)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"session[{key!r}] cannot be stored in Sessiond, which keeps JSON only "
                f"(dict, list, str, int, finite float, bool, None): {error}"
            ) from error
    return encoded


class NotMergeable(Exception):
    """A change that an RFC 7396 merge patch cannot express (a None to be stored)."""


def has_null_member(value: Any) -> bool:
    # A merge patch applies objects member by member (a null member removes); arrays and
    # scalars replace whole, nulls inside them included.
    if isinstance(value, dict):
        return any(v is None or has_null_member(v) for v in value.values())
    return False


def merge_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``old`` into ``new`` (both dicts), or NotMergeable: keys
    removed are null, keys set or changed their value, nested dicts their own merge patch."""
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key in old and encode_json(old[key]) == encode_json(value):
            continue
        previous = old.get(key)
        if isinstance(value, dict) and isinstance(previous, dict):
            inner = merge_diff(previous, value)
            if inner:  # empty when only the order of keys differs
                patch[key] = inner
        elif value is None or has_null_member(value):
            raise NotMergeable(key)
        else:
            patch[key] = value
    return patch


def top_level_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Top-level keys set or changed (with their new values), and keys removed."""
    changed = {k: v for k, v in new.items() if k not in old or encode_json(old[k]) != encode_json(v)}
    removed = tuple(k for k in old if k not in new)
    return changed, removed
