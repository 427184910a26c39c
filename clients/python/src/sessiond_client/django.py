"""Django sessions kept in Sessiond: ``SESSION_ENGINE = "sessiond_client.django"``.

    # settings.py
    SESSION_ENGINE = "sessiond_client.django"
    SESSIOND_URL = "http://127.0.0.1:8080"          # the default
    SESSIOND_API_KEY = os.environ.get("SESSIOND_API_KEY")
    SESSIOND_TIMEOUT = 2.0                          # seconds, or a (connect, read) pair
    SESSIOND_FAIL_OPEN = False                      # the default: a Sessiond outage fails the request

``SessionStore`` implements Django's session backend contract
(:class:`django.contrib.sessions.backends.base.SessionBase`) on Sessiond's API:

- session keys are Sessiond sids: random UUIDs (version 4) that this module mints itself, and
  creates in Sessiond with ``PUT /sessions/{sid}`` and ``If-None-Match: *``, so
  ``save(must_create=True)`` raises ``CreateError`` when the sid is taken (and ``create()``
  tries another one). A key read from a cookie is never created: only keys minted here are.
  A cookie value that is not a sid is not sent to Sessiond at all (an empty session).
- ``load()``: ``GET /sessions/{sid}``. Unknown, expired, deleted or rotated away: an empty
  session, and ``session_key`` becomes None (a new key is minted when it is saved).
- ``save()``: only what changed since the session was read, as one atomic merge patch
  (``PATCH``): top-level keys set or changed (nested dictionaries as their own merge patch),
  ``null`` for keys removed; so two concurrent requests of one user that change different keys
  both keep their change. Storing ``None`` (which a merge patch reads as "remove") goes as a
  ``PUT`` with ``If-Match`` on the version read, re-applied on top of the current state when
  another request wrote in between. Nothing changed: ``POST /sessions/{sid}/touch`` (slides the
  expiry; ``SESSION_SAVE_EVERY_REQUEST``). A session that is gone (logged out by another
  request, revoked, expired) raises ``UpdateError`` and is never recreated; Django's
  ``SessionMiddleware`` turns it into ``SessionInterrupted`` (400).
- ``cycle_key()`` (``django.contrib.auth.login``): ``POST /sessions/{sid}/rotate``, the same
  data under a new sid; the old one answers 404 at once.
- ``delete()``: ``DELETE /sessions/{sid}``; ``flush()`` (logout) deletes and starts a new
  empty session.
- expiry: Sessiond's per-session ``lifetime`` is always Django's ``get_expiry_age()`` (as the
  cache backend's timeout is): ``set_expiry(300)`` gives 300, a datetime the seconds left until
  it, and ``set_expiry(0)`` (a browser-session cookie), ``set_expiry(None)`` or nothing
  ``SESSION_COOKIE_AGE``. ``_session_expiry`` stays in the data, as with Django's backends.
- ``clear_expired()`` does nothing: Sessiond expires sessions itself.

The data is the session dictionary as Django's ``SESSION_SERIALIZER`` writes it (JSON by
default), stored as a JSON object in Sessiond's ``data``, so apps in other languages read it.

Fail closed (the default): when Sessiond cannot be reached, does not answer within
``SESSIOND_TIMEOUT`` or answers 503, the session call raises
:class:`sessiond_client.SessiondUnavailable` and the request fails (500). With
``SESSIOND_FAIL_OPEN = True`` reads give an empty session and writes are dropped, each with a
log record on the ``sessiond_client.django`` logger; the user's cookie is left alone.
"""

from __future__ import annotations

import atexit
import json
import logging
import re
import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from ._wire import NotMergeable, check_json, merge_diff, top_level_changes
from .client import UNSET, Session, SessiondClient, Timeout, new_sid
from .errors import (
    BadRequest,
    PreconditionFailed,
    SessiondError,
    SessiondUnavailable,
    SessionExists,
    SessionNotFound,
    SessionRotated,
    UnprocessableContent,
)

__all__ = ["CreateError", "SessionStore", "UpdateError", "close_client", "get_client"]

logger = logging.getLogger("sessiond_client.django")

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 2.0

#: A sid as Sessiond issues it: a lowercase canonical UUID. Other cookie values are never sent.
SID_PATTERN = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

#: Attempts of a conditional write (storing None) when other requests keep writing in between.
CONFLICT_RETRIES = 5


# MARK: - The client of this process


_client: SessiondClient | None = None
_client_lock = threading.Lock()


