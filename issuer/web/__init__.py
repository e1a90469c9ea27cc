"""The HTTP layer: one blueprint per protocol area, listed here in registration order."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """Every blueprint of the issuer app (imported on demand: nothing runs at import time)."""
    from issuer.web import authorization, credential, metadata, offers, status, token

    return [
        metadata.blueprint,
        offers.blueprint,
        authorization.blueprint,
        token.blueprint,
        credential.blueprint,
        status.blueprint,
    ]
