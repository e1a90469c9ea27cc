"""``duo-issuer``: operator commands. Each sub-command group lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from issuer.cli import bundle as bundle
from issuer.cli import credential as credential
from issuer.cli import keys as keys


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="duo-issuer", description="DUO credential issuer")
    groups = parser.add_subparsers(dest="group", required=True)
    for module in (keys, credential, bundle):
        module.register(groups)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
