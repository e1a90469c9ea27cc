"""SD-JWT (RFC 9901): Disclosures, building, serialization, parsing, §7.1 processing, selection.

Every check has its negative case beside the positive one. SPECS §8 items 60, 61, 64-67 and
§4 SDJ-1..SDJ-4 are named where a test covers them.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from vectors_loader import joined, json_document

from verifier import disclosure, jose, sd_jwt, sd_jwt_issuance, sd_jwt_processing
from verifier.disclosure import Disclosure
from verifier.errors import DuoError, InvalidCredential, ProtocolError
from verifier.sd_jwt_selection import present, select

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
ISSUER_JWK = jose.public_jwk(ISSUER_KEY)
SIGNER = jose.private_key_signer(ISSUER_KEY, "ES256")

DIPLOMA: dict[str, Any] = {
    "iss": "https://issuer.duo.test",
    "given_name": "Jan",
    "family_name": "van der Berg",
    "institution": {"name": "Universiteit Utrecht", "brin": "21PD"},
    "subjects": [
        {"name": {"nl": "Wiskunde", "en": "Mathematics"}, "final_mark": "8"},
        {"name": {"nl": "Natuurkunde", "en": "Physics"}, "final_mark": "7.5"},
    ],
}


def salts() -> Callable[[], bytes]:
    """A deterministic salt source (production passes fresh secrets.token_bytes(16))."""
    counter = itertools.count()
    return lambda: hashlib.sha256(b"test-salt-%d" % next(counter)).digest()[:16]


def everything_but_iss(path: tuple[str | int, ...]) -> bool:
    return path != ("iss",)


def issue(claims: dict[str, Any] = DIPLOMA, **options: Any) -> str:
    options.setdefault("disclosable", everything_but_iss)
    options.setdefault("salt", salts())
    return sd_jwt_issuance.issue(claims, header={"alg": "ES256"}, signer=SIGNER, **options)


def verify(compact: str) -> dict[str, Any]:
    parsed = sd_jwt.parse(compact, expect_kb=False)
    return sd_jwt.verify(parsed, issuer_key=ISSUER_JWK, algorithms=["ES256"])


def code_of(call: Callable[[], object]) -> str:
    with pytest.raises(DuoError) as caught:
        call()
    return caught.value.code


def sign(payload: dict[str, Any], disclosures: list[Disclosure] | None = None) -> str:
    token = jose.sign_compact({"alg": "ES256"}, payload, SIGNER)
    return sd_jwt_issuance.serialize(token, [d.raw for d in disclosures or []])


# --- Disclosures (§4.2.1-§4.2.3) ---------------------------------------------------------------
# Third-party strings from the SD-JWT specification text (the last draft before RFC 9901, same
# section numbers), kept verbatim in tests/vectors/<SD_JWT>/: §4.2.1/§4.2.3 (family_name "Möbius"),
# §5.1 (given_name "John") and §4.2.2/§4.2.4.2 (array element "FR"), each as (Disclosure, its
# SHA-256 digest, its decoded contents).
SD_JWT = "draft-ietf-oauth-selective-disclosure-jwt-22"
RFC_DISCLOSURES = [
    (
        joined(f"{SD_JWT}/section-4.2.1-disclosure.txt"),
        joined(f"{SD_JWT}/section-4.2.3-digest.txt"),
        json_document(f"{SD_JWT}/section-4.2.1-array.json"),
    ),
    (
        joined(f"{SD_JWT}/section-5.1-given_name-disclosure.txt"),
        joined(f"{SD_JWT}/section-5.1-given_name-sha-256.txt"),
        json_document(f"{SD_JWT}/section-5.1-given_name-contents.json"),
    ),
    (
        joined(f"{SD_JWT}/section-4.2.2-disclosure.txt"),
        json_document(f"{SD_JWT}/section-4.2.4.2-payload.json")["nationalities"][1]["..."],
        json_document(f"{SD_JWT}/section-4.2.2-array.json"),
    ),
]
# §4.2.1: other valid encodings of the same "Möbius" claim (escaped umlaut, no whitespace).
RFC_MOBIUS_VARIANTS = [
    joined(f"{SD_JWT}/section-4.2.1-disclosure-unicode-escape.txt"),
    joined(f"{SD_JWT}/section-4.2.1-disclosure-no-whitespace.txt"),
]


@pytest.mark.parametrize(("raw", "digest", "contents"), RFC_DISCLOSURES)
def test_rfc_disclosures_decode_and_hash(raw: str, digest: str, contents: list[Any]) -> None:
    """SDJ-3/SDJ-4: the RFC's Disclosures decode to their contents and hash to their digests."""
    decoded = disclosure.decode(raw)
    assert [decoded.salt, *([decoded.name] if decoded.name else []), decoded.value] == contents
    assert decoded.digest("sha-256") == digest


