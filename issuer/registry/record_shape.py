"""Structural check of a register record against schemas.registry_record's TypedDicts.

``claims_from_record`` maps what it needs and ignores the rest; an import must also catch a
misspelt or mistyped member before it is stored. ``check_shape`` walks the record beside its
TypedDict (``NotRequired`` members, nested TypedDicts, lists, ``Literal`` values, unions and the
plain JSON types) and returns every problem as (JSON Pointer, code): ``missing_field``,
``unknown_field``, ``invalid_type`` or ``invalid_value``. Pointers hold member names and indices
only, never values; a member name that is not a plain word is not shown (the pointer stops at
its object).
"""

from __future__ import annotations

import re
import types
import typing
from functools import cache
from typing import Any, Literal, NotRequired, Union

from schemas.registry_record import DiplomaRecord, EnrolmentRecord, InburgeringRecord

Problem = tuple[str, str]  # (JSON Pointer, code)

KINDS: dict[str, Any] = {
    "diploma": DiplomaRecord,
    "inburgering": InburgeringRecord,
    "enrolment": EnrolmentRecord,
}
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def child(pointer: str, key: str) -> str:
    """The pointer of member ``key``; a member name that is not a plain word is not shown."""
    return f"{pointer}/{key}" if _FIELD.fullmatch(key) else pointer


@cache
def _hints(typed_dict: Any) -> dict[str, Any]:
    return typing.get_type_hints(typed_dict, include_extras=True)


def _typed_dict(value: Any, hint: Any, pointer: str, out: list[Problem]) -> None:
    if not isinstance(value, dict):
        out.append((pointer, "invalid_type"))
        return
    hints = _hints(hint)
    out += [(child(pointer, key), "unknown_field") for key in value if key not in hints]
    for key, sub in hints.items():
        if key in value:
            _walk(value[key], sub, f"{pointer}/{key}", out)
        elif typing.get_origin(sub) is not NotRequired:
            out.append((f"{pointer}/{key}", "missing_field"))


def _walk(value: Any, hint: Any, pointer: str, out: list[Problem]) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is NotRequired:
        _walk(value, args[0], pointer, out)
    elif typing.is_typeddict(hint):
        _typed_dict(value, hint, pointer, out)
    elif origin is list:
        if not isinstance(value, list):
            out.append((pointer, "invalid_type"))
            return
        for index, item in enumerate(value):
            _walk(item, args[0], f"{pointer}/{index}", out)
    elif origin is Literal:
        if not any(type(value) is type(allowed) and value == allowed for allowed in args):
            out.append((pointer, "invalid_value"))
    elif origin in (Union, types.UnionType):
        if not any(_fits(value, alternative) for alternative in args):
            out.append((pointer, "invalid_type"))
    elif type(value) is not hint:  # str, bool, int, float, None: exact (a bool is no int)
        out.append((pointer, "invalid_type"))


def _fits(value: Any, hint: Any) -> bool:
    trial: list[Problem] = []
    _walk(value, hint, "", trial)
    return not trial


def check_shape(record: Any, pointer: str) -> list[Problem]:
    """Every structural problem of a register record found at ``pointer`` (empty: none)."""
    if not isinstance(record, dict):
        return [(pointer, "invalid_type")]
    kind = record.get("kind")
    if kind not in KINDS:
        return [(f"{pointer}/kind", "invalid_value" if "kind" in record else "missing_field")]
    out: list[Problem] = []
    _typed_dict(record, KINDS[kind], pointer, out)
    return out
