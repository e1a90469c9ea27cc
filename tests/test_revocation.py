"""Revocation end to end: issued credentials, the admin API and ``duo-issuer revoke`` /
``credentials list``, checked by verifier.verify against the published bundle and the live lists
over real HTTP, on SQLite and PostgreSQL (issue 3 deliverable 3)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from issuer_support import ADMIN_TOKEN, Database, LiveIssuer

from issuer import cli as issuer_cli
from issuer.app import create_app
from issuer.credentials.signing import sign_sd_jwt_vc, sign_vcdm
from issuer.db import issuance, registry, status
from schemas import loader
from verifier import jose
from verifier.errors import VerificationIncomplete
from verifier.policy import Policy
from verifier.status_check import FetchedList, StatusSource
from verifier.trust import TrustStore
from verifier.verdict import Verdict
from verifier.verify import verify

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LENIENT = Policy(require_holder_binding=False, nonce=None, audience=None)
FORMATS = {"sd": "dc+sd-jwt", "vc": "vc+jwt", "v11": "jwt_vc_json", "other": "dc+sd-jwt"}


@dataclasses.dataclass
class Issued:
    live: LiveIssuer
    ids: dict[str, str]  # name -> credential id
    texts: dict[str, str]  # name -> the credential


def _sign(live: LiveIssuer, fmt: str, allocation: status.Allocation, holder: Any) -> str:
    claims, now = loader.example_claims("diploma"), datetime.now(UTC)
    jwk = jose.public_jwk(holder)
    if fmt == "dc+sd-jwt":
        reference = status.status_reference(allocation)
        return sign_sd_jwt_vc(
            "diploma",
            claims,
            keys=live.keys,
            issuer=live.url,
            holder_jwk=jwk,
            status=reference,
            now=now,
        )
    return sign_vcdm(
        fmt,
        "diploma",
        claims,
        keys=live.keys,
        issuer=live.url,
        holder_jwk=jwk,
        now=now,
        status=status.bitstring_entry(allocation),
    )


@pytest.fixture
def issued(live_issuer: LiveIssuer) -> Issued:
    """Record R1 with an SD-JWT VC, a vc+jwt and a jwt_vc_json; record R2 with an SD-JWT VC."""
    holder, now = ec.generate_private_key(ec.SECP256R1()), datetime.now(UTC)
    ids, texts = {}, {}
    with live_issuer.app.extensions["duo"].engine.begin() as conn:
        registry.insert_persons(
            conn, [registry.Person("P1", "Sanne", "Berg", "1990-01-01")], now=now
        )
        registry.insert_records(
            conn, [registry.Record(r, "P1", "diploma", {}, True) for r in ("R1", "R2")], now=now
        )
        for name, fmt in FORMATS.items():
            allocation = status.allocate(
                conn, "tsl" if fmt == "dc+sd-jwt" else "bsl", now=now, issuer=live_issuer.url
            )
            texts[name] = _sign(live_issuer, fmt, allocation, holder)
            ids[name] = issuance.new_id()
            issuance.record_issued(
                conn,
                credential_id=ids[name],
                record_id="R2" if name == "other" else "R1",
                configuration_id=f"diploma_{fmt}",
                fmt=fmt,
                allocation=allocation,
                holder_jkt=None,
                notification_id=None,
                now=now,
            )
    return Issued(live_issuer, ids, texts)


def _bundle_trust(live: LiveIssuer) -> TrustStore:
    with requests.Session() as http:
        token = http.get(f"{live.url}/.well-known/trust-bundle", timeout=5).text
    return TrustStore.from_bundle(jose.parse_compact(token).payload)


def _http_source(http: requests.Session) -> StatusSource:
    def fetch(uri: str) -> FetchedList:
        response = http.get(uri, timeout=5)
        if response.status_code != 200:
            raise VerificationIncomplete("status_list_unavailable", "status list not available")
        return FetchedList(response.text, response.headers.get("Content-Type"))

    return fetch


def _verdicts(issued: Issued, policy: Policy = LENIENT) -> Iterator[tuple[str, Verdict]]:
    """Each credential's verdict from the bundle snapshots and from the live lists."""
    trust = _bundle_trust(issued.live)
    with requests.Session() as http:
        for name, text in issued.texts.items():
            now = datetime.now(UTC)
            yield name, verify(text, trust=trust, policy=policy, now=now)
            yield (
                name,
                verify(text, trust=trust, policy=policy, now=now, status_source=_http_source(http)),
            )


def _outcomes(issued: Issued, policy: Policy = LENIENT) -> dict[str, set[tuple[str, str | None]]]:
    found: dict[str, set[tuple[str, str | None]]] = {}
    for name, verdict in _verdicts(issued, policy):
        status_check = [c for c in verdict.checks if c.name == "status"]
        assert len(status_check) == 1, verdict.checks
        found.setdefault(name, set()).add((verdict.outcome, status_check[0].code))
    return found


