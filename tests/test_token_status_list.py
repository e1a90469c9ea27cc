"""IETF Token Status List (draft-ietf-oauth-status-list-20): vectors, round trips, negatives.

The draft's vectors are read from tests/vectors/draft-ietf-oauth-status-list-20/ (kept verbatim;
provenance in tests/vectors/README.md): the §4.1 examples, Appendix C "Test vectors for Status List
encoding" and the §8.2 example response body.
"""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from vectors_loader import joined, lines, parse_json, read_text

from verifier import jose, strict_json
from verifier.bounded_inflate import MAX_OUTPUT, CorruptStream, inflate_gzip, inflate_zlib
from verifier.errors import InvalidCredential
from verifier.token_status_list import (
    StatusList,
    StatusReference,
    StatusType,
    build_status_list_token,
    check_status_reference,
    covers_time,
    encode_status_list,
    status_value_meaning,
    verify_status_list_token,
)

URI = "https://issuer.duo.test/status/1"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
IAT = int(NOW.timestamp()) - 3600
EXP = IAT + 86400

TSL = "draft-ietf-oauth-status-list-20"


def _statuses(name: str) -> dict[int, int]:
    """The draft's ``status[i] = 0b...`` lines as {index: value}."""
    found: dict[int, int] = {}
    for line in lines(f"{TSL}/{name}"):
        match = re.fullmatch(r"status\[(\d+)\]\s*=\s*0b([01]+)", line)
        if match is None or int(match[1]) in found:
            raise ValueError(f"unexpected status line in {name}")
        found[int(match[1])] = int(match[2], 2)
    return found


def _status_sequence(name: str) -> list[int]:
    """A §4.1 example, which lists every index from 0, as the list of its values."""
    statuses = _statuses(name)
    return [statuses[i] for i in range(len(statuses))]


def _encoding_example(name: str) -> tuple[bytes, dict[str, Any]]:
    """A §4.1 JSON example: ``byte_array = [0x.., ...]``, ``encoded:``, then the StatusList."""
    head, encoded = read_text(f"{TSL}/examples/{name}").split("\nencoded:\n")
    byte_array = bytes(int(value, 16) for value in re.findall(r"0x([0-9a-f]{2})", head))
    return byte_array, parse_json(encoded)


def _lst_lines(name: str) -> tuple[str, ...]:
    """The ``lst`` value of an Appendix C JSON example, one piece per line as the draft wraps it."""
    match = re.search(r'"lst": "([^"]*)"', read_text(f"{TSL}/examples/{name}"))
    if match is None:
        raise ValueError(f"no lst in {name}")
    return tuple(piece.strip() for piece in match[1].split("\n"))


# --- Appendix C: every list holds 2^20 entries; unlisted entries are 0 (VALID). ------------------
SIZE = 2**20
APPENDIX_C = [
    (bits, _statuses(f"appendix-c-statuses-{bits}bit.txt"), _lst_lines(example))
    for bits, example in [
        (1, "status_list_encoding1_long_json.md"),
        (2, "status_list_encoding2_long_json.md"),
        (4, "status_list_encoding4_json.md"),
        (8, "status_list_encoding8_json.md"),
    ]
]

# §8.2 example response body (JWS compact serialization); signed by a key the draft does not give.
DRAFT_TOKEN = joined(f"{TSL}/examples/status_list_jwt_raw.md")


