"""VCDM 2.0 credentials secured with VC-JOSE-COSE ``vc+jwt`` (verifier.vc_jose, verifier.vcdm).

SPECS §6 VCDM-1..4, JOSE-1, JOSE-2 and §8 item 87. The spec examples are read from tests/vectors/
(kept verbatim; provenance in tests/vectors/README.md); their published signatures use keys we do
not have, so each is signed here with a key made at run time.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vectors_loader import read_text

from verifier import jose, strict_json, vc_jose, vcdm
from verifier.errors import DuoError, InvalidCredential, VerificationIncomplete
from verifier.jwt_vc_json import sign_jwt_vc_json

# W3C VC-JOSE-COSE (Recommendation, 15 May 2025) §3.1.1 Example 1 "A simple example of a verifiable
# credential secured with JOSE" and §3.1.2 Example 2 (a VP with an enveloped vc+jwt; ES384, no typ).
JOSE_EXAMPLE_1 = read_text("w3c-vc-jose-cose/example-1.json")
JOSE_EXAMPLE_2 = read_text("w3c-vc-jose-cose/example-2.json")
# W3C VCDM 2.0 (Recommendation, 15 May 2025) §4.7 Example 8 "Expanded use of the issuer property",
# §4.9 Example 11 "Use of the validFrom and validUntil properties" and §4.10 Example 13 "Use of
# multiple entries for the status property".
VCDM_ISSUER_OBJECT = read_text("w3c-vc-data-model-2.0/example-8.json")
VCDM_VALIDITY = read_text("w3c-vc-data-model-2.0/example-11.json")
VCDM_STATUS = read_text("w3c-vc-data-model-2.0/example-13.json")

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
ALGS = frozenset({"ES256"})
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
SIGNER = jose.private_key_signer(KEY, "ES256")


def example(text: str) -> dict[str, Any]:
    return strict_json.loads_object(text)


def resolver(key: Any, seen: list[tuple[dict[str, Any], str]] | None = None) -> vc_jose.KeyResolver:
    def resolve(header: dict[str, Any], iss: str) -> Any:
        if seen is not None:
            seen.append((header, iss))
        return key

    return resolve


def sign(credential: dict[str, Any], **kwargs: Any) -> str:
    options: dict[str, Any] = {"signer": SIGNER, "alg": "ES256", "x5c": None, "kid": "key-1"}
    return vc_jose.sign_vc_jwt(credential, **{**options, **kwargs})


def raw(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """Sign any payload as-is, bypassing the builder's checks (to craft negative cases)."""
    head = {"alg": "ES256", "typ": "vc+jwt", "cty": "vc"} if header is None else header
    return jose.sign_compact(head, payload, SIGNER)


def verify(token: str, *, key: Any = None, now: datetime = NOW) -> vcdm.VerifiedVc:
    resolve = resolver(KEY.public_key() if key is None else key)
    return vc_jose.verify_vc_jwt(token, resolve_key=resolve, now=now, algorithms=ALGS)


def rejects(code: str, token: str, **kwargs: Any) -> None:
    with pytest.raises(InvalidCredential) as caught:
        verify(token, **kwargs)
    assert caught.value.code == code


def base() -> dict[str, Any]:
    return example(JOSE_EXAMPLE_1)


# --- positive round trips -------------------------------------------------------------------


def test_spec_example_round_trip() -> None:
    """JOSE-1, JOSE-2: the §3.1.1 example signs as vc+jwt, payload = document + iss."""
    seen: list[tuple[dict[str, Any], str]] = []
    token = sign(base(), iat=1_700_000_000)
    result = vc_jose.verify_vc_jwt(
        token, resolve_key=resolver(KEY.public_key(), seen), now=NOW, algorithms=ALGS
    )
    assert result.format == "vc+jwt"
    assert result.header == {"alg": "ES256", "typ": "vc+jwt", "cty": "vc", "kid": "key-1"}
    assert result.credential == {**base(), "iss": base()["issuer"], "iat": 1_700_000_000}
    assert "vc" not in result.payload
    assert result.issuer == "https://university.example/issuers/14"
    assert seen == [(result.header, "https://university.example/issuers/14")]


def test_header_carries_x5c_and_omits_absent_kid() -> None:
    """JOSE-1: header {alg, typ, cty} plus x5c when given; no kid when None."""
    token = sign(base(), x5c=["MIIBcert"], kid=None)
    assert jose.parse_compact(token).header == {
        "alg": "ES256",
        "typ": "vc+jwt",
        "cty": "vc",
        "x5c": ["MIIBcert"],
    }
    assert verify(token).credential["id"] == base()["id"]


