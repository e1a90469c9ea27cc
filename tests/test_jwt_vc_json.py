"""OpenID4VCI A.1.1 ``jwt_vc_json``: the VCDM 1.1 JWT encoding (verifier.jwt_vc_json).

SPECS §6 JWTVC. The VCDM 1.1 examples are read from tests/vectors/w3c-vc-data-model-1.1/ (kept
verbatim; provenance in tests/vectors/README.md); their published signatures use keys we do not
have, so each is signed here with a key made at run time.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vectors_loader import json_document, read_text

from verifier import jose, jwt_vc_json, strict_json, vc_jose, vcdm
from verifier.errors import DuoError, InvalidCredential

# W3C VCDM 1.1 (Recommendation, 3 March 2022). §4.8 Example 12 "Usage of the expirationDate
# property": its "Credential" tab and the JWT header and payload of its "Verifiable Credential (as
# JWT)" tab.
V11_EXAMPLE_12 = read_text("w3c-vc-data-model-1.1/example-12-credential.json")
V11_EXAMPLE_12_JWT_PAYLOAD = read_text("w3c-vc-data-model-1.1/example-12-jwt-payload.json")
JWT_HEADER: dict[str, Any] = json_document("w3c-vc-data-model-1.1/example-12-jwt-header.json")
# §6.3.1 Example 28 "JWT payload of a JWT-based verifiable credential using JWS as a proof" (the vc
# claim omits what iss, jti, sub and nbf carry; the spec signs it with RS256).
V11_EXAMPLE_28_PAYLOAD = read_text("w3c-vc-data-model-1.1/example-28.json")
# §4.5 Example 9 "Usage of issuer expanded property", "Verifiable Credential (as JWT)" tab payload:
# the generated JWT puts the issuer object into iss, which RFC 7519 §4.1.1 forbids.
V11_EXAMPLE_9_JWT_PAYLOAD = read_text("w3c-vc-data-model-1.1/example-9-jwt-payload.json")

IN_2015 = datetime(2015, 6, 1, tzinfo=UTC)
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
ALGS = frozenset({"ES256"})
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
SIGNER = jose.private_key_signer(KEY, "ES256")


def example(text: str) -> dict[str, Any]:
    return strict_json.loads_object(text)


def sign(credential: dict[str, Any], **kwargs: Any) -> str:
    options: dict[str, Any] = {
        "signer": SIGNER,
        "alg": "ES256",
        "x5c": None,
        "kid": None,
        "subject_id": None,
        "jti": None,
    }
    return jwt_vc_json.sign_jwt_vc_json(credential, **{**options, **kwargs})


def raw(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """Sign any payload as-is, bypassing the builder's checks (to craft negative cases)."""
    return jose.sign_compact(JWT_HEADER if header is None else header, payload, SIGNER)


def verify(token: str, *, now: datetime = IN_2015, key: Any = None) -> vcdm.VerifiedVc:
    public = KEY.public_key() if key is None else key
    return jwt_vc_json.verify_jwt_vc_json(
        token, resolve_key=lambda header, iss: public, now=now, algorithms=ALGS
    )


def rejects(code: str, token: str, **kwargs: Any) -> None:
    with pytest.raises(InvalidCredential) as caught:
        verify(token, **kwargs)
    assert caught.value.code == code


def payload_12() -> dict[str, Any]:
    return example(V11_EXAMPLE_12_JWT_PAYLOAD)


# --- encoding and round trips ---------------------------------------------------------------


def test_encoding_matches_the_spec_example() -> None:
    """JWTVC (1.1 §6.3.1.1): Example 12 encodes to exactly the spec's JWT header and payload."""
    jws = jose.parse_compact(sign(example(V11_EXAMPLE_12)))
    assert jws.header == JWT_HEADER
    assert jws.payload == payload_12()


