"""Credential offers: OpenID4VCI 1.0 §4.1 (offer object, by value and by reference), §12.1.1.

An offer names one person, one record and the configurations of that record's type (every format
of it unless one is asked for), with a pre-authorized code and optionally a 6-digit tx_code.
``make_offer`` is the single code path of ``duo-issuer offer create`` and ``POST /api/offers``;
refusals are ProtocolErrors (400 ``invalid_request``, 404 ``not_found``) whose descriptions say
what to fix.

URIs: the offer is served at ``{issuer}/offers/{offer_id}`` (one URI per offer, §4.1.3), the deep
link is ``openid-credential-offer://?credential_offer_uri=...`` (§4.1, §12.1.1); the by-value link
carries the offer object itself in ``credential_offer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import Connection

from issuer.db import offers as offer_store
from issuer.db import registry
from issuer.oid4vci.configurations import CONFIGURATIONS, for_type
from issuer.oid4vci.metadata import PRE_AUTHORIZED_GRANT
from schemas.loader import CREDENTIAL_TYPES
from verifier import strict_json
from verifier.errors import ProtocolError

DEEP_LINK_SCHEME = "openid-credential-offer://"
FORMATS = tuple(sorted({c.format for c in CONFIGURATIONS.values()}))
#: §4.1.1: at most 300 characters; both languages in one text (the wallet shows it as is).
TX_CODE_DESCRIPTION = (
    "Vul de pincode van 6 cijfers in die u van DUO kreeg. "
    "Enter the 6-digit PIN you received from DUO."
)


@dataclass(frozen=True)
class OfferRequest:
    """What an operator asks for: a person, a credential type, optionally a record and format."""

    person_id: str
    type_name: str
    record_id: str | None = None
    fmt: str | None = None
    with_tx_code: bool = False


@dataclass(frozen=True)
class CreatedOffer:
    """A stored offer and every way to hand it to a wallet."""

    issuer: str
    offer_id: str
    pre_authorized_code: str
    tx_code: str | None
    record_id: str
    configuration_ids: tuple[str, ...]
    expires_at: datetime

    @property
    def credential_offer_uri(self) -> str:
        return offer_uri(self.issuer, self.offer_id)

    @property
    def offer(self) -> dict[str, Any]:
        return credential_offer(
            self.issuer, self.configuration_ids, self.pre_authorized_code, self.tx_code is not None
        )

    def summary(self) -> dict[str, Any]:
        """``{"offer_uri", "tx_code", "offer_id"}`` as ``offer create --json`` prints it."""
        return {
            "offer_uri": deep_link_by_reference(self.credential_offer_uri),
            "tx_code": self.tx_code,
            "offer_id": self.offer_id,
        }

    def details(self) -> dict[str, Any]:
        """The summary plus the other forms of the offer (admin API response)."""
        base = self.credential_offer_uri
        return {
            **self.summary(),
            "credential_offer_uri": base,
            "offer_by_value_uri": deep_link_by_value(self.offer),
            "qr_svg": f"{base}/qr.svg",
            "qr_png": f"{base}/qr.png",
            "record": self.record_id,
            "credential_configuration_ids": list(self.configuration_ids),
            "expires_at": self.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def credential_offer(
    issuer: str, configuration_ids: tuple[str, ...], code: str, has_tx_code: bool
) -> dict[str, Any]:
    """The Credential Offer object (§4.1.1, VCI-2/VCI-3)."""
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if has_tx_code:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": offer_store.TX_CODE_LENGTH,
            "description": TX_CODE_DESCRIPTION,
        }
    return {
        "credential_issuer": issuer,
        "credential_configuration_ids": list(configuration_ids),
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


def offer_uri(issuer: str, offer_id: str) -> str:
    """Where the offer is served by reference (§4.1.3)."""
    return f"{issuer}/offers/{offer_id}"


def deep_link_by_reference(credential_offer_uri: str) -> str:
    return f"{DEEP_LINK_SCHEME}?credential_offer_uri={quote(credential_offer_uri, safe='')}"


def deep_link_by_value(offer: dict[str, Any]) -> str:
    return f"{DEEP_LINK_SCHEME}?credential_offer={quote(strict_json.dumps(offer), safe='')}"


def _bad(detail: str) -> ProtocolError:
    return ProtocolError("invalid_request", detail)


def _configurations(request: OfferRequest) -> tuple[str, ...]:
    if request.type_name not in CREDENTIAL_TYPES:
        raise _bad("type must be one of: " + ", ".join(CREDENTIAL_TYPES))
    if request.fmt is not None and request.fmt not in FORMATS:
        raise _bad("format must be one of: " + ", ".join(FORMATS))
    found = tuple(c.id for c in for_type(request.type_name, request.fmt))
    if not found:
        raise _bad("this credential type is not offered in that format")
    return found


def _record(conn: Connection, request: OfferRequest) -> registry.Record:
    """The named record, or the person's only record of the type."""
    if request.record_id is not None:
        record = registry.get_record(conn, request.record_id)
        if record is None:
            raise ProtocolError("not_found", "no such record", status=404)
        if record.person_id != request.person_id:
            raise _bad("the record belongs to another person")
        if record.type != request.type_name:
            raise _bad("the record is of another credential type")
        return record
    matching = [
        r for r in registry.records_of(conn, request.person_id) if r.type == request.type_name
    ]
    if not matching:
        raise ProtocolError("not_found", "the person has no record of this type", status=404)
    if len(matching) > 1:
        ids = ", ".join(r.id for r in matching)
        raise _bad(f"the person has several records of this type; name one of: {ids}")
    return matching[0]


def make_offer(
    conn: Connection,
    request: OfferRequest,
    *,
    issuer: str,
    created_by: str,
    now: datetime,
    lifetime: timedelta,
) -> CreatedOffer:
    """Check the request against the registry and store the offer (in the caller's transaction)."""
    configuration_ids = _configurations(request)
    if registry.get_person(conn, request.person_id) is None:
        raise ProtocolError("not_found", "no such person", status=404)
    record = _record(conn, request)
    tx_code = offer_store.new_tx_code() if request.with_tx_code else None
    offer_id, code = offer_store.create_offer(
        conn,
        person_id=request.person_id,
        record_ids=[record.id],
        configuration_ids=list(configuration_ids),
        tx_code=tx_code,
        created_by=created_by,
        now=now,
        lifetime=lifetime,
    )
    return CreatedOffer(
        issuer, offer_id, code, tx_code, record.id, configuration_ids, now + lifetime
    )


def served_offer(conn: Connection, offer_id: str, *, issuer: str, now: datetime) -> dict[str, Any]:
    """The offer object behind ``{issuer}/offers/{offer_id}``; 404 once used or expired."""
    stored = offer_store.load_offer(conn, offer_id, now=now)
    if stored is None:
        raise ProtocolError("not_found", "no such offer, or it expired or was used", status=404)
    return credential_offer(
        issuer, stored.configuration_ids, stored.pre_authorized_code, stored.has_tx_code
    )
