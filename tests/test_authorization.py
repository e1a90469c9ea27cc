"""The authorization code flow: PAR (RFC 9126), PKCE S256 (RFC 7636), RFC 9207 ``iss``, the
development login and code redemption (OpenID4VCI 1.0 §5-§6, HAIP 1.0 §4), on both databases.

Most cases run through the Flask test client; ``test_end_to_end_over_http`` runs the whole flow
(PAR with DPoP nonce and wallet attestation, login, token, credential) against a real server.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from issuer_support import Database, start_issuer, stop_issuer
from test_client_attestation import WalletProvider
from test_dpop import DpopKey
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from issuer.app import create_app
from issuer.config import Settings
from issuer.db.authorization import purge_expired
from issuer.db.registry import Person, Record, insert_persons, insert_records
from issuer.oid4vci.authorization_code import Grant, redeem_authorization_code
from issuer.oid4vci.par import parse_par
from issuer.oid4vci.pkce import check_code_challenge, s256, verify_code_verifier
from issuer.registry.seed import generate
from keys.file_store import init_store
from verifier import jose
from verifier.errors import ProtocolError

ISSUER = "https://issuer.duo.test"
CLIENT_ID = "wallet.example/instance"
REDIRECT_URI = "https://wallet.example/callback?session=1"


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Pkce:
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return s256(self.verifier)


@dataclass
class Issuer:
    app: Flask
    client: FlaskClient
    clock: Clock
    people: list[tuple[Person, list[Record]]]

    def person_with(self, type_name: str | None) -> str:
        """A seeded person with a record of ``type_name`` (None: with no diploma at all)."""
        for person, records in self.people:
            types = {r.type for r in records}
            if (type_name in types) if type_name else ("diploma" not in types):
                return person.id
        raise AssertionError("the seed has no such person")

    def par(self, params: dict[str, Any] | None = None, *, drop: tuple[str, ...] = (),
            headers: dict[str, str] | None = None, pkce: Pkce | None = None) -> TestResponse:
        body = par_body(params, drop, pkce)
        return self.client.post("/par", data=body, headers=headers or {})

    def request_uri(self, **kwargs: Any) -> str:
        response = self.par(**kwargs)
        assert response.status_code == 201, response.json
        return str(response.json["request_uri"])  # type: ignore[index]

    def login(self, request_uri: str, person_id: str, client_id: str = CLIENT_ID) -> TestResponse:
        return self.client.post("/authorize/dev-login", data={
            "request_uri": request_uri, "client_id": client_id, "person_id": person_id})

    def code(self, pkce: Pkce, **kwargs: Any) -> str:
        response = self.login(self.request_uri(pkce=pkce, **kwargs), self.person_with("diploma"))
        assert response.status_code == 303
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]

    def redeem(self, code: str, pkce: Pkce | None, *, dpop_jkt: str | None = None,
               client_id: str = CLIENT_ID, redirect_uri: str = REDIRECT_URI,
               later: timedelta = timedelta()) -> Grant:
        with self.app.extensions["duo"].engine.begin() as conn:
            return redeem_authorization_code(
                conn, code=code, code_verifier=pkce.verifier if pkce else None,
                redirect_uri=redirect_uri, client_id=client_id, dpop_jkt=dpop_jkt,
                now=self.clock.now + later)


def seed(engine: Any, now: datetime) -> list[tuple[Person, list[Record]]]:
    people = generate(4, seed=1)
    with engine.begin() as conn:
        insert_persons(conn, [p for p, _ in people], now=now)
        insert_records(conn, [r for _, rs in people for r in rs], now=now)
    return people


@pytest.fixture
def make_issuer(tmp_path: Path, database: Database) -> Iterator[Callable[..., Issuer]]:
    apps: list[Flask] = []

    def make(**options: Any) -> Issuer:
        data = tmp_path / f"data{len(apps)}"
        clock = Clock()
        keys = init_store(data, issuer=ISSUER, verifier_host="verifier.duo.test", now=clock.now)
        settings = Settings(data_dir=data, public_url=ISSUER, database_url=database.url,
                            **options)
        app = create_app(settings, keys=keys, clock=clock)
        apps.append(app)
        people = seed(app.extensions["duo"].engine, clock.now) if len(apps) == 1 else []
        return Issuer(app, app.test_client(), clock, people)

    yield make
    for app in apps:
        app.extensions["duo"].engine.dispose()


@pytest.fixture
def issuer(make_issuer: Callable[..., Issuer]) -> Issuer:
    return make_issuer(dev_login=True)


def par_body(params: dict[str, Any] | None = None, drop: tuple[str, ...] = (),
             pkce: Pkce | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
        "code_challenge": (pkce or Pkce()).challenge, "code_challenge_method": "S256",
        "scope": "duo_diploma", "state": "state-123", **(params or {}),
    }
    for name in drop:
        body.pop(name)
    return body


def parse_error(params: dict[str, Any], drop: tuple[str, ...] = ()) -> str:
    """The error code parse_par raises for a PAR body (all its errors are 400)."""
    with pytest.raises(ProtocolError) as info:
        parse_par(MultiDict(par_body(params, drop)), issuer=ISSUER)
    assert info.value.status == 400
    return info.value.code


def error_of(response: TestResponse, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    return str(response.json["error"])  # type: ignore[index]


def test_par_answers_a_request_uri(issuer: Issuer) -> None:
    """RFC 9126 §2.2, VCI-15 (H-2): 201 with a request_uri URN and expires_in; no-store."""
    response = issuer.par()
    assert response.status_code == 201
    assert response.json["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")  # type: ignore[index]
    assert response.json["expires_in"] == 60  # type: ignore[index]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("params", "drop"),
    [({}, ("code_challenge",)), ({}, ("code_challenge_method",)),
     ({"code_challenge_method": "plain"}, ()), ({"code_challenge": "short"}, ())],
    ids=["no-challenge", "no-method", "plain", "malformed"],
)
def test_par_requires_pkce_s256(params: dict[str, str], drop: tuple[str, ...]) -> None:
    """SPECS §8 item 10: PAR without PKCE, or with plain -> 400 invalid_request (HAIP §4)."""
    assert parse_error(params, drop) == "invalid_request"


def test_par_errors_over_http(issuer: Issuer) -> None:
    """SPECS §8 item 10 at the endpoint: 400 JSON error, nothing stored."""
    response = issuer.par({"code_challenge_method": "plain"})
    assert error_of(response, 400) == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_scopes_are_ignored(issuer: Issuer) -> None:
    """SPECS §8 item 14, VCI-17: an unknown extra scope is no error; only unknown ones is."""
    assert issuer.par({"scope": "openid duo_diploma no_such_scope"}).status_code == 201
    assert error_of(issuer.par({"scope": "no_such_scope openid"}), 400) == "invalid_scope"


@pytest.mark.parametrize(
    "details",
    [[{"type": "openid_credential", "credential_configuration_id": "no_such_config"}],
     [{"type": "openid_credential"}],
     [{"type": "payment_initiation", "credential_configuration_id": "diploma_sd_jwt"}],
     [{"type": "openid_credential", "credential_configuration_id": "diploma_sd_jwt",
       "locations": ["https://other.example"]}],
     [], {"type": "openid_credential"}, "not json"],
    ids=["unknown-id", "no-id", "other-type", "foreign-locations", "empty", "object", "not-json"],
)
def test_bad_authorization_details(details: Any) -> None:
    """SPECS §8 item 13, VCI-16: unknown configuration ids and malformed entries ->
    400 invalid_authorization_details (RFC 9396 §5)."""
    text = details if isinstance(details, str) else json.dumps(details)
    assert parse_error({"authorization_details": text}, ("scope",)) == (
        "invalid_authorization_details")


def test_authorization_details_flow_into_the_grant(issuer: Issuer) -> None:
    """VCI-16/17: locations may name the issuer (not needed: no authorization_servers); a
    configuration asked both ways is governed by its authorization_details entry."""
    details = [{"type": "openid_credential", "credential_configuration_id": "diploma_sd_jwt",
                "locations": [ISSUER], "claims": [{"path": ["given_name"]}]}]
    pkce = Pkce()
    code = issuer.code(pkce, params={"authorization_details": json.dumps(details),
                                     "scope": "duo_diploma duo_diploma_w3c"})
    grant = issuer.redeem(code, pkce)
    assert grant.configuration_ids == ("diploma_sd_jwt", "diploma_jwt_vc_json")
    assert grant.authorization_details == (
        {"type": "openid_credential", "credential_configuration_id": "diploma_sd_jwt",
         "locations": [ISSUER]},)


@pytest.mark.parametrize(
    ("params", "error"),
    [({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
     ({"request": "eyJ.e30."}, "invalid_request"),
     ({"response_type": "token"}, "unsupported_response_type"),
     ({"redirect_uri": "http://wallet.example/cb"}, "invalid_request"),
     ({"redirect_uri": "https://wallet.example/cb#frag"}, "invalid_request"),
     ({"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
     ({"redirect_uri": "/relative"}, "invalid_request"),
     ({"client_id": ""}, "invalid_request"),
     ({"client_id": "wallet\n"}, "invalid_request"),
     ({"dpop_jkt": "not-a-thumbprint"}, "invalid_request")],
)
def test_par_parameter_checks(params: dict[str, str], error: str) -> None:
    """RFC 9126 §2.1 (no request_uri inside PAR), RFC 6749 §3.1.2 (redirect_uri), §4.1.2.1."""
    assert parse_error(params) == error


def test_par_refuses_repeated_parameters_and_other_bodies(issuer: Issuer) -> None:
    """RFC 6749 §3.1: parameters at most once; the body is form-urlencoded."""
    body = "response_type=code&client_id=a&client_id=b"
    response = issuer.client.post("/par", data=body,
                                  content_type="application/x-www-form-urlencoded")
    assert error_of(response, 400) == "invalid_request"
    response = issuer.client.post("/par", json={"response_type": "code"})
    assert error_of(response, 400) == "invalid_request"


def test_authorize_without_par_is_refused(issuer: Issuer) -> None:
    """SPECS §8 item 11: a plain authorization request (RFC 9126 §5) -> invalid_request."""
    pkce = Pkce()
    response = issuer.client.get("/authorize", query_string={
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce.challenge, "code_challenge_method": "S256", "scope": "duo_diploma"})
    assert error_of(response, 400) == "invalid_request"


def test_request_uri_is_single_use_and_short_lived(issuer: Issuer) -> None:
    """SPECS §8 item 12: a reused or expired request_uri -> invalid_request_uri; client_id must
    be the pushing client's (RFC 9126 §4)."""
    request_uri = issuer.request_uri()
    query = {"client_id": CLIENT_ID, "request_uri": request_uri}
    assert issuer.client.get("/authorize", query_string=query).status_code == 200
    assert issuer.client.get("/authorize", query_string=query).status_code == 200  # reload
    other = {"client_id": "someone-else", "request_uri": request_uri}
    assert error_of(issuer.client.get("/authorize", query_string=other), 400) == (
        "invalid_request_uri")
    assert issuer.login(request_uri, issuer.person_with("diploma")).status_code == 303
    assert error_of(issuer.client.get("/authorize", query_string=query), 400) == (
        "invalid_request_uri")
    assert error_of(issuer.login(request_uri, issuer.person_with("diploma")), 400) == (
        "invalid_request_uri")
    late = issuer.request_uri()
    issuer.clock.now += timedelta(seconds=61)
    query = {"client_id": CLIENT_ID, "request_uri": late}
    assert error_of(issuer.client.get("/authorize", query_string=query), 400) == (
        "invalid_request_uri")
    unknown = {"client_id": CLIENT_ID, "request_uri": "urn:ietf:params:oauth:request_uri:nope"}
    assert error_of(issuer.client.get("/authorize", query_string=unknown), 400) == (
        "invalid_request_uri")


