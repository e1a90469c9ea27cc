"""Shared fixtures for the verdict-level tests: one development PKI, a holder, a trust bundle.

The ``duo`` fixture (session scope: made once, never mutated by a test) is a key store from
``keys.file_store.init_store`` at the fixed time ``NOW``, a Token Status List in an SQLite database
(issuer.db.status) with one valid, one revoked and one suspended index, a holder key, and the trust
bundle exported from them.
Its methods sign with the real keys, so a test that tampers with a credential and re-signs it
proves that the *check* rejects it, not the signature. ``expect`` asserts a verdict's outcome and
the one check that failed (or was undetermined) with its stable code.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from issuer.credentials.signing import sign_sd_jwt_vc, sign_vcdm, vct_integrity
from issuer.db import create_schema, make_engine, status
from issuer.status_lists import Lifetimes
from issuer.trust_bundle import database_bundle
from keys import pki
from keys.file_store import FileKeyStore, init_store
from keys.store import Purpose
from schemas import loader
from verifier import jose
from verifier.cli.wallet import make_presentation
from verifier.disclosure import Disclosure, object_disclosure
from verifier.policy import Policy
from verifier.token_status_list import StatusReference
from verifier.trust import TrustStore
from verifier.verdict import Check, Verdict
from verifier.verify import verify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://issuer.duo.test"
VERIFIER_HOST = "verifier.duo.test"
NONCE = "n-0S6_WzA2Mj-fixed-test-nonce"
#: OpenID4VP 1.0 §5.9: the full client_id, prefix included (SPECS item 76).
AUDIENCE = "x509_san_dns:verifier.duo.test"
VCT = f"{ISSUER}/vct/diploma"
#: The published status list's ttl and exp (TSL §5.1) in the ``duo`` bundle.
LIFETIMES = Lifetimes(ttl=timedelta(hours=12), lifetime=timedelta(days=7))

Mutator = Callable[[dict[str, Any], dict[str, Any]], None]


def salt_source() -> Callable[[], bytes]:
    """Distinct 16-byte salts, deterministic per call of this function."""
    counter = iter(range(1, 1 << 30))
    return lambda: next(counter).to_bytes(16, "big")


def b64_der(cert: x509.Certificate) -> str:
    """An ``x5c`` entry: standard base64 of DER (RFC 7515 §4.1.6)."""
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def raw_disclosure(*elements: Any) -> str:
    """A Disclosure string of any shape, built by hand (the issuance code refuses bad ones)."""
    return jose.b64url_encode(json.dumps(list(elements)).encode("utf-8"))


def failing(verdict: Verdict) -> Check:
    """The one check that failed or was undetermined."""
    bad = [c for c in verdict.checks if c.outcome in {"failed", "undetermined"}]
    assert len(bad) == 1, verdict.checks
    return bad[0]


def check_of(verdict: Verdict, name: str) -> Check:
    found = [c for c in verdict.checks if c.name == name]
    assert len(found) == 1, (name, verdict.checks)
    return found[0]


def expect(verdict: Verdict, outcome: str, check: str, code: str) -> None:
    """``verdict`` has ``outcome`` because check ``check`` ended with ``code``.

    An invalid verdict carries no claims and its failing check is the last one listed (checks
    that never ran are not listed); an undetermined one keeps the verified claims.
    """
    assert verdict.outcome == outcome, verdict.checks
    bad = failing(verdict)
    assert (bad.name, bad.code) == (check, code), verdict.checks
    if outcome == "invalid":
        assert bad.outcome == "failed"
        assert dict(verdict.claims) == {}
        assert verdict.checks[-1] == bad
    else:
        assert bad.outcome == "undetermined"
        assert verdict.claims


def expect_valid(verdict: Verdict) -> None:
    assert verdict.outcome == "valid", verdict.checks
    assert not any(c.outcome in {"failed", "undetermined"} for c in verdict.checks)
    assert verdict.claims


def policy(**changes: Any) -> Policy:
    """Holder binding not required; the transaction's nonce and audience known."""
    base = Policy(require_holder_binding=False, nonce=NONCE, audience=AUDIENCE)
    return replace(base, **changes)