def test_digest_is_over_the_string_as_received_not_a_re_encoding() -> None:
    """§4.2.3: equal contents, different strings, different digests."""
    decoded = [disclosure.decode(raw) for raw in RFC_MOBIUS_VARIANTS]
    assert {(d.name, d.value) for d in decoded} == {("family_name", "Möbius")}
    digests = {d.digest("sha-256") for d in decoded} | {RFC_DISCLOSURES[0][1]}
    assert len(digests) == 3


def test_created_disclosures_round_trip() -> None:
    made = disclosure.object_disclosure("c2FsdA", "given_name", "Jan")
    assert disclosure.decode(made.raw) == made
    element = disclosure.array_disclosure("c2FsdA", {"a": [1, None]})
    assert disclosure.decode(element.raw) == element and element.is_array_element


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_object_disclosure_refuses_reserved_names(name: str) -> None:
    with pytest.raises(ValueError):
        disclosure.object_disclosure("c2FsdA", name, 1)


def _b64(text: str) -> str:
    return jose.b64url_encode(text.encode())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "disclosure_malformed"),
        ("not base64!", "disclosure_malformed"),
        (_b64('{"a": 1}'), "disclosure_malformed"),
        (_b64('["salt"]'), "disclosure_malformed"),
        (_b64('["salt", "n", 1, 2]'), "disclosure_malformed"),
        (_b64("[1, 2]"), "disclosure_malformed"),
        (_b64('["salt", 7, 2]'), "disclosure_malformed"),
        (_b64('["salt", "n", {"a": 1, "a": 2}]'), "json_duplicate_key"),
        (_b64('["salt", "n", NaN]'), "json_malformed"),
    ],
)
def test_malformed_disclosures_are_rejected(raw: str, code: str) -> None:
    """SDJ-3: a Disclosure is a JSON array [salt, name, value] or [salt, value] of strings."""
    assert code_of(lambda: disclosure.decode(raw)) == code


@pytest.mark.parametrize(("alg", "size"), [("sha-256", 32), ("sha-384", 48), ("sha-512", 64)])
def test_supported_hash_algorithms(alg: str, size: int) -> None:
    """SDJ-2 / SPECS §4 step 3: sha-256 is mandatory; sha-384 and sha-512 are supported too."""
    digest = jose.b64url_decode(disclosure.b64_hash("x", alg))
    assert digest == hashlib.new(alg.replace("-", ""), b"x").digest() and len(digest) == size


@pytest.mark.parametrize("alg", ["md5", "sha-1", "sha-256-32", "SHA-256", "sha3-256", 256, None])
def test_unknown_or_weak_sd_alg_is_rejected(alg: Any) -> None:
    """SPECS §8 item 67: ``_sd_alg`` unknown or weak -> reject."""
    assert code_of(lambda: disclosure.check_sd_alg(alg)) == "sd_alg_unsupported"
    compact = sign({"iss": "x", "_sd_alg": alg})
    assert code_of(lambda: sd_jwt.parse(compact, expect_kb=False)) == "sd_alg_unsupported"


def test_salt_source_must_give_128_bits() -> None:
    """SDJ-3: salts carry at least 128 bits; ``secrets.token_bytes`` works as the source."""
    with pytest.raises(ValueError):
        disclosure.salt_string(lambda: b"short")
    assert disclosure.salt_string(lambda: bytes(16)) == jose.b64url_encode(bytes(16))
    assert verify(issue(salt=secrets.token_bytes)) == DIPLOMA


