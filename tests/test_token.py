"""Token and Nonce Endpoints (OpenID4VCI 1.0 §6, §7) on both databases; SPECS §8 items 1-8,
13, 15-16, 56 and VCI-18, VCI-19, VCI-21..24.

The helpers here (an issuer on the Flask test client with a settable clock, a test wallet that
makes real ES256 proofs) are shared with test_credential_endpoint and
test_deferred_notification.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from issuer.app import create_app
from issuer.config import Settings
from issuer.db import offers, registry
from issuer.db.registry import Person, Record
from issuer.db.tables import access_tokens, nonces
from issuer.oid4vci import authorization_code
from issuer.oid4vci.par import AuthorizationRequest
from issuer.oid4vci.proof import PROOF_TYP
from keys.file_store import FileKeyStore, init_store
from schemas import loader
from verifier import jose

ISSUER = "https://issuer.duo.test"
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
FORM = "application/x-www-form-urlencoded"
DROP = object()  # a header or claim value that removes it


class Clock:
    """The issuer's clock; tests move it."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Offer:
    code: str
    person_id: str
    record_ids: list[str]
    tx_code: str | None


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def sign(header: dict[str, Any], payload: dict[str, Any], key: Any) -> str:
    return jose.sign_compact(header, payload, jose.private_key_signer(key, "ES256"))


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not DROP}


