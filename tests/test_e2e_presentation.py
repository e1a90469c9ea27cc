"""End to end over real HTTP on loopback: issuer -> wallet -> (issuer stopped) -> verifier.

The module's ``world`` is built once: a live issuer (tests/issuer_support.py, SQLite) seeds its
registry and issues a diploma SD-JWT VC to each of two wallets (verifier.holder, OpenID4VCI); the
second diploma's record is revoked; the trust bundle is fetched from the issuer's
``/.well-known/trust-bundle`` (its signature checked on load); then the issuer is STOPPED. The
verifier service (verifier.service.app on werkzeug, 127.0.0.1, public URL http://localhost:PORT,
its own key store from ``ensure_keys``, a TrustSource on the bundle file with the fetcher allowed
to reach the stopped issuer's host) runs every test, and the reference holder
(verifier.holder.oid4vp_client) answers its requests. Nothing reaches DUO: trust and status come
from the bundle and its cached status lists (issue 4, "Done when").

SPECS §8 verifier items reached end to end here: 57 (unknown or replayed state), 58 (vp_token not
an object, unknown query id), 59 (two presentations for a single query, a required credential
missing), 71 (no KB-JWT), 74 (KB-JWT nonce), 75 (a presentation replayed in a new transaction),
76 (KB-JWT aud without the prefix), 78 (sd_hash after a Disclosure is added), 79 (revoked, from
the bundle's cached list), 82 (plaintext vp_token under direct_post.jwt), 83 (the result page
without the right response_code), 84 (the wallet's access_denied). The others are unit tests:
60, 61, 64-67 tests/test_sd_jwt.py and tests/test_sd_jwt_vc.py; 62 tests/test_x509_trust.py and
tests/test_trust.py; 63 tests/test_trust.py; 68-70 tests/test_sd_jwt_vc.py; 72, 73, 77
tests/test_kb_jwt.py and tests/test_sd_jwt_vc.py; 80, 81 tests/test_token_status_list.py and
tests/test_verify.py; 85 tests/test_type_metadata.py and tests/test_sd_jwt_vc.py; 86
tests/test_bitstring_status_list.py; 87 tests/test_vc_jose.py (and, at the service level,
tests/test_verifier_service.py, tests/test_dcql.py, tests/test_oid4vp_response.py).
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from issuer_support import ADMIN_TOKEN, Database, LiveIssuer, start_issuer, stop_issuer
from werkzeug.serving import BaseWSGIServer, make_server

from issuer.db.registry import records_of
from issuer.registry.seed import seed_registry
from keys.file_store import FileKeyStore
from verifier import sd_jwt, sd_jwt_processing, strict_json, x509_trust
from verifier.cli import wallet as wallet_cli
from verifier.cli.verifier_keys import ensure_keys
from verifier.errors import ProtocolError
from verifier.holder.oid4vp_client import Oid4vpClient, VerifierError
from verifier.holder.oid4vp_request import AuthorizationRequest
from verifier.holder.store import Wallet
from verifier.sd_jwt_selection import present
from verifier.service.app import create_app
from verifier.service.config import VerifierSettings
from verifier.service.fetcher import Fetcher
from verifier.service.trust_source import TrustSource

ROOT = Path(__file__).resolve().parents[1]
#: What the start page asks for a diploma by default (verifier.service.web.pages).
PAGE_CLAIMS = ("given_name", "family_name", "diploma_type", "qualification_name", "institution")
ASKED = {"given_name", "family_name", "diploma_type", "institution"}


def now() -> datetime:
    return datetime.now(UTC)


class _Dispatch:
    """A WSGI app whose target is set once the server knows its port."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class World:
    verifier_url: str
    issuer_url: str
    keys: FileKeyStore  # the verifier's own store (its root anchors the request signatures)
    valid_wallet: Path
    revoked_wallet: Path
    server: BaseWSGIServer
    app: Any


