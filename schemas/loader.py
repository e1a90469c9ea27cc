"""Loader for DUO's credential type data: JSON Schemas, SD-JWT VC type metadata, examples.

draft-ietf-oauth-sd-jwt-vc-13 §6 (type metadata), §8 (display, SVG templates) and §10 (document
integrity, W3C SRI syntax); JSON Schema 2020-12 for the claims files. The files live in this
package (schemas/types/<type>/, schemas/examples/) and are read with importlib.resources on first
use, never at import time. The vct of a type is ``{issuer}/vct/{type}`` (claims contract).

This module is the bottom layer: it imports neither verifier nor issuer, so failures are reported
as :class:`SchemaError` carrying a stable code that callers map to their own error families.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
from importlib import resources
from typing import Any

import jsonschema

CREDENTIAL_TYPES: tuple[str, ...] = (
    "diploma",
    "grade_list",
    "nt2_diploma",
    "inburgering",
    "enrolment",
)

_VCT_PLACEHOLDER = "{issuer}/vct/"
_SVG_MEDIA_TYPE = "image/svg+xml"


class SchemaError(Exception):
    """A stable ``code`` plus a fixed short description (never containing claim values).

    ``pointer`` is the JSON Pointer of the failing claim (names from the schema, array indices)
    when a claims file fails validation, for logs and tests; it is not part of the message.
    """

    def __init__(self, code: str, detail: str = "", *, pointer: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.pointer = pointer


def _check_type(type_name: str) -> None:
    if type_name not in CREDENTIAL_TYPES:
        raise SchemaError("unknown_credential_type", "not one of DUO's credential types")


def _read(*parts: str) -> bytes:
    node = resources.files("schemas")
    for part in parts:
        node = node / part
    return node.read_bytes()


@functools.cache
def _json_file(*parts: str) -> Any:
    return json.loads(_read(*parts).decode("utf-8"))


def vct_for(type_name: str, issuer: str) -> str:
    """The vct of a credential type: ``{issuer}/vct/{type_name}``."""
    _check_type(type_name)
    return f"{issuer}/vct/{type_name}"


def type_name_for_vct(vct: str, issuer: str) -> str:
    """The credential type named by ``vct``; SchemaError ``unknown_vct`` if it names none."""
    prefix = f"{issuer}/vct/"
    name = vct[len(prefix) :] if vct.startswith(prefix) else ""
    if name not in CREDENTIAL_TYPES:
        raise SchemaError("unknown_vct", "vct names no DUO credential type of this issuer")
    return name


def json_schema(type_name: str) -> dict[str, Any]:
    """A copy of the JSON Schema (2020-12) of the type's claims file."""
    _check_type(type_name)
    schema: dict[str, Any] = copy.deepcopy(_json_file("types", type_name, "schema.json"))
    return schema


@functools.cache
def _validator(type_name: str) -> jsonschema.protocols.Validator:
    schema = _json_file("types", type_name, "schema.json")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def validate_claims(type_name: str, claims: Any) -> None:
    """Validate a claims file (data claims only, before iss/iat/vct/cnf/status are added).

    Raises SchemaError ``claims_schema_invalid``; its ``pointer`` names the first failing claim
    (sorted by position, so the choice is stable).
    """
    _check_type(type_name)
    errors = sorted(
        _validator(type_name).iter_errors(claims), key=lambda e: [str(p) for p in e.path]
    )
    if errors:
        pointer = "".join(f"/{part}" for part in errors[0].absolute_path)
        raise SchemaError(
            "claims_schema_invalid", "claims do not match the type's schema", pointer=pointer
        )


def integrity_of(document: bytes) -> str:
    """W3C SRI integrity metadata (sha256) of a document, as SD-JWT VC -13 §10 uses it."""
    digest = hashlib.sha256(document).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _svg_entry(type_name: str, entry: dict[str, Any]) -> None:
    """Turn a template file name into a data: URI with its uri#integrity (-13 §8.1.2, §10)."""
    uri = entry.get("uri")
    if isinstance(uri, str) and ":" not in uri:
        svg = _read("types", type_name, uri)
        entry["uri"] = f"data:{_SVG_MEDIA_TYPE};base64," + base64.b64encode(svg).decode("ascii")
        entry["uri#integrity"] = integrity_of(svg)


def type_metadata(type_name: str, issuer: str) -> dict[str, Any]:
    """The type metadata document of a type for ``issuer``, self-contained (SVG as data: URIs)."""
    _check_type(type_name)
    document: dict[str, Any] = copy.deepcopy(_json_file("types", type_name, "type-metadata.json"))
    if document.get("vct") != f"{_VCT_PLACEHOLDER}{type_name}":
        raise SchemaError("type_metadata_file_invalid", "packaged vct placeholder is wrong")
    document["vct"] = vct_for(type_name, issuer)
    for display in document.get("display", []):
        for entry in display.get("rendering", {}).get("svg_templates", []):
            _svg_entry(type_name, entry)
    return document


def type_metadata_document(type_name: str, issuer: str) -> bytes:
    """The exact bytes to publish; ``integrity_of`` of these is the credential's vct#integrity."""
    document = type_metadata(type_name, issuer)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def svg_template(type_name: str) -> str:
    """The SVG template of a type as text (UTF-8)."""
    _check_type(type_name)
    return _read("types", type_name, "template.svg").decode("utf-8")


def example_claims(type_name: str) -> dict[str, Any]:
    """A copy of the type's fictional example claims file (it validates against the schema)."""
    _check_type(type_name)
    claims: dict[str, Any] = copy.deepcopy(_json_file("examples", f"{type_name}.json"))
    return claims


def example_record(type_name: str) -> dict[str, Any]:
    """A copy of the fictional register record whose mapping gives ``example_claims``."""
    _check_type(type_name)
    record: dict[str, Any] = copy.deepcopy(_json_file("examples", "records", f"{type_name}.json"))
    return record
