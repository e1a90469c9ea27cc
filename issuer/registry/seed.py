"""Deterministic synthetic registry data (issue 3, deliverable 1: ``duo-issuer registry seed``).

``generate(n, seed=s)`` draws everything from one ``random.Random(s)``, person after person, so
the same seed always gives the same persons, records and opaque ids, and the first k persons of
``generate(n)`` are those of ``generate(k)``. Person i's first record has the diploma kind
``KINDS[i % 20]``: the 19 diploma types of the claims contract and an enrolment, so any n >= 20
covers every diploma type and all five credential types (n >= 5 already covers the five types).
Every second round of 20 gives its higher-education persons (Ad excepted) an award before 2000
with month precision, as the register's older records have; person i with i % 10 == 7 has a
first record that is not final yet (deferred issuance). About half the persons also get a
follow-on record (a bachelor after vwo, a master after a bachelor, ...).

Dates follow the register's coverage (shared/DOMAIN.md): HO from 1996, VO from 2006, MBO from
2007, state exams and NT2 from 2011; nothing is dated after 2025.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from issuer.db.registry import (
    Person,
    Record,
    insert_persons,
    insert_records,
    persons_by_id,
    records_by_id,
)
from issuer.registry import catalogue, synthetic

KINDS: tuple[str, ...] = (
    "wo_bachelor", "vwo", "nt2_ii", "inburgering", "enrolment", "mbo_4", "hbo_bachelor", "havo",
    "vmbo_tl", "wo_master", "staatsexamen_vo", "mbo_2", "hbo_master", "vmbo_bb", "nt2_i",
    "hbo_ad", "mbo_3", "vmbo_kb", "mbo_1", "vmbo_gl",
)  # fmt: skip

Builder = Callable[[random.Random, dict[str, Any], str, int], dict[str, Any]]


@dataclass(frozen=True)
class Family:
    """How one family of kinds is built: first year in the register, builder, credential types."""

    first_year: int
    build: Builder
    types: tuple[str, ...]


_VO = Family(2006, synthetic.vo, ("diploma", "grade_list"))
_FAMILIES = {
    "vo": _VO,
    "staatsexamen_vo": Family(2011, synthetic.vo, _VO.types),
    "mbo": Family(2007, synthetic.mbo, _VO.types),
    "ho": Family(2000, synthetic.ho, ("diploma",)),  # 1996-1999 only as "old" records
    "nt2": Family(2011, synthetic.nt2, ("nt2_diploma",)),
    "inburgering": Family(2015, synthetic.inburgering, ("inburgering",)),
    "enrolment": Family(2012, synthetic.enrolment, ("enrolment",)),
}
# Age range at award (or at the start of an enrolment).
_AGES = {
    "vmbo": (16, 17), "havo": (17, 18), "vwo": (18, 19), "staatsexamen_vo": (17, 25),
    "mbo_1": (17, 19), "mbo_2": (18, 20), "mbo_3": (19, 21), "mbo_4": (20, 22),
    "hbo_ad": (20, 23), "hbo_bachelor": (21, 24), "wo_bachelor": (21, 23),
    "hbo_master": (24, 30), "wo_master": (23, 26), "nt2": (20, 45), "inburgering": (22, 50),
    "enrolment": (18, 23),
}  # fmt: skip
_FOLLOW_ON = {
    "vmbo_bb": "mbo_2", "vmbo_kb": "mbo_3", "vmbo_gl": "mbo_3", "vmbo_tl": "mbo_4",
    "havo": "hbo_bachelor", "vwo": "wo_bachelor", "staatsexamen_vo": "hbo_bachelor",
    "mbo_1": "mbo_2", "mbo_2": "mbo_3", "mbo_3": "mbo_4", "mbo_4": "hbo_ad",
    "hbo_ad": "hbo_bachelor", "hbo_bachelor": "hbo_master", "wo_bachelor": "wo_master",
    "nt2_i": "nt2_ii", "nt2_ii": "inburgering", "inburgering": "nt2_i",
}  # fmt: skip


@dataclass(frozen=True)
class SeedReport:
    """What a seeding run found and wrote."""

    seed: int
    persons_created: int
    persons_existing: int
    records_created: int
    records_existing: int
    person_ids: tuple[str, ...]


def family_of(kind: str) -> str:
    """The family (key of the builders table) of a diploma kind or ``enrolment``."""
    if kind.startswith(("vmbo", "havo", "vwo")):
        return "vo"
    if kind.startswith(("hbo", "wo_")):
        return "ho"
    if kind.startswith(("mbo", "nt2")):
        return kind[:3]
    return kind  # staatsexamen_vo, inburgering, enrolment


class _Draw:
    """The one random source of a run and the opaque ids it has handed out."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
        self.used: set[str] = set()

    def opaque(self, prefix: str, bits: int) -> str:
        while True:
            value = f"{prefix}{self.rng.getrandbits(bits):0{bits // 4}x}"
            if value not in self.used:
                self.used.add(value)
                return value

    def age(self, kind: str) -> int:
        key = "vmbo" if kind.startswith("vmbo") else "nt2" if kind.startswith("nt2") else kind
        return self.rng.randint(*_AGES[key])


