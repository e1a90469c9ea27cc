"""A printable verification report (PDF 1.4 via fpdf2) of one result page.

It records what the result page shows (verifier/service/result_view.py): the presentation's
SHA-256, the time of the check, the verdict, every check with its code, the disclosed claims and
the qualification explained, in the reader's language. The hash is also written to the
document's Subject so that it can be read without rendering.

Text is drawn with DejaVu Sans (Debian package fonts-dejavu-core), which covers Latin, Greek,
Cyrillic, Arabic and Hebrew letters; a CJK font found on the system (fonts-droid-fallback,
fonts-noto-cjk or fonts-wqy-zenhei) is used as a fallback. With uharfbuzz installed, text is
shaped (Arabic letters joined, right-to-left runs ordered by the Unicode bidi algorithm);
without it Arabic letters are drawn unjoined, left to right. A character no font can draw is
written as ``<U+XXXX>`` so that nothing is lost silently; without DejaVu the core Helvetica font
is used and everything outside Latin-1 is written that way.
"""

from __future__ import annotations

import unicodedata
from importlib.util import find_spec
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from verifier.service import i18n
from verifier.service.result_view import ClaimNode, CredentialView, ResultView

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
CJK_FALLBACKS = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
_LATIN_1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))
_INDENT = 5.0


class _Report(FPDF):
    """An FPDF that knows which characters its fonts can draw."""

    def __init__(self, fonts_dir: Path) -> None:
        super().__init__(format="A4")
        self.family = "helvetica"
        self.mono = "courier"
        self.drawable: frozenset[int] = _LATIN_1
        self._cjk_tried = True  # a core font takes no fallback
        regular, bold = fonts_dir / "DejaVuSans.ttf", fonts_dir / "DejaVuSans-Bold.ttf"
        mono = fonts_dir / "DejaVuSansMono.ttf"
        if regular.is_file() and bold.is_file() and mono.is_file():
            self.add_font("dejavu", "", regular)
            self.add_font("dejavu", "B", bold)
            self.add_font("dejavumono", "", mono)
            self.family, self.mono = "dejavu", "dejavumono"
            self.drawable = self._codepoints("dejavu")
            self._cjk_tried = False
            if find_spec("uharfbuzz") is not None:
                self.set_text_shaping(True)  # Arabic joined and right to left (Unicode bidi)

    def close_fonts(self) -> None:
        """Close the font files fpdf2 reads lazily (it never closes them itself)."""
        for font in self.fonts.values():
            close = getattr(font, "close", None)
            if callable(close):
                close()

    def _codepoints(self, key: str) -> frozenset[int]:
        return frozenset(getattr(self.fonts[key], "cmap", {}).keys())

    def _add_cjk_fallback(self) -> None:
        """Load a CJK font (large: only once a character needs it) as the fallback."""
        self._cjk_tried = True
        for path in CJK_FALLBACKS:
            if path.is_file():
                self.add_font("cjk", "", path)
                self.set_fallback_fonts(["cjk"], exact_match=False)
                self.drawable |= self._codepoints("cjk")
                return

    def safe(self, text: str) -> str:
        """``text`` with control characters as spaces and undrawable ones as ``<U+XXXX>``."""
        if not self._cjk_tried and any(ord(c) not in self.drawable for c in text):
            self._add_cjk_fallback()
        out = []
        for char in text:
            if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}:
                out.append(" ")
            elif ord(char) in self.drawable:
                out.append(char)
            else:
                out.append(f"<U+{ord(char):04X}>")
        return "".join(out)

    def para(self, text: str, *, size: float = 10, bold: bool = False, indent: float = 0) -> None:
        """Prose, wrapped at spaces (a word longer than the line is broken where it must)."""
        self.set_font(self.family, "B" if bold else "", size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent,
            size * 0.5,
            self.safe(text),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            wrapmode=WrapMode.WORD,
        )

    def code(self, text: str, *, indent: float = 0) -> None:
        self.set_font(self.mono, "", 9)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent,
            4.5,
            self.safe(text),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            wrapmode=WrapMode.CHAR,
        )

    def heading(self, text: str) -> None:
        self.ln(3)
        self.para(text, size=13, bold=True)
        self.ln(1)


