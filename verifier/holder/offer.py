"""Credential Offers as a wallet reads them: OpenID4VCI 1.0 §4.1 (offer), §4.1.1 (parameters).

``split_offer_uri`` takes the deep link (``openid-credential-offer://``, §12.1.1; ``haip-vci://``,
HAIP 1.0 §4.2; or any URI with the same query) apart into the offer by value or the URL of the
offer by reference (§4.1.2, §4.1.3). ``parse_offer`` checks the offer object. Pure functions: the
client fetches an offer by reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
MAX_OFFER_URI_CHARS = 16 * 1024


@dataclass(frozen=True)
class TxCode:
    """§4.1.1: the transaction code (PIN) the token request must carry."""

    input_mode: str  # numeric | text
    length: int | None
    description: str | None


@dataclass(frozen=True)
class PreAuthorizedGrant:
    code: str
    tx_code: TxCode | None
    authorization_server: str | None


@dataclass(frozen=True)
class AuthorizationCodeGrant:
    issuer_state: str | None
    authorization_server: str | None


@dataclass(frozen=True)
class CredentialOffer:
    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    pre_authorized: PreAuthorizedGrant | None
    authorization_code: AuthorizationCodeGrant | None


def _bad(detail: str) -> ProtocolError:
    return ProtocolError("offer_invalid", detail)


def split_offer_uri(uri: str) -> tuple[Literal["value", "reference"], str]:
    """``("value", offer JSON text)`` or ``("reference", offer URL)``; §4.1: exactly one of them."""
    if not isinstance(uri, str) or len(uri) > MAX_OFFER_URI_CHARS:
        raise ProtocolError("offer_invalid", "the offer URI is missing or too long")
    try:
        query = parse_qs(urlsplit(uri.strip()).query, keep_blank_values=True)
    except ValueError:
        raise ProtocolError("offer_invalid", "the offer URI cannot be parsed") from None
    by_value = query.get("credential_offer", [])
    by_reference = query.get("credential_offer_uri", [])
    if len(by_value) + len(by_reference) != 1:
        # §4.1: a single parameter, credential_offer or credential_offer_uri, never both.
        raise ProtocolError("offer_invalid", "the offer URI needs exactly one offer parameter")
    return ("value", by_value[0]) if by_value else ("reference", by_reference[0])


def load_offer_json(text: str | bytes) -> CredentialOffer:
    """An offer from its JSON text (strict parse), checked by ``parse_offer``."""
    try:
        value = strict_json.loads(text)
    except DuoError:
        raise ProtocolError("offer_invalid", "the offer is not valid JSON") from None
    return parse_offer(value)


def _optional_str(container: dict[str, Any], name: str) -> str | None:
    value = container.get(name)
    if value is not None and not isinstance(value, str):
        raise _bad("an offer parameter is not a string")
    return value


def _tx_code(value: Any) -> TxCode | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError("offer_invalid", "tx_code is not an object")
    mode = value.get("input_mode", "numeric")  # §4.1.1: the default is numeric
    length = value.get("length")
    description = _optional_str(value, "description")
    if mode not in {"numeric", "text"}:
        raise ProtocolError("offer_invalid", "tx_code input_mode is not numeric or text")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int)):
        raise ProtocolError("offer_invalid", "tx_code length is not an integer")
    if length is not None and length < 1:
        raise ProtocolError("offer_invalid", "tx_code length is not positive")
    if description is not None and len(description) > 300:
        # §4.1.1: the description MUST NOT exceed 300 characters.
        raise ProtocolError("offer_invalid", "tx_code description is too long")
    return TxCode(mode, length, description)


def _grants(value: Any) -> tuple[PreAuthorizedGrant | None, AuthorizationCodeGrant | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise ProtocolError("offer_invalid", "grants is not an object")
    pre, code = value.get(PRE_AUTHORIZED_GRANT), value.get(AUTHORIZATION_CODE_GRANT)
    pre_grant = code_grant = None
    if pre is not None:
        if not isinstance(pre, dict) or not isinstance(pre.get("pre-authorized_code"), str):
            # §4.1.1: pre-authorized_code is REQUIRED in this grant.
            raise ProtocolError("offer_invalid", "the pre-authorized grant has no code")
        pre_grant = PreAuthorizedGrant(
            pre["pre-authorized_code"],
            _tx_code(pre.get("tx_code")),
            _optional_str(pre, "authorization_server"),
        )
    if code is not None:
        if not isinstance(code, dict):
            raise ProtocolError("offer_invalid", "the authorization_code grant is not an object")
        code_grant = AuthorizationCodeGrant(
            _optional_str(code, "issuer_state"), _optional_str(code, "authorization_server")
        )
    return pre_grant, code_grant


def parse_offer(value: Any) -> CredentialOffer:
    """Check an offer object (§4.1.1); unknown parameters are ignored, as the wallet MUST."""
    if not isinstance(value, dict):
        raise ProtocolError("offer_invalid", "the offer is not a JSON object")
    issuer = value.get("credential_issuer")
    ids = value.get("credential_configuration_ids")
    if not isinstance(issuer, str) or not issuer:
        raise ProtocolError("offer_invalid", "the offer has no credential_issuer")
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and i for i in ids)
        or len(set(ids)) != len(ids)
    ):
        # §4.1.1: a non-empty array of unique strings.
        raise ProtocolError("offer_invalid", "credential_configuration_ids is not valid")
    pre, code = _grants(value.get("grants"))
    return CredentialOffer(issuer, tuple(ids), pre, code)


def check_tx_code(tx_code: TxCode, value: str) -> str:
    """``value`` if it fits the offer's ``input_mode`` and ``length``; else ``tx_code_invalid``.

    Checked before sending, so that a typing mistake does not count as a wrong try at the issuer.
    """
    if tx_code.input_mode == "numeric" and not (value.isascii() and value.isdigit()):
        raise ProtocolError("tx_code_invalid", "the transaction code must be digits only")
    if not value or (tx_code.length is not None and len(value) != tx_code.length):
        raise ProtocolError("tx_code_invalid", "the transaction code has the wrong length")
    return value