def test_development_login_page(issuer: Issuer) -> None:
    """The dev login (DUO_DEV_LOGIN only): clearly labelled, one field, nothing personal."""
    request_uri = issuer.request_uri()
    page = issuer.client.get("/authorize", query_string={"client_id": CLIENT_ID,
                                                         "request_uri": request_uri})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "DEVELOPMENT ONLY" in html and 'name="person_id"' in html
    assert "https://wallet.example" in html  # where the code will go, so a person can tell
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    for person, _ in issuer.people:
        assert person.id not in html and person.family_name not in html


def test_login_redirects_with_code_state_and_iss(issuer: Issuer) -> None:
    """RFC 6749 §4.1.2 and RFC 9207 §2 (VCI-15): code, state and iss; the redirect_uri's own
    query is kept."""
    response = issuer.login(issuer.request_uri(), issuer.person_with("diploma"))
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "wallet.example" and location.path == "/callback"
    assert query["session"] == ["1"] and query["state"] == ["state-123"]
    assert query["iss"] == [ISSUER] and len(query["code"][0]) >= 43


def test_app_redirect_uri(issuer: Issuer) -> None:
    """RFC 6749 §3.1.2 / RFC 8252 §7.1: a wallet app's private-use scheme is a redirect_uri."""
    uri = "eu.europa.ec.euidi://authorization"
    response = issuer.login(issuer.request_uri(params={"redirect_uri": uri}),
                            issuer.person_with("diploma"))
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc) == ("eu.europa.ec.euidi", "authorization")
    assert parse_qs(location.query)["iss"] == [ISSUER]


