"""HTTP for the reference holder: loopback only, bounded bodies, no redirects, strict JSON.

RFC 9110 requests through an injected session (``requests.Session`` satisfies ``HttpSession``).
Every URL is checked before use: http or https on a loopback host only (the holder is a wallet
for tests and the demo, see the package docstring). Redirects are never followed implicitly;
callers that expect one (the authorization endpoint) read ``Reply.location``. Error answers of
the issuer (RFC 6749 §5.2, RFC 6750 §3, OpenID4VCI 1.0 §8.3.1) become ``IssuerError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError

MAX_BODY_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 30.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class HttpResponse(Protocol):
    status_code: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    def iter_content(self, chunk_size: int) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class HttpSession(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = True,
        stream: bool | None = None,
    ) -> HttpResponse: ...


class IssuerError(ProtocolError):
    """The server answered with an OAuth / OpenID4VCI error; ``error`` is its ``error`` value."""

    def __init__(self, *, status: int, error: str, headers: Mapping[str, str]) -> None:
        super().__init__("issuer_error", "the server answered with an error", status=status)
        #: the server's ``error`` code (e.g. ``invalid_grant``), or ``unknown`` if it sent none.
        self.error = error
        #: the response headers, names in lower case
        self.response_headers = dict(headers)


@dataclass(frozen=True)
class Reply:
    status: int
    #: header names in lower case (HTTP field names are case-insensitive, RFC 9110 §5.1)
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def location(self) -> str | None:
        return self.header("Location")

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (strict parse); anything else is ``response_malformed``."""
        if self.content_type != "application/json":
            raise ProtocolError("response_malformed", "the response is not application/json")
        return _object(self.body)


def _object(body: bytes) -> dict[str, Any]:
    try:
        value = strict_json.loads(body, max_depth=64)
    except DuoError:
        raise ProtocolError("response_malformed", "the response is not valid JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError("response_malformed", "the response is not a JSON object")
    return value


def check_url(url: Any) -> str:
    """``url`` if it is http(s) on a loopback host with no fragment; else ``url_refused``."""
    if not isinstance(url, str):
        raise ProtocolError("url_refused", "a URL is missing or not a string")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ProtocolError("url_refused", "a URL cannot be parsed") from None
    if parts.scheme not in {"http", "https"} or parts.fragment or host not in LOOPBACK_HOSTS:
        raise ProtocolError("url_refused", "the reference holder talks to loopback hosts only")
    return url


def _read(response: HttpResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProtocolError("response_too_large", "the response body exceeds the limit")
        chunks.append(chunk)
    return b"".join(chunks)


def send(
    http: HttpSession,
    method: str,
    url: str,
    *,
    data: bytes | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One request to a loopback URL; network failures are ``transport_failed``."""
    check_url(url)
    try:
        response = http.request(
            method,
            url,
            data=data,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        )
        try:
            headers = {name.lower(): value for name, value in response.headers.items()}
            return Reply(response.status_code, headers, _read(response))
        finally:
            response.close()
    except OSError:  # requests.RequestException is an OSError
        raise ProtocolError("transport_failed", "the server could not be reached") from None


def raise_for_error(reply: Reply) -> None:
    """Raise ``IssuerError`` for a 4xx/5xx answer, with the ``error`` of its JSON body if any."""
    if reply.status < 400:
        return
    error = "unknown"
    try:
        found = _object(reply.body).get("error")
        if isinstance(found, str):
            error = found
    except ProtocolError:
        pass
    raise IssuerError(status=reply.status, error=error, headers=reply.headers)
