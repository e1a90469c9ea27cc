"""OpenID4VP 1.0 §8 responses: reading them (direct_post, direct_post.jwt) and evaluating them.

SPECS VP-9..VP-15, B.3.6 and items 58, 59, 71, 74-76, 78, 82, 84. Presentations are real: DUO's
issuer signs the SD-JWT VCs with its development key store (``duo`` fixture) and the reference
wallet's own code (verifier.cli.wallet.make_presentation) discloses claims and signs the KB-JWT.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from conftest import ISSUER, NOW, Duo
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from issuer.credentials.signing import sign_sd_jwt_vc
from schemas import loader
from verifier import jose
from verifier.errors import InvalidCredential
from verifier.oid4vp import client_id as client_ids
from verifier.oid4vp.dcql import template
from verifier.oid4vp.presentation import PresentationResult, evaluate, status_uris
from verifier.oid4vp.response import read_response, response_kid
from verifier.sd_jwt_selection import present
from verifier.trust import TrustStore

NONCE = "bm9uY2Utb2YtdGhpcy10cmFuc2FjdGlvbg"
OTHER_NONCE = "bm9uY2Utb2YtYW5vdGhlci10cmFuc2FjdGlvbg"
STATE = "c3RhdGUtb2YtdGhpcy10cmFuc2FjdGlvbg"
DIPLOMA_PATHS = ("given_name", "family_name", "institution.name", "diploma_type")


def private_jwk(kid: str = "tx-key-1") -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    d = key.private_numbers().private_value.to_bytes(32, "big")
    return {**jose.public_jwk(key), "d": jose.b64url_encode(d), "kid": kid, "alg": "ECDH-ES"}


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k != "d"}


def encrypt(payload: Any, jwk: dict[str, Any], *, enc: str = "A256GCM", kid: Any = "same") -> str:
    """The Wallet's side of §8.3: an unsigned JWE to the published key."""
    return jose.jwe_encrypt(
        json.dumps(payload).encode(),
        recipient_jwk=public(jwk),
        alg="ECDH-ES",
        enc=enc,
        kid=jwk["kid"] if kid == "same" else kid,
        zip_=None,
    )


def with_header(token: str, **changes: Any) -> str:
    head, *rest = token.split(".")
    header = {**json.loads(jose.b64url_decode(head)), **changes}
    return ".".join([jose.b64url_encode(json.dumps(header).encode()), *rest])


def expect_code(code: str, form: dict[str, str], mode: str, jwk: dict[str, Any] | None) -> None:
    with pytest.raises(InvalidCredential) as caught:
        read_response(form, response_mode=mode, decryption_jwk=jwk)
    assert caught.value.code == code


# --- reading the response (§8.2, §8.3) ------------------------------------------------------


def test_direct_post_response() -> None:
    """VP-9: form-encoded vp_token (a JSON-encoded object) and state."""
    token = {"diploma": ["eyJ...~"]}
    read = read_response(
        {"vp_token": json.dumps(token), "state": STATE},
        response_mode="direct_post",
        decryption_jwk=None,
    )
    assert (read.vp_token, read.state, read.error) == (token, STATE, None)


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_direct_post_jwt_response(enc: str) -> None:
    """VP-10, HAIP §5: ECDH-ES P-256 JWE with either enc, vp_token at the payload's top level."""
    jwk = private_jwk()
    token = {"diploma": ["eyJ...~"]}
    form = {"response": encrypt({"vp_token": token, "state": STATE}, jwk, enc=enc)}
    assert response_kid(form) == jwk["kid"]
    read = read_response(form, response_mode="direct_post.jwt", decryption_jwk=jwk)
    assert (read.vp_token, read.state, read.error) == (token, STATE, None)