# --- Building the payload (§4.1, §4.2.4-§4.2.6) -------------------------------------------------
def test_payload_hides_members_and_elements_and_keeps_the_rest() -> None:
    """SDJ-4: ``_sd`` is a sorted array of strings; array slots are ``{"...": digest}`` only."""
    payload, made = sd_jwt_issuance.make_sd_payload(
        {"iss": "x", "a": 1, "list": ["p", "q"]},
        disclosable=lambda p: p in {("a",), ("list", 1)},
        salt=salts(),
    )
    assert payload["iss"] == "x" and payload["_sd_alg"] == "sha-256"
    assert payload["list"][0] == "p" and list(payload["list"][1]) == ["..."]
    assert payload["_sd"] == sorted(payload["_sd"]) and "a" not in payload
    assert {d.name for d in made} == {"a", None}
    assert sd_jwt_processing.process(payload, made) == {"iss": "x", "a": 1, "list": ["p", "q"]}


def test_predicate_sees_names_and_indices() -> None:
    seen: list[tuple[str | int, ...]] = []

    def record(path: tuple[str | int, ...]) -> bool:
        seen.append(path)
        return False

    sd_jwt_issuance.make_sd_payload({"s": [{"m": 1}]}, disclosable=record, salt=salts())
    assert sorted(seen, key=len) == [("s",), ("s", 0), ("s", 0, "m")]


def test_recursive_disclosure_carries_the_children_digests() -> None:
    """§4.2.6 (SDJ-4): children are made selectively disclosable first, then the parent."""
    payload, made = sd_jwt_issuance.make_sd_payload(
        {"institution": {"name": "UU", "brin": "21PD"}}, disclosable=lambda p: True, salt=salts()
    )
    parent = next(d for d in made if d.name == "institution")
    children = {d.digest("sha-256") for d in made if d.name in ("name", "brin")}
    assert set(parent.value["_sd"]) == children
    assert payload["_sd"] == [parent.digest("sha-256")]
    assert made[-1] is parent


def test_sorted_sd_does_not_follow_claim_order() -> None:
    """§4.2.4.1: the digest order is independent of the claim order."""
    claims = {name: name for name in "abcdefgh"}
    payload, _ = sd_jwt_issuance.make_sd_payload(claims, disclosable=lambda p: True, salt=salts())
    reversed_claims = dict(reversed(list(claims.items())))
    again, _ = sd_jwt_issuance.make_sd_payload(
        reversed_claims, disclosable=lambda p: True, salt=salts()
    )
    assert payload["_sd"] == sorted(payload["_sd"]) and again["_sd"] == sorted(again["_sd"])


def test_int_decoys_go_where_something_is_hidden() -> None:
    """§4.2.5: decoys use the same hash, ship without Disclosures and vanish on processing."""
    claims = {"a": 1, "plain": {"b": 2}, "list": [1, 2]}
    payload, made = sd_jwt_issuance.make_sd_payload(
        claims, disclosable=lambda p: p in {("a",), ("list", 0)}, salt=salts(), decoys=2
    )
    assert len(payload["_sd"]) == 3 and "_sd" not in payload["plain"]
    assert len(payload["list"]) == 4
    assert all(len(jose.b64url_decode(d)) == 32 for d in payload["_sd"])
    assert sd_jwt_processing.process(payload, made) == claims


def test_callable_decoys_choose_per_container() -> None:
    claims = {"plain": {"b": 2}, "list": [1]}
    payload, made = sd_jwt_issuance.make_sd_payload(
        claims, disclosable=lambda p: False, salt=salts(), decoys=lambda p: len(p) + 1
    )
    assert len(payload["_sd"]) == 1 and len(payload["plain"]["_sd"]) == 2
    assert len(payload["list"]) == 3 and made == []
    assert sd_jwt_processing.process(payload, made) == claims


@pytest.mark.parametrize("claims", [{"_sd": 1}, {"x": {"...": 1}}, {"_sd_alg": "sha-256"}, {1: 2}])
def test_builder_refuses_reserved_claim_names(claims: dict[Any, Any]) -> None:
    """§4.1 rule 7: ``_sd`` and ``...`` only carry digests; ``_sd_alg`` only at the top (§4.1.1)."""
    with pytest.raises(ValueError):
        sd_jwt_issuance.make_sd_payload(claims, disclosable=lambda p: False, salt=salts())


