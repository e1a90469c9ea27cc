"""Key Binding JWT: RFC 9901 (Nov 2025) §4.3 (creation, ``sd_hash``) and §7.3 step 5 (validation).

The KB-JWT proves that the presenter holds the key in the credential's ``cnf`` claim, for this
Verifier (``aud``) and this transaction (``nonce``), over exactly the presented Issuer-signed JWT
and Disclosures (``sd_hash``). Whether binding is required is the Verifier's policy, decided before
parsing (``sd_jwt.parse(expect_kb=...)``); this module checks a KB-JWT that policy requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from verifier import disclosure, jose
from verifier.errors import InvalidCredential
from verifier.sd_jwt import SdJwt, parse

KB_JWT_TYP = "kb+jwt"


def sd_hash(sd_jwt_without_kb: str, sd_alg: str) -> str:
    """base64url(H(``<Issuer-signed JWT>~<D1>~...~<Dn>~``)) with the ``_sd_alg`` hash (§4.3.1)."""
    return disclosure.b64_hash(sd_jwt_without_kb, sd_alg)


def create_kb_jwt(
    sd_jwt_without_kb: str,
    *,
    signer: jose.Signer,
    alg: str,
    nonce: str,
    aud: str,
    iat: int,
) -> str:
    """The KB-JWT for a presentation; append it to ``sd_jwt_without_kb`` to form the SD-JWT+KB.

    ``sd_jwt_without_kb`` is the SD-JWT with the selected Disclosures, ending in ``~``.
    """
    if alg not in jose.ASYMMETRIC_ALGS:
        raise ValueError("KB-JWT alg must be an asymmetric signature algorithm")  # §4.3: not none
    if not isinstance(nonce, str) or not isinstance(aud, str):
        raise ValueError("nonce and aud must be strings")  # §4.3: aud is a single string
    presented = parse(sd_jwt_without_kb, expect_kb=False)
    payload = {
        "iat": iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": sd_hash(presented.raw, presented.sd_alg),
    }
    return jose.sign_compact({"typ": KB_JWT_TYP, "alg": alg}, payload, signer)


def cnf_jwk(claims: dict[str, Any]) -> dict[str, Any]:
    """The Holder's public key from the processed ``cnf.jwk`` claim (RFC 7800 §3.2, §4.1.2)."""
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise InvalidCredential("cnf_jwk_missing", "credential has no cnf.jwk holder key")
    return jwk


def _check_times(
    claims: dict[str, Any], now: datetime, max_age: timedelta, max_future_skew: timedelta
) -> None:
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidCredential("kb_jwt_iat_invalid", "KB-JWT iat is missing or not a number")
    if not (now - max_age).timestamp() <= iat <= (now + max_future_skew).timestamp():
        # §7.3 step 5.5: creation time within an acceptable window.
        raise InvalidCredential("kb_jwt_iat_invalid", "KB-JWT iat is outside the accepted window")
    exp = claims.get("exp", float("inf"))
    if isinstance(exp, bool) or not isinstance(exp, int | float) or exp <= now.timestamp():
        # §7.3 step 5.8 with RFC 7519 §4.1.4: an optional exp must be a time in the future.
        raise InvalidCredential("kb_jwt_expired", "KB-JWT exp is invalid or has passed")


def _check_signature(kb: jose.CompactJws, holder_jwk: Any, algorithms: Iterable[str]) -> None:
    if kb.header.get("typ") != KB_JWT_TYP:
        # §7.3 step 5.4.
        raise InvalidCredential("kb_jwt_typ_invalid", "KB-JWT typ is not kb+jwt")
    allowed = frozenset(algorithms)
    if kb.header["alg"] not in jose.ASYMMETRIC_ALGS or kb.header["alg"] not in allowed:
        # §7.3 step 5.2: never "none", only algorithms the policy deems secure.
        raise InvalidCredential("kb_jwt_alg_invalid", "KB-JWT algorithm is not allowed")
    key = jose.public_key_from_jwk(holder_jwk, "holder_key_invalid")
    # §7.3 steps 5.1 and 5.3: the signature is checked with the cnf key only.
    jose.verify_signature(kb, key, algorithms=allowed, code="kb_jwt_signature_invalid")


def verify_kb_jwt(
    presentation: SdJwt,
    *,
    holder_jwk: dict[str, Any],
    nonce: str,
    aud: str,
    now: datetime,
    max_age: timedelta,
    max_future_skew: timedelta,
    algorithms: Iterable[str],
) -> dict[str, Any]:
    """§7.3 step 5 for a presentation parsed with ``expect_kb=True``; returns the KB-JWT payload.

    ``holder_jwk`` comes from the verified credential's ``cnf.jwk``. Raises ``kb_jwt_missing``,
    ``kb_jwt_typ_invalid``, ``kb_jwt_alg_invalid``, ``holder_key_invalid``,
    ``kb_jwt_signature_invalid``, ``kb_jwt_iat_invalid``, ``kb_jwt_expired``,
    ``kb_jwt_nonce_mismatch``, ``kb_jwt_aud_mismatch`` or ``kb_jwt_sd_hash_mismatch``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kb = presentation.kb_jwt
    if kb is None:
        raise InvalidCredential("kb_jwt_missing", "a key binding JWT is required but absent")
    _check_signature(kb, holder_jwk, algorithms)
    claims = kb.payload
    _check_times(claims, now, max_age, max_future_skew)
    # §7.3 step 5.6: bound to this transaction and this Verifier.
    if not isinstance(claims.get("nonce"), str) or claims["nonce"] != nonce:
        raise InvalidCredential("kb_jwt_nonce_mismatch", "KB-JWT nonce does not match")
    if not isinstance(claims.get("aud"), str) or claims["aud"] != aud:
        raise InvalidCredential("kb_jwt_aud_mismatch", "KB-JWT aud does not match")
    # §7.3 step 5.7: over exactly the presented Issuer-signed JWT and Disclosures, in order.
    if claims.get("sd_hash") != sd_hash(presentation.without_kb, presentation.sd_alg):
        raise InvalidCredential("kb_jwt_sd_hash_mismatch", "KB-JWT sd_hash does not match")
    return claims