def test_plaintext_vp_token_is_refused_when_encryption_was_asked() -> None:
    """Item 82: direct_post.jwt requested, a plaintext vp_token arrives."""
    form = {"vp_token": json.dumps({"diploma": ["x"]}), "state": STATE}
    expect_code("response_not_encrypted", form, "direct_post.jwt", private_jwk())
    jwk = private_jwk()
    both = {**form, "response": encrypt({"vp_token": {"diploma": ["x"]}}, jwk)}
    expect_code("response_not_encrypted", both, "direct_post.jwt", jwk)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("unknown_kid", "jwe_key_unknown"),
        ("no_kid", "jwe_key_unknown"),
        ("alg_not_the_jwk_alg", "jwe_alg_unsupported"),
        ("enc_not_listed", "jwe_alg_unsupported"),
        ("other_key_same_kid", "jwe_decrypt_failed"),
        ("not_a_jwe", "jwe_malformed"),
    ],
)
def test_jwe_that_is_not_for_this_transaction_is_refused(case: str, code: str) -> None:
    """Item 82 and VP-10: unknown kid, alg ≠ the JWK's alg, enc not offered, another key."""
    jwk = private_jwk()
    payload = {"vp_token": {"diploma": ["x"]}, "state": STATE}
    token = encrypt(payload, jwk)
    if case == "unknown_kid":
        token = encrypt(payload, jwk, kid="someone-else")
    elif case == "no_kid":
        token = encrypt(payload, jwk, kid=None)
    elif case == "alg_not_the_jwk_alg":
        token = with_header(token, alg="ECDH-ES+A128KW")
    elif case == "enc_not_listed":
        token = with_header(token, enc="A192GCM")
    elif case == "other_key_same_kid":
        token = encrypt(payload, private_jwk(jwk["kid"]))
    elif case == "not_a_jwe":
        token = "a.b.c"
    expect_code(code, {"response": token}, "direct_post.jwt", jwk)


def test_encrypted_response_in_direct_post_mode_is_refused() -> None:
    jwk = private_jwk()
    form = {"response": encrypt({"vp_token": {"diploma": ["x"]}}, jwk)}
    expect_code("response_mode_mismatch", form, "direct_post", None)


@pytest.mark.parametrize(
    "form",
    [
        {"vp_token": '["x"]'},
        {"vp_token": '"{}"'},
        {"vp_token": "not json"},
        {"vp_token": '{"diploma": ["x"], "diploma": ["y"]}'},  # duplicate name (strict JSON)
    ],
)
def test_vp_token_that_is_not_an_object_is_refused(form: dict[str, str]) -> None:
    """Item 58 and VP-11: vp_token is a JSON object."""
    expect_code("vp_token_not_object", form, "direct_post", None)


def test_encrypted_vp_token_that_is_not_an_object_is_refused() -> None:
    """Item 58: in the JWE payload too (a JSON-encoded string is not the object)."""
    jwk = private_jwk()
    form = {"response": encrypt({"vp_token": json.dumps({"diploma": ["x"]})}, jwk)}
    expect_code("vp_token_not_object", form, "direct_post.jwt", jwk)
    not_object = {"response": encrypt(["vp_token"], jwk)}
    expect_code("response_malformed", not_object, "direct_post.jwt", jwk)


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
def test_wallet_error_response(mode: str) -> None:
    """Item 84 and VP-18: error=access_denied is a response, reported as the error (plain even
    under direct_post.jwt, §8.3.1)."""
    form = {"error": "access_denied", "error_description": "user said no", "state": STATE}
    read = read_response(form, response_mode=mode, decryption_jwk=private_jwk())
    assert (read.vp_token, read.error, read.error_description, read.state) == (
        None,
        "access_denied",
        "user said no",
        STATE,
    )


def test_wallet_error_inside_the_jwe_and_unknown_codes() -> None:
    jwk = private_jwk()
    form = {"response": encrypt({"error": "vp_formats_not_supported", "state": STATE}, jwk)}
    read = read_response(form, response_mode="direct_post.jwt", decryption_jwk=jwk)
    assert (read.error, read.state) == ("vp_formats_not_supported", STATE)
    odd = read_response(
        {"error": "made_up_error", "error_description": 'quote " not allowed'},
        response_mode="direct_post",
        decryption_jwk=None,
    )
    assert (odd.error, odd.error_description) == ("wallet_error_unknown", None)


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({}, "vp_token_missing"),
        ({"state": STATE}, "vp_token_missing"),
        ({"error": ""}, "response_malformed"),
        ({"error": "bad\u00e9code"}, "response_malformed"),
        ({"error": "access_denied", "vp_token": "{}"}, "response_malformed"),
        ({"vp_token": "{}", "state": ["a", "b"]}, "response_malformed"),  # repeated
        ({"vp_token": "{}", "state": 5}, "response_malformed"),
    ],
)
def test_malformed_responses_are_refused(form: dict[str, Any], code: str) -> None:
    expect_code(code, form, "direct_post", None)


