"""The trust store through ``verify``: which issuer keys count, and for how long.

SD-JWT VC §3.5 key discovery (``x5c`` to an anchor, HAIP 1.0 §6.1.1; or jwt-vc-issuer metadata
whose ``issuer`` equals ``iss``, §4), SPECS §8 items 62 and 63, docs/trust-bundle.md (what a
bundle vouches for, and that a retired key keeps verifying what it signed), DESIGN §6.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    ISSUER,
    NOW,
    Duo,
    ForeignPki,
    b64_der,
    check_of,
    expect,
    expect_valid,
    make_store,
    policy,
    self_signed_leaf,
)
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from issuer.trust_bundle import export_bundle
from keys import pki
from verifier import jose
from verifier.errors import InvalidCredential
from verifier.trust import TrustStore

OTHER_ISSUER = "https://issuer.other.example"
LATER = NOW + timedelta(days=4 * 365)  # the issuer leaf (3 years) has expired, the root has not


@pytest.fixture(scope="module")
def credential(duo: Duo) -> str:
    """A diploma without status, so that key lookup alone decides the verdict."""
    return duo.issue()


def _payload(text: str) -> dict[str, Any]:
    return jose.parse_compact(text.partition("~")[0]).payload


def _published(duo: Duo) -> dict[str, Any]:
    jwk: dict[str, Any] = duo.bundle["issuer_metadata"]["jwks"]["keys"][0]
    return jwk


# --- x5c: item 62 --------------------------------------------------------------------------------


def test_x5c_to_a_foreign_root_is_rejected(duo: Duo, foreign: ForeignPki, credential: str) -> None:
    """SPECS §8 item 62: a well-formed chain, for the right issuer name, to a root not trusted."""
    _, _, rest = credential.partition("~")
    forged = foreign.sign(foreign.header(), _payload(credential)) + "~" + rest
    expect(duo.verify(forged), "invalid", "issuer_trust", "x5c_untrusted")
    with_root = {**foreign.header(), "x5c": [*foreign.x5c, b64_der(foreign.root)]}
    forged = foreign.sign(with_root, _payload(credential)) + "~" + rest
    expect(duo.verify(forged), "invalid", "issuer_trust", "x5c_untrusted")


def test_foreign_root_as_anchor_accepts_its_own_chain(
    duo: Duo, foreign: ForeignPki, credential: str
) -> None:
    """The positive side of item 62: it is the anchor that decides, not the chain's shape."""
    _, _, rest = credential.partition("~")
    forged = foreign.sign(foreign.header(), _payload(credential)) + "~" + rest
    pem = foreign.root.public_bytes(Encoding.PEM).decode()
    expect_valid(duo.verify(forged, trust=TrustStore.from_anchors([pem])))


