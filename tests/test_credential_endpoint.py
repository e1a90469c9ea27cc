"""The Credential Endpoint (OpenID4VCI 1.0 §8, App. D and F) on both databases: SPECS §8
items 19-46 and 50, VCI-25..34; batch issuance; issued credentials verify against the issuer's
own trust bundle; a c_nonce is consumed once under concurrent requests; one flow over real HTTP.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import sqlalchemy
import test_token
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from issuer_support import LiveIssuer
from test_token import (
    DROP,
    ISSUER,
    PRE_AUTH,
    Clock,
    Issuer,
    dpop_proof,
    expect_error,
    new_key,
    sign,
)

from issuer.db.tables import credentials, nonces
from issuer.oid4vci.credential import BATCH_SIZE
from keys import pki
from verifier import jose
from verifier.policy import Policy
from verifier.sd_jwt import parse as parse_sd_jwt
from verifier.trust import TrustStore
from verifier.verify import verify

# the shared fixtures (pytest finds fixtures among module attributes)
issuer_keys = test_token.issuer_keys
make_issuer = test_token.make_issuer
issuer = test_token.issuer

SD_JWT = "diploma_sd_jwt"


def bundle_trust(issuer: Issuer) -> TrustStore:
    """The issuer's published trust bundle (with its status lists) as a trust store."""
    response = issuer.client.get("/.well-known/trust-bundle")
    assert response.status_code == 200
    return TrustStore.from_bundle(jose.parse_compact(response.get_data(as_text=True)).payload)


def verified(issuer: Issuer, credential: str, trust: TrustStore) -> dict[str, Any]:
    verdict = verify(
        credential, trust=trust, now=issuer.now,
        policy=Policy(require_holder_binding=False, nonce=None, audience=None),
    )
    assert verdict.outcome == "valid", verdict.checks
    return dict(verdict.claims)


def issued_rows(issuer: Issuer) -> list[Any]:
    with issuer.engine.connect() as conn:
        return list(conn.execute(sqlalchemy.select(credentials)).all())


def request_one(issuer: Issuer, token: str, proof: str, **body: Any) -> Any:
    return issuer.credential(
        token, {"credential_configuration_id": SD_JWT, "proofs": {"jwt": [proof]}, **body}
    )


# --- issuing ----------------------------------------------------------------------------------


def test_issues_a_bound_sd_jwt_vc(issuer: Issuer) -> None:
    """VCI-31: 200 {credentials, notification_id}; the SD-JWT string as is (A.3.4), bound to
    the proof key, with a status reference; the issuance record is committed."""
    token = issuer.access_token()
    response = request_one(issuer, token, issuer.proof())
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"credentials", "notification_id"}
    (item,) = body["credentials"]
    credential = item["credential"]
    assert isinstance(credential, str) and credential.endswith("~")
    claims = verified(issuer, credential, bundle_trust(issuer))
    holder = jose.public_jwk(issuer.keys[0])
    assert claims["cnf"]["jwk"] == {k: holder[k] for k in ("kty", "crv", "x", "y")}
    assert claims["iat"] % 86400 == 0  # rounded down to midnight UTC
    (row,) = issued_rows(issuer)
    assert row.holder_jkt == jose.jwk_thumbprint(holder)
    assert row.format == "dc+sd-jwt" and row.configuration_id == SD_JWT
    assert row.notification_id == body["notification_id"]
    assert claims["status"]["status_list"]["idx"] == row.status_idx


