"""Access tokens (RFC 6749 §1.4; OpenID4VCI 1.0 §6.2): opaque, random, stored as digests.

A token is 256 random bits in base64url. Only its SHA-256 digest is stored, with what it grants:
the person, the records and credential configurations, the ``credential_identifiers`` handed out
in the token response (OpenID4VCI §6.2) and, when sender-constrained, the DPoP key thumbprint
(RFC 9449 §6). ``load_access_token`` answers None for unknown and expired tokens alike. Times
are stored in UTC (SQLite keeps no offset), so every ``now`` is converted first.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select

from issuer.db.tables import access_tokens

TOKEN_BYTES = 32
#: Tokens longer than this are not looked up (a real one is 43 characters).
MAX_TOKEN_CHARS = 512


class GrantLike(Protocol):
    """What a redeemed code grants (offers.Grant and authorization_code.Grant both fit)."""

    @property
    def person_id(self) -> str: ...
    @property
    def record_ids(self) -> Sequence[str]: ...
    @property
    def configuration_ids(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class CredentialDataset:
    """What one credential identifier names: a configuration and the record behind it."""

    configuration_id: str
    record_id: str


@dataclass(frozen=True)
class TokenGrant:
    """A live access token's grant."""

    token_hash: str
    person_id: str
    record_ids: tuple[str, ...]
    configuration_ids: tuple[str, ...]
    #: identifier -> dataset when the token response carried authorization_details, else None.
    credential_identifiers: Mapping[str, CredentialDataset] | None
    client_id: str | None
    dpop_jkt: str | None
    expires_at: datetime


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_access_token(
    conn: Connection,
    *,
    grant: GrantLike,
    client_id: str | None,
    dpop_jkt: str | None,
    credential_identifiers: Mapping[str, CredentialDataset] | None,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Store and return a fresh token for ``grant``, valid for ``lifetime``."""
    now = now.astimezone(UTC)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    identifiers = None
    if credential_identifiers is not None:
        identifiers = {
            key: {"configuration_id": d.configuration_id, "record_id": d.record_id}
            for key, d in credential_identifiers.items()
        }
    conn.execute(
        insert(access_tokens).values(
            token_hash=token_hash(token),
            person_id=grant.person_id,
            record_ids=list(grant.record_ids),
            configuration_ids=list(grant.configuration_ids),
            credential_identifiers=identifiers,
            client_id=client_id,
            dpop_jkt=dpop_jkt,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def _identifiers(stored: Any) -> dict[str, CredentialDataset] | None:
    if stored is None:
        return None
    return {
        key: CredentialDataset(value["configuration_id"], value["record_id"])
        for key, value in stored.items()
    }


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def load_access_token(conn: Connection, token: str, *, now: datetime) -> TokenGrant | None:
    """The grant of a live token, or None (unknown, malformed or expired)."""
    now = now.astimezone(UTC)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    row = conn.execute(
        select(access_tokens).where(
            access_tokens.c.token_hash == token_hash(token), access_tokens.c.expires_at > now
        )
    ).first()
    if row is None:
        return None
    return TokenGrant(
        token_hash=row.token_hash,
        person_id=row.person_id,
        record_ids=tuple(row.record_ids),
        configuration_ids=tuple(row.configuration_ids),
        credential_identifiers=_identifiers(row.credential_identifiers),
        client_id=row.client_id,
        dpop_jkt=row.dpop_jkt,
        expires_at=_aware(row.expires_at),
    )


def purge_expired_tokens(conn: Connection, *, now: datetime) -> int:
    """Delete every token that expired before ``now``; the number deleted."""
    now = now.astimezone(UTC)
    return conn.execute(delete(access_tokens).where(access_tokens.c.expires_at <= now)).rowcount
