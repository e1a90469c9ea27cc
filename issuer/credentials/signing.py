"""Signing one credential in any of DUO's formats: the single code path of CLI and service.

- ``dc+sd-jwt``: SD-JWT VC (draft-ietf-oauth-sd-jwt-vc §2, HAIP 1.0 §6.1) on RFC 9901. Every data
  claim is selectively disclosable, object members and array elements one by one at every depth;
  the registered claims of §2.2.2.3 never are. Header: ``typ`` dc+sd-jwt, ``kid``, ``x5c`` (the
  leaf only, HAIP §6.1.1). ``vct#integrity`` pins the published type metadata (§6).
- ``vc+jwt``: W3C VCDM 2.0 in the European Learning Model shape, secured with VC-JOSE-COSE §3.1.
- ``jwt_vc_json``: the same content as VCDM 1.1 JWT (OpenID4VCI 1.0 Appendix A.1.1).

Holder binding: ``cnf.jwk`` in SD-JWT VC; in the VCDM formats the holder key becomes the subject
``id`` as a ``did:jwk`` (there is no ``cnf`` there). Status: SD-JWT VC carries a Token Status List
reference, the VCDM formats a ``BitstringStatusListEntry`` (revocation); the caller allocates
the index (issuer.db.status).
"""

from __future__ import annotations

import os
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from keys.store import KeyStore
from schemas import elm, loader
from verifier import jose, sd_jwt_issuance, strict_json
from verifier.disclosure import SALT_BYTES
from verifier.jwt_vc_json import sign_jwt_vc_json
from verifier.sd_jwt_issuance import ClaimPath
from verifier.sd_jwt_vc import NEVER_DISCLOSABLE
from verifier.token_status_list import StatusReference
from verifier.vc_jose import sign_vc_jwt

FORMATS = ("dc+sd-jwt", "vc+jwt", "jwt_vc_json")
#: Decoy digests in the top-level ``_sd`` (RFC 9901 §4.2.5), so the number of claims is hidden.
TOP_LEVEL_DECOYS = 2
_NOT_DISCLOSABLE = NEVER_DISCLOSABLE | {"iat"}

SaltSource = Callable[[], bytes]


class _SaltPool:
    """16-byte salts cut from one 512-byte ``secrets.token_bytes`` read (one syscall per 32 salts).

    Each slice is handed out once (the lock serialises threads). A forked child (gunicorn
    workers) notices its new process id and starts with an empty pool and a fresh lock, so parent
    and child never hand out the same bytes. As unpredictable as one read per salt (RFC 9901 §9.3).
    """

    READ = 512

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """Drop the unused bytes (and a lock a thread of the parent may have held at fork)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._buffer, self._offset = b"", 0

    def __call__(self) -> bytes:
        if self._pid != os.getpid():
            self.restart()
        with self._lock:
            if self._offset + SALT_BYTES > len(self._buffer):
                self._buffer, self._offset = secrets.token_bytes(self.READ), 0
            start = self._offset
            self._offset += SALT_BYTES
            return self._buffer[start : self._offset]


_random_salt = _SaltPool()


@lru_cache(maxsize=32)
def vct_integrity(type_name: str, issuer: str) -> str:
    """``vct#integrity`` of the type metadata exactly as published (trust bundle, well-known)."""
    return loader.integrity_of(loader.type_metadata_document(type_name, issuer))


@lru_cache(maxsize=32)
def _sd_jwt_vc_header(alg: str, kid: str, x5c: tuple[str, ...]) -> jose.EncodedHeader:
    """The issuer JWT header, encoded once per signing key (a pure function of its record)."""
    return jose.encode_header({"alg": alg, "typ": "dc+sd-jwt", "kid": kid, "x5c": list(x5c)})


def _disclosable(path: ClaimPath) -> bool:
    return path[0] not in _NOT_DISCLOSABLE


def _decoys(path: ClaimPath) -> int:
    return TOP_LEVEL_DECOYS if path == () else 0


def sign_sd_jwt_vc(
    type_name: str,
    claims: Mapping[str, Any],
    *,
    keys: KeyStore,
    issuer: str,
    holder_jwk: Mapping[str, Any] | None,
    status: StatusReference | None,
    now: datetime,
    salt: SaltSource = _random_salt,
) -> str:
    """An SD-JWT VC of ``type_name`` for already validated ``claims``."""
    key = keys.signing_key("issuer")
    payload: dict[str, Any] = {
        "iss": issuer,
        "iat": int(now.timestamp()),
        "vct": loader.vct_for(type_name, issuer),
        "vct#integrity": vct_integrity(type_name, issuer),
        **claims,
    }
    if holder_jwk is not None:
        payload["cnf"] = {"jwk": dict(holder_jwk)}
    if status is not None:
        payload["status"] = status.claim()
    return sd_jwt_issuance.issue(
        payload,
        header=_sd_jwt_vc_header(key.record.alg, key.record.kid, tuple(key.record.x5c)),
        signer=key.sign,
        disclosable=_disclosable,
        salt=salt,
        decoys=_decoys,
    )


def did_jwk(jwk: Mapping[str, Any]) -> str:
    """The ``did:jwk`` of a public key (did:jwk method specification)."""
    public = {k: v for k, v in jwk.items() if k in {"kty", "crv", "x", "y", "n", "e"}}
    return "did:jwk:" + jose.b64url_encode(strict_json.dumps(public).encode("utf-8"))


def sign_vcdm(
    fmt: str,
    type_name: str,
    claims: Mapping[str, Any],
    *,
    keys: KeyStore,
    issuer: str,
    holder_jwk: Mapping[str, Any] | None,
    now: datetime,
    status: Mapping[str, Any] | None = None,
) -> str:
    """A ``vc+jwt`` (VCDM 2.0) or ``jwt_vc_json`` (VCDM 1.1) credential of ``type_name`` (ELM);
    ``status`` is its ``credentialStatus`` (a BitstringStatusListEntry, issuer.db.status)."""
    key = keys.signing_key("issuer")
    build = elm.elm_credential if fmt == "vc+jwt" else elm.elm_credential_v11
    document = build(
        type_name,
        dict(claims),
        issuer=issuer,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        valid_from=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        status=None if status is None else dict(status),
    )
    if holder_jwk is not None:
        document["credentialSubject"]["id"] = did_jwk(holder_jwk)
    x5c, kid = list(key.record.x5c), key.record.kid
    if fmt == "vc+jwt":
        return sign_vc_jwt(
            document,
            signer=key.sign,
            alg=key.record.alg,
            x5c=x5c,
            kid=kid,
            iat=int(now.timestamp()),
        )
    return sign_jwt_vc_json(
        document, signer=key.sign, alg=key.record.alg, x5c=x5c, kid=kid, subject_id=None, jti=None
    )
