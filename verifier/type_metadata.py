"""SD-JWT VC type metadata, verifier side: integrity, format, display and claim metadata.

draft-ietf-oauth-sd-jwt-vc-13 §6 (type metadata format and retrieval), §8 (display metadata),
§9 (claim metadata) and §10 (integrity of referenced documents, W3C SRI syntax); SPECS.md
SDV-7, SDV-8, SDV-10. The SRI check (verifier.sri) and the SVG template functions (SDV-9,
verifier.svg_template) are re-exported here. Pure: the caller fetches documents.

Limit: ``extends`` is not followed. DUO publishes flat documents, and following it would need
fetching, cycle detection and the sd/mandatory tightening rules of §9.3.1; a document that uses
it is rejected rather than half processed (§9.5: type metadata is processed fully or not used).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from verifier import strict_json
from verifier.errors import InvalidCredential
from verifier.sri import check_integrity
from verifier.svg_template import check_svg_template, render_svg, svg_template_bytes

__all__ = [
    "check_claim_metadata",
    "check_integrity",
    "check_svg_template",
    "parse_type_metadata",
    "render_svg",
    "svg_template_bytes",
    "svg_values",
]

_SVG_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SD_VALUES = frozenset({"always", "allowed", "never"})
_TEMPLATE_PROPERTIES = {
    "orientation": frozenset({"portrait", "landscape"}),
    "color_scheme": frozenset({"light", "dark"}),
    "contrast": frozenset({"normal", "high"}),
}


def _malformed(detail: str) -> InvalidCredential:
    return InvalidCredential("type_metadata_malformed", detail)


def _optional_str(container: Mapping[str, Any], name: str) -> None:
    if name in container and not isinstance(container[name], str):
        raise _malformed("a text property is not a string")


def _check_uri(entry: object, *, template: bool) -> None:
    """Rendering resources are https URLs or data: URIs (-13 §8.1)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("uri"), str):
        raise _malformed("a rendering resource has no uri")
    if not entry["uri"].startswith(("https://", "data:")):
        raise _malformed("a rendering uri is neither https nor data:")
    _optional_str(entry, "uri#integrity")
    if template and "properties" in entry:
        properties = entry["properties"]
        # -13 §8.1.2.1: at least one property, each with a defined value.
        if not isinstance(properties, dict) or not properties:
            raise _malformed("svg template properties are not a non-empty object")
        for name, allowed in _TEMPLATE_PROPERTIES.items():
            if name in properties and properties[name] not in allowed:
                raise _malformed("svg template property has an undefined value")


def _check_rendering(rendering: object) -> None:
    if not isinstance(rendering, dict):
        raise _malformed("rendering is not an object")
    simple = rendering.get("simple", {})
    if not isinstance(simple, dict):
        raise _malformed("simple rendering is not an object")
    for name in ("background_color", "text_color"):
        _optional_str(simple, name)
    for name in ("logo", "background_image"):
        if name in simple:
            _check_uri(simple[name], template=False)
    templates = rendering.get("svg_templates", [])
    if not isinstance(templates, list):
        raise _malformed("svg_templates is not an array")
    for template in templates:
        _check_uri(template, template=True)
        # -13 §8.1.2: properties are required when more than one template exists.
        if len(templates) > 1 and "properties" not in template:
            raise _malformed("several svg templates without properties")


def _check_display(display: object) -> None:
    """-13 §8: each entry has a locale and a name; one entry per locale."""
    if not isinstance(display, list):
        raise _malformed("display is not an array")
    locales: set[str] = set()
    for entry in display:
        if not isinstance(entry, dict):
            raise _malformed("display entry is not an object")
        locale, name = entry.get("locale"), entry.get("name")
        if not isinstance(locale, str) or not locale or not isinstance(name, str):
            raise _malformed("display entry lacks locale or name")
        if locale in locales:
            raise _malformed("two display entries for one locale")
        locales.add(locale)
        _optional_str(entry, "description")
        if "rendering" in entry:
            _check_rendering(entry["rendering"])


def _check_path(path: object) -> None:
    """-13 §9.1: a non-empty array of strings, nulls and non-negative integers."""
    if not isinstance(path, list) or not path:
        raise _malformed("claim path is not a non-empty array")
    for part in path:
        is_index = isinstance(part, int) and not isinstance(part, bool) and part >= 0
        if not (part is None or isinstance(part, str) or is_index):
            raise _malformed("claim path has a bad component")


