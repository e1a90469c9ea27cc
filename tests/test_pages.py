"""The verifier's pages: start page, QR and live status, result page, PDF report, wallet-less check.

OpenID4VP 1.0 §13.3/§14.2 (SPECS VP-16, items 83 and 84: the result only for the session that
started the transaction and, after a same-device start, only with the response_code; a wallet's
error shown), issue 4 deliverable 4 (languages en nl de fr es by Accept-Language with a switcher,
checks explained, the qualification explained, a PDF with the presentation's hash, holder
binding ``not_proven`` for an upload). Credentials come from the issuer's signing code (conftest
``duo``) and wallet responses from the wallet's own code, encrypted to the request's key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import NOW, Duo
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from keys.file_store import FileKeyStore, init_store
from verifier import jose
from verifier.service import i18n, transactions
from verifier.service.app import Services, create_app
from verifier.service.config import VerifierSettings
from verifier.service.db import make_engine
from verifier.service.report_pdf import CJK_FALLBACKS, DEJAVU_DIR, drawn_text, render_report
from verifier.service.result_view import build_result
from verifier.service.trust_source import TrustSource
from verifier.trust import TrustStore

VERIFIER_URL = "https://verifier.duo.test"
ROOT = Path(__file__).resolve().parent.parent
DIPLOMA = ["given_name", "family_name", "diploma_type", "qualification_name"]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Site:
    app: Flask
    client: FlaskClient
    clock: Clock

    @property
    def svc(self) -> Services:
        found: Services = self.app.extensions["duo-verifier"]
        return found

    def browser(self) -> FlaskClient:
        """Another browser: its own cookie jar."""
        return self.app.test_client()


@pytest.fixture(scope="module")
def verifier_keys(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    directory = tmp_path_factory.mktemp("page-keys")
    return init_store(directory, issuer=VERIFIER_URL, verifier_host="verifier.duo.test", now=NOW)


@pytest.fixture
def make_site(
    verifier_keys: FileKeyStore, tmp_path: Path
) -> Iterator[Callable[[TrustStore], Site]]:
    made: list[Site] = []

    def build(store: TrustStore) -> Site:
        clock = Clock()
        data = tmp_path / f"site{len(made)}"
        data.mkdir()
        app = create_app(
            VerifierSettings(data_dir=data, public_url=VERIFIER_URL),
            keys=verifier_keys,
            trust=TrustSource.offline(store, clock),
            engine=make_engine(f"sqlite:///{data / 'verifier.sqlite3'}"),
            clock=clock,
        )
        made.append(Site(app, app.test_client(), clock))
        return made[-1]

    yield build
    for site in made:
        site.svc.engine.dispose()


@pytest.fixture
def site(make_site: Callable[[TrustStore], Site], duo: Duo) -> Site:
    return make_site(duo.trust)


def html(answer: TestResponse) -> str:
    return answer.get_data(as_text=True)


def csrf(client: FlaskClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html(client.get(path)))
    assert found is not None
    return found.group(1)


def start(client: FlaskClient, claims: list[str] = DIPLOMA, **form: str) -> str:
    """Start a presentation from the start page; the transaction id."""
    answer = client.post(
        "/", data={"csrf_token": csrf(client), "type": "diploma", "claims": claims, **form}
    )
    assert answer.status_code == 303, html(answer)
    location = answer.headers["Location"]
    assert location.startswith("/presentations/")
    return location.rsplit("/", 1)[1]


def wallet_answers(site: Site, duo: Duo, tid: str, credential: str | None = None) -> Any:
    """The wallet fetches the request object and posts an encrypted SD-JWT+KB (§8.3)."""
    path, form = wallet_response(site, duo, tid, credential)
    answer = site.client.post(path, data=form)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def wallet_response(
    site: Site, duo: Duo, tid: str, credential: str | None = None
) -> tuple[str, dict[str, str]]:
    """The response_uri's path and the form of the wallet's encrypted response (§8.3)."""
    raw = site.client.get(f"/oid4vp/request/{tid}").get_data(as_text=True)
    claims = jose.parse_compact(raw).payload
    presentation = duo.present(
        credential or duo.issue(status="valid"),
        paths=("given_name", "family_name", "diploma_type", "qualification_name"),
        nonce=claims["nonce"],
        aud=claims["client_id"],
    )
    payload = {"vp_token": {"diploma": [presentation]}, "state": claims["state"]}
    key = claims["client_metadata"]["jwks"]["keys"][0]
    token = jose.jwe_encrypt(
        json.dumps(payload).encode(),
        recipient_jwk=key,
        alg="ECDH-ES",
        enc="A128GCM",
        kid=key["kid"],
        zip_=None,
    )
    return urlsplit(claims["response_uri"]).path, {"response": token}


def response_code(redirect: dict[str, Any]) -> str:
    query = urlsplit(redirect["redirect_uri"]).query
    return dict(p.split("=", 1) for p in query.split("&"))["response_code"]


def finish_with(site: Site, tid: str, verdict: dict[str, Any]) -> str:
    """Close the transaction with a verdict of the test's choosing; its response_code."""
    txn = transactions.open_transaction(site.svc, tid)
    code = transactions.finish(site.svc, txn, verdict=verdict, error=None)
    assert code is not None
    return code


