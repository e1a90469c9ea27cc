"""OpenID4VP 1.0 (final) §5.9 Client Identifier Prefixes: ``x509_hash``, ``x509_san_dns``,
``redirect_uri``.

The Client Identifier always travels with its prefix (§5.9.1, §14.8): it is the Request Object's
``client_id`` claim, the ``client_id`` query parameter and the ``aud`` a KB-JWT must carry.
§5.9.3 binds each prefix to something the Wallet can check: the SHA-256 of the DER leaf
(``x509_hash``), a ``dNSName`` SAN of the leaf (``x509_san_dns``), or the Response URI itself
(``redirect_uri``, never signed). HAIP 1.0 §5 makes ``x509_hash`` the prefix of signed requests.
``check_client_binding`` is what a Wallet (and a test) checks; the chain to a trust anchor is the
Wallet's own trust decision and is not part of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from cryptography import x509

from verifier.errors import InvalidCredential, ProtocolError
from verifier.x509_trust import parse_certificate, x509_hash

X509_HASH = "x509_hash"
X509_SAN_DNS = "x509_san_dns"
REDIRECT_URI = "redirect_uri"
#: The prefixes this verifier uses; a request is signed unless its prefix is ``redirect_uri``.
PREFIXES = frozenset({X509_HASH, X509_SAN_DNS, REDIRECT_URI})
SIGNED_PREFIXES = frozenset({X509_HASH, X509_SAN_DNS})

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _leaf(x5c_leaf_b64: str) -> x509.Certificate:
    try:
        return parse_certificate(x5c_leaf_b64)
    except InvalidCredential:
        raise ValueError("the x5c leaf is not a base64 DER certificate") from None


def x509_hash_client_id(x5c_leaf_b64: str) -> str:
    """``x509_hash:`` + base64url(SHA-256(DER leaf)) (§5.9.3) for a standard-base64 x5c entry."""
    return f"{X509_HASH}:{x509_hash(_leaf(x5c_leaf_b64))}"


def _dns_name(name: str) -> str:
    """``name`` in lower case if it is a DNS host name (RFC 1123 labels); else ValueError."""
    lowered = name.lower() if isinstance(name, str) else ""
    labels = lowered.split(".")
    if not lowered or len(lowered) > 253 or not all(_LABEL.fullmatch(lb) for lb in labels):
        raise ValueError("not a DNS host name")
    return lowered


def x509_san_dns_client_id(dns_name: str) -> str:
    """``x509_san_dns:`` + the DNS name (§5.9.3); the leaf must carry it as a dNSName SAN."""
    return f"{X509_SAN_DNS}:{_dns_name(dns_name)}"


def _absolute_http_uri(uri: str) -> bool:
    if not isinstance(uri, str) or any(c.isspace() for c in uri) or "#" in uri:
        return False
    parts = urlsplit(uri)
    return parts.scheme in {"https", "http"} and bool(parts.hostname)


def redirect_uri_client_id(response_uri: str) -> str:
    """``redirect_uri:`` + the Response URI (§5.9.3); such requests are never signed."""
    if not _absolute_http_uri(response_uri):
        raise ValueError("the response URI is not an absolute http(s) URI without fragment")
    return f"{REDIRECT_URI}:{response_uri}"


def split_client_id(client_id: str) -> tuple[str, str]:
    """(prefix, original identifier); ProtocolError ``invalid_request`` for another prefix."""
    prefix, sep, value = client_id.partition(":") if isinstance(client_id, str) else ("", "", "")
    if not sep or prefix not in PREFIXES or not value:
        raise ProtocolError("invalid_request", "client_id prefix is not supported")
    return prefix, value


def _dns_sans(leaf: x509.Certificate) -> list[str]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in san.get_values_for_type(x509.DNSName)]


def check_request_signer(client_id: str, x5c: Sequence[str] | None) -> None:
    """§5.9.3: a signed prefix names the ``x5c`` leaf; ``redirect_uri`` comes without ``x5c``.

    ``x509_hash``: the hash of the leaf; ``x509_san_dns``: a dNSName SAN of the leaf. HAIP 1.0
    §5: the signing leaf is not self-signed and no trust anchor (self-signed root) is in
    ``x5c``. Raises ProtocolError ``invalid_request``.
    """
    prefix, value = split_client_id(client_id)
    if prefix == REDIRECT_URI:
        if x5c is not None:
            raise ProtocolError("invalid_request", "a redirect_uri request cannot be signed")
        return
    if not x5c or not isinstance(x5c, Sequence) or isinstance(x5c, str):
        raise ProtocolError("invalid_request", "signed request has no x5c")
    try:
        chain = [parse_certificate(entry) for entry in x5c]
    except InvalidCredential:
        raise ProtocolError("invalid_request", "x5c holds what is not a certificate") from None
    leaf = chain[0]
    if leaf.issuer == leaf.subject:
        raise ProtocolError("invalid_request", "x5c leaf is self-signed")  # HAIP 1.0 §5
    if any(cert.issuer == cert.subject for cert in chain):
        # HAIP 1.0 §5: the trust anchor (a self-signed root) is never in x5c.
        raise ProtocolError("invalid_request", "x5c includes a trust anchor")
    if prefix == X509_HASH and value != x509_hash(leaf):
        raise ProtocolError("invalid_request", "x509_hash does not match the x5c leaf")
    if prefix == X509_SAN_DNS and value.lower() not in _dns_sans(leaf):
        raise ProtocolError("invalid_request", "x509_san_dns name is not a SAN of the leaf")


def check_client_binding(client_id: str, *, x5c: Sequence[str] | None, response_uri: str) -> None:
    """What a Wallet checks of one request (§5.9.3), besides the signature and the chain.

    ``check_request_signer``, then: for ``x509_san_dns`` the Response URI's host is the DNS
    name (the case of a Wallet without a list of trusted Client Identifiers); for
    ``redirect_uri`` the identifier is the Response URI. Raises ProtocolError
    ``invalid_request``.
    """
    check_request_signer(client_id, x5c)
    prefix, value = split_client_id(client_id)
    if prefix == REDIRECT_URI and value != response_uri:
        raise ProtocolError("invalid_request", "redirect_uri client_id is not the response_uri")
    if prefix == X509_SAN_DNS and (urlsplit(response_uri).hostname or "") != value.lower():
        raise ProtocolError("invalid_request", "response_uri host is not the client_id")
