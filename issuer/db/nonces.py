"""Single-use server values: c_nonces (OpenID4VCI 1.0 §7), DPoP nonces and seen JWT ids.

A c_nonce is minted by ``new_nonce`` (256 random bits, §7.2: unpredictable) and consumed by one
conditional UPDATE whose row count decides (``consume_nonce``), so two workers can never both
accept it. ``remember_once`` records a value seen once (a DPoP proof or attestation ``jti``,
RFC 9449 §11.1) with ``INSERT ... ON CONFLICT DO NOTHING``: the second insert of a value loses.
Rows past their expiry are deleted by ``purge_expired``; a caller keeps a remembered value at
least as long as the window in which its token would still be accepted. Times are stored in
UTC (SQLite keeps no offset), so every ``now`` is converted first.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from issuer.db.tables import nonces

#: Bytes of randomness in a minted nonce (256 bits; §7.2 asks for unpredictable values).
NONCE_BYTES = 32
#: The longest value accepted for lookup or storage (the column is 128 characters).
MAX_VALUE_CHARS = 128


def new_nonce(conn: Connection, kind: str, *, now: datetime, lifetime: timedelta) -> str:
    """Mint and store a fresh unpredictable value of ``kind``, valid for ``lifetime``."""
    now = now.astimezone(UTC)
    value = secrets.token_urlsafe(NONCE_BYTES)
    conn.execute(
        insert(nonces).values(value=value, kind=kind, created_at=now, expires_at=now + lifetime)
    )
    return value


def consume_nonce(conn: Connection, kind: str, value: str, *, now: datetime) -> bool:
    """Mark ``value`` used if it is a live, unused value of ``kind``; True for the one winner."""
    now = now.astimezone(UTC)
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE_CHARS:
        return False
    result = conn.execute(
        update(nonces)
        .where(
            nonces.c.value == value,
            nonces.c.kind == kind,
            nonces.c.used_at.is_(None),
            nonces.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


def remember_once(
    conn: Connection, kind: str, value: str, *, now: datetime, lifetime: timedelta
) -> bool:
    """Record ``value`` as seen; False if it was seen before (a replay)."""
    now = now.astimezone(UTC)
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE_CHARS:
        return False
    row = {"value": value, "kind": kind, "created_at": now, "expires_at": now + lifetime,
           "used_at": now}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(nonces).values(**row).on_conflict_do_nothing()
    # rowcount of an INSERT is only kept when asked for (SQLAlchemy: preserve_rowcount).
    result = conn.execute(statement, execution_options={"preserve_rowcount": True})
    return result.rowcount == 1


def purge_expired(conn: Connection, *, now: datetime) -> int:
    """Delete every value that expired before ``now``; the number deleted."""
    now = now.astimezone(UTC)
    return conn.execute(delete(nonces).where(nonces.c.expires_at <= now)).rowcount
