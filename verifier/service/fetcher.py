"""The verifier's one HTTP fetcher for status lists, type metadata and trust bundles.

SPECS SDV-6 (SD-JWT VC §3/§7.1) and TSL-4 (Token Status List -20 §8.1/§8.2):
- https only; plain http only for a host in ``allow_hosts`` (``host`` or ``host:port``);
- the host is resolved once and every address must be global unicast (not private, loopback,
  link-local, multicast, reserved, unspecified or shared, nor carry such an IPv4 address as
  IPv4-mapped, 6to4, Teredo or NAT64) unless ``host[:port]`` is allowlisted; the request goes to
  that checked address with the name as Host header and, via ``PinnedAdapter``, as the TLS name
  the certificate must match: a second DNS answer cannot steer it (DNS rebinding);
- redirects by hand: at most ``max_redirects``, each target checked like the first URL, never
  from https to http, a URL seen before is a loop;
- ``connect_timeout`` per connection, ``total_timeout`` for the whole fetch (redirects, headers,
  streamed body: every socket read waits at most the time left);
- at most ``max_bytes`` of decoded body (by Content-Length, else cut while streaming); only a 200
  answer's body is read, and only when its media type is in the caller's ``accept``;
- a cache by URL and accept set (at most ``cache_entries``): reused while younger than the
  caller's ``max_age``, else the answer's Cache-Control ``max-age`` (``no-store``/``no-cache``:
  never). TSL §8.2: ``ttl``/``exp`` win over HTTP caching; the trust source passes ``max_age=0``.

Limits: an injected session needs ``PinnedAdapter`` for https, or https fails the certificate
check (``new_session`` mounts it, and ignores proxy variables and cookies). Errors are
``VerificationIncomplete`` (the verifier could not obtain what it needed).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from verifier.errors import VerificationIncomplete
from verifier.service.config import VerifierSettings

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

Clock = Callable[[], datetime]
#: (host, port) -> the addresses the host resolves to, as text; raises OSError if it does not.
Resolver = Callable[[str, int], Sequence[str]]
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PORTS = {"http": 80, "https": 443}
_CHUNK = 16 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Fetched:
    """A 200 answer: its body, media type (lower case, no parameters) and when it was fetched."""

    body: bytes
    content_type: str
    fetched_at: datetime


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 3.0
    total_timeout: float = 10.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3
    cache_entries: int = 64


#: A cached answer and the max-age its Cache-Control allows (None: not reusable by itself).
_Cached = tuple[Fetched, timedelta | None]
_NOT_PUBLIC = (
    "is_private",
    "is_loopback",
    "is_link_local",
    "is_multicast",
    "is_reserved",
    "is_unspecified",
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver (``socket.getaddrinfo``)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class PinnedAdapter(HTTPAdapter):
    """Connects to the address in the URL while TLS checks the name in the Host header."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        name = request.headers.get("Host")
        if name and host_params["scheme"] == "https":
            server = name.partition(":")[0]  # the fetcher sets a DNS name here, never an IP
            tls = cast(dict[str, Any], pool_kwargs)  # urllib3 takes these TLS keywords too
            tls["server_hostname"] = server
            tls["assert_hostname"] = server
        return host_params, pool_kwargs


def new_session() -> requests.Session:
    """A session for the fetcher: PinnedAdapter, no proxies from the environment, no cookies."""
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = PinnedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _allow_entry(entry: str) -> tuple[str, int | None]:
    parts = urlsplit("//" + entry.strip())
    if not parts.hostname or parts.path or parts.query or parts.username is not None:
        raise ValueError("an allowed host is host or host:port")
    return parts.hostname, parts.port


