"""X.509 chains in ``x5c``: path validation to configured trust anchors, and the leaf's names.

RFC 7515 §4.1.6 (``x5c``: standard base64 DER certificates, the signer's first), RFC 5280 §6 path
validation (done by ``cryptography.x509.verification``), HAIP 1.0 §6.1.1 (the trust anchor is never
in ``x5c`` and the leaf is not self-signed; SPECS §8 item 62), SD-JWT VC
(draft-ietf-oauth-sd-jwt-vc) §3.5 (the leaf names the issuer) and OpenID4VP 1.0 §5.9.3
(``x509_hash``). Pure: anchors and the time ``now`` are passed in; nothing is trusted by default.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, NoReturn
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509 import verification

from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.jose import b64url_encode

#: The most certificates an ``x5c`` may carry (leaf and intermediates); more is refused unread.
MAX_CHAIN = 8
#: The longest base64 text accepted for one certificate.
MAX_CERT_CHARS = 65536
#: How many validated chains one ChainCache keeps before it starts again empty.
CHAIN_CACHE_SIZE = 256
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def load_anchors_pem(pems: Sequence[str]) -> list[x509.Certificate]:
    """Trust anchors from PEM texts (each may hold several certificates)."""
    if isinstance(pems, str | bytes):
        raise InvalidCredential("trust_anchor_malformed", "anchors must be a list of PEM texts")
    anchors: list[x509.Certificate] = []
    for pem in pems:
        if not isinstance(pem, str):
            raise InvalidCredential("trust_anchor_malformed", "a trust anchor is not PEM text")
        try:
            anchors.extend(x509.load_pem_x509_certificates(pem.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise InvalidCredential("trust_anchor_malformed", "a trust anchor is not PEM") from None
    return anchors


def parse_certificate(text: Any, code: str = "x5c_malformed") -> x509.Certificate:
    """One ``x5c`` entry: canonical standard base64 with padding (RFC 7515 §4.1.6) of DER."""
    if not isinstance(text, str) or len(text) > MAX_CERT_CHARS or not _BASE64.match(text):
        raise InvalidCredential(code, "x5c entry is not base64")
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCredential(code, "x5c entry is not base64") from None
    if base64.b64encode(der).decode("ascii") != text:
        raise InvalidCredential(code, "x5c entry is not canonical base64")
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = cert.extensions  # parsed lazily: a malformed extension must fail here
    except ValueError:
        raise InvalidCredential(code, "x5c entry is not a DER certificate") from None
    return cert


def _parse_chain(x5c: Any) -> list[x509.Certificate]:
    if not isinstance(x5c, list | tuple) or not x5c:
        raise InvalidCredential("x5c_malformed", "x5c is not a non-empty array")
    if len(x5c) > MAX_CHAIN:
        raise InvalidCredential("x5c_malformed", "x5c has too many certificates")
    return [parse_certificate(entry) for entry in x5c]


def _same_certificate(cert: x509.Certificate, anchor: x509.Certificate) -> bool:
    """The anchor itself, or a re-issue of it: same subject and the same public key."""
    if cert == anchor:
        return True
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return cert.subject == anchor.subject and cert.public_key().public_bytes(
        der, spki
    ) == anchor.public_key().public_bytes(der, spki)


def _check_leaf(leaf: x509.Certificate) -> None:
    """HAIP 1.0 §6.1.1 not self-signed; RFC 5280 §4.2.1.9, §4.2.1.3 an end entity that signs."""
    if leaf.subject == leaf.issuer:  # self-issued (RFC 5280 §3.2) covers every self-signed leaf
        raise InvalidCredential("x5c_self_signed_leaf", "x5c leaf certificate is self-signed")
    extensions = leaf.extensions
    try:
        constraints = extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        raise InvalidCredential("x5c_leaf_not_end_entity", "x5c leaf certificate is a CA")
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise InvalidCredential("x5c_leaf_key_usage", "x5c leaf key may not sign")


def _verifier(anchors: Sequence[x509.Certificate], at: datetime) -> verification.ClientVerifier:
    """RFC 5280 §6 with the Web PKI CA profile; the leaf is checked by ``_check_leaf``, no EKU."""
    return (
        verification.PolicyBuilder()
        .store(verification.Store(list(anchors)))
        .time(at)
        .max_chain_depth(MAX_CHAIN)
        .extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=verification.ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )


def validate_chain(
    x5c: Sequence[str], anchors: Sequence[x509.Certificate], *, now: datetime
) -> x509.Certificate:
    """The leaf of ``x5c`` once a path from it to one of ``anchors`` validates at ``now``.

    Raises InvalidCredential (``x5c_malformed``, ``x5c_contains_anchor``, ``x5c_self_signed_leaf``,
    ``x5c_leaf_not_end_entity``, ``x5c_leaf_key_usage``, ``x5c_expired``, ``x5c_not_yet_valid``,
    ``x5c_untrusted``) or VerificationIncomplete ``no_trust_anchor`` when no anchor is configured.
    """
    return _validate(x5c, anchors, now)[0]


def _validate(
    x5c: Sequence[str], anchors: Sequence[x509.Certificate], now: datetime
) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """``validate_chain``, also returning the path that validated, from the leaf to its anchor."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    certs = _parse_chain(x5c)
    if not anchors:
        raise VerificationIncomplete("no_trust_anchor", "no trust anchor is configured")
    # HAIP 1.0 §6.1.1: the trust anchor MUST NOT be included in x5c.
    if any(_same_certificate(cert, anchor) for cert in certs for anchor in anchors):
        raise InvalidCredential("x5c_contains_anchor", "x5c includes a trust anchor")
    leaf = certs[0]
    _check_leaf(leaf)
    try:
        path = _verifier(anchors, now).verify(leaf, certs[1:]).chain
    except verification.VerificationError:
        _raise_failure(certs, anchors, now)
    return leaf, path