def test_issuer_object_sets_iss_to_its_id() -> None:
    """VCDM-2 / JOSE-2 §4.1.2: with issuer {id, name}, iss is issuer.id."""
    result = verify(sign(example(VCDM_ISSUER_OBJECT)))
    assert result.payload["iss"] == "did:example:76e12ec712ebc6f1c221ebfeb1f"
    assert result.issuer == "did:example:76e12ec712ebc6f1c221ebfeb1f"


def test_status_example_verifies() -> None:
    """VCDM-4 §4.10: every status entry has a type (the spec's two-entry example)."""
    assert len(verify(sign(example(VCDM_STATUS))).credential["credentialStatus"]) == 2


def test_public_jwk_resolution() -> None:
    """The resolver may hand back a public JWK instead of a key object."""
    assert verify(sign(base()), key=jose.public_jwk(KEY)).issuer == base()["issuer"]


def test_application_prefixed_typ_is_the_same_media_type() -> None:
    """RFC 7515 §4.1.9: typ application/vc+jwt equals vc+jwt."""
    header = {"alg": "ES256", "typ": "application/vc+jwt"}
    payload = {**base(), "iss": base()["issuer"]}
    assert verify(raw(payload, header)).credential == payload


def test_spec_enveloped_payload_verifies_when_resigned() -> None:
    """JOSE-1: the §3.1.2 example's enveloped payload, re-signed with typ vc+jwt, is valid."""
    token = vc_jose.token_from_enveloped(example(JOSE_EXAMPLE_2)["verifiableCredential"][0])
    payload = jose.parse_compact(token).payload
    assert verify(raw(payload)).credential["id"] == "http://university.example/credentials/1872"


# --- validity windows -------------------------------------------------------------------------


def test_validity_period_window() -> None:
    """VCDM-3 §4.9: valid inside [validFrom, validUntil], expired after, not yet valid before."""
    token = sign(example(VCDM_VALIDITY))
    assert verify(token, now=datetime(2015, 6, 1, tzinfo=UTC)).credential["validUntil"]
    rejects("expired", token, now=NOW)
    rejects("not_yet_valid", token, now=datetime(2009, 12, 31, tzinfo=UTC))


def test_jwt_exp_dates_the_signature() -> None:
    """JOSE-2 §3.1.3: exp dates the signature; expired once now >= exp."""
    token = sign(base(), exp=int(NOW.timestamp()))
    rejects("expired", token)
    assert verify(token, now=datetime(2026, 8, 1, tzinfo=UTC)).payload["exp"]


def test_jwt_nbf_in_the_future() -> None:
    """JOSE-2: an nbf (NOT RECOMMENDED but honoured) after now is not yet valid."""
    rejects("not_yet_valid", raw({**base(), "nbf": NOW.timestamp() + 60}))


def test_jwt_time_claim_not_numeric() -> None:
    """RFC 7519 §4.1.4: exp must be a NumericDate."""
    rejects("jwt_time_invalid", raw({**base(), "exp": "2030-01-01"}))
    rejects("jwt_time_invalid", raw({**base(), "iat": True}))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        verify(sign(base()), now=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2010-01-01T19:23:24Z", datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC)),
        ("2010-01-01T19:23:24.1234567+14:00", datetime(2010, 1, 1, 5, 23, 24, 123456, tzinfo=UTC)),
        ("2010-01-01T24:00:00-01:00", datetime(2010, 1, 2, 1, 0, tzinfo=UTC)),
    ],
)
def test_datetime_stamp_forms(text: str, expected: datetime) -> None:
    """VCDM-3: dateTimeStamp with Z, an offset, fractions and 24:00:00."""
    assert vcdm.parse_datetime_stamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2010-01-01T19:23:24",
        "2010-02-30T00:00:00Z",
        "2010-01-01 19:23:24Z",
        "10000-01-01T00:00:00Z",
        "2010-01-01T19:23:24+15:00",
        "2010-01-01T19:23:60Z",
        "2010-01-01T19:23:24Z\n",
        1262373804,
    ],
)
def test_datetime_stamp_rejects(text: Any) -> None:
    """VCDM-3 §4.9: no timezone, impossible days, wrong shapes -> vcdm_datetime_invalid."""
    with pytest.raises(InvalidCredential) as caught:
        vcdm.parse_datetime_stamp(text)
    assert caught.value.code == "vcdm_datetime_invalid"


