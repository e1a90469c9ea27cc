"""The trust bundle DUO publishes so that anyone can verify its credentials offline.

Layout and trust model: docs/trust-bundle.md. The issuer metadata part is the SD-JWT VC issuer
metadata (draft-ietf-oauth-sd-jwt-vc §4) with every issuer key ever used, so retired keys keep
verifying what they signed (shared/DESIGN.md §6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from issuer.status_lists import FileStatusRegistry
from keys.file_store import FileKeyStore
from keys.store import KeyRecord
from schemas import loader
from verifier.trust import BUNDLE_VERSION


def _published_jwk(record: KeyRecord) -> dict[str, Any]:
    return {
        **record.public_jwk,
        "kid": record.kid,
        "alg": record.alg,
        "use": "sig",
        "x5c": list(record.x5c),
    }


def export_bundle(
    keys: FileKeyStore, registry: FileStatusRegistry | None, *, now: datetime
) -> dict[str, Any]:
    """The bundle as a JSON-ready dict; ``registry`` adds a fresh status-list snapshot."""
    issuer = keys.issuer
    history = keys.history("issuer")
    status_lists = {registry.uri: registry.token(keys, now=now)} if registry else {}
    return {
        "bundle_version": BUNDLE_VERSION,
        "issuer": issuer,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "anchors": keys.anchors_pem(),
        "issuer_metadata": {
            "issuer": issuer,
            "jwks": {"keys": [_published_jwk(r) for r in history]},
        },
        "key_history": [
            r.history_row() for p in ("issuer", "status_list") for r in keys.history(p)
        ],
        "type_metadata": {
            loader.vct_for(name, issuer): loader.type_metadata_document(name, issuer).decode(
                "utf-8"
            )
            for name in loader.CREDENTIAL_TYPES
        },
        "status_lists": status_lists,
    }