def test_builder_refuses_repeated_salts_and_unknown_hashes() -> None:
    """SDJ-3: the salt is unique per claim."""
    with pytest.raises(ValueError):
        sd_jwt_issuance.make_sd_payload(
            {"a": 1, "b": 2}, disclosable=lambda p: True, salt=lambda: bytes(16)
        )
    with pytest.raises(ValueError):
        sd_jwt_issuance.make_sd_payload(
            {"a": 1}, disclosable=lambda p: True, salt=salts(), hash_alg="md5"
        )


def test_sha512_sd_jwt_round_trips() -> None:
    compact = issue(hash_alg="sha-512")
    parsed = sd_jwt.parse(compact, expect_kb=False)
    assert parsed.sd_alg == "sha-512"
    assert len(jose.b64url_decode(parsed.issuer_jwt.payload["_sd"][0])) == 64
    assert verify(compact) == DIPLOMA


def test_issue_refuses_unsigned_headers() -> None:
    """SDJ-2: the Issuer-signed JWT is never alg none."""
    with pytest.raises(ValueError):
        sd_jwt_issuance.issue(
            DIPLOMA, header={"alg": "none"}, signer=SIGNER, disclosable=bool, salt=salts()
        )


# --- Serialization and parsing (§4) -------------------------------------------------------------
def test_serialization_shape() -> None:
    """SDJ-1: ``<JWT>~<D1>~...~<Dn>~`` and ``...~<KB-JWT>``."""
    assert sd_jwt_issuance.serialize("J", []) == "J~"
    assert sd_jwt_issuance.serialize("J", ["a", "b"]) == "J~a~b~"
    assert sd_jwt_issuance.serialize("J", ["a"], "K") == "J~a~K"
    compact = issue()
    parsed = sd_jwt.parse(compact, expect_kb=False)
    assert parsed.without_kb == compact and parsed.kb_jwt is None
    assert "~".join(d.raw for d in parsed.disclosures) in compact


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.rstrip("~"),  # no tilde at all when there are no Disclosures
        lambda c: c + "~",  # an empty Disclosure between two tildes
        lambda c: "~" + c,  # empty issuer JWT
        lambda c: c.replace(".", "", 1),  # issuer JWT with two parts
        lambda c: c[:-1] + "é~",  # non-ASCII
    ],
)
def test_structurally_broken_sd_jwts_are_rejected(mutate: Callable[[str], str]) -> None:
    compact = sign({"iss": "x"})
    assert code_of(lambda: sd_jwt.parse(mutate(compact), expect_kb=False)) == "sd_jwt_malformed"


def test_non_string_input_is_rejected() -> None:
    assert code_of(lambda: sd_jwt.parse(b"abc~", expect_kb=False)) == "sd_jwt_malformed"


def test_input_over_256_kib_is_rejected() -> None:
    compact = issue()
    filler = "A" * (sd_jwt.MAX_SD_JWT_BYTES - len(compact) + 1)
    too_big = compact + filler + "~"
    assert code_of(lambda: sd_jwt.parse(too_big, expect_kb=False)) == "input_too_large"


def test_kb_presence_follows_the_callers_policy() -> None:
    """SPECS §4 steps 7/8/10 and §8 item 71: missing or unexpected KB-JWT -> reject."""
    compact = issue()
    assert code_of(lambda: sd_jwt.parse(compact, expect_kb=True)) == "kb_jwt_missing"
    bogus_kb = sign({"nonce": "n"}).rstrip("~")
    assert code_of(lambda: sd_jwt.parse(compact + bogus_kb, expect_kb=False)) == "kb_jwt_unexpected"
    assert sd_jwt.parse(compact + bogus_kb, expect_kb=True).kb_jwt is not None
    assert code_of(lambda: sd_jwt.parse(compact + "x.y", expect_kb=True)) == "kb_jwt_malformed"


# --- Issuer signature (§7.1 step 2) --------------------------------------------------------------
def test_issuer_signature_is_checked() -> None:
    """SPECS §8 item 60: a corrupted issuer signature -> reject."""
    compact = issue()
    jwt_part, rest = compact.split("~", 1)
    head, body, signature = jwt_part.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    tampered = f"{head}.{body}.{flipped}~{rest}"
    assert code_of(lambda: verify(tampered)) == "sd_jwt_signature_invalid"
    other = jose.public_jwk(ec.generate_private_key(ec.SECP256R1()))
    parsed = sd_jwt.parse(compact, expect_kb=False)
    check = lambda: sd_jwt.verify(parsed, issuer_key=other, algorithms=["ES256"])  # noqa: E731
    assert code_of(check) == "sd_jwt_signature_invalid"


