"""A development key store in files: a root CA and one ES256 key per purpose, with history.

Implements ``keys.store.KeyStore`` over ``DATA_DIR/keys/`` (docs/keys.md). Keys are P-256 (ES256,
RFC 7518 §3.4), named by their RFC 7638 thumbprint; each has a leaf certificate from
``keys.pki`` and ``x5c`` holds that leaf only, never the root (HAIP 1.0 §6.1.1). Private keys are
unencrypted PKCS#8 PEM files with mode 0600: development only; production uses an HSM store.
Retired keys stay on disk and in the history so what they signed keeps verifying (DESIGN §6).
One process rotates at a time: the manifest is replaced atomically but rotations are not locked.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys import pki
from keys.store import PURPOSES, KeyRecord, Purpose
from verifier.jose import Signer, jwk_thumbprint, private_key_signer, public_jwk

ALG = "ES256"
KEYS_DIR = "keys"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
ROOT_KEY = "root.key.pem"
ROOT_CERT = "root.cert.pem"
_PEM, _PKCS8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
_PrivateKey = ec.EllipticCurvePrivateKey


class KeyStoreError(KeyError):
    """The store is missing, damaged or cannot do what was asked; ``code`` is stable."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


@dataclass(frozen=True)
class FileSigningKey:
    """A private key from the store; ``sign`` returns JWS signature bytes (R||S)."""

    record: KeyRecord
    _signer: Signer = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        return self._signer(data)


@dataclass(frozen=True)
class _Entry:
    """One manifest row: a key's public facts and its two file names."""

    purpose: Purpose
    kid: str
    alg: str
    not_before: str
    retired_at: str | None
    key_file: str
    cert_file: str


def _iso(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never overwrite) with ``mode`` from the first byte on, then fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_pem(directory: Path, name: str, item: _PrivateKey | x509.Certificate) -> None:
    """Private keys as unencrypted PKCS#8 with mode 0600 (development only), certificates 0644."""
    if isinstance(item, x509.Certificate):
        _write(directory / name, item.public_bytes(serialization.Encoding.PEM), 0o644)
    else:
        pem = item.private_bytes(_PEM, _PKCS8, serialization.NoEncryption())
        _write(directory / name, pem, 0o600)


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically (write a sibling, fsync, rename)."""
    staging = directory / (MANIFEST + ".new")
    staging.unlink(missing_ok=True)
    _write(staging, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"), 0o644)
    os.replace(staging, directory / MANIFEST)


@dataclass(frozen=True)
class _Authority:
    """The root CA and the names its leaves carry."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    issuer: str
    verifier_host: str

    def new_entry(self, directory: Path, purpose: Purpose, now: datetime) -> _Entry:
        """Generate and certify a key for ``purpose`` and write both files (not the manifest)."""
        key = pki.new_key()
        try:
            cert = pki.build_leaf(
                purpose,
                key.public_key(),
                root_key=self.key,
                root_cert=self.cert,
                issuer=self.issuer,
                verifier_host=self.verifier_host,
                now=now,
            )
        except ValueError:
            raise KeyStoreError("root_expired", "the root certificate is not valid now") from None
        kid = jwk_thumbprint(public_jwk(key))
        stem = f"{purpose}-{kid}"
        entry = _Entry(purpose, kid, ALG, _iso(now), None, f"{stem}.key.pem", f"{stem}.cert.pem")
        _write_pem(directory, entry.key_file, key)
        _write_pem(directory, entry.cert_file, cert)
        return entry


