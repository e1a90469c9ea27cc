"""The three error families of the house rules (shared/DESIGN.md §7).

Every error carries a stable ``code`` listed in docs/errors.md. Messages are fixed strings chosen at
the raise site: they never contain a claim value, a key or any other data taken from the input.
"""

from __future__ import annotations

from collections.abc import Mapping


class DuoError(Exception):
    """Base class: a stable machine-readable code plus a short fixed description."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class InvalidCredential(DuoError):
    """A definite no: the input is malformed, forged, tampered with, expired or revoked."""


class VerificationIncomplete(DuoError):
    """Could not decide, e.g. a status list is unreachable or stale, or a key is unknown."""


class ProtocolError(DuoError):
    """A protocol-level error carrying the spec's error string and HTTP status.

    ``code`` is the spec's ``error`` value (e.g. ``invalid_proof``); ``status`` the HTTP status.
    """

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code, detail)
        self.status = status
        #: Response headers the spec requires with this error (WWW-Authenticate, DPoP-Nonce).
        self.headers: dict[str, str] = dict(headers or {})
