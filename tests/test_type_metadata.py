"""SD-JWT VC type metadata, verifier side (draft-ietf-oauth-sd-jwt-vc-13 §6, §8, §9, §10).

SPECS.md SDV-7 (format, vct), SDV-8 (integrity), SDV-9 (display, SVG), SDV-10 (claim metadata)
and §8 item 85: a type metadata document whose hash differs from vct#integrity, or an SVG with
script, is rejected and never executed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.type_metadata import (
    check_claim_metadata,
    check_integrity,
    check_svg_template,
    parse_type_metadata,
    render_svg,
    svg_template_bytes,
    svg_values,
)

VCT = "https://issuer.duo.test/vct/diploma"
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
TEMPLATE = (
    f'<svg {SVG_NS} width="200" height="60"><defs><linearGradient id="g">'
    '<stop offset="0" stop-color="#fff"/></linearGradient></defs>'
    '<rect width="200" height="60" fill="url(#g)"/>'
    '<text x="4" y="20">Name: {{given_name}} {{family_name}}</text>'
    '<text x="4" y="40" font-size="10">{{missing}}</text></svg>'
)


def _sri(data: bytes, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


def _document(**extra: Any) -> dict[str, Any]:
    return {
        "vct": VCT,
        "name": "DUO diploma",
        "display": [
            {
                "locale": "en",
                "name": "Diploma",
                "rendering": {
                    "simple": {"background_color": "#154273", "text_color": "#FFFFFF"},
                    "svg_templates": [{"uri": "https://issuer.duo.test/diploma.svg"}],
                },
            }
        ],
        "claims": [
            {
                "path": ["given_name"],
                "display": [{"locale": "en", "label": "Given names"}],
                "sd": "always",
                "mandatory": True,
                "svg_id": "given_name",
            },
            {"path": ["subjects", None, "final_mark"], "sd": "always"},
        ],
        **extra,
    }


def _bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def _code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidCredential) as caught:
        call(*args, **kwargs)
    return caught.value.code


# ---------------------------------------------------------------- integrity (SDV-8)


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_integrity_matches_each_supported_algorithm(algorithm: str) -> None:
    check_integrity(b"document", _sri(b"document", algorithm))


def test_integrity_accepts_base64url_and_options() -> None:
    value = _sri(b"document").replace("+", "-").replace("/", "_").rstrip("=")
    check_integrity(b"document", value + "?ct=application/json")


def test_integrity_accepts_any_match_of_the_strongest_algorithm() -> None:
    wrong = _sri(b"other")
    check_integrity(b"document", f"{wrong} {_sri(b'document')}")
    check_integrity(b"document", f"{_sri(b'other')} md5-AAAA {_sri(b'document', 'sha384')}")


@pytest.mark.parametrize(
    "integrity",
    [
        _sri(b"documenT"),
        f"{_sri(b'document')} {_sri(b'other', 'sha512')}",  # strongest one decides
        "md5-" + base64.b64encode(hashlib.md5(b"document").digest()).decode(),
        "sha1-" + base64.b64encode(hashlib.sha1(b"document").digest()).decode(),
        "",
        "sha256",
        "sha256-%%%",
        "SHA256-" + _sri(b"document")[7:],
    ],
    ids=["mismatch", "strongest", "md5", "sha1", "empty", "no-value", "bad-b64", "case"],
)
def test_integrity_mismatch_or_no_supported_algorithm_rejects(integrity: str) -> None:
    """SPECS §8 item 85 / SDV-8: a hash that differs, or no supported algorithm, rejects."""
    assert _code(check_integrity, b"document", integrity) == "type_metadata_integrity_mismatch"


# ---------------------------------------------------------------- parse (SDV-7, SDV-9)


def test_parse_accepts_a_good_document_and_keeps_unknown_properties() -> None:
    document = _bytes(_document(future_extension={"x": 1}))
    parsed = parse_type_metadata(document, vct=VCT, integrity=_sri(document))
    assert parsed["future_extension"] == {"x": 1}
    assert parse_type_metadata(document, vct=VCT, integrity=None)["vct"] == VCT


def test_tampered_document_is_rejected_before_parsing() -> None:
    """SPECS §8 item 85: type metadata hash differs from vct#integrity."""
    document = _bytes(_document())
    integrity = _sri(document)
    tampered = document.replace(b"Diploma", b"Diplomb", 1)
    code = _code(parse_type_metadata, tampered, vct=VCT, integrity=integrity)
    assert code == "type_metadata_integrity_mismatch"
    garbage = b"{not json"
    code = _code(parse_type_metadata, garbage, vct=VCT, integrity=integrity)
    assert code == "type_metadata_integrity_mismatch"