def _embedded(ip: _IP) -> list[_IP]:
    """``ip`` and every IPv4 address it carries (mapped, 6to4, Teredo, NAT64)."""
    found: list[_IP] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        found += [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
        found += list(ip.teredo or ())
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public_address(text: str) -> bool:
    """Whether ``text`` is a global unicast address a verifier may reach without an allowlist."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    # is_global alone passes some multicast, 6to4 and NAT64 addresses.
    embedded = _embedded(ip)
    return all(a.is_global and not any(getattr(a, f) for f in _NOT_PUBLIC) for a in embedded)


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _cache_max_age(header: str | None) -> timedelta | None:
    """RFC 9111 §5.2.2.1 ``max-age``; ``no-store``/``no-cache`` or none: not reusable."""
    found: timedelta | None = None
    for directive in (header or "").lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in {"no-store", "no-cache"}:
            return None
        if name == "max-age" and value.strip('"').isdigit():
            found = timedelta(seconds=int(value.strip('"')))
    return found


@dataclass(frozen=True)
class _Target:
    url: str  # the URL to request, host replaced by the checked address
    host: str | None  # the Host header when the host was a name


class Fetcher:
    """GET with the checks of the module docstring; thread-safe (the cache is locked)."""

    def __init__(
        self,
        *,
        allow_hosts: Iterable[str] = (),
        session: requests.Session | None = None,
        clock: Clock = _utc_now,
        limits: FetchLimits | None = None,
        resolve: Resolver = system_resolver,
    ) -> None:
        self._allow = frozenset(_allow_entry(h) for h in allow_hosts)
        self._own_session = session is None
        self._session = session if session is not None else new_session()
        self._clock = clock
        self._limits = limits or FetchLimits()
        self._resolve = resolve
        self._cache: OrderedDict[tuple[str, frozenset[str]], _Cached] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: VerifierSettings, *, clock: Clock = _utc_now, **options: Any
    ) -> Fetcher:
        return cls(allow_hosts=settings.allow_hosts, clock=clock, **options)

    def close(self) -> None:
        """Close the session if the fetcher made it."""
        if self._own_session:
            self._session.close()

    def get(
        self, url: str, *, accept: Collection[str], max_age: timedelta | None = None
    ) -> Fetched:
        """The body at ``url`` if its media type is in ``accept``; a cached copy when fresh."""
        wanted = frozenset(_media_type(a) for a in accept)
        key = (url, wanted)
        with self._lock:
            fetched, own_age = self._cache.get(key) or (None, None)
            limit = own_age if max_age is None else max_age
            if fetched and limit is not None and self._clock() - fetched.fetched_at < limit:
                self._cache.move_to_end(key)
                return fetched
        entry = self._fetch(url, wanted)
        with self._lock:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > self._limits.cache_entries:
                self._cache.popitem(last=False)
        return entry[0]

    def _fetch(self, url: str, wanted: frozenset[str]) -> _Cached:
        deadline = time.monotonic() + self._limits.total_timeout
        current, _ = urldefrag(url)
        seen: set[str] = set()
        for _hop in range(self._limits.max_redirects + 1):
            seen.add(current)
            with self._send(current, wanted, deadline) as response:
                if response.status_code not in REDIRECTS:
                    return self._accept(response, wanted, deadline)
                current = self._next_hop(current, response.headers.get("Location"), seen)
        raise VerificationIncomplete("fetch_redirects", "too many redirects")

    def _next_hop(self, current: str, location: str | None, seen: set[str]) -> str:
        if not location:
            raise VerificationIncomplete("fetch_failed", "a redirect without a location")
        target, _ = urldefrag(urljoin(current, location.strip()))
        if urlsplit(current).scheme == "https" and urlsplit(target).scheme != "https":
            raise VerificationIncomplete("fetch_refused", "a redirect may not leave https")
        if target in seen:
            raise VerificationIncomplete("fetch_redirects", "the redirects form a loop")
        return target

    def _send(self, url: str, wanted: frozenset[str], deadline: float) -> requests.Response:
        target = self._check(url)
        left = deadline - time.monotonic()
        if left <= 0:
            raise VerificationIncomplete("fetch_timeout", "the fetch took too long")
        headers = {"Accept": ", ".join(sorted(wanted))}
        if target.host is not None:
            headers["Host"] = target.host
        timeout = (min(self._limits.connect_timeout, left), left)
        try:
            return self._session.get(
                target.url, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            )
        except requests.Timeout:
            raise VerificationIncomplete("fetch_timeout", "the server did not answer") from None
        except requests.RequestException:
            raise VerificationIncomplete("fetch_failed", "the server cannot be reached") from None

    def _check(self, url: str) -> _Target:
        """SPECS SDV-6: scheme, host and every resolved address, before any connection."""
        try:
            parts = urlsplit(url)
            host, explicit_port = parts.hostname, parts.port
        except ValueError:
            raise VerificationIncomplete("fetch_refused", "the URL cannot be parsed") from None
        if parts.scheme not in _PORTS or not host or not host.isascii() or "@" in parts.netloc:
            raise VerificationIncomplete("fetch_refused", "only http(s) URLs with a host")
        port = explicit_port or _PORTS[parts.scheme]
        allowed = (host, None) in self._allow or (host, port) in self._allow
        if parts.scheme != "https" and not allowed:
            raise VerificationIncomplete("fetch_refused", "plain http is for allowed hosts")
        address = self._address(host, port, allowed)
        if host == address or ":" in host:  # an IP literal: nothing to pin, no name to check
            return _Target(url, None)
        netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return _Target(pinned, host if explicit_port is None else f"{host}:{explicit_port}")

    def _address(self, host: str, port: int, allowed: bool) -> str:
        try:
            addresses = list(self._resolve(host, port))
        except (OSError, UnicodeError, ValueError):
            raise VerificationIncomplete("fetch_failed", "the host does not resolve") from None
        if not addresses:
            raise VerificationIncomplete("fetch_failed", "the host does not resolve")
        if not allowed and not all(is_public_address(a) for a in addresses):
            raise VerificationIncomplete("fetch_refused", "the host is not a public address")
        return addresses[0]

    def _accept(
        self, response: requests.Response, wanted: frozenset[str], deadline: float
    ) -> _Cached:
        if response.status_code != 200:
            # SPECS SDV-6: the body of a 4xx/5xx (or any other answer) is never read.
            raise VerificationIncomplete("fetch_failed", "the server answered with an error")
        media_type = _media_type(response.headers.get("Content-Type", ""))
        if media_type not in wanted:
            raise VerificationIncomplete("fetch_content_type", "unexpected media type")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._limits.max_bytes:
            raise VerificationIncomplete("fetch_too_large", "the body is too large")
        body = self._read(response, deadline)
        fetched = Fetched(body, media_type, self._clock())
        return fetched, _cache_max_age(response.headers.get("Cache-Control"))

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := self._read_chunk(response, deadline):
                size += len(chunk)
                if size > self._limits.max_bytes:
                    raise VerificationIncomplete("fetch_too_large", "the body is too large")
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            if _timed_out(error):
                raise VerificationIncomplete("fetch_timeout", "the body came too slowly") from None
            raise VerificationIncomplete("fetch_failed", "the body cannot be read") from None
        return b"".join(chunks)

    @staticmethod
    def _read_chunk(response: requests.Response, deadline: float) -> bytes:
        """One read of what has arrived, waiting no longer than the time left."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise VerificationIncomplete("fetch_timeout", "the body came too slowly")
        raw = response.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(left)
        data: bytes = raw.read1(_CHUNK, decode_content=True)
        return data


def _timed_out(error: BaseException) -> bool:
    timeouts = (requests.Timeout, urllib3.exceptions.TimeoutError, socket.timeout)
    return isinstance(error, timeouts) or any(isinstance(a, timeouts) for a in error.args)
