"""SD-JWT Disclosures: RFC 9901 (Nov 2025) §4.2.1-§4.2.3 and the hash algorithm claim of §4.1.1.

A Disclosure is the base64url encoding of a JSON array: ``[salt, name, value]`` for an object
property (§4.2.1) or ``[salt, value]`` for an array element (§4.2.2). Its digest is taken over the
US-ASCII bytes of the Disclosure string exactly as received, never over a re-encoding (§4.2.3).

Hash algorithms: ``sha-256`` (the default and mandatory one, §4.1.1), ``sha-384`` and ``sha-512``
from the IANA Named Information registry. Anything else, including truncated or weak hashes such as
``sha-256-32``, ``md5`` or ``sha-1``, is refused (§9.5 "Choice of a Hash Algorithm").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from verifier import jose, strict_json
from verifier.errors import InvalidCredential

DEFAULT_SD_ALG = "sha-256"
#: Hash Name Strings (IANA "Named Information Hash Algorithm" registry) this verifier accepts.
HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
#: Claim names a Disclosure may never carry (RFC 9901 §4.2.1, §7.1 step 3.3.2.2).
FORBIDDEN_NAMES = frozenset({"_sd", "..."})
#: 128 bits of salt, the entropy RFC 9901 §9.3 recommends.
SALT_BYTES = 16

#: An injected source of randomness, e.g. ``secrets.token_bytes`` (32 bytes per call); tests pass a
#: deterministic callable. Bytes must be at least ``SALT_BYTES`` long; a str is used as given.
SaltSource = Callable[[], bytes | str]


def check_sd_alg(sd_alg: Any) -> str:
    """Return ``sd_alg`` if it names a supported, strong hash; raise ``sd_alg_unsupported``."""
    if not isinstance(sd_alg, str) or sd_alg not in HASH_ALGORITHMS:
        raise InvalidCredential("sd_alg_unsupported", "_sd_alg is unknown or too weak")
    return sd_alg


def b64_hash(data: str | bytes, sd_alg: str) -> str:
    """base64url(H(data)); a str is hashed as its US-ASCII bytes (RFC 9901 §4.2.3, §4.3.1)."""
    raw = data.encode("ascii") if isinstance(data, str) else data
    return jose.b64url_encode(HASH_ALGORITHMS[check_sd_alg(sd_alg)](raw).digest())


@dataclass(frozen=True)
class Disclosure:
    """One decoded Disclosure; ``name`` is None for an array element (RFC 9901 §4.2.2)."""

    raw: str
    salt: str
    name: str | None
    value: Any
    #: sd_alg -> digest of ``raw``, so that one verification hashes each Disclosure once. Not an
    #: init field: replace() (e.g. with another ``raw``) starts with an empty one.
    _digests: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def is_array_element(self) -> bool:
        return self.name is None

    def digest(self, sd_alg: str) -> str:
        """The digest over the Disclosure string exactly as received (§4.2.3)."""
        found = self._digests.get(check_sd_alg(sd_alg))
        if found is None:
            found = self._digests[sd_alg] = b64_hash(self.raw, sd_alg)
        return found


def salt_string(salt: SaltSource) -> str:
    """One salt from the injected source: bytes (at least 128 bits) are base64url-encoded."""
    value = salt()
    if isinstance(value, bytes):
        if len(value) < SALT_BYTES:
            raise ValueError("salt source returned fewer than 128 bits")
        return jose.b64url_encode(value)
    if not isinstance(value, str) or not value:
        raise ValueError("salt source must return bytes or a non-empty string")
    return value


def _encode(*items: Any) -> str:
    """base64url of the JSON array of ``items``, as strict_json.dumps would write it.

    The items are serialised one by one: a string is written without building a JSON encoder,
    which is what dumps of the whole array costs most of its time doing.
    """
    text = f"[{','.join(map(strict_json.dumps, items))}]"
    return jose.b64url_encode(text.encode("utf-8"))


def object_disclosure(salt: str, name: str, value: Any) -> Disclosure:
    """A Disclosure for an object property (RFC 9901 §4.2.1)."""
    if not isinstance(name, str) or name in FORBIDDEN_NAMES:
        # §4.2.1: the claim name MUST be a string and MUST NOT be "_sd" or "...".
        raise ValueError("claim name cannot be made selectively disclosable")
    return Disclosure(_encode(salt, name, value), salt, name, value)


def array_disclosure(salt: str, value: Any) -> Disclosure:
    """A Disclosure for an array element (RFC 9901 §4.2.2)."""
    return Disclosure(_encode(salt, value), salt, None, value)


def decode(raw: Any) -> Disclosure:
    """Decode a received Disclosure string; the shape is checked, the placement is not.

    Raises ``disclosure_malformed`` (not base64url, not a JSON array of 2 or 3 elements, salt or
    name not a string) or a strict_json code for JSON with duplicate names or deep nesting.
    """
    if not isinstance(raw, str) or not raw:
        raise InvalidCredential("disclosure_malformed", "disclosure is not a non-empty string")
    array = strict_json.loads(jose.b64url_decode(raw, "disclosure_malformed"))
    if not isinstance(array, list) or len(array) not in (2, 3):
        raise InvalidCredential("disclosure_malformed", "disclosure is not a 2 or 3 element array")
    if not isinstance(array[0], str):
        # §4.2.1: the salt MUST be a string.
        raise InvalidCredential("disclosure_malformed", "disclosure salt is not a string")
    if len(array) == 2:
        return Disclosure(raw, array[0], None, array[1])
    if not isinstance(array[1], str):
        raise InvalidCredential("disclosure_malformed", "disclosure claim name is not a string")
    return Disclosure(raw, array[0], array[1], array[2])


def decoy_digest(salt: SaltSource, sd_alg: str) -> str:
    """A decoy digest: the hash of fresh random data, with the Disclosures' hash (§4.2.5)."""
    value = salt()
    return b64_hash(value if isinstance(value, bytes) else value.encode("utf-8"), sd_alg)
