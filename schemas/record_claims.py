"""Register record -> claims, per credential type (claims contract).

The per-type builders behind ``schemas.registry_record.claims_from_record``. NLQF, EQF and ISCED
2011 levels come from the DOMAIN.md table in schemas.qualification_explanations; the CEFR levels
of NT2 and inburgering are below. Builders index the record directly: a missing field raises
KeyError, which claims_from_record reports as ``record_incomplete``.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from schemas.loader import SchemaError
from schemas.qualification_explanations import LEVELS, Levels

if TYPE_CHECKING:
    from schemas.registry_record import (
        ComponentResult,
        DiplomaRecord,
        EnrolmentRecord,
        GradeLine,
        InburgeringRecord,
        Institution,
        PersonName,
        RegisterRecord,
    )


NT2_CEFR: Mapping[str, str] = MappingProxyType({"I": "B1", "II": "B2"})
INBURGERING_CEFR: Mapping[str, str] = MappingProxyType({"WI2013": "A2", "WI2021": "B1"})
_SCHEME_BY_SECTOR = {"HO": "CROHO", "MBO": "CREBO", "VO": "VO", "NT2": "NT2"}
_STUDY_MODE = {"VT": "fulltime", "DT": "parttime", "DU": "dual"}
_FINAL_WORDS = {"V": "voldoende", "G": "goed", "voldoende": "voldoende", "goed": "goed"}


def family_name(name: PersonName) -> str:
    """The family name as the register writes it: prefix (voorvoegsel) and surname joined."""
    prefix = name.get("prefix", "").strip()
    return f"{prefix} {name['surname']}" if prefix else name["surname"]


def diploma_type(record: DiplomaRecord) -> str:
    """The contract's diploma_type of a diploma record."""
    sector = record["sector"]
    if sector == "VO":
        if record.get("state_exam"):
            return "staatsexamen_vo"
        return record["vo_school_type"].lower()
    if sector == "MBO":
        return f"mbo_{int(record['mbo_level'])}"
    if sector == "HO":
        he_type, degree = record["he_type"], record["he_degree"]
        if degree == "AD" and he_type != "HBO":
            raise SchemaError("record_inconsistent", "associate degrees are HBO only")
        return "hbo_ad" if degree == "AD" else f"{he_type.lower()}_{degree.lower()}"
    return "nt2_i" if record["nt2_programme"] == "I" else "nt2_ii"


def levels_of(record: DiplomaRecord) -> Levels:
    """NLQF/EQF/ISCED levels of a diploma record (DOMAIN.md table, kept in
    schemas.qualification_explanations). A VO state exam has the levels of its school type; MBO 4
    specialist programmes are ISCED 4."""
    kind = diploma_type(record)
    if kind == "staatsexamen_vo":
        kind = record["vo_school_type"].lower()
    levels = LEVELS[kind]
    if kind == "mbo_4" and record.get("mbo_specialist"):
        return dataclasses.replace(levels, isced=4)
    return levels


def _person(record: RegisterRecord) -> dict[str, Any]:
    person = record["person"]
    return {
        "given_name": person["name"]["given_names"],
        "family_name": family_name(person["name"]),
        "birthdate": person["birth_date"],
    }


def _award_date(record: DiplomaRecord) -> str:
    date = record["award_date"]
    return date[:7] if record["award_date_precision"] == "month" else date


def _institution(institution: Institution) -> dict[str, Any]:
    claims: dict[str, Any] = {"name": institution["name"], "brin": institution["brin"]}
    if "city" in institution:
        claims["city"] = institution["city"]
    return claims


def _programme_code(record: DiplomaRecord) -> dict[str, str]:
    expected = _SCHEME_BY_SECTOR[record["sector"]]
    if record["sector"] == "VO" and record.get("state_exam"):
        expected = "STAATSEXAMEN"
    scheme = record["programme"]["code_scheme"]
    if scheme != expected:
        raise SchemaError("record_inconsistent", "programme code scheme does not fit the sector")
    return {"scheme": scheme, "code": record["programme"]["code"]}


def _common(record: DiplomaRecord) -> dict[str, Any]:
    if record["result"] != "passed":
        raise SchemaError("record_not_awarded", "the register records no awarded diploma")
    if "institution" not in record:
        raise SchemaError("record_incomplete", "the record names no institution")
    return {
        **_person(record),
        "diploma_type": diploma_type(record),
        "programme_code": _programme_code(record),
        "institution": _institution(record["institution"]),
        "award_date": _award_date(record),
    }


def _judicium(record: DiplomaRecord) -> str | None:
    if record.get("cum_laude"):
        return "cum_laude"
    if record.get("with_merit"):
        return "met_genoegen"
    return "none" if "cum_laude" in record or "with_merit" in record else None


