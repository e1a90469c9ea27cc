"""OpenID4VP 1.0 (final) §5 Authorization Request, as a Request Object (RFC 9101 JAR).

The claims of §5 (SPECS VP-1..VP-7) with HAIP 1.0 §5: ``response_type`` ``vp_token``,
``response_mode`` ``direct_post`` or ``direct_post.jwt`` with a ``response_uri`` and never a
``redirect_uri`` (§8.2), a fresh ``nonce`` and ``state``, the ``dcql_query``, ``aud``
``https://self-issued.me/v2`` (§5.8, static discovery) and ``client_metadata`` (§5.1, §11.1):
``vp_formats_supported`` and, for ``direct_post.jwt`` (§8.3), the request's own ephemeral
ECDH-ES P-256 key with ``kid`` and both ``enc`` values HAIP requires. A request signed with the
``x5c`` leaf travels by reference (``request_uri``, §5.10 for ``post``); a ``redirect_uri``
request travels by value, unsigned (§5.9.3). Randomness comes from the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from verifier import jose, strict_json
from verifier.errors import InvalidCredential, ProtocolError
from verifier.oid4vp import client_id as client_ids
from verifier.oid4vp.dcql import check_dcql

REQUEST_TYP = "oauth-authz-req+jwt"
#: §5.8: the audience of a Request Object under static discovery.
STATIC_AUDIENCE = "https://self-issued.me/v2"
RESPONSE_MODES = frozenset({"direct_post", "direct_post.jwt"})
REQUEST_URI_METHODS = frozenset({"get", "post"})
#: HAIP 1.0 §5: Verifiers list both (the Wallet picks; A256GCM when it supports both).
ENC_VALUES = ("A128GCM", "A256GCM")
RESPONSE_ALG = "ECDH-ES"
#: What this verifier accepts (B.1.3, B.3.4; HAIP 1.0 §7: ES256).
VP_FORMATS_SUPPORTED: dict[str, Any] = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
    "jwt_vc_json": {"alg_values": ["ES256"]},
}
SCHEME = "openid4vp://"
#: §5.2: nonce and state use only ASCII URL-safe characters. 22 base64url characters are 128 bits
#: (SPECS VP-2 [S], VP-3), the least this module accepts.
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]{22,512}")
RANDOM_BYTES = 32


def random_value(source: Callable[[int], bytes]) -> str:
    """A nonce, state or response code: base64url of RANDOM_BYTES bytes from ``source``
    (e.g. ``secrets.token_bytes``)."""
    data = source(RANDOM_BYTES)
    if len(data) != RANDOM_BYTES:
        raise ValueError("the random source returned the wrong number of bytes")
    return jose.b64url_encode(data)


def _published_key(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public members of the response encryption key, as §5.1 and §8.3 want them."""
    try:
        jose.check_jwe_recipient({k: v for k, v in jwk.items() if k != "d"}, alg=RESPONSE_ALG)
    except InvalidCredential:
        raise ValueError("the encryption key is not an ECDH-ES P-256 key") from None
    if not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
        raise ValueError("the encryption key has no kid")  # §5.1: each key has a kid
    public = {name: jwk[name] for name in ("kty", "crv", "x", "y", "kid")}
    return {**public, "use": "enc", "alg": RESPONSE_ALG}  # §8.3: alg MUST be present


def client_metadata(encryption_jwk: Mapping[str, Any] | None) -> dict[str, Any]:
    """§5.1 ``client_metadata``: formats, plus the ephemeral key and ``enc`` values if any."""
    metadata: dict[str, Any] = {"vp_formats_supported": VP_FORMATS_SUPPORTED}
    if encryption_jwk is not None:
        metadata["jwks"] = {"keys": [_published_key(encryption_jwk)]}
        metadata["encrypted_response_enc_values_supported"] = list(ENC_VALUES)
    return metadata


def _prefix(client_id: str) -> tuple[str, str]:
    try:
        return client_ids.split_client_id(client_id)
    except ProtocolError:
        raise ValueError("client_id prefix is not supported") from None