def test_issuer_alg_none_is_rejected() -> None:
    """SPECS §8 item 61: alg none never verifies, whatever the policy lists."""
    header = jose.b64url_encode(b'{"alg":"none"}')
    body = jose.b64url_encode(b'{"iss":"x"}')
    parsed = sd_jwt.parse(f"{header}.{body}.~", expect_kb=False)
    check = lambda: sd_jwt.verify(parsed, issuer_key=ISSUER_JWK, algorithms=["ES256", "none"])  # noqa: E731
    assert code_of(check) == "sd_jwt_signature_invalid"


# --- Processing (§7.1 steps 3-5) ------------------------------------------------------------------
def obj(name: str, value: Any, salt: str = "c2FsdC0x") -> Disclosure:
    return disclosure.object_disclosure(salt, name, value)


def arr(value: Any, salt: str = "c2FsdC0y") -> Disclosure:
    return disclosure.array_disclosure(salt, value)


def dg(item: Disclosure) -> str:
    return item.digest("sha-256")


def test_processing_end_to_end_through_a_signed_sd_jwt() -> None:
    assert verify(issue()) == DIPLOMA


def test_undisclosed_digests_are_ignored_and_sd_keys_removed() -> None:
    """§7.1 steps 3.3.1, 3.4-3.6: no Disclosure -> the claim or element is simply absent."""
    given, element = obj("given_name", "Jan"), arr("DE")
    payload = {
        "_sd": [dg(given), "decoy-digest"],
        "_sd_alg": "sha-256",
        "nested": {"_sd": ["other-decoy"]},
        "list": [{"...": dg(element)}, {"...": "missing"}, "NL"],
    }
    expected = {"nested": {}, "list": ["NL"], "given_name": "Jan"}
    assert sd_jwt_processing.process(payload, [given]) == expected
    assert sd_jwt_processing.process(payload, [given, element])["list"] == ["DE", "NL"]
    assert "_sd" in payload and "_sd_alg" in payload  # the input is not mutated


def test_unreferenced_disclosure_is_rejected() -> None:
    """SPECS §8 item 64 / §7.1 step 5: a Disclosure whose digest is nowhere -> reject."""
    stray = obj("given_name", "Jan")
    assert code_of(lambda: verify(sign({"iss": "x"}, [stray]))) == "disclosure_unreferenced"
    # A Disclosure only reachable through an undisclosed parent is unreferenced too (§4.2.6).
    child = obj("name", "UU")
    parent = obj("institution", {"_sd": [dg(child)]}, salt="c2FsdC0z")
    payload = {"_sd": [dg(parent)]}
    assert sd_jwt_processing.process(payload, [parent, child]) == {"institution": {"name": "UU"}}
    assert code_of(lambda: sd_jwt_processing.process(payload, [child])) == "disclosure_unreferenced"


@pytest.mark.parametrize(
    "payload_of",
    [
        lambda d: {"_sd": [d, d]},
        lambda d: {"_sd": [d], "x": {"_sd": [d]}},
        lambda d: {"list": [{"...": d}, {"...": d}]},
        lambda d: {"_sd": [d], "list": [{"...": d}]},
    ],
)
def test_duplicate_digest_is_rejected(payload_of: Callable[[str], dict[str, Any]]) -> None:
    """SPECS §8 item 64 / §7.1 step 4: a digest value encountered more than once -> reject.

    This holds for digests without a Disclosure (decoys) as much as for disclosed ones.
    """
    payload = payload_of(dg(obj("given_name", "Jan")))
    assert code_of(lambda: sd_jwt_processing.process(payload, [])) == "digest_duplicate"
    assert code_of(lambda: verify(sign(payload))) == "digest_duplicate"


def test_duplicate_disclosed_digest_is_rejected() -> None:
    given = obj("given_name", "Jan")
    check = lambda: sd_jwt_processing.process({"_sd": [dg(given), dg(given)]}, [given])  # noqa: E731
    assert code_of(check) == "digest_duplicate"


