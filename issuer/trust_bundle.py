"""The trust bundle DUO publishes so that anyone can verify its credentials offline.

Layout and trust model: docs/trust-bundle.md. The issuer metadata part is the SD-JWT VC issuer
metadata (draft-ietf-oauth-sd-jwt-vc §4) with every issuer key ever used, so retired keys keep
verifying what they signed (shared/DESIGN.md §6). ``status_lists`` holds a signed snapshot of every
status list of the issuer in the database, keyed by its URL: Token Status List tokens
(``statuslist+jwt``) and W3C Bitstring Status List credentials (``vc+jwt``).

Served at ``/.well-known/trust-bundle`` as a JWT (``typ`` ``trust-bundle+jwt``, RFC 7515 compact,
signed by the issuer key with its ``x5c``) whose payload is exactly the bundle
``duo-issuer bundle export`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from issuer.status_lists import Lifetimes, Publisher, snapshots
from keys.store import KeyRecord, KeyStore
from schemas import loader
from verifier import jose
from verifier.trust import BUNDLE_VERSION

TYP = "trust-bundle+jwt"
MEDIA_TYPE = "application/trust-bundle+jwt"


def _published_jwk(record: KeyRecord) -> dict[str, Any]:
    return {
        **record.public_jwk,
        "kid": record.kid,
        "alg": record.alg,
        "use": "sig",
        "x5c": list(record.x5c),
    }


def _store_issuer(keys: KeyStore) -> str:
    issuer = getattr(keys, "issuer", None)  # FileKeyStore names its issuer
    if not isinstance(issuer, str):
        raise ValueError("this key store names no issuer: pass issuer=")
    return issuer


def export_bundle(
    keys: KeyStore,
    status_lists: Mapping[str, str] | None,
    *,
    now: datetime,
    issuer: str | None = None,
) -> dict[str, Any]:
    """The bundle as a JSON-ready dict; ``status_lists`` maps list URLs to signed snapshots.

    ``issuer`` defaults to the key store's own issuer identifier.
    """
    issuer = _store_issuer(keys) if issuer is None else issuer
    history = keys.history("issuer")
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
        "status_lists": dict(status_lists or {}),
    }


def database_bundle(
    conn: sa.Connection,
    keys: KeyStore,
    *,
    issuer: str,
    lifetimes: Lifetimes,
    now: datetime,
    publisher: Publisher | None = None,
) -> dict[str, Any]:
    """The bundle with a fresh signed snapshot of every status list of ``issuer``."""
    lists = snapshots(
        conn, keys=keys, issuer=issuer, lifetimes=lifetimes, now=now, publisher=publisher
    )
    return export_bundle(keys, {u: p.body for u, p in lists.items()}, now=now, issuer=issuer)


def signed_bundle(bundle: Mapping[str, Any], keys: KeyStore) -> str:
    """The bundle as a compact JWS signed by the current issuer key (header ``x5c``, ``kid``)."""
    key = keys.signing_key("issuer")
    header = {"alg": key.record.alg, "typ": TYP, "kid": key.record.kid, "x5c": list(key.record.x5c)}
    return jose.sign_compact(header, dict(bundle), key.sign)
