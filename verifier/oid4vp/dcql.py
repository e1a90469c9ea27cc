"""OpenID4VP 1.0 (final) §6 Digital Credentials Query Language: checking and building queries.

``check_dcql`` checks a query before it is sent (SPECS VP-8): §6 top level and Credential
Queries, §6.2 Credential Set Queries, §6.3 Claims Queries, §7 claims path pointers, and the
format-specific ``meta`` of Appendix B.1.1 (``jwt_vc_json``: ``type_values``) and B.3.5
(``dc+sd-jwt``: ``vct_values``). Unknown properties are ignored (§6). Formats other than those two
are refused: this verifier could not verify what it asked for. ``trusted_authorities`` is
checked for shape; its ``aki`` values are applied when matching (verifier.oid4vp.dcql_match).

``template`` builds the query for one of DUO's credential types. Named limits: at most
MAX_CREDENTIAL_QUERIES Credential Queries, MAX_CLAIMS Claims Queries each, path pointers of at
most MAX_PATH_LENGTH components.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from schemas import loader
from verifier.errors import ProtocolError

SD_JWT_VC = "dc+sd-jwt"
JWT_VC_JSON = "jwt_vc_json"
FORMATS = frozenset({SD_JWT_VC, JWT_VC_JSON})
MAX_CREDENTIAL_QUERIES = 16
MAX_CLAIMS = 64
MAX_PATH_LENGTH = 16
_ID = re.compile(r"[A-Za-z0-9_-]+")


def _bad(detail: str) -> ProtocolError:
    """The one error of this module: the Verifier's own query is not a valid DCQL query."""
    return ProtocolError("invalid_request", detail)


def _identifier(value: Any) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _non_empty_list(value: Any) -> TypeGuard[list[Any]]:
    return isinstance(value, list) and len(value) > 0


def _strings(value: Any) -> bool:
    return _non_empty_list(value) and all(isinstance(v, str) and v for v in value)


def is_path_pointer(path: Any) -> bool:
    """§7: a non-empty array of strings, nulls and non-negative integers."""
    if not _non_empty_list(path) or len(path) > MAX_PATH_LENGTH:
        return False
    return all(
        c is None
        or isinstance(c, str)
        or (isinstance(c, int) and not isinstance(c, bool) and c >= 0)
        for c in path
    )


def _check_meta(query: Mapping[str, Any]) -> None:
    meta = query.get("meta")
    if not isinstance(meta, dict):
        raise _bad("credential query has no meta object")  # §6.1: meta is REQUIRED
    if query["format"] == SD_JWT_VC and not _strings(meta.get("vct_values")):
        raise _bad("dc+sd-jwt meta needs vct_values")  # B.3.5
    if query["format"] == JWT_VC_JSON:
        alternatives = meta.get("type_values")
        if not _non_empty_list(alternatives) or not all(map(_strings, alternatives)):
            raise _bad("jwt_vc_json meta needs type_values")  # B.1.1


def _check_claim(claim: Any) -> None:
    if not isinstance(claim, dict) or not is_path_pointer(claim.get("path")):
        raise _bad("claims query has no valid path")  # §6.3, §7
    if "id" in claim and not _identifier(claim["id"]):
        raise _bad("claims query id is malformed")
    if "values" in claim:
        values = claim["values"]
        # bool is an int subclass: strings, integers and booleans, never floats or null.
        if not _non_empty_list(values) or not all(isinstance(v, str | int) for v in values):
            raise _bad("claims query values are not strings, integers or booleans")


def _check_claims(query: Mapping[str, Any]) -> None:
    claims = query.get("claims")
    if claims is None:
        if "claim_sets" in query:
            raise _bad("claim_sets without claims")  # §6.4.1
        return
    if not _non_empty_list(claims) or len(claims) > MAX_CLAIMS:
        raise _bad("claims is not a non-empty array within the limit")
    for claim in claims:
        _check_claim(claim)
    paths = [repr(c["path"]) for c in claims]
    if len(set(paths)) != len(paths):
        raise _bad("a claim is requested twice")  # §6.1: never the same claim twice
    ids = [c["id"] for c in claims if "id" in c]
    if len(set(ids)) != len(ids):
        raise _bad("claims query ids are not unique")
    if "claim_sets" in query:
        sets = query["claim_sets"]
        if len(ids) != len(claims):
            raise _bad("claim_sets need an id on every claim")  # §6.3: id REQUIRED
        if not _non_empty_list(sets) or not all(
            _non_empty_list(s) and all(i in ids for i in s) for s in sets
        ):
            raise _bad("claim_sets must list known claim ids")


def _check_trusted_authorities(query: Mapping[str, Any]) -> None:
    if "trusted_authorities" not in query:
        return
    authorities = query["trusted_authorities"]
    if not _non_empty_list(authorities) or not all(
        isinstance(a, dict) and isinstance(a.get("type"), str) and _strings(a.get("values"))
        for a in authorities
    ):
        raise _bad("trusted_authorities entries need a type and values")  # §6.1.1