def test_vct_mismatch_is_rejected() -> None:
    """SDV-7: the document's vct must equal the credential's vct."""
    document = _bytes(_document(vct="https://issuer.duo.test/vct/grade_list"))
    code = _code(parse_type_metadata, document, vct=VCT, integrity=None)
    assert code == "type_metadata_vct_mismatch"


def test_extends_is_rejected_as_unsupported() -> None:
    document = _bytes(_document(extends="https://issuer.duo.test/vct/base"))
    code = _code(parse_type_metadata, document, vct=VCT, integrity=None)
    assert code == "type_metadata_extends_unsupported"


def _with_display(display: Any) -> bytes:
    return _bytes(_document(display=display))


def _templates(*templates: Any) -> bytes:
    return _with_display([{"locale": "en", "name": "D", "rendering": {"svg_templates": templates}}])


MALFORMED_DOCUMENTS = {
    "not json": b"{",
    "array": b"[]",
    "duplicate member": b'{"vct": "x", "vct": "' + VCT.encode() + b'"}',
    "no vct": _bytes({"name": "x"}),
    "vct not a string": _bytes({"vct": ["x"]}),
    "name not a string": _bytes(_document(name=1)),
    "display not array": _with_display({"locale": "en", "name": "D"}),
    "display without name": _with_display([{"locale": "en"}]),
    "display without locale": _with_display([{"name": "D"}]),
    "duplicate locale": _with_display([{"locale": "en", "name": "D"}] * 2),
    "rendering not object": _with_display([{"locale": "en", "name": "D", "rendering": []}]),
    "http uri": _templates({"uri": "http://issuer.duo.test/t.svg"}),
    "no uri": _templates({"properties": {"orientation": "landscape"}}),
    "two templates without properties": _templates({"uri": "https://a/1"}, {"uri": "https://a/2"}),
    "empty properties": _templates({"uri": "https://a/1", "properties": {}}),
    "bad orientation": _templates({"uri": "https://a/1", "properties": {"orientation": "up"}}),
    "logo uri javascript": _with_display(
        [{"locale": "en", "name": "D", "rendering": {"simple": {"logo": {"uri": "javascript:1"}}}}]
    ),
    "claims not array": _bytes(_document(claims={"path": ["x"]})),
}


@pytest.mark.parametrize("document", MALFORMED_DOCUMENTS.values(), ids=MALFORMED_DOCUMENTS.keys())
def test_malformed_documents_are_rejected(document: bytes) -> None:
    """SDV-7/SDV-9: JSON object, vct, display entries with locale and name, template rules."""
    assert _code(parse_type_metadata, document, vct=VCT, integrity=None) == (
        "type_metadata_malformed"
    )


def test_two_templates_with_properties_are_accepted() -> None:
    landscape = {"uri": "https://a/1", "properties": {"orientation": "landscape"}}
    portrait = {"uri": "https://a/2", "properties": {"orientation": "portrait"}}
    parse_type_metadata(_templates(landscape, portrait), vct=VCT, integrity=None)


# ---------------------------------------------------------------- claim metadata (SDV-10)


def test_good_claim_metadata_passes() -> None:
    check_claim_metadata(_document())
    check_claim_metadata({"vct": VCT})
    check_claim_metadata({"claims": [{"path": ["degrees", 0, "type"], "sd": "allowed"}]})


BAD_CLAIMS = {
    "empty path": [{"path": []}],
    "path not array": [{"path": "given_name"}],
    "negative index": [{"path": ["a", -1]}],
    "boolean component": [{"path": ["a", True]}],
    "float component": [{"path": ["a", 1.0]}],
    "no path": [{"sd": "always"}],
    "entry not object": [["given_name"]],
    "duplicate path": [{"path": ["a"]}, {"path": ["a"]}],
    "svg_id starts with digit": [{"path": ["a"], "svg_id": "1a"}],
    "svg_id with dash": [{"path": ["a"], "svg_id": "a-b"}],
    "svg_id empty": [{"path": ["a"], "svg_id": ""}],
    "svg_id not string": [{"path": ["a"], "svg_id": 7}],
    "svg_id not unique": [{"path": ["a"], "svg_id": "x"}, {"path": ["b"], "svg_id": "x"}],
    "sd unknown": [{"path": ["a"], "sd": "sometimes"}],
    "sd boolean": [{"path": ["a"], "sd": True}],
    "mandatory not boolean": [{"path": ["a"], "mandatory": "yes"}],
    "display without label": [{"path": ["a"], "display": [{"locale": "en"}]}],
    "display without locale": [{"path": ["a"], "display": [{"label": "A"}]}],
    "display not array": [{"path": ["a"], "display": {"locale": "en", "label": "A"}}],
}


