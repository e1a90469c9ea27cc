"""Nodes of the European Learning Model (ELM 3.x) shared by every DUO credential type.

JSON terms of the EDC application profile context (edc-ap, ELM v3.1, see schemas/contexts/
PROVENANCE.md) and the classes of the ELM ontology: Person (givenName, familyName, dateOfBirth,
hasClaim), Organisation (legalName, identifier, location), AwardingProcess (awardingBody 1..*,
awardingDate), Qualification (title, description, identifier, eqfLevel = elm:EQFLevel, nqfLevel =
elm:NQFLevel, thematicArea = elm:ISCEDFCode, creditPoint, learningOutcome), LearningOutcome
(title, relatedSkill), LearningAssessment (title, grade: a Note, dateIssued = dc:issued,
awardedBy, hasPart), Note (noteLiteral) and skos Concepts from the EU controlled vocabularies.
Nested nodes are blank nodes, except DUO, which carries the issuer's id.
"""

from __future__ import annotations

from typing import Any

from schemas.elm_claims import (
    MappingError,
    cefr_level,
    claim,
    day_timestamp,
    eqf_level,
    eqf_uri,
    isced_f_code,
    isced_f_uri,
    member,
    nlqf_level,
)
from schemas.qualification_explanations import LANGUAGES, explain

EQF_SCHEME = "http://data.europa.eu/snb/eqf/25831c2"
ISCED_F_SCHEME = "http://data.europa.eu/snb/isced-f/25831c2"
NQF_SCHEME = "http://data.europa.eu/snb/qdr/25831c2"
COUNTRY_SCHEME = "http://publications.europa.eu/resource/authority/country"
ECTS_FRAMEWORK = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
ECTS_SCHEME = "http://data.europa.eu/snb/education-credit/25831c2"

DUO_LEGAL_NAME = {"nl": "Dienst Uitvoering Onderwijs", "en": "Education Executive Agency"}
# ISO 3166-1 alpha-2 (our issuing_country) -> alpha-3 (EU country authority table).
COUNTRY_ALPHA3 = {"NL": "NLD"}
# The CEFR has no concept IRIs in the EU vocabularies known here: its levels are labelled concepts.
CEFR_SCHEME_LABEL = {
    "en": "Common European Framework of Reference for Languages (CEFR)",
    "nl": "Europees Referentiekader voor talen (ERK)",
}


def concept(uri: str | None, scheme: str, **extra: Any) -> dict[str, Any]:
    """A skos Concept of a vocabulary (``uri`` None: a labelled concept without IRI)."""
    node: dict[str, Any] = {"type": "Concept"} if uri is None else {"id": uri, "type": "Concept"}
    node["inScheme"] = {"id": scheme, "type": "ConceptScheme"}
    return node | extra


def note(literal: dict[str, str]) -> dict[str, Any]:
    """An ELM Note (``noteLiteral`` is a language map)."""
    return {"type": "Note", "noteLiteral": dict(literal)}


def labelled(prefix: dict[str, str], value: dict[str, str]) -> dict[str, str]:
    """``{nl, en}`` texts "prefix: value" (for Notes)."""
    return {lang: f"{prefix[lang]}: {value[lang]}" for lang in ("nl", "en")}


def explained_names(kind: str) -> dict[str, str]:
    """The name of a diploma type in every explanation language (for titles)."""
    return {lang: explain(kind, lang).name for lang in LANGUAGES}


def location(country: Any, city: str | None = None) -> dict[str, Any]:
    """A Location with the country concept (and the city as the full address)."""
    alpha3 = COUNTRY_ALPHA3.get(country) if isinstance(country, str) else None
    if alpha3 is None:
        raise MappingError("mapping_bad_country", "issuing_country is not supported")
    address: dict[str, Any] = {
        "type": "Address",
        "countryCode": concept(f"{COUNTRY_SCHEME}/{alpha3}", COUNTRY_SCHEME),
    }
    if city:
        address["fullAddress"] = note({"nl": city})
    return {"type": "Location", "address": address}


def organisation(name: str, brin: str, country: Any, city: str | None = None) -> dict[str, Any]:
    """An institution: legal name as registered, BRIN code as identifier, location."""
    return {
        "type": "Organisation",
        "legalName": {"nl": name},
        "identifier": {"type": "Identifier", "notation": brin, "schemeName": "BRIN"},
        "location": location(country, city),
    }


