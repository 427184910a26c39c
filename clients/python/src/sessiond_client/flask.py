"""Flask sessions kept in Sessiond: ``app.session_interface = SessiondSessionInterface(url)``.

    from flask import Flask, session
    from sessiond_client.flask import SessiondSessionInterface, rotate_session

    app = Flask(__name__)
    app.session_interface = SessiondSessionInterface("http://127.0.0.1:8080", api_key=...)

The cookie holds only the session id that Sessiond issued; the data stays in Sessiond. Cookie
name, domain, path, Secure, HttpOnly, SameSite (and Partitioned) come from Flask's
``SESSION_COOKIE_*`` settings, the lifetime of permanent cookies from
``PERMANENT_SESSION_LIFETIME``, as with Flask's own sessions.

Values: whatever Flask's own (cookie) session keeps comes back equal and of the same type:
besides JSON's types, tuple, bytes, datetime (as an aware UTC datetime, to the second, as
Flask's gives it back), UUID, Markup, dicts whose one key looks like one of Flask's tags, and
what the app's JSON provider turns into JSON (a ``date``, a ``Decimal``... come back as the
strings it makes of them, as with Flask's). Each top-level key is stored on its own: a plain
JSON value (str, int, float, bool, None, list, dict with ordinary keys) as itself, so apps in
other languages read it, and any other value in the tagged form of Flask's
:class:`~flask.json.tag.TaggedJSONSerializer` (``{" t": [1, 2]}`` for ``(1, 2)``), through the
interface's ``serializer``, on which custom tags can be registered as on Flask's. Sessiond keeps
strict JSON only: NaN and infinities, and integers beyond 64 bits, raise TypeError when the
session is saved (Flask's cookie would keep them).

What a request sends to Sessiond:

- opening: nothing without a cookie; else one ``GET /sessions/{sid}`` (``?touch=true`` when
  ``SESSION_REFRESH_EACH_REQUEST`` is on, Flask's default: the read slides the expiry, and
  writes nothing). An unknown, expired or malformed sid gives a new, empty session; its sid
  will be chosen by Sessiond when it is first saved, never taken from the cookie.
- saving: nothing when the session did not change. Else only what changed, as one atomic merge
  patch (``PATCH``): the top-level keys set or changed (nested dictionaries as their own merge
  patch), ``null`` for keys removed, ``permanent`` and ``subject`` when they changed, so two
  concurrent requests of one user that change different keys both keep their change. A change
  that a merge patch cannot say (storing ``None`` as a value, where merge patch means
  "remove"), or not safely (a value in Flask's tagged form, an object that a merge patch would
  merge with a concurrent write of the same key instead of replacing it) is written with
  ``PUT`` and ``If-Match`` on the version read, re-applied to the current state when another
  request wrote in between. A new session is created (``POST``)
  only once it holds data; an emptied one is deleted and its cookie removed.
- :func:`rotate_session` (at login): ``POST /sessions/{sid}/rotate`` after the changes, and the
  cookie gets the new sid.

Changes are found by comparing the session with what was read, so values changed in place
(``session["cart"].append(3)``) are saved too, without ``session.modified = True``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask import session as _current_session
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ._wire import encode_json, has_null_member
from .client import Session, SessiondClient, Timeout, handle_for
from .errors import BadRequest, PreconditionFailed, SessiondError, SessiondUnavailable, SessionNotFound, SessionRotated

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask, Request, Response

    _SessionDict = CallbackDict[str, Any]
else:
    _SessionDict = CallbackDict

__all__ = [
    "SessiondSession",
    "SessiondSessionInterface",
    "rotate_session",
    "logout_everywhere",
]

logger = logging.getLogger("sessiond_client.flask")

#: A sid as Sessiond issues it: a lowercase canonical UUID. Other cookie values are never sent.
SID_PATTERN = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


class _NotMergeable(Exception):
    """A change that an RFC 7396 merge patch cannot express (a None to be stored), or not
    safely (a tagged value, which a concurrent write of the same key would merge into)."""


def _is_tagged(value: Any, tags: Mapping[str, Any]) -> bool:
    """A tagged value (``{" t": [...]}``): one whole value, never merged member by member."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in tags


def _has_tagged_object(value: Any, tags: Mapping[str, Any]) -> bool:
    """Whether a merge patch carrying ``value`` would merge a tagged object member by member
    into what is there (objects merge; arrays and scalars replace whole)."""
    if isinstance(value, dict):
        return _is_tagged(value, tags) or any(_has_tagged_object(v, tags) for v in value.values())
    return False


