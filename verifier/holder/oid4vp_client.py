"""OpenID4VP 1.0 (final) as a wallet: answer a request with credentials from the wallet file.

``Oid4vpClient.respond`` loads and checks the request (``oid4vp_request``, §5), picks credentials
for its DCQL query (``dcql_selection``, §6), presents each SD-JWT VC with the requested claims
only and a KB-JWT whose ``nonce`` is the request's and whose ``aud`` is the full client_id
(RFC 9901 §4.3; OpenID4VP B.3.6, §14.8), builds ``vp_token`` = {query id: [presentation]} (§8.1)
and posts it to the response_uri: ``direct_post`` (§8.2, form ``vp_token`` + ``state``) or
``direct_post.jwt`` (§8.3: ``response`` = a JWE to the verifier's ``client_metadata.jwks`` key,
its ``alg`` and ``kid``, an ``enc`` it lists, with ``vp_token`` and ``state`` top-level in the
payload). The verifier's JSON answer is returned, with its ``redirect_uri`` for the same-device
flow (the wallet hands it to the browser; it never follows it itself). When the wallet has nothing
that matches, it tells the verifier ``access_denied`` (§8.5) and raises ``no_matching_credential``.

An I/O edge like the rest of verifier.holder: HTTP through an injected session, loopback only.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from verifier import jose, kb_jwt, strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.holder.dcql_selection import Selection, select
from verifier.holder.oid4vp_request import FORM, AuthorizationRequest
from verifier.holder.request_object import load_request
from verifier.holder.store import Wallet
from verifier.holder.transport import HttpSession, Reply, send
from verifier.sd_jwt_selection import PathLike, present

ALG = "ES256"
JWE_ALG = "ECDH-ES"
JWE_ENCS = ("A128GCM", "A256GCM")  # HAIP 1.0 §5: both supported
Clock = Callable[[], datetime]


class VerifierError(ProtocolError):
    """The response_uri answered with an error (or not 200 JSON); ``error`` is its ``error``."""

    def __init__(self, *, status: int, error: str) -> None:
        super().__init__("verifier_error", "the verifier answered with an error", status=status)
        #: the verifier's ``error`` code (e.g. ``invalid_request``), or ``unknown``
        self.error = error


@dataclass(frozen=True)
class Answer:
    """The response_uri's 200 JSON object (§8.2) and its ``redirect_uri``, if any."""

    body: dict[str, Any]

    @property
    def redirect_uri(self) -> str | None:
        found = self.body.get("redirect_uri")
        return found if isinstance(found, str) else None


@dataclass(frozen=True)
class Outcome:
    """What ``respond`` did: the request it answered, what it shared, the verifier's answer."""

    request: AuthorizationRequest
    shared: list[dict[str, Any]]
    answer: Answer
    warnings: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "client_id": self.request.client_id,
            "response_mode": self.request.response_mode,
            "trusted": self.request.trusted,
            "warnings": list(self.warnings),
            "shared": self.shared,
            "redirect_uri": self.answer.redirect_uri,
            "verifier_response": self.answer.body,
        }


def _answer(reply: Reply) -> Answer:
    """§8.2: 200 application/json with a JSON object; anything else (a redirect too) is an error."""
    error = "unknown"
    try:
        body = reply.json_object()
    except ProtocolError:
        body = None
    if reply.status == 200 and body is not None:
        return Answer(body)
    if body is not None and isinstance(body.get("error"), str):
        error = body["error"]
    raise VerifierError(status=reply.status, error=error)


def encryption_key(
    metadata: Mapping[str, Any], preference: Sequence[str] | None = None
) -> tuple[dict[str, Any], str]:
    """§8.3: a key of ``client_metadata.jwks`` for ECDH-ES (``use`` absent or enc, ``alg`` present)
    and an ``encrypted_response_enc_values_supported`` value (default A128GCM) the wallet
    supports: the first of the wallet's ``preference`` the verifier lists, else its first."""
    jwks = metadata.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    encs = metadata.get("encrypted_response_enc_values_supported", ["A128GCM"])
    enc = None
    if isinstance(encs, list):
        order = [e for e in preference or () if e in encs] + encs
        enc = next((e for e in order if e in JWE_ENCS), None)
    if not isinstance(keys, list) or enc is None:
        raise ProtocolError("encryption_unsupported", "the verifier offers no usable encryption")
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("use", "enc") != "enc" or jwk.get("alg") != JWE_ALG:
            continue
        try:
            jose.check_jwe_recipient(jwk, alg=JWE_ALG)
        except DuoError:
            continue
        return jwk, enc
    raise ProtocolError("encryption_unsupported", "the verifier offers no usable encryption key")


