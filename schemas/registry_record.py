"""DUO register extract -> claims of the five credential types (claims contract; DOMAIN.md levels).

A register record is what DUO's diploma register (diplomaregister) and its sister registers hold
for one diploma, one inburgering file or one higher-education enrolment. Field names are English;
the Dutch terms they translate are named once, here:

- sector: VO (voortgezet onderwijs, secondary), MBO (vocational), HO (hoger onderwijs, higher
  education), NT2 (Staatsexamen Nederlands als tweede taal). Inburgering and enrolment records
  have their own record kinds.
- programme.code: the opleidingscode; code_scheme names its register: CROHO (higher education),
  CREBO (MBO), VO, STAATSEXAMEN, NT2, INBURGERING.
- institution.brin: the BRIN code; institution.city: the vestigingsplaats (seat).
- award_date: the diplomadatum, with award_date_precision "month" for older records.
- person.name: voornamen (given_names), voorvoegsel (prefix, e.g. "van der"), geslachtsnaam
  (surname without prefix); person.birth_date: geboortedatum.
- result: the uitslag, "passed" (geslaagd) or "failed" (afgewezen); only passed records give
  credentials.
- VO: vo_school_type (onderwijssoort) VMBO_BB/KB/GL/TL (basis/kader/gemengd/theoretisch), HAVO,
  VWO; state_exam for a VO diploma obtained through the staatsexamen; vo_profile (profiel);
  final_project_title (profielwerkstuk); grades (cijferlijst) with school exam (schoolexamen),
  central exam (centraal examen) and final marks (eindcijfer) written as in the register, with a
  decimal comma ("6,8") and V/G for voldoende/goed.
- MBO: mbo_level (niveau 1-4), mbo_pathway (leerweg BOL school-based / BBL work-based),
  mbo_specialist (specialistenopleiding, ISCED 4).
- HO: he_type HBO/WO, he_degree AD/BACHELOR/MASTER (graad), degree_title (e.g. "Bachelor of
  Science"), cum_laude and with_merit (met genoegen) flags where known, study_mode
  (opleidingsvorm VT voltijd / DT deeltijd / DU duaal).
- NT2: nt2_programme I (CEFR B1) or II (CEFR B2) and the component results.
- Inburgering: law WI2013/WI2021 (Wet inburgering), component results, diploma_date, and the
  basisexamen inburgering buitenland (basic_exam_abroad), valid one year from its date.
- Enrolment: phase (opleidingsfase), study_mode, enrolment_date (inschrijvingsdatum) and
  deregistration_date (uitschrijvingsdatum).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

from schemas.loader import SchemaError, validate_claims
from schemas.record_claims import BUILDERS


class PersonName(TypedDict):
    given_names: str
    prefix: NotRequired[str]
    surname: str


class Person(TypedDict):
    name: PersonName
    birth_date: str


class Institution(TypedDict):
    brin: str
    name: str
    city: NotRequired[str]


class Programme(TypedDict):
    code: str
    code_scheme: Literal["CROHO", "CREBO", "VO", "STAATSEXAMEN", "NT2", "INBURGERING"]
    name_nl: str
    name_en: str
    isced_f_code: NotRequired[str]
    credits_ects: NotRequired[int | float]


class GradeLine(TypedDict):
    subject_code: str
    subject_name_nl: str
    subject_name_en: str
    school_exam_mark: str | None
    central_exam_mark: str | None
    final_mark: str


class ComponentResult(TypedDict):
    component: str
    result: Literal["passed", "failed", "exempt"]
    date: str


class DiplomaRecord(TypedDict):
    kind: Literal["diploma"]
    record_id: str
    sector: Literal["VO", "MBO", "HO", "NT2"]
    person: Person
    programme: Programme
    institution: NotRequired[Institution]
    award_date: str
    award_date_precision: Literal["day", "month"]
    result: Literal["passed", "failed"]
    vo_school_type: NotRequired[Literal["VMBO_BB", "VMBO_KB", "VMBO_GL", "VMBO_TL", "HAVO", "VWO"]]
    state_exam: NotRequired[bool]
    vo_profile: NotRequired[str]
    final_project_title: NotRequired[str]
    grades: NotRequired[list[GradeLine]]
    mbo_level: NotRequired[Literal[1, 2, 3, 4]]
    mbo_pathway: NotRequired[Literal["BOL", "BBL"]]
    mbo_specialist: NotRequired[bool]
    he_type: NotRequired[Literal["HBO", "WO"]]
    he_degree: NotRequired[Literal["AD", "BACHELOR", "MASTER"]]
    degree_title: NotRequired[str]
    cum_laude: NotRequired[bool]
    with_merit: NotRequired[bool]
    study_mode: NotRequired[Literal["VT", "DT", "DU"]]
    nt2_programme: NotRequired[Literal["I", "II"]]
    nt2_components: NotRequired[list[ComponentResult]]


class BasicExamAbroad(TypedDict):
    result: Literal["passed", "failed"]
    date: str


class InburgeringRecord(TypedDict):
    kind: Literal["inburgering"]
    record_id: str
    person: Person
    law: Literal["WI2013", "WI2021"]
    components: list[ComponentResult]
    diploma_date: NotRequired[str]
    basic_exam_abroad: NotRequired[BasicExamAbroad]


class EnrolmentRecord(TypedDict):
    kind: Literal["enrolment"]
    record_id: str
    person: Person
    programme: Programme
    institution: Institution
    phase: Literal["propedeuse", "bachelor", "master", "associate_degree"]
    study_mode: Literal["VT", "DT", "DU"]
    enrolment_date: str
    deregistration_date: NotRequired[str]


RegisterRecord = DiplomaRecord | InburgeringRecord | EnrolmentRecord


def claims_from_record(record: Mapping[str, Any], *, type_name: str) -> dict[str, Any]:
    """The claims file of ``type_name`` for a register record, validated against the schema.

    SchemaError codes: ``unknown_credential_type``; ``record_kind_mismatch`` (this record cannot
    give this type); ``record_incomplete`` (a field the mapping needs is missing or mistyped);
    ``record_inconsistent`` (fields contradict each other); ``record_not_awarded``;
    ``claims_schema_invalid`` (the result breaks the schema, e.g. a malformed date).
    """
    if type_name not in BUILDERS:
        raise SchemaError("unknown_credential_type", "not one of DUO's credential types")
    kind, build = BUILDERS[type_name]
    if record.get("kind") != kind:
        raise SchemaError("record_kind_mismatch", "this record kind cannot give this type")
    try:
        claims = build(record)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise SchemaError("record_incomplete", "record lacks a field or has a bad value") from None
    validate_claims(type_name, claims)
    return claims