# --- languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Einen Nachweis anfordern"),
        ("nl", "nl", "Vraag om een credential"),
        ("fr-CA", "fr", "Demander une attestation"),
        ("es", "es", "Solicitar una credencial"),
        ("ja, zh;q=0.8", "en", "Ask for a credential"),
    ],
)
def test_language_follows_accept_language(site: Site, accept: str, lang: str, heading: str) -> None:
    page = html(site.client.get("/", headers={"Accept-Language": accept}))
    assert f'<html lang="{lang}">' in page
    assert heading in page


def test_switcher_sets_a_cookie_that_wins_over_accept_language(site: Site) -> None:
    page = html(site.client.get("/"))
    for code in i18n.LANGUAGES:
        assert f'href="/?lang={code}"' in page
    answer = site.client.get("/?lang=nl", headers={"Accept-Language": "de"})
    assert "Vraag om een credential" in html(answer)
    assert "duo_verifier_lang=nl" in answer.headers["Set-Cookie"]
    again = html(site.client.get("/check", headers={"Accept-Language": "de"}))
    assert '<html lang="nl">' in again and "Controleer een credentialbestand" in again
    unknown = site.browser().get("/?lang=xx", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in html(unknown) and "duo_verifier_lang" not in str(unknown.headers)


def test_every_language_has_every_text() -> None:
    """No text falls back silently: each language file has every key of the English one."""
    english = json.loads((ROOT / "verifier/service/texts/en.json").read_text("utf-8"))
    for lang in i18n.LANGUAGES:
        texts = json.loads((ROOT / f"verifier/service/texts/{lang}.json").read_text("utf-8"))
        for section in ("chrome", "outcomes", "verdicts", "checks", "groups"):
            assert set(texts[section]) == set(english[section]), (lang, section)
        if lang not in {"en", "nl"}:  # en and nl claim labels come from the type metadata
            assert set(texts["claims"]) >= {"given_name", "subjects.final_mark", "endDate"}


def test_every_verification_code_is_explained() -> None:
    """docs/errors.md: every code a check or a wallet response can end with has plain words."""
    documented: set[str] = set()
    section = ""
    for line in (ROOT / "docs/errors.md").read_text("utf-8").splitlines():
        section = line if line.startswith("## ") else section
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 4 or not cells[1].startswith("`"):
            continue
        codes = re.findall(r"`([A-Za-z_]+)`", cells[1])
        families = ("InvalidCredential", "VerificationIncomplete", "note")
        if section.startswith("## OpenID4VP 1.0 responses") or any(f in cells[2] for f in families):
            documented.update(codes)
        documented.update(c for c in codes if c.startswith("fetch_"))  # on an undetermined status
    assert documented - set(i18n.CODE_GROUPS) == set()
    for lang in i18n.LANGUAGES:
        for code in documented:
            explained = i18n.explain_check({"name": "x", "outcome": "failed", "code": code}, lang)
            assert explained.meaning and explained.todo


# --- start page ---------------------------------------------------------------------------------


def checked(page: str) -> set[str]:
    return set(re.findall(r'name="claims" value="([^"]+)"[^>]*checked', page))


def test_start_page_offers_the_types_claims_with_sensible_defaults(site: Site) -> None:
    page = html(site.client.get("/?lang=de"))
    for name in ("diploma", "grade_list", "nt2_diploma", "inburgering", "enrolment"):
        assert f'href="/?type={name}"' in page
    assert {"given_name", "family_name", "qualification_name", "nlqf_level"} <= checked(page)
    assert "birthdate" not in checked(page)
    assert "Vornamen" in page and "Name der Qualifikation" in page
    grades = html(site.client.get("/?type=grade_list"))
    assert "subjects" in checked(grades) and 'value="subjects"' in grades
    assert 'value="subjects"' not in page  # a diploma has no grades to ask for


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"type": "diploma"}, "Choose at least one detail"),
        ({"type": "diploma", "claims": ["shoe_size"]}, "not available"),
        ({"type": "passport", "claims": ["given_name"]}, "not available"),
        (
            {"type": "diploma", "claims": ["given_name"], "response_mode": "fragment"},
            "not available",
        ),
        ({"type": "diploma", "claims": ["given_name"], "client_id_prefix": "did"}, "not available"),
    ],
)
def test_start_form_is_validated(site: Site, form: dict[str, Any], message: str) -> None:
    answer = site.client.post("/", data={"csrf_token": csrf(site.client), **form})
    assert answer.status_code == 400
    assert message in html(answer) and 'role="alert"' in html(answer)
    with site.svc.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM vp_transactions").scalar() == 0


