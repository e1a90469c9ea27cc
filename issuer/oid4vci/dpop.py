"""DPoP: RFC 9449 §4.3 (checking a proof), §7 (protected resources), §8-§9 (server nonces),
§10 (authorization code binding), §11.1 (replay); HAIP 1.0 §4 (DPoP and DPoP nonces mandatory).

``check_dpop`` checks the one ``DPoP`` header of a request and returns the RFC 7638 thumbprint
of its key. Proofs are ES256 only (HAIP 1.0 §7). Policy:

- a proof's ``iat`` may be at most ``PROOF_MAX_AGE`` old and ``CLOCK_SKEW`` ahead; its ``jti``
  is remembered (per key) for that whole window, so a replay is refused;
- server nonces are single-use values of kind ``dpop_nonce``. When ``required`` (DUO_REQUIRE_DPOP),
  every proof must carry a live one; without ``required`` a proof may omit it, but one it carries
  must be live. A missing or stale nonce is ``use_dpop_nonce`` with a fresh ``DPoP-Nonce``;
  endpoints send a fresh nonce with each successful response too (``new_dpop_nonce``).
- errors: 400 at the token and PAR endpoints (§5); 401 with ``WWW-Authenticate: DPoP`` at a
  protected resource (§7.1, §9), i.e. whenever ``access_token`` is given.

A protected resource calls ``check_dpop(..., access_token=token)`` (which checks ``ath``), loads
the token, then ``check_token_binding`` (§7.1: a DPoP-bound token needs the DPoP scheme and a
proof by its key, SPECS §8 items 22-23).

The ``DPoP-Nonce`` of a ``use_dpop_nonce`` error is made when the error response is built, on a
connection of its own: the failing request's transaction is rolled back, and a nonce stored in
it would be lost. So read ``headers`` of that error only after the request's transaction ended
(the app's error handler does).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeGuard
from urllib.parse import urlsplit

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from issuer.db.nonces import consume_nonce, new_nonce, remember_once
from verifier import jose
from verifier.errors import InvalidCredential, ProtocolError

DPOP_ALGS = ("ES256",)
TYP = "dpop+jwt"
PROOF_MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
NONCE_LIFETIME = timedelta(minutes=5)
NONCE_KIND = "dpop_nonce"
JTI_KIND = "dpop_jti"
MAX_PROOF_CHARS = 8192
MAX_JTI_CHARS = 256
_DEFAULT_PORTS = {"http": 80, "https": 443}


class HeaderSource(Protocol):
    """Request headers (werkzeug's Headers fits): every value of a field."""

    def getlist(self, key: str) -> list[str]: ...


def new_dpop_nonce(conn: Connection, *, now: datetime) -> str:
    """A fresh server nonce (RFC 9449 §8) to send as ``DPoP-Nonce``; stored with ``conn``."""
    return new_nonce(conn, NONCE_KIND, now=now, lifetime=NONCE_LIFETIME)


def _challenge(error: str) -> dict[str, str]:
    """RFC 9449 §7.1: the DPoP authentication scheme challenge of a protected resource."""
    return {"WWW-Authenticate": f'DPoP error="{error}", algs="{" ".join(DPOP_ALGS)}"'}


def _invalid(resource: bool, detail: str) -> ProtocolError:
    if resource:
        return ProtocolError(
            "invalid_dpop_proof", detail, status=401, headers=_challenge("invalid_dpop_proof")
        )
    return ProtocolError("invalid_dpop_proof", detail, status=400)


class UseDpopNonce(ProtocolError):
    """``use_dpop_nonce`` (RFC 9449 §8, §9) whose ``DPoP-Nonce`` is minted when first read."""

    def __init__(self, *, resource: bool, engine: Engine, now: datetime) -> None:
        self._engine = engine
        self._now = now
        self._nonce: str | None = None
        super().__init__(
            "use_dpop_nonce",
            "a fresh DPoP nonce is required",
            status=401 if resource else 400,
            headers=_challenge("use_dpop_nonce") if resource else {},
        )

    @property
    def headers(self) -> dict[str, str]:
        if self._nonce is None:
            with self._engine.begin() as conn:  # its own transaction: see the module docstring
                self._nonce = new_dpop_nonce(conn, now=self._now)
        return {**self._base_headers, "DPoP-Nonce": self._nonce}

    @headers.setter
    def headers(self, value: dict[str, str]) -> None:
        self._base_headers = dict(value)


def htu_form(url: Any) -> str | None:
    """RFC 9449 §4.3 step 9: the URI without query and fragment, scheme-normalized (RFC 3986
    §6.2.2-§6.2.3: case of scheme and host, default port, empty path); None if unusable."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port, host = parts.port, parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def _parse(value: str, resource: bool) -> jose.CompactJws:
    if len(value) > MAX_PROOF_CHARS:
        raise _invalid(resource, "DPoP proof is too long")
    try:
        return jose.parse_compact(value)
    except InvalidCredential:
        raise _invalid(resource, "DPoP proof is not a compact JWS") from None


def _proof_key(proof: jose.CompactJws, resource: bool) -> dict[str, Any]:
    """§4.3 steps 4-7: typ, an asymmetric supported alg, a public jwk, a valid signature."""
    if proof.header.get("typ") != TYP:
        raise _invalid(resource, "DPoP proof typ is not dpop+jwt")
    if proof.header.get("alg") not in DPOP_ALGS:
        raise _invalid(resource, "DPoP proof alg is not supported")
    jwk = proof.header.get("jwk")
    if not isinstance(jwk, dict):
        raise _invalid(resource, "DPoP proof has no jwk")
    try:
        key = jose.public_key_from_jwk(jwk)  # refuses private (d) and symmetric keys
        jose.verify_signature(proof, key, algorithms=DPOP_ALGS)
        jose.jwk_thumbprint(jwk)
    except InvalidCredential:
        raise _invalid(resource, "DPoP proof key or signature is invalid") from None
    return jwk


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_claims(
    payload: dict[str, Any], *, method: str, url: str, now: datetime,
    access_token: str | None, resource: bool,
) -> str:
    """§4.3 steps 3, 8-9, 11-12: jti, htm, htu, iat window, ath; returns the jti."""
    jti = payload.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_CHARS:
        raise _invalid(resource, "DPoP proof jti is missing or malformed")
    if payload.get("htm") != method:
        raise _invalid(resource, "DPoP proof htm does not match the request method")
    expected = htu_form(url)
    if expected is None or htu_form(payload.get("htu")) != expected:
        raise _invalid(resource, "DPoP proof htu does not match the request URI")
    iat = payload.get("iat")
    moment = now.timestamp()
    if not _number(iat) or not (
        moment - PROOF_MAX_AGE.total_seconds() <= iat <= moment + CLOCK_SKEW.total_seconds()
    ):
        raise _invalid(resource, "DPoP proof iat is missing or outside the accepted window")
    if access_token is not None:  # §4.3 step 12, §7.1: ath binds the proof to the token
        ath = jose.b64url_encode(hashlib.sha256(access_token.encode("ascii", "replace")).digest())
        given = payload.get("ath")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), ath.encode()):
            raise _invalid(resource, "DPoP proof ath does not match the access token")
    return jti


def _check_nonce(
    payload: dict[str, Any], *, conn: Connection, now: datetime, required: bool, resource: bool
) -> None:
    """§4.3 step 10, §8: a live server nonce when required or when one is sent."""
    if "nonce" not in payload and not required:
        return
    nonce = payload.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise _invalid(resource, "DPoP proof nonce is not a string")
    if nonce is None or not consume_nonce(conn, NONCE_KIND, nonce, now=now):
        raise UseDpopNonce(resource=resource, engine=conn.engine, now=now)


def check_dpop(
    *,
    method: str,
    url: str,
    headers: HeaderSource,
    conn: Connection,
    now: datetime,
    access_token: str | None,
    required: bool,
) -> str | None:
    """Check the request's DPoP proof (RFC 9449 §4.3); its key's thumbprint, or None if the
    request has no ``DPoP`` header and none is ``required``.

    ``url`` is the public URL of the endpoint (the issuer identifier plus the path), never the
    URL as the app sees it behind a proxy. ``access_token`` is given at protected resources.
    """
    resource = access_token is not None
    values = headers.getlist("DPoP")
    if not values:
        if required:
            raise _invalid(resource, "a DPoP proof is required")
        return None
    if len(values) != 1:  # §4.3 step 1: exactly one DPoP header
        raise _invalid(resource, "exactly one DPoP header is allowed")
    proof = _parse(values[0], resource)
    jwk = _proof_key(proof, resource)
    jti = _check_claims(
        proof.payload, method=method, url=url, now=now, access_token=access_token,
        resource=resource,
    )
    jkt = jose.jwk_thumbprint(jwk)
    _check_nonce(proof.payload, conn=conn, now=now, required=required, resource=resource)
    # §11.1: a jti is accepted once per key for as long as its proof could be accepted.
    seen = hashlib.sha256(f"{jkt}\x00{jti}".encode()).hexdigest()
    window = PROOF_MAX_AGE + CLOCK_SKEW * 2
    if not remember_once(conn, JTI_KIND, seen, now=now, lifetime=window):
        raise _invalid(resource, "DPoP proof jti was used before")
    return jkt


def check_token_binding(*, scheme: str, token_jkt: str | None, proof_jkt: str | None) -> None:
    """RFC 9449 §7.1-§7.2 at a protected resource: a token bound to a key (``token_jkt``) is
    presented with the ``DPoP`` scheme and a proof by that key; an unbound token with ``Bearer``.

    ``scheme`` is the Authorization header's scheme; ``proof_jkt`` what ``check_dpop`` returned.
    """
    dpop_scheme = scheme.lower() == "dpop"  # RFC 9110 §11.1: schemes are case-insensitive
    if token_jkt is None:
        if dpop_scheme:
            raise ProtocolError("invalid_token", "the access token is not DPoP-bound",
                                status=401, headers=_challenge("invalid_token"))
        return
    if not dpop_scheme:  # SPECS §8 item 22: a DPoP-bound token sent as Bearer
        raise ProtocolError("invalid_token", "a DPoP-bound token needs the DPoP scheme",
                            status=401, headers=_challenge("invalid_token"))
    if proof_jkt is None:
        raise _invalid(True, "a DPoP proof is required")
    if not hmac.compare_digest(proof_jkt.encode(), token_jkt.encode()):  # item 23
        raise ProtocolError("invalid_token", "the DPoP proof key is not the token's key",
                            status=401, headers=_challenge("invalid_token"))
