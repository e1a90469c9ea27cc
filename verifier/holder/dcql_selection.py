"""OpenID4VP 1.0 (final) §6 as a wallet: pick the credentials and claims a DCQL query asks for.

Claims path pointers (§7.1) are applied to the credential with every Disclosure the wallet holds;
a pointer that selects nothing, or only values outside the query's ``values`` (§6.3, matched by
type and value), is a claim the credential does not have. ``claim_sets`` give the first option the
credential can satisfy (§6.4.1); ``credential_sets`` the first satisfiable option of each set,
required sets or nothing (§6.4.2). ``multiple: false`` takes the most recently received match.

Named limits of the reference wallet: dc+sd-jwt only (other formats never match), ``vct_values``
compared exactly (no type inheritance), ``trusted_authorities`` not evaluated (the verifier
checks the issuer anyway), and a query that needs holder binding matches only credentials bound
to a key in the wallet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier import sd_jwt, sd_jwt_processing
from verifier.errors import DuoError, ProtocolError
from verifier.holder.store import StoredCredential

SD_JWT_FORMAT = "dc+sd-jwt"
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Selection:
    """One credential to present for the Credential Query ``query_id``."""

    query_id: str
    credential: StoredCredential
    paths: tuple[Path, ...]  # concrete claim paths to disclose (sd_jwt_selection's tuple form)
    holder_binding: bool  # add a KB-JWT (require_cryptographic_holder_binding, default true)


def _query_invalid() -> ProtocolError:
    return ProtocolError("dcql_query_invalid", "the DCQL query is malformed")


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _query_invalid()
    if not all(isinstance(i, str) and _ID.match(i) for i in value):
        raise _query_invalid()
    return value


def _check_claims(query: Mapping[str, Any]) -> None:
    claims, sets = query.get("claims"), query.get("claim_sets")
    if claims is None:
        if sets is not None:
            raise _query_invalid()  # §6.4.1: claim_sets never without claims
        return
    if not isinstance(claims, list) or not claims:
        raise _query_invalid()
    for claim in claims:
        path = claim.get("path") if isinstance(claim, dict) else None
        if not isinstance(path, list) or not path:
            raise _query_invalid()
        if sets is not None:
            _ids([claim.get("id")])  # §6.3: ids are required with claim_sets
    if sets is not None:
        if not isinstance(sets, list) or not sets:
            raise _query_invalid()
        for option in sets:
            _ids(option)


def check_query(dcql_query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Credential Queries of a well-formed query (§6.1); anything else is refused."""
    credentials = dcql_query.get("credentials")
    if not isinstance(credentials, list) or not credentials:
        raise _query_invalid()
    seen: set[str] = set()
    for query in credentials:
        if not isinstance(query, dict) or not isinstance(query.get("format"), str):
            raise _query_invalid()
        query_id = _ids([query.get("id")])[0]
        if query_id in seen or not isinstance(query.get("meta"), dict):
            raise _query_invalid()
        seen.add(query_id)
        _check_claims(query)
    sets = dcql_query.get("credential_sets")
    if sets is not None:
        if not isinstance(sets, list) or not sets:
            raise _query_invalid()
        for entry in sets:
            options = entry.get("options") if isinstance(entry, dict) else None
            if not isinstance(options, list) or not options:
                raise _query_invalid()
            if any(i not in seen for option in options for i in _ids(option)):
                raise _query_invalid()
    return credentials


def resolve(claims: Any, pointer: Sequence[Any]) -> list[tuple[Path, Any]]:
    """§7.1.1: the (path, value) pairs a claims path pointer selects; [] for none or an error."""
    selected: list[tuple[Path, Any]] = [((), claims)]
    for component in pointer:
        found: list[tuple[Path, Any]] = []
        for path, node in selected:
            if isinstance(component, str):
                if not isinstance(node, dict):
                    return []
                if component in node:
                    found.append(((*path, component), node[component]))
            elif component is None or (isinstance(component, int) and component >= 0):
                if isinstance(component, bool) or not isinstance(node, list):
                    return []
                indices = range(len(node)) if component is None else [component]
                found.extend(((*path, i), node[i]) for i in indices if i < len(node))
            else:
                return []
        selected = found
    return selected


