"""DPoP proofs (RFC 9449 §4.3, §7-§9, §11.1) as issuer.oid4vci.dpop checks them, on both databases.

``DpopKey`` is the wallet side used by the other authorization tests too: a P-256 key that makes
proofs with real signatures, any claim changeable so each check can be shown to reject.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Headers

from issuer.db import create_schema
from issuer.db.nonces import new_nonce, remember_once
from issuer.oid4vci.dpop import (
    UseDpopNonce,
    check_dpop,
    check_token_binding,
    htu_form,
    new_dpop_nonce,
)
from verifier import jose, strict_json
from verifier.errors import ProtocolError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN_URL = "https://issuer.duo.test/token"
CREDENTIAL_URL = "https://issuer.duo.test/credential"


class DpopKey:
    """A wallet's DPoP key (RFC 9449 §4.2)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = jose.public_jwk(self.key)
        self.jkt = jose.jwk_thumbprint(self.jwk)

    def proof(
        self,
        htu: str = TOKEN_URL,
        *,
        htm: str = "POST",
        now: datetime = NOW,
        nonce: str | None = None,
        access_token: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        head: dict[str, Any] = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk}
        head.update(header or {})
        payload: dict[str, Any] = {
            "jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(now.timestamp()),
        }
        if nonce is not None:
            payload["nonce"] = nonce
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            payload["ath"] = jose.b64url_encode(digest)
        payload.update(claims or {})
        for name in drop:
            head.pop(name, None)
            payload.pop(name, None)
        return jose.sign_compact(head, payload, jose.private_key_signer(self.key, "ES256"))


@pytest.fixture
def db(engine: sqlalchemy.engine.Engine) -> Iterator[sqlalchemy.engine.Engine]:
    create_schema(engine)
    yield engine


def run(
    db: sqlalchemy.engine.Engine,
    *proofs: str,
    url: str = TOKEN_URL,
    method: str = "POST",
    now: datetime = NOW,
    access_token: str | None = None,
    required: bool = False,
) -> str | None:
    """check_dpop inside one request transaction, as the endpoints call it."""
    headers = Headers([("DPoP", p) for p in proofs])
    with db.begin() as conn:
        return check_dpop(method=method, url=url, headers=headers, conn=conn, now=now,
                          access_token=access_token, required=required)


def refused(call: Callable[[], Any], code: str, status: int) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        call()
    assert (info.value.code, info.value.status) == (code, status)
    return info.value


def fresh_nonce(db: sqlalchemy.engine.Engine, now: datetime = NOW) -> str:
    with db.begin() as conn:
        return new_dpop_nonce(conn, now=now)


def test_a_valid_proof_gives_its_key_thumbprint(db: sqlalchemy.engine.Engine) -> None:
    """RFC 9449 §4.3 and §6.1: the jkt is the RFC 7638 thumbprint of the proof's jwk."""
    key = DpopKey()
    assert run(db, key.proof()) == key.jkt


def test_no_proof_is_fine_unless_required(db: sqlalchemy.engine.Engine) -> None:
    """HAIP 1.0 §4 (VCI-15): DPoP mandatory when configured."""
    assert run(db) is None
    refused(lambda: run(db, required=True), "invalid_dpop_proof", 400)
    error = refused(lambda: run(db, required=True, access_token="t"), "invalid_dpop_proof", 401)
    assert error.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_exactly_one_dpop_header(db: sqlalchemy.engine.Engine) -> None:
    """§4.3 step 1: more than one DPoP header is refused."""
    key = DpopKey()
    refused(lambda: run(db, key.proof(), key.proof()), "invalid_dpop_proof", 400)


def _corrupt_signature(proof: str) -> str:
    head, body, signature = proof.split(".")
    raw = bytearray(jose.b64url_decode(signature))
    raw[5] ^= 0x01
    return f"{head}.{body}.{jose.b64url_encode(bytes(raw))}"


