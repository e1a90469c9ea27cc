"""``duo-issuer bundle export``: print the trust bundle (docs/trust-bundle.md) on stdout.

The bundle holds a freshly signed snapshot of every status list in the data directory's database
(SQLite there, or ``DATABASE_URL``). The SHA-256 fingerprint of each root certificate goes to
stderr, for comparing out of band.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy.exc import SQLAlchemyError

from issuer.cli.credentials import database_failed, open_database, settings_for
from issuer.cli.keys import data_dir
from issuer.config import ConfigError
from issuer.status_lists import Lifetimes
from issuer.trust_bundle import database_bundle
from keys.file_store import FileKeyStore, KeyStoreError

PROG = "duo-issuer bundle"


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = groups.add_parser("bundle", help="the trust bundle verifiers use offline")
    commands = parser.add_subparsers(dest="bundle_command", required=True)
    export = commands.add_parser("export", help="print the trust bundle as JSON")
    export.add_argument("--data-dir", default=None, help="data directory (default: ./data)")
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    directory = data_dir(args)
    try:
        keys = FileKeyStore.open(directory)
    except KeyStoreError as error:
        print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    try:
        settings = settings_for(directory)
        lifetimes = Lifetimes(ttl=settings.status_ttl, lifetime=settings.status_lifetime)
        engine = open_database(directory)
        try:
            with engine.connect() as conn:
                bundle = database_bundle(
                    conn, keys, issuer=keys.issuer, lifetimes=lifetimes, now=datetime.now(UTC)
                )
        finally:
            engine.dispose()
    except (ConfigError, SQLAlchemyError, OSError) as error:
        return database_failed(PROG, error)
    for pem in bundle["anchors"]:
        digest = x509.load_pem_x509_certificate(pem.encode("ascii")).fingerprint(hashes.SHA256())
        print(f"root CA SHA-256 fingerprint: {digest.hex(':')}", file=sys.stderr)
    print(json.dumps(bundle, indent=2, ensure_ascii=False))
    return 0
