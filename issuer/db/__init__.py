"""The issuer's database: SQLAlchemy Core, SQLite in the data directory or PostgreSQL.

One module per concern defines its tables on ``METADATA`` and the functions that reach them
(shared/DESIGN.md §4); ``issuer.db.schema`` imports them all so ``create_schema`` sees every table.
Single-use things are consumed with one conditional UPDATE whose row count decides, so two workers
can never both accept the same one. Schema changes: tables are created when missing; there are no
migrations yet, so a changed table needs a new database (named limit until the first release).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine

METADATA = MetaData()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=10000")  # wait for the writer instead of failing
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    engine = create_engine(url, future=True, pool_pre_ping=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet."""
    from issuer.db import schema  # noqa: F401  (imports every table module)

    METADATA.create_all(engine)
