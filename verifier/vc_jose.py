"""W3C VC-JOSE-COSE (Recommendation, 15 May 2025) §3.1: VCDM 2.0 credentials secured as ``vc+jwt``.

The JWS payload is the VCDM 2.0 credential document itself (§3.1.1), never wrapped in a ``vc`` or
``vp`` claim (§3.1.3). ``iss``, when present, equals ``issuer`` / ``issuer.id`` (§4.1.2). ``iat``
and ``exp`` date the signature, ``validFrom`` / ``validUntil`` the data (§3.1.3); both windows
must hold. Unsecured (``alg: none``) JWTs are ignored, i.e. rejected (§1.1.2.1). Only compact
serialization is accepted (§3.1.2). ``cty`` is not enforced: §3.1.1 allows a more specific media
type than ``vc``. This is not the VCDM 1.1 JWT encoding (verifier.jwt_vc_json): the two are never
mixed, and each verifier refuses the other's tokens.

The JWS envelope helpers ``open_jws`` and ``check_jwt_window`` are shared with verifier.jwt_vc_json.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from verifier import jose, vcdm
from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.vcdm import VerifiedVc

#: Largest token accepted, in bytes (UTF-8), before any decoding.
MAX_TOKEN_BYTES = 256 * 1024
VC_JWT_TYP = "vc+jwt"
ENVELOPED_PREFIX = "data:application/vc+jwt,"
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")

#: resolve_key(header, issuer identifier) -> public key object or public JWK; raises if unknown.
KeyResolver = Callable[[dict[str, Any], str], Any]


def typ_is(header: dict[str, Any], media_type: str) -> bool:
    """RFC 7515 §4.1.9: ``typ`` names ``media_type``, with or without ``application/``, any case."""
    typ = header.get("typ")
    if not isinstance(typ, str):
        return False
    typ = typ.lower()
    return typ == media_type.lower() or typ == f"application/{media_type.lower()}"


def open_jws(token: Any, *, algorithms: Iterable[str]) -> jose.CompactJws:
    """Size-check and parse a compact JWS; refuse ``none``, MACs and algorithms not allowed."""
    if not isinstance(token, str):
        raise InvalidCredential("jws_malformed", "token is not a string")
    size = len(token.encode("utf-8", "surrogatepass")) if len(token) <= MAX_TOKEN_BYTES else None
    if size is None or size > MAX_TOKEN_BYTES:
        raise InvalidCredential("input_too_large", "token exceeds the size limit")
    jws = jose.parse_compact(token, code="jws_malformed")
    # VC-JOSE-COSE §1.1.2.1: JWTs without integrity protection (alg none) MUST be ignored.
    if jws.header["alg"] not in jose.ASYMMETRIC_ALGS or jws.header["alg"] not in set(algorithms):
        raise InvalidCredential("alg_not_allowed", "JWS algorithm is not allowed")
    return jws


def check_jwt_window(payload: dict[str, Any], *, now: datetime) -> None:
    """RFC 7519 §4.1.4/§4.1.5/§4.1.6: NumericDate ``exp``/``nbf``/``iat``; ``now`` before ``exp``
    and not before ``nbf``."""
    vcdm.require_aware(now)
    for name in ("exp", "nbf", "iat"):
        value = payload.get(name)
        if name in payload and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidCredential("jwt_time_invalid", "JWT time claim is not a NumericDate")
    moment = now.timestamp()
    if "exp" in payload and moment >= payload["exp"]:
        raise InvalidCredential("expired", "JWT has expired")
    if "nbf" in payload and moment < payload["nbf"]:
        raise InvalidCredential("not_yet_valid", "JWT is not yet valid")


def verify_with_key(jws: jose.CompactJws, key: Any, *, algorithms: Iterable[str]) -> None:
    """Check the signature with a resolved key; any failure is ``signature_invalid``."""
    if key is None:
        raise VerificationIncomplete("issuer_key_unresolved", "no key was found for the issuer")
    try:
        jose.verify_signature(jws, key, algorithms=algorithms, code="signature_invalid")
    except AttributeError:
        # PyJWT's EC verifier reads key.curve, so a non-EC key for an ES* alg lands here.
        raise InvalidCredential("signature_invalid", "key does not fit the JWS algorithm") from None


def jws_header(
    alg: str, typ: str, cty: str | None, kid: str | None, x5c: Sequence[str] | None
) -> dict[str, Any]:
    """A protected header for signing; refuses ``none`` and MAC algorithms."""
    if alg not in jose.ASYMMETRIC_ALGS:
        raise InvalidCredential("alg_not_allowed", "JWS algorithm is not allowed")
    header: dict[str, Any] = {"alg": alg, "typ": typ}
    if cty is not None:
        header["cty"] = cty
    if kid is not None:
        header["kid"] = kid
    if x5c is not None:
        header["x5c"] = list(x5c)
    return header


def sign_vc_jwt(
    credential: dict[str, Any],
    *,
    signer: jose.Signer,
    alg: str,
    x5c: Sequence[str] | None,
    kid: str | None,
    iat: int | None = None,
    exp: int | None = None,
) -> str:
    """Secure a VCDM 2.0 credential as ``vc+jwt`` (§3.1.1); the payload is the document itself.

    ``iss`` is set to the issuer identifier (§4.1.2); ``iat``/``exp``, when given, date the
    signature (§3.1.3). The document must pass the same data-model checks the verifier runs.
    """
    vcdm.check_credential(credential)
    _forbid_vc_claims(credential)
    issuer = vcdm.issuer_id(credential)
    if "iss" in credential and credential["iss"] != issuer:
        raise InvalidCredential("issuer_mismatch", "iss differs from the credential issuer")
    payload = {**credential, "iss": issuer}
    for name, value in (("iat", iat), ("exp", exp)):
        if value is not None:
            payload[name] = value
    return jose.sign_compact(jws_header(alg, VC_JWT_TYP, "vc", kid, x5c), payload, signer)


def _forbid_vc_claims(payload: dict[str, Any]) -> None:
    # VC-JOSE-COSE §3.1.3 (SPECS §8 item 87): the JWT claim names vc and vp MUST NOT be present.
    if "vc" in payload or "vp" in payload:
        raise InvalidCredential("vc_claim_forbidden", "vc+jwt payload contains a vc or vp claim")


def _issuer_for_key(payload: dict[str, Any]) -> str:
    # §4.1.2: iss, if present, MUST match issuer (a string) or issuer.id (an object).
    issuer = vcdm.issuer_id(payload)
    if "iss" in payload and payload["iss"] != issuer:
        raise InvalidCredential("issuer_mismatch", "iss differs from the credential issuer")
    return issuer


def verify_vc_jwt(
    token: str,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    algorithms: Iterable[str],
) -> VerifiedVc:
    """Verify a ``vc+jwt`` (VC-JOSE-COSE §5.1) and validate its VCDM 2.0 document (§5.4).

    ``resolve_key`` receives the protected header and the issuer identifier (``iss`` or
    ``issuer``/``issuer.id``, already checked to agree) and returns the issuer's public key, or
    raises a DuoError. Raises InvalidCredential or VerificationIncomplete; returns only on success.
    """
    allowed = frozenset(algorithms)
    jws = open_jws(token, algorithms=allowed)
    if not typ_is(jws.header, VC_JWT_TYP):  # §3.1.1: typ vc+jwt (required by our policy)
        raise InvalidCredential("vc_typ_invalid", "JWS typ is not vc+jwt")
    payload = jws.payload
    _forbid_vc_claims(payload)
    issuer = _issuer_for_key(payload)
    verify_with_key(jws, resolve_key(jws.header, issuer), algorithms=allowed)
    vcdm.check_credential(payload)
    check_jwt_window(payload, now=now)
    vcdm.check_validity_period(payload, now=now)
    return VerifiedVc("vc+jwt", payload, jws.header, payload, issuer)


def enveloped_vc(token: str) -> dict[str, Any]:
    """VCDM 2.0 §5.12 / VC-JOSE-COSE §3.1.2: wrap a ``vc+jwt`` for a presentation."""
    if not isinstance(token, str) or not _COMPACT.fullmatch(token):
        raise InvalidCredential("jws_malformed", "token is not a compact JWS")
    return {
        "@context": [vcdm.V2_CONTEXT],
        "id": ENVELOPED_PREFIX + token,
        "type": "EnvelopedVerifiableCredential",
    }


def token_from_enveloped(envelope: Any) -> str:
    """The ``vc+jwt`` inside an EnvelopedVerifiableCredential object (VCDM 2.0 §5.12)."""
    if not isinstance(envelope, dict):
        raise InvalidCredential("enveloped_vc_invalid", "enveloped credential is not an object")
    context = envelope.get("@context")
    contexts = [context] if isinstance(context, str) else context
    kind = envelope.get("type")
    kinds = [kind] if isinstance(kind, str) else kind
    data_url = envelope.get("id")
    if (
        not isinstance(contexts, list)
        or vcdm.V2_CONTEXT not in contexts
        or not isinstance(kinds, list)
        or "EnvelopedVerifiableCredential" not in kinds
        or not isinstance(data_url, str)
        or not data_url.startswith(ENVELOPED_PREFIX)
        or not _COMPACT.fullmatch(data_url[len(ENVELOPED_PREFIX) :])
    ):
        raise InvalidCredential("enveloped_vc_invalid", "not an enveloped vc+jwt credential")
    return data_url[len(ENVELOPED_PREFIX) :]
