"""Issuer configuration: read once from the environment (prefix ``DUO_``) into frozen settings.

Every variable is listed in docs/configuration.md. Nothing reads the environment after
``Settings.from_env``; the app factory and the CLI pass the settings down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A configuration value that cannot be used; ``code`` names the variable's problem."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError("config_flag_invalid", f"{name} must be true or false")


def _seconds(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) <= 0:
        raise ConfigError("config_duration_invalid", f"{name} must be a positive number of seconds")
    return timedelta(seconds=int(value))


def check_public_url(url: str) -> str:
    """The credential issuer identifier (OpenID4VCI §12.2.1: https, no query or fragment).

    Plain http is accepted for a loopback host only, for development and tests.
    """
    parts = urlsplit(url)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.query or parts.fragment or not parts.hostname:
        raise ConfigError("public_url_invalid", "public URL needs a host, no query, no fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigError("public_url_invalid", "public URL must be https (http only on loopback)")
    return url.rstrip("/")


def _wallet_provider_anchors(env: Mapping[str, str]) -> tuple[str, ...]:
    """DUO_WALLET_PROVIDER_ANCHORS: a PEM file of certificates, read once at start-up."""
    path = env.get("DUO_WALLET_PROVIDER_ANCHORS")
    if not path:
        if _flag(env, "DUO_REQUIRE_WALLET_ATTESTATION", False):
            raise ConfigError(
                "wallet_anchors_missing",
                "DUO_REQUIRE_WALLET_ATTESTATION needs DUO_WALLET_PROVIDER_ANCHORS",
            )
        return ()
    try:
        text = Path(path).read_text(encoding="ascii")
        if not x509.load_pem_x509_certificates(text.encode("ascii")):
            raise ValueError("no certificate")
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        raise ConfigError(
            "wallet_anchors_invalid", "DUO_WALLET_PROVIDER_ANCHORS must name a PEM certificate file"
        ) from None
    return (text,)


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: Path
    public_url: str = DEFAULT_PUBLIC_URL
    database_url: str | None = None  # None: SQLite in data_dir
    admin_token: str | None = None  # None: the admin API is off
    dev_login: bool = False
    require_dpop: bool = False
    require_wallet_attestation: bool = False
    #: PEM texts of the wallet providers' trust anchors (client attestation, HAIP 1.0 §4.4.1).
    wallet_provider_anchors: tuple[str, ...] = ()
    #: Credential requests need key attestations (OpenID4VCI 1.0 App. D).
    require_key_attestation: bool = False
    require_encryption: bool = False
    offer_lifetime: timedelta = timedelta(minutes=10)
    tx_code_tries: int = 5
    access_token_lifetime: timedelta = timedelta(minutes=5)
    c_nonce_lifetime: timedelta = timedelta(minutes=5)
    status_ttl: timedelta = timedelta(hours=1)
    status_lifetime: timedelta = timedelta(days=30)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'duo.sqlite3').resolve()}"

    def with_public_url(self, url: str) -> Settings:
        return replace(self, public_url=check_public_url(url))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, data_dir: str | None = None
    ) -> Settings:
        """Settings from ``env`` (default: ``os.environ``); ``data_dir`` overrides DUO_DATA_DIR."""
        env = os.environ if env is None else env
        database_url = env.get("DATABASE_URL") or None
        if database_url and database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        return cls(
            data_dir=Path(data_dir or env.get("DUO_DATA_DIR") or "data").resolve(),
            public_url=check_public_url(env.get("DUO_PUBLIC_URL", DEFAULT_PUBLIC_URL)),
            database_url=database_url,
            admin_token=env.get("DUO_ADMIN_TOKEN") or None,
            dev_login=_flag(env, "DUO_DEV_LOGIN", False),
            require_dpop=_flag(env, "DUO_REQUIRE_DPOP", False),
            require_wallet_attestation=_flag(env, "DUO_REQUIRE_WALLET_ATTESTATION", False),
            wallet_provider_anchors=_wallet_provider_anchors(env),
            require_key_attestation=_flag(env, "DUO_REQUIRE_KEY_ATTESTATION", False),
            require_encryption=_flag(env, "DUO_REQUIRE_ENCRYPTION", False),
            offer_lifetime=_seconds(env, "DUO_OFFER_LIFETIME", timedelta(minutes=10)),
            access_token_lifetime=_seconds(
                env, "DUO_ACCESS_TOKEN_LIFETIME", timedelta(minutes=5)
            ),
            c_nonce_lifetime=_seconds(env, "DUO_C_NONCE_LIFETIME", timedelta(minutes=5)),
            status_ttl=_seconds(env, "DUO_STATUS_TTL", timedelta(hours=1)),
            status_lifetime=_seconds(env, "DUO_STATUS_LIFETIME", timedelta(days=30)),
        )
