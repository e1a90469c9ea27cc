"""Building an SD-JWT: RFC 9901 (Nov 2025) §4.1 and §4.2.4-§4.2.6, plus §4 serialization.

``make_sd_payload`` turns a claims tree into the Issuer-signed JWT payload and its Disclosures:
object members become digests in a sorted ``_sd`` array (§4.2.4.1), array elements become
``{"...": digest}`` (§4.2.4.2), decoy digests may be added (§4.2.5), and a disclosable member whose
value has disclosable children is built bottom-up so its Disclosure carries the children's digests
(recursive disclosure, §4.2.6). Randomness comes only from the injected salt source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from verifier import disclosure, jose
from verifier.disclosure import Disclosure, SaltSource

ClaimPath = tuple[str | int, ...]
#: Decides per claim path (names and array indices) whether that claim is selectively disclosable.
Disclosable = Callable[[ClaimPath], bool]
#: Decoy digests to add per container: an int for every container that already has selectively
#: disclosable members, or a callable giving the count for the container at a claim path.
Decoys = int | Callable[[ClaimPath], int]
#: Names an issuer must not use as claims (§4.1 rule 7; ``_sd_alg`` is reserved, §4.1.1).
RESERVED_NAMES = frozenset({"_sd", "...", "_sd_alg"})
_SCALARS = frozenset({str, int, float, bool, type(None)})


class _Builder:
    def __init__(
        self, disclosable: Disclosable, salt: SaltSource, decoys: Decoys, sd_alg: str
    ) -> None:
        self.disclosable = disclosable
        self.salt = salt
        self.decoys = decoys
        self.sd_alg = sd_alg
        self.hash = disclosure.HASH_ALGORITHMS[sd_alg]
        self.disclosures: list[Disclosure] = []
        self.salts: set[str] = set()

    def _fresh_salt(self) -> str:
        value = disclosure.salt_string(self.salt)
        if value in self.salts:
            # §4.2.1: the salt MUST be unique for each selectively disclosable claim.
            raise ValueError("salt source repeated a salt")
        self.salts.add(value)
        return value

    def _decoy_count(self, path: ClaimPath, has_sd: bool) -> int:
        if isinstance(self.decoys, int):
            return self.decoys if has_sd else 0
        return self.decoys(path)

    def _hide(self, made: Disclosure) -> str:
        self.disclosures.append(made)
        # §4.2.3 with the hash looked up once per payload (made.digest checks sd_alg per call).
        return jose.b64url_encode(self.hash(made.raw.encode("ascii")).digest())

    def build(self, value: Any, path: ClaimPath) -> Any:
        # Exact types first: claims are plain JSON values, and isinstance(Mapping) is an ABC check.
        kind = type(value)
        if kind is dict:
            return self._object(value, path)
        if kind is list:
            return self._array(value, path)
        if kind in _SCALARS:
            return value
        if isinstance(value, Mapping):
            return self._object(value, path)
        if isinstance(value, list | tuple):
            return self._array(value, path)
        return value

    def _object(self, claims: Mapping[str, Any], path: ClaimPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, value in claims.items():
            if not isinstance(name, str) or name in RESERVED_NAMES:
                raise ValueError("claim name is not a string or is reserved by SD-JWT")
            child_path = (*path, name)
            child = self.build(value, child_path)  # children first: §4.2.6
            if self.disclosable(child_path):
                made = disclosure.object_disclosure(self._fresh_salt(), name, child)
                digests.append(self._hide(made))
            else:
                out[name] = child
        count = self._decoy_count(path, bool(digests))
        digests.extend(disclosure.decoy_digest(self.salt, self.sd_alg) for _ in range(count))
        if digests:
            # §4.2.4.1: hide the original order; sorting does not depend on it.
            out["_sd"] = sorted(digests)
        return out

    def _array(self, elements: Iterable[Any], path: ClaimPath) -> list[Any]:
        out: list[Any] = []
        has_sd = False
        for index, value in enumerate(elements):
            child_path = (*path, index)
            child = self.build(value, child_path)
            if self.disclosable(child_path):
                has_sd = True
                made = disclosure.array_disclosure(self._fresh_salt(), child)
                out.append({"...": self._hide(made)})
            else:
                out.append(child)
        for _ in range(self._decoy_count(path, has_sd)):
            decoy = disclosure.decoy_digest(self.salt, self.sd_alg)
            # The position comes from the decoy's random bytes, never from the claims (§4.2.5).
            position = int.from_bytes(jose.b64url_decode(decoy)[:4], "big") % (len(out) + 1)
            out.insert(position, {"...": decoy})
        return out


def make_sd_payload(
    claims: Mapping[str, Any],
    *,
    disclosable: Disclosable,
    salt: SaltSource,
    decoys: Decoys = 0,
    hash_alg: str = disclosure.DEFAULT_SD_ALG,
) -> tuple[dict[str, Any], list[Disclosure]]:
    """The Issuer-signed JWT payload (with ``_sd_alg``) and every Disclosure, in creation order.

    ``disclosable`` is asked once per claim path below the root; the root is never hidden.
    Raises ValueError for a reserved claim name (``_sd``, ``...``, ``_sd_alg``), a repeated salt,
    a salt under 128 bits, or an unsupported ``hash_alg``.
    """
    if hash_alg not in disclosure.HASH_ALGORITHMS:
        raise ValueError("unsupported SD-JWT hash algorithm")
    builder = _Builder(disclosable, salt, decoys, hash_alg)
    payload = builder._object(claims, ())
    payload["_sd_alg"] = hash_alg  # §4.1.1: top level only
    return payload, builder.disclosures


def serialize(issuer_jwt: str, disclosures: Iterable[str], kb_jwt: str | None = None) -> str:
    """``<Issuer-signed JWT>~<D1>~...~<Dn>~[<KB-JWT>]`` (RFC 9901 §4)."""
    return "".join([issuer_jwt, "~", *(f"{d}~" for d in disclosures), kb_jwt or ""])


def issue(
    claims: Mapping[str, Any],
    *,
    header: Mapping[str, Any] | jose.EncodedHeader,
    signer: jose.Signer,
    disclosable: Disclosable,
    salt: SaltSource,
    decoys: Decoys = 0,
    hash_alg: str = disclosure.DEFAULT_SD_ALG,
) -> str:
    """Build, sign (``header`` carries ``alg`` and e.g. ``typ``) and serialize an SD-JWT.

    ``header`` may be encoded already (``jose.encode_header``), to reuse it for many credentials.
    """
    alg = header.alg if isinstance(header, jose.EncodedHeader) else header.get("alg")
    if alg not in jose.ASYMMETRIC_ALGS:
        # §4.1: the Issuer-signed JWT MUST be signed, never with "none".
        raise ValueError("header alg must be an asymmetric signature algorithm")
    payload, made = make_sd_payload(
        claims, disclosable=disclosable, salt=salt, decoys=decoys, hash_alg=hash_alg
    )
    encoded = header if isinstance(header, jose.EncodedHeader) else dict(header)
    token = jose.sign_compact(encoded, payload, signer)
    return serialize(token, (d.raw for d in made))
