"""Status lists, the trust bundle and the revocation admin API over HTTP.

- ``GET /status/<id>``: IETF Token Status List §8.1/§8.2 (TSL-4), the raw ``statuslist+jwt`` as
  ``application/statuslist+jwt``; historical resolution (§8.4, ``?time=``) is not supported: 501
  (TSL-6 [S]). ``GET /status/w3c/<id>``: the W3C ``BitstringStatusListCredential`` as
  ``application/vc+jwt``. Unknown lists: 404. ``Cache-Control: max-age`` never exceeds what is
  left of the document's ``ttl``; CORS is open (TSL §8.1 [S]): the lists are public. No gzip
  ``Content-Encoding`` (TSL §8.1 [S]): the lists are compressed inside already; a reverse proxy
  may add it.
- ``GET /.well-known/trust-bundle``: the trust bundle as a signed ``trust-bundle+jwt``
  (docs/trust-bundle.md), as ``application/jwt``.
- ``POST /api/revocations`` (admin bearer token): ``{"credential" | "record", "action": "revoke" |
  "suspend" | "reinstate"}`` -> ``{"action", "credentials": [...]}`` (issuer.revocation).
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Blueprint, Response, current_app, jsonify, request

from issuer.app import services
from issuer.db import status
from issuer.revocation import ACTIONS, Action, change_status
from issuer.status_lists import Lifetimes, Published, Publisher, snapshots
from issuer.trust_bundle import export_bundle, signed_bundle
from issuer.web.admin_auth import require_admin
from verifier import strict_json
from verifier.errors import DuoError, ProtocolError

blueprint = Blueprint("status", __name__)
_MAX_ID = 2**31 - 1  # the largest list id a database integer column holds
_MAX_ID_LENGTH = 64  # credentials.id / records.id


def _publisher() -> Publisher:
    found: Publisher = current_app.extensions.setdefault("duo.status_publisher", Publisher())
    return found


def _lifetimes() -> Lifetimes:
    settings = services().settings
    return Lifetimes(ttl=settings.status_ttl, lifetime=settings.status_lifetime)


def _public(body: str, media_type: str, max_age: int) -> Response:
    response = Response(body, content_type=media_type)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _serve_list(kind: status.Kind, list_id: int) -> Response:
    if "time" in request.args:
        # TSL §8.4: a server without historical resolution SHOULD answer 501.
        raise ProtocolError(
            "historical_status_unsupported", "historical status lists are not kept", status=501
        )
    app = services()
    with app.engine.connect() as conn:
        row = status.get_list(conn, list_id) if 0 < list_id <= _MAX_ID else None
        if row is None or row.uri != status.list_uri(app.issuer, kind, list_id):
            raise ProtocolError("status_list_not_found", "no such status list", status=404)
        now = app.now()
        published = _publisher().publish(
            conn, row, keys=app.keys, issuer=app.issuer, lifetimes=_lifetimes(), now=now
        )
    return _public(published.body, published.media_type, published.max_age(now))


@blueprint.get("/status/<int:list_id>")
def token_status_list(list_id: int) -> Response:
    return _serve_list("tsl", list_id)


@blueprint.get("/status/w3c/<int:list_id>")
def bitstring_status_list(list_id: int) -> Response:
    return _serve_list("bsl", list_id)


@blueprint.get("/.well-known/trust-bundle")
def trust_bundle() -> Response:
    app = services()
    now = app.now()
    with app.engine.connect() as conn:
        lists: dict[str, Published] = snapshots(
            conn,
            keys=app.keys,
            issuer=app.issuer,
            lifetimes=_lifetimes(),
            now=now,
            publisher=_publisher(),
        )
    bodies = {uri: published.body for uri, published in lists.items()}
    bundle = export_bundle(app.keys, bodies, now=now, issuer=app.issuer)
    ages = [published.max_age(now) for published in lists.values()]
    max_age = min(ages, default=int(_lifetimes().ttl.total_seconds()))
    return _public(signed_bundle(bundle, app.keys), "application/jwt", max_age)


def _revocation_request() -> tuple[Action, str | None, str | None]:
    if request.mimetype != "application/json":
        raise ProtocolError("invalid_request", "the body must be application/json")
    try:
        body = strict_json.loads_object(request.get_data())
    except DuoError:
        raise ProtocolError("invalid_request", "the body is not a JSON object") from None
    action: Any = body.get("action")
    credential, record = body.get("credential"), body.get("record")
    if action not in ACTIONS:
        raise ProtocolError("invalid_request", "action is revoke, suspend or reinstate")
    if (credential is None) == (record is None) or not all(
        value is None or (isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH)
        for value in (credential, record)
    ):
        raise ProtocolError("invalid_request", "give exactly one of credential or record")
    return action, credential, record


@blueprint.post("/api/revocations")
def revocations() -> Response:
    require_admin()
    action, credential, record = _revocation_request()
    app = services()
    try:
        with app.engine.begin() as conn:
            changed = change_status(
                conn, action, credential_id=credential, record_id=record, now=app.now()
            )
    except status.StatusError as error:
        _refuse(error.code)
    response = jsonify({"action": action, "credentials": [c.as_json() for c in changed]})
    response.headers["Cache-Control"] = "no-store"
    return response


def _refuse(code: str) -> NoReturn:
    """The admin API's answer to a refused change (the transaction was rolled back)."""
    if code == "credential_not_found":
        raise ProtocolError("credential_not_found", "no issued credential matches", status=404)
    if code == "suspension_unsupported":
        raise ProtocolError(
            "suspension_unsupported", "W3C credentials cannot be suspended", status=409
        )
    if code == "revocation_is_final":
        raise ProtocolError("revocation_is_final", "a revoked credential stays revoked", status=409)
    raise ProtocolError("invalid_request", "the status change was refused")