def init_store(
    data_dir: str | os.PathLike[str], *, issuer: str, verifier_host: str, now: datetime
) -> FileKeyStore:
    """Create the store under ``data_dir/keys``, or load it if it already exists.

    Everything is written into a private staging directory that is renamed into place last, so a
    crash never leaves half a store and two concurrent inits end with one store.
    """
    try:
        pki.issuer_host(issuer)
    except ValueError:
        raise KeyStoreError("issuer_invalid", "issuer must be an https URL, DNS host") from None
    if not pki.is_dns_name(verifier_host):
        raise KeyStoreError("verifier_host_invalid", "verifier host must be a lower-case DNS name")
    base = Path(data_dir)
    target = base / KEYS_DIR
    if (target / MANIFEST).exists():
        return FileKeyStore.open(base)
    if target.exists():
        raise KeyStoreError("key_store_incomplete", "the key directory has no manifest")
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".keys-", dir=base))  # mode 0700
    try:
        _populate(staging, issuer=issuer, verifier_host=verifier_host, now=now)
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / MANIFEST).exists():  # another init did not win the race either
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return FileKeyStore.open(base)


def _populate(directory: Path, *, issuer: str, verifier_host: str, now: datetime) -> None:
    root_key = pki.new_key()
    authority = _Authority(root_key, pki.build_root(root_key, now=now), issuer, verifier_host)
    _write_pem(directory, ROOT_KEY, authority.key)
    _write_pem(directory, ROOT_CERT, authority.cert)
    entries = [authority.new_entry(directory, purpose, now) for purpose in PURPOSES]
    manifest = {
        "format": FORMAT_VERSION,
        "issuer": issuer,
        "verifier_host": verifier_host,
        "root": {"key_file": ROOT_KEY, "cert_file": ROOT_CERT},
        "keys": [asdict(entry) for entry in entries],
    }
    _write_manifest(directory, manifest)


