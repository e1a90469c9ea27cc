"""``duo-issuer serve``: run the issuer and authorization server (issuer.app) over HTTP.

The public URL is the credential issuer identifier (OpenID4VCI 1.0 §12.2.1): ``--public-url``,
else ``DUO_PUBLIC_URL``, else ``http://HOST:PORT`` (plain http is accepted on a loopback host
only, issuer.config). The key store in the data directory is made for that identifier when it is
missing (``keys init --issuer``); a store made for another identifier is refused, since every
credential names its issuer. Tables are created once here, before any worker starts.

The server is gunicorn (``gunicorn.app.base.BaseApplication``): ``--workers`` processes, each
building its own app, engine and key store after the fork (nothing is shared across processes).
Without gunicorn (e.g. on Windows) werkzeug's development server runs the app for ``--workers
1``. docs/deployment.md describes production use behind a TLS-terminating proxy.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from issuer.app import KeyStoreMismatch, create_app, open_key_store
from issuer.cli.keys import DEFAULT_VERIFIER_HOST, data_dir
from issuer.config import ConfigError, Settings, check_public_url
from issuer.db import create_schema, make_engine
from keys.file_store import FileKeyStore, KeyStoreError, init_store
from verifier.service.wsgi import GunicornMissing, serve_wsgi

PROG = "duo-issuer serve"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_WORKERS = 2


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command."""
    parser = groups.add_parser("serve", help="run the issuer over HTTP (gunicorn)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--public-url",
        default=None,
        help="credential issuer identifier (default: http://HOST:PORT)",
    )
    parser.add_argument(
        "--data-dir", default=None, help="data directory (default: $DUO_DATA_DIR, else ./data)"
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="worker processes (gunicorn)"
    )
    parser.set_defaults(run=run)


def public_url(host: str, port: int, chosen: str | None) -> str:
    """``chosen``, else ``DUO_PUBLIC_URL``, else ``http://host:port``; checked (§12.2.1)."""
    if chosen is None:
        chosen = os.environ.get("DUO_PUBLIC_URL")
    if chosen is None:
        chosen = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return check_public_url(chosen)


def prepare(settings: Settings) -> FileKeyStore:
    """Make the key store for the public URL if missing, refuse another one, create tables."""
    if not FileKeyStore.exists(settings.data_dir):
        init_store(
            settings.data_dir,
            issuer=settings.public_url,
            verifier_host=DEFAULT_VERIFIER_HOST,
            now=datetime.now(UTC),
        )
    keys = open_key_store(settings)  # KeyStoreMismatch for a store of another issuer
    engine = make_engine(settings.sqlalchemy_url)
    try:
        create_schema(engine)
    finally:
        engine.dispose()  # no connection may cross the fork into the workers
    return keys


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted (verifier.service.wsgi: gunicorn, or werkzeug for one worker)."""
    try:
        serve_wsgi(
            lambda: create_app(settings), host=host, port=port, workers=workers,
            proc_name="duo-issuer",
        )  # fmt: skip
    except GunicornMissing:
        raise ConfigError("gunicorn_missing", "more than one worker needs gunicorn") from None


def run(args: argparse.Namespace) -> int:
    try:
        if not 1 <= args.workers <= 64:
            raise ConfigError("workers_invalid", "--workers must be between 1 and 64")
        url = public_url(args.host, args.port, args.public_url)
        settings = Settings.from_env(data_dir=str(data_dir(args))).with_public_url(url)
        prepare(settings)
    except ConfigError as error:
        print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    except KeyStoreMismatch:
        store = FileKeyStore.open(settings.data_dir).issuer
        print(
            f"{PROG}: error: the key store in {settings.data_dir} was made for the issuer "
            f"{store}, not {settings.public_url}; pass --public-url {store}, or use another "
            "--data-dir",
            file=sys.stderr,
        )
        return 1
    except KeyStoreError as error:
        print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    print(f"{PROG}: issuer {settings.public_url}, data in {settings.data_dir}", file=sys.stderr)
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0