@pytest.mark.parametrize("path", ["/", "/check", "/check/report.pdf"])
def test_posts_without_the_csrf_token_are_refused(site: Site, path: str) -> None:
    site.client.get("/")  # the session has a token; the form does not send it
    for form in ({}, {"csrf_token": "forged"}):
        answer = site.client.post(path, data={"type": "diploma", "claims": ["given_name"], **form})
        assert answer.status_code == 400
        assert "expired or was not sent from this site" in html(answer)
    other = site.browser()  # a token from another session does not count either
    answer = other.post(path, data={"csrf_token": csrf(site.client), "credential": "x"})
    assert answer.status_code == 400


# --- a transaction: QR, status, result ----------------------------------------------------------


def test_start_shows_qr_same_device_button_and_live_status(site: Site) -> None:
    """VP-1: the QR code is the openid4vp:// request; the page loads nothing from elsewhere."""
    tid = start(site.client)
    answer = site.client.get(f"/presentations/{tid}")
    page = html(answer)
    assert answer.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="qr"' in page and 'role="img"' in page
    link = re.search(r'id="wallet-link">([^<]+)<', page)
    assert link is not None and link.group(1).startswith("openid4vp://?client_id=x509_hash")
    assert f'href="/presentations/{tid}/wallet"' in page
    assert 'src="/assets/poll.js"' in page and "<script>" not in page
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    status = site.client.get(f"/presentations/{tid}/status")
    assert status.get_json() == {"state": "pending"}
    for asset in ("/assets/poll.js", "/assets/verifier.css"):
        with site.client.get(asset) as served:
            assert served.status_code == 200 and "no-store" not in served.headers["Cache-Control"]


def test_cross_device_result_page_and_report(site: Site, duo: Duo) -> None:
    """The polling page's session sees the verdict, explained, and downloads the PDF."""
    tid = start(site.client)
    wallet_answers(site, duo, tid)
    assert site.client.get(f"/presentations/{tid}/status").get_json() == {"state": "done"}
    page = html(site.client.get(f"/presentations/{tid}?lang=de"))
    assert 'class="verdict-word">Gültig<' in page
    assert "Sanne Johanna" in page and "Vornamen" in page
    assert "Was diese Qualifikation bedeutet" in page and "EQR-Niveau 6" in page
    assert "Bindung an den Inhaber" in page
    report = site.client.get(f"/presentations/{tid}/report.pdf")
    assert report.mimetype == "application/pdf" and report.data.startswith(b"%PDF")
    digest = re.search(r'class="digest">([0-9a-f]{64})<', page)
    assert digest is not None and digest.group(1).encode() in report.data


def test_wallet_result_and_report_name_the_presentation_hash_time_and_status_age(
    site: Site, duo: Duo
) -> None:
    """Issue 4: the result page and the PDF carry the SHA-256 of the response as received (the
    JWE of direct_post.jwt), the time the response was checked, and the status list's age."""
    tid = start(site.client)
    site.clock.now = NOW + timedelta(minutes=3)
    path, form = wallet_response(site, duo, tid)
    assert site.client.post(path, data=form).status_code == 200
    digest = hashlib.sha256(form["response"].encode()).hexdigest()
    page = html(site.client.get(f"/presentations/{tid}"))
    assert f'class="digest">{digest}<' in page and "SHA-256 of the presentation" in page
    assert "<dt>Checked at</dt><dd>2026-03-01 12:03:00 UTC</dd>" in page
    assert "DUO&#39;s status list was last fetched" in page
    report = site.client.get(f"/presentations/{tid}/report.pdf").data
    assert f"SHA-256 {digest}".encode() in report
    assert b"D:20260301120300" in report  # the report's date is the time of the check
    nl = html(site.client.get(f"/presentations/{tid}?lang=nl"))
    assert "De statuslijst van DUO is" in nl