def _diploma(record: DiplomaRecord) -> dict[str, Any]:
    levels = levels_of(record)
    programme = record["programme"]
    claims: dict[str, Any] = {
        **_common(record),
        "qualification_name": {"nl": programme["name_nl"], "en": programme["name_en"]},
        "nlqf_level": levels.nlqf,
        "eqf_level": levels.eqf,
        "issuing_country": "NL",
        "record_id": record["record_id"],
        "degree_title": record.get("degree_title"),
        "judicium": _judicium(record),
        "isced_level": levels.isced,
        "isced_f_code": programme.get("isced_f_code"),
        "credits_ects": programme.get("credits_ects"),
        "study_mode": _STUDY_MODE.get(record.get("study_mode", "")),
        "mbo_pathway": record.get("mbo_pathway"),
        "cefr_level": NT2_CEFR.get(record.get("nt2_programme", "")),
    }
    return {k: v for k, v in claims.items() if v is not None}


def _mark(mark: str | None) -> str | None:
    return None if mark is None else mark.strip().replace(",", ".")


def _subject(line: GradeLine) -> dict[str, Any]:
    final = line["final_mark"].strip()
    return {
        "name": {"nl": line["subject_name_nl"], "en": line["subject_name_en"]},
        "code": line["subject_code"],
        "school_exam_mark": _mark(line["school_exam_mark"]),
        "central_exam_mark": _mark(line["central_exam_mark"]),
        "final_mark": _FINAL_WORDS.get(final, final.replace(",", ".")),
    }


def _grade_list(record: DiplomaRecord) -> dict[str, Any]:
    if record["sector"] not in ("VO", "MBO"):
        raise SchemaError("record_kind_mismatch", "grade lists exist for VO and MBO only")
    common = _common(record)
    levels = levels_of(record)
    claims: dict[str, Any] = {
        **common,
        "record_id": record["record_id"],
        "issuing_country": "NL",
        "subjects": [_subject(line) for line in record["grades"]],
        "profile": record.get("vo_profile"),
        "final_project_title": record.get("final_project_title"),
        "nlqf_level": levels.nlqf,
        "eqf_level": levels.eqf,
    }
    return {k: v for k, v in claims.items() if v is not None}


def _components(results: list[ComponentResult]) -> list[dict[str, str]]:
    return [
        {"component": r["component"], "result": r["result"], "date": r["date"]} for r in results
    ]


def _nt2(record: DiplomaRecord) -> dict[str, Any]:
    if record["sector"] != "NT2":
        raise SchemaError("record_kind_mismatch", "not an NT2 state exam record")
    if record["result"] != "passed":
        raise SchemaError("record_not_awarded", "the register records no awarded diploma")
    return {
        **_person(record),
        "diploma_type": diploma_type(record),
        "cefr_level": NT2_CEFR[record["nt2_programme"]],
        "award_date": _award_date(record),
        "record_id": record["record_id"],
        "issuing_country": "NL",
        "exam_components": _components(record["nt2_components"]),
    }


def _one_year_after(date_text: str) -> str:
    """The same calendar day a year later (29 February -> 28 February)."""
    date = datetime.date.fromisoformat(date_text)
    try:
        return date.replace(year=date.year + 1).isoformat()
    except ValueError:
        return date.replace(year=date.year + 1, day=28).isoformat()


def _inburgering(record: InburgeringRecord) -> dict[str, Any]:
    claims: dict[str, Any] = {
        **_person(record),
        "diploma_type": "inburgering",
        "law": record["law"].lower(),
        "record_id": record["record_id"],
        "issuing_country": "NL",
        "exam_components": _components(record["components"]),
    }
    if "diploma_date" in record:
        claims["award_date"] = record["diploma_date"]
        claims["cefr_level"] = INBURGERING_CEFR[record["law"]]
    if "basic_exam_abroad" in record:
        exam = record["basic_exam_abroad"]
        claims["basisexamen_abroad"] = {
            "result": exam["result"],
            "date": exam["date"],
            "valid_until": _one_year_after(exam["date"]),
        }
    return claims


def _enrolment(record: EnrolmentRecord) -> dict[str, Any]:
    programme, institution = record["programme"], record["institution"]
    if programme["code_scheme"] != "CROHO":
        raise SchemaError("record_inconsistent", "enrolments are in CROHO programmes")
    claims: dict[str, Any] = {
        **_person(record),
        "crohoCreboCode": programme["code"],
        "institutionBRINCode": institution["brin"],
        "institution_name": institution["name"],
        "programme_name": {"nl": programme["name_nl"], "en": programme["name_en"]},
        "phase": record["phase"],
        "modeOfStudy": _STUDY_MODE[record["study_mode"]],
        "startDate": record["enrolment_date"],
        "record_id": record["record_id"],
        "issuing_country": "NL",
    }
    if "deregistration_date" in record:
        claims["endDate"] = record["deregistration_date"]
    return claims


#: Per credential type: the record kind it needs and its builder.
BUILDERS: Mapping[str, tuple[str, Callable[[Any], dict[str, Any]]]] = MappingProxyType(
    {
        "diploma": ("diploma", _diploma),
        "grade_list": ("diploma", _grade_list),
        "nt2_diploma": ("diploma", _nt2),
        "inburgering": ("inburgering", _inburgering),
        "enrolment": ("enrolment", _enrolment),
    }
)
