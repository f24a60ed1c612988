"""Durable events: the one place that knows SQL.

The receiver adds an event and the worker claims, settles and re-schedules it,
through one interface (`base.SqlStore`) with two backends: a SQLite file, the
zero-set-up default, and PostgreSQL, which several processes on several
machines can share. `open_store(DATABASE_URL)` picks one.
"""

from typing import Literal

from .base import Added, RateLimit, SqlStore, StoredPayload, stored_payload
from .migrations import MIGRATIONS, Migration, SchemaUpgradeRequired
from .postgres import PostgresStore
from .sqlite import SqliteStore

__all__ = ["MIGRATIONS", "Added", "Migration", "PostgresStore", "RateLimit",
           "SchemaUpgradeRequired", "SqliteStore", "database_kind", "open_store",
           "StoredPayload", "stored_payload"]


def database_kind(url: str) -> Literal["postgresql", "sqlite"] | None:
    """Which database a DATABASE_URL names: "postgresql", "sqlite" or None (neither).

    The one reading of it, shared by app/config.py's check, `open_store` and
    the setup page, so a URL one accepts the others read alike. PostgreSQL's
    prefixes are libpq's, spelled as it reads them (Heroku, Render and Railway
    say postgres://)."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql"
    if url.startswith("sqlite:///"):
        return "sqlite"
    return None


def open_store(url: str) -> SqlStore:
    """The store for a DATABASE_URL as app/config.py checked it."""
    if database_kind(url) == "postgresql":
        return PostgresStore(url)
    return SqliteStore(url.removeprefix("sqlite:///"))
