"""W3C Bitstring Status List v1.0 (Recommendation, 15 May 2025): vectors, bit order, error codes.

The spec's Example 1 (a credential with two entries) and Example 3 (the list credential) are read
from tests/vectors/w3c-vc-bitstring-status-list/ (kept verbatim; provenance in
tests/vectors/README.md). Example 3's encodedList expands to 16,384 zero bytes, so it has no set
bit; the bit order is checked with bitstrings built by hand below.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vectors_loader import json_document

from verifier import jose
from verifier.bitstring_status_list import (
    MIN_ENTRIES,
    Bitstring,
    BitstringStatusEntry,
    StatusMessage,
    build_status_entry,
    build_status_list_credential,
    check_status_entry,
    check_status_list_credential,
    decode_bitstring,
    encode_bitstring,
    read_status,
    retrieval_failed,
    status_list_credential_subject,
)
from verifier.errors import InvalidCredential, VerificationIncomplete

BSL = "w3c-vc-bitstring-status-list"
# Example 1: "Example StatusListCredential using simple entries" (its credentialStatus array).
EXAMPLE_1_ENTRIES: list[dict[str, Any]] = json_document(f"{BSL}/example-1.json")["credentialStatus"]

# Example 3: "Example BitstringStatusListCredential".
EXAMPLE_3_LIST: dict[str, Any] = json_document(f"{BSL}/example-3.json")
EXAMPLE_3_URL: str = EXAMPLE_3_LIST["id"]
LIST_URL = "https://issuer.duo.test/status/bsl/1"


def _multibase_gzip(raw: bytes) -> str:
    return "u" + jose.b64url_encode(gzip.compress(raw, mtime=0))


def _code(excinfo: pytest.ExceptionInfo[InvalidCredential]) -> str:
    return excinfo.value.code


def _list_doc(encoded: Any, purpose: Any = "revocation", **extra: Any) -> dict[str, Any]:
    subject = {"type": "BitstringStatusList", "statusPurpose": purpose, "encodedList": encoded}
    subject.update(extra)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "https://issuer.duo.test",
        "credentialSubject": subject,
    }


# --- the spec's own example ----------------------------------------------------------------------


def test_spec_example_list_and_entry() -> None:
    """BSL-1/BSL-2: Example 3 holds 131,072 unset entries; Example 1's revocation entry is valid."""
    bitstring = check_status_list_credential(
        EXAMPLE_3_LIST, purpose="revocation", list_url=EXAMPLE_3_URL
    )
    assert bitstring.length == MIN_ENTRIES
    assert bitstring.data == bytes(16384)
    entry = check_status_entry(EXAMPLE_1_ENTRIES[0])
    assert entry == BitstringStatusEntry("revocation", 94567, EXAMPLE_3_URL)
    assert read_status(entry, bitstring).valid
    assert read_status(entry, bitstring).status == 0


def test_spec_example_entries_parse() -> None:
    """BSL-1: both entries of Example 1 are well formed; statusSize defaults to 1."""
    second = check_status_entry(EXAMPLE_1_ENTRIES[1])
    assert (second.purpose, second.index, second.size, second.messages) == (
        "suspension",
        23452,
        1,
        (),
    )


def test_spec_example_last_index_and_beyond() -> None:
    """SPECS §8 item 86: index 131,071 is the last entry; 131,072 is a RANGE_ERROR."""
    bitstring = decode_bitstring(EXAMPLE_3_LIST["credentialSubject"]["encodedList"])
    assert bitstring.get(MIN_ENTRIES - 1) == 0
    with pytest.raises(InvalidCredential) as excinfo:
        bitstring.get(MIN_ENTRIES)
    assert _code(excinfo) == "RANGE_ERROR"


# --- bit order: index 0 is the left-most bit -----------------------------------------------------


@pytest.mark.parametrize(
    ("byte_index", "byte", "set_index"),
    [(0, 0x80, 0), (0, 0x01, 7), (1, 0x40, 9), (16383, 0x01, MIN_ENTRIES - 1)],
)
def test_msb_first_single_bit(byte_index: int, byte: int, set_index: int) -> None:
    """BSL-2 (§2.2): index 0 is the left-most (most significant) bit of the first byte."""
    raw = bytearray(16384)
    raw[byte_index] = byte
    bitstring = decode_bitstring(_multibase_gzip(bytes(raw)))
    ones = [i for i in range(byte_index * 8, byte_index * 8 + 8) if bitstring.get(i)]
    assert ones == [set_index]
    assert bitstring.get(0) == (set_index == 0)


