"""OpenID4VP 1.0 (final) §5 as a wallet: fetch and check a signed Request Object (RFC 9101 JAR).

By reference (``request_uri``, GET or, with ``request_uri_method=post``, a form POST carrying
``wallet_metadata`` and a ``wallet_nonce``, §5.10) or by value (``request``). A Request Object
must have ``typ`` oauth-authz-req+jwt (§5), verify with the leaf of its ``x5c``, name the same
``client_id`` as the URI (§5.10.1), carry back the ``wallet_nonce`` (§5.10.1) and the static
``aud`` (§5.8). ``x509_hash:`` must be the leaf's hash and ``x509_san_dns:`` one of its dNSName
SANs, with the response_uri on that host unless the chain is trusted (§5.9.3).

Named limit of the reference wallet: it trusts a verifier's certificate chain only when it is given
the verifier's root (``anchors``); without one, the signature and the client_id binding are still
checked and the request carries the warning ``verifier_chain_not_checked``. Other client_id
prefixes than x509_hash, x509_san_dns and redirect_uri are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from verifier import jose, strict_json, x509_trust
from verifier.errors import DuoError, ProtocolError
from verifier.holder.oid4vp_request import (
    FORM,
    AuthorizationRequest,
    read_parameters,
    split_request_uri,
    unsigned_request,
)
from verifier.holder.transport import HttpSession, send

JAR_TYP = "oauth-authz-req+jwt"
JAR_MEDIA_TYPE = "application/oauth-authz-req+jwt"
STATIC_AUD = "https://self-issued.me/v2"  # §5.8, static discovery
SIGNED_PREFIXES = frozenset({"x509_hash", "x509_san_dns"})
#: §10 wallet metadata sent with request_uri_method=post (§5.10).
WALLET_METADATA: dict[str, Any] = {
    "vp_formats_supported": {
        "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}
    },
    "client_id_prefixes_supported": ["x509_hash", "x509_san_dns", "redirect_uri"],
    "response_types_supported": ["vp_token"],
    "response_modes_supported": ["direct_post", "direct_post.jwt"],
    "request_object_signing_alg_values_supported": ["ES256"],
    "authorization_encryption_alg_values_supported": ["ECDH-ES"],
    "authorization_encryption_enc_values_supported": ["A128GCM", "A256GCM"],
}


def _invalid(detail: str) -> ProtocolError:
    return ProtocolError("request_invalid", detail)


def fetch_request_object(
    http: HttpSession, request_uri: str, *, method: str, wallet_nonce: str | None
) -> str:
    """§5.10 / RFC 9101 §5.2: the Request Object from ``request_uri`` by GET or POST."""
    headers = {"Accept": JAR_MEDIA_TYPE}
    if method == "post":
        form = {"wallet_metadata": strict_json.dumps(WALLET_METADATA)}
        if wallet_nonce is not None:
            form["wallet_nonce"] = wallet_nonce
        reply = send(
            http, "POST", request_uri, data=form, headers={**headers, "Content-Type": FORM}
        )
    else:
        reply = send(http, "GET", request_uri, headers=headers)
    # §5.10.2: any HTTP error (and any redirect, §14.4) ends the processing.
    if reply.status != 200:
        raise ProtocolError("request_object_unavailable", "the request_uri did not answer 200")
    if reply.content_type != JAR_MEDIA_TYPE:
        raise ProtocolError("request_object_unavailable", "the request_uri sent another type")
    try:
        return reply.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise _invalid("the Request Object is not a compact JWS") from None


def _leaf(header: Mapping[str, Any]) -> x509.Certificate:
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c:
        raise _invalid("the Request Object has no x5c")
    try:
        return x509_trust.parse_certificate(x5c[0])
    except DuoError:
        raise _invalid("the x5c leaf is not a certificate") from None


def _dns_names(leaf: x509.Certificate) -> set[str]:
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {name.lower() for name in names.get_values_for_type(x509.DNSName)}


def _check_client_id(leaf: x509.Certificate, client_id: str) -> None:
    """§5.9.3: the client_id is certified by the leaf that signed the request."""
    prefix, _, original = client_id.partition(":")
    if prefix == "x509_hash" and original == x509_trust.x509_hash(leaf):
        return
    if prefix == "x509_san_dns" and original.lower() in _dns_names(leaf):
        return
    raise ProtocolError("client_id_not_certified", "the certificate does not name the client_id")


def _check_trust(
    x5c: Sequence[str], anchors: Sequence[x509.Certificate] | None, now: datetime
) -> bool:
    """True once the chain validates to ``anchors``; False (a warning) when none are given."""
    if anchors is None:
        return False
    try:
        x509_trust.validate_chain(x5c, anchors, now=now)
    except DuoError:
        raise ProtocolError("verifier_untrusted", "the verifier's chain is not trusted") from None
    return True


def _check_claims(payload: Mapping[str, Any], wallet_nonce: str | None, now: datetime) -> None:
    if payload.get("aud") != STATIC_AUD:
        raise _invalid("the Request Object aud is not the static wallet audience")  # §5.8
    if wallet_nonce is not None and payload.get("wallet_nonce") != wallet_nonce:
        # §5.10.1: the wallet_nonce sent with the POST must come back in the Request Object.
        raise ProtocolError("wallet_nonce_mismatch", "the Request Object lacks the wallet_nonce")
    exp = payload.get("exp")
    if exp is not None and (
        isinstance(exp, bool) or not isinstance(exp, int | float) or exp <= now.timestamp()
    ):
        raise _invalid("the Request Object has expired")  # RFC 7519 §4.1.4


def verify_request_object(
    token: str,
    *,
    client_id: str,
    wallet_nonce: str | None,
    anchors: Sequence[x509.Certificate] | None,
    now: datetime,
) -> AuthorizationRequest:
    """A signed Request Object for ``client_id`` (x509_hash or x509_san_dns), checked."""
    prefix = client_id.partition(":")[0]
    if prefix not in SIGNED_PREFIXES:
        # redirect_uri requests cannot be signed (§5.9.3); other prefixes are not supported.
        raise ProtocolError("client_id_prefix_unsupported", "the client_id prefix is not supported")
    try:
        jws = jose.parse_compact(token, code="request_invalid")
    except DuoError:
        raise _invalid("the Request Object is not a compact JWS") from None
    if jws.header.get("typ") != JAR_TYP:
        raise _invalid("the Request Object typ is not oauth-authz-req+jwt")  # §5
    leaf = _leaf(jws.header)
    try:
        jose.verify_signature(jws, leaf.public_key(), algorithms=jose.ASYMMETRIC_ALGS)
    except DuoError:
        raise ProtocolError(
            "request_signature_invalid", "the Request Object does not verify"
        ) from None
    _check_client_id(leaf, client_id)
    _check_claims(jws.payload, wallet_nonce, now)
    trusted = _check_trust(jws.header["x5c"], anchors, now)
    warnings = [] if trusted else ["verifier_chain_not_checked"]
    found = read_parameters(
        jws.payload, client_id=client_id, signed=True, trusted=trusted, warnings=warnings
    )
    host = urlsplit(found.response_uri).hostname or ""
    if (
        prefix == "x509_san_dns"
        and not trusted
        and host.lower() != client_id.partition(":")[2].lower()
    ):
        # §5.9.3: without trust in the client_id, the response_uri's host is the dNSName.
        raise ProtocolError("response_uri_invalid", "the response_uri is not on the named host")
    return found


def load_request(
    http: HttpSession,
    uri: str,
    *,
    anchors: Sequence[x509.Certificate] | None,
    now: datetime,
    wallet_nonce: str,
) -> AuthorizationRequest:
    """The checked request of ``uri``: by reference, signed by value, or unsigned by value.

    ``wallet_nonce`` is sent (and expected back) only when the request asks for a POST.
    """
    values = split_request_uri(uri)
    client_id = values.get("client_id")
    if not client_id:
        raise ProtocolError("request_uri_invalid", "the request has no client_id")
    method = values.get("request_uri_method")
    if "request_uri" in values:
        if method not in (None, "get", "post"):
            # §5.1 / §8.5: neither get nor post (case-sensitive).
            raise ProtocolError("invalid_request_uri_method", "request_uri_method is unknown")
        sent = wallet_nonce if method == "post" else None
        token = fetch_request_object(
            http, values["request_uri"], method=method or "get", wallet_nonce=sent
        )
        return verify_request_object(
            token, client_id=client_id, wallet_nonce=sent, anchors=anchors, now=now
        )
    if method is not None:
        raise ProtocolError("request_uri_invalid", "request_uri_method without request_uri")
    if "request" in values:
        return verify_request_object(
            values["request"], client_id=client_id, wallet_nonce=None, anchors=anchors, now=now
        )
    return unsigned_request(values)
