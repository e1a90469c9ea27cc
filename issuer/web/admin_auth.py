"""The admin API's authentication: a bearer token from configuration (DUO_ADMIN_TOKEN).

Without a configured token the admin API does not exist (404). A wrong or missing token gets 401
with ``WWW-Authenticate: Bearer`` (RFC 6750 §3); the comparison is constant-time.
"""

from __future__ import annotations

import hmac

from flask import request

from issuer.app import services
from verifier.errors import ProtocolError


def require_admin() -> None:
    """Raise unless the request carries the configured admin bearer token."""
    expected = services().settings.admin_token
    if expected is None:
        raise ProtocolError("not_found", "the admin API is not enabled", status=404)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ProtocolError(
            "invalid_token",
            "admin bearer token missing or wrong",
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
