"""Verifying an SD-JWT VC: draft-ietf-oauth-sd-jwt-vc §2-§4 (numbering of SPECS.md) on RFC 9901.

The sequence of SPECS §4 "Verification": parse (holder binding decided by policy first, §7.1 step
7), ``typ`` = ``dc+sd-jwt`` (§2.2.1), the issuer key from ``x5c`` or issuer metadata (§3.5, HAIP
§6.1.1), the signature, Disclosures (RFC 9901 §7.1), the registered claims and the claims that are
never selectively disclosable (§2.2.2), the validity window, type metadata integrity (§6), the
KB-JWT (RFC 9901 §7.3), and last the status (TSL §8.3: the token is validated before its status).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from verifier import jose, kb_jwt, sd_jwt, sd_jwt_processing, status_check, type_metadata
from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.verdict import CheckRecorder, Verdict

FORMAT = "dc+sd-jwt"
#: §2.2.2.3: never selectively disclosable, nor any of their sub-claims.
NEVER_DISCLOSABLE = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"}
)


def _parse(text: str, policy: Policy) -> sd_jwt.SdJwt:
    # RFC 9901 §7.1 step 7: required binding is decided here, before looking at the input; when
    # it is not required, a presented KB-JWT is still verified if the nonce and audience are known.
    has_kb = isinstance(text, str) and not text.endswith("~")
    parsed = sd_jwt.parse(text, expect_kb=policy.require_holder_binding or has_kb)
    if parsed.issuer_jwt.header.get("typ") != FORMAT:
        # §2.2.1; the legacy vc+sd-jwt is refused (SPECS SDV-1, item 61).
        raise InvalidCredential("sd_jwt_vc_typ_invalid", "typ is not dc+sd-jwt")
    return parsed


def signed_at(payload: Mapping[str, Any], claim: str = "iat") -> datetime | None:
    """``iat`` (or ``claim``) as a time; None when absent, not a number or out of range.

    Read before the signature is checked, so any input must give an answer, never an exception.
    """
    iat = payload.get(claim)
    if isinstance(iat, int | float) and not isinstance(iat, bool):
        try:
            return datetime.fromtimestamp(iat, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _has_digests(value: Any) -> bool:
    if isinstance(value, dict):
        return "_sd" in value or "..." in value or any(map(_has_digests, value.values()))
    return isinstance(value, list) and any(map(_has_digests, value))


def check_registered_claims(payload: Mapping[str, Any], disclosed: set[str]) -> None:
    """§2.2.2: ``vct`` and ``iss`` present; none of NEVER_DISCLOSABLE hidden or partly hidden.

    ``disclosed`` are the names of the top-level claims that arrived as Disclosures.
    """
    if disclosed & NEVER_DISCLOSABLE:
        raise InvalidCredential("claim_not_disclosable", "a registered claim is disclosable")
    if not isinstance(payload.get("vct"), str) or not payload["vct"]:
        raise InvalidCredential("vct_missing", "credential has no vct")
    if not isinstance(payload.get("iss"), str):
        raise InvalidCredential("iss_missing", "credential has no iss")
    for name in NEVER_DISCLOSABLE & payload.keys():
        if _has_digests(payload[name]):
            raise InvalidCredential("claim_not_disclosable", "a registered claim is disclosable")


def _disclosed_names(parsed: sd_jwt.SdJwt) -> set[str]:
    top = set(parsed.issuer_jwt.payload.get("_sd", []))
    return {d.name for d in parsed.disclosures if d.name and d.digest(parsed.sd_alg) in top}


def _time(payload: Mapping[str, Any], name: str) -> float | None:
    if name not in payload:
        return None
    value = payload[name]  # RFC 7519 §2: a NumericDate; ``null`` is not one
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCredential("jwt_time_invalid", "a time claim is not a number")
    return float(value)


def check_validity(payload: Mapping[str, Any], *, now: datetime, policy: Policy) -> None:
    """``exp``, ``nbf`` and ``iat`` against ``now`` with the policy's clock skew (SPECS item 68)."""
    skew = policy.clock_skew.total_seconds()
    moment = now.timestamp()
    exp, nbf, iat = (_time(payload, name) for name in ("exp", "nbf", "iat"))
    if exp is not None and exp <= moment - skew:
        raise InvalidCredential("expired", "the credential has expired")
    if nbf is not None and nbf > moment + skew:
        raise InvalidCredential("not_yet_valid", "the credential is not yet valid")
    if iat is not None and iat > moment + skew:
        raise InvalidCredential("iat_in_future", "the credential was issued in the future")