def _issue(http: requests.Session, live: LiveIssuer) -> tuple[list[str], list[str]]:
    """Two persons with exactly one final diploma each: (person ids, record ids)."""
    with live.app.extensions["duo"].engine.begin() as conn:
        report = seed_registry(conn, persons=10, seed=7, now=now())
        found = []
        for person in report.person_ids:
            records = [r for r in records_of(conn, person) if r.type == "diploma" and r.final]
            if len(records) == 1:
                found.append((person, records[0].id))
    assert len(found) >= 2, "the seed has too few persons with one diploma"
    return [p for p, _ in found[:2]], [r for _, r in found[:2]]


def _admin(http: requests.Session, live: LiveIssuer, path: str, body: dict[str, Any]) -> Any:
    answer = http.post(
        f"{live.url}{path}",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status_code in {200, 201}, answer.text
    return answer.json()


def _receive(
    http: requests.Session, live: LiveIssuer, person: str, record: str, home: Path
) -> None:
    body = {"person": person, "type": "diploma", "record": record, "format": "dc+sd-jwt"}
    offer = _admin(http, live, "/api/offers", body)
    received = wallet_cli.receive(offer["offer_uri"], pin=None, directory=home)
    assert [c["format"] for c in received["credentials"]] == ["dc+sd-jwt"]


def _verifier(tmp: Path, bundle: Path, issuer_url: str) -> tuple[BaseWSGIServer, str, Any, Any]:
    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://localhost:{server.server_port}"  # a DNS name: x509_san_dns works too
    issuer_host = urlsplit(issuer_url).netloc
    settings = VerifierSettings(
        data_dir=tmp / "verifier", public_url=url, bundle_path=bundle, allow_hosts=(issuer_host,)
    )
    keys = ensure_keys(settings, dns_name=None, now=now())
    trust = TrustSource(settings, Fetcher.from_settings(settings, clock=now), now)
    dispatch.app = create_app(settings, keys=keys, trust=trust)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, url, keys, dispatch.app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e-presentation")
    database = Database("sqlite", f"sqlite:///{tmp / 'issuer.sqlite3'}")
    live = start_issuer(tmp / "issuer", database)
    try:
        with requests.Session() as http:
            http.trust_env = False
            persons, records = _issue(http, live)
            _receive(http, live, persons[0], records[0], tmp / "wallet-valid")
            _receive(http, live, persons[1], records[1], tmp / "wallet-revoked")
            _admin(http, live, "/api/revocations", {"action": "revoke", "record": records[1]})
            published = http.get(f"{live.url}/.well-known/trust-bundle", timeout=10)
            assert published.status_code == 200
            (tmp / "bundle.jwt").write_text(published.text)
    finally:
        stop_issuer(live)  # from here on, only the bundle and its cached status lists
    server, url, keys, app = _verifier(tmp, tmp / "bundle.jwt", live.url)
    yield World(url, live.url, keys, tmp / "wallet-valid", tmp / "wallet-revoked", server, app)
    server.shutdown()
    server.server_close()
    app.extensions["duo-verifier"].engine.dispose()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def holder(http: requests.Session, home: Path, **options: Any) -> Oid4vpClient:
    return Oid4vpClient(http, clock=now, wallet=Wallet.open(home), **options)


def start(http: requests.Session, world: World, **body: Any) -> dict[str, Any]:
    """POST /api/presentations (the integrator's API); the diploma template by default."""
    answer = http.post(
        f"{world.verifier_url}/api/presentations", json={"template": "diploma", **body}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    started: dict[str, Any] = answer.json()
    return started


def result(http: requests.Session, world: World, started: dict[str, Any]) -> dict[str, Any]:
    """GET /api/presentations/<id> with the result token."""
    answer = http.get(
        f"{world.verifier_url}/api/presentations/{started['id']}",
        timeout=10,
        headers={"Authorization": f"Bearer {started['result_token']}"},
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def failed_check(verdict: dict[str, Any]) -> set[str | None]:
    return {c["code"] for c in verdict["checks"] if c["outcome"] == "failed"}


# --- the happy paths ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "prefix", "method"),
    [
        ("direct_post.jwt", "x509_hash", "get"),
        ("direct_post.jwt", "x509_hash", "post"),
        ("direct_post", "x509_hash", "get"),
        ("direct_post.jwt", "x509_san_dns", "get"),
        ("direct_post", "x509_san_dns", "post"),
        ("direct_post", "redirect_uri", "get"),
    ],
)
def test_cross_device(
    world: World, http: requests.Session, mode: str, prefix: str, method: str
) -> None:
    """VP-1, VP-5 (x509_hash, x509_san_dns, redirect_uri), VP-7 (post), VP-9/VP-10 (both
    response modes), VP-11..VP-14: API start -> the holder answers -> the API result is valid
    with the disclosed claims only; the issuer is not running."""
    with pytest.raises(requests.ConnectionError):
        http.get(world.issuer_url, timeout=2)
    started = start(
        http, world, response_mode=mode, client_id_prefix=prefix, request_uri_method=method
    )
    assert result(http, world, started)["state"] == "pending"
    outcome = holder(http, world.valid_wallet).respond(started["authorization_request"])
    assert outcome.request.response_mode == mode and outcome.request.prefix == prefix
    found = result(http, world, started)
    assert found["state"] == "done", found
    verdict = found["verdict"]
    assert verdict["outcome"] == "valid", verdict["checks"]
    (credential,) = verdict["credentials"]
    assert credential["issuer"] == world.issuer_url
    assert set(credential["claims"]) >= ASKED and "record_id" not in credential["claims"]
    assert {c["name"]: c["outcome"] for c in verdict["checks"]}.get("holder_binding") == "passed"


def test_direct_post_jwt_with_a256gcm(world: World, http: requests.Session) -> None:
    """VP-10 / HAIP: both enc values are listed and A256GCM works as well as A128GCM."""
    started = start(http, world)
    wallet = holder(http, world.valid_wallet, enc_preference=["A256GCM"])
    wallet.respond(started["authorization_request"])
    assert result(http, world, started)["verdict"]["outcome"] == "valid"


def test_result_needs_the_result_token(world: World, http: requests.Session) -> None:
    """VP-16 (§14.3.3): no token 401, another transaction's token 403."""
    first, second = start(http, world), start(http, world)
    url = f"{world.verifier_url}/api/presentations/{first['id']}"
    assert http.get(url, timeout=10).status_code == 401
    other = {"Authorization": f"Bearer {second['result_token']}"}
    assert http.get(url, headers=other, timeout=10).status_code == 403


def given_name(home: Path) -> str:
    """The holder's given name, from the wallet's credential with every Disclosure applied."""
    parsed = sd_jwt.parse(Wallet.open(home).credentials[0].credential, expect_kb=False)
    claims = sd_jwt_processing.process(parsed.issuer_jwt.payload, parsed.disclosures)
    return str(claims["given_name"])


def _browser_start(browser: requests.Session, world: World) -> str:
    """The start page in a browser session: ask for a diploma; the transaction's id."""
    page = browser.get(f"{world.verifier_url}/", timeout=10)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"csrf_token": csrf[1], "type": "diploma", "claims": list(PAGE_CLAIMS)}
    answer = browser.post(f"{world.verifier_url}/", data=form, timeout=10, allow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def test_same_device_redirect_to_the_result_page(world: World, http: requests.Session) -> None:
    """VP-16/H-6 (§13.3, §14.2): the browser that started the request opens the wallet on the
    same device; the response_uri answers a redirect_uri with a response_code, and only that
    browser with that code sees the result. Item 83: another session, a wrong code or no code
    shows no result."""
    with requests.Session() as browser, requests.Session() as stranger:
        browser.trust_env = stranger.trust_env = False
        tid = _browser_start(browser, world)
        hop = browser.get(
            f"{world.verifier_url}/presentations/{tid}/wallet", timeout=10, allow_redirects=False
        )
        assert hop.status_code == 303 and hop.headers["Location"].startswith("openid4vp:")
        outcome = holder(http, world.valid_wallet).respond(hop.headers["Location"])
        target = outcome.answer.redirect_uri
        assert target is not None and target.startswith(world.verifier_url)
        assert "response_code=" in target
        wrong = target.split("response_code=")[0] + "response_code=not-the-code"
        refused = [
            stranger.get(target, timeout=10),
            browser.get(wrong, timeout=10),
            browser.get(target.split("?")[0], timeout=10),
        ]
        name = given_name(world.valid_wallet)
        for attempt in refused:
            assert html.escape(name) not in attempt.text and "verdict-valid" not in attempt.text
        assert refused[0].status_code == 403 and refused[1].status_code == 403
        page = browser.get(target, timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        assert "verdict-valid" in page.text and html.escape(name) in page.text
        assert "response_code" not in page.url  # the code leaves the address bar


def test_a_wallet_that_declines(world: World, http: requests.Session) -> None:
    """Item 84: error=access_denied -> 200 JSON, and the transaction fails with that reason."""
    started = start(http, world)
    wallet = holder(http, world.valid_wallet)
    request = wallet.load(started["authorization_request"])
    answer = wallet.decline(request, "access_denied")
    assert answer.redirect_uri is not None
    found = result(http, world, started)
    assert found["state"] == "failed" and found["error"] == "access_denied"


# --- the verifier's negative cases (SPECS §8) ------------------------------------------------
def _prepared(
    http: requests.Session, world: World, **body: Any
) -> tuple[dict[str, Any], Oid4vpClient, AuthorizationRequest, dict[str, list[str]]]:
    """A started transaction, its checked request and the vp_token the holder would send."""
    started = start(http, world, **body)
    wallet = holder(http, world.valid_wallet)
    request = wallet.load(started["authorization_request"])
    return started, wallet, request, wallet.vp_token(request, wallet.select(request))


def test_unknown_and_replayed_state(world: World, http: requests.Session) -> None:
    """Item 57 (§14.3.2): a response with another state is refused and changes nothing; once
    answered, the transaction takes no second response."""
    started, wallet, request, token = _prepared(http, world, response_mode="direct_post")
    forged = AuthorizationRequest(**{**request.__dict__, "state": "an-unknown-state-value-123"})
    with pytest.raises(VerifierError) as unknown:
        wallet.submit(forged, {"vp_token": token})
    assert 400 <= unknown.value.status < 500
    assert result(http, world, started)["state"] == "pending"
    wallet.submit(request, {"vp_token": token})
    assert result(http, world, started)["verdict"]["outcome"] == "valid"
    with pytest.raises(VerifierError) as replayed:
        wallet.submit(request, {"vp_token": token})
    assert 400 <= replayed.value.status < 500


@pytest.mark.parametrize("case", ["list", "unknown_query", "two_for_one", "missing"])
def test_malformed_vp_tokens(world: World, http: requests.Session, case: str) -> None:
    """Items 58 (vp_token not an object, an unknown query id) and 59 (two presentations for a
    query without multiple, the required credential missing): never valid."""
    started, wallet, request, token = _prepared(http, world)
    shown = token["diploma"][0]
    sent: Any = {
        "list": [shown],
        "unknown_query": {"diploma": [shown], "other": [shown]},
        "two_for_one": {"diploma": [shown, shown]},
        "missing": {},
    }[case]
    try:
        wallet.submit(request, {"vp_token": sent})
    except VerifierError as refused:  # refused at the response_uri: nothing was accepted
        assert 400 <= refused.status < 500
        assert result(http, world, started)["state"] in {"pending", "failed"}
        return
    found = result(http, world, started)
    assert found["state"] == "failed" or found["verdict"]["outcome"] == "invalid", found


def _kb_presentation(
    wallet: Oid4vpClient, request: AuthorizationRequest, *, nonce: str, aud: str
) -> str:
    """The diploma presented with a KB-JWT for the given nonce and audience."""
    chosen = wallet.select(request)["diploma"][0]
    assert chosen.credential.key is not None
    return wallet_cli.make_presentation(
        chosen.credential.credential,
        key=wallet.wallet.key(chosen.credential.key).private,
        paths=[".".join(str(s) for s in path) for path in chosen.paths],
        nonce=nonce,
        aud=aud,
        iat=int(now().timestamp()),
    )


@pytest.mark.parametrize("case", ["no_kb", "nonce", "aud_without_prefix", "sd_hash", "replay"])
def test_holder_binding_is_checked(world: World, http: requests.Session, case: str) -> None:
    """Items 71 (no KB-JWT), 74 (KB-JWT nonce), 76 (aud = client_id without its prefix), 78
    (a Disclosure added after the KB-JWT was made) and 75 (a presentation from another
    transaction): the verdict is invalid and says why."""
    started, wallet, request, token = _prepared(http, world)
    good = token["diploma"][0]
    original = request.client_id.partition(":")[2]
    if case == "no_kb":
        shown = good[: good.rindex("~") + 1]
    elif case == "nonce":
        shown = _kb_presentation(
            wallet, request, nonce="another-nonce-0123456789abc", aud=request.client_id
        )
    elif case == "aud_without_prefix":
        shown = _kb_presentation(wallet, request, nonce=request.nonce, aud=original)
    elif case == "sd_hash":  # one more Disclosure (record_id) under the original KB-JWT
        chosen = wallet.select(request)["diploma"][0]
        more = present(chosen.credential.credential, [*chosen.paths, "record_id"])
        assert more != good[: good.rindex("~") + 1]
        shown = more + good[good.rindex("~") + 1 :]
    else:
        _, _, _, earlier = _prepared(http, world)
        shown = earlier["diploma"][0]
    wallet.submit(request, {"vp_token": {"diploma": [shown]}})
    verdict = result(http, world, started)["verdict"]
    assert verdict["outcome"] == "invalid" and verdict["credentials"] == []
    expected = {
        "no_kb": "kb_jwt_missing",
        "nonce": "kb_jwt_nonce_mismatch",
        "aud_without_prefix": "kb_jwt_aud_mismatch",
        "sd_hash": "kb_jwt_sd_hash_mismatch",
        "replay": "kb_jwt_nonce_mismatch",
    }[case]
    assert expected in failed_check(verdict), verdict["checks"]


def test_plaintext_vp_token_under_direct_post_jwt(world: World, http: requests.Session) -> None:
    """Item 82: direct_post.jwt was asked; a plaintext vp_token is refused and the transaction
    fails."""
    started, _, request, token = _prepared(http, world)
    form = {"vp_token": strict_json.dumps(token), "state": request.state or ""}
    answer = http.post(request.response_uri, data=form, timeout=10)
    assert 400 <= answer.status_code < 500
    assert result(http, world, started)["state"] == "failed"


# --- revocation and the wallet-less upload ---------------------------------------------------
def test_revoked_from_the_cached_status_list(world: World, http: requests.Session) -> None:
    """Item 79: the bundle's cached status list says revoked, with the issuer stopped."""
    started = start(http, world)
    holder(http, world.revoked_wallet).respond(started["authorization_request"])
    verdict = result(http, world, started)["verdict"]
    assert verdict["outcome"] == "invalid"
    assert "credential_revoked" in failed_check(verdict), verdict["checks"]
    revoked = Wallet.open(world.revoked_wallet).credentials[0].credential
    upload = http.post(
        f"{world.verifier_url}/api/verify", json={"credential": revoked}, timeout=10
    ).json()
    assert upload["outcome"] == "invalid" and "credential_revoked" in failed_check(upload)


def test_uploaded_credential_without_a_wallet(world: World, http: requests.Session) -> None:
    """Issue 4 item 4: POST /api/verify with the credential file itself (no KB-JWT): valid, the
    holder binding reported not_proven; the issuer is stopped."""
    credential = Wallet.open(world.valid_wallet).credentials[0].credential
    answer = http.post(
        f"{world.verifier_url}/api/verify", json={"credential": credential}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["outcome"] == "valid", verdict["checks"]
    checks = {c["name"]: c["outcome"] for c in verdict["checks"]}
    assert checks["holder_binding"] == "not_proven" and checks["status"] == "passed"
    assert verdict["credentials"][0]["claims"]["given_name"]


def test_the_reference_wallet_trusts_the_verifier_root(
    world: World, http: requests.Session
) -> None:
    """The holder's verifier_anchors: with the verifier's root the request is trusted and no
    warning is left; with another root it is refused before anything is sent."""
    anchors = x509_trust.load_anchors_pem(world.keys.anchors_pem())
    started = start(http, world, client_id_prefix="x509_san_dns")
    trusted = holder(http, world.valid_wallet, verifier_anchors=anchors)
    outcome = trusted.respond(started["authorization_request"])
    assert outcome.request.trusted and outcome.warnings == ()
    other = start(http, world)
    foreign = x509_trust.load_anchors_pem([_foreign_root_pem()])
    with pytest.raises(ProtocolError) as refused:
        holder(http, world.valid_wallet, verifier_anchors=foreign).respond(
            other["authorization_request"]
        )
    assert refused.value.code == "verifier_untrusted"
    assert result(http, world, other)["state"] == "pending"


def _foreign_root_pem() -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    from keys import pki

    key = pki.new_key()
    return pki.build_root(key, now=now()).public_bytes(Encoding.PEM).decode("ascii")


# --- issue 4 "Done when": duo-verifier serve and duo-wallet respond from their command lines ----
def test_done_when_with_the_command_lines(
    world: World, http: requests.Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duo-verifier serve --bundle`` (gunicorn, its own data directory and key store) asks for
    a diploma; ``duo-wallet respond`` presents it; the verdict is valid and explained by check;
    an uploaded credential too. DUO's issuer is stopped throughout."""
    port = _free_port()
    bundle = world.valid_wallet.parent / "bundle.jwt"
    command = [
        sys.executable,
        "-m",
        "verifier.cli.check",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--bundle",
        str(bundle),
        "--workers",
        "1",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env()
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(http, f"{base}/api/presentations/none", process)
        answer = http.post(f"{base}/api/presentations", json={"template": "diploma"}, timeout=10)
        assert answer.status_code == 201, answer.text
        started = answer.json()
        argv = ["respond", started["authorization_request"], "--data-dir", str(world.valid_wallet)]
        assert wallet_cli.main([*argv, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["redirect_uri"].startswith(base) and shown["warnings"] == [
            "verifier_chain_not_checked"
        ]
        found = http.get(
            f"{base}/api/presentations/{started['id']}",
            timeout=10,
            headers={"Authorization": f"Bearer {started['result_token']}"},
        ).json()
        assert found["state"] == "done" and found["verdict"]["outcome"] == "valid", found
        checks = {c["name"]: c["outcome"] for c in found["verdict"]["checks"]}
        assert checks["status"] == "passed" and checks["holder_binding"] == "passed"
        # An API transaction returns the wallet's browser to a neutral page (no verdict); the
        # integrator may present the redirect's response_code with its result token (§13.3).
        returned = http.get(shown["redirect_uri"], timeout=10)
        assert returned.status_code == 200 and "return to the application" in returned.text
        assert "Sanne" not in returned.text
        proven = http.get(
            f"{base}/api/presentations/{started['id']}?{urlsplit(shown['redirect_uri']).query}",
            timeout=10,
            headers={"Authorization": f"Bearer {started['result_token']}"},
        )
        assert proven.status_code == 200 and proven.json() == found
        credential = Wallet.open(world.valid_wallet).credentials[0].credential
        upload = http.post(f"{base}/api/verify", json={"credential": credential}, timeout=10)
        assert upload.json()["outcome"] == "valid"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUO_")}
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(http: requests.Session, url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "duo-verifier serve ended early"
        try:
            http.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("duo-verifier serve did not answer in time")
