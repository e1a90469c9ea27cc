"""OpenID4VCI 1.0 §10: encrypted credential requests and responses (ECDH-ES, P-256, AES-GCM).

Also §8.2 (request media types), §8.3 (response media types), §9 (the deferred endpoint uses
the same two functions) and §12.2.4 (the ``credential_request_encryption`` and
``credential_response_encryption`` metadata). ``DUO_REQUIRE_ENCRYPTION`` makes both required.

The request-encryption key is an ECDH-ES P-256 key generated on first use and kept in the data
directory (``DATA_DIR/keys/request-encryption.jwk`` when the file key store is there, else
``DATA_DIR/request-encryption.jwk``), mode 0600, so every worker process uses the same key: it
is written to a private staging file and hard-linked into place, so of two racing workers one
wins and the other reads the complete winner. Limits: one key, never rotated; a plain request
carrying ``credential_response_encryption`` is accepted when request encryption is optional
(§8.2 asks the wallet, not the issuer, to encrypt such a request) [D].

Errors are never encrypted (§8.3.1.2, SPECS item 50): ``credential_response`` encrypts only
success bodies (200, 202); every error leaves through ProtocolError as plain JSON.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from flask import Response

from issuer.app import Services
from issuer.config import Settings
from verifier import jose, strict_json
from verifier.errors import InvalidCredential, ProtocolError

ALG = "ECDH-ES"
ENC_VALUES = ("A128GCM", "A256GCM")
ZIP_VALUES = ("DEF",)
KEY_FILE = "request-encryption.jwk"
JSON_TYPE, JWT_TYPE = "application/json", "application/jwt"
#: Statuses whose body may be encrypted: an immediate (200) or deferred (202) credential response.
SUCCESS_STATUSES = frozenset({200, 202})
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y", "kid", "alg", "use")
#: Per-process cache of the key file: path -> ((device, inode, mtime), private JWK).
_LOADED: dict[Path, tuple[tuple[int, int, int], dict[str, str]]] = {}


class EncryptionKeyError(RuntimeError):
    """The request-encryption key file cannot be used; ``code`` is stable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ResponseEncryption:
    """Validated ``credential_response_encryption`` of a request (§8.2)."""

    jwk: dict[str, Any]  # public; its alg is the JWE alg (§10)
    enc: str
    zip: str | None

    @property
    def alg(self) -> str:
        return str(self.jwk["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.jwk.get("kid")
        return kid if isinstance(kid, str) else None


def _key_path(settings: Settings) -> Path:
    keys_dir = settings.data_dir / "keys"
    return (keys_dir if keys_dir.is_dir() else settings.data_dir) / KEY_FILE


def _new_private_jwk() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = {m: str(v) for m, v in jose.public_jwk(key).items() if m in ("kty", "crv", "x", "y")}
    d = jose.b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))
    return {**public, "kid": jose.jwk_thumbprint(public), "alg": ALG, "use": "enc", "d": d}


def _create(path: Path) -> None:
    """Write a new key to ``path`` unless another process has; the first one stays."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = (strict_json.dumps(_new_private_jwk()) + "\n").encode("utf-8")
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # 0600 from the start
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # Atomic and never replaces: readers see all or nothing. On FileExistsError another
        # worker won the race and its key is the key.
        with contextlib.suppress(FileExistsError):
            os.link(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def _read(path: Path) -> dict[str, str]:
    """The private JWK in ``path``, checked: a P-256 ECDH-ES key whose ``d`` matches x and y."""
    try:
        jwk = strict_json.loads_object(path.read_bytes())
        jose.check_jwe_recipient({k: v for k, v in jwk.items() if k != "d"}, alg=ALG)
        if not (isinstance(jwk.get("d"), str) and isinstance(jwk.get("kid"), str)):
            raise ValueError("no d or kid")
        if jwk.get("alg") != ALG or jwk.get("use") != "enc":
            raise ValueError("not an ECDH-ES encryption key")
        value = int.from_bytes(jose.b64url_decode(jwk["d"]), "big")
        derived = jose.public_jwk(ec.derive_private_key(value, ec.SECP256R1()))
        if (derived["x"], derived["y"]) != (jwk["x"], jwk["y"]):
            raise ValueError("d does not belong to x and y")
    except (InvalidCredential, ValueError):
        raise EncryptionKeyError("request_key_corrupt", "the request-encryption key file is "
                                 "damaged; remove it to make a new key") from None
    return {k: str(v) for k, v in jwk.items()}


def request_encryption_key(settings: Settings) -> dict[str, str]:
    """The issuer's private request-encryption JWK (never publish it), made on first use."""
    path = _key_path(settings)
    try:
        stat = path.stat()
    except FileNotFoundError:
        _create(path)
        stat = path.stat()
    ident = (stat.st_dev, stat.st_ino, stat.st_mtime_ns)
    cached = _LOADED.get(path)
    if cached is None or cached[0] != ident:
        cached = (ident, _read(path))
        _LOADED[path] = cached
    return dict(cached[1])