def check_type_metadata(payload: Mapping[str, Any], trust: TrustStore) -> None:
    """§6 against the bundle's copy of the document for the credential's ``vct``."""
    document = trust.type_metadata[payload["vct"]]
    integrity = payload.get("vct#integrity")
    if integrity is not None and not isinstance(integrity, str):
        raise InvalidCredential("type_metadata_integrity_mismatch", "vct#integrity is malformed")
    _check_type_metadata_document(document, payload["vct"], integrity)


#: Pure, so memoised: keyed on the exact document text, the vct and the vct#integrity string, so
#: any change to one of them is checked afresh; only documents that passed are remembered.
@lru_cache(maxsize=64)
def _check_type_metadata_document(document: str, vct: str, integrity: str | None) -> None:
    type_metadata.parse_type_metadata(document.encode("utf-8"), vct=vct, integrity=integrity)


def _holder_binding(
    parsed: sd_jwt.SdJwt, claims: Mapping[str, Any], policy: Policy, now: datetime
) -> None:
    if policy.nonce is None or policy.audience is None:
        # RFC 9901 §7.3 step 5.6: a required binding is never proven without nonce and audience.
        raise InvalidCredential(
            "holder_binding_context_missing", "holder binding is required but has no nonce or aud"
        )
    kb_jwt.verify_kb_jwt(
        parsed,
        holder_jwk=kb_jwt.cnf_jwk(dict(claims)),
        nonce=policy.nonce,
        aud=policy.audience,
        now=now,
        max_age=policy.kb_max_age,
        max_future_skew=policy.clock_skew,
        algorithms=policy.algorithms,
    )


def verify_sd_jwt_vc(
    text: str,
    *,
    trust: TrustStore,
    policy: Policy,
    now: datetime,
    status_source: status_check.StatusSource,
) -> Verdict:
    """Every check of an SD-JWT VC (or SD-JWT VC + KB) in order; see the module docstring."""
    checks = CheckRecorder(FORMAT)
    try:
        claims = _verify_credential(text, checks, trust=trust, policy=policy, now=now)
    except (InvalidCredential, VerificationIncomplete):
        return checks.verdict(None)
    try:
        if "status" in claims:
            checks.run(
                "status",
                lambda: status_check.check_token_status(
                    claims,
                    iss=claims["iss"],
                    trust=trust,
                    source=status_source,
                    policy=policy,
                    now=now,
                ),
            )
        else:
            checks.note("status", "skipped", "status_not_referenced")
    except InvalidCredential:
        return checks.verdict(None)
    except VerificationIncomplete:
        pass
    return checks.verdict(claims)


def _verify_credential(
    text: str, checks: CheckRecorder, *, trust: TrustStore, policy: Policy, now: datetime
) -> dict[str, Any]:
    parsed = checks.run("format", lambda: _parse(text, policy))
    header, payload = parsed.issuer_jwt.header, parsed.issuer_jwt.payload
    key = checks.run(
        "issuer_trust",
        lambda: trust.issuer_key(header, payload.get("iss"), now=now, signed_at=signed_at(payload)),
    )
    checks.run(
        "signature",
        lambda: jose.verify_signature(
            parsed.issuer_jwt, key, algorithms=policy.algorithms, code="sd_jwt_signature_invalid"
        ),
    )
    claims = checks.run(
        "disclosures", lambda: sd_jwt_processing.process(payload, parsed.disclosures)
    )
    checks.run("claims", lambda: check_registered_claims(payload, _disclosed_names(parsed)))
    checks.run("validity_period", lambda: check_validity(payload, now=now, policy=policy))
    if claims["vct"] in trust.type_metadata:
        checks.run("type_metadata", lambda: check_type_metadata(claims, trust))
    else:
        checks.note("type_metadata", "skipped", "type_metadata_unavailable")
    checkable = parsed.kb_jwt is not None and None not in (policy.nonce, policy.audience)
    if policy.require_holder_binding or checkable:
        checks.run("holder_binding", lambda: _holder_binding(parsed, claims, policy, now))
    else:
        code = "kb_jwt_missing" if parsed.kb_jwt is None else "holder_binding_context_missing"
        checks.note("holder_binding", "not_proven", code)
    return claims