def test_round_trip_decodes_to_the_credential() -> None:
    """JWTVC (1.1 §6.3.1.2): verifying gives back the Example 12 credential."""
    result = verify(sign(example(V11_EXAMPLE_12), kid="key-1", x5c=["MIIBcert"]))
    assert result.format == "jwt_vc_json"
    assert result.credential == example(V11_EXAMPLE_12)
    assert result.issuer == "https://example.edu/issuers/14"
    assert result.header == {**JWT_HEADER, "kid": "key-1", "x5c": ["MIIBcert"]}


def test_example_28_claims_are_decoded_into_the_credential() -> None:
    """JWTVC (1.1 §6.3.1.2): iss, jti, sub, nbf and exp fill the properties the vc omits."""
    result = verify(raw(example(V11_EXAMPLE_28_PAYLOAD)), now=datetime(2019, 1, 1, tzinfo=UTC))
    credential = result.credential
    assert credential["issuer"] == "https://example.com/keys/foo.jwk"
    assert credential["id"] == "http://example.edu/credentials/3732"
    assert credential["credentialSubject"]["id"] == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert credential["issuanceDate"] == "2018-11-06T08:42:04Z"
    assert credential["expirationDate"] == "2019-11-06T08:42:03Z"
    assert result.payload["nonce"] == "660!6345FSer"


def test_typ_may_be_absent_or_application_jwt() -> None:
    """JWTVC: typ, if present, is JWT (RFC 7515 §4.1.9: application/jwt is the same)."""
    assert verify(raw(payload_12(), {"alg": "ES256"})).issuer
    assert verify(raw(payload_12(), {"alg": "ES256", "typ": "application/JWT"})).issuer


def test_builder_takes_jti_and_sub_arguments() -> None:
    credential = example(V11_EXAMPLE_12)
    del credential["id"], credential["credentialSubject"]["id"]
    token = sign(credential, jti="urn:uuid:1", subject_id="did:example:holder")
    payload = jose.parse_compact(token).payload
    assert (payload["jti"], payload["sub"]) == ("urn:uuid:1", "did:example:holder")
    assert verify(token).credential["credentialSubject"]["id"] == "did:example:holder"


# --- never mixed with vc+jwt ----------------------------------------------------------------


