"""Authorization endpoints: PAR (RFC 9126), the authorization endpoint (RFC 6749 §4.1, RFC 9126
§4) with RFC 9207 ``iss``, and the development login; OpenID4VCI 1.0 §5, HAIP 1.0 §4.

- ``POST /par``: client authentication by wallet attestation (required when configured), an
  optional DPoP proof (required when configured) that binds the code to its key (RFC 9449 §10),
  the request checked by ``issuer.oid4vci.par``; 201 ``{request_uri, expires_in}``.
- ``GET /authorize?client_id&request_uri``: only pushed requests (SPECS §8 items 11-12). The
  person logs in; the real login methods come later, so here only the development login exists,
  and only when DUO_DEV_LOGIN is on. Otherwise the answer is 503 ``temporarily_unavailable``.
- ``POST /authorize/dev-login``: the development login; uses the request_uri once and redirects
  to the client's redirect_uri with ``code``, ``state`` and ``iss`` (303).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, request, url_for
from markupsafe import escape
from sqlalchemy import Connection

from issuer.app import Services, services
from issuer.db.authorization import (
    ParRequest,
    consume_par_request,
    load_par_request,
    store_par_request,
)
from issuer.db.registry import get_person
from issuer.oid4vci.authorization_code import grant_for_person, issue_authorization_code
from issuer.oid4vci.client_attestation import check_client_attestation
from issuer.oid4vci.dpop import check_dpop, new_dpop_nonce
from issuer.oid4vci.par import AuthorizationRequest, parse_par
from verifier.errors import ProtocolError

blueprint = Blueprint("authorization", __name__)

#: RFC 9126 §2.2: a short lifetime; the wallet opens the authorization endpoint at once.
PAR_LIFETIME = timedelta(seconds=60)
MAX_PERSON_ID_CHARS = 64
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _par_dpop(conn: Connection, pushed: AuthorizationRequest) -> str | None:
    """RFC 9449 §10: the code is bound to the DPoP proof's key or to ``dpop_jkt``, or both if
    they agree. When DPoP is required, one of the two must be there."""
    svc = services()
    required = svc.settings.require_dpop
    proof_jkt = None
    if request.headers.getlist("DPoP"):
        proof_jkt = check_dpop(
            method="POST", url=f"{svc.issuer}/par", headers=request.headers, conn=conn,
            now=svc.now(), access_token=None, required=required,
        )
    elif required and pushed.dpop_jkt is None:
        raise ProtocolError("invalid_dpop_proof", "a DPoP proof or dpop_jkt is required")
    if proof_jkt is not None and pushed.dpop_jkt not in (None, proof_jkt):
        raise ProtocolError("invalid_dpop_proof", "dpop_jkt differs from the DPoP proof key")
    return proof_jkt or pushed.dpop_jkt


@blueprint.post("/par")
def pushed_authorization_request() -> Response:
    """RFC 9126 §2.1-§2.3."""
    svc = services()
    if request.mimetype != "application/x-www-form-urlencoded":
        raise ProtocolError("invalid_request", "the body must be application/x-www-form-urlencoded")
    pushed = parse_par(request.form, issuer=svc.issuer)
    now = svc.now()
    with svc.engine.begin() as conn:
        jkt = _par_dpop(conn, pushed)
        attested = check_client_attestation(
            headers=request.headers, conn=conn, now=now, audience=svc.issuer,
            required=svc.settings.require_wallet_attestation,
        )
        # HAIP 1.0 §4.4.1, SPECS §8 item 18: the pushed client_id is the attested one.
        if attested is not None and attested != pushed.client_id:
            raise ProtocolError("invalid_client", "client_id is not the attested client",
                                status=401)
        request_uri = store_par_request(
            conn, client_id=pushed.client_id, parameters=pushed.to_json(), dpop_jkt=jkt,
            now=now, lifetime=PAR_LIFETIME,
        )
        nonce = new_dpop_nonce(conn, now=now) if request.headers.get("DPoP") else None
    response = jsonify(
        {"request_uri": request_uri, "expires_in": int(PAR_LIFETIME.total_seconds())}
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    if nonce is not None:
        response.headers["DPoP-Nonce"] = nonce  # RFC 9449 §8.2: the next nonce to use
    return response


def _one(values: list[str]) -> str | None:
    if len(values) > 1:
        raise ProtocolError("invalid_request", "a parameter was sent more than once")
    return values[0] if values and values[0] else None


def _page(title: str, body: str, status: int) -> Response:
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>\n"
    )
    return Response(html, status=status, mimetype="text/html", headers=_PAGE_HEADERS)


def _login_page(par: ParRequest, request_uri: str, error: str | None = None) -> Response:
    """The development login form: one field, the registry person id; nothing personal."""
    client_id = par.client_id
    target = urlsplit(AuthorizationRequest.from_json(par.parameters).redirect_uri)
    notice = f'<p role="alert"><strong>{escape(error)}</strong></p>' if error else ""
    body = (
        "<h1>DEVELOPMENT ONLY: log in as a registry person</h1>"
        "<p>This login exists for development and tests only (DUO_DEV_LOGIN). It checks "
        "nobody's identity and must never be switched on in production.</p>"
        f"<p>Requested by client <code>{escape(client_id)}</code>; after login you return to "
        f"<code>{escape(f'{target.scheme}://{target.netloc}')}</code>.</p>"
        f"{notice}"
        f'<form method="post" action="{escape(url_for("authorization.dev_login"))}">'
        f'<input type="hidden" name="request_uri" value="{escape(request_uri)}">'
        f'<input type="hidden" name="client_id" value="{escape(client_id)}">'
        '<label for="person_id">Registry person id</label> '
        '<input id="person_id" name="person_id" required autocomplete="off" '
        f'maxlength="{MAX_PERSON_ID_CHARS}"> '
        '<button type="submit">Log in (development only)</button></form>'
    )
    return _page("DUO development login", body, 400 if error else 200)


def _no_login() -> Response:
    """No login method exists yet (they come in a later issue): say so, never a 500."""
    detail = "no login method is available yet"
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    ):
        response = jsonify({"error": "temporarily_unavailable", "error_description": detail})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    body = (
        "<h1>No login method is available yet</h1><p>Logging in at DUO for a wallet is not "
        "possible yet. A DUO desk can give you an offer with a PIN instead.</p>"
    )
    return _page("DUO login unavailable", body, 503)


def _live_request(svc: Services, request_uri: str | None, client_id: str | None) -> ParRequest:
    if request_uri is None or client_id is None:
        raise ProtocolError("invalid_request", "client_id and request_uri are required")
    with svc.engine.begin() as conn:
        found = load_par_request(conn, request_uri, client_id=client_id, now=svc.now())
    if found is None:  # unknown, used, expired, or pushed by another client (item 12)
        raise ProtocolError("invalid_request_uri", "request_uri is invalid, expired or used")
    return found


@blueprint.get("/authorize")
def authorize() -> Response:
    """RFC 9126 §4: the authorization endpoint takes pushed requests only (item 11)."""
    svc = services()
    request_uri = _one(request.args.getlist("request_uri"))
    client_id = _one(request.args.getlist("client_id"))
    if request_uri is None:
        raise ProtocolError("invalid_request", "authorization requests must be pushed (PAR)")
    par = _live_request(svc, request_uri, client_id)
    if not svc.settings.dev_login:
        return _no_login()
    return _login_page(par, request_uri)


def _redirect(uri: str, params: dict[str, str | None]) -> Response:
    """RFC 6749 §4.1.2 with RFC 9207 §2: the response parameters added to the redirect_uri's
    query, which is kept (§3.1.2)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    response = Response(status=303, headers={"Cache-Control": "no-store"})
    response.headers["Location"] = urlunsplit(parts._replace(query=query))
    return response