def _merge_diff(old: Mapping[str, Any], new: Mapping[str, Any], tags: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``old`` into ``new`` (both dicts), or _NotMergeable."""
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key in old and encode_json(old[key]) == encode_json(value):
            continue
        patch_value = _member_patch(old.get(key), value, tags)
        if patch_value is not None:
            patch[key] = patch_value
    return patch


def _member_patch(old: Any, new: Any, tags: Mapping[str, Any]) -> Any:
    """What a merge patch says for one member that changed from ``old`` to ``new``; None when
    nothing is to be said (only the order of keys differs). _NotMergeable when a merge patch
    cannot say it (a None to store), or not safely: a merge patch can only merge an object into
    an object, never replace it, so a tagged value (``{" t": [...]}``) written while another
    request writes the same key could end up as one object with both tags (neither value)."""
    if isinstance(new, dict) and isinstance(old, dict) and not _is_tagged(new, tags) and not _is_tagged(old, tags):
        return _merge_diff(old, new, tags) or None
    if new is None or has_null_member(new) or _has_tagged_object(new, tags):
        raise _NotMergeable()
    if isinstance(new, dict) and _is_tagged(old, tags):
        raise _NotMergeable()
    return new


_INT64 = (-(2**63), 2**63 - 1)


def _check_integers(value: Any) -> None:
    """ValueError for an integer Sessiond cannot keep exactly (it keeps signed 64-bit ones)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"{value} does not fit in 64 bits")
    elif isinstance(value, dict):
        for item in value.values():
            _check_integers(item)
    elif isinstance(value, list):
        for item in value:
            _check_integers(item)


def _to_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


