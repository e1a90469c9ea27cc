"""The one place that wraps the JOSE library (PyJWT's algorithms) for JWS compact serialization.

RFC 7515 (JWS) §3.1 compact serialization and §7.2.1 processing, RFC 7517 (JWK), RFC 7518 (JWA)
and RFC 7638 (JWK thumbprint). PyJWT's algorithm objects do the cryptography (via `cryptography`);
the parsing is done here because PyJWT's decoder accepts duplicate JSON member names and does not
let the caller see header and payload before choosing the key, which SD-JWT VC key resolution
(x5c or issuer metadata) needs. The thumbprint is four lines of RFC 7638 §3 that no installed
library offers for PyJWT keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import Algorithm

from verifier import strict_json
from verifier.errors import InvalidCredential

#: Asymmetric algorithms accepted anywhere; "none" and MACs never are (RFC 9901 §7.1 step 2.1).
ASYMMETRIC_ALGS = frozenset(
    {"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256"}
)
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")

Signer = Callable[[bytes], bytes]


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, code: str = "malformed_base64") -> bytes:
    """Strict base64url without padding; anything else raises InvalidCredential(code)."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise InvalidCredential(code, "value is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCredential(code, "value is not unpadded base64url") from None
    if b64url_encode(data) != text:
        # Unused low bits set: another spelling of the same bytes. Refused, so that one JWS or
        # presentation has exactly one text (replay tracking keys on it).
        raise InvalidCredential(code, "value is not canonical base64url")
    return data


@dataclass(frozen=True)
class CompactJws:
    """A parsed, not yet verified, JWS in compact serialization."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    raw: str


def parse_compact(token: str, *, code: str = "jws_malformed") -> CompactJws:
    """Split and decode a compact JWS whose header and payload are JSON objects.

    Raises InvalidCredential(code) on any structural problem, or a strict_json code for JSON
    that has duplicate names or nests too deeply.
    """
    if not isinstance(token, str):
        raise InvalidCredential(code, "JWS is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidCredential(code, "JWS does not have three parts")
    header = strict_json.loads(b64url_decode(parts[0], code))
    payload = strict_json.loads(b64url_decode(parts[1], code))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidCredential(code, "JWS header or payload is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise InvalidCredential(code, "JWS header has no alg")
    signature = b64url_decode(parts[2], code)
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return CompactJws(header, payload, signing_input, signature, token)


def _algorithm(alg: str, allowed: Iterable[str], code: str) -> Algorithm:
    if alg not in ASYMMETRIC_ALGS or alg not in allowed:
        raise InvalidCredential(code, "JWS algorithm is not allowed")
    return jwt.get_algorithm_by_name("EdDSA" if alg == "Ed25519" else alg)


def public_key_from_jwk(jwk: Any, code: str = "jwk_invalid") -> Any:
    """A public key object from a JWK; private JWKs (with ``d``) and symmetric keys are refused."""
    if not isinstance(jwk, dict):
        raise InvalidCredential(code, "JWK is not an object")
    if "d" in jwk or jwk.get("kty") not in {"EC", "OKP", "RSA"}:
        raise InvalidCredential(code, "JWK is not an asymmetric public key")
    try:
        return jwt.PyJWK(jwk).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        raise InvalidCredential(code, "JWK cannot be used as a public key") from None


def verify_signature(
    jws: CompactJws, key: Any, *, algorithms: Iterable[str], code: str = "signature_invalid"
) -> None:
    """Check ``jws`` against a public key object (or public JWK); raise InvalidCredential(code)."""
    algorithm = _algorithm(jws.header["alg"], algorithms, code)
    if isinstance(key, dict):
        key = public_key_from_jwk(key, code)
    try:
        ok = algorithm.verify(jws.signing_input, key, jws.signature)
    except (jwt.InvalidKeyError, ValueError, TypeError, AttributeError):
        # A key of another type than the alg names (e.g. an RSA key for ES256) is a mismatch.
        ok = False
    if not ok:
        raise InvalidCredential(code, "JWS signature does not verify")


def sign_compact(header: dict[str, Any], payload: dict[str, Any], signer: Signer) -> str:
    """Serialize and sign; ``signer`` returns the JWS signature bytes (R||S for ECDSA)."""
    head = b64url_encode(strict_json.dumps(header).encode("utf-8"))
    body = b64url_encode(strict_json.dumps(payload).encode("utf-8"))
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{b64url_encode(signer(signing_input))}"


def private_key_signer(private_key: Any, alg: str) -> Signer:
    """A Signer for a `cryptography` private key, producing JWS-format signatures."""
    algorithm = _algorithm(alg, ASYMMETRIC_ALGS, "signing_key_invalid")
    return lambda data: algorithm.sign(data, private_key)


def public_jwk(key: Any) -> dict[str, Any]:
    """The public JWK of a `cryptography` public or private key (private parts dropped)."""
    public = key.public_key() if hasattr(key, "public_key") else key
    for name in ("ES256", "EdDSA", "RS256"):
        try:
            jwk: dict[str, Any] = jwt.get_algorithm_by_name(name).to_jwk(public, as_dict=True)
        except (jwt.InvalidKeyError, TypeError, ValueError, AttributeError):
            continue
        return {k: v for k, v in jwk.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}
    raise InvalidCredential("jwk_invalid", "key type is not supported")


_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "RSA": ("e", "kty", "n"),
}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3 SHA-256 thumbprint, base64url."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise InvalidCredential("jwk_invalid", "JWK lacks the members of its key type")
    canonical = strict_json.dumps({m: jwk[m] for m in members})
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())
