"""Conformance against the sd-jwt-python specification cases (RFC 9901 §4, §7.1, §7.3).

The data is read by path from ../shared/vectors/sd-jwt-python (see its README for provenance:
openwallet-foundation-labs/sd-jwt-python at cde61390, Apache-2.0), or from $DUO_VECTORS_DIR.
Each case is issued with the settings' issuer key, holder-selected, optionally key-bound, verified,
and the verified claims compared with ``expect_verified_user_claims`` plus ``iss`` (and ``cnf``
with key binding), as the upstream end-to-end test does. Salts and ECDSA signatures are random
upstream, so the issued strings themselves cannot be compared.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from vectors_loader import joined, json_document

from verifier import jose, kb_jwt, sd_jwt, sd_jwt_issuance, sd_jwt_selection
from verifier.errors import InvalidCredential

ClaimPath = tuple[str | int, ...]


def _vectors_dir() -> Path:
    configured = os.environ.get("DUO_VECTORS_DIR")
    default = Path(__file__).resolve().parents[2] / "shared" / "vectors"
    base = Path(configured) if configured else default
    return base / "sd-jwt-python" if (base / "sd-jwt-python").is_dir() else base


VECTORS = _vectors_dir()
MISSING = f"sd-jwt-python vectors not found under {VECTORS} (set DUO_VECTORS_DIR)"


def _cases(folder: str) -> list[Any]:
    found = sorted((VECTORS / folder).glob("*/specification.yml"))
    return found or [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=MISSING))]


TESTCASES = _cases("tests/testcases")
EXAMPLES = _cases("examples")
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SD:
    """A value or key the YAML marked with ``!sd`` (selectively disclosable)."""

    value: Any


class SpecLoader(yaml.SafeLoader):
    """SafeLoader that understands the ``!sd`` tag of the specification files."""


def _construct_sd(loader: SpecLoader, node: yaml.Node) -> SD:
    if isinstance(node, yaml.ScalarNode):
        quoted = node.style in ('"', "'")
        tag = (
            "tag:yaml.org,2002:str"
            if quoted
            else loader.resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
        )
        plain = yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
        return SD(loader.construct_object(plain, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return SD(loader.construct_sequence(node, deep=True))
    assert isinstance(node, yaml.MappingNode)
    return SD(loader.construct_mapping(node, deep=True))


SpecLoader.add_constructor("!sd", _construct_sd)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=SpecLoader)
    assert isinstance(data, dict)
    return data


def _unwrap(node: Any, path: ClaimPath, marked: set[ClaimPath]) -> Any:
    """Plain claims, recording the path of every ``!sd`` key or element in ``marked``."""
    if isinstance(node, SD):
        marked.add(path)
        node = node.value
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if isinstance(key, SD):
                key = key.value
                marked.add((*path, key))
            out[key] = _unwrap(value, (*path, key), marked)
        return out
    if isinstance(node, list):
        return [_unwrap(value, (*path, i), marked) for i, value in enumerate(node)]
    return node


def _non_sd_predicate(non_sd: dict[str, Any]) -> Callable[[ClaimPath], bool]:
    """For ``non_sd_claims`` files: everything is disclosable except the listed claims."""

    def disclosable(path: ClaimPath) -> bool:
        node: Any = non_sd
        for segment in path:
            if node is True:
                return False
            if not isinstance(node, dict) or segment not in node:
                return True
            node = node[segment]
        return not (node is True or isinstance(node, dict))

    return disclosable


def _selected_paths(selection: Any, prefix: ClaimPath = ()) -> Iterator[ClaimPath]:
    """``holder_disclosed_claims`` as claim paths: a truthy leaf discloses its node."""
    if isinstance(selection, dict):
        for key, value in selection.items():
            yield from _selected_paths(value, (*prefix, key))
    elif isinstance(selection, list):
        for index, value in enumerate(selection):
            yield from _selected_paths(value, (*prefix, index))
    elif selection not in (None, False):
        yield prefix


def _private_key(jwk: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
    secret = int.from_bytes(jose.b64url_decode(jwk["d"]), "big")
    key = ec.derive_private_key(secret, ec.SECP256R1())
    assert jose.public_jwk(key)["x"] == jwk["x"]
    return key


def _salts() -> Callable[[], bytes]:
    counter = itertools.count()
    return lambda: hashlib.sha256(b"vector-salt-%d" % next(counter)).digest()[:16]


@pytest.fixture(scope="module")
def settings() -> dict[str, Any]:
    if not (VECTORS / "tests" / "testcases" / "settings.yml").is_file():
        pytest.skip(MISSING)
    return _load(VECTORS / "tests" / "testcases" / "settings.yml")


Claims = dict[str, Any]


def _run(
    case: dict[str, Any], settings: dict[str, Any], *, disclose_all: bool
) -> tuple[Claims, Claims, Claims]:
    """Issue, select, bind and verify; returns (verified claims, issued plain claims, header)."""
    keys = settings["key_settings"]
    issuer_jwk, holder = keys["issuer_keys"][0], keys["holder_key"]
    marked: set[ClaimPath] = set()
    claims = {"iss": settings["identifiers"]["issuer"], **_unwrap(case["user_claims"], (), marked)}
    bound = bool(case.get("key_binding", False))
    if bound and "cnf" not in claims:
        claims["cnf"] = {"jwk": {k: v for k, v in holder.items() if k != "d"}}
    disclosable = (
        _non_sd_predicate(case["non_sd_claims"]) if "non_sd_claims" in case else marked.__contains__
    )
    header = {"alg": "ES256", **(case.get("extra_header_parameters") or {})}
    issued = sd_jwt_issuance.issue(
        claims,
        header=header,
        signer=jose.private_key_signer(_private_key(issuer_jwk), "ES256"),
        disclosable=disclosable,
        salt=_salts(),
        decoys=3 if case.get("add_decoy_claims") else 0,
    )
    selection = (
        [(name,) for name in claims]
        if disclose_all
        else list(_selected_paths(case["holder_disclosed_claims"]))
    )
    presented = sd_jwt_selection.present(issued, selection)
    nonce, aud = settings["key_binding_nonce"], settings["identifiers"]["verifier"]
    if bound:
        signer = jose.private_key_signer(_private_key(holder), "ES256")
        presented += kb_jwt.create_kb_jwt(
            presented, signer=signer, alg="ES256", nonce=nonce, aud=aud, iat=int(NOW.timestamp())
        )
    parsed = sd_jwt.parse(presented, expect_kb=bound)
    public = {k: v for k, v in issuer_jwk.items() if k != "d"}
    verified = sd_jwt.verify(parsed, issuer_key=public, algorithms=["ES256"])
    if bound:
        kb_jwt.verify_kb_jwt(
            parsed,
            holder_jwk=kb_jwt.cnf_jwk(verified),
            nonce=nonce,
            aud=aud,
            now=NOW,
            max_age=timedelta(minutes=5),
            max_future_skew=timedelta(minutes=1),
            algorithms=["ES256"],
        )
    return verified, claims, parsed.issuer_jwt.header


@pytest.mark.parametrize("path", TESTCASES, ids=lambda p: getattr(p, "parent", p).name)
def test_specification_case(path: Path, settings: dict[str, Any]) -> None:
    """SPECS §4 SDJ-1..SDJ-6 and §7.1/§7.3: the verified claims are exactly the expected ones."""
    case = _load(path)
    if case.get("serialization_format", "compact") == "json":
        pytest.skip("JWS JSON serialization (RFC 9901 §8) is not implemented; compact only")
    verified, _, header = _run(case, settings, disclose_all=False)
    expected = dict(case["expect_verified_user_claims"])
    expected["iss"] = settings["identifiers"]["issuer"]
    if case.get("key_binding"):
        holder = settings["key_settings"]["holder_key"]
        expected["cnf"] = {"jwk": {k: v for k, v in holder.items() if k != "d"}}
    assert verified == expected
    assert header == {"alg": "ES256", **(case.get("extra_header_parameters") or {})}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: getattr(p, "parent", p).name)
def test_example_round_trips_when_all_disclosed(path: Path, settings: dict[str, Any]) -> None:
    """The RFC's example inputs: issue, disclose everything, verify; the claims come back whole."""
    case = _load(path)
    if case.get("serialization_format", "compact") == "json":
        pytest.skip("JWS JSON serialization (RFC 9901 §8) is not implemented; compact only")
    verified, claims, _ = _run(case, settings, disclose_all=True)
    assert verified == claims


