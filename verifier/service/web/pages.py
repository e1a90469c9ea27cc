"""The verifier's pages for employers and universities (OpenID4VP 1.0 verifier front end).

``GET /`` asks for a credential type and the claims to request; ``POST /`` starts a transaction
(verifier.service.transactions) and shows ``/presentations/<id>``: a QR code for a wallet on
another device, a same-device button and a live status (``/presentations/<id>/status`` gives only
the state, polled by assets/poll.js). The result page and its PDF are shown only to the browser
session that started the transaction and, after a same-device start, only once the wallet's
redirect has presented the right response_code (OpenID4VP §13.3, §14.2; SPECS VP-16, item 83).
``/presentations/<id>/done`` is the neutral page an API transaction's wallet returns to.
``/check`` checks a pasted or uploaded credential without a wallet; the PDF of such a check is
made by posting the credential again (``POST /check/report.pdf``): nothing uploaded is stored.
Every form carries a CSRF token; every page a strict CSP (verifier.service.web.page_session).
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Response, g, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import RequestEntityTooLarge

from schemas import loader
from verifier.errors import ProtocolError
from verifier.service import i18n, transactions
from verifier.service.app import Services, services
from verifier.service.result_view import ResultView
from verifier.service.web import page_session
from verifier.service.web.page_render import (
    error_page,
    pdf_response,
    render,
    see_other,
    wallet_redirect,
)
from verifier.service.web.page_results import (
    upload_result,
    uploaded_credential,
    wallet_result,
)
from verifier.service.web.qr_svg import qr_svg
from verifier.service.web.start_form import (
    CLIENT_ID_PREFIXES,
    RESPONSE_MODES,
    StartForm,
    claim_choices,
)

blueprint = Blueprint(
    "verifier_pages", __name__, static_folder="../static", static_url_path="/assets"
)
_YEAR = int(timedelta(days=365).total_seconds())


@blueprint.record_once
def _install(state: BlueprintSetupState) -> None:
    svc: Services = state.app.extensions["duo-verifier"]
    https = svc.settings.public_url.startswith("https:")
    page_session.install(state.app, data_dir=svc.settings.data_dir, https=https)


@blueprint.before_request
def _choose_language() -> None:
    g.lang = i18n.choose_language(
        query=request.args.get("lang"),
        cookie=request.cookies.get(page_session.LANG_COOKIE),
        accept=request.accept_languages,
    )


@blueprint.after_request
def _finish(response: Response) -> Response:
    if i18n.supported(request.args.get("lang")):
        response.set_cookie(
            page_session.LANG_COOKIE,
            g.lang,
            max_age=_YEAR,
            httponly=True,
            samesite="Lax",
            secure=services().settings.public_url.startswith("https:"),
        )
    return page_session.secure_headers(response, asset=request.endpoint == "verifier_pages.static")


def _csrf_failed() -> bool:
    return not page_session.csrf_valid(request.form.get("csrf_token"))


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    return error_page("error_too_large", 413)


# --- start page ---------------------------------------------------------------------------------


def _start_page(
    type_name: str, form: StartForm | None = None, errors: tuple[str, ...] = ()
) -> Response:
    form = form or StartForm.defaults(type_name)
    return render(
        "start.html",
        400 if errors else 200,
        errors=errors,
        type_name=type_name,
        type_label=i18n.type_label(type_name, g.lang),
        types=[(n, i18n.type_label(n, g.lang)) for n in loader.CREDENTIAL_TYPES],
        claims=[(n, label, n in form.claims) for n, label in claim_choices(type_name, g.lang)],
        response_modes=RESPONSE_MODES,
        response_mode=form.response_mode,
        prefixes=CLIENT_ID_PREFIXES,
        prefix=form.client_id_prefix,
    )


@blueprint.get("/")
def start() -> Response:
    type_name = request.args.get("type", "diploma")
    return _start_page(type_name if type_name in loader.CREDENTIAL_TYPES else "diploma")


@blueprint.post("/")
def start_post() -> Response:
    """Start a presentation (OpenID4VP 1.0 §5) and show its QR code."""
    if _csrf_failed():
        return error_page("error_csrf", 400)
    type_name = request.form.get("type", "")
    if type_name not in loader.CREDENTIAL_TYPES:
        return _start_page("diploma", None, ("error_bad_choice",))
    form = StartForm.posted(request.form)
    errors = form.errors(type_name)
    svc = services()
    if not errors and not svc.trust.store().issuer_jwks:
        errors = ("error_no_issuer",)
    if errors:
        return _start_page(type_name, form, errors)
    try:
        query = transactions.template_query(svc, type_name, claims=list(form.claims))
        started = transactions.start_presentation(
            svc,
            dcql_query=query,
            response_mode=form.response_mode,
            client_id_prefix=form.client_id_prefix,
            language=g.lang,
        )
    except ProtocolError:
        return _start_page(type_name, form, ("error_bad_choice",))
    page_session.own(started.id)
    return see_other(url_for(".presentation", transaction_id=started.id))


# --- a transaction: QR, status, result ----------------------------------------------------------


def _wallet_link(svc: Services, transaction_id: str) -> str | None:
    """The pending transaction's ``openid4vp://`` request, or None once it is closed."""
    try:
        return transactions.authorization_request(
            svc, transactions.open_transaction(svc, transaction_id)
        )
    except ProtocolError:
        return None


