"""The verifier pages' languages (en, nl, de, fr, es) and plain-word explanations of every check.

The language comes from ``?lang=`` (remembered in a cookie), else the cookie, else the browser's
Accept-Language (RFC 9110 §12.5.4), else English. Labels that schemas.qualification_explanations
defines (verdicts, check names, credential types) come from there; the page texts, the outcome
of each check and what each error code means for a reader who is not an expert live in
``verifier/service/texts/<lang>.json``. Every code of docs/errors.md that can appear on a check
belongs to one explanation group (``CODE_GROUPS``); an unknown code gets a generic explanation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

from werkzeug.datastructures import LanguageAccept

from schemas import loader
from schemas import qualification_explanations as qe

LANGUAGES: tuple[str, ...] = qe.LANGUAGES
DEFAULT_LANGUAGE = qe.DEFAULT_LANGUAGE
LANGUAGE_NAMES = {
    "en": "English",
    "nl": "Nederlands",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}
#: Check names whose label schemas.qualification_explanations already defines.
CHECK_LABELS = {
    "signature": "check_signature",
    "issuer_trust": "check_issuer_trust",
    "status": "check_revocation",
    "holder_binding": "check_holder_binding",
    "validity_period": "check_expiry",
}
VERDICT_LABELS = {
    "valid": "verdict_valid",
    "invalid": "verdict_invalid",
    "undetermined": "verdict_indeterminate",
}

_GROUPED: dict[str, tuple[str, ...]] = {
    "damaged": (
        *("input_too_large", "json_malformed", "json_duplicate_key", "json_too_deep"),
        *("json_not_object", "jws_malformed", "format_unknown", "sd_jwt_malformed"),
        *("sd_jwt_vc_typ_invalid", "sd_alg_unsupported", "disclosure_malformed"),
        *("sd_jwt_too_deep", "claim_not_disclosable", "vct_missing", "jwt_time_invalid"),
        *("iss_missing", "alg_not_allowed", "vc_typ_invalid", "vc_claim_forbidden"),
        *("jwt_vc_claim_missing", "jwt_vc_claim_conflict", "vcdm_context_invalid"),
        *("vcdm_id_invalid", "vcdm_type_invalid", "vcdm_issuer_invalid", "vcdm_subject_missing"),
        *("vcdm_subject_invalid", "vcdm_datetime_invalid", "vcdm_status_invalid"),
        *("vcdm_schema_invalid", "enveloped_vc_invalid"),
    ),
    "untrusted_issuer": (
        *("issuer_untrusted", "issuer_mismatch", "jwk_invalid", "trust_anchor_malformed"),
        *("trust_bundle_signature_invalid", "trust_bundle_malformed", "x5c_malformed"),
        *("x5c_contains_anchor", "x5c_self_signed_leaf", "x5c_leaf_not_end_entity"),
        *("x5c_leaf_key_usage", "x5c_untrusted", "x5c_expired", "x5c_not_yet_valid"),
        "x5c_issuer_mismatch",
    ),
    "trust_unavailable": ("issuer_key_unresolved", "no_trust_anchor"),
    "signature": ("sd_jwt_signature_invalid", "signature_invalid"),
    "tampered": (
        *("disclosure_kind_mismatch", "disclosure_name_forbidden", "disclosure_name_conflict"),
        *("disclosure_unreferenced", "disclosure_duplicate", "digest_duplicate"),
    ),
    "expired": ("expired",),
    "not_yet_valid": ("not_yet_valid", "iat_in_future"),
    "revoked": ("credential_revoked",),
    "suspended": ("credential_suspended",),
    "status_unknown": (
        *("status_unrecognized", "status_list_unavailable", "status_list_malformed"),
        *("status_list_too_large", "status_list_typ_invalid", "status_list_signature_invalid"),
        *("status_list_sub_mismatch", "status_list_expired", "status_list_not_yet_valid"),
        *("status_list_content_type_invalid", "status_list_time_not_covered"),
        *("x5c_status_list_mismatch", "STATUS_RETRIEVAL_ERROR", "STATUS_VERIFICATION_ERROR"),
        *("STATUS_LIST_LENGTH_ERROR", "fetch_content_type", "fetch_failed", "fetch_redirects"),
        *("fetch_refused", "fetch_timeout", "fetch_too_large"),
    ),
    "status_broken": (
        *("status_reference_malformed", "status_index_out_of_range", "RANGE_ERROR"),
        "MALFORMED_VALUE_ERROR",
    ),
    "binding_failed": (
        *("cnf_jwk_missing", "holder_key_invalid", "kb_jwt_missing", "kb_jwt_unexpected"),
        *("kb_jwt_malformed", "kb_jwt_typ_invalid", "kb_jwt_alg_invalid"),
        *("kb_jwt_signature_invalid", "kb_jwt_sd_hash_mismatch"),
        *("holder_binding_context_missing", "holder_binding_missing"),
    ),
    "replay": (
        *("kb_jwt_iat_invalid", "kb_jwt_expired", "kb_jwt_nonce_mismatch"),
        *("kb_jwt_aud_mismatch", "response_nonce_mismatch"),
    ),
    "type_metadata": (
        *("type_metadata_integrity_mismatch", "type_metadata_malformed"),
        *("type_metadata_vct_mismatch", "type_metadata_extends_unsupported"),
        *("svg_template_unsafe", "svg_template_unavailable"),
    ),
    "type_metadata_missing": ("type_metadata_unavailable",),
    "no_status": ("status_not_referenced",),
    "presentation": (
        *("jwe_malformed", "jwe_alg_unsupported", "jwe_key_invalid", "jwe_key_unknown"),
        *("jwe_decrypt_failed", "invalid_request", "invalid_encryption_parameters"),
        *("disclosure_path_unknown", "vp_formats_not_supported", "invalid_client"),
        *("invalid_request_uri_method", "invalid_transaction_data", "wallet_unavailable"),
        *("invalid_scope", "response_malformed", "response_mode_mismatch"),
        *("response_not_encrypted", "response_too_large", "vp_token_malformed"),
        *("vp_token_missing", "vp_token_not_object", "vp_token_too_many"),
        *("vp_token_unknown_query", "vp_token_multiple_not_allowed", "dcql_unsatisfied"),
        "wallet_error_unknown",
    ),
    "mismatch": (
        *("dcql_authority_mismatch", "dcql_claim_missing", "dcql_claim_sets_unsatisfied"),
        *("dcql_format_mismatch", "dcql_type_mismatch", "dcql_value_mismatch"),
    ),
    "wallet_declined": ("access_denied",),
}
#: Every known code and the explanation group it belongs to.
CODE_GROUPS: dict[str, str] = {code: group for group, codes in _GROUPED.items() for code in codes}
_OUTCOME_DEFAULT = {
    "failed": "generic",
    "undetermined": "generic_undetermined",
    "not_proven": "not_proven",
    "skipped": "skipped",
}


def choose_language(*, query: str | None, cookie: str | None, accept: LanguageAccept) -> str:
    """``?lang=`` if supported, else the cookie's, else the best Accept-Language, else English."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    best = accept.best_match(LANGUAGES)
    return best if best in LANGUAGES else DEFAULT_LANGUAGE


