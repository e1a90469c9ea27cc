"""The reference holder's wallet file: ``wallet.json`` in a data directory, mode 0600.

One JSON document: the holder keys as private JWKs (RFC 7517; P-256) named by their RFC 7638
thumbprint, and the credentials with what the wallet knows about them (issuer, configuration,
format, the key it is bound to, when it was received). Writes are atomic (a new file, then a
rename), so a crash never leaves half a wallet. Named limits: the keys are protected by file
permissions only (a development wallet, no secure element), and two processes saving at the same
time keep only the last write.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.holder.proofs import HolderKey
from verifier.holder.responses import Issued

WALLET_FILE = "wallet.json"
WALLET_VERSION = 1
MAX_WALLET_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class StoredCredential:
    id: str
    issuer: str
    configuration_id: str
    format: str
    credential: str
    key: str | None  # thumbprint of the holder key in the wallet; None: not bound
    received_at: str  # ISO 8601, UTC

    def summary(self) -> dict[str, Any]:
        """Everything but the credential text."""
        return {k: v for k, v in asdict(self).items() if k != "credential"}


def _invalid() -> ProtocolError:
    return ProtocolError("wallet_file_invalid", "the wallet file is not a wallet")


def _stored(item: Any) -> StoredCredential:
    if not isinstance(item, dict):
        raise _invalid()
    try:
        found = StoredCredential(**item)
    except TypeError:
        raise _invalid() from None
    texts = (found.id, found.issuer, found.configuration_id, found.format, found.credential)
    if not all(isinstance(t, str) for t in texts) or not isinstance(found.key, str | None):
        raise _invalid()
    return found


class Wallet:
    """The wallet file of one data directory; ``open`` it, change it, ``save`` it."""

    def __init__(
        self, path: Path, keys: dict[str, dict[str, Any]], credentials: list[StoredCredential]
    ) -> None:
        self.path = path
        self._keys = keys
        self.credentials = credentials

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str]) -> Wallet:
        """The wallet in ``data_dir``; an empty one when there is no file yet."""
        path = Path(data_dir) / WALLET_FILE
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_WALLET_BYTES + 1)
        except FileNotFoundError:
            return cls(path, {}, [])
        try:
            document = strict_json.loads_object(raw)
        except DuoError:
            raise _invalid() from None
        keys, items = document.get("keys"), document.get("credentials")
        if document.get("wallet_version") != WALLET_VERSION or len(raw) > MAX_WALLET_BYTES:
            raise _invalid()
        if not isinstance(keys, dict) or not isinstance(items, list):
            raise _invalid()
        return cls(path, keys, [_stored(item) for item in items])

    def key(self, thumbprint: str) -> HolderKey:
        """The private key named ``thumbprint``; ``holder_key_invalid`` if it is not there."""
        jwk = self._keys.get(thumbprint)
        if jwk is None:
            raise ProtocolError("holder_key_invalid", "the wallet has no such key")
        return HolderKey.from_jwk(jwk)

    def find(self, credential_id: str) -> StoredCredential:
        for stored in self.credentials:
            if stored.id == credential_id:
                return stored
        raise ProtocolError("credential_not_found", "the wallet has no such credential")

    def add(self, issued: Issued, *, issuer: str, received_at: datetime) -> StoredCredential:
        """Keep ``issued`` and its key; its id is the next free number."""
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        thumbprint = None
        if issued.key is not None:
            thumbprint = issued.key.thumbprint
            self._keys[thumbprint] = issued.key.private_jwk()
        numbers = [int(c.id) for c in self.credentials if c.id.isdigit()]
        stored = StoredCredential(
            id=str(max(numbers, default=0) + 1),
            issuer=issuer,
            configuration_id=issued.configuration_id,
            format=issued.format,
            credential=issued.credential,
            key=thumbprint,
            received_at=received_at.isoformat(timespec="seconds"),
        )
        self.credentials.append(stored)
        return stored

    def save(self) -> None:
        """Write the file atomically with mode 0600 (never readable by others)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "wallet_version": WALLET_VERSION,
            "keys": self._keys,
            "credentials": [asdict(c) for c in self.credentials],
        }
        temporary = self.path.with_name(f".{WALLET_FILE}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(strict_json.dumps(document))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        finally:
            if temporary.exists():
                temporary.unlink()
