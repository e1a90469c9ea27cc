"""Issuer metadata: OpenID4VCI 1.0 §12.2 (VCI-8..14), HAIP 1.0 §4.1 (H-3), RFC 8414, SD-JWT VC.

Most tests use the Flask test client of an app whose issuer identifier is a real https URL (so
the https rules are checked as written); the real-HTTP tests run on loopback, where the issuer
identifier is http and the rule becomes "every URL starts with the issuer identifier".
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from issuer_support import Database, LiveIssuer

from issuer.app import create_app
from issuer.config import Settings
from issuer.credentials.signing import sign_sd_jwt_vc
from issuer.db import make_engine
from issuer.oid4vci.configurations import CONFIGURATIONS
from issuer.oid4vci.metadata import well_known_url
from keys.file_store import FileKeyStore, init_store
from schemas import loader
from verifier import jose
from verifier.errors import InvalidCredential
from verifier.x509_trust import load_anchors_pem, validate_chain

ISSUER = "https://issuer.duo.test"
PATH_ISSUER = "https://duo.test/issuer"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ENDPOINT_NAMES = (
    "credential_endpoint",
    "nonce_endpoint",
    "deferred_credential_endpoint",
    "notification_endpoint",
)


def _app(tmp_path: Path, issuer: str) -> tuple[Flask, FileKeyStore]:
    data = tmp_path / "data"
    keys = init_store(data, issuer=issuer, verifier_host="verifier.duo.test", now=NOW)
    settings = Settings(data_dir=data, public_url=issuer)
    engine = make_engine(f"sqlite:///{tmp_path / 'duo.sqlite3'}")
    return create_app(settings, engine=engine, keys=keys, clock=lambda: NOW), keys


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Flask, FileKeyStore]]:
    made, keys = _app(tmp_path, ISSUER)
    yield made, keys
    made.extensions["duo"].engine.dispose()


@pytest.fixture
def client(app: tuple[Flask, FileKeyStore]) -> FlaskClient:
    return app[0].test_client()


def _metadata(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/.well-known/openid-credential-issuer")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


# --- real HTTP, both databases ---------------------------------------------------------------


def test_metadata_over_http(live_issuer: LiveIssuer) -> None:
    """VCI-8, VCI-9: 200 application/json; credential_issuer = the identifier fetched with."""
    with requests.Session() as http:
        response = http.get(f"{live_issuer.url}/.well-known/openid-credential-issuer", timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        document = response.json()
        assert document["credential_issuer"] == live_issuer.url
        for name in ENDPOINT_NAMES:  # loopback: http, so "starts with the identifier"
            assert document[name].startswith(live_issuer.url + "/")
        signed = http.get(
            f"{live_issuer.url}/.well-known/openid-credential-issuer",
            headers={"Accept": "application/jwt"},
            timeout=5,
        )
        assert signed.status_code == 200
        assert signed.headers["Content-Type"] == "application/jwt"
        assert jose.parse_compact(signed.text).payload["sub"] == live_issuer.url
        as_metadata = http.get(
            f"{live_issuer.url}/.well-known/oauth-authorization-server", timeout=5
        )
        assert as_metadata.json()["issuer"] == live_issuer.url


# --- credential issuer metadata ----------------------------------------------------------------


def test_endpoints_are_https_urls_of_the_issuer(client: FlaskClient) -> None:
    """VCI-9: credential_endpoint required; every endpoint https; no authorization_servers."""
    document = _metadata(client)
    assert document["credential_issuer"] == ISSUER
    assert document["credential_endpoint"] == f"{ISSUER}/credential"
    assert document["nonce_endpoint"] == f"{ISSUER}/nonce"  # H-3: binding needs a nonce endpoint
    assert document["deferred_credential_endpoint"] == f"{ISSUER}/deferred_credential"
    assert document["notification_endpoint"] == f"{ISSUER}/notification"
    for name in ENDPOINT_NAMES:
        assert document[name].startswith("https://")
    assert "authorization_servers" not in document  # the issuer is its own AS (VCI-4)


def test_every_configuration_is_listed_with_format_and_scope(client: FlaskClient) -> None:
    """VCI-10, VCI-14, H-3: format, vct / credential_definition, one scope per configuration."""
    configurations = _metadata(client)["credential_configurations_supported"]
    assert set(configurations) == set(CONFIGURATIONS)
    scopes = [c["scope"] for c in configurations.values()]
    assert len(scopes) == len(set(scopes)) and all(scopes)
    for config_id, entry in configurations.items():
        configuration = CONFIGURATIONS[config_id]
        assert entry["format"] == configuration.format
        assert entry["format"] != "vc+sd-jwt"  # suite: the old media type is refused
        if entry["format"] == "dc+sd-jwt":
            assert entry["vct"] == loader.vct_for(configuration.type_name, ISSUER)
            assert "credential_definition" not in entry
        else:
            assert entry["credential_definition"]["type"] == [
                "VerifiableCredential",
                "EuropeanDigitalCredential",
            ]
            assert "vct" not in entry
    assert configurations["diploma_jwt_vc_json"]["format"] == "jwt_vc_json"


def test_binding_and_proof_types_go_together(client: FlaskClient) -> None:
    """VCI-10: binding methods ⇔ proof_types_supported, each with non-empty algs; no
    key_attestations_required (attestation is not demanded); H-9 ES256."""
    for entry in _metadata(client)["credential_configurations_supported"].values():
        assert entry["cryptographic_binding_methods_supported"] == ["jwk"]
        assert entry["credential_signing_alg_values_supported"] == ["ES256"]
        assert set(entry["proof_types_supported"]) == {"jwt", "attestation"}
        for proof in entry["proof_types_supported"].values():
            assert proof["proof_signing_alg_values_supported"] == ["ES256"]
            assert "key_attestations_required" not in proof


def test_required_key_attestation_is_advertised() -> None:
    """VCI-10: key_attestations_required appears only when attestation is needed (VCI-30)."""
    from issuer.oid4vci.metadata import credential_issuer_metadata

    document = credential_issuer_metadata("https://issuer.example", key_attestations_required=True)
    for entry in document["credential_configurations_supported"].values():
        for proof in entry["proof_types_supported"].values():
            assert proof["key_attestations_required"] == {}


def _assert_displays(displays: list[dict[str, Any]]) -> None:
    locales = [d["locale"] for d in displays]
    assert len(locales) == len(set(locales)), "at most one display per locale (VCI-11)"
    assert {"nl", "en"} <= set(locales)
    for display in displays:
        assert isinstance(display["name"], str) and display["name"]
        if "logo" in display:
            assert "uri" in display["logo"]


def test_batch_and_display(client: FlaskClient) -> None:
    """VCI-11, H-3: batch_size ≥ 2; one display per locale with a name (issuer and credential)."""
    document = _metadata(client)
    assert document["batch_credential_issuance"] == {"batch_size": 10}
    _assert_displays(document["display"])
    for config_id, entry in document["credential_configurations_supported"].items():
        displays = entry["credential_metadata"]["display"]
        _assert_displays(displays)
        document_names = {
            d["locale"]: d["name"]
            for d in loader.type_metadata(CONFIGURATIONS[config_id].type_name, ISSUER)["display"]
        }
        assert {d["locale"]: d["name"] for d in displays} == document_names


def _check_claims(claims: list[dict[str, Any]]) -> None:
    """App. B.3 rules: a non-empty path; no claim twice; no object/array conflict."""
    paths = [tuple(c["path"]) for c in claims]
    assert all(paths) and len(paths) == len(set(paths))
    kinds: dict[tuple[Any, ...], set[str]] = {}
    for path in paths:
        for depth in range(1, len(path)):
            step = path[depth]
            kind = "object" if isinstance(step, str) else "array"
            assert step is None or isinstance(step, str | int)
            kinds.setdefault(path[:depth], set()).add(kind)
    assert all(len(found) == 1 for found in kinds.values()), kinds


def test_claims_descriptions(client: FlaskClient) -> None:
    """VCI-13: claims of each SD-JWT VC configuration, from the type metadata (App. B.2/B.3)."""
    configurations = _metadata(client)["credential_configurations_supported"]
    for config_id, entry in configurations.items():
        configuration = CONFIGURATIONS[config_id]
        if configuration.format != "dc+sd-jwt":
            assert "claims" not in entry["credential_metadata"]
            continue
        claims = entry["credential_metadata"]["claims"]
        _check_claims(claims)
        published = loader.type_metadata(configuration.type_name, ISSUER)["claims"]
        assert [c["path"] for c in claims] == [c["path"] for c in published]
        for claim in claims:
            assert set(claim) <= {"path", "mandatory", "display"}
            if "display" in claim:
                _assert_displays(claim["display"])


@pytest.mark.parametrize(
    "claims",
    [
        [{"path": []}],
        [{"path": ["a"]}, {"path": ["a"]}],
        [{"path": ["a", "b"]}, {"path": ["a", None]}],
        [{"path": ["a", 0]}, {"path": ["a", "x"]}],
    ],
)
def test_claims_checker_rejects_conflicts(claims: list[dict[str, Any]]) -> None:
    """VCI-13 negative: the checker used above does catch each rule's violation."""
    with pytest.raises(AssertionError):
        _check_claims(claims)