def _name(draw: _Draw, index: int) -> dict[str, str]:
    culture, given, surnames = catalogue.NAMES[index % len(catalogue.NAMES)]
    names = [draw.rng.choice(given)]
    if culture in catalogue.SEVERAL_GIVEN_NAMES and draw.rng.random() < 0.5:
        names.append(draw.rng.choice([g for g in given if g != names[0]]))
    prefix, surname = draw.rng.choice(surnames)
    name = {"given_names": " ".join(names), "surname": surname}
    return {**name, "prefix": prefix} if prefix else name


def _follow_on(draw: _Draw, kind: str, birth: date, year: int) -> list[tuple[str, int]]:
    after = _FOLLOW_ON.get(kind)
    if after is None or draw.rng.random() >= 0.5:
        return []
    when = max(birth.year + draw.age(after), year + 1)
    first = _FAMILIES[family_of(after)].first_year
    return [(after, when)] if first <= when <= synthetic.LAST_YEAR else []


def _one(draw: _Draw, index: int) -> tuple[Person, list[Record]]:
    kind = KINDS[index % len(KINDS)]
    family = _FAMILIES[family_of(kind)]
    old = family_of(kind) == "ho" and kind != "hbo_ad" and (index // len(KINDS)) % 2 == 1
    first = 1996 if old else family.first_year
    year = draw.rng.randint(first, 1999 if old else synthetic.LAST_YEAR)
    birth = synthetic.day(draw.rng, year - draw.age(kind))
    name = _name(draw, index)
    prefix = name.get("prefix")
    family_name = f"{prefix} {name['surname']}" if prefix else name["surname"]
    person = Person(draw.opaque("p-", 48), name["given_names"], family_name, birth.isoformat())
    register_person = {"name": name, "birth_date": person.birthdate}
    rows: list[Record] = []
    for current, when in [(kind, year), *_follow_on(draw, kind, birth, year)]:
        chosen = _FAMILIES[family_of(current)]
        base = {"record_id": draw.opaque("rec-", 64), "person": register_person}
        data = chosen.build(draw.rng, base, current, when)
        final = current != kind or index % 10 != 7
        rows += [Record(draw.opaque("r-", 48), person.id, t, data, final) for t in chosen.types]
    return person, rows


def generate(persons: int, *, seed: int) -> list[tuple[Person, list[Record]]]:
    """``persons`` synthetic persons with their records, the same for the same seed."""
    draw = _Draw(seed)
    return [_one(draw, index) for index in range(persons)]


def seed_registry(conn: Connection, *, persons: int, seed: int, now: datetime) -> SeedReport:
    """Write ``generate(persons, seed=seed)``, skipping ids that exist already (idempotent)."""
    generated = generate(persons, seed=seed)
    people = [person for person, _ in generated]
    rows = [record for _, records in generated for record in records]
    known_people = persons_by_id(conn, (p.id for p in people))
    known_rows = records_by_id(conn, (r.id for r in rows))
    new_people = [p for p in people if p.id not in known_people]
    new_rows = [r for r in rows if r.id not in known_rows]
    insert_persons(conn, new_people, now=now)
    insert_records(conn, new_rows, now=now)
    return SeedReport(
        seed=seed,
        persons_created=len(new_people),
        persons_existing=len(known_people),
        records_created=len(new_rows),
        records_existing=len(known_rows),
        person_ids=tuple(p.id for p in people),
    )