def _expected_bytes(bits: int, statuses: dict[int, int]) -> bytes:
    out = bytearray(SIZE * bits // 8)
    for idx, value in statuses.items():
        out[idx * bits // 8] |= value << (idx * bits % 8)
    return bytes(out)


def _code(excinfo: pytest.ExceptionInfo[InvalidCredential]) -> str:
    return excinfo.value.code


# --- §4.1 examples and Appendix C ----------------------------------------------------------------


def test_section_4_1_one_bit_example() -> None:
    """TSL-1: 16 one-bit statuses pack LSB-first to b9 a3; ZLIB bytes 78dadbb918000217015d."""
    statuses = _status_sequence("section-4.1-statuses-1bit.txt")
    byte_array, example = _encoding_example("status_list_encoding_json.md")
    compressed_hex = joined(f"{TSL}/section-4.1-compressed-1bit.txt")
    encoded = encode_status_list(statuses, 1)
    assert encoded == example
    assert jose.b64url_decode(encoded["lst"]).hex() == compressed_hex
    decoded = StatusList.decode(encoded)
    assert decoded.data == byte_array
    assert [decoded.get(i) for i in range(decoded.size)] == statuses


def test_section_4_1_two_bit_example() -> None:
    """TSL-1: 12 two-bit statuses pack to c9 44 f9; ZLIB bytes 78da3be9f2130003df0207."""
    statuses = _status_sequence("section-4.1-statuses-2bit.txt")
    byte_array, example = _encoding_example("status_list_encoding2_json.md")
    compressed_hex = joined(f"{TSL}/section-4.1-compressed-2bit.txt")
    encoded = encode_status_list(statuses, 2)
    assert encoded == example
    assert jose.b64url_decode(encoded["lst"]).hex() == compressed_hex
    decoded = StatusList.decode(encoded)
    assert decoded.data == byte_array
    assert [decoded.get(i) for i in range(decoded.size)] == statuses


@pytest.mark.parametrize(("bits", "statuses", "lst"), APPENDIX_C, ids=["1", "2", "4", "8"])
def test_appendix_c_vectors(bits: int, statuses: dict[int, int], lst: tuple[str, ...]) -> None:
    """TSL-1: the Appendix C lists decode to exactly the listed statuses, zeros elsewhere."""
    decoded = StatusList.decode({"bits": bits, "lst": "".join(lst)})
    assert decoded.size == SIZE
    assert decoded.data == _expected_bytes(bits, statuses)
    for idx, value in statuses.items():
        assert decoded.get(idx) == value
    assert decoded.get(SIZE - 1) == 0
    full = [0] * SIZE
    for idx, value in statuses.items():
        full[idx] = value
    assert StatusList.decode(encode_status_list(full, bits)).data == decoded.data


def test_draft_example_token_shape() -> None:
    """TSL-2: the draft's example token has typ statuslist+jwt, sub, iat, exp, ttl and a list."""
    jws = jose.parse_compact(DRAFT_TOKEN)
    assert jws.header["typ"] == "statuslist+jwt"
    assert jws.payload["sub"] == "https://example.com/statuslists/1"
    decoded = StatusList.decode(jws.payload["status_list"])
    assert [decoded.get(i) for i in (0, 1, 3, 15)] == [1, 0, 1, 1]


def test_draft_example_token_rejected_without_its_key() -> None:
    """SPECS §8 item 80: a signature by a key other than the resolved one is refused."""
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(InvalidCredential) as excinfo:
        verify_status_list_token(
            DRAFT_TOKEN,
            uri="https://example.com/statuslists/1",
            resolve_key=lambda header, payload: other,
            now=datetime(2030, 1, 1, tzinfo=UTC),
            algorithms=["ES256"],
        )
    assert _code(excinfo) == "status_list_signature_invalid"


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip_every_bits_value(data: st.DataObject) -> None:
    """TSL-1: encode then decode returns every status, for bits 1, 2, 4 and 8."""
    bits = data.draw(st.sampled_from([1, 2, 4, 8]))
    statuses = data.draw(st.lists(st.integers(0, 2**bits - 1), max_size=300))
    decoded = StatusList.decode(encode_status_list(statuses, bits))
    assert [decoded.get(i) for i in range(len(statuses))] == statuses
    assert all(decoded.get(i) == 0 for i in range(len(statuses), decoded.size))


@pytest.mark.parametrize(
    ("statuses", "bits"), [([0], 3), ([2], 1), ([4], 2), ([-1], 8), ([256], 8)]
)
def test_encode_refuses_values_that_do_not_fit(statuses: list[int], bits: int) -> None:
    """TSL-1 (building side): bits is 1/2/4/8 and every value fits in it."""
    with pytest.raises(ValueError):
        encode_status_list(statuses, bits)


# --- §4.2 decoding negatives and §8.3 step 6 -----------------------------------------------------

GOOD_LST = _encoding_example("status_list_encoding_json.md")[1]["lst"]  # the §4.1 one-bit list


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [],
        {"lst": GOOD_LST},
        {"bits": 3, "lst": GOOD_LST},
        {"bits": 16, "lst": GOOD_LST},
        {"bits": True, "lst": GOOD_LST},
        {"bits": 1.0, "lst": GOOD_LST},
        {"bits": "1", "lst": GOOD_LST},
        {"bits": 1},
        {"bits": 1, "lst": 7},
        {"bits": 1, "lst": GOOD_LST + "="},
        {"bits": 1, "lst": "eNrb+RgAAhcBXQ"},
        {"bits": 1, "lst": jose.b64url_encode(b"\xb9\xa3")},
        {"bits": 1, "lst": jose.b64url_encode(zlib.compress(b"\xb9\xa3")[:-3])},
        {"bits": 1, "lst": jose.b64url_encode(zlib.compress(b"\xb9\xa3") + b"\x00")},
        {"bits": 1, "lst": GOOD_LST, "aggregation_uri": 5},
    ],
)
def test_decode_rejects_malformed_lists(obj: Any) -> None:
    """TSL-1/TSL-2: bits outside {1,2,4,8}, a bad lst or a bad aggregation_uri is malformed."""
    with pytest.raises(InvalidCredential) as excinfo:
        StatusList.decode(obj)
    assert _code(excinfo) == "status_list_malformed"


