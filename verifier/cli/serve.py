"""``duo-verifier serve``: run the verifier web service (verifier.service.app) over HTTP.

The public URL (``--public-url``, else ``DUO_VERIFIER_PUBLIC_URL``, else ``http://HOST:PORT``)
is what wallets reach: request_uri, response_uri and the ``redirect_uri`` client_id are built
from it (https, or plain http on a loopback host). Before serving, the verifier's key store is
made when missing (``duo-verifier keys init``) and the trust bundle is opened: the verifier
trusts nothing by default (shared/DESIGN.md §6), so ``--bundle`` (or ``DUO_VERIFIER_BUNDLE``)
is required. ``--allow-host`` names hosts the fetcher may reach although they are private or
loopback (development and tests).

The server is gunicorn when it can be imported (``--workers`` processes, each building its own
app, engine, key store and trust source after the fork); otherwise werkzeug's threaded server
runs one process (development only). docs/deployment.md describes production use.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from keys.file_store import FileKeyStore, KeyStoreError
from verifier.cli import ArgumentParser
from verifier.cli.verifier_keys import ensure_keys
from verifier.errors import DuoError
from verifier.service.config import VerifierConfigError, VerifierSettings

if TYPE_CHECKING:  # the service modules load Flask, SQLAlchemy and requests: only when serving
    from flask import Flask

    from verifier.service.trust_source import TrustSource

PROG = "duo-verifier serve"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_WORKERS = 2


def register(commands: argparse._SubParsersAction[ArgumentParser]) -> None:
    """Add the ``serve`` command."""
    parser = commands.add_parser("serve", help="run the verifier web service")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--public-url", default=None, help="URL wallets reach (default: http://HOST:PORT)"
    )
    parser.add_argument("--bundle", default=None, help="trust bundle file (required)")
    parser.add_argument("--data-dir", default=None, help="data directory (default: $DUO_DATA_DIR)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="a private or loopback host the fetcher may reach (repeatable)",
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.set_defaults(run=run)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def settings_from(args: argparse.Namespace) -> VerifierSettings:
    """Settings from the options and the environment (docs/configuration.md)."""
    url = args.public_url or os.environ.get("DUO_VERIFIER_PUBLIC_URL")
    if url is None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{args.port}"
    return VerifierSettings.from_env(
        data_dir=args.data_dir,
        public_url=url,
        bundle=args.bundle,
        allow_hosts=tuple(args.allow_host),
    )


def trust_source(settings: VerifierSettings) -> TrustSource:
    """The trust source: the bundle file, refreshed from ``bundle_url`` when online."""
    if settings.bundle_path is None:
        raise VerifierConfigError(
            "bundle_missing",
            "the verifier trusts nothing by default: pass --bundle FILE "
            "(duo-issuer bundle export) or set DUO_VERIFIER_BUNDLE",
        )
    from verifier.service.fetcher import Fetcher
    from verifier.service.trust_source import TrustSource

    return TrustSource(settings, Fetcher.from_settings(settings, clock=_utc_now), _utc_now)


def build_app(settings: VerifierSettings) -> Flask:
    """The app with its key store and trust source (in each worker, after a fork)."""
    from verifier.service.app import create_app

    return create_app(
        settings, keys=FileKeyStore.open(settings.data_dir), trust=trust_source(settings)
    )


def prepare(settings: VerifierSettings) -> None:
    """Make the key store if missing, check the bundle opens, create the tables."""
    ensure_keys(settings, dns_name=None, now=_utc_now())
    trust_source(settings).store()
    from verifier.service.db import make_engine

    engine = make_engine(settings.sqlalchemy_url)
    engine.dispose()  # no connection may cross the fork into the workers


def serve(settings: VerifierSettings, *, host: str, port: int, workers: int) -> None:
    """Serve until interrupted (verifier.service.wsgi: gunicorn, or werkzeug for one worker)."""
    from verifier.service.wsgi import GunicornMissing, serve_wsgi

    try:
        serve_wsgi(
            lambda: build_app(settings), host=host, port=port, workers=workers,
            proc_name="duo-verifier",
        )  # fmt: skip
    except GunicornMissing:
        raise VerifierConfigError(
            "gunicorn_missing", "more than one worker needs gunicorn"
        ) from None


def run(args: argparse.Namespace) -> int:
    try:
        if not 1 <= args.workers <= 64:
            raise VerifierConfigError("workers_invalid", "--workers must be between 1 and 64")
        settings = settings_from(args)
        prepare(settings)
    except (VerifierConfigError, KeyStoreError, DuoError) as error:
        print(f"{PROG}: error: {error.detail or error.code} ({error.code})", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{PROG}: error: cannot read a file: {error.strerror}", file=sys.stderr)
        return 1
    print(f"{PROG}: verifier {settings.public_url}, data in {settings.data_dir}", file=sys.stderr)
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0
