"""Processing Disclosures into claims: RFC 9901 (Nov 2025) §7.1 steps 3 to 5.

Runs after the caller has checked the Issuer-signed JWT's signature. Every failure raises
InvalidCredential; the result is built from scratch and returned only when every check passed, so
no partially processed claims are ever visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier import disclosure
from verifier.disclosure import Disclosure
from verifier.errors import InvalidCredential

#: Nesting limit of the processed claims, across Disclosures (each already ≤ strict_json.MAX_DEPTH).
MAX_PROCESSED_DEPTH = 64


def sd_alg_of(payload: dict[str, Any]) -> str:
    """The payload's ``_sd_alg`` (default ``sha-256``), if supported (§4.1.1, §7.1 step 2.5)."""
    return disclosure.check_sd_alg(payload.get("_sd_alg", disclosure.DEFAULT_SD_ALG))


class _Processor:
    def __init__(self, by_digest: dict[str, Disclosure]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()

    def _claim(self, digest: str) -> Disclosure | None:
        if digest in self.seen:
            # §7.1 step 4: a digest value encountered more than once.
            raise InvalidCredential("digest_duplicate", "a digest appears more than once")
        self.seen.add(digest)
        # §7.1 step 3.3.1: a digest without a Disclosure (undisclosed or decoy) is ignored.
        return self.by_digest.get(digest)

    def value(self, node: Any, depth: int, top: bool = False) -> Any:
        if depth > MAX_PROCESSED_DEPTH:
            raise InvalidCredential("sd_jwt_too_deep", "processed claims nest too deeply")
        if isinstance(node, dict):
            return self._object(node, depth, top)
        if isinstance(node, list):
            return self._array(node, depth)
        return node

    def _object(self, node: dict[str, Any], depth: int, top: bool) -> dict[str, Any]:
        digests = node.get("_sd", [])
        if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
            # §4.2.4.1: "_sd" MUST be an array of strings.
            raise InvalidCredential("sd_jwt_malformed", "_sd is not an array of strings")
        if "..." in node:
            # §4.1 rule 7: "..." only as the single key of an array element.
            raise InvalidCredential("sd_jwt_malformed", "'...' used outside an array element")
        out: dict[str, Any] = {}
        for name, child in node.items():
            if name == "_sd" or (top and name == "_sd_alg"):
                continue  # §7.1 steps 3.5 and 3.6
            out[name] = self.value(child, depth + 1)
        for digest in digests:
            found = self._claim(digest)
            if found is None:
                continue
            if found.name is None:
                # §7.1 step 3.3.2.1: a Disclosure in "_sd" must have three elements.
                raise InvalidCredential("disclosure_kind_mismatch", "array disclosure used in _sd")
            if found.name in disclosure.FORBIDDEN_NAMES or (top and found.name == "_sd_alg"):
                # §7.1 step 3.3.2.2; a top-level "_sd_alg" Disclosure is refused too [our choice].
                raise InvalidCredential("disclosure_name_forbidden", "disclosure name is reserved")
            if found.name in out:
                # §7.1 step 3.3.2.3: the name already exists at this level.
                raise InvalidCredential("disclosure_name_conflict", "disclosure claim name exists")
            out[found.name] = self.value(found.value, depth + 1)
        return out

    def _array(self, node: list[Any], depth: int) -> list[Any]:
        out: list[Any] = []
        for element in node:
            if not (isinstance(element, dict) and "..." in element):
                out.append(self.value(element, depth + 1))
                continue
            digest = element["..."]
            if len(element) != 1 or not isinstance(digest, str):
                # §4.2.4.2: {"...": "<digest>"} and no other keys.
                raise InvalidCredential("sd_jwt_malformed", "array digest slot is malformed")
            found = self._claim(digest)
            if found is None:
                continue  # §7.1 step 3.4: remove elements whose digest was not found
            if found.name is not None:
                # §7.1 step 3.3.3.1: a Disclosure in an array must have two elements.
                raise InvalidCredential("disclosure_kind_mismatch", "object disclosure in an array")
            out.append(self.value(found.value, depth + 1))
        return out


def process(payload: dict[str, Any], disclosures: Sequence[Disclosure]) -> dict[str, Any]:
    """The Processed SD-JWT Payload of a signature-checked payload and the received Disclosures.

    Raises ``sd_alg_unsupported``, ``disclosure_duplicate``, ``digest_duplicate``,
    ``disclosure_kind_mismatch``, ``disclosure_name_forbidden``, ``disclosure_name_conflict``,
    ``disclosure_unreferenced``, ``sd_jwt_malformed`` or ``sd_jwt_too_deep``.
    """
    if not isinstance(payload, dict):
        raise InvalidCredential("sd_jwt_malformed", "payload is not a JSON object")
    sd_alg = sd_alg_of(payload)
    by_digest: dict[str, Disclosure] = {}
    for item in disclosures:
        digest = item.digest(sd_alg)  # §7.1 step 3.1
        if digest in by_digest:
            # §4: a Holder MUST NOT send a Disclosure more than once.
            raise InvalidCredential("disclosure_duplicate", "a disclosure is sent twice")
        by_digest[digest] = item
    processor = _Processor(by_digest)
    claims: dict[str, Any] = processor.value(payload, 0, top=True)
    if not by_digest.keys() <= processor.seen:
        # §7.1 step 5: every Disclosure must be referenced, directly or through another one.
        raise InvalidCredential("disclosure_unreferenced", "a disclosure is not referenced")
    return claims