def supported(lang: str | None) -> bool:
    return lang in LANGUAGES


@cache
def _texts(lang: str) -> dict[str, Any]:
    source = resources.files("verifier.service") / "texts" / f"{lang}.json"
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return data


def _section(lang: str, section: str) -> dict[str, Any]:
    found: dict[str, Any] = _texts(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)[section]
    return found


def text(key: str, lang: str) -> str:
    """A page text; a key missing in ``lang`` falls back to English (a test keeps them complete)."""
    found = _section(lang, "chrome").get(key)
    if found is None:
        found = _section(DEFAULT_LANGUAGE, "chrome")[key]
    return str(found)


def all_texts(lang: str) -> dict[str, str]:
    """Every page text in ``lang`` (for templates)."""
    return {**_section(DEFAULT_LANGUAGE, "chrome"), **_section(lang, "chrome")}


def outcome_word(outcome: str, lang: str) -> str:
    words = _section(lang, "outcomes")
    return str(words.get(outcome, outcome))


@dataclass(frozen=True)
class VerdictWords:
    outcome: str
    headline: str
    summary: str
    todo: str


def verdict_words(outcome: str, lang: str) -> VerdictWords:
    """The verdict in big plain words; anything but valid/invalid counts as undetermined."""
    known = outcome if outcome in VERDICT_LABELS else "undetermined"
    words = _section(lang, "verdicts")[known]
    headline = qe.label(VERDICT_LABELS[known], lang)
    return VerdictWords(known, headline, str(words["summary"]), str(words["todo"]))


