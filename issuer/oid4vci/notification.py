"""The Notification Request: OpenID4VCI 1.0 §11 (VCI-36; SPECS §8 items 53-55).

A JSON object with ``notification_id`` and ``event`` (case-sensitive: ``credential_accepted``,
``credential_failure``, ``credential_deleted``) and an optional ASCII ``event_description``;
unknown parameters are ignored. Malformed requests are ``invalid_notification_request``; an id
that no credential of the token's person carries is ``invalid_notification_id``. The latest event
is stored on every credential of the id; repeating a notification succeeds (idempotent).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from issuer.db import issuance
from issuer.db.tokens import TokenGrant
from verifier import strict_json
from verifier.errors import InvalidCredential, ProtocolError

EVENTS = frozenset({"credential_accepted", "credential_failure", "credential_deleted"})
#: §11.1: event_description is ASCII %x20-21 / %x23-5B / %x5D-7E.
_DESCRIPTION = re.compile(r'^[\x20-\x21\x23-\x5b\x5d-\x7e]*$')
MAX_DESCRIPTION = 1000


def _malformed(detail: str) -> ProtocolError:
    return ProtocolError("invalid_notification_request", detail)


def parse_notification(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The ``(notification_id, event)`` of a request body (item 54)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise _malformed("the content type must be application/json")
    try:
        request: dict[str, Any] = strict_json.loads_object(body)
    except InvalidCredential:
        raise _malformed("the body is not a JSON object") from None
    notification_id, event = request.get("notification_id"), request.get("event")
    if not isinstance(notification_id, str) or not notification_id:
        raise _malformed("notification_id is missing")
    if not isinstance(event, str) or event not in EVENTS:
        raise _malformed("event is missing or not a known event")
    description = request.get("event_description")
    if description is not None and not (
        isinstance(description, str)
        and len(description) <= MAX_DESCRIPTION
        and _DESCRIPTION.match(description)
    ):
        raise _malformed("event_description is not allowed ASCII text")
    return notification_id, event


def notify(conn: Connection, *, token: TokenGrant, notification_id: str, event: str) -> None:
    """Store the event for the credentials of ``notification_id`` (items 53, 55)."""
    if issuance.notification_person(conn, notification_id) != token.person_id:
        raise ProtocolError("invalid_notification_id", "notification_id is unknown")
    issuance.set_notification_event(conn, notification_id, event)