def test_bad_signature_is_refused(db: sqlalchemy.engine.Engine) -> None:
    """SPECS §8 item 15 (signature): 400 invalid_dpop_proof at the token endpoint."""
    refused(lambda: run(db, _corrupt_signature(DpopKey().proof())), "invalid_dpop_proof", 400)


def test_signature_by_another_key_than_the_jwk(db: sqlalchemy.engine.Engine) -> None:
    """§4.3 step 6: the signature verifies with the jwk in the header, not any key."""
    proof = DpopKey().proof(header={"jwk": DpopKey().jwk})
    refused(lambda: run(db, proof), "invalid_dpop_proof", 400)


@pytest.mark.parametrize(
    ("header", "drop"),
    [({"typ": "JWT"}, ()), ({}, ("typ",)), ({"alg": "ES384"}, ()), ({}, ("jwk",)),
     ({"jwk": "not an object"}, ())],
    ids=["typ-jwt", "no-typ", "alg-not-es256", "no-jwk", "jwk-not-object"],
)
def test_header_checks(
    db: sqlalchemy.engine.Engine, header: dict[str, Any], drop: tuple[str, ...]
) -> None:
    """§4.3 steps 4-6: typ dpop+jwt, a supported asymmetric alg (ES256, HAIP §7), the jwk."""
    refused(lambda: run(db, DpopKey().proof(header=header, drop=drop)), "invalid_dpop_proof", 400)


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_alg_none_and_mac_are_refused(db: sqlalchemy.engine.Engine, alg: str) -> None:
    """§4.3 step 5: never none, never a MAC; the signature is not even looked at."""
    key = DpopKey()
    head = jose.b64url_encode(
        f'{{"typ":"dpop+jwt","alg":"{alg}","jwk":{strict_json.dumps(key.jwk)}}}'.encode()
    )
    body = key.proof().split(".")[1]
    refused(lambda: run(db, f"{head}.{body}.c2ln"), "invalid_dpop_proof", 400)


def test_private_key_in_jwk_is_refused(db: sqlalchemy.engine.Engine) -> None:
    """§4.3 step 7: the jwk must not contain a private key."""
    key = DpopKey()
    private = jose.b64url_encode(key.key.private_numbers().private_value.to_bytes(32, "big"))
    refused(lambda: run(db, key.proof(header={"jwk": {**key.jwk, "d": private}})),
            "invalid_dpop_proof", 400)


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_required_claims(db: sqlalchemy.engine.Engine, claim: str) -> None:
    """§4.3 step 3: jti, htm, htu and iat are required."""
    refused(lambda: run(db, DpopKey().proof(drop=(claim,))), "invalid_dpop_proof", 400)


def test_htm_must_match(db: sqlalchemy.engine.Engine) -> None:
    """SPECS §8 item 15 (htm): §4.3 step 8."""
    refused(lambda: run(db, DpopKey().proof(htm="GET")), "invalid_dpop_proof", 400)


@pytest.mark.parametrize(
    "htu", ["https://issuer.duo.test/par", "https://other.duo.test/token",
            "http://issuer.duo.test/token", "https://issuer.duo.test:8443/token",
            "https://user@issuer.duo.test/token", "not a uri"],
)
def test_htu_must_match(db: sqlalchemy.engine.Engine, htu: str) -> None:
    """SPECS §8 item 15 (htu): §4.3 step 9."""
    refused(lambda: run(db, DpopKey().proof(htu)), "invalid_dpop_proof", 400)


