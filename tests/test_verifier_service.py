"""The verifier service: transactions, the OpenID4VP endpoints, the JSON API and its commands.

OpenID4VP 1.0 §5 (VP-1, VP-2, VP-3, VP-5, VP-7), §8.2/§8.3 (VP-9, VP-10), §13.3/§14.2 (VP-16,
HAIP H-6) and SPECS §8 items 57, 82, 83 and 84. Presentations are real: credentials from the
issuer's signing code (conftest ``duo``), KB-JWTs from the wallet's code, direct_post.jwt
responses encrypted with verifier.jose.jwe_encrypt to the request's own key. The app runs with
Flask's test client, and over real HTTP on loopback where concurrency matters.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
import yaml
from conftest import AUDIENCE, ISSUER, NONCE, NOW, VCT, Duo
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

from keys.file_store import FileKeyStore, init_store
from verifier import jose
from verifier.cli import check as verifier_cli
from verifier.service import transactions
from verifier.service.app import Services, create_app
from verifier.service.config import VerifierSettings
from verifier.service.db import make_engine
from verifier.service.trust_source import TrustSource

VERIFIER_URL = "https://verifier.duo.test"
VERIFIER_HOST = "verifier.duo.test"
PATHS = ("given_name", "family_name")
QUERY = {
    "credentials": [
        {
            "id": "diploma",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [VCT]},
            "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}],
        }
    ]
}


class Clock:
    """The service's injected clock, moved by the expiry tests."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Service:
    app: Flask
    client: FlaskClient
    clock: Clock

    @property
    def svc(self) -> Services:
        found: Services = self.app.extensions["duo-verifier"]
        return found


