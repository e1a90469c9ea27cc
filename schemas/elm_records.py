"""ELM 3.x claim nodes of DUO's grade lists, NT2 diplomas and inburgering records.

Each function returns the ``hasClaim`` value of the Person (ELM 3.x: ``hasClaim`` holds any Claim
subclass, LearningAchievement, LearningActivity, LearningAssessment or LearningEntitlement; the EDC
profile's "has claim" shape says so). Shapes (JSON terms of the edc-ap context, ELM v3.1):

- grade_list: LearningAchievement (the diploma) ``hasPart`` one LearningAchievement per subject,
  each ``provenBy`` the final-mark LearningAssessment whose ``hasPart`` are the school-exam and
  central-exam assessments; every ``grade`` is a Note holding the mark exactly as written. The
  final project (profielwerkstuk) is a LearningActivity the diploma was ``influencedBy``.
- nt2_diploma: LearningAchievement specified by a Qualification with a CEFR LearningOutcome,
  ``provenBy`` one LearningAssessment per exam component (grade passed/exempt, ``dateIssued``).
- inburgering: the same once awarded; without ``award_date`` the component LearningAssessments
  themselves are the claims (a record of results). The basisexamen abroad is one more assessment.

ELM 3 names the assessment link ``provenBy`` and the assessment date ``dateIssued`` (dc:issued);
the ELM v2 (EDCI XML) names ``wasDerivedFrom``/``issuedDate`` are not terms of the edc-ap
context. Limits: ELM has no property for a VO profile or an assessment's validity end; they are
``additionalNote`` Notes. NT2 and inburgering claims name no institution: DUO is the awarding
body. Marks, results and dates are copied, never computed.
"""

from __future__ import annotations

import copy
from typing import Any

from schemas.elm_claims import (
    MappingError,
    cefr_level,
    choice,
    claim,
    day_timestamp,
    diploma_type,
    lang_text,
    member,
    objects,
)
from schemas.elm_nodes import (
    assessment,
    awarding_process,
    duo,
    explained_names,
    labelled,
    note,
    organisation,
    qualification,
)
from schemas.qualification_explanations import LANGUAGES, explain

Text = dict[str, str]

SCHOOL_EXAM: Text = {"nl": "schoolexamen", "en": "school examination"}
CENTRAL_EXAM: Text = {"nl": "centraal examen", "en": "central examination"}
FINAL_MARK: Text = {"nl": "eindcijfer", "en": "final mark"}
FINAL_PROJECT: Text = {"nl": "Profielwerkstuk", "en": "Final project (profielwerkstuk)"}
LANGUAGE_SKILLS: dict[str, Text] = {
    "reading": {"nl": "lezen", "en": "reading"},
    "listening": {"nl": "luisteren", "en": "listening"},
    "speaking": {"nl": "spreken", "en": "speaking"},
    "writing": {"nl": "schrijven", "en": "writing"},
}
INBURGERING_PARTS: dict[str, Text] = {
    **LANGUAGE_SKILLS,
    "knm": {
        "nl": "Kennis van de Nederlandse Maatschappij (KNM)",
        "en": "knowledge of Dutch society (KNM)",
    },
    "ona": {
        "nl": "Oriëntatie op de Nederlandse Arbeidsmarkt (ONA)",
        "en": "orientation on the Dutch labour market (ONA)",
    },
    "map": {
        "nl": "Module Arbeidsmarkt en Participatie (MAP)",
        "en": "labour market and participation module (MAP)",
    },
    "pvt": {
        "nl": "participatieverklaringstraject (PVT)",
        "en": "participation statement programme (PVT)",
    },
}
RESULTS: dict[str, Text] = {
    "passed": {"nl": "behaald", "en": "passed"},
    "exempt": {"nl": "vrijgesteld", "en": "exempt"},
    "failed": {"nl": "niet behaald", "en": "failed"},
}
NT2_EXAM: Text = {"nl": "Staatsexamen NT2", "en": "State Examination NT2"}
INBURGERING_EXAM: Text = {"nl": "Inburgeringsexamen", "en": "Civic integration examination"}
BASISEXAMEN: Text = {
    "nl": "Basisexamen inburgering buitenland",
    "en": "Civic integration examination abroad",
}
LAWS: dict[str, Text] = {
    "wi2013": {"nl": "Wet inburgering 2013", "en": "Civic Integration Act 2013"},
    "wi2021": {"nl": "Wet inburgering 2021", "en": "Civic Integration Act 2021"},
}


def _titled(name: Text, part: Text) -> Text:
    return {lang: f"{name[lang]}: {part[lang]}" for lang in ("nl", "en")}


def _mark(subject: dict[str, Any], key: str) -> str | None:
    value = subject.get(key)
    if value is not None and not (isinstance(value, str) and value):
        raise MappingError("mapping_bad_value", "a mark is not a string")
    return value


def _subject(subject: dict[str, Any], process: dict[str, Any]) -> dict[str, Any]:
    """One subject: LearningAchievement provenBy its final mark (parts: SE and CE marks)."""
    name = lang_text(subject.get("name"))
    code, final = subject.get("code"), _mark(subject, "final_mark")
    if not isinstance(code, str) or final is None:
        raise MappingError("mapping_missing_claim", "a subject has no code or final mark")
    parts = [
        assessment(_titled(name, label_), {"nl": mark}, copy.deepcopy(process))
        for key, label_ in (("school_exam_mark", SCHOOL_EXAM), ("central_exam_mark", CENTRAL_EXAM))
        if (mark := _mark(subject, key)) is not None
    ]
    final_node = assessment(_titled(name, FINAL_MARK), {"nl": final}, copy.deepcopy(process))
    if parts:
        final_node["hasPart"] = parts
    return {
        "type": "LearningAchievement",
        "title": name,
        "identifier": {"type": "Identifier", "notation": code, "schemeName": "subject code"},
        "awardedBy": copy.deepcopy(process),
        "provenBy": [final_node],
    }