def test_issues_jwt_vc_json_with_a_bitstring_entry(issuer: Issuer) -> None:
    """App. A.1.1: a VCDM 1.1 JWT whose subject is the proof key, with a W3C status entry."""
    offer = issuer.seed(configuration_ids=["diploma_jwt_vc_json"])
    token = issuer.access_token(offer)
    response = issuer.credential(token, {"credential_configuration_id": "diploma_jwt_vc_json",
                                         "proofs": {"jwt": [issuer.proof()]}})
    assert response.status_code == 200, response.get_json()
    credential = response.get_json()["credentials"][0]["credential"]
    claims = verified(issuer, credential, bundle_trust(issuer))
    assert claims["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert claims["credentialSubject"]["id"].startswith("did:jwk:")
    (row,) = issued_rows(issuer)
    assert row.format == "jwt_vc_json"
    assert int(claims["credentialStatus"]["statusListIndex"]) == row.status_idx


def test_batch_issuance(issuer: Issuer) -> None:
    """§8.2/§8.3 batch: three keys give three credentials with distinct cnf, salts and status
    indices (H-7), each verifying against the published bundle."""
    token = issuer.access_token()
    nonce = issuer.nonce()
    proofs = [issuer.proof(nonce) for _ in range(3)]  # one c_nonce for the batch
    response = issuer.credential(token, {"credential_configuration_id": SD_JWT,
                                         "proofs": {"jwt": proofs}})
    assert response.status_code == 200, response.get_json()
    issued = [c["credential"] for c in response.get_json()["credentials"]]
    assert len(issued) == 3
    trust = bundle_trust(issuer)
    claims = [verified(issuer, c, trust) for c in issued]
    assert len({json.dumps(c["cnf"], sort_keys=True) for c in claims}) == 3
    assert len({c["status"]["status_list"]["idx"] for c in claims}) == 3
    salts = [d.salt for c in issued for d in parse_sd_jwt(c, expect_kb=False).disclosures]
    assert len(salts) == len(set(salts))
    rows = issued_rows(issuer)
    assert len(rows) == 3 and len({r.notification_id for r in rows}) == 1


def test_credential_identifier_request(issuer: Issuer) -> None:
    """VCI-26: with credential_identifiers, the identifier names the dataset (item 29 positive)."""
    offer = issuer.seed(("diploma", "diploma"))
    body = issuer.token(offer, authorization_details=json.dumps(
        [{"type": "openid_credential", "credential_configuration_id": SD_JWT}]
    ))
    token = body["access_token"]
    identifiers = body["authorization_details"][0]["credential_identifiers"]
    for identifier in identifiers:
        response = issuer.credential(
            token, {"credential_identifier": identifier, "proofs": {"jwt": [issuer.proof()]}}
        )
        assert response.status_code == 200, response.get_json()
    assert sorted(r.record_id for r in issued_rows(issuer)) == sorted(offer.record_ids)
    expect_error(issuer.credential(token, {"credential_configuration_id": SD_JWT,
                                           "proofs": {"jwt": [issuer.proof()]}}),
                 400, "invalid_credential_request")  # item 27
    expect_error(issuer.credential(token, {"credential_identifier": "nope",
                                           "proofs": {"jwt": [issuer.proof()]}}),
                 400, "unknown_credential_identifier")  # item 29


def test_unknown_parameters_are_ignored(issuer: Issuer) -> None:
    """VCI-25: unknown parameters (and the pre-1.0 ``format``) are ignored."""
    response = request_one(issuer, issuer.access_token(), issuer.proof(), format="dc+sd-jwt",
                           colour="blue")
    assert response.status_code == 200


# --- the access token (RFC 6750, RFC 9449; items 19-24) ----------------------------------------


def test_missing_token(issuer: Issuer) -> None:
    """SPECS §8 item 19: 401 with WWW-Authenticate and no error code in the challenge."""
    response = issuer.client.post("/credential", json={"credential_configuration_id": SD_JWT})
    expect_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_token_in_query_is_refused(issuer: Issuer) -> None:
    """SPECS §8 item 20: a token in the query is not accepted, even a valid one."""
    token = issuer.access_token()
    response = issuer.client.post(f"/credential?access_token={token}", json={
        "credential_configuration_id": SD_JWT, "proofs": {"jwt": [issuer.proof()]}})
    expect_error(response, 400, "invalid_request")


def test_expired_and_unknown_tokens(issuer: Issuer) -> None:
    """SPECS §8 item 21, VCI-32: 401 invalid_token with a Bearer challenge."""
    token = issuer.access_token()
    issuer.clock.advance(minutes=5, seconds=1)
    for value in (token, "not-a-token", "Zm9v" * 200):
        response = request_one(issuer, value, "x")
        expect_error(response, 401, "invalid_token")
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    malformed = issuer.client.post("/credential", json={},
                                   headers={"Authorization": "Basic dXNlcjpwdw=="})
    expect_error(malformed, 401, "invalid_token")


def _dpop_token(issuer: Issuer, key: ec.EllipticCurvePrivateKey) -> str:
    offer = issuer.seed()
    response = issuer.token_request(
        dpop_proof(key, url=f"{ISSUER}/token", iat=issuer.now),
        grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code},
    )
    assert response.status_code == 200
    return str(response.get_json()["access_token"])


