"""SD-JWT compact serialization and verification: RFC 9901 (Nov 2025) §4 and §7.1.

``parse`` splits ``<Issuer-signed JWT>~<D1>~...~<Dn>~[<KB-JWT>]`` and decodes every part without
trusting any of it. Whether a KB-JWT must be present is the caller's policy, decided before parsing
(§7.3 step 1), and passed in as ``expect_kb``. ``verify`` is the §7.1 sequence for a caller that
already knows the issuer's public key; the SD-JWT VC layer resolves keys (x5c, issuer metadata)
itself and then calls ``sd_jwt_processing.process``.

Only the JWS Compact Serialization is implemented; the JWS JSON Serialization (§8) is not.
Limits: the whole input is at most 256 KiB (``MAX_SD_JWT_BYTES``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verifier import disclosure, jose
from verifier.disclosure import Disclosure
from verifier.errors import InvalidCredential
from verifier.sd_jwt_processing import process, sd_alg_of

MAX_SD_JWT_BYTES = 256 * 1024


@dataclass(frozen=True)
class SdJwt:
    """A parsed, not yet verified, SD-JWT or SD-JWT+KB."""

    issuer_jwt: jose.CompactJws
    disclosures: tuple[Disclosure, ...]
    kb_jwt: jose.CompactJws | None
    sd_alg: str
    raw: str

    @property
    def without_kb(self) -> str:
        """``<Issuer-signed JWT>~<D1>~...~<Dn>~`` exactly as received (the ``sd_hash`` input)."""
        return self.raw[: self.raw.rindex("~") + 1]


def _split(compact: Any) -> list[str]:
    if not isinstance(compact, str):
        raise InvalidCredential("sd_jwt_malformed", "SD-JWT is not a string")
    if len(compact) > MAX_SD_JWT_BYTES:
        raise InvalidCredential("input_too_large", "SD-JWT exceeds the size limit")
    if not compact.isascii():
        raise InvalidCredential("sd_jwt_malformed", "SD-JWT contains non-ASCII characters")
    parts = compact.split("~")
    if len(parts) < 2 or any(not part for part in parts[:-1]):
        # §4: "<JWT>~" at least; no empty Disclosure between two tildes.
        raise InvalidCredential("sd_jwt_malformed", "SD-JWT does not have the ~ structure")
    return parts


def parse(compact: Any, *, expect_kb: bool) -> SdJwt:
    """Split and decode an SD-JWT (``expect_kb=False``) or SD-JWT+KB (``expect_kb=True``).

    Raises ``input_too_large``, ``sd_jwt_malformed``, ``kb_jwt_malformed``,
    ``disclosure_malformed``, ``sd_alg_unsupported``, ``kb_jwt_missing`` (§7.3 step 2),
    ``kb_jwt_unexpected`` (§4: a Verifier expecting an SD-JWT checks the last part is empty;
    §7.2: a Holder rejects an SD-JWT+KB from an Issuer), or a strict_json code.
    """
    parts = _split(compact)
    issuer_jwt = jose.parse_compact(parts[0], code="sd_jwt_malformed")
    sd_alg = sd_alg_of(issuer_jwt.payload)
    disclosures = tuple(disclosure.decode(part) for part in parts[1:-1])
    if expect_kb and not parts[-1]:
        raise InvalidCredential("kb_jwt_missing", "a key binding JWT is required but absent")
    if not expect_kb and parts[-1]:
        raise InvalidCredential("kb_jwt_unexpected", "SD-JWT must end with a tilde")
    kb_jwt = jose.parse_compact(parts[-1], code="kb_jwt_malformed") if parts[-1] else None
    return SdJwt(issuer_jwt, disclosures, kb_jwt, sd_alg, compact)


def verify(sd_jwt: SdJwt, *, issuer_key: Any, algorithms: Iterable[str]) -> dict[str, Any]:
    """§7.1 for a known issuer key: signature (never ``none``), then Disclosure processing.

    ``issuer_key`` is a public key object or public JWK. Raises ``sd_jwt_signature_invalid``
    or any code of ``sd_jwt_processing.process``. Checking ``typ``, ``iss``, ``exp``, ``nbf``
    and the key's provenance is left to the application layer (SD-JWT VC).
    """
    # §7.1 step 2.1-2.2; jose refuses "none" and MACs whatever ``algorithms`` says.
    jose.verify_signature(
        sd_jwt.issuer_jwt, issuer_key, algorithms=algorithms, code="sd_jwt_signature_invalid"
    )
    return process(sd_jwt.issuer_jwt.payload, sd_jwt.disclosures)