def grade_list(claims: dict[str, Any], issuer: str) -> dict[str, Any]:
    """grade_list: the diploma's LearningAchievement with one part per subject."""
    del issuer  # the awarding body is the institution
    kind = diploma_type(claims)
    body = organisation(
        member(claims, "institution", "name"),
        member(claims, "institution", "brin"),
        claim(claims, "issuing_country"),
        claims["institution"].get("city"),
    )
    process = awarding_process(body, claim(claims, "award_date"))
    title = explained_names(kind)
    achievement: dict[str, Any] = {
        "type": "LearningAchievement",
        "title": title,
        "awardedBy": process,
        "specifiedBy": qualification(claims, kind, title),
        "hasPart": [_subject(item, process) for item in objects(claims, "subjects")],
    }
    project = claims.get("final_project_title")
    if isinstance(project, str) and project:
        specification = {"type": "LearningActivitySpecification", "title": dict(FINAL_PROJECT)}
        achievement["influencedBy"] = [
            {
                "type": "LearningActivity",
                "title": {"nl": project},
                "awardedBy": copy.deepcopy(process),
                "specifiedBy": specification,
            }
        ]
    notes = [note({lang: explain(kind, lang).grading for lang in LANGUAGES})]
    profile = claims.get("profile")
    if isinstance(profile, str) and profile:
        prefix = {"nl": "Profiel", "en": "Profile (subject cluster)"}
        notes.insert(0, note(labelled(prefix, {"nl": profile, "en": profile})))
    achievement["additionalNote"] = notes
    return achievement


def _components(
    claims: dict[str, Any],
    parts: dict[str, Text],
    results: tuple[str, ...],
    exam: Text,
    body: dict[str, Any],
) -> list[dict[str, Any]]:
    """One LearningAssessment per exam component: grade = result, dateIssued = its date."""
    nodes = []
    for item in objects(claims, "exam_components"):
        part = choice(item, "component", parts)
        result = choice(item, "result", results)
        title = _titled(exam, parts[part])
        process = awarding_process(copy.deepcopy(body))
        nodes.append(assessment(title, RESULTS[result], process, claim(item, "date")))
    return nodes


def nt2_diploma(claims: dict[str, Any], issuer: str) -> dict[str, Any]:
    """nt2_diploma: LearningAchievement (CEFR B1/B2) proven by the four component assessments."""
    kind = choice(claims, "diploma_type", ("nt2_i", "nt2_ii"))
    if cefr_level(claims) is None:
        raise MappingError("mapping_missing_claim", "a required claim is missing")
    body = duo(issuer, claim(claims, "issuing_country"))
    title = explained_names(kind)
    return {
        "type": "LearningAchievement",
        "title": title,
        "awardedBy": awarding_process(body, claim(claims, "award_date")),
        "specifiedBy": qualification(claims, kind, title, coded=False),
        "provenBy": _components(claims, LANGUAGE_SKILLS, ("passed", "exempt"), NT2_EXAM, body),
    }


def _basisexamen(value: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The basisexamen abroad: a LearningAssessment; its validity end is a Note."""
    if not isinstance(value, dict):
        raise MappingError("mapping_bad_value", "basisexamen_abroad is not an object")
    result = choice(value, "result", ("passed", "failed"))
    process = awarding_process(copy.deepcopy(body))
    node = assessment(BASISEXAMEN, RESULTS[result], process, claim(value, "date"))
    until = claim(value, "valid_until")
    if day_timestamp(until) is not None:
        prefix = {"nl": "Uitslag geldig tot", "en": "Result valid until"}
        node["additionalNote"] = [note(labelled(prefix, {"nl": until, "en": until}))]
    return node


def inburgering(claims: dict[str, Any], issuer: str) -> list[dict[str, Any]]:
    """inburgering: the diploma (once awarded) or the component results, plus the basisexamen."""
    choice(claims, "diploma_type", ("inburgering",))
    law = LAWS[choice(claims, "law", LAWS)]
    level = cefr_level(claims)
    body = duo(issuer, claim(claims, "issuing_country"))
    results = ("passed", "failed", "exempt")
    components = _components(claims, INBURGERING_PARTS, results, INBURGERING_EXAM, body)
    nodes: list[dict[str, Any]] = []
    if claims.get("award_date") is not None:
        title = explained_names("inburgering")
        nodes.append(
            {
                "type": "LearningAchievement",
                "title": title,
                "awardedBy": awarding_process(body, claims["award_date"]),
                "specifiedBy": qualification(claims, "inburgering", title, coded=False),
                "provenBy": components,
                "additionalNote": [note(law)],
            }
        )
    else:  # not awarded: the assessments are the claims (ELM: hasClaim may hold them)
        cefr = {"nl": f"ERK-niveau {level}", "en": f"CEFR level {level}"}
        for node, item in zip(components, claims["exam_components"], strict=True):
            skill = level is not None and item["component"] in LANGUAGE_SKILLS
            node["additionalNote"] = [note(law), *([note(cefr)] if skill else [])]
        nodes.extend(components)
    if claims.get("basisexamen_abroad") is not None:
        nodes.append(_basisexamen(claims["basisexamen_abroad"], body))
    return nodes
