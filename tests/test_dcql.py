"""OpenID4VP 1.0 §6 DCQL and §7 claims path pointers: checking queries, templates, matching.

SPECS VP-8 (query checks), VP-11 (vp_token structure), VP-15 (the verifier re-checks every
constraint itself), items 58 and 59. Matching runs here on verified-claims dictionaries; the same
rules applied to real presentations are in test_oid4vp_response.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import ISSUER
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import loader
from verifier.errors import InvalidCredential, ProtocolError
from verifier.oid4vp import dcql_match
from verifier.oid4vp.dcql import check_dcql, claim_path, template

VCT = f"{ISSUER}/vct/diploma"
CLAIMS: dict[str, Any] = {
    "iss": ISSUER,
    "vct": VCT,
    "given_name": "Sanne",
    "eqf_level": 6,
    "cum_laude": True,
    "institution": {"name": "Universiteit Leiden", "brin": "21PB"},
    "subjects": [{"code": "wisb", "final_mark": "6"}, {"code": "entl", "final_mark": "7"}],
}


def query(**changes: Any) -> dict[str, Any]:
    """One dc+sd-jwt Credential Query ``diploma`` with the given changes."""
    credential: dict[str, Any] = {
        "id": "diploma",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [VCT]},
        "claims": [{"id": "name", "path": ["given_name"]}],
    }
    credential.update(changes)
    return {"credentials": [credential]}


def expect_invalid_request(value: Any) -> None:
    with pytest.raises(ProtocolError) as caught:
        check_dcql(value)
    assert caught.value.code == "invalid_request"


# --- check_dcql (VP-8) ----------------------------------------------------------------------


def test_a_well_formed_query_passes_and_unknown_properties_are_ignored() -> None:
    """VP-8: unknown properties anywhere are ignored (§6)."""
    value = query(purpose="x", claims=[{"path": ["given_name"], "extra": 1}])
    value["future_extension"] = {"a": 1}
    check_dcql(value)


@pytest.mark.parametrize(
    "value",
    [
        "not an object",
        {},
        {"credentials": []},
        {"credentials": ["diploma"]},
        query(id=""),
        query(id="has space"),
        query(id="dot.ted"),
        query(format=""),
        query(format="mso_mdoc"),  # a format this verifier cannot verify
        query(meta=None),
        query(meta={}),
        query(meta={"vct_values": []}),
        query(meta={"vct_values": [""]}),
        query(format="jwt_vc_json", meta={"type_values": ["VerifiableCredential"]}),
        query(format="jwt_vc_json", meta={"type_values": [[]]}),
        query(multiple="yes"),
        query(require_cryptographic_holder_binding=1),
        query(claims=[]),
        query(claims=[{"path": []}]),
        query(claims=[{"path": "given_name"}]),
        query(claims=[{"path": ["a", -1]}]),
        query(claims=[{"path": ["a", 1.5]}]),
        query(claims=[{"path": ["a", True]}]),
        query(claims=[{"path": ["a"], "id": "bad id"}]),
        query(claims=[{"path": ["a"], "values": []}]),
        query(claims=[{"path": ["a"], "values": [1.5]}]),
        query(claims=[{"path": ["a"], "values": [None]}]),
        query(claims=[{"path": ["a"]}, {"path": ["a"]}]),  # the same claim twice (§6.1)
        query(claims=[{"id": "x", "path": ["a"]}, {"id": "x", "path": ["b"]}]),
        query(claims=None, claim_sets=[["name"]]),
        query(claims=[{"path": ["a"]}], claim_sets=[["name"]]),  # claim_sets need ids
        query(claim_sets=[]),
        query(claim_sets=[[]]),
        query(claim_sets=[["unknown"]]),
        query(trusted_authorities=[]),
        query(trusted_authorities=[{"type": "aki"}]),
        query(trusted_authorities=[{"type": "aki", "values": []}]),
        query(claims=[{"path": ["a"] * 17}]),  # beyond MAX_PATH_LENGTH
    ],
)
def test_malformed_queries_are_refused(value: Any) -> None:
    """VP-8: ids, format, meta (B.3.5 vct_values, B.1.1 type_values), §7 path pointers,
    claim_sets referring to claim ids, values of strings/integers/booleans."""
    expect_invalid_request(value)


def test_duplicate_credential_query_ids_are_refused() -> None:
    value = query()
    value["credentials"].append(copy.deepcopy(value["credentials"][0]))
    expect_invalid_request(value)


@pytest.mark.parametrize(
    "sets",
    [[], [{}], [{"options": []}], [{"options": [[]]}], [{"options": [["nope"]]}],
     [{"options": [["diploma"]], "required": "no"}]],
)  # fmt: skip
def test_malformed_credential_sets_are_refused(sets: Any) -> None:
    """VP-8: options are non-empty lists of known ids; required is a boolean."""
    value = query()
    value["credential_sets"] = sets
    expect_invalid_request(value)


def test_too_many_credential_queries_are_refused() -> None:
    value = {"credentials": [dict(query()["credentials"][0], id=f"q{i}") for i in range(17)]}
    expect_invalid_request(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["credentials", "id", "format", "meta", "claims", "path", "options"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(json_values)
def test_any_json_is_either_a_query_or_invalid_request(value: Any) -> None:
    """Bad input: a hostile integrator's query never raises anything but invalid_request."""
    try:
        check_dcql(value)
    except ProtocolError as error:
        assert error.code == "invalid_request"


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", loader.CREDENTIAL_TYPES)
def test_every_template_is_a_valid_query_for_its_vct(name: str) -> None:
    value = template(name, issuer=ISSUER)
    check_dcql(value)
    [credential] = value["credentials"]
    assert credential["id"] == name and credential["format"] == "dc+sd-jwt"
    assert credential["meta"] == {"vct_values": [f"{ISSUER}/vct/{name}"]}
    example = loader.example_claims(name)
    for claim in credential["claims"]:
        dcql_match.select(example, claim["path"])  # the example record has every claim