def test_api_transaction_returns_the_browser_to_a_neutral_page(site: Site, duo: Duo) -> None:
    """§13.3: an API start without redirect_uri sends the wallet's browser to a page that says
    to return to the application, in each language, and shows no verdict; the result page
    stays closed to that browser (no page session started the transaction)."""
    started = site.client.post("/api/presentations", json={"template": "diploma"}).get_json()
    tid = started["id"]
    target = urlsplit(wallet_answers(site, duo, tid)["redirect_uri"])
    assert target.path == f"/presentations/{tid}/done" and target.query.startswith("response_code=")
    phone = site.browser()
    words = {
        "en": "return to the application",
        "nl": "teruggaan naar de applicatie",
        "de": "zur Anwendung zurückkehren",
        "fr": "et revenir à l",
        "es": "volver a la aplicación",
    }
    for lang, text in words.items():
        answer = phone.get(f"{target.path}?{target.query}", headers={"Accept-Language": lang})
        page = html(answer)
        assert answer.status_code == 200 and f'<html lang="{lang}">' in page and text in page
        assert "Sanne" not in page and "verdict" not in page and "response_code" not in page
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert phone.get(f"/presentations/{tid}?{target.query}").status_code == 403


def test_result_and_status_are_hidden_from_another_session(site: Site, duo: Duo) -> None:
    """VP-16, item 83: another browser, even with the response_code, gets no result."""
    tid = start(site.client)
    code = response_code(wallet_answers(site, duo, tid))
    stranger = site.browser()
    for path in (f"/presentations/{tid}", f"/presentations/{tid}?response_code={code}"):
        answer = stranger.get(path)
        assert answer.status_code == 403 and "Sanne" not in html(answer)
    assert stranger.get(f"/presentations/{tid}/status").status_code == 404
    assert stranger.get(f"/presentations/{tid}/report.pdf").status_code == 403


def test_same_device_result_needs_the_response_code(site: Site, duo: Duo) -> None:
    """§13.3, item 83: after 'open the wallet on this device' only the wallet's redirect,
    with the right response_code, unlocks the result (the code then leaves the URL)."""
    tid = start(site.client)
    opened = site.client.get(f"/presentations/{tid}/wallet")
    assert opened.status_code == 303 and opened.headers["Location"].startswith("openid4vp://")
    code = response_code(wallet_answers(site, duo, tid))
    waiting = html(site.client.get(f"/presentations/{tid}"))
    assert "Open the link your wallet returned" in waiting and "Sanne" not in waiting
    assert site.client.get(f"/presentations/{tid}/report.pdf").status_code == 403
    wrong = site.client.get(f"/presentations/{tid}?response_code=not-{code}")
    assert wrong.status_code == 403 and "Sanne" not in html(wrong)
    redeemed = site.client.get(f"/presentations/{tid}?response_code={code}")
    assert redeemed.status_code == 303 and redeemed.headers["Location"] == f"/presentations/{tid}"
    assert "Sanne Johanna" in html(site.client.get(f"/presentations/{tid}"))
    assert site.client.get(f"/presentations/{tid}/report.pdf").status_code == 200


def test_a_wallet_error_is_shown_as_a_failure(site: Site) -> None:
    """Item 84: the wallet declines; the page says so in plain words, with the code."""
    tid = start(site.client)
    raw = site.client.get(f"/oid4vp/request/{tid}").get_data(as_text=True)
    claims = jose.parse_compact(raw).payload
    form = {"error": "access_denied", "state": claims["state"]}
    site.client.post(urlsplit(claims["response_uri"]).path, data=form)
    assert site.client.get(f"/presentations/{tid}/status").get_json() == {"state": "failed"}
    page = html(site.client.get(f"/presentations/{tid}"))
    assert "declined to share the credential" in page and "access_denied" in page


