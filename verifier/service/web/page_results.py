"""The result page's model for a wallet presentation or an uploaded credential.

A wallet presentation's verdict comes from its transaction (verifier.service.transactions.load);
an upload is checked by ``verify_upload`` (holder binding ``not_proven`` without a KB-JWT) and
nothing of it is kept. The report names the SHA-256 of the presentation where it is known (the
uploaded text; a wallet verdict's ``presentation_sha256``, recorded when the response arrived)
and otherwise the SHA-256 of the verdict itself, saying which it is; and the time of the check
(a wallet response's ``responded_at``). Status list ages come from each verdict credential's
``status_uris``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from flask import request

from verifier.errors import ProtocolError
from verifier.service import transactions
from verifier.service.app import Services
from verifier.service.result_view import ResultView, StatusAge, build_result
from verifier.verify import MAX_INPUT_BYTES

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def status_age(svc: Services) -> StatusAge | None:
    """The trust source's ``status_age(uri)``, when it has one."""
    found = getattr(svc.trust, "status_age", None)
    return found if callable(found) else None


def wallet_result(svc: Services, view: transactions.TransactionView, lang: str) -> ResultView:
    verdict: dict[str, Any] = view.verdict or {}
    stated = verdict.get("presentation_sha256")
    if isinstance(stated, str) and _HEX64.match(stated):
        digest, of_presentation = stated, True
    else:
        canonical = json.dumps(verdict, sort_keys=True, separators=(",", ":"))  # ASCII
        digest, of_presentation = hashlib.sha256(canonical.encode()).hexdigest(), False
    responded = view.responded_at
    return build_result(
        verdict,
        lang=lang,
        source="wallet",
        checked_at=responded or view.created_at,
        time_label="checked_at" if responded else "created_at",
        digest=digest,
        digest_of_presentation=of_presentation,
        status_age=status_age(svc),
    )


def uploaded_credential() -> str | tuple[str, int]:
    """The credential from the text field or else the file, whitespace removed (compact
    serializations have none) and within the verifier's input cap; or (error key, status)."""
    text = request.form.get("credential", "")
    upload = request.files.get("file")
    if not text.strip() and upload is not None and upload.filename:
        raw = upload.stream.read(MAX_INPUT_BYTES + 1)
        if len(raw) > MAX_INPUT_BYTES:
            return ("error_too_large", 413)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return ("error_unreadable", 400)
    text = "".join(text.split())
    if not text:
        return ("error_empty", 400)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        return ("error_too_large", 413)
    return text


def upload_result(svc: Services, text: str, lang: str) -> ResultView | tuple[str, int]:
    """The result of checking ``text`` without a wallet; or (error key, status)."""
    try:
        verdict = transactions.verify_upload(svc, text)
    except ProtocolError:
        return ("error_rejected", 400)
    return build_result(
        verdict,
        lang=lang,
        source="upload",
        checked_at=svc.now(),
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        digest_of_presentation=True,
        status_age=status_age(svc),
    )
