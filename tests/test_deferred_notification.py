"""Deferred issuance (OpenID4VCI 1.0 §9) and notifications (§11) on both databases: VCI-31,
VCI-35, VCI-36 and SPECS §8 items 51-55; one deferred flow over real HTTP.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import requests
import sqlalchemy
import test_token
from issuer_support import LiveIssuer
from test_token import Clock, Issuer, Offer, expect_error

from issuer.db import offers, registry
from issuer.db.tables import credentials, records
from verifier import jose
from verifier.sd_jwt import parse as parse_sd_jwt

issuer_keys = test_token.issuer_keys
make_issuer = test_token.make_issuer
issuer = test_token.issuer

SD_JWT = "diploma_sd_jwt"


def _request(issuer: Issuer, token: str, proofs: list[str]) -> Any:
    return issuer.credential(token, {"credential_configuration_id": SD_JWT,
                                     "proofs": {"jwt": proofs}})


def _deferred(issuer: Issuer, token: str, body: dict[str, Any]) -> Any:
    return issuer.credential(token, body, path="/deferred_credential")


def _start_deferred(issuer: Issuer, keys: int = 1) -> tuple[Offer, str, str]:
    """A not-final record, a Credential Request with ``keys`` proofs: (offer, token, txn id)."""
    offer = issuer.seed(final=False)
    token = issuer.access_token(offer)
    nonce = issuer.nonce()
    response = _request(issuer, token, [issuer.proof(nonce) for _ in range(keys)])
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert set(body) == {"transaction_id", "interval"}  # VCI-31: never with credentials
    assert body["interval"] == 60
    return offer, token, str(body["transaction_id"])


def _finalize(issuer: Issuer, record_id: str) -> None:
    with issuer.engine.begin() as conn:
        assert registry.finalize_record(conn, record_id, now=issuer.now)


def test_deferred_issuance(issuer: Issuer) -> None:
    """VCI-31/35: 202 while the record is not final (same transaction_id), then 200 with one
    credential per proven key, then the id is invalid (SPECS §8 item 51)."""
    offer, token, transaction_id = _start_deferred(issuer, keys=2)
    assert issuer_rows(issuer) == []
    again = _deferred(issuer, token, {"transaction_id": transaction_id})
    assert again.status_code == 202
    assert again.get_json() == {"transaction_id": transaction_id, "interval": 60}
    _finalize(issuer, offer.record_ids[0])
    done = _deferred(issuer, token, {"transaction_id": transaction_id})
    assert done.status_code == 200, done.get_json()
    assert done.headers["Cache-Control"] == "no-store"
    body = done.get_json()
    assert len(body["credentials"]) == 2 and body["notification_id"]
    bound = set()
    for item in body["credentials"]:
        payload = parse_sd_jwt(item["credential"], expect_kb=False).issuer_jwt.payload
        bound.add(jose.jwk_thumbprint(payload["cnf"]["jwk"]))
    assert bound == {jose.jwk_thumbprint(jose.public_jwk(k)) for k in issuer.keys}
    assert {r.holder_jkt for r in issuer_rows(issuer)} == bound
    expect_error(_deferred(issuer, token, {"transaction_id": transaction_id}), 400,
                 "invalid_transaction_id")


def issuer_rows(issuer: Issuer) -> list[Any]:
    with issuer.engine.connect() as conn:
        return list(conn.execute(sqlalchemy.select(credentials)).all())


def test_deferred_with_a_later_token(issuer: Issuer) -> None:
    """§9: a later token of the same person for the configuration is valid for the credential;
    another person's token does not reveal the transaction (item 51)."""
    offer, _, transaction_id = _start_deferred(issuer)
    issuer.clock.advance(minutes=10)  # the first token has expired
    other = issuer.access_token()  # another person
    expect_error(_deferred(issuer, other, {"transaction_id": transaction_id}), 400,
                 "invalid_transaction_id")
    with issuer.engine.begin() as conn:
        _, code = offers.create_offer(
            conn, person_id=offer.person_id, record_ids=offer.record_ids,
            configuration_ids=[SD_JWT], tx_code=None, created_by="test", now=issuer.now,
            lifetime=timedelta(minutes=10),
        )
    later = issuer.access_token(Offer(code, offer.person_id, offer.record_ids, None))
    assert _deferred(issuer, later, {"transaction_id": transaction_id}).status_code == 202


def test_deferred_errors(issuer: Issuer) -> None:
    """SPECS §8 item 51 and the request checks of §9.1."""
    _, token, _ = _start_deferred(issuer)
    expect_error(_deferred(issuer, token, {"transaction_id": "unknown"}), 400,
                 "invalid_transaction_id")
    expect_error(_deferred(issuer, token, {}), 400, "invalid_credential_request")
    expect_error(_deferred(issuer, token, {"transaction_id": 5}), 400,
                 "invalid_credential_request")
    response = issuer.client.post("/deferred_credential", json={"transaction_id": "x"})
    expect_error(response, 401, "invalid_token")  # VCI-35: an access token is required
    plain = issuer.client.post("/deferred_credential", data="transaction_id=x",
                               content_type="application/x-www-form-urlencoded",
                               headers={"Authorization": f"Bearer {token}"})
    expect_error(plain, 400, "invalid_credential_request")


