"""DUO's five credential types: schemas, examples, register mapping and type metadata data.

Checks the claims contract (/work/claims-contract.md), the DOMAIN.md level table, and that the
packaged type metadata satisfies SD-JWT VC -13 §8/§9 (SPECS.md SDV-9, SDV-10).
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from schemas import loader
from schemas.loader import SchemaError
from schemas.qualification_explanations import LEVELS
from schemas.registry_record import claims_from_record
from verifier.sri import check_integrity
from verifier.type_metadata import (
    check_claim_metadata,
    check_svg_template,
    parse_type_metadata,
    render_svg,
    svg_template_bytes,
    svg_values,
)

ISSUER = "https://issuer.duo.test"
TYPES = loader.CREDENTIAL_TYPES
Mutation = Callable[[dict[str, Any]], None]


def _schema_paths(schema: dict[str, Any]) -> dict[tuple[Any, ...], bool]:
    """Every claim path of a schema, with whether the whole chain is unconditionally required."""
    found: dict[tuple[Any, ...], bool] = {}

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def walk(node: dict[str, Any], path: tuple[Any, ...], mandatory: bool) -> None:
        node = resolve(node)
        if node.get("type") == "object" and "properties" in node:
            for key, sub in node["properties"].items():
                found[(*path, key)] = mandatory and key in node.get("required", [])
                walk(sub, (*path, key), found[(*path, key)])
        elif node.get("type") == "array":
            found[(*path, None)] = mandatory and node.get("minItems", 0) >= 1
            walk(node["items"], (*path, None), found[(*path, None)])

    walk(schema, (), True)
    return found


# ---------------------------------------------------------------- schemas and examples


@pytest.mark.parametrize("type_name", TYPES)
def test_schema_is_valid_json_schema_2020_12(type_name: str) -> None:
    schema = loader.json_schema(type_name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("type_name", TYPES)
def test_every_example_validates(type_name: str) -> None:
    loader.validate_claims(type_name, loader.example_claims(type_name))


def _set(path: str, value: Any) -> Mutation:
    def mutate(claims: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = claims
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(claims: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = claims
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def _pop_component(claims: dict[str, Any]) -> None:
    claims["exam_components"].pop()


INVALID: list[tuple[str, str, Mutation, str]] = [
    ("diploma", "BSN never in a credential", _set("bsn", "123456782"), ""),
    ("diploma", "registered claims are not part of the claims file", _set("iss", ISSUER), ""),
    ("diploma", "missing given_name", _drop("given_name"), ""),
    ("diploma", "birthdate not ISO", _set("birthdate", "14-03-1998"), "/birthdate"),
    ("diploma", "birthdate not a real day", _set("birthdate", "2021-02-30"), "/birthdate"),
    ("diploma", "award month 13", _set("award_date", "2021-13"), "/award_date"),
    ("diploma", "nlqf 9", _set("nlqf_level", "9"), "/nlqf_level"),
    ("diploma", "eqf as string", _set("eqf_level", "6"), "/eqf_level"),
    ("diploma", "levels required for HE", _drop("eqf_level"), ""),
    ("diploma", "CREBO scheme for a WO bachelor", _set("programme_code/scheme", "CREBO"), ""),
    ("diploma", "CROHO code of 4 digits", _set("programme_code/code", "5698"), ""),
    ("diploma", "BRIN in lower case", _set("institution/brin", "21pb"), "/institution/brin"),
    ("diploma", "issuing country", _set("issuing_country", "BE"), "/issuing_country"),
    ("diploma", "extra institution member", _set("institution/street", "Rapenburg"), ""),
    ("diploma", "qualification name without en", _drop("qualification_name/en"), ""),
    ("diploma", "MBO pathway on a WO diploma", _set("mbo_pathway", "BOL"), ""),
    ("diploma", "unknown judicium", _set("judicium", "summa_cum_laude"), "/judicium"),
    ("diploma", "negative credits", _set("credits_ects", -1), "/credits_ects"),
    ("diploma", "control character in a name", _set("given_name", "Sanne\nX"), "/given_name"),
    ("diploma", "record id with a space", _set("record_id", "rec 1"), "/record_id"),
    ("diploma", "ISCED-F of 3 digits", _set("isced_f_code", "061"), "/isced_f_code"),
    ("grade_list", "no subjects", _set("subjects", []), "/subjects"),
    ("grade_list", "mark 11", _set("subjects/0/final_mark", "11"), "/subjects/0/final_mark"),
    ("grade_list", "decimal comma", _set("subjects/0/school_exam_mark", "6,8"), ""),
    ("grade_list", "unknown final word", _set("subjects/6/final_mark", "onvoldoende"), ""),
    ("grade_list", "subject lacks central mark", _drop("subjects/0/central_exam_mark"), ""),
    ("grade_list", "HE diploma type", _set("diploma_type", "wo_bachelor"), "/diploma_type"),
    ("nt2_diploma", "component twice", _set("exam_components/3/component", "reading"), ""),
    ("nt2_diploma", "component missing", _pop_component, ""),
    ("nt2_diploma", "programme II is B2", _set("cefr_level", "B1"), ""),
    ("nt2_diploma", "no failed part", _set("exam_components/0/result", "failed"), ""),
    ("nt2_diploma", "award date month only", _set("award_date", "2024-02"), "/award_date"),
    ("inburgering", "component twice", _set("exam_components/1/component", "reading"), ""),
    ("inburgering", "wi2013 is A2", _set("law", "wi2013"), ""),
    ("inburgering", "unknown component", _set("exam_components/0/component", "driving"), ""),
    ("inburgering", "abroad without valid_until", _drop("basisexamen_abroad/valid_until"), ""),
    ("enrolment", "unknown phase", _set("phase", "phd"), "/phase"),
    ("enrolment", "CROHO not numeric", _set("crohoCreboCode", "ABCDE"), "/crohoCreboCode"),
    ("enrolment", "start date not padded", _set("startDate", "2024-9-1"), "/startDate"),
    ("enrolment", "vct is added by the issuer", _set("vct", ISSUER + "/vct/enrolment"), ""),
]


@pytest.mark.parametrize(
    ("type_name", "mutation", "pointer"),
    [(t, m, p) for t, _, m, p in INVALID],
    ids=[f"{t}: {why}" for t, why, _, _ in INVALID],
)
def test_invalid_variants_are_rejected(type_name: str, mutation: Mutation, pointer: str) -> None:
    claims = loader.example_claims(type_name)
    mutation(claims)
    with pytest.raises(SchemaError) as caught:
        loader.validate_claims(type_name, claims)
    assert caught.value.code == "claims_schema_invalid"
    assert str(caught.value) == "claims_schema_invalid: claims do not match the type's schema"
    if pointer:
        assert caught.value.pointer == pointer


@pytest.mark.parametrize("type_name", TYPES)
def test_claims_must_be_an_object(type_name: str) -> None:
    with pytest.raises(SchemaError) as caught:
        loader.validate_claims(type_name, [loader.example_claims(type_name)])
    assert caught.value.code == "claims_schema_invalid"


def test_nt2_and_inburgering_diplomas_carry_no_nlqf_or_eqf_level() -> None:
    claims = loader.example_claims("diploma")
    claims.update(diploma_type="nt2_ii", programme_code={"scheme": "NT2", "code": "NT2-II"})
    with pytest.raises(SchemaError):
        loader.validate_claims("diploma", claims)
    for name in ("nlqf_level", "eqf_level", "isced_level", "degree_title", "judicium"):
        del claims[name]
    loader.validate_claims("diploma", claims)


def test_award_date_may_have_month_precision_on_diplomas() -> None:
    claims = loader.example_claims("diploma")
    claims["award_date"] = "1998-06"
    loader.validate_claims("diploma", claims)


def test_vct_naming_round_trips() -> None:
    for type_name in TYPES:
        vct = loader.vct_for(type_name, ISSUER)
        assert vct == f"{ISSUER}/vct/{type_name}"
        assert loader.type_name_for_vct(vct, ISSUER) == type_name


@pytest.mark.parametrize(
    "vct",
    [f"{ISSUER}/vct/passport", "https://other.example/vct/diploma", f"{ISSUER}/vct/", ISSUER],
)
def test_unknown_vct_is_rejected(vct: str) -> None:
    with pytest.raises(SchemaError) as caught:
        loader.type_name_for_vct(vct, ISSUER)
    assert caught.value.code == "unknown_vct"


@pytest.mark.parametrize(
    "call",
    [
        lambda: loader.vct_for("passport", ISSUER),
        lambda: loader.json_schema("../diploma"),
        lambda: loader.validate_claims("passport", {}),
        lambda: loader.type_metadata("passport", ISSUER),
        lambda: loader.example_claims("passport"),
    ],
)
def test_unknown_type_is_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(SchemaError) as caught:
        call()
    assert caught.value.code == "unknown_credential_type"


def test_loader_returns_copies() -> None:
    loader.json_schema("diploma")["required"].clear()
    loader.example_claims("diploma").clear()
    loader.type_metadata("diploma", ISSUER)["claims"].clear()
    assert loader.json_schema("diploma")["required"]
    assert loader.example_claims("diploma")
    assert loader.type_metadata("diploma", ISSUER)["claims"]


# ---------------------------------------------------------------- register record -> claims


@pytest.mark.parametrize("type_name", TYPES)
def test_example_record_maps_to_example_claims(type_name: str) -> None:
    record = loader.example_record(type_name)
    assert claims_from_record(record, type_name=type_name) == loader.example_claims(type_name)


def test_prefix_is_part_of_family_name_and_bsn_never_appears() -> None:
    record = loader.example_record("diploma")
    record["person"]["bsn"] = "123456782"
    claims = claims_from_record(record, type_name="diploma")
    assert claims["family_name"] == "van der Berg"
    assert claims["given_name"] == "Sanne Johanna"
    assert "123456782" not in repr(claims)


def test_vo_record_also_gives_a_diploma_with_levels_from_the_table() -> None:
    claims = claims_from_record(loader.example_record("grade_list"), type_name="diploma")
    assert claims["diploma_type"] == "vwo"
    assert (claims["nlqf_level"], claims["eqf_level"], claims["isced_level"]) == ("4+", 4, 3)
    assert claims["qualification_name"]["en"] == "Pre-university secondary education (VWO)"


def test_grade_marks_are_written_with_a_decimal_point() -> None:
    claims = claims_from_record(loader.example_record("grade_list"), type_name="grade_list")
    first, last = claims["subjects"][0], claims["subjects"][-1]
    assert (first["school_exam_mark"], first["central_exam_mark"]) == ("6.8", "6.4")
    assert last["final_mark"] == "voldoende"


def _mbo_record() -> dict[str, Any]:
    record = loader.example_record("grade_list")
    record.update(
        sector="MBO",
        mbo_level=4,
        mbo_pathway="BBL",
        award_date="2009-06-00",
        award_date_precision="month",
        programme={
            "code": "25187",
            "code_scheme": "CREBO",
            "name_nl": "Verzorgende-IG",
            "name_en": "Carer (individual healthcare)",
        },
    )
    for name in ("vo_school_type", "vo_profile", "final_project_title"):
        del record[name]
    return record


def test_mbo_record_gives_level_pathway_and_month_precision() -> None:
    claims = claims_from_record(_mbo_record(), type_name="diploma")
    assert claims["diploma_type"] == "mbo_4"
    assert claims["mbo_pathway"] == "BBL"
    assert claims["award_date"] == "2009-06"
    assert (claims["nlqf_level"], claims["eqf_level"], claims["isced_level"]) == ("4", 4, 3)
    specialist = {**_mbo_record(), "mbo_specialist": True}
    assert claims_from_record(specialist, type_name="diploma")["isced_level"] == 4


def test_state_exam_vo_takes_the_levels_of_its_school_type() -> None:
    record = loader.example_record("grade_list")
    record.update(state_exam=True, vo_school_type="HAVO")
    record["programme"]["code_scheme"] = "STAATSEXAMEN"
    claims = claims_from_record(record, type_name="diploma")
    assert claims["diploma_type"] == "staatsexamen_vo"
    assert claims["programme_code"]["scheme"] == "STAATSEXAMEN"
    assert (claims["nlqf_level"], claims["eqf_level"]) == ("4", 4)


def test_he_flags_give_judicium_and_study_mode() -> None:
    record = loader.example_record("diploma")
    record.update(cum_laude=False, he_type="HBO", he_degree="AD", study_mode="DU")
    claims = claims_from_record(record, type_name="diploma")
    assert claims["judicium"] == "none"
    assert claims["diploma_type"] == "hbo_ad"
    assert claims["study_mode"] == "dual"
    assert (claims["nlqf_level"], claims["eqf_level"]) == ("5", 5)
    del record["cum_laude"]
    assert "judicium" not in claims_from_record(record, type_name="diploma")


def test_inburgering_2013_without_diploma_and_leap_day_validity() -> None:
    record = loader.example_record("inburgering")
    record["law"] = "WI2013"
    del record["diploma_date"]
    record["basic_exam_abroad"] = {"result": "passed", "date": "2024-02-29"}
    claims = claims_from_record(record, type_name="inburgering")
    assert claims["law"] == "wi2013"
    assert "award_date" not in claims and "cefr_level" not in claims
    assert claims["basisexamen_abroad"]["valid_until"] == "2025-02-28"
    record["diploma_date"] = "2025-01-10"
    assert claims_from_record(record, type_name="inburgering")["cefr_level"] == "A2"


def test_enrolment_without_end_date_and_parttime() -> None:
    record = loader.example_record("enrolment")
    del record["deregistration_date"]
    record["study_mode"] = "DT"
    claims = claims_from_record(record, type_name="enrolment")
    assert "endDate" not in claims
    assert claims["modeOfStudy"] == "parttime"


def _edit(type_name: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    record = loader.example_record(type_name)
    edit(record)
    return record


REJECTED_RECORDS: list[tuple[str, dict[str, Any], str, str]] = [
    ("enrolment record as diploma", loader.example_record("enrolment"), "diploma",
     "record_kind_mismatch"),
    ("HO record as grade list", loader.example_record("diploma"), "grade_list",
     "record_kind_mismatch"),
    ("HO record as NT2 diploma", loader.example_record("diploma"), "nt2_diploma",
     "record_kind_mismatch"),
    ("NT2 record names no institution", loader.example_record("nt2_diploma"), "diploma",
     "record_incomplete"),
    ("failed exam", _edit("diploma", lambda r: r.update(result="failed")), "diploma",
     "record_not_awarded"),
    ("failed NT2 exam", _edit("nt2_diploma", lambda r: r.update(result="failed")), "nt2_diploma",
     "record_not_awarded"),
    ("scheme does not fit sector",
     _edit("diploma", lambda r: r["programme"].update(code_scheme="CREBO")), "diploma",
     "record_inconsistent"),
    ("WO associate degree", _edit("diploma", lambda r: r.update(he_degree="AD")), "diploma",
     "record_inconsistent"),
    ("enrolment outside CROHO",
     _edit("enrolment", lambda r: r["programme"].update(code_scheme="CREBO")), "enrolment",
     "record_inconsistent"),
    ("missing birth date", _edit("diploma", lambda r: r["person"].pop("birth_date")), "diploma",
     "record_incomplete"),
    ("unknown school type", _edit("grade_list", lambda r: r.update(vo_school_type="LWOO")),
     "grade_list", "record_incomplete"),
    ("bad birth date", _edit("diploma", lambda r: r["person"].update(birth_date="14-3-1998")),
     "diploma", "claims_schema_invalid"),
    ("unknown type", loader.example_record("diploma"), "passport", "unknown_credential_type"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("record", "type_name", "code"),
    [(r, t, c) for _, r, t, c in REJECTED_RECORDS],
    ids=[why for why, _, _, _ in REJECTED_RECORDS],
)
def test_bad_records_are_refused(record: dict[str, Any], type_name: str, code: str) -> None:
    with pytest.raises(SchemaError) as caught:
        claims_from_record(copy.deepcopy(record), type_name=type_name)
    assert caught.value.code == code


def test_level_table_is_the_domain_table() -> None:
    """DOMAIN.md 'Levels' as the mapping uses them (staatsexamen_vo: from its school type)."""
    table = {n: (lv.nlqf, lv.eqf, lv.isced) for n, lv in LEVELS.items() if n != "staatsexamen_vo"}
    assert table == {
        "vmbo_bb": ("1", 1, 2), "vmbo_kb": ("2", 2, 2), "vmbo_gl": ("2", 2, 2),
        "vmbo_tl": ("2", 2, 2), "mbo_1": ("1", 1, 2), "mbo_2": ("2", 2, 3),
        "mbo_3": ("3", 3, 3), "mbo_4": ("4", 4, 3), "havo": ("4", 4, 3), "vwo": ("4+", 4, 3),
        "hbo_ad": ("5", 5, 5), "hbo_bachelor": ("6", 6, 6), "wo_bachelor": ("6", 6, 6),
        "hbo_master": ("7", 7, 7), "wo_master": ("7", 7, 7), "nt2_i": (None, None, None),
        "nt2_ii": (None, None, None), "inburgering": (None, None, None),
    }  # fmt: skip


# ---------------------------------------------------------------- type metadata data


@pytest.mark.parametrize("type_name", TYPES)
def test_type_metadata_is_well_formed(type_name: str) -> None:
    """SDV-10: path, svg_id, sd; the packaged document passes the verifier's checks."""
    metadata = loader.type_metadata(type_name, ISSUER)
    assert metadata["vct"] == loader.vct_for(type_name, ISSUER)
    check_claim_metadata(metadata)
    document = loader.type_metadata_document(type_name, ISSUER)
    parsed = parse_type_metadata(
        document, vct=metadata["vct"], integrity=loader.integrity_of(document)
    )
    assert parsed == metadata


