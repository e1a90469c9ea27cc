"""OpenID4VP 1.0 (final) §8.6 VP Token validation: from a parsed ``vp_token`` to one outcome.

Steps (SPECS VP-11..VP-15, B.3.6, items 58, 59, 71-78):
1. §8.1 structure (verifier.oid4vp.dcql_match.check_vp_token); a failure rejects the response.
2. Each Presentation through ``verifier.verify.verify`` with holder binding required unless its
   query sets ``require_cryptographic_holder_binding`` to false (§6.1; B.3.6: KB-JWT ``nonce``
   = the request's nonce, ``aud`` = the full Client Identifier with its prefix, §14.8), then
   matched against its query (§14.9: never trust the Wallet's matching). A Presentation that
   fails either is discarded (§8.6).
3. §14.1.2: one Presentation with a wrong nonce (a replay from another transaction) rejects the
   whole response.
4. §6.4.2: the required Credential Queries and sets must be met by what remains, else the whole
   response is rejected with ``dcql_unsatisfied``.

Outcome: ``invalid`` for 1, 3 or 4; ``valid`` when the requirements are met by valid
Presentations and every Presentation kept is valid; else ``undetermined`` (e.g. a status list
could not be had). Checks keep the names of ``verifier.verify`` and add ``query_id`` and
``index`` (the Presentation's position in its array); the response-level checks ``vp_token``,
``nonce`` and ``dcql`` have both None. ``credentials`` lists the kept Presentations'
verified claims with the status lists they refer to (``status_uris``), and nothing when the
outcome is invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from verifier import bitstring_status_list as bsl
from verifier import jose, status_check
from verifier import token_status_list as tsl
from verifier.errors import InvalidCredential
from verifier.oid4vp import dcql_match
from verifier.oid4vp.dcql import SD_JWT_VC, check_dcql, credential_queries
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.verdict import Outcome, Verdict
from verifier.verify import verify

#: Registered SD-JWT VC claims reported outside ``claims`` (iss, vct) or of no use to a reader.
_NOT_REPORTED = frozenset({"iss", "vct", "vct#integrity", "cnf", "status", "_sd_alg"})
_NONCE_CODES = frozenset({"kb_jwt_nonce_mismatch"})


def _check(
    name: str,
    outcome: str,
    *,
    code: str | None,
    query_id: str | None = None,
    index: int | None = None,
) -> dict[str, Any]:
    return {"name": name, "outcome": outcome, "code": code, "query_id": query_id, "index": index}


@dataclass(frozen=True)
class PresentationResult:
    """The result of one response; ``code`` names why it is invalid (None otherwise)."""

    outcome: Outcome
    checks: list[dict[str, Any]]
    credentials: list[dict[str, Any]] = field(default_factory=list)
    code: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "checks": self.checks, "credentials": self.credentials}


@dataclass(frozen=True)
class _Request:
    """What every Presentation of one response is verified against."""

    trust: TrustStore
    nonce: str
    client_id: str
    now: datetime
    status_source: status_check.StatusSource | None


@dataclass(frozen=True)
class _Kept:
    """A Presentation that was verified (valid or undetermined) and matched its query."""

    query_id: str
    outcome: Outcome
    entry: dict[str, Any]


def _issuer_header(text: str) -> dict[str, Any]:
    """The issuer JWT header of a verified Presentation (already parsed once by verify)."""
    return jose.parse_compact(text.split("~", 1)[0]).header


def status_uris(fmt: str, claims: Mapping[str, Any]) -> list[str]:
    """The status lists a verified credential refers to, read as its status check reads them
    (TSL §6.2 ``status.status_list.uri``; BSL §2.1 ``statusListCredential`` of each
    ``BitstringStatusListEntry``). Not personal data: a reader is shown each list's age."""
    if fmt == SD_JWT_VC:
        try:
            return [tsl.check_status_reference(claims).uri] if "status" in claims else []
        except InvalidCredential:
            return []
    entries = claims.get("credentialStatus", [])
    uris: list[str] = []
    for entry in entries if isinstance(entries, list) else [entries]:
        try:
            uris.append(bsl.check_status_entry(entry).list_credential)
        except InvalidCredential:
            continue  # VC-JOSE-COSE §5.4: other status types are ignored
    return list(dict.fromkeys(uris))


