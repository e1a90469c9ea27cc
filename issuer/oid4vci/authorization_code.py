"""Authorization codes: RFC 6749 §4.1.2-§4.1.3 and §10.5, RFC 7636 §4.6, RFC 9449 §10,
OpenID4VCI 1.0 §5-§6 (the authorization code grant of an issuer that is its own AS).

``issue_authorization_code`` ends a login: it binds a fresh code (single use, 60 s) to the
pushed request's client_id, redirect_uri, PKCE challenge and DPoP key, and to a grant of the
person's records for the requested configurations. ``redeem_authorization_code`` is what the
token endpoint calls; every refusal is ``invalid_grant`` (RFC 6749 §5.2) and, raised inside the
request's transaction, leaves the code unused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from issuer.db import authorization as store
from issuer.db.offers import Grant as PreAuthorizedGrant
from issuer.db.registry import records_of
from issuer.oid4vci.configurations import CONFIGURATIONS
from issuer.oid4vci.par import AuthorizationRequest
from issuer.oid4vci.pkce import verify_code_verifier
from verifier.errors import ProtocolError

#: RFC 6749 §4.1.2 recommends at most 10 minutes; a wallet redeems at once.
CODE_LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True)
class Grant(PreAuthorizedGrant):
    """What an authorization code grants: the pre-authorized Grant plus the request's
    ``authorization_details`` entries (OpenID4VCI §5.1.1; the token response returns them with
    ``credential_identifiers``, §6.2). Configurations requested by scope only are the
    ``configuration_ids`` not named in ``authorization_details``."""

    authorization_details: tuple[dict[str, Any], ...] = ()


def grant_json(grant: Grant) -> dict[str, Any]:
    return {
        "record_ids": list(grant.record_ids),
        "configuration_ids": list(grant.configuration_ids),
        "authorization_details": [dict(d) for d in grant.authorization_details],
    }


def grant_for_person(
    conn: Connection, request: AuthorizationRequest, person_id: str
) -> Grant | None:
    """The person's records of the requested configurations' types; None if there are none.

    Records not yet final are included: their credentials are deferred (OpenID4VCI §9).
    """
    types = {CONFIGURATIONS[c].type_name for c in request.configuration_ids}
    record_ids = tuple(r.id for r in records_of(conn, person_id) if r.type in types)
    if not record_ids:
        return None
    return Grant(person_id, record_ids, request.configuration_ids, request.authorization_details)


def issue_authorization_code(
    conn: Connection,
    *,
    request: AuthorizationRequest,
    grant: Grant,
    dpop_jkt: str | None,
    now: datetime,
) -> str:
    """A fresh code for ``grant``, bound to the pushed request (RFC 6749 §4.1.2, RFC 9449 §10)."""
    return store.store_authorization_code(
        conn,
        client_id=request.client_id,
        person_id=grant.person_id,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        grant=grant_json(grant),
        dpop_jkt=dpop_jkt,
        now=now,
        lifetime=CODE_LIFETIME,
    )


def _same(given: str | None, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def redeem_authorization_code(
    conn: Connection,
    *,
    code: str,
    code_verifier: str | None,
    redirect_uri: str | None,
    client_id: str | None,
    dpop_jkt: str | None,
    now: datetime,
) -> Grant:
    """Redeem a code once for the token endpoint; raise ``invalid_grant`` on any mismatch.

    ``dpop_jkt`` is the thumbprint of the token request's DPoP proof key (None without one).
    """
    stored = store.consume_authorization_code(conn, code, now=now)
    if stored is None:
        raise ProtocolError("invalid_grant", "authorization code is invalid, expired or used")
    # RFC 6749 §4.1.3: issued to this client, for this redirect_uri.
    if not _same(client_id, stored.client_id):
        raise ProtocolError("invalid_grant", "authorization code was issued to another client")
    if not _same(redirect_uri, stored.redirect_uri):
        raise ProtocolError("invalid_grant", "redirect_uri differs from the authorization request")
    verify_code_verifier(code_verifier, stored.code_challenge)  # RFC 7636 §4.6 (item 9)
    # RFC 9449 §10: a code bound to a DPoP key is redeemed with a proof by that key only.
    if stored.dpop_jkt is not None and dpop_jkt != stored.dpop_jkt:
        raise ProtocolError("invalid_grant", "DPoP key differs from the authorization request")
    return Grant(
        stored.person_id,
        tuple(stored.grant["record_ids"]),
        tuple(stored.grant["configuration_ids"]),
        tuple(dict(d) for d in stored.grant["authorization_details"]),
    )
