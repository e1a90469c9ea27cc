"""What the relying party requires: the inputs of every check that is a policy decision.

RFC 9901 §7.1 step 7 / SPECS §4 verification step 7: whether holder binding is required is decided
by policy before parsing, never from whether a KB-JWT happens to be present. Security inputs have
no defaults (shared/DESIGN.md §7 rule 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

#: HAIP 1.0 §7/§8 make ES256 mandatory; other asymmetric algorithms are accepted, never none or MAC.
DEFAULT_ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "EdDSA"})


@dataclass(frozen=True, kw_only=True)
class Policy:
    require_holder_binding: bool
    nonce: str | None
    audience: str | None
    algorithms: frozenset[str] = field(default=DEFAULT_ALGORITHMS)
    #: how old a KB-JWT may be (its ``iat``) and how far in the future (clock skew).
    kb_max_age: timedelta = timedelta(minutes=5)
    clock_skew: timedelta = timedelta(seconds=60)
    #: status 2 (SUSPENDED) is a rejection unless the relying party decides otherwise.
    accept_suspended: bool = False