def duo(issuer: str, country: Any) -> dict[str, Any]:
    """DUO as an Organisation node with the issuer's id."""
    return {
        "id": issuer,
        "type": "Organisation",
        "legalName": dict(DUO_LEGAL_NAME),
        "location": location(country),
    }


def awarding_process(body: dict[str, Any], date: Any = None) -> dict[str, Any]:
    """AwardingProcess {awardingBody [body], awardingDate (day precision only)}."""
    process: dict[str, Any] = {"type": "AwardingProcess", "awardingBody": [body]}
    awarded = None if date is None else day_timestamp(date)
    if awarded is not None:
        process["awardingDate"] = awarded
    return process


def cefr_outcome(level: str) -> dict[str, Any]:
    """LearningOutcome: Dutch as a second language at a CEFR level (a labelled concept)."""
    skill = {
        "type": "Concept",
        "notation": level,
        "prefLabel": {"en": f"CEFR level {level}", "nl": f"ERK-niveau {level}"},
        "inScheme": {"type": "ConceptScheme", "prefLabel": dict(CEFR_SCHEME_LABEL)},
    }
    title = {
        "en": f"Dutch as a second language at CEFR level {level}",
        "nl": f"Nederlands als tweede taal op ERK-niveau {level}",
    }
    return {"type": "LearningOutcome", "title": title, "relatedSkill": [skill]}


def _levels(claims: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {}
    eqf, nlqf, field = eqf_level(claims), nlqf_level(claims), isced_f_code(claims)
    if eqf is not None:
        node["eqfLevel"] = concept(eqf_uri(eqf), EQF_SCHEME, notation=str(eqf))
    if nlqf is not None:  # the NLQF concept IRIs of the QDR are not known here: a labelled concept
        label = {"nl": f"NLQF-niveau {nlqf}", "en": f"NLQF level {nlqf}"}
        node["nqfLevel"] = [concept(None, NQF_SCHEME, notation=nlqf, prefLabel=label)]
    if field is not None:
        node["thematicArea"] = [concept(isced_f_uri(field), ISCED_F_SCHEME, notation=field)]
    credits = claims.get("credits_ects")
    if credits is not None:
        if isinstance(credits, bool) or not isinstance(credits, int | float) or credits < 0:
            raise MappingError("mapping_bad_credits", "credits_ects is not a number")
        framework = concept(ECTS_FRAMEWORK, ECTS_SCHEME)
        node["creditPoint"] = [
            {"type": "CreditPoint", "framework": framework, "point": f"{credits:g}"}
        ]
    return node


def qualification(
    claims: dict[str, Any], kind: str, title: dict[str, str], *, coded: bool = True
) -> dict[str, Any]:
    """Qualification: title, description (explanations), programme code (required if ``coded``),
    levels and the CEFR outcome."""
    node: dict[str, Any] = {
        "type": "Qualification",
        "title": dict(title),
        "description": {lang: explain(kind, lang).description for lang in LANGUAGES},
    }
    if coded:
        node["identifier"] = {
            "type": "Identifier",
            "notation": member(claims, "programme_code", "code"),
            "schemeName": member(claims, "programme_code", "scheme"),
        }
    node |= _levels(claims)
    level = cefr_level(claims)
    if level is not None:
        node["learningOutcome"] = [cefr_outcome(level)]
    return node


def assessment(
    title: dict[str, str], grade: dict[str, str], process: dict[str, Any], date: Any = None
) -> dict[str, Any]:
    """LearningAssessment {title, grade Note, dateIssued (day precision), awardedBy}."""
    node: dict[str, Any] = {
        "type": "LearningAssessment",
        "title": dict(title),
        "grade": note(grade),
    }
    issued = None if date is None else day_timestamp(date)
    if issued is not None:
        node["dateIssued"] = issued
    node["awardedBy"] = process
    return node


def person(claims: dict[str, Any], has_claim: Any) -> dict[str, Any]:
    """The subject: Person {givenName, familyName, dateOfBirth, hasClaim}; no id (key binding)."""
    subject: dict[str, Any] = {
        "type": "Person",
        "givenName": {"nl": claim(claims, "given_name")},
        "familyName": {"nl": claim(claims, "family_name")},
    }
    birth = day_timestamp(claim(claims, "birthdate"))
    if birth is not None:
        subject["dateOfBirth"] = birth
    subject["hasClaim"] = has_claim
    return subject