def _admin(live: LiveIssuer, body: Any, headers: dict[str, str] | None = None) -> Any:
    with requests.Session() as http:
        return http.post(
            f"{live.url}/api/revocations",
            json=body,
            timeout=5,
            headers=AUTH if headers is None else headers,
        )


VALID = {("valid", None)}
REVOKED = {("invalid", "credential_revoked")}


def test_revoked_credential_is_invalid(issued: Issued) -> None:
    """SPECS §8 item 79, TSL-3/TSL-4, BSL-1/BSL-2: revoke through the admin API; the bundle and
    the live lists (republished on change) both make the credential invalid, the others stay."""
    assert _outcomes(issued) == dict.fromkeys(FORMATS, VALID)
    for name in ("sd", "vc"):
        response = _admin(issued.live, {"credential": issued.ids[name], "action": "revoke"})
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        item = response.json()["credentials"][0]
        assert response.json()["action"] == "revoke"
        assert (item["id"], item["state"], item["record"]) == (issued.ids[name], "revoked", "R1")
    assert _outcomes(issued) == {"sd": REVOKED, "vc": REVOKED, "v11": VALID, "other": VALID}


def test_suspend_and_reinstate(issued: Issued) -> None:
    """TSL §7.1 SUSPENDED (SPECS §8 item 79: rejected unless the policy accepts it), then valid."""
    body = {"credential": issued.ids["sd"], "action": "suspend"}
    assert _admin(issued.live, body).json()["credentials"][0]["state"] == "suspended"
    assert _outcomes(issued)["sd"] == {("invalid", "credential_suspended")}
    accepting = dataclasses.replace(LENIENT, accept_suspended=True)
    assert _outcomes(issued, accepting)["sd"] == VALID
    body["action"] = "reinstate"
    assert _admin(issued.live, body).json()["credentials"][0]["state"] == "valid"
    assert _outcomes(issued)["sd"] == VALID


def test_record_revocation_is_every_credential_of_the_record(issued: Issued) -> None:
    response = _admin(issued.live, {"record": "R1", "action": "revoke"})
    assert response.status_code == 200
    states = {c["id"]: c["state"] for c in response.json()["credentials"]}
    assert states == {issued.ids[n]: "revoked" for n in ("sd", "vc", "v11")}
    outcomes = _outcomes(issued)
    assert outcomes == {"sd": REVOKED, "vc": REVOKED, "v11": REVOKED, "other": VALID}


def _states(live: LiveIssuer) -> dict[str, str]:
    with live.app.extensions["duo"].engine.connect() as conn:
        from issuer.revocation import issued_credentials

        return {c.id: c.state for c in issued_credentials(conn)}


def test_refused_changes_change_nothing(issued: Issued) -> None:
    """W3C credentials cannot be suspended; revocation is final; a refusal rolls back the lot."""
    before = _states(issued.live)
    mixed = _admin(issued.live, {"record": "R1", "action": "suspend"})
    assert (mixed.status_code, mixed.json()["error"]) == (409, "suspension_unsupported")
    assert _states(issued.live) == before  # the SD-JWT VC of R1 was not suspended either
    assert _admin(issued.live, {"credential": issued.ids["sd"], "action": "revoke"}).ok
    for action in ("suspend", "reinstate"):
        final = _admin(issued.live, {"credential": issued.ids["sd"], "action": action})
        assert (final.status_code, final.json()["error"]) == (409, "revocation_is_final")
    again = _admin(issued.live, {"credential": issued.ids["sd"], "action": "revoke"})
    assert again.status_code == 200  # idempotent
    for body in ({"credential": "nope", "action": "revoke"}, {"record": "R9", "action": "revoke"}):
        missing = _admin(issued.live, body)
        assert (missing.status_code, missing.json()["error"]) == (404, "credential_not_found")


def test_admin_api_needs_the_bearer_token(issued: Issued) -> None:
    """The admin API is authenticated (issuer.web.admin_auth), and off without a token."""
    body = {"credential": issued.ids["sd"], "action": "revoke"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_TOKEN}):
        refused = _admin(issued.live, body, headers)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(_states(issued.live).values()) == {"valid"}
    live = issued.live
    off = create_app(
        dataclasses.replace(live.settings, admin_token=None),
        keys=live.keys,
        engine=live.app.extensions["duo"].engine,
    )
    response = off.test_client().post("/api/revocations", json=body, headers=AUTH)
    assert response.status_code == 404