def test_unknown_person_keeps_the_request(issuer: Issuer) -> None:
    request_uri = issuer.request_uri()
    response = issuer.login(request_uri, "p-no-such-person")
    assert response.status_code == 400 and "No registry person" in response.get_data(as_text=True)
    assert issuer.login(request_uri, issuer.person_with("diploma")).status_code == 303


def test_person_without_such_records_is_access_denied(issuer: Issuer) -> None:
    """RFC 6749 §4.1.2.1: nothing to grant -> error=access_denied, with state and iss."""
    response = issuer.login(issuer.request_uri(), issuer.person_with(None))
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["iss"] == [ISSUER]
    assert query["state"] == ["state-123"] and "code" not in query


def test_no_login_method_without_dev_login(make_issuer: Callable[..., Issuer]) -> None:
    """DUO_DEV_LOGIN off (the default): a clear answer, never a 500, and no dev login."""
    issuer = make_issuer()
    query = {"client_id": CLIENT_ID, "request_uri": issuer.request_uri()}
    page = issuer.client.get("/authorize", query_string=query)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "No login method is available yet" in page.get_data(as_text=True)
    as_json = issuer.client.get("/authorize", query_string=query,
                                headers={"Accept": "application/json"})
    assert error_of(as_json, 503) == "temporarily_unavailable"
    assert error_of(issuer.login(query["request_uri"], "p-x"), 404) == "not_found"


