"""Properties of SD-JWT issuance, selection, key binding and verification (RFC 9901 §4, §7).

1. For arbitrary claim trees and choices of what is disclosable: issue -> select -> present with a
   KB-JWT -> verify yields exactly the selected view of the claims (an oracle computes it).
2. Parsing and processing arbitrary or mangled input raises nothing but DuoError subclasses.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier import disclosure, jose, kb_jwt, sd_jwt, sd_jwt_issuance, sd_jwt_processing
from verifier.errors import DuoError
from verifier.sd_jwt_selection import present, select

Path = tuple[str | int, ...]
ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
ISSUER_JWK = jose.public_jwk(ISSUER_KEY)
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_JWK = jose.public_jwk(HOLDER_KEY)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(max_size=8).filter(lambda n: n not in sd_jwt_issuance.RESERVED_NAMES)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=16,
)
claim_trees = st.dictionaries(names, values, max_size=6)


def _salts() -> Callable[[], bytes]:
    counter = itertools.count()
    return lambda: hashlib.sha256(b"prop-salt-%d" % next(counter)).digest()[:16]


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    children: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    found: list[Path] = []
    for key, value in children:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


def _expected(node: Any, prefix: Path, hidden: set[Path], chosen: list[Path]) -> Any:
    """The oracle: what a verifier sees when the Holder discloses ``chosen`` (§7.2, §4.2.6)."""

    def visible(path: Path) -> bool:
        related = any(p[: len(path)] == path or path[: len(p)] == p for p in chosen)
        return path not in hidden or related

    if isinstance(node, dict):
        return {
            k: _expected(v, (*prefix, k), hidden, chosen)
            for k, v in node.items()
            if visible((*prefix, k))
        }
    if isinstance(node, list):
        return [
            _expected(v, (*prefix, i), hidden, chosen)
            for i, v in enumerate(node)
            if visible((*prefix, i))
        ]
    return node


@PROPERTY
@given(claims=claim_trees, data=st.data(), decoys=st.integers(min_value=0, max_value=2))
def test_issue_select_bind_verify_round_trip(
    claims: dict[str, Any], data: st.DataObject, decoys: int
) -> None:
    """SDJ-1..SDJ-6 and §7.1/§7.3: the verifier sees exactly the disclosed view of the claims."""
    every = _paths(claims)
    hidden = set(data.draw(st.lists(st.sampled_from(every), unique=True)) if every else [])
    chosen = data.draw(st.lists(st.sampled_from(every), max_size=4)) if every else []
    hash_alg = data.draw(st.sampled_from(sorted(disclosure.HASH_ALGORITHMS)))
    bound = {**claims, "cnf": {"jwk": HOLDER_JWK}}
    issued = sd_jwt_issuance.issue(
        bound,
        header={"alg": "ES256", "typ": "dc+sd-jwt"},
        signer=jose.private_key_signer(ISSUER_KEY, "ES256"),
        disclosable=hidden.__contains__,
        salt=_salts(),
        decoys=decoys,
        hash_alg=hash_alg,
    )
    presented = present(issued, chosen)
    presented += kb_jwt.create_kb_jwt(
        presented,
        signer=jose.private_key_signer(HOLDER_KEY, "ES256"),
        alg="ES256",
        nonce="nonce",
        aud="https://verifier.example",
        iat=int(NOW.timestamp()),
    )
    parsed = sd_jwt.parse(presented, expect_kb=True)
    verified = sd_jwt.verify(parsed, issuer_key=ISSUER_JWK, algorithms=["ES256"])
    kb_jwt.verify_kb_jwt(
        parsed,
        holder_jwk=kb_jwt.cnf_jwk(verified),
        nonce="nonce",
        aud="https://verifier.example",
        now=NOW,
        max_age=timedelta(seconds=60),
        max_future_skew=timedelta(seconds=5),
        algorithms=["ES256"],
    )
    assert verified == {**_expected(claims, (), hidden, chosen), "cnf": {"jwk": HOLDER_JWK}}
    everything = sd_jwt.parse(present(issued, [(name,) for name in bound]), expect_kb=False)
    assert sd_jwt.verify(everything, issuer_key=ISSUER_JWK, algorithms=["ES256"]) == bound


REFERENCE = sd_jwt_issuance.issue(
    {"iss": "x", "a": {"b": [1, {"c": 2}]}, "d": "e"},
    header={"alg": "ES256"},
    signer=jose.private_key_signer(ISSUER_KEY, "ES256"),
    disclosable=lambda p: p != ("iss",),
    salt=_salts(),
    decoys=1,
)


def _exercise(candidate: Any, expect_kb: bool) -> None:
    """Parse, verify and select; every failure must be a DuoError."""
    try:
        parsed = sd_jwt.parse(candidate, expect_kb=expect_kb)
        select(parsed, ["a.b.1.c", "d"])
        sd_jwt.verify(parsed, issuer_key=ISSUER_JWK, algorithms=["ES256"])
    except DuoError:
        pass


@PROPERTY
@given(candidate=st.text(max_size=200) | st.binary(max_size=200), expect_kb=st.booleans())
def test_parsing_arbitrary_input_raises_only_duo_errors(candidate: Any, expect_kb: bool) -> None:
    _exercise(candidate, expect_kb)


@PROPERTY
@given(
    position=st.integers(min_value=0, max_value=len(REFERENCE)),
    cut=st.integers(min_value=0, max_value=8),
    insert=st.text(alphabet="~.A_-=é{}\"", max_size=4),
    expect_kb=st.booleans(),
)
def test_mangled_sd_jwts_raise_only_duo_errors(
    position: int, cut: int, insert: str, expect_kb: bool
) -> None:
    _exercise(REFERENCE[:position] + insert + REFERENCE[position + cut :], expect_kb)


json_keys = st.sampled_from(["_sd", "...", "_sd_alg", "a", "b"]) | st.text(max_size=3)
json_values = st.recursive(
    scalars | st.sampled_from(["_sd", "...", "sha-256", "md5"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_keys, inner, max_size=3),
    max_leaves=12,
)


def _encode(value: Any) -> str:
    return jose.b64url_encode(json.dumps(value).encode("utf-8"))


@PROPERTY
@given(payload=json_values, raw=st.lists(json_values, max_size=4), link=st.booleans())
def test_processing_arbitrary_payloads_raises_only_duo_errors(
    payload: Any, raw: list[Any], link: bool
) -> None:
    """Arbitrary payloads and Disclosures, optionally wired into ``_sd``, fail only as DuoError."""
    try:
        decoded = [disclosure.decode(_encode(item)) for item in raw]
        if link and isinstance(payload, dict):
            payload = {**payload, "_sd": [d.digest("sha-256") for d in decoded]}
        sd_jwt_processing.process(payload, decoded)
    except DuoError:
        pass
