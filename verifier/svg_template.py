"""SD-JWT VC SVG templates: safety check and placeholder rendering.

draft-ietf-oauth-sd-jwt-vc-13 §8.1.2 (rendering method svg_templates) and §8.1.2.2 (SVG
rendering); SPECS.md SDV-9 and §8 item 85. A template must not execute code and must not
reference anything outside itself (tracking, §8.1.2.2); placeholders ``{{svg_id}}`` are replaced
in text nodes only, with values XML-escaped.

The check is an allowlist, stricter than the spec's minimum: only static SVG shape, text,
gradient and grouping elements; no ``a``, ``style``, ``foreignObject``, ``script``, animation or
filter elements; no ``on*`` attributes, no ``xml:base``; ``href`` only to ``#fragment`` or a
``data:image/{png,jpeg,gif,webp}`` URI; ``url(...)`` only to ``#fragment``; no DOCTYPE or ENTITY
(rejected before parsing, so no entity expansion), no processing instructions; UTF-8 only;
at most MAX_SVG_BYTES.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.sri import check_integrity

MAX_SVG_BYTES = 256 * 1024
_SVG_NS = "{http://www.w3.org/2000/svg}"
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
_ALLOWED_ELEMENTS = frozenset(
    _SVG_NS + name
    for name in (
        "svg", "g", "defs", "title", "desc", "symbol", "use", "rect", "circle", "ellipse",
        "line", "polyline", "polygon", "path", "text", "tspan", "textPath", "linearGradient",
        "radialGradient", "stop", "clipPath", "mask", "pattern", "marker", "image",
    )
)  # fmt: skip
_DATA_IMAGES = tuple(f"data:image/{kind}" for kind in ("png", "jpeg", "gif", "webp"))
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
#: A processing instruction other than the XML declaration, anywhere (TreeBuilder drops those
#: before the root, e.g. <?xml-stylesheet href=...?>).
_PROCESSING_INSTRUCTION = re.compile(r"<\?(?!xml[\s?])", re.IGNORECASE)
_URL_REF = re.compile(r"url\(\s*(['\"]?)\s*([^)'\"\s]*)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
#: Markup of a well-formed document without DOCTYPE: comments, CDATA, PIs, tags (quoted
#: attribute values may contain '>'). Text between matches is character data.
_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.DOTALL
)
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;"}


def _unsafe(detail: str) -> InvalidCredential:
    return InvalidCredential("svg_template_unsafe", detail)


def _parse(svg_bytes: bytes) -> ET.Element:
    if not isinstance(svg_bytes, bytes) or len(svg_bytes) > MAX_SVG_BYTES:
        raise _unsafe("svg template is not bytes or too large")
    try:
        text = svg_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _unsafe("svg template is not UTF-8") from None
    if _DECLARATION.search(text):
        raise _unsafe("svg template declares a DOCTYPE or ENTITY")
    if _PROCESSING_INSTRUCTION.search(text):
        raise _unsafe("svg template has a processing instruction")
    # DOCTYPE and ENTITY are refused above, so expat sees no entity to expand (no defusedxml).
    builder = ET.TreeBuilder(insert_comments=True, insert_pis=True)
    parser = ET.XMLParser(target=builder)  # noqa: S314
    try:
        parser.feed(text)
        root: ET.Element = parser.close()
    except ET.ParseError:
        raise _unsafe("svg template is not well-formed XML") from None
    return root


def _check_reference(value: str) -> None:
    if not value.startswith("#") and not value.lower().startswith(_DATA_IMAGES):
        raise _unsafe("svg template references an external resource")


def _check_attribute(name: str, value: str) -> None:
    local = name.rsplit("}", 1)[-1]
    if local.lower().startswith("on"):
        raise _unsafe("svg template has an event handler attribute")
    if name == _XML_NS + "base":
        raise _unsafe("svg template sets xml:base")
    if local in ("href", "src"):
        _check_reference(value.strip())
    lowered = value.lower()
    if "javascript:" in lowered or "@import" in lowered:
        raise _unsafe("svg template attribute holds a script or import")
    for _, target in _URL_REF.findall(value):
        if not target.startswith("#"):
            raise _unsafe("svg template references an external resource")
    if "{{" in value:
        raise _unsafe("svg template has a placeholder outside text")


def check_svg_template(svg_bytes: bytes) -> None:
    """Reject an SVG template that could run code or fetch anything (SDV-9, item 85).

    Raises InvalidCredential ``svg_template_unsafe``; see the module docstring for the rules.
    """
    root = _parse(svg_bytes)
    if root.tag != _SVG_NS + "svg":
        raise _unsafe("svg template root is not an SVG element")
    for element in root.iter():
        tag: object = element.tag  # a factory function for comments and PIs
        if tag is ET.ProcessingInstruction:  # also refused on the text above
            raise _unsafe("svg template has a processing instruction")
        if tag is ET.Comment:
            if "{{" in (element.text or ""):
                raise _unsafe("svg template has a placeholder in a comment")
            continue
        if tag not in _ALLOWED_ELEMENTS:
            raise _unsafe("svg template has an element outside the allowlist")
        for name, value in element.attrib.items():
            _check_attribute(name, value)


def _escape(value: str) -> str:
    value = _NOT_XML_CHAR.sub("\ufffd", value)
    return "".join(_ESCAPES.get(char, char) for char in value)


def render_svg(svg_template: str, values: Mapping[str, str]) -> str:
    """Fill ``{{svg_id}}`` placeholders in text nodes (-13 §8.1.2.2, SDV-9).

    The template is checked first (svg_template_unsafe). Values are XML-escaped (& < > " ' and
    CR, which XML line-end handling would otherwise turn into LF); characters XML cannot carry
    become U+FFFD; a placeholder without a value renders empty. Placeholders in comments and
    CDATA sections are left as they are.
    """
    check_svg_template(svg_template.encode("utf-8"))

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: _escape(str(values.get(m.group(1), ""))), text)

    out: list[str] = []
    position = 0
    for markup in _MARKUP.finditer(svg_template):
        out.append(fill(svg_template[position : markup.start()]))
        out.append(markup.group())
        position = markup.end()
    out.append(fill(svg_template[position:]))
    return "".join(out)


def _data_uri_bytes(uri: str) -> bytes:
    """RFC 2397 data: URI payload of an image/svg+xml template."""
    header, comma, payload = uri[len("data:") :].partition(",")
    parameters = [p.strip().lower() for p in header.split(";")]
    if not comma or parameters[0] != "image/svg+xml":
        raise InvalidCredential("type_metadata_malformed", "svg template data: URI is not SVG")
    if parameters[-1] != "base64":
        return urllib.parse.unquote_to_bytes(payload)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCredential(
            "type_metadata_malformed", "svg template data: URI is not base64"
        ) from None


def svg_template_bytes(entry: Mapping[str, Any], *, fetched: bytes | None) -> bytes:
    """The checked bytes of one ``svg_templates`` entry (-13 §8.1.2, §10).

    A data: URI is decoded here; for an https URI the caller passes the ``fetched`` bytes (this
    module does no I/O) or gets VerificationIncomplete ``svg_template_unavailable``. Then
    ``uri#integrity`` is checked when present and the template must pass check_svg_template.
    """
    uri = entry.get("uri")
    if not isinstance(uri, str):
        raise InvalidCredential("type_metadata_malformed", "svg template has no uri")
    if uri.startswith("data:"):
        document = _data_uri_bytes(uri)
    elif fetched is None:
        raise VerificationIncomplete("svg_template_unavailable", "svg template was not fetched")
    else:
        document = fetched
    integrity = entry.get("uri#integrity")
    if integrity is not None:
        check_integrity(document, integrity)
    check_svg_template(document)
    return document
