"""Key proofs: OpenID4VCI 1.0 Appendix F.1 (``jwt``), F.3 (``attestation``), F.4 (verifying)
and Appendix D.1 (key attestations in JWT format); HAIP 1.0 §4.5.1 and §7 (ES256).

Pure: the caller passes the issuer identifier, the client_id of the token, the wallet-provider
trust anchors and ``now``, and consumes the returned c_nonces in its own transaction. Every
failure is ``ProtocolError("invalid_proof")`` (SPECS §8 items 33-40, 42, 43, 45); whether a nonce
is live is the caller's decision (``invalid_nonce``, items 41 and 44).

Key attestations are accepted only when verifiable: with configured wallet-provider anchors the
``x5c`` chain must validate to one of them (RFC 5280); without anchors the signature is checked
with the ``x5c`` leaf (which must be inside its validity period and not self-issued, HAIP §4.5.1)
and the attestation proves only that the attested keys were listed together, not who vouches for
them. ``kid``-only and ``trust_chain`` attestations are refused (no key resolution for them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from verifier import jose, x509_trust
from verifier.errors import InvalidCredential, ProtocolError, VerificationIncomplete

PROOF_TYP = "openid4vci-proof+jwt"
KEY_ATTESTATION_TYP = "key-attestation+jwt"
#: ``proof_signing_alg_values_supported`` of every configuration (HAIP 1.0 §7: ES256).
PROOF_SIGNING_ALGS = ("ES256",)
#: How old (``iat``) a proof may be, and how far ahead of our clock (§13.8 key proof replay).
MAX_PROOF_AGE = timedelta(minutes=5)
MAX_CLOCK_SKEW = timedelta(seconds=60)
#: JWK members that only a private or symmetric key has (F.4: no private key in the header).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_PUBLIC_MEMBERS = {"EC": ("kty", "crv", "x", "y"), "OKP": ("kty", "crv", "x"),
                   "RSA": ("kty", "n", "e")}


@dataclass(frozen=True)
class ProvenKeys:
    """What one proof establishes: holder keys (one credential each) and the c_nonces it used."""

    keys: tuple[dict[str, Any], ...]
    nonces: frozenset[str]


@dataclass(frozen=True)
class KeyAttestation:
    keys: tuple[dict[str, Any], ...]
    nonce: str


def _invalid(detail: str) -> ProtocolError:
    return ProtocolError("invalid_proof", detail)


def holder_jwk(jwk: Any) -> dict[str, Any]:
    """The public JWK to bind a credential to, reduced to its key members; raises invalid_proof."""
    if not isinstance(jwk, dict) or _PRIVATE_MEMBERS & jwk.keys():
        raise _invalid("proof key is not a public JWK")
    members = _PUBLIC_MEMBERS.get(jwk.get("kty", ""))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise _invalid("proof key is not a usable public JWK")
    public = {m: jwk[m] for m in members}
    try:
        jose.public_key_from_jwk(public)
    except InvalidCredential:
        raise _invalid("proof key is not a usable public JWK") from None
    return public


def _parse(token: Any, typ: str) -> jose.CompactJws:
    """F.4: a compact JWS, explicitly typed, with an allowed asymmetric alg and no crit."""
    if not isinstance(token, str):
        raise _invalid("proof is not a compact JWT")
    try:
        jws = jose.parse_compact(token)
    except InvalidCredential:
        raise _invalid("proof is not a compact JWT") from None
    if jws.header.get("typ") != typ:
        raise _invalid("proof typ is wrong")
    if jws.header["alg"] not in PROOF_SIGNING_ALGS:
        raise _invalid("proof alg is not supported")
    if "crit" in jws.header:
        raise _invalid("proof has critical header parameters")
    return jws


def _check_signature(jws: jose.CompactJws, key: Any) -> None:
    try:
        jose.verify_signature(jws, key, algorithms=PROOF_SIGNING_ALGS)
    except InvalidCredential:
        raise _invalid("proof signature does not verify") from None


def _int_claim(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("proof time claim is not an integer")
    return value


def _nonce(payload: dict[str, Any]) -> str:
    """F.1: the c_nonce is required because DUO has a Nonce Endpoint (SPECS §8 item 40)."""
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise _invalid("proof has no c_nonce")
    return nonce


def _attestation_leaf(
    x5c: Any, anchors: Sequence[x509.Certificate], now: datetime
) -> x509.Certificate:
    """The verified x5c leaf of a key attestation (module docstring: trust)."""
    try:
        if anchors:
            return x509_trust.validate_chain(x5c, anchors, now=now)
        if not isinstance(x5c, list) or not x5c:
            raise _invalid("key attestation has no x5c")
        leaf = x509_trust.parse_certificate(x5c[0])
    except (InvalidCredential, VerificationIncomplete):
        raise _invalid("key attestation certificate is not trusted") from None
    if leaf.subject == leaf.issuer:
        raise _invalid("key attestation certificate is self-signed")
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise _invalid("key attestation certificate is expired")
    return leaf


def _attested_keys(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not value:
        raise _invalid("key attestation has no attested_keys")
    keys = tuple(holder_jwk(jwk) for jwk in value)
    if len({jose.jwk_thumbprint(k) for k in keys}) != len(keys):
        raise _invalid("key attestation lists a key twice")
    return keys


def verify_key_attestation(
    token: Any, *, anchors: Sequence[x509.Certificate], now: datetime, in_jwt_proof: bool
) -> KeyAttestation:
    """App. D.1: a verified key attestation's keys and its nonce (items 43, 45)."""
    jws = _parse(token, KEY_ATTESTATION_TYP)
    if "x5c" not in jws.header:
        raise _invalid("key attestation has no x5c")
    leaf = _attestation_leaf(jws.header["x5c"], anchors, now)
    _check_signature(jws, x509_trust.leaf_public_key(leaf))
    iat, exp = _int_claim(jws.payload, "iat"), _int_claim(jws.payload, "exp")
    moment = int(now.timestamp())
    if iat is None or iat > moment + MAX_CLOCK_SKEW.total_seconds():
        raise _invalid("key attestation iat is missing or in the future")
    if (exp is None and in_jwt_proof) or (exp is not None and exp <= moment):
        raise _invalid("key attestation is expired or has no exp")
    return KeyAttestation(_attested_keys(jws.payload.get("attested_keys")), _nonce(jws.payload))


