"""``duo-issuer keys``: create the development key store, rotate a key, list the key history.

Operator commands over ``keys.file_store`` (docs/keys.md): the store holds an ES256 key per purpose
with an X.509 chain to a development root (HAIP 1.0 §6.1.1). Failures print one line on stderr and
exit with status 1; the clock is read here, once per command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keys.file_store import FileKeyStore, KeyStoreError, init_store
from keys.store import PURPOSES

DEFAULT_ISSUER = "https://issuer.duo.test"
DEFAULT_VERIFIER_HOST = "verifier.duo.test"
PROG = "duo-issuer keys"

Command = Callable[[argparse.Namespace], None]


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``keys`` group with its ``init``, ``rotate`` and ``list`` commands."""
    parser = groups.add_parser("keys", help="development signing keys and their certificates")
    commands = parser.add_subparsers(dest="keys_command", required=True)
    init = commands.add_parser("init", help="create the key store (an existing one is kept)")
    _common_options(init)
    init.add_argument("--issuer", default=DEFAULT_ISSUER, help="issuer identifier (https URL)")
    init.add_argument("--verifier-host", default=DEFAULT_VERIFIER_HOST, help="verifier DNS name")
    init.set_defaults(run=_guarded(_init))
    rotate = commands.add_parser("rotate", help="retire the current key and make a new one")
    _common_options(rotate)
    rotate.add_argument("--purpose", choices=PURPOSES, default="issuer")
    rotate.set_defaults(run=_guarded(_rotate))
    listing = commands.add_parser("list", help="show every key, current and retired")
    _common_options(listing)
    listing.set_defaults(run=_guarded(_list))


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", default=None, help="data directory (default: $DUO_DATA_DIR, else ./data)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def data_dir(args: argparse.Namespace) -> Path:
    """``--data-dir``, else the ``DUO_DATA_DIR`` environment variable, else ``./data``."""
    chosen = args.data_dir or os.environ.get("DUO_DATA_DIR") or "data"
    return Path(chosen).resolve()


def _guarded(command: Command) -> Callable[[argparse.Namespace], int]:
    """Run ``command``; a store error or OS error becomes one stderr line and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            command(args)
        except KeyStoreError as error:
            print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
            return 1
        except OSError as error:
            reason = error.strerror or "input/output error"
            print(f"{PROG}: error: cannot use the key store: {reason}", file=sys.stderr)
            return 1
        return 0

    return run


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2))


def _init(args: argparse.Namespace) -> None:
    directory = data_dir(args)
    existed = FileKeyStore.exists(directory)
    store = init_store(
        directory, issuer=args.issuer, verifier_host=args.verifier_host, now=datetime.now(UTC)
    )
    paths = {purpose: str(store.cert_path(purpose)) for purpose in PURPOSES}
    if args.json:
        _print_json({"data_dir": str(directory), "root": str(store.root_cert_path), **paths})
        return
    state = "kept the existing" if existed else "created a new"
    print(f"{state} key store in {store.directory}")
    print(f"issuer identifier: {store.issuer}")
    print(f"root CA certificate: {store.root_cert_path}")
    for purpose in PURPOSES:
        print(f"{purpose}: kid {store.history(purpose)[-1].kid}, certificate {paths[purpose]}")


def _rotate(args: argparse.Namespace) -> None:
    store = FileKeyStore.open(data_dir(args))
    old = store.history(args.purpose)[-1]
    new = store.rotate(args.purpose, now=datetime.now(UTC))
    if args.json:
        _print_json({"purpose": args.purpose, "old_kid": old.kid, "new_kid": new.kid})
        return
    print(f"{args.purpose}: retired kid {old.kid}")
    print(f"{args.purpose}: current kid {new.kid}")


def _list(args: argparse.Namespace) -> None:
    directory = data_dir(args)
    store = FileKeyStore.open(directory)
    rows = [record.history_row() for purpose in PURPOSES for record in store.history(purpose)]
    if args.json:
        _print_json({"data_dir": str(directory), "issuer": store.issuer, "keys": rows})
        return
    print(f"issuer identifier: {store.issuer}")
    for row in rows:
        state = f"retired {row['retired_at']}" if row["retired_at"] else "current"
        print(f"{row['purpose']:<17} {row['kid']}  {row['alg']}  from {row['not_before']}  {state}")
