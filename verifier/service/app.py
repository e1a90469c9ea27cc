"""The verifier web application (Flask app factory), ``duo-verifier serve``.

``create_app(settings)`` opens the database, the verifier's own key store (its request-signing
key and certificate, ``duo-verifier keys init``) and the trust sources, then registers the
blueprints of verifier/service/web. A ProtocolError becomes the spec's JSON error; nothing else
escapes as an HTML error page or a 500 carrying data. Nothing happens at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from keys.store import KeyStore
from verifier.service.config import VerifierSettings
from verifier.service.db import make_engine
from verifier.service.json_errors import register_json_errors

MAX_BODY_BYTES = 512 * 1024  # an uploaded credential is capped at 256 KiB; forms add little
LOG = logging.getLogger("duo.verifier")
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """What every endpoint needs, made once per app. ``trust`` is the trust source (refreshable
    bundle, cached status lists); its concrete type comes from verifier.service.trust_source."""

    settings: VerifierSettings
    engine: Engine
    keys: KeyStore
    trust: Any
    clock: Clock

    def now(self) -> datetime:
        return self.clock()


def services() -> Services:
    found: Services = current_app.extensions["duo-verifier"]
    return found


def create_app(
    settings: VerifierSettings,
    *,
    keys: KeyStore,
    trust: Any,
    engine: Engine | None = None,
    clock: Clock = _utc_now,
) -> Flask:
    """The verifier app; ``keys`` holds the verifier_request key, ``trust`` the trust source."""
    from verifier.service.web import blueprints

    app = Flask("duo-verifier")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = engine or make_engine(settings.sqlalchemy_url)
    app.extensions["duo-verifier"] = Services(settings, engine, keys, trust, clock)
    register_json_errors(app, LOG)
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    return app
