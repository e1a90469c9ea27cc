"""The ELM 3.x claim node of a DUO higher-education enrolment (proof of enrolment).

ELM 3.x LearningActivity, as in EDC's certificate-of-participation example: ``title``,
``directedBy`` the institution (Organisation with its BRIN code), ``temporal`` PeriodOfTime
{startDate, endDate} (edc-ap terms, xsd:dateTime), ``specifiedBy`` LearningActivitySpecification
{title, identifier: the CROHO code}, and the required ``awardedBy`` AwardingProcess (the
institution, no date). Claim names are those of the Dutch HE wallet pilots (claims contract).

Limits: ELM has no property for a study phase; its ``learningSchedule`` (on a LearningOpportunity:
full time, part time light, part time intensive) and ``mode`` (online, blended, in person) do not
express the Dutch voltijd/deeltijd/duaal. Phase and mode of study are ``additionalNote`` Notes.
"""

from __future__ import annotations

import copy
from typing import Any

from schemas.elm_claims import choice, claim, day_timestamp, lang_text, text
from schemas.elm_nodes import awarding_process, labelled, note, organisation
from schemas.qualification_explanations import LANGUAGES, label

Text = dict[str, str]

PHASES: dict[str, Text] = {
    "propedeuse": {"nl": "propedeuse", "en": "propaedeutic (first year)"},
    "bachelor": {"nl": "bachelor", "en": "bachelor"},
    "master": {"nl": "master", "en": "master"},
    "associate_degree": {"nl": "associate degree", "en": "associate degree"},
}
STUDY_MODES: dict[str, Text] = {
    "fulltime": {"nl": "voltijd", "en": "full-time"},
    "parttime": {"nl": "deeltijd", "en": "part-time"},
    "dual": {"nl": "duaal", "en": "dual (work and study combined)"},
}


def enrolment(claims: dict[str, Any], issuer: str) -> dict[str, Any]:
    """enrolment: LearningActivity directed by the institution over the enrolment period."""
    del issuer  # the institution enrols and directs
    body = organisation(
        text(claims, "institution_name"),
        text(claims, "institutionBRINCode"),
        claim(claims, "issuing_country"),
    )
    programme = lang_text(claim(claims, "programme_name"))
    start = day_timestamp(claim(claims, "startDate"))
    end = None if claims.get("endDate") is None else day_timestamp(claims["endDate"])
    period: dict[str, Any] = {"type": "PeriodOfTime"}
    for term, stamp in (("startDate", start), ("endDate", end)):
        if stamp is not None:
            period[term] = stamp
    phase = PHASES[choice(claims, "phase", PHASES)]
    mode = STUDY_MODES[choice(claims, "modeOfStudy", STUDY_MODES)]
    specification = {
        "type": "LearningActivitySpecification",
        "title": dict(programme),
        "identifier": {
            "type": "Identifier",
            "notation": text(claims, "crohoCreboCode"),
            "schemeName": "CROHO",
        },
    }
    return {
        "type": "LearningActivity",
        "title": programme,
        "description": {lang: label("type_enrolment", lang) for lang in LANGUAGES},
        "awardedBy": awarding_process(copy.deepcopy(body)),
        "directedBy": [body],
        "temporal": [period],
        "specifiedBy": specification,
        "additionalNote": [
            note(labelled({"nl": "Fase", "en": "Phase"}, phase)),
            note(labelled({"nl": "Studievorm", "en": "Mode of study"}, mode)),
        ],
    }
