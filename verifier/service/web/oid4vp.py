"""OpenID4VP 1.0 verifier endpoints: the request_uri (§5.10) and the response_uri (§8.2, §8.3).

``GET /oid4vp/request/<id>`` serves the signed request object (application/oauth-authz-req+jwt)
as often as a wallet asks while the transaction is pending (the conformance suite's
request-uri-fetched-twice). ``POST`` there is request_uri_method ``post`` (§5.10, VP-7): the form
carries ``wallet_metadata`` and ``wallet_nonce``, and the answer is a request object signed anew
with ``wallet_nonce`` echoed.

``POST /oid4vp/response/<id>`` takes the wallet's form-urlencoded response (§8.2 direct_post,
§8.3.1 direct_post.jwt). A response is bound to its transaction by ``state`` (§14.3.2); one that
cannot be read or carries another state is refused with 4xx and leaves the transaction as it
was (SPECS §8 item 57), except that a readable plaintext ``state`` of this transaction under
direct_post.jwt fails it (item 82). The bound response closes the transaction, done with a
verdict or failed with a reason (a wallet error, item 84), and is answered 200 application/json
with a ``redirect_uri`` carrying a fresh response_code (VP-9, VP-16; HAIP 1.0 §5: always), whose
target verifier.service.same_device chooses. The verdict records ``presentation_sha256``: the
SHA-256 (hex) of the response as received, i.e. of the UTF-8 form value ``vp_token`` (its JSON
text) for direct_post and of the form value ``response`` (the compact JWE) for direct_post.jwt.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, NoReturn

from flask import Blueprint, Response, jsonify, request

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.oid4vp import presentation
from verifier.oid4vp.response import read_response
from verifier.service import transactions
from verifier.service.app import Services, services
from verifier.service.transactions import Transaction

blueprint = Blueprint("verifier_oid4vp", __name__)

JAR_MEDIA_TYPE = "application/oauth-authz-req+jwt"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_WALLET_NONCE = 256


def _same(given: Any, expected: str) -> bool:
    """Constant-time comparison of a received value with a stored secret."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _form() -> dict[str, str]:
    """The form-urlencoded UTF-8 body (§8.2); a repeated parameter is refused."""
    if request.mimetype != FORM_MEDIA_TYPE:
        raise ProtocolError("invalid_request", "the body must be form-urlencoded")
    form: dict[str, str] = {}
    for name, values in request.form.lists():
        if len(values) != 1:
            raise ProtocolError("invalid_request", "a parameter is repeated")
        form[name] = values[0]
    return form


def _jar(token: str) -> Response:
    response = Response(token, status=200, content_type=JAR_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/oid4vp/request/<transaction_id>")
def request_object(transaction_id: str) -> Response:
    """The stored request object; GET also serves requests offered with method post (§5.10)."""
    txn = transactions.open_transaction(services(), transaction_id)
    if txn.request_object is None:
        raise ProtocolError("not_found", "this request is passed by value", status=404)
    return _jar(txn.request_object)


@blueprint.post("/oid4vp/request/<transaction_id>")
def request_object_post(transaction_id: str) -> Response:
    """request_uri_method post (§5.10.1): a fresh request object echoing ``wallet_nonce``."""
    svc = services()
    txn = transactions.open_transaction(svc, transaction_id)
    if txn.request_uri_method != "post" or txn.request_object is None:
        raise ProtocolError("invalid_request", "method post was not offered", status=405)
    form = _form()
    metadata = form.get("wallet_metadata")
    if metadata is not None:
        try:  # §10: a JSON object; unknown parameters are ignored (VP-18)
            strict_json.loads_object(metadata)
        except DuoError:
            raise ProtocolError("invalid_request", "wallet_metadata is not a JSON object") from None
    nonce = form.get("wallet_nonce")
    if nonce is not None and not (
        0 < len(nonce) <= MAX_WALLET_NONCE and nonce.isascii() and nonce.isprintable()
    ):
        raise ProtocolError("invalid_request", "wallet_nonce is malformed")
    claims = transactions.request_claims(svc, txn, wallet_nonce=nonce)
    return _jar(transactions.sign(svc, claims))


def _close(
    svc: Services, txn: Transaction, *, verdict: dict[str, Any] | None, error: str | None
) -> Response:
    """Close the transaction (one response wins) and answer with the same-device redirect."""
    code = transactions.finish(svc, txn, verdict=verdict, error=error)
    if code is None:
        raise ProtocolError("invalid_request", "the transaction is no longer open")
    response = jsonify({"redirect_uri": transactions.redirect_target(svc, txn, code)})
    response.headers["Cache-Control"] = "no-store"
    return response


def _unreadable(svc: Services, txn: Transaction, form: dict[str, str], error: DuoError) -> NoReturn:
    """A response that cannot be read: fail the transaction if its plaintext ``state`` is this
    transaction's (e.g. a plaintext vp_token under direct_post.jwt, item 82), then refuse."""
    if _same(form.get("state"), txn.oauth_state):
        transactions.finish(svc, txn, verdict=None, error=error.code)
    if isinstance(error, ProtocolError):
        raise error
    raise ProtocolError("invalid_request", "the response cannot be read") from None


def presentation_sha256(form: dict[str, str], response_mode: str) -> str:
    """The SHA-256 (hex) of the response as received: the ``response`` JWE for
    direct_post.jwt, the ``vp_token`` JSON text for direct_post (see the module docstring)."""
    received = form.get("response" if response_mode == "direct_post.jwt" else "vp_token", "")
    return hashlib.sha256(received.encode("utf-8", "surrogatepass")).hexdigest()


def _evaluate(svc: Services, txn: Transaction, vp_token: Any) -> dict[str, Any]:
    """§8.6: every presentation checked against the query, nonce and client_id (VP-11..15)."""
    result = presentation.evaluate(
        vp_token,
        dcql_query=txn.dcql_query,
        trust=svc.trust.store(),
        nonce=txn.nonce,
        client_id=txn.client_id,
        now=svc.now(),
        status_source=svc.trust.status_source(),
    )
    verdict: dict[str, Any] = result.as_json()
    return verdict


@blueprint.post("/oid4vp/response/<transaction_id>")
def wallet_response(transaction_id: str) -> Response:
    """The response_uri (§8.2): one response per transaction; see the module docstring."""
    svc = services()
    txn = transactions.open_transaction(svc, transaction_id)
    form = _form()
    try:
        answer = read_response(
            form, response_mode=txn.response_mode, decryption_jwk=txn.encryption_jwk
        )
    except DuoError as error:
        _unreadable(svc, txn, form, error)
    if not _same(answer.state, txn.oauth_state):  # §14.3.2: an unknown state changes nothing
        raise ProtocolError("invalid_request", "state does not belong to this transaction")
    if answer.error is not None:  # §8.5: the wallet declined or failed (item 84)
        return _close(svc, txn, verdict=None, error=answer.error)  # a known code (read_response)
    if answer.vp_token is None:
        return _close(svc, txn, verdict=None, error="vp_token_missing")
    try:
        verdict = _evaluate(svc, txn, answer.vp_token)
    except DuoError as error:  # the response as a whole is malformed (§8.6, items 58-59)
        return _close(svc, txn, verdict=None, error=error.code)
    verdict["presentation_sha256"] = presentation_sha256(form, txn.response_mode)
    return _close(svc, txn, verdict=verdict, error=None)
