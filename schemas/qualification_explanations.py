"""What a Dutch qualification means, for a foreign reader, in five languages.

Levels follow the Dutch Qualifications Framework (NLQF) and its referencing to the European
Qualifications Framework (EQF, Council Recommendation of 22 May 2017, Annex II), ISCED 2011 for the
level of education and the CEFR for the language exams (NT2, inburgering); the table is the one in
shared/DOMAIN.md ("Levels"). The texts live in ``schemas/explanations/<lang>.json`` and are read as
package data on first use, then cached; nothing is read at import time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "nl", "de", "fr", "es")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Levels:
    """Framework levels of one diploma type; ``None`` or empty where a framework does not apply."""

    nlqf: str | None
    eqf: int | None
    isced: int | None
    cefr: tuple[str, ...] = ()


# shared/DOMAIN.md "Levels". staatsexamen_vo has the levels of the school diploma it stands for
# (VMBO, HAVO or VWO), carried by the credential's own nlqf_level/eqf_level claims.
LEVELS: dict[str, Levels] = {
    "vmbo_bb": Levels("1", 1, 2),
    "vmbo_kb": Levels("2", 2, 2),
    "vmbo_gl": Levels("2", 2, 2),
    "vmbo_tl": Levels("2", 2, 2),
    "havo": Levels("4", 4, 3),
    "vwo": Levels("4+", 4, 3),
    "mbo_1": Levels("1", 1, 2),
    "mbo_2": Levels("2", 2, 3),
    "mbo_3": Levels("3", 3, 3),
    "mbo_4": Levels("4", 4, 3),
    "hbo_ad": Levels("5", 5, 5),
    "hbo_bachelor": Levels("6", 6, 6),
    "wo_bachelor": Levels("6", 6, 6),
    "hbo_master": Levels("7", 7, 7),
    "wo_master": Levels("7", 7, 7),
    "staatsexamen_vo": Levels(None, None, None),
    "nt2_i": Levels(None, None, None, ("B1",)),
    "nt2_ii": Levels(None, None, None, ("B2",)),
    "inburgering": Levels(None, None, None, ("A2", "B1")),
}

DIPLOMA_TYPES: tuple[str, ...] = tuple(LEVELS)

# Which grading text of the language file applies: secondary (VO), vocational (MBO), higher
# education (HO), or the pass/fail components of the language exams.
GRADING_SCHEME: dict[str, str] = {
    **dict.fromkeys(("vmbo_bb", "vmbo_kb", "vmbo_gl", "vmbo_tl", "havo", "vwo"), "vo"),
    "staatsexamen_vo": "vo",
    **dict.fromkeys(("mbo_1", "mbo_2", "mbo_3", "mbo_4"), "mbo"),
    **dict.fromkeys(("hbo_ad", "hbo_bachelor", "wo_bachelor", "hbo_master", "wo_master"), "ho"),
    "nt2_i": "nt2",
    "nt2_ii": "nt2",
    "inburgering": "inburgering",
}


class UnknownDiplomaType(KeyError):
    """The diploma_type is not one of the contract's 19 values."""

    code = "unknown_diploma_type"

    def __init__(self) -> None:
        super().__init__("unknown diploma_type: not one of the 19 values of the claims contract")


class UnknownLabel(KeyError):
    """The UI label key is not defined."""

    code = "unknown_label"

    def __init__(self) -> None:
        super().__init__("unknown UI label key")


@dataclass(frozen=True)
class Explanation:
    """One diploma type explained in one language.

    Levels are ``None`` (or, for CEFR, empty) where a framework does not apply; ``levels_text`` says
    them in words, with any note (MBO 4 specialist programmes, the two inburgering laws).
    ``language`` is the language of the text actually given: it differs from
    ``requested_language`` (and ``fallback`` is true) when the requested one is not available.
    """

    diploma_type: str
    language: str
    requested_language: str
    fallback: bool
    name: str
    nlqf_level: str | None
    eqf_level: int | None
    isced_level: int | None
    cefr_levels: tuple[str, ...]
    levels_text: str
    description: str
    access: str
    grading: str


@cache
def _language_data(lang: str) -> dict[str, Any]:
    source = resources.files("schemas") / "explanations" / f"{lang}.json"
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return data


def _resolve(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _levels_text(diploma_type: str, levels: Levels, data: dict[str, Any]) -> str:
    terms: dict[str, str] = data["level_terms"]
    parts = []
    if levels.nlqf is not None:
        parts.append(terms["nlqf"].format(levels.nlqf))
    if levels.eqf is not None:
        parts.append(terms["eqf"].format(levels.eqf))
    if levels.isced is not None:
        parts.append(terms["isced"].format(levels.isced))
    if levels.cefr:
        parts.append(terms["cefr"].format(" / ".join(levels.cefr)))
    note: str | None = data["level_notes"].get(diploma_type)
    text = " · ".join(parts)
    if note is not None:
        text = f"{text} ({note})" if text else note
    return text[:1].upper() + text[1:]


def explain(diploma_type: str, lang: str) -> Explanation:
    """Explain ``diploma_type`` in ``lang``; an unsupported language falls back to English.

    Raises UnknownDiplomaType for a diploma_type outside the contract.
    """
    if diploma_type not in LEVELS:
        raise UnknownDiplomaType
    language = _resolve(lang)
    data = _language_data(language)
    text: dict[str, str] = data["types"][diploma_type]
    levels = LEVELS[diploma_type]
    return Explanation(
        diploma_type=diploma_type,
        language=language,
        requested_language=lang,
        fallback=language != lang,
        name=text["name"],
        nlqf_level=levels.nlqf,
        eqf_level=levels.eqf,
        isced_level=levels.isced,
        cefr_levels=levels.cefr,
        levels_text=_levels_text(diploma_type, levels, data),
        description=text["description"],
        access=text["access"],
        grading=data["grading"][GRADING_SCHEME[diploma_type]],
    )


def label(key: str, lang: str) -> str:
    """The UI label ``key`` (verdicts, check names, credential types, headings) in ``lang``.

    An unsupported language falls back to English; an unknown key raises UnknownLabel.
    """
    labels: dict[str, str] = _language_data(_resolve(lang))["labels"]
    if key not in labels:
        raise UnknownLabel
    return labels[key]


def label_keys() -> frozenset[str]:
    """Every defined label key (the English file is the reference)."""
    return frozenset(_language_data(DEFAULT_LANGUAGE)["labels"])
