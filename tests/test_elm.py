"""DUO's five credential types as VCDM 2.0 / 1.1 credentials with European Learning Model (EDC)
content, signed and verified end to end, and the JSON-LD contexts kept locally (SPECS §6
VCDM-1..VCDM-4, JOSE-1, JWTVC)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.credentials.signing import sign_vcdm
from keys.file_store import FileKeyStore, init_store
from schemas.elm import MappingError, elm_credential, elm_credential_v11, has_claim
from schemas.jsonld_contexts import UnknownContext, context_bytes, context_urls, load_context
from schemas.loader import example_claims, validate_claims
from verifier import jose
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.verify import verify

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://issuer.duo.test"
CRED_ID = "urn:uuid:0b6a2d4e-8f51-4c1e-9a57-2f0c3e1d7b90"
VALID_FROM = "2025-06-01T09:30:00Z"

# shared/DOMAIN.md "Levels" (staatsexamen_vo: a HAVO-level state exam): (NLQF, EQF, ISCED 2011).
LEVELS: dict[str, tuple[str, int, int] | None] = {
    "vmbo_bb": ("1", 1, 2),
    "vmbo_kb": ("2", 2, 2),
    "vmbo_gl": ("2", 2, 2),
    "vmbo_tl": ("2", 2, 2),
    "havo": ("4", 4, 3),
    "vwo": ("4+", 4, 3),
    "mbo_1": ("1", 1, 2),
    "mbo_2": ("2", 2, 3),
    "mbo_3": ("3", 3, 3),
    "mbo_4": ("4", 4, 3),
    "hbo_ad": ("5", 5, 5),
    "hbo_bachelor": ("6", 6, 6),
    "wo_bachelor": ("6", 6, 6),
    "hbo_master": ("7", 7, 7),
    "wo_master": ("7", 7, 7),
    "staatsexamen_vo": ("4", 4, 3),
    "nt2_i": None,
    "nt2_ii": None,
    "inburgering": None,
}
SCHEME = {
    **dict.fromkeys(("vmbo_bb", "vmbo_kb", "vmbo_gl", "vmbo_tl", "havo", "vwo"), "VO"),
    **dict.fromkeys(("mbo_1", "mbo_2", "mbo_3", "mbo_4"), "CREBO"),
    **dict.fromkeys(("hbo_ad", "hbo_bachelor", "wo_bachelor", "hbo_master", "wo_master"), "CROHO"),
    "staatsexamen_vo": "STAATSEXAMEN",
    "nt2_i": "NT2",
    "nt2_ii": "NT2",
    "inburgering": "INBURGERING",
}
CEFR = {"nt2_i": "B1", "nt2_ii": "B2", "inburgering": "B1"}

# Digests the specifications publish for their base contexts (VCDM 2.0 Appendix B.1; VCDM 1.x B.1).
PUBLISHED_DIGESTS = {
    "https://www.w3.org/ns/credentials/v2": (
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    ),
    "https://www.w3.org/2018/credentials/v1": (
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc"
    ),
}


def diploma_claims(diploma_type: str) -> dict[str, Any]:
    """Contract-shaped diploma claims of one type, built from the packaged example."""
    claims = example_claims("diploma")
    claims["diploma_type"] = diploma_type
    claims["programme_code"] = {"scheme": SCHEME[diploma_type], "code": "12345"}
    levels = LEVELS[diploma_type]
    if levels is None:
        for name in ("nlqf_level", "eqf_level", "isced_level", "degree_title", "credits_ects"):
            claims.pop(name, None)
        claims["cefr_level"] = CEFR[diploma_type]
    else:
        claims["nlqf_level"], claims["eqf_level"], claims["isced_level"] = levels
    return claims


def _build(claims: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "issuer": ISSUER,
        "credential_id": CRED_ID,
        "valid_from": VALID_FROM,
    } | overrides
    return elm_credential("diploma", claims, **envelope)


def _qualification(document: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = document["credentialSubject"]["hasClaim"]["specifiedBy"]
    return spec


def _contexts_used(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "@context":
                found |= set(child if isinstance(child, list) else [child])
            else:
                found |= _contexts_used(child)
    elif isinstance(value, list):
        for child in value:
            found |= _contexts_used(child)
    return found


@pytest.mark.parametrize("diploma_type", sorted(LEVELS))
def test_test_claims_follow_the_contract_schema(diploma_type: str) -> None:
    validate_claims("diploma", diploma_claims(diploma_type))


def test_example_diploma_has_the_vcdm2_shape() -> None:
    """SPECS VCDM-1 (first context v2, VerifiableCredential, one URL id), VCDM-2 (issuer,
    credentialSubject), VCDM-3 (validFrom with timezone)."""
    document = _build(example_claims("diploma"))
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "http://data.europa.eu/snb/model/context/edc-ap",
    ]
    assert document["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert document["id"] == CRED_ID
    assert document["issuer"]["id"] == ISSUER and document["issuer"]["type"] == "Organisation"
    assert document["issuer"]["legalName"]["nl"] == "Dienst Uitvoering Onderwijs"
    assert datetime.fromisoformat(document["validFrom"].replace("Z", "+00:00")).tzinfo
    assert "issuanceDate" not in document and "credentialStatus" not in document
    subject = document["credentialSubject"]
    assert subject["type"] == "Person" and "id" not in subject  # holder binding is by key
    assert subject["givenName"] == {"nl": "Sanne Johanna"}
    assert subject["familyName"] == {"nl": "van der Berg"}
    assert subject["dateOfBirth"] == "1998-03-14T00:00:00Z"
    json.dumps(document)


def test_example_diploma_carries_the_learning_achievement() -> None:
    achievement = _build(example_claims("diploma"))["credentialSubject"]["hasClaim"]
    assert achievement["type"] == "LearningAchievement"
    assert achievement["title"] == {"nl": "Informatica", "en": "Computer Science"}
    process = achievement["awardedBy"]
    assert process["type"] == "AwardingProcess"
    assert process["awardingDate"] == "2021-08-31T00:00:00Z"
    (body,) = process["awardingBody"]
    assert body["legalName"] == {"nl": "Universiteit Leiden"}
    assert body["identifier"] == {"type": "Identifier", "notation": "21PB", "schemeName": "BRIN"}
    country = body["location"]["address"]["countryCode"]["id"]
    assert country == "http://publications.europa.eu/resource/authority/country/NLD"
    spec = achievement["specifiedBy"]
    assert spec["type"] == "Qualification"
    assert spec["identifier"] == {"type": "Identifier", "notation": "56981", "schemeName": "CROHO"}
    assert set(spec["description"]) == {"en", "nl", "de", "fr", "es"}
    assert spec["creditPoint"][0]["point"] == "180"
    notes = [note["noteLiteral"] for note in achievement["additionalNote"]]
    assert {"nl": "Bachelor of Science"} in notes
    assert {"nl": "cum laude", "en": "cum laude (with distinction)"} in notes


@pytest.mark.parametrize("diploma_type", sorted(LEVELS))
def test_eqf_nlqf_and_isced_f_concepts_match_the_levels(diploma_type: str) -> None:
    spec = _qualification(_build(diploma_claims(diploma_type)))
    levels = LEVELS[diploma_type]
    if levels is None:
        assert "eqfLevel" not in spec and "nqfLevel" not in spec
        return
    nlqf, eqf, _ = levels
    assert spec["eqfLevel"]["id"] == f"http://data.europa.eu/snb/eqf/{eqf}"
    assert spec["eqfLevel"]["inScheme"]["id"] == "http://data.europa.eu/snb/eqf/25831c2"
    assert spec["nqfLevel"][0]["notation"] == nlqf
    assert spec["nqfLevel"][0]["inScheme"]["id"] == "http://data.europa.eu/snb/qdr/25831c2"
    (field,) = spec["thematicArea"]
    assert field["id"] == "http://data.europa.eu/snb/isced-f/0613"
    assert field["inScheme"]["id"] == "http://data.europa.eu/snb/isced-f/25831c2"


@pytest.mark.parametrize("diploma_type", sorted(LEVELS))
def test_every_diploma_type_maps_in_both_envelopes(diploma_type: str) -> None:
    claims = diploma_claims(diploma_type)
    v2 = _build(claims)
    v11 = elm_credential_v11(
        "diploma", claims, issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM
    )
    assert v2["credentialSubject"] == v11["credentialSubject"]
    assert (
        v2["credentialSubject"]["hasClaim"]["specifiedBy"]["identifier"]["schemeName"]
        == (SCHEME[diploma_type])
    )
    if diploma_type in CEFR:
        notes = v2["credentialSubject"]["hasClaim"]["additionalNote"]
        assert {
            "nl": f"ERK-niveau {CEFR[diploma_type]}",
            "en": f"CEFR level {CEFR[diploma_type]}",
        } in [note["noteLiteral"] for note in notes]


def test_vcdm11_envelope_for_jwt_vc_json() -> None:
    """SPECS JWTVC: jwt_vc_json carries a VCDM 1.1 credential (v1 context, issuanceDate)."""
    document = elm_credential_v11(
        "diploma",
        example_claims("diploma"),
        issuer=ISSUER,
        credential_id=CRED_ID,
        valid_from=VALID_FROM,
    )
    assert document["@context"][0] == "https://www.w3.org/2018/credentials/v1"
    assert document["@context"][1] == "http://data.europa.eu/snb/model/context/edc-ap"
    assert document["issuanceDate"] == document["validFrom"] == VALID_FROM
    assert "VerifiableCredential" in document["type"]


def test_status_is_carried_when_given() -> None:
    """SPECS VCDM-4: credentialStatus has a type; it is copied as given."""
    status = {
        "id": "https://issuer.duo.test/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://issuer.duo.test/status/3",
    }
    document = _build(example_claims("diploma"), status=status)
    assert document["credentialStatus"] == status


def test_month_precision_award_date_is_left_out() -> None:
    claims = example_claims("diploma") | {"award_date": "2004-06"}
    process = _build(claims)["credentialSubject"]["hasClaim"]["awardedBy"]
    assert "awardingDate" not in process


def test_the_register_record_id_is_not_published() -> None:
    claims = example_claims("diploma")
    assert claims["record_id"] not in json.dumps(_build(claims))


@pytest.mark.parametrize(
    ("change", "overrides", "code"),
    [
        ({}, {"valid_from": "2025-06-01T09:30:00"}, "mapping_bad_valid_from"),
        ({}, {"valid_from": "June 2025"}, "mapping_bad_valid_from"),
        ({}, {"credential_id": "not a uri"}, "mapping_bad_uri"),
        ({}, {"issuer": "issuer.duo.test"}, "mapping_bad_uri"),
        ({}, {"status": {"statusPurpose": "revocation"}}, "mapping_bad_status"),
        ({"eqf_level": 9}, {}, "mapping_bad_level"),
        ({"eqf_level": True}, {}, "mapping_bad_level"),
        ({"nlqf_level": "4++"}, {}, "mapping_bad_level"),
        ({"diploma_type": "phd"}, {}, "mapping_bad_diploma_type"),
        ({"award_date": "31-08-2021"}, {}, "mapping_bad_date"),
        ({"issuing_country": "XX"}, {}, "mapping_bad_country"),
        ({"credits_ects": "180"}, {}, "mapping_bad_credits"),
        ({"isced_f_code": "06a3"}, {}, "mapping_bad_isced_f"),
        ({"institution": {"name": "Universiteit Leiden"}}, {}, "mapping_missing_claim"),
        ({"qualification_name": {"nl": "Informatica"}}, {}, "mapping_missing_claim"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code(
    change: dict[str, Any], overrides: dict[str, Any], code: str
) -> None:
    claims = example_claims("diploma") | change
    with pytest.raises(MappingError) as caught:
        _build(claims, **overrides)
    assert caught.value.code == code
    for value in [*change.values(), *overrides.values()]:
        assert str(value) not in str(caught.value)  # fixed messages, no input echoed


@pytest.mark.parametrize("name", ["given_name", "birthdate", "award_date", "programme_code"])
def test_missing_required_claim_is_refused(name: str) -> None:
    claims = example_claims("diploma")
    del claims[name]
    with pytest.raises(MappingError) as caught:
        _build(claims)
    assert caught.value.code == "mapping_missing_claim"


OPTIONAL = ("degree_title", "judicium", "isced_level", "isced_f_code", "credits_ects", "study_mode")


@settings(max_examples=60, deadline=None)
@given(
    diploma_type=st.sampled_from(sorted(LEVELS)),
    dropped=st.sets(st.sampled_from(OPTIONAL)),
    city=st.booleans(),
)
def test_any_contract_claims_map_to_serialisable_documents(
    diploma_type: str, dropped: set[str], city: bool
) -> None:
    claims = diploma_claims(diploma_type)
    for name in dropped:
        claims.pop(name, None)
    if not city:
        claims["institution"] = {k: v for k, v in claims["institution"].items() if k != "city"}
    before = copy.deepcopy(claims)
    document = _build(claims)
    assert claims == before  # the input is not changed
    assert json.loads(json.dumps(document)) == document
    spec = _qualification(document)
    assert ("thematicArea" in spec) == ("isced_f_code" in claims)
    assert ("creditPoint" in spec) == ("credits_ects" in claims)


# --- JSON-LD contexts kept locally ---------------------------------------------------------------


def test_every_context_used_resolves_to_a_local_file() -> None:
    claims = example_claims("diploma")
    used = _contexts_used(_build(claims)) | _contexts_used(
        elm_credential_v11(
            "diploma", claims, issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM
        )
    )
    assert used <= context_urls()
    for url in used:
        assert isinstance(load_context(url)["@context"], dict)


def test_base_contexts_are_the_published_documents() -> None:
    """VCDM 2.0 Appendix B.1: the base context is treated as already retrieved; ours is byte for
    byte the document whose digest the Recommendation publishes."""
    for url, digest in PUBLISHED_DIGESTS.items():
        assert hashlib.sha256(context_bytes(url)).hexdigest() == digest


def test_index_files_exist_and_have_provenance() -> None:
    directory = resources.files("schemas") / "contexts"
    index = json.loads((directory / "index.json").read_text(encoding="utf-8"))
    provenance = (ROOT / "schemas" / "contexts" / "PROVENANCE.md").read_text(encoding="utf-8")
    for url, name in index.items():
        assert re.fullmatch(r"[a-z0-9.\-]+\.json", name)
        assert (directory / name).is_file()
        assert f"`{name}`" in provenance and hashlib.sha256(context_bytes(url)).hexdigest() in (
            provenance
        )


def test_unknown_context_is_never_fetched() -> None:
    with pytest.raises(UnknownContext) as caught:
        load_context("https://www.w3.org/ns/credentials/examples/v2")
    assert isinstance(caught.value, KeyError) and caught.value.code == "jsonld_context_unknown"


def test_loaded_contexts_are_fresh_copies() -> None:
    url = "https://www.w3.org/ns/credentials/v2"
    first = load_context(url)
    first["@context"]["id"] = "tampered"
    assert load_context(url)["@context"]["id"] == "@id"


# --- every credential type (claims contract: diploma, grade_list, nt2_diploma, inburgering,
# --- enrolment) ----------------------------------------------------------------------------------

TYPES = ("diploma", "grade_list", "nt2_diploma", "inburgering", "enrolment")
EXPECTED_CLAIM_TYPES = {
    "diploma": ["LearningAchievement"],
    "grade_list": ["LearningAchievement"],
    "nt2_diploma": ["LearningAchievement"],
    "inburgering": ["LearningAchievement", "LearningAssessment"],  # diploma + basisexamen abroad
    "enrolment": ["LearningActivity"],
}


def _typed(type_name: str, claims: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "issuer": ISSUER,
        "credential_id": CRED_ID,
        "valid_from": VALID_FROM,
    } | overrides
    return elm_credential(type_name, claims, **envelope)


def _claim_nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = document["credentialSubject"]["hasClaim"]
    return nodes if isinstance(nodes, list) else [nodes]


def _notes(node: dict[str, Any]) -> list[dict[str, str]]:
    return [note["noteLiteral"] for note in node.get("additionalNote", [])]


def _awarding_bodies(value: Any) -> list[dict[str, Any]]:
    """Every awardingBody anywhere under ``value``."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found += value.get("awardingBody", [])
        for child in value.values():
            found += _awarding_bodies(child)
    elif isinstance(value, list):
        for child in value:
            found += _awarding_bodies(child)
    return found


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_has_the_vcdm2_shape(type_name: str) -> None:
    """SPECS VCDM-1 (first context v2, VerifiableCredential, id), VCDM-2 (issuer,
    credentialSubject), VCDM-3 (validFrom with timezone), for each example claims file."""
    claims = example_claims(type_name)
    document = _typed(type_name, claims)
    assert document["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert document["@context"][1] == "http://data.europa.eu/snb/model/context/edc-ap"
    assert document["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert document["id"] == CRED_ID
    assert document["issuer"]["id"] == ISSUER
    assert datetime.fromisoformat(document["validFrom"].replace("Z", "+00:00")).tzinfo
    assert "issuanceDate" not in document
    subject = document["credentialSubject"]
    assert subject["type"] == "Person" and "id" not in subject
    assert subject["givenName"] == {"nl": claims["given_name"]}
    assert subject["familyName"] == {"nl": claims["family_name"]}
    assert subject["dateOfBirth"] == f"{claims['birthdate']}T00:00:00Z"
    assert [node["type"] for node in _claim_nodes(document)] == EXPECTED_CLAIM_TYPES[type_name]
    for node in _claim_nodes(document):  # EDC "Claim" shape: a title and an awarding process
        assert node["title"] and node["awardedBy"]["type"] == "AwardingProcess"
    assert claims["record_id"] not in json.dumps(document)
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_has_the_vcdm11_variant(type_name: str) -> None:
    """SPECS JWTVC: jwt_vc_json carries VCDM 1.1 (v1 context first, issuanceDate), same content."""
    claims = example_claims(type_name)
    v11 = elm_credential_v11(
        type_name, claims, issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM
    )
    assert v11["@context"] == [
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
    ]
    assert v11["issuanceDate"] == v11["validFrom"] == VALID_FROM
    assert v11["credentialSubject"] == _typed(type_name, claims)["credentialSubject"]


@pytest.mark.parametrize("type_name", TYPES)
def test_every_context_of_every_type_resolves_locally(type_name: str) -> None:
    claims = example_claims(type_name)
    v11 = elm_credential_v11(
        type_name, claims, issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM
    )
    used = _contexts_used(_typed(type_name, claims)) | _contexts_used(v11)
    assert len(used) == 3 and used <= context_urls()
    for url in used:
        assert isinstance(load_context(url)["@context"], dict)


@pytest.mark.parametrize("type_name", TYPES)
def test_every_json_term_is_defined_by_the_contexts(type_name: str) -> None:
    """Each key of the document is a term of the VCDM 2.0 or the edc-ap context (or @context):
    ELM 3 names, not ELM 2 ones such as wasDerivedFrom or issuedDate."""
    terms = {"@context"}
    for url in (
        "https://www.w3.org/ns/credentials/v2",
        "http://data.europa.eu/snb/model/context/edc-ap",
    ):
        context = load_context(url)["@context"]
        terms |= set(context)
        for value in context.values():
            if isinstance(value, dict) and isinstance(value.get("@context"), dict):
                terms |= set(value["@context"])
    keys: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key not in {
                    "noteLiteral",
                    "title",
                    "description",
                    "legalName",
                    "givenName",
                    "familyName",
                    "prefLabel",
                }:  # language maps: keys are language tags
                    walk(child)
                keys.add(key)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(_typed(type_name, example_claims(type_name)))
    assert keys <= terms, sorted(keys - terms)
    assert not {"wasDerivedFrom", "wasInfluencedBy", "issuedDate"} & terms  # the check can fail


def test_unknown_type_is_refused() -> None:
    for build in (elm_credential, elm_credential_v11):
        with pytest.raises(MappingError) as caught:
            build(
                "phd",
                example_claims("diploma"),
                issuer=ISSUER,
                credential_id=CRED_ID,
                valid_from=VALID_FROM,
            )
        assert caught.value.code == "mapping_unknown_type"
        assert "phd" not in str(caught.value)


# --- grade list ----------------------------------------------------------------------------------


def _subjects(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The subject achievements of a grade list, by subject code."""
    (diploma,) = _claim_nodes(document)
    return {part["identifier"]["notation"]: part for part in diploma["hasPart"]}


def _marks(subject: dict[str, Any]) -> dict[str, str | None]:
    (final,) = subject["provenBy"]
    parts = {
        p["title"]["en"].rsplit(": ", 1)[1]: p["grade"]["noteLiteral"]["nl"]
        for p in final.get("hasPart", [])
    }
    return {
        "final_mark": final["grade"]["noteLiteral"]["nl"],
        "school_exam_mark": parts.get("school examination"),
        "central_exam_mark": parts.get("central examination"),
    }


def test_grade_list_carries_every_subject_with_its_marks_exactly() -> None:
    claims = example_claims("grade_list")
    subjects = _subjects(_typed("grade_list", claims))
    assert list(subjects) == [s["code"] for s in claims["subjects"]]
    for item in claims["subjects"]:
        subject = subjects[item["code"]]
        assert subject["type"] == "LearningAchievement"
        assert subject["title"] == item["name"]
        assert subject["awardedBy"]["awardingBody"][0]["identifier"]["notation"] == "19KX"
        assert _marks(subject) == {
            k: item[k] for k in ("final_mark", "school_exam_mark", "central_exam_mark")
        }
    assert _marks(subjects["maat"])["school_exam_mark"] == "7.0"  # not normalised to "7"
    assert _marks(subjects["lo"]) == {
        "final_mark": "voldoende",
        "school_exam_mark": None,
        "central_exam_mark": None,
    }


def test_grade_list_diploma_profile_project_and_levels() -> None:
    claims = example_claims("grade_list")
    (diploma,) = _claim_nodes(_typed("grade_list", claims))
    assert diploma["title"]["nl"].startswith("Vwo-diploma")
    assert diploma["awardedBy"]["awardingDate"] == "2023-07-14T00:00:00Z"
    spec = diploma["specifiedBy"]
    assert spec["identifier"] == {"type": "Identifier", "notation": "0353", "schemeName": "VO"}
    assert spec["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/4"
    assert spec["nqfLevel"][0]["notation"] == "4+"
    (project,) = diploma["influencedBy"]
    assert project["type"] == "LearningActivity"
    assert project["title"] == {"nl": "Microplastics in de Oude Rijn"}
    assert project["specifiedBy"]["type"] == "LearningActivitySpecification"
    notes = _notes(diploma)
    assert notes[0]["nl"] == "Profiel: Natuur en Gezondheid"
    assert set(notes[1]) == {"en", "nl", "de", "fr", "es"}  # the grading scale, explained


def test_grade_list_without_optional_claims() -> None:
    claims = example_claims("grade_list")
    for name in ("profile", "final_project_title", "nlqf_level", "eqf_level"):
        del claims[name]
    validate_claims("grade_list", claims)
    (diploma,) = _claim_nodes(_typed("grade_list", claims))
    assert "influencedBy" not in diploma and len(_notes(diploma)) == 1
    assert "eqfLevel" not in diploma["specifiedBy"] and "nqfLevel" not in diploma["specifiedBy"]


MARK = st.one_of(
    st.integers(1, 10).map(str),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(1, 9), st.integers(0, 9)),
    st.sampled_from(["voldoende", "goed", "10.0", "5.5"]),
)


@settings(max_examples=50, deadline=None)
@given(marks=st.lists(st.tuples(st.none() | MARK, st.none() | MARK, MARK), min_size=1, max_size=12))
def test_any_marks_are_copied_exactly(
    marks: list[tuple[str | None, str | None, str]],
) -> None:
    claims = example_claims("grade_list")
    claims["subjects"] = [
        {
            "name": {"nl": f"Vak {i}", "en": f"Subject {i}"},
            "code": f"v{i}",
            "school_exam_mark": se,
            "central_exam_mark": ce,
            "final_mark": final,
        }
        for i, (se, ce, final) in enumerate(marks)
    ]
    subjects = _subjects(_typed("grade_list", claims))
    for i, (se, ce, final) in enumerate(marks):
        assert _marks(subjects[f"v{i}"]) == {
            "final_mark": final,
            "school_exam_mark": se,
            "central_exam_mark": ce,
        }


# --- NT2 and inburgering -------------------------------------------------------------------------


def _components(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Component assessments by their English title suffix (e.g. "reading")."""
    return {node["title"]["en"].split(": ", 1)[1]: node for node in nodes}


def test_nt2_diploma_has_cefr_and_every_component() -> None:
    claims = example_claims("nt2_diploma")
    (achievement,) = _claim_nodes(_typed("nt2_diploma", claims))
    assert achievement["awardedBy"]["awardingDate"] == "2024-02-09T00:00:00Z"
    (duo,) = achievement["awardedBy"]["awardingBody"]
    assert duo["id"] == ISSUER and duo["legalName"]["nl"] == "Dienst Uitvoering Onderwijs"
    spec = achievement["specifiedBy"]
    assert spec["type"] == "Qualification" and "NT2" in spec["title"]["en"]
    (outcome,) = spec["learningOutcome"]
    (level,) = outcome["relatedSkill"]
    assert level["notation"] == "B2" and level["prefLabel"]["en"] == "CEFR level B2"
    assert "id" not in level  # no official CEFR concept IRI: a labelled concept
    components = _components(achievement["provenBy"])
    assert set(components) == {"reading", "listening", "speaking", "writing"}
    for item in claims["exam_components"]:
        node = components[item["component"]]
        assert node["type"] == "LearningAssessment"
        assert node["grade"]["noteLiteral"]["en"] == item["result"]
        assert node["dateIssued"] == f"{item['date']}T00:00:00Z"
        assert node["awardedBy"]["awardingBody"][0]["id"] == ISSUER
    assert components["writing"]["grade"]["noteLiteral"] == {"nl": "vrijgesteld", "en": "exempt"}


def test_inburgering_diploma_with_components_and_basisexamen() -> None:
    claims = example_claims("inburgering")
    diploma, abroad = _claim_nodes(_typed("inburgering", claims))
    assert diploma["type"] == "LearningAchievement"
    assert diploma["awardedBy"]["awardingDate"] == "2025-03-20T00:00:00Z"
    assert diploma["specifiedBy"]["learningOutcome"][0]["relatedSkill"][0]["notation"] == "B1"
    assert {"nl": "Wet inburgering 2021", "en": "Civic Integration Act 2021"} in _notes(diploma)
    components = _components(diploma["provenBy"])
    assert len(components) == len(claims["exam_components"])
    for item in claims["exam_components"]:
        node = next(n for title, n in components.items() if item["component"] in title.lower())
        assert node["grade"]["noteLiteral"]["en"] == item["result"]
        assert node["dateIssued"] == f"{item['date']}T00:00:00Z"
    assert abroad["type"] == "LearningAssessment"
    assert abroad["title"]["en"] == "Civic integration examination abroad"
    assert abroad["grade"]["noteLiteral"]["en"] == "passed"
    assert abroad["dateIssued"] == "2022-05-10T00:00:00Z"
    assert _notes(abroad) == [
        {"nl": "Uitslag geldig tot: 2023-05-10", "en": "Result valid until: 2023-05-10"}
    ]


def test_inburgering_not_awarded_is_a_record_of_assessments() -> None:
    """ELM 3: hasClaim may hold LearningAssessments without a qualification."""
    claims = example_claims("inburgering")
    del claims["award_date"], claims["basisexamen_abroad"]
    claims["exam_components"][2] = {
        "component": "speaking",
        "result": "failed",
        "date": "2024-11-21",
    }
    claims["exam_components"].append({"component": "ona", "result": "exempt", "date": "2024-08-01"})
    validate_claims("inburgering", claims)
    nodes = _claim_nodes(_typed("inburgering", claims))
    assert [n["type"] for n in nodes] == ["LearningAssessment"] * len(claims["exam_components"])
    assert [n["grade"]["noteLiteral"]["en"] for n in nodes] == [
        c["result"] for c in claims["exam_components"]
    ]
    assert all(
        {"nl": "Wet inburgering 2021", "en": "Civic Integration Act 2021"} in _notes(n)
        for n in nodes
    )
    reading = nodes[0]
    assert {"nl": "ERK-niveau B1", "en": "CEFR level B1"} in _notes(reading)
    assert not any("CEFR" in note.get("en", "") for note in _notes(nodes[-1]))  # ONA: no level


def test_inburgering_failed_basisexamen_alone() -> None:
    claims = example_claims("inburgering")
    del claims["award_date"]
    claims["basisexamen_abroad"]["result"] = "failed"
    nodes = _claim_nodes(_typed("inburgering", claims))
    assert nodes[-1]["grade"]["noteLiteral"] == {"nl": "niet behaald", "en": "failed"}
    assert all(n["type"] == "LearningAssessment" for n in nodes)


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_is_a_learning_activity_with_its_period() -> None:
    claims = example_claims("enrolment")
    (activity,) = _claim_nodes(_typed("enrolment", claims))
    assert activity["title"] == claims["programme_name"]
    assert activity["temporal"] == [
        {
            "type": "PeriodOfTime",
            "startDate": "2024-09-01T00:00:00Z",
            "endDate": "2026-08-31T00:00:00Z",
        }
    ]
    (institution,) = activity["directedBy"]
    assert institution["legalName"] == {"nl": "Universiteit Leiden"}
    assert institution["identifier"] == {
        "type": "Identifier",
        "notation": "21PB",
        "schemeName": "BRIN",
    }
    assert activity["awardedBy"]["awardingBody"] == [institution]
    spec = activity["specifiedBy"]
    assert spec["type"] == "LearningActivitySpecification"
    assert spec["identifier"] == {"type": "Identifier", "notation": "66980", "schemeName": "CROHO"}
    assert _notes(activity) == [
        {"nl": "Fase: master", "en": "Phase: master"},
        {"nl": "Studievorm: voltijd", "en": "Mode of study: full-time"},
    ]


def test_enrolment_without_end_date() -> None:
    claims = example_claims("enrolment")
    del claims["endDate"]
    claims["modeOfStudy"], claims["phase"] = "dual", "propedeuse"
    validate_claims("enrolment", claims)
    (activity,) = _claim_nodes(_typed("enrolment", claims))
    assert activity["temporal"] == [{"type": "PeriodOfTime", "startDate": "2024-09-01T00:00:00Z"}]
    assert _notes(activity)[1]["nl"] == "Studievorm: duaal"


# --- refusals of the type-specific mappings ------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(claims: dict[str, Any]) -> None:
        target: Any = claims
        for step in path[:-1]:
            target = target[step]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


DELETE = object()


@pytest.mark.parametrize(
    ("type_name", "change", "code"),
    [
        ("grade_list", _set(("subjects", 0, "final_mark"), 7), "mapping_bad_value"),
        ("grade_list", _set(("subjects", 0, "school_exam_mark"), 6.8), "mapping_bad_value"),
        ("grade_list", _set(("subjects", 0, "final_mark"), DELETE), "mapping_missing_claim"),
        ("grade_list", _set(("subjects", 0, "name"), {"nl": "Wiskunde"}), "mapping_missing_claim"),
        ("grade_list", _set(("subjects",), []), "mapping_bad_value"),
        ("grade_list", _set(("subjects",), DELETE), "mapping_missing_claim"),
        ("grade_list", _set(("diploma_type",), "phd"), "mapping_bad_diploma_type"),
        ("nt2_diploma", _set(("exam_components", 0, "result"), "failed"), "mapping_bad_value"),
        ("nt2_diploma", _set(("exam_components", 0, "component"), "knm"), "mapping_bad_value"),
        ("nt2_diploma", _set(("exam_components", 0, "date"), "14-11-2023"), "mapping_bad_date"),
        ("nt2_diploma", _set(("diploma_type",), "inburgering"), "mapping_bad_value"),
        ("nt2_diploma", _set(("cefr_level",), DELETE), "mapping_missing_claim"),
        ("nt2_diploma", _set(("cefr_level",), "B3"), "mapping_bad_level"),
        ("nt2_diploma", _set(("award_date",), DELETE), "mapping_missing_claim"),
        ("inburgering", _set(("law",), "wi2030"), "mapping_bad_value"),
        ("inburgering", _set(("exam_components", 0, "component"), "swimming"), "mapping_bad_value"),
        ("inburgering", _set(("exam_components",), "passed"), "mapping_bad_value"),
        ("inburgering", _set(("basisexamen_abroad",), "passed"), "mapping_bad_value"),
        ("inburgering", _set(("basisexamen_abroad", "result"), "exempt"), "mapping_bad_value"),
        (
            "inburgering",
            _set(("basisexamen_abroad", "valid_until"), DELETE),
            "mapping_missing_claim",
        ),
        ("enrolment", _set(("phase",), "phd"), "mapping_bad_value"),
        ("enrolment", _set(("modeOfStudy",), "evening"), "mapping_bad_value"),
        ("enrolment", _set(("startDate",), "1 September 2024"), "mapping_bad_date"),
        ("enrolment", _set(("endDate",), "2026/08/31"), "mapping_bad_date"),
        ("enrolment", _set(("crohoCreboCode",), 66980), "mapping_missing_claim"),
        ("enrolment", _set(("programme_name",), "Biomedical Sciences"), "mapping_missing_claim"),
        ("enrolment", _set(("issuing_country",), "BE"), "mapping_bad_country"),
    ],
)
def test_bad_type_specific_claims_are_refused(
    type_name: str, change: Callable[[dict[str, Any]], None], code: str
) -> None:
    claims = example_claims(type_name)
    change(claims)
    with pytest.raises(MappingError) as caught:
        _typed(type_name, claims)
    assert caught.value.code == code
    assert str(caught.value) == f"{code}: {caught.value.detail}"


# --- signed and verified end to end --------------------------------------------------------------

NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def key_store(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    return init_store(
        tmp_path_factory.mktemp("elm-keys"),
        issuer=ISSUER,
        verifier_host="verifier.duo.test",
        now=NOW,
    )


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_signs_and_verifies(key_store: FileKeyStore, type_name: str, fmt: str) -> None:
    """SPECS JOSE-1 / JWTVC: the signed ELM document of each type verifies against the root."""
    claims = example_claims(type_name)
    token = sign_vcdm(
        fmt, type_name, claims, keys=key_store, issuer=ISSUER, holder_jwk=None, now=NOW
    )
    trust = TrustStore.from_anchors(key_store.anchors_pem())
    policy = Policy(require_holder_binding=False, nonce=None, audience=None)
    verdict = verify(token, trust=trust, policy=policy, now=NOW)
    assert verdict.outcome == "valid", verdict.failed_codes
    assert verdict.format == fmt
    credential = verdict.claims
    assert credential["credentialSubject"]["hasClaim"] == has_claim(type_name, claims, ISSUER)


def test_a_changed_mark_fails_the_signature(key_store: FileKeyStore) -> None:
    token = sign_vcdm(
        "vc+jwt",
        "grade_list",
        example_claims("grade_list"),
        keys=key_store,
        issuer=ISSUER,
        holder_jwk=None,
        now=NOW,
    )
    header, payload, signature = token.split(".")
    document = json.loads(jose.b64url_decode(payload))
    final = document["credentialSubject"]["hasClaim"]["hasPart"][2]["provenBy"][0]
    assert final["grade"]["noteLiteral"]["nl"] == "6"
    final["grade"]["noteLiteral"]["nl"] = "8"
    forged = ".".join([header, jose.b64url_encode(json.dumps(document).encode()), signature])
    trust = TrustStore.from_anchors(key_store.anchors_pem())
    policy = Policy(require_holder_binding=False, nonce=None, audience=None)
    verdict = verify(forged, trust=trust, policy=policy, now=NOW)
    assert verdict.outcome == "invalid" and "signature_invalid" in verdict.failed_codes
    assert not verdict.claims


def test_sign_vcdm_refuses_an_unknown_type(key_store: FileKeyStore) -> None:
    with pytest.raises(MappingError) as caught:
        sign_vcdm(
            "vc+jwt",
            "phd",
            example_claims("diploma"),
            keys=key_store,
            issuer=ISSUER,
            holder_jwk=None,
            now=NOW,
        )
    assert caught.value.code == "mapping_unknown_type"