def test_vc_jwt_typ_is_refused() -> None:
    """JWTVC: never mixed — a VC-JOSE vc+jwt token is refused by the jwt_vc_json verifier."""
    v2 = {
        "@context": [vcdm.V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.duo.test",
        "credentialSubject": {"degree": "x"},
    }
    token = vc_jose.sign_vc_jwt(v2, signer=SIGNER, alg="ES256", x5c=None, kid=None)
    rejects("vc_typ_invalid", token)
    rejects("jwt_vc_claim_missing", raw(jose.parse_compact(token).payload))  # relabelled JWT


def test_v2_context_inside_vc_is_refused() -> None:
    """JWTVC: never mixed — a VCDM 2.0 context in the vc claim is refused."""
    payload = payload_12()
    payload["vc"]["@context"] = [vcdm.V2_CONTEXT]
    rejects("vcdm_context_invalid", raw(payload))
    payload["vc"]["@context"] = [vcdm.V1_CONTEXT, vcdm.V2_CONTEXT]
    rejects("vcdm_context_invalid", raw(payload))


def test_builder_refuses_a_v2_credential() -> None:
    credential = example(V11_EXAMPLE_12)
    credential["@context"] = [vcdm.V2_CONTEXT]
    with pytest.raises(InvalidCredential) as caught:
        sign(credential)
    assert caught.value.code == "vcdm_context_invalid"


@pytest.mark.parametrize("typ", ["vc+jwt", "application/vc+jwt", "dc+sd-jwt", "vc+sd-jwt", 1])
def test_other_typ_values(typ: Any) -> None:
    rejects("vc_typ_invalid", raw(payload_12(), {"alg": "ES256", "typ": typ}))


@pytest.mark.parametrize("vc", [None, "credential", ["list"]])
def test_vc_claim_missing(vc: Any) -> None:
    """JWTVC (1.1 §6.3.1): the vc claim MUST be present, as an object."""
    payload = payload_12()
    payload.pop("vc") if vc is None else payload.update({"vc": vc})
    rejects("jwt_vc_claim_missing", raw(payload))


# --- issuer ---------------------------------------------------------------------------------


def test_iss_differs_from_vc_issuer() -> None:
    """JWTVC: iss MUST represent issuer; a different vc.issuer is rejected."""
    rejects("issuer_mismatch", raw({**payload_12(), "iss": "https://attacker.example"}))


def test_iss_missing() -> None:
    payload = payload_12()
    del payload["iss"]
    rejects("vcdm_issuer_invalid", raw(payload))


def test_spec_example_9_object_iss_is_refused() -> None:
    """RFC 7519 §4.1.1: the 1.1 Example 9 generated JWT has an object iss; refused."""
    rejects("vcdm_issuer_invalid", raw(example(V11_EXAMPLE_9_JWT_PAYLOAD)))


def test_issuer_object_with_matching_iss() -> None:
    """VCDM 1.1 §4.5 issuer object: iss equal to issuer.id verifies."""
    payload = example(V11_EXAMPLE_9_JWT_PAYLOAD)
    payload["iss"] = payload["vc"]["issuer"]["id"]
    assert verify(raw(payload)).issuer == "did:example:76e12ec712ebc6f1c221ebfeb1f"


# --- validity -------------------------------------------------------------------------------


def test_exp_in_the_past() -> None:
    """JWTVC: exp (expirationDate) before now -> expired."""
    rejects("expired", sign(example(V11_EXAMPLE_12)), now=NOW)


def test_nbf_in_the_future() -> None:
    """JWTVC: nbf (issuanceDate) after now -> not yet valid."""
    rejects("not_yet_valid", sign(example(V11_EXAMPLE_12)), now=datetime(2009, 1, 1, tzinfo=UTC))


def test_expiration_date_without_exp() -> None:
    payload = payload_12()
    del payload["exp"]
    rejects("expired", raw(payload), now=NOW)


def test_issuance_date_without_nbf() -> None:
    payload = payload_12()
    del payload["nbf"]
    rejects("not_yet_valid", raw(payload), now=datetime(2009, 1, 1, tzinfo=UTC))


def test_no_issuance_date_at_all() -> None:
    """VCDM 1.1 §4.6: issuanceDate (or nbf) is required."""
    payload = payload_12()
    del payload["nbf"], payload["vc"]["issuanceDate"]
    rejects("vcdm_datetime_invalid", raw(payload))
    with pytest.raises(InvalidCredential) as caught:
        sign(payload["vc"])
    assert caught.value.code == "vcdm_datetime_invalid"


@pytest.mark.parametrize("value", ["2020-01-01", True, None])
def test_exp_not_numeric(value: Any) -> None:
    rejects("jwt_time_invalid", raw({**payload_12(), "exp": value}))


def test_exp_out_of_range_for_a_date() -> None:
    payload = payload_12()
    del payload["vc"]["expirationDate"]
    rejects("jwt_time_invalid", raw({**payload, "exp": 10**20}))


# --- claim conflicts ------------------------------------------------------------------------


def test_jti_differs_from_id() -> None:
    rejects("jwt_vc_claim_conflict", raw({**payload_12(), "jti": "urn:uuid:other"}))


def test_sub_differs_from_subject_id() -> None:
    rejects("jwt_vc_claim_conflict", raw({**payload_12(), "sub": "did:example:other"}))


def test_builder_refuses_a_conflicting_jti() -> None:
    with pytest.raises(InvalidCredential) as caught:
        sign(example(V11_EXAMPLE_12), jti="urn:uuid:other")
    assert caught.value.code == "jwt_vc_claim_conflict"


# --- signature and algorithm ----------------------------------------------------------------


def test_tampered_payload() -> None:
    head, body, signature = sign(example(V11_EXAMPLE_12)).split(".")
    payload = strict_json.loads_object(jose.b64url_decode(body))
    payload["vc"]["credentialSubject"]["degree"]["name"] = "Master of Science"
    forged = jose.b64url_encode(strict_json.dumps(payload).encode())
    rejects("signature_invalid", f"{head}.{forged}.{signature}")


def test_wrong_key() -> None:
    rejects("signature_invalid", sign(example(V11_EXAMPLE_12)), key=OTHER_KEY.public_key())


def test_alg_none() -> None:
    head = jose.b64url_encode(b'{"alg":"none","typ":"JWT"}')
    body = jose.b64url_encode(strict_json.dumps(payload_12()).encode())
    rejects("alg_not_allowed", f"{head}.{body}.")


def test_alg_hs256() -> None:
    head = jose.b64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    body = jose.b64url_encode(strict_json.dumps(payload_12()).encode())
    mac = hmac.new(b"secret", f"{head}.{body}".encode(), hashlib.sha256).digest()
    rejects("alg_not_allowed", f"{head}.{body}.{jose.b64url_encode(mac)}")


def test_input_too_large() -> None:
    rejects("input_too_large", "a" * (vc_jose.MAX_TOKEN_BYTES + 1))


# --- data model (VCDM 1.1 §4) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "member", "value"),
    [
        ("vcdm_context_invalid", "@context", ["https://www.w3.org/2018/credentials/examples/v1"]),
        ("vcdm_context_invalid", "@context", [vcdm.V1_CONTEXT, 42]),
        ("vcdm_id_invalid", "id", "3732"),
        ("vcdm_type_invalid", "type", ["UniversityDegreeCredential"]),
        ("vcdm_issuer_invalid", "issuer", {"name": "Example University"}),
        ("vcdm_subject_invalid", "credentialSubject", "did:example:1"),
        ("vcdm_subject_invalid", "credentialSubject", []),
        ("vcdm_datetime_invalid", "issuanceDate", "2010-01-01"),
        ("vcdm_status_invalid", "credentialStatus", {"type": "CredentialStatusList2017"}),
        ("vcdm_schema_invalid", "credentialSchema", {"id": "https://example.org/degree.json"}),
    ],
)
def test_data_model_checks(code: str, member: str, value: Any) -> None:
    """JWTVC: VCDM 1.1 §4 rules on the vc claim, one code each."""
    payload = payload_12()
    payload["vc"][member] = value
    rejects(code, raw(payload))


