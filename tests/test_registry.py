"""The registry (issue 3, deliverable 1): seed, import, list, finalize, on SQLite and PostgreSQL.

Seeding is deterministic and covers every diploma type of the claims contract and all five
credential types; every seeded record maps to valid claims (shared/DOMAIN.md, docs/
credential-types.md). Import is all or nothing and reports every rejected row by JSON Pointer and
code, never with a value from the file (shared/DESIGN.md §7 rule 7).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from issuer_support import Database

from issuer import cli
from issuer.db import create_schema
from issuer.db.registry import (
    Person,
    Record,
    all_records,
    claims_for,
    finalize_record,
    get_person,
    get_record,
    list_persons,
    records_of,
)
from issuer.db.tables import persons, records
from issuer.registry import catalogue
from issuer.registry.importer import MESSAGES, import_registry, parse_document
from issuer.registry.seed import KINDS, generate, seed_registry
from schemas.loader import CREDENTIAL_TYPES, SchemaError, example_record, validate_claims
from schemas.qualification_explanations import DIPLOMA_TYPES
from schemas.registry_record import claims_from_record

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Generated = list[tuple[Person, list[Record]]]


@cache
def _generated(persons: int, seed: int) -> Generated:
    return generate(persons, seed=seed)


def _document(generated: Generated) -> dict[str, Any]:
    """The import file holding ``generated`` (docs/registry-import.md)."""
    return {
        "persons": [
            {
                "id": p.id,
                "given_name": p.given_name,
                "family_name": p.family_name,
                "birthdate": p.birthdate,
                "records": [
                    {"id": r.id, "type": r.type, "final": r.final, "record": r.data} for r in rows
                ],
            }
            for p, rows in generated
        ]
    }


def _encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _counts(engine: sqlalchemy.engine.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        people = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(persons))
        rows = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(records))
        return int(people.scalar_one()), int(rows.scalar_one())


@pytest.fixture
def schema(engine: sqlalchemy.engine.Engine) -> sqlalchemy.engine.Engine:
    create_schema(engine)
    return engine


# --- seed: pure generation ---------------------------------------------------------------------


def test_seed_is_deterministic_with_opaque_ids() -> None:
    """Same seed, same data; another seed, other data; the first k persons do not depend on n."""
    first = _generated(40, 7)
    assert generate(40, seed=7) == first
    assert generate(15, seed=7) == first[:15]
    assert [p.id for p, _ in generate(40, seed=8)] != [p.id for p, _ in first]
    person_ids = [p.id for p, _ in first]
    record_ids = [r.id for _, rows in first for r in rows]
    assert len(set(person_ids)) == 40 and len(set(record_ids)) == len(record_ids)
    assert all(re.fullmatch(r"p-[0-9a-f]{12}", i) for i in person_ids)
    assert all(re.fullmatch(r"r-[0-9a-f]{12}", i) for i in record_ids)
    register_ids = {r.data["record_id"] for _, rows in first for r in rows}
    assert all(re.fullmatch(r"rec-[0-9a-f]{16}", i) for i in register_ids)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_seeded_record_maps_to_valid_claims_and_all_types_are_covered(seed: int) -> None:
    """40 persons: all 19 diploma types and all 5 credential types, each record valid claims of
    its type naming its own person."""
    diploma_types, credential_types = set(), set()
    for person, rows in _generated(40, seed):
        assert rows
        for record in rows:
            claims = claims_from_record(record.data, type_name=record.type)
            validate_claims(record.type, claims)
            assert (claims["given_name"], claims["family_name"], claims["birthdate"]) == (
                person.given_name,
                person.family_name,
                person.birthdate,
            )
            assert record.person_id == person.id
            credential_types.add(record.type)
            diploma_types.add(claims.get("diploma_type"))
    assert set(DIPLOMA_TYPES) <= diploma_types
    assert credential_types == set(CREDENTIAL_TYPES)
    assert len(KINDS) == len(DIPLOMA_TYPES) + 1


def test_five_persons_already_give_all_five_credential_types() -> None:
    types = {r.type for _, rows in _generated(5, 0) for r in rows}
    assert types == set(CREDENTIAL_TYPES)


def _records(generated: Generated) -> list[Record]:
    return [r for _, rows in generated for r in rows]


def test_seed_has_names_from_many_scripts_and_tussenvoegsels() -> None:
    names = " ".join(f"{p.given_name} {p.family_name}" for p, _ in _generated(40, 0))
    for script in ("[\u0600-\u06ff]", "[\u4e00-\u9fff]", "[\u0400-\u04ff]", "[\u0900-\u097f]"):
        assert re.search(script, names), script  # Arabic, Han, Cyrillic, Devanagari
    assert re.search("[\u00c0-\u024f]", names)  # Latin with diacritics: ş, ł, ñ, ç, ...
    generated = _generated(40, 0)
    for index, (_, given, _) in enumerate(catalogue.NAMES):  # every culture has persons
        assert set(generated[index][0].given_name.split(" ")) <= set(" ".join(given).split(" "))
    prefixes = {r.data["person"]["name"].get("prefix") for r in _records(_generated(40, 0))}
    assert {"van der", "de"} <= prefixes or {"van", "de"} <= prefixes
    assert any(p.family_name.startswith(("van ", "de ", "ter ")) for p, _ in _generated(40, 0))


def test_seed_has_old_month_precision_records_grade_lists_and_components() -> None:
    rows = _records(_generated(40, 0))
    old = [r.data for r in rows if r.data.get("award_date_precision") == "month"]
    assert old and all(d["sector"] == "HO" and d["award_date"] < "2000" for d in old)
    assert all(len(d["award_date"]) == 7 for d in old)
    grades = [r.data for r in rows if r.type == "grade_list"]
    assert {d["sector"] for d in grades} == {"VO", "MBO"}
    marks = [g["school_exam_mark"] for d in grades for g in d["grades"]]
    assert any(m and "," in m for m in marks)  # the register's decimal comma
    finals = {g["final_mark"] for d in grades for g in d["grades"]}
    assert {"V", "G"} & finals
    nt2 = [r.data for r in rows if r.type == "nt2_diploma"]
    assert {d["nt2_programme"] for d in nt2} == {"I", "II"}
    assert all(len(d["nt2_components"]) == 4 for d in nt2)
    inburgering = [r.data for r in rows if r.type == "inburgering"]
    assert inburgering and all(len(d["components"]) >= 6 for d in inburgering)


def test_seed_dates_follow_register_coverage() -> None:
    first = {"HO": "1996", "VO": "2006", "MBO": "2007", "NT2": "2011"}
    for person, rows in _generated(40, 1):
        for record in rows:
            data = record.data
            when = data.get("award_date") or data.get("diploma_date") or data.get("enrolment_date")
            if when is None:  # inburgering still under way
                continue
            assert person.birthdate < when <= "2025-12-31"
            if "sector" in data:
                floor = "2011" if data.get("state_exam") else first[data["sector"]]
                assert when >= floor


def test_not_final_records_are_those_of_every_tenth_person() -> None:
    generated = _generated(40, 0)
    for index, (_, rows) in enumerate(generated):
        first_register_id = rows[0].data["record_id"]
        for record in rows:
            expected = not (index % 10 == 7 and record.data["record_id"] == first_register_id)
            assert record.final is expected


# --- data access on both databases -------------------------------------------------------------


def test_seed_is_idempotent_and_reads_back_unchanged(schema: sqlalchemy.engine.Engine) -> None:
    """Seeding twice writes nothing new; persons (every script) and records read back equal."""
    with schema.begin() as conn:
        report = seed_registry(conn, persons=25, seed=3, now=NOW)
    total = len(_records(_generated(25, 3)))
    assert (report.persons_created, report.records_created) == (25, total)
    with schema.begin() as conn:
        again = seed_registry(conn, persons=25, seed=3, now=NOW)
    assert (again.persons_created, again.records_created) == (0, 0)
    assert (again.persons_existing, again.records_existing) == (25, total)
    assert _counts(schema) == (25, total)
    with schema.begin() as conn:
        more = seed_registry(conn, persons=27, seed=3, now=NOW)
    assert (more.persons_created, more.persons_existing) == (2, 25)
    with schema.connect() as conn:
        for person, rows in _generated(27, 3):
            assert get_person(conn, person.id) == person
            assert records_of(conn, person.id) == sorted(rows, key=lambda r: r.id)
            for record in rows:
                assert get_record(conn, record.id) == record
                claims_for(record)
        assert [p.id for p in list_persons(conn)] == sorted(p.id for p, _ in _generated(27, 3))
        assert len(all_records(conn)) == len(_records(_generated(27, 3)))
        assert get_person(conn, "p-unknown") is None and get_record(conn, "r-unknown") is None


def test_claims_for_rejects_a_record_that_cannot_give_its_type() -> None:
    good = Record("r1", "p1", "grade_list", example_record("grade_list"), True)
    assert claims_for(good)["subjects"]
    with pytest.raises(SchemaError) as caught:
        claims_for(Record("r2", "p1", "enrolment", example_record("diploma"), True))
    assert caught.value.code == "record_kind_mismatch"


def test_finalize_record_changes_a_record_once(schema: sqlalchemy.engine.Engine) -> None:
    """VCI-35: deferred issuance waits for a final record; finalize flips it once (one
    conditional UPDATE, so two callers cannot both finalize)."""
    with schema.begin() as conn:
        seed_registry(conn, persons=10, seed=0, now=NOW)
    pending = [r for r in _records(_generated(10, 0)) if not r.final]
    assert pending
    with schema.begin() as conn:
        assert finalize_record(conn, pending[0].id, now=NOW) is True
        assert finalize_record(conn, pending[0].id, now=NOW) is False
        assert finalize_record(conn, "r-unknown", now=NOW) is False
    with schema.connect() as conn:
        record = get_record(conn, pending[0].id)
        assert record is not None and record.final


# --- import ------------------------------------------------------------------------------------


def test_import_writes_a_file_and_a_rerun_is_a_no_op(schema: sqlalchemy.engine.Engine) -> None:
    """A re-run changes nothing; ``final`` defaults to true (docs/registry-import.md)."""
    generated = _generated(6, 4)
    data = _document(generated)
    for entry in data["persons"]:
        for row in entry["records"]:
            if row["final"]:
                del row["final"]
    document = _encode(data)
    with schema.begin() as conn:
        report = import_registry(conn, document, now=NOW)
    total = len(_records(generated))
    assert (report.persons_imported, report.records_imported, report.rejected) == (6, total, [])
    with schema.begin() as conn:
        again = import_registry(conn, document, now=NOW)
    assert (again.persons_imported, again.records_imported) == (0, 0)
    assert (again.persons_unchanged, again.records_unchanged) == (6, total)
    with schema.connect() as conn:
        for person, rows in generated:
            assert get_person(conn, person.id) == person
            assert records_of(conn, person.id) == sorted(rows, key=lambda r: r.id)


def _bad_document() -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """Four good persons, then many bad rows at once, with the (pointer, code) each must get."""
    document = _document(_generated(8, 5))
    entries = document["persons"]
    expected = set()

    def record(i: int, j: int = 0) -> dict[str, Any]:
        return entries[i]["records"][j]["record"]  # type: ignore[no-any-return]

    entries[4]["birthdate"] = "1990-02-30"
    expected.add(("/persons/4/birthdate", "invalid_date"))
    entries[4]["given_name"] = ""
    expected.add(("/persons/4/given_name", "invalid_name"))
    entries[5]["records"][0]["type"] = "transcript"
    expected.add(("/persons/5/records/0/type", "unknown_credential_type"))
    entries[5]["records"][0]["final"] = "yes"
    expected.add(("/persons/5/records/0/final", "invalid_type"))
    entries[6]["id"] = entries[0]["id"]
    expected.add(("/persons/6/id", "duplicate_id"))
    entries[7]["records"][0]["record"] = data = copy.deepcopy(record(7))
    data["person"]["birth_date"] = "1950-01-01"
    expected.add(("/persons/7/records/0/record/person", "person_mismatch"))
    return document, expected


def test_import_reports_every_bad_row_and_writes_nothing(schema: sqlalchemy.engine.Engine) -> None:
    """All or nothing: several bad rows reported at once, no row of the file written, and the
    report names no value from the file."""
    document, expected = _bad_document()
    diploma = copy.deepcopy(example_record("diploma"))
    person = diploma["person"]
    base = {"given_name": "Sanne Johanna", "family_name": "van der Berg"}
    rows: list[tuple[dict[str, Any], str, str]] = [
        ({"cum_laud": True}, "/record/cum_laud", "unknown_field"),
        ({"sector": "XX"}, "/record/sector", "invalid_value"),
        ({"result": "failed"}, "/record", "record_not_awarded"),
        ({"award_date": "2021-13-01"}, "/record", "claims_schema_invalid"),
        ({"mbo_level": True}, "/record/mbo_level", "invalid_value"),
        ({"programme": {**diploma["programme"], "code": 56981}}, "/record/programme/code",
         "invalid_type"),
    ]  # fmt: skip
    entry = {**base, "id": "p-extra", "birthdate": person["birth_date"], "records": []}
    for j, (change, where, code) in enumerate(rows):
        entry["records"].append(
            {"id": f"r-extra-{j}", "type": "diploma", "record": diploma | change}
        )
        expected.add((f"/persons/8/records/{j}{where}", code))
    no_name = copy.deepcopy(diploma)
    del no_name["programme"]["name_en"]
    entry["records"].append({"id": "r-extra-x", "type": "diploma", "record": no_name})
    expected.add(("/persons/8/records/6/record/programme/name_en", "missing_field"))
    entry["records"].append({"id": "bad id!", "type": "enrolment", "record": diploma})
    expected.add(("/persons/8/records/7/id", "invalid_id"))
    expected.add(("/persons/8/records/7/record", "record_kind_mismatch"))
    document["persons"].append(entry)
    with schema.begin() as conn:
        report = import_registry(conn, _encode(document), now=NOW)
    assert {(r.pointer, r.code) for r in report.rejected} == expected
    assert len(report.rejected) == len(expected)
    claims = [r.claim for r in report.rejected if r.code == "claims_schema_invalid"]
    assert claims == ["/award_date"]
    assert _counts(schema) == (0, 0)
    text = json.dumps(report.as_dict(), ensure_ascii=False)
    for person_entry in document["persons"]:
        for value in (person_entry["given_name"], person_entry["family_name"]):
            assert not value or value not in text
        assert person_entry["birthdate"] not in text
    assert all(r["message"] == MESSAGES[r["code"]] for r in report.as_dict()["rejected"])


def test_import_rejects_changed_ids_and_finalizes_but_never_unfinalizes(
    schema: sqlalchemy.engine.Engine,
) -> None:
    generated = _generated(10, 0)
    document = _document(generated)
    with schema.begin() as conn:
        import_registry(conn, _encode(document), now=NOW)
    changed = copy.deepcopy(document)
    changed["persons"][0]["family_name"] = "Other"
    row = changed["persons"][1]["records"][0]
    row["record"] = {**row["record"], "record_id": "rec-other"}
    changed["persons"].append({**document["persons"][0], "id": "p-new", "records": []})
    with schema.begin() as conn:
        report = import_registry(conn, _encode(changed), now=NOW)
    mismatches = {
        (f"/persons/0/records/{j}/record/person", "person_mismatch")
        for j in range(len(generated[0][1]))
    }
    assert {(r.pointer, r.code) for r in report.rejected} == {
        ("/persons/0/id", "id_conflict"),
        ("/persons/1/records/0/id", "id_conflict"),
        *mismatches,
    }
    with schema.connect() as conn:
        assert get_person(conn, "p-new") is None
    pending = next(i for i, (_, rows) in enumerate(generated) if not rows[0].final)
    finals = copy.deepcopy(document)
    for row in finals["persons"][pending]["records"]:
        row["final"] = True
    with schema.begin() as conn:
        report = import_registry(conn, _encode(finals), now=NOW)
    assert report.rejected == [] and report.records_finalized >= 1
    with schema.begin() as conn:
        report = import_registry(conn, _encode(document), now=NOW)  # says "not final" again
    assert report.rejected == [] and report.records_finalized == 0
    with schema.connect() as conn:
        assert all(r.final for r in records_of(conn, generated[pending][0].id))


_ONE_ROW = (
    b'{"persons": [{"id": "p", "given_name": "A", "family_name": "B", "birthdate": "2000-01-01",'
    b' "records": [%s]}]}'
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"persons": [], "persons": []}', [("", "json_duplicate_key")]),
        (b"not json", [("", "json_malformed")]),
        (b"[]", [("", "invalid_type")]),
        (b"{}", [("/persons", "missing_field")]),
        (b'{"persons": 3}', [("/persons", "invalid_type")]),
        (b'{"persons": [], "extra": 1}', [("/extra", "unknown_field")]),
        (b'{"persons": [], "Jan Jansen": 1}', [("", "unknown_field")]),
        (b'{"persons": [7]}', [("/persons/0", "invalid_type")]),
        (b'{"persons": [{"records": {}}]}', [
            ("/persons/0/id", "missing_field"), ("/persons/0/given_name", "missing_field"),
            ("/persons/0/family_name", "missing_field"), ("/persons/0/birthdate", "missing_field"),
            ("/persons/0/records", "invalid_type")]),
        (_ONE_ROW % b'{"id": "r", "type": "diploma"}',
         [("/persons/0/records/0/record", "missing_field")]),
        (_ONE_ROW % b'{"id": "r", "type": "diploma", "record": {"kind": "x"}}',
         [("/persons/0/records/0/record/kind", "invalid_value")]),
        (_ONE_ROW % b'{"id": "r", "type": "diploma", "record": []}',
         [("/persons/0/records/0/record", "invalid_type")]),
    ],
)  # fmt: skip
def test_import_rejects_malformed_files(text: bytes, expected: list[tuple[str, str]]) -> None:
    """Strict JSON (shared/DESIGN.md: duplicate names rejected) and the documented shape only;
    a member name that is not a plain word never appears in a pointer."""
    parsed = parse_document(text)
    assert [(r.pointer, r.code) for r in parsed.rejected] == expected


# --- CLI ---------------------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_env(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """DATABASE_URL names the test database; the returned options name a fresh data directory."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.delenv("DUO_DATA_DIR", raising=False)
    return ["--data-dir", str(tmp_path / "data")]


