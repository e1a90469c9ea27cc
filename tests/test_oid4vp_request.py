"""OpenID4VP 1.0 §5 Authorization Requests: client identifiers, Request Object, request URIs.

SPECS VP-1..VP-7 and VP-9 with HAIP 1.0 §5 (x509_hash, typ, ephemeral ECDH-ES P-256 key, both
``enc`` values). Requests are signed with the verifier's real request key from the development
key store (``duo`` fixture) and checked the way a Wallet checks them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import NOW, VERIFIER_HOST, Duo, b64_der, self_signed_leaf
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from verifier import jose
from verifier.errors import ProtocolError
from verifier.oid4vp import client_id as client_ids
from verifier.oid4vp import dcql, request
from verifier.oid4vp.request import (
    authorization_request_uri,
    request_object_claims,
    sign_request_object,
    unsigned_request_uri,
)

RESPONSE_URI = f"https://{VERIFIER_HOST}/oid4vp/response"
NONCE = "n-0S6_WzA2Mj-b3J0aGVyZS1ub25jZQ"
STATE = "c3RhdGUtdmFsdWUtb2YtdGhpcy10ZXN0"
QUERY = dcql.template("diploma", issuer="https://issuer.duo.test")


def encryption_jwk(kid: str = "resp-1") -> dict[str, Any]:
    """A fresh private ECDH-ES P-256 JWK, as the service makes one per request (HAIP §5)."""
    key = ec.generate_private_key(ec.SECP256R1())
    d = key.private_numbers().private_value.to_bytes(32, "big")
    return {**jose.public_jwk(key), "d": jose.b64url_encode(d), "kid": kid, "alg": "ECDH-ES"}


def leaf(duo: Duo) -> str:
    return duo.keys.signing_key("verifier_request").record.x5c[0]


def claims(client_id: str, **changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "client_id": client_id,
        "response_uri": RESPONSE_URI,
        "response_mode": "direct_post.jwt",
        "nonce": NONCE,
        "state": STATE,
        "dcql_query": QUERY,
        "encryption_jwk": encryption_jwk(),
        "wallet_nonce": None,
        "iat": int(NOW.timestamp()),
    }
    arguments.update(changes)
    return request_object_claims(**arguments)


# --- client identifiers (§5.9.3) ------------------------------------------------------------


def test_x509_hash_is_the_sha256_of_the_der_leaf(duo: Duo) -> None:
    """VP-5, HAIP §5: x509_hash = b64url(SHA-256(DER leaf))."""
    der = base64.b64decode(leaf(duo))
    expected = jose.b64url_encode(hashlib.sha256(der).digest())
    assert client_ids.x509_hash_client_id(leaf(duo)) == f"x509_hash:{expected}"


def test_x509_hash_refuses_what_is_not_a_certificate() -> None:
    with pytest.raises(ValueError):
        client_ids.x509_hash_client_id(base64.b64encode(b"not a certificate").decode())


def test_client_id_prefix_constructors() -> None:
    """VP-5: x509_san_dns names a DNS host; redirect_uri names the Response URI."""
    assert (
        client_ids.x509_san_dns_client_id("Verifier.DUO.test") == "x509_san_dns:verifier.duo.test"
    )
    assert client_ids.redirect_uri_client_id(RESPONSE_URI) == f"redirect_uri:{RESPONSE_URI}"


@pytest.mark.parametrize("name", ["", "bad host", "a..b", "-a.example", "a_b.example", "x" * 64])
def test_x509_san_dns_refuses_what_is_not_a_host_name(name: str) -> None:
    with pytest.raises(ValueError):
        client_ids.x509_san_dns_client_id(name)


@pytest.mark.parametrize("uri", ["/relative", "ftp://h/x", "https://h/x#frag", "https:///x"])
def test_redirect_uri_refuses_what_is_not_an_absolute_http_uri(uri: str) -> None:
    with pytest.raises(ValueError):
        client_ids.redirect_uri_client_id(uri)


@pytest.mark.parametrize(
    "value", ["s6BhdRkqt3", "origin:https://a.example", "did:example:1", "x509_hash:"]
)
def test_unsupported_client_id_prefixes_are_refused(value: str) -> None:
    """VP-5: `origin:` is reserved and never sent; only the three prefixes are used."""
    with pytest.raises(ProtocolError) as caught:
        client_ids.split_client_id(value)
    assert caught.value.code == "invalid_request"


def test_wallet_side_binding_accepts_both_signed_prefixes(duo: Duo) -> None:
    """VP-5: x509_hash names the leaf; x509_san_dns is a dNSName SAN and the response_uri host."""
    x5c = [leaf(duo)]
    for client_id in (
        client_ids.x509_hash_client_id(leaf(duo)),
        client_ids.x509_san_dns_client_id(VERIFIER_HOST),
    ):
        client_ids.check_client_binding(client_id, x5c=x5c, response_uri=RESPONSE_URI)
    redirect = client_ids.redirect_uri_client_id(RESPONSE_URI)
    client_ids.check_client_binding(redirect, x5c=None, response_uri=RESPONSE_URI)


def _other_leaf_x5c(duo: Duo) -> list[str]:
    """A certificate of the same PKI that is not the request key's leaf (the issuer's)."""
    return [duo.keys.signing_key("issuer").record.x5c[0]]


#: Each case with the start of the fixed detail its rejection carries.
BINDING_CASES = {
    "hash_of_other_leaf": "x509_hash does not match",
    "san_not_in_leaf": "x509_san_dns name is not a SAN",
    "response_uri_other_host": "response_uri host",
    "redirect_uri_signed": "a redirect_uri request cannot be signed",
    "redirect_uri_other_uri": "redirect_uri client_id is not",
    "no_x5c": "signed request has no x5c",
    "self_signed_leaf": "x5c leaf is self-signed",
    "anchor_in_x5c": "x5c includes a trust anchor",
}


@pytest.mark.parametrize("case", BINDING_CASES)
def test_wallet_side_binding_rejections(duo: Duo, case: str) -> None:
    """VP-5 negative cases, and HAIP §5: no self-signed leaf, no trust anchor in x5c."""
    x5c: list[str] | None = [leaf(duo)]
    response_uri = RESPONSE_URI
    client_id = client_ids.x509_hash_client_id(leaf(duo))
    if case == "hash_of_other_leaf":
        x5c = _other_leaf_x5c(duo)
    elif case == "san_not_in_leaf":
        client_id = client_ids.x509_san_dns_client_id("other.duo.test")
    elif case == "response_uri_other_host":
        client_id = client_ids.x509_san_dns_client_id(VERIFIER_HOST)
        response_uri = "https://attacker.example/response"
    elif case == "redirect_uri_signed":
        client_id = client_ids.redirect_uri_client_id(RESPONSE_URI)
    elif case == "redirect_uri_other_uri":
        client_id = client_ids.redirect_uri_client_id("https://attacker.example/cb")
        x5c = None
    elif case == "no_x5c":
        x5c = []
    elif case == "anchor_in_x5c":
        root = x509.load_pem_x509_certificate(duo.keys.anchors_pem()[0].encode())
        x5c = [leaf(duo), b64_der(root)]
    else:
        forged = b64_der(self_signed_leaf(ec.generate_private_key(ec.SECP256R1())))
        x5c, client_id = [forged], client_ids.x509_hash_client_id(forged)
    with pytest.raises(ProtocolError) as caught:
        client_ids.check_client_binding(client_id, x5c=x5c, response_uri=response_uri)
    assert caught.value.code == "invalid_request"
    assert caught.value.detail.startswith(BINDING_CASES[case])


# --- the Request Object (§5) ----------------------------------------------------------------


def test_request_object_claims_for_direct_post_jwt(duo: Duo) -> None:
    """VP-1, VP-2, VP-4, VP-6, VP-9, VP-10 and HAIP §5: every claim of the Request Object."""
    client_id = client_ids.x509_hash_client_id(leaf(duo))
    private = encryption_jwk("k-42")
    made = claims(client_id, encryption_jwk=private)
    assert made["client_id"] == client_id  # prefix included (VP-1)
    assert made["response_type"] == "vp_token"
    assert made["response_mode"] == "direct_post.jwt"
    assert made["response_uri"] == RESPONSE_URI
    assert "redirect_uri" not in made  # VP-9
    assert (made["nonce"], made["state"]) == (NONCE, STATE)
    assert made["dcql_query"] == QUERY
    assert made["aud"] == "https://self-issued.me/v2"  # VP-4, static discovery
    assert made["iat"] == int(NOW.timestamp())
    assert "wallet_nonce" not in made
    metadata = made["client_metadata"]
    assert metadata["vp_formats_supported"]["dc+sd-jwt"] == {
        "sd-jwt_alg_values": ["ES256"],
        "kb-jwt_alg_values": ["ES256"],
    }
    assert metadata["vp_formats_supported"]["jwt_vc_json"] == {"alg_values": ["ES256"]}
    assert metadata["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]
    [published] = metadata["jwks"]["keys"]
    assert published == {
        "kty": "EC",
        "crv": "P-256",
        "x": private["x"],
        "y": private["y"],
        "kid": "k-42",
        "use": "enc",
        "alg": "ECDH-ES",
    }  # VP-6: kid and alg, never the private part


def test_request_object_for_direct_post_has_no_encryption_metadata(duo: Duo) -> None:
    """VP-6/VP-9: plain direct_post carries no jwks and no enc values."""
    made = claims(client_ids.x509_hash_client_id(leaf(duo)), response_mode="direct_post",
                  encryption_jwk=None)  # fmt: skip
    assert made["client_metadata"] == {"vp_formats_supported": request.VP_FORMATS_SUPPORTED}


def test_wallet_nonce_is_echoed(duo: Duo) -> None:
    """VP-7: §5.10 request_uri_method=post, the Wallet's nonce comes back in the object."""
    made = claims(client_ids.x509_hash_client_id(leaf(duo)), wallet_nonce="qPmxiNFCR3QTm19POc8u")
    assert made["wallet_nonce"] == "qPmxiNFCR3QTm19POc8u"


