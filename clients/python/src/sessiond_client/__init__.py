"""Python client for Sessiond, and session backends that keep a framework's sessions in it:
:mod:`sessiond_client.flask` (Flask), :mod:`sessiond_client.django` (Django),
:mod:`sessiond_client.starlette` (Starlette and FastAPI), and :mod:`sessiond_client.aio` (an
async client on httpx).

This module, :mod:`sessiond_client.client` and :mod:`sessiond_client.events` (lifecycle events)
use the standard library only; importing them imports no framework.
"""

from .client import UNSET, Session, SessiondClient, SessionSummary, __version__, handle_for, new_sid
from .errors import (
    PROBLEM_TYPE_PREFIX,
    BadRequest,
    NotFound,
    PreconditionFailed,
    ProblemError,
    ServiceUnavailable,
    SessiondError,
    SessiondUnavailable,
    SessionExists,
    SessionNotFound,
    SessionRotated,
    TooManySessions,
    Unauthorized,
    UnprocessableContent,
)
from .events import EVENT_TYPES, LifecycleEvent, Missed

__all__ = [
    "SessiondClient",
    "Session",
    "SessionSummary",
    "handle_for",
    "new_sid",
    "UNSET",
    "LifecycleEvent",
    "Missed",
    "EVENT_TYPES",
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
    "__version__",
]
