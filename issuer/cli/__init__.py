"""``duo-issuer``: operator commands. Each sub-command group lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from issuer.cli import bundle, credential, credentials, keys, offer, registry, revoke, serve


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="duo-issuer", description="DUO credential issuer")
    groups = parser.add_subparsers(dest="group", required=True)
    for module in (keys, registry, offer, credential, credentials, revoke, bundle, serve):
        module.register(groups)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
