"""The Deferred Credential Request: OpenID4VCI 1.0 §9 (VCI-35; SPECS §8 items 51-52).

The wallet presents an access token valid for the credential: the token the Credential Request
used, or a later one of the same person covering the same configuration (access tokens live five
minutes; a record may take days to become final). A pending transaction answers 202 with the same
``transaction_id`` while the record is not final; once final, the credentials are issued to the
holder keys proven in the Credential Request and the transaction is delivered exactly once (one
conditional UPDATE). Unknown, foreign and delivered ids are ``invalid_transaction_id``; a record
that is gone or can no longer be issued is ``credential_request_denied``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from issuer.app import Services
from issuer.db import issuance, registry
from issuer.db.tokens import TokenGrant
from issuer.oid4vci.configurations import CONFIGURATIONS
from issuer.oid4vci.credential import DEFERRED_INTERVAL, Outcome, issue_credentials
from verifier.errors import ProtocolError


def _unknown() -> ProtocolError:
    return ProtocolError("invalid_transaction_id", "transaction_id is unknown or was used")


def _covers(token: TokenGrant, pending: issuance.Deferred, person_id: str | None) -> bool:
    if pending.token_hash == token.token_hash:
        return True
    return person_id == token.person_id and pending.configuration_id in token.configuration_ids


def respond(
    conn: Connection,
    services: Services,
    *,
    token: TokenGrant,
    body: Mapping[str, Any],
    now: datetime,
) -> Outcome:
    """Answer a Deferred Credential Request: 202 again, 200 with the credentials, or an error."""
    transaction_id = body.get("transaction_id")
    if not isinstance(transaction_id, str):
        raise ProtocolError("invalid_credential_request", "transaction_id is missing")
    pending = issuance.load_deferred(conn, transaction_id)
    if pending is None or pending.state == "delivered":
        raise _unknown()
    record = registry.get_record(conn, pending.record_id)
    if not _covers(token, pending, None if record is None else record.person_id):
        raise _unknown()  # another person's transaction is not revealed
    if record is None or pending.state == "denied":
        raise ProtocolError("credential_request_denied", "the credential can no longer be issued")
    if not record.final:  # §9.2: the same transaction_id, with an interval
        return Outcome({"transaction_id": transaction_id, "interval": DEFERRED_INTERVAL}, 202)
    if not issuance.finish_deferred(conn, transaction_id, state="delivered", now=now):
        raise _unknown()  # a concurrent request delivered it first
    issued = issue_credentials(
        conn,
        services,
        record=record,
        configuration=CONFIGURATIONS[pending.configuration_id],
        holders=pending.holder_jwks,
        now=now,
    )
    return Outcome(issued, 200)
