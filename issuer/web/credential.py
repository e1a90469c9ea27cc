"""Credential, Deferred Credential and Notification Endpoints: OpenID4VCI 1.0 §8, §9, §11.

Each is a protected resource: the access token comes from the ``Authorization`` header with the
``Bearer`` (RFC 6750 §2.1) or ``DPoP`` (RFC 9449 §7.1) scheme, never from the query (SPECS §8
item 20). Token problems are 401 ``invalid_token`` with ``WWW-Authenticate`` (RFC 6750 §3,
items 19-23); a DPoP-bound token needs the DPoP scheme and a proof by its key with the right
``ath``. The token and its DPoP proof are checked and the proof's ``jti`` committed first; the
request itself runs in a second transaction that commits before the response is sent, and rolls
back entirely on any error (nothing half-written).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography import x509
from flask import Blueprint, Response, request
from sqlalchemy import Connection

from issuer.app import Services, services
from issuer.config import Settings
from issuer.db.tokens import TokenGrant, load_access_token
from issuer.oid4vci import credential, deferred, dpop, encryption, notification, proof
from issuer.web.token import transaction
from verifier.errors import ProtocolError
from verifier.x509_trust import load_anchors_pem

blueprint = Blueprint("credential", __name__)
_ALGS = " ".join(proof.PROOF_SIGNING_ALGS)


def _challenge(scheme: str, error: str | None) -> dict[str, str]:
    """RFC 6750 §3 / RFC 9449 §7.1 ``WWW-Authenticate``; no error code when no token was sent."""
    if error is None:
        value = f'DPoP algs="{_ALGS}"' if scheme == "DPoP" else f'Bearer, DPoP algs="{_ALGS}"'
    elif scheme == "DPoP":
        value = f'DPoP error="{error}", algs="{_ALGS}"'
    else:
        value = f'Bearer error="{error}"'
    return {"WWW-Authenticate": value}


def _presented_token(settings: Settings) -> tuple[str, str]:
    """The (scheme, token) of the Authorization header (items 19, 20)."""
    if "access_token" in request.args:  # RFC 6750 §2.3 is not supported (item 20)
        raise ProtocolError("invalid_request", "access tokens are not accepted in the query")
    preferred = "DPoP" if settings.require_dpop else "Bearer"
    header = request.headers.get("Authorization")
    if not header:
        raise ProtocolError(
            "invalid_token",
            "access token is missing",
            status=401,
            headers=_challenge(preferred, None),
        )
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() not in ("bearer", "dpop") or not value or " " in value:
        raise ProtocolError(
            "invalid_token",
            "authorization header is malformed",
            status=401,
            headers=_challenge(preferred, "invalid_token"),
        )
    return ("DPoP" if scheme.lower() == "dpop" else "Bearer"), value


def authenticate(svc: Services, path: str, now: datetime) -> TokenGrant:
    """The live grant of the request's access token (OpenID4VCI §8.3.1.1, RFC 9449 §7)."""
    scheme, value = _presented_token(svc.settings)
    with transaction(svc.engine) as conn:
        grant = load_access_token(conn, value, now=now)
        if grant is None:
            raise ProtocolError(
                "invalid_token",
                "access token is unknown or expired",
                status=401,
                headers=_challenge(scheme, "invalid_token"),
            )
        if grant.dpop_jkt is not None and scheme != "DPoP":  # RFC 9449 §7.2 (item 22)
            raise ProtocolError(
                "invalid_token",
                "access token is DPoP-bound",
                status=401,
                headers=_challenge("DPoP", "invalid_token"),
            )
        jkt = dpop.check_dpop(
            method="POST",
            url=f"{svc.issuer}{path}",
            headers=request.headers,
            conn=conn,
            now=now,
            access_token=value,
            required=svc.settings.require_dpop,
        )
        # RFC 9449 §7.1: the DPoP scheme only for a bound token, with a proof by its key.
        dpop.check_token_binding(scheme=scheme, token_jkt=grant.dpop_jkt, proof_jkt=jkt)
        return grant


def wallet_anchors(settings: Settings) -> tuple[x509.Certificate, ...]:
    """The configured wallet provider trust anchors (key attestations, App. D)."""
    return _anchors(tuple(settings.wallet_provider_anchors))


@functools.lru_cache(maxsize=8)
def _anchors(pems: tuple[str, ...]) -> tuple[x509.Certificate, ...]:
    return tuple(load_anchors_pem(list(pems)))


def _next_dpop_nonce(conn: Connection, token: TokenGrant, now: datetime) -> str | None:
    """RFC 9449 §8.2: a fresh DPoP nonce for the wallet's next request with a bound token."""
    return dpop.new_dpop_nonce(conn, now=now) if token.dpop_jkt is not None else None


def _send(response: Response, dpop_nonce: str | None) -> Response:
    if dpop_nonce is not None:
        response.headers["DPoP-Nonce"] = dpop_nonce
    return response


def _wallet_context(svc: Services, token: TokenGrant, now: datetime) -> credential.ProofContext:
    return credential.ProofContext(
        audience=svc.issuer,
        client_id=token.client_id,
        anchors=wallet_anchors(svc.settings),
        require_attestation=svc.settings.require_key_attestation,
        now=now,
    )


Handler = Callable[[Connection, Services, TokenGrant, dict[str, Any], datetime], Any]


def _credential_exchange(path: str, handle: Handler) -> Response:
    """What §8 and §9 share: token, (encrypted) request, one transaction, (encrypted) answer."""
    svc = services()
    now = svc.now()
    token = authenticate(svc, path, now)
    body, encrypt = encryption.read_credential_request(
        request.get_data(), request.content_type, services=svc
    )
    with transaction(svc.engine) as conn:
        outcome = handle(conn, svc, token, body, now)
        dpop_nonce = _next_dpop_nonce(conn, token, now)
    response = encryption.credential_response(outcome.body, outcome.status, encrypt)
    return _send(response, dpop_nonce)


@blueprint.post("/credential")
def credential_endpoint() -> Response:
    """§8: issue credentials now (200) or later (202)."""
    return _credential_exchange(
        "/credential",
        lambda conn, svc, token, body, now: credential.issue(
            conn, svc, token=token, body=body, context=_wallet_context(svc, token, now)
        ),
    )


@blueprint.post("/deferred_credential")
def deferred_endpoint() -> Response:
    """§9: the credentials of a deferred transaction, or 202 again."""
    return _credential_exchange(
        "/deferred_credential",
        lambda conn, svc, token, body, now: deferred.respond(
            conn, svc, token=token, body=body, now=now
        ),
    )


@blueprint.post("/notification")
def notification_endpoint() -> Response:
    """§11: record the wallet's event; 204, idempotent."""
    svc = services()
    now = svc.now()
    token = authenticate(svc, "/notification", now)
    notification_id, event = notification.parse_notification(
        request.get_data(), request.content_type
    )
    with transaction(svc.engine) as conn:
        notification.notify(conn, token=token, notification_id=notification_id, event=event)
        dpop_nonce = _next_dpop_nonce(conn, token, now)
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return _send(response, dpop_nonce)