def test_single_valued_lists_are_accepted() -> None:
    """A form as ``to_dict(flat=False)`` gives it: one value per name is read as that value."""
    read = read_response(
        {"vp_token": ['{"diploma": ["x"]}'], "state": [STATE]},
        response_mode="direct_post",
        decryption_jwk=None,
    )
    assert (read.vp_token, read.state) == ({"diploma": ["x"]}, STATE)


def test_response_kid_of_junk_is_none() -> None:
    assert response_kid({}) is None
    assert response_kid({"response": "x.y.z.w.v"}) is None
    assert response_kid({"response": 5}) is None


# --- evaluating the vp_token (§8.6) ----------------------------------------------------------


@pytest.fixture(scope="module")
def client_id(duo: Duo) -> str:
    return client_ids.x509_hash_client_id(duo.keys.signing_key("verifier_request").record.x5c[0])


def issue(duo: Duo, name: str = "diploma", *, status: str | None = None) -> str:
    reference = duo.refs[status] if status else None
    return sign_sd_jwt_vc(
        name,
        loader.example_claims(name),
        keys=duo.keys,
        issuer=ISSUER,
        holder_jwk=duo.holder_jwk,
        status=reference,
        now=NOW,
    )


def show(
    duo: Duo, credential: str, aud: str, paths: Iterable[str] = DIPLOMA_PATHS, nonce: str = NONCE
) -> str:
    return duo.present(credential, paths=paths, nonce=nonce, aud=aud)


def run(
    duo: Duo, vp_token: Any, query: dict[str, Any], client_id: str, trust: TrustStore | None = None
) -> PresentationResult:
    return evaluate(
        vp_token,
        dcql_query=query,
        trust=trust or duo.trust,
        nonce=NONCE,
        client_id=client_id,
        now=NOW,
        status_source=None,
    )


def diploma_query(**changes: Any) -> dict[str, Any]:
    query = template("diploma", issuer=ISSUER, claims=list(DIPLOMA_PATHS))
    query["credentials"][0].update(changes)
    return query


def failed(result: PresentationResult) -> list[tuple[str, str | None]]:
    return [(c["name"], c["code"]) for c in result.checks if c["outcome"] == "failed"]


def test_valid_presentation(duo: Duo, client_id: str) -> None:
    """VP-12/VP-14, B.3.6: KB-JWT nonce and full client_id checked; claims reported."""
    result = run(duo, {"diploma": [show(duo, issue(duo), client_id)]}, diploma_query(), client_id)
    assert result.outcome == "valid" and result.code is None, result.checks
    [credential] = result.credentials
    assert credential["query_id"] == "diploma" and credential["format"] == "dc+sd-jwt"
    assert (credential["vct"], credential["issuer"]) == (f"{ISSUER}/vct/diploma", ISSUER)
    assert credential["claims"]["institution"] == {"name": "Universiteit Leiden"}
    assert "cnf" not in credential["claims"] and "birthdate" not in credential["claims"]
    assert credential["status_uris"] == []  # issued without a status reference
    assert ("holder_binding", "passed") in [(c["name"], c["outcome"]) for c in result.checks]
    assert result.as_json() == {
        "outcome": "valid",
        "checks": result.checks,
        "credentials": result.credentials,
    }


def test_nonce_mismatch_rejects_the_response(duo: Duo, client_id: str) -> None:
    """Item 74 and VP-13: a KB-JWT with another nonce."""
    vp = show(duo, issue(duo), client_id, nonce=OTHER_NONCE)
    result = run(duo, {"diploma": [vp]}, diploma_query(), client_id)
    assert (result.outcome, result.code, result.credentials) == (
        "invalid",
        "response_nonce_mismatch",
        [],
    )
    assert ("holder_binding", "kb_jwt_nonce_mismatch") in failed(result)


def test_replayed_presentation_rejects_even_a_valid_neighbour(duo: Duo, client_id: str) -> None:
    """Item 75 and VP-13 (§14.1.2): a VP from another transaction beside a good one."""
    good = show(duo, issue(duo), client_id)
    replayed = show(duo, issue(duo), client_id, nonce=OTHER_NONCE)
    result = run(duo, {"diploma": [good, replayed]}, diploma_query(multiple=True), client_id)
    assert (result.outcome, result.code) == ("invalid", "response_nonce_mismatch")


