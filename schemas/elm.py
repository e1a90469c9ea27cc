"""A DUO diploma in the European Learning Model (ELM 3.x, Europass EDC) shape, VCDM 2.0 or 1.1.

Envelope: W3C VCDM 2.0 §4.3 @context, §4.4 id, §4.5 type, §4.7 issuer, §4.8 credentialSubject,
§4.9 validFrom, §4.10 credentialStatus; or VCDM 1.1 (§4.1 contexts, §4.6 issuanceDate) for the
OpenID4VCI ``jwt_vc_json`` format (OID4VCI 1.0 Appendix A.1.1, see SPECS.md JWTVC).
Content: ELM 3.x classes and the JSON terms of the EDC application profile context (edc-ap):
Person.hasClaim -> LearningAchievement {awardedBy AwardingProcess, specifiedBy Qualification
{eqfLevel, nqfLevel, thematicArea (= elm:ISCEDFCode), identifier, creditPoint}}, with concepts from
the EU controlled vocabularies (EQF, ISCED-F, QDR, country authority table).

Limits, by design: no ``displayParameter`` (EDC's rendering image) and so no claim to conform to
the EDC SHACL profiles (no ``credentialSchema``); nested nodes are blank nodes; a month-precision
award date is left out (``awardingDate`` is an xsd:dateTime); the ISCED 2011 level, study mode and
MBO pathway have no ELM field here and are left out. Holder binding is by key, so the subject has
no ``id``. Person names carry the language tag ``nl`` (as written in the Dutch register).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from schemas.qualification_explanations import LANGUAGES, LEVELS, explain

VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VCDM11_CONTEXT = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"

EQF_BASE = "http://data.europa.eu/snb/eqf/"
EQF_SCHEME = "http://data.europa.eu/snb/eqf/25831c2"
ISCED_F_BASE = "http://data.europa.eu/snb/isced-f/"
ISCED_F_SCHEME = "http://data.europa.eu/snb/isced-f/25831c2"
NQF_SCHEME = "http://data.europa.eu/snb/qdr/25831c2"
COUNTRY_SCHEME = "http://publications.europa.eu/resource/authority/country"
ECTS_FRAMEWORK = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
ECTS_SCHEME = "http://data.europa.eu/snb/education-credit/25831c2"
GENERIC_PROFILE = "http://data.europa.eu/snb/credential/e34929035b"
GENERIC_PROFILE_SCHEME = "http://data.europa.eu/snb/credential/25831c2"

DUO_LEGAL_NAME = {"nl": "Dienst Uitvoering Onderwijs", "en": "Education Executive Agency"}
# ISO 3166-1 alpha-2 (our issuing_country) -> alpha-3 (EU country authority table).
COUNTRY_ALPHA3 = {"NL": "NLD"}

NLQF_LEVELS = frozenset({"1", "2", "3", "4", "4+", "5", "6", "7", "8"})
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_DATE = re.compile(r"\d{4}-\d{2}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_ISCED_F = re.compile(r"\d{2,4}")
_JUDICIUM_NOTE = {
    "cum_laude": {"nl": "cum laude", "en": "cum laude (with distinction)"},
    "met_genoegen": {"nl": "met genoegen", "en": "met genoegen (with merit)"},
}


class MappingError(ValueError):
    """The diploma claims or envelope parameters cannot be mapped; ``code`` says which rule."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def claim(claims: dict[str, Any], name: str) -> Any:
    """A required claim, or MappingError ``mapping_missing_claim``."""
    if name not in claims:
        raise MappingError("mapping_missing_claim", "a required diploma claim is missing")
    return claims[name]


def member(claims: dict[str, Any], name: str, key: str) -> Any:
    """A required member of an object claim (e.g. institution.brin)."""
    value = claim(claims, name)
    if not isinstance(value, dict) or not isinstance(value.get(key), str):
        raise MappingError("mapping_missing_claim", "a required diploma claim member is missing")
    return value[key]


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


def day_timestamp(date: str) -> str | None:
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


def _concept(uri: str | None, scheme: str, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "Concept"} if uri is None else {"id": uri, "type": "Concept"}
    node["inScheme"] = {"id": scheme, "type": "ConceptScheme"}
    return node | extra


def _location(country: str, city: str | None = None) -> dict[str, Any]:
    alpha3 = COUNTRY_ALPHA3.get(country)
    if alpha3 is None:
        raise MappingError("mapping_bad_country", "issuing_country is not supported")
    address: dict[str, Any] = {
        "type": "Address",
        "countryCode": _concept(f"{COUNTRY_SCHEME}/{alpha3}", COUNTRY_SCHEME),
    }
    if city:
        address["fullAddress"] = {"type": "Note", "noteLiteral": {"nl": city}}
    return {"type": "Location", "address": address}


def _awarding_process(claims: dict[str, Any]) -> dict[str, Any]:
    brin = member(claims, "institution", "brin")
    body = {
        "type": "Organisation",
        "legalName": {"nl": member(claims, "institution", "name")},
        "identifier": {"type": "Identifier", "notation": brin, "schemeName": "BRIN"},
        "location": _location(claim(claims, "issuing_country"), claims["institution"].get("city")),
    }
    process: dict[str, Any] = {"type": "AwardingProcess", "awardingBody": [body]}
    awarded = day_timestamp(claim(claims, "award_date"))
    if awarded is not None:
        process["awardingDate"] = awarded
    return process


