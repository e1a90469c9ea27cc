"""The holder's side of OpenID4VCI 1.0 §10: encrypted credential requests and responses.

Response encryption (§8.2 ``credential_response_encryption``): a fresh P-256 key per request,
sent as ``jwk`` (with ``alg`` ECDH-ES, which the JWE must then use, and a ``kid`` it must copy)
and an ``enc`` the issuer lists. Request encryption (§8.2, §10): the JSON request as the plaintext
of a JWE for a key from the issuer's ``credential_request_encryption.jwks``; it is used whenever
response encryption is, "to prevent it being substituted by an attacker". The JWE work is
``verifier.jose``'s (ECDH-ES with A128GCM/A256GCM).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from verifier import jose, strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.holder.proofs import HolderKey
from verifier.holder.transport import MAX_BODY_BYTES

ALG = "ECDH-ES"


def _choose_enc(offered: Any) -> str:
    if not isinstance(offered, list):
        raise ProtocolError("encryption_unsupported", "enc_values_supported is not a list")
    for enc in ("A128GCM", "A256GCM"):  # HAIP 1.0: both are supported; prefer the first
        if enc in offered:
            return enc
    raise ProtocolError("encryption_unsupported", "no enc value the holder supports")


@dataclass(frozen=True, repr=False)
class ResponseEncryption:
    """The key and ``enc`` a wallet asks the issuer to encrypt one response with."""

    private_jwk: dict[str, Any]
    enc: str

    @classmethod
    def new(cls, metadata: dict[str, Any]) -> ResponseEncryption:
        """For the issuer's ``credential_response_encryption`` metadata (§12.2.4)."""
        algs = metadata.get("alg_values_supported")
        if not isinstance(algs, list) or ALG not in algs:
            raise ProtocolError("encryption_unsupported", "the issuer does not offer ECDH-ES")
        jwk = HolderKey.generate().private_jwk()
        jwk.update({"use": "enc", "alg": ALG, "kid": secrets.token_urlsafe(8)})
        return cls(jwk, _choose_enc(metadata.get("enc_values_supported")))

    def parameters(self) -> dict[str, Any]:
        """The ``credential_response_encryption`` request parameter: public ``jwk`` and ``enc``."""
        public = {k: v for k, v in self.private_jwk.items() if k != "d"}
        return {"jwk": public, "enc": self.enc}

    def decrypt(self, token: str) -> bytes:
        """The plaintext of the issuer's JWE; ``response_not_decryptable`` if anything is off."""
        try:
            header, plaintext = jose.jwe_decrypt(
                token,
                private_jwk=self.private_jwk,
                algs={ALG},
                encs={self.enc},
                max_size=MAX_BODY_BYTES,
            )
        except DuoError:
            raise ProtocolError(
                "response_not_decryptable", "the encrypted response cannot be decrypted"
            ) from None
        if header.get("enc") != self.enc:
            raise ProtocolError("response_not_decryptable", "the response used another enc")
        return plaintext


def encrypt_request(body: dict[str, Any], metadata: dict[str, Any]) -> str:
    """``body`` as a JWE for the issuer's ``credential_request_encryption`` (§10)."""
    keys = metadata.get("jwks", {}).get("keys") if isinstance(metadata.get("jwks"), dict) else None
    if not isinstance(keys, list):
        raise ProtocolError("encryption_unsupported", "the issuer lists no request keys")
    enc = _choose_enc(metadata.get("enc_values_supported"))
    for jwk in keys:
        # §10: the JWK's alg MUST be present and is the JWE alg; its kid is copied.
        if not isinstance(jwk, dict) or jwk.get("alg") != ALG:
            continue
        kid = jwk.get("kid")
        try:
            return jose.jwe_encrypt(
                strict_json.dumps(body).encode("utf-8"),
                recipient_jwk=jwk,
                alg=ALG,
                enc=enc,
                kid=kid if isinstance(kid, str) else None,
                zip_=None,
            )
        except DuoError:
            continue
    raise ProtocolError("encryption_unsupported", "no issuer request key the holder can use")
