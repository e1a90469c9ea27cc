"""Wallet (client) attestation: draft-ietf-oauth-attestation-based-client-auth, OpenID4VCI App. E,
HAIP 1.0 §4.4.1, SPECS VCI-20 and §8 items 17-18, on both databases.

``WalletProvider`` is a wallet provider's PKI made at run time (a root and an attestation signer
leaf) with a wallet instance key; it signs attestations and PoPs for the other tests too.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.datastructures import Headers

from issuer.config import ConfigError, Settings
from issuer.db import create_schema
from issuer.oid4vci.client_attestation import (
    ATTESTATION_HEADER,
    POP_HEADER,
    check_client_attestation,
)
from verifier import jose
from verifier.errors import ProtocolError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://issuer.duo.test"
CLIENT_ID = "wallet.example/instance"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, *, issuer: str,
    signer: ec.EllipticCurvePrivateKey, ca: bool, start: datetime,
) -> x509.Certificate:
    usage = x509.KeyUsage(
        digital_signature=not ca, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - timedelta(days=1))
        .not_valid_after(start + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if not ca or subject != issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def b64_der(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


@dataclass
class WalletProvider:
    """A wallet provider (root CA and attestation signer) and one wallet instance key."""

    start: datetime = NOW
    root_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: _new_key())
    leaf_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: _new_key())
    instance_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: _new_key())

    def __post_init__(self) -> None:
        root_name = "Wallet Provider Root (test)"
        self.root = _certificate(root_name, self.root_key, issuer=root_name,
                                 signer=self.root_key, ca=True, start=self.start)
        self.leaf = _certificate("Wallet Provider attestation signer (test)", self.leaf_key,
                                 issuer=root_name, signer=self.root_key, ca=False, start=self.start)
        self.x5c = [b64_der(self.leaf)]

    @property
    def anchors_pem(self) -> list[str]:
        return [self.root.public_bytes(serialization.Encoding.PEM).decode("ascii")]

    @property
    def instance_jwk(self) -> dict[str, Any]:
        return jose.public_jwk(self.instance_key)

    def attestation(
        self, *, sub: str = CLIENT_ID, now: datetime | None = None,
        header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (), signer: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        moment = int((now or self.start).timestamp())
        head = {"typ": "oauth-client-attestation+jwt", "alg": "ES256", "x5c": self.x5c,
                **(header or {})}
        payload: dict[str, Any] = {"iss": "https://wallet-provider.test", "sub": sub,
                                   "iat": moment, "exp": moment + 3600,
                                   "cnf": {"jwk": self.instance_jwk}, **(claims or {})}
        for name in drop:
            payload.pop(name, None)
        key = signer or self.leaf_key
        return jose.sign_compact(head, payload, jose.private_key_signer(key, "ES256"))

    def pop(
        self, *, aud: Any = ISSUER, now: datetime | None = None,
        header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (), signer: ec.EllipticCurvePrivateKey | None = None,
    ) -> str:
        head = {"typ": "oauth-client-attestation-pop+jwt", "alg": "ES256", **(header or {})}
        payload: dict[str, Any] = {"aud": aud, "jti": secrets.token_urlsafe(12),
                                   "iat": int((now or self.start).timestamp()), **(claims or {})}
        for name in drop:
            payload.pop(name, None)
        key = signer or self.instance_key
        return jose.sign_compact(head, payload, jose.private_key_signer(key, "ES256"))

    def headers(self, now: datetime | None = None, aud: str = ISSUER) -> dict[str, str]:
        """The two request headers of a valid attestation."""
        return {ATTESTATION_HEADER: self.attestation(now=now),
                POP_HEADER: self.pop(now=now, aud=aud)}


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def corrupt_signature(token: str) -> str:
    """The same JWS with one bit of its signature flipped."""
    head, body, signature = token.split(".")
    raw = bytearray(jose.b64url_decode(signature))
    raw[7] ^= 0x01
    return f"{head}.{body}.{jose.b64url_encode(bytes(raw))}"


@pytest.fixture(scope="module")
def provider() -> WalletProvider:
    return WalletProvider()


@pytest.fixture
def db(engine: sqlalchemy.engine.Engine) -> Iterator[sqlalchemy.engine.Engine]:
    create_schema(engine)
    yield engine


def run(
    db: sqlalchemy.engine.Engine,
    headers: dict[str, str] | list[tuple[str, str]],
    *,
    anchors: list[str],
    required: bool = False,
    now: datetime = NOW,
) -> str | None:
    with db.begin() as conn:
        return check_client_attestation(
            headers=Headers(headers), conn=conn, now=now, audience=ISSUER, required=required,
            anchors_pem=anchors,
        )


def refused(
    call: Callable[[], Any], code: str = "invalid_client", status: int = 401, why: str = ""
) -> None:
    """``call`` fails with ``code`` and ``status``, for the reason whose description has ``why``."""
    with pytest.raises(ProtocolError) as info:
        call()
    assert (info.value.code, info.value.status) == (code, status)
    assert why in info.value.detail


def test_a_valid_attestation_authenticates_its_sub(
    db: sqlalchemy.engine.Engine, provider: WalletProvider
) -> None:
    """VCI-20: x5c to a trusted wallet provider, PoP by the cnf key; the client_id is sub."""
    anchors = provider.anchors_pem
    assert run(db, provider.headers(), anchors=anchors, required=True) == CLIENT_ID
    pop_aud_list = {ATTESTATION_HEADER: provider.attestation(),
                    POP_HEADER: provider.pop(aud=[ISSUER])}
    assert run(db, pop_aud_list, anchors=anchors) == CLIENT_ID


# SPECS §8 item 17: the six conformance suite cases, one each, with the reason refused.
SUITE_REASONS = {
    "attestation-signature": "not signed by a trusted wallet provider",
    "pop-signature": "PoP is not signed by the cnf key",
    "exp-in-the-past": "exp is missing or has passed",
    "no-sub": "sub is missing",
    "pop-wrong-aud": "aud is not this issuer",
    "pop-key-not-cnf": "PoP is not signed by the cnf key",
}
SUITE_CASES: dict[str, Callable[[WalletProvider], dict[str, str]]] = {
    "attestation-signature": lambda p: {
        ATTESTATION_HEADER: p.attestation(signer=_new_key()), POP_HEADER: p.pop()},
    "pop-signature": lambda p: {
        ATTESTATION_HEADER: p.attestation(), POP_HEADER: corrupt_signature(p.pop())},
    "exp-in-the-past": lambda p: {
        ATTESTATION_HEADER: p.attestation(claims={"exp": int(NOW.timestamp()) - 3600}),
        POP_HEADER: p.pop()},
    "no-sub": lambda p: {ATTESTATION_HEADER: p.attestation(drop=("sub",)), POP_HEADER: p.pop()},
    "pop-wrong-aud": lambda p: {
        ATTESTATION_HEADER: p.attestation(), POP_HEADER: p.pop(aud="https://other.test")},
    "pop-key-not-cnf": lambda p: {
        ATTESTATION_HEADER: p.attestation(), POP_HEADER: p.pop(signer=_new_key())},
}


@pytest.mark.parametrize("case", list(SUITE_CASES))
def test_suite_negative_cases(
    db: sqlalchemy.engine.Engine, provider: WalletProvider, case: str
) -> None:
    """SPECS §8 item 17: bad attestation signature, bad PoP signature, exp in the past, no sub,
    PoP wrong aud, PoP key != cnf -> 401 invalid_client (required or not: sent means checked)."""
    headers, why = SUITE_CASES[case](provider), SUITE_REASONS[case]
    refused(lambda: run(db, headers, anchors=provider.anchors_pem, required=True), why=why)
    refused(lambda: run(db, headers, anchors=provider.anchors_pem, required=False), why=why)


def test_x5c_rules(db: sqlalchemy.engine.Engine, provider: WalletProvider) -> None:
    """VCI-20 (HAIP 1.0 §4.4.1): x5c chains to a configured anchor, the anchor is not in x5c,
    the leaf is not self-signed; an attestation without x5c is not trusted."""
    anchors = provider.anchors_pem
    self_key = _new_key()
    selfsigned = _certificate("self", self_key, issuer="self", signer=self_key, ca=False,
                              start=NOW)
    other = WalletProvider()
    cases: list[tuple[Any, ec.EllipticCurvePrivateKey | None]] = [
        ([*provider.x5c, b64_der(provider.root)], None),  # the trust anchor inside x5c
        ([b64_der(selfsigned)], self_key),  # a self-signed leaf
        (other.x5c, other.leaf_key),  # another wallet provider's chain
        ("nope", None),  # not an array of certificates
    ]
    for x5c, signer in cases:
        attestation = provider.attestation(header={"x5c": x5c}, signer=signer)
        refused(lambda a=attestation: run(  # type: ignore[misc]
            db, {ATTESTATION_HEADER: a, POP_HEADER: provider.pop()}, anchors=anchors),
            why="not signed by a trusted wallet provider")
    no_x5c = provider.attestation(header={"x5c": None})
    refused(lambda: run(db, {ATTESTATION_HEADER: no_x5c, POP_HEADER: provider.pop()},
                        anchors=anchors))


CLAIM_CASES: dict[str, str] = {  # case -> the reason it is refused
    "attestation-typ": "client attestation typ is wrong",
    "pop-typ": "PoP typ is wrong",
    "cnf-private": "cnf.jwk is not a public key",
    "no-cnf": "has no cnf.jwk",
    "no-exp": "exp is missing",
    "nbf-future": "not yet valid",
    "pop-no-jti": "jti is missing",
    "pop-old-iat": "iat is missing or outside",
    "pop-future-iat": "iat is missing or outside",
    "pop-no-iat": "iat is missing or outside",
    "pop-expired": "exp is missing or has passed",
    "pop-iss-other": "iss is not the client",
    "attestation-alg-es384": "not signed by a trusted wallet provider",
}


def _claim_case(p: WalletProvider, case: str) -> tuple[str, str]:
    moment = int(NOW.timestamp())
    secret = p.instance_key.private_numbers().private_value.to_bytes(32, "big")
    private = dict(p.instance_jwk, d=jose.b64url_encode(secret))
    builders: dict[str, Callable[[], tuple[str, str]]] = {
        "attestation-typ": lambda: (p.attestation(header={"typ": "JWT"}), p.pop()),
        "pop-typ": lambda: (p.attestation(), p.pop(header={"typ": "dpop+jwt"})),
        "cnf-private": lambda: (p.attestation(claims={"cnf": {"jwk": private}}), p.pop()),
        "no-cnf": lambda: (p.attestation(drop=("cnf",)), p.pop()),
        "no-exp": lambda: (p.attestation(drop=("exp",)), p.pop()),
        "nbf-future": lambda: (p.attestation(claims={"nbf": moment + 600}), p.pop()),
        "pop-no-jti": lambda: (p.attestation(), p.pop(drop=("jti",))),
        "pop-old-iat": lambda: (p.attestation(), p.pop(now=NOW - timedelta(minutes=10))),
        "pop-future-iat": lambda: (p.attestation(), p.pop(now=NOW + timedelta(minutes=5))),
        "pop-no-iat": lambda: (p.attestation(), p.pop(drop=("iat",))),
        "pop-expired": lambda: (p.attestation(), p.pop(claims={"exp": moment - 600})),
        "pop-iss-other": lambda: (p.attestation(), p.pop(claims={"iss": "someone-else"})),
        "attestation-alg-es384": lambda: (p.attestation(header={"alg": "ES384"}), p.pop()),
    }
    return builders[case]()


@pytest.mark.parametrize("case", list(CLAIM_CASES))
def test_claim_and_header_checks(
    db: sqlalchemy.engine.Engine, provider: WalletProvider, case: str
) -> None:
    """draft -10 §4, §5.1, §7.1-§7.2: typ of both JWTs, cnf.jwk a public key, exp, nbf, PoP
    jti and iat."""
    attestation, pop = _claim_case(provider, case)
    refused(lambda: run(db, {ATTESTATION_HEADER: attestation, POP_HEADER: pop},
                        anchors=provider.anchors_pem), why=CLAIM_CASES[case])


def test_pop_jti_is_single_use(db: sqlalchemy.engine.Engine, provider: WalletProvider) -> None:
    """draft -10 §11.1 (replay): a replayed PoP is refused; the attestation may be reused."""
    headers = provider.headers()
    assert run(db, headers, anchors=provider.anchors_pem) == CLIENT_ID
    refused(lambda: run(db, headers, anchors=provider.anchors_pem))
    again = {ATTESTATION_HEADER: headers[ATTESTATION_HEADER], POP_HEADER: provider.pop()}
    assert run(db, again, anchors=provider.anchors_pem) == CLIENT_ID


def test_header_presence_and_shape(db: sqlalchemy.engine.Engine, provider: WalletProvider) -> None:
    """Both headers or neither; each at most once and a JWT (else 400 invalid_request)."""
    anchors, headers = provider.anchors_pem, provider.headers()
    assert run(db, {}, anchors=anchors) is None
    refused(lambda: run(db, {}, anchors=anchors, required=True))  # HAIP 1.0 §4.4.1 (H-2)
    refused(lambda: run(db, {ATTESTATION_HEADER: headers[ATTESTATION_HEADER]}, anchors=anchors))
    refused(lambda: run(db, {POP_HEADER: headers[POP_HEADER]}, anchors=anchors))
    twice = [(ATTESTATION_HEADER, headers[ATTESTATION_HEADER])] * 2 + [
        (POP_HEADER, headers[POP_HEADER])]
    refused(lambda: run(db, twice, anchors=anchors), "invalid_request", 400)
    for bad in ["not-a-jwt", "a.b.c", "x" * 20000]:
        refused(lambda b=bad: run(db, {ATTESTATION_HEADER: b,  # type: ignore[misc]
                                       POP_HEADER: headers[POP_HEADER]}, anchors=anchors),
                "invalid_request", 400)


def test_without_anchors(db: sqlalchemy.engine.Engine, provider: WalletProvider) -> None:
    """No wallet provider configured: nothing can be trusted. Required -> invalid_client;
    not required -> the headers are ignored and the client stays unauthenticated (None)."""
    refused(lambda: run(db, provider.headers(), anchors=[], required=True))
    assert run(db, provider.headers(), anchors=[], required=False) is None


def test_expired_provider_certificate(db: sqlalchemy.engine.Engine) -> None:
    """RFC 5280 §6 at ``now``: an attestation signer certificate that has expired is refused."""
    old = WalletProvider(start=NOW - timedelta(days=800))
    headers = {ATTESTATION_HEADER: old.attestation(now=NOW), POP_HEADER: old.pop(now=NOW)}
    refused(lambda: run(db, headers, anchors=old.anchors_pem))


def test_settings_read_the_anchor_file(tmp_path: Path, provider: WalletProvider) -> None:
    """DUO_WALLET_PROVIDER_ANCHORS names a PEM file; required attestation needs it."""
    pem = tmp_path / "wallet-providers.pem"
    pem.write_text(provider.anchors_pem[0], encoding="ascii")
    settings = Settings.from_env(
        {"DUO_WALLET_PROVIDER_ANCHORS": str(pem), "DUO_REQUIRE_WALLET_ATTESTATION": "true"},
        data_dir=str(tmp_path),
    )
    assert settings.wallet_provider_anchors == (provider.anchors_pem[0],)
    assert Settings.from_env({}, data_dir=str(tmp_path)).wallet_provider_anchors == ()
    (tmp_path / "junk.pem").write_text("not a certificate", encoding="ascii")
    for env in [{"DUO_REQUIRE_WALLET_ATTESTATION": "true"},
                {"DUO_WALLET_PROVIDER_ANCHORS": str(tmp_path / "missing.pem")},
                {"DUO_WALLET_PROVIDER_ANCHORS": str(tmp_path / "junk.pem")}]:
        with pytest.raises(ConfigError):
            Settings.from_env(env, data_dir=str(tmp_path))
