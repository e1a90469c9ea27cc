"""OpenID4VP 1.0 (final) §6.4, §7, §8.1 and §8.6: checking a response against its DCQL query.

Run by the Verifier after each Presentation is verified (§14.9, SPECS VP-15: a Wallet's own
matching is never trusted). ``check_vp_token`` is the structure of §8.1 (a failure rejects the
whole response); ``check_credential`` is §8.6 step 2.2 for one verified Presentation (a failure
discards it); ``check_satisfied`` is §6.4.2 over the Presentations that remain.

Matching rules: the format is the query's; the ``vct`` is one of ``vct_values`` (B.3.5; type
inheritance is not followed) or the ``type`` array holds every type of one ``type_values``
alternative (B.1.1, types compared as written, no JSON-LD expansion); with ``claims`` and no
``claim_sets`` every claim is present, with ``claim_sets`` every claim of at least one set
(§6.4.1); a claim with ``values`` matches when some selected element equals one of them in type
and value (§6.3). ``trusted_authorities`` is enforced when all its entries are of type ``aki``
(§6.1.1.1); other types cannot be checked here and the issuer is checked by the trust store
anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509

from verifier import jose
from verifier.errors import InvalidCredential
from verifier.oid4vp.dcql import JWT_VC_JSON, SD_JWT_VC, credential_queries
from verifier.x509_trust import parse_certificate

#: Presentations one response may carry in all (``multiple`` queries included).
MAX_PRESENTATIONS = 16


class _NoMatch(Exception):
    """§7.1.1: processing the path pointer aborts with an error."""


def select(document: Any, path: Sequence[str | int | None]) -> list[Any]:
    """§7.1.1 processing of a claims path pointer; raises _NoMatch where it returns an error."""
    selected = [document]
    for component in path:
        if component is None:
            if not all(isinstance(s, list) for s in selected):
                raise _NoMatch
            selected = [element for s in selected for element in s]
        elif isinstance(component, str):
            if not all(isinstance(s, Mapping) for s in selected):
                raise _NoMatch
            selected = [s[component] for s in selected if component in s]
        else:
            if not all(isinstance(s, list) for s in selected):
                raise _NoMatch
            selected = [s[component] for s in selected if component < len(s)]
    if not selected:
        raise _NoMatch
    return selected


def _same(a: Any, b: Any) -> bool:
    """§6.3: type and value both match exactly (so ``true`` is not ``1``)."""
    return type(a) is type(b) and a == b


def _claim_code(claims: Mapping[str, Any], claim: Mapping[str, Any]) -> str | None:
    """None if ``claim`` is satisfied by ``claims``, else the reason's code."""
    try:
        selected = select(claims, claim["path"])
    except _NoMatch:
        return "dcql_claim_missing"
    if "values" in claim and not any(_same(s, v) for s in selected for v in claim["values"]):
        return "dcql_value_mismatch"
    return None