def _dpop_request(
    issuer: Issuer, token: str, key: Any, *, scheme: str = "DPoP", ath: str | None = None
) -> Any:
    proof = dpop_proof(key, url=f"{ISSUER}/credential", iat=issuer.now,
                       access_token=token if ath is None else ath)
    return issuer.client.post(
        "/credential", json={"credential_configuration_id": SD_JWT,
                             "proofs": {"jwt": [issuer.proof()]}},
        headers={"Authorization": f"{scheme} {token}", "DPoP": proof},
    )


def test_dpop_bound_token(issuer: Issuer) -> None:
    """RFC 9449 §7: a bound token with the DPoP scheme and a proof by its key works and gets a
    fresh DPoP-Nonce; SPECS §8 items 22-23 each fail with 401."""
    key, other = new_key(), new_key()
    token = _dpop_token(issuer, key)
    ok = _dpop_request(issuer, token, key)
    assert ok.status_code == 200, ok.get_json()
    assert ok.headers["DPoP-Nonce"]
    token = _dpop_token(issuer, key)
    as_bearer = request_one(issuer, token, issuer.proof())  # item 22: sent as Bearer
    expect_error(as_bearer, 401, "invalid_token")
    assert as_bearer.headers["WWW-Authenticate"].startswith("DPoP ")
    no_proof = issuer.client.post("/credential", json={},
                                  headers={"Authorization": f"DPoP {token}"})
    expect_error(no_proof, 401, "invalid_dpop_proof")  # item 22: without a proof
    expect_error(_dpop_request(issuer, token, key, ath="another-token"), 401,
                 "invalid_dpop_proof")  # item 22: wrong ath
    expect_error(_dpop_request(issuer, token, other), 401, "invalid_token")  # item 23
    unbound = issuer.access_token()  # the DPoP scheme with an unbound token
    expect_error(_dpop_request(issuer, unbound, key), 401, "invalid_token")


