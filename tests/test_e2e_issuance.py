"""End to end over real HTTP: the reference holder (verifier.holder) against a live issuer.

Each test runs on SQLite and PostgreSQL (``live_issuer`` / ``database``) with a real WSGI server
on loopback; the last ones run ``duo-issuer serve`` (gunicorn) through the demo in a separate
process. Every received credential is verified with ``verifier.verify`` against the trust bundle
the issuer publishes at ``/.well-known/trust-bundle`` (its JWT checked first: x5c chain to the
bundle's root, signature), as an employer would after downloading it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from issuer_support import ADMIN_TOKEN, Database, LiveIssuer, start_issuer, stop_issuer

from issuer.cli import main as issuer_cli
from issuer.db.registry import finalize_record, get_record, insert_records, records_of
from issuer.registry.seed import seed_registry
from verifier import jose, x509_trust
from verifier.cli import check, wallet
from verifier.holder.authorization_code import authorization_code_flow
from verifier.holder.oid4vci_client import Issued, Oid4vciClient, Pending
from verifier.holder.transport import IssuerError
from verifier.policy import Policy
from verifier.trust import TrustStore
from verifier.verdict import Verdict
from verifier.verify import verify

ROOT = Path(__file__).resolve().parents[1]
EMPLOYER = "https://hr.employer.example"
NONCE = "e2e-nonce-0123456789abcdef"
BOUND = Policy(require_holder_binding=True, nonce=NONCE, audience=EMPLOYER)
UNBOUND = Policy(require_holder_binding=False, nonce=None, audience=None)
CLIENT_ID = "duo-reference-wallet"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def seeded(live: LiveIssuer) -> tuple[str, str]:
    """Seed the registry; a person with exactly one final diploma and that record's id."""
    with live.app.extensions["duo"].engine.begin() as conn:
        report = seed_registry(conn, persons=8, seed=3, now=now())
        for person_id in report.person_ids:
            found = [r for r in records_of(conn, person_id) if r.type == "diploma" and r.final]
            if len(found) == 1:
                return person_id, found[0].id
    raise AssertionError("no person with one final diploma")