def test_self_signed_leaf_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 62 / HAIP 1.0 §6.1.1: a leaf that signs itself."""
    key = pki.new_key()
    header = {"alg": "ES256", "typ": "dc+sd-jwt", "x5c": [b64_der(self_signed_leaf(key))]}
    _, _, rest = credential.partition("~")
    signer = jose.private_key_signer(key, "ES256")
    forged = jose.sign_compact(header, _payload(credential), signer) + "~" + rest
    expect(duo.verify(forged), "invalid", "issuer_trust", "x5c_self_signed_leaf")


def test_x5c_including_the_anchor_is_rejected(duo: Duo, credential: str) -> None:
    """SPECS §8 item 62 / HAIP 1.0 §6.1.1: the trust anchor is never part of x5c."""
    root = x509.load_pem_x509_certificate(duo.bundle["anchors"][0].encode())

    def append_root(header: dict[str, Any], _: dict[str, Any]) -> None:
        header["x5c"] = [*header["x5c"], b64_der(root)]

    verdict = duo.verify(duo.resign(credential, append_root))
    expect(verdict, "invalid", "issuer_trust", "x5c_contains_anchor")


def test_leaf_not_naming_iss_is_rejected(duo: Duo, credential: str) -> None:
    """SD-JWT VC §3.5: DUO's genuine chain, but the credential claims another issuer."""

    def other_iss(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload["iss"] = OTHER_ISSUER

    verdict = duo.verify(duo.resign(credential, other_iss))
    expect(verdict, "invalid", "issuer_trust", "x5c_issuer_mismatch")


@pytest.mark.parametrize("x5c", [[], "MIIB", ["not base64!"], ["AAAA"]])
def test_malformed_x5c_is_rejected(duo: Duo, credential: str, x5c: Any) -> None:
    """RFC 7515 §4.1.6: x5c is a non-empty array of base64 DER certificates."""

    def set_x5c(header: dict[str, Any], _: dict[str, Any]) -> None:
        header["x5c"] = x5c

    expect(duo.verify(duo.resign(credential, set_x5c)), "invalid", "issuer_trust", "x5c_malformed")


def _damaged_leaf(duo: Duo, where: str) -> str:
    """DUO's leaf with one DER byte changed so that ``cryptography`` fails late, not on load."""
    der = bytearray(base64.b64decode(_published(duo)["x5c"][0]))
    if where == "version":
        assert der[8:13] == bytes.fromhex("a003020102")
        der[12] = 5  # X.509 version 6: load raises InvalidVersion
    else:
        name = x509.load_der_x509_certificate(bytes(der)).issuer.public_bytes()
        at = bytes(der).index(name) + 11
        assert der[at] == 0x13  # countryName's PrintableString, made a BIT STRING
        der[at] = 0x03  # parsed only when the issuer name is read: TypeError
    return base64.b64encode(bytes(der)).decode()


@pytest.mark.parametrize(
    ("where", "anchored", "code"),
    [
        ("version", True, "x5c_malformed"),
        ("issuer_name", True, "x5c_malformed"),
        ("version", False, "x5c_malformed"),
        ("issuer_name", False, None),  # without anchors the leaf only names a published key
    ],
)
def test_damaged_certificate_is_malformed_not_a_crash(
    duo: Duo, credential: str, where: str, anchored: bool, code: str | None
) -> None:
    """SPECS §8 item 62: what ``cryptography`` raises for a damaged x5c becomes a rejection,
    both on the anchor path and when the leaf is matched against published keys."""
    damaged = _damaged_leaf(duo, where)

    def set_x5c(header: dict[str, Any], _: dict[str, Any]) -> None:
        header["x5c"] = [damaged]
        header.pop("kid")

    trust = duo.trust if anchored else TrustStore(issuer_jwks=duo.trust.issuer_jwks)
    verdict = duo.verify(duo.resign(credential, set_x5c), trust=trust)
    if code is None:
        expect_valid(verdict)
    else:
        expect(verdict, "invalid", "issuer_trust", code)


def test_without_x5c_the_published_kid_decides(duo: Duo, credential: str) -> None:
    """SD-JWT VC §3.5: no x5c; the key with this kid in metadata for ``iss`` is used."""

    def drop_x5c(header: dict[str, Any], _: dict[str, Any]) -> None:
        header.pop("x5c")

    expect_valid(duo.verify(duo.resign(credential, drop_x5c)))

    def unknown_kid(header: dict[str, Any], _: dict[str, Any]) -> None:
        header.pop("x5c")
        header["kid"] = "not-a-published-kid"

    verdict = duo.verify(duo.resign(credential, unknown_kid))
    expect(verdict, "invalid", "issuer_trust", "issuer_untrusted")


# --- issuer metadata: item 63 --------------------------------------------------------------------


def test_metadata_for_another_issuer_gives_no_key(duo: Duo, credential: str) -> None:
    """SPECS §8 item 63: the right key, published in metadata whose issuer is not ``iss``."""
    jwk = _published(duo)
    foreign_metadata = TrustStore(issuer_jwks={OTHER_ISSUER: (jwk,)})
    expect(
        duo.verify(credential, trust=foreign_metadata),
        "invalid",
        "issuer_trust",
        "issuer_untrusted",
    )
    expect_valid(duo.verify(credential, trust=TrustStore(issuer_jwks={ISSUER: (jwk,)})))


def test_pinned_jwt_vc_issuer_metadata(duo: Duo, credential: str) -> None:
    """SPECS §8 item 63 / SDV-5 via ``from_pinned_jwk`` with jwt-vc-issuer metadata."""
    keys = {"keys": [_published(duo)]}
    own = TrustStore.from_pinned_jwk({"issuer": ISSUER, "jwks": keys})
    expect_valid(duo.verify(credential, trust=own))
    other = TrustStore.from_pinned_jwk({"issuer": OTHER_ISSUER, "jwks": keys})
    expect(duo.verify(credential, trust=other), "invalid", "issuer_trust", "issuer_untrusted")


# --- building a trust store ----------------------------------------------------------------------


def test_empty_trust_store_trusts_nothing(duo: Duo, credential: str) -> None:
    """DESIGN §6: the verifier trusts nothing by default, not even a valid DUO chain."""
    expect(
        duo.verify(credential, trust=TrustStore()), "invalid", "issuer_trust", "issuer_untrusted"
    )


@pytest.mark.parametrize("with_kid", [True, False])
def test_pinned_bare_jwk_is_trusted(duo: Duo, credential: str, with_kid: bool) -> None:
    """``from_pinned_jwk`` with one public key, as published (with kid) or bare (without)."""
    jwk = {k: v for k, v in _published(duo).items() if k in {"kty", "crv", "x", "y", "kid"}}
    if not with_kid:
        jwk.pop("kid")
    verdict = duo.verify(credential, trust=TrustStore.from_pinned_jwk(jwk))
    expect_valid(verdict)
    check = check_of(verdict, "type_metadata")  # a pinned key brings no type metadata
    assert (check.outcome, check.code) == ("skipped", "type_metadata_unavailable")


def test_pinned_jwk_of_another_key_is_rejected(duo: Duo, credential: str) -> None:
    """A pinned key is the only key: without a kid the signature check refuses the credential,
    with another kid no key is found at all."""
    other = jose.public_jwk(pki.new_key())
    verdict = duo.verify(credential, trust=TrustStore.from_pinned_jwk(other))
    expect(verdict, "invalid", "signature", "sd_jwt_signature_invalid")
    with_kid = TrustStore.from_pinned_jwk({**other, "kid": "another"})
    expect(duo.verify(credential, trust=with_kid), "invalid", "issuer_trust", "issuer_untrusted")


@pytest.mark.parametrize(
    ("jwk", "code"),
    [
        ({"kty": "oct", "k": "c2VjcmV0"}, "jwk_invalid"),
        ("not a jwk", "jwk_invalid"),
        ({"issuer": ISSUER, "jwks": {"keys": "none"}}, "trust_bundle_malformed"),
        ({"issuer": ISSUER, "jwks": []}, "trust_bundle_malformed"),
    ],
)
def test_pinning_something_that_is_not_a_public_key_fails(jwk: Any, code: str) -> None:
    with pytest.raises(InvalidCredential) as raised:
        TrustStore.from_pinned_jwk(jwk)
    assert raised.value.code == code


def test_pinning_a_private_jwk_fails() -> None:
    """A JWK with ``d`` is refused: trust configuration never holds private keys."""
    key = pki.new_key()
    d = jose.b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))
    with pytest.raises(InvalidCredential) as raised:
        TrustStore.from_pinned_jwk({**jose.public_jwk(key), "d": d})
    assert raised.value.code == "jwk_invalid"


