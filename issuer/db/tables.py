"""Every table of the issuer database (SQLAlchemy Core), grouped by the concern that owns it.

Times are timezone-aware UTC (``DateTime(timezone=True)``); secrets (codes, tokens) are stored as
SHA-256 digests, never in the clear. JSON columns hold small documents that are read whole.
The modules beside this one (registry, offers, tokens, nonces, issuance, status, authorization,
deferred) are the only code that reads or writes their tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from issuer.db import METADATA

Time = DateTime(timezone=True)

# --- registry: DUO's records (issuer.db.registry) ---------------------------------------------
persons = Table(
    "persons",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("birthdate", String(10), nullable=False),
    Column("created_at", Time, nullable=False),
)

records = Table(
    "records",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("persons.id"), nullable=False, index=True),
    Column("type", String(32), nullable=False),  # credential type: diploma, grade_list, ...
    Column("data", JSON, nullable=False),  # the register record (schemas.registry_record)
    Column("final", Boolean, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("finalized_at", Time),
)

# --- offers and pre-authorized codes (issuer.db.offers) ---------------------------------------
offers = Table(
    "offers",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("persons.id"), nullable=False),
    Column("record_ids", JSON, nullable=False),
    Column("configuration_ids", JSON, nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),  # pre-authorized_code
    Column("tx_code_hash", String(64)),  # None: no PIN
    Column("tx_code_failures", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),  # open | redeemed | burned
    Column("created_by", String(64), nullable=False),  # cli | admin-api | desk:<officer>
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("redeemed_at", Time),
)

# --- access tokens (issuer.db.tokens) ---------------------------------------------------------
access_tokens = Table(
    "access_tokens",
    METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("persons.id"), nullable=False),
    Column("record_ids", JSON, nullable=False),
    Column("configuration_ids", JSON, nullable=False),
    Column("credential_identifiers", JSON),  # {identifier: configuration_id} when authz details
    Column("client_id", String(200)),
    Column("dpop_jkt", String(64)),  # RFC 9449 §6: the token is bound to this key
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
)

# --- single-use values: c_nonces, DPoP nonces and proof jtis (issuer.db.nonces) ---------------
nonces = Table(
    "nonces",
    METADATA,
    Column("value", String(128), primary_key=True),
    Column("kind", String(16), primary_key=True),  # c_nonce | dpop_nonce | dpop_jti | attest_jti
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("used_at", Time),
)

# --- authorization code flow (issuer.db.authorization) ----------------------------------------
par_requests = Table(
    "par_requests",
    METADATA,
    Column("request_uri", String(128), primary_key=True),
    Column("client_id", String(200), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("dpop_jkt", String(64)),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("used_at", Time),
)

authorization_codes = Table(
    "authorization_codes",
    METADATA,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(200), nullable=False),
    Column("person_id", String(64), ForeignKey("persons.id"), nullable=False),
    Column("redirect_uri", String(2000), nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("grant", JSON, nullable=False),  # configuration_ids, record_ids, authorization_details
    Column("dpop_jkt", String(64)),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("used_at", Time),
)

# --- status lists (issuer.db.status) ----------------------------------------------------------
status_lists = Table(
    "status_lists",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(8), nullable=False),  # tsl (IETF Token Status List) | bsl (W3C)
    Column("uri", String(500), nullable=False, unique=True),
    Column("bits", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    # Bumped by every status change: a publisher re-signs the list when it differs.
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

status_entries = Table(
    "status_entries",
    METADATA,
    Column("list_id", Integer, ForeignKey("status_lists.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),  # the primary key forbids double allocation
    Column("value", Integer, nullable=False),
    Column("updated_at", Time, nullable=False),
)

# --- issued credentials, deferred issuance, notifications (issuer.db.issuance) ----------------
credentials = Table(
    "credentials",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("record_id", String(64), ForeignKey("records.id"), nullable=False, index=True),
    Column("configuration_id", String(100), nullable=False),
    Column("format", String(32), nullable=False),
    Column("status_list_id", Integer, ForeignKey("status_lists.id"), nullable=False),
    Column("status_idx", Integer, nullable=False),
    Column("holder_jkt", String(64)),
    Column("notification_id", String(64), index=True),  # one id covers a batch (§8.3)
    Column("notification_event", String(32)),
    Column("issued_at", Time, nullable=False),
    UniqueConstraint("status_list_id", "status_idx"),
)

deferred = Table(
    "deferred",
    METADATA,
    Column("transaction_id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("record_id", String(64), ForeignKey("records.id"), nullable=False),
    Column("configuration_id", String(100), nullable=False),
    Column("holder_jwks", JSON, nullable=False),  # the proven holder keys, one per credential
    Column("state", String(16), nullable=False),  # pending | delivered | denied
    Column("created_at", Time, nullable=False),
    Column("delivered_at", Time),
)