def _check_claim_display(display: object) -> None:
    """-13 §9.2: entries with a locale and a label."""
    if not isinstance(display, list):
        raise _malformed("claim display is not an array")
    for entry in display:
        if not isinstance(entry, dict):
            raise _malformed("claim display entry is not an object")
        if not isinstance(entry.get("locale"), str) or not isinstance(entry.get("label"), str):
            raise _malformed("claim display entry lacks locale or label")
        _optional_str(entry, "description")


def check_claim_metadata(metadata: Mapping[str, Any]) -> None:
    """Structure of ``claims`` in a type metadata document (-13 §9, SDV-10).

    Each entry: a valid ``path`` (no two entries with the same path), ``display`` entries with
    locale and label, boolean ``mandatory``, ``sd`` in always|allowed|never, and an ``svg_id``
    matching ``[A-Za-z_][A-Za-z0-9_]*`` unique in the document. Else ``type_metadata_malformed``.
    """
    claims = metadata.get("claims", [])
    if not isinstance(claims, list):
        raise _malformed("claims is not an array")
    paths: set[str] = set()
    svg_ids: set[str] = set()
    for entry in claims:
        if not isinstance(entry, dict):
            raise _malformed("claim metadata entry is not an object")
        _check_path(entry.get("path"))
        key = strict_json.dumps(entry["path"])
        if key in paths:
            raise _malformed("two claim metadata entries for one path")
        paths.add(key)
        if "display" in entry:
            _check_claim_display(entry["display"])
        if "mandatory" in entry and not isinstance(entry["mandatory"], bool):
            raise _malformed("claim mandatory is not a boolean")
        if "sd" in entry and entry["sd"] not in _SD_VALUES:
            raise _malformed("claim sd is not always, allowed or never")
        if "svg_id" in entry:
            svg_id = entry["svg_id"]
            if not isinstance(svg_id, str) or not _SVG_ID.fullmatch(svg_id) or svg_id in svg_ids:
                raise _malformed("claim svg_id is malformed or not unique")
            svg_ids.add(svg_id)


def parse_type_metadata(
    document_bytes: bytes, *, vct: str, integrity: str | None
) -> dict[str, Any]:
    """Check and parse a fetched type metadata document for a credential with ``vct``.

    ``integrity`` is the credential's ``vct#integrity`` (None when absent); it is checked on
    the bytes before anything is parsed (-13 §10). Codes: type_metadata_integrity_mismatch,
    type_metadata_malformed, type_metadata_vct_mismatch, type_metadata_extends_unsupported.
    Properties that are not understood are kept and ignored (-13 §6.2).
    """
    if integrity is not None:
        check_integrity(document_bytes, integrity)
    try:
        document = strict_json.loads_object(document_bytes)
    except InvalidCredential:
        raise _malformed("type metadata is not a strict JSON object") from None
    # -13 §6.3: the document's vct must be the credential's vct.
    if not isinstance(document.get("vct"), str):
        raise _malformed("type metadata has no vct")
    if document["vct"] != vct:
        raise InvalidCredential("type_metadata_vct_mismatch", "type metadata is for another vct")
    if "extends" in document:
        raise InvalidCredential(
            "type_metadata_extends_unsupported", "type metadata extends another type"
        )
    _optional_str(document, "name")
    _optional_str(document, "description")
    if "display" in document:
        _check_display(document["display"])
    check_claim_metadata(document)
    return document


def _select(claims: Any, path: list[Any]) -> list[Any]:
    """-13 §9.1.1 path processing, leniently: a mismatch selects nothing (rendering only)."""
    selected = [claims]
    for part in path:
        nxt: list[Any] = []
        for item in selected:
            if isinstance(part, str) and isinstance(item, dict) and part in item:
                nxt.append(item[part])
            elif part is None and isinstance(item, list):
                nxt.extend(item)
            elif isinstance(part, int) and isinstance(item, list) and 0 <= part < len(item):
                nxt.append(item[part])
        selected = nxt
    return selected


def svg_values(claims: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, str]:
    """Placeholder values for ``render_svg``: each svg_id whose path selects one scalar claim.

    Claims not disclosed, or paths selecting several values or an object, give no value, so
    the placeholder renders empty (-13 §8.1.2.2).
    """
    values: dict[str, str] = {}
    for entry in metadata.get("claims", []):
        if "svg_id" not in entry:
            continue
        selected = _select(claims, entry["path"])
        if len(selected) == 1 and isinstance(selected[0], str | int | float):
            value = selected[0]
            values[entry["svg_id"]] = str(value).lower() if isinstance(value, bool) else str(value)
    return values
