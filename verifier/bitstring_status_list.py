"""W3C Bitstring Status List v1.0 (Recommendation, 15 May 2025), for VCDM 2.0 credentials only.

§2.1 the ``BitstringStatusListEntry`` of a credential's ``credentialStatus``; §2.2 the
``BitstringStatusListCredential`` whose ``encodedList`` is the multibase base64url (prefix ``u``,
no padding) of a GZIP-compressed bitstring of at least 131,072 entries, index 0 being the
left-most (most significant) bit of the first byte, the opposite of the IETF Token Status List;
§3.2 the validate algorithm; §3.3/§3.4 bitstring generation and expansion; §3.5 the error codes,
which this module raises as its stable codes (uppercase, as the spec spells them).

Pure functions: the caller fetches the list credential, verifies its signature (vc+jwt) and its
validity period, and raises ``retrieval_failed()`` when the fetch fails. Limits: a decompressed
bitstring above 16 MiB is refused (``verifier.bounded_inflate``); ``statusSize`` above 16 is
refused (its ``statusMessage`` would need 65,536+ entries); a ``statusListIndex`` of more than
20 digits is out of range of any list accepted here.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

from verifier.bounded_inflate import CorruptStream, inflate_gzip
from verifier.errors import InvalidCredential, VerificationIncomplete
from verifier.jose import b64url_decode, b64url_encode

MIN_ENTRIES = 131_072  # §2.2 "at least 16KB", §3.2 minimumNumberOfEntries
MAX_STATUS_SIZE = 16
PURPOSES = frozenset({"refresh", "revocation", "suspension", "message"})
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
ENTRY_TYPE = "BitstringStatusListEntry"
CREDENTIAL_TYPE = "BitstringStatusListCredential"
SUBJECT_TYPE = "BitstringStatusList"
_INDEX = re.compile(r"[0-9]+")
_HEX_STATUS = re.compile(r"0x[0-9a-fA-F]+")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")  # absolute URL: a scheme, no whitespace


def retrieval_failed() -> VerificationIncomplete:
    """§3.2: the error a fetching caller raises when the list credential cannot be retrieved."""
    return VerificationIncomplete("STATUS_RETRIEVAL_ERROR", "status list could not be retrieved")


@dataclass(frozen=True)
class StatusMessage:
    """One ``statusMessage`` item (§2.1): a status value and its debugging message."""

    status: int
    message: str


@dataclass(frozen=True)
class BitstringStatusEntry:
    """A checked ``BitstringStatusListEntry`` (§2.1)."""

    purpose: str
    index: int
    list_credential: str
    size: int = 1
    messages: tuple[StatusMessage, ...] = ()


@dataclass(frozen=True)
class BitstringStatus:
    """The §3.2 result: the status value, whether it is 0 (valid) and its message, if any."""

    purpose: str
    status: int
    valid: bool
    message: str | None


@dataclass(frozen=True)
class Bitstring:
    """An expanded bitstring (§3.4); entry ``i`` of ``n`` bits starts at bit ``i * n``."""

    data: bytes = field(repr=False)

    @property
    def length(self) -> int:
        """The number of bits."""
        return len(self.data) * 8

    def get(self, index: int, status_size: int = 1) -> int:
        """The value of entry ``index``, bits read left to right (§2.2: index 0 is left-most)."""
        if not _is_int(status_size) or status_size < 1:
            raise ValueError("status_size is a positive integer")
        start = index * status_size if _is_int(index) else -1
        end = start + status_size
        # §3.2: a position outside the bitstring MUST raise RANGE_ERROR.
        if start < 0 or end > self.length:
            raise InvalidCredential("RANGE_ERROR", "status index is outside the bitstring")
        first, last = start // 8, (end - 1) // 8
        window = int.from_bytes(self.data[first : last + 1], "big")
        return (window >> ((last + 1) * 8 - end)) & ((1 << status_size) - 1)


def encode_bitstring(bits_set: Iterable[int] | bytes, *, size: int = MIN_ENTRIES) -> str:
    """§3.3: ``u`` + base64url(GZIP(bitstring)); ``bits_set`` = indices of 1-bits or raw bytes.

    Raw bytes are used as the bitstring itself (left-most bit = index 0) and ``size`` is ignored.
    """
    if isinstance(bits_set, bytes | bytearray):
        raw = bytes(bits_set)
    else:
        if not _is_int(size) or size < MIN_ENTRIES or size % 8:
            raise ValueError("size is a multiple of 8 and at least 131,072")
        buffer = bytearray(size // 8)
        for index in bits_set:
            if not _is_int(index) or not 0 <= index < size:
                raise ValueError("a set bit lies outside the bitstring")
            buffer[index // 8] |= 0x80 >> (index % 8)
        raw = bytes(buffer)
    if len(raw) * 8 < MIN_ENTRIES:
        raise ValueError("a bitstring holds at least 131,072 bits")
    return "u" + b64url_encode(gzip.compress(raw, compresslevel=9, mtime=0))


def decode_bitstring(encoded: Any) -> Bitstring:
    """§3.4: multibase-decode (``u`` = base64url, no padding) and GZIP-expand, bounded."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "encodedList is not multibase base64url")
    compressed = b64url_decode(encoded[1:], "MALFORMED_VALUE_ERROR")
    try:
        data = inflate_gzip(compressed)
    except CorruptStream:
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "encodedList is not GZIP") from None
    # §2.2: the uncompressed bitstring MUST be at least 16KB.
    if len(data) * 8 < MIN_ENTRIES:
        raise InvalidCredential("STATUS_LIST_LENGTH_ERROR", "bitstring is shorter than 16KB")
    return Bitstring(data)