def _parse_manifest(raw: bytes) -> tuple[dict[str, Any], list[_Entry]]:
    try:
        manifest = json.loads(raw)
        if manifest["format"] != FORMAT_VERSION:
            raise ValueError("format")
        entries = [_Entry(**row) for row in manifest["keys"]]
        texts = [manifest["issuer"], manifest["verifier_host"]]
        files = [manifest["root"]["key_file"], manifest["root"]["cert_file"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise KeyStoreError("key_store_corrupt", "the manifest cannot be read") from None
    for entry in entries:
        texts += [entry.kid, entry.alg, entry.not_before]
        files += [entry.key_file, entry.cert_file]
        if entry.purpose not in PURPOSES or not isinstance(entry.retired_at, str | None):
            raise KeyStoreError("key_store_corrupt", "the manifest has an invalid entry")
    if not all(isinstance(t, str) and t for t in texts) or not all(map(_plain_name, files)):
        raise KeyStoreError("key_store_corrupt", "the manifest has an invalid entry")
    return manifest, entries


def _plain_name(name: Any) -> bool:
    """A file name inside the key directory: no path separators, not hidden."""
    return isinstance(name, str) and name == Path(name).name and not name.startswith(".")


class FileKeyStore:
    """The key store under ``DATA_DIR/keys``; open it with ``FileKeyStore.open``."""

    def __init__(self, directory: Path, manifest: dict[str, Any], entries: list[_Entry]) -> None:
        self._directory = directory
        self._manifest = manifest
        self._entries = entries
        self._records = {entry.kid: self._record(entry) for entry in entries}
        self._signing: dict[str, FileSigningKey] = {}

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str]) -> FileKeyStore:
        """Load an existing store; ``key_store_missing`` if ``keys init`` never ran."""
        directory = Path(data_dir) / KEYS_DIR
        try:
            raw = (directory / MANIFEST).read_bytes()
        except FileNotFoundError:
            if directory.exists():
                raise KeyStoreError(
                    "key_store_incomplete", "the key directory has no manifest"
                ) from None
            raise KeyStoreError("key_store_missing", "no key store; run keys init") from None
        manifest, entries = _parse_manifest(raw)
        return cls(directory, manifest, entries)

    @staticmethod
    def exists(data_dir: str | os.PathLike[str]) -> bool:
        return (Path(data_dir) / KEYS_DIR / MANIFEST).exists()

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def issuer(self) -> str:
        """The issuer identifier the store's issuer and status-list certificates name."""
        return str(self._manifest["issuer"])

    @property
    def verifier_host(self) -> str:
        return str(self._manifest["verifier_host"])

    @property
    def root_cert_path(self) -> Path:
        return self._directory / str(self._manifest["root"]["cert_file"])

    def cert_path(self, purpose: Purpose) -> Path:
        """The certificate file of the current key for ``purpose``."""
        return self._directory / self._current(purpose).cert_file

    def signing_key(self, purpose: Purpose) -> FileSigningKey:
        entry = self._current(purpose)
        cached = self._signing.get(entry.kid)
        if cached is None:
            key = self._load_key(entry.key_file)
            if jwk_thumbprint(public_jwk(key)) != entry.kid:
                raise KeyStoreError("key_store_corrupt", "a key file does not match its kid")
            cached = FileSigningKey(self._records[entry.kid], private_key_signer(key, entry.alg))
            self._signing[entry.kid] = cached
        return cached

    def history(self, purpose: Purpose) -> list[KeyRecord]:
        return [self._records[e.kid] for e in self._entries if e.purpose == purpose]

    def anchors_pem(self) -> list[str]:
        return [self.root_cert_path.read_text(encoding="ascii")]

    def rotate(self, purpose: Purpose, *, now: datetime) -> KeyRecord:
        """Retire the current key for ``purpose`` at ``now`` and make a new key and certificate.

        The retired key's files stay, so the history and trust bundle keep publishing it.
        """
        current = self._current(purpose)
        if _iso(now) < current.not_before:
            raise KeyStoreError("rotation_time_invalid", "now is before the current key began")
        authority = _Authority(
            self._load_key(str(self._manifest["root"]["key_file"])),
            x509.load_pem_x509_certificate(self.root_cert_path.read_bytes()),
            self.issuer,
            self.verifier_host,
        )
        new = authority.new_entry(self._directory, purpose, now)
        entries = [replace(e, retired_at=_iso(now)) if e is current else e for e in self._entries]
        entries.append(new)
        manifest = {**self._manifest, "keys": [asdict(e) for e in entries]}
        _write_manifest(self._directory, manifest)
        self._manifest, self._entries = manifest, entries
        self._records[current.kid] = self._record(replace(current, retired_at=_iso(now)))
        self._records[new.kid] = self._record(new)
        return self._records[new.kid]

    def _current(self, purpose: Purpose) -> _Entry:
        for entry in reversed(self._entries):
            if entry.purpose == purpose and entry.retired_at is None:
                return entry
        raise KeyStoreError("key_purpose_unknown", "the store has no current key for the purpose")

    def _load_key(self, name: str) -> ec.EllipticCurvePrivateKey:
        try:
            key = serialization.load_pem_private_key(
                (self._directory / name).read_bytes(), password=None
            )
        except (FileNotFoundError, ValueError, TypeError, UnsupportedAlgorithm):
            raise KeyStoreError("key_store_corrupt", "a key file cannot be read") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise KeyStoreError("key_store_corrupt", "a key file is not a P-256 key")
        return key

    def _record(self, entry: _Entry) -> KeyRecord:
        try:
            cert = x509.load_pem_x509_certificate((self._directory / entry.cert_file).read_bytes())
        except (FileNotFoundError, ValueError):
            raise KeyStoreError("key_store_corrupt", "a certificate cannot be read") from None
        jwk = public_jwk(cert.public_key())
        if jwk_thumbprint(jwk) != entry.kid:
            raise KeyStoreError("key_store_corrupt", "a certificate does not match its kid")
        der = cert.public_bytes(serialization.Encoding.DER)
        return KeyRecord(
            purpose=entry.purpose,
            kid=entry.kid,
            alg=entry.alg,
            public_jwk={**jwk, "kid": entry.kid, "alg": entry.alg, "use": "sig"},
            x5c=(base64.b64encode(der).decode("ascii"),),
            not_before=entry.not_before,
            retired_at=entry.retired_at,
        )