def _check_parameters(
    client_id: str, response_uri: str, response_mode: str, nonce: str, state: str
) -> None:
    prefix, original = _prefix(client_id)
    if prefix == client_ids.REDIRECT_URI and original != response_uri:
        raise ValueError("a redirect_uri client_id is the response_uri")  # §5.9.3
    client_ids.redirect_uri_client_id(response_uri)  # an absolute http(s) URI
    if response_mode not in RESPONSE_MODES:
        raise ValueError("response_mode must be direct_post or direct_post.jwt")
    for random in (nonce, state):
        if not isinstance(random, str) or not _URL_SAFE.fullmatch(random):
            raise ValueError("nonce and state must be URL-safe and at least 128 bits")


def request_object_claims(
    *,
    client_id: str,
    response_uri: str,
    response_mode: str,
    nonce: str,
    state: str,
    dcql_query: dict[str, Any],
    encryption_jwk: dict[str, Any] | None,
    wallet_nonce: str | None,
    iat: int,
) -> dict[str, Any]:
    """The Request Object's claims (see the module docstring).

    ``encryption_jwk`` (public or private; only its public members are published) is required
    for ``direct_post.jwt`` and refused otherwise. ``wallet_nonce`` is echoed when the Wallet
    sent one (§5.10, SPECS VP-7). ValueError for anything a Wallet would refuse; the query is
    checked with ``check_dcql`` (ProtocolError ``invalid_request``).
    """
    _check_parameters(client_id, response_uri, response_mode, nonce, state)
    if (encryption_jwk is None) != (response_mode == "direct_post"):
        raise ValueError("direct_post.jwt needs an encryption key, direct_post none")
    check_dcql(dcql_query)
    claims: dict[str, Any] = {
        "iss": client_id,  # RFC 9101 §4; §5: a Wallet ignores it
        "aud": STATIC_AUDIENCE,
        "iat": iat,
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": response_mode,
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": dcql_query,
        "client_metadata": client_metadata(encryption_jwk),
    }
    if wallet_nonce is not None:
        if not isinstance(wallet_nonce, str) or not wallet_nonce:
            raise ValueError("wallet_nonce must be a non-empty string")
        claims["wallet_nonce"] = wallet_nonce
    return claims


def sign_request_object(
    claims: dict[str, Any], *, signer: jose.Signer, alg: str, x5c: list[str]
) -> str:
    """The signed Request Object: header ``alg``, ``typ`` oauth-authz-req+jwt (§5, SPECS VP-1)
    and ``x5c`` (leaf first, no trust anchor: HAIP 1.0 §5). The client_id must name the leaf
    (§5.9.3); a ``redirect_uri`` client_id cannot be signed. ValueError otherwise."""
    if alg not in jose.ASYMMETRIC_ALGS:
        raise ValueError("the request signing alg must be asymmetric")
    try:
        client_ids.check_request_signer(claims.get("client_id", ""), list(x5c))
    except ProtocolError:
        raise ValueError("the client_id does not name the x5c leaf") from None
    header = {"alg": alg, "typ": REQUEST_TYP, "x5c": list(x5c)}
    return jose.sign_compact(header, claims, signer)


def authorization_request_uri(*, client_id: str, request_uri: str, request_uri_method: str) -> str:
    """``openid4vp://?client_id=..&request_uri=..`` (RFC 9101 §5.2), with
    ``request_uri_method=post`` when the Wallet is to POST (§5.10); ``get`` is the default
    and is left out."""
    if request_uri_method not in REQUEST_URI_METHODS:
        raise ValueError("request_uri_method must be get or post")
    _prefix(client_id)
    parameters = {"client_id": client_id, "request_uri": request_uri}
    if request_uri_method == "post":
        parameters["request_uri_method"] = "post"
    return SCHEME + "?" + urlencode(parameters, quote_via=quote)


#: JWT claims of the Request Object that are no Authorization Request parameters.
_JWT_ONLY = frozenset({"iss", "aud", "iat", "exp", "nbf", "jti"})


def unsigned_request_uri(*, claims: dict[str, Any]) -> str:
    """The Authorization Request by value (``redirect_uri`` prefix only, §5.9.3): every claim
    but the JWT ones as a query parameter, objects JSON-serialized (§5.1)."""
    prefix, _ = _prefix(claims.get("client_id", ""))
    if prefix != client_ids.REDIRECT_URI:
        raise ValueError("only a redirect_uri request is sent unsigned")
    parameters = {
        name: value if isinstance(value, str) else strict_json.dumps(value)
        for name, value in claims.items()
        if name not in _JWT_ONLY
    }
    return SCHEME + "?" + urlencode(parameters, quote_via=quote)
