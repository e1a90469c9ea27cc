"""IETF Token Status List (draft-ietf-oauth-status-list-20): vectors, round trips, negatives.

Vectors are quoted verbatim from the draft text: git tag ``draft-ietf-oauth-status-list-20``,
commit 2fb61cd535a82ec77fe43d604e31b7012cab4adc of github.com/oauth-wg/draft-ietf-oauth-status-list.
They are the §4.1 examples, Appendix C "Test vectors for Status List encoding" (its ``lst`` values
are examples/status_list_encoding{1_long,2_long,4,8}_json.md, which the draft includes) and the
§8.2 example response body (examples/status_list_jwt_raw.md). IETF Trust; code components BSD.
"""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

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

# --- Appendix C: every list holds 2^20 entries; unlisted entries are 0 (VALID). ------------------
SIZE = 2**20
# fmt: off
ONE_BIT = {
    0: 1, 1993: 1, 25460: 1, 159495: 1, 495669: 1, 554353: 1, 645645: 1, 723232: 1, 854545: 1,
    934534: 1, 1000345: 1,
}
TWO_BIT = {
    0: 0b01, 1993: 0b10, 25460: 0b01, 159495: 0b11, 495669: 0b01, 554353: 0b01, 645645: 0b10,
    723232: 0b01, 854545: 0b01, 934534: 0b10, 1000345: 0b11,
}
FOUR_BIT = {
    0: 0b0001, 1993: 0b0010, 35460: 0b0011, 459495: 0b0100, 595669: 0b0101, 754353: 0b0110,
    845645: 0b0111, 923232: 0b1000, 924445: 0b1001, 934534: 0b1010, 1004534: 0b1011,
    1000345: 0b1100, 1030203: 0b1101, 1030204: 0b1110, 1030205: 0b1111,
}
# The 8-bit vector lists status[i] = 0b00000000 .. 0b11111111 in increasing value order, so the
# value of each index below is its position in this tuple (indices in the draft's order).
EIGHT_BIT_INDICES = (
    233478, 52451, 576778, 513575, 468106, 292632, 214947, 182323, 884834, 66653,
    62489, 196493, 458517, 487925, 55649, 416992, 879796, 462297, 942059, 583408,
    13628, 334829, 886286, 713557, 582738, 326064, 451545, 705889, 214350, 194502,
    796765, 202828, 752834, 721327, 554740, 91122, 963483, 261779, 793844, 165255,
    614839, 758403, 403258, 145867, 96100, 477937, 606890, 167335, 488197, 211815,
    797182, 582952, 950870, 765108, 341110, 776325, 745056, 439368, 559893, 149741,
    358903, 513405, 342679, 969429, 795775, 566121, 460566, 680070, 117310, 480348,
    67319, 661552, 841303, 561493, 138807, 442463, 659927, 445910, 1046963, 829700,
    962282, 299623, 555493, 292826, 517215, 551009, 898490, 837603, 759161, 459948,
    290102, 1034977, 190650, 98810, 229950, 320531, 335506, 885333, 133227, 806915,
    800313, 981571, 527253, 24077, 240232, 559572, 713399, 233941, 615514, 911768,
    331680, 951527, 6805, 552366, 374660, 223159, 625884, 417146, 320527, 784154,
    338792, 1199, 679804, 1024680, 40845, 234603, 761225, 644903, 502167, 121477,
    505144, 165165, 179628, 1019195, 145149, 263738, 269256, 996739, 346296, 555864,
    887384, 444173, 421844, 653716, 836747, 783119, 918762, 946835, 253764, 519895,
    471224, 134272, 709016, 44112, 482585, 461829, 15080, 148883, 123467, 480125,
    141348, 65877, 692958, 148598, 499131, 584009, 1017987, 449287, 277478, 991262,
    509602, 991896, 853666, 399318, 197815, 203278, 903979, 743015, 888308, 862143,
    979421, 113605, 206397, 127113, 844358, 711569, 229153, 521470, 401793, 398896,
    940810, 293983, 884749, 384802, 584151, 970201, 523882, 158093, 929312, 205329,
    106091, 30949, 195586, 495723, 348779, 852312, 1018463, 1009481, 448260, 841042,
    122967, 345269, 794764, 4520, 818773, 556171, 954221, 598210, 887110, 1020623,
    324632, 398244, 622241, 456551, 122648, 127837, 657676, 119884, 105156, 999897,
    330160, 119285, 168005, 389703, 143699, 142524, 493258, 846778, 251420, 516351,
    83344, 171931, 879178, 663475, 546865, 428362, 658891, 500560, 557034, 830023,
    274471, 629139, 958869, 663071, 152133, 19535,
)