def test_diploma_template_falls_back_when_levels_are_absent() -> None:
    """§6.4.1: the first claim set asks for the levels, the second does without (NT2 diplomas)."""
    [credential] = template("diploma", issuer=ISSUER)["credentials"]
    paths = [c["path"] for c in credential["claims"]]
    assert ["institution", "name"] in paths and ["eqf_level"] in paths
    first, second = credential["claim_sets"]
    assert set(first) - set(second) == {"eqf_level", "nlqf_level"}


def test_template_with_chosen_claims() -> None:
    [credential] = template(
        "grade_list", issuer=ISSUER, claims=["given_name", "subjects.*.final_mark", "subjects.0"]
    )["credentials"]
    assert [c["path"] for c in credential["claims"]] == [
        ["given_name"],
        ["subjects", None, "final_mark"],
        ["subjects", 0],
    ]
    assert "claim_sets" not in credential
    [bare] = template("diploma", issuer=ISSUER, claims=[])["credentials"]
    assert "claims" not in bare  # §6.4.1: only what is never selectively disclosable


@pytest.mark.parametrize(
    ("name", "claims"),
    [("passport", None), ("diploma", ["bsn"]), ("diploma", ["given_name..x"]),
     ("diploma", ["given_name", "given_name"])],
)  # fmt: skip
def test_template_refuses_unknown_types_and_claims(name: str, claims: list[str] | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        template(name, issuer=ISSUER, claims=claims)
    assert caught.value.code == "invalid_request"


# --- claims path pointers (§7) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        (["given_name"], ["Sanne"]),
        (["institution"], [CLAIMS["institution"]]),
        (["institution", "name"], ["Universiteit Leiden"]),
        (["subjects", None, "code"], ["wisb", "entl"]),
        (["subjects", 1, "final_mark"], ["7"]),
    ],
)
def test_path_pointer_selection(path: list[Any], selected: list[Any]) -> None:
    """§7.1.1 processing, with the examples of §7.3."""
    assert dcql_match.select(CLAIMS, path) == selected


@pytest.mark.parametrize(
    "path",
    [["missing"], ["given_name", "x"], ["institution", None], ["subjects", 5], ["subjects", "a"]],
)
def test_path_pointer_errors(path: list[Any]) -> None:
    """§7.1.1: a missing key, a non-object, a non-array or an absent index is an error."""
    with pytest.raises(dcql_match._NoMatch):
        dcql_match.select(CLAIMS, path)


def test_claim_path_text() -> None:
    assert claim_path("subjects.*.final_mark") == ["subjects", None, "final_mark"]
    assert claim_path("subjects.2") == ["subjects", 2]
    with pytest.raises(ProtocolError):
        claim_path("a..b")


# --- matching one credential (VP-15) --------------------------------------------------------


def match(value: dict[str, Any], claims: dict[str, Any] = CLAIMS, fmt: str = "dc+sd-jwt") -> None:
    check_dcql(value)
    dcql_match.check_credential(value["credentials"][0], fmt=fmt, claims=claims, header={})


def expect_no_match(code: str, value: dict[str, Any], **kwargs: Any) -> None:
    with pytest.raises(InvalidCredential) as caught:
        match(value, **kwargs)
    assert caught.value.code == code


def test_credential_matches_on_format_type_and_claims() -> None:
    """VP-15: format, vct in vct_values, every requested claim present."""
    match(query(claims=[{"path": ["given_name"]}, {"path": ["institution", "name"]}]))
    match(query(claims=None))  # no claims asked: any credential of the type
    expect_no_match("dcql_format_mismatch", query(), fmt="jwt_vc_json")
    expect_no_match("dcql_type_mismatch", query(meta={"vct_values": [f"{ISSUER}/vct/enrolment"]}))
    expect_no_match("dcql_claim_missing", query(claims=[{"path": ["family_name"]}]))
    expect_no_match("dcql_claim_missing", query(claims=[{"path": ["subjects", 9]}]))