@pytest.mark.parametrize("idx", [16, 17, 10**30, -1, True, "0"])
def test_index_out_of_range_is_rejected(idx: Any) -> None:
    """SPECS §8 item 81 / TSL-5: an idx beyond the list MUST be rejected."""
    decoded = StatusList.decode({"bits": 1, "lst": GOOD_LST})
    assert decoded.get(15) == 1
    with pytest.raises(InvalidCredential) as excinfo:
        decoded.get(idx)
    assert _code(excinfo) == "status_index_out_of_range"


def test_aggregation_uri_is_kept() -> None:
    """TSL-2: the optional aggregation_uri survives a round trip."""
    encoded = encode_status_list([0, 1], 1, aggregation_uri="https://issuer.duo.test/agg")
    assert StatusList.decode(encoded).aggregation_uri == "https://issuer.duo.test/agg"


# --- zip bombs (bounded_inflate) -----------------------------------------------------------------


def _zeros_compressed(mebibytes: int, wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(mebibytes)]
    return b"".join([*parts, compressor.flush()])


@pytest.fixture(scope="module")
def zlib_bomb() -> bytes:
    """101 MiB of zeros in about 100 KiB of ZLIB."""
    return _zeros_compressed(101, 15)


def test_zip_bomb_is_rejected(zlib_bomb: bytes) -> None:
    """A list expanding past 16 MiB is refused (status_list_too_large) without expanding it all."""
    assert len(zlib_bomb) < 200_000
    with pytest.raises(InvalidCredential) as excinfo:
        StatusList.decode({"bits": 1, "lst": jose.b64url_encode(zlib_bomb)})
    assert _code(excinfo) == "status_list_too_large"


def test_zip_bomb_inside_a_signed_token_is_rejected(zlib_bomb: bytes, key: Any) -> None:
    """A correctly signed token carrying a bomb fails with status_list_too_large too."""
    payload = {
        "sub": URI,
        "iat": IAT,
        "exp": EXP,
        "ttl": 600,
        "status_list": {"bits": 1, "lst": jose.b64url_encode(zlib_bomb)},
    }
    token = _sign({"alg": "ES256", "typ": "statuslist+jwt"}, payload, key)
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(token, key)
    assert _code(excinfo) == "status_list_too_large"


def test_bounded_inflate_cap_is_exact() -> None:
    """The cap admits exactly max_output bytes and refuses one more, in both framings."""
    assert inflate_zlib(zlib.compress(bytes(100)), max_output=100) == bytes(100)
    with pytest.raises(InvalidCredential) as excinfo:
        inflate_zlib(zlib.compress(bytes(101)), max_output=100)
    assert _code(excinfo) == "status_list_too_large"
    assert inflate_gzip(_zeros_compressed(1, 31)) == bytes(1024 * 1024)
    assert MAX_OUTPUT == 16 * 1024 * 1024


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not compressed",
        zlib.compress(b"abc")[:-1],
        zlib.compress(b"abc") + b"x",
        zlib.compress(b"abc") * 2,
    ],
)
def test_bounded_inflate_refuses_corrupt_streams(data: bytes) -> None:
    """Empty, garbage, truncated and trailing data are CorruptStream, never partial output."""
    with pytest.raises(CorruptStream):
        inflate_zlib(data)


