"""Registry import (issue 3, deliverable 1: ``duo-issuer registry import FILE``).

The file format is documented in docs/registry-import.md: ``{"persons": [{"id", "given_name",
"family_name", "birthdate", "records": [{"id", "type", "final", "record"}]}]}`` where ``record``
is a register record (schemas.registry_record). The whole file is checked before anything is
written, and is written whole or not at all: every rejected row is reported as a JSON Pointer
into the file plus a stable code, never with the values it holds. Each record must map to valid
claims of its type, and the person it names must be the person it is filed under. Ids that exist
already are accepted only when the file says what the database holds (a no-op), so an import
can be re-run; a record the database holds as not final and the file as final is finalized, and
an import never makes a final record not final again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from issuer.db.registry import (
    Person,
    Record,
    finalize_record,
    insert_persons,
    insert_records,
    persons_by_id,
    records_by_id,
)
from issuer.registry.record_shape import check_shape, child
from schemas.loader import CREDENTIAL_TYPES, SchemaError
from schemas.registry_record import claims_from_record
from verifier import strict_json
from verifier.errors import InvalidCredential

MAX_IMPORT_BYTES = 64 * 1024 * 1024  # the whole file is held in memory: import in batches

MESSAGES: dict[str, str] = {
    "json_malformed": "the file is not valid JSON",
    "json_duplicate_key": "an object has a duplicate member name",
    "json_too_deep": "the file nests too deeply",
    "invalid_type": "the value has the wrong JSON type",
    "missing_field": "a required member is missing",
    "unknown_field": "the member is not part of the format",
    "invalid_value": "the value is not one of those allowed",
    "invalid_id": "an id must be 1-64 letters, digits, '.', '_' or '-'",
    "invalid_name": "a name must be 1-200 characters without control characters",
    "invalid_date": "a date must be a real calendar date written YYYY-MM-DD",
    "unknown_credential_type": "the type is not one of DUO's credential types",
    "duplicate_id": "the id appears earlier in the file",
    "id_conflict": "the id exists in the registry with other content",
    "person_mismatch": "the record names another person than the one it is filed under",
    "record_kind_mismatch": "this kind of register record cannot give this type",
    "record_incomplete": "the record lacks a field the credential needs",
    "record_inconsistent": "fields of the record contradict each other",
    "record_not_awarded": "the register records no awarded diploma",
    "claims_schema_invalid": "the claims made from the record break the type's schema",
}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PERSON_FIELDS = {"id", "given_name", "family_name", "birthdate", "records"}
_RECORD_FIELDS = {"id", "type", "final", "record"}


@dataclass(frozen=True)
class Rejection:
    """One rejected row: where (JSON Pointer into the file) and why (a stable code)."""

    pointer: str
    code: str
    claim: str | None = None  # for claims_schema_invalid: the JSON Pointer of the failing claim

    def as_dict(self) -> dict[str, str]:
        found = {"pointer": self.pointer, "code": self.code, "message": MESSAGES[self.code]}
        return found if self.claim is None else {**found, "claim": self.claim}


@dataclass
class ImportReport:
    """The outcome: counts of rows written and of identical rows found, or the rejections."""

    persons_imported: int = 0
    records_imported: int = 0
    persons_unchanged: int = 0
    records_unchanged: int = 0
    records_finalized: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": {"persons": self.persons_imported, "records": self.records_imported},
            "unchanged": {"persons": self.persons_unchanged, "records": self.records_unchanged},
            "finalized": {"records": self.records_finalized},
            "rejected": [r.as_dict() for r in self.rejected],
        }


@dataclass
class ParsedDocument:
    """The persons and records of a file that passed the checks, and every rejection."""

    persons: list[tuple[str, Person]] = field(default_factory=list)  # (pointer, person)
    records: list[tuple[str, Record]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def reject(self, pointer: str, code: str, claim: str | None = None) -> None:
        self.rejected.append(Rejection(pointer, code, claim))


def _members(value: Any, allowed: set[str], pointer: str, parsed: ParsedDocument) -> bool:
    if not isinstance(value, dict):
        parsed.reject(pointer, "invalid_type")
        return False
    for key in value:
        if key not in allowed:
            parsed.reject(child(pointer, key), "unknown_field")
    return True


def _text(value: Any, pointer: str, parsed: ParsedDocument, code: str) -> bool:
    if value is None:
        parsed.reject(pointer, "missing_field")
        return False
    if not isinstance(value, str):
        parsed.reject(pointer, "invalid_type")
        return False
    if code == "invalid_id":
        ok = _ID.fullmatch(value) is not None
    elif code == "invalid_date":
        ok = _DATE.fullmatch(value) is not None and _is_date(value)
    else:
        ok = 0 < len(value) <= 200 and not _CONTROL.search(value)
    if not ok:
        parsed.reject(pointer, code)
    return ok


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _unique(value: str, seen: set[str], pointer: str, parsed: ParsedDocument) -> bool:
    if value in seen:
        parsed.reject(pointer, "duplicate_id")
        return False
    seen.add(value)
    return True


def _person(entry: Any, pointer: str, parsed: ParsedDocument, seen: set[str]) -> Person | None:
    if not _members(entry, _PERSON_FIELDS, pointer, parsed):
        return None
    checks = [
        ("id", "invalid_id"),
        ("given_name", "invalid_name"),
        ("family_name", "invalid_name"),
        ("birthdate", "invalid_date"),
    ]
    ok = all([_text(entry.get(key), f"{pointer}/{key}", parsed, code) for key, code in checks])
    if not ok or not _unique(entry["id"], seen, f"{pointer}/id", parsed):
        return None
    return Person(entry["id"], entry["given_name"], entry["family_name"], entry["birthdate"])


def _register_record(value: Any, type_name: Any, pointer: str, parsed: ParsedDocument) -> bool:
    """True when the record has the right shape and its type is known."""
    if value is None:
        parsed.reject(pointer, "missing_field")
        return False
    problems = check_shape(value, pointer)
    for where, code in problems:
        parsed.reject(where, code)
    return not problems and type_name in CREDENTIAL_TYPES


def _record(
    entry: Any, owner: Person | None, pointer: str, parsed: ParsedDocument, seen: set[str]
) -> None:
    if not _members(entry, _RECORD_FIELDS, pointer, parsed):
        return
    ok = _text(entry.get("id"), f"{pointer}/id", parsed, "invalid_id")
    ok = ok and _unique(entry["id"], seen, f"{pointer}/id", parsed)
    type_name, final = entry.get("type"), entry.get("final", True)
    if type_name is None:
        parsed.reject(f"{pointer}/type", "missing_field")
    elif type_name not in CREDENTIAL_TYPES:
        parsed.reject(f"{pointer}/type", "unknown_credential_type")
    if type(final) is not bool:
        parsed.reject(f"{pointer}/final", "invalid_type")
        ok = False
    data = entry.get("record")
    if not _register_record(data, type_name, f"{pointer}/record", parsed):
        return
    try:
        claims = claims_from_record(data, type_name=type_name)
    except SchemaError as error:
        parsed.reject(f"{pointer}/record", error.code, error.pointer or None)
        return
    person = (claims["given_name"], claims["family_name"], claims["birthdate"])
    if owner is not None and person != (owner.given_name, owner.family_name, owner.birthdate):
        parsed.reject(f"{pointer}/record/person", "person_mismatch")
    elif ok and owner is not None:
        parsed.records.append((pointer, Record(entry["id"], owner.id, type_name, data, final)))


def parse_document(document: bytes | str) -> ParsedDocument:
    """Check the whole file without the database: format, ids, records and their claims."""
    parsed = ParsedDocument()
    try:
        top = strict_json.loads(document)
    except InvalidCredential as error:
        parsed.reject("", error.code)
        return parsed
    if not _members(top, {"persons"}, "", parsed):
        return parsed
    entries = top.get("persons")
    if not isinstance(entries, list):
        parsed.reject("/persons", "missing_field" if entries is None else "invalid_type")
        return parsed
    person_ids: set[str] = set()
    record_ids: set[str] = set()
    for i, entry in enumerate(entries):
        person = _person(entry, f"/persons/{i}", parsed, person_ids)
        if person is not None:
            parsed.persons.append((f"/persons/{i}", person))
        rows = entry.get("records", []) if isinstance(entry, dict) else []
        if not isinstance(rows, list):
            parsed.reject(f"/persons/{i}/records", "invalid_type")
            continue
        for j, row in enumerate(rows):
            _record(row, person, f"/persons/{i}/records/{j}", parsed, record_ids)
    return parsed


def import_registry(conn: Connection, document: bytes | str, *, now: datetime) -> ImportReport:
    """Check ``document`` fully, then write it in the caller's transaction, or write nothing."""
    parsed = parse_document(document)
    report = ImportReport(rejected=parsed.rejected)
    known_people = persons_by_id(conn, (p.id for _, p in parsed.persons))
    known_rows = records_by_id(conn, (r.id for _, r in parsed.records))
    new_people, new_rows = [], []
    for pointer, person in parsed.persons:
        if person.id not in known_people:
            new_people.append(person)
        elif known_people[person.id] == person:
            report.persons_unchanged += 1
        else:
            report.rejected.append(Rejection(f"{pointer}/id", "id_conflict"))
    finalize: list[str] = []
    for pointer, record in parsed.records:
        known = known_rows.get(record.id)
        if known is None:
            new_rows.append(record)
        elif (known.person_id, known.type, known.data) != (
            record.person_id,
            record.type,
            record.data,
        ):
            report.rejected.append(Rejection(f"{pointer}/id", "id_conflict"))
        elif record.final and not known.final:
            finalize.append(record.id)
        else:  # identical, or final already (an import never makes a record not final again)
            report.records_unchanged += 1
    if report.rejected:
        report.persons_unchanged = report.records_unchanged = 0
        return report
    insert_persons(conn, new_people, now=now)
    insert_records(conn, new_rows, now=now)
    report.records_finalized = sum(finalize_record(conn, rid, now=now) for rid in finalize)
    report.persons_imported, report.records_imported = len(new_people), len(new_rows)
    return report
