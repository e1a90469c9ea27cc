"""Qualification explanations for foreign readers (shared/DOMAIN.md "Levels", "What a foreign
verifier needs": the result in their language with the level explained)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources

import pytest

from schemas.qualification_explanations import (
    DIPLOMA_TYPES,
    LANGUAGES,
    UnknownDiplomaType,
    UnknownLabel,
    explain,
    label,
    label_keys,
)

# The claims contract's diploma_type values, written out again on purpose.
CONTRACT_TYPES = (
    *("vmbo_bb", "vmbo_kb", "vmbo_gl", "vmbo_tl", "havo", "vwo"),
    *("mbo_1", "mbo_2", "mbo_3", "mbo_4"),
    *("hbo_ad", "hbo_bachelor", "hbo_master", "wo_bachelor", "wo_master"),
    *("staatsexamen_vo", "nt2_i", "nt2_ii", "inburgering"),
)

# shared/DOMAIN.md "Levels", encoded independently of the module: (NLQF, EQF, ISCED 2011, CEFR).
DOMAIN_TABLE: dict[str, tuple[str | None, int | None, int | None, tuple[str, ...]]] = {
    "vmbo_bb": ("1", 1, 2, ()),
    "vmbo_kb": ("2", 2, 2, ()),
    "vmbo_gl": ("2", 2, 2, ()),
    "vmbo_tl": ("2", 2, 2, ()),
    "mbo_1": ("1", 1, 2, ()),
    "mbo_2": ("2", 2, 3, ()),
    "mbo_3": ("3", 3, 3, ()),
    "mbo_4": ("4", 4, 3, ()),
    "havo": ("4", 4, 3, ()),
    "vwo": ("4+", 4, 3, ()),
    "hbo_ad": ("5", 5, 5, ()),
    "hbo_bachelor": ("6", 6, 6, ()),
    "wo_bachelor": ("6", 6, 6, ()),
    "hbo_master": ("7", 7, 7, ()),
    "wo_master": ("7", 7, 7, ()),
    "nt2_i": (None, None, None, ("B1",)),
    "nt2_ii": (None, None, None, ("B2",)),
    "inburgering": (None, None, None, ("A2", "B1")),
    # Not in the table: a state exam has the level of the school diploma it stands for.
    "staatsexamen_vo": (None, None, None, ()),
}

# A sentence ends at . ! ? followed by a capital or an opening quote ("bzw. aufgerundet" does not).
SENTENCE_END = re.compile("(?<=[.!?])\\s+(?=[A-Z\u00c0-\u00dd\u201e\u00ab\u2018'\u00a1\u00bf])")

REQUIRED_LABELS = {
    "verdict_valid",
    "verdict_invalid",
    "verdict_indeterminate",
    "check_signature",
    "check_issuer_trust",
    "check_revocation",
    "check_holder_binding",
    "check_expiry",
    "type_diploma",
    "type_grade_list",
    "type_nt2_diploma",
    "type_inburgering",
    "type_enrolment",
}


def _file(lang: str) -> dict[str, object]:
    path = resources.files("schemas") / "explanations" / f"{lang}.json"
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _shape(value: object, prefix: str = "") -> set[str]:
    if not isinstance(value, dict):
        return set()
    keys: set[str] = set()
    for key, child in value.items():
        keys.add(prefix + key)
        keys |= _shape(child, f"{prefix}{key}.")
    return keys


def test_the_module_knows_exactly_the_contract_types() -> None:
    assert sorted(DIPLOMA_TYPES) == sorted(CONTRACT_TYPES)
    assert set(LANGUAGES) == {"en", "nl", "de", "fr", "es"}


@pytest.mark.parametrize("lang", ["en", "nl", "de", "fr", "es"])
def test_every_type_is_explained_in_every_language(lang: str) -> None:
    for diploma_type in CONTRACT_TYPES:
        explanation = explain(diploma_type, lang)
        assert explanation.language == lang and not explanation.fallback
        for text in (
            explanation.name,
            explanation.description,
            explanation.access,
            explanation.grading,
            explanation.levels_text,
        ):
            assert text.strip() == text and len(text) > 3, (diploma_type, lang)


@pytest.mark.parametrize("lang", ["nl", "de", "fr", "es"])
def test_language_files_have_the_same_structure_as_english(lang: str) -> None:
    assert _shape(_file(lang)) == _shape(_file("en"))
    assert _file(lang)["language"] == lang


@pytest.mark.parametrize("lang", ["nl", "de", "fr", "es"])
def test_texts_are_translated_not_copied(lang: str) -> None:
    for diploma_type in CONTRACT_TYPES:
        english, other = explain(diploma_type, "en"), explain(diploma_type, lang)
        assert other.description != english.description, (diploma_type, lang)
        assert other.access != english.access, (diploma_type, lang)


@pytest.mark.parametrize("lang", ["en", "nl", "de", "fr", "es"])
def test_texts_are_short(lang: str) -> None:
    """Each text is one to three sentences."""
    for diploma_type in CONTRACT_TYPES:
        explanation = explain(diploma_type, lang)
        for text in (explanation.description, explanation.access, explanation.grading):
            sentences = [s for s in re.split(SENTENCE_END, text) if s]
            assert 1 <= len(sentences) <= 3 and len(text) <= 400, (diploma_type, lang, text)


@pytest.mark.parametrize("diploma_type", sorted(DOMAIN_TABLE))
def test_levels_match_the_domain_table(diploma_type: str) -> None:
    nlqf, eqf, isced, cefr = DOMAIN_TABLE[diploma_type]
    for lang in LANGUAGES:
        explanation = explain(diploma_type, lang)
        assert explanation.nlqf_level == nlqf
        assert explanation.eqf_level == eqf
        assert explanation.isced_level == isced
        assert explanation.cefr_levels == cefr
        for value in (nlqf, eqf, isced, *cefr):
            if value is not None:
                assert str(value) in explanation.levels_text, (diploma_type, lang)


def test_level_notes_say_what_the_table_says() -> None:
    """MBO 4 specialist programmes are ISCED 4; inburgering is A2 (2013 law) or B1 (2021 law)."""
    assert "4" in explain("mbo_4", "en").levels_text.split("(")[1]
    for lang in LANGUAGES:
        text = explain("inburgering", lang).levels_text
        assert "2013" in text and "2021" in text and "A2" in text and "B1" in text
        assert explain("staatsexamen_vo", lang).levels_text  # says "as the school diploma"


@pytest.mark.parametrize("lang", ["en", "nl", "de", "fr", "es"])
def test_grading_explains_the_dutch_scale(lang: str) -> None:
    for scheme_type in ("havo", "wo_master", "mbo_3"):
        grading = explain(scheme_type, lang).grading
        assert "10" in grading and "6" in grading and re.search(r"5[.,]5", grading)
    assert "cum laude" in explain("wo_master", lang).grading.lower()
    assert explain("nt2_i", lang).grading != explain("havo", lang).grading
    assert explain("inburgering", lang).grading != explain("nt2_ii", lang).grading


def test_unknown_language_falls_back_to_english_and_says_so() -> None:
    explanation = explain("havo", "pt")
    assert explanation.language == "en"
    assert explanation.requested_language == "pt"
    assert explanation.fallback
    assert explanation.description == explain("havo", "en").description
    assert label("verdict_valid", "pt") == "Valid"


def test_unknown_diploma_type_raises_a_clear_key_error() -> None:
    with pytest.raises(UnknownDiplomaType) as caught:
        explain("phd-<script>", "en")
    assert isinstance(caught.value, KeyError)
    assert caught.value.code == "unknown_diploma_type"
    assert "19 values" in str(caught.value) and "script" not in str(caught.value)


@pytest.mark.parametrize("lang", ["en", "nl", "de", "fr", "es"])
def test_every_ui_label_is_present(lang: str) -> None:
    assert label_keys() >= REQUIRED_LABELS
    for key in label_keys():
        assert label(key, lang).strip()
    if lang != "en":
        for key in ("verdict_valid", "verdict_invalid", "verdict_indeterminate"):
            assert label(key, lang) != label(key, "en")


def test_english_labels_are_the_agreed_wording() -> None:
    wording = {
        "verdict_valid": "Valid",
        "verdict_invalid": "Invalid",
        "verdict_indeterminate": "Could not be determined",
        "check_signature": "Signature",
        "check_issuer_trust": "Issuer trust",
        "check_revocation": "Revocation status",
        "check_holder_binding": "Holder binding",
        "check_expiry": "Expiry",
    }
    assert {key: label(key, "en") for key in wording} == wording


def test_unknown_label_raises() -> None:
    with pytest.raises(UnknownLabel) as caught:
        label("no_such_label", "en")
    assert isinstance(caught.value, KeyError) and caught.value.code == "unknown_label"


def test_nothing_is_read_at_import_time() -> None:
    code = (
        "import schemas.qualification_explanations as m; "
        "print(m._language_data.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