def _check_claims(query: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    requested = query.get("claims")
    if not requested:
        return
    codes = {c.get("id"): _claim_code(claims, c) for c in requested}
    if "claim_sets" in query:
        if not any(all(codes[i] is None for i in option) for option in query["claim_sets"]):
            raise InvalidCredential("dcql_claim_sets_unsatisfied", "no claim set is disclosed")
        return
    for claim in requested:
        code = _claim_code(claims, claim)
        if code == "dcql_claim_missing":
            raise InvalidCredential("dcql_claim_missing", "a requested claim is not disclosed")
        if code == "dcql_value_mismatch":
            raise InvalidCredential("dcql_value_mismatch", "a claim has none of the values")


def _authority_key_ids(x5c: Any) -> set[str]:
    found: set[str] = set()
    for entry in x5c if isinstance(x5c, list) else []:
        try:
            cert = parse_certificate(entry)
            aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        except (InvalidCredential, x509.ExtensionNotFound):
            continue
        if aki.key_identifier is not None:
            found.add(jose.b64url_encode(aki.key_identifier))
    return found


def _check_authorities(query: Mapping[str, Any], header: Mapping[str, Any]) -> None:
    authorities = query.get("trusted_authorities")
    if not authorities or any(a["type"] != "aki" for a in authorities):
        return
    wanted = {value for a in authorities for value in a["values"]}
    if not wanted & _authority_key_ids(header.get("x5c")):
        raise InvalidCredential("dcql_authority_mismatch", "issuer is not under a named authority")


def _types_match(query: Mapping[str, Any], credential: Mapping[str, Any]) -> bool:
    types = credential.get("type")
    have = set(types) if isinstance(types, list) else {types}
    return any(set(option) <= have for option in query["meta"]["type_values"])


def check_credential(
    query: Mapping[str, Any], *, fmt: str, claims: Mapping[str, Any], header: Mapping[str, Any]
) -> None:
    """§8.6 step 2.2 for one verified Presentation: ``claims`` are its verified claims (for
    ``jwt_vc_json`` the credential document), ``header`` its issuer JWT header. Codes:
    ``dcql_format_mismatch``, ``dcql_type_mismatch``, ``dcql_authority_mismatch``,
    ``dcql_claim_missing``, ``dcql_value_mismatch``, ``dcql_claim_sets_unsatisfied``."""
    if fmt != query["format"]:
        raise InvalidCredential("dcql_format_mismatch", "presentation is of another format")
    if fmt == SD_JWT_VC and claims.get("vct") not in query["meta"]["vct_values"]:
        raise InvalidCredential("dcql_type_mismatch", "credential type was not requested")
    if fmt == JWT_VC_JSON and not _types_match(query, claims):
        raise InvalidCredential("dcql_type_mismatch", "credential type was not requested")
    _check_authorities(query, header)
    _check_claims(query, claims)


def check_vp_token(vp_token: Any, dcql_query: Mapping[str, Any]) -> None:
    """§8.1 structure (SPECS VP-11, items 58 and 59): an object of known query ids, each an
    array of Presentation strings, exactly one unless the query allows ``multiple``. Codes:
    ``vp_token_not_object``, ``vp_token_unknown_query``, ``vp_token_malformed``,
    ``vp_token_multiple_not_allowed``, ``vp_token_too_many``."""
    if not isinstance(vp_token, dict):
        raise InvalidCredential("vp_token_not_object", "vp_token is not a JSON object")
    queries = credential_queries(dcql_query)
    if not vp_token.keys() <= queries.keys():
        raise InvalidCredential("vp_token_unknown_query", "vp_token names an unknown query id")
    for query_id, presentations in vp_token.items():
        if not isinstance(presentations, list) or not presentations:
            raise InvalidCredential("vp_token_malformed", "vp_token entry is not a non-empty array")
        if not all(isinstance(p, str) and p for p in presentations):
            raise InvalidCredential("vp_token_malformed", "a presentation is not a string")
        if len(presentations) > 1 and not queries[query_id].get("multiple", False):
            raise InvalidCredential(
                "vp_token_multiple_not_allowed", "several presentations for a single query"
            )
    if sum(len(p) for p in vp_token.values()) > MAX_PRESENTATIONS:
        raise InvalidCredential("vp_token_too_many", "vp_token holds too many presentations")


def satisfies(dcql_query: Mapping[str, Any], matched: set[str]) -> bool:
    """§6.4.2: without ``credential_sets`` every query is matched; with them, every required set
    (``required`` defaults to true) has an option whose queries are all matched."""
    sets = dcql_query.get("credential_sets")
    if not sets:
        return set(credential_queries(dcql_query)) <= matched
    return all(
        any(set(option) <= matched for option in entry["options"])
        for entry in sets
        if entry.get("required", True)
    )


def check_satisfied(dcql_query: Mapping[str, Any], matched: set[str]) -> None:
    """Raise ``dcql_unsatisfied`` unless the queries in ``matched`` satisfy the query."""
    if not satisfies(dcql_query, matched):
        raise InvalidCredential("dcql_unsatisfied", "a required credential is missing")