def test_decoys_are_added_when_the_case_asks(settings: dict[str, Any]) -> None:
    """RFC 9901 §4.2.5: decoy digests are present in the payload and ignored by the verifier."""
    case = _load(VECTORS / "examples" / "simple_structured" / "specification.yml")
    assert case.get("add_decoy_claims")
    marked: set[ClaimPath] = set()
    claims = _unwrap(case["user_claims"], (), marked)
    payload, made = sd_jwt_issuance.make_sd_payload(
        claims, disclosable=marked.__contains__, salt=_salts(), decoys=3
    )
    digests = len(payload["_sd"]) + len(payload["address"]["_sd"])
    assert digests == len(made) + 6


# --- The main example of the SD-JWT specification -------------------------------------------------
# draft-ietf-oauth-selective-disclosure-jwt-22 §5.1, §5.2 and §A.5, the last draft before RFC 9901
# (whose §5 is this example; not compared byte for byte with the RFC's text), kept verbatim in
# tests/vectors/<SD_JWT>/ (provenance in tests/vectors/README.md). The document wraps long strings
# at 72 columns; ``joined`` removes only those breaks.
SD_JWT = "draft-ietf-oauth-selective-disclosure-jwt-22"
RFC_ISSUER_JWK = json_document(f"{SD_JWT}/appendix-a.5-issuer-jwk.json")
RFC_SD_JWT = joined(f"{SD_JWT}/section-5.1-sd-jwt.txt")
RFC_PRESENTATION = joined(f"{SD_JWT}/section-5.2-sd-jwt-kb.txt")
RFC_KB_PAYLOAD: dict[str, Any] = json_document(f"{SD_JWT}/section-5.2-kb-jwt-payload.json")
RFC_KB_IAT: int = RFC_KB_PAYLOAD["iat"]
RFC_PROCESSED: dict[str, Any] = json_document(f"{SD_JWT}/section-5.2-processed-payload.json")


