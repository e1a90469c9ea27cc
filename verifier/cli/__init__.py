"""Command lines of the verifier side: ``duo-verifier`` and the reference holder ``duo-wallet``."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

EXIT_USAGE = 64  # sysexits EX_USAGE: 0, 1 and 2 carry verdicts, so usage errors use 64


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors exit 64 instead of 2 (2 means *undetermined*)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def read_input(path: str, limit: int) -> str:
    """The text of FILE or stdin (``-``), at most ``limit`` bytes plus one to detect oversize."""
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    return data.decode("utf-8", errors="replace").strip()
