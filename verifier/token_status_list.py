"""IETF Token Status List, draft-ietf-oauth-status-list-20: the JSON status list and its JWT.

§4.1 the compressed byte array (``bits`` 1/2/4/8, packed from the least significant bit, DEFLATE
in ZLIB format), §4.2 the JSON ``StatusList``, §5.1 the Status List Token as a JWT, §6.2 the
``status.status_list`` reference of a Referenced Token, §7.1 status values, §8.2 the response
media type, §8.3 the Relying Party's validation steps and §8.4 historical resolution.

The issuer's builders and the verifier's checks share the packing code, so both read the same
bits. Pure functions (a bounded memo skips re-verifying a token already verified under the same
key): the caller fetches the token and resolves (and trusts) its key. Limits: JWT only (no CWT);
a decompressed list above 16 MiB is refused (``verifier.bounded_inflate``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeGuard

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from verifier.bounded_inflate import CorruptStream, inflate_zlib
from verifier.errors import InvalidCredential
from verifier.jose import (
    ASYMMETRIC_ALGS,
    Signer,
    b64url_decode,
    b64url_encode,
    parse_compact,
    sign_compact,
    verify_signature,
)

ALLOWED_BITS = frozenset({1, 2, 4, 8})
TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
#: RFC 3986 §3: an absolute URI starts with a scheme; whitespace never occurs in one.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")

#: Returns the public key (or public JWK) for a status list token, given its header and payload;
#: it validates ``x5c`` or ``kid`` against the caller's trust store and raises if untrusted.
KeyResolver = Callable[[dict[str, Any], dict[str, Any]], Any]


class StatusType(StrEnum):
    """§7.1 Status Type values."""

    VALID = "VALID"  # 0x00
    INVALID = "INVALID"  # 0x01: revoked, annulled, cancelled
    SUSPENDED = "SUSPENDED"  # 0x02: temporarily invalid
    APPLICATION_SPECIFIC = "APPLICATION_SPECIFIC"  # 0x03 and 0x0C..0x0F
    UNASSIGNED = "UNASSIGNED"  # reserved for future registration


def status_value_meaning(value: int) -> StatusType:
    """The §7.1 meaning of a status value (0..255)."""
    if not _is_int(value) or not 0 <= value <= 255:
        raise ValueError("a status value is an integer from 0 to 255")
    if value <= 2:
        return (StatusType.VALID, StatusType.INVALID, StatusType.SUSPENDED)[value]
    if value == 3 or 0x0C <= value <= 0x0F:
        return StatusType.APPLICATION_SPECIFIC
    return StatusType.UNASSIGNED


@dataclass(frozen=True)
class StatusReference:
    """The ``status.status_list`` member of a Referenced Token (§6.2)."""

    idx: int
    uri: str

    def claim(self) -> dict[str, Any]:
        """The Referenced Token's ``status`` claim for this reference (building side)."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


def check_status_reference(claims: Mapping[str, Any]) -> StatusReference:
    """§8.3 step 1: ``status.status_list`` = ``{idx: integer >= 0, uri: URI}`` (§6.2)."""
    status = claims.get("status")
    reference = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(reference, dict):
        raise InvalidCredential("status_reference_malformed", "status.status_list is missing")
    idx, uri = reference.get("idx"), reference.get("uri")
    if not _is_int(idx) or idx < 0:
        raise InvalidCredential("status_reference_malformed", "idx is not a non-negative integer")
    if not isinstance(uri, str) or not _URI.fullmatch(uri):
        raise InvalidCredential("status_reference_malformed", "uri is not an absolute URI")
    return StatusReference(idx, uri)