# --- envelope and claims (SPECS §8 item 87) -----------------------------------------------


def test_vc_claim_forbidden() -> None:
    """SPECS §8 item 87 (VC-JOSE-COSE §3.1.3): a vc+jwt containing a vc claim is rejected."""
    rejects("vc_claim_forbidden", raw({**base(), "vc": base()}))


def test_vp_claim_forbidden() -> None:
    """SPECS §8 item 87 (VC-JOSE-COSE §3.1.3): a vp claim is rejected likewise."""
    rejects("vc_claim_forbidden", raw({**base(), "vp": {"type": "VerifiablePresentation"}}))


def test_iss_differs_from_issuer() -> None:
    """SPECS §8 item 87 (VC-JOSE-COSE §4.1.2): iss != issuer is rejected."""
    rejects("issuer_mismatch", raw({**base(), "iss": "https://attacker.example"}))


def test_iss_differs_from_issuer_id() -> None:
    """SPECS §8 item 87 (§4.1.2): with an issuer object, iss must equal issuer.id."""
    document = example(VCDM_ISSUER_OBJECT)
    rejects("issuer_mismatch", raw({**document, "iss": "Example University"}))


def test_builder_refuses_conflicting_iss() -> None:
    """SPECS §8 item 87: the builder never emits iss != issuer."""
    with pytest.raises(InvalidCredential) as caught:
        sign({**base(), "iss": "https://other.example"})
    assert caught.value.code == "issuer_mismatch"


@pytest.mark.parametrize("typ", [None, "JWT", "vc-ld+jwt", "vp+jwt", "dc+sd-jwt", 7])
def test_typ_must_be_vc_jwt(typ: Any) -> None:
    """JOSE-1 §3.1.1: only typ vc+jwt is accepted (policy: required)."""
    header: dict[str, Any] = {"alg": "ES256"} if typ is None else {"alg": "ES256", "typ": typ}
    rejects("vc_typ_invalid", raw({**base(), "iss": base()["issuer"]}, header))


def test_spec_example_without_typ_is_refused() -> None:
    """JOSE-1: the §3.1.2 example token has no typ, so it is refused before any key lookup."""
    token = vc_jose.token_from_enveloped(example(JOSE_EXAMPLE_2)["verifiableCredential"][0])
    seen: list[tuple[dict[str, Any], str]] = []
    with pytest.raises(InvalidCredential) as caught:
        vc_jose.verify_vc_jwt(
            token, resolve_key=resolver(KEY.public_key(), seen), now=NOW, algorithms={"ES384"}
        )
    assert caught.value.code == "vc_typ_invalid"
    assert seen == []


def test_alg_none_is_ignored() -> None:
    """JOSE-1 §1.1.2.1: an unsecured (alg none) JWT is rejected."""
    head = jose.b64url_encode(b'{"alg":"none","typ":"vc+jwt"}')
    body = jose.b64url_encode(strict_json.dumps(base()).encode())
    rejects("alg_not_allowed", f"{head}.{body}.")


def test_mac_alg_is_refused() -> None:
    """JOSE-1: a MAC (HS256) is not an issuer signature."""
    head = jose.b64url_encode(b'{"alg":"HS256","typ":"vc+jwt"}')
    body = jose.b64url_encode(strict_json.dumps(base()).encode())
    mac = hmac.new(b"secret", f"{head}.{body}".encode(), hashlib.sha256).digest()
    rejects("alg_not_allowed", f"{head}.{body}.{jose.b64url_encode(mac)}")


def test_alg_outside_the_allowed_list() -> None:
    """An asymmetric alg the caller did not allow is refused."""
    with pytest.raises(InvalidCredential) as caught:
        vc_jose.verify_vc_jwt(
            sign(base()), resolve_key=resolver(KEY.public_key()), now=NOW, algorithms={"EdDSA"}
        )
    assert caught.value.code == "alg_not_allowed"


def test_builder_refuses_none_and_mac() -> None:
    for alg in ("none", "HS256"):
        with pytest.raises(InvalidCredential) as caught:
            sign(base(), alg=alg)
        assert caught.value.code == "alg_not_allowed"


def test_input_too_large() -> None:
    """A token over 256 KiB is refused before decoding."""
    rejects("input_too_large", "a" * (vc_jose.MAX_TOKEN_BYTES + 1))
    big = {**base(), "evidence": "x" * vc_jose.MAX_TOKEN_BYTES}
    rejects("input_too_large", sign(big))


