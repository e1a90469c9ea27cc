"""The JOSE wrapper and strict JSON: the parsing every credential goes through first."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from vectors_loader import joined, json_document

from verifier import jose, strict_json
from verifier.errors import InvalidCredential

# RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint (tests/vectors/rfc7638/).
RFC7638_JWK = json_document("rfc7638/section-3.1-jwk.json")
RFC7638_THUMBPRINT = joined("rfc7638/section-3.1-thumbprint.txt")


def test_rfc7638_thumbprint_vector() -> None:
    assert jose.jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT


def test_thumbprint_needs_the_members_of_the_key_type() -> None:
    with pytest.raises(InvalidCredential) as error:
        jose.jwk_thumbprint({"kty": "EC", "crv": "P-256", "x": "AA"})
    assert error.value.code == "jwk_invalid"


@pytest.mark.parametrize("text", ["a+b", "ab=", "a", "ab/c", "ab c"])
def test_base64url_is_strict(text: str) -> None:
    with pytest.raises(InvalidCredential) as error:
        jose.b64url_decode(text)
    assert error.value.code == "malformed_base64"


def test_base64url_refuses_a_second_spelling_of_the_same_bytes() -> None:
    """'QQ' and 'QR' decode to the same byte; only the canonical spelling is accepted."""
    assert jose.b64url_decode("QQ") == b"A"
    with pytest.raises(InvalidCredential):
        jose.b64url_decode("QR")


def _token(key: object, alg: str = "ES256") -> jose.CompactJws:
    signed = jose.sign_compact({"alg": alg}, {"a": 1}, jose.private_key_signer(key, alg))
    return jose.parse_compact(signed)


def test_signature_round_trip_and_rejections() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jws = _token(key)
    jose.verify_signature(jws, jose.public_jwk(key), algorithms={"ES256"})
    other = ec.generate_private_key(ec.SECP256R1())
    for wrong_key in (
        jose.public_jwk(other),
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
        ed25519.Ed25519PrivateKey.generate().public_key(),
    ):
        with pytest.raises(InvalidCredential) as error:
            jose.verify_signature(jws, wrong_key, algorithms={"ES256"})
        assert error.value.code == "signature_invalid"
    with pytest.raises(InvalidCredential):
        jose.verify_signature(jws, jose.public_jwk(key), algorithms={"ES384"})


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_none_and_mac_algorithms_are_never_accepted(alg: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    head = jose.b64url_encode(f'{{"alg":"{alg}"}}'.encode())
    body = jose.b64url_encode(b'{"a":1}')
    jws = jose.parse_compact(f"{head}.{body}.")
    with pytest.raises(InvalidCredential):
        jose.verify_signature(jws, jose.public_jwk(key), algorithms={alg, "ES256"})


def test_private_and_symmetric_jwks_are_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = {**jose.public_jwk(key), "d": "AAAA"}
    for jwk in (private, {"kty": "oct", "k": "AAAA"}, "not a jwk"):
        with pytest.raises(InvalidCredential) as error:
            jose.public_key_from_jwk(jwk)
        assert error.value.code == "jwk_invalid"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"a":1,"a":2}', "json_duplicate_key"),
        ("[" * 33 + "]" * 33, "json_too_deep"),
        ("[" * 5000 + "]" * 5000, "json_too_deep"),
        ('{"a": NaN}', "json_malformed"),
        ("{", "json_malformed"),
        (b"\xff\xfe", "json_malformed"),
        ("[1]", "json_not_object"),
    ],
)
def test_strict_json_rejections(text: str | bytes, code: str) -> None:
    with pytest.raises(InvalidCredential) as error:
        strict_json.loads_object(text)
    assert error.value.code == code


def test_strict_json_accepts_32_levels() -> None:
    assert strict_json.loads("[" * 32 + "]" * 32) is not None


def test_compact_jws_structure_errors() -> None:
    for token in ("a.b", "a.b.c.d", 42, "e30.W10.AA"):  # W10 = "[]": payload not an object
        with pytest.raises(InvalidCredential):
            jose.parse_compact(token)  # type: ignore[arg-type]