BOUND = Policy(require_holder_binding=True, nonce=NONCE, audience=AUDIENCE)


@dataclass(frozen=True, repr=False)
class Duo:
    """DUO's development PKI and what it published; see the module docstring."""

    keys: FileKeyStore
    registry: status.StatusList  # the Token Status List of ``refs`` (its ``uri``)
    holder: ec.EllipticCurvePrivateKey
    bundle: Mapping[str, Any]
    trust: TrustStore
    refs: Mapping[str, StatusReference]

    def __repr__(self) -> str:  # the bundle is large; hypothesis prints fixture arguments
        return f"Duo(issuer={ISSUER!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    @property
    def holder_jwk(self) -> dict[str, Any]:
        return jose.public_jwk(self.holder)

    def bundle_copy(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.bundle))

    def issue(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        status: str | StatusReference | None = None,
        bound: bool = True,
        now: datetime = NOW,
        keys: FileKeyStore | None = None,
    ) -> str:
        """A diploma SD-JWT VC from the real issuer key; ``status`` names one of ``refs``."""
        reference = self.refs[status] if isinstance(status, str) else status
        return sign_sd_jwt_vc(
            "diploma",
            loader.example_claims("diploma") if claims is None else claims,
            keys=keys or self.keys,
            issuer=ISSUER,
            holder_jwk=self.holder_jwk if bound else None,
            status=reference,
            now=now,
        )

    def issue_vcdm(self, fmt: str, *, bound: bool = False, now: datetime = NOW) -> str:
        """A diploma as ``vc+jwt`` or ``jwt_vc_json`` from the issuer's own signing code."""
        claims = loader.example_claims("diploma")
        holder = self.holder_jwk if bound else None
        return sign_vcdm(
            fmt, "diploma", claims, keys=self.keys, issuer=ISSUER, holder_jwk=holder, now=now
        )

    def present(
        self,
        credential: str,
        *,
        paths: Iterable[str] = ("given_name", "family_name", "institution.name"),
        nonce: str = NONCE,
        aud: str = AUDIENCE,
        iat: int | None = None,
        key: Any = None,
    ) -> str:
        """An SD-JWT+KB from the wallet's own code (verifier.cli.wallet)."""
        return make_presentation(
            credential,
            key=key or self.holder,
            paths=list(paths),
            nonce=nonce,
            aud=aud,
            iat=int(NOW.timestamp()) if iat is None else iat,
        )

    def sign(
        self, header: dict[str, Any], payload: dict[str, Any], purpose: Purpose = "issuer"
    ) -> str:
        """A compact JWS signed with the current key for ``purpose``."""
        return jose.sign_compact(header, payload, self.keys.signing_key(purpose).sign)

    def header(self, purpose: Purpose = "issuer", typ: str = "dc+sd-jwt") -> dict[str, Any]:
        record = self.keys.signing_key(purpose).record
        return {"alg": record.alg, "typ": typ, "kid": record.kid, "x5c": list(record.x5c)}

    def resign(self, text: str, mutate: Mutator, purpose: Purpose = "issuer") -> str:
        """Change the first JWS of ``text`` (header, payload) and sign it again for real."""
        first, sep, rest = text.partition("~")
        jws = jose.parse_compact(first)
        header, payload = copy.deepcopy(jws.header), copy.deepcopy(jws.payload)
        mutate(header, payload)
        return self.sign(header, payload, purpose) + sep + rest

    def registered_claims(self, *, bound: bool = True) -> dict[str, Any]:
        """The claims DUO's issuer puts in every SD-JWT VC, never selectively disclosable."""
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "iat": int(NOW.timestamp()),
            "vct": VCT,
            "vct#integrity": vct_integrity("diploma", ISSUER),
        }
        if bound:
            claims["cnf"] = {"jwk": self.holder_jwk}
        return claims

    def sd_jwt(
        self,
        payload: dict[str, Any],
        disclosures: Iterable[str | Disclosure],
        header: dict[str, Any] | None = None,
    ) -> str:
        """``<issuer JWT>~<D1>~...~`` with the given payload, signed by the real issuer key."""
        token = self.sign(header or self.header(), payload)
        raws = [d.raw if isinstance(d, Disclosure) else d for d in disclosures]
        return "".join([token, "~", *(f"{d}~" for d in raws)])

    def disclose(self, name: str, value: Any, salt: str = "c2FsdC0wMDAwMDAwMDAwMDA") -> Disclosure:
        return object_disclosure(salt, name, value)

    def with_status_list(self, token: str | None) -> TrustStore:
        """The bundle's trust store whose only status-list snapshot is ``token`` (or none)."""
        lists = {} if token is None else {self.registry.uri: token}
        return replace(self.trust, status_lists=lists)

    def status_token(self) -> str:
        return self.bundle["status_lists"][self.registry.uri]  # type: ignore[no-any-return]

    def verify(
        self,
        text: str,
        pol: Policy | None = None,
        *,
        trust: TrustStore | None = None,
        now: datetime = NOW,
    ) -> Verdict:
        return verify(text, trust=trust or self.trust, policy=pol or policy(), now=now)