def _raise_failure(
    certs: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate], now: datetime
) -> NoReturn:
    """Tell a chain that is only outside its validity period at ``now`` from an untrusted one.

    The path is tried again at the start of the certificates' common validity period; if it
    validates there, time alone was the fault.
    """
    start = max(cert.not_valid_before_utc for cert in certs)
    end = min(cert.not_valid_after_utc for cert in certs)
    if start <= end and not start <= now <= end:
        try:
            _verifier(anchors, start).verify(certs[0], list(certs[1:]))
        except verification.VerificationError:
            pass
        else:
            if now > end:
                raise InvalidCredential("x5c_expired", "x5c certificate has expired")
            raise InvalidCredential("x5c_not_yet_valid", "x5c certificate is not yet valid")
    raise InvalidCredential("x5c_untrusted", "x5c does not chain to a trust anchor")


class _Validated(NamedTuple):
    anchors: tuple[x509.Certificate, ...]
    leaf: x509.Certificate
    start: datetime  # the latest notBefore of the validated path
    end: datetime  # the earliest notAfter of the validated path


class ChainCache:
    """Chains that passed ``validate_chain``, each with the time window of its validated path.

    A leaf is served from here only for the same ``x5c`` text and equal anchors, and only while
    ``now`` lies within the validity of every certificate of the path that validated, anchor
    included (RFC 5280 §6.1.3 (a)(2)). Nothing else path validation checks depends on time, so
    within that window the full check would accept the chain again. Failures are never kept:
    every rejection is decided, and reported, in full. Bounded: emptied when full.
    """

    def __init__(self, maxsize: int = CHAIN_CACHE_SIZE) -> None:
        self._maxsize = maxsize
        self._valid: dict[tuple[str, ...], _Validated] = {}

    def __len__(self) -> int:
        """How many validated chains are kept."""
        return len(self._valid)

    def validate(
        self, x5c: Sequence[str], anchors: Sequence[x509.Certificate], *, now: datetime
    ) -> x509.Certificate:
        """``validate_chain(x5c, anchors, now=now)``, from the cache where it is sure to agree."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not isinstance(x5c, list | tuple) or not all(isinstance(c, str) for c in x5c):
            return validate_chain(x5c, anchors, now=now)  # malformed: never cached
        chain, trusted = tuple(x5c), tuple(anchors)
        found = self._valid.get(chain)
        # Anchors compared, not hashed: usually the very same objects, so this is quick.
        if found is not None and found.anchors == trusted and found.start <= now <= found.end:
            return found.leaf
        leaf, path = _validate(x5c, anchors, now)
        if len(self._valid) >= self._maxsize:
            self._valid.clear()
        start = max(cert.not_valid_before_utc for cert in path)
        end = min(cert.not_valid_after_utc for cert in path)
        self._valid[chain] = _Validated(trusted, leaf, start, end)
        return leaf


def leaf_public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    """The public key that verifies the JWS an ``x5c`` leaf signs (RFC 7515 §4.1.6)."""
    return cert.public_key()


def _https_host(iss: str) -> str | None:
    try:
        parts = urlsplit(iss)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme != "https" or parts.username is not None or parts.password is not None:
        return None
    return host


def check_issuer_name(cert: x509.Certificate, iss: str) -> None:
    """SD-JWT VC §3.5: the leaf must name ``iss``; else InvalidCredential ``x5c_issuer_mismatch``.

    Accepted: ``iss`` equals a uniformResourceIdentifier SAN, or ``iss`` is an https URL whose
    host equals a dNSName SAN (compared without case, RFC 4343).
    """
    names = _san(cert)
    if isinstance(iss, str):
        if iss in names.get_values_for_type(x509.UniformResourceIdentifier):
            return
        host = _https_host(iss)
        dns = {name.lower() for name in names.get_values_for_type(x509.DNSName)}
        if host is not None and host in dns:
            return
    raise InvalidCredential("x5c_issuer_mismatch", "x5c leaf does not name the issuer")


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return x509.SubjectAlternativeName([])


def check_status_list_signer(cert: x509.Certificate, uri: str, *, iss: str) -> None:
    """The leaf is certified for the status list at ``uri`` and is not an issuer leaf of ``iss``.

    A uniformResourceIdentifier SAN must be a path prefix of ``uri`` (DUO: ``{issuer}/status``
    for ``{issuer}/status/1``) and the leaf must not name ``iss`` (check_issuer_name), so the
    two purposes never stand in for each other; else ``x5c_status_list_mismatch``.
    """
    names = _san(cert).get_values_for_type(x509.UniformResourceIdentifier)
    if any(uri.startswith(name.rstrip("/") + "/") for name in names):
        try:
            check_issuer_name(cert, iss)
        except InvalidCredential:
            return
    raise InvalidCredential("x5c_status_list_mismatch", "x5c leaf is not a status list signer")


def x509_hash(cert: x509.Certificate) -> str:
    """OpenID4VP 1.0 §5.9.3 ``x509_hash``: base64url SHA-256 of the DER certificate."""
    return b64url_encode(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())