def encryption_metadata(services: Services) -> dict[str, Any]:
    """The two encryption objects of the credential issuer metadata (§12.2.4, VCI-11)."""
    required = services.settings.require_encryption
    private = request_encryption_key(services.settings)
    public = {m: private[m] for m in _PUBLIC_MEMBERS}
    return {
        "credential_response_encryption": {
            "alg_values_supported": [ALG],
            "enc_values_supported": list(ENC_VALUES),
            "zip_values_supported": list(ZIP_VALUES),
            "encryption_required": required,
        },
        "credential_request_encryption": {
            "jwks": {"keys": [public]},
            "enc_values_supported": list(ENC_VALUES),
            "zip_values_supported": list(ZIP_VALUES),
            "encryption_required": required,
        },
    }


def _bad_encryption(detail: str) -> ProtocolError:
    return ProtocolError("invalid_encryption_parameters", detail)


def _decrypt_request(body: bytes, settings: Settings) -> dict[str, Any]:
    """The credential request inside a JWE made with our key (§10)."""
    try:
        token = body.decode("ascii").strip()
        _, plaintext = jose.jwe_decrypt(
            token, private_jwk=request_encryption_key(settings), algs=[ALG], encs=ENC_VALUES
        )
    except (UnicodeDecodeError, InvalidCredential):
        raise _bad_encryption("the encrypted credential request cannot be decrypted") from None
    try:
        return strict_json.loads_object(plaintext)
    except InvalidCredential:
        raise ProtocolError(
            "invalid_credential_request", "the decrypted request is not a JSON object"
        ) from None


def _plain_request(body: bytes) -> dict[str, Any]:
    try:
        return strict_json.loads_object(body)
    except InvalidCredential:
        raise ProtocolError(
            "invalid_credential_request", "the request body is not a JSON object"
        ) from None


def _response_encryption(value: Any, *, required: bool) -> ResponseEncryption | None:
    """Check ``credential_response_encryption`` (§8.2, §10; SPECS items 47 and 48)."""
    if value is None:  # absent (a JSON null is read as absent)
        if required:
            raise _bad_encryption("credential response encryption is required")
        return None
    if not isinstance(value, dict):
        raise _bad_encryption("credential_response_encryption is not an object")
    jwk, enc, zip_ = value.get("jwk"), value.get("enc"), value.get("zip")
    if enc not in ENC_VALUES:
        raise _bad_encryption("enc is not supported")
    if zip_ is not None and zip_ not in ZIP_VALUES:
        raise _bad_encryption("zip is not supported")
    if not isinstance(jwk, dict) or "d" in jwk:
        raise _bad_encryption("jwk is not a public key")
    if "alg" not in jwk:  # §10: the alg parameter MUST be present
        raise _bad_encryption("jwk has no alg")
    if jwk["alg"] != ALG:
        raise _bad_encryption("jwk alg is not supported")
    try:
        jose.check_jwe_recipient(jwk, alg=ALG)
    except InvalidCredential:
        raise _bad_encryption("jwk is not a usable P-256 key") from None
    return ResponseEncryption(dict(jwk), str(enc), zip_)


def read_credential_request(
    request_body: bytes, content_type: str | None, *, services: Services
) -> tuple[dict[str, Any], ResponseEncryption | None]:
    """The (deferred) credential request as a JSON object and how to encrypt the response.

    ``application/json`` or ``application/jwt`` (a JWE for our key) only (§8.2); unknown
    parameters stay in the dict for the caller to ignore. Raises ProtocolError 400
    ``invalid_credential_request`` (another media type, not a JSON object) or
    ``invalid_encryption_parameters`` (undecryptable JWE, plain request while encryption is
    required, bad or missing ``credential_response_encryption``).
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    required = services.settings.require_encryption
    if media == JWT_TYPE:
        request = _decrypt_request(request_body, services.settings)
    elif media == JSON_TYPE:
        if required:  # §10: an unencrypted message where encryption is required (item 49)
            raise _bad_encryption("the credential request must be encrypted")
        request = _plain_request(request_body)
    else:
        raise ProtocolError(
            "invalid_credential_request", "the content type must be application/json or jwt"
        )
    encryption = _response_encryption(
        request.get("credential_response_encryption"), required=required
    )
    return request, encryption


def credential_response(
    body: dict[str, Any], status: int, encryption: ResponseEncryption | None
) -> Response:
    """The credential endpoint's answer, with ``Cache-Control: no-store``.

    With ``encryption`` and a success status (200, 202) the body is a compact JWE,
    ``application/jwt``, whose ``alg`` is the JWK's, ``kid`` copied, ``zip`` only when requested
    (§10, VCI-34); otherwise ``application/json``. Errors are never encrypted (VCI-33): any
    other status is sent as plain JSON whatever ``encryption`` says.
    """
    payload = strict_json.dumps(body).encode("utf-8")
    if encryption is None or status not in SUCCESS_STATUSES:
        response = Response(payload, status=status, mimetype=JSON_TYPE)
    else:
        token = jose.jwe_encrypt(
            payload,
            recipient_jwk=encryption.jwk,
            alg=encryption.alg,
            enc=encryption.enc,
            kid=encryption.kid,
            zip_=encryption.zip,
        )
        response = Response(token, status=status, mimetype=JWT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
