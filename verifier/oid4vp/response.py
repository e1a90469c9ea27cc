"""OpenID4VP 1.0 (final) §8 Authorization Response at the Response URI.

§8.2 ``direct_post``: form parameters ``vp_token`` (a JSON-encoded object, §8.1) and ``state``,
or an error response (§8.5: ``error``, ``error_description``, ``state``). §8.3.1
``direct_post.jwt``: one parameter ``response``, an unsigned JWE (§8.3) whose ``alg`` is the
published key's ``alg`` (ECDH-ES) with its ``kid``, ``enc`` A128GCM or A256GCM (HAIP 1.0 §5),
and whose payload holds the response parameters at the top level. A plaintext ``vp_token`` in
that mode is refused (SPECS item 82); a plaintext error response is accepted, as §8.3.1 allows a
Wallet that cannot encrypt. The form is decoded by the caller (application/x-www-form-urlencoded,
UTF-8). Malformed responses raise InvalidCredential with the codes listed at ``read_response``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verifier import jose, strict_json
from verifier.errors import InvalidCredential
from verifier.oid4vp.request import ENC_VALUES, RESPONSE_ALG, RESPONSE_MODES

#: The largest ``response`` JWE or ``vp_token`` text read (and the largest decrypted payload).
MAX_RESPONSE_BYTES = 1024 * 1024
#: §8.5 and RFC 6749 §4.1.2.1 error codes a Wallet sends (SPECS VP-18); others are reported as
#: ``wallet_error_unknown`` so that no text of the Wallet's choosing becomes a code.
WALLET_ERRORS = frozenset(
    {
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "invalid_client",
        "vp_formats_not_supported",
        "invalid_request_uri_method",
        "invalid_transaction_data",
        "wallet_unavailable",
    }
)
_ERROR_SYNTAX = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}")  # RFC 6749 §4.1.2.1
_DESCRIPTION_SYNTAX = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,300}")


@dataclass(frozen=True)
class WalletResponse:
    """A parsed Authorization Response: ``vp_token`` (an object, not yet checked against the
    query) or ``error``; ``state`` as the Wallet sent it, for the caller to compare."""

    vp_token: dict[str, Any] | None
    state: str | None
    error: str | None
    error_description: str | None = None


def _text(parameters: Mapping[str, Any], name: str) -> str | None:
    value = parameters.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidCredential("response_malformed", "a response parameter is not a string")
    return value


def _error_response(parameters: Mapping[str, Any]) -> WalletResponse:
    """§8.5: the Wallet's error; an unknown code becomes ``wallet_error_unknown``."""
    error = _text(parameters, "error")
    if error is None or not _ERROR_SYNTAX.fullmatch(error):
        raise InvalidCredential("response_malformed", "the error parameter is malformed")
    description = _text(parameters, "error_description")
    if description is not None and not _DESCRIPTION_SYNTAX.fullmatch(description):
        description = None  # dropped, not trusted: it is only ever shown escaped
    code = error if error in WALLET_ERRORS else "wallet_error_unknown"
    return WalletResponse(None, _text(parameters, "state"), code, description)


def _vp_token_response(parameters: Mapping[str, Any], vp_token: Any) -> WalletResponse:
    if "error" in parameters:
        raise InvalidCredential("response_malformed", "response has both vp_token and error")
    if not isinstance(vp_token, dict):
        # §8.1 (SPECS item 58): a JSON object keyed by Credential Query ids.
        raise InvalidCredential("vp_token_not_object", "vp_token is not a JSON object")
    return WalletResponse(vp_token, _text(parameters, "state"), None)


