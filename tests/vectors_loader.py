"""Read the third-party test vectors kept verbatim under tests/vectors/ (provenance in its README).

Names are paths relative to tests/vectors/, found from this file's location, so the tests run from
any working directory. JSON is parsed with the standard library (duplicate names refused), not with
the code under test; everything else is returned as the file's exact text or its lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent / "vectors"


def read_text(name: str) -> str:
    """The file's exact text (UTF-8, line endings and any final newline kept)."""
    return (VECTORS / name).read_bytes().decode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name in a test vector")
    return result


def parse_json(source: str) -> Any:
    """JSON text (a whole file or a part of one), parsed; member order is kept."""
    return json.loads(source, object_pairs_hook=_no_duplicates)


def json_document(name: str) -> Any:
    """A JSON file, parsed."""
    return parse_json(read_text(name))


def lines(name: str) -> tuple[str, ...]:
    """The file's non-empty lines, surrounding whitespace removed."""
    return tuple(line.strip() for line in read_text(name).splitlines() if line.strip())


def joined(name: str) -> str:
    """One string value: the file's lines joined, i.e. without the line breaks a source adds to
    long base64url values "for display purposes only"."""
    return "".join(lines(name))
