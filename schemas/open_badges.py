"""A DUO diploma as an Open Badges 3.0 AchievementCredential (1EdTech OB 3.0, VCDM 2.0 based).

Open Badges 3.0 §B (data model): AchievementCredential with @context [VCDM 2.0 base, OB context
3.0.3], type VerifiableCredential + OpenBadgeCredential, issuer Profile, credentialSubject
AchievementSubject ("either id or at least one identifier MUST be supplied") holding the Achievement
(id, type, achievementType, name, description, criteria, alignment, otherIdentifier). Values of
extensible vocabularies (AchievementType, AlignmentTargetType, IdentifierTypeEnum) outside the
base terms use the ``ext:`` prefix that OB 3.0 defines for extensions.

Choices: the subject is identified by name only (IdentityObject identityType "name", not hashed;
the name is on the diploma itself), since holder binding is by key and OB has no birthdate field;
the awarding institution's BRIN and the programme's register code are ``otherIdentifier`` entries of
the Achievement (``ext:BRIN``, ``ext:CROHO`` ...); the judicium is a Result bound to a
ResultDescription. ECTS credits are left out (OB's creditsAvailable counts credit hours).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from schemas.elm_claims import (
    VCDM2_CONTEXT,
    check_envelope,
    check_status,
    claim,
    day_timestamp,
    diploma_type,
    eqf_level,
    eqf_uri,
    isced_f_code,
    isced_f_uri,
    member,
    nlqf_level,
)
from schemas.qualification_explanations import explain

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DUO_PROFILE_NAME = "Dienst Uitvoering Onderwijs (DUO)"
NLQF_URL = "https://nlqf.nl/"
CEFR_URL = "https://www.coe.int/en/web/common-european-framework-reference-languages"

# OB 3.0 AchievementType (base terms of the extensible enumeration).
ACHIEVEMENT_TYPE: dict[str, str] = {
    **dict.fromkeys(
        ("vmbo_bb", "vmbo_kb", "vmbo_gl", "vmbo_tl", "havo", "vwo", "staatsexamen_vo"),
        "SecondarySchoolDiploma",
    ),
    **dict.fromkeys(("mbo_1", "mbo_2", "mbo_3", "mbo_4"), "Diploma"),
    "hbo_ad": "AssociateDegree",
    "hbo_bachelor": "BachelorDegree",
    "wo_bachelor": "BachelorDegree",
    "hbo_master": "MasterDegree",
    "wo_master": "MasterDegree",
    "nt2_i": "Certificate",
    "nt2_ii": "Certificate",
    "inburgering": "Certificate",
}
JUDICIUM_VALUES = {"cum_laude": "cum laude", "met_genoegen": "met genoegen"}


def _alignment(framework: str, kind: str, name: str, code: str, url: str) -> dict[str, Any]:
    return {
        "type": ["Alignment"],
        "targetType": f"ext:{kind}",
        "targetFramework": framework,
        "targetName": name,
        "targetCode": code,
        "targetUrl": url,
    }


def _alignments(claims: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    eqf, nlqf, field = eqf_level(claims), nlqf_level(claims), isced_f_code(claims)
    if eqf is not None:
        found.append(
            _alignment(
                "European Qualifications Framework (EQF)",
                "EQFLevel",
                f"EQF level {eqf}",
                str(eqf),
                eqf_uri(eqf),
            )
        )
    if nlqf is not None:
        found.append(
            _alignment(
                "Dutch Qualifications Framework (NLQF)",
                "NLQFLevel",
                f"NLQF level {nlqf}",
                nlqf,
                NLQF_URL,
            )
        )
    if field is not None:
        found.append(
            _alignment("ISCED-F 2013", "ISCEDF", f"ISCED-F {field}", field, isced_f_uri(field))
        )
    cefr = claims.get("cefr_level")
    if isinstance(cefr, str):
        framework = "Common European Framework of Reference for Languages (CEFR)"
        found.append(_alignment(framework, "CEFRLevel", f"CEFR level {cefr}", cefr, CEFR_URL))
    return found


def _achievement_id(issuer: str, claims: dict[str, Any]) -> str:
    scheme = member(claims, "programme_code", "scheme")
    code = member(claims, "programme_code", "code")
    brin = member(claims, "institution", "brin")
    parts = (quote(scheme.lower(), safe=""), quote(code, safe=""), quote(brin.lower(), safe=""))
    return f"{issuer.rstrip('/')}/achievements/{'/'.join(parts)}"


def _judicium(achievement_id: str, claims: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """OB 3.0 ResultDescription on the Achievement and the Result on the subject, or nothing."""
    value = JUDICIUM_VALUES.get(claims.get("judicium", "none"))
    if value is None:
        return [], []
    description_id = f"{achievement_id}#judicium"
    description = {
        "id": description_id,
        "type": ["ResultDescription"],
        "name": "Judicium (distinction)",
        "resultType": "ext:Judicium",
        "allowedValue": list(JUDICIUM_VALUES.values()),
    }
    result = {"type": ["Result"], "resultDescription": description_id, "value": value}
    return [description], [result]


def _achievement(issuer: str, claims: dict[str, Any]) -> dict[str, Any]:
    kind = diploma_type(claims)
    explanation = explain(kind, "en")
    name = member(claims, "qualification_name", "en")
    if claims.get("degree_title"):
        name = f"{name} ({claims['degree_title']})"
    institution = member(claims, "institution", "name")
    scheme = member(claims, "programme_code", "scheme")
    narrative = (
        f"Awarded by {institution} to candidates who met the final requirements of this "
        f"qualification, as recorded in the Dutch diploma register kept by DUO. "
        f"{explanation.grading}"
    )
    return {
        "id": _achievement_id(issuer, claims),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE[kind],
        "name": name,
        "description": explanation.description,
        "criteria": {"narrative": narrative},
        "alignment": _alignments(claims),
        "otherIdentifier": [
            {
                "type": "IdentifierEntry",
                "identifier": member(claims, "programme_code", "code"),
                "identifierType": f"ext:{scheme}",
            },
            {
                "type": "IdentifierEntry",
                "identifier": member(claims, "institution", "brin"),
                "identifierType": "ext:BRIN",
            },
        ],
        "inLanguage": "en",
    }


def _subject(issuer: str, claims: dict[str, Any]) -> dict[str, Any]:
    achievement = _achievement(issuer, claims)
    descriptions, results = _judicium(achievement["id"], claims)
    if descriptions:
        achievement["resultDescription"] = descriptions
    full_name = f"{claim(claims, 'given_name')} {claim(claims, 'family_name')}"
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": full_name,
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": achievement,
    }
    if results:
        subject["result"] = results
    return subject


def achievement_credential(
    claims: dict[str, Any],
    *,
    issuer: str,
    credential_id: str,
    valid_from: str,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The diploma as an unsecured OB 3.0 OpenBadgeCredential (VCDM 2.0)."""
    check_envelope(issuer=issuer, credential_id=credential_id, valid_from=valid_from)
    check_status(status)
    document: dict[str, Any] = {
        "@context": [VCDM2_CONTEXT, OB_CONTEXT],  # OB 3.0: v2 first, then the OB context
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": member(claims, "qualification_name", "en"),
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": DUO_PROFILE_NAME,
            "address": {
                "type": ["Address"],
                "addressCountryCode": claim(claims, "issuing_country"),
            },
        },
        "validFrom": valid_from,
    }
    awarded = day_timestamp(claim(claims, "award_date"))
    if awarded is not None:
        document["awardedDate"] = awarded
    document["credentialSubject"] = _subject(issuer, claims)
    if status is not None:
        document["credentialStatus"] = dict(status)
    return document
