"""PKCE: RFC 7636 §4.2 (S256 code challenge) and §4.6 (verification); HAIP 1.0 §4 / FAPI 2.0.

Only ``S256`` is accepted: ``plain`` and a missing method are refused at PAR (SPECS §8 item 10),
and a verifier that does not hash to the stored challenge is ``invalid_grant`` (item 9).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from verifier import jose
from verifier.errors import ProtocolError

#: RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
#: §4.2: BASE64URL(SHA-256(verifier)) is always 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
METHOD = "S256"


def check_code_challenge(challenge: str | None, method: str | None) -> str:
    """The challenge of an authorization request, if it is a well-formed S256 challenge."""
    # HAIP 1.0 §4 (FAPI 2.0 SP §5.3.2.2): PKCE with S256 is mandatory; "plain" never.
    if challenge is None or method is None:
        raise ProtocolError("invalid_request", "code_challenge and code_challenge_method S256 "
                            "are required")
    if method != METHOD:
        raise ProtocolError("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise ProtocolError("invalid_request", "code_challenge is not a S256 challenge")
    return challenge


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    return jose.b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def verify_code_verifier(verifier: str | None, challenge: str) -> None:
    """RFC 7636 §4.6: the verifier must hash to the challenge; else ``invalid_grant``."""
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise ProtocolError("invalid_grant", "code_verifier is missing or malformed")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise ProtocolError("invalid_grant", "code_verifier does not match the code_challenge")
