"""Issuer metadata documents: OpenID4VCI 1.0 §12.2, RFC 8414, SD-JWT VC §4, HAIP 1.0 §4.1.

Pure builders (no request, no clock) for:

- the Credential Issuer Metadata (OpenID4VCI §12.2.4) with every configuration of
  ``issuer.oid4vci.configurations`` (Appendix A.1.1 jwt_vc_json, A.3 dc+sd-jwt), and its signed
  form (§12.2.3: ``typ`` openidvci-issuer-metadata+jwt, ``x5c``, every parameter top-level);
- the OAuth 2.0 Authorization Server Metadata (RFC 8414 §2; the issuer is its own AS, so
  ``authorization_servers`` is omitted, §12.2.4);
- the JWT VC Issuer Metadata (SD-JWT VC §4): every issuer key ever used, so retired keys keep
  verifying what they signed;
- the well-known paths of each, with the "{/path}" insertion rule (§12.2.2, RFC 8414 §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from issuer.oid4vci.configurations import CONFIGURATIONS, Configuration
from issuer.oid4vci.credential import BATCH_SIZE as CREDENTIAL_BATCH_SIZE
from keys.store import KeyRecord, SigningKey
from schemas import loader
from verifier import jose

CREDENTIAL_ISSUER_WELL_KNOWN = "openid-credential-issuer"
AUTHORIZATION_SERVER_WELL_KNOWN = "oauth-authorization-server"
JWT_VC_ISSUER_WELL_KNOWN = "jwt-vc-issuer"
SIGNED_METADATA_TYP = "openidvci-issuer-metadata+jwt"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
BATCH_SIZE = CREDENTIAL_BATCH_SIZE  # §12.2.4 batch_credential_issuance.batch_size (≥ 2)
SIGNING_ALGS = ("ES256",)  # HAIP 1.0 §7: ES256 for credentials, proofs, DPoP, attestations
VCDM_TYPES = ("VerifiableCredential", "EuropeanDigitalCredential")
ISSUER_DISPLAY = (
    {"name": "DUO - Dienst Uitvoering Onderwijs", "locale": "nl"},
    {"name": "DUO - Dutch Education Executive Agency", "locale": "en"},
)
ENDPOINTS = {
    "credential_endpoint": "/credential",
    "nonce_endpoint": "/nonce",
    "deferred_credential_endpoint": "/deferred_credential",
    "notification_endpoint": "/notification",
}


def issuer_path(issuer: str) -> str:
    """The path component of the issuer identifier, without slashes ('' for none)."""
    return urlsplit(issuer).path.strip("/")


def well_known_url(issuer: str, name: str) -> str:
    """``https://host/.well-known/<name>{/path}`` (OpenID4VCI §12.2.2, RFC 8414 §3.1)."""
    parts = urlsplit(issuer)
    path = issuer_path(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/{name}" + (f"/{path}" if path else "")


def _display_entry(display: Mapping[str, Any]) -> dict[str, Any]:
    """A credential display (§12.2.4) from a type-metadata display (SD-JWT VC §8)."""
    entry: dict[str, Any] = {"name": display["name"], "locale": display["locale"]}
    if "description" in display:
        entry["description"] = display["description"]
    simple = display.get("rendering", {}).get("simple", {})
    for member in ("background_color", "text_color"):
        if member in simple:
            entry[member] = simple[member]
    return entry


def _claim_entry(claim: Mapping[str, Any]) -> dict[str, Any]:
    """A claims description (Appendix B.2): path, mandatory, display name per locale."""
    entry: dict[str, Any] = {"path": list(claim["path"])}
    if "mandatory" in claim:
        entry["mandatory"] = bool(claim["mandatory"])
    labels = [
        {"name": d["label"], "locale": d["locale"]}
        for d in claim.get("display", [])
        if "label" in d
    ]
    if labels:
        entry["display"] = labels
    return entry


def credential_metadata(configuration: Configuration, issuer: str) -> dict[str, Any]:
    """``credential_metadata`` (§12.2.4): display from the type metadata, claims for SD-JWT VC.

    The claims paths address the SD-JWT VC claims (Appendix A.3.2); the jwt_vc_json encoding
    (European Learning Model) has other paths, so it lists display only.
    """
    document = loader.type_metadata(configuration.type_name, issuer)
    found: dict[str, Any] = {"display": [_display_entry(d) for d in document.get("display", [])]}
    if configuration.format == "dc+sd-jwt":
        found["claims"] = [_claim_entry(c) for c in document.get("claims", [])]
    return found


def configuration_metadata(
    configuration: Configuration, issuer: str, *, key_attestations_required: bool = False
) -> dict[str, Any]:
    """One entry of ``credential_configurations_supported`` (§12.2.4, Appendix A)."""
    entry: dict[str, Any] = {"format": configuration.format, "scope": configuration.scope}
    if configuration.format == "dc+sd-jwt":
        entry["vct"] = loader.vct_for(configuration.type_name, issuer)  # A.3.2
    else:
        entry["credential_definition"] = {"type": list(VCDM_TYPES)}  # A.1.1.2
    # Binding is required for every configuration, so all three appear together (VCI-10).
    entry["cryptographic_binding_methods_supported"] = ["jwk"]
    entry["credential_signing_alg_values_supported"] = list(SIGNING_ALGS)
    # F.1 jwt proofs (optionally with a key attestation) and F.3 attestation proofs (App. D).
    proof: dict[str, Any] = {"proof_signing_alg_values_supported": list(SIGNING_ALGS)}
    if key_attestations_required:
        proof["key_attestations_required"] = {}  # any attestation will do (App. D)
    entry["proof_types_supported"] = {"jwt": proof, "attestation": dict(proof)}
    entry["credential_metadata"] = credential_metadata(configuration, issuer)
    return entry


def credential_issuer_metadata(
    issuer: str,
    *,
    encryption: Mapping[str, Any] | None = None,
    key_attestations_required: bool = False,
) -> dict[str, Any]:
    """The Credential Issuer Metadata (§12.2.4); ``encryption`` adds the §10 parameters."""
    document: dict[str, Any] = {"credential_issuer": issuer}
    # authorization_servers omitted: the credential issuer is its own AS (§12.2.4).
    document.update({name: issuer + path for name, path in ENDPOINTS.items()})
    if encryption:
        document.update(encryption)
    document["batch_credential_issuance"] = {"batch_size": BATCH_SIZE}
    document["display"] = [dict(d) for d in ISSUER_DISPLAY]
    document["credential_configurations_supported"] = {
        c.id: configuration_metadata(c, issuer, key_attestations_required=key_attestations_required)
        for c in CONFIGURATIONS.values()
    }
    return document


def signed_credential_issuer_metadata(
    document: Mapping[str, Any], key: SigningKey, *, now: datetime
) -> str:
    """The signed metadata JWT (§12.2.3): every parameter top-level, ``sub``, ``iat``, ``x5c``.

    ``x5c`` is the chain without the trust anchor (HAIP 1.0 §4.1), as the key store keeps it.
    """
    record = key.record
    header = {
        "alg": record.alg,
        "typ": SIGNED_METADATA_TYP,
        "kid": record.kid,
        "x5c": list(record.x5c),
    }
    issuer = document["credential_issuer"]
    payload = {**document, "iss": issuer, "sub": issuer, "iat": int(now.timestamp())}
    return jose.sign_compact(header, payload, key.sign)


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    """RFC 8414 §2 metadata of DUO's own authorization server (HAIP 1.0 §4.1, FAPI2 SP)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "pushed_authorization_request_endpoint": f"{issuer}/par",
        "require_pushed_authorization_requests": True,  # RFC 9126 §5
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", PRE_AUTHORIZED_GRANT],
        "code_challenge_methods_supported": ["S256"],  # RFC 7636; plain never (HAIP §4)
        "dpop_signing_alg_values_supported": list(SIGNING_ALGS),  # RFC 9449 §5.1
        "token_endpoint_auth_methods_supported": ["attest_jwt_client_auth", "none"],
        "client_attestation_signing_alg_values_supported": list(SIGNING_ALGS),
        "client_attestation_pop_signing_alg_values_supported": list(SIGNING_ALGS),
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        "pre-authorized_grant_anonymous_access_supported": True,  # OpenID4VCI §12.3
        "authorization_details_types_supported": ["openid_credential"],  # §5.1.1
        "scopes_supported": [c.scope for c in CONFIGURATIONS.values()],
    }


def published_jwk(record: KeyRecord) -> dict[str, Any]:
    """A public issuer key as SD-JWT VC issuer metadata publishes it (kid, alg, use, x5c)."""
    return {
        **record.public_jwk,
        "kid": record.kid,
        "alg": record.alg,
        "use": "sig",
        "x5c": list(record.x5c),
    }


def jwt_vc_issuer_metadata(issuer: str, history: Iterable[KeyRecord]) -> dict[str, Any]:
    """SD-JWT VC §4 issuer metadata: ``issuer`` and every issuer key, retired ones too."""
    return {"issuer": issuer, "jwks": {"keys": [published_jwk(r) for r in history]}}
