"""Token Endpoint (OpenID4VCI 1.0 §6, RFC 6749 §3.2) and Nonce Endpoint (OpenID4VCI §7).

``POST /token`` takes ``application/x-www-form-urlencoded`` only; client (wallet) attestation
(App. E) and DPoP (RFC 9449 §5) are checked before the grant is redeemed, in one transaction
that rolls back on any error. ``POST /nonce`` is unauthenticated and answers a fresh c_nonce with
``Cache-Control: no-store`` (§7.2, SPECS §8 item 56), plus a ``DPoP-Nonce`` (RFC 9449 §8.2)
when DPoP is required or the request carries a DPoP proof.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from issuer.app import services
from issuer.db import nonces, tokens
from issuer.oid4vci import dpop
from issuer.oid4vci.client_attestation import check_client_attestation
from issuer.oid4vci.token import form_parameters, token_response
from verifier.errors import ProtocolError

blueprint = Blueprint("token", __name__)
FORM_TYPE = "application/x-www-form-urlencoded"
#: One nonce request in this many also deletes expired nonces and access tokens.
PURGE_ONE_IN = 64


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One request's transaction: committed when the block ends, rolled back on any error."""
    with engine.connect() as conn:
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def no_store(body: dict[str, Any], status: int = 200) -> Response:
    """A JSON response that no cache keeps (RFC 6749 §5.1, OpenID4VCI §7.2)."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/token")
def token() -> Response:
    svc = services()
    now = svc.now()
    if request.mimetype != FORM_TYPE:  # RFC 6749 §4.1.3
        raise ProtocolError("invalid_request", "the token request must be form-urlencoded")
    params = form_parameters(request.form.lists())
    with transaction(svc.engine) as conn:
        attested = check_client_attestation(
            headers=request.headers,
            conn=conn,
            now=now,
            audience=svc.issuer,
            required=svc.settings.require_wallet_attestation,
        )
        jkt = dpop.check_dpop(
            method="POST",
            url=f"{svc.issuer}/token",
            headers=request.headers,
            conn=conn,
            now=now,
            access_token=None,
            required=svc.settings.require_dpop,
        )
        body = token_response(
            conn,
            params=params,
            attested_client_id=attested,
            dpop_jkt=jkt,
            settings=svc.settings,
            now=now,
        )
        dpop_nonce = None if jkt is None else dpop.new_dpop_nonce(conn, now=now)
    response = no_store(body)
    if dpop_nonce is not None:  # RFC 9449 §8.2: for the wallet's next DPoP proof
        response.headers["DPoP-Nonce"] = dpop_nonce
    return response


@blueprint.post("/nonce")
def nonce() -> Response:
    """§7: a fresh, unpredictable, single-use c_nonce."""
    svc = services()
    now = svc.now()
    with transaction(svc.engine) as conn:
        value = nonces.new_nonce(conn, "c_nonce", now=now, lifetime=svc.settings.c_nonce_lifetime)
        dpop_nonce = None
        if svc.settings.require_dpop or "DPoP" in request.headers:  # §7.2: MAY send one
            dpop_nonce = dpop.new_dpop_nonce(conn, now=now)
        if secrets.randbelow(PURGE_ONE_IN) == 0:
            nonces.purge_expired(conn, now=now)
            tokens.purge_expired_tokens(conn, now=now)
    response = no_store({"c_nonce": value})
    if dpop_nonce is not None:
        response.headers["DPoP-Nonce"] = dpop_nonce
    return response