def test_subject_missing() -> None:
    payload = payload_12()
    del payload["vc"]["credentialSubject"]
    rejects("vcdm_subject_missing", raw(payload))


@pytest.mark.parametrize(
    ("claim", "code"), [("jti", "vcdm_id_invalid"), ("sub", "vcdm_subject_invalid")]
)
def test_jti_and_sub_must_be_uris(claim: str, code: str) -> None:
    rejects(code, raw({**payload_12(), claim: "not a uri"}))


# --- robustness -----------------------------------------------------------------------------

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_strings_raise_only_duo_errors(token: str) -> None:
    with contextlib.suppress(DuoError):
        verify(token)


@FUZZ
@given(st.dictionaries(st.text(max_size=10), JSON, max_size=6), st.booleans())
def test_arbitrary_signed_claims_raise_only_duo_errors(extra: dict[str, Any], in_vc: bool) -> None:
    payload = payload_12()
    (payload["vc"] if in_vc else payload).update(extra)
    with contextlib.suppress(DuoError):
        verify(raw(payload), now=NOW)


def test_every_code_has_a_test() -> None:
    """House rule: every code raised by jwt_vc_json appears in a test here."""
    here = Path(__file__).read_text(encoding="utf-8")
    tree = ast.parse(Path(jwt_vc_json.__file__ or "").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            first = node.args[0]
            if node.func.id == "InvalidCredential" and isinstance(first, ast.Constant):
                assert f'"{first.value!s}"' in here, first.value
