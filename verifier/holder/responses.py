"""Credential responses as a wallet reads them: OpenID4VCI 1.0 §8.3 (and §9.2, same shape).

200 with ``credentials`` (each bound to a distinct key the wallet proved, at most one per key),
optionally a ``notification_id``; or 202 with ``transaction_id`` and ``interval`` (deferred), never
both. Unknown parameters are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.errors import ProtocolError
from verifier.holder.binding import bound_thumbprint
from verifier.holder.proofs import ALG, HolderKey


@dataclass(frozen=True)
class Issued:
    credential: str
    configuration_id: str
    format: str
    key: HolderKey | None  # None: a credential without cryptographic binding
    notification_id: str | None


@dataclass(frozen=True)
class Pending:
    """§8.3 deferred issuance: ask again at the deferred endpoint after ``interval`` seconds."""

    transaction_id: str
    interval: int
    configuration_id: str
    keys: tuple[HolderKey, ...]


def needs_proof(configuration: dict[str, Any]) -> bool:
    """§8.2: ``proofs`` is required when the configuration lists ``proof_types_supported``."""
    types = configuration.get("proof_types_supported")
    if types is None:
        return False
    jwt = types.get("jwt") if isinstance(types, dict) else None
    algs = jwt.get("proof_signing_alg_values_supported") if isinstance(jwt, dict) else None
    if not isinstance(algs, list) or ALG not in algs:
        raise ProtocolError("proof_type_unsupported", "the issuer accepts no ES256 jwt proof")
    return True


def _pending(answer: dict[str, Any], configuration_id: str, keys: list[HolderKey]) -> Pending:
    transaction, interval = answer.get("transaction_id"), answer.get("interval")
    if not isinstance(transaction, str) or not transaction or "credentials" in answer:
        raise ProtocolError("response_malformed", "a deferred response needs a transaction_id")
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise ProtocolError("response_malformed", "a deferred response needs a positive interval")
    return Pending(transaction, int(interval), configuration_id, tuple(keys))


def outcome(
    status: int,
    answer: dict[str, Any],
    configuration_id: str,
    configuration: dict[str, Any],
    keys: list[HolderKey],
) -> list[Issued] | Pending:
    """§8.3: 202 deferred, or 200 with credentials, each bound to a distinct proven key."""
    if status == 202:
        return _pending(answer, configuration_id, keys)
    items, notification = answer.get("credentials"), answer.get("notification_id")
    if status != 200 or not isinstance(items, list) or not items or "transaction_id" in answer:
        raise ProtocolError("response_malformed", "the credential response has no credentials")
    if notification is not None and not isinstance(notification, str):
        raise ProtocolError("response_malformed", "notification_id is not a string")
    fmt = str(configuration.get("format"))
    by_thumbprint = {key.thumbprint: key for key in keys}
    issued: list[Issued] = []
    for item in items:
        text = item.get("credential") if isinstance(item, dict) else None
        if not isinstance(text, str):
            raise ProtocolError("response_malformed", "a credential is not a string")
        key = by_thumbprint.pop(bound_thumbprint(text, fmt), None) if keys else None
        if keys and key is None:
            # §8.3: each proven key binds at most one credential, and only proven keys do.
            raise ProtocolError("credential_not_bound", "a credential is not bound to a new key")
        issued.append(Issued(text, configuration_id, fmt, key, notification))
    return issued
