"""Which holder key a received credential is bound to (OpenID4VCI 1.0 §8.3: one key each).

SD-JWT VC: the ``cnf.jwk`` claim (draft-ietf-oauth-sd-jwt-vc §2.2.2.3, RFC 7800 §3.2), which is
never selectively disclosable, so the Issuer-signed JWT shows it. ``jwt_vc_json`` / ``vc+jwt``:
DUO binds the subject ``id`` as a ``did:jwk`` (did:jwk method specification). The credential's
signature is not checked here (the verifier does that, against a trust bundle); a credential
whose binding cannot be read is ``credential_not_bound``.
"""

from __future__ import annotations

from typing import Any

from verifier import jose, strict_json
from verifier.errors import DuoError, ProtocolError

DID_JWK = "did:jwk:"


def _subject_id(payload: dict[str, Any]) -> Any:
    vc = payload.get("vc")
    document = vc if isinstance(vc, dict) else payload
    subject = document.get("credentialSubject")
    found = subject.get("id") if isinstance(subject, dict) else None
    return found if found is not None else payload.get("sub")


def _holder_jwk(credential: str, fmt: str) -> Any:
    if fmt == "dc+sd-jwt":
        if not credential.endswith("~"):
            # RFC 9901 §7.2: a holder rejects an SD-JWT+KB (or a truncated SD-JWT) from the issuer.
            raise ProtocolError("credential_not_bound", "the SD-JWT does not end with a tilde")
        payload = jose.parse_compact(credential.split("~", 1)[0]).payload
        cnf = payload.get("cnf")
        return cnf.get("jwk") if isinstance(cnf, dict) else None
    subject = _subject_id(jose.parse_compact(credential).payload)
    if not isinstance(subject, str) or not subject.startswith(DID_JWK):
        return None
    return strict_json.loads(jose.b64url_decode(subject.removeprefix(DID_JWK).split("#")[0]))


def bound_thumbprint(credential: str, fmt: str) -> str:
    """The RFC 7638 thumbprint of the key ``credential`` is bound to."""
    try:
        jwk = _holder_jwk(credential, fmt)
        if isinstance(jwk, dict):
            return jose.jwk_thumbprint(jwk)
    except DuoError:
        pass
    raise ProtocolError("credential_not_bound", "the credential's holder key cannot be read")
