"""Offer endpoints: OpenID4VCI 1.0 §4.1.3 (offer by reference), QR codes, and the admin API.

- ``GET /offers/<offer_id>``: the Credential Offer object, 200 application/json (VCI-5), while
  the offer is open and unexpired; 404 ``not_found`` otherwise.
- ``GET /offers/<offer_id>/qr.svg`` and ``/qr.png``: the by-reference deep link as a QR code.
- ``POST /api/offers`` (admin bearer token): JSON ``{person, type, record?, format?, tx_code?}``
  makes an offer; 201 with its URIs and PIN (docs/cli.md). Unknown members are refused so that
  a misspelt ``tx_code`` never silently makes an offer without a PIN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from issuer.app import services
from issuer.oid4vci import qr
from issuer.oid4vci.offers import (
    OfferRequest,
    deep_link_by_reference,
    make_offer,
    offer_uri,
    served_offer,
)
from issuer.web.admin_auth import require_admin
from verifier import strict_json
from verifier.errors import DuoError, ProtocolError

blueprint = Blueprint("offers", __name__)

ADMIN_MEMBERS = {"person", "type", "record", "format", "tx_code"}
MAX_ID_CHARS = 64  # ids in the registry tables are at most 64 characters


def _offer_json(offer_id: str) -> dict[str, Any]:
    svc = services()
    with svc.engine.connect() as conn:
        return served_offer(conn, offer_id, issuer=svc.issuer, now=svc.now())


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # the offer carries a pre-authorized code
    return response


@blueprint.get("/offers/<offer_id>")
def offer_by_reference(offer_id: str) -> Response:
    return _no_store(jsonify(_offer_json(offer_id)))


def _qr(offer_id: str, render: Callable[[str], bytes], media_type: str) -> Response:
    _offer_json(offer_id)  # 404 unless open
    link = deep_link_by_reference(offer_uri(services().issuer, offer_id))
    return _no_store(Response(render(link), status=200, content_type=media_type))


@blueprint.get("/offers/<offer_id>/qr.svg")
def offer_qr_svg(offer_id: str) -> Response:
    return _qr(offer_id, qr.svg, qr.SVG_MEDIA_TYPE)


@blueprint.get("/offers/<offer_id>/qr.png")
def offer_qr_png(offer_id: str) -> Response:
    return _qr(offer_id, qr.png, qr.PNG_MEDIA_TYPE)


def _bad(detail: str) -> ProtocolError:
    return ProtocolError("invalid_request", detail)


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    return None if body.get(name) is None else _text(body, name)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise _bad(f"{name} must be a non-empty string of at most 64 characters")
    return value


def _admin_request() -> OfferRequest:
    if request.mimetype != "application/json":
        raise _bad("the body must be application/json")
    try:
        body = strict_json.loads_object(request.get_data())
    except DuoError:
        raise _bad("the body must be one JSON object") from None
    if set(body) - ADMIN_MEMBERS:
        raise _bad("unknown members; allowed: format, person, record, tx_code, type")
    tx_code = body.get("tx_code", False)
    if not isinstance(tx_code, bool):
        raise _bad("tx_code must be true or false")
    return OfferRequest(
        person_id=_text(body, "person"),
        type_name=_text(body, "type"),
        record_id=_optional_text(body, "record"),
        fmt=_optional_text(body, "format"),
        with_tx_code=tx_code,
    )


@blueprint.post("/api/offers")
def create_offer() -> Response:
    require_admin()
    offer_request = _admin_request()
    svc = services()
    with svc.engine.begin() as conn:
        created = make_offer(
            conn,
            offer_request,
            issuer=svc.issuer,
            created_by="admin-api",
            now=svc.now(),
            lifetime=svc.settings.offer_lifetime,
        )
    response = jsonify(created.details())
    response.status_code = 201
    response.headers["Location"] = created.credential_offer_uri
    return _no_store(response)
