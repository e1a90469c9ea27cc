"""Revoking, suspending and reinstating issued credentials: one code path for CLI and admin API.

The status values are those of IETF Token Status List §7.1 (0 valid, 1 revoked, 2 suspended); a
W3C credential's Bitstring Status List entry has purpose ``revocation`` (BSL §2.1) and holds 0 or 1.
Rules (docs/cli.md): revocation is final (BSL §2.1 says a revocation is not reversible; DUO applies
the same to SD-JWT VCs: a wrongly revoked diploma is issued again, with a fresh index); only a
suspended credential can be reinstated; W3C credentials cannot be suspended. A change to several
credentials (``--record``) is one transaction: either every credential changes or none does.

The ``credentials`` table is written by issuer.db.issuance; this module only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from issuer.db import status
from issuer.db.status import REVOKED, SUSPENDED, VALID, StatusError
from issuer.db.tables import credentials, status_entries, status_lists

Action = Literal["revoke", "suspend", "reinstate"]
ACTIONS: tuple[Action, ...] = ("revoke", "suspend", "reinstate")
STATES = {VALID: "valid", REVOKED: "revoked", SUSPENDED: "suspended"}
#: action -> (target value, the values it may change from)
_TRANSITIONS: dict[str, tuple[int, tuple[int, ...]]] = {
    "revoke": (REVOKED, (VALID, SUSPENDED)),
    "suspend": (SUSPENDED, (VALID,)),
    "reinstate": (VALID, (SUSPENDED,)),
}


@dataclass(frozen=True)
class IssuedCredential:
    """An issued credential and its current status."""

    id: str
    record: str
    format: str
    kind: str  # tsl | bsl
    list_id: int
    status_uri: str
    status_idx: int
    value: int

    @property
    def state(self) -> str:
        return STATES.get(self.value, "unknown")

    def as_json(self) -> dict[str, Any]:
        """The ``credentials list --json`` item (docs/cli.md)."""
        return {
            "id": self.id,
            "record": self.record,
            "format": self.format,
            "status_uri": self.status_uri,
            "status_idx": self.status_idx,
            "state": self.state,
        }


def issued_credentials(
    conn: sa.Connection, *, credential_id: str | None = None, record_id: str | None = None
) -> list[IssuedCredential]:
    """Issued credentials, all or those of one credential id or one record, oldest first."""
    entry = (status_entries.c.list_id == credentials.c.status_list_id) & (
        status_entries.c.idx == credentials.c.status_idx
    )
    query = (
        sa.select(
            credentials.c.id,
            credentials.c.record_id,
            credentials.c.format,
            status_lists.c.kind,
            status_lists.c.id,
            status_lists.c.uri,
            credentials.c.status_idx,
            sa.func.coalesce(status_entries.c.value, VALID),
        )
        .join(status_lists, status_lists.c.id == credentials.c.status_list_id)
        .outerjoin(status_entries, entry)
        .order_by(credentials.c.issued_at, credentials.c.id)
    )
    if credential_id is not None:
        query = query.where(credentials.c.id == credential_id)
    if record_id is not None:
        query = query.where(credentials.c.record_id == record_id)
    return [IssuedCredential(*row) for row in conn.execute(query)]


def change_status(
    conn: sa.Connection,
    action: Action,
    *,
    credential_id: str | None = None,
    record_id: str | None = None,
    now: datetime,
) -> list[IssuedCredential]:
    """Apply ``action`` to one credential or every credential of a record; returns them after.

    Raises StatusError ``credential_not_found`` (nothing matched), ``suspension_unsupported`` (a
    W3C credential), ``revocation_is_final`` (a revoked credential asked to change); the caller's
    transaction then rolls back whatever this call changed.
    """
    if action not in _TRANSITIONS or (credential_id is None) == (record_id is None):
        raise StatusError("revocation_request_invalid")
    targets = issued_credentials(conn, credential_id=credential_id, record_id=record_id)
    if not targets:
        raise StatusError("credential_not_found")
    value, allowed = _TRANSITIONS[action]
    if action == "suspend" and any(t.kind == "bsl" for t in targets):
        raise StatusError("suspension_unsupported")
    for target in targets:
        # Conditional update: a concurrent revocation can never be undone by this call.
        changed = status.set_value(
            conn, target.list_id, target.status_idx, value, now=now, only_from=allowed
        )
        if not changed and status.get_value(conn, target.list_id, target.status_idx) != value:
            raise StatusError("revocation_is_final")
    return issued_credentials(conn, credential_id=credential_id, record_id=record_id)
