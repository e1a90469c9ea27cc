"""One entry point for every credential format DUO issues: detect, verify, return a Verdict.

Formats: SD-JWT VC (``dc+sd-jwt``, with or without KB-JWT), W3C VCDM 2.0 secured with VC-JOSE-COSE
(``vc+jwt``) and OpenID4VCI ``jwt_vc_json`` (VCDM 1.1). The format is told by the serialization:
a ``~`` means SD-JWT; otherwise the JWS ``typ`` decides, and the format's own verifier then
refuses anything that is not exactly its format (they are never mixed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from verifier import jose, status_check
from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.jwt_vc_json import verify_jwt_vc_json
from verifier.policy import Policy
from verifier.sd_jwt_vc import signed_at, verify_sd_jwt_vc
from verifier.trust import TrustStore
from verifier.vc_jose import verify_vc_jwt
from verifier.vcdm import VerifiedVc
from verifier.verdict import CheckOutcome, CheckRecorder, Verdict, invalid_input

MAX_INPUT_BYTES = 256 * 1024

#: Which named check a code from the VCDM verifiers belongs to; anything else is ``format``.
#: ``alg_not_allowed`` is ``format``: it is raised while parsing, before the issuer key is sought.
_VCDM_CHECK_OF_CODE = {
    "iss_missing": "issuer_trust",
    "issuer_untrusted": "issuer_trust",
    "issuer_mismatch": "issuer_trust",
    "issuer_key_unresolved": "issuer_trust",
    "jwk_invalid": "issuer_trust",
    "no_trust_anchor": "issuer_trust",
    "x5c_malformed": "issuer_trust",
    "x5c_contains_anchor": "issuer_trust",
    "x5c_self_signed_leaf": "issuer_trust",
    "x5c_leaf_not_end_entity": "issuer_trust",
    "x5c_leaf_key_usage": "issuer_trust",
    "x5c_untrusted": "issuer_trust",
    "x5c_expired": "issuer_trust",
    "x5c_not_yet_valid": "issuer_trust",
    "x5c_issuer_mismatch": "issuer_trust",
    "signature_invalid": "signature",
    "expired": "validity_period",
    "not_yet_valid": "validity_period",
    "jwt_time_invalid": "validity_period",
}
_VCDM_CHECKS = ("format", "issuer_trust", "signature", "validity_period")


def detect_format(text: str) -> str:
    """``dc+sd-jwt``, ``vc+jwt`` or ``jwt_vc_json``; raises for input that is none of them."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise InvalidCredential("input_too_large", "input exceeds the size limit")
    if "~" in text:
        return "dc+sd-jwt"
    typ = jose.parse_compact(text, code="format_unknown").header.get("typ")
    typ = typ.lower() if isinstance(typ, str) else ""
    if typ.endswith("sd-jwt"):
        return "dc+sd-jwt"  # an issuer JWT without its ``~``: the SD-JWT parser says so
    return "vc+jwt" if typ.endswith("vc+jwt") else "jwt_vc_json"


def verify(
    text: str,
    *,
    trust: TrustStore,
    policy: Policy,
    now: datetime,
    status_source: status_check.StatusSource | None = None,
) -> Verdict:
    """Verify one credential or presentation; ``status_source`` defaults to the bundle snapshots."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    source = status_source or status_check.snapshot_source(trust.status_lists)
    try:
        fmt = detect_format(text)
    except InvalidCredential as error:
        return invalid_input("unknown", error)
    if fmt == "dc+sd-jwt":
        return verify_sd_jwt_vc(text, trust=trust, policy=policy, now=now, status_source=source)
    return _verify_vcdm(text, fmt, trust=trust, policy=policy, now=now, source=source)


def _verify_jws_vc(
    text: str, fmt: str, *, trust: TrustStore, policy: Policy, now: datetime
) -> VerifiedVc:
    verifier = verify_vc_jwt if fmt == "vc+jwt" else verify_jwt_vc_json

    def resolve(header: dict[str, Any], iss: str) -> Any:
        payload = jose.parse_compact(text).payload
        # jwt_vc_json carries no iat: its nbf (issuanceDate) dates the signature.
        at = signed_at(payload) or signed_at(payload, "nbf")
        return trust.issuer_key(header, iss, now=now, signed_at=at)

    return verifier(text, resolve_key=resolve, now=now, algorithms=policy.algorithms)


def _verify_vcdm(
    text: str,
    fmt: str,
    *,
    trust: TrustStore,
    policy: Policy,
    now: datetime,
    source: status_check.StatusSource,
) -> Verdict:
    checks = CheckRecorder(fmt)
    try:
        verified = _verify_jws_vc(text, fmt, trust=trust, policy=policy, now=now)
    except (InvalidCredential, VerificationIncomplete) as error:
        failed = _VCDM_CHECK_OF_CODE.get(error.code, "format")
        for name in _VCDM_CHECKS[: _VCDM_CHECKS.index(failed)]:
            checks.note(name, "passed")
        outcome: CheckOutcome = (
            "undetermined" if isinstance(error, VerificationIncomplete) else "failed"
        )
        checks.note(failed, outcome, error.code)
        return checks.verdict(None)
    for name in _VCDM_CHECKS:
        checks.note(name, "passed")
    if policy.require_holder_binding:
        checks.note("holder_binding", "failed", "holder_binding_missing")
        return checks.verdict(None)
    checks.note("holder_binding", "not_proven", "holder_binding_missing")
    if "credentialStatus" not in verified.credential:
        checks.note("status", "skipped", "status_not_referenced")
        return checks.verdict(verified.credential)
    try:
        checks.run(
            "status",
            lambda: status_check.check_bitstring_status(
                verified.credential, trust=trust, source=source, policy=policy, now=now
            ),
        )
    except InvalidCredential:
        return checks.verdict(None)
    except VerificationIncomplete:
        pass
    return checks.verdict(verified.credential)