def drawn_text(text: str, *, fonts_dir: Path = DEJAVU_DIR) -> str:
    """What the report writes for ``text`` with the fonts found (``<U+XXXX>`` where none draws)."""
    pdf = _Report(fonts_dir)
    try:
        return pdf.safe(text)
    finally:
        pdf.close_fonts()


def render_report(view: ResultView, *, fonts_dir: Path = DEJAVU_DIR) -> bytes:
    """The PDF report of ``view`` as bytes (starting with ``%PDF``)."""
    pdf = _Report(fonts_dir)
    try:
        _write(pdf, view)
        return bytes(pdf.output())
    finally:
        pdf.close_fonts()


def _write(pdf: _Report, view: ResultView) -> None:
    lang = view.lang
    pdf.set_title(i18n.text("report_title", lang))
    pdf.set_subject(f"SHA-256 {view.digest}")
    pdf.set_creator("duo-credentials verifier")
    pdf.set_lang(lang)
    pdf.set_creation_date(view.checked_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.para(i18n.text("site_name", lang), size=9)
    pdf.para(i18n.text("report_title", lang), size=18, bold=True)
    pdf.ln(2)
    _summary(pdf, view)
    pdf.heading(i18n.text("checks_heading", lang))
    for check in view.checks:
        code = f" ({check.code})" if check.code else ""
        pdf.para(f"{check.title}: {check.outcome_word}{code}", bold=True)
        pdf.para(check.what, size=9, indent=_INDENT)
        pdf.para(check.meaning, size=9, indent=_INDENT)
        if check.todo:
            pdf.para(f"{i18n.text('check_todo', lang)}: {check.todo}", size=9, indent=_INDENT)
        pdf.ln(1)
    for credential in view.credentials:
        _credential(pdf, credential, lang)
    for sentence in view.status_ages:
        pdf.para(sentence, size=9)
    pdf.ln(4)
    pdf.para(i18n.text("report_footer", lang), size=8)


def _summary(pdf: _Report, view: ResultView) -> None:
    lang = view.lang
    pdf.para(f"{i18n.text('verdict_label', lang)}: {view.verdict.headline}", size=16, bold=True)
    pdf.para(view.verdict.summary)
    for note in view.notes:
        pdf.para(f"{note.title}: {note.outcome_word}. {note.meaning}", size=9)
    pdf.ln(2)
    source = i18n.text("source_wallet" if view.source == "wallet" else "source_upload", lang)
    checked = view.checked_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    pdf.para(f"{view.time_label}: {checked}")
    pdf.para(f"{i18n.text('source_label', lang)}: {source}")
    pdf.para(f"{view.digest_label}:")
    pdf.code(view.digest)


def _credential(pdf: _Report, credential: CredentialView, lang: str) -> None:
    pdf.heading(f"{i18n.text('claims_heading', lang)}: {credential.type_label}")
    pdf.para(f"{i18n.text('format_label', lang)}: {credential.format}", size=9)
    pdf.para(f"{i18n.text('issuer_label', lang)}: {credential.issuer}", size=9)
    pdf.ln(1)
    if not credential.claims:
        pdf.para(i18n.text("no_claims", lang), size=9)
    for node in credential.claims:
        _claim(pdf, node, 0)
    found = credential.qualification
    if found is not None:
        pdf.heading(f"{i18n.text('qualification_heading', lang)}: {found.name}")
        for key, value in (
            ("qualification_levels", found.levels),
            ("qualification_description", found.description),
            ("qualification_access", found.access),
            ("qualification_grading", found.grading),
        ):
            pdf.para(i18n.text(key, lang), size=9, bold=True)
            pdf.para(value, size=9, indent=_INDENT)
        if found.fallback_notice:
            pdf.para(found.fallback_notice, size=8)


def _claim(pdf: _Report, node: ClaimNode, depth: int) -> None:
    indent = min(depth, 6) * _INDENT
    if node.value is not None:
        pdf.para(f"{node.label}: {node.value}", size=9, indent=indent)
        return
    pdf.para(node.label, size=9, bold=True, indent=indent)
    for child in node.children:
        _claim(pdf, child, depth + 1)
