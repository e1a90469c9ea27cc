"""Metadata endpoints: OpenID4VCI 1.0 §12.2.2, RFC 8414 §3, SD-JWT VC §4 and §6.3.

- ``/.well-known/openid-credential-issuer{/path}``: unsigned ``application/json`` by default,
  the signed JWT (§12.2.3) when the client prefers ``application/jwt`` in ``Accept``;
- ``/.well-known/oauth-authorization-server{/path}`` (RFC 8414);
- ``/.well-known/jwt-vc-issuer{/path}`` (SD-JWT VC §4);
- ``/vct/<type>``: the type metadata document, byte for byte what ``vct#integrity`` pins.

All are public (``Access-Control-Allow-Origin: *``).

"{/path}" is the path of the issuer identifier (§12.2.2 insertion rule). The bare well-known path
is answered too, for an issuer without a path and for deployments that forward it; any other
suffix is 404. For an issuer with a path, the reverse proxy strips it before the app sees
``/vct/...`` and the protocol endpoints (docs/deployment.md).
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Blueprint, Response, jsonify, request

from issuer.app import Services, services
from issuer.oid4vci import metadata
from schemas import loader
from verifier.errors import ProtocolError

blueprint = Blueprint("metadata", __name__)


@blueprint.after_request
def _public(response: Response) -> Response:
    """Public documents: browser-based wallets and verifiers may read them from any origin."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


ENCRYPTION_MODULE = "issuer.oid4vci.encryption"


def _not_found() -> ProtocolError:
    return ProtocolError("not_found", "no such metadata document", status=404)


def _check_suffix(suffix: str | None) -> None:
    """The inserted path must be the issuer identifier's path (§12.2.2)."""
    if suffix is not None and suffix.strip("/") != metadata.issuer_path(services().issuer):
        raise _not_found()


def _encryption_metadata(svc: Services) -> dict[str, Any]:
    """The §10 encryption parameters from the encryption module, if it is installed."""
    try:
        module = importlib.import_module(ENCRYPTION_MODULE)
    except ModuleNotFoundError as error:
        if error.name != ENCRYPTION_MODULE:
            raise
        return {}
    found: dict[str, Any] = module.encryption_metadata(svc)
    return found


def _wants_jwt() -> bool:
    """True when the client ranks application/jwt above application/json (§12.2.2)."""
    best = request.accept_mimetypes.best_match(["application/json", "application/jwt"])
    return best == "application/jwt"


@blueprint.get("/.well-known/openid-credential-issuer")
@blueprint.get("/.well-known/openid-credential-issuer/<path:suffix>")
def credential_issuer(suffix: str | None = None) -> Response:
    _check_suffix(suffix)
    svc = services()
    document = metadata.credential_issuer_metadata(
        svc.issuer,
        encryption=_encryption_metadata(svc),
        key_attestations_required=svc.settings.require_key_attestation,
    )
    if _wants_jwt():
        token = metadata.signed_credential_issuer_metadata(
            document, svc.keys.signing_key("issuer"), now=svc.now()
        )
        response = Response(token, status=200, content_type="application/jwt")
    else:
        response = jsonify(document)
    response.vary.add("Accept")
    return response


@blueprint.get("/.well-known/oauth-authorization-server")
@blueprint.get("/.well-known/oauth-authorization-server/<path:suffix>")
def authorization_server(suffix: str | None = None) -> Response:
    _check_suffix(suffix)
    return jsonify(metadata.authorization_server_metadata(services().issuer))


@blueprint.get("/.well-known/jwt-vc-issuer")
@blueprint.get("/.well-known/jwt-vc-issuer/<path:suffix>")
def jwt_vc_issuer(suffix: str | None = None) -> Response:
    _check_suffix(suffix)
    svc = services()
    return jsonify(metadata.jwt_vc_issuer_metadata(svc.issuer, svc.keys.history("issuer")))


@blueprint.get("/vct/<type_name>")
def type_metadata(type_name: str) -> Response:
    """The exact published bytes: their integrity is ``vct#integrity`` (SD-JWT VC §6)."""
    if type_name not in loader.CREDENTIAL_TYPES:
        raise ProtocolError("not_found", "no such credential type", status=404)
    body = loader.type_metadata_document(type_name, services().issuer)
    return Response(body, status=200, content_type="application/json")
