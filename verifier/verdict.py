"""The verdict: every check named, three outcomes, claims only from a verified result.

shared/DESIGN.md §7 rule 1-2. A check either passes, fails with a stable code (InvalidCredential:
the credential is definitely not acceptable), is undetermined with a stable code
(VerificationIncomplete: e.g. the status list is unreachable or stale), or - for holder binding
that was not asked for and not presented - is ``not_proven``. Checks that never ran because an
earlier one failed are not listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from verifier.errors import DuoError, InvalidCredential, VerificationIncomplete

CheckOutcome = Literal["passed", "failed", "undetermined", "not_proven", "skipped"]
Outcome = Literal["valid", "invalid", "undetermined"]
T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    name: str
    outcome: CheckOutcome
    code: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome, "code": self.code}


@dataclass(frozen=True)
class Verdict:
    """The result of a verification. ``claims`` is empty unless no check failed."""

    outcome: Outcome
    checks: tuple[Check, ...]
    format: str
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "format": self.format,
            "checks": [c.as_json() for c in self.checks],
            "claims": dict(self.claims),
        }

    @property
    def failed_codes(self) -> list[str]:
        return [c.code for c in self.checks if c.outcome in {"failed", "undetermined"} and c.code]


class CheckRecorder:
    """Runs checks in order and records each; the first definite failure stops the run."""

    def __init__(self, format_name: str) -> None:
        self.format = format_name
        self.checks: list[Check] = []

    def run(self, name: str, check: Callable[[], T]) -> T:
        """Run ``check``; record passed, or record the failure and re-raise it."""
        try:
            result = check()
        except VerificationIncomplete as error:
            self.checks.append(Check(name, "undetermined", error.code))
            raise
        except DuoError as error:
            self.checks.append(Check(name, "failed", error.code))
            raise
        self.checks.append(Check(name, "passed"))
        return result

    def note(self, name: str, outcome: CheckOutcome, code: str | None = None) -> None:
        self.checks.append(Check(name, outcome, code))

    def verdict(self, claims: Mapping[str, Any] | None) -> Verdict:
        """Invalid if any check failed; undetermined if one could not decide or no claims were
        verified; else valid. Claims are attached only when not invalid."""
        outcomes = {c.outcome for c in self.checks}
        if "failed" in outcomes:
            return Verdict("invalid", tuple(self.checks), self.format)
        if claims is None:
            return Verdict("undetermined", tuple(self.checks), self.format)
        outcome: Outcome = "undetermined" if "undetermined" in outcomes else "valid"
        return Verdict(outcome, tuple(self.checks), self.format, MappingProxyType(dict(claims)))


def invalid_input(format_name: str, error: InvalidCredential) -> Verdict:
    """The verdict for input that could not even be parsed."""
    return Verdict("invalid", (Check("format", "failed", error.code),), format_name)
