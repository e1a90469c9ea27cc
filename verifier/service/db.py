"""The verifier service's database (SQLAlchemy Core): OpenID4VP transactions.

SQLite in the verifier's data directory by default, PostgreSQL through DUO_VERIFIER_DATABASE_URL.
A transaction is single use and expires; its secrets (the result token, the response code) are
stored as SHA-256 digests; the response encryption key is per transaction (HAIP: fresh per
request) and is dropped once the response has been read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, create_engine, event
from sqlalchemy.engine import Engine

METADATA = MetaData()
Time = DateTime(timezone=True)

transactions = Table(
    "vp_transactions",
    METADATA,
    Column("id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # pending | done | failed | expired
    Column("nonce", String(128), nullable=False),
    Column("oauth_state", String(128), nullable=False, unique=True),  # the request's `state`
    Column("client_id", String(500), nullable=False),
    Column("response_mode", String(32), nullable=False),
    Column("request_uri_method", String(8), nullable=False),
    Column("dcql_query", JSON, nullable=False),
    Column("request_object", String, nullable=True),  # the signed JAR, served at request_uri
    Column("encryption_jwk", JSON, nullable=True),  # private ECDH-ES key for direct_post.jwt
    Column("result_token_hash", String(64), nullable=False),
    Column("response_code_hash", String(64), nullable=True),  # same-device redirect (VP-16)
    Column("verdict", JSON, nullable=True),
    Column("error", String(64), nullable=True),
    Column("language", String(8), nullable=True),
    Column("created_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("responded_at", Time, nullable=True),
    # Where the wallet's same-device redirect sends the browser (response_code appended): an
    # API integrator's redirect_uri or the neutral done page; NULL: the pages' result page.
    Column("redirect_uri", String(2048), nullable=True),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine with the tables created; SQLite gets WAL and a busy timeout."""
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    METADATA.create_all(engine)
    return engine