def _verify_rfc_kb(parsed: sd_jwt.SdJwt, claims: dict[str, Any]) -> dict[str, Any]:
    return kb_jwt.verify_kb_jwt(
        parsed,
        holder_jwk=kb_jwt.cnf_jwk(claims),
        nonce=RFC_KB_PAYLOAD["nonce"],
        aud=RFC_KB_PAYLOAD["aud"],
        now=datetime.fromtimestamp(RFC_KB_IAT, UTC),
        max_age=timedelta(minutes=5),
        max_future_skew=timedelta(seconds=0),
        algorithms=["ES256"],
    )


def test_rfc_example_presentation_verifies() -> None:
    """RFC 9901 §5.2: the SD-JWT+KB verifies and yields the document's Processed Payload."""
    parsed = sd_jwt.parse(RFC_PRESENTATION, expect_kb=True)
    claims = sd_jwt.verify(parsed, issuer_key=RFC_ISSUER_JWK, algorithms=["ES256"])
    assert claims == RFC_PROCESSED
    assert list(claims) == list(RFC_PROCESSED)  # plain claims first, then disclosed ones
    kb = _verify_rfc_kb(parsed, claims)
    assert kb["sd_hash"] == RFC_KB_PAYLOAD["sd_hash"]


def test_rfc_example_issued_sd_jwt_discloses_everything() -> None:
    """RFC 9901 §5.1: all ten Disclosures process back into the input claims."""
    parsed = sd_jwt.parse(RFC_SD_JWT, expect_kb=False)
    claims = sd_jwt.verify(parsed, issuer_key=RFC_ISSUER_JWK, algorithms=["ES256"])
    assert len(parsed.disclosures) == 10
    assert claims["nationalities"] == ["US", "DE"]
    assert claims["phone_number_verified"] is True and claims["updated_at"] == 1570000000
    assert claims["address"] == RFC_PROCESSED["address"]


def test_holder_selection_matches_the_rfc_presentation() -> None:
    """RFC 9901 §7.2: selecting the §5.2 claims picks exactly the §5.2 Disclosures."""
    chosen = sd_jwt_selection.select(
        sd_jwt.parse(RFC_SD_JWT, expect_kb=False),
        ["given_name", "family_name", "address", "nationalities.0"],
    )
    presented = sd_jwt.parse(RFC_PRESENTATION, expect_kb=True)
    assert sorted(chosen) == sorted(d.raw for d in presented.disclosures)


def test_rfc_example_with_reordered_disclosures_fails_sd_hash() -> None:
    """SPECS §8 item 78: reordering the presented Disclosures breaks ``sd_hash`` (§7.3 step 5.7)."""
    head, *disclosures, kb = RFC_PRESENTATION.split("~")
    reordered = "~".join([head, *reversed(disclosures), kb])
    parsed = sd_jwt.parse(reordered, expect_kb=True)
    claims = sd_jwt.verify(parsed, issuer_key=RFC_ISSUER_JWK, algorithms=["ES256"])
    assert claims == RFC_PROCESSED  # the claims alone cannot tell
    with pytest.raises(InvalidCredential) as caught:
        _verify_rfc_kb(parsed, claims)
    assert caught.value.code == "kb_jwt_sd_hash_mismatch"