def _pending_page(svc: Services, transaction_id: str) -> Response:
    link = _wallet_link(svc, transaction_id)
    qr = qr_svg(link, label=i18n.text("qr_label", g.lang)) if link else None
    return render("presentation.html", state="pending", tid=transaction_id, link=link, qr=qr)


def _view(transaction_id: str) -> transactions.TransactionView | Response:
    """The transaction if this session may see it; else the page that says why not."""
    if not page_session.owns(transaction_id):
        return error_page("error_forbidden", 403)  # VP-16: another browser session gets nothing
    view = transactions.load(services(), transaction_id)
    return error_page("error_not_found", 404) if view is None else view


def _locked(view: transactions.TransactionView) -> bool:
    """A same-device start whose response_code has not come back yet (§13.3)."""
    return page_session.same_device(view.id) and not page_session.redeemed(view.id)


@blueprint.get("/presentations/<transaction_id>")
def presentation(transaction_id: str) -> Response:
    view = _view(transaction_id)
    if isinstance(view, Response):
        return view
    svc = services()
    code = request.args.get("response_code")
    if code is not None:
        if not transactions.redeem_response_code(svc, transaction_id, code):
            return error_page("error_forbidden", 403)  # item 83: a wrong code shows no result
        page_session.mark_redeemed(transaction_id)
        # The code leaves the address bar and history once redeemed.
        return see_other(url_for(".presentation", transaction_id=transaction_id))
    if view.state == transactions.PENDING:
        return _pending_page(svc, transaction_id)
    if _locked(view):
        return render("presentation.html", state="await_redirect", tid=transaction_id)
    if view.state == transactions.DONE and view.verdict is not None:
        return render("result.html", r=wallet_result(svc, view, g.lang), tid=transaction_id)
    if view.state == transactions.FAILED:
        failure = {"name": "vp_token", "outcome": "failed", "code": view.error}
        explained = i18n.explain_check(failure, g.lang)
        return render("presentation.html", state="failed", tid=transaction_id, why=explained)
    return render("presentation.html", state="expired", tid=transaction_id)


@blueprint.get("/presentations/<transaction_id>/wallet")
def same_device(transaction_id: str) -> Response:
    """Open the wallet on this device: the result will then need the response_code."""
    view = _view(transaction_id)
    if isinstance(view, Response):
        return view
    page_session.mark_same_device(transaction_id)
    link = _wallet_link(services(), transaction_id)
    if link is None:
        return see_other(url_for(".presentation", transaction_id=transaction_id))
    return wallet_redirect(link)


@blueprint.get("/presentations/<transaction_id>/done")
def returned(transaction_id: str) -> Response:
    """Where an API transaction without a ``redirect_uri`` sends the browser after a
    same-device response (verifier.service.same_device): it says to return to the
    application and shows no verdict, so it needs no session and looks nothing up."""
    del transaction_id  # the same neutral page for every id
    return render("done.html")


@blueprint.get("/presentations/<transaction_id>/status")
def presentation_status(transaction_id: str) -> Response:
    """Only the state, never the verdict, and only to the session that started it."""
    view = (
        transactions.load(services(), transaction_id) if page_session.owns(transaction_id) else None
    )
    if view is None:
        response = Response(json.dumps({"error": "not_found"}), 404)
    else:
        response = Response(json.dumps({"state": view.state}), 200)
    response.content_type = "application/json"
    return response


@blueprint.get("/presentations/<transaction_id>/report.pdf")
def presentation_report(transaction_id: str) -> Response:
    view = _view(transaction_id)
    if isinstance(view, Response):
        return view
    if view.state != transactions.DONE or view.verdict is None or _locked(view):
        return error_page("error_forbidden", 403)
    return pdf_response(wallet_result(services(), view, g.lang))


# --- wallet-less check ----------------------------------------------------------------------------


@blueprint.get("/check")
def check() -> Response:
    return render("check.html", errors=())


def _checked() -> tuple[str, ResultView] | Response:
    if _csrf_failed():
        return error_page("error_csrf", 400)
    text = uploaded_credential()
    if isinstance(text, tuple):
        return render("check.html", text[1], errors=(text[0],))
    found = upload_result(services(), text, g.lang)
    if isinstance(found, tuple):
        return render("check.html", found[1], errors=(found[0],))
    return text, found


@blueprint.post("/check")
def check_post() -> Response:
    checked = _checked()
    if isinstance(checked, Response):
        return checked
    text, result = checked
    return render("result.html", r=result, tid=None, credential=text)


@blueprint.post("/check/report.pdf")
def check_report() -> Response:
    """The PDF of a wallet-less check: the credential is posted again and checked again."""
    checked = _checked()
    return checked if isinstance(checked, Response) else pdf_response(checked[1])