def test_not_a_jws() -> None:
    header = jose.b64url_encode(b'{"alg":"ES256","typ":"vc+jwt"}')
    rejects("jws_malformed", f"{header}.a!.c")
    rejects("jws_malformed", "onlyonepart")


# --- signature ------------------------------------------------------------------------------


def tamper(token: str, change: Callable[[dict[str, Any]], None]) -> str:
    head, body, signature = token.split(".")
    payload = strict_json.loads_object(jose.b64url_decode(body))
    change(payload)
    return ".".join([head, jose.b64url_encode(strict_json.dumps(payload).encode()), signature])


def test_tampered_payload() -> None:
    """JOSE-1: a changed claim value under the original signature fails."""

    def change(payload: dict[str, Any]) -> None:
        payload["credentialSubject"]["degree"]["name"] = "Doctor of Science"

    rejects("signature_invalid", tamper(sign(base()), change))


def test_tampered_signature_byte() -> None:
    head, body, signature = sign(base()).split(".")
    raw_sig = bytearray(jose.b64url_decode(signature))
    raw_sig[5] ^= 0x01
    rejects("signature_invalid", f"{head}.{body}.{jose.b64url_encode(bytes(raw_sig))}")


def test_wrong_key() -> None:
    rejects("signature_invalid", sign(base()), key=OTHER_KEY.public_key())


def test_key_of_another_type() -> None:
    """An Ed25519 issuer key offered for an ES256 token fails cleanly."""
    other_type = ed25519.Ed25519PrivateKey.generate().public_key()
    rejects("signature_invalid", sign(base()), key=other_type)


def test_unresolved_key_is_incomplete() -> None:
    """A resolver that finds nothing leaves the check undecided, never passed."""
    with pytest.raises(VerificationIncomplete) as caught:
        vc_jose.verify_vc_jwt(sign(base()), resolve_key=resolver(None), now=NOW, algorithms=ALGS)
    assert caught.value.code == "issuer_key_unresolved"


# --- data model (VCDM 2.0 §4) -------------------------------------------------------------


def signed_with(change: Callable[[dict[str, Any]], None]) -> str:
    payload = base()
    change(payload)
    return raw(payload)


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("vcdm_context_invalid", lambda d: d.update({"@context": [vcdm.V1_CONTEXT]})),
        ("vcdm_context_invalid", lambda d: d["@context"].reverse()),
        ("vcdm_context_invalid", lambda d: d["@context"].append("not a url")),
        ("vcdm_context_invalid", lambda d: d.pop("@context")),
        ("vcdm_id_invalid", lambda d: d.update({"id": "3732"})),
        ("vcdm_type_invalid", lambda d: d.update({"type": ["ExampleDegreeCredential"]})),
        ("vcdm_type_invalid", lambda d: d.update({"type": "VerifiablePresentation"})),
        ("vcdm_type_invalid", lambda d: d.pop("type")),
        ("vcdm_issuer_invalid", lambda d: d.update({"issuer": "Example University"})),
        ("vcdm_issuer_invalid", lambda d: d.update({"issuer": {"name": "Example University"}})),
        ("vcdm_issuer_invalid", lambda d: d.pop("issuer")),
        ("vcdm_issuer_invalid", lambda d: d.update({"issuer": "https://u.example/14\n"})),
        ("vcdm_subject_missing", lambda d: d.pop("credentialSubject")),
        ("vcdm_subject_invalid", lambda d: d.update({"credentialSubject": "did:example:1"})),
        ("vcdm_subject_invalid", lambda d: d.update({"credentialSubject": []})),
        ("vcdm_datetime_invalid", lambda d: d.update({"validFrom": "2010-01-01T19:23:24"})),
        ("vcdm_datetime_invalid", lambda d: d.update({"validUntil": "2009-01-01T00:00:00Z"})),
        ("vcdm_status_invalid", lambda d: d.update({"credentialStatus": {"id": "https://s.ex/1"}})),
        ("vcdm_status_invalid", lambda d: d.update({"credentialStatus": []})),
        ("vcdm_status_invalid", lambda d: d.update({"credentialStatus": {"type": "X", "id": "n"}})),
        ("vcdm_schema_invalid", lambda d: d.update({"credentialSchema": {"type": "JsonSchema"}})),
        ("vcdm_schema_invalid", lambda d: d["credentialSchema"][1].pop("type")),
    ],
)
def test_data_model_checks(code: str, change: Callable[[dict[str, Any]], None]) -> None:
    """VCDM-1..4 (VCDM 2.0 §4.3-§4.11): each structural rule rejects with its own code."""
    rejects(code, signed_with(change))