def _timeout_setting() -> Timeout | None:
    value = getattr(settings, "SESSIOND_TIMEOUT", DEFAULT_TIMEOUT)
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return float(value[0]), float(value[1])
    raise ImproperlyConfigured("SESSIOND_TIMEOUT must be seconds or a (connect, read) pair of seconds")


def get_client() -> SessiondClient:
    """The process's :class:`~sessiond_client.SessiondClient`, built from the settings on first
    use (``SESSIOND_URL``, ``SESSIOND_API_KEY``, ``SESSIOND_TIMEOUT``). It is shared by every
    thread and closed at exit; a change of those settings (``override_settings``) replaces it."""
    global _client
    client = _client
    if client is None:
        with _client_lock:
            if _client is None:
                _client = SessiondClient(
                    getattr(settings, "SESSIOND_URL", DEFAULT_URL) or DEFAULT_URL,
                    getattr(settings, "SESSIOND_API_KEY", None) or None,
                    timeout=_timeout_setting(),
                )
            client = _client
    return client


def close_client() -> None:
    """Closes the process's client (its idle connections); the next session call builds a new
    one from the settings."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()


atexit.register(close_client)


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SESSIOND_URL", "SESSIOND_API_KEY", "SESSIOND_TIMEOUT"):
        close_client()


setting_changed.connect(_on_setting_changed, dispatch_uid="sessiond_client.django.client")


def _fail_open() -> bool:
    return bool(getattr(settings, "SESSIOND_FAIL_OPEN", False))


# MARK: - The session store


class SessionStore(SessionBase):  # type: ignore[misc]
    """Django's session backend contract on Sessiond (see the module documentation)."""

    # SessionBase's property (validated on assignment: a value that is no sid becomes None).
    _session_key: str | None
    _session_cache: dict[str, Any]

    def __init__(self, session_key: str | None = None) -> None:
        # Set before SessionBase.__init__, which validates the key.
        self._minted: set[str] = set()
        self._reset_state()
        super().__init__(session_key)

    def _reset_state(self) -> None:
        #: The session's data as last read from or written to Sessiond (a JSON object), which
        #: changes are computed against; None when not known.
        self._baseline: dict[str, Any] | None = None
        #: Sessiond's data at ``_version`` (with what other requests wrote), for If-Match writes.
        self._server_data: dict[str, Any] = {}
        self._version: int | None = None
        self._server_lifetime: int | None = None
        self._permanent = False
        self._subject: str | None = None
        #: Sessiond failed and SESSIOND_FAIL_OPEN is on: this session is empty and never saved.
        self._unavailable = False
        #: Read through a sid that another request rotated (a login) and that is in Sessiond's
        #: grace window: read-only; saving it raises UpdateError (see ``save``).
        self._rotated = False

    @classmethod
    def get_client(cls) -> SessiondClient:
        """The client this store talks to (override to supply your own)."""
        return get_client()

    @property
    def client(self) -> SessiondClient:
        return self.get_client()

    @property
    def unavailable(self) -> bool:
        """True when Sessiond failed and ``SESSIOND_FAIL_OPEN`` is on: reads gave an empty
        session, and writes are dropped."""
        return self._unavailable

    # MARK: Keys

    def _validate_session_key(self, key: Any) -> bool:
        # Only a sid can name a session in Sessiond: anything else is no key (an empty session).
        return isinstance(key, str) and SID_PATTERN.match(key) is not None

    def _get_new_session_key(self) -> str:
        # A random UUID (version 4) is unique without asking Sessiond whether it exists; the
        # create (PUT with If-None-Match: *) is what guarantees it.
        key = new_sid()
        self._minted.add(key)
        return key

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    # MARK: Serialization

    def _to_json(self, session: dict[str, Any]) -> dict[str, Any]:
        """The session dictionary as SESSION_SERIALIZER writes it, as a JSON object."""
        raw = self.serializer().dumps(session)
        try:
            value = json.loads(raw)
        except ValueError as error:
            raise ImproperlyConfigured(
                "sessiond_client.django needs a SESSION_SERIALIZER that writes JSON "
                "(such as the default django.contrib.sessions.serializers.JSONSerializer)"
            ) from error
        if not isinstance(value, dict):
            raise ImproperlyConfigured("SESSION_SERIALIZER must write the session as a JSON object")
        check_json(value)  # NaN or Infinity (which Django's JSONSerializer writes): TypeError naming the key
        return value

    def _from_json(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            value = self.serializer().loads(json.dumps(data, separators=(",", ":")).encode("ascii"))
        except Exception:  # as SessionBase.decode: data it cannot read is an empty session
            logger.warning("SESSION_SERIALIZER could not read the session's data in Sessiond; the session is empty")
            return {}
        return value if isinstance(value, dict) else {}

    # MARK: Expiry

    def _lifetime(self) -> int:
        """Sessiond's lifetime for this session: Django's expiry age, at least one second."""
        return max(1, int(self.get_expiry_age()))

    def _expires_at_a_date(self) -> bool:
        # set_expiry(datetime or timedelta) keeps the moment as an ISO string: the lifetime is
        # the time left until it, so it is sent again with every write.
        return isinstance(self.get("_session_expiry"), str)

    # MARK: State from Sessiond

    def _adopt(self, resource: Session, baseline: dict[str, Any]) -> None:
        self._baseline = baseline
        self._server_data = resource.data
        self._version = resource.version
        self._server_lifetime = resource.lifetime
        self._permanent = resource.permanent
        self._subject = resource.subject

    def _unavailable_now(self, what: str, error: SessiondUnavailable) -> None:
        """Fail open: mark the session unavailable and log, or (fail closed) re-raise."""
        if not _fail_open():
            raise error
        self._unavailable = True
        logger.warning(
            "Sessiond is unavailable (%s), so this request runs with an empty session whose changes are not saved: %s",
            what, error,
        )

    # MARK: The contract

    def exists(self, session_key: str | None) -> bool:
        if not self._validate_session_key(session_key):
            return False
        assert session_key is not None
        try:
            self.client.get(session_key)
        except (SessionNotFound, BadRequest):
            return False
        except SessiondUnavailable as error:
            if not _fail_open():
                raise
            logger.warning("Sessiond is unavailable; a session is taken as absent: %s", error)
            return False
        return True

    def load(self) -> dict[str, Any]:
        key = self.session_key
        if key is None:
            return {}
        try:
            resource = self.client.get(key)
        except (SessionNotFound, BadRequest):
            # Unknown, expired, deleted or rotated away: an empty session, whose key is minted
            # when it is saved. The cookie's key is never adopted.
            self._session_key = None
            self._reset_state()
            return {}
        except SessiondUnavailable as error:
            self._unavailable_now("reading the session", error)
            return {}
        self._adopt(resource, resource.data)
        self._rotated = resource.rotated
        return self._from_json(resource.data)

    def create(self) -> None:
        for _ in range(100):
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue
            self.modified = True
            return
        raise RuntimeError("Unable to create a new session key in Sessiond.")

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        if self._unavailable:
            self._drop_write()
            return
        try:
            if must_create:
                self._create_in_sessiond(self.session_key)
            else:
                self._update_in_sessiond()
        except SessiondUnavailable as error:
            if not _fail_open():
                raise
            self._unavailable = True
            logger.error(
                "Sessiond is unavailable, so the changes this request made to the session were not saved: %s", error
            )
        except UnprocessableContent as error:
            if error.slug == "lifetime-too-long":
                raise ImproperlyConfigured(
                    f"the session's expiry age ({self._lifetime()} s, from SESSION_COOKIE_AGE or set_expiry()) "
                    "is longer than Sessiond's --max-lifetime allows"
                ) from error
            raise

    def _drop_write(self) -> None:
        if self.modified:
            logger.error(
                "Sessiond was unavailable earlier in this request, so the changes it made to the session "
                "were not saved (keys now: %s)",
                sorted(self._session_cache.keys()) if hasattr(self, "_session_cache") else [],
            )

    def _create_in_sessiond(self, key: str) -> None:
        if key not in self._minted:
            # Only keys minted here are created (a key from a cookie would be session fixation).
            raise CreateError
        data = self._to_json(self._get_session(no_load=True))
        try:
            resource = self.client.create(data, sid=key, lifetime=self._lifetime())
        except SessionExists:
            raise CreateError from None
        self._adopt(resource, data)

    def _update_in_sessiond(self) -> None:
        session = self._get_session()  # read first when nothing was read yet, as db.py does
        key = self.session_key
        if key is None:
            raise UpdateError  # it vanished (read just now as unknown or expired)
        if self._rotated:
            # Another request rotated this sid (a login) while this one ran. Saving would make
            # Django set the cookie back to the old sid over the new one; UpdateError makes it
            # answer SessionInterrupted (400) and leave the cookie (the new sid) alone.
            raise UpdateError
        if self._unavailable:
            self._drop_write()
            return
        try:
            if self._baseline is None:
                # Emptied with clear() before it was ever read: read what there is to change.
                self._read_baseline(key)
            new = self._to_json(session)
            assert self._baseline is not None
            lifetime = self._lifetime()
            send_lifetime: Any = UNSET
            if lifetime != self._server_lifetime or self._expires_at_a_date():
                send_lifetime = lifetime
            try:
                patch = merge_diff(self._baseline, new)
            except NotMergeable:
                resource = self._replace_rebased(key, new, lifetime)
            else:
                if patch or send_lifetime is not UNSET:
                    resource = self.client.patch(key, data=patch or None, lifetime=send_lifetime)
                else:
                    # Nothing changed (SESSION_SAVE_EVERY_REQUEST): slide the expiry, write nothing.
                    resource = self.client.touch(key)
        except SessionNotFound:
            # Deleted (logged out by another request, or revoked) or expired since it was read:
            # never recreated with this request's view of it.
            raise UpdateError from None
        except SessionRotated:
            # Rotated by another request since it was read: as above, the cookie is left alone.
            raise UpdateError from None
        self._adopt(resource, new)

    def _read_baseline(self, key: str) -> None:
        resource = self.client.get(key)
        self._adopt(resource, resource.data)

    def _replace_rebased(self, key: str, new: dict[str, Any], lifetime: int) -> Session:
        """PUT of this request's changes on top of the version read, with If-Match; when another
        request wrote in between, the same changes on top of the current state, again."""
        assert self._baseline is not None
        changed, removed = top_level_changes(self._baseline, new)
        base, version = self._server_data, self._version
        permanent, subject = self._permanent, self._subject
        for _ in range(CONFLICT_RETRIES + 1):
            merged = {k: v for k, v in base.items() if k not in removed}
            merged.update(changed)
            try:
                return self.client.replace(
                    key, merged, permanent=permanent, subject=subject, lifetime=lifetime,
                    if_match=version if version is not None else "*",
                )
            except PreconditionFailed:
                current = self.client.get(key)
                base, version = current.data, current.version
                permanent, subject = current.permanent, current.subject
        raise SessiondError(f"the session kept changing while this request saved it ({CONFLICT_RETRIES + 1} attempts)")

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        if not self._validate_session_key(session_key):
            return
        try:
            self.client.delete(session_key)
        except (BadRequest, SessionRotated):
            # A rotated sid in its grace window is not deleted (the session lives on under its
            # new sid, which the browser holds); the window ends by itself.
            pass
        except SessiondUnavailable as error:
            if not _fail_open():
                raise
            self._unavailable = True
            logger.error(
                "Sessiond is unavailable, so a session could not be deleted (it stays until it expires): %s", error
            )

    def cycle_key(self) -> None:
        data = self._session
        key = self.session_key
        if key is None:
            # Not in Sessiond (new, or its cookie named none): a new session with this data.
            self.create()
            self._session_cache = data
            return
        if self._unavailable:
            # Fail open: a new key, never saved (so nothing is ever written under the old one).
            self._session_key = self._get_new_session_key()
            self.modified = True
            return
        if self._rotated:
            return  # rotated by another request already: saving raises UpdateError
        try:
            resource = self.client.rotate(key)
        except SessionRotated:
            self._rotated = True
            return
        except SessionNotFound:
            # Gone since it was read: a new session with this request's data, as SessionBase does.
            self._session_key = None
            self._reset_state()
            self.create()
            self._session_cache = data
            return
        except SessiondUnavailable as error:
            self._unavailable_now("giving the session a new key", error)
            self._session_key = self._get_new_session_key()
            self.modified = True
            return
        # The same session under a new sid; the changes this request made since it read the
        # session are still to be saved (against the same baseline).
        self._session_key = resource.sid
        self._version = resource.version
        self._server_lifetime = resource.lifetime
        self._session_cache = data
        self.modified = True

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Sessiond removes expired sessions itself."""

    # MARK: The contract, async (Django 5): the sync calls in a thread

    async def aexists(self, session_key: str | None) -> bool:
        return await sync_to_async(self.exists)(session_key)

    async def aload(self) -> dict[str, Any]:
        return await sync_to_async(self.load)()

    async def acreate(self) -> None:
        await sync_to_async(self.create)()

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete)(session_key)

    async def acycle_key(self) -> None:
        await sync_to_async(self.cycle_key)()

    async def aflush(self) -> None:
        await sync_to_async(self.flush)()

    @classmethod
    async def aclear_expired(cls) -> None:
        """Nothing to do: Sessiond removes expired sessions itself."""