# --- §6.2 references -----------------------------------------------------------------------------


def test_status_reference_round_trip() -> None:
    """TSL-3: status.status_list = {idx, uri} is read back as built."""
    claims = {"status": StatusReference(7, URI).claim()}
    assert check_status_reference(claims) == StatusReference(7, URI)
    assert check_status_reference({"status": {"status_list": {"idx": 0, "uri": URI}}}).idx == 0


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"status": "x"},
        {"status": {}},
        {"status": {"status_list": [0, URI]}},
        {"status": {"status_list": {"uri": URI}}},
        {"status": {"status_list": {"idx": -1, "uri": URI}}},
        {"status": {"status_list": {"idx": True, "uri": URI}}},
        {"status": {"status_list": {"idx": 1.0, "uri": URI}}},
        {"status": {"status_list": {"idx": "1", "uri": URI}}},
        {"status": {"status_list": {"idx": 1}}},
        {"status": {"status_list": {"idx": 1, "uri": 5}}},
        {"status": {"status_list": {"idx": 1, "uri": "/status/1"}}},
        {"status": {"status_list": {"idx": 1, "uri": "https://a b"}}},
    ],
)
def test_status_reference_malformed(claims: dict[str, Any]) -> None:
    """TSL-3: anything but {idx: integer >= 0, uri: absolute URI} is status_reference_malformed."""
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_reference(claims)
    assert _code(excinfo) == "status_reference_malformed"


@pytest.mark.parametrize(
    ("value", "meaning"),
    [
        (0, StatusType.VALID),
        (1, StatusType.INVALID),
        (2, StatusType.SUSPENDED),
        (3, StatusType.APPLICATION_SPECIFIC),
        (0x0C, StatusType.APPLICATION_SPECIFIC),
        (0x0F, StatusType.APPLICATION_SPECIFIC),
        (4, StatusType.UNASSIGNED),
        (0x10, StatusType.UNASSIGNED),
        (255, StatusType.UNASSIGNED),
    ],
)
def test_status_value_meaning(value: int, meaning: StatusType) -> None:
    """TSL-3 (§7.1): 0 VALID, 1 INVALID, 2 SUSPENDED, 3 and 0x0C-0x0F application-specific."""
    assert status_value_meaning(value) is meaning


def test_status_value_meaning_refuses_non_byte_values() -> None:
    """§7: status values are 0..255."""
    with pytest.raises(ValueError):
        status_value_meaning(256)


# --- §5.1 tokens and §8.3 verification -----------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _sign(header: dict[str, Any], payload: dict[str, Any], key: Any) -> str:
    return jose.sign_compact(header, payload, jose.private_key_signer(key, "ES256"))


def _build(key: Any, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "uri": URI,
        "iat": IAT,
        "exp": EXP,
        "ttl": 600,
        "alg": "ES256",
        "kid": "status-1",
        "signer": jose.private_key_signer(key, "ES256"),
    }
    args.update(overrides)
    return build_status_list_token([0, 1, 2, 3, 0, 2], 2, **args)


def _verify(token: str, key: Any, **overrides: Any) -> StatusList:
    args: dict[str, Any] = {
        "uri": URI,
        "resolve_key": lambda header, payload: key.public_key(),
        "now": NOW,
        "algorithms": ["ES256"],
    }
    args.update(overrides)
    return verify_status_list_token(token, **args)


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "sub": URI,
        "iat": IAT,
        "exp": EXP,
        "ttl": 600,
        "status_list": encode_status_list([1, 0], 1),
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def test_build_and_verify_round_trip(key: Any) -> None:
    """TSL-2/TSL-5: a built token verifies; values, iat, exp and ttl come back."""
    token = _build(key, x5c=["MIIB"])
    header = jose.parse_compact(token).header
    assert header == {"alg": "ES256", "typ": "statuslist+jwt", "kid": "status-1", "x5c": ["MIIB"]}
    decoded = _verify(token, key, content_type="application/statuslist+jwt")
    assert [decoded.get(i) for i in range(6)] == [0, 1, 2, 3, 0, 2]
    assert (decoded.iat, decoded.exp, decoded.ttl) == (IAT, EXP, 600)