# Appendix C "JSON encoding" lst values, line breaks as in the draft.
LST_1 = (
    "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogE"
    "AAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAA"
    "A7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAA"
    "ACAZC8L2AEb"
)
LST_2 = (
    "eNrt2zENACEQAEEuoaBABP5VIO01fCjIHTMStt9ovGV"
    "IAAAAAABAbiEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEB5WwIAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAID0ugQAAAAAAAAAAAAAAAAAQG12SgAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAOCSIQEAAAAAAAAAAAAAAAAAAAAAAAD8ExIAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwJEuAQAAAAAAAAAAAAAAAAAAAAAAAMB9S"
    "wIAAAAAAAAAAAAAAAAAAACoYUoAAAAAAAAAAAAAAEBqH81gAQw"
)
LST_4 = (
    "eNrt0EENgDAQADAIHwImkIIEJEwCUpCEBBQRHOy35Li"
    "1EjoOQGabAgAAAAAAAAAAAAAAAAAAACC1SQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABADrsCAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAADoxaEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIIoCgAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACArpwKAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAGhqVkAzlwIAAAAAiGVRAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAABx3AoAgLpVAQAAAAAAAAAAAAAAwM89rwMAAAAAAAAAA"
    "AjsA9xMBMA"
)
LST_8 = (
    "eNrt0WOQM2kYhtGsbdu2bdu2bdu2bdu2bdu2jVnU1my"
    "-SWYm6U5enFPVf7ue97orFYAo7CQBAACQuuckAABStqUEAAAAAAAAtN6wEgAE71QJA"
    "AAAAIrwhwQAAAAAAdtAAgAAAAAAACLwkAQAAAAAAAAAAACUaFcJAACAeJwkAQAAAAA"
    "AAABQvL4kAAAAWmJwCQAAAAAAAAjAwBIAAAB06ywJoDKQBARpfgkAAAAAAAAAAAAAA"
    "AAAAACo50sJAAAAAAAAAOiRcSQAAAAAgAJNKgEAAG23mgQAAAAAAECw3pUAQvegBAA"
    "AAAAAAADduE4CAAAAyjSvBAAQiw8koHjvSABAb-wlARCONyVoxtMSZOd0CQAAAOjWD"
    "RKQmLckAAAAAACysLYEQGcnSAAAAAAQooUlAABI15kSAIH5RAIgLB9LABC4_SUgGZN"
    "IAABAmM6RoLbTJIASzCIBAEAhfpcAAAAAAABquk8CAAAAAAAAaJl9SvvzBOICAFWmk"
    "IBgfSgBAAAANOgrCQAAAAAAAADStK8EAAC03gASAAAAAAAAAADFWFUCAAAAMjOaBEA"
    "DHpYAQjCIBADduFwCAAAAAGitMSSI3BUSAECOHpAA6IHrJQAAAAAAsjeVBAAAKRpVA"
    "orWvwQAAAAAAAAAkKRtJAAAAAAAgCbcLAF0bXUJAAAAoF02kYDg7CYBAAAAAEB6NpQ"
    "AAAAAAAAAAAAAAEr1uQQAAF06VgIAAAAAAAAAqDaeBAAQqgMkAAAAAABogQMlAAAAA"
    "AAa87MEAAAQiwslAAAAAAAAAAAAAAAAMrOyBAAAiekv-hcsY0Sgne6QAAAAAAAgaUt"
    "JAAAAAAAAAAAAAAAAAAAAAAAAAADwt-07vjVkAAAAgDy8KgFAUEaSAAAAAJL3vgQAW"
    "dhcAgAAoBHDSUDo1pQAAACI2o4SAABZm14CALoyuwQAAPznGQkgZwdLAAAQukclAAA"
    "AAAAAAAAAgKbMKgEAAAAAAAAAAAAAAAAAAECftpYAAAAAAAAAAAAACnaXBAAAAADk7"
    "iMJAAAAAAAAAABqe00CAnGbBBG4TAIAgFDdKgFAXCaWAAAAAAAAAAAAAAAAAKAJQwR"
    "72XbGAQAAAKAhh0sAAAAAAABQgO8kAAAAAAAAAAAAACAaM0kAAAC5W0QCAIJ3mAQAx"
    "GwxCQAA6nhSAsjZBRIAANEbWQIAAAAAaJE3JACAwA0qAUBIVpKAlphbAiAPp0iQnKE"
    "kAAAAAAAgBP1KAAAAdOl4CQAAAAAAAPjLZBIAAG10RtrPm8_CAEBMTpYAAAAAAIjQY"
    "BL8z5QSAAAAAEDYPpUAACAsj0gAAADQkHMlAAjHDxIA0Lg9JQAAgHDsLQEAAABAQS6"
    "WAAAAgLjNFs2l_RgLAIAEfCEBlGZZCQAAaIHjJACgtlskAAAozb0SAAAAVFtfAgAAA"
    "AAAAAAAAAAAAAAAAAAAAKDDtxIAAAAAVZaTAKB5W0kAANCAsSUgJ0tL0GqHSNBbL0g"
    "AZflRAgCARG0kQXNmlgCABiwkAQAAAEB25pIAAAAAAAAAAAAAoFh9SwAAAAAAADWNm"
    "OSrpjFsEoaRgDKcF9Q1dxsEAAAAAAAAAAAAAAAAgPZ6SQIAAAAAAAAAgChMLgEAAAA"
    "AAAAAqZlQAsK2qQQAAAAAAAD06XUJAAAAqG9bCQAAgLD9IgEAAAAAAAAAAAAAAAAAA"
    "EBNe0gAAAAAAAAAAEBPHSEBAAAAlOZtCYA4fS8B0GFRCQAo0gISAOTgNwmC840EAAA"
    "AAAAAAAAAAAAAAAAAUJydJfjXPBIAAAAAAAAAAAAAAABk6WwJAAAAAAAAAAAAAAAAq"
    "G8UCQAAgPpOlAAAIA83SQAANWwc9HUjGAgAAAAAAACAusaSAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAqHKVBACQjxklAAAAAAAAAKBHxpQAAAAAACBME0lAdlaUAACyt7sEAAAA0"
    "Nl0EgAAAAAAAAAAAABA-8wgAQAAAAAAAKU4SgKgUtlBAgAAAAAAAAAAgMCMLwEE51k"
    "JICdzSgCJGl2CsE0tAQAA0L11JQAAAAAAAAjUOhIAAAAAAAAAAAAAAGTqeQkAAAAAA"
    "AAAAAAAKM8SEjTrJwkAAAAAAACocqQEULgVJAAAACjDUxJUKgtKAAAAqbpRAgCA0n0"
    "mAQAAAABAGzwmAUCTLpUAAAAAAAAAAEjZNRIAAAAAAAAAAAAAAAAAAAAA8I-vJaAlh"
    "pQAAAAAAHrvzjJ-OqCuuVlLAojP8BJAr70sQZVDJYAgXS0BAAAAAAAAAAAAtMnyEgA"
    "AAAAAFONKCQAAAAAAAADorc0kAAAAAAAAgDqOlgAAAAAAAAAAAADIwv0SAAAAAAAAA"
    "AAAAADBuV0CIFVDSwAAAABAAI6RAAAAAGIwrQSEZAsJAABouRclAAAAAKDDrxIAAAA"
    "0bkkJgFiMKwEAAAAAAHQyhwRk7h4JAAAAAAAAAAAgatdKAACUYj0JAAAAAAAAAAAAQ"
    "nORBLTFJRIAAAAAkIaDJAAAAJryngQAAAAAAAAAAAA98oQEAAAAAAAAAEC2zpcgWY9"
    "LQKL2kwAgGK9IAAAAAPHaRQIAAAAAAAAAAADIxyoSAAAAAAAAAAAAAADQFotLAECz_"
    "gQ1PX-B"
)
EIGHT_BIT = {idx: value for value, idx in enumerate(EIGHT_BIT_INDICES)}
# fmt: on
APPENDIX_C = [(1, ONE_BIT, LST_1), (2, TWO_BIT, LST_2), (4, FOUR_BIT, LST_4), (8, EIGHT_BIT, LST_8)]

