"""Holder-side selection of Disclosures: RFC 9901 (Nov 2025) §7.2 and §4.2.6.

A path names a claim by object member names and array indices, either dot-separated
(``institution.name``, ``subjects.0.final_mark``) or as a tuple (``("subjects", 0)``) for names that
contain dots. Array indices count the elements the Holder can see with every Disclosure applied
(the issued array without decoys). Selecting a path discloses every ancestor Disclosure it needs
(§4.2.6: a Disclosure must connect to the Issuer-signed JWT) and everything inside the named node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from verifier import sd_jwt_processing
from verifier.disclosure import Disclosure
from verifier.errors import ProtocolError
from verifier.sd_jwt import SdJwt, parse
from verifier.sd_jwt_issuance import serialize

PathLike = str | tuple[str | int, ...]


class _View:
    """The issued payload seen through every Disclosure the Holder holds."""

    def __init__(self, sd_jwt: SdJwt) -> None:
        self.by_digest = {d.digest(sd_jwt.sd_alg): d for d in sd_jwt.disclosures}
        self.payload = sd_jwt.issuer_jwt.payload

    def members(self, node: dict[str, Any]) -> Iterator[tuple[str, Any, Disclosure | None]]:
        for name, value in node.items():
            if name != "_sd" and not (name == "_sd_alg" and node is self.payload):
                yield name, value, None
        for digest in node.get("_sd", []):
            found = self.by_digest.get(digest)
            if found is not None and found.name is not None:
                yield found.name, found.value, found

    def elements(self, node: list[Any]) -> Iterator[tuple[Any, Disclosure | None]]:
        for element in node:
            if isinstance(element, dict) and "..." in element:
                found = self.by_digest.get(element["..."])
                if found is not None:
                    yield found.value, found
            else:
                yield element, None

    def inside(self, node: Any) -> Iterator[Disclosure]:
        """Every Disclosure needed to show ``node`` in full."""
        if isinstance(node, dict):
            pairs: Iterable[tuple[Any, Disclosure | None]] = (
                (value, found) for _, value, found in self.members(node)
            )
        elif isinstance(node, list):
            pairs = self.elements(node)
        else:
            return
        for value, found in pairs:
            if found is not None:
                yield found
            yield from self.inside(value)


def _unknown() -> ProtocolError:
    return ProtocolError("disclosure_path_unknown", "no such claim path in the credential")


def _segments(path: PathLike) -> tuple[str | int, ...]:
    if isinstance(path, str):
        segments: tuple[str | int, ...] = tuple(path.split("."))
        if "" in segments:
            raise _unknown()  # an empty name needs the tuple form
    else:
        segments = tuple(path)
    if not segments or any(isinstance(s, bool) or not isinstance(s, str | int) for s in segments):
        raise _unknown()
    return segments


def _child(view: _View, node: Any, segment: str | int) -> tuple[Any, Disclosure | None]:
    if isinstance(node, dict) and isinstance(segment, str):
        for name, value, found in view.members(node):
            if name == segment:
                return value, found
    elif isinstance(node, list):
        if isinstance(segment, str) and segment.isdigit() and segment.isascii():
            segment = int(segment)
        if isinstance(segment, int) and not isinstance(segment, bool) and segment >= 0:
            for index, (value, found) in enumerate(view.elements(node)):
                if index == segment:
                    return value, found
    raise _unknown()


def select(sd_jwt: SdJwt, paths: Iterable[PathLike]) -> list[str]:
    """The Disclosure strings that reveal ``paths``, in issued order, each once.

    The SD-JWT is processed first (§7.2 step 1, without the signature check, which needs the
    issuer key), so a malformed one raises its InvalidCredential code. An unknown path raises
    ProtocolError ``disclosure_path_unknown``.
    """
    sd_jwt_processing.process(sd_jwt.issuer_jwt.payload, sd_jwt.disclosures)
    view = _View(sd_jwt)
    chosen: set[str] = set()
    for path in paths:
        node: Any = sd_jwt.issuer_jwt.payload
        for segment in _segments(path):
            node, found = _child(view, node, segment)
            if found is not None:
                chosen.add(found.raw)
        chosen.update(d.raw for d in view.inside(node))
    return [d.raw for d in sd_jwt.disclosures if d.raw in chosen]


def present(sd_jwt_compact: str, paths: Iterable[PathLike]) -> str:
    """An SD-JWT with only the Disclosures for ``paths``: ``<JWT>~<D..>~`` (§7.2 step 3)."""
    sd_jwt = parse(sd_jwt_compact, expect_kb=False)
    return serialize(sd_jwt.issuer_jwt.raw, select(sd_jwt, paths))