def _check_claims(
    payload: dict[str, Any], *, audience: str, client_id: str | None, now: datetime
) -> str:
    """F.1 payload: aud, iat window, iss rule; returns the nonce (items 38-40, 42)."""
    aud = payload.get("aud")  # F.1 names a string; RFC 7519 §4.1.3 also allows an array
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise _invalid("proof aud is not this credential issuer")
    iat, moment = _int_claim(payload, "iat"), now.timestamp()
    if iat is None or not moment - MAX_PROOF_AGE.total_seconds() <= iat <= (
        moment + MAX_CLOCK_SKEW.total_seconds()
    ):
        raise _invalid("proof iat is missing or outside the window")
    exp = _int_claim(payload, "exp")
    if exp is not None and exp <= moment:
        raise _invalid("proof is expired")
    if "iss" in payload and (client_id is None or payload["iss"] != client_id):
        # F.1: omitted for anonymous pre-authorized access, else the client_id.
        raise _invalid("proof iss is not the client_id")
    return _nonce(payload)


def _signing_key(header: dict[str, Any]) -> Any:
    """The key named by exactly one of jwk / x5c (``kid`` cannot be resolved here)."""
    if "jwk" in header:
        return holder_jwk(header["jwk"])
    if "x5c" in header:
        try:
            cert = x509_trust.parse_certificate(
                header["x5c"][0] if isinstance(header["x5c"], list) and header["x5c"] else None
            )
            return holder_jwk(jose.public_jwk(cert.public_key()))
        except InvalidCredential:
            raise _invalid("proof x5c is malformed") from None
    raise _invalid("proof kid cannot be resolved")


def _attested_signer(jws: jose.CompactJws, attested: Sequence[dict[str, Any]]) -> None:
    """App. D: the proof is signed by one of the attested keys (item 45)."""
    header = jws.header
    if "x5c" in header:
        raise _invalid("proof key is not attested")
    candidates = list(attested)
    if "jwk" in header:
        wanted = jose.jwk_thumbprint(holder_jwk(header["jwk"]))
        candidates = [k for k in attested if jose.jwk_thumbprint(k) == wanted]
    for key in candidates:
        try:
            jose.verify_signature(jws, key, algorithms=PROOF_SIGNING_ALGS)
            return
        except InvalidCredential:
            continue
    raise _invalid("proof is not signed by an attested key")


def verify_jwt_proof(
    token: Any,
    *,
    audience: str,
    client_id: str | None,
    anchors: Sequence[x509.Certificate],
    now: datetime,
    require_attestation: bool,
) -> ProvenKeys:
    """F.1/F.4: the keys a ``jwt`` proof binds (its own, or every attested key) and its nonces."""
    jws = _parse(token, PROOF_TYP)
    named = [name for name in ("kid", "jwk", "x5c") if name in jws.header]
    attestation = jws.header.get("key_attestation")
    if len(named) > 1 or (not named and attestation is None):
        raise _invalid("proof header must name exactly one of kid, jwk, x5c")
    nonce = _check_claims(jws.payload, audience=audience, client_id=client_id, now=now)
    if attestation is None:
        if require_attestation:
            raise _invalid("a key attestation is required")
        key = _signing_key(jws.header)
        _check_signature(jws, key)
        return ProvenKeys((key,), frozenset({nonce}))
    attested = verify_key_attestation(attestation, anchors=anchors, now=now, in_jwt_proof=True)
    _attested_signer(jws, attested.keys)
    return ProvenKeys(attested.keys, frozenset({nonce, attested.nonce}))


def verify_attestation_proof(
    token: Any, *, anchors: Sequence[x509.Certificate], now: datetime
) -> ProvenKeys:
    """F.3: an ``attestation`` proof binds every attested key; its nonce is the c_nonce."""
    attested = verify_key_attestation(token, anchors=anchors, now=now, in_jwt_proof=False)
    return ProvenKeys(attested.keys, frozenset({attested.nonce}))