@pytest.mark.parametrize(
    "htu", ["https://issuer.duo.test/token?x=1", "https://issuer.duo.test/token#f",
            "HTTPS://ISSUER.duo.test/token", "https://issuer.duo.test:443/token"],
)
def test_htu_ignores_query_fragment_and_normalizes(db: sqlalchemy.engine.Engine, htu: str) -> None:
    """§4.3 step 9: compared without query and fragment, after RFC 3986 §6.2.2-3 normalization."""
    key = DpopKey()
    assert run(db, key.proof(htu)) == key.jkt


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=2)])
def test_iat_window(db: sqlalchemy.engine.Engine, offset: timedelta) -> None:
    """§4.3 step 11, §11.1: a proof older than 5 minutes or from the future is refused."""
    refused(lambda: run(db, DpopKey().proof(now=NOW + offset)), "invalid_dpop_proof", 400)
    key = DpopKey()
    assert run(db, key.proof(now=NOW - timedelta(minutes=4))) == key.jkt


def test_iat_must_be_a_number(db: sqlalchemy.engine.Engine) -> None:
    refused(lambda: run(db, DpopKey().proof(claims={"iat": True})), "invalid_dpop_proof", 400)


def test_replayed_jti_is_refused(db: sqlalchemy.engine.Engine) -> None:
    """SPECS §8 item 15 (reused jti): §11.1, the same proof twice."""
    proof = DpopKey().proof()
    run(db, proof)
    refused(lambda: run(db, proof), "invalid_dpop_proof", 400)


def test_malformed_proofs(db: sqlalchemy.engine.Engine) -> None:
    for text in ["not-a-jws", "a.b.c", "x" * 9000]:
        refused(lambda text=text: run(db, text), "invalid_dpop_proof", 400)  # type: ignore[misc]


def test_nonce_required_gets_use_dpop_nonce_then_succeeds(db: sqlalchemy.engine.Engine) -> None:
    """SPECS §8 item 16: no nonce where one is required -> 400 use_dpop_nonce + DPoP-Nonce (§8)."""
    key = DpopKey()
    error = refused(lambda: run(db, key.proof(), required=True), "use_dpop_nonce", 400)
    nonce = error.headers["DPoP-Nonce"]  # minted now, after the request's transaction ended
    assert nonce and "WWW-Authenticate" not in error.headers
    assert run(db, key.proof(nonce=nonce), required=True) == key.jkt
    again = refused(lambda: run(db, key.proof(nonce=nonce), required=True), "use_dpop_nonce", 400)
    assert again.headers["DPoP-Nonce"] != nonce  # single use: a new one is handed out


def test_nonce_at_a_resource_is_401_with_challenge(db: sqlalchemy.engine.Engine) -> None:
    """SPECS §8 item 16 at the resource: 401 and WWW-Authenticate DPoP error=use_dpop_nonce (§9)."""
    key = DpopKey()
    proof = key.proof(CREDENTIAL_URL, access_token="tok")
    error = refused(lambda: run(db, proof, url=CREDENTIAL_URL, access_token="tok", required=True),
                    "use_dpop_nonce", 401)
    assert error.headers["WWW-Authenticate"].startswith('DPoP error="use_dpop_nonce"')
    proof = key.proof(CREDENTIAL_URL, access_token="tok", nonce=error.headers["DPoP-Nonce"])
    assert run(db, proof, url=CREDENTIAL_URL, access_token="tok", required=True) == key.jkt


def test_stale_unknown_or_foreign_nonces(db: sqlalchemy.engine.Engine) -> None:
    """§8: only a live nonce of ours counts; a sent nonce is checked even when not required."""
    key = DpopKey()
    stale = fresh_nonce(db, NOW - timedelta(minutes=10))
    with db.begin() as conn:
        c_nonce = new_nonce(conn, "c_nonce", now=NOW, lifetime=timedelta(minutes=5))
    for nonce in [stale, "made-up-nonce", c_nonce]:
        refused(lambda n=nonce: run(db, key.proof(nonce=n), required=True),  # type: ignore[misc]
                "use_dpop_nonce", 400)
        refused(lambda n=nonce: run(db, key.proof(nonce=n)), "use_dpop_nonce", 400)  # type: ignore[misc]
    refused(lambda: run(db, key.proof(claims={"nonce": 7})), "invalid_dpop_proof", 400)


