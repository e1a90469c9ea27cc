"""The Credential Request and its issuance: OpenID4VCI 1.0 §8.2, §8.3 (and App. A.1.1, A.3).

``parse_target`` decides which credential dataset a request names (§8.2: ``credential_identifier``
XOR ``credential_configuration_id``, SPECS §8 items 24, 26-29); ``proven_keys`` verifies the
``proofs`` (items 30-46) and returns one holder key per credential; ``issue`` consumes the
c_nonces, then either issues one credential per key (200) or, while the record is not final,
stores the keys for deferred issuance (202, VCI-31). The caller's transaction commits the
issuance records before the response leaves (issue 3, deliverable 3).

An offer naming several records of one type is reached record by record only through
``credential_identifiers`` (authorization_details); by ``credential_configuration_id`` the first
such record of the grant is issued.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from sqlalchemy import Connection

from issuer.app import Services
from issuer.credentials.signing import sign_sd_jwt_vc, sign_vcdm
from issuer.db import issuance, nonces, registry, status
from issuer.db.registry import Record
from issuer.db.tokens import TokenGrant
from issuer.oid4vci import proof
from issuer.oid4vci.configurations import CONFIGURATIONS, Configuration
from schemas.loader import SchemaError
from verifier import jose
from verifier.errors import ProtocolError

#: ``batch_credential_issuance.batch_size`` (§12.2.4): the most credentials per request.
BATCH_SIZE = 10
#: Seconds a wallet should wait before asking the Deferred Credential Endpoint again (§8.3).
DEFERRED_INTERVAL = 60
PROOF_TYPES = ("jwt", "attestation")


@dataclass(frozen=True)
class Target:
    """The configuration and record a Credential Request asks for."""

    configuration: Configuration
    record_id: str


@dataclass(frozen=True)
class Outcome:
    body: dict[str, Any]
    status: int  # 200 issued | 202 deferred


def _bad_request(detail: str) -> ProtocolError:
    return ProtocolError("invalid_credential_request", detail)


def _by_identifier(token: TokenGrant, identifier: Any) -> Target:
    known = token.credential_identifiers or {}
    if not isinstance(identifier, str) or identifier not in known:
        raise ProtocolError("unknown_credential_identifier", "credential_identifier is unknown")
    dataset = known[identifier]
    return Target(CONFIGURATIONS[dataset.configuration_id], dataset.record_id)


def parse_target(conn: Connection, body: Mapping[str, Any], token: TokenGrant) -> Target:
    """§8.2: which configuration and record the request names (items 24, 26-29)."""
    has_identifier = "credential_identifier" in body
    has_configuration = "credential_configuration_id" in body
    if has_identifier and has_configuration:
        raise _bad_request("use credential_identifier or credential_configuration_id, not both")
    if has_identifier:
        return _by_identifier(token, body["credential_identifier"])
    if not has_configuration:
        raise _bad_request("credential_configuration_id is missing")
    if token.credential_identifiers is not None:
        raise _bad_request("credential_identifier is required with this access token")
    configuration_id = body["credential_configuration_id"]
    if not isinstance(configuration_id, str) or configuration_id not in CONFIGURATIONS:
        raise ProtocolError("unknown_credential_configuration", "configuration is unknown")
    if configuration_id not in token.configuration_ids:
        raise ProtocolError(
            "insufficient_scope",
            "the access token does not cover this configuration",
            status=403,
            headers={"WWW-Authenticate": _challenge(token, "insufficient_scope")},
        )
    configuration = CONFIGURATIONS[configuration_id]
    found = registry.records_by_id(conn, token.record_ids)
    for record_id in token.record_ids:
        if record_id in found and found[record_id].type == configuration.type_name:
            return Target(configuration, record_id)
    raise ProtocolError("credential_request_denied", "no record for this configuration")


def _challenge(token: TokenGrant, error: str) -> str:
    scheme = "DPoP" if token.dpop_jkt else "Bearer"
    return f'{scheme} error="{error}"'


def _proof_items(body: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """§8.2 ``proofs``: exactly one proof type with a non-empty array (items 30-32, 46)."""
    proofs = body.get("proofs")
    if proofs is None:
        raise ProtocolError("invalid_proof", "proofs is missing")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise ProtocolError("invalid_proof", "proofs must hold exactly one proof type")
    ((kind, items),) = proofs.items()
    if kind not in PROOF_TYPES:
        raise ProtocolError("invalid_proof", "proof type is not supported")
    if not isinstance(items, list) or not items:
        raise ProtocolError("invalid_proof", "proofs must be a non-empty array")
    if kind == "attestation" and len(items) != 1:
        raise ProtocolError("invalid_proof", "attestation holds exactly one key attestation")
    if len(items) > BATCH_SIZE:
        raise _bad_request("more proofs than batch_size")
    return kind, items


@dataclass(frozen=True)
class ProofContext:
    """What proof verification needs besides the proofs."""

    audience: str
    client_id: str | None
    anchors: Sequence[x509.Certificate]
    require_attestation: bool
    now: datetime


def proven_keys(
    body: Mapping[str, Any], context: ProofContext
) -> tuple[list[dict[str, Any]], set[str]]:
    """Every holder key the proofs establish (distinct) and the c_nonces they used."""
    kind, items = _proof_items(body)
    keys: list[dict[str, Any]] = []
    used: set[str] = set()
    for item in items:
        if kind == "jwt":
            proven = proof.verify_jwt_proof(
                item,
                audience=context.audience,
                client_id=context.client_id,
                anchors=context.anchors,
                now=context.now,
                require_attestation=context.require_attestation,
            )
        else:
            proven = proof.verify_attestation_proof(
                item, anchors=context.anchors, now=context.now
            )
        keys.extend(proven.keys)
        used |= proven.nonces
    if len({jose.jwk_thumbprint(k) for k in keys}) != len(keys):
        raise ProtocolError("invalid_proof", "the same key is proven twice")
    if len(keys) > BATCH_SIZE:
        raise _bad_request("more keys than batch_size")
    return keys, used


def consume_nonces(conn: Connection, used: set[str], *, now: datetime) -> None:
    """Each c_nonce once: unknown, stale or used ones are ``invalid_nonce`` (items 41, 44)."""
    for value in sorted(used):
        if not nonces.consume_nonce(conn, "c_nonce", value, now=now):
            raise ProtocolError("invalid_nonce", "c_nonce is unknown, expired or used")


def load_record(conn: Connection, record_id: str, person_id: str) -> Record:
    """The record behind a grant; gone or not the token's person: credential_request_denied."""
    record = registry.get_record(conn, record_id)
    if record is None or record.person_id != person_id:
        raise ProtocolError("credential_request_denied", "the record cannot be issued")
    return record


