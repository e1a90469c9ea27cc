"""DUO's credentials in the European Learning Model (ELM 3.x, Europass EDC) shape, VCDM 2.0 or 1.1.

Envelope: W3C VCDM 2.0 §4.3 @context, §4.4 id, §4.5 type, §4.7 issuer, §4.8 credentialSubject,
§4.9 validFrom, §4.10 credentialStatus; or VCDM 1.1 (§4.1 contexts, §4.6 issuanceDate) for the
OpenID4VCI ``jwt_vc_json`` format (OID4VCI 1.0 Appendix A.1.1, see SPECS.md JWTVC).
Content: ELM 3.x classes and the JSON terms of the EDC application profile context (edc-ap). The
subject is a Person whose ``hasClaim`` holds, per credential type (claims contract):

- diploma: LearningAchievement {awardedBy AwardingProcess, specifiedBy Qualification {eqfLevel,
  nqfLevel, thematicArea (= elm:ISCEDFCode), identifier, creditPoint}} (this module);
- grade_list, nt2_diploma, inburgering: see schemas.elm_records; enrolment: schemas.elm_enrolment.

Limits, by design: no ``displayParameter`` (EDC's rendering image) and so no claim to conform to
the EDC SHACL profiles (no ``credentialSchema``); nested nodes are blank nodes; a month-precision
date is left out (ELM dates are xsd:dateTime); the ISCED 2011 level, study mode and MBO pathway of
a diploma have no ELM field here and are left out. Holder binding is by key, so the subject has no
``id``. Person names carry the language tag ``nl`` (as written in the Dutch register).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from schemas import elm_enrolment, elm_records
from schemas.elm_claims import (
    VCDM2_CONTEXT,
    VCDM11_CONTEXT,
    MappingError,
    cefr_level,
    check_envelope,
    check_status,
    claim,
    diploma_type,
    member,
    qualification_name,
)
from schemas.elm_nodes import (
    DUO_LEGAL_NAME,
    awarding_process,
    concept,
    location,
    note,
    organisation,
    person,
    qualification,
)

__all__ = [
    "EDC_CONTEXT",
    "VCDM2_CONTEXT",
    "VCDM11_CONTEXT",
    "MappingError",
    "elm_credential",
    "elm_credential_v11",
    "has_claim",
]

EDC_CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"
GENERIC_PROFILE = "http://data.europa.eu/snb/credential/e34929035b"
GENERIC_PROFILE_SCHEME = "http://data.europa.eu/snb/credential/25831c2"

_JUDICIUM_NOTE = {
    "cum_laude": {"nl": "cum laude", "en": "cum laude (with distinction)"},
    "met_genoegen": {"nl": "met genoegen", "en": "met genoegen (with merit)"},
}

ClaimBuilder = Callable[[dict[str, Any], str], Any]


def _diploma_notes(claims: dict[str, Any]) -> list[dict[str, Any]]:
    literals: list[dict[str, str]] = []
    if claims.get("degree_title"):
        literals.append({"nl": claims["degree_title"]})
    if claims.get("judicium") in _JUDICIUM_NOTE:
        literals.append(_JUDICIUM_NOTE[claims["judicium"]])
    level = cefr_level(claims)
    if level is not None:
        literals.append({"nl": f"ERK-niveau {level}", "en": f"CEFR level {level}"})
    return [note(literal) for literal in literals]


def _diploma(claims: dict[str, Any], issuer: str) -> dict[str, Any]:
    """diploma: one LearningAchievement specified by its Qualification."""
    del issuer  # the awarding body is the institution
    country = claim(claims, "issuing_country")
    body = organisation(
        member(claims, "institution", "name"),
        member(claims, "institution", "brin"),
        country,
        claims["institution"].get("city"),
    )
    title = qualification_name(claims)
    achievement: dict[str, Any] = {
        "type": "LearningAchievement",
        "title": title,
        "awardedBy": awarding_process(body, claim(claims, "award_date")),
        "specifiedBy": qualification(claims, diploma_type(claims), title),
    }
    notes = _diploma_notes(claims)
    if notes:
        achievement["additionalNote"] = notes
    return achievement


_BUILDERS: dict[str, ClaimBuilder] = {
    "diploma": _diploma,
    "grade_list": elm_records.grade_list,
    "nt2_diploma": elm_records.nt2_diploma,
    "inburgering": elm_records.inburgering,
    "enrolment": elm_enrolment.enrolment,
}


def has_claim(type_name: str, claims: dict[str, Any], issuer: str) -> Any:
    """The ``hasClaim`` value of a credential type (one claim node, or a list of them)."""
    builder = _BUILDERS.get(type_name) if isinstance(type_name, str) else None
    if builder is None:
        raise MappingError("mapping_unknown_type", "not one of DUO's credential types")
    return builder(claims, issuer)


def _document(
    type_name: str,
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
    subject = person(claims, has_claim(type_name, claims, issuer))
    base = VCDM2_CONTEXT if vcdm == "2.0" else VCDM11_CONTEXT
    document: dict[str, Any] = {
        "@context": [base, EDC_CONTEXT],  # VCDM 2.0 §4.3 / 1.1 §4.1: the base context comes first
        "id": credential_id,
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": [concept(GENERIC_PROFILE, GENERIC_PROFILE_SCHEME)],
        "issuer": {
            "id": issuer,
            "type": "Organisation",
            "legalName": dict(DUO_LEGAL_NAME),
            "location": location(claim(claims, "issuing_country")),
        },
    }
    if vcdm == "1.1":
        document["issuanceDate"] = valid_from  # VCDM 1.1 §4.6: required
    document["validFrom"] = valid_from
    document["credentialSubject"] = subject
    if status is not None:
        document["credentialStatus"] = dict(status)
    return document


def elm_credential(
    type_name: str,
    claims: dict[str, Any],
    *,
    issuer: str,
    credential_id: str,
    valid_from: str,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Claims of ``type_name`` as an unsecured VCDM 2.0 credential with ELM content (``vc+jwt``)."""
    return _document(
        type_name,
        claims,
        "2.0",
        issuer=issuer,
        credential_id=credential_id,
        valid_from=valid_from,
        status=status,
    )


def elm_credential_v11(
    type_name: str,
    claims: dict[str, Any],
    *,
    issuer: str,
    credential_id: str,
    valid_from: str,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The same content as a VCDM 1.1 credential (``issuanceDate``), for ``jwt_vc_json``."""
    return _document(
        type_name,
        claims,
        "1.1",
        issuer=issuer,
        credential_id=credential_id,
        valid_from=valid_from,
        status=status,
    )