def test_token_does_not_cover_the_configuration(issuer: Issuer) -> None:
    """SPECS §8 item 24: 403 insufficient_scope (§8.3.1.1)."""
    token = issuer.access_token()  # offered diploma_sd_jwt only
    response = issuer.credential(token, {"credential_configuration_id": "diploma_jwt_vc_json",
                                         "proofs": {"jwt": [issuer.proof()]}})
    expect_error(response, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


# --- the request (items 25-32, 46) ------------------------------------------------------------


def test_body_must_be_json(issuer: Issuer) -> None:
    """SPECS §8 item 25."""
    token = issuer.access_token()
    headers = {"Authorization": f"Bearer {token}"}
    for data, content_type in (("{}", "text/plain"), ("{not json", "application/json"),
                               ("[1]", "application/json"), ('{"a":1,"a":2}', "application/json")):
        response = issuer.client.post("/credential", data=data, content_type=content_type,
                                      headers=headers)
        expect_error(response, 400, "invalid_credential_request")


MALFORMED: list[tuple[dict[str, Any], int, str]] = [
    ({"credential_configuration_id": SD_JWT, "credential_identifier": "x"}, 400,
     "invalid_credential_request"),  # item 26
    ({}, 400, "invalid_credential_request"),  # neither
    ({"credential_configuration_id": "no_such"}, 400,
     "unknown_credential_configuration"),  # item 28
    ({"credential_configuration_id": 7}, 400, "unknown_credential_configuration"),
    ({"credential_identifier": "unknown"}, 400, "unknown_credential_identifier"),  # item 29
    ({"credential_configuration_id": SD_JWT}, 400, "invalid_proof"),  # item 30
    ({"credential_configuration_id": SD_JWT, "proof": {"proof_type": "jwt"}}, 400,
     "invalid_proof"),  # the draft ``proof`` is unknown: proofs missing
    ({"credential_configuration_id": SD_JWT, "proofs": {"jwt": [], }}, 400,
     "invalid_proof"),  # item 31: empty array
    ({"credential_configuration_id": SD_JWT, "proofs": {"jwt": ["a"], "attestation": ["b"]}},
     400, "invalid_proof"),  # item 31: two types
    ({"credential_configuration_id": SD_JWT, "proofs": {"di_vp": [{}]}}, 400,
     "invalid_proof"),  # unsupported type
    ({"credential_configuration_id": SD_JWT, "proofs": {"jwt": "a.b.c"}}, 400,
     "invalid_proof"),  # not an array
    ({"credential_configuration_id": SD_JWT, "proofs": {"jwt": ["x"] * (BATCH_SIZE + 1)}},
     400, "invalid_credential_request"),  # item 32
    ({"credential_configuration_id": SD_JWT, "proofs": {"attestation": ["a", "b"]}}, 400,
     "invalid_proof"),  # item 46
    ({"credential_configuration_id": SD_JWT, "proofs": {"jwt": [7]}}, 400, "invalid_proof"),
]


def test_malformed_requests(issuer: Issuer) -> None:
    """§8.2/§8.3.1.2: the spec's error for each malformed request of MALFORMED (SPECS §8
    items 26, 28-32, 46); nothing is stored."""
    token = issuer.access_token()
    for body, status, error in MALFORMED:
        response = issuer.credential(token, body)
        assert (response.status_code, response.get_json()["error"]) == (status, error), body
        expect_error(response, status, error)
    assert issued_rows(issuer) == []


# --- jwt proofs (items 33-42) -----------------------------------------------------------------


def _hs256(issuer: Issuer, nonce: str) -> str:
    header = jose.b64url_encode(json.dumps({"typ": "openid4vci-proof+jwt", "alg": "HS256"})
                                .encode())
    claims = jose.b64url_encode(json.dumps({"aud": ISSUER, "nonce": nonce,
                                            "iat": int(issuer.now.timestamp())}).encode())
    return f"{header}.{claims}.{jose.b64url_encode(b'mac' * 10)}"


def _none(issuer: Issuer, nonce: str) -> str:
    header = jose.b64url_encode(b'{"typ":"openid4vci-proof+jwt","alg":"none"}')
    return _hs256(issuer, nonce).split(".")[1].join([header + ".", "."])


def _corrupted(issuer: Issuer, nonce: str) -> str:
    proof = issuer.proof(nonce)
    head, body, signature = proof.split(".")
    raw = bytearray(jose.b64url_decode(signature))
    raw[5] ^= 1
    return f"{head}.{body}.{jose.b64url_encode(bytes(raw))}"


def _es384(issuer: Issuer, nonce: str) -> str:
    key = ec.generate_private_key(ec.SECP384R1())
    header = {"typ": "openid4vci-proof+jwt", "alg": "ES384", "jwk": jose.public_jwk(key)}
    claims = {"aud": ISSUER, "iat": int(issuer.now.timestamp()), "nonce": nonce}
    return jose.sign_compact(header, claims, jose.private_key_signer(key, "ES384"))


def _private_jwk(issuer: Issuer, nonce: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateNumbers

    key = new_key()
    numbers: EllipticCurvePrivateNumbers = key.private_numbers()
    jwk = {**jose.public_jwk(key),
           "d": jose.b64url_encode(numbers.private_value.to_bytes(32, "big"))}
    return issuer.proof(nonce, key=key, header={"jwk": jwk})


PROOF_CASES: dict[str, Callable[[Issuer, str], str]] = {
    "item 33 typ JWT": lambda i, n: i.proof(n, header={"typ": "JWT"}),
    "item 33 typ absent": lambda i, n: i.proof(n, header={"typ": DROP}),
    "item 34 alg none": _none,
    "item 34 alg HS256": _hs256,
    "item 35 alg ES384": _es384,
    "item 36 corrupted signature": _corrupted,
    "item 37 jwk and kid": lambda i, n: i.proof(n, header={"kid": "key-1"}),
    "item 37 jwk with d": _private_jwk,
    "kid only": lambda i, n: i.proof(n, header={"jwk": DROP, "kid": "did:example:1#k"}),
    "no key at all": lambda i, n: i.proof(n, header={"jwk": DROP}),
    "crit header": lambda i, n: i.proof(n, header={"crit": ["exp"]}),
    "item 38 aud wrong": lambda i, n: i.proof(n, claims={"aud": "https://other.example"}),
    "item 38 aud missing": lambda i, n: i.proof(n, claims={"aud": DROP}),
    "item 39 iat missing": lambda i, n: i.proof(n, claims={"iat": DROP}),
    "item 39 iat old": lambda i, n: i.proof(n, claims={"iat": int(i.now.timestamp()) - 301}),
    "item 39 iat future": lambda i, n: i.proof(n, claims={"iat": int(i.now.timestamp()) + 61}),
    "item 39 iat text": lambda i, n: i.proof(n, claims={"iat": str(int(i.now.timestamp()))}),
    "item 40 nonce missing": lambda i, n: i.proof(n, claims={"nonce": DROP}),
    "item 42 iss anonymous": lambda i, n: i.proof(n, claims={"iss": "wallet"}),
    "not a JWS": lambda i, n: "not-a-jws",
}


def test_bad_jwt_proofs(issuer: Issuer) -> None:
    """VCI-28/29 (F.1, F.4), SPECS §8 items 33-40 and 42, one case each (named in
    PROOF_CASES): 400 invalid_proof, and the c_nonce stays usable (nothing is consumed)."""
    for case in sorted(PROOF_CASES):
        token = issuer.access_token()
        nonce = issuer.nonce()
        response = request_one(issuer, token, PROOF_CASES[case](issuer, nonce))
        assert response.status_code == 400, case
        assert response.get_json()["error"] == "invalid_proof", case
        expect_error(response, 400, "invalid_proof")
        assert request_one(issuer, token, issuer.proof(nonce)).status_code == 200, case


def test_nonces_random_stale_or_used(issuer: Issuer) -> None:
    """SPECS §8 item 41: invalid_nonce for a made-up, an expired and a consumed c_nonce."""
    token = issuer.access_token()
    expect_error(request_one(issuer, token, issuer.proof("made-up-nonce")), 400, "invalid_nonce")
    nonce = issuer.nonce()
    assert request_one(issuer, token, issuer.proof(nonce)).status_code == 200
    expect_error(request_one(issuer, token, issuer.proof(nonce)), 400, "invalid_nonce")
    stale = issuer.nonce()
    issuer.clock.advance(minutes=4)
    token = issuer.access_token()
    issuer.clock.advance(minutes=1, seconds=1)
    expect_error(request_one(issuer, token, issuer.proof(stale)), 400, "invalid_nonce")


def test_proof_iss_is_the_client_id(issuer: Issuer) -> None:
    """F.1 / item 42: with a client_id the proof's iss, if present, must be it."""
    token = issuer.access_token(client_id="wallet-7")
    assert request_one(issuer, token, issuer.proof(claims={"iss": "wallet-7"})).status_code == 200
    assert request_one(issuer, token, issuer.proof()).status_code == 200  # iss is optional
    expect_error(request_one(issuer, token, issuer.proof(claims={"iss": "wallet-8"})), 400,
                 "invalid_proof")


def test_x5c_proof_key(issuer: Issuer) -> None:
    """F.1: the key may come as x5c (the leaf's key is bound; the chain is the holder's)."""
    key = new_key()
    root_key = new_key()
    root = pki.build_root(root_key, now=issuer.now)
    leaf = pki.build_leaf("verifier_request", key.public_key(), root_key=root_key,
                          root_cert=root, issuer=ISSUER, verifier_host="wallet.example",
                          now=issuer.now)
    proof = issuer.proof(key=key, header={"jwk": DROP, "x5c": [_b64(leaf)]})
    response = request_one(issuer, issuer.access_token(), proof)
    assert response.status_code == 200, response.get_json()
    (row,) = issued_rows(issuer)
    assert row.holder_jkt == jose.jwk_thumbprint(jose.public_jwk(key))


def test_the_same_key_twice_is_refused(issuer: Issuer) -> None:
    """§8.3: each key binds at most one credential; a duplicate is invalid_proof."""
    key, nonce = new_key(), issuer.nonce()
    body = {"credential_configuration_id": SD_JWT,
            "proofs": {"jwt": [issuer.proof(nonce, key=key), issuer.proof(nonce, key=key)]}}
    expect_error(issuer.credential(issuer.access_token(), body), 400, "invalid_proof")


def test_errors_are_never_encrypted(issuer: Issuer) -> None:
    """SPECS §8 item 50 (VCI-33): an error is plain JSON although encryption was asked for."""
    key = new_key()
    encryption = {"jwk": {**jose.public_jwk(key), "alg": "ECDH-ES", "kid": "k1"},
                  "enc": "A128GCM"}
    response = request_one(issuer, issuer.access_token(), issuer.proof(claims={"aud": "x"}),
                           credential_response_encryption=encryption)
    expect_error(response, 400, "invalid_proof")
    ok = request_one(issuer, issuer.access_token(), issuer.proof(),
                     credential_response_encryption=encryption)
    assert ok.status_code == 200 and ok.mimetype == "application/jwt"
    header, plaintext = jose.jwe_decrypt(ok.get_data(as_text=True),
                                         private_jwk=_private(key), algs=["ECDH-ES"],
                                         encs=["A128GCM"])
    assert header["kid"] == "k1" and "credentials" in json.loads(plaintext)


def _private(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    value = key.private_numbers().private_value.to_bytes(32, "big")
    return {**jose.public_jwk(key), "d": jose.b64url_encode(value)}


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


# --- key attestations (App. D; items 43-46) ---------------------------------------------------


class WalletProvider:
    """A wallet provider's root and attestation-signing leaf."""

    def __init__(self, now: datetime) -> None:
        self.root_key, self.key = new_key(), new_key()
        self.root = pki.build_root(self.root_key, now=now)
        leaf = pki.build_leaf("verifier_request", self.key.public_key(), root_key=self.root_key,
                              root_cert=self.root, issuer=ISSUER,
                              verifier_host="wallet-provider.example", now=now)
        self.x5c = [_b64(leaf)]

    def anchors(self) -> tuple[str, ...]:
        return (self.root.public_bytes(Encoding.PEM).decode(),)

    def attest(self, keys: list[Any], *, nonce: str, now: datetime, **claims: Any) -> str:
        payload = {"iat": int(now.timestamp()), "exp": int(now.timestamp()) + 3600,
                   "attested_keys": [jose.public_jwk(k) for k in keys], "nonce": nonce,
                   "key_storage": ["iso_18045_moderate"], **claims}
        header = {"typ": "key-attestation+jwt", "alg": "ES256", "x5c": self.x5c}
        return sign(header, {k: v for k, v in payload.items() if v is not DROP}, self.key)


@pytest.fixture
def provider(issuer: Issuer) -> WalletProvider:
    return WalletProvider(issuer.now - timedelta(days=1))


def test_jwt_proof_with_key_attestation(issuer: Issuer, provider: WalletProvider) -> None:
    """App. D / F.1: one credential per attested key; the proof is signed by one of them."""
    keys = [new_key(), new_key()]
    nonce = issuer.nonce()
    attestation = provider.attest(keys, nonce=nonce, now=issuer.now)
    proof = issuer.proof(nonce, key=keys[1],
                         header={"jwk": DROP, "kid": "1", "key_attestation": attestation})
    response = request_one(issuer, issuer.access_token(), proof)
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["credentials"]) == 2
    assert {r.holder_jkt for r in issued_rows(issuer)} == {
        jose.jwk_thumbprint(jose.public_jwk(k)) for k in keys}


def test_attestation_proof_type(make_issuer: Callable[..., Issuer]) -> None:
    """F.3 with a configured wallet-provider anchor: the chain must validate (VCI-30)."""
    issuer = make_issuer()
    provider = WalletProvider(issuer.now - timedelta(days=1))
    trusted = make_issuer(wallet_provider_anchors=provider.anchors(),
                          require_key_attestation=True)
    keys = [new_key() for _ in range(3)]
    token = trusted.access_token()
    attestation = provider.attest(keys, nonce=trusted.nonce(), now=trusted.now)
    response = trusted.credential(token, {"credential_configuration_id": SD_JWT,
                                          "proofs": {"attestation": [attestation]}})
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["credentials"]) == 3
    stranger = WalletProvider(trusted.now - timedelta(days=1))  # not an anchor
    forged = stranger.attest(keys, nonce=trusted.nonce(), now=trusted.now)
    expect_error(trusted.credential(trusted.access_token(), {
        "credential_configuration_id": SD_JWT, "proofs": {"attestation": [forged]}}),
        400, "invalid_proof")


ATTESTATION_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "item 43 expired": ({"exp": -10}, "invalid_proof"),
    "item 43 exp missing in a jwt proof": ({"exp": DROP}, "invalid_proof"),
    "iat missing": ({"iat": DROP}, "invalid_proof"),
    "no attested keys": ({"attested_keys": []}, "invalid_proof"),
    "nonce missing": ({"nonce": DROP}, "invalid_proof"),
    "item 44 nonce not a c_nonce": ({"nonce": "made-up"}, "invalid_nonce"),
}