@pytest.mark.parametrize("type_name", TYPES)
def test_type_metadata_has_nl_and_en_display(type_name: str) -> None:
    """SDV-9: display entries with locale and name, at least nl and en, for the type and claims."""
    metadata = loader.type_metadata(type_name, ISSUER)
    locales = {d["locale"]: d for d in metadata["display"]}
    assert {"nl", "en"} <= set(locales)
    for display in locales.values():
        assert display["name"] and display["description"]
        simple = display["rendering"]["simple"]
        assert re.fullmatch(r"#[0-9A-F]{6}", simple["background_color"])
        assert re.fullmatch(r"#[0-9A-F]{6}", simple["text_color"])
    for claim in metadata["claims"]:
        labels = {d["locale"]: d["label"] for d in claim["display"]}
        assert {"nl", "en"} <= set(labels) and all(labels.values()), claim["path"]


@pytest.mark.parametrize("type_name", TYPES)
def test_claim_metadata_covers_every_schema_path_and_is_always_sd(type_name: str) -> None:
    """Contract 'Selective disclosure': sd always for every claim path; mandatory = required."""
    metadata = loader.type_metadata(type_name, ISSUER)
    paths = _schema_paths(loader.json_schema(type_name))
    described = {tuple(c["path"]): c for c in metadata["claims"]}
    assert set(described) == set(paths)
    for path, claim in described.items():
        assert claim["sd"] == "always", path
        assert claim["mandatory"] is paths[path], path