def _plain(form: Mapping[str, Any]) -> WalletResponse:
    if "response" in form:
        raise InvalidCredential("response_mode_mismatch", "an encrypted response was not asked")
    if "vp_token" not in form:
        if "error" in form:
            return _error_response(form)
        raise InvalidCredential("vp_token_missing", "response has neither vp_token nor error")
    text = _text(form, "vp_token") or ""
    if len(text) > MAX_RESPONSE_BYTES:
        raise InvalidCredential("response_too_large", "vp_token exceeds the size limit")
    try:
        vp_token = strict_json.loads(text)
    except InvalidCredential:
        raise InvalidCredential("vp_token_not_object", "vp_token is not a JSON object") from None
    return _vp_token_response(form, vp_token)


def _decrypted(form: Mapping[str, Any], decryption_jwk: Mapping[str, Any]) -> WalletResponse:
    token = _text(form, "response") or ""
    _, plaintext = jose.jwe_decrypt(
        token,
        private_jwk=dict(decryption_jwk),
        algs={decryption_jwk.get("alg", RESPONSE_ALG)},  # §8.3: JWE alg = the JWK's alg
        encs=set(ENC_VALUES),
        max_size=MAX_RESPONSE_BYTES,
    )
    try:
        payload = strict_json.loads_object(plaintext)
    except InvalidCredential:
        raise InvalidCredential("response_malformed", "JWE payload is not a JSON object") from None
    if "vp_token" in payload:
        return _vp_token_response(payload, payload["vp_token"])
    if "error" in payload:
        return _error_response(payload)
    raise InvalidCredential("vp_token_missing", "response has neither vp_token nor error")


def _single_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form with each parameter once: a list value (``to_dict(flat=False)``) must hold
    exactly one string, so a repeated parameter is refused rather than one copy picked."""
    single: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, list):
            if len(value) != 1:
                raise InvalidCredential("response_malformed", "a response parameter is repeated")
            value = value[0]
        single[name] = value
    return single


def read_response(
    form: Mapping[str, Any], *, response_mode: str, decryption_jwk: dict[str, Any] | None
) -> WalletResponse:
    """The Authorization Response posted to the Response URI (module docstring).

    ``form`` maps names to strings, or to lists of strings (each must then hold one).
    ``decryption_jwk`` is the transaction's private key (with ``kid`` and ``alg``), required
    for ``direct_post.jwt``. Codes: ``response_malformed``, ``response_too_large``,
    ``response_mode_mismatch``, ``response_not_encrypted``, ``vp_token_missing``,
    ``vp_token_not_object`` and those of ``jose.jwe_decrypt`` (``jwe_malformed``,
    ``jwe_alg_unsupported``, ``jwe_key_unknown``, ``jwe_decrypt_failed``).
    """
    if response_mode not in RESPONSE_MODES:
        raise ValueError("response_mode must be direct_post or direct_post.jwt")
    form = _single_values(form)
    if response_mode == "direct_post":
        return _plain(form)
    if decryption_jwk is None or not isinstance(decryption_jwk.get("kid"), str):
        raise ValueError("direct_post.jwt needs the transaction's private key with its kid")
    if "vp_token" in form:
        # §8.3.1 (SPECS item 82): the vp_token only ever travels encrypted in this mode.
        raise InvalidCredential("response_not_encrypted", "vp_token arrived without encryption")
    if "response" in form:
        return _decrypted(form, decryption_jwk)
    if "error" in form:
        return _error_response(form)  # §8.3.1: a Wallet unable to encrypt may send errors plain
    raise InvalidCredential("vp_token_missing", "response has neither vp_token nor error")


def response_kid(form: Mapping[str, Any]) -> str | None:
    """The ``kid`` in the protected header of the form's ``response`` JWE, unverified: which
    transaction's key to try (each request has its own key, HAIP 1.0 §5). None if absent or
    malformed; decryption checks the JWE in full."""
    token = form.get("response")
    if not isinstance(token, str) or len(token) > MAX_RESPONSE_BYTES or token.count(".") != 4:
        return None
    try:
        header = strict_json.loads_object(jose.b64url_decode(token.split(".", 1)[0]))
    except InvalidCredential:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) and kid else None
