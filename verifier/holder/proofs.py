"""What the holder signs: OpenID4VCI 1.0 Appendix F.1 key proofs and RFC 9449 §4 DPoP proofs.

Also the holder's keys (P-256, ES256: HAIP 1.0 §7 makes ES256 mandatory for proofs) as private
JWKs (RFC 7517 §4, RFC 7518 §6.2.2) and the PKCE S256 pair (RFC 7636 §4.1, §4.2). The caller
supplies times and random values, so every function here is deterministic but for the ECDSA
signature itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric import ec

from verifier import jose
from verifier.errors import DuoError, ProtocolError

ALG = "ES256"
KEY_PROOF_TYP = "openid4vci-proof+jwt"
DPOP_TYP = "dpop+jwt"


@dataclass(frozen=True, repr=False)
class HolderKey:
    """A holder key pair; ``repr`` never shows the private part."""

    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> HolderKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_jwk(cls, jwk: Any) -> HolderKey:
        """A key from a private P-256 JWK; anything else is ``holder_key_invalid``."""
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise ProtocolError("holder_key_invalid", "the holder key is not a P-256 JWK")
        try:
            public = jose.public_key_from_jwk({k: v for k, v in jwk.items() if k != "d"})
            d = int.from_bytes(jose.b64url_decode(jwk.get("d", "")), "big")
            key = ec.EllipticCurvePrivateNumbers(d, public.public_numbers()).private_key()
        except (DuoError, ValueError, TypeError):
            raise ProtocolError("holder_key_invalid", "the holder key is not usable") from None
        return cls(key)

    def private_jwk(self) -> dict[str, Any]:
        d = self.private.private_numbers().private_value.to_bytes(32, "big")
        return {**self.public_jwk, "d": jose.b64url_encode(d)}

    @property
    def public_jwk(self) -> dict[str, Any]:
        return jose.public_jwk(self.private)

    @property
    def thumbprint(self) -> str:
        """RFC 7638 thumbprint: the key's name in the wallet and DPoP's ``jkt`` (RFC 9449 §6)."""
        return jose.jwk_thumbprint(self.public_jwk)

    def sign(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        return jose.sign_compact(header, payload, jose.private_key_signer(self.private, ALG))

    def __repr__(self) -> str:
        return f"HolderKey({self.thumbprint})"


def key_proof(
    key: HolderKey, *, audience: str, nonce: str | None, iat: int, client_id: str | None
) -> str:
    """A ``jwt`` key proof (Appendix F.1).

    Header: ``typ`` openid4vci-proof+jwt, ``alg`` ES256 and the public ``jwk`` (never ``kid`` or
    ``x5c`` with it). Payload: ``aud`` = the Credential Issuer Identifier, ``iat``, the server's
    ``nonce`` (c_nonce) when the issuer has a nonce endpoint, and ``iss`` = ``client_id`` only
    when the client identified itself; omitted for anonymous pre-authorized access.
    """
    payload: dict[str, Any] = {"aud": audience, "iat": iat}
    if nonce is not None:
        payload["nonce"] = nonce
    if client_id is not None:
        payload["iss"] = client_id
    return key.sign({"typ": KEY_PROOF_TYP, "alg": ALG, "jwk": key.public_jwk}, payload)


def htu(url: str) -> str:
    """RFC 9449 §4.2: the target URI without query and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def access_token_hash(access_token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url(SHA-256(ASCII(access token)))."""
    return jose.b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def dpop_proof(
    key: HolderKey,
    *,
    method: str,
    url: str,
    iat: int,
    jti: str,
    nonce: str | None = None,
    access_token: str | None = None,
) -> str:
    """A DPoP proof JWT (RFC 9449 §4.2): ``jti``, ``htm``, ``htu``, ``iat``, then ``nonce``
    when the server gave one (§8, §9) and ``ath`` when presenting an access token (§7.1).
    """
    payload: dict[str, Any] = {"jti": jti, "htm": method, "htu": htu(url), "iat": iat}
    if nonce is not None:
        payload["nonce"] = nonce
    if access_token is not None:
        payload["ath"] = access_token_hash(access_token)
    return key.sign({"typ": DPOP_TYP, "alg": ALG, "jwk": key.public_jwk}, payload)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2 S256: base64url(SHA-256(ASCII(code_verifier)))."""
    if not 43 <= len(verifier) <= 128:
        raise ValueError("a code_verifier has 43 to 128 characters (RFC 7636 §4.1)")
    return jose.b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())
