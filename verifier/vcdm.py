"""W3C Verifiable Credentials Data Model v2.0 (Recommendation, 15 May 2025) §4: data-model checks.

Checks of the unsecured credential document shared by the VC-JOSE-COSE verifier (verifier.vc_jose):
§4.3 contexts, §4.4 identifiers, §4.5 types, §4.7 issuer, §4.8 credentialSubject, §4.9 validity
period, §4.10 status and §4.11 data schemas. The §4.5 type and §4.7 issuer rules are worded the same
in VCDM 1.1 (§4.3, §4.5), so verifier.jwt_vc_json reuses those two helpers; nothing else here
applies to 1.1.

No JSON-LD processing is done: contexts are compared as strings. Limits: a "URL" is checked as an
absolute URI (a scheme, a colon, no whitespace or control characters); a dateTimeStamp must match
the §4.9 / XMLSCHEMA11-2 pattern and fall in the years 0001-9999 (other years are refused, not
compared). Unknown status and schema types are accepted here (VC-JOSE-COSE §5.4: ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from verifier.errors import InvalidCredential

V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+$")
# VCDM 2.0 "Representing Time" (reproduced from XMLSCHEMA11-2): the timezone is required.
_DATETIME_STAMP = re.compile(
    r"^(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<month>0[1-9]|1[0-2])"
    r"-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<hms>(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])(?P<frac>\.[0-9]+)?"
    r"|(?P<midnight>24:00:00(?:\.0+)?))"
    r"(?P<tz>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)


@dataclass(frozen=True)
class VerifiedVc:
    """A credential whose signature and data-model checks passed.

    ``credential`` is the credential document (for ``jwt_vc_json``, the ``vc`` claim decoded per
    VCDM 1.1 §6.3.1.2); ``payload`` the whole JWT claims set; ``issuer`` the issuer identifier the
    key was resolved for.
    """

    format: Literal["vc+jwt", "jwt_vc_json"]
    credential: dict[str, Any]
    header: dict[str, Any]
    payload: dict[str, Any]
    issuer: str


def is_url(value: Any) -> bool:
    """Whether ``value`` is an absolute URL in the sense of the module docstring."""
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def check_type(document: dict[str, Any], required: str) -> None:
    """§4.5: ``type`` is one term/URL or a non-empty list of them, and includes ``required``."""
    value = document.get("type")
    names = [value] if isinstance(value, str) else value
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(name, str) and name for name in names)
        or required not in names
    ):
        raise InvalidCredential("vcdm_type_invalid", "type is missing or lacks the required type")


def issuer_id(document: dict[str, Any]) -> str:
    """§4.7: ``issuer`` is a URL or an object whose ``id`` is a URL; return that URL."""
    issuer = document.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(value, str) or not is_url(value):
        raise InvalidCredential("vcdm_issuer_invalid", "issuer is not a URL or {id: URL}")
    return value


def _check_context(document: dict[str, Any]) -> None:
    # §4.3: an ordered set whose first item is the v2 base context; then URLs and objects.
    context = document.get("@context")
    items = [context] if isinstance(context, str) else context
    if not isinstance(items, list) or not items or items[0] != V2_CONTEXT:
        raise InvalidCredential("vcdm_context_invalid", "first @context is not VCDM 2.0")
    for item in items[1:]:
        if not isinstance(item, dict) and not is_url(item):
            raise InvalidCredential("vcdm_context_invalid", "@context item is not a URL or object")


def _check_subject(document: dict[str, Any]) -> None:
    # §4.8: credentialSubject is required; a set of (non-empty) objects.
    if "credentialSubject" not in document:
        raise InvalidCredential("vcdm_subject_missing", "credentialSubject is missing")
    subject = document["credentialSubject"]
    subjects = [subject] if isinstance(subject, dict) else subject
    if not isinstance(subjects, list) or not subjects:
        raise InvalidCredential("vcdm_subject_invalid", "credentialSubject is not a set of objects")
    for item in subjects:
        if not isinstance(item, dict) or not item:
            raise InvalidCredential("vcdm_subject_invalid", "credentialSubject is not objects")
        if "id" in item and not is_url(item["id"]):
            raise InvalidCredential("vcdm_subject_invalid", "credentialSubject id is not a URL")


def _entries_well_formed(document: dict[str, Any], name: str, *, id_required: bool) -> bool:
    # One object or a non-empty list of objects, each with a type; id a URL (required or optional).
    if name not in document:
        return True
    value = document[name]
    entries = [value] if isinstance(value, dict) else value
    if not isinstance(entries, list) or not entries:
        return False
    for entry in entries:
        kind = entry.get("type") if isinstance(entry, dict) else None
        kinds = [kind] if isinstance(kind, str) else kind
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
            return False
        if (id_required or "id" in entry) and not is_url(entry.get("id")):
            return False
    return True


def check_status(document: dict[str, Any], *, id_required: bool) -> None:
    """§4.10: every ``credentialStatus`` object has a ``type``; ``id``, if present, is a URL."""
    if not _entries_well_formed(document, "credentialStatus", id_required=id_required):
        raise InvalidCredential("vcdm_status_invalid", "credentialStatus entry is malformed")


def check_schema(document: dict[str, Any]) -> None:
    """§4.11: every ``credentialSchema`` object has a ``type`` and an ``id`` that is a URL."""
    if not _entries_well_formed(document, "credentialSchema", id_required=True):
        raise InvalidCredential("vcdm_schema_invalid", "credentialSchema entry is malformed")


def parse_datetime_stamp(value: Any) -> datetime:
    """§4.9: an xsd:dateTimeStamp string (timezone required) as an aware UTC datetime."""
    match = _DATETIME_STAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidCredential("vcdm_datetime_invalid", "value is not a dateTimeStamp")
    year = int(match["year"])
    hms = match["hms"] or "00:00:00"
    frac = (match["frac"] or ".0")[1:7].ljust(6, "0")  # microseconds; finer digits truncated
    tz = "+00:00" if match["tz"] == "Z" else match["tz"]
    text = f"{year:04d}-{match['month']}-{match['day']}T{hms}.{frac}{tz}"
    try:
        if not 1 <= year <= 9999:
            raise ValueError
        moment = datetime.fromisoformat(text)  # also refuses days a month does not have
        if match["midnight"]:
            moment += timedelta(days=1)  # 24:00:00 is the first moment of the next day
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidCredential("vcdm_datetime_invalid", "value is not a valid moment") from None


def require_aware(now: datetime) -> None:
    """``now`` must be timezone-aware (a programming error otherwise, not an input error)."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def check_credential(document: dict[str, Any]) -> None:
    """The structural §4 checks of a VCDM 2.0 verifiable credential (no clock involved)."""
    _check_context(document)
    if "id" in document and not is_url(document["id"]):  # §4.4
        raise InvalidCredential("vcdm_id_invalid", "credential id is not a URL")
    check_type(document, "VerifiableCredential")
    issuer_id(document)
    _check_subject(document)
    valid_from = document.get("validFrom")
    valid_until = document.get("validUntil")
    start = parse_datetime_stamp(valid_from) if "validFrom" in document else None
    end = parse_datetime_stamp(valid_until) if "validUntil" in document else None
    if start is not None and end is not None and start > end:
        raise InvalidCredential("vcdm_datetime_invalid", "validFrom is later than validUntil")
    check_status(document, id_required=False)
    check_schema(document)


def check_validity_period(document: dict[str, Any], *, now: datetime) -> None:
    """§4.9: ``now`` lies within [validFrom, validUntil] (each bound only when present)."""
    require_aware(now)
    if "validFrom" in document and now < parse_datetime_stamp(document["validFrom"]):
        raise InvalidCredential("not_yet_valid", "credential is not yet valid")
    if "validUntil" in document and now > parse_datetime_stamp(document["validUntil"]):
        raise InvalidCredential("expired", "credential has expired")