@pytest.mark.parametrize("aud", ["without_prefix", "other_verifier"])
def test_kb_jwt_audience_must_be_the_full_client_id(duo: Duo, client_id: str, aud: str) -> None:
    """Item 76 and VP-13 (§14.8): aud with the prefix dropped, or another verifier's."""
    audience = client_id.split(":", 1)[1] if aud == "without_prefix" else "x509_san_dns:evil.test"
    result = run(duo, {"diploma": [show(duo, issue(duo), audience)]}, diploma_query(), client_id)
    assert (result.outcome, result.code) == ("invalid", "dcql_unsatisfied")
    assert ("holder_binding", "kb_jwt_aud_mismatch") in failed(result)
    assert result.credentials == []


def test_presentation_without_kb_jwt_is_refused(duo: Duo, client_id: str) -> None:
    """Item 71 and VP-14: binding is required by default, so no KB-JWT means reject."""
    bare = present(issue(duo), list(DIPLOMA_PATHS))
    result = run(duo, {"diploma": [bare]}, diploma_query(), client_id)
    assert (result.outcome, result.code) == ("invalid", "dcql_unsatisfied")
    assert ("format", "kb_jwt_missing") in failed(result)  # decided before parsing (§7.1)


def test_binding_waived_by_the_query(duo: Duo, client_id: str) -> None:
    """§6.1 require_cryptographic_holder_binding=false: accepted, binding not proven."""
    bare = present(issue(duo), list(DIPLOMA_PATHS))
    query = diploma_query(require_cryptographic_holder_binding=False)
    result = run(duo, {"diploma": [bare]}, query, client_id)
    assert result.outcome == "valid", result.checks
    binding = [c for c in result.checks if c["name"] == "holder_binding"]
    assert [(c["outcome"], c["code"]) for c in binding] == [("not_proven", "kb_jwt_missing")]


def test_sd_hash_mismatch_is_refused(duo: Duo, client_id: str) -> None:
    """Item 78: a Disclosure removed after the KB-JWT was signed."""
    vp = show(duo, issue(duo), client_id)
    parts = vp.split("~")
    tampered = "~".join(parts[:1] + parts[2:])  # drop the first Disclosure, keep the KB-JWT
    result = run(duo, {"diploma": [tampered]}, diploma_query(), client_id)
    assert result.outcome == "invalid"
    assert ("holder_binding", "kb_jwt_sd_hash_mismatch") in failed(result)


def test_structure_failures_reject_the_response(duo: Duo, client_id: str) -> None:
    """Items 58 and 59: unknown query id, not an object, two VPs under multiple=false."""
    vp = show(duo, issue(duo), client_id)
    cases = [
        ({"passport": [vp]}, "vp_token_unknown_query"),
        ([vp], "vp_token_not_object"),
        ({"diploma": [vp, vp]}, "vp_token_multiple_not_allowed"),
    ]
    for vp_token, code in cases:
        result = run(duo, vp_token, diploma_query(), client_id)
        assert (result.outcome, result.code, result.credentials) == ("invalid", code, [])
        assert failed(result) == [("vp_token", code)]


def _two(**sets: Any) -> dict[str, Any]:
    query = diploma_query()
    grades = template("grade_list", issuer=ISSUER, claims=["given_name", "subjects"])
    query["credentials"] += grades["credentials"]
    query.update(sets)
    return query


def test_required_credential_missing(duo: Duo, client_id: str) -> None:
    """Item 59 and VP-12: without credential_sets both queries are required."""
    result = run(duo, {"diploma": [show(duo, issue(duo), client_id)]}, _two(), client_id)
    assert (result.outcome, result.code, result.credentials) == ("invalid", "dcql_unsatisfied", [])


def test_credential_sets_alternatives_and_optional(duo: Duo, client_id: str) -> None:
    """§6.4.2: one option of a required set; an optional set's failing VP is just discarded."""
    either = _two(credential_sets=[{"options": [["diploma"], ["grade_list"]]}])
    grades = show(duo, issue(duo, "grade_list"), client_id, paths=["given_name", "subjects"])
    result = run(duo, {"grade_list": [grades]}, either, client_id)
    assert result.outcome == "valid", result.checks
    assert [c["query_id"] for c in result.credentials] == ["grade_list"]
    optional = _two(
        credential_sets=[
            {"options": [["diploma"]]},
            {"options": [["grade_list"]], "required": False},
        ]
    )
    revoked = show(duo, issue(duo, "grade_list", status="revoked"), client_id,
                   paths=["given_name", "subjects"])  # fmt: skip
    vp_token = {"diploma": [show(duo, issue(duo), client_id)], "grade_list": [revoked]}
    result = run(duo, vp_token, optional, client_id)
    assert result.outcome == "valid", result.checks
    assert [c["query_id"] for c in result.credentials] == ["diploma"]
    assert ("status", "credential_revoked") in failed(result)