SUMMARY_KEYS = {
    "record_id",
    "diploma_type",
    "qualification_name",
    "institution",
    "award_date",
    "start_date",
    "end_date",
}


def test_cli_seed_list_and_finalize(cli_env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The documented JSON shapes (docs/cli.md), unicode names intact, exit codes 0 and 1."""
    code, out, _ = _run(
        capsys, "registry", "seed", "--persons", "12", "--seed", "9", "--json", *cli_env
    )
    seeded = json.loads(out)
    assert code == 0 and seeded["persons"] == {"created": 12, "existing": 0}
    assert seeded["person_ids"] == [p.id for p, _ in _generated(12, 9)]
    code, out, _ = _run(capsys, "registry", "seed", "--persons", "12", "--seed", "9", *cli_env)
    assert code == 0 and "0 persons created, 12 existed" in out
    code, out, _ = _run(capsys, "registry", "list", "--json", *cli_env)
    listing = json.loads(out)["persons"]
    expected = {p.id: p for p, _ in _generated(12, 9)}
    assert code == 0 and len(listing) == 12
    for entry in listing:
        assert set(entry) == {"id", "given_name", "family_name", "birthdate", "records"}
        person = expected[entry["id"]]
        assert (entry["given_name"], entry["family_name"]) == (
            person.given_name,
            person.family_name,
        )
        for row in entry["records"]:
            assert set(row) == {"id", "type", "final", "summary"}
            assert set(row["summary"]) == SUMMARY_KEYS
    pending = next(r for e in listing for r in e["records"] if not r["final"])
    code, out, _ = _run(
        capsys, "registry", "finalize", "--record", pending["id"], "--json", *cli_env
    )
    assert code == 0 and json.loads(out) == {"id": pending["id"], "final": True, "changed": True}
    code, out, _ = _run(
        capsys, "registry", "finalize", "--record", pending["id"], "--json", *cli_env
    )
    assert code == 0 and json.loads(out)["changed"] is False
    code, out, err = _run(capsys, "registry", "finalize", "--record", "r-nope", *cli_env)
    assert (code, out) == (1, "") and err.count("\n") == 1 and "(record_not_found)" in err
    one = listing[0]["id"]
    code, out, _ = _run(capsys, "registry", "list", "--person", one, "--json", *cli_env)
    assert code == 0 and [p["id"] for p in json.loads(out)["persons"]] == [one]
    code, out, _ = _run(capsys, "registry", "list", "--person", one, *cli_env)
    assert code == 0 and one in out and expected[one].family_name in out
    code, out, err = _run(capsys, "registry", "list", "--person", "p-nope", *cli_env)
    assert (code, out) == (1, "") and err.count("\n") == 1 and "(person_not_found)" in err


def test_cli_import_exit_codes(
    cli_env: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(_encode(_document(_generated(3, 2))))
    document, expected = _bad_document()
    bad.write_bytes(_encode(document))
    code, out, err = _run(capsys, "registry", "import", str(bad), "--json", *cli_env)
    report = json.loads(out)
    assert code == 1 and "(import_rejected)" in err
    assert {(r["pointer"], r["code"]) for r in report["rejected"]} == expected
    code, out, err = _run(capsys, "registry", "import", str(bad), *cli_env)
    assert (code, out) == (1, "") and err.count("\n") == len(expected) + 1
    code, out, _ = _run(capsys, "registry", "import", str(good), "--json", *cli_env)
    assert code == 0 and json.loads(out)["imported"]["persons"] == 3
    code, out, _ = _run(capsys, "registry", "import", str(good), *cli_env)
    assert code == 0 and "3 persons and" in out
    code, out, err = _run(capsys, "registry", "import", str(tmp_path / "missing.json"), *cli_env)
    assert (code, out) == (1, "") and err.count("\n") == 1


def test_cli_uses_duo_data_dir_and_sqlite_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DUO_DATA_DIR", str(tmp_path / "env-data"))
    code, _, _ = _run(capsys, "registry", "seed", "--persons", "2")
    assert code == 0 and (tmp_path / "env-data" / "duo.sqlite3").is_file()
    with pytest.raises(SystemExit):
        cli.main(["registry", "seed", "--persons", "0"])