def _without(bundle: dict[str, Any], *path: str) -> dict[str, Any]:
    node = bundle
    for name in path[:-1]:
        node = node[name]
    del node[path[-1]]
    return bundle


def _bundle_cases(duo: Duo) -> list[Any]:
    def changed(**top: Any) -> dict[str, Any]:
        return {**duo.bundle_copy(), **top}

    metadata = duo.bundle_copy()["issuer_metadata"]
    return [
        None,
        [],
        "bundle",
        {},
        changed(bundle_version=2),
        changed(bundle_version="1"),
        _without(duo.bundle_copy(), "issuer_metadata"),
        _without(duo.bundle_copy(), "anchors"),
        _without(duo.bundle_copy(), "issuer_metadata", "jwks"),
        changed(issuer_metadata={**metadata, "issuer": 7}),
        changed(issuer_metadata={**metadata, "jwks": {"keys": ["jwk"]}}),
        changed(type_metadata={"vct": {"not": "text"}}),
        changed(type_metadata={"vct": json.loads('"\\ud800"')}),  # a lone surrogate
        changed(status_lists=["token"]),
    ]


def test_malformed_bundle_is_refused(duo: Duo) -> None:
    """docs/trust-bundle.md layout; anything else is ``trust_bundle_malformed``."""
    for index, bundle in enumerate(_bundle_cases(duo)):
        with pytest.raises(InvalidCredential) as raised:
            TrustStore.from_bundle(bundle)
        assert raised.value.code == "trust_bundle_malformed", index