def test_encryption_metadata_when_the_module_is_installed(client: FlaskClient) -> None:
    """VCI-11 encryption: alg/enc values and encryption_required; request jwks with unique kids."""
    document = _metadata(client)
    if importlib.util.find_spec("issuer.oid4vci.encryption") is None:
        assert "credential_response_encryption" not in document
        pytest.skip("issuer.oid4vci.encryption is not installed yet")
    response_enc = document["credential_response_encryption"]
    assert response_enc["alg_values_supported"] and response_enc["enc_values_supported"]
    assert isinstance(response_enc["encryption_required"], bool)
    request_enc = document["credential_request_encryption"]
    kids = [key["kid"] for key in request_enc["jwks"]["keys"]]
    assert kids and len(kids) == len(set(kids))
    assert request_enc["enc_values_supported"]
    assert isinstance(request_enc["encryption_required"], bool)


# --- signed metadata (§12.2.3) -----------------------------------------------------------------


def test_signed_metadata(app: tuple[Flask, FileKeyStore]) -> None:
    """VCI-12: typ, ES256, x5c chain without anchor, sub, iat, every parameter top-level."""
    flask_app, keys = app
    client = flask_app.test_client()
    unsigned = _metadata(client)
    response = client.get(
        "/.well-known/openid-credential-issuer", headers={"Accept": "application/jwt"}
    )
    assert response.status_code == 200 and response.mimetype == "application/jwt"
    assert "Accept" in response.headers["Vary"]
    jws = jose.parse_compact(response.get_data(as_text=True))
    assert jws.header["typ"] == "openidvci-issuer-metadata+jwt"
    assert jws.header["alg"] == "ES256"
    # HAIP §4.1: x5c validates to DUO's root, which it does not include; the leaf is not self-signed
    leaf = validate_chain(
        jws.header["x5c"], load_anchors_pem(keys.anchors_pem()), now=NOW + timedelta(days=1)
    )
    jose.verify_signature(jws, leaf.public_key(), algorithms=["ES256"])
    assert jws.payload["sub"] == ISSUER
    assert jws.payload["iat"] == int(NOW.timestamp())
    for name, value in unsigned.items():
        assert jws.payload[name] == value