def test_unknown_status_type_is_accepted() -> None:
    """JOSE-2 §5.4: an unknown status type is ignored here (checked by the status module)."""
    token = sign({**base(), "credentialStatus": {"type": "SomeFutureStatus"}})
    assert verify(token).credential["credentialStatus"]["type"] == "SomeFutureStatus"


def test_builder_runs_the_data_model_checks() -> None:
    credential = base()
    del credential["credentialSubject"]
    with pytest.raises(InvalidCredential) as caught:
        sign(credential)
    assert caught.value.code == "vcdm_subject_missing"


# --- never mixed with jwt_vc_json -----------------------------------------------------------


def test_vcdm_11_jwt_is_refused() -> None:
    """JWTVC: a jwt_vc_json (VCDM 1.1, typ JWT) token is never accepted as vc+jwt."""
    v11 = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.duo.test",
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"degree": "x"},
    }
    token = sign_jwt_vc_json(
        v11, signer=SIGNER, alg="ES256", x5c=None, kid=None, subject_id=None, jti=None
    )
    rejects("vc_typ_invalid", token)
    relabelled = raw(jose.parse_compact(token).payload)  # same payload, typ vc+jwt
    rejects("vc_claim_forbidden", relabelled)


# --- enveloped credentials (VC-JOSE-COSE §3.1.2) -------------------------------------------


def test_enveloped_vc_shape() -> None:
    """JOSE-1 §3.1.2: EnvelopedVerifiableCredential with a data: URL; the round trip is exact."""
    token = sign(base())
    envelope = vc_jose.enveloped_vc(token)
    assert envelope == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"data:application/vc+jwt,{token}",
        "type": "EnvelopedVerifiableCredential",
    }
    assert vc_jose.token_from_enveloped(envelope) == token


def test_spec_envelope_is_read() -> None:
    """JOSE-1: the §3.1.2 example envelope yields its ES384 token."""
    token = vc_jose.token_from_enveloped(example(JOSE_EXAMPLE_2)["verifiableCredential"][0])
    assert jose.parse_compact(token).header["alg"] == "ES384"


ENVELOPE: dict[str, Any] = {
    "@context": [vcdm.V2_CONTEXT],
    "type": "EnvelopedVerifiableCredential",
    "id": "data:application/vc+jwt,a.b.c",
}


@pytest.mark.parametrize(
    "envelope",
    [
        ENVELOPE["id"],
        {**ENVELOPE, "id": "data:application/vp+jwt,a.b.c"},
        {**ENVELOPE, "id": "data:application/vc+jwt,a.b"},
        {**ENVELOPE, "type": "VerifiableCredential"},
        {"type": ENVELOPE["type"], "id": ENVELOPE["id"]},
        {**ENVELOPE, "id": ENVELOPE["id"] + "\n"},
    ],
)
def test_bad_envelopes(envelope: Any) -> None:
    with pytest.raises(InvalidCredential) as caught:
        vc_jose.token_from_enveloped(envelope)
    assert caught.value.code == "enveloped_vc_invalid"


def test_enveloping_a_non_jws() -> None:
    with pytest.raises(InvalidCredential) as caught:
        vc_jose.enveloped_vc("not a token")
    assert caught.value.code == "jws_malformed"


# --- robustness -----------------------------------------------------------------------------

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
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
@given(st.dictionaries(st.text(max_size=10), JSON, max_size=6), st.sampled_from([None, "vc+jwt"]))
def test_arbitrary_signed_payloads_raise_only_duo_errors(extra: dict[str, Any], typ: Any) -> None:
    header = {"alg": "ES256"} if typ is None else {"alg": "ES256", "typ": typ}
    payload = {**base(), **extra}
    with contextlib.suppress(DuoError):
        verify(raw(payload, header))


def raised_codes(path: Path) -> set[str]:
    """The literal codes passed to the error classes in one module (as tests/test_architecture)."""
    codes = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"InvalidCredential", "VerificationIncomplete"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            codes.add(str(node.args[0].value))
    return codes


def test_every_code_has_a_test() -> None:
    """House rule: every code raised by vc_jose and vcdm appears in a test here."""
    here = Path(__file__).read_text(encoding="utf-8")
    for module in (vc_jose, vcdm):
        for code in raised_codes(Path(module.__file__ or "")):
            assert f'"{code}"' in here, code
