"""Credential offers and their pre-authorized codes: OpenID4VCI 1.0 §4.1.1, §6.1, §6.3, §13.6.

Secrets are never stored in the clear (shared/DESIGN.md §4):

- ``offer_id`` is a random 256-bit handle that names the offer in its URI (§4.1.3). The row's
  primary key is its SHA-256; the offer URI is a bearer secret like the code it serves.
- the ``pre-authorized_code`` is derived from the offer_id (so the offer can be served by
  reference) and stored as its SHA-256;
- the ``tx_code`` (6 digits) is stored as SHA-256 over the code and the PIN, so a copy of the
  database does not reveal PINs by trying all 10^6 of them.

Redemption (§6.1, SPECS §8 items 1-6) is one conditional UPDATE whose row count decides, so two
workers can never both redeem one code. A wrong tx_code counts a failure and, at ``max_failures``,
burns the code (§13.6.3); that count is COMMITTED on the caller's connection before the error is
raised, so it survives the request's rollback. Every other refusal changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from issuer.db.tables import offers
from verifier import jose
from verifier.errors import ProtocolError

TX_CODE_LENGTH = 6
_OPEN, _REDEEMED, _BURNED = "open", "redeemed", "burned"


@dataclass(frozen=True)
class Grant:
    """What a redeemed pre-authorized code grants: one person's records in these configurations."""

    person_id: str
    record_ids: tuple[str, ...]
    configuration_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoredOffer:
    """An open offer as its URI serves it (§4.1.3)."""

    offer_id: str
    pre_authorized_code: str
    configuration_ids: tuple[str, ...]
    has_tx_code: bool
    expires_at: datetime


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _row_id(offer_id: str) -> str:
    return _digest("duo offer", offer_id)


def pre_authorized_code_of(offer_id: str) -> str:
    """The pre-authorized code of an offer: 256 bits derived from its random handle."""
    raw = hashlib.sha256(b"duo pre-authorized_code\x00" + offer_id.encode("ascii")).digest()
    return jose.b64url_encode(raw)


def _code_hash(code: str) -> str:
    return _digest("duo code", code)


def _tx_code_hash(code: str, tx_code: str) -> str:
    return _digest("duo tx_code", code, tx_code)


def new_tx_code() -> str:
    """A fresh 6-digit numeric PIN (§4.1.1 tx_code, input_mode numeric)."""
    return f"{secrets.randbelow(10**TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"


def is_tx_code(value: str) -> bool:
    return len(value) == TX_CODE_LENGTH and value.isascii() and value.isdigit()


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_offer(
    conn: Connection,
    *,
    person_id: str,
    record_ids: list[str],
    configuration_ids: list[str],
    tx_code: str | None,
    created_by: str,
    now: datetime,
    lifetime: timedelta,
) -> tuple[str, str]:
    """Store a new offer; returns ``(offer_id, pre_authorized_code)``."""
    if tx_code is not None and not is_tx_code(tx_code):
        raise ValueError("a tx_code is 6 digits")
    if not record_ids or not configuration_ids:
        raise ValueError("an offer needs records and configurations")
    now = now.astimezone(UTC)  # stored times are UTC (SQLite keeps no offset)
    offer_id = secrets.token_urlsafe(32)
    code = pre_authorized_code_of(offer_id)
    conn.execute(
        offers.insert().values(
            id=_row_id(offer_id),
            person_id=person_id,
            record_ids=list(record_ids),
            configuration_ids=list(configuration_ids),
            code_hash=_code_hash(code),
            tx_code_hash=None if tx_code is None else _tx_code_hash(code, tx_code),
            tx_code_failures=0,
            state=_OPEN,
            created_by=created_by,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return offer_id, code


def load_offer(conn: Connection, offer_id: str, *, now: datetime) -> StoredOffer | None:
    """The offer named by ``offer_id`` while it is open and unexpired, else None."""
    now = now.astimezone(UTC)
    row = conn.execute(
        sa.select(offers.c.configuration_ids, offers.c.tx_code_hash, offers.c.expires_at).where(
            offers.c.id == _row_id(offer_id), offers.c.state == _OPEN, offers.c.expires_at > now
        )
    ).first()
    if row is None:
        return None
    return StoredOffer(
        offer_id=offer_id,
        pre_authorized_code=pre_authorized_code_of(offer_id),
        configuration_ids=tuple(row.configuration_ids),
        has_tx_code=row.tx_code_hash is not None,
        expires_at=_aware(row.expires_at),
    )


def _invalid_grant() -> ProtocolError:
    # One answer for unknown, expired, used and burned codes: nothing to probe (§6.3).
    return ProtocolError("invalid_grant", "pre-authorized code is invalid, expired or used")


def _count_failure(conn: Connection, row_id: str, max_failures: int) -> None:
    """Count a wrong tx_code atomically; the last allowed one burns the code (§13.6.3)."""
    failures = offers.c.tx_code_failures + 1
    conn.execute(
        offers.update()
        .where(offers.c.id == row_id, offers.c.state == _OPEN)
        .values(
            tx_code_failures=failures,
            state=sa.case((failures >= max_failures, _BURNED), else_=offers.c.state),
        )
    )
    conn.commit()  # survives the rollback of the failing request (module docstring)


def redeem_pre_authorized_code(
    conn: Connection, code: str, tx_code: str | None, *, now: datetime, max_failures: int
) -> Grant:
    """Redeem a pre-authorized code once (§6.1); raises ProtocolError per SPECS §8 items 1-6.

    ``tx_code`` None or empty means the request carried none; any other text that is not the
    offer's PIN (malformed ones too) is a wrong tx_code.
    """
    now = now.astimezone(UTC)
    row = conn.execute(sa.select(offers).where(offers.c.code_hash == _code_hash(code))).first()
    if row is None or row.state != _OPEN or _aware(row.expires_at) <= now:
        raise _invalid_grant()
    if row.tx_code_hash is not None and not tx_code:
        raise ProtocolError("invalid_request", "tx_code is required for this code")
    if row.tx_code_hash is None and tx_code:
        raise ProtocolError("invalid_request", "tx_code was not offered for this code")
    if row.tx_code_hash is not None:
        given = _tx_code_hash(code, tx_code or "")
        if not hmac.compare_digest(given, row.tx_code_hash):
            _count_failure(conn, row.id, max_failures)
            raise ProtocolError("invalid_grant", "tx_code is wrong")
    won = conn.execute(
        offers.update()
        .where(offers.c.id == row.id, offers.c.state == _OPEN, offers.c.expires_at > now)
        .values(state=_REDEEMED, redeemed_at=now)
    )
    if won.rowcount != 1:  # another request redeemed (or burned) it first
        raise _invalid_grant()
    return Grant(row.person_id, tuple(row.record_ids), tuple(row.configuration_ids))
