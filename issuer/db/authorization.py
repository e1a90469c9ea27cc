"""Authorization code flow storage: PAR request_uris (RFC 9126 §2.2, §4) and authorization codes
(RFC 6749 §4.1.2, §10.5).

Both are bearer references, so only their SHA-256 digests are stored (shared/DESIGN.md §4). Each
is consumed once by one conditional UPDATE (``used_at IS NULL AND expires_at > now``) whose row
count decides, so two workers can never both accept the same one; a request that fails later
rolls the consumption back with the rest of its transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from issuer.db.tables import authorization_codes, par_requests

#: RFC 9126 §2.2: the URN prefix of a request_uri the authorization server made.
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: Random bytes in a request_uri and in an authorization code (256 bits).
RANDOM_BYTES = 32
#: References longer than this are not looked up (real ones are far shorter).
MAX_REFERENCE_CHARS = 256


@dataclass(frozen=True)
class ParRequest:
    """A stored pushed authorization request."""

    client_id: str
    parameters: dict[str, Any]
    dpop_jkt: str | None


@dataclass(frozen=True)
class StoredCode:
    """What an authorization code was issued for (RFC 6749 §4.1.3 bindings)."""

    client_id: str
    person_id: str
    redirect_uri: str
    code_challenge: str
    grant: dict[str, Any]
    dpop_jkt: str | None


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"duo {kind}\x00{value}".encode()).hexdigest()


def _usable(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_REFERENCE_CHARS


def store_par_request(
    conn: Connection,
    *,
    client_id: str,
    parameters: Mapping[str, Any],
    dpop_jkt: str | None,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Store a validated pushed request; returns its fresh ``request_uri`` (RFC 9126 §2.2)."""
    now = now.astimezone(UTC)  # stored times are UTC (SQLite keeps no offset)
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(RANDOM_BYTES)
    conn.execute(
        insert(par_requests).values(
            request_uri=_digest("request_uri", request_uri),
            client_id=client_id,
            parameters=dict(parameters),
            dpop_jkt=dpop_jkt,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return request_uri


def _live_par(request_uri: str, client_id: str, now: datetime) -> Any:
    return (
        par_requests.c.request_uri == _digest("request_uri", request_uri),
        par_requests.c.client_id == client_id,
        par_requests.c.used_at.is_(None),
        par_requests.c.expires_at > now,
    )


def load_par_request(
    conn: Connection, request_uri: str, *, client_id: str, now: datetime
) -> ParRequest | None:
    """The unused, unexpired request of ``client_id`` named by ``request_uri``, else None."""
    if not _usable(request_uri) or not _usable(client_id):
        return None
    row = conn.execute(
        select(par_requests).where(*_live_par(request_uri, client_id, now.astimezone(UTC)))
    ).first()
    return None if row is None else ParRequest(row.client_id, dict(row.parameters), row.dpop_jkt)


def consume_par_request(
    conn: Connection, request_uri: str, *, client_id: str, now: datetime
) -> ParRequest | None:
    """Use the request once (RFC 9126 §4: one-time use); None if it is not live or not won."""
    if not _usable(request_uri) or not _usable(client_id):
        return None
    now = now.astimezone(UTC)
    won = conn.execute(
        update(par_requests)
        .where(*_live_par(request_uri, client_id, now))
        .values(used_at=now)
    )
    if won.rowcount != 1:
        return None
    row = conn.execute(
        select(par_requests).where(
            par_requests.c.request_uri == _digest("request_uri", request_uri)
        )
    ).one()
    return ParRequest(row.client_id, dict(row.parameters), row.dpop_jkt)


def store_authorization_code(
    conn: Connection,
    *,
    client_id: str,
    person_id: str,
    redirect_uri: str,
    code_challenge: str,
    grant: Mapping[str, Any],
    dpop_jkt: str | None,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Store a fresh authorization code with its bindings; returns the code."""
    now = now.astimezone(UTC)
    code = secrets.token_urlsafe(RANDOM_BYTES)
    conn.execute(
        insert(authorization_codes).values(
            code_hash=_digest("authorization_code", code),
            client_id=client_id,
            person_id=person_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            grant=dict(grant),
            dpop_jkt=dpop_jkt,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return code


def consume_authorization_code(conn: Connection, code: str, *, now: datetime) -> StoredCode | None:
    """Use a live code once (RFC 6749 §4.1.2); None if unknown, expired, used or not won."""
    if not _usable(code):
        return None
    now = now.astimezone(UTC)
    digest = _digest("authorization_code", code)
    won = conn.execute(
        update(authorization_codes)
        .where(
            authorization_codes.c.code_hash == digest,
            authorization_codes.c.used_at.is_(None),
            authorization_codes.c.expires_at > now,
        )
        .values(used_at=now)
    )
    if won.rowcount != 1:
        return None
    row = conn.execute(
        select(authorization_codes).where(authorization_codes.c.code_hash == digest)
    ).one()
    return StoredCode(
        client_id=row.client_id,
        person_id=row.person_id,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        grant=dict(row.grant),
        dpop_jkt=row.dpop_jkt,
    )


def purge_expired(conn: Connection, *, now: datetime) -> int:
    """Delete pushed requests and codes that expired before ``now``; the number deleted."""
    now = now.astimezone(UTC)
    deleted = conn.execute(delete(par_requests).where(par_requests.c.expires_at <= now)).rowcount
    codes = authorization_codes.c.expires_at <= now
    return deleted + conn.execute(delete(authorization_codes).where(codes)).rowcount