def _p384_jwk() -> dict[str, Any]:
    return {**jose.public_jwk(ec.generate_private_key(ec.SECP384R1())), "kid": "k"}


@pytest.mark.parametrize(
    "changes",
    [
        {"encryption_jwk": None},  # direct_post.jwt needs a key
        {"response_mode": "direct_post"},  # and direct_post must not have one
        {"response_mode": "fragment", "encryption_jwk": None},
        {"encryption_jwk": {k: v for k, v in encryption_jwk().items() if k != "kid"}},
        {"encryption_jwk": {**encryption_jwk(), "alg": "ECDH-ES+A128KW"}},
        {"encryption_jwk": _p384_jwk()},
        {"nonce": "short-nonce"},  # under 128 bits
        {"nonce": NONCE + "+/="},  # not URL-safe (§5.2)
        {"state": "s p a c e s in the state value"},
        {"response_uri": "not-a-uri"},
        {"client_id": "origin:https://verifier.duo.test"},
        {"client_id": "redirect_uri:https://attacker.example/cb"},  # ≠ response_uri
        {"wallet_nonce": ""},
    ],
)
def test_request_object_refuses_what_a_wallet_would_refuse(
    duo: Duo, changes: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        changes = dict(changes)
        claims(changes.pop("client_id", client_ids.x509_hash_client_id(leaf(duo))), **changes)


def test_request_object_checks_its_dcql_query(duo: Duo) -> None:
    """VP-8: the query is checked before it is sent."""
    with pytest.raises(ProtocolError) as caught:
        claims(client_ids.x509_hash_client_id(leaf(duo)), dcql_query={"credentials": []})
    assert caught.value.code == "invalid_request"


@pytest.mark.parametrize("prefix", ["x509_hash", "x509_san_dns"])
def test_signed_request_object_verifies_with_the_x5c_leaf(duo: Duo, prefix: str) -> None:
    """VP-1 (typ), VP-5 and HAIP §5: signed by the leaf in x5c, which the client_id names."""
    key = duo.keys.signing_key("verifier_request")
    client_id = (
        client_ids.x509_hash_client_id(leaf(duo))
        if prefix == "x509_hash"
        else client_ids.x509_san_dns_client_id(VERIFIER_HOST)
    )
    made = claims(client_id)
    token = sign_request_object(made, signer=key.sign, alg="ES256", x5c=list(key.record.x5c))
    jws = jose.parse_compact(token)
    assert jws.header == {"alg": "ES256", "typ": "oauth-authz-req+jwt", "x5c": list(key.record.x5c)}
    assert jws.payload == made
    cert = x509.load_der_x509_certificate(base64.b64decode(jws.header["x5c"][0]))
    jose.verify_signature(jws, cert.public_key(), algorithms=["ES256"])
    client_ids.check_client_binding(
        jws.payload["client_id"], x5c=jws.header["x5c"], response_uri=jws.payload["response_uri"]
    )


def test_signing_refuses_a_client_id_that_does_not_name_the_leaf(duo: Duo) -> None:
    """VP-5: an x509_hash of another certificate, or a redirect_uri request, is never signed."""
    key = duo.keys.signing_key("verifier_request")
    other = client_ids.x509_hash_client_id(_other_leaf_x5c(duo)[0])
    unsigned = client_ids.redirect_uri_client_id(RESPONSE_URI)
    for client_id in (other, unsigned):
        with pytest.raises(ValueError):
            sign_request_object(
                claims(client_id), signer=key.sign, alg="ES256", x5c=list(key.record.x5c)
            )
    with pytest.raises(ValueError):
        sign_request_object(claims(other), signer=key.sign, alg="HS256", x5c=[leaf(duo)])


# --- request URIs ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_authorization_request_uri(duo: Duo, method: str) -> None:
    """VP-7: openid4vp://?client_id=..&request_uri=..; request_uri_method only for post."""
    client_id = client_ids.x509_hash_client_id(leaf(duo))
    request_uri = "https://verifier.duo.test/oid4vp/request/abc?x=1"
    uri = authorization_request_uri(
        client_id=client_id, request_uri=request_uri, request_uri_method=method
    )
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("openid4vp", "", "")
    query = parse_qs(parts.query, strict_parsing=True)
    expected = {"client_id": [client_id], "request_uri": [request_uri]}
    if method == "post":
        expected["request_uri_method"] = ["post"]
    assert query == expected


def test_authorization_request_uri_refuses_other_methods(duo: Duo) -> None:
    with pytest.raises(ValueError):
        authorization_request_uri(
            client_id=client_ids.x509_hash_client_id(leaf(duo)),
            request_uri="https://verifier.duo.test/r",
            request_uri_method="put",
        )


def test_unsigned_request_by_value_for_redirect_uri() -> None:
    """VP-5: a redirect_uri request travels unsigned, its objects as JSON strings (§5.1)."""
    client_id = client_ids.redirect_uri_client_id(RESPONSE_URI)
    made = claims(client_id)
    query = parse_qs(urlsplit(unsigned_request_uri(claims=made)).query, strict_parsing=True)
    assert query["client_id"] == [client_id]
    assert json.loads(query["dcql_query"][0]) == QUERY
    assert json.loads(query["client_metadata"][0]) == made["client_metadata"]
    assert query["response_mode"] == ["direct_post.jwt"]
    assert not {"aud", "iat", "iss", "redirect_uri"} & query.keys()


def test_signed_prefixes_are_never_sent_unsigned(duo: Duo) -> None:
    with pytest.raises(ValueError):
        unsigned_request_uri(claims=claims(client_ids.x509_hash_client_id(leaf(duo))))


def test_random_values_carry_256_bits() -> None:
    """VP-2/VP-3: nonce and state from an injected source, URL-safe, at least 128 bits."""
    value = request.random_value(lambda n: bytes(range(n)))
    assert len(value) == 43 and request._URL_SAFE.fullmatch(value)
    with pytest.raises(ValueError):
        request.random_value(lambda n: b"\x00" * (n - 1))
