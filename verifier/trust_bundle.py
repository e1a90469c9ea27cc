"""The signed trust bundle: a JWT with ``typ`` ``trust-bundle+jwt`` (docs/trust-bundle.md).

DUO serves its bundle at ``/.well-known/trust-bundle`` as a compact JWS whose payload is the bundle
itself, signed by the current issuer key with its ``x5c`` chain. Opening it checks that the
signature comes from a key that the bundle's own anchors certify for the bundle's issuer: this
proves the file is whole and self-consistent, not that it is DUO's. That trust still comes from
comparing the root certificate's fingerprint out of band, exactly as for the plain JSON form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from verifier import jose
from verifier.errors import InvalidCredential
from verifier.trust import TrustStore

TYP = "trust-bundle+jwt"
ALGORITHMS = frozenset({"ES256"})


def open_bundle_jwt(token: str, *, now: datetime) -> dict[str, Any]:
    """The bundle inside a ``trust-bundle+jwt`` after checking its signature and chain."""
    jws = jose.parse_compact(token.strip(), code="trust_bundle_malformed")
    if jws.header.get("typ") != TYP:
        raise InvalidCredential("trust_bundle_malformed", "the JWT is not a trust bundle")
    bundle = jws.payload
    store = TrustStore.from_bundle(bundle)  # layout, and every published key certified
    key = store.issuer_key(jws.header, bundle.get("issuer"), now=now, signed_at=None)
    jose.verify_signature(jws, key, algorithms=ALGORITHMS, code="trust_bundle_signature_invalid")
    return bundle
