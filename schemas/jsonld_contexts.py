"""JSON-LD context documents kept locally, looked up by URL; nothing is fetched.

VCDM 2.0 Appendix B.1 (Base Context): implementations MUST treat the base context
``https://www.w3.org/ns/credentials/v2`` as already retrieved; the same is done here for every
context our credentials name (VCDM 1.1, Open Badges 3.0 context 3.0.3, the EDC application
profile). The documents are third-party data kept verbatim under ``schemas/contexts/`` (see
PROVENANCE.md there); ``index.json`` maps each URL to its file. Files are read on first use and
cached.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any


class UnknownContext(KeyError):
    """A context URL that is not kept locally; it is never downloaded instead."""

    code = "jsonld_context_unknown"

    def __init__(self) -> None:
        super().__init__("JSON-LD context URL is not kept locally")


def _directory() -> Traversable:
    return resources.files("schemas") / "contexts"


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = json.loads((_directory() / "index.json").read_text(encoding="utf-8"))
    return index


def context_urls() -> frozenset[str]:
    """Every context URL that resolves locally."""
    return frozenset(_index())


@cache
def context_bytes(url: str) -> bytes:
    """The stored document for ``url``, byte for byte (for digests such as VCDM 2.0 B.1's)."""
    name = _index().get(url)
    if name is None:
        raise UnknownContext
    data: bytes = (_directory() / name).read_bytes()
    return data


def load_context(url: str) -> dict[str, Any]:
    """The parsed context document for ``url`` (a fresh object each call)."""
    document: dict[str, Any] = json.loads(context_bytes(url))
    return document