def check_title(name: str, lang: str) -> str:
    """The reader's name of a check (``format``, ``signature``, ...)."""
    if name in CHECK_LABELS:
        return qe.label(CHECK_LABELS[name], lang)
    checks = _section(lang, "checks")
    return str(checks.get(name, checks["other"]).get("name", name))


def code_group(name: str, outcome: str, code: str | None) -> str | None:
    """Which explanation applies to a check's outcome and code; None for a passed check."""
    if outcome == "passed":
        return None
    if outcome == "not_proven":
        return "not_proven"
    if name == "status" and outcome == "undetermined":
        return "status_unknown"  # docs/errors.md: any code on the status check is undetermined
    group = CODE_GROUPS.get(code or "")
    if group is None or (
        outcome == "skipped" and group not in {"type_metadata_missing", "no_status"}
    ):
        return _OUTCOME_DEFAULT.get(outcome, "generic")
    return group


@dataclass(frozen=True)
class ExplainedCheck:
    name: str
    title: str
    outcome: str
    outcome_word: str
    code: str | None
    what: str
    meaning: str
    todo: str | None


def explain_check(check: Mapping[str, Any], lang: str) -> ExplainedCheck:
    """One check of a verdict (``{"name", "outcome", "code"}``) in plain words."""
    name = str(check.get("name") or "other")
    outcome = str(check.get("outcome") or "undetermined")
    raw_code = check.get("code")
    code = raw_code if isinstance(raw_code, str) and raw_code else None
    checks = _section(lang, "checks")
    described = checks.get(name, checks["other"])
    group = code_group(name, outcome, code)
    if group is None:
        meaning, todo = str(described["ok"]), None
    else:
        words = _section(lang, "groups")[group]
        meaning, todo = str(words["means"]), str(words["todo"])
    return ExplainedCheck(
        name=name,
        title=check_title(name, lang),
        outcome=outcome,
        outcome_word=outcome_word(outcome, lang),
        code=code,
        what=str(described["what"]),
        meaning=meaning,
        todo=todo,
    )


def type_label(type_name: str, lang: str) -> str:
    return qe.label(f"type_{type_name}", lang)


@cache
def _metadata_labels(type_name: str) -> dict[tuple[str | None, ...], dict[str, str]]:
    document = loader.type_metadata(type_name, "https://issuer.invalid")
    return {
        tuple(claim["path"]): {d["locale"]: d["label"] for d in claim.get("display", [])}
        for claim in document.get("claims", [])
    }


def claim_order(type_name: str | None) -> dict[tuple[str | None, ...], int]:
    """Each claim path's position in the type metadata (the order the issuer shows them in)."""
    return {path: i for i, path in enumerate(_metadata_labels(type_name))} if type_name else {}


def claim_label(type_name: str | None, path: tuple[str | None, ...], lang: str) -> str:
    """A claim's label: the type metadata's in ``lang``, else this module's, else English, else
    the claim's own name. ``None`` in ``path`` stands for an array element."""
    shown = [p for p in path if p is not None]
    key = ".".join(shown) + ("[]" if path and path[-1] is None else "")
    found = _metadata_labels(type_name).get(path, {}) if type_name else {}
    own = _section(lang, "claims")
    for candidate in (found.get(lang), own.get(key), found.get(DEFAULT_LANGUAGE)):
        if candidate:
            return str(candidate)
    return shown[-1] if shown else ""


def format_age(age: timedelta, lang: str) -> str:
    """A status list's age in whole minutes, hours or days."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 120:
        return text("age_minutes", lang).format(n=minutes)
    if minutes < 48 * 60:
        return text("age_hours", lang).format(n=minutes // 60)
    return text("age_days", lang).format(n=minutes // (24 * 60))