def test_bundle_with_an_anchor_that_is_not_pem_is_refused(duo: Duo) -> None:
    bundle = {**duo.bundle_copy(), "anchors": ["-----BEGIN CERTIFICATE-----\nAAAA\n"]}
    with pytest.raises(InvalidCredential) as raised:
        TrustStore.from_bundle(bundle)
    assert raised.value.code == "trust_anchor_malformed"


def test_mirror_cannot_add_a_key_to_the_bundle(duo: Duo, credential: str) -> None:
    """docs/trust-bundle.md: keys in a bundle count only when the anchors certify them.

    A mirror that publishes its own key (with its own kid, and with DUO's x5c copied onto it)
    gets the bundle refused, so a credential it signs without x5c never meets that key.
    """
    attacker = pki.new_key()
    evil = {**jose.public_jwk(attacker), "kid": "mirror-key", "alg": "ES256", "use": "sig"}
    genuine_x5c = _published(duo)["x5c"]
    for injected in (evil, {**evil, "x5c": genuine_x5c}):
        bundle = duo.bundle_copy()
        bundle["issuer_metadata"]["jwks"]["keys"].append(injected)
        with pytest.raises(InvalidCredential) as raised:
            TrustStore.from_bundle(bundle)
        assert raised.value.code == "trust_bundle_malformed"
    header = {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "mirror-key"}
    signer = jose.private_key_signer(attacker, "ES256")
    forged = jose.sign_compact(header, _payload(credential), signer) + "~"
    expect(duo.verify(forged), "invalid", "issuer_trust", "issuer_untrusted")


def test_bundle_key_certified_for_another_issuer_is_refused(duo: Duo, tmp_path: Path) -> None:
    """A key whose certificate chains to the anchor but names another issuer."""
    root_key = pki.new_key()
    root = pki.build_root(root_key, now=NOW)
    leaf_key = pki.new_key()
    leaf = pki.build_leaf(
        "issuer",
        leaf_key.public_key(),
        root_key=root_key,
        root_cert=root,
        issuer=OTHER_ISSUER,
        verifier_host="verifier.duo.test",
        now=NOW,
    )
    pem = root.public_bytes(Encoding.PEM)
    jwk = {**jose.public_jwk(leaf_key), "kid": "k", "x5c": [b64_der(leaf)]}
    bundle = duo.bundle_copy()
    bundle["anchors"] = [pem.decode()]
    bundle["issuer_metadata"]["jwks"]["keys"] = [jwk]
    with pytest.raises(InvalidCredential) as raised:
        TrustStore.from_bundle(bundle)
    assert raised.value.code == "trust_bundle_malformed"
    bundle["issuer_metadata"]["issuer"] = OTHER_ISSUER
    assert TrustStore.from_bundle(bundle).issuer_jwks[OTHER_ISSUER] == (jwk,)


# --- time: rotation and expired certificates -----------------------------------------------------


def test_credential_signed_before_rotation_still_verifies(duo: Duo, tmp_path: Path) -> None:
    """DESIGN §6: after ``FileKeyStore.rotate`` the old key stays published and keeps verifying."""
    keys = make_store(tmp_path)
    before = duo.issue(keys=keys)
    old_kid = keys.signing_key("issuer").record.kid
    rotated_at = NOW + timedelta(days=30)
    keys.rotate("issuer", now=rotated_at)
    after = duo.issue(keys=keys, now=rotated_at)
    bundle = export_bundle(keys, None, now=rotated_at)
    assert bundle["issuer_metadata"]["jwks"]["keys"][0]["kid"] == old_kid
    trust = TrustStore.from_bundle(bundle)
    for text in (before, after):
        expect_valid(duo.verify(text, trust=trust, now=rotated_at))
    kid_only = TrustStore(issuer_jwks=trust.issuer_jwks)
    expect_valid(duo.verify(before, trust=kid_only, now=rotated_at))
    expect(duo.verify(before), "invalid", "issuer_trust", "x5c_untrusted")  # another store's root


def test_expired_leaf_still_verifies_while_the_key_is_published(duo: Duo, credential: str) -> None:
    """DESIGN §6 / docs/trust-bundle.md: a diploma outlives its signing certificate."""
    leaf = x509.load_der_x509_certificate(base64.b64decode(_published(duo)["x5c"][0]))
    assert leaf.not_valid_after_utc < LATER
    verdict = duo.verify(credential, trust=duo.with_status_list(None), now=LATER)
    expect_valid(verdict)