def _matches(value: Any, wanted: Iterable[Any]) -> bool:
    """§6.3 values: the same JSON type and the same value (so 1 is not true, nor "1")."""
    return any(type(value) is type(w) and value == w for w in wanted)


def _claim_paths(claims: dict[str, Any], claim: Mapping[str, Any]) -> list[Path]:
    selected = resolve(claims, claim["path"])
    wanted = claim.get("values")
    if isinstance(wanted, list):
        selected = [(path, value) for path, value in selected if _matches(value, wanted)]
    return [path for path, _ in selected]


def _claims_for(claims: dict[str, Any], query: Mapping[str, Any]) -> tuple[Path, ...] | None:
    """The paths to disclose for ``query`` (§6.4.1), or None when the credential cannot."""
    asked = query.get("claims")
    if asked is None:
        return ()
    found = {index: _claim_paths(claims, claim) for index, claim in enumerate(asked)}
    sets = query.get("claim_sets")
    if sets is None:
        options = [list(range(len(asked)))]
    else:
        by_id = {claim["id"]: index for index, claim in enumerate(asked)}
        options = [[by_id.get(i, -1) for i in option] for option in sets]
    for option in options:
        if all(found.get(index) for index in option):
            return tuple(dict.fromkeys(p for index in option for p in found[index]))
    return None


class _Candidate:
    """A dc+sd-jwt credential of the wallet with its fully disclosed claims."""

    def __init__(self, stored: StoredCredential) -> None:
        parsed = sd_jwt.parse(stored.credential, expect_kb=False)
        self.stored = stored
        self.claims = sd_jwt_processing.process(parsed.issuer_jwt.payload, parsed.disclosures)


def _candidates(credentials: Sequence[StoredCredential]) -> list[_Candidate]:
    found = []
    for stored in credentials:
        if stored.format != SD_JWT_FORMAT:
            continue
        try:
            found.append(_Candidate(stored))
        except DuoError:
            continue  # a damaged credential is as good as absent
    return found


def _matching(query: Mapping[str, Any], candidates: Sequence[_Candidate]) -> list[Selection]:
    binding = query.get("require_cryptographic_holder_binding", True) is not False
    vcts = query["meta"].get("vct_values")
    matches = []
    for candidate in candidates:
        if query["format"] != SD_JWT_FORMAT or candidate.stored.format != SD_JWT_FORMAT:
            continue
        if not isinstance(vcts, list) or candidate.claims.get("vct") not in vcts:
            continue
        if binding and candidate.stored.key is None:
            continue
        paths = _claims_for(candidate.claims, query)
        if paths is not None:
            matches.append(Selection(query["id"], candidate.stored, paths, binding))
    if query.get("multiple") is True:
        return matches
    return matches[-1:]  # the most recently received


def _wanted_ids(dcql_query: Mapping[str, Any], matched: Mapping[str, list[Selection]]) -> list[str]:
    """§6.4.2: every query without credential_sets; else one satisfiable option per set."""
    sets = dcql_query.get("credential_sets")
    if sets is None:
        return list(matched)
    wanted: list[str] = []
    for entry in sets:
        option = next((o for o in entry["options"] if all(matched[i] for i in o)), None)
        if option is not None:
            wanted.extend(i for i in option if i not in wanted)
        elif entry.get("required", True) is not False:
            return []
    return wanted


def select(
    dcql_query: Mapping[str, Any], credentials: Sequence[StoredCredential]
) -> dict[str, list[Selection]]:
    """The presentations to make, by query id; ``no_matching_credential`` if the wallet cannot
    satisfy every required query (§6.4.2: then it returns nothing at all)."""
    queries = check_query(dcql_query)
    candidates = _candidates(credentials)
    matched = {query["id"]: _matching(query, candidates) for query in queries}
    wanted = _wanted_ids(dcql_query, matched)
    if not wanted or not all(matched[i] for i in wanted):
        raise ProtocolError("no_matching_credential", "the wallet has no matching credential")
    return {i: matched[i] for i in matched if i in wanted}
