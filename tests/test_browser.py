"""The verifier's pages in a real browser: headless Chromium driven by Playwright for Python.

Start page -> ask for a diploma -> the presentation page with its QR code -> the reference holder
answers the QR's request (in this process, over HTTP) -> the page's live status (poll.js) moves to
the result -> the verdict reads valid; in English (Accept-Language en, then the switcher to
German on the result) and in German from the start (Accept-Language de). A screenshot of each
result goes to tmp_path. The verifier is verifier.service.app on a werkzeug server on 127.0.0.1,
its trust from a bundle made with the issuer's own code at the current time.

The browser is the system's (/usr/bin/chromium, .ci/run installs it), started by Playwright with
``executable_path``, so Playwright downloads nothing. Without Chromium or Playwright the test is
skipped with the reason, except under CI=true, where it fails: CI must run it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server

from issuer.credentials.signing import sign_sd_jwt_vc
from issuer.db import create_schema, make_engine
from issuer.db import status as status_db
from issuer.status_lists import Lifetimes
from issuer.trust_bundle import database_bundle
from keys.file_store import init_store
from schemas import loader
from schemas import qualification_explanations as qe
from verifier.holder.oid4vp_client import Oid4vpClient
from verifier.holder.proofs import HolderKey
from verifier.holder.responses import Issued
from verifier.holder.store import Wallet
from verifier.service.app import create_app
from verifier.service.config import VerifierSettings
from verifier.service.trust_source import TrustSource
from verifier.trust import TrustStore

CHROMIUM = "/usr/bin/chromium"
ISSUER = "https://issuer.duo.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: poll.js asks every 2 s; the page must reach the result well within this.
RESULT_TIMEOUT_MS = 20_000


def _chromium() -> str | None:
    """The system Chromium: /usr/bin/chromium, else ``chromium`` on the PATH."""
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return 'Playwright for Python is not installed (pip install "playwright>=1.45,<2")'
    if _chromium() is None:
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Verifier:
    url: str
    wallet: Path
    server: BaseWSGIServer
    app: Any


def _issued(directory: Path) -> tuple[dict[str, Any], Path]:
    """A bound diploma in a wallet and the trust bundle that vouches for it, made now."""
    moment = now()
    keys = init_store(
        directory / "issuer", issuer=ISSUER, verifier_host="verifier.duo.test", now=moment
    )
    engine = make_engine(f"sqlite:///{directory / 'issuer.sqlite3'}")
    try:
        create_schema(engine)
        with engine.begin() as conn:
            allocation = status_db.allocate(conn, "tsl", now=moment, issuer=ISSUER)
            lifetimes = Lifetimes(ttl=timedelta(hours=1), lifetime=timedelta(days=1))
            bundle = database_bundle(conn, keys, issuer=ISSUER, lifetimes=lifetimes, now=moment)
    finally:
        engine.dispose()
    holder = HolderKey.generate()
    credential = sign_sd_jwt_vc(
        "diploma",
        loader.example_claims("diploma"),
        keys=keys,
        issuer=ISSUER,
        holder_jwk=holder.public_jwk,
        status=status_db.status_reference(allocation),
        now=moment,
    )
    wallet = Wallet.open(directory / "wallet")
    issued = Issued(credential, "diploma_sd_jwt", "dc+sd-jwt", holder, None)
    wallet.add(issued, issuer=ISSUER, received_at=moment)
    wallet.save()
    return bundle, wallet.path.parent


class _Dispatch:
    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verifier]:
    directory = tmp_path_factory.mktemp("browser")
    bundle, wallet = _issued(directory)
    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings = VerifierSettings(data_dir=directory / "verifier", public_url=url)
    keys = init_store(
        settings.data_dir, issuer="https://localhost", verifier_host="localhost", now=now()
    )
    trust = TrustSource.offline(TrustStore.from_bundle(bundle), now)
    dispatch.app = create_app(settings, keys=keys, trust=trust)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield Verifier(url, wallet, server, dispatch.app)
    server.shutdown()
    server.server_close()
    dispatch.app.extensions["duo-verifier"].engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def _present(verifier: Verifier, page: Any) -> None:
    """The holder answers the request behind the page's QR code, as a phone would."""
    request = page.get_attribute("figure.qr-box", "data-authorization-request")
    assert request and request.startswith("openid4vp:")
    with requests.Session() as http:
        http.trust_env = False
        wallet = Oid4vpClient(http, clock=now, wallet=Wallet.open(verifier.wallet))
        outcome = wallet.respond(request)
    assert outcome.answer.redirect_uri is not None


def _ask_for_a_diploma(verifier: Verifier, page: Any) -> None:
    page.goto(f"{verifier.url}/")
    page.click("button[type=submit]")
    page.wait_for_url("**/presentations/*")
    assert page.locator("figure.qr-box svg").count() == 1  # the QR code, drawn server-side
    assert page.locator("#live-status").is_visible()


def _verdict(page: Any) -> str:
    page.wait_for_selector("section.verdict-valid", timeout=RESULT_TIMEOUT_MS)
    return str(page.inner_text("#verdict-heading")).strip()


@pytest.mark.parametrize("language", ["en", "de"])
def test_start_qr_wallet_result(
    chromium: Any, verifier: Verifier, tmp_path: Path, language: str
) -> None:
    """Issue 4 item 4 and 6: start page -> QR -> the wallet answers -> the live status moves
    to the result page, whose verdict reads valid in the reader's language (Accept-Language);
    the English result switches to German with the language switcher."""
    context = chromium.new_context(
        locale=language, extra_http_headers={"Accept-Language": language}
    )
    try:
        page = context.new_page()
        _ask_for_a_diploma(verifier, page)
        assert page.get_attribute("html", "lang") == language
        _present(verifier, page)
        assert _verdict(page) == qe.label("verdict_valid", language)
        assert "Sanne Johanna" in page.inner_text("main")
        shot = tmp_path / f"result-{language}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.exists() and shot.stat().st_size > 1000
        if language == "en":
            page.click("a[hreflang=de]")
            page.wait_for_selector("html[lang=de]")
            assert _verdict(page) == qe.label("verdict_valid", "de")
    finally:
        context.close()
