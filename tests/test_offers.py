"""Credential offers and pre-authorized codes: OpenID4VCI 1.0 §4.1, §6.1, §13.6; SPECS §8 items 1-6.

Redemption rules run on both databases against ``issuer.db.offers`` inside real transactions,
the way the token endpoint calls it (one ``engine.begin()`` per request, rolled back on error).
The offer endpoints and the admin API run through the test client, and once over real HTTP.
"""

from __future__ import annotations

import io
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy
from flask import Flask
from flask.testing import FlaskClient
from issuer_support import ADMIN_TOKEN, Database, LiveIssuer
from PIL import Image

from issuer import cli as issuer_cli
from issuer.app import create_app
from issuer.config import Settings
from issuer.db import create_schema, make_engine
from issuer.db import offers as store
from issuer.db.registry import Person, Record, insert_persons, insert_records
from issuer.db.tables import nonces, offers
from issuer.oid4vci.metadata import PRE_AUTHORIZED_GRANT
from keys.file_store import init_store
from schemas import loader
from verifier.errors import ProtocolError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://issuer.duo.test"
LIFETIME = timedelta(minutes=10)
TRIES = 5
JSON_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}


def _seed(engine: sqlalchemy.engine.Engine) -> None:
    """p1: one diploma (final), one grade list; p2: two diplomas; p3: nothing."""
    create_schema(engine)
    people = [Person(p, "Ana", "Silva", "1990-01-02") for p in ("p1", "p2", "p3")]
    diploma, grades = loader.example_record("diploma"), loader.example_record("grade_list")
    items = [
        Record("r1", "p1", "diploma", diploma, True),
        Record("r2", "p1", "grade_list", grades, True),
        Record("r3", "p2", "diploma", diploma, True),
        Record("r4", "p2", "diploma", diploma, False),
    ]
    with engine.begin() as conn:
        insert_persons(conn, people, now=NOW)
        insert_records(conn, items, now=NOW)


@pytest.fixture
def seeded(engine: sqlalchemy.engine.Engine) -> sqlalchemy.engine.Engine:
    _seed(engine)
    return engine


def _offer(engine: sqlalchemy.engine.Engine, tx_code: str | None = None) -> tuple[str, str]:
    with engine.begin() as conn:
        return store.create_offer(
            conn,
            person_id="p1",
            record_ids=["r1"],
            configuration_ids=["diploma_sd_jwt"],
            tx_code=tx_code,
            created_by="test",
            now=NOW,
            lifetime=LIFETIME,
        )


def _redeem(
    engine: sqlalchemy.engine.Engine,
    code: str,
    tx_code: str | None = None,
    *,
    now: datetime = NOW + timedelta(minutes=1),
) -> store.Grant:
    """One token request: its own transaction, rolled back when redemption raises."""
    with engine.begin() as conn:
        return store.redeem_pre_authorized_code(conn, code, tx_code, now=now, max_failures=TRIES)


