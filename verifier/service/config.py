"""Verifier service configuration: read once (environment ``DUO_VERIFIER_*`` and the command line)
into frozen settings; every variable is listed in docs/configuration.md."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8090"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class VerifierConfigError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def check_public_url(url: str) -> str:
    """https with a host, no query or fragment; plain http only on a loopback host."""
    parts = urlsplit(url)
    if parts.query or parts.fragment or not parts.hostname:
        raise VerifierConfigError("public_url_invalid", "public URL needs a host, no query")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise VerifierConfigError("public_url_invalid", "public URL must be https")
    return url.rstrip("/")


@dataclass(frozen=True, kw_only=True)
class VerifierSettings:
    data_dir: Path
    public_url: str = DEFAULT_PUBLIC_URL
    database_url: str | None = None  # None: SQLite in data_dir
    bundle_path: Path | None = None  # the trust bundle (JSON or trust-bundle+jwt)
    bundle_url: str | None = None  # where to refresh it from when online
    allow_hosts: tuple[str, ...] = ()  # host[:port] the fetcher may reach although private
    transaction_lifetime: timedelta = timedelta(minutes=10)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'verifier.sqlite3').resolve()}"

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        data_dir: str | None = None,
        public_url: str | None = None,
        bundle: str | None = None,
        allow_hosts: tuple[str, ...] = (),
    ) -> VerifierSettings:
        env = os.environ if env is None else env
        database_url = env.get("DUO_VERIFIER_DATABASE_URL") or None
        if database_url and database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        bundle_path = bundle or env.get("DUO_VERIFIER_BUNDLE")
        extra_hosts = tuple(h for h in env.get("DUO_VERIFIER_ALLOW_HOSTS", "").split(",") if h)
        return cls(
            data_dir=Path(data_dir or env.get("DUO_DATA_DIR") or "data").resolve() / "verifier",
            public_url=check_public_url(
                public_url or env.get("DUO_VERIFIER_PUBLIC_URL", DEFAULT_PUBLIC_URL)
            ),
            database_url=database_url,
            bundle_path=Path(bundle_path).resolve() if bundle_path else None,
            bundle_url=env.get("DUO_VERIFIER_BUNDLE_URL") or None,
            allow_hosts=allow_hosts + extra_hosts,
        )
