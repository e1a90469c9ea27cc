"""Strict JSON (RFC 8259) for untrusted input.

The standard library parser accepts duplicate member names (the last one wins), NaN and Infinity,
and deep nesting that ends in RecursionError. SD-JWT (RFC 9901 §7.1, §9.7) and JWS (RFC 7515 §4)
require rejecting duplicate names, so every parse of wire data goes through ``loads`` here.
"""

from __future__ import annotations

import json
from typing import Any

from verifier.errors import InvalidCredential

MAX_DEPTH = 32


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # a repeated name collapsed into one key
        raise InvalidCredential("json_duplicate_key", "JSON object has a duplicate member name")
    return result


def _reject_constant(_: str) -> Any:
    raise InvalidCredential("json_malformed", "JSON contains NaN or Infinity")


#: One decoder for every parse: json.loads with hooks builds a new one per call, which costs as
#: much as parsing a short Disclosure. Neither it nor the encoder keeps state between calls.
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
#: Likewise one encoder: compact separators, UTF-8 kept as is.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _check_depth(value: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise InvalidCredential("json_too_deep", "JSON nests deeper than the limit")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text, rejecting duplicate names, NaN/Infinity, bad UTF-8 and deep nesting."""
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidCredential("json_malformed", "JSON is not valid UTF-8") from None
    try:
        value = _DECODER.decode(data)
    except RecursionError:
        raise InvalidCredential("json_too_deep", "JSON nests too deeply") from None
    except ValueError:
        raise InvalidCredential("json_malformed", "input is not valid JSON") from None
    # Each level opens with "[" or "{", so text with at most max_depth of them cannot nest deeper.
    if data.count("[") + data.count("{") > max_depth:
        _check_depth(value, max_depth)
    return value


def loads_object(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse JSON that must be an object."""
    value = loads(data, max_depth=max_depth)
    if not isinstance(value, dict):
        raise InvalidCredential("json_not_object", "JSON value is not an object")
    return value


def dumps(value: Any) -> str:
    """Compact JSON with UTF-8 kept as is, as used in JWS payloads and disclosures."""
    return _ENCODER.encode(value)
