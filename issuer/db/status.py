"""Status lists in the issuer database: allocating indices and changing status values.

IETF Token Status List (draft-ietf-oauth-status-list-20) §4.1 (``bits`` 2), §6.2 (the reference),
§7.1 (0 VALID, 1 INVALID = revoked, 2 SUSPENDED) and §12.5/§13 privacy (TSL-7); W3C Bitstring
Status List v1.0 §2.1 (the entry) and §2.2 (at least 131,072 one-bit entries, BSL-2).

Each list has 131,072 entries; a credential gets an index drawn at random (``secrets``) among the
unused ones of its issuer's newest list of the kind, so indices say nothing about issuance order.
The ``status_entries`` primary key forbids double allocation: the insert is ``ON CONFLICT DO
NOTHING`` and a taken index is simply drawn again. After ``PROBES`` draws in a row hit taken indices
the list counts as full (about 90-95 % used) and a new list is made. TSL lists live at
``{issuer}/status/<id>``, W3C lists (purpose ``revocation``) at ``{issuer}/status/w3c/<id>``, both
under keys.pki.status_list_base so the status-list key's certificate covers them.

W3C credentials carry one ``revocation`` entry and cannot be suspended (a suspension needs a second
entry and list); revocation is final for both kinds (BSL §2.1: revocation is not reversible).
Status changes bump the list's ``version`` so publishers know to sign it again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from issuer.db.tables import status_entries, status_lists
from keys.pki import status_list_base
from verifier import bitstring_status_list as bsl
from verifier.token_status_list import StatusReference

Kind = Literal["tsl", "bsl"]
LIST_SIZE = 131_072  # BSL §2.2 minimum; TSL §12.5 herd privacy
TSL_BITS, BSL_BITS = 2, 1  # TSL §4.1 bits per entry; BSL one bit (statusSize 1)
_BITS = {"tsl": TSL_BITS, "bsl": BSL_BITS}
VALID, REVOKED, SUSPENDED = 0, 1, 2  # TSL §7.1; a BSL revocation bit is 1
PROBES = 32
_ROUNDS = 4  # new-list races lost in a row before giving up
_LOCK_KEY = 0x6475_6F5F_7374  # PostgreSQL advisory lock for list creation ("duo_st")


class StatusError(Exception):
    """A status-list operation refused, with a stable ``code``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Allocation:
    """An allocated entry: list id, the list's URI and the index in it."""

    list_id: int
    uri: str
    idx: int


@dataclass(frozen=True)
class StatusList:
    """One row of ``status_lists``."""

    id: int
    kind: str
    uri: str
    bits: int
    size: int
    version: int


def _issuer(issuer: str | None) -> str:
    if issuer is not None:
        return issuer
    from issuer.app import services  # the running app's issuer identifier

    return services().issuer


def list_uri(issuer: str, kind: Kind, list_id: int) -> str:
    base = status_list_base(issuer)
    return f"{base}/{list_id}" if kind == "tsl" else f"{base}/w3c/{list_id}"


def allocate(
    conn: sa.Connection, kind: Kind, *, now: datetime, issuer: str | None = None
) -> Allocation:
    """A fresh random index, VALID (TSL-7: never allocated twice, random, initialised VALID).

    ``issuer`` defaults to the issuer identifier of the app handling the current request.
    """
    if kind not in _BITS:
        raise StatusError("status_kind_unknown")
    issuer = _issuer(issuer)
    for _ in range(_ROUNDS):
        newest = _newest_list(conn, kind, issuer)
        if newest is not None:
            for _ in range(PROBES):
                idx = secrets.randbelow(newest.size)
                row = {"list_id": newest.id, "idx": idx, "value": VALID, "updated_at": now}
                if _insert_new(conn, status_entries, row):
                    return Allocation(newest.id, newest.uri, idx)
        _new_list(conn, kind, issuer, seen=newest, now=now)
    raise StatusError("status_list_full")


