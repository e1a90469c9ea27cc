"""The one place that wraps the JOSE library (PyJWT's algorithms) for JWS compact serialization.

RFC 7515 (JWS) §3.1 compact serialization and §7.2.1 processing, RFC 7517 (JWK), RFC 7518 (JWA)
and RFC 7638 (JWK thumbprint). PyJWT's algorithm objects do the cryptography (via `cryptography`);
the parsing is done here because PyJWT's decoder accepts duplicate JSON member names and does not
let the caller see header and payload before choosing the key, which SD-JWT VC key resolution
(x5c or issuer metadata) needs. The thumbprint is four lines of RFC 7638 §3 that no installed
library offers for PyJWT keys. Canonical EC public JWKs are imported with `cryptography` directly,
which gives PyJWK's key without its per-call setup; any other JWK still goes through PyJWK.
JWE (RFC 7516) for OpenID4VCI §10 is the last section: jwcrypto does its cryptography.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwe as jwcrypto_jwe  # type: ignore[import-untyped]
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto.common import JWException  # type: ignore[import-untyped]
from jwt.algorithms import Algorithm

from verifier import strict_json
from verifier.errors import InvalidCredential

#: Asymmetric algorithms accepted anywhere; "none" and MACs never are (RFC 9901 §7.1 step 2.1).
ASYMMETRIC_ALGS = frozenset(
    {"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256"}
)
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
#: Padding that completes base64 text of each length mod 4 (1 is never valid; a2b refuses it).
_PAD = (b"", b"===", b"==", b"=")
#: The characters that may end base64url text of length 2 or 3 mod 4: unused low bits all zero.
_LAST_CHARS = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
#: RFC 7518 §6.2.1.1 curves with their coordinate length in bytes.
_EC_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}

Signer = Callable[[bytes], bytes]


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    # binascii directly: base64.urlsafe_b64encode adds a second pass and two calls per value.
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def b64url_decode(text: str, code: str = "malformed_base64") -> bytes:
    """Strict base64url without padding; anything else raises InvalidCredential(code)."""
    # No "+", "/" or "=": after the translation below, every base64 character came from base64url.
    if not isinstance(text, str) or not text.isascii() or "+" in text or "/" in text or "=" in text:
        raise InvalidCredential(code, "value is not unpadded base64url")
    try:
        encoded = text.encode().translate(_FROM_URLSAFE) + _PAD[len(text) % 4]
        data = binascii.a2b_base64(encoded, strict_mode=True)  # refuses any other character
    except binascii.Error:
        raise InvalidCredential(code, "value is not unpadded base64url") from None
    if len(text) % 4 and text[-1] not in _LAST_CHARS[len(text) % 4]:
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


def _ec_public_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey | None:
    """The key of a canonical P-256/384/521 JWK (RFC 7518 §6.2.1), or None for anything else.

    The same key PyJWK would build, without its per-call setup; whatever this does not accept
    outright (another alg, padded or non-canonical base64url, off-curve points) goes to PyJWK.
    """
    crv, x_text, y_text = jwk.get("crv"), jwk.get("x"), jwk.get("y")
    if not (isinstance(crv, str) and isinstance(x_text, str) and isinstance(y_text, str)):
        return None
    curve = _EC_CURVES.get(crv)
    if curve is None or jwk.get("alg", "ES256") not in ("ES256", "ES384", "ES512"):
        return None
    try:
        x, y = b64url_decode(x_text), b64url_decode(y_text)
        if not len(x) == len(y) == curve[1]:
            return None
        # from_encoded_point checks that the point is on the curve (SEC 1 §2.3.4).
        return ec.EllipticCurvePublicKey.from_encoded_point(curve[0], b"\x04" + x + y)
    except (InvalidCredential, ValueError):
        return None


def public_key_from_jwk(jwk: Any, code: str = "jwk_invalid") -> Any:
    """A public key object from a JWK; private JWKs (with ``d``) and symmetric keys are refused."""
    if not isinstance(jwk, dict):
        raise InvalidCredential(code, "JWK is not an object")
    if "d" in jwk or jwk.get("kty") not in {"EC", "OKP", "RSA"}:
        raise InvalidCredential(code, "JWK is not an asymmetric public key")
    if jwk["kty"] == "EC" and (key := _ec_public_key(jwk)) is not None:
        return key
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


@dataclass(frozen=True)
class EncodedHeader:
    """A JWS Protected Header serialized once, to sign many tokens with (RFC 7515 §5.1 step 2)."""

    alg: str
    #: BASE64URL(UTF8(JWS Protected Header))
    text: str


def encode_header(header: Mapping[str, Any]) -> EncodedHeader:
    """The encoded form of ``header``, which must name its ``alg``."""
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise ValueError("a JWS header names its alg")
    return EncodedHeader(alg, b64url_encode(strict_json.dumps(dict(header)).encode("utf-8")))


def sign_compact(
    header: dict[str, Any] | EncodedHeader, payload: dict[str, Any], signer: Signer
) -> str:
    """Serialize and sign; ``signer`` returns the JWS signature bytes (R||S for ECDSA)."""
    if isinstance(header, EncodedHeader):
        head = header.text
    else:
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


# --- JWE (RFC 7516) -------------------------------------------------------------------------
# Compact serialization with ECDH-ES direct key agreement on P-256 (RFC 7518 §4.6) and AES-GCM
# (RFC 7518 §5.3), as OpenID4VCI 1.0 §10 uses it for credential requests and responses. jwcrypto
# does the cryptography (a fresh ephemeral key per encryption, Concat KDF, AES-GCM, DEF); the
# header is parsed here first with strict JSON, so algorithms, key id and ephemeral key are
# checked before jwcrypto sees the token. Only P-256 keys are supported (a named limit).

#: Key management algorithms the JWE functions support: ECDH-ES in Direct Key Agreement mode.
JWE_ALGS = frozenset({"ECDH-ES"})
#: Content encryption algorithms (RFC 7518 §5.3).
JWE_ENCS = frozenset({"A128GCM", "A256GCM"})
#: Compression algorithms (RFC 7516 §4.1.3): raw DEFLATE.
JWE_ZIPS = frozenset({"DEF"})
#: The largest compact JWE and the largest (decompressed) plaintext jwe_decrypt accepts.
MAX_JWE_BYTES = 64 * 1024
_GCM_IV_BYTES, _GCM_TAG_BYTES, _P256_BYTES = 12, 16, 32


def _p256_public(jwk: Any, code: str) -> dict[str, str]:
    """kty, crv, x and y of a public P-256 JWK whose point is on the curve; else raise ``code``."""
    if not isinstance(jwk, dict) or "d" in jwk or (jwk.get("kty"), jwk.get("crv")) != (
        "EC",
        "P-256",
    ):
        raise InvalidCredential(code, "key is not a public P-256 EC JWK")
    x_text, y_text = jwk.get("x"), jwk.get("y")
    if not (isinstance(x_text, str) and isinstance(y_text, str)):
        raise InvalidCredential(code, "key is not a public P-256 EC JWK")
    x, y = b64url_decode(x_text, code), b64url_decode(y_text, code)
    if not len(x) == len(y) == _P256_BYTES:
        raise InvalidCredential(code, "key coordinates have the wrong length")
    try:
        # SEC 1 §2.3.4: refuses points off the curve (RFC 7518 §4.6 invalid-curve attacks).
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
    except ValueError:
        raise InvalidCredential(code, "key is not a point on P-256") from None
    return {"kty": "EC", "crv": "P-256", "x": x_text, "y": y_text}


def check_jwe_recipient(jwk: Any, *, alg: str) -> None:
    """Raise unless ``jwk`` is a public P-256 key usable with ``alg`` (RFC 7517 §4.2-4.4).

    Codes: ``jwe_alg_unsupported`` for an algorithm other than ECDH-ES, ``jwe_key_invalid`` for
    anything wrong with the key (private, another curve, off-curve point, another ``alg`` or
    ``use``, a ``kid`` that is not a string).
    """
    if alg not in JWE_ALGS:
        raise InvalidCredential("jwe_alg_unsupported", "JWE key management alg is not supported")
    _p256_public(jwk, "jwe_key_invalid")
    if jwk.get("alg", alg) != alg or jwk.get("use", "enc") != "enc":
        raise InvalidCredential("jwe_key_invalid", "JWK is not meant for this JWE algorithm")
    if not isinstance(jwk.get("kid", ""), str):
        raise InvalidCredential("jwe_key_invalid", "JWK kid is not a string")


def jwe_encrypt(
    plaintext: bytes,
    *,
    recipient_jwk: dict[str, Any],
    alg: str,
    enc: str,
    kid: str | None,
    zip_: str | None,
) -> str:
    """A compact JWE of ``plaintext`` for ``recipient_jwk`` (RFC 7516 §7.1).

    The protected header is ``alg``, ``enc``, the ephemeral ``epk``, ``kid`` when given and
    ``zip`` only when requested. Raises InvalidCredential ``jwe_key_invalid`` or
    ``jwe_alg_unsupported`` before any encryption.
    """
    check_jwe_recipient(recipient_jwk, alg=alg)
    if enc not in JWE_ENCS or (zip_ is not None and zip_ not in JWE_ZIPS):
        raise InvalidCredential("jwe_alg_unsupported", "JWE enc or zip is not supported")
    header: dict[str, str] = {"alg": alg, "enc": enc}
    if kid is not None:
        header["kid"] = kid
    if zip_ is not None:
        header["zip"] = zip_
    # Only the key's own members: use/key_ops were checked above and jwcrypto reads no others.
    key = jwcrypto_jwk.JWK(**_p256_public(recipient_jwk, "jwe_key_invalid"))
    token = jwcrypto_jwe.JWE(plaintext, protected=header, algs=[alg, enc])
    token.add_recipient(key)  # generates the ephemeral key pair (RFC 7518 §4.6.1)
    return str(token.serialize(compact=True))


def _jwe_header(token: Any, max_size: int) -> dict[str, Any]:
    """The protected header of a compact JWE whose five parts are well formed."""
    if not isinstance(token, str) or len(token) > max_size:
        raise InvalidCredential("jwe_malformed", "JWE is not a string or is too large")
    parts = token.split(".")
    if len(parts) != 5:
        raise InvalidCredential("jwe_malformed", "JWE does not have five parts")
    raw = [b64url_decode(part, "jwe_malformed") for part in parts]
    if len(raw[2]) != _GCM_IV_BYTES or len(raw[4]) != _GCM_TAG_BYTES:
        raise InvalidCredential("jwe_malformed", "JWE IV or tag has the wrong length")
    if raw[1]:  # RFC 7518 §4.6: direct key agreement leaves the encrypted key empty
        raise InvalidCredential("jwe_malformed", "JWE has an encrypted key")
    try:
        return strict_json.loads_object(raw[0])
    except InvalidCredential:
        raise InvalidCredential("jwe_malformed", "JWE header is not a JSON object") from None


def _check_jwe_header(
    header: dict[str, Any], private_jwk: dict[str, Any], algs: set[str], encs: set[str]
) -> None:
    alg, enc = header.get("alg"), header.get("enc")
    if alg not in algs & JWE_ALGS or enc not in encs & JWE_ENCS:
        raise InvalidCredential("jwe_alg_unsupported", "JWE alg or enc is not allowed")
    if private_jwk.get("alg", alg) != alg:  # the JWE alg is the key's alg (OpenID4VCI §10)
        raise InvalidCredential("jwe_alg_unsupported", "JWE alg is not the key's alg")
    if header.get("zip", "DEF") not in JWE_ZIPS or "crit" in header:  # RFC 7516 §4.1.13
        raise InvalidCredential("jwe_alg_unsupported", "JWE zip or crit is not supported")
    if "kid" in private_jwk and header.get("kid") != private_jwk["kid"]:
        # OpenID4VCI §10: the JWE names the kid of the key it was made for.
        raise InvalidCredential("jwe_key_unknown", "JWE kid does not name the decryption key")
    _p256_public(header.get("epk"), "jwe_malformed")


def jwe_decrypt(
    token: str,
    *,
    private_jwk: dict[str, Any],
    algs: Iterable[str],
    encs: Iterable[str],
    max_size: int = MAX_JWE_BYTES,
) -> tuple[dict[str, Any], bytes]:
    """Decrypt a compact JWE made for ``private_jwk``: (protected header, plaintext).

    RFC 7516 §5.2 with these checks first: five base64url parts, at most ``max_size``
    characters, a strict-JSON header, ``alg``/``enc`` allowed, ``zip`` only DEF, no ``crit``,
    the ``kid`` of ``private_jwk`` (when it has one), an on-curve P-256 ``epk``. Codes:
    ``jwe_malformed``, ``jwe_alg_unsupported``, ``jwe_key_unknown``, ``jwe_decrypt_failed``
    (wrong key, tampered, a plaintext that is empty or inflates beyond ``max_size``).
    """
    header = _jwe_header(token, max_size)
    _check_jwe_header(header, private_jwk, set(algs), set(encs))
    public = _p256_public({k: v for k, v in private_jwk.items() if k != "d"}, "jwe_key_invalid")
    try:
        key = jwcrypto_jwk.JWK(**public, d=private_jwk["d"])
        jwe = jwcrypto_jwe.JWE(algs=[header["alg"], header["enc"]])
        jwe.deserialize(token)
        jwe.decrypt(key, max_plaintext=max_size)
        plaintext = jwe.plaintext
    except (JWException, ValueError, TypeError, KeyError):
        raise InvalidCredential("jwe_decrypt_failed", "JWE cannot be decrypted") from None
    if not isinstance(plaintext, bytes) or not plaintext:
        raise InvalidCredential("jwe_decrypt_failed", "JWE cannot be decrypted")
    return header, plaintext
