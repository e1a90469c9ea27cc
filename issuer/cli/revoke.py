"""``duo-issuer revoke``: revoke, suspend or reinstate issued credentials (docs/cli.md).

``duo-issuer revoke --credential ID | --record R [--suspend | --reinstate] [--data-dir D]
[--json]``. The change is one database transaction (issuer.revocation): every credential of the
record changes, or none. The published status lists pick it up on their next request (they are
re-signed when their version changes). ``--json`` prints ``{"action", "credentials": [...]}``
with the items of ``credentials list``. Exit status 1 with one stderr line when refused.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from issuer.cli.credentials import (
    add_common_options,
    database_failed,
    open_database,
    print_credentials,
)
from issuer.cli.keys import data_dir
from issuer.config import ConfigError
from issuer.db.status import StatusError
from issuer.revocation import Action, change_status

PROG = "duo-issuer revoke"
_REFUSALS = {
    "credential_not_found": "no issued credential matches",
    "suspension_unsupported": "W3C credentials cannot be suspended; revoke them instead",
    "revocation_is_final": "a revoked credential stays revoked; issue a new one",
}


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``revoke`` command."""
    parser = groups.add_parser("revoke", help="revoke, suspend or reinstate credentials")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--credential", help="the id of one issued credential")
    target.add_argument("--record", help="every credential issued for this record")
    change = parser.add_mutually_exclusive_group()
    change.add_argument(
        "--suspend", dest="action", action="store_const", const="suspend", help="suspend instead"
    )
    change.add_argument(
        "--reinstate",
        dest="action",
        action="store_const",
        const="reinstate",
        help="lift a suspension",
    )
    add_common_options(parser)
    parser.set_defaults(run=_revoke, action="revoke")


def _revoke(args: argparse.Namespace) -> int:
    action: Action = args.action
    try:
        engine = open_database(data_dir(args))
        try:
            with engine.begin() as conn:
                changed = change_status(
                    conn,
                    action,
                    credential_id=args.credential,
                    record_id=args.record,
                    now=datetime.now(UTC),
                )
        finally:
            engine.dispose()
    except StatusError as error:
        reason = _REFUSALS.get(error.code, "the status change was refused")
        print(f"{PROG}: error: {reason} ({error.code})", file=sys.stderr)
        return 1
    except (ConfigError, SQLAlchemyError, OSError) as error:
        return database_failed(PROG, error)
    document = {"action": action, "credentials": [c.as_json() for c in changed]}
    print_credentials(document, changed, as_json=args.json)
    return 0