@pytest.mark.parametrize("claims", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_bad_claim_metadata_is_rejected(claims: list[Any]) -> None:
    """SDV-10: path non-empty; svg_id [A-Za-z_][A-Za-z0-9_]* and unique; sd always|allowed|never."""
    assert _code(check_claim_metadata, {"claims": claims}) == "type_metadata_malformed"
    document = _bytes(_document(claims=claims))
    assert _code(parse_type_metadata, document, vct=VCT, integrity=None) == (
        "type_metadata_malformed"
    )


# ---------------------------------------------------------------- SVG safety (SDV-9, item 85)


def _svg(body: str, root_attributes: str = "") -> bytes:
    return f"<svg {SVG_NS} {XLINK} {root_attributes}>{body}</svg>".encode()


def test_safe_template_passes() -> None:
    check_svg_template(TEMPLATE.encode())
    png = "data:image/png;base64,iVBORw0KGgo="
    check_svg_template(_svg(f'<image href="{png}" width="1" height="1"/><use href="#g"/>'))
    check_svg_template(_svg('<text style="fill: url(#g)">{{x}}</text><!-- a note -->'))
    check_svg_template(b'<?xml version="1.0" encoding="UTF-8"?>' + _svg(""))
    check_svg_template(b"\xef\xbb\xbf" + _svg(""))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
)
UNSAFE_SVGS = {
    "script element": _svg("<script>alert(1)</script>"),
    "script in other namespace": _svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml"/>'),
    "onload on root": _svg("", 'onload="alert(1)"'),
    "ONCLICK upper case": _svg('<rect ONCLICK="alert(1)"/>'),
    "external href": _svg('<image href="https://tracker.example/pixel.png"/>'),
    "external xlink:href": _svg('<use xlink:href="https://evil.example/s.svg#x"/>'),
    "relative href": _svg('<image href="pixel.png"/>'),
    "data: svg href": _svg('<image href="data:image/svg+xml;base64,PHN2Zy8+"/>'),
    "javascript href": _svg('<a href="javascript:alert(1)"><text>x</text></a>'),
    "fill url external": _svg('<rect fill="url(https://tracker.example/p#g)"/>'),
    "style url external": _svg("<rect style=\"fill: url('//tracker.example/x')\"/>"),
    "style element import": _svg("<style>@import url(https://tracker.example/c.css);</style>"),
    "foreignObject": _svg('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"/>'
                          "</foreignObject>"),
    "animation sets href": _svg('<set attributeName="href" to="javascript:alert(1)"/>'),
    "xml:base": _svg('<g xml:base="https://tracker.example/"><use href="#g"/></g>'),
    "stylesheet PI": b'<?xml-stylesheet href="https://tracker.example/s.css"?>' + _svg(""),
    "PI inside root": _svg('<?xml-stylesheet href="https://tracker.example/s.css"?>'),
    "DOCTYPE entity expansion": BILLION_LAUGHS,
    "DOCTYPE external entity": b'<!DOCTYPE svg SYSTEM "https://tracker.example/x.dtd">'
    + _svg(""),
    "ENTITY in lower case": b"<!entity x 'y'>" + _svg(""),
    "not well-formed": b'<svg xmlns="http://www.w3.org/2000/svg"><text></svg>',
    "not XML": b"hello",
    "not UTF-8": _svg("<text>caf\xe9</text>").replace("\u00e9".encode(), b"\xe9"),
    "root not svg": b'<html xmlns="http://www.w3.org/1999/xhtml"/>',
    "svg without namespace": b"<svg><text>x</text></svg>",
    "placeholder in attribute": _svg('<text x="{{given_name}}">a</text>'),
    "placeholder in comment": _svg("<!-- {{given_name}} -->"),
    "too large": _svg("<text>" + "x" * 300_000 + "</text>"),
}  # fmt: skip


@pytest.mark.parametrize("svg", UNSAFE_SVGS.values(), ids=UNSAFE_SVGS.keys())
def test_unsafe_svg_is_rejected(svg: bytes) -> None:
    """SPECS §8 item 85 / SDV-9: script, handlers, external references, DOCTYPE never pass."""
    assert _code(check_svg_template, svg) == "svg_template_unsafe"


# ---------------------------------------------------------------- rendering (SDV-9)


def test_render_escapes_values_and_empties_unknown_placeholders() -> None:
    values = {"given_name": "<b>Zoë</b>", "family_name": 'O\'Neil & "Sons"'}
    rendered = render_svg(TEMPLATE, values)
    expected = "Name: &lt;b&gt;Zoë&lt;/b&gt; O&apos;Neil &amp; &quot;Sons&quot;</text>"
    assert expected in rendered
    assert '<text x="4" y="40" font-size="10"></text>' in rendered
    check_svg_template(rendered.encode())