def midnight(now: datetime) -> datetime:
    """Time claims are rounded down to midnight UTC (issue 3, deliverable 3)."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _sign_one(
    services: Services,
    configuration: Configuration,
    claims: Mapping[str, Any],
    holder: Mapping[str, Any],
    allocation: status.Allocation,
    now: datetime,
) -> str:
    type_name, issuer, keys = configuration.type_name, services.issuer, services.keys
    if configuration.format == "dc+sd-jwt":
        return sign_sd_jwt_vc(
            type_name, claims, keys=keys, issuer=issuer, holder_jwk=holder,
            status=status.status_reference(allocation), now=midnight(now),
        )
    return sign_vcdm(
        configuration.format, type_name, claims, keys=keys, issuer=issuer, holder_jwk=holder,
        now=midnight(now), status=status.bitstring_entry(allocation),
    )


def issue_credentials(
    conn: Connection,
    services: Services,
    *,
    record: Record,
    configuration: Configuration,
    holders: Sequence[Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """One credential per holder key, each with its own status index and fresh salts (§8.3)."""
    try:
        claims = registry.claims_for(record)
    except SchemaError:
        raise ProtocolError("credential_request_denied", "the record cannot be issued") from None
    kind: status.Kind = "tsl" if configuration.format == "dc+sd-jwt" else "bsl"
    notification_id = issuance.new_id()
    issued = []
    for holder in holders:
        allocation = status.allocate(conn, kind, now=now, issuer=services.issuer)
        issued.append({"credential": _sign_one(
            services, configuration, claims, holder, allocation, now
        )})
        issuance.record_issued(
            conn, credential_id=issuance.new_id(), record_id=record.id,
            configuration_id=configuration.id, fmt=configuration.format, allocation=allocation,
            holder_jkt=jose.jwk_thumbprint(dict(holder)), notification_id=notification_id,
            now=now,
        )
    return {"credentials": issued, "notification_id": notification_id}


def issue(
    conn: Connection,
    services: Services,
    *,
    token: TokenGrant,
    body: Mapping[str, Any],
    context: ProofContext,
) -> Outcome:
    """Answer a Credential Request (§8): issued now (200) or deferred (202)."""
    target = parse_target(conn, body, token)
    holders, used = proven_keys(body, context)
    record = load_record(conn, target.record_id, token.person_id)
    consume_nonces(conn, used, now=context.now)
    if not record.final:
        transaction_id = issuance.create_deferred(
            conn, token_hash=token.token_hash, record_id=record.id,
            configuration_id=target.configuration.id, holder_jwks=holders, now=context.now,
        )
        return Outcome({"transaction_id": transaction_id, "interval": DEFERRED_INTERVAL}, 202)
    body_out = issue_credentials(
        conn, services, record=record, configuration=target.configuration, holders=holders,
        now=context.now,
    )
    return Outcome(body_out, 200)
