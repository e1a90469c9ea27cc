"""The verifier's HTTP layer: one blueprint per area, listed in registration order."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    """Every blueprint of the verifier app (imported on demand)."""
    from verifier.service.web import api, oid4vp, pages

    return [oid4vp.blueprint, api.blueprint, pages.blueprint]