@pytest.mark.parametrize("case", sorted(ATTESTATION_CASES))
def test_bad_key_attestations(issuer: Issuer, provider: WalletProvider, case: str) -> None:
    """SPECS §8 items 43-44 (App. D.1)."""
    changes, error = ATTESTATION_CASES[case]
    key, nonce = new_key(), issuer.nonce()
    if changes.get("exp") == -10:
        changes = {"exp": int(issuer.now.timestamp()) - 10}
    attestation = provider.attest([key], now=issuer.now, **{"nonce": nonce, **changes})
    proof = issuer.proof(nonce, key=key, header={"key_attestation": attestation})
    expect_error(request_one(issuer, issuer.access_token(), proof), 400, error)


def test_key_attestation_signature_and_binding(issuer: Issuer, provider: WalletProvider) -> None:
    """Item 43 (bad signature) and item 45 (the proof key is not attested)."""
    key, nonce = new_key(), issuer.nonce()
    good = provider.attest([key], nonce=nonce, now=issuer.now)
    head, body, signature = good.split(".")
    tampered = f"{head}.{body}.{signature[::-1]}"
    proof = issuer.proof(nonce, key=key, header={"key_attestation": tampered})
    expect_error(request_one(issuer, issuer.access_token(), proof), 400, "invalid_proof")
    outsider = new_key()
    proof = issuer.proof(nonce, key=outsider, header={"key_attestation": good})
    expect_error(request_one(issuer, issuer.access_token(), proof), 400, "invalid_proof")