def test_encoder_sets_the_left_most_bit_first() -> None:
    """BSL-2 (§3.3): the encoder writes index 0 as 0x80 of byte 0, the opposite of TSL."""
    encoded = encode_bitstring([0, 9, MIN_ENTRIES - 1])
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(jose.b64url_decode(encoded[1:]))
    assert len(raw) == 16384
    assert (raw[0], raw[1], raw[-1]) == (0x80, 0x40, 0x01)
    assert sum(bin(b).count("1") for b in raw) == 3


def test_multi_bit_entries_read_left_to_right() -> None:
    """BSL-1 (§3.2): entry i of statusSize n starts at bit i*n; values read across bytes."""
    raw = bytearray(16384 * 2)
    raw[0] = 0b01_10_11_00
    bitstring = Bitstring(bytes(raw))
    assert [bitstring.get(i, 2) for i in range(4)] == [1, 2, 3, 0]
    raw[0], raw[1] = 0b0000_0011, 0b1000_0000  # bits 6, 7, 8: entry 2 of size 3
    assert Bitstring(bytes(raw)).get(2, 3) == 0b111
    assert Bitstring(bytes(raw)).get(1, 3) == 0b000


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=40), st.integers(0, MIN_ENTRIES - 1))
def test_round_trip(indices: set[int], probe: int) -> None:
    """BSL-2: encode then decode sets exactly the given bits."""
    bitstring = decode_bitstring(encode_bitstring(indices))
    assert all(bitstring.get(i) == 1 for i in indices)
    assert bitstring.get(probe) == (probe in indices)
    assert sum(bin(b).count("1") for b in bitstring.data) == len(indices)


def test_raw_bytes_round_trip() -> None:
    """A raw bitstring (e.g. multi-bit values set by the caller) is encoded as is."""
    raw = bytes(range(256)) * 128
    assert decode_bitstring(encode_bitstring(raw)).data == raw


@pytest.mark.parametrize(
    ("bits_set", "size"),
    [
        ([], MIN_ENTRIES - 8),
        ([], MIN_ENTRIES + 1),
        ([MIN_ENTRIES], MIN_ENTRIES),
        ([-1], MIN_ENTRIES),
        (bytes(16383), MIN_ENTRIES),
    ],
)
def test_encoder_refuses_short_or_outside(bits_set: Any, size: int) -> None:
    """BSL-2 (building side): at least 131,072 bits, a whole number of bytes, indices inside."""
    with pytest.raises(ValueError):
        encode_bitstring(bits_set, size=size)


# --- §3.2 / §3.5 error codes ---------------------------------------------------------------------


def test_short_list_is_a_length_error() -> None:
    """SPECS §8 item 86: fewer than 131,072 entries is STATUS_LIST_LENGTH_ERROR."""
    with pytest.raises(InvalidCredential) as excinfo:
        decode_bitstring(_multibase_gzip(bytes(16383)))
    assert _code(excinfo) == "STATUS_LIST_LENGTH_ERROR"


def test_short_list_for_the_status_size_is_a_length_error() -> None:
    """SPECS §8 item 86: 131,072 bits hold only 65,536 two-bit entries: STATUS_LIST_LENGTH_ERROR."""
    entry = BitstringStatusEntry("message", 3, LIST_URL, 2, ())
    with pytest.raises(InvalidCredential) as excinfo:
        read_status(entry, Bitstring(bytes(16384)))
    assert _code(excinfo) == "STATUS_LIST_LENGTH_ERROR"


def test_purpose_mismatch_is_a_verification_error() -> None:
    """SPECS §8 item 86: the entry's purpose not among the list's is STATUS_VERIFICATION_ERROR."""
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_list_credential(EXAMPLE_3_LIST, purpose="suspension", list_url=EXAMPLE_3_URL)
    assert _code(excinfo) == "STATUS_VERIFICATION_ERROR"


def test_list_with_another_id_is_a_verification_error() -> None:
    """A list credential whose id is not the entry's statusListCredential is another list."""
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_list_credential(EXAMPLE_3_LIST, purpose="revocation", list_url=LIST_URL)
    assert _code(excinfo) == "STATUS_VERIFICATION_ERROR"


def test_list_with_several_purposes() -> None:
    """BSL-2 (§2.2): statusPurpose may be a list; any member matches."""
    doc = _list_doc(encode_bitstring([5]), purpose=["revocation", "suspension"])
    bitstring = check_status_list_credential(doc, purpose="suspension", list_url=LIST_URL)
    assert bitstring.get(5) == 1