def test_resolve_key_sees_header_and_payload(key: Any) -> None:
    """The key resolver gets the unverified header and payload (to validate x5c or kid)."""
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def resolve(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        seen.append((header, payload))
        return key.public_key()

    _verify(_build(key), key, resolve_key=resolve)
    assert seen[0][0]["kid"] == "status-1"
    assert seen[0][1]["sub"] == URI


def test_bad_signature_is_rejected(key: Any) -> None:
    """SPECS §8 item 80: a status-list JWT with a bad signature is rejected."""
    other = ec.generate_private_key(ec.SECP256R1())
    head, _body, sig = _build(key).split(".")
    forged_body = jose.b64url_encode(strict_json.dumps(_payload()).encode())
    for token in (_build(other), f"{head}.{forged_body}.{sig}"):
        with pytest.raises(InvalidCredential) as excinfo:
            _verify(token, key)
        assert _code(excinfo) == "status_list_signature_invalid"


def test_disallowed_algorithm_is_rejected(key: Any) -> None:
    """An algorithm outside the caller's list counts as a bad signature."""
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_build(key), key, algorithms=["ES384"])
    assert _code(excinfo) == "status_list_signature_invalid"


@pytest.mark.parametrize("typ", [None, "JWT", "statuslist+cwt", "dc+sd-jwt", 1])
def test_wrong_typ_is_rejected(key: Any, typ: Any) -> None:
    """SPECS §8 item 80: typ other than statuslist+jwt is rejected."""
    header = {"alg": "ES256", "typ": typ} if typ is not None else {"alg": "ES256"}
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_sign(header, _payload(), key), key)
    assert _code(excinfo) == "status_list_typ_invalid"


def test_typ_with_application_prefix_is_accepted(key: Any) -> None:
    """RFC 7515 §4.1.9: "application/statuslist+jwt" names the same type."""
    token = _sign({"alg": "ES256", "typ": "application/statuslist+jwt"}, _payload(), key)
    assert _verify(token, key).get(0) == 1


@pytest.mark.parametrize("sub", [None, "https://issuer.duo.test/status/2", URI + "/"])
def test_sub_mismatch_is_rejected(key: Any, sub: Any) -> None:
    """SPECS §8 item 80: sub must equal the referenced uri."""
    token = _sign({"alg": "ES256", "typ": "statuslist+jwt"}, _payload(sub=sub), key)
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(token, key)
    assert _code(excinfo) == "status_list_sub_mismatch"


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=1), timedelta(days=400)])
def test_expired_token_is_rejected(key: Any, delta: timedelta) -> None:
    """SPECS §8 item 80: a token at or past exp is rejected."""
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_build(key), key, now=datetime.fromtimestamp(EXP, UTC) + delta)
    assert _code(excinfo) == "status_list_expired"


def test_token_without_exp_does_not_expire(key: Any) -> None:
    """TSL-2: exp is only RECOMMENDED; without it the token has no expiry of its own."""
    token = _sign({"alg": "ES256", "typ": "statuslist+jwt"}, _payload(exp=None), key)
    assert _verify(token, key, now=NOW + timedelta(days=3650)).exp is None


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/jwt", "text/html", "application/statuslist+cwt"],
)
def test_wrong_content_type_is_rejected(key: Any, content_type: str) -> None:
    """SPECS §8 item 80 / TSL-4: the response must be application/statuslist+jwt."""
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_build(key), key, content_type=content_type)
    assert _code(excinfo) == "status_list_content_type_invalid"


def test_content_type_parameters_and_case_are_ignored(key: Any) -> None:
    """Media types compare case-insensitively, without parameters (RFC 9110 §8.3.1)."""
    assert _verify(_build(key), key, content_type="Application/StatusList+JWT; q=1").size == 8


