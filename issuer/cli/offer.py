"""``duo-issuer offer create``: make a credential offer (OpenID4VCI 1.0 §4.1) and print it.

The same code path as ``POST /api/offers`` (issuer.oid4vci.offers.make_offer). Prints the deep
link ``openid-credential-offer://?credential_offer_uri=...`` and the PIN; ``--json`` prints
``{"offer_uri", "tx_code", "offer_id"}``. The issuer identifier is ``--public-url``, else
DUO_PUBLIC_URL, else the one the data directory's key store was made for, else the default.
Refusals print one line on stderr and exit with status 1 (2 for usage errors, as argparse does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from issuer.cli.keys import data_dir
from issuer.config import ConfigError, Settings
from issuer.db import create_schema, make_engine
from issuer.oid4vci.offers import FORMATS, CreatedOffer, OfferRequest, make_offer
from keys.file_store import FileKeyStore, KeyStoreError
from schemas.loader import CREDENTIAL_TYPES
from verifier.errors import ProtocolError

PROG = "duo-issuer offer"


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``offer`` group with its ``create`` command."""
    parser = groups.add_parser("offer", help="credential offers for wallets")
    commands = parser.add_subparsers(dest="offer_command", required=True)
    create = commands.add_parser("create", help="make an offer and print its URI and PIN")
    create.add_argument("--person", required=True, help="registry person id")
    create.add_argument("--type", required=True, choices=CREDENTIAL_TYPES, dest="type_name")
    create.add_argument("--record", help="record id (needed when the person has several)")
    create.add_argument("--format", choices=FORMATS, dest="fmt", help="default: every format")
    create.add_argument("--tx-code", action="store_true", help="protect the offer with a PIN")
    create.add_argument(
        "--by-value", action="store_true", help="put the offer itself in the deep link"
    )
    create.add_argument("--data-dir", default=None, help="data directory (default: ./data)")
    create.add_argument("--public-url", default=None, help="credential issuer identifier")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=_create)


def _settings(args: argparse.Namespace) -> Settings:
    directory = data_dir(args)
    settings = Settings.from_env(data_dir=str(directory))
    if args.public_url:
        return settings.with_public_url(args.public_url)
    if "DUO_PUBLIC_URL" not in os.environ and FileKeyStore.exists(directory):
        return settings.with_public_url(FileKeyStore.open(directory).issuer)
    return settings


def _make(args: argparse.Namespace, settings: Settings) -> CreatedOffer:
    request = OfferRequest(
        person_id=args.person,
        type_name=args.type_name,
        record_id=args.record,
        fmt=args.fmt,
        with_tx_code=args.tx_code,
    )
    engine = make_engine(settings.sqlalchemy_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            return make_offer(
                conn,
                request,
                issuer=settings.public_url,
                created_by="cli",
                now=datetime.now(UTC),
                lifetime=settings.offer_lifetime,
            )
    finally:
        engine.dispose()


def _print(created: CreatedOffer, args: argparse.Namespace) -> None:
    summary = created.summary()
    if args.by_value:
        summary["offer_uri"] = created.details()["offer_by_value_uri"]
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"offer URI: {summary['offer_uri']}")
    if created.tx_code is not None:
        print(f"PIN: {created.tx_code}")
    print(f"configurations: {', '.join(created.configuration_ids)}")
    print(f"valid until: {created.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}")


def _create(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        _print(_make(args, settings), args)
    except (ProtocolError, ConfigError, KeyStoreError) as error:
        print(f"{PROG}: error: {error.detail} ({error.code})", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"{PROG}: error: cannot use the database ({type(error).__name__})", file=sys.stderr)
        return 1
    return 0