def _check_credential_query(query: Any) -> None:
    if not isinstance(query, dict) or not _identifier(query.get("id")):
        raise _bad("credential query id is missing or malformed")  # §6.1
    if not isinstance(query.get("format"), str) or not query["format"]:
        raise _bad("credential query has no format")
    if query["format"] not in FORMATS:
        raise _bad("credential format is not supported")
    for flag in ("multiple", "require_cryptographic_holder_binding"):
        if flag in query and not isinstance(query[flag], bool):
            raise _bad("a credential query flag is not a boolean")
    _check_meta(query)
    _check_trusted_authorities(query)
    _check_claims(query)


def _check_credential_sets(query: Mapping[str, Any], ids: Sequence[str]) -> None:
    if "credential_sets" not in query:
        return
    sets = query["credential_sets"]
    if not _non_empty_list(sets):
        raise _bad("credential_sets is not a non-empty array")
    for entry in sets:
        options = entry.get("options") if isinstance(entry, dict) else None
        if not _non_empty_list(options) or not all(
            _non_empty_list(o) and all(i in ids for i in o) for o in options
        ):
            raise _bad("credential set options must list known credential ids")  # §6.2
        if "required" in entry and not isinstance(entry["required"], bool):
            raise _bad("credential set required is not a boolean")


def check_dcql(query: Any) -> None:
    """Raise ProtocolError ``invalid_request`` unless ``query`` is a DCQL query this verifier
    can evaluate (SPECS VP-8); see the module docstring."""
    if not isinstance(query, dict):
        raise _bad("dcql_query is not an object")
    credentials = query.get("credentials")
    if not _non_empty_list(credentials) or len(credentials) > MAX_CREDENTIAL_QUERIES:
        raise _bad("credentials is not a non-empty array within the limit")  # §6
    for credential in credentials:
        _check_credential_query(credential)
    ids = [c["id"] for c in credentials]
    if len(set(ids)) != len(ids):
        raise _bad("credential query ids are not unique")  # §6.1
    _check_credential_sets(query, ids)


def credential_queries(query: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The Credential Queries of a checked query by id, in query order."""
    return {c["id"]: c for c in query["credentials"]}


# --- templates for DUO's credential types ---------------------------------------------------

_PERSON = ("given_name", "family_name", "birthdate")
#: The default claims per type: what an employer or university needs, grades only on request.
DEFAULT_CLAIMS: dict[str, tuple[str, ...]] = {
    "diploma": (
        *_PERSON,
        "diploma_type",
        "qualification_name",
        "eqf_level",
        "nlqf_level",
        "institution.name",
        "award_date",
    ),
    "grade_list": (*_PERSON, "diploma_type", "institution.name", "award_date", "subjects"),
    "nt2_diploma": (*_PERSON, "diploma_type", "cefr_level", "award_date"),
    "inburgering": (*_PERSON, "diploma_type", "law", "exam_components"),
    "enrolment": (
        *_PERSON,
        "institution_name",
        "programme_name",
        "phase",
        "modeOfStudy",
        "startDate",
    ),
}
#: Claims some records lack (a diploma of NT2 or inburgering has no NLQF/EQF level): the
#: template's second claim set leaves them out (§6.4.1: the first satisfiable set wins).
_ABSENT_IN_SOME = frozenset({"eqf_level", "nlqf_level"})


def claim_path(text: str) -> list[str | int | None]:
    """A §7 path from dotted text: ``institution.name``; digits index an array, ``*`` is every
    element (``subjects.*.final_mark``)."""
    segments = text.split(".") if isinstance(text, str) else [""]
    if "" in segments or len(segments) > MAX_PATH_LENGTH:
        raise _bad("claim path is malformed")
    path: list[str | int | None] = []
    for segment in segments:
        if segment == "*":
            path.append(None)
        elif segment.isascii() and segment.isdigit():
            path.append(int(segment))
        else:
            path.append(segment)
    return path


def _claim_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def template(name: str, *, issuer: str, claims: list[str] | None = None) -> dict[str, Any]:
    """The DCQL query for one ``dc+sd-jwt`` credential of DUO type ``name`` (query id = name).

    ``claims`` are dotted paths (see ``claim_path``) whose first name the type defines; None
    takes DEFAULT_CLAIMS, an empty list asks for no selectively disclosable claim at all
    (§6.4.1). Raises ProtocolError ``invalid_request`` for an unknown type or claim.
    """
    if name not in loader.CREDENTIAL_TYPES:
        raise _bad("unknown credential template")
    chosen = list(DEFAULT_CLAIMS[name] if claims is None else claims)
    known = loader.json_schema(name).get("properties", {})
    paths = [claim_path(text) for text in chosen]
    if any(path[0] not in known for path in paths) or len(set(chosen)) != len(chosen):
        raise _bad("claim is not part of this credential type")
    query: dict[str, Any] = {
        "id": name,
        "format": SD_JWT_VC,
        "meta": {"vct_values": [loader.vct_for(name, issuer)]},
    }
    if paths:
        query["claims"] = [
            {"id": _claim_id(text), "path": path} for text, path in zip(chosen, paths, strict=True)
        ]
    optional = [text for text in chosen if text in _ABSENT_IN_SOME]
    if optional and len(optional) < len(chosen):
        ids = [_claim_id(text) for text in chosen]
        query["claim_sets"] = [ids, [i for i in ids if i not in map(_claim_id, optional)]]
    result = {"credentials": [query]}
    check_dcql(result)
    return result