def test_an_expired_request_says_so(site: Site) -> None:
    tid = start(site.client)
    site.clock.now = NOW + timedelta(hours=1)
    assert site.client.get(f"/presentations/{tid}/status").get_json() == {"state": "expired"}
    assert "This request has expired" in html(site.client.get(f"/presentations/{tid}"))


VERDICTS = {
    "valid": ([("holder_binding", "passed", None)], "Valid", "was issued by DUO"),
    "invalid": ([("status", "failed", "credential_revoked")], "Invalid", "withdrawn (revoked)"),
    "undetermined": (
        [("status", "undetermined", "status_list_unavailable")],
        "Could not be determined",
        "Check again later",
    ),
}


@pytest.mark.parametrize("outcome", sorted(VERDICTS))
def test_result_page_for_each_verdict_explains_every_check(site: Site, outcome: str) -> None:
    checks, headline, explanation = VERDICTS[outcome]
    verdict = {
        "outcome": outcome,
        "checks": [{"name": n, "outcome": o, "code": c} for n, o, c in checks]
        + [{"name": "made_up_check", "outcome": "failed", "code": "made_up_code"}],
        "credentials": [],
    }
    tid = start(site.client)
    finish_with(site, tid, verdict)
    page = html(site.client.get(f"/presentations/{tid}"))
    assert f'class="verdict-word">{headline}<' in page
    assert explanation in page
    assert "Technical check" in page and "made_up_code" in page  # unknown: generic words
    assert "SHA-256 of the verification result" in page  # no presentation hash in the verdict


def test_claims_are_escaped(site: Site) -> None:
    hostile = "<script>alert(1)</script>"
    verdict = {
        "outcome": "valid",
        "checks": [{"name": "signature", "outcome": "passed", "code": hostile}],
        "credentials": [{"format": hostile, "issuer": hostile, "claims": {hostile: [hostile]}}],
    }
    tid = start(site.client)
    finish_with(site, tid, verdict)
    page = html(site.client.get(f"/presentations/{tid}"))
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- wallet-less check ------------------------------------------------------------------------


def test_upload_explains_unproven_holder_binding_and_makes_a_pdf(site: Site, duo: Duo) -> None:
    """Deliverable 4: an SD-JWT VC without KB-JWT, uploaded as a file, is valid with holder
    binding not_proven, explained; its PDF carries the hash of what was uploaded."""
    credential = duo.issue(status="valid")
    form = {"csrf_token": csrf(site.client, "/check"), "file": (_bytes(credential), "d.txt")}
    answer = site.client.post("/check?lang=nl", data=form, content_type="multipart/form-data")
    page = html(answer)
    assert answer.status_code == 200 and 'class="verdict-word">Geldig<' in page
    assert "Niet bewezen" in page and "Iedereen die dit bestand heeft, kan het tonen" in page
    assert "De statuslijst van DUO is 0 minuut/minuten geleden" in page  # the bundle's snapshot
    digest = hashlib.sha256(credential.encode()).hexdigest()
    assert digest in page
    hidden = re.search(r'name="credential" value="([^"]+)"', page)
    assert hidden is not None and hidden.group(1) == credential
    pdf = site.client.post(
        "/check/report.pdf", data={"csrf_token": csrf(site.client), "credential": credential}
    )
    assert pdf.data.startswith(b"%PDF") and f"SHA-256 {digest}".encode() in pdf.data


def _bytes(text: str) -> Any:
    import io

    return io.BytesIO(text.encode())


@pytest.mark.parametrize("fmt", ["vc+jwt", "jwt_vc_json"])
def test_upload_of_vcdm_credentials(site: Site, duo: Duo, fmt: str) -> None:
    form = {"csrf_token": csrf(site.client, "/check"), "credential": duo.issue_vcdm(fmt)}
    page = html(site.client.post("/check", data=form))
    assert 'class="verdict-word">Valid<' in page and "Sanne Johanna" in page
    assert "does not prove that the person showing it" in page


def test_upload_of_a_revoked_credential_is_invalid(site: Site, duo: Duo) -> None:
    form = {"csrf_token": csrf(site.client, "/check"), "credential": duo.issue(status="revoked")}
    page = html(site.client.post("/check?lang=es", data=form))
    assert 'class="verdict-word">No válido<' in page and "DUO ha retirado (revocado)" in page
    assert "credential_revoked" in page and "Sanne" not in page


