"""The token response as a wallet reads it: RFC 6749 §5.1 with OpenID4VCI 1.0 §6.2.

``authorization_details`` of type ``openid_credential`` carry ``credential_identifiers`` (REQUIRED,
non-empty) per ``credential_configuration_id``; when the response has them, credential requests
use those identifiers (§8.2). Unknown parameters and unknown detail fields are ignored (§6.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifier.errors import ProtocolError
from verifier.holder.transport import Reply


@dataclass(frozen=True, repr=False)
class AccessToken:
    value: str
    token_type: str  # "Bearer" (RFC 6750) or "DPoP" (RFC 9449 §5)
    #: True when the response carried authorization_details (§6.2)
    authorization_details: bool = False
    #: credential_configuration_id -> its credential_identifiers
    identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def sender_constrained(self) -> bool:
        """A DPoP-bound token (RFC 9449 §5): presented with a proof carrying ``ath``."""
        return self.token_type == "DPoP"  # noqa: S105  (a token type, not a secret)

    def __repr__(self) -> str:  # never print the token itself
        return f"AccessToken({self.token_type}, identifiers={self.identifiers})"


def _identifiers(details: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(details, list) or not details:
        raise ProtocolError("response_malformed", "authorization_details is not a non-empty list")
    found: dict[str, tuple[str, ...]] = {}
    for detail in details:
        if not isinstance(detail, dict) or detail.get("type") != "openid_credential":
            continue
        configuration, ids = (
            detail.get("credential_configuration_id"),
            detail.get("credential_identifiers"),
        )
        if not isinstance(configuration, str) or not isinstance(ids, list) or not ids:
            raise ProtocolError("response_malformed", "credential_identifiers are missing")
        if not all(isinstance(i, str) and i for i in ids):
            raise ProtocolError("response_malformed", "a credential identifier is not a string")
        found[configuration] = found.get(configuration, ()) + tuple(ids)
    return found


def parse_token_response(reply: Reply) -> AccessToken:
    """A 200 JSON token response; ``token_type`` is compared case-insensitively (§7.1)."""
    if reply.status != 200:
        raise ProtocolError("response_malformed", "the token response is not 200")
    body = reply.json_object()
    value, kind = body.get("access_token"), body.get("token_type")
    if not isinstance(value, str) or not value or not isinstance(kind, str):
        raise ProtocolError("response_malformed", "the token response has no access token")
    token_type = {"bearer": "Bearer", "dpop": "DPoP"}.get(kind.lower())
    if token_type is None:
        raise ProtocolError("response_malformed", "the token type is not Bearer or DPoP")
    if "authorization_details" not in body:
        return AccessToken(value, token_type)
    return AccessToken(value, token_type, True, _identifiers(body["authorization_details"]))