def test_nonce_error_survives_a_rolled_back_request(db: sqlalchemy.engine.Engine) -> None:
    """The DPoP-Nonce of use_dpop_nonce is stored although the request that failed is rolled
    back, also after that request already wrote (on SQLite: while it held the write lock)."""
    key = DpopKey()
    with pytest.raises(UseDpopNonce) as info, db.begin() as conn:
        remember_once(conn, "attest_jti", "written-first", now=NOW, lifetime=timedelta(minutes=1))
        check_dpop(method="POST", url=TOKEN_URL, headers=Headers([("DPoP", key.proof())]),
                   conn=conn, now=NOW, access_token=None, required=True)
    nonce = info.value.headers["DPoP-Nonce"]
    assert info.value.headers["DPoP-Nonce"] == nonce  # minted once
    assert run(db, key.proof(nonce=nonce), required=True) == key.jkt


def test_ath_binds_the_proof_to_the_access_token(db: sqlalchemy.engine.Engine) -> None:
    """SPECS §8 item 22 (wrong ath): §4.3 step 12 -> 401 invalid_dpop_proof at the resource."""
    key = DpopKey()
    ok = key.proof(CREDENTIAL_URL, access_token="token-a")
    assert run(db, ok, url=CREDENTIAL_URL, access_token="token-a") == key.jkt
    for proof in [key.proof(CREDENTIAL_URL, access_token="token-b"), key.proof(CREDENTIAL_URL)]:
        error = refused(lambda p=proof: run(db, p, url=CREDENTIAL_URL,  # type: ignore[misc]
                                            access_token="token-a"), "invalid_dpop_proof", 401)
        assert error.headers["WWW-Authenticate"].startswith("DPoP ")


def test_token_binding_at_a_resource() -> None:
    """SPECS §8 items 22-23: RFC 9449 §7.1-§7.2."""
    a, b = DpopKey(), DpopKey()
    check_token_binding(scheme="DPoP", token_jkt=a.jkt, proof_jkt=a.jkt)
    check_token_binding(scheme="dpop", token_jkt=a.jkt, proof_jkt=a.jkt)  # case-insensitive
    check_token_binding(scheme="Bearer", token_jkt=None, proof_jkt=None)
    # Item 22: a DPoP-bound token sent as Bearer.
    error = refused(lambda: check_token_binding(scheme="Bearer", token_jkt=a.jkt, proof_jkt=a.jkt),
                    "invalid_token", 401)
    assert error.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')
    # Item 22: a DPoP-bound token without a proof.
    refused(lambda: check_token_binding(scheme="DPoP", token_jkt=a.jkt, proof_jkt=None),
            "invalid_dpop_proof", 401)
    # Item 23: client A's key with client B's token.
    refused(lambda: check_token_binding(scheme="DPoP", token_jkt=b.jkt, proof_jkt=a.jkt),
            "invalid_token", 401)
    # An unbound token presented with the DPoP scheme.
    refused(lambda: check_token_binding(scheme="DPoP", token_jkt=None, proof_jkt=a.jkt),
            "invalid_token", 401)


def test_htu_form() -> None:
    assert htu_form("https://Issuer.Example:443/a?b#c") == "https://issuer.example/a"
    assert htu_form("http://127.0.0.1:8080") == "http://127.0.0.1:8080/"
    assert htu_form("http://[::1]:80/x") == "http://[::1]/x"
    for bad in [None, 7, "ftp://x/y", "https:///path", "https://u:p@h/x", "https://h:99999/"]:
        assert htu_form(bad) is None


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_htu_other_paths_never_match(path: str) -> None:
    """§4.3 step 9: a different path never normalizes to the token endpoint's."""
    url = f"https://issuer.duo.test/{path}"
    form = htu_form(url)
    if form is not None and path.split("?")[0].split("#")[0] != "token":
        assert form != htu_form(TOKEN_URL)
