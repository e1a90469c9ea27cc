"""X.509 path validation of ``x5c`` to configured anchors (SPECS §8 item 62, HAIP 1.0 §6.1.1)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import pki
from verifier import x509_trust
from verifier.errors import InvalidCredential, VerificationIncomplete

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://issuer.duo.test"


@dataclass(frozen=True)
class Ca:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def _root() -> Ca:
    key = pki.new_key()
    return Ca(key, pki.build_root(key, now=NOW))


def _leaf(ca: Ca, *, now: datetime = NOW, purpose: str = "issuer") -> x509.Certificate:
    return pki.build_leaf(
        purpose,  # type: ignore[arg-type]
        pki.new_key().public_key(),
        root_key=ca.key,
        root_cert=ca.cert,
        issuer=ISSUER,
        verifier_host="verifier.duo.test",
        now=now,
    )


def _custom(
    signer: Ca | None,
    *,
    name: str = "custom leaf",
    ca: bool = False,
    path_length: int | None = None,
    sign_usage: bool = True,
) -> Ca:
    """A certificate with the given profile, signed by ``signer`` (None: self-signed)."""
    key = pki.new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    usage = x509.KeyUsage(
        digital_signature=sign_usage,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not sign_usage,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.cert.subject if signer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if signer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
            critical=False,
        )
    return Ca(key, builder.sign(signer.key if signer else key, hashes.SHA256()))


@pytest.fixture(scope="module")
def root() -> Ca:
    return _root()


@pytest.fixture(scope="module")
def leaf(root: Ca) -> x509.Certificate:
    return _leaf(root)


def _code_of(x5c: object, anchors: list[x509.Certificate], *, now: datetime = NOW) -> str:
    with pytest.raises(InvalidCredential) as caught:
        x509_trust.validate_chain(x5c, anchors, now=now)  # type: ignore[arg-type]
    return caught.value.code


def test_valid_chain_returns_the_leaf(root: Ca, leaf: x509.Certificate) -> None:
    """SPECS §8 item 62, positive case: leaf only in x5c, root as the anchor."""
    assert x509_trust.validate_chain([_b64(leaf)], [root.cert], now=NOW) == leaf
    assert x509_trust.validate_chain((_b64(leaf),), [_root().cert, root.cert], now=NOW) == leaf


def test_chain_through_an_intermediate(root: Ca) -> None:
    top = _custom(None, name="open root", ca=True, path_length=1, sign_usage=False)
    middle = _custom(top, name="intermediate", ca=True, path_length=0, sign_usage=False)
    end = _custom(middle)
    x5c = [_b64(end.cert), _b64(middle.cert)]
    assert x509_trust.validate_chain(x5c, [top.cert], now=NOW) == end.cert
    assert _code_of([_b64(end.cert)], [top.cert]) == "x5c_untrusted"


def test_foreign_root_is_untrusted(leaf: x509.Certificate) -> None:
    """SPECS §8 item 62: a chain that does not lead to a configured anchor."""
    assert _code_of([_b64(leaf)], [_root().cert]) == "x5c_untrusted"


def test_forged_leaf_with_the_right_issuer_name_is_untrusted(root: Ca) -> None:
    impostor = Ca(pki.new_key(), root.cert)
    assert _code_of([_b64(_leaf(impostor))], [root.cert]) == "x5c_untrusted"


def test_expired_leaf(root: Ca, leaf: x509.Certificate) -> None:
    after = leaf.not_valid_after_utc + timedelta(seconds=1)
    assert _code_of([_b64(leaf)], [root.cert], now=after) == "x5c_expired"
    x509_trust.validate_chain([_b64(leaf)], [root.cert], now=leaf.not_valid_after_utc)


def test_not_yet_valid_leaf(root: Ca) -> None:
    future = _leaf(root, now=NOW + timedelta(days=30))
    assert _code_of([_b64(future)], [root.cert]) == "x5c_not_yet_valid"


def test_expired_leaf_from_a_foreign_root_is_untrusted_not_expired(leaf: x509.Certificate) -> None:
    """Time is only named as the fault when the chain would otherwise validate."""
    after = leaf.not_valid_after_utc + timedelta(days=1)
    assert _code_of([_b64(leaf)], [_root().cert], now=after) == "x5c_untrusted"


def test_anchor_in_x5c_is_refused(root: Ca, leaf: x509.Certificate) -> None:
    """HAIP 1.0 §6.1.1: the trust anchor MUST NOT be in x5c (SPECS §8 item 62)."""
    assert _code_of([_b64(leaf), _b64(root.cert)], [root.cert]) == "x5c_contains_anchor"
    assert _code_of([_b64(root.cert)], [root.cert]) == "x5c_contains_anchor"


def test_reissued_anchor_in_x5c_is_refused(root: Ca, leaf: x509.Certificate) -> None:
    """A copy of the anchor with a new serial (same name and key) is the anchor too."""
    reissued = pki.build_root(root.key, now=NOW)
    assert reissued != root.cert
    assert _code_of([_b64(leaf), _b64(reissued)], [root.cert]) == "x5c_contains_anchor"


def test_self_signed_leaf_is_refused(root: Ca) -> None:
    """HAIP 1.0 §6.1.1: the signing certificate MUST NOT be self-signed (SPECS §8 item 62)."""
    selfie = _custom(None)
    assert _code_of([_b64(selfie.cert)], [root.cert]) == "x5c_self_signed_leaf"
    assert _code_of([_b64(selfie.cert)], [selfie.cert]) == "x5c_contains_anchor"


def test_ca_leaf_is_refused(root: Ca) -> None:
    unconstrained = _custom(None, name="open root", ca=True, sign_usage=False)
    sub_ca = _custom(unconstrained, ca=True)
    assert _code_of([_b64(sub_ca.cert)], [unconstrained.cert]) == "x5c_leaf_not_end_entity"


def test_leaf_whose_key_may_not_sign_is_refused(root: Ca) -> None:
    agreement_only = _custom(root, sign_usage=False)
    assert _code_of([_b64(agreement_only.cert)], [root.cert]) == "x5c_leaf_key_usage"
    assert x509_trust.validate_chain([_b64(_custom(root).cert)], [root.cert], now=NOW)


@pytest.mark.parametrize(
    "x5c",
    [
        [],
        (),
        "MIIB",
        None,
        {"0": "MIIB"},
        ["not base64!"],
        [""],
        [42],
        ["TUlJQg=="],  # valid base64, not DER
        ["TUlJQg"],  # padding missing
    ],
)
def test_malformed_x5c(root: Ca, x5c: object) -> None:
    """RFC 7515 §4.1.6: a non-empty array of standard base64 DER certificates."""
    assert _code_of(x5c, [root.cert]) == "x5c_malformed"


def test_x5c_entries_must_be_canonical_standard_base64(root: Ca, leaf: x509.Certificate) -> None:
    text = _b64(leaf)
    urlsafe = base64.urlsafe_b64encode(leaf.public_bytes(Encoding.DER)).decode()
    assert urlsafe != text  # a DER certificate of this size contains + or /
    assert _code_of([urlsafe], [root.cert]) == "x5c_malformed"
    assert _code_of([text[:-4] + "\n" + text[-4:]], [root.cert]) == "x5c_malformed"
    der = leaf.public_bytes(Encoding.DER)
    assert _code_of([base64.b64encode(der + b"\x00").decode()], [root.cert]) == "x5c_malformed"


def test_too_long_x5c(root: Ca, leaf: x509.Certificate) -> None:
    x5c = [_b64(leaf)] * (x509_trust.MAX_CHAIN + 1)
    assert _code_of(x5c, [root.cert]) == "x5c_malformed"


_ANCHOR_FOR_PROPERTY = _root()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=4))
def test_arbitrary_text_is_malformed_never_a_crash(x5c: list[str]) -> None:
    anchors = [_ANCHOR_FOR_PROPERTY.cert]
    with pytest.raises(InvalidCredential) as caught:
        x509_trust.validate_chain(x5c, anchors, now=NOW)
    assert caught.value.code == "x5c_malformed"


def test_no_anchor_means_no_decision(leaf: x509.Certificate) -> None:
    """The verifier trusts nothing by default (DESIGN §6)."""
    with pytest.raises(VerificationIncomplete) as caught:
        x509_trust.validate_chain([_b64(leaf)], [], now=NOW)
    assert caught.value.code == "no_trust_anchor"


def test_naive_time_is_a_programming_error(root: Ca, leaf: x509.Certificate) -> None:
    with pytest.raises(ValueError):
        x509_trust.validate_chain([_b64(leaf)], [root.cert], now=NOW.replace(tzinfo=None))


def test_load_anchors_pem(root: Ca) -> None:
    pem = root.cert.public_bytes(Encoding.PEM).decode()
    other = _root().cert.public_bytes(Encoding.PEM).decode()
    assert x509_trust.load_anchors_pem([pem, other + pem]) == [
        root.cert,
        x509.load_pem_x509_certificate(other.encode()),
        root.cert,
    ]
    assert x509_trust.load_anchors_pem([]) == []


@pytest.mark.parametrize("pems", [["garbage"], [b"bytes"], "a single string", ["é"]])
def test_load_anchors_pem_refuses_malformed(pems: object) -> None:
    with pytest.raises(InvalidCredential) as caught:
        x509_trust.load_anchors_pem(pems)  # type: ignore[arg-type]
    assert caught.value.code == "trust_anchor_malformed"


@pytest.mark.parametrize(
    "iss",
    [
        ISSUER,
        "https://issuer.duo.test/",
        "https://ISSUER.duo.test/diplomas",
        "https://issuer.duo.test:8443",
    ],
)
def test_issuer_named_by_the_leaf(leaf: x509.Certificate, iss: str) -> None:
    """SD-JWT VC §3.5: iss equals a URI SAN, or its https host equals a dNSName SAN."""
    x509_trust.check_issuer_name(leaf, iss)


@pytest.mark.parametrize(
    "iss",
    [
        "https://evil.test",
        "http://issuer.duo.test",
        "https://issuer.duo.test.evil.test",
        "https://evil.test@issuer.duo.test",
        "issuer.duo.test",
        "https://[::1",
        None,
    ],
)
def test_issuer_not_named_by_the_leaf(leaf: x509.Certificate, iss: str) -> None:
    with pytest.raises(InvalidCredential) as caught:
        x509_trust.check_issuer_name(leaf, iss)
    assert caught.value.code == "x5c_issuer_mismatch"


def test_request_leaf_names_only_its_host(root: Ca) -> None:
    request_leaf = _leaf(root, purpose="verifier_request")
    x509_trust.check_issuer_name(request_leaf, "https://verifier.duo.test")
    with pytest.raises(InvalidCredential) as caught:
        x509_trust.check_issuer_name(request_leaf, ISSUER)
    assert caught.value.code == "x5c_issuer_mismatch"


def test_leaf_without_san_names_nobody(root: Ca) -> None:
    with pytest.raises(InvalidCredential) as caught:
        x509_trust.check_issuer_name(_custom(root).cert, ISSUER)
    assert caught.value.code == "x5c_issuer_mismatch"


def test_leaf_public_key_and_x509_hash(leaf: x509.Certificate) -> None:
    """OpenID4VP 1.0 §5.9.3: x509_hash is base64url (unpadded) SHA-256 of the DER leaf."""
    assert x509_trust.leaf_public_key(leaf) == leaf.public_key()
    digest = hashlib.sha256(leaf.public_bytes(Encoding.DER)).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert x509_trust.x509_hash(leaf) == expected and len(expected) == 43