@pytest.mark.parametrize(
    ("claim", "ok"),
    [
        ({"path": ["eqf_level"], "values": [6, 7]}, True),
        ({"path": ["eqf_level"], "values": ["6"]}, False),  # type and value must both match
        ({"path": ["cum_laude"], "values": [True]}, True),
        ({"path": ["cum_laude"], "values": [1]}, False),  # true is not 1
        ({"path": ["eqf_level"], "values": [True]}, False),
        ({"path": ["subjects", None, "code"], "values": ["entl"]}, True),
        ({"path": ["subjects", None, "code"], "values": ["biol"]}, False),
    ],
)
def test_values_are_rechecked(claim: dict[str, Any], ok: bool) -> None:
    """§6.3 and §14.9 (VP-15): `values` are never trusted to the Wallet."""
    if ok:
        match(query(claims=[claim]))
    else:
        expect_no_match("dcql_value_mismatch", query(claims=[claim]))


def test_claim_sets_need_one_set_fully_disclosed() -> None:
    """§6.4.1: with claim_sets, one of the sets is enough; none of them is a mismatch."""
    claims = [
        {"id": "a", "path": ["given_name"]},
        {"id": "b", "path": ["family_name"]},
        {"id": "c", "path": ["eqf_level"], "values": [7]},
        {"id": "d", "path": ["institution", "name"]},
    ]
    match(query(claims=claims, claim_sets=[["a", "b"], ["a", "d"]]))
    expect_no_match(
        "dcql_claim_sets_unsatisfied", query(claims=claims, claim_sets=[["a", "b"], ["c"]])
    )


def test_jwt_vc_json_matches_on_type_values() -> None:
    """B.1.1: every type of one type_values alternative is in the credential's `type`."""
    vc = {"type": ["VerifiableCredential", "DiplomaCredential"], "credentialSubject": {"a": 1}}
    value = query(
        format="jwt_vc_json",
        meta={
            "type_values": [["EnrolmentCredential"], ["VerifiableCredential", "DiplomaCredential"]]
        },
        claims=[{"path": ["credentialSubject", "a"]}],
    )
    match(value, claims=vc, fmt="jwt_vc_json")
    value["credentials"][0]["meta"] = {"type_values": [["VerifiableCredential", "Other"]]}
    expect_no_match("dcql_type_mismatch", value, claims=vc, fmt="jwt_vc_json")


# --- the vp_token structure (VP-11) and credential sets ---------------------------------------


def two_queries(**sets: Any) -> dict[str, Any]:
    value = query()
    value["credentials"].append(dict(value["credentials"][0], id="grades", multiple=True))
    value.update(sets)
    check_dcql(value)
    return value


@pytest.mark.parametrize(
    ("vp_token", "code"),
    [
        ("{}", "vp_token_not_object"),
        (["x"], "vp_token_not_object"),
        ({"passport": ["x"]}, "vp_token_unknown_query"),  # item 58
        ({"diploma": "x"}, "vp_token_malformed"),
        ({"diploma": []}, "vp_token_malformed"),
        ({"diploma": [{"a": 1}]}, "vp_token_malformed"),
        ({"diploma": ["x", "y"]}, "vp_token_multiple_not_allowed"),  # item 59
        ({"grades": ["x"] * 17}, "vp_token_too_many"),
    ],
)
def test_vp_token_structure(vp_token: Any, code: str) -> None:
    """VP-11, items 58 and 59: an object of known ids, one presentation unless `multiple`."""
    with pytest.raises(InvalidCredential) as caught:
        dcql_match.check_vp_token(vp_token, two_queries())
    assert caught.value.code == code


def test_vp_token_structure_accepts_multiple_where_allowed() -> None:
    dcql_match.check_vp_token({"diploma": ["x"], "grades": ["y", "z"]}, two_queries())


def test_without_credential_sets_every_query_is_required() -> None:
    """§6.4.2: no credential_sets means every Credential Query must be met (item 59)."""
    value = two_queries()
    assert dcql_match.satisfies(value, {"diploma", "grades"})
    with pytest.raises(InvalidCredential) as caught:
        dcql_match.check_satisfied(value, {"diploma"})
    assert caught.value.code == "dcql_unsatisfied"


def test_credential_sets_options_and_required() -> None:
    """§6.2/§6.4.2: each required set needs one option fully met; `required` defaults to true."""
    value = two_queries(
        credential_sets=[
            {"options": [["diploma"], ["grades"]]},
            {"options": [["grades"]], "required": False},
        ]
    )
    assert dcql_match.satisfies(value, {"diploma"})
    assert dcql_match.satisfies(value, {"grades"})
    assert not dcql_match.satisfies(value, set())
    both = two_queries(credential_sets=[{"options": [["diploma", "grades"]], "required": True}])
    assert not dcql_match.satisfies(both, {"diploma"})
    assert dcql_match.satisfies(both, {"diploma", "grades"})