def test_redeem_gives_the_persons_records(issuer: Issuer) -> None:
    """OpenID4VCI §6: the grant holds the person's records of the requested types."""
    pkce = Pkce()
    grant = issuer.redeem(issuer.code(pkce), pkce)
    person = issuer.person_with("diploma")
    records = dict(issuer.people)
    diplomas = [r.id for p, rs in issuer.people if p.id == person for r in rs
                if r.type == "diploma"]
    assert records and grant.person_id == person and sorted(grant.record_ids) == sorted(diplomas)
    assert grant.configuration_ids == ("diploma_sd_jwt",) and grant.authorization_details == ()


def refused(call: Callable[[], Any], code: str = "invalid_grant") -> None:
    with pytest.raises(ProtocolError) as info:
        call()
    assert info.value.code == code and info.value.status == 400


def test_wrong_pkce_verifier(issuer: Issuer) -> None:
    """SPECS §8 item 9: wrong (or no) PKCE verifier -> invalid_grant (RFC 7636 §4.6); the
    failed request is rolled back, so the rightful client can still redeem."""
    pkce = Pkce()
    code = issuer.code(pkce)
    refused(lambda: issuer.redeem(code, Pkce()))
    refused(lambda: issuer.redeem(code, None))
    assert issuer.redeem(code, pkce).person_id == issuer.person_with("diploma")