def test_duplicate_digest_inside_a_disclosure_is_rejected() -> None:
    """§7.1 step 4: "directly or recursively via other Disclosures"."""
    child = obj("name", "UU")
    parent = obj("institution", {"_sd": [dg(child)]}, salt="c2FsdC0z")
    payload = {"_sd": [dg(parent), dg(child)]}
    check = lambda: sd_jwt_processing.process(payload, [parent, child])  # noqa: E731
    assert code_of(check) == "digest_duplicate"


def test_same_disclosure_sent_twice_is_rejected() -> None:
    """§4: a Holder MUST NOT send a Disclosure more than once."""
    given = obj("given_name", "Jan")
    check = lambda: sd_jwt_processing.process({"_sd": [dg(given)]}, [given, given])  # noqa: E731
    assert code_of(check) == "disclosure_duplicate"


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_forbidden_disclosure_names_are_rejected(name: str) -> None:
    """SPECS §8 item 65 / §7.1 step 3.3.2.2: a Disclosure named ``_sd`` or ``...`` -> reject."""
    raw = _b64(f'["c2FsdA", "{name}", 1]')
    bad = disclosure.decode(raw)
    assert code_of(lambda: verify(sign({"_sd": [dg(bad)]}, [bad]))) == "disclosure_name_forbidden"
    nested = {"x": {"_sd": [dg(bad)]}}
    assert code_of(lambda: sd_jwt_processing.process(nested, [bad])) == "disclosure_name_forbidden"


def test_top_level_sd_alg_disclosure_is_rejected() -> None:
    """Our choice: a disclosed top-level ``_sd_alg`` would smuggle a reserved claim in."""
    bad = disclosure.decode(_b64('["c2FsdA", "_sd_alg", "sha-256"]'))
    check = lambda: sd_jwt_processing.process({"_sd": [dg(bad)]}, [bad])  # noqa: E731
    assert code_of(check) == "disclosure_name_forbidden"


def test_repeated_claim_name_is_rejected() -> None:
    """SPECS §8 item 65 / §7.1 step 3.3.2.3: the name already exists at that level -> reject."""
    given = obj("given_name", "Jan")
    plain = {"given_name": "Piet", "_sd": [dg(given)]}
    assert code_of(lambda: verify(sign(plain, [given]))) == "disclosure_name_conflict"
    twin = obj("given_name", "Klaas", salt="c2FsdC05")
    both = {"_sd": [dg(given), dg(twin)]}
    check = lambda: sd_jwt_processing.process(both, [given, twin])  # noqa: E731
    assert code_of(check) == "disclosure_name_conflict"
    assert sd_jwt_processing.process(both, [twin]) == {"given_name": "Klaas"}


def test_wrong_element_count_for_the_position_is_rejected() -> None:
    """SPECS §8 item 66: 3 elements at an array slot, or 2 in ``_sd`` -> reject.

    RFC 9901 §7.1 steps 3.3.2.1 and 3.3.3.1.
    """
    named, element = obj("given_name", "Jan"), arr("DE")
    in_array = {"list": [{"...": dg(named)}]}
    in_sd = {"_sd": [dg(element)]}
    assert code_of(lambda: verify(sign(in_array, [named]))) == "disclosure_kind_mismatch"
    assert code_of(lambda: verify(sign(in_sd, [element]))) == "disclosure_kind_mismatch"


@pytest.mark.parametrize(
    "payload",
    [
        {"_sd": "abc"},
        {"_sd": [1]},
        {"x": {"_sd": {"a": "b"}}},
        {"list": [{"...": "abc", "extra": 1}]},
        {"list": [{"...": 5}]},
        {"...": "abc"},
        {"x": {"...": "abc"}},
    ],
)
def test_malformed_digest_containers_are_rejected(payload: dict[str, Any]) -> None:
    """SDJ-4: ``_sd`` is an array of strings; an array slot is exactly ``{"...": digest}``."""
    assert code_of(lambda: sd_jwt_processing.process(payload, [])) == "sd_jwt_malformed"
    assert code_of(lambda: verify(sign(payload))) == "sd_jwt_malformed"