@dataclass(frozen=True)
class StatusList:
    """A decoded Status List (§4.2); ``iat``/``exp``/``ttl`` are set when read from a token."""

    bits: int
    data: bytes = field(repr=False)
    aggregation_uri: str | None = None
    iat: int | float | None = None
    exp: int | float | None = None
    ttl: int | float | None = None

    @property
    def size(self) -> int:
        """The number of entries the byte array holds."""
        return len(self.data) * 8 // self.bits

    def get(self, idx: int) -> int:
        """The status value at ``idx`` (§4.1 step 3: packed from the least significant bit)."""
        # §8.3 step 6: an index out of bounds MUST make the Referenced Token rejected.
        if not _is_int(idx) or not 0 <= idx < self.size:
            raise InvalidCredential("status_index_out_of_range", "index is beyond the status list")
        per_byte = 8 // self.bits
        shift = (idx % per_byte) * self.bits
        return (self.data[idx // per_byte] >> shift) & ((1 << self.bits) - 1)

    @classmethod
    def decode(cls, obj: Any) -> StatusList:
        """Parse a §4.2 ``StatusList`` JSON object and decompress ``lst`` (bounded)."""
        if not isinstance(obj, dict):
            raise InvalidCredential("status_list_malformed", "status_list is not an object")
        bits, lst = obj.get("bits"), obj.get("lst")
        # §4.2: bits MUST be 1, 2, 4 or 8.
        if not _is_int(bits) or bits not in ALLOWED_BITS:
            raise InvalidCredential("status_list_malformed", "bits is not 1, 2, 4 or 8")
        if not isinstance(lst, str):
            raise InvalidCredential("status_list_malformed", "lst is not a string")
        aggregation_uri = obj.get("aggregation_uri")
        if "aggregation_uri" in obj and not isinstance(aggregation_uri, str):
            raise InvalidCredential("status_list_malformed", "aggregation_uri is not a string")
        compressed = b64url_decode(lst, "status_list_malformed")
        try:
            data = inflate_zlib(compressed)
        except CorruptStream:
            raise InvalidCredential("status_list_malformed", "lst is not a ZLIB stream") from None
        return cls(bits, data, aggregation_uri)


def encode_status_list(
    statuses: Sequence[int], bits: int, *, aggregation_uri: str | None = None
) -> dict[str, Any]:
    """The §4.2 ``StatusList`` object for ``statuses`` (entry ``i`` = ``statuses[i]``)."""
    packed = _pack(statuses, bits)
    # §4.1 step 4: DEFLATE in ZLIB format, highest compression level RECOMMENDED.
    encoded: dict[str, Any] = {"bits": bits, "lst": b64url_encode(zlib.compress(packed, 9))}
    if aggregation_uri is not None:
        encoded["aggregation_uri"] = aggregation_uri
    return encoded


def _pack(statuses: Sequence[int], bits: int) -> bytes:
    if not _is_int(bits) or bits not in ALLOWED_BITS:
        raise ValueError("bits must be 1, 2, 4 or 8")
    per_byte = 8 // bits
    out = bytearray(-(-len(statuses) // per_byte))
    limit = 1 << bits
    for i, value in enumerate(statuses):
        if value:
            if not _is_int(value) or not 0 < value < limit:
                raise ValueError("a status value does not fit in bits")
            out[i // per_byte] |= value << ((i % per_byte) * bits)
    return bytes(out)


def build_status_list_token(
    statuses: Sequence[int],
    bits: int,
    *,
    uri: str,
    iat: int,
    exp: int,
    ttl: int,
    signer: Signer,
    alg: str,
    x5c: Sequence[str] | None = None,
    kid: str | None = None,
    aggregation_uri: str | None = None,
) -> str:
    """A signed §5.1 Status List Token; ``iat``/``exp`` are NumericDates, ``ttl`` seconds."""
    if alg not in ASYMMETRIC_ALGS:
        raise ValueError("status list tokens are signed with an asymmetric algorithm")
    if not x5c and kid is None:
        raise ValueError("a status list token names its key by x5c or kid")
    if ttl <= 0 or exp <= iat:
        raise ValueError("ttl must be positive and exp later than iat")
    header: dict[str, Any] = {"alg": alg, "typ": TYP}
    if kid is not None:
        header["kid"] = kid
    if x5c:
        header["x5c"] = list(x5c)
    payload = {
        "sub": uri,
        "iat": iat,
        "exp": exp,
        "ttl": ttl,
        "status_list": encode_status_list(statuses, bits, aggregation_uri=aggregation_uri),
    }
    return sign_compact(header, payload, signer)


def check_content_type(content_type: str) -> None:
    """§8.2: the response's media type MUST be ``application/statuslist+jwt``."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != MEDIA_TYPE:
        raise InvalidCredential("status_list_content_type_invalid", "wrong response media type")


#: Memo of a pure function: (token, uri, key SPKI DER, algorithms) -> the decoded list of a token
#: whose signature verifies under that key and whose ``sub`` is that uri. Equal inputs give an
#: equal outcome, so a repeat skips signature and inflate; only successes are kept; the checks
#: that depend on ``now`` or on the caller run every time. Emptied when it holds VERIFIED_LISTS.
_VERIFIED: dict[tuple[str, str, bytes, frozenset[str]], StatusList] = {}
VERIFIED_LISTS = 64


def _spki(key: Any) -> bytes | None:
    """The key's SubjectPublicKeyInfo DER; None (never memoised) for a JWK or an unknown type."""
    try:
        der: bytes = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except (AttributeError, TypeError, ValueError):
        return None
    return der


def verify_status_list_token(
    token: str,
    *,
    uri: str,
    resolve_key: KeyResolver,
    now: datetime,
    algorithms: Iterable[str],
    content_type: str | None = None,
    at: datetime | None = None,
) -> StatusList:
    """§8.3 steps 3-5 on a fetched token for the reference ``uri``; returns the decoded list.

    ``content_type`` is the HTTP response's (checked first, §8.2). ``at`` asks for historical
    resolution (§8.4): the token must then cover ``at`` instead of being unexpired at ``now``.
    """
    if now.tzinfo is None or (at is not None and at.tzinfo is None):
        raise ValueError("now and at must be timezone-aware")
    if content_type is not None:
        check_content_type(content_type)
    jws = parse_compact(token, code="status_list_malformed")
    _check_header(jws.header)
    key = resolve_key(jws.header, jws.payload)
    allowed, der = frozenset(algorithms), _spki(key)
    memo = None if der is None else (token, uri, der, allowed)
    known = None if memo is None else _VERIFIED.get(memo)
    if known is None:
        # §5.1 rule 2: Relying Parties MUST reject JWTs with an invalid signature.
        verify_signature(jws, key, algorithms=allowed, code="status_list_signature_invalid")
        # §5.1 / §8.3 step 4a: sub MUST equal the uri of the Referenced Token's status_list.
        if jws.payload.get("sub") != uri:
            raise InvalidCredential("status_list_sub_mismatch", "sub is not the referenced uri")
    iat, exp, ttl = _validity_claims(jws.payload, now, at)
    if known is None:
        decoded = StatusList.decode(jws.payload.get("status_list"))
        known = replace(decoded, iat=iat, exp=exp, ttl=ttl)  # frozen, so shared safely
        if memo is not None:
            if len(_VERIFIED) >= VERIFIED_LISTS:
                _VERIFIED.clear()
            _VERIFIED[memo] = known
    return known


def _check_header(header: dict[str, Any]) -> None:
    typ = header.get("typ")
    # §5.1: typ MUST be statuslist+jwt (RFC 7515 §4.1.9: "application/" may be omitted).
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != TYP:
        raise InvalidCredential("status_list_typ_invalid", "typ is not statuslist+jwt")
    if "crit" in header:  # RFC 7515 §4.1.11: no extension is understood here
        raise InvalidCredential("status_list_malformed", "JWS crit header is not supported")


def _validity_claims(
    claims: dict[str, Any], now: datetime, at: datetime | None
) -> tuple[int | float, int | float | None, int | float | None]:
    iat, exp, ttl, nbf = (claims.get(name) for name in ("iat", "exp", "ttl", "nbf"))
    if not _is_number(iat):  # §5.1: iat is REQUIRED
        raise InvalidCredential("status_list_malformed", "iat is missing or not a number")
    if not (exp is None or _is_number(exp)) or not (nbf is None or _is_number(nbf)):
        raise InvalidCredential("status_list_malformed", "exp or nbf is not a number")
    if not (ttl is None or (_is_number(ttl) and ttl > 0)):  # §5.1: a positive number
        raise InvalidCredential("status_list_malformed", "ttl is not a positive number")
    if nbf is not None and nbf > now.timestamp():  # RFC 7519 §4.1.5
        raise InvalidCredential("status_list_not_yet_valid", "status list token is not yet valid")
    if at is None:
        # §8.3 step 4c: if exp is present, the token MUST NOT be expired.
        if exp is not None and exp <= now.timestamp():
            raise InvalidCredential("status_list_expired", "status list token has expired")
    elif not covers_time(claims, at):
        # §8.4: reject unless the requested time lies within the token's iat..exp.
        raise InvalidCredential("status_list_time_not_covered", "token does not cover the time")
    return iat, exp, ttl


def covers_time(token_payload: Mapping[str, Any], at: datetime) -> bool:
    """§8.4: whether ``at`` lies in the token's validity, ``iat <= at < exp`` (no ``exp``: open)."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    iat, exp = token_payload.get("iat"), token_payload.get("exp")
    moment = at.timestamp()
    if not _is_number(iat) or moment < iat:
        return False
    return exp is None or (_is_number(exp) and moment < exp)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
