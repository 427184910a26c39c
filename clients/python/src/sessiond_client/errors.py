"""Exceptions raised by the Sessiond client.

Every error is a :class:`SessiondError`. An answer of the service that is an error carries an
RFC 9457 problem (``application/problem+json``) and is raised as a :class:`ProblemError` (or one
of its subclasses) with the problem's members; a service that cannot be reached, does not answer
in time, or answers 503 (502 and 504 from a proxy alike) is raised as
:class:`SessiondUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROBLEM_TYPE_PREFIX = "https://sessiond.dev/problems/"

__all__ = [
    "SessiondError",
    "SessiondUnavailable",
    "ProblemError",
    "BadRequest",
    "Unauthorized",
    "NotFound",
    "SessionNotFound",
    "PreconditionFailed",
    "SessionExists",
    "SessionRotated",
    "TooManySessions",
    "UnprocessableContent",
    "ServiceUnavailable",
    "PROBLEM_TYPE_PREFIX",
]


class SessiondError(Exception):
    """Base class of every error of this package."""


class SessiondUnavailable(SessiondError):
    """Sessiond could not be used: connection refused or reset, a timeout, or a 503 answer.

    Nothing can be said about the session in that case: it was neither found nor lost. Retry
    later (``retry_after`` gives the server's hint in seconds when it sent one).
    """

    retry_after: float | None = None


class ProblemError(SessiondError):
    """Sessiond answered with an error status and (normally) an RFC 9457 problem body.

    Attributes: ``status`` (the HTTP status), ``type`` (the problem type URI), ``slug`` (the last
    part of the type, e.g. ``"session-not-found"``), ``title``, ``detail``, ``body`` (the whole
    problem object, with any extension members) and ``headers``.
    """

    def __init__(
        self,
        status: int,
        type: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.type = type or "about:blank"
        self.title = title
        self.detail = detail
        self.body: Mapping[str, Any] = body if body is not None else {}
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        message = f"{status} {title or 'error'}"
        if detail:
            message += f": {detail}"
        if self.slug:
            message += f" ({self.slug})"
        super().__init__(message)

    @property
    def slug(self) -> str | None:
        """The problem's short name, such as ``"precondition-failed"``, or None for other types."""
        if self.type.startswith(PROBLEM_TYPE_PREFIX):
            return self.type[len(PROBLEM_TYPE_PREFIX):]
        return None


class BadRequest(ProblemError):
    """400: a malformed sid, subject, handle, If-Match header, query or body."""


class Unauthorized(ProblemError):
    """401 ``unauthorized``: the API key is missing or wrong (Sessiond run with API keys)."""


class NotFound(ProblemError):
    """404: no such path."""


class SessionNotFound(NotFound):
    """404 ``session-not-found``: no live session has this sid (never issued, expired, deleted or
    rotated away)."""


class PreconditionFailed(ProblemError):
    """412 ``precondition-failed``: the session is live at another version than ``If-Match``
    named, and nothing was changed. ``current_version`` is the session's version now."""

    @property
    def current_version(self) -> int | None:
        value = self.body.get("current_version")
        return value if isinstance(value, int) else None


class SessionExists(PreconditionFailed):
    """412 ``session-exists``: :meth:`~sessiond_client.SessiondClient.create` with ``sid=`` named
    a sid that a live session already has; nothing was changed. Mint another id
    (:func:`~sessiond_client.new_sid`) and create again."""


class SessionRotated(ProblemError):
    """409 ``rotated``: the sid was rotated to a new one (by another request, at login) and is
    in its grace window: it still reads the session as it was then, but takes no writes,
    touches, deletes or rotates. Nothing was changed. The browser already holds the new sid:
    leave the cookie alone, and never start a new session because of this."""


class TooManySessions(ProblemError):
    """409 ``too-many-sessions``: a create with ``on_limit="refuse"`` for a subject that has as
    many live sessions as Sessiond's ``--max-sessions-per-subject`` allows; nothing was created."""


class UnprocessableContent(ProblemError):
    """422: the body is well-formed JSON but not an acceptable session (unknown member, wrong
    type, a number that cannot be held exactly, merged data too large...)."""


class ServiceUnavailable(ProblemError, SessiondUnavailable):
    """503 ``store-unavailable`` (Sessiond's store did not answer), or a 502 or 504 from a proxy
    in front of Sessiond. Both a ProblemError and a SessiondUnavailable."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after
