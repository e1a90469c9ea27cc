"""What the verifier service trusts: the trust bundle and cached status lists (issue 4 item 2).

docs/trust-bundle.md (the bundle and its signed ``trust-bundle+jwt`` form), Token Status List -20
§5.1/§8.2/§8.3 (SPECS TSL-4, TSL-5: ``ttl`` refresh, ``exp``) and W3C Bitstring Status List v1.0
§2.2 (``ttl`` in milliseconds).

- Trust: the bundle file (JSON or ``trust-bundle+jwt``) named by the settings. With a
  ``bundle_url`` and a fetcher it is refreshed (hourly, or five minutes after a failure; inline in
  ``store()``, one thread at a time) from the issuer's signed bundle, whose signature is checked;
  the new bundle must have exactly the same anchors and issuers and must not be older: a refresh
  can never introduce a root. A refused refresh keeps the old bundle and records its code.
- Status lists: the bundle's snapshots are the cache. A list is served from the cache; once its
  ``ttl`` has run out (counted from its ``iat`` for a snapshot, from the fetch for a fetched one;
  one hour without ``ttl``) one thread fetches it again while the others keep the cached one. A
  failed or unusable refresh keeps the cached list (retried after a minute) until its ``exp``;
  past ``exp``, or with no list at all, ``status_list_unavailable`` (undetermined). ``iat``,
  ``exp`` and ``ttl`` are read from the unverified token for scheduling only: verification checks
  the list's signature, ``sub`` and ``exp`` itself. A refresh is adopted only if it names the same
  list (``sub``/``id``), is unexpired and not older than the cached one.

Thread-safe; no I/O at construction beyond reading the bundle file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from verifier import jose, strict_json
from verifier.errors import DuoError, VerificationIncomplete
from verifier.service.config import VerifierSettings
from verifier.service.fetcher import Fetcher
from verifier.status_check import FetchedList, StatusSource
from verifier.trust import TrustStore
from verifier.trust_bundle import open_bundle_jwt

Clock = Callable[[], datetime]
BUNDLE_MEDIA_TYPES = frozenset({"application/jwt", "application/trust-bundle+jwt"})
TSL_MEDIA_TYPES = frozenset({"application/statuslist+jwt"})
BSL_MEDIA_TYPES = frozenset({"application/vc+jwt"})
BUNDLE_REFRESH = timedelta(hours=1)
BUNDLE_RETRY = timedelta(minutes=5)
LIST_RETRY = timedelta(minutes=1)
DEFAULT_TTL = timedelta(hours=1)
MAX_LISTS = 1024


@dataclass(frozen=True)
class _Cached:
    """A status list token and its schedule (from its unverified payload)."""

    token: str
    content_type: str | None
    accept: frozenset[str]
    obtained: datetime
    iat: datetime | None
    exp: datetime | None
    refresh_at: datetime

    def usable(self, now: datetime) -> bool:
        return self.exp is None or now < self.exp


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _seconds(value: Any, scale: float = 1.0) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e12:
        return DEFAULT_TTL
    return timedelta(seconds=value / scale)


def _read_list(
    token: str, uri: str, content_type: str | None, obtained: datetime | None, now: datetime
) -> _Cached:
    """The schedule of a list for ``uri``; ValueError if the token is not one (unverified)."""
    try:
        jws = jose.parse_compact(token.strip())
    except DuoError:
        raise ValueError("not a JWS") from None
    header, payload = jws.header, jws.payload
    typ = str(header.get("typ", "")).lower().removeprefix("application/")
    if typ == "statuslist+jwt" and payload.get("sub") == uri:  # TSL §5.1
        accept, ttl = TSL_MEDIA_TYPES, _seconds(payload.get("ttl"))
    elif typ == "vc+jwt" and payload.get("id") == uri:  # BSL §2.2: ttl in milliseconds
        subject = payload.get("credentialSubject")
        raw_ttl = subject.get("ttl") if isinstance(subject, dict) else None
        accept, ttl = BSL_MEDIA_TYPES, _seconds(raw_ttl, 1000.0)
    else:
        raise ValueError("not a status list for this uri")
    iat = _time(payload.get("iat"))
    start = obtained or iat or now
    return _Cached(token, content_type, accept, start, iat, _time(payload.get("exp")), start + ttl)


def _snapshot(token: str, uri: str, now: datetime) -> _Cached:
    """A bundle snapshot; one that cannot be read is still served (verification says why)."""
    try:
        return _read_list(token, uri, None, None, now)
    except ValueError:
        return _Cached(token, None, TSL_MEDIA_TYPES | BSL_MEDIA_TYPES, now, None, None, now)


def load_bundle(path: Path, *, now: datetime) -> tuple[TrustStore, dict[str, Any]]:
    """The bundle file (JSON, or a ``trust-bundle+jwt`` whose signature is checked)."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        bundle = strict_json.loads_object(text)
    else:
        bundle = open_bundle_jwt(text, now=now)
    return TrustStore.from_bundle(bundle), bundle