def test_expired_leaf_of_an_unpublished_key_is_rejected(duo: Duo, credential: str) -> None:
    """The fallback needs the issuer to still publish the key: anchors alone are not enough."""
    anchors_only = TrustStore.from_anchors(duo.bundle["anchors"])
    expect(
        duo.verify(credential, trust=anchors_only, now=LATER),
        "invalid",
        "issuer_trust",
        "x5c_expired",
    )
    unpublished = replace(duo.trust, issuer_jwks={})
    expect(
        duo.verify(credential, trust=unpublished, now=LATER),
        "invalid",
        "issuer_trust",
        "x5c_expired",
    )


@pytest.mark.parametrize(
    ("iat", "code"),
    [
        (None, "x5c_expired"),  # no signing time to judge the chain at
        (LATER, "x5c_expired"),  # "signed" after the certificate expired
        (LATER + timedelta(days=1), "x5c_expired"),  # signing time later than now
        (NOW - timedelta(days=365), "x5c_not_yet_valid"),  # before the certificate existed
    ],
)
def test_expired_leaf_needs_a_signing_time_inside_its_validity(
    duo: Duo, credential: str, iat: Any, code: str
) -> None:
    """The chain must have been valid at ``iat``, which must not lie after ``now``."""

    def set_iat(_: dict[str, Any], payload: dict[str, Any]) -> None:
        payload.pop("iat")
        if iat is not None:
            payload["iat"] = int(iat.timestamp())

    verdict = duo.verify(
        duo.resign(credential, set_iat), trust=duo.with_status_list(None), now=LATER
    )
    expect(verdict, "invalid", "issuer_trust", code)


def test_expired_leaf_of_a_vc_jwt_verifies_while_published(duo: Duo) -> None:
    """The same rule for VC-JOSE-COSE: ``iat`` dates the signature (§3.1.3)."""
    text = duo.issue_vcdm("vc+jwt")
    expect_valid(duo.verify(text, now=LATER))
    anchors_only = TrustStore.from_anchors(duo.bundle["anchors"])
    verdict = duo.verify(text, policy(), trust=anchors_only, now=LATER)
    expect(verdict, "invalid", "issuer_trust", "x5c_expired")


def test_status_list_key_cannot_sign_credentials(duo: Duo) -> None:
    """Purpose separation: a credential signed with the status-list key and its x5c is rejected,
    although the key chains to DUO's root (SPECS item 62)."""

    def status_signer(header: dict[str, Any], payload: dict[str, Any]) -> None:
        header.update(duo.header("status_list"))

    forged = duo.resign(duo.issue(), status_signer, purpose="status_list")
    expect(duo.verify(forged), "invalid", "issuer_trust", "x5c_issuer_mismatch")


def test_issuer_key_cannot_sign_status_lists(duo: Duo) -> None:
    """Purpose separation: a status list signed by the issuer key is not accepted; the status is
    then undetermined (SPECS item 80), never valid."""

    def issuer_signer(header: dict[str, Any], payload: dict[str, Any]) -> None:
        header.update({k: v for k, v in duo.header().items() if k != "typ"})

    forged_list = duo.resign(duo.status_token(), issuer_signer, purpose="issuer")
    verdict = duo.verify(duo.issue(status="valid"), trust=duo.with_status_list(forged_list))
    expect(verdict, "undetermined", "status", "x5c_status_list_mismatch")


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
def test_vcdm_credentials_outlive_their_certificate(duo: Duo, fmt: str) -> None:
    """A VCDM diploma verifies after its leaf certificate expired, dated by iat (vc+jwt) or by
    nbf, the issuanceDate (jwt_vc_json, which has no iat)."""
    later = NOW + timedelta(days=4 * 366)
    verdict = duo.verify(duo.issue_vcdm(fmt), now=later)
    assert verdict.outcome == "valid", verdict.failed_codes
    pinned_only = TrustStore(anchors=duo.trust.anchors)  # key not published: expiry is final
    expect(duo.verify(duo.issue_vcdm(fmt), trust=pinned_only, now=later), "invalid",
           "issuer_trust", "x5c_expired")