# §8.2 example response body (JWS compact serialization); signed by a key the draft does not give.
DRAFT_TOKEN = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEyIiwidHlwIjoic3RhdHVzbGlzdCtqd3QifQ.e"
    "yJleHAiOjIyOTE3MjAxNzAsImlhdCI6MTY4NjkyMDE3MCwiaXNzIjoiaHR0cHM6Ly9le"
    "GFtcGxlLmNvbSIsInN0YXR1c19saXN0Ijp7ImJpdHMiOjEsImxzdCI6ImVOcmJ1UmdBQ"
    "WhjQlhRIn0sInN1YiI6Imh0dHBzOi8vZXhhbXBsZS5jb20vc3RhdHVzbGlzdHMvMSIsI"
    "nR0bCI6NDMyMDB9.2lKUUNG503R9htu4aHAYi7vjmr3sgApbfoDvPrl65N3URUO1EYqq"
    "Ql45Jfzd-Av4QzlKa3oVALpLwOEUOq-U_g"
)


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
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    encoded = encode_status_list(statuses, 1)
    assert encoded == {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}
    assert jose.b64url_decode(encoded["lst"]).hex() == "78dadbb918000217015d"
    decoded = StatusList.decode(encoded)
    assert decoded.data == bytes([0xB9, 0xA3])
    assert [decoded.get(i) for i in range(decoded.size)] == statuses


def test_section_4_1_two_bit_example() -> None:
    """TSL-1: 12 two-bit statuses pack to c9 44 f9; ZLIB bytes 78da3be9f2130003df0207."""
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    encoded = encode_status_list(statuses, 2)
    assert encoded == {"bits": 2, "lst": "eNo76fITAAPfAgc"}
    assert jose.b64url_decode(encoded["lst"]).hex() == "78da3be9f2130003df0207"
    decoded = StatusList.decode(encoded)
    assert decoded.data == bytes([0xC9, 0x44, 0xF9])
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

GOOD_LST = "eNrbuRgAAhcBXQ"


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
