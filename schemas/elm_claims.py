"""Reading DUO claims for the VCDM 2.0 mappings (ELM/EDC, Open Badges 3.0), and their envelope.

The claim names and values are those of the claims contract (the five credential types); the
checks here refuse what a mapping cannot carry, with :class:`MappingError` codes. Envelope rules:
W3C VCDM 2.0 §4.4 (``id`` is a URL), §4.7 (``issuer`` is a URL), §4.9 (``validFrom`` is an
xsd:dateTimeStamp, timezone required) and §4.10 (a ``credentialStatus`` has a ``type``).
Messages are fixed strings: no claim value is ever echoed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from schemas.qualification_explanations import LEVELS

VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VCDM11_CONTEXT = "https://www.w3.org/2018/credentials/v1"

NLQF_LEVELS = frozenset({"1", "2", "3", "4", "4+", "5", "6", "7", "8"})
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_DATE = re.compile(r"\d{4}-\d{2}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_ISCED_F = re.compile(r"\d{2,4}")
EQF_BASE = "http://data.europa.eu/snb/eqf/"
ISCED_F_BASE = "http://data.europa.eu/snb/isced-f/"


class MappingError(ValueError):
    """The claims or envelope parameters cannot be mapped; ``code`` says which rule."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def claim(claims: dict[str, Any], name: str) -> Any:
    """A required claim, or MappingError ``mapping_missing_claim``."""
    if name not in claims:
        raise MappingError("mapping_missing_claim", "a required claim is missing")
    return claims[name]


def member(claims: dict[str, Any], name: str, key: str) -> Any:
    """A required string member of an object claim (e.g. institution.brin)."""
    value = claim(claims, name)
    if not isinstance(value, dict) or not isinstance(value.get(key), str):
        raise MappingError("mapping_missing_claim", "a required claim member is missing")
    return value[key]


def text(claims: dict[str, Any], name: str) -> str:
    """A required non-empty string claim."""
    value = claim(claims, name)
    if not isinstance(value, str) or not value:
        raise MappingError("mapping_missing_claim", "a required text claim is missing")
    return value


def choice(claims: dict[str, Any], name: str, allowed: Collection[str]) -> str:
    """A required claim that must be one of the contract's values (``mapping_bad_value``)."""
    value = claim(claims, name)
    if not isinstance(value, str) or value not in allowed:
        raise MappingError("mapping_bad_value", "a claim is not one of the contract's values")
    return value


def objects(claims: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A required non-empty array claim whose elements are objects."""
    value = claim(claims, name)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise MappingError("mapping_bad_value", "an array claim is not a list of objects")
    return value


def lang_text(value: Any) -> dict[str, str]:
    """A ``{nl, en}`` text object (qualification_name, subject name, programme_name)."""
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("nl", "en")):
        raise MappingError("mapping_missing_claim", "a required {nl, en} text is missing")
    return {lang: value[lang] for lang in ("nl", "en")}


def diploma_type(claims: dict[str, Any]) -> str:
    """The diploma_type claim, one of the contract's 19 values."""
    value = claim(claims, "diploma_type")
    if value not in LEVELS:
        raise MappingError("mapping_bad_diploma_type", "diploma_type is not a contract value")
    return str(value)


def check_envelope(*, issuer: str, credential_id: str, valid_from: str) -> None:
    """VCDM 2.0 §4.4/§4.7: id and issuer are URLs; §4.9: validFrom is a dateTimeStamp."""
    for value in (issuer, credential_id):
        if not isinstance(value, str) or not _URI.fullmatch(value):
            raise MappingError("mapping_bad_uri", "credential id or issuer is not a URI")
    try:
        parsed = datetime.fromisoformat(valid_from.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise MappingError("mapping_bad_valid_from", "valid_from is not a date-time") from None
    if parsed.tzinfo is None:  # VCDM 2.0 §4.9: xsd:dateTimeStamp, timezone required
        raise MappingError("mapping_bad_valid_from", "valid_from has no timezone")


def check_status(status: dict[str, Any] | None) -> None:
    """VCDM 2.0 §4.10: a credentialStatus object has a ``type``."""
    if status is None:
        return
    if not isinstance(status, dict) or not isinstance(status.get("type"), str):
        raise MappingError("mapping_bad_status", "credential status has no type")


def day_timestamp(date: Any) -> str | None:
    """``YYYY-MM-DD`` -> midnight UTC date-time; ``YYYY-MM`` (month precision) -> None."""
    if isinstance(date, str) and _FULL_DATE.fullmatch(date):
        return f"{date}T00:00:00Z"
    if isinstance(date, str) and _MONTH_DATE.fullmatch(date):
        return None
    raise MappingError("mapping_bad_date", "a date claim is not YYYY-MM-DD or YYYY-MM")


def qualification_name(claims: dict[str, Any]) -> dict[str, str]:
    """The qualification_name claim {nl, en}."""
    return {lang: member(claims, "qualification_name", lang) for lang in ("nl", "en")}


def eqf_level(claims: dict[str, Any]) -> int | None:
    """The eqf_level claim (1..8) or None."""
    value = claims.get("eqf_level")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
        raise MappingError("mapping_bad_level", "eqf_level is not an integer 1..8")
    return value


def nlqf_level(claims: dict[str, Any]) -> str | None:
    """The nlqf_level claim ("1".."8" or "4+") or None."""
    value = claims.get("nlqf_level")
    if value is not None and value not in NLQF_LEVELS:
        raise MappingError("mapping_bad_level", "nlqf_level is not 1..8 or 4+")
    return value


def cefr_level(claims: dict[str, Any]) -> str | None:
    """The cefr_level claim ("A1".."C2") or None."""
    value = claims.get("cefr_level")
    if value is not None and value not in {"A1", "A2", "B1", "B2", "C1", "C2"}:
        raise MappingError("mapping_bad_level", "cefr_level is not A1..C2")
    return value


def isced_f_code(claims: dict[str, Any]) -> str | None:
    """The ISCED-F 2013 field code or None."""
    value = claims.get("isced_f_code")
    if value is not None and not (isinstance(value, str) and _ISCED_F.fullmatch(value)):
        raise MappingError("mapping_bad_isced_f", "isced_f_code is not an ISCED-F code")
    return value


def eqf_uri(level: int) -> str:
    """The EU controlled-vocabulary URI of an EQF level."""
    return f"{EQF_BASE}{level}"


def isced_f_uri(code: str) -> str:
    """The EU controlled-vocabulary URI of an ISCED-F 2013 field."""
    return f"{ISCED_F_BASE}{code}"