def admin_offer(
    http: requests.Session, live: LiveIssuer, person: str, record: str, **options: Any
) -> dict[str, Any]:
    """POST /api/offers (the admin API, bearer token)."""
    body = {"person": person, "type": "diploma", "record": record, **options}
    response = http.post(
        f"{live.url}/api/offers",
        json=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    offer: dict[str, Any] = response.json()
    return offer


def published_trust(http: requests.Session, live: LiveIssuer) -> tuple[TrustStore, dict[str, Any]]:
    """The trust bundle from /.well-known/trust-bundle: x5c chain and signature checked."""
    response = http.get(f"{live.url}/.well-known/trust-bundle", timeout=10)
    assert response.status_code == 200
    jws = jose.parse_compact(response.text)
    anchors = x509_trust.load_anchors_pem(jws.payload["anchors"])
    leaf = x509_trust.validate_chain(jws.header["x5c"], anchors, now=now())
    jose.verify_signature(jws, x509_trust.leaf_public_key(leaf), algorithms={"ES256"})
    return TrustStore.from_bundle(jws.payload), jws.payload


def checked(issued: Issued, trust: TrustStore) -> Verdict:
    """SD-JWT VC presented with a KB-JWT from the holder key; W3C credentials as they are."""
    if issued.format == "dc+sd-jwt":
        assert issued.key is not None
        shown = wallet.make_presentation(
            issued.credential,
            key=issued.key.private,
            paths=["given_name", "family_name", "diploma_type"],
            nonce=NONCE,
            aud=EMPLOYER,
            iat=int(now().timestamp()),
        )
        return verify(shown, trust=trust, policy=BOUND, now=now())
    return verify(issued.credential, trust=trust, policy=UNBOUND, now=now())


def status_code_of(verdict: Verdict) -> str | None:
    return next((c.code for c in verdict.checks if c.name == "status"), None)


def test_pre_authorized_with_pin_every_format_verifies_then_revoked(
    live_issuer: LiveIssuer, http: requests.Session
) -> None:
    """VCI-3/VCI-21/VCI-22 (item 5): a wrong PIN is invalid_grant and does not burn the code;
    with the PIN the offer gives a diploma in each format (VCI-31), each verifying against the
    published bundle; notification (VCI-36, item 55 twice); revoked, both are invalid."""
    person, record = seeded(live_issuer)
    offer = admin_offer(http, live_issuer, person, record, tx_code=True)
    client = Oid4vciClient(http, clock=now)
    wrong = "000000" if offer["tx_code"] != "000000" else "111111"
    with pytest.raises(IssuerError) as refused:
        client.receive(offer["offer_uri"], tx_code=wrong)
    assert (refused.value.status, refused.value.error) == (400, "invalid_grant")
    receipt = client.receive(offer["offer_uri"], tx_code=offer["tx_code"])
    assert receipt.pending == []
    assert sorted(i.format for i in receipt.issued) == ["dc+sd-jwt", "jwt_vc_json"]
    assert receipt.flow.token.sender_constrained  # DPoP by default: the AS supports it
    for issued in receipt.issued:
        assert issued.notification_id is not None
        client.notify(receipt.flow, issued.notification_id)
        client.notify(receipt.flow, issued.notification_id)  # idempotent
    trust, _ = published_trust(http, live_issuer)
    for issued in receipt.issued:
        verdict = checked(issued, trust)
        assert verdict.outcome == "valid", (issued.format, verdict.checks)
    revoked = http.post(
        f"{live_issuer.url}/api/revocations",
        json={"action": "revoke", "record": record},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text
    trust, _ = published_trust(http, live_issuer)
    for issued in receipt.issued:
        verdict = checked(issued, trust)
        assert verdict.outcome == "invalid" and status_code_of(verdict) == "credential_revoked"


def test_pre_authorized_without_pin_offer_by_value(
    live_issuer: LiveIssuer, http: requests.Session
) -> None:
    """VCI-1 by value, no tx_code (item 4's other side: none is sent), a Bearer token when the
    wallet uses no DPoP (not required by default); the code is single use (item 2)."""
    person, record = seeded(live_issuer)
    offer = admin_offer(http, live_issuer, person, record, format="dc+sd-jwt")
    assert offer["tx_code"] is None
    client = Oid4vciClient(http, clock=now, dpop=False)  # DPoP is optional here: Bearer
    receipt = client.receive(offer["offer_by_value_uri"])
    assert receipt.flow.token.token_type == "Bearer"
    assert [i.configuration_id for i in receipt.issued] == ["diploma_sd_jwt"]
    trust, _ = published_trust(http, live_issuer)
    assert checked(receipt.issued[0], trust).outcome == "valid"
    with pytest.raises(IssuerError) as again:
        client.receive(offer["offer_by_value_uri"])
    assert again.value.error == "invalid_grant"


def test_authorization_code_with_par_pkce_and_dpop(
    tmp_path: Path, database: Database, http: requests.Session
) -> None:
    """VCI-15/H-2: PAR + PKCE S256 + DPoP (required, with server nonces) + RFC 9207 iss, by
    scope and by authorization_details (VCI-18: credential_identifier, VCI-26)."""
    live = start_issuer(tmp_path / "data", database, dev_login=True, require_dpop=True)
    try:
        person, _ = seeded(live)
        client = Oid4vciClient(http, clock=now, client_id=CLIENT_ID)
        by_scope = authorization_code_flow(
            client, live.url, ["diploma_sd_jwt"], person_id=person, client_id=CLIENT_ID
        )
        assert by_scope.token.sender_constrained and by_scope.dpop_key is not None
        issued = client.credential(by_scope, "diploma_sd_jwt")
        assert isinstance(issued, list) and len(issued) == 1
        by_details = authorization_code_flow(
            client, live.url, ["diploma_jwt_vc_json"], person_id=person, client_id=CLIENT_ID,
            authorization_details=True,
        )  # fmt: skip
        identifiers = by_details.token.identifiers["diploma_jwt_vc_json"]
        assert len(identifiers) == 1
        found = client.credential(by_details, "diploma_jwt_vc_json", identifier=identifiers[0])
        assert isinstance(found, list) and len(found) == 1
        trust, _ = published_trust(http, live)
        assert all(checked(i, trust).outcome == "valid" for i in [*issued, *found])
    finally:
        stop_issuer(live)


def test_batch_gives_distinct_keys_salts_and_status_indices(
    live_issuer: LiveIssuer, http: requests.Session
) -> None:
    """VCI-27/VCI-31, SDJ-5, TSL-7: n proofs, n credentials, one per key, nothing shared."""
    person, record = seeded(live_issuer)
    offer = admin_offer(http, live_issuer, person, record, format="dc+sd-jwt")
    client = Oid4vciClient(http, clock=now)
    issuer, _ = client.discover(live_issuer.url)
    count = min(3, issuer.batch_size)
    assert count >= 2
    receipt = client.receive(offer["offer_uri"], count=count)
    assert len(receipt.issued) == count
    assert len({i.key.thumbprint for i in receipt.issued if i.key}) == count
    payloads = [jose.parse_compact(i.credential.split("~")[0]).payload for i in receipt.issued]
    assert len({p["status"]["status_list"]["idx"] for p in payloads}) == count
    disclosures = [set(i.credential.split("~")[1:-1]) for i in receipt.issued]
    assert not disclosures[0] & disclosures[1]  # fresh salts: no disclosure repeats
    trust, _ = published_trust(http, live_issuer)
    assert all(checked(i, trust).outcome == "valid" for i in receipt.issued)


def test_deferred_until_the_record_is_final(
    live_issuer: LiveIssuer, http: requests.Session
) -> None:
    """VCI-31/VCI-35: 202 transaction_id + interval while not final, the same id again, then
    the credentials once the registry finalizes the record; the id is then used up (item 51)."""
    person, record = seeded(live_issuer)
    engine = live_issuer.app.extensions["duo"].engine
    with engine.begin() as conn:
        final = get_record(conn, record)
        assert final is not None
        pending_record = replace(final, id=f"{record}-pending", final=False)
        insert_records(conn, [pending_record], now=now())
    offer = admin_offer(http, live_issuer, person, pending_record.id, format="dc+sd-jwt")
    client = Oid4vciClient(http, clock=now)
    receipt = client.receive(offer["offer_uri"])
    assert receipt.issued == [] and len(receipt.pending) == 1
    pending: Pending = receipt.pending[0]
    assert pending.interval > 0
    assert client.deferred(receipt.flow, pending) == pending
    with engine.begin() as conn:
        assert finalize_record(conn, pending_record.id, now=now())
    issued = client.deferred(receipt.flow, pending)
    assert isinstance(issued, list) and len(issued) == 1
    assert issued[0].key == pending.keys[0] and issued[0].notification_id is not None
    client.notify(receipt.flow, issued[0].notification_id)
    trust, _ = published_trust(http, live_issuer)
    assert checked(issued[0], trust).outcome == "valid"
    with pytest.raises(IssuerError) as used:
        client.deferred(receipt.flow, pending)
    assert used.value.error == "invalid_transaction_id"


class RecordingSession(requests.Session):
    """A real session that remembers the Content-Type of each request and response."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.seen: list[tuple[str, str, str]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        sent = (kwargs.get("headers") or {}).get("Content-Type", "")
        self.seen.append((str(url), sent, response.headers.get("Content-Type", "")))
        return response


def test_encrypted_credential_request_and_response(tmp_path: Path, database: Database) -> None:
    """VCI-34 (§10): with encryption_required the holder encrypts the request (application/jwt)
    and asks for an encrypted response, which arrives as a JWE and decrypts to credentials."""
    live = start_issuer(tmp_path / "data", database, require_encryption=True)
    try:
        person, record = seeded(live)
        with RecordingSession() as session:
            offer = admin_offer(session, live, person, record)
            receipt = Oid4vciClient(session, clock=now).receive(offer["offer_uri"])
            trust, _ = published_trust(session, live)
            exchanges = [s for s in session.seen if s[0].endswith("/credential")]
        assert len(exchanges) == 2
        assert all(sent == ct == "application/jwt" for _, sent, ct in exchanges)
        assert all(checked(i, trust).outcome == "valid" for i in receipt.issued)
    finally:
        stop_issuer(live)


def test_duo_wallet_receive_list_show_and_check(
    live_issuer: LiveIssuer,
    http: requests.Session,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 3 deliverable 5: ``duo-wallet receive`` over real HTTP, ``list``, ``show``; the
    presentation passes ``duo-verifier check --bundle`` with the published bundle."""
    person, record = seeded(live_issuer)
    offer = admin_offer(http, live_issuer, person, record, tx_code=True)
    home = str(tmp_path / "wallet")
    argv = ["receive", offer["offer_uri"], "--pin", offer["tx_code"], "--data-dir", home]
    assert wallet.main([*argv, "--json"]) == 0
    received = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in received["credentials"]] == ["1", "2"] and received["pending"] == []
    assert wallet.main(["list", "--data-dir", home, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["credentials"]
    assert {c["format"] for c in listed} == {"dc+sd-jwt", "jwt_vc_json"}
    first = next(c for c in listed if c["format"] == "dc+sd-jwt")
    key_file = tmp_path / "holder.jwk"
    assert wallet.main(["show", first["id"], "--data-dir", home, "--key-out", str(key_file)]) == 0
    (tmp_path / "cred.txt").write_text(capsys.readouterr().out)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    present = ["present", "--key", str(key_file), "--nonce", NONCE, "--aud", EMPLOYER]
    assert wallet.main([*present, "--disclose", "given_name", str(tmp_path / "cred.txt")]) == 0
    (tmp_path / "shown.txt").write_text(capsys.readouterr().out)
    _, bundle = published_trust(http, live_issuer)
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    verdict = ["check", "--bundle", str(tmp_path / "bundle.json"), "--require-holder-binding"]
    assert (
        check.main([*verdict, "--nonce", NONCE, "--aud", EMPLOYER, str(tmp_path / "shown.txt")])
        == 0
    )
    capsys.readouterr()
    assert wallet.main(argv) == 1  # a used offer is no longer served (404)
    assert "refused (not_found)" in capsys.readouterr().err


def test_demo_serves_with_gunicorn_and_the_wallet_receives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 3 deliverables 2 and 5: ``python -m issuer.demo`` (``duo-issuer serve``, gunicorn)
    prints a ready offer that ``duo-wallet receive`` redeems over HTTP; SQLite default."""
    port = free_port()
    env = {**os.environ, "DUO_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "issuer.demo", "--port", str(port), "--persons", "6"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        banner = read_until(process, "Serving until Ctrl-C.")
        uri = re.search(r"receive '([^']+)' --pin (\d{6})", banner)
        assert uri is not None, banner
        wait_for(f"http://127.0.0.1:{port}/.well-known/openid-credential-issuer")
        home = str(tmp_path / "wallet")
        assert wallet.main(["receive", uri[1], "--pin", uri[2], "--data-dir", home]) == 0
        out = capsys.readouterr().out
        assert "received 2 credential(s)" in out and "jwt_vc_json" in out
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        assert process.stdout is not None
        process.stdout.close()


def test_serve_refuses_a_key_store_of_another_issuer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The key store names the issuer; serving it under another public URL is refused."""
    data = str(tmp_path / "data")
    assert issuer_cli(["keys", "init", "--data-dir", data, "--issuer", "https://duo.test"]) == 0
    capsys.readouterr()
    assert issuer_cli(["serve", "--data-dir", data, "--port", "9"]) == 1
    error = capsys.readouterr().err
    assert "made for the issuer https://duo.test" in error and "--public-url" in error
    assert issuer_cli(["serve", "--data-dir", data, "--host", "0.0.0.0"]) == 1
    assert "public_url_invalid" in capsys.readouterr().err
    assert issuer_cli(["serve", "--data-dir", data, "--workers", "0"]) == 1


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def read_until(process: subprocess.Popen[str], marker: str, limit: float = 60.0) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("the demo ended early: " + "".join(lines))
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("the demo did not start in time")


def wait_for(url: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    with requests.Session() as session:
        session.trust_env = False
        while time.monotonic() < deadline:
            try:
                if session.get(url, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
    raise AssertionError("the server did not answer in time")
