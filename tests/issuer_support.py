"""Fixtures for the issuer: a database of each kind, settings, keys and a live HTTP server.

The database fixture runs each test against SQLite (a file in tmp_path) and PostgreSQL
(TEST_DATABASE_URL, default the local server: database ``test``, user ``postgres``), each
PostgreSQL run in a fresh schema dropped afterwards. Without a reachable PostgreSQL those cases
are skipped, except under CI=true, where they fail: CI must test both databases.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy
from werkzeug.serving import BaseWSGIServer, make_server

from issuer.app import create_app
from issuer.config import Settings
from issuer.db import make_engine
from keys.file_store import FileKeyStore, init_store

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ADMIN_TOKEN = "test-admin-token"


@dataclass(frozen=True)
class Database:
    kind: str  # sqlite | postgresql
    url: str  # usable by make_engine and by another process


def _postgres(schema: str) -> tuple[str, Callable[[], None]]:
    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base.removeprefix("postgresql://")
    admin = sqlalchemy.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    except sqlalchemy.exc.OperationalError:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is unreachable under CI=true: both databases must be tested")
        pytest.skip("PostgreSQL is not reachable (set TEST_DATABASE_URL)")

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", drop


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite:///{tmp_path / 'duo.sqlite3'}")
        return
    url, drop = _postgres(f"t_{uuid.uuid4().hex[:12]}")
    try:
        yield Database("postgresql", url)
    finally:
        drop()


@pytest.fixture
def engine(database: Database) -> Iterator[sqlalchemy.engine.Engine]:
    made = make_engine(database.url)
    yield made
    made.dispose()


class _Dispatch:
    """A WSGI app whose target is set after the server knows its port."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class LiveIssuer:
    url: str
    settings: Settings
    keys: FileKeyStore
    server: BaseWSGIServer
    app: Any


def start_issuer(
    data_dir: Path, database: Database, *, now: Callable[[], datetime] | None = None, **options: Any
) -> LiveIssuer:
    """A real WSGI server on 127.0.0.1 serving a fresh issuer; stop it with ``stop_issuer``."""
    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings = Settings(
        data_dir=data_dir, public_url=url, database_url=database.url, admin_token=ADMIN_TOKEN,
        **options,
    )
    now_ = datetime.now(UTC)
    keys = init_store(data_dir, issuer=url, verifier_host="verifier.duo.test", now=now_)
    app = create_app(settings, keys=keys) if now is None else create_app(
        settings, keys=keys, clock=now
    )
    dispatch.app = app
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return LiveIssuer(url, settings, keys, server, app)


def stop_issuer(live: LiveIssuer) -> None:
    live.server.shutdown()
    live.server.server_close()
    live.app.extensions["duo"].engine.dispose()


@pytest.fixture
def live_issuer(tmp_path: Path, database: Database) -> Iterator[LiveIssuer]:
    """The issuer over real HTTP on loopback, on each database, with the admin API enabled."""
    live = start_issuer(tmp_path / "data", database)
    yield live
    stop_issuer(live)