MALFORMED: list[Any] = [
    {"action": "revoke"},
    {"credential": "c", "record": "r", "action": "revoke"},
    {"credential": "c", "action": "delete"},
    {"credential": "c"},
    {"credential": 5, "action": "revoke"},
    {"credential": "", "action": "revoke"},
    {"credential": "c" * 65, "action": "revoke"},
    ["credential"],
]


def test_admin_api_refuses_malformed_requests(live_issuer: LiveIssuer) -> None:
    """Bodies that are not one JSON object naming exactly one target and a known action: 400."""
    client = live_issuer.app.test_client()
    for body in MALFORMED:
        response = client.post("/api/revocations", json=body, headers=AUTH)
        assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")
    for data, content_type in (
        ("credential=c&action=revoke", "application/x-www-form-urlencoded"),
        ('{"credential": "c", "credential": "d", "action": "revoke"}', "application/json"),
        ("{", "application/json"),
    ):
        response = client.post(
            "/api/revocations", data=data, content_type=content_type, headers=AUTH
        )
        assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")


# --- the command line ------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = issuer_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def on_disk(
    issued: Issued, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The CLI pointed at the live issuer's database (DATABASE_URL) and data directory."""
    monkeypatch.setenv("DATABASE_URL", database.url)
    return ["--data-dir", str(tmp_path / "data")]


def test_credentials_list_json(
    issued: Issued, on_disk: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/cli.md: {"credentials": [{"id", "record", "format", "status_uri", "status_idx",
    "state"}]}."""
    code, out, _ = _cli(capsys, "credentials", "list", "--json", *on_disk)
    items = json.loads(out)["credentials"]
    assert code == 0 and len(items) == 4
    assert all(
        list(item) == ["id", "record", "format", "status_uri", "status_idx", "state"]
        for item in items
    )
    by_id = {item["id"]: item for item in items}
    sd, vc = by_id[issued.ids["sd"]], by_id[issued.ids["vc"]]
    assert (sd["format"], sd["state"], sd["record"]) == ("dc+sd-jwt", "valid", "R1")
    assert sd["status_uri"] == f"{issued.live.url}/status/1" and isinstance(sd["status_idx"], int)
    assert vc["status_uri"].startswith(f"{issued.live.url}/status/w3c/")
    code, out, _ = _cli(capsys, "credentials", "list", "--record", "R2", "--json", *on_disk)
    assert [i["id"] for i in json.loads(out)["credentials"]] == [issued.ids["other"]]
    code, out, _ = _cli(capsys, "credentials", "list", *on_disk)
    assert code == 0 and len(out.splitlines()) == 4 and issued.ids["v11"] in out


def test_revoke_command(
    issued: Issued, on_disk: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``duo-issuer revoke``: --json shape, --record, --suspend/--reinstate, refusals exit 1."""
    code, out, _ = _cli(
        capsys, "revoke", "--credential", issued.ids["other"], "--suspend", "--json", *on_disk
    )
    document = json.loads(out)
    assert code == 0 and document["action"] == "suspend"
    assert [(c["id"], c["state"]) for c in document["credentials"]] == [
        (issued.ids["other"], "suspended")
    ]
    assert _outcomes(issued)["other"] == {("invalid", "credential_suspended")}
    code, out, _ = _cli(
        capsys, "revoke", "--credential", issued.ids["other"], "--reinstate", *on_disk
    )
    assert code == 0 and "valid" in out
    code, out, err = _cli(capsys, "revoke", "--record", "R1", "--suspend", *on_disk)
    assert (code, out) == (1, "") and "(suspension_unsupported)" in err
    code, out, _ = _cli(capsys, "revoke", "--record", "R1", "--json", *on_disk)
    assert code == 0 and {c["state"] for c in json.loads(out)["credentials"]} == {"revoked"}
    code, _, err = _cli(capsys, "revoke", "--credential", issued.ids["sd"], "--reinstate", *on_disk)
    assert code == 1 and "(revocation_is_final)" in err
    code, _, err = _cli(capsys, "revoke", "--credential", "unknown", *on_disk)
    assert code == 1 and "(credential_not_found)" in err
    assert _outcomes(issued) == {"sd": REVOKED, "vc": REVOKED, "v11": REVOKED, "other": VALID}


def test_revoke_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["revoke"],
        ["revoke", "--credential", "a", "--record", "b"],
        ["revoke", "--credential", "a", "--suspend", "--reinstate"],
    ):
        with pytest.raises(SystemExit) as usage:
            issuer_cli.main(argv)
        assert usage.value.code == 2
    capsys.readouterr()


def test_database_failure_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    code, out, err = _cli(capsys, "credentials", "list", "--data-dir", str(tmp_path))
    assert (code, out) == (1, "") and err.strip().endswith("(database_unavailable)")
    assert "nobody" not in err
