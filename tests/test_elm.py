"""The diploma as a VCDM 2.0 / 1.1 credential with European Learning Model (EDC) content, and the
JSON-LD contexts kept locally (SPECS §6 VCDM-1..VCDM-4, JWTVC)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.elm import MappingError, elm_credential, elm_credential_v11
from schemas.jsonld_contexts import UnknownContext, context_bytes, context_urls, load_context
from schemas.loader import example_claims, validate_claims

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
    return elm_credential(claims, **envelope)


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
    v11 = elm_credential_v11(claims, issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM)
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
        example_claims("diploma"), issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM
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
        elm_credential_v11(claims, issuer=ISSUER, credential_id=CRED_ID, valid_from=VALID_FROM)
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
