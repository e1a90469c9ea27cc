"""Registry data access: DUO's persons and their register records (issue 3, deliverable 1).

The one narrow interface between the issuer and the source of education records. A person row
holds the person claims as the EU PID rulebook names them (given_name, family_name with the Dutch
prefix, birthdate); a record row is one credential DUO can issue: ``type`` is the credential type
(schemas.loader.CREDENTIAL_TYPES) and ``data`` the register record (schemas.registry_record) it is
built from. A VO or MBO diploma with grades therefore has two rows, ``diploma`` and
``grade_list``, holding the same register record. ``final`` is False while the register still
may change the record; credentials for it are deferred until ``finalize_record``.

Functions take a ``sqlalchemy.Connection`` (the caller owns the transaction) and ``now`` where
time is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from issuer.db.tables import persons, records
from schemas.registry_record import claims_from_record

_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class Person:
    """A registry person; the names and birthdate are the claims credentials carry."""

    id: str
    given_name: str
    family_name: str
    birthdate: str


@dataclass(frozen=True)
class Record:
    """One issuable record: credential ``type`` built from register record ``data``."""

    id: str
    person_id: str
    type: str
    data: dict[str, Any]
    final: bool


def _person(row: Row[Any]) -> Person:
    return Person(row.id, row.given_name, row.family_name, row.birthdate)


def _record(row: Row[Any]) -> Record:
    return Record(row.id, row.person_id, row.type, dict(row.data), bool(row.final))


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def get_person(conn: Connection, person_id: str) -> Person | None:
    row = conn.execute(select(persons).where(persons.c.id == person_id)).first()
    return None if row is None else _person(row)


def records_of(conn: Connection, person_id: str) -> list[Record]:
    """The person's records, ordered by id (ids are opaque: the order is only stable)."""
    query = select(records).where(records.c.person_id == person_id).order_by(records.c.id)
    return [_record(row) for row in conn.execute(query)]


def get_record(conn: Connection, record_id: str) -> Record | None:
    row = conn.execute(select(records).where(records.c.id == record_id)).first()
    return None if row is None else _record(row)


def list_persons(conn: Connection) -> list[Person]:
    """Every person, ordered by id (byte order on both databases, unlike name collations)."""
    return [_person(row) for row in conn.execute(select(persons).order_by(persons.c.id))]


def all_records(conn: Connection) -> list[Record]:
    """Every record, ordered by person id, then record id."""
    query = select(records).order_by(records.c.person_id, records.c.id)
    return [_record(row) for row in conn.execute(query)]


def persons_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Person]:
    """The persons among ``ids`` that exist."""
    found: dict[str, Person] = {}
    for chunk in _chunks(ids):
        for row in conn.execute(select(persons).where(persons.c.id.in_(chunk))):
            found[row.id] = _person(row)
    return found


def records_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Record]:
    """The records among ``ids`` that exist."""
    found: dict[str, Record] = {}
    for chunk in _chunks(ids):
        for row in conn.execute(select(records).where(records.c.id.in_(chunk))):
            found[row.id] = _record(row)
    return found


def claims_for(record: Record) -> dict[str, Any]:
    """The claims file of the record's credential type, validated against the type's schema
    (``claims_from_record`` ends with ``schemas.loader.validate_claims``).

    Raises schemas.loader.SchemaError (codes in schemas.registry_record.claims_from_record).
    """
    return claims_from_record(record.data, type_name=record.type)


def insert_persons(conn: Connection, people: Sequence[Person], *, now: datetime) -> None:
    """Insert new persons (an existing id raises the database's IntegrityError)."""
    if people:
        rows = [
            {
                "id": p.id,
                "given_name": p.given_name,
                "family_name": p.family_name,
                "birthdate": p.birthdate,
                "created_at": now,
            }
            for p in people
        ]
        conn.execute(insert(persons), rows)


def insert_records(conn: Connection, items: Sequence[Record], *, now: datetime) -> None:
    """Insert new records; a final one gets ``finalized_at = now``."""
    if items:
        rows = [
            {
                "id": r.id,
                "person_id": r.person_id,
                "type": r.type,
                "data": r.data,
                "final": r.final,
                "created_at": now,
                "finalized_at": now if r.final else None,
            }
            for r in items
        ]
        conn.execute(insert(records), rows)


def finalize_record(conn: Connection, record_id: str, *, now: datetime) -> bool:
    """Mark a not-final record final; True if this call changed it (one conditional UPDATE)."""
    result = conn.execute(
        update(records)
        .where(records.c.id == record_id, records.c.final.is_(False))
        .values(final=True, finalized_at=now)
    )
    return result.rowcount == 1