def test_processing_refuses_a_non_object_payload() -> None:
    check = lambda: sd_jwt_processing.process([], [])  # type: ignore[arg-type]  # noqa: E731
    assert code_of(check) == "sd_jwt_malformed"


def test_processing_depth_is_bounded() -> None:
    """A chain of Disclosures nesting each other cannot exhaust the stack."""
    chain: list[Disclosure] = []
    inner: Any = "leaf"
    for i in range(sd_jwt_processing.MAX_PROCESSED_DEPTH + 5):
        made = obj("n", inner, salt=f"c2FsdC{i}")
        chain.append(made)
        inner = {"_sd": [dg(made)]}
    assert code_of(lambda: sd_jwt_processing.process(inner, chain)) == "sd_jwt_too_deep"
    short = chain[:10]
    assert sd_jwt_processing.process({"_sd": [dg(short[-1])]}, short)["n"]["n"]["n"]


# --- Holder selection (§7.2) ---------------------------------------------------------------------
def test_selecting_a_nested_member_discloses_its_ancestors_only() -> None:
    """§4.2.6: institution.name brings the institution Disclosure, never institution.brin."""
    compact = issue()
    claims = verify(present(compact, ["institution.name"]))
    assert claims == {"iss": DIPLOMA["iss"], "institution": {"name": "Universiteit Utrecht"}}


def test_selecting_an_element_discloses_everything_inside_it() -> None:
    compact = issue()
    assert verify(present(compact, ["subjects.1"]))["subjects"] == [DIPLOMA["subjects"][1]]
    narrow = verify(present(compact, ["subjects.0.final_mark", "given_name"]))
    assert narrow == {"iss": DIPLOMA["iss"], "given_name": "Jan", "subjects": [{"final_mark": "8"}]}


def test_selecting_nothing_and_everything() -> None:
    compact = issue()
    nothing = present(compact, [])
    assert nothing == compact.split("~")[0] + "~"
    assert verify(nothing) == {"iss": DIPLOMA["iss"]}
    assert verify(present(compact, list(DIPLOMA))) == DIPLOMA


def test_indices_count_the_elements_the_holder_sees_not_decoys() -> None:
    claims = {"list": ["a", "b", "c"]}
    compact = issue(claims, disclosable=lambda p: len(p) == 2, decoys=4)
    assert verify(present(compact, ["list.2"])) == {"list": ["c"]}
    assert verify(present(compact, [("list", 0), ("list", 2)])) == {"list": ["a", "c"]}


def test_tuple_paths_address_names_with_dots() -> None:
    claims = {"3.14": {"x.y": 1, "z": 2}}
    compact = issue(claims, disclosable=lambda p: True)
    assert verify(present(compact, [("3.14", "x.y")])) == {"3.14": {"x.y": 1}}


def test_selection_keeps_issued_order_without_repeats() -> None:
    compact = issue()
    parsed = sd_jwt.parse(compact, expect_kb=False)
    chosen = select(parsed, ["subjects.0", "subjects.0.name", "subjects"])
    issued = [d.raw for d in parsed.disclosures]
    assert chosen == [raw for raw in issued if raw in chosen] and len(set(chosen)) == len(chosen)


@pytest.mark.parametrize(
    "path",
    [
        "nickname",
        "institution.city",
        "subjects.2",
        "subjects.-1",
        "subjects.01x",
        "institution.0",
        "subjects.name",
        "given_name.x",
        "",
        "institution..name",
        ("subjects", True),
        ("subjects", "x", 1.5),
        (),
    ],
)
def test_unknown_paths_are_reported(path: Any) -> None:
    """Holder CLI: a path that names no claim -> ``disclosure_path_unknown``."""
    parsed = sd_jwt.parse(issue(), expect_kb=False)
    with pytest.raises(ProtocolError) as caught:
        select(parsed, [path])
    assert caught.value.code == "disclosure_path_unknown"


def test_selection_validates_the_sd_jwt_first() -> None:
    stray = obj("given_name", "Jan")
    parsed = sd_jwt.parse(sign({"iss": "x"}, [stray]), expect_kb=False)
    with pytest.raises(InvalidCredential) as caught:
        select(parsed, ["iss"])
    assert caught.value.code == "disclosure_unreferenced"
