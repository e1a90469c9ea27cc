"""Discovery for the holder: OpenID4VCI 1.0 §12.2 issuer metadata and RFC 8414 AS metadata.

The well-known path is inserted between host and path (§12.2.2; RFC 8414 §3.1). The document's
own identifier must equal the one used for the fetch, by simple string comparison, or the data
is not used (§12.2.4 ``credential_issuer``; RFC 8414 §3.3 ``issuer``). Unknown parameters are
ignored, as the wallet MUST (§12.2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from verifier.errors import ProtocolError
from verifier.holder.transport import HttpSession, check_url, raise_for_error, send

ISSUER_WELL_KNOWN = "/.well-known/openid-credential-issuer"
AS_WELL_KNOWN = "/.well-known/oauth-authorization-server"


def well_known_url(identifier: str, suffix: str) -> str:
    """``https://host/.well-known/x/path`` for the identifier ``https://host/path``."""
    parts = urlsplit(check_url(identifier))
    if parts.query or parts.fragment:
        raise ProtocolError("metadata_invalid", "an identifier has a query or fragment")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, suffix + path, "", ""))


def _optional_url(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    return None if value is None else check_url(value)


def _fetch(http: HttpSession, url: str) -> dict[str, Any]:
    reply = send(http, "GET", url, headers={"Accept": "application/json"})
    raise_for_error(reply)
    if reply.status != 200:
        raise ProtocolError("metadata_invalid", "metadata was not answered with 200")
    return reply.json_object()


@dataclass(frozen=True)
class IssuerMetadata:
    """The parts of §12.2.4 the holder uses; ``document`` keeps the whole."""

    issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    deferred_credential_endpoint: str | None
    notification_endpoint: str | None
    authorization_servers: tuple[str, ...]
    batch_size: int  # 1 without batch_credential_issuance
    document: dict[str, Any]

    def configuration(self, configuration_id: str) -> dict[str, Any]:
        found = self.document["credential_configurations_supported"].get(configuration_id)
        if not isinstance(found, dict):
            raise ProtocolError("metadata_invalid", "an offered configuration is not in metadata")
        return found

    def encryption(self, name: str) -> dict[str, Any] | None:
        """``credential_request_encryption`` or ``credential_response_encryption`` (§12.2.4)."""
        value = self.document.get(name)
        return value if isinstance(value, dict) else None


def fetch_issuer_metadata(http: HttpSession, issuer: str) -> IssuerMetadata:
    document = _fetch(http, well_known_url(issuer, ISSUER_WELL_KNOWN))
    if document.get("credential_issuer") != issuer:
        # §12.2.4: not identical to the identifier fetched -> the data MUST NOT be used.
        raise ProtocolError("metadata_invalid", "credential_issuer differs from the identifier")
    if not isinstance(document.get("credential_configurations_supported"), dict):
        raise ProtocolError("metadata_invalid", "credential_configurations_supported is missing")
    servers = document.get("authorization_servers", [issuer])
    if not isinstance(servers, list) or not servers or not all(isinstance(s, str) for s in servers):
        raise ProtocolError("metadata_invalid", "authorization_servers is not a list of strings")
    batch = document.get("batch_credential_issuance")
    size = batch.get("batch_size") if isinstance(batch, dict) else 1
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ProtocolError("metadata_invalid", "batch_size is not a positive integer")
    return IssuerMetadata(
        issuer=issuer,
        credential_endpoint=check_url(document.get("credential_endpoint")),
        nonce_endpoint=_optional_url(document, "nonce_endpoint"),
        deferred_credential_endpoint=_optional_url(document, "deferred_credential_endpoint"),
        notification_endpoint=_optional_url(document, "notification_endpoint"),
        authorization_servers=tuple(servers),
        batch_size=size,
        document=document,
    )


@dataclass(frozen=True)
class ServerMetadata:
    """The parts of RFC 8414 §2 (with RFC 9126, RFC 9449 and OpenID4VCI §12.3) the holder uses."""

    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None
    pushed_authorization_request_endpoint: str | None
    dpop_algs: tuple[str, ...]
    anonymous_pre_authorized: bool
    document: dict[str, Any]


def fetch_server_metadata(http: HttpSession, server: str) -> ServerMetadata:
    document = _fetch(http, well_known_url(server, AS_WELL_KNOWN))
    if document.get("issuer") != server:
        # RFC 8414 §3.3: the issuer MUST be identical to the one the URL was built from.
        raise ProtocolError("metadata_invalid", "the AS issuer differs from its identifier")
    algs = document.get("dpop_signing_alg_values_supported", [])
    if not isinstance(algs, list):
        raise ProtocolError("metadata_invalid", "dpop_signing_alg_values_supported is not a list")
    return ServerMetadata(
        issuer=server,
        token_endpoint=check_url(document.get("token_endpoint")),
        authorization_endpoint=_optional_url(document, "authorization_endpoint"),
        pushed_authorization_request_endpoint=_optional_url(
            document, "pushed_authorization_request_endpoint"
        ),
        dpop_algs=tuple(a for a in algs if isinstance(a, str)),
        # OpenID4VCI §12.3: the default is false.
        anonymous_pre_authorized=document.get("pre-authorized_grant_anonymous_access_supported")
        is True,
        document=document,
    )


def choose_server(metadata: IssuerMetadata, hint: str | None) -> str:
    """The AS to use: the offer's ``authorization_server`` hint must be one of the list (§4.1.1,
    §12.2.4); without a hint, the first."""
    if hint is None:
        return metadata.authorization_servers[0]
    if hint not in metadata.authorization_servers:
        raise ProtocolError("metadata_invalid", "the offer names an unknown authorization server")
    return hint
