"""The issuer app's foundation: configuration, both databases, JSON errors, a live server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy
from issuer_support import LiveIssuer

from issuer.config import ConfigError, Settings, check_public_url
from issuer.db import create_schema


def test_settings_from_env(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"DUO_PUBLIC_URL": "https://issuer.example/duo/", "DUO_REQUIRE_DPOP": "true",
         "DUO_OFFER_LIFETIME": "120", "DATABASE_URL": "postgresql://u@h/db"},
        data_dir=str(tmp_path),
    )
    assert settings.public_url == "https://issuer.example/duo"
    assert settings.require_dpop and not settings.dev_login and settings.admin_token is None
    assert settings.offer_lifetime == timedelta(seconds=120)
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@h/db"
    assert Settings.from_env({}, data_dir=str(tmp_path)).sqlalchemy_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    "url", ["http://issuer.example", "https://issuer.example/?a=1", "https://x.example/#f", "ftp://x"]
)
def test_public_url_must_be_an_issuer_identifier(url: str) -> None:
    """VCI-7: https, no query, no fragment; http only for loopback (development and tests)."""
    with pytest.raises(ConfigError):
        check_public_url(url)
    assert check_public_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_flags_are_strict(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"DUO_DEV_LOGIN": value}, data_dir=str(tmp_path))


def test_schema_on_both_databases(engine: sqlalchemy.engine.Engine) -> None:
    create_schema(engine)
    create_schema(engine)  # idempotent
    names = set(sqlalchemy.inspect(engine).get_table_names())
    assert {"persons", "records", "offers", "credentials", "status_entries", "nonces"} <= names


def test_unknown_paths_and_methods_answer_json(live_issuer: LiveIssuer) -> None:
    missing = requests.get(f"{live_issuer.url}/no/such/path", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"] == "invalid_request"


def test_oversized_bodies_are_refused(live_issuer: LiveIssuer) -> None:
    response = requests.post(f"{live_issuer.url}/token", data=b"x" * (65 * 1024), timeout=5,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and response.json()["error"] == "invalid_request"