def test_pkce_s256_vector() -> None:
    """RFC 7636 Appendix B: the S256 example."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verify_code_verifier(verifier, s256(verifier))
    assert check_code_challenge(s256(verifier), "S256") == s256(verifier)
    for bad in [verifier + "\n", verifier[:42], "x" * 129, verifier.replace("d", "+")]:
        with pytest.raises(ProtocolError) as info:
            verify_code_verifier(bad, s256(verifier))
        assert info.value.code == "invalid_grant"
    with pytest.raises(ProtocolError):
        check_code_challenge(s256(verifier) + "\n", "S256")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=43, max_size=128),
       st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=43, max_size=128))
def test_pkce_only_the_verifier_matches(verifier: str, other: str) -> None:
    """RFC 7636 §4.6 (SPECS §8 item 9): only the verifier itself hashes to its challenge."""
    challenge = check_code_challenge(s256(verifier), "S256")
    verify_code_verifier(verifier, challenge)
    if other != verifier:
        with pytest.raises(ProtocolError):
            verify_code_verifier(other, challenge)


def test_code_is_single_use_short_lived_and_bound(issuer: Issuer) -> None:
    """RFC 6749 §4.1.2-§4.1.3: one use, 60 seconds, the same client and redirect_uri."""
    pkce = Pkce()
    code = issuer.code(pkce)
    refused(lambda: issuer.redeem(code, pkce, client_id="other-client"))
    refused(lambda: issuer.redeem(code, pkce, redirect_uri="https://wallet.example/callback"))
    refused(lambda: issuer.redeem(code, pkce, later=timedelta(seconds=61)))
    issuer.redeem(code, pkce)
    refused(lambda: issuer.redeem(code, pkce))
    refused(lambda: issuer.redeem("made-up-code", pkce))


def test_expired_rows_are_purged(issuer: Issuer) -> None:
    """Expired request_uris and codes can be deleted (both are useless once expired)."""
    pkce = Pkce()
    issuer.code(pkce)
    issuer.request_uri()
    with issuer.app.extensions["duo"].engine.begin() as conn:
        assert purge_expired(conn, now=issuer.clock.now) == 0
        assert purge_expired(conn, now=issuer.clock.now + timedelta(seconds=61)) == 3


def test_concurrent_redemption_has_one_winner(issuer: Issuer) -> None:
    """Two workers redeem the same code at the same moment: exactly one wins."""
    pkce = Pkce()
    code = issuer.code(pkce)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def attempt() -> None:
        barrier.wait()
        try:
            issuer.redeem(code, pkce)
            outcomes.append("won")
        except ProtocolError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invalid_grant", "won"]


def test_dpop_at_par_binds_the_code(issuer: Issuer) -> None:
    """RFC 9449 §10: a proof at PAR binds the code to its key; another key (or none) at the
    token endpoint is invalid_grant; dpop_jkt must agree with the proof."""
    key, other = DpopKey(), DpopKey()
    pkce = Pkce()
    response = issuer.par(pkce=pkce, headers={"DPoP": key.proof(f"{ISSUER}/par",
                                                                now=issuer.clock.now)})
    assert response.status_code == 201 and response.headers["DPoP-Nonce"]
    login = issuer.login(response.json["request_uri"], issuer.person_with("diploma"))  # type: ignore[index]
    code = parse_qs(urlsplit(login.headers["Location"]).query)["code"][0]
    refused(lambda: issuer.redeem(code, pkce, dpop_jkt=other.jkt))
    refused(lambda: issuer.redeem(code, pkce, dpop_jkt=None))
    assert issuer.redeem(code, pkce, dpop_jkt=key.jkt).person_id
    # dpop_jkt alone binds too; with a proof it must name the proof's key.
    pkce = Pkce()
    code = issuer.code(pkce, params={"dpop_jkt": key.jkt})
    refused(lambda: issuer.redeem(code, pkce, dpop_jkt=other.jkt))
    mismatch = issuer.par({"dpop_jkt": other.jkt},
                          headers={"DPoP": key.proof(f"{ISSUER}/par", now=issuer.clock.now)})
    assert error_of(mismatch, 400) == "invalid_dpop_proof"


def test_required_dpop_at_par(make_issuer: Callable[..., Issuer]) -> None:
    """HAIP 1.0 §4 (VCI-15, items 15-16): DPoP required -> a proof (or dpop_jkt) at PAR, with a
    server nonce: first 400 use_dpop_nonce with DPoP-Nonce, then 201 with the next nonce."""
    issuer, key = make_issuer(require_dpop=True, dev_login=True), DpopKey()
    assert error_of(issuer.par(), 400) == "invalid_dpop_proof"
    first = issuer.par(headers={"DPoP": key.proof(f"{ISSUER}/par", now=issuer.clock.now)})
    assert error_of(first, 400) == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    proof = key.proof(f"{ISSUER}/par", now=issuer.clock.now, nonce=nonce)
    second = issuer.par(headers={"DPoP": proof})
    assert second.status_code == 201 and second.headers["DPoP-Nonce"] not in ("", nonce)
    bad = issuer.par(headers={"DPoP": key.proof(f"{ISSUER}/token", now=issuer.clock.now,
                                                nonce=second.headers["DPoP-Nonce"])})
    assert error_of(bad, 400) == "invalid_dpop_proof"  # item 15: htu of another endpoint
    assert issuer.par({"dpop_jkt": key.jkt}).status_code == 201


def test_wallet_attestation_at_par(make_issuer: Callable[..., Issuer]) -> None:
    """HAIP 1.0 §4.4.1 (VCI-20, H-2): client authentication at PAR; SPECS §8 item 18: the PAR
    client_id must be the attestation's sub -> else 401 invalid_client."""
    provider = WalletProvider(start=datetime.now(UTC))
    issuer = make_issuer(require_wallet_attestation=True,
                         wallet_provider_anchors=tuple(provider.anchors_pem))
    assert error_of(issuer.par(), 401) == "invalid_client"
    assert issuer.par(headers=provider.headers(now=issuer.clock.now)).status_code == 201
    other = issuer.par({"client_id": "another-wallet"},
                       headers=provider.headers(now=issuer.clock.now))
    assert error_of(other, 401) == "invalid_client"


