"""The browser session of the verifier pages: who started which request, CSRF tokens, headers.

OpenID4VP 1.0 §13.3 and §14.2 (SPECS VP-16, item 83): a result is shown only to the browser
session that started its transaction and, when the wallet was opened on this device, only after
the response_code the wallet's redirect carried has been presented. The session is Flask's signed
cookie (HttpOnly, SameSite=Lax, Secure on https) holding transaction ids and a CSRF token, never
personal data; its key is random, kept in ``<data_dir>/pages-session.key`` so that every worker
of one deployment shares it. Every page carries a strict Content-Security-Policy: the pages load
nothing from elsewhere and run no inline script.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from flask import Response, session
from flask.sansio.app import App

SESSION_COOKIE = "duo_verifier_session"
LANG_COOKIE = "duo_verifier_lang"
KEY_FILE = "pages-session.key"
MAX_OWNED = 20  # the newest transactions this browser started
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _secret(data_dir: Path) -> bytes:
    """The session key of this data directory, made (0600) on first use."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    key = secrets.token_hex(32).encode("ascii")
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def install(app: App, *, data_dir: Path, https: bool) -> None:
    """Give ``app`` its session key and cookie settings (unless a key was configured)."""
    if not app.secret_key:
        app.secret_key = _secret(data_dir)
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # the wallet's same-device redirect is a top-level GET
        SESSION_COOKIE_SECURE=https,
    )


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(sent: str | None) -> bool:
    token = session.get("csrf")
    if not isinstance(token, str) or not isinstance(sent, str):
        return False
    return hmac.compare_digest(token.encode(), sent.encode())


def _ids(key: str) -> list[str]:
    found = session.get(key)
    return [i for i in found if isinstance(i, str)] if isinstance(found, list) else []


def _add(key: str, transaction_id: str) -> None:
    ids = [i for i in _ids(key) if i != transaction_id]
    session[key] = [*ids, transaction_id][-MAX_OWNED:]


def own(transaction_id: str) -> None:
    """Remember that this browser started ``transaction_id``."""
    _add("owned", transaction_id)


def owns(transaction_id: str) -> bool:
    return transaction_id in _ids("owned")


def mark_same_device(transaction_id: str) -> None:
    """The wallet was opened on this device: its result needs the response_code (§13.3)."""
    _add("same_device", transaction_id)


def same_device(transaction_id: str) -> bool:
    return transaction_id in _ids("same_device")


def mark_redeemed(transaction_id: str) -> None:
    _add("redeemed", transaction_id)


def redeemed(transaction_id: str) -> bool:
    return transaction_id in _ids("redeemed")


def secure_headers(response: Response, *, asset: bool = False) -> Response:
    """CSP and friends; pages carry personal data, so only ``asset`` responses (CSS, script)
    may be cached, and no page is sent as Referer (the same-device URL has the response_code)."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not asset:
        response.headers["Cache-Control"] = "no-store"
    return response
