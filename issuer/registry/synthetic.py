"""Synthetic register records of each kind (schemas.registry_record), for ``registry seed``.

Each builder takes the run's random source, the record's base (``record_id`` and ``person``), the
diploma kind and the year of award (or of the start of an enrolment), and returns a register
record that ``schemas.registry_record.claims_from_record`` maps to valid claims. Marks are
written as the register writes them: a decimal comma ("6,8"), V/G for voldoende/goed. Dates stay
within the year given, except component dates of NT2 and inburgering, which precede the award.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from issuer.registry import catalogue as cat

_ALL_MONTHS = tuple(range(1, 13))
_HO = {
    "hbo_ad": ("HBO", "AD"),
    "hbo_bachelor": ("HBO", "BACHELOR"),
    "hbo_master": ("HBO", "MASTER"),
    "wo_bachelor": ("WO", "BACHELOR"),
    "wo_master": ("WO", "MASTER"),
}
_ENROLMENT_YEARS = {"AD": 2, "MASTER": 1, "BACHELOR": 3}
LAST_YEAR = 2025


def day(rng: random.Random, year: int, months: tuple[int, ...] = _ALL_MONTHS) -> date:
    """A day of ``year`` in one of ``months`` (days 1-28, so every month has it)."""
    return date(year, rng.choice(months), rng.randint(1, 28))


def _institution(entry: cat.Institution) -> dict[str, str]:
    return {"brin": entry[0], "name": entry[1], "city": entry[2]}


def _programme(code: str, scheme: str, name_nl: str, name_en: str) -> dict[str, Any]:
    return {"code": code, "code_scheme": scheme, "name_nl": name_nl, "name_en": name_en}


def _comma(mark: float) -> str:
    return f"{mark:.1f}".replace(".", ",")


def _final(mark: float) -> str:
    return str(max(1, min(10, int(mark + 0.5))))


def _grade(rng: random.Random, subject: cat.Subject, state_exam: bool) -> dict[str, Any]:
    code, name_nl, name_en, exam = subject
    line = {"subject_code": code, "subject_name_nl": name_nl, "subject_name_en": name_en}
    school: float | None = rng.randint(55, 89) / 10
    central: float | None = None
    if exam == "vg":
        return {
            **line,
            "school_exam_mark": None,
            "central_exam_mark": None,
            "final_mark": rng.choice("VG"),
        }
    if exam == "ce" or state_exam:
        central = round(min(10.0, max(1.0, (school or 0) + rng.randint(-12, 8) / 10)), 1)
    if state_exam:  # a state exam has central exams only
        school = None
    marks = [m for m in (school, central) if m is not None]
    return {
        **line,
        "school_exam_mark": None if school is None else _comma(school),
        "central_exam_mark": None if central is None else _comma(central),
        "final_mark": _final(sum(marks) / len(marks)),
    }


def vo(rng: random.Random, base: dict[str, Any], kind: str, year: int) -> dict[str, Any]:
    """A VO diploma with its grade list; ``staatsexamen_vo`` gives a state exam diploma."""
    state_exam = kind == "staatsexamen_vo"
    vo_kind = rng.choice(("vmbo_tl", "havo", "vwo")) if state_exam else kind
    school_type, code, name_nl, name_en, profiles = cat.VO_PROGRAMMES[vo_kind]
    if vo_kind.startswith("vmbo"):
        subjects = list(cat.VMBO_SUBJECTS)
    else:
        subjects = [*cat.HAVO_VWO_CORE, *rng.sample(cat.HAVO_VWO_ELECTIVES, 4)]
    programme = _programme(code, "VO", name_nl, name_en)
    school = rng.choice(cat.VO_SCHOOLS)
    if state_exam:
        subjects = [s for s in subjects if s[3] != "vg"]
        name_nl, name_en = f"Staatsexamen: {name_nl}", f"State examination: {name_en}"
        programme = _programme(f"SE-{code}", "STAATSEXAMEN", name_nl, name_en)
        school = cat.STATE_EXAM_BOARD
    record = {
        **base,
        "kind": "diploma",
        "sector": "VO",
        "programme": programme,
        "institution": _institution(school),
        "award_date": day(rng, year, (6, 7)).isoformat(),
        "award_date_precision": "day",
        "result": "passed",
        "vo_school_type": school_type,
        "vo_profile": rng.choice(profiles),
        "grades": [_grade(rng, s, state_exam) for s in subjects],
    }
    if state_exam:
        record["state_exam"] = True
    elif vo_kind in ("havo", "vwo"):
        record["final_project_title"] = rng.choice(cat.PROJECT_TITLES)
    return record


def mbo(rng: random.Random, base: dict[str, Any], kind: str, year: int) -> dict[str, Any]:
    """An MBO diploma (level from ``kind``) with its grade list."""
    level = int(kind[-1])
    specialist = level == 4 and rng.random() < 0.2
    code, name_nl, name_en = (
        cat.MBO_SPECIALIST if specialist else rng.choice(cat.MBO_PROGRAMMES[level])
    )
    skip = {"en", "rek"} if level == 1 else {"en"} if level < 4 else set()
    record = {
        **base,
        "kind": "diploma",
        "sector": "MBO",
        "programme": _programme(code, "CREBO", name_nl, name_en),
        "institution": _institution(rng.choice(cat.MBO_SCHOOLS)),
        "award_date": day(rng, year, (1, 2, 6, 7, 8, 12)).isoformat(),
        "award_date_precision": "day",
        "result": "passed",
        "mbo_level": level,
        "mbo_pathway": rng.choice(("BOL", "BBL")),
        "grades": [_grade(rng, s, False) for s in cat.MBO_SUBJECTS if s[0] not in skip],
    }
    if specialist:
        record["mbo_specialist"] = True
    return record


def ho(rng: random.Random, base: dict[str, Any], kind: str, year: int) -> dict[str, Any]:
    """An HBO or WO degree; before 2000 with month precision and no judicium flags."""
    he_type, degree = _HO[kind]
    code, name_nl, name_en, isced_f, ects, title = rng.choice(cat.HO_PROGRAMMES[_HO[kind]])
    institutions = cat.WO_INSTITUTIONS if he_type == "WO" else cat.HBO_INSTITUTIONS
    modes = ("VT", "DT") if he_type == "WO" else ("VT", "DT", "DU")
    awarded, old = day(rng, year).isoformat(), year < 2000
    record = {
        **base,
        "kind": "diploma",
        "sector": "HO",
        "programme": {
            **_programme(code, "CROHO", name_nl, name_en),
            "isced_f_code": isced_f,
            "credits_ects": ects,
        },
        "institution": _institution(rng.choice(institutions)),
        "award_date": awarded[:7] if old else awarded,
        "award_date_precision": "month" if old else "day",
        "result": "passed",
        "he_type": he_type,
        "he_degree": degree,
        "degree_title": title,
        "study_mode": rng.choice(modes),
    }
    if not old and rng.random() < 0.6:  # judicium flags only where the register knows them
        record["cum_laude"] = rng.random() < 0.15
        record["with_merit"] = not record["cum_laude"] and rng.random() < 0.2
    return record


def nt2(rng: random.Random, base: dict[str, Any], kind: str, year: int) -> dict[str, Any]:
    """A Staatsexamen NT2 diploma (programme I or II) with its four components."""
    programme = "I" if kind == "nt2_i" else "II"
    awarded = day(rng, year, tuple(range(3, 13)))
    components = []
    for name in ("reading", "listening", "speaking", "writing"):
        exempt = rng.random() < 0.1
        before = rng.randint(400, 900) if exempt else rng.randint(10, 60)
        when = (awarded - timedelta(days=before)).isoformat()
        result = "exempt" if exempt else "passed"
        components.append({"component": name, "result": result, "date": when})
    name_nl = f"Staatsexamen Nederlands als tweede taal, programma {programme}"
    name_en = f"State Examination of Dutch as a Second Language, Programme {programme}"
    return {
        **base,
        "kind": "diploma",
        "sector": "NT2",
        "programme": _programme(f"NT2-{programme}", "NT2", name_nl, name_en),
        "award_date": awarded.isoformat(),
        "award_date_precision": "day",
        "result": "passed",
        "nt2_programme": programme,
        "nt2_components": components,
    }


def inburgering(rng: random.Random, base: dict[str, Any], _kind: str, year: int) -> dict[str, Any]:
    """Inburgering results under the law of ``year``; the diploma once nothing has failed."""
    law = "WI2021" if year >= 2022 else "WI2013"
    names = ["reading", "listening", "speaking", "writing", "knm"]
    if law == "WI2013":
        names.append("ona")
    else:
        names += ["map", "pvt"] if rng.random() < 0.5 else ["map"]
    start = day(rng, year, tuple(range(1, 7)))
    components, dates = [], []
    for name in names:
        roll = rng.random()
        result = "failed" if roll < 0.08 else "exempt" if roll < 0.14 else "passed"
        dates.append(start + timedelta(days=rng.randint(0, 120)))
        components.append({"component": name, "result": result, "date": dates[-1].isoformat()})
    record: dict[str, Any] = {**base, "kind": "inburgering", "law": law, "components": components}
    if all(c["result"] != "failed" for c in components):
        record["diploma_date"] = (max(dates) + timedelta(days=rng.randint(14, 40))).isoformat()
    if rng.random() < 0.4:  # basisexamen inburgering buitenland, taken before arrival
        taken = start - timedelta(days=rng.randint(200, 900))
        record["basic_exam_abroad"] = {"result": "passed", "date": taken.isoformat()}
    return record


def enrolment(rng: random.Random, base: dict[str, Any], _kind: str, year: int) -> dict[str, Any]:
    """A higher-education enrolment starting on 1 September of ``year``."""
    key = rng.choice((("WO", "BACHELOR"), ("WO", "MASTER"), ("HBO", "BACHELOR"), ("HBO", "AD")))
    code, name_nl, name_en, *_ = rng.choice(cat.HO_PROGRAMMES[key])
    phase = {"AD": "associate_degree", "MASTER": "master"}.get(key[1])
    institutions = cat.WO_INSTITUTIONS if key[0] == "WO" else cat.HBO_INSTITUTIONS
    record = {
        **base,
        "kind": "enrolment",
        "programme": _programme(code, "CROHO", name_nl, name_en),
        "institution": _institution(rng.choice(institutions)),
        "phase": phase or rng.choice(("propedeuse", "bachelor")),
        "study_mode": rng.choice(("VT", "DT")),
        "enrolment_date": f"{year}-09-01",
    }
    end = year + _ENROLMENT_YEARS[key[1]]
    if end <= LAST_YEAR:
        record["deregistration_date"] = f"{end}-08-31"
    return record