class SessiondSession(_SessionDict, SessionMixin):
    """A Flask session backed by a Sessiond session.

    Besides the dictionary: ``sid`` (None until first saved), ``version``, ``permanent``,
    ``subject`` (your user id, for listing and revoking a user's sessions; None by default),
    ``lifetime`` (the session's own idle lifetime in Sessiond, set by another client, or None;
    kept as it is), ``handle``, ``expires_at``, :meth:`rotate`, and ``unavailable`` (True when
    Sessiond could not be reached and the interface runs fail-open: this session is empty and
    is never saved). ``accessed`` and ``modified`` are Flask's flags.
    """

    #: Flask's flag, set on every change through the dictionary (saving does not depend on it).
    modified = False
    #: Flask's flag: the session was read or changed (the response then varies on Cookie).
    accessed = False

    def __init__(
        self,
        initial: Mapping[str, Any] | None = None,
        *,
        sid: str | None = None,
        version: int | None = None,
        permanent: bool = False,
        subject: str | None = None,
        lifetime: int | None = None,
        expires_at: datetime | None = None,
        stored: Mapping[str, Any] | None = None,
        baseline: Mapping[str, str] | None = None,
        stale_cookie: bool = False,
        unavailable: bool = False,
        rotated: bool = False,
    ) -> None:
        def on_update(self: SessiondSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.version = version
        self.expires_at = expires_at
        self.lifetime = lifetime
        self.new = sid is None
        #: The request's cookie named a session that is not there (or was not a sid).
        self.stale_cookie = stale_cookie
        self.unavailable = unavailable
        #: Read through a sid that another request rotated (at login) and that is in Sessiond's
        #: grace window: the session as it was then, read-only. It is never saved and its cookie
        #: is never set (the browser holds the new sid already).
        self.rotated = rotated
        self.rotation_requested = False
        self._permanent = bool(permanent)
        self._subject = subject
        self._loaded_permanent = bool(permanent)
        self._loaded_subject = subject
        #: The data as Sessiond holds it (JSON, tagged values tagged), as read.
        self._stored: dict[str, Any] = dict(stored or {})
        #: Per key, the JSON text the value read would be stored as now: a key whose value
        #: still gives this text did not change.
        self._baseline: dict[str, str] = dict(baseline or {})
        self._saved = False

    # Flask before 3.1.3 has the session mark itself accessed (later, the request context does).
    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().setdefault(key, default)

    @property
    def permanent(self) -> bool:
        """Sessiond's ``permanent``: the 31-day lifetime (else one day) and a cookie that
        expires (else one that ends with the browser session)."""
        return self._permanent

    @permanent.setter
    def permanent(self, value: bool) -> None:
        value = bool(value)
        if value != self._permanent:
            self._permanent = value
            self.modified = True

    @property
    def subject(self) -> str | None:
        """Whose session this is (1 to 256 bytes of UTF-8), or None."""
        return self._subject

    @subject.setter
    def subject(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError("session.subject must be a string or None")
        if value != self._subject:
            self._subject = value
            self.modified = True

    @property
    def handle(self) -> str | None:
        """The handle this session is listed under in its subject's sessions (None until saved)."""
        return handle_for(self.sid) if self.sid else None

    def rotate(self) -> None:
        """Give the session a new sid when this request ends (the old one stops working)."""
        self.rotation_requested = True
        self.modified = True

    def clear(self) -> None:
        """Empties the session, and resets ``permanent`` and ``subject`` as a new session has
        them (Flask's own sessions keep ``permanent`` inside the dictionary, so ``clear()``
        resets it too). A session emptied this way is deleted from Sessiond when saved."""
        super().clear()
        self.permanent = False
        self.subject = None
        self.modified = True


class SessiondSessionInterface(SessionInterface):
    """Keeps Flask sessions in Sessiond.

    :param url: Sessiond's base URL.
    :param api_key: sent as ``Authorization: Bearer <api_key>``.
    :param timeout: seconds (or a ``(connect, read)`` pair) before a call counts as failed.
    :param fail_closed: when Sessiond cannot be reached (or answers 503): True (the default)
        raises :class:`~sessiond_client.SessiondUnavailable` from opening or saving the session,
        so the request fails (Flask answers 500, or your error handler for that exception
        answers); False goes on with an empty session that is never saved (so it cannot
        overwrite the user's real one), and logs a warning on ``sessiond_client.flask``, and an
        error for any change the request made to it, or could not save.
    :param client: a :class:`~sessiond_client.SessiondClient` to use instead of a new one.
    :param conflict_retries: how often a conditional write (see the module doc) is re-applied
        when other requests keep writing in between.
    """

    session_class = SessiondSession
    #: Tags the values that JSON cannot hold, as Flask's own session does (register custom
    #: tags on it as on ``SecureCookieSessionInterface.serializer``).
    serializer = TaggedJSONSerializer()

    def __init__(
        self,
        url: str = "http://127.0.0.1:8080",
        api_key: str | None = None,
        *,
        timeout: Timeout | None = 2.0,
        fail_closed: bool = True,
        client: SessiondClient | None = None,
        conflict_retries: int = 5,
    ) -> None:
        self.client = client if client is not None else SessiondClient(url, api_key, timeout=timeout)
        self.fail_closed = fail_closed
        self.conflict_retries = conflict_retries

    # MARK: - Values

    def dump_value(self, app: Flask, value: Any) -> Any:
        """The JSON value a session value is stored as: the value itself when it is plain JSON,
        else Flask's tagged form of it, made JSON by the app's JSON provider as Flask's own
        session does (which also turns a ``date`` or a ``Decimal`` into a string)."""
        tagged = self.serializer.tag(value)
        provider = app.json
        if isinstance(provider, DefaultJSONProvider):
            text = provider.dumps(tagged, sort_keys=False)  # Sessiond keeps the order of keys
        else:
            text = provider.dumps(tagged)
        return json.loads(text)

    def load_value(self, stored: Any) -> Any:
        """The session value of a stored JSON value (tagged values untagged)."""
        return self.serializer._untag_scan(stored)

    def _load(self, app: Flask, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        baseline: dict[str, str] = {}
        for key, stored in data.items():
            try:
                value = self.load_value(stored)
            except Exception as error:  # a tagged value of another writer that does not parse
                logger.warning("session[%r] is not a value Flask's tags can read, kept as stored JSON: %s", key, error)
                value = stored
            values[key] = value
            try:
                baseline[key] = encode_json(self.dump_value(app, value))
            except (TypeError, ValueError):
                pass  # counts as changed, and fails the save only if it is still there
        return values, baseline

    def _dump(self, app: Flask, session: SessiondSession) -> tuple[dict[str, Any], dict[str, str]]:
        """The session's data as it is to be stored, and each key's JSON text; TypeError naming
        the key whose value cannot be stored."""
        stored: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for key, value in dict(session).items():
            if not isinstance(key, str):
                raise TypeError(f"session keys must be strings, not {type(key).__name__} ({key!r})")
            try:
                stored[key] = self.dump_value(app, value)
                texts[key] = encode_json(stored[key])
                _check_integers(stored[key])
            except (TypeError, ValueError, OverflowError) as error:
                raise TypeError(
                    f"session[{key!r}] cannot be stored in Sessiond, which keeps strict JSON (Flask's tagged "
                    f"types too, but no NaN, infinity, or integer beyond 64 bits): {error}"
                ) from error
        return stored, texts

    # MARK: - Open

    def open_session(self, app: Flask, request: Request) -> SessiondSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid:
            return self.session_class()
        if not SID_PATTERN.match(sid):
            return self.session_class(stale_cookie=True)
        touch = bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True))
        try:
            resource = self.client.get(sid, touch=touch)
        except (SessionNotFound, BadRequest):
            # Unknown, expired, deleted or rotated away (or a sid Sessiond does not take): a new
            # session, whose sid Sessiond chooses when it is saved. The client's is never adopted.
            return self.session_class(stale_cookie=True)
        except SessiondUnavailable as error:
            if self.fail_closed:
                raise
            logger.warning(
                "Sessiond is unavailable, so this request runs with an empty session that will not be saved: %s",
                error,
            )
            return self.session_class(unavailable=True)
        values, baseline = self._load(app, resource.data)
        return self.session_class(
            values,
            sid=resource.sid,
            version=resource.version,
            permanent=resource.permanent,
            subject=resource.subject,
            lifetime=resource.lifetime,
            expires_at=resource.expires_at,
            stored=resource.data,
            baseline=baseline,
            rotated=resource.rotated,
        )

    # MARK: - Save

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Flask calls this again (with the same session, or None when opening failed) when the
        # first call raised and an error response is made: only the first call acts.
        if not isinstance(session, SessiondSession) or session._saved:
            return
        session._saved = True
        if session.accessed:
            response.vary.add("Cookie")
        if session.unavailable:
            if session or session.modified:
                logger.error(
                    "Sessiond was unavailable when this request started, so the changes it made to "
                    "the session were not saved (keys now: %s)",
                    sorted(session.keys()),
                )
            return
        if session.rotated:
            # Another request rotated this sid (a login) while this one ran: the browser holds
            # the new sid, so no cookie is set and nothing is written under the old one.
            if session.modified:
                logger.info("the session was rotated by another request; the changes this request made are not saved")
            return
        try:
            self._save(app, session, response)
        except SessionRotated:
            # Rotated by another request between this one's read and its write: the same.
            logger.info("the session was rotated by another request; the changes this request made are not saved")
        except SessiondUnavailable as error:
            if self.fail_closed:
                raise
            logger.error(
                "Sessiond is unavailable, so the changes this request made to the session were not saved: %s", error
            )

    def _save(self, app: Flask, session: SessiondSession, response: Response) -> None:
        data, texts = self._dump(app, session)

        if session.sid is None:
            if not data:
                # Nothing to keep: no session in Sessiond, and no cookie (a stale one is removed).
                if session.stale_cookie:
                    self._delete_cookie(app, response)
                return
            created = self.client.create(data, permanent=session.permanent, subject=session.subject)
            self._adopt(session, created)
            self._set_cookie(app, response, session)
            return

        if not data and (session._stored or session.modified):
            # Emptied (logout): deleted, and its cookie removed. A request still running with
            # this sid gets 404 on its write and cannot bring the session back.
            self.client.delete(session.sid)
            session.sid = None
            self._delete_cookie(app, response)
            return

        try:
            written = self._write_changes(session, data, texts)
            if session.rotation_requested:
                written = self.client.rotate(session.sid)
        except SessionNotFound:
            # Deleted (logged out by another request, or revoked) or expired since this request
            # read it: never recreated with this request's view of it.
            logger.info("the session was gone when this request saved it (logged out or expired); it is not recreated")
            self._delete_cookie(app, response)
            return
        if written is not None:
            self._adopt(session, written)
            self._set_cookie(app, response, session)
        elif self.should_set_cookie(app, session):
            # Unchanged, permanent, SESSION_REFRESH_EACH_REQUEST: the read touched it; the cookie
            # gets the new expiry.
            self._set_cookie(app, response, session)

    def _changes(
        self, session: SessiondSession, data: Mapping[str, Any], texts: Mapping[str, str]
    ) -> tuple[dict[str, Any], list[str]]:
        """Top-level keys set or changed since the read (with their stored form), keys removed."""
        changed = {k: v for k, v in data.items() if session._baseline.get(k) != texts[k]}
        removed = [k for k in session._stored if k not in data]
        return changed, removed

    def _write_changes(self, session: SessiondSession, data: dict[str, Any], texts: dict[str, str]) -> Session | None:
        assert session.sid is not None
        changed, removed = self._changes(session, data, texts)
        data_patch: dict[str, Any] = dict.fromkeys(removed)
        try:
            for key, value in changed.items():
                member = _member_patch(session._stored.get(key), value, self.serializer.tags)
                if member is not None:
                    data_patch[key] = member
        except _NotMergeable:
            return self._replace_rebased(session, changed, removed)
        patch: dict[str, Any] = {}
        if data_patch:
            patch["data"] = data_patch
        if session._permanent != session._loaded_permanent:
            patch["permanent"] = session._permanent
        if session._subject != session._loaded_subject:
            patch["subject"] = session._subject
        if not patch:
            return None
        return self.client.patch(session.sid, patch)

    def _replace_rebased(self, session: SessiondSession, changed: dict[str, Any], removed: list[str]) -> Session:
        """PUT of this request's changes on top of the version read, with If-Match; when another
        request wrote in between, the same changes on top of the current state, again. The
        session's lifetime, which a PUT states too, is kept as it is in Sessiond."""
        assert session.sid is not None
        base, version = session._stored, session.version
        permanent, subject, lifetime = session._loaded_permanent, session._loaded_subject, session.lifetime
        for _ in range(self.conflict_retries + 1):
            merged = dict(base)
            for key in removed:
                merged.pop(key, None)
            merged.update(changed)
            if session._permanent != session._loaded_permanent:
                permanent = session._permanent
            if session._subject != session._loaded_subject:
                subject = session._subject
            try:
                return self.client.replace(
                    session.sid, merged, permanent=permanent, subject=subject, lifetime=lifetime,
                    if_match=version if version is not None else "*",
                )
            except PreconditionFailed:
                current = self.client.get(session.sid)
                base, version = current.data, current.version
                permanent, subject, lifetime = current.permanent, current.subject, current.lifetime
        raise SessiondError(
            f"the session kept changing while this request saved it ({self.conflict_retries + 1} attempts)"
        )

    @staticmethod
    def _adopt(session: SessiondSession, resource: Session) -> None:
        session.sid = resource.sid
        session.version = resource.version
        session.expires_at = resource.expires_at
        session.lifetime = resource.lifetime

    # MARK: - Cookie

    def _cookie_options(self, app: Flask) -> dict[str, Any]:
        options: dict[str, Any] = {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "httponly": self.get_cookie_httponly(app),
            "samesite": self.get_cookie_samesite(app),
        }
        if getattr(self, "get_cookie_partitioned", None) and self.get_cookie_partitioned(app):
            options["partitioned"] = True
        return options

    def _set_cookie(self, app: Flask, response: Response, session: SessiondSession) -> None:
        expires = None
        if session.permanent:
            # PERMANENT_SESSION_LIFETIME (Flask), but never past the session's own expiry in
            # Sessiond (--permanent-lifetime): the cookie does not outlive the session.
            expires = _to_utc(self.get_expiration_time(app, session))
            server = _to_utc(session.expires_at)
            if server is not None and (expires is None or server < expires):
                expires = server
        response.set_cookie(
            self.get_cookie_name(app), session.sid or "", expires=expires, **self._cookie_options(app)
        )
        response.vary.add("Cookie")

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        response.delete_cookie(self.get_cookie_name(app), **self._cookie_options(app))
        response.vary.add("Cookie")


def rotate_session() -> None:
    """At login: the current session gets a new sid when the request ends (same data; the old
    sid stops working at once), so a sid planted before login is worthless after it."""
    session = _current_session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, SessiondSession):
        raise RuntimeError("rotate_session() needs app.session_interface = SessiondSessionInterface(...)")
    session.rotate()


def logout_everywhere(*, keep_current: bool = False) -> int:
    """Ends every session of the current session's ``subject`` in Sessiond (all devices), or all
    but this one with ``keep_current=True``; without it, the current session is emptied too (so
    it is deleted and its cookie removed). Returns how many sessions Sessiond ended."""
    session = _current_session._get_current_object()  # type: ignore[attr-defined]
    interface = current_app.session_interface
    if not isinstance(session, SessiondSession) or not isinstance(interface, SessiondSessionInterface):
        raise RuntimeError("logout_everywhere() needs app.session_interface = SessiondSessionInterface(...)")
    if session.subject is None:
        revoked = 0
    else:
        keep = session.handle if keep_current else None
        revoked = interface.client.revoke_subject(session.subject, except_handle=keep)
    if not keep_current:
        session.clear()
    return revoked