def test_upload_without_a_status_list_is_undetermined(
    make_site: Callable[[TrustStore], Site], duo: Duo
) -> None:
    site = make_site(duo.with_status_list(None))
    form = {"csrf_token": csrf(site.client, "/check"), "credential": duo.issue(status="valid")}
    page = html(site.client.post("/check?lang=fr", data=form))
    assert 'class="verdict-word">Impossible à déterminer<' in page
    assert "la liste de statut de DUO n\u2019a pas pu \u00eatre obtenue" in page


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"credential": "  \n "}, 400, "Paste a credential or choose a file"),
        ({"file": (b"\xff\xfe\x00bad", "x.bin")}, 400, "must be UTF-8 text"),
        ({"credential": "a" * (256 * 1024 + 1)}, 413, "too large"),
        ({"credential": "not.a.credential"}, 200, "Invalid"),
    ],
)
def test_upload_errors_are_pages_not_crashes(
    site: Site, data: dict[str, Any], status: int, message: str
) -> None:
    if "file" in data:
        data = {"file": (_raw(data["file"][0]), data["file"][1])}
    form = {"csrf_token": csrf(site.client, "/check"), **data}
    answer = site.client.post("/check", data=form, content_type="multipart/form-data")
    assert answer.status_code == status and message in html(answer)


def _raw(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


# --- the PDF report -----------------------------------------------------------------------------


def _view(given_name: str, lang: str = "en") -> Any:
    claims = {"given_name": given_name, "family_name": "محمد", "diploma_type": "mbo_4"}
    verdict = {
        "outcome": "valid",
        "checks": [{"name": "signature", "outcome": "passed", "code": None}],
        "credentials": [{"vct": "https://issuer.duo.test/vct/diploma", "claims": claims}],
    }
    return build_result(
        verdict,
        lang=lang,
        source="wallet",
        checked_at=NOW,
        digest="ab" * 32,
        digest_of_presentation=True,
    )


#: fonts-dejavu-core, which .ci/run installs; without it the report falls back to Helvetica.
DEJAVU = (DEJAVU_DIR / "DejaVuSans.ttf").is_file()


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_report_renders_unicode_names_in_every_language(lang: str) -> None:
    """Arabic, Chinese, Greek, an emoji and control characters never break the report."""
    pdf = render_report(_view("王小明 Ελένη 🎓\u202e\x07", lang))
    assert pdf.startswith(b"%PDF") and b"SHA-256 " + b"ab" * 32 in pdf
    assert (b"DejaVuSans" in pdf) is DEJAVU


@pytest.mark.skipif(not DEJAVU, reason="fonts-dejavu-core is not installed")
def test_report_draws_arabic_and_greek_with_dejavu() -> None:
    assert drawn_text("محمد Ελένη") == "محمد Ελένη"
    assert drawn_text("a\x07b\u202e") == "a b "
    cjk = any(path.is_file() for path in CJK_FALLBACKS)  # e.g. fonts-droid-fallback
    assert drawn_text("王") == ("王" if cjk else "<U+738B>")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=15, deadline=None)
@given(claims=st.dictionaries(st.text(), JSON, max_size=6), lang=st.sampled_from(i18n.LANGUAGES))
def test_any_claims_render_on_the_page_model_and_in_the_report(
    claims: dict[str, Any], lang: str
) -> None:
    """Whatever JSON a credential carries, the result model and the PDF are made."""
    verdict = {"outcome": "valid", "checks": [], "credentials": [{"claims": claims}]}
    view = build_result(
        verdict,
        lang=lang,
        source="upload",
        checked_at=NOW,
        digest="0" * 64,
        digest_of_presentation=True,
    )
    assert render_report(view).startswith(b"%PDF")


def test_report_marks_characters_no_font_can_draw(tmp_path: Path) -> None:
    """What no font has is written as <U+XXXX>; without DejaVu the report still renders with
    a core font."""
    assert drawn_text("王", fonts_dir=tmp_path) == "<U+738B>"
    pdf = render_report(_view("王小明"), fonts_dir=tmp_path)
    assert pdf.startswith(b"%PDF") and b"DejaVu" not in pdf


def test_lone_surrogates_do_not_break_the_page(site: Site) -> None:
    verdict = {
        "outcome": "valid",
        "checks": [],
        "credentials": [{"claims": {"given_name": "a\ud800b"}}],
    }
    tid = start(site.client)
    finish_with(site, tid, verdict)
    answer = site.client.get(f"/presentations/{tid}")
    assert answer.status_code == 200
    assert site.client.get(f"/presentations/{tid}/report.pdf").status_code == 200
