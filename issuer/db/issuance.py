"""Issued credentials, deferred issuance and notifications (OpenID4VCI 1.0 §8.3, §9, §11).

``record_issued`` writes the issuance record (status index, record, holder key thumbprint,
format, time) in the caller's transaction, which commits before the credential leaves the server.
A deferred transaction keeps the proven holder keys until the record is final; it is finished by
one conditional UPDATE (``pending`` -> ``delivered`` | ``denied``), so it is delivered once (§9:
the transaction_id is invalidated after delivery). Notification ids group the credentials of one
response; an event is stored on all of them (§11, idempotent). Times are stored in UTC.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from issuer.db.tables import credentials, deferred, records

ID_BYTES = 16


class AllocationLike(Protocol):
    """A status list slot (issuer.db.status.Allocation)."""

    @property
    def list_id(self) -> int: ...
    @property
    def idx(self) -> int: ...


@dataclass(frozen=True)
class Deferred:
    transaction_id: str
    token_hash: str
    record_id: str
    configuration_id: str
    holder_jwks: tuple[dict[str, Any], ...]
    state: str  # pending | delivered | denied


def new_id() -> str:
    """An opaque random identifier (128 bits): credential, notification or transaction id.

    Hexadecimal, so an id never starts with ``-`` (an id is typed after ``revoke --credential``,
    where argparse would take it for an option) and survives copy and paste.
    """
    return secrets.token_hex(ID_BYTES)


def record_issued(
    conn: Connection,
    *,
    credential_id: str,
    record_id: str,
    configuration_id: str,
    fmt: str,
    allocation: AllocationLike,
    holder_jkt: str | None,
    notification_id: str | None,
    now: datetime,
) -> None:
    """Write the issuance record of one credential (in the caller's transaction)."""
    now = now.astimezone(UTC)
    conn.execute(
        insert(credentials).values(
            id=credential_id,
            record_id=record_id,
            configuration_id=configuration_id,
            format=fmt,
            status_list_id=allocation.list_id,
            status_idx=allocation.idx,
            holder_jkt=holder_jkt,
            notification_id=notification_id,
            issued_at=now,
        )
    )


def create_deferred(
    conn: Connection,
    *,
    token_hash: str,
    record_id: str,
    configuration_id: str,
    holder_jwks: Sequence[Mapping[str, Any]],
    now: datetime,
) -> str:
    """Store a pending deferred issuance; its new transaction_id."""
    now = now.astimezone(UTC)
    transaction_id = new_id()
    conn.execute(
        insert(deferred).values(
            transaction_id=transaction_id,
            token_hash=token_hash,
            record_id=record_id,
            configuration_id=configuration_id,
            holder_jwks=[dict(jwk) for jwk in holder_jwks],
            state="pending",
            created_at=now,
        )
    )
    return transaction_id


def load_deferred(conn: Connection, transaction_id: str) -> Deferred | None:
    if not isinstance(transaction_id, str) or not 0 < len(transaction_id) <= 64:
        return None
    row = conn.execute(
        select(deferred).where(deferred.c.transaction_id == transaction_id)
    ).first()
    if row is None:
        return None
    return Deferred(
        row.transaction_id,
        row.token_hash,
        row.record_id,
        row.configuration_id,
        tuple(row.holder_jwks),
        row.state,
    )


def finish_deferred(conn: Connection, transaction_id: str, *, state: str, now: datetime) -> bool:
    """Move a pending transaction to ``state`` (delivered | denied); True for the one winner."""
    now = now.astimezone(UTC)
    result = conn.execute(
        update(deferred)
        .where(deferred.c.transaction_id == transaction_id, deferred.c.state == "pending")
        .values(state=state, delivered_at=now)
    )
    return result.rowcount == 1


def notification_person(conn: Connection, notification_id: str) -> str | None:
    """The person whose credentials carry ``notification_id``, or None if there are none."""
    if not isinstance(notification_id, str) or not 0 < len(notification_id) <= 64:
        return None
    row = conn.execute(
        select(records.c.person_id)
        .select_from(credentials.join(records, credentials.c.record_id == records.c.id))
        .where(credentials.c.notification_id == notification_id)
        .limit(1)
    ).first()
    return None if row is None else str(row.person_id)


def set_notification_event(conn: Connection, notification_id: str, event: str) -> int:
    """Store the wallet's latest event on every credential of ``notification_id``."""
    result = conn.execute(
        update(credentials)
        .where(credentials.c.notification_id == notification_id)
        .values(notification_event=event)
    )
    return result.rowcount