def test_attestation_required_but_absent(make_issuer: Callable[..., Issuer]) -> None:
    """SPECS §8 item 45: a plain jwt proof while key attestations are required."""
    issuer = make_issuer(require_key_attestation=True)
    expect_error(request_one(issuer, issuer.access_token(), issuer.proof()), 400, "invalid_proof")


# --- concurrency and real HTTP ----------------------------------------------------------------


def test_c_nonce_consumed_once_under_concurrency(issuer: Issuer) -> None:
    """DESIGN §4 / VCI-29: two simultaneous requests with one c_nonce; exactly one wins."""
    nonce = issuer.nonce()
    tokens = [issuer.access_token(), issuer.access_token()]
    proofs = [issuer.proof(nonce), issuer.proof(nonce)]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run(i: int) -> None:
        client = issuer.app.test_client()
        barrier.wait()
        response = client.post("/credential", json={"credential_configuration_id": SD_JWT,
                                                    "proofs": {"jwt": [proofs[i]]}},
                               headers={"Authorization": f"Bearer {tokens[i]}"})
        results.append(response.status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400]
    with issuer.engine.connect() as conn:
        row = conn.execute(sqlalchemy.select(nonces).where(nonces.c.value == nonce)).one()
    assert row.used_at is not None and len(issued_rows(issuer)) == 1


