"""OpenID4VCI 1.0 Appendix A.1.1 ``jwt_vc_json``: the W3C VCDM 1.1 JWT encoding (§6.3.1).

VCDM 1.1 (Recommendation, 3 March 2022) §6.3.1.1 puts the credential in the ``vc`` claim and maps
``iss`` = issuer, ``nbf`` = issuanceDate, ``exp`` = expirationDate, ``jti`` = id and ``sub`` =
credentialSubject.id; ``typ``, if present, is ``JWT``. §6.3.1.2 decodes those claims back into the
credential. No JSON-LD processing (A.1.1). This is not VC-JOSE-COSE ``vc+jwt`` (verifier.vc_jose):
a ``vc+jwt`` typ or a VCDM 2.0 context is refused here, so the two are never mixed.

Choices where 1.1 is loose: ``iss`` is required and ``vc.issuer``, when also present, must equal
it; ``jti``/``sub`` that disagree with ``id``/``credentialSubject.id`` are refused rather than
overwritten; when both ``nbf`` and ``issuanceDate`` (or ``exp`` and ``expirationDate``) are present
both windows are enforced and the credential keeps its own value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from verifier import jose, vcdm
from verifier.errors import InvalidCredential
from verifier.vc_jose import (
    KeyResolver,
    check_jwt_window,
    jws_header,
    open_jws,
    typ_is,
    verify_with_key,
)
from verifier.vcdm import VerifiedVc

JWT_TYP = "JWT"


def _check_context(vc: dict[str, Any]) -> None:
    # 1.1 §4.1: the first @context is the 1.1 base context; a 2.0 context is never accepted here.
    context = vc.get("@context")
    items = [context] if isinstance(context, str) else context
    if not isinstance(items, list) or not items or items[0] != vcdm.V1_CONTEXT:
        raise InvalidCredential("vcdm_context_invalid", "first @context is not VCDM 1.1")
    for item in items[1:]:
        if item == vcdm.V2_CONTEXT or not isinstance(item, str | dict):
            raise InvalidCredential("vcdm_context_invalid", "@context mixes in a foreign context")


def _check_body(vc: dict[str, Any]) -> None:
    """VCDM 1.1 §4 checks of the ``vc`` claim other than the context and issuer."""
    if "id" in vc and not vcdm.is_url(vc["id"]):
        raise InvalidCredential("vcdm_id_invalid", "credential id is not a URI")
    vcdm.check_type(vc, "VerifiableCredential")
    subject = vc.get("credentialSubject")
    if subject is None:
        raise InvalidCredential("vcdm_subject_missing", "credentialSubject is missing")
    subjects = [subject] if isinstance(subject, dict) else subject
    if not isinstance(subjects, list) or not all(isinstance(s, dict) and s for s in subjects):
        raise InvalidCredential("vcdm_subject_invalid", "credentialSubject is not objects")
    if not subjects:
        raise InvalidCredential("vcdm_subject_invalid", "credentialSubject is empty")
    for name in ("issuanceDate", "expirationDate"):
        if name in vc:
            vcdm.parse_datetime_stamp(vc[name])  # 1.1 §4.6/§4.7: RFC 3339 date-time with offset
    vcdm.check_status(vc, id_required=True)  # 1.1 §4.9: id and type
    vcdm.check_schema(vc)  # 1.1 §5.4: id and type


def _issuer(payload: dict[str, Any], vc: dict[str, Any]) -> str:
    # 1.1 §6.3.1.1: iss MUST represent the issuer property.
    iss = payload.get("iss")
    if not isinstance(iss, str) or not vcdm.is_url(iss):
        raise InvalidCredential("vcdm_issuer_invalid", "iss is missing or not a URI")
    if "issuer" in vc and vcdm.issuer_id(vc) != iss:
        raise InvalidCredential("issuer_mismatch", "iss differs from the credential issuer")
    return iss


def _as_date(value: int | float) -> str:
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidCredential("jwt_time_invalid", "JWT time claim is out of range") from None
    return moment.isoformat().replace("+00:00", "Z")


def _decode(payload: dict[str, Any], vc: dict[str, Any], issuer: str) -> dict[str, Any]:
    """1.1 §6.3.1.2: the credential from ``vc`` plus ``iss``/``jti``/``sub``/``nbf``/``exp``."""
    credential = {**vc}
    credential.setdefault("issuer", issuer)
    if "jti" in payload:
        jti = payload["jti"]
        if not vcdm.is_url(jti):
            raise InvalidCredential("vcdm_id_invalid", "JWT jti is not a URI")
        if credential.setdefault("id", jti) != jti:
            raise InvalidCredential("jwt_vc_claim_conflict", "jti differs from the credential id")
    if "sub" in payload:
        sub = payload["sub"]
        if not vcdm.is_url(sub):
            raise InvalidCredential("vcdm_subject_invalid", "JWT sub is not a URI")
        subject = credential["credentialSubject"]
        if not isinstance(subject, dict) or subject.get("id", sub) != sub:
            raise InvalidCredential("jwt_vc_claim_conflict", "sub differs from the subject id")
        credential["credentialSubject"] = {**subject, "id": sub}
    # The 1.1 text puts expirationDate under credentialSubject; it belongs on the credential.
    for claim, name in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if claim in payload and name not in credential:
            credential[name] = _as_date(payload[claim])
    if "issuanceDate" not in credential:  # 1.1 §4.6: issuanceDate is required
        raise InvalidCredential("vcdm_datetime_invalid", "credential has no issuanceDate or nbf")
    return credential


def _check_dates(credential: dict[str, Any], *, now: datetime) -> None:
    # 1.1 §4.6: valid from issuanceDate; §4.7: no longer valid after expirationDate.
    if now < vcdm.parse_datetime_stamp(credential["issuanceDate"]):
        raise InvalidCredential("not_yet_valid", "credential is not yet valid")
    until = credential.get("expirationDate")
    if until is not None and now > vcdm.parse_datetime_stamp(until):
        raise InvalidCredential("expired", "credential has expired")


def verify_jwt_vc_json(
    token: str,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    algorithms: Iterable[str],
) -> VerifiedVc:
    """Verify a ``jwt_vc_json`` credential; the result's ``credential`` is the decoded 1.1 document.

    ``resolve_key`` receives the protected header and ``iss`` and returns the issuer's public key,
    or raises a DuoError. Raises InvalidCredential or VerificationIncomplete; returns on success.
    """
    allowed = frozenset(algorithms)
    jws = open_jws(token, algorithms=allowed)
    if "typ" in jws.header and not typ_is(jws.header, JWT_TYP):  # 1.1 §6.3.1.1
        raise InvalidCredential("vc_typ_invalid", "JWS typ is not JWT")
    payload = jws.payload
    vc = payload.get("vc")
    if not isinstance(vc, dict):  # 1.1 §6.3.1: the vc claim MUST be present
        raise InvalidCredential("jwt_vc_claim_missing", "JWT has no vc object")
    _check_context(vc)
    issuer = _issuer(payload, vc)
    verify_with_key(jws, resolve_key(jws.header, issuer), algorithms=allowed)
    _check_body(vc)
    check_jwt_window(payload, now=now)
    credential = _decode(payload, vc, issuer)
    _check_dates(credential, now=now)
    return VerifiedVc("jwt_vc_json", credential, jws.header, payload, issuer)


def _numeric_date(value: str) -> int:
    return math.floor(vcdm.parse_datetime_stamp(value).timestamp())


def sign_jwt_vc_json(
    credential_v11: dict[str, Any],
    *,
    signer: jose.Signer,
    alg: str,
    x5c: Sequence[str] | None,
    kid: str | None,
    subject_id: str | None,
    jti: str | None,
) -> str:
    """Encode and sign a VCDM 1.1 credential as ``jwt_vc_json`` (1.1 §6.3.1.1).

    ``jti`` defaults to the credential ``id`` and ``subject_id`` to ``credentialSubject.id``; a
    value that disagrees with the credential raises ``jwt_vc_claim_conflict``. The ``vc`` claim is
    the credential as given (1.1 allows the duplicated properties).
    """
    _check_context(credential_v11)
    _check_body(credential_v11)
    if "issuanceDate" not in credential_v11:
        raise InvalidCredential("vcdm_datetime_invalid", "credential has no issuanceDate")
    payload: dict[str, Any] = {"iss": vcdm.issuer_id(credential_v11)}
    payload["nbf"] = _numeric_date(credential_v11["issuanceDate"])
    if "expirationDate" in credential_v11:
        payload["exp"] = _numeric_date(credential_v11["expirationDate"])
    subject = credential_v11["credentialSubject"]
    own_sub = subject.get("id") if isinstance(subject, dict) else None
    for claim, given, own in (("jti", jti, credential_v11.get("id")), ("sub", subject_id, own_sub)):
        if given is not None and own is not None and given != own:
            raise InvalidCredential("jwt_vc_claim_conflict", "claim differs from the credential")
        if (given or own) is not None:
            payload[claim] = given or own
    payload["vc"] = credential_v11
    return jose.sign_compact(jws_header(alg, JWT_TYP, None, kid, x5c), payload, signer)
