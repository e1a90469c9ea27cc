"""The result of a check as the reader sees it: the verdict, each check explained, the disclosed
claims with labels, the qualification explained and the status list's age.

One model for the result page and the PDF report (verifier/service/report_pdf.py), built from the
verdict object of the service (``{"outcome", "checks", "credentials": [{"query_id", "format",
"vct", "issuer", "claims"}]}``, docs/api.md) in the reader's language. Claims are shown only as
the verdict carries them: an invalid verdict carries none. Registered JWT claims (``iss``,
``cnf``, ``status``, ...) are technical and not shown as details.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas import loader
from schemas import qualification_explanations as qe
from verifier.service import i18n

#: Registered and technical claims (RFC 7519 §4.1, SD-JWT VC §3.2.2, RFC 9901 §4.2.4).
TECHNICAL_CLAIMS = frozenset(
    {"iss", "sub", "iat", "nbf", "exp", "jti", "vct", "vct#integrity", "cnf", "status"}
    | {"_sd_alg", "aud", "nonce", "@context", "type", "id", "inScheme"}
)
MAX_DEPTH = 8
MAX_NODES = 400  # a hostile credential cannot make the page or the PDF unbounded
StatusAge = Callable[[str], timedelta | None]


@dataclass(frozen=True)
class ClaimNode:
    label: str
    value: str | None
    children: tuple[ClaimNode, ...] = ()


@dataclass(frozen=True)
class Qualification:
    name: str
    levels: str
    description: str
    access: str
    grading: str
    fallback_notice: str | None


@dataclass(frozen=True)
class CredentialView:
    type_name: str | None
    type_label: str
    format: str
    issuer: str
    claims: tuple[ClaimNode, ...]
    qualification: Qualification | None


@dataclass(frozen=True)
class ResultView:
    lang: str
    verdict: i18n.VerdictWords
    checks: tuple[i18n.ExplainedCheck, ...]
    notes: tuple[i18n.ExplainedCheck, ...]  # not proven or undetermined: shown by the verdict
    credentials: tuple[CredentialView, ...]
    status_ages: tuple[str, ...]
    source: str  # "wallet" or "upload"
    checked_at: datetime
    time_label: str
    digest: str
    digest_label: str


def build_result(
    verdict: Mapping[str, Any],
    *,
    lang: str,
    source: str,
    checked_at: datetime,
    digest: str,
    digest_of_presentation: bool,
    status_age: StatusAge | None = None,
    status_uris: tuple[str, ...] = (),
    time_label: str = "checked_at",
) -> ResultView:
    """The reader's view of ``verdict``. ``status_age(uri)`` gives a cached status list's age,
    for the lists named by ``status_uris`` and by the verdict's credentials (their
    ``status_uris``, or ``status`` or ``credentialStatus`` in the claims or beside them)."""
    checks = _list(verdict.get("checks"))
    explained = tuple(i18n.explain_check(c, lang) for c in checks if isinstance(c, Mapping))
    credentials = _list(verdict.get("credentials"))
    views = tuple(_credential(c, lang) for c in credentials if isinstance(c, Mapping))
    uris = [*status_uris]
    for credential in credentials:
        if not isinstance(credential, Mapping):
            continue
        listed = _list(credential.get("status_uris"))
        uris.extend(uri for uri in listed if isinstance(uri, str))
        uris.extend(status_uris_of(credential.get("claims")) + status_uris_of(credential))
    return ResultView(
        lang=lang,
        verdict=i18n.verdict_words(str(verdict.get("outcome")), lang),
        checks=explained,
        notes=tuple(c for c in explained if c.outcome in {"not_proven", "undetermined"}),
        credentials=views,
        status_ages=_ages(uris, status_age, lang),
        source=source,
        checked_at=checked_at.astimezone(UTC),
        time_label=i18n.text(time_label, lang),
        digest=digest,
        digest_label=i18n.text(
            "hash_label" if digest_of_presentation else "result_hash_label", lang
        ),
    )


def _ages(uris: list[str], status_age: StatusAge | None, lang: str) -> tuple[str, ...]:
    """ "DUO's status list was last fetched ... ago", once per list the cache knows."""
    if status_age is None:
        return ()
    ages: list[str] = []
    for uri in dict.fromkeys(uris):
        age = status_age(uri)
        if age is not None:
            ages.append(i18n.text("status_age", lang).format(age=i18n.format_age(age, lang)))
    return tuple(ages)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type_name(vct: Any) -> str | None:
    if not isinstance(vct, str) or "/vct/" not in vct:
        return None
    name = vct.rsplit("/vct/", 1)[1]
    return name if name in loader.CREDENTIAL_TYPES else None


def _credential(credential: Mapping[str, Any], lang: str) -> CredentialView:
    claims = credential.get("claims")
    claims = claims if isinstance(claims, Mapping) else {}
    subject = claims.get("credentialSubject")
    if isinstance(subject, list) and subject and isinstance(subject[0], Mapping):
        subject = subject[0]
    shown = subject if isinstance(subject, Mapping) else claims
    type_name = _type_name(credential.get("vct") or claims.get("vct"))
    budget = [MAX_NODES]
    nodes = _nodes(shown, (), type_name, lang, budget)
    diploma_type = shown.get("diploma_type")
    return CredentialView(
        type_name=type_name,
        type_label=i18n.type_label(type_name, lang)
        if type_name
        else str(credential.get("vct") or ""),
        format=str(credential.get("format") or ""),
        issuer=str(credential.get("issuer") or claims.get("iss") or ""),
        claims=nodes,
        qualification=_qualification(diploma_type, lang),
    )


def _nodes(
    value: Mapping[str, Any],
    path: tuple[str | None, ...],
    type_name: str | None,
    lang: str,
    budget: list[int],
) -> tuple[ClaimNode, ...]:
    order = i18n.claim_order(type_name)
    shown = [(k, v) for k, v in value.items() if isinstance(k, str) and k not in TECHNICAL_CLAIMS]
    shown.sort(key=lambda pair: order.get((*path, pair[0]), len(order)))
    out: list[ClaimNode] = []
    for key, item in shown:
        if budget[0] <= 0:
            break
        out.append(_node((*path, key), item, type_name, lang, budget))
    return tuple(out)


def _node(
    path: tuple[str | None, ...], item: Any, type_name: str | None, lang: str, budget: list[int]
) -> ClaimNode:
    budget[0] -= 1
    label = i18n.claim_label(type_name, path, lang)
    if len(path) >= MAX_DEPTH:
        return ClaimNode(label, "…")
    if isinstance(item, Mapping):
        return ClaimNode(label, None, _nodes(item, path, type_name, lang, budget))
    if isinstance(item, list):
        element = i18n.claim_label(type_name, (*path, None), lang)
        children = []
        for index, member in enumerate(item, start=1):
            if budget[0] <= 0:
                break
            child = _node((*path, None), member, type_name, lang, budget)
            children.append(ClaimNode(f"{element} {index}", child.value, child.children))
        return ClaimNode(label, None, tuple(children))
    return ClaimNode(label, _value(path, item, lang))


def _value(path: tuple[str | None, ...], item: Any, lang: str) -> str:
    if item is None:
        return "—"
    if isinstance(item, bool):
        return "✓" if item else "✗"
    if path == ("diploma_type",) and item in qe.LEVELS:
        return f"{qe.explain(item, lang).name} ({item})"
    return str(item)


def _qualification(diploma_type: Any, lang: str) -> Qualification | None:
    if not isinstance(diploma_type, str) or diploma_type not in qe.LEVELS:
        return None
    found = qe.explain(diploma_type, lang)
    return Qualification(
        name=found.name,
        levels=found.levels_text,
        description=found.description,
        access=found.access,
        grading=found.grading,
        fallback_notice=qe.label("fallback_notice", lang) if found.fallback else None,
    )


def status_uris_of(claims: Any) -> list[str]:
    """The status list URIs one credential's claims refer to (TSL §6.2, BSL §2.1)."""
    if not isinstance(claims, Mapping):
        return []
    uris: list[str] = []
    status = claims.get("status")
    listed = status.get("status_list") if isinstance(status, Mapping) else None
    if isinstance(listed, Mapping) and isinstance(listed.get("uri"), str):
        uris.append(listed["uri"])
    entries = claims.get("credentialStatus")
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, Mapping) and isinstance(entry.get("statusListCredential"), str):
            uris.append(entry["statusListCredential"])
    return uris
