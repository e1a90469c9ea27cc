"""The authorization code flow as a wallet runs it: OpenID4VCI 1.0 §5-§6 with PAR (RFC 9126),
PKCE S256 (RFC 7636), DPoP (RFC 9449 §10) and the RFC 9207 ``iss`` check (HAIP 1.0 §4).

The End-User's part (logging in at the issuer) is played by ``login``: the development login
form of the issuer, filled in with a registry person id. That is the only login a headless
holder can do, so this flow serves tests of an issuer whose DUO_DEV_LOGIN is on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from verifier import strict_json
from verifier.errors import ProtocolError
from verifier.holder.metadata import IssuerMetadata, ServerMetadata
from verifier.holder.oid4vci_client import FORM, Flow, Oid4vciClient
from verifier.holder.proofs import HolderKey, pkce_challenge
from verifier.holder.transport import IssuerError, check_url, raise_for_error

DEFAULT_REDIRECT_URI = "https://wallet.duo.test/callback"


@dataclass(frozen=True, repr=False)
class Pushed:
    """A pushed authorization request and what the wallet keeps for the code exchange."""

    request_uri: str
    state: str
    code_verifier: str
    redirect_uri: str
    client_id: str
    dpop_key: HolderKey | None


class _FirstForm(HTMLParser):
    """The action and the named inputs (with their values) of the first form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None and not self._done:
            self.action = found.get("action", "")
        elif tag == "input" and self.action is not None and not self._done and "name" in found:
            self.fields[found["name"]] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.action is not None:
            self._done = True


def _request_parameters(
    issuer: IssuerMetadata, configuration_ids: list[str], details: bool
) -> dict[str, str]:
    """§5.1.1 ``authorization_details`` (with ``locations`` when the issuer names
    authorization servers) or §5.1.2 ``scope`` (HAIP 1.0 §4: one scope per configuration)."""
    if details:
        entries: list[dict[str, Any]] = []
        for configuration_id in configuration_ids:
            entry: dict[str, Any] = {
                "type": "openid_credential",
                "credential_configuration_id": configuration_id,
            }
            if "authorization_servers" in issuer.document:
                entry["locations"] = [issuer.issuer]
            entries.append(entry)
        return {"authorization_details": strict_json.dumps(entries)}
    scopes = [issuer.configuration(c).get("scope") for c in configuration_ids]
    if not all(isinstance(s, str) for s in scopes):
        raise ProtocolError("metadata_invalid", "a configuration has no scope")
    return {"scope": " ".join(str(s) for s in scopes)}


def push(
    client: Oid4vciClient,
    issuer: IssuerMetadata,
    server: ServerMetadata,
    configuration_ids: list[str],
    *,
    client_id: str,
    authorization_details: bool = False,
    issuer_state: str | None = None,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
) -> Pushed:
    """RFC 9126 §2.1: POST the authorization request; 201 ``request_uri``."""
    url = server.pushed_authorization_request_endpoint
    if url is None:
        raise ProtocolError("metadata_invalid", "the authorization server has no PAR endpoint")
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    form = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        **_request_parameters(issuer, configuration_ids, authorization_details),
    }
    if issuer_state is not None:
        form["issuer_state"] = issuer_state  # §4.1.1: sent back when the offer had one
    dpop_key = client.dpop_key_for(server)
    reply = client.send(
        "POST", url, data=form, headers=client.form_headers(server), dpop_key=dpop_key
    )
    raise_for_error(reply)
    request_uri = reply.json_object().get("request_uri")
    if reply.status != 201 or not isinstance(request_uri, str):
        raise ProtocolError("response_malformed", "the PAR response has no request_uri")
    return Pushed(request_uri, state, verifier, redirect_uri, client_id, dpop_key)


def login(client: Oid4vciClient, server: ServerMetadata, pushed: Pushed, person_id: str) -> str:
    """Open the authorization endpoint (RFC 9126 §4), fill in the development login with
    ``person_id`` and return the redirect the AS answers with."""
    if server.authorization_endpoint is None:
        raise ProtocolError("metadata_invalid", "the authorization server has no endpoint")
    query = urlencode({"client_id": pushed.client_id, "request_uri": pushed.request_uri})
    page_url = f"{server.authorization_endpoint}?{query}"
    page = client.send("GET", page_url, headers={"Accept": "text/html"})
    raise_for_error(page)
    form = _FirstForm()
    form.feed(page.body.decode("utf-8", errors="replace"))
    if page.status != 200 or form.action is None:
        raise ProtocolError("login_failed", "the authorization endpoint showed no login form")
    action = check_url(urljoin(page_url, form.action))
    answer = client.send(
        "POST", action, data={**form.fields, "person_id": person_id},
        headers={"Content-Type": FORM},
    )  # fmt: skip
    raise_for_error(answer)
    if answer.status not in (302, 303) or answer.location is None:
        raise ProtocolError("login_failed", "the login did not redirect back to the wallet")
    return answer.location


def code_from_redirect(location: str, pushed: Pushed, server: ServerMetadata) -> str:
    """RFC 6749 §4.1.2 response at the redirect_uri: state, RFC 9207 §2.4 ``iss``, ``code``."""
    target, expected = urlsplit(location), urlsplit(pushed.redirect_uri)
    if target[:3] != expected[:3]:  # scheme, host and path of the redirect_uri
        raise ProtocolError("login_failed", "the AS redirected somewhere else")
    params = {k: v[0] for k, v in parse_qs(target.query).items() if len(v) == 1}
    if params.get("state") != pushed.state:
        raise ProtocolError("authorization_response_invalid", "state does not match")
    if params.get("iss") != server.issuer:
        # RFC 9207 §2.4: the iss parameter must be the AS the request was sent to.
        raise ProtocolError("authorization_response_invalid", "iss does not name the AS")
    if "error" in params:
        raise IssuerError(status=303, error=params["error"], headers={})
    code = params.get("code")
    if not code:
        raise ProtocolError("authorization_response_invalid", "the response has no code")
    return code


def authorization_code_flow(
    client: Oid4vciClient,
    issuer: str,
    configuration_ids: list[str],
    *,
    person_id: str,
    client_id: str,
    authorization_details: bool = False,
    issuer_state: str | None = None,
) -> Flow:
    """PAR, login, code; then the token request (RFC 6749 §4.1.3 with RFC 7636 §4.5)."""
    issuer_metadata, server = client.discover(issuer)
    pushed = push(
        client, issuer_metadata, server, configuration_ids, client_id=client_id,
        authorization_details=authorization_details, issuer_state=issuer_state,
    )  # fmt: skip
    code = code_from_redirect(login(client, server, pushed, person_id), pushed, server)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pushed.redirect_uri,
        "code_verifier": pushed.code_verifier,
        "client_id": client_id,
    }
    return client.token(issuer_metadata, server, form, dpop_key=pushed.dpop_key)