def _token_request(url: str, code: str, pkce: Pkce, key: DpopKey, nonce: str | None,
                   attestation: dict[str, str], http: requests.Session) -> requests.Response:
    proof = key.proof(f"{url}/token", now=datetime.now(UTC), nonce=nonce)
    return http.post(f"{url}/token", timeout=10, headers={"DPoP": proof, **attestation}, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier,
        "redirect_uri": REDIRECT_URI, "client_id": CLIENT_ID})


def _dpop_post(http: requests.Session, url: str, key: DpopKey, nonce: str | None,
               **kwargs: Any) -> requests.Response:
    proof = key.proof(url, now=datetime.now(UTC), nonce=nonce)
    headers = {"DPoP": proof, **kwargs.pop("headers", {})}
    return http.post(url, timeout=10, headers=headers, **kwargs)


def test_end_to_end_over_http(tmp_path: Path, database: Database) -> None:
    """VCI-15, H-2, items 9 and 16 over real HTTP: PAR + PKCE + DPoP (nonces) + wallet
    attestation, the development login, RFC 9207 iss, the token (DPoP-bound, with
    authorization_details), and a credential request with that token."""
    provider = WalletProvider(start=datetime.now(UTC))
    live = start_issuer(tmp_path / "data", database, dev_login=True, require_dpop=True,
                        require_wallet_attestation=True,
                        wallet_provider_anchors=tuple(provider.anchors_pem))
    try:
        with live.app.extensions["duo"].engine.begin() as conn:
            people = generate(4, seed=1)
            insert_persons(conn, [p for p, _ in people], now=datetime.now(UTC))
            insert_records(conn, [r for _, rs in people for r in rs], now=datetime.now(UTC))
        person = next(p.id for p, rs in people if any(r.type == "diploma" for r in rs))
        _flow(live.url, provider, person)
    finally:
        stop_issuer(live)