@blueprint.post("/authorize/dev-login")
def dev_login() -> Response:
    """The development login: DUO_DEV_LOGIN only; ends the authorization request."""
    svc = services()
    if not svc.settings.dev_login:
        raise ProtocolError("not_found", "the development login is not enabled", status=404)
    request_uri = _one(request.form.getlist("request_uri"))
    client_id = _one(request.form.getlist("client_id"))
    person_id = _one(request.form.getlist("person_id"))
    shown = _live_request(svc, request_uri, client_id)
    assert request_uri is not None and client_id is not None  # checked by _live_request
    now = svc.now()
    with svc.engine.begin() as conn:
        person = None
        if person_id is not None and len(person_id) <= MAX_PERSON_ID_CHARS:
            person = get_person(conn, person_id)
        if person is None:
            return _login_page(shown, request_uri, "No registry person has this id.")
        par = consume_par_request(conn, request_uri, client_id=client_id, now=now)
        if par is None:  # used by a concurrent login first
            raise ProtocolError("invalid_request_uri", "request_uri is invalid, expired or used")
        pushed = AuthorizationRequest.from_json(par.parameters)
        grant = grant_for_person(conn, pushed, person.id)
        code = None if grant is None else issue_authorization_code(
            conn, request=pushed, grant=grant, dpop_jkt=par.dpop_jkt, now=now
        )
    common = {"state": pushed.state, "iss": svc.issuer}  # RFC 9207 §2: iss in every response
    if code is None:  # RFC 6749 §4.1.2.1: nothing of the requested kinds to grant
        return _redirect(pushed.redirect_uri, {"error": "access_denied", **common})
    return _redirect(pushed.redirect_uri, {"code": code, **common})