def response_form(
    request: AuthorizationRequest,
    payload: dict[str, Any],
    enc_preference: Sequence[str] | None = None,
) -> dict[str, str]:
    """The form body for the request's response mode (§8.2, §8.3.1)."""
    if request.state is not None:
        payload = {**payload, "state": request.state}
    if request.response_mode == "direct_post.jwt":
        jwk, enc = encryption_key(request.client_metadata, enc_preference)
        kid = jwk.get("kid")
        token = jose.jwe_encrypt(
            strict_json.dumps(payload).encode("utf-8"),
            recipient_jwk=jwk,
            alg=JWE_ALG,
            enc=enc,
            kid=kid if isinstance(kid, str) else None,  # §8.3: the key's kid is copied
            zip_=None,
        )
        return {"response": token}
    return {
        name: value if isinstance(value, str) else strict_json.dumps(value)
        for name, value in payload.items()
    }


class Oid4vpClient:
    """A wallet answering OpenID4VP requests over ``http`` with the credentials of ``wallet``.

    ``verifier_anchors``: root certificates the wallet trusts for verifiers' request-signing
    chains; None (the default) checks signature and client_id only and warns (see
    ``request_object``). ``enc_preference``: the wallet's order of ``enc`` values for
    direct_post.jwt; None follows the verifier's order.
    """

    def __init__(
        self,
        http: HttpSession,
        *,
        clock: Clock,
        wallet: Wallet,
        verifier_anchors: Sequence[x509.Certificate] | None = None,
        enc_preference: Sequence[str] | None = None,
    ) -> None:
        self.http, self.clock, self.wallet = http, clock, wallet
        self.verifier_anchors = verifier_anchors
        self.enc_preference = enc_preference

    def load(self, uri: str) -> AuthorizationRequest:
        """The request behind ``uri``, checked (§5); a fresh wallet_nonce for a POST (§5.10)."""
        return load_request(
            self.http,
            uri,
            anchors=self.verifier_anchors,
            now=self.clock(),
            wallet_nonce=secrets.token_urlsafe(16),
        )

    def select(self, request: AuthorizationRequest) -> dict[str, list[Selection]]:
        return select(request.dcql_query, self.wallet.credentials)

    def presentation(
        self, request: AuthorizationRequest, chosen: Selection, disclose: Iterable[PathLike] = ()
    ) -> str:
        """One SD-JWT VC with the selected claims (+ ``disclose``) and, if asked, a KB-JWT."""
        shown = present(chosen.credential.credential, [*chosen.paths, *disclose])
        if not chosen.holder_binding:
            return shown
        if chosen.credential.key is None:
            raise ProtocolError("holder_key_invalid", "the credential has no holder key")
        key = self.wallet.key(chosen.credential.key)
        binding = kb_jwt.create_kb_jwt(
            shown,
            signer=jose.private_key_signer(key.private, ALG),
            alg=ALG,
            nonce=request.nonce,
            aud=request.client_id,  # §14.8: the full client_id, prefix included
            iat=int(self.clock().timestamp()),
        )
        return shown + binding

    def vp_token(
        self,
        request: AuthorizationRequest,
        selections: Mapping[str, list[Selection]],
        disclose: Iterable[PathLike] = (),
    ) -> dict[str, list[str]]:
        """§8.1: {query id: [presentations]}."""
        extra = list(disclose)
        return {
            query_id: [self.presentation(request, chosen, extra) for chosen in chosen_list]
            for query_id, chosen_list in selections.items()
        }

    def submit(self, request: AuthorizationRequest, payload: dict[str, Any]) -> Answer:
        """POST ``payload`` (vp_token, or error) to the response_uri in the request's mode."""
        form = response_form(request, payload, self.enc_preference)
        reply = send(
            self.http, "POST", request.response_uri, data=form, headers={"Content-Type": FORM}
        )
        return _answer(reply)

    def decline(self, request: AuthorizationRequest, error: str = "access_denied") -> Answer:
        """§8.5: an error response (e.g. ``access_denied``) in the request's response mode."""
        return self.submit(request, {"error": error})

    def respond(self, uri: str, *, disclose: Iterable[PathLike] = ()) -> Outcome:
        """Answer the request of ``uri``; ``disclose`` adds claim paths to every presentation."""
        request = self.load(uri)
        try:
            selections = self.select(request)
        except ProtocolError as error:
            if error.code == "no_matching_credential":
                with contextlib.suppress(DuoError):  # the refusal stands either way
                    self.decline(request, "access_denied")  # §8.5: tell the verifier
            raise
        extra = list(disclose)
        token = self.vp_token(request, selections, extra)
        answer = self.submit(request, {"vp_token": token})
        shared = [
            {
                "query_id": query_id,
                "credential_id": chosen.credential.id,
                "disclosed": [list(p) for p in chosen.paths]
                + [p.split(".") if isinstance(p, str) else list(p) for p in extra],
                "holder_binding": chosen.holder_binding,
            }
            for query_id, chosen_list in selections.items()
            for chosen in chosen_list
        ]
        return Outcome(request, shared, answer, request.warnings)