def _qualification(claims: dict[str, Any]) -> dict[str, Any]:
    kind = diploma_type(claims)
    node: dict[str, Any] = {
        "type": "Qualification",
        "title": qualification_name(claims),
        "description": {lang: explain(kind, lang).description for lang in LANGUAGES},
        "identifier": {
            "type": "Identifier",
            "notation": member(claims, "programme_code", "code"),
            "schemeName": member(claims, "programme_code", "scheme"),
        },
    }
    eqf, nlqf, field = eqf_level(claims), nlqf_level(claims), isced_f_code(claims)
    if eqf is not None:
        node["eqfLevel"] = _concept(eqf_uri(eqf), EQF_SCHEME, notation=str(eqf))
    if nlqf is not None:  # the NLQF concept IRIs of the QDR are not known here: a labelled concept
        label = {"nl": f"NLQF-niveau {nlqf}", "en": f"NLQF level {nlqf}"}
        node["nqfLevel"] = [_concept(None, NQF_SCHEME, notation=nlqf, prefLabel=label)]
    if field is not None:
        node["thematicArea"] = [_concept(isced_f_uri(field), ISCED_F_SCHEME, notation=field)]
    credits = claims.get("credits_ects")
    if credits is not None:
        if isinstance(credits, bool) or not isinstance(credits, int | float) or credits < 0:
            raise MappingError("mapping_bad_credits", "credits_ects is not a number")
        framework = _concept(ECTS_FRAMEWORK, ECTS_SCHEME)
        point = {"type": "CreditPoint", "framework": framework, "point": f"{credits:g}"}
        node["creditPoint"] = [point]
    return node


def _notes(claims: dict[str, Any]) -> list[dict[str, Any]]:
    literals: list[dict[str, str]] = []
    if claims.get("degree_title"):
        literals.append({"nl": claims["degree_title"]})
    if claims.get("judicium") in _JUDICIUM_NOTE:
        literals.append(_JUDICIUM_NOTE[claims["judicium"]])
    if claims.get("cefr_level"):
        level = claims["cefr_level"]
        literals.append({"nl": f"ERK-niveau {level}", "en": f"CEFR level {level}"})
    return [{"type": "Note", "noteLiteral": literal} for literal in literals]


def _subject(claims: dict[str, Any]) -> dict[str, Any]:
    achievement: dict[str, Any] = {
        "type": "LearningAchievement",
        "title": qualification_name(claims),
        "awardedBy": _awarding_process(claims),
        "specifiedBy": _qualification(claims),
    }
    notes = _notes(claims)
    if notes:
        achievement["additionalNote"] = notes
    birth = day_timestamp(claim(claims, "birthdate"))
    subject: dict[str, Any] = {
        "type": "Person",
        "givenName": {"nl": claim(claims, "given_name")},
        "familyName": {"nl": claim(claims, "family_name")},
    }
    if birth is not None:
        subject["dateOfBirth"] = birth
    subject["hasClaim"] = achievement
    return subject


def _document(
    claims: dict[str, Any],
    vcdm: Literal["2.0", "1.1"],
    *,
    issuer: str,
    credential_id: str,
    valid_from: str,
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    check_envelope(issuer=issuer, credential_id=credential_id, valid_from=valid_from)
    check_status(status)
    base = VCDM2_CONTEXT if vcdm == "2.0" else VCDM11_CONTEXT
    document: dict[str, Any] = {
        "@context": [base, EDC_CONTEXT],  # VCDM 2.0 §4.3 / 1.1 §4.1: the base context comes first
        "id": credential_id,
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": [_concept(GENERIC_PROFILE, GENERIC_PROFILE_SCHEME)],
        "issuer": {
            "id": issuer,
            "type": "Organisation",
            "legalName": dict(DUO_LEGAL_NAME),
            "location": _location(claim(claims, "issuing_country")),
        },
    }
    if vcdm == "1.1":
        document["issuanceDate"] = valid_from  # VCDM 1.1 §4.6: required
    document["validFrom"] = valid_from
    document["credentialSubject"] = _subject(claims)
    if status is not None:
        document["credentialStatus"] = dict(status)
    return document


def elm_credential(
    claims: dict[str, Any],
    *,
    issuer: str,
    credential_id: str,
    valid_from: str,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The diploma as an unsecured VCDM 2.0 credential with ELM/EDC content (for ``vc+jwt``)."""
    return _document(
        claims,
        "2.0",
        issuer=issuer,
        credential_id=credential_id,
        valid_from=valid_from,
        status=status,
    )


def elm_credential_v11(
    claims: dict[str, Any],
    *,
    issuer: str,
    credential_id: str,
    valid_from: str,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The same content as a VCDM 1.1 credential (``issuanceDate``), for ``jwt_vc_json``."""
    return _document(
        claims,
        "1.1",
        issuer=issuer,
        credential_id=credential_id,
        valid_from=valid_from,
        status=status,
    )