def _refused(call: Callable[[], Any], code: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        call()
    assert raised.value.code == code and raised.value.status == 400


def _row(engine: sqlalchemy.engine.Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.select(offers)).one()


# --- redemption rules (issuer.db.offers) ---------------------------------------------------------


def test_redeem_once(seeded: sqlalchemy.engine.Engine) -> None:
    """VCI-3, item 2: a code grants its person, records and configurations, then never again."""
    _, code = _offer(seeded)
    grant = _redeem(seeded, code)
    assert grant == store.Grant("p1", ("r1",), ("diploma_sd_jwt",))
    _refused(lambda: _redeem(seeded, code), "invalid_grant")


def test_unknown_and_expired_codes(seeded: sqlalchemy.engine.Engine) -> None:
    """Item 1: unknown or expired pre-authorized_code → invalid_grant."""
    _, code = _offer(seeded)
    _refused(lambda: _redeem(seeded, code + "x"), "invalid_grant")
    _refused(lambda: _redeem(seeded, "", None), "invalid_grant")
    _refused(lambda: _redeem(seeded, code, now=NOW + LIFETIME), "invalid_grant")
    assert _redeem(seeded, code, now=NOW + LIFETIME - timedelta(seconds=1)).person_id == "p1"


def test_missing_tx_code_does_not_count(seeded: sqlalchemy.engine.Engine) -> None:
    """Item 3: no tx_code although offered → invalid_request; nothing counted or burned."""
    _, code = _offer(seeded, "123456")
    for _ in range(TRIES + 1):
        _refused(lambda: _redeem(seeded, code, None), "invalid_request")
        _refused(lambda: _redeem(seeded, code, ""), "invalid_request")
    assert _row(seeded).tx_code_failures == 0
    assert _redeem(seeded, code, "123456").person_id == "p1"


def test_unexpected_tx_code(seeded: sqlalchemy.engine.Engine) -> None:
    """Item 4: tx_code sent although none was offered → invalid_request; the code survives."""
    _, code = _offer(seeded)
    _refused(lambda: _redeem(seeded, code, "123456"), "invalid_request")
    assert _redeem(seeded, code).person_id == "p1"


def test_wrong_tx_codes_count_and_burn(seeded: sqlalchemy.engine.Engine) -> None:
    """Items 5, 6, VCI-23: a wrong PIN → invalid_grant and counts, even though the request's
    transaction rolls back; the 5th burns the code, so the right PIN no longer works."""
    _, code = _offer(seeded, "123456")
    for attempt, wrong in enumerate(["654321", "12345", "abcdef", "1234567", "000000"], 1):
        _refused(partial(_redeem, seeded, code, wrong), "invalid_grant")
        assert _row(seeded).tx_code_failures == attempt
    assert _row(seeded).state == "burned"
    _refused(lambda: _redeem(seeded, code, "123456"), "invalid_grant")


def test_four_wrong_tx_codes_still_allow_the_right_one(seeded: sqlalchemy.engine.Engine) -> None:
    """Item 6 boundary: fewer than 5 failures leave the code usable."""
    _, code = _offer(seeded, "123456")
    for _ in range(TRIES - 1):
        _refused(lambda: _redeem(seeded, code, "000000"), "invalid_grant")
    assert _redeem(seeded, code, "123456").record_ids == ("r1",)


def test_wrong_tx_code_counts_after_other_writes(seeded: sqlalchemy.engine.Engine) -> None:
    """The failure is committed on the request's own connection: no deadlock on SQLite when the
    request wrote before (a DPoP jti, say), and that write is kept with the count."""
    _, code = _offer(seeded, "123456")
    with pytest.raises(ProtocolError), seeded.begin() as conn:
        conn.execute(
            nonces.insert().values(value="jti-1", kind="dpop_jti", created_at=NOW, expires_at=NOW)
        )
        store.redeem_pre_authorized_code(conn, code, "000000", now=NOW, max_failures=TRIES)
    assert _row(seeded).tx_code_failures == 1


def test_failure_for_another_reason_does_not_burn(seeded: sqlalchemy.engine.Engine) -> None:
    """Issue 3: a token request failing after redemption (e.g. a bad DPoP proof checked later)
    rolls back and leaves the code redeemable."""
    _, code = _offer(seeded, "123456")
    with pytest.raises(ProtocolError), seeded.begin() as conn:
        store.redeem_pre_authorized_code(conn, code, "123456", now=NOW, max_failures=TRIES)
        raise ProtocolError("invalid_dpop_proof", "the proof is bad")
    assert _row(seeded).state == "open"
    assert _redeem(seeded, code, "123456").person_id == "p1"


def test_secrets_are_not_stored(seeded: sqlalchemy.engine.Engine) -> None:
    """DESIGN §4: neither the offer handle, the code nor the PIN is in the database."""
    offer_id, code = _offer(seeded, "493817")
    row = _row(seeded)
    stored = json.dumps([str(value) for value in row])
    for secret in (offer_id, code, "493817"):
        assert secret not in stored
    assert len(code) >= 43 and len(offer_id) >= 43  # 256 bits


def _race(engine: sqlalchemy.engine.Engine, attempts: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each result is a value or the error."""
    barrier = threading.Barrier(len(attempts))
    results: list[Any] = [None] * len(attempts)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = attempts[index]()
        except ProtocolError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_redemption_has_one_winner(seeded: sqlalchemy.engine.Engine) -> None:
    """Item 2, DESIGN §4: two requests redeem one code at the same moment; exactly one wins."""
    for _ in range(4):
        _, code = _offer(seeded)
        results = _race(seeded, [partial(_redeem, seeded, code)] * 2)
        wins = [r for r in results if isinstance(r, store.Grant)]
        losses = [r for r in results if isinstance(r, ProtocolError)]
        assert len(wins) == 1 and len(losses) == 1
        assert losses[0].code == "invalid_grant"


def test_concurrent_wrong_tx_codes_are_all_counted(seeded: sqlalchemy.engine.Engine) -> None:
    """VCI-23: parallel guesses cannot exceed the limit; the counter stops at the burn."""
    _, code = _offer(seeded, "123456")
    guesses = [partial(_redeem, seeded, code, f"{n:06d}") for n in range(8)]
    results = _race(seeded, guesses)
    assert all(isinstance(r, ProtocolError) and r.code == "invalid_grant" for r in results)
    row = _row(seeded)
    assert row.state == "burned" and row.tx_code_failures == TRIES


def test_tx_code_format() -> None:
    """§4.1.1: the PIN is 6 numeric digits."""
    codes = {store.new_tx_code() for _ in range(50)}
    assert all(store.is_tx_code(c) for c in codes) and len(codes) > 1
    for bad in ("12345", "1234567", "12345a", "١٢٣٤٥٦"):
        assert not store.is_tx_code(bad)


# --- the HTTP side: offers by reference, QR codes, the admin API --------------------------------


@dataclass
class App:
    flask: Flask
    engine: sqlalchemy.engine.Engine

    @property
    def client(self) -> FlaskClient:
        return self.flask.test_client()

    def create(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            "/api/offers",
            data=json.dumps(body),
            headers=JSON_HEADERS if headers is None else headers,
        )


def _make_app(
    tmp_path: Path,
    database: Database,
    clock: Callable[[], datetime] = lambda: NOW,
    **options: Any,
) -> App:
    data = tmp_path / "data"
    keys = init_store(data, issuer=ISSUER, verifier_host="verifier.duo.test", now=NOW)
    options.setdefault("admin_token", ADMIN_TOKEN)
    settings = Settings(data_dir=data, public_url=ISSUER, database_url=database.url, **options)
    engine = make_engine(database.url)
    flask_app = create_app(settings, engine=engine, keys=keys, clock=clock)
    _seed(engine)
    return App(flask_app, engine)


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Iterator[App]:
    made = _make_app(tmp_path, database)
    yield made
    made.engine.dispose()


def _offer_uri(deep_link: str) -> str:
    """VCI-1, VCI-6: the deep link has the scheme and exactly one of the two parameters."""
    parts = urlsplit(deep_link)
    assert parts.scheme == "openid-credential-offer"
    query = parse_qs(parts.query)
    assert set(query) == {"credential_offer_uri"} and len(query["credential_offer_uri"]) == 1
    return query["credential_offer_uri"][0]


def test_admin_api_makes_an_offer(app: App) -> None:
    """VCI-2, VCI-3, VCI-5: 201 with URIs and PIN; the URI serves the offer as JSON."""
    response = app.create({"person": "p1", "type": "diploma", "tx_code": True})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    created = response.get_json()
    assert store.is_tx_code(created["tx_code"])
    uri = _offer_uri(created["offer_uri"])
    assert uri == created["credential_offer_uri"] == response.headers["Location"]
    assert uri == f"{ISSUER}/offers/{created['offer_id']}"
    assert created["qr_svg"] == f"{uri}/qr.svg" and created["qr_png"] == f"{uri}/qr.png"
    served = app.client.get(uri.removeprefix(ISSUER))
    assert served.status_code == 200 and served.mimetype == "application/json"
    offer = served.get_json()
    assert offer["credential_issuer"] == ISSUER
    assert offer["credential_configuration_ids"] == ["diploma_sd_jwt", "diploma_jwt_vc_json"]
    assert "authorization_server" not in offer["grants"][PRE_AUTHORIZED_GRANT]  # VCI-4
    tx_code = offer["grants"][PRE_AUTHORIZED_GRANT]["tx_code"]
    assert tx_code["input_mode"] == "numeric" and tx_code["length"] == 6
    assert 0 < len(tx_code["description"]) <= 300
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    with app.engine.begin() as conn:
        grant = store.redeem_pre_authorized_code(
            conn, code, created["tx_code"], now=NOW, max_failures=TRIES
        )
    assert grant == store.Grant("p1", ("r1",), ("diploma_sd_jwt", "diploma_jwt_vc_json"))
    assert app.client.get(uri.removeprefix(ISSUER)).status_code == 404  # used: gone


def test_offer_ids_are_listed_in_the_metadata(app: App) -> None:
    """VCI-2: credential_configuration_ids are keys of credential_configurations_supported."""
    offer = app.create({"person": "p1", "type": "grade_list"}).get_json()
    served = app.client.get(offer["credential_offer_uri"].removeprefix(ISSUER)).get_json()
    metadata = app.client.get("/.well-known/openid-credential-issuer").get_json()
    ids = served["credential_configuration_ids"]
    assert ids == ["grade_list_sd_jwt"] and set(ids) <= set(
        metadata["credential_configurations_supported"]
    )
    assert "tx_code" not in served["grants"][PRE_AUTHORIZED_GRANT] and offer["tx_code"] is None


def test_format_narrows_the_offer_and_uris_are_unique(app: App) -> None:
    """VCI-5 [S]: one URI per offer; --format picks one configuration."""
    first = app.create({"person": "p1", "type": "diploma", "format": "jwt_vc_json"}).get_json()
    second = app.create({"person": "p1", "type": "diploma", "format": "jwt_vc_json"}).get_json()
    assert first["credential_offer_uri"] != second["credential_offer_uri"]
    assert first["credential_configuration_ids"] == ["diploma_jwt_vc_json"]


def test_offer_by_value_equals_offer_by_reference(app: App) -> None:
    """VCI-1: the by-value link carries credential_offer only, the same object the URI serves."""
    created = app.create({"person": "p1", "type": "diploma", "tx_code": True}).get_json()
    query = parse_qs(urlsplit(created["offer_by_value_uri"]).query)
    assert set(query) == {"credential_offer"}
    by_value = json.loads(query["credential_offer"][0])
    by_reference = app.client.get(created["credential_offer_uri"].removeprefix(ISSUER)).get_json()
    assert by_value == by_reference


def test_qr_codes(app: App) -> None:
    """VCI-6, H-4 (cross-device): SVG and PNG QR codes of the deep link."""
    created = app.create({"person": "p1", "type": "diploma"}).get_json()
    svg = app.client.get(created["qr_svg"].removeprefix(ISSUER))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ET.fromstring(svg.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and len(root) > 0
    png = app.client.get(created["qr_png"].removeprefix(ISSUER))
    assert png.status_code == 200 and png.mimetype == "image/png"
    with Image.open(io.BytesIO(png.get_data())) as image:
        assert image.format == "PNG" and image.size[0] == image.size[1] > 100
    assert app.client.get("/offers/nope/qr.svg").status_code == 404


def test_unknown_and_expired_offers_are_404(tmp_path: Path, database: Database) -> None:
    """§4.1.3: nothing is served for an unknown or expired offer."""
    clock = {"now": NOW}
    made = _make_app(tmp_path, database, lambda: clock["now"])
    try:
        created = made.create({"person": "p1", "type": "diploma"}).get_json()
        path = created["credential_offer_uri"].removeprefix(ISSUER)
        assert made.client.get(path).status_code == 200
        clock["now"] = NOW + LIFETIME
        response = made.client.get(path)
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
        assert made.client.get("/offers/unknown").status_code == 404
    finally:
        made.engine.dispose()


BAD_REQUESTS: list[tuple[dict[str, Any], int, str]] = [
    ({"person": "p2", "type": "diploma"}, 400, "r3, r4"),
    ({"person": "nobody", "type": "diploma"}, 404, "no such person"),
    ({"person": "p3", "type": "diploma"}, 404, "no record of this type"),
    ({"person": "p1", "type": "diploma", "record": "r9"}, 404, "no such record"),
    ({"person": "p1", "type": "diploma", "record": "r3"}, 400, "another person"),
    ({"person": "p1", "type": "diploma", "record": "r2"}, 400, "another credential type"),
    ({"person": "p1", "type": "passport"}, 400, "type must be one of"),
    ({"person": "p1", "type": "diploma", "format": "mso_mdoc"}, 400, "format must be"),
    ({"person": "p1", "type": "grade_list", "format": "jwt_vc_json"}, 400, "not offered"),
    ({"person": "p1", "type": "diploma", "tx_code": "yes"}, 400, "true or false"),
    ({"person": "p1", "type": "diploma", "txcode": True}, 400, "unknown members"),
    ({"type": "diploma"}, 400, "person must be"),
    ({"person": "p1", "type": "diploma", "record": 7}, 400, "record must be"),
    ({"person": "p" * 65, "type": "diploma"}, 400, "person must be"),
]
BAD_BODIES = [
    (b"{", "application/json"),
    (b"[]", "application/json"),
    (b'{"person":"p1","person":"p2","type":"diploma"}', "application/json"),
    (b"\xff", "application/json"),
    (b'{"person":"p1","type":"diploma"}', "text/plain"),
]


def test_admin_api_refuses_bad_requests(app: App) -> None:
    """Bad input: a clear error (400 invalid_request or 404 not_found), and nothing stored.
    The cases share one app per database to keep the suite fast."""
    for body, status, needle in BAD_REQUESTS:
        response = app.create(body)
        assert response.status_code == status, body
        error = response.get_json()
        assert error["error"] == ("invalid_request" if status == 400 else "not_found"), body
        assert needle in error["error_description"], body
    for data, content_type in BAD_BODIES:
        headers = {**JSON_HEADERS, "Content-Type": content_type}
        response = app.client.post("/api/offers", data=data, headers=headers)
        assert response.status_code == 400, data
        assert response.get_json()["error"] == "invalid_request"
    with app.engine.connect() as conn:
        count = sqlalchemy.select(sqlalchemy.func.count()).select_from(offers)
        assert conn.execute(count).scalar() == 0


def test_several_records_one_named(app: App) -> None:
    """A person with several records of the type gets an offer for the one named."""
    created = app.create({"person": "p2", "type": "diploma", "record": "r4"}).get_json()
    assert created["record"] == "r4"


def test_admin_api_needs_the_token(app: App) -> None:
    """Admin API: 401 with WWW-Authenticate without the right bearer token (RFC 6750 §3)."""
    for authorization in (None, "Bearer wrong", f"Basic {ADMIN_TOKEN}", "Bearer", "bearer "):
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        response = app.create({"person": "p1", "type": "diploma"}, headers=headers)
        assert response.status_code == 401, authorization
        assert response.get_json()["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_admin_api_off_without_a_token(tmp_path: Path, database: Database) -> None:
    """Admin API: 404 when no DUO_ADMIN_TOKEN is configured."""
    made = _make_app(tmp_path, database, admin_token=None)
    try:
        response = made.create({"person": "p1", "type": "diploma"})
        assert response.status_code == 404
    finally:
        made.engine.dispose()


def test_offer_over_http(live_issuer: LiveIssuer) -> None:
    """VCI-5 end to end on a real server: admin API, offer URI, QR."""
    _seed(live_issuer.app.extensions["duo"].engine)
    with requests.Session() as http:
        response = http.post(
            f"{live_issuer.url}/api/offers",
            json={"person": "p1", "type": "diploma", "tx_code": True},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=5,
        )
        assert response.status_code == 201
        created = response.json()
        served = http.get(_offer_uri(created["offer_uri"]), timeout=5)
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "application/json"
        assert served.json()["credential_issuer"] == live_issuer.url
        assert http.get(created["qr_png"], timeout=5).content.startswith(b"\x89PNG")


# --- duo-issuer offer create ---------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    init_store(data, issuer=ISSUER, verifier_host="verifier.duo.test", now=NOW)
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.delenv("DUO_PUBLIC_URL", raising=False)
    monkeypatch.delenv("DUO_DATA_DIR", raising=False)
    engine = make_engine(database.url)
    _seed(engine)
    yield data
    engine.dispose()


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = issuer_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_offer_create_json(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/cli.md: {"offer_uri", "tx_code", "offer_id"}; the issuer is the key store's."""
    code, out, _ = _cli(
        capsys,
        "offer",
        "create",
        "--person",
        "p1",
        "--type",
        "diploma",
        "--tx-code",
        "--data-dir",
        str(cli_env),
        "--json",
    )
    assert code == 0
    printed = json.loads(out)
    assert set(printed) == {"offer_uri", "tx_code", "offer_id"}
    assert store.is_tx_code(printed["tx_code"])
    assert _offer_uri(printed["offer_uri"]) == f"{ISSUER}/offers/{printed['offer_id']}"
    code, out, _ = _cli(
        capsys,
        "offer",
        "create",
        "--person",
        "p1",
        "--type",
        "grade_list",
        "--data-dir",
        str(cli_env),
        "--json",
        "--public-url",
        "http://127.0.0.1:9",
    )
    assert json.loads(out)["tx_code"] is None
    assert _offer_uri(json.loads(out)["offer_uri"]).startswith("http://127.0.0.1:9/offers/")


def test_cli_offer_create_text(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        capsys,
        "offer",
        "create",
        "--person",
        "p2",
        "--type",
        "diploma",
        "--record",
        "r4",
        "--format",
        "dc+sd-jwt",
        "--tx-code",
        "--data-dir",
        str(cli_env),
    )
    assert code == 0
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert lines["offer URI"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert store.is_tx_code(lines["PIN"]) and lines["configurations"] == "diploma_sd_jwt"


def test_cli_offer_create_by_value(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        capsys,
        "offer",
        "create",
        "--person",
        "p1",
        "--type",
        "diploma",
        "--by-value",
        "--data-dir",
        str(cli_env),
        "--json",
    )
    query = parse_qs(urlsplit(json.loads(out)["offer_uri"]).query)
    assert code == 0 and json.loads(query["credential_offer"][0])["credential_issuer"] == ISSUER


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--person", "p2", "--type", "diploma"], "name one of: r3, r4 (invalid_request)"),
        (["--person", "zz", "--type", "diploma"], "no such person (not_found)"),
        (
            ["--person", "p1", "--type", "diploma", "--public-url", "http://example.com"],
            "public_url_invalid",
        ),
    ],
)
def test_cli_offer_create_refusals(
    cli_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = _cli(capsys, "offer", "create", *argv, "--data-dir", str(cli_env))
    assert code == 1 and out == "" and needle in err and err.count("\n") == 1