def test_pre_authorized_flow_over_http(live_issuer: LiveIssuer) -> None:
    """Issue 3 deliverable 6: offer with PIN, token, nonce, credential over real HTTP; the
    credential verifies against the bundle the server publishes."""
    helper = Issuer(live_issuer.app, live_issuer.app.test_client(), Clock(),
                    live_issuer.app.extensions["duo"].engine)
    offer = helper.seed(tx_code="493536")
    key = new_key()
    url = live_issuer.url
    with requests.Session() as http:
        token = http.post(f"{url}/token", timeout=10, data={
            "grant_type": PRE_AUTH, "pre-authorized_code": offer.code, "tx_code": "493536"})
        assert token.status_code == 200, token.text
        nonce = http.post(f"{url}/nonce", timeout=10)
        assert nonce.headers["Cache-Control"] == "no-store"
        now = int(datetime.now(UTC).timestamp())
        proof = sign({"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": jose.public_jwk(key)},
                     {"aud": url, "iat": now, "nonce": nonce.json()["c_nonce"]}, key)
        response = http.post(
            f"{url}/credential", timeout=10,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            json={"credential_configuration_id": SD_JWT, "proofs": {"jwt": [proof]}},
        )
        assert response.status_code == 200, response.text
        bundle = http.get(f"{url}/.well-known/trust-bundle", timeout=10)
    trust = TrustStore.from_bundle(jose.parse_compact(bundle.text).payload)
    verdict = verify(response.json()["credentials"][0]["credential"], trust=trust,
                     now=datetime.now(UTC),
                     policy=Policy(require_holder_binding=False, nonce=None, audience=None))
    assert verdict.outcome == "valid", verdict.checks


