"""OAuth 2.0 Attestation-Based Client Authentication (draft-ietf-oauth-attestation-based-client-
auth; sections as numbered in -10: §4 attestation, §5.1 PoP, §7.1-§7.2 checks), OpenID4VCI 1.0
Appendix E, HAIP 1.0 §4.4.1: the wallet authenticates at PAR and token with two headers.

- ``OAuth-Client-Attestation``: a JWT (``typ`` oauth-client-attestation+jwt) signed by the
  wallet provider's key, which comes from an ``x5c`` chain to a configured wallet provider trust
  anchor (DUO_WALLET_PROVIDER_ANCHORS; no anchor inside ``x5c``, no self-signed leaf: VCI-20).
  Claims: ``sub`` (the client_id), ``exp``, ``cnf.jwk`` (a public key); ``nbf``/``iat`` if sent.
- ``OAuth-Client-Attestation-PoP``: a JWT (``typ`` oauth-client-attestation-pop+jwt) signed by
  the ``cnf`` key, with ``aud`` = the issuer identifier, a single-use ``jti`` and a recent
  ``iat``. DUO runs no challenge endpoint, so a ``challenge`` claim is not checked.

ES256 only (HAIP 1.0 §7). Failures are 401 ``invalid_client`` (RFC 6749 §5.2, SPECS §8 items
17-18); a header sent twice or not a JWS is 400 ``invalid_request``. Not supported (named
limits): the DPoP "combined mode" (-10 §5.2) and attestation challenges (§6).

Without configured anchors no attestation can be trusted: when attestation is required every
request is refused (``invalid_client``); when it is not, attestation headers are ignored and the
client stays an unauthenticated public client, exactly as if it had sent none.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeGuard

from cryptography import x509
from sqlalchemy import Connection

from issuer.app import services
from issuer.db.nonces import remember_once
from verifier import jose
from verifier.errors import DuoError, InvalidCredential, ProtocolError
from verifier.x509_trust import leaf_public_key, load_anchors_pem, validate_chain

ATTESTATION_HEADER = "OAuth-Client-Attestation"
POP_HEADER = "OAuth-Client-Attestation-PoP"
ATTESTATION_TYP = "oauth-client-attestation+jwt"
POP_TYP = "oauth-client-attestation-pop+jwt"
ALGS = ("ES256",)
POP_MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
JTI_KIND = "attest_jti"
MAX_JWT_CHARS = 16384
MAX_CLAIM_CHARS = 200  # the client_id column


class HeaderSource(Protocol):
    """Request headers (werkzeug's Headers fits): every value of a field."""

    def getlist(self, key: str) -> list[str]: ...


def _invalid_client(detail: str) -> ProtocolError:
    return ProtocolError("invalid_client", detail, status=401)


@functools.lru_cache(maxsize=8)
def _anchors(pems: tuple[str, ...]) -> tuple[x509.Certificate, ...]:
    return tuple(load_anchors_pem(list(pems)))


def _one_header(headers: HeaderSource, name: str) -> str | None:
    values = headers.getlist(name)
    if len(values) > 1:
        raise ProtocolError("invalid_request", "a client attestation header was sent twice")
    return values[0] if values else None


def _parse(token: str) -> jose.CompactJws:
    if len(token) > MAX_JWT_CHARS:
        raise ProtocolError("invalid_request", "a client attestation header is too long")
    try:
        return jose.parse_compact(token)
    except InvalidCredential:
        raise ProtocolError("invalid_request", "a client attestation header is not a JWT") from None


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_times(payload: dict[str, Any], now: datetime, *, exp_required: bool) -> None:
    """RFC 7519 §4.1.4-§4.1.6 with CLOCK_SKEW: ``exp`` not passed, ``nbf``/``iat`` not ahead."""
    moment, skew = now.timestamp(), CLOCK_SKEW.total_seconds()
    exp = payload.get("exp")
    if (exp_required or exp is not None) and not (_number(exp) and exp > moment - skew):
        raise _invalid_client("client attestation exp is missing or has passed")
    for claim in ("nbf", "iat"):
        value = payload.get(claim)
        if value is not None and not (_number(value) and value <= moment + skew):
            raise _invalid_client("client attestation is not yet valid")


def _attestation(
    token: str, anchors: Sequence[x509.Certificate], now: datetime
) -> tuple[str, dict[str, Any]]:
    """The Client Attestation JWT (-10 §4, §7.1): its ``sub`` and ``cnf.jwk``."""
    jws = _parse(token)
    if jws.header.get("typ") != ATTESTATION_TYP:
        raise _invalid_client("client attestation typ is wrong")
    try:
        x5c: Any = jws.header.get("x5c")
        leaf = validate_chain(x5c, anchors, now=now)
        jose.verify_signature(jws, leaf_public_key(leaf), algorithms=ALGS)
    except DuoError:  # InvalidCredential or VerificationIncomplete: not trusted either way
        raise _invalid_client("client attestation is not signed by a trusted wallet provider") \
            from None
    sub = jws.payload.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_CLAIM_CHARS:
        raise _invalid_client("client attestation sub is missing or malformed")
    _check_times(jws.payload, now, exp_required=True)
    cnf = jws.payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise _invalid_client("client attestation has no cnf.jwk")
    try:
        jose.public_key_from_jwk(jwk)  # a public key: no "d" (-10 §7.1)
    except InvalidCredential:
        raise _invalid_client("client attestation cnf.jwk is not a public key") from None
    return sub, jwk


def _audience_ok(aud: Any, audience: str) -> bool:
    return bool(aud == audience or aud == [audience])


def _pop(token: str, *, sub: str, cnf_jwk: dict[str, Any], audience: str, now: datetime) -> str:
    """The Client Attestation PoP JWT (-10 §5.1, §7.2); returns its ``jti``."""
    jws = _parse(token)
    if jws.header.get("typ") != POP_TYP:
        raise _invalid_client("client attestation PoP typ is wrong")
    try:
        jose.verify_signature(jws, cnf_jwk, algorithms=ALGS)  # the cnf key only (-10 §7.2)
    except InvalidCredential:
        raise _invalid_client("client attestation PoP is not signed by the cnf key") from None
    payload = jws.payload
    if not _audience_ok(payload.get("aud"), audience):
        raise _invalid_client("client attestation PoP aud is not this issuer")
    jti = payload.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise _invalid_client("client attestation PoP jti is missing or malformed")
    iat, moment = payload.get("iat"), now.timestamp()
    if not _number(iat) or not (
        moment - POP_MAX_AGE.total_seconds() <= iat <= moment + CLOCK_SKEW.total_seconds()
    ):
        raise _invalid_client("client attestation PoP iat is missing or outside the window")
    _check_times(payload, now, exp_required=False)
    if "iss" in payload and payload["iss"] != sub:  # drafts up to -04 put the client_id here
        raise _invalid_client("client attestation PoP iss is not the client")
    return jti


def verify_client_attestation(
    attestation: str,
    pop: str,
    *,
    anchors: Sequence[x509.Certificate],
    audience: str,
    conn: Connection,
    now: datetime,
) -> str:
    """Check an attestation and its PoP; the attested client_id (``sub``)."""
    sub, cnf_jwk = _attestation(attestation, anchors, now)
    jti = _pop(pop, sub=sub, cnf_jwk=cnf_jwk, audience=audience, now=now)
    # Replay (-10 §11.1): a PoP jti is accepted once per client while its iat could pass.
    seen = hashlib.sha256(f"{sub}\x00{jti}".encode()).hexdigest()
    window = POP_MAX_AGE + CLOCK_SKEW * 2
    if not remember_once(conn, JTI_KIND, seen, now=now, lifetime=window):
        raise _invalid_client("client attestation PoP jti was used before")
    return sub


def check_client_attestation(
    *,
    headers: HeaderSource,
    conn: Connection,
    now: datetime,
    audience: str,
    required: bool,
    anchors_pem: Sequence[str] | None = None,
) -> str | None:
    """The attested client_id of the request, or None when it sent no attestation (or, without
    anchors, an attestation that cannot be trusted; see the module docstring) and attestation
    is not ``required``. ``audience`` is the issuer identifier; ``anchors_pem`` defaults to the
    app's configured wallet provider anchors (Settings.wallet_provider_anchors)."""
    if anchors_pem is None:
        anchors_pem = services().settings.wallet_provider_anchors
    attestation = _one_header(headers, ATTESTATION_HEADER)
    pop = _one_header(headers, POP_HEADER)
    if (attestation is None and pop is None) or not anchors_pem:
        if required:
            raise _invalid_client("a trusted client attestation is required")
        return None
    if attestation is None or pop is None:
        raise _invalid_client("client attestation and its PoP must be sent together")
    try:
        anchors = _anchors(tuple(anchors_pem))
    except InvalidCredential:
        raise _invalid_client("no wallet provider is trusted") from None
    return verify_client_attestation(
        attestation, pop, anchors=anchors, audience=audience, conn=conn, now=now
    )
