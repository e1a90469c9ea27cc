"""Bounded DEFLATE decompression for status lists (ZLIB RFC 1950 and GZIP RFC 1952 framing).

draft-ietf-oauth-status-list-20 §4.1 compresses the Token Status List with DEFLATE in ZLIB format;
W3C Bitstring Status List v1.0 §2.2/§3.4 compresses the bitstring with GZIP. Both are fetched from
anywhere, and DEFLATE expands up to about 1032:1, so 100 KiB can become 100 MiB (a "zip bomb").
Decompression here runs in steps whose output never exceeds the cap by more than one byte, so
memory stays bounded whatever the input claims.

Limits: output above ``MAX_OUTPUT`` (16 MiB, 134,217,728 one-bit entries) is refused; one stream
only (no trailing bytes, no second GZIP member).
"""

from __future__ import annotations

import zlib

from verifier.errors import InvalidCredential

MAX_OUTPUT = 16 * 1024 * 1024
_STEP = 1024 * 1024
_ZLIB_WBITS = 15  # RFC 1950 header and Adler-32 trailer
_GZIP_WBITS = 31  # RFC 1952 header and CRC-32 trailer


class CorruptStream(ValueError):
    """The compressed data is not one complete, valid stream; callers map it to their own code."""


def inflate_zlib(data: bytes, *, max_output: int = MAX_OUTPUT) -> bytes:
    """Decompress one ZLIB stream (RFC 1950); raises CorruptStream or ``status_list_too_large``."""
    return _inflate(data, _ZLIB_WBITS, max_output)


def inflate_gzip(data: bytes, *, max_output: int = MAX_OUTPUT) -> bytes:
    """Decompress one GZIP member (RFC 1952); raises CorruptStream or ``status_list_too_large``."""
    return _inflate(data, _GZIP_WBITS, max_output)


def _inflate(data: bytes, wbits: int, max_output: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    try:
        while not decompressor.eof:
            # Ask for at most one byte past the cap: enough to know the cap is exceeded.
            room = min(_STEP, max_output + 1 - len(out))
            chunk = decompressor.decompress(pending, room)
            out += chunk
            if len(out) > max_output:
                raise InvalidCredential("status_list_too_large", "status list expands past the cap")
            tail = decompressor.unconsumed_tail
            if not chunk and len(tail) == len(pending):
                raise CorruptStream("compressed stream is truncated")
            pending = tail
    except zlib.error:
        raise CorruptStream("compressed stream is invalid") from None
    if decompressor.unused_data:
        raise CorruptStream("bytes follow the compressed stream")
    return bytes(out)
