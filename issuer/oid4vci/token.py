"""The Token Request and Response: OpenID4VCI 1.0 §6 on RFC 6749 §4.1.3, §5; RFC 9396 §6.

Grants: ``urn:ietf:params:oauth:grant-type:pre-authorized_code`` (§6.1; redeemed by
issuer.db.offers, SPECS §8 items 1-6; anonymous access allowed) and ``authorization_code``
(RFC 6749 §4.1.3 with PKCE, redeemed by issuer.oid4vci.authorization_code; ``tx_code`` there is
``invalid_request``, item 8). With ``authorization_details`` (in the token request, or in the
authorization request of the code) the response returns them with ``credential_identifiers``,
one per record of the grant (§6.2, VCI-18). Access tokens are opaque (issuer.db.tokens); one that
is not DPoP-bound lives at most five minutes (§13.10, VCI-19).

Everything that can fail for a reason other than the code is checked before the code is
redeemed, and the caller rolls the transaction back on any error, so such a failure never burns a
pre-authorized code (issue 3).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from issuer.config import Settings
from issuer.db import offers, registry, tokens
from issuer.db.tokens import CredentialDataset, GrantLike
from issuer.oid4vci import authorization_code
from issuer.oid4vci.configurations import CONFIGURATIONS
from verifier import strict_json
from verifier.errors import InvalidCredential, ProtocolError

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
DETAILS_TYPE = "openid_credential"
#: §13.10 (VCI-19): a token that is not sender-constrained is valid at most this long.
UNBOUND_MAX_LIFETIME = timedelta(minutes=5)
MAX_DETAILS = 16
IDENTIFIER_BYTES = 12


def _invalid_request(detail: str) -> ProtocolError:
    return ProtocolError("invalid_request", detail)


def form_parameters(items: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
    """RFC 6749 §3.2: parameters sent more than once are an error; empty ones count as absent."""
    found: dict[str, str] = {}
    for name, values in items:
        if len(values) != 1:
            raise _invalid_request("a parameter is repeated")
        if values[0] != "":
            found[name] = values[0]
    return found


def _details_entry(entry: Any, issuer: str) -> str:
    """One RFC 9396 entry of type openid_credential (§5.1.1); its configuration id (item 13)."""
    if not isinstance(entry, dict) or entry.get("type") != DETAILS_TYPE:
        raise ProtocolError("invalid_authorization_details", "entry is not openid_credential")
    configuration_id = entry.get("credential_configuration_id")
    if not isinstance(configuration_id, str) or configuration_id not in CONFIGURATIONS:
        raise ProtocolError("invalid_authorization_details", "configuration is unknown")
    locations = entry.get("locations")
    if locations is not None and (not isinstance(locations, list) or issuer not in locations):
        raise ProtocolError("invalid_authorization_details", "locations must name this issuer")
    return configuration_id


def parse_authorization_details(text: str | None, *, issuer: str) -> list[str] | None:
    """The configuration ids of an ``authorization_details`` parameter, or None when absent."""
    if text is None:
        return None
    try:
        entries = strict_json.loads(text)
    except InvalidCredential:
        raise ProtocolError("invalid_authorization_details", "not a JSON array") from None
    if not isinstance(entries, list) or not entries or len(entries) > MAX_DETAILS:
        raise ProtocolError("invalid_authorization_details", "not a non-empty JSON array")
    ids = [_details_entry(entry, issuer) for entry in entries]
    if len(set(ids)) != len(ids):
        raise ProtocolError("invalid_authorization_details", "a configuration is repeated")
    return ids


def credential_identifiers(
    conn: Connection, grant: GrantLike, configuration_ids: Sequence[str]
) -> tuple[dict[str, CredentialDataset], list[dict[str, Any]]]:
    """One identifier per (configuration, record of its type) of the grant (§6.2)."""
    records = registry.records_by_id(conn, grant.record_ids)
    datasets: dict[str, CredentialDataset] = {}
    details: list[dict[str, Any]] = []
    for configuration_id in configuration_ids:
        if configuration_id not in grant.configuration_ids:
            raise ProtocolError("invalid_authorization_details", "configuration was not granted")
        type_name = CONFIGURATIONS[configuration_id].type_name
        names = []
        for record_id in grant.record_ids:
            if record_id in records and records[record_id].type == type_name:
                name = secrets.token_urlsafe(IDENTIFIER_BYTES)
                datasets[name] = CredentialDataset(configuration_id, record_id)
                names.append(name)
        if not names:  # VCI-18: credential_identifiers is never empty
            raise ProtocolError("invalid_authorization_details", "no record for a configuration")
        details.append({
            "type": DETAILS_TYPE,
            "credential_configuration_id": configuration_id,
            "credential_identifiers": names,
        })
    return datasets, details


def client_id_of(params: Mapping[str, str], attested: str | None) -> str | None:
    """The client: the attested ``sub`` (App. E), which a ``client_id`` parameter must equal."""
    given = params.get("client_id")
    if attested is not None and given is not None and given != attested:
        raise ProtocolError("invalid_client", "client_id is not the attested client", status=401)
    return attested if attested is not None else given


def _pre_authorized(
    conn: Connection, params: Mapping[str, str], settings: Settings, now: datetime
) -> GrantLike:
    code = params.get("pre-authorized_code")
    if code is None:  # §6.1: required with this grant type (VCI-21)
        raise _invalid_request("pre-authorized_code is missing")
    return offers.redeem_pre_authorized_code(
        conn, code, params.get("tx_code"), now=now, max_failures=settings.tx_code_tries
    )


def _authorization_code(
    conn: Connection,
    params: Mapping[str, str],
    *,
    client_id: str | None,
    dpop_jkt: str | None,
    now: datetime,
) -> authorization_code.Grant:
    if "tx_code" in params:  # §6.1: tx_code only with the pre-authorized grant (item 8)
        raise _invalid_request("tx_code is only used with the pre-authorized code grant")
    code = params.get("code")
    if code is None:
        raise _invalid_request("code is missing")
    if client_id is None:  # RFC 6749 §4.1.3: a public client names itself
        raise _invalid_request("client_id is missing")
    # PKCE (RFC 7636 §4.6), redirect_uri and the DPoP binding are checked by the redemption.
    return authorization_code.redeem_authorization_code(
        conn, code=code, code_verifier=params.get("code_verifier"),
        redirect_uri=params.get("redirect_uri"), client_id=client_id, dpop_jkt=dpop_jkt, now=now,
    )


def _details_of(grant: authorization_code.Grant) -> list[str] | None:
    """The configuration ids the authorization request named in authorization_details."""
    if not grant.authorization_details:
        return None
    return [str(d["credential_configuration_id"]) for d in grant.authorization_details]


def _redeem(
    conn: Connection,
    params: Mapping[str, str],
    *,
    client_id: str | None,
    dpop_jkt: str | None,
    settings: Settings,
    now: datetime,
) -> tuple[GrantLike, list[str] | None]:
    """Redeem the grant; the configuration ids the code's own authorization_details named."""
    grant_type = params.get("grant_type")
    if grant_type is None:
        raise _invalid_request("grant_type is missing")
    if grant_type == PRE_AUTHORIZED_GRANT:
        return _pre_authorized(conn, params, settings, now), None
    if grant_type == AUTHORIZATION_CODE_GRANT:
        grant = _authorization_code(conn, params, client_id=client_id, dpop_jkt=dpop_jkt, now=now)
        return grant, _details_of(grant)
    raise ProtocolError("unsupported_grant_type", "grant_type is not supported")


def token_response(
    conn: Connection,
    *,
    params: Mapping[str, str],
    attested_client_id: str | None,
    dpop_jkt: str | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Redeem the grant of a Token Request and issue the access token (§6.2)."""
    client_id = client_id_of(params, attested_client_id)
    requested = parse_authorization_details(
        params.get("authorization_details"), issuer=settings.public_url
    )
    grant, from_code = _redeem(
        conn, params, client_id=client_id, dpop_jkt=dpop_jkt, settings=settings, now=now
    )
    details_ids = requested if requested is not None else from_code
    datasets: dict[str, CredentialDataset] | None = None
    details: list[dict[str, Any]] = []
    if details_ids is not None:
        datasets, details = credential_identifiers(conn, grant, details_ids)
    lifetime = settings.access_token_lifetime
    if dpop_jkt is None:
        lifetime = min(lifetime, UNBOUND_MAX_LIFETIME)
    access_token = tokens.issue_access_token(
        conn, grant=grant, client_id=client_id, dpop_jkt=dpop_jkt,
        credential_identifiers=datasets, now=now, lifetime=lifetime,
    )
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "DPoP" if dpop_jkt else "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }
    if details:
        body["authorization_details"] = details
    return body
