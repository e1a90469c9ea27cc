"""Where the wallet sends the browser after a same-device response (OpenID4VP 1.0 §8.2, §13.3).

The response_uri answers the wallet with a ``redirect_uri`` carrying a fresh ``response_code``.
Its target depends on who started the transaction:

- the verifier's pages: the result page ``/presentations/<id>``, which shows the verdict to the
  session that started it once the code is presented (stored as NULL);
- an integrator through the API with its own ``redirect_uri``: that URL with ``response_code``
  added to its query, so the integrator learns that the redirect arrived in this browser and
  reads the verdict with its result token (``GET /api/presentations/<id>``);
- an integrator without one: the neutral page ``/presentations/<id>/done`` ("you can return to
  the application"), which shows no verdict.

An integrator's ``redirect_uri`` is an absolute https URL, or http on a loopback host (RFC 8252
§7.3), without user info or fragment (RFC 6749 §3.1.2) and without a ``response_code`` of its own.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from verifier.errors import ProtocolError

MAX_REDIRECT_URI = 2000


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str) -> None:
    """Refuse (400 ``invalid_request``) a ``redirect_uri`` the wallet must not be sent to."""
    refused = ProtocolError("invalid_request", "redirect_uri must be https, or http on loopback")
    if not (0 < len(uri) <= MAX_REDIRECT_URI and uri.isascii() and uri.isprintable()):
        raise refused
    if " " in uri or "#" in uri:  # RFC 6749 §3.1.2: no fragment
        raise refused
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise refused from None
    host = parts.hostname or ""
    if not host or "@" in parts.netloc or "response_code" in parse_qs(parts.query):
        raise refused
    if not (parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))):
        raise refused


def done_page(public_url: str, transaction_id: str) -> str:
    """The neutral page an API transaction without ``redirect_uri`` returns the browser to."""
    return f"{public_url}/presentations/{transaction_id}/done"


def target(public_url: str, transaction_id: str, stored: str | None, code: str) -> str:
    """The redirect_uri for the wallet: the stored target (or the result page) + response_code."""
    parts = urlsplit(stored or f"{public_url}/presentations/{transaction_id}")
    added = urlencode({"response_code": code})
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