@pytest.fixture(scope="module")
def verifier_keys(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    """The verifier's own store: its request-signing leaf names verifier.duo.test."""
    directory = tmp_path_factory.mktemp("verifier-keys")
    return init_store(directory, issuer=VERIFIER_URL, verifier_host=VERIFIER_HOST, now=NOW)


def _service(duo: Duo, keys: FileKeyStore, data_dir: Path, url: str) -> Service:
    clock = Clock()
    settings = VerifierSettings(data_dir=data_dir, public_url=VERIFIER_URL)
    app = create_app(
        settings,
        keys=keys,
        trust=TrustSource.offline(duo.trust, clock),
        engine=make_engine(url),
        clock=clock,
    )
    return Service(app, app.test_client(), clock)


@pytest.fixture
def service(duo: Duo, verifier_keys: FileKeyStore, tmp_path: Path) -> Iterator[Service]:
    made = _service(duo, verifier_keys, tmp_path, f"sqlite:///{tmp_path / 'verifier.sqlite3'}")
    yield made
    made.svc.engine.dispose()


# --- building wallet responses ------------------------------------------------------------------


def start(service: Service, **body: Any) -> dict[str, Any]:
    answer = service.client.post("/api/presentations", json={"dcql_query": QUERY, **body})
    assert answer.status_code == 201, answer.get_json()
    started: dict[str, Any] = answer.get_json()
    return started


def request_claims(service: Service, started: dict[str, Any]) -> dict[str, Any]:
    """The request object's claims, fetched from its request_uri (or read from the URI)."""
    if started["request_uri"] is None:
        query = parse_qs(urlsplit(started["authorization_request"]).query)
        claims = {k: v[0] for k, v in query.items()}
        for name in ("dcql_query", "client_metadata"):
            claims[name] = json.loads(claims[name])
        return claims
    answer = service.client.get(urlsplit(started["request_uri"]).path)
    assert answer.status_code == 200
    assert answer.mimetype == "application/oauth-authz-req+jwt"
    return jose.parse_compact(answer.get_data(as_text=True)).payload


def wallet_form(
    duo: Duo,
    claims: dict[str, Any],
    *,
    encrypt: bool | None = None,
    enc: str = "A128GCM",
    state: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The wallet's response to ``claims``: an SD-JWT+KB for query ``diploma`` (§8.1)."""
    presentation = duo.present(
        duo.issue(status="valid"),
        paths=PATHS,
        nonce=nonce or claims["nonce"],
        aud=claims["client_id"],
    )
    payload: dict[str, Any] = {"vp_token": {"diploma": [presentation]}}
    payload["state"] = state or claims["state"]
    if encrypt is None:
        encrypt = claims["response_mode"] == "direct_post.jwt"
    if not encrypt:
        return {"vp_token": json.dumps(payload["vp_token"]), "state": payload["state"]}
    key = claims["client_metadata"]["jwks"]["keys"][0]
    token = jose.jwe_encrypt(
        json.dumps(payload).encode(),
        recipient_jwk=key,
        alg="ECDH-ES",
        enc=enc,
        kid=key["kid"],
        zip_=None,
    )
    return {"response": token}


def respond(service: Service, claims: dict[str, Any], form: dict[str, str]) -> Any:
    return service.client.post(urlsplit(claims["response_uri"]).path, data=form)


def result(service: Service, started: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token or started['result_token']}"}
    return service.client.get(f"/api/presentations/{started['id']}", headers=headers)


def response_code(answer: Any, started: dict[str, Any]) -> str:
    """The code of the same-device redirect: an API start without redirect_uri is sent to the
    neutral done page."""
    target = urlsplit(answer.get_json()["redirect_uri"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"{VERIFIER_URL}/presentations/{started['id']}/done"
    )
    code: str = parse_qs(target.query)["response_code"][0]
    return code


# --- starting a transaction ---------------------------------------------------------------------


def test_start_returns_the_api_shape_and_a_signed_request(service: Service) -> None:
    """VP-1, VP-2, VP-3, VP-5 (x509_hash, HAIP §5): the Started object and the JAR it names."""
    started = start(service)
    assert set(started) == {
        "id",
        "authorization_request",
        "request_uri",
        "qr_url",
        "same_device_url",
        "result_token",
    }
    assert started["request_uri"] == f"{VERIFIER_URL}/oid4vp/request/{started['id']}"
    assert started["same_device_url"] == started["authorization_request"]
    assert started["qr_url"] == f"{VERIFIER_URL}/api/presentations/{started['id']}/qr.svg"
    link = urlsplit(started["authorization_request"])
    assert link.scheme == "openid4vp"
    parameters = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert parameters["request_uri"] == started["request_uri"]
    assert "request_uri_method" not in parameters
    raw = service.client.get(urlsplit(started["request_uri"]).path).get_data(as_text=True)
    jws = jose.parse_compact(raw)
    assert jws.header["typ"] == "oauth-authz-req+jwt"
    record = service.svc.keys.signing_key("verifier_request").record
    assert jws.header["x5c"] == list(record.x5c)
    jose.verify_signature(jws, jose.public_key_from_jwk(record.public_jwk), algorithms=["ES256"])
    claims = jws.payload
    assert claims["client_id"] == parameters["client_id"]
    assert claims["client_id"].startswith("x509_hash:")
    assert claims["response_mode"] == "direct_post.jwt"
    assert claims["response_uri"] == f"{VERIFIER_URL}/oid4vp/response/{started['id']}"
    assert len(claims["nonce"]) >= 22 and len(claims["state"]) >= 22  # >= 128 bits, URL-safe
    assert claims["dcql_query"] == QUERY
    key = claims["client_metadata"]["jwks"]["keys"][0]
    assert "d" not in key and key["alg"] == "ECDH-ES" and key["kid"]


def test_each_request_has_its_own_nonce_state_and_encryption_key(service: Service) -> None:
    """VP-2 fresh nonce per request; VP-10/H-6 an ephemeral response key per request."""
    first, second = (request_claims(service, start(service)) for _ in range(2))
    for name in ("nonce", "state"):
        assert first[name] != second[name]
    keys = [c["client_metadata"]["jwks"]["keys"][0]["x"] for c in (first, second)]
    assert keys[0] != keys[1]


def test_template_builds_the_query_for_the_trusted_issuer(service: Service) -> None:
    """VP-8: a template becomes a checked DCQL query asking DUO's vct."""
    answer = service.client.post("/api/presentations", json={"template": "diploma"})
    assert answer.status_code == 201
    claims = request_claims(service, answer.get_json())
    query = claims["dcql_query"]["credentials"][0]
    assert query["meta"]["vct_values"] == [VCT]
    assert ["institution", "name"] in [c["path"] for c in query["claims"]]


@pytest.mark.parametrize(
    "body",
    [
        {"dcql_query": QUERY, "template": "diploma"},
        {},
        {"dcql_query": {"credentials": []}},
        {"dcql_query": QUERY, "response_mode": "fragment"},
        {"dcql_query": QUERY, "client_id_prefix": "did"},
        {"dcql_query": QUERY, "request_uri_method": "put"},
        {"dcql_query": QUERY, "client_id_prefix": "redirect_uri", "request_uri_method": "post"},
        {"template": "passport"},
        {"template": "diploma", "claims": ["shoe_size"]},
        {"dcql_query": "text"},
    ],
)
def test_bad_start_requests_are_refused(service: Service, body: dict[str, Any]) -> None:
    """VP-8 and the API's own rules: 400 invalid_request, no transaction."""
    answer = service.client.post("/api/presentations", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_request"


def test_start_needs_a_json_body(service: Service) -> None:
    for data, kind in (("{", "application/json"), ("dcql_query=x", "text/plain")):
        answer = service.client.post("/api/presentations", data=data, content_type=kind)
        assert answer.status_code == 400


def test_qr_code_draws_the_pending_request(service: Service) -> None:
    started = start(service)
    answer = service.client.get(urlsplit(started["qr_url"]).path)
    assert answer.status_code == 200
    assert answer.mimetype == "image/svg+xml"
    assert b"<svg" in answer.get_data()
    assert service.client.get("/api/presentations/unknown/qr.svg").status_code == 404


# --- request_uri --------------------------------------------------------------------------------


def test_request_uri_can_be_fetched_twice(service: Service) -> None:
    """Suite module request-uri-fetched-twice: the same request object while pending."""
    started = start(service)
    path = urlsplit(started["request_uri"]).path
    first, second = service.client.get(path), service.client.get(path)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert first.headers["Cache-Control"] == "no-store"


def test_request_uri_method_post_echoes_the_wallet_nonce(service: Service) -> None:
    """VP-7 (§5.10.1): the form POST is answered with a JAR carrying wallet_nonce."""
    started = start(service, request_uri_method="post")
    assert "request_uri_method=post" in started["authorization_request"]
    path = urlsplit(started["request_uri"]).path
    form = {"wallet_metadata": json.dumps({"vp_formats_supported": {}}), "wallet_nonce": "w-123"}
    answer = service.client.post(path, data=form)
    assert answer.status_code == 200
    assert answer.mimetype == "application/oauth-authz-req+jwt"
    claims = jose.parse_compact(answer.get_data(as_text=True)).payload
    assert claims["wallet_nonce"] == "w-123"
    assert claims == {**request_claims(service, started), "wallet_nonce": "w-123"}
    assert "wallet_nonce" not in request_claims(service, started)  # GET still serves the JAR
    for bad in ({"wallet_metadata": "[1]"}, {"wallet_nonce": "x" * 300}):
        assert service.client.post(path, data=bad).status_code == 400


def test_request_uri_post_is_refused_for_a_get_request(service: Service) -> None:
    started = start(service)
    answer = service.client.post(urlsplit(started["request_uri"]).path, data={"wallet_nonce": "n"})
    assert answer.status_code == 405


def test_unknown_request_uri_is_404(service: Service) -> None:
    assert service.client.get("/oid4vp/request/no-such-id").status_code == 404
    assert service.client.get("/oid4vp/request/" + "%00").status_code == 404


# --- responses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_direct_post_jwt_with_x509_hash_ends_valid(service: Service, duo: Duo, enc: str) -> None:
    """VP-10/H-6 (both enc values), VP-9/VP-16: 200 JSON with redirect_uri; the verdict with
    the SHA-256 of the response JWE as received and the status list checked."""
    started = start(service)
    claims = request_claims(service, started)
    form = wallet_form(duo, claims, enc=enc)
    answer = respond(service, claims, form)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    code = response_code(answer, started)
    assert len(code) >= 22
    body = result(service, started).get_json()
    assert body["state"] == "done"
    verdict = body["verdict"]
    assert verdict["outcome"] == "valid", verdict
    assert set(verdict) == {"outcome", "checks", "credentials", "presentation_sha256"}
    assert verdict["presentation_sha256"] == hashlib.sha256(form["response"].encode()).hexdigest()
    [credential] = verdict["credentials"]
    assert credential["query_id"] == "diploma"
    assert credential["status_uris"] == [duo.refs["valid"].uri]
    assert credential["vct"] == VCT
    assert credential["claims"]["given_name"] == "Sanne Johanna"
    assert all({"name", "outcome", "code"} <= set(c) for c in verdict["checks"])


def test_direct_post_with_x509_san_dns_ends_valid(service: Service, duo: Duo) -> None:
    """VP-5 x509_san_dns: the client_id is the leaf's dNSName = the response_uri host; VP-9."""
    started = start(service, client_id_prefix="x509_san_dns", response_mode="direct_post")
    claims = request_claims(service, started)
    assert claims["client_id"] == f"x509_san_dns:{VERIFIER_HOST}"
    assert "jwks" not in claims["client_metadata"]
    form = wallet_form(duo, claims)
    answer = respond(service, claims, form)
    assert answer.status_code == 200
    verdict = result(service, started).get_json()["verdict"]
    assert verdict["outcome"] == "valid"
    # direct_post: the hash is of the vp_token form value (its JSON text) as received.
    assert verdict["presentation_sha256"] == hashlib.sha256(form["vp_token"].encode()).hexdigest()


def test_x509_san_dns_needs_the_public_host_in_the_certificate(duo: Duo, tmp_path: Path) -> None:
    """VP-5: a leaf for another dNSName cannot sign x509_san_dns requests for this host."""
    keys = init_store(tmp_path / "k", issuer=VERIFIER_URL, verifier_host="other.example", now=NOW)
    other = _service(duo, keys, tmp_path, f"sqlite:///{tmp_path / 'v.sqlite3'}")
    answer = other.client.post(
        "/api/presentations", json={"dcql_query": QUERY, "client_id_prefix": "x509_san_dns"}
    )
    assert answer.status_code == 400
    other.svc.engine.dispose()


def test_redirect_uri_prefix_is_unsigned_by_value(service: Service, duo: Duo) -> None:
    """VP-5: redirect_uri requests are never signed; the parameters travel by value."""
    started = start(service, client_id_prefix="redirect_uri", response_mode="direct_post")
    assert started["request_uri"] is None
    claims = request_claims(service, started)
    assert claims["client_id"] == f"redirect_uri:{claims['response_uri']}"
    assert "request" not in claims and "request_uri" not in claims
    assert service.client.get(f"/oid4vp/request/{started['id']}").status_code == 404
    answer = respond(service, claims, wallet_form(duo, claims))
    assert answer.status_code == 200
    assert result(service, started).get_json()["verdict"]["outcome"] == "valid"


def test_wrong_nonce_ends_the_transaction_invalid(service: Service, duo: Duo) -> None:
    """VP-13/item 74: the presentation is answered (200, redirect) but the verdict is invalid."""
    started = start(service)
    claims = request_claims(service, started)
    form = wallet_form(duo, claims, nonce=NONCE)
    answer = respond(service, claims, form)
    assert answer.status_code == 200
    body = result(service, started).get_json()
    assert body["state"] == "done"
    assert body["verdict"]["outcome"] == "invalid"
    assert body["verdict"]["credentials"] == []


def test_unknown_state_changes_nothing(service: Service, duo: Duo) -> None:
    """Item 57 (§14.3.2): a response with another state is 4xx; the transaction stays open."""
    started = start(service, response_mode="direct_post")
    claims = request_claims(service, started)
    answer = respond(service, claims, wallet_form(duo, claims, state="A" * 43))
    assert answer.status_code == 400
    assert result(service, started).get_json()["state"] == "pending"
    assert respond(service, claims, wallet_form(duo, claims)).status_code == 200


def test_replayed_response_is_refused_and_changes_nothing(service: Service, duo: Duo) -> None:
    """Item 57: the second response to a closed transaction is 4xx; the verdict stands."""
    started = start(service)
    claims = request_claims(service, started)
    form = wallet_form(duo, claims)
    assert respond(service, claims, form).status_code == 200
    before = result(service, started).get_json()
    again = respond(service, claims, form)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_request"
    assert result(service, started).get_json() == before
    assert service.client.get(urlsplit(started["request_uri"]).path).status_code == 400


def test_wallet_error_fails_the_transaction(service: Service) -> None:
    """Item 84 (§8.2, §8.5): error=access_denied is answered 200 JSON; the UI shows failed."""
    started = start(service, response_mode="direct_post")
    claims = request_claims(service, started)
    form = {"error": "access_denied", "error_description": "user said no", "state": claims["state"]}
    answer = respond(service, claims, form)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert "redirect_uri" in answer.get_json()
    body = result(service, started).get_json()
    assert (body["state"], body["verdict"], body["error"]) == ("failed", None, "access_denied")


def test_unknown_wallet_error_is_recorded_generically(service: Service) -> None:
    started = start(service, response_mode="direct_post")
    claims = request_claims(service, started)
    respond(service, claims, {"error": "<script>", "state": claims["state"]})
    assert result(service, started).get_json()["error"] == "wallet_error_unknown"


def test_plaintext_vp_token_under_direct_post_jwt_is_rejected(service: Service, duo: Duo) -> None:
    """Item 82: direct_post.jwt was asked for; a plaintext vp_token fails, never succeeds."""
    started = start(service)
    claims = request_claims(service, started)
    answer = respond(service, claims, wallet_form(duo, claims, encrypt=False))
    assert answer.status_code == 400
    body = result(service, started).get_json()
    assert body["state"] == "failed" and body["verdict"] is None and body["error"]


def test_jwe_for_another_key_is_refused(service: Service, duo: Duo) -> None:
    """Item 82: a JWE with an unknown kid cannot be read; 4xx, the transaction unchanged."""
    started, other = start(service), start(service)
    claims, other_claims = request_claims(service, started), request_claims(service, other)
    form = wallet_form(duo, {**claims, "client_metadata": other_claims["client_metadata"]})
    assert respond(service, claims, form).status_code == 400
    assert result(service, started).get_json()["state"] == "pending"


@pytest.mark.parametrize(
    "form",
    [
        {"vp_token": "not json", "state": "s"},
        {"response": "a.b.c.d.e"},
        {},
    ],
)
def test_malformed_responses_are_refused(service: Service, form: dict[str, str]) -> None:
    """Bad input: a clear 4xx JSON error, never a 500 and never success."""
    for mode in ("direct_post", "direct_post.jwt"):
        started = start(service, response_mode=mode)
        answer = service.client.post(f"/oid4vp/response/{started['id']}", data=form)
        assert 400 <= answer.status_code < 500
        assert "error" in answer.get_json()
        assert result(service, started).get_json()["state"] in {"pending", "failed"}


_FORM_NAMES = st.sampled_from(["vp_token", "state", "response", "error", "error_description", "x"])
_FORM_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["{}", '{"diploma": []}', '{"diploma": ["a~b~"]}', "a.b.c.d.e", "[]", "null"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.dictionaries(_FORM_NAMES, _FORM_VALUES, max_size=4), encrypted=st.booleans())
def test_hostile_responses_never_succeed_or_crash(
    service: Service, form: dict[str, str], encrypted: bool
) -> None:
    """Issue 4 "Bad input": any form gets a JSON answer below 500 and never a valid verdict."""
    mode = "direct_post.jwt" if encrypted else "direct_post"
    started = start(service, response_mode=mode)
    claims = request_claims(service, started)
    if "state" in form:
        form = {**form, "state": claims["state"]}  # also bind some of them to the transaction
    answer = respond(service, claims, form)
    assert answer.status_code < 500 and "application/json" in answer.content_type
    body = result(service, started).get_json()
    assert body["state"] in {"pending", "done", "failed"}
    assert body["verdict"] is None or body["verdict"]["outcome"] != "valid"


def test_response_must_be_form_urlencoded(service: Service) -> None:
    """VP-9: the response body is application/x-www-form-urlencoded."""
    started = start(service, response_mode="direct_post")
    path = f"/oid4vp/response/{started['id']}"
    assert service.client.post(path, json={"vp_token": {}}).status_code == 400
    repeated = "state=a&state=b"
    kind = "application/x-www-form-urlencoded"
    assert service.client.post(path, data=repeated, content_type=kind).status_code == 400
    assert service.client.post("/oid4vp/response/unknown", data={"state": "x"}).status_code == 404


def test_result_needs_the_response_code(service: Service, duo: Duo) -> None:
    """Item 83 (§14.2, VP-16): only the response_code from the redirect unlocks the result."""
    started = start(service)
    claims = request_claims(service, started)
    code = response_code(respond(service, claims, wallet_form(duo, claims)), started)
    svc, tid = service.svc, started["id"]
    assert transactions.redeem_response_code(svc, tid, code)
    assert transactions.redeem_response_code(svc, tid, code)  # a reload shows it again
    assert not transactions.redeem_response_code(svc, tid, None)
    altered = code[:-1] + ("A" if code[-1] != "A" else "B")  # never the code itself
    assert not transactions.redeem_response_code(svc, tid, altered)
    assert not transactions.redeem_response_code(svc, start(service)["id"], code)
    pending = start(service)
    assert not transactions.redeem_response_code(svc, pending["id"], code)


# --- the result API -----------------------------------------------------------------------------


def test_result_token_protects_the_result(service: Service) -> None:
    """VP-16 (§14.3.3): 401 without the token, 403 with another transaction's, 404 unknown."""
    started, other = start(service), start(service)
    path = f"/api/presentations/{started['id']}"
    missing = service.client.get(path)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert service.client.get(path, headers={"Authorization": "Basic abc"}).status_code == 401
    assert result(service, started, other["result_token"]).status_code == 403
    own = result(service, started)
    assert own.status_code == 200
    assert own.get_json() == {"state": "pending", "verdict": None, "error": None}
    assert own.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {started['result_token']}"}
    assert service.client.get("/api/presentations/nope", headers=headers).status_code == 404


def test_transactions_expire(service: Service, duo: Duo) -> None:
    """Issue 4 item 1: transactions expire; request_uri and response_uri refuse, state expired."""
    started = start(service)
    claims = request_claims(service, started)
    form = wallet_form(duo, claims)
    lifetime = service.svc.settings.transaction_lifetime
    service.clock.now = NOW + lifetime + timedelta(seconds=1)
    assert service.client.get(urlsplit(started["request_uri"]).path).status_code == 400
    assert respond(service, claims, form).status_code == 400
    assert result(service, started).get_json()["state"] == "expired"


def test_responded_at_is_the_time_of_the_response(service: Service, duo: Duo) -> None:
    """Issue 4 (the report's time): the view carries when the response arrived."""
    started = start(service)
    claims = request_claims(service, started)
    pending = transactions.load(service.svc, started["id"])
    assert pending is not None and pending.responded_at is None
    service.clock.now = NOW + timedelta(minutes=3)
    respond(service, claims, wallet_form(duo, claims))
    view = transactions.load(service.svc, started["id"])
    assert view is not None and view.responded_at == NOW + timedelta(minutes=3)
    assert view.created_at == NOW


# --- the same-device redirect of API transactions ---------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://ats.example/return", "https://ats.example/return?response_code="),
        ("https://ats.example/r?job=7", "https://ats.example/r?job=7&response_code="),
        ("http://127.0.0.1:8123/cb", "http://127.0.0.1:8123/cb?response_code="),
        ("http://localhost:3000/cb", "http://localhost:3000/cb?response_code="),
        ("http://[::1]/cb", "http://[::1]/cb?response_code="),
    ],
)
def test_api_redirect_uri_receives_the_response_code(
    service: Service, duo: Duo, given: str, expected: str
) -> None:
    """§13.3, VP-16: an API start with redirect_uri sends the wallet's browser there with the
    response_code; GET with the result token and that code answers, with another code 403."""
    started = start(service, redirect_uri=given)
    claims = request_claims(service, started)
    target = respond(service, claims, wallet_form(duo, claims)).get_json()["redirect_uri"]
    assert target.startswith(expected)
    code = parse_qs(urlsplit(target).query)["response_code"][0]
    assert len(code) >= 22
    assert result(service, started).status_code == 200  # the result token alone is enough
    path = f"/api/presentations/{started['id']}"
    bearer = {"Authorization": f"Bearer {started['result_token']}"}
    proven = service.client.get(path, query_string={"response_code": code}, headers=bearer)
    assert proven.status_code == 200 and proven.get_json()["verdict"]["outcome"] == "valid"
    for wrong in (code[:-1] + ("A" if code[-1] != "A" else "B"), "", "x" * 200):
        answer = service.client.get(path, query_string={"response_code": wrong}, headers=bearer)
        assert answer.status_code == 403
        assert answer.get_json()["error"] == "invalid_response_code"
    no_token = service.client.get(path, query_string={"response_code": code})
    assert no_token.status_code == 401  # the code never replaces the result token


def test_response_code_of_a_pending_transaction_is_refused(service: Service) -> None:
    started = start(service, redirect_uri="https://ats.example/return")
    path = f"/api/presentations/{started['id']}"
    bearer = {"Authorization": f"Bearer {started['result_token']}"}
    answer = service.client.get(path, query_string={"response_code": "A" * 43}, headers=bearer)
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "given",
    [
        "http://ats.example/return",  # plain http off loopback
        "http://10.0.0.1/return",
        "ftp://ats.example/return",
        "javascript:alert(1)",
        "/presentations/relative",
        "https:///no-host",
        "https://ats.example/return#fragment",
        "https://user@ats.example/return",
        "https://ats.example:99999/return",
        "https://ats.example/return?response_code=planted",
        "https://ats.example/ré",
        "https://ats.example/a b",
        "https://ats.example/" + "a" * 2000,
        "",
        5,
    ],
)
def test_bad_redirect_uris_are_refused(service: Service, given: Any) -> None:
    """Only the integrator's https URL (or http on loopback) is a redirect target."""
    answer = service.client.post(
        "/api/presentations", json={"dcql_query": QUERY, "redirect_uri": given}
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"
    with service.svc.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM vp_transactions").scalar() == 0


def test_transaction_row_keeps_no_secret_in_the_clear(service: Service, duo: Duo) -> None:
    """Result token and response code are stored as digests; the decryption key is dropped."""
    started = start(service)
    claims = request_claims(service, started)
    code = response_code(respond(service, claims, wallet_form(duo, claims)), started)
    with service.svc.engine.connect() as conn:
        row = (
            conn.exec_driver_sql("SELECT * FROM vp_transactions WHERE id = ?", (started["id"],))
            .mappings()
            .one()
        )
    text = json.dumps({k: str(v) for k, v in row.items()})
    assert started["result_token"] not in text and code not in text
    assert row["encryption_jwk"] is None


# --- concurrency over real HTTP ------------------------------------------------------------------


def test_one_response_wins_under_concurrent_posts(
    duo: Duo, verifier_keys: FileKeyStore, tmp_path: Path, database: Any
) -> None:
    """Single use (shared/DESIGN.md §4): two simultaneous responses, exactly one accepted.

    Real HTTP on loopback (werkzeug, threaded), on SQLite and PostgreSQL.
    """
    made = _service(duo, verifier_keys, tmp_path, database.url)
    server = make_server("127.0.0.1", 0, made.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with requests.Session() as http:
            answer = http.post(f"{base}/api/presentations", json={"dcql_query": QUERY}, timeout=10)
            started = answer.json()
            raw = http.get(base + urlsplit(started["request_uri"]).path, timeout=10).text
        claims = jose.parse_compact(raw).payload
        form = wallet_form(duo, claims)
        barrier, statuses = threading.Barrier(2), []

        def post() -> None:
            with requests.Session() as http:
                barrier.wait()
                url = base + urlsplit(claims["response_uri"]).path
                statuses.append(http.post(url, data=form, timeout=20).status_code)

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 400]
        with requests.Session() as http:
            headers = {"Authorization": f"Bearer {started['result_token']}"}
            url = f"{base}/api/presentations/{started['id']}"
            assert http.get(url, headers=headers, timeout=10).json()["state"] == "done"
    finally:
        server.shutdown()
        server.server_close()
        made.svc.engine.dispose()


# --- wallet-less verification ---------------------------------------------------------------------


def test_upload_without_kb_jwt_reports_binding_not_proven(service: Service, duo: Duo) -> None:
    """Issue 4: an uploaded credential is checked for everything but holder binding."""
    answer = service.client.post("/api/verify", json={"credential": duo.issue(status="valid")})
    assert answer.status_code == 200
    verdict = answer.get_json()
    assert verdict["outcome"] == "valid"
    binding = [c for c in verdict["checks"] if c["name"] == "holder_binding"]
    assert binding == [
        {"name": "holder_binding", "outcome": "not_proven", "code": "kb_jwt_missing"}
    ]
    [credential] = verdict["credentials"]
    assert credential["query_id"] is None and credential["format"] == "dc+sd-jwt"
    assert credential["vct"] == VCT and credential["issuer"] == ISSUER
    assert credential["status_uris"] == [duo.refs["valid"].uri]
    assert "presentation_sha256" not in verdict  # the uploader has the text it sent


def test_upload_with_kb_jwt_and_nonce_proves_binding(service: Service, duo: Duo) -> None:
    """VP-14: with nonce and aud, holder binding is required and checked."""
    presented = duo.present(duo.issue(status="valid"))
    body = {"credential": presented, "nonce": NONCE, "aud": AUDIENCE}
    verdict = service.client.post("/api/verify", json=body).get_json()
    assert verdict["outcome"] == "valid"
    assert {"name": "holder_binding", "outcome": "passed", "code": None} in verdict["checks"]
    wrong = service.client.post("/api/verify", json={**body, "nonce": "another-nonce"}).get_json()
    assert wrong["outcome"] == "invalid" and wrong["credentials"] == []


def test_upload_of_a_revoked_or_broken_credential_is_invalid(service: Service, duo: Duo) -> None:
    """Item 79 through the API; any text gives a verdict."""
    for text in (duo.issue(status="revoked"), "not a credential"):
        verdict = service.client.post("/api/verify", json={"credential": text}).get_json()
        assert verdict["outcome"] == "invalid" and verdict["credentials"] == []


@pytest.mark.parametrize(
    "body", [{}, {"credential": 5}, {"credential": "x", "nonce": "n"}, {"credential": ""}]
)
def test_bad_upload_requests_are_refused(service: Service, body: dict[str, Any]) -> None:
    answer = service.client.post("/api/verify", json=body)
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"


# --- commands -----------------------------------------------------------------------------------


def test_keys_init_makes_the_request_key_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duo-verifier keys init``: the dNSName, the x509_hash client_id; an existing store kept."""
    argv = [
        "keys",
        "init",
        "--data-dir",
        str(tmp_path),
        "--dns-name",
        "verifier.example.org",
        "--json",
    ]
    assert verifier_cli.main(argv) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["created"] and made["dns_name"] == "verifier.example.org"
    assert made["client_id"].startswith("x509_hash:")
    assert Path(made["key_dir"]) == tmp_path / "verifier" / "keys"
    assert verifier_cli.main(argv) == 0
    kept = json.loads(capsys.readouterr().out)
    assert not kept["created"] and kept["kid"] == made["kid"]


def test_keys_init_defaults_the_dns_name_to_the_public_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["keys", "init", "--data-dir", str(tmp_path), "--json"]
    assert verifier_cli.main([*argv, "--public-url", "https://check.example.eu"]) == 0
    assert json.loads(capsys.readouterr().out)["dns_name"] == "check.example.eu"
    other = tmp_path / "loopback"
    assert verifier_cli.main(["keys", "init", "--data-dir", str(other), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dns_name"] == "localhost"
    bad = ["keys", "init", "--data-dir", str(tmp_path / "bad"), "--dns-name", "Not A Name"]
    assert verifier_cli.main(bad) == 1
    assert "verifier_host_invalid" in capsys.readouterr().err


def test_serve_refuses_to_start_without_a_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """shared/DESIGN.md §6: the verifier trusts nothing by default."""
    monkeypatch.delenv("DUO_VERIFIER_BUNDLE", raising=False)
    assert verifier_cli.main(["serve", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "--bundle" in err and "bundle_missing" in err


def test_serve_builds_the_app_from_a_bundle_file(
    duo: Duo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve``'s preparation: keys made, the bundle opened, an app that verifies uploads."""
    from verifier.cli import serve

    monkeypatch.delenv("DUO_VERIFIER_PUBLIC_URL", raising=False)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(duo.bundle))
    args = verifier_cli._parser().parse_args(
        [
            "serve",
            "--data-dir",
            str(tmp_path),
            "--bundle",
            str(bundle),
            "--port",
            "8123",
            "--allow-host",
            "127.0.0.1:9000",
        ]
    )
    settings = serve.settings_from(args)
    assert settings.public_url == "http://127.0.0.1:8123"
    assert settings.allow_hosts == ("127.0.0.1:9000",)
    serve.prepare(settings)
    assert FileKeyStore.exists(settings.data_dir)
    app = serve.build_app(settings)
    answer = app.test_client().post("/api/verify", json={"credential": duo.issue(status="valid")})
    assert answer.status_code == 200
    assert answer.get_json()["outcome"] in {"valid", "undetermined"}
    app.extensions["duo-verifier"].engine.dispose()


# --- docs/api.md ----------------------------------------------------------------------------------


def _openapi() -> dict[str, Any]:
    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    document: dict[str, Any] = yaml.safe_load(block)
    return document


def _conforms(document: dict[str, Any], name: str, value: Any) -> None:
    """``value`` is valid against components/schemas/``name`` (OpenAPI 3.1: JSON Schema 2020-12)."""
    schema = {**document, "$ref": f"#/components/schemas/{name}"}
    jsonschema.Draft202012Validator(schema).validate(value)


def test_api_doc_lists_every_route(service: Service) -> None:
    """docs/api.md: an OpenAPI 3.1 document naming each API and OpenID4VP route and method."""
    document = _openapi()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    served = set()
    for rule in service.app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/oid4vp/")):
            path = rule.rule.replace("<transaction_id>", "{id}")
            served |= {(path, m) for m in rule.methods or () if m not in {"HEAD", "OPTIONS"}}
    assert served == documented


def test_api_answers_match_the_documented_schemas(service: Service, duo: Duo) -> None:
    document = _openapi()
    started = start(service)
    _conforms(document, "Started", started)
    _conforms(document, "Result", result(service, started).get_json())
    claims = request_claims(service, started)
    respond(service, claims, wallet_form(duo, claims))
    done = result(service, started).get_json()
    verdict = done["verdict"]
    assert verdict["presentation_sha256"] and verdict["credentials"][0]["status_uris"]
    _conforms(document, "Result", done)
    upload = service.client.post("/api/verify", json={"credential": duo.issue(status="valid")})
    _conforms(document, "Verdict", upload.get_json())
    redirect = start(service, client_id_prefix="redirect_uri", response_mode="direct_post")
    _conforms(document, "Started", redirect)
    _conforms(document, "Started", start(service, redirect_uri="https://ats.example/return"))
    for example in document["paths"]["/api/presentations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"].values():
        _conforms(document, "StartRequest", example["value"])
    with pytest.raises(jsonschema.ValidationError):
        _conforms(document, "Verdict", {"outcome": "fine", "checks": [], "credentials": []})
