"""The verifier's JSON API for integrators (docs/api.md, OpenAPI 3.1).

``POST /api/presentations`` starts an OpenID4VP 1.0 transaction from a DCQL query (§6) or a
template of DUO's credential types; after a same-device response the wallet sends the browser
to the integrator's optional ``redirect_uri`` with a ``response_code``, or else to a neutral
page (verifier.service.same_device). ``GET /api/presentations/<id>`` returns its state and
verdict to the holder of its result token only (OpenID4VP 1.0 §14.3.3, SPECS VP-16: 401
without a token, 403 with another); a ``response_code`` given with it must be the one the
redirect carried (§13.3; 403 ``invalid_response_code`` otherwise): the result token alone is
enough, the code proves that the redirect arrived. ``GET /api/presentations/<id>/qr.svg``
draws the authorization request for cross-device use; ``POST /api/verify`` checks an uploaded
credential without a wallet. Bodies are strict JSON (verifier.strict_json); answers carry no-store.
"""

from __future__ import annotations

from typing import Any

import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from flask import Blueprint, Response, jsonify, request

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.service import transactions
from verifier.service.app import Services, services

blueprint = Blueprint("verifier_api", __name__)


def _json(value: Any, status: int = 200) -> Response:
    response = jsonify(value)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise ProtocolError("invalid_request", "the body must be application/json")
    try:
        return strict_json.loads_object(request.get_data())
    except DuoError:
        raise ProtocolError("invalid_request", "the body is not a JSON object") from None


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ProtocolError("invalid_request", "a parameter must be a string")
    return value


def _query(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    """The DCQL query given, or built from ``template`` (with optional ``claims``, ``issuer``)."""
    if ("dcql_query" in body) == ("template" in body):
        raise ProtocolError("invalid_request", "give exactly one of dcql_query and template")
    if "dcql_query" in body:
        query = body["dcql_query"]
        if not isinstance(query, dict):
            raise ProtocolError("invalid_request", "dcql_query must be an object")
        return query
    name, claims = _text(body, "template"), body.get("claims")
    if claims is not None and not (
        isinstance(claims, list) and all(isinstance(c, str) for c in claims)
    ):
        raise ProtocolError("invalid_request", "claims must be a list of strings")
    return transactions.template_query(svc, name or "", claims=claims, issuer=_text(body, "issuer"))


@blueprint.post("/api/presentations")
def create_presentation() -> Response:
    """Start a transaction: 201 with the Started object (the result token is shown once)."""
    svc = services()
    body = _body()
    query = _query(svc, body)
    started = transactions.start_presentation(
        svc,
        dcql_query=query,
        response_mode=_text(body, "response_mode") or "direct_post.jwt",
        client_id_prefix=_text(body, "client_id_prefix") or "x509_hash",
        request_uri_method=_text(body, "request_uri_method") or "get",
        language=_text(body, "language"),
        redirect_uri=_text(body, "redirect_uri"),
        result_page=False,  # no page session owns it: the done page, or the integrator's URL
    )
    response = _json(started.as_json(), 201)
    response.headers["Location"] = f"{svc.settings.public_url}/api/presentations/{started.id}"
    return response


def _bearer() -> str | None:
    """The token of ``Authorization: Bearer <token>`` (RFC 6750 §2.1), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _view(svc: Services, transaction_id: str) -> transactions.TransactionView:
    view = transactions.load(svc, transaction_id)
    if view is None:
        raise ProtocolError("not_found", "no such transaction", status=404)
    return view


@blueprint.get("/api/presentations/<transaction_id>")
def presentation_result(transaction_id: str) -> Response:
    """State and verdict, for the result token's holder only (VP-16); with ``response_code``,
    only if it is the code of this transaction's same-device redirect (§13.3)."""
    svc = services()
    view = _view(svc, transaction_id)
    transactions.check_result_token(view, _bearer())
    code = request.args.get("response_code")
    if code is not None and not transactions.redeem_response_code(svc, transaction_id, code):
        raise ProtocolError(
            "invalid_response_code", "the response_code is not this transaction's", status=403
        )
    return _json({"state": view.state, "verdict": view.verdict, "error": view.error})


@blueprint.get("/api/presentations/<transaction_id>/qr.svg")
def presentation_qr(transaction_id: str) -> Response:
    """The authorization request as a QR code (SVG) while the transaction is pending."""
    svc = services()
    txn = transactions.open_transaction(svc, transaction_id)
    image = qrcode.make(
        transactions.authorization_request(svc, txn),
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    response = Response(image.to_string(), content_type="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/api/verify")
def verify_credential() -> Response:
    """A wallet-less check: ``credential`` and optionally ``nonce`` with ``aud``."""
    body = _body()
    credential = _text(body, "credential")
    if not credential:
        raise ProtocolError("invalid_request", "credential is required")
    verdict = transactions.verify_upload(
        services(), credential, nonce=_text(body, "nonce"), aud=_text(body, "aud")
    )
    return _json(verdict)
