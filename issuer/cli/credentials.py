"""``duo-issuer credentials list``: the issued credentials and their status (docs/cli.md).

``--json`` prints ``{"credentials": [{"id", "record", "format", "status_uri", "status_idx",
"state"}]}`` with ``state`` valid, revoked or suspended (the status value, IETF Token Status List
§7.1). ``open_database`` is the one way every ``duo-issuer`` command reaches the database of a
data directory: SQLite in it, or ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from issuer.cli.keys import data_dir
from issuer.config import ConfigError, Settings
from issuer.db import create_schema, make_engine
from issuer.revocation import IssuedCredential, issued_credentials

PROG = "duo-issuer credentials"


def settings_for(directory: Path) -> Settings:
    """The settings of ``directory`` (DUO_* variables and DATABASE_URL apply)."""
    return Settings.from_env(data_dir=str(directory))


def open_database(directory: Path) -> Engine:
    """The database of ``directory``, its tables created if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings_for(directory).sqlalchemy_url)
    create_schema(engine)
    return engine


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", default=None, help="data directory (default: $DUO_DATA_DIR, else ./data)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``credentials`` group with its ``list`` command."""
    parser = groups.add_parser("credentials", help="issued credentials and their status")
    commands = parser.add_subparsers(dest="credentials_command", required=True)
    listing = commands.add_parser("list", help="list issued credentials")
    listing.add_argument("--record", help="only the credentials of this record")
    add_common_options(listing)
    listing.set_defaults(run=_list)


def database_failed(prog: str, error: Exception) -> int:
    """One stderr line for a configuration or database failure (no detail: it may hold a URL)."""
    code = error.code if isinstance(error, ConfigError) else "database_unavailable"
    print(f"{prog}: error: cannot use the database ({code})", file=sys.stderr)
    return 1


def _list(args: argparse.Namespace) -> int:
    try:
        engine = open_database(data_dir(args))
        try:
            with engine.connect() as conn:
                found = issued_credentials(conn, record_id=args.record)
        finally:
            engine.dispose()
    except (ConfigError, SQLAlchemyError, OSError) as error:
        return database_failed(PROG, error)
    print_credentials({"credentials": [c.as_json() for c in found]}, found, as_json=args.json)
    return 0


def print_credentials(
    document: Mapping[str, object], found: list[IssuedCredential], *, as_json: bool
) -> None:
    """``document`` as JSON, or one line per credential."""
    if as_json:
        print(json.dumps(document, indent=2))
        return
    for item in found:
        print(
            f"{item.id}  {item.state:<9}  {item.format:<11}  record {item.record}  "
            f"{item.status_uri} index {item.status_idx}"
        )