def test_deferred_that_can_never_complete(issuer: Issuer) -> None:
    """SPECS §8 item 52: a record that can no longer be issued is credential_request_denied,
    every time; nothing is issued."""
    offer, token, transaction_id = _start_deferred(issuer)
    with issuer.engine.begin() as conn:
        conn.execute(sqlalchemy.update(records).where(records.c.id == offer.record_ids[0])
                     .values(data={"kind": "withdrawn"}))
    _finalize(issuer, offer.record_ids[0])
    for _ in range(2):
        expect_error(_deferred(issuer, token, {"transaction_id": transaction_id}), 400,
                     "credential_request_denied")
    assert issuer_rows(issuer) == []


# --- notifications (§11) ----------------------------------------------------------------------


def _issue(issuer: Issuer, keys: int = 2) -> tuple[str, str]:
    token = issuer.access_token()
    nonce = issuer.nonce()
    response = _request(issuer, token, [issuer.proof(nonce) for _ in range(keys)])
    assert response.status_code == 200
    return token, str(response.get_json()["notification_id"])


def _notify(issuer: Issuer, token: str, body: Any, content_type: str = "application/json") -> Any:
    return issuer.client.post("/notification", data=json.dumps(body), content_type=content_type,
                              headers={"Authorization": f"Bearer {token}"})


def test_notification_is_stored_and_idempotent(issuer: Issuer) -> None:
    """VCI-36 and SPECS §8 item 55: 204, repeated 204; the event is kept for the whole batch."""
    token, notification_id = _issue(issuer)
    body = {"notification_id": notification_id, "event": "credential_accepted"}
    for _ in range(2):
        response = _notify(issuer, token, body)
        assert response.status_code == 204 and response.get_data() == b""
    assert {r.notification_event for r in issuer_rows(issuer)} == {"credential_accepted"}
    deleted = {**body, "event": "credential_deleted", "event_description": "removed by user",
               "unknown": 1}
    assert _notify(issuer, token, deleted).status_code == 204
    assert {r.notification_event for r in issuer_rows(issuer)} == {"credential_deleted"}


def test_notification_errors(issuer: Issuer) -> None:
    """SPECS §8 items 53 and 54; a token is required (RFC 6750 §3)."""
    token, notification_id = _issue(issuer, keys=1)
    expect_error(_notify(issuer, token, {"notification_id": "unknown",
                                         "event": "credential_accepted"}),
                 400, "invalid_notification_id")
    other_token, _ = _issue(issuer, keys=1)  # another person's credentials
    expect_error(_notify(issuer, other_token, {"notification_id": notification_id,
                                               "event": "credential_failure"}),
                 400, "invalid_notification_id")
    for body in (
        {"notification_id": notification_id, "event": "Credential_Accepted"},  # item 54: case
        {"notification_id": notification_id},  # item 54: missing event
        {"event": "credential_accepted"},
        {"notification_id": notification_id, "event": "credential_accepted",
         "event_description": 'with a "quote"'},
        [notification_id],
    ):
        expect_error(_notify(issuer, token, body), 400, "invalid_notification_request")
    expect_error(_notify(issuer, token, {"notification_id": notification_id,
                                         "event": "credential_accepted"}, "text/plain"),
                 400, "invalid_notification_request")
    response = issuer.client.post("/notification", json={"notification_id": notification_id,
                                                          "event": "credential_accepted"})
    expect_error(response, 401, "invalid_token")
    assert {r.notification_event for r in issuer_rows(issuer)} == {None}


def test_deferred_flow_over_http(live_issuer: LiveIssuer) -> None:
    """Issue 3 deliverable 6: deferred over real HTTP, then a notification."""
    helper = Issuer(live_issuer.app, live_issuer.app.test_client(), Clock(),
                    live_issuer.app.extensions["duo"].engine)
    offer = helper.seed(final=False)
    url = live_issuer.url
    with requests.Session() as http:
        token = http.post(f"{url}/token", timeout=10, data={
            "grant_type": test_token.PRE_AUTH, "pre-authorized_code": offer.code,
        }).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        nonce = http.post(f"{url}/nonce", timeout=10).json()["c_nonce"]
        key = test_token.new_key()
        proof = test_token.sign(
            {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": jose.public_jwk(key)},
            {"aud": url, "iat": int(helper.now.timestamp()), "nonce": nonce}, key,
        )
        first = http.post(f"{url}/credential", headers=auth, timeout=10, json={
            "credential_configuration_id": SD_JWT, "proofs": {"jwt": [proof]}})
        assert first.status_code == 202, first.text
        transaction = {"transaction_id": first.json()["transaction_id"]}
        _finalize(helper, offer.record_ids[0])
        done = http.post(f"{url}/deferred_credential", headers=auth, json=transaction, timeout=10)
        assert done.status_code == 200, done.text
        notified = http.post(f"{url}/notification", headers=auth, timeout=10, json={
            "notification_id": done.json()["notification_id"], "event": "credential_accepted"})
        assert notified.status_code == 204