def make_store(directory: Any, now: datetime = NOW) -> FileKeyStore:
    return init_store(directory, issuer=ISSUER, verifier_host=VERIFIER_HOST, now=now)


@pytest.fixture(scope="session")
def duo(tmp_path_factory: pytest.TempPathFactory) -> Duo:
    data = tmp_path_factory.mktemp("duo")
    keys = make_store(data)
    db = make_engine(f"sqlite:///{data / 'duo.sqlite3'}")
    try:
        create_schema(db)
        with db.begin() as conn:
            made = {
                name: status.allocate(conn, "tsl", now=NOW, issuer=ISSUER)
                for name in ("valid", "revoked", "suspended")
            }
            for name, value in (("revoked", status.REVOKED), ("suspended", status.SUSPENDED)):
                status.set_value(conn, made[name].list_id, made[name].idx, value, now=NOW)
            registry = status.get_list(conn, made["valid"].list_id)
            bundle = database_bundle(conn, keys, issuer=ISSUER, lifetimes=LIFETIMES, now=NOW)
    finally:
        db.dispose()
    assert registry is not None and len({a.list_id for a in made.values()}) == 1
    refs = {name: status.status_reference(allocation) for name, allocation in made.items()}
    holder = ec.generate_private_key(ec.SECP256R1())
    return Duo(keys, registry, holder, bundle, TrustStore.from_bundle(bundle), refs)


@dataclass(frozen=True)
class ForeignPki:
    """A root and issuer leaf that are not DUO's, for the same issuer name."""

    root: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey
    x5c: list[str]

    def header(self) -> dict[str, Any]:
        return {"alg": "ES256", "typ": "dc+sd-jwt", "x5c": list(self.x5c)}

    def sign(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        return jose.sign_compact(header, payload, jose.private_key_signer(self.leaf_key, "ES256"))


@pytest.fixture(scope="session")
def foreign() -> ForeignPki:
    root_key, leaf_key = pki.new_key(), pki.new_key()
    root = pki.build_root(root_key, now=NOW)
    leaf = pki.build_leaf(
        "issuer",
        leaf_key.public_key(),
        root_key=root_key,
        root_cert=root,
        issuer=ISSUER,
        verifier_host=VERIFIER_HOST,
        now=NOW,
    )
    return ForeignPki(root, leaf_key, [b64_der(leaf)])


def self_signed_leaf(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """An end-entity certificate for the issuer that signs itself (HAIP 1.0 §6.1.1 forbids it)."""
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "DUO issuer (forged)")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(ISSUER)]), critical=False
        )
        .sign(key, hashes.SHA256())
    )

from issuer_support import database, engine, live_issuer  # noqa: E402, F401  (fixtures)