def test_index_out_of_range_is_a_range_error() -> None:
    """SPECS §8 item 86: an index past the list is RANGE_ERROR, also via read_status."""
    entry = check_status_entry(
        build_status_entry(purpose="revocation", index=MIN_ENTRIES, list_url=LIST_URL)
    )
    with pytest.raises(InvalidCredential) as excinfo:
        read_status(entry, decode_bitstring(encode_bitstring([])))
    assert _code(excinfo) == "RANGE_ERROR"


def test_enormous_index_is_a_range_error() -> None:
    """An index of more than 20 digits is beyond any list accepted here: RANGE_ERROR."""
    entry = dict(EXAMPLE_1_ENTRIES[0], statusListIndex="9" * 21)
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_entry(entry)
    assert _code(excinfo) == "RANGE_ERROR"


def test_retrieval_failure_code() -> None:
    """SPECS §8 item 86: an unreachable list is STATUS_RETRIEVAL_ERROR, a VerificationIncomplete."""
    error = retrieval_failed()
    assert isinstance(error, VerificationIncomplete)
    assert error.code == "STATUS_RETRIEVAL_ERROR"


def test_gzip_bomb_is_rejected() -> None:
    """A bitstring expanding past 16 MiB is refused (status_list_too_large) via bounded_inflate."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    bomb = b"".join([*(compressor.compress(chunk) for _ in range(101)), compressor.flush()])
    assert len(bomb) < 200_000
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_list_credential(
            _list_doc("u" + jose.b64url_encode(bomb)), purpose="revocation", list_url=LIST_URL
        )
    assert _code(excinfo) == "status_list_too_large"


_GZIP_OK = gzip.compress(bytes(16384), mtime=0)


@pytest.mark.parametrize(
    "encoded",
    [
        None,
        42,
        "",
        "z" + jose.b64url_encode(_GZIP_OK),  # multibase base58btc, not base64url
        "U" + jose.b64url_encode(_GZIP_OK),
        "u" + jose.b64url_encode(_GZIP_OK) + "=",
        "u" + jose.b64url_encode(_GZIP_OK).replace("-", "+"),
        "u" + jose.b64url_encode(zlib.compress(bytes(16384))),  # ZLIB, not GZIP
        "u" + jose.b64url_encode(_GZIP_OK[:-4]),
        "u" + jose.b64url_encode(_GZIP_OK + b"\x00"),
        "u" + jose.b64url_encode(bytes(16384)),
    ],
)
def test_malformed_encoded_list(encoded: Any) -> None:
    """BSL-2: anything but u + base64url(GZIP) is MALFORMED_VALUE_ERROR."""
    with pytest.raises(InvalidCredential) as excinfo:
        decode_bitstring(encoded)
    assert _code(excinfo) == "MALFORMED_VALUE_ERROR"


def _without(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}


_GOOD = encode_bitstring([])


@pytest.mark.parametrize(
    "doc",
    [
        None,
        _without(_list_doc(_GOOD), "type"),
        dict(_list_doc(_GOOD), type=["VerifiableCredential"]),
        _without(_list_doc(_GOOD), "credentialSubject"),
        dict(_list_doc(_GOOD), credentialSubject=[_list_doc(_GOOD)["credentialSubject"]]),
        _list_doc(_GOOD, type="StatusList2021"),
        _list_doc(_GOOD, purpose=None),
        _list_doc(_GOOD, purpose=[]),
        _list_doc(_GOOD, purpose=["revocation", 7]),
        _list_doc(_GOOD, ttl=-1),
        _list_doc(_GOOD, ttl="1h"),
        _list_doc(None),
    ],
)
def test_malformed_list_credential(doc: Any) -> None:
    """BSL-2: a list credential without its required shape is MALFORMED_VALUE_ERROR."""
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_list_credential(doc, purpose="revocation", list_url=LIST_URL)
    assert _code(excinfo) == "MALFORMED_VALUE_ERROR"


# --- §2.1 entries --------------------------------------------------------------------------------

_ENTRY = EXAMPLE_1_ENTRIES[0]
_MESSAGES = [
    {"status": "0x0", "message": "valid"},
    {"status": "0x1", "message": "revoked"},
    {"status": "0x2", "message": "pending_review"},
    {"status": "0x3", "message": "undefined"},
]


def test_message_entry_and_its_message() -> None:
    """BSL-1: statusSize 2 with four statusMessage items; read_status reports the message."""
    entry = check_status_entry(
        dict(_ENTRY, statusPurpose="message", statusSize=2, statusMessage=_MESSAGES)
    )
    assert entry.size == 2
    assert entry.messages[2] == StatusMessage(2, "pending_review")
    raw = bytearray(16384 * 2)
    raw[189134 // 8] = 0b0000_0010  # entry 94567 of size 2 = bits 189134, 189135 = the last two
    status = read_status(entry, Bitstring(bytes(raw)))
    assert (status.status, status.valid, status.message) == (2, False, "pending_review")


def test_reference_may_be_a_url_or_a_list() -> None:
    """BSL-1: statusReference is a URL or an array of URLs."""
    assert check_status_entry(dict(_ENTRY, statusReference="https://example.org/d/"))
    assert check_status_entry(dict(_ENTRY, statusReference=["https://example.org/d/"]))


@pytest.mark.parametrize(
    "entry",
    [
        None,
        "https://example.com/credentials/status/3",
        _without(_ENTRY, "type"),
        dict(_ENTRY, type="StatusList2021Entry"),
        dict(_ENTRY, type=["BitstringStatusListEntry"]),
        _without(_ENTRY, "statusPurpose"),
        dict(_ENTRY, statusPurpose="expiry"),
        _without(_ENTRY, "statusListIndex"),
        dict(_ENTRY, statusListIndex=94567),
        dict(_ENTRY, statusListIndex="-1"),
        dict(_ENTRY, statusListIndex="0x10"),
        dict(_ENTRY, statusListIndex="1e3"),
        dict(_ENTRY, statusListIndex=" 12"),
        dict(_ENTRY, statusListIndex="١٢"),  # Arabic-Indic digits are not base-10 ASCII
        _without(_ENTRY, "statusListCredential"),
        dict(_ENTRY, statusListCredential="/credentials/status/3"),
        dict(_ENTRY, id=_ENTRY["statusListCredential"]),
        dict(_ENTRY, statusSize=0),
        dict(_ENTRY, statusSize="1"),
        dict(_ENTRY, statusSize=True),
        dict(_ENTRY, statusSize=17),
        dict(_ENTRY, statusSize=2),
        dict(_ENTRY, statusSize=2, statusMessage=_MESSAGES[:3]),
        dict(_ENTRY, statusSize=2, statusMessage=[*_MESSAGES[:3], _MESSAGES[0]]),
        dict(_ENTRY, statusSize=2, statusMessage=[*_MESSAGES[:3], {"status": "3", "message": ""}]),
        dict(_ENTRY, statusSize=2, statusMessage=[*_MESSAGES[:3], {"status": "0x3"}]),
        dict(_ENTRY, statusMessage=None),
        dict(_ENTRY, statusReference=5),
        dict(_ENTRY, statusReference=["https://ok.example", "not a url"]),
    ],
)
def test_malformed_entry(entry: Any) -> None:
    """BSL-1: every rule of §2.1 has a MALFORMED_VALUE_ERROR case."""
    with pytest.raises(InvalidCredential) as excinfo:
        check_status_entry(entry)
    assert _code(excinfo) == "MALFORMED_VALUE_ERROR"


# --- building side -------------------------------------------------------------------------------


def test_builders_round_trip() -> None:
    """BSL-1/BSL-2: built entries and list credentials pass the checks and read back."""
    subject = status_list_credential_subject(
        list_url=LIST_URL, purpose="revocation", encoded_list=encode_bitstring([42]), ttl_ms=3600000
    )
    doc = build_status_list_credential(
        list_url=LIST_URL,
        issuer="https://issuer.duo.test",
        subject=subject,
        valid_from=datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        valid_until=datetime(2026, 6, 2, 12, 0, tzinfo=UTC),
    )
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert (doc["id"], doc["validFrom"], doc["validUntil"]) == (
        LIST_URL,
        "2026-06-01T12:00:00Z",
        "2026-06-02T12:00:00Z",
    )
    assert doc["credentialSubject"]["id"] == LIST_URL + "#list"
    assert doc["credentialSubject"]["ttl"] == 3600000
    entry = check_status_entry(
        build_status_entry(purpose="revocation", index=42, list_url=LIST_URL)
    )
    bitstring = check_status_list_credential(
        doc, purpose=entry.purpose, list_url=entry.list_credential
    )
    assert read_status(entry, bitstring).valid is False


@pytest.mark.parametrize(
    "call",
    [
        lambda: build_status_entry(purpose="message", index=1, list_url=LIST_URL),
        lambda: build_status_entry(purpose="revocation", index=-1, list_url=LIST_URL),
        lambda: status_list_credential_subject(list_url=LIST_URL, purpose="x", encoded_list="u"),
        lambda: build_status_list_credential(
            list_url=LIST_URL, issuer="https://i", subject={}, valid_from=datetime(2026, 1, 1)
        ),
    ],
)
def test_builders_refuse_bad_input(call: Any) -> None:
    """Builders take one-bit purposes, indices >= 0 and timezone-aware times."""
    with pytest.raises(ValueError):
        call()
