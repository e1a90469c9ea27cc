"""The issuer web application: a Flask app factory with one blueprint per protocol area.

``create_app(settings)`` opens the database (creating missing tables), the key store, and
registers the blueprints and the error handlers. A ProtocolError becomes the spec's JSON error
with its HTTP status and headers; any other failure is answered with JSON too, never an HTML
page. Nothing happens at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from issuer.config import Settings
from issuer.db import create_schema, make_engine
from keys.file_store import FileKeyStore
from keys.store import KeyStore
from verifier.service.json_errors import register_json_errors

MAX_BODY_BYTES = 64 * 1024  # every request body DUO accepts is far smaller
LOG = logging.getLogger("duo.issuer")

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """What every endpoint needs, made once per app."""

    settings: Settings
    engine: Engine
    keys: KeyStore
    clock: Clock

    @property
    def issuer(self) -> str:
        """The credential issuer identifier (OpenID4VCI §12.2.1) = the public URL."""
        return self.settings.public_url

    def now(self) -> datetime:
        return self.clock()


def services() -> Services:
    """The Services of the app handling the current request."""
    found: Services = current_app.extensions["duo"]
    return found


class KeyStoreMismatch(RuntimeError):
    """The key store was made for another issuer identifier than the public URL."""


def open_key_store(settings: Settings) -> FileKeyStore:
    keys = FileKeyStore.open(settings.data_dir)
    if keys.issuer != settings.public_url:
        raise KeyStoreMismatch(
            "the key store was made for another issuer identifier; run "
            "'duo-issuer keys init --issuer <public URL>' on a new data directory"
        )
    return keys


def _register_blueprints(app: Flask) -> None:
    from issuer.web import blueprints

    for blueprint in blueprints():
        app.register_blueprint(blueprint)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    keys: KeyStore | None = None,
    clock: Clock = _utc_now,
) -> Flask:
    """The issuer app; tests pass their own engine, key store and clock."""
    engine = engine or make_engine(settings.sqlalchemy_url)
    create_schema(engine)
    app = Flask("duo-issuer")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["duo"] = Services(settings, engine, keys or open_key_store(settings), clock)
    register_json_errors(app, LOG)
    _register_blueprints(app)
    return app
