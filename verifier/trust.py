"""The trust store: which issuer keys, type metadata and status lists a verifier accepts.

SD-JWT VC (draft-ietf-oauth-sd-jwt-vc) §3.5 issuer-signed JWT verification key discovery: an
``x5c`` chain validated to a configured anchor (HAIP 1.0 §6.1.1), or the JWKS of the issuer's
``/.well-known/jwt-vc-issuer`` metadata whose ``issuer`` equals ``iss`` (§4; SPECS item 63). Built
explicitly from a trust bundle (docs/trust-bundle.md), from anchors, or from pinned keys; an empty
store trusts nothing. Pure: the caller reads the bundle file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from verifier import jose, x509_trust
from verifier.errors import InvalidCredential, VerificationIncomplete

BUNDLE_VERSION = 1
#: What ``cryptography`` may raise while it lazily parses a damaged certificate (names, version,
#: key, extensions), and its warnings when warnings are errors: each makes x5c ``x5c_malformed``.
_CERTIFICATE_FAULTS = (
    ValueError,
    TypeError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    Warning,
)


@dataclass(frozen=True)
class TrustStore:
    """Anchors, issuer key sets by issuer identifier, pinned keys, type metadata, status lists."""

    anchors: tuple[x509.Certificate, ...] = ()
    issuer_jwks: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    pinned_keys: tuple[dict[str, Any], ...] = ()
    #: vct -> the exact JSON text of its type metadata document (integrity is over these bytes).
    type_metadata: Mapping[str, str] = field(default_factory=dict)
    #: status list uri -> a snapshot of its ``statuslist+jwt``.
    status_lists: Mapping[str, str] = field(default_factory=dict)
    #: x5c chains this store has validated (keyed on chain and anchors, used only inside the
    #: validity window of the validated path); not an init field, so replace() starts afresh.
    _chains: x509_trust.ChainCache = field(
        default_factory=x509_trust.ChainCache, init=False, repr=False, compare=False
    )

    @classmethod
    def from_bundle(cls, bundle: Any) -> TrustStore:
        """A store from a parsed bundle; a malformed one raises ``trust_bundle_malformed``."""
        try:
            return cls._from_bundle(bundle)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidCredential("trust_bundle_malformed", "trust bundle is malformed") from None

    @classmethod
    def _from_bundle(cls, bundle: dict[str, Any]) -> TrustStore:
        if bundle["bundle_version"] != BUNDLE_VERSION:
            raise InvalidCredential("trust_bundle_malformed", "unsupported trust bundle version")
        metadata = bundle["issuer_metadata"]
        keys = tuple(metadata["jwks"]["keys"])
        if not isinstance(metadata["issuer"], str) or not all(isinstance(k, dict) for k in keys):
            raise ValueError("issuer metadata")
        anchors = tuple(x509_trust.load_anchors_pem(bundle["anchors"]))
        for jwk in keys:
            _check_certified(jwk, anchors, metadata["issuer"])
        return cls(
            anchors=anchors,
            issuer_jwks={metadata["issuer"]: keys},
            type_metadata=_str_map(bundle.get("type_metadata", {})),
            status_lists=_str_map(bundle.get("status_lists", {})),
        )

    @classmethod
    def from_anchors(cls, pems: Sequence[str]) -> TrustStore:
        return cls(anchors=tuple(x509_trust.load_anchors_pem(pems)))

    @classmethod
    def from_pinned_jwk(cls, jwk: Any) -> TrustStore:
        """Trust one public JWK, or the ``jwks`` of jwt-vc-issuer metadata for its ``issuer``."""
        if isinstance(jwk, dict) and isinstance(jwk.get("issuer"), str) and "jwks" in jwk:
            keys = jwk["jwks"].get("keys") if isinstance(jwk["jwks"], dict) else None
            if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
                raise InvalidCredential("trust_bundle_malformed", "issuer metadata has no jwks")
            return cls(issuer_jwks={jwk["issuer"]: tuple(keys)})
        jose.public_key_from_jwk(jwk)
        return cls(pinned_keys=(jwk,))

    def issuer_key(
        self, header: Mapping[str, Any], iss: Any, *, now: datetime, signed_at: datetime | None
    ) -> Any:
        """The public key that must have signed a JWS from ``iss`` with this header.

        With anchors and an ``x5c`` header the chain decides (and a bad chain is final); otherwise
        the key is looked up by ``kid`` (or by the x5c leaf's thumbprint) among the keys of the
        metadata whose ``issuer`` equals ``iss``, then among pinned keys.

        A diploma outlives its signing certificate. When the chain is valid except that it has
        expired, it is accepted only if it was valid at ``signed_at`` (the credential's ``iat``)
        and the issuer still publishes that key in its metadata (docs/trust-bundle.md): a retired
        key stays published while what it signed stays trustworthy.
        """
        if now.tzinfo is None or (signed_at is not None and signed_at.tzinfo is None):
            raise ValueError("now and signed_at must be timezone-aware")
        try:
            return self._issuer_key(header, iss, now=now, signed_at=signed_at)
        except _CERTIFICATE_FAULTS:
            # SPECS §8 item 62: a damaged certificate is a rejection, never a crash.
            raise InvalidCredential("x5c_malformed", "x5c certificate cannot be parsed") from None

    def status_list_key(
        self, header: Mapping[str, Any], iss: str, *, uri: str, now: datetime
    ) -> Any:
        """The key of a status list token for ``uri``, from a credential of ``iss``.

        With anchors and ``x5c``, the leaf must be certified for status lists under ``uri``
        (x509_trust.check_status_list_signer), so a status-list key can never pass as an issuer
        key nor the reverse; otherwise the issuer's own published or pinned keys are used.
        """
        if not (self.anchors and "x5c" in header):
            return self.issuer_key(header, iss, now=now, signed_at=None)
        try:
            leaf = self._chains.validate(header["x5c"], self.anchors, now=now)
            x509_trust.check_status_list_signer(leaf, uri, iss=iss)
            return x509_trust.leaf_public_key(leaf)
        except _CERTIFICATE_FAULTS:
            raise InvalidCredential("x5c_malformed", "x5c certificate cannot be parsed") from None

    def _issuer_key(
        self, header: Mapping[str, Any], iss: Any, *, now: datetime, signed_at: datetime | None
    ) -> Any:
        if not isinstance(iss, str):
            raise InvalidCredential("iss_missing", "credential has no iss")
        if self.anchors and "x5c" in header:
            leaf = self._validated_leaf(header, iss, now=now, signed_at=signed_at)
            x509_trust.check_issuer_name(leaf, iss)
            return x509_trust.leaf_public_key(leaf)
        for jwk in self.issuer_jwks.get(iss, ()):
            if _matches(jwk, header):
                return jose.public_key_from_jwk(_public_part(jwk))
        for jwk in self.pinned_keys:
            # A pinned key without a kid is the one key trusted: the signature decides.
            if "kid" not in jwk or _matches(jwk, header):
                return jose.public_key_from_jwk(_public_part(jwk))
        raise InvalidCredential("issuer_untrusted", "no trusted key for this issuer")

    def _validated_leaf(
        self, header: Mapping[str, Any], iss: str, *, now: datetime, signed_at: datetime | None
    ) -> x509.Certificate:
        try:
            return self._chains.validate(header["x5c"], self.anchors, now=now)
        except InvalidCredential as error:
            leaf_only = {"x5c": header["x5c"]}
            published = any(_matches(jwk, leaf_only) for jwk in self.issuer_jwks.get(iss, ()))
            if error.code != "x5c_expired" or signed_at is None or signed_at > now or not published:
                raise
        return self._chains.validate(header["x5c"], self.anchors, now=signed_at)


def _check_certified(jwk: Mapping[str, Any], anchors: Sequence[x509.Certificate], iss: str) -> None:
    """docs/trust-bundle.md: a published key counts only when the anchors vouch for it.

    Its ``x5c`` must chain to an anchor (checked at the leaf's start, so retired keys whose
    certificates have expired still count), name the issuer and certify this very key; else the
    bundle is ``trust_bundle_malformed``. Thus a mirror cannot add a key of its own.
    """
    x5c: Any = jwk.get("x5c")
    try:
        leaf = x509_trust.parse_certificate(x5c[0] if isinstance(x5c, list) and x5c else None)
        x509_trust.validate_chain(x5c, anchors, now=leaf.not_valid_before_utc)
        x509_trust.check_issuer_name(leaf, iss)
        leaf_jwk = jose.public_jwk(leaf.public_key())
        certified = jose.jwk_thumbprint(leaf_jwk) == jose.jwk_thumbprint(dict(jwk))
    except (InvalidCredential, VerificationIncomplete, *_CERTIFICATE_FAULTS):
        certified = False
    if not certified:
        raise InvalidCredential("trust_bundle_malformed", "a published key is not certified")


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("expected a string map")
    for text in (*value, *value.values()):
        text.encode("utf-8")  # JSON "\ud800" gives a lone surrogate: not text (ValueError)
    return dict(value)


def _public_part(jwk: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k in {"kty", "crv", "x", "y", "n", "e", "d"}}


def _matches(jwk: Mapping[str, Any], header: Mapping[str, Any]) -> bool:
    """Same kid, or (no kid in the header) the same key as the x5c leaf."""
    kid = header.get("kid")
    if isinstance(kid, str):
        return jwk.get("kid") == kid
    x5c = header.get("x5c")
    if isinstance(x5c, list) and x5c:
        try:
            leaf = x509_trust.parse_certificate(x5c[0])
        except InvalidCredential:
            return False
        leaf_jwk = jose.public_jwk(leaf.public_key())
        return jose.jwk_thumbprint(leaf_jwk) == jose.jwk_thumbprint(dict(jwk))
    return False
