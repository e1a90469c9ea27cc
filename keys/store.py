"""The key store interface every signer in the system goes through.

A store holds one current signing key per *purpose* (``issuer``, ``status_list``,
``verifier_request``) plus the history of retired keys, each with its X.509 chain. Private key
material never leaves the store: callers get a ``SigningKey`` whose ``sign`` returns JWS-format
signature bytes (R||S for ECDSA, RFC 7518 §3.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Purpose = Literal["issuer", "status_list", "verifier_request"]
PURPOSES: tuple[Purpose, ...] = ("issuer", "status_list", "verifier_request")


@dataclass(frozen=True)
class KeyRecord:
    """Public facts about one key, current or retired."""

    purpose: Purpose
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    #: base64 (not url) DER certificates, leaf first, up to but excluding the root (HAIP §6.1.1).
    x5c: tuple[str, ...]
    not_before: str  # ISO 8601 UTC
    retired_at: str | None  # ISO 8601 UTC, None while current

    def history_row(self) -> dict[str, Any]:
        """The public, JSON-ready summary shown by ``keys list`` and in the trust bundle."""
        return {
            "purpose": self.purpose,
            "kid": self.kid,
            "alg": self.alg,
            "not_before": self.not_before,
            "retired_at": self.retired_at,
        }


class SigningKey(Protocol):
    """A usable private key; ``record`` describes its public half."""

    @property
    def record(self) -> KeyRecord: ...

    def sign(self, data: bytes) -> bytes:
        """JWS signature over ``data`` with ``record.alg``."""
        ...


class KeyStore(Protocol):
    """Current keys, their history and the trust anchors they chain to."""

    def signing_key(self, purpose: Purpose) -> SigningKey:
        """The current key for ``purpose``; raises KeyError if the store has none."""
        ...

    def history(self, purpose: Purpose) -> list[KeyRecord]:
        """Every key ever used for ``purpose``, oldest first, the current one last."""
        ...

    def anchors_pem(self) -> list[str]:
        """PEM certificates of the trust anchors (root CAs) the chains end at."""
        ...