def _flow(url: str, provider: WalletProvider, person: str) -> None:
    key, pkce = DpopKey(), Pkce()
    details = [{"type": "openid_credential", "credential_configuration_id": "diploma_sd_jwt"}]
    body = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
            "code_challenge": pkce.challenge, "code_challenge_method": "S256",
            "authorization_details": json.dumps(details), "state": "s-1"}
    with requests.Session() as http:
        first = _dpop_post(http, f"{url}/par", key, None, data=body,
                           headers=provider.headers(now=datetime.now(UTC), aud=url))
        assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
        par = _dpop_post(http, f"{url}/par", key, first.headers["DPoP-Nonce"], data=body,
                         headers=provider.headers(now=datetime.now(UTC), aud=url))
        assert par.status_code == 201, par.text
        query = {"client_id": CLIENT_ID, "request_uri": par.json()["request_uri"]}
        page = http.get(f"{url}/authorize", params=query, timeout=10)
        assert page.status_code == 200 and "DEVELOPMENT ONLY" in page.text
        login = http.post(f"{url}/authorize/dev-login", data={**query, "person_id": person},
                          allow_redirects=False, timeout=10)
        redirect = parse_qs(urlsplit(login.headers["Location"]).query)
        assert login.status_code == 303 and redirect["iss"] == [url]  # RFC 9207
        assert redirect["state"] == ["s-1"]
        code, nonce = redirect["code"][0], par.headers["DPoP-Nonce"]
        attestation = provider.headers(now=datetime.now(UTC), aud=url)
        wrong = _token_request(url, code, Pkce(), key, nonce, attestation, http)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"  # item 9
        token = _token_request(url, code, pkce, key, wrong.headers.get("DPoP-Nonce", nonce),
                               provider.headers(now=datetime.now(UTC), aud=url), http)
        if token.status_code == 400 and token.json()["error"] == "use_dpop_nonce":
            token = _token_request(url, code, pkce, key, token.headers["DPoP-Nonce"],
                                   provider.headers(now=datetime.now(UTC), aud=url), http)
        assert token.status_code == 200, token.text
        assert token.json()["token_type"] == "DPoP"
        identifiers = token.json()["authorization_details"][0]["credential_identifiers"]
        _credential(http, url, key, token, identifiers[0])


def _credential(http: requests.Session, url: str, key: DpopKey, token: requests.Response,
                identifier: str) -> None:
    holder = DpopKey()  # the key the credential is bound to
    c_nonce = http.post(f"{url}/nonce", timeout=10).json()["c_nonce"]
    proof = jose.sign_compact(
        {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": holder.jwk},
        {"aud": url, "iat": int(datetime.now(UTC).timestamp()), "nonce": c_nonce,
         "iss": CLIENT_ID},
        jose.private_key_signer(holder.key, "ES256"),
    )
    access, nonce = token.json()["access_token"], token.headers["DPoP-Nonce"]
    body = {"credential_identifier": identifier, "proofs": {"jwt": [proof]}}

    def post(scheme: str, signer: DpopKey) -> requests.Response:
        proof_dpop = signer.proof(f"{url}/credential", now=datetime.now(UTC),
                                  access_token=access, nonce=nonce)
        return http.post(f"{url}/credential", timeout=10, json=body,
                         headers={"Authorization": f"{scheme} {access}", "DPoP": proof_dpop})

    as_bearer = post("Bearer", key)  # SPECS §8 item 22: a DPoP-bound token sent as Bearer
    assert as_bearer.status_code == 401 and as_bearer.json()["error"] == "invalid_token"
    other_key = post("DPoP", DpopKey())  # item 23: another client's key with this token
    assert other_key.status_code == 401 and other_key.json()["error"] == "invalid_token"
    response = post("DPoP", key)
    assert response.status_code == 200, response.text
    assert response.json()["credentials"][0]["credential"].count("~") >= 1
