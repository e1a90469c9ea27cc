"""The development PKI: a root CA and the leaf certificates of the issuer's signing keys.

RFC 5280 (X.509 profile) §4.2.1 extensions, shaped for HAIP 1.0 §6.1.1 (the SD-JWT VC issuer key is
the leaf of an ``x5c`` chain to a trust anchor that is not itself in ``x5c``) and SD-JWT VC
(draft-ietf-oauth-sd-jwt-vc) §3.5 (the leaf names the issuer in a uniformResourceIdentifier SAN).
Pure certificate building: keys and the time ``now`` come from the caller; nothing is stored here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from keys.store import Purpose

ROOT_LIFETIME = timedelta(days=20 * 365 + 5)
LEAF_LIFETIME = timedelta(days=3 * 365 + 1)
ORGANIZATION = "DUO (development)"
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key: the curve of ES256 (RFC 7518 §3.4), mandatory in HAIP 1.0 (SPECS H-9)."""
    return ec.generate_private_key(ec.SECP256R1())


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def issuer_host(issuer: str) -> str | None:
    """The DNS host of an issuer identifier, or None for a loopback development identifier.

    OpenID4VCI 1.0 §12.2.1 (SPECS VCI-7): the credential issuer identifier is an https URL with
    no query and no fragment; user info is refused too, a DNS host is required for the SAN.
    Development and tests may use ``http`` on a loopback host; such a leaf names the issuer by
    its SAN URI only. Anything else raises ValueError.
    """
    parts = urlsplit(issuer)
    host = parts.hostname or ""
    if parts.query or parts.fragment or parts.username is not None or parts.password is not None:
        raise ValueError("issuer identifier must have no query, fragment or user info")
    if parts.scheme in {"http", "https"} and host in LOOPBACK_HOSTS:
        return None
    if parts.scheme != "https" or not is_dns_name(host):
        raise ValueError("issuer identifier must be an https URL with a DNS host")
    return host


def is_dns_name(host: str) -> bool:
    """A lower-case ASCII DNS name (A-labels, RFC 5280 §4.2.1.6), not an IPv4 address.

    RFC 3696 §2: a top-level label is never all digits.
    """
    return bool(_DNS_NAME.match(host)) and not host.rsplit(".", 1)[-1].isdigit()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, digital_signature: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day: credentials date themselves to midnight UTC (issue 3), so
    a certificate must already be valid at the rounded ``iat`` of what it signs that day."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def build_root(key: ec.EllipticCurvePrivateKey, *, now: datetime) -> x509.Certificate:
    """A self-signed root CA valid for about 20 years from ``now``.

    RFC 5280 §4.2.1.9: basicConstraints CA:TRUE, critical, pathLenConstraint 0 (it signs leaves
    only); §4.2.1.3 keyUsage keyCertSign and cRLSign, critical; §4.2.1.2 subjectKeyIdentifier.
    """
    start = _start(now)
    name = _name("DUO Development Root CA")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + ROOT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def status_list_base(issuer: str) -> str:
    """The URI under which the issuer's status lists live (``{issuer}/status/<n>``)."""
    return issuer.rstrip("/") + "/status"


def leaf_names(purpose: Purpose, *, issuer: str, verifier_host: str) -> list[x509.GeneralName]:
    """The subjectAltName entries of a leaf for ``purpose`` (SD-JWT VC §3.5, OpenID4VP §5.9.3)."""
    if purpose == "verifier_request":
        if not is_dns_name(verifier_host):
            raise ValueError("verifier host must be a DNS name")
        return [x509.DNSName(verifier_host)]
    if purpose == "issuer":
        host = issuer_host(issuer)
        dns = [x509.DNSName(host)] if host else []
        return [x509.UniformResourceIdentifier(issuer), *dns]
    # A status-list signer names the status path only, never the issuer: it cannot sign
    # credentials, and an issuer key cannot sign status lists (x509_trust purpose checks).
    issuer_host(issuer)
    return [x509.UniformResourceIdentifier(status_list_base(issuer))]


def build_leaf(
    purpose: Purpose,
    public_key: ec.EllipticCurvePublicKey,
    *,
    root_key: ec.EllipticCurvePrivateKey,
    root_cert: x509.Certificate,
    issuer: str,
    verifier_host: str,
    now: datetime,
) -> x509.Certificate:
    """An end-entity certificate for ``purpose`` signed by the root, valid about 3 years.

    CA:FALSE (critical), keyUsage digitalSignature only (critical), subject and authority key
    identifiers (RFC 5280 §4.2.1.1, §4.2.1.2). Never outlives the root; ValueError once the root
    has expired.
    """
    start = _start(now)
    end = min(start + LEAF_LIFETIME, root_cert.not_valid_after_utc)
    if end <= start or start < root_cert.not_valid_before_utc:
        raise ValueError("root certificate is not valid at now")
    ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name(f"DUO {purpose.replace('_', ' ')} key (development)"))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                leaf_names(purpose, issuer=issuer, verifier_host=verifier_host)
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
