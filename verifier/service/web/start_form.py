"""The start page's form: which credential type and claims to ask a wallet for (OpenID4VP 1.0
§6 DCQL, built by verifier.oid4vp.dcql.template), the response mode (§8.2, §8.3) and the
client_id prefix (§5.9.3). Only top-level claims of the type are offered; the defaults ask for
what an employer needs and no more (grades only when ticked)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from werkzeug.datastructures import MultiDict

from schemas import loader
from verifier.service import i18n

RESPONSE_MODES = ("direct_post.jwt", "direct_post")
CLIENT_ID_PREFIXES = ("x509_hash", "x509_san_dns", "redirect_uri")
#: What the start page ticks: diploma = name, qualification and level; grades only when chosen.
PAGE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "diploma": (
        *("given_name", "family_name", "diploma_type", "qualification_name"),
        *("institution", "nlqf_level", "eqf_level"),
    ),
    "grade_list": ("given_name", "family_name", "diploma_type", "subjects"),
    "nt2_diploma": ("given_name", "family_name", "diploma_type", "cefr_level", "award_date"),
    "inburgering": ("given_name", "family_name", "diploma_type", "law", "award_date"),
    "enrolment": (
        *("given_name", "family_name", "institution_name", "programme_name", "phase"),
        "startDate",
    ),
}


@cache
def claim_names(type_name: str) -> tuple[str, ...]:
    """The type's top-level claims (its schema's properties) in type metadata order."""
    known = loader.json_schema(type_name).get("properties", {})
    order = i18n.claim_order(type_name)
    return tuple(p[0] for p in order if len(p) == 1 and isinstance(p[0], str) and p[0] in known)


def claim_choices(type_name: str, lang: str) -> list[tuple[str, str]]:
    """The type's top-level claims with their labels in ``lang``."""
    return [(n, i18n.claim_label(type_name, (n,), lang)) for n in claim_names(type_name)]


@dataclass(frozen=True)
class StartForm:
    claims: tuple[str, ...]
    response_mode: str = RESPONSE_MODES[0]
    client_id_prefix: str = CLIENT_ID_PREFIXES[0]

    @classmethod
    def defaults(cls, type_name: str) -> StartForm:
        return cls(PAGE_DEFAULTS[type_name])

    @classmethod
    def posted(cls, form: MultiDict[str, str]) -> StartForm:
        return cls(
            claims=tuple(dict.fromkeys(form.getlist("claims"))),
            response_mode=form.get("response_mode", RESPONSE_MODES[0]),
            client_id_prefix=form.get("client_id_prefix", CLIENT_ID_PREFIXES[0]),
        )

    def errors(self, type_name: str) -> tuple[str, ...]:
        """The text keys of what is wrong with this form for ``type_name`` (none: usable)."""
        if not set(self.claims) <= set(claim_names(type_name)):
            return ("error_bad_choice",)
        if self.response_mode not in RESPONSE_MODES:
            return ("error_bad_choice",)
        if self.client_id_prefix not in CLIENT_ID_PREFIXES:
            return ("error_bad_choice",)
        return () if self.claims else ("error_no_claims",)
