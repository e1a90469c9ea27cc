"""Rendering of the verifier pages: Jinja2 templates (autoescaped, strict), the language
switcher's links, error pages, redirects and PDF responses. The templates live in
verifier/service/templates; every page gets the texts of the reader's language (``g.lang``)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Response, g, request, url_for
from jinja2 import Environment, PackageLoader, StrictUndefined
from werkzeug.datastructures import Headers

from verifier.service import i18n
from verifier.service.report_pdf import render_report
from verifier.service.result_view import ResultView
from verifier.service.web import page_session

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("verifier.service", "templates"),
        autoescape=True,  # every value is escaped; only the QR code's SVG is Markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def switch_url(lang: str) -> str:
    """This page in ``lang`` (its other query parameters kept, never a response_code)."""
    kept = {k: v for k, v in request.args.items() if k not in {"lang", "response_code"}}
    return f"{request.path}?{urlencode({**kept, 'lang': lang})}"


def render(name: str, status: int = 200, **context: Any) -> Response:
    """Template ``name`` in the reader's language, with the session's CSRF token."""
    lang: str = g.lang
    template = _templates().get_template(name)
    html = template.render(
        lang=lang,
        t=i18n.all_texts(lang),
        languages=i18n.LANGUAGE_NAMES,
        switch=switch_url,
        url=url_for,
        csrf=page_session.csrf_token(),
        **context,
    )
    # A claim may hold a lone surrogate (valid JSON, not UTF-8): it is sent as "?".
    body = html.encode("utf-8", "replace")
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def error_page(message_key: str, status: int) -> Response:
    return render("error.html", status, message=message_key)


def see_other(location: str) -> Response:
    return Response(status=303, headers={"Location": location})


class _ExactRedirect(Response):
    """A 303 whose Location is sent as given: Werkzeug's IRI normalisation would turn
    ``openid4vp://?...`` into ``openid4vp:?...`` (an empty authority dropped)."""

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        headers = super().get_wsgi_headers(environ)
        headers["Location"] = self.headers["Location"]
        return headers


def wallet_redirect(url: str) -> Response:
    """A redirect to the wallet's ``openid4vp://`` request (ASCII, already percent-encoded)."""
    return _ExactRedirect(status=303, headers={"Location": url})


def pdf_response(view: ResultView) -> Response:
    response = Response(render_report(view), 200, content_type="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="verification-report.pdf"'
    return response