def test_signed_metadata_signature_is_checked(app: tuple[Flask, FileKeyStore]) -> None:
    """VCI-12 negative: a changed claim no longer verifies against the x5c leaf."""
    flask_app, keys = app
    response = flask_app.test_client().get(
        "/.well-known/openid-credential-issuer", headers={"Accept": "application/jwt"}
    )
    head, body, signature = response.get_data(as_text=True).split(".")
    payload = jose.parse_compact(f"{head}.{body}.{signature}").payload
    payload["credential_endpoint"] = "https://attacker.example/credential"
    forged_body = jose.b64url_encode(json.dumps(payload).encode())
    forged = jose.parse_compact(f"{head}.{forged_body}.{signature}")
    leaf = validate_chain(
        forged.header["x5c"], load_anchors_pem(keys.anchors_pem()), now=NOW + timedelta(days=1)
    )
    with pytest.raises(InvalidCredential) as raised:
        jose.verify_signature(forged, leaf.public_key(), algorithms=["ES256"])
    assert raised.value.code == "signature_invalid"


@pytest.mark.parametrize(
    "accept", [None, "application/json", "*/*", "application/jwt;q=0.1, application/json"]
)
def test_unsigned_unless_jwt_is_preferred(client: FlaskClient, accept: str | None) -> None:
    """VCI-8: unsigned JSON is the default; the JWT only when the client prefers it."""
    headers = {"Accept": accept} if accept else {}
    response = client.get("/.well-known/openid-credential-issuer", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/json"


# --- authorization server metadata (RFC 8414) --------------------------------------------------


def test_authorization_server_metadata(client: FlaskClient) -> None:
    """VCI-14, H-2, H-3: RFC 8414 metadata with PAR, PKCE S256, DPoP, RFC 9207, pre-auth grant."""
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["issuer"] == ISSUER
    assert document["token_endpoint"] == f"{ISSUER}/token"
    assert document["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert document["pushed_authorization_request_endpoint"] == f"{ISSUER}/par"
    assert document["require_pushed_authorization_requests"] is True
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["dpop_signing_alg_values_supported"] == ["ES256"]
    assert set(document["grant_types_supported"]) == {
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:pre-authorized_code",
    }
    assert document["pre-authorized_grant_anonymous_access_supported"] is True
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["response_types_supported"] == ["code"]
    assert document["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth", "none"]
    scopes = {c.scope for c in CONFIGURATIONS.values()}
    assert set(document["scopes_supported"]) == scopes
    for name, value in document.items():
        if name.endswith("_endpoint"):
            assert value.startswith(ISSUER + "/")


# --- JWT VC issuer metadata and type metadata (SD-JWT VC) --------------------------------------


def test_jwt_vc_issuer_lists_every_issuer_key(app: tuple[Flask, FileKeyStore]) -> None:
    """SD-JWT VC §4: issuer + jwks; a rotated (retired) key stays published (DESIGN §6)."""
    flask_app, keys = app
    old = keys.history("issuer")[-1]
    keys.rotate("issuer", now=NOW)
    document = flask_app.test_client().get("/.well-known/jwt-vc-issuer").get_json()
    assert document["issuer"] == ISSUER
    published = document["jwks"]["keys"]
    assert [k["kid"] for k in published] == [r.kid for r in keys.history("issuer")]
    assert old.kid in {k["kid"] for k in published} and len(published) == 2
    for jwk, record in zip(published, keys.history("issuer"), strict=True):
        assert jwk["alg"] == "ES256" and jwk["use"] == "sig"
        assert jwk["x5c"] == list(record.x5c)
        assert "d" not in jwk
        assert jose.jwk_thumbprint(jwk) == jose.jwk_thumbprint(record.public_jwk)


def test_type_metadata_bytes_match_the_credential_integrity(
    app: tuple[Flask, FileKeyStore],
) -> None:
    """SD-JWT VC §6/§10: the vct URL serves the exact bytes that vct#integrity pins."""
    flask_app, keys = app
    client = flask_app.test_client()
    for type_name in loader.CREDENTIAL_TYPES:
        credential = sign_sd_jwt_vc(
            type_name,
            loader.example_claims(type_name),
            keys=keys,
            issuer=ISSUER,
            holder_jwk=None,
            status=None,
            now=NOW,
        )
        payload = jose.parse_compact(credential.split("~")[0]).payload
        assert payload["vct"].startswith(ISSUER + "/")
        response = client.get(payload["vct"].removeprefix(ISSUER))
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.get_data() == loader.type_metadata_document(type_name, ISSUER)
        assert loader.integrity_of(response.get_data()) == payload["vct#integrity"]


def test_unknown_type_metadata_is_404(client: FlaskClient) -> None:
    response = client.get("/vct/passport")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


# --- the "{/path}" insertion rule (§12.2.2, RFC 8414 §3.1) --------------------------------------


@pytest.mark.parametrize(
    "name", ["openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer"]
)
def test_well_known_paths_for_an_issuer_with_a_path(tmp_path: Path, name: str) -> None:
    """VCI-8: https://host/.well-known/<name>/issuer for the identifier https://host/issuer."""
    flask_app, _ = _app(tmp_path, PATH_ISSUER)
    try:
        client = flask_app.test_client()
        url = well_known_url(PATH_ISSUER, name)
        assert url == f"https://duo.test/.well-known/{name}/issuer"
        response = client.get(url.removeprefix("https://duo.test"))
        assert response.status_code == 200
        document = response.get_json()
        assert document.get("credential_issuer", document.get("issuer")) == PATH_ISSUER
        assert client.get(f"/.well-known/{name}/other").status_code == 404
    finally:
        flask_app.extensions["duo"].engine.dispose()


@pytest.mark.parametrize(
    "name", ["openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer"]
)
def test_no_suffix_for_an_issuer_without_a_path(client: FlaskClient, name: str) -> None:
    assert well_known_url(ISSUER, name) == f"{ISSUER}/.well-known/{name}"
    response = client.get(f"/.well-known/{name}/issuer")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_issuer_and_vct_on_postgres_too(database: Database, tmp_path: Path) -> None:
    """The metadata does not depend on the database: same document on SQLite and PostgreSQL."""
    data = tmp_path / "data"
    keys = init_store(data, issuer=ISSUER, verifier_host="verifier.duo.test", now=NOW)
    engine = make_engine(database.url)
    try:
        settings = Settings(data_dir=data, public_url=ISSUER, database_url=database.url)
        client = create_app(settings, engine=engine, keys=keys).test_client()
        assert _metadata(client)["credential_issuer"] == ISSUER
    finally:
        engine.dispose()