@pytest.mark.parametrize("type_name", TYPES)
def test_svg_template_is_embedded_with_integrity_and_safe(type_name: str) -> None:
    """SDV-8/SDV-9: data: URI, uri#integrity of its bytes, passes the SVG safety check."""
    metadata = loader.type_metadata(type_name, ISSUER)
    svg = loader.svg_template(type_name).encode("utf-8")
    for display in metadata["display"]:
        (entry,) = display["rendering"]["svg_templates"]
        assert entry["uri"].startswith("data:image/svg+xml;base64,")
        check_integrity(svg, entry["uri#integrity"])
        assert svg_template_bytes(entry, fetched=None) == svg
    check_svg_template(svg)


@pytest.mark.parametrize("type_name", TYPES)
def test_svg_placeholders_are_exactly_the_svg_ids(type_name: str) -> None:
    metadata = loader.type_metadata(type_name, ISSUER)
    svg_ids = {c["svg_id"] for c in metadata["claims"] if "svg_id" in c}
    placeholders = set(re.findall(r"\{\{(\w+)\}\}", loader.svg_template(type_name)))
    assert placeholders == svg_ids


@pytest.mark.parametrize("type_name", TYPES)
def test_svg_renders_example_with_escaping(type_name: str) -> None:
    """SDV-9: values are XML-escaped (& < > " ') and the result stays safe, well-formed SVG."""
    metadata = loader.type_metadata(type_name, ISSUER)
    claims = loader.example_claims(type_name)
    claims["family_name"] = "<script>alert('x')</script> & \"Co\""
    rendered = render_svg(loader.svg_template(type_name), svg_values(claims, metadata))
    assert "<script>" not in rendered and "{{" not in rendered
    assert "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;Co&quot;" in rendered
    check_svg_template(rendered.encode("utf-8"))
    texts = "".join(ET.fromstring(rendered).itertext())
    assert claims["family_name"] in texts
    assert claims["record_id"] in texts