@pytest.mark.parametrize(
    "payload",
    [
        _payload(iat=None),
        _payload(iat="2026-06-01"),
        _payload(exp="never"),
        _payload(ttl=0),
        _payload(ttl=-5),
        _payload(ttl="600"),
        _payload(nbf="soon"),
        _payload(status_list=None),
        _payload(status_list={"bits": 3, "lst": GOOD_LST}),
    ],
)
def test_malformed_claims_are_rejected(key: Any, payload: dict[str, Any]) -> None:
    """TSL-2: iat is required; exp/nbf are numbers; ttl is positive; status_list is well formed."""
    token = _sign({"alg": "ES256", "typ": "statuslist+jwt"}, payload, key)
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(token, key)
    assert _code(excinfo) == "status_list_malformed"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "status_list_malformed"),
        ("a.b", "status_list_malformed"),
        ("eyJhbGciOiJFUzI1NiJ9.e30.!!", "status_list_malformed"),
        ("bm90.anNvbg.c2ln", "json_malformed"),  # the JSON layer's own code (strict_json)
    ],
)
def test_malformed_token_is_rejected(key: Any, token: str, code: str) -> None:
    """A body that is not a compact JWS of JSON objects is refused before any key is resolved."""
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(token, key, resolve_key=None)
    assert _code(excinfo) == code


def test_crit_header_is_rejected(key: Any) -> None:
    """RFC 7515 §4.1.11: an unknown critical extension makes the JWS invalid."""
    header = {"alg": "ES256", "typ": "statuslist+jwt", "crit": ["exp"]}
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_sign(header, _payload(), key), key)
    assert _code(excinfo) == "status_list_malformed"


def test_not_yet_valid_token_is_rejected(key: Any) -> None:
    """RFC 7519 §4.1.5 (TSL §5.1 rule 3): nbf in the future is rejected."""
    payload = _payload(nbf=int(NOW.timestamp()) + 60)
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_sign({"alg": "ES256", "typ": "statuslist+jwt"}, payload, key), key)
    assert _code(excinfo) == "status_list_not_yet_valid"


def test_naive_datetimes_are_refused(key: Any) -> None:
    """Time inputs are timezone-aware UTC; a naive one is a programming error."""
    with pytest.raises(ValueError):
        _verify(_build(key), key, now=datetime(2026, 6, 1, 12, 0))


# --- §8.4 historical resolution ------------------------------------------------------------------


def test_historical_token_covering_the_time_is_accepted(key: Any) -> None:
    """TSL-6: with at inside iat..exp the token is used even though it expired before now."""
    later = datetime.fromtimestamp(EXP, UTC) + timedelta(days=30)
    at = datetime.fromtimestamp(IAT, UTC) + timedelta(hours=2)
    assert _verify(_build(key), key, now=later, at=at).get(1) == 1


@pytest.mark.parametrize("offset", [-1, EXP - IAT, EXP - IAT + 3600])
def test_historical_token_not_covering_the_time_is_rejected(key: Any, offset: int) -> None:
    """TSL-6: a token whose iat..exp does not cover the requested time MUST be rejected."""
    at = datetime.fromtimestamp(IAT + offset, UTC)
    with pytest.raises(InvalidCredential) as excinfo:
        _verify(_build(key), key, at=at)
    assert _code(excinfo) == "status_list_time_not_covered"


def test_covers_time() -> None:
    """TSL-6: iat <= at < exp; no exp leaves the end open; a missing iat covers nothing."""
    at = datetime.fromtimestamp(1000, UTC)
    assert covers_time({"iat": 1000, "exp": 1001}, at)
    assert covers_time({"iat": 999}, at)
    assert not covers_time({"iat": 1001, "exp": 2000}, at)
    assert not covers_time({"iat": 0, "exp": 1000}, at)
    assert not covers_time({"exp": 2000}, at)
    assert not covers_time({"iat": 0, "exp": "later"}, at)


# --- building side -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{"kid": None}, {"alg": "HS256"}, {"alg": "none"}, {"ttl": 0}, {"exp": IAT}],
)
def test_builder_refuses_bad_parameters(key: Any, overrides: dict[str, Any]) -> None:
    """TSL-2 (building side): a key reference, an asymmetric alg, ttl > 0 and exp > iat."""
    with pytest.raises(ValueError):
        _build(key, **overrides)


def test_lst_is_unpadded_base64url() -> None:
    """TSL-2: lst is base64url without padding."""
    lst = encode_status_list([1] * 1000, 1)["lst"]
    assert "=" not in lst and "+" not in lst and "/" not in lst
    assert base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4))[:1] == b"\x78"
