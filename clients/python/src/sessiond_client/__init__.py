"""Python client for Sessiond, and (in :mod:`sessiond_client.flask`) a Flask SessionInterface.

This module and :mod:`sessiond_client.client` use the standard library only; importing them
does not import Flask.
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
    Unauthorized,
    UnprocessableContent,
)

__all__ = [
    "SessiondClient",
    "Session",
    "SessionSummary",
    "handle_for",
    "new_sid",
    "UNSET",
    "SessiondError",
    "SessiondUnavailable",
    "ProblemError",
    "BadRequest",
    "Unauthorized",
    "NotFound",
    "SessionNotFound",
    "PreconditionFailed",
    "SessionExists",
    "UnprocessableContent",
    "ServiceUnavailable",
    "PROBLEM_TYPE_PREFIX",
    "__version__",
]
