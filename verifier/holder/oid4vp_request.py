"""OpenID4VP 1.0 (final) §5 as a wallet: the authorization request's parameters.

The request arrives as ``openid4vp://?client_id=..&request_uri=..[&request_uri_method=post]`` (a
signed Request Object fetched by reference), ``..&request=<JWS>`` (signed, by value; both in
``request_object``), or with every parameter in the URI: the unsigned ``redirect_uri`` prefix
(§5.9.3), whose client_id is the response_uri and which is never authenticated (warning
``verifier_not_authenticated``). Checked here for every kind: ``response_type`` vp_token, a
``response_mode`` direct_post or direct_post.jwt with a ``response_uri`` and no ``redirect_uri``
(§8.2), a URL-safe ``nonce`` and ``state`` (§5.2), a ``dcql_query`` and no ``scope`` (§5.1), no
``transaction_data`` (§5.1: refused by a wallet that does not support it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.holder.transport import check_url

SCHEMES = frozenset({"openid4vp", "haip-vp"})
RESPONSE_MODES = frozenset({"direct_post", "direct_post.jwt"})
FORM = "application/x-www-form-urlencoded"
#: §5.2: nonce and state use ASCII URL-safe characters only.
_URL_SAFE = re.compile(r"^[A-Za-z0-9._~-]{1,512}$")


@dataclass(frozen=True)
class AuthorizationRequest:
    """The parameters a wallet acts on, once the request has been checked."""

    client_id: str  # the full client_id, prefix included: the KB-JWT aud (§14.8)
    response_mode: str
    response_uri: str
    nonce: str
    state: str | None
    dcql_query: dict[str, Any]
    client_metadata: dict[str, Any]
    signed: bool
    trusted: bool  # the verifier's chain validated to one of the wallet's anchors
    warnings: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return self.client_id.partition(":")[0]


def _invalid(detail: str) -> ProtocolError:
    return ProtocolError("request_invalid", detail)


def split_request_uri(uri: Any) -> dict[str, str]:
    """The query parameters of an ``openid4vp://`` URI, each at most once."""
    if not isinstance(uri, str):
        raise ProtocolError("request_uri_invalid", "the request is not a string")
    try:
        parts = urlsplit(uri.strip())
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ProtocolError("request_uri_invalid", "the request URI cannot be parsed") from None
    if parts.scheme not in SCHEMES or parts.fragment:
        raise ProtocolError("request_uri_invalid", "the request URI has another scheme")
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found:
            raise ProtocolError("request_uri_invalid", "a request parameter appears twice")
        found[name] = value
    return found


def _text(values: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = values.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _URL_SAFE.match(value):
        raise _invalid("nonce or state is missing or not URL-safe")  # §5.2
    return value


def _object(value: Any, name: str) -> dict[str, Any]:
    """A JSON object parameter: an object in a Request Object, a JSON string in a URI."""
    if isinstance(value, str):
        try:
            value = strict_json.loads(value.encode("utf-8"))
        except DuoError:
            raise _invalid("a JSON request parameter cannot be parsed") from None
    if not isinstance(value, dict):
        raise _invalid("a request parameter is not a JSON object")
    return value


def _response_uri(values: Mapping[str, Any]) -> str:
    """§8.2: response_uri is required with direct_post(.jwt), and redirect_uri then absent."""
    if "redirect_uri" in values:
        raise _invalid("redirect_uri must be absent with direct_post")
    uri = values.get("response_uri")
    check_url(uri)  # the reference wallet posts to loopback hosts only
    return str(uri)


def read_parameters(
    values: Mapping[str, Any], *, client_id: str, signed: bool, trusted: bool, warnings: list[str]
) -> AuthorizationRequest:
    """The common checks of §5.1-§5.3 and §8.2 on the request's parameters."""
    if values.get("client_id") != client_id:
        # §5.10.1: the client_id of the URI and of the Request Object are identical.
        raise ProtocolError("client_id_mismatch", "the request names another client_id")
    if values.get("response_type") != "vp_token":
        raise _invalid("response_type is not vp_token")
    mode = values.get("response_mode")
    if mode not in RESPONSE_MODES:
        raise ProtocolError("response_mode_unsupported", "the response mode is not supported")
    if "transaction_data" in values:
        # §5.1: a wallet that does not support transaction_data MUST reject the request.
        raise ProtocolError("transaction_data_unsupported", "transaction_data is not supported")
    if "dcql_query" not in values:
        raise _invalid("the request has no dcql_query")  # scope aliases are not supported
    if "scope" in values:
        raise _invalid("the request has both dcql_query and scope")  # §5.1: not both
    metadata = values.get("client_metadata")
    return AuthorizationRequest(
        client_id=client_id,
        response_mode=str(mode),
        response_uri=_response_uri(values),
        nonce=str(_text(values, "nonce", required=True)),
        state=_text(values, "state", required=False),
        dcql_query=_object(values["dcql_query"], "dcql_query"),
        client_metadata={} if metadata is None else _object(metadata, "client_metadata"),
        signed=signed,
        trusted=trusted,
        warnings=tuple(warnings),
    )


def unsigned_request(values: Mapping[str, str]) -> AuthorizationRequest:
    """§5.9.3 ``redirect_uri:``: parameters by value; the client_id is the response_uri."""
    client_id = values.get("client_id", "")
    prefix, _, original = client_id.partition(":")
    if prefix != "redirect_uri":
        raise ProtocolError(
            "client_id_prefix_unsupported", "an unsigned request needs redirect_uri"
        )
    values = dict(values)
    values.setdefault("response_uri", original)  # §5.9.3: the verifier MAY omit it
    found = read_parameters(
        values,
        client_id=client_id,
        signed=False,
        trusted=False,
        warnings=["verifier_not_authenticated"],
    )
    if found.response_uri != original:
        raise ProtocolError("response_uri_invalid", "the response_uri is not the client_id")
    return found
