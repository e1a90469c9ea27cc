"""Integrity of referenced documents: W3C Subresource Integrity metadata as SD-JWT VC uses it.

draft-ietf-oauth-sd-jwt-vc-13 §10 (SPECS.md SDV-8): ``vct#integrity``, ``extends#integrity`` and
``uri#integrity`` hold SRI metadata (W3C SRI §3, syntax only). The digest of the retrieved bytes
is compared with the expressions of the strongest supported algorithm; no supported algorithm or
no match rejects the document. The check never depends on CORS (-13 §10).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from verifier.errors import InvalidCredential

#: Supported SRI algorithms, weakest first.
SRI_ALGORITHMS = ("sha256", "sha384", "sha512")


def _mismatch() -> InvalidCredential:
    return InvalidCredential("type_metadata_integrity_mismatch", "document fails its integrity")


def _digest(value: str) -> bytes | None:
    """Base64 or base64url value of a hash expression (options after '?' dropped)."""
    value = value.split("?", 1)[0].replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def check_integrity(document_bytes: bytes, integrity: str) -> None:
    """Check fetched bytes against SRI metadata (several space-separated expressions allowed).

    Raises InvalidCredential ``type_metadata_integrity_mismatch`` when no expression uses a
    supported algorithm, or none of the strongest algorithm's expressions matches.
    """
    if not isinstance(integrity, str) or not isinstance(document_bytes, bytes):
        raise _mismatch()
    expressions: dict[str, list[bytes]] = {}
    for token in integrity.split():
        algorithm, _, value = token.partition("-")
        digest = _digest(value)
        if algorithm in SRI_ALGORITHMS and digest is not None:
            expressions.setdefault(algorithm, []).append(digest)
    if not expressions:
        raise _mismatch()
    # -13 §10: use the strongest algorithm listed; any of its digests may match.
    strongest = max(expressions, key=SRI_ALGORITHMS.index)
    computed = hashlib.new(strongest, document_bytes).digest()
    if not any(hmac.compare_digest(computed, digest) for digest in expressions[strongest]):
        raise _mismatch()
