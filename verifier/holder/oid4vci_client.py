"""OpenID4VCI 1.0 as a wallet: token (§6), nonce (§7), credential (§8), deferred (§9), notification
(§11), with optional DPoP (RFC 9449) and encryption (§10).

``Oid4vciClient.receive`` runs the pre-authorized code flow (§3.5) for every configuration of an
offer; the steps are public too, for tests and ``authorization_code``. The client binds each
credential to a fresh key (one per credential, so two credentials cannot be linked by their key)
and checks what it receives: one credential per proven key at most (§8.3), each bound to one of
those keys, an SD-JWT without a KB-JWT (RFC 9901 §7.2). It does not verify the issuer's signature:
that is the verifier's job, against a trust bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from verifier import strict_json
from verifier.errors import DuoError, ProtocolError
from verifier.holder import offer as offers
from verifier.holder.dpop import Clock, DpopSender
from verifier.holder.encryption import ResponseEncryption, encrypt_request
from verifier.holder.metadata import (
    IssuerMetadata,
    ServerMetadata,
    choose_server,
    fetch_issuer_metadata,
    fetch_server_metadata,
)
from verifier.holder.proofs import ALG, HolderKey, key_proof
from verifier.holder.responses import Issued, Pending, needs_proof, outcome
from verifier.holder.tokens import AccessToken, parse_token_response
from verifier.holder.transport import HttpSession, Reply, raise_for_error, send

#: Client authentication headers for a request to the AS named by its issuer identifier; called
#: once per request, so single-use proofs (a PoP ``jti``) can be fresh each time.
ClientAuthentication = Callable[[str], Mapping[str, str]]
FORM = "application/x-www-form-urlencoded"


@dataclass
class Flow:
    """One issuance after the token response: where to ask, with which token and keys."""

    issuer: IssuerMetadata
    server: ServerMetadata
    token: AccessToken
    client_id: str | None  # None: anonymous pre-authorized access (proofs carry no iss)
    dpop_key: HolderKey | None


@dataclass
class Receipt:
    flow: Flow
    issued: list[Issued] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)


class Oid4vciClient:
    """A wallet's OpenID4VCI client over ``http``; ``dpop``/``encrypt`` None = when required."""

    def __init__(
        self,
        http: HttpSession,
        *,
        clock: Clock,
        client_id: str | None = None,
        dpop: bool | None = None,
        encrypt: bool | None = None,
        client_authentication: ClientAuthentication | None = None,
    ) -> None:
        self.http, self.clock, self.client_id = http, clock, client_id
        self.dpop, self.encrypt = dpop, encrypt
        self.client_authentication = client_authentication
        self._dpop = DpopSender(http, clock)

    # --- discovery ----------------------------------------------------------------------
    def load_offer(self, uri: str) -> offers.CredentialOffer:
        """§4.1: the offer by value, or fetched by reference (GET, 200, application/json)."""
        kind, value = offers.split_offer_uri(uri)
        if kind == "value":
            return offers.load_offer_json(value)
        reply = send(self.http, "GET", value, headers={"Accept": "application/json"})
        raise_for_error(reply)
        if reply.status != 200 or reply.content_type != "application/json":
            raise ProtocolError("offer_invalid", "the offer URI did not answer 200 JSON")
        return offers.load_offer_json(reply.body)

    def discover(
        self, issuer: str, hint: str | None = None
    ) -> tuple[IssuerMetadata, ServerMetadata]:
        metadata = fetch_issuer_metadata(self.http, issuer)
        return metadata, fetch_server_metadata(self.http, choose_server(metadata, hint))

    # --- requests -----------------------------------------------------------------------
    def _now(self) -> int:
        return int(self.clock().timestamp())

    def send(
        self,
        method: str,
        url: str,
        *,
        data: bytes | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        dpop_key: HolderKey | None = None,
        token: AccessToken | None = None,
    ) -> Reply:
        """A request, with a DPoP proof (and one nonce retry) when ``dpop_key`` is set."""
        return self._dpop.send(
            method, url, data=data, headers=headers, dpop_key=dpop_key, token=token
        )

    def form_headers(self, server: ServerMetadata) -> dict[str, str]:
        """Headers of a form POST to the AS (PAR, token), with the client authentication headers
        when the client has them (e.g. OpenID4VCI Appendix E wallet attestation, HAIP §4.4.1)."""
        extra = self.client_authentication(server.issuer) if self.client_authentication else {}
        return {"Content-Type": FORM, **extra}

    def dpop_key_for(self, server: ServerMetadata) -> HolderKey | None:
        """A fresh DPoP key when asked to, or (by default) when the AS supports ES256 DPoP."""
        wanted = self.dpop if self.dpop is not None else ALG in server.dpop_algs
        return HolderKey.generate() if wanted else None

    def token(
        self,
        issuer: IssuerMetadata,
        server: ServerMetadata,
        form: dict[str, str],
        *,
        dpop_key: HolderKey | None,
    ) -> Flow:
        """POST ``form`` to the token endpoint (§6.1) and parse the token response (§6.2)."""
        reply = self.send(
            "POST",
            server.token_endpoint,
            data=form,
            headers=self.form_headers(server),
            dpop_key=dpop_key,
        )
        raise_for_error(reply)
        token = parse_token_response(reply)
        return Flow(issuer, server, token, form.get("client_id"), dpop_key)

    def pre_authorized(self, offer: offers.CredentialOffer, *, tx_code: str | None) -> Flow:
        """§6.1 token request with the offer's pre-authorized code and, if offered, the PIN."""
        grant = offer.pre_authorized
        if grant is None:
            raise ProtocolError("offer_invalid", "the offer has no pre-authorized code grant")
        issuer, server = self.discover(offer.credential_issuer, grant.authorization_server)
        form = {"grant_type": offers.PRE_AUTHORIZED_GRANT, "pre-authorized_code": grant.code}
        if grant.tx_code is not None:
            if tx_code is None:  # §6.1: tx_code MUST be sent when the offer had one
                raise ProtocolError("tx_code_required", "the offer needs a transaction code")
            form["tx_code"] = offers.check_tx_code(grant.tx_code, tx_code)
        if self.client_id is not None:
            form["client_id"] = self.client_id
        return self.token(issuer, server, form, dpop_key=self.dpop_key_for(server))

    def nonce(self, flow: Flow) -> str | None:
        """§7: a fresh c_nonce, or None when the issuer has no nonce endpoint."""
        if flow.issuer.nonce_endpoint is None:
            return None
        reply = self.send("POST", flow.issuer.nonce_endpoint)
        raise_for_error(reply)
        value = reply.json_object().get("c_nonce")
        if not isinstance(value, str) or not value:
            raise ProtocolError("response_malformed", "the nonce response has no c_nonce")
        return value

    def _post_resource(self, flow: Flow, url: str, body: dict[str, Any]) -> tuple[Reply, Any]:
        """POST ``body`` with the access token, encrypted as §10 and the options say."""
        response_meta = flow.issuer.encryption("credential_response_encryption")
        request_meta = flow.issuer.encryption("credential_request_encryption")
        want = self.encrypt if self.encrypt is not None else _required(response_meta)
        encryption = ResponseEncryption.new(response_meta or {}) if want else None
        if encryption is not None:
            body = {**body, "credential_response_encryption": encryption.parameters()}
        if request_meta is not None and (encryption is not None or _required(request_meta)):
            data, kind = encrypt_request(body, request_meta).encode("ascii"), "application/jwt"
        else:
            data, kind = strict_json.dumps(body).encode("utf-8"), "application/json"
        reply = self.send(
            "POST",
            url,
            data=data,
            headers={"Content-Type": kind},
            dpop_key=flow.dpop_key,
            token=flow.token,
        )
        raise_for_error(reply)  # §8.3.1: errors are never encrypted
        if encryption is None:
            return reply, reply.json_object()
        if reply.content_type != "application/jwt":
            raise ProtocolError("response_not_encrypted", "an encrypted response was requested")
        plaintext = encryption.decrypt(reply.body.decode("ascii", errors="replace"))
        return reply, _json_object(plaintext)

    def credential(
        self, flow: Flow, configuration_id: str, *, count: int = 1, identifier: str | None = None
    ) -> list[Issued] | Pending:
        """§8.2 for one configuration (or one ``credential_identifier``), ``count`` keys."""
        configuration = flow.issuer.configuration(configuration_id)
        body: dict[str, Any] = (
            {"credential_identifier": identifier}
            if identifier is not None
            else {"credential_configuration_id": configuration_id}
        )
        keys: list[HolderKey] = []
        if needs_proof(configuration):
            if not 1 <= count <= flow.issuer.batch_size:
                raise ProtocolError("batch_too_large", "more keys than the issuer's batch_size")
            keys = [HolderKey.generate() for _ in range(count)]
            nonce, now = self.nonce(flow), self._now()
            proofs = [
                key_proof(
                    k, audience=flow.issuer.issuer, nonce=nonce, iat=now, client_id=flow.client_id
                )
                for k in keys
            ]
            body["proofs"] = {"jwt": proofs}
        reply, answer = self._post_resource(flow, flow.issuer.credential_endpoint, body)
        return outcome(reply.status, answer, configuration_id, configuration, keys)

    def deferred(self, flow: Flow, pending: Pending) -> list[Issued] | Pending:
        """§9: ask again for a deferred credential (200 credentials, or 202 still pending)."""
        url = flow.issuer.deferred_credential_endpoint
        if url is None:
            raise ProtocolError("metadata_invalid", "the issuer has no deferred endpoint")
        body = {"transaction_id": pending.transaction_id}
        reply, answer = self._post_resource(flow, url, body)
        configuration = flow.issuer.configuration(pending.configuration_id)
        found = outcome(
            reply.status, answer, pending.configuration_id, configuration, list(pending.keys)
        )
        if isinstance(found, Pending) and found.transaction_id != pending.transaction_id:
            # §9.2: a further 202 carries the same transaction_id.
            raise ProtocolError("response_malformed", "the deferred response changed the id")
        return found

    def notify(self, flow: Flow, notification_id: str, event: str = "credential_accepted") -> None:
        """§11.1: tell the issuer what became of the credentials (2xx expected, §11.2)."""
        url = flow.issuer.notification_endpoint
        if url is None:
            return  # §11: optional; an issuer without the endpoint gets no notification
        body = strict_json.dumps({"notification_id": notification_id, "event": event})
        reply = self.send(
            "POST",
            url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json"},
            dpop_key=flow.dpop_key,
            token=flow.token,
        )
        raise_for_error(reply)

    def receive(self, uri: str, *, tx_code: str | None = None, count: int = 1) -> Receipt:
        """The pre-authorized flow for every configuration the offer lists (§3.5)."""
        offer = self.load_offer(uri)
        receipt = Receipt(self.pre_authorized(offer, tx_code=tx_code))
        for configuration_id in offer.credential_configuration_ids:
            for identifier in _identifiers(receipt.flow.token, configuration_id):
                found = self.credential(
                    receipt.flow, configuration_id, count=count, identifier=identifier
                )
                if isinstance(found, Pending):
                    receipt.pending.append(found)
                else:
                    receipt.issued.extend(found)
        return receipt


def _required(metadata: dict[str, Any] | None) -> bool:
    return metadata is not None and metadata.get("encryption_required") is True


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        return strict_json.loads_object(data, max_depth=64)
    except DuoError:
        raise ProtocolError("response_malformed", "the response is not a JSON object") from None


def _identifiers(token: AccessToken, configuration_id: str) -> list[str | None]:
    """§8.2: ``credential_identifier``s when the token response had authorization_details
    (only those configurations can be asked for), else the configuration id itself (None)."""
    if not token.authorization_details:
        return [None]
    return list(token.identifiers.get(configuration_id, ()))