@dataclass
class Issuer:
    """An issuer app on the test client, with helpers that act as a wallet."""

    app: Flask
    client: FlaskClient
    clock: Clock
    engine: sqlalchemy.engine.Engine
    people: int = 0
    keys: list[ec.EllipticCurvePrivateKey] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.clock.moment

    def seed(
        self,
        types: tuple[str, ...] = ("diploma",),
        *,
        final: bool = True,
        tx_code: str | None = None,
        configuration_ids: list[str] | None = None,
    ) -> Offer:
        """A new person with one record per type and an offer of those configurations."""
        self.people += 1
        person = f"person-{self.people}"
        records = [
            Record(f"{person}-rec-{i}", person, t, loader.example_record(t), final)
            for i, t in enumerate(types)
        ]
        configs = configuration_ids or [f"{t}_sd_jwt" for t in dict.fromkeys(types)]
        with self.engine.begin() as conn:
            registry.insert_persons(
                conn, [Person(person, "Sanne", "van der Berg", "1998-03-14")], now=self.now
            )
            registry.insert_records(conn, records, now=self.now)
            _, code = offers.create_offer(
                conn, person_id=person, record_ids=[r.id for r in records],
                configuration_ids=configs, tx_code=tx_code, created_by="test", now=self.now,
                lifetime=timedelta(minutes=10),
            )
        return Offer(code, person, [r.id for r in records], tx_code)

    def token_request(self, dpop: str | None = None, **form: str) -> TestResponse:
        """POST /token with ``form``, and a DPoP header when ``dpop`` is given."""
        return self.client.post("/token", data=form, headers={"DPoP": dpop} if dpop else {})

    def token(self, offer: Offer, **form: str) -> dict[str, Any]:
        """A successful pre-authorized token response for ``offer``."""
        params = {"grant_type": PRE_AUTH, "pre-authorized_code": offer.code, **form}
        if offer.tx_code is not None:
            params.setdefault("tx_code", offer.tx_code)
        response = self.token_request(**params)
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def access_token(self, offer: Offer | None = None, **form: str) -> str:
        return str(self.token(offer or self.seed(), **form)["access_token"])

    def nonce(self) -> str:
        response = self.client.post("/nonce")
        assert response.status_code == 200
        return str(response.get_json()["c_nonce"])

    def proof(
        self,
        nonce: str | None = None,
        *,
        key: Any = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A ``jwt`` key proof (F.1), by a fresh key unless ``key`` is given."""
        if key is None:
            key = new_key()
            self.keys.append(key)
        base_header = {"typ": PROOF_TYP, "alg": "ES256", "jwk": jose.public_jwk(key)}
        base_claims = {"aud": ISSUER, "iat": int(self.now.timestamp()),
                       "nonce": self.nonce() if nonce is None else nonce}
        return sign(_merge(base_header, header or {}), _merge(base_claims, claims or {}), key)

    def credential(
        self, token: str, body: dict[str, Any], headers: dict[str, str] | None = None,
        path: str = "/credential",
    ) -> TestResponse:
        return self.client.post(
            path, data=json.dumps(body), content_type="application/json",
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
        )


def expect_error(response: TestResponse, status: int, error: str) -> dict[str, Any]:
    """An error answer: the status, the JSON ``error``, no-store, an ASCII description."""
    assert response.status_code == status, (response.status_code, response.get_data())
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert body["error"] == error, body
    assert response.headers["Cache-Control"] == "no-store"
    description = body.get("error_description", "")
    # OpenID4VCI §8.3.1.2: %x20-21 / %x23-5B / %x5D-7E
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description), description
    return body


@pytest.fixture(scope="session")
def issuer_keys(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    return init_store(
        tmp_path_factory.mktemp("issuer-keys"), issuer=ISSUER,
        verifier_host="verifier.duo.test", now=datetime.now(UTC),
    )


@pytest.fixture
def make_issuer(
    engine: sqlalchemy.engine.Engine, issuer_keys: FileKeyStore, tmp_path: Path
) -> Iterator[Callable[..., Issuer]]:
    """Issuer apps on the test database with the given settings."""

    def make(**options: Any) -> Issuer:
        settings = Settings(data_dir=tmp_path, public_url=ISSUER, **options)
        clock = Clock()
        app = create_app(settings, engine=engine, keys=issuer_keys, clock=clock)
        return Issuer(app, app.test_client(), clock, engine)

    yield make


@pytest.fixture
def issuer(make_issuer: Callable[..., Issuer]) -> Issuer:
    return make_issuer()


def dpop_proof(
    key: Any, *, url: str, nonce: str | None = None, access_token: str | None = None,
    iat: datetime,
) -> str:
    """An RFC 9449 §4.2 proof."""
    claims: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": "POST", "htu": url,
                              "iat": int(iat.timestamp())}
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = jose.b64url_encode(hashlib.sha256(access_token.encode()).digest())
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jose.public_jwk(key)}
    return sign(header, claims, key)


# --- the pre-authorized code grant ------------------------------------------------------------


def test_pre_authorized_token_response(issuer: Issuer) -> None:
    """§6.2: a Bearer token for five minutes, no-store; stored only as its SHA-256 (VCI-19)."""
    offer = issuer.seed()
    response = issuer.token_request(grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert "authorization_details" not in body and "c_nonce" not in body
    token = body["access_token"]
    assert len(token) >= 43  # 256 random bits
    with issuer.engine.connect() as conn:
        row = conn.execute(sqlalchemy.select(access_tokens)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.person_id == offer.person_id and row.dpop_jkt is None


def test_unknown_and_expired_codes_are_invalid_grant(issuer: Issuer) -> None:
    """SPECS §8 item 1."""
    expect_error(issuer.token_request(grant_type=PRE_AUTH, **{"pre-authorized_code": "nope"}),
                 400, "invalid_grant")
    offer = issuer.seed()
    issuer.clock.advance(minutes=11)
    expect_error(issuer.token_request(grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code}),
                 400, "invalid_grant")


def test_code_redeemed_twice_is_invalid_grant(issuer: Issuer) -> None:
    """SPECS §8 item 2 (VCI-3: single use)."""
    offer = issuer.seed()
    issuer.token(offer)
    expect_error(issuer.token_request(grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code}),
                 400, "invalid_grant")


def test_tx_code_missing_or_unexpected_is_invalid_request(issuer: Issuer) -> None:
    """SPECS §8 items 3 and 4 (VCI-21/22); neither burns the code."""
    with_pin = issuer.seed(tx_code="493536")
    expect_error(issuer.token_request(grant_type=PRE_AUTH,
                                      **{"pre-authorized_code": with_pin.code}),
                 400, "invalid_request")
    issuer.token(with_pin)  # still redeemable with its PIN
    without = issuer.seed()
    expect_error(issuer.token_request(grant_type=PRE_AUTH, tx_code="123456",
                                      **{"pre-authorized_code": without.code}),
                 400, "invalid_request")
    issuer.token(without)


def test_wrong_tx_code_and_lockout(issuer: Issuer) -> None:
    """SPECS §8 items 5 and 6: a wrong PIN is invalid_grant; after 5 the right one is too."""
    offer = issuer.seed(tx_code="493536")
    for _ in range(5):
        expect_error(issuer.token_request(grant_type=PRE_AUTH, tx_code="000000",
                                          **{"pre-authorized_code": offer.code}),
                     400, "invalid_grant")
    expect_error(issuer.token_request(grant_type=PRE_AUTH, tx_code="493536",
                                      **{"pre-authorized_code": offer.code}),
                 400, "invalid_grant")


def test_anonymous_access_refused_when_attestation_required(
    make_issuer: Callable[..., Issuer],
) -> None:
    """SPECS §8 item 7 (VCI-22): no client authentication while it is required."""
    issuer = make_issuer(require_wallet_attestation=True)
    offer = issuer.seed()
    expect_error(issuer.token_request(grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code}),
                 401, "invalid_client")


def test_tx_code_on_authorization_code_grant(issuer: Issuer) -> None:
    """SPECS §8 item 8: tx_code only with the pre-authorized grant."""
    response = issuer.token_request(grant_type="authorization_code", code="abc", tx_code="123456",
                                    client_id="wallet", code_verifier="x" * 43)
    expect_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),  # no grant_type
        ({"grant_type": PRE_AUTH}, "invalid_request"),  # VCI-21: no pre-authorized_code
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "client_id": "w"}, "invalid_request"),  # no code
        ({"grant_type": "authorization_code", "code": "c"}, "invalid_request"),  # no client_id
        ({"grant_type": "authorization_code", "code": "c", "client_id": "w",
          "redirect_uri": "https://w.example/cb", "code_verifier": "v" * 43}, "invalid_grant"),
    ],
)
def test_malformed_token_requests(issuer: Issuer, form: dict[str, str], error: str) -> None:
    """RFC 6749 §5.2 codes for requests that name no usable grant."""
    expect_error(issuer.token_request(**form), 400, error)


def test_token_request_must_be_a_form(issuer: Issuer) -> None:
    """RFC 6749 §4.1.3: form-urlencoded only; a repeated parameter is invalid_request (§3.2)."""
    offer = issuer.seed()
    params = {"grant_type": PRE_AUTH, "pre-authorized_code": offer.code}
    expect_error(issuer.client.post("/token", json=params), 400, "invalid_request")
    repeated = f"grant_type={PRE_AUTH}&pre-authorized_code={offer.code}&pre-authorized_code=x"
    expect_error(issuer.client.post("/token", data=repeated, content_type=FORM),
                 400, "invalid_request")
    issuer.token(offer)  # neither burned the code


def test_unknown_token_parameters_are_ignored(issuer: Issuer) -> None:
    """§6.1: the authorization server ignores unrecognized parameters."""
    issuer.token(issuer.seed(), colour="blue", scope="openid unknown_scope")


# --- authorization_details and credential_identifiers (§6.2) -----------------------------------


def _details(*configuration_ids: str, **extra: Any) -> str:
    return json.dumps([
        {"type": "openid_credential", "credential_configuration_id": c, **extra}
        for c in configuration_ids
    ])


def test_authorization_details_give_credential_identifiers(issuer: Issuer) -> None:
    """VCI-18: the token response returns the entries with non-empty credential_identifiers,
    one per record of the configuration's type."""
    offer = issuer.seed(("diploma", "diploma", "grade_list"),
                        configuration_ids=["diploma_sd_jwt", "grade_list_sd_jwt"])
    body = issuer.token(offer, authorization_details=_details("diploma_sd_jwt", locations=[ISSUER]))
    (entry,) = body["authorization_details"]
    assert entry["type"] == "openid_credential"
    assert entry["credential_configuration_id"] == "diploma_sd_jwt"
    identifiers = entry["credential_identifiers"]
    assert len(identifiers) == 2 and len(set(identifiers)) == 2


@pytest.mark.parametrize(
    "details",
    [
        _details("no_such_configuration"),  # SPECS §8 item 13
        _details("grade_list_sd_jwt"),  # known, but not offered (VCI-23: only what was offered)
        _details("diploma_sd_jwt", locations=["https://other.example"]),  # item 13 / VCI-16
        json.dumps([{"type": "something_else", "credential_configuration_id": "diploma_sd_jwt"}]),
        json.dumps([]),
        "not json",
    ],
)
def test_bad_authorization_details(issuer: Issuer, details: str) -> None:
    """RFC 9396 §5: invalid_authorization_details; the code is not burned by it."""
    offer = issuer.seed()
    response = issuer.token_request(grant_type=PRE_AUTH, authorization_details=details,
                                    **{"pre-authorized_code": offer.code})
    expect_error(response, 400, "invalid_authorization_details")
    issuer.token(offer)


def test_authorization_code_grant_returns_identifiers(issuer: Issuer) -> None:
    """§6.2 with authorization_details from the (pushed) authorization request; PKCE checked."""
    offer = issuer.seed()
    verifier = "v" * 43
    challenge = jose.b64url_encode(hashlib.sha256(verifier.encode()).digest())
    request = AuthorizationRequest(
        client_id="wallet-1", redirect_uri="https://wallet.example/cb", code_challenge=challenge,
        state=None, issuer_state=None, dpop_jkt=None, configuration_ids=("diploma_sd_jwt",),
        authorization_details=({"type": "openid_credential",
                                "credential_configuration_id": "diploma_sd_jwt"},),
    )
    grant = authorization_code.Grant(offer.person_id, tuple(offer.record_ids),
                                     ("diploma_sd_jwt",), request.authorization_details)
    with issuer.engine.begin() as conn:
        code = authorization_code.issue_authorization_code(
            conn, request=request, grant=grant, dpop_jkt=None, now=issuer.now
        )
    form = {"grant_type": "authorization_code", "code": code, "client_id": "wallet-1",
            "redirect_uri": "https://wallet.example/cb"}
    expect_error(issuer.token_request(**form, code_verifier="w" * 43), 400, "invalid_grant")
    response = issuer.token_request(**form, code_verifier=verifier)  # item 9 did not burn it
    assert response.status_code == 200, response.get_json()
    (entry,) = response.get_json()["authorization_details"]
    assert len(entry["credential_identifiers"]) == 1


# --- DPoP at the token endpoint ---------------------------------------------------------------


def test_dpop_binds_the_token(make_issuer: Callable[..., Issuer]) -> None:
    """RFC 9449 §5: token_type DPoP, bound to the key; VCI-19: a bound token may live longer."""
    issuer = make_issuer(access_token_lifetime=timedelta(hours=1))
    key = new_key()
    proof = dpop_proof(key, url=f"{ISSUER}/token", iat=issuer.now)
    offer = issuer.seed()
    response = issuer.token_request(
        proof, grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP" and body["expires_in"] == 3600
    assert response.headers.get("DPoP-Nonce")
    with issuer.engine.connect() as conn:
        row = conn.execute(sqlalchemy.select(access_tokens)).one()
    assert row.dpop_jkt == jose.jwk_thumbprint(jose.public_jwk(key))
    unbound = issuer.token(issuer.seed())  # VCI-19: without DPoP at most five minutes
    assert unbound["token_type"] == "Bearer" and unbound["expires_in"] == 300


def test_bad_dpop_proof_does_not_burn_the_code(issuer: Issuer) -> None:
    """SPECS §8 item 15: a bad DPoP proof is 400 invalid_dpop_proof; the code survives."""
    offer = issuer.seed()
    proof = dpop_proof(new_key(), url=f"{ISSUER}/credential", iat=issuer.now)  # wrong htu
    response = issuer.token_request(
        proof, grant_type=PRE_AUTH, **{"pre-authorized_code": offer.code}
    )
    expect_error(response, 400, "invalid_dpop_proof")
    issuer.token(offer)


def test_required_dpop_nonce_flow(make_issuer: Callable[..., Issuer]) -> None:
    """SPECS §8 item 16: without a server nonce, use_dpop_nonce and a DPoP-Nonce header."""
    issuer = make_issuer(require_dpop=True)
    offer = issuer.seed()
    key = new_key()
    form = {"grant_type": PRE_AUTH, "pre-authorized_code": offer.code}
    expect_error(issuer.token_request(**form), 400, "invalid_dpop_proof")  # no proof at all
    first = issuer.token_request(dpop_proof(key, url=f"{ISSUER}/token", iat=issuer.now), **form)
    expect_error(first, 400, "use_dpop_nonce")
    nonce = first.headers["DPoP-Nonce"]
    second = issuer.token_request(
        dpop_proof(key, url=f"{ISSUER}/token", iat=issuer.now, nonce=nonce), **form
    )
    assert second.status_code == 200 and second.get_json()["token_type"] == "DPoP"


# --- the Nonce Endpoint (§7) ------------------------------------------------------------------


def test_nonce_endpoint(issuer: Issuer) -> None:
    """VCI-24 and SPECS §8 item 56: unauthenticated POST, no-store, unpredictable, never
    repeated; stored as a c_nonce for the configured lifetime."""
    values = []
    for _ in range(20):
        response = issuer.client.post("/nonce")
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        assert "DPoP-Nonce" not in response.headers
        values.append(response.get_json()["c_nonce"])
    assert len(set(values)) == len(values)
    assert all(len(jose.b64url_decode(v)) == 32 for v in values)  # 256 bits
    with issuer.engine.connect() as conn:
        rows = conn.execute(sqlalchemy.select(nonces).where(nonces.c.kind == "c_nonce")).all()
    assert {r.value for r in rows} == set(values)
    assert all(r.used_at is None for r in rows)


def test_nonce_endpoint_sends_dpop_nonce_when_dpop_is_required(
    make_issuer: Callable[..., Issuer],
) -> None:
    """§7.2: the nonce response MAY carry a DPoP-Nonce (RFC 9449 §8.2)."""
    issuer = make_issuer(require_dpop=True)
    response = issuer.client.post("/nonce")
    assert response.status_code == 200 and response.headers["DPoP-Nonce"]
    assert issuer.client.get("/nonce").status_code == 405  # POST only
