"""Pushed authorization requests: RFC 9126 §2.1, with OpenID4VCI 1.0 §5.1 and HAIP 1.0 §4.

``parse_par`` turns the form body of ``POST /par`` into an ``AuthorizationRequest``:

- ``response_type=code``, ``client_id``, ``redirect_uri`` (absolute, no fragment, RFC 6749
  §3.1.2; plain http only on loopback) and PKCE S256 (RFC 7636, SPECS §8 item 10);
- what is requested: ``scope`` values of our configurations (unknown scopes are ignored, VCI-17,
  item 14) and/or ``authorization_details`` of type ``openid_credential`` naming a known
  ``credential_configuration_id`` (§5.1.1, RFC 9396 §5, item 13). ``locations`` is needed only
  when ``authorization_servers`` is advertised, which DUO does not do; when sent, it must name
  the issuer. The ``claims`` member is not honoured: the whole record is issued, and the holder
  discloses selectively when presenting;
- ``state``, ``issuer_state`` (kept, never trusted: §5.1.3), ``dpop_jkt`` (RFC 9449 §10).

Unknown parameters are ignored (RFC 6749 §3.1); a known parameter sent twice, ``request_uri``
(RFC 9126 §2.1) and request objects are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from issuer.oid4vci.configurations import CONFIGURATIONS, SCOPES
from issuer.oid4vci.pkce import check_code_challenge
from verifier import strict_json
from verifier.errors import InvalidCredential, ProtocolError

AUTHORIZATION_DETAILS_TYPE = "openid_credential"
KNOWN_PARAMETERS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "authorization_details", "issuer_state", "dpop_jkt",
    "request_uri", "request",
)
#: The longest value kept per parameter (characters); the columns and body cap bound the rest.
MAX_CHARS = {"client_id": 200, "redirect_uri": 2000, "authorization_details": 16384}
DEFAULT_MAX_CHARS = 2048
MAX_DETAILS = 20
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_NEVER_REDIRECT = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})
_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]+$")
_THUMBPRINT = re.compile(r"^[A-Za-z0-9_-]{43}$")


class FormLike(Protocol):
    """A form body (werkzeug's MultiDict fits): every value of a parameter."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated pushed authorization request."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    issuer_state: str | None
    dpop_jkt: str | None
    #: configurations requested by authorization_details, then by scope (no duplicates).
    configuration_ids: tuple[str, ...]
    #: normalized openid_credential entries: type, credential_configuration_id (, locations).
    authorization_details: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        found = asdict(self)
        found["configuration_ids"] = list(self.configuration_ids)
        found["authorization_details"] = [dict(d) for d in self.authorization_details]
        return found

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> AuthorizationRequest:
        values = dict(stored)
        values["configuration_ids"] = tuple(values["configuration_ids"])
        values["authorization_details"] = tuple(dict(d) for d in values["authorization_details"])
        return cls(**values)


def _single(form: FormLike) -> dict[str, str]:
    """The known parameters, each at most once (RFC 6749 §3.1) and of bounded length."""
    found: dict[str, str] = {}
    for name in KNOWN_PARAMETERS:
        values = form.getlist(name)
        if len(values) > 1:
            raise ProtocolError("invalid_request", "a parameter was sent more than once")
        if values and values[0] != "":
            if len(values[0]) > MAX_CHARS.get(name, DEFAULT_MAX_CHARS):
                raise ProtocolError("invalid_request", "a parameter value is too long")
            found[name] = values[0]
    return found


def check_redirect_uri(uri: str | None) -> str:
    """RFC 6749 §3.1.2: an absolute URI without fragment; http only for a loopback host."""
    if uri is None or not _VISIBLE_ASCII.fullmatch(uri):
        raise ProtocolError("invalid_request", "redirect_uri is missing or malformed")
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        raise ProtocolError("invalid_request", "redirect_uri is malformed") from None
    scheme = parts.scheme.lower()
    if not scheme or "#" in uri or scheme in _NEVER_REDIRECT or uri == f"{parts.scheme}:":
        raise ProtocolError("invalid_request", "redirect_uri is not an acceptable absolute URI")
    if scheme in {"http", "https"} and not host:
        raise ProtocolError("invalid_request", "redirect_uri has no host")
    if scheme == "http" and host not in _LOOPBACK:
        raise ProtocolError("invalid_request", "redirect_uri must not use plain http")
    return uri


def _scope_configurations(scope: str | None) -> list[str]:
    """OpenID4VCI §5.1.2: each scope on its own; unknown ones are ignored (VCI-17)."""
    return [SCOPES[s].id for s in (scope or "").split(" ") if s in SCOPES]


def _details_entry(entry: Any, issuer: str) -> dict[str, Any]:
    """One RFC 9396 entry of type openid_credential (OpenID4VCI §5.1.1)."""
    if not isinstance(entry, dict) or entry.get("type") != AUTHORIZATION_DETAILS_TYPE:
        raise ProtocolError("invalid_authorization_details", "unknown authorization_details type")
    configuration_id = entry.get("credential_configuration_id")
    if not isinstance(configuration_id, str) or configuration_id not in CONFIGURATIONS:
        raise ProtocolError(
            "invalid_authorization_details", "unknown or missing credential_configuration_id"
        )
    found: dict[str, Any] = {"type": AUTHORIZATION_DETAILS_TYPE,
                             "credential_configuration_id": configuration_id}
    if "locations" in entry:
        locations = entry["locations"]
        # §5.1.1: locations names the credential issuer (needed only with authorization_servers).
        if not isinstance(locations, list) or issuer not in locations:
            raise ProtocolError("invalid_authorization_details", "locations must name the issuer")
        found["locations"] = [issuer]
    return found


def parse_authorization_details(text: str | None, issuer: str) -> list[dict[str, Any]]:
    """The openid_credential entries of ``authorization_details``, one per configuration."""
    if text is None:
        return []
    try:
        entries = strict_json.loads(text)
    except InvalidCredential:
        raise ProtocolError(
            "invalid_authorization_details", "authorization_details is not valid JSON"
        ) from None
    if not isinstance(entries, list) or not entries or len(entries) > MAX_DETAILS:
        raise ProtocolError(
            "invalid_authorization_details", "authorization_details must be a non-empty array"
        )
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        parsed = _details_entry(entry, issuer)
        found.setdefault(parsed["credential_configuration_id"], parsed)
    return list(found.values())


def _unique(ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def parse_par(form: FormLike, *, issuer: str) -> AuthorizationRequest:
    """Validate a pushed authorization request (RFC 9126 §2.1); raise ProtocolError."""
    values = _single(form)
    if "request_uri" in values:  # RFC 9126 §2.1: MUST NOT be provided here
        raise ProtocolError("invalid_request", "request_uri is not allowed in a pushed request")
    if "request" in values:
        raise ProtocolError("invalid_request", "request objects are not supported")
    if "response_type" not in values:
        raise ProtocolError("invalid_request", "response_type is required")
    if values["response_type"] != "code":
        raise ProtocolError("unsupported_response_type", "only response_type code is supported")
    client_id = values.get("client_id")
    if client_id is None or not _VISIBLE_ASCII.fullmatch(client_id):
        raise ProtocolError("invalid_request", "client_id is missing or malformed")
    redirect_uri = check_redirect_uri(values.get("redirect_uri"))
    challenge = check_code_challenge(
        values.get("code_challenge"), values.get("code_challenge_method")
    )
    dpop_jkt = values.get("dpop_jkt")
    if dpop_jkt is not None and not _THUMBPRINT.fullmatch(dpop_jkt):
        raise ProtocolError("invalid_request", "dpop_jkt is not a SHA-256 JWK thumbprint")
    details = parse_authorization_details(values.get("authorization_details"), issuer)
    # VCI-17: a configuration requested both ways is governed by its authorization_details entry.
    ids = _unique([d["credential_configuration_id"] for d in details]
                  + _scope_configurations(values.get("scope")))
    if not ids:
        raise ProtocolError("invalid_scope", "no known scope or authorization_details requested")
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        state=values.get("state"),
        issuer_state=values.get("issuer_state"),
        dpop_jkt=dpop_jkt,
        configuration_ids=ids,
        authorization_details=tuple(details),
    )
