"""DUO's registry of education records: synthetic seeding, file import and record summaries.

Issue 3, deliverable 1. The data access lives in issuer.db.registry; this package fills it:
``seed`` makes deterministic synthetic persons and records, ``importer`` loads the documented
JSON format of docs/registry-import.md (all or nothing). ``summary`` is what a service desk needs
to pick a record: the diploma type, the qualification's name, the institution and the dates.
"""

from __future__ import annotations

from typing import Any

from issuer.db.registry import Record
from schemas.loader import SchemaError
from schemas.record_claims import diploma_type


class RegistryError(Exception):
    """A registry command that cannot go on: a stable ``code`` and a fixed ``detail``.

    The detail never contains personal data or input values; ids are opaque and may be named by
    the caller (the CLI), not here.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


INBURGERING_NAMES: dict[str, dict[str, str]] = {
    "WI2013": {"nl": "Inburgering (Wet inburgering 2013)", "en": "Civic integration (2013 Act)"},
    "WI2021": {"nl": "Inburgering (Wet inburgering 2021)", "en": "Civic integration (2021 Act)"},
}


def _names(programme: Any) -> dict[str, str] | None:
    if isinstance(programme, dict) and "name_nl" in programme and "name_en" in programme:
        return {"nl": programme["name_nl"], "en": programme["name_en"]}
    return None


def _diploma_type(data: dict[str, Any]) -> str | None:
    try:
        return diploma_type(data)  # type: ignore[arg-type]
    except (SchemaError, KeyError, TypeError, ValueError, AttributeError):
        return None


def summary(record: Record) -> dict[str, Any]:
    """The record at a glance; keys that do not apply to its kind are None."""
    data = record.data
    kind = data.get("kind")
    institution = data.get("institution")
    found: dict[str, Any] = {
        "record_id": data.get("record_id"),
        "diploma_type": None,
        "qualification_name": _names(data.get("programme")),
        "institution": institution.get("name") if isinstance(institution, dict) else None,
        "award_date": None,
        "start_date": None,
        "end_date": None,
    }
    if kind == "diploma":
        found["diploma_type"] = _diploma_type(data)
        date = data.get("award_date")
        month = data.get("award_date_precision") == "month"
        found["award_date"] = date[:7] if month and isinstance(date, str) else date
    elif kind == "inburgering":
        found["diploma_type"] = "inburgering"
        found["qualification_name"] = INBURGERING_NAMES.get(str(data.get("law")))
        found["award_date"] = data.get("diploma_date")
    elif kind == "enrolment":
        found["start_date"] = data.get("enrolment_date")
        found["end_date"] = data.get("deregistration_date")
    return found