def _newest_list(conn: sa.Connection, kind: str, issuer: str) -> StatusList | None:
    prefix = status_list_base(issuer) + ("/w3c/" if kind == "bsl" else "/")
    query = (
        _LIST_QUERY.where(status_lists.c.kind == kind)
        .where(status_lists.c.uri.startswith(prefix, autoescape=True))
        .order_by(status_lists.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return None if row is None else StatusList(*row)


def _new_list(
    conn: sa.Connection, kind: Kind, issuer: str, *, seen: StatusList | None, now: datetime
) -> None:
    """Make the next list unless another writer made one since ``seen`` was read.

    List creation is serialised (``_lock_list_creation``), so two writers that both found a list
    full (or none at all) make one new list between them, never a spare one with a small herd.
    """
    _lock_list_creation(conn)
    newest = _newest_list(conn, kind, issuer)
    if newest is not None and (seen is None or newest.id != seen.id):
        return  # another writer made it: use theirs
    last = conn.execute(sa.select(sa.func.max(status_lists.c.id))).scalar()
    list_id = (last or 0) + 1
    row = {
        "id": list_id,
        "kind": kind,
        "uri": list_uri(issuer, kind, list_id),
        "bits": _BITS[kind],
        "size": LIST_SIZE,
        "version": 0,
        "created_at": now,
        "updated_at": now,
    }
    _insert_new(conn, status_lists, row)


def _lock_list_creation(conn: sa.Connection) -> None:
    """Hold, until the transaction ends, the right to create lists.

    PostgreSQL: a transaction-level advisory lock. SQLite: the database write lock, taken by an
    UPDATE that changes no row (writers are serialised; later reads see every committed list).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
    else:
        conn.execute(sa.update(status_lists).where(status_lists.c.id < 0).values(version=0))


def _insert_new(conn: sa.Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """INSERT unless a unique key is taken; True when inserted (the transaction stays usable)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = dialect.insert(table).values(**row).on_conflict_do_nothing().returning(key)
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING here.
    return conn.execute(statement).first() is not None


def status_reference(allocation: Allocation) -> StatusReference:
    """The SD-JWT VC ``status.status_list`` reference (TSL §6.2)."""
    return StatusReference(allocation.idx, allocation.uri)


def bitstring_entry(allocation: Allocation) -> dict[str, Any]:
    """The ``BitstringStatusListEntry`` of a W3C credential (BSL §2.1, purpose revocation)."""
    return bsl.build_status_entry(
        purpose="revocation", index=allocation.idx, list_url=allocation.uri
    )


_LIST_QUERY = sa.select(
    status_lists.c.id,
    status_lists.c.kind,
    status_lists.c.uri,
    status_lists.c.bits,
    status_lists.c.size,
    status_lists.c.version,
)


def get_list(conn: sa.Connection, list_id: int) -> StatusList | None:
    row = conn.execute(_LIST_QUERY.where(status_lists.c.id == list_id)).first()
    return None if row is None else StatusList(*row)


def lists_of(conn: sa.Connection, issuer: str) -> list[StatusList]:
    """Every list of ``issuer``, oldest first."""
    prefix = status_list_base(issuer) + "/"
    query = _LIST_QUERY.where(status_lists.c.uri.startswith(prefix, autoescape=True))
    return [StatusList(*row) for row in conn.execute(query.order_by(status_lists.c.id))]


def set_values(conn: sa.Connection, list_id: int) -> dict[int, int]:
    """The entries of a list whose value is not VALID (0), by index."""
    query = sa.select(status_entries.c.idx, status_entries.c.value).where(
        status_entries.c.list_id == list_id, status_entries.c.value != VALID
    )
    return {idx: value for idx, value in conn.execute(query)}


def _allowed_values(conn: sa.Connection, list_id: int) -> tuple[int, ...]:
    kind = conn.execute(sa.select(status_lists.c.kind).where(status_lists.c.id == list_id)).scalar()
    if kind is None:
        raise StatusError("status_list_unknown")
    return (VALID, REVOKED, SUSPENDED) if kind == "tsl" else (VALID, REVOKED)


def set_value(
    conn: sa.Connection,
    list_id: int,
    idx: int,
    value: int,
    *,
    now: datetime,
    only_from: tuple[int, ...] | None = None,
) -> bool:
    """Set an allocated entry to ``value``; with ``only_from``, only if it now holds one of those.

    Returns whether the entry changed; raises ``status_index_unallocated`` for an entry that was
    never allocated and ``status_value_invalid`` for a value the list kind cannot hold.
    """
    if value not in _allowed_values(conn, list_id):
        raise StatusError("status_value_invalid")
    entry = (status_entries.c.list_id == list_id) & (status_entries.c.idx == idx)
    update = sa.update(status_entries).where(entry).values(value=value, updated_at=now)
    if only_from is not None:
        update = update.where(status_entries.c.value.in_(only_from))
    if conn.execute(update).rowcount == 1:
        conn.execute(
            sa.update(status_lists)
            .where(status_lists.c.id == list_id)
            .values(version=status_lists.c.version + 1, updated_at=now)
        )
        return True
    if conn.execute(sa.select(status_entries.c.value).where(entry)).first() is None:
        raise StatusError("status_index_unallocated")
    return False


def get_value(conn: sa.Connection, list_id: int, idx: int) -> int | None:
    query = sa.select(status_entries.c.value).where(
        status_entries.c.list_id == list_id, status_entries.c.idx == idx
    )
    value: int | None = conn.execute(query).scalar()
    return value
