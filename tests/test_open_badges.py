"""The diploma as an Open Badges 3.0 AchievementCredential (1EdTech OB 3.0 data model, on VCDM 2.0;
SPECS §6 VCDM-1..VCDM-4)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest

from schemas.elm import MappingError
from schemas.jsonld_contexts import context_urls, load_context
from schemas.loader import example_claims, validate_claims
from schemas.open_badges import achievement_credential

ISSUER = "https://issuer.duo.test"
CRED_ID = "urn:uuid:5d0c4b1e-2a6f-4e0b-8c1d-7f3e9a2b6c40"
VALID_FROM = "2025-06-01T09:30:00+02:00"
EXT = re.compile(r"ext:[A-Za-z0-9.\-_]+")

# Expected OB 3.0 AchievementType per diploma_type, and (NLQF, EQF) per shared/DOMAIN.md.
EXPECTED: dict[str, tuple[str, tuple[str, int] | None, str]] = {
    "vmbo_bb": ("SecondarySchoolDiploma", ("1", 1), "VO"),
    "vmbo_kb": ("SecondarySchoolDiploma", ("2", 2), "VO"),
    "vmbo_gl": ("SecondarySchoolDiploma", ("2", 2), "VO"),
    "vmbo_tl": ("SecondarySchoolDiploma", ("2", 2), "VO"),
    "havo": ("SecondarySchoolDiploma", ("4", 4), "VO"),
    "vwo": ("SecondarySchoolDiploma", ("4+", 4), "VO"),
    "staatsexamen_vo": ("SecondarySchoolDiploma", ("4+", 4), "STAATSEXAMEN"),
    "mbo_1": ("Diploma", ("1", 1), "CREBO"),
    "mbo_2": ("Diploma", ("2", 2), "CREBO"),
    "mbo_3": ("Diploma", ("3", 3), "CREBO"),
    "mbo_4": ("Diploma", ("4", 4), "CREBO"),
    "hbo_ad": ("AssociateDegree", ("5", 5), "CROHO"),
    "hbo_bachelor": ("BachelorDegree", ("6", 6), "CROHO"),
    "wo_bachelor": ("BachelorDegree", ("6", 6), "CROHO"),
    "hbo_master": ("MasterDegree", ("7", 7), "CROHO"),
    "wo_master": ("MasterDegree", ("7", 7), "CROHO"),
    "nt2_i": ("Certificate", None, "NT2"),
    "nt2_ii": ("Certificate", None, "NT2"),
    "inburgering": ("Certificate", None, "INBURGERING"),
}
CEFR = {"nt2_i": "B1", "nt2_ii": "B2", "inburgering": "A2"}


def diploma_claims(diploma_type: str) -> dict[str, Any]:
    """Contract-shaped diploma claims of one type, built from the packaged example."""
    _, levels, scheme = EXPECTED[diploma_type]
    claims = example_claims("diploma") | {
        "diploma_type": diploma_type,
        "programme_code": {"scheme": scheme, "code": "25213"},
    }
    claims.pop("isced_level", None)
    if levels is None:
        for name in ("nlqf_level", "eqf_level", "degree_title", "judicium", "credits_ects"):
            claims.pop(name, None)
        claims["cefr_level"] = CEFR[diploma_type]
    else:
        claims["nlqf_level"], claims["eqf_level"] = levels
    return claims


def _build(claims: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "issuer": ISSUER,
        "credential_id": CRED_ID,
        "valid_from": VALID_FROM,
    } | overrides
    return achievement_credential(claims, **envelope)


def _alignment(achievement: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for entry in achievement["alignment"]:
        if entry["targetType"] == f"ext:{kind}":
            found: dict[str, Any] = entry
            return found
    return None


@pytest.mark.parametrize("diploma_type", sorted(EXPECTED))
def test_test_claims_follow_the_contract_schema(diploma_type: str) -> None:
    validate_claims("diploma", diploma_claims(diploma_type))


def test_example_diploma_has_the_required_ob3_fields() -> None:
    """OB 3.0 AchievementCredential: @context [v2, OB 3.0.3], type VerifiableCredential +
    OpenBadgeCredential, id, issuer Profile with id, validFrom (VCDM-3), credentialSubject."""
    document = _build(example_claims("diploma"))
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["id"] == CRED_ID
    assert document["issuer"]["id"] == ISSUER and "Profile" in document["issuer"]["type"]
    assert document["issuer"]["name"]
    assert datetime.fromisoformat(document["validFrom"]).tzinfo
    assert document["awardedDate"] == "2021-08-31T00:00:00Z"
    subject = document["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    # "Either id or at least one identifier MUST be supplied": the name, as on the diploma.
    assert "id" not in subject
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityHash": "Sanne Johanna van der Berg",
            "identityType": "name",
            "hashed": False,
        }
    ]
    assert "1998" not in json.dumps(document)  # no birthdate: OB's subject has no such field
    json.dumps(document)


def test_example_diploma_achievement() -> None:
    achievement = _build(example_claims("diploma"))["credentialSubject"]["achievement"]
    assert achievement["id"] == f"{ISSUER}/achievements/croho/56981/21pb"
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "BachelorDegree"
    assert achievement["name"] == "Computer Science (Bachelor of Science)"
    assert achievement["description"]
    assert "Universiteit Leiden" in achievement["criteria"]["narrative"]
    assert {(e["identifier"], e["identifierType"]) for e in achievement["otherIdentifier"]} == {
        ("56981", "ext:CROHO"),
        ("21PB", "ext:BRIN"),
    }
    assert all(e["type"] == "IdentifierEntry" for e in achievement["otherIdentifier"])


def test_judicium_is_a_result_bound_to_its_description() -> None:
    document = _build(example_claims("diploma"))
    (result,) = document["credentialSubject"]["result"]
    (description,) = document["credentialSubject"]["achievement"]["resultDescription"]
    assert result == {
        "type": ["Result"],
        "resultDescription": description["id"],
        "value": "cum laude",
    }
    assert result["value"] in description["allowedValue"]
    without = _build(example_claims("diploma") | {"judicium": "none"})
    assert "result" not in without["credentialSubject"]
    assert "resultDescription" not in without["credentialSubject"]["achievement"]


@pytest.mark.parametrize("diploma_type", sorted(EXPECTED))
def test_every_diploma_type_maps_with_its_alignments(diploma_type: str) -> None:
    achievement_type, levels, scheme = EXPECTED[diploma_type]
    achievement = _build(diploma_claims(diploma_type))["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == achievement_type
    assert ("25213", f"ext:{scheme}") in {
        (e["identifier"], e["identifierType"]) for e in achievement["otherIdentifier"]
    }
    for entry in achievement["alignment"]:
        assert entry["type"] == ["Alignment"] and entry["targetName"] and entry["targetUrl"]
        assert EXT.fullmatch(entry["targetType"])
    eqf, nlqf = _alignment(achievement, "EQFLevel"), _alignment(achievement, "NLQFLevel")
    if levels is None:
        assert eqf is None and nlqf is None
        cefr = _alignment(achievement, "CEFRLevel")
        assert cefr is not None and cefr["targetName"] == f"CEFR level {CEFR[diploma_type]}"
        return
    assert eqf is not None and nlqf is not None
    assert eqf["targetName"] == f"EQF level {levels[1]}"
    assert eqf["targetUrl"] == f"http://data.europa.eu/snb/eqf/{levels[1]}"
    assert nlqf["targetName"] == f"NLQF level {levels[0]}" and nlqf["targetCode"] == levels[0]
    isced = _alignment(achievement, "ISCEDF")
    assert isced is not None and isced["targetUrl"] == "http://data.europa.eu/snb/isced-f/0613"


def test_extension_vocabulary_values_use_the_ext_prefix() -> None:
    achievement = _build(example_claims("diploma"))["credentialSubject"]["achievement"]
    for entry in achievement["otherIdentifier"]:
        assert EXT.fullmatch(entry["identifierType"])
    for entry in achievement["resultDescription"]:
        assert EXT.fullmatch(entry["resultType"])


def test_every_context_used_resolves_to_a_local_file() -> None:
    contexts = _build(example_claims("diploma"))["@context"]
    assert set(contexts) <= context_urls()
    for url in contexts:
        assert isinstance(load_context(url)["@context"], dict)


def test_status_is_carried_when_given() -> None:
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
    assert _build(example_claims("diploma"), status=status)["credentialStatus"] == status


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"valid_from": "2025-06-01T09:30:00"}, "mapping_bad_valid_from"),
        ({"credential_id": "3732"}, "mapping_bad_uri"),
        ({"status": {"id": "https://issuer.duo.test/status/1"}}, "mapping_bad_status"),
    ],
)
def test_bad_envelope_is_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(MappingError) as caught:
        _build(example_claims("diploma"), **overrides)
    assert caught.value.code == code


def test_bad_claims_are_refused() -> None:
    with pytest.raises(MappingError) as caught:
        _build(example_claims("diploma") | {"diploma_type": "phd"})
    assert caught.value.code == "mapping_bad_diploma_type"
    claims = example_claims("diploma")
    del claims["institution"]
    with pytest.raises(MappingError) as caught:
        _build(claims)
    assert caught.value.code == "mapping_missing_claim"