def check_status_entry(entry: Any) -> BitstringStatusEntry:
    """§2.1: check a ``credentialStatus`` item of type ``BitstringStatusListEntry``."""
    if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "entry is not a BitstringStatusListEntry")
    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusPurpose is not supported")
    index = _parse_index(entry.get("statusListIndex"))
    url = entry.get("statusListCredential")
    if not _is_url(url) or entry.get("id") == url:  # id MUST NOT be the status list URL
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusListCredential is not a URL")
    size = entry.get("statusSize", 1)
    if not _is_int(size) or not 1 <= size <= MAX_STATUS_SIZE:
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusSize is not a supported integer")
    reference = entry.get("statusReference")
    if "statusReference" in entry and not (
        _is_url(reference) or (isinstance(reference, list) and all(map(_is_url, reference)))
    ):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusReference is not a URL")
    messages = _parse_messages(entry, size)
    return BitstringStatusEntry(purpose, index, url, size, messages)


def _parse_index(value: Any) -> int:
    # §2.1: an integer >= 0 expressed as a string in base 10.
    if not isinstance(value, str) or not _INDEX.fullmatch(value):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusListIndex is not a base-10 string")
    if len(value) > 20:
        raise InvalidCredential("RANGE_ERROR", "statusListIndex is beyond any accepted list")
    return int(value)


def _parse_messages(entry: dict[str, Any], size: int) -> tuple[StatusMessage, ...]:
    if "statusMessage" not in entry:
        # §2.1: statusMessage MUST be present if statusSize is greater than 1.
        if size > 1:
            raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusMessage is missing")
        return ()
    items = entry["statusMessage"]
    # §2.1: one message per possible value, each with status ("0x..") and message strings.
    if not isinstance(items, list) or len(items) != 1 << size:
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusMessage has the wrong length")
    messages = []
    for item in items:
        status = item.get("status") if isinstance(item, dict) else None
        text = item.get("message") if isinstance(item, dict) else None
        if not isinstance(status, str) or not _HEX_STATUS.fullmatch(status):
            raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusMessage status is not hex")
        if not isinstance(text, str):
            raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusMessage message is missing")
        messages.append(StatusMessage(int(status, 16), text))
    if {m.status for m in messages} != set(range(1 << size)):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusMessage values do not match")
    return tuple(messages)


def check_status_list_credential(doc: Any, *, purpose: str, list_url: str) -> Bitstring:
    """§3.2 on a list credential whose proof the caller verified; returns its bitstring.

    ``list_url`` is the entry's ``statusListCredential``: a document naming another ``id`` is a
    different list (§2.2: ``id`` MAY match the entry's URL) and fails verification.
    """
    if not isinstance(doc, dict) or not _has_type(doc.get("type"), CREDENTIAL_TYPE):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "not a BitstringStatusListCredential")
    if "id" in doc and doc["id"] != list_url:
        raise InvalidCredential("STATUS_VERIFICATION_ERROR", "list credential id is another list")
    subject = doc.get("credentialSubject")
    if not isinstance(subject, dict) or not _has_type(subject.get("type"), SUBJECT_TYPE):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "credentialSubject is not a status list")
    purposes = subject.get("statusPurpose")
    purposes = [purposes] if isinstance(purposes, str) else purposes
    if not isinstance(purposes, list) or not purposes or not all(map(_is_str, purposes)):
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "statusPurpose is not a string or list")
    # §3.2: the entry's purpose MUST be one of the list's purposes.
    if purpose not in purposes:
        raise InvalidCredential("STATUS_VERIFICATION_ERROR", "status purpose does not match")
    ttl = subject.get("ttl", 0)
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl < 0:
        raise InvalidCredential("MALFORMED_VALUE_ERROR", "ttl is not a number of milliseconds")
    return decode_bitstring(subject.get("encodedList"))


def read_status(entry: BitstringStatusEntry, bitstring: Bitstring) -> BitstringStatus:
    """§3.2 final steps: length per ``statusSize``, the value at the index, valid iff 0."""
    if bitstring.length // entry.size < MIN_ENTRIES:
        raise InvalidCredential("STATUS_LIST_LENGTH_ERROR", "list has fewer than 131,072 entries")
    value = bitstring.get(entry.index, entry.size)
    message = next((m.message for m in entry.messages if m.status == value), None)
    return BitstringStatus(entry.purpose, value, value == 0, message)


def status_list_credential_subject(
    *, list_url: str, purpose: str, encoded_list: str, ttl_ms: int | None = None
) -> dict[str, Any]:
    """The §2.2 ``credentialSubject`` of a list credential."""
    if purpose not in PURPOSES - {"message"}:
        raise ValueError("purpose is refresh, revocation or suspension")
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": SUBJECT_TYPE,
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    return subject


def build_status_list_credential(
    *,
    list_url: str,
    issuer: str,
    subject: dict[str, Any],
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned VCDM 2.0 ``BitstringStatusListCredential`` (§2.2) with ``id`` = ``list_url``."""
    doc: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": _date_time_stamp(valid_from),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        doc["validUntil"] = _date_time_stamp(valid_until)
    return doc


def build_status_entry(*, purpose: str, index: int, list_url: str) -> dict[str, Any]:
    """A one-bit §2.1 ``credentialStatus`` entry for an issued credential."""
    if purpose not in PURPOSES - {"message"} or not _is_int(index) or index < 0:
        raise ValueError("a one-bit entry has a non-message purpose and an index >= 0")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def _date_time_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("validity times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _has_type(value: Any, name: str) -> bool:
    return value == name or (isinstance(value, list) and name in value)


def _is_url(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def _is_str(value: Any) -> TypeGuard[str]:
    return isinstance(value, str)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