def test_revoked_required_credential_is_invalid(duo: Duo, client_id: str) -> None:
    """VP-12: a failing presentation is discarded, so a required query is then unmet."""
    vp = show(duo, issue(duo, status="revoked"), client_id)
    result = run(duo, {"diploma": [vp]}, diploma_query(), client_id)
    assert (result.outcome, result.code) == ("invalid", "dcql_unsatisfied")


def test_status_unavailable_is_undetermined(duo: Duo, client_id: str) -> None:
    """A status list that cannot be had leaves the response undetermined, claims kept."""
    vp = show(duo, issue(duo, status="valid"), client_id)
    result = run(duo, {"diploma": [vp]}, diploma_query(), client_id, duo.with_status_list(None))
    assert result.outcome == "undetermined", result.checks
    [credential] = result.credentials
    assert credential["outcome"] == "undetermined"
    assert credential["status_uris"] == [duo.refs["valid"].uri]  # the list it could not have
    assert "status" not in credential["claims"]


def test_status_uris_name_the_lists_the_status_check_reads() -> None:
    """TSL §6.2 and BSL §2.1: the status reference as the status check parses it; entries of
    another type or malformed ones name no list."""
    uri = "https://issuer.duo.test/status/bsl/1"
    entry = {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": uri,
    }
    other = {"type": "SomeOtherStatus", "statusListCredential": "https://x.example/list"}
    broken = {**entry, "statusListIndex": "-1", "statusListCredential": "https://y.example/l"}
    vcdm = {"credentialStatus": [entry, other, broken, dict(entry)]}
    assert status_uris("jwt_vc_json", vcdm) == [uri]
    assert status_uris("vc+jwt", {"credentialStatus": entry}) == [uri]
    assert status_uris("vc+jwt", {}) == []
    reference = {"status": {"status_list": {"idx": 3, "uri": "https://issuer.duo.test/s/1"}}}
    assert status_uris("dc+sd-jwt", reference) == ["https://issuer.duo.test/s/1"]
    assert status_uris("dc+sd-jwt", {"status": {"status_list": {"uri": 5}}}) == []
    assert status_uris("dc+sd-jwt", {}) == []


@pytest.mark.parametrize(
    ("changes", "paths", "code"),
    [
        ({"meta": {"vct_values": [f"{ISSUER}/vct/enrolment"]}}, DIPLOMA_PATHS,
         "dcql_type_mismatch"),
        ({}, ("given_name", "family_name"), "dcql_claim_missing"),
        ({"claims": [{"path": ["diploma_type"], "values": ["wo_master"]}]}, DIPLOMA_PATHS,
         "dcql_value_mismatch"),
    ],
)  # fmt: skip
def test_wallet_matching_is_never_trusted(
    duo: Duo, client_id: str, changes: dict[str, Any], paths: tuple[str, ...], code: str
) -> None:
    """VP-15 (§14.9): wrong vct, a claim not disclosed, a value outside `values`."""
    vp = show(duo, issue(duo), client_id, paths=paths)
    result = run(duo, {"diploma": [vp]}, diploma_query(**changes), client_id)
    assert (result.outcome, result.code) == ("invalid", "dcql_unsatisfied")
    assert ("dcql_match", code) in failed(result)


def _aki(duo: Duo) -> str:
    root = x509.load_pem_x509_certificate(duo.keys.anchors_pem()[0].encode())
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return jose.b64url_encode(ski.digest)


def test_trusted_authorities_aki(duo: Duo, client_id: str) -> None:
    """VP-8 [H] (§6.1.1.1): the issuer's x5c chains under the named authority key."""
    vp = show(duo, issue(duo), client_id)
    named = [{"type": "aki", "values": [_aki(duo)]}]
    assert (
        run(duo, {"diploma": [vp]}, diploma_query(trusted_authorities=named), client_id).outcome
        == "valid"
    )
    other = [{"type": "aki", "values": [jose.b64url_encode(b"\x01" * 20)]}]
    result = run(duo, {"diploma": [vp]}, diploma_query(trusted_authorities=other), client_id)
    assert ("dcql_match", "dcql_authority_mismatch") in failed(result)