def _entry(query_id: str, verdict: Verdict) -> dict[str, Any]:
    claims = dict(verdict.claims)
    issuer = claims.get("iss") if verdict.format == SD_JWT_VC else claims.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return {
        "query_id": query_id,
        "format": verdict.format,
        "vct": claims.get("vct"),
        "issuer": issuer,
        "claims": {k: v for k, v in claims.items() if k not in _NOT_REPORTED},
        "outcome": verdict.outcome,
        "status_uris": status_uris(verdict.format, claims),
    }


def _match(query: Mapping[str, Any], text: str, verdict: Verdict) -> None:
    dcql_match.check_credential(
        query, fmt=verdict.format, claims=verdict.claims, header=_issuer_header(text)
    )


def _one(
    query: Mapping[str, Any],
    index: int,
    text: str,
    checks: list[dict[str, Any]],
    request: _Request,
) -> _Kept | None:
    policy = Policy(
        # §6.1: binding is required unless the query waives it (SPECS VP-14, item 71).
        require_holder_binding=query.get("require_cryptographic_holder_binding", True),
        nonce=request.nonce,
        audience=request.client_id,  # §14.8: the full client_id (item 76)
    )
    verdict = verify(
        text,
        trust=request.trust,
        policy=policy,
        now=request.now,
        status_source=request.status_source,
    )
    qid = query["id"]
    checks.extend(
        _check(c.name, c.outcome, code=c.code, query_id=qid, index=index) for c in verdict.checks
    )
    if verdict.outcome == "invalid":
        return None
    try:
        _match(query, text, verdict)
    except InvalidCredential as error:
        checks.append(_check("dcql_match", "failed", code=error.code, query_id=qid, index=index))
        return None
    checks.append(_check("dcql_match", "passed", code=None, query_id=qid, index=index))
    return _Kept(qid, verdict.outcome, _entry(qid, verdict))


def _invalid(checks: list[dict[str, Any]], name: str, *, code: str) -> PresentationResult:
    checks.append(_check(name, "failed", code=code))
    return PresentationResult("invalid", checks, [], code)


def evaluate(
    vp_token: Any,
    *,
    dcql_query: dict[str, Any],
    trust: TrustStore,
    nonce: str,
    client_id: str,
    now: datetime,
    status_source: status_check.StatusSource | None,
) -> PresentationResult:
    """§8.6 for one response to the request with ``dcql_query``, ``nonce`` and ``client_id``
    (see the module docstring). ``status_source`` None uses the trust bundle's snapshots."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    check_dcql(dcql_query)
    checks: list[dict[str, Any]] = []
    try:
        dcql_match.check_vp_token(vp_token, dcql_query)
    except InvalidCredential as error:
        return _invalid(checks, "vp_token", code=error.code)
    checks.append(_check("vp_token", "passed", code=None))
    request = _Request(trust, nonce, client_id, now, status_source)
    kept: list[_Kept] = []
    for qid, query in credential_queries(dcql_query).items():
        for index, text in enumerate(vp_token.get(qid, [])):
            found = _one(query, index, text, checks, request)
            if found is not None:
                kept.append(found)
    if any(c["code"] in _NONCE_CODES for c in checks):
        # §14.1.2 (SPECS VP-13, items 74 and 75): one wrong nonce rejects the response.
        return _invalid(checks, "nonce", code="response_nonce_mismatch")
    matched = {k.query_id for k in kept}
    if not dcql_match.satisfies(dcql_query, matched):
        return _invalid(checks, "dcql", code="dcql_unsatisfied")  # §6.4.2, VP-12, item 59
    checks.append(_check("dcql", "passed", code=None))
    valid = {k.query_id for k in kept if k.outcome == "valid"}
    all_valid = all(k.outcome == "valid" for k in kept)
    confirmed = all_valid and dcql_match.satisfies(dcql_query, valid)
    outcome: Outcome = "valid" if confirmed else "undetermined"
    return PresentationResult(outcome, checks, [k.entry for k in kept])
