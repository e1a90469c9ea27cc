"""``duo-issuer registry``: seed, import, list and finalize DUO's records (issue 3, deliverable 1).

Every command takes ``--data-dir`` (else DUO_DATA_DIR, else ./data) and ``--json``; the database
is ``Settings.sqlalchemy_url`` (SQLite in the data directory, or DATABASE_URL). A failure prints
one line on stderr and exits with status 1; a rejected import prints its report (every rejected
row, as JSON Pointer and code) and exits with status 1 having written nothing. The clock is read
here, once per command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from issuer.config import ConfigError, Settings
from issuer.db import create_schema, make_engine
from issuer.db.registry import (
    Record,
    all_records,
    finalize_record,
    get_person,
    get_record,
    list_persons,
    records_of,
)
from issuer.registry import RegistryError, summary
from issuer.registry.importer import MAX_IMPORT_BYTES, import_registry
from issuer.registry.seed import seed_registry
from schemas.loader import CREDENTIAL_TYPES

PROG = "duo-issuer registry"
MAX_SEED_PERSONS = 100_000

Command = Callable[[argparse.Namespace], int]


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``registry`` group with ``seed``, ``import``, ``list`` and ``finalize``."""
    parser = groups.add_parser("registry", help="DUO's persons and education records")
    commands = parser.add_subparsers(dest="registry_command", required=True)
    seed = commands.add_parser("seed", help="add deterministic synthetic persons and records")
    seed.add_argument("--persons", type=_count, required=True, help="number of persons")
    seed.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seed.set_defaults(run=_guarded(_seed))
    load = commands.add_parser("import", help="load a registry file: all of it or nothing")
    load.add_argument("file", type=Path, help="JSON file (docs/registry-import.md)")
    load.set_defaults(run=_guarded(_import))
    listing = commands.add_parser("list", help="persons and their records")
    listing.add_argument("--person", help="only this person id")
    listing.set_defaults(run=_guarded(_list))
    finalize = commands.add_parser("finalize", help="mark a record final (ends deferral)")
    finalize.add_argument("--record", required=True, help="record id")
    finalize.set_defaults(run=_guarded(_finalize))
    for command in (seed, load, listing, finalize):
        command.add_argument(
            "--data-dir", default=None, help="data directory (default: $DUO_DATA_DIR, else ./data)"
        )
        command.add_argument("--json", action="store_true", help="print JSON")


def _count(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= MAX_SEED_PERSONS:
        raise argparse.ArgumentTypeError(f"a number from 1 to {MAX_SEED_PERSONS}")
    return int(text)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def _guarded(command: Command) -> Command:
    """Run ``command``; a known failure becomes one stderr line and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (RegistryError, ConfigError) as error:
            return _fail(f"{error.detail} ({error.code})")
        except IntegrityError:
            return _fail("another writer changed the same ids; nothing written (registry_conflict)")
        except SQLAlchemyError:
            return _fail("the database cannot be used (database_unavailable)")
        except OSError as error:
            return _fail(f"cannot use the data directory: {error.strerror or 'I/O error'}")

    return run


@contextmanager
def _transaction(args: argparse.Namespace) -> Iterator[Connection]:
    """One transaction on the configured database; tables are created when missing."""
    settings = Settings.from_env(data_dir=args.data_dir)
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _seed(args: argparse.Namespace) -> int:
    with _transaction(args) as conn:
        report = seed_registry(conn, persons=args.persons, seed=args.seed, now=datetime.now(UTC))
    if args.json:
        _print_json(
            {
                "seed": report.seed,
                "persons": {"created": report.persons_created, "existing": report.persons_existing},
                "records": {"created": report.records_created, "existing": report.records_existing},
                "person_ids": list(report.person_ids),
            }
        )
    else:
        print(
            f"seed {report.seed}: {report.persons_created} persons created, "
            f"{report.persons_existing} existed; {report.records_created} records created, "
            f"{report.records_existing} existed"
        )
    return 0


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise RegistryError("import_too_large", "the file is larger than 64 MiB; split it")
    return data


def _import(args: argparse.Namespace) -> int:
    try:
        document = _read(args.file)
    except OSError as error:
        return _fail(f"cannot read the import file: {error.strerror or 'I/O error'}")
    with _transaction(args) as conn:
        report = import_registry(conn, document, now=datetime.now(UTC))
    if args.json:
        _print_json(report.as_dict())
    elif report.rejected:
        for rejection in report.rejected:
            claim = f" (claim {rejection.claim})" if rejection.claim else ""
            where = rejection.pointer or "/"
            print(f"{PROG}: rejected {where}: {rejection.code}{claim}", file=sys.stderr)
    else:
        print(
            f"imported {report.persons_imported} persons and {report.records_imported} "
            f"records; {report.persons_unchanged} persons and {report.records_unchanged} "
            f"records were already there; {report.records_finalized} records finalized"
        )
    if report.rejected:
        return _fail(f"{len(report.rejected)} rejected rows; nothing imported (import_rejected)")
    return 0


def _chronological(record: Record) -> tuple[str, int, str]:
    """Records in the order of their dates, a diploma before its grade list."""
    found = summary(record)
    when = found["award_date"] or found["start_date"] or ""
    order = CREDENTIAL_TYPES.index(record.type) if record.type in CREDENTIAL_TYPES else 99
    return when, order, record.id


def _listing(conn: Connection, person_id: str | None) -> dict[str, Any]:
    if person_id is not None:
        person = get_person(conn, person_id)
        if person is None:
            raise RegistryError("person_not_found", "no person has this id")
        people, rows = [person], records_of(conn, person_id)
    else:
        people, rows = list_persons(conn), all_records(conn)
    entries: list[dict[str, Any]] = [{**asdict(p), "records": []} for p in people]
    by_id = {entry["id"]: entry for entry in entries}
    for record in sorted(rows, key=_chronological):
        by_id[record.person_id]["records"].append(
            {
                "id": record.id,
                "type": record.type,
                "final": record.final,
                "summary": summary(record),
            }
        )
    return {"persons": entries}


def _list(args: argparse.Namespace) -> int:
    with _transaction(args) as conn:
        listing = _listing(conn, args.person)
    if args.json:
        _print_json(listing)
        return 0
    for person in listing["persons"]:
        print(
            f"{person['id']}  {person['family_name']}, {person['given_name']}  "
            f"born {person['birthdate']}"
        )
        for entry in person["records"]:
            row = entry["summary"]
            state = "final" if entry["final"] else "not final"
            date = row["award_date"] or row["start_date"] or "-"
            name = (row["qualification_name"] or {}).get("en", "-")
            where = f" ({row['institution']})" if row["institution"] else ""
            kind = row["diploma_type"] or "-"
            print(
                f"  {entry['id']}  {entry['type']:<12} {state:<9} {kind:<15} {date:<10} "
                f"{name}{where}"
            )
    return 0


def _finalize(args: argparse.Namespace) -> int:
    with _transaction(args) as conn:
        if get_record(conn, args.record) is None:
            raise RegistryError("record_not_found", "no record has this id")
        changed = finalize_record(conn, args.record, now=datetime.now(UTC))
    if args.json:
        _print_json({"id": args.record, "final": True, "changed": changed})
    else:
        print(f"record {args.record} " + ("is now final" if changed else "was final already"))
    return 0