def _anchors(store: TrustStore) -> frozenset[bytes]:
    return frozenset(cert.public_bytes(Encoding.DER) for cert in store.anchors)


def _generated(bundle: Mapping[str, Any]) -> datetime | None:
    value = bundle.get("generated_at")
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


class TrustSource:
    """The trust store and status lists of the service; see the module docstring."""

    def __init__(self, settings: VerifierSettings, fetcher: Fetcher | None, clock: Clock) -> None:
        store, bundle = TrustStore(), dict[str, Any]()
        if settings.bundle_path is not None:
            store, bundle = load_bundle(settings.bundle_path, now=clock())
        self._setup(store, _generated(bundle), fetcher, settings.bundle_url, clock)

    @classmethod
    def offline(cls, store: TrustStore, clock: Clock = lambda: datetime.now(UTC)) -> TrustSource:
        """A source that never fetches: ``store`` and its status-list snapshots only."""
        source = cls.__new__(cls)
        source._setup(store, None, None, None, clock)
        return source

    def _setup(
        self,
        store: TrustStore,
        generated: datetime | None,
        fetcher: Fetcher | None,
        bundle_url: str | None,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._fetcher = fetcher
        self._bundle_url = bundle_url
        self._lock = threading.Lock()
        self._bundle_lock = threading.Lock()
        self._store = store
        self._generated = generated
        self._bundle_due = clock()
        self._bundle_error: str | None = None
        self._lists: dict[str, _Cached] = {}
        self._retry: dict[str, datetime] = {}
        self._list_locks: dict[str, threading.Lock] = {}
        self._merge_snapshots(store, clock())

    # -- trust bundle -------------------------------------------------------------------------

    def store(self) -> TrustStore:
        """The current trust store, refreshing the bundle first when that is due and possible."""
        now = self._clock()
        due = self._fetcher is not None and self._bundle_url is not None and now >= self._bundle_due
        if due and self._bundle_lock.acquire(blocking=False):  # others keep the current bundle
            try:
                if now >= self._bundle_due:
                    self._refresh_bundle(now)
            finally:
                self._bundle_lock.release()
        with self._lock:
            return self._store

    @property
    def bundle_error(self) -> str | None:
        """The code of the last refused or failed bundle refresh; None after a success."""
        return self._bundle_error

    def refresh_bundle(self, now: datetime) -> bool:
        """Fetch the signed bundle and adopt it if acceptable; else False and ``bundle_error``."""
        with self._bundle_lock:
            return self._refresh_bundle(now)

    def _refresh_bundle(self, now: datetime) -> bool:
        if self._fetcher is None or self._bundle_url is None:
            return self._bundle_failed(now, "trust_bundle_offline")
        try:
            fetched = self._fetcher.get(
                self._bundle_url, accept=BUNDLE_MEDIA_TYPES, max_age=timedelta(0)
            )
            bundle = open_bundle_jwt(fetched.body.decode("ascii"), now=now)
            store = TrustStore.from_bundle(bundle)
        except DuoError as error:
            return self._bundle_failed(now, error.code)
        except UnicodeDecodeError:
            return self._bundle_failed(now, "trust_bundle_malformed")
        with self._lock:
            current, generated = self._store, _generated(bundle)
        if _anchors(store) != _anchors(current):
            return self._bundle_failed(now, "trust_bundle_anchors_changed")
        if set(store.issuer_jwks) != set(current.issuer_jwks):
            return self._bundle_failed(now, "trust_bundle_issuer_changed")
        if generated and self._generated and generated < self._generated:
            return self._bundle_failed(now, "trust_bundle_rollback")
        with self._lock:
            self._store, self._generated = store, generated or self._generated
            self._bundle_error, self._bundle_due = None, now + BUNDLE_REFRESH
        self._merge_snapshots(store, now)
        return True

    def _bundle_failed(self, now: datetime, code: str) -> bool:
        with self._lock:
            self._bundle_error, self._bundle_due = code, now + BUNDLE_RETRY
        return False

    def _merge_snapshots(self, store: TrustStore, now: datetime) -> None:
        """Take a bundle's snapshots where they are newer than what is cached."""
        with self._lock:
            for uri, token in store.status_lists.items():
                fresh, current = _snapshot(token, uri, now), self._lists.get(uri)
                if current is None or (fresh.iat and current.iat and fresh.iat > current.iat):
                    self._put(uri, fresh)

    # -- status lists ---------------------------------------------------------------------------

    def status_source(self) -> StatusSource:
        """A StatusSource over the cached lists (refreshing them after their ttl)."""
        return self._serve

    def status_age(self, uri: str) -> timedelta | None:
        """How old the cached list for ``uri`` is (from its ``iat``, else its fetch), or None."""
        with self._lock:
            entry = self._lists.get(uri)
        if entry is None:
            return None
        return max(timedelta(0), self._clock() - (entry.iat or entry.obtained))

    def _serve(self, uri: str) -> FetchedList:
        now = self._clock()
        with self._lock:
            entry = self._lists.get(uri)
        if self._due(uri, entry, now):
            entry = self._refresh_list(uri, entry, now)
        if entry is None or not entry.usable(now):
            raise VerificationIncomplete("status_list_unavailable", "no current status list")
        return FetchedList(entry.token, entry.content_type)

    def _due(self, uri: str, entry: _Cached | None, now: datetime) -> bool:
        if self._fetcher is None:
            return False
        with self._lock:
            retry = self._retry.get(uri)
        if retry is not None and now < retry:
            return False
        return entry is None or now >= entry.refresh_at

    def _refresh_list(self, uri: str, entry: _Cached | None, now: datetime) -> _Cached | None:
        """One thread fetches; the others serve a usable cached list or wait for the fetch."""
        with self._lock:
            lock = self._list_locks.get(uri) or threading.Lock()
            if len(self._list_locks) < MAX_LISTS:
                lock = self._list_locks.setdefault(uri, lock)
        if not lock.acquire(blocking=entry is None or not entry.usable(now)):
            return entry
        try:
            with self._lock:
                current = self._lists.get(uri)
            if current is not entry or not self._due(uri, current, now):
                return current  # another thread refreshed it, or has just failed to
            fresh = self._fetch_list(uri, current, now)
            with self._lock:
                if fresh is None:
                    if len(self._retry) >= MAX_LISTS:
                        self._retry.clear()
                    self._retry[uri] = now + LIST_RETRY
                    return current
                self._retry.pop(uri, None)
                self._put(uri, fresh)
            return fresh
        finally:
            lock.release()

    def _fetch_list(self, uri: str, current: _Cached | None, now: datetime) -> _Cached | None:
        if self._fetcher is None:
            return None
        accept = current.accept if current else TSL_MEDIA_TYPES | BSL_MEDIA_TYPES
        try:
            fetched = self._fetcher.get(uri, accept=accept, max_age=timedelta(0))
            text = fetched.body.decode("ascii")
            fresh = _read_list(text, uri, fetched.content_type, fetched.fetched_at, now)
        except (VerificationIncomplete, ValueError):  # UnicodeDecodeError is a ValueError
            return None
        if not fresh.usable(now):
            return None
        if current and current.iat and (fresh.iat is None or fresh.iat < current.iat):
            return None  # never go back to an older list
        return fresh

    def _put(self, uri: str, entry: _Cached) -> None:
        """Cache ``entry`` (the caller holds the lock); at most MAX_LISTS lists are kept."""
        if uri in self._lists or len(self._lists) < MAX_LISTS:
            self._lists[uri] = entry