def test_render_touches_text_nodes_only() -> None:
    template = (
        f'<svg {SVG_NS}><desc id="d">{{{{a}}}}</desc><text><![CDATA[{{{{a}}}}]]></text>'
        "<text>{{a}}{{a}}</text></svg>"
    )
    rendered = render_svg(template, {"a": "1"})
    assert rendered == (
        f'<svg {SVG_NS}><desc id="d">1</desc><text><![CDATA[{{{{a}}}}]]></text>'
        "<text>11</text></svg>"
    )


def test_render_refuses_an_unsafe_template() -> None:
    """SPECS §8 item 85: a template with script is rejected, never rendered."""
    template = f"<svg {SVG_NS}><script>{{{{a}}}}</script></svg>"
    assert _code(render_svg, template, {"a": "x"}) == "svg_template_unsafe"


@settings(max_examples=60, deadline=None)
@given(value=st.text(max_size=40))
def test_rendered_svg_is_well_formed_for_any_value(value: str) -> None:
    rendered = render_svg(TEMPLATE, {"given_name": value, "family_name": ""})
    check_svg_template(rendered.encode())
    text = ET.fromstring(rendered).find("{http://www.w3.org/2000/svg}text")
    assert text is not None
    shown = (text.text or "").removeprefix("Name: ").removesuffix(" ")
    assert len(shown) == len(value)
    assert all(s == v or s == "\ufffd" for s, v in zip(shown, value, strict=True))


def test_svg_values_select_single_scalar_claims() -> None:
    metadata = {
        "claims": [
            {"path": ["given_name"], "svg_id": "given_name"},
            {"path": ["institution", "name"], "svg_id": "institution_name"},
            {"path": ["subjects", None, "code"], "svg_id": "codes"},
            {"path": ["subjects", 0, "code"], "svg_id": "first_code"},
            {"path": ["eqf_level"], "svg_id": "eqf_level"},
            {"path": ["institution"], "svg_id": "institution"},
            {"path": ["degree_title"], "svg_id": "degree_title"},
            {"path": ["family_name"]},
        ]
    }
    claims = {
        "given_name": "Sanne",
        "family_name": "Berg",
        "institution": {"name": "Universiteit Leiden"},
        "subjects": [{"code": "netl"}, {"code": "entl"}],
        "eqf_level": 6,
    }
    assert svg_values(claims, metadata) == {
        "given_name": "Sanne",
        "institution_name": "Universiteit Leiden",
        "first_code": "netl",
        "eqf_level": "6",
    }


# ---------------------------------------------------------------- template retrieval


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def test_template_from_data_uri_with_integrity() -> None:
    svg = TEMPLATE.encode()
    entry = {"uri": _data_uri(svg), "uri#integrity": _sri(svg, "sha384")}
    assert svg_template_bytes(entry, fetched=None) == svg
    percent = {"uri": "data:image/svg+xml," + urllib.parse.quote(TEMPLATE)}
    assert svg_template_bytes(percent, fetched=None) == svg


def test_template_fetched_by_the_caller_is_checked() -> None:
    svg = TEMPLATE.encode()
    entry = {"uri": "https://issuer.duo.test/t.svg", "uri#integrity": _sri(svg)}
    assert svg_template_bytes(entry, fetched=svg) == svg
    with pytest.raises(VerificationIncomplete) as caught:
        svg_template_bytes(entry, fetched=None)
    assert caught.value.code == "svg_template_unavailable"


def test_template_with_wrong_integrity_or_script_is_rejected() -> None:
    """SPECS §8 item 85 / SDV-8: uri#integrity mismatch; SVG with script."""
    svg = TEMPLATE.encode()
    wrong = {"uri": _data_uri(svg), "uri#integrity": _sri(svg + b" ")}
    assert _code(svg_template_bytes, wrong, fetched=None) == "type_metadata_integrity_mismatch"
    script = _svg("<script>alert(1)</script>")
    entry = {"uri": _data_uri(script), "uri#integrity": _sri(script)}
    assert _code(svg_template_bytes, entry, fetched=None) == "svg_template_unsafe"


@pytest.mark.parametrize(
    "uri",
    ["data:text/html;base64,PHN2Zy8+", "data:image/svg+xml;base64,%%%", "data:image/svg+xml"],
)
def test_bad_data_uri_is_malformed(uri: str) -> None:
    assert _code(svg_template_bytes, {"uri": uri}, fetched=None) == "type_metadata_malformed"
    assert _code(svg_template_bytes, {}, fetched=None) == "type_metadata_malformed"