# --- bad input never gets a 500 ---------------------------------------------------------------

CREDENTIAL_ERRORS = {
    "invalid_credential_request", "unknown_credential_configuration",
    "unknown_credential_identifier", "invalid_proof", "invalid_nonce",
    "invalid_encryption_parameters", "credential_request_denied", "insufficient_scope",
}
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
_bodies = st.fixed_dictionaries(
    {},
    optional={
        "credential_configuration_id": st.sampled_from([SD_JWT, "diploma_jwt_vc_json"]) | _json,
        "credential_identifier": _json,
        "proofs": st.dictionaries(st.sampled_from(["jwt", "attestation", "di_vp"]),
                                  st.lists(st.text(max_size=20) | _json, max_size=3),
                                  max_size=2) | _json,
        "credential_response_encryption": _json,
    },
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=_bodies)
def test_arbitrary_requests_get_a_spec_error(issuer: Issuer, body: dict[str, Any]) -> None:
    """VCI-33: any malformed request is 400/403 with one of §8.3.1.2's codes, never a 500."""
    token = issuer.access_token()
    response = issuer.credential(token, body)
    error = expect_error(response, response.status_code, response.get_json()["error"])
    assert response.status_code in (400, 403) and error["error"] in CREDENTIAL_ERRORS


def test_oversized_credential_request(issuer: Issuer) -> None:
    """Issue 3 bad input: a body over the cap is refused before it is read, not a 500."""
    response = issuer.client.post(
        "/credential", data=b"{" + b" " * (65 * 1024) + b"}", content_type="application/json",
        headers={"Authorization": f"Bearer {issuer.access_token()}"},
    )
    assert response.status_code == 413
